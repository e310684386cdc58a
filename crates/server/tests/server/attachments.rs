//! Attachments in S3-compatible object storage: uploaded through the API, stored under their
//! sha256 in a bucket, downloaded back byte for byte (through a second node too, on PostgreSQL).
//!
//! Needs an S3 endpoint: `scripts/with-s3.sh` starts moto's server and sets
//! `SWITCHBOARD_TEST_S3_BUCKET` and the `AWS_*` variables. Without it the S3 test says it was
//! skipped and passes.

use reqwest::StatusCode;
use switchboard_proto::*;
use switchboard_server::{Attachments, Backend, ServerConfig};

use crate::harness::*;

async fn upload(session: &Session, conversation: Id, name: &str, bytes: Vec<u8>) -> serde_json::Value {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/octet-stream")
            .expect("mime"),
    );
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/attachments?conversation_id={conversation}", session.base))
        .bearer_auth(&session.token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "upload of {name}: {body}");
    body
}

async fn download(session: &Session, base: &str, id: &str) -> (Option<u64>, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/attachments/{id}"))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::OK, "download of {id} from {base}");
    let length = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse().ok());
    (length, response.bytes().await.expect("bytes").to_vec())
}

/// Bytes that are not all the same, so a misplaced chunk would show.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed).collect()
}

#[tokio::test]
async fn attachments_round_trip_through_s3() {
    let Ok(bucket) = std::env::var("SWITCHBOARD_TEST_S3_BUCKET") else {
        eprintln!(
            "skipping attachments::attachments_round_trip_through_s3: no SWITCHBOARD_TEST_S3_BUCKET \
             (run through scripts/with-s3.sh)"
        );
        return;
    };
    // Each run under its own prefix, so runs sharing a bucket don't see each other's objects.
    let prefix = format!("test-{}", Id::new_v4().simple());
    let s3 = Attachments::S3 { bucket: bucket.clone(), prefix: prefix.clone() };
    let chosen = s3.clone();
    let server = TestServer::start_with(move |config| config.attachments = Some(chosen)).await;
    let workspace = Workspace::create(&server).await;
    let conversation = server.inbound(&workspace.whatsapp, "c1", "m1", "a file for you").await;

    // One small file (a single PUT) and one above 8 MiB (a multipart upload).
    let small = pattern(1000, 1);
    let large = pattern(9 * 1024 * 1024 + 17, 2);
    let mut uploaded = Vec::new();
    for (name, bytes) in [("small.bin", &small), ("large.bin", &large)] {
        let attachment = upload(&server.admin, conversation.conversation_id, name, bytes.clone()).await;
        assert_eq!(attachment["size"], serde_json::json!(bytes.len()), "{attachment}");
        let id = attachment["id"].as_str().expect("attachment id").to_owned();
        let (length, body) = download(&server.admin, &server.base, &id).await;
        assert_eq!(length, Some(bytes.len() as u64), "Content-Length of {name}");
        assert!(body == *bytes, "{name} came back different ({} bytes)", body.len());
        uploaded.push((id, bytes.clone()));
    }
    // The same content again: same key, no error.
    let again = upload(&server.admin, conversation.conversation_id, "again.bin", small.clone()).await;
    let (_, body) = download(&server.admin, &server.base, again["id"].as_str().expect("id")).await;
    assert!(body == small);

    // Nothing under the data directory's default attachments: the blobs are in the bucket.
    let local = server.data_dir.path().join("attachments");
    assert!(!local.exists(), "an S3 store made {}", local.display());

    if matches!(test_config(server.data_dir.path()).backend, Backend::Postgres { .. }) {
        let node = server.second_node(move |config| config.attachments = Some(s3)).await;
        for (id, bytes) in &uploaded {
            let (length, body) = download(&node.admin, &node.base, id).await;
            assert_eq!(length, Some(bytes.len() as u64));
            assert!(body == *bytes, "the second node served different bytes for {id}");
        }
    } else {
        eprintln!("attachments: SQLite, so no second node (run through scripts/with-postgres.sh too)");
    }
}

#[tokio::test]
async fn a_bucket_that_does_not_exist_stops_the_server_at_start() {
    if std::env::var("SWITCHBOARD_TEST_S3_BUCKET").is_err() {
        eprintln!("skipping attachments::a_bucket_that_does_not_exist_stops_the_server_at_start: no S3 (with-s3.sh)");
        return;
    }
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    let missing = format!("no-such-bucket-{}", Id::new_v4().simple());
    config.attachments = Some(Attachments::S3 { bucket: missing.clone(), prefix: "switchboard".into() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let error = switchboard_server::launch(config, listener, shutdown).await.expect_err("a missing bucket");
    let message = format!("{error:#}");
    assert!(message.contains(&missing) && message.contains("can't be listed"), "{message}");
}

#[test]
fn postgres_needs_attachments_named_explicitly() {
    let mut config = ServerConfig::new("/tmp/switchboard-unused");
    assert!(config.check_attachments().is_ok(), "SQLite with the default attachments");
    config.backend = Backend::from_url(Some("postgres://u@localhost/db")).expect("backend");
    let error = config.check_attachments().expect_err("PostgreSQL with node-local attachments").to_string();
    assert!(error.contains("local to this node") && error.contains("--attachments s3://"), "{error}");
    config.attachments = Some(Attachments::parse("file:///shared/attachments").expect("file URL"));
    assert!(config.check_attachments().is_ok(), "an explicit shared directory");
    config.attachments = Some(Attachments::parse("s3://bucket/prefix").expect("s3 URL"));
    assert!(config.check_attachments().is_ok(), "a bucket");
}
