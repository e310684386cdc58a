import { afterEach, describe, expect, it } from 'vitest';
import type { Agent, Directory, SavedView } from './bindings';
import {
  activeCriteria,
  canManageView,
  describeFilter,
  draftFor,
  draftState,
  emptyFilter,
  filterView,
  matchesFilter,
  normalized,
  sameAssignee,
  sameFilter,
  teamsForViews,
  toggled,
  viewNameProblem,
  waitLabel,
} from './filters';
import { setLocale } from './i18n';
import { conversation, directory as baseDirectory } from './state/testing';
import { sameView, viewId, viewName } from './views';

afterEach(() => setLocale('en'));

const agent = (id: string, role: Agent['role'], team_ids: string[] = []): Agent => ({
  id, name: id, email: `${id}@x`, role, availability: 'online', active: true, team_ids, capacity: null,
});
const directory: Directory = {
  ...baseDirectory,
  teams: [{ id: 'support', name: 'Support' }, { id: 'sales', name: 'Sales' }],
  labels: [{ id: 'l1', name: 'New Lead', color: '#ff0000' }],
};
const view = (overrides: Partial<SavedView>): SavedView => ({
  id: 'v1', name: 'VIP', filter: emptyFilter(), owner_id: null, team_id: 'support', created_by: 'lena', created_at: 0, ...overrides,
});

