// The contact profile's logic, pure: the edit form filled from a contact, its checks (the same
// rules the server and the core apply: `crates/proto/src/contacts.rs`), the edit sent (only what
// changed), and what a merge will do, shown before it is confirmed.
import type { Contact, Conversation, CustomField, UpdateContact } from './bindings';

export type ContactForm = {
  name: string;
  phone: string;
  email: string;
  notes: string;
  /** Custom field values by key ('' for none). */
  fields: Record<string, string>;
};

/** A check that failed: the i18n key under `contacts.errors` and its parameters. */
export type FormError = { field: string; key: string; params?: Record<string, string | number> };

export function formFrom(contact: Contact | null, fields: CustomField[]): ContactForm {
  const values: Record<string, string> = {};
  for (const field of fields) values[field.key] = contact?.fields?.[field.key] ?? '';
  return {
    name: contact?.name ?? '',
    phone: contact?.phone ?? '',
    email: contact?.email ?? '',
    notes: contact?.notes ?? '',
    fields: values,
  };
}

/** A phone as it is kept: separators dropped, a leading 00 read as +; null when it can't be one. */
export function normalizePhone(phone: string): string | null {
  const trimmed = phone.trim();
  let out = '';
  for (const [index, c] of [...trimmed].entries()) {
    if (c >= '0' && c <= '9') out += c;
    else if (c === '+' && index === 0) out += c;
    else if (!' -.()'.includes(c)) return null;
  }
  if (out.startsWith('00')) out = `+${out.slice(2)}`;
  const digits = out.replace(/^\+/, '').length;
  return digits >= 5 && digits <= 15 ? out : null;
}

export function validEmail(email: string): boolean {
  const value = email.trim();
  const at = value.indexOf('@');
  if (at <= 0 || value.indexOf('@', at + 1) !== -1 || /\s/.test(value) || value.length > 254) return false;
  const domain = value.slice(at + 1);
  return domain.includes('.') && domain.split('.').every((label) => label.length > 0);
}

function validDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Whether a value fits its field (an empty one always does: it clears the value). */
export function fieldValueError(field: CustomField, raw: string): FormError | null {
  const value = raw.trim();
  if (value === '') return null;
  const error = (key: string): FormError => ({ field: field.key, key, params: { label: field.label } });
  if ([...value].length > 500) return error('tooLong');
  switch (field.kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(value) ? null : error('number');
    case 'date':
      return validDate(value) ? null : error('date');
    case 'choice':
      return field.options.includes(value) ? null : error('choice');
    default:
      return null;
  }
}

export function checkForm(form: ContactForm, fields: CustomField[]): FormError[] {
  const errors: FormError[] = [];
  const name = form.name.trim();
  if (name === '' || [...name].length > 200) errors.push({ field: 'name', key: 'name' });
  if (form.phone.trim() !== '' && normalizePhone(form.phone) === null) errors.push({ field: 'phone', key: 'phone' });
  if (form.email.trim() !== '' && !validEmail(form.email)) errors.push({ field: 'email', key: 'email' });
  if ([...form.notes.trim()].length > 5000) errors.push({ field: 'notes', key: 'notes' });
  for (const field of fields) {
    const error = fieldValueError(field, form.fields[field.key] ?? '');
    if (error) errors.push(error);
  }
  return errors;
}

/** The edit to send: only what differs from the contact (null clears); null when nothing does. */
export function updateFrom(contact: Contact, form: ContactForm, fields: CustomField[], clientId: string): UpdateContact | null {
  const update: UpdateContact = { client_id: clientId };
  let changed = false;
  const blank = (value: string) => (value.trim() === '' ? null : value.trim());
  if (form.name.trim() !== contact.name) {
    update.name = form.name.trim();
    changed = true;
  }
  const phone = blank(form.phone);
  const keptPhone = phone === null ? null : normalizePhone(phone);
  if (keptPhone !== (contact.phone ?? null)) {
    update.phone = phone;
    changed = true;
  }
  const email = blank(form.email);
  if (email !== (contact.email ?? null)) {
    update.email = email;
    changed = true;
  }
  const notes = blank(form.notes);
  if (notes !== (contact.notes ?? null)) {
    update.notes = notes;
    changed = true;
  }
  const values: Record<string, string | null> = {};
  for (const field of fields) {
    const value = blank(form.fields[field.key] ?? '');
    if (value !== (contact.fields?.[field.key] ?? null)) values[field.key] = value;
  }
  if (Object.keys(values).length > 0) {
    update.fields = values;
    changed = true;
  }
  return changed ? update : null;
}

/** What merging `other` into `survivor` will do, for the confirmation. */
export type MergePreview = {
  /** The other's conversations that move to the survivor. */
  moved: number;
  /** Of those, how many are resolved (the survivor already has one open in that inbox). */
  resolved: number;
  /** Channel identities the survivor gains. */
  identities: number;
  /** Fields the survivor lacks that the other fills (phone, email, custom fields). */
  filled: string[];
};

export function mergePreview(survivor: Contact, survivorConversations: Conversation[], other: Contact, otherConversations: Conversation[]): MergePreview {
  const openInboxes = new Set(survivorConversations.filter((c) => c.status !== 'resolved').map((c) => c.inbox_id));
  const resolved = otherConversations.filter((c) => c.status !== 'resolved' && openInboxes.has(c.inbox_id)).length;
  const known = (inboxId: string, externalId: string) =>
    survivor.identities.some((i) => i.inbox_id === inboxId && i.external_id === externalId);
  const identities = other.identities.filter((i) => !known(i.inbox_id, i.external_id)).length;
  const filled: string[] = [];
  if (!survivor.phone && other.phone) filled.push('phone');
  if (!survivor.email && other.email) filled.push('email');
  for (const key of Object.keys(other.fields ?? {})) if (!(key in (survivor.fields ?? {}))) filled.push(key);
  return { moved: otherConversations.length, resolved, identities, filled };
}

/** A custom field's key proposed from its label: lowercase letters, digits and _. */
export function keyFromLabel(label: string): string {
  const key = label
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[_0-9]+|_+$/g, '')
    .slice(0, 40);
  return key;
}
