//! The team lead's reports, end to end: Sara opens Reports, and the chart's figures (read from the
//! DOM: the table of the chart's figures carries each bucket's numbers) equal the server's JSON for
//! the same query asked as Sara; a bar clicked with the mouse lists the conversations behind it,
//! those the server lists; "Export summary" goes through the real GTK save dialog, driven with xdotool in
//! the test's Xvfb display, and the saved file is byte for byte the server's CSV. Then the same
//! screens in Persian, right to left, for the README: reports, the board, workload and settings.

use std::{path::Path, time::Duration};

use serde_json::{json, Value};
use switchboard_e2e::{keys, Session};
use switchboard_proto::{reports::*, *};

use crate::{
    leave_fields, screenshot,
    server::{self, Api},
    Harness, WAIT,
};

pub async fn reports_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    // The two-factor steps left Sara enrolled; the admin removes it so the test can ask the
    // server as her (the app stays signed in).
    server.reset_two_factor(workspace.sara).await?;
    let sara = server.signed_in_as("sara@e2e.example").await?;
    // Long names fit the dialog (ellipsis, the whole name in a tooltip): Sara's is 60 characters
    // for these screens and a long Persian one for the right-to-left ones, then hers again.
    let name = server.agent(workspace.sara).await?.name;
    server.rename_agent(workspace.sara, LONG_NAME).await?;

    open_reports(session).await?;
    // The query the screen asked, as it says on the dialog, then the figures once they show.
    let query: Value = session
        .wait_until(
            "the reports screen shows its chart",
            "const d = document.querySelector('[data-testid=reports]'); \
             return d && document.querySelector('[data-testid=chart-bucket]') && JSON.parse(d.dataset.query);",
            WAIT,
        )
        .await?;
    let field = |name: &str| query[name].as_str().map(str::to_owned).unwrap_or_default();
    let (from, to, tz) = (field("from"), field("to"), field("time_zone"));
    let (group_by, interval) = (field("group_by"), field("interval"));
    let period = format!("from={from}&to={to}&tz={tz}");

    // The chart is asked ungrouped; its numbers are the server's, bucket by bucket.
    let series: ReportSeries = serde_json::from_slice(
        &sara
            .get_bytes(&format!("/api/v1/reports/timeseries?{period}&group_by=none&interval={interval}"))
            .await?,
    )?;
    let shown = chart_figures(session).await?;
    let expected: Vec<(i64, [u64; 3])> = series
        .buckets
        .iter()
        .enumerate()
        .map(|(i, bucket)| {
            let point = &series.rows[0].points[i];
            (bucket.start, [point.messages_in, point.first_response.count, point.resolutions])
        })
        .collect();
    anyhow::ensure!(
        shown == expected,
        "the chart shows (bucket start, [in, first responses, resolutions]) {shown:?}, the server {expected:?}"
    );
    let total: u64 = expected.iter().map(|(_, figures)| figures[0]).sum();
    anyhow::ensure!(total > 0, "the chart has messages to show: {expected:?}");
    println!("reports: the chart's {} buckets equal the server's JSON ({total} messages in)", expected.len());

    // The busiest bucket's "messages in" drills into the conversations behind it: the server's
    // rows for that bucket, as Sara may see them.
    let (index, (start, _)) = expected
        .iter()
        .enumerate()
        .max_by_key(|(_, (_, figures))| figures[0])
        .ok_or_else(|| anyhow::anyhow!("no buckets"))?;
    let bucket = &series.buckets[index];
    click_bar(session, index, "messages_in").await?;
    // The same bar's figure in the table of the chart's figures says the same count.
    session.click(&session.wait_for("[data-testid=chart-figures] summary", WAIT).await?).await?;
    let figure = format!(
        "[data-testid=chart-bucket][data-start='{start}'] [data-testid=chart-value][data-metric=messages_in][aria-pressed=true]"
    );
    session.wait_for(&figure, WAIT).await?;
    let drilled: Vec<CycleRow> = serde_json::from_slice(
        &sara
            .get_bytes(&format!(
                "/api/v1/reports/conversations?from={}&to={}&tz={tz}&metric=messages_in",
                rfc3339(bucket.start),
                rfc3339(bucket.end)
            ))
            .await?,
    )?;
    anyhow::ensure!(!drilled.is_empty(), "the busiest bucket has conversations behind it");
    let listed = session
        .wait_until(
            "the list of the bar's conversations shows",
            &format!(
                "const rows = [...document.querySelectorAll('[data-testid=drill][data-metric=messages_in][data-index=\"{index}\"] [data-testid=drill-row]')]; \
                 return rows.length > 0 && rows.map(r => r.dataset.id);"
            ),
            WAIT,
        )
        .await?;
    let ids: Vec<String> = drilled.iter().map(|row| row.conversation_id.to_string()).collect();
    anyhow::ensure!(listed == json!(ids), "the bar lists {listed}, the server {ids:?}");
    println!("reports: a bar drilled into lists the server's {} conversations behind it", ids.len());
    // For the README: the figures folded again, the list under the chart in sight.
    session.click(&session.wait_for("[data-testid=chart-figures] summary", WAIT).await?).await?;
    session
        .execute(
            "document.querySelectorAll('[data-testid=toast] button.close').forEach(b => b.click()); \
             document.querySelector('[data-testid=drill]').scrollIntoView({block: 'end'}); return true;",
            json!([]),
        )
        .await?;
    settle(session).await?;
    fits_the_dialog(session).await?;
    screenshot(session, harness, "20-reports").await?;

    // The service levels: each group's share within target per SLA target (thousandths) and its
    // breaches, as the summary's JSON for the screen's own query has them; or, with no outcome
    // in the period, the notice that says so.
    let summary: ReportSummary = serde_json::from_slice(
        &sara.get_bytes(&format!("/api/v1/reports/summary?{period}&group_by={group_by}")).await?,
    )?;
    let expected_sla: Vec<(String, Vec<String>)> = summary
        .rows
        .iter()
        .map(|row| {
            let m = &row.metrics;
            let share = |o: &SlaOutcomes| o.within_target_permille.map(|v| v.to_string()).unwrap_or_default();
            let breaches =
                m.sla_first_response.breached + m.sla_next_response.breached + m.sla_resolution.breached;
            let key = row.key.clone().unwrap_or_default();
            (
                key,
                vec![
                    share(&m.sla_first_response),
                    share(&m.sla_next_response),
                    share(&m.sla_resolution),
                    breaches.to_string(),
                ],
            )
        })
        .collect();
    let outcomes = summary.rows.iter().chain(&summary.previous).any(|row| {
        let m = &row.metrics;
        [m.sla_first_response, m.sla_next_response, m.sla_resolution].iter().any(|o| o.met + o.breached > 0)
    });
    let sla_section =
        if outcomes { "[data-testid=report-sla-table]" } else { "[data-testid=report-sla-empty]" };
    session.wait_for(sla_section, WAIT).await?;
    if outcomes {
        let shown = session
            .execute(
                "return [...document.querySelectorAll('[data-testid=report-sla-table] tbody tr:not(.gone)')].map(r => \
                   [r.dataset.key, [...r.querySelectorAll('td[data-value]')].map(c => c.dataset.value)]);",
                json!([]),
            )
            .await?;
        let shown: Vec<(String, Vec<String>)> = serde_json::from_value(shown)?;
        anyhow::ensure!(
            shown == expected_sla,
            "the service levels show (group, [first response, next response, resolution within target ‰, breaches]) {shown:?}, the server {expected_sla:?}"
        );
    }
    session
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true;",
            json!([sla_section]),
        )
        .await?;
    settle(session).await?;
    screenshot(session, harness, "20-reports-sla").await?;
    println!(
        "reports: the service levels equal the server's JSON ({} groups, outcomes: {outcomes})",
        expected_sla.len()
    );

    // Export the summary through the native save dialog; the file is the server's CSV.
    let dir = tempfile::tempdir()?;
    let saved = dir.path().join("summary-e2e.csv");
    // In sight first: the list above it may be long (every conversation of the run so far).
    let export = session.wait_for("[data-testid=export-summary]", WAIT).await?;
    session
        .execute(
            "document.querySelector('[data-testid=export-summary]').scrollIntoView({block: 'center'}); return true;",
            json!([]),
        )
        .await?;
    settle(session).await?;
    session.click(&export).await?;
    save_in_dialog(&saved).await?;
    let written = wait_for_file(&saved).await?;
    let csv = sara
        .get_bytes(&format!("/api/v1/reports/summary?{period}&group_by={group_by}&format=csv&bom=1"))
        .await?;
    anyhow::ensure!(
        written == csv,
        "the saved file differs from the server's CSV:\n{}\n---\n{}",
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&csv)
    );
    let rows = csv::lines(&csv);
    anyhow::ensure!(rows > 1, "the summary has rows: {}", String::from_utf8_lossy(&csv));
    println!("reports: the summary saved through the GTK dialog is the server's CSV ({rows} lines)");

    // A listed conversation opens from the list.
    let first = &ids[0];
    let row = format!("[data-testid=drill-row][data-id='{first}'] button");
    let button = session.wait_for(&row, WAIT).await?;
    session
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true;",
            json!([row]),
        )
        .await?;
    settle(session).await?;
    session.click(&button).await?;
    session.wait_for(&format!("[data-testid=thread][data-id='{first}']"), WAIT).await?;

    // K16: the "Unattended" figure is the server's, and it opens the sidebar's Unattended list,
    // which counts the same conversations in the app's own cache (one predicate on both sides).
    open_reports(session).await?;
    let card = session.wait_for("[data-testid=live-unattended]", WAIT).await?;
    let shown: u64 = session
        .execute(
            "return Number(document.querySelector('[data-testid=live-unattended]').dataset.count);",
            json!([]),
        )
        .await?
        .as_u64()
        .unwrap_or(u64::MAX);
    let live: LiveFigures = serde_json::from_slice(&sara.get_bytes("/api/v1/reports/live").await?)?;
    anyhow::ensure!(
        shown == live.unattended,
        "the screen says {shown} unattended, the server {}",
        live.unattended
    );
    session.click(&card).await?;
    let listed = session
        .wait_until(
            "the Unattended list opens with its count",
            "const v = document.querySelector('[data-testid=view][data-view=unattended][aria-current=true] [data-testid=view-count]'); \
             return v && v.dataset.count !== '' && Number(v.dataset.count);",
            WAIT,
        )
        .await?;
    anyhow::ensure!(
        listed == json!(live.unattended),
        "the sidebar's Unattended list counts {listed}, the server's figure {}",
        live.unattended
    );
    println!(
        "reports: {} unattended, on the screen, in the server's JSON and in the Unattended list",
        live.unattended
    );

    server.rename_agent(workspace.sara, LONG_PERSIAN_NAME).await?;
    persian_screens(harness, session).await?;
    server.rename_agent(workspace.sara, &name).await
}

