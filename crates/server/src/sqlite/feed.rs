//! The change feed, search and contact lookup in SQL, filtered by the inboxes a reader may see
//! (which inboxes that is, is decided by the domain).

use rusqlite::{params, Connection};
use switchboard_proto::*;

use super::{parse_id, records};
use crate::{
    bus::VisibleInboxes,
    store::{StoreError, StoreResult},
};

fn visible_json(visible: &VisibleInboxes) -> (bool, String) {
    match visible {
        VisibleInboxes::All => (true, "[]".into()),
        VisibleInboxes::Only(ids) => {
            (false, serde_json::Value::from(ids.iter().map(Id::to_string).collect::<Vec<_>>()).to_string())
        }
    }
}

/// One page of the feed after `since`, compacted to each entity's latest version, filtered to what
/// `agent_id` may see. From `since = 0` (bootstrap) tombstones are left out: there is nothing to
/// delete yet. Read in one snapshot, so `next` (the head when nothing more matches) is consistent
/// with the rows returned.
pub fn feed_page(
    tx: &Connection,
    agent_id: Id,
    visible: &VisibleInboxes,
    since: i64,
    limit: usize,
) -> StoreResult<SyncPage> {
    let (all, inbox_ids) = visible_json(visible);
    let head: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |row| row.get(0))?;
    let mut changes = Vec::with_capacity(limit.min(1024));
    {
        let mut statement = tx.prepare_cached(
            "SELECT seq, entity, entity_id, op, data FROM changes
             WHERE seq > ?1 AND superseded = 0
               AND (?1 > 0 OR op = 'upsert')
               AND (inbox_id IS NULL OR ?2 OR inbox_id IN (SELECT value FROM json_each(?3)))
               AND (scope_agent = '' OR scope_agent = ?4)
             ORDER BY seq LIMIT ?5",
        )?;
        let rows = statement.query_map(
            params![since, all, inbox_ids, agent_id.to_string(), limit as i64 + 1],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            },
        )?;
        for row in rows {
            let (seq, entity, id, op, data) = row?;
            changes.push(Change {
                seq,
                entity: EntityKind::parse(&entity)
                    .ok_or_else(|| StoreError(format!("unknown entity {entity:?} in the feed")))?,
                id: parse_id(&id)?,
                op: if op == "delete" { ChangeOp::Delete } else { ChangeOp::Upsert },
                data: data.map(|d| serde_json::from_str(&d)).transpose()?,
            });
        }
    }
    let has_more = changes.len() > limit;
    changes.truncate(limit);
    let next = match (has_more, changes.last()) {
        (true, Some(last)) => last.seq,
        _ => head.max(since),
    };
    Ok(SyncPage { changes, next, check: None, has_more })
}

/// Message hits, newest first, only in visible inboxes.
///
/// Strategy: FTS5 finds matching rows and we take the newest `limit` by rowid rather than ranking
/// every match with bm25, so a very common word costs the same as a rare one.
pub fn search_messages(
    conn: &Connection,
    query: &str,
    visible: &VisibleInboxes,
    limit: usize,
) -> StoreResult<Vec<MessageHit>> {
    let Some(fts) = text::fts_query(query) else {
        return Ok(vec![]);
    };
    let (all, inbox_ids) = visible_json(visible);
    let mut statement = conn.prepare_cached(
        "SELECT message_id, conversation_id, created_at, snippet(message_search, 4, '', '', '…', 12)
         FROM message_search
         WHERE message_search MATCH ?1
           AND (?2 OR inbox_id IN (SELECT value FROM json_each(?3)))
         ORDER BY rowid DESC LIMIT ?4",
    )?;
    let rows = statement.query_map(params![fts, all, inbox_ids, limit as i64], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
        ))
    })?;
    let mut messages = Vec::new();
    for row in rows {
        let (message_id, conversation_id, created_at, snippet) = row?;
        messages.push(MessageHit {
            message_id: parse_id(&message_id)?,
            conversation_id: parse_id(&conversation_id)?,
            snippet,
            created_at,
        });
    }
    Ok(messages)
}

/// Contacts the reader may see (created by agents, or who wrote into a visible inbox) whose name
/// or email contains `query`, or whose phone contains its digits.
pub fn find_contacts(
    conn: &Connection,
    query: &str,
    visible: &VisibleInboxes,
    limit: usize,
) -> StoreResult<Vec<Contact>> {
    let (all, inbox_ids) = visible_json(visible);
    let (pattern, digit_pattern) = crate::store::contact_patterns(query);
    records::query(
        conn,
        "SELECT data FROM contacts
         WHERE data->>'merged_into' IS NULL
           AND (inbox_id IS NULL OR ?4 OR inbox_id IN (SELECT value FROM json_each(?5)))
           AND (?1 = '%%' OR name LIKE ?1 ESCAPE '\\' OR data->>'email' LIKE ?1 ESCAPE '\\'
                OR (?2 != '' AND phone_digits LIKE ?2))
         ORDER BY rowid DESC LIMIT ?3",
        params![pattern, digit_pattern, limit as i64, all, inbox_ids],
    )
}

