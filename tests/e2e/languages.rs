//! Languages: Sara switches the app to Arabic from Settings → Language. Without a reload the
//! document is `lang="ar"` and `dir="rtl"`, the settings title and the conversation list's label
//! are the Arabic table's own strings (read from `ui/src/lib/i18n/ar.ts`), and the sidebar sits
//! at the right. Screenshots of the main screen in Arabic, Romanian and Polish and of Settings in
//! Arabic; then back to English, which the later steps expect.

use serde_json::json;
use switchboard_e2e::{keys, Session};

use crate::{leave_fields, screenshot, Harness, WAIT};

const ARABIC: &str = include_str!("../../ui/src/lib/i18n/ar.ts");

/// The string at `section.key` in a table's source (`  section: {` … `    key: '…',`).
fn table_string(source: &str, section: &str, key: &str) -> anyhow::Result<String> {
    let mut lines = source.lines().skip_while(|line| *line != format!("  {section}: {{"));
    anyhow::ensure!(lines.next().is_some(), "no section {section} in the table");
    let prefix = format!("    {key}: '");
    for line in lines.take_while(|line| *line != "  },") {
        if let Some(rest) = line.strip_prefix(&prefix) {
            let text = rest
                .strip_suffix("',")
                .ok_or_else(|| anyhow::anyhow!("{section}.{key} isn't a one-line string"))?;
            return Ok(text.replace("\\'", "'"));
        }
    }
    anyhow::bail!("no {section}.{key} in the table")
}

async fn open_language_page(session: &Session) -> anyhow::Result<()> {
    if session.find_all("[data-testid=settings]").await?.is_empty() {
        leave_fields(session).await?;
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
        session.click(&session.wait_for("[data-testid=open-settings]", WAIT).await?).await?;
        session.wait_for("[data-testid=settings]", WAIT).await?;
    }
    session.click(&session.wait_for("[data-testid=settings-language]", WAIT).await?).await?;
    session.wait_for("[data-testid=language-select]", WAIT).await?;
    Ok(())
}

/// Picks `lang` in Settings → Language and waits for the page to be in it (no reload).
pub(crate) async fn choose(session: &Session, lang: &str) -> anyhow::Result<()> {
    open_language_page(session).await?;
    session
        .execute(
            "const s = document.querySelector('[data-testid=language-select]'); s.value = arguments[0]; \
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
    Ok(())
}

pub(crate) async fn close_settings(session: &Session) -> anyhow::Result<()> {
    session.press(&[keys::ESCAPE]).await?;
    session
        .wait_until("settings closed", "return !document.querySelector('[data-testid=settings]');", WAIT)
        .await?;
    session.wait_for("[data-testid=conversation-list]", WAIT).await?;
    settle(session).await
}

/// Two animation frames: what was just drawn has been laid out and painted.
async fn settle(session: &Session) -> anyhow::Result<()> {
    session
        .execute_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            json!([]),
        )
        .await?;
    Ok(())
}

pub async fn language_steps(harness: &Harness, session: &Session) -> anyhow::Result<()> {
    let reloads = "return performance.getEntriesByType('navigation').length + ':' + performance.timeOrigin;";
    let page_before = session.execute(reloads, json!([])).await?;

    choose(session, "ar").await?;
    let document = session
        .execute(
            "return [document.documentElement.lang, document.dir, document.documentElement.dir];",
            json!([]),
        )
        .await?;
    anyhow::ensure!(document == json!(["ar", "rtl", "rtl"]), "Arabic is lang/dir {document}");
    let title = table_string(ARABIC, "settings", "title")?;
    let shown = session.text(&session.wait_for("#settings-title", WAIT).await?).await?;
    anyhow::ensure!(shown == title, "the settings title reads {shown:?}, the Arabic table says {title:?}");
    let page_title = table_string(ARABIC, "language", "title")?;
    // The settings nav scrolls (the e2e's workspace has many inboxes by now), and WebDriver reads
    // no text from a tab scrolled out of sight: bring it into view, then read what it shows.
    session.wait_for("[data-testid=settings-language] .name", WAIT).await?;
    let tab = session
        .execute(
            "const e = document.querySelector('[data-testid=settings-language] .name'); \
             e.scrollIntoView({ block: 'nearest' }); return e.textContent.trim();",
            json!([]),
        )
        .await?;
    anyhow::ensure!(tab == json!(page_title), "the language page is named {tab}, not {page_title:?}");
    settle(session).await?;
    screenshot(session, harness, "40-settings-ar").await?;

    close_settings(session).await?;
    let list_label = table_string(ARABIC, "list", "label")?;
    let label = session
        .attribute(&session.wait_for("[data-testid=conversation-list]", WAIT).await?, "aria-label")
        .await?;
    anyhow::ensure!(
        label.as_deref() == Some(list_label.as_str()),
        "the list is labelled {label:?}, not {list_label:?}"
    );
    // Right to left: the sidebar is at the right of the conversation list.
    let sides = session
        .execute(
            "const s = document.querySelector('.sidebar').getBoundingClientRect(); \
             const l = document.querySelector('[data-testid=conversation-list]').getBoundingClientRect(); \
             return s.left >= l.right - 1;",
            json!([]),
        )
        .await?;
    anyhow::ensure!(sides == json!(true), "the sidebar isn't at the right in Arabic");
    screenshot(session, harness, "40-inbox-ar").await?;
    // The language changed in place: the page was never reloaded.
    anyhow::ensure!(
        session.execute(reloads, json!([])).await? == page_before,
        "switching language reloaded the page"
    );

    for lang in ["ro", "pl"] {
        choose(session, lang).await?;
        let dir = session.execute("return document.dir;", json!([])).await?;
        anyhow::ensure!(dir == json!("ltr"), "{lang} is laid out {dir}");
        close_settings(session).await?;
        screenshot(session, harness, &format!("40-inbox-{lang}")).await?;
    }

    // Back to English for the steps after this one.
    choose(session, "en").await?;
    let document =
        session.execute("return [document.documentElement.lang, document.dir];", json!([])).await?;
    anyhow::ensure!(document == json!(["en", "ltr"]), "English is lang/dir {document}");
    let shown = session.text(&session.wait_for("#settings-title", WAIT).await?).await?;
    anyhow::ensure!(shown == "Settings", "the settings title reads {shown:?} back in English");
    close_settings(session).await?;
    println!("languages: Arabic from Settings (rtl, the table's labels, sidebar at the right), Romanian, Polish, back to English");
    Ok(())
}
