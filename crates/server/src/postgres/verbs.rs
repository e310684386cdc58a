//! The store's verbs in SQL: `StoreRead` and `StoreTx` for one PostgreSQL snapshot or transaction.

use ::postgres::Row;
use serde_json::Value;
use switchboard_proto::{
    audit::AuditEntry,
    automation::AutomationRun,
    reports::{FactKind, GroupBy, ReportFact},
    *,
};

use super::{parse_id, search, Pg};
use crate::{
    bus::VisibleInboxes,
    facts,
    store::{
        AttachmentRecord, Audience, DeliveryRecord, DeviceRecord, MutationRecord, RuleWebhookRecord,
        StoreError, StoreRead, StoreResult, StoreTx, TimerRecord, TwoFactorRecord,
    },
};

const DEVICE_COLUMNS: &str = "id, agent_id, name, token_hash, created_at, last_seen_at, revoked_at";

fn device_record(row: &Row) -> StoreResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: parse_id(&row.try_get::<_, String>(0)?)?,
        agent_id: parse_id(&row.try_get::<_, String>(1)?)?,
        name: row.try_get(2)?,
        token_hash: row.try_get(3)?,
        created_at: row.try_get(4)?,
        last_seen_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
    })
}

/// Delivery attempts as stored (`integer`).
fn attempts_column(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

fn delivery_record(row: &Row) -> StoreResult<DeliveryRecord> {
    Ok(DeliveryRecord {
        message_id: parse_id(&row.try_get::<_, String>(0)?)?,
        inbox_id: parse_id(&row.try_get::<_, String>(1)?)?,
        attempts: u32::try_from(row.try_get::<_, i32>(2)?).unwrap_or_default(),
        last_error: row.try_get::<_, Option<String>>(3)?,
    })
}

impl Pg<'_> {
    fn first_conversation(
        &self,
        sql: &str,
        params: super::records::Params,
    ) -> StoreResult<Option<Conversation>> {
        Ok(self.entities(sql, params)?.into_iter().next())
    }

    fn devices_where(
        &self,
        condition: &str,
        params: super::records::Params,
    ) -> StoreResult<Vec<DeviceRecord>> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE {condition} ORDER BY created_at, pos");
        self.rows(&sql, params)?.iter().map(device_record).collect()
    }

    /// The one text column a lookup selects, if a row matched.
    fn text(&self, sql: &str, params: super::records::Params) -> StoreResult<Option<String>> {
        Ok(self.row(sql, params)?.map(|row| row.try_get(0)).transpose()?)
    }

    fn exists(&self, sql: &str, params: super::records::Params) -> StoreResult<bool> {
        match self.row(sql, params)? {
            Some(row) => Ok(row.try_get(0)?),
            None => Err(StoreError("EXISTS returned no row".into())),
        }
    }
}

impl Pg<'_> {
    /// The planner settings of this transaction's report reads (`SET LOCAL`, one round trip),
    /// each from `auto_explain` of the server's own report requests on the full bench workspace
    /// (docs/performance.md, "Reports and board rows"):
    /// - `work_mem`: a period's facts sorted by time, or a CSV's conversations' facts by
    ///   conversation, went to disk at the default 4 MB (an external merge of 27–63 MB);
    /// - no parallel workers: a report read is a few index ranges or a few thousand keys, and
    ///   on a busy machine the planner's parallel seq scans of `report_hours` or `report_rows`
    ///   took 130–1,130 ms where one process's bitmap or index scan took 25–100 ms;
    /// - `random_page_cost` 1.1 (the usual figure for SSDs and cached data, against 4 for
    ///   spinning disks): a CSV's cycle starts, 10,000 facts of a nine-day range, were a seq
    ///   scan of every fact (250–500 ms) instead of that range of the time index (70–100 ms).
    fn report_planner(&self) -> StoreResult<()> {
        self.tx.borrow_mut().batch_execute(
            "SET LOCAL work_mem = '128MB';
             SET LOCAL max_parallel_workers_per_gather = 0;
             SET LOCAL random_page_cost = 1.1",
        )?;
        Ok(())
    }

    /// The figures of a scan: the rollup and spread rows its plan takes (each unit's starts in
    /// one query), and the facts of its raw ranges, folded in process.
    fn report_tally(&self, scan: &facts::Scan) -> StoreResult<facts::Buckets> {
        self.report_planner()?;
        let plan = scan.plan();
        let mut tally = facts::Tally::new(scan);
        let (rollup_key, fact_key) = match scan.group_by {
            GroupBy::None => ("NULL::bytea, NULL::text", "NULL::bytea, NULL::text"),
            GroupBy::Agent => ("agent_id, NULL::text", "agent_id, NULL::text"),
            GroupBy::Team => ("team_id, NULL::text", "team_id, NULL::text"),
            GroupBy::Inbox => ("inbox_id, NULL::text", "inbox_id, NULL::text"),
            GroupBy::Channel => ("NULL::bytea, channel", "NULL::bytea, channel"),
            GroupBy::Label => ("NULL::bytea, labels", "NULL::bytea, labels"),
        };
        let key_of = |row: &postgres::Row| -> StoreResult<facts::RawKey> {
            Ok(match (row.try_get::<_, Option<&[u8]>>(3)?, row.try_get::<_, Option<String>>(4)?) {
                (Some(bytes), _) => match facts::key_id(bytes) {
                    Some(Some(id)) => facts::RawKey::Id(id),
                    Some(None) => facts::RawKey::Null,
                    None => return Err(StoreError("a stored rollup id".into())),
                },
                (None, Some(text)) => facts::RawKey::Text(text),
                (None, None) => facts::RawKey::Null,
            })
        };
        let id = |bytes: Option<&[u8]>| -> StoreResult<Option<Id>> {
            match bytes {
                None => Ok(None),
                Some(bytes) => facts::key_id(bytes).ok_or_else(|| StoreError("a stored id".into())),
            }
        };
        // The narrowest rows that hold the scan's grouping and filter (per agent, else without
        // the team and the label list: several times fewer rows per unit each).
        let level = scan.level();
        let labels = level.labels_condition();
        for unit in facts::Unit::ALL {
            let starts: Vec<i64> =
                plan.units.keys().filter(|(u, _)| *u == unit).map(|(_, start)| *start).collect();
            if starts.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT start, inbox_id, agent_id, {rollup_key}, {} FROM {}
                 WHERE start = ANY($1) AND {labels}",
                facts::ROLLUP_COUNTS,
                unit.table(),
            );
            for row in self.rows(&sql, &[&starts])? {
                let seen = facts::RollupSeen {
                    unit,
                    start: row.try_get(0)?,
                    inbox: id(Some(row.try_get(1)?))?
                        .ok_or_else(|| StoreError("a rollup row without an inbox".into()))?,
                    agent: id(Some(row.try_get(2)?))?,
                    counts: facts::Counts::from_columns([
                        row.try_get(5)?,
                        row.try_get(6)?,
                        row.try_get(7)?,
                        row.try_get(8)?,
                        row.try_get(9)?,
                    ]),
                };
                tally.add_rollup(&plan, &seen, key_of(&row)?);
            }
            // The duration facts' spreads of the same units (a day's values minus its hours
            // outside the bucket: exact multisets).
            let sql = format!(
                "SELECT start, inbox_id, agent_id, {rollup_key}, kind, {} FROM report_spreads
                 WHERE unit = $1 AND start = ANY($2)",
                facts::SPREAD_VALUES
            );
            for row in self.rows(&sql, &[&unit.spread_code(level), &starts])? {
                let code: i64 = row.try_get(5)?;
                let seen = facts::SpreadSeen {
                    unit,
                    start: row.try_get(0)?,
                    inbox: id(Some(row.try_get(1)?))?
                        .ok_or_else(|| StoreError("a spread row without an inbox".into()))?,
                    agent: id(Some(row.try_get(2)?))?,
                    kind: facts::kind_of(code)
                        .ok_or_else(|| StoreError(format!("stored fact kind {code}")))?,
                    wall: row.try_get(6)?,
                    business: row.try_get(7)?,
                    open: row.try_get(8)?,
                    conversations: row.try_get(9)?,
                };
                tally.add_spread(&plan, &seen, key_of(&row)?);
            }
        }
        for (from, to) in &plan.raw {
            let sql = format!(
                "SELECT at, kind, origin, {fact_key}, inbox_id, agent_id, conversation_id, wall_ms, business_ms,
                    open_ms
                 FROM report_durations WHERE at >= $1 AND at < $2"
            );
            for row in self.rows(&sql, &[from, to])? {
                let code: i64 = row.try_get(1)?;
                let kind =
                    facts::kind_of(code).ok_or_else(|| StoreError(format!("stored fact kind {code}")))?;
                let fact = facts::Seen {
                    at: row.try_get(0)?,
                    kind,
                    origin: facts::origin_of(row.try_get(2)?),
                    inbox: id(Some(row.try_get(5)?))?
                        .ok_or_else(|| StoreError("a fact without an inbox".into()))?,
                    agent: id(row.try_get(6)?)?,
                    conversation: id(Some(row.try_get(7)?))?
                        .ok_or_else(|| StoreError("a fact without a conversation".into()))?,
                    wall_ms: row.try_get(8)?,
                    business_ms: row.try_get(9)?,
                    open_ms: row.try_get(10)?,
                };
                tally.add(&fact, key_of(&row)?);
            }
        }
        for (from, to) in &plan.raw {
            let sql = format!(
                "SELECT at, kind, origin, {fact_key}, inbox_id, agent_id FROM report_rows
                 WHERE at >= $1 AND at < $2 AND kind < {}",
                facts::kind_code(FactKind::FirstResponse)
            );
            for row in self.rows(&sql, &[from, to])? {
                let code: i64 = row.try_get(1)?;
                let kind =
                    facts::kind_of(code).ok_or_else(|| StoreError(format!("stored fact kind {code}")))?;
                let fact = facts::Seen {
                    at: row.try_get(0)?,
                    kind,
                    origin: facts::origin_of(row.try_get(2)?),
                    inbox: id(Some(row.try_get(5)?))?
                        .ok_or_else(|| StoreError("a fact without an inbox".into()))?,
                    agent: id(row.try_get(6)?)?,
                    conversation: Id::nil(),
                    wall_ms: 0,
                    business_ms: 0,
                    open_ms: 0,
                };
                tally.add(&fact, key_of(&row)?);
            }
        }
        Ok(tally.finish())
    }

    /// Report facts from `report_rows` ([`facts::COLUMNS`]).
    fn report_rows(&self, sql: &str, params: super::records::Params) -> StoreResult<Vec<ReportFact>> {
        let rows = self.rows(sql, params)?;
        // Sized once: grown by doubling, a CSV's 150,000 facts were copied again at each step
        // into freshly faulted pages (about a fifth of the CSV request's CPU in the profile).
        let mut facts = Vec::with_capacity(rows.len());
        for row in &rows {
            facts.push(
                facts::fact_of(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                    row.try_get(6)?,
                    row.try_get(7)?,
                    row.try_get(8)?,
                    row.try_get(9)?,
                    row.try_get(10)?,
                    row.try_get(11)?,
                    row.try_get(12)?,
                    row.try_get(13)?,
                    [row.try_get(14)?, row.try_get(15)?, row.try_get(16)?],
                )
                .ok_or_else(|| StoreError("a stored report fact does not parse".into()))?,
            );
        }
        Ok(facts)
    }
}