/// One `changes` row (`seq, entity, entity_id, op, data`) as a feed change.
fn change_row(row: &rusqlite::Row) -> rusqlite::Result<(i64, String, String, String, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn to_change(
    (seq, entity, id, op, data): (i64, String, String, String, Option<String>),
) -> StoreResult<Change> {
    Ok(Change {
        seq,
        entity: EntityKind::parse(&entity)
            .ok_or_else(|| StoreError(format!("unknown entity {entity:?} in the feed")))?,
        id: parse_id(&id)?,
        op: if op == "delete" { ChangeOp::Delete } else { ChangeOp::Upsert },
        data: data.map(|d| serde_json::from_str(&d)).transpose()?,
    })
}

/// [`latest_changes`] of given ids: `entity_id IN (…)` on its own (not behind an `OR`) is what lets
/// SQLite seek the index per id instead of scanning every row of the kind.
const LATEST_OF_IDS: &str = "SELECT seq, entity, entity_id, op, data FROM changes
     WHERE entity = ?1 AND entity_id IN (SELECT value FROM json_each(?2))
       AND superseded = 0 AND op = 'upsert'
       AND (inbox_id IS NULL OR ?3 OR inbox_id IN (SELECT value FROM json_each(?4)))
       AND (scope_agent = '' OR scope_agent = ?5)
     ORDER BY seq";

/// The latest upsert of each `kind` entity the agent may receive (only `ids`, when given), as the
/// feed from 0 gives them. Uses the `changes_latest` index (entity, entity_id): with `ids`, one
/// lookup per id (the bootstrap's snapshot asks for a few thousand of a million messages), so the
/// cost follows the ids asked for, not the size of the history; without, every row of the kind.
pub fn latest_changes(
    conn: &Connection,
    agent_id: Id,
    visible: &VisibleInboxes,
    kind: EntityKind,
    ids: Option<&[Id]>,
) -> StoreResult<Vec<Change>> {
    let (all, inbox_ids) = visible_json(visible);
    let agent = agent_id.to_string();
    let rows = match ids {
        Some(ids) => {
            let wanted =
                serde_json::Value::from(ids.iter().map(Id::to_string).collect::<Vec<_>>()).to_string();
            let mut statement = conn.prepare_cached(LATEST_OF_IDS)?;
            let rows =
                statement.query_map(params![kind.as_str(), wanted, all, inbox_ids, agent], change_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let mut statement = conn.prepare_cached(
                "SELECT seq, entity, entity_id, op, data FROM changes
                 WHERE entity = ?1 AND superseded = 0 AND op = 'upsert'
                   AND (inbox_id IS NULL OR ?2 OR inbox_id IN (SELECT value FROM json_each(?3)))
                   AND (scope_agent = '' OR scope_agent = ?4)
                 ORDER BY seq",
            )?;
            let rows = statement.query_map(params![kind.as_str(), all, inbox_ids, agent], change_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
        }
    };
    rows.into_iter().map(to_change).collect()
}

/// [`active_conversations`]'s statements. A partial index is only chosen by a query whose WHERE
/// names its condition literally, hence one statement for each.
const OPEN_BY_ACTIVITY: &str = "SELECT id FROM conversations
     WHERE scope = '' AND status != 'resolved'
       AND (?1 OR inbox_id IN (SELECT value FROM json_each(?2)))
     ORDER BY last_activity_at DESC LIMIT ?3";
const ANY_BY_ACTIVITY: &str = "SELECT id FROM conversations
     WHERE scope = ''
       AND (?1 OR inbox_id IN (SELECT value FROM json_each(?2)))
     ORDER BY last_activity_at DESC LIMIT ?3";

/// Conversations in visible inboxes, most recently active first: a walk down the
/// `conversations_by_activity` index (`conversations_open_by_activity` for the unresolved ones)
/// that stops at `limit`, not a sort of every conversation.
pub fn active_conversations(
    conn: &Connection,
    visible: &VisibleInboxes,
    open_only: bool,
    limit: usize,
) -> StoreResult<Vec<Id>> {
    let (all, inbox_ids) = visible_json(visible);
    let sql = if open_only { OPEN_BY_ACTIVITY } else { ANY_BY_ACTIVITY };
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params![all, inbox_ids, limit as i64], |row| row.get::<_, String>(0))?;
    rows.map(|id| parse_id(&id?)).collect()
}

/// A thread's messages, newest first, older than `before`.
pub fn thread_messages(
    conn: &Connection,
    conversation: Id,
    before: Option<HistoryCursor>,
    limit: usize,
) -> StoreResult<Vec<HistoryCursor>> {
    let (at, id) = before.map_or((i64::MAX, String::new()), |b| (b.created_at, b.id.to_string()));
    let mut statement = conn.prepare_cached(
        "SELECT created_at, id FROM messages
         WHERE conversation_id = ?1 AND scope = ''
           AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
         ORDER BY created_at DESC, id DESC LIMIT ?4",
    )?;
    let rows = statement.query_map(params![conversation.to_string(), at, id, limit as i64], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (created_at, id) = row?;
        Ok(HistoryCursor { created_at, id: parse_id(&id)? })
    })
    .collect()
}

/// The backfill's page: latest upserts with `seq ≤ upto` and `seq < before`, highest seq first.
pub fn backfill_page(
    conn: &Connection,
    agent_id: Id,
    visible: &VisibleInboxes,
    upto: i64,
    before: i64,
    limit: usize,
) -> StoreResult<Vec<Change>> {
    let (all, inbox_ids) = visible_json(visible);
    let mut statement = conn.prepare_cached(
        "SELECT seq, entity, entity_id, op, data FROM changes
         WHERE seq <= ?1 AND seq < ?2 AND superseded = 0 AND op = 'upsert'
           AND (inbox_id IS NULL OR ?3 OR inbox_id IN (SELECT value FROM json_each(?4)))
           AND (scope_agent = '' OR scope_agent = ?5)
         ORDER BY seq DESC LIMIT ?6",
    )?;
    let rows = statement
        .query_map(params![upto, before, all, inbox_ids, agent_id.to_string(), limit as i64], change_row)?;
    rows.map(|row| to_change(row?)).collect()
}

#[cfg(test)]
mod tests {
    /// The query plan of each of the bootstrap snapshot's selections on the migrated schema: an
    /// index seek or an index walk that stops at the limit, never a scan of a table or of every row
    /// of a kind, nor a sort of them (what made a fresh device's sign-in grow with the history).
    #[test]
    fn the_snapshot_selections_read_by_index_not_by_scanning_the_history() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        super::super::schema::migrate(&mut conn).expect("migrate");
        let plan = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> String {
            let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
            let rows = statement.query_map(params, |row| row.get::<_, String>(3)).expect("plan");
            rows.map(|row| row.expect("row")).collect::<Vec<_>>().join("\n")
        };
        let latest = plan(super::LATEST_OF_IDS, &[&"message", &"[]", &true, &"[]", &"agent"]);
        assert!(latest.contains("changes_latest (entity=? AND entity_id=?"), "{latest}");
        for sql in [super::OPEN_BY_ACTIVITY, super::ANY_BY_ACTIVITY] {
            let active = plan(sql, &[&true, &"[]", &1000]);
            assert!(active.contains("SCAN conversations USING INDEX conversations_"), "{active}");
            assert!(active.contains("_by_activity"), "{active}");
            assert!(!active.contains("TEMP B-TREE"), "{active}");
        }
    }

    /// Both selections, most recently active first up to the limit: the open one leaves resolved
    /// conversations out, neither returns a scoped copy or a conversation of an inbox not visible.
    #[test]
    fn active_conversations_are_the_most_recently_active_visible_ones() {
        use switchboard_proto::Id;

        use crate::bus::VisibleInboxes;
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        super::super::schema::migrate(&mut conn).expect("migrate");
        let (seen, hidden) = (Id::new_v4(), Id::new_v4());
        // (id, inbox, status, last activity, scope)
        let rows: Vec<(Id, Id, &str, i64, &str)> = vec![
            (Id::new_v4(), seen, "open", 50, ""),
            (Id::new_v4(), seen, "resolved", 90, ""),
            (Id::new_v4(), seen, "pending", 70, ""),
            (Id::new_v4(), hidden, "open", 99, ""),
            (Id::new_v4(), seen, "open", 80, ""),
            (Id::new_v4(), seen, "open", 95, "agent"),
            (Id::new_v4(), seen, "resolved", 10, ""),
        ];
        for (id, inbox, status, at, scope) in &rows {
            let data = serde_json::json!({"id": id, "inbox_id": inbox, "contact_id": Id::new_v4(),
                "status": status, "last_activity_at": at});
            conn.execute(
                "INSERT INTO conversations (id, scope, data) VALUES (?1, ?2, ?3)",
                rusqlite::params![id.to_string(), scope, data.to_string()],
            )
            .expect("insert");
        }
        let only = VisibleInboxes::Only([seen].into_iter().collect());
        let open = super::active_conversations(&conn, &only, true, 10).expect("open");
        assert_eq!(open, vec![rows[4].0, rows[2].0, rows[0].0], "unresolved, newest first");
        let any = super::active_conversations(&conn, &only, false, 3).expect("any");
        assert_eq!(any, vec![rows[1].0, rows[4].0, rows[2].0], "any status, newest first, limited");
        let all = super::active_conversations(&conn, &VisibleInboxes::All, true, 1).expect("all");
        assert_eq!(all, vec![rows[3].0], "every inbox when all are visible");
    }
}
