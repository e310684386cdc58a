// The triage board: four columns, each a virtualised list read page by page from the cache
// (`ViewKey` `board`), with its count; and moving a card, which queues the move's real actions
// (`board.ts::movePlan`) in the outbox like any other action, so it works offline and shows at once.
import { api } from '../api';
import type { BoardColumnKey, ConversationRow, ListRequest } from '../bindings';
import { BOARD_COLUMNS, columnOf, movePlan, type MoveStep } from '../board';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';
import { PAGE_SIZE, pagesFor } from '../virtual';

export type BoardHost = {
  report: (error: unknown) => void;
};

type Column = { total: number; rows: (ConversationRow | undefined)[]; loaded: Set<number> };

function emptyColumn(): Column {
  return { total: 0, rows: [], loaded: new Set() };
}

function emptyColumns(): Record<BoardColumnKey, Column> {
  return { new: emptyColumn(), assigned: emptyColumn(), waiting: emptyColumn(), escalated: emptyColumn() };
}

export class BoardState {
  columns = $state.raw<Record<BoardColumnKey, Column>>(emptyColumns());
  /** The focused card: its column and place (keyboard moves act on it). */
  focus = $state<{ column: BoardColumnKey; index: number } | null>(null);
  opened = false;

  constructor(private host: BoardHost) {}

  request(column: BoardColumnKey, offset: number): ListRequest {
    return { view: { type: 'board', id: column }, status: null, sort: 'waiting_longest', offset, limit: PAGE_SIZE };
  }

  /** Opens the board: the first page of every column. */
  async open(): Promise<void> {
    this.opened = true;
    this.columns = emptyColumns();
    await Promise.all(BOARD_COLUMNS.map((column) => this.loadPage(column, 0)));
    if (!this.focus) {
      const first = BOARD_COLUMNS.find((column) => this.columns[column].total > 0);
      if (first) this.focus = { column: first, index: 0 };
    }
  }

  close(): void {
    this.opened = false;
  }

  /** Reads again every page a column has shown (after a change in the cache). */
  async refresh(): Promise<void> {
    if (!this.opened) return;
    await Promise.all(
      BOARD_COLUMNS.map(async (column) => {
        const pages = [...this.columns[column].loaded];
        await Promise.all((pages.length ? pages : [0]).map((offset) => this.loadPage(column, offset)));
      }),
    );
    const focus = this.focus;
    if (focus) {
      const total = this.columns[focus.column].total;
      this.focus = total === 0 ? null : { column: focus.column, index: Math.min(focus.index, total - 1) };
    }
  }

  /** Makes sure rows [start, end) of a column are loaded. */
  ensure(column: BoardColumnKey, start: number, end: number): void {
    for (const offset of pagesFor(start, end)) {
      if (!this.columns[column].loaded.has(offset)) void this.loadPage(column, offset);
    }
  }

  row(column: BoardColumnKey, index: number): ConversationRow | undefined {
    return this.columns[column].rows[index];
  }

  private async loadPage(column: BoardColumnKey, offset: number): Promise<void> {
    try {
      const page = await api.listConversations(this.request(column, offset));
      const current = this.columns[column];
      const rows = current.rows.slice(0, page.total);
      rows.length = page.total;
      page.rows.forEach((row, i) => (rows[offset + i] = row));
      const loaded = new Set([...current.loaded].filter((o) => o < page.total));
      loaded.add(offset);
      this.columns = { ...this.columns, [column]: { total: page.total, rows, loaded } };
    } catch (error) {
      this.host.report(error);
    }
  }

  /**
   * Moves a card: queues the move's actions in order (each through the outbox). Nothing to do
   * when it is already there. Answers the steps it queued.
   */
  async move(row: ConversationRow, to: BoardColumnKey): Promise<MoveStep[]> {
    const steps = movePlan(row.conversation, to);
    const ids = [row.conversation.id];
    try {
      for (const step of steps) {
        switch (step.type) {
          case 'claim':
            await api.assign(ids, null, true);
            break;
          case 'unassign':
            await api.assign(ids, null, false);
            break;
          case 'status':
            await api.setStatus(ids, step.status, null);
            break;
          case 'escalate':
            await api.setEscalated(ids, step.escalated, null);
            break;
        }
      }
    } catch (error) {
      this.host.report(error);
      return steps;
    }
    if (steps.length > 0) {
      toasts.show(t('board.moved', { column: t(`board.columns.${to}`) }));
      // Follow the card: the column it went to, at the top until the list says where.
      this.focus = { column: to, index: 0 };
      await this.refresh();
      const at = this.columns[to].rows.findIndex((r) => r?.conversation.id === row.conversation.id);
      if (at >= 0) this.focus = { column: to, index: at };
    }
    return steps;
  }

  /** Which column a row shows in now (its displayed version). */
  columnOfRow(row: ConversationRow): BoardColumnKey | null {
    return columnOf(row.conversation);
  }
}
