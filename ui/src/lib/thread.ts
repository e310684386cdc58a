// Laying out a thread: day separators and runs of messages from the same sender.
import type { Message, Sender } from './bindings';
import { startOfDay } from './format';

export type ThreadItem =
  | { type: 'day'; key: string; at: number }
  | { type: 'message'; key: string; message: Message; firstOfRun: boolean; lastOfRun: boolean };

/** Messages closer than this from the same sender (and kind) form one visual run. */
export const RUN_GAP_MS = 5 * 60_000;

function senderKey(sender: Sender): string {
  return sender.type === 'system' ? 'system' : `${sender.type}:${sender.id}`;
}

function continues(previous: Message | undefined, message: Message): boolean {
  if (!previous) return false;
  if (previous.kind === 'activity' || message.kind === 'activity') return false;
  return (
    previous.kind === message.kind &&
    senderKey(previous.sender) === senderKey(message.sender) &&
    message.created_at - previous.created_at < RUN_GAP_MS &&
    startOfDay(previous.created_at) === startOfDay(message.created_at)
  );
}

export function layoutThread(messages: Message[]): ThreadItem[] {
  const items: ThreadItem[] = [];
  let day = -1;
  let previous: Message | undefined;
  let lastMessageItem: Extract<ThreadItem, { type: 'message' }> | undefined;
  for (const message of messages) {
    const messageDay = startOfDay(message.created_at);
    if (messageDay !== day) {
      day = messageDay;
      items.push({ type: 'day', key: `day:${messageDay}`, at: message.created_at });
    }
    const firstOfRun = !continues(previous, message);
    if (firstOfRun && lastMessageItem) lastMessageItem.lastOfRun = true;
    lastMessageItem = { type: 'message', key: message.id, message, firstOfRun, lastOfRun: false };
    items.push(lastMessageItem);
    previous = message;
  }
  if (lastMessageItem) lastMessageItem.lastOfRun = true;
  return items;
}
