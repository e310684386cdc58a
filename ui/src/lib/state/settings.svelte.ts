// The settings screen's state: which page is shown, a draft per inbox (kept when the screen
// closes, so nothing typed is lost until it is saved or reverted), saving with the server's
// refusal shown beside the form (the draft stays as typed), agents' capacities, the workload.
import { ApiError, api } from '../api';
import type { Agent, Directory, Inbox, InboxSettings, Workload } from '../bindings';
import { errorText } from '../errors';
import { t } from '../i18n';
import { clone, conflicts, parseCapacity, rebased, sameSettings, settingsIssues, settingsOf, type Issue } from '../settings';
import { toasts } from '../toasts.svelte';
import type { TeamPage } from '../team';
import { RulesState } from './rules.svelte';
import { TeamState } from './team.svelte';

export type SettingsPage =
  | { type: 'inbox'; id: string }
  | { type: 'agents' }
  | { type: 'rules' }
  | { type: 'security' }
  | { type: 'audit' }
  | { type: 'exports' }
  | { type: 'language' }
  | { type: 'contactFields' }
  | { type: TeamPage };

export type SettingsDeps = {
  report: (error: unknown) => void;
  directory: () => Directory | null;
  /** Opens a conversation in the workspace (a rule's preview and run log link to theirs). */
  openConversation?: (id: string) => void;
  /** The conversation open in the workspace, if any. */
  openId?: () => string | null;
};

/** Why a save didn't happen, shown above the form. */
export type SaveFailure = { code: string; text: string };

export class SettingsState {
  page = $state.raw<SettingsPage | null>(null);
  /** Per inbox id: the form as edited. Deeply reactive, so inputs bind straight into it. */
  drafts = $state<Record<string, InboxSettings>>({});
  /** Per inbox id: the settings the draft started from (or was last saved as). */
  private bases = $state.raw<Record<string, InboxSettings>>({});
  /** Per inbox id: the server changed the settings after this draft began (a colleague saved). */
  changedElsewhere = $state<Record<string, boolean>>({});
  failures = $state<Record<string, SaveFailure | null>>({});
  saving = $state<string | null>(null);
  zones = $state.raw<string[]>([]);
  workload = $state.raw<Workload | null>(null);
  workloadError = $state<string | null>(null);
  /** Per agent id: the capacity field as typed, while it differs from the agent's. */
  capacities = $state<Record<string, string>>({});
  capacityFailures = $state<Record<string, string | null>>({});
  /** The automation rules page. */
  readonly rules: RulesState;
  /** The team pages: people and devices, teams, labels, quick replies. */
  readonly team: TeamState;

  constructor(private readonly deps: SettingsDeps) {
    this.rules = new RulesState(deps);
    this.team = new TeamState(deps);
  }

  /** Admins and leads see and change these settings: an inbox's hours, routing and automatic
   * replies, and agents' capacity are the lead's to run (the server's rule; an inbox's structure
   * stays the admin's, and this screen doesn't touch it). */
  canView(): boolean {
    const role = this.deps.directory()?.me.role;
    return role === 'admin' || role === 'lead';
  }

  canEdit(): boolean {
    return this.canView();
  }

  inboxes(): Inbox[] {
    return this.deps.directory()?.inboxes ?? [];
  }

  /** Opens the screen where it was left (the first inbox the first time); loads the zone list once. */
  async open(): Promise<void> {
    if (!this.page || (this.page.type === 'inbox' && !this.inboxes().some((i) => i.id === (this.page as { id: string }).id))) {
      const first = this.inboxes()[0];
      this.page = first ? { type: 'inbox', id: first.id } : { type: 'agents' };
    }
    this.show(this.page);
    if (this.zones.length === 0) {
      try {
        this.zones = await api.timeZones();
      } catch (error) {
        this.deps.report(error);
      }
    }
  }

  show(page: SettingsPage): void {
    this.page = page;
    if (page.type === 'inbox') {
      const inbox = this.inboxes().find((i) => i.id === page.id);
      if (inbox) this.draftFor(inbox);
    } else if (page.type === 'rules') {
      this.rules.load();
      // A rule left open shows its latest runs (rules may have run while the screen was closed).
      this.rules.loadRuns();
    } else if (page.type === 'people') {
      this.team.loadDevices();
    } else if (page.type === 'agents') {
      this.loadWorkload();
    }
  }

  /** The inbox's draft, begun from its current settings the first time. */
  draftFor(inbox: Inbox): InboxSettings {
    if (!this.drafts[inbox.id]) {
      const base = settingsOf(inbox);
      this.bases = { ...this.bases, [inbox.id]: base };
      this.drafts[inbox.id] = clone(base);
    }
    return this.drafts[inbox.id];
  }

