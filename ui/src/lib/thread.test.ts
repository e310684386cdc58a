import { describe, expect, it } from 'vitest';
import type { Message } from './bindings';
import { layoutThread } from './thread';

const day = (d: number, h: number, m = 0) => new Date(2025, 4, d, h, m).getTime();
function msg(id: string, at: number, kind: Message['kind'] = 'incoming', sender: Message['sender'] = { type: 'contact', id: 'c' }): Message {
  return { id, conversation_id: 'x', kind, body: id, sender, attachments: [], template: null, delivery: 'delivered', mentions: [], created_at: at };
}

describe('layoutThread', () => {
  it('puts a separator before each day', () => {
    const items = layoutThread([msg('a', day(1, 10)), msg('b', day(1, 11)), msg('c', day(2, 9))]);
    expect(items.map((i) => i.type)).toEqual(['day', 'message', 'message', 'day', 'message']);
  });
  it('groups consecutive messages from one sender', () => {
    const agent = { type: 'agent', id: 'a1' } as const;
    const items = layoutThread([
      msg('a', day(1, 10, 0)), msg('b', day(1, 10, 1)),
      msg('c', day(1, 10, 2), 'outgoing', agent), msg('d', day(1, 10, 3), 'note', agent),
      msg('e', day(1, 10, 30), 'note', agent),
    ]).filter((i) => i.type === 'message');
    expect(items.map((i) => i.type === 'message' && i.firstOfRun)).toEqual([true, false, true, true, true]);
    expect(items.map((i) => i.type === 'message' && i.lastOfRun)).toEqual([false, true, true, true, true]);
  });
  it('never groups activity lines', () => {
    const system = { type: 'system' } as const;
    const items = layoutThread([msg('a', day(1, 10), 'activity', system), msg('b', day(1, 10), 'activity', system)]);
    expect(items.filter((i) => i.type === 'message').every((i) => i.type === 'message' && i.firstOfRun)).toBe(true);
  });
});
