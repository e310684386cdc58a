//! Contacts edited (checked fields, a normalised phone, custom fields an admin defines), and
//! merged: identities and conversations move in one transaction, the merged contact becomes a
//! tombstone in the feed, the one-open-conversation-per-inbox rule holds, and an inbound message
//! racing the merge lands on the survivor either way.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_proto::{
    contacts::{ContactPage, CustomField, MergeResult},
    ledger::{ConversationEvent, EventKind},
    *,
};

use crate::harness::*;

async fn patch(session: &Session, id: Id, body: Value) -> (StatusCode, Value) {
    session.request(Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(body)).await
}

async fn conversation(server: &TestServer, id: Id) -> Conversation {
    let state = apply(&server.admin.bootstrap().await);
    serde_json::from_value(state[&(EntityKind::Conversation, id)].clone()).expect("conversation")
}

async fn define_fields(server: &TestServer) {
    for (key, label, kind, options) in [
        ("plan", "Plan", "choice", json!(["gold", "silver"])),
        ("renewal", "Renewal", "date", json!([])),
        ("seats", "Seats", "number", json!([])),
    ] {
        server
            .admin
            .ok(
                "/api/v1/contact-fields",
                json!({"client_id": Id::new_v4(), "key": key, "label": label, "kind": kind, "options": options}),
            )
            .await;
    }
}

