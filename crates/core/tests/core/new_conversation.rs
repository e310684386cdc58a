//! Starting a conversation through the outbox: a new contact and a template first message queued
//! offline show at once and reach the server once; the contact's open conversation in the inbox,
//! known to the cache or only to the server, is named instead.

use std::time::Duration;

use serde_json::{json, Value};
use switchboard_core::{
    error::CoreError,
    events::{ConnectionState, Event},
    new_conversation::{self, ContactChoice, NewConversation},
};
use switchboard_proto::*;

use crate::harness::*;

fn with_template(inbox_id: Id, contact: ContactChoice, param: &str) -> NewConversation {
    NewConversation {
        inbox_id,
        contact,
        subject: None,
        body: String::new(),
        template: Some(TemplateRef { name: "follow_up".into(), params: vec![param.into()] }),
    }
}

fn queue(client: &Client, new: NewConversation) -> Id {
    let started = new_conversation::start(&client.account.cache, new).expect("a valid new conversation");
    for action in started.actions {
        client.engine().queue(action).expect("queue");
    }
    started.conversation_id
}

/// The server's conversations (as the admin's bootstrap gives them) with the contact's name.
async fn conversations_with(server: &Server, name: &str) -> Vec<(Conversation, Contact)> {
    let state = server.state(&server.admin_token).await;
    let contacts: Vec<Contact> = state
        .iter()
        .filter(|((kind, _), _)| *kind == EntityKind::Contact)
        .map(|(_, data)| serde_json::from_value(data.clone()).expect("contact"))
        .filter(|c: &Contact| c.name == name)
        .collect();
    state
        .iter()
        .filter(|((kind, _), _)| *kind == EntityKind::Conversation)
        .map(|(_, data)| serde_json::from_value::<Conversation>(data.clone()).expect("conversation"))
        .filter_map(|c| contacts.iter().find(|k| k.id == c.contact_id).map(|k| (c, k.clone())))
        .collect()
}

#[tokio::test]
async fn a_conversation_started_offline_with_a_new_contact_is_created_once_back_online() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = workspace.whatsapp.inbox.id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("the inbox is cached", |c| {
        c.account.cache.get::<Inbox>(EntityKind::Inbox, inbox).is_ok_and(|i| i.is_some())
    })
    .await;

    server.kill().await;
    sara.until("offline", |c| c.engine().status().state != ConnectionState::Online).await;
    let new_contact = ContactChoice::New {
        name: "Olga Ionescu".into(),
        phone: Some("+40 721 000 111".into()),
        email: None,
    };
    let id = queue(&sara, with_template(inbox, new_contact, "Olga"));

    // Offline, the list and the picker already have it: the rendered template, assigned to Sara.
    let shown = sara.conversation(id).expect("shown at once");
    assert_eq!((shown.inbox_id, shown.assignee_id), (inbox, Some(sara.me())));
    assert_eq!(shown.preview, "Hi Olga, any news?", "the template as the customer reads it");
    let found = new_conversation::find_contacts(&sara.account.cache, "0721 000", 5).expect("find");
    assert_eq!(found.len(), 1, "the queued contact is found offline by its number");
    assert_eq!(found[0].open_conversations[0].conversation_id, id, "with its open conversation");
    assert_eq!(sara.engine().status().pending, 2, "the contact, then the conversation");
    // A second start with the same person in the same inbox is refused from the cache.
    let again = new_conversation::start(
        &sara.account.cache,
        with_template(inbox, ContactChoice::Existing(found[0].contact.id), "Olga"),
    );
    match again {
        Err(CoreError::Rejected { code: ErrorCode::ConversationExists, conversation_id, .. }) => {
            assert_eq!(conversation_id, Some(id), "names the open one")
        }
        other => panic!("expected conversation_exists, got {other:?}"),
    }

    tokio::time::sleep(Duration::from_millis(200)).await;
    server.restart().await;
    sara.until("the outbox drained", |c| c.account.cache.outbox().expect("outbox").is_empty()).await;
    // Reconnecting again replays nothing: still exactly one.
    sara.engine().reconnect();
    sara.until("online", |c| c.engine().status().state == ConnectionState::Online).await;

    let on_server = conversations_with(&server, "Olga Ionescu").await;
    assert_eq!(on_server.len(), 1, "created exactly once: {on_server:?}");
    let (conversation, contact) = &on_server[0];
    assert_eq!(conversation.id, id, "its id is the client id");
    assert_eq!(contact.phone.as_deref(), Some("+40 721 000 111"));
    let transcript = server.get(&server.admin_token, &format!("/api/v1/conversations/{id}/export")).await;
    let messages: Vec<&Value> = transcript["messages"].as_array().expect("messages").iter().collect();
    assert_eq!(messages.len(), 1, "one first message: {messages:?}");
    assert_eq!(messages[0]["body"], "Hi Olga, any news?");
    assert_eq!(messages[0]["template"], json!({"name": "follow_up", "params": ["Olga"]}));
    assert!(
        !sara.events().iter().any(|e| matches!(e, Event::OutboxRejected { .. })),
        "nothing was refused: {:?}",
        sara.events()
    );
    let cached = sara.conversation(id).expect("the server's copy");
    assert_eq!(cached.preview, "Hi Olga, any news?");
}

