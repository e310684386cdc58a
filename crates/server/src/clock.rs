//! The clock is passed in, never read from a hidden global, so tests can move time (the 24-hour
//! reply window, snoozes, backoff) without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use switchboard_proto::Millis;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

/// Wall-clock time.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The server's one read of the system time.
    fn now(&self) -> Millis {
        let since_epoch =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Millis::try_from(since_epoch.as_millis()).unwrap_or(Millis::MAX)
    }
}

/// Wall-clock time plus an offset a test can move forward, or held at one instant (a burst of
/// messages that all carry the same time).
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset: AtomicI64,
    /// The instant the clock is held at; 0 while it runs.
    held: AtomicI64,
}

impl ShiftedClock {
    pub fn advance(&self, by: Millis) {
        self.offset.fetch_add(by, Ordering::SeqCst);
        let _ = self.held.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |at| (at != 0).then_some(at + by));
    }

    /// Holds the clock at its current time until [`ShiftedClock::release`] (`advance` still moves it).
    pub fn hold(&self) {
        self.held.store(self.now(), Ordering::SeqCst);
    }

    /// Lets a held clock run again from wall-clock time plus its offset.
    pub fn release(&self) {
        self.held.store(0, Ordering::SeqCst);
    }

    /// How far this clock has been moved ahead of wall-clock time.
    pub fn offset(&self) -> Millis {
        self.offset.load(Ordering::SeqCst)
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Millis {
        match self.held.load(Ordering::SeqCst) {
            0 => SystemClock.now() + self.offset.load(Ordering::SeqCst),
            at => at,
        }
    }
}

/// A clock that shows whatever time it was last set to (the demo seeder writes history with it).
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    pub fn set(&self, now: Millis) {
        self.now.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}
