import { describe, expect, it } from 'vitest';
import type { Directory } from './bindings';
import {
  buildCommands, charToUtf16, diffEdit, filterCommands, fuzzyScore, insertQuickReply, nextPlaceholder,
  quickReplyTrigger, shiftPlaceholders, snoozeUntil, type Range,
} from './palette';

const directory: Directory = {
  me: { id: 'me', name: 'Sara Karimi', email: 'sara@x', role: 'agent', availability: 'online', active: true, team_ids: [], capacity: null },
  server_url: 'http://x',
  agents: [
    { id: 'me', name: 'Sara Karimi', email: 'sara@x', role: 'agent', availability: 'online', active: true, team_ids: [], capacity: null },
    { id: 'omid', name: 'Omid Rahimi', email: 'omid@x', role: 'lead', availability: 'online', active: true, team_ids: [], capacity: null },
    { id: 'gone', name: 'Gone Person', email: 'g@x', role: 'agent', availability: 'offline', active: false, team_ids: [], capacity: null },
  ],
  teams: [{ id: 'sales', name: 'Sales' }, { id: 'support', name: 'Support' }],
  inboxes: [{ id: 'wa', name: 'WhatsApp Sales', channel: 'whatsapp', member_agent_ids: [], member_team_ids: [], templates: [], attachment_limit: 16 << 20, hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false }],
  labels: [{ id: 'l1', name: 'vip', color: '#f00' }, { id: 'l2', name: 'refund', color: '#0f0' }],
  canned_responses: [],
  saved_views: [],
};

describe('command list', () => {
  const commands = buildCommands(directory, { labels: ['refund'], pinned: false });
  const titles = commands.map((c) => c.title);

  it('offers every action and view by name', () => {
    expect(titles).toContain('Assign to Omid Rahimi');
    expect(titles).toContain('Assign to me');
    expect(titles).toContain('Claim');
    expect(titles).toContain('Move to team Sales');
    expect(titles).toContain('Add label vip');
    expect(titles).toContain('Remove label refund');
    expect(titles).toContain('Status: Resolved');
    expect(titles).toContain('Snooze until Tomorrow 9:00');
    expect(titles).toContain('Priority: Urgent');
    expect(titles).toContain('Pin');
    expect(titles).toContain('Go to view Unassigned');
    expect(titles).toContain('Go to view WhatsApp Sales');
    expect(titles).toContain('Go to view vip');
  });

  it('skips deactivated agents, labels already on, and offers Unpin when pinned', () => {
    expect(titles).not.toContain('Assign to Gone Person');
    expect(titles).not.toContain('Add label refund');
    const pinned = buildCommands(directory, { pinned: true }).map((c) => c.title);
    expect(pinned).toContain('Unpin');
    expect(pinned).not.toContain('Pin');
  });

  it('filters with subsequence matching, best first', () => {
    expect(filterCommands(commands, 'omid')[0].title).toBe('Assign to Omid Rahimi');
    expect(filterCommands(commands, 'resolv')[0].title).toBe('Status: Resolved');
    expect(filterCommands(commands, 'go unas')[0].title).toBe('Go to view Unassigned');
    expect(filterCommands(commands, 'zzzz')).toEqual([]);
    expect(filterCommands(commands, '').length).toBeGreaterThan(10);
  });

  it('opens the filter bar and goes to a saved view by name', () => {
    const withView: Directory = {
      ...directory,
      saved_views: [{ id: 'v1', name: 'VIP waiting', filter: { inbox_ids: [], labels: ['vip'], assignees: [], team_ids: [], priorities: [], statuses: [], channels: [], sla: [] }, owner_id: 'me', team_id: null, created_by: 'me', created_at: 0 }],
    };
    const all = buildCommands(withView, {});
    expect(filterCommands(all, 'filter')[0].action).toEqual({ type: 'filters' });
    const go = all.find((c) => c.title === 'Go to view VIP waiting');
    expect(go?.action).toEqual({ type: 'view', view: { type: 'saved', id: 'v1' } });
  });

  it('offers the availabilities the agent is not in', () => {
    const busy = buildCommands(directory, { availability: 'busy' });
    const offered = busy.filter((c) => c.action.type === 'availability');
    expect(offered.map((c) => c.title)).toEqual(['Set availability: Online', 'Set availability: Offline']);
    expect(offered.every((c) => !c.needsTarget), 'no conversation needed').toBe(true);
    expect(offered[0].action).toEqual({ type: 'availability', availability: 'online' });
    expect(filterCommands(busy, 'away')[0].title, 'found by keyword').toMatch(/^Set availability/);
    const unknown = buildCommands(directory).filter((c) => c.action.type === 'availability');
    expect(unknown.map((c) => c.id)).toEqual(['availability:online', 'availability:busy', 'availability:offline']);
  });

  it('adds a contact from anywhere, found as a person or a customer', () => {
    const add = commands.find((c) => c.id === 'add-contact');
    expect(add).toMatchObject({ title: 'Add contact…', needsTarget: false, action: { type: 'addContact' } });
    expect(filterCommands(commands, 'add contact')[0].id).toBe('add-contact');
    expect(filterCommands(commands, 'person').map((c) => c.id)).toContain('add-contact');
  });

  it('matches keywords too', () => {
    expect(filterCommands(commands, 'shortcuts')[0].title).toBe('Keyboard shortcuts');
  });

  it('scores word starts and runs above scattered hits', () => {
    const tight = fuzzyScore('sal', 'Move to team Sales')!;
    const loose = fuzzyScore('sal', 'Status: Resolved al')!;
    expect(tight.score).toBeGreaterThan(loose.score);
    expect(fuzzyScore('xyz', 'Sales')).toBeNull();
    expect(fuzzyScore('SA', 'sales')!.indices).toEqual([0, 1]);
  });
});

