//! Reports: the figures a lead answers for, derived from the conversation ledger so they can be
//! rebuilt identically. The server derives one *fact* per measured thing (a first response, a
//! resolution, a message in) from each conversation's events; a report aggregates the facts of a
//! period. These are the shapes on the wire; `switchboard-server`'s `workspace/reports.rs` holds
//! the definitions.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ledger::Origin, Channel, Millis, Priority};

/// What a fact measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// A cycle started (by the customer or an agent): at its start.
    CycleStarted,
    /// A resolved conversation was opened again: at the reopening.
    Reopened,
    /// A customer's message: at its arrival.
    MessageIn,
    /// A person's public reply: at its sending, by the replier.
    MessageOut,
    /// From the message that started a customer's cycle to the first person's reply, credited to
    /// the replier.
    FirstResponse,
    /// From the earliest unanswered customer message to the person's reply that answered it
    /// (instance 1, 2, … within the cycle), credited to the replier.
    Response,
    /// From the cycle's start to its resolution, credited to the assignee at resolution.
    Resolution,
    /// From an assignment made while the customer waits to that assignee's first person's reply
    /// (an assignment given up before it gets none), credited to the assignee.
    AssignmentToFirstReply,
    /// An SLA clock's outcome, one per clock (its metric and instance) at the moment it is
    /// decided: met when the reply or resolution came in time, breached at its due (or when it
    /// ends past due, if no breach was recorded first). From the clock's start, credited to the
    /// assignee at that moment. A cancelled clock has none.
    SlaFirstResponseMet,
    SlaFirstResponseBreached,
    SlaNextResponseMet,
    SlaNextResponseBreached,
    SlaResolutionMet,
    SlaResolutionBreached,
}

/// One measured thing. A duration fact belongs to the period holding its end (`at`), a count
/// to the one holding its moment (`at` too: for counts start and end are the same).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportFact {
    pub kind: FactKind,
    pub conversation_id: Uuid,
    pub cycle: u32,
    /// For `response`: its number within the cycle, from 1.
    pub instance: u32,
    pub inbox_id: Uuid,
    pub channel: Channel,
    /// The team, labels and priority the conversation had when the fact ended.
    pub team_id: Option<Uuid>,
    pub labels: Vec<String>,
    pub priority: Priority,
    /// Who it is credited to: the replier for replies and responses, the assignee for the rest.
    pub agent_id: Option<Uuid>,
    pub origin: Origin,
    pub start_at: Millis,
    pub at: Millis,
    pub wall_ms: Millis,
    /// Within the inbox's business hours (the calendar version in force at each instant); equal
    /// to `wall_ms` for an inbox without hours. A message answered within one closed stretch
    /// counts 0.
    pub business_ms: Millis,
    /// For `resolution`: the time the conversation was actually open (not pending or snoozed).
    pub open_ms: Millis,
}

/// How a report splits its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    None,
    Agent,
    Team,
    Inbox,
    Label,
    Channel,
}

/// The distribution of one duration, in whole seconds (rounded down). Percentiles are
/// nearest-rank: the median is the ⌈n/2⌉-th of the sorted values, p90 the ⌈0.9·n⌉-th.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Distribution {
    pub mean: i64,
    pub median: i64,
    pub p90: i64,
    pub min: i64,
    pub max: i64,
}

/// A duration metric: how many, and their spread in wall and in business time (`null` when
/// there are none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Durations {
    pub count: u64,
    pub wall: Option<Distribution>,
    pub business: Option<Distribution>,
}

/// One SLA target's outcomes: clocks met in time, clocks breached, and the share within target
/// (met of met and breached, in thousandths rounded down; `null` with neither). The target is the
/// one the conversation's SLA policy set, counted as the policy counts (business or wall time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaOutcomes {
    pub met: u64,
    pub breached: u64,
    pub within_target_permille: Option<u64>,
}

impl SlaOutcomes {
    /// The outcomes with their share within target.
    pub fn of(met: u64, breached: u64) -> SlaOutcomes {
        let decided = met + breached;
        SlaOutcomes { met, breached, within_target_permille: (decided > 0).then(|| met * 1000 / decided) }
    }
}

