//! Filters that combine, saved views and their live counts, the priority sort, and pinned
//! conversations on top of every list — all on the cache.

use serde_json::{json, Value};
use switchboard_core::cache::{
    views::{ListQuery, Sort, View},
    Cache,
};
use switchboard_proto::views::{AssigneeFilter, ConversationFilter, SlaFilter};
use switchboard_proto::*;

const NOW: Millis = 10_000_000;
const MINUTE: Millis = 60_000;

struct Fixture {
    _dir: tempfile::TempDir,
    cache: Cache,
    seq: std::cell::Cell<i64>,
    me: Id,
    other: Id,
    team: Id,
    whatsapp: Id,
    email: Id,
    contact: Id,
}

/// What one conversation of the fixture is like.
#[derive(Clone)]
struct Like {
    inbox: Id,
    assignee: Option<Id>,
    team: Option<Id>,
    status: &'static str,
    priority: &'static str,
    labels: &'static [&'static str],
    waiting_since: Option<Millis>,
    due_at: Option<Millis>,
    active: Millis,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::open(&dir.path().join("cache.db")).expect("cache");
        let f = Fixture {
            _dir: dir,
            cache,
            seq: std::cell::Cell::new(0),
            me: Id::new_v4(),
            other: Id::new_v4(),
            team: Id::new_v4(),
            whatsapp: Id::new_v4(),
            email: Id::new_v4(),
            contact: Id::new_v4(),
        };
        f.cache.set_identity(f.me, 0).expect("identity");
        let inbox = |id: Id, name: &str, channel: &str| {
            json!({"id": id, "name": name, "channel": channel, "member_agent_ids": [], "member_team_ids": [],
                   "templates": [], "attachment_limit": 1})
        };
        f.put(EntityKind::Inbox, f.whatsapp, inbox(f.whatsapp, "WhatsApp", "whatsapp"));
        f.put(EntityKind::Inbox, f.email, inbox(f.email, "Email", "email"));
        f.put(
            EntityKind::Contact,
            f.contact,
            json!({"id": f.contact, "name": "Dana", "phone": null, "email": null, "identities": [], "created_at": 0}),
        );
        f
    }

    fn put(&self, entity: EntityKind, id: Id, data: Value) {
        self.change(entity, id, ChangeOp::Upsert, Some(data));
    }

    fn change(&self, entity: EntityKind, id: Id, op: ChangeOp, data: Option<Value>) {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        self.cache.apply_page(&[Change { seq, entity, id, op, data }], seq).expect("apply");
    }

    fn base(&self) -> Like {
        Like {
            inbox: self.whatsapp,
            assignee: None,
            team: None,
            status: "open",
            priority: "none",
            labels: &[],
            waiting_since: None,
            due_at: None,
            active: 1_000,
        }
    }

    fn conversation(&self, like: Like) -> Id {
        let id = Id::new_v4();
        let sla = like.due_at.map(|due| {
            json!({"policy_id": null, "policy_name": "Standard", "pinned": false, "cycle": 1, "clocks": [{
                "metric": "first_response", "instance": 1, "target_ms": 1000, "started_at": 0,
                "accumulated_ms": 0, "running_since": 0, "due_at": due, "warn_at": null,
                "status": "running", "warned": false, "breached_at": null, "ended_at": null}]})
        });
        self.put(
            EntityKind::Conversation,
            id,
            json!({"id": id, "inbox_id": like.inbox, "contact_id": self.contact, "subject": null,
                   "status": like.status, "snoozed_until": null, "assignee_id": like.assignee,
                   "team_id": like.team, "priority": like.priority, "labels": like.labels, "created_at": 0,
                   "last_activity_at": like.active, "waiting_since": like.waiting_since,
                   "first_reply_at": null, "last_incoming_at": like.active, "preview": "", "sla": sla}),
        );
        id
    }

    fn pin(&self, id: Id) {
        self.put(EntityKind::Pin, id, json!({"conversation_id": id, "pinned_at": 1}));
    }

    fn list(&self, view: View, sort: Sort, offset: usize, limit: usize) -> Vec<Id> {
        self.cache
            .list(&ListQuery { view, status: None, sort, offset, limit }, NOW)
            .expect("list")
            .into_iter()
            .map(|row| row.conversation.id)
            .collect()
    }

    fn filtered(&self, filter: ConversationFilter) -> Vec<Id> {
        let mut ids = self.list(View::Filter(filter.clone()), Sort::Newest, 0, 100);
        assert_eq!(
            self.cache.count_at(&View::Filter(filter), None, NOW).expect("count"),
            ids.len(),
            "a filter's count is its list's length"
        );
        ids.sort();
        ids
    }
}

