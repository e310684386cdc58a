//! The conversation event ledger: one typed, append-only event for every state change of a
//! conversation, with who caused it and the cycle it belongs to. Reports, SLA clocks, automation
//! triggers and the audit trail all derive from it, so they can be rebuilt identically.
//!
//! A conversation's life is a sequence of *cycles*: the first starts at creation; each reopening
//! of a resolved conversation starts the next. Per-cycle figures (first response, resolution) are
//! measured within one cycle, so a reopened conversation gets its own.

use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::{ConversationStatus, Millis, Priority};

/// Who caused an event. On the wire: `{"type":"agent","id":…}`, `{"type":"system","reason":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// An agent, through the API or the app.
    Agent { id: Uuid },
    /// The customer, through a channel.
    Contact { id: Uuid },
    /// The server itself: a timer, a cascade of an administrative change.
    System { reason: String },
    /// Routing, handing out a conversation nobody held.
    Routing,
    /// An automation rule, at the version that ran.
    Rule { id: Uuid, version: u32 },
}

/// Why routing passed an agent over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PassedOver {
    /// Deactivated.
    Inactive,
    /// Not a member of the conversation's inbox (directly or through a team).
    NotInInbox,
    /// The conversation belongs to a team the agent is not in.
    NotInTeam,
    /// Availability busy or offline.
    Unavailable,
    /// No stream open on any node: not at their desk.
    Disconnected,
    /// At or over their capacity.
    AtCapacity,
    /// They released this conversation themselves just now.
    Released,
    /// Routing gave them this conversation earlier in the cycle and they didn't reply in time.
    DidNotReply,
}

/// One agent routing considered for a conversation, as it stood at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingCandidate {
    pub agent_id: Uuid,
    /// Open conversations assigned to them before this one.
    pub load: u32,
    pub capacity: Option<u32>,
    /// `None`: eligible.
    pub passed_over: Option<PassedOver>,
}

/// How a conversation started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A customer wrote in.
    Customer,
    /// An agent started it (an outbound conversation).
    Agent,
}

/// Which way a message went, and what kind of sender wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageClass {
    /// From the customer.
    Inbound,
    /// A person's reply to the customer: the only kind that counts as a response.
    Human,
    /// An internal note.
    Note,
    /// An automatic reply (greeting, away, keyword): reaches the customer like a reply, but never
    /// counts as a response (no first reply, no end of waiting, no SLA clock stopped).
    AutoReply,
    /// A reply an automation rule sent: like an automatic reply, never a response.
    Rule,
}

/// Which of an inbox's automatic replies a message was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AutoReplyRef {
    /// To a customer who started a conversation.
    Greeting,
    /// To a customer who wrote while the inbox was closed.
    Away,
    /// The keyword reply with these keywords (as configured): its identity for the cooldown.
    Keyword { keywords: Vec<String> },
}

/// Why an automatic reply that was due was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AutoReplySkip {
    /// The channel's 24-hour reply window had closed (a delayed greeting) and free text is refused.
    WindowClosed,
}

