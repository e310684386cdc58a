// Two-step verification's small rules for the screens: what a typed code becomes, whether it can
// be one, the key grouped for reading, and the recovery codes as a file to keep.

const TOTP = /^\d{6}$/;
const RECOVERY = /^[0-9A-F]{5}-?[0-9A-F]{5}$/;

/** A typed code as sent: an authenticator's digits without the spaces apps show (`123 456`),
 * a recovery code upper-cased; the server accepts recovery codes however they are typed. */
export function cleanCode(input: string): string {
  const trimmed = input.trim();
  if (/^[\d\s]+$/.test(trimmed)) return trimmed.replace(/\s+/g, '');
  return trimmed.toUpperCase();
}

/** Whether `input` can be a code: six digits, or a recovery code (`ABCDE-12345`). */
export function isCode(input: string): boolean {
  const code = cleanCode(input);
  return TOTP.test(code) || RECOVERY.test(code.replace(/\s+/g, ''));
}

/** Whether `input` can be an authenticator's code (what confirming an enrolment needs). */
export function isTotpCode(input: string): boolean {
  return TOTP.test(cleanCode(input));
}

/** The base32 key in groups of four, as authenticator apps show keys for typing. */
export function groupedKey(secret: string): string {
  return secret.replace(/\s+/g, '').match(/.{1,4}/g)?.join(' ') ?? '';
}

/** The recovery codes as a text file: who they are for, one code a line. */
export function recoveryCodesFile(codes: string[], account: string): string {
  return [`Switchboard recovery codes for ${account}`, 'Each code signs in once.', '', ...codes, ''].join('\n');
}