const LONG_NAME: &str = "Sara Karimi-Montgomery, Senior Escalations Lead, Night Shift";
const LONG_PERSIAN_NAME: &str = "سارا کریمی، سرپرست ارشد رسیدگی به شکایات شیفت شب و آخر هفته";

/// The reports dialog's tables fit it: nothing scrolls sideways, however long a name (a cell
/// cuts it with an ellipsis, its title the whole name).
async fn fits_the_dialog(session: &Session) -> anyhow::Result<()> {
    let overflow = session
        .execute(
            "const b = document.querySelector('[data-testid=reports] .body'); \
             const titled = [...b.querySelectorAll('td.name[title]')].some(td => td.title.length >= 50); \
             return [b.scrollWidth - b.clientWidth, titled];",
            json!([]),
        )
        .await?;
    let (overflow, titled): (i64, bool) = serde_json::from_value(overflow)?;
    anyhow::ensure!(overflow <= 0, "the reports dialog scrolls sideways by {overflow} px");
    println!("reports: the dialog doesn't scroll sideways (a long name in a cell: {titled})");
    Ok(())
}

/// Clicks the middle of a bar on the chart's canvas with the mouse, where the chart says it drew
/// it (`data-bars`, written after each render).
async fn click_bar(session: &Session, index: usize, metric: &str) -> anyhow::Result<()> {
    let canvas = session.wait_for("[data-testid=report-chart] canvas[data-bars]", WAIT).await?;
    session
        .execute(
            "document.querySelector('[data-testid=report-chart]').scrollIntoView({block: 'center'}); return true;",
            json!([]),
        )
        .await?;
    let spot = session
        .execute(
            "const c = document.querySelector('[data-testid=report-chart] canvas');              const bar = JSON.parse(c.dataset.bars).find(b => b.index === arguments[0] && b.metric === arguments[1]);              const r = c.getBoundingClientRect();              return bar && bar.height > 0 && [Math.round(bar.x - r.width / 2), Math.round(bar.y - r.height / 2)];",
            json!([index, metric]),
        )
        .await?;
    let (x, y): (i64, i64) = serde_json::from_value(spot.clone())
        .map_err(|_| anyhow::anyhow!("no {metric} bar drawn for bucket {index}: {spot}"))?;
    session.click_at(&canvas, x, y).await
}

