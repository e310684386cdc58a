import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import { toasts } from '../toasts.svelte';
import { Attachments } from './attachments.svelte';
import { directory, fakeApi, resetFakeApi } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => {
  resetFakeApi();
  toasts.clear();
});

function make(openId: string | null = 'c1') {
  const report = vi.fn();
  const attachments = new Attachments({ report, openId: () => openId, inboxOf: () => directory.inboxes[0] });
  return { attachments, report };
}

const file = (name: string, bytes: number) => new File([new Uint8Array(bytes)], name, { type: 'image/png' });

describe('Attachments', () => {
  it('stages a picked file through the shell', async () => {
    const { attachments } = make();
    await attachments.attachFiles('c1', [file('a.png', 3)]);
    expect(fakeApi.stagePasted).toHaveBeenCalledWith('c1', 'a.png', 'AAAA');
    expect(attachments.stagedFor('c1')).toEqual([expect.objectContaining({ state: 'ready', name: 'a.png', file: expect.objectContaining({ id: 'staged-1' }) })]);
    attachments.clear('c1');
    expect(attachments.stagedFor('c1')).toEqual([]);
  });

  it('a staged file taken off the message is taken back in the shell', async () => {
    const { attachments, report } = make();
    await attachments.attachFiles('c1', [file('a.png', 3)]);
    const [item] = attachments.stagedFor('c1');
    attachments.remove('c1', item.key);
    expect(attachments.stagedFor('c1')).toEqual([]);
    expect(fakeApi.unstageFile).toHaveBeenCalledWith('staged-1');
    expect(report).not.toHaveBeenCalled();
  });

  it('a file over the inbox limit is refused before it is read', async () => {
    const { attachments } = make();
    await attachments.attachFiles('c1', [file('big.png', 2048)]);
    expect(fakeApi.stagePasted).not.toHaveBeenCalled();
    expect(toasts.items.map((toast) => toast.tone)).toEqual(['error']);
  });

  it('a file the shell refuses is taken off', async () => {
    fakeApi.stagePasted.mockRejectedValue(new ApiError('validation', 'no'));
    const { attachments, report } = make();
    await attachments.attachFiles('c1', [file('a.png', 3)]);
    expect(attachments.stagedFor('c1')).toEqual([]);
    expect(report).toHaveBeenCalledOnce();
  });

  it('files dropped on the window go to the open conversation', async () => {
    fakeApi.stageFiles.mockResolvedValue([{ id: 's1', conversation_id: 'c1', file_name: 'b.pdf', content_type: 'application/pdf', size: 9 }]);
    const { attachments } = make();
    await attachments.handleDragDrop({ type: 'over' });
    expect(attachments.dragging).toBe(true);
    await attachments.handleDragDrop({ type: 'drop', paths: ['/home/sara/b.pdf'] });
    expect(attachments.dragging).toBe(false);
    expect(fakeApi.stageFiles).toHaveBeenCalledWith('c1', ['/home/sara/b.pdf']);
    expect(attachments.stagedFor('c1').map((item) => [item.key, item.state])).toEqual([['s1', 'ready']]);
  });

  it('with no conversation open a drop does nothing', async () => {
    const { attachments } = make(null);
    await attachments.handleDragDrop({ type: 'enter' });
    expect(attachments.dragging).toBe(false);
    await attachments.handleDragDrop({ type: 'drop', paths: ['/tmp/x'] });
    expect(fakeApi.stageFiles).not.toHaveBeenCalled();
  });

  it('a failed drop takes its placeholders off', async () => {
    fakeApi.stageFiles.mockRejectedValue(new ApiError('other', 'no'));
    const { attachments, report } = make();
    await attachments.handleDragDrop({ type: 'drop', paths: ['/a', '/b'] });
    expect(attachments.stagedFor('c1')).toEqual([]);
    expect(report).toHaveBeenCalledOnce();
  });
});
