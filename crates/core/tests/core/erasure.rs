//! An erasure on the server reaches a synced desktop: its encrypted cache deletes the contact,
//! the conversation and its messages (and their search entries), and the erased text is then in
//! no page of the cache's files. The files are encrypted, so their raw bytes say nothing either
//! way: "searching the raw files" here means decrypting every page of the database and of its WAL
//! with the account's key, free pages and the FTS index's shadow tables included, exactly as they
//! are on disk, and searching those bytes; and every file under the account's directory (the
//! download cache of attachments, sealed) read raw and, where sealed, opened with the file key.

use std::path::Path;

use aes::cipher::{Array, BlockCipherDecrypt, KeyInit};
use base64::Engine as _;
use hmac::Mac;
use serde_json::json;
use switchboard_core::{
    attachments::AttachmentCache,
    keychain::{cache_key_entry, CacheKey, TokenStore},
    sealed,
};
use switchboard_proto::*;

use crate::harness::*;

const SECRET: &str = "Brontewhistle9021";
/// The text of the erased customer's file (downloaded before the erasure).
const FILE_SECRET: &str = "Quillmarrow4417";

/// SQLCipher 4's page layout: 4096-byte pages ending in 80 reserved bytes (a 16-byte IV, then a
/// 64-byte HMAC); page 1 starts with the file's 16-byte salt, outside the encryption.
const PAGE: usize = 4096;
const RESERVE: usize = 80;
const SALT: usize = 16;

/// One encrypted page, decrypted (AES-256-CBC under the raw key, the page's own IV).
fn decrypt_page(cipher: &aes::Aes256, page: &[u8], first: bool) -> Vec<u8> {
    let start = if first { SALT } else { 0 };
    let mut previous: [u8; 16] = page[PAGE - RESERVE..PAGE - RESERVE + 16].try_into().expect("iv");
    let mut plain = Vec::with_capacity(PAGE);
    for chunk in page[start..PAGE - RESERVE].chunks_exact(16) {
        let encrypted: [u8; 16] = chunk.try_into().expect("block");
        let mut block = Array::from(encrypted);
        cipher.decrypt_block(&mut block);
        plain.extend(block.iter().zip(previous).map(|(byte, iv)| byte ^ iv));
        previous = encrypted;
    }
    plain
}

/// Every page of the database and of its WAL (each frame's page), decrypted.
fn decrypted_pages(path: &Path, key: &[u8; 32]) -> Vec<Vec<u8>> {
    let cipher = aes::Aes256::new(&Array::from(*key));
    let mut pages = Vec::new();
    let database = std::fs::read(path).expect("the cache file");
    assert_eq!(database.len() % PAGE, 0, "whole pages");
    for (index, page) in database.chunks_exact(PAGE).enumerate() {
        let plain = decrypt_page(&cipher, page, index == 0);
        if index == 0 {
            // The decryption is right: the plain SQLite header's page size (bytes 16-17, here at
            // 0-1 after the salt) and reserved bytes per page (byte 20).
            assert_eq!(&plain[..2], &[0x10, 0x00], "page 1 decrypts to a SQLite header");
            assert_eq!(plain[4] as usize, RESERVE);
        }
        pages.push(plain);
    }
    let wal = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
    if wal.len() > 32 {
        for frame in wal[32..].chunks_exact(24 + PAGE) {
            let number = u32::from_be_bytes(frame[..4].try_into().expect("page number"));
            pages.push(decrypt_page(&cipher, &frame[24..], number == 1));
        }
    }
    pages
}

fn found_in(pages: &[Vec<u8>], text: &str) -> usize {
    let needles = [text.to_owned(), text.to_lowercase()];
    pages
        .iter()
        .filter(|page| needles.iter().any(|n| page.windows(n.len()).any(|w| w == n.as_bytes())))
        .count()
}

/// Every file under `dir` (recursively): its path and its bytes as they are on disk, and opened
/// with `key` when it is a sealed file.
fn files_under(dir: &Path, key: &sealed::FileKey) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path, key));
            continue;
        }
        let raw = std::fs::read(&path).expect("read");
        if sealed::is_sealed(&path) {
            files.push((path.clone(), sealed::open(key, &path).expect("a sealed file opens")));
        }
        files.push((path, raw));
    }
    files
}

fn files_holding(files: &[(std::path::PathBuf, Vec<u8>)], needle: &[u8]) -> Vec<std::path::PathBuf> {
    files
        .iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(path, _)| path.clone())
        .collect()
}

