// Filters that combine and saved views: the filter bar's draft, what a filter says in words, who
// may save a team view, and the names the server accepts. The filter itself is evaluated on the
// cache by the core (`View::Filter`); `matchesFilter` is its twin for the dev mock only.
import type {
  Agent,
  AssigneeFilter,
  Channel,
  Conversation,
  ConversationFilter,
  ConversationStatus,
  Directory,
  Priority,
  SavedView,
  SlaFilter,
  ViewKey,
} from './bindings';
import { t } from './i18n';

export const PRIORITIES: Priority[] = ['urgent', 'high', 'medium', 'low', 'none'];
export const STATUSES: ConversationStatus[] = ['open', 'pending', 'snoozed', 'resolved'];
export const CHANNELS: Channel[] = ['whatsapp', 'telegram', 'email', 'instagram', 'facebook', 'webchat', 'api'];
export const SLA_STATES: SlaFilter[] = ['overdue', 'at_risk', 'on_track', 'none'];
/** The waits the bar offers, in seconds: 15 minutes, 1 hour, 4 hours, a day. */
export const WAITS = [15 * 60, 60 * 60, 4 * 60 * 60, 24 * 60 * 60];
/** As `proto::views::VIEW_NAME_MAX`. */
export const VIEW_NAME_MAX = 60;
/** As `proto::views::SLA_AT_RISK_MS`. */
export const SLA_AT_RISK_MS = 30 * 60 * 1000;

export function emptyFilter(): ConversationFilter {
  return { inbox_ids: [], labels: [], assignees: [], team_ids: [], priorities: [], statuses: [], channels: [], sla: [] };
}

/** How many criteria are set (the filter button's badge). */
export function activeCriteria(filter: ConversationFilter): number {
  const lists = [filter.inbox_ids, filter.labels, filter.assignees, filter.team_ids, filter.priorities, filter.statuses, filter.channels, filter.sla];
  return lists.filter((list) => list.length > 0).length + (filter.waiting_longer_than_secs ? 1 : 0);
}

/** The list of values with `value` added, or removed when it was there. */
export function toggled<T>(values: T[], value: T, same: (a: T, b: T) => boolean = (a, b) => a === b): T[] {
  return values.some((v) => same(v, value)) ? values.filter((v) => !same(v, value)) : [...values, value];
}

export function sameAssignee(a: AssigneeFilter, b: AssigneeFilter): boolean {
  return a.type === b.type && ('id' in a ? a.id : null) === ('id' in b ? b.id : null);
}

/** A filter with its lists in a stable order, so the same filter always has the same identity. */
export function normalized(filter: ConversationFilter): ConversationFilter {
  const sort = <T>(values: T[], key: (v: T) => string) => [...values].sort((a, b) => key(a).localeCompare(key(b)));
  const id = (v: string) => v;
  const out: ConversationFilter = {
    inbox_ids: sort(filter.inbox_ids, id),
    labels: sort(filter.labels, id),
    assignees: sort(filter.assignees, (a) => `${a.type}:${'id' in a ? a.id : ''}`),
    team_ids: sort(filter.team_ids, id),
    priorities: sort(filter.priorities, id),
    statuses: sort(filter.statuses, id),
    channels: sort(filter.channels, id),
    sla: sort(filter.sla, id),
  };
  if (filter.waiting_longer_than_secs) out.waiting_longer_than_secs = filter.waiting_longer_than_secs;
  return out;
}

/** The list view of a filter. */
export function filterView(filter: ConversationFilter): ViewKey {
  return { type: 'filter', id: normalized(filter) };
}

/** A wait in words: "15 min", "4 h", "1 d". */
export function waitLabel(secs: number): string {
  if (secs % 86_400 === 0) return t('filters.days', { count: secs / 86_400 });
  if (secs % 3_600 === 0) return t('filters.hours', { count: secs / 3_600 });
  return t('filters.minutes', { count: Math.round(secs / 60) });
}

/** The filter in words, one phrase per criterion (the list header's summary and the chips). */
export function describeFilter(filter: ConversationFilter, directory: Directory | null): string[] {
  const name = <T extends { id: string; name: string }>(items: T[] | undefined, id: string) =>
    items?.find((item) => item.id === id)?.name ?? t('views.unknown');
  const phrases: string[] = [];
  const add = (key: 'inbox' | 'label' | 'assignee' | 'team' | 'priority' | 'status' | 'channel' | 'sla', values: string[]) => {
    if (values.length > 0) phrases.push(`${t(`filters.${key}`)}: ${values.join(', ')}`);
  };
  add('inbox', filter.inbox_ids.map((id) => name(directory?.inboxes, id)));
  add('label', filter.labels);
  add(
    'assignee',
    filter.assignees.map((a) => (a.type === 'agent' ? name(directory?.agents, a.id) : t(`filters.assignees.${a.type}`))),
  );
  add('team', filter.team_ids.map((id) => name(directory?.teams, id)));
  add('priority', filter.priorities.map((p) => t(`priority.${p}`)));
  add('status', filter.statuses.map((s) => t(`statusFilter.${s}`)));
  add('channel', filter.channels.map((c) => t(`channels.${c}`)));
  add('sla', filter.sla.map((s) => t(`filters.slaStates.${s}`)));
  if (filter.waiting_longer_than_secs) phrases.push(t('filters.waitingLonger', { wait: waitLabel(filter.waiting_longer_than_secs) }));
  return phrases;
}

