//! The website chat widget in a real browser: Debian's Chromium, headless, driven through its
//! chromedriver with the repository's WebDriver client (`webdriver.rs`). A server runs in this
//! process with a widget inbox whose allowed origin is a tiny host page served on another loopback
//! port (so every visitor call is a real cross-origin one, CORS included). The visitor opens the
//! bubble and writes (the server has it), an agent replies through the API (the page shows it
//! live), the agent's typing shows, a reload resumes the session with its history, a file the
//! visitor attaches through the widget's own file input is stored byte for byte and an agent's
//! file is downloaded by the page byte for byte, and once no agent is online the email form
//! appears and the email lands on the contact.
//!
//! Runs when `SWITCHBOARD_CHROMEDRIVER` names chromedriver (scripts/test.sh's `widget` suite sets
//! it, and `SWITCHBOARD_CHROMIUM` for the browser); elsewhere it says it was skipped.

use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::SinkExt;
use serde_json::{json, Value};
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;
use switchboard_server::{init_data_dir, launch, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

/// Serves `page` as the answer to every request on `listener`.
fn host_page(listener: tokio::net::TcpListener, page: String) {
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let page = page.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn login(base: &str, email: &str, password: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::new();
        let login: LoginResponse = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password, "device_name": "widget test"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Api { base: base.to_owned(), token: login.token, http })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{path}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Uploads a file for a reply in `conversation`; its attachment id.
    async fn upload(&self, conversation: Id, name: &str, bytes: Vec<u8>) -> anyhow::Result<Id> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/octet-stream")?;
        let response = self
            .http
            .post(format!("{}/api/v1/attachments?conversation_id={conversation}", self.base))
            .bearer_auth(&self.token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("upload of {name}: {status}: {body}");
        }
        serde_json::from_value(body["id"].clone()).with_context(|| format!("an attachment id in {body}"))
    }

    /// A stored file's bytes, as an agent downloads them.
    async fn download(&self, attachment: &Value) -> anyhow::Result<Vec<u8>> {
        let url =
            format!("{}/api/v1/attachments/{}", self.base, attachment["id"].as_str().unwrap_or_default());
        let response = self.http.get(url).bearer_auth(&self.token).send().await?.error_for_status()?;
        Ok(response.bytes().await?.to_vec())
    }

    /// Every message and contact the admin sees (a bootstrap's latest state).
    async fn entities(&self, kind: EntityKind) -> anyhow::Result<Vec<Value>> {
        let page = self.call(reqwest::Method::GET, "/api/v1/sync?since=0&limit=1000", None).await?;
        let page: SyncPage = serde_json::from_value(page)?;
        let mut latest = std::collections::BTreeMap::new();
        for change in page.changes.into_iter().filter(|c| c.entity == kind) {
            match change.data {
                Some(data) => latest.insert(change.id, data),
                None => latest.remove(&change.id),
            };
        }
        Ok(latest.into_values().collect())
    }

    async fn stream(
        &self,
    ) -> anyhow::Result<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    > {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request =
            format!("{}/api/v1/stream?since=0", self.base.replacen("http", "ws", 1)).into_client_request()?;
        request.headers_mut().insert("authorization", format!("Bearer {}", self.token).parse()?);
        Ok(tokio_tungstenite::connect_async(request).await?.0)
    }
}

/// The element of the widget (inside its shadow root) matching `css`.
fn in_widget(css: &str) -> String {
    format!("return document.getElementById('switchboard-widget').shadowRoot.querySelector({css:?});")
}

/// The texts of the widget's messages, by who wrote them.
const MESSAGES: &str = "const root = document.getElementById('switchboard-widget'); \
    if (!root) return null; \
    return Array.from(root.shadowRoot.querySelectorAll('.sb-message')).map(m => \
      (m.classList.contains('sb-agent') ? 'agent: ' : 'visitor: ') + m.textContent);";

