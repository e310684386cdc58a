//! The change feed, search and contact lookup in SQL, filtered by the inboxes a reader may see
//! (which inboxes that is, is decided by the domain).

use serde_json::Value;
use switchboard_proto::*;

use super::{parse_id, search::Query, Pg};
use crate::{
    bus::VisibleInboxes,
    store::{StoreError, StoreResult},
};

/// `(all, ids)`: whether every inbox is visible, else which.
fn visible_ids(visible: &VisibleInboxes) -> (bool, Vec<String>) {
    match visible {
        VisibleInboxes::All => (true, vec![]),
        VisibleInboxes::Only(ids) => (false, ids.iter().map(Id::to_string).collect()),
    }
}

impl Pg<'_> {
    /// One page of the feed after `since`, compacted to each entity's latest version, filtered to
    /// what `agent_id` may see. From `since = 0` (bootstrap) tombstones are left out. Read in one
    /// snapshot, so `next` (the head when nothing more matches) is consistent with the rows.
    pub(super) fn feed_page_sql(
        &self,
        agent_id: Id,
        visible: &VisibleInboxes,
        since: i64,
        limit: usize,
    ) -> StoreResult<SyncPage> {
        let (all, inbox_ids) = visible_ids(visible);
        let head: i64 = match self.row("SELECT COALESCE(MAX(seq), 0)::bigint FROM changes", &[])? {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        let rows = self.rows(
            "SELECT seq, entity, entity_id, op, data FROM changes
             WHERE seq > $1::bigint AND NOT superseded
               AND ($1::bigint > 0 OR op = 'upsert')
               AND (inbox_id IS NULL OR $2::boolean OR inbox_id = ANY($3::text[]))
               AND (scope_agent = '' OR scope_agent = $4::text)
             ORDER BY seq LIMIT $5::bigint",
            &[&since, &all, &inbox_ids, &agent_id.to_string(), &(limit as i64 + 1)],
        )?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in rows {
            let entity: String = row.try_get(1)?;
            let op: String = row.try_get(3)?;
            changes.push(Change {
                seq: row.try_get(0)?,
                entity: EntityKind::parse(&entity)
                    .ok_or_else(|| StoreError(format!("unknown entity {entity:?} in the feed")))?,
                id: parse_id(&row.try_get::<_, String>(2)?)?,
                op: if op == "delete" { ChangeOp::Delete } else { ChangeOp::Upsert },
                data: row.try_get::<_, Option<Value>>(4)?,
            });
        }
        let has_more = changes.len() > limit;
        changes.truncate(limit);
        let next = match (has_more, changes.last()) {
            (true, Some(last)) => last.seq,
            _ => head.max(since),
        };
        Ok(SyncPage { changes, next, check: None, has_more })
    }

    /// Rows of `changes` (`seq, entity, entity_id, op, data`) as feed changes.
    fn changes_of(rows: Vec<::postgres::Row>) -> StoreResult<Vec<Change>> {
        rows.into_iter()
            .map(|row| {
                let entity: String = row.try_get(1)?;
                let op: String = row.try_get(3)?;
                Ok(Change {
                    seq: row.try_get(0)?,
                    entity: EntityKind::parse(&entity)
                        .ok_or_else(|| StoreError(format!("unknown entity {entity:?} in the feed")))?,
                    id: parse_id(&row.try_get::<_, String>(2)?)?,
                    op: if op == "delete" { ChangeOp::Delete } else { ChangeOp::Upsert },
                    data: row.try_get::<_, Option<Value>>(4)?,
                })
            })
            .collect()
    }

    /// The latest upsert of each `kind` entity the agent may receive (only `ids`, when given). With
    /// `ids`, one probe of `changes_latest` (entity, entity_id) per id, whatever the plan: the
    /// statements are prepared once and may run on a generic plan, which cannot seek an index
    /// behind `$flag OR entity_id = ANY(…)`, so each case has its own statement.
    pub(super) fn latest_changes_sql(
        &self,
        agent_id: Id,
        visible: &VisibleInboxes,
        kind: EntityKind,
        ids: Option<&[Id]>,
    ) -> StoreResult<Vec<Change>> {
        let (all, inbox_ids) = visible_ids(visible);
        let agent = agent_id.to_string();
        let rows = match ids {
            Some(ids) => {
                let wanted: Vec<String> = ids.iter().map(Id::to_string).collect();
                self.rows(
                    "SELECT seq, entity, entity_id, op, data FROM changes
                     WHERE entity = $1::text AND entity_id = ANY($2::text[]) AND NOT superseded
                       AND op = 'upsert'
                       AND (inbox_id IS NULL OR $3::boolean OR inbox_id = ANY($4::text[]))
                       AND (scope_agent = '' OR scope_agent = $5::text)
                     ORDER BY seq",
                    &[&kind.as_str(), &wanted, &all, &inbox_ids, &agent],
                )?
            }
            None => self.rows(
                "SELECT seq, entity, entity_id, op, data FROM changes
                 WHERE entity = $1::text AND NOT superseded AND op = 'upsert'
                   AND (inbox_id IS NULL OR $2::boolean OR inbox_id = ANY($3::text[]))
                   AND (scope_agent = '' OR scope_agent = $4::text)
                 ORDER BY seq",
                &[&kind.as_str(), &all, &inbox_ids, &agent],
            )?,
        };
        Self::changes_of(rows)
    }

    /// Conversations in visible inboxes, most recently active first: a walk down
    /// `conversations_by_activity` (`conversations_open_by_activity` for the unresolved ones) that
    /// stops at `limit`, not a sort of every conversation. A partial index is only chosen by a
    /// query whose WHERE names its condition literally, hence one statement for each.
    pub(super) fn active_conversations_sql(
        &self,
        visible: &VisibleInboxes,
        open_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<Id>> {
        let (all, inbox_ids) = visible_ids(visible);
        let sql = if open_only {
            "SELECT id FROM conversations
             WHERE scope = '' AND status != 'resolved'
               AND ($1::boolean OR inbox_id = ANY($2::text[]))
             ORDER BY last_activity_at DESC LIMIT $3::bigint"
        } else {
            "SELECT id FROM conversations
             WHERE scope = ''
               AND ($1::boolean OR inbox_id = ANY($2::text[]))
             ORDER BY last_activity_at DESC LIMIT $3::bigint"
        };
        let rows = self.rows(sql, &[&all, &inbox_ids, &(limit as i64)])?;
        rows.into_iter().map(|row| parse_id(&row.try_get::<_, String>(0)?)).collect()
    }

    /// A thread's messages, newest first, older than `before`.
    pub(super) fn thread_messages_sql(
        &self,
        conversation: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> StoreResult<Vec<HistoryCursor>> {
        let (at, id) = before.map_or((i64::MAX, String::new()), |b| (b.created_at, b.id.to_string()));
        let rows = self.rows(
            "SELECT created_at, id FROM messages
             WHERE conversation_id = $1::text AND scope = ''
               AND (created_at < $2::bigint OR (created_at = $2::bigint AND id < $3::text))
             ORDER BY created_at DESC, id DESC LIMIT $4::bigint",
            &[&conversation.to_string(), &at, &id, &(limit as i64)],
        )?;
        rows.into_iter()
            .map(|row| {
                Ok(HistoryCursor {
                    created_at: row.try_get(0)?,
                    id: parse_id(&row.try_get::<_, String>(1)?)?,
                })
            })
            .collect()
    }

    /// The backfill's page: latest upserts with `seq ≤ upto` and `seq < before`, highest first.
    pub(super) fn backfill_page_sql(
        &self,
        agent_id: Id,
        visible: &VisibleInboxes,
        upto: i64,
        before: i64,
        limit: usize,
    ) -> StoreResult<Vec<Change>> {
        let (all, inbox_ids) = visible_ids(visible);
        let rows = self.rows(
            "SELECT seq, entity, entity_id, op, data FROM changes
             WHERE seq <= $1::bigint AND seq < $2::bigint AND NOT superseded AND op = 'upsert'
               AND (inbox_id IS NULL OR $3::boolean OR inbox_id = ANY($4::text[]))
               AND (scope_agent = '' OR scope_agent = $5::text)
             ORDER BY seq DESC LIMIT $6::bigint",
            &[&upto, &before, &all, &inbox_ids, &agent_id.to_string(), &(limit as i64)],
        )?;
        Self::changes_of(rows)
    }

    /// Message hits, newest first, only in visible inboxes: the newest `limit` matches by insertion
    /// order rather than ranked, so a very common word costs the same as a rare one.
    pub(super) fn search_messages_sql(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<MessageHit>> {
        let Some(query) = Query::parse(query) else {
            return Ok(vec![]);
        };
        let (all, inbox_ids) = visible_ids(visible);
        let rows = self.rows(
            "SELECT message_id, conversation_id, created_at, body FROM message_search
             WHERE words @@ $1::text::tsquery
               AND ($2::boolean OR inbox_id = ANY($3::text[]))
             ORDER BY pos DESC LIMIT $4::bigint",
            &[&query.tsquery(), &all, &inbox_ids, &(limit as i64)],
        )?;
        rows.into_iter()
            .map(|row| {
                Ok(MessageHit {
                    message_id: parse_id(&row.try_get::<_, String>(0)?)?,
                    conversation_id: parse_id(&row.try_get::<_, String>(1)?)?,
                    created_at: row.try_get(2)?,
                    snippet: query.snippet(&row.try_get::<_, String>(3)?),
                })
            })
            .collect()
    }

    /// Contacts the reader may see (created by agents, or who wrote into a visible inbox) whose
    /// name or email contains `query` (case-insensitively, as SQLite's `LIKE`), or whose phone
    /// contains its digits.
    pub(super) fn find_contacts_sql(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<Contact>> {
        let (all, inbox_ids) = visible_ids(visible);
        let (pattern, digit_pattern) = crate::store::contact_patterns(query);
        self.entities(
            "SELECT data FROM contacts
             WHERE data->>'merged_into' IS NULL
               AND (inbox_id IS NULL OR $4::boolean OR inbox_id = ANY($5::text[]))
               AND ($1::text = '%%' OR name ILIKE $1::text OR data->>'email' ILIKE $1::text
                    OR ($2::text != '' AND phone_digits LIKE $2::text))
             ORDER BY pos DESC LIMIT $3::bigint",
            &[&pattern, &digit_pattern, &(limit as i64), &all, &inbox_ids],
        )
    }
}
