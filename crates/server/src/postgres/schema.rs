//! The PostgreSQL database's migrations. Append-only: a shipped migration is never edited; a
//! change of schema is a new entry at the end.
//!
//! The same model as `sqlite/schema.rs`: entity tables keep the entity's wire JSON in `data`
//! (`jsonb`) and expose what lookups and constraints need as stored generated columns. Each entity
//! table also has `pos`, its insertion order (SQLite's `rowid`), which upserts keep.

use ::postgres::Client;

/// The session-level advisory lock migrations run under, so nodes starting together migrate once.
const MIGRATE_LOCK: i64 = 7301;

const MIGRATIONS: &[&str] = &[
    // 1: the feed, entities, accounts, channels, search.
    r#"
    -- Assigned only under the feed lock. CACHE 1 (the default) keeps values in call order across
    -- sessions; a larger cache would let two nodes' values interleave out of commit order.
    CREATE SEQUENCE feed_seq AS bigint CACHE 1;
    CREATE TABLE changes (
        seq bigint PRIMARY KEY,
        -- The first seq of the transaction that wrote this change: one transaction, one batch.
        tx_seq bigint NOT NULL,
        entity text NOT NULL,
        entity_id text NOT NULL,
        -- '' for records everyone (who sees the inbox) may receive, else the one agent's id.
        scope_agent text NOT NULL DEFAULT '',
        -- NULL for workspace-wide records, else the conversation's inbox.
        inbox_id text,
        op text NOT NULL CHECK (op IN ('upsert', 'delete')),
        data jsonb,
        -- true once a later change of the same entity exists: compaction skips it.
        superseded boolean NOT NULL DEFAULT false
    );
    CREATE INDEX changes_latest ON changes (entity, entity_id, scope_agent) WHERE NOT superseded;

    CREATE TABLE agents (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        email text GENERATED ALWAYS AS (lower(data->>'email')) STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE UNIQUE INDEX agents_email ON agents (email);
    CREATE TABLE credentials (agent_id text PRIMARY KEY, password_hash text NOT NULL);
    CREATE TABLE devices (
        id text PRIMARY KEY,
        pos bigint GENERATED ALWAYS AS IDENTITY,
        agent_id text NOT NULL,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        last_seen_at bigint NOT NULL,
        revoked_at bigint
    );
    CREATE INDEX devices_agent ON devices (agent_id);

    CREATE TABLE teams (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE inboxes (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE inbox_secrets (inbox_id text PRIMARY KEY, secret text NOT NULL);

    CREATE TABLE contacts (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        name text GENERATED ALWAYS AS (data->>'name') STORED,
        phone_digits text GENERATED ALWAYS AS (translate(coalesce(data->>'phone', ''), ' -+().', '')) STORED,
        -- A contact who wrote in through a channel belongs to that inbox (for visibility).
        inbox_id text GENERATED ALWAYS AS (data->'identities'->0->>'inbox_id') STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE contact_identities (
        inbox_id text NOT NULL,
        external_id text NOT NULL,
        contact_id text NOT NULL,
        PRIMARY KEY (inbox_id, external_id)
    );

    CREATE TABLE conversations (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        inbox_id text GENERATED ALWAYS AS (data->>'inbox_id') STORED,
        contact_id text GENERATED ALWAYS AS (data->>'contact_id') STORED,
        status text GENERATED ALWAYS AS (data->>'status') STORED,
        last_activity_at bigint GENERATED ALWAYS AS ((data->>'last_activity_at')::bigint) STORED,
        PRIMARY KEY (id, scope)
    );
    -- A contact has at most one open (unresolved) conversation per inbox.
    CREATE UNIQUE INDEX conversations_one_open
        ON conversations (inbox_id, contact_id) WHERE status != 'resolved';
    CREATE INDEX conversations_by_contact ON conversations (inbox_id, contact_id, last_activity_at);

    CREATE TABLE messages (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        conversation_id text GENERATED ALWAYS AS (data->>'conversation_id') STORED,
        created_at bigint GENERATED ALWAYS AS ((data->>'created_at')::bigint) STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at, pos);
    CREATE TABLE inbound_ids (
        inbox_id text NOT NULL,
        external_id text NOT NULL,
        message_id text NOT NULL,
        conversation_id text NOT NULL,
        PRIMARY KEY (inbox_id, external_id)
    );
    -- `body` is the normalised text (snippets are cut from it); `words` its lexemes with
    -- positions, tokenised in Rust (`search.rs`) as SQLite's FTS5 `unicode61` tokeniser does.
    CREATE TABLE message_search (
        pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id text NOT NULL,
        conversation_id text NOT NULL,
        inbox_id text NOT NULL,
        created_at bigint NOT NULL,
        body text NOT NULL,
        words tsvector NOT NULL
    );
    CREATE INDEX message_search_words ON message_search USING gin (words);

    CREATE TABLE attachments (
        id text PRIMARY KEY,
        conversation_id text NOT NULL,
        message_id text,
        uploaded_by text,
        data jsonb NOT NULL
    );

    CREATE TABLE labels (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        name text GENERATED ALWAYS AS (data->>'name') STORED,
        PRIMARY KEY (id, scope)
    );
    CREATE UNIQUE INDEX labels_name ON labels (name);
    CREATE TABLE canned_responses (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE mentions (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE pins (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE read_markers (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );

    -- Idempotency: the stored answer of every mutation, by its client_id.
    CREATE TABLE mutations (
        client_id text PRIMARY KEY,
        agent_id text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        response jsonb NOT NULL
    );

    -- Outgoing replies to POST to an API inbox's webhook.
    CREATE TABLE deliveries (
        message_id text PRIMARY KEY,
        pos bigint GENERATED ALWAYS AS IDENTITY,
        inbox_id text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        last_error text
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at, pos);
    "#,
    // 2: the conversation event ledger (append-only) and durable timers.
    r#"
    CREATE TABLE conversation_events (
        id text PRIMARY KEY,
        conversation_id text NOT NULL,
        cycle integer NOT NULL,
        at bigint NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        data jsonb NOT NULL
    );
    CREATE INDEX conversation_events_by_conversation ON conversation_events (conversation_id, id);
    CREATE INDEX conversations_by_assignee ON conversations ((data->>'assignee_id'))
        WHERE status != 'resolved';
    CREATE TABLE timers (
        key text PRIMARY KEY,
        due_at bigint NOT NULL,
        payload jsonb NOT NULL
    );
    CREATE INDEX timers_due ON timers (due_at);
    "#,
    // 3: failed sign-ins, for the rate limit (in the database, so every node counts them).
    r#"
    CREATE TABLE login_failures (key text NOT NULL, at bigint NOT NULL);
    CREATE INDEX login_failures_by_key ON login_failures (key, at);
    CREATE INDEX login_failures_by_time ON login_failures (at);
    "#,
    // 4: presence: the nodes alive, and which of them hold a stream of which agent.
    r#"
    CREATE TABLE nodes (node_id text PRIMARY KEY, seen_at bigint NOT NULL);
    CREATE TABLE streaming (
        node_id text NOT NULL,
        agent_id text NOT NULL,
        PRIMARY KEY (node_id, agent_id)
    );
    CREATE INDEX streaming_by_agent ON streaming (agent_id);
    "#,
    // 5: routing: the queue of open conversations nobody holds, and each agent's rotation turn.
    r#"
    CREATE INDEX conversations_queued ON conversations (inbox_id)
        WHERE status = 'open' AND data->>'assignee_id' IS NULL;
    CREATE INDEX conversations_open_by_assignee ON conversations ((data->>'assignee_id'))
        WHERE status = 'open';
    CREATE TABLE routing_turns (agent_id text PRIMARY KEY, turn bigint NOT NULL);
    "#,
    // 6: service-level policies (an entity of the feed; the clocks live in conversations).
    r#"
    CREATE TABLE sla_policies (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 7: automation rules (an entity of the feed) and their run log.
    r#"
    CREATE TABLE automation_rules (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE TABLE automation_runs (
        id text PRIMARY KEY,
        rule_id text NOT NULL,
        conversation_id text NOT NULL,
        at bigint NOT NULL,
        status text NOT NULL,
        data jsonb NOT NULL
    );
    CREATE INDEX automation_runs_by_rule ON automation_runs (rule_id, id);
    CREATE INDEX automation_runs_by_conversation ON automation_runs (conversation_id, rule_id, id);
    "#,
    // 8: rules' webhook calls, queued with the rule's transaction and made once (a made call's
    // key stays, with no next attempt, so a repeat can't queue it again).
    r#"
    CREATE TABLE rule_webhooks (
        key text PRIMARY KEY,
        job jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint,
        last_error text
    );
    CREATE INDEX rule_webhooks_due ON rule_webhooks (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
    "#,
    // 9: report facts, derived from the ledger (recomputable), and the conversations whose
    // ledger grew since their facts were derived.
    r#"
    CREATE TABLE report_facts (
        conversation_id text NOT NULL,
        at bigint NOT NULL,
        kind text NOT NULL,
        data jsonb NOT NULL
    );
    CREATE INDEX report_facts_by_time ON report_facts (at);
    CREATE INDEX report_facts_by_conversation ON report_facts (conversation_id);
    CREATE TABLE report_stale (conversation_id text PRIMARY KEY);
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
    // 10: the audit trail, append-only: the trigger refuses any update or delete, so even a
    // mistake in the server's own SQL can't rewrite history (the hash chain finds what the
    // trigger can't stop: a superuser's edit).
    r#"
    CREATE TABLE audit_events (
        seq bigint PRIMARY KEY,
        at bigint NOT NULL,
        action text NOT NULL,
        actor_id text,
        target_id text,
        hash text NOT NULL,
        data jsonb NOT NULL
    );
    CREATE INDEX audit_events_by_action ON audit_events (action, seq);
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    "#,
    // 11: second factors (server-only: never in the feed).
    r#"
    CREATE TABLE two_factor (agent_id text PRIMARY KEY, data jsonb NOT NULL);
    "#,
    // 12: each agent's open load kept in a row by a trigger, so routing reads five rows instead of
    // counting every open assigned conversation on every inbound message, and no write path (bulk,
    // cascade, a migration) can forget to update it; and the run log's retention found by time.
    // Every write transaction holds the feed lock first, so two never update these rows at once.
    r#"
    CREATE TABLE agent_loads (agent_id text PRIMARY KEY, open bigint NOT NULL);
    INSERT INTO agent_loads (agent_id, open)
        SELECT data->>'assignee_id', count(*) FROM conversations
        WHERE scope = '' AND status = 'open' AND data->>'assignee_id' IS NOT NULL
        GROUP BY data->>'assignee_id';
    CREATE FUNCTION conversations_count_load() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        old_agent text;
        new_agent text;
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.scope = '' AND OLD.status = 'open' THEN
            old_agent := OLD.data->>'assignee_id';
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.scope = '' AND NEW.status = 'open' THEN
            new_agent := NEW.data->>'assignee_id';
        END IF;
        IF old_agent IS NOT DISTINCT FROM new_agent THEN
            RETURN NULL;
        END IF;
        IF old_agent IS NOT NULL THEN
            UPDATE agent_loads SET open = open - 1 WHERE agent_id = old_agent;
        END IF;
        IF new_agent IS NOT NULL THEN
            INSERT INTO agent_loads (agent_id, open) VALUES (new_agent, 1)
                ON CONFLICT (agent_id) DO UPDATE SET open = agent_loads.open + 1;
        END IF;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER conversations_load AFTER INSERT OR UPDATE OR DELETE ON conversations
        FOR EACH ROW EXECUTE FUNCTION conversations_count_load();
    CREATE INDEX automation_runs_by_rule_at ON automation_runs (rule_id, at);
    "#,
    // 13: email inboxes' server-only state: settings and password, IMAP UIDs, threads.
    r#"
    CREATE TABLE email_state (
        inbox_id text NOT NULL, key text NOT NULL, data jsonb NOT NULL,
        PRIMARY KEY (inbox_id, key)
    );
    "#,
    // 14: connectors: each inbox's connector settings (secrets included, server-only: never in the
    // feed), moved out of the inbox entity (`webhook_url`, in its row and in the feed's history),
    // and the provider's ids of outgoing messages (delivery statuses name them).
    r#"
    CREATE TABLE inbox_connectors (inbox_id text PRIMARY KEY, settings jsonb NOT NULL);
    INSERT INTO inbox_connectors (inbox_id, settings)
        SELECT id, jsonb_build_object('kind', 'api', 'webhook_url', data->>'webhook_url') FROM inboxes
        WHERE scope = '' AND data->>'webhook_url' IS NOT NULL;
    UPDATE inboxes SET data = data - 'webhook_url';
    UPDATE changes SET data = data - 'webhook_url' WHERE entity = 'inbox' AND data IS NOT NULL;
    CREATE TABLE provider_messages (
        inbox_id text NOT NULL, provider_id text NOT NULL, message_id text NOT NULL,
        PRIMARY KEY (inbox_id, provider_id)
    );
    "#,
    // 15: saved views (an entity of the feed): a personal one keyed by its owner, a team view
    // once per member (each copy private to that member).
    r#"
    CREATE TABLE saved_views (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 16: report facts as narrow typed rows (ids as bytes, no JSON but the rare label list),
    // aggregated by SQL where they are (`facts.rs`), not decoded row by row. Facts are derived
    // data: the old table goes and every conversation is derived again by the next report.
    r#"
    CREATE TABLE report_rows (
        at bigint NOT NULL,
        conversation_id bytea NOT NULL,
        seq bigint NOT NULL,
        kind bigint NOT NULL,
        cycle bigint NOT NULL,
        instance bigint NOT NULL,
        inbox_id bytea NOT NULL,
        channel text NOT NULL,
        team_id bytea,
        agent_id bytea,
        origin bigint NOT NULL,
        priority text NOT NULL,
        labels text NOT NULL,
        start_at bigint NOT NULL,
        wall_ms bigint NOT NULL,
        business_ms bigint NOT NULL,
        open_ms bigint NOT NULL,
        PRIMARY KEY (at, conversation_id, seq)
    );
    CREATE INDEX report_rows_by_conversation ON report_rows (conversation_id);
    DROP TABLE report_facts;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
    // 17: an agent's favourite slot and use count of a quick reply (an entity of the feed, private
    // to the agent, keyed by the reply's id).
    r#"
    CREATE TABLE quick_reply_usages (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 18: custom contact fields (an entity of the feed), and a contact's conversations and
    // channel identities found by contact (a merge moves them).
    r#"
    CREATE TABLE custom_fields (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    CREATE INDEX conversations_of_contact ON conversations (contact_id);
    CREATE INDEX contact_identities_of_contact ON contact_identities (contact_id);
    "#,
    // 19: report rollups: the count facts' figures per UTC hour and per UTC day and every
    // dimension a report groups or filters by (no agent or team: the empty bytea), changed with the
    // facts in `replace_report_facts`'s statements (`facts::rollup_deltas`); and the duration
    // facts again in a narrow table of their own, so a report's period is a few rollup rows and
    // the durations' rows only (`facts::Scan::plan`). Facts are derived data: they go and every
    // conversation is derived again by the next report, which fills the rollups.
    r#"
    CREATE TABLE report_hours (
        start bigint NOT NULL, inbox_id bytea NOT NULL, channel text NOT NULL, agent_id bytea NOT NULL,
        team_id bytea NOT NULL, labels text NOT NULL,
        cycles_started bigint NOT NULL, cycles_started_by_customers bigint NOT NULL,
        reopened bigint NOT NULL, messages_in bigint NOT NULL, messages_out bigint NOT NULL,
        PRIMARY KEY (start, inbox_id, channel, agent_id, team_id, labels)
    );
    CREATE TABLE report_days (
        start bigint NOT NULL, inbox_id bytea NOT NULL, channel text NOT NULL, agent_id bytea NOT NULL,
        team_id bytea NOT NULL, labels text NOT NULL,
        cycles_started bigint NOT NULL, cycles_started_by_customers bigint NOT NULL,
        reopened bigint NOT NULL, messages_in bigint NOT NULL, messages_out bigint NOT NULL,
        PRIMARY KEY (start, inbox_id, channel, agent_id, team_id, labels)
    );
    CREATE TABLE report_durations (
        at bigint NOT NULL, conversation_id bytea NOT NULL, seq bigint NOT NULL, kind bigint NOT NULL,
        inbox_id bytea NOT NULL, channel text NOT NULL, team_id bytea, agent_id bytea,
        origin bigint NOT NULL, labels text NOT NULL,
        wall_ms bigint NOT NULL, business_ms bigint NOT NULL, open_ms bigint NOT NULL,
        PRIMARY KEY (at, conversation_id, seq)
    );
    CREATE INDEX report_durations_by_conversation ON report_durations (conversation_id);
    DELETE FROM report_rows;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
    // 20: a fresh device's snapshot (`GET /sync/bootstrap`) takes the most recently active
    // conversations, open ones and any: walks down these indexes that stop at the limit instead of
    // a sort of every conversation (`feed::active_conversations_sql`).
    r#"
    CREATE INDEX conversations_by_activity ON conversations (last_activity_at) WHERE scope = '';
    CREATE INDEX conversations_open_by_activity ON conversations (last_activity_at)
        WHERE scope = '' AND status != 'resolved';
    "#,
    // 21: report spreads: the duration facts' values (sorted, `i64` little-endian; resolutions'
    // conversations as 16 bytes each) per UTC hour (unit 0) and UTC day (1), every dimension a
    // report groups or filters by, and the fact kind, changed with the facts in
    // `replace_report_facts`'s statements (`facts::spread_deltas`), so a period's exact medians
    // are a few rows per day (`facts::Tally::add_spread`). Derived data: the facts and rollups go
    // and the next report derives every conversation again, filling all three.
    r#"
    CREATE TABLE report_spreads (
        unit bigint NOT NULL, start bigint NOT NULL, inbox_id bytea NOT NULL, channel text NOT NULL,
        agent_id bytea NOT NULL, team_id bytea NOT NULL, labels text NOT NULL, kind bigint NOT NULL,
        wall bytea NOT NULL, business bytea NOT NULL, open bytea NOT NULL, conversations bytea NOT NULL,
        PRIMARY KEY (unit, start, inbox_id, channel, agent_id, team_id, labels, kind)
    );
    DELETE FROM report_rows;
    DELETE FROM report_durations;
    DELETE FROM report_hours;
    DELETE FROM report_days;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
    // 22: the website widget's sessions get their expiry timers (`workspace/widget.rs`): one per
    // session stored before sessions had them, due when it is over (30 days idle).
    r#"
    INSERT INTO timers (key, due_at, payload)
    SELECT 'widget-session:' || inbox_id || ':' || substr(key, 8),
        (data->>'used_at')::bigint + 2592000001, 'null'::jsonb
    FROM email_state WHERE key LIKE 'widget:%'
    ON CONFLICT DO NOTHING;
    "#,
    // 23: narrow report rollups and spreads (`facts::NARROW`): beside each row keyed by every
    // dimension, one without the team and the label list (labels `*`; spreads' `unit` 2 and 3),
    // which scans not grouped by those read: several times fewer rows per day. Derived data, as
    // in 21: the facts and rollups go and the next report derives every conversation again.
    r#"
    DELETE FROM report_rows;
    DELETE FROM report_durations;
    DELETE FROM report_hours;
    DELETE FROM report_days;
    DELETE FROM report_spreads;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
    // 24: the app lock's required idle time becomes an entity of the feed (`lock_policy`, one
    // row), so a change reaches every running app; the older workspace setting is read until the
    // next change moves it here (`workspace/exports.rs`).
    r#"
    CREATE TABLE lock_policies (
        id text NOT NULL, scope text NOT NULL DEFAULT '',
        pos bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL,
        PRIMARY KEY (id, scope)
    );
    "#,
    // 25: the report facts gain assignment-to-first-reply and the SLA outcomes (new fact kinds in
    // the same rows, rollups and spreads: `workspace/reports.rs`). Every conversation is marked
    // stale, so the next report derives it again: replacing its facts adds the new ones and their
    // spreads exactly as a live write does.
    r#"
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
    // 26: per-agent report rollups and spreads (`facts::BY_AGENT`): beside the wide and narrow
    // rows, one keyed by the agent alone (inbox the nil id, channel `*`, labels `**`; spreads'
    // `unit` 4 and 5), which a scan by agent or of totals over every inbox reads: a row per agent
    // and kind of a day instead of one per inbox, channel, agent and kind. The per-agent rollups
    // get an index of their own. Derived data, as in 23: the facts and rollups go and the next
    // report derives every conversation again.
    r#"
    CREATE INDEX report_hours_by_agent ON report_hours (start) WHERE labels = '**';
    CREATE INDEX report_days_by_agent ON report_days (start) WHERE labels = '**';
    DELETE FROM report_rows;
    DELETE FROM report_durations;
    DELETE FROM report_hours;
    DELETE FROM report_days;
    DELETE FROM report_spreads;
    INSERT INTO report_stale (conversation_id) SELECT id FROM conversations ON CONFLICT DO NOTHING;
    "#,
];

/// Brings the database up to the latest schema, under a session advisory lock: a node that starts
/// while another migrates waits, then finds nothing left to do.
pub fn migrate(client: &mut Client) -> Result<(), ::postgres::Error> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])?;
    let result = apply_pending(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]);
    result?;
    unlocked?;
    Ok(())
}

/// Applies each migration not yet recorded, each in its own transaction (DDL is transactional).
fn apply_pending(client: &mut Client) -> Result<(), ::postgres::Error> {
    let fresh: bool = client.query_one("SELECT to_regclass('schema_migrations') IS NULL", &[])?.get(0);
    if fresh {
        client.batch_execute(
            "CREATE TABLE schema_migrations (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )?;
    }
    let applied: i32 =
        client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        let mut tx = client.transaction()?;
        tx.batch_execute(migration)?;
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&version])?;
        tx.commit()?;
    }
    Ok(())
}
