//! Report facts as both backends keep them, and the one aggregation a report's scan feeds.
//!
//! A fact is a narrow typed row of `report_rows` (ids as 16-byte blobs, kinds and origins as small
//! integers, no JSON but the rare label list), clustered by time on SQLite (`WITHOUT ROWID`,
//! keyed by `(at, conversation_id, seq)`). A report does not read facts one by one: both backends
//! keep, in the transaction that replaces a conversation's facts, the count facts summed per UTC
//! hour and day (`report_hours`, `report_days`: [`rollup_deltas`]) and the duration facts' exact
//! values per UTC hour and day ([`Spread`] rows of `report_spreads`: [`spread_deltas`]), each
//! three times ([`Level`]): a wide row keyed by every dimension, a [`NARROW`] one without the team
//! and the label list, and a [`BY_AGENT`] one keyed by the agent alone. A scan reads the
//! narrowest level that still holds what it groups and filters by ([`Scan::level`]): a report by
//! agent or of totals, over every inbox, reads a row per agent, kind and unit, not one per inbox,
//! channel, agent and kind (about five times fewer on the benchmark's workspace). A scan's
//! [`Scan::plan`] takes each bucket from day rows minus their hours outside it, hour rows, and raw
//! facts only for sub-hour edges, and folds them into a [`Tally`] in process. The figures are the
//! definitions' exact ones (medians and p90 by nearest rank over every value, means truncated to
//! the second); `reports_aggregate_exactly` compares them with the plain aggregation over every
//! fact.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use switchboard_proto::{ledger::Origin, reports::*, Channel, Id, Millis, Priority};

/// A fact kind as stored.
pub fn kind_code(kind: FactKind) -> i64 {
    match kind {
        FactKind::CycleStarted => 0,
        FactKind::Reopened => 1,
        FactKind::MessageIn => 2,
        FactKind::MessageOut => 3,
        FactKind::FirstResponse => 4,
        FactKind::Response => 5,
        FactKind::Resolution => 6,
        FactKind::AssignmentToFirstReply => 7,
        FactKind::SlaFirstResponseMet => 8,
        FactKind::SlaFirstResponseBreached => 9,
        FactKind::SlaNextResponseMet => 10,
        FactKind::SlaNextResponseBreached => 11,
        FactKind::SlaResolutionMet => 12,
        FactKind::SlaResolutionBreached => 13,
    }
}

/// Every fact kind, in code order.
pub const KINDS: [FactKind; 14] = [
    FactKind::CycleStarted,
    FactKind::Reopened,
    FactKind::MessageIn,
    FactKind::MessageOut,
    FactKind::FirstResponse,
    FactKind::Response,
    FactKind::Resolution,
    FactKind::AssignmentToFirstReply,
    FactKind::SlaFirstResponseMet,
    FactKind::SlaFirstResponseBreached,
    FactKind::SlaNextResponseMet,
    FactKind::SlaNextResponseBreached,
    FactKind::SlaResolutionMet,
    FactKind::SlaResolutionBreached,
];

/// An SLA outcome fact's target (0 first response, 1 next response, 2 resolution) and whether it
/// was met; `None` for every other kind.
pub fn sla_outcome(kind: FactKind) -> Option<(usize, bool)> {
    Some(match kind {
        FactKind::SlaFirstResponseMet => (0, true),
        FactKind::SlaFirstResponseBreached => (0, false),
        FactKind::SlaNextResponseMet => (1, true),
        FactKind::SlaNextResponseBreached => (1, false),
        FactKind::SlaResolutionMet => (2, true),
        FactKind::SlaResolutionBreached => (2, false),
        _ => return None,
    })
}

/// One group's SLA outcomes while they are counted: per target, met and breached (a spread taken
/// away counts down).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SlaTally([[i64; 2]; 3]);

impl SlaTally {
    /// Counts `n` facts of `kind` (negative: taken away); other kinds count nothing.
    pub fn add(&mut self, kind: FactKind, n: i64) {
        if let Some((target, met)) = sla_outcome(kind) {
            self.0[target][usize::from(!met)] += n;
        }
    }

    pub fn merge(&mut self, other: SlaTally) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            mine[0] += theirs[0];
            mine[1] += theirs[1];
        }
    }

    /// Writes the outcomes and their shares within target into `metrics`.
    pub fn fill(&self, metrics: &mut Metrics) {
        let of = |[met, breached]: [i64; 2]| SlaOutcomes::of(met.max(0) as u64, breached.max(0) as u64);
        metrics.sla_first_response = of(self.0[0]);
        metrics.sla_next_response = of(self.0[1]);
        metrics.sla_resolution = of(self.0[2]);
    }
}

/// A stored fact kind.
pub fn kind_of(code: i64) -> Option<FactKind> {
    usize::try_from(code).ok().and_then(|code| KINDS.get(code)).copied()
}

pub fn origin_code(origin: Origin) -> i64 {
    match origin {
        Origin::Customer => 0,
        Origin::Agent => 1,
    }
}

pub fn origin_of(code: i64) -> Origin {
    if code == 0 {
        Origin::Customer
    } else {
        Origin::Agent
    }
}

/// A fact's labels as stored: a JSON array (`[]` for none).
pub fn labels_text(labels: &[String]) -> String {
    serde_json::to_string(labels).unwrap_or_else(|_| "[]".into())
}

pub fn labels_of(text: &str) -> Vec<String> {
    if text == "[]" {
        return Vec::new();
    }
    serde_json::from_str(text).unwrap_or_default()
}

/// The columns of `report_rows` a fact is written as and read back from, in this order:
/// `at, conversation_id, seq, kind, cycle, instance, inbox_id, channel, team_id, agent_id, origin,
/// priority, labels, start_at, wall_ms, business_ms, open_ms`.
pub const COLUMNS: &str = "at, conversation_id, seq, kind, cycle, instance, inbox_id, channel, team_id, \
     agent_id, origin, priority, labels, start_at, wall_ms, business_ms, open_ms";

/// A fact read back from its columns (ids as their 16 bytes).
#[allow(clippy::too_many_arguments)]
pub fn fact_of(
    at: Millis,
    conversation: &[u8],
    kind: i64,
    cycle: i64,
    instance: i64,
    inbox: &[u8],
    channel: &str,
    team: Option<&[u8]>,
    agent: Option<&[u8]>,
    origin: i64,
    priority: &str,
    labels: &str,
    start_at: Millis,
    durations: [Millis; 3],
) -> Option<ReportFact> {
    let id = |bytes: &[u8]| Id::from_slice(bytes).ok();
    Some(ReportFact {
        kind: kind_of(kind)?,
        conversation_id: id(conversation)?,
        cycle: u32::try_from(cycle).ok()?,
        instance: u32::try_from(instance).ok()?,
        inbox_id: id(inbox)?,
        channel: Channel::parse(channel)?,
        team_id: team.and_then(id),
        labels: labels_of(labels),
        priority: Priority::parse(priority)?,
        agent_id: agent.and_then(id),
        origin: origin_of(origin),
        start_at,
        at,
        wall_ms: durations[0],
        business_ms: durations[1],
        open_ms: durations[2],
    })
}

