//! Running the team from the app: Sara, a lead, adds labels named as people write them ("New
//! Lead", «پشتیبانی باز») on the settings screen's Labels page; the server lists them exactly as
//! typed and they reach Sam's running client (the `switchboard_core` library the app runs on,
//! signed in as Sam here) within seconds; Sara applies one to a conversation in her window. Then,
//! made an admin for the step (deactivating is an admin's: the server's rule), she adds an agent
//! on the People page and reads the one-time password shown once; that agent signs in through
//! `switchboard_core`; Sara sees the device, deactivates the agent, and the agent's running
//! client is signed out within seconds: its token refused, its engine stopped as signed out, and
//! its account forgotten (keychain entries and cache wiped) as the desktop does on that event.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::json;
use switchboard_core::{
    accounts::{Accounts, OpenAccount},
    events::{ConnectionState, Event},
    keychain::{MemoryTokenStore, TokenStore},
    sync::{Engine, EngineConfig},
};
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{leave_fields, open_row, screenshot, server, Harness, WAIT};

/// How soon a change must reach another running client.
const LIVE: Duration = Duration::from_secs(5);

/// A second desktop: the core library signed in as someone, its engine following the feed.
struct CoreClient {
    accounts: Accounts,
    account: OpenAccount,
    engine: Engine,
    events: Arc<Mutex<Vec<Event>>>,
    tokens: Arc<MemoryTokenStore>,
    _root: tempfile::TempDir,
}

impl CoreClient {
    async fn sign_in(base: &str, email: &str, password: &str, device: &str) -> anyhow::Result<CoreClient> {
        let root = tempfile::tempdir()?;
        let tokens = Arc::new(MemoryTokenStore::default());
        let accounts = Accounts::new(root.path().to_owned(), tokens.clone() as Arc<dyn TokenStore>);
        let now = switchboard_core::clock::system_now();
        let info = accounts.sign_in(base, email, password, None, device, now).await?;
        let account = accounts.open(&info.key()).await?;
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let sink = events.clone();
        let config = EngineConfig::new(
            account.api.clone(),
            account.cache.clone(),
            Arc::new(move |event| sink.lock().expect("events").push(event)),
            account.staging_dir(),
        );
        let engine = Engine::start(config);
        Ok(CoreClient { accounts, account, engine, events, tokens, _root: root })
    }

    /// Waits up to `within` for `check`; answers how long it took.
    async fn until(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&CoreClient) -> anyhow::Result<bool>,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        loop {
            if check(self)? {
                return Ok(start.elapsed());
            }
            anyhow::ensure!(start.elapsed() < within, "{what}: not within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn labels(&self) -> anyhow::Result<Vec<String>> {
        let labels: Vec<Label> = self.account.cache.all(EntityKind::Label)?;
        Ok(labels.into_iter().map(|label| label.name).collect())
    }

    fn signed_out(&self) -> bool {
        self.events.lock().expect("events").iter().any(|event| matches!(event, Event::SignedOut { .. }))
    }
}

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
    let sam = CoreClient::sign_in(&server.base, "sam@e2e.example", server::PASSWORD, "Sam's laptop").await?;
    sam.until("Sam's client is online", Duration::from_secs(20), |c| {
        Ok(c.engine.status().state == ConnectionState::Online)
    })
    .await?;

