// The app's state and everything that changes it: one place that talks to `api` and reacts to
// the shell's events. Components read these fields and call these methods.
import { SvelteSet } from 'svelte/reactivity';
import { api, ApiError, hasBackend, onDragDrop, onUiEvent, type DragDrop } from './api';
import type {
  AppInfo,
  ConversationRow,
  ConversationStatus,
  Directory,
  EntityKind,
  InboxStart,
  ListPage,
  ListRequest,
  Priority,
  SendKind,
  SidebarEntry,
  SortKey,
  StagedFile,
  Status,
  Thread,
  UiEvent,
  ViewKey,
} from './bindings';
import { checkAttachment, toBase64 } from './composer';
import { errorText } from './errors';
import { t } from './i18n';
import { snoozeUntil, type CommandAction, type SnoozePreset } from './palette';
import { toasts } from './toasts.svelte';
import { sameView, viewId } from './views';
import { PAGE_SIZE, pagesFor } from './virtual';

export type PickerKind = 'assign' | 'team' | 'label' | 'snooze' | 'priority';
export type Overlay = { kind: 'palette' } | { kind: 'help' } | { kind: 'picker'; picker: PickerKind; ids: string[] };

export type StagedItem = {
  key: string;
  name: string;
  size: number;
  state: 'uploading' | 'ready';
  file: StagedFile | null;
};

const ALL_KINDS: EntityKind[] = [
  'agent',
  'team',
  'inbox',
  'contact',
  'conversation',
  'message',
  'label',
  'canned_response',
  'mention',
  'pin',
  'read_marker',
];
const DIRECTORY_KINDS: EntityKind[] = ['agent', 'team', 'inbox', 'label', 'canned_response'];
const SIDEBAR_KINDS: EntityKind[] = ['conversation', 'mention', 'pin', 'read_marker', 'label', 'team', 'inbox', 'agent'];
const LIST_KINDS: EntityKind[] = ['conversation', 'contact', 'message', 'pin', 'read_marker', 'agent', 'inbox', 'mention', 'label'];
const THREAD_KINDS: EntityKind[] = ['conversation', 'contact', 'message', 'pin', 'agent', 'inbox', 'label'];

/** The conversation list: a page cache keyed by offset, fetched as the list scrolls. */
class ListCache {
  total = $state(0);
  /** Bumped when any page changes, so rows re-read the cache. */
  version = $state(0);
  /** Whether the first page of the current view has arrived (for the empty state). */
  loaded = $state(false);
  private pages = new Map<number, ConversationRow[]>();
  private stale = new Set<number>();
  private inflight = new Map<number, Promise<void>>();
  private generation = 0;
  /** The rows on screen (set by the list component), refreshed first on changes. */
  visible = { start: 0, end: 0 };

  constructor(private request: () => { view: ViewKey; status: ConversationStatus | null; sort: SortKey }) {}

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
    this.loaded = false;
    this.total = 0;
    this.version += 1;
  }

  /** Fetches the pages that hold rows [start, end) unless cached (and fresh) or on their way. */
  ensure(start: number, end: number): Promise<void> {
    const wanted = this.loaded ? pagesFor(start, Math.min(end, this.total)) : [0];
    return Promise.all(wanted.filter((o) => !this.pages.has(o) || this.stale.has(o)).map((o) => this.fetch(o))).then(() => {});
  }

  /** Marks every page stale and refetches the ones on screen. */
  refresh(): Promise<void> {
    for (const offset of this.pages.keys()) this.stale.add(offset);
    if (!this.loaded) return this.fetch(0);
    return this.ensure(this.visible.start, this.visible.end);
  }

  private fetch(offset: number): Promise<void> {
    const pending = this.inflight.get(offset);
    if (pending) return pending;
    const generation = this.generation;
    const { view, status, sort } = this.request();
    const promise = api
      .listConversations({ view, status, sort, offset, limit: PAGE_SIZE })
      .then((page) => {
        if (generation === this.generation) this.accept(offset, page);
      })
      .catch((error) => {
        if (generation === this.generation) reportError(error);
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
    if (!this.loaded) performance.mark('switchboard:list');
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

/** Runs `work` once the frame being built now is on screen: a frame's `requestAnimationFrame` runs
 * before its style, layout and paint, the next one after the compositor has shown it, and the
 * timeout lets what that callback started (the start-up mark) go out first. A hidden window draws
 * no frames, so after a second it runs anyway. */
export function afterFirstFrame(work: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    work();
  };
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(once)));
  setTimeout(once, 1000);
}