fn sorted(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort();
    ids
}

#[test]
fn every_criterion_narrows_and_criteria_combine() {
    let f = Fixture::new();
    let base = f.base();
    let vip_unassigned = f.conversation(Like {
        labels: &["VIP", "New Lead"],
        waiting_since: Some(NOW - 40 * MINUTE),
        ..base.clone()
    });
    let mine_urgent = f.conversation(Like {
        assignee: Some(f.me),
        priority: "urgent",
        labels: &["VIP"],
        due_at: Some(NOW - MINUTE),
        waiting_since: Some(NOW - 5 * MINUTE),
        ..base.clone()
    });
    let others_email = f.conversation(Like {
        inbox: f.email,
        assignee: Some(f.other),
        team: Some(f.team),
        status: "pending",
        priority: "high",
        due_at: Some(NOW + 10 * MINUTE),
        ..base.clone()
    });
    let resolved = f.conversation(Like {
        status: "resolved",
        priority: "low",
        due_at: Some(NOW + 3 * 60 * MINUTE),
        ..base.clone()
    });
    let every = sorted(vec![vip_unassigned, mine_urgent, others_email, resolved]);

    let only = |filter: ConversationFilter| f.filtered(filter);
    assert_eq!(only(ConversationFilter::default()), every, "an empty filter keeps everything");
    assert_eq!(
        only(ConversationFilter { inbox_ids: vec![f.email], ..Default::default() }),
        vec![others_email]
    );
    assert_eq!(
        only(ConversationFilter { labels: vec!["VIP".into()], ..Default::default() }),
        sorted(vec![vip_unassigned, mine_urgent])
    );
    assert_eq!(
        only(ConversationFilter { labels: vec!["New Lead".into(), "nothing".into()], ..Default::default() }),
        vec![vip_unassigned],
        "any listed label"
    );
    assert_eq!(
        only(ConversationFilter { assignees: vec![AssigneeFilter::Me], ..Default::default() }),
        vec![mine_urgent]
    );
    assert_eq!(
        only(ConversationFilter {
            assignees: vec![AssigneeFilter::Unassigned, AssigneeFilter::Agent(f.other)],
            ..Default::default()
        }),
        sorted(vec![vip_unassigned, others_email, resolved])
    );
    assert_eq!(only(ConversationFilter { team_ids: vec![f.team], ..Default::default() }), vec![others_email]);
    assert_eq!(
        only(ConversationFilter { priorities: vec![Priority::Urgent, Priority::Low], ..Default::default() }),
        sorted(vec![mine_urgent, resolved])
    );
    assert_eq!(
        only(ConversationFilter { statuses: vec![ConversationStatus::Pending], ..Default::default() }),
        vec![others_email]
    );
    assert_eq!(
        only(ConversationFilter { channels: vec![Channel::Whatsapp], ..Default::default() }),
        sorted(vec![vip_unassigned, mine_urgent, resolved])
    );
    assert_eq!(
        only(ConversationFilter { sla: vec![SlaFilter::Overdue], ..Default::default() }),
        vec![mine_urgent]
    );
    assert_eq!(
        only(ConversationFilter { sla: vec![SlaFilter::AtRisk], ..Default::default() }),
        vec![others_email]
    );
    assert_eq!(
        only(ConversationFilter { sla: vec![SlaFilter::OnTrack], ..Default::default() }),
        vec![resolved]
    );
    assert_eq!(
        only(ConversationFilter { sla: vec![SlaFilter::None], ..Default::default() }),
        vec![vip_unassigned]
    );
    assert_eq!(
        only(ConversationFilter { waiting_longer_than_secs: Some(30 * 60), ..Default::default() }),
        vec![vip_unassigned],
        "waiting 40 minutes is longer than 30; 5 minutes is not; not waiting never is"
    );

    // Combined: every criterion must hold.
    let combined = ConversationFilter {
        inbox_ids: vec![f.whatsapp],
        labels: vec!["VIP".into()],
        assignees: vec![AssigneeFilter::Unassigned],
        ..Default::default()
    };
    assert_eq!(only(combined.clone()), vec![vip_unassigned]);
    let impossible = ConversationFilter { priorities: vec![Priority::Urgent], ..combined };
    assert!(only(impossible).is_empty(), "urgent AND unassigned AND VIP: nobody");
}

