//! Escalated: a state of its own beside status, assignee and priority. A person, an automation
//! rule or an SLA escalation step sets it and clears it; resolving a conversation clears it (an
//! escalation belongs to the cycle it was raised in). Both sides apply [`apply_escalation`], so
//! the desktop's optimistic row equals the server's.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Conversation, ConversationStatus, Millis};

/// The longest escalation note, in characters.
pub const MAX_ESCALATION_NOTE_CHARS: usize = 500;

/// Who escalated a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EscalatedBy {
    Agent {
        id: Uuid,
    },
    /// An automation rule's `escalate` action.
    Rule {
        id: Uuid,
    },
    /// A service-level policy's escalation step.
    Sla,
}

impl EscalatedBy {
    /// Who an event's actor escalates as: `None` for actors that never escalate (a contact,
    /// routing); a system actor is the SLA's escalation step.
    pub fn of(actor: &crate::ledger::Actor) -> Option<Self> {
        use crate::ledger::Actor;
        match actor {
            Actor::Agent { id } => Some(EscalatedBy::Agent { id: *id }),
            Actor::Rule { id, .. } => Some(EscalatedBy::Rule { id: *id }),
            Actor::System { .. } => Some(EscalatedBy::Sla),
            Actor::Contact { .. } | Actor::Routing => None,
        }
    }
}

/// A conversation's escalation: since when, by whom, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Escalation {
    pub at: Millis,
    pub by: EscalatedBy,
    /// What the person (or the rule's name, or the policy's) gave as the reason.
    #[serde(default)]
    pub note: Option<String>,
}

/// Escalates (`Some`) or de-escalates (`None`) a conversation. Escalating one already escalated
/// keeps the first escalation (its time and author); returns whether anything changed. A
/// resolved conversation is never escalated.
pub fn apply_escalation(conversation: &mut Conversation, escalation: Option<Escalation>) -> bool {
    match escalation {
        Some(_) if conversation.escalation.is_some() => false,
        Some(_) if conversation.status == ConversationStatus::Resolved => false,
        Some(escalation) => {
            conversation.escalation = Some(escalation);
            true
        }
        None => conversation.escalation.take().is_some(),
    }
}

/// A note as kept: trimmed, blank is none. `Err` when it is longer than
/// [`MAX_ESCALATION_NOTE_CHARS`].
pub fn escalation_note(note: Option<&str>) -> Result<Option<String>, String> {
    let Some(note) = note.map(str::trim).filter(|note| !note.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > MAX_ESCALATION_NOTE_CHARS {
        return Err(format!("an escalation note is at most {MAX_ESCALATION_NOTE_CHARS} characters"));
    }
    Ok(Some(note.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{apply_status, new_conversation};

    fn by_agent() -> Escalation {
        Escalation { at: 5, by: EscalatedBy::Agent { id: Uuid::nil() }, note: Some("VIP".into()) }
    }

    #[test]
    fn escalating_twice_keeps_the_first_and_clearing_twice_changes_once() {
        let mut c = new_conversation(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), 0);
        assert!(apply_escalation(&mut c, Some(by_agent())));
        let later = Escalation { at: 9, by: EscalatedBy::Sla, note: None };
        assert!(!apply_escalation(&mut c, Some(later)), "already escalated");
        assert_eq!(c.escalation, Some(by_agent()));
        assert!(apply_escalation(&mut c, None));
        assert!(!apply_escalation(&mut c, None), "already clear");
    }

    #[test]
    fn resolving_clears_it_and_a_resolved_conversation_is_not_escalated() {
        let mut c = new_conversation(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), 0);
        apply_escalation(&mut c, Some(by_agent()));
        apply_status(&mut c, ConversationStatus::Resolved, None);
        assert_eq!(c.escalation, None, "the escalation ends with its cycle");
        assert!(!apply_escalation(&mut c, Some(by_agent())));
        assert_eq!(c.escalation, None);
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(escalation_note(Some("  ")), Ok(None));
        assert_eq!(escalation_note(Some(" angry VIP ")), Ok(Some("angry VIP".into())));
        assert!(escalation_note(Some(&"x".repeat(501))).is_err());
    }
}
