//! Entity rows and the one place a change row is appended: every `put` or `remove` writes the
//! entity and its feed record in the caller's transaction. Also the small query helpers the other
//! files share.

use ::postgres::{types::ToSql, Row};
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_proto::{Change, ChangeOp, EntityKind, Id};

use super::Pg;
use crate::{bus::FeedRecord, store::Audience, store::StoreResult};

/// Query parameters as the client takes them.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

pub fn scope_text(scope: Option<Id>) -> String {
    scope.map(|s| s.to_string()).unwrap_or_default()
}

impl Pg<'_> {
    /// Every row a query returns. Statements are prepared once per connection and reused.
    pub(super) fn rows(&self, sql: &str, params: Params) -> StoreResult<Vec<Row>> {
        let statement = self.prepare(sql)?;
        Ok(self.tx.borrow_mut().query(&statement, params)?)
    }

    /// The first row a query returns, if any.
    pub(super) fn row(&self, sql: &str, params: Params) -> StoreResult<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// Runs a statement; the number of rows it changed.
    pub(super) fn execute(&self, sql: &str, params: Params) -> StoreResult<u64> {
        let statement = self.prepare(sql)?;
        Ok(self.tx.borrow_mut().execute(&statement, params)?)
    }

    fn prepare(&self, sql: &str) -> StoreResult<::postgres::Statement> {
        let mut statements = self.statements.borrow_mut();
        if let Some(statement) = statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.borrow_mut().prepare(sql)?;
        statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// The entities a query selects by their `data` column (the first one).
    pub(super) fn entities<T: DeserializeOwned>(&self, sql: &str, params: Params) -> StoreResult<Vec<T>> {
        self.rows(sql, params)?
            .into_iter()
            .map(|row| Ok(serde_json::from_value(row.try_get::<_, Value>(0)?)?))
            .collect()
    }

    /// Loads one entity's JSON.
    pub(super) fn get_row(&self, kind: EntityKind, id: Id, scope: Option<Id>) -> StoreResult<Option<Value>> {
        let sql = format!("SELECT data FROM {} WHERE id = $1 AND scope = $2", kind.table());
        let row = self.row(&sql, &[&id.to_string(), &scope_text(scope)])?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// Loads every entity of a kind, oldest first.
    pub(super) fn all_rows(&self, kind: EntityKind) -> StoreResult<Vec<Value>> {
        self.entities(&format!("SELECT data FROM {} ORDER BY pos", kind.table()), &[])
    }

    /// Upserts an entity and appends its change.
    pub(super) fn put_row(
        &mut self,
        kind: EntityKind,
        id: Id,
        audience: Audience,
        data: Value,
    ) -> StoreResult<()> {
        self.execute(
            &format!(
                "INSERT INTO {} (id, scope, data) VALUES ($1, $2, $3)
                 ON CONFLICT (id, scope) DO UPDATE SET data = excluded.data",
                kind.table()
            ),
            &[&id.to_string(), &scope_text(audience.agent), &data],
        )?;
        self.append(kind, id, audience, ChangeOp::Upsert, Some(data))
    }

    /// Deletes an entity and appends its tombstone.
    pub(super) fn remove_row(&mut self, kind: EntityKind, id: Id, audience: Audience) -> StoreResult<bool> {
        let deleted = self.execute(
            &format!("DELETE FROM {} WHERE id = $1 AND scope = $2", kind.table()),
            &[&id.to_string(), &scope_text(audience.agent)],
        )?;
        if deleted > 0 {
            self.append(kind, id, audience, ChangeOp::Delete, None)?;
        }
        Ok(deleted > 0)
    }

    /// Marks the entity's previous change superseded and appends this one with the next seq, in
    /// one statement. The write holds the feed lock, so seqs follow commit order.
    fn append(
        &mut self,
        kind: EntityKind,
        id: Id,
        audience: Audience,
        op: ChangeOp,
        data: Option<Value>,
    ) -> StoreResult<()> {
        let op_text = match op {
            ChangeOp::Upsert => "upsert",
            ChangeOp::Delete => "delete",
        };
        if let (ChangeOp::Upsert, Some(seq)) =
            (op, self.records.rewritable(kind, id, audience.inbox, audience.agent))
        {
            self.execute("UPDATE changes SET data = $2 WHERE seq = $1", &[&seq, &data])?;
            self.records.rewrite(kind, id, audience.agent, data);
            return Ok(());
        }
        let tx_seq = self.records.first().map(|record| record.change.seq);
        let row = self.row(
            "WITH superseded AS (
                 UPDATE changes SET superseded = true
                 WHERE entity = $1 AND entity_id = $2 AND scope_agent = $3 AND NOT superseded
             ), next AS (SELECT nextval('feed_seq') AS seq)
             INSERT INTO changes (seq, tx_seq, entity, entity_id, scope_agent, inbox_id, op, data)
             SELECT seq, COALESCE($4::bigint, seq), $1, $2, $3, $5, $6, $7 FROM next
             RETURNING seq",
            &[
                &kind.as_str(),
                &id.to_string(),
                &scope_text(audience.agent),
                &tx_seq,
                &audience.inbox.map(|i| i.to_string()),
                &op_text,
                &data,
            ],
        )?;
        let seq: i64 = match row {
            Some(row) => row.try_get(0)?,
            None => return Err(crate::store::StoreError("appending a change returned no seq".into())),
        };
        self.records.push(FeedRecord::new(
            Change { seq, entity: kind, id, op, data },
            audience.inbox,
            audience.agent,
        ));
        Ok(())
    }
}