function reportError(error: unknown): void {
  const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
  if (failure.code === 'signed_out') return;
  toasts.show(errorText(failure.code, failure.message, app.directory), 'error');
}

class AppState {
  phase = $state<'loading' | 'signin' | 'ready' | 'nobackend'>('loading');
  info = $state.raw<AppInfo | null>(null);
  signedOutReason = $state<string | null>(null);
  /** Signing in to a further account while one is open (the form can be cancelled). */
  addingAccount = $state(false);

  directory = $state.raw<Directory | null>(null);
  status = $state.raw<Status | null>(null);
  /** Counts `status` events, so an older `status()` answer never overwrites a newer event. */
  private statusEvents = 0;
  sidebar = $state.raw<SidebarEntry[]>([]);

  view = $state.raw<ViewKey>({ type: 'mine' });
  statusFilter = $state<ConversationStatus | null>('open');
  sort = $state<SortKey>('newest');
  list = new ListCache(() => ({ view: this.view, status: this.statusFilter, sort: this.sort }));

  /** Multi-selection (conversation ids) and the anchor row for Shift+click. */
  selected = new SvelteSet<string>();
  anchor = $state(-1);
  focusedIndex = $state(0);

  openId = $state<string | null>(null);
  thread = $state.raw<Thread | null>(null);
  threadLoading = $state(false);
  /** Colleagues typing / viewing the open conversation, live. */
  typing = new SvelteSet<string>();
  viewing = new SvelteSet<string>();
  online = new SvelteSet<string>();

  overlay = $state.raw<Overlay | null>(null);
  contactPanel = $state(true);
  composeRequest = $state<{ kind: SendKind; n: number } | null>(null);
  /** Open the quick-reply palette in the composer (Ctrl/Cmd+/ from outside it); the composer consumes it. */
  quickRequest = $state(false);
  staged = $state<Record<string, StagedItem[]>>({});
  /** What each composer last held, so switching back shows it even before the backend's copy is read. */
  drafts = new Map<string, { kind: SendKind; body: string }>();
  dragging = $state(false);

  /** The clock relative times are computed from (ticks every 30 s). */
  now = $state(Date.now());

  private pendingKinds = new Set<EntityKind>();
  private changeTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private firstPaintSent = false;