/// What a report aggregates: the facts dated in `[from, to)`, in buckets that start at `starts`
/// (ascending, the first at `from`; each runs to the next start, the last to `to`), of the
/// inboxes in `inboxes` only when set, and of `agent` only when set, grouped by `group_by`.
#[derive(Debug, Clone)]
pub struct Scan {
    pub from: Millis,
    pub to: Millis,
    pub starts: Vec<Millis>,
    pub group_by: GroupBy,
    pub inboxes: Option<BTreeSet<Id>>,
    pub agent: Option<Id>,
}

impl Scan {
    /// The bucket a fact dated `at` falls in, if it is in the period.
    pub fn bucket(&self, at: Millis) -> Option<usize> {
        if at < self.from || at >= self.to {
            return None;
        }
        self.starts.partition_point(|start| *start <= at).checked_sub(1)
    }

    /// The rollup and spread rows this scan reads: the [`BY_AGENT`] ones when it groups by the
    /// agent or not at all and takes every inbox (they keep only the agent, which its own-figures
    /// filter needs); else the [`NARROW`] ones when it groups by neither the team nor the labels
    /// (they keep the inbox, its channel and the agent); else the wide ones.
    pub fn level(&self) -> Level {
        match self.group_by {
            GroupBy::None | GroupBy::Agent if self.inboxes.is_none() => Level::Agent,
            GroupBy::None | GroupBy::Agent | GroupBy::Inbox | GroupBy::Channel => Level::Narrow,
            GroupBy::Team | GroupBy::Label => Level::Wide,
        }
    }

    /// The column a grouping keys on (`None`: one group).
    pub fn key_column(&self) -> Option<&'static str> {
        match self.group_by {
            GroupBy::None => None,
            GroupBy::Agent => Some("agent_id"),
            GroupBy::Team => Some("team_id"),
            GroupBy::Inbox => Some("inbox_id"),
            GroupBy::Channel => Some("channel"),
            GroupBy::Label => Some("labels"),
        }
    }

    /// A group's key from its key column's value (a blob for ids, text for a channel or a label
    /// list), and the row keys it counts under (several for several labels).
    pub fn keys_of(&self, key: &RawKey) -> Vec<Option<String>> {
        match (self.group_by, key) {
            (GroupBy::None, _) | (_, RawKey::Null) => vec![None],
            (GroupBy::Label, RawKey::Text(text)) => {
                let labels = labels_of(text);
                if labels.is_empty() {
                    vec![None]
                } else {
                    labels.into_iter().map(Some).collect()
                }
            }
            (_, RawKey::Text(text)) => vec![Some(text.clone())],
            (_, RawKey::Id(id)) => vec![Some(id.to_string())],
        }
    }
}

/// A group's key column value, as a scan reads it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RawKey {
    Null,
    Id(Id),
    Text(String),
}

/// The durations of one metric, gathered before their distribution is computed: the values a
/// bucket takes, and those it takes away (a day's spread minus its hours outside the bucket).
#[derive(Default, Clone)]
struct Gathered {
    wall: Vec<Millis>,
    business: Vec<Millis>,
    minus_wall: Vec<Millis>,
    minus_business: Vec<Millis>,
}

impl Gathered {
    fn merge(&mut self, other: Gathered) {
        self.wall.extend(other.wall);
        self.business.extend(other.business);
        self.minus_wall.extend(other.minus_wall);
        self.minus_business.extend(other.minus_business);
    }

    /// Adds (`sign` 1) or takes away (-1) a spread's stored values.
    fn add(&mut self, wall: &[u8], business: &[u8], sign: i64) {
        let (w, b) = if sign > 0 {
            (&mut self.wall, &mut self.business)
        } else {
            (&mut self.minus_wall, &mut self.minus_business)
        };
        extend_values(w, wall);
        extend_values(b, business);
    }

    fn durations(mut self) -> Durations {
        let take = |values: &mut Vec<Millis>, minus: &mut Vec<Millis>| {
            // The values are the spreads' sorted runs one after another: the stable sort merges
            // runs (the unstable one would sort them all over again); `distribution` then finds
            // them sorted. One run (a bucket of whole UTC days read from one row per key, a
            // single hour) is sorted already: checked, not sorted again (the stable sort
            // allocates its scratch even then).
            if !values.is_sorted() {
                values.sort();
            }
            if !minus.is_empty() {
                if !minus.is_sorted() {
                    minus.sort();
                }
                // A day's values always hold its hours' (the store keeps them together).
                *values = multiset_minus(values, minus).unwrap_or_default();
            }
        };
        take(&mut self.wall, &mut self.minus_wall);
        take(&mut self.business, &mut self.minus_business);
        Durations {
            count: self.wall.len() as u64,
            wall: distribution(&mut self.wall),
            business: distribution(&mut self.business),
        }
    }
}

/// `a` without one occurrence of each value of `b` (both sorted), or `None` when `b` holds a
/// value `a` does not.
pub fn multiset_minus<T: Ord + Copy>(a: &[T], b: &[T]) -> Option<Vec<T>> {
    let mut out = Vec::with_capacity(a.len().saturating_sub(b.len()));
    let mut j = 0;
    for &x in a {
        if j < b.len() && b[j] < x {
            return None;
        }
        if j < b.len() && b[j] == x {
            j += 1;
        } else {
            out.push(x);
        }
    }
    (j == b.len()).then_some(out)
}

/// Appends the values a spread's blob holds (each an `i64`, little-endian).
fn extend_values(into: &mut Vec<Millis>, blob: &[u8]) {
    into.extend(blob.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default())));
}

/// One group's figures while a scan runs.
#[derive(Default)]
struct Group {
    metrics: Metrics,
    /// Resolved conversations, each with its number of resolutions (a spread taken away counts
    /// down): the distinct count is those above zero.
    resolved: HashMap<Id, i64, KeyHash>,
    first_response: Gathered,
    response: Gathered,
    resolution: Gathered,
    /// The time a resolved cycle was actually open (wall time only: no business figure).
    resolution_open: Gathered,
    assignment_to_first_reply: Gathered,
    sla: SlaTally,
}

impl Group {
    fn merge(&mut self, other: Group) {
        let (m, o) = (&mut self.metrics, other.metrics);
        m.cycles_started += o.cycles_started;
        m.cycles_started_by_customers += o.cycles_started_by_customers;
        m.messages_in += o.messages_in;
        m.messages_out += o.messages_out;
        m.resolutions += o.resolutions;
        m.reopened += o.reopened;
        for (id, n) in other.resolved {
            *self.resolved.entry(id).or_default() += n;
        }
        self.first_response.merge(other.first_response);
        self.response.merge(other.response);
        self.resolution.merge(other.resolution);
        self.resolution_open.merge(other.resolution_open);
        self.assignment_to_first_reply.merge(other.assignment_to_first_reply);
        self.sla.merge(other.sla);
    }

