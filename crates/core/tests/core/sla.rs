//! SLA clocks on the desktop's side: the due time a row counts down from, the "breaching soon"
//! order (`Sort::BreachingSoon`, kept fast by the cache's `sla_due_at` column), and the server's
//! warning and breach lines ringing the assignee.

use serde_json::json;
use switchboard_core::{
    cache::views::{sla_countdown, ListQuery, Sort, View},
    events::Event,
    intents,
    notify::NotifyReason,
};
use switchboard_proto::{sla::*, *};

use crate::harness::*;

const MIN: Millis = 60_000;

async fn settle(client: &Client, action: switchboard_core::outbox::Action) {
    client.engine().queue(action).expect("queue");
    client.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
}

fn open(client: &Client, sort: Sort) -> Vec<Id> {
    let query =
        ListQuery { view: View::All, status: Some(ConversationStatus::Open), sort, offset: 0, limit: 50 };
    client.account.cache.list(&query, 0).expect("list").into_iter().map(|row| row.conversation.id).collect()
}

fn shown(client: &Client, id: Id) -> Option<SlaClock> {
    let query = ListQuery { view: View::All, status: None, sort: Sort::Newest, offset: 0, limit: 50 };
    let rows = client.account.cache.list(&query, 0).expect("list");
    let row = rows.into_iter().find(|row| row.conversation.id == id).expect("listed");
    sla_countdown(&row.conversation).cloned()
}

fn notices(client: &Client, conversation: Id) -> Vec<String> {
    client
        .events()
        .into_iter()
        .filter_map(|event| match event {
            Event::Notify(n)
                if n.reason == NotifyReason::ServerNotice && n.conversation_id == conversation =>
            {
                Some(n.body)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_due_time_reaches_the_row_sorts_breaching_soon_and_its_warning_and_breach_ring() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let (status, policy) = server
        .post(
            &server.admin_token,
            "/api/v1/sla-policies",
            json!({"name": "First response in 30 min", "first_response_secs": 1800}),
        )
        .await;
    assert_eq!(status, 200, "{policy}");

    let early = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    server.clock.advance(5 * MIN);
    let late = server.inbound(&workspace.whatsapp, "c2", "m2", "hi").await.conversation_id;
    server.clock.advance(MIN);
    let answered = server.inbound(&workspace.whatsapp, "c3", "m3", "hey").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| [early, late, answered].iter().all(|id| c.conversation(*id).is_some()))
        .await;

    // The row counts down the first-response clock: 30 minutes from the customer's message.
    let clock = shown(&sara, early).expect("the row has a clock");
    assert_eq!((clock.metric, clock.status), (SlaMetric::FirstResponse, SlaClockStatus::Running));
    assert_eq!(clock.due_at, Some(clock.started_at + 30 * MIN));
    let late_due = shown(&sara, late).and_then(|clock| clock.due_at).expect("due");
    let due = clock.due_at.expect("due");
    assert!(
        (5 * MIN..6 * MIN).contains(&(late_due - due)),
        "the server's clock moved on 5 min (and a little)"
    );

    // A person's reply meets the first response: no live clock, so it goes below the others.
    settle(&sara, intents::claim(answered, sara.me())).await;
    settle(&sara, intents::send(answered, SendKind::Reply, "On it".into(), vec![], None).expect("send"))
        .await;
    sara.until("the reply met the clock", |c| shown(c, answered).is_none()).await;
    assert_eq!(open(&sara, Sort::Newest)[0], answered, "the reply is the newest activity");
    assert_eq!(open(&sara, Sort::BreachingSoon), vec![early, late, answered], "due first on top");
    let soon = ListQuery {
        view: View::BreachingSoon,
        status: Some(ConversationStatus::Open),
        sort: Sort::BreachingSoon,
        offset: 0,
        limit: 50,
    };
    let listed: Vec<Id> =
        sara.account.cache.list(&soon, 0).expect("list").into_iter().map(|row| row.conversation.id).collect();
    assert_eq!(
        listed,
        vec![early, late],
        "the view holds only conversations with a clock running to a due time"
    );
    assert_eq!(
        sara.account.cache.count(&View::BreachingSoon, Some(ConversationStatus::Open)).expect("count"),
        2
    );

    // Sara owns the early one; the server's warning (at 80 %, 24 min) and breach (30 min) ring her.
    settle(&sara, intents::claim(early, sara.me())).await;
    server.clock.advance(19 * MIN);
    sara.until("the warning rang", |c| !notices(c, early).is_empty()).await;
    assert_eq!(notices(&sara, early), vec!["SLA warning: first response due soon".to_owned()]);
    sara.until("the warning synced", |c| shown(c, early).is_some_and(|clock| clock.warned)).await;
    server.clock.advance(6 * MIN);
    sara.until("the breach rang", |c| notices(c, early).len() == 2).await;
    assert_eq!(notices(&sara, early)[1], "SLA breached: first response is overdue");
    sara.until("the breach synced", |c| {
        shown(c, early).is_some_and(|clock| clock.status == SlaClockStatus::Breached)
    })
    .await;
    assert_eq!(open(&sara, Sort::BreachingSoon), vec![early, late, answered], "a breached one stays on top");
    assert!(notices(&sara, late).is_empty(), "nobody owns the late one: no one is rung for it");
}

fn escalations(client: &Client, conversation: Id) -> Vec<String> {
    client
        .events()
        .into_iter()
        .filter_map(|event| match event {
            Event::Notify(n)
                if n.reason == NotifyReason::SlaEscalation && n.conversation_id == conversation =>
            {
                Some(n.body)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn escalation_steps_for_the_team_leads_ring_the_leads_of_the_conversations_team_once_each() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let support = workspace.whatsapp.inbox.member_team_ids[0];
    server
        .admin_ok(
            "/api/v1/agents",
            json!({"name": "Lena Lead", "email": "lena@test.example", "role": "lead",
            "password": PASSWORD, "team_ids": [support]}),
        )
        .await;
    let (status, policy) = server
        .post(
            &server.admin_token,
            "/api/v1/sla-policies",
            json!({"name": "VIP", "first_response_secs": 1800, "escalations": [
                {"on": "warning", "notify": "team_leads"}, {"on": "breach", "notify": "team_leads"}]}),
        )
        .await;
    assert_eq!(status, 200, "{policy}");
    let lena = Client::sign_in(&server, "lena@test.example").await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let id = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    sara.until("synced", |c| c.conversation(id).is_some()).await;
    settle(&sara, intents::claim(id, sara.me())).await;

    server.clock.advance(25 * MIN);
    lena.until("the warning step rang the lead", |c| !escalations(c, id).is_empty()).await;
    server.clock.advance(6 * MIN);
    lena.until("the breach step rang the lead", |c| escalations(c, id).len() == 2).await;
    assert_eq!(escalations(&lena, id), vec!["SLA warning: first response", "SLA breached: first response"]);
    sara.until("the assignee heard the breach", |c| notices(c, id).len() == 2).await;
    assert!(escalations(&sara, id).is_empty(), "the assignee is not a lead: the lines ring her instead");
}
