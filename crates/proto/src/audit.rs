//! The audit trail: who changed what, append-only and hash-chained, so a row altered or removed
//! afterwards is found by the verifier. Each row is written in the transaction of the change it
//! records. A conversation action (assign, status, team, priority, labels, escalation, a contact
//! merge) is a row too, written beside its ledger event (`ledger.rs`) by whoever caused it: an
//! agent, routing, an automation rule at its version, the customer or the server.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;

/// One row of the trail. `hash` = SHA-256 of `prev_hash` and the row's canonical JSON without
/// `hash` (serde's field order, below), hex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    /// 1, 2, 3, … with no gap.
    pub seq: i64,
    pub at: Millis,
    /// The agent who did it (`null`: the server itself, or someone not signed in).
    pub actor_id: Option<Uuid>,
    /// Their name then, or what the server knows of an anonymous caller (an email typed in); a
    /// rule's name and `@version`.
    pub actor_label: String,
    /// Who acted, on conversation actions: `agent`, `routing`, `rule`, `contact` or `system`.
    /// Absent on the other rows, where an `actor_id` means an agent and none the server or an
    /// anonymous caller ([`AuditEntry::actor_type`]). Absent fields are not hashed, so rows
    /// written before the field existed verify unchanged.
    #[serde(default, rename = "actor_type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub actor_kind: Option<String>,
    /// The one id every row of one bulk action shares (the app's multi-selection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub bulk_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    /// The caller's address, for sign-ins.
    pub ip: Option<String>,
    /// Dotted: `auth.login`, `auth.login_failed`, `device.revoke`, `agent.create`,
    /// `agent.update`, `team.*`, `inbox.*`, `label.*`, `automation_rule.*`, `sla_policy.*`,
    /// `conversation.sla_pin`, `export.report`, `export.transcript`, `permission.denied`, and the
    /// conversation actions: `conversation.assign`, `conversation.status`, `conversation.team`,
    /// `conversation.priority`, `conversation.labels`, `conversation.escalation`,
    /// `conversation.contact`.
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Uuid>,
    /// The target's name then.
    pub target_label: String,
    /// `{field: [before, after]}` of what changed (secrets and passwords read `[redacted]`).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, [unknown, unknown]>"))]
    pub changes: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Who acted: the row's `actor_type`, or for rows without one, `agent` when an agent is named
    /// and `system` otherwise.
    pub fn actor_type(&self) -> &str {
        match (&self.actor_kind, self.actor_id) {
            (Some(kind), _) => kind,
            (None, Some(_)) => "agent",
            (None, None) => "system",
        }
    }
}

/// `GET /api/v1/audit/verify`: whether the chain holds, and where it first breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditVerification {
    pub ok: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rows: u64,
    /// The first row whose hash, link or number is wrong.
    pub first_bad_seq: Option<i64>,
}

/// What a reader of the trail filters on: the query of `GET /api/v1/audit` and
/// `GET /api/v1/audit/export` (the app's audit screen).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditFilter {
    /// An action (`agent.update`), or a prefix ending in a dot (`auth.`).
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// `agent`, `routing`, `rule`, `contact` or `system` ([`AuditEntry::actor_type`]).
    #[serde(default)]
    pub actor_type: Option<String>,
    /// Rows at or after this time (ms).
    #[serde(default)]
    pub from: Option<Millis>,
    /// Rows before this time (ms).
    #[serde(default)]
    pub to: Option<Millis>,
}

impl AuditFilter {
    /// The filter as query parameters (only those set).
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(action) = self.action.as_deref().filter(|a| !a.is_empty()) {
            query.push(("action", action.to_string()));
        }
        if let Some(actor) = self.actor_id {
            query.push(("actor_id", actor.to_string()));
        }
        if let Some(target) = self.target_id {
            query.push(("target_id", target.to_string()));
        }
        if let Some(actor_type) = self.actor_type.as_deref().filter(|a| !a.is_empty()) {
            query.push(("actor_type", actor_type.to_string()));
        }
        if let Some(from) = self.from {
            query.push(("from", from.to_string()));
        }
        if let Some(to) = self.to {
            query.push(("to", to.to_string()));
        }
        query
    }
}
