//! The audit trail: one row per administrative change, sign-in, revocation and export, written in
//! the transaction of what it records (so neither exists without the other), numbered without
//! gaps and hash-chained: each row's hash covers the previous row's hash and the row itself, so
//! [`verify`] finds any row altered, removed or inserted afterwards. The schema's triggers refuse
//! updates and deletes outright. Passwords, tokens and secrets are never written: fields named so
//! read `[redacted]`.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_proto::{
    audit::*,
    ledger::{Actor, ConversationEvent, EventKind},
    *,
};

use super::{ledger::Cause, Viewer, Workspace};
use crate::{
    policy,
    refusal::Outcome,
    store::{StoreRead, StoreReadExt, StoreTx},
};

/// Rows read per page while verifying or listing.
const PAGE: usize = 1_000;

/// Who did something, as the trail records them.
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub actor_id: Option<Id>,
    pub actor_label: String,
    pub device_id: Option<Id>,
    pub ip: Option<String>,
}

impl Who {
    pub fn viewer(viewer: &Viewer) -> Who {
        Who {
            actor_id: Some(viewer.agent.id),
            actor_label: viewer.agent.name.clone(),
            device_id: (!viewer.device_id.is_nil()).then_some(viewer.device_id),
            ip: None,
        }
    }
}

/// What changed, as `{field: [before, after]}` over the top-level fields of two JSON objects
/// (every field of the one there is when the other is `None`), with secrets redacted.
fn changes(before: Option<&Value>, after: Option<&Value>) -> Value {
    let empty = Map::new();
    let fields = |value: Option<&Value>| value.and_then(Value::as_object).unwrap_or(&empty).clone();
    let (before, after) = (fields(before), fields(after));
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changed = Map::new();
    for key in keys {
        let (old, new) = (before.get(key).unwrap_or(&Value::Null), after.get(key).unwrap_or(&Value::Null));
        if old == new {
            continue;
        }
        let secret = ["password", "secret", "token"].iter().any(|word| key.contains(word));
        let pair = if secret {
            Value::Array(vec!["[redacted]".into(), "[redacted]".into()])
        } else {
            Value::Array(vec![old.clone(), new.clone()])
        };
        changed.insert(key.clone(), pair);
    }
    Value::Object(changed)
}

/// A row as it is hashed: every field but `hash`, keys in sorted order. Rows were first hashed as
/// a `serde_json::Value` without `hash`, whose map sorts its keys; writing the same JSON straight
/// from the row skips building that map (half the cost of a row on automated ingest, which now
/// writes two). The test below holds the two equal.
#[derive(serde::Serialize)]
struct Hashed<'a> {
    action: &'a str,
    actor_id: Option<Id>,
    actor_label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_type: Option<&'a str>,
    at: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    bulk_id: Option<Id>,
    changes: &'a Value,
    device_id: Option<Id>,
    ip: Option<&'a str>,
    prev_hash: &'a str,
    seq: i64,
    target_id: Option<Id>,
    target_label: &'a str,
    target_type: &'a str,
}

/// The row's hash: SHA-256 over the previous hash and the row's JSON without its hash.
fn hash_of(entry: &AuditEntry) -> Outcome<String> {
    let hashed = Hashed {
        action: &entry.action,
        actor_id: entry.actor_id,
        actor_label: &entry.actor_label,
        actor_type: entry.actor_kind.as_deref(),
        at: entry.at,
        bulk_id: entry.bulk_id,
        changes: &entry.changes,
        device_id: entry.device_id,
        ip: entry.ip.as_deref(),
        prev_hash: &entry.prev_hash,
        seq: entry.seq,
        target_id: entry.target_id,
        target_label: &entry.target_label,
        target_type: &entry.target_type,
    };
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(serde_json::to_vec(&hashed)?);
    Ok(hex::encode(hasher.finalize()))
}

/// What a row records, before it is numbered and chained.
pub struct Record<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<Id>,
    pub target_label: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Numbers `entry` after the chain's end, links it to the row there and hashes it, then appends
