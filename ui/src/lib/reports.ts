// The reports screen's pure logic: the period a preset means in a time zone, durations for people,
// the summary table (each figure beside the previous period's) and the chart's series. Every
// figure is the server's; nothing here adds numbers up but the chart's totals over groups of a
// grouping that partitions (never labels).
import type { Channel, GroupBy, Interval, Metrics, ReportRow, ReportSeries, ReportSummary, SlaOutcomes } from './bindings';
import { CHANNELS } from './filters';
import { locale, t } from './i18n';

export type Preset = 'today' | 'last7' | 'last30' | 'thisMonth' | 'custom';
export const PRESETS: Preset[] = ['today', 'last7', 'last30', 'thisMonth', 'custom'];
export const GROUPINGS: GroupBy[] = ['none', 'agent', 'team', 'inbox', 'label', 'channel'];

/** `YYYY-MM-DD` of an instant in an IANA zone. */
export function dateIn(at: number, timeZone: string): string {
  // From the parts, not a locale's pattern: WebKit's en-CA writes 11/30/2026, Node's 2026-11-30.
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
}

/** A `YYYY-MM-DD` date moved by whole days (calendar arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/**
 * The period `[from, to)` as dates (midnight in the zone, as the server reads them) for a preset;
 * `custom` uses `first`..`last` inclusive (swapped if backwards). Null when a custom date is missing.
 */
export function period(
  preset: Preset,
  now: number,
  timeZone: string,
  custom: { first: string; last: string } = { first: '', last: '' },
): { from: string; to: string } | null {
  const today = dateIn(now, timeZone);
  const tomorrow = addDays(today, 1);
  switch (preset) {
    case 'today':
      return { from: today, to: tomorrow };
    case 'last7':
      return { from: addDays(today, -6), to: tomorrow };
    case 'last30':
      return { from: addDays(today, -29), to: tomorrow };
    case 'thisMonth':
      return { from: `${today.slice(0, 8)}01`, to: tomorrow };
    case 'custom': {
      const ok = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d);
      if (!ok(custom.first) || !ok(custom.last)) return null;
      const [first, last] = custom.first <= custom.last ? [custom.first, custom.last] : [custom.last, custom.first];
      return { from: first, to: addDays(last, 1) };
    }
  }
}

/** A whole number in the current locale's digits. */
export function count(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

/**
 * A duration for people: "45 s", "4 min", "2 h 10 min", "3 d 4 h" (null: "—"). Minutes are
 * rounded to the nearest one from a minute on, hours from a day on.
 */
export function humanDuration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined) return '—';
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return t('reports.units.s', { n: count(s) });
  const minutes = Math.round(s / 60);
  if (minutes < 60) return t('reports.units.min', { n: count(minutes) });
  if (s < 86_400) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    const hours = t('reports.units.h', { n: count(h) });
    return m === 0 ? hours : t('reports.units.join', { a: hours, b: t('reports.units.min', { n: count(m) }) });
  }
  const hoursTotal = Math.round(s / 3600);
  const d = Math.floor(hoursTotal / 24);
  const h = hoursTotal % 24;
  const days = t('reports.units.d', { n: count(d) });
  return h === 0 ? days : t('reports.units.join', { a: days, b: t('reports.units.h', { n: count(h) }) });
}

/** Which clock durations are read on: wall time, or within the inbox's business hours. */
export type Clock = 'wall' | 'business';

/** One figure and the previous period's (null when the group had no row then). */
export type Compared = { now: number | null; before: number | null };

/** A share in thousandths (the server's `within_target_permille`, rounded down) as a percentage
 * with at most one decimal, in the reader's digits: 666 is “66.6%”; null is “—”. */
export function percent(permille: number | null | undefined): string {
  if (permille === null || permille === undefined) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(permille / 1000);
}

/** A group's name in the reader's language where the server's is not one: a channel, and the row
 * without an agent, team or label (its key is null; the server names it in English, as its CSV does). */
