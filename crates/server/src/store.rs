//! The storage seam: what the domain (`workspace/`) asks of a backend, as storage verbs only.
//!
//! A backend stores entities as JSON with their feed audience, keeps the change feed, the
//! idempotency records, and a few side tables (credentials, devices, channel identities, staged
//! attachments, deliveries), and answers the named lookups the rules need. It decides nothing:
//! every check, role and refusal lives in `workspace/` and `policy.rs`, so a second backend
//! implements this file and nothing else.
//!
//! The one hard requirement on a backend is the feed invariant: a change's seq is assigned at
//! commit and commits are published on the bus in seq order, so a reader that has seen seq N can
//! never later find a committed change below N.

use std::any::Any;

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use switchboard_proto::*;

use crate::{bus::VisibleInboxes, refusal::Refusal};

/// A storage failure: never the caller's fault, so it becomes an internal error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

pub type StoreResult<T> = Result<T, StoreError>;

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError(format!("stored json: {error}"))
    }
}

/// Who may receive an entity's changes: those who can see `inbox` (everyone when `None`), and
/// only `agent` when it is set (the entity is then private to that agent: pins, read markers,
/// mentions, personal canned responses). `agent` is also part of the entity's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Audience {
    pub inbox: Option<Id>,
    pub agent: Option<Id>,
}

impl Audience {
    /// Everyone in the workspace (the directory: agents, teams, inboxes, labels).
    pub const EVERYONE: Audience = Audience { inbox: None, agent: None };

    /// Those who can see `inbox`.
    pub fn inbox(inbox: Id) -> Self {
        Audience { inbox: Some(inbox), agent: None }
    }

    /// Only `agent`, and only while they can see `inbox` (when given).
    pub fn private(agent: Id, inbox: Option<Id>) -> Self {
        Audience { inbox, agent: Some(agent) }
    }
}

/// A proto entity with its kind and key, so storage calls can't pair a value with the wrong kind.
pub trait Entity: Serialize + DeserializeOwned {
    const KIND: EntityKind;
    fn id(&self) -> Id;
}

macro_rules! entity {
    ($type:ty, $kind:ident, |$value:ident| $id:expr) => {
        impl Entity for $type {
            const KIND: EntityKind = EntityKind::$kind;
            fn id(&self) -> Id {
                let $value = self;
                $id
            }
        }
    };
}

entity!(Agent, Agent, |a| a.id);
entity!(Team, Team, |t| t.id);
entity!(Inbox, Inbox, |i| i.id);
entity!(Contact, Contact, |c| c.id);
entity!(Conversation, Conversation, |c| c.id);
entity!(Message, Message, |m| m.id);
entity!(Label, Label, |l| l.id);
entity!(CannedResponse, CannedResponse, |c| c.id);
entity!(Mention, Mention, |m| m.id);
entity!(Pin, Pin, |p| p.conversation_id);
entity!(ReadMarker, ReadMarker, |r| r.conversation_id);
entity!(switchboard_proto::sla::SlaPolicy, SlaPolicy, |p| p.id);
entity!(switchboard_proto::automation::AutomationRule, AutomationRule, |r| r.id);
entity!(switchboard_proto::views::SavedView, SavedView, |v| v.id);
entity!(switchboard_proto::quick_replies::QuickReplyUsage, QuickReplyUsage, |u| u.canned_response_id);
entity!(switchboard_proto::contacts::CustomField, CustomField, |f| f.id);
entity!(switchboard_proto::exports::LockPolicy, LockPolicy, |_p| switchboard_proto::exports::LOCK_POLICY_ID);

/// What a contact lookup matches, for the SQL backends' `LIKE`: the trimmed query as a contains
/// pattern (`%`, `_` and `\` escaped with `\`), and its phone digits as one (empty when fewer
/// than three digits, which would match nearly every number).
pub fn contact_patterns(query: &str) -> (String, String) {
    let trimmed = query.trim();
    let escaped = trimmed.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let digits = text::phone_digits(trimmed);
    let digit_pattern = if digits.len() >= 3 { format!("%{digits}%") } else { String::new() };
    (format!("%{escaped}%"), digit_pattern)
}