#[test]
fn the_priority_rank_column_agrees_with_every_priority() {
    let f = Fixture::new();
    for priority in Priority::ALL {
        let id = f.conversation(Like { priority: priority.as_str(), ..f.base() });
        assert_eq!(
            f.filtered(ConversationFilter { priorities: vec![*priority], ..Default::default() }),
            vec![id],
            "{priority} is filtered by its rank"
        );
    }
}

#[test]
fn priority_sort_puts_the_most_urgent_first_then_the_longest_waiting() {
    let f = Fixture::new();
    let base = f.base();
    let low_waiting_long = f.conversation(Like { priority: "low", waiting_since: Some(100), ..base.clone() });
    let urgent_recent =
        f.conversation(Like { priority: "urgent", waiting_since: Some(5_000), ..base.clone() });
    let urgent_old = f.conversation(Like { priority: "urgent", waiting_since: Some(1_000), ..base.clone() });
    let urgent_answered = f.conversation(Like { priority: "urgent", waiting_since: None, ..base.clone() });
    let none = f.conversation(Like { waiting_since: Some(50), ..base.clone() });
    let high = f.conversation(Like { priority: "high", ..base.clone() });
    assert_eq!(
        f.list(View::All, Sort::Priority, 0, 50),
        vec![urgent_old, urgent_recent, urgent_answered, high, low_waiting_long, none]
    );
}

#[test]
fn pinned_conversations_stay_on_top_of_every_view_and_sort_and_pages_continue_after_them() {
    let f = Fixture::new();
    let base = f.base();
    let old = f.conversation(Like { active: 100, labels: &["VIP"], waiting_since: Some(10), ..base.clone() });
    let middle = f.conversation(Like { active: 500, labels: &["VIP"], priority: "high", ..base.clone() });
    let pinned = f.conversation(Like { active: 300, labels: &["VIP"], ..base.clone() });
    let recent = f.conversation(Like { active: 900, labels: &["VIP"], priority: "urgent", ..base.clone() });
    f.pin(pinned);
    let vip = ConversationFilter { labels: vec!["VIP".into()], ..Default::default() };
    let saved = Id::new_v4();
    f.put(
        EntityKind::SavedView,
        saved,
        json!({"id": saved, "name": "VIP", "filter": vip, "owner_id": f.me, "team_id": null,
               "created_by": f.me, "created_at": 1}),
    );
    for view in [
        View::All,
        View::Unassigned,
        View::Inbox(f.whatsapp),
        View::Label("VIP".into()),
        View::Filter(vip.clone()),
        View::Saved(saved),
    ] {
        for sort in [Sort::Newest, Sort::Oldest, Sort::WaitingLongest, Sort::BreachingSoon, Sort::Priority] {
            let page = f.list(view.clone(), sort, 0, 50);
            assert_eq!(
                page.first(),
                Some(&pinned),
                "{view:?} sorted {sort:?} starts with the pinned one: {page:?}"
            );
            assert_eq!(page.len(), 4, "{view:?}: each once");
        }
    }
    assert_eq!(f.list(View::All, Sort::Newest, 0, 50), vec![pinned, recent, middle, old]);
    assert_eq!(f.list(View::All, Sort::Oldest, 0, 50), vec![pinned, old, middle, recent]);
    // One row a page: the pinned one, then the others in order, none twice.
    let paged: Vec<Id> = (0..5).flat_map(|offset| f.list(View::All, Sort::Newest, offset, 1)).collect();
    assert_eq!(paged, vec![pinned, recent, middle, old]);
    assert_eq!(f.list(View::All, Sort::Newest, 1, 2), vec![recent, middle]);
    let rows = f
        .cache
        .list(&ListQuery { view: View::All, status: None, sort: Sort::Newest, offset: 0, limit: 2 }, NOW)
        .expect("list");
    assert_eq!((rows[0].pinned, rows[1].pinned), (true, false));
    // Unpinned, it takes its place again.
    f.change(EntityKind::Pin, pinned, ChangeOp::Delete, None);
    assert_eq!(f.list(View::All, Sort::Newest, 0, 50), vec![recent, middle, pinned, old]);
}

