import { afterEach, describe, expect, it } from 'vitest';
import type { SlaClock } from './bindings';
import { setLocale } from './i18n';
import { slaCountdown, slaSpan } from './sla';
import { viewName } from './views';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2030, 0, 4, 10, 0);

/** A first-response clock of 30 minutes started at `started`, warning at 80 %. */
function clock(started: number, overrides: Partial<SlaClock> = {}): SlaClock {
  return {
    metric: 'first_response',
    instance: 1,
    target_ms: 30 * MIN,
    started_at: started,
    accumulated_ms: 0,
    running_since: started,
    due_at: started + 30 * MIN,
    warn_at: started + 24 * MIN,
    status: 'running',
    warned: false,
    warned_at: null,
    breached_at: null,
    ended_at: null,
    cancel_reason: null,
    escalations: [],
    ...overrides,
  };
}

afterEach(() => setLocale('en'));

describe('SLA countdown spans', () => {
  it('shows whole minutes, rounded up, then hours and minutes, then days', () => {
    expect(slaSpan(12 * MIN)).toBe('12 min');
    expect(slaSpan(11 * MIN + 20_000)).toBe('12 min');
    expect(slaSpan(10_000)).toBe('1 min');
    expect(slaSpan(65 * MIN)).toBe('1 h 5 min');
    expect(slaSpan(2 * HOUR)).toBe('2 h');
    expect(slaSpan(27 * HOUR)).toBe('1 d 3 h');
    expect(slaSpan(48 * HOUR)).toBe('2 d');
  });

  it('names the breaching-soon view', () => {
    expect(viewName({ type: 'breaching_soon' }, null)).toBe('Breaching soon');
  });

  it('has the strings in Persian too', () => {
    setLocale('fa');
    expect(slaSpan(65 * MIN)).toBe('۱ ساعت و ۵ دقیقه');
    expect(slaCountdown(clock(NOW - 40 * MIN), NOW)?.text).toBe('گذشته از موعد (تأییدنشده)');
  });
});

describe('SLA countdown state on an injected clock', () => {
  it('counts down with plenty of time before the warning', () => {
    expect(slaCountdown(clock(NOW - 18 * MIN), NOW)).toEqual({
      state: 'ok',
      text: '12 min',
      title: 'First response due in 12 min',
    });
  });

  it('turns to warning at the warning time, even before the server says it warned', () => {
    const running = clock(NOW - 24 * MIN);
    expect(slaCountdown(running, NOW - 1)?.state).toBe('ok');
    expect(slaCountdown(running, NOW)).toMatchObject({ state: 'warning', text: '6 min' });
    const warned = clock(NOW - 10 * MIN, { warned: true, warn_at: null });
    expect(slaCountdown(warned, NOW)).toMatchObject({ state: 'warning', text: '20 min' });
  });

  it('past due while still running is overdue (unconfirmed): the client never decides a breach', () => {
    const running = clock(NOW - 30 * MIN);
    expect(slaCountdown(running, NOW - 1)).toMatchObject({ state: 'warning', text: '1 min' });
    expect(slaCountdown(running, NOW)).toMatchObject({ state: 'overdue', text: 'overdue (unconfirmed)' });
    expect(slaCountdown(running, NOW + 5 * HOUR)?.state).toBe('overdue');
  });

  it('shows a breach only once the server recorded it, with how long ago', () => {
    const breached = clock(NOW - 45 * MIN, { status: 'breached', warned: true, warn_at: null, breached_at: NOW - 15 * MIN });
    expect(slaCountdown(breached, NOW)).toEqual({
      state: 'breached',
      text: 'breached 15 min ago',
      title: 'First response breached 15 min ago',
    });
  });

  it('shows a paused resolution clock as paused, and nothing for ended or missing clocks', () => {
    const paused = clock(NOW - HOUR, { metric: 'resolution', status: 'paused', running_since: null, due_at: null, warn_at: null });
    expect(slaCountdown(paused, NOW)).toMatchObject({ state: 'paused', text: 'paused' });
    expect(slaCountdown(clock(NOW, { status: 'met', due_at: null }), NOW)).toBeNull();
    expect(slaCountdown(null, NOW)).toBeNull();
  });

  it('counts long targets in hours and days', () => {
    const resolution = clock(NOW, { metric: 'resolution', target_ms: 26 * HOUR, due_at: NOW + 26 * HOUR, warn_at: NOW + 20 * HOUR });
    expect(slaCountdown(resolution, NOW)).toMatchObject({ state: 'ok', text: '1 d 2 h', title: 'Resolution due in 1 d 2 h' });
  });
});