    fn metrics(self) -> Metrics {
        let mut metrics = self.metrics;
        metrics.conversations_resolved = self.resolved.values().filter(|n| **n > 0).count() as u64;
        metrics.first_response = self.first_response.durations();
        metrics.response = self.response.durations();
        metrics.resolution = self.resolution.durations();
        metrics.resolution_open = self.resolution_open.durations();
        metrics.assignment_to_first_reply = self.assignment_to_first_reply.durations();
        self.sla.fill(&mut metrics);
        metrics
    }
}

/// One fact as a scan folds it: only what the figures need.
pub struct Seen {
    pub at: Millis,
    pub kind: FactKind,
    pub origin: Origin,
    pub inbox: Id,
    pub agent: Option<Id>,
    pub conversation: Id,
    pub wall_ms: Millis,
    pub business_ms: Millis,
    pub open_ms: Millis,
}

/// A fast hash for a tally's few keys (FxHash's multiply-rotate; no attacker chooses them: they
/// are the store's own ids and bucket numbers), where SipHash cost a tenth of a scan.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;

/// The figures of a scan's facts, per bucket and raw key, as they are folded in.
pub struct Tally<'a> {
    scan: &'a Scan,
    groups: HashMap<(usize, RawKey), Group, KeyHash>,
}

impl<'a> Tally<'a> {
    pub fn new(scan: &'a Scan) -> Self {
        Tally { scan, groups: HashMap::default() }
    }

    /// Counts a fact under `key`, if the scan takes it.
    pub fn add(&mut self, fact: &Seen, key: RawKey) {
        let Some(bucket) = self.scan.bucket(fact.at) else { return };
        if self.scan.inboxes.as_ref().is_some_and(|inboxes| !inboxes.contains(&fact.inbox)) {
            return;
        }
        if self.scan.agent.is_some() && fact.agent != self.scan.agent {
            return;
        }
        let group = self.groups.entry((bucket, key)).or_default();
        let m = &mut group.metrics;
        match fact.kind {
            FactKind::CycleStarted => {
                m.cycles_started += 1;
                if fact.origin == Origin::Customer {
                    m.cycles_started_by_customers += 1;
                }
            }
            FactKind::Reopened => m.reopened += 1,
            FactKind::MessageIn => m.messages_in += 1,
            FactKind::MessageOut => m.messages_out += 1,
            FactKind::FirstResponse => {
                group.first_response.wall.push(fact.wall_ms);
                group.first_response.business.push(fact.business_ms);
            }
            FactKind::Response => {
                group.response.wall.push(fact.wall_ms);
                group.response.business.push(fact.business_ms);
            }
            FactKind::Resolution => {
                m.resolutions += 1;
                *group.resolved.entry(fact.conversation).or_default() += 1;
                group.resolution.wall.push(fact.wall_ms);
                group.resolution.business.push(fact.business_ms);
                group.resolution_open.wall.push(fact.open_ms);
            }
            FactKind::AssignmentToFirstReply => {
                group.assignment_to_first_reply.wall.push(fact.wall_ms);
                group.assignment_to_first_reply.business.push(fact.business_ms);
            }
            FactKind::SlaFirstResponseMet
            | FactKind::SlaFirstResponseBreached
            | FactKind::SlaNextResponseMet
            | FactKind::SlaNextResponseBreached
            | FactKind::SlaResolutionMet
            | FactKind::SlaResolutionBreached => group.sla.add(fact.kind, 1),
        }
    }

    /// Each bucket's rows, by key (the "none" group sorts first here; the report puts it last).
    pub fn finish(self) -> Buckets {
        let mut merged: Vec<BTreeMap<Option<String>, Group>> =
            (0..self.scan.starts.len()).map(|_| BTreeMap::new()).collect();
        // Keys in a fixed order, so merging several label lists into one label is deterministic
        // (the figures don't depend on it: sums, sets and sorted durations).
        let mut groups: Vec<((usize, RawKey), Group)> = self.groups.into_iter().collect();
        groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for ((bucket, raw), group) in groups {
            let keys = self.scan.keys_of(&raw);
            let last = keys.len() - 1;
            let mut group = Some(group);
            for (index, key) in keys.into_iter().enumerate() {
                let part =
                    if index == last { group.take().unwrap_or_default() } else { copy(group.as_ref()) };
                match merged[bucket].entry(key) {
                    std::collections::btree_map::Entry::Occupied(mut entry) => entry.get_mut().merge(part),
                    std::collections::btree_map::Entry::Vacant(entry) => {
                        entry.insert(part);
                    }
                }
            }
        }
        // A group whose rollup rows cancelled out (a day's counts minus its hours outside the
        // bucket) counted nothing: the plain aggregation has no such group.
        merged
            .into_iter()
            .map(|groups| {
                groups
                    .into_iter()
                    .map(|(key, group)| (key, group.metrics()))
                    .filter(|(_, metrics)| *metrics != Metrics::default())
                    .collect()
            })
            .collect()
    }
}

/// A copy of a group (a fact with several labels counts under each).
fn copy(group: Option<&Group>) -> Group {
    let Some(group) = group else { return Group::default() };
    Group {
        metrics: group.metrics.clone(),
        resolved: group.resolved.clone(),
        first_response: group.first_response.clone(),
        response: group.response.clone(),
        resolution: group.resolution.clone(),
        resolution_open: group.resolution_open.clone(),
        assignment_to_first_reply: group.assignment_to_first_reply.clone(),
        sla: group.sla,
    }
}

/// A scan's answer: per bucket, each group's figures by key.
pub type Buckets = Vec<BTreeMap<Option<String>, Metrics>>;

/// An hour and a day, in milliseconds: the rollups' units (UTC hours and UTC days).
pub const HOUR: Millis = 3_600_000;
pub const DAY: Millis = 86_400_000;

/// A rollup's unit: a table of counters per UTC hour, and one per UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    Hour,
    Day,
}

impl Unit {
    pub const ALL: [Unit; 2] = [Unit::Hour, Unit::Day];

    pub fn ms(self) -> Millis {
        match self {
            Unit::Hour => HOUR,
            Unit::Day => DAY,
        }
    }

    /// The table that keeps this unit's counters.
    pub fn table(self) -> &'static str {
        match self {
            Unit::Hour => "report_hours",
            Unit::Day => "report_days",
        }
    }

    /// The start of the unit holding `at`.
    pub fn start(self, at: Millis) -> Millis {
        at.div_euclid(self.ms()) * self.ms()
    }
}

/// The counters a rollup row keeps: the count facts' figures (durations are read raw).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub cycles_started: i64,
    pub cycles_started_by_customers: i64,
    pub reopened: i64,
    pub messages_in: i64,
    pub messages_out: i64,
}

