//! Starting a conversation, end to end: a customer known from an earlier, resolved conversation;
//! Sara presses `c`, finds her by a fuzzy bit of her name, picks the WhatsApp inbox, the approved
//! template, fills its parameter and sees the preview change, then sends. The conversation opens
//! at once (queued through the outbox), and the server has it with the template message, once.
//! Pressing `c` for the same person again says the conversation is open and offers it instead.

use serde_json::json;
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{leave_fields, screenshot, server, Harness, WAIT};

pub async fn new_conversation_steps(
    harness: &Harness,
    server: &server::Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    // Olga wrote once; that conversation is resolved, so she has no open one in the inbox.
    let earlier =
        server.inbound(&workspace.whatsapp, "olga", "Olga Ionescu", "nc-1", "Thanks, all good!").await?;
    server.set_status(earlier.conversation_id, "resolved").await?;
    let contact_id = server.conversation(earlier.conversation_id).await?.contact_id;
    let inbox = workspace.whatsapp.inbox.id;

    leave_fields(session).await?;
    session.press(&["c"]).await?;
    let input = session.wait_for("[data-testid=contact-picker-input]", WAIT).await?;
    // Letters in order, not a prefix: "olg ionsc" is a fuzzy match.
    session.send_keys(&input, "olg ionsc").await?;
    let option = format!("[data-testid=contact-option][data-id='{contact_id}']");
    session
        .wait_until(
            "Olga is the first match",
            &format!("const first = document.querySelector('[data-testid=contact-option]'); return !!first && first.matches(\"{option}\");"),
            WAIT,
        )
        .await?;
    session.send_keys(&input, keys::ENTER).await?;

    // The WhatsApp inbox, then its template (the only one, already chosen; chosen again by hand).
    let inbox_button = session
        .wait_for(
            &format!("[data-testid=new-conversation-inbox][data-id='{inbox}'][data-channel=whatsapp]"),
            WAIT,
        )
        .await?;
    session.click(&inbox_button).await?;
    session.wait_for("[data-testid=template-select]", WAIT).await?;
    session
        .execute(
            "const select = document.querySelector('[data-testid=template-select]'); select.value = 'follow_up'; \
             select.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            json!([]),
        )
        .await?;
    let preview = "[data-testid=template-preview]";
    session
        .wait_until(
            "the preview shows the empty slot",
            &format!("const p = document.querySelector('{preview}'); return !!p && p.textContent === 'Hi {{{{1}}}}, any news?';"),
            WAIT,
        )
        .await?;
    let send_disabled = session
        .execute("return document.querySelector('[data-testid=new-conversation-send]').disabled;", json!([]))
        .await?;
    anyhow::ensure!(send_disabled == json!(true), "Send waits for the template's parameter");
    let param = session.wait_for("[data-testid=template-param]", WAIT).await?;
    session.send_keys(&param, "Olga").await?;
    session
        .wait_until(
            "the preview fills in as Sara types",
            &format!("const p = document.querySelector('{preview}'); return !!p && p.textContent === 'Hi Olga, any news?';"),
            WAIT,
        )
        .await?;
    screenshot(session, harness, "new-conversation").await?;
    session.send_keys(&param, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;

    // It opens at once, and the server has it: the template message, rendered, once.
    session
        .wait_until(
            "the new conversation is open",
            "const t = document.querySelector('[data-testid=thread]'); return !!t && !document.querySelector('[data-testid=new-conversation]') && t.textContent.includes('Hi Olga, any news?');",
            WAIT,
        )
        .await?;
    let id: Id = serde_json::from_value(
        session
            .execute("return document.querySelector('[data-testid=thread]').dataset.id;", json!([]))
            .await?,
    )?;
    anyhow::ensure!(id != earlier.conversation_id, "a new conversation, not the resolved one");
    server
        .wait_for("the server has the new conversation with its template message", || async {
            let messages = server.messages(id).await.unwrap_or_default();
            Ok(messages.len() == 1
                && messages[0].body == "Hi Olga, any news?"
                && messages[0]
                    .template
                    .as_ref()
                    .is_some_and(|t| t.name == "follow_up" && t.params == ["Olga"]))
        })
        .await?;
    let conversation = server.conversation(id).await?;
    anyhow::ensure!(
        conversation.contact_id == contact_id && conversation.inbox_id == inbox,
        "started with Olga on the WhatsApp inbox: {conversation:?}"
    );
    anyhow::ensure!(conversation.assignee_id == Some(workspace.sara), "the agent who starts it holds it");

    // Again for Olga: the inbox says her conversation is open and offers it instead.
    leave_fields(session).await?;
    session.press(&["c"]).await?;
    let input = session.wait_for("[data-testid=contact-picker-input]", WAIT).await?;
    session.send_keys(&input, "Olga").await?;
    session.wait_for(&option, WAIT).await?;
    session
        .wait_until(
            "Olga is the first match",
            &format!("const first = document.querySelector('[data-testid=contact-option]'); return !!first && first.matches(\"{option}\");"),
            WAIT,
        )
        .await?;
    session.send_keys(&input, keys::ENTER).await?;
    session.wait_for("[data-testid=new-conversation-exists]", WAIT).await?;
    session.click(&session.wait_for("[data-testid=new-conversation-open-existing]", WAIT).await?).await?;
    session
        .wait_until(
            "her open conversation is shown",
            &format!("const t = document.querySelector('[data-testid=thread]'); return !!t && t.dataset.id === '{id}' && !document.querySelector('[data-testid=new-conversation]');"),
            WAIT,
        )
        .await?;
    println!("new conversation: c, a fuzzy contact, WhatsApp, a template with its preview; sent once; c again opens it");
    Ok(())
}
