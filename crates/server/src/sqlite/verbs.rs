//! The store's verbs in SQL: `StoreRead` and `StoreTx` for one SQLite snapshot or transaction.

use rusqlite::{params, types::ValueRef, OptionalExtension, Row};
use serde_json::Value;
use switchboard_proto::{
    audit::AuditEntry,
    automation::AutomationRun,
    reports::{FactKind, GroupBy, ReportFact},
    *,
};

use super::{feed, parse_id, records, records::Cached, Sql};
use crate::{
    bus::VisibleInboxes,
    facts,
    store::{
        AttachmentRecord, Audience, DeliveryRecord, DeviceRecord, MutationRecord, RuleWebhookRecord,
        StoreError, StoreRead, StoreResult, StoreTx, TimerRecord, TwoFactorRecord,
    },
};

const DEVICE_COLUMNS: &str = "id, agent_id, name, token_hash, created_at, last_seen_at, revoked_at";

/// A `devices` row as SQLite gives it: ids as text.
type DeviceRow = (String, String, String, String, i64, i64, Option<i64>);

fn device(row: &Row) -> rusqlite::Result<DeviceRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
}

fn device_record(
    (id, agent_id, name, token_hash, created_at, last_seen_at, revoked_at): DeviceRow,
) -> StoreResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: parse_id(&id)?,
        agent_id: parse_id(&agent_id)?,
        name,
        token_hash,
        created_at,
        last_seen_at,
        revoked_at,
    })
}

impl Sql<'_> {
    fn first_conversation(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> StoreResult<Option<Conversation>> {
        Ok(records::query(self.conn, sql, params)?.into_iter().next())
    }

    fn devices_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> StoreResult<Vec<DeviceRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE {condition} ORDER BY created_at"
        ))?;
        let rows = statement.query_map(params, device)?;
        rows.map(|row| device_record(row?)).collect()
    }
}

/// A stored value of a report row, read in place.
fn sql_value<T>(value: rusqlite::types::FromSqlResult<T>) -> StoreResult<T> {
    value.map_err(|e| StoreError(format!("a stored report fact: {e}")))
}

impl Sql<'_> {
    /// Report facts from `report_rows` ([`facts::COLUMNS`]).
    fn report_rows(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<Vec<ReportFact>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let fact = facts::fact_of(
                row.get(0)?,
                sql_value(row.get_ref(1)?.as_blob())?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                sql_value(row.get_ref(6)?.as_blob())?,
                sql_value(row.get_ref(7)?.as_str())?,
                sql_value(row.get_ref(8)?.as_blob_or_null())?,
                sql_value(row.get_ref(9)?.as_blob_or_null())?,
                row.get(10)?,
                sql_value(row.get_ref(11)?.as_str())?,
                sql_value(row.get_ref(12)?.as_str())?,
                row.get(13)?,
                [row.get(14)?, row.get(15)?, row.get(16)?],
            );
            out.push(fact.ok_or_else(|| StoreError("a stored report fact does not parse".into()))?);
        }
        Ok(out)
    }
}

/// A rollup key column's id (the empty blob: none).
fn rollup_id(bytes: &[u8]) -> StoreResult<Option<Id>> {
    facts::key_id(bytes).ok_or_else(|| StoreError("a stored rollup id".into()))
}

impl Sql<'_> {
    /// Folds the facts dated in `[from, to)` into a scan's tally: the count facts (`kind < 4`,
    /// read in place from the table clustered by time) or the duration facts (`kind >= 4`, from
    /// their covering index `report_rows_timed`).
    fn fold_facts(
        &self,
        tally: &mut facts::Tally,
        scan: &facts::Scan,
        from: Millis,
        to: Millis,
        timed: bool,
    ) -> StoreResult<()> {
        let key = match scan.key_column() {
            None | Some("agent_id") => "NULL",
            Some(column) => column,
        };
        let durations = facts::kind_code(FactKind::FirstResponse);
        let sql = if timed {
            format!(
                "SELECT at, kind, origin, inbox_id, agent_id, {key}, conversation_id, wall_ms, business_ms, open_ms
                 FROM report_rows INDEXED BY report_rows_timed
                 WHERE kind >= {durations} AND at >= ?1 AND at < ?2 AND (?3 IS NULL OR agent_id = ?3)"
            )
        } else {
            format!(
                "SELECT at, kind, origin, inbox_id, agent_id, {key}, NULL, NULL, NULL, NULL
                 FROM report_rows WHERE at >= ?1 AND at < ?2 AND kind < {durations} AND (?3 IS NULL OR agent_id = ?3)"
            )
        };
        let mut statement = self.conn.prepare_cached(&sql)?;
        let agent = scan.agent.as_ref().map(|id| id.as_bytes().as_slice());
        let mut rows = statement.query(params![from, to, agent])?;
        let id = |bytes: &[u8]| Id::from_slice(bytes).map_err(|e| StoreError(format!("stored id: {e}")));
        let int = |value: ValueRef| match value {
            ValueRef::Integer(value) => Ok(value),
            ValueRef::Null => Ok(0),
            other => Err(StoreError(format!("a stored report fact: {other:?}"))),
        };
        let by_agent = scan.key_column() == Some("agent_id");
        while let Some(row) = rows.next()? {
            let code = int(row.get_ref(1)?)?;
            let Some(kind) = facts::kind_of(code) else {
                return Err(StoreError(format!("stored fact kind {code}")));
            };
            let agent = sql_value(row.get_ref(4)?.as_blob_or_null())?.map(id).transpose()?;
            let fact = facts::Seen {
                at: int(row.get_ref(0)?)?,
                kind,
                origin: facts::origin_of(int(row.get_ref(2)?)?),
                inbox: id(sql_value(row.get_ref(3)?.as_blob())?)?,
                agent,
                conversation: if timed { id(sql_value(row.get_ref(6)?.as_blob())?)? } else { Id::nil() },
                wall_ms: int(row.get_ref(7)?)?,
                business_ms: int(row.get_ref(8)?)?,
                open_ms: int(row.get_ref(9)?)?,
            };
            let key = if by_agent {
                agent.map_or(facts::RawKey::Null, facts::RawKey::Id)
            } else {
                match row.get_ref(5)? {
                    ValueRef::Null => facts::RawKey::Null,
                    ValueRef::Blob(bytes) => facts::RawKey::Id(id(bytes)?),
                    ValueRef::Text(text) => facts::RawKey::Text(String::from_utf8_lossy(text).into_owned()),
                    other => return Err(StoreError(format!("stored fact key {other:?}"))),
                }
            };
            tally.add(&fact, key);
        }
        Ok(())
    }
}

