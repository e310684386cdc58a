// The agent's own quick replies: the ranking of the list (recent and frequent first) and the
// favourite slots bound to Alt+1…Alt+9. The slot and the use count come from the server, per
// agent (`QuickReplyUsage`, private to the agent in the feed), so every device agrees.
import type { QuickReply, QuickReplyUsage } from './bindings';

/** How many favourite slots there are (Alt+1 … Alt+9). */
export const SLOTS = 9;

/** A use's half-life in the ranking: seven days (as `proto::quick_replies::HALF_LIFE_MS`). */
export const HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The ranking value of a reply at `now`: every insertion added 1 to a score that halves every
 * seven days, so `score × 2^(−(now − last_used_at) / 7 days)`. Never used: 0.
 */
export function rankOf(usage: QuickReplyUsage | null | undefined, now: number): number {
  if (!usage || usage.last_used_at === null) return 0;
  const elapsed = Math.max(0, now - usage.last_used_at);
  return usage.score * Math.pow(2, -elapsed / HALF_LIFE_MS);
}

/**
 * The list as shown: with no query, recent and frequent first (by `rankOf`, ties by short code);
 * with a query, the fuzzy matcher's order stands (what was typed matters most).
 */
export function rankQuickReplies(items: QuickReply[], query: string, now: number): QuickReply[] {
  if (query.trim()) return items;
  const ranked = items.map((item, index) => ({ item, index, rank: rankOf(item.usage, now) }));
  ranked.sort((a, b) => b.rank - a.rank || a.item.canned.short_code.localeCompare(b.item.canned.short_code) || a.index - b.index);
  return ranked.map((r) => r.item);
}

/** The favourite slot an Alt+digit press asks for (1–9), else null. Reads `code` first, so a
 * layout where Alt+1 types another character (macOS: ¡) still works. */
export function slotForKey(event: { altKey: boolean; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; key: string; code?: string }): number | null {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return null;
  const fromCode = event.code?.match(/^(?:Digit|Numpad)([1-9])$/);
  const digit = fromCode ? fromCode[1] : /^[1-9]$/.test(event.key) ? event.key : null;
  return digit === null ? null : Number(digit);
}

/** The reply bound to `slot`, if any. */
export function replyInSlot(items: QuickReply[], slot: number): QuickReply | null {
  return items.find((item) => item.usage?.slot === slot) ?? null;
}

/** The free slots and the one `item` holds, for a slot picker: [1..9] with who holds each. */
export function slotTable(items: QuickReply[]): { slot: number; holder: QuickReply | null }[] {
  return Array.from({ length: SLOTS }, (_, i) => ({ slot: i + 1, holder: replyInSlot(items, i + 1) }));
}

/** Whether the agent may change or delete a reply: their own personal one, or any for a lead. */
export function canEdit(reply: { owner_id: string | null }, me: { id: string; role: string }): boolean {
  if (reply.owner_id !== null) return reply.owner_id === me.id;
  return me.role === 'lead' || me.role === 'admin';
}

/** Whether the agent may promote it: a lead's or admin's own personal reply. */
export function canPromote(reply: { owner_id: string | null }, me: { id: string; role: string }): boolean {
  return reply.owner_id === me.id && (me.role === 'lead' || me.role === 'admin');
}
