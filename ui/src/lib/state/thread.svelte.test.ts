import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
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
    expect(fakeApi.thread).toHaveBeenCalledWith('c1');
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
});
