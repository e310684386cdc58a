//! Local full-text search over messages, contacts (name, email, phone digits) and conversation
//! subjects, all from the cache, so it works offline.
//!
//! Strategy for speed on large caches: ranking every match of a very common word with bm25 is the
//! known trap (hundreds of ms at a million rows). So a query first takes the newest
//! [`CANDIDATE_WINDOW`] matches by rowid — FTS5 walks its doclist backwards and stops early — and
//! only that window is ranked with bm25. Rare words rank all their matches; common words rank the
//! recent ones, which is what an agent looking for a conversation wants anyway. Contacts work the
//! same way. The last word is a prefix (search follows typing): messages and contacts have prefix
//! indexes for two and three characters, so a short prefix reads one doclist instead of merging
//! those of every word it starts (schema migration 4).
//! Phone numbers are matched as digit substrings with a trigram index ("900123" finds
//! "+44 7700 900123").

use rusqlite::{params, Connection, Transaction};
use serde_json::Value;
use switchboard_proto::{text, Contact, Conversation, EntityKind, Id, Millis};

use super::Cache;
use crate::error::{CoreError, CoreResult};

/// How many newest matches a query ranks. Each candidate costs a row read and a snippet (computed
/// before the sort), so this bounds a common word's cost: 400 put it at 17–28 ms p95 over 1M
/// messages, 200 halves that; still ten pages of results for an agent.
pub const CANDIDATE_WINDOW: usize = 200;

/// A message that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageHit {
    pub message_id: Id,
    pub conversation_id: Id,
    /// The matched text around the hit, with the match between `[` and `]`.
    pub snippet: String,
    pub created_at: Millis,
}

/// What a local search found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub messages: Vec<MessageHit>,
    pub contacts: Vec<Contact>,
    pub conversations: Vec<Conversation>,
}

