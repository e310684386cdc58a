//! The triage board and escalation on the client: each column's query is `BoardColumn::of`
//! (every unresolved, unsnoozed conversation in exactly one column), and escalating or claiming
//! from the board goes through the outbox, shown at once offline and committed on reconnect.

use serde_json::json;
use switchboard_core::{
    cache::{
        views::{BoardColumn, ListQuery, Sort, View},
        Cache,
    },
    intents,
};
use switchboard_proto::{escalation::EscalatedBy, *};

use crate::harness::*;

fn listed(cache: &Cache, view: View) -> Vec<Id> {
    let query = ListQuery { view, status: None, sort: Sort::Oldest, offset: 0, limit: 100 };
    cache.list(&query, 0).expect("list").into_iter().map(|row| row.conversation.id).collect()
}

#[test]
fn every_column_is_its_rule_and_the_escalated_view_holds_the_unresolved_escalated_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("cache");
    let (me, inbox, contact) = (Id::new_v4(), Id::new_v4(), Id::new_v4());
    cache.set_identity(me, 0).expect("identity");
    let escalation = json!({"at": 1, "by": {"type": "sla"}, "note": null});
    let mut conversations = Vec::new();
    for (n, status) in ["open", "pending", "snoozed", "resolved"].into_iter().enumerate() {
        for (m, assignee) in [None, Some(me)].into_iter().enumerate() {
            for (k, escalated) in [false, true].into_iter().enumerate() {
                let id = Id::new_v4();
                let at = (n * 4 + m * 2 + k) as i64;
                let data = json!({"id": id, "inbox_id": inbox, "contact_id": contact, "subject": null,
                    "status": status, "snoozed_until": null, "assignee_id": assignee, "team_id": null,
                    "priority": "none", "labels": [], "created_at": 0, "last_activity_at": at,
                    "waiting_since": null, "first_reply_at": null, "last_incoming_at": at, "preview": "",
                    "escalation": if escalated { escalation.clone() } else { serde_json::Value::Null }});
                conversations
                    .push(serde_json::from_value::<Conversation>(data.clone()).expect("conversation"));
                let change = Change {
                    seq: at + 1,
                    entity: EntityKind::Conversation,
                    id,
                    op: ChangeOp::Upsert,
                    data: Some(data),
                };
                cache.apply_page(&[change], at + 1).expect("apply");
            }
        }
    }
    let mut on_board = 0;
    for column in BoardColumn::ALL {
        let expected: Vec<Id> =
            conversations.iter().filter(|c| BoardColumn::of(c) == Some(column)).map(|c| c.id).collect();
        assert!(!expected.is_empty(), "{column:?} has cards in this fixture");
        assert_eq!(listed(&cache, View::Board(column)), expected, "{column:?}");
        assert_eq!(cache.count(&View::Board(column), None).expect("count"), expected.len());
        on_board += expected.len();
    }
    let off_board = conversations.iter().filter(|c| BoardColumn::of(c).is_none()).count();
    assert_eq!(on_board + off_board, conversations.len(), "no card in two columns");
    // Snoozed ones off the board unless escalated; resolved ones never.
    assert_eq!(off_board, 2 + 4);
    let escalated: Vec<Id> = conversations
        .iter()
        .filter(|c| c.escalation.is_some() && c.status != ConversationStatus::Resolved)
        .map(|c| c.id)
        .collect();
    assert_eq!(listed(&cache, View::Escalated), escalated);
    assert_eq!(listed(&cache, View::Board(BoardColumn::Escalated)), escalated);
}

