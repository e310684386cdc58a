import { describe, expect, it } from 'vitest';
import type { Contact, Conversation, CustomField } from './bindings';
import { checkForm, formFrom, keyFromLabel, mergePreview, normalizePhone, updateFrom, validEmail } from './contacts';

const plan: CustomField = { id: 'f1', key: 'plan', label: 'Plan', kind: 'choice', options: ['gold', 'silver'], created_at: 1 };
const renewal: CustomField = { id: 'f2', key: 'renewal', label: 'Renewal', kind: 'date', options: [], created_at: 2 };
const seats: CustomField = { id: 'f3', key: 'seats', label: 'Seats', kind: 'number', options: [], created_at: 3 };
const fields = [plan, renewal, seats];

const contact = (over: Partial<Contact> = {}): Contact => ({
  id: 'c1',
  name: 'Ana Pop',
  phone: '+40721000111',
  email: null,
  identities: [],
  created_at: 0,
  ...over,
});

const conversation = (id: string, inbox: string, status: Conversation['status']) => ({ id, inbox_id: inbox, status }) as Conversation;

describe('the contact form', () => {
  it('normalises phones as the server keeps them', () => {
    expect(normalizePhone('+40 (721) 000-111')).toBe('+40721000111');
    expect(normalizePhone('0040721000111')).toBe('+40721000111');
    expect(normalizePhone('12+34567')).toBeNull();
    expect(normalizePhone('+1234')).toBeNull();
    expect(normalizePhone('call me')).toBeNull();
  });

  it('checks emails, names and each custom field by its kind', () => {
    expect(validEmail('ana@example.ro')).toBe(true);
    expect(validEmail('ana@localhost')).toBe(false);
    const form = formFrom(contact(), fields);
    expect(checkForm(form, fields)).toEqual([]);
    form.name = ' ';
    form.email = 'nope';
    form.fields = { plan: 'bronze', renewal: '2023-02-29', seats: '1e3' };
    expect(checkForm(form, fields).map((e) => `${e.field}:${e.key}`)).toEqual([
      'name:name',
      'email:email',
      'plan:choice',
      'renewal:date',
      'seats:number',
    ]);
  });

  it('sends only what changed, and null for what was cleared', () => {
    const ana = contact({ email: 'ana@example.ro', fields: { plan: 'gold' } });
    const form = formFrom(ana, fields);
    expect(updateFrom(ana, form, fields, 'x')).toBeNull();
    // The same phone typed differently is no change.
    form.phone = '0040 721 000 111';
    expect(updateFrom(ana, form, fields, 'x')).toBeNull();
    form.name = 'Ana Popescu ';
    form.email = '';
    form.fields.plan = 'silver';
    form.fields.renewal = '2027-01-31';
    expect(updateFrom(ana, form, fields, 'x')).toEqual({
      client_id: 'x',
      name: 'Ana Popescu',
      email: null,
      fields: { plan: 'silver', renewal: '2027-01-31' },
    });
  });
});

describe('a merge preview', () => {
  it('counts what moves, what is resolved and what the survivor gains', () => {
    const survivor = contact({ identities: [{ inbox_id: 'wa', channel: 'whatsapp', external_id: '40721' }] });
    const other = contact({
      id: 'c2',
      phone: null,
      email: 'ana@x.ro',
      fields: { plan: 'gold' },
      identities: [
        { inbox_id: 'wa', channel: 'whatsapp', external_id: '40722' },
        { inbox_id: 'tg', channel: 'telegram', external_id: 'ana' },
      ],
    });
    const preview = mergePreview(
      survivor,
      [conversation('a', 'wa', 'open'), conversation('b', 'tg', 'resolved')],
      other,
      [conversation('c', 'wa', 'pending'), conversation('d', 'tg', 'open'), conversation('e', 'wa', 'resolved')],
    );
    expect(preview).toEqual({ moved: 3, resolved: 1, identities: 2, filled: ['email', 'plan'] });
  });
});

describe('a custom field key', () => {
  it('comes from its label', () => {
    expect(keyFromLabel('Renewal date')).toBe('renewal_date');
    expect(keyFromLabel('  Café Plan! ')).toBe('cafe_plan');
    expect(keyFromLabel('2nd phone')).toBe('nd_phone');
  });
});
