//! Contacts, end to end: Sara adds a contact from the palette ("Add contact…"), edits it on its
//! profile (the name, and a custom field an admin defined), finds it again in the palette by a
//! fragment of its phone number and opens its profile from the search result (no longer a
//! toast); the server has her edits, the phone kept normalised.

use serde_json::json;
use switchboard_e2e::{keys, Session};

use crate::{leave_fields, screenshot, server::Api, Harness, WAIT};

const NAME: &str = "Irina Vasilescu";
const EDITED: &str = "Irina Vasilescu-Pop";

async fn palette(session: &Session, query: &str) -> anyhow::Result<switchboard_e2e::Element> {
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&input, query).await?;
    Ok(input)
}

async fn profile_text(session: &Session, testid: &str, expected: &str) -> anyhow::Result<()> {
    session
        .wait_until(
            &format!("the profile shows {expected:?}"),
            &format!(
                "const e = document.querySelector('[data-testid={testid}]'); \
                 return !!e && e.textContent.trim() === arguments[0];"
            )
            .replace("arguments[0]", &serde_json::to_string(expected)?),
            WAIT,
        )
        .await?;
    Ok(())
}

pub async fn contact_steps(harness: &Harness, server: &Api, session: &Session) -> anyhow::Result<()> {
    server.add_contact_field("plan", "Plan", "choice", &["gold", "silver"]).await?;

    // Add contact, from the palette.
    let _ = palette(session, "add contact").await?;
    session.click(&session.wait_for("[data-testid=command-item][data-id=add-contact]", WAIT).await?).await?;
    // The admin's field has reached the app before anything is typed.
    session.wait_for("[data-testid=contact-field-plan]", WAIT).await?;
    let name = session.wait_for("[data-testid=contact-name]", WAIT).await?;
    session.send_keys(&name, NAME).await?;
    let phone = session.wait_for("[data-testid=contact-phone]", WAIT).await?;
    session.send_keys(&phone, "+40 733 123 456").await?;
    session.click(&session.wait_for("[data-testid=contact-save]", WAIT).await?).await?;
    profile_text(session, "contact-profile-name", NAME).await?;
    server
        .wait_for("the server has the new contact", || async {
            Ok(server.find_contacts("733123").await?.iter().any(|c| c.name == NAME))
        })
        .await?;

    // Edit it: the name and the custom field.
    session.click(&session.wait_for("[data-testid=contact-edit]", WAIT).await?).await?;
    let name = session.wait_for("[data-testid=contact-name]", WAIT).await?;
    session.clear(&name).await?;
    session.send_keys(&name, EDITED).await?;
    session
        .execute(
            "const s = document.querySelector('[data-testid=contact-field-plan]'); s.value = 'gold'; \
             s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            json!([]),
        )
        .await?;
    session.click(&session.wait_for("[data-testid=contact-save]", WAIT).await?).await?;
    profile_text(session, "contact-profile-field-plan", "gold").await?;
    server
        .wait_for("the server has Sara's edits", || async {
            let found = server.find_contacts("733123").await?;
            Ok(found.iter().any(|c| {
                c.name == EDITED
                    && c.phone.as_deref() == Some("+40733123456")
                    && c.fields.get("plan").map(String::as_str) == Some("gold")
            }))
        })
        .await?;
    session.press(&[keys::ESCAPE]).await?;
    session
        .wait_until(
            "the profile is closed",
            "return !document.querySelector('[data-testid=contact-profile]');",
            WAIT,
        )
        .await?;

    // Found again by a fragment of the number; the result opens the profile.
    let _ = palette(session, "733 123").await?;
    session.click(&session.wait_for("[data-testid=command-item][data-kind=contact]", WAIT).await?).await?;
    profile_text(session, "contact-profile-name", EDITED).await?;
    profile_text(session, "contact-profile-field-plan", "gold").await?;
    profile_text(session, "contact-profile-phone", "+40733123456").await?;
    screenshot(session, harness, "contact-profile").await?;
    session.press(&[keys::ESCAPE]).await?;
    session
        .wait_until(
            "the profile is closed",
            "return !document.querySelector('[data-testid=contact-profile]');",
            WAIT,
        )
        .await?;
    Ok(())
}