  // -------------------------------------------------------------------------------------------
  // Start-up and accounts

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    performance.mark('switchboard:script');
    if (!hasBackend()) {
      this.phase = 'nobackend';
      return;
    }
    setInterval(() => (this.now = Date.now()), 30_000);
    const stored = localStorage.getItem('switchboard.contactPanel');
    this.contactPanel = stored === null ? window.innerWidth >= 1360 : stored === '1';
    afterFirstFrame(() => onDragDrop((event) => this.handleDragDrop(event)).catch(() => {}));
    // Every round trip before the first frame is start-up time. The first screen's data was asked
    // for by index.html before this bundle loaded; the event listener goes on its way beside it.
    const listening = onUiEvent((event) => this.handleEvent(event));
    let inbox: InboxStart | null = null;
    try {
      const start = await api.startScreen();
      performance.mark('switchboard:start-screen');
      this.info = start.info;
      inbox = start.inbox;
    } catch (error) {
      reportError(error);
    }
    if (this.info?.signed_in) await this.enter(inbox);
    else this.phase = 'signin';
    try {
      await listening;
    } catch (error) {
      reportError(error);
    }
    // One refresh of everything: what changed before the listener was there (the first sync, the
    // connection), and the sidebar's counts, which the start screen doesn't carry. After the first
    // frame: it re-renders the list, and landing while that frame was being drawn it delayed it.
    afterFirstFrame(() => {
      this.handleEvent({ type: 'cache_changed', kinds: ALL_KINDS });
      if (this.phase === 'ready' && this.statusEvents === 0) {
        api
          .status()
          .then((status) => {
            if (this.statusEvents === 0) this.status = status;
          })
          .catch(() => {});
      }
    });
  }

  /** Loads everything the inbox shows after signing in (or switching accounts); `start` is the
   * start screen's answer, which saves asking again. */
  async enter(start: InboxStart | null = null): Promise<void> {
    this.signedOutReason = null;
    this.addingAccount = false;
    this.resetSession();
    if (start && this.list.seed(start.request, start.page)) {
      this.directory = start.directory;
      this.status = start.status;
      // The sidebar comes with `start`'s catch-up, a moment after the first frame.
      this.phase = 'ready';
      return;
    }
    // The first list page is asked for with the directory and awaited before the workspace shows, so
    // the first frame has its rows: one round trip and one layout rather than two of each.
    const firstPage = this.list.refresh();
    try {
      const eventsBefore = this.statusEvents;
      const [directory, status] = await Promise.all([api.directory(), api.status()]);
      performance.mark('switchboard:directory');
      this.directory = directory;
      // Status is only sent when it changes: a newer event must win over this answer.
      if (this.statusEvents === eventsBefore) this.status = status;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'signed_out') {
        this.phase = 'signin';
        return;
      }
      reportError(error);
    }
    await firstPage;
    this.phase = 'ready';
    this.loadSidebar();
  }

  private resetSession(): void {
    this.selected.clear();
    this.anchor = -1;
    this.focusedIndex = 0;
    this.openId = null;
    this.thread = null;
    this.typing.clear();
    this.viewing.clear();
    this.overlay = null;
    this.staged = {};
    this.drafts.clear();
    this.list.reset();
  }

  private signingIn = false;

  async signIn(serverUrl: string, email: string, password: string): Promise<void> {
    this.signingIn = true;
    try {
      this.info = await api.signIn(serverUrl, email, password);
      await this.enter();
    } finally {
      this.signingIn = false;
    }
  }

  async signOut(): Promise<void> {
    try {
      this.info = await api.signOut();
    } catch (error) {
      reportError(error);
      return;
    }
    this.resetSession();
    if (this.info.signed_in) await this.enter();
    else this.phase = 'signin';
  }

  async switchAccount(key: string): Promise<void> {
    try {
      this.info = await api.switchAccount(key);
      await this.enter();
    } catch (error) {
      reportError(error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Events from the shell

  handleEvent(event: UiEvent): void {
    switch (event.type) {
      case 'cache_changed':
        for (const kind of event.kinds) this.pendingKinds.add(kind);
        if (this.changeTimer === null) this.changeTimer = setTimeout(() => this.applyChanges(), 50);
        break;
      case 'status': {
        const { connection, pending, last_sync_at, do_not_disturb } = event;
        this.statusEvents += 1;
        this.status = { connection, pending, last_sync_at, do_not_disturb };
        break;
      }
      case 'rejected':
        toasts.show(errorText(event.code, event.message, this.directory, event.current_assignee_id), 'error');
        break;
      case 'typing':
        if (event.conversation_id === this.openId && event.agent_id !== this.directory?.me.id) {
          if (event.active) this.typing.add(event.agent_id);
          else this.typing.delete(event.agent_id);
        }
        break;
      case 'viewing':
        if (event.conversation_id === this.openId && event.agent_id !== this.directory?.me.id) {
          if (event.active) this.viewing.add(event.agent_id);
          else this.viewing.delete(event.agent_id);
        }
        break;
      case 'presence':
        if (event.online) this.online.add(event.agent_id);
        else this.online.delete(event.agent_id);
        break;
      case 'signed_out':
        this.resetSession();
        this.signedOutReason = event.reason;
        this.phase = 'signin';
        api.appInfo().then((info) => (this.info = info)).catch(() => {});
        break;
      case 'open_conversation':
        this.openFromOutside(event.conversation_id);
        break;
    }
  }

  private async applyChanges(): Promise<void> {
    this.changeTimer = null;
    const kinds = [...this.pendingKinds];
    this.pendingKinds.clear();
    if (this.phase !== 'ready') {
      // A session opened in the background (start-up resume, automatic sign-in).
      if (this.phase === 'signin' && !this.addingAccount && !this.signingIn && kinds.includes('conversation')) {
        const info = await api.appInfo().catch(() => null);
        if (info?.signed_in && this.phase === 'signin' && !this.signingIn) {
          this.info = info;
          await this.enter();
        }
      }
      return;
    }
    const touches = (set: EntityKind[]) => kinds.some((kind) => set.includes(kind));
    if (touches(DIRECTORY_KINDS)) api.directory().then((d) => (this.directory = d)).catch(reportError);
    if (touches(SIDEBAR_KINDS)) this.loadSidebar();
    if (touches(LIST_KINDS)) this.list.refresh().then(() => this.keepFocusOnRow());
    if (this.openId && touches(THREAD_KINDS)) this.reloadThread(kinds.includes('message'));
  }

  private focusedId: string | null = null;

  /** After rows moved (new conversations on top), keep the focus on the same conversation. */
  private keepFocusOnRow(): void {
    if (!this.focusedId) return;
    const at = this.list.indexOf(this.focusedId);
    if (at >= 0 && at !== this.focusedIndex) this.focusedIndex = at;
  }

  async loadSidebar(): Promise<void> {
    try {
      this.sidebar = await api.sidebar(this.statusFilter);
      performance.mark('switchboard:sidebar');
    } catch (error) {
      reportError(error);
    }
  }

  count(view: ViewKey): number | null {
    return this.sidebar.find((entry) => sameView(entry.view, view))?.count ?? null;
  }

  // -------------------------------------------------------------------------------------------
  // Views and the list

  setView(view: ViewKey): void {
    if (viewId(view) === viewId(this.view)) return;
    this.view = view;
    this.reloadList();
  }

  setStatusFilter(status: ConversationStatus | null): void {
    this.statusFilter = status;
    this.loadSidebar();
    this.reloadList();
  }

  setSort(sort: SortKey): void {
    this.sort = sort;
    this.reloadList();
  }

  private reloadList(): void {
    this.selected.clear();
    this.anchor = -1;
    this.focusedIndex = 0;
    this.focusedId = null;
    this.list.reset();
    this.list.refresh();
  }

  focusRow(index: number): void {
    const clamped = Math.max(0, Math.min(index, this.list.total - 1));
    this.focusedIndex = clamped;
    this.focusedId = this.list.row(clamped)?.conversation.id ?? null;
  }

  move(delta: number): void {
    if (this.list.total === 0) return;
    this.focusRow(this.focusedIndex + delta);
  }

  openFocused(): void {
    const row = this.list.row(this.focusedIndex);
    if (row) this.open(row.conversation.id);
  }

  /** A click on a row: plain opens, Ctrl/Cmd toggles, Shift selects a range. */
  async clickRow(index: number, id: string, modifiers: { toggle: boolean; range: boolean }): Promise<void> {
    if (modifiers.range) {
      const anchor = this.anchor >= 0 ? this.anchor : this.focusedIndex;
      const [from, to] = anchor <= index ? [anchor, index] : [index, anchor];
      const rows = await this.list.rowsBetween(from, to);
      for (const row of rows) this.selected.add(row.conversation.id);
      this.focusRow(index);
      return;
    }
    if (modifiers.toggle) {
      if (this.selected.size === 0 && this.openId && this.openId !== id) this.selected.add(this.openId);
      if (this.selected.has(id)) this.selected.delete(id);
      else this.selected.add(id);
      this.anchor = index;
      this.focusRow(index);
      return;
    }
    this.selected.clear();
    this.anchor = index;
    this.focusRow(index);
    this.open(id);
  }

  toggleFocusedSelection(): void {
    const row = this.list.row(this.focusedIndex);
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
    return this.selected.size > 0 ? this.selected.has(id) : this.openId === id;
  }

  /** Reports the first frame with the list once it is on screen: a frame's `requestAnimationFrame`
   * runs before that frame's style, layout and paint, and the next one only after the compositor has
   * shown it. The benchmark's hello-world reports its first frame the same way. */
  markFirstPaint(): void {
    if (this.firstPaintSent) return;
    this.firstPaintSent = true;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const marks = performance
          .getEntriesByType('mark')
          .filter((mark) => mark.name.startsWith('switchboard:'))
          .map((mark): [string, number] => [mark.name.slice('switchboard:'.length), mark.startTime]);
        api.firstPaint(performance.now(), marks).catch(() => {});
      }),
    );
  }

  // -------------------------------------------------------------------------------------------
  // The thread

  async open(id: string): Promise<void> {
    if (this.openId === id) {
      this.reloadThread(true);
      return;
    }
    const previous = this.openId;
    this.openId = id;
    this.typing.clear();
    this.viewing.clear();
    if (previous) api.closeConversation(previous).catch(() => {});
    if (this.thread?.conversation.id !== id) this.threadLoading = true;
    try {
      const thread = await api.openConversation(id);
      if (this.openId !== id) return;
      this.setThread(thread);
    } catch (error) {
      if (this.openId === id) {
        this.openId = null;
        this.thread = null;
      }
      reportError(error);
    } finally {
      if (this.openId === id || this.openId === null) this.threadLoading = false;
    }
  }

  closeThread(): void {
    if (this.openId) api.closeConversation(this.openId).catch(() => {});
    this.openId = null;
    this.thread = null;
  }

  private setThread(thread: Thread): void {
    this.thread = thread;
    this.typing.clear();
    for (const id of thread.typing) this.typing.add(id);
    this.viewing.clear();
    for (const id of thread.viewing) this.viewing.add(id);
  }

  private async reloadThread(markRead: boolean): Promise<void> {
    const id = this.openId;
    if (!id) return;
    try {
      const focused = typeof document !== 'undefined' && document.hasFocus();
      const thread = markRead && focused ? await api.openConversation(id) : await api.thread(id);
      if (this.openId === id) this.setThread(thread);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found' && this.openId === id) {
        this.openId = null;
        this.thread = null;
      }
      reportError(error);
    }
  }

  private async openFromOutside(id: string): Promise<void> {
    this.overlay = null;
    this.selected.clear();
    await this.open(id);
    const at = this.list.indexOf(id);
    if (at >= 0) this.focusRow(at);
  }

  /** Opens a conversation found elsewhere (search, the contact panel). */
  openElsewhere(id: string): void {
    this.openFromOutside(id);
  }

  toggleContactPanel(): void {
    this.contactPanel = !this.contactPanel;
    localStorage.setItem('switchboard.contactPanel', this.contactPanel ? '1' : '0');
  }

  compose(kind: SendKind): void {
    if (!this.openId) {
      const row = this.list.row(this.focusedIndex);
      if (!row) return;
      this.open(row.conversation.id);
    }
    this.composeRequest = { kind, n: (this.composeRequest?.n ?? 0) + 1 };
    this.overlay = null;
  }

  // -------------------------------------------------------------------------------------------
  // Actions on conversations

  /** What an action applies to: the multi-selection, else the open conversation, else the focused row. */
  targets(): string[] {
    if (this.selected.size > 0) return [...this.selected];
    if (this.openId) return [this.openId];
    const row = this.list.row(this.focusedIndex);
    return row ? [row.conversation.id] : [];
  }

  private withTargets(run: (ids: string[]) => Promise<unknown>, ids = this.targets()): void {
    if (ids.length === 0) {
      toasts.show(t('toast.noTarget'));
      return;
    }
    run(ids).catch(reportError);
  }

  /** The conversation one target refers to, if it's on screen (for current labels, pinned…). */
  conversationFor(id: string) {
    if (this.thread?.conversation.id === id) return this.thread.conversation;
    const at = this.list.indexOf(id);
    return at >= 0 ? this.list.row(at)?.conversation : undefined;
  }

  pinnedFor(id: string): boolean {
    if (this.thread?.conversation.id === id) return this.thread.pinned;
    const at = this.list.indexOf(id);
    return at >= 0 ? (this.list.row(at)?.pinned ?? false) : false;
  }

  setStatus(status: ConversationStatus, ids?: string[]): void {
    this.withTargets((targets) => api.setStatus(targets, status, null), ids);
  }

  snooze(preset: SnoozePreset, ids?: string[]): void {
    this.withTargets((targets) => api.setStatus(targets, 'snoozed', snoozeUntil(preset, Date.now())), ids);
  }

  assign(agentId: string | null, ids?: string[]): void {
    this.withTargets((targets) => api.assign(targets, agentId, false), ids);
  }

  claim(ids?: string[]): void {
    this.withTargets((targets) => api.assign(targets, null, true), ids);
  }

  setTeam(teamId: string | null, ids?: string[]): void {
    this.withTargets((targets) => api.setTeam(targets, teamId), ids);
  }

  editLabel(name: string, add: boolean, ids?: string[]): void {
    this.withTargets((targets) => api.editLabels(targets, add ? [name] : [], add ? [] : [name]), ids);
  }

  setPriority(priority: Priority, ids?: string[]): void {
    this.withTargets((targets) => api.setPriority(targets, priority), ids);
  }

  togglePin(ids?: string[]): void {
    this.withTargets(async (targets) => {
      // Several: pin them all unless all are pinned already.
      const pin = !targets.every((id) => this.pinnedFor(id));
      for (const id of targets) await api.setPinned(id, pin);
    }, ids);
  }

  setPinned(pinned: boolean, ids?: string[]): void {
    this.withTargets(async (targets) => {
      for (const id of targets) await api.setPinned(id, pinned);
    }, ids);
  }

  markUnread(ids?: string[]): void {
    this.withTargets(async (targets) => {
      for (const id of targets) await api.markUnread(id);
      // Reading it again straight away would undo it: leave the thread.
      if (this.openId && targets.includes(this.openId)) this.closeThread();
    }, ids);
  }

  openPicker(picker: PickerKind): void {
    const ids = this.targets();
    if (ids.length === 0) {
      toasts.show(t('toast.noTarget'));
      return;
    }
    this.overlay = { kind: 'picker', picker, ids };
  }

  async setDoNotDisturb(on: boolean): Promise<void> {
    try {
      this.status = await api.setDoNotDisturb(on);
    } catch (error) {
      reportError(error);
    }
  }

  async reconnect(): Promise<void> {
    try {
      await api.reconnect();
    } catch (error) {
      reportError(error);
    }
  }

  /** Runs a palette command. */
  run(action: CommandAction, ids: string[]): void {
    switch (action.type) {
      case 'assign':
        return this.assign(action.agentId, ids);
      case 'claim':
        return this.claim(ids);
      case 'team':
        return this.setTeam(action.teamId, ids);
      case 'label':
        return this.editLabel(action.name, action.add, ids);
      case 'status':
        return this.setStatus(action.status, ids);
      case 'snooze':
        return this.snooze(action.preset, ids);
      case 'priority':
        return this.setPriority(action.priority, ids);
      case 'pin':
        return this.setPinned(action.pinned, ids);
      case 'unread':
        return this.markUnread(ids);
      case 'view':
        return this.setView(action.view);
      case 'compose':
        return this.compose(action.kind);
      case 'help':
        this.overlay = { kind: 'help' };
        return;
      case 'dnd':
        this.setDoNotDisturb(action.on);
        return;
      case 'contactPanel':
        return this.toggleContactPanel();
      case 'signOut':
        this.signOut();
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Attachments

  stagedFor(conversationId: string): StagedItem[] {
    return this.staged[conversationId] ?? [];
  }

  clearStaged(conversationId: string): void {
    this.staged[conversationId] = [];
  }

  removeStaged(conversationId: string, key: string): void {
    this.staged[conversationId] = this.stagedFor(conversationId).filter((item) => item.key !== key);
  }

  private inboxOf(conversationId: string) {
    const inboxId = this.conversationFor(conversationId)?.inbox_id ?? this.thread?.conversation.inbox_id;
    return this.directory?.inboxes.find((inbox) => inbox.id === inboxId) ?? this.thread?.inbox ?? null;
  }

  /** Reads files picked or pasted in the browser and stages them through the shell. */
  async attachFiles(conversationId: string, files: File[]): Promise<void> {
    const inbox = this.inboxOf(conversationId);
    for (const file of files) {
      const problem = checkAttachment(file, inbox);
      if (problem) {
        toasts.show(problem, 'error');
        continue;
      }
      const key = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const name = file.name || 'pasted.png';
      this.staged[conversationId] = [...this.stagedFor(conversationId), { key, name, size: file.size, state: 'uploading', file: null }];
      try {
        const data = toBase64(new Uint8Array(await file.arrayBuffer()));
        const staged = await api.stagePasted(conversationId, name, data);
        this.staged[conversationId] = this.stagedFor(conversationId).map((item) =>
          item.key === key ? { ...item, state: 'ready', file: staged, size: staged.size, name: staged.file_name } : item,
        );
      } catch (error) {
        this.removeStaged(conversationId, key);
        if (error instanceof ApiError) reportError(error);
        else toasts.show(t('composer.readFailed', { name }), 'error');
      }
    }
  }

  private async handleDragDrop(event: DragDrop): Promise<void> {
    if (event.type === 'enter' || event.type === 'over') {
      this.dragging = this.openId !== null;
      return;
    }
    this.dragging = false;
    if (event.type !== 'drop' || !this.openId || event.paths.length === 0) return;
    const conversationId = this.openId;
    const key = `drop-${Date.now()}`;
    const placeholders: StagedItem[] = event.paths.map((path, i) => ({
      key: `${key}-${i}`,
      name: path.split(/[\\/]/).pop() ?? path,
      size: 0,
      state: 'uploading',
      file: null,
    }));
    this.staged[conversationId] = [...this.stagedFor(conversationId), ...placeholders];
    try {
      const files = await api.stageFiles(conversationId, event.paths);
      const ready: StagedItem[] = files.map((file) => ({ key: file.id, name: file.file_name, size: file.size, state: 'ready', file }));
      this.staged[conversationId] = [...this.stagedFor(conversationId).filter((item) => !item.key.startsWith(key)), ...ready];
    } catch (error) {
      this.staged[conversationId] = this.stagedFor(conversationId).filter((item) => !item.key.startsWith(key));
      reportError(error);
    }
  }
}

export const app = new AppState();
export { reportError };
