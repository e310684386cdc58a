//! A long thread, end to end: a conversation of several thousand messages (sent through the signed
//! API channel) opens on its newest page — the window holds a page or two of messages, never the
//! whole thread — and the time from the click to the messages on screen is logged (reported, not
//! asserted). Scrolling to the top loads older pages, each joining without moving what is on
//! screen, until the first message shows, and the window stays a few pages long all the way; a
//! search hit deep in the thread opens around it.

use std::time::Duration;

use serde_json::json;
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{leave_fields, screenshot, server, Harness, WAIT};

/// Messages in the long thread.
const COUNT: usize = 3000;
/// Requests sending them at once.
const LANES: usize = 4;
/// The most messages the window may hold (`MAX_LOADED` in `ui/src/lib/threadWindow.ts`).
const MAX_LOADED: u64 = 200;
/// The message a search finds, deep in the thread.
const NEEDLE: usize = 1234;

fn body(n: usize) -> String {
    if n == NEEDLE {
        format!("Long thread message {n} quasar")
    } else {
        format!("Long thread message {n}")
    }
}

const MESSAGES: &str = "document.querySelectorAll('[data-testid=thread] [data-testid=message]')";

pub async fn long_thread_steps(
    harness: &Harness,
    server: &server::Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let inbox = &workspace.whatsapp;
    let started = std::time::Instant::now();
    let first = server.inbound(inbox, "long-thread", "Lena Long", "long-0", &body(0)).await?;
    let id = first.conversation_id;
    let lane = |lane: usize| async move {
        for n in (1 + lane..COUNT - 1).step_by(LANES) {
            server.inbound(inbox, "long-thread", "Lena Long", &format!("long-{n}"), &body(n)).await?;
        }
        anyhow::Ok(())
    };
    let (a, b, c, d) = tokio::join!(lane(0), lane(1), lane(2), lane(3));
    a.and(b).and(c).and(d)?;
    let newest = body(COUNT - 1);
    server.inbound(inbox, "long-thread", "Lena Long", &format!("long-{}", COUNT - 1), &newest).await?;
    println!("long thread: {COUNT} messages sent in {:.1} s", started.elapsed().as_secs_f64());

    // A short conversation to switch from, and the long one's row once the app has every message
    // (the feed is in order: the newest one arriving means the rest have).
    let short = server.inbound(inbox, "long-thread-other", "Otto Short", "short-0", "Just one").await?;
    session.click(&session.wait_for("[data-testid=view][data-view=all]", WAIT).await?).await?;
    let row = format!("[data-testid=conversation-row][data-id='{id}']");
    session
        .wait_until(
            "the long thread's row shows its newest message",
            &format!(
                "const r = document.querySelector(\"{row}\"); return !!r && r.textContent.includes({});",
                serde_json::to_string(&newest)?
            ),
            Duration::from_secs(120),
        )
        .await?;

    // Open it a few times (from the short one each time): the click to the newest page on screen.
    let mut opens = Vec::new();
    for _ in 0..5 {
        open_timed(session, short.conversation_id).await?;
        opens.push(open_timed(session, id).await?);
    }
    opens.sort_by(f64::total_cmp);
    let shown = count(session).await?;
    anyhow::ensure!(
        (1..=100).contains(&shown),
        "opening a {COUNT}-message thread put {shown} messages in the page, not a page or two"
    );
    session
        .wait_until(
            "the newest message shows at the bottom",
            &format!(
                "const m = {MESSAGES}; const last = m[m.length - 1]; \
                 return !!last && last.textContent.includes({});",
                serde_json::to_string(&newest)?
            ),
            WAIT,
        )
        .await?;
    println!(
        "long thread: opening the {COUNT}-message thread, click to messages on screen: median {:.1} ms, max {:.1} ms ({} messages in the page; {} opens; reported, not asserted)",
        opens[opens.len() / 2],
        opens[opens.len() - 1],
        shown,
        opens.len()
    );
    screenshot(session, harness, "long-thread-newest").await?;

    // Scroll to the top again and again: each older page joins above without moving what was on
    // screen, the window never holds more than a few pages, and the first message comes.
    let mut pages = 0;
    let mut largest = shown;
    loop {
        let before = session
            .execute(
                &format!(
                    "const list = document.querySelector('[data-testid=message-list]'); \
                     if (list.dataset.older === 'none') return null; \
                     list.scrollTop = 0; \
                     const first = {MESSAGES}[0]; \
                     return [first.dataset.id, first.getBoundingClientRect().top];"
                ),
                json!([]),
            )
            .await?;
        if before.is_null() {
            break;
        }
        let (anchor, top) =
            (before[0].as_str().unwrap_or_default().to_owned(), before[1].as_f64().unwrap_or(0.0));
        let moved = session
            .wait_until(
                "an older page joined at the top",
                &format!(
                    "const m = {MESSAGES}; if (m[0].dataset.id === arguments[0]) return false; \
                     const kept = document.querySelector(`[data-testid=thread] [data-testid=message][data-id=\"${{arguments[0]}}\"]`); \
                     return kept ? kept.getBoundingClientRect().top - arguments[1] : 'gone';"
                )
                .replace("arguments[0]", &serde_json::to_string(&anchor)?)
                .replace("arguments[1]", &top.to_string()),
                WAIT,
            )
            .await?;
        let moved =
            moved.as_f64().ok_or_else(|| anyhow::anyhow!("the message on screen left the page: {moved}"))?;
        anyhow::ensure!(moved.abs() <= 2.0, "a page joining above moved the message on screen by {moved} px");
        largest = largest.max(count(session).await?);
        anyhow::ensure!(largest <= MAX_LOADED, "the window grew to {largest} messages while scrolling up");
        pages += 1;
        anyhow::ensure!(pages <= COUNT / 50 + 2, "scrolling up never reached the first message");
    }
    session
        .wait_until(
            "the first message shows at the top",
            &format!(
                "const first = {MESSAGES}[0]; return !!first && first.textContent.includes({});",
                serde_json::to_string(&body(0))?
            ),
            WAIT,
        )
        .await?;
    let newer = session
        .execute("return document.querySelector('[data-testid=message-list]').dataset.newer;", json!([]))
        .await?;
    anyhow::ensure!(
        newer == json!("true"),
        "at the top of the thread the newest end was dropped (newer: {newer})"
    );
    screenshot(session, harness, "long-thread-first").await?;
    println!(
        "long thread: scrolled to the first message in {pages} pages, never more than {largest} messages in the page"
    );

    // A search hit deep in the thread opens around it: that message in view, a page around it.
    session
        .click(
            &session
                .wait_for(
                    &format!("[data-testid=conversation-row][data-id='{}']", short.conversation_id),
                    WAIT,
                )
                .await?,
        )
        .await?;
    session.wait_for(&format!("[data-testid=thread][data-id='{}']", short.conversation_id), WAIT).await?;
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&input, "quasar").await?;
    let hit = session.wait_for("[data-testid=command-item][data-kind=message]", WAIT).await?;
    session.click(&hit).await?;
    let jumped = session
        .wait_until(
            "the search hit shows, marked, around it a page",
            &format!(
                "const hit = document.querySelector(\"[data-testid=thread][data-id='{id}'] [data-testid=message][data-jumped]\"); \
                 if (!hit || !hit.textContent.includes('quasar')) return false; \
                 const list = document.querySelector('[data-testid=message-list]').getBoundingClientRect(); \
                 const box = hit.getBoundingClientRect(); \
                 return box.bottom > list.top && box.top < list.bottom ? {MESSAGES}.length : false;"
            ),
            WAIT,
        )
        .await?;
    let around = jumped.as_u64().unwrap_or(0);
    anyhow::ensure!(
        (2..=MAX_LOADED).contains(&around),
        "jumping to a search hit put {around} messages in the page"
    );
    println!(
        "long thread: a search hit at message {NEEDLE} opened around it ({around} messages in the page)"
    );
    // Out of the later steps' way: both conversations resolved.
    server.set_status(id, "resolved").await?;
    server.set_status(short.conversation_id, "resolved").await?;
    Ok(())
}

/// Messages in the open thread's page.
async fn count(session: &Session) -> anyhow::Result<u64> {
    let n = session.execute(&format!("return {MESSAGES}.length;"), json!([])).await?;
    n.as_u64().ok_or_else(|| anyhow::anyhow!("counting messages: {n}"))
}

/// Clicks a conversation's row and answers the milliseconds until its thread shows messages,
/// measured in the page (`performance.now()`), so WebDriver's round trips don't count.
async fn open_timed(session: &Session, conversation: Id) -> anyhow::Result<f64> {
    let row = format!("[data-testid=conversation-row][data-id='{conversation}']");
    session.wait_for(&row, WAIT).await?;
    let elapsed = session
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1]; \
                 const shown = () => document.querySelector(\"[data-testid=thread][data-id='{conversation}'] [data-testid=message]\"); \
                 const start = performance.now(); \
                 document.querySelector(\"{row}\").click(); \
                 const check = () => shown() ? done(performance.now() - start) : requestAnimationFrame(check); \
                 check();"
            ),
            json!([]),
        )
        .await?;
    elapsed.as_f64().ok_or_else(|| anyhow::anyhow!("timing the open: {elapsed}"))
}
