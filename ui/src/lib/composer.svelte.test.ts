import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendKind } from './bindings';
import { DRAFT_DELAY_MS, TYPING_IDLE_MS } from './composer';
import { ComposerTimers, type Draft } from './composer.svelte';
import { fakeApi, resetFakeApi } from './state/testing';

vi.mock('./api', async (real) => ({ ...(await real<object>()), ...(await import('./state/testing')).fakeApiModule }));

beforeEach(() => {
  resetFakeApi();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterEach(() => vi.useRealTimers());

/** A composer holding `draft` (change it and call `edited`), with what it remembered. */
function composer(initial: Draft = { kind: 'reply', body: '' }) {
  const draft = { ...initial };
  const remembered: Draft[] = [];
  const timers = new ComposerTimers('c1', initial, { current: () => draft, remember: (d) => remembered.push({ ...d }) });
  const type = (body: string, kind: SendKind = draft.kind) => {
    draft.body = body;
    draft.kind = kind;
    timers.edited();
  };
  return { timers, draft, remembered, type };
}

describe('ComposerTimers', () => {
  it('saves the draft once typing pauses, once for a burst of keys', async () => {
    const { type, remembered } = composer();
    type('H');
    type('He');
    type('Hey');
    expect(fakeApi.saveDraft).not.toHaveBeenCalled();
    expect(remembered.at(-1)).toEqual({ kind: 'reply', body: 'Hey' });
    await vi.advanceTimersByTimeAsync(DRAFT_DELAY_MS + 10);
    expect(fakeApi.saveDraft.mock.calls).toEqual([['c1', 'reply', 'Hey']]);
  });

  it('leaving saves what is unsaved at once, and nothing when nothing changed', () => {
    composer({ kind: 'note', body: 'kept' }).timers.destroy();
    expect(fakeApi.saveDraft).not.toHaveBeenCalled();
    const { timers, type } = composer();
    type('half a thought');
    timers.destroy();
    expect(fakeApi.saveDraft).toHaveBeenCalledWith('c1', 'reply', 'half a thought');
  });

  it('announces typing in a reply, and withdraws it when typing stops', async () => {
    const { timers, type } = composer();
    type('Hi');
    timers.typing('input');
    expect(fakeApi.typing.mock.calls).toEqual([['c1', true]]);
    await vi.advanceTimersByTimeAsync(TYPING_IDLE_MS + 1000);
    expect(fakeApi.typing.mock.calls.at(-1)).toEqual(['c1', false]);
  });

  it('notes are never announced', () => {
    const { timers, type } = composer({ kind: 'note', body: '' });
    type('private', 'note');
    timers.typing('input');
    expect(fakeApi.typing).not.toHaveBeenCalled();
  });

  it('sending empties the draft without saving it again and stops typing', async () => {
    const { timers, type, draft, remembered } = composer();
    type('Thanks!');
    timers.typing('input');
    draft.body = '';
    timers.sent('reply');
    expect(remembered.at(-1)).toEqual({ kind: 'reply', body: '' });
    expect(fakeApi.typing.mock.calls.at(-1)).toEqual(['c1', false]);
    await vi.advanceTimersByTimeAsync(DRAFT_DELAY_MS * 4);
    expect(fakeApi.saveDraft, 'the server clears its copy with the message').not.toHaveBeenCalled();
  });
});
