//! The channels issue's figure: customer messages taken in per second through a WhatsApp inbox's
//! webhook (Meta's text notification, signed with `X-Hub-Signature-256`, through the connector's
//! signature check and parser, the dedupe lookup and the ingest), next to the same server taking
//! them through the plain API channel, in the same run, rounds taking turns.

use std::time::Instant;

use serde_json::json;
use switchboard_proto::*;

use crate::{figures::percentile, report::Row, server::Launched};

const APP_SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";
const WRITERS: usize = 8;

struct Server {
    server: Launched,
    api: CreatedInbox,
    whatsapp: Id,
}

impl std::ops::Deref for Server {
    type Target = Launched;

    fn deref(&self) -> &Launched {
        &self.server
    }
}

impl Server {
    async fn start() -> anyhow::Result<Server> {
        let server = Launched::start().await?;
        let api: CreatedInbox = serde_json::from_value(
            server.call("POST", "/api/v1/inboxes", json!({"name": "API", "channel": "api"})).await?,
        )?;
        // No media in the notifications: the Graph API is never called, so it points nowhere.
        let connector = json!({"kind": "whatsapp", "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "unused", "app_secret": APP_SECRET, "verify_token": "unused",
            "graph_base_url": "http://127.0.0.1:9"});
        let whatsapp: CreatedInbox = serde_json::from_value(
            server
                .call(
                    "POST",
                    "/api/v1/inboxes",
                    json!({"name": "WhatsApp", "channel": "whatsapp", "connector": connector}),
                )
                .await?,
        )?;
        Ok(Server { server, api, whatsapp: whatsapp.inbox.id })
    }

    async fn api_inbound(&self, contact: &str, external_id: &str) -> anyhow::Result<()> {
        let payload = json!({
            "contact": {"external_id": contact, "name": format!("Customer {contact}")},
            "message": {"external_id": external_id, "body": "Hi, my order is late"},
        })
        .to_string();
        let signature = switchboard_server::sign_payload(&self.api.signing_secret, payload.as_bytes());
        let response = self
            .http
            .post(format!("{}/api/v1/channels/{}/inbound", self.base, self.api.inbox.id))
            .header("content-type", "application/json")
            .header(switchboard_server::SIGNATURE_HEADER, signature)
            .body(payload)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "API inbound: {}", response.status());
        Ok(())
    }

    async fn whatsapp_inbound(&self, contact: &str, wamid: &str) -> anyhow::Result<()> {
        // Meta's text notification (tests/fixtures/whatsapp/text.json), one message each.
        let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": format!("Customer {contact}")}, "wa_id": contact}],
                "messages": [{"from": contact, "id": wamid, "timestamp": "1739321024", "type": "text",
                    "text": {"body": "Hi, my order is late"}}]}}]}]})
        .to_string();
        let signature = switchboard_server::sign_payload(APP_SECRET, payload.as_bytes());
        let response = self
            .http
            .post(format!("{}/api/v1/channels/{}/webhook", self.base, self.whatsapp))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(payload)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "WhatsApp webhook: {}", response.status());
        Ok(())
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

/// Messages a second through one channel: `count` new customers, `WRITERS` at a time.
async fn rate(server: &Server, whatsapp: bool, count: usize, tag: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let writers = (0..WRITERS).map(|writer| async move {
        for n in (writer..count).step_by(WRITERS) {
            // Distinct digits per customer, as wa_ids are phone numbers.
            let contact = format!("{}{n:07}", if whatsapp { "4479" } else { "api-" });
            let id = format!("wamid.{tag}.{n}");
            if whatsapp {
                server.whatsapp_inbound(&contact, &id).await?;
            } else {
                server.api_inbound(&contact, &id).await?;
            }
        }
        anyhow::Ok(())
    });
    for result in futures_util::future::join_all(writers).await {
        result?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

pub async fn channel_figures(quick: bool) -> anyhow::Result<Vec<Row>> {
    const ROUNDS: usize = 3;
    let count = if quick { 300 } else { 2_000 };
    let server = Server::start().await?;
    // Warm-up: connections, caches, the first pages of the database.
    rate(&server, false, 50, "warm-api").await?;
    rate(&server, true, 50, "warm-wa").await?;
    let (mut whatsapp, mut api) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        whatsapp.push(rate(&server, true, count, &format!("wa{round}")).await?);
        api.push(rate(&server, false, count, &format!("api{round}")).await?);
    }
    server.stop().await;
    let each = |rates: &[f64]| rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ");
    let note = format!(
        "{WRITERS} writers on one SQLite node, {count} new customers per round; median of {ROUNDS} rounds \
         taking turns (WhatsApp {}; API {} msg/s); text messages, no media",
        each(&whatsapp),
        each(&api)
    );
    let rate_whatsapp = percentile(&mut whatsapp, 0.5);
    let rate_api = percentile(&mut api, 0.5);
    let ratio = rate_whatsapp / rate_api;
    Ok(vec![Row {
        figure: "server: inbound webhook throughput, signed WhatsApp notifications (X-Hub-Signature-256, \
                 connector parse, dedupe, ingest) against the plain API channel"
            .into(),
        ours: format!("{rate_whatsapp:.0} msg/s"),
        baseline: format!("{rate_api:.0} msg/s through the API channel"),
        ratio: Some(ratio),
        target: "≥ 0.8×".into(),
        pass: Some(ratio >= 0.8),
        note,
    }])
}
