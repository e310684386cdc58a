import { describe, expect, it } from 'vitest';
import type { Agent, DeviceInfo, Label } from './bindings';
import { canManage, devicesByAgent, follow, labelIssue, leavesNoAdmin, sameValue, templatesValid, toggled, validColor, validEmail, validShortCode } from './team';

const label = (id: string, name: string): Label => ({ id, name, color: '#6b7280' });
const agent = (id: string, role: Agent['role'] = 'agent', active = true): Agent =>
  ({ id, name: id, email: `${id}@x.example`, role, availability: 'online', active, team_ids: [], capacity: null }) as Agent;
const device = (id: string, agentId: string, lastSeen: number): DeviceInfo =>
  ({ id, agent_id: agentId, name: id, created_at: 0, last_seen_at: lastSeen, current: false });

describe('team settings', () => {
  it('lets leads run labels and quick replies, and only admins the rest', () => {
    expect(canManage('admin', 'people')).toBe(true);
    expect(canManage('lead', 'labels')).toBe(true);
    expect(canManage('lead', 'quickReplies')).toBe(true);
    expect(canManage('lead', 'people')).toBe(false);
    expect(canManage('lead', 'teams')).toBe(false);
    expect(canManage('agent', 'labels')).toBe(false);
    expect(canManage(undefined, 'labels')).toBe(false);
  });

  it('keeps label names as written and refuses only what the server refuses', () => {
    const labels = [label('1', 'New Lead'), label('2', 'پشتیبانی باز')];
    expect(labelIssue('VIP Customer', labels)).toBeNull();
    expect(labelIssue('  ', labels)).toEqual({ kind: 'empty' });
    expect(labelIssue('x'.repeat(51), labels)).toEqual({ kind: 'tooLong' });
    expect(labelIssue('پ'.repeat(50), labels)).toBeNull();
    expect(labelIssue('two\nlines', labels)).toEqual({ kind: 'lineBreak' });
    expect(labelIssue('new  LEAD', labels)).toEqual({ kind: 'exists', name: 'New Lead' });
    // Arabic letter forms are the Persian label.
    expect(labelIssue('پشتيباني باز', labels)).toEqual({ kind: 'exists', name: 'پشتیبانی باز' });
    // Renaming a label to another spelling of itself is no clash.
    expect(labelIssue('new lead', labels, '1')).toBeNull();
    expect(labelIssue('new lead', labels, '2')).toEqual({ kind: 'exists', name: 'New Lead' });
  });

  it('checks colours, emails and short codes as the server does', () => {
    expect(validColor('#a1B2c3')).toBe(true);
    expect(validColor('orange')).toBe(false);
    expect(validColor('#abc')).toBe(false);
    expect(validEmail(' new@team.example ')).toBe(true);
    expect(validEmail('new@localhost')).toBe(false);
    expect(validEmail('a b@x.example')).toBe(false);
    expect(validShortCode('refund_policy')).toBe(true);
    expect(validShortCode('بازپرداخت')).toBe(true);
    expect(validShortCode('two words')).toBe(false);
    expect(validShortCode('')).toBe(false);
  });

  it('checks an inbox’s templates before they are sent', () => {
    const template = (name: string, language: string, body: string) => ({ name, language, body });
    expect(templatesValid([])).toBe(true);
    expect(templatesValid([template('follow_up', 'en', 'Hi {{1}}'), template('follow_up', 'fa', 'سلام {{1}}')])).toBe(true);
    expect(templatesValid([template(' ', 'en', 'Hi')])).toBe(false);
    expect(templatesValid([template('a', 'en', '  ')])).toBe(false);
    expect(templatesValid([template('a', 'en', 'x'), template('a ', 'en', 'y')])).toBe(false);
  });

  it('toggles ids without duplicates', () => {
    expect(toggled(['a'], 'b', true)).toEqual(['a', 'b']);
    expect(toggled(['a', 'b'], 'b', true)).toEqual(['a', 'b']);
    expect(toggled(['a', 'b'], 'a', false)).toEqual(['b']);
  });

  it('groups devices per agent, latest first, keeping unknown agents', () => {
    const groups = devicesByAgent(
      [device('d1', 'sam', 10), device('d2', 'sara', 5), device('d3', 'sam', 30), device('d4', 'gone', 1)],
      [agent('sara'), agent('sam')],
    );
    expect(groups.map((g) => [g.agentId, g.devices.map((d) => d.id)])).toEqual([
      ['sara', ['d2']],
      ['sam', ['d3', 'd1']],
      ['gone', ['d4']],
    ]);
    expect(groups[2].agent).toBeNull();
  });

  it('knows when a change would leave no active admin', () => {
    const agents = [agent('ada', 'admin'), agent('sam')];
    expect(leavesNoAdmin(agents, 'ada', 'admin', false)).toBe(true);
    expect(leavesNoAdmin(agents, 'ada', 'lead', true)).toBe(true);
    expect(leavesNoAdmin(agents, 'ada', 'admin', true)).toBe(false);
    expect(leavesNoAdmin([...agents, agent('bo', 'admin')], 'ada', 'agent', true)).toBe(false);
    expect(leavesNoAdmin(agents, 'sam', 'agent', false)).toBe(false);
  });
});

describe('form drafts', () => {
  it('follow the directory unless something else is being typed', () => {
    const start = follow(undefined, { name: 'vip', members: ['b', 'a'] });
    expect(start).toEqual({ base: { name: 'vip', members: ['b', 'a'] }, value: { name: 'vip', members: ['b', 'a'] } });
    const draft = start!;
    // Nothing moved on the server: keep it.
    expect(follow(draft, { name: 'vip', members: ['a', 'b'] })).toBeNull();
    // Untouched, and a colleague renamed it: follow.
    expect(follow(draft, { name: 'VIP', members: ['a', 'b'] })?.value.name).toBe('VIP');
    // Being typed: keep what is typed.
    draft.value.name = 'Very important';
    expect(follow(draft, { name: 'VIP', members: ['a', 'b'] })).toBeNull();
    // Saved: the server now says what was typed, and the draft starts again from it.
    expect(follow(draft, { name: 'Very important', members: ['a', 'b'] })?.base.name).toBe('Very important');
  });

  it('compares lists of ids in any order', () => {
    expect(sameValue({ ids: ['a', 'b'] }, { ids: ['b', 'a'] })).toBe(true);
    expect(sameValue({ ids: ['a'] }, { ids: ['a', 'b'] })).toBe(false);
  });
});
