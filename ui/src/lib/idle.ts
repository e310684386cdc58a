// The app lock's idle timer: activity (a key, the mouse, a touch) resets it; once the chosen
// minutes pass without any, it fires once. Time comes from an injected clock and the timer is
// checked by `tick()`, so tests (and the e2e, through a test hook) move time instead of waiting.

/** The idle times the agent can choose, in minutes; 0 is "never lock". */
export const LOCK_AFTER_CHOICES = [0, 1, 5, 15, 30] as const;
export type LockAfter = (typeof LOCK_AFTER_CHOICES)[number];

const STORAGE_KEY = 'switchboard.lockAfterMinutes';

/** The stored choice, or "never" for anything missing or unknown. */
export function loadLockAfter(storage: Pick<Storage, 'getItem'> | null): LockAfter {
  const stored = Number(storage?.getItem(STORAGE_KEY));
  return (LOCK_AFTER_CHOICES as readonly number[]).includes(stored) ? (stored as LockAfter) : 0;
}

/**
 * The idle time in force: the agent's choice (0: never) bounded by the longest an admin allows
 * (`required`, null: none). The server's twin is `effective_lock_minutes` in `crates/proto`.
 */
export function effectiveLockMinutes(chosen: number, required: number | null): number {
  if (required === null) return chosen;
  return chosen === 0 || chosen > required ? required : chosen;
}

/** Whether the agent may pick `minutes` while an admin requires at most `required`. */
export function lockChoiceAllowed(minutes: number, required: number | null): boolean {
  return required === null || (minutes !== 0 && minutes <= required);
}

const REQUIRED_KEY = 'switchboard.lockRequiredMinutes';

/** The admin's requirement as last read from the server (kept so it holds offline too). */
export function loadLockRequired(storage: Pick<Storage, 'getItem'> | null): number | null {
  const stored = Number(storage?.getItem(REQUIRED_KEY) ?? NaN);
  return Number.isInteger(stored) && stored > 0 ? stored : null;
}

export function saveLockRequired(storage: Pick<Storage, 'setItem' | 'removeItem'> | null, minutes: number | null): void {
  if (minutes === null) storage?.removeItem(REQUIRED_KEY);
  else storage?.setItem(REQUIRED_KEY, String(minutes));
}

export function saveLockAfter(storage: Pick<Storage, 'setItem'> | null, minutes: LockAfter): void {
  storage?.setItem(STORAGE_KEY, String(minutes));
}

export class IdleTimer {
  private lastActivity: number;
  private fired = false;

  constructor(
    private minutes: number,
    private readonly now: () => number,
    private readonly onIdle: () => void,
  ) {
    this.lastActivity = now();
  }

  /** The person did something: the idle time starts again. */
  activity(): void {
    this.lastActivity = this.now();
    this.fired = false;
  }

  /** A new idle time (0: never); counted from now. */
  setMinutes(minutes: number): void {
    this.minutes = minutes;
    this.activity();
  }

  /** How long until it fires (null: never). */
  remainingMs(): number | null {
    if (this.minutes <= 0 || this.fired) return null;
    return Math.max(0, this.lastActivity + this.minutes * 60_000 - this.now());
  }

  /** Fires `onIdle` once when the idle time has passed; activity arms it again. */
  tick(): void {
    if (this.remainingMs() === 0) {
      this.fired = true;
      this.onIdle();
    }
  }
}

/** A clock that a test hook can move forward (the e2e skips minutes this way). */
export class ShiftableClock {
  offsetMs = 0;
  now = (): number => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
