//! Seeded property tests of the business-hours functions over random calendars (acceptance B8).
//!
//! Random calendars across zones with unusual DST (30-minute shifts, midnight transitions, none
//! at all), versions and exceptions; instants are drawn around the calendars' own boundaries so
//! the half-open edges get hit. A hand-rolled generator keeps proto free of a proptest
//! dependency; a failure names the seed, and the case is replayed by running that seed alone.

use jiff::civil::Date;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::Timestamp;
use switchboard_proto::calendar::{
    add_business_ms, business_ms_between, is_open, next_close, next_open, open_intervals, BusinessHours,
    Calendar, CalendarHistory, CalendarVersion, Holiday, SpecialDay, TimeRange, WeeklyHours,
};
use switchboard_proto::Millis;

const MIN: Millis = 60 * 1000;
const H: Millis = 60 * MIN;
const DAY: Millis = 24 * H;

/// 2025-06-01T00:00Z to 2027-06-01T00:00Z: four DST seasons in each zone.
const RANGE: (Millis, Millis) = (1_748_736_000_000, 1_811_808_000_000);

const ZONES: [&str; 10] = [
    "UTC",
    "Europe/Berlin",
    "Europe/Bucharest",
    "Asia/Tehran",
    "America/New_York",
    "America/Santiago",    // transitions at local midnight
    "Australia/Lord_Howe", // a 30-minute DST shift
    "Asia/Kolkata",
    "Pacific/Chatham", // +12:45 / +13:45
    "America/St_Johns",
];

/// SplitMix64: tiny, seedable, good enough to spread test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64) as usize]
    }
}

/// A generated calendar kept in minutes too, for the wall-clock oracle: (start, end) with
/// `end > 1440` for an overnight tail.
#[derive(Debug, Clone)]
struct Model {
    zone: &'static str,
    weekly: [Vec<(u16, u16)>; 7],
    holidays: Vec<Date>,
    special: Vec<(Date, Vec<(u16, u16)>)>,
}

impl Model {
    fn spans_on(&self, day: Date) -> &[(u16, u16)] {
        if self.holidays.contains(&day) {
            return &[];
        }
        if let Some((_, spans)) = self.special.iter().find(|(d, _)| *d == day) {
            return spans;
        }
        &self.weekly[day.weekday().to_monday_zero_offset() as usize]
    }

    fn calendar(&self) -> Calendar {
        let ranges = |spans: &[(u16, u16)]| spans.iter().map(|&(s, e)| time_range(s, e)).collect::<Vec<_>>();
        let w = &self.weekly;
        Calendar {
            time_zone: self.zone.to_owned(),
            weekly: WeeklyHours {
                mon: ranges(&w[0]),
                tue: ranges(&w[1]),
                wed: ranges(&w[2]),
                thu: ranges(&w[3]),
                fri: ranges(&w[4]),
                sat: ranges(&w[5]),
                sun: ranges(&w[6]),
            },
            holidays: self.holidays.iter().map(|d| Holiday { date: d.to_string(), label: None }).collect(),
            special_days: self
                .special
                .iter()
                .map(|(d, spans)| SpecialDay { date: d.to_string(), intervals: ranges(spans), label: None })
                .collect(),
        }
    }
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn time_range(start: u16, end: u16) -> TimeRange {
    // An overnight end is written as the next day's time; a plain 1440 as "24:00".
    let end = if end > 1440 { hhmm(end - 1440) } else { hhmm(end) };
    TimeRange { start: hhmm(start), end }
}

/// Up to three same-day intervals from sorted cut points, and sometimes an overnight tail.
fn random_day(rng: &mut Rng) -> Vec<(u16, u16)> {
    let step = *rng.pick(&[1, 15, 30, 60]);
    let count = rng.range(0, 4) as usize;
    let mut cuts: Vec<u16> = (0..count * 2).map(|_| (rng.range(0, 1440 / step + 1) * step) as u16).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut spans: Vec<(u16, u16)> = cuts.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    let last_end = spans.last().map_or(0, |s| s.1);
    if last_end < 1439 && rng.chance(30) {
        let start = rng.range(i64::from(last_end), 1440) as u16;
        let end = 1440 + rng.range(0, i64::from(start).min(600)) as u16;
        if end > start {
            spans.push((start, end));
        }
    }
    spans
}

fn random_date(rng: &mut Rng) -> Date {
    let day = Timestamp::from_millisecond(rng.range(RANGE.0, RANGE.1)).expect("in range");
    day.to_zoned(TimeZone::UTC).date()
}

fn random_model(rng: &mut Rng) -> Model {
    let zone = *rng.pick(&ZONES);
    // Overnight tails may collide with the next day's opening; draw until valid.
    loop {
        let mut model = Model {
            zone,
            weekly: std::array::from_fn(|_| random_day(rng)),
            holidays: Vec::new(),
            special: Vec::new(),
        };
        let mut used = Vec::new();
        for _ in 0..rng.range(0, 4) {
            let date = random_date(rng);
            if !used.contains(&date) {
                used.push(date);
                model.holidays.push(date);
            }
        }
        for _ in 0..rng.range(0, 4) {
            let date = random_date(rng);
            if !used.contains(&date) {
                used.push(date);
                model.special.push((date, random_day(rng)));
            }
        }
        if model.calendar().validate().is_ok() {
            return model;
        }
    }
}

struct Case {
    seed: u64,
    models: Vec<Model>,
    history: CalendarHistory,
    hours: BusinessHours,
    /// Open-stretch boundaries over the test range, to draw instants on and next to.
    edges: Vec<Millis>,
}

fn case(seed: u64) -> Case {
    let mut rng = Rng(seed);
    let count = rng.range(1, 4);
    let mut from: Vec<Millis> = (0..count).map(|_| rng.range(RANGE.0, RANGE.1) / MIN * MIN).collect();
    from.sort_unstable();
    from.dedup();
    let models: Vec<Model> = from.iter().map(|_| random_model(&mut rng)).collect();
    let history = CalendarHistory {
        versions: from
            .iter()
            .zip(&models)
            .enumerate()
            .map(|(i, (&effective_from, model))| CalendarVersion {
                version: i as u32 + 1,
                effective_from,
                calendar: model.calendar(),
            })
            .collect(),
    };
    let hours = BusinessHours::new(&history).expect("generated histories are valid");
    let edges = open_intervals(&hours, RANGE.0, RANGE.1).iter().flat_map(|i| [i.start, i.end]).collect();
    Case { seed, models, history, hours, edges }
}

impl Case {
    /// An instant in the range: often on or beside a boundary, otherwise anywhere.
    fn instant(&self, rng: &mut Rng) -> Millis {
        if !self.edges.is_empty() && rng.chance(60) {
            let edge = *rng.pick(&self.edges);
            return edge + *rng.pick(&[-1, 0, 0, 1, -MIN, MIN]);
        }
        rng.range(RANGE.0, RANGE.1)
    }

