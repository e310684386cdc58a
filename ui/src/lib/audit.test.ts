import { describe, expect, it } from 'vitest';
import { actionFilter, changeLines, nextCursor } from './audit';

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
});
