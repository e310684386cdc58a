//! The new screens in every new language: after the other steps, the app is switched to Persian,
//! Arabic, Romanian and Polish in turn (Settings → Language, no reload), and in each one opens
//! Settings → Language, the new-conversation dialog (a contact picked, a WhatsApp template with
//! its preview), a contact's profile (custom fields) and its merge preview, the transcript
//! dialog, the availability menu, the notification settings and the quick-replies manager, and
//! saves a screenshot of each: `target/e2e-screenshots/<n>-<screen>-<lang>.png`. Each screen
//! also checks the page is still in that language and direction. Everything is opened through
//! language-independent handles (test ids, digits, the palette's English keywords), then closed
//! again without saving, so the same window serves every language; back to English at the end.

use serde_json::json;
use switchboard_e2e::{keys, Session};
use switchboard_proto::Id;

use crate::{
    languages::{choose, close_settings},
    leave_fields, open_row,
    reports::settle,
    screenshot,
    server::{self, Api},
    Harness, WAIT,
};

/// The contact the contacts step added (its phone's digits find it in any language).
const PROFILE_PHONE: &str = "733 123";

async fn shot(session: &Session, harness: &Harness, name: &str, lang: &str) -> anyhow::Result<()> {
    let rtl = matches!(lang, "fa" | "ar");
    let page = session.execute("return [document.documentElement.lang, document.dir];", json!([])).await?;
    let dir = if rtl { "rtl" } else { "ltr" };
    anyhow::ensure!(page == json!([lang, dir]), "{name} in {lang}: the page is {page}");
    // The pointer off every scrolling pane: GTK shows an overlay scrollbar under a moving pointer,
    // drawn above the dialogs for a moment.
    session.hover(&session.wait_for("[data-testid=status-connection]", WAIT).await?).await?;
    settle(session).await?;
    screenshot(session, harness, &format!("{name}-{lang}")).await
}

/// Types `query` into the contact picker under `scope` and takes `contact` once it is the first
/// match (the picker lists recent contacts until the query's results arrive).
async fn pick_contact(session: &Session, scope: &str, query: &str, contact: Id) -> anyhow::Result<()> {
    let input = session.wait_for(&format!("{scope} [data-testid=contact-picker-input]"), WAIT).await?;
    session.send_keys(&input, query).await?;
    session
        .wait_until(
            &format!("{contact} is the first match for {query:?}"),
            &format!(
                "const first = document.querySelector('{scope} [data-testid=contact-option]'); \
                 return !!first && first.dataset.id === '{contact}';"
            ),
            WAIT,
        )
        .await?;
    session.send_keys(&input, keys::ENTER).await?;
    Ok(())
}

async fn contact_named(server: &Api, query: &str, name: &str) -> anyhow::Result<Id> {
    let found = server.find_contacts(query).await?;
    found
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.id)
        .ok_or_else(|| anyhow::anyhow!("no contact {name:?} for {query:?}: {found:?}"))
}

/// Presses Escape until `testid` is gone.
async fn escape_from(session: &Session, testid: &str) -> anyhow::Result<()> {
    let gone = format!("return !document.querySelector('[data-testid={testid}]');");
    for _ in 0..3 {
        session.press(&[keys::ESCAPE]).await?;
        if session
            .wait_until(&format!("{testid} closed"), &gone, std::time::Duration::from_secs(2))
            .await
            .is_ok()
        {
            return Ok(());
        }
    }
    anyhow::bail!("{testid} did not close on Escape")
}

async fn palette(session: &Session, query: &str, item: &str) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.press(&[keys::CONTROL, "k"]).await?;
    let input = session.wait_for("[data-testid=command-input]", WAIT).await?;
    session.send_keys(&input, query).await?;
    session.click(&session.wait_for(&format!("[data-testid=command-item]{item}"), WAIT).await?).await?;
    Ok(())
}

