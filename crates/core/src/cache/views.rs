//! The list queries behind the sidebar views and the conversation list, and the thread.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use switchboard_proto::views::{AssigneeFilter, ConversationFilter, SavedView, SlaFilter, SLA_AT_RISK_MS};
use switchboard_proto::*;

use super::{load_outbox, Cache};
use crate::error::CoreResult;

/// A sidebar view.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum View {
    Mine,
    Unassigned,
    All,
    Mentions,
    Pinned,
    /// Conversations with a live SLA clock that has a due time (paused ones have none).
    BreachingSoon,
    Team(Id),
    Inbox(Id),
    Label(String),
    /// Escalated conversations (by a person, a rule or an SLA step), of any status.
    Escalated,
    /// Open conversations a customer waits on a person in, or nobody has answered yet: the
    /// predicate of `reports/live`'s `unattended` (`proto::reports::is_unattended`; a test holds
    /// them equal), so the lead's figure opens as this list.
    Unattended,
    /// One agent's unresolved conversations (their queue on the workload screen).
    Agent(Id),
    /// A column of the triage board (always of unresolved conversations; the status filter is
    /// the column's own).
    Board(BoardColumn),
    /// A combined filter (the filter bar): every criterion set must hold.
    Filter(ConversationFilter),
    /// A saved view: its filter as the cache holds it (one no longer cached matches nothing).
    Saved(Id),
}

/// The triage board's columns. Every unresolved, unsnoozed conversation is in exactly one:
/// escalated ones in `Escalated` whatever else holds; then pending ones in `Waiting`; then open
/// ones by whether anyone holds them (an unassigned one someone already answered, say handed back
/// to the queue, is `New` again: nobody is on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardColumn {
    New,
    Assigned,
    Waiting,
    Escalated,
}

impl BoardColumn {
    pub const ALL: [BoardColumn; 4] =
        [BoardColumn::New, BoardColumn::Assigned, BoardColumn::Waiting, BoardColumn::Escalated];

