// The composer's rules as pure functions: what it shows, when it may send, templates,
// attachment limits, and when drafts and typing indicators go out (time is a parameter).
import type { Channel, Inbox, MessageTemplate, ReplyRules, SendKind, WindowState } from './bindings';
import { t } from './i18n';
import { fileSize, megabytes } from './format';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Replies after the reply window closed must be templates; notes are always free text. */
export function templateRequired(window: WindowState | null | undefined, kind: SendKind): boolean {
  return kind === 'reply' && window?.state === 'closed';
}

/**
 * Whether message templates exist on the channel: they are WhatsApp's, and Meta's Messenger and
 * Instagram have none whatever the connector (the twin of the server's `rules::channel_has_templates`).
 */
export function channelHasTemplates(channel: Channel | null | undefined): boolean {
  return channel !== 'facebook' && channel !== 'instagram';
}

/**
 * The inbox's reply rules as its connector reports them (the inbox entity's `reply_rules`). An
 * inbox without them (no connector, or stored before they were carried) keeps the old rule: a
 * template once the window has closed — except on Messenger and Instagram, which never send one.
 */
export function replyRules(inbox: (Pick<Inbox, 'reply_rules'> & { channel?: Channel }) | null | undefined): ReplyRules {
  const rules = inbox?.reply_rules ?? { window_ms: null, person_window_ms: null, templates: true };
  return channelHasTemplates(inbox?.channel) ? rules : { ...rules, templates: false };
}

/**
 * What the composer shows: free text, the template picker once the window has closed, or — on a
 * channel without templates (Messenger, Instagram) — nothing to send until the customer writes.
 */
export function composerView(
  window: WindowState | null | undefined,
  kind: SendKind,
  rules: ReplyRules = replyRules(null),
): 'text' | 'template' | 'closed' {
  if (!templateRequired(window, kind)) return 'text';
  return rules.templates ? 'template' : 'closed';
}

/** Why the composer can't take free text, in words fitting the inbox's rules. */
export function windowClosedText(rules: ReplyRules, channel: Channel | undefined): string {
  const name = channelName(channel);
  if (rules.templates) return t('composer.windowClosedBody', { channel: name });
  const longer = rules.person_window_ms != null && rules.window_ms != null && rules.person_window_ms > rules.window_ms;
  if (longer) return t('composer.windowClosedHumanAgent', { channel: name, count: Math.round(rules.person_window_ms! / DAY_MS) });
  return t('composer.windowClosedNoTemplates', { channel: name });
}

/**
 * On an inbox whose people may answer past the standard window (Meta's `HUMAN_AGENT` tag, 7
 * days): when, within that extra time, the last reply may go out; `null` inside the standard
 * window or when there is no extra time.
 */
export function humanAgentDeadline(rules: ReplyRules, lastIncomingAt: number | null | undefined, now: number): number | null {
  if (lastIncomingAt == null || rules.window_ms == null || rules.person_window_ms == null) return null;
  if (rules.person_window_ms <= rules.window_ms) return null;
  const deadline = lastIncomingAt + rules.person_window_ms;
  return now >= lastIncomingAt + rules.window_ms && now < deadline ? deadline : null;
}

/** How many `{{n}}` parameters a template takes: the highest n used (like the server). */
export function templateParamCount(body: string): number {
  for (let n = 32; n >= 1; n -= 1) if (body.includes(`{{${n}}}`)) return n;
  return 0;
}

/** The template body with `{{n}}` replaced by the n-th parameter (unfilled ones stay as they are). */
export function renderTemplate(body: string, params: string[]): string {
  return params.reduce((text, value, i) => (value ? text.split(`{{${i + 1}}}`).join(value) : text), body);
}

/** The template body split into text and parameter slots, for the preview. */
export function templateParts(body: string): ({ kind: 'text'; text: string } | { kind: 'param'; index: number })[] {
  const parts: ({ kind: 'text'; text: string } | { kind: 'param'; index: number })[] = [];
  let last = 0;
  for (const match of body.matchAll(/\{\{(\d{1,2})\}\}/g)) {
    const at = match.index ?? 0;
    if (at > last) parts.push({ kind: 'text', text: body.slice(last, at) });
    parts.push({ kind: 'param', index: Number(match[1]) - 1 });
    last = at + match[0].length;
  }
  if (last < body.length) parts.push({ kind: 'text', text: body.slice(last) });
  return parts;
}

export type SendState = {
  kind: SendKind;
  body: string;
  stagedCount: number;
  /** Files still being read or uploaded to staging. */
  uploading: number;
  window: WindowState | null;
  /** Whether the inbox sends templates once the window has closed (`ReplyRules.templates`). */
  templates?: boolean;
  template: MessageTemplate | null;
  params: string[];
  sending: boolean;
};