pub async fn language_screen_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The thread behind the dialogs, and whose transcript is exported.
    let thread = server
        .inbound(
            &workspace.whatsapp,
            "mira",
            "Mira Petrescu",
            "ls-1",
            "Hello! Can I change the delivery address of order 5521?",
        )
        .await?
        .conversation_id;
    let irina = contact_named(server, "733123", "Irina Vasilescu-Pop").await?;
    let olga = contact_named(server, "Olga Ionescu", "Olga Ionescu").await?;
    leave_fields(session).await?;
    crate::show_all_view(session).await?;
    open_row(session, thread).await?;

    for lang in ["fa", "ar", "ro", "pl"] {
        let lap = std::time::Instant::now();
        choose(session, lang).await?;
        session.wait_for("[data-testid=language-select]", WAIT).await?;
        shot(session, harness, "41-settings-language", lang).await?;
        close_settings(session).await?;

        // New conversation: the contact picked by her number, WhatsApp, a template and its preview.
        leave_fields(session).await?;
        session.press(&["c"]).await?;
        pick_contact(session, "[data-testid=new-conversation]", PROFILE_PHONE, irina).await?;
        let inbox =
            format!("[data-testid=new-conversation-inbox][data-id='{}']", workspace.whatsapp.inbox.id);
        session.click(&session.wait_for(&inbox, WAIT).await?).await?;
        session.wait_for("[data-testid=template-select]", WAIT).await?;
        session
            .execute(
                "const select = document.querySelector('[data-testid=template-select]'); select.value = 'follow_up'; \
                 select.dispatchEvent(new Event('change', { bubbles: true })); return true;",
                json!([]),
            )
            .await?;
        let param = session.wait_for("[data-testid=template-param]", WAIT).await?;
        session.send_keys(&param, "Irina").await?;
        session
            .wait_until(
                "the preview is filled in",
                "const p = document.querySelector('[data-testid=template-preview]'); return !!p && p.textContent.includes('Irina');",
                WAIT,
            )
            .await?;
        shot(session, harness, "42-new-conversation", lang).await?;
        escape_from(session, "new-conversation").await?;

        // The contact's profile with its custom field, then the merge preview (not confirmed).
        palette(session, PROFILE_PHONE, "[data-kind=contact]").await?;
        session.wait_for("[data-testid=contact-profile-field-plan]", WAIT).await?;
        shot(session, harness, "43-contact-profile", lang).await?;
        session.click(&session.wait_for("[data-testid=contact-merge]", WAIT).await?).await?;
        pick_contact(session, "[data-testid=contact-profile]", "Olga Ionescu", olga).await?;
        session.wait_for("[data-testid=merge-preview]", WAIT).await?;
        shot(session, harness, "44-contact-merge", lang).await?;
        escape_from(session, "contact-profile").await?;

        // The transcript dialog of the open thread.
        leave_fields(session).await?;
        session.click(&session.wait_for("[data-testid=export-transcript]", WAIT).await?).await?;
        session.wait_for("[data-testid=transcript-dialog]", WAIT).await?;
        shot(session, harness, "45-transcript", lang).await?;
        escape_from(session, "transcript-dialog").await?;

        // Availability and status text, from the status bar.
        leave_fields(session).await?;
        session.click(&session.wait_for("[data-testid=availability-button]", WAIT).await?).await?;
        session.wait_for("[data-testid=availability-menu]", WAIT).await?;
        shot(session, harness, "46-availability", lang).await?;
        session.click(&session.wait_for("[data-testid=availability-button]", WAIT).await?).await?;
        session
            .wait_until(
                "the availability menu closed",
                "return !document.querySelector('[data-testid=availability-menu]');",
                WAIT,
            )
            .await?;

        // Notification settings, from the account menu.
        leave_fields(session).await?;
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
        session.click(&session.wait_for("[data-testid=open-notification-settings]", WAIT).await?).await?;
        session.wait_for("[data-testid=notify-sound]", WAIT).await?;
        shot(session, harness, "47-notifications", lang).await?;
        escape_from(session, "notify-sound").await?;

        // My quick replies (the palette's keywords are English in every language).
        palette(session, "snippets favourites", "[data-id=quick-replies]").await?;
        session.wait_for("[data-testid=my-quick-row]", WAIT).await?;
        shot(session, harness, "48-quick-replies", lang).await?;
        escape_from(session, "my-quick-replies").await?;
        println!("language screens: {lang} in {:.1} s", lap.elapsed().as_secs_f64());
    }

    choose(session, "en").await?;
    close_settings(session).await?;
    println!(
        "language screens: 8 screens in fa, ar, ro and pl, each in its language and direction, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
