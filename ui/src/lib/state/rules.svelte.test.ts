import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { Directory } from '../bindings';
import { leafNode, type GroupNode } from '../rules';
import { RulesState } from './rules.svelte';
import { directory, fakeApi, resetFakeApi, rule } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

const lead: Directory = { ...directory, me: { ...directory.me, role: 'lead' } };

function make(start: Directory = lead) {
  const deps = { report: vi.fn(), directory: () => start, openConversation: vi.fn(), openId: () => 'c7' };
  return { rules: new RulesState(deps), deps };
}

const first = rule('r1', { name: 'Refunds', position: 1 });
const second = rule('r2', { name: 'Night', position: 2, enabled: false, needs_attention: 'actions[0]: the label “vip” was deleted' });

describe('RulesState: the list', () => {
  it('lists the rules in run order from the cache, and only leads and admins may change them', async () => {
    fakeApi.automationRules.mockResolvedValue([first, second]);
    const { rules } = make();
    await rules.load();
    expect(rules.rules.map((r) => r.id)).toEqual(['r1', 'r2']);
    expect(rules.loaded).toBe(true);
    expect(rules.canEdit()).toBe(true);
    const agent = make(directory).rules;
    expect(agent.canEdit()).toBe(false);
    expect(await agent.setEnabled(first, false)).toBe(false);
    expect(fakeApi.setRuleEnabled).not.toHaveBeenCalled();
  });

  it('switches a rule and takes the server’s version; offline it says so and the list stays', async () => {
    fakeApi.automationRules.mockResolvedValue([first, second]);
    const { rules } = make();
    await rules.load();
    fakeApi.setRuleEnabled.mockResolvedValue({ ...second, enabled: true, version: 2, needs_attention: null });
    expect(await rules.setEnabled(second, true)).toBe(true);
    expect(fakeApi.setRuleEnabled).toHaveBeenCalledWith('r2', true);
    expect(rules.rules[1]).toMatchObject({ enabled: true, version: 2 });
    fakeApi.setRuleEnabled.mockRejectedValue(new ApiError('offline', 'the rule can’t be saved'));
    expect(await rules.setEnabled(first, false)).toBe(false);
    expect(rules.listFailure).toMatch(/offline/i);
    expect(rules.rules[0].enabled).toBe(true);
  });

  it('moves a rule and shows the order the server answers', async () => {
    fakeApi.automationRules.mockResolvedValue([first, second]);
    const { rules } = make();
    await rules.load();
    fakeApi.moveRule.mockResolvedValue([{ ...second, position: 1 }, { ...first, position: 2 }]);
    expect(await rules.move(second, -1)).toBe(true);
    expect(fakeApi.moveRule).toHaveBeenCalledWith('r2', -1);
    expect(rules.rules.map((r) => r.id)).toEqual(['r2', 'r1']);
  });

  it('deletes only after the confirmation, and closes the rule if it was open', async () => {
    fakeApi.automationRules.mockResolvedValue([first, second]);
    const { rules } = make();
    await rules.load();
    rules.edit(first);
    expect(await rules.confirmDelete()).toBe(false);
    rules.askDelete(first);
    expect(fakeApi.deleteRule).not.toHaveBeenCalled();
    expect(await rules.confirmDelete()).toBe(true);
    expect(fakeApi.deleteRule).toHaveBeenCalledWith('r1');
    expect(rules.rules.map((r) => r.id)).toEqual(['r2']);
    expect(rules.editor).toBeNull();
    expect(rules.confirmingDelete).toBeNull();
  });
});