/** Whether the Send button works right now. */
export function canSend(state: SendState): boolean {
  if (state.sending || state.uploading > 0) return false;
  if (templateRequired(state.window, state.kind)) {
    if (state.templates === false || !state.template) return false;
    const needed = templateParamCount(state.template.body);
    for (let i = 0; i < needed; i += 1) if (!(state.params[i] ?? '').trim()) return false;
    return true;
  }
  return state.body.trim().length > 0 || state.stagedCount > 0;
}

/** Refuses files over the inbox's limit (or empty ones) before they're read; null when fine. */
export function checkAttachment(
  file: { name: string; size: number },
  inbox: { name: string; attachment_limit: number } | null,
): string | null {
  if (file.size === 0) return t('composer.empty');
  if (inbox && inbox.attachment_limit > 0 && file.size > inbox.attachment_limit) {
    return t('composer.tooLarge', { name: file.name, size: fileSize(file.size), inbox: inbox.name, limit: megabytes(inbox.attachment_limit) });
  }
  return null;
}

/** Channel display names for the window-closed explanation. */
export function channelName(channel: Channel | undefined): string {
  return channel ? t(`channels.${channel}`) : t('channels.whatsapp');
}

// ---------------------------------------------------------------------------------------------
// Drafts

export const DRAFT_DELAY_MS = 400;

export type DraftState = {
  /** What the backend last stored. */
  saved: { kind: SendKind; body: string };
  current: { kind: SendKind; body: string };
  /** When the person last changed it. */
  lastEditAt: number;
};

/**
 * Whether to save the draft now: `save` when it differs from what's stored and the person paused
 * for DRAFT_DELAY_MS (or `force`, when switching conversations or closing), `wait` with the time
 * left, `none` when nothing changed.
 */
export function draftDecision(state: DraftState, now: number, force = false): { action: 'none' } | { action: 'save' } | { action: 'wait'; ms: number } {
  const changed = state.saved.body !== state.current.body || (state.saved.kind !== state.current.kind && state.current.body.length > 0);
  if (!changed) return { action: 'none' };
  if (force) return { action: 'save' };
  const elapsed = now - state.lastEditAt;
  if (elapsed >= DRAFT_DELAY_MS) return { action: 'save' };
  return { action: 'wait', ms: DRAFT_DELAY_MS - elapsed };
}

// ---------------------------------------------------------------------------------------------
// Typing indicator

export const TYPING_IDLE_MS = 3000;
/** Re-announce while typing continuously, so colleagues' indicators don't expire. */
export const TYPING_REFRESH_MS = 10_000;

export type TypingState = { active: boolean; lastInputAt: number; lastSentAt: number };

export type TypingEvent = 'input' | 'tick' | 'send' | 'blur' | 'leave';

/**
 * Whether to tell colleagues we're typing: on the first input (and every TYPING_REFRESH_MS of
 * continuous typing) send `true`; after TYPING_IDLE_MS without input, on send, on blur or when
 * leaving the conversation, send `false` — each only when it changes something.
 */
export function typingDecision(state: TypingState, event: TypingEvent, now: number): { state: TypingState; send: boolean | null } {
  switch (event) {
    case 'input': {
      const announce = !state.active || now - state.lastSentAt >= TYPING_REFRESH_MS;
      return {
        state: { active: true, lastInputAt: now, lastSentAt: announce ? now : state.lastSentAt },
        send: announce ? true : null,
      };
    }
    case 'tick':
      if (state.active && now - state.lastInputAt >= TYPING_IDLE_MS) {
        return { state: { ...state, active: false, lastSentAt: now }, send: false };
      }
      return { state, send: null };
    case 'send':
    case 'blur':
    case 'leave':
      if (!state.active) return { state, send: null };
      return { state: { ...state, active: false, lastSentAt: now }, send: false };
  }
}

export const IDLE_TYPING: TypingState = { active: false, lastInputAt: 0, lastSentAt: 0 };

// ---------------------------------------------------------------------------------------------
// Mentions (notes)

/** The "@name" being typed before the cursor, if any. */
export function mentionTrigger(text: string, cursor: number): { query: string; start: number } | null {
  const before = text.slice(0, cursor);
  const match = before.match(/(^|\s)@([\p{L}\p{N}._-]*)$/u);
  if (!match) return null;
  return { query: match[2], start: cursor - match[2].length - 1 };
}

/** The handle the server recognises for an agent: the first name. */
export function mentionHandle(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}

/** Base64 of bytes (for stage_pasted), in chunks so big files don't blow the stack. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}
