// The signed-in session: the start screen, signing in and out, switching accounts, and what the
// session shows around the list (the directory, the connection status, the sidebar's counts), and
// the agent's own availability.
import { SvelteSet } from 'svelte/reactivity';
import { api, ApiError } from '../api';
import type {
  AppInfo,
  Availability,
  ConversationStatus,
  Directory,
  InboxStart,
  SidebarEntry,
  Status,
  ViewKey,
} from '../bindings';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';
import { sameView } from '../views';
import { mark } from './startup';

/** `enrol`: signed in, but an admin requires two-step verification this agent hasn't set up yet. */
/** `locked`: the app lock is on; nothing of the inbox is on screen until the password is given. */
export type Phase = 'loading' | 'signin' | 'enrol' | 'ready' | 'locked' | 'nobackend';

export type SessionDeps = {
  report: (error: unknown) => void;
  /** Forgets the previous session's list, thread, selection, drafts and staged files. */
  reset: () => void;
  /** Takes the start screen's first list page; false when the list would ask for another one. */
  seed: (start: InboxStart) => boolean;
  /** Reads the list's first page. */
  firstPage: () => Promise<void>;
  /** The list's status filter (the sidebar counts conversations in it). */
  statusFilter: () => ConversationStatus | null;
  /** The inbox is on screen: what changed while it was being entered can be shown now. */
  entered: () => void;
};

export class Session {
  phase = $state<Phase>('loading');
  info = $state.raw<AppInfo | null>(null);
  signedOutReason = $state<string | null>(null);
  /** Signing in to a further account while one is open (the form can be cancelled). */
  addingAccount = $state(false);
  #directory = $state.raw<Directory | null>(null);
  status = $state.raw<Status | null>(null);
  sidebar = $state.raw<SidebarEntry[]>([]);
  /** Colleagues online now. */
  online = new SvelteSet<string>();
  /** From asking the shell to open a session until its inbox is on screen: what changes in the
   * cache meanwhile (the first sync) is shown once it is. */
  entering = false;

  /** Counts `status` events, so an older `status()` answer never overwrites a newer event. */
  private statusEvents = 0;
  /** The availability the agent just chose, shown until the directory's `me` says so (the feed
   * brought it) or the server refused it. */
  private chosenAvailability = $state<Availability | null>(null);
  /** The directory's availability when the agent chose: a directory showing neither it nor the
   * choice carries a change made since on another device, which wins. */
  private availabilityBefore: Availability | null = null;
  /** Counts availability requests, so only the latest one's refusal rolls back. */
  private availabilityRequests = 0;

  /** The directory; a new one that shows the chosen availability settles the choice. */
  get directory(): Directory | null {
    return this.#directory;
  }

  set directory(directory: Directory | null) {
    this.#directory = directory;
    const shown = directory?.me.availability ?? null;
    if (this.chosenAvailability !== null && (shown === this.chosenAvailability || shown !== this.availabilityBefore)) {
      this.chosenAvailability = null;
    }
  }

  /** The agent's availability as shown: the one just chosen, else the directory's. */
  get availability(): Availability | null {
    return this.chosenAvailability ?? this.#directory?.me.availability ?? null;
  }

  constructor(private deps: SessionDeps) {}

  /** The start screen: the inbox when a session is open (from the answer index.html asked for
   * before the bundle loaded), else the sign-in form. */
  async resume(): Promise<void> {
    let inbox: InboxStart | null = null;
    try {
      const start = await api.startScreen();
      mark('start-screen');
      this.info = start.info;
      inbox = start.inbox;
    } catch (error) {
      this.deps.report(error);
    }
    if (this.info?.signed_in && this.info.locked) this.phase = 'locked';
    else if (this.info?.signed_in) await this.enter(inbox);
    else this.phase = this.info?.two_factor_enrolment ? 'enrol' : 'signin';
  }

  /** Loads everything the inbox shows after signing in (or switching accounts); `start` is the
   * start screen's answer, which saves asking again. */
  async enter(start: InboxStart | null = null): Promise<void> {
    this.entering = true;
    try {
      await this.load(start);
    } finally {
      this.entering = false;
    }
    if (this.phase === 'ready') this.deps.entered();
  }

