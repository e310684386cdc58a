// Words for failures, chosen by error code (never by parsing the message).
import type { Directory } from './bindings';
import { t } from './i18n';
import { isolate } from './format';

const KNOWN = ['window_closed', 'too_large', 'unknown_template', 'forbidden', 'not_found', 'offline', 'conversation_exists', 'signed_out'] as const;

/** What to tell the person when the server refused (or a command failed with) `code`. */
export function errorText(
  code: string,
  message: string,
  directory: Directory | null,
  currentAssigneeId: string | null = null,
): string {
  if (code === 'assignment_conflict') {
    if (!currentAssigneeId) return t('toast.assignment_conflict_nobody');
    const name = directory?.agents.find((agent) => agent.id === currentAssigneeId)?.name ?? t('toast.someone');
    return t('toast.assignment_conflict', { name: isolate(name) });
  }
  if (code === 'validation') return t('toast.validation', { message });
  if ((KNOWN as readonly string[]).includes(code)) return t(`toast.${code as (typeof KNOWN)[number]}`);
  return t('toast.failed', { message });
}

/** Sign-in failures, by code. */
export function signInErrorText(code: string, message: string): string {
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