#[tokio::test]
async fn an_open_conversation_only_the_server_knew_is_named_and_the_queued_one_rolled_back() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = workspace.whatsapp.inbox.id;
    let contact: Value = server
        .admin_ok(
            "/api/v1/contacts",
            json!({"client_id": Id::new_v4(), "name": "Nadia", "phone": "+98 912 555 0101"}),
        )
        .await;
    let contact_id: Id = serde_json::from_value(contact["contact"]["id"].clone()).expect("id");
    let mut sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("the contact is cached", |c| {
        c.account.cache.get::<Contact>(EntityKind::Contact, contact_id).is_ok_and(|x| x.is_some())
    })
    .await;

    // Sara's app is closed with the start queued; meanwhile a colleague writes to Nadia first.
    sara.engine.take().expect("engine").shutdown().await;
    let started = new_conversation::start(
        &sara.account.cache,
        with_template(inbox, ContactChoice::Existing(contact_id), "Nadia"),
    )
    .expect("nothing in the cache says otherwise");
    for action in &started.actions {
        sara.account.cache.enqueue(action, switchboard_core::clock::system_now()).expect("enqueue");
    }
    let queued = started.conversation_id;
    assert!(sara.conversation(queued).is_some(), "shown while queued");
    let theirs = server
        .admin_ok(
            "/api/v1/conversations",
            json!({"client_id": Id::new_v4(), "inbox_id": inbox, "contact_id": contact_id,
            "template": {"name": "follow_up", "params": ["Nadia"]}}),
        )
        .await;
    let theirs: Id = serde_json::from_value(theirs["conversation"]["id"].clone()).expect("id");

    sara.start();
    sara.until("the outbox settled", |c| c.account.cache.outbox().expect("outbox").is_empty()).await;
    let rejected: Vec<(String, Option<Id>)> = sara
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::OutboxRejected { code, existing_conversation_id, .. } => {
                Some((code, existing_conversation_id))
            }
            _ => None,
        })
        .collect();
    assert_eq!(rejected, [("conversation_exists".to_string(), Some(theirs))], "the open one is named");
    sara.until("rolled back", |c| c.conversation(queued).is_none()).await;
    sara.until("the colleague's arrives", |c| c.conversation(theirs).is_some()).await;
    let open = conversations_with(&server, "Nadia").await;
    assert_eq!(open.len(), 1, "one open conversation per contact per inbox: {open:?}");
}

#[tokio::test]
async fn a_start_the_inbox_cannot_send_is_refused_before_it_is_queued() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let inbox = workspace.whatsapp.inbox.id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("the inbox is cached", |c| {
        c.account.cache.get::<Inbox>(EntityKind::Inbox, inbox).is_ok_and(|i| i.is_some())
    })
    .await;
    let cache = &sara.account.cache;
    let by_email =
        ContactChoice::New { name: "Ema".into(), phone: None, email: Some("ema@example.ro".into()) };
    let by_phone =
        || ContactChoice::New { name: "Olga".into(), phone: Some("+40 721 000 111".into()), email: None };
    let cases = [
        ("no phone for WhatsApp", with_template(inbox, by_email, "x")),
        (
            "free text where a template is needed",
            NewConversation { template: None, body: "Hello".into(), ..with_template(inbox, by_phone(), "x") },
        ),
        ("an empty parameter", with_template(inbox, by_phone(), "  ")),
        (
            "an unknown template",
            NewConversation {
                template: Some(TemplateRef { name: "nope".into(), params: vec![] }),
                ..with_template(inbox, by_phone(), "x")
            },
        ),
        (
            "a nameless contact",
            with_template(
                inbox,
                ContactChoice::New { name: " ".into(), phone: Some("+40 721 000 111".into()), email: None },
                "x",
            ),
        ),
    ];
    for (why, new) in cases {
        match new_conversation::start(cache, new) {
            Err(CoreError::Validation(_)) => {}
            other => panic!("{why}: expected a validation error, got {other:?}"),
        }
    }
    assert_eq!(cache.outbox().expect("outbox").len(), 0, "nothing was queued");
}
