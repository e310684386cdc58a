//! Bad input always gets a 4xx JSON error and writes nothing.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_proto::*;

use crate::harness::*;

#[tokio::test]
async fn malformed_requests_get_json_errors_and_write_nothing() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "hi").await.conversation_id;
    let messages = format!("/api/v1/conversations/{conversation}/messages");
    let assign = format!("/api/v1/conversations/{conversation}/assign");
    let client_id = Id::new_v4();
    // (case, path, body, content type, expected status, expected code)
    type Case = (&'static str, String, Vec<u8>, &'static str, StatusCode, &'static str);
    let cases: Vec<Case> = vec![
        (
            "malformed json",
            messages.clone(),
            b"{\"client_id\": ".to_vec(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "bad utf-8",
            messages.clone(),
            b"{\"client_id\":\"\xff\xfe\"}".to_vec(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "unknown field",
            messages.clone(),
            json!({"client_id": client_id, "kind": "reply", "body": "x", "bodyy": "typo"})
                .to_string()
                .into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "wrong enum",
            messages.clone(),
            json!({"client_id": client_id, "kind": "shout", "body": "x"}).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "missing field",
            assign.clone(),
            json!({"assignee_id": null}).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "not a uuid",
            assign.clone(),
            json!({"client_id": "nope", "assignee_id": null}).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "wrong content type",
            messages.clone(),
            json!({"client_id": client_id, "kind": "reply", "body": "x"}).to_string().into_bytes(),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "unknown conversation",
            format!("/api/v1/conversations/{}/messages", Id::new_v4()),
            json!({"client_id": client_id, "kind": "reply", "body": "x"}).to_string().into_bytes(),
            "application/json",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "bad path id",
            "/api/v1/conversations/123/messages".into(),
            json!({"client_id": client_id, "kind": "reply", "body": "x"}).to_string().into_bytes(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "unknown assignee",
            assign.clone(),
            json!({"client_id": client_id, "assignee_id": Id::new_v4()}).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "empty reply",
            messages.clone(),
            json!({"client_id": client_id, "kind": "reply", "body": "   "}).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "body too long",
            messages.clone(),
            json!({"client_id": client_id, "kind": "reply", "body": "x".repeat(70_000)})
                .to_string()
                .into_bytes(),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "oversized request",
            messages.clone(),
            vec![b' '; 49 * 1024 * 1024],
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "unknown attachment",
            messages.clone(),
            json!({"client_id": client_id, "kind": "reply", "body": "x", "attachment_ids": [Id::new_v4()]})
                .to_string()
                .into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "no such endpoint",
            "/api/v1/nothing-here".into(),
            b"{}".to_vec(),
            "application/json",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    let client = reqwest::Client::new();
    let head = server.head().await;
    for (name, path, body, content_type, status, code) in cases {
        let response = client
            .post(format!("{}{path}", server.base))
            .bearer_auth(&workspace.sara.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), status, "{name}");
        let body: serde_json::Value =
            response.json().await.unwrap_or_else(|e| panic!("{name}: error body is not JSON: {e}"));
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
        assert!(
            body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}: a message for people"
        );
    }
    assert_eq!(server.head().await, head, "nothing was written by any bad request");

    let (status, body) = workspace.sara.request(reqwest::Method::PUT, "/api/v1/sync", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn admin_input_is_validated() {
    let server = TestServer::start().await;
    let cases = [
        (
            "/api/v1/agents",
            json!({"name": "", "email": "a@b.example", "role": "agent", "password": PASSWORD}),
        ),
        (
            "/api/v1/agents",
            json!({"name": "A", "email": "not-an-email", "role": "agent", "password": PASSWORD}),
        ),
        (
            "/api/v1/agents",
            json!({"name": "A", "email": "a@b.example", "role": "agent", "password": "short"}),
        ),
        (
            "/api/v1/agents",
            json!({"name": "A", "email": "a@b.example", "role": "agent", "password": PASSWORD, "team_ids": [Id::new_v4()]}),
        ),
        ("/api/v1/inboxes", json!({"name": "X", "channel": "whatsapp", "webhook_url": "ftp://nope"})),
        ("/api/v1/inboxes", json!({"name": "X", "channel": "whatsapp", "member_agent_ids": [Id::new_v4()]})),
        ("/api/v1/labels", json!({"name": "two\nlines"})),
        ("/api/v1/labels", json!({"name": "ok", "color": "red"})),
        ("/api/v1/canned-responses", json!({"short_code": "bad code!", "title": "t", "body": "b"})),
        ("/api/v1/contacts", json!({"client_id": Id::new_v4(), "name": "N", "phone": "call me"})),
    ];
    let head = server.head().await;
    for (path, body) in cases {
        let (status, response) = server.admin.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {response}");
        assert_eq!(response["error"]["code"], "validation");
    }
    assert_eq!(server.head().await, head);
    server
        .admin
        .ok(
            "/api/v1/agents",
            json!({"name": "A", "email": "dup@b.example", "role": "agent", "password": PASSWORD}),
        )
        .await;
    let (status, body) = server
        .admin
        .post(
            "/api/v1/agents",
            json!({"name": "B", "email": "DUP@b.example", "role": "agent", "password": PASSWORD}),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_exists")));
}