impl Counts {
    /// A count fact's contribution (`None`: a duration fact, which no rollup keeps).
    pub fn of(kind: FactKind, origin: Origin) -> Option<Counts> {
        let mut counts = Counts::default();
        match kind {
            FactKind::CycleStarted => {
                counts.cycles_started = 1;
                counts.cycles_started_by_customers = i64::from(origin == Origin::Customer);
            }
            FactKind::Reopened => counts.reopened = 1,
            FactKind::MessageIn => counts.messages_in = 1,
            FactKind::MessageOut => counts.messages_out = 1,
            FactKind::FirstResponse
            | FactKind::Response
            | FactKind::Resolution
            | FactKind::AssignmentToFirstReply
            | FactKind::SlaFirstResponseMet
            | FactKind::SlaFirstResponseBreached
            | FactKind::SlaNextResponseMet
            | FactKind::SlaNextResponseBreached
            | FactKind::SlaResolutionMet
            | FactKind::SlaResolutionBreached => return None,
        }
        Some(counts)
    }

    fn add(&mut self, other: Counts, sign: i64) {
        self.cycles_started += sign * other.cycles_started;
        self.cycles_started_by_customers += sign * other.cycles_started_by_customers;
        self.reopened += sign * other.reopened;
        self.messages_in += sign * other.messages_in;
        self.messages_out += sign * other.messages_out;
    }

    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    /// As stored, in the tables' column order (`ROLLUP_COUNTS`).
    pub fn columns(&self) -> [i64; 5] {
        [
            self.cycles_started,
            self.cycles_started_by_customers,
            self.reopened,
            self.messages_in,
            self.messages_out,
        ]
    }

    pub fn from_columns(c: [i64; 5]) -> Counts {
        Counts {
            cycles_started: c[0],
            cycles_started_by_customers: c[1],
            reopened: c[2],
            messages_in: c[3],
            messages_out: c[4],
        }
    }
}

/// A rollup row's key columns, then its counters, as both backends store them (`report_hours`,
/// `report_days`); no agent or team is an empty blob (key columns are never NULL).
pub const ROLLUP_KEY: &str = "start, inbox_id, channel, agent_id, team_id, labels";
pub const ROLLUP_COUNTS: &str =
    "cycles_started, cycles_started_by_customers, reopened, messages_in, messages_out";

/// A rollup row's key: the unit's start and every dimension a report groups or filters by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub unit: Unit,
    pub start: Millis,
    pub inbox: Id,
    pub channel: String,
    pub agent: Option<Id>,
    pub team: Option<Id>,
    pub labels: String,
}

/// The label list of a narrow rollup or spread row: every team and label list of its unit, inbox,
/// channel and agent together (its team is none). No stored label list is `*` (they are JSON
/// arrays), so a row is narrow exactly when its labels are this.
pub const NARROW: &str = "*";

/// The label list of a per-agent rollup or spread row: every inbox, channel, team and label list
/// of its unit and agent together (its inbox is the nil id, its channel `*`, its team none).
pub const BY_AGENT: &str = "**";

/// Which of the three rows of a unit a rollup or spread row is: keyed by every dimension, by the
/// inbox, channel and agent ([`NARROW`]), or by the agent alone ([`BY_AGENT`]). Each level holds
/// every fact once, so a scan reads exactly one of them ([`Scan::level`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Wide,
    Narrow,
    Agent,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Wide, Level::Narrow, Level::Agent];

    /// The SQL condition on a rollup row's `labels` that picks this level's rows.
    pub fn labels_condition(self) -> String {
        match self {
            Level::Wide => format!("labels NOT IN ('{NARROW}', '{BY_AGENT}')"),
            Level::Narrow => format!("labels = '{NARROW}'"),
            Level::Agent => format!("labels = '{BY_AGENT}'"),
        }
    }
}

impl RollupKey {
    /// The wide, the narrow and the per-agent row a fact dated in `unit` counts under.
    fn levels_of(unit: Unit, fact: &ReportFact) -> [RollupKey; 3] {
        let wide = RollupKey {
            unit,
            start: unit.start(fact.at),
            inbox: fact.inbox_id,
            channel: fact.channel.as_str().to_owned(),
            agent: fact.agent_id,
            team: fact.team_id,
            labels: labels_text(&fact.labels),
        };
        let narrow = RollupKey { team: None, labels: NARROW.to_owned(), ..wide.clone() };
        let agent = RollupKey {
            inbox: Id::nil(),
            channel: "*".to_owned(),
            team: None,
            labels: BY_AGENT.to_owned(),
            ..wide.clone()
        };
        [wide, narrow, agent]
    }

    pub fn level(&self) -> Level {
        match self.labels.as_str() {
            NARROW => Level::Narrow,
            BY_AGENT => Level::Agent,
            _ => Level::Wide,
        }
    }
}

/// An optional id as a rollup key column (no id: the empty blob).
pub fn key_bytes(id: Option<Id>) -> Vec<u8> {
    id.map(|id| id.as_bytes().to_vec()).unwrap_or_default()
}

/// A rollup key column back (the empty blob: none).
pub fn key_id(bytes: &[u8]) -> Option<Option<Id>> {
    if bytes.is_empty() {
        Some(None)
    } else {
        Id::from_slice(bytes).ok().map(Some)
    }
}

/// What replacing a conversation's facts `old` by `new` changes in each rollup row (both units),
/// zero changes left out: the store adds these in the transaction that replaces the facts, so the
/// rollups always equal the facts they summarise (and a rebuild, which replaces every
/// conversation's facts, rebuilds them).
pub fn rollup_deltas(old: &[ReportFact], new: &[ReportFact]) -> Vec<(RollupKey, Counts)> {
    let mut deltas: BTreeMap<RollupKey, Counts> = BTreeMap::new();
    for (facts, sign) in [(old, -1), (new, 1)] {
        for fact in facts {
            let Some(counts) = Counts::of(fact.kind, fact.origin) else { continue };
            for unit in Unit::ALL {
                for key in RollupKey::levels_of(unit, fact) {
                    deltas.entry(key).or_default().add(counts, sign);
                }
            }
        }
    }
    deltas.into_iter().filter(|(_, counts)| !counts.is_zero()).collect()
}

/// How a scan reads its count facts: rollup rows, each unit start taken with a sign into one or
/// more buckets, and raw fact ranges (the parts of buckets that are not whole UTC hours).
#[derive(Debug, Default)]
pub struct Plan {
    /// Per unit: unit start → the (bucket, sign) it adds to.
    pub units: BTreeMap<(Unit, Millis), Vec<(usize, i64)>>,
    /// `[from, to)` ranges whose count facts are read one by one.
    pub raw: Vec<(Millis, Millis)>,
}

impl Plan {
    /// The contiguous runs of unit starts to read, per unit: `(unit, first start, end)`.
    pub fn ranges(&self) -> Vec<(Unit, Millis, Millis)> {
        let mut ranges: Vec<(Unit, Millis, Millis)> = Vec::new();
        for (unit, start) in self.units.keys() {
            match ranges.last_mut() {
                Some((u, _, end)) if u == unit && *end == *start => *end += unit.ms(),
                _ => ranges.push((*unit, *start, start + unit.ms())),
            }
        }
        ranges
    }

