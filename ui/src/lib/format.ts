// Formatting for people: relative times, durations, file sizes, search snippets, links.
import { formatNumber, locale, t } from './i18n';
import type { WindowState } from './bindings';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

// `toLocaleDateString(locale, options)` builds a new formatter on every call, and building one is
// slow in WebKit (it sets up ICU patterns): a list or a long thread formats hundreds of times while
// rendering. One formatter per locale and option set, reused.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const lang = locale();
  const key = `${lang} ${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (found === undefined) {
    found = new Intl.DateTimeFormat(lang, options);
    formatters.set(key, found);
  }
  return found;
}

/** A compact duration: "45m", "2h", "3d", "2w" (under a minute: "now"). */
export function duration(ms: number): string {
  const span = Math.max(0, ms);
  if (span < MINUTE) return t('time.now');
  if (span < HOUR) return t('time.minutes', { n: Math.floor(span / MINUTE) });
  if (span < DAY) return t('time.hours', { n: Math.floor(span / HOUR) });
  if (span < WEEK) return t('time.days', { n: Math.floor(span / DAY) });
  return t('time.weeks', { n: Math.floor(span / WEEK) });
}

/** For list rows: "now", "5m", "3h", "2d" up to a week, then the date ("12 Mar", or with the year). */
export function relativeTime(at: number, now: number): string {
  const span = now - at;
  if (span < WEEK) return duration(span);
  const date = new Date(at);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return formatter(sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' }).format(date);
}

/** "just now" / "5m ago" (the status bar's last sync). */
export function ago(at: number, now: number): string {
  if (now - at < MINUTE) return t('time.justNow');
  return t('time.ago', { time: duration(now - at) });
}

/** How long the customer has waited, for "waiting 2h": null when not waiting. */
export function waiting(since: number | null, now: number): string | null {
  return since === null ? null : duration(now - since);
}

/**
 * The row's reply-window note: null when there's nothing to say. `templates`: whether the inbox
 * sends templates once the window has closed (`ReplyRules.templates`).
 */
export function windowNote(window: WindowState, now: number, templates = true): { text: string; urgent: boolean } | null {
  switch (window.state) {
    case 'always':
      return null;
    case 'closed':
      return { text: t(templates ? 'list.templateOnly' : 'list.windowClosed'), urgent: true };
    case 'open_until': {
      const left = window.until - now;
      // Only worth a note once it gets close: a quarter of the day.
      if (left > 6 * HOUR) return null;
      return { text: t('list.windowCloses', { duration: duration(left) }), urgent: left < HOUR };
    }
  }
}

/** A file size: "512 B", "1.2 KB", "16 MB". */
export function fileSize(bytes: number): string {
  const units = ['size.kb', 'size.mb', 'size.gb'] as const;
  if (bytes < 1024) return t('size.bytes', { n: bytes });
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return t(units[unit], { n: rounded });
}

/** Bytes as whole-ish megabytes for limits: 16777216 → "16", 1572864 → "1.5". */
export function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return formatNumber(Math.round(mb * 10) / 10);
}

export type TextPart = { text: string; bold: boolean };

/**
 * Splits a search snippet whose hits are marked `[like this]` into plain and bold parts
 * (rendered as text, never as HTML). An unmatched `[` is kept as text.
 */
export function snippetParts(snippet: string): TextPart[] {
  const parts: TextPart[] = [];
  const push = (text: string, bold: boolean) => {
    if (!text) return;
    const last = parts[parts.length - 1];
    if (last && last.bold === bold) last.text += text;
    else parts.push({ text, bold });
  };
  let rest = snippet;
  while (rest.length > 0) {
    const open = rest.indexOf('[');
    const close = open < 0 ? -1 : rest.indexOf(']', open + 1);
    if (open < 0 || close < 0) {
      push(rest, false);
      break;
    }
    push(rest.slice(0, open), false);
    push(rest.slice(open + 1, close), true);
    rest = rest.slice(close + 1);
  }
  return parts;
}

export type LinkPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"»”’]+$/;

/** Finds http(s) links in message text; the rest stays text. Trailing punctuation isn't part of a link. */
export function linkify(text: string): LinkPart[] {
  const parts: LinkPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const start = match.index ?? 0;
    // Keep a closing bracket that has its opening one inside the URL (Wikipedia-style links).
    const trailing = url.match(TRAILING_PUNCTUATION)?.[0] ?? '';
    let cut = trailing.length;
    if (trailing.startsWith(')') && url.includes('(')) cut = trailing.length - 1;
    if (cut > 0) url = url.slice(0, url.length - cut);
    if (url.length <= 'https://'.length) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: url, href: url });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/** A day heading in a thread: "Today", "Yesterday", or the date. */
export function dayLabel(at: number, now: number): string {
  const day = startOfDay(at);
  const today = startOfDay(now);
  if (day === today) return t('thread.today');
  if (day === startOfDay(today - 12 * HOUR)) return t('thread.yesterday');
  const date = new Date(at);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return formatter({ weekday: 'long', day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) }).format(date);
}

export function startOfDay(at: number): number {
  const date = new Date(at);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/** "14:05" in the person's locale. */
export function clockTime(at: number): string {
  return formatter({ hour: '2-digit', minute: '2-digit' }).format(new Date(at));
}

/** A date alone ("12 Mar 2026", in the locale's calendar and digits). */
export function longDate(at: number): string {
  return formatter({ dateStyle: 'medium' }).format(new Date(at));
}

/** A full timestamp for tooltips. */
export function fullTime(at: number): string {
  return formatter({ dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at));
}

/** Initials for an avatar: "Sara Karimi" → "SK", "امید" → "ا". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = Array.from(words[0])[0] ?? '';
  const second = words.length > 1 ? (Array.from(words[words.length - 1])[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/** A stable hue for a name (avatar colours). */
export function hueFor(text: string): number {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash % 360;
}

/** Wraps text of unknown direction (a name) so it can't reorder the sentence around it. */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}

/** "A", "A and B", "A, B and C" (each name isolated). */
export function nameList(names: string[]): string {
  const isolated = names.map(isolate);
  if (isolated.length <= 1) return isolated[0] ?? '';
  const head = isolated.slice(0, -1).join(', ');
  return t('thread.and', { a: head, b: isolated[isolated.length - 1] });
}
