// An inbox's channel settings as the settings screen edits them (admins): one flat draft for
// every connector kind, validated field by field, turned into the `ConnectorSettings` the server
// takes. Secrets are write-only: an edit shows them blank, and a blank secret on a connector of
// the kind already stored keeps the stored one (the server fills it in), so it is only required
// when creating or switching kinds.
import type { Channel, ConnectorSettings, InboxConnector, MailSecurity, NewSubject, TelegramMode } from './bindings';

export type ConnectorKind = 'none' | 'api' | 'whatsapp' | 'telegram' | 'email' | 'messenger' | 'instagram' | 'widget';

export interface ChannelDraft {
  kind: ConnectorKind;
  webhook_url: string;
  phone_number_id: string;
  account_id: string;
  human_agent: boolean;
  access_token: string;
  app_secret: string;
  verify_token: string;
  graph_base_url: string;
  api_version: string;
  bot_token: string;
  webhook_secret: string;
  api_base_url: string;
  /** Telegram: updates by webhook, or by long polling (a server Telegram can't reach). */
  telegram_mode: TelegramMode;
  address: string;
  display_name: string;
  imap_host: string;
  imap_port: string;
  imap_security: MailSecurity;
  smtp_host: string;
  smtp_port: string;
  smtp_security: MailSecurity;
  username: string;
  password: string;
  mailbox: string;
  new_subject: NewSubject;
  /** The website widget: the sites that may embed it, separated by spaces, commas or lines. */
  allowed_origins: string;
  greeting: string;
  color: string;
}

export type DraftField = Exclude<keyof ChannelDraft, 'kind' | 'imap_security' | 'smtp_security' | 'new_subject' | 'human_agent' | 'telegram_mode'>;

const META_FIELDS: { field: DraftField; secret?: boolean; optional?: boolean }[] = [
  { field: 'account_id' },
  { field: 'access_token', secret: true },
  { field: 'app_secret', secret: true },
  { field: 'verify_token', secret: true },
  { field: 'api_version', optional: true },
  { field: 'graph_base_url', optional: true },
];

/** The fields each kind shows, in order; secrets are marked. */
export const FIELDS: Record<ConnectorKind, { field: DraftField; secret?: boolean; optional?: boolean }[]> = {
  none: [],
  api: [{ field: 'webhook_url' }],
  whatsapp: [
    { field: 'phone_number_id' },
    { field: 'access_token', secret: true },
    { field: 'app_secret', secret: true },
    { field: 'verify_token', secret: true },
    { field: 'api_version', optional: true },
    { field: 'graph_base_url', optional: true },
  ],
  telegram: [
    { field: 'bot_token', secret: true },
    { field: 'webhook_secret', secret: true },
    { field: 'api_base_url', optional: true },
  ],
  messenger: META_FIELDS,
  instagram: META_FIELDS,
  email: [
    { field: 'address' },
    { field: 'display_name', optional: true },
    { field: 'imap_host' },
    { field: 'imap_port' },
    { field: 'smtp_host' },
    { field: 'smtp_port' },
    { field: 'username' },
    { field: 'password', secret: true },
    { field: 'mailbox', optional: true },
  ],
  widget: [{ field: 'allowed_origins' }, { field: 'greeting', optional: true }, { field: 'color', optional: true }],
};

/** The channels an admin creates an inbox on from the app, each with its connector. */
export const CHANNELS: Channel[] = ['whatsapp', 'facebook', 'instagram', 'telegram', 'email', 'webchat', 'api'];

/** The connector kinds an inbox on `channel` may have (its own, or none). */
export function kindsFor(channel: Channel): ConnectorKind[] {
  switch (channel) {
    case 'whatsapp':
    case 'telegram':
    case 'email':
    case 'instagram':
      return [channel, 'none'];
    case 'facebook':
      return ['messenger', 'none'];
    case 'webchat':
      // The website widget, or an API bridge someone else wrote (what web chat inboxes had before).
      return ['widget', 'api', 'none'];
    default:
      return ['api', 'none'];
  }
}

