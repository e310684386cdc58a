//! Sign-in, revocation, and what a revoked or missing token gets.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn login_gives_a_working_token_and_wrong_passwords_are_refused() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, me) = workspace.sara.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "sara@test.example");

    let (status, body) = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": "sara@test.example", "password": "wrong password", "device_name": "x"}))
        .send()
        .await
        .map(|r| (r.status(), r))
        .expect("request");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = body.json().await.expect("json error body");
    assert_eq!(body["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_unauthorized() {
    let server = TestServer::start().await;
    let response = reqwest::get(format!("{}/api/v1/me", server.base)).await.expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthorized");

    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/sync", server.base))
        .bearer_auth("sbt_not_a_token")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_and_device_revocation_answer_token_revoked() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;

    // Sara signs out: that token is dead, her other device still works.
    let laptop = server.login("sara@test.example").await;
    let (status, _) = workspace.sara.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = workspace.sara.get("/api/v1/me").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_revoked")));
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK);

    // Sam can't revoke Sara's device; the admin can.
    let path = format!("/api/v1/devices/{}", laptop.device_id);
    assert_eq!(workspace.sam.request(reqwest::Method::DELETE, &path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK, "a failed revoke must not revoke");
    assert_eq!(server.admin.request(reqwest::Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    let (status, body) = laptop.get("/api/v1/sync").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_revoked")));

    // Own device list shows only own, live devices.
    let (_, devices) = workspace.sam.get("/api/v1/devices").await;
    let devices = devices.as_array().expect("list");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["current"], true);
}

#[tokio::test]
async fn deactivating_an_agent_revokes_every_device_and_blocks_sign_in() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let second = server.login("carl@test.example").await;
    let (status, _) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/agents/{}", workspace.carl.agent.id),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for session in [&workspace.carl, &second] {
        let (status, body) = session.get("/api/v1/me").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token_revoked"))
        );
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": "carl@test.example", "password": PASSWORD, "device_name": "x"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a deactivated agent can't sign in");
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let response = client
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"email": "mallory@test.example", "password": "guess", "device_name": "x"}))
            .send()
            .await
            .expect("request");
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"), "429 says when to retry");
        }
    }
    assert_eq!(&statuses[..5], &[StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(&statuses[5..], &[StatusCode::TOO_MANY_REQUESTS; 2]);

    // The count lives with the data, not in one process: a restarted server (or another node on
    // the same database) still refuses, even the right password, until the window has passed.
    let server = server.restart().await;
    let login = |password: &'static str| {
        let client = client.clone();
        let base = server.base.clone();
        async move {
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": "mallory@test.example", "password": password, "device_name": "x"}))
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    assert_eq!(login("guess").await, StatusCode::TOO_MANY_REQUESTS);
    server.clock.advance(5 * 60 * 1000);
    assert_eq!(login("guess").await, StatusCode::UNAUTHORIZED, "the window slid past the failures");
}

#[tokio::test]
async fn only_admins_administer() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, body) = workspace
        .sara
        .post(
            "/api/v1/agents",
            json!({"name": "X", "email": "x@test.example", "role": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = workspace.sara.post("/api/v1/labels", json!({"name": "nope"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents can't create labels");
    let (status, _) = workspace.lena.post("/api/v1/labels", json!({"name": "lead-made"})).await;
    assert_eq!(status, StatusCode::OK, "leads can");
    let (status, _) = workspace
        .sara
        .post(
            "/api/v1/canned-responses",
            json!({"short_code": "hi", "title": "Hi", "body": "Hi {{contact.name}}"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "team-wide canned responses are for leads");
    let (status, _) = workspace
        .sara
        .post(
            "/api/v1/canned-responses",
            json!({"short_code": "hi", "title": "Hi", "body": "Hi", "personal": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "personal ones are for anyone");
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_deactivated() {
    let server = TestServer::start().await;
    let admin_path = format!("/api/v1/agents/{}", server.admin.agent.id);
    for change in [json!({"active": false}), json!({"role": "agent"})] {
        let (status, body) =
            server.admin.request(reqwest::Method::PATCH, &admin_path, Some(change.clone())).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation")),
            "{change}"
        );
    }
    assert_eq!(server.admin.get("/api/v1/me").await.0, StatusCode::OK, "still signed in");
    // With a second admin, the first may step down.
    server
        .admin
        .ok(
            "/api/v1/agents",
            json!({"name": "Bo", "email": "bo@test.example", "role": "admin", "password": PASSWORD}),
        )
        .await;
    let (status, _) =
        server.admin.request(reqwest::Method::PATCH, &admin_path, Some(json!({"role": "lead"}))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_failed_sign_ins_count_per_forwarded_client() {
    let trusting =
        TestServer::start_with(|config| config.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")])
            .await;
    let untrusting = TestServer::start().await;
    let client = reqwest::Client::new();
    let attempt = |base: String, from: &'static str| {
        let client = client.clone();
        async move {
            client
                .post(format!("{base}/api/v1/auth/login"))
                .header("x-forwarded-for", from)
                .json(&json!({"email": "mallory@test.example", "password": "guess", "device_name": "x"}))
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    for server in [&trusting, &untrusting] {
        for _ in 0..5 {
            assert_eq!(attempt(server.base.clone(), "203.0.113.7").await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attempt(server.base.clone(), "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS);
    }
    // Another client behind the same balancer is not locked out with the first...
    assert_eq!(attempt(trusting.base.clone(), "198.51.100.1").await, StatusCode::UNAUTHORIZED);
    // ...but a header from a peer nobody trusts names nobody: it is the peer's own count.
    assert_eq!(attempt(untrusting.base.clone(), "198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn verify_password_checks_the_callers_password_rate_limited_with_sign_in() {
    let server = TestServer::start().await;
    Workspace::create(&server).await;
    let agent = server.login("sara@test.example").await;
    let right = PASSWORD;
    let (status, _) = agent.post("/api/v1/me/verify-password", json!({"password": right})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the right password");
    let (status, body) = agent.post("/api/v1/me/verify-password", json!({"password": "wrong"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_credentials", "a wrong password is not a revoked token");
    // The token still works: a wrong password at the lock screen doesn't end the session.
    assert_eq!(agent.get("/api/v1/me").await.0, StatusCode::OK);
    let (status, body) = agent.post("/api/v1/me/verify-password", json!({"pass": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a malformed body: {body}");

    // Failures share sign-in's counter: four more make five, then even the right password waits.
    for _ in 0..4 {
        let (status, _) = agent.post("/api/v1/me/verify-password", json!({"password": "wrong"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = agent.post("/api/v1/me/verify-password", json!({"password": right})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": "sara@test.example", "password": right, "device_name": "x"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "sign-in is limited by the same failures");
    server.clock.advance(5 * 60 * 1000);
    let (status, _) = agent.post("/api/v1/me/verify-password", json!({"password": right})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the window slid past the failures");

    // Without a token there is nothing to check against.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/me/verify-password", server.base))
        .json(&json!({"password": right}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