/// A customer's message with a file, through the signed API channel.
async fn inbound_with_file(server: &Server, inbox: &CreatedInbox, contact: &str, file: &[u8]) -> Id {
    let payload = json!({
        "contact": {"external_id": contact, "name": format!("Customer {contact}")},
        "message": {
            "external_id": format!("{contact}-file"),
            "body": "here is the scan",
            "attachments": [{
                "file_name": "card-scan.txt",
                "content_type": "text/plain",
                "data_base64": base64::engine::general_purpose::STANDARD.encode(file),
            }],
        },
    })
    .to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(inbox.signing_secret.as_bytes()).expect("key");
    mac.update(payload.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/channels/{}/inbound", server.base, inbox.inbox.id))
        .header("content-type", "application/json")
        .header("x-switchboard-signature", format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
        .body(payload)
        .send()
        .await
        .expect("inbound");
    assert!(response.status().is_success(), "inbound with a file: {}", response.status());
    let result: InboundResult = response.json().await.expect("inbound result");
    result.message_id
}

#[tokio::test]
async fn an_erasure_leaves_nothing_in_any_decrypted_page_of_the_cache() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let first =
        server.inbound(&workspace.whatsapp, "erase-core", "ec1", &format!("card {SECRET} 4111")).await;
    server.inbound(&workspace.whatsapp, "erase-core", "ec2", &format!("address {SECRET} road")).await;
    let file_bytes = format!("scanned card of {FILE_SECRET}").into_bytes();
    let with_file = inbound_with_file(&server, &workspace.whatsapp, "erase-core", &file_bytes).await;
    let kept = server.inbound(&workspace.whatsapp, "keep-core", "kc1", "nothing to erase").await;
    let kept_bytes = b"the kept customer's file".to_vec();
    let kept_file = inbound_with_file(&server, &workspace.whatsapp, "keep-core", &kept_bytes).await;
    let conversation = first.conversation_id;
    sara.until("both conversations are cached", |c| {
        c.account.cache.thread(conversation).expect("thread").len() == 3
            && c.account.cache.thread(kept.conversation_id).expect("thread").len() == 2
    })
    .await;

    // Sara opens both files: they are downloaded into the account's cache, sealed.
    let downloads = AttachmentCache::new(sara.account.attachments_dir(), 1 << 20);
    for (message, bytes) in [(with_file, &file_bytes), (kept_file, &kept_bytes)] {
        let message: Message =
            sara.account.cache.get(EntityKind::Message, message).expect("read").expect("the message");
        let read = downloads
            .read(&sara.account.cache, &sara.account.api, &message.attachments[0], 1)
            .await
            .expect("download");
        assert_eq!(&read, bytes);
    }
    let file_key = sara.account.cache.file_key().expect("an encrypted cache seals its files").clone();
    let files = files_under(&sara.account.dir, &file_key);
    assert_eq!(
        files_holding(&files, FILE_SECRET.as_bytes()).len(),
        1,
        "the downloaded file, opened with the file key, holds the text before (and no raw file does)"
    );
    assert!(!sara.account.cache.search(SECRET, 10).expect("search").messages.is_empty());

    let stored = sara.tokens.load(&cache_key_entry(&sara.account.info.key())).expect("the key");
    let key = CacheKey::from_hex(stored.expose()).expect("key");
    let raw: [u8; 32] = hex::decode(key.to_hex()).expect("hex").try_into().expect("32 bytes");
    let path = sara.account.cache.path().to_owned();
    assert!(found_in(&decrypted_pages(&path, &raw), SECRET) > 0, "the search finds the text before");

    let contact = sara.conversation(conversation).expect("conversation").contact_id;
    let (status, body) = server
        .post(
            &server.admin_token,
            &format!("/api/v1/contacts/{contact}/erase"),
            json!({"confirm": "Customer erase-core"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    sara.until("the erasure reaches the cache", |c| c.conversation(conversation).is_none()).await;

    // Gone from what the app reads, and from the search index.
    assert!(sara.account.cache.thread(conversation).expect("thread").is_empty());
    assert!(sara.account.cache.search(SECRET, 10).expect("search").messages.is_empty());
    assert!(sara.conversation(kept.conversation_id).is_some(), "the other contact's stays");

    // And from every page of the files: the database (secure_delete, FTS5 secure-delete) and the
    // WAL (truncated after the page that deleted it).
    let pages = decrypted_pages(&path, &raw);
    assert_eq!(found_in(&pages, SECRET), 0, "the erased text in a decrypted page");
    assert_eq!(found_in(&pages, "Customer erase-core"), 0, "the erased name in a decrypted page");
    assert!(found_in(&pages, "nothing to erase") > 0, "the kept text is still there to find");

    // And from the download cache: the erased customer's file is gone (the engine deleted it when
    // the erasure arrived), read raw or opened with the file key; the kept customer's stays.
    let files = files_under(&sara.account.dir, &file_key);
    assert_eq!(
        files_holding(&files, FILE_SECRET.as_bytes()),
        Vec::<std::path::PathBuf>::new(),
        "the erased file's text in a file of the account's directory"
    );
    let kept_in = files_holding(&files, &kept_bytes);
    assert!(
        kept_in.iter().any(|path| path.starts_with(sara.account.attachments_dir())),
        "the kept customer's download stays: {kept_in:?}"
    );
}
