import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { Directory, InboxStart } from '../bindings';
import { toasts } from '../toasts.svelte';
import { Session } from './session.svelte';
import {
  deferred, directory, fakeApi, online, page, resetFakeApi, settle, sidebar, signedIn, signedOut,
} from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

function make(seeds = true) {
  const deps = {
    report: vi.fn(),
    reset: vi.fn(),
    seed: vi.fn((_start: InboxStart) => seeds),
    firstPage: vi.fn(async () => {}),
    statusFilter: vi.fn(() => 'open' as const),
    entered: vi.fn(),
  };
  return { session: new Session(deps), deps };
}

const start: InboxStart = {
  directory,
  status: online,
  request: { view: { type: 'mine' }, status: 'open', sort: 'newest', offset: 0, limit: 100 },
  page: page(2),
};

describe('Session', () => {
  it('locks: the shell first, then the inbox leaves the page; a wrong password keeps it locked', async () => {
    fakeApi.startScreen.mockResolvedValue({ info: signedIn, inbox: start });
    const { session, deps } = make();
    await session.resume();
    deps.reset.mockClear();
    await session.lock();
    expect(fakeApi.lockApp).toHaveBeenCalledOnce();
    expect(deps.reset).toHaveBeenCalledOnce();
    expect(session.phase).toBe('locked');
    fakeApi.unlockApp.mockRejectedValueOnce(new ApiError('invalid_credentials', 'wrong password'));
    await expect(session.unlock('nope')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(session.phase).toBe('locked');
    await session.unlock('right');
    expect(fakeApi.unlockApp).toHaveBeenLastCalledWith('right');
    expect(session.phase).toBe('ready');
  });

  it('comes back locked after a reload while the shell is locked, without the inbox', async () => {
    fakeApi.startScreen.mockResolvedValue({ info: { ...signedIn, locked: true }, inbox: null });
    const { session, deps } = make();
    await session.resume();
    expect(session.phase).toBe('locked');
    expect(deps.firstPage).not.toHaveBeenCalled();
  });

  it('a refused lock (no session) leaves the phase alone', async () => {
    const { session } = make();
    await session.lock();
    expect(fakeApi.lockApp).not.toHaveBeenCalled();
  });

  it('opens the inbox from the start screen without asking again', async () => {
    fakeApi.startScreen.mockResolvedValue({ info: signedIn, inbox: start });
    const { session, deps } = make();
    await session.resume();
    expect(session.phase).toBe('ready');
    expect(session.directory).toBe(directory);
    expect(deps.seed).toHaveBeenCalledWith(start);
    expect(deps.firstPage).not.toHaveBeenCalled();
    expect(fakeApi.directory).not.toHaveBeenCalled();
    expect(deps.entered).toHaveBeenCalledOnce();
  });

  it('signs in with a second-factor code when asked for one', async () => {
    fakeApi.signIn.mockRejectedValueOnce(new ApiError('two_factor_required', 'enter the code'));
    const { session } = make(false);
    await expect(session.signIn('u', 'e', 'p')).rejects.toMatchObject({ code: 'two_factor_required' });
    expect(session.phase).toBe('loading');
    await session.signIn('u', 'e', 'p', '123456');
    expect(fakeApi.signIn).toHaveBeenLastCalledWith('u', 'e', 'p', '123456');
    expect(session.phase).toBe('ready');
  });

  it('shows the enrolment screen when an admin requires a second factor, then the inbox', async () => {
    fakeApi.signIn.mockResolvedValue({ ...signedOut, two_factor_enrolment: true });
    const { session, deps } = make(false);
    await session.signIn('u', 'e', 'p');
    expect(session.phase).toBe('enrol');
    expect(deps.firstPage).not.toHaveBeenCalled();
    fakeApi.appInfo.mockResolvedValue(signedIn);
    await session.enrolled();
    expect(session.phase).toBe('ready');
  });

  it('resumes on the enrolment screen after a restart', async () => {
    fakeApi.startScreen.mockResolvedValue({ info: { ...signedOut, two_factor_enrolment: true }, inbox: null });
    const { session } = make();
    await session.resume();
    expect(session.phase).toBe('enrol');
  });

  it('shows the sign-in form when no session is open', async () => {
    const { session } = make();
    await session.resume();
    expect(session.phase).toBe('signin');
  });

  it('signing in reads the directory, the status, the first page and the sidebar', async () => {
    fakeApi.sidebar.mockResolvedValue(sidebar(4));
    const { session, deps } = make(false);
    await session.signIn('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    await settle();
    expect(fakeApi.signIn).toHaveBeenCalledWith('http://127.0.0.1:7300', 'sara@example.com', 'secret');
    expect(deps.reset).toHaveBeenCalled();
    expect(deps.firstPage).toHaveBeenCalledOnce();
    expect(session.phase).toBe('ready');
    expect(session.entering).toBe(false);
    expect(fakeApi.sidebar).toHaveBeenCalledWith('open');
    expect(session.count({ type: 'mine' })).toBe(4);
    expect(session.count({ type: 'pinned' }), 'a view the sidebar does not list').toBeNull();
  });

  it('is "entering" from the sign-in request until the inbox is on screen', async () => {
    const { session } = make(false);
    const states: boolean[] = [];
    fakeApi.signIn.mockImplementation(async () => {
      states.push(session.entering);
      return signedIn;
    });
    fakeApi.directory.mockImplementation(async () => {
      states.push(session.entering);
      return directory;
    });
    await session.signIn('u', 'e', 'p');
    expect(states).toEqual([true, true]);
    expect(session.entering).toBe(false);
  });

  it('a refused sign-in reaches the form and leaves nothing half open', async () => {
    fakeApi.signIn.mockRejectedValue(new ApiError('invalid_credentials', 'no'));
    const { session } = make(false);
    session.phase = 'signin';
    await expect(session.signIn('u', 'e', 'p')).rejects.toThrow('no');
    expect(session.entering).toBe(false);
    expect(session.phase).toBe('signin');
  });

  it('a session closed while entering shows the sign-in form', async () => {
    fakeApi.directory.mockRejectedValue(new ApiError('signed_out', 'gone'));
    const { session, deps } = make(false);
    await session.enter();
    expect(session.phase).toBe('signin');
    expect(deps.entered).not.toHaveBeenCalled();
  });

  it('signing out of the last account shows the sign-in form', async () => {
    const { session, deps } = make(false);
    session.phase = 'ready';
    await session.signOut();
    expect(deps.reset).toHaveBeenCalled();
    expect(session.phase).toBe('signin');
  });

  it('signing out of one account opens the next', async () => {
    fakeApi.signOut.mockResolvedValue(signedIn);
    const { session, deps } = make(false);
    await session.signOut();
    expect(deps.firstPage).toHaveBeenCalled();
    expect(session.phase).toBe('ready');
  });

  it('a session opened in the background is entered; not while the form is in use', async () => {
    fakeApi.appInfo.mockResolvedValue(signedIn);
    const { session } = make(false);
    session.phase = 'signin';
    session.addingAccount = true;
    await session.enterIfOpened();
    expect(session.phase).toBe('signin');
    session.addingAccount = false;
    await session.enterIfOpened();
    expect(session.phase).toBe('ready');
  });

  it('the signed-out event says why and reads the accounts again', async () => {
    fakeApi.appInfo.mockResolvedValue(signedOut);
    const { session, deps } = make();
    session.phase = 'ready';
    session.signedOut('revoked');
    await settle();
    expect(session.phase).toBe('signin');
    expect(session.signedOutReason).toBe('revoked');
    expect(deps.reset).toHaveBeenCalled();
    expect(session.info).toBe(signedOut);
  });

  it('asks for the status after start-up only if no event brought it', async () => {
    const { session } = make();
    session.phase = 'ready';
    session.statusChanged({ ...online, pending: 3 });
    session.catchUpStatus();
    expect(fakeApi.status).not.toHaveBeenCalled();
    expect(session.status?.pending).toBe(3);
  });
});


describe('Session availability', () => {
  const withMe = (availability: Directory['me']['availability']): Directory => ({
    ...directory,
    me: { ...directory.me, availability },
  });

  beforeEach(() => toasts.clear());

  it('is the directory’s until the agent chooses', () => {
    const { session } = make();
    expect(session.availability, 'no directory yet').toBeNull();
    session.directory = withMe('online');
    expect(session.availability).toBe('online');
  });

  it('shows the choice at once and keeps it until the feed brings the agent’s new version', async () => {
    const { session } = make();
    session.directory = withMe('online');
    const answer = deferred<Directory['me']>();
    fakeApi.setAvailability.mockReturnValue(answer.promise);
    const setting = session.setAvailability('busy');
    expect(fakeApi.setAvailability).toHaveBeenCalledWith('busy');
    expect(session.availability, 'shown before the server answers').toBe('busy');
    answer.resolve(withMe('busy').me);
    await setting;
    session.directory = withMe('online');
    expect(session.availability, 'a directory read before the feed brought it does not undo the choice').toBe('busy');
    session.directory = withMe('busy');
    expect(session.availability).toBe('busy');
    session.directory = withMe('offline');
    expect(session.availability, 'settled: later changes (another device) show').toBe('offline');
  });

  it('a change made elsewhere meanwhile wins over the choice', async () => {
    const { session } = make();
    session.directory = withMe('online');
    await session.setAvailability('busy');
    session.directory = withMe('offline');
    expect(session.availability).toBe('offline');
  });

  it('rolls back and says why when the server can’t be reached', async () => {
    const { session, deps } = make();
    session.directory = withMe('online');
    fakeApi.setAvailability.mockRejectedValue(new ApiError('offline', 'network: unreachable'));
    await session.setAvailability('busy');
    expect(session.availability, 'nothing changed').toBe('online');
    expect(toasts.items.map((toast) => toast.text)).toEqual([
      'You’re offline: availability can’t change until you reconnect',
    ]);
    expect(deps.report).not.toHaveBeenCalled();
  });

  it('other refusals roll back and are reported', async () => {
    const { session, deps } = make();
    session.directory = withMe('busy');
    const refusal = new ApiError('forbidden', 'no');
    fakeApi.setAvailability.mockRejectedValue(refusal);
    await session.setAvailability('online');
    expect(session.availability).toBe('busy');
    expect(deps.report).toHaveBeenCalledWith(refusal);
  });

  it('only the latest choice’s refusal rolls back', async () => {
    const { session } = make();
    session.directory = withMe('online');
    let refuseFirst!: (error: unknown) => void;
    fakeApi.setAvailability.mockReturnValueOnce(new Promise((_, reject) => (refuseFirst = reject)));
    const busy = session.setAvailability('busy');
    await session.setAvailability('offline');
    expect(session.availability).toBe('offline');
    refuseFirst(new ApiError('offline', 'network'));
    await busy;
    expect(session.availability, 'the later choice, which the server took, still shows').toBe('offline');
  });

  it('a choice is forgotten when another session starts', async () => {
    const { session } = make();
    session.directory = withMe('online');
    fakeApi.setAvailability.mockReturnValue(new Promise(() => {}));
    void session.setAvailability('busy');
    fakeApi.directory.mockResolvedValue(withMe('online'));
    await session.enter();
    expect(session.availability).toBe('online');
  });
});
