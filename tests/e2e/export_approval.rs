//! Export approval and the app lock's maximum, end to end (issue 20). The WhatsApp inbox is made
//! to hold agents' transcript exports (as an admin, over HTTP). Then, each screen also shot in
//! Arabic (right to left):
//! - Sara, a lead, in the app: Sam (an agent, over HTTP) is refused a direct export and asks with
//!   a reason; his request waits on Settings → Export requests, where Sara approves it with a note.
//!   Sam downloads it once; a second download is refused.
//! - Sara made an agent: her transcript dialog asks for a reason instead of exporting; she asks,
//!   an admin approves over HTTP, and her export then goes through the save dialog once: the file
//!   holds the customer's line, the server has the request downloaded, and the dialog asks again.
//! - Sara made an admin: Settings → Security sets every app's lock maximum (5 minutes; the server
//!   has it). Another admin lowers it to 1 over HTTP while the app runs: the window applies it
//!   through the feed without signing in again, and one idle minute on the timer's clock locks it.
//!
//! Everything is put back at the end: a lead, no maximum, exports not held, English.

use std::time::Duration;

use serde_json::{json, Value};
use switchboard_e2e::{keys, Session};
use switchboard_proto::exports::{ExportRequest, ExportRequestStatus};

use crate::{
    languages::close_settings,
    leave_fields, open_row,
    reports::{save_in_dialog, settle, wait_for_file},
    screenshot,
    server::{self, Api},
    Harness, WAIT,
};

const SAM_CUSTOMER: &str = "Please send me a copy of our chat about order 8842";
const SAM_REASON: &str = "The customer asked for a copy for his insurer";
const SARA_CUSTOMER: &str = "My parcel 5530 arrived damaged, photos attached";
const SARA_REASON: &str = "Evidence for the courier's damage claim";

/// Opens Settings (if closed) on `page`. The account menu is opened again if a re-render of the
/// sidebar (the directory arriving just after sign-in) closed it before its item was clicked.
async fn open_settings_page(session: &Session, page: &str) -> anyhow::Result<()> {
    let mut tries = 0;
    while session.find_all("[data-testid=settings]").await?.is_empty() {
        tries += 1;
        anyhow::ensure!(tries <= 5, "Settings did not open from the account menu");
        leave_fields(session).await?;
        if session.find_all("[data-testid=open-settings]").await?.is_empty() {
            session.click(&session.wait_for(".account .me", WAIT).await?).await?;
        }
        let item = "return !!document.querySelector('[data-testid=open-settings]');";
        if session.wait_until("the account menu is open", item, Duration::from_secs(3)).await.is_err() {
            continue;
        }
        session.click(&session.wait_for("[data-testid=open-settings]", WAIT).await?).await?;
        let opened = "return !!document.querySelector('[data-testid=settings]');";
        let _ = session.wait_until("Settings open", opened, Duration::from_secs(3)).await;
    }
    session.click(&session.wait_for(&format!("[data-testid=settings-{page}]"), WAIT).await?).await?;
    Ok(())
}

/// The screen as it is now, in English, then in Arabic and back to English: `close` leaves it
/// for the language page, `reopen` brings it back afterwards.
async fn shot_both<C, CF, R, RF>(
    session: &Session,
    harness: &Harness,
    name: &str,
    close: C,
    reopen: R,
) -> anyhow::Result<()>
where
    C: Fn() -> CF,
    CF: std::future::Future<Output = anyhow::Result<()>>,
    R: Fn() -> RF,
    RF: std::future::Future<Output = anyhow::Result<()>>,
{
    // The pointer off every scrolling pane (GTK's overlay scrollbar), as the language screens do.
    session.hover(&session.wait_for("[data-testid=status-connection]", WAIT).await?).await?;
    dismiss_toasts(session).await?;
    settle(session).await?;
    screenshot(session, harness, name).await?;
    for lang in ["ar", "en"] {
        close().await?;
        choose_language(session, lang).await?;
        reopen().await?;
        if lang == "ar" {
            let page =
                session.execute("return [document.documentElement.lang, document.dir];", json!([])).await?;
            anyhow::ensure!(page == json!(["ar", "rtl"]), "{name} in Arabic: the page is {page}");
            session.hover(&session.wait_for("[data-testid=status-connection]", WAIT).await?).await?;
            dismiss_toasts(session).await?;
            settle(session).await?;
            screenshot(session, harness, &format!("{name}-ar")).await?;
        }
    }
    Ok(())
}

