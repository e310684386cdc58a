//! The local cache: one SQLite file per account, the only thing the UI reads.
//!
//! It stores every entity the feed sends plus the cursor of the last applied page, the outbox of
//! pending actions, and search indexes. Applying a change is idempotent: a row is set to the
//! server's version and its displayed version recomputed (see `outbox.rs`).

mod access;
pub mod backfill;
pub mod encryption;
mod schema;
pub mod search;
pub mod views;

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;
use switchboard_proto::*;

use crate::{
    error::{CoreError, CoreResult},
    notify::{self, Notification},
    outbox::{Action, EffectContext},
};

/// The writer connection's page cache, negative as SQLite takes KiB: 32 MiB.
const WRITER_CACHE_KIB: i64 = -32 * 1024;

pub struct Cache {
    /// The writer: every write transaction, and the reads that decide a write.
    conn: Mutex<Connection>,
    /// The UI's reads ([`Cache::read`]): a second connection, so a list page, a thread page or a
    /// search reads the last committed state (WAL) instead of waiting behind a write transaction
    /// (a backfill page, a stream batch, an outbox action).
    reader: Mutex<Connection>,
    path: PathBuf,
    /// What the account's files are sealed with: set for an encrypted cache (`None`: a plain one,
    /// whose files are plain too).
    file_key: Option<crate::sealed::FileKey>,
}

/// What applying a page of the feed did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The kinds of entity that changed (what the UI should re-read).
    pub kinds: BTreeSet<EntityKind>,
    /// Notifications to raise, already deduplicated.
    pub notifications: Vec<Notification>,
    /// Actions whose effect the feed now carries: they left the outbox.
    pub settled: Vec<Id>,
    /// Downloaded attachments of conversations purged from the cache (out of the agent's view):
    /// hashes whose files the engine deletes (`cache/access.rs`).
    pub purged_files: Vec<String>,
    /// History the cache lacks is wanted: the backfill was restarted below the cursor.
    pub history_wanted: bool,
}

/// A queued action with its bookkeeping.
#[derive(Debug, Clone)]
pub struct QueuedAction {
    pub position: i64,
    pub action: Action,
    pub queued_at: Millis,
    pub attempts: u32,
    pub acked_seq: Option<i64>,
}

fn parse_id(text: &str) -> CoreResult<Id> {
    text.parse().map_err(|e| CoreError::Corrupt(format!("bad id {text:?}: {e}")))
}

impl Cache {
    /// Opens (creating and migrating if needed) a plain cache at `path` (tests and the benchmark's
    /// baseline; an account's cache is [`Cache::open_encrypted`]).
    pub fn open(path: &Path) -> CoreResult<Cache> {
        Self::open_keyed(path, None)
    }

