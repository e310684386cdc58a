//! The app lock's password check. Online the server checks the password
//! (`POST /api/v1/me/verify-password`, rate limited with sign-in); offline a local verifier does:
//! a salted Argon2id hash of the password (PHC string), kept in the account's encrypted cache,
//! written at sign-in and after each unlock the server confirmed. The password itself is never
//! stored. Local tries are limited too ([`Attempts`]), so the lock screen can't be hammered while
//! the server is out of reach.

use std::sync::Arc;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use switchboard_proto::{ErrorCode, Millis};

use crate::{
    api::ApiClient,
    cache::Cache,
    error::{CoreError, CoreResult},
};

/// Wrong passwords allowed within [`WINDOW_MS`] before the lock screen makes the agent wait
/// (the same numbers as the server's sign-in limit).
pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MS: Millis = 5 * 60 * 1000;

/// A verifier for `password`: an Argon2id PHC string with a fresh random salt. Slow on purpose
/// (tens of ms): call it off the async runtime.
pub fn make_verifier(password: &str) -> CoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CoreError::Invalid(format!("hashing the unlock verifier: {e}")))
}

/// Whether `password` matches `verifier`; a damaged verifier matches nothing.
pub fn check_verifier(verifier: &str, password: &str) -> bool {
    PasswordHash::new(verifier)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Hashes `password` on a blocking thread and stores it as the cache's unlock verifier.
pub async fn remember(cache: Arc<Cache>, password: String) -> CoreResult<()> {
    tokio::task::spawn_blocking(move || cache.set_unlock_verifier(&make_verifier(&password)?))
        .await
        .map_err(|e| CoreError::Invalid(format!("hashing the unlock verifier: {e}")))?
}

/// How an unlock was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Server,
    Local,
}

fn wrong_password() -> CoreError {
    CoreError::Rejected {
        code: ErrorCode::InvalidCredentials,
        message: "wrong password".into(),
        current_assignee_id: None,
        conversation_id: None,
    }
}

/// Checks the password: with the server when it answers (then the local verifier is renewed),
/// else against the cache's verifier. A server that refuses (wrong password, rate limited) is
/// final: only an unreachable one falls back to the local check.
pub async fn check(api: &ApiClient, cache: &Arc<Cache>, password: &str) -> CoreResult<Checked> {
    match api.verify_password(password).await {
        Ok(()) => {
            remember(cache.clone(), password.to_owned()).await?;
            Ok(Checked::Server)
        }
        Err(CoreError::Network(why)) => {
            let verifier = cache.unlock_verifier()?.filter(|v| !v.is_empty()).ok_or_else(|| {
                CoreError::Network(format!("the server can't be reached to check the password ({why})"))
            })?;
            let password = password.to_owned();
            let matches = tokio::task::spawn_blocking(move || check_verifier(&verifier, &password))
                .await
                .unwrap_or(false);
            if matches {
                Ok(Checked::Local)
            } else {
                Err(wrong_password())
            }
        }
        Err(other) => Err(other),
    }
}

/// The lock screen's own count of wrong passwords (a sliding window, like the server's).
#[derive(Debug, Default, Clone)]
pub struct Attempts {
    failures: Vec<Millis>,
}

impl Attempts {
    /// `Some(seconds)` to wait when too many recent tries failed.
    pub fn wait(&self, now: Millis) -> Option<u64> {
        let recent: Vec<Millis> = self.failures.iter().copied().filter(|at| now - at < WINDOW_MS).collect();
        if recent.len() < MAX_FAILURES {
            return None;
        }
        let free_at = recent[recent.len() - MAX_FAILURES] + WINDOW_MS;
        Some(u64::try_from(free_at - now).unwrap_or(0).div_ceil(1000).max(1))
    }

    pub fn failed(&mut self, now: Millis) {
        self.failures.retain(|at| now - at < WINDOW_MS);
        self.failures.push(now);
    }

    pub fn clear(&mut self) {
        self.failures.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_checks_the_password_without_holding_it() {
        let verifier = make_verifier("correct horse battery").expect("hash");
        assert!(verifier.starts_with("$argon2id$"), "{verifier}");
        assert!(!verifier.contains("correct horse"), "the password is not in the verifier");
        assert!(check_verifier(&verifier, "correct horse battery"));
        assert!(!check_verifier(&verifier, "correct horse battery "));
        assert!(!check_verifier(&verifier, ""));
        let again = make_verifier("correct horse battery").expect("hash");
        assert_ne!(verifier, again, "salted: the same password hashes differently");
        assert!(!check_verifier("not a phc string", "correct horse battery"), "damaged: matches nothing");
    }

    #[test]
    fn wrong_passwords_make_the_lock_screen_wait() {
        let mut attempts = Attempts::default();
        for at in 0..4 {
            attempts.failed(at * 1000);
            assert_eq!(attempts.wait(at * 1000), None);
        }
        attempts.failed(4000);
        assert_eq!(attempts.wait(4000), Some(296), "the first failure leaves the window at 300 s");
        assert_eq!(attempts.wait(WINDOW_MS), None, "the oldest failure has left the window");
        attempts.clear();
        assert_eq!(attempts.wait(4000), None);
    }
}
