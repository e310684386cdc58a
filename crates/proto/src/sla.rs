//! Service-level targets: the policies a lead sets, and the clocks each conversation carries for
//! its current cycle. The clocks travel inside the conversation (so the desktop shows countdowns
//! offline from `due_at`); only the server moves a clock to `breached`, and every transition is
//! also an event in the ledger, which keeps past cycles.
//!
//! The clock rules, exact where products are loose:
//! - first response: started by the customer message that starts a cycle (a new conversation
//!   from a customer, or a customer reopening it); met by the first reply a *person* sends. An
//!   agent-started cycle has none. Notes, activity and auto-replies never meet a clock.
//! - next response: after the first response, a customer message while none runs starts the next
//!   instance, anchored at that message; met by the next person's reply.
//! - resolution: started with the cycle; met when it is resolved; paused while pending or
//!   snoozed. Reply clocks never pause on status: the customer is still waiting.
//! - elapsed time is business time in the inbox's hours when the policy says so (wall time if the
//!   inbox has none), else wall time. Resolving ends the cycle: a running reply clock past its due
//!   is frozen `breached_closed`, one not yet due is `cancelled`; nothing counts on afterwards.
//!   Whatever else ends a live clock unmet (a lead pinning "no SLA", the policy deleted) ends it
//!   the same way, with the reason on the clock.
//! - escalations: each of the policy's steps runs once per clock, at its warning or breach plus
//!   a delay (wall time), while the clock is live; a clock met first never runs the rest.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    calendar::{self, BusinessHours},
    Millis, Priority,
};

/// What a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaMetric {
    FirstResponse,
    NextResponse,
    Resolution,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaClockStatus {
    Running,
    /// The resolution clock while pending or snoozed.
    Paused,
    Met,
    /// Past due and still running.
    Breached,
    /// Met after its due time.
    BreachedMet,
    /// Past due when the cycle ended unmet (resolved without the reply it waited for).
    BreachedClosed,
    /// Ended before its due without being met (resolved without a reply): counts as neither.
    Cancelled,
}

impl SlaClockStatus {
    pub fn is_live(self) -> bool {
        matches!(self, SlaClockStatus::Running | SlaClockStatus::Paused | SlaClockStatus::Breached)
    }
}

/// One clock of a conversation's current cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaClock {
    pub metric: SlaMetric,
    /// Which next-response clock of the cycle (1, 2, …); 1 for the others.
    pub instance: u32,
    /// The target, in business or wall milliseconds.
    pub target_ms: Millis,
    pub started_at: Millis,
    /// Counted up to `running_since` (or up to now, when not running).
    pub accumulated_ms: Millis,
    /// Since when it counts; `None` while paused or after it ended.
    pub running_since: Option<Millis>,
    /// When it falls due, while it runs.
    pub due_at: Option<Millis>,
    /// When its warning falls, while it runs and has not warned.
    pub warn_at: Option<Millis>,
    pub status: SlaClockStatus,
    pub warned: bool,
    /// When its warning fell (the warning steps count their delay from here).
    #[serde(default)]
    pub warned_at: Option<Millis>,
    pub breached_at: Option<Millis>,
    /// When it was met, closed or cancelled.
    pub ended_at: Option<Millis>,
    /// Why it was cancelled (`status: cancelled`).
    #[serde(default)]
    pub cancel_reason: Option<SlaCancelReason>,
    /// The policy's escalation steps that ran for this clock, once each.
    #[serde(default)]
    pub escalations: Vec<SlaEscalationRun>,
}

/// Why a clock ended before its due without being met: none of these counts as met or breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaCancelReason {
    /// The conversation was resolved without the reply the clock waited for.
    ResolvedWithoutReply,
    /// A lead pinned "no SLA".
    Removed,
    /// Its policy was deleted.
    PolicyDeleted,
    /// Another policy (or none) applies now, without a target for this metric.
    Retargeted,
}

/// One escalation step that ran for a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaEscalationRun {
    /// Its place in the policy's `escalations`.
    pub step: u32,
    /// When it was due (warning or breach plus its delay), even if the server was down then.
    pub at: Millis,
    /// Whom it told: the desktop of each rings.
    pub notify: Option<SlaNotify>,
}

