//! A website chat widget inbox made from the app: Sara, an admin for the step, creates a "Website
//! chat" inbox on the settings screen's New inbox page with the site that may embed it, and its
//! page shows the snippet to paste into the site (its script URL on the server the app is signed
//! in to). A visitor then writes over the widget's HTTP API, as the script does from that site
//! (its `Origin`, its bearer token); the conversation arrives in the app live; Sara replies from
//! the composer, and the reply reaches the visitor's session (read back through the widget API,
//! once the delivery job has sent it). Then she is a lead again.

use serde_json::{json, Value};
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{leave_fields, open_row, reply, screenshot, server, Harness, WAIT};

const SITE: &str = "https://shop.example.com";
const GREETING: &str = "Hi! Ask us anything.";

async fn type_into(session: &Session, css: &str, text: &str) -> anyhow::Result<()> {
    let field = session.wait_for(css, WAIT).await?;
    session.clear(&field).await?;
    session.send_keys(&field, text).await
}

/// A visitor's browser on the team's site: its origin, and the session's token once it has one.
struct Visitor {
    api: String,
    token: String,
    http: reqwest::Client,
}

impl Visitor {
    /// Starts a session, as the script does the first time a visitor opens the bubble.
    async fn start(base: &str, inbox: &str) -> anyhow::Result<Visitor> {
        let api = format!("{base}/api/v1/widget/{inbox}");
        let http = reqwest::Client::new();
        let session: Value = http
            .post(format!("{api}/session"))
            .header("origin", SITE)
            .json(&json!({}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::ensure!(session["greeting"] == GREETING, "the visitor's session: {session}");
        let token = session["token"].as_str().unwrap_or_default().to_owned();
        anyhow::ensure!(!token.is_empty(), "a session without a token: {session}");
        Ok(Visitor { api, token, http })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header("origin", SITE)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status}: {text}");
        Ok(serde_json::from_str(&text)?)
    }
}

/// The conversation the visitor's message opened in the inbox, as the server has it.
async fn conversation_in(server: &server::Server, inbox: Id) -> anyhow::Result<Id> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        for id in server.conversation_ids().await? {
            let conversation = server.conversation(id.parse()?).await?;
            if conversation.inbox_id == inbox {
                return Ok(conversation.id);
            }
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "no conversation in the widget's inbox");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub async fn widget_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    server.set_role(workspace.sara, "admin").await?;
    crate::channels::start_new_inbox(session, "Website chat", "webchat").await?;
    // A web chat inbox's connector is the widget unless another is picked: its fields show.
    type_into(session, "[data-testid=connector-allowed_origins]", SITE).await?;
    type_into(session, "[data-testid=connector-greeting]", GREETING).await?;
    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=save-connector]", WAIT).await?).await?;

    // Created: the inbox's page, with the snippet for the site.
    session
        .wait_until(
            "the new inbox's page shows the widget's snippet",
            "const c = document.querySelector('[data-testid=inbox-connector]');
             return c && c.dataset.kind === 'widget' && !!document.querySelector('[data-testid=widget-snippet]');",
            WAIT,
        )
        .await?;
    let snippet = session.wait_for("[data-testid=widget-snippet]", WAIT).await?;
    let snippet = session.attribute(&snippet, "value").await?.unwrap_or_default();
    let prefix = format!("<script src=\"{}/widget/", server.base);
    let inbox = snippet
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(".js\" async></script>"))
        .ok_or_else(|| anyhow::anyhow!("the snippet is not the script tag of {}: {snippet}", server.base))?
        .to_owned();
    let created = server.inbox(inbox.parse()?).await?;
    anyhow::ensure!(
        created.name == "Website chat" && created.channel == Channel::Webchat,
        "the server's inbox: {created:?}"
    );
    // The snippet's script is served.
    let script = reqwest::get(format!("{}/widget/{inbox}.js", server.base)).await?.error_for_status()?;
    anyhow::ensure!(script.text().await?.contains("switchboard-widget"), "the widget's script");
    leave_fields(session).await?;
    screenshot(session, harness, "17-widget-snippet").await?;

    // A visitor on the site writes: the conversation shows in Sara's window live.
    let visitor = Visitor::start(&server.base, &inbox).await?;
    let question = "Do you ship to Norway?";
    let sent = visitor
        .call(reqwest::Method::POST, "/messages", Some(json!({"client_id": Id::new_v4(), "body": question})))
        .await?;
    anyhow::ensure!(sent["created"] == true, "the visitor's message: {sent}");
    let conversation = conversation_in(server, created.id).await?;
    session.press(&[keys::ESCAPE]).await?;
    session
        .wait_until("the settings closed", "return !document.querySelector('[data-testid=settings]');", WAIT)
        .await?;
    crate::show_all_view(session).await?;
    open_row(session, conversation).await?;
    session
        .wait_until(
            "the visitor's message shows",
            &format!(
                "return [...document.querySelectorAll('[data-testid=message][data-kind=incoming] [data-testid=message-body]')]
                    .some(e => e.textContent.includes({question:?}));"
            ),
            WAIT,
        )
        .await?;

    // Sara replies from the composer: once sent, it is in the visitor's thread.
    let answer = "Yes, in 3 to 5 days.";
    reply(session, answer).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let thread = visitor.call(reqwest::Method::GET, "/messages", None).await?;
        let bodies: Vec<(String, String)> = thread
            .as_array()
            .map(|messages| {
                messages
                    .iter()
                    .map(|m| {
                        (
                            m["from"].as_str().unwrap_or_default().to_owned(),
                            m["body"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if bodies.iter().any(|(from, body)| from == "agent" && body == answer) {
            anyhow::ensure!(
                bodies
                    == [("visitor".to_owned(), question.to_owned()), ("agent".to_owned(), answer.to_owned())],
                "the visitor's thread is their question and Sara's reply: {bodies:?}"
            );
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "Sara's reply never reached the visitor: {thread}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    screenshot(session, harness, "17-widget-reply").await?;
    server.set_role(workspace.sara, "lead").await?;
    Ok(())
}
