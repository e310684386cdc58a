// Words for failures, chosen by error code (never by parsing the message). The codes are the
// generated `UiErrorCode` union (src-tauri/src/dto.rs), so a code that is misspelt, or that the
// shell no longer sends, does not type-check.
import type { Directory, UiErrorCode } from './bindings';
import { t } from './i18n';
import { isolate } from './format';

/** What to tell the person when the server refused (or a command failed with) `code`. */
export function errorText(
  code: UiErrorCode,
  message: string,
  directory: Directory | null,
  currentAssigneeId: string | null = null,
): string {
  switch (code) {
    case 'assignment_conflict': {
      if (!currentAssigneeId) return t('toast.assignment_conflict_nobody');
      const name = directory?.agents.find((agent) => agent.id === currentAssigneeId)?.name ?? t('toast.someone');
      return t('toast.assignment_conflict', { name: isolate(name) });
    }
    case 'validation':
      return t('toast.validation', { message });
    case 'window_closed':
    case 'too_large':
    case 'unknown_template':
    case 'forbidden':
    case 'not_found':
    case 'offline':
    case 'conversation_exists':
    case 'out_of_view':
    case 'signed_out':
      return t(`toast.${code}`);
    default:
      return t('toast.failed', { message });
  }
}

/** Sign-in failures, by code. */
export function signInErrorText(code: UiErrorCode, message: string): string {
  switch (code) {
    case 'invalid_credentials':
    case 'offline':
    case 'keychain_error':
    case 'rate_limited':
    case 'invalid':
    case 'forbidden':
    case 'token_revoked':
      return t(`signin.errors.${code}`);
    case 'unauthorized':
      return t('signin.errors.invalid_credentials');
    default:
      return t('signin.errors.unknown', { message });
  }
}

/** The sign-in form's second step: a refused code is a wrong (or used) code, not a wrong password. */
export function codeErrorText(code: UiErrorCode, message: string): string {
  return code === 'invalid_credentials' || code === 'unauthorized' ? t('signin.errors.wrong_code') : signInErrorText(code, message);
}

/** What the two-step verification screens say when the server refuses. */
export function twoFactorErrorText(code: UiErrorCode, message: string): string {
  switch (code) {
    case 'validation':
    case 'forbidden':
    case 'offline':
      return t(`twoFactor.errors.${code}`);
    default:
      return message.includes('already on') ? t('twoFactor.errors.already_exists') : t('twoFactor.errors.unknown', { message });
  }
}