/// Closes every toast (a saved setting, a language chosen, a file saved) and waits until none
/// shows, so none covers the screen being shot or the control clicked next.
pub(crate) async fn dismiss_toasts(session: &Session) -> anyhow::Result<()> {
    session
        .execute("document.querySelectorAll('[data-testid=toast] button.close').forEach((b) => b.click()); return true;", json!([]))
        .await?;
    session
        .wait_until(
            "no toast shows",
            "return document.querySelectorAll('[data-testid=toast]').length === 0;",
            WAIT,
        )
        .await?;
    Ok(())
}

/// Picks `lang` in the account menu (there for every role; an agent has no Settings) and waits
/// for the page to be in it, then closes the menu.
async fn choose_language(session: &Session, lang: &str) -> anyhow::Result<()> {
    leave_fields(session).await?;
    let mut tries = 0;
    while session.find_all("[data-testid=menu-language]").await?.is_empty() {
        tries += 1;
        anyhow::ensure!(tries <= 5, "the account menu did not open");
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
        let open = "return !!document.querySelector('[data-testid=menu-language]');";
        let _ = session.wait_until("the account menu is open", open, Duration::from_secs(3)).await;
    }
    session
        .execute(
            "const s = document.querySelector('[data-testid=menu-language]'); s.value = arguments[0]; \
             s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            json!([lang]),
        )
        .await?;
    session
        .wait_until(
            &format!("the app is in {lang}"),
            &format!("return document.documentElement.lang === {};", json!(lang)),
            WAIT,
        )
        .await?;
    if !session.find_all("[data-testid=menu-language]").await?.is_empty() {
        session.press(&[keys::ESCAPE]).await?;
    }
    if !session.find_all("[data-testid=menu-language]").await?.is_empty() {
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
    }
    session
        .wait_until(
            "the account menu is closed",
            "return !document.querySelector('[data-testid=menu-language]');",
            WAIT,
        )
        .await?;
    settle(session).await
}

/// Closes Settings (Escape) before the language is changed in the account menu.
async fn leave_settings(session: &Session) -> anyhow::Result<()> {
    close_settings(session).await
}

async fn requests(api: &Api, query: &str) -> anyhow::Result<Vec<ExportRequest>> {
    Ok(serde_json::from_slice(&api.get_bytes(&format!("/api/v1/export-requests{query}")).await?)?)
}

async fn open_transcript_dialog(session: &Session) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=export-transcript]", WAIT).await?).await?;
    session.wait_for("[data-testid=transcript-dialog]", WAIT).await?;
    Ok(())
}

async fn close_transcript_dialog(session: &Session) -> anyhow::Result<()> {
    session.press(&[keys::ESCAPE]).await?;
    if session
        .wait_until(
            "the transcript dialog closes",
            "return !document.querySelector('[data-testid=transcript-dialog]');",
            Duration::from_secs(2),
        )
        .await
        .is_err()
    {
        session.click(&session.wait_for("[data-testid=transcript-dialog] footer .btn", WAIT).await?).await?;
    }
    session
        .wait_until(
            "the transcript dialog closed",
            "return !document.querySelector('[data-testid=transcript-dialog]');",
            WAIT,
        )
        .await?;
    Ok(())
}

pub async fn export_approval_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let inbox = workspace.whatsapp.inbox.id;
    server.hold_exports(inbox, true).await?;
    lead_approves(harness, server, workspace, session).await?;
    agent_asks(harness, server, workspace, session).await?;
    lock_maximum(harness, server, workspace, session).await?;
    server.hold_exports(inbox, false).await?;
    server.set_role(workspace.sara, "lead").await?;
    println!(
        "export approval: an agent's request approved on Settings → Export requests and downloaded once; \
         the agent's dialog asked, approved, saved once; the lock maximum set in the app and lowered live"
    );
    Ok(())
}

