import { describe, expect, it } from 'vitest';
import { BOARD_COLUMNS, columnForDigit, columnOf, movePlan, neighbour } from './board';
import { conversation } from './state/testing';

const escalation = { at: 1, by: { type: 'sla' as const }, note: null };

describe('columnOf', () => {
  it('puts every unresolved, unsnoozed conversation in exactly one column, escalated first', () => {
    expect(columnOf(conversation('a', { assignee_id: null }))).toBe('new');
    expect(columnOf(conversation('a'))).toBe('assigned');
    expect(columnOf(conversation('a', { status: 'pending' }))).toBe('waiting');
    expect(columnOf(conversation('a', { status: 'pending', escalation }))).toBe('escalated');
    expect(columnOf(conversation('a', { status: 'snoozed', escalation }))).toBe('escalated');
    expect(columnOf(conversation('a', { status: 'snoozed' }))).toBeNull();
    expect(columnOf(conversation('a', { status: 'resolved', escalation }))).toBeNull();
  });
});

describe('movePlan', () => {
  it('New → Assigned claims; Assigned → New unassigns', () => {
    expect(movePlan(conversation('a', { assignee_id: null }), 'assigned')).toEqual([{ type: 'claim' }]);
    expect(movePlan(conversation('a'), 'new')).toEqual([{ type: 'unassign' }]);
  });

  it('Waiting is pending and leaving it opens', () => {
    expect(movePlan(conversation('a'), 'waiting')).toEqual([{ type: 'status', status: 'pending' }]);
    expect(movePlan(conversation('a', { status: 'pending', assignee_id: null }), 'assigned')).toEqual([
      { type: 'status', status: 'open' },
      { type: 'claim' },
    ]);
  });

  it('escalating is one step, and leaving Escalated de-escalates first', () => {
    expect(movePlan(conversation('a', { status: 'pending' }), 'escalated')).toEqual([{ type: 'escalate', escalated: true }]);
    expect(movePlan(conversation('a', { escalation, assignee_id: null }), 'new')).toEqual([{ type: 'escalate', escalated: false }]);
    expect(movePlan(conversation('a', { escalation, status: 'pending' }), 'assigned')).toEqual([
      { type: 'escalate', escalated: false },
      { type: 'status', status: 'open' },
    ]);
  });

  it('a card dropped on its own column does nothing', () => {
    for (const column of BOARD_COLUMNS) {
      const c = { new: conversation('a', { assignee_id: null }), assigned: conversation('a'), waiting: conversation('a', { status: 'pending' }), escalated: conversation('a', { escalation }) }[column];
      expect(movePlan(c, column)).toEqual([]);
    }
  });
});

describe('keys', () => {
  it('arrows follow the reading direction', () => {
    expect(neighbour('new', 'ArrowRight', false)).toBe('assigned');
    expect(neighbour('new', 'ArrowRight', true)).toBeNull();
    expect(neighbour('new', 'ArrowLeft', true)).toBe('assigned');
    expect(neighbour('escalated', 'ArrowRight', false)).toBeNull();
    expect(neighbour('escalated', 'ArrowRight', true)).toBe('waiting');
  });

  it('digits name the columns 1 to 4', () => {
    expect(['1', '2', '3', '4', '5', 'x'].map(columnForDigit)).toEqual(['new', 'assigned', 'waiting', 'escalated', null, null]);
  });
});
