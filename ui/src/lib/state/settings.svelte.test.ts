import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { Directory, Inbox } from '../bindings';
import { defaultCalendar } from '../settings';
import { SettingsState } from './settings.svelte';
import { deferred, directory, fakeApi, resetFakeApi, settle } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

const admin: Directory = {
  ...directory,
  me: { ...directory.me, role: 'admin' },
  agents: [{ ...directory.me, id: 'sam', name: 'Sam', capacity: null }],
};

function make(start: Directory = admin) {
  let current = start;
  const deps = { report: vi.fn(), directory: () => current };
  const settings = new SettingsState(deps);
  return { settings, deps, setDirectory: (next: Directory) => (current = next) };
}

function withInbox(base: Directory, inbox: Partial<Inbox>): Directory {
  return { ...base, inboxes: [{ ...base.inboxes[0], ...inbox }] };
}

describe('SettingsState', () => {
  it('shows settings to leads and admins, who may both change them, and not to agents', () => {
    expect([make(directory).settings.canView(), make(directory).settings.canEdit()]).toEqual([false, false]);
    const lead = make({ ...admin, me: { ...admin.me, role: 'lead' } }).settings;
    expect([lead.canView(), lead.canEdit()]).toEqual([true, true]);
    const { settings } = make();
    expect([settings.canView(), settings.canEdit()]).toEqual([true, true]);
  });

  it('opens on the first inbox with a draft of its settings, and loads the zones once', async () => {
    const { settings } = make();
    await settings.open();
    await settings.open();
    expect(settings.page).toEqual({ type: 'inbox', id: 'inbox-1' });
    expect(settings.drafts['inbox-1'].routing.mode).toBe('manual');
    expect(settings.isDirty('inbox-1')).toBe(false);
    expect(fakeApi.timeZones).toHaveBeenCalledTimes(1);
    expect(settings.zones).toContain('Asia/Tehran');
  });

  it('saves a changed draft and takes the server’s answer as the new baseline', async () => {
    const { settings } = make();
    await settings.open();
    const draft = settings.drafts['inbox-1'];
    draft.hours = defaultCalendar('Asia/Tehran');
    draft.hours.weekly.thu.push({ start: '22:00', end: '06:00' });
    expect(settings.isDirty('inbox-1')).toBe(true);
    const stored: Inbox = { ...admin.inboxes[0], hours: { versions: [{ version: 1, effective_from: 10, calendar: JSON.parse(JSON.stringify(draft.hours)) }] } };
    fakeApi.saveInboxSettings.mockResolvedValue(stored);
    expect(await settings.save('inbox-1')).toBe(true);
    expect(fakeApi.saveInboxSettings).toHaveBeenCalledWith('inbox-1', expect.objectContaining({ hours: expect.objectContaining({ time_zone: 'Asia/Tehran' }) }));
    expect(settings.isDirty('inbox-1')).toBe(false);
    expect(settings.failures['inbox-1']).toBeNull();
  });

  it('saves an inbox’s visibility mode, and follows a colleague’s change of it while untouched', async () => {
    const { settings, setDirectory } = make();
    await settings.open();
    expect(settings.drafts['inbox-1'].visibility).toBe('everything');
    settings.drafts['inbox-1'].visibility = 'mine_only';
    expect(settings.isDirty('inbox-1')).toBe(true);
    const stored: Inbox = { ...admin.inboxes[0], visibility: 'mine_only' };
    fakeApi.saveInboxSettings.mockResolvedValue(stored);
    expect(await settings.save('inbox-1')).toBe(true);
    expect(fakeApi.saveInboxSettings).toHaveBeenCalledWith('inbox-1', expect.objectContaining({ visibility: 'mine_only' }));
    expect(settings.isDirty('inbox-1')).toBe(false);
    setDirectory(withInbox(admin, { visibility: 'mine_and_unassigned' }));
    settings.directoryChanged();
    expect(settings.drafts['inbox-1'].visibility).toBe('mine_and_unassigned');
    expect(settings.changedElsewhere['inbox-1']).toBeFalsy();
  });

  it('sends nothing while a field is wrong', async () => {
    const { settings } = make();
    await settings.open();
    settings.drafts['inbox-1'].hours = defaultCalendar('Asia/Tehran');
    settings.drafts['inbox-1'].hours!.weekly.mon = [{ start: '09:00', end: '13:00' }, { start: '12:00', end: '18:00' }];
    expect(await settings.save('inbox-1')).toBe(false);
    expect(fakeApi.saveInboxSettings).not.toHaveBeenCalled();
    expect(settings.failures['inbox-1']?.code).toBe('validation');
  });

  it('keeps the draft as typed when the server refuses it or can’t be reached, and reverts on request', async () => {
    const { settings } = make();
    await settings.open();
    settings.drafts['inbox-1'].routing.mode = 'round_robin';
    fakeApi.saveInboxSettings.mockRejectedValueOnce(new ApiError('offline', 'unreachable'));
    expect(await settings.save('inbox-1')).toBe(false);
    expect(settings.failures['inbox-1']?.code).toBe('offline');
    expect(settings.drafts['inbox-1'].routing.mode).toBe('round_robin');
    expect(settings.isDirty('inbox-1')).toBe(true);

    fakeApi.saveInboxSettings.mockRejectedValueOnce(new ApiError('forbidden', 'admins only'));
    expect(await settings.save('inbox-1')).toBe(false);
    expect(settings.failures['inbox-1']?.code).toBe('forbidden');
    expect(settings.drafts['inbox-1'].routing.mode).toBe('round_robin');

    settings.revert('inbox-1');
    expect(settings.drafts['inbox-1'].routing.mode).toBe('manual');
    expect(settings.isDirty('inbox-1')).toBe(false);
    expect(settings.failures['inbox-1']).toBeNull();
  });

  it('keeps what was typed while a save was on its way', async () => {
    const { settings } = make();
    await settings.open();
    settings.drafts['inbox-1'].routing.mode = 'round_robin';
    const answer = deferred<Inbox>();
    fakeApi.saveInboxSettings.mockReturnValue(answer.promise);
    const saving = settings.save('inbox-1');
    settings.drafts['inbox-1'].routing.max_handovers = 5;
    answer.resolve({ ...admin.inboxes[0], routing: { ...admin.inboxes[0].routing, mode: 'round_robin' } });
    await saving;
    expect(settings.drafts['inbox-1'].routing.max_handovers).toBe(5);
    expect(settings.isDirty('inbox-1')).toBe(true);
  });

  it('follows the feed when untouched, and says so when a colleague saved over a draft', async () => {
    const { settings, setDirectory } = make();
    await settings.open();
    const colleague = withInbox(admin, { routing: { ...admin.inboxes[0].routing, mode: 'least_loaded' } });
    setDirectory(colleague);
    settings.directoryChanged();
    expect(settings.drafts['inbox-1'].routing.mode).toBe('least_loaded');
    expect(settings.changedElsewhere['inbox-1']).toBeFalsy();

    settings.drafts['inbox-1'].routing.max_handovers = 4;
    setDirectory(withInbox(colleague, { routing: { ...colleague.inboxes[0].routing, mode: 'round_robin' } }));
    settings.directoryChanged();
    expect(settings.drafts['inbox-1'].routing).toMatchObject({ mode: 'least_loaded', max_handovers: 4 });
    expect(settings.changedElsewhere['inbox-1']).toBe(true);
    settings.revert('inbox-1');
    expect(settings.drafts['inbox-1'].routing.mode).toBe('round_robin');
  });

  it("a colleague's save of another section reaches the draft, so saving never undoes it", async () => {
    const { settings, setDirectory } = make();
    await settings.open();
    // This lead edits routing; meanwhile a colleague's away message arrives through the feed.
    settings.drafts['inbox-1'].routing.max_handovers = 3;
    const away = { greeting: null, away: { body: 'Closed', delay_secs: 0 }, keywords: [] };
    setDirectory(withInbox(admin, { auto_replies: away }));
    settings.directoryChanged();
    expect(settings.drafts['inbox-1'].auto_replies).toEqual(away);
    expect(settings.drafts['inbox-1'].routing.max_handovers).toBe(3);
    expect(settings.changedElsewhere['inbox-1']).toBeFalsy();
  });

  it('saves a capacity as typed, refuses nonsense, and shows a refusal beside the field', async () => {
    const { settings } = make();
    const sam = admin.agents[0];
    settings.capacities[sam.id] = 'four';
    expect(settings.capacityValid(sam)).toBe(false);
    expect(await settings.saveCapacity(sam)).toBe(false);
    expect(fakeApi.setCapacity).not.toHaveBeenCalled();

    settings.capacities[sam.id] = '4';
    fakeApi.setCapacity.mockResolvedValueOnce({ ...sam, capacity: 4 });
    expect(await settings.saveCapacity(sam)).toBe(true);
    expect(fakeApi.setCapacity).toHaveBeenCalledWith('sam', 4);

    const samNow = { ...sam, capacity: 4 }; // as the feed brings him
    settings.capacities[sam.id] = '';
    fakeApi.setCapacity.mockRejectedValueOnce(new ApiError('offline', 'unreachable'));
    expect(await settings.saveCapacity(samNow)).toBe(false);
    expect(settings.capacityFailures[sam.id]).toBeTruthy();
    expect(settings.capacityText(samNow)).toBe('');
  });

  it('loads the workload for leads, and words a refusal', async () => {
    const { settings } = make({ ...admin, me: { ...admin.me, role: 'lead' } });
    fakeApi.workload.mockResolvedValueOnce({ agents: [], queued: 3, oldest_waiting_since: 1 });
    settings.show({ type: 'agents' });
    await settle();
    expect(settings.workload?.queued).toBe(3);
    fakeApi.workload.mockRejectedValueOnce(new ApiError('offline', 'unreachable'));
    await settings.loadWorkload();
    expect(settings.workloadError).toBeTruthy();
  });

  it('forgets the previous account’s drafts on a new session', async () => {
    const { settings } = make();
    await settings.open();
    settings.drafts['inbox-1'].routing.mode = 'round_robin';
    settings.reset();
    expect(settings.drafts).toEqual({});
    expect(settings.page).toBeNull();
  });
});
