//! End-to-end: the real Switchboard binary, driven through tauri-driver + WebKitWebDriver under
//! Xvfb, against a real `switchboard-server`, with notifications recorded on the session D-Bus.
//!
//! Two sessions of the app: the first against one server in this process (SQLite, killed and
//! restarted on the same address), the second against two server processes on one PostgreSQL
//! database behind nginx, where the node the app is connected to is killed mid-session.
//!
//! Run through `tests/e2e/run.sh`, which starts Xvfb, a private D-Bus with a notification server
//! and a recorder, a throwaway Secret Service, the two nodes behind nginx (`scripts/run-nodes.sh`)
//! and tauri-driver, then sets the variables read here.

mod app_lock;
mod channels;
mod contacts;
mod export_approval;
mod hostile;
mod hostile_email;
mod language_screens;
mod languages;
mod long_thread;
mod new_conversation;
mod presence;
mod quick_replies;
mod reports;
mod saved_views;
mod second_app;
mod server;
mod team_admin;
mod transcripts;
mod whatsapp;
mod widget;

use std::time::Duration;

use serde_json::json;
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::server::{Api, Nodes, Server};

const WAIT: Duration = Duration::from_secs(20);

struct Harness {
    app: String,
    webdriver: String,
    notify_log: std::path::PathBuf,
    screenshots: std::path::PathBuf,
    /// The app's data directory (tauri-driver starts it with `SWITCHBOARD_DATA_DIR`).
    app_data: std::path::PathBuf,
}

fn harness() -> Option<Harness> {
    let var = |name: &str| std::env::var(name).ok();
    Some(Harness {
        app: var("SWITCHBOARD_E2E_APP")?,
        webdriver: var("SWITCHBOARD_E2E_WEBDRIVER")?,
        notify_log: var("SWITCHBOARD_E2E_NOTIFY_LOG")?.into(),
        screenshots: var("SWITCHBOARD_E2E_SCREENSHOTS")?.into(),
        app_data: var("SWITCHBOARD_E2E_APP_DATA")?.into(),
    })
}

async fn screenshot(session: &Session, harness: &Harness, name: &str) -> anyhow::Result<()> {
    let png = session.screenshot().await?;
    std::fs::create_dir_all(&harness.screenshots)?;
    std::fs::write(harness.screenshots.join(format!("{name}.png")), png)?;
    Ok(())
}

/// Loads the page again with `search` (`?lang=fa`, or empty for the OS's language; the shell keeps
/// the session) and waits for the list in that language.
pub(crate) async fn switch_language(session: &Session, search: &str) -> anyhow::Result<()> {
    session
        .execute(
            "const search = arguments[0]; \
             setTimeout(() => location.replace(location.origin + location.pathname + search), 0); return true;",
            json!([search]),
        )
        .await?;
    // The old page may answer once more before it goes: wait for the new one's language.
    let lang = if search.contains("fa") { "fa" } else { "en" };
    session
        .wait_until(
            "the page loaded again in the new language",
            &format!(
                "return document.documentElement.lang === '{lang}' && !!document.querySelector('[data-testid=conversation-list]');"
            ),
            WAIT,
        )
        .await?;
    Ok(())
}

/// The text of the first element matching `css`.
async fn text_of(session: &Session, css: &str) -> anyhow::Result<String> {
    let element = session.wait_for(css, WAIT).await?;
    session.text(&element).await
}

/// Shows the "All" view and waits until it is the current one: a click can land on a neighbour
/// when the sidebar re-renders under it (a role or a count arriving through the feed moves it).
pub(crate) async fn show_all_view(session: &Session) -> anyhow::Result<()> {
    let current = "return !!document.querySelector('[data-testid=view][data-view=all][aria-current=true]');";
    for _ in 0..3 {
        session.click(&session.wait_for("[data-testid=view][data-view=all]", WAIT).await?).await?;
        if session.wait_until("the All view is current", current, Duration::from_secs(3)).await.is_ok() {
            return Ok(());
        }
    }
    anyhow::bail!("the All view never became the current one")
}

async fn open_row(session: &Session, conversation: Id) -> anyhow::Result<()> {
    let row =
        session.wait_for(&format!("[data-testid=conversation-row][data-id='{conversation}']"), WAIT).await?;
    session.click(&row).await?;
    session.wait_for(&format!("[data-testid=thread][data-id='{conversation}']"), WAIT).await?;
    Ok(())
}

/// Claims a conversation for an agent through the HTTP API (as another of their devices would), so
/// the app finds it already theirs when it signs in.
async fn claim_as(server: &Api, email: &str, conversation: Id) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let login: LoginResponse = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&LoginRequest {
            email: email.into(),
            password: server::PASSWORD.into(),
            device_name: "e2e setup".into(),
            two_factor_code: None,
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let response = http
        .post(format!("{}/api/v1/conversations/{conversation}/assign", server.base))
        .bearer_auth(&login.token)
        .json(&AssignRequest {
            client_id: Id::new_v4(),
            assignee_id: Some(login.agent.id),
            team_id: None,
            expected_assignee_id: Some(None),
            bulk_id: None,
        })
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "claiming {conversation}: {}", response.status());
    Ok(())
}

/// The desktop notifications raised so far: the text of each `Notify` call in the D-Bus recording
/// (its strings: the app's name, icon, title "Contact · Inbox", body, hints).
fn notifications(harness: &Harness) -> Vec<String> {
    let log = std::fs::read_to_string(&harness.notify_log).unwrap_or_default();
    log.split("member=Notify").skip(1).map(str::to_owned).collect()
}