/// Indexes a row's displayed version (its old entries, if any, are already unindexed): the search
/// tables, and a conversation's labels.
pub(super) fn index(
    tx: &Transaction,
    kind: EntityKind,
    rowid: i64,
    displayed: Option<&Value>,
) -> CoreResult<()> {
    let Some(data) = displayed else { return Ok(()) };
    match kind {
        EntityKind::Message if data["kind"] != "activity" => {
            let body = data["body"].as_str().unwrap_or_default();
            if !body.is_empty() {
                tx.prepare_cached("INSERT INTO message_fts (rowid, body) VALUES (?1, ?2)")?
                    .execute(params![rowid, text::normalize_for_search(body)])?;
            }
        }
        EntityKind::Contact => {
            let name = text::normalize_for_search(data["name"].as_str().unwrap_or_default());
            let email = data["email"].as_str().unwrap_or_default();
            tx.prepare_cached("INSERT INTO contact_fts (rowid, name, email) VALUES (?1, ?2, ?3)")?
                .execute(params![rowid, name, email])?;
            let digits = text::phone_digits(data["phone"].as_str().unwrap_or_default());
            if !digits.is_empty() {
                tx.prepare_cached("INSERT INTO phone_fts (rowid, digits) VALUES (?1, ?2)")?
                    .execute(params![rowid, digits])?;
            }
        }
        EntityKind::Conversation => {
            for label in data["labels"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO conversation_labels (label, conversation_rowid) VALUES (?1, ?2)",
                )?
                .execute(params![label, rowid])?;
            }
            if let Some(subject) = data["subject"].as_str().filter(|s| !s.is_empty()) {
                tx.prepare_cached("INSERT INTO subject_fts (rowid, subject) VALUES (?1, ?2)")?
                    .execute(params![rowid, text::normalize_for_search(subject)])?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub(super) fn unindex(tx: &Transaction, kind: EntityKind, rowid: i64) -> CoreResult<()> {
    let tables: &[&str] = match kind {
        EntityKind::Message => &["message_fts"],
        EntityKind::Contact => &["contact_fts", "phone_fts"],
        EntityKind::Conversation => &["subject_fts"],
        _ => &[],
    };
    for table in tables {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE rowid = ?1"))?.execute([rowid])?;
    }
    if kind == EntityKind::Conversation {
        tx.prepare_cached("DELETE FROM conversation_labels WHERE conversation_rowid = ?1")?
            .execute([rowid])?;
    }
    Ok(())
}

/// The lowest rowid among the newest [`CANDIDATE_WINDOW`] matches in an FTS table (`None`: no match).
fn window_floor(conn: &rusqlite::Connection, table: &str, fts: &str) -> CoreResult<Option<i64>> {
    let floor = conn
        .prepare_cached(&format!(
            "SELECT MIN(rowid) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ?1
                                     ORDER BY rowid DESC LIMIT ?2)"
        ))?
        .query_row(params![fts, CANDIDATE_WINDOW as i64], |row| row.get(0))?;
    Ok(floor)
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> CoreResult<T> {
    Ok(serde_json::from_str(text)?)
}

impl Cache {
    /// Searches messages, contacts and conversation subjects. At most `limit` of each kind.
    pub fn search(&self, query: &str, limit: usize) -> CoreResult<SearchResults> {
        let Some(fts) = text::fts_query(query) else { return Ok(SearchResults::default()) };
        let conn = self.read();
        let limit = limit as i64;

        // Messages: the newest window of matches, ranked.
        let mut messages = Vec::new();
        if let Some(floor) = window_floor(&conn, "message_fts", &fts)? {
            let mut statement = conn.prepare_cached(
                "SELECT m.data, snippet(message_fts, 0, '[', ']', '…', 10) FROM message_fts
                 JOIN messages m ON m.rowid = message_fts.rowid
                 WHERE message_fts MATCH ?1 AND message_fts.rowid >= ?2 AND m.data IS NOT NULL
                 ORDER BY bm25(message_fts), message_fts.rowid DESC LIMIT ?3",
            )?;
            let rows = statement.query_map(params![fts, floor, limit], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (data, snippet) = row?;
                let message: switchboard_proto::Message = parse(&data)?;
                messages.push(MessageHit {
                    message_id: message.id,
                    conversation_id: message.conversation_id,
                    snippet,
                    created_at: message.created_at,
                });
            }
        }

        // Contacts: by name or email (the newest window of matches, ranked, as for messages: a
        // two-letter prefix matches tens of thousands of names), and by phone digits when the
        // query has enough of them.
        let mut contacts: Vec<Contact> = Vec::new();
        if let Some(floor) = window_floor(&conn, "contact_fts", &fts)? {
            let mut statement = conn.prepare_cached(
                "SELECT c.data FROM contact_fts JOIN contacts c ON c.rowid = contact_fts.rowid
                 WHERE contact_fts MATCH ?1 AND contact_fts.rowid >= ?2 AND c.data IS NOT NULL
                 ORDER BY bm25(contact_fts), contact_fts.rowid DESC LIMIT ?3",
            )?;
            let rows = statement.query_map(params![fts, floor, limit], |row| row.get::<_, String>(0))?;
            for row in rows {
                contacts.push(parse(&row?)?);
            }
        }
        let digits = text::phone_digits(query);
        if digits.len() >= 3 && contacts.len() < limit as usize {
            let mut statement = conn.prepare_cached(
                "SELECT c.data FROM phone_fts JOIN contacts c ON c.rowid = phone_fts.rowid
                 WHERE phone_fts MATCH ?1 AND c.data IS NOT NULL ORDER BY phone_fts.rowid DESC LIMIT ?2",
            )?;
            let rows = statement
                .query_map(params![format!("\"{digits}\""), limit], |row| row.get::<_, String>(0))?;
            for row in rows {
                let contact: Contact = parse(&row?)?;
                if !contacts.iter().any(|c| c.id == contact.id) && contacts.len() < limit as usize {
                    contacts.push(contact);
                }
            }
        }

        let mut conversations = Vec::new();
        {
            let mut statement = conn.prepare_cached(
                "SELECT c.data FROM subject_fts JOIN conversations c ON c.rowid = subject_fts.rowid
                 WHERE subject_fts MATCH ?1 AND c.data IS NOT NULL ORDER BY bm25(subject_fts) LIMIT ?2",
            )?;
            let rows = statement.query_map(params![fts, limit], |row| row.get::<_, String>(0))?;
            for row in rows {
                conversations.push(parse(&row?)?);
            }
        }
        Ok(SearchResults { messages, contacts, conversations })
    }
}

impl From<rusqlite::types::FromSqlError> for CoreError {
    fn from(error: rusqlite::types::FromSqlError) -> Self {
        CoreError::Corrupt(error.to_string())
    }
}

/// Makes every FTS5 index delete a row's entries in place (`secure-delete`, kept in each index's
/// config), so a purged message or contact leaves no word in an older segment of the file.
pub(super) fn delete_in_place(conn: &Connection) -> CoreResult<()> {
    let tables: Vec<String> = {
        let mut statement = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5%'",
        )?;
        let names = statement.query_map([], |row| row.get(0))?;
        names.collect::<Result<_, _>>()?
    };
    for table in tables {
        conn.execute(&format!("INSERT INTO {table} ({table}, rank) VALUES ('secure-delete', 1)"), [])?;
    }
    Ok(())
}