#[tokio::test]
async fn a_visitor_chats_through_the_widget_in_chromium() -> anyhow::Result<()> {
    let Ok(chromedriver) = std::env::var("SWITCHBOARD_CHROMEDRIVER") else {
        eprintln!(
            "skipping widget_browser: no SWITCHBOARD_CHROMEDRIVER (scripts/test.sh's widget suite sets it)"
        );
        return Ok(());
    };
    let chromium = std::env::var("SWITCHBOARD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());

    // The server, in this process.
    let data_dir = tempfile::tempdir()?;
    let mut config = ServerConfig::new(data_dir.path());
    let admin_password = init_data_dir(&config, "admin@test.example", "Ada Admin").await?;
    config.webhook_poll = Duration::from_millis(50);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let _guard = shutdown.clone().drop_guard();
    tokio::spawn(launch(config, listener, shutdown.clone()));
    let admin = Api::login(&base, "admin@test.example", &admin_password).await?;
    let sara: Agent = serde_json::from_value(
        admin
            .post(
                "/api/v1/agents",
                json!({"name": "Sara Karimi", "email": "sara@test.example", "role": "agent", "password": PASSWORD}),
            )
            .await?,
    )?;

    // The team's site: a page on another origin (localhost, not 127.0.0.1) that embeds the script.
    let page_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let site = format!("http://localhost:{}", page_listener.local_addr()?.port());
    let inbox: CreatedInbox = serde_json::from_value(
        admin
            .post(
                "/api/v1/inboxes",
                json!({"name": "Website", "channel": "webchat", "member_agent_ids": [sara.id], "connector": {
                    "kind": "widget", "allowed_origins": [site], "greeting": "Hi! Ask us anything.", "color": "#0f766e"
                }}),
            )
            .await?,
    )?;
    let snippet = format!("<script src=\"{base}/widget/{}.js\" async></script>", inbox.inbox.id);
    host_page(
        page_listener,
        format!("<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>{snippet}</body></html>"),
    );
    let sara = Api::login(&base, "sara@test.example", PASSWORD).await?;
    let mut sara_stream = sara.stream().await?;

    // Chromium, through its driver.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let profile = tempfile::tempdir()?;
    let mut driver = tokio::process::Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting {chromedriver}"))?;
    let webdriver = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while http.get(format!("{webdriver}/status")).send().await.is_err() {
        if tokio::time::Instant::now() > deadline {
            bail!("chromedriver did not answer on {webdriver}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let browser = Session::start_with(
        &webdriver,
        json!({"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1000,800", format!("--user-data-dir={}", profile.path().display())
        ]}}),
    )
    .await?;
    let outcome = chat(&browser, &site, &admin, &sara, &mut sara_stream).await;
    if outcome.is_err() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = browser.screenshot().await {
            let _ = std::fs::write(dir.join("widget-failure.png"), png);
        }
    }
    let _ = browser.end().await;
    let _ = driver.kill().await;
    outcome?;
    println!("SWITCHBOARD_WIDGET_BROWSER_PASSED");
    Ok(())
}

/// Bytes of every value, not all the same, so a re-encoded, cut or shifted file would show.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed).collect()
}