    // Labels, typed as people write them, on the Labels page.
    open_settings_page(session, "labels").await?;
    for name in ["New Lead", "پشتیبانی باز"] {
        type_into(session, "[data-testid=new-label-name]", name).await?;
        let created = Instant::now();
        session.click(&session.wait_for("[data-testid=new-label-create]", WAIT).await?).await?;
        let took = sam
            .until(&format!("{name:?} reaches Sam's running client"), LIVE, |c| {
                Ok(c.labels()?.iter().any(|l| l == name))
            })
            .await?;
        println!(
            "team: the label {name:?} reached Sam's client {:?} after Sara's click ({took:?} of waiting)",
            created.elapsed()
        );
        session.wait_for(&format!("[data-testid=label-row][data-name='{name}']"), WAIT).await?;
    }
    // What the server lists to an agent, read with Sam's own token.
    let listed: Vec<Label> = reqwest::Client::new()
        .get(format!("{}/api/v1/labels", server.base))
        .bearer_auth(sam.account.api.token().expose())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    for name in ["New Lead", "پشتیبانی باز"] {
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
    let nadia = server
        .inbound(&workspace.whatsapp, "nadia-h", "Nadia Haddad", "team-1", "Hi, I'd like a quote")
        .await?;
    crate::show_all_view(session).await?;
    open_row(session, nadia.conversation_id).await?;
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
            Ok(server.conversation(nadia.conversation_id).await?.labels.contains(&"New Lead".to_string()))
        })
        .await?;

    // Deactivating is an admin's: Sara is made one for this step.
    server.set_role(workspace.sara, "admin").await?;
    open_settings_page(session, "people").await?;
    session.wait_for("[data-testid=new-agent]", WAIT).await?;
    type_into(session, "[data-testid=new-agent-name]", "Nima Rahimi").await?;
    type_into(session, "[data-testid=new-agent-email]", "nima@e2e.example").await?;
    session.click(&session.wait_for("[data-testid=new-agent-create]", WAIT).await?).await?;
    let password = session.text(&session.wait_for("[data-testid=password-text]", WAIT).await?).await?;
    anyhow::ensure!(password.len() >= 16, "a one-time password shows: {password:?}");
    let nima =
        CoreClient::sign_in(&server.base, "nima@e2e.example", password.trim(), "Nima's laptop").await?;
    nima.until("Nima's client is online", Duration::from_secs(20), |c| {
        Ok(c.engine.status().state == ConnectionState::Online)
    })
    .await?;
    let nima_id = nima.account.info.agent.id;
    session.click(&session.wait_for("[data-testid=one-time-password] .btn.primary", WAIT).await?).await?;

    // Every agent's devices: Nima's laptop is listed.
    session.click(&session.wait_for("[data-testid=team-devices] .head button", WAIT).await?).await?;
    session.wait_for(&format!("[data-testid=device-group][data-agent='{nima_id}']"), WAIT).await?;
    session
        .execute("document.querySelector('[data-testid=team-devices]').scrollIntoView({ block: 'end' }); return true;", json!([]))
        .await?;
    settle(session).await?;
    screenshot(session, harness, "14-team-people").await?;

    // Deactivated from the page: Nima's running client is signed out within seconds.
    let row = format!("[data-testid=person-row][data-agent='{nima_id}']");
    session.click(&session.wait_for(&format!("{row} [data-testid=deactivate]"), WAIT).await?).await?;
    let confirm = session.wait_for(&format!("{row} [data-testid=confirm-deactivate]"), WAIT).await?;
    anyhow::ensure!(!nima.signed_out(), "Nima's client was signed in until the click");
    let clicked = Instant::now();
    session.click(&confirm).await?;
    nima.until("Nima's client is told it is signed out", LIVE, |c| Ok(c.signed_out())).await?;
    nima.until("Nima's engine stops as signed out", LIVE, |c| {
        Ok(c.engine.status().state == ConnectionState::AuthFailed)
    })
    .await?;
    println!("team: Nima's running client was signed out {:?} after the click", clicked.elapsed());
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(nima.account.api.token().expose())
        .send()
        .await?;
    let status = me.status();
    let body: serde_json::Value = me.json().await.unwrap_or_default();
    anyhow::ensure!(
        status == reqwest::StatusCode::UNAUTHORIZED && body["error"]["code"] == "token_revoked",
        "the old token is refused as revoked: {status} {body}"
    );
    // What the desktop does on that event: the account is forgotten, its cache wiped.
    let key = nima.account.info.key();
    let dir = nima.accounts.account_dir(&key);
    anyhow::ensure!(dir.exists(), "Nima's cache existed: {}", dir.display());
    nima.accounts.forget(&key).await?;
    anyhow::ensure!(!dir.exists(), "Nima's cache is wiped: {}", dir.display());
    anyhow::ensure!(nima.tokens.load(&key).is_err(), "Nima's token is gone from the keychain");
    anyhow::ensure!(!server.agent(nima_id).await?.active, "the server has Nima deactivated");
    session
        .wait_until(
            "the page shows Nima deactivated",
            &format!("return !!document.querySelector(\"{row} [data-testid=reactivate]\");"),
            WAIT,
        )
        .await?;
    println!("team: Nima added with a one-time password, signed in through the core, deactivated from the People page");

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
    sam.engine.shutdown().await;
    Ok(())
}