/// it in this transaction (writes are serialised, so the tail read here is the chain's end).
fn append_chained(tx: &mut dyn StoreTx, mut entry: AuditEntry) -> Outcome<()> {
    (entry.seq, entry.prev_hash) = match tx.audit_tail()? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, String::new()),
    };
    entry.hash = hash_of(&entry)?;
    Ok(tx.append_audit(&entry)?)
}

/// Appends a row in this transaction.
pub fn record(tx: &mut dyn StoreTx, who: &Who, what: Record<'_>) -> Outcome<()> {
    let entry = AuditEntry {
        seq: 0,
        at: tx.now(),
        actor_id: who.actor_id,
        actor_label: who.actor_label.clone(),
        actor_kind: None,
        bulk_id: None,
        device_id: who.device_id,
        ip: who.ip.clone(),
        action: what.action.to_owned(),
        target_type: what.target_type.to_owned(),
        target_id: what.target_id,
        target_label: what.target_label.to_owned(),
        changes: changes(what.before.as_ref(), what.after.as_ref()),
        prev_hash: String::new(),
        hash: String::new(),
    };
    append_chained(tx, entry)
}

/// The audit row of a conversation's ledger event, when the event is an action (an assignment,
/// a status, team, priority, labels, escalation or contact change; not a message, the creation,
/// an SLA clock, nor `reopened`/`resolved`, which the status row already says). Called by
/// `ledger::append` for every event, so no action reaches the ledger without its row. The row
/// names the conversation by id only and holds no text anyone typed (an escalation's note is left
/// out): the trail outlives a contact's erasure and retention, so it keeps nothing to erase.
pub fn conversation_action(tx: &mut dyn StoreTx, event: &ConversationEvent, cause: &Cause) -> Outcome<()> {
    let pair = |before: Value, after: Value| Value::Array(vec![before, after]);
    let mut changes = Map::new();
    let action = match &event.event {
        EventKind::Status { from, to, snoozed_until } => {
            changes.insert("status".into(), pair(serde_json::to_value(from)?, serde_json::to_value(to)?));
            if let Some(until) = snoozed_until {
                changes.insert("snoozed_until".into(), pair(Value::Null, (*until).into()));
            }
            "conversation.status"
        }
        EventKind::Assigned { from, to, reason, .. } => {
            changes
                .insert("assignee_id".into(), pair(serde_json::to_value(from)?, serde_json::to_value(to)?));
            changes.insert("reason".into(), pair(Value::Null, reason.as_str().into()));
            "conversation.assign"
        }
        EventKind::Team { from, to } => {
            changes.insert("team_id".into(), pair(serde_json::to_value(from)?, serde_json::to_value(to)?));
            "conversation.team"
        }
        EventKind::Priority { from, to } => {
            changes.insert("priority".into(), pair(serde_json::to_value(from)?, serde_json::to_value(to)?));
            "conversation.priority"
        }
        EventKind::Labels { added, removed } => {
            changes
                .insert("labels".into(), pair(serde_json::to_value(removed)?, serde_json::to_value(added)?));
            "conversation.labels"
        }
        EventKind::Escalation { escalated, .. } => {
            changes.insert("escalated".into(), pair((!escalated).into(), (*escalated).into()));
            "conversation.escalation"
        }
        EventKind::Contact { from, to } => {
            changes.insert("contact_id".into(), pair(from.to_string().into(), to.to_string().into()));
            "conversation.contact"
        }
        EventKind::Created { .. }
        | EventKind::Message { .. }
        | EventKind::AutoReplyNotSent { .. }
        | EventKind::Reopened
        | EventKind::Resolved
        | EventKind::Sla { .. } => return Ok(()),
    };
    let (actor_type, actor_id) = match &event.actor {
        Actor::Agent { id } => ("agent", Some(*id)),
        Actor::Routing => ("routing", None),
        Actor::Rule { id, .. } => ("rule", Some(*id)),
        Actor::Contact { .. } => ("contact", None),
        Actor::System { .. } => ("system", None),
    };
    let actor_label = match (&cause.actor_label, &event.actor) {
        (Some(label), _) => label.clone(),
        (None, Actor::Agent { id }) => tx.get::<Agent>(*id)?.map(|agent| agent.name).unwrap_or_default(),
        (None, Actor::Rule { version, .. }) => format!("@{version}"),
        (None, Actor::System { reason }) => reason.clone(),
        (None, Actor::Routing | Actor::Contact { .. }) => String::new(),
    };
    let entry = AuditEntry {
        seq: 0,
        at: tx.now(),
        actor_id,
        actor_label,
        actor_kind: Some(actor_type.to_owned()),
        bulk_id: cause.bulk_id,
        device_id: None,
        ip: None,
        action: action.to_owned(),
        target_type: "conversation".to_owned(),
        target_id: Some(event.conversation_id),
        target_label: String::new(),
        changes: Value::Object(changes),
        prev_hash: String::new(),
        hash: String::new(),
    };
    append_chained(tx, entry)
}

