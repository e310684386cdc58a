// The settings screen's pure rules: an inbox's settings as the form edits them, the checks the
// server makes on a calendar (crates/proto/src/calendar.rs, mirrored so a mistake shows beside
// its field before anything is sent; the server stays the judge), and what counts as a change.
import type { AutoReplies, AutoReply, Calendar, Inbox, InboxSettings, KeywordReply, Routing, TimeRange, WeeklyHours } from './bindings';

export type Weekday = keyof WeeklyHours;
/** Monday first, as the server's field paths and ISO weeks count. */
export const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** The away reply's placeholder for the next opening, rendered by the server in the inbox's zone. */
export const NEXT_OPEN_PLACEHOLDER = '{{next_open_at}}';

/** What the form starts from: the calendar version in force (the last), routing, auto-replies. */
export function settingsOf(inbox: Inbox): InboxSettings {
  const versions = inbox.hours?.versions ?? [];
  return clone({
    hours: versions.length > 0 ? versions[versions.length - 1].calendar : null,
    routing: inbox.routing,
    auto_replies: inbox.auto_replies,
    visibility: inbox.visibility ?? 'everything',
    exports_need_approval: inbox.exports_need_approval ?? false,
  });
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** JSON with object keys sorted, so two settings compare by content, not by key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export function sameSettings(a: InboxSettings, b: InboxSettings): boolean {
  return canonical(a) === canonical(b);
}

/** The parts of an inbox's settings a person edits separately (and the server stores separately). */
export const SECTIONS = ['hours', 'routing', 'auto_replies', 'visibility', 'exports_need_approval'] as const;

/** A draft begun from `base`, moved onto `now`: the sections nobody touched take the server's new
 * value, so saving sends only what this person changed and never undoes a colleague's save. */
export function rebased(draft: InboxSettings, base: InboxSettings, now: InboxSettings): InboxSettings {
  const next = clone(draft);
  for (const section of SECTIONS) {
    if (canonical(draft[section]) === canonical(base[section])) {
      (next as Record<string, unknown>)[section] = clone(now[section]);
    }
  }
  return next;
}

/** Whether a draft and the server's settings disagree on a section the draft changed. */
export function conflicts(draft: InboxSettings, base: InboxSettings, now: InboxSettings): boolean {
  return SECTIONS.some(
    (section) =>
      canonical(draft[section]) !== canonical(base[section]) && canonical(now[section]) !== canonical(base[section]),
  );
}

/** Weekdays 09:00–17:00 in `timeZone`: where "set business hours" starts. */
export function defaultCalendar(timeZone: string): Calendar {
  const day = (): TimeRange[] => [{ start: '09:00', end: '17:00' }];
  return {
    time_zone: timeZone,
    weekly: { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: [], sun: [] },
    holidays: [],
    special_days: [],
  };
}

/** The machine's own zone, if the list has it (else UTC). */
export function guessTimeZone(zones: string[]): string {
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zones.includes(local) ? local : 'UTC';
}

/** Minutes after midnight for a strict `HH:MM` (`24:00` only as an end), else null. */
export function parseTime(text: string, isEnd: boolean): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (hours === 24 && minutes === 0 && isEnd) return MINUTES_PER_DAY;
  if (hours > 23 || minutes > 59) return null;
  return hours * 60 + minutes;
}

/** Whether an interval runs past midnight into the next day (its end at or before its start). */
export function isOvernight(range: TimeRange): boolean {
  const start = parseTime(range.start, false);
  const end = parseTime(range.end, true);
  return start !== null && end !== null && end < start;
}

export type IssueKind = 'time' | 'empty' | 'overlap' | 'date' | 'duplicateDate' | 'zone' | 'body' | 'keywords' | 'number';

/** A problem with one field; `field` is the server's path for it (`weekly.mon[1]`), `other` the
 * interval it overlaps. */
export type Issue = { field: string; kind: IssueKind; other?: string };

type Span = { start: number; end: number; field: string };

function spanOf(range: TimeRange, field: string, issues: Issue[]): Span | null {
  const start = parseTime(range.start, false);
  const end = parseTime(range.end, true);
  if (start === null) issues.push({ field: `${field}.start`, kind: 'time' });
  if (end === null) issues.push({ field: `${field}.end`, kind: 'time' });
  if (start === null || end === null) return null;
  if (end === start) {
    issues.push({ field, kind: 'empty' });
    return null;
  }
  return { start, end: end < start ? end + MINUTES_PER_DAY : end, field };
}

function overlaps(spans: Span[], issues: Issue[]): void {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) issues.push({ field: sorted[i].field, kind: 'overlap', other: sorted[i - 1].field });
  }
}

function validDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.getUTCFullYear() === Number(match[1]) && date.getUTCMonth() === Number(match[2]) - 1 && date.getUTCDate() === Number(match[3]);
}

/** The server's calendar checks: times, empty intervals, overlaps within a day and across the
 * week (an overnight tail runs into the next day; Sunday's into Monday), dates, duplicate dates. */
