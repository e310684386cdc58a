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
/// Times the long thread is opened (from the short one) for the click-to-screen figure.
const OPENS: usize = 20;
/// Messages in a page (`thread_window::PAGE` in core).
const PAGE: u64 = 50;
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
    crate::show_all_view(session).await?;
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
    for _ in 0..OPENS {
        open_timed(session, short.conversation_id).await?;
        opens.push(open_timed(session, id).await?);
    }
    opens.sort_by(f64::total_cmp);
    let shown = count(session).await?;
    anyhow::ensure!(
        (1..=PAGE).contains(&shown),
        "opening a {COUNT}-message thread put {shown} messages in the page, not one page"
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
    let p95 = opens[(opens.len() * 95).div_ceil(100) - 1];
    println!(
        "long thread: opening the {COUNT}-message thread, click to messages on screen: median {:.1} ms, p95 {p95:.1} ms, max {:.1} ms ({shown} messages in the page; {} opens; reported, not asserted)",
        opens[opens.len() / 2],
        opens[opens.len() - 1],
        opens.len()
    );
    screenshot(session, harness, "long-thread-newest").await?;

    // From here on the page records the most messages the thread ever held, after every change
    // of the DOM (not only when this test looks).
    session
        .execute(
            "window.__longThreadMost = 0; \
             const thread = document.querySelector('[data-testid=thread]'); \
             const count = () => { const n = thread.querySelectorAll('[data-testid=message]').length; \
               if (n > window.__longThreadMost) window.__longThreadMost = n; }; \
             count(); new MutationObserver(count).observe(thread, { childList: true, subtree: true });",
            json!([]),
        )
        .await?;

    // Scroll to the top again and again: each older page joins above without moving what was on
    // screen, the window never holds more than a few pages, and the first message comes.
    let mut pages = 0;
    let mut moves = Vec::new();
    while let Some(moved) = scroll_for_page(session, id, End::Top).await? {
        moves.push(moved);
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
        "long thread: scrolled to the first message in {pages} pages, never more than {} messages in the page",
        most(session).await?
    );

    // And back down: newer pages join below (the oldest end dropped) until the newest message is
    // at the bottom again and the window is at the live end.
    let mut down = 0;
    while let Some(moved) = scroll_for_page(session, id, End::Bottom).await? {
        moves.push(moved);
        down += 1;
        anyhow::ensure!(down <= COUNT / 50 + 2, "scrolling down never reached the newest message");
    }
    session
        .wait_until(
            "the newest message shows at the bottom again",
            &format!(
                "const m = {MESSAGES}; const last = m[m.length - 1]; \
                 return !!last && last.textContent.includes({});",
                serde_json::to_string(&newest)?
            ),
            WAIT,
        )
        .await?;
    let most = most(session).await?;
    anyhow::ensure!(most <= MAX_LOADED, "the window held {most} messages at one point while scrolling");
    println!(
        "long thread: scrolled back to the newest in {down} pages; the DOM held at most {most} messages throughout; \
         the message on screen moved {:.1}..{:.1} px as pages joined",
        moves.iter().copied().fold(f64::INFINITY, f64::min),
        moves.iter().copied().fold(f64::NEG_INFINITY, f64::max),
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

/// The most messages the thread held at any point since the step started counting.
async fn most(session: &Session) -> anyhow::Result<u64> {
    let n = session.execute("return window.__longThreadMost;", json!([])).await?;
    n.as_u64().ok_or_else(|| anyhow::anyhow!("the most messages held: {n}"))
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    Top,
    Bottom,
}

/// Scrolls the thread to one end and waits for the next page to join there, answering how far the
/// message at the top of the view moved (px): `None` when there is no page to join (the window is at the thread's first message, or at its live end). The message at the top
/// of the view must not move as the page joins (nor as the far end is dropped).
async fn scroll_for_page(session: &Session, conversation: Id, end: End) -> anyhow::Result<Option<f64>> {
    let (done, scroll, edge) = match end {
        End::Top => ("list.dataset.older === 'none'", "list.scrollTop = 0;", "m[0]"),
        End::Bottom => {
            ("list.dataset.newer !== 'true'", "list.scrollTop = list.scrollHeight;", "m[m.length - 1]")
        }
    };
    // The edge message before the scroll, and the message at the top of the view after it with its
    // place on screen.
    let before = session
        .execute(
            &format!(
                "const list = document.querySelector('[data-testid=message-list]'); \
                 if ({done}) return null; \
                 {scroll} \
                 const m = {MESSAGES}; const top = list.getBoundingClientRect().top; \
                 const seen = [...m].find((e) => e.getBoundingClientRect().bottom > top); \
                 return [{edge}.dataset.id, seen.dataset.id, seen.getBoundingClientRect().top];"
            ),
            json!([]),
        )
        .await?;
    if before.is_null() {
        return Ok(None);
    }
    let edge_id = serde_json::to_string(before[0].as_str().unwrap_or_default())?;
    let seen_id = serde_json::to_string(before[1].as_str().unwrap_or_default())?;
    let top = before[2].as_f64().unwrap_or(0.0);
    // Answers an object (a bare 0 px would read as "not yet").
    let joined = session
        .wait_until(
            "a page joined",
            &format!(
                "const m = {MESSAGES}; if ({edge}.dataset.id === {edge_id}) return false; \
                 const kept = document.querySelector(`[data-testid=thread] [data-testid=message][data-id=\"${{{seen_id}}}\"]`); \
                 return {{ moved: kept ? kept.getBoundingClientRect().top - ({top}) : null }};"
            ),
            WAIT,
        )
        .await;
    let joined = match joined {
        Ok(joined) => joined,
        Err(error) => {
            let state = diagnose(session, conversation).await.unwrap_or_else(|e| json!(e.to_string()));
            anyhow::bail!("{error}; the thread: {state}");
        }
    };
    let moved = joined["moved"].as_f64().ok_or_else(|| {
        anyhow::anyhow!("the message at the top of the view left the page as a page joined")
    })?;
    anyhow::ensure!(moved.abs() <= 2.0, "a page joining moved the message on screen by {moved} px");
    Ok(Some(moved))
}

/// What the thread view holds and what the shell answers for the page above it, for a failure's
/// message.
async fn diagnose(session: &Session, conversation: Id) -> anyhow::Result<serde_json::Value> {
    session
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1]; \
                 const list = document.querySelector('[data-testid=message-list]'); \
                 const m = {MESSAGES}; \
                 const state = {{ older: list.dataset.older, newer: list.dataset.newer, count: m.length, \
                   scrollTop: list.scrollTop, scrollHeight: list.scrollHeight, clientHeight: list.clientHeight, \
                   first: m[0] && m[0].dataset.id, last: m[m.length - 1] && m[m.length - 1].dataset.id, \
                   toasts: [...document.querySelectorAll('[role=alert],[role=status]')].map((t) => t.textContent.trim()) }}; \
                 const invoke = window.__TAURI_INTERNALS__.invoke; \
                 invoke('thread', {{ id: '{conversation}', range: null }}) \
                   .then((t) => {{ state.thread = {{ count: t.messages.length, older: t.older, first: t.messages[0] }}; \
                     return invoke('thread_page', {{ id: '{conversation}', direction: 'older', \
                       cursor: {{ created_at: t.messages[0].created_at, id: t.messages[0].id }} }}); }}) \
                   .then((p) => {{ state.page = {{ count: p.messages.length, older: p.older, newer: p.newer }}; done(state); }}) \
                   .catch((e) => {{ state.error = String(e && (e.message || JSON.stringify(e))); done(state); }});"
            ),
            json!([]),
        )
        .await
}
