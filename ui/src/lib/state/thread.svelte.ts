// The open conversation: which one, a window on its thread (a few pages, loaded as it is
// scrolled: `lib/threadWindow.ts`), and the colleagues typing in or viewing it.
import { SvelteSet } from 'svelte/reactivity';
import { api, ApiError } from '../api';
import type { Thread, ThreadRange } from '../bindings';
import { append, cursorOf, loadedRange, merge, prepend } from '../threadWindow';

export type ThreadDeps = {
  report: (error: unknown) => void;
  /** Whether the window has the focus (opening a conversation only marks it read then). */
  focused?: () => boolean;
};

/** A colleague's typing or viewing event, as the shell sends it. */
export type PresenceEvent = { conversation_id: string; agent_id: string; active: boolean };

export class ThreadState {
  openId = $state<string | null>(null);
  current = $state.raw<Thread | null>(null);
  loading = $state(false);
  /** A page is being loaded above (older) or below (newer) the window. */
  loadingOlder = $state(false);
  loadingNewer = $state(false);
  /** The last try at the page above failed (offline while the history is still arriving). */
  olderFailed = $state(false);
  /** The message to bring into view and mark (a search hit), with a counter so a second jump to it shows. */
  focus = $state.raw<{ messageId: string; n: number } | null>(null);
  /** Colleagues typing / viewing the open conversation, live. */
  typing = new SvelteSet<string>();
  viewing = new SvelteSet<string>();

  constructor(private deps: ThreadDeps) {}

  /** Opens a conversation (marking it read) on its newest page, or around `messageId` (a search
   * hit) which it then brings into view; opening the open one reads it again. */
  async open(id: string, messageId: string | null = null): Promise<void> {
    if (messageId) this.focus = { messageId, n: (this.focus?.n ?? 0) + 1 };
    if (this.openId === id) {
      const loaded = this.current?.messages.some((m) => m.id === messageId);
      if (messageId && !loaded) await this.load(id, { kind: 'around', message_id: messageId }, true);
      else await this.reload(true);
      return;
    }
    const previous = this.openId;
    this.openId = id;
    this.typing.clear();
    this.viewing.clear();
    this.loadingOlder = false;
    this.loadingNewer = false;
    this.olderFailed = false;
    if (!messageId) this.focus = null;
    if (previous) api.closeConversation(previous).catch(() => {});
    if (this.current?.conversation.id !== id) this.loading = true;
    try {
      const range: ThreadRange | null = messageId ? { kind: 'around', message_id: messageId } : null;
      const thread = await api.openConversation(id, range);
      if (this.openId !== id) return;
      this.show(thread);
    } catch (error) {
      if (this.openId === id) {
        this.openId = null;
        this.current = null;
      }
      this.deps.report(error);
    } finally {
      if (this.openId === id || this.openId === null) this.loading = false;
    }
  }

  close(): void {
    if (this.openId) api.closeConversation(this.openId).catch(() => {});
    this.openId = null;
    this.current = null;
    this.focus = null;
  }

  /** A new session: nothing open (the shell forgot the old session's conversation). */
  reset(): void {
    this.openId = null;
    this.current = null;
    this.focus = null;
    this.typing.clear();
    this.viewing.clear();
  }

  /** Reads the open thread again — the messages it has loaded, and a new one at the live end;
   * `markRead` when new messages may have come (only with the focus). */
  async reload(markRead: boolean): Promise<void> {
    const id = this.openId;
    if (!id) return;
    const shown = this.current?.conversation.id === id ? this.current : null;
    await this.load(id, shown ? loadedRange(shown) : null, markRead);
  }

  private async load(id: string, range: ThreadRange | null, markRead: boolean): Promise<void> {
    try {
      const focused = this.deps.focused?.() ?? (typeof document !== 'undefined' && document.hasFocus());
      const thread = markRead && focused ? await api.openConversation(id, range) : await api.thread(id, range);
      if (this.openId !== id) return;
      const shown = this.current?.conversation.id === id ? this.current : null;
      this.show(shown && range ? { ...thread, ...merge(shown, range, thread) } : thread);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found' && this.openId === id) {
        this.openId = null;
        this.current = null;
      }
      this.deps.report(error);
    }
  }

  /** Loads the page above the window (scrolled to its top); older history not on this device yet
   * is fetched first, while the view says "Loading earlier messages…". */
  async loadOlder(): Promise<void> {
    const shown = this.current;
    const first = shown?.messages[0];
    if (!shown || !first || this.loadingOlder || shown.older === 'none') return;
    const id = shown.conversation.id;
    this.loadingOlder = true;
    try {
      const page = await api.threadPage(id, 'older', cursorOf(first));
      const now = this.current;
      if (this.openId !== id || now?.conversation.id !== id) return;
      this.current = { ...now, ...prepend(now, page) };
      this.olderFailed = false;
    } catch (error) {
      if (this.openId === id) this.olderFailed = true;
      this.deps.report(error);
    } finally {
      if (this.current?.conversation.id === id) this.loadingOlder = false;
    }
  }

  /** Loads the page below the window (scrolled to its bottom after a jump into the middle). */
  async loadNewer(): Promise<void> {
    const shown = this.current;
    const last = shown?.messages[shown.messages.length - 1];
    if (!shown || !last || this.loadingNewer || !shown.newer) return;
    const id = shown.conversation.id;
    this.loadingNewer = true;
    try {
      const page = await api.threadPage(id, 'newer', cursorOf(last));
      const now = this.current;
      if (this.openId !== id || now?.conversation.id !== id) return;
      this.current = { ...now, ...append(now, page) };
    } catch (error) {
      this.deps.report(error);
    } finally {
      if (this.current?.conversation.id === id) this.loadingNewer = false;
    }
  }

  /** A colleague started or stopped typing in (or viewing) a conversation; `me` is ignored. */
  presence(kind: 'typing' | 'viewing', event: PresenceEvent, me: string | undefined): void {
    if (event.conversation_id !== this.openId || event.agent_id === me) return;
    const set = kind === 'typing' ? this.typing : this.viewing;
    if (event.active) set.add(event.agent_id);
    else set.delete(event.agent_id);
  }

  private show(thread: Thread): void {
    this.current = thread;
    this.typing.clear();
    for (const id of thread.typing) this.typing.add(id);
    this.viewing.clear();
    for (const id of thread.viewing) this.viewing.add(id);
  }
}