    /// The column a conversation is in (`None`: resolved or snoozed, off the board).
    pub fn of(conversation: &Conversation) -> Option<BoardColumn> {
        use ConversationStatus::*;
        match (conversation.status, conversation.escalation.is_some()) {
            (Resolved, _) => None,
            (_, true) => Some(BoardColumn::Escalated),
            (Snoozed, false) => None,
            (Pending, false) => Some(BoardColumn::Waiting),
            (Open, false) if conversation.assignee_id.is_none() => Some(BoardColumn::New),
            (Open, false) => Some(BoardColumn::Assigned),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most recent activity first.
    #[default]
    Newest,
    Oldest,
    /// The customer who has waited longest for a reply first.
    WaitingLongest,
    /// Breaching soon: the SLA clock falling due first comes first (already overdue ones at the
    /// top), conversations without a live clock after them, most recent first.
    BreachingSoon,
    /// The most urgent priority first, then the customer who has waited longest.
    Priority,
}

/// A priority as the cache's `priority_rank` column holds it (migration 8's `CASE`, which a test
/// holds equal): urgent 4, high 3, medium 2, low 1, none 0.
pub fn priority_rank(priority: Priority) -> i64 {
    match priority {
        Priority::Urgent => 4,
        Priority::High => 3,
        Priority::Medium => 2,
        Priority::Low => 1,
        Priority::None => 0,
    }
}

/// One page of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub view: View,
    /// `None`: every status.
    pub status: Option<ConversationStatus>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

/// Whether a free-form reply can go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", content = "until", rename_all = "snake_case")]
pub enum ReplyWindow {
    /// The channel has no window (email, web chat…).
    Always,
    /// Open until this time.
    OpenUntil(Millis),
    /// Closed: only a template message.
    Closed,
}

/// The reply window of a conversation at `now` for a person replying on `inbox`: the reply rules
/// the inbox's connector reports (`Inbox::reply_rules`: 24 hours, or 7 days on a Messenger or
/// Instagram inbox with `HUMAN_AGENT`), else the channel's. No inbox in the cache: no window.
pub fn reply_window(conversation: &Conversation, inbox: Option<&Inbox>, now: Millis) -> ReplyWindow {
    match inbox.and_then(|inbox| conversation.person_reply_closes_at(inbox)) {
        None => ReplyWindow::Always,
        Some(closes) if now < closes => ReplyWindow::OpenUntil(closes),
        Some(_) => ReplyWindow::Closed,
    }
}

/// The SLA clock a row and a thread header count down: the live clock falling due first
/// (`ConversationSla::next_due`), else a paused one (the resolution clock while pending or
/// snoozed), which has no due time until it runs again. `None`: no SLA, or every clock ended.
pub fn sla_countdown(conversation: &Conversation) -> Option<&sla::SlaClock> {
    let sla = conversation.sla.as_ref()?;
    sla.next_due().or_else(|| sla.clocks.iter().find(|clock| clock.status == sla::SlaClockStatus::Paused))
}

/// When the displayed version's next SLA clock falls due (`ConversationSla::next_due`): what
/// `put_row` writes into `conversations.sla_due_at`, the column [`Sort::BreachingSoon`] orders by.
pub(super) fn next_sla_due(displayed: Option<&serde_json::Value>) -> CoreResult<Option<Millis>> {
    match displayed.and_then(|data| data.get("sla")).filter(|sla| !sla.is_null()) {
        Some(sla) => Ok(serde_json::from_value::<sla::ConversationSla>(sla.clone())?
            .next_due()
            .and_then(|clock| clock.due_at)),
        None => Ok(None),
    }
}

/// A conversation list row: the conversation and what the row shows beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    pub conversation: Conversation,
    pub contact_name: String,
    pub inbox_name: String,
    pub channel: Channel,
    pub assignee_name: Option<String>,
    /// A customer message newer than the agent's read marker.
    pub unread: bool,
    pub pinned: bool,
    /// Actions on it wait in the outbox.
    pub pending: bool,
    pub reply_window: ReplyWindow,
}

/// Whether `c` has a customer message newer than the agent's read marker (a list row's `unread`).
const UNREAD: &str = "EXISTS (SELECT 1 FROM messages m
    WHERE m.conversation_id = c.id AND m.kind = 'incoming' AND m.data IS NOT NULL
      AND m.created_at > COALESCE(
          (SELECT mm.created_at FROM read_markers r
           JOIN messages mm ON mm.id = r.data->>'last_read_message_id'
           WHERE r.id = c.id AND r.data IS NOT NULL), -1))";

/// Whether `c` is escalated: the cache's indexed `escalated` column (migration 9: `->>` is NULL for
/// a missing key and for JSON null alike), compared as an equality so the board's index serves it.
const ESCALATED: &str = "c.escalated = 1";
const NOT_ESCALATED: &str = "c.escalated = 0";

/// What the cache says of one agent's unresolved conversations, beside routing's figures on the
/// workload screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentQueue {
    pub agent_id: Id,
    /// Open ones assigned to them.
    pub open: usize,
    /// Since when the customer who has waited longest among them has been waiting.
    pub oldest_waiting_since: Option<Millis>,
    /// How many have an SLA clock falling due before `soon` (overdue ones included).
    pub breaching_soon: usize,
}