impl StoreRead for Sql<'_> {
    fn now(&self) -> Millis {
        self.now
    }

    fn get_json(&self, kind: EntityKind, id: Id, scope: Option<Id>) -> StoreResult<Option<Value>> {
        // Read-your-own-write: an entity this transaction put (or removed) is answered from the
        // JSON it wrote (an automated inbound reads back its conversation, message and contact).
        if let Some(written) = self.records.written(kind, id, scope) {
            return Ok(written.cloned());
        }
        records::get(self.conn, kind, id, scope)
    }

    fn all_json(&self, kind: EntityKind) -> StoreResult<Vec<Value>> {
        records::all(self.conn, kind)
    }

    fn open_conversation(
        &self,
        inbox: Id,
        contact: Id,
        except: Option<Id>,
    ) -> StoreResult<Option<Conversation>> {
        self.first_conversation(
            "SELECT data FROM conversations
             WHERE inbox_id = ?1 AND contact_id = ?2 AND status != 'resolved' AND id != ?3",
            params![
                inbox.to_string(),
                contact.to_string(),
                except.map(|e| e.to_string()).unwrap_or_default()
            ],
        )
    }

    fn contact_conversations(&self, contact: Id) -> StoreResult<Vec<Conversation>> {
        records::query(
            self.conn,
            "SELECT data FROM conversations WHERE contact_id = ?1 ORDER BY last_activity_at DESC, id",
            params![contact.to_string()],
        )
    }

    fn latest_conversation(&self, inbox: Id, contact: Id) -> StoreResult<Option<Conversation>> {
        self.first_conversation(
            "SELECT data FROM conversations WHERE inbox_id = ?1 AND contact_id = ?2
             ORDER BY last_activity_at DESC LIMIT 1",
            params![inbox.to_string(), contact.to_string()],
        )
    }

    fn conversations_with_label(&self, name: &str) -> StoreResult<Vec<Conversation>> {
        records::query(
            self.conn,
            "SELECT data FROM conversations
             WHERE EXISTS (SELECT 1 FROM json_each(data, '$.labels') WHERE value = ?1)",
            [name],
        )
    }

    fn messages_of(&self, conversation: Id) -> StoreResult<Vec<Message>> {
        records::query(
            self.conn,
            "SELECT data FROM messages WHERE conversation_id = ?1 ORDER BY created_at, rowid",
            [conversation.to_string()],
        )
    }

    fn unresolved_conversations(&self) -> StoreResult<Vec<Conversation>> {
        records::query(
            self.conn,
            "SELECT data FROM conversations WHERE status != 'resolved' ORDER BY rowid",
            [],
        )
    }

    fn unresolved_assigned_to(&self, agent: Id) -> StoreResult<Vec<Conversation>> {
        records::query(
            self.conn,
            "SELECT data FROM conversations
             WHERE data->>'assignee_id' = ?1 AND data->>'status' != 'resolved' ORDER BY rowid",
            [agent.to_string()],
        )
    }

    fn routing_queue(&self, inbox: Id, limit: usize) -> StoreResult<Vec<Conversation>> {
        records::query(
            self.conn,
            "SELECT data FROM conversations
             WHERE inbox_id = ?1 AND status = 'open' AND data->>'assignee_id' IS NULL
             ORDER BY data->>'waiting_since' IS NULL, data->>'waiting_since', data->>'created_at', id
             LIMIT ?2",
            params![inbox.to_string(), i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    fn routing_queued(&self, inbox: Id) -> StoreResult<bool> {
        // A statement of its own: `routing_queue`'s plan depends on its LIMIT, so binding another
        // limit to it would have it prepared again on every call.
        Ok(self.conn.query_row_cached(
            "SELECT EXISTS (SELECT 1 FROM conversations
             WHERE inbox_id = ?1 AND status = 'open' AND data->>'assignee_id' IS NULL)",
            [inbox.to_string()],
            |row| row.get(0),
        )?)
    }

    fn open_loads(&self) -> StoreResult<Vec<(Id, usize)>> {
        let mut statement = self.conn.prepare_cached(
            // Kept by the `conversations_load_*` triggers (migration 14).
            "SELECT agent_id, open FROM agent_loads WHERE open > 0",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
        rows.map(|row| {
            let (agent, count) = row?;
            Ok((parse_id(&agent)?, usize::try_from(count).unwrap_or_default()))
        })
        .collect()
    }

    fn routing_turns(&self) -> StoreResult<Vec<(Id, i64)>> {
        let mut statement = self.conn.prepare_cached("SELECT agent_id, turn FROM routing_turns")?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
        rows.map(|row| {
            let (agent, turn) = row?;
            Ok((parse_id(&agent)?, turn))
        })
        .collect()
    }

    fn events_of(&self, conversation: Id) -> StoreResult<Vec<ledger::ConversationEvent>> {
        records::query(
            self.conn,
            "SELECT data FROM conversation_events WHERE conversation_id = ?1 ORDER BY id",
            [conversation.to_string()],
        )
    }

    fn events_of_many(
        &self,
        conversations: &[Id],
        kinds: &[&str],
    ) -> StoreResult<Vec<ledger::ConversationEvent>> {
        // In-process, a lookup per conversation through the index costs no round trip.
        let kinds = serde_json::to_string(kinds)?;
        let mut events = Vec::new();
        for conversation in conversations {
            let found: Vec<ledger::ConversationEvent> = records::query(
                self.conn,
                "SELECT data FROM conversation_events
                 WHERE conversation_id = ?1 AND kind IN (SELECT value FROM json_each(?2)) ORDER BY id",
                params![conversation.to_string(), kinds],
            )?;
            events.extend(found);
        }
        Ok(events)
    }

    fn events_between(
        &self,
        kind: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<ledger::ConversationEvent>> {
        records::query(
            self.conn,
            "SELECT data FROM conversation_events WHERE kind = ?1 AND at >= ?2 AND at < ?3 ORDER BY id",
            params![kind, from, to],
        )
    }

    fn current_cycle(&self, conversation: Id) -> StoreResult<Option<u32>> {
        Ok(self
            .conn
            .query_row_cached(
                "SELECT cycle FROM conversation_events WHERE conversation_id = ?1 ORDER BY id DESC LIMIT 1",
                [conversation.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn automation_runs(
        &self,
        rule: Option<Id>,
        conversation: Option<Id>,
        before: Option<Id>,
        limit: usize,
    ) -> StoreResult<Vec<AutomationRun>> {
        records::query(
            self.conn,
            "SELECT data FROM automation_runs
             WHERE (?1 IS NULL OR rule_id = ?1) AND (?2 IS NULL OR conversation_id = ?2)
               AND (?3 IS NULL OR id < ?3)
             ORDER BY id DESC LIMIT ?4",
            params![
                rule.map(|id| id.to_string()),
                conversation.map(|id| id.to_string()),
                before.map(|id| id.to_string()),
                limit as i64
            ],
        )
    }

    fn last_automation_run(&self, rule: Id, conversation: Id) -> StoreResult<Option<AutomationRun>> {
        Ok(records::query(
            self.conn,
            "SELECT data FROM automation_runs
             WHERE conversation_id = ?1 AND rule_id = ?2 AND status = 'done' ORDER BY id DESC LIMIT 1",
            [conversation.to_string(), rule.to_string()],
        )?
        .into_iter()
        .next())
    }

    fn kind_version(&self, kind: EntityKind) -> StoreResult<i64> {
        // In a write that hasn't written the kind, the store's known version is the committed one
        // (`super::KindVersions`); else, and in reads, the feed says.
        let known = self.versions.as_ref().filter(|_| !self.records.iter().any(|r| r.change.entity == kind));
        if let Some(versions) = known {
            if let Some(seq) = versions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&kind) {
                return Ok(*seq);
            }
        }
        let seq = self.conn.query_row_cached(
            "SELECT COALESCE(MAX(seq), 0) FROM changes WHERE entity = ?1 AND superseded = 0",
            [kind.as_str()],
            |row| row.get(0),
        )?;
        if let Some(versions) = known {
            versions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(kind).or_insert(seq);
        }
        Ok(seq)
    }

    fn two_factor(&self, agent: Id) -> StoreResult<Option<TwoFactorRecord>> {
        let data: Option<String> = self
            .conn
            .query_row("SELECT data FROM two_factor WHERE agent_id = ?1", [agent.to_string()], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(data.map(|data| serde_json::from_str(&data)).transpose()?)
    }

    fn email_state(&self, inbox: Id, key: &str) -> StoreResult<Option<Value>> {
        let data: Option<String> = self
            .conn
            .query_row_cached(
                "SELECT data FROM email_state WHERE inbox_id = ?1 AND key = ?2",
                params![inbox.to_string(), key],
                |row| row.get(0),
            )
            .optional()?;
        Ok(data.map(|data| serde_json::from_str(&data)).transpose()?)
    }

    fn export_request(&self, id: Id) -> StoreResult<Option<switchboard_proto::exports::ExportRequest>> {
        let data: Option<String> = self
            .conn
            .query_row_cached(
                "SELECT data FROM email_state WHERE key = 'export:' || ?1",
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(data.map(|data| serde_json::from_str(&data)).transpose()?)
    }

    fn export_requests(
        &self,
        pending_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<switchboard_proto::exports::ExportRequest>> {
        records::query(
            self.conn,
            "SELECT data FROM email_state WHERE key LIKE 'export:%'
                AND (?1 = 0 OR data->>'status' = 'pending')
             ORDER BY data->>'created_at' DESC, key LIMIT ?2",
            params![pending_only as i64, limit as i64],
        )
    }

    fn workspace_setting(&self, key: &str) -> StoreResult<Option<Value>> {
        let data: Option<String> = self
            .conn
            .query_row_cached(
                "SELECT data FROM email_state WHERE inbox_id = ?1 AND key = ?2",
                params![Id::nil().to_string(), key],
                |row| row.get(0),
            )
            .optional()?;
        Ok(data.map(|data| serde_json::from_str(&data)).transpose()?)
    }

    fn audit_tail(&self) -> StoreResult<Option<(i64, String)>> {
        Ok(self
            .conn
            .query_row_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?)
    }

    fn audit_rows(&self, from_seq: i64, to_seq: i64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        records::query(
            self.conn,
            "SELECT data FROM audit_events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
            params![from_seq, to_seq, limit as i64],
        )
    }

    fn report_facts(&self, from: Millis, to: Millis) -> StoreResult<Vec<ReportFact>> {
        self.report_rows(
            &format!(
                "SELECT {} FROM report_rows WHERE at >= ?1 AND at < ?2 ORDER BY at, conversation_id, seq",
                facts::COLUMNS
            ),
            params![from, to],
        )
    }

    fn report_facts_of_kind(&self, kind: FactKind, from: Millis, to: Millis) -> StoreResult<Vec<ReportFact>> {
        self.report_rows(
            &format!(
                "SELECT {} FROM report_rows WHERE at >= ?1 AND at < ?2 AND kind = ?3
                 ORDER BY at, conversation_id, seq",
                facts::COLUMNS
            ),
            params![from, to, facts::kind_code(kind)],
        )
    }

    fn report_facts_of(&self, conversations: &[Id], since: Millis) -> StoreResult<Vec<ReportFact>> {
        // From a start, one sequential read of the table clustered by time beats a lookup per
        // conversation through the secondary index (into rows written conversation by
        // conversation: a page miss per fact).
        if since == Millis::MIN {
            let mut facts = Vec::new();
            for conversation in conversations {
                facts.extend(self.conversation_report_facts(*conversation)?);
            }
            return Ok(facts);
        }
        let wanted: std::collections::HashSet<Id> = conversations.iter().copied().collect();
        Ok(self
            .report_facts(since, Millis::MAX)?
            .into_iter()
            .filter(|fact| wanted.contains(&fact.conversation_id))
            .collect())
    }

    fn conversation_report_facts(&self, conversation: Id) -> StoreResult<Vec<ReportFact>> {
        self.report_rows(
            &format!("SELECT {} FROM report_rows WHERE conversation_id = ?1 ORDER BY seq", facts::COLUMNS),
            params![conversation.as_bytes().as_slice()],
        )
    }

    fn report_scan(&self, scan: &facts::Scan) -> StoreResult<facts::Buckets> {
        // The count facts from the hour and day rollups (a few rows per unit, whatever the
        // facts' number), and the raw ones only where a bucket's edge falls inside an hour;
        // the duration facts (a third) one sequential read of their covering index. All folded
        // in process: cheaper here than SQL's GROUP BY, which would sort every row first.
        let plan = scan.plan();
        let mut tally = facts::Tally::new(scan);
        let rollup_key = match scan.group_by {
            GroupBy::None => "NULL",
            GroupBy::Agent => "agent_id",
            GroupBy::Team => "team_id",
            GroupBy::Inbox => "inbox_id",
            GroupBy::Channel => "channel",
            GroupBy::Label => "labels",
        };
        // The narrowest rows that hold the scan's grouping and filter (per agent, else without
        // the team and the label list: several times fewer rows per unit each).
        let level = scan.level();
        let labels = level.labels_condition();
        for (unit, from, to) in plan.ranges() {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT start, inbox_id, agent_id, {rollup_key}, {} FROM {}
                 WHERE start >= ?1 AND start < ?2 AND {labels}",
                facts::ROLLUP_COUNTS,
                unit.table(),
            ))?;
            let mut rows = statement.query(params![from, to])?;
            while let Some(row) = rows.next()? {
                let key = match row.get_ref(3)? {
                    ValueRef::Null => facts::RawKey::Null,
                    ValueRef::Blob(bytes) => rollup_id(bytes)?.map_or(facts::RawKey::Null, facts::RawKey::Id),
                    ValueRef::Text(text) => facts::RawKey::Text(String::from_utf8_lossy(text).into_owned()),
                    other => return Err(StoreError(format!("stored rollup key {other:?}"))),
                };
                let seen = facts::RollupSeen {
                    unit,
                    start: row.get(0)?,
                    inbox: rollup_id(sql_value(row.get_ref(1)?.as_blob())?)?
                        .ok_or_else(|| StoreError("a rollup row without an inbox".into()))?,
                    agent: rollup_id(sql_value(row.get_ref(2)?.as_blob())?)?,
                    counts: facts::Counts::from_columns([
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                        row.get(8)?,
                    ]),
                };
                tally.add_rollup(&plan, &seen, key);
            }
        }
        // The duration facts from their spreads, over the same plan (a day's values minus its
        // hours outside the bucket: exact multisets), a row per unit and dimensions.
        for (unit, from, to) in plan.ranges() {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT start, inbox_id, agent_id, {rollup_key}, kind, {} FROM report_spreads
                 WHERE unit = ?1 AND start >= ?2 AND start < ?3",
                facts::SPREAD_VALUES
            ))?;
            let mut rows = statement.query(params![unit.spread_code(level), from, to])?;
            while let Some(row) = rows.next()? {
                let key = match row.get_ref(3)? {
                    ValueRef::Null => facts::RawKey::Null,
                    ValueRef::Blob(bytes) => rollup_id(bytes)?.map_or(facts::RawKey::Null, facts::RawKey::Id),
                    ValueRef::Text(text) => facts::RawKey::Text(String::from_utf8_lossy(text).into_owned()),
                    other => return Err(StoreError(format!("stored spread key {other:?}"))),
                };
                let code: i64 = row.get(4)?;
                let seen = facts::SpreadSeen {
                    unit,
                    start: row.get(0)?,
                    inbox: rollup_id(sql_value(row.get_ref(1)?.as_blob())?)?
                        .ok_or_else(|| StoreError("a spread row without an inbox".into()))?,
                    agent: rollup_id(sql_value(row.get_ref(2)?.as_blob())?)?,
                    kind: facts::kind_of(code)
                        .ok_or_else(|| StoreError(format!("stored fact kind {code}")))?,
                    wall: sql_value(row.get_ref(5)?.as_blob())?,
                    business: sql_value(row.get_ref(6)?.as_blob())?,
                    open: sql_value(row.get_ref(7)?.as_blob())?,
                    conversations: sql_value(row.get_ref(8)?.as_blob())?,
                };
                tally.add_spread(&plan, &seen, key);
            }
        }
        for (from, to) in &plan.raw {
            self.fold_facts(&mut tally, scan, *from, *to, false)?;
            self.fold_facts(&mut tally, scan, *from, *to, true)?;
        }
        Ok(tally.finish())
    }

    fn report_spreads(&self) -> StoreResult<Vec<(facts::SpreadKey, facts::Spread)>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {}, {} FROM report_spreads",
            facts::SPREAD_KEY,
            facts::SPREAD_VALUES
        ))?;
        let mut rows = statement.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let code: i64 = row.get(0)?;
            let key = facts::RollupKey {
                unit: facts::Unit::of_spread_code(code)
                    .ok_or_else(|| StoreError(format!("stored unit {code}")))?,
                start: row.get(1)?,
                inbox: rollup_id(sql_value(row.get_ref(2)?.as_blob())?)?
                    .ok_or_else(|| StoreError("a spread row without an inbox".into()))?,
                channel: row.get(3)?,
                agent: rollup_id(sql_value(row.get_ref(4)?.as_blob())?)?,
                team: rollup_id(sql_value(row.get_ref(5)?.as_blob())?)?,
                labels: row.get(6)?,
            };
            let blob = |i: usize| sql_value(row.get_ref(i)?.as_blob());
            let spread = facts::Spread::from_blobs(blob(8)?, blob(9)?, blob(10)?, blob(11)?)
                .ok_or_else(|| StoreError("a stored spread does not parse".into()))?;
            out.push(((key, row.get(7)?), spread));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn report_rollups(&self) -> StoreResult<Vec<(facts::RollupKey, facts::Counts)>> {
        let mut out = Vec::new();
        for unit in facts::Unit::ALL {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT {}, {} FROM {}",
                facts::ROLLUP_KEY,
                facts::ROLLUP_COUNTS,
                unit.table()
            ))?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let key = facts::RollupKey {
                    unit,
                    start: row.get(0)?,
                    inbox: rollup_id(sql_value(row.get_ref(1)?.as_blob())?)?
                        .ok_or_else(|| StoreError("a rollup row without an inbox".into()))?,
                    channel: row.get(2)?,
                    agent: rollup_id(sql_value(row.get_ref(3)?.as_blob())?)?,
                    team: rollup_id(sql_value(row.get_ref(4)?.as_blob())?)?,
                    labels: row.get(5)?,
                };
                let counts = facts::Counts::from_columns([
                    row.get(6)?,
                    row.get(7)?,
                    row.get(8)?,
                    row.get(9)?,
                    row.get(10)?,
                ]);
                out.push((key, counts));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn stale_report_conversations(&self, limit: usize) -> StoreResult<Vec<Id>> {
        let mut statement = self.conn.prepare_cached("SELECT conversation_id FROM report_stale LIMIT ?1")?;
        let rows = statement.query_map([limit as i64], |row| row.get::<_, String>(0))?;
        rows.map(|row| parse_id(&row?)).collect()
    }

    fn due_rule_webhooks(&self, now: Millis, limit: usize) -> StoreResult<Vec<RuleWebhookRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT key, job, attempts FROM rule_webhooks WHERE next_attempt_at <= ?1
             ORDER BY next_attempt_at LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now, limit as i64], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, u32>(2)?))
        })?;
        rows.map(|row| {
            let (key, job, attempts) = row?;
            Ok(RuleWebhookRecord { key, job: serde_json::from_str(&job)?, attempts })
        })
        .collect()
    }

    fn rule_webhook(&self, key: &str) -> StoreResult<Option<RuleWebhookRecord>> {
        let row: Option<(String, u32)> = self
            .conn
            .query_row_cached("SELECT job, attempts FROM rule_webhooks WHERE key = ?1", [key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        row.map(|(job, attempts)| {
            Ok(RuleWebhookRecord { key: key.to_owned(), job: serde_json::from_str(&job)?, attempts })
        })
        .transpose()
    }

    fn recent_conversations(&self, limit: usize) -> StoreResult<Vec<Conversation>> {
        records::query(self.conn, "SELECT data FROM conversations ORDER BY id DESC LIMIT ?1", [limit as i64])
    }

    fn due_timers(&self, now: Millis, limit: usize) -> StoreResult<Vec<TimerRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT key, due_at, payload FROM timers WHERE due_at <= ?1 ORDER BY due_at LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now, limit as i64], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?))
        })?;
        rows.map(|row| {
            let (key, due_at, payload) = row?;
            Ok(TimerRecord { key, due_at, payload: serde_json::from_str(&payload)? })
        })
        .collect()
    }

    fn timer(&self, key: &str) -> StoreResult<Option<TimerRecord>> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row_cached("SELECT due_at, payload FROM timers WHERE key = ?1", [key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        row.map(|(due_at, payload)| {
            Ok(TimerRecord { key: key.to_owned(), due_at, payload: serde_json::from_str(&payload)? })
        })
        .transpose()
    }

    fn has_agents(&self) -> StoreResult<bool> {
        Ok(self.conn.query_row_cached("SELECT EXISTS (SELECT 1 FROM agents)", [], |row| row.get(0))?)
    }

    fn agent_by_email(&self, email: &str) -> StoreResult<Option<Agent>> {
        Ok(records::query(self.conn, "SELECT data FROM agents WHERE email = ?1", [email])?.into_iter().next())
    }

    fn password_hash(&self, agent: Id) -> StoreResult<Option<String>> {
        Ok(self
            .conn
            .query_row_cached(
                "SELECT password_hash FROM credentials WHERE agent_id = ?1",
                [agent.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn device_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.devices_where("token_hash = ?1", [token_hash])?.into_iter().next())
    }

    fn device(&self, id: Id) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.devices_where("id = ?1", [id.to_string()])?.into_iter().next())
    }

    fn active_devices(&self, agent: Option<Id>) -> StoreResult<Vec<DeviceRecord>> {
        match agent {
            Some(agent) => self.devices_where("revoked_at IS NULL AND agent_id = ?1", [agent.to_string()]),
            None => self.devices_where("revoked_at IS NULL", []),
        }
    }

    fn login_failures(&self, key: &str, since: Millis) -> StoreResult<Vec<Millis>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT at FROM login_failures WHERE key = ?1 AND at >= ?2 ORDER BY at")?;
        let rows = statement.query_map(params![key, since], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn streaming_agents(&self) -> StoreResult<Vec<Id>> {
        let mut statement =
            self.conn.prepare_cached("SELECT DISTINCT agent_id FROM streaming ORDER BY agent_id")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|id| parse_id(&id?)).collect()
    }

    fn streaming_nodes(&self, agent: Id) -> StoreResult<usize> {
        let count: i64 = self.conn.query_row_cached(
            "SELECT count(*) FROM streaming WHERE agent_id = ?1",
            [agent.to_string()],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(count).unwrap_or_default())
    }

    fn silent_nodes(&self, before: Millis) -> StoreResult<Vec<String>> {
        let mut statement =
            self.conn.prepare_cached("SELECT node_id FROM nodes WHERE seen_at < ?1 ORDER BY node_id")?;
        let rows = statement.query_map([before], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn connector_settings(&self, inbox: Id) -> StoreResult<Option<Value>> {
        let data: Option<String> = self
            .conn
            .query_row_cached(
                "SELECT settings FROM inbox_connectors WHERE inbox_id = ?1",
                [inbox.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(data.map(|data| serde_json::from_str(&data)).transpose()?)
    }

    fn provider_message(&self, inbox: Id, provider_id: &str) -> StoreResult<Option<Id>> {
        let found: Option<String> = self
            .conn
            .query_row_cached(
                "SELECT message_id FROM provider_messages WHERE inbox_id = ?1 AND provider_id = ?2",
                params![inbox.to_string(), provider_id],
                |row| row.get(0),
            )
            .optional()?;
        found.map(|id| parse_id(&id)).transpose()
    }

    fn inbox_secret(&self, inbox: Id) -> StoreResult<Option<String>> {
        Ok(self
            .conn
            .query_row_cached(
                "SELECT secret FROM inbox_secrets WHERE inbox_id = ?1",
                [inbox.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn contact_by_identity(&self, inbox: Id, external_id: &str) -> StoreResult<Option<Id>> {
        let found: Option<String> = self
            .conn
            .query_row_cached(
                "SELECT contact_id FROM contact_identities WHERE inbox_id = ?1 AND external_id = ?2",
                params![inbox.to_string(), external_id],
                |row| row.get(0),
            )
            .optional()?;
        found.map(|id| parse_id(&id)).transpose()
    }

    fn inbound_seen(&self, inbox: Id, external_id: &str) -> StoreResult<Option<(Id, Id)>> {
        let seen: Option<(String, String)> = self
            .conn
            .query_row_cached(
                "SELECT message_id, conversation_id FROM inbound_ids WHERE inbox_id = ?1 AND external_id = ?2",
                params![inbox.to_string(), external_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        seen.map(|(message, conversation)| Ok((parse_id(&message)?, parse_id(&conversation)?))).transpose()
    }

    fn blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        Ok(self.conn.query_row_cached(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE data->>'sha256' = ?1)",
            [sha256],
            |row| row.get(0),
        )?)
    }

    fn resolved_before(
        &self,
        inbox: Id,
        before: Millis,
        with_text: bool,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>> {
        records::query(
            self.conn,
            "SELECT data FROM conversations
             WHERE inbox_id = ?1 AND scope = '' AND status = 'resolved' AND last_activity_at < ?2
               AND (?3 = 0 OR data->>'preview' != '')
             ORDER BY last_activity_at, id LIMIT ?4",
            params![inbox.to_string(), before, with_text, limit as i64],
        )
    }

    fn attachment(&self, id: Id) -> StoreResult<Option<AttachmentRecord>> {
        let row: Option<(String, Option<String>, Option<String>)> = self
            .conn
            .query_row_cached(
                "SELECT data, message_id, uploaded_by FROM attachments WHERE id = ?1",
                [id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        row.map(|(data, message_id, uploaded_by)| {
            Ok(AttachmentRecord {
                attachment: serde_json::from_str(&data)?,
                message_id: message_id.as_deref().map(parse_id).transpose()?,
                uploaded_by: uploaded_by.as_deref().map(parse_id).transpose()?,
            })
        })
        .transpose()
    }

    fn delivery(&self, message: Id) -> StoreResult<Option<DeliveryRecord>> {
        let row: Option<(String, u32, Option<String>)> = self
            .conn
            .query_row_cached(
                "SELECT inbox_id, attempts, last_error FROM deliveries WHERE message_id = ?1",
                [message.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        row.map(|(inbox, attempts, last_error)| {
            Ok(DeliveryRecord { message_id: message, inbox_id: parse_id(&inbox)?, attempts, last_error })
        })
        .transpose()
    }

    fn due_deliveries(&self, now: Millis, limit: usize) -> StoreResult<Vec<DeliveryRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT message_id, inbox_id, attempts, last_error FROM deliveries WHERE next_attempt_at <= ?1
             ORDER BY next_attempt_at LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now, limit as i64], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, u32>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (message, inbox, attempts, last_error) = row?;
            Ok(DeliveryRecord {
                message_id: parse_id(&message)?,
                inbox_id: parse_id(&inbox)?,
                attempts,
                last_error,
            })
        })
        .collect()
    }

    fn change_at(&self, seq: i64) -> StoreResult<Option<(EntityKind, Id)>> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT entity, entity_id FROM changes WHERE seq = ?1")?
            .query_row([seq], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        row.map(|(entity, id)| {
            let kind = EntityKind::parse(&entity)
                .ok_or_else(|| crate::store::StoreError(format!("unknown entity {entity:?} in the feed")))?;
            Ok((kind, parse_id(&id)?))
        })
        .transpose()
    }

    fn feed_page(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        since: i64,
        limit: usize,
    ) -> StoreResult<SyncPage> {
        feed::feed_page(self.conn, agent, visible, since, limit)
    }

    fn latest_changes(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        kind: EntityKind,
        ids: Option<&[Id]>,
    ) -> StoreResult<Vec<Change>> {
        feed::latest_changes(self.conn, agent, visible, kind, ids)
    }

    fn active_conversations(
        &self,
        visible: &VisibleInboxes,
        open_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<Id>> {
        feed::active_conversations(self.conn, visible, open_only, limit)
    }

    fn thread_messages(
        &self,
        conversation: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> StoreResult<Vec<HistoryCursor>> {
        feed::thread_messages(self.conn, conversation, before, limit)
    }

    fn backfill_page(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        upto: i64,
        before: i64,
        limit: usize,
    ) -> StoreResult<Vec<Change>> {
        feed::backfill_page(self.conn, agent, visible, upto, before, limit)
    }

    fn search_messages(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<MessageHit>> {
        feed::search_messages(self.conn, query, visible, limit)
    }

    fn find_contacts(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<Contact>> {
        feed::find_contacts(self.conn, query, visible, limit)
    }
}

impl Sql<'_> {
    /// Changes the rollups and spreads by the facts a transaction took away (`old`) and wrote
    /// (`new`): each changed row read and written once.
    fn apply_report_deltas(&mut self, old: &[ReportFact], facts: &[ReportFact]) -> StoreResult<()> {
        // The rollups change with the facts, in this transaction: never stale.
        for (rollup, counts) in facts::rollup_deltas(old, facts) {
            let table = rollup.unit.table();
            let c = counts.columns();
            let key = params![
                rollup.start,
                rollup.inbox.as_bytes().as_slice(),
                rollup.channel,
                facts::key_bytes(rollup.agent),
                facts::key_bytes(rollup.team),
                rollup.labels,
            ];
            self.conn
                .prepare_cached(&format!(
                    "INSERT INTO {table} ({}, {}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT ({}) DO UPDATE SET
                        cycles_started = cycles_started + excluded.cycles_started,
                        cycles_started_by_customers = cycles_started_by_customers + excluded.cycles_started_by_customers,
                        reopened = reopened + excluded.reopened,
                        messages_in = messages_in + excluded.messages_in,
                        messages_out = messages_out + excluded.messages_out",
                    facts::ROLLUP_KEY,
                    facts::ROLLUP_COUNTS,
                    facts::ROLLUP_KEY
                ))?
                .execute(params![key[0], key[1], key[2], key[3], key[4], key[5], c[0], c[1], c[2], c[3], c[4]])?;
            if c.iter().any(|n| *n < 0) {
                self.conn
                    .prepare_cached(&format!(
                        "DELETE FROM {table} WHERE start = ?1 AND inbox_id = ?2 AND channel = ?3 AND agent_id = ?4
                         AND team_id = ?5 AND labels = ?6 AND cycles_started = 0 AND cycles_started_by_customers = 0
                         AND reopened = 0 AND messages_in = 0 AND messages_out = 0"
                    ))?
                    .execute(key)?;
            }
        }
        // So do the duration facts' spreads: each changed row read, its values taken out and
        // put in, written back (or gone when empty).
        for ((rollup, kind), remove, add) in facts::spread_deltas(old, facts) {
            let key = params![
                rollup.unit.spread_code(rollup.level()),
                rollup.start,
                rollup.inbox.as_bytes().as_slice(),
                rollup.channel,
                facts::key_bytes(rollup.agent),
                facts::key_bytes(rollup.team),
                rollup.labels,
                kind,
            ];
            let where_key = "unit = ?1 AND start = ?2 AND inbox_id = ?3 AND channel = ?4 AND agent_id = ?5
                 AND team_id = ?6 AND labels = ?7 AND kind = ?8";
            let mut spread = {
                let mut statement = self.conn.prepare_cached(&format!(
                    "SELECT {} FROM report_spreads WHERE {where_key}",
                    facts::SPREAD_VALUES
                ))?;
                let mut rows = statement.query(key)?;
                match rows.next()? {
                    None => facts::Spread::default(),
                    Some(row) => {
                        let blob = |i: usize| sql_value(row.get_ref(i)?.as_blob());
                        facts::Spread::from_blobs(blob(0)?, blob(1)?, blob(2)?, blob(3)?)
                            .ok_or_else(|| StoreError("a stored spread does not parse".into()))?
                    }
                }
            };
            spread.apply(&remove, &add).map_err(StoreError)?;
            if spread.is_empty() {
                self.conn
                    .prepare_cached(&format!("DELETE FROM report_spreads WHERE {where_key}"))?
                    .execute(key)?;
            } else {
                let [wall, business, open, conversations] = spread.blobs();
                self.conn
                    .prepare_cached(&format!(
                        "INSERT INTO report_spreads ({}, {}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                         ON CONFLICT ({}) DO UPDATE SET wall = excluded.wall, business = excluded.business,
                            open = excluded.open, conversations = excluded.conversations",
                        facts::SPREAD_KEY,
                        facts::SPREAD_VALUES,
                        facts::SPREAD_KEY
                    ))?
                    .execute(params![
                        key[0],
                        key[1],
                        key[2],
                        key[3],
                        key[4],
                        key[5],
                        key[6],
                        key[7],
                        wall,
                        business,
                        open,
                        conversations
                    ])?;
            }
        }
        Ok(())
    }
}

impl StoreTx for Sql<'_> {
    fn put_json(&mut self, kind: EntityKind, id: Id, audience: Audience, value: Value) -> StoreResult<()> {
        self.put_row(kind, id, audience, value)
    }

    fn remove(&mut self, kind: EntityKind, id: Id, audience: Audience) -> StoreResult<bool> {
        self.remove_row(kind, id, audience)
    }

    fn last_seq(&self) -> i64 {
        self.records.last().map_or(0, |record| record.change.seq)
    }

    fn mutation(&self, client_id: Id) -> StoreResult<Option<MutationRecord>> {
        let stored: Option<(String, String, String, String)> = self
            .conn
            .query_row_cached(
                "SELECT agent_id, action, target, response FROM mutations WHERE client_id = ?1",
                [client_id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        stored
            .map(|(agent, action, target, response)| {
                Ok(MutationRecord {
                    agent_id: parse_id(&agent)?,
                    action,
                    target: parse_id(&target)?,
                    response: serde_json::from_str(&response)?,
                })
            })
            .transpose()
    }

    fn remember_mutation(&mut self, client_id: Id, record: MutationRecord) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO mutations (client_id, agent_id, action, target, response) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                client_id.to_string(),
                record.agent_id.to_string(),
                record.action,
                record.target.to_string(),
                record.response.to_string()
            ],
        )?;
        Ok(())
    }

    fn append_event(&mut self, event: &ledger::ConversationEvent) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO conversation_events (id, conversation_id, cycle, at, seq, kind, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                event.id.to_string(),
                event.conversation_id.to_string(),
                event.cycle,
                event.at,
                event.seq,
                event.event.name(),
                serde_json::to_string(event)?
            ],
        )?;
        self.events.push(event.clone());
        Ok(())
    }

    fn wrote(&self, kind: EntityKind) -> bool {
        self.records.iter().any(|record| record.change.entity == kind)
    }

    fn take_events(&mut self) -> Vec<ledger::ConversationEvent> {
        std::mem::take(&mut self.events)
    }

    fn held(&mut self) -> &mut crate::store::Held {
        &mut self.held
    }

    fn set_two_factor(&mut self, agent: Id, record: Option<&TwoFactorRecord>) -> StoreResult<()> {
        match record {
            Some(record) => self.conn.execute(
                "INSERT INTO two_factor (agent_id, data) VALUES (?1, ?2)
                 ON CONFLICT (agent_id) DO UPDATE SET data = excluded.data",
                params![agent.to_string(), serde_json::to_string(record)?],
            )?,
            None => self.conn.execute("DELETE FROM two_factor WHERE agent_id = ?1", [agent.to_string()])?,
        };
        Ok(())
    }

    fn set_email_state(&mut self, inbox: Id, key: &str, value: Option<&Value>) -> StoreResult<()> {
        match value {
            Some(value) => self.conn.execute_cached(
                "INSERT INTO email_state (inbox_id, key, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (inbox_id, key) DO UPDATE SET data = excluded.data",
                params![inbox.to_string(), key, serde_json::to_string(value)?],
            )?,
            None => self.conn.execute_cached(
                "DELETE FROM email_state WHERE inbox_id = ?1 AND key = ?2",
                params![inbox.to_string(), key],
            )?,
        };
        Ok(())
    }

    fn put_export_request(&mut self, request: &switchboard_proto::exports::ExportRequest) -> StoreResult<()> {
        let key = format!("export:{}", request.id);
        self.set_email_state(request.inbox_id, &key, Some(&serde_json::to_value(request)?))
    }

    fn set_workspace_setting(&mut self, key: &str, value: Option<&Value>) -> StoreResult<()> {
        self.set_email_state(Id::nil(), key, value)
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO audit_events (seq, at, action, actor_id, target_id, hash, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                entry.seq,
                entry.at,
                entry.action,
                entry.actor_id.map(|id| id.to_string()),
                entry.target_id.map(|id| id.to_string()),
                entry.hash,
                serde_json::to_string(entry)?
            ],
        )?;
        Ok(())
    }

    fn mark_reports_stale(&mut self, conversations: &[Id]) -> StoreResult<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO report_stale (conversation_id) VALUES (?1) ON CONFLICT DO NOTHING",
        )?;
        for conversation in conversations {
            statement.execute([conversation.to_string()])?;
        }
        Ok(())
    }

    fn mark_all_reports_stale(&mut self) -> StoreResult<()> {
        self.conn.execute(
            // `WHERE true`: SQLite can't tell `ON CONFLICT` from a join's `ON` without it.
            "INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
             ON CONFLICT DO NOTHING",
            [],
        )?;
        Ok(())
    }

    fn replace_report_facts(&mut self, batch: &[(Id, Vec<ReportFact>)], roll_up: bool) -> StoreResult<()> {
        let mut old = Vec::new();
        for (conversation, facts) in batch {
            let key = conversation.as_bytes().as_slice();
            old.extend(self.report_rows(
                &format!("DELETE FROM report_rows WHERE conversation_id = ?1 RETURNING {}", facts::COLUMNS),
                [key],
            )?);
            let mut insert = self.conn.prepare_cached(&format!(
                "INSERT INTO report_rows ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                facts::COLUMNS
            ))?;
            for (seq, fact) in facts.iter().enumerate() {
                insert.execute(params![
                    fact.at,
                    key,
                    seq as i64,
                    facts::kind_code(fact.kind),
                    i64::from(fact.cycle),
                    i64::from(fact.instance),
                    fact.inbox_id.as_bytes().as_slice(),
                    fact.channel.as_str(),
                    fact.team_id.as_ref().map(|id| id.as_bytes().as_slice()),
                    fact.agent_id.as_ref().map(|id| id.as_bytes().as_slice()),
                    facts::origin_code(fact.origin),
                    fact.priority.as_str(),
                    facts::labels_text(&fact.labels),
                    fact.start_at,
                    fact.wall_ms,
                    fact.business_ms,
                    fact.open_ms,
                ])?;
            }
            self.conn
                .execute("DELETE FROM report_stale WHERE conversation_id = ?1", [conversation.to_string()])?;
        }
        if roll_up {
            let new: Vec<ReportFact> = batch.iter().flat_map(|(_, facts)| facts.iter().cloned()).collect();
            self.apply_report_deltas(&old, &new)?;
        }
        Ok(())
    }

    fn roll_up_report_facts(&mut self) -> StoreResult<()> {
        for table in ["report_hours", "report_days", "report_spreads"] {
            self.conn.execute(&format!("DELETE FROM {table}"), [])?;
        }
        // Each UTC day's facts make that day's rows and its hours' whole: one pass per day.
        let days: Vec<Millis> = {
            let mut statement = self.conn.prepare(&format!(
                "SELECT DISTINCT at - ((at % {day}) + {day}) % {day} FROM report_rows",
                day = facts::DAY
            ))?;
            let days = statement.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
            days
        };
        for day in days {
            let facts = self.report_facts(day, day + facts::DAY)?;
            self.apply_report_deltas(&[], &facts)?;
        }
        Ok(())
    }

    fn enqueue_rule_webhook(&mut self, key: &str, job: &Value, at: Millis) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO rule_webhooks (key, job, attempts, next_attempt_at) VALUES (?1, ?2, 0, ?3)
             ON CONFLICT (key) DO NOTHING",
            params![key, job.to_string(), at],
        )?;
        Ok(())
    }

    fn schedule_rule_webhook(
        &mut self,
        key: &str,
        attempts: u32,
        at: Millis,
        error: Option<&str>,
    ) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE rule_webhooks SET attempts = ?2, next_attempt_at = ?3, last_error = COALESCE(?4, last_error)
             WHERE key = ?1",
            params![key, attempts, at, error],
        )?;
        Ok(())
    }

    fn finish_rule_webhook(&mut self, key: &str) -> StoreResult<()> {
        self.conn.execute_cached("UPDATE rule_webhooks SET next_attempt_at = NULL WHERE key = ?1", [key])?;
        Ok(())
    }

    fn insert_automation_run(&mut self, run: &AutomationRun, forget_before: Millis) -> StoreResult<()> {
        let status = serde_json::to_value(run.status)?;
        self.conn.execute_cached(
            "INSERT INTO automation_runs (id, rule_id, conversation_id, at, status, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run.id.to_string(),
                run.rule_id.to_string(),
                run.conversation_id.to_string(),
                run.at,
                status.as_str().unwrap_or_default(),
                serde_json::to_string(run)?
            ],
        )?;
        self.conn.execute_cached(
            "DELETE FROM automation_runs WHERE rule_id = ?1 AND at < ?2",
            params![run.rule_id.to_string(), forget_before],
        )?;
        Ok(())
    }

    fn schedule_timer(&mut self, timer: &TimerRecord) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO timers (key, due_at, payload) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload",
            params![timer.key, timer.due_at, timer.payload.to_string()],
        )?;
        Ok(())
    }

    fn remove_timer(&mut self, key: &str) -> StoreResult<()> {
        self.conn.execute_cached("DELETE FROM timers WHERE key = ?1", [key])?;
        Ok(())
    }

    fn index_message(&mut self, message: &Message, inbox: Id) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO message_search (message_id, conversation_id, inbox_id, created_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                message.id.to_string(),
                message.conversation_id.to_string(),
                inbox.to_string(),
                message.created_at,
                text::normalize_for_search(&message.body)
            ],
        )?;
        Ok(())
    }

    fn set_password_hash(&mut self, agent: Id, hash: &str) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO credentials (agent_id, password_hash) VALUES (?1, ?2)
             ON CONFLICT (agent_id) DO UPDATE SET password_hash = excluded.password_hash",
            params![agent.to_string(), hash],
        )?;
        Ok(())
    }

    fn insert_device(&mut self, device: &DeviceRecord) -> StoreResult<()> {
        self.conn.execute_cached(
            &format!("INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                device.id.to_string(),
                device.agent_id.to_string(),
                device.name,
                device.token_hash,
                device.created_at,
                device.last_seen_at,
                device.revoked_at
            ],
        )?;
        Ok(())
    }

    fn touch_device(&mut self, id: Id, at: Millis) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
            params![id.to_string(), at],
        )?;
        Ok(())
    }

    fn revoke_device(&mut self, id: Id, at: Millis) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id.to_string(), at],
        )?;
        Ok(())
    }

    fn record_login_failure(&mut self, key: &str, at: Millis, forget_before: Millis) -> StoreResult<()> {
        self.conn.execute_cached("DELETE FROM login_failures WHERE at < ?1", [forget_before])?;
        self.conn.execute_cached("INSERT INTO login_failures (key, at) VALUES (?1, ?2)", params![key, at])?;
        Ok(())
    }

    fn clear_login_failures(&mut self, key: &str) -> StoreResult<()> {
        self.conn.execute_cached("DELETE FROM login_failures WHERE key = ?1", [key])?;
        Ok(())
    }

    fn set_routing_turn(&mut self, agent: Id, turn: i64) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO routing_turns (agent_id, turn) VALUES (?1, ?2)
             ON CONFLICT (agent_id) DO UPDATE SET turn = excluded.turn",
            params![agent.to_string(), turn],
        )?;
        Ok(())
    }

    fn set_streaming(&mut self, node: &str, agent: Id, streaming: bool) -> StoreResult<()> {
        let sql = if streaming {
            "INSERT INTO streaming (node_id, agent_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM streaming WHERE node_id = ?1 AND agent_id = ?2"
        };
        self.conn.execute_cached(sql, params![node, agent.to_string()])?;
        Ok(())
    }

    fn node_seen(&mut self, node: &str, at: Millis) -> StoreResult<bool> {
        let updated = self
            .conn
            .execute_cached("UPDATE nodes SET seen_at = ?2 WHERE node_id = ?1", params![node, at])?;
        if updated == 0 {
            self.conn
                .execute_cached("INSERT INTO nodes (node_id, seen_at) VALUES (?1, ?2)", params![node, at])?;
        }
        Ok(updated > 0)
    }

    fn forget_node(&mut self, node: &str) -> StoreResult<Vec<Id>> {
        let agents = {
            let mut statement =
                self.conn.prepare_cached("DELETE FROM streaming WHERE node_id = ?1 RETURNING agent_id")?;
            let rows = statement.query_map([node], |row| row.get::<_, String>(0))?;
            rows.map(|id| parse_id(&id?)).collect::<StoreResult<Vec<_>>>()?
        };
        self.conn.execute_cached("DELETE FROM nodes WHERE node_id = ?1", [node])?;
        Ok(agents)
    }

    fn set_connector_settings(&mut self, inbox: Id, settings: Option<&Value>) -> StoreResult<()> {
        match settings {
            Some(settings) => self.conn.execute_cached(
                "INSERT INTO inbox_connectors (inbox_id, settings) VALUES (?1, ?2)
                 ON CONFLICT (inbox_id) DO UPDATE SET settings = excluded.settings",
                params![inbox.to_string(), serde_json::to_string(settings)?],
            )?,
            None => self
                .conn
                .execute_cached("DELETE FROM inbox_connectors WHERE inbox_id = ?1", [inbox.to_string()])?,
        };
        Ok(())
    }

    fn remember_provider_message(&mut self, inbox: Id, provider_id: &str, message: Id) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO provider_messages (inbox_id, provider_id, message_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (inbox_id, provider_id) DO NOTHING",
            params![inbox.to_string(), provider_id, message.to_string()],
        )?;
        Ok(())
    }

    fn set_inbox_secret(&mut self, inbox: Id, secret: &str) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO inbox_secrets (inbox_id, secret) VALUES (?1, ?2)
             ON CONFLICT (inbox_id) DO UPDATE SET secret = excluded.secret",
            params![inbox.to_string(), secret],
        )?;
        Ok(())
    }

    fn move_identities(&mut self, from: Id, to: Id) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE contact_identities SET contact_id = ?2 WHERE contact_id = ?1",
            params![from.to_string(), to.to_string()],
        )?;
        Ok(())
    }

    fn add_identity(&mut self, inbox: Id, external_id: &str, contact: Id) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO contact_identities (inbox_id, external_id, contact_id) VALUES (?1, ?2, ?3)",
            params![inbox.to_string(), external_id, contact.to_string()],
        )?;
        Ok(())
    }

    fn remember_inbound(
        &mut self,
        inbox: Id,
        external_id: &str,
        message: Id,
        conversation: Id,
    ) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO inbound_ids (inbox_id, external_id, message_id, conversation_id) VALUES (?1, ?2, ?3, ?4)",
            params![inbox.to_string(), external_id, message.to_string(), conversation.to_string()],
        )?;
        Ok(())
    }

    fn erase_conversation_rows(&mut self, conversation: Id) -> StoreResult<Vec<String>> {
        let id = conversation.to_string();
        let files = erase_attachments(self.conn, "conversation_id = ?1", &id)?;
        for sql in [
            "DELETE FROM message_search WHERE conversation_id = ?1",
            "DELETE FROM inbound_ids WHERE conversation_id = ?1",
            "DELETE FROM deliveries WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1)",
            "DELETE FROM provider_messages
             WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1)",
            "DELETE FROM mutations
             WHERE target = ?1 OR target IN (SELECT id FROM messages WHERE conversation_id = ?1)",
            "DELETE FROM timers WHERE key LIKE '%:' || ?1",
            "DELETE FROM email_state WHERE key = 'thread:' || ?1",
        ] {
            self.conn.execute(sql, [&id])?;
        }
        Ok(files)
    }

    fn erase_message_rows(&mut self, messages: &[Id]) -> StoreResult<Vec<String>> {
        let mut files = Vec::new();
        for message in messages {
            let id = message.to_string();
            files.extend(erase_attachments(self.conn, "message_id = ?1", &id)?);
            self.conn.execute("DELETE FROM message_search WHERE message_id = ?1", [&id])?;
        }
        Ok(files)
    }

    fn erase_contact_rows(&mut self, contact: Id) -> StoreResult<()> {
        self.conn.execute("DELETE FROM contact_identities WHERE contact_id = ?1", [contact.to_string()])?;
        Ok(())
    }

    fn erase_change_data(&mut self, ids: &[Id]) -> StoreResult<()> {
        // One pass over the feed for the whole list: no index finds superseded changes by id.
        let ids = serde_json::to_string(&ids.iter().map(Id::to_string).collect::<Vec<_>>())?;
        self.conn.execute(
            "UPDATE changes SET data = NULL
             WHERE data IS NOT NULL AND entity IN ('message', 'conversation', 'contact')
               AND entity_id IN (SELECT value FROM json_each(?1))",
            [ids],
        )?;
        Ok(())
    }

    fn insert_attachment(&mut self, record: &AttachmentRecord) -> StoreResult<()> {
        let attachment = &record.attachment;
        self.conn.execute_cached(
            "INSERT INTO attachments (id, conversation_id, message_id, uploaded_by, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                attachment.id.to_string(),
                attachment.conversation_id.to_string(),
                record.message_id.map(|m| m.to_string()),
                record.uploaded_by.map(|a| a.to_string()),
                serde_json::to_string(attachment)?
            ],
        )?;
        Ok(())
    }

    fn claim_attachment(&mut self, id: Id, message: Id) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE attachments SET message_id = ?2 WHERE id = ?1",
            params![id.to_string(), message.to_string()],
        )?;
        Ok(())
    }

    fn enqueue_delivery(&mut self, delivery: &DeliveryRecord, at: Millis) -> StoreResult<()> {
        self.conn.execute_cached(
            "INSERT INTO deliveries (message_id, inbox_id, attempts, next_attempt_at) VALUES (?1, ?2, ?3, ?4)",
            params![delivery.message_id.to_string(), delivery.inbox_id.to_string(), delivery.attempts, at],
        )?;
        Ok(())
    }

    fn reschedule_delivery(
        &mut self,
        message: Id,
        attempts: u32,
        at: Millis,
        error: &str,
    ) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE deliveries SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE message_id = ?1",
            params![message.to_string(), attempts, at, error],
        )?;
        Ok(())
    }

    fn postpone_delivery(&mut self, message: Id, at: Millis) -> StoreResult<()> {
        self.conn.execute_cached(
            "UPDATE deliveries SET next_attempt_at = ?2 WHERE message_id = ?1",
            params![message.to_string(), at],
        )?;
        Ok(())
    }

    fn remove_delivery(&mut self, message: Id) -> StoreResult<()> {
        self.conn.execute_cached("DELETE FROM deliveries WHERE message_id = ?1", [message.to_string()])?;
        Ok(())
    }
}

/// Deletes the attachment rows `condition` (on `?1`) selects, answering their files' hashes.
fn erase_attachments(conn: &rusqlite::Connection, condition: &str, id: &str) -> StoreResult<Vec<String>> {
    let mut statement =
        conn.prepare(&format!("DELETE FROM attachments WHERE {condition} RETURNING data->>'sha256'"))?;
    let files = statement.query_map([id], |row| row.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    Ok(files)
}