/// A stored mutation answer, by `client_id` (see `workspace/idempotency.rs`).
#[derive(Debug, Clone)]
pub struct MutationRecord {
    pub agent_id: Id,
    pub action: String,
    pub target: Id,
    pub response: Value,
}

/// A signed-in device. The token itself is never stored, only its hash.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub id: Id,
    pub agent_id: Id,
    pub name: String,
    pub token_hash: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// An uploaded file: staged on a conversation until a message claims it.
#[derive(Debug, Clone)]
pub struct AttachmentRecord {
    pub attachment: Attachment,
    pub message_id: Option<Id>,
    pub uploaded_by: Option<Id>,
}

/// A durable timer: work due at an instant, kept across restarts. `key` names what it is for
/// (`snooze:<conversation id>`), so scheduling the same thing again moves the one timer.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerRecord {
    pub key: String,
    pub due_at: Millis,
    pub payload: Value,
}

/// An automation rule's webhook call waiting to be made: `job` is the domain's, opaque here.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleWebhookRecord {
    /// The call's idempotency key (one row per rule version, event and action).
    pub key: String,
    pub job: Value,
    pub attempts: u32,
}

/// An agent's second factor: the TOTP secret (enrolled once `confirmed`), the last time step a
/// code was accepted for (so a code works once), and the SHA-256 of each unused recovery code.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TwoFactorRecord {
    pub secret: Vec<u8>,
    pub confirmed: bool,
    pub last_step: u64,
    pub recovery_hashes: Vec<String>,
    /// Since when an admin requires a second factor of this agent (`None`: not in particular).
    /// The row under the nil id holds the whole workspace's requirement.
    #[serde(default)]
    pub required_since: Option<Millis>,
}

/// An outgoing message waiting for its channel.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub message_id: Id,
    pub inbox_id: Id,
    pub attempts: u32,
    /// The last transient error; while a worker holds the delivery, its claim
    /// (`workspace/deliveries.rs`).
    pub last_error: Option<String>,
}

/// Reads, inside one consistent snapshot.
pub trait StoreRead {
    /// The time this read or transaction runs at (from the server's clock).
    fn now(&self) -> Millis;

    fn get_json(&self, kind: EntityKind, id: Id, scope: Option<Id>) -> StoreResult<Option<Value>>;
    /// Every entity of a kind, oldest first (for the small directory tables).
    fn all_json(&self, kind: EntityKind) -> StoreResult<Vec<Value>>;
    /// The unscoped entities of a kind with these ids (those that exist), in no given order: one
    /// query where the backend can (a CSV export's contacts), else one read each.
    fn get_json_many(&self, kind: EntityKind, ids: &[Id]) -> StoreResult<Vec<Value>> {
        ids.iter().filter_map(|id| self.get_json(kind, *id, None).transpose()).collect()
    }

    // Conversations.
    /// The unresolved conversation of this contact in this inbox, other than `except`.
    fn open_conversation(
        &self,
        inbox: Id,
        contact: Id,
        except: Option<Id>,
    ) -> StoreResult<Option<Conversation>>;
    /// The most recently active conversation of this contact in this inbox.
    fn latest_conversation(&self, inbox: Id, contact: Id) -> StoreResult<Option<Conversation>>;
    fn conversations_with_label(&self, name: &str) -> StoreResult<Vec<Conversation>>;
    /// A conversation's messages in the order they were written.
    fn messages_of(&self, conversation: Id) -> StoreResult<Vec<Message>>;
    /// Every unresolved conversation, oldest first.
    fn unresolved_conversations(&self) -> StoreResult<Vec<Conversation>>;
    /// Unresolved conversations assigned to `agent`.
    fn unresolved_assigned_to(&self, agent: Id) -> StoreResult<Vec<Conversation>>;

    // Routing.
    /// Open, unassigned conversations of `inbox` in queue order (waiting customers first, the
    /// longest waiting first; then the oldest; then by id), at most `limit`.
    fn routing_queue(&self, inbox: Id, limit: usize) -> StoreResult<Vec<Conversation>>;
    /// Whether `inbox`'s routing queue has anything in it (read from the queue's index, no row).
    fn routing_queued(&self, inbox: Id) -> StoreResult<bool>;
    /// Each agent's count of open conversations assigned to them (agents with none are absent).
    fn open_loads(&self) -> StoreResult<Vec<(Id, usize)>>;
    /// Each agent's turn in routing's rotation: higher is more recently auto-assigned.
    fn routing_turns(&self) -> StoreResult<Vec<(Id, i64)>>;

