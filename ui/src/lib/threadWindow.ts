// The thread view's window on a conversation: a few pages of its messages, never the whole of a
// long thread. Pages join at either end as the agent scrolls; past `MAX_LOADED` the far end is
// dropped (and read again from the cache when scrolled back to). A reload reads the loaded range
// again and keeps whatever joined outside it meanwhile. Pure, so the store's paging is tested here.
import type { Message, MessageCursor, OlderMessages, ThreadRange } from './bindings';

/** The most messages the view keeps (four pages of the shell's 50). */
export const MAX_LOADED = 200;

export type ThreadWindow = { messages: Message[]; older: OlderMessages; newer: boolean };

export function cursorOf(message: Message): MessageCursor {
  return { created_at: message.created_at, id: message.id };
}

/** The thread's order: time, then id (as the cache compares them). */
export function compareCursors(a: MessageCursor, b: MessageCursor): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const before = (message: Message, cursor: MessageCursor) => compareCursors(cursorOf(message), cursor) < 0;
const after = (message: Message, cursor: MessageCursor) => compareCursors(cursorOf(message), cursor) > 0;

/** What a reload reads: the loaded messages (through the newest when the window is at the live end). */
export function loadedRange(window: ThreadWindow): ThreadRange {
  const first = window.messages[0];
  const last = window.messages[window.messages.length - 1];
  if (!first || !last) return { kind: 'newest' };
  return { kind: 'loaded', from: cursorOf(first), to: window.newer ? cursorOf(last) : null };
}

/** An older page joins at the top; past `max` the newest end is dropped. */
export function prepend(window: ThreadWindow, page: ThreadWindow, max = MAX_LOADED): ThreadWindow {
  const first = window.messages[0];
  const shown = new Set(window.messages.map((m) => m.id));
  const older = page.messages.filter((m) => !shown.has(m.id) && (!first || before(m, cursorOf(first))));
  let messages = [...older, ...window.messages];
  let newer = window.newer;
  if (messages.length > max) {
    messages = messages.slice(0, max);
    newer = true;
  }
  return { messages, older: page.older, newer };
}

/** A newer page joins at the bottom; past `max` the oldest end is dropped. */
export function append(window: ThreadWindow, page: ThreadWindow, max = MAX_LOADED): ThreadWindow {
  const last = window.messages[window.messages.length - 1];
  const shown = new Set(window.messages.map((m) => m.id));
  const newer = page.messages.filter((m) => !shown.has(m.id) && (!last || after(m, cursorOf(last))));
  let messages = [...window.messages, ...newer];
  let older = window.older;
  if (messages.length > max) {
    messages = messages.slice(messages.length - max);
    older = 'cached';
  }
  return { messages, older, newer: page.newer };
}

/**
 * A reload's answer for `range`: the fresh messages replace what the window had in that range;
 * what joined outside it since the reload was asked for (a page scrolled in) stays.
 */
export function merge(window: ThreadWindow, range: ThreadRange, fresh: ThreadWindow): ThreadWindow {
  if (range.kind !== 'loaded') return fresh;
  const { from, to } = range;
  // Messages still in the outbox come at the live end whatever their (this device's) time says:
  // the fresh answer has them, so they are never kept from the old window.
  const freshIds = new Set(fresh.messages.map((m) => m.id));
  const kept = window.messages.filter((m) => !freshIds.has(m.id) && m.delivery !== 'queued');
  const above = kept.filter((m) => before(m, from));
  const below = to ? kept.filter((m) => after(m, to)) : [];
  return {
    messages: [...above, ...fresh.messages, ...below],
    older: above.length > 0 ? window.older : fresh.older,
    newer: below.length > 0 ? window.newer : fresh.newer,
  };
}
