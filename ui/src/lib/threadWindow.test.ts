import { describe, expect, it } from 'vitest';
import type { Message } from './bindings';
import { append, compareCursors, cursorOf, loadedRange, merge, prepend, type ThreadWindow } from './threadWindow';

/** Message `n` of a thread: one a second, ids in the thread's order. */
function numbered(n: number, body = `m${n}`): Message {
  const id = `m-${String(n).padStart(5, '0')}`;
  return { id, conversation_id: 'c1', kind: 'incoming', body, sender: { type: 'contact', id: 'k' }, attachments: [], template: null, delivery: 'delivered', mentions: [], created_at: 1_000_000 + n * 1000 };
}

const run = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => numbered(from + i));
const ids = (window: ThreadWindow) => window.messages.map((m) => m.body);
const win = (messages: Message[], older: ThreadWindow['older'] = 'cached', newer = false): ThreadWindow => ({ messages, older, newer });

describe('the thread window', () => {
  it('orders by time, then id', () => {
    const a = { created_at: 5, id: 'b' };
    expect(compareCursors(a, { created_at: 6, id: 'a' })).toBe(-1);
    expect(compareCursors(a, { created_at: 5, id: 'a' })).toBe(1);
    expect(compareCursors(a, { ...a })).toBe(0);
  });

  it('reads the loaded range again, through the newest at the live end', () => {
    expect(loadedRange(win([]))).toEqual({ kind: 'newest' });
    const live = win(run(10, 20));
    expect(loadedRange(live)).toEqual({ kind: 'loaded', from: cursorOf(numbered(10)), to: null });
    expect(loadedRange({ ...live, newer: true })).toEqual({ kind: 'loaded', from: cursorOf(numbered(10)), to: cursorOf(numbered(20)) });
  });

  it('an older page joins at the top, each message once, and says what lies above', () => {
    const grown = prepend(win(run(50, 99)), win(run(0, 55), 'remote', true));
    expect(ids(grown)).toEqual(run(0, 99).map((m) => m.body));
    expect(grown.older).toBe('remote');
    expect(grown.newer).toBe(false);
  });

  it('past the most it keeps, the far end is dropped and marked', () => {
    const up = prepend(win(run(100, 199)), win(run(50, 99), 'none', true), 120);
    expect(up.messages).toHaveLength(120);
    expect(up.messages[0].body).toBe('m50');
    expect(up.messages[119].body).toBe('m169');
    expect([up.older, up.newer]).toEqual(['none', true]);
    const down = append(up, win(run(170, 219), 'cached', true), 120);
    expect(down.messages[119].body).toBe('m219');
    expect(down.messages[0].body).toBe('m100');
    expect([down.older, down.newer]).toEqual(['cached', true]);
  });

  it('a newer page joins at the bottom and says whether the live end is reached', () => {
    const grown = append(win(run(0, 9), 'none', true), win(run(5, 14), 'cached', false));
    expect(ids(grown)).toEqual(run(0, 14).map((m) => m.body));
    expect([grown.older, grown.newer]).toEqual(['none', false]);
  });

  it('a reload replaces its range and keeps a page that joined meanwhile', () => {
    const before = win(run(50, 99));
    const range = loadedRange(before);
    // Scrolled up while the reload was under way.
    const scrolled = prepend(before, win(run(0, 49), 'none', true));
    const edited = { ...numbered(60), body: 'edited' };
    const fresh = win([...run(50, 59), edited, ...run(61, 100)], 'cached', false);
    const merged = merge(scrolled, range, fresh);
    expect(merged.messages).toHaveLength(101);
    expect(merged.messages[0].body).toBe('m0');
    expect(merged.messages[60].body).toBe('edited');
    expect(merged.messages[100].body).toBe('m100');
    expect([merged.older, merged.newer]).toEqual(['none', false]);
    // Without anything outside the range, the reload is the answer.
    expect(merge(before, range, fresh)).toEqual(fresh);
    expect(merge(before, { kind: 'newest' }, fresh)).toEqual(fresh);
  });

  it('a reply still in the outbox stays at the live end once, whatever its time', () => {
    // Sent from this device, whose clock is behind the server's: its time sorts above the window.
    const queued = { ...numbered(-5, 'queued reply'), delivery: 'queued' as const };
    const live = win([...run(50, 99), queued]);
    const range = loadedRange(live);
    const merged = merge(live, range, win([...run(50, 100), queued]));
    expect(merged.messages.filter((m) => m.body === 'queued reply')).toHaveLength(1);
    expect(merged.messages[merged.messages.length - 1].body).toBe('queued reply');
    // An older page answering it again (its time is old) doesn't show it twice.
    const up = prepend(merged, win([queued, ...run(0, 49)], 'none', true));
    expect(up.messages.filter((m) => m.body === 'queued reply')).toHaveLength(1);
    expect(up.messages[0].body).toBe('m0');
  });

  it('a window that ends before the newest keeps what lies below its range', () => {
    const jumped = win(run(10, 19), 'cached', true);
    const range = loadedRange(jumped);
    const down = append(jumped, win(run(20, 29), 'cached', true));
    const merged = merge(down, range, win(run(10, 19), 'cached', true));
    expect(ids(merged)).toEqual(run(10, 29).map((m) => m.body));
    expect(merged.newer).toBe(true);
  });

  it('pages through a thread whose messages share one instant, by id, each message once', () => {
    // 300 messages at one time (a burst, or a frozen clock): only the id orders them.
    const tied = Array.from({ length: 300 }, (_, n) => ({ ...numbered(n), created_at: 1_000_000 }));
    const olderThan = (cursor: Message) => tied.filter((m) => compareCursors(cursorOf(m), cursorOf(cursor)) < 0);
    const newerThan = (cursor: Message) => tied.filter((m) => compareCursors(cursorOf(m), cursorOf(cursor)) > 0);
    let window = win(tied.slice(250), 'cached', false);
    const seen = new Set(window.messages.map((m) => m.id));
    while (window.older !== 'none') {
      const above = olderThan(window.messages[0]);
      const page = win(above.slice(-50), above.length > 50 ? 'cached' : 'none', true);
      const grown = prepend(window, page);
      expect(grown.messages[0].id, 'an older page joined').not.toBe(window.messages[0].id);
      expect(grown.messages.length).toBeLessThanOrEqual(200);
      for (const m of grown.messages) seen.add(m.id);
      window = grown;
    }
    expect(window.messages[0].body).toBe('m0');
    expect(seen.size).toBe(300);
    expect(window.newer).toBe(true);
    while (window.newer) {
      const below = newerThan(window.messages[window.messages.length - 1]);
      const grown = append(window, win(below.slice(0, 50), 'cached', below.length > 50));
      expect(grown.messages.length).toBeLessThanOrEqual(200);
      window = grown;
    }
    expect(window.messages[window.messages.length - 1].body).toBe('m299');
    expect(ids(window)).toEqual(tied.slice(100).map((m) => m.body));
  });
});
