//! Filters that combine and saved views.
//!
//! A [`ConversationFilter`] is what the desktop's filter bar builds: every criterion given must
//! hold (inbox AND labels AND assignee AND team AND priority AND status AND channel AND SLA state
//! AND waiting longer than); within one criterion any listed value will do. It is evaluated on the
//! client's cache (`crates/core/src/cache/views.rs`), never on the server: the server only stores
//! [`SavedView`]s, a name and a filter, personal (`owner_id`) or team-wide (`team_id`), and sends
//! each to its audience through the feed.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Channel, ConversationStatus, Millis, Priority};

/// Longest name of a saved view, in characters.
pub const VIEW_NAME_MAX: usize = 60;
/// Most values one criterion of a filter may list.
pub const FILTER_VALUES_MAX: usize = 50;
/// How soon an SLA clock falls due for its conversation to count as at risk (30 minutes, the
/// workload screen's "breaching soon").
pub const SLA_AT_RISK_MS: Millis = 30 * 60 * 1000;

/// Who a conversation is assigned to, as a filter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum AssigneeFilter {
    /// Nobody holds it.
    Unassigned,
    /// Whoever reads the view (so a team view "mine" is each member's own).
    Me,
    Agent(Uuid),
}

/// Where a conversation's SLA stands, from its next live clock's due time (what the cache keeps
/// in an indexed column): a filter never reads the clocks' JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaFilter {
    /// A live clock is past its due time (breached, or overdue not yet confirmed).
    Overdue,
    /// A live clock falls due within [`SLA_AT_RISK_MS`].
    AtRisk,
    /// A live clock runs and is due later than that.
    OnTrack,
    /// No live clock with a due time (no SLA, every clock ended, or paused).
    None,
}

/// A combined filter: every criterion that is set must hold; an empty list means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ConversationFilter {
    #[serde(default)]
    pub inbox_ids: Vec<Uuid>,
    /// Label names as conversations carry them (the label's own name).
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub assignees: Vec<AssigneeFilter>,
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
    #[serde(default)]
    pub priorities: Vec<Priority>,
    #[serde(default)]
    pub statuses: Vec<ConversationStatus>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub sla: Vec<SlaFilter>,
    /// The customer has waited for a reply at least this long (seconds).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub waiting_longer_than_secs: Option<u64>,
}

impl ConversationFilter {
    /// Whether nothing is set (every conversation matches).
    pub fn is_empty(&self) -> bool {
        *self == ConversationFilter::default()
    }

    /// The filter's problem, if any: too many values in a criterion, an empty label name, a
    /// zero or absurd wait. Values are kept as given (duplicates are harmless).
    pub fn check(&self) -> Result<(), String> {
        let lengths = [
            ("inbox_ids", self.inbox_ids.len()),
            ("labels", self.labels.len()),
            ("assignees", self.assignees.len()),
            ("team_ids", self.team_ids.len()),
            ("priorities", self.priorities.len()),
            ("statuses", self.statuses.len()),
            ("channels", self.channels.len()),
            ("sla", self.sla.len()),
        ];
        if let Some((field, _)) = lengths.iter().find(|(_, length)| *length > FILTER_VALUES_MAX) {
            return Err(format!("filter.{field}: at most {FILTER_VALUES_MAX} values"));
        }
        if self.labels.iter().any(|label| label.trim().is_empty()) {
            return Err("filter.labels: a label name is empty".into());
        }
        match self.waiting_longer_than_secs {
            Some(0) => Err("filter.waiting_longer_than_secs: must be at least 1".into()),
            Some(secs) if secs > 366 * 24 * 3600 => {
                Err("filter.waiting_longer_than_secs: at most a year".into())
            }
            _ => Ok(()),
        }
    }
}

/// A named filter in the sidebar: personal (only `owner_id` receives it) or team-wide (the
/// members of `team_id` receive it). Exactly one of the two is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SavedView {
    pub id: Uuid,
    pub name: String,
    pub filter: ConversationFilter,
    /// Personal to this agent.
    pub owner_id: Option<Uuid>,
    /// Team-wide: every member of this team sees it.
    pub team_id: Option<Uuid>,
    /// Who made it.
    pub created_by: Uuid,
    pub created_at: Millis,
}

/// `POST /api/v1/saved-views`: personal (no `team_id`) for anyone; team-wide for a lead of that
/// team or an admin. `client_id` becomes the view's id, so a view made offline is the same entity
/// once the server has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSavedView {
    pub client_id: Uuid,
    pub name: String,
    pub filter: ConversationFilter,
    #[serde(default)]
    pub team_id: Option<Uuid>,
}

/// `PATCH /api/v1/saved-views/{id}`: a new name and/or filter (personal: its owner; team-wide: a
/// lead of the team or an admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSavedView {
    pub client_id: Uuid,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub filter: Option<ConversationFilter>,
}

/// `DELETE /api/v1/saved-views/{id}?client_id=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct DeleteSavedView {
    pub client_id: Uuid,
}

/// The answer of a saved view's creation, edit or deletion: the view as stored (`None` once
/// deleted) and the feed seq the change committed at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedViewResult {
    pub view: Option<SavedView>,
    pub seq: i64,
}

/// A saved view's name as kept: trimmed, 1–[`VIEW_NAME_MAX`] characters, no control characters.
pub fn view_name(name: &str) -> Result<String, String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err("name: must not be empty".into());
    }
    if trimmed.chars().count() > VIEW_NAME_MAX {
        return Err(format!("name: at most {VIEW_NAME_MAX} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("name: no control characters or line breaks".into());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_from_json_leaves_unset_criteria_empty_and_refuses_unknown_fields() {
        let filter: ConversationFilter =
            serde_json::from_str(r#"{"labels": ["New Lead"], "assignees": [{"type": "unassigned"}]}"#)
                .expect("parses");
        assert_eq!(filter.labels, vec!["New Lead".to_owned()]);
        assert_eq!(filter.assignees, vec![AssigneeFilter::Unassigned]);
        assert!(filter.inbox_ids.is_empty() && filter.waiting_longer_than_secs.is_none());
        assert!(serde_json::from_str::<ConversationFilter>(r#"{"lables": []}"#).is_err(), "a misspelt field");
    }

    #[test]
    fn filter_checks_name_the_field_at_fault() {
        assert!(ConversationFilter::default().check().is_ok());
        let blank = ConversationFilter { labels: vec![" ".into()], ..Default::default() };
        assert!(blank.check().expect_err("blank label").starts_with("filter.labels"));
        let zero = ConversationFilter { waiting_longer_than_secs: Some(0), ..Default::default() };
        assert!(zero.check().expect_err("zero wait").starts_with("filter.waiting_longer_than_secs"));
        let many = ConversationFilter { inbox_ids: vec![Uuid::nil(); 51], ..Default::default() };
        assert!(many.check().expect_err("too many").starts_with("filter.inbox_ids"));
    }

    #[test]
    fn view_names_are_trimmed_kept_in_any_script_and_bounded() {
        assert_eq!(view_name("  پشتیبانی باز ").as_deref(), Ok("پشتیبانی باز"));
        assert_eq!(view_name("VIP unassigned").as_deref(), Ok("VIP unassigned"));
        assert!(view_name("   ").is_err());
        assert!(view_name("a\nb").is_err());
        assert!(view_name(&"x".repeat(61)).is_err());
    }
}
