//! What the signed-in agent may see, followed in the cache. The server decides it
//! (`workspace/feed.rs::Visibility` there) and tells the cache in two ways, both through the feed:
//! a conversation that left the agent's view arrives as its deletion, and an inbox the agent left
//! or joined shows in the inbox's (or their own agent's) change. Here the cache
//!
//! - purges a deleted conversation and all that hangs off it: its messages and their search
//!   entries, mentions, pin, read marker, draft and on-demand history, and its downloaded
//!   attachments (their hashes are handed back for the engine to delete the files);
//! - forgets the downloaded attachments of a message deleted or emptied on its own (an erasure
//!   sends its messages' deletions before their conversation's; a retention pass may anonymise),
//!   so no customer's file outlives its message in the download cache;
//! - purges every conversation (and contact) of an inbox the agent no longer sees (by the shared
//!   rule, `proto::rules::can_see_inbox`), and, when an inbox's visibility mode narrows, the
//!   conversations the new mode keeps from them (no conversation change says so);
//! - asks for the history it now lacks — an inbox joined or its mode widened, or a conversation
//!   that entered the view
//!   of an inbox showing the agent only some conversations — by restarting the backfill below the
//!   current cursor: the same path as a fresh device's history, which only fills what the cache
//!   lacks (`cache/backfill.rs`).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;
use switchboard_proto::*;

use super::{parse_id, search, Applied, Cache};
use crate::error::CoreResult;

