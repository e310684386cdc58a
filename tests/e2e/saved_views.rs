//! Filters that combine and saved views: Sara, a lead, builds a combined filter in the filter bar
//! (the WhatsApp inbox AND the label vip AND unassigned), the list shows exactly the conversations
//! the server says match; she saves it as a Support team view, the sidebar shows it with the right
//! count, and a customer whose new conversation then matches bumps that count live. The server
//! holds the view, team-wide: Sam, in Support, is given it. Then she drops "unassigned" from the
//! view's filter and updates the view: the server keeps the wider filter and the sidebar's count
//! follows; switching to another view with the bar open shows that view's (empty) filter.

use serde_json::{json, Value};
use switchboard_e2e::Session;
use switchboard_proto::*;

use crate::{leave_fields, screenshot, server, Harness, WAIT};

const VIEW_NAME: &str = "VIP waiting";

/// How many conversations match "WhatsApp AND vip AND unassigned" (or, with `unassigned` false,
/// "WhatsApp AND vip") among the open ones (the sidebar counts in the list's status, open), as the
/// server has them.
async fn matching(
    server: &server::Api,
    workspace: &server::Workspace,
    unassigned: bool,
) -> anyhow::Result<usize> {
    let mut count = 0;
    for id in server.conversation_ids().await? {
        let conversation = server.conversation(id.parse()?).await?;
        if conversation.inbox_id == workspace.whatsapp.inbox.id
            && conversation.labels.iter().any(|label| label == "vip")
            && (!unassigned || conversation.assignee_id.is_none())
            && conversation.status == ConversationStatus::Open
        {
            count += 1;
        }
    }
    Ok(count)
}

async fn chip(session: &Session, criterion: &str, value: &str) -> anyhow::Result<()> {
    press(session, criterion, value, true).await
}

/// Clicks a chip and waits until it reads `on`.
async fn press(session: &Session, criterion: &str, value: &str, on: bool) -> anyhow::Result<()> {
    let css = format!("[data-criterion={criterion}] [data-testid=filter-chip][data-value='{value}']");
    session.click(&session.wait_for(&css, WAIT).await?).await?;
    session
        .wait_until(&format!("the {criterion} chip {value} is {on}"), &format!(
            "const e = document.querySelector(\"{}\"); return !!e && e.getAttribute('aria-pressed') === '{on}';",
            css.replace('"', "\\\"")
        ), WAIT)
        .await?;
    Ok(())
}

/// Waits until the saved view's sidebar count reads `count`.
async fn sidebar_count(session: &Session, count: usize) -> anyhow::Result<()> {
    let script = format!(
        "const row = document.querySelector(\"[data-testid=saved-view][data-name='{VIEW_NAME}']\"); \
         const c = row && row.querySelector('[data-testid=view-count]'); \
         return arguments.length > 0 ? (c ? c.dataset.count : null) : !!c && c.dataset.count === '{count}';"
    );
    if session.wait_until("the saved view's count", &script, WAIT).await.is_err() {
        let shown = session.execute(&script, json!([true])).await?;
        anyhow::bail!("the sidebar counts {shown} for “{VIEW_NAME}”, not {count}");
    }
    Ok(())
}