    fn take(&mut self, unit: Unit, from: Millis, to: Millis, bucket: usize, sign: i64) {
        let mut at = from;
        while at < to {
            self.units.entry((unit, at)).or_default().push((bucket, sign));
            at += unit.ms();
        }
    }
}

fn ceil_to(at: Millis, unit: Millis) -> Millis {
    -((-at).div_euclid(unit) * unit)
}

impl Scan {
    /// The plan of this scan's count facts: each bucket's whole UTC days from the day rollup (a
    /// day mostly inside the bucket too, minus the hours outside it: subtraction is exact for
    /// counts, and a local day in any whole-hour zone, a DST day of 23 or 25 hours included, is
    /// just such a day with hours at its edges), its other whole UTC hours from the hour rollup,
    /// and what is left (a bucket edge inside an hour: a half-hour zone, an instant like `from`)
    /// from the facts themselves.
    pub fn plan(&self) -> Plan {
        let mut plan = Plan::default();
        for (bucket, start) in self.starts.iter().enumerate() {
            let end = self.starts.get(bucket + 1).copied().unwrap_or(self.to).min(self.to);
            let start = (*start).max(self.from);
            if end <= start {
                continue;
            }
            let (a, b) = (ceil_to(start, HOUR), Unit::Hour.start(end));
            if a >= b {
                plan.raw.push((start, end));
                continue;
            }
            if start < a {
                plan.raw.push((start, a));
            }
            if b < end {
                plan.raw.push((b, end));
            }
            let mut day = Unit::Day.start(a);
            while day < b {
                let (from, to) = (a.max(day), b.min(day + DAY));
                if to - from == DAY {
                    plan.take(Unit::Day, day, day + DAY, bucket, 1);
                } else if to - from > DAY / 2 {
                    plan.take(Unit::Day, day, day + DAY, bucket, 1);
                    plan.take(Unit::Hour, day, from, bucket, -1);
                    plan.take(Unit::Hour, to, day + DAY, bucket, -1);
                } else {
                    plan.take(Unit::Hour, from, to, bucket, 1);
                }
                day += DAY;
            }
        }
        plan
    }
}

/// A rollup row as a scan reads it: its unit start, inbox, agent, the grouping's key, counters.
pub struct RollupSeen {
    pub unit: Unit,
    pub start: Millis,
    pub inbox: Id,
    pub agent: Option<Id>,
    pub counts: Counts,
}

impl Tally<'_> {
    /// Adds a rollup row under `key`, into every bucket the plan takes its unit into, if the
    /// scan's filter takes its inbox and agent.
    pub fn add_rollup(&mut self, plan: &Plan, row: &RollupSeen, key: RawKey) {
        let Some(takes) = plan.units.get(&(row.unit, row.start)) else { return };
        if self.scan.inboxes.as_ref().is_some_and(|inboxes| !inboxes.contains(&row.inbox)) {
            return;
        }
        if self.scan.agent.is_some() && row.agent != self.scan.agent {
            return;
        }
        for (bucket, sign) in takes {
            let m = &mut self.groups.entry((*bucket, key.clone())).or_default().metrics;
            let c = &row.counts;
            let add = |value: &mut u64, by: i64| *value = (*value as i64 + sign * by) as u64;
            add(&mut m.cycles_started, c.cycles_started);
            add(&mut m.cycles_started_by_customers, c.cycles_started_by_customers);
            add(&mut m.reopened, c.reopened);
            add(&mut m.messages_in, c.messages_in);
            add(&mut m.messages_out, c.messages_out);
        }
    }
}

/// The duration facts' values per UTC hour and day and every dimension a report groups or filters
/// by, and the metric (`report_spreads`): the exact multiset of each figure, so a period's medians
/// and p90s come from a few rows per day instead of a row per fact. Values are the facts'
/// milliseconds, each list sorted (a canonical form: equal spreads are equal bytes).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Spread {
    pub wall: Vec<Millis>,
    pub business: Vec<Millis>,
    /// Resolutions only: the time each cycle was actually open, and its conversation.
    pub open: Vec<Millis>,
    pub conversations: Vec<Id>,
}

/// A spread row's key: the rollup key (unit, start, dimensions) and the fact kind's code.
pub type SpreadKey = (RollupKey, i64);

/// A spread row's key columns, then its values, as both backends store them (`report_spreads`;
/// `unit` 0 is the hour, 1 the day, 2 and 3 the same for [`NARROW`] rows, 4 and 5 for
/// [`BY_AGENT`] ones: [`Unit::spread_code`]).
pub const SPREAD_KEY: &str = "unit, start, inbox_id, channel, agent_id, team_id, labels, kind";
pub const SPREAD_VALUES: &str = "wall, business, open, conversations";

impl Unit {
    /// As `report_spreads` stores it.
    pub fn code(self) -> i64 {
        match self {
            Unit::Hour => 0,
            Unit::Day => 1,
        }
    }

    pub fn of_code(code: i64) -> Option<Unit> {
        match code {
            0 => Some(Unit::Hour),
            1 => Some(Unit::Day),
            _ => None,
        }
    }

    /// The `unit` column of a spread row: the unit's code, plus 2 for a narrow row and 4 for a
    /// per-agent one, so that each level's rows of a period are one run of the primary key.
    pub fn spread_code(self, level: Level) -> i64 {
        self.code()
            + match level {
                Level::Wide => 0,
                Level::Narrow => 2,
                Level::Agent => 4,
            }
    }

    /// A spread row's unit from its `unit` column (any level).
    pub fn of_spread_code(code: i64) -> Option<Unit> {
        if (0..6).contains(&code) {
            Unit::of_code(code % 2)
        } else {
            None
        }
    }
}

impl Spread {
    fn push(&mut self, fact: &ReportFact) {
        self.wall.push(fact.wall_ms);
        self.business.push(fact.business_ms);
        if fact.kind == FactKind::Resolution {
            self.open.push(fact.open_ms);
            self.conversations.push(fact.conversation_id);
        }
    }

    fn sort(&mut self) {
        self.wall.sort_unstable();
        self.business.sort_unstable();
        self.open.sort_unstable();
        self.conversations.sort_unstable();
    }

    pub fn is_empty(&self) -> bool {
        self.wall.is_empty() && self.open.is_empty() && self.conversations.is_empty()
    }

    /// This spread without `remove`'s values, with `add`'s (all three sorted): an error when
    /// `remove` holds a value this does not (the stored spread no longer matches the facts).
    pub fn apply(&mut self, remove: &Spread, add: &Spread) -> Result<(), String> {
        fn change<T: Ord + Copy>(values: &mut Vec<T>, remove: &[T], add: &[T]) -> Result<(), String> {
            let mut kept = multiset_minus(values, remove)
                .ok_or_else(|| "a stored report spread lacks a value its facts had".to_owned())?;
            kept.extend_from_slice(add);
            kept.sort_unstable();
            *values = kept;
            Ok(())
        }
        change(&mut self.wall, &remove.wall, &add.wall)?;
        change(&mut self.business, &remove.business, &add.business)?;
        change(&mut self.open, &remove.open, &add.open)?;
        change(&mut self.conversations, &remove.conversations, &add.conversations)
    }

