//! Search answers the same on every backend: Persian and Arabic forms, digits in any script,
//! diacritics, prefixes of the last word, and typed operators taken literally.

use serde_json::{json, Value};
use switchboard_proto::*;

use crate::harness::*;

/// `path?q=query`, the query percent-encoded.
fn with_query(path: &str, query: &str) -> String {
    let mut url = reqwest::Url::parse("http://localhost").expect("base url");
    url.set_path(path);
    url.query_pairs_mut().append_pair("q", query);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The bodies of the messages a search finds.
async fn found(server: &TestServer, query: &str) -> Vec<String> {
    let (status, hits) = server.admin.get(&with_query("/api/v1/search", query)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "searching {query:?}: {hits}");
    hits["messages"]
        .as_array()
        .expect("message hits")
        .iter()
        .map(|h| h["snippet"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The names of the contacts a lookup finds.
async fn contacts(server: &TestServer, query: &str) -> Vec<String> {
    let (status, found) = server.admin.get(&with_query("/api/v1/contacts", query)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "looking up {query:?}: {found}");
    found
        .as_array()
        .expect("contacts")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn message_search_folds_scripts_and_digits_and_takes_input_literally() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    for (i, body) in
        ["سفارش شماره ۱۲۳۴ رسید", "كتاب علي arrived", "Café au lait please", "plain tracking question"]
            .into_iter()
            .enumerate()
    {
        server.inbound(&workspace.whatsapp, &format!("c{i}"), &format!("m{i}"), body).await;
    }

    let cases: &[(&str, &[&str], &str)] = &[
        ("سفارش", &["سفارش شماره 1234 رسید"], "a Persian word"),
        ("1234", &["سفارش شماره 1234 رسید"], "Persian digits found by ASCII ones"),
        ("۱۲", &["سفارش شماره 1234 رسید"], "a prefix in Persian digits"),
        ("کتاب علی", &["کتاب علی arrived"], "Arabic letter forms found by Persian ones"),
        ("cafe", &["Café au lait please"], "Latin diacritics ignored"),
        ("CAFÉ LA", &["Café au lait please"], "case ignored, the last word a prefix"),
        ("plain question", &["plain tracking question"], "every word, in any order"),
        ("plain missing", &[], "every word must match"),
        ("trac", &["plain tracking question"], "the last word is a prefix"),
        ("a & b | !c :*", &[], "tsquery operators are text"),
        ("\"plain\" OR tracking*", &[], "FTS5 syntax is text"),
        ("plain & !tracking", &["plain tracking question"], "a typed negation is text, so both words match"),
        ("'plain' \\", &["plain tracking question"], "quotes and backslashes are text"),
        ("   ", &[], "nothing to search for"),
    ];
    for (query, expected, why) in cases {
        assert_eq!(found(&server, query).await, *expected, "{why}: {query:?}");
    }
}

#[tokio::test]
async fn contact_lookup_matches_fragments_literally() {
    let server = TestServer::start().await;
    for (name, phone, email) in [
        ("Sara 100% Tehrani", "+98 (912) 345-6789", "sara@example.com"),
        ("Omid_Rahimi", "0912 000 1111", "omid@example.com"),
        ("Layla", "", "LAYLA@Example.com"),
    ] {
        let mut contact = json!({"client_id": Id::new_v4(), "name": name, "email": email});
        if !phone.is_empty() {
            contact["phone"] = Value::from(phone);
        }
        server.admin.ok("/api/v1/contacts", contact).await;
    }
    let cases: &[(&str, &[&str], &str)] = &[
        ("100%", &["Sara 100% Tehrani"], "% is a character"),
        ("1_0", &[], "_ is a character"),
        ("d_r", &["Omid_Rahimi"], "an underscore matches itself"),
        ("sara", &["Sara 100% Tehrani"], "case is ignored"),
        ("example.com", &["Layla", "Omid_Rahimi", "Sara 100% Tehrani"], "emails, newest first"),
        ("۳۴۵۶۷۸۹", &["Sara 100% Tehrani"], "phone digits typed in Persian"),
        ("(912) 345", &["Sara 100% Tehrani"], "a phone fragment as typed"),
        ("", &["Layla", "Omid_Rahimi", "Sara 100% Tehrani"], "nothing lists everyone, newest first"),
    ];
    for (query, expected, why) in cases {
        let mut names = contacts(&server, query).await;
        names.retain(|n| !n.starts_with("Customer"));
        assert_eq!(names, *expected, "{why}: {query:?}");
    }
}

/// Found by schemathesis's stateful run: a NUL in `q` was a 500 (and on PostgreSQL, in the
/// contact finder's too).
#[tokio::test]
async fn a_nul_in_a_search_is_refused_not_a_server_error() {
    let server = TestServer::start().await;
    Workspace::create(&server).await;
    let (status, body) = server.admin.get(&with_query("/api/v1/search", "caf\0é")).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    // The contact finder alike, on both backends (PostgreSQL can't take a NUL in text at all).
    let (status, body) = server.admin.get(&with_query("/api/v1/contacts", "caf\0é")).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_query", "{body}");
}
