//! Retention and erasure: an admin erases a contact and the erased text is findable nowhere (the
//! API, the feed from 0, the search index; the raw files searched byte by byte: on SQLite the
//! database and its WAL, on PostgreSQL every file of the database and, after README's operator
//! step, the cluster's WAL); a stored file goes only when no other message names it; the feed's tombstones
//! tell every cache; the trail records it without the name. A retention policy deletes or
//! anonymises conversations resolved more than N days ago, on the injected clock.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{privacy::Erasure, *};

use crate::harness::*;

/// A word no other test writes, so finding it anywhere means this test's text is there (on
/// PostgreSQL the WAL is the whole cluster's, shared by every test running at the time).
const SECRET: &str = "Quetzalfjord4417";

/// The retention test's own word, for the same reason.
const RETAINED: &str = "Marrowgate5521";

async fn upload(session: &Session, conversation: Id, name: &str, bytes: Vec<u8>) -> Value {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/attachments?conversation_id={conversation}", session.base))
        .bearer_auth(&session.token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("attachment")
}

async fn reply_with_file(session: &Session, conversation: Id, body: &str, attachment: &Value) {
    let request = json!({"client_id": Id::new_v4(), "kind": "reply", "body": body,
        "attachment_ids": [attachment["id"]]});
    session.ok(&format!("/api/v1/conversations/{conversation}/messages"), request).await;
}

/// Where the text occurs in the SQLite files of the data directory (the database and its WAL),
/// as written, lower-cased (what the search index keeps) or inside JSON; empty on PostgreSQL.
fn raw_hits(server: &TestServer, text: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for name in ["switchboard.db", "switchboard.db-wal"] {
        let Ok(bytes) = std::fs::read(server.data_dir.path().join(name)) else { continue };
        for needle in [text.to_owned(), text.to_lowercase()] {
            if bytes.windows(needle.len()).any(|window| window == needle.as_bytes()) {
                hits.push(format!("{name}: {needle}"));
            }
        }
    }
    hits
}

/// Where the text occurs in this server's PostgreSQL database's files, after a `CHECKPOINT` has
/// written every dirty page out: every file under `base/<oid>/` of the cluster's data directory
/// (heaps, TOAST, indexes, free space and visibility maps), as written and lower-cased, named by
/// the relation whose file it is. With `wal`, the cluster's `pg_wal/` segments too. The tests run
/// as root, so they read the cluster's files whoever owns them.
fn pg_raw_hits(server: &TestServer, text: &str, wal: bool) -> Vec<String> {
    let switchboard_server::Backend::Postgres { url } = test_config(server.data_dir.path()).backend else {
        return Vec::new();
    };
    let (url, text) = (url.expose().to_owned(), text.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client.batch_execute("CHECKPOINT").expect("checkpoint");
        let data: String = client.query_one("SHOW data_directory", &[]).expect("data_directory").get(0);
        let oid: u32 = client
            .query_one("SELECT oid FROM pg_database WHERE datname = current_database()", &[])
            .expect("oid")
            .get(0);
        let data = std::path::PathBuf::from(data);
        let mut dirs = vec![data.join("base").join(oid.to_string())];
        if wal {
            dirs.push(data.join("pg_wal"));
        }
        let mut hits = Vec::new();
        for dir in dirs {
            for entry in std::fs::read_dir(&dir).expect("the database's directory") {
                let path = entry.expect("entry").path();
                let Ok(bytes) = std::fs::read(&path) else { continue };
                let name = path.file_name().expect("name").to_string_lossy().into_owned();
                for needle in [text.clone(), text.to_lowercase()] {
                    if bytes.windows(needle.len()).any(|window| window == needle.as_bytes()) {
                        // `12345`, `12345.1`, `12345_fsm`: the relation's file node first.
                        let node: String = name.chars().take_while(char::is_ascii_digit).collect();
                        let relation = node
                            .parse::<u32>()
                            .ok()
                            .and_then(|node| {
                                client
                                    .query_opt(
                                        "SELECT relname::text FROM pg_class WHERE pg_relation_filenode(oid) = $1",
                                        &[&node],
                                    )
                                    .expect("pg_class")
                            })
                            .map_or_else(|| "?".to_owned(), |row| row.get::<_, String>(0));
                        hits.push(format!("{}/{name} ({relation}): {needle}", dir.display()));
                    }
                }
            }
        }
        hits
    })
    .join()
    .expect("database thread")
}