/// Every figure of one group in one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Metrics {
    pub cycles_started: u64,
    pub cycles_started_by_customers: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    /// Resolutions (a conversation resolved twice counts twice) …
    pub resolutions: u64,
    /// … and the conversations they resolved, each once.
    pub conversations_resolved: u64,
    pub reopened: u64,
    pub first_response: Durations,
    pub response: Durations,
    pub resolution: Durations,
    /// The time resolved cycles were actually open.
    pub resolution_open: Durations,
    /// From an assignment while the customer waited to that assignee's first reply.
    #[serde(default)]
    pub assignment_to_first_reply: Durations,
    /// SLA outcomes per target (facts dated at the outcome) and the share within target.
    #[serde(default)]
    pub sla_first_response: SlaOutcomes,
    #[serde(default)]
    pub sla_next_response: SlaOutcomes,
    #[serde(default)]
    pub sla_resolution: SlaOutcomes,
}

/// One row of a report: a group (`key` is its id or name; `null` for "none": unassigned, no
/// team, the whole report) and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportRow {
    pub key: Option<String>,
    /// What a person reads: the agent's, team's or inbox's name, the label, the channel.
    pub name: String,
    pub metrics: Metrics,
}

/// `GET /api/v1/reports/summary`: the period's figures per group, and the same-length period
/// before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportSummary {
    pub from: Millis,
    pub to: Millis,
    pub time_zone: String,
    pub group_by: GroupBy,
    pub rows: Vec<ReportRow>,
    pub previous: Vec<ReportRow>,
    /// For an agent grouped by agent, who is given no one else's row: every conversation they may
    /// see counted together, no agent named (their team's totals to measure their own against);
    /// absent for everyone else, whose rows already add up to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub team_totals: Option<TeamTotals>,
}

/// The figures of every conversation an agent may see, now and in the period before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamTotals {
    pub now: Metrics,
    pub previous: Metrics,
}

/// The length of a time series' buckets, in the report's zone: a DST day has 23 or 25 hourly
/// buckets; weeks are ISO weeks (Monday first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Hour,
    #[default]
    Day,
    Week,
    Month,
}

/// One bucket of a series: `[start, end)`, and its local start as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Bucket {
    pub start: Millis,
    pub end: Millis,
    pub label: String,
}

/// A group's figures in every bucket (zeros included), in bucket order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SeriesRow {
    pub key: Option<String>,
    pub name: String,
    pub points: Vec<Metrics>,
}

/// `GET /api/v1/reports/timeseries`: the period's figures per bucket and group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportSeries {
    pub from: Millis,
    pub to: Millis,
    pub time_zone: String,
    pub interval: Interval,
    pub group_by: GroupBy,
    pub buckets: Vec<Bucket>,
    pub rows: Vec<SeriesRow>,
}

/// Which cycles `GET /api/v1/reports/conversations` lists: those that started in the period (the
/// full export), or those behind one of a series' counts there (a chart's bar, drilled into): a
/// customer's message, a first response or a resolution in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CycleMetric {
    #[default]
    Started,
    MessagesIn,
    FirstResponse,
    Resolution,
}

/// One conversation cycle, for the full export (`GET /api/v1/reports/conversations`): the cycles
/// that started in the period, with what became of them so far. Durations in whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CycleRow {
    pub conversation_id: Uuid,
    pub cycle: u32,
    pub inbox: String,
    pub channel: Channel,
    pub contact_name: String,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub origin: Origin,
    /// The team and labels when the cycle was last measured.
    pub team: Option<String>,
    pub labels: Vec<String>,
    /// Who holds it at resolution (else who held it last).
    pub assignee: Option<String>,
    pub started_at: Millis,
    pub first_reply_at: Option<Millis>,
    pub first_response_secs: Option<i64>,
    pub first_response_business_secs: Option<i64>,
    pub resolved_at: Option<Millis>,
    pub resolution_secs: Option<i64>,
    pub resolution_business_secs: Option<i64>,
    pub resolution_open_secs: Option<i64>,
    pub replies: u64,
    /// Whether the cycle is a reopening (cycle 2 and later).
    pub reopened: bool,
    /// Who held it first in the cycle, and since when: the assignee it started with (at its
    /// start), else the first assignment within it.
    #[serde(default)]
    pub first_assignee: Option<String>,
    #[serde(default)]
    pub first_assigned_at: Option<Millis>,
    /// The cycle's assignment-to-first-reply measures (the summary's count) …
    #[serde(default)]
    pub assignments_answered: u64,
    /// … and the first of them, wall and business.
    #[serde(default)]
    pub assignment_to_first_reply_secs: Option<i64>,
    #[serde(default)]
    pub assignment_to_first_reply_business_secs: Option<i64>,
    /// The SLA policy its clocks ran under in the cycle (its name now, else as applied).
    #[serde(default)]
    pub sla_policy: Option<String>,
    /// Per target: the policy's target (seconds, business or wall as the policy counts), the
    /// outcome of the cycle's last clock of it, and how many of its clocks were met and breached
    /// (what the summary's SLA figures count; next response may have several clocks a cycle).
    #[serde(default)]
    pub sla_first_response_target_secs: Option<i64>,
    #[serde(default)]
    pub sla_first_response: Option<SlaOutcome>,
    #[serde(default)]
    pub sla_first_response_met: u64,
    #[serde(default)]
    pub sla_first_response_breached: u64,
    #[serde(default)]
    pub sla_next_response_target_secs: Option<i64>,
    #[serde(default)]
    pub sla_next_response: Option<SlaOutcome>,
    #[serde(default)]
    pub sla_next_response_met: u64,
    #[serde(default)]
    pub sla_next_response_breached: u64,
    #[serde(default)]
    pub sla_resolution_target_secs: Option<i64>,
    #[serde(default)]
    pub sla_resolution: Option<SlaOutcome>,
    #[serde(default)]
    pub sla_resolution_met: u64,
    #[serde(default)]
    pub sla_resolution_breached: u64,
}

