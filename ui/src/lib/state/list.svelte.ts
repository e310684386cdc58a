// The conversation list: which view, status and sort it shows, its page cache, the focused row and
// the multi-selection.
import { SvelteSet } from 'svelte/reactivity';
import { api } from '../api';
import type { ConversationRow, ConversationStatus, ListPage, ListRequest, SortKey, ViewKey } from '../bindings';
import { viewId } from '../views';
import { PAGE_SIZE, pagesFor } from '../virtual';
import { mark } from './startup';

export type ListQuery = { view: ViewKey; status: ConversationStatus | null; sort: SortKey };

/** The conversation list's rows: a page cache keyed by offset, fetched as the list scrolls. */
export class ListCache {
  total = $state(0);
  /** Bumped when any page changes, so rows re-read the cache. */
  version = $state(0);
  /** Whether the first page of the current view has arrived (for the empty state). */
  loaded = $state(false);
  private pages = new Map<number, ConversationRow[]>();
  private stale = new Set<number>();
  private inflight = new Map<number, Promise<void>>();
  /** Fetches queued behind one in flight whose answer may predate a change. */
  private again = new Map<number, Promise<void>>();
  private generation = 0;
  /** The rows on screen (set by the list component), refreshed first on changes. */
  visible = { start: 0, end: 0 };

  constructor(
    private request: () => ListQuery,
    private report: (error: unknown) => void,
  ) {}

  row(index: number): ConversationRow | undefined {
    void this.version;
    const offset = Math.floor(index / PAGE_SIZE) * PAGE_SIZE;
    return this.pages.get(offset)?.[index - offset];
  }

  /** Where a conversation is among the loaded rows (-1 if not loaded). */
  indexOf(id: string): number {
    for (const [offset, rows] of this.pages) {
      const at = rows.findIndex((row) => row.conversation.id === id);
      if (at >= 0) return offset + at;
    }
    return -1;
  }

  /** Forgets everything (the view, status or sort changed). */
  reset(): void {
    this.generation += 1;
    this.pages.clear();
    this.stale.clear();
    this.inflight.clear();
    this.again.clear();
    this.loaded = false;
    this.total = 0;
    this.version += 1;
  }

  /** Fetches the pages that hold rows [start, end) unless cached (and fresh) or on their way. */
  ensure(start: number, end: number): Promise<void> {
    const wanted = this.loaded ? pagesFor(start, Math.min(end, this.total)) : [0];
    return Promise.all(wanted.filter((o) => !this.pages.has(o) || this.stale.has(o)).map((o) => this.fetch(o))).then(() => {});
  }

  /** The cache changed: marks every page stale and fetches again the ones on screen. When no row is
   * on screen (the list is empty, or not drawn yet) that is the first page, whose answer carries the
   * new total: an empty list would otherwise never learn that rows arrived (the first sync after
   * signing in fills the cache after the list's first page was read). */
  refresh(): Promise<void> {
    for (const offset of this.pages.keys()) this.stale.add(offset);
    const onScreen = this.loaded ? pagesFor(this.visible.start, Math.min(this.visible.end, this.total)) : [];
    const wanted = onScreen.length > 0 ? onScreen : [0];
    return Promise.all(wanted.map((offset) => this.fetch(offset, true))).then(() => {});
  }

  /** Asks for one page. `fresh`: the answer must be newer than now, so a request already on its way
   * (which may have been read before the change) is followed by one more. */
  private fetch(offset: number, fresh = false): Promise<void> {
    const pending = this.inflight.get(offset);
    if (pending) {
      if (!fresh) return pending;
      let queued = this.again.get(offset);
      if (!queued) {
        const generation = this.generation;
        queued = pending.then(() => {
          if (generation !== this.generation) return;
          this.again.delete(offset);
          return this.fetch(offset);
        });
        this.again.set(offset, queued);
      }
      return queued;
    }
    const generation = this.generation;
    const { view, status, sort } = this.request();
    const promise = api
      .listConversations({ view, status, sort, offset, limit: PAGE_SIZE })
      .then((page) => {
        if (generation === this.generation) this.accept(offset, page);
      })
      .catch((error) => {
        if (generation === this.generation) this.report(error);
      })
      .finally(() => {
        if (this.inflight.get(offset) === promise) this.inflight.delete(offset);
      });
    this.inflight.set(offset, promise);
    return promise;
  }

  /** Takes a first page fetched before the list existed (the start screen) when it is the page this
   * list would ask for; false when it isn't. */
  seed(request: ListRequest, page: ListPage): boolean {
    const own = this.request();
    const same =
      request.offset === 0 &&
      request.limit === PAGE_SIZE &&
      request.status === own.status &&
      request.sort === own.sort &&
      viewId(request.view) === viewId(own.view);
    if (same) this.accept(0, page);
    return same;
  }

  private accept(offset: number, page: ListPage): void {
    if (!this.loaded) mark('list');
    this.pages.set(offset, page.rows);
    this.stale.delete(offset);
    if (page.total !== this.total) {
      this.total = page.total;
      // Pages past the end are gone.
      for (const key of [...this.pages.keys()]) if (key >= page.total && key !== 0) this.pages.delete(key);
    }
    this.loaded = true;
    this.version += 1;
  }

