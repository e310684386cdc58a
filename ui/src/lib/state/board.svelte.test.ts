import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BoardColumnKey, ConversationRow, ListRequest } from '../bindings';
import { BoardState } from './board.svelte';
import { conversation, fakeApi, resetFakeApi, row } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

const fake = fakeApi as unknown as Record<string, ReturnType<typeof vi.fn>>;

function card(id: string, overrides: Parameters<typeof conversation>[1]): ConversationRow {
  return { ...row(id), conversation: conversation(id, overrides) };
}

describe('BoardState', () => {
  let columns: Record<BoardColumnKey, ConversationRow[]>;
  beforeEach(() => {
    resetFakeApi();
    columns = {
      new: [card('n1', { assignee_id: null }), card('n2', { assignee_id: null })],
      assigned: [card('a1', {})],
      waiting: [],
      escalated: [card('e1', { escalation: { at: 1, by: { type: 'sla' }, note: null } })],
    };
    fake.listConversations.mockImplementation(async (request: ListRequest) => {
      const column = (request.view as { type: 'board'; id: BoardColumnKey }).id;
      const rows = columns[column];
      return { total: rows.length, offset: request.offset, rows: rows.slice(request.offset, request.offset + request.limit) };
    });
  });

  it('opens on every column with its count and focuses the first card', async () => {
    const board = new BoardState({ report: vi.fn() });
    await board.open();
    expect(Object.fromEntries(Object.entries(board.columns).map(([k, c]) => [k, c.total]))).toEqual({ new: 2, assigned: 1, waiting: 0, escalated: 1 });
    expect(board.row('new', 1)?.conversation.id).toBe('n2');
    expect(board.focus).toEqual({ column: 'new', index: 0 });
    const asked = fake.listConversations.mock.calls.map(([r]) => (r as ListRequest).view);
    expect(asked).toContainEqual({ type: 'board', id: 'escalated' });
  });

  it('New → Assigned claims through the outbox and follows the card', async () => {
    const board = new BoardState({ report: vi.fn() });
    await board.open();
    fake.assign.mockImplementation(async () => {
      const [moved] = columns.new.splice(0, 1);
      columns.assigned.push({ ...moved, conversation: { ...moved.conversation, assignee_id: 'me' } });
    });
    const steps = await board.move(board.row('new', 0)!, 'assigned');
    expect(steps).toEqual([{ type: 'claim' }]);
    expect(fake.assign).toHaveBeenCalledWith(['n1'], null, true);
    expect(board.columns.new.total).toBe(1);
    expect(board.focus).toEqual({ column: 'assigned', index: 1 });
  });

  it('Escalated → Waiting de-escalates then marks pending, in that order', async () => {
    const board = new BoardState({ report: vi.fn() });
    await board.open();
    const order: string[] = [];
    fake.setEscalated.mockImplementation(async (_ids: string[], on: boolean) => void order.push(`escalated:${on}`));
    fake.setStatus.mockImplementation(async (_ids: string[], status: string) => void order.push(`status:${status}`));
    await board.move(board.row('escalated', 0)!, 'waiting');
    expect(order).toEqual(['escalated:false', 'status:pending']);
  });

  it('a refused move is reported and dropping a card on its own column queues nothing', async () => {
    const report = vi.fn();
    const board = new BoardState({ report });
    await board.open();
    expect(await board.move(board.row('assigned', 0)!, 'assigned')).toEqual([]);
    expect(fake.assign).not.toHaveBeenCalled();
    fake.setEscalated.mockRejectedValueOnce(new Error('nope'));
    await board.move(board.row('assigned', 0)!, 'escalated');
    expect(report).toHaveBeenCalled();
  });
});