  private async load(start: InboxStart | null): Promise<void> {
    this.forgetAvailabilityChoice();
    this.signedOutReason = null;
    this.addingAccount = false;
    this.deps.reset();
    if (start && this.deps.seed(start)) {
      this.directory = start.directory;
      this.status = start.status;
      // The sidebar comes with `start`'s catch-up, a moment after the first frame.
      this.phase = 'ready';
      return;
    }
    // The first list page is asked for with the directory and awaited before the workspace shows, so
    // the first frame has its rows: one round trip and one layout rather than two of each.
    const firstPage = this.deps.firstPage();
    try {
      const eventsBefore = this.statusEvents;
      const [directory, status] = await Promise.all([api.directory(), api.status()]);
      mark('directory');
      this.directory = directory;
      // Status is only sent when it changes: a newer event must win over this answer.
      if (this.statusEvents === eventsBefore) this.status = status;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'signed_out') {
        this.phase = 'signin';
        return;
      }
      this.deps.report(error);
    }
    await firstPage;
    this.phase = 'ready';
    this.loadSidebar();
  }

  /** Rejects with `two_factor_required` when the account asks for a code: the form then asks
   * for it and calls again with `twoFactorCode`. */
  async signIn(serverUrl: string, email: string, password: string, twoFactorCode: string | null = null): Promise<void> {
    this.entering = true;
    try {
      this.info = twoFactorCode === null
        ? await api.signIn(serverUrl, email, password)
        : await api.signIn(serverUrl, email, password, twoFactorCode);
    } catch (error) {
      this.entering = false;
      throw error;
    }
    if (this.info.two_factor_enrolment && !this.info.signed_in) {
      this.entering = false;
      this.addingAccount = false;
      this.phase = 'enrol';
      return;
    }
    await this.enter();
  }

  /** The required two-step verification is set up: the account's inbox opens. */
  async enrolled(): Promise<void> {
    try {
      this.info = await api.appInfo();
    } catch (error) {
      this.deps.report(error);
      return;
    }
    if (this.info.signed_in) await this.enter();
  }

  async signOut(): Promise<void> {
    try {
      this.info = await api.signOut();
    } catch (error) {
      this.deps.report(error);
      return;
    }
    this.deps.reset();
    if (this.info.signed_in) await this.enter();
    else this.phase = 'signin';
  }

  async switchAccount(key: string): Promise<void> {
    try {
      this.info = await api.switchAccount(key);
      await this.enter();
    } catch (error) {
      this.deps.report(error);
    }
  }

  /** Locks the app (idle, or "Lock now"): the shell first, so a reload stays locked; then the
   * inbox's list, thread, drafts and selection are dropped from the page. */
  async lock(): Promise<void> {
    if (this.phase !== 'ready') return;
    try {
      await api.lockApp();
    } catch (error) {
      this.deps.report(error);
      return;
    }
    this.deps.reset();
    this.phase = 'locked';
  }

  /** Unlocks with the password (rejects with its `ApiError` for the lock screen to show); the
   * inbox is read again. */
  async unlock(password: string): Promise<void> {
    await api.unlockApp(password);
    await this.enter();
  }

  /** The shell closed the session (signed out elsewhere, the token revoked). */
  signedOut(reason: string): void {
    this.deps.reset();
    this.forgetAvailabilityChoice();
    this.signedOutReason = reason;
    this.phase = 'signin';
    api
      .appInfo()
      .then((info) => (this.info = info))
      .catch(() => {});
  }

  /** Another account's session starts: a choice made in the previous one is not this one's. */
  private forgetAvailabilityChoice(): void {
    this.availabilityRequests += 1;
    this.chosenAvailability = null;
  }

  /** The cache changed while the sign-in form shows: a session may have opened in the background
   * (start-up resume, automatic sign-in), whose inbox then shows. */
  async enterIfOpened(): Promise<void> {
    if (this.phase !== 'signin' || this.addingAccount || this.entering) return;
    const info = await api.appInfo().catch(() => null);
    if (info?.signed_in && this.phase === 'signin' && !this.entering) {
      this.info = info;
      await this.enter();
    }
  }

  /** A `status` event: it wins over any answer asked for before it. */
  statusChanged(status: Status): void {
    this.statusEvents += 1;
    this.status = status;
  }

  /** Asks for the status unless an event has brought it already (after the start screen's). */
  catchUpStatus(): void {
    if (this.phase !== 'ready' || this.statusEvents > 0) return;
    api
      .status()
      .then((status) => {
        if (this.statusEvents === 0) this.status = status;
      })
      .catch(() => {});
  }

  loadDirectory(): void {
    api
      .directory()
      .then((directory) => (this.directory = directory))
      .catch(this.deps.report);
  }

  async loadSidebar(): Promise<void> {
    try {
      this.sidebar = await api.sidebar(this.deps.statusFilter());
      mark('sidebar');
    } catch (error) {
      this.deps.report(error);
    }
  }

  /** The sidebar's count for a view (null before the sidebar has loaded). */
  count(view: ViewKey): number | null {
    return this.sidebar.find((entry) => sameView(entry.view, view))?.count ?? null;
  }

  /** Sets the agent's availability: shown at once, and kept until the feed brings the agent's new
   * version. Never queued (it is a statement about now): when the server can't be reached it is
   * refused, and the shown value rolls back to the directory's. */
  async setAvailability(availability: Availability): Promise<void> {
    const request = ++this.availabilityRequests;
    if (this.chosenAvailability === null) this.availabilityBefore = this.#directory?.me.availability ?? null;
    this.chosenAvailability = availability === this.availabilityBefore ? null : availability;
    try {
      await api.setAvailability(availability);
    } catch (error) {
      if (request === this.availabilityRequests) this.chosenAvailability = null;
      if (error instanceof ApiError && error.code === 'offline') toasts.show(t('availability.refusedOffline'), 'error');
      else this.deps.report(error);
    }
  }

  /** The status text beside the availability ("Back at 3"); blank clears it. Sent at once. */
  async setStatusText(text: string): Promise<boolean> {
    try {
      await api.setStatusText(text.trim());
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'offline') toasts.show(t('presence.refusedOffline'), 'error');
      else this.deps.report(error);
      return false;
    }
  }

  async setDoNotDisturb(on: boolean): Promise<void> {
    try {
      this.status = await api.setDoNotDisturb(on);
    } catch (error) {
      this.deps.report(error);
    }
  }

  async reconnect(): Promise<void> {
    try {
      await api.reconnect();
    } catch (error) {
      this.deps.report(error);
    }
  }
}
