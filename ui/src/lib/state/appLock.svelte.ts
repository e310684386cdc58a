// The app lock's idle side in the window: the chosen idle time (kept in localStorage, on this
// device), the timer, and the test hook. The lock itself is the shell's (see `Session.lock`).
import { IdleTimer, loadLockAfter, saveLockAfter, ShiftableClock, type LockAfter } from '../idle';

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
  readonly timer: IdleTimer;

  constructor(onIdle: () => void) {
    this.timer = new IdleTimer(this.minutes, this.clock.now, onIdle);
  }

  choose(minutes: LockAfter): void {
    this.minutes = minutes;
    saveLockAfter(storage(), minutes);
    this.timer.setMinutes(minutes);
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