    /// The stored columns: values as `i64` little-endian, conversations as their 16 bytes.
    pub fn blobs(&self) -> [Vec<u8>; 4] {
        let values = |v: &[Millis]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        [
            values(&self.wall),
            values(&self.business),
            values(&self.open),
            self.conversations.iter().flat_map(|id| *id.as_bytes()).collect(),
        ]
    }

    /// A spread from its stored columns.
    pub fn from_blobs(wall: &[u8], business: &[u8], open: &[u8], conversations: &[u8]) -> Option<Spread> {
        let values = |blob: &[u8]| {
            blob.len().is_multiple_of(8).then(|| {
                let mut out = Vec::with_capacity(blob.len() / 8);
                extend_values(&mut out, blob);
                out
            })
        };
        if !conversations.len().is_multiple_of(16) {
            return None;
        }
        Some(Spread {
            wall: values(wall)?,
            business: values(business)?,
            open: values(open)?,
            conversations: conversations.chunks_exact(16).filter_map(|c| Id::from_slice(c).ok()).collect(),
        })
    }
}

/// Each unit's spreads of a conversation's duration facts.
fn spreads_of(facts: &[ReportFact]) -> BTreeMap<SpreadKey, Spread> {
    let mut spreads: BTreeMap<SpreadKey, Spread> = BTreeMap::new();
    for fact in facts {
        if Counts::of(fact.kind, fact.origin).is_some() {
            continue;
        }
        for unit in Unit::ALL {
            for key in RollupKey::levels_of(unit, fact) {
                spreads.entry((key, kind_code(fact.kind))).or_default().push(fact);
            }
        }
    }
    spreads.values_mut().for_each(Spread::sort);
    spreads
}

/// What replacing a conversation's facts `old` by `new` changes in the spreads: per row key, the
/// values to take out and those to put in (both sorted), keys that don't change left out. The
/// store applies these in the transaction that replaces the facts, as it does `rollup_deltas`.
pub fn spread_deltas(old: &[ReportFact], new: &[ReportFact]) -> Vec<(SpreadKey, Spread, Spread)> {
    let (mut old, new) = (spreads_of(old), spreads_of(new));
    let mut deltas = Vec::new();
    for (key, add) in new {
        let remove = old.remove(&key).unwrap_or_default();
        if remove != add {
            deltas.push((key, remove, add));
        }
    }
    deltas.extend(old.into_iter().map(|(key, remove)| (key, remove, Spread::default())));
    deltas.sort_by(|a, b| a.0.cmp(&b.0));
    deltas
}

/// Every spread row a fresh build from `facts` gives (for the test that the stored ones never
/// drift).
pub fn fresh_spreads(facts: &[ReportFact]) -> Vec<(SpreadKey, Spread)> {
    spreads_of(facts).into_iter().collect()
}

/// A spread row as a scan reads it: its unit start, inbox, agent, fact kind and stored values.
pub struct SpreadSeen<'a> {
    pub unit: Unit,
    pub start: Millis,
    pub inbox: Id,
    pub agent: Option<Id>,
    pub kind: FactKind,
    pub wall: &'a [u8],
    pub business: &'a [u8],
    pub open: &'a [u8],
    pub conversations: &'a [u8],
}

