// The open conversation: which one, its thread, and the colleagues typing in or viewing it.
import { SvelteSet } from 'svelte/reactivity';
import { api, ApiError } from '../api';
import type { Thread } from '../bindings';

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
  /** Colleagues typing / viewing the open conversation, live. */
  typing = new SvelteSet<string>();
  viewing = new SvelteSet<string>();

  constructor(private deps: ThreadDeps) {}

  /** Opens a conversation (marking it read); opening the open one reads it again. */
  async open(id: string): Promise<void> {
    if (this.openId === id) {
      this.reload(true);
      return;
    }
    const previous = this.openId;
    this.openId = id;
    this.typing.clear();
    this.viewing.clear();
    if (previous) api.closeConversation(previous).catch(() => {});
    if (this.current?.conversation.id !== id) this.loading = true;
    try {
      const thread = await api.openConversation(id);
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
  }

  /** A new session: nothing open (the shell forgot the old session's conversation). */
  reset(): void {
    this.openId = null;
    this.current = null;
    this.typing.clear();
    this.viewing.clear();
  }

  /** Reads the open thread again; `markRead` when new messages may have come (only with the focus). */
  async reload(markRead: boolean): Promise<void> {
    const id = this.openId;
    if (!id) return;
    try {
      const focused = this.deps.focused?.() ?? (typeof document !== 'undefined' && document.hasFocus());
      const thread = markRead && focused ? await api.openConversation(id) : await api.thread(id);
      if (this.openId === id) this.show(thread);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found' && this.openId === id) {
        this.openId = null;
        this.current = null;
      }
      this.deps.report(error);
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