#[test]
fn a_saved_view_is_in_the_sidebar_with_a_count_that_follows_the_cache() {
    let f = Fixture::new();
    let base = f.base();
    f.conversation(Like { labels: &["VIP"], ..base.clone() });
    f.conversation(Like { labels: &["VIP"], assignee: Some(f.other), ..base.clone() });
    f.conversation(Like { inbox: f.email, labels: &["VIP"], ..base.clone() });
    let filter = ConversationFilter {
        inbox_ids: vec![f.whatsapp],
        labels: vec!["VIP".into()],
        assignees: vec![AssigneeFilter::Unassigned],
        ..Default::default()
    };
    let (older, newer) = (Id::new_v4(), Id::new_v4());
    let view = |id: Id, name: &str, at: Millis| {
        json!({"id": id, "name": name, "filter": filter, "owner_id": null, "team_id": f.team,
               "created_by": f.other, "created_at": at})
    };
    f.put(EntityKind::SavedView, newer, view(newer, "Second", 20));
    f.put(EntityKind::SavedView, older, view(older, "VIP waiting", 10));
    let count = |id: Id| {
        let counts = f.cache.view_counts_at(Some(ConversationStatus::Open), NOW).expect("counts");
        let position = counts.iter().position(|(view, _)| *view == View::Saved(id));
        position.map(|at| (at, counts[at].1))
    };
    let (first_at, first) = count(older).expect("in the sidebar");
    assert_eq!(first, 1, "only the unassigned VIP on WhatsApp");
    assert_eq!(count(newer).map(|(at, _)| at), Some(first_at + 1), "saved views in creation order");
    assert_eq!(
        f.cache.saved_views().expect("views").iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        vec!["VIP waiting", "Second"]
    );

    // A conversation that newly matches bumps the count; one that stops matching drops it.
    let arrived = f.conversation(Like { labels: &["VIP"], ..base.clone() });
    assert_eq!(count(older).map(|(_, n)| n), Some(2));
    f.put(
        EntityKind::Conversation,
        arrived,
        json!({"id": arrived, "inbox_id": f.whatsapp, "contact_id": f.contact, "subject": null, "status": "open",
               "snoozed_until": null, "assignee_id": f.me, "team_id": null, "priority": "none", "labels": ["VIP"],
               "created_at": 0, "last_activity_at": 2_000, "waiting_since": null, "first_reply_at": null,
               "last_incoming_at": 2_000, "preview": ""}),
    );
    assert_eq!(count(older).map(|(_, n)| n), Some(1), "claimed: no longer unassigned");

    // Deleted through the feed: gone from the sidebar, and its list is empty.
    f.change(EntityKind::SavedView, older, ChangeOp::Delete, None);
    assert_eq!(count(older), None);
    assert!(
        f.list(View::Saved(older), Sort::Newest, 0, 50).is_empty(),
        "a view no longer cached matches nothing"
    );
}
