//! An erasure on the server reaches a synced desktop: its encrypted cache deletes the contact,
//! the conversation and its messages (and their search entries), and the erased text is then in
//! no page of the cache's files. The files are encrypted, so their raw bytes say nothing either
//! way: "searching the raw files" here means decrypting every page of the database and of its WAL
//! with the account's key, free pages and the FTS index's shadow tables included, exactly as they
//! are on disk, and searching those bytes.

use std::path::Path;

use aes::cipher::{Array, BlockCipherDecrypt, KeyInit};
use serde_json::json;
use switchboard_core::keychain::{cache_key_entry, CacheKey, TokenStore};

use crate::harness::*;

const SECRET: &str = "Brontewhistle9021";

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

#[tokio::test]
async fn an_erasure_leaves_nothing_in_any_decrypted_page_of_the_cache() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let first =
        server.inbound(&workspace.whatsapp, "erase-core", "ec1", &format!("card {SECRET} 4111")).await;
    server.inbound(&workspace.whatsapp, "erase-core", "ec2", &format!("address {SECRET} road")).await;
    let kept = server.inbound(&workspace.whatsapp, "keep-core", "kc1", "nothing to erase").await;
    let conversation = first.conversation_id;
    sara.until("both conversations are cached", |c| {
        c.account.cache.thread(conversation).expect("thread").len() == 2
            && c.conversation(kept.conversation_id).is_some()
    })
    .await;
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
}
