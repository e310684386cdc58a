//! The list queries behind the sidebar: views, status filter, sorts, unread, counts.

use serde_json::json;
use switchboard_core::cache::{
    views::{reply_window, ListQuery, ReplyWindow, Sort, View},
    Cache,
};
use switchboard_proto::*;

struct Fixture {
    _dir: tempfile::TempDir,
    cache: Cache,
    me: Id,
    /// a: mine, open, waiting since 100, active 500, pinned, labelled vip, read
    /// b: unassigned, open, waiting since 50, active 300, mentions me, unread
    /// c: someone else's, pending, not waiting, active 900, team T
    ids: [Id; 3],
    team: Id,
    inbox: Id,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.db")).expect("cache");
    let (me, other, team, inbox, contact) =
        (Id::new_v4(), Id::new_v4(), Id::new_v4(), Id::new_v4(), Id::new_v4());
    cache.set_identity(me, 0).expect("identity");
    let ids = [Id::new_v4(), Id::new_v4(), Id::new_v4()];
    let conversation = |id: Id,
                        assignee: Option<Id>,
                        status: &str,
                        waiting: Option<i64>,
                        active: i64,
                        team: Option<Id>,
                        labels: &[&str]| {
        json!({"id": id, "inbox_id": inbox, "contact_id": contact, "subject": null, "status": status, "snoozed_until": null,
               "assignee_id": assignee, "team_id": team, "priority": "none", "labels": labels, "created_at": 0,
               "last_activity_at": active, "waiting_since": waiting, "first_reply_at": null,
               "last_incoming_at": active, "preview": ""})
    };
    let message = |id: Id, conversation: Id, at: i64| {
        json!({"id": id, "conversation_id": conversation, "kind": "incoming", "body": "hi",
               "sender": {"type": "contact", "id": contact}, "attachments": [], "template": null,
               "delivery": "delivered", "mentions": [], "created_at": at})
    };
    let (read_message, unread_message) = (Id::new_v4(), Id::new_v4());
    let records = vec![
        (
            EntityKind::Inbox,
            inbox,
            json!({"id": inbox, "name": "WhatsApp", "channel": "whatsapp", "webhook_url": null,
            "member_agent_ids": [], "member_team_ids": [], "templates": [], "attachment_limit": 1}),
        ),
        (
            EntityKind::Agent,
            other,
            json!({"id": other, "name": "Other Agent", "email": "o@x.example", "role": "agent",
            "availability": "online", "active": true, "team_ids": []}),
        ),
        (
            EntityKind::Contact,
            contact,
            json!({"id": contact, "name": "Dana", "phone": null, "email": null, "identities": [], "created_at": 0}),
        ),
        (
            EntityKind::Conversation,
            ids[0],
            conversation(ids[0], Some(me), "open", Some(100), 500, None, &["vip"]),
        ),
        (EntityKind::Conversation, ids[1], conversation(ids[1], None, "open", Some(50), 300, None, &[])),
        (
            EntityKind::Conversation,
            ids[2],
            conversation(ids[2], Some(other), "pending", None, 900, Some(team), &[]),
        ),
        (EntityKind::Message, read_message, message(read_message, ids[0], 400)),
        (EntityKind::Message, unread_message, message(unread_message, ids[1], 250)),
        (
            EntityKind::ReadMarker,
            ids[0],
            json!({"conversation_id": ids[0], "last_read_message_id": read_message, "read_at": 450}),
        ),
        (EntityKind::Pin, ids[0], json!({"conversation_id": ids[0], "pinned_at": 1})),
        (
            EntityKind::Mention,
            Id::new_v4(),
            json!({"id": Id::new_v4(), "agent_id": me, "conversation_id": ids[1],
            "message_id": unread_message, "mentioned_by": other, "created_at": 260}),
        ),
    ];
    let changes: Vec<Change> = records
        .into_iter()
        .enumerate()
        .map(|(n, (entity, id, data))| Change {
            seq: n as i64 + 1,
            entity,
            id,
            op: ChangeOp::Upsert,
            data: Some(data),
        })
        .collect();
    cache.apply_page(&changes, changes.len() as i64).expect("apply");
    Fixture { _dir: dir, cache, me, ids, team, inbox }
}

fn ids(fixture: &Fixture, view: View, status: Option<ConversationStatus>, sort: Sort) -> Vec<Id> {
    fixture
        .cache
        .list(&ListQuery { view, status, sort, offset: 0, limit: 50 }, 0)
        .expect("list")
        .into_iter()
        .map(|row| row.conversation.id)
        .collect()
}