    /// Opens (creating and migrating if needed) the cache at `path`, encrypted with `key`; a plain
    /// cache there is encrypted first ([`encryption`]). A wrong key is `CoreError::Corrupt`.
    pub fn open_encrypted(path: &Path, key: &crate::keychain::CacheKey) -> CoreResult<Cache> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        encryption::encrypt_plain(path, key)?;
        Self::open_keyed(path, Some(key))
    }

    /// Deletes a cache's files (its key is lost: what it held is synced again).
    pub fn remove(path: &Path) -> CoreResult<()> {
        encryption::remove_database(path)
    }

    fn open_keyed(path: &Path, key: Option<&crate::keychain::CacheKey>) -> CoreResult<Cache> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut conn = Connection::open(path)?;
        if let Some(key) = key {
            encryption::apply_key(&conn, key)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // What is deleted is zeroed in its page (an erasure's purge leaves no text in the file).
        conn.pragma_update(None, "secure_delete", "ON")?;
        // Encrypted, a page read from the file is decrypted and its HMAC checked each time it
        // comes back into SQLite's cache; at the default 2 MiB a large cache's indexes are read
        // back for nearly every row stored (docs/performance.md, "The encrypted cache").
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Every table has its own statements on the hot paths; the default cache (16) thrashes.
        conn.set_prepared_statement_cache_capacity(256);
        schema::migrate(&mut conn)?;
        search::delete_in_place(&conn)?;
        let reader = Connection::open(path)?;
        if let Some(key) = key {
            encryption::apply_key(&reader, key)?;
        }
        reader.pragma_update(None, "query_only", "ON")?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        reader.set_prepared_statement_cache_capacity(256);
        Ok(Cache {
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            path: path.to_owned(),
            file_key: key.map(|key| key.file_key()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key the account's staged and downloaded files are sealed with (an encrypted cache's).
    pub fn file_key(&self) -> Option<&crate::sealed::FileKey> {
        self.file_key.as_ref()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back), so a
        // poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The reader connection, for reads that decide no write: they never wait for a write
    /// transaction, only for another read.
    pub(crate) fn read(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn meta(conn: &Connection, key: &str) -> CoreResult<Option<String>> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).optional()?)
    }

    fn set_meta(conn: &Connection, key: &str, value: &str) -> CoreResult<()> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The app lock's offline verifier (see [`crate::lock`]), if one was stored.
    pub fn unlock_verifier(&self) -> CoreResult<Option<String>> {
        Self::meta(&self.lock(), "unlock_verifier")
    }

    pub fn set_unlock_verifier(&self, verifier: &str) -> CoreResult<()> {
        Self::set_meta(&self.lock(), "unlock_verifier", verifier)
    }

    /// Whether the app lock was on when this account was last open, so a restarted app comes
    /// back locked (an app killed while locked must not reopen on the inbox). In the encrypted
    /// cache, like the verifier.
    pub fn app_locked(&self) -> CoreResult<bool> {
        Ok(Self::meta(&self.lock(), "app_locked")?.as_deref() == Some("1"))
    }

    pub fn set_app_locked(&self, locked: bool) -> CoreResult<()> {
        Self::set_meta(&self.lock(), "app_locked", if locked { "1" } else { "0" })
    }

    /// The cursor of the last applied page (0: nothing yet).
    pub fn cursor(&self) -> CoreResult<i64> {
        Ok(Self::meta(&self.lock(), "cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The server's `check` of the cursor (see `proto::feed`), sent back with it.
    pub fn cursor_check(&self) -> CoreResult<Option<String>> {
        Self::meta(&self.lock(), "cursor_check")
    }

    /// Forgets every server version the feed gave, keeping the outbox, drafts and staged files,
    /// and sets the cursor back to 0, so the next sync bootstraps: the server's feed is not the one
    /// the cursor came from (restored from an older backup). What a pending action shows stays
    /// shown, rebased on nothing until the bootstrap brings the server's version.
    pub fn reset_feed(&self) -> CoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let me = Self::meta(&tx, "me")?.map(|id| parse_id(&id)).transpose()?;
        let pending = load_outbox(&tx)?;
        for kind in EntityKind::ALL {
            let rows: Vec<(i64, String)> = {
                let mut statement = tx.prepare(&format!("SELECT rowid, id FROM {}", kind.table()))?;
                let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            for (rowid, id) in rows {
                let id = parse_id(&id)?;
                let displayed = rebase(*kind, id, None, &pending, me);
                put_row(&tx, *kind, id, Some(rowid), None, displayed.as_ref())?;
            }
        }
        tx.execute("DELETE FROM meta WHERE key IN ('cursor', 'cursor_check')", [])?;
        backfill::clear(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Records who is signed in and since when notifications count (older messages never notify).
    pub fn set_identity(&self, me: Id, notify_after: Millis) -> CoreResult<()> {
        let conn = self.lock();
        Self::set_meta(&conn, "me", &me.to_string())?;
        if Self::meta(&conn, "notify_after")?.is_none() {
            Self::set_meta(&conn, "notify_after", &notify_after.to_string())?;
        }
        Ok(())
    }

    /// The signed-in agent's id, once known.
    pub fn me(&self) -> CoreResult<Option<Id>> {
        Self::meta(&self.read(), "me")?.map(|id| parse_id(&id)).transpose()
    }

    fn notify_after(conn: &Connection) -> CoreResult<Millis> {
        Ok(Self::meta(conn, "notify_after")?.and_then(|v| v.parse().ok()).unwrap_or(Millis::MAX))
    }

    /// Applies one page or stream batch of the feed in one transaction and moves the cursor to
    /// `next`. Idempotent: applying the same changes again changes nothing.
    pub fn apply_page(&self, changes: &[Change], next: i64) -> CoreResult<Applied> {
        self.apply_checked(changes, next, None)
    }

    /// [`Self::apply_page`], keeping the server's `check` of `next` with the cursor (a cursor
    /// moved without one keeps none, so it is never sent with a check of another seq).
    pub fn apply_checked(&self, changes: &[Change], next: i64, check: Option<&str>) -> CoreResult<Applied> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let applied = Self::apply_in(&tx, changes, next, check)?;
        tx.commit()?;
        // A deleted message, conversation or contact (an erasure or a retention pass on the
        // server): the WAL still holds its pages as they were, so it is copied in and cut to
        // nothing (the database's pages were zeroed by `secure_delete`).
        let purged = changes.iter().any(|change| {
            change.op == ChangeOp::Delete
                && matches!(
                    change.entity,
                    EntityKind::Message | EntityKind::Conversation | EntityKind::Contact
                )
        });
        if purged {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(applied)
    }

    /// [`Self::apply_checked`] inside the caller's transaction (a bootstrap's snapshot also sets
    /// its backfill in the same one: `cache/backfill.rs`).
    fn apply_in(tx: &Transaction, changes: &[Change], next: i64, check: Option<&str>) -> CoreResult<Applied> {
        let backfilling = backfill::active(tx)?;
        let me = Self::meta(tx, "me")?.map(|id| parse_id(&id)).transpose()?;
        let notify_after = Self::notify_after(tx)?;
        let pending = load_outbox(tx)?;
        let mut applied = Applied::default();
        // Records seen for the first time, decided on once the whole batch is in (below).
        let mut fresh = Vec::new();
        let mut new_conversations = BTreeSet::new();
        // Attachments of cached messages this batch deletes or rewrites: their downloaded files
        // go once no message names them (`access::orphans`, after the batch).
        let mut dropped_files = BTreeSet::new();
        for change in changes {
            let existing = existing_row(tx, change.entity, change.id)?;
            let attached_before = match (change.entity, existing) {
                (EntityKind::Message, Some(existing)) => {
                    Some((existing.rowid, access::attachments_of_message(tx, existing.rowid)?))
                }
                _ => None,
            };
            let server = match change.op {
                // A merged contact's tombstone leaves the cache like a deletion: the survivor and
                // the re-pointed conversations arrive in the same commit.
                ChangeOp::Upsert => change.data.as_ref().filter(|data| !merged_away(change.entity, data)),
                ChangeOp::Delete => None,
            };
            // Most rows have no pending action (always so during a bootstrap): show the server's
            // version as it is, without cloning or re-serialising it.
            let rebased;
            let displayed =
                if pending.iter().any(|queued| queued.action.touches().contains(&(change.entity, change.id)))
                {
                    rebased = rebase(change.entity, change.id, server.cloned(), &pending, me);
                    rebased.as_ref()
                } else {
                    server
                };
            put_row(tx, change.entity, change.id, existing.map(|e| e.rowid), server, displayed)?;
            if let Some((rowid, before)) = attached_before.filter(|(_, before)| !before.is_empty()) {
                let after = access::attachments_of_message(tx, rowid)?;
                dropped_files.extend(before.into_iter().filter(|sha| !after.contains(sha)));
            }
            if backfilling && change.op == ChangeOp::Delete {
                backfill::forget(tx, change.entity, change.id)?;
            }
            applied.kinds.insert(change.entity);
            let is_new = !existing.is_some_and(|e| e.has_server_version);
            if is_new && change.data.is_some() {
                fresh.push(change);
                if change.entity == EntityKind::Conversation {
                    new_conversations.insert(change.id);
                }
            }
        }
        // Notifications are decided on the batch's outcome, not record by record: one commit (one
        // stream batch) can create a conversation and route it, and a conversation that was never
        // up for grabs must not ring as new for everyone, nor its opening message as its owner's.
        if let Some(me) = me {
            let mut last = HashMap::new();
            for change in changes.iter().filter(|c| c.entity == EntityKind::Conversation) {
                last.insert(change.id, change);
            }
            for change in fresh {
                let data = match change.entity {
                    EntityKind::Conversation => last.get(&change.id).and_then(|c| c.data.as_ref()),
                    _ => change.data.as_ref(),
                };
                let Some(data) = data else { continue };
                if let Some(notification) = notify::decide(tx, me, notify_after, change.entity, data)? {
                    let inserted =
                        tx.execute("INSERT OR IGNORE INTO notified (key) VALUES (?1)", [&notification.key])?;
                    if inserted > 0 {
                        applied.notifications.push(notification);
                    }
                }
            }
        }
        let cursor: i64 = Self::meta(tx, "cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        if next > cursor || (next == cursor && check.is_some()) {
            match check {
                Some(check) => Self::set_meta(tx, "cursor_check", check)?,
                None => {
                    tx.execute("DELETE FROM meta WHERE key = 'cursor_check'", [])?;
                }
            }
        }
        let cursor = cursor.max(next);
        Self::set_meta(tx, "cursor", &cursor.to_string())?;
        access::follow(tx, changes, &new_conversations, &mut applied)?;
        if !dropped_files.is_empty() {
            applied.purged_files.extend(access::orphans(tx, dropped_files)?);
        }
        applied.settled = settle(tx, cursor, me)?;
        if !applied.settled.is_empty() {
            applied.kinds.insert(EntityKind::Conversation);
        }
        Ok(applied)
    }

    /// Queues an action: stores it and shows its effect, in one transaction.
    pub fn enqueue(&self, action: &Action, queued_at: Millis) -> CoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO outbox (client_id, action, queued_at) VALUES (?1, ?2, ?3)",
            params![action.client_id().to_string(), serde_json::to_string(action)?, queued_at],
        )?;
        let me = Self::meta(&tx, "me")?.map(|id| parse_id(&id)).transpose()?;
        refresh(&tx, &action.touches(), me)?;
        tx.commit()?;
        Ok(())
    }

    /// The oldest action the server hasn't accepted yet.
    pub fn next_unsent(&self) -> CoreResult<Option<QueuedAction>> {
        let conn = self.lock();
        Ok(load_outbox(&conn)?.into_iter().find(|queued| queued.acked_seq.is_none()))
    }

    /// Every action still in the outbox (sent or not), oldest first.
    pub fn outbox(&self) -> CoreResult<Vec<QueuedAction>> {
        load_outbox(&self.lock())
    }

    /// How many actions wait for the server.
    pub fn pending_count(&self) -> CoreResult<usize> {
        let conn = self.read();
        Ok(conn.query_row("SELECT COUNT(*) FROM outbox WHERE acked_seq IS NULL", [], |row| row.get(0))?)
    }

    /// The server accepted an action; its effect is in the feed at `seq`. It leaves the outbox
    /// once the cache has applied that far (now, if it already has). Returns whether it left.
    pub fn acknowledge(&self, client_id: Id, seq: i64) -> CoreResult<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET acked_seq = ?2 WHERE client_id = ?1",
            params![client_id.to_string(), seq],
        )?;
        let cursor: i64 = Self::meta(&tx, "cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let me = Self::meta(&tx, "me")?.map(|id| parse_id(&id)).transpose()?;
        let settled = settle(&tx, cursor, me)?;
        tx.commit()?;
        Ok(settled.contains(&client_id))
    }

    /// The server refused an action for good: drop it and roll its effect back.
    pub fn reject(&self, client_id: Id) -> CoreResult<Option<Action>> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let action = remove_action(&tx, client_id)?;
        if let Some(action) = &action {
            let me = Self::meta(&tx, "me")?.map(|id| parse_id(&id)).transpose()?;
            refresh(&tx, &action.touches(), me)?;
            if let Action::Send { staged_files, .. } = action {
                for staged in staged_files {
                    tx.execute("DELETE FROM staged_files WHERE id = ?1", [staged.to_string()])?;
                }
            }
        }
        tx.commit()?;
        Ok(action)
    }

    /// Counts a failed attempt (network, 5xx): the action stays, in order.
    pub fn record_failure(&self, client_id: Id, error: &str) -> CoreResult<u32> {
        let conn = self.lock();
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE client_id = ?1",
            params![client_id.to_string(), error],
        )?;
        Ok(conn
            .query_row("SELECT attempts FROM outbox WHERE client_id = ?1", [client_id.to_string()], |row| {
                row.get(0)
            })
            .optional()?
            .unwrap_or(0))
    }

    /// One entity's displayed version.
    pub fn get<T: serde::de::DeserializeOwned>(&self, kind: EntityKind, id: Id) -> CoreResult<Option<T>> {
        let conn = self.read();
        get_displayed(&conn, kind, id)
    }

    /// Every displayed entity of a kind (the small directory kinds).
    pub fn all<T: serde::de::DeserializeOwned>(&self, kind: EntityKind) -> CoreResult<Vec<T>> {
        let conn = self.read();
        let mut statement = conn.prepare_cached(&format!(
            "SELECT data FROM {} WHERE data IS NOT NULL ORDER BY rowid",
            kind.table()
        ))?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    /// Every server-confirmed entity, as the feed gave it (for consistency checks and export).
    pub fn server_state(&self) -> CoreResult<std::collections::BTreeMap<(EntityKind, Id), Value>> {
        let conn = self.lock();
        let mut state = std::collections::BTreeMap::new();
        for kind in EntityKind::ALL {
            let mut statement = conn.prepare(&format!(
                "SELECT id, server_data FROM {} WHERE server_data IS NOT NULL",
                kind.table()
            ))?;
            let rows =
                statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, data) = row?;
                state.insert((*kind, parse_id(&id)?), serde_json::from_str(&data)?);
            }
        }
        Ok(state)
    }
}