describe('filters', () => {
  it('says what the bar can do with a draft: save, update, save as new only, or nothing', () => {
    const vip = { ...emptyFilter(), labels: ['vip'] };
    const wider = { ...vip, statuses: ['open' as const] };
    const team = view({ filter: vip });
    const mine = view({ owner_id: 'me', team_id: null, filter: vip });
    expect(draftState(emptyFilter(), null, agent('me', 'agent'))).toBe('clean');
    expect(draftState(vip, null, agent('me', 'agent'))).toBe('new');
    // The same filter, its values in another order: nothing unsaved.
    expect(draftState({ ...vip, labels: ['vip'], statuses: [] }, team, agent('me', 'agent'))).toBe('clean');
    expect(sameFilter({ ...emptyFilter(), labels: ['a', 'b'] }, { ...emptyFilter(), labels: ['b', 'a'] })).toBe(true);
    // Changed: the owner of a personal view, a lead of the team, an admin update it; others may not.
    expect(draftState(wider, mine, agent('me', 'agent'))).toBe('update');
    expect(draftState(wider, mine, agent('other', 'admin'))).toBe('readOnly');
    expect(draftState(wider, team, agent('lena', 'lead', ['support']))).toBe('update');
    expect(draftState(wider, team, agent('sam', 'lead', ['sales']))).toBe('readOnly');
    expect(draftState(wider, team, agent('ana', 'admin'))).toBe('update');
    expect(draftState(wider, team, agent('me', 'agent', ['support']))).toBe('readOnly');
    // Emptying a view's filter is a change like any other.
    expect(draftState(emptyFilter(), team, agent('ana', 'admin'))).toBe('update');
  });

  it('gives the bar the draft of the view on screen', () => {
    const saved = view({ filter: { ...emptyFilter(), labels: ['vip', 'New Lead'] } });
    const dir = { ...directory, saved_views: [saved] };
    expect(draftFor({ type: 'saved', id: 'v1' }, dir)).toEqual({ draft: normalized(saved.filter), base: saved });
    expect(draftFor({ type: 'saved', id: 'gone' }, dir)).toEqual({ draft: emptyFilter(), base: null });
    expect(draftFor({ type: 'mine' }, dir)).toEqual({ draft: emptyFilter(), base: null });
    expect(draftFor({ type: 'inbox', id: 'inbox-1' }, dir)).toEqual({ draft: emptyFilter(), base: null });
    const filter = { ...emptyFilter(), sla: ['overdue' as const] };
    expect(draftFor(filterView(filter), dir)).toEqual({ draft: filter, base: null });
  });

  it('toggles values in and out, assignees by kind and id', () => {
    expect(toggled(['a'], 'b')).toEqual(['a', 'b']);
    expect(toggled(['a', 'b'], 'a')).toEqual(['b']);
    const some = toggled([{ type: 'unassigned' }], { type: 'agent', id: 'sam' }, sameAssignee);
    expect(toggled(some, { type: 'agent', id: 'sam' }, sameAssignee)).toEqual([{ type: 'unassigned' }]);
    expect(sameAssignee({ type: 'agent', id: 'a' }, { type: 'agent', id: 'b' })).toBe(false);
  });

  it('gives one filter one identity whatever order its values were picked in', () => {
    const a = { ...emptyFilter(), labels: ['vip', 'New Lead'], inbox_ids: ['i2', 'i1'] };
    const b = { ...emptyFilter(), labels: ['New Lead', 'vip'], inbox_ids: ['i1', 'i2'] };
    expect(viewId(filterView(a))).toBe(viewId(filterView(b)));
    expect(sameView(filterView(a), filterView({ ...b, labels: ['vip'] }))).toBe(false);
    expect(normalized({ ...emptyFilter(), waiting_longer_than_secs: undefined })).not.toHaveProperty('waiting_longer_than_secs');
  });

  it('counts the criteria set', () => {
    expect(activeCriteria(emptyFilter())).toBe(0);
    expect(activeCriteria({ ...emptyFilter(), labels: ['a', 'b'], sla: ['overdue'], waiting_longer_than_secs: 900 })).toBe(3);
  });

  it('says a filter in words, in English and in Persian', () => {
    const filter = {
      ...emptyFilter(),
      inbox_ids: ['inbox-1'],
      labels: ['New Lead'],
      assignees: [{ type: 'unassigned' as const }],
      priorities: ['urgent' as const],
      waiting_longer_than_secs: 3600,
    };
    expect(describeFilter(filter, directory)).toEqual([
      'Inbox: WhatsApp',
      'Label: New Lead',
      'Assignee: Unassigned',
      'Priority: Urgent',
      'waiting longer than 1 hour',
    ]);
    expect(waitLabel(15 * 60)).toBe('15 minutes');
    expect(waitLabel(86_400)).toBe('1 day');
    setLocale('fa');
    expect(describeFilter(filter, directory)[0]).toBe('صندوق: WhatsApp');
    expect(describeFilter(filter, directory)[2]).toBe('مسئول: بدون مسئول');
  });

  it('names saved views and filters in the list header', () => {
    const withView = { ...directory, saved_views: [view({ name: 'صف ویژه' })] };
    expect(viewName({ type: 'saved', id: 'v1' }, withView)).toBe('صف ویژه');
    expect(viewName({ type: 'saved', id: 'gone' }, withView)).toBe('Unknown');
    expect(viewName(filterView(emptyFilter()), withView)).toBe('Filtered');
  });

  it('lets admins make team views for any team, leads for theirs, agents for none', () => {
    expect(teamsForViews(agent('ada', 'admin'), directory).map((t) => t.id)).toEqual(['support', 'sales']);
    expect(teamsForViews(agent('lena', 'lead', ['support']), directory).map((t) => t.id)).toEqual(['support']);
    expect(teamsForViews(agent('sara', 'agent', ['support']), directory)).toEqual([]);
  });

  it('lets the owner manage a personal view, and a team view its leads and admins', () => {
    expect(canManageView(agent('sara', 'agent'), view({ owner_id: 'sara', team_id: null }))).toBe(true);
    expect(canManageView(agent('sam', 'agent'), view({ owner_id: 'sara', team_id: null }))).toBe(false);
    expect(canManageView(agent('sara', 'agent', ['support']), view({}))).toBe(false);
    expect(canManageView(agent('lena', 'lead', ['support']), view({}))).toBe(true);
    expect(canManageView(agent('carl', 'lead', ['sales']), view({}))).toBe(false);
    expect(canManageView(agent('ada', 'admin'), view({}))).toBe(true);
  });

  it('checks a view name as the server does', () => {
    expect(viewNameProblem('  ')).toBe('empty');
    expect(viewNameProblem('x'.repeat(61))).toBe('tooLong');
    expect(viewNameProblem('a\nb')).toBe('control');
    expect(viewNameProblem(' پشتیبانی باز ')).toBeNull();
  });

  it('matches conversations as the cache does: AND across criteria, any value within one', () => {
    const now = 10_000_000;
    const c = conversation('c1', { assignee_id: null, labels: ['vip'], priority: 'high', waiting_since: now - 2 * 3600_000 });
    const match = (patch: Partial<ReturnType<typeof emptyFilter>>, due: number | null = null) =>
      matchesFilter(c, 'whatsapp', { ...emptyFilter(), ...patch }, 'me', now, due);
    expect(match({})).toBe(true);
    expect(match({ labels: ['vip', 'other'], assignees: [{ type: 'unassigned' }], channels: ['whatsapp'] })).toBe(true);
    expect(match({ labels: ['vip'], priorities: ['urgent'] })).toBe(false);
    expect(match({ assignees: [{ type: 'me' }] })).toBe(false);
    expect(match({ waiting_longer_than_secs: 3600 })).toBe(true);
    expect(match({ waiting_longer_than_secs: 3 * 3600 })).toBe(false);
    expect(match({ sla: ['none'] })).toBe(true);
    expect(match({ sla: ['overdue'] }, now - 1)).toBe(true);
    expect(match({ sla: ['at_risk'] }, now + 60_000)).toBe(true);
    expect(match({ sla: ['on_track'] }, now + 60_000)).toBe(false);
  });
});
