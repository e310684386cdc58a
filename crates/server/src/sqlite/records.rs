//! Reading and writing entity rows, and the one place a change row is appended: every `put` or
//! `remove` writes the entity and its feed record in the caller's transaction.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{de::DeserializeOwned, Serialize};
use switchboard_proto::{Change, ChangeOp, EntityKind, Id, Millis};

use crate::{db::FeedRecord, error::ApiResult};

/// A write transaction and the feed records it has produced so far.
pub struct Tx<'c> {
    tx: Transaction<'c>,
    records: Vec<FeedRecord>,
    /// The time the transaction runs at (from the server's clock).
    pub now: Millis,
}

impl<'c> std::ops::Deref for Tx<'c> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl<'c> Tx<'c> {
    pub fn new(tx: Transaction<'c>, now: Millis) -> Self {
        Tx { tx, records: Vec::new(), now }
    }

    /// Commits and hands back the records to publish.
    pub fn commit(self) -> rusqlite::Result<Vec<FeedRecord>> {
        self.tx.commit()?;
        Ok(self.records)
    }

    /// Upserts an entity and appends its change. `scope` makes it private to one agent;
    /// `inbox` limits it to those who can see that inbox.
    pub fn put<T: Serialize>(
        &mut self,
        kind: EntityKind,
        id: Id,
        scope: Option<Id>,
        inbox: Option<Id>,
        value: &T,
    ) -> ApiResult<()> {
        let data = serde_json::to_value(value)?;
        let text = data.to_string();
        self.tx.execute(
            &format!(
                "INSERT INTO {} (id, scope, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id, scope) DO UPDATE SET data = excluded.data",
                table(kind)
            ),
            params![id.to_string(), scope_text(scope), text],
        )?;
        self.append(kind, id, scope, inbox, ChangeOp::Upsert, Some(data))
    }

    /// The highest seq this transaction has appended so far (0: none).
    pub fn last_seq(&self) -> i64 {
        self.records.last().map_or(0, |record| record.change.seq)
    }

    /// Deletes an entity and appends its tombstone.
    pub fn remove(
        &mut self,
        kind: EntityKind,
        id: Id,
        scope: Option<Id>,
        inbox: Option<Id>,
    ) -> ApiResult<bool> {
        let deleted = self.tx.execute(
            &format!("DELETE FROM {} WHERE id = ?1 AND scope = ?2", table(kind)),
            params![id.to_string(), scope_text(scope)],
        )?;
        if deleted > 0 {
            self.append(kind, id, scope, inbox, ChangeOp::Delete, None)?;
        }
        Ok(deleted > 0)
    }

    fn append(
        &mut self,
        kind: EntityKind,
        id: Id,
        scope: Option<Id>,
        inbox: Option<Id>,
        op: ChangeOp,
        data: Option<serde_json::Value>,
    ) -> ApiResult<()> {
        let id_text = id.to_string();
        let scope_text = scope_text(scope);
        self.tx.execute(
            "UPDATE changes SET superseded = 1
             WHERE entity = ?1 AND entity_id = ?2 AND scope_agent = ?3 AND superseded = 0",
            params![kind.as_str(), id_text, scope_text],
        )?;
        let op_text = match op {
            ChangeOp::Upsert => "upsert",
            ChangeOp::Delete => "delete",
        };
        let seq: i64 = self.tx.query_row(
            "INSERT INTO changes (entity, entity_id, scope_agent, inbox_id, op, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
            params![
                kind.as_str(),
                id_text,
                scope_text,
                inbox.map(|i| i.to_string()),
                op_text,
                data.as_ref().map(|d| d.to_string())
            ],
            |row| row.get(0),
        )?;
        self.records.push(FeedRecord::new(Change { seq, entity: kind, id, op, data }, inbox, scope));
        Ok(())
    }

    /// The stored answer of an earlier mutation with this `client_id`, if any. A `client_id`
    /// reused for a different action, target or agent is an error.
    pub fn replayed<T: DeserializeOwned>(
        &self,
        client_id: Id,
        agent_id: Id,
        action: &str,
        target: Id,
    ) -> ApiResult<Option<T>> {
        let stored: Option<(String, String, String, String)> = self
            .tx
            .query_row(
                "SELECT agent_id, action, target, response FROM mutations WHERE client_id = ?1",
                [client_id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        let Some((stored_agent, stored_action, stored_target, response)) = stored else {
            return Ok(None);
        };
        if stored_agent != agent_id.to_string()
            || stored_action != action
            || stored_target != target.to_string()
        {
            return Err(crate::error::ApiError::new(
                axum::http::StatusCode::CONFLICT,
                switchboard_proto::ErrorCode::ClientIdReused,
                "this client_id was already used for a different request",
            ));
        }
        Ok(Some(serde_json::from_str(&response)?))
    }

    /// Remembers a mutation's answer under its `client_id`.
    pub fn remember<T: Serialize>(
        &self,
        client_id: Id,
        agent_id: Id,
        action: &str,
        target: Id,
        response: &T,
    ) -> ApiResult<()> {
        self.tx.execute(
            "INSERT INTO mutations (client_id, agent_id, action, target, response) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                client_id.to_string(),
                agent_id.to_string(),
                action,
                target.to_string(),
                serde_json::to_string(response)?
            ],
        )?;
        Ok(())
    }
}

/// The table an entity kind lives in.
pub fn table(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Agent => "agents",
        EntityKind::Team => "teams",
        EntityKind::Inbox => "inboxes",
        EntityKind::Contact => "contacts",
        EntityKind::Conversation => "conversations",
        EntityKind::Message => "messages",
        EntityKind::Label => "labels",
        EntityKind::CannedResponse => "canned_responses",
        EntityKind::Mention => "mentions",
        EntityKind::Pin => "pins",
        EntityKind::ReadMarker => "read_markers",
    }
}

fn scope_text(scope: Option<Id>) -> String {
    scope.map(|s| s.to_string()).unwrap_or_default()
}

/// Loads one entity.
pub fn get<T: DeserializeOwned>(
    conn: &Connection,
    kind: EntityKind,
    id: Id,
    scope: Option<Id>,
) -> ApiResult<Option<T>> {
    let text: Option<String> = conn
        .query_row(
            &format!("SELECT data FROM {} WHERE id = ?1 AND scope = ?2", table(kind)),
            params![id.to_string(), scope_text(scope)],
            |row| row.get(0),
        )
        .optional()?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

/// Loads every entity of a kind (for the small directory tables).
pub fn all<T: DeserializeOwned>(conn: &Connection, kind: EntityKind) -> ApiResult<Vec<T>> {
    let mut statement = conn.prepare_cached(&format!("SELECT data FROM {} ORDER BY rowid", table(kind)))?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}

/// Loads the entities a query selects by their `data` column.
pub fn query<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> ApiResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, |row| row.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}
