//! The priority bootstrap in the cache: the snapshot's first part (what the inbox list's first
//! pages show) stored with the cursor S and the backfill's state in one transaction, its rest
//! filled in right after, the history filled in behind it, and a thread's history fetched on
//! demand.
//!
//! The rule that keeps it correct (ARCHITECTURE.md, "Priority bootstrap"): every backfilled or
//! on-demand change is the entity's version at S or later, and the live feed carries every change
//! after S. So a fill never overwrites: a row the cache holds a server version of is at least as
//! new, and a row the live feed deleted while the history was arriving (`backfill_gone`) stays
//! deleted. The backfill's position moves in the transaction that applies its page, so an
//! interrupted backfill resumes where it stopped; pages applied twice change nothing.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use switchboard_proto::*;

use super::{existing_row, load_outbox, parse_id, put_row, rebase, Applied, Cache};
use crate::error::CoreResult;

/// Where the backfill stands: below `upto` (the snapshot's S, with its `check`), every change
/// from `before` (exclusive) down is still to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    pub upto: i64,
    pub check: Option<String>,
    pub before: i64,
}

impl Backfill {
    /// How much of the history has arrived, in whole percent of the feed positions walked (0–99:
    /// 100 is "no backfill").
    pub fn percent(&self) -> u8 {
        if self.upto <= 0 {
            return 99;
        }
        let walked = (self.upto + 1 - self.before).clamp(0, self.upto);
        ((walked * 100 / self.upto) as u8).min(99)
    }
}

/// Where a thread's history stands in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadHistory {
    /// Every message is cached (the backfill is done, or the thread was fetched to its start).
    Complete,
    /// Older messages may be missing: fetch the page before this cursor (`None`: the last page).
    Partial(Option<HistoryCursor>),
}

fn meta_i64(conn: &Connection, key: &str) -> CoreResult<Option<i64>> {
    Ok(Cache::meta(conn, key)?.and_then(|v| v.parse().ok()))
}

/// Whether a backfill is under way.
pub(super) fn active(conn: &Connection) -> CoreResult<bool> {
    Ok(meta_i64(conn, "backfill_upto")?.is_some())
}

/// Remembers that the live feed deleted this entity while the history is arriving.
pub(super) fn forget(conn: &Connection, kind: EntityKind, id: Id) -> CoreResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO backfill_gone (kind, id) VALUES (?1, ?2)")?
        .execute(params![kind.as_str(), id.to_string()])?;
    Ok(())
}

/// Ends the backfill and what only it needed (done, or the feed reset).
pub(super) fn clear(conn: &Connection) -> CoreResult<()> {
    conn.execute("DELETE FROM meta WHERE key IN ('backfill_upto', 'backfill_check', 'backfill_before')", [])?;
    conn.execute("DELETE FROM backfill_gone", [])?;
    conn.execute("DELETE FROM thread_history", [])?;
    Ok(())
}

/// Fills in changes the cache lacks, never overwriting a server version or resurrecting a row
/// deleted since the history started arriving. Old history never notifies.
fn fill(tx: &Transaction, changes: &[Change], applied: &mut Applied) -> CoreResult<()> {
    let me = Cache::meta(tx, "me")?.map(|id| parse_id(&id)).transpose()?;
    let pending = load_outbox(tx)?;
    for change in changes {
        let (ChangeOp::Upsert, Some(server)) = (change.op, change.data.as_ref()) else { continue };
        let existing = existing_row(tx, change.entity, change.id)?;
        if existing.is_some_and(|e| e.has_server_version) {
            continue;
        }
        let gone: Option<i64> = tx
            .prepare_cached("SELECT 1 FROM backfill_gone WHERE kind = ?1 AND id = ?2")?
            .query_row(params![change.entity.as_str(), change.id.to_string()], |row| row.get(0))
            .optional()?;
        if gone.is_some() {
            continue;
        }
        let rebased;
        let displayed =
            if pending.iter().any(|queued| queued.action.touches().contains(&(change.entity, change.id))) {
                rebased = rebase(change.entity, change.id, Some(server.clone()), &pending, me);
                rebased.as_ref()
            } else {
                Some(server)
            };
        put_row(tx, change.entity, change.id, existing.map(|e| e.rowid), Some(server), displayed)?;
        applied.kinds.insert(change.entity);
    }
    Ok(())
}

