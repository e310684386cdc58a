//! Availability and status text, end to end: Sara writes a status text in the status bar's
//! availability menu and the server has it on her agent; from the command palette she goes
//! online and then busy, and the server shows each. She ends as she began.

use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{
    leave_fields,
    reports::settle,
    screenshot,
    server::{self, Api},
    Harness, WAIT,
};

const STATUS: &str = "Back at 3";

pub async fn presence_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let before = server.agent(workspace.sara).await?.availability;

    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=availability-button]", WAIT).await?).await?;
    let input = session.wait_for("[data-testid=status-text-input]", WAIT).await?;
    session.send_keys(&input, STATUS).await?;
    settle(session).await?;
    screenshot(session, harness, "31-status-menu").await?;
    session.click(&session.wait_for("[data-testid=status-text-save]", WAIT).await?).await?;
    server
        .wait_for("the server has Sara's status text", || async {
            Ok(server.agent(workspace.sara).await?.status_text.as_deref() == Some(STATUS))
        })
        .await?;
    session
        .wait_until(
            "the status bar shows the status text",
            &format!("const s = document.querySelector('[data-testid=status-text]'); return !!s && s.textContent.trim() === '{STATUS}';"),
            WAIT,
        )
        .await?;

    for availability in [Availability::Online, Availability::Busy, before] {
        if server.agent(workspace.sara).await?.availability == availability {
            continue;
        }
        palette_availability(session, availability).await?;
        server
            .wait_for(&format!("the server has Sara {availability}"), || async {
                Ok(server.agent(workspace.sara).await?.availability == availability)
            })
            .await?;
        session
            .wait_for(&format!("[data-testid=availability-button][data-availability={availability}]"), WAIT)
            .await?;
    }
    println!("presence: a status text from the status bar and availability from the palette, on the server");
    Ok(())
}

/// Ctrl+K, then the palette's "Set availability: …" command.
async fn palette_availability(session: &Session, availability: Availability) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    session.wait_for("[data-testid=command-input]", WAIT).await?;
    let item = session
        .wait_for(&format!("[data-testid=command-item][data-id='availability:{availability}']"), WAIT)
        .await;
    let item = match item {
        Ok(item) => item,
        Err(_) => {
            let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
            session.send_keys(&input, &format!("availability {availability}")).await?;
            session
                .wait_for(&format!("[data-testid=command-item][data-id='availability:{availability}']"), WAIT)
                .await?
        }
    };
    session.click(&item).await?;
    Ok(())
}