fn get_displayed<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    kind: EntityKind,
    id: Id,
) -> CoreResult<Option<T>> {
    let text: Option<Option<String>> = conn
        .query_row(&format!("SELECT data FROM {} WHERE id = ?1", kind.table()), [id.to_string()], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(text.flatten().map(|t| serde_json::from_str(&t)).transpose()?)
}

/// A row as it stands before a write.
#[derive(Debug, Clone, Copy)]
struct ExistingRow {
    rowid: i64,
    /// Whether the feed has delivered it (it isn't only an optimistic row of the outbox's).
    has_server_version: bool,
}

fn existing_row(conn: &Connection, kind: EntityKind, id: Id) -> CoreResult<Option<ExistingRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT rowid, server_data IS NOT NULL FROM {} WHERE id = ?1",
            kind.table()
        ))?
        .query_row([id.to_string()], |row| {
            Ok(ExistingRow { rowid: row.get(0)?, has_server_version: row.get(1)? })
        })
        .optional()?)
}

fn load_outbox(conn: &Connection) -> CoreResult<Vec<QueuedAction>> {
    let mut statement = conn.prepare_cached(
        "SELECT position, action, queued_at, attempts, acked_seq FROM outbox ORDER BY position",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (position, action, queued_at, attempts, acked_seq) = row?;
        out.push(QueuedAction {
            position,
            action: serde_json::from_str(&action)?,
            queued_at,
            attempts,
            acked_seq,
        });
    }
    Ok(out)
}