/// The visitor attaches a file through the widget's own file input (WebDriver types its path
/// into the `<input type=file>`, as a person picking it would set it): the server stores it
/// byte for byte. Then Sara replies with a file, and the page's link downloads it byte for byte.
async fn files(browser: &Session, admin: &Api, sara: &Api, conversation: Id) -> anyhow::Result<()> {
    // The reload closed the panel: open it (and close it again at the end).
    let bubble = browser.element_by_script(&in_widget(".sb-bubble")).await?;
    browser.click(&bubble).await?;
    browser.wait_until("the panel opens", &in_widget_all(".sb-open", "l => l.length === 1"), WAIT).await?;
    let dir = tempfile::tempdir()?;
    let receipt = pattern(300_000, 0x5a);
    let path = dir.path().join("receipt.pdf");
    std::fs::write(&path, &receipt)?;
    let input = browser.element_by_script(&in_widget("input[type=file]")).await?;
    browser.send_keys(&input, &path.display().to_string()).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    let attachment = loop {
        let messages = admin.entities(EntityKind::Message).await?;
        let found = messages.iter().find_map(|m| {
            let files = m["attachments"].as_array()?;
            files.iter().find(|a| a["file_name"] == json!("receipt.pdf")).cloned()
        });
        if let Some(attachment) = found {
            break attachment;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the server never got the visitor's file");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (attachment["content_type"].clone(), attachment["size"].clone()),
        (json!("application/pdf"), json!(receipt.len())),
        "{attachment}"
    );
    assert!(admin.download(&attachment).await? == receipt, "the stored file is the visitor's, byte for byte");
    browser
        .wait_until(
            "the visitor's file shows on the page",
            &in_widget_all(".sb-visitor .sb-file", "l => l.map(a => a.textContent).includes('receipt.pdf')"),
            WAIT,
        )
        .await?;

    // Sara's file: the page's link fetches it with the visitor's token and opens it as a blob;
    // the blob's bytes are read back in the page.
    let label = pattern(70_001, 0xa5);
    let id = sara.upload(conversation, "label.bin", label.clone()).await?;
    sara.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        json!({"client_id": Id::new_v4(), "kind": "reply", "body": "Your shipping label", "attachment_ids": [id]}),
    )
    .await?;
    browser
        .wait_until(
            "Sara's file shows live",
            &in_widget_all(".sb-agent .sb-file", "l => l.map(a => a.textContent).includes('label.bin')"),
            WAIT,
        )
        .await?;
    browser
        .execute(
            "window.__opened = null; window.open = function (url) { window.__opened = url; };",
            json!([]),
        )
        .await?;
    let link = browser
        .element_by_script(
            "return Array.from(document.getElementById('switchboard-widget').shadowRoot \
               .querySelectorAll('.sb-agent .sb-file')).find(a => a.textContent === 'label.bin');",
        )
        .await?;
    browser.click(&link).await?;
    browser.wait_until("the page opens the downloaded file", "return window.__opened;", WAIT).await?;
    let downloaded = browser
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(window.__opened).then(r => r.arrayBuffer()).then(b => { \
               let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); \
             }).catch(e => done('failed: ' + e));",
            json!([]),
        )
        .await?;
    use base64::Engine as _;
    let downloaded = base64::engine::general_purpose::STANDARD
        .decode(downloaded.as_str().unwrap_or_default())
        .with_context(|| format!("the page's download: {downloaded}"))?;
    assert!(
        downloaded == label,
        "the visitor downloads Sara's file byte for byte ({} bytes)",
        downloaded.len()
    );
    browser.click(&bubble).await?;
    Ok(())
}