/// Sam asks over HTTP; Sara, a lead, approves on Settings → Export requests; Sam downloads once.
async fn lead_approves(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let omar = server.inbound(&workspace.whatsapp, "omar", "Omar Farouk", "ea-1", SAM_CUSTOMER).await?;
    let conversation = omar.conversation_id;
    let sam = server.signed_in_as("sam@e2e.example").await?;
    let direct = sam.get_bytes(&format!("/api/v1/conversations/{conversation}/export?format=txt")).await;
    anyhow::ensure!(
        direct.as_ref().is_err_and(|e| e.to_string().contains("export_approval_required")),
        "Sam's direct export is held: {direct:?}"
    );
    let asked: ExportRequest = serde_json::from_value(
        sam.admin(
            "/api/v1/export-requests",
            json!({"conversation_id": conversation, "format": "txt", "reason": SAM_REASON}),
        )
        .await?,
    )?;
    anyhow::ensure!(asked.status == ExportRequestStatus::Pending, "{asked:?}");

    let row = format!("[data-testid=export-request-row][data-id='{}']", asked.id);
    open_settings_page(session, "exports").await?;
    let pending = session.wait_for(&format!("{row}[data-status=pending]"), WAIT).await?;
    let shown = session.text(&pending).await?;
    anyhow::ensure!(
        shown.contains("Sam Okafor") && shown.contains(SAM_REASON),
        "the row says who asks and why: {shown:?}"
    );
    let row = row.as_str();
    let reopen = || async move {
        open_settings_page(session, "exports").await?;
        session.wait_for(&format!("{row}[data-status=pending]"), WAIT).await?;
        Ok(())
    };
    shot_both(session, harness, "51-export-requests", || leave_settings(session), reopen).await?;

    let note = session.wait_for(&format!("{row} [data-testid=export-note]"), WAIT).await?;
    session.send_keys(&note, "Approved for the insurer only").await?;
    session.click(&session.wait_for(&format!("{row} [data-testid=export-approve]"), WAIT).await?).await?;
    session.wait_for(&format!("{row}[data-status=approved]"), WAIT).await?;
    let decided = requests(&sam, "").await?.into_iter().find(|r| r.id == asked.id);
    anyhow::ensure!(
        decided.as_ref().is_some_and(|r| r.status == ExportRequestStatus::Approved
            && r.decided_by == Some(workspace.sara)
            && r.note.as_deref() == Some("Approved for the insurer only")),
        "the server has Sara's approval with her note: {decided:?}"
    );

    let download = format!("/api/v1/export-requests/{}/download", asked.id);
    let text = String::from_utf8(sam.get_bytes(&download).await?)?;
    anyhow::ensure!(text.contains(SAM_CUSTOMER), "Sam's transcript has the customer's line:\n{text}");
    let again = sam.get_bytes(&download).await;
    anyhow::ensure!(again.is_err(), "a second download is refused: {again:?}");
    close_settings(session).await?;
    Ok(())
}

/// Sara made an agent: the dialog asks for a reason; approved (an admin over HTTP), saved once.
async fn agent_asks(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    server.set_role(workspace.sara, "agent").await?;
    let lina = server.inbound(&workspace.whatsapp, "lina", "Lina Haddad", "ea-2", SARA_CUSTOMER).await?;
    let conversation = lina.conversation_id;
    leave_fields(session).await?;
    crate::show_all_view(session).await?;
    open_row(session, conversation).await?;

    // The role reaches the window through the feed: the dialog asks instead of exporting.
    open_transcript_dialog(session).await?;
    session.wait_for("[data-testid=export-reason]", WAIT).await?;
    anyhow::ensure!(
        session.find_all("[data-testid=transcript-save]").await?.is_empty(),
        "no Export button while the inbox holds an agent's exports"
    );
    let reason = session.wait_for("[data-testid=export-reason]", WAIT).await?;
    session.send_keys(&reason, SARA_REASON).await?;
    let reopen = || async move {
        leave_fields(session).await?;
        open_row(session, conversation).await?;
        open_transcript_dialog(session).await?;
        let reason = session.wait_for("[data-testid=export-reason]", WAIT).await?;
        session.send_keys(&reason, SARA_REASON).await?;
        Ok(())
    };
    let close = || close_transcript_dialog(session);
    shot_both(session, harness, "52-export-request-dialog", close, reopen).await?;
    // `shot_both` closed and reopened the dialog around the language page: the reason is typed.
    session.click(&session.wait_for("[data-testid=export-ask]", WAIT).await?).await?;
    session.wait_for("[data-testid=export-request][data-status=pending]", WAIT).await?;

    let mine = requests(server, "?pending=true")
        .await?
        .into_iter()
        .find(|r| r.conversation_id == conversation && r.requester_id == workspace.sara)
        .ok_or_else(|| anyhow::anyhow!("the server has no request of Sara's"))?;
    anyhow::ensure!(mine.reason == SARA_REASON, "the reason as typed: {:?}", mine.reason);
    server.admin(&format!("/api/v1/export-requests/{}/decision", mine.id), json!({"approve": true})).await?;

    // Opened again, the dialog has the approval to use: Export, through the save dialog.
    close_transcript_dialog(session).await?;
    open_transcript_dialog(session).await?;
    session.wait_for("[data-testid=export-request][data-status=approved]", WAIT).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("lina.txt");
    session.click(&session.wait_for("[data-testid=transcript-save]", WAIT).await?).await?;
    save_in_dialog(&path).await?;
    session
        .wait_until(
            "the dialog closes once the file is saved",
            "return !document.querySelector('[data-testid=transcript-dialog]');",
            WAIT,
        )
        .await?;
    let text = String::from_utf8(wait_for_file(&path).await?)?;
    anyhow::ensure!(
        text.lines().any(|line| line.ends_with(&format!("] Lina Haddad: {SARA_CUSTOMER}"))),
        "the approved transcript has the customer's line:\n{text}"
    );
    let used = requests(server, "").await?.into_iter().find(|r| r.id == mine.id);
    anyhow::ensure!(
        used.as_ref().is_some_and(|r| r.status == ExportRequestStatus::Downloaded),
        "the server has the approval used: {used:?}"
    );
    // Once: the dialog asks again, and says the last one was downloaded.
    open_transcript_dialog(session).await?;
    session.wait_for("[data-testid=export-request][data-status=downloaded]", WAIT).await?;
    session.wait_for("[data-testid=export-ask]", WAIT).await?;
    close_transcript_dialog(session).await?;
    Ok(())
}