/// The SLA a conversation is under in its current cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConversationSla {
    /// `None` only when a lead pinned "no SLA" (the clocks it had are cancelled).
    pub policy_id: Option<Uuid>,
    /// The policy's name when applied, so reports keep it after the policy is renamed or deleted.
    pub policy_name: String,
    /// A lead (or a rule) chose the policy: later changes never move the conversation to another,
    /// and the choice carries over to the cycles after a reopen.
    #[serde(default)]
    pub pinned: bool,
    pub cycle: u32,
    pub clocks: Vec<SlaClock>,
}

impl ConversationSla {
    /// The live clock falling due first: what a row's countdown shows.
    pub fn next_due(&self) -> Option<&SlaClock> {
        self.clocks
            .iter()
            .filter(|clock| clock.status.is_live() && clock.due_at.is_some())
            .min_by_key(|clock| clock.due_at)
    }
}

/// Which conversations a policy covers: every listed condition must hold (an empty list doesn't
/// restrict).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SlaConditions {
    #[serde(default)]
    pub inbox_ids: Vec<Uuid>,
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
    #[serde(default)]
    pub priorities: Vec<Priority>,
    /// At least one of these labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl SlaConditions {
    pub fn matches(&self, inbox: Uuid, team: Option<Uuid>, priority: Priority, labels: &[String]) -> bool {
        (self.inbox_ids.is_empty() || self.inbox_ids.contains(&inbox))
            && (self.team_ids.is_empty() || team.is_some_and(|team| self.team_ids.contains(&team)))
            && (self.priorities.is_empty() || self.priorities.contains(&priority))
            && (self.labels.is_empty()
                || labels.iter().any(|label| crate::labels::has_label(&self.labels, label)))
    }
}

/// A lead's service-level policy. Policies are tried in `position` order; the first enabled one
/// whose conditions hold applies, and a conversation moves to another when a change makes another
/// match first (its running clocks keep what they counted and take the new targets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaPolicy {
    pub id: Uuid,
    pub name: String,
    pub position: u32,
    pub enabled: bool,
    pub conditions: SlaConditions,
    pub first_response_secs: Option<u32>,
    pub next_response_secs: Option<u32>,
    pub resolution_secs: Option<u32>,
    /// Count only the inbox's business hours (wall time when the inbox has none).
    pub business_hours: bool,
    /// The warning falls at this share of the target (1–99).
    pub warn_at_percent: u8,
    /// What happens at a clock's warning or breach (each step once per clock).
    #[serde(default)]
    pub escalations: Vec<SlaEscalation>,
}

/// Which moment of a clock an escalation step counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaEscalationOn {
    Warning,
    Breach,
}

/// Whom an escalation step tells on their desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaNotify {
    /// The conversation's assignee (a line in the thread, which rings them).
    Assignee,
    /// The leads (and admins) of the conversation's team, or of the inbox's teams when it has
    /// none.
    TeamLeads,
}

/// One escalation step of a policy: at the warning or breach of a clock, plus `after_secs`, do
/// what it says (once per clock; not once the clock is met).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SlaEscalation {
    pub on: SlaEscalationOn,
    /// Wall-clock seconds after the warning or breach.
    #[serde(default)]
    pub after_secs: u32,
    #[serde(default)]
    pub notify: Option<SlaNotify>,
    /// Raise the conversation's priority to this (never lower it).
    #[serde(default)]
    pub raise_priority: Option<Priority>,
    /// Take the conversation from its assignee and hand it back to routing (the assignee is not
    /// offered it again at once).
    #[serde(default)]
    pub reassign: bool,
    /// Mark the conversation escalated (by the SLA), so it moves to the board's Escalated column.
    #[serde(default)]
    pub escalate: bool,
}

impl SlaEscalation {
    /// When this step falls due for `clock`, if it can (its moment came) and hasn't run.
    pub fn due_for(&self, step: u32, clock: &SlaClock) -> Option<Millis> {
        if !clock.status.is_live() || clock.escalations.iter().any(|run| run.step == step) {
            return None;
        }
        let base = match self.on {
            SlaEscalationOn::Warning => clock.warned_at,
            SlaEscalationOn::Breach => clock.breached_at,
        }?;
        Some(base.saturating_add(Millis::from(self.after_secs) * 1000))
    }
}

impl SlaPolicy {
    pub fn target_secs(&self, metric: SlaMetric) -> Option<u32> {
        match metric {
            SlaMetric::FirstResponse => self.first_response_secs,
            SlaMetric::NextResponse => self.next_response_secs,
            SlaMetric::Resolution => self.resolution_secs,
        }
    }
}

