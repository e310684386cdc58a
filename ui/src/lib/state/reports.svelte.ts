// The reports screen's state: the controls (period preset or custom dates, zone, grouping, the
// chart's interval, wall or business time), the three reports as last answered (each kept by the
// shell for offline use and then marked with when it was fetched), a failure per report shown in
// its place, and the CSV exports.
import { ApiError, api } from '../api';
import type {
  CsvExport, CycleMetric, CycleRow, Directory, GroupBy, Interval, LiveReport, ReportQuery, SeriesReport, SummaryReport,
  UiErrorCode,
} from '../bindings';
import { errorText } from '../errors';
import { t } from '../i18n';
import { type Clock, type Preset, addDays, dateIn, period } from '../reports';
import { guessTimeZone } from '../settings';
import { toasts } from '../toasts.svelte';

export type ReportsDeps = {
  directory: () => Directory | null;
  now?: () => number;
};

/** Why a report isn't shown (or is shown from the kept copy). */
export type ReportFailure = { code: UiErrorCode; text: string };

/** Words for a failed report: offline and forbidden in the screen's own words, a refusal of the
 * query (422) with the server's message. */
export function failureOf(error: unknown, directory: Directory | null): ReportFailure {
  const e = error instanceof ApiError ? error : new ApiError('internal', String(error));
  switch (e.code) {
    case 'offline':
      return { code: e.code, text: t('reports.errors.offline') };
    case 'forbidden':
      return { code: e.code, text: t('reports.errors.forbidden') };
    case 'validation':
      return { code: e.code, text: t('reports.errors.invalid', { message: e.message }) };
    default:
      return { code: e.code, text: errorText(e.code, e.message, directory) };
  }
}

/** A chart's bar drilled into: which bucket and count, and the conversation cycles behind it. */
export type Drill = {
  /** The bucket's index in the series shown. */
  index: number;
  metric: CycleMetric;
  /** What the bar counts. */
  count: number;
  rows: CycleRow[] | null;
  error: ReportFailure | null;
};

export class ReportsState {
  preset = $state<Preset>('last7');
  customFirst = $state('');
  customLast = $state('');
  timeZone = $state('');
  zones = $state.raw<string[]>([]);
  groupBy = $state<GroupBy>('agent');
  interval = $state<Interval>('day');
  clock = $state<Clock>('wall');

  summary = $state.raw<SummaryReport | null>(null);
  series = $state.raw<SeriesReport | null>(null);
  live = $state.raw<LiveReport | null>(null);
  summaryError = $state.raw<ReportFailure | null>(null);
  seriesError = $state.raw<ReportFailure | null>(null);
  liveError = $state.raw<ReportFailure | null>(null);
  loading = $state(false);
  exporting = $state<CsvExport | null>(null);
  drill = $state.raw<Drill | null>(null);

  /** Answers to an older request are dropped. */
  private generation = 0;

