//! The cache at rest: an account's cache file and its WAL hold no customer text and can't be read
//! without the key in the keychain; a plain cache from an older version is encrypted on first
//! start; signing out deletes the key before anything else, so a copy taken earlier stays sealed.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use switchboard_core::{
    accounts::Accounts,
    cache::{encryption, Cache},
    keychain::{cache_key_entry, AccountKey, CacheKey, KeychainError, MemoryTokenStore, Token, TokenStore},
    sync::{Engine, EngineConfig},
};
use switchboard_proto::*;

use crate::harness::*;

const SECRET_TEXT: &str = "my card is 4111 1111 1111 1111, ship to 221B Baker Street";

fn contains(path: &Path, needle: &str) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Opening the file as plain SQLite (no key) reads nothing.
fn unreadable_without_key(path: &Path) -> bool {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0)).is_err()
}

#[tokio::test]
async fn the_cache_and_its_wal_hold_no_customer_text_and_need_the_key() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let message = server.inbound(&workspace.whatsapp, "c-secret", "m-secret", SECRET_TEXT).await;
    sara.until("the message is cached", |c| {
        c.account
            .cache
            .thread(message.conversation_id)
            .expect("thread")
            .iter()
            .any(|m| m.id == message.message_id)
    })
    .await;
    let path = sara.account.cache.path().to_owned();
    let wal = sidecar(&path, "-wal");
    assert!(wal.exists(), "the WAL is in use (the message is in it or the file)");
    assert!(
        !contains(&path, SECRET_TEXT) && !contains(&wal, SECRET_TEXT),
        "no plain text in the database or WAL"
    );
    assert!(!contains(&path, "Customer c-secret"), "nor the contact's name");
    assert!(!encryption::is_plain(&path).expect("header"), "not a plain SQLite file");
    assert!(unreadable_without_key(&path), "opening it without the key reads nothing");

    let stored =
        sara.tokens.load(&cache_key_entry(&sara.account.info.key())).expect("the key is in the keychain");
    let key = CacheKey::from_hex(stored.expose()).expect("key");
    let wrong = CacheKey::generate();
    assert!(Cache::open_encrypted(&path, &wrong).is_err(), "another key opens nothing");
    // The same SQLCipher library serves the server, which sets no key: its database stays plain.
    let server_db = server.data_dir.path().join("switchboard.db");
    if std::env::var_os("SWITCHBOARD_TEST_DATABASE_URL").is_none() {
        assert!(
            encryption::is_plain(&server_db).expect("header"),
            "the server's SQLite file is plain SQLite"
        );
    }
    let reopened = Cache::open_encrypted(&path, &key).expect("the keychain's key opens it");
    assert!(reopened.thread(message.conversation_id).expect("thread").iter().any(|m| m.body == SECRET_TEXT));
}

#[tokio::test]
async fn a_plain_cache_is_encrypted_on_first_start_with_everything_in_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cache.db");
    let me = Id::new_v4();
    {
        let plain = Cache::open(&path).expect("plain cache");
        plain.set_identity(me, 42).expect("identity");
    }
    assert!(encryption::is_plain(&path).expect("header"));
    assert!(contains(&path, &me.to_string()), "a plain cache shows its contents");

    let key = CacheKey::generate();
    let cache = Cache::open_encrypted(&path, &key).expect("migrated");
    assert_eq!(cache.me().expect("me"), Some(me), "what the plain cache held is kept");
    drop(cache);
    assert!(!encryption::is_plain(&path).expect("header"));
    assert!(!contains(&path, &me.to_string()));
    assert!(!sidecar(&path, "-wal").exists() || !contains(&sidecar(&path, "-wal"), &me.to_string()));
    assert!(unreadable_without_key(&path));
    let again = Cache::open_encrypted(&path, &key).expect("opens again");
    assert_eq!(again.me().expect("me"), Some(me));
}

/// A token store that records the order of deletions.
#[derive(Default)]
struct Recording {
    inner: MemoryTokenStore,
    deleted: Mutex<Vec<String>>,
}

impl TokenStore for Recording {
    fn save(&self, account: &AccountKey, token: &Token) -> Result<(), KeychainError> {
        self.inner.save(account, token)
    }
    fn load(&self, account: &AccountKey) -> Result<Token, KeychainError> {
        self.inner.load(account)
    }
    fn delete(&self, account: &AccountKey) -> Result<(), KeychainError> {
        self.deleted.lock().expect("lock").push(account.keychain_user());
        self.inner.delete(account)
    }
}