impl Tally<'_> {
    /// Adds a spread row under `key` into every bucket the plan takes its unit into (taking it
    /// away where the plan's sign is negative), if the scan's filter takes its inbox and agent.
    pub fn add_spread(&mut self, plan: &Plan, row: &SpreadSeen, key: RawKey) {
        let Some(takes) = plan.units.get(&(row.unit, row.start)) else { return };
        if self.scan.inboxes.as_ref().is_some_and(|inboxes| !inboxes.contains(&row.inbox)) {
            return;
        }
        if self.scan.agent.is_some() && row.agent != self.scan.agent {
            return;
        }
        for (bucket, sign) in takes {
            let group = self.groups.entry((*bucket, key.clone())).or_default();
            match row.kind {
                FactKind::FirstResponse => group.first_response.add(row.wall, row.business, *sign),
                FactKind::Response => group.response.add(row.wall, row.business, *sign),
                FactKind::Resolution => {
                    let n = (row.wall.len() / 8) as i64;
                    group.metrics.resolutions = (group.metrics.resolutions as i64 + sign * n) as u64;
                    for id in row.conversations.chunks_exact(16).filter_map(|c| Id::from_slice(c).ok()) {
                        *group.resolved.entry(id).or_default() += sign;
                    }
                    group.resolution.add(row.wall, row.business, *sign);
                    group.resolution_open.add(row.open, &[], *sign);
                }
                FactKind::AssignmentToFirstReply => {
                    group.assignment_to_first_reply.add(row.wall, row.business, *sign)
                }
                kind if sla_outcome(kind).is_some() => {
                    group.sla.add(kind, sign * (row.wall.len() / 8) as i64)
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bucket's count through the plan (day and hour rollups with signs, raw ranges) equals
    /// the count of the facts in it, for local days across a DST change (23 and 25 hours),
    /// half-hour zones' edges, an instant as `from`, and buckets shorter than an hour.
    #[test]
    fn a_plan_counts_each_bucket_exactly_once() {
        let t0: Millis = 1_893_974_400_000; // Monday 2030-01-07 00:00 UTC.
        let minute = 60_000;
        let facts: Vec<Millis> = (0..8 * 24 * 60 / 7).map(|n| t0 - DAY + n * 7 * minute).collect();
        let cases: Vec<(Millis, Millis, Vec<Millis>)> = vec![
            // Local days in UTC+2, then after a change to UTC+3 (a 23-hour day), then back (25).
            (
                t0 + 13 * minute,
                t0 + 5 * DAY,
                vec![
                    t0 + 13 * minute,
                    t0 + 22 * HOUR,
                    t0 + DAY + 21 * HOUR,
                    t0 + 2 * DAY + 21 * HOUR,
                    t0 + 3 * DAY + 22 * HOUR,
                ],
            ),
            // A half-hour zone's days, and one short bucket.
            (
                t0 - 30 * minute,
                t0 + 3 * DAY,
                vec![
                    t0 - 30 * minute,
                    t0 + 18 * HOUR + 30 * minute,
                    t0 + 18 * HOUR + 50 * minute,
                    t0 + 2 * DAY + 18 * HOUR + 30 * minute,
                ],
            ),
            // One bucket of nearly a week, and hourly buckets.
            (t0 - 7 * minute, t0 + 6 * DAY + 5 * minute, vec![t0 - 7 * minute]),
            (t0 + 30 * minute, t0 + 2 * DAY, (0..47).map(|h| t0 + 30 * minute + h * HOUR).collect()),
        ];
        for (from, to, starts) in cases {
            let scan = Scan {
                from,
                to,
                starts: starts.clone(),
                group_by: GroupBy::None,
                inboxes: None,
                agent: None,
            };
            let plan = scan.plan();
            let mut counted = vec![0i64; starts.len()];
            for at in &facts {
                for unit in Unit::ALL {
                    for (bucket, sign) in plan.units.get(&(unit, unit.start(*at))).into_iter().flatten() {
                        counted[*bucket] += sign;
                    }
                }
                if plan.raw.iter().any(|(a, b)| a <= at && at < b) {
                    if let Some(bucket) = scan.bucket(*at) {
                        counted[bucket] += 1;
                    }
                }
            }
            let expected: Vec<i64> = (0..starts.len())
                .map(|b| facts.iter().filter(|at| scan.bucket(**at) == Some(b)).count() as i64)
                .collect();
            assert_eq!(counted, expected, "buckets from {starts:?}");
            assert!(plan.units.keys().any(|(unit, _)| *unit == Unit::Day) || to - from < 2 * DAY);
        }
    }

    /// A random history of facts: kinds, three agents (and none), two inboxes, label lists,
    /// durations with ties, dated over four days around `t0`.
    fn history(seed: u64, n: usize, t0: Millis) -> Vec<ReportFact> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move |below: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % below
        };
        let ids: Vec<Id> = (1..=8u128).map(Id::from_u128).collect();
        let labels: [&[&str]; 4] = [&[], &["vip"], &["vip", "bug"], &["پشتیبانی"]];
        (0..n)
            .map(|_| {
                let kind = kind_of(next(KINDS.len() as u64) as i64).unwrap_or(FactKind::Response);
                let wall = next(40) as Millis * 30_000 + next(3) as Millis * 7;
                ReportFact {
                    kind,
                    conversation_id: ids[4 + next(4) as usize],
                    cycle: 1,
                    instance: 1,
                    inbox_id: ids[next(2) as usize],
                    channel: Channel::parse(if next(2) == 0 { "email" } else { "whatsapp" })
                        .unwrap_or(Channel::Email),
                    team_id: (next(2) == 0).then_some(ids[2]),
                    labels: labels[next(4) as usize].iter().map(|l| l.to_string()).collect(),
                    priority: Priority::None,
                    agent_id: [None, Some(ids[0]), Some(ids[1]), Some(ids[3])][next(4) as usize],
                    origin: if next(2) == 0 { Origin::Customer } else { Origin::Agent },
                    start_at: t0,
                    at: t0 - DAY + next(4 * 24 * 60) as Millis * 60_000 + next(60) as Millis * 1000,
                    wall_ms: wall,
                    business_ms: wall / (1 + next(3) as Millis),
                    open_ms: wall / 2,
                }
            })
            .collect()
    }

    /// A scan's figures the way the stores answer it: rollups and spreads through the plan (with
    /// the stores' own row selection: every stored row of a unit the plan takes, of the level
    /// as the scan reads them), raw facts for its sub-hour edges. Also the number of rows read.
    fn through_the_plan(scan: &Scan, facts: &[ReportFact]) -> (Buckets, usize) {
        let plan = scan.plan();
        let mut tally = Tally::new(scan);
        let key = |agent: Option<Id>, team: Option<Id>, inbox: Id, channel: &str, labels: &str| match scan
            .group_by
        {
            GroupBy::None => RawKey::Null,
            GroupBy::Agent => agent.map_or(RawKey::Null, RawKey::Id),
            GroupBy::Team => team.map_or(RawKey::Null, RawKey::Id),
            GroupBy::Inbox => RawKey::Id(inbox),
            GroupBy::Channel => RawKey::Text(channel.to_owned()),
            GroupBy::Label => RawKey::Text(labels.to_owned()),
        };
        let mut read = 0;
        for (rollup, counts) in rollup_deltas(&[], facts) {
            if rollup.level() == scan.level() && plan.units.contains_key(&(rollup.unit, rollup.start)) {
                read += 1;
                let seen = RollupSeen {
                    unit: rollup.unit,
                    start: rollup.start,
                    inbox: rollup.inbox,
                    agent: rollup.agent,
                    counts,
                };
                let k = key(rollup.agent, rollup.team, rollup.inbox, &rollup.channel, &rollup.labels);
                tally.add_rollup(&plan, &seen, k);
            }
        }
        for ((rollup, kind), spread) in fresh_spreads(facts) {
            if rollup.level() == scan.level() && plan.units.contains_key(&(rollup.unit, rollup.start)) {
                read += 1;
                let blobs = spread.blobs();
                let seen = SpreadSeen {
                    unit: rollup.unit,
                    start: rollup.start,
                    inbox: rollup.inbox,
                    agent: rollup.agent,
                    kind: kind_of(kind).expect("a kind"),
                    wall: &blobs[0],
                    business: &blobs[1],
                    open: &blobs[2],
                    conversations: &blobs[3],
                };
                let k = key(rollup.agent, rollup.team, rollup.inbox, &rollup.channel, &rollup.labels);
                tally.add_spread(&plan, &seen, k);
            }
        }
        for fact in facts {
            if plan.raw.iter().any(|(a, b)| *a <= fact.at && fact.at < *b) {
                read += 1;
                let labels = labels_text(&fact.labels);
                let k = key(fact.agent_id, fact.team_id, fact.inbox_id, fact.channel.as_str(), &labels);
                tally.add(&seen_of(fact), k);
            }
        }
        (tally.finish(), read)
    }

    fn seen_of(fact: &ReportFact) -> Seen {
        Seen {
            at: fact.at,
            kind: fact.kind,
            origin: fact.origin,
            inbox: fact.inbox_id,
            agent: fact.agent_id,
            conversation: fact.conversation_id,
            wall_ms: fact.wall_ms,
            business_ms: fact.business_ms,
            open_ms: fact.open_ms,
        }
    }

    /// The figures folded fact by fact (every fact of the period read: the reference).
    fn row_by_row(scan: &Scan, facts: &[ReportFact]) -> Buckets {
        let mut tally = Tally::new(scan);
        for fact in facts {
            let raw = match scan.group_by {
                GroupBy::None => RawKey::Null,
                GroupBy::Agent => fact.agent_id.map_or(RawKey::Null, RawKey::Id),
                GroupBy::Team => fact.team_id.map_or(RawKey::Null, RawKey::Id),
                GroupBy::Inbox => RawKey::Id(fact.inbox_id),
                GroupBy::Channel => RawKey::Text(fact.channel.as_str().to_owned()),
                GroupBy::Label => RawKey::Text(labels_text(&fact.labels)),
            };
            tally.add(&seen_of(fact), raw);
        }
        tally.finish()
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 96, failure_persistence: None, ..Default::default() })]

        /// Medians, p90s, means, extremes and every count from the spreads and rollups (a day's
        /// values minus its hours outside a bucket, hours, raw edges) equal the figures folded
        /// fact by fact, for random histories, groupings, zones' offsets (whole, half-hour, a
        /// DST change inside the period), bucket lengths, an agent's own figures and one inbox's
        /// (which reads the narrow rows instead of the per-agent ones).
        #[test]
        fn spreads_give_the_row_by_row_figures(
            seed in 0u64..u64::MAX,
            n in 1usize..400,
            offset_minutes in proptest::sample::select(vec![0i64, 120, 180, -300, 210, 330, 45]),
            dst in proptest::bool::ANY,
            hours in proptest::sample::select(vec![1i64, 6, 24, 48]),
            group in 0usize..6,
            own in proptest::bool::ANY,
            one_inbox in proptest::bool::ANY,
        ) {
            let t0: Millis = 1_893_974_400_000; // Monday 2030-01-07 00:00 UTC.
            let facts = history(seed, n, t0);
            let minute = 60_000;
            let from = t0 - DAY - offset_minutes * minute;
            let to = t0 + 3 * DAY - offset_minutes * minute;
            let mut starts = Vec::new();
            let mut at = from;
            while at < to {
                starts.push(at);
                // A DST change: a bucket an hour shorter at the change, the rest shifted.
                at += hours * HOUR - if dst && hours > 1 && starts.len() == 2 { HOUR } else { 0 };
            }
            let group_by = [GroupBy::None, GroupBy::Agent, GroupBy::Team, GroupBy::Inbox, GroupBy::Channel, GroupBy::Label][group];
            let agent = own.then(|| Id::from_u128(1));
            let inboxes = one_inbox.then(|| BTreeSet::from([Id::from_u128(1)]));
            let scan = Scan { from, to, starts, group_by, inboxes, agent };
            let (planned, _) = through_the_plan(&scan, &facts);
            proptest::prop_assert_eq!(planned, row_by_row(&scan, &facts));
        }
    }

    /// A 90-day series of local days (UTC+2, then +3 after a DST change) reads rows per unit and
    /// dimensions, never per fact (200,000 facts: at most a row per unit, dimensions and row
    /// kind), and no bucket edge falls to raw facts.
    #[test]
    fn a_scan_reads_rows_per_day_not_per_fact() {
        let t0: Millis = 1_893_974_400_000;
        let mut starts: Vec<Millis> = (0..45).map(|d| t0 - 2 * HOUR + d * DAY).collect();
        starts.extend((45..90).map(|d| t0 - 3 * HOUR + d * DAY));
        let scan = Scan {
            from: starts[0],
            to: t0 - 3 * HOUR + 90 * DAY,
            starts: starts.clone(),
            group_by: GroupBy::Agent,
            inboxes: None,
            agent: None,
        };
        let plan = scan.plan();
        assert!(plan.raw.is_empty(), "{:?}", plan.raw);
        let days = plan.units.keys().filter(|(unit, _)| *unit == Unit::Day).count();
        let hours = plan.units.keys().filter(|(unit, _)| *unit == Unit::Hour).count();
        assert!(days <= 91 && hours <= 4 * 90, "{days} day and {hours} hour units");
        let spread_over = |n: usize| {
            let mut facts = Vec::new();
            for seed in 0..(n / 500) as u64 {
                // Four days of facts, moved to one of 22 four-day stretches, over few dimensions.
                facts.extend(history(seed, 500, t0).into_iter().map(|mut f| {
                    f.at += DAY + (seed % 22) as Millis * 4 * DAY;
                    f.labels = Vec::new();
                    f.team_id = None;
                    f.channel = Channel::Email;
                    f
                }));
            }
            facts
        };
        let (few, many) = (spread_over(20_000), spread_over(200_000));
        let (figures, _) = through_the_plan(&scan, &few);
        assert_eq!(figures, row_by_row(&scan, &few));
        // At most a row per unit the plan takes, dimensions (two inboxes, four agents) and row
        // kind (the counts, ten duration kinds), however many facts there are: ten times as many
        // facts read not three times as many rows.
        let (_, read_few) = through_the_plan(&scan, &few);
        let (_, read) = through_the_plan(&scan, &many);
        assert!(read <= (days + hours) * 8 * 11, "{read} rows for {days} days and {hours} hours");
        assert!(read < many.len() / 10, "{read} rows for {} facts", many.len());
        assert!(read < 3 * read_few, "{read} rows for {} facts, {read_few} for {}", many.len(), few.len());
    }

    /// A scan grouped by agent over every inbox reads the per-agent rows, which keep the agent
    /// alone; with an inbox filter it reads the narrow rows, which leave the team and the label
    /// list out; grouped by label, the wide ones. Each gives the figures folded fact by fact, from
    /// fewer rows the narrower the level. Every level holds every duration fact once per unit.
    #[test]
    fn a_scan_reads_the_narrowest_rows_that_hold_its_grouping_and_filter() {
        let t0: Millis = 1_893_974_400_000;
        let facts: Vec<ReportFact> = (0..40).flat_map(|seed| history(seed, 500, t0)).collect();
        let starts: Vec<Millis> = (0..4).map(|d| t0 - DAY - 2 * HOUR + d * DAY).collect();
        let scan = |group_by, inboxes: Option<BTreeSet<Id>>| Scan {
            from: starts[0],
            to: t0 + 3 * DAY - 2 * HOUR,
            starts: starts.clone(),
            group_by,
            inboxes,
            agent: None,
        };
        let one_inbox = Some(BTreeSet::from([Id::from_u128(1)]));
        let by_agent = scan(GroupBy::Agent, None);
        let by_agent_in_an_inbox = scan(GroupBy::Agent, one_inbox.clone());
        let by_label = scan(GroupBy::Label, None);
        assert_eq!(by_agent.level(), Level::Agent);
        assert_eq!(scan(GroupBy::None, None).level(), Level::Agent);
        assert_eq!(by_agent_in_an_inbox.level(), Level::Narrow);
        assert_eq!(scan(GroupBy::Inbox, None).level(), Level::Narrow);
        assert_eq!(scan(GroupBy::Team, None).level(), Level::Wide);
        assert_eq!(by_label.level(), Level::Wide);
        let (figures, agent) = through_the_plan(&by_agent, &facts);
        assert_eq!(figures, row_by_row(&by_agent, &facts));
        let (figures, narrow) = through_the_plan(&by_agent_in_an_inbox, &facts);
        assert_eq!(figures, row_by_row(&by_agent_in_an_inbox, &facts));
        let (figures, wide) = through_the_plan(&by_label, &facts);
        assert_eq!(figures, row_by_row(&by_label, &facts));
        assert!(narrow * 3 < wide, "{narrow} narrow rows against {wide} wide ones");
        assert!(agent * 3 < narrow, "{agent} per-agent rows against {narrow} narrow ones");
        // Each level's spreads hold each duration fact once per unit.
        let spreads = fresh_spreads(&facts);
        let values = |level: Level| -> usize {
            spreads.iter().filter(|((key, _), _)| key.level() == level).map(|(_, s)| s.wall.len()).sum()
        };
        let durations = facts.iter().filter(|f| Counts::of(f.kind, f.origin).is_none()).count();
        for level in Level::ALL {
            assert_eq!(values(level), 2 * durations, "{level:?}");
        }
    }
}