  /** Rows [from, to] inclusive, fetching pages that aren't cached (for Shift+click ranges). */
  async rowsBetween(from: number, to: number): Promise<ConversationRow[]> {
    await Promise.all(pagesFor(from, to + 1).filter((o) => !this.pages.has(o)).map((o) => this.fetch(o)));
    const rows: ConversationRow[] = [];
    for (let i = from; i <= to; i += 1) {
      const row = this.row(i);
      if (row) rows.push(row);
    }
    return rows;
  }
}

export type ListDeps = {
  report: (error: unknown) => void;
  /** The open conversation (a plain click opens one; with nothing selected it counts as selected). */
  openId: () => string | null;
  open: (id: string) => void;
  /** The status filter changed (the sidebar's counts are per status). */
  statusChanged: () => void;
};

/** What the list shows and where the agent is in it. */
export class ListState {
  view = $state.raw<ViewKey>({ type: 'mine' });
  statusFilter = $state<ConversationStatus | null>('open');
  sort = $state<SortKey>('newest');
  pages: ListCache;

  /** Multi-selection (conversation ids) and the anchor row for Shift+click. */
  selected = new SvelteSet<string>();
  anchor = $state(-1);
  focusedIndex = $state(0);
  private focusedId: string | null = null;

  constructor(private deps: ListDeps) {
    this.pages = new ListCache(() => ({ view: this.view, status: this.statusFilter, sort: this.sort }), deps.report);
  }

  /** A new session: back to the first row of an empty cache (the view and filters stay). */
  reset(): void {
    this.selected.clear();
    this.anchor = -1;
    this.focusedIndex = 0;
    this.focusedId = null;
    this.pages.reset();
  }

  /** The cache changed: re-read the rows on screen, keeping the focus on the same conversation. */
  async refresh(): Promise<void> {
    await this.pages.refresh();
    this.keepFocusOnRow();
  }

  setView(view: ViewKey): void {
    if (viewId(view) === viewId(this.view)) return;
    this.view = view;
    // The view exists to show what falls due first; the agent may still pick another order.
    if (view.type === 'breaching_soon') this.sort = 'breaching_soon';
    this.reload();
  }

  setStatusFilter(status: ConversationStatus | null): void {
    this.statusFilter = status;
    this.deps.statusChanged();
    this.reload();
  }

  setSort(sort: SortKey): void {
    this.sort = sort;
    this.reload();
  }

  private reload(): void {
    this.reset();
    this.pages.refresh();
  }

  /** After rows moved (new conversations on top), keep the focus on the same conversation. */
  private keepFocusOnRow(): void {
    if (!this.focusedId) return;
    const at = this.pages.indexOf(this.focusedId);
    if (at >= 0 && at !== this.focusedIndex) this.focusedIndex = at;
  }

  focusRow(index: number): void {
    const clamped = Math.max(0, Math.min(index, this.pages.total - 1));
    this.focusedIndex = clamped;
    this.focusedId = this.pages.row(clamped)?.conversation.id ?? null;
  }

  /** Focuses the row showing `id`, when it is loaded. */
  focusConversation(id: string): void {
    const at = this.pages.indexOf(id);
    if (at >= 0) this.focusRow(at);
  }

  focusedRow(): ConversationRow | undefined {
    return this.pages.row(this.focusedIndex);
  }

  move(delta: number): void {
    if (this.pages.total === 0) return;
    this.focusRow(this.focusedIndex + delta);
  }

  /** A click on a row: plain opens, Ctrl/Cmd toggles, Shift selects a range. */
  async clickRow(index: number, id: string, modifiers: { toggle: boolean; range: boolean }): Promise<void> {
    if (modifiers.range) {
      const anchor = this.anchor >= 0 ? this.anchor : this.focusedIndex;
      const [from, to] = anchor <= index ? [anchor, index] : [index, anchor];
      const rows = await this.pages.rowsBetween(from, to);
      for (const row of rows) this.selected.add(row.conversation.id);
      this.focusRow(index);
      return;
    }
    if (modifiers.toggle) {
      const openId = this.deps.openId();
      if (this.selected.size === 0 && openId && openId !== id) this.selected.add(openId);
      if (this.selected.has(id)) this.selected.delete(id);
      else this.selected.add(id);
      this.anchor = index;
      this.focusRow(index);
      return;
    }
    this.selected.clear();
    this.anchor = index;
    this.focusRow(index);
    this.deps.open(id);
  }

  toggleFocusedSelection(): void {
    const row = this.focusedRow();
    if (!row) return;
    const id = row.conversation.id;
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.anchor = this.focusedIndex;
  }

  clearSelection(): void {
    this.selected.clear();
  }

  /** Whether the row is "selected" for aria-selected: in the multi-selection, or open when there is none. */
  isSelected(id: string): boolean {
    return this.selected.size > 0 ? this.selected.has(id) : this.deps.openId() === id;
  }
}
