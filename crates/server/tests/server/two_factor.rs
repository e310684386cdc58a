//! Two-factor sign-in: enrolling with a code, signing in with one (once each), recovery codes,
//! the rate limit, turning it off, an admin's reset, and the audit rows. Codes are computed here
//! from the secret the server hands out, at the server's (injected) time.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::*;
use switchboard_server::Clock;

use crate::harness::*;

/// RFC 6238 with SHA-1, six digits, 30 s steps: what an authenticator app shows at `at`.
fn code_at(secret_base32: &str, at: Millis) -> String {
    let secret = base32_decode(secret_base32);
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, String::new())
        .generate(u64::try_from(at / 1000).expect("after 1970"))
}

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base32") as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

async fn login(server: &TestServer, email: &str, code: Option<&str>) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(
            &json!({"email": email, "password": PASSWORD, "device_name": "laptop", "two_factor_code": code}),
        )
        .send()
        .await
        .expect("login");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn enrolling_then_signing_in_needs_a_fresh_code_or_a_recovery_code() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = &workspace.sara;
    let (status, enrolment) = sara.post("/api/v1/me/two-factor", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let uri = enrolment["otpauth_uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/Switchboard:sara%40test.example?") && uri.contains(&secret),
        "{uri}"
    );
    // Not on yet: a sign-in without a code still works.
    assert_eq!(login(&server, "sara@test.example", None).await.0, StatusCode::OK);

    let (status, _) = sara.post("/api/v1/me/two-factor/confirm", json!({"code": "000000"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a wrong code doesn't confirm");
    let now = server.clock.now();
    let (status, confirmed) =
        sara.post("/api/v1/me/two-factor/confirm", json!({"code": code_at(&secret, now)})).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let recovery: Vec<String> = serde_json::from_value(confirmed["recovery_codes"].clone()).expect("codes");
    assert_eq!(recovery.len(), 10);

    let (status, body) = login(&server, "sara@test.example", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("two_factor_required"))
    );
    let (status, _) = login(&server, "sara@test.example", Some(&code_at(&secret, now))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the code that confirmed is used up");
    server.clock.advance(30_000);
    let fresh = code_at(&secret, server.clock.now());
    assert_eq!(login(&server, "sara@test.example", Some(&fresh)).await.0, StatusCode::OK);
    assert_eq!(login(&server, "sara@test.example", Some(&fresh)).await.0, StatusCode::UNAUTHORIZED, "once");
    // A recovery code, however it's typed, once.
    let typed = recovery[0].to_lowercase().replace('-', " ");
    assert_eq!(login(&server, "sara@test.example", Some(&typed)).await.0, StatusCode::OK);
    assert_eq!(login(&server, "sara@test.example", Some(&recovery[0])).await.0, StatusCode::UNAUTHORIZED);
    let (_, status) = sara.get("/api/v1/me/two-factor").await;
    assert_eq!(status, json!({"enabled": true, "recovery_codes_left": 9}));

    // Wrong codes count toward the sign-in rate limit like wrong passwords.
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = login(&server, "sara@test.example", Some("123456")).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);

    let (_, trail) = server.admin.get("/api/v1/audit?action=auth.").await;
    let actions: Vec<&str> =
        trail.as_array().expect("rows").iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"auth.two_factor_enabled"));
    assert!(
        !serde_json::to_string(&trail).expect("json").contains(&secret),
        "the secret is never in the trail"
    );
}

#[tokio::test]
async fn turning_it_off_needs_a_code_and_an_admin_can_reset_it() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sam = &workspace.sam;
    let (_, enrolment) = sam.post("/api/v1/me/two-factor", json!({})).await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    sam.ok("/api/v1/me/two-factor/confirm", json!({"code": code_at(&secret, server.clock.now())})).await;
    let (status, _) = sam.post("/api/v1/me/two-factor", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "already on");

    let (status, _) =
        sam.request(Method::DELETE, "/api/v1/me/two-factor", Some(json!({"code": "000000"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    server.clock.advance(30_000);
    let code = code_at(&secret, server.clock.now());
    let (status, _) = sam.request(Method::DELETE, "/api/v1/me/two-factor", Some(json!({"code": code}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(login(&server, "sam@test.example", None).await.0, StatusCode::OK, "off again");

    // On again, then lost: the admin resets it (a lead can't).
    let (_, enrolment) = sam.post("/api/v1/me/two-factor", json!({})).await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    sam.ok("/api/v1/me/two-factor/confirm", json!({"code": code_at(&secret, server.clock.now())})).await;
    let path = format!("/api/v1/agents/{}/two-factor", sam.agent.id);
    assert_eq!(workspace.lena.request(Method::DELETE, &path, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(server.admin.request(Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(login(&server, "sam@test.example", None).await.0, StatusCode::OK);
}
