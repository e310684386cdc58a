import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { ListRequest, Workload } from '../bindings';
import { WorkloadState } from './workload.svelte';
import { conversation, directory, fakeApi, resetFakeApi, row } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

const fake = fakeApi as unknown as Record<string, ReturnType<typeof vi.fn>>;

const workload: Workload = {
  agents: [
    { agent_id: 'sara', availability: 'online', connected: true, load: 2, capacity: 5, parked: 0, can_take_more: true, oldest_waiting_since: 100, breaching_soon: 1 },
    { agent_id: 'sam', availability: 'busy', connected: false, load: 4, capacity: 4, parked: 1, can_take_more: false, oldest_waiting_since: null, breaching_soon: 0 },
  ],
  queued: 3,
  oldest_waiting_since: 50,
};

describe('WorkloadState', () => {
  beforeEach(() => {
    resetFakeApi();
    fake.workload.mockResolvedValue(workload);
    fake.listConversations.mockImplementation(async (request: ListRequest) => {
      const agent = (request.view as { type: 'agent'; id: string }).id;
      const rows = agent === 'sam' ? ['s1', 's2', 's3'].map((id) => ({ ...row(id), conversation: conversation(id, { assignee_id: 'sam' }) })) : [];
      return { total: rows.length, offset: 0, rows };
    });
  });

  it('opens on the busiest agent’s queue, read from the cache’s agent view', async () => {
    const state = new WorkloadState({ report: vi.fn(), directory: () => directory });
    await state.open();
    expect(state.data).toEqual(workload);
    expect(state.agentId).toBe('sam');
    expect(state.queue.map((r) => r.conversation.id)).toEqual(['s1', 's2', 's3']);
    expect(fake.listConversations).toHaveBeenCalledWith(expect.objectContaining({ view: { type: 'agent', id: 'sam' }, status: null }));
  });

  it('reassigns a selection, or returns it to the queue, through one assign call', async () => {
    const state = new WorkloadState({ report: vi.fn(), directory: () => directory });
    await state.open();
    state.toggle('s1');
    state.toggle('s3');
    await state.reassign('sara');
    expect(fake.assign).toHaveBeenLastCalledWith(['s1', 's3'], 'sara', false);
    expect(state.selected.size).toBe(0);
    state.toggleAll();
    expect(state.selected.size).toBe(3);
    await state.reassign(null);
    expect(fake.assign).toHaveBeenLastCalledWith(['s1', 's2', 's3'], null, false);
  });

  it('says so offline and keeps the queue from the cache', async () => {
    fake.workload.mockRejectedValue(new ApiError('offline', 'no network'));
    const state = new WorkloadState({ report: vi.fn(), directory: () => directory });
    await state.open();
    expect(state.error).toBeTruthy();
    await state.select('sam');
    expect(state.queue).toHaveLength(3);
  });
});