describe('snooze presets', () => {
  const now = new Date(2025, 4, 14, 15, 30).getTime(); // a Wednesday
  it('adds hours', () => {
    expect(snoozeUntil('hour', now)).toBe(now + 3_600_000);
    expect(snoozeUntil('threeHours', now)).toBe(now + 3 * 3_600_000);
  });
  it('picks tomorrow 9:00 and next Monday 9:00', () => {
    expect(new Date(snoozeUntil('tomorrow', now))).toEqual(new Date(2025, 4, 15, 9, 0));
    expect(new Date(snoozeUntil('nextWeek', now))).toEqual(new Date(2025, 4, 19, 9, 0));
    const monday = new Date(2025, 4, 19, 8, 0).getTime();
    expect(new Date(snoozeUntil('nextWeek', monday))).toEqual(new Date(2025, 4, 26, 9, 0));
  });
});

describe('quick-reply trigger', () => {
  it('fires only for / at the very start of the composer', () => {
    expect(quickReplyTrigger('/ref', 4)).toEqual({ query: 'ref', start: 0, end: 4 });
    expect(quickReplyTrigger('/', 1)).toEqual({ query: '', start: 0, end: 1 });
    expect(quickReplyTrigger('hi /ref', 7)).toBeNull();
    expect(quickReplyTrigger(' /ref', 5)).toBeNull();
    expect(quickReplyTrigger('/ref more', 9)).toBeNull();
    expect(quickReplyTrigger('/ref', 0)).toBeNull();
  });
  it('takes the whole token when the cursor is inside it', () => {
    expect(quickReplyTrigger('/refund', 3)).toEqual({ query: 'refund', start: 0, end: 7 });
  });
});

