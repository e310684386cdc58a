//! The cache's migrations. Append-only: a shipped migration is never edited.
//!
//! Every entity table keeps two JSON versions of a row: `server_data`, the latest the feed
//! delivered, and `data`, what the UI shows — the server's version with the pending outbox actions
//! replayed on top. A row with `data IS NULL` is hidden (deleted, or optimistically removed).

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: entities, search, outbox, files.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE agents (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE teams (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE inboxes (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE labels (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE canned_responses (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE contacts (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY, server_data TEXT, data TEXT,
        inbox_id TEXT GENERATED ALWAYS AS (data->>'inbox_id') STORED,
        contact_id TEXT GENERATED ALWAYS AS (data->>'contact_id') STORED,
        status TEXT GENERATED ALWAYS AS (data->>'status') STORED,
        assignee_id TEXT GENERATED ALWAYS AS (data->>'assignee_id') STORED,
        team_id TEXT GENERATED ALWAYS AS (data->>'team_id') STORED,
        last_activity_at INTEGER GENERATED ALWAYS AS (data->>'last_activity_at') STORED,
        waiting_since INTEGER GENERATED ALWAYS AS (data->>'waiting_since') STORED
    );
    CREATE INDEX conversations_by_status ON conversations(status, last_activity_at);
    CREATE INDEX conversations_by_assignee ON conversations(assignee_id, status, last_activity_at);
    CREATE INDEX conversations_by_inbox ON conversations(inbox_id, status, last_activity_at);
    CREATE INDEX conversations_by_team ON conversations(team_id, status, last_activity_at);
    CREATE INDEX conversations_by_contact ON conversations(contact_id);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY, server_data TEXT, data TEXT,
        conversation_id TEXT GENERATED ALWAYS AS (data->>'conversation_id') STORED,
        created_at INTEGER GENERATED ALWAYS AS (data->>'created_at') STORED,
        kind TEXT GENERATED ALWAYS AS (data->>'kind') STORED
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at);
    CREATE TABLE mentions (
        id TEXT PRIMARY KEY, server_data TEXT, data TEXT,
        conversation_id TEXT GENERATED ALWAYS AS (data->>'conversation_id') STORED
    );
    CREATE INDEX mentions_by_conversation ON mentions(conversation_id);
    -- Pins and read markers are keyed by conversation id (they are the signed-in agent's own).
    CREATE TABLE pins (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    CREATE TABLE read_markers (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);

    -- Full-text search. Text is normalised (rules in `search.rs`) before it is indexed.
    CREATE VIRTUAL TABLE message_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE contact_fts USING fts5(name, email, tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE phone_fts USING fts5(digits, tokenize = 'trigram');
    CREATE VIRTUAL TABLE subject_fts USING fts5(subject, tokenize = 'unicode61 remove_diacritics 2');

    -- Every agent action, in order, until the feed carries its effect.
    CREATE TABLE outbox (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        action TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        -- Set once the server accepted it: the seq its effect committed at.
        acked_seq INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );

    -- Notifications already raised, so reconnects and re-bootstraps never repeat one.
    CREATE TABLE notified (key TEXT PRIMARY KEY);

    -- Files staged for sending (copied in when queued) and downloaded attachments (an LRU cache).
    CREATE TABLE staged_files (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        file_name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        uploaded_id TEXT
    );
    CREATE TABLE downloaded_files (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        last_used INTEGER NOT NULL
    );
    CREATE INDEX downloaded_by_use ON downloaded_files(last_used);
"#,
    // 2: composer drafts, so they survive switching conversations and restarts.
    r#"
    CREATE TABLE drafts (
        conversation_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
"#,
    // 3: a conversation's labels as rows, so label views and their counts use an index instead of
    // reading every conversation's JSON (a full scan at 100k conversations).
    r#"
    CREATE TABLE conversation_labels (
        label TEXT NOT NULL,
        conversation_rowid INTEGER NOT NULL,
        PRIMARY KEY (label, conversation_rowid)
    ) WITHOUT ROWID;
    CREATE INDEX conversation_labels_by_conversation ON conversation_labels(conversation_rowid);
    INSERT OR IGNORE INTO conversation_labels (label, conversation_rowid)
        SELECT j.value, c.rowid FROM conversations c, json_each(c.data, '$.labels') j
        WHERE c.data IS NOT NULL;
"#,
    // 4: prefix indexes for two- and three-character prefixes in message and contact search. Search
    // runs as the agent types, so the last word is a prefix query, and without these FTS5 merges the
    // doclists of every word sharing the prefix: over 1M messages a two-letter Arabic prefix took
    // ~120 ms and a common three-letter one ~14 ms; with them, ~4 ms and ~2.5 ms.
    r#"
    CREATE VIRTUAL TABLE message_fts_prefixed USING fts5(body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
    INSERT INTO message_fts_prefixed (rowid, body) SELECT rowid, body FROM message_fts;
    DROP TABLE message_fts;
    ALTER TABLE message_fts_prefixed RENAME TO message_fts;
    CREATE VIRTUAL TABLE contact_fts_prefixed USING fts5(name, email, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
    INSERT INTO contact_fts_prefixed (rowid, name, email) SELECT rowid, name, email FROM contact_fts;
    DROP TABLE contact_fts;
    ALTER TABLE contact_fts_prefixed RENAME TO contact_fts;
"#,
    // 5: service-level policies, a new entity of the feed.
    r#"
    CREATE TABLE sla_policies (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
"#,
    // 6: when a conversation's first live SLA clock falls due (`ConversationSla::next_due`), as a
    // column `put_row` writes from the displayed JSON, so the "breaching soon" order reads an
    // index instead of every row's clocks. A generated column can't hold it: the clocks are an
    // array, and a generated expression may not run a subquery over `json_each`.
    r#"
    ALTER TABLE conversations ADD COLUMN sla_due_at INTEGER;
    UPDATE conversations SET sla_due_at = (
        SELECT MIN(j.value->>'due_at') FROM json_each(conversations.data, '$.sla.clocks') j
        WHERE j.value->>'status' IN ('running', 'paused', 'breached') AND j.value->>'due_at' IS NOT NULL)
    WHERE data IS NOT NULL;
    CREATE INDEX conversations_by_sla_due ON conversations(status, sla_due_at);
"#,
    // 7: automation rules, a new entity of the feed (the settings screen lists them offline).
    r#"
    CREATE TABLE automation_rules (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
"#,
    // 8: saved views, a new entity of the feed; and a conversation's priority as a rank (urgent 4
    // … none 0), so "priority, then oldest waiting" sorts an indexed column, never the rows' JSON.
    r#"
    CREATE TABLE saved_views (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    ALTER TABLE conversations ADD COLUMN priority_rank INTEGER GENERATED ALWAYS AS (
        CASE data->>'priority' WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
            WHEN 'low' THEN 1 ELSE 0 END) VIRTUAL;
    CREATE INDEX conversations_by_priority ON conversations(status, priority_rank, waiting_since);
"#,
    // 9: whether a conversation is escalated, as an indexed column, and an index holding all that
    // a board column filters and sorts by: a board page then reads one index range, never the
    // rows' JSON (5,000 unresolved conversations took 16–20 ms a page reading every row's).
    r#"
    ALTER TABLE conversations ADD COLUMN escalated INTEGER GENERATED ALWAYS AS (
        data->>'escalation' IS NOT NULL) VIRTUAL;
    CREATE INDEX conversations_by_board
        ON conversations(status, escalated, assignee_id, waiting_since, last_activity_at, id);
"#,
    // 10: the agent's favourite slot and use count of each quick reply, a new entity of the feed.
    r#"
    CREATE TABLE quick_reply_usages (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
"#,
    // 11: the priority bootstrap's backfill: what the live feed deleted while the history is
    // still arriving (a backfilled row of it is stale), and how far each thread's history was
    // fetched on demand (`cache/backfill.rs`).
    r#"
    CREATE TABLE backfill_gone (kind TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (kind, id));
    CREATE TABLE thread_history (
        conversation_id TEXT PRIMARY KEY,
        before_at INTEGER,
        before_id TEXT,
        complete INTEGER NOT NULL DEFAULT 0
    );
"#,
    // 12: custom contact fields, a new entity of the feed (the contact profile's form offline).
    r#"
    CREATE TABLE custom_fields (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    "#,
    // 13: the admin's app-lock maximum, a new entity of the feed (one row; applied live and kept
    // for offline).
    r#"
    CREATE TABLE lock_policies (id TEXT PRIMARY KEY, server_data TEXT, data TEXT);
    "#,
    // 14: whether a person has answered a conversation, as an indexed column, so the Unattended
    // view (open, and waiting or never answered) counts and lists from one index range, never
    // the rows' JSON, as every other sidebar view does.
    r#"
    ALTER TABLE conversations ADD COLUMN answered INTEGER GENERATED ALWAYS AS (
        data->>'first_reply_at' IS NOT NULL) VIRTUAL;
    CREATE INDEX conversations_by_attention ON conversations(status, answered, waiting_since);
    "#,
];

/// Brings the cache up to the latest schema.
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
    use super::*;

    #[test]
    fn migration_6_fills_the_next_due_time_of_conversations_already_cached() {
        let mut conn = Connection::open_in_memory().expect("open");
        for migration in &MIGRATIONS[..5] {
            conn.execute_batch(migration).expect("earlier migration");
        }
        conn.pragma_update(None, "user_version", 5).expect("version");
        let clock = |status: &str, due: Option<i64>| serde_json::json!({"metric": "resolution", "status": status, "due_at": due});
        for (id, clocks) in [
            ("a", serde_json::json!([clock("running", Some(900)), clock("breached", Some(700))])),
            ("b", serde_json::json!([clock("met", None), clock("paused", None)])),
            ("c", serde_json::json!([clock("running", Some(400))])),
        ] {
            let data = serde_json::json!({"status": "open", "sla": {"clocks": clocks}}).to_string();
            conn.execute("INSERT INTO conversations (id, data) VALUES (?1, ?2)", [id, &data]).expect("row");
        }
        conn.execute(
            "INSERT INTO conversations (id, data) VALUES ('d', '{\"status\":\"open\",\"sla\":null}')",
            [],
        )
        .expect("row");

        migrate(&mut conn).expect("migrate");

        let mut statement =
            conn.prepare("SELECT id, sla_due_at FROM conversations ORDER BY id").expect("select");
        let rows: Vec<(String, Option<i64>)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .map(|row| row.expect("row"))
            .collect();
        assert_eq!(
            rows,
            vec![("a".into(), Some(700)), ("b".into(), None), ("c".into(), Some(400)), ("d".into(), None)]
        );
    }

    #[test]
    fn migration_4_keeps_what_was_indexed_and_answers_prefixes() {
        let mut conn = Connection::open_in_memory().expect("open");
        for migration in &MIGRATIONS[..3] {
            conn.execute_batch(migration).expect("earlier migration");
        }
        conn.pragma_update(None, "user_version", 3).expect("version");
        conn.execute("INSERT INTO message_fts (rowid, body) VALUES (7, 'سفارش من هنوز نرسیده')", [])
            .expect("message");
        conn.execute(
            "INSERT INTO contact_fts (rowid, name, email) VALUES (9, 'marta nowak', 'marta@example.pl')",
            [],
        )
        .expect("contact");

        migrate(&mut conn).expect("migrate");

        let version: usize =
            conn.pragma_query_value(None, "user_version", |row| row.get(0)).expect("version");
        assert_eq!(version, MIGRATIONS.len());
        let message: i64 = conn
            .query_row("SELECT rowid FROM message_fts WHERE message_fts MATCH '\"سف\"*'", [], |row| {
                row.get(0)
            })
            .expect("the message is found by a two-letter prefix");
        assert_eq!(message, 7);
        let contact: i64 = conn
            .query_row("SELECT rowid FROM contact_fts WHERE contact_fts MATCH '\"now\"*'", [], |row| {
                row.get(0)
            })
            .expect("the contact is found by a three-letter prefix");
        assert_eq!(contact, 9);
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE name = 'message_fts'", [], |row| row.get(0))
            .expect("table");
        assert!(sql.contains("prefix = '2 3'"), "{sql}");
    }
}
