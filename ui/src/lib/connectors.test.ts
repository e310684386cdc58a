import { afterEach, describe, expect, it } from 'vitest';
import { connectorHint, connectorName } from './connectors';
import { setLocale } from './i18n';

afterEach(() => setLocale('en'));

describe('connectors', () => {
  it('names the known kinds and keeps an unknown one as it is', () => {
    expect(connectorName('whatsapp')).toBe('WhatsApp Cloud API');
    expect(connectorName('simulator')).toBe('Demo simulator');
    expect(connectorName('none')).toBe('Not connected');
    expect(connectorName('messenger')).toBe('Facebook Messenger');
    expect(connectorName('instagram')).toBe('Instagram');
    expect(connectorName('line')).toBe('line');
  });
  it('says a simulated inbox is simulated, and that an unconnected one fails replies', () => {
    expect(connectorHint({ kind: 'simulator', simulated: true, webhook_path: null, details: {} })).toContain('simulated customer');
    expect(connectorHint({ kind: 'none', simulated: false, webhook_path: null, details: {} })).toContain('fail');
    expect(connectorHint({ kind: 'whatsapp', simulated: false, webhook_path: '/webhooks/x', details: {} })).toBeNull();
  });
  it('speaks Persian too', () => {
    setLocale('fa');
    expect(connectorName('telegram')).toBe('ربات تلگرام');
    expect(connectorHint({ kind: 'simulator', simulated: true, webhook_path: null, details: {} })).toContain('نمایشی');
  });
});