    // The conversation event ledger.
    /// A conversation's events, in the order they were written.
    fn events_of(&self, conversation: Id) -> StoreResult<Vec<ledger::ConversationEvent>>;
    /// The events of these kinds (`EventKind::name`) of these conversations, each one's in the
    /// order they were written: a report's batch read (one round trip for a thousand
    /// conversations on PostgreSQL, and none of the messages' events it does not need).
    fn events_of_many(
        &self,
        conversations: &[Id],
        kinds: &[&str],
    ) -> StoreResult<Vec<ledger::ConversationEvent>>;
    /// Every conversation's events of `kind` dated in `[from, to)`, in the order they were
    /// written (a report's scan: no index serves it).
    fn events_between(
        &self,
        kind: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<ledger::ConversationEvent>>;
    /// The cycle of a conversation's latest event (`None`: no event yet).
    fn current_cycle(&self, conversation: Id) -> StoreResult<Option<u32>>;

    // Automation.
    /// Run log entries of a rule and/or a conversation, newest first, older than `before` (a run
    /// id) when given.
    fn automation_runs(
        &self,
        rule: Option<Id>,
        conversation: Option<Id>,
        before: Option<Id>,
        limit: usize,
    ) -> StoreResult<Vec<switchboard_proto::automation::AutomationRun>>;
    /// A rule's latest `done` run on a conversation (for its run limit).
    fn last_automation_run(
        &self,
        rule: Id,
        conversation: Id,
    ) -> StoreResult<Option<switchboard_proto::automation::AutomationRun>>;
    /// The most recently created conversations, newest first (a rule's preview).
    fn recent_conversations(&self, limit: usize) -> StoreResult<Vec<Conversation>>;
    /// The seq of the latest committed (or this transaction's) change to any entity of `kind`:
    /// it moves on every create, edit and delete, so a cache of the kind keys on it.
    fn kind_version(&self, kind: EntityKind) -> StoreResult<i64>;
    /// An agent's second factor, if they started or finished enrolling one.
    fn two_factor(&self, agent: Id) -> StoreResult<Option<TwoFactorRecord>>;
    /// An email inbox's server-only state under `key` (its settings and password, the IMAP
    /// mailbox's UIDVALIDITY and last UID, a conversation's thread), opaque JSON of the domain's.
    fn email_state(&self, inbox: Id, key: &str) -> StoreResult<Option<Value>>;
    /// An export request (`workspace/exports.rs`), kept as its inbox's state under
    /// `export:<id>`.
    fn export_request(&self, id: Id) -> StoreResult<Option<switchboard_proto::exports::ExportRequest>>;
    /// The newest export requests, newest first, at most `limit`; only pending ones if asked.
    fn export_requests(
        &self,
        pending_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<switchboard_proto::exports::ExportRequest>>;
    /// A workspace-wide setting under `key` (the app lock's maximum idle time), opaque JSON: the
    /// state of the nil inbox.
    fn workspace_setting(&self, key: &str) -> StoreResult<Option<Value>>;
    /// The audit trail's last row: its seq and hash (`None`: empty).
    fn audit_tail(&self) -> StoreResult<Option<(i64, String)>>;
    /// Audit rows with seq in `[from_seq, to_seq]`, in seq order, at most `limit`.
    fn audit_rows(
        &self,
        from_seq: i64,
        to_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<switchboard_proto::audit::AuditEntry>>;
    /// Report facts dated in `[from, to)`, by time (a conversation's facts of one instant in
    /// the order they were derived).
    fn report_facts(
        &self,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<switchboard_proto::reports::ReportFact>>;
    /// One conversation's report facts, every cycle, in the order they were derived.
    fn conversation_report_facts(
        &self,
        conversation: Id,
    ) -> StoreResult<Vec<switchboard_proto::reports::ReportFact>>;
    /// Report facts of one kind dated in `[from, to)`, by time (a CSV's cycle starts).
    fn report_facts_of_kind(
        &self,
        kind: switchboard_proto::reports::FactKind,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<switchboard_proto::reports::ReportFact>> {
        Ok(self.report_facts(from, to)?.into_iter().filter(|fact| fact.kind == kind).collect())
    }
    /// These conversations' report facts dated at or after `since` (`Millis::MIN`: all), each
    /// conversation's in the order they were derived: one query where the backend can (a CSV
    /// export's cycles), else one read each.
    fn report_facts_of(
        &self,
        conversations: &[Id],
        since: Millis,
    ) -> StoreResult<Vec<switchboard_proto::reports::ReportFact>> {
        let mut facts = Vec::new();
        for conversation in conversations {
            facts
                .extend(self.conversation_report_facts(*conversation)?.into_iter().filter(|f| f.at >= since));
        }
        Ok(facts)
    }
    /// The figures of the facts a scan names, per bucket and group, aggregated where the facts
    /// are (`facts.rs`): exactly what the plain aggregation over every fact gives.
    fn report_scan(&self, scan: &crate::facts::Scan) -> StoreResult<crate::facts::Buckets>;
    /// Every rollup row (`report_hours`, `report_days`), by key: what the facts' count facts sum
    /// to per UTC hour and day (`facts::rollup_deltas`). For the test that they never drift.
    fn report_rollups(&self) -> StoreResult<Vec<(crate::facts::RollupKey, crate::facts::Counts)>>;
    /// Every spread row (`report_spreads`), by key: the duration facts' values per UTC hour and
    /// day (`facts::spread_deltas`). For the test that they never drift.
    fn report_spreads(&self) -> StoreResult<Vec<(crate::facts::SpreadKey, crate::facts::Spread)>>;
    /// Conversations whose facts must be derived again (their ledger grew), at most `limit`.
    fn stale_report_conversations(&self, limit: usize) -> StoreResult<Vec<Id>>;
    /// Rules' webhook calls due at `now`, the earliest first.
    fn due_rule_webhooks(&self, now: Millis, limit: usize) -> StoreResult<Vec<RuleWebhookRecord>>;
    fn rule_webhook(&self, key: &str) -> StoreResult<Option<RuleWebhookRecord>>;

    // Timers.
    /// Timers due at `now`, the earliest first.
    fn due_timers(&self, now: Millis, limit: usize) -> StoreResult<Vec<TimerRecord>>;
    fn timer(&self, key: &str) -> StoreResult<Option<TimerRecord>>;

    // Accounts.
    fn has_agents(&self) -> StoreResult<bool>;
    fn agent_by_email(&self, email: &str) -> StoreResult<Option<Agent>>;
    fn password_hash(&self, agent: Id) -> StoreResult<Option<String>>;
    fn device_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<DeviceRecord>>;
    fn device(&self, id: Id) -> StoreResult<Option<DeviceRecord>>;
    /// Devices not revoked, of one agent or (`None`) of everyone, oldest first.
    fn active_devices(&self, agent: Option<Id>) -> StoreResult<Vec<DeviceRecord>>;
    /// When the failed sign-ins of `key` (an email and a client address) since `since` happened,
    /// oldest first.
    fn login_failures(&self, key: &str, since: Millis) -> StoreResult<Vec<Millis>>;

    // Presence: which nodes hold an open stream of which agent.
    /// Agents with an open stream on any node, each once.
    fn streaming_agents(&self) -> StoreResult<Vec<Id>>;
    /// How many nodes hold an open stream of `agent`.
    fn streaming_nodes(&self, agent: Id) -> StoreResult<usize>;
    /// Nodes whose last sign of life is older than `before`.
    fn silent_nodes(&self, before: Millis) -> StoreResult<Vec<String>>;

    // Channels.
    fn inbox_secret(&self, inbox: Id) -> StoreResult<Option<String>>;
    /// The inbox's connector settings (`connectors::ConnectorSettings` as JSON), server-only.
    fn connector_settings(&self, inbox: Id) -> StoreResult<Option<Value>>;
    /// The outgoing message the provider knows by `provider_id` on this inbox.
    fn provider_message(&self, inbox: Id, provider_id: &str) -> StoreResult<Option<Id>>;
    fn contact_by_identity(&self, inbox: Id, external_id: &str) -> StoreResult<Option<Id>>;
    /// Every conversation of a contact, in every inbox.
    fn contact_conversations(&self, contact: Id) -> StoreResult<Vec<Conversation>>;
    /// The (message, conversation) an inbound `external_id` was stored as.
    fn inbound_seen(&self, inbox: Id, external_id: &str) -> StoreResult<Option<(Id, Id)>>;
    fn attachment(&self, id: Id) -> StoreResult<Option<AttachmentRecord>>;
    /// Whether any attachment row (claimed or staged) still names the stored file `sha256`.
    fn blob_referenced(&self, sha256: &str) -> StoreResult<bool>;
    /// Resolved conversations of `inbox` last active before `before`, the oldest first, at most
    /// `limit`; with `with_text`, only those whose preview is not empty (not anonymised yet).
    fn resolved_before(
        &self,
        inbox: Id,
        before: Millis,
        with_text: bool,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>>;
    fn delivery(&self, message: Id) -> StoreResult<Option<DeliveryRecord>>;
    /// Deliveries due at `now`, the longest waiting first.
    fn due_deliveries(&self, now: Millis, limit: usize) -> StoreResult<Vec<DeliveryRecord>>;

    // The feed and search, filtered to what an agent may see.
    /// The entity of the change at `seq`, superseded or not (`None`: no change has that seq).
    fn change_at(&self, seq: i64) -> StoreResult<Option<(EntityKind, Id)>>;
    /// One page of the feed after `since`, compacted to each entity's latest version; from
    /// `since = 0` without tombstones; `next` is the head when nothing more matches.
    fn feed_page(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        since: i64,
        limit: usize,
    ) -> StoreResult<SyncPage>;
    /// The latest version (seq ≤ the snapshot's head, upserts only) of each `kind` entity the
    /// agent may receive, as the feed from 0 would give it: all of them when `ids` is `None`,
    /// else only those ids.
    fn latest_changes(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        kind: EntityKind,
        ids: Option<&[Id]>,
    ) -> StoreResult<Vec<Change>>;
    /// Conversations in visible inboxes, most recently active first (`open_only`: unresolved).
    fn active_conversations(
        &self,
        visible: &VisibleInboxes,
        open_only: bool,
        limit: usize,
    ) -> StoreResult<Vec<Id>>;
    /// A thread's messages, newest first, strictly older than `before` (`(created_at, id)`).
    fn thread_messages(
        &self,
        conversation: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> StoreResult<Vec<HistoryCursor>>;
    /// The backfill: latest versions (upserts) the agent may receive with `seq ≤ upto` and
    /// `seq < before`, highest seq first.
    fn backfill_page(
        &self,
        agent: Id,
        visible: &VisibleInboxes,
        upto: i64,
        before: i64,
        limit: usize,
    ) -> StoreResult<Vec<Change>>;
    /// Messages matching `query` (normalised with `proto::text`), newest first.
    fn search_messages(
        &self,
        query: &str,
        visible: &VisibleInboxes,
        limit: usize,
    ) -> StoreResult<Vec<MessageHit>>;
    /// Contacts whose name or email contains `query`, or whose phone contains its digits, newest
    /// first; contacts tied to an inbox only when it is visible.
    fn find_contacts(&self, query: &str, visible: &VisibleInboxes, limit: usize)
        -> StoreResult<Vec<Contact>>;
}

/// Writes, inside one transaction that also appends the feed records of every change.
/// What a write transaction's domain work holds back until the automation rules have answered
/// it, kept with the transaction as its appended events are (a backend only keeps it: the domain
/// decides what goes in and when it is written).
#[derive(Debug, Default)]
pub struct Held {
    /// The system lines routing and the rules wrote, one per conversation
    /// (`conversations::holding_lines`); `None` outside a write's answer.
    pub lines: Option<Vec<(Id, Message)>>,
    /// A new conversation whose one write waits for the rules' pass over it
    /// (`ledger::create_held`, written by `ledger::write_held`).
    pub conversation: Option<HeldConversation>,
}

/// A new conversation not yet written: its events so far are in the ledger, its row and SLA
/// clocks are written once, on its final state.
#[derive(Debug)]
pub struct HeldConversation {
    pub conversation: Conversation,
    /// When it was created (its SLA clocks start then).
    pub at: Millis,
    /// Ids minted right after its `created` event, for its SLA events: they stand in the ledger
    /// where the SLA started, before the message, whenever the row is written.
    pub sla_event_ids: Vec<Id>,
}

pub trait StoreTx: StoreRead {
    /// Upserts an entity and appends its change for `audience`.
    fn put_json(&mut self, kind: EntityKind, id: Id, audience: Audience, value: Value) -> StoreResult<()>;
    /// Deletes an entity and appends its tombstone; false if there was none.
    fn remove(&mut self, kind: EntityKind, id: Id, audience: Audience) -> StoreResult<bool>;
    /// The highest seq this transaction has appended so far (0: none).
    fn last_seq(&self) -> i64;

    fn mutation(&self, client_id: Id) -> StoreResult<Option<MutationRecord>>;
    fn remember_mutation(&mut self, client_id: Id, record: MutationRecord) -> StoreResult<()>;

    /// Appends an event to the conversation ledger (never updated or deleted).
    fn append_event(&mut self, event: &ledger::ConversationEvent) -> StoreResult<()>;
    /// Whether this transaction has written an entity of `kind` (a cache must not keep what
    /// may yet be rolled back).
    fn wrote(&self, kind: EntityKind) -> bool;
    /// The events appended by this transaction since the last call, in order (automation answers
    /// them before the transaction commits).
    fn take_events(&mut self) -> Vec<ledger::ConversationEvent>;
    /// What the domain holds back in this transaction until the rules have answered it ([`Held`]).
    fn held(&mut self) -> &mut Held;
    /// Queues a rule's webhook call due at `at`; a call with this key already queued (or made and
    /// remembered) is left alone, so a repeat can never call twice.
    fn enqueue_rule_webhook(&mut self, key: &str, job: &Value, at: Millis) -> StoreResult<()>;
    /// Moves a queued call to `at`, recording its attempts and last error.
    fn schedule_rule_webhook(
        &mut self,
        key: &str,
        attempts: u32,
        at: Millis,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// Marks a call done (made, or given up): never due again, its key kept so a repeat can't
    /// queue it anew.
    fn finish_rule_webhook(&mut self, key: &str) -> StoreResult<()>;
    /// Sets (or with `None` removes) an agent's second factor.
    fn set_two_factor(&mut self, agent: Id, record: Option<&TwoFactorRecord>) -> StoreResult<()>;
    /// Sets (or with `None` removes) an email inbox's state under `key`.
    fn set_email_state(&mut self, inbox: Id, key: &str, value: Option<&Value>) -> StoreResult<()>;
    /// Stores an export request (new, or its new state).
    fn put_export_request(&mut self, request: &switchboard_proto::exports::ExportRequest) -> StoreResult<()>;
    /// Sets (or with `None` removes) a workspace-wide setting.
    fn set_workspace_setting(&mut self, key: &str, value: Option<&Value>) -> StoreResult<()>;
    /// Appends a row to the audit trail (never updated or deleted: the schema refuses both).
    fn append_audit(&mut self, entry: &switchboard_proto::audit::AuditEntry) -> StoreResult<()>;
    /// Marks conversations whose facts must be derived again.
    fn mark_reports_stale(&mut self, conversations: &[Id]) -> StoreResult<()>;
    /// Marks every conversation so (a rebuild).
    fn mark_all_reports_stale(&mut self) -> StoreResult<()>;
    /// Replaces each of these conversations' facts with the ones beside it, and clears their
    /// marks. With `roll_up`, the rollups and spreads change with them in this transaction, each
    /// changed row read and written once for the whole batch; without, they are left as they are
    /// for `roll_up_report_facts` to build again (a rebuild).
    fn replace_report_facts(
        &mut self,
        batch: &[(Id, Vec<switchboard_proto::reports::ReportFact>)],
        roll_up: bool,
    ) -> StoreResult<()>;
    /// Forgets every rollup and spread and builds them again from the stored facts, one UTC day
    /// of facts at a time, so each row is written once (the end of a rebuild).
    fn roll_up_report_facts(&mut self) -> StoreResult<()>;
    /// Logs a rule's run, and forgets that rule's runs older than `forget_before`.
    fn insert_automation_run(
        &mut self,
        run: &switchboard_proto::automation::AutomationRun,
        forget_before: Millis,
    ) -> StoreResult<()>;

    /// Creates or moves the timer with this key.
    fn schedule_timer(&mut self, timer: &TimerRecord) -> StoreResult<()>;
    /// Removes the timer with this key, if any (cancelled, or done).
    fn remove_timer(&mut self, key: &str) -> StoreResult<()>;

    /// Adds a message body to the search index (once, when the message is created).
    fn index_message(&mut self, message: &Message, inbox: Id) -> StoreResult<()>;

    fn set_password_hash(&mut self, agent: Id, hash: &str) -> StoreResult<()>;
    fn insert_device(&mut self, device: &DeviceRecord) -> StoreResult<()>;
    fn touch_device(&mut self, id: Id, at: Millis) -> StoreResult<()>;
    fn revoke_device(&mut self, id: Id, at: Millis) -> StoreResult<()>;
    /// Records a failed sign-in, and forgets every failure (of any key) from before `forget_before`.
    fn record_login_failure(&mut self, key: &str, at: Millis, forget_before: Millis) -> StoreResult<()>;
    fn clear_login_failures(&mut self, key: &str) -> StoreResult<()>;

    /// Records that routing just gave `agent` a conversation, as rotation turn `turn`.
    fn set_routing_turn(&mut self, agent: Id, turn: i64) -> StoreResult<()>;

    /// Records whether `node` holds an open stream of `agent`.
    fn set_streaming(&mut self, node: &str, agent: Id, streaming: bool) -> StoreResult<()>;
    /// Records that `node` is alive at `at`; false if it was not known (new, or forgotten).
    fn node_seen(&mut self, node: &str, at: Millis) -> StoreResult<bool>;
    /// Forgets a node and its streams; returns the agents it held streams of.
    fn forget_node(&mut self, node: &str) -> StoreResult<Vec<Id>>;

    fn set_inbox_secret(&mut self, inbox: Id, secret: &str) -> StoreResult<()>;
    /// Replaces (or with `None` removes) the inbox's connector settings.
    fn set_connector_settings(&mut self, inbox: Id, settings: Option<&Value>) -> StoreResult<()>;
    /// Records the provider's id of an outgoing message it accepted.
    fn remember_provider_message(&mut self, inbox: Id, provider_id: &str, message: Id) -> StoreResult<()>;
    fn add_identity(&mut self, inbox: Id, external_id: &str, contact: Id) -> StoreResult<()>;
    /// Every channel identity of contact `from` now names `to` (a merge).
    fn move_identities(&mut self, from: Id, to: Id) -> StoreResult<()>;
    fn remember_inbound(
        &mut self,
        inbox: Id,
        external_id: &str,
        message: Id,
        conversation: Id,
    ) -> StoreResult<()>;
    fn insert_attachment(&mut self, record: &AttachmentRecord) -> StoreResult<()>;

    // Retention and erasure (`workspace/privacy.rs`).
    /// Forgets what is kept beside a conversation's entities: its search entries, its
    /// attachment rows (answering their files' hashes), inbound ids, deliveries and provider ids
    /// of its messages, the stored answers of mutations on it or its messages, and its timers.
    /// Call it before removing the messages.
    fn erase_conversation_rows(&mut self, conversation: Id) -> StoreResult<Vec<String>>;
    /// Removes these messages' search entries and attachment rows (an anonymised conversation's
    /// messages stay, emptied), answering the files' hashes.
    fn erase_message_rows(&mut self, messages: &[Id]) -> StoreResult<Vec<String>>;
    /// Forgets a contact's channel identities.
    fn erase_contact_rows(&mut self, contact: Id) -> StoreResult<()>;
    /// Clears the data of every past change of these entities (message, conversation and
    /// contact ids): a superseded version is never served, but it would keep the erased text.
    /// The changes themselves stay, so a client's cursor still names a change.
    fn erase_change_data(&mut self, ids: &[Id]) -> StoreResult<()>;
    fn claim_attachment(&mut self, id: Id, message: Id) -> StoreResult<()>;

    fn enqueue_delivery(&mut self, delivery: &DeliveryRecord, at: Millis) -> StoreResult<()>;
    fn reschedule_delivery(&mut self, message: Id, attempts: u32, at: Millis, error: &str)
        -> StoreResult<()>;
    fn remove_delivery(&mut self, message: Id) -> StoreResult<()>;
    /// Moves a delivery's next attempt to `at`, keeping its attempts and last error (a lease).
    fn postpone_delivery(&mut self, message: Id, at: Millis) -> StoreResult<()>;
}

/// Typed access on top of the JSON verbs.
pub trait StoreReadExt: StoreRead {
    fn get<T: Entity>(&self, id: Id) -> StoreResult<Option<T>> {
        self.get_scoped(id, None)
    }

    fn get_scoped<T: Entity>(&self, id: Id, scope: Option<Id>) -> StoreResult<Option<T>> {
        Ok(self.get_json(T::KIND, id, scope)?.map(serde_json::from_value).transpose()?)
    }

    fn get_many<T: Entity>(&self, ids: &[Id]) -> StoreResult<Vec<T>> {
        self.get_json_many(T::KIND, ids)?.into_iter().map(|v| Ok(serde_json::from_value(v)?)).collect()
    }

    fn all<T: Entity>(&self) -> StoreResult<Vec<T>> {
        self.all_json(T::KIND)?.into_iter().map(|v| Ok(serde_json::from_value(v)?)).collect()
    }
}

impl<S: StoreRead + ?Sized> StoreReadExt for S {}

/// Typed writes on top of the JSON verbs.
pub trait StoreTxExt: StoreTx {
    fn put<T: Entity>(&mut self, value: &T, audience: Audience) -> StoreResult<()> {
        let json = serde_json::to_value(value)?;
        self.put_json(T::KIND, value.id(), audience, json)
    }
}

impl<S: StoreTx + ?Sized> StoreTxExt for S {}

/// What a read or write closure returns, type-erased so `Store` can be a trait object.
pub type Erased = Box<dyn Any + Send>;
pub type ReadFn = Box<dyn FnOnce(&dyn StoreRead) -> Result<Erased, Refusal> + Send>;
pub type WriteFn = Box<dyn FnOnce(&mut dyn StoreTx) -> Result<Erased, Refusal> + Send>;

/// A storage backend. Each call runs its closure on a blocking thread: inside one read snapshot,
/// or inside one write transaction that commits only if the closure succeeds and then publishes
/// its feed records on the bus, in seq order.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn read_erased(&self, now: Millis, read: ReadFn) -> Result<Erased, Refusal>;
    async fn write_erased(&self, now: Millis, write: WriteFn) -> Result<Erased, Refusal>;
    /// After an erasure: makes what it deleted unreadable in the database's files too (SQLite:
    /// the WAL checkpointed and truncated; PostgreSQL: the touched tables rewritten by
    /// `VACUUM (FULL)`; the cluster's WAL is the operator's, README's "Retention and erasure").
    async fn scrub(&self) -> Result<(), Refusal>;
}

impl dyn Store {
    pub async fn read<T, F>(&self, now: Millis, read: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&dyn StoreRead) -> Result<T, Refusal> + Send + 'static,
    {
        let erased = self.read_erased(now, Box::new(move |store| read(store).map(erase))).await?;
        unerase(erased)
    }

    pub async fn write<T, F>(&self, now: Millis, write: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn StoreTx) -> Result<T, Refusal> + Send + 'static,
    {
        let erased = self.write_erased(now, Box::new(move |tx| write(tx).map(erase))).await?;
        unerase(erased)
    }
}

fn erase<T: Send + 'static>(value: T) -> Erased {
    Box::new(value)
}

fn unerase<T: 'static>(erased: Erased) -> Result<T, Refusal> {
    erased.downcast::<T>().map(|value| *value).map_err(|_| Refusal::internal("store answered another type"))
}