impl StoreRead for Pg<'_> {
    fn now(&self) -> Millis {
        self.now
    }

    fn get_json(&self, kind: EntityKind, id: Id, scope: Option<Id>) -> StoreResult<Option<Value>> {
        // Read-your-own-write, as on SQLite: no round trip for what this transaction wrote.
        if let Some(written) = self.records.written(kind, id, scope) {
            return Ok(written.cloned());
        }
        self.get_row(kind, id, scope)
    }

    fn all_json(&self, kind: EntityKind) -> StoreResult<Vec<Value>> {
        self.all_rows(kind)
    }

    fn open_conversation(
        &self,
        inbox: Id,
        contact: Id,
        except: Option<Id>,
    ) -> StoreResult<Option<Conversation>> {
        self.first_conversation(
            "SELECT data FROM conversations
             WHERE inbox_id = $1 AND contact_id = $2 AND status != 'resolved' AND id != $3",
            &[&inbox.to_string(), &contact.to_string(), &except.map(|e| e.to_string()).unwrap_or_default()],
        )
    }

    fn contact_conversations(&self, contact: Id) -> StoreResult<Vec<Conversation>> {
        self.entities(
            "SELECT data FROM conversations WHERE contact_id = $1 ORDER BY last_activity_at DESC, id",
            &[&contact.to_string()],
        )
    }

    fn latest_conversation(&self, inbox: Id, contact: Id) -> StoreResult<Option<Conversation>> {
        self.first_conversation(
            "SELECT data FROM conversations WHERE inbox_id = $1 AND contact_id = $2
             ORDER BY last_activity_at DESC LIMIT 1",
            &[&inbox.to_string(), &contact.to_string()],
        )
    }

    fn conversations_with_label(&self, name: &str) -> StoreResult<Vec<Conversation>> {
        self.entities(
            "SELECT data FROM conversations WHERE data->'labels' @> jsonb_build_array($1::text) ORDER BY pos",
            &[&name],
        )
    }

    fn messages_of(&self, conversation: Id) -> StoreResult<Vec<Message>> {
        self.entities(
            "SELECT data FROM messages WHERE conversation_id = $1 ORDER BY created_at, pos",
            &[&conversation.to_string()],
        )
    }

    fn unresolved_conversations(&self) -> StoreResult<Vec<Conversation>> {
        self.entities("SELECT data FROM conversations WHERE status != 'resolved' ORDER BY pos", &[])
    }

    fn unresolved_assigned_to(&self, agent: Id) -> StoreResult<Vec<Conversation>> {
        self.entities(
            "SELECT data FROM conversations
             WHERE data->>'assignee_id' = $1 AND status != 'resolved' ORDER BY pos",
            &[&agent.to_string()],
        )
    }

    fn routing_queue(&self, inbox: Id, limit: usize) -> StoreResult<Vec<Conversation>> {
        self.entities(
            "SELECT data FROM conversations
             WHERE inbox_id = $1 AND status = 'open' AND data->>'assignee_id' IS NULL
             ORDER BY data->>'waiting_since' IS NULL, (data->>'waiting_since')::bigint,
                      (data->>'created_at')::bigint, id
             LIMIT $2",
            &[&inbox.to_string(), &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    fn routing_queued(&self, inbox: Id) -> StoreResult<bool> {
        let row = self.row(
            "SELECT EXISTS (SELECT 1 FROM conversations
             WHERE inbox_id = $1 AND status = 'open' AND data->>'assignee_id' IS NULL)",
            &[&inbox.to_string()],
        )?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => false,
        })
    }

    fn open_loads(&self) -> StoreResult<Vec<(Id, usize)>> {
        self.rows(
            // Kept by the `conversations_load` trigger (migration 12).
            "SELECT agent_id, open FROM agent_loads WHERE open > 0",
            &[],
        )?
        .iter()
        .map(|row| {
            let count: i64 = row.try_get(1)?;
            Ok((parse_id(&row.try_get::<_, String>(0)?)?, usize::try_from(count).unwrap_or_default()))
        })
        .collect()
    }

    fn routing_turns(&self) -> StoreResult<Vec<(Id, i64)>> {
        self.rows("SELECT agent_id, turn FROM routing_turns", &[])?
            .iter()
            .map(|row| Ok((parse_id(&row.try_get::<_, String>(0)?)?, row.try_get(1)?)))
            .collect()
    }

    fn events_of(&self, conversation: Id) -> StoreResult<Vec<ledger::ConversationEvent>> {
        self.entities(
            "SELECT data FROM conversation_events WHERE conversation_id = $1 ORDER BY id",
            &[&conversation.to_string()],
        )
    }

    fn events_of_many(
        &self,
        conversations: &[Id],
        kinds: &[&str],
    ) -> StoreResult<Vec<ledger::ConversationEvent>> {
        let ids: Vec<String> = conversations.iter().map(Id::to_string).collect();
        self.entities(
            "SELECT data FROM conversation_events WHERE conversation_id = ANY($1) AND kind = ANY($2)
             ORDER BY conversation_id, id",
            &[&ids, &kinds],
        )
    }

    fn events_between(
        &self,
        kind: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<ledger::ConversationEvent>> {
        self.entities(
            "SELECT data FROM conversation_events WHERE kind = $1 AND at >= $2 AND at < $3 ORDER BY id",
            &[&kind, &from, &to],
        )
    }

    fn current_cycle(&self, conversation: Id) -> StoreResult<Option<u32>> {
        let row = self.row(
            "SELECT cycle FROM conversation_events WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1",
            &[&conversation.to_string()],
        )?;
        Ok(row
            .map(|row| row.try_get::<_, i32>(0))
            .transpose()?
            .map(|cycle| u32::try_from(cycle).unwrap_or(1)))
    }

    fn automation_runs(
        &self,
        rule: Option<Id>,
        conversation: Option<Id>,
        before: Option<Id>,
        limit: usize,
    ) -> StoreResult<Vec<AutomationRun>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.entities(
            "SELECT data FROM automation_runs
             WHERE ($1::text IS NULL OR rule_id = $1) AND ($2::text IS NULL OR conversation_id = $2)
               AND ($3::text IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4",
            &[
                &rule.map(|id| id.to_string()),
                &conversation.map(|id| id.to_string()),
                &before.map(|id| id.to_string()),
                &limit,
            ],
        )
    }

    fn last_automation_run(&self, rule: Id, conversation: Id) -> StoreResult<Option<AutomationRun>> {
        Ok(self
            .entities(
                "SELECT data FROM automation_runs
                 WHERE conversation_id = $1 AND rule_id = $2 AND status = 'done' ORDER BY id DESC LIMIT 1",
                &[&conversation.to_string(), &rule.to_string()],
            )?
            .into_iter()
            .next())
    }

    fn kind_version(&self, kind: EntityKind) -> StoreResult<i64> {
        // `seq + 0`, not `seq`: given `MAX(seq)` the planner walks the primary key down from the
        // newest change until it meets one of this kind, and a kind edited rarely (the inboxes,
        // the rules) lies far below the head: the whole feed read under the feed lock, 0.9 ms a
        // call on the bench's small workspace and growing with it. Over an expression it reads
        // `changes_latest` instead: the kind's current rows, one per entity.
        let row = self.row(
            "SELECT COALESCE(MAX(seq + 0), 0) FROM changes WHERE entity = $1 AND NOT superseded",
            &[&kind.as_str()],
        )?;
        Ok(row.map(|row| row.try_get(0)).transpose()?.unwrap_or(0))
    }

    fn two_factor(&self, agent: Id) -> StoreResult<Option<TwoFactorRecord>> {
        let row = self.row("SELECT data FROM two_factor WHERE agent_id = $1", &[&agent.to_string()])?;
        Ok(row.map(|row| row.try_get::<_, Value>(0)).transpose()?.map(serde_json::from_value).transpose()?)
    }

    fn email_state(&self, inbox: Id, key: &str) -> StoreResult<Option<Value>> {
        let row = self.row(
            "SELECT data FROM email_state WHERE inbox_id = $1 AND key = $2",
            &[&inbox.to_string(), &key],
        )?;
        Ok(row.map(|row| row.try_get::<_, Value>(0)).transpose()?)
    }

    fn export_request(&self, id: Id) -> StoreResult<Option<switchboard_proto::exports::ExportRequest>> {
        let row = self.row("SELECT data FROM email_state WHERE key = 'export:' || $1", &[&id.to_string()])?;
        Ok(row.map(|row| row.try_get::<_, Value>(0)).transpose()?.map(serde_json::from_value).transpose()?)
    }

    fn export_requests(
        &self,
        pending_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<switchboard_proto::exports::ExportRequest>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.entities(
            "SELECT data FROM email_state WHERE key LIKE 'export:%'
                AND (NOT $1 OR data->>'status' = 'pending')
             ORDER BY (data->>'created_at')::bigint DESC, key LIMIT $2",
            &[&pending_only, &limit],
        )
    }

    fn workspace_setting(&self, key: &str) -> StoreResult<Option<Value>> {
        let row = self.row(
            "SELECT data FROM email_state WHERE inbox_id = $1 AND key = $2",
            &[&Id::nil().to_string(), &key],
        )?;
        Ok(row.map(|row| row.try_get::<_, Value>(0)).transpose()?)
    }

    fn audit_tail(&self) -> StoreResult<Option<(i64, String)>> {
        let row = self.row("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", &[])?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
    }

    fn audit_rows(&self, from_seq: i64, to_seq: i64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.entities(
            "SELECT data FROM audit_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3",
            &[&from_seq, &to_seq, &limit],
        )
    }

    fn report_facts(&self, from: Millis, to: Millis) -> StoreResult<Vec<ReportFact>> {
        self.report_planner()?;
        self.report_rows(
            &format!(
                "SELECT {} FROM report_rows WHERE at >= $1 AND at < $2 ORDER BY at, conversation_id, seq",
                facts::COLUMNS
            ),
            &[&from, &to],
        )
    }

    fn report_facts_of_kind(&self, kind: FactKind, from: Millis, to: Millis) -> StoreResult<Vec<ReportFact>> {
        self.report_planner()?;
        self.report_rows(
            &format!(
                "SELECT {} FROM report_rows WHERE at >= $1 AND at < $2 AND kind = $3
                 ORDER BY at, conversation_id, seq",
                facts::COLUMNS
            ),
            &[&from, &to, &facts::kind_code(kind)],
        )
    }

    fn report_facts_of(&self, conversations: &[Id], since: Millis) -> StoreResult<Vec<ReportFact>> {
        let keys: Vec<&[u8]> = conversations.iter().map(|id| id.as_bytes().as_slice()).collect();
        self.report_planner()?;
        self.report_rows(
            &format!(
                "SELECT {} FROM report_rows WHERE conversation_id = ANY($1) AND at >= $2
                 ORDER BY conversation_id, seq",
                facts::COLUMNS
            ),
            &[&keys, &since],
        )
    }

    fn get_json_many(&self, kind: EntityKind, ids: &[Id]) -> StoreResult<Vec<Value>> {
        let ids: Vec<String> = ids.iter().map(Id::to_string).collect();
        let sql = format!("SELECT data FROM {} WHERE id = ANY($1) AND scope = ''", kind.table());
        self.rows(&sql, &[&ids])?.into_iter().map(|row| Ok(row.try_get::<_, Value>(0)?)).collect()
    }

    fn conversation_report_facts(&self, conversation: Id) -> StoreResult<Vec<ReportFact>> {
        self.report_rows(
            &format!("SELECT {} FROM report_rows WHERE conversation_id = $1 ORDER BY seq", facts::COLUMNS),
            &[&conversation.as_bytes().as_slice()],
        )
    }

    fn report_scan(&self, scan: &facts::Scan) -> StoreResult<facts::Buckets> {
        // Counts from the rollups, durations from their spreads (exact multisets of values per
        // UTC hour and day), both folded in process: a few rows per day, not a row per fact.
        self.report_tally(scan)
    }

    fn report_spreads(&self) -> StoreResult<Vec<(facts::SpreadKey, facts::Spread)>> {
        let sql = format!("SELECT {}, {} FROM report_spreads", facts::SPREAD_KEY, facts::SPREAD_VALUES);
        let mut out = Vec::new();
        for row in self.rows(&sql, &[])? {
            let id = |i: usize| -> StoreResult<Option<Id>> {
                facts::key_id(row.try_get(i)?).ok_or_else(|| StoreError("a stored spread id".into()))
            };
            let code: i64 = row.try_get(0)?;
            let key = facts::RollupKey {
                unit: facts::Unit::of_spread_code(code)
                    .ok_or_else(|| StoreError(format!("stored unit {code}")))?,
                start: row.try_get(1)?,
                inbox: id(2)?.ok_or_else(|| StoreError("a spread row without an inbox".into()))?,
                channel: row.try_get(3)?,
                agent: id(4)?,
                team: id(5)?,
                labels: row.try_get(6)?,
            };
            let spread = facts::Spread::from_blobs(
                row.try_get(8)?,
                row.try_get(9)?,
                row.try_get(10)?,
                row.try_get(11)?,
            )
            .ok_or_else(|| StoreError("a stored spread does not parse".into()))?;
            out.push(((key, row.try_get(7)?), spread));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn report_rollups(&self) -> StoreResult<Vec<(facts::RollupKey, facts::Counts)>> {
        let mut out = Vec::new();
        for unit in facts::Unit::ALL {
            let sql = format!("SELECT {}, {} FROM {}", facts::ROLLUP_KEY, facts::ROLLUP_COUNTS, unit.table());
            for row in self.rows(&sql, &[])? {
                let id = |i: usize| -> StoreResult<Option<Id>> {
                    facts::key_id(row.try_get(i)?).ok_or_else(|| StoreError("a stored rollup id".into()))
                };
                let key = facts::RollupKey {
                    unit,
                    start: row.try_get(0)?,
                    inbox: id(1)?.ok_or_else(|| StoreError("a rollup row without an inbox".into()))?,
                    channel: row.try_get(2)?,
                    agent: id(3)?,
                    team: id(4)?,
                    labels: row.try_get(5)?,
                };
                let counts = facts::Counts::from_columns([
                    row.try_get(6)?,
                    row.try_get(7)?,
                    row.try_get(8)?,
                    row.try_get(9)?,
                    row.try_get(10)?,
                ]);
                out.push((key, counts));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn stale_report_conversations(&self, limit: usize) -> StoreResult<Vec<Id>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows("SELECT conversation_id FROM report_stale LIMIT $1", &[&limit])?
            .iter()
            .map(|row| parse_id(&row.try_get::<_, String>(0)?))
            .collect()
    }

    fn due_rule_webhooks(&self, now: Millis, limit: usize) -> StoreResult<Vec<RuleWebhookRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT key, job, attempts FROM rule_webhooks WHERE next_attempt_at <= $1
             ORDER BY next_attempt_at LIMIT $2",
            &[&now, &limit],
        )?
        .iter()
        .map(|row| {
            let attempts: i32 = row.try_get(2)?;
            Ok(RuleWebhookRecord {
                key: row.try_get(0)?,
                job: row.try_get(1)?,
                attempts: attempts.max(0) as u32,
            })
        })
        .collect()
    }

    fn rule_webhook(&self, key: &str) -> StoreResult<Option<RuleWebhookRecord>> {
        self.row("SELECT job, attempts FROM rule_webhooks WHERE key = $1", &[&key])?
            .map(|row| {
                let attempts: i32 = row.try_get(1)?;
                Ok(RuleWebhookRecord {
                    key: key.to_owned(),
                    job: row.try_get(0)?,
                    attempts: attempts.max(0) as u32,
                })
            })
            .transpose()
    }

    fn recent_conversations(&self, limit: usize) -> StoreResult<Vec<Conversation>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.entities("SELECT data FROM conversations ORDER BY id DESC LIMIT $1", &[&limit])
    }

    fn due_timers(&self, now: Millis, limit: usize) -> StoreResult<Vec<TimerRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT key, due_at, payload FROM timers WHERE due_at <= $1 ORDER BY due_at LIMIT $2",
            &[&now, &limit],
        )?
        .iter()
        .map(|row| {
            Ok(TimerRecord { key: row.try_get(0)?, due_at: row.try_get(1)?, payload: row.try_get(2)? })
        })
        .collect()
    }

    fn timer(&self, key: &str) -> StoreResult<Option<TimerRecord>> {
        self.row("SELECT key, due_at, payload FROM timers WHERE key = $1", &[&key])?
            .map(|row| {
                Ok(TimerRecord { key: row.try_get(0)?, due_at: row.try_get(1)?, payload: row.try_get(2)? })
            })
            .transpose()
    }

    fn login_failures(&self, key: &str, since: Millis) -> StoreResult<Vec<Millis>> {
        self.rows("SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at", &[&key, &since])?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
    }

    fn streaming_agents(&self) -> StoreResult<Vec<Id>> {
        self.rows("SELECT DISTINCT agent_id FROM streaming ORDER BY agent_id", &[])?
            .iter()
            .map(|row| parse_id(&row.try_get::<_, String>(0)?))
            .collect()
    }

    fn streaming_nodes(&self, agent: Id) -> StoreResult<usize> {
        let count: i64 =
            match self.row("SELECT count(*) FROM streaming WHERE agent_id = $1", &[&agent.to_string()])? {
                Some(row) => row.try_get(0)?,
                None => 0,
            };
        Ok(usize::try_from(count).unwrap_or_default())
    }

    fn silent_nodes(&self, before: Millis) -> StoreResult<Vec<String>> {
        self.rows("SELECT node_id FROM nodes WHERE seen_at < $1 ORDER BY node_id", &[&before])?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
    }

    fn has_agents(&self) -> StoreResult<bool> {
        self.exists("SELECT EXISTS (SELECT 1 FROM agents)", &[])
    }

    fn agent_by_email(&self, email: &str) -> StoreResult<Option<Agent>> {
        Ok(self.entities("SELECT data FROM agents WHERE email = $1", &[&email])?.into_iter().next())
    }

    fn password_hash(&self, agent: Id) -> StoreResult<Option<String>> {
        self.text("SELECT password_hash FROM credentials WHERE agent_id = $1", &[&agent.to_string()])
    }

    fn device_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.devices_where("token_hash = $1", &[&token_hash])?.into_iter().next())
    }

    fn device(&self, id: Id) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.devices_where("id = $1", &[&id.to_string()])?.into_iter().next())
    }

    fn active_devices(&self, agent: Option<Id>) -> StoreResult<Vec<DeviceRecord>> {
        match agent {
            Some(agent) => self.devices_where("revoked_at IS NULL AND agent_id = $1", &[&agent.to_string()]),
            None => self.devices_where("revoked_at IS NULL", &[]),
        }
    }

    fn connector_settings(&self, inbox: Id) -> StoreResult<Option<Value>> {
        let row =
            self.row("SELECT settings FROM inbox_connectors WHERE inbox_id = $1", &[&inbox.to_string()])?;
        Ok(row.map(|row| row.try_get::<_, Value>(0)).transpose()?)
    }

    fn provider_message(&self, inbox: Id, provider_id: &str) -> StoreResult<Option<Id>> {
        self.text(
            "SELECT message_id FROM provider_messages WHERE inbox_id = $1 AND provider_id = $2",
            &[&inbox.to_string(), &provider_id],
        )?
        .map(|id| parse_id(&id))
        .transpose()
    }

    fn inbox_secret(&self, inbox: Id) -> StoreResult<Option<String>> {
        self.text("SELECT secret FROM inbox_secrets WHERE inbox_id = $1", &[&inbox.to_string()])
    }

    fn contact_by_identity(&self, inbox: Id, external_id: &str) -> StoreResult<Option<Id>> {
        self.text(
            "SELECT contact_id FROM contact_identities WHERE inbox_id = $1 AND external_id = $2",
            &[&inbox.to_string(), &external_id],
        )?
        .map(|id| parse_id(&id))
        .transpose()
    }

    fn inbound_seen(&self, inbox: Id, external_id: &str) -> StoreResult<Option<(Id, Id)>> {
        let row = self.row(
            "SELECT message_id, conversation_id FROM inbound_ids WHERE inbox_id = $1 AND external_id = $2",
            &[&inbox.to_string(), &external_id],
        )?;
        row.map(|row| {
            Ok((parse_id(&row.try_get::<_, String>(0)?)?, parse_id(&row.try_get::<_, String>(1)?)?))
        })
        .transpose()
    }

    fn blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        let row =
            self.row("SELECT EXISTS (SELECT 1 FROM attachments WHERE data->>'sha256' = $1)", &[&sha256])?;
        Ok(row.map(|row| row.try_get(0)).transpose()?.unwrap_or(false))
    }

    fn resolved_before(
        &self,
        inbox: Id,
        before: Millis,
        with_text: bool,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>> {
        self.entities(
            "SELECT data FROM conversations
             WHERE inbox_id = $1 AND scope = '' AND status = 'resolved' AND last_activity_at < $2
               AND (NOT $3 OR data->>'preview' <> '')
             ORDER BY last_activity_at, id LIMIT $4",
            &[&inbox.to_string(), &before, &with_text, &(limit as i64)],
        )
    }

    fn attachment(&self, id: Id) -> StoreResult<Option<AttachmentRecord>> {
        let row = self
            .row("SELECT data, message_id, uploaded_by FROM attachments WHERE id = $1", &[&id.to_string()])?;
        row.map(|row| {
            Ok(AttachmentRecord {
                attachment: serde_json::from_value(row.try_get::<_, Value>(0)?)?,
                message_id: row.try_get::<_, Option<String>>(1)?.as_deref().map(parse_id).transpose()?,
                uploaded_by: row.try_get::<_, Option<String>>(2)?.as_deref().map(parse_id).transpose()?,
            })
        })
        .transpose()
    }

    fn delivery(&self, message: Id) -> StoreResult<Option<DeliveryRecord>> {
        let row = self.row(
            "SELECT message_id, inbox_id, attempts, last_error FROM deliveries WHERE message_id = $1",
            &[&message.to_string()],
        )?;
        row.as_ref().map(delivery_record).transpose()
    }

    fn due_deliveries(&self, now: Millis, limit: usize) -> StoreResult<Vec<DeliveryRecord>> {
        self.rows(
            "SELECT message_id, inbox_id, attempts, last_error FROM deliveries WHERE next_attempt_at <= $1::bigint
             ORDER BY next_attempt_at, pos LIMIT $2::bigint",
            &[&now, &(limit as i64)],
        )?
        .iter()
        .map(delivery_record)
        .collect()
    }

    fn change_at(&self, seq: i64) -> StoreResult<Option<(EntityKind, Id)>> {
        let Some(row) = self.row("SELECT entity, entity_id FROM changes WHERE seq = $1::bigint", &[&seq])?
        else {
            return Ok(None);
        };
        let entity: String = row.try_get(0)?;
        let kind = EntityKind::parse(&entity)
            .ok_or_else(|| StoreError(format!("unknown entity {entity:?} in the feed")))?;
        Ok(Some((kind, parse_id(&row.try_get::<_, String>(1)?)?)))
    }

    fn feed_page(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        since: i64,
        limit: usize,
    ) -> StoreResult<SyncPage> {
        self.feed_page_sql(agent, visible, since, limit)
    }

    fn latest_changes(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        kind: EntityKind,
        ids: Option<&[Id]>,
    ) -> StoreResult<Vec<Change>> {
        self.latest_changes_sql(agent, visible, kind, ids)
    }

    fn active_conversations(
        &self,
        visible: &VisibleInboxes,
        open_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<Id>> {
        self.active_conversations_sql(visible, open_only, limit)
    }

    fn thread_messages(
        &self,
        conversation: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> StoreResult<Vec<HistoryCursor>> {
        self.thread_messages_sql(conversation, before, limit)
    }

    fn backfill_page(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        upto: i64,
        before: i64,
        limit: usize,
    ) -> StoreResult<Vec<Change>> {
        self.backfill_page_sql(agent, visible, upto, before, limit)
    }

    fn search_messages(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<MessageHit>> {
        self.search_messages_sql(query, visible, limit)
    }

    fn find_contacts(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<Contact>> {
        self.find_contacts_sql(query, visible, limit)
    }
}

impl Pg<'_> {
    /// Changes the rollups and spreads by the facts a transaction took away (`old`) and wrote
    /// (`facts`): each changed row read and written once.
    fn apply_report_deltas(&mut self, old: &[ReportFact], facts: &[ReportFact]) -> StoreResult<()> {
        // The rollups change with the facts, in this transaction: never stale. One statement per
        // unit, each column an array (a key at most once: `rollup_deltas` merged them).
        let deltas = facts::rollup_deltas(old, facts);
        for unit in facts::Unit::ALL {
            let rows: Vec<&(facts::RollupKey, facts::Counts)> =
                deltas.iter().filter(|(key, _)| key.unit == unit).collect();
            if rows.is_empty() {
                continue;
            }
            let start: Vec<i64> = rows.iter().map(|(k, _)| k.start).collect();
            let inbox: Vec<Vec<u8>> = rows.iter().map(|(k, _)| k.inbox.as_bytes().to_vec()).collect();
            let channel: Vec<&str> = rows.iter().map(|(k, _)| k.channel.as_str()).collect();
            let agent: Vec<Vec<u8>> = rows.iter().map(|(k, _)| facts::key_bytes(k.agent)).collect();
            let team: Vec<Vec<u8>> = rows.iter().map(|(k, _)| facts::key_bytes(k.team)).collect();
            let labels: Vec<&str> = rows.iter().map(|(k, _)| k.labels.as_str()).collect();
            let count = |i: usize| rows.iter().map(|(_, c)| c.columns()[i]).collect::<Vec<i64>>();
            let (c0, c1, c2, c3, c4) = (count(0), count(1), count(2), count(3), count(4));
            let table = unit.table();
            self.execute(
                &format!(
                    "INSERT INTO {table} ({}, {}) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[],
                        $4::bytea[], $5::bytea[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[],
                        $10::bigint[], $11::bigint[])
                     ON CONFLICT ({}) DO UPDATE SET
                        cycles_started = {table}.cycles_started + excluded.cycles_started,
                        cycles_started_by_customers =
                            {table}.cycles_started_by_customers + excluded.cycles_started_by_customers,
                        reopened = {table}.reopened + excluded.reopened,
                        messages_in = {table}.messages_in + excluded.messages_in,
                        messages_out = {table}.messages_out + excluded.messages_out",
                    facts::ROLLUP_KEY,
                    facts::ROLLUP_COUNTS,
                    facts::ROLLUP_KEY
                ),
                &[&start, &inbox, &channel, &agent, &team, &labels, &c0, &c1, &c2, &c3, &c4],
            )?;
            let shrunk: Vec<i64> = rows
                .iter()
                .filter(|(_, c)| c.columns().iter().any(|n| *n < 0))
                .map(|(k, _)| k.start)
                .collect();
            if !shrunk.is_empty() {
                self.execute(
                    &format!(
                        "DELETE FROM {table} WHERE start = ANY($1) AND cycles_started = 0
                         AND cycles_started_by_customers = 0 AND reopened = 0 AND messages_in = 0 AND messages_out = 0"
                    ),
                    &[&shrunk],
                )?;
            }
        }
        // So do the duration facts' spreads: the changed rows read in one statement, their values
        // taken out and put in, written back (or deleted when empty) in one statement each.
        let deltas = facts::spread_deltas(old, facts);
        if !deltas.is_empty() {
            let column =
                |f: &dyn Fn(&facts::SpreadKey) -> i64| deltas.iter().map(|d| f(&d.0)).collect::<Vec<i64>>();
            let (unit, start, kind) =
                (column(&|k| k.0.unit.spread_code(k.0.level())), column(&|k| k.0.start), column(&|k| k.1));
            let inbox: Vec<Vec<u8>> = deltas.iter().map(|d| d.0 .0.inbox.as_bytes().to_vec()).collect();
            let channel: Vec<&str> = deltas.iter().map(|d| d.0 .0.channel.as_str()).collect();
            let agent: Vec<Vec<u8>> = deltas.iter().map(|d| facts::key_bytes(d.0 .0.agent)).collect();
            let team: Vec<Vec<u8>> = deltas.iter().map(|d| facts::key_bytes(d.0 .0.team)).collect();
            let labels: Vec<&str> = deltas.iter().map(|d| d.0 .0.labels.as_str()).collect();
            let params: [&(dyn postgres::types::ToSql + Sync); 8] =
                [&unit, &start, &inbox, &channel, &agent, &team, &labels, &kind];
            let mut stored: std::collections::HashMap<usize, facts::Spread> =
                std::collections::HashMap::new();
            // A lookup of the primary key per changed row (LATERAL): a join the planner may hash
            // would scan the whole table for every conversation a rebuild derives.
            let sql = "SELECT k.n, s.wall, s.business, s.open, s.conversations
                 FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::text[], $5::bytea[], $6::bytea[],
                     $7::text[], $8::bigint[]) WITH ORDINALITY
                     AS k (unit, start, inbox_id, channel, agent_id, team_id, labels, kind, n)
                 CROSS JOIN LATERAL (SELECT wall, business, open, conversations FROM report_spreads r
                     WHERE r.unit = k.unit AND r.start = k.start AND r.inbox_id = k.inbox_id
                         AND r.channel = k.channel AND r.agent_id = k.agent_id AND r.team_id = k.team_id
                         AND r.labels = k.labels AND r.kind = k.kind) AS s";
            for row in self.rows(sql, &params)? {
                let n: i64 = row.try_get(0)?;
                let spread = facts::Spread::from_blobs(
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                )
                .ok_or_else(|| StoreError("a stored spread does not parse".into()))?;
                stored.insert(n as usize - 1, spread);
            }
            let (mut gone, mut kept) = (Vec::new(), Vec::new());
            for (i, (_, remove, add)) in deltas.iter().enumerate() {
                let mut spread = stored.remove(&i).unwrap_or_default();
                spread.apply(remove, add).map_err(StoreError)?;
                if spread.is_empty() {
                    gone.push(i);
                } else {
                    kept.push((i, spread.blobs()));
                }
            }
            // A spread key's columns (unit, start, inbox, channel, agent, team, labels, kind).
            type KeyColumns<'a> = (
                Vec<i64>,
                Vec<i64>,
                Vec<Vec<u8>>,
                Vec<&'a str>,
                Vec<Vec<u8>>,
                Vec<Vec<u8>>,
                Vec<&'a str>,
                Vec<i64>,
            );
            let pick = |rows: &[usize]| -> KeyColumns {
                (
                    rows.iter().map(|i| unit[*i]).collect(),
                    rows.iter().map(|i| start[*i]).collect(),
                    rows.iter().map(|i| inbox[*i].clone()).collect(),
                    rows.iter().map(|i| channel[*i]).collect(),
                    rows.iter().map(|i| agent[*i].clone()).collect(),
                    rows.iter().map(|i| team[*i].clone()).collect(),
                    rows.iter().map(|i| labels[*i]).collect(),
                    rows.iter().map(|i| kind[*i]).collect(),
                )
            };
            // Rare (a fact moved out of its hour or day): one primary-key delete each.
            for i in gone {
                self.execute(
                    "DELETE FROM report_spreads WHERE unit = $1 AND start = $2 AND inbox_id = $3 AND channel = $4
                     AND agent_id = $5 AND team_id = $6 AND labels = $7 AND kind = $8",
                    &[&unit[i], &start[i], &inbox[i], &channel[i], &agent[i], &team[i], &labels[i], &kind[i]],
                )?;
            }
            if !kept.is_empty() {
                let rows: Vec<usize> = kept.iter().map(|(i, _)| *i).collect();
                let k = pick(&rows);
                let blob =
                    |b: usize| kept.iter().map(|(_, blobs)| blobs[b].clone()).collect::<Vec<Vec<u8>>>();
                let (wall, business, open, conversations) = (blob(0), blob(1), blob(2), blob(3));
                self.execute(
                    &format!(
                        "INSERT INTO report_spreads ({}, {}) SELECT * FROM unnest($1::bigint[], $2::bigint[],
                            $3::bytea[], $4::text[], $5::bytea[], $6::bytea[], $7::text[], $8::bigint[],
                            $9::bytea[], $10::bytea[], $11::bytea[], $12::bytea[])
                         ON CONFLICT ({}) DO UPDATE SET wall = excluded.wall, business = excluded.business,
                            open = excluded.open, conversations = excluded.conversations",
                        facts::SPREAD_KEY,
                        facts::SPREAD_VALUES,
                        facts::SPREAD_KEY
                    ),
                    &[
                        &k.0,
                        &k.1,
                        &k.2,
                        &k.3,
                        &k.4,
                        &k.5,
                        &k.6,
                        &k.7,
                        &wall,
                        &business,
                        &open,
                        &conversations,
                    ],
                )?;
            }
        }
        Ok(())
    }
}