/// Waits until a desktop notification with every one of `needles` in its text has arrived.
async fn wait_for_notification(harness: &Harness, needles: &[&str]) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if notifications(harness).iter().any(|n| needles.iter().all(|needle| n.contains(needle))) {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "no desktop notification with {needles:?} on the session bus; recorded: {:#?}",
            notifications(harness)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Leaves any text field so single-key shortcuts reach the app.
async fn leave_fields(session: &Session) -> anyhow::Result<()> {
    session
        .execute("document.activeElement && document.activeElement.blur(); return true;", json!([]))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_works_a_conversation_end_to_end() {
    let Some(harness) = harness() else {
        println!("skipped: this test drives the real app; run it with tests/e2e/run.sh");
        return;
    };
    if let Err(error) = scenario(&harness).await {
        panic!("end-to-end scenario failed: {error:#}");
    }
    println!("SWITCHBOARD_E2E_PASSED");
}

async fn scenario(harness: &Harness) -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let workspace = server.workspace().await?;
    let session = Session::start(&harness.webdriver, &harness.app).await?;
    let result = steps(harness, &mut server, &workspace, &session).await;
    if result.is_err() {
        let _ = screenshot(&session, harness, "failure").await;
    }
    let _ = session.end().await;
    result?;
    if std::env::var_os("SWITCHBOARD_E2E_ONLY").is_some() {
        return Ok(());
    }

    // The second session starts as a first run again: no account, against the nodes.
    app_exited(harness).await?;
    match std::fs::remove_dir_all(&harness.app_data) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error)?,
        _ => {}
    }
    let nodes = Nodes::from_env().await?;
    let workspace = nodes.workspace().await?;
    let session = Session::start(&harness.webdriver, &harness.app).await?;
    let result = failover_steps(harness, &nodes, &workspace, &session).await;
    if result.is_err() {
        let _ = screenshot(&session, harness, "failure-nodes").await;
    }
    let _ = session.end().await;
    result
}