/// `?, ?, …` for `n` values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The WHERE clause and parameters of a combined filter (on `conversations c`): each criterion set
/// is one clause, ANDed; within one, any listed value matches. Reads indexed columns and small
/// tables only (`conversation_labels`, `inboxes`), never a conversation's JSON; `now` places the
/// SLA states and the wait.
fn filter_sql(filter: &ConversationFilter, me: Option<Id>, now: Millis) -> (String, Vec<SqlValue>) {
    let text = |id: &Id| SqlValue::Text(id.to_string());
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    if !filter.inbox_ids.is_empty() {
        clauses.push(format!("c.inbox_id IN ({})", placeholders(filter.inbox_ids.len())));
        values.extend(filter.inbox_ids.iter().map(text));
    }
    if !filter.labels.is_empty() {
        clauses.push(format!(
            "c.rowid IN (SELECT conversation_rowid FROM conversation_labels WHERE label IN ({}))",
            placeholders(filter.labels.len())
        ));
        values.extend(filter.labels.iter().map(|label| SqlValue::Text(label.clone())));
    }
    if !filter.assignees.is_empty() {
        let mut any = Vec::new();
        for assignee in &filter.assignees {
            match assignee {
                AssigneeFilter::Unassigned => any.push("c.assignee_id IS NULL"),
                AssigneeFilter::Me => {
                    any.push("c.assignee_id = ?");
                    values.push(SqlValue::Text(me.map(|m| m.to_string()).unwrap_or_default()));
                }
                AssigneeFilter::Agent(id) => {
                    any.push("c.assignee_id = ?");
                    values.push(text(id));
                }
            }
        }
        clauses.push(format!("({})", any.join(" OR ")));
    }
    if !filter.team_ids.is_empty() {
        clauses.push(format!("c.team_id IN ({})", placeholders(filter.team_ids.len())));
        values.extend(filter.team_ids.iter().map(text));
    }
    if !filter.priorities.is_empty() {
        clauses.push(format!("c.priority_rank IN ({})", placeholders(filter.priorities.len())));
        values.extend(filter.priorities.iter().map(|p| SqlValue::Integer(priority_rank(*p))));
    }
    if !filter.statuses.is_empty() {
        clauses.push(format!("c.status IN ({})", placeholders(filter.statuses.len())));
        values.extend(filter.statuses.iter().map(|s| SqlValue::Text(s.as_str().into())));
    }
    if !filter.channels.is_empty() {
        clauses.push(format!(
            "c.inbox_id IN (SELECT i.id FROM inboxes i WHERE i.data->>'channel' IN ({}))",
            placeholders(filter.channels.len())
        ));
        values.extend(filter.channels.iter().map(|c| SqlValue::Text(c.as_str().into())));
    }
    if !filter.sla.is_empty() {
        let soon = now.saturating_add(SLA_AT_RISK_MS);
        let mut any = Vec::new();
        for state in &filter.sla {
            match state {
                SlaFilter::Overdue => {
                    any.push("c.sla_due_at <= ?");
                    values.push(SqlValue::Integer(now));
                }
                SlaFilter::AtRisk => {
                    any.push("(c.sla_due_at > ? AND c.sla_due_at <= ?)");
                    values.extend([SqlValue::Integer(now), SqlValue::Integer(soon)]);
                }
                SlaFilter::OnTrack => {
                    any.push("c.sla_due_at > ?");
                    values.push(SqlValue::Integer(soon));
                }
                SlaFilter::None => any.push("c.sla_due_at IS NULL"),
            }
        }
        clauses.push(format!("({})", any.join(" OR ")));
    }
    if let Some(secs) = filter.waiting_longer_than_secs {
        let since = now.saturating_sub(i64::try_from(secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000));
        clauses.push("c.waiting_since <= ?".into());
        values.push(SqlValue::Integer(since));
    }
    if clauses.is_empty() {
        return ("1".into(), values);
    }
    (clauses.join(" AND "), values)
}

/// The WHERE clause and parameters of a view (on `conversations c`); a saved view's filter is
/// `saved` (`None`: not cached, so nothing matches).
fn view_filter(
    view: &View,
    me: Option<Id>,
    now: Millis,
    saved: Option<&ConversationFilter>,
) -> (String, Vec<SqlValue>) {
    let text = |id: &Id| SqlValue::Text(id.to_string());
    match view {
        View::Filter(filter) => filter_sql(filter, me, now),
        View::Saved(_) => match saved {
            Some(filter) => filter_sql(filter, me, now),
            None => ("0".into(), vec![]),
        },
        View::Mine => {
            ("c.assignee_id = ?".into(), vec![SqlValue::Text(me.map(|m| m.to_string()).unwrap_or_default())])
        }
        View::Unassigned => ("c.assignee_id IS NULL".into(), vec![]),
        View::All => ("1".into(), vec![]),
        View::Mentions => (
            "EXISTS (SELECT 1 FROM mentions m WHERE m.conversation_id = c.id AND m.data IS NOT NULL)".into(),
            vec![],
        ),
        View::Pinned => {
            ("EXISTS (SELECT 1 FROM pins p WHERE p.id = c.id AND p.data IS NOT NULL)".into(), vec![])
        }
        View::BreachingSoon => ("c.sla_due_at IS NOT NULL".into(), vec![]),
        View::Team(id) => ("c.team_id = ?".into(), vec![text(id)]),
        View::Inbox(id) => ("c.inbox_id = ?".into(), vec![text(id)]),
        View::Label(name) => (
            "c.rowid IN (SELECT conversation_rowid FROM conversation_labels WHERE label = ?)".into(),
            vec![SqlValue::Text(name.clone())],
        ),
        View::Escalated => (format!("{ESCALATED} AND c.status != 'resolved'"), vec![]),
        // The SQL twin of `proto::reports::is_unattended`, on migration 14's indexed columns.
        View::Unattended => {
            ("c.status = 'open' AND (c.waiting_since IS NOT NULL OR c.answered = 0)".into(), vec![])
        }
        View::Agent(id) => ("c.assignee_id = ? AND c.status != 'resolved'".into(), vec![text(id)]),
        // The SQL twin of `BoardColumn::of` (a test holds them equal).
        View::Board(column) => (
            match column {
                BoardColumn::New => {
                    format!("{NOT_ESCALATED} AND c.status = 'open' AND c.assignee_id IS NULL")
                }
                BoardColumn::Assigned => {
                    format!("{NOT_ESCALATED} AND c.status = 'open' AND c.assignee_id IS NOT NULL")
                }
                BoardColumn::Waiting => format!("{NOT_ESCALATED} AND c.status = 'pending'"),
                BoardColumn::Escalated => format!("{ESCALATED} AND c.status != 'resolved'"),
            },
            vec![],
        ),
    }
}

