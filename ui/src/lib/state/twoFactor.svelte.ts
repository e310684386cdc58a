// Two-step verification of the signed-in agent (the settings' Security page, and the screen an
// agent an admin requires to enrol sees before the inbox): its state, enrolling with a QR code or
// the key by hand, confirming with a code, the recovery codes shown once, turning it off.
import { api, ApiError } from '../api';
import type { TwoFactorSetup, TwoFactorState } from '../bindings';
import { twoFactorErrorText } from '../errors';
import { t } from '../i18n';
import { cleanCode, isCode, isTotpCode } from '../twoFactor';

/** `codes`: enrolment confirmed, the recovery codes on screen until the agent says they kept them. */
export type TwoFactorStep = 'loading' | 'overview' | 'setup' | 'codes' | 'disabling';

function text(error: unknown): string {
  const e = error instanceof ApiError ? error : new ApiError('internal', String(error));
  return twoFactorErrorText(e.code, e.message);
}

export class TwoFactorFlow {
  step = $state<TwoFactorStep>('loading');
  status = $state.raw<TwoFactorState | null>(null);
  setup = $state.raw<TwoFactorSetup | null>(null);
  recoveryCodes = $state.raw<string[]>([]);
  error = $state<string | null>(null);
  busy = $state(false);

  async load(): Promise<void> {
    this.step = 'loading';
    await this.run(async () => {
      this.status = await api.twoFactorStatus();
      this.step = 'overview';
    });
  }

  /** A new secret: its QR code and key show until a code confirms it. */
  async begin(): Promise<void> {
    await this.run(async () => {
      this.setup = await api.beginTwoFactor();
      this.step = 'setup';
    });
  }

  /** True when the code turned it on (the recovery codes then show). */
  async confirm(code: string): Promise<boolean> {
    if (!isTotpCode(code)) {
      this.error = t('signin.errors.missing_code');
      return false;
    }
    return this.run(async () => {
      this.recoveryCodes = await api.confirmTwoFactor(cleanCode(code));
      this.setup = null;
      this.step = 'codes';
    });
  }

  /** The recovery codes were kept: they leave the screen (and memory) for good. */
  async codesKept(): Promise<void> {
    this.recoveryCodes = [];
    await this.load();
  }

  askToDisable(): void {
    this.error = null;
    this.step = 'disabling';
  }

  cancel(): void {
    this.error = null;
    this.setup = null;
    this.step = 'overview';
  }

  async disable(code: string): Promise<boolean> {
    if (!isCode(code)) {
      this.error = t('signin.errors.missing_code');
      return false;
    }
    const done = await this.run(() => api.disableTwoFactor(cleanCode(code)));
    if (done) await this.load();
    return done;
  }

  private async run(work: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await work();
      return true;
    } catch (error) {
      this.error = text(error);
      if (this.step === 'loading') this.step = 'overview';
      return false;
    } finally {
      this.busy = false;
    }
  }
}