#[tokio::test]
async fn signing_out_destroys_the_key_first_so_an_earlier_copy_stays_sealed() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let message = server.inbound(&workspace.whatsapp, "c-copy", "m-copy", SECRET_TEXT).await;
    let root = tempfile::tempdir().expect("temp dir");
    let tokens = Arc::new(Recording::default());
    let accounts = Accounts::new(root.path().to_owned(), tokens.clone() as Arc<dyn TokenStore>);
    let info = accounts
        .sign_in(&server.base, "sara@test.example", PASSWORD, None, "laptop", 0)
        .await
        .expect("sign in");
    let account = accounts.open(&info.key()).await.expect("open");
    // Synced: the customer's words are in the cache before the copy is taken.
    let engine = Engine::start(EngineConfig::new(
        account.api.clone(),
        account.cache.clone(),
        Arc::new(|_| {}),
        account.staging_dir(),
    ));
    let cached = |account: &switchboard_core::accounts::OpenAccount| {
        account
            .cache
            .thread(message.conversation_id)
            .is_ok_and(|thread| thread.iter().any(|m| m.body == SECRET_TEXT))
    };
    for _ in 0..500 {
        if cached(&account) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(cached(&account), "the message reached the cache");
    engine.shutdown().await;
    let path = account.cache.path().to_owned();
    drop(account);
    // A copy of the whole account directory taken before sign-out (a stolen laptop's disk image):
    // the database, its WAL and every file beside them.
    let dir = accounts.account_dir(&info.key());
    let copy = root.path().join("copy");
    copy_dir(&dir, &copy);
    let copied_db = copy.join(path.file_name().expect("a file name"));
    let entry = cache_key_entry(&info.key());
    let key = CacheKey::from_hex(tokens.load(&entry).expect("the key").expose()).expect("key");

    accounts.sign_out(&info.key()).await.expect("sign out");
    let deleted = tokens.deleted.lock().expect("lock").clone();
    assert_eq!(
        deleted.first(),
        Some(&entry.keychain_user()),
        "the key is the first thing deleted: {deleted:?}"
    );
    assert!(matches!(tokens.load(&entry), Err(KeychainError::NotFound)), "the key is gone");
    assert!(!path.exists() && !dir.exists(), "the cache is wiped");
    assert!(unreadable_without_key(&copied_db), "the copy can't be read without the key");
    for file in files_under(&copy) {
        assert!(!contains(&file, SECRET_TEXT), "no plain text in the copy's {}", file.display());
    }
    // The copy did hold the message: only the key the sign-out destroyed opens it.
    let opened = Cache::open_encrypted(&copied_db, &key).expect("the old key opens the copy");
    assert!(opened.thread(message.conversation_id).expect("thread").iter().any(|m| m.body == SECRET_TEXT));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn an_upgrade_encrypts_the_old_plain_cache_and_a_lost_key_starts_the_cache_again() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    let root = tempfile::tempdir().expect("temp dir");
    let tokens = Arc::new(MemoryTokenStore::default());
    let accounts = Accounts::new(root.path().to_owned(), tokens.clone() as Arc<dyn TokenStore>);
    let info = accounts
        .sign_in(&server.base, "sara@test.example", PASSWORD, None, "laptop", 0)
        .await
        .expect("sign in");
    let entry = cache_key_entry(&info.key());
    let path = accounts.account_dir(&info.key()).join("cache.db");

    // As an older version left it: a plain cache, and no key in the keychain.
    tokens.delete(&entry).expect("forget the key");
    Cache::remove(&path).expect("remove");
    Cache::open(&path).expect("plain").apply_page(&[], 5).expect("a cursor");
    let account = accounts.open(&info.key()).await.expect("open");
    assert!(tokens.load(&entry).is_ok(), "a key was made");
    assert!(!encryption::is_plain(&path).expect("header"), "and the cache encrypted with it");
    assert_eq!(account.cache.cursor().expect("cursor"), 5, "keeping what the plain cache held");
    drop(account);

    // The key lost (a keychain reset): the unreadable cache is dropped and starts again.
    tokens.delete(&entry).expect("lose the key");
    let account = accounts.open(&info.key()).await.expect("opens again, empty");
    assert_eq!(account.cache.cursor().expect("cursor"), 0, "synced again from the start");
    assert!(tokens.load(&entry).is_ok(), "under a new key");
}
