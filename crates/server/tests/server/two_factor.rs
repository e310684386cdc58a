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
    assert_eq!(status, json!({"enabled": true, "recovery_codes_left": 9, "required": false}));

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

/// A request with a bare token (a device signed in here, not a harness session).
async fn with_token(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path}", server.base)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_workspace_requirement_makes_the_next_sign_in_enrol_before_anything_else() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = &workspace.sara; // Signed in before the requirement.
    let require = |required: bool| json!({"required": required});
    let (status, _) =
        workspace.lena.request(Method::PUT, "/api/v1/two-factor/required", Some(require(true))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a lead can't require it");
    let (status, body) =
        server.admin.request(Method::PUT, "/api/v1/two-factor/required", Some(require(true))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        sara.get("/api/v1/sync?since=0").await.0,
        StatusCode::OK,
        "a device from before keeps working"
    );

    let (status, signed_in) = login(&server, "sara@test.example", None).await;
    assert_eq!(status, StatusCode::OK, "the password still signs in: {signed_in}");
    assert_eq!(signed_in["two_factor_enrolment_required"], json!(true));
    let token = signed_in["token"].as_str().expect("token").to_owned();
    let (status, body) = with_token(&server, &token, Method::GET, "/api/v1/sync?since=0", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("two_factor_enrolment_required")),
        "nothing but enrolment with this token"
    );
    let (_, state) = with_token(&server, &token, Method::GET, "/api/v1/me/two-factor", None).await;
    assert_eq!(state, json!({"enabled": false, "recovery_codes_left": 0, "required": true}));
    let (_, enrolment) =
        with_token(&server, &token, Method::POST, "/api/v1/me/two-factor", Some(json!({}))).await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let code = code_at(&secret, server.clock.now());
    let (status, _) = with_token(
        &server,
        &token,
        Method::POST,
        "/api/v1/me/two-factor/confirm",
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        with_token(&server, &token, Method::GET, "/api/v1/sync?since=0", None).await.0,
        StatusCode::OK,
        "the same token works once enrolled"
    );
    server.clock.advance(30_000);
    let code = code_at(&secret, server.clock.now());
    let (status, _) =
        with_token(&server, &token, Method::DELETE, "/api/v1/me/two-factor", Some(json!({"code": code})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "required: it can't be turned off");
    assert_eq!(
        login(&server, "sara@test.example", None).await.1["error"]["code"],
        json!("two_factor_required")
    );

    let (_, overview) = server.admin.get("/api/v1/two-factor").await;
    assert_eq!(overview["workspace_required"], json!(true));
    let row =
        overview["agents"].as_array().expect("agents").iter().find(|a| a["agent_id"] == json!(sara.agent.id));
    assert_eq!(row, Some(&json!({"agent_id": sara.agent.id, "required": false, "enabled": true})));
    assert_eq!(workspace.sam.get("/api/v1/two-factor").await.0, StatusCode::FORBIDDEN);

    let (_, trail) = server.admin.get("/api/v1/audit?action=settings.two_factor_required").await;
    let rows = trail.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{trail}");
    assert_eq!(rows[0]["changes"], json!({"required": [false, true]}));
    assert_eq!(rows[0]["actor_id"], json!(server.admin.agent.id));
}

#[tokio::test]
async fn a_requirement_of_one_agent_outlives_a_reset_and_binds_only_them() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sam = &workspace.sam;
    let path = format!("/api/v1/agents/{}/two-factor/required", sam.agent.id);
    let (status, body) = server.admin.request(Method::PUT, &path, Some(json!({"required": true}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        login(&server, "sam@test.example", None).await.1["two_factor_enrolment_required"],
        json!(true)
    );
    assert_eq!(
        login(&server, "carl@test.example", None).await.1["two_factor_enrolment_required"],
        json!(false),
        "only Sam"
    );
    // Sam enrols (from a device of before), the admin resets it: he enrols again at the next sign-in.
    let (_, enrolment) = sam.post("/api/v1/me/two-factor", json!({})).await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    sam.ok("/api/v1/me/two-factor/confirm", json!({"code": code_at(&secret, server.clock.now())})).await;
    let reset = format!("/api/v1/agents/{}/two-factor", sam.agent.id);
    assert_eq!(server.admin.request(Method::DELETE, &reset, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        login(&server, "sam@test.example", None).await.1["two_factor_enrolment_required"],
        json!(true)
    );
    // No longer required: a plain sign-in again.
    server.admin.request(Method::PUT, &path, Some(json!({"required": false}))).await;
    assert_eq!(
        login(&server, "sam@test.example", None).await.1["two_factor_enrolment_required"],
        json!(false)
    );

    let (_, trail) = server.admin.get("/api/v1/audit?action=agent.two_factor_required").await;
    let changes: Vec<&Value> = trail.as_array().expect("rows").iter().map(|row| &row["changes"]).collect();
    assert_eq!(
        changes,
        [&json!({"required": [true, false]}), &json!({"required": [false, true]})],
        "newest first: {trail}"
    );
    assert!(trail.as_array().expect("rows").iter().all(|row| row["target_id"] == json!(sam.agent.id)));
}