/** The teams `me` may save a team view for: every team for an admin, their own for a lead. */
export function teamsForViews(me: Agent | undefined, directory: Directory | null): { id: string; name: string }[] {
  if (!me || !directory) return [];
  if (me.role === 'admin') return directory.teams;
  if (me.role === 'lead') return directory.teams.filter((team) => me.team_ids.includes(team.id));
  return [];
}

/** Whether `me` may rename or delete `view`: their own personal one, or a team view they manage. */
export function canManageView(me: Agent | undefined, view: SavedView): boolean {
  if (!me) return false;
  if (view.owner_id !== null) return view.owner_id === me.id;
  if (view.team_id === null) return false;
  return me.role === 'admin' || (me.role === 'lead' && me.team_ids.includes(view.team_id));
}

/** Whether two filters say the same thing (the order of their values aside). */
export function sameFilter(a: ConversationFilter, b: ConversationFilter): boolean {
  return JSON.stringify(normalized(a)) === JSON.stringify(normalized(b));
}

/**
 * What the bar can do with its draft, given the saved view it was opened from (`base`):
 * `clean` (nothing unsaved), `new` (a draft of no saved view: save it as one), `update` (a saved
 * view changed by someone who may edit it: update it, or save as new) or `readOnly` (changed, but
 * not theirs to edit: save as new only).
 */
export function draftState(
  draft: ConversationFilter,
  base: SavedView | null,
  me: Agent | undefined,
): 'clean' | 'new' | 'update' | 'readOnly' {
  if (!base) return activeCriteria(draft) === 0 ? 'clean' : 'new';
  if (sameFilter(draft, base.filter)) return 'clean';
  return canManageView(me, base) ? 'update' : 'readOnly';
}

/** The draft a view shows in the bar: a saved view's filter, a filter's own, else nothing. */
export function draftFor(view: ViewKey, directory: Directory | null): { draft: ConversationFilter; base: SavedView | null } {
  if (view.type === 'filter') return { draft: normalized(view.id), base: null };
  if (view.type === 'saved') {
    const saved = directory?.saved_views.find((v) => v.id === view.id) ?? null;
    return { draft: saved ? normalized(saved.filter) : emptyFilter(), base: saved };
  }
  return { draft: emptyFilter(), base: null };
}

/** The problem with a view's name, as the server would say it (null: fine). */
export function viewNameProblem(name: string): 'empty' | 'tooLong' | 'control' | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'empty';
  if ([...trimmed].length > VIEW_NAME_MAX) return 'tooLong';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return 'control';
  return null;
}

/** Whether a conversation matches a filter, as the core's SQL decides it (the dev mock's twin). */
export function matchesFilter(
  c: Conversation,
  channel: Channel,
  filter: ConversationFilter,
  me: string,
  now: number,
  slaDue: number | null,
): boolean {
  const any = <T>(values: T[], test: (v: T) => boolean) => values.length === 0 || values.some(test);
  return (
    any(filter.inbox_ids, (id) => c.inbox_id === id) &&
    any(filter.labels, (label) => c.labels.includes(label)) &&
    any(filter.assignees, (a) =>
      a.type === 'unassigned' ? c.assignee_id === null : a.type === 'me' ? c.assignee_id === me : c.assignee_id === a.id,
    ) &&
    any(filter.team_ids, (id) => c.team_id === id) &&
    any(filter.priorities, (p) => c.priority === p) &&
    any(filter.statuses, (s) => c.status === s) &&
    any(filter.channels, (ch) => channel === ch) &&
    any(filter.sla, (state) => {
      if (state === 'none') return slaDue === null;
      if (slaDue === null) return false;
      if (state === 'overdue') return slaDue <= now;
      if (state === 'at_risk') return slaDue > now && slaDue <= now + SLA_AT_RISK_MS;
      return slaDue > now + SLA_AT_RISK_MS;
    }) &&
    (!filter.waiting_longer_than_secs ||
      (c.waiting_since !== null && c.waiting_since <= now - filter.waiting_longer_than_secs * 1000))
  );
}