pub async fn saved_views_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    // Two new customers on WhatsApp, both labelled vip; Sam takes the second.
    let first =
        server.inbound(&workspace.whatsapp, "vip-1", "Mina Rad", "sv1", "Do you ship to Tabriz?").await?;
    server.label(first.conversation_id, "vip").await?;
    let second =
        server.inbound(&workspace.whatsapp, "vip-2", "Omar Haddad", "sv2", "Where is my order?").await?;
    server.label(second.conversation_id, "vip").await?;
    crate::claim_as(server, "sam@e2e.example", second.conversation_id).await?;
    let expected = matching(server, workspace, true).await?;
    anyhow::ensure!(expected >= 1, "the unassigned vip conversation matches on the server");

    // The view on screen now, to come back to for the steps after these.
    leave_fields(session).await?;
    let before = session
        .execute(
            "const v = document.querySelector('[data-testid=view][aria-current=true]'); \
             return v ? '[data-testid=view][data-view=' + v.dataset.view + ']' + (v.dataset.id ? `[data-id='${v.dataset.id}']` : '') : '[data-testid=view][data-view=mine]';",
            json!([]),
        )
        .await?;
    let before = before.as_str().unwrap_or("[data-testid=view][data-view=mine]").to_owned();

    // The filter bar: WhatsApp AND vip AND unassigned. The list follows each chip.
    crate::show_all_view(session).await?;
    session.click(&session.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;
    session.wait_for("[data-testid=filter-bar]", WAIT).await?;
    chip(session, "inbox", &workspace.whatsapp.inbox.id.to_string()).await?;
    chip(session, "label", "vip").await?;
    chip(session, "assignee", "unassigned").await?;
    let rows = format!(
        "const rows = [...document.querySelectorAll('[data-testid=conversation-row]')].map(r => r.dataset.id); \
         return arguments.length > 0 ? rows : rows.length === {expected} && rows.includes('{}') && !rows.includes('{}');",
        first.conversation_id, second.conversation_id
    );
    if session.wait_until("the list shows what the filter matches", &rows, WAIT).await.is_err() {
        let shown = session.execute(&rows, json!([true])).await?;
        anyhow::bail!(
            "the filtered list shows {shown}, expected {expected} rows with Mina's and without Omar's"
        );
    }

    // Saved as a team view for Support.
    let support = server.agent(workspace.sara).await?.team_ids[0];
    session.click(&session.wait_for("[data-testid=save-as-view]", WAIT).await?).await?;
    let name = session.wait_for("[data-testid=view-name]", WAIT).await?;
    session.send_keys(&name, VIEW_NAME).await?;
    session
        .click(&session.wait_for(&format!("[data-testid=view-scope] option[value='{support}']"), WAIT).await?)
        .await?;
    session.click(&session.wait_for("[data-testid=save-view]", WAIT).await?).await?;
    session.wait_for(&format!("[data-testid=saved-view][data-name='{VIEW_NAME}']"), WAIT).await?;
    sidebar_count(session, expected).await?;
    // Sam, in Support, receives it from the server (Sara signs in with a second factor by now).
    let sam = server.signed_in_as("sam@e2e.example").await?;
    let mut stored: Vec<Value> = Vec::new();
    for _ in 0..100 {
        stored = serde_json::from_slice(&sam.get_bytes("/api/v1/saved-views").await?)?;
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let view = stored
        .iter()
        .find(|v| v["name"] == VIEW_NAME)
        .ok_or_else(|| anyhow::anyhow!("the server has no view: {stored:?}"))?;
    anyhow::ensure!(view["team_id"] == json!(support), "a Support team view: {view}");
    anyhow::ensure!(
        view["filter"]["labels"] == json!(["vip"])
            && view["filter"]["assignees"] == json!([{"type": "unassigned"}]),
        "the filter as built: {view}"
    );

    // A customer whose new conversation matches: the count follows, live.
    let third =
        server.inbound(&workspace.whatsapp, "vip-3", "Lior Ben-David", "sv3", "Hello? Anyone?").await?;
    server.label(third.conversation_id, "vip").await?;
    anyhow::ensure!(
        matching(server, workspace, true).await? == expected + 1,
        "the new conversation matches on the server"
    );
    sidebar_count(session, expected + 1).await?;

    // The bar over the saved view shows its criteria; the screenshot shows both.
    session.click(&session.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;
    session.wait_for("[data-testid=filter-bar] [data-value=unassigned][aria-pressed=true]", WAIT).await?;
    screenshot(session, harness, "30-filters-and-saved-view").await?;
    session.click(&session.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;

    // The same in Persian, right to left (the page loaded again with `?lang=fa`; the shell keeps
    // Sara signed in), then back.
    crate::switch_language(session, "?lang=fa").await?;
    session.wait_for("html[dir=rtl]", WAIT).await?;
    let saved = format!("[data-testid=saved-view][data-name='{VIEW_NAME}'] [data-testid=view]");
    session.click(&session.wait_for(&saved, WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;
    session.wait_for("[data-testid=filter-bar] [data-value=unassigned][aria-pressed=true]", WAIT).await?;
    sidebar_count(session, expected + 1).await?;
    screenshot(session, harness, "31-filters-and-saved-view-rtl").await?;
    crate::switch_language(session, "").await?;
    session.wait_for("html[dir=ltr]", WAIT).await?;
    let wider = update_steps(harness, server, workspace, session, &sam, expected + 1).await?;
    session.click(&session.wait_for(&before, WAIT).await?).await?;
    println!(
        "saved views: WhatsApp AND vip AND unassigned listed {expected}, saved for Support, counted {}, \
         updated to WhatsApp AND vip, counted {wider}",
        expected + 1
    );
    Ok(())
}

/// Sara opens the view, drops "unassigned" from its filter and presses "Update view": the server
/// keeps the wider filter and the sidebar counts what it matches. Then, the bar still open, she
/// goes to Mine: the bar shows Mine's (empty) filter, not the view's. Answers the new count.
async fn update_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
    sam: &server::Api,
    narrow: usize,
) -> anyhow::Result<usize> {
    let saved = format!("[data-testid=saved-view][data-name='{VIEW_NAME}'] [data-testid=view]");
    session.click(&session.wait_for(&saved, WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;
    session.wait_for("[data-testid=filter-bar] [data-value=unassigned][aria-pressed=true]", WAIT).await?;
    press(session, "assignee", "unassigned", false).await?;
    let update = session.wait_for("[data-testid=update-view]", WAIT).await?;
    session.wait_for("[data-testid=filter-bar] [data-testid=save-as-view]", WAIT).await?;
    screenshot(session, harness, "32-saved-view-changed").await?;
    session.click(&update).await?;

    let wider = matching(server, workspace, false).await?;
    anyhow::ensure!(wider > narrow, "Omar's conversation, claimed by Sam, now matches too");
    let mut stored = Value::Null;
    for _ in 0..100 {
        let views: Vec<Value> = serde_json::from_slice(&sam.get_bytes("/api/v1/saved-views").await?)?;
        stored = views.into_iter().find(|v| v["name"] == VIEW_NAME).unwrap_or(Value::Null);
        if stored["filter"]["assignees"] == json!([]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::ensure!(
        stored["filter"]["assignees"] == json!([]) && stored["filter"]["labels"] == json!(["vip"]),
        "the server keeps the updated filter: {stored}"
    );
    sidebar_count(session, wider).await?;
    session.wait_for("[data-testid=saved-view] [data-testid=view][aria-current=true]", WAIT).await?;
    until_nothing_to_update(session).await?;

    // Another view with the bar open: the bar follows it (Mine has no criteria).
    session.click(&session.wait_for("[data-testid=view][data-view=mine]", WAIT).await?).await?;
    session
        .wait_until(
            "the bar shows Mine's empty filter",
            "return !!document.querySelector('[data-testid=filter-bar]') && \
             !document.querySelector('[data-testid=filter-bar] [aria-pressed=true]') && \
             !document.querySelector('[data-testid=update-view]');",
            WAIT,
        )
        .await?;
    session.click(&session.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;
    Ok(wider)
}

/// The bar no longer offers an update once the view holds the draft.
async fn until_nothing_to_update(session: &Session) -> anyhow::Result<()> {
    session
        .wait_until(
            "the view holds the draft: nothing to update",
            "return !document.querySelector('[data-testid=update-view]');",
            WAIT,
        )
        .await?;
    Ok(())
}
