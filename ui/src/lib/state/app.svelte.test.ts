import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EntityKind } from '../bindings';
import { toasts } from '../toasts.svelte';
import { AppState, CHANGE_DELAY_MS } from './app.svelte';
import { deferred, directory, fakeApi, online, page, resetFakeApi, settle, sidebar, signedIn, thread } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => {
  resetFakeApi();
  toasts.clear();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.stubGlobal('window', { innerWidth: 1440 });
  vi.stubGlobal('localStorage', { getItem: () => null, setItem: () => {} });
  vi.stubGlobal('requestAnimationFrame', (callback: () => void) => setTimeout(callback, 16));
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** The window as a new user first sees it: started, showing the sign-in form, first frame drawn. */
async function signInForm(): Promise<AppState> {
  const app = new AppState();
  await app.start();
  await vi.advanceTimersByTimeAsync(1000);
  expect(app.session.phase).toBe('signin');
  return app;
}

/** The shell's `cache_changed` event, and the moment the app waits to gather a burst of them. */
async function cacheChanged(app: AppState, kinds: EntityKind[]): Promise<void> {
  app.handleEvent({ type: 'cache_changed', kinds });
  await vi.advanceTimersByTimeAsync(CHANGE_DELAY_MS);
  await settle();
}

describe('the first sign-in', () => {
  it('the list shows what the first sync brings, as the sidebar does', async () => {
    const app = await signInForm();
    // Signing in opens the session; the first sync (the bootstrap) then fills the empty cache.
    await app.session.signIn('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    expect(app.session.phase).toBe('ready');
    expect(app.list.pages.loaded && app.list.pages.total).toBe(0);
    // With no rows the list component puts no row on screen.
    app.list.pages.visible = { start: 0, end: 0 };

    fakeApi.listConversations.mockResolvedValue(page(18));
    fakeApi.sidebar.mockResolvedValue(sidebar(18));
    await cacheChanged(app, ['conversation', 'contact', 'message']);

    expect(app.session.count({ type: 'mine' })).toBe(18);
    expect(app.list.pages.total, 'the list must show the conversations the sidebar counts, without another click').toBe(18);
    expect(app.list.pages.row(0)?.conversation.id).toBe('c0');
  });

  it('what the first sync brings while the inbox is being opened shows once it is', async () => {
    const app = await signInForm();
    const firstPage = deferred<ReturnType<typeof page>>();
    fakeApi.listConversations.mockReturnValueOnce(firstPage.promise);
    const signingIn = app.session.signIn('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    await settle();
    // The bootstrap finishes while the first page (read before it) is on its way.
    fakeApi.listConversations.mockResolvedValue(page(18));
    fakeApi.sidebar.mockResolvedValue(sidebar(18));
    app.handleEvent({ type: 'cache_changed', kinds: ['conversation'] });
    await vi.advanceTimersByTimeAsync(CHANGE_DELAY_MS);
    firstPage.resolve(page(0));
    await signingIn;
    expect(app.session.phase).toBe('ready');

    await vi.advanceTimersByTimeAsync(CHANGE_DELAY_MS);
    await settle();
    expect(app.list.pages.total, 'a change during sign-in must not be dropped').toBe(18);
    expect(app.session.count({ type: 'mine' })).toBe(18);
  });
});

describe('start-up', () => {
  it('opens the inbox from the start screen and refreshes everything after the first frame', async () => {
    fakeApi.startScreen.mockResolvedValue({
      info: signedIn,
      inbox: { directory, status: online, request: { view: { type: 'mine' }, status: 'open', sort: 'newest', offset: 0, limit: 100 }, page: page(3) },
    });
    const app = new AppState();
    await app.start();
    expect(app.session.phase).toBe('ready');
    expect(app.list.pages.total).toBe(3);
    expect(fakeApi.listConversations, 'the start screen brought the first page').not.toHaveBeenCalled();
    expect(fakeApi.sidebar, 'the sidebar waits for the first frame').not.toHaveBeenCalled();

    fakeApi.sidebar.mockResolvedValue(sidebar(3));
    await vi.advanceTimersByTimeAsync(1000 + CHANGE_DELAY_MS);
    await settle();
    expect(app.session.count({ type: 'mine' })).toBe(3);
    expect(fakeApi.directory).toHaveBeenCalled();
    expect(fakeApi.listConversations).toHaveBeenCalled();
  });

  it('without a backend says so', async () => {
    const { fakeApiModule } = await import('./testing');
    fakeApiModule.hasBackend.mockReturnValueOnce(false);
    const app = new AppState();
    await app.start();
    expect(app.session.phase).toBe('nobackend');
  });

});

describe('events', () => {
  async function ready(): Promise<AppState> {
    const app = await signInForm();
    fakeApi.listConversations.mockResolvedValue(page(3));
    await app.session.signIn('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    await settle();
    for (const call of Object.values(fakeApi)) call.mockClear();
    return app;
  }

  it('a burst of changes is read once, by the panes that show those kinds', async () => {
    const app = await ready();
    app.handleEvent({ type: 'cache_changed', kinds: ['label'] });
    app.handleEvent({ type: 'cache_changed', kinds: ['canned_response'] });
    await vi.advanceTimersByTimeAsync(CHANGE_DELAY_MS);
    await settle();
    expect(fakeApi.directory).toHaveBeenCalledOnce();
    expect(fakeApi.sidebar).toHaveBeenCalledOnce();
    expect(fakeApi.listConversations).toHaveBeenCalledOnce();

    for (const call of Object.values(fakeApi)) call.mockClear();
    await cacheChanged(app, ['canned_response']);
    expect(fakeApi.directory).toHaveBeenCalledOnce();
    expect(fakeApi.sidebar).not.toHaveBeenCalled();
    expect(fakeApi.listConversations).not.toHaveBeenCalled();
  });

  it("the admin's lock maximum from the feed is read again at once, and nothing else is", async () => {
    const app = await ready();
    const before = app.lockPolicyRevision;
    await cacheChanged(app, ['lock_policy']);
    expect(app.lockPolicyRevision, 'the window reads the maximum again (App.svelte applies it)').toBe(before + 1);
    expect(fakeApi.directory).not.toHaveBeenCalled();
    expect(fakeApi.listConversations).not.toHaveBeenCalled();
    await cacheChanged(app, ['label']);
    expect(app.lockPolicyRevision).toBe(before + 1);
  });

  it('new messages in the open conversation are read (and marked read with the focus)', async () => {
    const app = await ready();
    vi.stubGlobal('document', { hasFocus: () => true });
    await app.thread.open('c1');
    fakeApi.openConversation.mockClear();
    await cacheChanged(app, ['message']);
    expect(fakeApi.openConversation).toHaveBeenCalledWith('c1', null);
    await cacheChanged(app, ['pin']);
    expect(fakeApi.thread).toHaveBeenCalledWith('c1', null);
  });

  it('a status event wins over an older answer', async () => {
    const app = await signInForm();
    const answer = deferred<typeof online>();
    fakeApi.status.mockReturnValueOnce(answer.promise);
    const signingIn = app.session.signIn('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    await settle();
    app.handleEvent({ type: 'status', connection: 'offline', pending: 2, last_sync_at: null, do_not_disturb: false });
    answer.resolve(online);
    await signingIn;
    expect(app.session.status?.connection).toBe('offline');
  });

  it('how much of the history has arrived follows the status events, then goes', async () => {
    const app = await ready();
    app.handleEvent({ type: 'status', connection: 'online', pending: 0, last_sync_at: 5, do_not_disturb: false, history_percent: 42 });
    expect(app.session.status?.history_percent).toBe(42);
    app.handleEvent({ type: 'status', connection: 'online', pending: 0, last_sync_at: 6, do_not_disturb: false });
    expect(app.session.status?.history_percent).toBeUndefined();
  });

  it('colleagues typing in the open conversation show; others and my own echo do not', async () => {
    const app = await ready();
    await app.thread.open('c1');
    app.handleEvent({ type: 'typing', conversation_id: 'c1', agent_id: 'omid', active: true });
    app.handleEvent({ type: 'typing', conversation_id: 'c2', agent_id: 'layla', active: true });
    app.handleEvent({ type: 'typing', conversation_id: 'c1', agent_id: 'me', active: true });
    app.handleEvent({ type: 'viewing', conversation_id: 'c1', agent_id: 'layla', active: true });
    expect([...app.thread.typing]).toEqual(['omid']);
    expect([...app.thread.viewing]).toEqual(['layla']);
    app.handleEvent({ type: 'typing', conversation_id: 'c1', agent_id: 'omid', active: false });
    expect(app.thread.typing.size).toBe(0);
  });

  it('a refused action shows why', async () => {
    const app = await ready();
    app.handleEvent({
      type: 'rejected',
      action: 'assign',
      conversation_id: 'c1',
      code: 'forbidden',
      message: 'no',
      current_assignee_id: null,
    });
    expect(toasts.items.map((toast) => toast.tone)).toEqual(['error']);
  });

  it('signing out elsewhere shows the sign-in form with the reason and forgets the session', async () => {
    const app = await ready();
    await app.thread.open('c1');
    app.handleEvent({ type: 'signed_out', reason: 'revoked' });
    expect(app.session.phase).toBe('signin');
    expect(app.session.signedOutReason).toBe('revoked');
    expect(app.thread.openId).toBeNull();
    expect(app.list.pages.loaded).toBe(false);
  });

  it('a session opened in the background (automatic sign-in) shows its inbox', async () => {
    const app = await signInForm();
    fakeApi.appInfo.mockResolvedValue(signedIn);
    fakeApi.listConversations.mockResolvedValue(page(2));
    await cacheChanged(app, ['conversation']);
    await settle();
    expect(app.session.phase).toBe('ready');
    expect(app.list.pages.total).toBe(2);
  });

  it('a clicked notification opens its conversation and focuses its row', async () => {
    const app = await ready();
    app.overlay = { kind: 'palette' };
    app.handleEvent({ type: 'open_conversation', conversation_id: 'c2' });
    await settle();
    expect(app.thread.openId).toBe('c2');
    expect(app.overlay).toBeNull();
    expect(app.list.focusedIndex).toBe(2);
  });
});

describe('across features', () => {
  it('compose opens the focused row and asks the composer for the mode', async () => {
    const app = await signInForm();
    fakeApi.listConversations.mockResolvedValue(page(3));
    fakeApi.openConversation.mockResolvedValue(thread('c0'));
    await app.session.signIn('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    app.compose('note');
    expect(app.thread.openId).toBe('c0');
    expect(app.composeRequest?.kind).toBe('note');
  });

  it('a picker needs a target', async () => {
    const app = await signInForm();
    app.openPicker('label');
    expect(app.overlay).toBeNull();
    expect(toasts.items).toHaveLength(1);
  });
});
