//! A small W3C WebDriver client over HTTP: enough to drive the Switchboard window through
//! tauri-driver (which hands the session to WebKitWebDriver).

use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine as _;
use serde_json::{json, Value};

/// The W3C key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Special keys for `send_keys` and `press`.
pub mod keys {
    pub const NULL: &str = "\u{E000}";
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ALT: &str = "\u{E00A}";
    pub const RIGHT: &str = "\u{E014}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const BACKSPACE: &str = "\u{E003}";
}

/// One WebDriver session: one app window.
pub struct Session {
    base: String,
    id: String,
    http: reqwest::Client,
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl Session {
    /// Starts the app at `application` through the WebDriver server at `webdriver`.
    pub async fn start(webdriver: &str, application: &str) -> anyhow::Result<Session> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application}
        }}});
        let answer: Value = http
            .post(format!("{webdriver}/session"))
            .json(&capabilities)
            .send()
            .await
            .context("starting a WebDriver session")?
            .json()
            .await?;
        let id = answer["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session: {answer}"))?
            .to_owned();
        Ok(Session { base: format!("{webdriver}/session/{id}"), id, http })
    }

    /// Starts a session with these W3C capabilities (a browser through its own driver, such as
    /// Chromium through chromedriver).
    pub async fn start_with(webdriver: &str, capabilities: Value) -> anyhow::Result<Session> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let answer: Value = http
            .post(format!("{webdriver}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": capabilities}}))
            .send()
            .await
            .context("starting a WebDriver session")?
            .json()
            .await?;
        let id = answer["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session: {answer}"))?
            .to_owned();
        Ok(Session { base: format!("{webdriver}/session/{id}"), id, http })
    }

    /// Opens `url` in the session's window.
    pub async fn navigate(&self, url: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await.map(|_| ())
    }

    /// Reloads the page.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, "/refresh", None).await.map(|_| ())
    }

    /// The element a script returns (`return document.querySelector(…)`), e.g. inside a shadow
    /// root, which CSS selectors from outside do not reach.
    pub async fn element_by_script(&self, script: &str) -> anyhow::Result<Element> {
        let value = self.execute(script, json!([])).await?;
        let id = value[ELEMENT].as_str().with_context(|| format!("no element from {script}: {value}"))?;
        Ok(Element(id.to_owned()))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let answer: Value = request.send().await.with_context(|| format!("{method} {path}"))?.json().await?;
        if let Some(error) = answer["value"]["error"].as_str() {
            bail!("{method} {path}: {error}: {}", answer["value"]["message"]);
        }
        Ok(answer["value"].clone())
    }

    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        let found = self
            .call(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css})))
            .await?;
        Ok(found
            .as_array()
            .map(|all| {
                all.iter().filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_owned()))).collect()
            })
            .unwrap_or_default())
    }

    /// Waits (up to `timeout`) for an element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(element) = self.find_all(css).await.unwrap_or_default().into_iter().next() {
                return Ok(element);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("no element matches {css} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a script returns something truthy; returns it.
    pub async fn wait_until(&self, what: &str, script: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let value = self.execute(script, json!([])).await.unwrap_or(Value::Null);
            let truthy =
                !matches!(value, Value::Null | Value::Bool(false)) && value != json!("") && value != json!(0);
            if truthy {
                return Ok(value);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("timed out after {timeout:?} waiting until {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, element: &Element) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, &format!("/element/{}/click", element.0), None).await.map(|_| ())
    }

    pub async fn clear(&self, element: &Element) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, &format!("/element/{}/clear", element.0), None).await.map(|_| ())
    }

    pub async fn send_keys(&self, element: &Element, text: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({"text": text})),
        )
        .await
        .map(|_| ())
    }

    pub async fn text(&self, element: &Element) -> anyhow::Result<String> {
        let value = self.call(reqwest::Method::GET, &format!("/element/{}/text", element.0), None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub async fn attribute(&self, element: &Element, name: &str) -> anyhow::Result<Option<String>> {
        let value = self
            .call(reqwest::Method::GET, &format!("/element/{}/attribute/{name}", element.0), None)
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// Runs a script in the page (arguments as a JSON array; `arguments[0]`…).
    pub async fn execute(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// Presses keys on whatever has focus (W3C actions), e.g. `press(&[keys::SHIFT, "a"])` holds
    /// the modifiers while typing the last key.
    pub async fn press(&self, chord: &[&str]) -> anyhow::Result<()> {
        let mut actions = Vec::new();
        for key in chord {
            actions.push(json!({"type": "keyDown", "value": key}));
        }
        for key in chord.iter().rev() {
            actions.push(json!({"type": "keyUp", "value": key}));
        }
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await?;
        self.call(reqwest::Method::DELETE, "/actions", None).await.map(|_| ())
    }

    /// Moves the mouse onto the middle of `element` (W3C actions).
    pub async fn hover(&self, element: &Element) -> anyhow::Result<()> {
        let r#move =
            json!({"type": "pointerMove", "duration": 0, "origin": {ELEMENT: element.0}, "x": 0, "y": 0});
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [r#move]}]})),
        )
        .await?;
        self.call(reqwest::Method::DELETE, "/actions", None).await.map(|_| ())
    }

    /// Clicks the mouse at `(x, y)` CSS pixels from the middle of `element` (W3C actions), as on a
    /// spot of a canvas.
    pub async fn click_at(&self, element: &Element, x: i64, y: i64) -> anyhow::Result<()> {
        let actions = json!([
            {"type": "pointerMove", "duration": 0, "origin": {ELEMENT: element.0}, "x": x, "y": y},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]);
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]})),
        )
        .await?;
        self.call(reqwest::Method::DELETE, "/actions", None).await.map(|_| ())
    }

    /// Runs an asynchronous script: it finishes by calling its last argument.
    pub async fn execute_async(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": args})))
            .await
    }

    /// A PNG of the window, once what the DOM holds has been painted (WebKit hands back the last
    /// frame it painted, which can lag behind the DOM by a frame or two).
    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        self.execute_async(
            "const done = arguments[arguments.length - 1]; \
             requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 150)));",
            json!([]),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Without compositing (the app's mode on a machine with no GPU, `rendering.rs`), WebKitGTK
        // 2.50 takes the screenshot only after the page's next paint, and a still page never
        // paints again: the request would wait forever. So the page repaints (an invisible outline
        // toggling) until the screenshot is back.
        self.execute(
            "window.__e2eRepaint = setInterval(() => { const style = document.documentElement.style; \
             style.outline = style.outline ? '' : '1px solid transparent'; }, 50);",
            json!([]),
        )
        .await?;
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let stopped = self
            .execute(
                "clearInterval(window.__e2eRepaint); document.documentElement.style.outline = '';",
                json!([]),
            )
            .await;
        let value = value?;
        stopped?;
        Ok(base64::engine::general_purpose::STANDARD.decode(value.as_str().unwrap_or_default())?)
    }

    pub async fn end(self) -> anyhow::Result<()> {
        self.http.delete(&self.base).send().await?;
        Ok(())
    }
}