/// Records a change of an entity from `before` to `after` (either `None` for a creation or a
/// deletion), named by `label`.
pub fn changed<T: serde::Serialize>(
    tx: &mut dyn StoreTx,
    who: &Who,
    action: &str,
    id: Id,
    label: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> Outcome<()> {
    let target_type = action.split('.').next().unwrap_or(action);
    let before = before.map(serde_json::to_value).transpose()?;
    let after = after.map(serde_json::to_value).transpose()?;
    record(tx, who, Record { action, target_type, target_id: Some(id), target_label: label, before, after })
}

/// Walks the whole chain: numbers without gaps, each row linked to the one before and hashed as
/// written.
pub fn verify(store: &(impl StoreRead + ?Sized)) -> Outcome<AuditVerification> {
    Ok(verify_to(store, None)?.0)
}

/// The chain's newest row, as a verification found it: its number and hash (`SEQ:HASH`).
///
/// The chain shows a row altered, removed or inserted anywhere before its newest row, but not
/// rows removed from its end: nothing after them names them. An operator who records the head
/// after each verification, somewhere the database's writers can't reach, and passes it to the
/// next one ([`verify_to`], `audit verify --expect-head`), finds those too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for AuditHead {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (seq, hash) = text.split_once(':').ok_or("a head reads SEQ:HASH, as verify prints it")?;
        let seq = seq.parse().map_err(|_| format!("{seq:?} is not a row number"))?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the hash is the 64 hex digits verify prints".into());
        }
        Ok(AuditHead { seq, hash })
    }
}

/// [`verify`], which also answers the chain's head, and when `expected` (a head recorded
/// earlier) is given, fails at its row if that row is gone or is not the one recorded.
pub fn verify_to(
    store: &(impl StoreRead + ?Sized),
    expected: Option<&AuditHead>,
) -> Outcome<(AuditVerification, Option<AuditHead>)> {
    let mut expected_seq = 1;
    let mut prev_hash = String::new();
    loop {
        let rows = store.audit_rows(expected_seq, i64::MAX, PAGE)?;
        if rows.is_empty() {
            let held = (expected_seq - 1) as u64;
            let head = (expected_seq > 1).then(|| AuditHead { seq: expected_seq - 1, hash: prev_hash });
            // The recorded head is past the end: rows were removed from it.
            let verdict = match expected {
                Some(recorded) if recorded.seq >= expected_seq => {
                    AuditVerification { ok: false, rows: held, first_bad_seq: Some(expected_seq) }
                }
                _ => AuditVerification { ok: true, rows: held, first_bad_seq: None },
            };
            return Ok((verdict, head));
        }
        for row in rows {
            let recorded = expected.is_some_and(|head| head.seq == row.seq && head.hash != row.hash);
            let bad = recorded
                || row.seq != expected_seq
                || row.prev_hash != prev_hash
                || hash_of(&row)? != row.hash;
            if bad {
                let first_bad_seq = Some(expected_seq.min(row.seq));
                let verdict = AuditVerification { ok: false, rows: (expected_seq - 1) as u64, first_bad_seq };
                return Ok((verdict, None));
            }
            prev_hash = row.hash;
            expected_seq += 1;
        }
    }
}

