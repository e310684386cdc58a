import { describe, expect, it } from 'vitest';
import type { NotificationSettings } from './bindings';
import { validQuietHours, withQuietHours } from './notificationSettings';

const all: NotificationSettings = { new_unassigned: true, assigned_message: true, mentions: true, sla: true, sound: true, quiet_hours: null };

describe('notification settings', () => {
  it('switches quiet hours on at night in the window’s zone, and off again', () => {
    const on = withQuietHours(all, true, 'Asia/Tehran');
    expect(on.quiet_hours).toEqual({ from: '22:00', to: '07:00', time_zone: 'Asia/Tehran' });
    expect(withQuietHours(on, false, 'Asia/Tehran').quiet_hours).toBeNull();
  });

  it('accepts HH:MM times only', () => {
    expect(validQuietHours(all)).toBe(true);
    expect(validQuietHours({ ...all, quiet_hours: { from: '23:30', to: '06:15', time_zone: 'UTC' } })).toBe(true);
    expect(validQuietHours({ ...all, quiet_hours: { from: '24:00', to: '06:00', time_zone: 'UTC' } })).toBe(false);
    expect(validQuietHours({ ...all, quiet_hours: { from: '9:00', to: '06:00', time_zone: 'UTC' } })).toBe(false);
  });
});