#[tokio::test]
async fn an_agent_edits_a_contact_and_every_field_is_checked() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = &workspace.sara;
    define_fields(&server).await;

    // Only an admin defines fields, and a key is unique and well formed.
    let field = json!({"client_id": Id::new_v4(), "key": "vip", "label": "VIP", "kind": "text"});
    assert_eq!(sara.post("/api/v1/contact-fields", field).await.0, StatusCode::FORBIDDEN);
    let again = json!({"client_id": Id::new_v4(), "key": "plan", "label": "Plan 2", "kind": "text"});
    assert_eq!(server.admin.post("/api/v1/contact-fields", again).await.0, StatusCode::CONFLICT);
    for bad in [
        json!({"client_id": Id::new_v4(), "key": "Plan B", "label": "x", "kind": "text"}),
        json!({"client_id": Id::new_v4(), "key": "tier", "label": "Tier", "kind": "choice", "options": []}),
        json!({"client_id": Id::new_v4(), "key": "tier", "label": "Tier", "kind": "text", "options": ["a"]}),
    ] {
        let (status, body) = server.admin.post("/api/v1/contact-fields", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    let id = Id::new_v4();
    sara.ok("/api/v1/contacts", json!({"client_id": id, "name": "Ana Pop"})).await;
    let edit = json!({
        "client_id": Id::new_v4(),
        "name": " Ana Popescu ",
        "phone": "0040 (721) 000-111",
        "email": "ana@example.ro",
        "notes": "Prefers WhatsApp",
        "fields": {"plan": "gold", "renewal": "2027-02-28", "seats": "12"},
    });
    let (status, body) = patch(sara, id, edit.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result: ContactResult = serde_json::from_value(body).expect("result");
    assert_eq!(result.contact.name, "Ana Popescu");
    assert_eq!(result.contact.phone.as_deref(), Some("+40721000111"));
    assert_eq!(result.contact.notes.as_deref(), Some("Prefers WhatsApp"));
    assert_eq!(result.contact.fields["plan"], "gold");
    assert_eq!(result.contact.fields["seats"], "12");
    // The same edit again (a retried request) answers the same.
    let (status, again) = patch(sara, id, edit).await;
    assert_eq!(
        (status, serde_json::from_value::<ContactResult>(again).expect("json")),
        (StatusCode::OK, result.clone())
    );

    for (bad, says) in [
        (json!({"phone": "call me"}), "phone"),
        (json!({"phone": "+1234"}), "5 to 15 digits"),
        (json!({"email": "ana@localhost"}), "email"),
        (json!({"name": "  "}), "name"),
        (json!({"fields": {"plan": "bronze"}}), "Plan must be one of its options"),
        (json!({"fields": {"renewal": "2027-02-30"}}), "Renewal must be a date"),
        (json!({"fields": {"seats": "twelve"}}), "Seats must be a number"),
        (json!({"fields": {"shoe_size": "44"}}), "no contact field named shoe_size"),
    ] {
        let mut body = bad.clone();
        body["client_id"] = json!(Id::new_v4());
        let (status, answer) = patch(sara, id, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{bad}: {answer}");
    }
    // Nothing of a refused edit stuck; null clears a value.
    let cleared = json!({"client_id": Id::new_v4(), "email": null, "fields": {"seats": null}});
    let (status, body) = patch(sara, id, cleared).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = sara.get(&format!("/api/v1/contacts/{id}")).await;
    let page: ContactPage = serde_json::from_value(page).expect("page");
    assert_eq!(page.contact.name, "Ana Popescu");
    assert_eq!(page.contact.email, None);
    assert_eq!(page.contact.fields.keys().collect::<Vec<_>>(), ["plan", "renewal"]);

    // The feed carries the definitions and the edited contact to every client.
    let state = apply(&sara.bootstrap().await);
    let fields: Vec<CustomField> = state
        .iter()
        .filter(|((kind, _), _)| *kind == EntityKind::CustomField)
        .map(|(_, v)| serde_json::from_value(v.clone()).expect("json"))
        .collect();
    assert_eq!(fields.len(), 3);
    let cached: Contact = serde_json::from_value(state[&(EntityKind::Contact, id)].clone()).expect("json");
    assert_eq!(cached, page.contact);
    // Searching by a fragment of the number finds it.
    let (_, found) = sara.get("/api/v1/contacts?q=721000").await;
    assert_eq!(found[0]["id"], json!(id));

    // A contact sara can't see is not there for her.
    let secret = server.inbound(&workspace.secret, "hidden", "h1", "hi").await;
    let hidden = contact_of(&server, secret.conversation_id).await;
    let (status, _) = patch(sara, hidden.id, json!({"client_id": Id::new_v4(), "name": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The contact of a conversation (a channel identity is per inbox: the same external id in two
/// inboxes is two contacts until they are merged).
async fn contact_of(server: &TestServer, conversation_id: Id) -> Contact {
    let id = conversation(server, conversation_id).await.contact_id;
    let (_, page) = server.admin.get(&format!("/api/v1/contacts/{id}")).await;
    serde_json::from_value::<ContactPage>(page).expect("contact page").contact
}

#[tokio::test]
async fn a_merge_moves_identities_and_conversations_and_leaves_a_tombstone() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    let first = server.inbound(&workspace.whatsapp, "c1", "m1", "hello from whatsapp").await;
    let second = server.inbound(&workspace.whatsapp, "c2", "m2", "me again, other phone").await;
    let mail = server.inbound(&workspace.email, "c2", "m3", "and by email").await;
    let survivor = contact_of(&server, first.conversation_id).await;
    let other = contact_of(&server, second.conversation_id).await;
    let by_email = contact_of(&server, mail.conversation_id).await;
    let merge = json!({"client_id": Id::new_v4(), "other_id": other.id});
    let path = format!("/api/v1/contacts/{}/merge", survivor.id);

    // Agents edit; merging is for leads and admins.
    assert_eq!(workspace.sara.post(&path, merge.clone()).await.0, StatusCode::FORBIDDEN);
    let self_merge = json!({"client_id": Id::new_v4(), "other_id": survivor.id});
    assert_eq!(server.admin.post(&path, self_merge).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let result: MergeResult =
        serde_json::from_value(workspace.lena.ok(&path, merge.clone()).await).expect("json");
    assert_eq!(result.moved, vec![second.conversation_id]);
    // Both had an open conversation in the WhatsApp inbox: the survivor's stays open.
    assert_eq!(result.resolved, vec![second.conversation_id]);
    // Retried, the merge answers the same and does nothing more.
    let again: MergeResult = serde_json::from_value(workspace.lena.ok(&path, merge).await).expect("json");
    assert_eq!(again, result);
    // The same customer by email: no open conversation in that inbox yet, so it stays open.
    let merge_mail = json!({"client_id": Id::new_v4(), "other_id": by_email.id});
    let result: MergeResult = serde_json::from_value(server.admin.ok(&path, merge_mail).await).expect("json");
    assert_eq!((result.moved, result.resolved), (vec![mail.conversation_id], vec![]));
    assert_eq!(result.contact.identities.len(), 3);

    assert_eq!(conversation(&server, first.conversation_id).await.status, ConversationStatus::Open);
    let resolved = conversation(&server, second.conversation_id).await;
    assert_eq!((resolved.contact_id, resolved.status), (survivor.id, ConversationStatus::Resolved));
    let by_mail = conversation(&server, mail.conversation_id).await;
    assert_eq!((by_mail.contact_id, by_mail.status), (survivor.id, ConversationStatus::Open));

    // The merged-away number's next message lands on the survivor's open conversation.
    let next = server.inbound(&workspace.whatsapp, "c2", "m4", "still me").await;
    assert_eq!(next.conversation_id, first.conversation_id);
    let next_mail = server.inbound(&workspace.email, "c2", "m5", "by email again").await;
    assert_eq!(next_mail.conversation_id, mail.conversation_id);

    // The feed: a tombstone pointing at the survivor, the conversations re-pointed.
    let state = apply(&workspace.sara.bootstrap().await);
    let tombstone: Contact =
        serde_json::from_value(state[&(EntityKind::Contact, other.id)].clone()).expect("json");
    assert_eq!(tombstone.merged_into, Some(survivor.id));
    assert!(tombstone.identities.is_empty());
    let survivor_now: Contact =
        serde_json::from_value(state[&(EntityKind::Contact, survivor.id)].clone()).expect("json");
    assert_eq!(survivor_now.identities.len(), 3);
    // The merged contacts are gone from lookups and their pages.
    let (status, _) = server.admin.get(&format!("/api/v1/contacts/{}", other.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) = server.admin.get("/api/v1/contacts?q=Customer%20c2").await;
    assert_eq!(found, json!([]));
    let (_, page) = server.admin.get(&format!("/api/v1/contacts/{}", survivor.id)).await;
    let page: ContactPage = serde_json::from_value(page).expect("json");
    assert_eq!(page.conversations.len(), 3);
    // Sara sees the WhatsApp inbox only: the survivor's page shows her those conversations.
    let (_, page) = workspace.sara.get(&format!("/api/v1/contacts/{}", survivor.id)).await;
    let page: ContactPage = serde_json::from_value(page).expect("json");
    assert_eq!(page.conversations.len(), 2);

    // The ledger and the audit trail say what happened.
    let (_, events) =
        server.admin.get(&format!("/api/v1/conversations/{}/events", mail.conversation_id)).await;
    let events: Vec<ConversationEvent> = serde_json::from_value(events).expect("json");
    let moved = events.iter().filter(|e| matches!(e.event, EventKind::Contact { .. })).collect::<Vec<_>>();
    assert_eq!(moved.len(), 1, "one event for one move: {moved:?}");
    assert_eq!(moved[0].event, EventKind::Contact { from: by_email.id, to: survivor.id });
    let (_, trail) = server.admin.get("/api/v1/audit?action=contact.merge").await;
    assert_eq!(trail.as_array().map(Vec::len), Some(2), "{trail}");
    assert_eq!(trail[0]["target_id"], json!(survivor.id));
}

#[tokio::test]
async fn a_merge_racing_an_inbound_message_lands_it_on_the_survivor() {
    let server = TestServer::start().await;
    let workspace = Workspace::create(&server).await;
    for round in 0..6 {
        let (keep, gone) = (format!("k{round}"), format!("g{round}"));
        let kept = server.inbound(&workspace.whatsapp, &keep, &format!("{keep}-1"), "first").await;
        let theirs = server.inbound(&workspace.whatsapp, &gone, &format!("{gone}-1"), "other number").await;
        let survivor = contact_of(&server, kept.conversation_id).await;
        let other = contact_of(&server, theirs.conversation_id).await;
        let path = format!("/api/v1/contacts/{}/merge", survivor.id);
        let merge = server.admin.ok(&path, json!({"client_id": Id::new_v4(), "other_id": other.id}));
        // The merged-away number writes again while the merge commits.
        let racing_id = format!("{gone}-2");
        let racing = server.inbound(&workspace.whatsapp, &gone, &racing_id, "racing");
        let (merged, raced) = tokio::join!(merge, racing);
        let merged: MergeResult = serde_json::from_value(merged).expect("json");
        assert_eq!(merged.resolved, vec![theirs.conversation_id], "round {round}");
        // Whichever committed first, the message ends on the survivor (in the merged
        // conversation, resolved, or in the survivor's open one), and the survivor has one open
        // conversation in the inbox.
        let raced = conversation(&server, raced.conversation_id).await;
        assert_eq!(raced.contact_id, survivor.id, "round {round}");
        let state = apply(&server.admin.bootstrap().await);
        let conversations: Vec<Conversation> = state
            .iter()
            .filter(|((kind, _), _)| *kind == EntityKind::Conversation)
            .map(|(_, v)| serde_json::from_value::<Conversation>(v.clone()).expect("json"))
            .collect();
        let open: Vec<&Conversation> = conversations
            .iter()
            .filter(|c| c.contact_id == survivor.id && c.inbox_id == workspace.whatsapp.inbox.id)
            .filter(|c| c.status != ConversationStatus::Resolved)
            .collect();
        assert_eq!(open.len(), 1, "round {round}: {open:?}");
        assert_eq!(open[0].id, kept.conversation_id, "round {round}");
        assert!(conversations.iter().all(|c| c.contact_id != other.id), "round {round}");
        // And the next one, surely after, too.
        let after = server.inbound(&workspace.whatsapp, &gone, &format!("{gone}-3"), "after").await;
        assert_eq!(after.conversation_id, kept.conversation_id, "round {round}");
    }
}
