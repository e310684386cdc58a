//! Automation rules: a lead's "when this happens, if these hold, do that", and the log of what
//! each rule did. The server evaluates them (`switchboard-server`'s `workspace/automation.rs`);
//! these are the shapes on the wire and in the feed, plus the condition tree's pure evaluation,
//! so a dry run and the real run can't disagree.
//!
//! A rule's conditions are a tree with explicit grouping — `{"all":[…]}`, `{"any":[…]}`,
//! `{"not":…}` around leaves such as `{"status":["open"]}` — so "A and (B or C)" means exactly
//! that (Chatwoot's flat left-to-right list can't say it; fazer-ai/chatwoot#468).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ledger::Origin, Channel, ConversationStatus, Millis, Priority};

/// Deepest nesting of `all`/`any`/`not` a rule may have.
pub const MAX_CONDITION_DEPTH: usize = 4;
/// Most leaves a rule's conditions may have.
pub const MAX_CONDITION_LEAVES: usize = 50;
/// How many times rules may answer rules' own changes within one transaction before the loop
/// guard stops them.
pub const MAX_RULE_DEPTH: u32 = 3;
/// How long a rule's run log is kept.
pub const RUN_RETENTION_MS: Millis = 30 * 24 * 3_600_000;
/// A time-triggered run that fell due more than this long ago (the server was down) is skipped
/// as expired rather than acting on a stale situation.
pub const MAX_LATENESS_MS: Millis = 24 * 3_600_000;

/// A change to a conversation a rule can answer. A transaction's changes to one conversation
/// are one evaluation: a rule listening to several of them runs once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TriggerEvent {
    ConversationCreated,
    /// A customer's message (never a note, an activity line, an automatic or a rule's reply).
    MessageReceived,
    /// A person's public reply.
    MessageSent,
    StatusChanged,
    Assigned,
    TeamChanged,
    PriorityChanged,
    LabelsChanged,
    Reopened,
    Resolved,
    SlaWarning,
    SlaBreached,
}

/// When a rule is considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// Any of these changes.
    Event { events: Vec<TriggerEvent> },
    /// The customer has waited this long for a person's reply (anchored at `waiting_since`; a
    /// reply ends the wait and cancels the run).
    CustomerWaiting {
        after_secs: u32,
        /// Count only the inbox's business hours.
        #[serde(default)]
        business_hours: bool,
    },
    /// The conversation has stayed in `status` this long (anchored at the change into it).
    StatusHeld {
        status: ConversationStatus,
        after_secs: u32,
        #[serde(default)]
        business_hours: bool,
    },
}

impl Trigger {
    pub fn is_timed(&self) -> bool {
        !matches!(self, Trigger::Event { .. })
    }
}

/// A contact's field a condition can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ContactField {
    Name,
    Phone,
    Email,
}

/// A node of a rule's condition tree. Leaves with a list hold when the conversation's value is
/// any of the list's (an empty list never holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", schema(no_recursion))]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Every child holds (an empty `all` always holds: a rule without conditions).
    All(Vec<Condition>),
    /// At least one child holds.
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Status(Vec<ConversationStatus>),
    Inbox(Vec<Uuid>),
    Channel(Vec<Channel>),
    Team(Vec<Uuid>),
    Assignee(Vec<Uuid>),
    /// Whether anyone holds the conversation.
    Assigned(bool),
    Priority(Vec<Priority>),
    /// The conversation has at least one of these labels.
    LabelsAny(Vec<String>),
    /// The conversation has all of these labels.
    LabelsAll(Vec<String>),
    /// Who started the conversation.
    Origin(Origin),
    /// The customer's message (the triggering one, else their latest) contains one of these
    /// words or phrases as whole words, compared after `text::normalize` (case, Persian and
    /// Arabic letter forms and digits, diacritics).
    TextContains(Vec<String>),
    /// A contact's field contains this text (normalised alike; phone numbers by their digits).
    Contact {
        field: ContactField,
        contains: String,
    },
    /// The inbox is open (`true`) or closed (`false`) at the triggering change's commit time;
    /// an inbox without hours is always open.
    WithinBusinessHours(bool),
}

impl Default for Condition {
    fn default() -> Self {
        Condition::All(vec![])
    }
}

impl Condition {
    /// How deep the `all`/`any`/`not` nesting goes (a leaf is 0).
    pub fn depth(&self) -> usize {
        match self {
            Condition::All(children) | Condition::Any(children) => {
                1 + children.iter().map(Condition::depth).max().unwrap_or(0)
            }
            Condition::Not(child) => 1 + child.depth(),
            _ => 0,
        }
    }

    /// How many leaves the tree has.
    pub fn leaves(&self) -> usize {
        match self {
            Condition::All(children) | Condition::Any(children) => {
                children.iter().map(Condition::leaves).sum()
            }
            Condition::Not(child) => child.leaves(),
            _ => 1,
        }
    }