/// The open conversations most recently active that a fresh device's first commit holds: two
/// pages of the inbox list (50 a page), whatever the size of the workspace.
pub const FIRST_OPEN: usize = 100;
/// The conversations of any status most recently active that the first commit holds too (the
/// first page of another status).
pub const FIRST_RECENT: usize = 50;

/// Puts first in a snapshot what the inbox list's first pages show, and returns how many changes
/// that is: the directory (every kind but conversations, contacts, read markers and messages),
/// the [`FIRST_OPEN`] open conversations and the [`FIRST_RECENT`] conversations of any status
/// most recently active and the pinned ones, with their contacts and read markers, and of their
/// messages the two a list row reads (whether it is unread, `views.rs::UNREAD`): the newest
/// incoming one and the one its read marker names. Their thread pages come with the rest.
/// Each part keeps the snapshot's order. Storing the first part costs the same on a workspace of
/// 10,000 messages as on one of a million; the snapshot as a whole grows up to its caps.
pub fn first_part(changes: &mut Vec<Change>) -> usize {
    let activity = |change: &Change| change.data.as_ref().and_then(|d| d["last_activity_at"].as_i64());
    let mut conversations: Vec<&Change> =
        changes.iter().filter(|c| c.entity == EntityKind::Conversation && c.data.is_some()).collect();
    conversations.sort_by_key(|c| std::cmp::Reverse(activity(c)));
    let open = conversations
        .iter()
        .filter(|c| c.data.as_ref().is_some_and(|d| d["status"] == "open"))
        .take(FIRST_OPEN);
    let mut chosen: HashSet<Id> = open.chain(conversations.iter().take(FIRST_RECENT)).map(|c| c.id).collect();
    chosen.extend(changes.iter().filter(|c| c.entity == EntityKind::Pin && c.data.is_some()).map(|c| c.id));
    let contacts: HashSet<Id> = conversations
        .iter()
        .filter(|c| chosen.contains(&c.id))
        .filter_map(|c| c.data.as_ref()?["contact_id"].as_str()?.parse().ok())
        .collect();
    // A row is unread when an incoming message is newer than the one its read marker names (any
    // incoming message, without a marker): the newest incoming message and the marker's decide it.
    let mut messages: HashSet<Id> = changes
        .iter()
        .filter(|c| c.entity == EntityKind::ReadMarker && chosen.contains(&c.id))
        .filter_map(|c| c.data.as_ref()?["last_read_message_id"].as_str()?.parse().ok())
        .collect();
    let mut newest_incoming: HashMap<Id, (i64, Id)> = HashMap::new();
    for change in changes.iter().filter(|c| c.entity == EntityKind::Message) {
        let Some(data) = change.data.as_ref().filter(|d| d["kind"] == "incoming") else { continue };
        let Some(conversation) = data["conversation_id"].as_str().and_then(|id| id.parse::<Id>().ok()) else {
            continue;
        };
        if chosen.contains(&conversation) {
            let at = (data["created_at"].as_i64().unwrap_or(i64::MIN), change.id);
            let newest = newest_incoming.entry(conversation).or_insert(at);
            *newest = (*newest).max(at);
        }
    }
    messages.extend(newest_incoming.values().map(|(_, id)| *id));
    let in_first = |change: &Change| match change.entity {
        EntityKind::Conversation | EntityKind::ReadMarker => chosen.contains(&change.id),
        EntityKind::Contact => contacts.contains(&change.id),
        EntityKind::Message => messages.contains(&change.id),
        _ => true,
    };
    let (mut first, rest): (Vec<Change>, Vec<Change>) =
        std::mem::take(changes).into_iter().partition(in_first);
    let count = first.len();
    first.extend(rest);
    *changes = first;
    count
}

impl Cache {
    /// Stores a fresh device's bootstrap snapshot whole: its changes, the cursor S (`next`, with
    /// its check) and the backfill below S, in one transaction.
    pub fn apply_snapshot(&self, snapshot: &BootstrapSnapshot) -> CoreResult<Applied> {
        self.apply_snapshot_first(snapshot, snapshot.changes.len())
    }

