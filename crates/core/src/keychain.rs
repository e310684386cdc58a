//! Device tokens in the OS keychain, keyed by server URL and agent; a redacting wrapper so a token never reaches a log.
//!
//! Login stores the device token with [`TokenStore::save`]; sign-out, or a 401 `token_revoked`, calls
//! [`TokenStore::delete`]. Several accounts may be signed in at once: each has its own entry, named by
//! its [`AccountKey`]. The token lives only here — never in SQLite, config files or logs — and travels
//! through the rest of the client as a [`Token`], whose `Debug` and `Display` print `<redacted>`.
//!
//! [`OsKeychain`] goes through the `keyring` crate (v4, `v1` feature): Keychain on macOS, Credential
//! Manager on Windows, Secret Service on Linux and the BSDs. Its calls may block (D-Bus, keychain
//! prompts), so async callers wrap them in `spawn_blocking`. [`MemoryTokenStore`] is the in-memory
//! stand-in for unit tests.
//!
//! Each account's cache key ([`CacheKey`]) is a second entry beside its token
//! ([`cache_key_entry`]): the cache is unreadable without it, and sign-out deletes it first.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

/// The keychain "service" every Switchboard entry is filed under.
const KEYCHAIN_SERVICE: &str = "switchboard";

/// What `Debug` and `Display` print instead of a secret.
const REDACTED: &str = "<redacted>";

/// A device token. `Debug`/`Display` print `<redacted>`; only `expose()` gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The token's text, for the `Authorization` header and the keychain. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The key of an account's cache: SQLCipher's raw 256-bit key (no passphrase derivation, so a
/// cold start costs no key stretching). Made at random on first use and kept only in the keychain,
/// under the account's [`cache_key_entry`]. `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self(bytes)
    }

    /// As stored in the keychain (and given to `PRAGMA key`): 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The key the account's files (staged, downloaded) are sealed with, derived from this one.
    pub fn file_key(&self) -> crate::sealed::FileKey {
        crate::sealed::FileKey::derive(&self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CacheKey").field(&format_args!("{REDACTED}")).finish()
    }
}

/// The keychain entry that holds `account`'s cache key: the same service, its own user
/// (`<agent_id>@cache-key:<server_url>`), so the token and the key are stored and deleted apart.
pub fn cache_key_entry(account: &AccountKey) -> AccountKey {
    AccountKey {
        server_url: format!("cache-key:{}", normalise_server_url(&account.server_url)),
        agent_id: account.agent_id,
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Token").field(&format_args!("{REDACTED}")).finish()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Which account a token belongs to. The keychain entry: service "switchboard", user "<agent_id>@<server_url without trailing slash>".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    pub server_url: String,
    pub agent_id: Uuid,
}

impl AccountKey {
    /// Normalises the URL: surrounding whitespace and trailing `/` are dropped, and the scheme and
    /// host are lowercased (the path is kept as written), so `HTTPS://Inbox.Example.com/` and
    /// `https://inbox.example.com` name the same account.
    pub fn new(server_url: &str, agent_id: Uuid) -> Self {
        Self { server_url: normalise_server_url(server_url), agent_id }
    }

    /// The keychain entry's user name: `<agent_id>@<server_url>`. The URL is normalised again here, so
    /// a key built with a struct literal still finds the entry saved under [`AccountKey::new`].
    pub fn keychain_user(&self) -> String {
        format!("{}@{}", self.agent_id, normalise_server_url(&self.server_url))
    }
}

/// Trims whitespace and trailing slashes, and lowercases the scheme and host (and port). Idempotent.
fn normalise_server_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // Only the host is case-insensitive: keep any `user@` part as written.
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let mut normalised = String::with_capacity(url.len());
    if let Some(scheme) = scheme {
        normalised.push_str(&scheme.to_ascii_lowercase());
        normalised.push_str("://");
    }
    normalised.push_str(userinfo);
    normalised.push_str(&host.to_lowercase());
    normalised.push_str(tail);
    normalised
}

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("no keychain entry for this account")]
    NotFound,
    #[error("the keychain is locked or unavailable: {0}")]
    Unavailable(String),
    #[error("keychain error: {0}")]
    Other(String),
}

/// Where tokens live. Object-safe; `Send + Sync`.
pub trait TokenStore: Send + Sync {
    /// Stores `token` for `account`, replacing any token already there.
    fn save(&self, account: &AccountKey, token: &Token) -> Result<(), KeychainError>;
    /// The account's token; [`KeychainError::NotFound`] if there is none.
    fn load(&self, account: &AccountKey) -> Result<Token, KeychainError>;
    /// Forgets the account's token. Deleting a token that isn't there is `Ok` (idempotent).
    fn delete(&self, account: &AccountKey) -> Result<(), KeychainError>;
}