    /// Evaluates the tree, asking `leaf` for each leaf, and records every node's result in
    /// `trace` under its path (`all[1].any[0]`). Every leaf is evaluated (no short cut), so a
    /// dry run's trace shows why each part held or not.
    pub fn evaluate(&self, leaf: &mut dyn FnMut(&Condition) -> bool, trace: &mut Vec<TraceStep>) -> bool {
        self.evaluate_at(String::new(), leaf, trace)
    }

    fn evaluate_at(
        &self,
        path: String,
        leaf: &mut dyn FnMut(&Condition) -> bool,
        trace: &mut Vec<TraceStep>,
    ) -> bool {
        let child_path = |name: &str, index: Option<usize>| {
            let step = match index {
                Some(index) => format!("{name}[{index}]"),
                None => name.to_owned(),
            };
            if path.is_empty() {
                step
            } else {
                format!("{path}.{step}")
            }
        };
        let result = match self {
            Condition::All(children) => {
                let results: Vec<bool> = children
                    .iter()
                    .enumerate()
                    .map(|(i, child)| child.evaluate_at(child_path("all", Some(i)), leaf, trace))
                    .collect();
                results.iter().all(|r| *r)
            }
            Condition::Any(children) => {
                let results: Vec<bool> = children
                    .iter()
                    .enumerate()
                    .map(|(i, child)| child.evaluate_at(child_path("any", Some(i)), leaf, trace))
                    .collect();
                results.iter().any(|r| *r)
            }
            Condition::Not(child) => !child.evaluate_at(child_path("not", None), leaf, trace),
            _ => leaf(self),
        };
        trace.push(TraceStep { path: if path.is_empty() { "$".into() } else { path }, result });
        result
    }
}

/// What a rule does, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Assign to this agent (as a lead would by hand: capacity is routing's business).
    AssignAgent {
        agent_id: Uuid,
    },
    /// Unassign and let routing hand it to an eligible agent (or queue it).
    Route,
    Unassign,
    /// Move it to a team (`null`: no team).
    SetTeam {
        team_id: Option<Uuid>,
    },
    AddLabels {
        labels: Vec<String>,
    },
    RemoveLabels {
        labels: Vec<String>,
    },
    SetPriority {
        priority: Priority,
    },
    /// Mark the conversation escalated (by this rule); nothing when it already is.
    Escalate,
    /// Clear the conversation's escalation, whoever raised it.
    Deescalate,
    /// Set the status; `snoozed` needs `snooze_secs`.
    SetStatus {
        status: ConversationStatus,
        #[serde(default)]
        snooze_secs: Option<u32>,
    },
    /// Reply to the customer. Not a person's response: it meets no SLA clock and ends no wait.
    /// Skipped (and logged) when the channel's reply window has closed.
    SendReply {
        body: String,
    },
    /// An internal note; `@handles` in it notify those agents like a colleague's mention.
    AddNote {
        body: String,
    },
    /// POST the conversation to this URL ([`RuleWebhook`]), signed with the inbox's secret like
    /// its other webhooks, retried with backoff, made exactly once (the `Idempotency-Key` header
    /// names the rule version, change and action).
    Webhook {
        url: String,
    },
    /// Pin a service-level policy (`null`: no SLA, cancelling the running clocks), as a lead
    /// would: later changes no longer move the conversation to another policy.
    ApplySla {
        policy_id: Option<Uuid>,
    },
}

/// How often a rule may act on one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunLimit {
    #[default]
    EveryTime,
    OncePerConversation,
    /// Once per cycle: again after the conversation is reopened.
    OncePerCycle,
    /// Not again within this many seconds of its last run on the conversation.
    Cooldown {
        secs: u32,
    },
}

/// A lead's automation rule. Rules run in `position` order; each sees the conversation as the
/// rules before it left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AutomationRule {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub position: u32,
    /// Bumped by every edit; each run records the version it ran.
    pub version: u32,
    pub trigger: Trigger,
    pub conditions: Condition,
    pub actions: Vec<Action>,
    /// When this rule runs, later rules don't run for the same change.
    pub stop_processing: bool,
    pub run_limit: RunLimit,
    /// Whether changes made by other rules can trigger this one (off by default: a rule answers
    /// people, customers and timers, so two rules can't ping-pong).
    pub allow_rule_origin: bool,
    /// Set when something the rule names (an agent, team, label, inbox) no longer exists; the
    /// rule keeps running with that action skipped, and says so here until a lead edits it.
    pub needs_attention: Option<String>,
    pub updated_at: Millis,
}

/// `POST /api/v1/automation-rules` and `PUT /api/v1/automation-rules/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AutomationRuleInput {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where it runs among the rules (lower first); default: after the others.
    #[serde(default)]
    pub position: Option<u32>,
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Condition,
    pub actions: Vec<Action>,
    #[serde(default)]
    pub stop_processing: bool,
    #[serde(default)]
    pub run_limit: RunLimit,
    #[serde(default)]
    pub allow_rule_origin: bool,
}

fn yes() -> bool {
    true
}

/// One node's result in a condition trace: `$` is the root, `all[1].any[0]` a path into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TraceStep {
    pub path: String,
    pub result: bool,
}

