// Actions on conversations (assign, status, labels, pins…), what they apply to, and the command
// palette's dispatch. The shell queues each action in the outbox and shows its effect at once; a
// refusal comes back later as a `rejected` event.
import { api } from '../api';
import type { Availability, ConversationRow, ConversationStatus, Priority, SendKind, ViewKey } from '../bindings';
import { t } from '../i18n';
import { snoozeUntil, type CommandAction, type SnoozePreset } from '../palette';
import { toasts } from '../toasts.svelte';

/** What the actions read from, and the commands beyond conversations the palette can run. */
export type ActionHost = {
  report: (error: unknown) => void;
  selected: () => ReadonlySet<string>;
  openId: () => string | null;
  focusedRow: () => ConversationRow | undefined;
  /** Whether a conversation is pinned, when it is on screen. */
  pinnedFor: (id: string) => boolean;
  closeThread: () => void;
  setView: (view: ViewKey) => void;
  compose: (kind: SendKind) => void;
  showHelp: () => void;
  setDoNotDisturb: (on: boolean) => void;
  setAvailability: (availability: Availability) => void;
  toggleContactPanel: () => void;
  /** The new-conversation dialog. */
  newConversation?: () => void;
  /** The new contact's form. */
  addContact?: () => void;
  openSettings: () => void;
  /** The reports screen. */
  openReports?: () => void;
  /** The triage board. */
  openBoard?: () => void;
  /** The workload screen (leads and admins). */
  openWorkload?: () => void;
  /** Shows the filter bar (and moves the keyboard into it). */
  openFilters?: () => void;
  /** The settings' rules page, to try a rule on this conversation (leads and admins). */
  testRules?: (conversationId: string) => void;
  /** The transcript export's dialog for one conversation. */
  exportTranscript?: (conversationId: string) => void;
  /** The agent's own quick replies (`create`: with a new one's form open). */
  manageQuickReplies?: (create: boolean) => void;
  signOut: () => void;
  lock: () => void;
};

export class Actions {
  constructor(private host: ActionHost) {}

  /** What an action applies to: the multi-selection, else the open conversation, else the focused row. */
  targets(): string[] {
    const selected = this.host.selected();
    if (selected.size > 0) return [...selected];
    const openId = this.host.openId();
    if (openId) return [openId];
    const row = this.host.focusedRow();
    return row ? [row.conversation.id] : [];
  }

  private withTargets(run: (ids: string[]) => Promise<unknown>, ids = this.targets()): void {
    if (ids.length === 0) {
      toasts.show(t('toast.noTarget'));
      return;
    }
    run(ids).catch(this.host.report);
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

  setEscalated(escalated: boolean, ids?: string[], note: string | null = null): void {
    this.withTargets((targets) => api.setEscalated(targets, escalated, note), ids);
  }

  togglePin(ids?: string[]): void {
    this.withTargets(async (targets) => {
      // Several: pin them all unless all are pinned already.
      const pin = !targets.every((id) => this.host.pinnedFor(id));
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
      const openId = this.host.openId();
      if (openId && targets.includes(openId)) this.host.closeThread();
    }, ids);
  }

  /** Sends a failed reply again (the outbox shows it queued at once; a refusal comes back later). */
  retryDelivery(conversationId: string, messageId: string): void {
    api.retryDelivery(conversationId, messageId).catch(this.host.report);
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
      case 'escalate':
        return this.setEscalated(action.escalated, ids);
      case 'pin':
        return this.setPinned(action.pinned, ids);
      case 'unread':
        return this.markUnread(ids);
      case 'view':
        return this.host.setView(action.view);
      case 'compose':
        return this.host.compose(action.kind);
      case 'help':
        return this.host.showHelp();
      case 'quickReplies':
        return this.host.manageQuickReplies?.(action.create);
      case 'dnd':
        return this.host.setDoNotDisturb(action.on);
      case 'availability':
        return this.host.setAvailability(action.availability);
      case 'contactPanel':
        return this.host.toggleContactPanel();
      case 'newConversation':
        return this.host.newConversation?.();
      case 'addContact':
        return this.host.addContact?.();
      case 'settings':
        return this.host.openSettings();
      case 'reports':
        return this.host.openReports?.();
      case 'board':
        return this.host.openBoard?.();
      case 'workload':
        return this.host.openWorkload?.();
      case 'filters':
        return this.host.openFilters?.();
      case 'testRules':
        if (ids[0]) this.host.testRules?.(ids[0]);
        return;
      case 'transcript':
        if (ids[0]) this.host.exportTranscript?.(ids[0]);
        return;
      case 'signOut':
        return this.host.signOut();
      case 'lock':
        return this.host.lock();
    }
  }
}
