import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import { toasts } from '../toasts.svelte';
import { Actions, type ActionHost } from './actions';
import { fakeApi, resetFakeApi, row, settle } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => {
  resetFakeApi();
  toasts.clear();
});

function make(overrides: Partial<ActionHost> = {}) {
  const host: ActionHost = {
    report: vi.fn(),
    selected: () => new Set<string>(),
    openId: () => null,
    focusedRow: () => undefined,
    pinnedFor: () => false,
    closeThread: vi.fn(),
    setView: vi.fn(),
    compose: vi.fn(),
    showHelp: vi.fn(),
    setDoNotDisturb: vi.fn(),
    setAvailability: vi.fn(),
    toggleContactPanel: vi.fn(),
    openSettings: vi.fn(),
    signOut: vi.fn(),
    lock: vi.fn(),
    ...overrides,
  };
  return { actions: new Actions(host), host };
}

describe('Actions', () => {
  it('apply to the selection, else the open conversation, else the focused row', () => {
    expect(make({ selected: () => new Set(['a', 'b']), openId: () => 'c', focusedRow: () => row('d') }).actions.targets()).toEqual(['a', 'b']);
    expect(make({ openId: () => 'c', focusedRow: () => row('d') }).actions.targets()).toEqual(['c']);
    expect(make({ focusedRow: () => row('d') }).actions.targets()).toEqual(['d']);
    expect(make().actions.targets()).toEqual([]);
  });

  it('with nothing to act on, say so and call nothing', () => {
    make().actions.claim();
    expect(fakeApi.assign).not.toHaveBeenCalled();
    expect(toasts.items).toHaveLength(1);
  });

  it('claim and assign go to the shell with the targets', () => {
    const { actions } = make({ openId: () => 'c1' });
    actions.claim();
    actions.assign('omid', ['c2', 'c3']);
    expect(fakeApi.assign.mock.calls).toEqual([
      [['c1'], null, true],
      [['c2', 'c3'], 'omid', false],
    ]);
  });

  it('pins them all unless all are pinned already', async () => {
    const pinned = new Set(['a']);
    const { actions } = make({ pinnedFor: (id) => pinned.has(id) });
    actions.togglePin(['a', 'b']);
    await settle();
    expect(fakeApi.setPinned.mock.calls).toEqual([
      ['a', true],
      ['b', true],
    ]);
    fakeApi.setPinned.mockClear();
    actions.togglePin(['a']);
    await settle();
    expect(fakeApi.setPinned.mock.calls).toEqual([['a', false]]);
  });

  it('marking the open conversation unread leaves it, so reading it again does not undo that', async () => {
    const { actions, host } = make({ openId: () => 'c1' });
    actions.markUnread();
    await settle();
    expect(fakeApi.markUnread).toHaveBeenCalledWith('c1');
    expect(host.closeThread).toHaveBeenCalledOnce();
  });

  it('retrying a failed reply names the conversation and the message; a refusal is reported', async () => {
    const { actions, host } = make();
    actions.retryDelivery('c1', 'm1');
    await settle();
    expect(fakeApi.retryDelivery).toHaveBeenCalledWith('c1', 'm1');
    fakeApi.retryDelivery.mockRejectedValue(new ApiError('offline', 'no'));
    actions.retryDelivery('c1', 'm1');
    await settle();
    expect(host.report).toHaveBeenCalledOnce();
  });

  it('a failure is reported', async () => {
    fakeApi.setStatus.mockRejectedValue(new ApiError('forbidden', 'no'));
    const { actions, host } = make();
    actions.setStatus('resolved', ['c1']);
    await settle();
    expect(host.report).toHaveBeenCalledOnce();
  });

  it('the palette runs conversation actions and the window commands', () => {
    const { actions, host } = make();
    actions.run({ type: 'label', name: 'vip', add: false }, ['c1']);
    expect(fakeApi.editLabels).toHaveBeenCalledWith(['c1'], [], ['vip']);
    actions.run({ type: 'view', view: { type: 'all' } }, []);
    expect(host.setView).toHaveBeenCalledWith({ type: 'all' });
    actions.run({ type: 'dnd', on: true }, []);
    expect(host.setDoNotDisturb).toHaveBeenCalledWith(true);
    actions.run({ type: 'availability', availability: 'busy' }, []);
    expect(host.setAvailability).toHaveBeenCalledWith('busy');
    actions.run({ type: 'help' }, []);
    expect(host.showHelp).toHaveBeenCalledOnce();
  });

  it('opens the transcript export for the one conversation it targets', () => {
    const { actions, host } = make();
    const exportTranscript = vi.fn();
    (host as { exportTranscript?: (id: string) => void }).exportTranscript = exportTranscript;
    actions.run({ type: 'transcript' }, ['c1', 'c2']);
    expect(exportTranscript).toHaveBeenCalledExactlyOnceWith('c1');
    actions.run({ type: 'transcript' }, []);
    expect(exportTranscript).toHaveBeenCalledOnce();
  });
});