/// Waits until no process runs the app any more: a new session's app would otherwise hand over to
/// the old one (single instance) and quit.
async fn app_exited(harness: &Harness) -> anyhow::Result<()> {
    let app = std::fs::canonicalize(&harness.app)?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let running = std::fs::read_dir("/proc")?
            .filter_map(Result::ok)
            .any(|entry| std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == app));
        if !running {
            return Ok(());
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the first session's app did not exit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs Sara in on the sign-in screen to the server at `base` and waits for the list.
async fn sign_in(session: &Session, base: &str) -> anyhow::Result<()> {
    sign_in_as(session, base, "sara@e2e.example", server::PASSWORD).await
}

/// Signs an agent in on the sign-in screen to the server at `base` and waits for the list.
pub(crate) async fn sign_in_as(
    session: &Session,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let url = session.wait_for("#signin-server", WAIT).await?;
    session.clear(&url).await?;
    session.send_keys(&url, base).await?;
    session.send_keys(&session.wait_for("#signin-email", WAIT).await?, email).await?;
    session.send_keys(&session.wait_for("#signin-password", WAIT).await?, password).await?;
    session.click(&session.wait_for("#signin-submit", WAIT).await?).await?;
    session.wait_for("[data-testid=conversation-list]", WAIT).await?;
    Ok(())
}

/// Sends a reply from the open thread's composer.
async fn reply(session: &Session, text: &str) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.press(&["r"]).await?;
    let textarea = session.wait_for("[data-testid=composer]", WAIT).await?;
    session.send_keys(&textarea, text).await?;
    session.send_keys(&textarea, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;
    Ok(())
}

async fn steps(
    harness: &Harness,
    server: &mut Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    // Before Sara's first sign-in, a conversation is already hers: her first window must list it.
    let waiting = server.inbound(&workspace.whatsapp, "lee", "Lee Chen", "m0", "Is anyone there?").await?;
    claim_as(server, "sara@e2e.example", waiting.conversation_id).await?;

    // Sign in.
    session.wait_for("#signin-server", WAIT).await?;
    screenshot(session, harness, "01-sign-in").await?;
    sign_in(session, &server.base).await?;
    if let Ok(only) = std::env::var("SWITCHBOARD_E2E_ONLY") {
        return only_steps(harness, server, workspace, session, &only).await;
    }

    // The first window after the first sign-in, without a click: the list shows what the sidebar
    // counts for the current view. The first sync fills the cache after the list has read its
    // first (empty) page, and the list must read it again when the sync says the cache changed.
    let count_and_rows = "const c = document.querySelector('[data-testid=view][aria-current=true] [data-testid=view-count]'); \
         const n = c && c.textContent.trim() !== '' ? Number(c.textContent.trim()) : null; \
         const rows = document.querySelectorAll('[data-testid=conversation-row]').length;";
    let matched = session
        .wait_until(
            "the list shows as many rows as the sidebar counts for the current view",
            &format!(
                "{count_and_rows} return n !== null && n > 0 && (rows === n || (rows > 0 && rows < n));"
            ),
            WAIT,
        )
        .await;
    if matched.is_err() {
        let shown = session.execute(&format!("{count_and_rows} return [n, rows];"), json!([])).await?;
        anyhow::bail!("the first window's sidebar count and list rows are {shown} (count, rows)");
    }
    session
        .wait_for(&format!("[data-testid=conversation-row][data-id='{}']", waiting.conversation_id), WAIT)
        .await?;
    session.wait_for("[data-testid=status-connection][data-state=online]", Duration::from_secs(60)).await?;

    routing_steps(harness, server, workspace, session).await?;
    sla_steps(harness, server, workspace).await?;

    // Sara says she's busy from the status bar's availability menu: the dot shows it at once and
    // the server has it (sent straight away, not through the outbox).
    let availability = session.wait_for("[data-testid=availability-button]", WAIT).await?;
    session.click(&availability).await?;
    session.wait_for("[data-testid=availability-menu]", WAIT).await?;
    session.click(&session.wait_for("[data-testid=availability-busy]", WAIT).await?).await?;
    session.wait_for("[data-testid=availability-button][data-availability=busy]", WAIT).await?;
    anyhow::ensure!(
        session.find_all("[data-testid=availability-menu]").await?.is_empty(),
        "the availability menu closes once Busy is picked"
    );
    server
        .wait_for("the server has Sara busy", || async {
            Ok(server.agent(workspace.sara).await?.availability == Availability::Busy)
        })
        .await?;

    // A customer writes in through the API channel: it shows in Unassigned and rings.
    let ana = server
        .inbound(&workspace.whatsapp, "ana", "Ana Pop", "m1", "Hello, my order #4411 hasn't arrived")
        .await?;
    session.click(&session.wait_for("[data-testid=view][data-view=unassigned]", WAIT).await?).await?;
    session
        .wait_for(&format!("[data-testid=conversation-row][data-id='{}']", ana.conversation_id), WAIT)
        .await?;
    wait_for_notification(harness, &["Ana Pop"]).await?;
    // Busy, Sara gets nothing routed: Ana's conversation stays unassigned on the server (routing
    // runs in the inbound's own transaction), and nothing told Sara it was routed to her (the
    // notification for Ana above came from the same feed batch as any routing line would).
    anyhow::ensure!(
        server.conversation(ana.conversation_id).await?.assignee_id.is_none(),
        "Ana's conversation was assigned while Sara was busy"
    );
    // By now Nora's batch has long rung: once, as routed to Sara, not also as a new conversation.
    let rang = notifications(harness).into_iter().filter(|n| n.contains("Nora Lind")).count();
    anyhow::ensure!(rang == 1, "Nora's routed conversation rang {rang} times, not once");
    let routed_to_busy: Vec<String> = notifications(harness)
        .into_iter()
        .filter(|n| n.contains("Ana Pop") && n.contains("Routed to"))
        .collect();
    anyhow::ensure!(routed_to_busy.is_empty(), "a busy Sara was told of routing: {routed_to_busy:#?}");
    screenshot(session, harness, "02-inbox").await?;

    // The row's time shows the full date as a tooltip (made when the pointer comes to it).
    let row = format!("[data-testid=conversation-row][data-id='{}']", ana.conversation_id);
    session.hover(&session.wait_for(&format!("{row} .time"), WAIT).await?).await?;
    session
        .wait_until(
            "the row's time has its full date as a tooltip",
            &format!("const e = document.querySelector(\"{row} .time\"); return e && /\\d/.test(e.title) && e.title;"),
            WAIT,
        )
        .await?;

    // Claim it with Shift+A (still nobody's: routing gave it to no one meanwhile).
    anyhow::ensure!(
        server.conversation(ana.conversation_id).await?.assignee_id.is_none(),
        "Ana's conversation was assigned while Sara was busy"
    );
    open_row(session, ana.conversation_id).await?;
    leave_fields(session).await?;
    session.press(&[keys::SHIFT, "A"]).await?;
    session
        .wait_until(
            "the thread shows Sara as the assignee",
            "const e = document.querySelector('[data-testid=conversation-assignee]'); return e && e.textContent.includes('Sara Karimi');",
            WAIT,
        )
        .await?;
    server
        .wait_for("the claim reached the server", || async {
            Ok(server.conversation(ana.conversation_id).await?.assignee_id == Some(workspace.sara))
        })
        .await?;

    // Reply through the quick-reply palette, variables filled.
    session.press(&["r"]).await?;
    let composer = session.wait_for("[data-testid=composer]", WAIT).await?;
    session.send_keys(&composer, "/greet").await?;
    session.wait_for("[data-testid=quick-replies] [data-testid=quick-reply]", WAIT).await?;
    screenshot(session, harness, "03-quick-replies").await?;
    session.send_keys(&composer, keys::ENTER).await?;
    let expected = "Hi Ana, this is Sara Karimi from WhatsApp Support. How can I help?";
    session
        .wait_until(
            "the palette inserted the rendered reply",
            &format!("return document.querySelector('[data-testid=composer]').value.includes({expected:?});"),
            WAIT,
        )
        .await?;
    session.send_keys(&composer, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;
    server
        .wait_for("the quick reply reached the server", || async {
            Ok(server
                .messages(ana.conversation_id)
                .await?
                .iter()
                .any(|m| m.kind == MessageKind::Outgoing && m.body.contains(expected)))
        })
        .await?;

    // A note mentioning Sam.
    leave_fields(session).await?;
    session.press(&["n"]).await?;
    let composer = session.wait_for("[data-testid=composer-mode][data-mode=note]", WAIT).await?;
    let _ = composer;
    let textarea = session.wait_for("[data-testid=composer]", WAIT).await?;
    session.send_keys(&textarea, "@sam can you check the courier?").await?;
    session.send_keys(&textarea, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;
    server
        .wait_for("the note with its mention reached the server", || async {
            Ok(server
                .messages(ana.conversation_id)
                .await?
                .iter()
                .any(|m| m.kind == MessageKind::Note && m.mentions == vec![workspace.sam]))
        })
        .await?;

    // Label it with `l`.
    leave_fields(session).await?;
    session.press(&["l"]).await?;
    let picker = session.wait_for("[data-testid=picker-input]", WAIT).await?;
    session.send_keys(&picker, "vip").await?;
    session.send_keys(&picker, keys::ENTER).await?;
    session
        .wait_until(
            "the vip chip shows",
            "return [...document.querySelectorAll('[data-testid=conversation-labels] [data-testid=label-chip]')].some(e => e.textContent.includes('vip'));",
            WAIT,
        )
        .await?;
    server
        .wait_for("the label reached the server", || async {
            Ok(server.conversation(ana.conversation_id).await?.labels.contains(&"vip".to_string()))
        })
        .await?;

    // Attach a file and send it.
    let file = harness.screenshots.join("invoice-4411.txt");
    std::fs::write(&file, "Invoice 4411: 2 × blue scarf, paid")?;
    let input = session.wait_for("[data-testid=attach-input]", WAIT).await?;
    session.send_keys(&input, &file.to_string_lossy()).await?;
    session.wait_for("[data-testid=staged-file]", WAIT).await?;
    let textarea = session.wait_for("[data-testid=composer]", WAIT).await?;
    if session
        .attribute(&session.wait_for("[data-testid=composer-mode]", WAIT).await?, "data-mode")
        .await?
        .as_deref()
        == Some("note")
    {
        session.click(&session.wait_for("[data-testid=composer-mode]", WAIT).await?).await?;
    }
    session.send_keys(&textarea, "Here is your invoice").await?;
    session.send_keys(&textarea, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;
    server
        .wait_for("the attachment reached the server", || async {
            Ok(server
                .messages(ana.conversation_id)
                .await?
                .iter()
                .any(|m| m.attachments.iter().any(|a| a.file_name == "invoice-4411.txt")))
        })
        .await?;

    // Resolve with `e`.
    leave_fields(session).await?;
    session.press(&["e"]).await?;
    server
        .wait_for("resolved on the server", || async {
            Ok(server.conversation(ana.conversation_id).await?.status == ConversationStatus::Resolved)
        })
        .await?;
    let waited = session
        .wait_until(
            "the thread header says resolved",
            "const e = document.querySelector('[data-testid=conversation-status]'); return e && e.dataset.status === 'resolved';",
            WAIT,
        )
        .await;
    if waited.is_err() {
        let shown = text_of(session, "[data-testid=conversation-status]").await?;
        anyhow::bail!("the thread header says {shown:?}, not resolved");
    }

    // Offline: the server goes away, a reply waits in the outbox, and is delivered once later.
    server.kill().await;
    session.wait_for("[data-testid=status-connection][data-state=offline], [data-testid=status-connection][data-state=connecting]", WAIT).await?;
    reply(session, "Written while offline").await?;
    session
        .wait_until(
            "the reply shows as waiting",
            "return [...document.querySelectorAll('[data-testid=message][data-delivery=queued]')].some(e => e.textContent.includes('Written while offline'));",
            WAIT,
        )
        .await?;
    session
        .wait_until(
            "one action pending",
            "return document.querySelector('[data-testid=status-pending]').textContent.includes('1');",
            WAIT,
        )
        .await?;
    screenshot(session, harness, "04-offline").await?;
    server.restart().await?;
    session.wait_for("[data-testid=status-connection][data-state=online]", Duration::from_secs(60)).await?;
    server
        .wait_for("the offline reply arrived exactly once", || async {
            let count = server
                .messages(ana.conversation_id)
                .await?
                .iter()
                .filter(|m| m.body == "Written while offline")
                .count();
            anyhow::ensure!(count <= 1, "the offline reply arrived {count} times");
            Ok(count == 1)
        })
        .await?;
    session
        .wait_until(
            "the reply is no longer waiting",
            "return ![...document.querySelectorAll('[data-testid=message][data-delivery=queued]')].length;",
            WAIT,
        )
        .await?;
    failed_reply_steps(harness, server, session, ana.conversation_id).await?;

    // Hostile HTML renders as text and runs nothing.
    let hostile_text =
        "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
    let hostile = server.inbound(&workspace.whatsapp, "mallory", "Mallory", "h1", hostile_text).await?;
    show_all_view(session).await?;
    open_row(session, hostile.conversation_id).await?;
    let bodies = session
        .wait_until(
            "the hostile message shows",
            "return [...document.querySelectorAll('[data-testid=message-body]')].map(e => e.textContent).find(t => t.includes('onerror'));",
            WAIT,
        )
        .await?;
    anyhow::ensure!(bodies.as_str() == Some(hostile_text), "hostile HTML not shown verbatim: {bodies}");
    let injected = session
        .execute(
            "return document.title === 'pwned' || document.querySelectorAll('[data-testid=message-body] img, [data-testid=message-body] script').length > 0;",
            json!([]),
        )
        .await?;
    anyhow::ensure!(injected == json!(false), "the hostile message ran or was parsed as HTML");

    // Persian renders right to left.
    let persian_text = "سلام، سفارش من هنوز نرسیده است";
    let persian = server.inbound(&workspace.whatsapp, "reza", "رضا احمدی", "p1", persian_text).await?;
    open_row(session, persian.conversation_id).await?;
    let direction = session
        .wait_until(
            "the Persian message shows",
            &format!(
                "const e = [...document.querySelectorAll('[data-testid=message-body]')].find(e => e.textContent === {persian_text:?}); \
                 return e && getComputedStyle(e).direction;"
            ),
            WAIT,
        )
        .await?;
    anyhow::ensure!(direction == json!("rtl"), "Persian text is laid out {direction}, not rtl");
    screenshot(session, harness, "05-rtl-thread").await?;

    // The command palette, for the README.
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&input, "assign").await?;
    session.wait_for("[data-testid=command-item]", WAIT).await?;
    screenshot(session, harness, "06-command-palette").await?;
    session.send_keys(&input, keys::ESCAPE).await?;

    board_steps(harness, server, workspace, session).await?;
    hours_steps(harness, server, workspace, session).await?;
    two_factor_steps(harness, server, session).await?;
    app_lock::app_lock_steps(harness, session).await?;
    hostile::hostile_steps(harness, server, workspace, session).await?;
    hostile_email::hostile_email_steps(harness, server, workspace, session).await?;
    long_thread::long_thread_steps(harness, server, workspace, session).await?;
    whatsapp::whatsapp_steps(harness, server, workspace, session).await?;
    new_conversation::new_conversation_steps(harness, server, workspace, session).await?;
    languages::language_steps(harness, session).await?;
    contacts::contact_steps(harness, server, session).await?;
    contacts::data_request_steps(harness, server, workspace, session).await?;
    transcripts::transcript_steps(harness, server, workspace, session).await?;
    export_approval::export_approval_steps(harness, server, workspace, session).await?;
    presence::presence_steps(harness, server, workspace, session).await?;
    quick_replies::quick_reply_steps(harness, server, workspace, session).await?;
    channels::channel_steps(harness, server, workspace, session).await?;
    reports::reports_steps(harness, server, workspace, session).await?;
    saved_views::saved_views_steps(harness, server, workspace, session).await?;
    team_admin::team_admin_steps(harness, server, workspace, session).await?;
    language_screens::language_screen_steps(harness, server, workspace, session).await?;
    widget::widget_steps(harness, server, workspace, session).await?;
    Ok(())
}

/// `SWITCHBOARD_E2E_ONLY=hostile,long_thread` (for working on a step): after the sign-in, only the
/// named steps of the first session, in that order; the second session is skipped.
async fn only_steps(
    harness: &Harness,
    server: &mut Server,
    workspace: &server::Workspace,
    session: &Session,
    only: &str,
) -> anyhow::Result<()> {
    for step in only.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        println!("only: the {step} step");
        match step {
            "app_lock" => app_lock::app_lock_steps(harness, session).await?,
            "hostile" => hostile::hostile_steps(harness, server, workspace, session).await?,
            "hostile_email" => {
                hostile_email::hostile_email_steps(harness, server, workspace, session).await?
            }
            "long_thread" => long_thread::long_thread_steps(harness, server, workspace, session).await?,
            "whatsapp" => whatsapp::whatsapp_steps(harness, server, workspace, session).await?,
            "new_conversation" => {
                new_conversation::new_conversation_steps(harness, server, workspace, session).await?
            }
            "languages" => languages::language_steps(harness, session).await?,
            "contacts" => contacts::contact_steps(harness, server, session).await?,
            "data_request" => contacts::data_request_steps(harness, server, workspace, session).await?,
            "transcripts" => transcripts::transcript_steps(harness, server, workspace, session).await?,
            "presence" => presence::presence_steps(harness, server, workspace, session).await?,
            "quick_replies" => quick_replies::quick_reply_steps(harness, server, workspace, session).await?,
            "channels" => channels::channel_steps(harness, server, workspace, session).await?,
            "reports" => reports::reports_steps(harness, server, workspace, session).await?,
            "saved_views" => saved_views::saved_views_steps(harness, server, workspace, session).await?,
            "team_admin" => team_admin::team_admin_steps(harness, server, workspace, session).await?,
            "language_screens" => {
                language_screens::language_screen_steps(harness, server, workspace, session).await?
            }
            "widget" => widget::widget_steps(harness, server, workspace, session).await?,
            "export_approval" => {
                export_approval::export_approval_steps(harness, server, workspace, session).await?
            }
            other => anyhow::bail!("SWITCHBOARD_E2E_ONLY: no step {other:?} to run alone"),
        }
    }
    Ok(())
}

/// The triage board: a new customer's card waits in New (Sara is busy and Sam offline, so routing
/// leaves it); Sara focuses it and presses 2, which claims it through the outbox: the card moves
/// to Assigned and the server has her as its assignee. Then the workload screen, from the board.
async fn board_steps(
    harness: &Harness,
    server: &Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let bo = server
        .inbound(&workspace.whatsapp, "bo", "Bo Berg", "b1", "Hi, can someone look at my refund?")
        .await?;
    let id = bo.conversation_id;
    anyhow::ensure!(server.conversation(id).await?.assignee_id.is_none(), "routing took Bo's conversation");
    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=open-board]", WAIT).await?).await?;
    let card_in = |column: &str| {
        format!("[data-testid=board-column][data-column={column}] [data-testid=board-card][data-id='{id}']")
    };
    let card = session.wait_for(&card_in("new"), WAIT).await?;
    session.click(&card).await?;
    session.press(&["2"]).await?;
    session.wait_for(&card_in("assigned"), WAIT).await?;
    server
        .wait_for("the server has Bo's conversation assigned to Sara", || async {
            Ok(server.conversation(id).await?.assignee_id == Some(workspace.sara))
        })
        .await?;
    // Alt+→ twice takes it on to Waiting, then Escalated: pending, then escalated by Sara. Each
    // time the board holds the keys and has followed the card.
    let follows = format!(
        "const f = document.querySelector('[data-testid=board-card].focused'); \
         const held = document.activeElement && document.activeElement.getAttribute('role') === 'application'; \
         return arguments.length > 0 ? [held, f && f.dataset.id] : held && !!f && f.dataset.id === '{id}';"
    );
    for column in ["waiting", "escalated"] {
        if session.wait_until("the board follows Bo's card", &follows, WAIT).await.is_err() {
            let shown = session.execute(&follows, json!([true])).await?;
            anyhow::bail!("the board lost Bo's card before moving it to {column}: (holds the keys, focused card) = {shown}");
        }
        session.press(&[keys::ALT, keys::RIGHT]).await?;
        session.wait_for(&card_in(column), WAIT).await?;
    }
    server
        .wait_for("the server has Bo's conversation pending and escalated by Sara", || async {
            let conversation = server.conversation(id).await?;
            Ok(conversation.status == ConversationStatus::Pending
                && conversation.escalation.is_some_and(|e| {
                    e.by == switchboard_proto::escalation::EscalatedBy::Agent { id: workspace.sara }
                }))
        })
        .await?;
    screenshot(session, harness, "09-board").await?;

    session.click(&session.wait_for("[data-testid=board-workload]", WAIT).await?).await?;
    session.wait_for(&format!("[data-testid=workload-agent][data-id='{}']", workspace.sara), WAIT).await?;
    screenshot(session, harness, "10-workload").await?;
    session.press(&[keys::ESCAPE]).await?;
    Ok(())
}

/// The e2e inbox has no connector, so the offline reply went nowhere: the server failed it with
/// `not_configured`, and the thread says so in words with a Retry action. Retrying goes through
/// the outbox to the server, which fails it again at once with the same reason.
async fn failed_reply_steps(
    harness: &Harness,
    server: &Server,
    session: &Session,
    conversation: Id,
) -> anyhow::Result<()> {
    let message = server
        .messages(conversation)
        .await?
        .into_iter()
        .find(|m| m.body == "Written while offline")
        .ok_or_else(|| anyhow::anyhow!("the offline reply is not on the server"))?;
    anyhow::ensure!(
        message.delivery == DeliveryState::Failed
            && message.failure.as_ref().is_some_and(|f| f.kind == DeliveryFailureKind::NotConfigured),
        "the reply on an inbox without a connector: {message:?}"
    );
    let shown = format!("[data-testid=message][data-id='{}']", message.id);
    let failure = format!("{shown} [data-testid=delivery-failure][data-failure=not_configured]");
    session.wait_for(&failure, WAIT).await?;
    let words = text_of(session, &failure).await?;
    anyhow::ensure!(words.contains("connected to its channel"), "the failure reads {words:?}");
    screenshot(session, harness, "04b-failed-reply").await?;
    session.click(&session.wait_for(&format!("{failure} [data-testid=retry-delivery]"), WAIT).await?).await?;
    session
        .wait_until(
            "the retry is confirmed",
            "return !document.querySelector('[data-testid=status-pending]').classList.contains('busy');",
            WAIT,
        )
        .await?;
    session.wait_for(&failure, WAIT).await?;
    anyhow::ensure!(
        !text_of(session, "body").await?.contains("only a failed reply"),
        "the retry was refused"
    );
    println!("failed reply: shown with its reason and a Retry action; retried, failed again saying why");
    Ok(())
}

/// Sara, who leads the team, gives the inbox business hours in settings, then the inbox gets an
/// away message; with the server's clock moved to a closed hour, a customer who writes twice gets
/// exactly one away reply.
async fn hours_steps(
    harness: &Harness,
    server: &Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&input, "open settings").await?;
    session
        .wait_until(
            "the palette offers the settings",
            "const e = document.querySelector('[data-testid=command-item][aria-selected=true]'); \
             return e && e.textContent.includes('Open settings');",
            WAIT,
        )
        .await?;
    session.send_keys(&input, keys::ENTER).await?;
    session.wait_for("[data-testid=settings]", WAIT).await?;
    session.click(&session.wait_for("[data-testid=settings-inbox]", WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=set-hours]", WAIT).await?).await?;
    session.wait_for("[data-testid=hours-editor]", WAIT).await?;
    screenshot(session, harness, "08-business-hours").await?;
    session.click(&session.wait_for("[data-testid=settings-save]", WAIT).await?).await?;
    let inbox_id = workspace.whatsapp.inbox.id;
    server
        .wait_for("the server has the inbox's hours", || async {
            Ok(server.inbox(inbox_id).await?.hours.is_some())
        })
        .await?;
    session.press(&[keys::ESCAPE]).await?;
    server
        .set_auto_replies(
            &workspace.whatsapp,
            json!({"away": {"body": "We're closed; we answer from {{next_open_at}}."}}),
        )
        .await?;

    // The server's clock to an hour the inbox is closed (its next closing, if it is open now).
    let history = server.inbox(inbox_id).await?.hours.ok_or_else(|| anyhow::anyhow!("no hours"))?;
    let hours = switchboard_proto::calendar::BusinessHours::new(&history)
        .map_err(|e| anyhow::anyhow!("the saved hours: {e}"))?;
    let now = switchboard_server::Clock::now(server.clock.as_ref());
    if switchboard_proto::calendar::is_open(&hours, now) {
        let closes = switchboard_proto::calendar::next_close(&hours, now)
            .ok_or_else(|| anyhow::anyhow!("never closes"))?;
        server.clock.advance(closes - now + 60_000);
    }
    let zara = server.inbound(&workspace.whatsapp, "zara", "Zara Amini", "away-1", "Are you open?").await?;
    server.inbound(&workspace.whatsapp, "zara", "Zara Amini", "away-2", "Hello?").await?;
    let away: Vec<String> = server
        .messages(zara.conversation_id)
        .await?
        .into_iter()
        .filter(|m| m.kind == MessageKind::Outgoing && m.sender == Sender::System)
        .map(|m| m.body)
        .collect();
    if away.len() != 1 {
        let inbox = server.inbox(inbox_id).await?;
        let messages = server.messages(zara.conversation_id).await?;
        anyhow::bail!(
            "exactly one away reply, not {away:#?}; the inbox's replies {:?} and hours {:?}; the thread {messages:#?}",
            inbox.auto_replies,
            inbox.hours
        );
    }
    anyhow::ensure!(away[0].starts_with("We're closed; we answer from "), "the away reply: {}", away[0]);
    println!("hours: set in settings by the lead; a customer writing twice while closed got one away reply");
    Ok(())
}

/// Two-step verification, as an agent turns it on and then signs in with it: the account menu's
/// Security dialog shows a QR code and the key, the code typed is computed here from that key at
/// the server's time (RFC 6238 through totp-rs, as an authenticator app would), the recovery codes
/// show once; then Sara signs out, and signing in asks for a code after her password.
async fn two_factor_steps(harness: &Harness, server: &Server, session: &Session) -> anyhow::Result<()> {
    let code_at = |secret: &str, at: Millis| -> anyhow::Result<String> {
        let bytes = totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .map_err(|e| anyhow::anyhow!("the key shown is not base32: {e:?}"))?;
        let totp =
            totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new());
        Ok(totp.generate(u64::try_from(at / 1000)?))
    };
    let now = || switchboard_server::Clock::now(server.clock.as_ref());
    leave_fields(session).await?;
    session.click(&session.wait_for(".account .me", WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=open-security]", WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=two-factor-begin]", WAIT).await?).await?;
    session.wait_for("[data-testid=two-factor-qr]", WAIT).await?;
    let key = session.wait_for("[data-testid=two-factor-secret]", WAIT).await?;
    let secret = session
        .attribute(&key, "data-secret")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the key is not shown"))?;
    // The earlier steps' notices would cover the dialog's code field in the picture.
    export_approval::dismiss_toasts(session).await?;
    screenshot(session, harness, "11-two-factor-enrol").await?;
    let input = session.wait_for("[data-testid=two-factor-code]", WAIT).await?;
    session.send_keys(&input, &code_at(&secret, now())?).await?;
    session.click(&session.wait_for("[data-testid=two-factor-confirm]", WAIT).await?).await?;
    session.wait_for("[data-testid=recovery-codes]", WAIT).await?;
    let codes = session.find_all("[data-testid=recovery-codes] li").await?.len();
    anyhow::ensure!(codes == 10, "ten recovery codes show, not {codes}");
    session.click(&session.wait_for("[data-testid=recovery-codes-kept]", WAIT).await?).await?;
    session
        .wait_until(
            "the dialog says it is on",
            "const e = document.querySelector('[data-testid=two-factor-state]'); return e && /10/.test(e.textContent);",
            WAIT,
        )
        .await?;
    session.press(&[keys::ESCAPE]).await?;

    // Signed out, the password alone is not enough: the form asks for the code.
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let palette = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&palette, "sign out").await?;
    session
        .wait_until(
            "the palette offers to sign out",
            "const e = document.querySelector('[data-testid=command-item][aria-selected=true]'); \
             return e && e.textContent.includes('Sign out');",
            WAIT,
        )
        .await?;
    session.send_keys(&palette, keys::ENTER).await?;
    let url = session.wait_for("#signin-server", WAIT).await?;
    session.clear(&url).await?;
    session.send_keys(&url, &server.base).await?;
    session.send_keys(&session.wait_for("#signin-email", WAIT).await?, "sara@e2e.example").await?;
    session.send_keys(&session.wait_for("#signin-password", WAIT).await?, server::PASSWORD).await?;
    session.click(&session.wait_for("#signin-submit", WAIT).await?).await?;
    let code = session.wait_for("[data-testid=signin-code]", WAIT).await?;
    screenshot(session, harness, "12-two-factor-sign-in").await?;
    // The code that turned it on is used up: the next step's code (one step ahead is accepted).
    session.send_keys(&code, &code_at(&secret, now() + 30_000)?).await?;
    session.click(&session.wait_for("#signin-submit", WAIT).await?).await?;
    session.wait_for("[data-testid=conversation-list]", WAIT).await?;
    println!("two-factor: enrolled from the Security dialog, signed out, signed in with password and code");
    Ok(())
}