/// Sara made an admin sets the lock maximum; another admin lowers it while the app runs.
async fn lock_maximum(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    // Her own choice: never (the maximum decides).
    crate::app_lock::choose_lock_after(session, 0).await?;
    server.set_role(workspace.sara, "admin").await?;
    open_settings_page(session, "security").await?;
    let select = "[data-testid=lock-policy-select]";
    session.wait_for(select, WAIT).await?;
    session
        .execute(
            &format!(
                "const s = document.querySelector('{select}'); s.value = '5'; \
                 s.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
            ),
            json!([]),
        )
        .await?;
    let stored = |minutes: Option<u32>| async move {
        let policy: Value = serde_json::from_slice(&server.get_bytes("/api/v1/settings/lock").await?)?;
        anyhow::Ok(policy == json!({ "max_idle_minutes": minutes }))
    };
    server.wait_for("the server has a 5-minute maximum", || stored(Some(5))).await?;
    session
        .execute("document.querySelector('[data-testid=lock-policy]').scrollIntoView({ block: 'center' }); return true;", json!([]))
        .await?;
    let reopen = || async move {
        open_settings_page(session, "security").await?;
        session.wait_for(select, WAIT).await?;
        session
            .execute("document.querySelector('[data-testid=lock-policy]').scrollIntoView({ block: 'center' }); return true;", json!([]))
            .await?;
        Ok(())
    };
    shot_both(session, harness, "53-lock-policy", || leave_settings(session), reopen).await?;
    close_settings(session).await?;

    // Another admin lowers it to one minute: the running app takes it from the feed.
    server.set_lock_policy(Some(1)).await?;
    open_settings_page(session, "security").await?;
    session
        .wait_until(
            "the app shows the lowered maximum",
            &format!("return document.querySelector('{select}').value === '1';"),
            WAIT,
        )
        .await?;
    close_settings(session).await?;
    session.execute("window.__switchboardIdle.advance(61000);", json!([])).await?;
    session.wait_for("[data-testid=lock-screen]", WAIT).await?;
    let password = session.wait_for("[data-testid=lock-password]", WAIT).await?;
    session.send_keys(&password, server::PASSWORD).await?;
    session.click(&session.wait_for("[data-testid=lock-unlock]", WAIT).await?).await?;
    session.wait_for("[data-testid=conversation-list]", WAIT).await?;

    // Lifted again (later steps sit idle): the app follows.
    server.set_lock_policy(None).await?;
    open_settings_page(session, "security").await?;
    session
        .wait_until(
            "the app shows no maximum",
            &format!("return document.querySelector('{select}').value === '';"),
            WAIT,
        )
        .await?;
    close_settings(session).await?;
    server.wait_for("the server has no maximum", || stored(None)).await?;
    Ok(())
}
