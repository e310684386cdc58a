// Why an outgoing message failed, in words: the known failure kinds get a clear sentence of their
// own; a provider's refusal (or a kind this version doesn't know) shows the provider's message.
import type { DeliveryFailure } from './bindings';
import { t } from './i18n';

/**
 * The sentence shown under a failed reply. `templates`: whether the inbox's connector sends
 * templates (`ReplyRules.templates`), so a closed window says what is left to do.
 */
export function failureText(failure: DeliveryFailure | undefined, templates = true): string {
  if (!failure) return t('delivery.reason.unknown');
  if (failure.kind === 'window_closed' && !templates) return t('delivery.reason.window_closed_no_templates');
  switch (failure.kind) {
    case 'not_configured':
    case 'window_closed':
    case 'gave_up':
    case 'interrupted':
      return t(`delivery.reason.${failure.kind}`);
    default:
      return failure.reason.trim() ? t('delivery.reason.rejected', { reason: failure.reason }) : t('delivery.reason.unknown');
  }
}

/** The provider's own words, for the tooltip, when the sentence doesn't already show them. */
export function failureDetail(failure: DeliveryFailure | undefined): string | null {
  if (!failure || failure.kind === 'rejected' || !failure.reason.trim()) return null;
  return failure.reason;
}
