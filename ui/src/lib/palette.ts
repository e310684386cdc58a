// The command palette's command list and matching, and the quick-reply palette's text surgery.
import type { Availability, ConversationStatus, Directory, Priority, ViewKey } from './bindings';
import { t } from './i18n';
import { viewName } from './views';

// ---------------------------------------------------------------------------------------------
// Snooze presets

export type SnoozePreset = 'hour' | 'threeHours' | 'tomorrow' | 'nextWeek';
export const SNOOZE_PRESETS: SnoozePreset[] = ['hour', 'threeHours', 'tomorrow', 'nextWeek'];

/** When a snooze preset ends, in local time: +1 h, +3 h, tomorrow 9:00, next Monday 9:00. */
export function snoozeUntil(preset: SnoozePreset, now: number): number {
  const date = new Date(now);
  switch (preset) {
    case 'hour':
      return now + 3_600_000;
    case 'threeHours':
      return now + 3 * 3_600_000;
    case 'tomorrow':
      date.setDate(date.getDate() + 1);
      date.setHours(9, 0, 0, 0);
      return date.getTime();
    case 'nextWeek': {
      const daysToMonday = ((8 - date.getDay()) % 7) || 7;
      date.setDate(date.getDate() + daysToMonday);
      date.setHours(9, 0, 0, 0);
      return date.getTime();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

/** What running a command does; the workspace interprets these. */
export type CommandAction =
  | { type: 'assign'; agentId: string | null }
  | { type: 'newConversation' }
  | { type: 'addContact' }
  | { type: 'claim' }
  | { type: 'team'; teamId: string | null }
  | { type: 'label'; name: string; add: boolean }
  | { type: 'status'; status: ConversationStatus }
  | { type: 'snooze'; preset: SnoozePreset }
  | { type: 'priority'; priority: Priority }
  | { type: 'pin'; pinned: boolean }
  | { type: 'unread' }
  | { type: 'view'; view: ViewKey }
  | { type: 'compose'; kind: 'reply' | 'note' }
  | { type: 'help' }
  | { type: 'dnd'; on: boolean }
  | { type: 'availability'; availability: Availability }
  | { type: 'contactPanel' }
  | { type: 'settings' }
  | { type: 'reports' }
  | { type: 'board' }
  | { type: 'workload' }
  | { type: 'filters' }
  | { type: 'escalate'; escalated: boolean }
  | { type: 'testRules' }
  | { type: 'signOut' }
  | { type: 'lock' }
  | { type: 'transcript' }
  | { type: 'quickReplies'; create: boolean };

export type Command = {
  id: string;
  title: string;
  group: 'actions' | 'views';
  /** Needs a target conversation (open or selected). */
  needsTarget: boolean;
  action: CommandAction;
  /** Extra words it answers to. */
  keywords?: string;
};

export type CommandContext = {
  /** The target's labels (one open conversation), to offer "Remove label". */
  labels?: string[];
  /** Whether the open conversation is pinned. */
  pinned?: boolean;
  /** Whether the target (one conversation) is escalated, to offer "De-escalate" instead. */
  escalated?: boolean;
  doNotDisturb?: boolean;
  /** The agent's availability as shown (not offered again). */
  availability?: Availability | null;
};

export const AVAILABILITIES: Availability[] = ['online', 'busy', 'offline'];

const STATUSES: ConversationStatus[] = ['open', 'pending', 'resolved'];
const PRIORITIES: Priority[] = ['urgent', 'high', 'medium', 'low', 'none'];

export function buildCommands(directory: Directory, context: CommandContext = {}): Command[] {
  const commands: Command[] = [];
  const act = (id: string, title: string, action: CommandAction, keywords?: string) =>
    commands.push({ id, title, group: 'actions', needsTarget: true, action, keywords });

  act('claim', t('palette.commands.claim'), { type: 'claim' }, 'take mine');
  act('assign:me', t('palette.commands.assignMe'), { type: 'assign', agentId: directory.me.id });
  for (const agent of directory.agents) {
    if (!agent.active || agent.id === directory.me.id) continue;
    act(`assign:${agent.id}`, t('palette.commands.assignTo', { name: agent.name }), { type: 'assign', agentId: agent.id });
  }
  act('assign:none', t('palette.commands.unassign'), { type: 'assign', agentId: null });
  for (const team of directory.teams) {
    act(`team:${team.id}`, t('palette.commands.moveTeam', { name: team.name }), { type: 'team', teamId: team.id });
  }
  act('team:none', t('palette.commands.removeTeam'), { type: 'team', teamId: null });
  const current = new Set(context.labels ?? []);
  for (const label of directory.labels) {
    if (!current.has(label.name)) {
      act(`label+:${label.name}`, t('palette.commands.addLabel', { name: label.name }), { type: 'label', name: label.name, add: true }, 'tag');
    }
  }
  for (const name of current) {
    act(`label-:${name}`, t('palette.commands.removeLabel', { name }), { type: 'label', name, add: false }, 'tag');
  }
  for (const status of STATUSES) {
    act(`status:${status}`, t('palette.commands.status', { status: t(`status.${status}`) }), { type: 'status', status },
      status === 'resolved' ? 'close done' : status === 'open' ? 'reopen' : undefined);
  }
  for (const preset of SNOOZE_PRESETS) {
    act(`snooze:${preset}`, t('palette.commands.snooze', { when: t(`snooze.${preset}`) }), { type: 'snooze', preset }, 'later remind');
  }
  for (const priority of PRIORITIES) {
    act(`priority:${priority}`, t('palette.commands.priority', { priority: t(`priority.${priority}`) }), { type: 'priority', priority });
  }
  if (context.escalated) act('deescalate', t('palette.commands.deescalate'), { type: 'escalate', escalated: false }, 'escalation lead clear');
  else act('escalate', t('palette.commands.escalate'), { type: 'escalate', escalated: true }, 'escalation lead urgent raise');
  if (context.pinned) act('unpin', t('palette.commands.unpin'), { type: 'pin', pinned: false });
  else act('pin', t('palette.commands.pin'), { type: 'pin', pinned: true }, 'star');
  act('unread', t('palette.commands.markUnread'), { type: 'unread' });
  act('transcript', t('transcript.command'), { type: 'transcript' }, 'export save share pdf json text billing');
  act('reply', t('palette.commands.reply'), { type: 'compose', kind: 'reply' }, 'write answer');
  act('note', t('palette.commands.note'), { type: 'compose', kind: 'note' }, 'comment internal');
  if (directory.me.role === 'admin' || directory.me.role === 'lead') {
    act('test-rules', t('palette.commands.testRules'), { type: 'testRules' }, 'automation dry run trace why');
  }

  const general = (id: string, title: string, action: CommandAction, keywords?: string) =>
    commands.push({ id, title, group: 'actions', needsTarget: false, action, keywords });
  general('toggle-contact', t('palette.commands.toggleContact'), { type: 'contactPanel' }, 'customer profile');
  general('new-conversation', t('newConversation.command'), { type: 'newConversation' },
    'start write new message contact customer template outbound compose');
  general('add-contact', t('contacts.addCommand'), { type: 'addContact' }, 'new create contact customer person phone email');
  general('help', t('palette.commands.help'), { type: 'help' }, 'shortcuts keys');
  general('new-quick-reply', t('myQuick.commandNew'), { type: 'quickReplies', create: true }, 'canned response snippet template add create personal');
  general('quick-replies', t('myQuick.commandManage'), { type: 'quickReplies', create: false }, 'canned responses snippets favourites alt shortcut slot edit delete promote');
  general('dnd', context.doNotDisturb ? t('palette.commands.dndOff') : t('palette.commands.dndOn'),
    { type: 'dnd', on: !context.doNotDisturb }, 'notifications quiet');
  for (const availability of AVAILABILITIES) {
    if (availability === context.availability) continue;
    general(`availability:${availability}`,
      t('palette.commands.availability', { availability: t(`availability.${availability}`) }),
      { type: 'availability', availability }, 'status presence away routing');
  }
  if (directory.me.role === 'admin' || directory.me.role === 'lead') {
    general('settings', t('palette.commands.settings'), { type: 'settings' },
      'preferences business hours opening calendar routing auto replies away greeting capacity workload');
  }
  general('reports', t('palette.commands.reports'), { type: 'reports' },
    'statistics analytics figures dashboard first response resolution export csv live');
  general('board', t('palette.commands.board'), { type: 'board' },
    'triage kanban columns new assigned waiting escalated');
  if (directory.me.role === 'admin' || directory.me.role === 'lead') {
    general('workload', t('palette.commands.workload'), { type: 'workload' },
      'agents load capacity reassign queue presence team');
  }
  general('filters', t('palette.commands.filters'), { type: 'filters' }, 'filter combine criteria saved view search narrow');
  general('lock', t('palette.commands.lock'), { type: 'lock' }, 'lock screen privacy idle');
  general('sign-out', t('palette.commands.signOut'), { type: 'signOut' }, 'log out');

  const views: ViewKey[] = [
    { type: 'mine' }, { type: 'unassigned' }, { type: 'all' }, { type: 'mentions' }, { type: 'pinned' },
    { type: 'breaching_soon' }, { type: 'escalated' }, { type: 'unattended' },
    ...directory.saved_views.map((saved) => ({ type: 'saved', id: saved.id }) as ViewKey),
    ...directory.teams.map((team) => ({ type: 'team', id: team.id }) as ViewKey),
    ...directory.inboxes.map((inbox) => ({ type: 'inbox', id: inbox.id }) as ViewKey),
    ...directory.labels.map((label) => ({ type: 'label', id: label.name }) as ViewKey),
  ];
  for (const view of views) {
    commands.push({
      id: `view:${view.type}:${'id' in view ? view.id : ''}`,
      title: t('palette.commands.goTo', { name: viewName(view, directory) }),
      group: 'views',
      needsTarget: false,
      action: { type: 'view', view },
    });
  }
  return commands;
}

/**
 * Subsequence match of `query` in `text`, case-insensitive: null if some query character is
 * missing, else a score (higher is better: consecutive runs, word starts, early matches) and the
 * matched positions.
 */
export function fuzzyScore(query: string, text: string): { score: number; indices: number[] } | null {
  const q = query.trim().toLowerCase();
  if (!q) return { score: 0, indices: [] };
  const lower = text.toLowerCase();
  const indices: number[] = [];
  let score = 0;
  let from = 0;
  let previous = -2;
  for (const ch of q) {
    if (ch === ' ') continue;
    const at = lower.indexOf(ch, from);
    if (at < 0) return null;
    const wordStart = at === 0 || /[\s:\-_/(]/.test(lower[at - 1]);
    score += 1;
    if (at === previous + 1) score += 5;
    if (wordStart) score += 8;
    score -= Math.min(at - from, 10) * 0.1;
    indices.push(at);
    previous = at;
    from = at + 1;
  }
  // A whole-word substring hit is better than a scattered one.
  if (lower.includes(q)) score += 10;
  score -= text.length * 0.01;
  return { score, indices };
}

/** Commands matching `query`, best first (all of them, in order, for an empty query). */
export function filterCommands(commands: Command[], query: string, limit = 50): Command[] {
  if (!query.trim()) return commands.slice(0, limit);
  const scored: { command: Command; score: number }[] = [];
  for (const command of commands) {
    const title = fuzzyScore(query, command.title);
    const keywords = command.keywords ? fuzzyScore(query, command.keywords) : null;
    const best = Math.max(title?.score ?? -Infinity, (keywords?.score ?? -Infinity) - 3);
    if (best > -Infinity) scored.push({ command, score: best });
  }
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, limit).map((entry) => entry.command);
}

// ---------------------------------------------------------------------------------------------
// Quick replies

/** The "/query" being typed at the very start of the composer, if the cursor is in it. */
export function quickReplyTrigger(text: string, cursor: number): { query: string; start: number; end: number } | null {
  if (!text.startsWith('/') || cursor < 1) return null;
  const token = text.slice(0, cursor);
  if (/\s/.test(token)) return null;
  // The token runs to the first whitespace after the cursor too (editing in the middle of it).
  const rest = text.slice(cursor).match(/^\S*/)?.[0] ?? '';
  return { query: token.slice(1) + rest, start: 0, end: cursor + rest.length };
}

/** The UTF-16 index of the `chars`-th Unicode character (the backend counts chars, JS counts code units). */
export function charToUtf16(text: string, chars: number): number {
  let index = 0;
  let count = 0;
  for (const ch of text) {
    if (count >= chars) break;
    index += ch.length;
    count += 1;
  }
  return index;
}

export type Range = [number, number];

export type Insertion = {
  text: string;
  /** The new selection: the first placeholder, else a caret after the inserted text. */
  selection: Range;
  /** Placeholders in the new text (UTF-16 offsets), in order. */
  placeholders: Range[];
};

/**
 * Replaces `[start, end)` of `text` (the "/query", or the selection) with the quick reply's text
 * and places the placeholders — given as char offsets into the reply — in the new text.
 */
export function insertQuickReply(
  text: string,
  start: number,
  end: number,
  reply: { text: string; placeholders: ReadonlyArray<readonly number[]> },
): Insertion {
  const inserted = reply.text;
  const newText = text.slice(0, start) + inserted + text.slice(end);
  const placeholders: Range[] = reply.placeholders.map(([from, to]) => [
    start + charToUtf16(inserted, from),
    start + charToUtf16(inserted, to),
  ]);
  const selection: Range = placeholders.length > 0 ? [...placeholders[0]] : [start + inserted.length, start + inserted.length];
  return { text: newText, selection, placeholders };
}

/** The edit that turned `before` into `after`: where, how much went, how much came. */
export function diffEdit(before: string, after: string): { start: number; removed: number; inserted: number } {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start += 1;
  let tail = 0;
  while (
    tail < before.length - start &&
    tail < after.length - start &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  ) {
    tail += 1;
  }
  return { start, removed: before.length - start - tail, inserted: after.length - start - tail };
}

/**
 * Keeps placeholder ranges on their text through an edit: ranges after it move, a range the edit
 * overlaps grows or shrinks with it, a range the edit swallows collapses to where the edit was, and
 * typing into a collapsed range fills it.
 */
export function shiftPlaceholders(placeholders: Range[], edit: { start: number; removed: number; inserted: number }): Range[] {
  const editEnd = edit.start + edit.removed;
  const delta = edit.inserted - edit.removed;
  return placeholders.map(([from, to]): Range => {
    if (from === to && edit.start === from && edit.removed === 0) return [from, from + edit.inserted];
    if (edit.start >= to) return [from, to];
    if (editEnd <= from) return [from + delta, to + delta];
    const newFrom = Math.min(from, edit.start);
    return [newFrom, Math.max(newFrom, Math.max(to, editEnd) + delta)];
  });
}

/** Whether a placeholder's text is still unfilled (looks like `{{…}}`). */
function unfilled(text: string, [from, to]: Range): boolean {
  return /^\{\{[^]*\}\}$/.test(text.slice(from, to));
}

/**
 * The placeholder to select on Tab (or Shift+Tab): the next unfilled one after the selection (the
 * previous one before it), wrapping around; null when every placeholder is filled.
 */
export function nextPlaceholder(text: string, placeholders: Range[], selection: Range, backwards: boolean): Range | null {
  const open = placeholders.filter((range) => unfilled(text, range));
  if (open.length === 0) return null;
  if (backwards) return [...open].reverse().find(([, to]) => to <= selection[0]) ?? open[open.length - 1];
  const isCurrent = ([from, to]: Range) => from === selection[0] && to === selection[1];
  return open.find((range) => range[0] >= selection[1] && !isCurrent(range)) ?? open[0];
}
