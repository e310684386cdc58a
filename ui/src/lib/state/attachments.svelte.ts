// Files staged for the next message, per conversation: picked, pasted or dropped on the window,
// copied into the shell's staging area, and sent with the message by id.
import { api, ApiError, type DragDrop } from '../api';
import type { Inbox, StagedFile } from '../bindings';
import { checkAttachment, toBase64 } from '../composer';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';

export type StagedItem = {
  key: string;
  name: string;
  size: number;
  state: 'uploading' | 'ready';
  file: StagedFile | null;
};

export type AttachmentDeps = {
  report: (error: unknown) => void;
  /** The open conversation (files dropped on the window go to it). */
  openId: () => string | null;
  /** The inbox a conversation is in (its channel's attachment limit). */
  inboxOf: (conversationId: string) => Inbox | null;
};

export class Attachments {
  staged = $state<Record<string, StagedItem[]>>({});
  /** Files are being dragged over the window with a conversation open. */
  dragging = $state(false);

  constructor(private deps: AttachmentDeps) {}

  stagedFor(conversationId: string): StagedItem[] {
    return this.staged[conversationId] ?? [];
  }

  clear(conversationId: string): void {
    this.staged[conversationId] = [];
  }

  /** Takes a file off the message; one already staged is taken back in the shell too (its copy
   * deleted), not just hidden. */
  remove(conversationId: string, key: string): void {
    const item = this.stagedFor(conversationId).find((candidate) => candidate.key === key);
    this.staged[conversationId] = this.stagedFor(conversationId).filter((candidate) => candidate.key !== key);
    if (item?.file) api.unstageFile(item.file.id).catch((error) => this.deps.report(error));
  }

  /** A new session: nothing staged. */
  reset(): void {
    this.staged = {};
  }

  /** Reads files picked or pasted in the browser and stages them through the shell. */
  async attachFiles(conversationId: string, files: File[]): Promise<void> {
    const inbox = this.deps.inboxOf(conversationId);
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
        this.remove(conversationId, key);
        if (error instanceof ApiError) this.deps.report(error);
        else toasts.show(t('composer.readFailed', { name }), 'error');
      }
    }
  }

  /** Files dragged over or dropped on the window: dropped ones are staged for the open conversation. */
  async handleDragDrop(event: DragDrop): Promise<void> {
    const openId = this.deps.openId();
    if (event.type === 'enter' || event.type === 'over') {
      this.dragging = openId !== null;
      return;
    }
    this.dragging = false;
    if (event.type !== 'drop' || !openId || event.paths.length === 0) return;
    const conversationId = openId;
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
      this.deps.report(error);
    }
  }
}