export function emptyDraft(kind: ConnectorKind): ChannelDraft {
  return {
    kind,
    webhook_url: '',
    phone_number_id: '',
    account_id: '',
    human_agent: false,
    access_token: '',
    app_secret: '',
    verify_token: kind === 'whatsapp' || kind === 'messenger' || kind === 'instagram' ? randomSecret() : '',
    graph_base_url: '',
    api_version: '',
    bot_token: '',
    webhook_secret: kind === 'telegram' ? randomSecret() : '',
    api_base_url: '',
    telegram_mode: 'webhook',
    address: '',
    display_name: '',
    imap_host: '',
    imap_port: '993',
    imap_security: 'tls',
    smtp_host: '',
    smtp_port: '465',
    smtp_security: 'tls',
    username: '',
    password: '',
    mailbox: '',
    new_subject: 'same_conversation',
    allowed_origins: '',
    greeting: '',
    color: '#2563eb',
  };
}

/** A random token of `A-Z a-z 0-9` (Telegram's `secret_token`, WhatsApp's verify token). */
export function randomSecret(length = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

/** The edit form of a stored connector: what the server read back (never a secret); secrets blank. */
export function draftFromInfo(info: InboxConnector): ChannelDraft {
  const kind: ConnectorKind = (['api', 'whatsapp', 'telegram', 'email', 'messenger', 'instagram', 'widget'] as string[]).includes(info.kind) ? (info.kind as ConnectorKind) : 'none';
  const draft = { ...emptyDraft(kind), verify_token: '', webhook_secret: '' };
  const d = info.details ?? {};
  if (kind === 'api') draft.webhook_url = text(d.webhook_url);
  if (kind === 'whatsapp') {
    draft.phone_number_id = text(d.phone_number_id);
    draft.api_version = text(d.api_version);
    draft.graph_base_url = text(d.graph_base_url);
  }
  if (kind === 'telegram') {
    draft.api_base_url = text(d.api_base_url);
    draft.telegram_mode = text(d.mode) === 'polling' ? 'polling' : 'webhook';
  }
  if (kind === 'messenger' || kind === 'instagram') {
    draft.account_id = text(d.account_id);
    draft.human_agent = d.human_agent === true;
    draft.api_version = text(d.api_version);
    draft.graph_base_url = text(d.graph_base_url);
  }
  if (kind === 'widget') {
    draft.allowed_origins = Array.isArray(d.allowed_origins) ? d.allowed_origins.map(text).join('\n') : '';
    draft.greeting = text(d.greeting);
    draft.color = text(d.color) || '#2563eb';
  }
  if (kind === 'email') {
    const imap = (d.imap ?? {}) as Record<string, unknown>;
    const smtp = (d.smtp ?? {}) as Record<string, unknown>;
    Object.assign(draft, {
      address: text(d.address),
      display_name: text(d.display_name),
      imap_host: text(imap.host),
      imap_port: text(imap.port),
      imap_security: (text(imap.security) || 'tls') as MailSecurity,
      smtp_host: text(smtp.host),
      smtp_port: text(smtp.port),
      smtp_security: (text(smtp.security) || 'tls') as MailSecurity,
      username: text(d.username),
      mailbox: text(d.mailbox),
      new_subject: (text(d.new_subject) || 'same_conversation') as NewSubject,
    });
  }
  return draft;
}

export type IssueKind = 'required' | 'url' | 'port' | 'secretChars' | 'email' | 'origin' | 'color';
export interface FieldIssue {
  field: DraftField | 'name';
  kind: IssueKind;
}

const isUrl = (value: string) => /^https?:\/\/[^\s/]+/i.test(value.trim());
const isPort = (value: string) => /^\d+$/.test(value.trim()) && Number(value) >= 1 && Number(value) <= 65535;

/**
 * What keeps the draft from being saved. `keepsSecrets`: a connector of this kind is stored, so
 * a blank secret keeps it rather than being missing.
 */
export function validate(draft: ChannelDraft, keepsSecrets: boolean): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const { field, secret, optional } of FIELDS[draft.kind]) {
    const value = draft[field].trim();
    // Long polling takes no webhook, so no webhook secret.
    if (!value && field === 'webhook_secret' && draft.telegram_mode === 'polling') continue;
    if (!value) {
      if (!optional && !(secret && keepsSecrets)) issues.push({ field, kind: 'required' });
      continue;
    }
    if ((field === 'webhook_url' || field === 'graph_base_url' || field === 'api_base_url') && !isUrl(value)) issues.push({ field, kind: 'url' });
    if ((field === 'imap_port' || field === 'smtp_port') && !isPort(value)) issues.push({ field, kind: 'port' });
    if (field === 'webhook_secret' && !/^[A-Za-z0-9_-]{1,256}$/.test(value)) issues.push({ field, kind: 'secretChars' });
    if (field === 'address' && !/^[^\s@]+@[^\s@]+$/.test(value)) issues.push({ field, kind: 'email' });
    if (field === 'allowed_origins' && !origins(value).every((o) => /^https?:\/\/[^\s/]+\/?$/i.test(o))) issues.push({ field, kind: 'origin' });
    if (field === 'color' && !/^#[0-9a-fA-F]{6}$/.test(value)) issues.push({ field, kind: 'color' });
  }
  return issues;
}

