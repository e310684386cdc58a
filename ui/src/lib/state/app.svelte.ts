// The app: the feature states composed, the shell's events routed to them, and the little state
// that belongs to the window (overlays, the contact panel, requests to the composer, the clock).
// Components import `app` and read or call its parts.
import { AppLockState } from './appLock.svelte';
import { ApiError, hasBackend, onDragDrop, onUiEvent } from '../api';
import type { Conversation, EntityKind, Inbox, SendKind, UiEvent, ViewKey } from '../bindings';
import { errorText } from '../errors';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';
import { Actions } from './actions';
import { Attachments } from './attachments.svelte';
import { BoardState } from './board.svelte';
import { FilterBar } from './filters.svelte';
import { WorkloadState } from './workload.svelte';
import { ALL_KINDS, DIRECTORY_KINDS, LIST_KINDS, QUICK_REPLY_KINDS, RULES_KINDS, SIDEBAR_KINDS, THREAD_KINDS, touches } from './kinds';
import { ListState } from './list.svelte';
import { ReportsState } from './reports.svelte';
import { Session } from './session.svelte';
import { SettingsState } from './settings.svelte';
import { afterFirstFrame, mark, reportFirstPaint } from './startup';
import { ThreadState } from './thread.svelte';

export type PickerKind = 'assign' | 'team' | 'label' | 'snooze' | 'priority';
export type Overlay =
  | { kind: 'palette' }
  | { kind: 'newConversation' }
  /** A contact's profile (`contactId` null: a new contact's form). */
  | { kind: 'contact'; contactId: string | null }
  | { kind: 'help' }
  | { kind: 'settings' }
  | { kind: 'reports' }
  | { kind: 'board' }
  | { kind: 'workload' }
  | { kind: 'security' }
  | { kind: 'transcript'; conversationId: string }
  | { kind: 'notifications' }
  | { kind: 'quickReplies'; create: boolean }
  | { kind: 'picker'; picker: PickerKind; ids: string[] };

/** How long `cache_changed` events are gathered before the panes read again (one read per burst). */
export const CHANGE_DELAY_MS = 50;

export class AppState {
  readonly session: Session;
  readonly list: ListState;
  readonly thread: ThreadState;
  readonly actions: Actions;
  readonly attachments: Attachments;
  readonly settings: SettingsState;
  readonly reports: ReportsState;
  readonly board: BoardState;
  readonly workload: WorkloadState;
  readonly filters: FilterBar;

  overlay = $state.raw<Overlay | null>(null);
  contactPanel = $state(true);
  composeRequest = $state<{ kind: SendKind; n: number } | null>(null);
  /** Open the quick-reply palette in the composer (Ctrl/Cmd+/ from outside it); the composer consumes it. */
  quickRequest = $state(false);
  /** Bumped when a quick reply or a favourite slot changes: what lists them reads again. */
  quickRepliesRevision = $state(0);
  /** Bumped when contacts, their conversations or the custom fields change (the open profile reads again). */
  contactsRevision = $state(0);
  /** Bumped when the feed brings the admin's app-lock maximum (the window applies it at once). */
  lockPolicyRevision = $state(0);
  /** What each composer last held, so switching back shows it even before the backend's copy is read. */
  drafts = new Map<string, { kind: SendKind; body: string }>();
  /** The clock relative times are computed from (ticks every 30 s). */
  now = $state(Date.now());

  private pendingKinds = new Set<EntityKind>();
  private changeTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  /** Start-up's one refresh of everything has been asked for (after the first frame). */
  private caughtUp = false;

