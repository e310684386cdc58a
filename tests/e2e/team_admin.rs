//! Running the team from the app, with a second running app as an agent's desktop: Sara, an admin
//! for the moment, adds Nima on the People page (in the Support team, so the WhatsApp inbox is
//! his) and reads the one-time password shown once; Nima signs in with it in a second instance of
//! the real app (`second_app.rs`) and opens a conversation, which his encrypted cache now holds.
//! Sara, a lead again, adds labels named as people write them ("New Lead", «پشتیبانی باز») on the
//! Labels page; each shows in Nima's window (its filter bar's label chips) within seconds, spelled
//! exactly, without a reload; the server lists them so to Nima's token. Sara applies one to a
//! conversation in her window. Then, an admin again (deactivating is an admin's: the server's
//! rule), she sees Nima's device and deactivates him, and his running app is signed out within
//! seconds: its window back on the sign-in screen, his account's cache directory gone from its
//! data directory, both its keychain entries (the token and the cache key) gone from the Secret
//! Service, and the token it held refused as revoked. On the way, as an admin, the audit trail:
//! its newest rows, the chain verified, and the rows exported through the real save dialog (a
//! file of rows with their hashes, oldest first; the export itself recorded).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;
use switchboard_core::{
    accounts::Accounts,
    keychain::{cache_key_entry, AccountKey, KeychainError, MemoryTokenStore, OsKeychain, TokenStore},
};
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{leave_fields, open_row, screenshot, second_app::SecondApp, server, Harness, WAIT};

/// How soon a change must reach another running app.
const LIVE: Duration = Duration::from_secs(5);

/// The labels Sara adds, as people write them: capitals and a space, Persian with a space.
const LABELS: [&str; 2] = ["New Lead", "پشتیبانی باز"];

/// Types `text` into the field `css`, and makes sure the field holds it exactly (WebDriver's key
/// events for a script it has no keyboard for are set as the value instead).
async fn type_into(session: &Session, css: &str, text: &str) -> anyhow::Result<()> {
    let field = session.wait_for(css, WAIT).await?;
    session.clear(&field).await?;
    if !text.is_empty() {
        session.send_keys(&field, text).await?;
    }
    let value = session.execute("return document.querySelector(arguments[0]).value;", json!([css])).await?;
    // An emptied field says so with an input event too, which `clear` may not send.
    if value != json!(text) || text.is_empty() {
        session
            .execute(
                "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                 e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
                json!([css, text]),
            )
            .await?;
    }
    Ok(())
}