    /// Stores the first `count` changes of a fresh device's snapshot (see [`first_part`]) with the
    /// cursor S (`next`, with its check) and the backfill below S, in one transaction: what the
    /// first painted list reads. The rest follows with [`Self::apply_snapshot_rest`].
    pub fn apply_snapshot_first(&self, snapshot: &BootstrapSnapshot, count: usize) -> CoreResult<Applied> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        clear(&tx)?;
        Self::set_meta(&tx, "backfill_upto", &snapshot.next.to_string())?;
        Self::set_meta(&tx, "backfill_before", &(snapshot.next + 1).to_string())?;
        if let Some(check) = &snapshot.check {
            Self::set_meta(&tx, "backfill_check", check)?;
        }
        let first = &snapshot.changes[..count.min(snapshot.changes.len())];
        let applied = Self::apply_in(&tx, first, snapshot.next, snapshot.check.as_deref())?;
        tx.commit()?;
        Ok(applied)
    }

    /// Stores the rest of a snapshot whose first part set the backfill under `upto` (its S), in
    /// one transaction, filled as a backfill page is (a row the cache holds a server version of,
    /// or one the live feed deleted meanwhile, is kept as it is) without moving the backfill's
    /// position. Every change in it is the latest upsert of an entity last changed at or before
    /// S, which the backfill walks in full: if this never runs (the app died after the first
    /// part), the backfill brings the same rows, and nothing is lost. A rest for another backfill
    /// than the one under way (the feed was reset meanwhile) changes nothing.
    pub fn apply_snapshot_rest(&self, upto: i64, rest: &[Change]) -> CoreResult<Applied> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut applied = Applied::default();
        if meta_i64(&tx, "backfill_upto")? != Some(upto) {
            return Ok(applied);
        }
        fill(&tx, rest, &mut applied)?;
        tx.commit()?;
        Ok(applied)
    }

    /// The backfill under way, if any.
    pub fn backfill(&self) -> CoreResult<Option<Backfill>> {
        let conn = self.read();
        let (Some(upto), Some(before)) =
            (meta_i64(&conn, "backfill_upto")?, meta_i64(&conn, "backfill_before")?)
        else {
            return Ok(None);
        };
        Ok(Some(Backfill { upto, check: Self::meta(&conn, "backfill_check")?, before }))
    }

    /// How much of the history has arrived (`None`: all of it).
    pub fn history_percent(&self) -> CoreResult<Option<u8>> {
        Ok(self.backfill()?.map(|b| b.percent()))
    }

    /// Applies one backfill page under `upto` and moves the backfill's position in the same
    /// transaction; the last page ends the backfill. A page for another backfill than the one
    /// under way (the feed was reset meanwhile) changes nothing.
    pub fn apply_backfill(&self, upto: i64, page: &BackfillPage) -> CoreResult<Applied> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut applied = Applied::default();
        if meta_i64(&tx, "backfill_upto")? != Some(upto) {
            return Ok(applied);
        }
        fill(&tx, &page.changes, &mut applied)?;
        if page.done {
            clear(&tx)?;
        } else {
            let before = meta_i64(&tx, "backfill_before")?.unwrap_or(i64::MAX).min(page.next);
            Self::set_meta(&tx, "backfill_before", &before.to_string())?;
        }
        tx.commit()?;
        Ok(applied)
    }

    /// Where a thread's history stands.
    pub fn thread_history(&self, conversation_id: Id) -> CoreResult<ThreadHistory> {
        let conn = self.read();
        if !active(&conn)? {
            return Ok(ThreadHistory::Complete);
        }
        let row: Option<(Option<i64>, Option<String>, bool)> = conn
            .prepare_cached(
                "SELECT before_at, before_id, complete FROM thread_history WHERE conversation_id = ?1",
            )?
            .query_row([conversation_id.to_string()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()?;
        Ok(match row {
            None => ThreadHistory::Partial(None),
            Some((_, _, true)) => ThreadHistory::Complete,
            Some((Some(created_at), Some(id), false)) => {
                ThreadHistory::Partial(Some(HistoryCursor { created_at, id: parse_id(&id)? }))
            }
            Some(_) => ThreadHistory::Partial(None),
        })
    }

    /// Applies a page of a thread's history fetched on demand and records how far the thread
    /// has come (the page's `older`, or complete).
    pub fn apply_history(&self, conversation_id: Id, page: &HistoryPage) -> CoreResult<Applied> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut applied = Applied::default();
        if !active(&tx)? {
            return Ok(applied);
        }
        fill(&tx, &page.changes, &mut applied)?;
        tx.execute(
            "INSERT INTO thread_history (conversation_id, before_at, before_id, complete) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conversation_id) DO UPDATE SET before_at = excluded.before_at,
             before_id = excluded.before_id, complete = excluded.complete",
            params![
                conversation_id.to_string(),
                page.older.map(|o| o.created_at),
                page.older.map(|o| o.id.to_string()),
                page.older.is_none()
            ],
        )?;
        tx.commit()?;
        Ok(applied)
    }
}

