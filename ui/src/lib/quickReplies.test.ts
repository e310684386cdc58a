import { describe, expect, it } from 'vitest';
import type { QuickReply, QuickReplyUsage } from './bindings';
import { canEdit, canPromote, HALF_LIFE_MS, rankOf, rankQuickReplies, replyInSlot, slotForKey, slotTable } from './quickReplies';

const DAY = 24 * 60 * 60 * 1000;

function usage(patch: Partial<QuickReplyUsage>): QuickReplyUsage {
  return { canned_response_id: 'x', agent_id: 'me', slot: null, uses: 0, score: 0, last_used_at: null, ...patch };
}

function reply(code: string, u: Partial<QuickReplyUsage> | null = null, owner: string | null = null): QuickReply {
  return {
    canned: { id: code, short_code: code, title: code, body: code, owner_id: owner },
    text: code,
    placeholders: [],
    short_code_indices: [],
    usage: u ? usage({ canned_response_id: code, ...u }) : null,
  };
}

function press(key: string, code: string, mods: Partial<{ altKey: boolean; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }> = {}) {
  return { altKey: true, ctrlKey: false, metaKey: false, shiftKey: false, key, code, ...mods };
}

describe('ranking', () => {
  it('halves a use every seven days', () => {
    const now = 100 * DAY;
    expect(rankOf(usage({ score: 4, last_used_at: now }), now)).toBe(4);
    expect(rankOf(usage({ score: 4, last_used_at: now - HALF_LIFE_MS }), now)).toBeCloseTo(2);
    expect(rankOf(usage({ score: 4, last_used_at: now - 2 * HALF_LIFE_MS }), now)).toBeCloseTo(1);
    expect(rankOf(null, now)).toBe(0);
    expect(rankOf(usage({ score: 3, last_used_at: null }), now)).toBe(0);
  });

  it('puts recent and frequent first, then the never-used by short code', () => {
    const now = 60 * DAY;
    const items = [
      reply('zebra'),
      reply('monthago', { score: 5, uses: 5, last_used_at: now - 30 * DAY }),
      reply('today', { score: 2, uses: 2, last_used_at: now }),
      reply('alpha'),
      reply('yesterday', { score: 1, uses: 1, last_used_at: now - DAY }),
    ];
    const order = rankQuickReplies(items, '', now).map((r) => r.canned.short_code);
    // Five uses a month ago are worth 5 × 2^(−30/7) ≈ 0.26: below one use yesterday (≈ 0.91).
    expect(order).toEqual(['today', 'yesterday', 'monthago', 'alpha', 'zebra']);
  });

  it('keeps the fuzzy order while a query is typed', () => {
    const items = [reply('b'), reply('a', { score: 9, last_used_at: 0 })];
    expect(rankQuickReplies(items, 'x', 0).map((r) => r.canned.short_code)).toEqual(['b', 'a']);
  });
});

describe('favourite slots', () => {
  it('reads Alt+1…Alt+9 from the physical key, whatever the layout types', () => {
    expect(slotForKey(press('1', 'Digit1'))).toBe(1);
    expect(slotForKey(press('¡', 'Digit1'))).toBe(1);
    expect(slotForKey(press('9', 'Numpad9'))).toBe(9);
    expect(slotForKey(press('۳', 'Digit3'))).toBe(3);
    expect(slotForKey(press('0', 'Digit0'))).toBeNull();
    expect(slotForKey(press('1', 'Digit1', { altKey: false }))).toBeNull();
    expect(slotForKey(press('1', 'Digit1', { ctrlKey: true }))).toBeNull();
    expect(slotForKey(press('1', 'Digit1', { shiftKey: true }))).toBeNull();
    expect(slotForKey(press('a', 'KeyA'))).toBeNull();
  });

  it('finds the reply bound to a slot and lays out the nine slots', () => {
    const items = [reply('hi', { slot: 2 }), reply('bye', { slot: 1 }), reply('none')];
    expect(replyInSlot(items, 1)?.canned.short_code).toBe('bye');
    expect(replyInSlot(items, 3)).toBeNull();
    const table = slotTable(items);
    expect(table).toHaveLength(9);
    expect(table.slice(0, 3).map((s) => s.holder?.canned.short_code ?? null)).toEqual(['bye', 'hi', null]);
  });
});

describe('who may change what', () => {
  const agent = { id: 'me', role: 'agent' };
  const lead = { id: 'me', role: 'lead' };
  it('lets an agent change their own personal replies only, and a lead team-wide ones too', () => {
    expect(canEdit({ owner_id: 'me' }, agent)).toBe(true);
    expect(canEdit({ owner_id: 'other' }, agent)).toBe(false);
    expect(canEdit({ owner_id: null }, agent)).toBe(false);
    expect(canEdit({ owner_id: null }, lead)).toBe(true);
  });
  it('lets only a lead or admin promote their own personal reply', () => {
    expect(canPromote({ owner_id: 'me' }, agent)).toBe(false);
    expect(canPromote({ owner_id: 'me' }, lead)).toBe(true);
    expect(canPromote({ owner_id: null }, lead)).toBe(false);
  });
});
