import { describe, expect, it } from 'vitest';
import type { AutomationRule, Condition } from './bindings';
import {
  actionText, draftOf, emptyGroup, fromTree, groupWithNext, inputOf, leafNode, moveItem, newAction, nodePaths, ruleIssues, serverIssue, toTree, tracePaths, triggerText, ungroup, wrap,
  type GroupNode,
} from './rules';

// "Open WhatsApp or Telegram conversations, VIP or not urgent, unless someone holds it or the
// customer wrote 'invoice' outside business hours."
const nested: Condition = {
  all: [
    { status: ['open', 'pending'] },
    { channel: ['whatsapp', 'telegram'] },
    { any: [{ labels_any: ['vip'] }, { not: { priority: ['urgent'] } }] },
    {
      not: {
        any: [
          { assigned: true },
          { all: [{ text_contains: ['invoice', 'فاکتور'] }, { within_business_hours: false }] },
        ],
      },
    },
    { contact: { field: 'email', contains: 'example.com' } },
    { origin: 'customer' },
    { labels_all: ['vip', 'refund'] },
    { inbox: ['inbox-1'] },
    { team: ['team-1'] },
    { assignee: ['agent-1'] },
  ],
};

const rule = (conditions: Condition): AutomationRule => ({
  id: 'r1',
  name: 'VIP',
  enabled: true,
  position: 3,
  version: 2,
  trigger: { type: 'customer_waiting', after_secs: 1800, business_hours: true },
  conditions,
  actions: [{ type: 'add_labels', labels: ['vip'] }, { type: 'set_status', status: 'snoozed', snooze_secs: 3600 }],
  stop_processing: true,
  run_limit: { type: 'cooldown', secs: 600 },
  allow_rule_origin: false,
  needs_attention: null,
  updated_at: 0,
});