/// What happened. Changes carry their before and after values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        origin: Origin,
    },
    Message {
        class: MessageClass,
        message_id: Uuid,
        /// For `class: auto_reply`: which automatic reply it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto_reply: Option<AutoReplyRef>,
    },
    /// An automatic reply was due but not sent, and why (no message was written).
    AutoReplyNotSent {
        auto_reply: AutoReplyRef,
        why: AutoReplySkip,
    },
    Status {
        from: ConversationStatus,
        to: ConversationStatus,
        snoozed_until: Option<Millis>,
    },
    /// The assignee changed; `reason` says why (`claim`, `assign`, `unassign`, `deactivated`, …).
    Assigned {
        from: Option<Uuid>,
        to: Option<Uuid>,
        reason: String,
        /// For routing's assignments: every agent it considered, and why each was passed over.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        candidates: Vec<RoutingCandidate>,
    },
    Team {
        from: Option<Uuid>,
        to: Option<Uuid>,
    },
    Priority {
        from: Priority,
        to: Priority,
    },
    Labels {
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// Escalated (`escalated: true`) or de-escalated; the actor says by whom.
    Escalation {
        escalated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The conversation moved to another contact: `from` was merged into `to`.
    Contact {
        from: Uuid,
        to: Uuid,
    },
    /// A resolved conversation opened again: the first event of the new cycle.
    Reopened,
    Resolved,
    /// A service-level clock moved: `what` is `started`, `warning`, `breached`, `met`,
    /// `breached_met`, `breached_closed`, `cancelled`, `retargeted`, `retimed` (the inbox's hours
    /// changed) or `escalated`.
    Sla {
        policy_id: Uuid,
        metric: crate::sla::SlaMetric,
        instance: u32,
        what: String,
        target_ms: Millis,
        /// Counted so far (business or wall milliseconds, as the policy says).
        elapsed_ms: Millis,
        /// For `cancelled`: why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<crate::sla::SlaCancelReason>,
        /// For `escalated`: the step that ran, as the policy had it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalation: Option<crate::sla::SlaEscalation>,
    },
}

impl EventKind {
    /// The kind's name as stored and filtered on.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::Message { .. } => "message",
            EventKind::AutoReplyNotSent { .. } => "auto_reply_not_sent",
            EventKind::Status { .. } => "status",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Team { .. } => "team",
            EventKind::Priority { .. } => "priority",
            EventKind::Labels { .. } => "labels",
            EventKind::Escalation { .. } => "escalation",
            EventKind::Contact { .. } => "contact",
            EventKind::Reopened => "reopened",
            EventKind::Resolved => "resolved",
            EventKind::Sla { .. } => "sla",
        }
    }
}

/// One entry of a conversation's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationEvent {
    /// Time-ordered (UUIDv7): a conversation's events sort by id in the order they were written.
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// The cycle the event belongs to, from 1.
    pub cycle: u32,
    /// When it happened (for a timer, when it was due, even if the server was down then).
    pub at: Millis,
    /// The feed seq of the transaction's change the event accompanies.
    pub seq: i64,
    pub actor: Actor,
    #[serde(flatten)]
    pub event: EventKind,
}

/// Whether moving from `from` to `to` reopens a resolved conversation (a new cycle).
pub fn reopens_cycle(from: ConversationStatus, to: ConversationStatus) -> bool {
    from == ConversationStatus::Resolved && to != ConversationStatus::Resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_flat_json_with_their_kind() {
        let event = ConversationEvent {
            id: Uuid::nil(),
            conversation_id: Uuid::nil(),
            cycle: 2,
            at: 5,
            seq: 9,
            actor: Actor::System { reason: "snooze".into() },
            event: EventKind::Status {
                from: ConversationStatus::Snoozed,
                to: ConversationStatus::Open,
                snoozed_until: None,
            },
        };
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["kind"], "status");
        assert_eq!(json["from"], "snoozed");
        assert_eq!(json["actor"]["type"], "system");
        let back: ConversationEvent = serde_json::from_value(json).expect("parses");
        assert_eq!(back, event);
    }

    #[test]
    fn an_auto_reply_says_which_one_and_a_plain_message_says_nothing() {
        let event = |auto_reply| EventKind::Message {
            class: MessageClass::AutoReply,
            message_id: Uuid::nil(),
            auto_reply,
        };
        let keyword = event(Some(AutoReplyRef::Keyword { keywords: vec!["price".into()] }));
        let json = serde_json::to_value(&keyword).expect("serializes");
        assert_eq!(json["class"], "auto_reply");
        assert_eq!(json["auto_reply"], serde_json::json!({"type": "keyword", "keywords": ["price"]}));
        assert_eq!(serde_json::from_value::<EventKind>(json).expect("parses"), keyword);
        let human = serde_json::json!({"kind": "message", "class": "human", "message_id": Uuid::nil()});
        let parsed: EventKind = serde_json::from_value(human.clone()).expect("old events parse");
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), human, "no auto_reply key");
    }

    #[test]
    fn only_leaving_resolved_starts_a_cycle() {
        use ConversationStatus::*;
        assert!(reopens_cycle(Resolved, Open));
        assert!(reopens_cycle(Resolved, Snoozed));
        assert!(!reopens_cycle(Open, Resolved));
        assert!(!reopens_cycle(Pending, Open));
    }
}
