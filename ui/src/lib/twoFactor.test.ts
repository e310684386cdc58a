import { describe, expect, it } from 'vitest';
import { cleanCode, groupedKey, isCode, isTotpCode, recoveryCodesFile } from './twoFactor';

describe('two-step verification codes', () => {
  it('takes an authenticator code with the spaces apps show', () => {
    expect(cleanCode(' 123 456 ')).toBe('123456');
    expect(isCode('123 456')).toBe(true);
    expect(isTotpCode('123456')).toBe(true);
  });
  it('takes a recovery code however it is typed, but not for confirming an enrolment', () => {
    expect(cleanCode('abcde-12345')).toBe('ABCDE-12345');
    expect(isCode('abcde-12345')).toBe(true);
    expect(isCode('ABCDE12345')).toBe(true);
    expect(isTotpCode('ABCDE-12345')).toBe(false);
  });
  it('refuses what cannot be a code', () => {
    for (const bad of ['', '12345', '1234567', 'abcdef', 'ABCDE-1234', '12a456']) expect(isCode(bad), bad).toBe(false);
  });
  it('groups the key for typing and writes the codes as a file', () => {
    expect(groupedKey('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
    const file = recoveryCodesFile(['AAAAA-11111', 'BBBBB-22222'], 'sara@example.com');
    expect(file.split('\n')).toEqual([
      'Switchboard recovery codes for sara@example.com', 'Each code signs in once.', '', 'AAAAA-11111', 'BBBBB-22222', '',
    ]);
  });
});