const optional = (value: string): string | null => (value.trim() ? value.trim() : null);

/** The origins typed into the widget's field (spaces, commas or lines between them). */
export const origins = (value: string): string[] => value.split(/[\s,]+/).filter((o) => o.length > 0);

/** The settings to send (`null`: no connector). Secrets go as typed: blank keeps the stored one. */
export function toConnector(draft: ChannelDraft): ConnectorSettings | null {
  switch (draft.kind) {
    case 'none':
      return null;
    case 'api':
      return { kind: 'api', webhook_url: draft.webhook_url.trim() };
    case 'whatsapp':
      return {
        kind: 'whatsapp',
        phone_number_id: draft.phone_number_id.trim(),
        access_token: draft.access_token.trim(),
        app_secret: draft.app_secret.trim(),
        verify_token: draft.verify_token.trim(),
        graph_base_url: optional(draft.graph_base_url),
        api_version: optional(draft.api_version),
      };
    case 'telegram':
      return {
        kind: 'telegram',
        bot_token: draft.bot_token.trim(),
        webhook_secret: draft.webhook_secret.trim(),
        api_base_url: optional(draft.api_base_url),
        mode: draft.telegram_mode,
      };
    case 'messenger':
    case 'instagram':
      return {
        kind: draft.kind,
        account_id: draft.account_id.trim(),
        access_token: draft.access_token.trim(),
        app_secret: draft.app_secret.trim(),
        verify_token: draft.verify_token.trim(),
        human_agent: draft.human_agent,
        graph_base_url: optional(draft.graph_base_url),
        api_version: optional(draft.api_version),
      };
    case 'email':
      return {
        kind: 'email',
        address: draft.address.trim(),
        display_name: optional(draft.display_name),
        imap: { host: draft.imap_host.trim(), port: Number(draft.imap_port), security: draft.imap_security },
        smtp: { host: draft.smtp_host.trim(), port: Number(draft.smtp_port), security: draft.smtp_security },
        username: draft.username.trim(),
        password: draft.password,
        mailbox: optional(draft.mailbox),
        new_subject: draft.new_subject,
      };
    case 'widget':
      return {
        kind: 'widget',
        allowed_origins: origins(draft.allowed_origins),
        greeting: draft.greeting.trim(),
        color: optional(draft.color),
      };
  }
}

/** The `<script>` tag a team pastes into its site for a widget inbox (`script_path` from the server). */
export function widgetSnippet(serverUrl: string, scriptPath: string): string {
  return `<script src="${callbackUrl(serverUrl, scriptPath)}" async></script>`;
}

/** The full callback URL to paste into the provider's console: the server's URL and the path. */
export function callbackUrl(serverUrl: string, path: string): string {
  return serverUrl.replace(/\/+$/, '') + path;
}

/** What an inbox's connection says of its callback: a URL to paste into the provider's console;
 *  on Telegram the one this server registered itself with `setWebhook` (`registered_webhook_url`),
 *  or, not registered yet, the one it registers on the next save; nothing on long polling. */
export type CallbackNote =
  | { kind: 'paste' | 'registered' | 'will_register'; url: string }
  | { kind: 'polling' }
  | { kind: 'none' };

export function callbackNote(serverUrl: string, info: Pick<InboxConnector, 'kind' | 'webhook_path' | 'details'>): CallbackNote {
  if (!info.webhook_path) return { kind: 'none' };
  if (info.kind !== 'telegram') return { kind: 'paste', url: callbackUrl(serverUrl, info.webhook_path) };
  if (info.details?.mode === 'polling') return { kind: 'polling' };
  const registered = info.details?.registered_webhook_url;
  if (typeof registered === 'string' && registered) return { kind: 'registered', url: registered };
  return { kind: 'will_register', url: callbackUrl(serverUrl, info.webhook_path) };
}

/** Where a kind's callback goes before the inbox exists (its id is known once created). */
export function takesCallback(kind: ConnectorKind): boolean {
  return kind === 'whatsapp' || kind === 'telegram' || kind === 'messenger' || kind === 'instagram';
}