export function groupName(groupBy: GroupBy, row: ReportRow): string {
  // A channel's key is its wire name (`webchat`): the reader's name for it instead.
  if (groupBy === 'channel' && CHANNELS.includes(row.key as Channel)) return t(`channels.${row.key as Channel}`);
  if (row.key !== null) return row.name;
  switch (groupBy) {
    case 'none':
    case 'agent':
    case 'team':
    case 'label':
      return t(`reports.noGroup.${groupBy}`);
    default:
      return row.name;
  }
}

/** Whether a change is good, bad or neither: fewer seconds to respond is better, more resolutions too. */
export type Trend = 'better' | 'worse' | 'same' | 'none';

export type TableRow = {
  key: string | null;
  name: string;
  /** How many first responses (the count the median and p90 are of). */
  firstResponses: Compared;
  firstResponseMedian: Compared;
  firstResponseP90: Compared;
  resolutions: Compared;
  /** From an assignment while the customer waited to that assignee's first reply (median). */
  assignmentMedian: Compared;
  /** SLA shares within target, in thousandths, per target. */
  slaFirstResponse: Compared;
  slaNextResponse: Compared;
  slaResolution: Compared;
  /** Breached SLA clocks of every target. */
  slaBreaches: Compared;
  /** This period's outcomes per target (null when the group has no row now). */
  sla: { firstResponse: SlaOutcomes; nextResponse: SlaOutcomes; resolution: SlaOutcomes } | null;
  /** Only in the previous period. */
  gone: boolean;
  /** The team's totals an agent sees beside their own row (no one named). */
  totals: boolean;
};

/** The key of the team's totals row: no group's key. */
export const TEAM_TOTALS = '\u0000team';

/** Whether any row has an SLA outcome now or before (else the service-level table says there are none). */
export function hasSlaOutcomes(rows: TableRow[]): boolean {
  // A share is null exactly when no clock of that target ended met or breached.
  return rows.some((row) => [row.slaFirstResponse, row.slaNextResponse, row.slaResolution]
    .some((share) => share.now !== null || share.before !== null));
}

function durations(metrics: Metrics | undefined, clock: Clock) {
  const d = metrics ? (clock === 'wall' ? metrics.first_response.wall : metrics.first_response.business) : null;
  const a = metrics?.assignment_to_first_reply;
  const assignment = a ? (clock === 'wall' ? a.wall : a.business) : null;
  return { median: d?.median ?? null, p90: d?.p90 ?? null, assignmentMedian: assignment?.median ?? null };
}

/** The SLA figures of a row's metrics (absent in a report kept from before they existed). */
function slaOf(m: Metrics) {
  const none: SlaOutcomes = { met: 0, breached: 0, within_target_permille: null };
  return {
    firstResponse: m.sla_first_response ?? none,
    nextResponse: m.sla_next_response ?? none,
    resolution: m.sla_resolution ?? none,
  };
}

/**
 * The summary's rows, each figure beside the previous period's (matched by key), in the server's
 * order; groups seen only in the previous period follow, with nothing now.
 */
