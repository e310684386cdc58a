//! Quick replies and pins, end to end. Sara makes a personal quick reply from the command palette,
//! binds it to slot 1 in her quick-reply manager, presses Alt+1 in a conversation's composer (the
//! reply arrives with the customer's name filled in) and sends it: the server has the message.
//! Then a pinned conversation stays first: she pins one that is not first in the list, customers
//! write in others (now newer), and the pinned one is still first in the list's order on screen.

use serde_json::json;
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{
    leave_fields, open_row, screenshot,
    server::{self, Api},
    Harness, WAIT,
};

const CODE: &str = "refund-sent";
const BODY: &str = "Thanks {{contact.name}}, your refund is on its way.";
const SENT: &str = "Thanks Quinn Quick, your refund is on its way.";

/// The conversation ids of the list's rows, top to bottom as drawn (rows are positioned, so the
/// order is by their place on screen, not their place among the DOM's children).
const ROW_ORDER: &str = "return [...document.querySelectorAll('[data-testid=conversation-row]')] \
     .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top) \
     .map((row) => row.dataset.id);";

pub async fn quick_reply_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let quinn =
        server.inbound(&workspace.whatsapp, "quinn", "Quinn Quick", "qr-1", "Where is my refund?").await?;
    let id = quinn.conversation_id;
    go_to_all(session).await?;
    // Claimed in the app (Sara signs in with a second factor by now, so not over HTTP).
    open_row(session, id).await?;
    leave_fields(session).await?;
    session.press(&[keys::SHIFT, "A"]).await?;
    server
        .wait_for("the server has Quinn's conversation assigned to Sara", || async {
            Ok(server.conversation(id).await?.assignee_id == Some(workspace.sara))
        })
        .await?;

    // From the palette: a new personal quick reply.
    run_command(session, "new quick reply", "New quick reply").await?;
    let code = session.wait_for("[data-testid=my-quick-code]", WAIT).await?;
    session.send_keys(&code, CODE).await?;
    session
        .send_keys(&session.wait_for("[data-testid=my-quick-title-input]", WAIT).await?, "Refund sent")
        .await?;
    session.send_keys(&session.wait_for("[data-testid=my-quick-body]", WAIT).await?, BODY).await?;
    session.click(&session.wait_for("[data-testid=my-quick-save]", WAIT).await?).await?;

    // Bound to slot 1 in the manager (the slot's menu, as a person picks it).
    let slot = format!("[data-testid=my-quick-row][data-code='{CODE}'] [data-testid=my-quick-slot]");
    session.wait_for(&slot, WAIT).await?;
    session
        .execute(
            "const select = document.querySelector(arguments[0]); select.value = '1'; \
             select.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            json!([slot]),
        )
        .await?;
    session
        .wait_until(
            "the manager shows the slot",
            &format!("return document.querySelector(\"{slot}\")?.value === '1';"),
            WAIT,
        )
        .await?;
    screenshot(session, harness, "quick-replies-manager").await?;
    session.click(&session.wait_for("[data-testid=my-quick-replies] header .icon-btn", WAIT).await?).await?;

    // Alt+1 in the composer: the reply, filled in for Quinn; sent.
    open_row(session, id).await?;
    leave_fields(session).await?;
    session.press(&["r"]).await?;
    let textarea = session.wait_for("[data-testid=composer]", WAIT).await?;
    session.send_keys(&textarea, &format!("{}1{}", keys::ALT, keys::NULL)).await?;
    session
        .wait_until(
            "Alt+1 inserts the favourite, filled in",
            &format!(
                "return document.querySelector('[data-testid=composer]').value === {};",
                serde_json::to_string(SENT)?
            ),
            WAIT,
        )
        .await?;
    session.send_keys(&textarea, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;
    server
        .wait_for("the server has the quick reply as Sara's message", || async {
            Ok(server.messages(id).await?.iter().any(|m| m.kind == MessageKind::Outgoing && m.body == SENT))
        })
        .await?;
    // A pinned conversation stays first. Another customer writes: Quinn's is no longer first.
    let other =
        server.inbound(&workspace.whatsapp, "rosa", "Rosa Pin", "qr-2", "Hello?").await?.conversation_id;
    let order = wait_for_first(session, other).await?;
    anyhow::ensure!(
        order.iter().any(|row| row == &id.to_string()),
        "Quinn's conversation is in the list: {order:?}"
    );
    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=pin-toggle]", WAIT).await?).await?;
    wait_for_first(session, id).await?;
    // Rosa writes again, and a new customer too: both newer than Quinn's, which stays first.
    server.inbound(&workspace.whatsapp, "rosa", "Rosa Pin", "qr-3", "Anyone there?").await?;
    let newest =
        server.inbound(&workspace.whatsapp, "tomas", "Tomas New", "qr-4", "Hi").await?.conversation_id;
    session
        .wait_until(
            "the newest conversation is in the list",
            &format!(
                "return !!document.querySelector(\"[data-testid=conversation-row][data-id='{newest}']\");"
            ),
            WAIT,
        )
        .await?;
    let order = wait_for_first(session, id).await?;
    anyhow::ensure!(
        order.get(1) == Some(&newest.to_string()),
        "after the pinned one comes the newest: {order:?}"
    );
    screenshot(session, harness, "pinned-first").await?;

    // Unpinned again, so later steps see the list by activity.
    open_row(session, id).await?;
    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=pin-toggle][aria-pressed=true]", WAIT).await?).await?;
    session.wait_for("[data-testid=pin-toggle][aria-pressed=false]", WAIT).await?;
    println!("quick replies: made in the app, bound to Alt+1, inserted and sent; a pinned conversation stays first");
    Ok(())
}

/// The All view, from the palette.
async fn go_to_all(session: &Session) -> anyhow::Result<()> {
    run_command(session, "go to view all", "All").await
}

/// Runs the palette's best match for `query` once it is the selected item and says `expected`.
async fn run_command(session: &Session, query: &str, expected: &str) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let palette = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&palette, query).await?;
    // The list follows the query before Enter picks the selected item.
    let selected = format!(
        "const e = document.querySelector('[data-testid=command-item][aria-selected=true]'); \
         return !!e && e.textContent.includes({});",
        serde_json::to_string(expected)?
    );
    session.wait_until(&format!("the palette offers {expected:?}"), &selected, WAIT).await?;
    session.send_keys(&palette, keys::ENTER).await?;
    Ok(())
}

/// Waits until `first` is the list's first row; answers the order.
async fn wait_for_first(session: &Session, first: Id) -> anyhow::Result<Vec<String>> {
    let script =
        format!("const order = (() => {{ {ROW_ORDER} }})(); return order[0] === '{first}' ? order : null;");
    let order = session.wait_until(&format!("{first} is the list's first row"), &script, WAIT).await?;
    Ok(serde_json::from_value(order)?)
}