describe('the condition builder', () => {
  it('round-trips a nested all/any/not tree exactly', () => {
    const tree = toTree(nested);
    expect(tree.kind).toBe('all');
    expect(tree.children).toHaveLength(10);
    const any = tree.children[2] as GroupNode;
    expect([any.type, any.kind, any.negated]).toEqual(['group', 'any', false]);
    expect(any.children[1]).toMatchObject({ type: 'leaf', negated: true, leaf: { priority: ['urgent'] } });
    expect(tree.children[3]).toMatchObject({ type: 'group', kind: 'any', negated: true });
    expect(fromTree(tree)).toEqual(nested);
    // And through a rule's draft: what a save sends is what was loaded.
    expect(inputOf(draftOf(rule(nested)))).toEqual({
      name: 'VIP', enabled: true, position: null, trigger: rule(nested).trigger, conditions: nested, actions: rule(nested).actions,
      stop_processing: true, run_limit: { type: 'cooldown', secs: 600 }, allow_rule_origin: false,
    });
  });

  it('wraps a lone leaf in all and folds not-of-not, meaning the same', () => {
    expect(fromTree(toTree({ status: ['open'] }))).toEqual({ all: [{ status: ['open'] }] });
    expect(fromTree(toTree({ not: { not: { assigned: false } } }))).toEqual({ all: [{ assigned: false }] });
    expect(fromTree(toTree({ not: { any: [{ assigned: true }] } }))).toEqual({ not: { any: [{ assigned: true }] } });
    expect(fromTree(toTree({ all: [] }))).toEqual({ all: [] });
  });

  it('builds “A and (B or C)” by adding leaves and grouping a pair, and ungroups it again', () => {
    const root = emptyGroup('all');
    root.children.push(leafNode('status'), leafNode('labels_any'), leafNode('priority'));
    groupWithNext(root, 1, 'any');
    expect(fromTree(root)).toEqual({ all: [{ status: ['open'] }, { any: [{ labels_any: [] }, { priority: ['urgent'] }] }] });
    groupWithNext(root, 1, 'any');
    expect(root.children).toHaveLength(2);
    (root.children[1] as GroupNode).negated = true;
    expect(fromTree(root)).toEqual({ all: [{ status: ['open'] }, { not: { any: [{ labels_any: [] }, { priority: ['urgent'] }] } }] });
    ungroup(root, 1);
    expect(root.children).toHaveLength(2);
    (root.children[1] as GroupNode).negated = false;
    ungroup(root, 1);
    expect(fromTree(root)).toEqual({ all: [{ status: ['open'] }, { labels_any: [] }, { priority: ['urgent'] }] });
    wrap(root, 0, 'any');
    expect(fromTree(root)).toEqual({ all: [{ any: [{ status: ['open'] }] }, { labels_any: [] }, { priority: ['urgent'] }] });
    expect(moveItem(root.children, 2, -1)).toBe(true);
    expect(moveItem(root.children, 0, -1)).toBe(false);
    expect(fromTree(root)).toEqual({ all: [{ any: [{ status: ['open'] }] }, { priority: ['urgent'] }, { labels_any: [] }] });
  });

  it('names nodes by the paths the server’s trace and refusals use', () => {
    const paths = tracePaths(nested).map((p) => p.path);
    expect(paths.slice(0, 6)).toEqual(['$', 'all[0]', 'all[1]', 'all[2]', 'all[2].any[0]', 'all[2].any[1]']);
    expect(paths).toContain('all[2].any[1].not');
    expect(paths).toContain('all[3].not.any[1].all[0]');
    const tree = toTree(nested);
    const byKey = nodePaths(tree);
    const negatedLeaf = (tree.children[2] as GroupNode).children[1];
    expect(byKey.get(negatedLeaf.key)).toBe('conditions.all[2].any[1].not');
    const deep = ((tree.children[3] as GroupNode).children[1] as GroupNode).children[0];
    expect(byKey.get(deep.key)).toBe('conditions.all[3].not.any[1].all[0]');
  });

  it('checks a rule as the server would, and flags lists with nothing picked', () => {
    const draft = draftOf(rule({ all: [{ not: { labels_any: [] } }] }));
    draft.name = ' ';
    draft.actions.push({ type: 'send_reply', body: '' }, { type: 'set_status', status: 'snoozed', snooze_secs: null });
    const issues = ruleIssues(draft).map((i) => `${i.field}:${i.kind}`);
    expect(issues).toEqual(['name:name', 'conditions.all[0].not:emptyList', 'actions[2].body:body', 'actions[3].snooze_secs:snooze']);
    const tooDeep = draftOf(rule({ all: [{ any: [{ all: [{ any: [{ all: [{ assigned: true }] }] }] }] }] }));
    expect(ruleIssues(tooDeep).map((i) => i.kind)).toContain('depth');
    expect(ruleIssues(draftOf(rule(nested)))).toEqual([]);
  });

  it('says a trigger in words', () => {
    expect(triggerText({ type: 'event', events: ['message_received', 'conversation_created'] })).toBe('When a customer writes or a conversation is created');
    expect(triggerText({ type: 'customer_waiting', after_secs: 1800, business_hours: true })).toBe('When the customer has waited 30 minutes of business hours');
    expect(triggerText({ type: 'status_held', status: 'pending', after_secs: 3 * 86_400, business_hours: false })).toBe('When it stays Pending for 3 days');
  });
});

describe('a refusal from the server', () => {
  it('lands on the deepest condition node its path names, or on the action', () => {
    const tree = toTree(nested);
    const refused = serverIssue('conditions.all[3].not.any[1].all[0].labels[0]: no label named “vip”', tree);
    expect(refused).toEqual({ field: 'conditions.all[3].not.any[1].all[0]', kind: 'server', message: 'no label named “vip”' });
    expect(nodePaths(tree).get(((tree.children[3] as GroupNode).children[1] as GroupNode).children[0].key)).toBe(refused?.field);
    expect(serverIssue('actions[1].agent_id: no active agent x', tree)).toEqual({ field: 'actions[1].agent_id', kind: 'server', message: 'no active agent x' });
    expect(serverIssue('conditions: nested deeper than 4 levels', tree)?.field).toBe('conditions');
    expect(serverIssue('something else went wrong', tree)).toBeNull();
  });
});

describe('apply_sla', () => {
  it('picks the first policy, says the policy by name, and can stop the clocks', () => {
    const policies = [{ id: 'p1', name: 'VIP 15 minutes' }];
    expect(newAction('apply_sla', null, policies)).toEqual({ type: 'apply_sla', policy_id: 'p1' });
    expect(actionText({ type: 'apply_sla', policy_id: 'p1' }, null, policies)).toBe('Apply the SLA policy VIP 15 minutes');
    expect(actionText({ type: 'apply_sla', policy_id: null }, null, policies)).toBe('Stop the SLA clocks (no policy)');
    expect(actionText({ type: 'apply_sla', policy_id: 'gone' }, null, policies)).toBe('Apply the SLA policy (removed)');
  });
});