/// A list row as read: the conversation's JSON, the contact's name, pinned, unread.
type RawRow = (String, Option<String>, bool, bool);

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn status_filter(status: Option<ConversationStatus>) -> (String, Vec<SqlValue>) {
    match status {
        Some(status) => ("c.status = ?".into(), vec![SqlValue::Text(status.as_str().into())]),
        None => ("1".into(), vec![]),
    }
}

impl Cache {
    /// One page of a view, sorted.
    ///
    /// Pinned conversations of the view come first, whatever the sort (in the sort's order among
    /// themselves), then the rest: the page is a window over that sequence. The pinned ones are
    /// read from the pins (an agent pins few), the rest by the sort's index.
    pub fn list(&self, query: &ListQuery, now: Millis) -> CoreResult<Vec<ConversationRow>> {
        let me = self.me()?;
        let saved = self.saved_filter(&query.view)?;
        let inboxes: HashMap<Id, Inbox> =
            self.all::<Inbox>(EntityKind::Inbox)?.into_iter().map(|i| (i.id, i)).collect();
        let agents: HashMap<Id, Agent> =
            self.all::<Agent>(EntityKind::Agent)?.into_iter().map(|a| (a.id, a)).collect();
        let conn = self.read();
        let pending: HashSet<Id> =
            load_outbox(&conn)?.iter().filter_map(|queued| queued.action.conversation_id()).collect();
        let (view_sql, mut values) = view_filter(&query.view, me, now, saved.as_ref());
        let (status_sql, status_values) = status_filter(query.status);
        values.extend(status_values);
        let order = match query.sort {
            Sort::Newest => "c.last_activity_at DESC, c.id",
            Sort::Oldest => "c.last_activity_at ASC, c.id",
            Sort::WaitingLongest => "c.waiting_since IS NULL, c.waiting_since ASC, c.last_activity_at ASC",
            Sort::BreachingSoon => "c.sla_due_at IS NULL, c.sla_due_at ASC, c.last_activity_at DESC, c.id",
            Sort::Priority => {
                "c.priority_rank DESC, c.waiting_since IS NULL, c.waiting_since ASC, c.last_activity_at ASC, c.id"
            }
        };
        let select = |from: &str, pinned: &str| {
            format!(
                "SELECT c.data, ct.data->>'name', {pinned}, {UNREAD}
                 FROM {from} LEFT JOIN contacts ct ON ct.id = c.contact_id
                 WHERE c.status IS NOT NULL AND ({view_sql}) AND ({status_sql})"
            )
        };
        // The view's pinned conversations: driven from the pins (CROSS JOIN keeps them outer).
        let pinned_sql = format!(
            "{} AND p.data IS NOT NULL ORDER BY {order}",
            select("pins p CROSS JOIN conversations c ON c.id = p.id", "1")
        );
        let mut raw = Vec::new();
        {
            let mut statement = conn.prepare_cached(&pinned_sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(values.iter()), read_row)?;
            for row in rows {
                raw.push(row?);
            }
        }
        let pinned_count = raw.len();
        let mut page: Vec<_> = raw.into_iter().skip(query.offset).take(query.limit).collect();
        if page.len() < query.limit {
            // The page's rows are picked first, by their rowids alone, and only those rows are then
            // read in full: sorting carries every matching row, so the row's JSON, its contact and
            // its unread check would otherwise be computed for all of them, not for one page.
            let rest_sql = format!(
                "SELECT c.rowid FROM conversations c
                 WHERE c.status IS NOT NULL AND ({view_sql}) AND ({status_sql})
                   AND NOT EXISTS (SELECT 1 FROM pins p WHERE p.id = c.id AND p.data IS NOT NULL)
                 ORDER BY {order} LIMIT ? OFFSET ?"
            );
            let mut rest_values = values.clone();
            rest_values.push(SqlValue::Integer((query.limit - page.len()) as i64));
            rest_values.push(SqlValue::Integer(query.offset.saturating_sub(pinned_count) as i64));
            let rowids: Vec<i64> = {
                let mut statement = conn.prepare_cached(&rest_sql)?;
                let rows = statement.query_map(rusqlite::params_from_iter(rest_values), |row| row.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            if !rowids.is_empty() {
                let rows_sql = format!(
                    "SELECT c.rowid, c.data, ct.data->>'name', 0, {UNREAD}
                     FROM conversations c LEFT JOIN contacts ct ON ct.id = c.contact_id
                     WHERE c.rowid IN ({})",
                    placeholders(rowids.len())
                );
                let mut statement = conn.prepare_cached(&rows_sql)?;
                let rows = statement.query_map(rusqlite::params_from_iter(rowids.iter()), |row| {
                    Ok((row.get::<_, i64>(0)?, (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))
                })?;
                let mut by_rowid: HashMap<i64, RawRow> = HashMap::with_capacity(rowids.len());
                for row in rows {
                    let (rowid, raw) = row?;
                    by_rowid.insert(rowid, raw);
                }
                page.extend(rowids.iter().filter_map(|rowid| by_rowid.remove(rowid)));
            }
        }
        let mut out = Vec::new();
        for (data, contact_name, pinned, unread) in page {
            let conversation: Conversation = serde_json::from_str(&data)?;
            let inbox = inboxes.get(&conversation.inbox_id);
            let channel = inbox.map_or(Channel::Api, |i| i.channel);
            out.push(ConversationRow {
                contact_name: contact_name.unwrap_or_default(),
                inbox_name: inbox.map(|i| i.name.clone()).unwrap_or_default(),
                channel,
                assignee_name: conversation
                    .assignee_id
                    .and_then(|id| agents.get(&id))
                    .map(|a| a.name.clone()),
                unread,
                pinned,
                pending: pending.contains(&conversation.id),
                reply_window: reply_window(&conversation, inbox, now),
                conversation,
            });
        }
        Ok(out)
    }

    /// How many conversations a view holds with this status filter, now.
    pub fn count(&self, view: &View, status: Option<ConversationStatus>) -> CoreResult<usize> {
        self.count_at(view, status, crate::clock::system_now())
    }

    /// How many conversations a view holds with this status filter at `now` (a filter's SLA
    /// states and wait are relative to it).
    pub fn count_at(
        &self,
        view: &View,
        status: Option<ConversationStatus>,
        now: Millis,
    ) -> CoreResult<usize> {
        let me = self.me()?;
        let saved = self.saved_filter(view)?;
        let (view_sql, mut values) = view_filter(view, me, now, saved.as_ref());
        let (status_sql, status_values) = status_filter(status);
        values.extend(status_values);
        let conn = self.read();
        // `status IS NOT NULL` says the row is shown (it is generated from `data`) and, unlike
        // `data IS NOT NULL`, is in the indexes: counts never read the rows' JSON.
        let sql = format!(
            "SELECT COUNT(*) FROM conversations c WHERE c.status IS NOT NULL AND ({view_sql}) AND ({status_sql})"
        );
        Ok(conn.query_row(&sql, rusqlite::params_from_iter(values), |row| row.get(0))?)
    }

    /// The saved views the cache holds, oldest first.
    pub fn saved_views(&self) -> CoreResult<Vec<SavedView>> {
        let mut views: Vec<SavedView> = self.all(EntityKind::SavedView)?;
        views.sort_by_key(|view| (view.created_at, view.id));
        Ok(views)
    }

    /// The filter of a saved view (`None` for other views, and for a saved view not cached).
    fn saved_filter(&self, view: &View) -> CoreResult<Option<ConversationFilter>> {
        match view {
            View::Saved(id) => {
                Ok(self.get::<SavedView>(EntityKind::SavedView, *id)?.map(|saved| saved.filter))
            }
            _ => Ok(None),
        }
    }

    /// [`Self::view_counts_at`] now.
    pub fn view_counts(&self, status: Option<ConversationStatus>) -> CoreResult<Vec<(View, usize)>> {
        self.view_counts_at(status, crate::clock::system_now())
    }

    /// Every sidebar view with its count at `now`: Mine, Unassigned, All, Mentions, Pinned,
    /// Breaching soon, Escalated, Unattended, the saved views, then each team, inbox and label.
    pub fn view_counts_at(
        &self,
        status: Option<ConversationStatus>,
        now: Millis,
    ) -> CoreResult<Vec<(View, usize)>> {
        let mut views = vec![
            View::Mine,
            View::Unassigned,
            View::All,
            View::Mentions,
            View::Pinned,
            View::BreachingSoon,
            View::Escalated,
            View::Unattended,
        ];
        views.extend(self.saved_views()?.into_iter().map(|saved| View::Saved(saved.id)));
        views.extend(self.all::<Team>(EntityKind::Team)?.into_iter().map(|t| View::Team(t.id)));
        views.extend(self.all::<Inbox>(EntityKind::Inbox)?.into_iter().map(|i| View::Inbox(i.id)));
        views.extend(self.all::<Label>(EntityKind::Label)?.into_iter().map(|l| View::Label(l.name)));
        views.into_iter().map(|view| Ok((view.clone(), self.count_at(&view, status, now)?))).collect()
    }

    /// Every agent holding an unresolved conversation, with their open count, oldest waiting
    /// customer and how many of theirs fall due before `soon` (one pass over the unresolved rows).
    pub fn agent_queues(&self, soon: Millis) -> CoreResult<Vec<AgentQueue>> {
        let conn = self.read();
        let mut statement = conn.prepare_cached(
            "SELECT c.assignee_id,
                    SUM(c.status = 'open'),
                    MIN(CASE WHEN c.status != 'resolved' THEN c.data->>'waiting_since' END),
                    SUM(c.sla_due_at IS NOT NULL AND c.sla_due_at <= ?1)
             FROM conversations c
             WHERE c.status IS NOT NULL AND c.status != 'resolved' AND c.assignee_id IS NOT NULL
             GROUP BY c.assignee_id ORDER BY c.assignee_id",
        )?;
        let rows = statement.query_map([soon], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (agent, open, oldest, soon) = row?;
            let Ok(agent_id) = agent.parse() else { continue };
            out.push(AgentQueue {
                agent_id,
                open: open as usize,
                oldest_waiting_since: oldest,
                breaching_soon: soon as usize,
            });
        }
        Ok(out)
    }

    /// A conversation's messages, oldest first (optimistic ones included, marked `queued`).
    pub fn thread(&self, conversation_id: Id) -> CoreResult<Vec<Message>> {
        let conn = self.read();
        let mut statement = conn.prepare_cached(
            "SELECT data FROM messages WHERE conversation_id = ?1 AND data IS NOT NULL ORDER BY created_at, rowid",
        )?;
        let rows = statement.query_map([conversation_id.to_string()], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// A contact's conversations across inboxes, most recent first (the contact panel).
    pub fn contact_conversations(&self, contact_id: Id) -> CoreResult<Vec<Conversation>> {
        let conn = self.read();
        let mut statement = conn.prepare_cached(
            "SELECT data FROM conversations WHERE contact_id = ?1 AND data IS NOT NULL ORDER BY last_activity_at DESC",
        )?;
        let rows = statement.query_map([contact_id.to_string()], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }
}