/// Routing on: the admin switches least-loaded routing on for the inbox Sara works, with room for
/// three conversations; Sara says she's online from the palette, by keyboard; a customer writes
/// and the conversation is Sara's at once, listed under Mine, with a desktop notification.
async fn routing_steps(
    harness: &Harness,
    server: &Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    server.set_routing(&workspace.whatsapp, "least_loaded").await?;
    server.set_capacity(workspace.sara, Some(3)).await?;

    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&input, "availability online").await?;
    session
        .wait_until(
            "the palette offers to set Sara online",
            "const e = document.querySelector('[data-testid=command-item][aria-selected=true]'); \
             return e && e.textContent.includes('Set availability: Online');",
            WAIT,
        )
        .await?;
    session.send_keys(&input, keys::ENTER).await?;
    session.wait_for("[data-testid=availability-button][data-availability=online]", WAIT).await?;
    server
        .wait_for("the server has Sara online", || async {
            Ok(server.agent(workspace.sara).await?.availability == Availability::Online)
        })
        .await?;

    // Sam is a member too but offline (agents start so), and the one conversation so far is Sara's
    // already: the next customer can only go to her, in the transaction that takes the message.
    let nora = server
        .inbound(&workspace.whatsapp, "nora", "Nora Lind", "r1", "Hi, can I change my delivery address?")
        .await?;
    let assignee = server.conversation(nora.conversation_id).await?.assignee_id;
    anyhow::ensure!(
        assignee == Some(workspace.sara),
        "Nora's conversation went to {assignee:?}, not to Sara ({})",
        workspace.sara
    );
    session.click(&session.wait_for("[data-testid=view][data-view=mine]", WAIT).await?).await?;
    session
        .wait_for(&format!("[data-testid=conversation-row][data-id='{}']", nora.conversation_id), WAIT)
        .await?;
    wait_for_notification(harness, &["Nora Lind", "Routed to Sara Karimi"]).await?;
    // The thread says why it is hers (opened only now: a thread being read doesn't ring).
    open_row(session, nora.conversation_id).await?;
    session
        .wait_until(
            "the thread shows the routing line",
            "return [...document.querySelectorAll('[data-testid=thread] [data-kind=activity] [data-testid=message-body]')] \
                 .some(e => e.textContent === 'Routed to Sara Karimi (the least loaded)');",
            WAIT,
        )
        .await?;
    screenshot(session, harness, "02-routed-to-me").await?;
    println!("routing: Nora's conversation went to Sara, listed under Mine, and rang");
    Ok(())
}

