//! Local search over multilingual text: Persian, Arabic, Polish, Romanian, RTL, phone digits.

use serde_json::json;
use switchboard_core::cache::Cache;
use switchboard_proto::*;

fn change(seq: i64, entity: EntityKind, id: Id, data: serde_json::Value) -> Change {
    Change { seq, entity, id, op: ChangeOp::Upsert, data: Some(data) }
}

/// A cache holding one conversation per (contact name, phone, message body).
fn cache_with<S: AsRef<str>>(messages: &[(S, S, S)]) -> (tempfile::TempDir, Cache, Vec<Id>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("cache");
    let inbox = Id::new_v4();
    let mut changes = Vec::new();
    let mut message_ids = Vec::new();
    for (n, (name, phone, body)) in messages.iter().enumerate() {
        let (name, phone, body) = (name.as_ref(), phone.as_ref(), body.as_ref());
        let seq = changes.len() as i64;
        let (contact, conversation, message) = (Id::new_v4(), Id::new_v4(), Id::new_v4());
        changes.push(change(
            seq + 1,
            EntityKind::Contact,
            contact,
            json!({
                "id": contact, "name": name, "phone": phone, "email": null, "identities": [], "created_at": n
            }),
        ));
        changes.push(change(seq + 2, EntityKind::Conversation, conversation, json!({
            "id": conversation, "inbox_id": inbox, "contact_id": contact, "subject": null, "status": "open",
            "snoozed_until": null, "assignee_id": null, "team_id": null, "priority": "none", "labels": [],
            "created_at": n, "last_activity_at": n, "waiting_since": n, "first_reply_at": null,
            "last_incoming_at": n, "preview": body
        })));
        changes.push(change(
            seq + 3,
            EntityKind::Message,
            message,
            json!({
                "id": message, "conversation_id": conversation, "kind": "incoming", "body": body,
                "sender": {"type": "contact", "id": contact}, "attachments": [], "template": null,
                "delivery": "delivered", "mentions": [], "created_at": n
            }),
        ));
        message_ids.push(message);
    }
    let next = changes.len() as i64;
    cache.apply_page(&changes, next).expect("apply");
    (dir, cache, message_ids)
}

fn hits(cache: &Cache, query: &str) -> Vec<Id> {
    cache.search(query, 20).expect("search").messages.into_iter().map(|h| h.message_id).collect()
}

fn contact_names(cache: &Cache, query: &str) -> Vec<String> {
    cache.search(query, 10).expect("search").contacts.into_iter().map(|c| c.name).collect()
}

#[test]
fn persian_arabic_polish_and_romanian_text_is_found() {
    let (_dir, cache, ids) = cache_with(&[
        ("Reza Ahmadi", "+98 912 345 6789", "سلام، سفارش من هنوز نرسیده است"),
        ("Ali Hassan", "+971 50 123 4567", "أين طلبي؟ لم يصل حتى الآن"),
        ("Zofia Nowak", "+48 501 234 567", "Zamówienie nie dotarło, proszę o pomoc"),
        ("Ștefan Țăranu", "+40 701 234 567", "Comanda mea nu a ajuns încă, vă rog să verificați"),
        ("Anna Smith", "+44 7700 900123", "My order has not arrived yet"),
    ]);
    assert_eq!(hits(&cache, "سفارش"), vec![ids[0]], "a Persian word");
    assert_eq!(hits(&cache, "طلبي"), vec![ids[1]], "an Arabic word");
    // Arabic ي typed for a Persian ی (and the reverse) still matches.
    assert_eq!(hits(&cache, "نرسيده"), vec![ids[0]], "Arabic yeh finds Persian yeh");
    assert_eq!(hits(&cache, "Zamówienie"), vec![ids[2]]);
    assert_eq!(hits(&cache, "zamowienie"), vec![ids[2]], "Polish without diacritics");
    assert_eq!(hits(&cache, "încă"), vec![ids[3]]);
    assert_eq!(hits(&cache, "inca"), vec![ids[3]], "Romanian without diacritics");
    assert_eq!(hits(&cache, "verific"), vec![ids[3]], "the last word is a prefix, as people type");
    assert_eq!(hits(&cache, "order arrived"), vec![ids[4]], "every word must occur");
    assert!(hits(&cache, "\"unbalanced").is_empty(), "FTS syntax in the query is literal, not an error");
}

