import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { Directory, SavedView, ViewKey } from '../bindings';
import { emptyFilter, filterView } from '../filters';
import { FilterBar } from './filters.svelte';
import { directory, fakeApi, resetFakeApi } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

const fake = fakeApi as unknown as Record<string, ReturnType<typeof vi.fn>>;

const saved: SavedView = {
  id: 'v1',
  name: 'VIP waiting',
  filter: { ...emptyFilter(), labels: ['vip'] },
  owner_id: null,
  team_id: 'support',
  created_by: 'lena',
  created_at: 1,
};

const lead = { ...directory.me, role: 'lead' as const, team_ids: ['support'] };

function setup(view: ViewKey = { type: 'mine' }, dir: Directory = directory) {
  const state = { view };
  const report = vi.fn();
  const bar = new FilterBar({
    report,
    directory: () => dir,
    view: () => state.view,
    setView: (next) => (state.view = next),
  });
  return { bar, state, report };
}

describe('FilterBar', () => {
  beforeEach(() => resetFakeApi());

  it('shows each change in the list at once, and an emptied filter goes back to All', () => {
    const { bar, state } = setup();
    bar.toggle();
    expect(bar.open).toBe(true);
    bar.change({ ...bar.draft, labels: ['vip'], assignees: [{ type: 'unassigned' }] });
    expect(state.view).toEqual(filterView({ ...emptyFilter(), labels: ['vip'], assignees: [{ type: 'unassigned' }] }));
    expect(bar.active).toBe(2);
    bar.clear();
    expect(state.view).toEqual({ type: 'all' });
  });

  it('opens on a saved view with its criteria', () => {
    const { bar } = setup({ type: 'saved', id: 'v1' }, { ...directory, saved_views: [saved] });
    bar.toggle();
    expect(bar.draft.labels).toEqual(['vip']);
  });

  it('saves the draft as a team view, then shows it', async () => {
    fake.createView.mockResolvedValue('new-view');
    const { bar, state } = setup();
    bar.toggle();
    bar.change({ ...bar.draft, labels: ['vip'], inbox_ids: ['inbox-1'] });
    bar.startSaving();
    bar.name = '  VIP waiting ';
    bar.team = 'support';
    expect(await bar.save()).toBe(true);
    expect(fake.createView).toHaveBeenCalledWith('VIP waiting', expect.objectContaining({ labels: ['vip'], inbox_ids: ['inbox-1'] }), 'support');
    expect(state.view).toEqual({ type: 'saved', id: 'new-view' });
    expect(bar.open).toBe(false);
  });

  it('refuses a bad name before asking the shell, and reports the shell’s refusal', async () => {
    const { bar, report } = setup();
    bar.startSaving();
    bar.name = '   ';
    expect(await bar.save()).toBe(false);
    expect(bar.problem).toBe('Give the view a name.');
    expect(fake.createView).not.toHaveBeenCalled();
    fake.createView.mockRejectedValue(new ApiError('forbidden', 'a lead manages the views of their own teams'));
    bar.name = 'Theirs';
    expect(await bar.save()).toBe(false);
    expect(report).toHaveBeenCalled();
  });

  it('renames and deletes; deleting the view on screen goes back to All', async () => {
    const { bar, state } = setup({ type: 'saved', id: 'v1' }, { ...directory, saved_views: [saved] });
    bar.renaming = 'v1';
    expect(await bar.rename(saved, ' صف ویژه ')).toBe(true);
    expect(fake.renameView).toHaveBeenCalledWith('v1', 'صف ویژه');
    expect(bar.renaming).toBeNull();
    bar.confirming = 'v1';
    await bar.remove(saved);
    expect(fake.deleteView).toHaveBeenCalledWith('v1');
    expect(state.view).toEqual({ type: 'all' });
  });

  it('updates the saved view it was opened from, for a lead of its team, then shows it again', async () => {
    const { bar, state } = setup({ type: 'saved', id: 'v1' }, { ...directory, me: lead, saved_views: [saved] });
    bar.toggle();
    expect(bar.base).toBe('v1');
    expect(bar.state).toBe('clean');
    bar.change({ ...bar.draft, statuses: ['open'] });
    expect(state.view).toEqual(filterView({ ...emptyFilter(), labels: ['vip'], statuses: ['open'] }));
    expect(bar.state).toBe('update');
    expect(await bar.update()).toBe(true);
    expect(fake.updateViewFilter).toHaveBeenCalledWith('v1', { ...emptyFilter(), labels: ['vip'], statuses: ['open'] });
    expect(state.view).toEqual({ type: 'saved', id: 'v1' });
    // Closed and opened again on the edited view, it still edits that view.
    bar.change({ ...bar.draft, statuses: [] });
    bar.toggle();
    bar.toggle();
    expect(bar.base).toBe('v1');
  });

  it('offers only "save as new" on a team view an agent may not edit', async () => {
    const { bar } = setup({ type: 'saved', id: 'v1' }, { ...directory, saved_views: [saved] });
    bar.toggle();
    bar.change({ ...bar.draft, priorities: ['urgent'] });
    expect(bar.state).toBe('readOnly');
    expect(await bar.update()).toBe(false);
    expect(fake.updateViewFilter).not.toHaveBeenCalled();
  });

  it('reports the shell refusing an update and stays on the draft', async () => {
    fake.updateViewFilter.mockRejectedValue(new ApiError('forbidden', 'not yours'));
    const { bar, state, report } = setup({ type: 'saved', id: 'v1' }, { ...directory, me: lead, saved_views: [saved] });
    bar.toggle();
    bar.change({ ...bar.draft, priorities: ['urgent'] });
    expect(await bar.update()).toBe(false);
    expect(report).toHaveBeenCalled();
    expect(state.view.type).toBe('filter');
  });

  it('follows the view on screen: a saved view’s filter, nothing for a built-in view', () => {
    const { bar } = setup({ type: 'mine' }, { ...directory, saved_views: [saved] });
    bar.toggle();
    bar.follow({ type: 'saved', id: 'v1' });
    expect(bar.draft.labels).toEqual(['vip']);
    expect(bar.base).toBe('v1');
    expect(bar.discarded).toBeNull();
    bar.follow({ type: 'unassigned' });
    expect(bar.draft).toEqual(emptyFilter());
    expect(bar.base).toBeNull();
    expect(bar.discarded).toBeNull();
  });

  it('discards an unsaved draft on a switch with a word, and restores it on request', () => {
    const { bar, state } = setup({ type: 'saved', id: 'v1' }, { ...directory, me: lead, saved_views: [saved] });
    bar.toggle();
    bar.change({ ...bar.draft, priorities: ['urgent'] });
    bar.startSaving();
    bar.follow({ type: 'mine' });
    expect(bar.draft).toEqual(emptyFilter());
    expect(bar.saving).toBe(false);
    expect(bar.discarded).toEqual({ draft: { ...emptyFilter(), labels: ['vip'], priorities: ['urgent'] }, base: 'v1' });
    bar.restore();
    expect(bar.base).toBe('v1');
    expect(bar.state).toBe('update');
    expect(state.view).toEqual(filterView({ ...emptyFilter(), labels: ['vip'], priorities: ['urgent'] }));
    // The list following the bar's own draft is no switch.
    bar.follow(state.view);
    expect(bar.state).toBe('update');
  });
});
