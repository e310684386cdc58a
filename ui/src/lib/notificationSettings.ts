// The notification settings form's rules: the kinds in the order shown, what quiet hours look like
// when switched on (22:00–07:00 in the window's zone), and the check the shell makes on them.
import type { NotificationSettings } from './bindings';

export type NotificationKind = 'new_unassigned' | 'assigned_message' | 'mentions' | 'sla';
export const NOTIFICATION_KINDS: NotificationKind[] = ['new_unassigned', 'assigned_message', 'mentions', 'sla'];

export function withQuietHours(settings: NotificationSettings, on: boolean, timeZone: string): NotificationSettings {
  return { ...settings, quiet_hours: on ? (settings.quiet_hours ?? { from: '22:00', to: '07:00', time_zone: timeZone }) : null };
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Whether the quiet hours (if any) are two `HH:MM` times. */
export function validQuietHours(settings: NotificationSettings): boolean {
  const quiet = settings.quiet_hours;
  return !quiet || (TIME.test(quiet.from) && TIME.test(quiet.to));
}