/// Which rows an admin asks for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// An action, or a prefix ending in `.` (`auth.`).
    pub action: Option<String>,
    pub actor_id: Option<Id>,
    pub target_id: Option<Id>,
    /// `agent`, `routing`, `rule`, `contact`, `system` (`AuditEntry::actor_type`).
    pub actor_type: Option<String>,
    /// Rows at or after this time.
    pub from: Option<Millis>,
    /// Rows before this time.
    pub to: Option<Millis>,
    /// Rows older than this seq (the next page, newest first).
    pub before: Option<i64>,
    pub limit: usize,
}

fn matches(entry: &AuditEntry, query: &AuditQuery) -> bool {
    let action = match &query.action {
        Some(prefix) if prefix.ends_with('.') => entry.action.starts_with(prefix.as_str()),
        Some(action) => &entry.action == action,
        None => true,
    };
    action
        && query.actor_id.is_none_or(|id| entry.actor_id == Some(id))
        && query.target_id.is_none_or(|id| entry.target_id == Some(id))
        && query.actor_type.as_deref().is_none_or(|kind| entry.actor_type() == kind)
        && query.from.is_none_or(|from| entry.at >= from)
        && query.to.is_none_or(|to| entry.at < to)
}

impl Workspace {
    /// `GET /audit` (admins): rows newest first, filtered. Anyone else is refused, and the
    /// refusal is itself recorded.
    pub async fn audit_log(&self, viewer: &Viewer, query: AuditQuery) -> Outcome<Vec<AuditEntry>> {
        self.require_admin_audited(viewer, "audit").await?;
        self.read(move |store| {
            let limit = query.limit.clamp(1, PAGE);
            let mut found = Vec::new();
            // From the newest row, or just below the cursor (saturating: an extreme cursor means
            // everything, or nothing, older), never above the tail.
            let tail = store.audit_tail()?.map_or(0, |(seq, _)| seq);
            let mut upper = query.before.map_or(tail, |before| before.saturating_sub(1).min(tail));
            while upper >= 1 && found.len() < limit {
                let lower = (upper - PAGE as i64 + 1).max(1);
                let mut rows = store.audit_rows(lower, upper, PAGE)?;
                rows.reverse();
                found.extend(rows.into_iter().filter(|row| matches(row, &query)));
                upper = lower - 1;
            }
            found.truncate(limit);
            Ok(found)
        })
        .await
    }

    /// `GET /audit/export` (admins): every row the filters match, oldest first, whole (hashes
    /// included, so the file can be verified elsewhere). The export is itself a row of the trail,
    /// written before the rows are read: an unfiltered export ends with its own row.
    pub async fn audit_export(&self, viewer: &Viewer, query: AuditQuery) -> Outcome<Vec<AuditEntry>> {
        self.require_admin_audited(viewer, "audit").await?;
        let filters = serde_json::json!({
            "action": query.action,
            "actor_id": query.actor_id,
            "target_id": query.target_id,
            "actor_type": query.actor_type,
            "from": query.from,
            "to": query.to,
        });
        self.record_export(viewer, "export.audit", filters).await?;
        self.read(move |store| {
            let mut found = Vec::new();
            let mut lower = 1;
            loop {
                let rows = store.audit_rows(lower, i64::MAX, PAGE)?;
                let Some(last) = rows.last().map(|row| row.seq) else { break };
                found.extend(rows.into_iter().filter(|row| matches(row, &query)));
                lower = last + 1;
            }
            Ok(found)
        })
        .await
    }

    /// `GET /audit/verify` (admins) and `switchboard-server audit verify`.
    pub async fn verify_audit(&self, viewer: Option<&Viewer>) -> Outcome<AuditVerification> {
        if let Some(viewer) = viewer {
            self.require_admin_audited(viewer, "audit").await?;
        }
        self.read(|store| verify(store)).await
    }