describe('quick-reply insertion', () => {
  const reply = { text: 'Your order {{order.number}} shipped, Sara.', placeholders: [[11, 27]] };

  it('replaces the /query and selects the first placeholder', () => {
    const result = insertQuickReply('/ship', 0, 5, reply);
    expect(result.text).toBe('Your order {{order.number}} shipped, Sara.');
    expect(result.selection).toEqual([11, 27]);
    expect(result.text.slice(11, 27)).toBe('{{order.number}}');
  });

  it('shifts placeholders by the insertion point', () => {
    const result = insertQuickReply('Hello! ', 7, 7, reply);
    expect(result.text).toBe('Hello! Your order {{order.number}} shipped, Sara.');
    expect(result.placeholders).toEqual([[18, 34]]);
    expect(result.text.slice(18, 34)).toBe('{{order.number}}');
  });

  it('puts the caret after the text when there is nothing to fill', () => {
    const result = insertQuickReply('/hi', 0, 3, { text: 'Hi Sara!', placeholders: [] });
    expect(result.selection).toEqual([8, 8]);
  });

  it('converts the backend char offsets to UTF-16 (emoji before a placeholder)', () => {
    const text = '👋 {{x}} and {{y}}';
    expect(charToUtf16(text, 2)).toBe(3);
    const result = insertQuickReply('', 0, 0, { text, placeholders: [[2, 7], [12, 17]] });
    expect(result.placeholders).toEqual([[3, 8], [13, 18]]);
    expect(result.text.slice(3, 8)).toBe('{{x}}');
    expect(result.text.slice(13, 18)).toBe('{{y}}');
  });
});

describe('placeholder tab cycling', () => {
  const text = 'Order {{a}} to {{b}} by {{c}}';
  const ph: Range[] = [[6, 11], [15, 20], [24, 29]];

  it('moves forward, then wraps', () => {
    expect(nextPlaceholder(text, ph, [6, 11], false)).toEqual([15, 20]);
    expect(nextPlaceholder(text, ph, [15, 20], false)).toEqual([24, 29]);
    expect(nextPlaceholder(text, ph, [24, 29], false)).toEqual([6, 11]);
  });

  it('moves back with Shift+Tab, then wraps', () => {
    expect(nextPlaceholder(text, ph, [24, 29], true)).toEqual([15, 20]);
    expect(nextPlaceholder(text, ph, [6, 11], true)).toEqual([24, 29]);
  });

  it('skips filled placeholders and ends when all are filled', () => {
    const filled = 'Order 42 to {{b}} by {{c}}';
    const moved = shiftPlaceholders(ph, diffEdit(text, filled));
    expect(moved).toEqual([[6, 8], [12, 17], [21, 26]]);
    expect(nextPlaceholder(filled, moved, [8, 8], false)).toEqual([12, 17]);
    expect(nextPlaceholder(filled, moved, [12, 17], true)).toEqual([21, 26]);
    expect(nextPlaceholder('Order 42 to Tehran by Monday', [[6, 8], [12, 18], [22, 28]], [0, 0], false)).toBeNull();
  });
});

describe('edits and placeholder ranges', () => {
  it('finds the edit between two texts', () => {
    expect(diffEdit('abc', 'abXc')).toEqual({ start: 2, removed: 0, inserted: 1 });
    expect(diffEdit('abcdef', 'abf')).toEqual({ start: 2, removed: 3, inserted: 0 });
    expect(diffEdit('same', 'same')).toEqual({ start: 4, removed: 0, inserted: 0 });
  });
  it('moves, resizes and collapses ranges', () => {
    expect(shiftPlaceholders([[10, 20]], { start: 0, removed: 0, inserted: 3 })).toEqual([[13, 23]]);
    expect(shiftPlaceholders([[10, 20]], { start: 25, removed: 2, inserted: 0 })).toEqual([[10, 20]]);
    expect(shiftPlaceholders([[10, 20]], { start: 10, removed: 10, inserted: 1 })).toEqual([[10, 11]]);
    expect(shiftPlaceholders([[10, 20]], { start: 5, removed: 20, inserted: 0 })).toEqual([[5, 5]]);
    expect(shiftPlaceholders([[5, 5]], { start: 5, removed: 0, inserted: 2 })).toEqual([[5, 7]]);
  });
});

describe('the rules command', () => {
  it('lets leads and admins test a rule on the target conversation; agents have none', () => {
    const lead = buildCommands({ ...directory, me: { ...directory.me, role: 'lead' } });
    const test = lead.find((c) => c.action.type === 'testRules');
    expect(test?.needsTarget, 'it needs a conversation').toBe(true);
    expect(filterCommands(lead, 'dry run')[0].action).toEqual({ type: 'testRules' });
    expect(buildCommands(directory).some((c) => c.action.type === 'testRules')).toBe(false);
  });
});
