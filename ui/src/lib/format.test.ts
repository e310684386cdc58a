import { afterEach, describe, expect, it } from 'vitest';
import { ago, dayLabel, duration, fileSize, initials, linkify, longDate, megabytes, relativeTime, snippetParts, waiting, windowNote } from './format';
import { setLocale, t, tables } from './i18n';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = new Date(2025, 4, 14, 15, 30).getTime();

describe('durations and relative times', () => {
  it('formats compact durations', () => {
    expect(duration(20_000)).toBe('now');
    expect(duration(5 * MIN + 59_000)).toBe('5m');
    expect(duration(2 * HOUR + 10 * MIN)).toBe('2h');
    expect(duration(3 * DAY)).toBe('3d');
    expect(duration(15 * DAY)).toBe('2w');
    expect(duration(-5000)).toBe('now');
  });

  it('shows recent times relatively and older ones as dates', () => {
    expect(relativeTime(NOW - 30_000, NOW)).toBe('now');
    expect(relativeTime(NOW - 42 * MIN, NOW)).toBe('42m');
    expect(relativeTime(NOW - 6 * DAY, NOW)).toBe('6d');
    const old = relativeTime(NOW - 40 * DAY, NOW);
    expect(old).toMatch(/Apr/);
    expect(old).not.toMatch(/2025/);
    expect(relativeTime(new Date(2023, 0, 2).getTime(), NOW)).toMatch(/2023/);
  });

  it('says how long a customer has waited', () => {
    expect(waiting(NOW - 2 * HOUR, NOW)).toBe('2h');
    expect(waiting(null, NOW)).toBeNull();
    expect(ago(NOW - 10_000, NOW)).toBe('just now');
    expect(ago(NOW - 3 * MIN, NOW)).toBe('3m ago');
  });

  it('labels days', () => {
    expect(dayLabel(NOW - HOUR, NOW)).toBe('Today');
    expect(dayLabel(NOW - DAY, NOW)).toBe('Yesterday');
    expect(dayLabel(NOW - 3 * DAY, NOW)).toMatch(/May/);
  });
});

describe('reply window notes', () => {
  it('says nothing for channels without a window or with plenty of time', () => {
    expect(windowNote({ state: 'always' }, NOW)).toBeNull();
    expect(windowNote({ state: 'open_until', until: NOW + 20 * HOUR }, NOW)).toBeNull();
  });
  it('warns as the window closes and when it has closed', () => {
    expect(windowNote({ state: 'open_until', until: NOW + 3 * HOUR }, NOW)).toEqual({ text: 'window closes in 3h', urgent: false });
    expect(windowNote({ state: 'open_until', until: NOW + 20 * MIN }, NOW)).toEqual({ text: 'window closes in 20m', urgent: true });
    expect(windowNote({ state: 'closed' }, NOW)).toEqual({ text: 'template only', urgent: true });
  });
});

describe('file sizes', () => {
  it('picks a unit and rounds', () => {
    expect(fileSize(0)).toBe('0 B');
    expect(fileSize(512)).toBe('512 B');
    expect(fileSize(1536)).toBe('1.5 KB');
    expect(fileSize(300 * 1024)).toBe('300 KB');
    expect(fileSize(16 * 1024 * 1024)).toBe('16 MB');
    expect(fileSize(Math.round(2.25 * 1024 ** 3))).toBe('2.3 GB');
  });
  it('writes limits in MB', () => {
    expect(megabytes(16 * 1024 * 1024)).toBe('16');
    expect(megabytes(1.5 * 1024 * 1024)).toBe('1.5');
  });
});

describe('snippetParts', () => {
  it('bolds the [marked] hits', () => {
    expect(snippetParts('…your [order] is on its way')).toEqual([
      { text: '…your ', bold: false },
      { text: 'order', bold: true },
      { text: ' is on its way', bold: false },
    ]);
  });
  it('handles several hits, hits at the edges and RTL text', () => {
    expect(snippetParts('[سفارش] شما [ارسال] شد')).toEqual([
      { text: 'سفارش', bold: true },
      { text: ' شما ', bold: false },
      { text: 'ارسال', bold: true },
      { text: ' شد', bold: false },
    ]);
  });
  it('keeps unbalanced brackets and markup as plain text', () => {
    expect(snippetParts('a [b')).toEqual([{ text: 'a [b', bold: false }]);
    expect(snippetParts('<img src=x onerror=alert(1)> [hit]')).toEqual([
      { text: '<img src=x onerror=alert(1)> ', bold: false },
      { text: 'hit', bold: true },
    ]);
  });
});

describe('linkify', () => {
  it('finds http(s) links and leaves the rest as text', () => {
    expect(linkify('See https://example.com/track?id=4, thanks.')).toEqual([
      { kind: 'text', text: 'See ' },
      { kind: 'link', text: 'https://example.com/track?id=4', href: 'https://example.com/track?id=4' },
      { kind: 'text', text: ', thanks.' },
    ]);
  });
  it('ignores other schemes and keeps balanced parentheses', () => {
    expect(linkify('javascript:alert(1) ftp://x')).toEqual([{ kind: 'text', text: 'javascript:alert(1) ftp://x' }]);
    const parts = linkify('(https://en.wikipedia.org/wiki/Foo_(bar))');
    expect(parts[1]).toEqual({ kind: 'link', text: 'https://en.wikipedia.org/wiki/Foo_(bar)', href: 'https://en.wikipedia.org/wiki/Foo_(bar)' });
  });
  it('stops links at markup characters', () => {
    const parts = linkify('<a href="http://evil.test">x</a>');
    expect(parts.filter((p) => p.kind === 'link').map((p) => p.text)).toEqual(['http://evil.test']);
  });
});

describe('initials', () => {
  it('takes first and last word initials, for any script', () => {
    expect(initials('Sara Karimi')).toBe('SK');
    expect(initials('امید')).toBe('ا');
    expect(initials('  ')).toBe('?');
  });
});

describe('dates and numbers in the chosen locale', () => {
  afterEach(() => setLocale('en'));

  it('writes durations, sizes and limits in the locale’s digits', () => {
    setLocale('fa');
    expect(duration(5 * MIN)).toBe(t('time.minutes', { n: 5 }));
    expect(duration(5 * MIN)).toContain('۵');
    expect(fileSize(1536)).toContain('۱٫۵');
    expect(megabytes(1572864)).toBe('۱٫۵');
    setLocale('ar');
    expect(duration(3 * HOUR)).toBe(t('time.hours', { n: 3 }));
    expect(duration(3 * HOUR)).toContain(new Intl.NumberFormat('ar').format(3));
    expect(ago(NOW - 2 * DAY, NOW)).toBe(t('time.ago', { time: t('time.days', { n: 2 }) }));
  });

  it('formats dates through Intl in the chosen locale and calendar', () => {
    const at = new Date(2025, 2, 12, 9, 0).getTime();
    for (const lang of Object.keys(tables).filter((l) => l !== 'en')) {
      setLocale(lang);
      expect(relativeTime(at, NOW), lang).toBe(new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' }).format(at));
      expect(longDate(at), lang).toBe(new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(at));
    }
    setLocale('fa');
    // Persian dates are in the Solar Hijri calendar: 12 March 2025 is 21 Esfand 1403.
    expect(longDate(at)).toContain('اسفند');
  });
});
