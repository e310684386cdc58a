//! Contacts in the client: an edit made offline shows at once and reaches the server once back
//! online; an edit the shared rules refuse never reaches the outbox; custom field definitions
//! arrive through the feed; a merge made elsewhere converges in the cache (the merged contact
//! gone, its conversations the survivor's).

use serde_json::json;
use switchboard_core::{contacts, error::CoreError, events::ConnectionState, outbox::Action};
use switchboard_proto::{
    contacts::{CustomFieldKind, UpdateContact},
    *,
};

use crate::harness::*;

fn cached_contact(client: &Client, id: Id) -> Option<Contact> {
    client.account.cache.get(EntityKind::Contact, id).expect("cache read")
}

#[tokio::test]
async fn an_edit_made_offline_shows_at_once_and_reaches_the_server() {
    let mut server = Server::start().await;
    Workspace::create(&server).await;
    server
        .admin_ok(
            "/api/v1/contact-fields",
            json!({"client_id": Id::new_v4(), "key": "plan", "label": "Plan", "kind": "choice", "options": ["gold", "silver"]}),
        )
        .await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let cache = &sara.account.cache;
    sara.until("the field definition is cached", |c| {
        contacts::custom_fields(&c.account.cache).is_ok_and(|f| f.len() == 1)
    })
    .await;
    assert_eq!(contacts::custom_fields(cache).expect("as set up")[0].kind, CustomFieldKind::Choice);

    // Added from the app: the phone is kept as the server keeps it.
    let added = contacts::add("Olga Ionescu", Some("0040 721 000 111"), None).expect("valid");
    let Action::CreateContact { request } = &added else { panic!("{added:?}") };
    let id = request.client_id;
    assert_eq!(request.phone.as_deref(), Some("+40721000111"));
    sara.engine().queue(added).expect("queue");
    sara.until("the contact reached the server", |c| c.account.cache.outbox().expect("outbox").is_empty())
        .await;
    assert!(matches!(contacts::add(" ", None, None), Err(CoreError::Validation(_))));

    server.kill().await;
    sara.until("offline", |c| c.engine().status().state != ConnectionState::Online).await;
    let update = UpdateContact {
        name: Some("Olga Popescu".into()),
        notes: Some(Some("Prefers mornings".into())),
        fields: [("plan".to_owned(), Some("gold".to_owned()))].into(),
        ..UpdateContact::default()
    };
    sara.engine().queue(contacts::edit(cache, id, update).expect("valid edit")).expect("queue");
    // Shown at once, offline.
    let shown = cached_contact(&sara, id).expect("cached");
    assert_eq!((shown.name.as_str(), shown.fields["plan"].as_str()), ("Olga Popescu", "gold"));
    assert_eq!(
        contacts::profile(cache, id).expect("as set up").expect("profile").contact.notes.as_deref(),
        Some("Prefers mornings")
    );
    // Refused here, by the definitions in the cache, and never queued.
    let bad = UpdateContact {
        fields: [("plan".to_owned(), Some("bronze".to_owned()))].into(),
        ..Default::default()
    };
    match contacts::edit(cache, id, bad) {
        Err(CoreError::Validation(why)) => assert_eq!(why, "Plan must be one of its options"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(sara.engine().status().pending, 1);

    server.restart().await;
    sara.until("the edit was sent", |c| c.account.cache.outbox().expect("outbox").is_empty()).await;
    let state = server.state(&server.admin_token).await;
    let on_server: Contact =
        serde_json::from_value(state[&(EntityKind::Contact, id)].clone()).expect("contact");
    assert_eq!(on_server.name, "Olga Popescu");
    assert_eq!(on_server.fields["plan"], "gold");
    assert_eq!(on_server.notes.as_deref(), Some("Prefers mornings"));
    assert_eq!(cached_contact(&sara, id), Some(on_server));
}

#[tokio::test]
async fn a_merge_made_elsewhere_converges_in_the_cache() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let first = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await;
    let second = server.inbound(&workspace.whatsapp, "c2", "m2", "other phone").await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("both conversations are cached", |c| {
        c.conversation(first.conversation_id).is_some() && c.conversation(second.conversation_id).is_some()
    })
    .await;
    let survivor = sara.conversation(first.conversation_id).expect("as set up").contact_id;
    let other = sara.conversation(second.conversation_id).expect("as set up").contact_id;
    assert!(cached_contact(&sara, other).is_some());

    // An agent may not merge; the refusal answers at once.
    match contacts::merge(&sara.account.api, survivor, other).await {
        Err(CoreError::Rejected { code: ErrorCode::Forbidden, .. }) => {}
        other => panic!("expected forbidden, got {other:?}"),
    }
    server
        .admin_ok(
            &format!("/api/v1/contacts/{survivor}/merge"),
            json!({"client_id": Id::new_v4(), "other_id": other}),
        )
        .await;

    sara.until("the merged contact left the cache", |c| cached_contact(c, other).is_none()).await;
    sara.until("its conversation is the survivor's", |c| {
        c.conversation(second.conversation_id).is_some_and(|conv| conv.contact_id == survivor)
    })
    .await;
    let profile = contacts::profile(&sara.account.cache, survivor).expect("as set up").expect("profile");
    assert_eq!(profile.contact.identities.len(), 2);
    let mut ids: Vec<Id> = profile.conversations.iter().map(|c| c.id).collect();
    ids.sort();
    let mut expected = vec![first.conversation_id, second.conversation_id];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(
        sara.conversation(second.conversation_id).expect("as set up").status,
        ConversationStatus::Resolved
    );
    // Search no longer finds the merged-away contact.
    let found = sara.account.cache.search("Customer c2", 10).expect("search");
    assert!(found.contacts.iter().all(|c| c.id != other), "{:?}", found.contacts);
    assert!(contacts::profile(&sara.account.cache, other).expect("as set up").is_none());
}