/// The OS keychain through keyring 4 (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
///
/// Cheap to create and to share: the platform store is process-wide and set up once.
pub struct OsKeychain {
    _private: (),
}

impl fmt::Debug for OsKeychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OsKeychain")
    }
}

impl OsKeychain {
    /// Makes sure keyring's native store is the process's default store.
    ///
    /// `keyring::Entry::store_status` builds the platform store (on Linux it connects to the Secret
    /// Service over D-Bus) and installs it with `keyring_core::set_default_store`, exactly once per
    /// process behind a `LazyLock`, so this is idempotent and thread-safe. Its outcome is cached for
    /// the life of the process: if the Secret Service was unreachable the first time, every later call
    /// reports [`KeychainError::Unavailable`] too.
    pub fn new() -> Result<Self, KeychainError> {
        match keyring::Entry::store_status() {
            Ok(()) => Ok(Self { _private: () }),
            Err(err) => Err(KeychainError::Unavailable(err.to_string())),
        }
    }

    fn entry(account: &AccountKey) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(KEYCHAIN_SERVICE, &account.keychain_user()).map_err(map_keyring_error)
    }
}

impl TokenStore for OsKeychain {
    fn save(&self, account: &AccountKey, token: &Token) -> Result<(), KeychainError> {
        let entry = Self::entry(account)?;
        match entry.set_password(token.expose()) {
            Ok(()) => Ok(()),
            // Several matching items (e.g. the same account in two Secret Service collections): drop
            // them all so exactly one, holding the new token, remains.
            Err(keyring::Error::Ambiguous(duplicates)) => {
                for duplicate in duplicates {
                    ignore_missing(duplicate.delete_credential())?;
                }
                entry.set_password(token.expose()).map_err(map_keyring_error)
            }
            Err(err) => Err(map_keyring_error(err)),
        }
    }

    fn load(&self, account: &AccountKey) -> Result<Token, KeychainError> {
        Self::entry(account)?.get_password().map(Token).map_err(map_keyring_error)
    }

    fn delete(&self, account: &AccountKey) -> Result<(), KeychainError> {
        match Self::entry(account)?.delete_credential() {
            Err(keyring::Error::Ambiguous(duplicates)) => {
                for duplicate in duplicates {
                    ignore_missing(duplicate.delete_credential())?;
                }
                Ok(())
            }
            other => ignore_missing(other),
        }
    }
}

/// `Ok` for a credential that is already gone; other errors mapped.
fn ignore_missing(result: keyring::Result<()>) -> Result<(), KeychainError> {
    match result {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(err) => Err(map_keyring_error(err)),
    }
}

/// Maps keyring's errors onto ours. Never formats the raw bytes some variants carry: they are the secret.
fn map_keyring_error(err: keyring::Error) -> KeychainError {
    use keyring::Error as E;
    match err {
        E::NoEntry => KeychainError::NotFound,
        E::NoStorageAccess(_) | E::PlatformFailure(_) | E::NoDefaultStore => {
            KeychainError::Unavailable(err.to_string())
        }
        E::BadEncoding(_) => KeychainError::Other("the stored token is not valid UTF-8".to_owned()),
        E::BadDataFormat(..) => KeychainError::Other("the stored token is malformed".to_owned()),
        E::Ambiguous(matches) => {
            KeychainError::Other(format!("{} keychain entries match this account", matches.len()))
        }
        other => KeychainError::Other(other.to_string()),
    }
}

/// Tokens in memory, for unit tests of code that needs a TokenStore.
///
/// A `Mutex<HashMap>` keyed like the OS keychain (by [`AccountKey::keychain_user`]). keyring's mock store
/// (`keyring_core::mock::Store`) isn't reachable through the `keyring` crate, and it would have to be
/// installed as the process-wide default store, which [`OsKeychain`] already owns.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, Token>>,
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accounts = self.tokens.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("MemoryTokenStore").field("accounts", &accounts).finish()
    }
}

