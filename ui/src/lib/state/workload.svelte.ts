// The workload screen (leads and admins): every agent with presence, availability, open load
// against capacity, oldest waiting customer and how many are breaching soon; one agent's queue;
// and reassigning a selection of it (or returning it to the queue) through the outbox, like any
// assignment, so it works offline and shows at once. The figures are the server's (routing's
// view, online only) and the cache's (waiting, SLA), the queue the cache's.
import { api, ApiError } from '../api';
import type { ConversationRow, Directory, Workload } from '../bindings';
import { errorText } from '../errors';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';

export type WorkloadHost = {
  report: (error: unknown) => void;
  directory: () => Directory | null;
};

/** The most rows one agent's queue shows (a page of the cache's view). */
export const QUEUE_LIMIT = 500;

export class WorkloadState {
  data = $state.raw<Workload | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  /** Whose queue is shown. */
  agentId = $state<string | null>(null);
  queue = $state.raw<ConversationRow[]>([]);
  queueTotal = $state(0);
  selected = $state.raw<ReadonlySet<string>>(new Set());
  opened = false;

  constructor(private host: WorkloadHost) {}

  async open(): Promise<void> {
    this.opened = true;
    await this.load();
    if (!this.agentId) {
      const busiest = [...(this.data?.agents ?? [])].sort((a, b) => b.load - a.load)[0];
      if (busiest) await this.select(busiest.agent_id);
    }
  }

  close(): void {
    this.opened = false;
  }

  /** Reads the figures again (and the shown queue). */
  async load(): Promise<void> {
    this.loading = true;
    try {
      this.data = await api.workload();
      this.error = null;
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
      this.error = failure.code === 'offline' ? t('settings.workload.offline') : errorText(failure.code, failure.message, this.host.directory());
    } finally {
      this.loading = false;
    }
    if (this.agentId) await this.loadQueue();
  }

  /** Shows an agent's queue (and forgets the selection). */
  async select(agentId: string): Promise<void> {
    this.agentId = agentId;
    this.selected = new Set();
    await this.loadQueue();
  }

  private async loadQueue(): Promise<void> {
    const agentId = this.agentId;
    if (!agentId) return;
    try {
      const page = await api.listConversations({
        view: { type: 'agent', id: agentId }, status: null, sort: 'waiting_longest', offset: 0, limit: QUEUE_LIMIT,
      });
      if (agentId !== this.agentId) return;
      this.queue = page.rows;
      this.queueTotal = page.total;
      const present = new Set(page.rows.map((row) => row.conversation.id));
      this.selected = new Set([...this.selected].filter((id) => present.has(id)));
    } catch (error) {
      this.host.report(error);
    }
  }

  toggle(id: string): void {
    const next = new Set(this.selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.selected = next;
  }

  /** Selects every row shown, or none when all are. */
  toggleAll(): void {
    const all = this.queue.map((row) => row.conversation.id);
    this.selected = all.every((id) => this.selected.has(id)) ? new Set() : new Set(all);
  }

  /** Reassigns the selection to `agentId`, or returns it to the queue (`null`), through the outbox. */
  async reassign(agentId: string | null): Promise<void> {
    const ids = [...this.selected];
    if (ids.length === 0) return;
    try {
      await api.assign(ids, agentId, false);
    } catch (error) {
      this.host.report(error);
      return;
    }
    toasts.show(t('workload.reassigned', { count: ids.length }));
    this.selected = new Set();
    await this.loadQueue();
  }
}
