import { describe, expect, it } from 'vitest';
import type { Agent, Contact, ContactOption, Inbox } from './bindings';
import {
  canReach,
  draftFromQuery,
  eligibleInboxes,
  firstMessage,
  fitParams,
  matchContact,
  newContactProblem,
  rankContacts,
  templatePreview,
  unreachableInboxes,
} from './newConversation';

const me = { id: 'me', name: 'Sara', email: 's@x', role: 'agent', team_ids: ['support'] } as unknown as Agent;
const inbox = (id: string, channel: Inbox['channel'], members: Partial<Inbox> = {}): Inbox =>
  ({ id, name: id, channel, member_agent_ids: [], member_team_ids: ['support'], templates: [], ...members }) as unknown as Inbox;
const contact = (name: string, phone: string | null, email: string | null, identities: Contact['identities'] = []): Contact =>
  ({ id: name, name, phone, email, identities, created_at: 0 }) as Contact;
const option = (c: Contact, open: ContactOption['open_conversations'] = []): ContactOption => ({ contact: c, open_conversations: open });

describe('inbox eligibility', () => {
  const whatsapp = inbox('WhatsApp', 'whatsapp');
  const email = inbox('Email', 'email');
  const telegram = inbox('Telegram', 'telegram');
  const sales = inbox('Sales mail', 'email', { member_team_ids: ['sales'] });
  const mine = inbox('Mine only', 'email', { member_team_ids: [], member_agent_ids: ['me'] });
  const all = [whatsapp, email, telegram, sales, mine];

  it('offers only the agent’s inboxes whose channel can reach the contact', () => {
    const olga = contact('Olga', '+40 721 000 111', null);
    expect(eligibleInboxes(me, all, option(olga)).map((c) => c.inbox.id)).toEqual(['WhatsApp']);
    const nadia = contact('Nadia', null, 'nadia@example.com');
    expect(eligibleInboxes(me, all, option(nadia)).map((c) => c.inbox.id)).toEqual(['Email', 'Mine only']);
    expect(unreachableInboxes(me, all, nadia).map((i) => i.id)).toEqual(['WhatsApp', 'Telegram']);
  });

  it('reaches someone who wrote in by their id on that inbox, on any channel', () => {
    const known = contact('Ali', null, null, [{ inbox_id: 'Telegram', channel: 'telegram', external_id: '42' }]);
    expect(canReach(telegram, known)).toBe(true);
    expect(canReach(whatsapp, known)).toBe(false);
    expect(canReach(inbox('Api', 'api'), contact('Nobody', null, null))).toBe(true);
    expect(canReach(whatsapp, contact('Short', '12', null))).toBe(false);
  });

  it('never offers Messenger or Instagram to write first: no template goes there, so only the customer starts', () => {
    const follow = [{ name: 'follow_up', language: 'en', body: 'Hi {{1}}' }];
    const metaRules = { window_ms: 86_400_000, person_window_ms: 86_400_000, templates: false };
    const messenger = inbox('Messenger', 'facebook', { templates: follow, reply_rules: metaRules });
    // No connector yet (no reply rules), and templates stored before the server refused them: still none.
    const instagram = inbox('Instagram', 'instagram', { templates: follow });
    const wrote = contact('Ali', '+40 721 000 111', null, [
      { inbox_id: 'Messenger', channel: 'facebook', external_id: 'psid-1' },
      { inbox_id: 'Instagram', channel: 'instagram', external_id: 'igsid-1' },
    ]);
    expect(canReach(messenger, wrote)).toBe(false);
    expect(canReach(instagram, wrote)).toBe(false);
    expect(eligibleInboxes(me, [whatsapp, messenger, instagram], option(wrote)).map((c) => c.inbox.id)).toEqual(['WhatsApp']);
    expect(unreachableInboxes(me, [whatsapp, messenger, instagram], wrote).map((i) => i.id)).toEqual(['Messenger', 'Instagram']);
    // WhatsApp writes first with its templates.
    expect(canReach(inbox('WA', 'whatsapp', { reply_rules: { ...metaRules, templates: true } }), wrote)).toBe(true);
  });

  it('an admin may write from any inbox', () => {
    const admin = { ...me, role: 'admin', team_ids: [] } as Agent;
    expect(eligibleInboxes(admin, all, option(contact('N', null, 'n@x.io')))).toHaveLength(3);
  });

  it('names the open conversation a contact already has in an inbox', () => {
    const olga = contact('Olga', '+40 721 000 111', null);
    const [choice] = eligibleInboxes(me, all, option(olga, [{ inbox_id: 'WhatsApp', conversation_id: 'c1' }]));
    expect(choice.openConversationId).toBe('c1');
  });
});