/// The table of the chart's figures: each bucket's start and its three counts.
async fn chart_figures(session: &Session) -> anyhow::Result<Vec<(i64, [u64; 3])>> {
    let value = session
        .execute(
            "return [...document.querySelectorAll('[data-testid=chart-bucket]')].map(r => { \
               const v = m => Number(r.querySelector(`[data-testid=chart-value][data-metric=${m}]`).dataset.value); \
               return [Number(r.dataset.start), [v('messages_in'), v('first_response'), v('resolution')]]; });",
            json!([]),
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

async fn open_reports(session: &Session) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.click(&session.wait_for(".account .me", WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=open-reports]", WAIT).await?).await?;
    session.wait_for("[data-testid=reports]", WAIT).await?;
    Ok(())
}

/// Types `path` into the GTK save dialog the app opened ("Save File", rfd's title) and saves.
/// The display has no window manager: the dialog is given the keyboard with XSetInputFocus.
pub(crate) async fn save_in_dialog(path: &Path) -> anyhow::Result<()> {
    let path = path.to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let xdotool = |args: &[&str]| -> anyhow::Result<String> {
            let output =
                std::process::Command::new("timeout").arg("20").arg("xdotool").args(args).output()?;
            anyhow::ensure!(
                output.status.success(),
                "xdotool {args:?}: {} {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        };
        let found = xdotool(&["search", "--sync", "--onlyvisible", "--name", "^Save File$"])?;
        let window = found.lines().last().ok_or_else(|| anyhow::anyhow!("no save dialog"))?.to_owned();
        xdotool(&["windowfocus", "--sync", &window])?;
        // The name field has the keyboard and the offered name: replace it with the whole path.
        xdotool(&["key", "--clearmodifiers", "ctrl+a"])?;
        xdotool(&["type", "--delay", "20", &path])?;
        xdotool(&["key", "Return"])?;
        Ok(())
    })
    .await?
}

pub(crate) async fn wait_for_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // The app writes it whole once the dialog answers; a toast then says where.
        if let Ok(bytes) = std::fs::read(path) {
            if !bytes.is_empty() {
                return Ok(bytes);
            }
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "nothing was saved at {}", path.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The app in Persian (the language is chosen at start: `?lang=fa`, the page loaded again; the
/// shell keeps Sara signed in): reports, the board, workload and settings, right to left. Then
/// back to the system's language.
async fn persian_screens(harness: &Harness, session: &Session) -> anyhow::Result<()> {
    crate::switch_language(session, "?lang=fa").await?;
    session.wait_for("html[dir=rtl]", WAIT).await?;

    open_reports(session).await?;
    session.wait_for("[data-testid=chart-bucket]", WAIT).await?;
    session.wait_for("[data-testid=report-table]", WAIT).await?;
    settle(session).await?;
    fits_the_dialog(session).await?;
    screenshot(session, harness, "21-reports-rtl").await?;
    session
        .execute(
            "const s = document.querySelector('[data-testid=report-sla-table]') || document.querySelector('[data-testid=report-sla-empty]'); \
             s.scrollIntoView({block: 'center'}); return true;",
            json!([]),
        )
        .await?;
    settle(session).await?;
    screenshot(session, harness, "21-reports-sla-rtl").await?;
    session.press(&[keys::ESCAPE]).await?;

    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=open-board]", WAIT).await?).await?;
    session.wait_for("[data-testid=board-card]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "21-board-rtl").await?;
    session.click(&session.wait_for("[data-testid=board-workload]", WAIT).await?).await?;
    session.wait_for("[data-testid=workload-agent]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "21-workload-rtl").await?;
    session.press(&[keys::ESCAPE]).await?;

    leave_fields(session).await?;
    session.click(&session.wait_for(".account .me", WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=open-settings]", WAIT).await?).await?;
    session.wait_for("[data-testid=settings]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "21-settings-rtl").await?;
    session.press(&[keys::ESCAPE]).await?;

    crate::switch_language(session, "").await?;
    session.wait_for("html[dir=ltr]", WAIT).await?;
    println!("reports: Persian screenshots of reports, the board, workload and settings");
    Ok(())
}

/// Two animation frames: what was just opened has been laid out and painted.
pub(crate) async fn settle(session: &Session) -> anyhow::Result<()> {
    session
        .execute_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            json!([]),
        )
        .await?;
    Ok(())
}

/// An instant as RFC 3339 in UTC (`2026-11-30T20:30:00Z`), as the server reads `from` and `to`.
fn rfc3339(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at)
        .expect("an instant jiff holds")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

mod csv {
    /// How many lines a CSV has (records here hold no line breaks).
    pub fn lines(bytes: &[u8]) -> usize {
        bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()).count()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_read_as_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_893_974_400_000), "2030-01-07T00:00:00Z");
        assert_eq!(super::rfc3339(1_772_400_600_000), "2026-03-01T21:30:00Z");
    }
}