    fn duration(&self, rng: &mut Rng) -> Millis {
        match rng.range(0, 4) {
            0 => rng.range(0, 1000),
            1 => rng.range(0, 8 * H),
            2 => rng.range(0, 3 * DAY) / MIN * MIN,
            _ => rng.range(0, 20 * DAY),
        }
    }

    fn context(&self) -> String {
        format!("seed {} history {}", self.seed, serde_json::to_string(&self.history).unwrap_or_default())
    }

    /// `is_open` from the rules read off the wall clock, for instants with no tz transition
    /// within three days (where local times and instants correspond one to one); `None`
    /// elsewhere.
    fn oracle_is_open(&self, at: Millis) -> Option<bool> {
        let index = self.history.versions.partition_point(|v| v.effective_from <= at).saturating_sub(1);
        let model = &self.models[index];
        let tz = TimeZoneDatabase::bundled().get(model.zone).expect("zone");
        let ts = |ms: Millis| Timestamp::from_millisecond(ms).expect("in range");
        if let Some(transition) = tz.following(ts(at - 3 * DAY)).next() {
            if transition.timestamp() <= ts(at + 3 * DAY) {
                return None;
            }
        }
        let local = tz.to_datetime(ts(at));
        let time = local.time();
        let ms_of_day = (i64::from(time.hour()) * 60 + i64::from(time.minute())) * MIN
            + i64::from(time.second()) * 1000
            + i64::from(time.millisecond());
        let today = local.date();
        let yesterday = today.yesterday().expect("in range");
        let open_today = model
            .spans_on(today)
            .iter()
            .any(|&(s, e)| i64::from(s) * MIN <= ms_of_day && ms_of_day < i64::from(e) * MIN);
        let tail_of_yesterday = model
            .spans_on(yesterday)
            .iter()
            .any(|&(_, e)| e > 1440 && ms_of_day < (i64::from(e) - 1440) * MIN);
        Some(open_today || tail_of_yesterday)
    }
}

const CASES: u64 = 250;
const QUERIES: usize = 12;

#[test]
fn add_business_ms_round_trips_and_is_the_earliest_such_instant() {
    for seed in 0..CASES {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0xA11CE);
        for _ in 0..QUERIES {
            let from = c.instant(&mut rng);
            let ms = c.duration(&mut rng);
            let Some(end) = add_business_ms(&c.hours, from, ms) else {
                // Only a calendar with little open time runs past the ten-year horizon.
                assert!(business_ms_between(&c.hours, from, RANGE.1) < ms, "{}", c.context());
                continue;
            };
            assert_eq!(business_ms_between(&c.hours, from, end), ms, "from {from} ms {ms}: {}", c.context());
            if ms > 0 {
                assert!(end > from, "{}", c.context());
                assert_eq!(
                    business_ms_between(&c.hours, from, end - 1),
                    ms - 1,
                    "not earliest: {}",
                    c.context()
                );
            } else {
                assert_eq!(end, from);
            }
        }
    }
}