  constructor(private readonly deps: ReportsDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Opening the screen: the zones (once), the system's zone, then the reports. */
  async open(): Promise<void> {
    try {
      await this.prepare();
      await this.load();
    } catch (error) {
      // Never a blank screen: whatever went wrong shows where the reports would be.
      this.loading = false;
      this.summaryError = this.seriesError = this.liveError = failureOf(error, this.deps.directory());
    }
  }

  private async prepare(): Promise<void> {
    if (this.zones.length === 0) {
      try {
        this.zones = await api.timeZones();
      } catch {
        this.zones = [];
      }
    }
    if (!this.timeZone) this.timeZone = this.zones.length > 0 ? guessTimeZone(this.zones) : 'UTC';
    if (!this.customFirst) {
      const today = dateIn(this.now(), this.timeZone);
      this.customFirst = addDays(today, -6);
      this.customLast = today;
    }
  }

  /** A preset picks the chart's interval that suits it (the person may change it after). */
  setPreset(preset: Preset): void {
    this.preset = preset;
    if (preset === 'today') this.interval = 'hour';
    else if (this.interval === 'hour') this.interval = 'day';
    void this.load();
  }

  /** Changes controls, then asks again (one handler per control: a `bind:` beside an `onchange`
   * could run after it and ask with the old value). */
  set(change: Partial<Pick<ReportsState, 'customFirst' | 'customLast' | 'timeZone' | 'groupBy' | 'interval'>>): void {
    Object.assign(this, change);
    void this.load();
  }

  /** What the controls ask for now (null: a custom date is missing). */
  query(): ReportQuery | null {
    const range = period(this.preset, this.now(), this.timeZone || 'UTC', { first: this.customFirst, last: this.customLast });
    if (!range) return null;
    return { ...range, time_zone: this.timeZone || 'UTC', group_by: this.groupBy, interval: this.interval };
  }

  /** Fetches the three reports at once; each failure shows in its own place. A refusal (403,
   * 422) clears what was shown, which answered other controls; offline keeps it in sight. */
  async load(): Promise<void> {
    const query = this.query();
    if (!query) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    const directory = this.deps.directory();
    this.loading = true;
    this.drill = null;
    // The chart shows totals: asked ungrouped, so no grouping (labels) counts a thing twice.
    const seriesQuery: ReportQuery = { ...query, group_by: 'none' };
    await Promise.all([
      api.reportSummary(query).then(
        (r) => current() && ((this.summary = r), (this.summaryError = null)),
        (e) => current() && ((this.summaryError = failureOf(e, directory)), this.summaryError.code !== 'offline' && (this.summary = null)),
      ),
      api.reportSeries(seriesQuery).then(
        (r) => current() && ((this.series = r), (this.seriesError = null)),
        (e) => current() && ((this.seriesError = failureOf(e, directory)), this.seriesError.code !== 'offline' && (this.series = null)),
      ),
      api.liveFigures().then(
        (r) => current() && ((this.live = r), (this.liveError = null)),
        (e) => current() && ((this.liveError = failureOf(e, directory)), this.liveError.code !== 'offline' && (this.live = null)),
      ),
    ]);
    if (current()) this.loading = false;
  }

  /** Lists the conversations behind a bar of the chart: the bucket's `[start, end)` as instants,
   * in the series' own zone (a kept copy's, offline, answers the error in the list's place). */
  async drillInto(index: number, metric: CycleMetric): Promise<void> {
    const series = this.series?.report;
    const bucket = series?.buckets[index];
    if (!series || !bucket) return;
    const point = (series.rows[0]?.points[index]) ?? null;
    const count = !point ? 0
      : metric === 'messages_in' ? point.messages_in
      : metric === 'first_response' ? point.first_response.count
      : metric === 'resolution' ? point.resolutions
      : 0;
    const drill: Drill = { index, metric, count, rows: null, error: null };
    this.drill = drill;
    const query: ReportQuery = {
      from: new Date(bucket.start).toISOString(),
      to: new Date(bucket.end).toISOString(),
      time_zone: series.time_zone,
      group_by: 'none',
      interval: series.interval,
    };
    try {
      const rows = await api.reportConversations(query, metric);
      if (this.drill === drill) this.drill = { ...drill, rows };
    } catch (error) {
      if (this.drill === drill) this.drill = { ...drill, error: failureOf(error, this.deps.directory()) };
    }
  }

  /** Fetches a CSV from the server and saves it through the native dialog. */
  async exportCsv(kind: CsvExport): Promise<void> {
    const query = this.query();
    if (!query || this.exporting) return;
    this.exporting = kind;
    try {
      const path = await api.exportReport(kind, query);
      if (path) toasts.show(t('reports.export.saved', { path }));
    } catch (error) {
      toasts.show(failureOf(error, this.deps.directory()).text, 'error');
    } finally {
      this.exporting = null;
    }
  }

  /** A new session shows nothing of the last one's. */
  reset(): void {
    this.generation++;
    this.summary = this.series = this.live = null;
    this.drill = null;
    this.summaryError = this.seriesError = this.liveError = null;
    this.loading = false;
  }
}