fn sqlite() -> bool {
    std::env::var("SWITCHBOARD_TEST_DATABASE_URL")
        .map(|url| url.is_empty() || url.starts_with("sqlite"))
        .unwrap_or(true)
}

fn blob_path(server: &TestServer, sha256: &str) -> std::path::PathBuf {
    server.data_dir.path().join("attachments").join(&sha256[..2]).join(sha256)
}

#[tokio::test]
async fn an_erased_contact_is_findable_nowhere() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let admin = &server.admin;
    let sara = &workspace.sara;
    let cursor = sara.sync(0, 1000).await.next;

    // The contact to erase: two messages, a reply with a file only they have, and one with a
    // file another contact's conversation holds too.
    let first =
        server.inbound(&workspace.whatsapp, "erase-me", "e1", &format!("my card is {SECRET} 4111")).await;
    server.inbound(&workspace.whatsapp, "erase-me", "e2", &format!("and my address, {SECRET} street")).await;
    let conversation = first.conversation_id;
    let only_theirs = upload(sara, conversation, &format!("{SECRET}.pdf"), b"only theirs".to_vec()).await;
    reply_with_file(sara, conversation, &format!("got it, {SECRET}"), &only_theirs).await;
    let shared = upload(sara, conversation, "terms.pdf", b"shared terms".to_vec()).await;
    reply_with_file(sara, conversation, "our terms", &shared).await;
    let other = server.inbound(&workspace.whatsapp, "keep-me", "k1", "hello").await;
    let shared_again = upload(sara, other.conversation_id, "terms.pdf", b"shared terms".to_vec()).await;
    reply_with_file(sara, other.conversation_id, "our terms too", &shared_again).await;
    let contact: Conversation = serde_json::from_value(
        apply(&admin.bootstrap().await)[&(EntityKind::Conversation, conversation)].clone(),
    )
    .expect("conversation");
    let contact_id = contact.contact_id;
    let (_, found) = sara.get(&format!("/api/v1/search?q={SECRET}")).await;
    assert!(!found["messages"].as_array().expect("hits").is_empty(), "{found}");
    if sqlite() {
        assert!(!raw_hits(&server, SECRET).is_empty(), "the raw search must find the text before");
    } else {
        let before = pg_raw_hits(&server, SECRET, true);
        for place in ["/base/", "/pg_wal/"] {
            assert!(before.iter().any(|hit| hit.contains(place)), "the raw search must find the text before");
        }
    }
    let unique_sha = only_theirs["sha256"].as_str().expect("sha").to_owned();
    let shared_sha = shared["sha256"].as_str().expect("sha").to_owned();
    assert!(blob_path(&server, &unique_sha).exists());

    // The export, for the data-subject request first (admins only, recorded): the JSON and the files.
    let export_path = format!("/api/v1/contacts/{contact_id}/export");
    assert_eq!(workspace.lena.get(&export_path).await.0, StatusCode::FORBIDDEN);
    let zipped = reqwest::Client::new()
        .get(format!("{}{export_path}", admin.base))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("export");
    assert_eq!(zipped.status(), StatusCode::OK);
    assert_eq!(zipped.headers()["content-type"], "application/zip");
    let bytes = zipped.bytes().await.expect("zip").to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let export: switchboard_proto::privacy::ContactExport =
        serde_json::from_reader(archive.by_name("contact.json").expect("contact.json")).expect("json");
    assert_eq!(export.contact.name, "Customer erase-me");
    assert_eq!(export.conversations.len(), 1);
    assert_eq!(export.conversations[0].messages.len(), 4);
    assert!(export.conversations[0].messages.iter().any(|m| m.body.contains(SECRET)));
    assert_eq!(export.files.len(), 2);
    for (file, content) in export.files.iter().zip([&b"only theirs"[..], &b"shared terms"[..]]) {
        let mut entry = archive.by_name(&file.path).expect("the file is in the zip");
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut read).expect("read");
        assert_eq!(read, content, "{}", file.path);
    }
    let (_, rows) = admin.get("/api/v1/audit?action=export.contact").await;
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");

    // Admins only, recorded; the name typed again.
    let erase = |name: &str| json!({"confirm": name});
    let path = format!("/api/v1/contacts/{contact_id}/erase");
    assert_eq!(workspace.lena.post(&path, erase("Customer erase-me")).await.0, StatusCode::FORBIDDEN);
    let (status, body) = admin.post(&path, erase("Customer someone-else")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = admin.post(&path, erase("Customer erase-me")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let erasure: Erasure = serde_json::from_value(body).expect("erasure");
    assert_eq!(erasure, Erasure { conversations: 1, messages: 4, attachments: 2, files: 1 });

    // Gone from the API, the search index and the feed from 0; the caches got tombstones.
    assert_eq!(admin.get(&format!("/api/v1/contacts/{contact_id}")).await.0, StatusCode::NOT_FOUND);
    let (_, found) = admin.get(&format!("/api/v1/search?q={SECRET}")).await;
    assert_eq!(found["messages"], json!([]), "{found}");
    let everything = serde_json::to_string(&admin.bootstrap().await).expect("json");
    assert!(!everything.contains(SECRET));
    let mut since = cursor;
    let mut tombstones = Vec::new();
    loop {
        let page = sara.sync(since, 1000).await;
        assert!(!serde_json::to_string(&page.changes).expect("json").contains(SECRET));
        tombstones.extend(page.changes.iter().filter(|c| c.op == ChangeOp::Delete).map(|c| (c.entity, c.id)));
        since = page.next;
        if !page.has_more {
            break;
        }
    }
    assert!(tombstones.contains(&(EntityKind::Conversation, conversation)));
    assert!(tombstones.contains(&(EntityKind::Contact, contact_id)));
    assert!(tombstones.contains(&(EntityKind::Message, first.message_id)));

    // The file only they had is deleted; the shared one stays for the other conversation.
    assert!(!blob_path(&server, &unique_sha).exists());
    assert!(blob_path(&server, &shared_sha).exists());

    // The trail has the erasure, by id, without the name; the chain holds.
    let (_, rows) = admin.get("/api/v1/audit?action=contact.erased").await;
    assert_eq!(rows[0]["target_id"], json!(contact_id), "{rows}");
    assert!(!rows.to_string().contains("erase-me"), "{rows}");
    assert_eq!(admin.get("/api/v1/audit/verify").await.1["ok"], json!(true));

    // Not in the raw files: the database (secure_delete, the index's secure-delete) and the WAL
    // (checkpointed and truncated).
    if sqlite() {
        assert_eq!(raw_hits(&server, SECRET), Vec::<String>::new());
        assert_eq!(raw_hits(&server, "erase-me"), Vec::<String>::new());
    } else {
        // PostgreSQL: the touched tables were rewritten (`VACUUM (FULL)`), so no file of the
        // database holds the text: not a heap's free space, not a TOAST table, not the search
        // index's GIN entries (which a plain VACUUM leaves).
        assert_eq!(pg_raw_hits(&server, SECRET, false), Vec::<String>::new());
        assert_eq!(pg_raw_hits(&server, "erase-me", false), Vec::<String>::new());
        // The WAL is the cluster's, the operator's to keep or drop: the server does not touch it.
        // README's step for an operator who must have it gone (segments deleted, not recycled
        // with their old bytes; no archive or slot holding them) does clear it.
        wal_cleared_by_the_operator(&server);
        assert_eq!(pg_raw_hits(&server, SECRET, true), Vec::<String>::new());
        assert_eq!(pg_raw_hits(&server, "erase-me", true), Vec::<String>::new());
    }
}

/// What README tells a PostgreSQL operator to do after an erasure to have the WAL written before
/// it gone from `pg_wal/`: running with `wal_recycle = off` (from the start, as
/// `scripts/with-postgres.sh` runs the cluster: a segment recycled earlier keeps its bytes under a
/// later name), switch to a new segment and checkpoint (as a superuser, as the tests' admin is).
fn wal_cleared_by_the_operator(server: &TestServer) {
    let switchboard_server::Backend::Postgres { url } = test_config(server.data_dir.path()).backend else {
        return;
    };
    let url = url.expose().to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let recycle: String = client.query_one("SHOW wal_recycle", &[]).expect("wal_recycle").get(0);
        assert_eq!(
            recycle, "off",
            "the cluster must run with wal_recycle = off, as scripts/with-postgres.sh does"
        );
        client.batch_execute("SELECT pg_switch_wal(); CHECKPOINT").expect("switch and checkpoint");
    })
    .join()
    .expect("database thread");
}

