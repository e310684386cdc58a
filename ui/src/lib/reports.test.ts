import { afterEach, describe, expect, it } from 'vitest';
import type { Metrics, ReportRow, ReportSeries, ReportSummary } from './bindings';
import { setLocale } from './i18n';
import {
  addDays, bucketLabel, chartSeries, dateIn, hasSlaOutcomes, humanDuration, percent, period, summaryTable, trend,
} from './reports';

afterEach(() => setLocale('en'));

function metrics(overrides: Partial<Metrics> = {}): Metrics {
  const none = { count: 0, wall: null, business: null };
  return {
    cycles_started: 0, cycles_started_by_customers: 0, messages_in: 0, messages_out: 0, resolutions: 0,
    conversations_resolved: 0, reopened: 0, first_response: none, response: none, resolution: none, resolution_open: none,
    assignment_to_first_reply: none,
    sla_first_response: sla(0, 0), sla_next_response: sla(0, 0), sla_resolution: sla(0, 0),
    ...overrides,
  };
}

/** SLA outcomes as the server writes them: the share in thousandths, rounded down. */
function sla(met: number, breached: number) {
  return { met, breached, within_target_permille: met + breached ? Math.floor((met * 1000) / (met + breached)) : null };
}

function firstResponse(median: number, p90: number, business = median) {
  const d = (m: number, p: number) => ({ mean: m, median: m, p90: p, min: 0, max: p });
  return { count: 3, wall: d(median, p90), business: d(business, business) };
}

const row = (key: string | null, name: string, m: Partial<Metrics>): ReportRow => ({ key, name, metrics: metrics(m) });

describe('durations for people', () => {
  it.each([
    [null, '—'],
    [0, '0 s'],
    [45, '45 s'],
    [60, '1 min'],
    [4 * 60 + 20, '4 min'],
    [59 * 60 + 40, '1 h'],
    [2 * 3600 + 10 * 60, '2 h 10 min'],
    [2 * 3600 + 10 * 60 + 29, '2 h 10 min'],
    [86_400 + 4 * 3600, '1 d 4 h'],
    [3 * 86_400, '3 d'],
  ])('%s s is “%s”', (secs, text) => {
    expect(humanDuration(secs)).toBe(text);
  });

  it('speaks Persian with Persian digits', () => {
    setLocale('fa');
    expect(humanDuration(2 * 3600 + 10 * 60)).toBe('۲ ساعت و ۱۰ دقیقه');
    expect(humanDuration(4 * 60)).toBe('۴ دقیقه');
  });
});

