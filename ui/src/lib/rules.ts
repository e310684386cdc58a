// Automation rules as the settings screen edits them: the condition tree as an editable tree of
// groups and leaves (and back to the server's `{all:[…]}`/`{any:[…]}`/`{not:…}` shape), a rule's
// trigger and actions in words, the checks the server makes on a rule (crates/server/src/
// workspace/automation.rs, mirrored so a mistake shows beside its field first; the server stays
// the judge), and the paths a dry run's trace names (`$`, `all[1].any[0]`, `all[2].not`).
import type {
  Action,
  AutomationRule,
  AutomationRuleInput,
  Channel,
  Condition,
  ConversationStatus,
  Directory,
  Priority,
  RunLimit,
  Trigger,
  TriggerEvent,
} from './bindings';
import { t } from './i18n';

/** As `crates/proto/src/automation.rs`: the deepest `all`/`any`/`not` nesting and most leaves. */
export const MAX_CONDITION_DEPTH = 4;
export const MAX_CONDITION_LEAVES = 50;
const MAX_AFTER_SECS = 90 * 86_400;

export const TRIGGER_EVENTS: TriggerEvent[] = [
  'conversation_created',
  'message_received',
  'message_sent',
  'status_changed',
  'assigned',
  'team_changed',
  'priority_changed',
  'labels_changed',
  'reopened',
  'resolved',
  'sla_warning',
  'sla_breached',
];
export const STATUSES: ConversationStatus[] = ['open', 'pending', 'snoozed', 'resolved'];
export const PRIORITIES: Priority[] = ['urgent', 'high', 'medium', 'low', 'none'];
export const CHANNELS: Channel[] = ['whatsapp', 'instagram', 'facebook', 'telegram', 'email', 'webchat', 'api'];

/** Every kind of leaf a condition can be, in the order the "add condition" menu offers them. */
export const LEAF_KINDS = [
  'status',
  'inbox',
  'channel',
  'team',
  'assignee',
  'assigned',
  'priority',
  'labels_any',
  'labels_all',
  'origin',
  'text_contains',
  'contact',
  'within_business_hours',
] as const;
export type LeafKind = (typeof LEAF_KINDS)[number];
export type GroupKind = 'all' | 'any';

export const ACTION_KINDS: Action['type'][] = [
  'assign_agent',
  'route',
  'unassign',
  'set_team',
  'add_labels',
  'remove_labels',
  'set_priority',
  'escalate',
  'deescalate',
  'set_status',
  'send_reply',
  'add_note',
  'webhook',
  'apply_sla',
];

// ---------------------------------------------------------------------------------------------
// The condition tree as the editor holds it

/** A leaf as the editor holds it: the server's leaf condition, possibly negated. */
export type LeafNode = { key: number; type: 'leaf'; negated: boolean; leaf: Condition };
/** A group: all (and) or any (or) of its children, possibly negated. */
export type GroupNode = { key: number; type: 'group'; negated: boolean; kind: GroupKind; children: TreeNode[] };
export type TreeNode = LeafNode | GroupNode;

let nextKey = 1;
function key(): number {
  return nextKey++;
}

/** The one key of an externally tagged condition (`{"status": […]}` → `status`). */
export function conditionKind(condition: Condition): GroupKind | 'not' | LeafKind {
  return Object.keys(condition)[0] as GroupKind | 'not' | LeafKind;
}

export function emptyGroup(kind: GroupKind = 'all'): GroupNode {
  return { key: key(), type: 'group', negated: false, kind, children: [] };
}

/** The editor's tree for a condition. A `not` becomes its child's negated flag, and the root is
 * always a group (a lone leaf is wrapped in `all`), so `fromTree(toTree(c))` means what `c`
 * means; for a tree whose root is a group and without `not` of `not`, it is `c` exactly. */
export function toTree(condition: Condition): GroupNode {
  const node = toNode(condition);
  if (node.type === 'group') return node;
  return { key: key(), type: 'group', negated: false, kind: 'all', children: [node] };
}

function toNode(condition: Condition): TreeNode {
  if ('not' in condition) {
    const inner = toNode(condition.not);
    return { ...inner, negated: !inner.negated };
  }
  if ('all' in condition) return { key: key(), type: 'group', negated: false, kind: 'all', children: condition.all.map(toNode) };
  if ('any' in condition) return { key: key(), type: 'group', negated: false, kind: 'any', children: condition.any.map(toNode) };
  return { key: key(), type: 'leaf', negated: false, leaf: structuredCloneJson(condition) };
}

