// The app lock's idle side in the window: the chosen idle time (kept in localStorage, on this
// device), the longest an admin allows (read from the server, `lock_policy`, and kept for when it
// can't be reached), the timer on the shorter of the two, and the test hook. The lock itself is
// the shell's (see `Session.lock`).
import { api } from '../api';
import {
  effectiveLockMinutes,
  IdleTimer,
  loadLockAfter,
  loadLockRequired,
  saveLockAfter,
  saveLockRequired,
  ShiftableClock,
  type LockAfter,
} from '../idle';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** How often the timer is checked: a lock comes at most this late. */
export const IDLE_CHECK_MS = 1000;

export class AppLockState {
  readonly clock = new ShiftableClock();
  minutes = $state<LockAfter>(loadLockAfter(storage()));
  /** The longest idle time an admin allows, in minutes (null: the agent's choice stands). */
  required = $state<number | null>(loadLockRequired(storage()));
  readonly timer: IdleTimer;

  constructor(onIdle: () => void) {
    this.timer = new IdleTimer(this.effective, this.clock.now, onIdle);
  }

  /** The idle time the timer runs on. */
  get effective(): number {
    return effectiveLockMinutes(this.minutes, this.required);
  }

  choose(minutes: LockAfter): void {
    this.minutes = minutes;
    saveLockAfter(storage(), minutes);
    this.timer.setMinutes(this.effective);
  }

  /** Applies the admin's requirement (from the server, or just set by this admin). */
  setRequired(required: number | null): void {
    const before = this.effective;
    this.required = required;
    saveLockRequired(storage(), required);
    if (this.effective !== before) this.timer.setMinutes(this.effective);
  }

  /** Reads the requirement from the server; while it can't be reached the last one read holds. */
  async refreshRequired(): Promise<void> {
    try {
      this.setRequired(await api.lockPolicy());
    } catch {
      // Offline or signed out: keep what was last read.
    }
  }

  /** Starts watching for activity; returns the stop function. Installs the e2e's hook, which can
   * only bring a lock sooner (it moves the timer's clock forward). */
  watch(target: Window): () => void {
    const activity = () => this.timer.activity();
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;
    for (const name of events) target.addEventListener(name, activity, { passive: true, capture: true });
    const interval = target.setInterval(() => this.timer.tick(), IDLE_CHECK_MS);
    (target as unknown as { __switchboardIdle?: unknown }).__switchboardIdle = {
      advance: (ms: number) => {
        this.clock.advance(ms);
        this.timer.tick();
      },
    };
    return () => {
      for (const name of events) target.removeEventListener(name, activity, { capture: true });
      target.clearInterval(interval);
    };
  }
}
