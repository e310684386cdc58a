//! Signed-in accounts: sign-in stores the device token in the OS keychain and creates the
//! account's cache; several accounts can be signed in, one is active; sign-out (or a revoked
//! token) deletes the keychain entry and wipes the account's cache and files.
//!
//! `accounts.json` lists the accounts (server, agent, which is active) and never holds a token.
//!
//! Each account's cache is encrypted with its own key, a second keychain entry beside the token
//! ([`keychain::cache_key_entry`]); forgetting an account deletes that key before anything else,
//! so a copy of the cache taken before the wipe stays unreadable.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use crate::{
    api::{self, ApiClient},
    cache::Cache,
    clock::Clock,
    error::{CoreError, CoreResult},
    keychain::{self, AccountKey, CacheKey, KeychainError, Token, TokenStore},
};

/// One signed-in account, as listed (no secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub server_url: String,
    pub agent: Agent,
    pub device_id: Id,
    pub active: bool,
    /// An admin requires a second factor and the agent has none: the account's token answers
    /// only enrolment until one is confirmed ([`Accounts::enrolled`]), so it isn't synced yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_enrol_two_factor: bool,
}

impl AccountInfo {
    pub fn key(&self) -> AccountKey {
        AccountKey::new(&self.server_url, self.agent.id)
    }
}

/// An account ready to sync: its API client (with the token from the keychain) and its cache.
pub struct OpenAccount {
    pub info: AccountInfo,
    pub api: ApiClient,
    pub cache: Arc<Cache>,
    pub dir: PathBuf,
}

impl OpenAccount {
    pub fn staging_dir(&self) -> PathBuf {
        self.dir.join("staging")
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.dir.join(crate::attachments::DOWNLOADS_DIR)
    }
}

/// The accounts under one data directory.
pub struct Accounts {
    root: PathBuf,
    tokens: Arc<dyn TokenStore>,
    now: Clock,
}

impl Accounts {
    /// Accounts under `root`, on the system clock.
    pub fn new(root: PathBuf, tokens: Arc<dyn TokenStore>) -> Self {
        Accounts { root, tokens, now: crate::clock::system_clock() }
    }

    /// The same, on another clock (the desktop shares its clock; tests set the time).
    pub fn with_clock(mut self, now: Clock) -> Self {
        self.now = now;
        self
    }

    fn registry(&self) -> PathBuf {
        self.root.join("accounts.json")
    }

