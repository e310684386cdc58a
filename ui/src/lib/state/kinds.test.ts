import { describe, expect, it } from 'vitest';
import { ALL_KINDS, DIRECTORY_KINDS, LIST_KINDS, QUICK_REPLY_KINDS, RULES_KINDS, SIDEBAR_KINDS, THREAD_KINDS, touches } from './kinds';

describe('kinds', () => {
  it('lists every entity kind once', () => {
    expect(ALL_KINDS).toHaveLength(17);
    expect(new Set(ALL_KINDS).size).toBe(ALL_KINDS.length);
  });

  it('every pane reads only kinds that exist', () => {
    for (const kinds of [DIRECTORY_KINDS, SIDEBAR_KINDS, LIST_KINDS, THREAD_KINDS, RULES_KINDS, QUICK_REPLY_KINDS]) {
      for (const kind of kinds) expect(ALL_KINDS).toContain(kind);
    }
  });

  it('a new conversation reaches the sidebar and the list, not the directory', () => {
    expect(touches(['conversation'], SIDEBAR_KINDS)).toBe(true);
    expect(touches(['conversation'], LIST_KINDS)).toBe(true);
    expect(touches(['conversation'], DIRECTORY_KINDS)).toBe(false);
    expect(touches([], LIST_KINDS)).toBe(false);
  });
});