describe('periods', () => {
  // 2026-11-30 03:00 UTC is already 06:30 in Tehran, and still the 29th in Los Angeles.
  const now = Date.UTC(2026, 10, 30, 3, 0);

  it('reads today in the chosen zone', () => {
    expect(dateIn(now, 'Asia/Tehran')).toBe('2026-11-30');
    expect(dateIn(now, 'America/Los_Angeles')).toBe('2026-11-29');
  });

  it('turns presets into [from, to) dates', () => {
    expect(period('today', now, 'UTC')).toEqual({ from: '2026-11-30', to: '2026-12-01' });
    expect(period('last7', now, 'UTC')).toEqual({ from: '2026-11-24', to: '2026-12-01' });
    expect(period('last30', now, 'UTC')).toEqual({ from: '2026-11-01', to: '2026-12-01' });
    expect(period('thisMonth', now, 'America/Los_Angeles')).toEqual({ from: '2026-11-01', to: '2026-11-30' });
  });

  it('takes custom dates inclusive, in either order, and waits for both', () => {
    expect(period('custom', now, 'UTC', { first: '2026-11-10', last: '2026-11-12' })).toEqual({ from: '2026-11-10', to: '2026-11-13' });
    expect(period('custom', now, 'UTC', { first: '2026-11-12', last: '2026-11-10' })).toEqual({ from: '2026-11-10', to: '2026-11-13' });
    expect(period('custom', now, 'UTC', { first: '2026-11-12', last: '' })).toBeNull();
  });

  it('moves across months and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('the summary table', () => {
  const summary: ReportSummary = {
    from: 0, to: 1, time_zone: 'UTC', group_by: 'agent',
    rows: [
      row('a', 'Omid', { cycles_started: 5, resolutions: 4, first_response: firstResponse(240, 900, 60) }),
      row(null, 'Unassigned', { cycles_started: 2 }),
    ],
    previous: [
      row(null, 'Unassigned', { cycles_started: 1 }),
      row('a', 'Omid', { cycles_started: 3, resolutions: 4, first_response: firstResponse(300, 600) }),
      row('b', 'Sara', { cycles_started: 7 }),
    ],
  };

  it('names the group without an agent in the reader’s language', () => {
    setLocale('fa');
    expect(summaryTable(summary).map((r) => r.name)).toEqual(['Omid', 'بدون کارشناس', 'Sara']);
    setLocale('en');
    expect(summaryTable({ ...summary, group_by: 'team' })[1].name).toBe('No team');
    const channels = { ...summary, group_by: 'channel' as const, rows: [row('webchat', 'webchat', {})], previous: [] };
    expect(summaryTable(channels)[0].name).toBe('Web chat');
  });

  it('sets an agent’s team totals last, beside the period before, no one named', () => {
    const mine: ReportSummary = {
      ...summary,
      rows: [summary.rows[0]],
      previous: [],
      team_totals: { now: metrics({ resolutions: 9 }), previous: metrics({ resolutions: 7 }) },
    };
    const rows = summaryTable(mine);
    expect(rows.map((r) => [r.name, r.totals])).toEqual([['Omid', false], ['Team totals (no one named)', true]]);
    expect(rows[1].resolutions).toEqual({ now: 9, before: 7 });
    expect(summaryTable(summary).some((r) => r.totals)).toBe(false);
  });

  it('puts each figure beside the previous period’s, matched by group', () => {
    const rows = summaryTable(summary);
    expect(rows.map((r) => r.name)).toEqual(['Omid', 'Unassigned', 'Sara']);
    expect(rows[0].firstResponses).toEqual({ now: 3, before: 3 });
    expect(rows[0].firstResponseMedian).toEqual({ now: 240, before: 300 });
    expect(rows[0].firstResponseP90).toEqual({ now: 900, before: 600 });
    expect(rows[1].firstResponses).toEqual({ now: 0, before: 0 });
    expect(rows[1].firstResponseMedian).toEqual({ now: null, before: null });
  });

  it('keeps a group seen only before, with nothing now', () => {
    const sara = summaryTable(summary)[2];
    expect(sara.gone).toBe(true);
    expect(sara.firstResponses).toEqual({ now: null, before: 0 });
    expect(sara.resolutions).toEqual({ now: null, before: 0 });
  });

  it('reads business time when asked', () => {
    expect(summaryTable(summary, 'business')[0].firstResponseMedian.now).toBe(60);
  });

  it('says whether a figure got better: shorter responses, more resolutions', () => {
    const [omid] = summaryTable(summary);
    expect(trend(omid.firstResponseMedian, true)).toBe('better');
    expect(trend(omid.firstResponseP90, true)).toBe('worse');
    expect(trend(omid.resolutions, false)).toBe('same');
    expect(trend({ now: 3, before: null }, false)).toBe('none');
  });
});

describe('service levels and assignment to first reply', () => {
  const summary: ReportSummary = {
    from: 0, to: 1, time_zone: 'UTC', group_by: 'agent',
    rows: [
      row('a', 'Omid', {
        assignment_to_first_reply: firstResponse(120, 600, 30),
        sla_first_response: sla(2, 1), sla_next_response: sla(0, 1), sla_resolution: sla(3, 0),
      }),
      row('b', 'Sara', { cycles_started: 1 }),
    ],
    previous: [row('a', 'Omid', { sla_first_response: sla(1, 1), assignment_to_first_reply: firstResponse(180, 600) })],
  };

  it('puts each target’s share within target beside the previous period’s, and the breaches', () => {
    const [omid, sara] = summaryTable(summary);
    expect(omid.slaFirstResponse).toEqual({ now: 666, before: 500 });
    expect(omid.slaNextResponse).toEqual({ now: 0, before: null });
    expect(omid.slaResolution).toEqual({ now: 1000, before: null });
    expect(omid.slaBreaches).toEqual({ now: 2, before: 1 });
    expect(omid.sla?.firstResponse).toEqual({ met: 2, breached: 1, within_target_permille: 666 });
    expect(trend(omid.slaFirstResponse, false)).toBe('better');
    expect(trend(omid.slaBreaches, true)).toBe('worse');
    expect(sara.slaFirstResponse).toEqual({ now: null, before: null });
    expect(hasSlaOutcomes([sara])).toBe(false);
    expect(hasSlaOutcomes([omid, sara])).toBe(true);
  });

  it('reads assignment to first reply on the chosen clock', () => {
    expect(summaryTable(summary)[0].assignmentMedian).toEqual({ now: 120, before: 180 });
    expect(summaryTable(summary, 'business')[0].assignmentMedian).toEqual({ now: 30, before: 180 });
  });

  it('shows a report kept from before these figures existed without them', () => {
    const kept = { ...metrics(), sla_first_response: undefined, sla_next_response: undefined, sla_resolution: undefined };
    const old = { ...summary, rows: [{ key: 'a', name: 'Omid', metrics: kept as unknown as Metrics }], previous: [] };
    const [omid] = summaryTable(old);
    expect(omid.slaFirstResponse).toEqual({ now: null, before: null });
    expect(omid.slaBreaches).toEqual({ now: 0, before: null });
    expect(hasSlaOutcomes([omid])).toBe(false);
  });

  it('writes shares as percentages in the reader’s digits', () => {
    expect(percent(666)).toBe('66.6%');
    expect(percent(1000)).toBe('100%');
    expect(percent(0)).toBe('0%');
    expect(percent(null)).toBe('—');
    setLocale('fa');
    expect(percent(666)).toMatch(/۶۶٫۶/);
  });
});

describe('the chart', () => {
  const day = 86_400_000;
  const buckets = [{ start: 0, end: day, label: 'x' }, { start: day, end: 2 * day, label: 'y' }];
  const series = (group_by: ReportSeries['group_by']): ReportSeries => ({
    from: 0, to: 2, time_zone: 'UTC', interval: 'day', group_by, buckets,
    rows: [
      { key: 'x', name: 'X', points: [metrics({ messages_in: 3, resolutions: 1 }), metrics({ messages_in: 1 })] },
      { key: 'y', name: 'Y', points: [metrics({ messages_in: 2, first_response: firstResponse(1, 1) }), metrics()] },
    ],
  });

  it('totals a partitioning grouping per bucket', () => {
    expect(chartSeries(series('agent'))).toEqual({
      labels: ['Jan 1', 'Jan 2'], messagesIn: [5, 1], firstResponses: [3, 0], resolutions: [1, 0],
    });
  });

  it('labels buckets in the report’s zone and the reader’s language', () => {
    const at = Date.UTC(2026, 10, 30, 10, 30);
    expect(bucketLabel(at, 'hour', 'Asia/Tehran')).toBe('14:00');
    expect(bucketLabel(at, 'day', 'UTC')).toBe('Nov 30');
    expect(bucketLabel(at, 'month', 'UTC')).toBe('Nov 2026');
    setLocale('fa');
    expect(bucketLabel(at, 'hour', 'Asia/Tehran')).toBe('۱۴:۰۰');
  });

  it('never adds labels up (a conversation counts under each of its labels)', () => {
    expect(chartSeries(series('label')).messagesIn).toEqual([0, 0]);
  });
});
