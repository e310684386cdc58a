// An inbox's connector as the settings screen names it: the known kinds in words, any other kind
// (a connector newer than this app) by its own name.
import type { InboxConnector } from './bindings';
import { t } from './i18n';

const KNOWN = ['api', 'whatsapp', 'telegram', 'email', 'messenger', 'instagram', 'facebook', 'widget', 'webchat', 'simulator', 'none'] as const;
type KnownKind = (typeof KNOWN)[number];

export function connectorName(kind: string): string {
  return (KNOWN as readonly string[]).includes(kind) ? t(`settings.connector.kinds.${kind as KnownKind}`) : kind;
}

/** The line under the name: simulated, not connected, or nothing. */
export function connectorHint(connector: InboxConnector): string | null {
  if (connector.simulated) return t('settings.connector.simulatedHint');
  if (connector.kind === 'none') return t('settings.connector.noneHint');
  return null;
}