/// A VIP customer under a 30-minute first-response target: when the server's clock passes 80 % and
/// then the due time, Sara (whose conversation it is) gets a desktop notification for each. The
/// clock is the server's, moved by the test; the app never decides a breach itself.
async fn sla_steps(harness: &Harness, server: &Server, workspace: &server::Workspace) -> anyhow::Result<()> {
    server
        .add_sla_policy(
            json!({"name": "VIP", "conditions": {"labels": ["vip"]}, "first_response_secs": 1800}),
        )
        .await?;
    let omar = server.inbound(&workspace.whatsapp, "omar", "Omar Haddad", "s1", "I need this today").await?;
    anyhow::ensure!(
        server.conversation(omar.conversation_id).await?.assignee_id == Some(workspace.sara),
        "Omar's conversation went to Sara, who has room"
    );
    server.label(omar.conversation_id, "vip").await?;
    let sla = server
        .conversation(omar.conversation_id)
        .await?
        .sla
        .ok_or_else(|| anyhow::anyhow!("no SLA applies"))?;
    anyhow::ensure!(sla.policy_name == "VIP", "the VIP policy applies, not {}", sla.policy_name);
    server.clock.advance(25 * 60_000);
    wait_for_notification(harness, &["Omar Haddad", "SLA warning"]).await?;
    server.clock.advance(6 * 60_000);
    wait_for_notification(harness, &["Omar Haddad", "SLA breached"]).await?;
    let clocks =
        server.conversation(omar.conversation_id).await?.sla.ok_or_else(|| anyhow::anyhow!("no SLA"))?.clocks;
    anyhow::ensure!(
        clocks.iter().any(|c| c.status == switchboard_proto::sla::SlaClockStatus::Breached),
        "the server recorded the breach: {clocks:?}"
    );
    // Out of the way of the steps that follow (they count Sara's open conversations).
    server.set_status(omar.conversation_id, "resolved").await?;
    println!("sla: Omar's first response warned at 80 % and breached at 30 minutes, each rang");
    Ok(())
}

