import { describe, expect, it, vi } from 'vitest';
import {
  effectiveLockMinutes,
  IdleTimer,
  LOCK_AFTER_CHOICES,
  loadLockAfter,
  loadLockRequired,
  lockChoiceAllowed,
  saveLockAfter,
  saveLockRequired,
  ShiftableClock,
} from './idle';

function fixture(minutes: number) {
  let now = 1_000_000;
  const onIdle = vi.fn();
  const timer = new IdleTimer(minutes, () => now, onIdle);
  return { timer, onIdle, advance: (ms: number) => (now += ms) };
}

describe('IdleTimer', () => {
  it('fires once after the idle time without activity', () => {
    const { timer, onIdle, advance } = fixture(5);
    advance(5 * 60_000 - 1);
    timer.tick();
    expect(onIdle).not.toHaveBeenCalled();
    expect(timer.remainingMs()).toBe(1);
    advance(1);
    timer.tick();
    timer.tick();
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('starts again on activity', () => {
    const { timer, onIdle, advance } = fixture(1);
    advance(50_000);
    timer.activity();
    advance(50_000);
    timer.tick();
    expect(onIdle).not.toHaveBeenCalled();
    advance(10_000);
    timer.tick();
    expect(onIdle).toHaveBeenCalledTimes(1);
    // Unlocked and busy again: armed for the next idle stretch.
    timer.activity();
    advance(60_000);
    timer.tick();
    expect(onIdle).toHaveBeenCalledTimes(2);
  });

  it('never fires when off, and a new choice counts from now', () => {
    const { timer, onIdle, advance } = fixture(0);
    advance(24 * 3_600_000);
    timer.tick();
    expect(onIdle).not.toHaveBeenCalled();
    expect(timer.remainingMs()).toBeNull();
    timer.setMinutes(15);
    advance(15 * 60_000 - 1000);
    timer.tick();
    expect(onIdle).not.toHaveBeenCalled();
    advance(1000);
    timer.tick();
    expect(onIdle).toHaveBeenCalledTimes(1);
  });
});

describe('the lock-after choice', () => {
  it('round-trips the offered choices and treats anything else as never', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(loadLockAfter(storage)).toBe(0);
    for (const minutes of LOCK_AFTER_CHOICES) {
      saveLockAfter(storage, minutes);
      expect(loadLockAfter(storage)).toBe(minutes);
    }
    store.set('switchboard.lockAfterMinutes', '7');
    expect(loadLockAfter(storage)).toBe(0);
    expect(loadLockAfter(null)).toBe(0);
  });

  it('a shiftable clock moves forward on demand', () => {
    const clock = new ShiftableClock();
    const before = clock.now();
    clock.advance(60_000);
    expect(clock.now() - before).toBeGreaterThanOrEqual(60_000);
  });
});

describe('an admin’s required lock time', () => {
  it('locks at the required time on the injected clock even if the agent chose longer or never', () => {
    for (const chosen of [30, 0]) {
      const { timer, onIdle, advance } = fixture(effectiveLockMinutes(chosen, 5));
      advance(5 * 60_000 - 1);
      timer.tick();
      expect(onIdle, `chosen ${chosen}: not before 5 minutes`).not.toHaveBeenCalled();
      advance(1);
      timer.tick();
      expect(onIdle, `chosen ${chosen}: at 5 minutes`).toHaveBeenCalledTimes(1);
    }
  });

  it('keeps a shorter choice, and without a requirement the agent’s own', () => {
    expect(effectiveLockMinutes(1, 5)).toBe(1);
    expect(effectiveLockMinutes(30, null)).toBe(30);
    expect(effectiveLockMinutes(0, null)).toBe(0);
  });

  it('offers only the choices within the requirement, never “never”', () => {
    expect(LOCK_AFTER_CHOICES.filter((m) => lockChoiceAllowed(m, 5))).toEqual([1, 5]);
    expect(LOCK_AFTER_CHOICES.filter((m) => lockChoiceAllowed(m, null))).toEqual([...LOCK_AFTER_CHOICES]);
  });

  it('keeps the last requirement read for when the server can’t be reached', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    expect(loadLockRequired(storage)).toBeNull();
    saveLockRequired(storage, 15);
    expect(loadLockRequired(storage)).toBe(15);
    saveLockRequired(storage, null);
    expect(loadLockRequired(storage)).toBeNull();
    store.set('switchboard.lockRequiredMinutes', 'garbage');
    expect(loadLockRequired(storage)).toBeNull();
  });
});
