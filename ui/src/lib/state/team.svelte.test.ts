import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { Agent, DeviceInfo, Directory } from '../bindings';
import { TeamState } from './team.svelte';
import { directory, fakeApi, resetFakeApi } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

const admin: Directory = { ...directory, me: { ...directory.me, role: 'admin' } };
const sam: Agent = { ...directory.me, id: 'sam', name: 'Sam' };
const device = (id: string, agentId: string): DeviceInfo => ({ id, agent_id: agentId, name: id, created_at: 0, last_seen_at: 1, current: false });

function make() {
  return new TeamState({ directory: () => admin });
}

describe('TeamState', () => {
  it('shows a new agent’s one-time password until dismissed', async () => {
    const team = make();
    expect(await team.createAgent({ name: 'Nima', email: 'nima@x.example', role: 'agent', team_ids: [], capacity: 3 })).toBe(true);
    expect(fakeApi.createAgent).toHaveBeenCalledWith(expect.objectContaining({ email: 'nima@x.example', capacity: 3 }));
    expect(team.shown).toEqual({ agentId: 'new-agent', name: 'Nima', password: 'abcdef-ghijkm-npqrst' });
    team.dismissPassword();
    expect(team.shown).toBeNull();
  });

  it('keeps a refusal beside its form, offline said in words', async () => {
    const team = make();
    fakeApi.saveLabel.mockRejectedValueOnce(new ApiError('offline', 'no network'));
    expect(await team.saveLabel(null, 'New Lead', '#3B82F6')).toBe(false);
    expect(team.failures['new-label']).toMatch(/offline/i);
    expect(team.busy).toBeNull();
    expect(await team.saveLabel('label-1', 'پشتیبانی باز', '#3B82F6')).toBe(true);
    expect(fakeApi.saveLabel).toHaveBeenLastCalledWith('label-1', 'پشتیبانی باز', '#3b82f6');
    expect(team.failures['label:label-1']).toBeNull();
  });

  it('deactivates with every field but active left alone, then reloads the devices', async () => {
    const team = make();
    fakeApi.devices.mockResolvedValue([device('d1', 'me')]);
    await team.updateAgent(sam, { active: false });
    expect(fakeApi.updateAgent).toHaveBeenCalledWith('sam', { name: null, role: null, team_ids: null, active: false });
    await vi.waitFor(() => expect(team.devices).toHaveLength(1));
  });

  it('signs a device out and drops it from the list; signs an agent out everywhere', async () => {
    const team = make();
    fakeApi.devices.mockResolvedValue([device('d1', 'sam'), device('d2', 'sam')]);
    await team.loadDevices();
    await team.revokeDevice(team.devices[0]);
    expect(fakeApi.revokeDevice).toHaveBeenCalledWith('d1');
    expect(team.devices.map((d) => d.id)).toEqual(['d2']);
    await team.signOutEverywhere(sam);
    expect(fakeApi.signOutAgent).toHaveBeenCalledWith('sam');
  });

  it('sends an inbox’s templates trimmed', async () => {
    const team = make();
    expect(await team.setInboxTemplates('inbox-1', [{ name: ' follow_up ', language: ' fa ', body: 'سلام {{1}}' }])).toBe(true);
    expect(fakeApi.setInboxTemplates).toHaveBeenCalledWith('inbox-1', [{ name: 'follow_up', language: 'fa', body: 'سلام {{1}}' }]);
  });

  it('says the devices wait for the server when offline', async () => {
    const team = make();
    fakeApi.devices.mockRejectedValueOnce(new ApiError('offline', 'down'));
    await team.loadDevices();
    expect(team.devicesError).toMatch(/server/);
  });
});
