import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { SummaryReport } from '../bindings';
import { toasts } from '../toasts.svelte';
import { ReportsState } from './reports.svelte';
import { deferred, directory, fakeApi, resetFakeApi } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

// 2026-11-30 10:00 UTC.
const NOW = Date.UTC(2026, 10, 30, 10);

function make() {
  return new ReportsState({ directory: () => directory, now: () => NOW });
}

function summary(as_of: number, offline: string | null = null): SummaryReport {
  return {
    report: { from: 1, to: 2, time_zone: 'Asia/Tehran', group_by: 'agent', rows: [], previous: [] },
    as_of,
    offline,
  };
}

describe('ReportsState', () => {
  it('asks for the last 7 days in a zone it knows, the chart ungrouped', async () => {
    const reports = make();
    await reports.open();
    expect(reports.timeZone).toMatch(/^(Asia\/Tehran|Europe\/Bucharest|UTC)$/);
    reports.timeZone = 'Asia/Tehran';
    await reports.load();
    const query = { from: '2026-11-24', to: '2026-12-01', time_zone: 'Asia/Tehran', group_by: 'agent', interval: 'day' };
    expect(fakeApi.reportSummary).toHaveBeenLastCalledWith(query);
    expect(fakeApi.reportSeries).toHaveBeenLastCalledWith({ ...query, group_by: 'none' });
    expect(fakeApi.liveFigures).toHaveBeenCalled();
    expect(reports.summary).not.toBeNull();
  });

  it('asks again with a changed control’s new value', async () => {
    const reports = make();
    await reports.open();
    reports.set({ groupBy: 'team', timeZone: 'Europe/Bucharest' });
    await Promise.resolve();
    expect(fakeApi.reportSummary).toHaveBeenLastCalledWith(expect.objectContaining({ group_by: 'team', time_zone: 'Europe/Bucharest' }));
  });

  it('charts today by the hour, and a longer period by the day again', async () => {
    const reports = make();
    await reports.open();
    reports.setPreset('today');
    expect(reports.interval).toBe('hour');
    reports.setPreset('last30');
    expect(reports.interval).toBe('day');
  });

  it('shows each failure in its place: forbidden, the server’s refusal, offline without a kept copy', async () => {
    const reports = make();
    fakeApi.reportSummary.mockRejectedValue(new ApiError('forbidden', 'leads only'));
    fakeApi.reportSeries.mockRejectedValue(new ApiError('validation', 'from must be before to'));
    fakeApi.liveFigures.mockRejectedValue(new ApiError('offline', 'network: refused'));
    await reports.open();
    expect(reports.summaryError?.code).toBe('forbidden');
    expect(reports.seriesError?.text).toContain('from must be before to');
    expect(reports.liveError?.code).toBe('offline');
    expect(reports.summary).toBeNull();
  });

  it('keeps showing the last answer when a later one fails, and takes the kept copy the shell gives offline', async () => {
    const reports = make();
    fakeApi.reportSummary.mockResolvedValueOnce(summary(5));
    await reports.open();
    fakeApi.reportSummary.mockResolvedValueOnce(summary(5, 'network: refused'));
    await reports.load();
    expect(reports.summary?.offline).toBe('network: refused');
    expect(reports.summary?.as_of).toBe(5);
    fakeApi.reportSummary.mockRejectedValueOnce(new ApiError('offline', 'gone'));
    await reports.load();
    expect(reports.summary?.as_of).toBe(5);
    expect(reports.summaryError?.code).toBe('offline');
  });

  it('clears a report the server refused for the new controls, so no old figures stand under them', async () => {
    const reports = make();
    await reports.open();
    expect(reports.summary).not.toBeNull();
    fakeApi.reportSummary.mockRejectedValueOnce(new ApiError('validation', 'a report covers at most 366 days'));
    await reports.load();
    expect(reports.summary).toBeNull();
    expect(reports.summaryError?.text).toContain('366 days');
  });

  it('drops an answer to an older question', async () => {
    const reports = make();
    await reports.open();
    const slow = deferred<SummaryReport>();
    fakeApi.reportSummary.mockReturnValueOnce(slow.promise);
    const first = reports.load();
    fakeApi.reportSummary.mockResolvedValueOnce(summary(2));
    await reports.load();
    slow.resolve(summary(1));
    await first;
    expect(reports.summary?.as_of).toBe(2);
  });

  it('waits for both custom dates before asking', async () => {
    const reports = make();
    await reports.open();
    fakeApi.reportSummary.mockClear();
    reports.customLast = '';
    reports.setPreset('custom');
    expect(fakeApi.reportSummary).not.toHaveBeenCalled();
  });

  it('exports through the shell and says where the file went, or why not', async () => {
    const reports = make();
    await reports.open();
    const show = vi.spyOn(toasts, 'show');
    fakeApi.exportReport.mockResolvedValueOnce('/tmp/summary.csv');
    await reports.exportCsv('summary');
    expect(fakeApi.exportReport).toHaveBeenLastCalledWith('summary', expect.objectContaining({ group_by: 'agent' }));
    expect(show).toHaveBeenLastCalledWith(expect.stringContaining('/tmp/summary.csv'));
    fakeApi.exportReport.mockRejectedValueOnce(new ApiError('offline', 'down'));
    await reports.exportCsv('conversations');
    expect(show).toHaveBeenLastCalledWith(expect.stringContaining('can’t be reached'), 'error');
    expect(reports.exporting).toBeNull();
  });

  it('drills into a bar: its bucket as instants in the series’ zone, the count it showed, the rows', async () => {
    const reports = make();
    const start = Date.UTC(2026, 10, 29, 20, 30);
    const end = start + 86_400_000;
    const point = (n: number) => ({ messages_in: n, first_response: { count: 1 }, resolutions: 0 });
    fakeApi.reportSeries.mockResolvedValue({
      report: {
        from: start - 86_400_000, to: end, time_zone: 'Asia/Tehran', interval: 'day', group_by: 'none',
        buckets: [{ start: start - 86_400_000, end: start, label: '2026-11-29' }, { start, end, label: '2026-11-30' }],
        rows: [{ key: null, name: '', points: [point(0), point(3)] }],
      },
      as_of: NOW,
      offline: null,
    } as never);
    const gate = deferred<unknown>();
    fakeApi.reportConversations.mockReturnValue(gate.promise as never);
    await reports.open();
    const drilled = reports.drillInto(1, 'messages_in');
    expect(reports.drill).toMatchObject({ index: 1, metric: 'messages_in', count: 3, rows: null });
    expect(fakeApi.reportConversations).toHaveBeenCalledWith(
      { from: new Date(start).toISOString(), to: new Date(end).toISOString(), time_zone: 'Asia/Tehran', group_by: 'none', interval: 'day' },
      'messages_in',
    );
    gate.resolve([{ conversation_id: 'c1' }]);
    await drilled;
    expect(reports.drill?.rows).toEqual([{ conversation_id: 'c1' }]);

    // A failure shows in the list's place; asking the reports again closes the list.
    fakeApi.reportConversations.mockRejectedValue(new ApiError('offline', 'no server'));
    await reports.drillInto(1, 'first_response');
    expect(reports.drill?.error?.code).toBe('offline');
    await reports.load();
    expect(reports.drill).toBeNull();
  });
});
