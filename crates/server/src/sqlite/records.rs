//! Entity rows and the one place a change row is appended: every `put` or `remove` writes the
//! entity and its feed record in the caller's transaction.

use rusqlite::{params, Connection, OptionalExtension, Params, Row};
use serde_json::Value;
use switchboard_proto::{Change, ChangeOp, EntityKind, Id};

use super::Sql;
use crate::{bus::FeedRecord, store::Audience, store::StoreResult};

/// `execute` and `query_row` through the connection's statement cache. A write transaction runs
/// the same few dozen statements over and over (every `put` is three), and preparing a statement
/// costs more than running it: uncached, parsing SQL was a quarter of an inbound message's
/// transaction (docs/performance.md).
pub trait Cached {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

pub fn scope_text(scope: Option<Id>) -> String {
    scope.map(|s| s.to_string()).unwrap_or_default()
}

/// Loads one entity's JSON.
pub fn get(conn: &Connection, kind: EntityKind, id: Id, scope: Option<Id>) -> StoreResult<Option<Value>> {
    let text: Option<String> = conn
        .query_row_cached(
            &format!("SELECT data FROM {} WHERE id = ?1 AND scope = ?2", kind.table()),
            params![id.to_string(), scope_text(scope)],
            |row| row.get(0),
        )
        .optional()?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

/// Loads every entity of a kind.
pub fn all(conn: &Connection, kind: EntityKind) -> StoreResult<Vec<Value>> {
    query(conn, &format!("SELECT data FROM {} ORDER BY rowid", kind.table()), [])
}

/// Loads the entities a query selects by their `data` column.
pub fn query<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, |row| row.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}

impl Sql<'_> {
    /// Upserts an entity and appends its change.
    pub(super) fn put_row(
        &mut self,
        kind: EntityKind,
        id: Id,
        audience: Audience,
        data: Value,
    ) -> StoreResult<()> {
        // Serialised once, for the row and its change alike.
        let text = data.to_string();
        self.conn.execute_cached(
            &format!(
                "INSERT INTO {} (id, scope, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id, scope) DO UPDATE SET data = excluded.data",
                kind.table()
            ),
            params![id.to_string(), scope_text(audience.agent), text],
        )?;
        self.append(kind, id, audience, ChangeOp::Upsert, Some((data, text)))
    }

    /// Deletes an entity and appends its tombstone.
    pub(super) fn remove_row(&mut self, kind: EntityKind, id: Id, audience: Audience) -> StoreResult<bool> {
        let deleted = self.conn.execute_cached(
            &format!("DELETE FROM {} WHERE id = ?1 AND scope = ?2", kind.table()),
            params![id.to_string(), scope_text(audience.agent)],
        )?;
        if deleted > 0 {
            self.append(kind, id, audience, ChangeOp::Delete, None)?;
        }
        Ok(deleted > 0)
    }

    fn append(
        &mut self,
        kind: EntityKind,
        id: Id,
        audience: Audience,
        op: ChangeOp,
        data: Option<(Value, String)>,
    ) -> StoreResult<()> {
        let (data, text) = data.unzip();
        if let (ChangeOp::Upsert, Some(seq)) =
            (op, self.records.rewritable(kind, id, audience.inbox, audience.agent))
        {
            self.conn.execute_cached("UPDATE changes SET data = ?2 WHERE seq = ?1", params![seq, text])?;
            self.records.rewrite(kind, id, audience.agent, data);
            return Ok(());
        }
        let id_text = id.to_string();
        let scope_text = scope_text(audience.agent);
        self.conn.execute_cached(
            "UPDATE changes SET superseded = 1
             WHERE entity = ?1 AND entity_id = ?2 AND scope_agent = ?3 AND superseded = 0",
            params![kind.as_str(), id_text, scope_text],
        )?;
        let op_text = match op {
            ChangeOp::Upsert => "upsert",
            ChangeOp::Delete => "delete",
        };
        let seq: i64 = self.conn.query_row_cached(
            "INSERT INTO changes (entity, entity_id, scope_agent, inbox_id, op, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
            params![kind.as_str(), id_text, scope_text, audience.inbox.map(|i| i.to_string()), op_text, text],
            |row| row.get(0),
        )?;
        self.records.push(FeedRecord::new(
            Change { seq, entity: kind, id, op, data },
            audience.inbox,
            audience.agent,
        ));
        Ok(())
    }
}
