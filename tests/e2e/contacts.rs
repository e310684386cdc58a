//! Contacts, end to end: Sara adds a contact from the palette ("Add contact…"), edits it on its
//! profile (the name, and a custom field an admin defined), finds it again in the palette by a
//! fragment of its phone number and opens its profile from the search result (no longer a
//! toast); the server has her edits, the phone kept normalised.
//!
//! Then a data-subject request, as an admin (Sara is made one for it, and a lead again after):
//! "Export data…" on a customer's profile saves the server's zip through the real save dialog
//! (its `contact.json` holds the customer and their message), and "Erase…", with the name typed
//! again, removes the customer: their conversation leaves the app's list and the palette finds
//! them no more, and the server has neither.

use std::io::Read;

use serde_json::json;
use switchboard_e2e::{keys, Session};

use crate::{
    leave_fields,
    reports::{save_in_dialog, settle, wait_for_file},
    screenshot,
    server::{self, Api},
    Harness, WAIT,
};

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

const ERASED: &str = "Ana Erasmus";
const ERASED_LINE: &str = "Please delete my data; my old card ends in 7731";

/// The profile of the only contact the palette finds for `query`.
async fn open_profile(session: &Session, query: &str, name: &str) -> anyhow::Result<()> {
    let _ = palette(session, query).await?;
    session.click(&session.wait_for("[data-testid=command-item][data-kind=contact]", WAIT).await?).await?;
    profile_text(session, "contact-profile-name", name).await
}

async fn close_profile(session: &Session) -> anyhow::Result<()> {
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

pub async fn data_request_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let ana = server.inbound(&workspace.whatsapp, "ana-gdpr", ERASED, "gdpr-1", ERASED_LINE).await?;
    let conversation = ana.conversation_id;
    leave_fields(session).await?;
    crate::show_all_view(session).await?;
    session.wait_for(&format!("[data-testid=conversation-row][data-id='{conversation}']"), WAIT).await?;

    // Data-subject requests are an admin's: the buttons appear once the role reaches the app.
    server.set_role(workspace.sara, "admin").await?;
    open_profile(session, "Erasmus", ERASED).await?;
    session.wait_for("[data-testid=contact-export]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "contact-data-request").await?;

    // Export data…: the server's zip, through the save dialog.
    let dir = tempfile::tempdir()?;
    let zip_path = dir.path().join("ana.zip");
    session.click(&session.wait_for("[data-testid=contact-export]", WAIT).await?).await?;
    save_in_dialog(&zip_path).await?;
    let zipped = wait_for_file(&zip_path).await?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped))?;
    let mut exported = String::new();
    archive.by_name("contact.json")?.read_to_string(&mut exported)?;
    let exported: serde_json::Value = serde_json::from_str(&exported)?;
    anyhow::ensure!(
        exported.to_string().contains(ERASED) && exported.to_string().contains(ERASED_LINE),
        "the export's contact.json holds the customer and their message: {exported}"
    );

    // Erase…: the name typed again.
    session.click(&session.wait_for("[data-testid=contact-erase]", WAIT).await?).await?;
    let confirm = session.wait_for("[data-testid=erase-confirm-name]", WAIT).await?;
    let disabled = session
        .execute("return document.querySelector('[data-testid=erase-confirm]').disabled;", json!([]))
        .await?;
    anyhow::ensure!(disabled == json!(true), "nothing is erased before the name is typed");
    session.send_keys(&confirm, ERASED).await?;
    settle(session).await?;
    screenshot(session, harness, "contact-erase").await?;
    session.click(&session.wait_for("[data-testid=erase-confirm]", WAIT).await?).await?;
    session
        .wait_until(
            "the profile closes once the erasure is done",
            "return !document.querySelector('[data-testid=contact-profile]');",
            WAIT,
        )
        .await?;
    // Gone from the app: the list (through the feed's tombstones) and the palette's contacts.
    session
        .wait_until(
            "the erased customer's conversation leaves the list",
            &format!("return !document.querySelector(\"[data-testid=conversation-row][data-id='{conversation}']\");"),
            WAIT,
        )
        .await?;
    let _ = palette(session, "Erasmus").await?;
    // The search has answered when its spinner (shown from the first key) is gone.
    let contacts = session
        .wait_until(
            "the palette's search answers",
            "const input = document.querySelector('[data-testid=command-input]'); \
             if (!input || input.parentElement.querySelector('.spinner')) return null; \
             return 'contacts: ' + document.querySelectorAll('[data-testid=command-item][data-kind=contact]').length;",
            WAIT,
        )
        .await?;
    anyhow::ensure!(
        contacts == json!("contacts: 0"),
        "the palette still finds the erased contact ({contacts})"
    );
    session.press(&[keys::ESCAPE]).await?;
    anyhow::ensure!(server.find_contacts("Erasmus").await?.is_empty(), "the server still has the contact");

    // A lead again (the steps after this one are a lead's): her profile buttons say so.
    server.set_role(workspace.sara, "lead").await?;
    open_profile(session, "733 123", EDITED).await?;
    session
        .wait_until(
            "the admin's buttons leave once Sara is a lead again",
            "return !document.querySelector('[data-testid=contact-export]') && !!document.querySelector('[data-testid=contact-merge]');",
            WAIT,
        )
        .await?;
    close_profile(session).await?;
    println!("contacts: a customer's data exported through the save dialog, then erased from the app");
    Ok(())
}