/// A script answering whether `test` holds for the widget's elements matching `css` (an array).
fn in_widget_all(css: &str, test: &str) -> String {
    format!(
        "const root = document.getElementById('switchboard-widget'); if (!root) return false; \
         return ({test})(Array.from(root.shadowRoot.querySelectorAll({css:?})));"
    )
}

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn chat(
    browser: &Session,
    site: &str,
    admin: &Api,
    sara: &Api,
    sara_stream: &mut Stream,
) -> anyhow::Result<()> {
    browser.navigate(site).await?;
    browser.wait_until("the widget's bubble is on the page", &in_widget(".sb-bubble"), WAIT).await?;
    let bubble = browser.element_by_script(&in_widget(".sb-bubble")).await?;
    browser.click(&bubble).await?;
    browser
        .wait_until(
            "the greeting shows",
            "const g = document.getElementById('switchboard-widget').shadowRoot.querySelector('.sb-greeting');              return g && g.textContent === 'Hi! Ask us anything.' && g.offsetParent !== null;",
            WAIT,
        )
        .await?;

    // The visitor writes; the server has it. Markup is text, never HTML.
    let input = browser.element_by_script(&in_widget("textarea")).await?;
    browser.send_keys(&input, "Where is my order? <b>#1234</b>").await?;
    browser.send_keys(&input, keys::ENTER).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    let conversation = loop {
        let messages = admin.entities(EntityKind::Message).await?;
        if let Some(m) = messages.iter().find(|m| m["body"] == json!("Where is my order? <b>#1234</b>")) {
            break serde_json::from_value::<Id>(m["conversation_id"].clone())?;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the server never got the visitor's message");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    browser
        .wait_until(
            "the visitor's message shows as text",
            &format!(
                "const m = (function() {{ {MESSAGES} }})(); \
                 return m && m.length === 1 && m[0] === 'visitor: Where is my order? <b>#1234</b>';"
            ),
            WAIT,
        )
        .await?;
    let bold = browser
        .execute("return document.getElementById('switchboard-widget').shadowRoot.querySelectorAll('.sb-message b').length", json!([]))
        .await?;
    assert_eq!(bold, json!(0), "a visitor's markup is never rendered");

    // Sara types: the page says so. Then her reply shows live.
    let frame = json!({"type": "typing", "conversation_id": conversation, "active": true});
    sara_stream.send(WsMessage::Text(frame.to_string().into())).await?;
    browser
        .wait_until(
            "'agent is typing' shows",
            "return document.getElementById('switchboard-widget').shadowRoot.querySelector('.sb-typing').textContent.includes('typing');",
            WAIT,
        )
        .await?;
    let reply = sara
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": "It ships today <i>promise</i>"}),
        )
        .await?;
    let reply: Id = serde_json::from_value(reply["message"]["id"].clone())?;
    let expected =
        json!(["visitor: Where is my order? <b>#1234</b>", "agent: It ships today <i>promise</i>"]);
    browser
        .wait_until(
            "the reply shows live",
            &format!(
                "const m = (function() {{ {MESSAGES} }})(); return m && JSON.stringify(m) === {:?};",
                expected.to_string()
            ),
            WAIT,
        )
        .await?;
    // The page had it and showed it: read.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let messages = admin.entities(EntityKind::Message).await?;
        let state = messages.iter().find(|m| m["id"] == json!(reply)).map(|m| m["delivery"].clone());
        if state == Some(json!("read")) {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the reply never became read: {state:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A reload resumes the session with its history.
    browser.refresh().await?;
    browser
        .wait_until(
            "the history is back after a reload",
            &format!(
                "const m = (function() {{ {MESSAGES} }})(); return m && JSON.stringify(m) === {:?};",
                expected.to_string()
            ),
            WAIT,
        )
        .await?;
    let sessions = browser
        .execute(
            "return Object.keys(localStorage).filter(k => k.startsWith('switchboard-widget:')).length",
            json!([]),
        )
        .await?;
    assert_eq!(sessions, json!(1));

    files(browser, admin, sara, conversation).await?;

    // Sara goes offline: the email form appears, and the email is stored on the contact.
    let _ = sara_stream.close(None).await;
    let bubble = browser.element_by_script(&in_widget(".sb-bubble")).await?;
    browser.click(&bubble).await?;
    browser
        .wait_until(
            "the email form appears with nobody online",
            "return document.getElementById('switchboard-widget').shadowRoot.querySelector('.sb-email').offsetParent !== null;",
            WAIT,
        )
        .await?;
    let email = browser.element_by_script(&in_widget("input[type=email]")).await?;
    browser.send_keys(&email, "dana@example.org").await?;
    let save = browser.element_by_script(&in_widget(".sb-email-save")).await?;
    browser.click(&save).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let contacts = admin.entities(EntityKind::Contact).await?;
        if contacts.iter().any(|c| c["email"] == json!("dana@example.org")) {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the visitor's email never reached their contact");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser
        .wait_until(
            "the page thanks the visitor",
            "return document.getElementById('switchboard-widget').shadowRoot.querySelector('.sb-email p').textContent.includes('dana@example.org');",
            WAIT,
        )
        .await?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("widget-chat.png"), browser.screenshot().await?)?;
    Ok(())
}