impl StoreTx for Pg<'_> {
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
        let row = self.row(
            "SELECT agent_id, action, target, response FROM mutations WHERE client_id = $1",
            &[&client_id.to_string()],
        )?;
        row.map(|row| {
            Ok(MutationRecord {
                agent_id: parse_id(&row.try_get::<_, String>(0)?)?,
                action: row.try_get(1)?,
                target: parse_id(&row.try_get::<_, String>(2)?)?,
                response: row.try_get(3)?,
            })
        })
        .transpose()
    }

    fn remember_mutation(&mut self, client_id: Id, record: MutationRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO mutations (client_id, agent_id, action, target, response) VALUES ($1, $2, $3, $4, $5)",
            &[
                &client_id.to_string(),
                &record.agent_id.to_string(),
                &record.action,
                &record.target.to_string(),
                &record.response,
            ],
        )?;
        Ok(())
    }

    fn append_event(&mut self, event: &ledger::ConversationEvent) -> StoreResult<()> {
        let cycle = i32::try_from(event.cycle).unwrap_or(i32::MAX);
        self.execute(
            "INSERT INTO conversation_events (id, conversation_id, cycle, at, seq, kind, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &event.id.to_string(),
                &event.conversation_id.to_string(),
                &cycle,
                &event.at,
                &event.seq,
                &event.event.name(),
                &serde_json::to_value(event)?,
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
            Some(record) => self.execute(
                "INSERT INTO two_factor (agent_id, data) VALUES ($1, $2)
                 ON CONFLICT (agent_id) DO UPDATE SET data = excluded.data",
                &[&agent.to_string(), &serde_json::to_value(record)?],
            )?,
            None => self.execute("DELETE FROM two_factor WHERE agent_id = $1", &[&agent.to_string()])?,
        };
        Ok(())
    }

    fn set_email_state(&mut self, inbox: Id, key: &str, value: Option<&Value>) -> StoreResult<()> {
        match value {
            Some(value) => self.execute(
                "INSERT INTO email_state (inbox_id, key, data) VALUES ($1, $2, $3)
                 ON CONFLICT (inbox_id, key) DO UPDATE SET data = excluded.data",
                &[&inbox.to_string(), &key, value],
            )?,
            None => self.execute(
                "DELETE FROM email_state WHERE inbox_id = $1 AND key = $2",
                &[&inbox.to_string(), &key],
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
        self.execute(
            "INSERT INTO audit_events (seq, at, action, actor_id, target_id, hash, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &entry.seq,
                &entry.at,
                &entry.action,
                &entry.actor_id.map(|id| id.to_string()),
                &entry.target_id.map(|id| id.to_string()),
                &entry.hash,
                &serde_json::to_value(entry)?,
            ],
        )?;
        Ok(())
    }

    fn mark_reports_stale(&mut self, conversations: &[Id]) -> StoreResult<()> {
        if conversations.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = conversations.iter().map(Id::to_string).collect();
        self.execute(
            "INSERT INTO report_stale (conversation_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            &[&ids],
        )?;
        Ok(())
    }

    fn mark_all_reports_stale(&mut self) -> StoreResult<()> {
        self.execute(
            "INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING",
            &[],
        )?;
        Ok(())
    }

    fn replace_report_facts(&mut self, batch: &[(Id, Vec<ReportFact>)], roll_up: bool) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let stale: Vec<String> = batch.iter().map(|(id, _)| id.to_string()).collect();
        let keys: Vec<&[u8]> = batch.iter().map(|(id, _)| id.as_bytes().as_slice()).collect();
        let old = self.report_rows(
            &format!("DELETE FROM report_rows WHERE conversation_id = ANY($1) RETURNING {}", facts::COLUMNS),
            &[&keys],
        )?;
        self.execute("DELETE FROM report_durations WHERE conversation_id = ANY($1)", &[&keys])?;
        let new: Vec<ReportFact> = batch.iter().flat_map(|(_, facts)| facts.iter().cloned()).collect();
        let facts = new.as_slice();
        if !facts.is_empty() {
            // One statement for the batch: each column as an array.
            let column = |f: &dyn Fn(&ReportFact) -> i64| facts.iter().map(f).collect::<Vec<i64>>();
            let ids = |f: &dyn Fn(&ReportFact) -> Option<Id>| {
                facts.iter().map(f).map(|id| id.map(|id| id.as_bytes().to_vec())).collect::<Vec<_>>()
            };
            let texts = |f: &dyn Fn(&ReportFact) -> String| facts.iter().map(f).collect::<Vec<String>>();
            let at = column(&|f| f.at);
            let conversations: Vec<&[u8]> = batch
                .iter()
                .flat_map(|(id, facts)| std::iter::repeat_n(id.as_bytes().as_slice(), facts.len()))
                .collect();
            let seq: Vec<i64> = batch.iter().flat_map(|(_, facts)| 0..facts.len() as i64).collect();
            let kind = column(&|f| facts::kind_code(f.kind));
            let cycle = column(&|f| i64::from(f.cycle));
            let instance = column(&|f| i64::from(f.instance));
            let inbox = ids(&|f| Some(f.inbox_id));
            let channel = texts(&|f| f.channel.as_str().to_owned());
            let team = ids(&|f| f.team_id);
            let agent = ids(&|f| f.agent_id);
            let origin = column(&|f| facts::origin_code(f.origin));
            let priority = texts(&|f| f.priority.as_str().to_owned());
            let labels = texts(&|f| facts::labels_text(&f.labels));
            let start_at = column(&|f| f.start_at);
            let wall = column(&|f| f.wall_ms);
            let business = column(&|f| f.business_ms);
            let open = column(&|f| f.open_ms);
            self.execute(
                &format!(
                    "INSERT INTO report_rows ({}) SELECT * FROM unnest($1::bigint[], $2::bytea[],
                     $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bytea[], $8::text[],
                     $9::bytea[], $10::bytea[], $11::bigint[], $12::text[], $13::text[], $14::bigint[],
                     $15::bigint[], $16::bigint[], $17::bigint[])",
                    facts::COLUMNS
                ),
                &[
                    &at,
                    &conversations,
                    &seq,
                    &kind,
                    &cycle,
                    &instance,
                    &inbox,
                    &channel,
                    &team,
                    &agent,
                    &origin,
                    &priority,
                    &labels,
                    &start_at,
                    &wall,
                    &business,
                    &open,
                ],
            )?;
        }
        if facts.iter().any(|fact| facts::Counts::of(fact.kind, fact.origin).is_none()) {
            self.execute(
                &format!(
                    "INSERT INTO report_durations (at, conversation_id, seq, kind, inbox_id, channel, team_id,
                        agent_id, origin, labels, wall_ms, business_ms, open_ms)
                     SELECT at, conversation_id, seq, kind, inbox_id, channel, team_id, agent_id, origin, labels,
                        wall_ms, business_ms, open_ms
                     FROM report_rows WHERE conversation_id = ANY($1) AND kind >= {}",
                    facts::kind_code(FactKind::FirstResponse)
                ),
                &[&keys],
            )?;
        }
        self.execute("DELETE FROM report_stale WHERE conversation_id = ANY($1)", &[&stale])?;
        if roll_up {
            self.apply_report_deltas(&old, facts)?;
        }
        Ok(())
    }

    fn roll_up_report_facts(&mut self) -> StoreResult<()> {
        self.execute("DELETE FROM report_hours", &[])?;
        self.execute("DELETE FROM report_days", &[])?;
        self.execute("DELETE FROM report_spreads", &[])?;
        // Each UTC day's facts make that day's rows and its hours' whole: one pass per day, so
        // every row is one insert (an update per conversation left a dead tuple each time).
        let days: Vec<i64> = self
            .rows(
                &format!(
                    "SELECT DISTINCT at - ((at % {day}) + {day}) % {day} FROM report_rows",
                    day = facts::DAY
                ),
                &[],
            )?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        for day in days {
            let facts = self.report_facts(day, day + facts::DAY)?;
            self.apply_report_deltas(&[], &facts)?;
        }
        Ok(())
    }

    fn enqueue_rule_webhook(&mut self, key: &str, job: &Value, at: Millis) -> StoreResult<()> {
        self.execute(
            "INSERT INTO rule_webhooks (key, job, attempts, next_attempt_at) VALUES ($1, $2, 0, $3)
             ON CONFLICT (key) DO NOTHING",
            &[&key, job, &at],
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
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        self.execute(
            "UPDATE rule_webhooks SET attempts = $2, next_attempt_at = $3, last_error = COALESCE($4, last_error)
             WHERE key = $1",
            &[&key, &attempts, &at, &error],
        )?;
        Ok(())
    }

    fn finish_rule_webhook(&mut self, key: &str) -> StoreResult<()> {
        self.execute("UPDATE rule_webhooks SET next_attempt_at = NULL WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn insert_automation_run(&mut self, run: &AutomationRun, forget_before: Millis) -> StoreResult<()> {
        let status = serde_json::to_value(run.status)?;
        self.execute(
            "INSERT INTO automation_runs (id, rule_id, conversation_id, at, status, data)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &run.id.to_string(),
                &run.rule_id.to_string(),
                &run.conversation_id.to_string(),
                &run.at,
                &status.as_str().unwrap_or_default(),
                &serde_json::to_value(run)?,
            ],
        )?;
        self.execute(
            "DELETE FROM automation_runs WHERE rule_id = $1 AND at < $2",
            &[&run.rule_id.to_string(), &forget_before],
        )?;
        Ok(())
    }

    fn schedule_timer(&mut self, timer: &TimerRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO timers (key, due_at, payload) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload",
            &[&timer.key, &timer.due_at, &timer.payload],
        )?;
        Ok(())
    }

    fn remove_timer(&mut self, key: &str) -> StoreResult<()> {
        self.execute("DELETE FROM timers WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn index_message(&mut self, message: &Message, inbox: Id) -> StoreResult<()> {
        let body = text::normalize_for_search(&message.body);
        self.execute(
            "INSERT INTO message_search (message_id, conversation_id, inbox_id, created_at, body, words)
             VALUES ($1, $2, $3, $4, $5, $6::text::tsvector)",
            &[
                &message.id.to_string(),
                &message.conversation_id.to_string(),
                &inbox.to_string(),
                &message.created_at,
                &body,
                &search::tsvector(&body),
            ],
        )?;
        Ok(())
    }

    fn set_password_hash(&mut self, agent: Id, hash: &str) -> StoreResult<()> {
        self.execute(
            "INSERT INTO credentials (agent_id, password_hash) VALUES ($1, $2)
             ON CONFLICT (agent_id) DO UPDATE SET password_hash = excluded.password_hash",
            &[&agent.to_string(), &hash],
        )?;
        Ok(())
    }

    fn insert_device(&mut self, device: &DeviceRecord) -> StoreResult<()> {
        self.execute(
            &format!("INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &device.id.to_string(),
                &device.agent_id.to_string(),
                &device.name,
                &device.token_hash,
                &device.created_at,
                &device.last_seen_at,
                &device.revoked_at,
            ],
        )?;
        Ok(())
    }

    fn touch_device(&mut self, id: Id, at: Millis) -> StoreResult<()> {
        self.execute("UPDATE devices SET last_seen_at = $2 WHERE id = $1", &[&id.to_string(), &at])?;
        Ok(())
    }

    fn revoke_device(&mut self, id: Id, at: Millis) -> StoreResult<()> {
        self.execute(
            "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id.to_string(), &at],
        )?;
        Ok(())
    }

    fn set_connector_settings(&mut self, inbox: Id, settings: Option<&Value>) -> StoreResult<()> {
        match settings {
            Some(settings) => self.execute(
                "INSERT INTO inbox_connectors (inbox_id, settings) VALUES ($1, $2)
                 ON CONFLICT (inbox_id) DO UPDATE SET settings = excluded.settings",
                &[&inbox.to_string(), settings],
            )?,
            None => {
                self.execute("DELETE FROM inbox_connectors WHERE inbox_id = $1", &[&inbox.to_string()])?
            }
        };
        Ok(())
    }

    fn remember_provider_message(&mut self, inbox: Id, provider_id: &str, message: Id) -> StoreResult<()> {
        self.execute(
            "INSERT INTO provider_messages (inbox_id, provider_id, message_id) VALUES ($1, $2, $3)
             ON CONFLICT (inbox_id, provider_id) DO NOTHING",
            &[&inbox.to_string(), &provider_id, &message.to_string()],
        )?;
        Ok(())
    }

    fn set_inbox_secret(&mut self, inbox: Id, secret: &str) -> StoreResult<()> {
        self.execute(
            "INSERT INTO inbox_secrets (inbox_id, secret) VALUES ($1, $2)
             ON CONFLICT (inbox_id) DO UPDATE SET secret = excluded.secret",
            &[&inbox.to_string(), &secret],
        )?;
        Ok(())
    }

    fn erase_conversation_rows(&mut self, conversation: Id) -> StoreResult<Vec<String>> {
        let id = conversation.to_string();
        let files = self.erase_attachments("conversation_id = $1", &id)?;
        for sql in [
            "DELETE FROM message_search WHERE conversation_id = $1",
            "DELETE FROM inbound_ids WHERE conversation_id = $1",
            "DELETE FROM deliveries WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM provider_messages
             WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM mutations
             WHERE target = $1 OR target IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM timers WHERE key LIKE '%:' || $1",
            "DELETE FROM email_state WHERE key = 'thread:' || $1",
        ] {
            self.execute(sql, &[&id])?;
        }
        Ok(files)
    }

    fn erase_message_rows(&mut self, messages: &[Id]) -> StoreResult<Vec<String>> {
        let mut files = Vec::new();
        for message in messages {
            let id = message.to_string();
            files.extend(self.erase_attachments("message_id = $1", &id)?);
            self.execute("DELETE FROM message_search WHERE message_id = $1", &[&id])?;
        }
        Ok(files)
    }

    fn erase_contact_rows(&mut self, contact: Id) -> StoreResult<()> {
        self.execute("DELETE FROM contact_identities WHERE contact_id = $1", &[&contact.to_string()])?;
        Ok(())
    }

    fn erase_change_data(&mut self, ids: &[Id]) -> StoreResult<()> {
        // One pass over the feed for the whole list: no index finds superseded changes by id.
        let ids: Vec<String> = ids.iter().map(Id::to_string).collect();
        self.execute(
            "UPDATE changes SET data = NULL WHERE data IS NOT NULL
               AND entity IN ('message', 'conversation', 'contact') AND entity_id = ANY($1)",
            &[&ids],
        )?;
        Ok(())
    }

    fn move_identities(&mut self, from: Id, to: Id) -> StoreResult<()> {
        self.execute(
            "UPDATE contact_identities SET contact_id = $2 WHERE contact_id = $1",
            &[&from.to_string(), &to.to_string()],
        )?;
        Ok(())
    }

    fn add_identity(&mut self, inbox: Id, external_id: &str, contact: Id) -> StoreResult<()> {
        self.execute(
            "INSERT INTO contact_identities (inbox_id, external_id, contact_id) VALUES ($1, $2, $3)",
            &[&inbox.to_string(), &external_id, &contact.to_string()],
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
        self.execute(
            "INSERT INTO inbound_ids (inbox_id, external_id, message_id, conversation_id) VALUES ($1, $2, $3, $4)",
            &[&inbox.to_string(), &external_id, &message.to_string(), &conversation.to_string()],
        )?;
        Ok(())
    }

    fn insert_attachment(&mut self, record: &AttachmentRecord) -> StoreResult<()> {
        let attachment = &record.attachment;
        self.execute(
            "INSERT INTO attachments (id, conversation_id, message_id, uploaded_by, data)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &attachment.id.to_string(),
                &attachment.conversation_id.to_string(),
                &record.message_id.map(|m| m.to_string()),
                &record.uploaded_by.map(|a| a.to_string()),
                &serde_json::to_value(attachment)?,
            ],
        )?;
        Ok(())
    }

    fn claim_attachment(&mut self, id: Id, message: Id) -> StoreResult<()> {
        self.execute(
            "UPDATE attachments SET message_id = $2 WHERE id = $1",
            &[&id.to_string(), &message.to_string()],
        )?;
        Ok(())
    }

    fn enqueue_delivery(&mut self, delivery: &DeliveryRecord, at: Millis) -> StoreResult<()> {
        self.execute(
            "INSERT INTO deliveries (message_id, inbox_id, attempts, next_attempt_at) VALUES ($1, $2, $3, $4)",
            &[
                &delivery.message_id.to_string(),
                &delivery.inbox_id.to_string(),
                &attempts_column(delivery.attempts),
                &at,
            ],
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
        self.execute(
            "UPDATE deliveries SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE message_id = $1",
            &[&message.to_string(), &attempts_column(attempts), &at, &error],
        )?;
        Ok(())
    }

    fn record_login_failure(&mut self, key: &str, at: Millis, forget_before: Millis) -> StoreResult<()> {
        self.execute("DELETE FROM login_failures WHERE at < $1", &[&forget_before])?;
        self.execute("INSERT INTO login_failures (key, at) VALUES ($1, $2)", &[&key, &at])?;
        Ok(())
    }

    fn clear_login_failures(&mut self, key: &str) -> StoreResult<()> {
        self.execute("DELETE FROM login_failures WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn set_routing_turn(&mut self, agent: Id, turn: i64) -> StoreResult<()> {
        self.execute(
            "INSERT INTO routing_turns (agent_id, turn) VALUES ($1, $2)
             ON CONFLICT (agent_id) DO UPDATE SET turn = excluded.turn",
            &[&agent.to_string(), &turn],
        )?;
        Ok(())
    }

    fn set_streaming(&mut self, node: &str, agent: Id, streaming: bool) -> StoreResult<()> {
        let sql = if streaming {
            "INSERT INTO streaming (node_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM streaming WHERE node_id = $1 AND agent_id = $2"
        };
        self.execute(sql, &[&node, &agent.to_string()])?;
        Ok(())
    }

    fn node_seen(&mut self, node: &str, at: Millis) -> StoreResult<bool> {
        // Every write holds the feed lock, so nobody inserts this row between the two statements.
        let updated = self.execute("UPDATE nodes SET seen_at = $2 WHERE node_id = $1", &[&node, &at])?;
        if updated == 0 {
            self.execute("INSERT INTO nodes (node_id, seen_at) VALUES ($1, $2)", &[&node, &at])?;
        }
        Ok(updated > 0)
    }

    fn forget_node(&mut self, node: &str) -> StoreResult<Vec<Id>> {
        let agents = self
            .rows("DELETE FROM streaming WHERE node_id = $1 RETURNING agent_id", &[&node])?
            .iter()
            .map(|row| parse_id(&row.try_get::<_, String>(0)?))
            .collect::<StoreResult<Vec<_>>>()?;
        self.execute("DELETE FROM nodes WHERE node_id = $1", &[&node])?;
        Ok(agents)
    }

    fn postpone_delivery(&mut self, message: Id, at: Millis) -> StoreResult<()> {
        self.execute(
            "UPDATE deliveries SET next_attempt_at = $2 WHERE message_id = $1",
            &[&message.to_string(), &at],
        )?;
        Ok(())
    }

    fn remove_delivery(&mut self, message: Id) -> StoreResult<()> {
        self.execute("DELETE FROM deliveries WHERE message_id = $1", &[&message.to_string()])?;
        Ok(())
    }
}

impl Pg<'_> {
    /// Deletes the attachment rows `condition` (on `$1`) selects, answering their files' hashes.
    fn erase_attachments(&self, condition: &str, id: &str) -> StoreResult<Vec<String>> {
        let rows = self
            .rows(&format!("DELETE FROM attachments WHERE {condition} RETURNING data->>'sha256'"), &[&id])?;
        Ok(rows.into_iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
    }
}