export function calendarIssues(calendar: Calendar, zones: string[] = []): Issue[] {
  const issues: Issue[] = [];
  if (zones.length > 0 && !zones.includes(calendar.time_zone)) issues.push({ field: 'time_zone', kind: 'zone' });
  const week: Span[] = [];
  WEEKDAYS.forEach((day, d) => {
    calendar.weekly[day].forEach((range, i) => {
      const span = spanOf(range, `weekly.${day}[${i}]`, issues);
      if (!span) return;
      const offset = d * MINUTES_PER_DAY;
      const [start, end] = [offset + span.start, offset + span.end];
      if (end > MINUTES_PER_WEEK) {
        week.push({ start, end: MINUTES_PER_WEEK, field: span.field });
        week.push({ start: 0, end: end - MINUTES_PER_WEEK, field: span.field });
      } else {
        week.push({ start, end, field: span.field });
      }
    });
  });
  overlaps(week, issues);
  const seen = new Set<string>();
  const checkDate = (date: string, field: string) => {
    if (!validDate(date)) issues.push({ field, kind: 'date' });
    else if (seen.has(date)) issues.push({ field, kind: 'duplicateDate' });
    seen.add(date);
  };
  calendar.holidays.forEach((holiday, i) => checkDate(holiday.date, `holidays[${i}].date`));
  calendar.special_days.forEach((day, i) => {
    checkDate(day.date, `special_days[${i}].date`);
    const spans = day.intervals
      .map((range, j) => spanOf(range, `special_days[${i}].intervals[${j}]`, issues))
      .filter((span): span is Span => span !== null);
    overlaps(spans, issues);
  });
  return issues;
}

function replyIssues(reply: AutoReply | null, field: string, issues: Issue[]): void {
  if (!reply) return;
  if (!reply.body.trim()) issues.push({ field: `${field}.body`, kind: 'body' });
  if (!isCount(reply.delay_secs)) issues.push({ field: `${field}.delay_secs`, kind: 'number' });
}

function isCount(value: number | null): boolean {
  return value === null || (Number.isInteger(value) && value >= 0);
}

/** Everything wrong with a form before it is sent (empty means it may be saved). */
export function settingsIssues(settings: InboxSettings, zones: string[] = []): Issue[] {
  const issues = settings.hours ? calendarIssues(settings.hours, zones).map((issue) => prefixed(issue, 'hours.')) : [];
  const routing: Routing = settings.routing;
  for (const key of ['release_after_secs', 'reassign_after_secs', 'max_handovers'] as const) {
    if (!isCount(routing[key])) issues.push({ field: `routing.${key}`, kind: 'number' });
  }
  const replies: AutoReplies = settings.auto_replies;
  replyIssues(replies.greeting, 'auto_replies.greeting', issues);
  replyIssues(replies.away, 'auto_replies.away', issues);
  replies.keywords.forEach((reply: KeywordReply, i) => {
    const field = `auto_replies.keywords[${i}]`;
    if (reply.keywords.every((word) => !word.trim())) issues.push({ field: `${field}.keywords`, kind: 'keywords' });
    if (!reply.body.trim()) issues.push({ field: `${field}.body`, kind: 'body' });
    if (!isCount(reply.cooldown_secs)) issues.push({ field: `${field}.cooldown_secs`, kind: 'number' });
  });
  return issues;
}

function prefixed(issue: Issue, prefix: string): Issue {
  return { ...issue, field: prefix + issue.field, other: issue.other ? prefix + issue.other : undefined };
}

/** The issues about `field` itself or anything inside it (`weekly.mon[0]` has `weekly.mon[0].end`). */
export function issuesAt(issues: Issue[], field: string): Issue[] {
  return issues.filter((issue) => issue.field === field || issue.field.startsWith(`${field}.`) || issue.field.startsWith(`${field}[`));
}

/** Keywords as typed in one field, comma- or newline-separated ("price, cost" → two). */
export function parseKeywords(text: string): string[] {
  return text
    .split(/[,،\n]/)
    .map((word) => word.trim())
    .filter((word) => word.length > 0);
}

/** Seconds shown as whole minutes in the form (`null` stays empty: "never"). */
export function secondsToMinutes(seconds: number | null): string {
  return seconds === null ? '' : String(Math.round((seconds / 60) * 100) / 100);
}

/** Minutes typed in the form as seconds: empty is `null` when allowed, anything unreadable NaN
 * (which `settingsIssues` reports). */
export function minutesToSeconds(text: string, emptyIsNull: boolean): number | null {
  const trimmed = text.trim().replace(',', '.');
  if (!trimmed) return emptyIsNull ? null : 0;
  const minutes = Number(trimmed);
  return Number.isFinite(minutes) && minutes >= 0 ? Math.round(minutes * 60) : Number.NaN;
}

/** A capacity as typed: empty is no limit, a whole number ≥ 0 a limit, anything else undefined. */
export function parseCapacity(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (!trimmed) return null;
  return /^\d{1,4}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** Whether a routing mode hands conversations out on its own (the delays only matter then). */
export function routes(routing: Routing): boolean {
  return routing.mode !== 'manual';
}
