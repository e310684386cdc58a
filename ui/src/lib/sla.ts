// The SLA countdown of a row and a thread header, computed offline from the synced clock (the
// shell picks it: `sla_clock`, the live clock falling due first, else a paused one) and the
// injected `now`. The client never decides a breach: past `due_at` while the server still says
// `running` is "overdue (unconfirmed)" until the server's `breached` arrives through the feed.
import { t } from './i18n';
import type { SlaClock } from './bindings';

const MINUTE = 60_000;

/**
 * - `ok`: before its warning time;
 * - `warning`: past its warning time (or the server warned), still before due;
 * - `overdue`: past due, the server has not yet said breached;
 * - `breached`: the server recorded the breach;
 * - `paused`: the resolution clock while pending or snoozed (no due time until it runs again).
 */
export type SlaState = 'ok' | 'warning' | 'overdue' | 'breached' | 'paused';

export type SlaCountdown = {
  state: SlaState;
  /** What the row and the header show: "12 min", "1 h 5 min", "overdue (unconfirmed)". */
  text: string;
  /** A sentence for the tooltip: which clock, and when. */
  title: string;
};

/** A countdown span: "12 min", "1 h 5 min", "2 h", "3 d 4 h" (whole minutes, rounded up). */
export function slaSpan(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / MINUTE));
  if (minutes < 60) return t('sla.minutes', { n: minutes });
  if (minutes < 24 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m === 0 ? t('sla.hours', { h }) : t('sla.hoursMinutes', { h, m });
  }
  const d = Math.floor(minutes / (24 * 60));
  const h = Math.floor((minutes % (24 * 60)) / 60);
  return h === 0 ? t('sla.days', { d }) : t('sla.daysHours', { d, h });
}

/** How long ago, for a recorded breach: "5 min", "2 h" (rounded down, at least a minute). */
function sinceSpan(ms: number): string {
  return slaSpan(Math.max(MINUTE, Math.floor(ms / MINUTE) * MINUTE));
}

/** The countdown for a clock at `now`; null when there is nothing to show. */
export function slaCountdown(clock: SlaClock | null | undefined, now: number): SlaCountdown | null {
  if (!clock) return null;
  const metric = t(`sla.metric.${clock.metric}`);
  if (clock.status === 'paused') {
    return { state: 'paused', text: t('sla.paused'), title: t('sla.pausedTitle', { metric }) };
  }
  if (clock.status === 'breached') {
    const at = clock.breached_at ?? clock.due_at ?? now;
    const span = sinceSpan(now - at);
    return { state: 'breached', text: t('sla.breached', { duration: span }), title: t('sla.breachedTitle', { metric, duration: span }) };
  }
  if (clock.status !== 'running' || clock.due_at === null) return null;
  const left = clock.due_at - now;
  if (left <= 0) {
    return { state: 'overdue', text: t('sla.overdue'), title: t('sla.overdueTitle', { metric }) };
  }
  const span = slaSpan(left);
  const warned = clock.warned || (clock.warn_at !== null && now >= clock.warn_at);
  return { state: warned ? 'warning' : 'ok', text: span, title: t('sla.dueTitle', { metric, duration: span }) };
}