#[test]
fn business_time_is_additive_over_any_split_point() {
    for seed in 0..CASES {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0xADD);
        for _ in 0..QUERIES {
            let mut points = [c.instant(&mut rng), c.instant(&mut rng), c.instant(&mut rng)];
            if rng.chance(70) {
                // Keep most ranges short so the test stays fast; some span the whole range.
                points[1] = points[0] + c.duration(&mut rng);
                points[2] = points[1] + c.duration(&mut rng);
            }
            points.sort_unstable();
            let [a, b, d] = points;
            let between = |x, y| business_ms_between(&c.hours, x, y);
            assert_eq!(between(a, b) + between(b, d), between(a, d), "split {a} {b} {d}: {}", c.context());
            assert!(between(a, d) <= d - a);
            assert_eq!(between(d, a), 0);
        }
    }
}

#[test]
fn add_business_ms_is_monotonic_in_the_duration() {
    for seed in 0..CASES {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0x3070);
        for _ in 0..QUERIES {
            let from = c.instant(&mut rng);
            let (x, y) = (c.duration(&mut rng), c.duration(&mut rng));
            let (small, large) = (x.min(y), x.max(y));
            match (add_business_ms(&c.hours, from, small), add_business_ms(&c.hours, from, large)) {
                (Some(s), Some(l)) if small < large => assert!(s < l, "{small} {large}: {}", c.context()),
                (Some(s), Some(l)) => assert_eq!(s, l),
                (_, None) => {}
                (None, Some(_)) => panic!("a longer duration was reached but a shorter not: {}", c.context()),
            }
        }
    }
}

#[test]
fn next_open_and_next_close_agree_with_is_open() {
    for seed in 0..CASES {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0x0BE7);
        for _ in 0..QUERIES {
            let t = c.instant(&mut rng);
            let open = is_open(&c.hours, t);
            assert_eq!(business_ms_between(&c.hours, t, t + 1), Millis::from(open), "{}", c.context());
            if let Some(o) = next_open(&c.hours, t) {
                assert!(is_open(&c.hours, o), "next_open {o} from {t} is closed: {}", c.context());
                assert!(o >= t);
                assert_eq!(o == t, open);
                assert_eq!(business_ms_between(&c.hours, t, o), 0, "{}", c.context());
                if o > t {
                    assert!(!is_open(&c.hours, o - 1), "{}", c.context());
                }
            } else {
                assert!(!open);
            }
            if let Some(close) = next_close(&c.hours, t) {
                assert!(!is_open(&c.hours, close), "next_close {close} from {t} is open: {}", c.context());
                assert_eq!(close == t, !open);
                assert_eq!(
                    business_ms_between(&c.hours, t, close),
                    close - t,
                    "open throughout: {}",
                    c.context()
                );
            } else {
                assert!(open);
            }
        }
    }
}

#[test]
fn is_open_matches_the_wall_clock_away_from_transitions() {
    let mut checked = 0;
    for seed in 0..CASES {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0x0AC1E);
        for _ in 0..QUERIES * 4 {
            let t = c.instant(&mut rng);
            if let Some(expected) = c.oracle_is_open(t) {
                checked += 1;
                assert_eq!(is_open(&c.hours, t), expected, "at {t}: {}", c.context());
            }
        }
    }
    assert!(checked > 5_000, "too few instants away from transitions: {checked}");
}

#[test]
fn business_time_is_the_count_of_open_minutes() {
    // Every boundary is a whole minute (all zones here have whole-minute offsets in the range
    // and versions start on minutes), so sampling each minute counts business time exactly.
    for seed in (0..CASES).step_by(5) {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0x5A3);
        let from = c.instant(&mut rng) / MIN * MIN;
        let to = from + rng.range(0, 2 * 24 * 60) * MIN;
        let sampled =
            (from..to).step_by(MIN as usize).filter(|&m| is_open(&c.hours, m)).count() as Millis * MIN;
        assert_eq!(business_ms_between(&c.hours, from, to), sampled, "{from}..{to}: {}", c.context());
    }
}

#[test]
fn open_intervals_are_ordered_merged_and_sum_to_business_time() {
    for seed in 0..CASES {
        let c = case(seed);
        let mut rng = Rng(seed ^ 0x1417);
        let from = c.instant(&mut rng);
        let to = from + c.duration(&mut rng) * 3;
        let intervals = open_intervals(&c.hours, from, to);
        for pair in intervals.windows(2) {
            assert!(pair[0].end < pair[1].start, "unmerged or unordered: {}", c.context());
        }
        assert!(intervals.iter().all(|i| from <= i.start && i.start < i.end && i.end <= to));
        let total: Millis = intervals.iter().map(|i| i.end - i.start).sum();
        assert_eq!(total, business_ms_between(&c.hours, from, to), "{}", c.context());
    }
}