/// How time is counted for a clock: business hours, or the wall.
#[derive(Debug, Clone, Copy)]
pub enum Time<'a> {
    Wall,
    Business(&'a BusinessHours),
}

impl Time<'_> {
    /// Counted time in `[from, to)`.
    pub fn between(self, from: Millis, to: Millis) -> Millis {
        if to <= from {
            return 0;
        }
        match self {
            Time::Wall => to - from,
            Time::Business(hours) => calendar::business_ms_between(hours, from, to),
        }
    }

    /// The instant `ms` of counted time after `from` (`None`: the calendar never opens again).
    pub fn add(self, from: Millis, ms: Millis) -> Option<Millis> {
        match self {
            Time::Wall => Some(from.saturating_add(ms.max(0))),
            Time::Business(hours) => calendar::add_business_ms(hours, from, ms),
        }
    }
}

impl SlaClock {
    /// A clock starting at `at` with `target_ms`, running.
    pub fn start(
        metric: SlaMetric,
        instance: u32,
        target_ms: Millis,
        at: Millis,
        time: Time,
        warn_percent: u8,
    ) -> Self {
        let mut clock = SlaClock {
            metric,
            instance,
            target_ms,
            started_at: at,
            accumulated_ms: 0,
            running_since: Some(at),
            due_at: None,
            warn_at: None,
            status: SlaClockStatus::Running,
            warned: false,
            warned_at: None,
            breached_at: None,
            ended_at: None,
            cancel_reason: None,
            escalations: Vec::new(),
        };
        clock.schedule(time, warn_percent);
        clock
    }

    /// Counted time so far, as of `now`.
    pub fn elapsed(&self, time: Time, now: Millis) -> Millis {
        self.accumulated_ms + self.running_since.map_or(0, |since| time.between(since, now))
    }

    /// Recomputes `due_at` and `warn_at` from what is counted (after a start, resume, new target or
    /// calendar edit); nothing while not counting.
    pub fn schedule(&mut self, time: Time, warn_percent: u8) {
        let Some(since) = self.running_since else {
            self.due_at = None;
            self.warn_at = None;
            return;
        };
        if self.status != SlaClockStatus::Breached {
            self.due_at = time.add(since, self.target_ms - self.accumulated_ms);
        }
        let warn_ms = self.target_ms * Millis::from(warn_percent.clamp(1, 99)) / 100;
        self.warn_at = if self.warned || self.status == SlaClockStatus::Breached {
            None
        } else {
            time.add(since, (warn_ms - self.accumulated_ms).max(0))
        };
    }

    /// Stops counting at `at` (the resolution clock going pending).
    pub fn pause(&mut self, time: Time, at: Millis) {
        if let Some(since) = self.running_since.take() {
            self.accumulated_ms += time.between(since, at);
            if self.status == SlaClockStatus::Running {
                self.status = SlaClockStatus::Paused;
            }
            self.due_at = None;
            self.warn_at = None;
        }
    }

    /// Counts again from `at`.
    pub fn resume(&mut self, time: Time, at: Millis, warn_percent: u8) {
        if self.running_since.is_none() && self.status == SlaClockStatus::Paused {
            self.running_since = Some(at);
            self.status = SlaClockStatus::Running;
            self.schedule(time, warn_percent);
        }
    }

    /// The clock's goal was reached at `at`.
    pub fn meet(&mut self, time: Time, at: Millis) {
        self.accumulated_ms = self.elapsed(time, at);
        self.running_since = None;
        self.due_at = None;
        self.warn_at = None;
        self.ended_at = Some(at);
        self.status =
            if self.breached_at.is_some() { SlaClockStatus::BreachedMet } else { SlaClockStatus::Met };
    }

    /// The clock ends at `at` without being met (the cycle resolved, the SLA removed, its policy
    /// deleted): a breach stays a breach (`breached_closed`), anything else is `cancelled` for
    /// `reason`.
    pub fn close(&mut self, time: Time, at: Millis, reason: SlaCancelReason) {
        self.accumulated_ms = self.elapsed(time, at);
        self.running_since = None;
        self.due_at = None;
        self.warn_at = None;
        self.ended_at = Some(at);
        if self.breached_at.is_some() {
            self.status = SlaClockStatus::BreachedClosed;
        } else {
            self.status = SlaClockStatus::Cancelled;
            self.cancel_reason = Some(reason);
        }
    }

    /// How far past its target a clock ended (0 if it didn't overrun).
    pub fn overrun_ms(&self) -> Millis {
        (self.accumulated_ms - self.target_ms).max(0)
    }
}

