import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import { TwoFactorFlow } from './twoFactor.svelte';
import { fakeApi, resetFakeApi } from './testing';

vi.mock('../api', async (real) => ({ ...(await real<object>()), ...(await import('./testing')).fakeApiModule }));

beforeEach(() => resetFakeApi());

describe('TwoFactorFlow', () => {
  it('enrols: the QR code and key, a code, then the recovery codes once', async () => {
    const flow = new TwoFactorFlow();
    await flow.load();
    expect(flow.step).toBe('overview');
    expect(flow.status?.enabled).toBe(false);
    await flow.begin();
    expect(flow.step).toBe('setup');
    expect(flow.setup?.secret).toBe('JBSWY3DPEHPK3PXP');
    expect(await flow.confirm('123 456')).toBe(true);
    expect(fakeApi.confirmTwoFactor).toHaveBeenCalledWith('123456');
    expect(flow.step).toBe('codes');
    expect(flow.recoveryCodes).toEqual(['AAAAA-11111', 'BBBBB-22222']);
    expect(flow.setup).toBeNull();
    fakeApi.twoFactorStatus.mockResolvedValue({ enabled: true, recovery_codes_left: 10, required: false });
    await flow.codesKept();
    expect(flow.recoveryCodes).toEqual([]);
    expect(flow.status?.enabled).toBe(true);
  });

  it('says a wrong code is wrong and stays on the setup step', async () => {
    const flow = new TwoFactorFlow();
    await flow.begin();
    fakeApi.confirmTwoFactor.mockRejectedValue(new ApiError('validation', 'that code doesn’t match'));
    expect(await flow.confirm('000000')).toBe(false);
    expect(flow.step).toBe('setup');
    expect(flow.error).toMatch(/doesn’t match/);
  });

  it('does not send what cannot be a code', async () => {
    const flow = new TwoFactorFlow();
    await flow.begin();
    expect(await flow.confirm('12345')).toBe(false);
    expect(await flow.confirm('ABCDE-12345')).toBe(false);
    expect(fakeApi.confirmTwoFactor).not.toHaveBeenCalled();
    expect(flow.error).toMatch(/6-digit/);
  });

  it('turns it off with a recovery code, and explains a refusal when an admin requires it', async () => {
    const flow = new TwoFactorFlow();
    await flow.load();
    flow.askToDisable();
    expect(await flow.disable('abcde-12345')).toBe(true);
    expect(fakeApi.disableTwoFactor).toHaveBeenCalledWith('ABCDE-12345');
    flow.askToDisable();
    fakeApi.disableTwoFactor.mockRejectedValue(new ApiError('forbidden', 'an admin requires two-factor sign-in for you'));
    expect(await flow.disable('123456')).toBe(false);
    expect(flow.error).toMatch(/admin requires/);
  });

  it('explains that it changes only online', async () => {
    fakeApi.twoFactorStatus.mockRejectedValue(new ApiError('offline', 'connection refused'));
    const flow = new TwoFactorFlow();
    await flow.load();
    expect(flow.error).toMatch(/only be changed online/);
  });
});