async fn open_settings_page(session: &Session, page: &str) -> anyhow::Result<()> {
    if session.find_all("[data-testid=settings]").await?.is_empty() {
        leave_fields(session).await?;
        session.click(&session.wait_for(".account .me", WAIT).await?).await?;
        session.click(&session.wait_for("[data-testid=open-settings]", WAIT).await?).await?;
        session.wait_for("[data-testid=settings]", WAIT).await?;
    }
    session.click(&session.wait_for(&format!("[data-testid=settings-{page}]"), WAIT).await?).await?;
    Ok(())
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

pub async fn team_admin_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    // Adding an agent is an admin's: Sara is made one for this.
    server.set_role(workspace.sara, "admin").await?;
    open_settings_page(session, "people").await?;
    session.wait_for("[data-testid=new-agent]", WAIT).await?;
    type_into(session, "[data-testid=new-agent-name]", "Nima Rahimi").await?;
    type_into(session, "[data-testid=new-agent-email]", "nima@e2e.example").await?;
    let support = session
        .element_by_script(
            "return [...document.querySelectorAll('[data-testid=new-agent] .chips button')].find(b => b.textContent.trim() === 'Support');",
        )
        .await?;
    session.click(&support).await?;
    session.click(&session.wait_for("[data-testid=new-agent-create]", WAIT).await?).await?;
    let password = session.text(&session.wait_for("[data-testid=password-text]", WAIT).await?).await?;
    let password = password.trim().to_owned();
    anyhow::ensure!(password.len() >= 16, "a one-time password shows: {password:?}");
    session.click(&session.wait_for("[data-testid=one-time-password] .btn.primary", WAIT).await?).await?;
    let nima_id: Id = session
        .wait_until(
            "Nima's row is listed",
            "const row = [...document.querySelectorAll('[data-testid=person-row]')].find(r => r.textContent.includes('nima@e2e.example')); return row && row.dataset.agent;",
            WAIT,
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .parse()?;
    // A customer of the WhatsApp inbox, for Nima's cache (and Sara's label below).
    let nadia = server
        .inbound(&workspace.whatsapp, "nadia-h", "Nadia Haddad", "team-1", "Hi, I'd like a quote")
        .await?;

    // Nima's own desktop: a second instance of the real app.
    let nima = SecondApp::start(&harness.app).await?;
    let result =
        with_nima(harness, server, workspace, session, &nima, &password, nima_id, nadia.conversation_id)
            .await;
    if result.is_err() {
        let _ = screenshot(nima.window(), harness, "failure-second-app").await;
    }
    let ended = nima.end().await;
    result?;
    ended?;

    // Other pages, for the README.
    open_settings_page(session, "teams").await?;
    session.wait_for("[data-testid=team-card]", WAIT).await?;
    session.wait_for("[data-testid=inbox-templates]", WAIT).await?;
    session
        .execute("document.querySelector('[data-testid=inbox-members]').scrollIntoView({ block: 'start' }); return true;", json!([]))
        .await?;
    settle(session).await?;
    screenshot(session, harness, "15-team-teams").await?;

    // The audit trail, as an admin reads it: the labels just made are its newest rows, and the
    // chain verifies.
    open_settings_page(session, "audit").await?;
    session.wait_for("[data-testid=audit-row][data-action='label.create']", WAIT).await?;
    session.click(&session.wait_for("[data-testid=audit-verify]", WAIT).await?).await?;
    session.wait_for("[data-testid=audit-verdict][data-ok=true]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "49-audit-trail").await?;
    // Exported through the real save dialog: the rows shown, oldest first, each with its hash;
    // the export is then a row of the trail itself.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("audit.json");
    session.click(&session.wait_for("[data-testid=audit-export]", WAIT).await?).await?;
    crate::reports::save_in_dialog(&path).await?;
    let rows: Vec<audit::AuditEntry> = serde_json::from_slice(&crate::reports::wait_for_file(&path).await?)?;
    anyhow::ensure!(
        rows.iter().any(|row| row.action == "label.create"),
        "the export holds the labels just made"
    );
    anyhow::ensure!(
        rows.windows(2).all(|pair| pair[0].seq < pair[1].seq) && rows.iter().all(|row| row.hash.len() == 64),
        "the export is oldest first, each row with its hash"
    );
    let recorded: Vec<audit::AuditEntry> =
        serde_json::from_slice(&server.get_bytes("/api/v1/audit?action=export.audit").await?)?;
    anyhow::ensure!(!recorded.is_empty(), "the export is recorded in the trail");
    println!("team: the audit trail exported through the save dialog, {} rows with their hashes", rows.len());
    // Its "saved to" toast sits over the settings' sidebar, where the next click goes.
    crate::export_approval::dismiss_toasts(session).await?;
    // Two-step verification across the team, on the security page.
    open_settings_page(session, "security").await?;
    session.wait_for("[data-testid=two-factor-agent]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "50-team-two-factor").await?;

    // The People page right to left, in Persian.
    crate::switch_language(session, "?lang=fa").await?;
    open_settings_page(session, "people").await?;
    session.wait_for("[data-testid=person-row]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "16-team-people-rtl").await?;
    open_settings_page(session, "labels").await?;
    session.wait_for("[data-testid=label-row]", WAIT).await?;
    settle(session).await?;
    screenshot(session, harness, "16-team-labels-rtl").await?;
    session.press(&[keys::ESCAPE]).await?;
    crate::switch_language(session, "").await?;

    server.set_role(workspace.sara, "lead").await?;
    Ok(())
}

/// Whether the Secret Service holds `entry` (an answer other than "there is none" is an error).
fn in_keychain(keychain: &OsKeychain, entry: &AccountKey) -> anyhow::Result<bool> {
    match keychain.load(entry) {
        Ok(_) => Ok(true),
        Err(KeychainError::NotFound) => Ok(false),
        Err(error) => Err(anyhow::anyhow!("reading the keychain: {error}")),
    }
}

/// Nima's part, with his app running: signed in with a conversation cached, the labels live in
/// his window, then deactivated by Sara and wiped.
#[allow(clippy::too_many_arguments)]
async fn with_nima(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
    nima: &SecondApp,
    password: &str,
    nima_id: Id,
    nadia: Id,
) -> anyhow::Result<()> {
    let window = nima.window();
    crate::sign_in_as(window, &server.base, "nima@e2e.example", password).await?;
    crate::show_all_view(window).await?;
    open_row(window, nadia).await?;
    window.wait_until(
        "Nadia's message shows in Nima's thread",
        "return [...document.querySelectorAll('[data-testid=thread]')].some(e => e.textContent.includes(\"I'd like a quote\"));",
        WAIT,
    )
    .await?;
    window.wait_for("[data-testid=status-connection][data-state=online]", Duration::from_secs(60)).await?;

    // What his app keeps for him: the account's cache directory, and in the Secret Service its
    // token and cache key.
    let key = AccountKey::new(&server.base, nima_id);
    let accounts = Accounts::new(nima.data_dir(), Arc::new(MemoryTokenStore::default()));
    let dir = accounts.account_dir(&key);
    let has_account = |accounts: &Accounts| -> anyhow::Result<bool> {
        Ok(accounts.list()?.iter().any(|account| account.key() == key))
    };
    anyhow::ensure!(has_account(&accounts)?, "Nima's app lists his account");
    let keychain = OsKeychain::new()?;
    anyhow::ensure!(
        std::fs::read_dir(&dir).is_ok_and(|mut files| files.next().is_some()),
        "Nima's app has a cache for his account in {}",
        dir.display()
    );
    let token = keychain.load(&key).map_err(|e| anyhow::anyhow!("Nima's token is in the keychain: {e}"))?;
    keychain
        .load(&cache_key_entry(&key))
        .map_err(|e| anyhow::anyhow!("Nima's cache key is in the keychain: {e}"))?;

    // Labels, typed as people write them, on Sara's Labels page (as a lead); Nima's window shows
    // each in its filter bar as soon as the feed brings it, without a reload.
    server.set_role(workspace.sara, "lead").await?;
    leave_fields(window).await?;
    window.click(&window.wait_for("[data-testid=filter-toggle]", WAIT).await?).await?;
    window.wait_for("[data-testid=filter-bar] [data-criterion=label]", WAIT).await?;
    let page = window.execute("return performance.timeOrigin;", json!([])).await?;
    open_settings_page(session, "labels").await?;
    for name in LABELS {
        let chip = format!(
            "return [...document.querySelectorAll('[data-testid=filter-bar] [data-criterion=label] [data-testid=filter-chip]')].some(e => e.textContent.trim() === {name});",
            name = serde_json::to_string(name)?
        );
        anyhow::ensure!(
            window.execute(&chip, json!([])).await? == json!(false),
            "Nima's window has no {name:?} chip before Sara adds it"
        );
        type_into(session, "[data-testid=new-label-name]", name).await?;
        session.click(&session.wait_for("[data-testid=new-label-create]", WAIT).await?).await?;
        let created = Instant::now();
        window.wait_until(&format!("{name:?} shows in Nima's window"), &chip, LIVE).await?;
        println!(
            "team: the label {name:?} showed in Nima's window {:?} after Sara's click",
            created.elapsed()
        );
        session.wait_for(&format!("[data-testid=label-row][data-name='{name}']"), WAIT).await?;
    }
    anyhow::ensure!(
        window.execute("return performance.timeOrigin;", json!([])).await? == page,
        "Nima's window was not reloaded"
    );
    settle(window).await?;
    screenshot(window, harness, "13b-second-app-labels-live").await?;
    // What the server lists to an agent, read with the token Nima's app holds.
    let listed: Vec<Label> = reqwest::Client::new()
        .get(format!("{}/api/v1/labels", server.base))
        .bearer_auth(token.expose())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    for name in LABELS {
        anyhow::ensure!(
            listed.iter().any(|label| label.name == name),
            "the server lists {name:?} exactly as typed: {:?}",
            listed.iter().map(|l| &l.name).collect::<Vec<_>>()
        );
    }
    // The same name in other case and spacing is the same label: the page says so before sending.
    type_into(session, "[data-testid=new-label-name]", "new  lead").await?;
    session.wait_for("[data-testid=new-label-issue]", WAIT).await?;
    type_into(session, "[data-testid=new-label-name]", "").await?;
    settle(session).await?;
    screenshot(session, harness, "13-team-labels").await?;
    session.press(&[keys::ESCAPE]).await?;

    // Sara applies the new label to a conversation in her window.
    crate::show_all_view(session).await?;
    open_row(session, nadia).await?;
    leave_fields(session).await?;
    session.press(&["l"]).await?;
    let picker = session.wait_for("[data-testid=picker-input]", WAIT).await?;
    session.send_keys(&picker, "New Lead").await?;
    session.send_keys(&picker, keys::ENTER).await?;
    session
        .wait_until(
            "the New Lead chip shows",
            "return [...document.querySelectorAll('[data-testid=conversation-labels] [data-testid=label-chip]')].some(e => e.textContent.includes('New Lead'));",
            WAIT,
        )
        .await?;
    server
        .wait_for("the conversation carries New Lead on the server", || async {
            Ok(server.conversation(nadia).await?.labels.contains(&"New Lead".to_string()))
        })
        .await?;

    // Deactivating is an admin's: Sara is made one again.
    server.set_role(workspace.sara, "admin").await?;
    open_settings_page(session, "people").await?;
    // Every agent's devices: Nima's app is listed.
    session.click(&session.wait_for("[data-testid=team-devices] .head button", WAIT).await?).await?;
    session.wait_for(&format!("[data-testid=device-group][data-agent='{nima_id}']"), WAIT).await?;
    session
        .execute("document.querySelector('[data-testid=team-devices]').scrollIntoView({ block: 'end' }); return true;", json!([]))
        .await?;
    settle(session).await?;
    screenshot(session, harness, "14-team-people").await?;

    // Deactivated from the page: Nima's running app is signed out and wiped within seconds.
    let row = format!("[data-testid=person-row][data-agent='{nima_id}']");
    session.click(&session.wait_for(&format!("{row} [data-testid=deactivate]"), WAIT).await?).await?;
    let confirm = session.wait_for(&format!("{row} [data-testid=confirm-deactivate]"), WAIT).await?;
    anyhow::ensure!(
        window.find_all("#signin-server").await?.is_empty(),
        "Nima's window was signed in until the click"
    );
    settle(window).await?;
    screenshot(window, harness, "14b-second-app-before-deactivation").await?;
    session.click(&confirm).await?;
    let clicked = Instant::now();
    window.wait_for("#signin-server", LIVE).await?;
    println!("team: Nima's window showed the sign-in screen {:?} after the click", clicked.elapsed());
    // The desktop forgets the account: the keychain entries, the cache, the account's entry.
    let gone = |present: bool| if present { "still there" } else { "gone" };
    loop {
        let (cache, token, cache_key, account) = (
            dir.exists(),
            in_keychain(&keychain, &key)?,
            in_keychain(&keychain, &cache_key_entry(&key))?,
            has_account(&accounts)?,
        );
        if !cache && !token && !cache_key && !account {
            break;
        }
        anyhow::ensure!(
            clicked.elapsed() < LIVE,
            "Nima's account is not wiped {LIVE:?} after the click: cache directory {} {}, token {}, cache key {}, account's entry {}",
            dir.display(),
            gone(cache),
            gone(token),
            gone(cache_key),
            gone(account),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "team: Nima's cache directory and keychain entries were gone {:?} after the click",
        clicked.elapsed()
    );
    // Nor does the sign-in screen offer the forgotten account (it reads the accounts when told
    // of the sign-out, which comes once the account is forgotten): asked after it, the app
    // answers without Nima, and the screen shows what it was told.
    let emails = window
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI_INTERNALS__.invoke('app_info').then((info) => requestAnimationFrame(() => \
               requestAnimationFrame(() => done(info.accounts.map((a) => a.agent_email)))));",
            json!([]),
        )
        .await?;
    anyhow::ensure!(emails == json!([]), "the app still lists accounts after the wipe: {emails}");
    let offered = window
        .execute(
            "return [...document.querySelectorAll('.accounts .account')].map((e) => e.textContent);",
            json!([]),
        )
        .await?;
    anyhow::ensure!(offered == json!([]), "the sign-in screen offers a forgotten account: {offered}");
    settle(window).await?;
    screenshot(window, harness, "14c-second-app-signed-out").await?;
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(token.expose())
        .send()
        .await?;
    let status = me.status();
    let body: serde_json::Value = me.json().await.unwrap_or_default();
    anyhow::ensure!(
        status == reqwest::StatusCode::UNAUTHORIZED && body["error"]["code"] == "token_revoked",
        "the token Nima's app held is refused as revoked: {status} {body}"
    );
    anyhow::ensure!(!server.agent(nima_id).await?.active, "the server has Nima deactivated");
    session
        .wait_until(
            "the page shows Nima deactivated",
            &format!("return !!document.querySelector(\"{row} [data-testid=reactivate]\");"),
            WAIT,
        )
        .await?;
    println!("team: Nima added with a one-time password, signed in in a second app, deactivated from the People page");
    Ok(())
}
