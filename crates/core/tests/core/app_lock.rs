//! The app lock's password check against a real server: the server decides while it answers (and
//! a confirmed unlock renews the cache's verifier), a refusal is final, and with the server gone
//! the verifier in the cache decides. The cache holds a hash, never the password.

use std::sync::Arc;

use switchboard_core::{
    accounts::Accounts,
    error::CoreError,
    keychain::TokenStore,
    lock::{self, Checked},
};
use switchboard_proto::*;

use crate::harness::*;

fn refused(result: Result<Checked, CoreError>) -> ErrorCode {
    match result {
        Err(CoreError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn unlock_asks_the_server_and_falls_back_to_the_cached_verifier_offline() {
    let mut server = Server::start().await;
    Workspace::create(&server).await;
    let client = Client::sign_in(&server, "sara@test.example").await;
    let (api, cache) = (&client.account.api, &client.account.cache);
    assert_eq!(cache.unlock_verifier().expect("read"), None, "nothing until a password is confirmed");

    assert_eq!(lock::check(api, cache, PASSWORD).await.expect("unlock"), Checked::Server);
    let verifier = cache.unlock_verifier().expect("read").expect("a verifier after a confirmed unlock");
    assert!(!verifier.contains(PASSWORD) && verifier.starts_with("$argon2"), "{verifier}");
    assert_eq!(refused(lock::check(api, cache, "wrong").await), ErrorCode::InvalidCredentials);
    assert_eq!(cache.unlock_verifier().expect("read").as_deref(), Some(verifier.as_str()));

    // Enough wrong passwords and the server says wait: that is final, not a cue to check locally.
    for _ in 0..4 {
        let _ = lock::check(api, cache, "wrong").await;
    }
    assert_eq!(refused(lock::check(api, cache, PASSWORD).await), ErrorCode::RateLimited);

    server.kill().await;
    assert_eq!(lock::check(api, cache, PASSWORD).await.expect("offline unlock"), Checked::Local);
    assert_eq!(refused(lock::check(api, cache, "wrong").await), ErrorCode::InvalidCredentials);

    // Offline with no verifier stored: a clear "can't check", never an unlock.
    cache.set_unlock_verifier("").expect("write");
    assert!(matches!(lock::check(api, cache, PASSWORD).await, Err(CoreError::Network(_))));
}

#[tokio::test]
async fn the_lock_outlives_a_restart_until_it_is_unlocked() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    let mut client = Client::sign_in(&server, "sara@test.example").await;
    let key = client.account.info.key();
    assert!(!client.account.cache.app_locked().expect("read"), "a new account starts unlocked");
    client.account.cache.set_app_locked(true).expect("lock");

    // The app is killed while locked, then started again: a new registry opens the same account.
    client.engine.take().expect("engine").shutdown().await;
    let restarted =
        Accounts::new(client.root.path().to_owned(), client.tokens.clone() as Arc<dyn TokenStore>);
    let reopened = restarted.open(&key).await.expect("reopen");
    assert!(reopened.cache.app_locked().expect("read"), "it opens locked");

    reopened.cache.set_app_locked(false).expect("unlock");
    drop(reopened);
    let again = restarted.open(&key).await.expect("reopen");
    assert!(!again.cache.app_locked().expect("read"), "and unlocked once unlocked");
}