/// What became of an SLA clock, as a cycle's export row says it: met in time, breached (answered
/// late or not at all), still running (or paused), or cancelled (neither: resolved without the
/// reply it waited for, the SLA removed or retargeted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    Met,
    Breached,
    Running,
    Cancelled,
}

impl SlaOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaOutcome::Met => "met",
            SlaOutcome::Breached => "breached",
            SlaOutcome::Running => "running",
            SlaOutcome::Cancelled => "cancelled",
        }
    }
}

/// `GET /api/v1/reports/live`: the desk right now, over the conversations the viewer sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LiveFigures {
    /// Status open.
    pub open: u64,
    /// Open, nobody holds it.
    pub unassigned: u64,
    /// Open and a customer waits for a person, or nobody has answered yet ([`is_unattended`]).
    pub unattended: u64,
    /// Open with a customer waiting longer than the asked threshold.
    pub waiting_longer: u64,
    /// The threshold, in seconds.
    pub waiting_longer_than_secs: u64,
    /// The longest a customer has been waiting now, in seconds.
    pub longest_wait_secs: u64,
    /// Pending and snoozed.
    pub parked: u64,
    /// Live SLA clocks falling due within the asked horizon (breached ones included).
    pub sla_at_risk: u64,
    pub sla_at_risk_within_secs: u64,
}

/// Whether a conversation is unattended: open, and a customer waits for a person or no person has
/// answered it yet. One predicate for the report's figure and any list that shows the same.
pub fn is_unattended(conversation: &crate::Conversation) -> bool {
    conversation.status == crate::ConversationStatus::Open
        && (conversation.waiting_since.is_some() || conversation.first_reply_at.is_none())
}

/// `POST /api/v1/reports/rebuild`: how many conversations' facts were derived again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportsRebuilt {
    pub conversations: u64,
}

/// The distribution of `values` (milliseconds), in whole seconds; `None` when empty.
pub fn distribution(values: &mut [Millis]) -> Option<Distribution> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let rank = |share: f64| values[((share * n as f64).ceil() as usize).clamp(1, n) - 1];
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    let secs = |ms: i128| (ms / 1000) as i64;
    Some(Distribution {
        mean: secs(sum / n as i128),
        median: secs(i128::from(rank(0.5))),
        p90: secs(i128::from(rank(0.9))),
        min: secs(i128::from(values[0])),
        max: secs(i128::from(values[n - 1])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k10_nearest_rank_statistics() {
        let minute = 60_000;
        let mut values = [1, 2, 3, 4, 100].map(|m| m * minute);
        let d = distribution(&mut values).expect("values");
        assert_eq!(
            (d.mean, d.median, d.p90, d.min, d.max),
            (22 * 60, 3 * 60, 100 * 60, 60, 100 * 60),
            "mean 22 min, median 3, p90 100 (nearest rank), min 1, max 100"
        );
        assert_eq!(distribution(&mut []), None);
        let d = distribution(&mut [1_999, 10_000]).expect("values");
        assert_eq!((d.median, d.p90, d.min), (1, 10, 1), "whole seconds, rounded down");
    }
}
