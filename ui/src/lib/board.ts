// The triage board's rules as pure functions: which column a conversation is in (the twin of
// `cache::views::BoardColumn::of`, which the columns' queries implement), what moving a card means
// as conversation actions, and which column an arrow key reaches in either writing direction.
import type { BoardColumnKey, Conversation } from './bindings';

export const BOARD_COLUMNS: BoardColumnKey[] = ['new', 'assigned', 'waiting', 'escalated'];

/** A card's height in pixels (the columns are virtualised with it). */
export const CARD_HEIGHT = 92;

/** The column a conversation is in; `null` when it is off the board (resolved, or snoozed and not escalated). */
export function columnOf(conversation: Conversation): BoardColumnKey | null {
  if (conversation.status === 'resolved') return null;
  if (conversation.escalation) return 'escalated';
  if (conversation.status === 'snoozed') return null;
  if (conversation.status === 'pending') return 'waiting';
  return conversation.assignee_id === null ? 'new' : 'assigned';
}

/** One conversation action a move amounts to, in the order the outbox sends them. */
export type MoveStep =
  | { type: 'claim' }
  | { type: 'unassign' }
  | { type: 'status'; status: 'open' | 'pending' }
  | { type: 'escalate'; escalated: boolean };

/**
 * What moving a card to `to` does: the real actions (claim or unassign, open or pending, escalate
 * or de-escalate) and nothing more. Leaving Escalated de-escalates first; a card already in `to`
 * needs nothing.
 */
export function movePlan(conversation: Conversation, to: BoardColumnKey): MoveStep[] {
  const from = columnOf(conversation);
  if (from === to) return [];
  if (to === 'escalated') return [{ type: 'escalate', escalated: true }];
  const steps: MoveStep[] = [];
  if (conversation.escalation) steps.push({ type: 'escalate', escalated: false });
  switch (to) {
    case 'new':
      if (conversation.status !== 'open') steps.push({ type: 'status', status: 'open' });
      if (conversation.assignee_id !== null) steps.push({ type: 'unassign' });
      break;
    case 'assigned':
      if (conversation.status !== 'open') steps.push({ type: 'status', status: 'open' });
      if (conversation.assignee_id === null) steps.push({ type: 'claim' });
      break;
    case 'waiting':
      if (conversation.status !== 'pending') steps.push({ type: 'status', status: 'pending' });
      break;
  }
  return steps;
}

/**
 * The column an arrow key moves to from `column`: the columns run in reading order, so in a
 * right-to-left window ArrowRight goes back. `null` at either end.
 */
export function neighbour(column: BoardColumnKey, key: 'ArrowLeft' | 'ArrowRight', rtl: boolean): BoardColumnKey | null {
  const step = (key === 'ArrowRight') !== rtl ? 1 : -1;
  return BOARD_COLUMNS[BOARD_COLUMNS.indexOf(column) + step] ?? null;
}

/** The column a digit key names (1–4), if any. */
export function columnForDigit(key: string): BoardColumnKey | null {
  const n = Number.parseInt(key, 10);
  return Number.isInteger(n) && n >= 1 && n <= BOARD_COLUMNS.length ? BOARD_COLUMNS[n - 1] : null;
}
