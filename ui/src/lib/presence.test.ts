import { describe, expect, it } from 'vitest';
import { presenceOf, statusLine } from './presence';

describe('presence on an avatar', () => {
  it('shows busy and offline as the agent set them, connected or not', () => {
    expect(presenceOf({ availability: 'busy' }, true)).toBe('busy');
    expect(presenceOf({ availability: 'offline' }, true)).toBe('offline');
  });

  it('shows online only while a device is connected', () => {
    expect(presenceOf({ availability: 'online' }, true)).toBe('online');
    expect(presenceOf({ availability: 'online' }, false)).toBe('offline');
  });

  it('puts the status text first, else the fallback', () => {
    expect(statusLine({ status_text: 'Back at 3' }, 'sara@example.com')).toBe('Back at 3');
    expect(statusLine({ status_text: '  ' }, 'sara@example.com')).toBe('sara@example.com');
    expect(statusLine({}, undefined)).toBeUndefined();
  });
});
