//! The app lock: Sara chooses "lock after 1 minute" in the account menu; the idle timer's clock is
//! moved a minute on through the page's test hook (no sleeping), and the window locks: the lock
//! screen says who is signed in, and no conversation's text is left anywhere in the page. A
//! reloaded page stays locked (the state is the shell's). A wrong password is refused; hers
//! (checked by the server) brings the inbox back.

use switchboard_e2e::{keys, Session};

use crate::{leave_fields, screenshot, server, Harness, WAIT};

pub(crate) async fn choose_lock_after(session: &Session, minutes: u32) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.click(&session.wait_for(".account .me", WAIT).await?).await?;
    session.wait_for("[data-testid=lock-after]", WAIT).await?;
    session
        .execute(
            "const s = document.querySelector('[data-testid=lock-after]'); s.value = arguments[0]; \
             s.dispatchEvent(new Event('change', { bubbles: true }));",
            serde_json::json!([minutes.to_string()]),
        )
        .await?;
    // Closed the way it was opened, so the next step finds it closed.
    if !session.find_all("[data-testid=lock-after]").await?.is_empty() {
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
    }
    session
        .wait_until(
            "the account menu is closed",
            "return !document.querySelector('[data-testid=lock-after]');",
            WAIT,
        )
        .await?;
    Ok(())
}

const NO_CONVERSATION_TEXT: &str = "const text = document.body.textContent; \
     return !document.querySelector('[data-testid=conversation-row]') && !text.includes(arguments[0]);";

pub async fn app_lock_steps(harness: &Harness, session: &Session) -> anyhow::Result<()> {
    let first = |testid: &str| {
        format!("const e = document.querySelector('[data-testid={testid}]'); return e ? e.textContent.trim() : '';")
    };
    let text_of = |value: serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    let preview = text_of(
        session.wait_until("a conversation's preview is on screen", &first("row-preview"), WAIT).await?,
    );
    let contact =
        text_of(session.wait_until("a contact's name is on screen", &first("row-contact"), WAIT).await?);

    choose_lock_after(session, 1).await?;
    // Idle: nothing happens for a minute (the timer's clock moves, the test doesn't wait).
    session.execute("window.__switchboardIdle.advance(61000);", serde_json::json!([])).await?;
    session.wait_for("[data-testid=lock-screen]", WAIT).await?;
    for text in [&preview, &contact] {
        let hidden = session.execute(NO_CONVERSATION_TEXT, serde_json::json!([text])).await?;
        anyhow::ensure!(hidden == serde_json::Value::Bool(true), "{text:?} is still in the locked page");
    }
    let who = session.text(&session.wait_for("[data-testid=lock-who]", WAIT).await?).await?;
    anyhow::ensure!(who.contains("sara@e2e.example"), "the lock screen says who is signed in: {who}");
    screenshot(session, harness, "13-app-lock").await?;

    // A reload asks the shell, which is still locked: the page gets nothing of the inbox.
    session.execute("location.reload();", serde_json::json!([])).await?;
    session.wait_for("[data-testid=lock-screen]", WAIT).await?;
    let hidden = session.execute(NO_CONVERSATION_TEXT, serde_json::json!([preview])).await?;
    anyhow::ensure!(hidden == serde_json::Value::Bool(true), "a reloaded page shows the inbox");

    let password = session.wait_for("[data-testid=lock-password]", WAIT).await?;
    session.send_keys(&password, "not my password").await?;
    session.click(&session.wait_for("[data-testid=lock-unlock]", WAIT).await?).await?;
    session.wait_for("[data-testid=lock-error]", WAIT).await?;
    anyhow::ensure!(session.find_all("[data-testid=conversation-row]").await?.is_empty(), "still locked");

    let password = session.wait_for("[data-testid=lock-password]", WAIT).await?;
    session.send_keys(&password, server::PASSWORD).await?;
    session.click(&session.wait_for("[data-testid=lock-unlock]", WAIT).await?).await?;
    // The inbox is back (its start view, Mine); the conversation is there under All.
    session.wait_for("[data-testid=conversation-list]", WAIT).await?;
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let palette = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&palette, "go to view all").await?;
    session
        .wait_until(
            "the palette offers the All view",
            "const e = document.querySelector('[data-testid=command-item][aria-selected=true]'); \
             return e && /\\bAll\\b/.test(e.textContent);",
            WAIT,
        )
        .await?;
    session.send_keys(&palette, keys::ENTER).await?;
    let back = format!("return document.body.textContent.includes({});", serde_json::to_string(&preview)?);
    session.wait_until("the inbox is back with the conversation", &back, WAIT).await?;
    // Later steps may sit idle for a while: back to never locking.
    choose_lock_after(session, 0).await?;
    println!(
        "app lock: locked after the idle time, nothing of the inbox in the page, unlocked with the password"
    );
    Ok(())
}