/** The server's condition for an editor tree. */
export function fromTree(node: TreeNode): Condition {
  const plain: Condition =
    node.type === 'leaf'
      ? structuredCloneJson(node.leaf)
      : node.kind === 'all'
        ? { all: node.children.map(fromTree) }
        : { any: node.children.map(fromTree) };
  return node.negated ? { not: plain } : plain;
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A new leaf of a kind with a sensible start (lists empty until the lead picks). */
export function newLeaf(kind: LeafKind): Condition {
  switch (kind) {
    case 'status':
      return { status: ['open'] };
    case 'inbox':
      return { inbox: [] };
    case 'channel':
      return { channel: [] };
    case 'team':
      return { team: [] };
    case 'assignee':
      return { assignee: [] };
    case 'assigned':
      return { assigned: false };
    case 'priority':
      return { priority: ['urgent'] };
    case 'labels_any':
      return { labels_any: [] };
    case 'labels_all':
      return { labels_all: [] };
    case 'origin':
      return { origin: 'customer' };
    case 'text_contains':
      return { text_contains: [] };
    case 'contact':
      return { contact: { field: 'name', contains: '' } };
    case 'within_business_hours':
      return { within_business_hours: false };
  }
}

export function leafNode(kind: LeafKind): LeafNode {
  return { key: key(), type: 'leaf', negated: false, leaf: newLeaf(kind) };
}

/** `children[index]` and `children[index + 1]` (or the one before) grouped into a new group of
 * `kind`, where the first of them was. Nothing happens at the end of the list. */
export function groupWithNext(group: GroupNode, index: number, kind: GroupKind): void {
  if (index < 0 || index >= group.children.length - 1) return;
  const pair = group.children.splice(index, 2);
  group.children.splice(index, 0, { key: key(), type: 'group', negated: false, kind, children: pair });
}

/** Puts a lone node of a group in a new group of its own (to add siblings under another kind). */
export function wrap(group: GroupNode, index: number, kind: GroupKind): void {
  const child = group.children[index];
  if (!child) return;
  group.children[index] = { key: key(), type: 'group', negated: false, kind, children: [child] };
}

/** Replaces a group by its children, in its place (the reverse of grouping). */
export function ungroup(parent: GroupNode, index: number): void {
  const child = parent.children[index];
  if (!child || child.type !== 'group' || child.negated) return;
  parent.children.splice(index, 1, ...child.children);
}

/** How deep a tree nests (`crates/proto`'s `Condition::depth`: a leaf is 0). */
export function depth(condition: Condition): number {
  if ('all' in condition) return 1 + Math.max(0, ...condition.all.map(depth));
  if ('any' in condition) return 1 + Math.max(0, ...condition.any.map(depth));
  if ('not' in condition) return 1 + depth(condition.not);
  return 0;
}

export function leaves(condition: Condition): number {
  if ('all' in condition) return condition.all.reduce((n, c) => n + leaves(c), 0);
  if ('any' in condition) return condition.any.reduce((n, c) => n + leaves(c), 0);
  if ('not' in condition) return leaves(condition.not);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Trace paths

/** Every node of a condition in reading order, with the path a trace names it by (`$` the root,
 * as `Condition::evaluate` writes them) and its depth. */
export function tracePaths(condition: Condition): { path: string; depth: number; condition: Condition }[] {
  const out: { path: string; depth: number; condition: Condition }[] = [];
  const walk = (node: Condition, path: string, level: number) => {
    out.push({ path: path === '' ? '$' : path, depth: level, condition: node });
    const child = (step: string) => (path === '' ? step : `${path}.${step}`);
    if ('all' in node) node.all.forEach((c, i) => walk(c, child(`all[${i}]`), level + 1));
    else if ('any' in node) node.any.forEach((c, i) => walk(c, child(`any[${i}]`), level + 1));
    else if ('not' in node) walk(node.not, child('not'), level + 1);
  };
  walk(condition, '', 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// In words

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** Seconds as the largest whole unit: `{value: 2, unit: 'hours'}`. */
export function splitDuration(secs: number): { value: number; unit: 'minutes' | 'hours' | 'days' } {
  if (secs > 0 && secs % DAY === 0) return { value: secs / DAY, unit: 'days' };
  if (secs > 0 && secs % HOUR === 0) return { value: secs / HOUR, unit: 'hours' };
  return { value: Math.round((secs / MINUTE) * 100) / 100, unit: 'minutes' };
}

export function joinDuration(value: number, unit: 'minutes' | 'hours' | 'days'): number {
  return Math.round(value * (unit === 'days' ? DAY : unit === 'hours' ? HOUR : MINUTE));
}

export function durationText(secs: number): string {
  const { value, unit } = splitDuration(secs);
  return t(`rules.units.${unit}`, { count: value });
}

/** "When a customer's message arrives or the conversation is created", "When the customer has
 * waited 30 minutes (business hours)". */
export function triggerText(trigger: Trigger): string {
  switch (trigger.type) {
    case 'event':
      return t('rules.trigger.whenEvents', {
        events: trigger.events.map((event) => t(`rules.events.${event}`)).join(t('rules.or')),
      });
    case 'customer_waiting':
      return t(trigger.business_hours ? 'rules.trigger.whenWaitingBusiness' : 'rules.trigger.whenWaiting', {
        duration: durationText(trigger.after_secs),
      });
    case 'status_held':
      return t(trigger.business_hours ? 'rules.trigger.whenHeldBusiness' : 'rules.trigger.whenHeld', {
        status: t(`status.${trigger.status}`),
        duration: durationText(trigger.after_secs),
      });
  }
}

function names(ids: string[], from: { id: string; name: string }[] | undefined): string {
  if (ids.length === 0) return t('rules.nothingPicked');
  return ids.map((id) => from?.find((item) => item.id === id)?.name ?? t('rules.unknown')).join(t('rules.or'));
}

function list(values: string[]): string {
  return values.length === 0 ? t('rules.nothingPicked') : values.map((value) => t('rules.quoted', { value })).join(t('rules.or'));
}

/** A leaf or group in words, for a trace ("Status is Open or Pending"). */
export function conditionText(condition: Condition, directory: Directory | null): string {
  if ('all' in condition) return t('rules.group.all');
  if ('any' in condition) return t('rules.group.any');
  if ('not' in condition) return t('rules.group.not');
  if ('status' in condition) return t('rules.leafText.status', { values: condition.status.map((s) => t(`status.${s}`)).join(t('rules.or')) || t('rules.nothingPicked') });
  if ('inbox' in condition) return t('rules.leafText.inbox', { values: names(condition.inbox, directory?.inboxes) });
  if ('channel' in condition) return t('rules.leafText.channel', { values: condition.channel.map((c) => t(`channels.${c}`)).join(t('rules.or')) || t('rules.nothingPicked') });
  if ('team' in condition) return t('rules.leafText.team', { values: names(condition.team, directory?.teams) });
  if ('assignee' in condition) return t('rules.leafText.assignee', { values: names(condition.assignee, directory?.agents) });
  if ('assigned' in condition) return t(condition.assigned ? 'rules.leafText.assigned' : 'rules.leafText.unassigned');
  if ('priority' in condition) return t('rules.leafText.priority', { values: condition.priority.map((p) => t(`priority.${p}`)).join(t('rules.or')) || t('rules.nothingPicked') });
  if ('labels_any' in condition) return t('rules.leafText.labels_any', { values: list(condition.labels_any) });
  if ('labels_all' in condition) return t('rules.leafText.labels_all', { values: list(condition.labels_all) });
  if ('origin' in condition) return t(`rules.leafText.origin_${condition.origin}`);
  if ('text_contains' in condition) return t('rules.leafText.text_contains', { values: list(condition.text_contains) });
  if ('contact' in condition) return t('rules.leafText.contact', { field: t(`rules.contactFields.${condition.contact.field}`), text: condition.contact.contains });
  return t(condition.within_business_hours ? 'rules.leafText.open' : 'rules.leafText.closed');
}

/** Something a rule names by id: an SLA policy. */
export type Named = { id: string; name: string };

/** An action in words ("Assign to Sara Karimi", "Add labels “vip”"). */
export function actionText(action: Action, directory: Directory | null, policies: Named[] = []): string {
  switch (action.type) {
    case 'assign_agent':
      return t('rules.actionText.assign_agent', { name: names([action.agent_id], directory?.agents) });
    case 'set_team':
      return action.team_id === null ? t('rules.actionText.no_team') : t('rules.actionText.set_team', { name: names([action.team_id], directory?.teams) });
    case 'add_labels':
    case 'remove_labels':
      return t(`rules.actionText.${action.type}`, { labels: list(action.labels) });
    case 'set_priority':
      return t('rules.actionText.set_priority', { priority: t(`priority.${action.priority}`) });
    case 'set_status':
      return action.status === 'snoozed' && action.snooze_secs
        ? t('rules.actionText.snooze', { duration: durationText(action.snooze_secs) })
        : t('rules.actionText.set_status', { status: t(`status.${action.status}`) });
    case 'send_reply':
    case 'add_note':
      return t(`rules.actionText.${action.type}`, { body: action.body.length > 60 ? `${action.body.slice(0, 59)}…` : action.body });
    case 'webhook':
      return t('rules.actionText.webhook', { url: action.url });
    case 'apply_sla':
      return action.policy_id === null ? t('rules.actionText.no_sla') : t('rules.actionText.apply_sla', { name: names([action.policy_id], policies) });
    default:
      return t(`rules.actionText.${action.type}`);
  }
}

/** A new action of a kind, filled from the directory where it needs a choice. */
export function newAction(type: Action['type'], directory: Directory | null, policies: Named[] = []): Action {
  switch (type) {
    case 'assign_agent':
      return { type, agent_id: directory?.agents.find((a) => a.active)?.id ?? '' };
    case 'route':
    case 'unassign':
    case 'escalate':
    case 'deescalate':
      return { type };
    case 'set_team':
      return { type, team_id: directory?.teams[0]?.id ?? null };
    case 'add_labels':
    case 'remove_labels':
      return { type, labels: [] };
    case 'set_priority':
      return { type, priority: 'urgent' };
    case 'set_status':
      return { type, status: 'pending', snooze_secs: null };
    case 'send_reply':
    case 'add_note':
      return { type, body: '' };
    case 'webhook':
      return { type, url: 'https://' };
    case 'apply_sla':
      return { type, policy_id: policies[0]?.id ?? null };
  }
}

// ---------------------------------------------------------------------------------------------
// The editor's draft

export type RuleDraft = {
  name: string;
  enabled: boolean;
  trigger: Trigger;
  tree: GroupNode;
  actions: Action[];
  stop_processing: boolean;
  run_limit: RunLimit;
  allow_rule_origin: boolean;
};

/** A new rule: on a customer's message, no conditions, no actions yet. */
export function newDraft(): RuleDraft {
  return {
    name: '',
    enabled: true,
    trigger: { type: 'event', events: ['message_received'] },
    tree: emptyGroup('all'),
    actions: [],
    stop_processing: false,
    run_limit: { type: 'every_time' },
    allow_rule_origin: false,
  };
}

export function draftOf(rule: AutomationRule): RuleDraft {
  return {
    name: rule.name,
    enabled: rule.enabled,
    trigger: structuredCloneJson(rule.trigger),
    tree: toTree(rule.conditions),
    actions: structuredCloneJson(rule.actions),
    stop_processing: rule.stop_processing,
    run_limit: structuredCloneJson(rule.run_limit),
    allow_rule_origin: rule.allow_rule_origin,
  };
}

/** What a save sends: no position, so the rule keeps its place (a new one goes last). */
export function inputOf(draft: RuleDraft): AutomationRuleInput {
  return {
    name: draft.name.trim(),
    enabled: draft.enabled,
    position: null,
    trigger: structuredCloneJson(draft.trigger),
    conditions: fromTree(draft.tree),
    actions: structuredCloneJson(draft.actions),
    stop_processing: draft.stop_processing,
    run_limit: structuredCloneJson(draft.run_limit),
    allow_rule_origin: draft.allow_rule_origin,
  };
}

/** Whether two drafts would save the same rule. */
export function sameDraft(a: RuleDraft, b: RuleDraft): boolean {
  return JSON.stringify(inputOf(a)) === JSON.stringify(inputOf(b));
}

export type RuleIssueKind =
  | 'name'
  | 'events'
  | 'after'
  | 'actions'
  | 'body'
  | 'snooze'
  | 'pick'
  | 'url'
  | 'depth'
  | 'leaves'
  | 'emptyList'
  | 'cooldown'
  | 'server';

/** A problem with a part of the draft; `field` is the server's path (`actions[1].body`,
 * `conditions.all[0]`). */
export type RuleIssue = { field: string; kind: RuleIssueKind; message?: string };

/** The server's checks on a rule, and empty lists (which never hold: almost surely a slip). */
export function ruleIssues(draft: RuleDraft): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (draft.name.trim() === '') issues.push({ field: 'name', kind: 'name' });
  const trigger = draft.trigger;
  if (trigger.type === 'event' && trigger.events.length === 0) issues.push({ field: 'trigger.events', kind: 'events' });
  if (trigger.type !== 'event' && !(Number.isInteger(trigger.after_secs) && trigger.after_secs >= 1 && trigger.after_secs <= MAX_AFTER_SECS)) {
    issues.push({ field: 'trigger.after_secs', kind: 'after' });
  }
  const conditions = fromTree(draft.tree);
  if (depth(conditions) > MAX_CONDITION_DEPTH) issues.push({ field: 'conditions', kind: 'depth' });
  if (leaves(conditions) > MAX_CONDITION_LEAVES) issues.push({ field: 'conditions', kind: 'leaves' });
  for (const { path, condition } of tracePaths(conditions)) {
    const value = Object.values(condition)[0];
    if (Array.isArray(value) && value.length === 0 && !('all' in condition) && !('any' in condition)) {
      issues.push({ field: path === '$' ? 'conditions' : `conditions.${path}`, kind: 'emptyList' });
    }
  }
  if (draft.actions.length === 0) issues.push({ field: 'actions', kind: 'actions' });
  draft.actions.forEach((action, i) => {
    const at = `actions[${i}]`;
    if ((action.type === 'send_reply' || action.type === 'add_note') && action.body.trim() === '') issues.push({ field: `${at}.body`, kind: 'body' });
    if (action.type === 'set_status' && action.status === 'snoozed' && !(action.snooze_secs && action.snooze_secs > 0)) {
      issues.push({ field: `${at}.snooze_secs`, kind: 'snooze' });
    }
    if (action.type === 'assign_agent' && action.agent_id === '') issues.push({ field: `${at}.agent_id`, kind: 'pick' });
    if ((action.type === 'add_labels' || action.type === 'remove_labels') && action.labels.length === 0) issues.push({ field: `${at}.labels`, kind: 'pick' });
    if (action.type === 'webhook' && !/^https?:\/\/[^\s/]+/.test(action.url)) issues.push({ field: `${at}.url`, kind: 'url' });
  });
  if (draft.run_limit.type === 'cooldown' && !(draft.run_limit.secs >= 1)) issues.push({ field: 'run_limit.secs', kind: 'cooldown' });
  return issues;
}

/** The issues at a field or below it. */
export function issuesAt(issues: RuleIssue[], field: string): RuleIssue[] {
  return issues.filter((issue) => issue.field === field || issue.field.startsWith(`${field}.`) || issue.field.startsWith(`${field}[`));
}

/** The tree path (`conditions.all[1].any[0]`) of each node of an editor tree, by key. */
export function nodePaths(root: GroupNode): Map<number, string> {
  const paths = new Map<number, string>();
  const walk = (node: TreeNode, path: string) => {
    // A negated node's own path is its `not`'s child path, as the server names it.
    const own = node.negated ? `${path}.not` : path;
    paths.set(node.key, own);
    if (node.type === 'group') node.children.forEach((child, i) => walk(child, `${own}.${node.kind}[${i}]`));
  };
  walk(root, 'conditions');
  return paths;
}

/** Moves `items[index]` by `offset` places, clamped; answers whether it moved. */
export function moveItem<T>(items: T[], index: number, offset: number): boolean {
  const to = Math.max(0, Math.min(items.length - 1, index + offset));
  if (to === index || index < 0 || index >= items.length) return false;
  const [item] = items.splice(index, 1);
  items.splice(to, 0, item);
  return true;
}

/** The server's refusal of a rule (`conditions.all[0].labels[0]: no label named “vip”`) as an
 * issue at the part of the draft it names: the deepest condition node on that path, or the
 * action, trigger or field itself. `null` when the message names no path. */
export function serverIssue(message: string, root: GroupNode): RuleIssue | null {
  const match = /^((?:conditions|actions|trigger|name|run_limit)[^\s:]*):\s*(.+)$/s.exec(message.trim());
  if (!match) return null;
  const [, path, why] = match;
  let field = path;
  if (path.startsWith('conditions')) {
    field = 'conditions';
    for (const nodePath of nodePaths(root).values()) {
      const within = path === nodePath || path.startsWith(`${nodePath}.`) || path.startsWith(`${nodePath}[`);
      if (within && nodePath.length > field.length) field = nodePath;
    }
  }
  return { field, kind: 'server', message: why };
}