    /// Every signed-in account.
    pub fn list(&self) -> CoreResult<Vec<AccountInfo>> {
        match std::fs::read(self.registry()) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(error) => Err(error.into()),
        }
    }

    fn save(&self, accounts: &[AccountInfo]) -> CoreResult<()> {
        std::fs::create_dir_all(&self.root)?;
        let temp = self.root.join("accounts.json.tmp");
        std::fs::write(&temp, serde_json::to_vec_pretty(accounts)?)?;
        std::fs::rename(temp, self.registry())?;
        Ok(())
    }

    pub fn active(&self) -> CoreResult<Option<AccountInfo>> {
        Ok(self.list()?.into_iter().find(|a| a.active))
    }

    /// Where an account's cache and files live.
    pub fn account_dir(&self, key: &AccountKey) -> PathBuf {
        let digest = hex::encode(Sha256::digest(key.keychain_user().as_bytes()));
        self.root.join("accounts").join(&digest[..16])
    }

    /// Signs in, stores the token in the keychain, and makes the account the active one.
    /// `two_factor_code` answers a sign-in refused with `two_factor_required`.
    pub async fn sign_in(
        &self,
        server_url: &str,
        email: &str,
        password: &str,
        two_factor_code: Option<&str>,
        device_name: &str,
        now: Millis,
    ) -> CoreResult<AccountInfo> {
        let server_url = api::normalize_base(server_url);
        let login = api::login(&server_url, email, password, two_factor_code, device_name).await?;
        let key = AccountKey::new(&server_url, login.agent.id);
        let token = Token::new(login.token);
        let tokens = self.tokens.clone();
        let saved_key = key.clone();
        tokio::task::spawn_blocking(move || tokens.save(&saved_key, &token))
            .await
            .map_err(|e| CoreError::Invalid(format!("keychain task: {e}")))??;
        let cache = self.open_cache(&key).await?;
        cache.set_identity(login.agent.id, now)?;
        let info = AccountInfo {
            server_url,
            agent: login.agent,
            device_id: login.device_id,
            active: true,
            must_enrol_two_factor: login.two_factor_enrolment_required,
        };
        let mut accounts: Vec<AccountInfo> = self.list()?.into_iter().filter(|a| a.key() != key).collect();
        for account in &mut accounts {
            account.active = false;
        }
        accounts.push(info.clone());
        self.save(&accounts)?;
        Ok(info)
    }

    /// Notes that the account's agent has confirmed a second factor, so it can sync.
    pub fn enrolled(&self, key: &AccountKey) -> CoreResult<()> {
        let mut accounts = self.list()?;
        for account in accounts.iter_mut().filter(|a| &a.key() == key) {
            account.must_enrol_two_factor = false;
        }
        self.save(&accounts)
    }

    /// Makes another signed-in account the active one.
    pub fn set_active(&self, key: &AccountKey) -> CoreResult<()> {
        let mut accounts = self.list()?;
        if !accounts.iter().any(|a| &a.key() == key) {
            return Err(CoreError::Invalid("no such account".into()));
        }
        for account in &mut accounts {
            account.active = &account.key() == key;
        }
        self.save(&accounts)
    }

    /// Opens an account: its token from the keychain and its cache.
    pub async fn open(&self, key: &AccountKey) -> CoreResult<OpenAccount> {
        let info = self
            .list()?
            .into_iter()
            .find(|a| &a.key() == key)
            .ok_or_else(|| CoreError::Invalid("no such account".into()))?;
        let tokens = self.tokens.clone();
        let loaded_key = key.clone();
        let token = tokio::task::spawn_blocking(move || tokens.load(&loaded_key))
            .await
            .map_err(|e| CoreError::Invalid(format!("keychain task: {e}")))??;
        let dir = self.account_dir(key);
        let cache = Arc::new(self.open_cache(key).await?);
        cache.set_identity(info.agent.id, (self.now)())?;
        Ok(OpenAccount { api: ApiClient::new(&info.server_url, token), info, cache, dir })
    }

    /// Signs out: tells the server (best effort: offline still signs out locally), then forgets.
    pub async fn sign_out(&self, key: &AccountKey) -> CoreResult<()> {
        if let Ok(account) = self.open(key).await {
            if let Err(error) = account.api.logout().await {
                tracing::info!(%error, "server-side sign-out failed; signing out locally");
            }
        }
        self.forget(key).await
    }

    /// The account's encrypted cache, with its key from the keychain. The first open makes the
    /// key (and encrypts a plain cache left by an older version); a cache whose key is gone can't
    /// be read, so it is dropped and synced again.
    async fn open_cache(&self, key: &AccountKey) -> CoreResult<Cache> {
        let path = self.account_dir(key).join("cache.db");
        let tokens = self.tokens.clone();
        let entry = keychain::cache_key_entry(key);
        let (cache_key, made) = tokio::task::spawn_blocking(move || -> CoreResult<(CacheKey, bool)> {
            match tokens.load(&entry) {
                Ok(stored) => CacheKey::from_hex(stored.expose())
                    .map(|found| (found, false))
                    .ok_or_else(|| KeychainError::Other("the stored cache key is malformed".into()).into()),
                Err(KeychainError::NotFound) => {
                    let made = CacheKey::generate();
                    tokens.save(&entry, &Token::new(made.to_hex()))?;
                    Ok((made, true))
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
        .map_err(|e| CoreError::Invalid(format!("keychain task: {e}")))??;
        if made && path.exists() && !crate::cache::encryption::is_plain(&path)? {
            tracing::warn!("the cache's key is gone: dropping the unreadable cache to sync it again");
            Cache::remove(&path)?;
        }
        Cache::open_encrypted(&path, &cache_key)
    }

    /// Deletes the cache key, then the token, from the keychain and wipes the account's cache and
    /// files (after sign-out, or when the server answered `token_revoked`). The key goes first: if
    /// anything after it fails, what is left on disk is already unreadable. Another account becomes
    /// active if this one was.
    pub async fn forget(&self, key: &AccountKey) -> CoreResult<()> {
        let tokens = self.tokens.clone();
        let deleted_key = key.clone();
        tokio::task::spawn_blocking(move || {
            tokens.delete(&keychain::cache_key_entry(&deleted_key))?;
            tokens.delete(&deleted_key)
        })
        .await
        .map_err(|e| CoreError::Invalid(format!("keychain task: {e}")))??;
        wipe(&self.account_dir(key))?;
        let mut accounts: Vec<AccountInfo> = self.list()?.into_iter().filter(|a| &a.key() != key).collect();
        if !accounts.iter().any(|a| a.active) {
            if let Some(first) = accounts.first_mut() {
                first.active = true;
            }
        }
        self.save(&accounts)
    }
}

fn wipe(dir: &Path) -> CoreResult<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error.into()),
    }
}