describe('the first message', () => {
  const template = { name: 'order_update', language: 'en', body: 'Hi {{1}}, order {{2}} shipped' };

  it('needs a template with every parameter on a window channel', () => {
    const draft = { channel: 'whatsapp' as const, body: 'free text is not allowed', template: null, params: [] };
    expect(firstMessage(draft)).toBeNull();
    expect(firstMessage({ ...draft, template, params: ['Olga'] })).toBeNull();
    expect(firstMessage({ ...draft, template, params: ['Olga', '  '] })).toBeNull();
    expect(firstMessage({ ...draft, template, params: [' Olga ', 'A-17'] })).toEqual({
      body: '',
      template: { name: 'order_update', params: ['Olga', 'A-17'] },
    });
  });

  it('is free text elsewhere', () => {
    const draft = { channel: 'email' as const, body: '  ', template: null, params: [] };
    expect(firstMessage(draft)).toBeNull();
    expect(firstMessage({ ...draft, body: 'Hello' })).toEqual({ body: 'Hello', template: null });
  });

  it('previews the template as the customer reads it, slots left visible', () => {
    expect(templatePreview(template, ['Olga', 'A-17'])).toBe('Hi Olga, order A-17 shipped');
    expect(templatePreview(template, ['Olga'])).toBe('Hi Olga, order {{2}} shipped');
    expect(fitParams(template, ['a', 'b', 'c'])).toEqual(['a', 'b']);
    expect(fitParams(template, [])).toEqual(['', '']);
    expect(fitParams(null, ['a'])).toEqual([]);
  });
});

describe('a new contact', () => {
  it('needs a name and a phone or an email', () => {
    expect(newContactProblem({ name: ' ', phone: '+1', email: '' })).toBe('nameMissing');
    expect(newContactProblem({ name: 'Olga', phone: '', email: '' })).toBe('reachMissing');
    expect(newContactProblem({ name: 'Olga', phone: '', email: 'olga@' })).toBe('emailInvalid');
    expect(newContactProblem({ name: 'Olga', phone: '+40 721 000 111', email: '' })).toBeNull();
  });

  it('starts from what was typed in the picker', () => {
    expect(draftFromQuery('+40 721 000 111')).toEqual({ name: '', phone: '+40 721 000 111', email: '' });
    expect(draftFromQuery('olga@example.ro')).toEqual({ name: '', phone: '', email: 'olga@example.ro' });
    expect(draftFromQuery(' Olga Ionescu ')).toEqual({ name: 'Olga Ionescu', phone: '', email: '' });
  });
});

describe('fuzzy contact match', () => {
  const olga = contact('Olga Ionescu', '+40 721 000 111', 'olga@example.ro');
  const oleg = contact('Oleg Petrov', null, null);
  const nadia = contact('Nadia Rahimi', '+98 912 555 0101', 'nadia@example.com');
  const sara = contact('سارا کریمی', null, 'sara@example.ir');
  const everyone = [olga, oleg, nadia, sara];
  const names = (query: string) => rankContacts(query, everyone).map((c) => c.name);

  it('matches names with typos of missing letters, accents and case folded', () => {
    expect(names('olga')).toEqual(['Olga Ionescu']);
    expect(names('ionscu')).toEqual(['Olga Ionescu']);
    expect(names('OLGĂ')).toEqual(['Olga Ionescu']);
    expect(names('سارا')).toEqual(['سارا کریمی']);
  });

  it('matches phone digits however they are spaced, and emails', () => {
    expect(names('0721 000')).toEqual(['Olga Ionescu']);
    expect(names('912-555')).toEqual(['Nadia Rahimi']);
    expect(names('example.com')).toEqual(['Nadia Rahimi']);
  });

  it('needs every word to match, and ranks word starts first', () => {
    expect(names('olga 999')).toEqual([]);
    expect(names('ol')).toEqual(['Oleg Petrov', 'Olga Ionescu']);
    expect(matchContact('pet', oleg)! > matchContact('etr', oleg)!).toBe(true);
  });
});