#[test]
fn views_filter_and_sort_as_the_sidebar_promises() {
    let f = fixture();
    let [a, b, c] = f.ids;
    // a is pinned: it leads every list, whatever the sort (`filters.rs` tests that fully).
    assert_eq!(ids(&f, View::All, None, Sort::Newest), vec![a, c, b]);
    assert_eq!(ids(&f, View::All, None, Sort::Oldest), vec![a, b, c]);
    assert_eq!(ids(&f, View::All, None, Sort::WaitingLongest), vec![a, b, c], "not waiting sorts last");
    assert_eq!(ids(&f, View::All, Some(ConversationStatus::Open), Sort::Newest), vec![a, b]);
    assert_eq!(ids(&f, View::Mine, None, Sort::Newest), vec![a]);
    assert_eq!(ids(&f, View::Unassigned, None, Sort::Newest), vec![b]);
    assert_eq!(ids(&f, View::Pinned, None, Sort::Newest), vec![a]);
    assert_eq!(ids(&f, View::Mentions, None, Sort::Newest), vec![b]);
    assert_eq!(ids(&f, View::Team(f.team), None, Sort::Newest), vec![c]);
    assert_eq!(ids(&f, View::Inbox(f.inbox), None, Sort::Newest).len(), 3);
    assert_eq!(ids(&f, View::Label("vip".into()), None, Sort::Newest), vec![a]);
    let _ = f.me;
}

#[test]
fn rows_carry_unread_pin_assignee_and_counts() {
    let f = fixture();
    let rows = f
        .cache
        .list(&ListQuery { view: View::All, status: None, sort: Sort::Oldest, offset: 0, limit: 2 }, 0)
        .expect("list");
    assert_eq!(rows.len(), 2, "the limit pages");
    assert_eq!(
        (rows[0].unread, rows[0].pinned),
        (false, true),
        "a (pinned, first): read up to its last message"
    );
    assert_eq!((rows[1].unread, rows[1].pinned), (true, false), "b: newer incoming than any read marker");
    let page2 = f
        .cache
        .list(&ListQuery { view: View::All, status: None, sort: Sort::Oldest, offset: 2, limit: 2 }, 0)
        .expect("list");
    assert_eq!(page2[0].assignee_name.as_deref(), Some("Other Agent"));
    let counts = f.cache.view_counts(Some(ConversationStatus::Open)).expect("counts");
    let count = |view: View| counts.iter().find(|(v, _)| *v == view).map(|(_, n)| *n);
    assert_eq!(count(View::Mine), Some(1));
    assert_eq!(count(View::Unassigned), Some(1));
    assert_eq!(count(View::All), Some(2));
    assert_eq!(count(View::Label("vip".into())), None, "labels the cache doesn't know aren't views");
}

#[test]
fn the_reply_window_state_follows_the_last_customer_message() {
    let f = fixture();
    let conversation: Conversation =
        f.cache.get(EntityKind::Conversation, f.ids[0]).expect("read").expect("exists");
    let inbox = |channel: Channel, reply_rules: Option<ReplyRules>| Inbox {
        id: f.inbox,
        name: "Inbox".into(),
        channel,
        member_agent_ids: vec![],
        member_team_ids: vec![],
        templates: vec![],
        attachment_limit: 0,
        hours: None,
        routing: Default::default(),
        auto_replies: Default::default(),
        visibility: Default::default(),
        exports_need_approval: false,
        reply_rules,
    };
    // No connector's rules on the inbox: the channel's 24 hours.
    let whatsapp = inbox(Channel::Whatsapp, None);
    assert_eq!(
        reply_window(&conversation, Some(&whatsapp), 600),
        ReplyWindow::OpenUntil(500 + REPLY_WINDOW_MS)
    );
    assert_eq!(reply_window(&conversation, Some(&whatsapp), 500 + REPLY_WINDOW_MS), ReplyWindow::Closed);
    assert_eq!(
        reply_window(&conversation, Some(&inbox(Channel::Email, None)), i64::MAX),
        ReplyWindow::Always
    );
    assert_eq!(reply_window(&conversation, None, i64::MAX), ReplyWindow::Always, "an inbox not in the cache");
    // A Messenger inbox whose connector uses HUMAN_AGENT: a person may answer for 7 days.
    let week = 7 * 24 * 60 * 60 * 1000;
    let rules =
        ReplyRules { window_ms: Some(REPLY_WINDOW_MS), person_window_ms: Some(week), templates: false };
    let messenger = inbox(Channel::Facebook, Some(rules));
    assert_eq!(
        reply_window(&conversation, Some(&messenger), 500 + REPLY_WINDOW_MS),
        ReplyWindow::OpenUntil(500 + week)
    );
    assert_eq!(reply_window(&conversation, Some(&messenger), 500 + week), ReplyWindow::Closed);
}
