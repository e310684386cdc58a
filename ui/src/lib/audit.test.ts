import { describe, expect, it } from 'vitest';
import { actionFilter, actorKind, auditFilter, changeLines, dayBoundary, nextCursor, type AuditChoice } from './audit';

const none: AuditChoice = { group: '', conversationAction: '', actorId: '', actorType: '', from: '', to: '' };

describe('the audit screen', () => {
  it('filters a group by its action prefix, and everything by none', () => {
    expect(actionFilter('auth')).toBe('auth.');
    expect(actionFilter('automation_rule')).toBe('automation_rule.');
    expect(actionFilter('')).toBeNull();
  });

  it('shows each change as before → after, a value only set as itself', () => {
    const lines = changeLines({ changes: { role: ['agent', 'lead'], filters: [null, { group_by: 'agent' }], active: [true, false] } });
    expect(lines).toEqual(['role: agent → lead', 'filters: {"group_by":"agent"}', 'active: true → false']);
  });

  it('cuts long values so one row cannot flood the table', () => {
    const [line] = changeLines({ changes: { name: ['a', 'x'.repeat(500)] } });
    expect(line.length).toBeLessThan(80);
    expect(line.endsWith('…')).toBe(true);
  });

  it('pages older until a page comes back short', () => {
    const page = Array.from({ length: 100 }, (_, i) => ({ seq: 300 - i }));
    expect(nextCursor(page, 100)).toBe(201);
    expect(nextCursor(page.slice(0, 40), 100)).toBeNull();
    expect(nextCursor([], 100)).toBeNull();
  });

  it('filters conversation actions by one action, an actor type and whole local days', () => {
    expect(auditFilter(none)).toEqual({ action: null, actor_id: null, target_id: null, actor_type: null, from: null, to: null });
    const filter = auditFilter({ ...none, group: 'conversation', conversationAction: 'assign', actorType: 'rule', from: '2026-11-30', to: '2026-12-01' });
    expect(filter.action).toBe('conversation.assign');
    expect(filter.actor_type).toBe('rule');
    expect(filter.from).toBe(new Date(2026, 10, 30).getTime());
    // The last day is included: up to the midnight after it.
    expect(filter.to).toBe(new Date(2026, 11, 2).getTime());
    // A specific conversation action only within the conversation group; every conversation row without one.
    expect(auditFilter({ ...none, group: 'conversation' }).action).toBe('conversation.');
    expect(auditFilter({ ...none, group: 'auth', conversationAction: 'assign' }).action).toBe('auth.');
  });

  it('reads no day from what a date input cannot give', () => {
    expect(dayBoundary('')).toBeNull();
    expect(dayBoundary('30/11/2026')).toBeNull();
    expect(dayBoundary('2026-12-31', true)).toBe(new Date(2027, 0, 1).getTime());
  });

  it('names who acted, older rows by whether an agent is named', () => {
    expect(actorKind({ actor_type: 'routing', actor_id: null })).toBe('routing');
    expect(actorKind({ actor_type: 'rule', actor_id: 'r1' })).toBe('rule');
    expect(actorKind({ actor_id: 'a1' })).toBe('agent');
    expect(actorKind({ actor_id: null })).toBe('system');
  });
});