  constructor() {
    const report = (error: unknown) => this.reportError(error);
    this.thread = new ThreadState({ report });
    this.list = new ListState({
      report,
      openId: () => this.thread.openId,
      open: (id) => this.thread.open(id),
      statusChanged: () => this.session.loadSidebar(),
    });
    this.session = new Session({
      report,
      reset: () => this.resetSession(),
      seed: (start) => this.list.pages.seed(start.request, start.page),
      firstPage: () => this.list.pages.refresh(),
      statusFilter: () => this.list.statusFilter,
      // At start-up the refresh waits for the first frame (`start`); later sessions refresh at once.
      entered: () => {
        if (this.caughtUp) this.scheduleChanges();
      },
    });
    this.attachments = new Attachments({
      report,
      openId: () => this.thread.openId,
      inboxOf: (id) => this.inboxOf(id),
    });
    this.settings = new SettingsState({
      report,
      directory: () => this.session.directory,
      openConversation: (id) => this.openElsewhere(id),
      openId: () => this.thread.openId,
    });
    this.reports = new ReportsState({ directory: () => this.session.directory });
    this.board = new BoardState({ report });
    this.workload = new WorkloadState({ report, directory: () => this.session.directory });
    this.filters = new FilterBar({
      report,
      directory: () => this.session.directory,
      view: () => this.list.view,
      setView: (view) => this.list.setView(view),
    });
    this.actions = new Actions({
      report,
      selected: () => this.list.selected,
      openId: () => this.thread.openId,
      focusedRow: () => this.list.focusedRow(),
      pinnedFor: (id) => this.pinnedFor(id),
      closeThread: () => this.thread.close(),
      setView: (view) => this.showView(view),
      compose: (kind) => this.compose(kind),
      showHelp: () => (this.overlay = { kind: 'help' }),
      setDoNotDisturb: (on) => this.session.setDoNotDisturb(on),
      setAvailability: (availability) => this.session.setAvailability(availability),
      toggleContactPanel: () => this.toggleContactPanel(),
      newConversation: () => (this.overlay = { kind: 'newConversation' }),
      addContact: () => (this.overlay = { kind: 'contact', contactId: null }),
      openSettings: () => this.openSettings(),
      openReports: () => this.openReports(),
      openBoard: () => this.openBoard(),
      openWorkload: () => this.openWorkload(),
      openFilters: () => {
        if (!this.filters.open) this.filters.toggle();
        // The bar is drawn on the next frame; its first chip takes the keyboard.
        requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid=filter-chip]')?.focus());
      },
      testRules: (id) => this.testRules(id),
      exportTranscript: (id) => (this.overlay = { kind: 'transcript', conversationId: id }),
      manageQuickReplies: (create) => (this.overlay = { kind: 'quickReplies', create }),
      signOut: () => this.session.signOut(),
      lock: () => this.session.lock(),
    });
  }

  /** Shows a failure as a toast (a signed-out session shows the sign-in form instead). */
  reportError(error: unknown): void {
    const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
    if (failure.code === 'signed_out') return;
    toasts.show(errorText(failure.code, failure.message, this.session.directory), 'error');
  }

  // -------------------------------------------------------------------------------------------
  // Start-up

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    mark('script');
    if (!hasBackend()) {
      this.session.phase = 'nobackend';
      return;
    }
    // The clock relative times and SLA countdowns read. Every 10 s: a countdown in whole minutes,
    // rounded up, would otherwise run up to half a minute behind (a 3-minute target read "4 min").
    setInterval(() => (this.now = Date.now()), 10_000);
    const stored = localStorage.getItem('switchboard.contactPanel');
    this.contactPanel = stored === null ? window.innerWidth >= 1360 : stored === '1';
    afterFirstFrame(() => onDragDrop((event) => this.attachments.handleDragDrop(event)).catch(() => {}));
    // Every round trip before the first frame is start-up time. The first screen's data was asked
    // for by index.html before this bundle loaded; the event listener goes on its way beside it.
    const listening = onUiEvent((event) => this.handleEvent(event));
    await this.session.resume();
    try {
      await listening;
    } catch (error) {
      this.reportError(error);
    }
    // One refresh of everything: what changed before the listener was there (the first sync, the
    // connection), and the sidebar's counts, which the start screen doesn't carry. After the first
    // frame: it re-renders the list, and landing while that frame was being drawn it delayed it.
    afterFirstFrame(() => {
      this.caughtUp = true;
      this.handleEvent({ type: 'cache_changed', kinds: ALL_KINDS });
      this.session.catchUpStatus();
    });
  }

  /** Reports the first frame with the list to the shell (the list calls it once it has rows). */
  markFirstPaint(): void {
    reportFirstPaint();
  }

  /** Forgets what the previous session showed. */
  private resetSession(): void {
    this.list.reset();
    this.thread.reset();
    this.attachments.reset();
    this.settings.reset();
    this.reports.reset();
    this.overlay = null;
    this.drafts.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Events from the shell

  handleEvent(event: UiEvent): void {
    switch (event.type) {
      case 'cache_changed':
        for (const kind of event.kinds) this.pendingKinds.add(kind);
        this.scheduleChanges();
        break;
      case 'status': {
        const { connection, pending, last_sync_at, do_not_disturb, history_percent } = event;
        this.session.statusChanged({ connection, pending, last_sync_at, do_not_disturb, history_percent });
        break;
      }
      case 'rejected':
        if (event.code === 'conversation_exists' && event.existing_conversation_id) {
          // A conversation started offline met the contact's open one there: that one is the conversation.
          toasts.show(t('newConversation.openedExisting'));
          void this.openElsewhere(event.existing_conversation_id);
          break;
        }
        toasts.show(errorText(event.code, event.message, this.session.directory, event.current_assignee_id), 'error');
        break;
      case 'typing':
      case 'viewing':
        this.thread.presence(event.type, event, this.session.directory?.me.id);
        break;
      case 'presence':
        if (event.online) this.session.online.add(event.agent_id);
        else this.session.online.delete(event.agent_id);
        break;
      case 'signed_out':
        this.session.signedOut(event.reason);
        break;
      case 'open_conversation':
        this.openElsewhere(event.conversation_id);
        break;
    }
  }

  /** Changes are gathered for a moment, so a burst of them (a sync's pages) is read once. */
  private scheduleChanges(): void {
    if (this.changeTimer === null && this.pendingKinds.size > 0) {
      this.changeTimer = setTimeout(() => this.applyChanges(), CHANGE_DELAY_MS);
    }
  }

  /** Reads again what shows the changed kinds: the directory, the sidebar, the list and the thread. */
  private async applyChanges(): Promise<void> {
    this.changeTimer = null;
    if (this.session.entering) {
      // A session is opening: what it shows is read when it is on screen (`entered`), and changes
      // since (the first sync filling the cache) must not be lost before then.
      return;
    }
    const kinds = [...this.pendingKinds];
    this.pendingKinds.clear();
    if (this.session.phase !== 'ready') {
      if (kinds.includes('conversation')) await this.session.enterIfOpened();
      return;
    }
    if (touches(kinds, DIRECTORY_KINDS)) this.session.loadDirectory();
    if (touches(kinds, QUICK_REPLY_KINDS)) this.quickRepliesRevision += 1;
    if (touches(kinds, ['contact', 'conversation', 'custom_field'])) this.contactsRevision += 1;
    if (touches(kinds, ['lock_policy'])) this.lockPolicyRevision += 1;
    if (touches(kinds, SIDEBAR_KINDS)) this.session.loadSidebar();
    if (touches(kinds, LIST_KINDS)) this.list.refresh();
    if (this.overlay?.kind === 'board' && touches(kinds, LIST_KINDS)) void this.board.refresh();
    if (this.overlay?.kind === 'workload' && touches(kinds, LIST_KINDS)) void this.workload.load();
    if (this.thread.openId && touches(kinds, THREAD_KINDS)) this.thread.reload(kinds.includes('message'));
    if (this.settings.rules.loaded && touches(kinds, RULES_KINDS)) this.settings.rules.load();
  }

  // -------------------------------------------------------------------------------------------
  // Across the list and the thread

  /** The conversation an id refers to, if it's on screen (for current labels, pinned…). */
  conversationFor(id: string): Conversation | undefined {
    const thread = this.thread.current;
    if (thread?.conversation.id === id) return thread.conversation;
    const at = this.list.pages.indexOf(id);
    return at >= 0 ? this.list.pages.row(at)?.conversation : undefined;
  }

  pinnedFor(id: string): boolean {
    const thread = this.thread.current;
    if (thread?.conversation.id === id) return thread.pinned;
    const at = this.list.pages.indexOf(id);
    return at >= 0 ? (this.list.pages.row(at)?.pinned ?? false) : false;
  }

  private inboxOf(conversationId: string): Inbox | null {
    const thread = this.thread.current;
    const inboxId = this.conversationFor(conversationId)?.inbox_id ?? thread?.conversation.inbox_id;
    return this.session.directory?.inboxes.find((inbox) => inbox.id === inboxId) ?? thread?.inbox ?? null;
  }

  /** Shows a view chosen in the sidebar or the palette; the filter bar follows it. */
  showView(view: ViewKey): void {
    this.list.setView(view);
    this.filters.follow(view);
  }

  openFocused(): void {
    const row = this.list.focusedRow();
    if (row) this.thread.open(row.conversation.id);
  }

  /** Opens a conversation found elsewhere (search, the contact panel, a notification); with
   * `messageId` (a search hit), around that message, brought into view. */
  async openElsewhere(id: string, messageId: string | null = null): Promise<void> {
    this.overlay = null;
    this.list.clearSelection();
    await this.thread.open(id, messageId);
    this.list.focusConversation(id);
  }

  compose(kind: SendKind): void {
    if (!this.thread.openId) {
      const row = this.list.focusedRow();
      if (!row) return;
      this.thread.open(row.conversation.id);
    }
    this.composeRequest = { kind, n: (this.composeRequest?.n ?? 0) + 1 };
    this.overlay = null;
  }

  toggleContactPanel(): void {
    this.contactPanel = !this.contactPanel;
    localStorage.setItem('switchboard.contactPanel', this.contactPanel ? '1' : '0');
  }

  /** The settings screen (leads and admins; nobody else has any). */
  openSettings(): void {
    if (!this.settings.canView()) return;
    this.overlay = { kind: 'settings' };
    this.settings.open();
  }

  /** The reports screen (anyone: the server decides what each role sees). */
  openReports(): void {
    this.overlay = { kind: 'reports' };
    void this.reports.open();
  }

  /** The triage board (anyone: its columns are the conversations this agent sees). */
  openBoard(): void {
    this.overlay = { kind: 'board' };
    void this.board.open();
  }

  /** The workload screen (leads and admins, whom the server answers). */
  openWorkload(): void {
    if (!this.settings.canView()) return;
    this.overlay = { kind: 'workload' };
    void this.workload.open();
  }

  /** The rules page of the settings screen, ready to try a rule on a conversation. */
  testRules(conversationId: string): void {
    if (!this.settings.canView()) return;
    this.settings.rules.testOn(conversationId);
    this.overlay = { kind: 'settings' };
    this.settings.open();
    this.settings.show({ type: 'rules' });
  }

  openPicker(picker: PickerKind): void {
    const ids = this.actions.targets();
    if (ids.length === 0) {
      toasts.show(t('toast.noTarget'));
      return;
    }
    this.overlay = { kind: 'picker', picker, ids };
  }
}

export const app = new AppState();

/** The app lock's idle timer: locks the session when the chosen idle time passes. */
export const appLock = new AppLockState(() => app.session.lock());

/** Shows a failure as a toast (for components: `.catch(reportError)`). */
export function reportError(error: unknown): void {
  app.reportError(error);
}

export { afterFirstFrame };
export type { StagedItem } from './attachments.svelte';