    /// `switchboard-server audit verify [--expect-head SEQ:HASH]`: the verification and the
    /// chain's head, checked against a head recorded earlier ([`verify_to`]).
    pub async fn verify_audit_to(
        &self,
        expected: Option<AuditHead>,
    ) -> Outcome<(AuditVerification, Option<AuditHead>)> {
        self.read(move |store| verify_to(store, expected.as_ref())).await
    }

    /// Records that someone fetched an export (a report's CSV, a transcript), with its filters.
    pub async fn record_export(&self, viewer: &Viewer, what: &'static str, filters: Value) -> Outcome<()> {
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let after = Some(serde_json::json!({ "filters": filters }));
            record(
                tx,
                &who,
                Record {
                    action: what,
                    target_type: "export",
                    target_id: None,
                    target_label: "",
                    before: None,
                    after,
                },
            )
        })
        .await
    }

    /// Refuses a non-admin, recording `permission.denied` first.
    pub(super) async fn require_admin_audited(&self, viewer: &Viewer, what: &'static str) -> Outcome<()> {
        if let Err(refusal) = policy::require_admin(viewer) {
            let who = Who::viewer(viewer);
            self.write(move |tx| {
                let what = Record {
                    action: "permission.denied",
                    target_type: what,
                    target_id: None,
                    target_label: "",
                    before: None,
                    after: None,
                };
                record(tx, &who, what)
            })
            .await?;
            return Err(refusal);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How rows were first hashed: the row as a JSON value, `hash` taken out.
    fn hash_as_a_value(entry: &AuditEntry) -> String {
        let mut unhashed = serde_json::to_value(entry).expect("json");
        unhashed.as_object_mut().expect("an object").remove("hash");
        let mut hasher = Sha256::new();
        hasher.update(entry.prev_hash.as_bytes());
        hasher.update(serde_json::to_vec(&unhashed).expect("json"));
        hex::encode(hasher.finalize())
    }

    #[test]
    fn a_row_hashes_as_it_did_as_a_json_value_with_or_without_the_newer_fields() {
        let mut entry = AuditEntry {
            seq: 42,
            at: 1_764_547_200_000,
            actor_id: Some(Id::now_v7()),
            actor_label: "Ana \"the admin\" ü".into(),
            actor_kind: None,
            bulk_id: None,
            device_id: None,
            ip: Some("127.0.0.1".into()),
            action: "agent.update".into(),
            target_type: "agent".into(),
            target_id: Some(Id::now_v7()),
            target_label: "Sara".into(),
            changes: serde_json::json!({"role": ["agent", "lead"], "a": [null, {"z": 1, "b": [2.5, "x"]}]}),
            prev_hash: "ab".repeat(32),
            hash: "ignored".into(),
        };
        assert_eq!(hash_of(&entry).expect("hash"), hash_as_a_value(&entry));
        entry.actor_kind = Some("rule".into());
        entry.bulk_id = Some(Id::now_v7());
        entry.device_id = Some(Id::now_v7());
        entry.actor_id = None;
        entry.ip = None;
        assert_eq!(hash_of(&entry).expect("hash"), hash_as_a_value(&entry));
    }

    #[test]
    fn changes_list_only_what_differs_and_redact_secrets() {
        let before = serde_json::json!({"name": "Ana", "role": "agent", "password": "a", "same": 1});
        let after =
            serde_json::json!({"name": "Ana", "role": "lead", "password": "b", "same": 1, "new": true});
        let diff = changes(Some(&before), Some(&after));
        assert_eq!(
            diff,
            serde_json::json!({"role": ["agent", "lead"], "password": ["[redacted]", "[redacted]"], "new": [null, true]})
        );
        assert_eq!(changes(None, Some(&serde_json::json!({"a": 1}))), serde_json::json!({"a": [null, 1]}));
    }
}