#[tokio::test]
async fn moving_cards_offline_shows_at_once_and_the_server_commits_them_on_reconnect() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let new = server.inbound(&workspace.whatsapp, "c1", "m1", "hello").await.conversation_id;
    let hot = server.inbound(&workspace.whatsapp, "c2", "m2", "this is urgent").await.conversation_id;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    sara.until("bootstrapped", |c| c.conversation(hot).is_some() && c.conversation(new).is_some()).await;
    let cache = &sara.account.cache;
    assert_eq!(listed(cache, View::Board(BoardColumn::New)), vec![new, hot]);

    server.kill().await;
    // New → Assigned is a claim; New → Escalated an escalation; both queued while offline.
    sara.engine().queue(intents::claim(new, sara.me())).expect("queue");
    sara.engine().queue(intents::set_escalated(hot, true, Some("VIP".into()))).expect("queue");
    assert_eq!(listed(cache, View::Board(BoardColumn::Assigned)), vec![new], "shown before the server knows");
    assert_eq!(listed(cache, View::Board(BoardColumn::Escalated)), vec![hot]);
    assert_eq!(listed(cache, View::Board(BoardColumn::New)), Vec::<Id>::new());
    let shown = sara.conversation(hot).expect("hot").escalation.expect("escalated");
    assert_eq!((shown.by, shown.note.as_deref()), (EscalatedBy::Agent { id: sara.me() }, Some("VIP")));

    server.restart().await;
    sara.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    let state = server.state(&server.admin_token).await;
    let stored: Conversation =
        serde_json::from_value(state[&(EntityKind::Conversation, hot)].clone()).expect("conversation");
    let escalation = stored.escalation.expect("the server has the escalation");
    assert_eq!(
        (escalation.by, escalation.note.as_deref()),
        (EscalatedBy::Agent { id: sara.me() }, Some("VIP"))
    );
    assert_eq!(state[&(EntityKind::Conversation, new)]["assignee_id"], json!(sara.me()));
    sara.until("the feed confirms both", |c| {
        c.conversation(hot).is_some_and(|h| h.escalation.is_some())
            && c.conversation(new).is_some_and(|n| n.assignee_id == Some(c.me()))
    })
    .await;

    // Escalated → Assigned clears the escalation (through the outbox again).
    sara.engine().queue(intents::set_escalated(hot, false, None)).expect("queue");
    assert_eq!(listed(cache, View::Board(BoardColumn::Escalated)), Vec::<Id>::new());
    sara.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    let state = server.state(&server.admin_token).await;
    assert_eq!(state[&(EntityKind::Conversation, hot)]["escalation"], json!(null));
}

#[test]
fn agent_queues_count_open_oldest_waiting_and_breaching_soon_per_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("cache");
    let (me, sam, inbox, contact) = (Id::new_v4(), Id::new_v4(), Id::new_v4(), Id::new_v4());
    cache.set_identity(me, 0).expect("identity");
    let policy = Id::new_v4();
    // (assignee, status, waiting since, SLA due)
    let cases = [
        (Some(me), "open", Some(500), Some(1_000)),
        (Some(me), "open", Some(300), Some(9_000)),
        (Some(me), "pending", Some(100), None),
        (Some(me), "resolved", Some(50), None),
        (Some(sam), "open", None, Some(2_000)),
        (None, "open", Some(10), Some(10)),
    ];
    let mut ids = Vec::new();
    for (n, (assignee, status, waiting, due)) in cases.into_iter().enumerate() {
        let id = Id::new_v4();
        ids.push(id);
        let sla = due.map(|due| {
            let mut clock =
                sla::SlaClock::start(sla::SlaMetric::FirstResponse, 1, 60_000, 0, sla::Time::Wall, 80);
            clock.due_at = Some(due);
            sla::ConversationSla {
                policy_id: Some(policy),
                policy_name: "P".into(),
                pinned: false,
                cycle: 1,
                clocks: vec![clock],
            }
        });
        let data = json!({"id": id, "inbox_id": inbox, "contact_id": contact, "subject": null, "status": status,
            "snoozed_until": null, "assignee_id": assignee, "team_id": null, "priority": "none", "labels": [],
            "created_at": 0, "last_activity_at": n, "waiting_since": waiting, "first_reply_at": null,
            "last_incoming_at": n, "preview": "", "sla": sla});
        let change = Change {
            seq: n as i64 + 1,
            entity: EntityKind::Conversation,
            id,
            op: ChangeOp::Upsert,
            data: Some(data),
        };
        cache.apply_page(&[change], n as i64 + 1).expect("apply");
    }
    let queues = cache.agent_queues(5_000).expect("queues");
    let mine = queues.iter().find(|q| q.agent_id == me).expect("mine");
    assert_eq!((mine.open, mine.oldest_waiting_since, mine.breaching_soon), (2, Some(100), 1), "{queues:?}");
    let sams = queues.iter().find(|q| q.agent_id == sam).expect("sam's");
    assert_eq!((sams.open, sams.oldest_waiting_since, sams.breaching_soon), (1, None, 1));
    assert_eq!(queues.len(), 2, "nobody's conversations are nobody's queue");
    assert_eq!(listed(&cache, View::Agent(me)), vec![ids[0], ids[1], ids[2]], "their unresolved ones");
}