impl MemoryTokenStore {
    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, Token>> {
        // A panic elsewhere can't leave the map half-updated, so a poisoned lock is still usable.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TokenStore for MemoryTokenStore {
    fn save(&self, account: &AccountKey, token: &Token) -> Result<(), KeychainError> {
        self.tokens().insert(account.keychain_user(), token.clone());
        Ok(())
    }

    fn load(&self, account: &AccountKey) -> Result<Token, KeychainError> {
        self.tokens().get(&account.keychain_user()).cloned().ok_or(KeychainError::NotFound)
    }

    fn delete(&self, account: &AccountKey) -> Result<(), KeychainError> {
        self.tokens().remove(&account.keychain_user());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "sbd_device_7f3a9c1e-very-secret";

    fn account(server_url: &str) -> AccountKey {
        AccountKey::new(server_url, Uuid::new_v4())
    }

    #[test]
    fn token_debug_and_display_never_show_the_secret() {
        let token = Token::new(SECRET);
        for shown in [format!("{token:?}"), format!("{token:#?}"), format!("{token}"), token.to_string()] {
            assert!(!shown.contains(SECRET), "a token's Debug/Display must never print the secret: {shown}");
            assert!(shown.contains("<redacted>"), "a token should say it was redacted: {shown}");
        }
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
        assert_eq!(token.expose(), SECRET, "expose() is the one way to read the token");
    }

    #[test]
    fn debug_of_a_struct_holding_a_token_never_shows_the_secret() {
        #[derive(Debug)]
        #[allow(dead_code)] // only read through Debug
        struct Session {
            account: AccountKey,
            token: Token,
            spare: Option<Token>,
        }
        let session = Session {
            account: account("https://inbox.example.com"),
            token: Token::new(SECRET),
            spare: Some(Token::new(SECRET)),
        };
        for shown in [format!("{session:?}"), format!("{session:#?}")] {
            assert!(
                !shown.contains(SECRET),
                "deriving Debug on a struct that holds a Token must not leak the token into logs: {shown}"
            );
            assert!(shown.contains("inbox.example.com"), "the rest of the struct is still shown: {shown}");
        }
    }

    #[test]
    fn keychain_errors_never_show_the_secret() {
        let err = map_keyring_error(keyring::Error::BadEncoding(SECRET.as_bytes().to_vec()));
        for shown in [format!("{err}"), format!("{err:?}")] {
            assert!(!shown.contains(SECRET), "an error about a stored token must not print it: {shown}");
        }
        assert!(matches!(map_keyring_error(keyring::Error::NoEntry), KeychainError::NotFound));
        assert!(matches!(map_keyring_error(keyring::Error::NoDefaultStore), KeychainError::Unavailable(_)));
    }

    #[test]
    fn account_key_normalises_the_server_url() {
        let agent = Uuid::new_v4();
        let canonical = AccountKey::new("https://inbox.example.com", agent);
        for spelling in [
            "https://inbox.example.com/",
            "https://inbox.example.com//",
            "HTTPS://Inbox.Example.COM/",
            "  https://inbox.example.com/ ",
        ] {
            assert_eq!(AccountKey::new(spelling, agent), canonical, "{spelling:?} names the same account");
        }
        assert_eq!(canonical.server_url, "https://inbox.example.com");

        // Port lowercased with the host; the path keeps its case; userinfo is left alone.
        assert_eq!(
            AccountKey::new("HTTP://LocalHost:8080/Team/", agent).server_url,
            "http://localhost:8080/Team"
        );
        assert_eq!(AccountKey::new("https://Bob@Host.Example", agent).server_url, "https://Bob@host.example");
        assert_eq!(AccountKey::new("Host.Example/", agent).server_url, "host.example");

        // Normalising is idempotent.
        let once = AccountKey::new("HTTPS://A.Example/Path/", agent);
        assert_eq!(AccountKey::new(&once.server_url, agent), once);
    }

    #[test]
    fn keychain_user_is_agent_at_url() {
        let agent = Uuid::parse_str("0190a3c4-1234-7abc-8def-0123456789ab").expect("valid uuid");
        let key = AccountKey::new("https://Inbox.Example.com/", agent);
        assert_eq!(key.keychain_user(), "0190a3c4-1234-7abc-8def-0123456789ab@https://inbox.example.com");
        // A key built without `new` still maps to the same entry.
        let literal = AccountKey { server_url: "https://inbox.example.com/".to_owned(), agent_id: agent };
        assert_eq!(literal.keychain_user(), key.keychain_user());
    }

    #[test]
    fn memory_store_round_trip() {
        let store = MemoryTokenStore::default();
        let key = account("https://inbox.example.com");
        store.save(&key, &Token::new("first")).expect("save");
        assert_eq!(store.load(&key).expect("load").expose(), "first");
        store.save(&key, &Token::new("second")).expect("overwrite");
        assert_eq!(store.load(&key).expect("load").expose(), "second");

        // The same account spelled differently finds the same token.
        let respelled = AccountKey::new("HTTPS://INBOX.example.com/", key.agent_id);
        assert_eq!(store.load(&respelled).expect("load").expose(), "second");
        assert!(!format!("{store:?}").contains("second"), "the store's Debug must not show tokens");
    }

    #[test]
    fn memory_store_keeps_accounts_apart() {
        let store = MemoryTokenStore::default();
        let agent = Uuid::new_v4();
        let a = AccountKey::new("https://a.example.com", agent);
        let b = AccountKey::new("https://b.example.com", agent);
        let c = AccountKey::new("https://a.example.com", Uuid::new_v4());
        store.save(&a, &Token::new("token-a")).expect("save a");
        store.save(&b, &Token::new("token-b")).expect("save b");
        assert!(matches!(store.load(&c), Err(KeychainError::NotFound)), "another agent on the same server");
        store.delete(&a).expect("delete a");
        assert!(matches!(store.load(&a), Err(KeychainError::NotFound)));
        assert_eq!(store.load(&b).expect("b survives deleting a").expose(), "token-b");
    }

    #[test]
    fn memory_store_not_found_and_idempotent_delete() {
        let store: Box<dyn TokenStore> = Box::new(MemoryTokenStore::default());
        let key = account("https://inbox.example.com");
        assert!(matches!(store.load(&key), Err(KeychainError::NotFound)));
        store.delete(&key).expect("deleting a missing token is fine");
        store.save(&key, &Token::new(SECRET)).expect("save");
        store.delete(&key).expect("delete");
        store.delete(&key).expect("delete again");
        assert!(matches!(store.load(&key), Err(KeychainError::NotFound)));
    }

    #[test]
    fn stores_are_object_safe_and_thread_safe() {
        fn assert_send_sync<T: Send + Sync + ?Sized>() {}
        assert_send_sync::<OsKeychain>();
        assert_send_sync::<MemoryTokenStore>();
        assert_send_sync::<dyn TokenStore>();
    }

    /// Deletes the test's entry even if an assertion fails half-way.
    struct Cleanup<'a>(&'a OsKeychain, &'a AccountKey);

    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            let _ = self.0.delete(self.1);
        }
    }