export function summaryTable(summary: ReportSummary, clock: Clock = 'wall'): TableRow[] {
  const keyOf = (row: ReportRow) => row.key ?? '\u0000none';
  const before = new Map(summary.previous.map((row) => [keyOf(row), row]));
  const row = (now: ReportRow | undefined, prev: ReportRow | undefined): TableRow => {
    const a = durations(now?.metrics, clock);
    const b = durations(prev?.metrics, clock);
    const n = now?.metrics;
    const p = prev?.metrics;
    const sn = n ? slaOf(n) : null;
    const sp = p ? slaOf(p) : null;
    type Sla = ReturnType<typeof slaOf>;
    const share = (pick: (s: Sla) => SlaOutcomes): Compared => ({
      now: sn ? pick(sn).within_target_permille : null,
      before: sp ? pick(sp).within_target_permille : null,
    });
    return {
      key: (now ?? prev)!.key,
      name: groupName(summary.group_by, (now ?? prev)!),
      firstResponses: { now: n ? n.first_response.count : null, before: p ? p.first_response.count : null },
      firstResponseMedian: { now: n ? a.median : null, before: p ? b.median : null },
      firstResponseP90: { now: n ? a.p90 : null, before: p ? b.p90 : null },
      resolutions: { now: n ? n.resolutions : null, before: p ? p.resolutions : null },
      assignmentMedian: { now: n ? a.assignmentMedian : null, before: p ? b.assignmentMedian : null },
      slaFirstResponse: share((s) => s.firstResponse),
      slaNextResponse: share((s) => s.nextResponse),
      slaResolution: share((s) => s.resolution),
      slaBreaches: {
        now: sn ? sn.firstResponse.breached + sn.nextResponse.breached + sn.resolution.breached : null,
        before: sp ? sp.firstResponse.breached + sp.nextResponse.breached + sp.resolution.breached : null,
      },
      sla: sn,
      gone: !now,
      totals: false,
    };
  };
  const rows = summary.rows.map((now) => row(now, before.get(keyOf(now))));
  const seen = new Set(summary.rows.map(keyOf));
  for (const prev of summary.previous) if (!seen.has(keyOf(prev))) rows.push(row(undefined, prev));
  const team = summary.team_totals;
  if (team) {
    const name = t('reports.table.teamTotals');
    rows.push({
      ...row({ key: TEAM_TOTALS, name, metrics: team.now }, { key: TEAM_TOTALS, name, metrics: team.previous }),
      totals: true,
    });
  }
  return rows;
}

/** How a figure moved; `lowerIsBetter` for durations. */
export function trend(value: Compared, lowerIsBetter: boolean): Trend {
  if (value.now === null || value.before === null) return 'none';
  if (value.now === value.before) return 'same';
  return (value.now < value.before) === lowerIsBetter ? 'better' : 'worse';
}

export type ChartSeries = {
  labels: string[];
  messagesIn: number[];
  firstResponses: number[];
  resolutions: number[];
};

/**
 * Per bucket: messages in, first responses and resolutions. The series is asked ungrouped, so
 * its one row is the total; for a grouping whose groups partition the facts (not labels, where a
 * conversation counts under each of its labels) the rows are summed.
 */
export function chartSeries(series: ReportSeries): ChartSeries {
  const n = series.buckets.length;
  const sum = (pick: (m: Metrics) => number) => {
    const out = new Array<number>(n).fill(0);
    const rows = series.group_by === 'label' ? [] : series.rows;
    for (const row of rows) row.points.forEach((m, i) => (out[i] += pick(m)));
    return out;
  };
  return {
    labels: series.buckets.map((b) => bucketLabel(b.start, series.interval, series.time_zone)),
    messagesIn: sum((m) => m.messages_in),
    firstResponses: sum((m) => m.first_response.count),
    resolutions: sum((m) => m.resolutions),
  };
}

/** A report's own period for people: "1 Nov – 30 Nov 2026" (the end is exclusive, so the day before it). */
export function periodText(from: number, to: number, timeZone: string): string {
  const format = new Intl.DateTimeFormat(locale(), { timeZone, day: 'numeric', month: 'short', year: 'numeric' });
  return `${format.format(from)} – ${format.format(Math.max(from, to - 1))}`;
}

const BUCKET_FORMATS: Record<Interval, Intl.DateTimeFormatOptions> = {
  hour: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  day: { day: 'numeric', month: 'short' },
  week: { day: 'numeric', month: 'short' },
  month: { month: 'short', year: 'numeric' },
};

/** A bucket's start as the chart's axis shows it, in the report's zone and the reader's language:
 * "14:00", "30 Nov" (a day, or the Monday of a week), "Nov 2026". */
export function bucketLabel(start: number, interval: Interval, timeZone: string): string {
  return new Intl.DateTimeFormat(locale(), { timeZone, ...BUCKET_FORMATS[interval] }).format(start);
}
