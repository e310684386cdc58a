// Export approval in the window: whether an agent's transcript export from an inbox waits for a
// lead's approval (the server decides; this only shapes the dialog), the agent's requests for one
// conversation, the approval they can still use, the reason's checks as the server makes them,
// and which requests a lead's page lists first.
import type { ExportRequest, Inbox, Role } from './bindings';

/** Longest reason or note the server takes, in characters. */
export const MAX_REASON_CHARS = 500;

/** Whether `role`'s export from `inbox` is held for a lead's approval (leads' and admins' never are). */
export function exportHeld(inbox: Pick<Inbox, 'exports_need_approval'> | undefined, role: Role | undefined): boolean {
  return Boolean(inbox?.exports_need_approval) && role === 'agent';
}

/** The reason as sent, or the problem with it. */
export function checkReason(reason: string): { ok: true; reason: string } | { ok: false; issue: 'empty' | 'long' } {
  const trimmed = reason.trim();
  if (!trimmed) return { ok: false, issue: 'empty' };
  if ([...trimmed].length > MAX_REASON_CHARS) return { ok: false, issue: 'long' };
  return { ok: true, reason: trimmed };
}

/** The requests for one conversation, newest first. */
export function requestsFor(requests: ExportRequest[], conversationId: string): ExportRequest[] {
  return requests.filter((r) => r.conversation_id === conversationId).sort((a, b) => b.created_at - a.created_at);
}

/** The approved request for the conversation that can still be downloaded at `now`, if any. */
export function usableApproval(requests: ExportRequest[], conversationId: string, now: number): ExportRequest | undefined {
  return requestsFor(requests, conversationId).find(
    (r) => r.status === 'approved' && (r.expires_at === null || now <= r.expires_at),
  );
}

/** Whether a new request makes sense: none is waiting and no approval is left to use. */
export function canAsk(requests: ExportRequest[], conversationId: string, now: number): boolean {
  const mine = requestsFor(requests, conversationId);
  return !mine.some((r) => r.status === 'pending') && !usableApproval(requests, conversationId, now);
}

/** A lead's list: pending first (oldest waiting first), then the rest, newest first. */
export function forLead(requests: ExportRequest[]): ExportRequest[] {
  const pending = requests.filter((r) => r.status === 'pending').sort((a, b) => a.created_at - b.created_at);
  const rest = requests.filter((r) => r.status !== 'pending').sort((a, b) => b.created_at - a.created_at);
  return [...pending, ...rest];
}
