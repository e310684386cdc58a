// Starting a conversation, as pure functions: which inboxes can write to a contact first, what the
// first message must be there (a template with every parameter on reply-window channels), a new
// contact's checks, and the fuzzy contact match the dev mock answers with (the app's own is the
// core's, `switchboard_core::new_conversation::find_contacts`, with the same rules).
import type { Agent, Channel, Contact, ContactOption, Inbox, MessageTemplate, TemplateRef } from './bindings';
import { renderTemplate, replyRules, templateParamCount } from './composer';

/** Channels where a conversation can only be started with an approved template (no customer message to answer). */
export function needsTemplate(channel: Channel): boolean {
  return channel === 'whatsapp' || channel === 'instagram' || channel === 'facebook';
}

const digitsOf = (text: string) => text.replace(/\D/g, '');

/** Where an inbox reaches a contact first (the twin of `rules::contact_address`): their id on that inbox
 *  if they wrote to it, else on WhatsApp their phone's digits, on email their address; null: it can't. */
export function contactAddress(inbox: Pick<Inbox, 'id' | 'channel'>, contact: Contact): string | null {
  const identity = contact.identities.find((i) => i.inbox_id === inbox.id);
  if (identity) return identity.external_id;
  if (inbox.channel === 'whatsapp') {
    const digits = digitsOf(contact.phone ?? '');
    return digits.length >= 6 ? digits : null;
  }
  if (inbox.channel === 'email') {
    const email = (contact.email ?? '').trim();
    return email.includes('@') ? email : null;
  }
  return null;
}

/** Whether a first message can go out on the inbox at all: on reply-window channels only a template can
 *  (no customer message to answer), so Messenger and Instagram, which have none, only answer. */
export function canWriteFirst(inbox: Pick<Inbox, 'channel'> & Partial<Pick<Inbox, 'reply_rules'>>): boolean {
  return !needsTemplate(inbox.channel) || replyRules(inbox).templates;
}

/** Whether the agent can start a conversation with the contact on this inbox (the API channel's integration finds anyone). */
export function canReach(inbox: Pick<Inbox, 'id' | 'channel'> & Partial<Pick<Inbox, 'reply_rules'>>, contact: Contact): boolean {
  if (!canWriteFirst(inbox)) return false;
  return inbox.channel === 'api' || contactAddress(inbox, contact) !== null;
}

/** Whether the agent works in the inbox: a member, through a team, or an admin (who may act in every inbox). */
export function belongsTo(me: Agent, inbox: Inbox): boolean {
  return (
    me.role === 'admin' ||
    inbox.member_agent_ids.includes(me.id) ||
    inbox.member_team_ids.some((team) => me.team_ids.includes(team))
  );
}

export type InboxChoice = {
  inbox: Inbox;
  /** The contact's open conversation there: one per contact per inbox, so open that instead. */
  openConversationId: string | null;
};

/** The inboxes the new conversation can go out on, by name: the agent's, and able to reach the contact. */
export function eligibleInboxes(me: Agent, inboxes: Inbox[], option: ContactOption): InboxChoice[] {
  return inboxes
    .filter((inbox) => belongsTo(me, inbox) && canReach(inbox, option.contact))
    .map((inbox) => ({
      inbox,
      openConversationId: option.open_conversations.find((open) => open.inbox_id === inbox.id)?.conversation_id ?? null,
    }))
    .sort((a, b) => a.inbox.name.localeCompare(b.inbox.name));
}

/** The agent's inboxes that can't reach the contact, to say why they're missing. */
export function unreachableInboxes(me: Agent, inboxes: Inbox[], contact: Contact): Inbox[] {
  return inboxes.filter((inbox) => belongsTo(me, inbox) && !canReach(inbox, contact));
}

/** Parameters resized to the template's count, keeping what was typed. */
export function fitParams(template: MessageTemplate | null, params: string[]): string[] {
  const count = template ? templateParamCount(template.body) : 0;
  return Array.from({ length: count }, (_, i) => params[i] ?? '');
}