describe('RulesState: the editor', () => {
  it('creates a rule from a new draft, refusing to send one with problems', async () => {
    const { rules } = make();
    rules.startNew();
    expect(rules.isDirty()).toBe(true);
    expect(await rules.save()).toBe(false);
    expect(rules.saveFailure?.code).toBe('validation');
    expect(fakeApi.saveRule).not.toHaveBeenCalled();
    const draft = rules.editor!.draft;
    draft.name = 'Route everything';
    draft.actions.push({ type: 'route' });
    const saved = rule('r9', { name: 'Route everything', position: 3 });
    fakeApi.saveRule.mockResolvedValue(saved);
    expect(await rules.save()).toBe(true);
    expect(fakeApi.saveRule).toHaveBeenCalledWith(null, expect.objectContaining({ name: 'Route everything', position: null, conditions: { all: [] } }));
    expect(rules.editor?.ruleId).toBe('r9');
    expect(rules.isDirty()).toBe(false);
    expect(rules.rules.map((r) => r.id)).toEqual(['r9']);
  });

  it('keeps the draft as typed when the server can’t be reached, and after a refusal', async () => {
    fakeApi.automationRules.mockResolvedValue([first]);
    const { rules } = make();
    await rules.load();
    rules.edit(first);
    rules.editor!.draft.name = 'Refunds to billing';
    fakeApi.saveRule.mockRejectedValue(new ApiError('offline', 'the rule can’t be saved until the server can be reached again'));
    expect(await rules.save()).toBe(false);
    expect(rules.saveFailure).toEqual({ code: 'offline', text: expect.stringMatching(/offline.*kept/i) });
    expect(rules.editor!.draft.name).toBe('Refunds to billing');
    expect(rules.isDirty()).toBe(true);
    fakeApi.saveRule.mockRejectedValue(new ApiError('validation', 'conditions.all[0].labels[0]: no label named “vip”'));
    expect(await rules.save()).toBe(false);
    expect(rules.saveFailure?.text).toContain('conditions.all[0]');
    expect(rules.issues()).toContainEqual({ field: 'conditions', kind: 'server', message: 'no label named “vip”' });
    // Leaving the editor keeps the draft; opening the rule again brings it back.
    rules.closeEditor();
    expect(rules.hasDraft('r1')).toBe(true);
    rules.edit(first);
    expect(rules.editor!.draft.name).toBe('Refunds to billing');
    expect(rules.hasDraft('r1')).toBe(false);
    rules.discard();
    expect(rules.isDirty()).toBe(false);
    rules.closeEditor();
    expect(rules.hasDraft('r1')).toBe(false);
  });

  it('previews the editor’s unsaved conditions and knows when the preview is stale', async () => {
    const { rules } = make();
    rules.edit(first);
    const root = rules.editor!.draft.tree as GroupNode;
    root.children.push(leafNode('status'));
    fakeApi.previewRule.mockResolvedValue({
      tried: 100,
      matched: [{ id: 'c3', contact_name: 'Ana', inbox_name: 'WhatsApp', channel: 'whatsapp', status: 'open', preview: 'refund?', last_activity_at: 5 }],
    });
    await rules.runPreview();
    expect(fakeApi.previewRule).toHaveBeenCalledWith({ all: [{ status: ['open'] }] });
    expect(rules.preview?.matched.map((c) => c.id)).toEqual(['c3']);
    expect(rules.previewStale()).toBe(false);
    root.children.push(leafNode('assigned'));
    expect(rules.previewStale()).toBe(true);
    rules.open('c3');
  });

  it('tests the saved rule on a conversation and reads its run log', async () => {
    const { rules, deps } = make();
    fakeApi.ruleRuns.mockResolvedValue([
      { run: { id: 'run1', rule_id: 'r1', rule_version: 1, conversation_id: 'c3', event_id: null, cycle: 1, at: 9, status: 'done', reason: null, trace: [], actions: [] }, conversation: { id: 'c3', contact_name: 'Ana', inbox_name: null, channel: null, status: null, preview: null, last_activity_at: null } },
    ]);
    rules.edit(first);
    await Promise.resolve();
    await Promise.resolve();
    expect(fakeApi.ruleRuns).toHaveBeenCalledWith('r1');
    expect(rules.runs?.map((r) => r.run.id)).toEqual(['run1']);
    expect(rules.openConversationId()).toBe('c7');
    await rules.runTest('c7');
    expect(fakeApi.testRule).toHaveBeenCalledWith('r1', 'c7');
    expect(rules.test).toMatchObject({ conversationId: 'c7', result: { matched: true } });
    rules.open('c3');
    expect(deps.openConversation).toHaveBeenCalledWith('c3');
    fakeApi.testRule.mockRejectedValue(new ApiError('offline', 'down'));
    await rules.runTest('c7');
    expect(rules.testFailure).toMatch(/offline/i);
  });
});