/// Against two nodes behind nginx: the node the app streams from is killed mid-session. The app
/// reconnects through nginx to the other node, a customer message written after the kill reaches
/// it, a reply sent after the kill reaches the server once, and the list and the thread end as the
/// server has them.
async fn failover_steps(
    harness: &Harness,
    nodes: &Nodes,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let lee = nodes
        .inbound(&workspace.whatsapp, "lee", "Lee Chen", "n1", "Hello, is my parcel on its way?")
        .await?;
    session.wait_for("#signin-server", WAIT).await?;
    sign_in(session, &nodes.base).await?;
    session.wait_for("[data-testid=status-connection][data-state=online]", Duration::from_secs(60)).await?;
    show_all_view(session).await?;
    open_row(session, lee.conversation_id).await?;
    let connected = nodes.streaming_node().await?;

    nodes.kill(connected).await?;
    let ana =
        nodes.inbound(&workspace.whatsapp, "ana", "Ana Pop", "n2", "Hi, a question about sizes").await?;
    let more = nodes.inbound(&workspace.whatsapp, "lee", "Lee Chen", "n3", "It was due yesterday").await?;
    anyhow::ensure!(
        more.conversation_id == lee.conversation_id,
        "Lee's second message joins his conversation"
    );
    let text = "Sent after the node went away";
    reply(session, text).await?;
    nodes
        .wait_for("the reply sent after the kill arrived exactly once", || async {
            let count = nodes.messages(lee.conversation_id).await?.iter().filter(|m| m.body == text).count();
            anyhow::ensure!(count <= 1, "the reply arrived {count} times");
            Ok(count == 1)
        })
        .await?;

    // The app follows again, from the node left, and shows what was written while it switched.
    session.wait_for("[data-testid=status-connection][data-state=online]", Duration::from_secs(60)).await?;
    let now = nodes.streaming_node().await?;
    anyhow::ensure!(now != connected, "the app streams from node {now}, which was killed");
    session
        .wait_for(&format!("[data-testid=thread] [data-testid=message][data-id='{}']", more.message_id), WAIT)
        .await?;
    session
        .wait_until(
            "no message is left waiting",
            "return ![...document.querySelectorAll('[data-testid=message][data-delivery=queued]')].length;",
            WAIT,
        )
        .await?;

    // The list and the open thread are what the server has.
    let mut expected = nodes.conversation_ids().await?;
    expected.sort();
    anyhow::ensure!(
        expected.contains(&ana.conversation_id.to_string()),
        "the server lists Ana's conversation"
    );
    let rows = "return [...document.querySelectorAll('[data-testid=conversation-row]')].map(e => e.dataset.id).sort();";
    let listed = session
        .wait_until(
            "the list shows the server's conversations",
            &format!(
                "const rows = (() => {{ {rows} }})(); return JSON.stringify(rows) === {:?} && rows;",
                serde_json::to_string(&expected)?
            ),
            WAIT,
        )
        .await;
    if listed.is_err() {
        let shown = session.execute(rows, json!([])).await?;
        anyhow::bail!("the list shows {shown}, the server has {expected:?}");
    }
    let mut messages: Vec<String> =
        nodes.messages(lee.conversation_id).await?.iter().map(|m| m.id.to_string()).collect();
    messages.sort();
    let shown = "return [...document.querySelectorAll('[data-testid=thread] [data-testid=message]')].map(e => e.dataset.id).sort();";
    let matched = session
        .wait_until(
            "the thread shows the server's messages",
            &format!(
                "const ids = (() => {{ {shown} }})(); return JSON.stringify(ids) === {:?} && ids;",
                serde_json::to_string(&messages)?
            ),
            WAIT,
        )
        .await;
    if matched.is_err() {
        let ids = session.execute(shown, json!([])).await?;
        anyhow::bail!("the thread shows messages {ids}, the server has {messages:?}");
    }
    screenshot(session, harness, "07-node-killed").await?;
    println!("the app moved from node {connected} (killed) to node {now} and lost nothing");
    Ok(())
}
