import { describe, expect, it } from 'vitest';
import { actionFor, type KeyPress } from './keyboard';

function press(key: string, extra: Partial<KeyPress> = {}): KeyPress {
  return { key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, targetIsEditable: false, ...extra };
}

describe('actionFor', () => {
  it('maps every single-key shortcut', () => {
    const expected: Record<string, string> = {
      j: 'next', k: 'prev', ArrowDown: 'next', ArrowUp: 'prev', Enter: 'open', x: 'toggleSelect',
      e: 'resolve', s: 'snooze', a: 'assign', t: 'team', l: 'label', p: 'pin', u: 'unread', r: 'reply', n: 'note',
      c: 'newConversation',
    };
    for (const [key, action] of Object.entries(expected)) expect(actionFor(press(key)), key).toBe(action);
  });

  it('tells Shift+A (claim) from a (assign) and Shift+E (reopen) from e (resolve)', () => {
    expect(actionFor(press('a'))).toBe('assign');
    expect(actionFor(press('A', { shiftKey: true }))).toBe('claim');
    expect(actionFor(press('e'))).toBe('resolve');
    expect(actionFor(press('E', { shiftKey: true }))).toBe('reopen');
  });

  it('goes by Shift, not by case (Caps Lock on)', () => {
    expect(actionFor(press('A'))).toBe('assign');
    expect(actionFor(press('E'))).toBe('resolve');
  });

  it('locks with Ctrl/Cmd+Shift+L, even while typing', () => {
    expect(actionFor(press('L', { ctrlKey: true, shiftKey: true, code: 'KeyL' }))).toBe('lock');
    expect(actionFor(press('L', { metaKey: true, shiftKey: true, code: 'KeyL', targetIsEditable: true }))).toBe('lock');
    expect(actionFor(press('l', { ctrlKey: true, code: 'KeyL' }))).toBeNull();
  });

  it('opens the help with ?', () => {
    expect(actionFor(press('?', { shiftKey: true }))).toBe('help');
  });

  it('starts a conversation with c, but not while typing a c', () => {
    expect(actionFor(press('c'))).toBe('newConversation');
    expect(actionFor(press('c', { targetIsEditable: true }))).toBeNull();
    expect(actionFor(press('ص', { code: 'KeyC' }))).toBe('newConversation');
  });

  it('ignores single keys while typing', () => {
    for (const key of ['j', 'k', 'e', 'a', 'A', '?', 'x', 'Enter', 'ArrowDown', '/']) {
      expect(actionFor(press(key, { targetIsEditable: true, shiftKey: key === 'A' || key === '?' })), key).toBeNull();
    }
  });

  it('opens the palette with Ctrl+K or Cmd+K, even while typing', () => {
    expect(actionFor(press('k', { ctrlKey: true }))).toBe('palette');
    expect(actionFor(press('k', { metaKey: true }))).toBe('palette');
    expect(actionFor(press('k', { ctrlKey: true, targetIsEditable: true }))).toBe('palette');
    expect(actionFor(press('K', { metaKey: true, targetIsEditable: true }))).toBe('palette');
  });

  it('keeps Ctrl/Cmd shortcuts working in fields: quick replies and send', () => {
    expect(actionFor(press('/', { ctrlKey: true, targetIsEditable: true }))).toBe('quickReplies');
    expect(actionFor(press('Enter', { metaKey: true, targetIsEditable: true }))).toBe('send');
    expect(actionFor(press('Enter', { ctrlKey: true }))).toBe('send');
  });

  it('leaves other Ctrl/Cmd combinations to the browser (copy, select all…)', () => {
    for (const key of ['a', 'c', 'v', 'e', 'j']) expect(actionFor(press(key, { ctrlKey: true })), key).toBeNull();
  });

  it('reports Esc always, typing or not, with or without modifiers', () => {
    expect(actionFor(press('Escape'))).toBe('escape');
    expect(actionFor(press('Escape', { targetIsEditable: true }))).toBe('escape');
    expect(actionFor(press('Escape', { ctrlKey: true }))).toBe('escape');
  });

  it('ignores Alt combinations and unknown keys', () => {
    expect(actionFor(press('j', { altKey: true }))).toBeNull();
    expect(actionFor(press('q'))).toBeNull();
    expect(actionFor(press('F5'))).toBeNull();
  });

  it('does not steal Enter from a focused button', () => {
    expect(actionFor(press('Enter', { targetIsControl: true }))).toBeNull();
    expect(actionFor(press('j', { targetIsControl: true }))).toBe('next');
  });

  it('works on non-Latin layouts through the key code', () => {
    expect(actionFor(press('ت', { code: 'KeyJ' }))).toBe('next');
    expect(actionFor(press('ش', { code: 'KeyA', shiftKey: true }))).toBe('claim');
    expect(actionFor(press('ن', { code: 'KeyK', ctrlKey: true }))).toBe('palette');
  });

  it('uses / outside fields to open the palette (search)', () => {
    expect(actionFor(press('/'))).toBe('palette');
  });
});
