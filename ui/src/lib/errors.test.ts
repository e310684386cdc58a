import { describe, expect, it } from 'vitest';
import type { Directory } from './bindings';
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
  it('explains a closed reply window', () => {
    expect(errorText('window_closed', 'x', directory)).toBe('The 24-hour reply window closed — send a template instead');
  });
  it('falls back to the message for codes it does not know', () => {
    expect(errorText('brand_new_code', 'Something odd', directory)).toBe('Something odd');
  });
  it('words sign-in failures by code', () => {
    expect(signInErrorText('invalid_credentials', 'x')).toMatch(/don’t match/);
    expect(signInErrorText('keychain_error', 'x')).toMatch(/keychain/);
    expect(signInErrorText('weird', 'boom')).toBe('Sign-in failed: boom');
  });
});
