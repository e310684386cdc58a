//! The wall clock, injected: logic takes a [`Clock`] (or a `now` argument) so tests can set the
//! time. [`system_now`] is the one place the client reads the system time.

use std::sync::Arc;

use switchboard_proto::Millis;

/// Milliseconds since the Unix epoch, as the app's logic sees them.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(system_now)
}

/// The system time in milliseconds since the Unix epoch (0 if the clock is before it).
#[allow(clippy::disallowed_methods)] // The one read of the system time; everything else is handed a `Clock`.
pub fn system_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}
