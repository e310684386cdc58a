import { describe, expect, it } from 'vitest';
import type { ExportRequest } from './bindings';
import { canAsk, checkReason, exportHeld, forLead, MAX_REASON_CHARS, usableApproval } from './exports';

function request(fields: Partial<ExportRequest>): ExportRequest {
  return {
    id: 'r1',
    requester_id: 'sara',
    requester_name: 'Sara',
    inbox_id: 'wa',
    conversation_id: 'c1',
    format: 'json',
    reason: 'asked by the customer',
    status: 'pending',
    created_at: 1_000,
    decided_by: null,
    decided_at: null,
    note: null,
    expires_at: null,
    downloaded_at: null,
    ...fields,
  };
}

describe('export approval', () => {
  it('holds only an agent’s export from an inbox that says so', () => {
    expect(exportHeld({ exports_need_approval: true }, 'agent')).toBe(true);
    expect(exportHeld({ exports_need_approval: true }, 'lead')).toBe(false);
    expect(exportHeld({ exports_need_approval: true }, 'admin')).toBe(false);
    expect(exportHeld({ exports_need_approval: false }, 'agent')).toBe(false);
    expect(exportHeld(undefined, 'agent')).toBe(false);
  });

  it('checks the reason as the server does', () => {
    expect(checkReason('   ')).toEqual({ ok: false, issue: 'empty' });
    expect(checkReason('x'.repeat(MAX_REASON_CHARS + 1))).toEqual({ ok: false, issue: 'long' });
    // Characters, not UTF-16 units: 500 Persian letters with a surrogate-pair emoji still fit.
    expect(checkReason('س'.repeat(MAX_REASON_CHARS - 1) + '📦').ok).toBe(true);
    expect(checkReason('  for the refund  ')).toEqual({ ok: true, reason: 'for the refund' });
  });

  it('offers an approval until it runs out, and asking again only when nothing is open', () => {
    const approved = request({ status: 'approved', expires_at: 5_000 });
    expect(usableApproval([approved], 'c1', 5_000)?.id).toBe('r1');
    expect(usableApproval([approved], 'c1', 5_001)).toBeUndefined();
    expect(usableApproval([approved], 'c2', 1_000)).toBeUndefined();
    expect(canAsk([approved], 'c1', 1_000)).toBe(false);
    expect(canAsk([approved], 'c1', 6_000)).toBe(true);
    expect(canAsk([request({})], 'c1', 1_000)).toBe(false);
    expect(canAsk([request({ status: 'declined' })], 'c1', 1_000)).toBe(true);
    expect(canAsk([request({ status: 'downloaded' })], 'c1', 1_000)).toBe(true);
  });

  it('lists what waits first, oldest first, then the rest newest first', () => {
    const list = forLead([
      request({ id: 'done-old', status: 'declined', created_at: 1 }),
      request({ id: 'wait-new', created_at: 30 }),
      request({ id: 'done-new', status: 'approved', created_at: 20 }),
      request({ id: 'wait-old', created_at: 10 }),
    ]);
    expect(list.map((r) => r.id)).toEqual(['wait-old', 'wait-new', 'done-new', 'done-old']);
  });
});