/// `PUT /api/v1/conversations/{id}/sla` (leads and admins): pin a policy, or `null` for no SLA.
/// The field must be present, so an empty body can't remove an SLA by accident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PinSla {
    #[serde(deserialize_with = "present")]
    pub policy_id: Option<Uuid>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Uuid>, D::Error> {
    Option::deserialize(deserializer)
}

/// How a set of clocks ended, and the share met.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaCounts {
    pub met: u32,
    /// Past due: met late, or still running past due at the end of the range.
    pub breached: u32,
    /// Past due when the cycle was resolved without the reply.
    pub breached_closed: u32,
    /// Ended before due without being met (resolved without a reply, removed, policy deleted).
    pub cancelled: u32,
    /// First response: cycles under a policy that an agent started (no customer to answer).
    pub not_applicable: u32,
    /// Still counting, not yet due, at the end of the range.
    pub running: u32,
    /// met ÷ (met + breached + breached_closed); `None` when that is 0 ÷ 0.
    pub attainment: Option<f64>,
}

/// One metric's counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaMetricCounts {
    pub metric: SlaMetric,
    pub counts: SlaCounts,
}

/// One agent's counts for a metric (`agent_id: null`: clocks nobody was assigned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaAgentCounts {
    pub agent_id: Option<Uuid>,
    pub metric: SlaMetric,
    pub counts: SlaCounts,
}

/// One team's counts for a metric (`team_id: null`: conversations of no team).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaTeamCounts {
    pub team_id: Option<Uuid>,
    pub metric: SlaMetric,
    pub counts: SlaCounts,
}

/// `GET /api/v1/sla/attainment?from&to`: the clocks that started in `[from, to)`, each counted
/// once by where it stood at `to`, per metric, per agent and per team (the assignee and team when
/// the clock ended, or at `to` if it hadn't). Derived from the ledger's SLA events, so it can be
/// recomputed and adjacent ranges add up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaAttainment {
    pub from: Millis,
    pub to: Millis,
    pub metrics: Vec<SlaMetricCounts>,
    pub agents: Vec<SlaAgentCounts>,
    pub teams: Vec<SlaTeamCounts>,
}

impl SlaCounts {
    /// Fills in `attainment` from the counts.
    pub fn with_attainment(mut self) -> Self {
        let counted = self.met + self.breached + self.breached_closed;
        self.attainment = (counted > 0).then(|| f64::from(self.met) / f64::from(counted));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, CalendarHistory, CalendarVersion, TimeRange, WeeklyHours};

    const MIN: Millis = 60_000;
    const HOUR: Millis = 60 * MIN;

    fn weekdays_9_to_17() -> BusinessHours {
        let day = || vec![TimeRange { start: "09:00".into(), end: "17:00".into() }];
        let calendar = Calendar {
            time_zone: "UTC".into(),
            weekly: WeeklyHours {
                mon: day(),
                tue: day(),
                wed: day(),
                thu: day(),
                fri: day(),
                sat: vec![],
                sun: vec![],
            },
            holidays: vec![],
            special_days: vec![],
        };
        BusinessHours::new(&CalendarHistory {
            versions: vec![CalendarVersion {
                version: 1,
                effective_from: calendar::CALENDAR_START,
                calendar,
            }],
        })
        .expect("hours")
    }

    /// 2030-01-04 is a Friday.
    fn friday(hour: i64, minute: i64) -> Millis {
        1_893_715_200_000 + hour * HOUR + minute * MIN
    }

    #[test]
    fn s2_a_business_hour_from_friday_1630_falls_due_monday_0930_warning_0918() {
        let hours = weekdays_9_to_17();
        let clock =
            SlaClock::start(SlaMetric::FirstResponse, 1, HOUR, friday(16, 30), Time::Business(&hours), 80);
        let monday = friday(0, 0) + 3 * 24 * HOUR;
        assert_eq!(clock.due_at, Some(monday + 9 * HOUR + 30 * MIN));
        assert_eq!(clock.warn_at, Some(monday + 9 * HOUR + 18 * MIN));
    }

