//! The triage board's figure (issue 18): with 5,000 unresolved conversations in the client core's
//! cache, every page of every column as the board asks for it while scrolling (`View::Board`, all
//! statuses, longest waiting first, pages of 100 as `ui/src/lib/virtual.ts` has them), timed
//! like the cache figures' list pages. The workspace is the generator's (`generate.rs`), with some
//! open conversations set waiting on the customer and some escalated so every column has cards.

use std::time::Instant;

use switchboard_core::cache::{
    views::{BoardColumn, ListQuery, Sort, View},
    Cache,
};
use switchboard_proto::*;

use crate::{
    figures::{millis, percentile},
    generate::{self, Preset},
    report::Row,
};

/// The board's page size (`PAGE_SIZE` in `ui/src/lib/virtual.ts`).
pub const PAGE: usize = 100;

/// The generated workspace with `open` unresolved conversations spread over the four columns.
fn workspace(open: usize, seed: u64) -> generate::Workspace {
    // The generator resolves one conversation in five.
    let conversations = open * 5 / 4;
    let mut workspace =
        generate::generate(Preset { conversations, messages: conversations * 10 }, seed, None);
    let mut n = 0;
    for change in &mut workspace.changes {
        if change.entity != EntityKind::Conversation {
            continue;
        }
        let Some(mut conversation) =
            change.data.take().and_then(|data| serde_json::from_value::<Conversation>(data).ok())
        else {
            continue;
        };
        if conversation.status == ConversationStatus::Open {
            n += 1;
            if n % 6 == 1 {
                conversation.status = ConversationStatus::Pending;
            } else if n % 10 == 2 {
                conversation.escalation = Some(escalation::Escalation {
                    at: conversation.last_activity_at,
                    by: escalation::EscalatedBy::Sla,
                    note: Some("first response overdue".into()),
                });
            }
        }
        change.data = serde_json::to_value(&conversation).ok();
    }
    workspace
}

/// This thread's time on a CPU and waiting on the run queue so far, in nanoseconds
/// (`/proc/thread-self/schedstat`; `None` where there is no such file): a slow page with little
/// CPU time behind it waited for the machine, not for the cache.
fn thread_times() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some((fields.next()??, fields.next()??))
}

/// Every page of each column, scrolled top to bottom `rounds` times.
pub fn board_figures(quick: bool, seed: u64) -> anyhow::Result<Vec<Row>> {
    let open = if quick { 1_000 } else { 5_000 };
    let rounds = if quick { 3 } else { 10 };
    let workspace = workspace(open, seed);
    let dir = tempfile::tempdir()?;
    let cache = Cache::open(&dir.path().join("board.db"))?;
    cache.set_identity(workspace.me, Millis::MAX)?;
    for page in workspace.changes.chunks(500) {
        cache.apply_page(page, page.last().map_or(0, |c| c.seq))?;
    }
    let mut samples = Vec::new();
    // Each page's time on the CPU and on the run queue (ms), where the kernel says.
    let mut cpu = Vec::new();
    let mut slowest: Option<(f64, f64, f64)> = None;
    let mut cards = [0usize; 4];
    for _ in 0..rounds {
        for (c, column) in BoardColumn::ALL.into_iter().enumerate() {
            let mut offset = 0;
            loop {
                let query = ListQuery {
                    view: View::Board(column),
                    status: None,
                    sort: Sort::WaitingLongest,
                    offset,
                    limit: PAGE,
                };
                let before = thread_times();
                let started = Instant::now();
                let page = cache.list(&query, 0)?;
                let wall = millis(started.elapsed());
                samples.push(wall);
                if let (Some(before), Some(after)) = (before, thread_times()) {
                    let (on_cpu, queued) =
                        ((after.0 - before.0) as f64 / 1e6, (after.1 - before.1) as f64 / 1e6);
                    cpu.push(on_cpu);
                    if slowest.is_none_or(|(w, _, _)| wall > w) {
                        slowest = Some((wall, on_cpu, queued));
                    }
                }
                offset += page.len();
                if page.len() < PAGE {
                    break;
                }
            }
            cards[c] = offset;
        }
    }
    let total: usize = cards.iter().sum();
    let pages = samples.len() / rounds.max(1);
    let worst = samples.iter().copied().fold(0.0, f64::max);
    let (p50, p95) = (percentile(&mut samples, 0.5), percentile(&mut samples, 0.95));
    let on_cpu = match slowest {
        Some((wall, on_cpu, queued)) => {
            let most = cpu.iter().copied().fold(0.0, f64::max);
            let (c50, c95) = (percentile(&mut cpu, 0.5), percentile(&mut cpu, 0.95));
            format!(
                "; on the CPU per page p50 {c50:.1} ms, p95 {c95:.1} ms, most {most:.1} ms; the slowest page ({wall:.1} ms) ran {on_cpu:.1} ms and waited {queued:.1} ms for a CPU"
            )
        }
        None => String::new(),
    };
    Ok(vec![Row {
        figure: format!("board: a page of {PAGE} cards, {total} unresolved conversations"),
        ours: format!("p50 {p50:.1} ms, p95 {p95:.1} ms, slowest {worst:.1} ms"),
        baseline: String::new(),
        ratio: None,
        target: "each page ≤ 16 ms".into(),
        pass: Some(worst <= 16.0),
        note: format!(
            "core cache, {pages} pages scrolled top to bottom {rounds} times (New {}, Assigned {}, Waiting {}, Escalated {}); longest waiting first{on_cpu}",
            cards[0], cards[1], cards[2], cards[3]
        ),
    }])
}