impl Cache {
    /// A page of a thread as the agent scrolls it: the `limit` messages before `before` (a
    /// message's `(created_at, id)`; `None`: the newest), returned oldest first. An index range
    /// read (`messages_by_conversation`), so a 10,000-message thread opens as fast as a short one.
    pub fn thread_page(
        &self,
        conversation_id: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> CoreResult<Vec<Message>> {
        let conn = self.read();
        let (at, id) = before.map_or((i64::MAX, String::new()), |b| (b.created_at, b.id.to_string()));
        let mut statement = conn.prepare_cached(
            "SELECT data FROM messages
             WHERE conversation_id = ?1 AND data IS NOT NULL
               AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
             ORDER BY created_at DESC, id DESC LIMIT ?4",
        )?;
        let rows = statement
            .query_map(params![conversation_id.to_string(), at, id, limit as i64], |row| {
                row.get::<_, String>(0)
            })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        out.reverse();
        Ok(out)
    }

    /// The `limit` messages after `after` (exclusive), oldest first: the next page down when the
    /// agent scrolls back towards the newest after a jump.
    pub fn thread_page_after(
        &self,
        conversation_id: Id,
        after: HistoryCursor,
        limit: usize,
    ) -> CoreResult<Vec<Message>> {
        let conn = self.read();
        let mut statement = conn.prepare_cached(
            "SELECT data FROM messages
             WHERE conversation_id = ?1 AND data IS NOT NULL
               AND (created_at > ?2 OR (created_at = ?2 AND id > ?3))
             ORDER BY created_at, id LIMIT ?4",
        )?;
        let rows = statement.query_map(
            params![conversation_id.to_string(), after.created_at, after.id.to_string(), limit as i64],
            |row| row.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// The messages from `from` to `to` (both inclusive; `to: None` through the newest), oldest
    /// first, at most `limit` of them: the newest `limit` when the range is open-ended (a window
    /// following the live end), else the oldest. What the thread view reads again on a change.
    pub fn thread_range(
        &self,
        conversation_id: Id,
        from: HistoryCursor,
        to: Option<HistoryCursor>,
        limit: usize,
    ) -> CoreResult<Vec<Message>> {
        let conn = self.read();
        let (to_at, to_id, order) = match to {
            Some(to) => (to.created_at, to.id.to_string(), "ASC"),
            None => (i64::MAX, String::new(), "DESC"),
        };
        let mut statement = conn.prepare_cached(&format!(
            "SELECT data FROM messages
             WHERE conversation_id = ?1 AND data IS NOT NULL
               AND (created_at > ?2 OR (created_at = ?2 AND id >= ?3))
               AND (?6 OR created_at < ?4 OR (created_at = ?4 AND id <= ?5))
             ORDER BY created_at {order}, id {order} LIMIT ?7"
        ))?;
        let rows = statement.query_map(
            params![
                conversation_id.to_string(),
                from.created_at,
                from.id.to_string(),
                to_at,
                to_id,
                to.is_none(),
                limit as i64
            ],
            |row| row.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        if to.is_none() {
            out.reverse();
        }
        Ok(out)
    }

    /// A thread's messages the server hasn't confirmed yet (sent from this device, in the outbox),
    /// oldest first. Their times are this device's clock, which may be behind the server's: the
    /// thread view puts them at the live end whatever their time says.
    pub fn pending_messages(&self, conversation_id: Id) -> CoreResult<Vec<Message>> {
        let conn = self.read();
        let mut statement = conn.prepare_cached(
            "SELECT data FROM messages
             WHERE conversation_id = ?1 AND data IS NOT NULL AND server_data IS NULL
             ORDER BY created_at, id",
        )?;
        let rows = statement.query_map([conversation_id.to_string()], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// Where a cached message sits: its conversation and its place in the thread's order.
    pub fn message_place(&self, message_id: Id) -> CoreResult<Option<(Id, HistoryCursor)>> {
        let conn = self.read();
        let row: Option<(String, i64)> = conn
            .prepare_cached(
                "SELECT conversation_id, created_at FROM messages WHERE id = ?1 AND data IS NOT NULL",
            )?
            .query_row([message_id.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        row.map(|(conversation, created_at)| {
            Ok((parse_id(&conversation)?, HistoryCursor { created_at, id: message_id }))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(seq: i64, entity: EntityKind, id: Id, data: serde_json::Value) -> Change {
        Change { seq, entity, id, op: ChangeOp::Upsert, data: Some(data) }
    }

    /// A snapshot past the first part's caps: 130 open conversations and 40 resolved ones, each
    /// with its contact, two incoming messages (its read marker naming the older), a newer
    /// outgoing one, a pin on the oldest open one, and a label.
    #[test]
    fn the_first_part_is_the_lists_first_pages_with_what_they_show() {
        let mut changes = vec![change(1, EntityKind::Label, Id::new_v4(), json!({"name": "vip"}))];
        let mut conversations = Vec::new();
        for n in 0..170_i64 {
            let (id, contact) = (Id::new_v4(), Id::new_v4());
            let status = if n < 130 { "open" } else { "resolved" };
            // Activity is not in seq order: the first part is picked by activity.
            let activity = (n * 7919) % 170;
            let seq = 10 + n * 6;
            changes.push(change(
                seq,
                EntityKind::Conversation,
                id,
                json!({"id": id, "status": status, "contact_id": contact, "last_activity_at": activity}),
            ));
            changes.push(change(seq + 1, EntityKind::Contact, contact, json!({"id": contact})));
            let (read, unread) = (Id::new_v4(), Id::new_v4());
            changes.push(change(
                seq + 2,
                EntityKind::ReadMarker,
                id,
                json!({"conversation_id": id, "last_read_message_id": read}),
            ));
            for (offset, message, kind, at) in
                [(3, read, "incoming", 1), (4, unread, "incoming", 2), (5, Id::new_v4(), "outgoing", 3)]
            {
                changes.push(change(
                    seq + offset,
                    EntityKind::Message,
                    message,
                    json!({"conversation_id": id, "kind": kind, "created_at": activity * 10 + at}),
                ));
            }
            conversations.push((id, contact, status, activity));
        }
        let oldest_open = conversations
            .iter()
            .filter(|c| c.2 == "open")
            .min_by_key(|c| c.3)
            .map(|c| c.0)
            .expect("an open conversation");
        changes.push(change(5_000, EntityKind::Pin, oldest_open, json!({"conversation_id": oldest_open})));
        let whole = changes.clone();

        let count = first_part(&mut changes);

        let mut by_activity = conversations.clone();
        by_activity.sort_by_key(|c| std::cmp::Reverse(c.3));
        let mut expected: HashSet<Id> =
            by_activity.iter().filter(|c| c.2 == "open").take(FIRST_OPEN).map(|c| c.0).collect();
        expected.extend(by_activity.iter().take(FIRST_RECENT).map(|c| c.0));
        expected.insert(oldest_open);
        let chosen = |c: &Change| match c.entity {
            EntityKind::Conversation | EntityKind::ReadMarker | EntityKind::Pin => expected.contains(&c.id),
            EntityKind::Contact => conversations.iter().any(|k| k.1 == c.id && expected.contains(&k.0)),
            EntityKind::Message => c.data.as_ref().is_some_and(|d| {
                d["kind"] == "incoming" && expected.iter().any(|id| d["conversation_id"] == json!(id))
            }),
            _ => true,
        };
        // The label and the pin, and per chosen conversation: itself, its contact and marker, the
        // newest incoming message and the one the marker names (not the outgoing one).
        assert_eq!(count, 2 + 5 * expected.len(), "the directory and each chosen conversation's rows");
        assert!(count < whole.len(), "past the caps, the rest is left for the second commit");
        assert!(changes[..count].iter().all(chosen), "the first part holds only what the first pages show");
        assert!(!changes[count..].iter().any(chosen), "nothing the first pages show is left for later");
        let seqs = |part: &[Change]| part.iter().map(|c| c.seq).collect::<Vec<_>>();
        for part in [seqs(&changes[..count]), seqs(&changes[count..])] {
            assert!(part.windows(2).all(|w| w[0] < w[1]), "each part keeps the snapshot's order");
        }
        let mut all = seqs(&changes[..]);
        all.sort_unstable();
        assert_eq!(all, seqs(&whole[..]), "every change once");
    }
}