    #[test]
    fn s6_the_resolution_clock_counts_only_while_running() {
        let time = Time::Wall;
        let start = friday(0, 0);
        let mut clock = SlaClock::start(SlaMetric::Resolution, 1, 8 * HOUR, start, time, 80);
        clock.pause(time, start + 2 * HOUR);
        assert_eq!((clock.status, clock.due_at), (SlaClockStatus::Paused, None));
        clock.resume(time, start + 5 * HOUR, 80);
        assert_eq!(clock.elapsed(time, start + 6 * HOUR), 3 * HOUR);
        assert_eq!(clock.due_at, Some(start + 11 * HOUR), "moved later by the three paused hours");
    }

    #[test]
    fn met_after_due_is_breached_met_with_its_overrun() {
        let time = Time::Wall;
        let mut clock = SlaClock::start(SlaMetric::FirstResponse, 1, HOUR, 0, time, 80);
        clock.status = SlaClockStatus::Breached;
        clock.breached_at = Some(HOUR);
        clock.meet(time, HOUR + 20 * MIN);
        assert_eq!((clock.status, clock.overrun_ms()), (SlaClockStatus::BreachedMet, 20 * MIN));
    }

    #[test]
    fn closing_before_due_cancels_and_after_a_breach_freezes() {
        let time = Time::Wall;
        let mut early = SlaClock::start(SlaMetric::NextResponse, 1, HOUR, 0, time, 80);
        early.close(time, 30 * MIN, SlaCancelReason::ResolvedWithoutReply);
        assert_eq!(early.status, SlaClockStatus::Cancelled);
        assert_eq!(early.cancel_reason, Some(SlaCancelReason::ResolvedWithoutReply));
        let mut late = SlaClock::start(SlaMetric::NextResponse, 1, HOUR, 0, time, 80);
        late.status = SlaClockStatus::Breached;
        late.breached_at = Some(HOUR);
        late.close(time, 2 * HOUR, SlaCancelReason::Removed);
        assert_eq!((late.status, late.elapsed(time, 10 * HOUR)), (SlaClockStatus::BreachedClosed, 2 * HOUR));
    }

    #[test]
    fn an_escalation_step_falls_due_once_from_its_moment_while_the_clock_is_live() {
        let step = |on, after_secs| SlaEscalation {
            on,
            after_secs,
            notify: None,
            raise_priority: None,
            reassign: true,
            escalate: false,
        };
        let time = Time::Wall;
        let mut clock = SlaClock::start(SlaMetric::FirstResponse, 1, HOUR, 0, time, 80);
        let at_breach = step(SlaEscalationOn::Breach, 1800);
        assert_eq!(at_breach.due_for(0, &clock), None, "not before the breach");
        clock.status = SlaClockStatus::Breached;
        clock.breached_at = Some(HOUR);
        assert_eq!(at_breach.due_for(0, &clock), Some(HOUR + 30 * MIN));
        clock.escalations.push(SlaEscalationRun { step: 0, at: HOUR + 30 * MIN, notify: None });
        assert_eq!(at_breach.due_for(0, &clock), None, "once");
        assert_eq!(step(SlaEscalationOn::Warning, 0).due_for(1, &clock), None, "it never warned");
        clock.meet(time, HOUR + 10 * MIN);
        assert_eq!(at_breach.due_for(2, &clock), None, "a met clock runs nothing more");
    }

    #[test]
    fn pinning_must_name_a_policy_or_null() {
        let none: PinSla = serde_json::from_str(r#"{"policy_id": null}"#).expect("null");
        assert_eq!(none.policy_id, None);
        assert!(serde_json::from_str::<PinSla>("{}").is_err(), "an empty body removes nothing");
    }

    #[test]
    fn attainment_is_met_over_met_and_breached() {
        let counts =
            SlaCounts { met: 3, breached: 1, breached_closed: 0, cancelled: 5, ..SlaCounts::default() };
        assert_eq!(counts.with_attainment().attainment, Some(0.75));
        assert_eq!(SlaCounts::default().with_attainment().attainment, None);
    }

    #[test]
    fn conditions_must_all_hold_and_empty_ones_match_anything() {
        let vip = SlaConditions { labels: vec!["vip".into()], ..SlaConditions::default() };
        let inbox = Uuid::nil();
        assert!(vip.matches(inbox, None, Priority::Medium, &["vip".into(), "x".into()]));
        assert!(!vip.matches(inbox, None, Priority::Medium, &[]));
        assert!(SlaConditions::default().matches(inbox, None, Priority::Low, &[]));
        let urgent = SlaConditions { priorities: vec![Priority::Urgent], ..SlaConditions::default() };
        assert!(!urgent.matches(inbox, None, Priority::High, &[]));
    }
}
