// The audit screen's wording of a row: which group of actions a filter picks, and a row's changes
// as short "field: before → after" lines (values as the server recorded them, secrets already
// `[redacted]` there; long values cut so one row can't flood the table).
import type { AuditEntry } from './bindings';

/** The filter's groups: each an action prefix the server matches (`auth.` = every sign-in row). */
export const AUDIT_GROUPS = [
  'auth',
  'device',
  'agent',
  'team',
  'inbox',
  'label',
  'automation_rule',
  'sla_policy',
  'settings',
  'contact',
  'export',
  'permission',
  'conversation',
] as const;
export type AuditGroup = (typeof AUDIT_GROUPS)[number];

/** The server's `action` query for a group (`null`: every row). */
export function actionFilter(group: AuditGroup | ''): string | null {
  return group === '' ? null : `${group}.`;
}

const MAX_VALUE = 60;

function shown(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** One line per changed field; a field only set (no before) reads `field: after`. */
export function changeLines(entry: Pick<AuditEntry, 'changes'>): string[] {
  const changes = entry.changes ?? {};
  return Object.entries(changes).map(([field, pair]) => {
    const [before, after] = Array.isArray(pair) ? pair : [null, pair];
    return before === null || before === undefined ? `${field}: ${shown(after)}` : `${field}: ${shown(before)} → ${shown(after)}`;
  });
}

/** The seq to ask the next (older) page below; null once a page came back short. */
export function nextCursor(page: Pick<AuditEntry, 'seq'>[], pageSize: number): number | null {
  if (page.length < pageSize) return null;
  return page[page.length - 1].seq;
}
