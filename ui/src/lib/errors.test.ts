import { describe, expect, it } from 'vitest';
import type { Directory, UiErrorCode } from './bindings';
import { errorText, signInErrorText } from './errors';

const directory = {
  agents: [{ id: 'omid', name: 'Omid Rahimi', email: '', role: 'lead', availability: 'online', active: true, team_ids: [] }],
} as unknown as Directory;

describe('errorText', () => {
  it('names who claimed the conversation first', () => {
    expect(errorText('assignment_conflict', 'conflict', directory, 'omid')).toBe('\u2068Omid Rahimi\u2069 claimed this conversation first');
    expect(errorText('assignment_conflict', 'conflict', directory, 'stranger')).toBe('\u2068Someone else\u2069 claimed this conversation first');
    expect(errorText('assignment_conflict', 'conflict', directory, null)).toMatch(/Someone else changed/);
  });
  it('says an action for a conversation out of view was dropped, not that it is missing', () => {
    expect(errorText('out_of_view', 'RAW', directory)).toBe('The conversation is no longer in your view — what you queued for it was dropped');
    expect(errorText('out_of_view', 'RAW', directory)).not.toBe(errorText('not_found', 'RAW', directory));
  });
  it('explains a closed reply window', () => {
    expect(errorText('window_closed', 'x', directory)).toBe('The 24-hour reply window closed — send a template instead');
  });
  it('falls back to the message for codes it does not know', () => {
    expect(errorText('brand_new_code' as UiErrorCode, 'Something odd', directory)).toBe('Something odd');
    expect(errorText('other', 'Something odd', directory)).toBe('Something odd');
    expect(errorText('internal', 'Disk full', directory)).toBe('Disk full');
  });
  it('words each code it knows, never with the raw message', () => {
    const worded: UiErrorCode[] = ['window_closed', 'too_large', 'unknown_template', 'forbidden', 'not_found', 'offline', 'conversation_exists', 'out_of_view', 'signed_out'];
    for (const code of worded) {
      const text = errorText(code, 'RAW', directory);
      expect(text, code).not.toBe('RAW');
      expect(text, code).not.toBe(`toast.${code}`);
    }
    expect(errorText('validation', 'bad label', directory)).toMatch(/bad label/);
  });
  it('words sign-in failures by code', () => {
    expect(signInErrorText('invalid_credentials', 'x')).toMatch(/don’t match/);
    expect(signInErrorText('keychain_error', 'x')).toMatch(/keychain/);
    expect(signInErrorText('weird' as UiErrorCode, 'boom')).toBe('Sign-in failed: boom');
    expect(signInErrorText('other', 'boom')).toBe('Sign-in failed: boom');
    expect(signInErrorText('unauthorized', 'x')).toBe(signInErrorText('invalid_credentials', 'x'));
    for (const code of ['offline', 'rate_limited', 'invalid', 'forbidden', 'token_revoked'] as const) {
      expect(signInErrorText(code, 'RAW'), code).not.toMatch(/RAW|signin\.errors/);
    }
  });
});