/// PostgreSQL: a transaction whose snapshot is older than an erasure may still see the erased
/// rows, and `VACUUM (FULL)` copies every row a running transaction may see; so the scrub waits
/// for such transactions to end before it rewrites. Here another session holds a snapshot taken
/// before the erasure until it sees the scrub waiting for it, and the text is in no file after.
#[tokio::test]
async fn an_erasure_waits_for_older_snapshots_before_rewriting() {
    const LINGER: &str = "Vellichorn7730";
    let server = TestServer::start().await;
    let switchboard_server::Backend::Postgres { url } = test_config(server.data_dir.path()).backend else {
        return;
    };
    let workspace = Workspace::create(&server).await;
    let admin = &server.admin;
    let first = server.inbound(&workspace.whatsapp, "lingerer", "l1", &format!("my card is {LINGER}")).await;
    let contact: Conversation = serde_json::from_value(
        apply(&admin.bootstrap().await)[&(EntityKind::Conversation, first.conversation_id)].clone(),
    )
    .expect("conversation");

    let (taken, snapshot_taken) = std::sync::mpsc::channel();
    let url = url.expose().to_owned();
    let holder = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut watcher = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut old = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .expect("begin");
        // The snapshot is taken by the first query, and no table is locked by it.
        old.query_one("SELECT 1", &[]).expect("snapshot");
        taken.send(()).expect("send");
        // Until the scrub is seen asking for older snapshots (a minute at most: without the wait,
        // the erasure returns and the text is found below).
        let mut seen = false;
        for _ in 0..3000 {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE query LIKE '%backend_xmin%' AND pid <> pg_backend_pid()",
                    &[],
                )
                .expect("pg_stat_activity")
                .get(0);
            if waiting > 0 {
                seen = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        old.commit().expect("commit");
        seen
    });
    snapshot_taken.recv().expect("the snapshot");
    let path = format!("/api/v1/contacts/{}/erase", contact.contact_id);
    let (status, body) = admin.post(&path, json!({"confirm": "Customer lingerer"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(pg_raw_hits(&server, LINGER, false), Vec::<String>::new());
    assert!(holder.join().expect("holder"), "the scrub waited for the older snapshot");
}

async fn resolve(session: &Session, conversation: Id) {
    session
        .ok(
            &format!("/api/v1/conversations/{conversation}/status"),
            json!({"client_id": Id::new_v4(), "status": "resolved"}),
        )
        .await;
}

async fn state_of(server: &TestServer) -> std::collections::BTreeMap<(EntityKind, Id), Value> {
    apply(&server.admin.bootstrap().await)
}

/// Waits (on the real timer loop, polling the API) until `done` holds.
async fn until(
    server: &TestServer,
    what: &str,
    done: impl Fn(&std::collections::BTreeMap<(EntityKind, Id), Value>) -> bool,
) {
    for _ in 0..500 {
        if done(&state_of(server).await) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test]
async fn retention_deletes_or_anonymises_what_was_resolved_long_ago() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let admin = &server.admin;
    let whatsapp = workspace.whatsapp.inbox.id;
    let email = workspace.secret.inbox.id;

    let old = server.inbound(&workspace.whatsapp, "old", "o1", &format!("old {RETAINED}")).await;
    let mailed = server.inbound(&workspace.secret, "mailed", "m1", &format!("old mail {RETAINED}")).await;
    // Files on both: one only the old conversation holds, one the open conversation holds too,
    // and one only the anonymised conversation holds.
    let open = server.inbound(&workspace.whatsapp, "open", "p1", "still open").await;
    let only_old = upload(admin, old.conversation_id, "old.pdf", b"only the old one".to_vec()).await;
    reply_with_file(admin, old.conversation_id, "your file", &only_old).await;
    let shared = upload(admin, old.conversation_id, "terms.pdf", b"shared terms".to_vec()).await;
    reply_with_file(admin, old.conversation_id, "the terms", &shared).await;
    let shared_again = upload(admin, open.conversation_id, "terms.pdf", b"shared terms".to_vec()).await;
    reply_with_file(admin, open.conversation_id, "the terms", &shared_again).await;
    let only_mailed =
        upload(admin, mailed.conversation_id, "mail.pdf", b"only the mailed one".to_vec()).await;
    reply_with_file(admin, mailed.conversation_id, "your mail file", &only_mailed).await;
    let sha = |attachment: &Value| attachment["sha256"].as_str().expect("sha").to_owned();
    let (old_sha, shared_sha, mailed_sha) = (sha(&only_old), sha(&shared), sha(&only_mailed));
    for file in [&old_sha, &shared_sha, &mailed_sha] {
        assert!(blob_path(&server, file).exists());
    }
    resolve(admin, old.conversation_id).await;
    resolve(admin, mailed.conversation_id).await;
    server.clock.advance(31 * 86_400_000);
    let recent = server.inbound(&workspace.whatsapp, "recent", "r1", "recent one").await;
    resolve(admin, recent.conversation_id).await;

    // Only leads and admins set a policy; days are checked; the change is audited.
    let path = format!("/api/v1/inboxes/{whatsapp}/retention");
    let policy = json!({"policy": {"days": 30, "action": "delete"}});
    assert_eq!(
        workspace.sara.request(Method::PUT, &path, Some(policy.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    let bad = json!({"policy": {"days": 0, "action": "delete"}});
    assert_eq!(admin.request(Method::PUT, &path, Some(bad)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = workspace.lena.request(Method::PUT, &path, Some(policy.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(admin.get(&path).await.1, policy);
    let anonymise = json!({"policy": {"days": 30, "action": "anonymise"}});
    let mail_path = format!("/api/v1/inboxes/{email}/retention");
    assert_eq!(admin.request(Method::PUT, &mail_path, Some(anonymise)).await.0, StatusCode::OK);
    let (_, rows) = admin.get("/api/v1/audit?action=inbox.retention").await;
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{rows}");

    // The first pass runs at once: the old WhatsApp conversation is deleted, the old email one
    // emptied; the recent and the open ones stay as they were.
    let old_id = old.conversation_id;
    until(&server, "the deletion", |state| !state.contains_key(&(EntityKind::Conversation, old_id))).await;
    let mailed_id = mailed.conversation_id;
    until(&server, "the anonymisation", |state| {
        state.get(&(EntityKind::Conversation, mailed_id)).is_some_and(|c| c["preview"] == json!(""))
    })
    .await;
    let state = state_of(&server).await;
    assert!(!state.contains_key(&(EntityKind::Message, old.message_id)));
    assert_eq!(state[&(EntityKind::Message, mailed.message_id)]["body"], json!(""));
    assert!(state.contains_key(&(EntityKind::Conversation, recent.conversation_id)));
    assert!(state.contains_key(&(EntityKind::Conversation, open.conversation_id)));
    let (_, found) = admin.get(&format!("/api/v1/search?q={RETAINED}")).await;
    assert_eq!(found["messages"], json!([]), "{found}");
    // The files only they held go from the disk (by their own timer, due at once); the one the
    // open conversation holds too stays; the anonymised messages name no file any more.
    for (file, what) in [(&old_sha, "the deleted conversation's file"), (&mailed_sha, "the anonymised one's")]
    {
        for _ in 0..500 {
            if !blob_path(&server, file).exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(!blob_path(&server, file).exists(), "{what} is still on disk");
    }
    assert!(blob_path(&server, &shared_sha).exists(), "a file the open conversation holds stays");
    let mailed_messages: Vec<&Value> = state
        .values()
        .filter(|value| value["conversation_id"] == json!(mailed_id) && value.get("attachments").is_some())
        .collect();
    assert!(mailed_messages.len() >= 2, "the anonymised messages stay");
    assert!(mailed_messages.iter().all(|m| m["attachments"] == json!([])), "{mailed_messages:?}");

    // A day on, the recent one is still within its 30 days; 30 days on, it goes too.
    server.clock.advance(86_400_000);
    let recent_id = recent.conversation_id;
    assert!(state_of(&server).await.contains_key(&(EntityKind::Conversation, recent_id)));
    server.clock.advance(30 * 86_400_000);
    until(&server, "the later deletion", |state| !state.contains_key(&(EntityKind::Conversation, recent_id)))
        .await;
    assert!(state_of(&server).await.contains_key(&(EntityKind::Conversation, open.conversation_id)));

    // Removed: nothing more is deleted.
    assert_eq!(admin.request(Method::PUT, &path, Some(json!({"policy": null}))).await.0, StatusCode::OK);
    assert_eq!(admin.get(&path).await.1, json!({"policy": null}));
}
