// The team pages of the settings screen: people (agents and their devices), teams with inbox
// members, labels and team-wide quick replies. Every change goes to the server at once (never
// queued); the directory shows it when the feed brings it, here and on every other desktop. A
// refusal is kept per form and shown beside it, the form as typed; a new agent's one-time
// password is held only until the page closes it.
import { ApiError, api } from '../api';
import type { Agent, AgentChange, Directory, DeviceInfo, MessageTemplate, NewAgent, QuickReplyInput, Role } from '../bindings';
import { errorText } from '../errors';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';

export type TeamDeps = {
  directory: () => Directory | null;
};

/** A password to show once: whose, and what. */
export type Shown = { agentId: string; name: string; password: string };

export class TeamState {
  devices = $state.raw<DeviceInfo[]>([]);
  devicesError = $state<string | null>(null);
  /** Per form key (`agent:<id>`, `new-agent`, `label:<id>`…): why the last save failed. */
  failures = $state<Record<string, string | null>>({});
  /** The form key being saved, so its buttons wait. */
  busy = $state<string | null>(null);
  /** A one-time password just made: shown until dismissed, then forgotten. */
  shown = $state<Shown | null>(null);

  constructor(private readonly deps: TeamDeps) {}

  private fail(key: string, error: unknown): void {
    const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
    this.failures[key] =
      failure.code === 'offline' ? t('settings.refusedOffline') : errorText(failure.code, failure.message, this.deps.directory());
  }

  /** Runs one change for the form `key`; answers its result, or null when it failed (the
   * failure shown beside the form). */
  private async run<T>(key: string, change: () => Promise<T>, done?: string): Promise<T | null> {
    if (this.busy !== null) return null;
    this.busy = key;
    this.failures[key] = null;
    try {
      const result = await change();
      if (done) toasts.show(done);
      return result;
    } catch (error) {
      this.fail(key, error);
      return null;
    } finally {
      this.busy = null;
    }
  }

  // Agents -------------------------------------------------------------------------------------

  async createAgent(request: NewAgent): Promise<boolean> {
    const created = await this.run('new-agent', () => api.createAgent(request));
    if (!created) return false;
    this.shown = { agentId: created.agent.id, name: created.agent.name, password: created.password };
    return true;
  }

  updateAgent(agent: Agent, change: Partial<AgentChange>): Promise<Agent | null> {
    const full: AgentChange = { name: null, role: null, team_ids: null, active: null, ...change };
    const done = change.active === false ? t('team.people.deactivated', { name: agent.name }) : t('team.saved');
    return this.run(`agent:${agent.id}`, () => api.updateAgent(agent.id, full), done).then((stored) => {
      // Deactivating signed their devices out: the list follows.
      if (stored && change.active === false) this.loadDevices();
      return stored;
    });
  }

  setRole(agent: Agent, role: Role): Promise<Agent | null> {
    return this.updateAgent(agent, { role });
  }

  async resetPassword(agent: Agent): Promise<void> {
    const password = await this.run(`agent:${agent.id}`, () => api.resetPassword(agent.id));
    if (password !== null) this.shown = { agentId: agent.id, name: agent.name, password };
  }

  async signOutEverywhere(agent: Agent): Promise<void> {
    const count = await this.run(`agent:${agent.id}`, () => api.signOutAgent(agent.id));
    if (count !== null) {
      toasts.show(t('team.people.signedOut', { count, name: agent.name }));
      this.loadDevices();
    }
  }

  dismissPassword(): void {
    this.shown = null;
  }

  async loadDevices(): Promise<void> {
    try {
      this.devices = await api.devices();
      this.devicesError = null;
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
      this.devicesError =
        failure.code === 'offline' ? t('team.devices.offline') : errorText(failure.code, failure.message, this.deps.directory());
    }
  }

  async revokeDevice(device: DeviceInfo): Promise<void> {
    const done = await this.run(`device:${device.id}`, () => api.revokeDevice(device.id).then(() => true));
    if (done) {
      this.devices = this.devices.filter((other) => other.id !== device.id);
      toasts.show(t('team.devices.revoked', { name: device.name }));
    }
  }

  // Teams and inbox members --------------------------------------------------------------------

  async saveTeam(teamId: string | null, name: string, memberIds: string[]): Promise<boolean> {
    const key = teamId ? `team:${teamId}` : 'new-team';
    return (await this.run(key, () => api.saveTeam(teamId, name.trim(), memberIds), t('team.saved'))) !== null;
  }

  async setInboxMembers(inboxId: string, agentIds: string[], teamIds: string[]): Promise<boolean> {
    return (await this.run(`inbox:${inboxId}`, () => api.setInboxMembers(inboxId, agentIds, teamIds), t('team.saved'))) !== null;
  }

  async setInboxTemplates(inboxId: string, templates: MessageTemplate[]): Promise<boolean> {
    const cleaned = templates.map((template) => ({ name: template.name.trim(), language: template.language.trim(), body: template.body }));
    return (await this.run(`templates:${inboxId}`, () => api.setInboxTemplates(inboxId, cleaned), t('team.saved'))) !== null;
  }

  // Labels ---------------------------------------------------------------------------------------

  async saveLabel(labelId: string | null, name: string, color: string): Promise<boolean> {
    const key = labelId ? `label:${labelId}` : 'new-label';
    return (await this.run(key, () => api.saveLabel(labelId, name, color.toLowerCase()), t('team.saved'))) !== null;
  }

  async deleteLabel(labelId: string): Promise<boolean> {
    return (await this.run(`label:${labelId}`, () => api.deleteLabel(labelId).then(() => true), t('team.labels.deleted'))) !== null;
  }

  // Quick replies ----------------------------------------------------------------------------------

  async saveQuickReply(id: string | null, reply: QuickReplyInput): Promise<boolean> {
    const key = id ? `reply:${id}` : 'new-reply';
    return (await this.run(key, () => api.saveQuickReply(id, reply), t('team.saved'))) !== null;
  }

  async deleteQuickReply(id: string): Promise<boolean> {
    return (await this.run(`reply:${id}`, () => api.deleteQuickReply(id).then(() => true), t('team.replies.deleted'))) !== null;
  }

  /** A new session: nothing of the previous account's may show. */
  reset(): void {
    this.devices = [];
    this.devicesError = null;
    this.failures = {};
    this.busy = null;
    this.shown = null;
  }
}