/// What became of one of a run's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Done (or would be, in a dry run).
    Ok,
    /// Nothing to do (already so), or not possible now; `reason` says which.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionOutcome {
    pub action: Action,
    pub status: ActionStatus,
    /// Why it was skipped: `unchanged`, `window_closed`, `reference_missing`, …
    pub reason: Option<String>,
}

/// How a rule's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The conditions held and the actions ran.
    Done,
    /// A timed run whose situation ended before it fell due (`episode_ended`).
    Cancelled,
    /// A timed run that fell due but did not act: `conditions_changed`, `expired`,
    /// `rule_disabled`, `run_limit`.
    Skipped,
    /// Rules answering rules went deeper than [`MAX_RULE_DEPTH`]: stopped.
    LoopGuard,
}

/// One entry of a rule's run log (kept [`RUN_RETENTION_MS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AutomationRun {
    /// Time-ordered (UUIDv7).
    pub id: Uuid,
    pub rule_id: Uuid,
    pub rule_version: u32,
    pub conversation_id: Uuid,
    /// The ledger event that triggered it (none for a timed run).
    pub event_id: Option<Uuid>,
    pub cycle: u32,
    pub at: Millis,
    pub status: RunStatus,
    pub reason: Option<String>,
    pub trace: Vec<TraceStep>,
    pub actions: Vec<ActionOutcome>,
}

/// What a rule's webhook action POSTs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleWebhook {
    /// Always `automation.rule`.
    pub event: String,
    /// The same on every attempt of one call: a receiver drops a repeat it has seen.
    pub idempotency_key: String,
    pub rule_id: Uuid,
    pub rule_name: String,
    pub rule_version: u32,
    /// The conversation as the rule's actions left it.
    pub conversation: crate::Conversation,
    pub at: Millis,
}

/// `POST /api/v1/automation-rules/{id}/test`: what the rule would do to a conversation now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    pub conversation_id: Uuid,
}

/// A dry run's answer: the condition trace and the actions that would run. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RuleTestResult {
    pub matched: bool,
    pub trace: Vec<TraceStep>,
    pub actions: Vec<ActionOutcome>,
}

/// `POST /api/v1/automation-rules/preview`: which of the latest conversations a rule, saved or
/// not, would match now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RulePreview {
    pub conditions: Condition,
    /// How many of the latest conversations to try (default 100, at most 1,000).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RulePreviewResult {
    /// How many conversations were tried.
    pub tried: u32,
    /// The ones the conditions hold for, newest first.
    pub matched: Vec<Uuid>,
}

/// `PUT /api/v1/automation-rules/order`: every rule's id, in the order they should run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RuleOrder {
    pub ids: Vec<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Condition {
        serde_json::from_value(json).expect("a condition")
    }

    #[test]
    fn conditions_nest_with_explicit_grouping_and_trace_every_node() {
        let tree = parse(serde_json::json!(
            {"all": [{"status": ["open"]}, {"any": [{"labels_any": ["vip"]}, {"priority": ["urgent"]}]}]}
        ));
        assert_eq!(tree.depth(), 2);
        assert_eq!(tree.leaves(), 3);
        // All eight truth combinations of (open, vip, urgent).
        for bits in 0..8u8 {
            let (open, vip, urgent) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            let mut trace = vec![];
            let result = tree.evaluate(
                &mut |leaf| match leaf {
                    Condition::Status(_) => open,
                    Condition::LabelsAny(_) => vip,
                    Condition::Priority(_) => urgent,
                    other => panic!("unexpected leaf {other:?}"),
                },
                &mut trace,
            );
            assert_eq!(result, open && (vip || urgent), "open={open} vip={vip} urgent={urgent}");
            let paths: Vec<&str> = trace.iter().map(|s| s.path.as_str()).collect();
            assert_eq!(paths, ["all[0]", "all[1].any[0]", "all[1].any[1]", "all[1]", "$"]);
            assert_eq!(trace.last().map(|s| s.result), Some(result));
        }
    }

    #[test]
    fn not_inverts_and_an_empty_all_always_holds() {
        let tree = parse(serde_json::json!({"not": {"assigned": true}}));
        let mut trace = vec![];
        assert!(tree.evaluate(&mut |_| false, &mut trace));
        assert_eq!(trace[0].path, "not");
        assert!(Condition::default().evaluate(&mut |_| false, &mut vec![]));
        assert!(!parse(serde_json::json!({"any": []})).evaluate(&mut |_| true, &mut vec![]));
    }

    #[test]
    fn a_misspelt_leaf_is_an_error() {
        assert!(serde_json::from_value::<Condition>(serde_json::json!({"stauts": ["open"]})).is_err());
        let rule: AutomationRuleInput = serde_json::from_value(serde_json::json!({
            "name": "VIP", "trigger": {"type": "event", "events": ["message_received"]},
            "actions": [{"type": "add_labels", "labels": ["vip"]}]
        }))
        .expect("defaults fill the rest");
        assert!(rule.enabled);
        assert_eq!(rule.conditions, Condition::All(vec![]));
        assert_eq!(rule.run_limit, RunLimit::EveryTime);
    }
}