describe('RulesState: the dry run’s picker', () => {
  it('finds conversations by search, one entry each; too short a query lists none', async () => {
    const { rules } = make();
    const hit = (conversation_id: string, contact_name: string, snippet: string) => ({ conversation_id, message_id: `m-${conversation_id}`, contact_name, snippet, created_at: 0 });
    fakeApi.search.mockResolvedValueOnce({ messages: [hit('c1', 'Ana', 'a [refund] please'), hit('c1', 'Ana', 'again'), hit('c2', 'Bob', '[refund]')], contacts: [], conversations: [] });
    await rules.searchTestChoices('refund');
    expect(rules.testChoices).toEqual([
      { id: 'c1', label: 'Ana', hint: 'a refund please' },
      { id: 'c2', label: 'Bob', hint: 'refund' },
    ]);
    await rules.searchTestChoices('r');
    expect(rules.testChoices).toEqual([]);
  });
});

describe('RulesState: testing rules on a conversation from the palette', () => {
  it('goes back to the list with the conversation as the target, and opening a rule tries it there', async () => {
    fakeApi.automationRules.mockResolvedValue([first, second]);
    const { rules } = make();
    await rules.load();
    rules.edit(first);
    rules.testOn('c42');
    expect(rules.editor).toBeNull();
    expect(rules.testTarget).toBe('c42');
    await rules.editAndTest(second);
    expect(rules.editor?.ruleId).toBe('r2');
    expect(fakeApi.testRule).toHaveBeenCalledWith('r2', 'c42');
    expect(rules.test?.conversationId).toBe('c42');
  });
});

describe('RulesState: a colleague’s save', () => {
  it('follows a newer version while nothing was typed, and says so when something was', async () => {
    fakeApi.automationRules.mockResolvedValue([first]);
    const { rules } = make();
    await rules.load();
    rules.edit(first);
    fakeApi.automationRules.mockResolvedValue([{ ...first, name: 'Refunds (theirs)', version: 2 }]);
    await rules.load();
    expect(rules.editor).toMatchObject({ version: 2, changedElsewhere: false });
    expect(rules.editor!.draft.name).toBe('Refunds (theirs)');
    rules.editor!.draft.name = 'Refunds (mine)';
    fakeApi.automationRules.mockResolvedValue([{ ...first, name: 'Refunds (theirs again)', version: 3 }]);
    await rules.load();
    expect(rules.editor).toMatchObject({ version: 3, changedElsewhere: true });
    expect(rules.editor!.draft.name, 'what was typed stays').toBe('Refunds (mine)');
    rules.discard();
    expect(rules.editor!.draft.name).toBe('Refunds (theirs again)');
    expect(rules.editor!.changedElsewhere).toBe(false);
  });

  it('adds a rule a colleague deleted again rather than failing on it', async () => {
    fakeApi.automationRules.mockResolvedValue([first]);
    const { rules } = make();
    await rules.load();
    rules.edit(first);
    rules.editor!.draft.name = 'Refunds, kept';
    fakeApi.automationRules.mockResolvedValue([]);
    await rules.load();
    fakeApi.saveRule.mockResolvedValue(rule('r5', { name: 'Refunds, kept' }));
    expect(await rules.save()).toBe(true);
    expect(fakeApi.saveRule).toHaveBeenCalledWith(null, expect.objectContaining({ name: 'Refunds, kept' }));
    expect(rules.editor?.ruleId).toBe('r5');
  });
});
