import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { Message } from '../bindings';
import { cursorOf } from '../threadWindow';
import { ThreadState } from './thread.svelte';
import { deferred, fakeApi, resetFakeApi, thread } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

function make(focused = true) {
  const report = vi.fn();
  return { state: new ThreadState({ report, focused: () => focused }), report };
}

describe('ThreadState', () => {
  it('opening one closes the previous and shows who is typing or viewing', async () => {
    fakeApi.openConversation.mockImplementation(async (id: string) => thread(id, { typing: ['omid'], viewing: ['layla'] }));
    const { state } = make();
    await state.open('c1');
    await state.open('c2');
    expect(fakeApi.closeConversation).toHaveBeenCalledWith('c1');
    expect(state.current?.conversation.id).toBe('c2');
    expect([...state.typing]).toEqual(['omid']);
    expect([...state.viewing]).toEqual(['layla']);
    expect(state.loading).toBe(false);
  });

  it('a slow answer for a conversation left since is dropped', async () => {
    const slow = deferred<ReturnType<typeof thread>>();
    fakeApi.openConversation.mockReturnValueOnce(slow.promise).mockImplementation(async (id: string) => thread(id));
    const { state } = make();
    const first = state.open('c1');
    await state.open('c2');
    slow.resolve(thread('c1'));
    await first;
    expect(state.openId).toBe('c2');
    expect(state.current?.conversation.id).toBe('c2');
  });

  it('a conversation that cannot be opened is not left half open', async () => {
    fakeApi.openConversation.mockRejectedValue(new ApiError('not_found', 'gone'));
    const { state, report } = make();
    await state.open('c1');
    expect(state.openId).toBeNull();
    expect(state.current).toBeNull();
    expect(report).toHaveBeenCalledOnce();
  });

  it('reloading marks read only when asked and the window has the focus', async () => {
    const { state } = make(false);
    await state.open('c1');
    fakeApi.openConversation.mockClear();
    await state.reload(true);
    expect(fakeApi.openConversation).not.toHaveBeenCalled();
    expect(fakeApi.thread).toHaveBeenCalledWith('c1', null);
  });

  it('a conversation gone on reload closes', async () => {
    const { state } = make();
    await state.open('c1');
    fakeApi.openConversation.mockRejectedValue(new ApiError('not_found', 'gone'));
    await state.reload(true);
    expect(state.openId).toBeNull();
  });

  it('closing tells the shell', async () => {
    const { state } = make();
    await state.open('c1');
    state.close();
    expect(fakeApi.closeConversation).toHaveBeenCalledWith('c1');
    expect(state.current).toBeNull();
  });

  describe('paging', () => {
    /** Message `n` of conversation c1: one a second, ids in the thread's order. */
    const numbered = (n: number, body = `m${n}`): Message => ({
      id: `m-${String(n).padStart(5, '0')}`, conversation_id: 'c1', kind: 'incoming', body, sender: { type: 'contact', id: 'k' },
      attachments: [], template: null, delivery: 'delivered', mentions: [], created_at: 1_000_000 + n * 1000,
    });
    const run = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => numbered(from + i));
    const bodies = (state: ThreadState) => state.current?.messages.map((m) => m.body);

    it('opens on the newest page and loads older pages from the top, until the first message', async () => {
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(100, 149), older: 'remote', newer: false }));
      fakeApi.threadPage
        .mockResolvedValueOnce({ messages: run(50, 99), older: 'cached', newer: true })
        .mockResolvedValueOnce({ messages: run(0, 49), older: 'none', newer: true });
      const { state } = make();
      await state.open('c1');
      expect(fakeApi.openConversation).toHaveBeenCalledWith('c1', null);
      expect(state.current?.older).toBe('remote');
      await state.loadOlder();
      expect(fakeApi.threadPage).toHaveBeenLastCalledWith('c1', 'older', cursorOf(numbered(100)));
      await state.loadOlder();
      expect(fakeApi.threadPage).toHaveBeenLastCalledWith('c1', 'older', cursorOf(numbered(50)));
      expect(bodies(state)).toEqual(run(0, 149).map((m) => m.body));
      expect([state.current?.older, state.current?.newer, state.loadingOlder]).toEqual(['none', false, false]);
      // At the first message there is nothing more to ask for.
      await state.loadOlder();
      expect(fakeApi.threadPage).toHaveBeenCalledTimes(2);
    });

    it('loads one page at a time however often the top is reached', async () => {
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(100, 149), older: 'cached' }));
      const page = deferred<{ messages: Message[]; older: 'cached'; newer: boolean }>();
      fakeApi.threadPage.mockReturnValueOnce(page.promise);
      const { state } = make();
      await state.open('c1');
      const first = state.loadOlder();
      await state.loadOlder();
      expect(state.loadingOlder).toBe(true);
      page.resolve({ messages: run(50, 99), older: 'cached', newer: true });
      await first;
      expect(fakeApi.threadPage).toHaveBeenCalledOnce();
      expect(state.current?.messages).toHaveLength(100);
    });

    it('a page for a conversation left since is dropped', async () => {
      fakeApi.openConversation.mockImplementation(async (id: string) => thread(id, { messages: id === 'c1' ? run(100, 149) : [], older: 'cached' }));
      const page = deferred<{ messages: Message[]; older: 'cached'; newer: boolean }>();
      fakeApi.threadPage.mockReturnValueOnce(page.promise);
      const { state } = make();
      await state.open('c1');
      const loading = state.loadOlder();
      await state.open('c2');
      page.resolve({ messages: run(50, 99), older: 'cached', newer: true });
      await loading;
      expect(state.current?.conversation.id).toBe('c2');
      expect(state.current?.messages).toEqual([]);
    });

    it('a reload reads the loaded range again and keeps a page scrolled in meanwhile', async () => {
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(100, 149), older: 'cached' }));
      const { state } = make(false);
      await state.open('c1');
      const reloaded = deferred<ReturnType<typeof thread>>();
      fakeApi.thread.mockReturnValueOnce(reloaded.promise);
      const reload = state.reload(true);
      expect(fakeApi.thread).toHaveBeenCalledWith('c1', { kind: 'loaded', from: cursorOf(numbered(100)), to: null });
      fakeApi.threadPage.mockResolvedValueOnce({ messages: run(50, 99), older: 'cached', newer: true });
      await state.loadOlder();
      // A new message at the live end and an edit, as the reload answers them.
      reloaded.resolve(thread('c1', { messages: [...run(100, 119), numbered(120, 'edited'), ...run(121, 150)], older: 'cached' }));
      await reload;
      expect(state.current?.messages).toHaveLength(101);
      expect(state.current?.messages[0].body).toBe('m50');
      expect(state.current?.messages[70].body).toBe('edited');
      expect(state.current?.messages[100].body).toBe('m150');
    });

    it('a jump to a message not loaded reads around it, then scrolls down to the live end', async () => {
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(100, 149), older: 'cached' }));
      const { state } = make();
      await state.open('c1');
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(10, 59), older: 'cached', newer: true }));
      await state.open('c1', 'm-00035');
      expect(fakeApi.openConversation).toHaveBeenLastCalledWith('c1', { kind: 'around', message_id: 'm-00035' });
      expect(state.focus?.messageId).toBe('m-00035');
      expect(state.current?.newer).toBe(true);
      fakeApi.threadPage.mockResolvedValueOnce({ messages: run(60, 109), older: 'cached', newer: true });
      await state.loadNewer();
      expect(fakeApi.threadPage).toHaveBeenLastCalledWith('c1', 'newer', cursorOf(numbered(59)));
      fakeApi.threadPage.mockResolvedValueOnce({ messages: run(110, 149), older: 'cached', newer: false });
      await state.loadNewer();
      expect(bodies(state)).toEqual(run(10, 149).map((m) => m.body));
      expect(state.current?.newer).toBe(false);
      // A window at the live end reads through the newest again.
      await state.reload(false);
      expect(fakeApi.thread).toHaveBeenLastCalledWith('c1', { kind: 'loaded', from: cursorOf(numbered(10)), to: null });
    });

    it('a jump to a message already loaded only brings it into view', async () => {
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(100, 149), older: 'cached' }));
      const { state } = make();
      await state.open('c1');
      await state.open('c1', 'm-00120');
      expect(fakeApi.openConversation).toHaveBeenLastCalledWith('c1', { kind: 'loaded', from: cursorOf(numbered(100)), to: null });
      expect(state.focus).toEqual({ messageId: 'm-00120', n: 1 });
      await state.open('c1', 'm-00120');
      expect(state.focus).toEqual({ messageId: 'm-00120', n: 2 });
    });

    it('a page that fails to load is reported and can be asked for again', async () => {
      fakeApi.openConversation.mockResolvedValue(thread('c1', { messages: run(100, 149), older: 'remote' }));
      fakeApi.threadPage.mockRejectedValueOnce(new ApiError('offline', 'no server'));
      const { state, report } = make();
      await state.open('c1');
      await state.loadOlder();
      expect(report).toHaveBeenCalledOnce();
      expect([state.loadingOlder, state.olderFailed, state.current?.messages.length]).toEqual([false, true, 50]);
      fakeApi.threadPage.mockResolvedValueOnce({ messages: run(50, 99), older: 'none', newer: true });
      await state.loadOlder();
      expect(state.current?.messages).toHaveLength(100);
      expect(state.olderFailed).toBe(false);
    });
  });
});