/** What the customer will read: the template with the parameters filled in (unfilled slots stay `{{n}}`). */
export function templatePreview(template: MessageTemplate, params: string[]): string {
  return renderTemplate(template.body, params.map((p) => p.trim()));
}

export type NewContactDraft = { name: string; phone: string; email: string };

/** What the contact picker hands back: a contact from the cache, or one to add. */
export type ContactPick = { kind: 'existing'; option: ContactOption } | { kind: 'new'; draft: NewContactDraft };

/** A new contact's problem, as an i18n key under `newConversation.`, or null when it can be saved. */
export function newContactProblem(draft: NewContactDraft): 'nameMissing' | 'reachMissing' | 'emailInvalid' | null {
  if (!draft.name.trim()) return 'nameMissing';
  if (!draft.phone.trim() && !draft.email.trim()) return 'reachMissing';
  if (draft.email.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(draft.email.trim())) return 'emailInvalid';
  return null;
}

/** A new contact prefilled from what the agent typed in the picker: a number, an address or a name. */
export function draftFromQuery(query: string): NewContactDraft {
  const text = query.trim();
  if (text.includes('@')) return { name: '', phone: '', email: text };
  if (/^[+\d][\d\s().-]*$/.test(text) && digitsOf(text).length >= 3) return { name: '', phone: text, email: '' };
  return { name: text, phone: '', email: '' };
}

/** A contact as the picker's draft: what `canReach` can judge before the contact exists. */
export function draftContact(draft: NewContactDraft): Contact {
  return {
    id: '',
    name: draft.name.trim(),
    phone: draft.phone.trim() || null,
    email: draft.email.trim() || null,
    identities: [],
    created_at: 0,
  } as Contact;
}

export type MessageDraft = {
  channel: Channel;
  body: string;
  template: MessageTemplate | null;
  params: string[];
};

/** The first message to send: a template reference on window channels, else the text; null when not ready. */
export function firstMessage(draft: MessageDraft): { body: string; template: TemplateRef | null } | null {
  if (needsTemplate(draft.channel)) {
    if (!draft.template) return null;
    const params = fitParams(draft.template, draft.params).map((p) => p.trim());
    if (params.some((p) => !p)) return null;
    return { body: '', template: { name: draft.template.name, params } };
  }
  if (!draft.body.trim()) return null;
  return { body: draft.body, template: null };
}

/** Fuzzy score of `needle` in `haystack` (letters in order, case- and accent-insensitive), or null:
 *  consecutive letters and a start at a word's beginning score more. */
function fuzzy(needle: string, haystack: string): number | null {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const n = fold(needle);
  const h = fold(haystack);
  let score = 0;
  let from = 0;
  let previous = -2;
  for (const char of n) {
    const at = h.indexOf(char, from);
    if (at < 0) return null;
    score += 1 + (at === previous + 1 ? 2 : 0) + (at === 0 || /[\s@._-]/.test(h[at - 1]) ? 3 : 0);
    previous = at;
    from = at + 1;
  }
  return score;
}

/** How well a contact matches the picker's query, or null: every word must match the name or email
 *  fuzzily, or (three digits or more) appear in the phone's digits. */
export function matchContact(query: string, contact: Contact): number | null {
  let total = 0;
  for (const word of query.trim().split(/\s+/).filter(Boolean)) {
    const digits = digitsOf(word);
    const phone = digits.length >= 3 && digitsOf(contact.phone ?? '').includes(digits) ? 4 * digits.length : null;
    const name = fuzzy(word, contact.name);
    const email = fuzzy(word, contact.email ?? '');
    const best = Math.max(name === null ? -1 : name * 2, email ?? -1, phone ?? -1);
    if (best < 0) return null;
    total += best;
  }
  return total;
}

/** The contacts matching a query, best first (ties by name), at most `limit`. */
export function rankContacts(query: string, contacts: Contact[], limit = 20): Contact[] {
  return contacts
    .map((contact) => ({ contact, score: matchContact(query, contact) }))
    .filter((entry): entry is { contact: Contact; score: number } => entry.score !== null)
    .sort((a, b) => b.score - a.score || a.contact.name.localeCompare(b.contact.name))
    .slice(0, limit)
    .map((entry) => entry.contact);
}