/// The server's version with every pending action that touches the entity applied in order.
fn rebase(
    kind: EntityKind,
    id: Id,
    server: Option<Value>,
    pending: &[QueuedAction],
    me: Option<Id>,
) -> Option<Value> {
    let Some(me) = me else { return server };
    pending.iter().filter(|queued| queued.action.touches().contains(&(kind, id))).fold(
        server,
        |current, queued| {
            queued.action.apply(kind, current, &EffectContext { me, queued_at: queued.queued_at })
        },
    )
}

/// Recomputes the displayed version of each entity from its server version and the outbox.
fn refresh(tx: &Transaction, entities: &[(EntityKind, Id)], me: Option<Id>) -> CoreResult<()> {
    let pending = load_outbox(tx)?;
    for (kind, id) in entities {
        let server: Option<String> = tx
            .query_row(
                &format!("SELECT server_data FROM {} WHERE id = ?1", kind.table()),
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        let server = server.map(|s| serde_json::from_str(&s)).transpose()?;
        let displayed = rebase(*kind, *id, server.clone(), &pending, me);
        let rowid = existing_row(tx, *kind, *id)?.map(|e| e.rowid);
        put_row(tx, *kind, *id, rowid, server.as_ref(), displayed.as_ref())?;
    }
    Ok(())
}

fn remove_action(tx: &Transaction, client_id: Id) -> CoreResult<Option<Action>> {
    let text: Option<String> = tx
        .query_row(
            "DELETE FROM outbox WHERE client_id = ?1 RETURNING action",
            [client_id.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

/// Drops every acknowledged action whose effect the cache has applied (cursor ≥ its seq) and
/// recomputes what it touched. Returns their client ids.
fn settle(tx: &Transaction, cursor: i64, me: Option<Id>) -> CoreResult<Vec<Id>> {
    let done: Vec<String> = {
        let mut statement = tx
            .prepare_cached("SELECT client_id FROM outbox WHERE acked_seq IS NOT NULL AND acked_seq <= ?1")?;
        let rows = statement.query_map([cursor], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut settled = Vec::new();
    for client_id in done {
        let client_id = parse_id(&client_id)?;
        if let Some(action) = remove_action(tx, client_id)? {
            refresh(tx, &action.touches(), me)?;
            if let Action::Send { staged_files, .. } = &action {
                for staged in staged_files {
                    tx.execute("DELETE FROM staged_files WHERE id = ?1", [staged.to_string()])?;
                }
            }
            settled.push(client_id);
        }
    }
    Ok(settled)
}

/// Writes a row's two versions (deleting it when both are gone) and keeps search in step.
/// `rowid` is the row's, if it exists. This is the ingest hot path: every statement is cached, and
/// a row shown as the server sent it is serialised once.
/// Whether a feed record is a contact merged into another (`merged_into` set).
fn merged_away(kind: EntityKind, data: &Value) -> bool {
    kind == EntityKind::Contact && data.get("merged_into").is_some_and(|v| !v.is_null())
}

fn put_row(
    tx: &Transaction,
    kind: EntityKind,
    id: Id,
    rowid: Option<i64>,
    server: Option<&Value>,
    displayed: Option<&Value>,
) -> CoreResult<()> {
    let table = kind.table();
    if server.is_none() && displayed.is_none() {
        if let Some(rowid) = rowid {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE rowid = ?1"))?.execute([rowid])?;
            search::unindex(tx, kind, rowid)?;
        }
        return Ok(());
    }
    let server_text = server.map(Value::to_string);
    let displayed_text = match (server, displayed) {
        (Some(server), Some(displayed)) if std::ptr::eq(server, displayed) => server_text.clone(),
        _ => displayed.map(Value::to_string),
    };
    // A conversation's row also carries when its next SLA clock falls due (what "breaching soon"
    // sorts by), written in the same statement.
    let conversation = kind == EntityKind::Conversation;
    let sla_due = if conversation { views::next_sla_due(displayed)? } else { None };
    let rowid = match rowid {
        Some(rowid) => {
            if conversation {
                tx.prepare_cached(
                    "UPDATE conversations SET server_data = ?2, data = ?3, sla_due_at = ?4 WHERE rowid = ?1",
                )?
                .execute(params![rowid, server_text, displayed_text, sla_due])?;
            } else {
                tx.prepare_cached(&format!(
                    "UPDATE {table} SET server_data = ?2, data = ?3 WHERE rowid = ?1"
                ))?
                .execute(params![rowid, server_text, displayed_text])?;
            }
            search::unindex(tx, kind, rowid)?;
            rowid
        }
        None => {
            if conversation {
                tx.prepare_cached(
                    "INSERT INTO conversations (id, server_data, data, sla_due_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![id.to_string(), server_text, displayed_text, sla_due])?;
            } else {
                tx.prepare_cached(&format!(
                    "INSERT INTO {table} (id, server_data, data) VALUES (?1, ?2, ?3)"
                ))?
                .execute(params![id.to_string(), server_text, displayed_text])?;
            }
            tx.last_insert_rowid()
        }
    };
    search::index(tx, kind, rowid, displayed)?;
    Ok(())
}

/// An unsent composer text.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Draft {
    pub kind: SendKind,
    pub body: String,
    pub updated_at: Millis,
}

impl Cache {
    /// Saves (or, when the body is blank, clears) a conversation's draft.
    pub fn save_draft(&self, conversation_id: Id, kind: SendKind, body: &str, now: Millis) -> CoreResult<()> {
        let conn = self.lock();
        if body.trim().is_empty() {
            conn.execute("DELETE FROM drafts WHERE conversation_id = ?1", [conversation_id.to_string()])?;
        } else {
            let kind = match kind {
                SendKind::Reply => "reply",
                SendKind::Note => "note",
            };
            conn.execute(
                "INSERT INTO drafts (conversation_id, kind, body, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (conversation_id) DO UPDATE SET kind = excluded.kind, body = excluded.body,
                 updated_at = excluded.updated_at",
                params![conversation_id.to_string(), kind, body, now],
            )?;
        }
        Ok(())
    }

    pub fn draft(&self, conversation_id: Id) -> CoreResult<Option<Draft>> {
        let conn = self.read();
        let row: Option<(String, String, Millis)> = conn
            .query_row(
                "SELECT kind, body, updated_at FROM drafts WHERE conversation_id = ?1",
                [conversation_id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(kind, body, updated_at)| Draft {
            kind: if kind == "note" { SendKind::Note } else { SendKind::Reply },
            body,
            updated_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_survive_reopening_and_blank_ones_are_cleared() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cache.db");
        let conversation = Id::new_v4();
        Cache::open(&path)
            .expect("open")
            .save_draft(conversation, SendKind::Note, "half a thought", 5)
            .expect("save");
        let reopened = Cache::open(&path).expect("reopen");
        let draft = reopened.draft(conversation).expect("read").expect("kept across restarts");
        assert_eq!((draft.kind, draft.body.as_str()), (SendKind::Note, "half a thought"));
        reopened.save_draft(conversation, SendKind::Reply, "  ", 6).expect("clear");
        assert_eq!(reopened.draft(conversation).expect("read"), None);
    }

    #[test]
    fn applying_the_same_page_twice_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::open(&dir.path().join("cache.db")).expect("open");
        let id = Id::new_v4();
        let page = vec![Change {
            seq: 1,
            entity: EntityKind::Label,
            id,
            op: ChangeOp::Upsert,
            data: Some(serde_json::json!({"id": id, "name": "vip", "color": "#ff0000"})),
        }];
        cache.apply_page(&page, 1).expect("apply");
        let once = cache.server_state().expect("state");
        cache.apply_page(&page, 1).expect("apply again");
        assert_eq!(cache.server_state().expect("state"), once);
        assert_eq!(cache.cursor().expect("cursor"), 1);
        cache.apply_page(&[], 0).expect("an older cursor");
        assert_eq!(cache.cursor().expect("cursor"), 1, "the cursor never moves back");
    }

    /// A message deleted on its own (an erasure sends its messages' deletions before their
    /// conversation's) or emptied (a retention pass's anonymisation) hands its downloaded files
    /// back for deletion, unless another cached message still names the same file.
    #[test]
    fn a_message_deleted_or_emptied_gives_up_its_downloaded_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::open(&dir.path().join("cache.db")).expect("open");
        let conversation = Id::new_v4();
        let (scan, shared) = ("a".repeat(64), "b".repeat(64));
        let message = |seq: i64, id: Id, files: &[&String]| {
            let attachments: Vec<Value> = files
                .iter()
                .map(|sha| serde_json::json!({"id": Id::new_v4(), "file_name": "f", "sha256": sha}))
                .collect();
            let data = serde_json::json!({"id": id, "conversation_id": conversation, "kind": "incoming",
                "body": "here", "created_at": seq, "attachments": attachments});
            Change { seq, entity: EntityKind::Message, id, op: ChangeOp::Upsert, data: Some(data) }
        };
        let (first, second, third) = (Id::new_v4(), Id::new_v4(), Id::new_v4());
        let applied = cache
            .apply_page(
                &[message(1, first, &[&scan]), message(2, second, &[&shared]), message(3, third, &[&shared])],
                3,
            )
            .expect("apply");
        assert!(applied.purged_files.is_empty(), "nothing is dropped by new messages");

        // A delivery update keeps the same files: nothing to delete.
        let applied = cache.apply_page(&[message(4, first, &[&scan])], 4).expect("apply");
        assert!(applied.purged_files.is_empty(), "{:?}", applied.purged_files);
        // Emptied (anonymised): its file goes.
        let applied = cache.apply_page(&[message(5, first, &[])], 5).expect("apply");
        assert_eq!(applied.purged_files, vec![scan.clone()]);
        // Deleted while another message names the same file: it stays; then the last one goes.
        let delete = |seq: i64, id: Id| Change {
            seq,
            entity: EntityKind::Message,
            id,
            op: ChangeOp::Delete,
            data: None,
        };
        let applied = cache.apply_page(&[delete(6, second)], 6).expect("apply");
        assert!(
            applied.purged_files.is_empty(),
            "still named by another message: {:?}",
            applied.purged_files
        );
        let applied = cache.apply_page(&[delete(7, third)], 7).expect("apply");
        assert_eq!(applied.purged_files, vec![shared.clone()]);
    }

    /// The UI's reads go through the reader connection: while a write transaction is open (a
    /// backfill page being applied), a read answers at once with the last committed state instead
    /// of queueing behind it, and sees the write as soon as it commits.
    #[test]
    fn a_read_never_waits_for_an_open_write_transaction() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = std::sync::Arc::new(Cache::open(&dir.path().join("cache.db")).expect("open"));
        let label = |seq: i64, name: &str| {
            let id = Id::new_v4();
            let data = serde_json::json!({"id": id, "name": name, "color": "#ff0000"});
            (id, Change { seq, entity: EntityKind::Label, id, op: ChangeOp::Upsert, data: Some(data) })
        };
        let (committed, first) = label(1, "vip");
        let (pending, second) = label(2, "billing");
        cache.apply_page(&[first], 1).expect("apply");
        let mut writer = cache.lock();
        let tx = writer.transaction().expect("begin");
        Cache::apply_in(&tx, &[second], 2, None).expect("write, not yet committed");
        let (answer, answered) = std::sync::mpsc::channel();
        let reader = cache.clone();
        std::thread::spawn(move || {
            let read = |id| reader.get::<Value>(EntityKind::Label, id).map(|label| label.is_some());
            let _ = answer.send((read(committed), read(pending)));
        });
        // A liveness bound, not a timing: without its own connection the read blocks until commit.
        let (seen_committed, seen_pending) = answered
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the read waited for the write transaction");
        assert!(seen_committed.expect("read"), "the committed label is read");
        assert!(!seen_pending.expect("read"), "an uncommitted write is not seen");
        tx.commit().expect("commit");
        drop(writer);
        assert!(
            cache.get::<Value>(EntityKind::Label, pending).expect("read").is_some(),
            "seen once committed"
        );
    }
}
