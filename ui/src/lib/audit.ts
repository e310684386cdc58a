// The audit screen's wording of a row: which group of actions a filter picks, and a row's changes
// as short "field: before → after" lines (values as the server recorded them, secrets already
// `[redacted]` there; long values cut so one row can't flood the table).
import type { AuditEntry, AuditFilter } from './bindings';

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

/** Who can act on a conversation, as the server's `actor_type` names them. */
export const ACTOR_TYPES = ['agent', 'routing', 'rule', 'contact', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** The conversation actions the trail records (`conversation.<name>`), one filter each. */
export const CONVERSATION_ACTIONS = ['assign', 'status', 'team', 'priority', 'labels', 'escalation', 'contact', 'sla_pin'] as const;

/** What the screen's controls hold: a group (and within conversations, one action), an agent,
 *  an actor type and a range of local calendar days (`YYYY-MM-DD`, as a date input gives them). */
export interface AuditChoice {
  group: AuditGroup | '';
  conversationAction: string;
  actorId: string;
  actorType: ActorType | '';
  from: string;
  to: string;
}

/** The local midnight a day starts at, in ms; `through` the next midnight (the day included);
 *  null for no day or one a date input can't have given. */
export function dayBoundary(day: string, through = false): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [year, month, date] = match.slice(1).map(Number);
  const start = new Date(year, month - 1, date + (through ? 1 : 0));
  return Number.isNaN(start.getTime()) ? null : start.getTime();
}

/** The server's filter for the screen's choice (only what is set). */
export function auditFilter(choice: AuditChoice): AuditFilter {
  const action =
    choice.group === 'conversation' && choice.conversationAction
      ? `conversation.${choice.conversationAction}`
      : actionFilter(choice.group);
  return {
    action,
    actor_id: choice.actorId || null,
    target_id: null,
    actor_type: choice.actorType || null,
    from: dayBoundary(choice.from),
    to: dayBoundary(choice.to, true),
  };
}

/** Who acted on a row: its `actor_type`, or for rows that have none (those before conversation
 *  actions were recorded, and every administrative row), an agent if one is named, else the server. */
export function actorKind(entry: Pick<AuditEntry, 'actor_type' | 'actor_id'>): string {
  return entry.actor_type ?? (entry.actor_id ? 'agent' : 'system');
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
