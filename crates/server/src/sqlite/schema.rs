//! The server database's migrations. Append-only: a shipped migration is never edited; a change
//! of schema is a new entry at the end.
//!
//! Entity tables keep the entity's wire JSON in `data` and expose the fields that queries and
//! constraints need as generated columns, so the JSON the feed carries and the row are one thing.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the feed, entities, accounts.
    r#"
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        -- '' for records everyone (who sees the inbox) may receive, else the one agent's id.
        scope_agent TEXT NOT NULL DEFAULT '',
        -- NULL for workspace-wide records, else the conversation's inbox.
        inbox_id TEXT,
        op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
        data TEXT,
        -- 1 once a later change of the same entity exists: compaction skips it.
        superseded INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX changes_latest ON changes(entity, entity_id, scope_agent) WHERE superseded = 0;

    CREATE TABLE agents (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        email TEXT GENERATED ALWAYS AS (lower(data->>'email')) STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE UNIQUE INDEX agents_email ON agents(email);
    CREATE TABLE credentials (agent_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL);
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE INDEX devices_agent ON devices(agent_id);

    CREATE TABLE teams (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE inboxes (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE inbox_secrets (inbox_id TEXT PRIMARY KEY, secret TEXT NOT NULL);

    CREATE TABLE contacts (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        name TEXT GENERATED ALWAYS AS (data->>'name') VIRTUAL,
        phone_digits TEXT GENERATED ALWAYS AS (
            replace(replace(replace(replace(replace(replace(
                coalesce(data->>'phone', ''), ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')
        ) VIRTUAL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE contact_identities (
        inbox_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        PRIMARY KEY (inbox_id, external_id)
    );

    CREATE TABLE conversations (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        inbox_id TEXT GENERATED ALWAYS AS (data->>'inbox_id') STORED,
        contact_id TEXT GENERATED ALWAYS AS (data->>'contact_id') STORED,
        status TEXT GENERATED ALWAYS AS (data->>'status') STORED,
        last_activity_at INTEGER GENERATED ALWAYS AS (data->>'last_activity_at') STORED,
        PRIMARY KEY (id, scope)
    );
    -- A contact has at most one open (unresolved) conversation per inbox.
    CREATE UNIQUE INDEX conversations_one_open
        ON conversations(inbox_id, contact_id) WHERE status != 'resolved';
    CREATE INDEX conversations_by_contact ON conversations(inbox_id, contact_id, last_activity_at);

    CREATE TABLE messages (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        conversation_id TEXT GENERATED ALWAYS AS (data->>'conversation_id') STORED,
        created_at INTEGER GENERATED ALWAYS AS (data->>'created_at') STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at);
    CREATE TABLE inbound_ids (
        inbox_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        PRIMARY KEY (inbox_id, external_id)
    );
    CREATE VIRTUAL TABLE message_search USING fts5(
        message_id UNINDEXED, conversation_id UNINDEXED, inbox_id UNINDEXED, created_at UNINDEXED,
        body, tokenize = 'unicode61 remove_diacritics 2'
    );

    CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        message_id TEXT,
        uploaded_by TEXT,
        data TEXT NOT NULL
    );

    CREATE TABLE labels (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        name TEXT GENERATED ALWAYS AS (data->>'name') STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE UNIQUE INDEX labels_name ON labels(name);
    CREATE TABLE canned_responses (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE mentions (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE pins (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE read_markers (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );

    -- Idempotency: the stored answer of every mutation, by its client_id.
    CREATE TABLE mutations (
        client_id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        response TEXT NOT NULL
    );

    -- Outgoing replies to POST to an API inbox's webhook.
    CREATE TABLE deliveries (
        message_id TEXT PRIMARY KEY,
        inbox_id TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT
    );
    CREATE INDEX deliveries_due ON deliveries(next_attempt_at);
    "#,
    // 2: a contact who wrote in through a channel belongs to that inbox (for visibility).
    r#"
    ALTER TABLE contacts ADD COLUMN inbox_id TEXT
        GENERATED ALWAYS AS (data->'identities'->0->>'inbox_id') VIRTUAL;
    "#,
    // 3: the conversation event ledger (append-only) and durable timers.
    r#"
    CREATE TABLE conversation_events (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        at INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX conversation_events_by_conversation ON conversation_events(conversation_id, id);
    CREATE INDEX conversations_by_assignee ON conversations(data->>'assignee_id')
        WHERE data->>'status' != 'resolved';
    CREATE TABLE timers (
        key TEXT PRIMARY KEY,
        due_at INTEGER NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX timers_due ON timers(due_at);
    "#,
    // 4: failed sign-ins, for the rate limit (in the database, so every node counts them).
    r#"
    CREATE TABLE login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX login_failures_by_key ON login_failures(key, at);
    CREATE INDEX login_failures_by_time ON login_failures(at);
    "#,
    // 5: presence: the nodes alive, and which of them hold a stream of which agent.
    r#"
    CREATE TABLE nodes (node_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
    CREATE TABLE streaming (
        node_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        PRIMARY KEY (node_id, agent_id)
    );
    CREATE INDEX streaming_by_agent ON streaming(agent_id);
    "#,
    // 6: routing: the queue of open conversations nobody holds, and each agent's rotation turn.
    r#"
    CREATE INDEX conversations_queued ON conversations(inbox_id)
        WHERE status = 'open' AND data->>'assignee_id' IS NULL;
    CREATE TABLE routing_turns (agent_id TEXT PRIMARY KEY, turn INTEGER NOT NULL);
    "#,
    // 7: service-level policies (an entity of the feed; the clocks live in conversations).
    r#"
    CREATE TABLE sla_policies (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 8: each agent's open conversations counted from an index, not by parsing every open
    // conversation's JSON (routing counts loads on every inbound message).
    r#"
    ALTER TABLE conversations ADD COLUMN assignee_id TEXT
        GENERATED ALWAYS AS (data->>'assignee_id') VIRTUAL;
    CREATE INDEX conversations_open_by_assignee ON conversations(assignee_id)
        WHERE status = 'open' AND assignee_id IS NOT NULL;
    "#,
    // 9: automation rules (an entity of the feed) and their run log.
    r#"
    CREATE TABLE automation_rules (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE automation_runs (
        id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX automation_runs_by_rule ON automation_runs(rule_id, id);
    CREATE INDEX automation_runs_by_conversation ON automation_runs(conversation_id, rule_id, id);
    "#,
    // 10: rules' webhook calls, queued with the rule's transaction and made once (a made call's
    // key stays, with no next attempt, so a repeat can't queue it again).
    r#"
    CREATE TABLE rule_webhooks (
        key TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_error TEXT
    );
    CREATE INDEX rule_webhooks_due ON rule_webhooks(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
    "#,
    // 11: report facts, derived from the ledger (recomputable), and the conversations whose
    // ledger grew since their facts were derived.
    r#"
    CREATE TABLE report_facts (
        conversation_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX report_facts_by_time ON report_facts(at);
    CREATE INDEX report_facts_by_conversation ON report_facts(conversation_id);
    CREATE TABLE report_stale (conversation_id TEXT PRIMARY KEY);
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations;
    "#,
    // 12: the audit trail, append-only: the triggers refuse any update or delete, so even a
    // mistake in the server's own SQL can't rewrite history (the hash chain finds what the
    // triggers can't stop: an edit of the file itself).
    r#"
    CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor_id TEXT,
        target_id TEXT,
        hash TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX audit_events_by_action ON audit_events(action, seq);
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    "#,
    // 13: second factors (server-only: never in the feed).
    r#"
    CREATE TABLE two_factor (agent_id TEXT PRIMARY KEY, data TEXT NOT NULL);
    "#,
    // 14: each agent's open load kept in a row by triggers, so routing reads five rows instead of
    // counting every open assigned conversation on every inbound message, and no write path (bulk,
    // cascade, a migration) can forget to update it; and the run log's retention found by time.
    r#"
    CREATE TABLE agent_loads (agent_id TEXT PRIMARY KEY, open INTEGER NOT NULL);
    INSERT INTO agent_loads (agent_id, open)
        SELECT assignee_id, count(*) FROM conversations
        WHERE scope = '' AND status = 'open' AND assignee_id IS NOT NULL GROUP BY assignee_id;
    CREATE TRIGGER conversations_load_insert AFTER INSERT ON conversations
        WHEN NEW.scope = '' AND NEW.status = 'open' AND NEW.assignee_id IS NOT NULL
    BEGIN
        INSERT INTO agent_loads (agent_id, open) VALUES (NEW.assignee_id, 1)
            ON CONFLICT (agent_id) DO UPDATE SET open = open + 1;
    END;
    CREATE TRIGGER conversations_load_delete AFTER DELETE ON conversations
        WHEN OLD.scope = '' AND OLD.status = 'open' AND OLD.assignee_id IS NOT NULL
    BEGIN
        UPDATE agent_loads SET open = open - 1 WHERE agent_id = OLD.assignee_id;
    END;
    CREATE TRIGGER conversations_load_update AFTER UPDATE ON conversations
        WHEN NEW.scope = ''
            AND (OLD.status IS NOT NEW.status OR OLD.assignee_id IS NOT NEW.assignee_id)
    BEGIN
        UPDATE agent_loads SET open = open - 1
            WHERE OLD.status = 'open' AND agent_id = OLD.assignee_id;
        INSERT INTO agent_loads (agent_id, open)
            SELECT NEW.assignee_id, 1 WHERE NEW.status = 'open' AND NEW.assignee_id IS NOT NULL
            ON CONFLICT (agent_id) DO UPDATE SET open = open + 1;
    END;
    CREATE INDEX automation_runs_by_rule_at ON automation_runs(rule_id, at);
    "#,
    // 15: email inboxes' server-only state: settings and password, IMAP UIDs, threads.
    r#"
    CREATE TABLE email_state (
        inbox_id TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (inbox_id, key)
    );
    "#,
    // 16: connectors: each inbox's connector settings (secrets included, server-only: never in the
    // feed), moved out of the inbox entity (`webhook_url`, in its row and in the feed's history),
    // and the provider's ids of outgoing messages (delivery statuses name them).
    r#"
    CREATE TABLE inbox_connectors (inbox_id TEXT PRIMARY KEY, settings TEXT NOT NULL);
    INSERT INTO inbox_connectors (inbox_id, settings)
        SELECT id, json_object('kind', 'api', 'webhook_url', data->>'webhook_url') FROM inboxes
        WHERE scope = '' AND data->>'webhook_url' IS NOT NULL;
    UPDATE inboxes SET data = json_remove(data, '$.webhook_url');
    UPDATE changes SET data = json_remove(data, '$.webhook_url') WHERE entity = 'inbox' AND data IS NOT NULL;
    CREATE TABLE provider_messages (
        inbox_id TEXT NOT NULL, provider_id TEXT NOT NULL, message_id TEXT NOT NULL,
        PRIMARY KEY (inbox_id, provider_id)
    );
    "#,
    // 17: saved views (an entity of the feed): a personal one keyed by its owner, a team view
    // once per member (each copy private to that member).
    r#"
    CREATE TABLE saved_views (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 18: report facts as narrow typed rows clustered by time (`WITHOUT ROWID`, keyed by
    // `(at, conversation_id, seq)`): a report's period is one sequential read of small rows, not
    // an index lookup and a JSON decode per fact (`facts.rs`). Facts are derived data: the old
    // table goes and every conversation is derived again by the next report.
    r#"
    CREATE TABLE report_rows (
        at INTEGER NOT NULL,
        conversation_id BLOB NOT NULL,
        seq INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        cycle INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        inbox_id BLOB NOT NULL,
        channel TEXT NOT NULL,
        team_id BLOB,
        agent_id BLOB,
        origin INTEGER NOT NULL,
        priority TEXT NOT NULL,
        labels TEXT NOT NULL,
        start_at INTEGER NOT NULL,
        wall_ms INTEGER NOT NULL,
        business_ms INTEGER NOT NULL,
        open_ms INTEGER NOT NULL,
        PRIMARY KEY (at, conversation_id, seq)
    ) WITHOUT ROWID;
    CREATE INDEX report_rows_by_conversation ON report_rows(conversation_id);
    DROP TABLE report_facts;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
        ON CONFLICT DO NOTHING;
    "#,
    // 19: an agent's favourite slot and use count of a quick reply (an entity of the feed, private
    // to the agent, keyed by the reply's id).
    r#"
    CREATE TABLE quick_reply_usages (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 20: custom contact fields (an entity of the feed), and a contact's conversations and
    // channel identities found by contact (a merge moves them).
    r#"
    CREATE TABLE custom_fields (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE INDEX conversations_of_contact ON conversations(contact_id);
    CREATE INDEX contact_identities_of_contact ON contact_identities(contact_id);
    "#,
    // 21: report rollups: the count facts' figures per UTC hour and per UTC day and every
    // dimension a report groups or filters by (no agent or team: the empty blob), changed with the
    // facts in `replace_report_facts`'s transaction (`facts::rollup_deltas`); and the duration
    // facts in a covering index clustered by time, so a report's period is a few rollup rows and
    // one range read of its durations (`facts::Scan::plan`). Facts are derived data: they go and
    // every conversation is derived again by the next report, which fills the rollups.
    r#"
    CREATE TABLE report_hours (
        start INTEGER NOT NULL, inbox_id BLOB NOT NULL, channel TEXT NOT NULL, agent_id BLOB NOT NULL,
        team_id BLOB NOT NULL, labels TEXT NOT NULL,
        cycles_started INTEGER NOT NULL, cycles_started_by_customers INTEGER NOT NULL,
        reopened INTEGER NOT NULL, messages_in INTEGER NOT NULL, messages_out INTEGER NOT NULL,
        PRIMARY KEY (start, inbox_id, channel, agent_id, team_id, labels)
    ) WITHOUT ROWID;
    CREATE TABLE report_days (
        start INTEGER NOT NULL, inbox_id BLOB NOT NULL, channel TEXT NOT NULL, agent_id BLOB NOT NULL,
        team_id BLOB NOT NULL, labels TEXT NOT NULL,
        cycles_started INTEGER NOT NULL, cycles_started_by_customers INTEGER NOT NULL,
        reopened INTEGER NOT NULL, messages_in INTEGER NOT NULL, messages_out INTEGER NOT NULL,
        PRIMARY KEY (start, inbox_id, channel, agent_id, team_id, labels)
    ) WITHOUT ROWID;
    CREATE INDEX report_rows_timed ON report_rows (at, kind, inbox_id, agent_id, team_id, channel, labels,
        origin, wall_ms, business_ms, open_ms) WHERE kind >= 4;
    DELETE FROM report_rows;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
        ON CONFLICT DO NOTHING;
    "#,
    // 22: a fresh device's snapshot (`GET /sync/bootstrap`) takes the most recently active
    // conversations, open ones and any: walks down these indexes that stop at the limit instead of
    // a sort of every conversation (`feed::active_conversations`).
    r#"
    CREATE INDEX conversations_by_activity ON conversations(last_activity_at) WHERE scope = '';
    CREATE INDEX conversations_open_by_activity ON conversations(last_activity_at)
        WHERE scope = '' AND status != 'resolved';
    "#,
    // 23: report spreads: the duration facts' values (sorted, `i64` little-endian; resolutions'
    // conversations as 16 bytes each) per UTC hour (unit 0) and UTC day (1), every dimension a
    // report groups or filters by, and the fact kind, changed with the facts in
    // `replace_report_facts`'s transaction (`facts::spread_deltas`), so a period's exact medians
    // are a few rows per day (`facts::Tally::add_spread`). Derived data: the facts and rollups go
    // and the next report derives every conversation again, filling all three.
    r#"
    CREATE TABLE report_spreads (
        unit INTEGER NOT NULL, start INTEGER NOT NULL, inbox_id BLOB NOT NULL, channel TEXT NOT NULL,
        agent_id BLOB NOT NULL, team_id BLOB NOT NULL, labels TEXT NOT NULL, kind INTEGER NOT NULL,
        wall BLOB NOT NULL, business BLOB NOT NULL, open BLOB NOT NULL, conversations BLOB NOT NULL,
        PRIMARY KEY (unit, start, inbox_id, channel, agent_id, team_id, labels, kind)
    ) WITHOUT ROWID;
    DELETE FROM report_rows;
    DELETE FROM report_hours;
    DELETE FROM report_days;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
        ON CONFLICT DO NOTHING;
    "#,
    // 24: the website widget's sessions get their expiry timers (`workspace/widget.rs`): one per
    // session stored before sessions had them, due when it is over (30 days idle).
    r#"
    INSERT INTO timers (key, due_at, payload)
    SELECT 'widget-session:' || inbox_id || ':' || substr(key, 8),
        json_extract(data, '$.used_at') + 2592000001, 'null'
    FROM email_state WHERE key LIKE 'widget:%'
    ON CONFLICT DO NOTHING;
    "#,
    // 25: narrow report rollups and spreads (`facts::NARROW`): beside each row keyed by every
    // dimension, one without the team and the label list (labels `*`; spreads' `unit` 2 and 3),
    // which scans not grouped by those read: several times fewer rows per day. The narrow
    // rollups have covering indexes of their own (a scan would otherwise step over every wide row
    // of its hours and days). Derived data, as in 23: the facts and rollups go and the next report
    // derives every conversation again.
    r#"
    CREATE INDEX report_hours_narrow ON report_hours (start, inbox_id, channel, agent_id,
        cycles_started, cycles_started_by_customers, reopened, messages_in, messages_out)
        WHERE labels = '*';
    CREATE INDEX report_days_narrow ON report_days (start, inbox_id, channel, agent_id,
        cycles_started, cycles_started_by_customers, reopened, messages_in, messages_out)
        WHERE labels = '*';
    DELETE FROM report_rows;
    DELETE FROM report_hours;
    DELETE FROM report_days;
    DELETE FROM report_spreads;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
        ON CONFLICT DO NOTHING;
    "#,
    // 26: the app lock's required idle time becomes an entity of the feed (`lock_policy`, one
    // row), so a change reaches every running app; the older workspace setting is read until the
    // next change moves it here (`workspace/exports.rs`).
    r#"
    CREATE TABLE lock_policies (
        id TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 27: the report facts gain assignment-to-first-reply and the SLA outcomes (new fact kinds in
    // the same rows, rollups and spreads: `workspace/reports.rs`). Every conversation is marked
    // stale, so the next report derives it again: replacing its facts adds the new ones and their
    // spreads exactly as a live write does.
    r#"
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
        ON CONFLICT DO NOTHING;
    "#,
    // 28: per-agent report rollups and spreads (`facts::BY_AGENT`): beside the wide and narrow
    // rows, one keyed by the agent alone (inbox the nil id, channel `*`, labels `**`; spreads'
    // `unit` 4 and 5), which a scan by agent or of totals over every inbox reads: a row per agent
    // and kind of a day instead of one per inbox, channel, agent and kind. Covering indexes for
    // the per-agent rollups, as for the narrow ones. Derived data, as in 25: the facts and rollups
    // go and the next report derives every conversation again.
    r#"
    CREATE INDEX report_hours_by_agent ON report_hours (start, inbox_id, channel, agent_id,
        cycles_started, cycles_started_by_customers, reopened, messages_in, messages_out)
        WHERE labels = '**';
    CREATE INDEX report_days_by_agent ON report_days (start, inbox_id, channel, agent_id,
        cycles_started, cycles_started_by_customers, reopened, messages_in, messages_out)
        WHERE labels = '**';
    DELETE FROM report_rows;
    DELETE FROM report_hours;
    DELETE FROM report_days;
    DELETE FROM report_spreads;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations WHERE true
        ON CONFLICT DO NOTHING;
    "#,
];

/// Brings the database up to the latest schema.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_apply_to_a_fresh_database_and_are_rerunnable() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        super::migrate(&mut conn).expect("first run");
        super::migrate(&mut conn).expect("second run is a no-op");
        let version: usize =
            conn.pragma_query_value(None, "user_version", |row| row.get(0)).expect("version");
        assert_eq!(version, super::MIGRATIONS.len());
    }

    /// The kept loads equal a recount after every kind of write: a new conversation, an upsert
    /// that reassigns, one that changes status, one that changes neither, a delete, a scoped row.
    #[test]
    fn agent_loads_equal_a_recount_after_every_kind_of_write() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        super::migrate(&mut conn).expect("migrate");
        let put =
            |conn: &rusqlite::Connection, id: &str, scope: &str, status: &str, assignee: Option<&str>| {
                let data = serde_json::json!({
                    "inbox_id": "i", "contact_id": id, "status": status, "assignee_id": assignee,
                    "last_activity_at": 0,
                });
                conn.execute(
                    "INSERT INTO conversations (id, scope, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id, scope) DO UPDATE SET data = excluded.data",
                    rusqlite::params![id, scope, data.to_string()],
                )
                .expect("put");
            };
        let kept = |conn: &rusqlite::Connection| -> Vec<(String, i64)> {
            let mut statement = conn
                .prepare("SELECT agent_id, open FROM agent_loads WHERE open > 0 ORDER BY agent_id")
                .expect("prepare");
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .map(Result::unwrap)
                .collect()
        };
        let recount = |conn: &rusqlite::Connection| -> Vec<(String, i64)> {
            let mut statement = conn
                .prepare(
                    "SELECT assignee_id, count(*) FROM conversations WHERE scope = ''
                     AND status = 'open' AND assignee_id IS NOT NULL GROUP BY 1 ORDER BY 1",
                )
                .expect("prepare");
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .map(Result::unwrap)
                .collect()
        };
        put(&conn, "c1", "", "open", Some("a"));
        put(&conn, "c2", "", "open", Some("a"));
        put(&conn, "c3", "", "open", None);
        put(&conn, "c4", "", "pending", Some("b"));
        put(&conn, "c5", "agent-scope", "open", Some("b"));
        assert_eq!(kept(&conn), vec![("a".to_owned(), 2)]);
        put(&conn, "c2", "", "open", Some("b")); // reassigned
        put(&conn, "c3", "", "open", Some("a")); // claimed from the queue
        put(&conn, "c4", "", "open", Some("b")); // back to open
        put(&conn, "c1", "", "resolved", Some("a")); // resolved
        put(&conn, "c3", "", "open", Some("a")); // an edit that changes neither
        assert_eq!(kept(&conn), recount(&conn));
        assert_eq!(kept(&conn), vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
        conn.execute("DELETE FROM conversations WHERE id = 'c2'", []).expect("delete");
        put(&conn, "c4", "", "open", None); // unassigned
        assert_eq!(kept(&conn), recount(&conn));
        assert_eq!(kept(&conn), vec![("a".to_owned(), 1)]);
    }

    #[test]
    fn widget_sessions_stored_before_their_timers_get_one_due_when_they_are_over() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        let before = super::MIGRATIONS
            .iter()
            .position(|m| m.contains("'widget-session:'"))
            .expect("the widget session timers' migration");
        for migration in &super::MIGRATIONS[..before] {
            conn.execute_batch(migration).expect("an earlier migration");
        }
        conn.pragma_update(None, "user_version", before).expect("version");
        conn.execute_batch(
            r#"INSERT INTO email_state (inbox_id, key, data) VALUES
                 ('i1', 'widget:abc', '{"visitor_id":"v","created_at":5,"used_at":1000}'),
                 ('i1', 'thread:c1', '{"message_ids":[]}');"#,
        )
        .expect("a session of before");
        super::migrate(&mut conn).expect("migrate");
        let timers: Vec<(String, i64, String)> = conn
            .prepare("SELECT key, due_at, payload FROM timers ORDER BY key")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .map(Result::unwrap)
            .collect();
        let due = 1000 + 30 * 24 * 3600 * 1000 + 1;
        assert_eq!(timers, vec![("widget-session:i1:abc".to_owned(), due, "null".to_owned())]);
    }

    #[test]
    fn the_connector_migration_moves_webhook_urls_out_of_inboxes_and_the_feed() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        let before = super::MIGRATIONS
            .iter()
            .position(|m| m.contains("CREATE TABLE inbox_connectors"))
            .expect("the connector migration");
        for migration in &super::MIGRATIONS[..before] {
            conn.execute_batch(migration).expect("an earlier migration");
        }
        conn.pragma_update(None, "user_version", before).expect("version");
        conn.execute_batch(
            r#"INSERT INTO inboxes (id, data) VALUES
                 ('i1', '{"id":"i1","name":"Partner","webhook_url":"https://partner.example/hook"}'),
                 ('i2', '{"id":"i2","name":"Chat","webhook_url":null}');
               INSERT INTO changes (entity, entity_id, op, data) VALUES
                 ('inbox', 'i1', 'upsert', '{"id":"i1","webhook_url":"https://partner.example/hook"}');"#,
        )
        .expect("an inbox of before");
        super::migrate(&mut conn).expect("migrate");
        let settings: Vec<(String, String)> = conn
            .prepare("SELECT inbox_id, settings FROM inbox_connectors")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("settings");
        assert_eq!(settings.len(), 1, "only the inbox that had a webhook: {settings:?}");
        let value: serde_json::Value = serde_json::from_str(&settings[0].1).expect("json");
        assert_eq!(value, serde_json::json!({"kind": "api", "webhook_url": "https://partner.example/hook"}));
        let left: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM inboxes WHERE data LIKE '%webhook_url%')
                      + (SELECT count(*) FROM changes WHERE data LIKE '%webhook_url%')",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(left, 0, "no webhook_url left in the inboxes or the feed's history");
    }
}