#[test]
fn contacts_are_found_by_name_in_any_script_and_by_phone_fragments() {
    let (_dir, cache, _) = cache_with(&[
        ("رضا احمدی", "+98 912 345 6789", "سلام"),
        ("Ștefan Țăranu", "+40 701 234 567", "Bună ziua"),
        ("Anna Smith", "+44 7700 900123", "Hello"),
    ]);
    let names = |query: &str| contact_names(&cache, query);
    assert_eq!(names("احمدی"), vec!["رضا احمدی"], "an RTL name");
    assert_eq!(names("stefan"), vec!["Ștefan Țăranu"], "without diacritics");
    assert_eq!(names("900123"), vec!["Anna Smith"], "a fragment from the middle of a phone number");
    assert_eq!(names("7700 900"), vec!["Anna Smith"], "a fragment typed with a space");
    assert_eq!(names("۹۱۲ ۳۴۵"), vec!["رضا احمدی"], "Persian digits");
}

#[test]
fn a_very_common_word_returns_the_newest_matches_first() {
    let bodies: Vec<(String, String, String)> = (0..1500)
        .map(|n| (format!("Customer {n}"), String::new(), format!("order number {n} please")))
        .collect();
    let (_dir, cache, ids) = cache_with(&bodies);
    let found = cache.search("order", 10).expect("search").messages;
    assert_eq!(found.len(), 10);
    let window: std::collections::HashSet<Id> =
        ids[ids.len() - switchboard_core::cache::search::CANDIDATE_WINDOW..].iter().copied().collect();
    assert!(found.iter().all(|hit| window.contains(&hit.message_id)), "hits come from the newest window");
    assert!(found[0].snippet.contains("[order]"), "the snippet marks the match: {}", found[0].snippet);
}

#[test]
fn short_prefixes_follow_typing_and_a_lone_letter_is_a_word() {
    let (_dir, cache, ids) = cache_with(&[
        ("رضا احمدی", "", "سفارش من هنوز نرسیده است"),
        ("Marta Nowak", "", "Zamówienie nie dotarło, arrived late"),
        ("Ana Pop", "", "a b c"),
    ]);
    assert_eq!(hits(&cache, "سف"), vec![ids[0]], "a two-letter Persian prefix");
    assert_eq!(hits(&cache, "zam"), vec![ids[1]], "a three-letter prefix");
    assert_eq!(hits(&cache, "zamow"), vec![ids[1]], "a longer prefix");
    assert_eq!(
        hits(&cache, "a"),
        vec![ids[2]],
        "one letter matches the word, not every word starting with it"
    );
    let names = |query: &str| contact_names(&cache, query);
    assert_eq!(names("no"), vec!["Marta Nowak"], "a two-letter prefix of a surname");
    assert_eq!(names("اح"), vec!["رضا احمدی"]);
}

#[test]
fn a_very_common_name_prefix_returns_the_newest_contacts_from_the_window() {
    let rows: Vec<(String, String, String)> =
        (0..600).map(|n| (format!("Maria {n}"), String::new(), format!("hello {n}"))).collect();
    let (_dir, cache, _) = cache_with(&rows);
    let found = cache.search("ma", 10).expect("search").contacts;
    assert_eq!(found.len(), 10);
    let oldest_in_window = 600 - switchboard_core::cache::search::CANDIDATE_WINDOW;
    for contact in &found {
        let n: usize = contact.name["Maria ".len()..].parse().expect("numbered");
        assert!(n >= oldest_in_window, "{} is older than the newest window", contact.name);
    }
}