  isDirty(id: string): boolean {
    const draft = this.drafts[id];
    const base = this.bases[id];
    return Boolean(draft && base && !sameSettings(draft, base));
  }

  /** Inboxes with unsaved changes (the nav marks them). */
  dirtyIds(): string[] {
    return Object.keys(this.drafts).filter((id) => this.isDirty(id));
  }

  issues(id: string): Issue[] {
    const draft = this.drafts[id];
    return draft ? settingsIssues(draft, this.zones) : [];
  }

  /** The directory was read again: a draft follows the server in every section nobody touched
   * (so a save sends only what this person changed and never undoes a colleague's save); where a
   * colleague changed a section this person changed too, the screen says so. */
  directoryChanged(): void {
    for (const inbox of this.inboxes()) {
      const base = this.bases[inbox.id];
      if (!base) continue;
      const now = settingsOf(inbox);
      if (sameSettings(now, base)) continue;
      const draft = this.drafts[inbox.id];
      if (draft && conflicts(draft, base, now)) this.changedElsewhere[inbox.id] = true;
      this.bases = { ...this.bases, [inbox.id]: now };
      if (draft) this.drafts[inbox.id] = rebased(draft, base, now);
    }
  }

  /** Puts the draft back to the saved settings. */
  revert(id: string): void {
    const base = this.bases[id];
    if (!base) return;
    this.drafts[id] = clone(base);
    this.failures[id] = null;
    this.changedElsewhere[id] = false;
  }

  /** Sends the draft; answers whether the server took it. A refusal leaves the draft as typed. */
  async save(id: string): Promise<boolean> {
    const draft = this.drafts[id];
    if (!draft || this.saving !== null || !this.isDirty(id) || !this.canEdit()) return false;
    if (this.issues(id).length > 0) {
      this.failures[id] = { code: 'validation', text: t('settings.fixFirst') };
      return false;
    }
    this.saving = id;
    this.failures[id] = null;
    const sent = clone(draft);
    try {
      const saved = settingsOf(await api.saveInboxSettings(id, sent));
      this.bases = { ...this.bases, [id]: saved };
      // What was typed while the request was out stays; otherwise show what the server stored.
      if (sameSettings(this.drafts[id], sent)) this.drafts[id] = clone(saved);
      this.changedElsewhere[id] = false;
      toasts.show(t('settings.saved'));
      return true;
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
      const text = failure.code === 'offline' ? t('settings.refusedOffline') : errorText(failure.code, failure.message, this.deps.directory());
      this.failures[id] = { code: failure.code, text };
      return false;
    } finally {
      this.saving = null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Agents

  capacityText(agent: Agent): string {
    return this.capacities[agent.id] ?? (agent.capacity === null ? '' : String(agent.capacity));
  }

  capacityValid(agent: Agent): boolean {
    return parseCapacity(this.capacityText(agent)) !== undefined;
  }

  capacityDirty(agent: Agent): boolean {
    const parsed = parseCapacity(this.capacityText(agent));
    return parsed !== undefined && parsed !== agent.capacity;
  }

  async saveCapacity(agent: Agent): Promise<boolean> {
    const capacity = parseCapacity(this.capacityText(agent));
    if (capacity === undefined || !this.canEdit()) return false;
    if (capacity === agent.capacity) {
      delete this.capacities[agent.id];
      return true;
    }
    this.capacityFailures[agent.id] = null;
    try {
      const stored = await api.setCapacity(agent.id, capacity);
      // The field shows the agent's value from now on (the directory brings it with the feed).
      this.capacities[agent.id] = stored.capacity === null ? '' : String(stored.capacity);
      this.loadWorkload();
      return true;
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
      this.capacityFailures[agent.id] =
        failure.code === 'offline' ? t('settings.refusedOffline') : errorText(failure.code, failure.message, this.deps.directory());
      return false;
    }
  }

  /** Forgets capacity fields the directory now agrees with. */
  agentsChanged(): void {
    for (const agent of this.deps.directory()?.agents ?? []) {
      const text = this.capacities[agent.id];
      if (text !== undefined && parseCapacity(text) === agent.capacity) delete this.capacities[agent.id];
    }
  }

  async loadWorkload(): Promise<void> {
    if (!this.canView()) return;
    try {
      this.workload = await api.workload();
      this.workloadError = null;
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
      this.workloadError = failure.code === 'offline' ? t('settings.workload.offline') : errorText(failure.code, failure.message, this.deps.directory());
    }
  }

  /** A new session: nothing of the previous account's drafts may show. */
  reset(): void {
    this.page = null;
    this.drafts = {};
    this.bases = {};
    this.changedElsewhere = {};
    this.failures = {};
    this.workload = null;
    this.workloadError = null;
    this.capacities = {};
    this.capacityFailures = {};
    this.rules.reset();
    this.team.reset();
  }
}
