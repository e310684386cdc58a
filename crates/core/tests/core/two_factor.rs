//! Two-factor sign-in from the client core: a sign-in that needs a code says so (and is not
//! mistaken for a dead session), a wrong code and the rate limit are clear refusals, enrolment
//! through `ApiClient`, and an agent an admin requires to enrol gets an account that can only
//! enrol until they do. Codes are computed here from the URI the server hands out, at the
//! server's (injected) time.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::{
    accounts::{AccountInfo, Accounts},
    error::CoreError,
    keychain::{MemoryTokenStore, TokenStore},
};
use switchboard_proto::*;
use switchboard_server::Clock;

use crate::harness::*;

fn code(uri: &str, at: Millis) -> String {
    let totp = totp_rs::TOTP::from_url_unchecked(uri).expect("otpauth URI");
    totp.generate(u64::try_from(at / 1000).expect("after 1970"))
}

fn accounts() -> (Accounts, tempfile::TempDir) {
    let root = tempfile::tempdir().expect("temp dir");
    let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    (Accounts::new(root.path().to_owned(), tokens), root)
}

async fn sign_in(
    accounts: &Accounts,
    server: &Server,
    email: &str,
    code: Option<&str>,
) -> Result<AccountInfo, CoreError> {
    accounts.sign_in(&server.base, email, PASSWORD, code, "laptop", server.clock.now()).await
}

fn refusal(result: Result<AccountInfo, CoreError>) -> ErrorCode {
    match result {
        Err(CoreError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_sign_in_asks_for_the_code_refuses_a_wrong_one_and_is_rate_limited() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    let (accounts, _root) = accounts();
    let info = sign_in(&accounts, &server, "sara@test.example", None).await.expect("sign in");
    let account = accounts.open(&info.key()).await.expect("open");
    let status = account.api.two_factor_status().await.expect("status");
    assert!(!status.enabled && !status.required);

    let enrolment = account.api.begin_two_factor().await.expect("begin");
    assert!(enrolment.otpauth_uri.contains(&enrolment.secret));
    let wrong = account.api.confirm_two_factor("000000").await;
    assert!(matches!(wrong, Err(CoreError::Rejected { code: ErrorCode::Validation, .. })), "{wrong:?}");
    let confirmed = account
        .api
        .confirm_two_factor(&code(&enrolment.otpauth_uri, server.clock.now()))
        .await
        .expect("confirm");
    assert_eq!(confirmed.recovery_codes.len(), 10);

    let (other, _other_root) = self::accounts();
    assert_eq!(
        refusal(sign_in(&other, &server, "sara@test.example", None).await),
        ErrorCode::TwoFactorRequired,
        "a sign-in without the code asks for it (and is not a signed-out session)"
    );
    assert_eq!(
        refusal(sign_in(&other, &server, "sara@test.example", Some("123456")).await),
        ErrorCode::InvalidCredentials
    );
    server.clock.advance(30_000);
    let fresh = code(&enrolment.otpauth_uri, server.clock.now());
    let signed_in = sign_in(&other, &server, "sara@test.example", Some(&fresh)).await.expect("fresh code");
    assert!(!signed_in.must_enrol_two_factor);
    let recovery = confirmed.recovery_codes[0].clone();
    sign_in(&other, &server, "sara@test.example", Some(&recovery)).await.expect("a recovery code");

    let mut last = ErrorCode::Unknown;
    for _ in 0..12 {
        last = refusal(sign_in(&other, &server, "sara@test.example", Some("999999")).await);
    }
    assert_eq!(last, ErrorCode::RateLimited, "too many wrong codes is a refusal the screen can show");
}

#[tokio::test]
async fn an_agent_required_to_enrol_can_only_enrol_until_they_do() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    let (status, body) = {
        let response = reqwest::Client::new()
            .put(format!("{}/api/v1/two-factor/required", server.base))
            .bearer_auth(&server.admin_token)
            .json(&json!({"required": true}))
            .send()
            .await
            .expect("require");
        (response.status(), response.text().await.unwrap_or_default())
    };
    assert_eq!(status, 204, "{body}");

    let (accounts, _root) = accounts();
    let info =
        sign_in(&accounts, &server, "sam@test.example", None).await.expect("the password still signs in");
    assert!(info.must_enrol_two_factor, "the sign-in says an enrolment is due");
    assert!(accounts.list().expect("list")[0].must_enrol_two_factor, "and the account list remembers it");
    let account = accounts.open(&info.key()).await.expect("open");
    let sync = account.api.sync(0, None, 10).await;
    assert!(
        matches!(sync, Err(CoreError::Rejected { code: ErrorCode::TwoFactorEnrolmentRequired, .. })),
        "nothing but enrolment until then: {sync:?}"
    );
    assert!(account.api.two_factor_status().await.expect("status").required);
    let enrolment = account.api.begin_two_factor().await.expect("begin");
    account.api.confirm_two_factor(&code(&enrolment.otpauth_uri, server.clock.now())).await.expect("confirm");
    accounts.enrolled(&info.key()).expect("enrolled");
    assert!(!accounts.list().expect("list")[0].must_enrol_two_factor);
    account.api.sync(0, None, 10).await.expect("the same token syncs once enrolled");
    let off =
        account.api.disable_two_factor(&code(&enrolment.otpauth_uri, server.clock.now() + 30_000)).await;
    assert!(matches!(off, Err(CoreError::Rejected { code: ErrorCode::Forbidden, .. })), "required: {off:?}");
}
