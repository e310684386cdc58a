import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ListCache, ListState } from './list.svelte';
import { deferred, fakeApi, page, resetFakeApi, row, settle } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

const mine = () => ({ view: { type: 'mine' } as const, status: 'open' as const, sort: 'newest' as const });

function cache(report = vi.fn()) {
  return new ListCache(mine, report);
}

beforeEach(() => resetFakeApi());

describe('ListCache', () => {
  it('reads the first page before it knows the total', async () => {
    fakeApi.listConversations.mockResolvedValue(page(3));
    const list = cache();
    await list.ensure(0, 8);
    expect(fakeApi.listConversations).toHaveBeenCalledWith({ view: { type: 'mine' }, status: 'open', sort: 'newest', offset: 0, limit: 100 });
    expect(list.loaded).toBe(true);
    expect(list.total).toBe(3);
    expect(list.row(2)?.conversation.id).toBe('c2');
  });

  it('an empty list learns that rows arrived when the cache changes', async () => {
    // The first sign-in: the list's first page is read before the first sync has filled the
    // cache, and the list component, with no rows, puts nothing on screen.
    fakeApi.listConversations.mockResolvedValue(page(0));
    const list = cache();
    await list.refresh();
    list.visible = { start: 0, end: 0 };
    expect(list.loaded && list.total === 0).toBe(true);

    fakeApi.listConversations.mockResolvedValue(page(18));
    await list.refresh();
    expect(list.total, 'the list must read its first page again, not only the (no) rows on screen').toBe(18);
    expect(list.row(0)?.conversation.id).toBe('c0');
  });

  it('refreshes the pages on screen, not the ones scrolled past', async () => {
    fakeApi.listConversations.mockImplementation(async (request) => page(250, request.offset));
    const list = cache();
    await list.ensure(0, 8);
    await list.ensure(150, 160);
    fakeApi.listConversations.mockClear();
    list.visible = { start: 150, end: 160 };
    await list.refresh();
    expect(fakeApi.listConversations.mock.calls.map(([request]) => request.offset)).toEqual([100]);
    // The first page is stale now: scrolling back to it reads it again.
    await list.ensure(0, 8);
    expect(fakeApi.listConversations.mock.calls.map(([request]) => request.offset)).toEqual([100, 0]);
  });

  it('reads again after an answer that was on its way when the cache changed', async () => {
    const before = deferred<ReturnType<typeof page>>();
    fakeApi.listConversations.mockReturnValueOnce(before.promise).mockResolvedValue(page(5));
    const list = cache();
    const first = list.ensure(0, 8);
    const refreshed = list.refresh();
    before.resolve(page(0));
    await first;
    await refreshed;
    expect(fakeApi.listConversations).toHaveBeenCalledTimes(2);
    expect(list.total, 'the answer read after the change wins').toBe(5);
  });

  it('drops answers for a view it has left', async () => {
    const late = deferred<ReturnType<typeof page>>();
    fakeApi.listConversations.mockReturnValueOnce(late.promise);
    const list = cache();
    const first = list.ensure(0, 8);
    list.reset();
    late.resolve(page(7));
    await first;
    expect(list.loaded).toBe(false);
    expect(list.total).toBe(0);
  });

  it('reports a failed read', async () => {
    const report = vi.fn();
    fakeApi.listConversations.mockRejectedValue(new Error('gone'));
    await cache(report).refresh();
    expect(report).toHaveBeenCalledOnce();
  });

  it('takes the start screen page only when it is the page it would ask for', () => {
    const list = cache();
    const request = { ...mine(), offset: 0, limit: 100 };
    expect(list.seed({ ...request, sort: 'oldest' }, page(4))).toBe(false);
    expect(list.loaded).toBe(false);
    expect(list.seed(request, page(4))).toBe(true);
    expect(list.total).toBe(4);
  });

  it('reads the pages a Shift+click range crosses', async () => {
    fakeApi.listConversations.mockImplementation(async (request) => page(150, request.offset));
    const list = cache();
    const rows = await list.rowsBetween(98, 101);
    expect(rows.map((r) => r.conversation.id)).toEqual(['c98', 'c99', 'c100', 'c101']);
  });
});

describe('ListState', () => {
  function state() {
    const deps = { report: vi.fn(), openId: vi.fn((): string | null => null), open: vi.fn(), statusChanged: vi.fn() };
    return { list: new ListState(deps), deps };
  }

  it('a new view starts at its first row with nothing selected', async () => {
    fakeApi.listConversations.mockResolvedValue(page(3));
    const { list } = state();
    await list.refresh();
    list.selected.add('c1');
    list.focusRow(2);
    list.setView({ type: 'all' });
    expect(list.selected.size).toBe(0);
    expect(list.focusedIndex).toBe(0);
    await settle();
    expect(fakeApi.listConversations).toHaveBeenLastCalledWith(expect.objectContaining({ view: { type: 'all' } }));
  });

  it('the breaching-soon view lists what falls due first, and another order can still be picked', async () => {
    fakeApi.listConversations.mockResolvedValue(page(3));
    const { list } = state();
    list.setView({ type: 'breaching_soon' });
    await settle();
    expect(fakeApi.listConversations).toHaveBeenLastCalledWith(
      expect.objectContaining({ view: { type: 'breaching_soon' }, sort: 'breaching_soon' }),
    );
    list.setSort('newest');
    await settle();
    expect(fakeApi.listConversations).toHaveBeenLastCalledWith(expect.objectContaining({ view: { type: 'breaching_soon' }, sort: 'newest' }));
  });

  it('the status filter also reloads the sidebar', () => {
    const { list, deps } = state();
    list.setStatusFilter(null);
    expect(deps.statusChanged).toHaveBeenCalledOnce();
    expect(fakeApi.listConversations).toHaveBeenLastCalledWith(expect.objectContaining({ status: null }));
  });

  it('keeps the focus on the same conversation when rows move', async () => {
    fakeApi.listConversations.mockResolvedValue(page(3));
    const { list } = state();
    await list.refresh();
    list.focusRow(1);
    fakeApi.listConversations.mockResolvedValue({ total: 4, offset: 0, rows: [row('new'), ...page(3).rows] });
    await list.refresh();
    expect(list.focusedIndex).toBe(2);
    expect(list.focusedRow()?.conversation.id).toBe('c1');
  });

  it('a plain click opens, Ctrl/Cmd toggles (taking the open one along), Shift selects a range', async () => {
    fakeApi.listConversations.mockResolvedValue(page(5));
    const { list, deps } = state();
    await list.refresh();
    await list.clickRow(0, 'c0', { toggle: false, range: false });
    expect(deps.open).toHaveBeenCalledWith('c0');
    expect(list.isSelected('c0')).toBe(false);

    deps.openId.mockReturnValue('c0');
    expect(list.isSelected('c0'), 'with no multi-selection the open one counts as selected').toBe(true);
    await list.clickRow(2, 'c2', { toggle: true, range: false });
    expect([...list.selected].sort()).toEqual(['c0', 'c2']);

    await list.clickRow(4, 'c4', { toggle: false, range: true });
    expect([...list.selected].sort()).toEqual(['c0', 'c2', 'c3', 'c4']);
    expect(list.focusedIndex).toBe(4);
  });

  it('moves the focus within the rows', async () => {
    fakeApi.listConversations.mockResolvedValue(page(2));
    const { list } = state();
    list.move(1);
    expect(list.focusedIndex, 'an empty list has nowhere to go').toBe(0);
    await list.refresh();
    list.move(5);
    expect(list.focusedIndex).toBe(1);
    list.move(-5);
    expect(list.focusedIndex).toBe(0);
  });
});
