import { afterEach, describe, expect, it } from 'vitest';
import { failureDetail, failureText } from './delivery';
import { setLocale } from './i18n';

afterEach(() => setLocale('en'));

describe('failureText', () => {
  it('says each known failure in words, keeping the provider message for the tooltip', () => {
    const missing = { kind: 'not_configured', reason: 'this inbox has no connector' } as const;
    expect(failureText(missing)).toContain("isn't connected");
    expect(failureDetail(missing)).toBe('this inbox has no connector');
    expect(failureText({ kind: 'window_closed', reason: '(#131047) Re-engagement message' })).toContain('24-hour');
    expect(failureText({ kind: 'gave_up', reason: 'gave up after 8 attempts: timeout' })).toContain('several attempts');
    expect(failureText({ kind: 'interrupted', reason: 'The server stopped while sending' })).toContain('may have reached the customer');
  });
  it("shows the provider's message for a refusal, or for a kind it doesn't know", () => {
    const refused = { kind: 'rejected', reason: '(#131026) Message undeliverable' } as const;
    expect(failureText(refused)).toBe('The channel refused it: (#131026) Message undeliverable');
    expect(failureDetail(refused)).toBeNull();
    // A kind a newer server may send.
    const newer = { kind: 'blocked', reason: 'the customer blocked this number' } as unknown as Parameters<typeof failureText>[0];
    expect(failureText(newer)).toBe('The channel refused it: the customer blocked this number');
    expect(failureText(undefined)).toBe('The channel gave no reason.');
  });
  it('says what is left when the window closed on a channel without templates (Messenger, Instagram)', () => {
    const closed = { kind: 'window_closed', reason: '(#10) This message is sent outside of allowed window.' } as const;
    expect(failureText(closed, false)).toContain('the customer must write first');
    expect(failureText(closed, false)).not.toContain('template message can be sent');
    expect(failureText(closed, true)).toContain('only a template message');
    expect(failureDetail(closed)).toBe('(#10) This message is sent outside of allowed window.');
  });
  it('speaks Persian too', () => {
    setLocale('fa');
    expect(failureText({ kind: 'not_configured', reason: 'x' })).toContain('وصل نیست');
    expect(failureText({ kind: 'rejected', reason: '(#131026)' })).toBe('کانال آن را نپذیرفت: (#131026)');
  });
});
