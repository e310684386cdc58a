//! The core's timing spans as a timeline: each closed span's name, start and end, recorded by a
//! `tracing` layer (`bootstrap.rs` breaks a fresh device's sign-in into its phases with it: the
//! snapshot's request, its decoding, storing it, the backfill's pages and the catch-up around them).

use std::{
    sync::{Mutex, OnceLock},
    time::Instant,
};

use tracing::{span, Subscriber};
use tracing_subscriber::{
    filter::{LevelFilter, Targets},
    layer::{Context, SubscriberExt},
    registry::LookupSpan,
    Layer,
};

/// One closed span.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: &'static str,
    pub start: Instant,
    pub end: Instant,
}

fn recorded() -> &'static Mutex<Vec<Phase>> {
    static RECORDED: OnceLock<Mutex<Vec<Phase>>> = OnceLock::new();
    RECORDED.get_or_init(Mutex::default)
}

struct Opened(Instant);

struct Recorder;

impl<S> Layer<S> for Recorder
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Opened(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let end = Instant::now();
        if let Some(span) = ctx.span(&id) {
            if let Some(Opened(start)) = span.extensions().get::<Opened>() {
                let phase = Phase { name: span.name(), start: *start, end };
                recorded().lock().unwrap_or_else(|p| p.into_inner()).push(phase);
            }
        }
    }
}

/// Records the core's debug spans from now on (once per process; a no-op if another global
/// subscriber was set first).
pub fn record() {
    let targets = Targets::new().with_target("switchboard_core", LevelFilter::DEBUG);
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Recorder.with_filter(targets)),
    );
}

/// The spans closed since the last call, in the order they started.
pub fn take() -> Vec<Phase> {
    let mut phases = std::mem::take(&mut *recorded().lock().unwrap_or_else(|p| p.into_inner()));
    phases.sort_by_key(|p| p.start);
    phases
}
