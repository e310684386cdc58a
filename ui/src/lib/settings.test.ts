import { describe, expect, it } from 'vitest';
import type { Calendar, InboxSettings } from './bindings';
import {
  calendarIssues, defaultCalendar, isOvernight, issuesAt, minutesToSeconds, parseCapacity, parseKeywords, parseTime,
  sameSettings, secondsToMinutes, settingsIssues, settingsOf,
} from './settings';
import { directory } from './state/testing';

function week(overrides: Partial<Calendar['weekly']>): Calendar {
  return { ...defaultCalendar('Asia/Tehran'), weekly: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [], ...overrides } };
}

const kinds = (calendar: Calendar) => calendarIssues(calendar).map((issue) => [issue.field, issue.kind, issue.other ?? null]);

describe('calendar checks (as the server makes them)', () => {
  it('reads strict HH:MM, with 24:00 only as an end', () => {
    expect(parseTime('09:30', false)).toBe(570);
    expect(parseTime('24:00', true)).toBe(1440);
    expect(parseTime('24:00', false)).toBeNull();
    expect(parseTime('9:30', false)).toBeNull();
    expect(parseTime('12:60', false)).toBeNull();
    expect(parseTime('25:00', true)).toBeNull();
  });

  it('allows several intervals a day, touching ones and overnight ones', () => {
    expect(kinds(week({ mon: [{ start: '09:00', end: '12:00' }, { start: '12:00', end: '17:00' }] }))).toEqual([]);
    expect(kinds(week({ fri: [{ start: '22:00', end: '06:00' }], sat: [{ start: '06:00', end: '10:00' }] }))).toEqual([]);
    expect(kinds(week({ mon: [{ start: '00:00', end: '24:00' }] }))).toEqual([]);
    expect(isOvernight({ start: '22:00', end: '06:00' })).toBe(true);
    expect(isOvernight({ start: '22:00', end: '24:00' })).toBe(false);
  });

  it('refuses overlaps within a day, naming the later interval and the earlier one', () => {
    expect(kinds(week({ mon: [{ start: '09:00', end: '13:00' }, { start: '12:00', end: '18:00' }] }))).toEqual([
      ['weekly.mon[1]', 'overlap', 'weekly.mon[0]'],
    ]);
  });

  it('refuses an overnight tail that runs into the next day’s hours, Sunday’s into Monday', () => {
    expect(kinds(week({ thu: [{ start: '22:00', end: '06:00' }], fri: [{ start: '05:00', end: '09:00' }] }))).toEqual([
      ['weekly.fri[0]', 'overlap', 'weekly.thu[0]'],
    ]);
    expect(kinds(week({ sun: [{ start: '23:00', end: '02:00' }], mon: [{ start: '01:00', end: '05:00' }] }))).toEqual([
      ['weekly.mon[0]', 'overlap', 'weekly.sun[0]'],
    ]);
  });

  it('refuses bad times, empty intervals, bad and repeated dates, unknown zones', () => {
    const calendar: Calendar = {
      ...week({ tue: [{ start: '9', end: '17:00' }], wed: [{ start: '10:00', end: '10:00' }] }),
      holidays: [{ date: '2026-02-30', label: null }, { date: '2026-03-21', label: 'Nowruz' }],
      special_days: [
        { date: '2026-03-21', intervals: [], label: null },
        { date: '2026-03-19', intervals: [{ start: '09:00', end: '12:00' }, { start: '11:00', end: '13:00' }], label: null },
      ],
    };
    expect(kinds(calendar)).toEqual([
      ['weekly.tue[0].start', 'time', null],
      ['weekly.wed[0]', 'empty', null],
      ['holidays[0].date', 'date', null],
      ['special_days[0].date', 'duplicateDate', null],
      ['special_days[1].intervals[1]', 'overlap', 'special_days[1].intervals[0]'],
    ]);
    expect(calendarIssues({ ...calendar, time_zone: 'Mars/Base' }, ['Asia/Tehran'])[0]).toEqual({ field: 'time_zone', kind: 'zone' });
  });

  it('finds the issues inside a field', () => {
    const issues = calendarIssues(week({ tue: [{ start: '09:00', end: '7pm' }] }));
    expect(issuesAt(issues, 'weekly.tue[0]')).toHaveLength(1);
    expect(issuesAt(issues, 'weekly.tue[1]')).toHaveLength(0);
  });
});

describe('inbox settings form', () => {
  const inbox = directory.inboxes[0];

  it('starts from the calendar version in force, and compares by content', () => {
    const old = defaultCalendar('UTC');
    const now = defaultCalendar('Asia/Tehran');
    const settings = settingsOf({ ...inbox, hours: { versions: [{ version: 1, effective_from: 0, calendar: old }, { version: 2, effective_from: 5, calendar: now }] } });
    expect(settings.hours).toEqual(now);
    const reordered = JSON.parse(JSON.stringify({ exports_need_approval: settings.exports_need_approval, visibility: settings.visibility, auto_replies: settings.auto_replies, routing: settings.routing, hours: settings.hours })) as InboxSettings;
    expect(sameSettings(settings, reordered)).toBe(true);
    expect(sameSettings(settings, { ...settings, routing: { ...settings.routing, mode: 'round_robin' } })).toBe(false);
    expect(sameSettings(settings, { ...settings, exports_need_approval: !settings.exports_need_approval })).toBe(false);
  });

  it('wants a body for every reply that is on, a keyword for every keyword reply, whole minutes', () => {
    const settings: InboxSettings = {
      hours: null,
      routing: { mode: 'least_loaded', release_after_secs: Number.NaN, reassign_after_secs: null, max_handovers: 2 },
      auto_replies: {
        greeting: { body: '  ', delay_secs: 0 },
        away: null,
        keywords: [{ keywords: [' '], body: 'See prices', cooldown_secs: 60 }],
      },
      visibility: 'mine_only',
      exports_need_approval: false,
    };
    expect(settingsIssues(settings).map((issue) => issue.field)).toEqual([
      'routing.release_after_secs',
      'auto_replies.greeting.body',
      'auto_replies.keywords[0].keywords',
    ]);
  });

  it('reads minutes, keywords and capacities as typed', () => {
    expect(minutesToSeconds('5', true)).toBe(300);
    expect(minutesToSeconds('1,5', true)).toBe(90);
    expect(minutesToSeconds('', true)).toBeNull();
    expect(minutesToSeconds('', false)).toBe(0);
    expect(minutesToSeconds('soon', true)).toBeNaN();
    expect(secondsToMinutes(300)).toBe('5');
    expect(secondsToMinutes(null)).toBe('');
    expect(parseKeywords('price, cost،قیمت\n ,')).toEqual(['price', 'cost', 'قیمت']);
    expect(parseCapacity('')).toBeNull();
    expect(parseCapacity('4')).toBe(4);
    expect(parseCapacity('-1')).toBeUndefined();
    expect(parseCapacity('2.5')).toBeUndefined();
  });
});