    /// Against a real Secret Service / Keychain. Runs only with `SWITCHBOARD_TEST_SECRET_SERVICE=1`
    /// (set by `scripts/with-secret-service.sh`, which starts a throwaway gnome-keyring in a private
    /// D-Bus session) so a plain `cargo test` never writes to the developer's own keychain.
    #[test]
    fn os_keychain_against_a_real_secret_service() {
        if std::env::var("SWITCHBOARD_TEST_SECRET_SERVICE").as_deref() != Ok("1") {
            eprintln!(
                "skipping os_keychain_against_a_real_secret_service: SWITCHBOARD_TEST_SECRET_SERVICE is not 1 \
                 (run under scripts/with-secret-service.sh to test against a throwaway Secret Service)"
            );
            return;
        }
        eprintln!("os_keychain_against_a_real_secret_service: using the real OS keychain");
        let keychain = OsKeychain::new().expect("the Secret Service should be reachable");
        // A fresh agent id per run, so concurrent or aborted runs never collide.
        let key = AccountKey::new("https://keychain-test.switchboard.invalid/", Uuid::new_v4());
        let other = AccountKey::new("https://keychain-test.switchboard.invalid", Uuid::new_v4());
        let _cleanup = (Cleanup(&keychain, &key), Cleanup(&keychain, &other));

        assert!(matches!(keychain.load(&key), Err(KeychainError::NotFound)), "fresh account has no token");
        keychain.delete(&key).expect("deleting a missing entry is Ok");

        let first = Token::new(format!("first-{}", Uuid::new_v4()));
        keychain.save(&key, &first).expect("save");
        assert_eq!(keychain.load(&key).expect("load after save"), first);
        // A second handle (as after a restart) sees the same entry.
        assert_eq!(OsKeychain::new().expect("second handle").load(&key).expect("load"), first);

        let second = Token::new(format!("second-{}", Uuid::new_v4()));
        keychain.save(&key, &second).expect("overwrite");
        assert_eq!(keychain.load(&key).expect("load after overwrite"), second);

        keychain.save(&other, &first).expect("save another account");
        assert_eq!(keychain.load(&other).expect("load other"), first);

        keychain.delete(&key).expect("delete");
        assert!(matches!(keychain.load(&key), Err(KeychainError::NotFound)), "deleted token is gone");
        keychain.delete(&key).expect("deleting again is Ok");
        assert_eq!(keychain.load(&other).expect("other account survives"), first);

        keychain.delete(&other).expect("delete other");
        assert!(matches!(keychain.load(&other), Err(KeychainError::NotFound)));
        eprintln!("os_keychain_against_a_real_secret_service: save/load/overwrite/delete passed");
    }
}
