// The global keyboard map: one pure function from a key press to an action name.
// Single keys never fire while typing in a field; keys with Ctrl/Cmd do; Esc always does.

export type KeyAction =
  | 'palette'
  | 'quickReplies'
  | 'send'
  | 'next'
  | 'prev'
  | 'open'
  | 'toggleSelect'
  | 'resolve'
  | 'reopen'
  | 'snooze'
  | 'assign'
  | 'claim'
  | 'team'
  | 'label'
  | 'pin'
  | 'unread'
  | 'reply'
  | 'note'
  | 'help'
  | 'lock'
  | 'newConversation'
  | 'escape';

export type KeyPress = {
  key: string;
  /** Layout-independent key position (`KeyJ`), used when `key` isn't a Latin letter (e.g. a Persian layout). */
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  /** Focus is in an input, textarea, select or contenteditable. */
  targetIsEditable: boolean;
  /** Focus is on a button or link, where Enter and Space belong to that control. */
  targetIsControl?: boolean;
};

/** Single-letter shortcuts, by lower-case letter: [without Shift, with Shift]. */
const LETTERS: Record<string, [KeyAction | null, KeyAction | null]> = {
  j: ['next', null],
  k: ['prev', null],
  x: ['toggleSelect', null],
  e: ['resolve', 'reopen'],
  s: ['snooze', null],
  a: ['assign', 'claim'],
  t: ['team', null],
  l: ['label', null],
  p: ['pin', null],
  u: ['unread', null],
  r: ['reply', null],
  n: ['note', null],
  c: ['newConversation', null],
};

/** The Latin letter a key press means, from `key` or, on other layouts, from `code`. */
function letterOf(press: KeyPress): string | null {
  if (/^[a-zA-Z]$/.test(press.key)) return press.key.toLowerCase();
  const fromCode = press.code?.match(/^Key([A-Z])$/);
  if (fromCode && press.key.length === 1 && !/^[\x20-\x7e]$/.test(press.key)) return fromCode[1].toLowerCase();
  return null;
}

export function actionFor(press: KeyPress): KeyAction | null {
  const command = press.ctrlKey || press.metaKey;
  if (press.key === 'Escape') return 'escape';

  if (command) {
    if (press.altKey) return null;
    const letter = letterOf(press);
    if (letter === 'k' && !press.shiftKey) return 'palette';
    if (letter === 'l' && press.shiftKey) return 'lock';
    if (press.key === '/' || press.code === 'Slash') return 'quickReplies';
    if (press.key === 'Enter') return 'send';
    return null;
  }

  if (press.targetIsEditable || press.altKey) return null;

  if (press.key === '?' || (press.shiftKey && press.code === 'Slash')) return 'help';
  if (press.key === '/') return 'palette';
  if (press.key === 'ArrowDown' && !press.shiftKey) return 'next';
  if (press.key === 'ArrowUp' && !press.shiftKey) return 'prev';
  if (press.key === 'Enter' && !press.shiftKey) return press.targetIsControl ? null : 'open';

  const letter = letterOf(press);
  if (letter === null) return null;
  const entry = LETTERS[letter];
  if (!entry) return null;
  // Caps Lock gives an upper-case key without Shift: Shift is what decides.
  return press.shiftKey ? entry[1] : entry[0];
}

/** Whether an element is somewhere people type. */
export function isEditable(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const element = target as HTMLElement;
  const tag = element.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (element as HTMLInputElement).type;
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color'].includes(type);
  }
  return element.isContentEditable === true;
}

/** Whether an element is a button-like control (Enter/Space belong to it). */
export function isControl(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const element = target as HTMLElement;
  if (element.getAttribute('role') === 'listbox') return false;
  return ['BUTTON', 'A', 'SUMMARY'].includes(element.tagName) || ['button', 'menuitem', 'link', 'switch', 'tab'].includes(element.getAttribute('role') ?? '');
}

/** The modifier's name on this platform, for hints ("Ctrl" / "⌘"). */
export function commandKeyLabel(platform: string): string {
  return /mac|iphone|ipad/i.test(platform) ? '⌘' : 'Ctrl';
}

/** The shortcut list for the help overlay, in display order. */
export const SHORTCUTS: { group: 'navigation' | 'conversation' | 'composer'; keys: string[]; action: string }[] = [
  { group: 'navigation', keys: ['j', '↓'], action: 'next' },
  { group: 'navigation', keys: ['k', '↑'], action: 'prev' },
  { group: 'navigation', keys: ['Enter'], action: 'open' },
  { group: 'navigation', keys: ['x'], action: 'toggleSelect' },
  { group: 'navigation', keys: ['Shift', 'click'], action: 'rangeSelect' },
  { group: 'navigation', keys: ['Mod', 'click'], action: 'multiSelect' },
  { group: 'navigation', keys: ['Mod', 'K'], action: 'palette' },
  { group: 'navigation', keys: ['?'], action: 'help' },
  { group: 'navigation', keys: ['c'], action: 'newConversation' },
  { group: 'navigation', keys: ['Mod', 'Shift', 'L'], action: 'lock' },
  { group: 'navigation', keys: ['Esc'], action: 'escape' },
  { group: 'conversation', keys: ['e'], action: 'resolve' },
  { group: 'conversation', keys: ['Shift', 'E'], action: 'reopen' },
  { group: 'conversation', keys: ['s'], action: 'snooze' },
  { group: 'conversation', keys: ['a'], action: 'assign' },
  { group: 'conversation', keys: ['Shift', 'A'], action: 'claim' },
  { group: 'conversation', keys: ['t'], action: 'team' },
  { group: 'conversation', keys: ['l'], action: 'label' },
  { group: 'conversation', keys: ['p'], action: 'pin' },
  { group: 'conversation', keys: ['u'], action: 'unread' },
  { group: 'composer', keys: ['r'], action: 'reply' },
  { group: 'composer', keys: ['n'], action: 'note' },
  { group: 'composer', keys: ['Mod', 'Enter'], action: 'send' },
  { group: 'composer', keys: ['Mod', '/'], action: 'quickReplies' },
  { group: 'composer', keys: ['Alt', '1…9'], action: 'favouriteReply' },
  { group: 'composer', keys: ['Tab', 'Shift Tab'], action: 'placeholders' },
];