/// Removes a conversation and everything of it from the cache. Returns the hashes of the
/// downloaded attachments no remaining message refers to; their bookkeeping rows are gone.
pub(super) fn purge_conversation(tx: &Transaction, conversation: Id) -> CoreResult<Vec<String>> {
    let id = conversation.to_string();
    let mut hashes = BTreeSet::new();
    let messages: Vec<(i64, Option<String>)> = {
        let mut statement =
            tx.prepare_cached("SELECT rowid, data FROM messages WHERE conversation_id = ?1")?;
        let rows = statement.query_map([&id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (rowid, data) in messages {
        let data: Option<Value> = data.map(|d| serde_json::from_str(&d)).transpose()?;
        for attachment in data.iter().flat_map(|d| d["attachments"].as_array().into_iter().flatten()) {
            if let Some(sha) = attachment["sha256"].as_str() {
                hashes.insert(sha.to_owned());
            }
        }
        search::unindex(tx, EntityKind::Message, rowid)?;
        tx.prepare_cached("DELETE FROM messages WHERE rowid = ?1")?.execute([rowid])?;
    }
    if let Some(rowid) = tx
        .prepare_cached("SELECT rowid FROM conversations WHERE id = ?1")?
        .query_row([&id], |row| row.get::<_, i64>(0))
        .optional()?
    {
        search::unindex(tx, EntityKind::Conversation, rowid)?;
        tx.prepare_cached("DELETE FROM conversations WHERE rowid = ?1")?.execute([rowid])?;
    }
    tx.prepare_cached("DELETE FROM mentions WHERE conversation_id = ?1")?.execute([&id])?;
    tx.prepare_cached("DELETE FROM pins WHERE id = ?1")?.execute([&id])?;
    tx.prepare_cached("DELETE FROM read_markers WHERE id = ?1")?.execute([&id])?;
    tx.prepare_cached("DELETE FROM drafts WHERE conversation_id = ?1")?.execute([&id])?;
    tx.prepare_cached("DELETE FROM thread_history WHERE conversation_id = ?1")?.execute([&id])?;
    orphans(tx, hashes)
}

/// The attachment hashes a cached message names, in its server version or its displayed one.
pub(super) fn attachments_of_message(tx: &Transaction, rowid: i64) -> CoreResult<BTreeSet<String>> {
    let mut statement = tx.prepare_cached(
        "SELECT a.value->>'sha256' FROM messages, json_each(messages.server_data, '$.attachments') AS a
             WHERE messages.rowid = ?1 AND messages.server_data IS NOT NULL
         UNION
         SELECT a.value->>'sha256' FROM messages, json_each(messages.data, '$.attachments') AS a
             WHERE messages.rowid = ?1 AND messages.data IS NOT NULL",
    )?;
    let rows = statement.query_map([rowid], |row| row.get::<_, Option<String>>(0))?;
    let mut hashes = BTreeSet::new();
    for sha in rows {
        hashes.extend(sha?);
    }
    Ok(hashes)
}

/// Of `hashes` (attachments a purged or emptied message named), those no cached message names any
/// more: their bookkeeping rows are deleted and they are answered for the engine to delete the
/// files. The same file may be attached elsewhere (a forwarded document): it is kept then.
pub(super) fn orphans(tx: &Transaction, hashes: BTreeSet<String>) -> CoreResult<Vec<String>> {
    let mut orphaned = Vec::new();
    for sha in hashes {
        let still_used: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM messages, json_each(messages.data, '$.attachments') AS a
                 WHERE a.value->>'sha256' = ?1)",
            )?
            .query_row([&sha], |row| row.get(0))?;
        if !still_used {
            tx.prepare_cached("DELETE FROM downloaded_files WHERE sha256 = ?1")?.execute([&sha])?;
            orphaned.push(sha);
        }
    }
    Ok(orphaned)
}

/// Removes the contacts the server shows only to those who see `inbox` (a contact's audience is
/// the inbox of its first channel identity).
fn purge_contacts_of(tx: &Transaction, inbox: Id) -> CoreResult<()> {
    let rowids: Vec<i64> = {
        let mut statement = tx.prepare_cached(
            "SELECT rowid FROM contacts WHERE server_data->>'$.identities[0].inbox_id' = ?1",
        )?;
        let rows = statement.query_map([inbox.to_string()], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for rowid in rowids {
        search::unindex(tx, EntityKind::Contact, rowid)?;
        tx.prepare_cached("DELETE FROM contacts WHERE rowid = ?1")?.execute([rowid])?;
    }
    Ok(())
}

/// The inboxes the signed-in agent sees by the cache's own directory, each with the mode it shows
/// them its conversations by (`everything` for an admin), and who they are (`None`: not known yet).
fn visible_inboxes(tx: &Transaction) -> CoreResult<Option<(Id, BTreeMap<Id, InboxVisibility>)>> {
    let Some(me) = Cache::meta(tx, "me")?.map(|id| parse_id(&id)).transpose()? else {
        return Ok(None);
    };
    let Some(agent) = super::get_displayed::<Agent>(tx, EntityKind::Agent, me)? else {
        return Ok(None);
    };
    let mut statement = tx.prepare_cached("SELECT server_data FROM inboxes WHERE server_data IS NOT NULL")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    let mut visible = BTreeMap::new();
    for row in rows {
        let inbox: Inbox = serde_json::from_str(&row?)?;
        if rules::can_see_inbox(&agent, &inbox) {
            let mode = if agent.role == Role::Admin { InboxVisibility::Everything } else { inbox.visibility };
            visible.insert(inbox.id, mode);
        }
    }
    Ok(Some((me, visible)))
}

/// How much of an inbox a mode shows, to tell a widened mode (history wanted) from a narrowed one.
fn breadth(mode: InboxVisibility) -> u8 {
    match mode {
        InboxVisibility::MineOnly => 0,
        InboxVisibility::MineAndUnassigned => 1,
        InboxVisibility::Everything => 2,
    }
}

/// Purges the cached conversations of `inbox` that `mode` does not show `me` (the mode was just
/// narrowed: no conversation change says so).
fn purge_hidden(
    tx: &Transaction,
    me: Id,
    inbox: Id,
    mode: InboxVisibility,
    applied: &mut Applied,
) -> CoreResult<()> {
    let rows: Vec<(String, Option<String>)> = {
        let mut statement = tx.prepare_cached(
            "SELECT id, server_data->>'assignee_id' FROM conversations WHERE inbox_id = ?1",
        )?;
        let rows = statement.query_map([inbox.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, assignee) in rows {
        let assignee = assignee.map(|a| parse_id(&a)).transpose()?;
        if !mode.shows(me, assignee) {
            applied.purged_files.extend(purge_conversation(tx, parse_id(&id)?)?);
            applied.kinds.extend([EntityKind::Conversation, EntityKind::Message]);
        }
    }
    Ok(())
}

/// Whether the agent sees only some conversations of `inbox` (a visibility mode, not an admin).
fn restricted(tx: &Transaction, inbox: Id) -> CoreResult<bool> {
    let Some(me) = Cache::meta(tx, "me")?.map(|id| parse_id(&id)).transpose()? else { return Ok(false) };
    let admin =
        super::get_displayed::<Agent>(tx, EntityKind::Agent, me)?.is_some_and(|a| a.role == Role::Admin);
    let inbox = super::get_displayed::<Inbox>(tx, EntityKind::Inbox, inbox)?;
    Ok(!admin && inbox.is_some_and(|i| i.visibility != InboxVisibility::Everything))
}

/// Restarts the backfill below the current cursor: the history the cache now lacks arrives behind
/// the live feed, filling only what is missing.
fn want_history(tx: &Transaction, applied: &mut Applied) -> CoreResult<()> {
    let Some(cursor) = Cache::meta(tx, "cursor")?.and_then(|v| v.parse::<i64>().ok()).filter(|c| *c > 0)
    else {
        return Ok(());
    };
    Cache::set_meta(tx, "backfill_upto", &cursor.to_string())?;
    Cache::set_meta(tx, "backfill_before", &(cursor + 1).to_string())?;
    match Cache::meta(tx, "cursor_check")? {
        Some(check) => Cache::set_meta(tx, "backfill_check", &check)?,
        None => {
            tx.execute("DELETE FROM meta WHERE key = 'backfill_check'", [])?;
        }
    }
    applied.history_wanted = true;
    Ok(())
}

/// After a batch of the feed (`changes`, already applied in `tx`): purges what left the agent's
/// view and asks for the history of what entered it.
/// `new_conversations`: those the cache held no server version of before the batch.
pub(super) fn follow(
    tx: &Transaction,
    changes: &[Change],
    new_conversations: &BTreeSet<Id>,
    applied: &mut Applied,
) -> CoreResult<()> {
    for change in changes.iter().filter(|c| c.entity == EntityKind::Conversation && c.op == ChangeOp::Delete)
    {
        applied.purged_files.extend(purge_conversation(tx, change.id)?);
        applied.kinds.extend([EntityKind::Conversation, EntityKind::Message]);
    }
    let mut wants_history = false;
    let directory_changed = changes.iter().any(|c| matches!(c.entity, EntityKind::Inbox | EntityKind::Agent));
    if directory_changed {
        if let Some((me, now)) = visible_inboxes(tx)? {
            let before: Option<BTreeMap<Id, InboxVisibility>> =
                Cache::meta(tx, "visible_inboxes")?.and_then(|v| serde_json::from_str(&v).ok());
            if let Some(before) = before {
                for lost in before.keys().filter(|inbox| !now.contains_key(inbox)) {
                    let conversations: Vec<String> = {
                        let mut statement =
                            tx.prepare_cached("SELECT id FROM conversations WHERE inbox_id = ?1")?;
                        let rows = statement.query_map([lost.to_string()], |row| row.get(0))?;
                        rows.collect::<Result<_, _>>()?
                    };
                    for conversation in conversations {
                        applied.purged_files.extend(purge_conversation(tx, parse_id(&conversation)?)?);
                    }
                    purge_contacts_of(tx, *lost)?;
                    applied.kinds.extend([
                        EntityKind::Conversation,
                        EntityKind::Message,
                        EntityKind::Contact,
                    ]);
                }
                for (inbox, mode) in &now {
                    match before.get(inbox) {
                        Some(old) if breadth(*mode) < breadth(*old) => {
                            purge_hidden(tx, me, *inbox, *mode, applied)?
                        }
                        Some(old) if breadth(*mode) > breadth(*old) => wants_history = true,
                        None => wants_history = true,
                        Some(_) => {}
                    }
                }
            }
            Cache::set_meta(tx, "visible_inboxes", &serde_json::to_string(&now)?)?;
        }
    }
    // A conversation the cache did not hold, arriving without a message of its own in an inbox
    // that shows the agent only some conversations, entered their view (assigned to them): its
    // history is older than the cursor. A new conversation comes with its first message.
    // The conversations the batch carries a message of, gathered once: looking through the whole
    // batch for each new conversation made a snapshot's cost grow with the square of its size.
    let with_messages: BTreeSet<&str> = changes
        .iter()
        .filter(|m| m.entity == EntityKind::Message)
        .filter_map(|m| m.data.as_ref())
        .filter(|d| matches!(d["kind"].as_str(), Some("incoming" | "outgoing")))
        .filter_map(|d| d["conversation_id"].as_str())
        .collect();
    let mut restricted_inboxes: BTreeMap<Id, bool> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.entity == EntityKind::Conversation && c.op == ChangeOp::Upsert)
    {
        if wants_history || !new_conversations.contains(&change.id) {
            continue;
        }
        let Some(inbox) = change.data.as_ref().and_then(|d| d["inbox_id"].as_str()?.parse::<Id>().ok())
        else {
            continue;
        };
        if with_messages.contains(change.id.to_string().as_str()) {
            continue;
        }
        // Decided once per inbox (the agent's and the inbox's rows read and decoded), not per
        // conversation.
        wants_history |= match restricted_inboxes.get(&inbox) {
            Some(known) => *known,
            None => {
                let answer = restricted(tx, inbox)?;
                restricted_inboxes.insert(inbox, answer);
                answer
            }
        };
    }
    if wants_history {
        want_history(tx, applied)?;
    }
    Ok(())
}

impl Cache {
    /// Whether the cache holds anything of conversation `id` (its row, a message, a marker).
    pub fn holds_conversation(&self, id: Id) -> CoreResult<bool> {
        let conn = self.lock();
        let id = id.to_string();
        Ok(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM conversations WHERE id = ?1)
                 OR EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1)
                 OR EXISTS (SELECT 1 FROM read_markers WHERE id = ?1)
                 OR EXISTS (SELECT 1 FROM mentions WHERE conversation_id = ?1)",
            params![id],
            |row| row.get(0),
        )?)
    }
}
