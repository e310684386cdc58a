//! The demo workspace: agents, teams, inboxes of several channels, labels, canned responses and a
//! few hundred conversations in English, Persian, Arabic, Romanian and Polish, plus a traffic
//! simulator that keeps customers writing in through the signed API channel, and that receives
//! the agents' replies (every demo inbox's connector is the simulator: `connectors/simulator.rs`)
//! and reports them delivered, then read. The seed switches every feature on: automation
//! (`demo/automation.rs`), and custom contact fields with values, each agent's personal quick
//! replies on `Alt+1`… and a contact merged across two channels (`demo/profiles.rs`).

mod automation;
pub mod corpus;
pub mod profiles;

use std::{sync::Arc, time::Duration};

use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use switchboard_proto::*;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::ManualClock,
    connectors::simulator::SimulatedReply,
    refusal::Refusal,
    workspace::{ConversationAction, Viewer, Workspace},
    ServerConfig,
};

pub const ADMIN_EMAIL: &str = "maya@switchboard.demo";

/// The demo's people: (name, email, role, teams by name).
const PEOPLE: &[(&str, &str, Role, &[&str])] = &[
    ("Maya Lindqvist", ADMIN_EMAIL, Role::Admin, &[]),
    ("Omid Farahani", "omid@switchboard.demo", Role::Lead, &["Support"]),
    ("Sara Karimi", "sara@switchboard.demo", Role::Agent, &["Support"]),
    ("Layla Haddad", "layla@switchboard.demo", Role::Agent, &["Support"]),
    ("Andrei Popescu", "andrei@switchboard.demo", Role::Agent, &["Sales"]),
    ("Zofia Wiśniewska", "zofia@switchboard.demo", Role::Agent, &["Sales", "Support"]),
];

/// The demo's inboxes: (name, channel, teams by name).
const INBOXES: &[(&str, Channel, &[&str])] = &[
    ("WhatsApp Support", Channel::Whatsapp, &["Support"]),
    ("Instagram Shop", Channel::Instagram, &["Sales", "Support"]),
    ("Telegram", Channel::Telegram, &["Support"]),
    ("Sales Email", Channel::Email, &["Sales"]),
    ("Website Chat", Channel::Webchat, &["Sales", "Support"]),
    ("Partner API", Channel::Api, &[]),
];

/// What `demo` prints and the simulator needs.
#[derive(Debug, Clone)]
pub struct DemoWorkspace {
    pub password: String,
    /// (inbox id, signing secret) of every inbox.
    pub inbox_secrets: Vec<(Id, String)>,
}

fn templates() -> Vec<MessageTemplate> {
    vec![
        MessageTemplate {
            name: "follow_up".into(),
            language: "en".into(),
            body: "Hi {{1}}, we're following up on your recent message. Reply here and we'll pick it up."
                .into(),
        },
        MessageTemplate {
            name: "order_update".into(),
            language: "en".into(),
            body: "Hi {{1}}, your order {{2}} has an update. Reply to this message for details.".into(),
        },
    ]
}

fn fail(error: Refusal) -> anyhow::Error {
    anyhow::anyhow!("seeding the demo: {}", error.message)
}

/// Seeds a fresh data directory with the demo workspace (or reads the secrets of an existing one).
pub async fn prepare(
    config: &ServerConfig,
    password: &str,
    conversations: usize,
) -> anyhow::Result<DemoWorkspace> {
    std::fs::create_dir_all(&config.data_dir)?;
    let clock = Arc::new(ManualClock::default());
    let now = config.clock.now();
    clock.set(now);
    let db = crate::open_workspace_with_clock(config, clock.clone())?;
    if db.has_agents().await.map_err(fail)? {
        let inbox_ids: Vec<Id> = db
            .directory(&directory_reader(), EntityKind::Inbox)
            .await
            .map_err(fail)?
            .into_iter()
            .filter_map(|inbox| inbox["id"].as_str().and_then(|id| id.parse().ok()))
            .collect();
        let mut inbox_secrets = Vec::new();
        for id in inbox_ids {
            inbox_secrets.push((id, db.inbox_secret(id).await.map_err(fail)?.1));
        }
        return Ok(DemoWorkspace { password: password.to_owned(), inbox_secrets });
    }
    seed(&db, &clock, now, password, conversations).await
}

/// A stand-in admin for reading the directory of an already seeded workspace.
fn directory_reader() -> Viewer {
    Viewer {
        agent: Agent {
            id: Id::nil(),
            name: "demo".into(),
            email: String::new(),
            role: Role::Admin,
            availability: Availability::Offline,
            active: true,
            team_ids: vec![],
            capacity: None,
            availability_since: None,
            status_text: None,
        },
        device_id: Id::nil(),
    }
}

async fn seed(
    db: &Workspace,
    clock: &ManualClock,
    now: Millis,
    password: &str,
    conversation_count: usize,
) -> anyhow::Result<DemoWorkspace> {
    const HOUR: Millis = 60 * 60 * 1000;
    let mut rng = StdRng::seed_from_u64(7300);
    // History starts three days ago.
    clock.set(now - 72 * HOUR);

    let first = PEOPLE[0];
    let admin = db
        .create_first_admin(CreateAgent {
            name: first.0.into(),
            email: first.1.into(),
            role: first.2,
            password: password.into(),
            team_ids: vec![],
        })
        .await
        .map_err(fail)?;
    let admin = Viewer { agent: admin, device_id: Id::nil() };

    let mut teams = Vec::new();
    for name in ["Sales", "Support"] {
        teams.push(
            db.create_team(&admin, CreateTeam { name: name.into(), member_agent_ids: vec![] })
                .await
                .map_err(fail)?,
        );
    }
    let team_id = |name: &str| teams.iter().find(|t| t.name == name).map(|t| t.id);
    let mut agents = vec![admin.agent.clone()];
    for (name, email, role, team_names) in &PEOPLE[1..] {
        let agent = db
            .create_agent(
                &admin,
                CreateAgent {
                    name: (*name).into(),
                    email: (*email).into(),
                    role: *role,
                    password: password.into(),
                    team_ids: team_names.iter().filter_map(|t| team_id(t)).collect(),
                },
            )
            .await
            .map_err(fail)?;
        agents.push(agent);
    }
    let lead = agents.iter().find(|a| a.role == Role::Lead).cloned().unwrap_or(admin.agent.clone());

    let mut inboxes = Vec::new();
    let mut inbox_secrets = Vec::new();
    for (name, channel, team_names) in INBOXES {
        let created = db
            .create_inbox(
                &admin,
                CreateInbox {
                    name: (*name).into(),
                    channel: *channel,
                    webhook_url: None,
                    // Replies go to the traffic simulator, and the inbox's settings say so.
                    connector: Some(ConnectorSettings::Simulator),
                    member_agent_ids: if team_names.is_empty() { vec![lead.id] } else { vec![] },
                    member_team_ids: team_names.iter().filter_map(|t| team_id(t)).collect(),
                    // Templates are WhatsApp's: Instagram has none.
                    templates: if *channel == Channel::Whatsapp { templates() } else { vec![] },
                },
            )
            .await
            .map_err(fail)?;
        inbox_secrets.push((created.inbox.id, created.signing_secret));
        inboxes.push(created.inbox);
    }
    for (name, color) in corpus::LABELS {
        db.create_label(&admin, CreateLabel { name: (*name).into(), color: Some((*color).into()) })
            .await
            .map_err(fail)?;
    }
    let mut team_greeting = None;
    for canned in corpus::CANNED_RESPONSES {
        let created = db
            .create_canned(
                &admin,
                CreateCannedResponse {
                    short_code: canned.short_code.into(),
                    title: canned.title.into(),
                    body: canned.body.into(),
                    personal: false,
                },
            )
            .await
            .map_err(fail)?;
        if canned.short_code == "greet" {
            team_greeting = Some(created.id);
        }
    }
    profiles::define_fields(db, &admin).await?;

    // Conversations, oldest first, spread over the three days.
    let step = (72 * HOUR - HOUR) / conversation_count.max(1) as Millis;
    for n in 0..conversation_count {
        let at = now - 72 * HOUR + step * n as Millis;
        clock.set(at);
        let language = corpus::LANGUAGES[n % corpus::LANGUAGES.len()];
        let inbox = &inboxes[(n / corpus::LANGUAGES.len() + n) % inboxes.len()];
        let first_name = *language.first_names.choose(&mut rng).unwrap_or(&"Alex");
        let last_name = *language.last_names.choose(&mut rng).unwrap_or(&"Doe");
        let contact = InboundContact {
            external_id: format!("demo-contact-{n}"),
            name: Some(format!("{first_name} {last_name}")),
            phone: Some(corpus::phone_number(language, n as u64)),
            email: Some(corpus::email_address(language, first_name, last_name, n as u64)),
        };
        let opening = *language.opening_messages.choose(&mut rng).unwrap_or(&"Hello");
        let result = db
            .ingest(
                inbox.id,
                InboundMessage {
                    contact: contact.clone(),
                    message: InboundBody {
                        external_id: format!("demo-{n}-0"),
                        body: opening.into(),
                        attachments: vec![],
                    },
                },
                vec![],
            )
            .await
            .map_err(fail)?;
        let conversation_id = result.conversation_id;
        if let Some(fields) = profiles::field_values(language, n as u64, now) {
            profiles::fill_in(db, &admin, conversation_id, fields).await?;
        }
        let members: Vec<&Agent> = agents.iter().filter(|a| crate::rules::can_see_inbox(a, inbox)).collect();
        let Some(agent) =
            members.choose(&mut rng).map(|a| Viewer { agent: (*a).clone(), device_id: Id::nil() })
        else {
            continue;
        };
        let roll: f64 = rng.gen();
        // A third stay unassigned and waiting; the rest were picked up.
        if roll < 0.33 {
            continue;
        }
        clock.set(at + rng.gen_range(2..40) * 60_000);
        let claim = AssignRequest {
            client_id: Id::new_v4(),
            assignee_id: Some(agent.agent.id),
            team_id: None,
            expected_assignee_id: Some(None),
            bulk_id: None,
        };
        db.act(&agent, conversation_id, ConversationAction::Assign(claim)).await.map_err(fail)?;
        let reply = *language.agent_replies.choose(&mut rng).unwrap_or(&"Thanks!");
        clock.set(at + rng.gen_range(40..90) * 60_000);
        let send = SendMessage {
            client_id: Id::new_v4(),
            kind: SendKind::Reply,
            body: reply.into(),
            attachment_ids: vec![],
            template: None,
        };
        db.act(&agent, conversation_id, ConversationAction::Send(send)).await.map_err(fail)?;
        if rng.gen_bool(0.5) {
            clock.set(at + rng.gen_range(90..200) * 60_000);
            let follow_up = *language.follow_ups.choose(&mut rng).unwrap_or(&"Any news?");
            // A customer answering by email quotes what they answer, as mail clients do; the
            // connector folds it, and the app shows it collapsed.
            let follow_up = if inbox.channel == Channel::Email {
                crate::connectors::email::parse::fold_quoted(&format!(
                    "{follow_up}\n\n{} wrote:\n{}",
                    agent.agent.name,
                    reply.lines().map(|line| format!("> {line}")).collect::<Vec<_>>().join("\n")
                ))
            } else {
                follow_up.to_owned()
            };
            db.ingest(
                inbox.id,
                InboundMessage {
                    contact: contact.clone(),
                    message: InboundBody {
                        external_id: format!("demo-{n}-1"),
                        body: follow_up,
                        attachments: vec![],
                    },
                },
                vec![],
            )
            .await
            .map_err(fail)?;
        }
        if rng.gen_bool(0.25) {
            if let Some(colleague) = members.iter().find(|a| a.id != agent.agent.id) {
                let handle = colleague.name.split_whitespace().next().unwrap_or_default();
                let note_text = *language.notes.choose(&mut rng).unwrap_or(&"Please check");
                let note = SendMessage {
                    client_id: Id::new_v4(),
                    kind: SendKind::Note,
                    body: format!("@{handle} {note_text}"),
                    attachment_ids: vec![],
                    template: None,
                };
                db.act(&agent, conversation_id, ConversationAction::Send(note)).await.map_err(fail)?;
            }
        }
        if rng.gen_bool(0.6) {
            let label =
                corpus::LABELS.choose(&mut rng).map(|(name, _)| (*name).to_owned()).unwrap_or_default();
            let labels =
                LabelsRequest { client_id: Id::new_v4(), add: vec![label], remove: vec![], bulk_id: None };
            db.act(&agent, conversation_id, ConversationAction::Labels(labels)).await.map_err(fail)?;
        }
        if rng.gen_bool(0.1) {
            let priority =
                PriorityRequest { client_id: Id::new_v4(), priority: Priority::High, bulk_id: None };
            db.act(&agent, conversation_id, ConversationAction::Priority(priority)).await.map_err(fail)?;
        }
        if roll > 0.8 {
            let resolve = StatusRequest {
                client_id: Id::new_v4(),
                status: ConversationStatus::Resolved,
                snoozed_until: None,
                bulk_id: None,
            };
            db.act(&agent, conversation_id, ConversationAction::Status(resolve)).await.map_err(fail)?;
        }
    }
    // A customer on two channels, merged by the lead; Sara holds her WhatsApp conversation.
    let inbox_of = |channel: Channel| inboxes.iter().find(|inbox| inbox.channel == channel);
    if let (Some(whatsapp), Some(instagram), Some(sara)) = (
        inbox_of(Channel::Whatsapp),
        inbox_of(Channel::Instagram),
        agents.iter().find(|a| a.email == "sara@switchboard.demo"),
    ) {
        let lead = Viewer { agent: lead.clone(), device_id: Id::nil() };
        let sara = Viewer { agent: sara.clone(), device_id: Id::nil() };
        profiles::merged_customer(db, clock, now - 2 * HOUR, whatsapp, instagram, &lead, &sara).await?;
    }
    // Every agent's own quick replies on Alt+1…, beside the team's greeting.
    profiles::quick_replies(db, &agents, team_greeting).await?;

    // Automation on, for what happens from now: hours, auto-replies, routing, capacities, and
    // everyone available (routing still waits until each of them is connected).
    clock.set(now);
    let support = team_id("Support");
    for inbox in &inboxes {
        db.update_inbox(&admin, inbox.id, automation::inbox_settings(inbox, support)).await.map_err(fail)?;
    }
    for policy in automation::sla_policies() {
        db.create_sla_policy(&admin, policy).await.map_err(fail)?;
    }
    // The open conversations already there get their clocks now, so the list counts down at once.
    db.apply_sla_policies(&admin).await.map_err(fail)?;
    let lead_handle =
        switchboard_proto::rules::mention_handle(&lead, &agents).unwrap_or_else(|| lead.name.clone());
    for rule in automation::rules(&lead_handle) {
        db.create_automation_rule(&admin, rule).await.map_err(fail)?;
    }
    for agent in &agents {
        let capacity = UpdateAgent { capacity: Some(Some(automation::CAPACITY)), ..UpdateAgent::default() };
        db.update_agent(&admin, agent.id, capacity).await.map_err(fail)?;
        let viewer = Viewer { agent: agent.clone(), device_id: Id::nil() };
        let online = UpdateMe { name: None, availability: Some(Availability::Online), status_text: None };
        db.update_me(&viewer, online).await.map_err(fail)?;
    }
    Ok(DemoWorkspace { password: password.to_owned(), inbox_secrets })
}

/// Reports a reply the simulated customer received as delivered, then read, through the signed
/// API channel (as a provider's statuses would).
async fn acknowledge(client: &reqwest::Client, base_url: &str, secret: &str, reply: &SimulatedReply) {
    for state in [DeliveryState::Delivered, DeliveryState::Read] {
        let report = DeliveryReport { message_id: reply.message_id, state, reason: None };
        let Ok(bytes) = serde_json::to_vec(&report) else { return };
        let sent = client
            .post(format!("{base_url}/api/v1/channels/{}/delivery", reply.inbox_id))
            .header("content-type", "application/json")
            .header(crate::signing::SIGNATURE_HEADER, crate::signing::sign(secret, &bytes))
            .body(bytes)
            .send()
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "simulated delivery report not delivered");
        }
    }
}

/// Sends customer messages through the signed API channel of the running server: `per_minute`
/// messages a minute (none for 0), mostly follow-ups from existing contacts, some from new ones;
/// and takes the replies on the simulated inboxes, reporting each delivered and read.
pub async fn simulate_traffic(
    base_url: String,
    workspace: DemoWorkspace,
    per_minute: u32,
    shutdown: CancellationToken,
) {
    if workspace.inbox_secrets.is_empty() {
        return;
    }
    let inbox_ids: Vec<Id> = workspace.inbox_secrets.iter().map(|(id, _)| *id).collect();
    let mut replies = crate::connectors::simulator::register(&inbox_ids);
    let client = reqwest::Client::new();
    let mut rng = StdRng::from_entropy();
    // No traffic: the timer never fires (a day is as good as never), replies still arrive.
    let every = if per_minute == 0 {
        Duration::from_secs(86_400)
    } else {
        Duration::from_secs_f64(60.0 / f64::from(per_minute))
    };
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            Some(reply) = replies.recv() => {
                let secret = workspace.inbox_secrets.iter().find(|(id, _)| *id == reply.inbox_id).map(|(_, s)| s);
                if let Some(secret) = secret {
                    acknowledge(&client, &base_url, secret, &reply).await;
                }
                continue;
            }
            _ = tokio::time::sleep(every), if per_minute > 0 => {}
        }
        n += 1;
        let language = *corpus::LANGUAGES.choose(&mut rng).unwrap_or(&&corpus::ENGLISH);
        let (inbox_id, secret) = &workspace.inbox_secrets[rng.gen_range(0..workspace.inbox_secrets.len())];
        let new_contact = rng.gen_bool(0.3);
        let contact_n =
            if new_contact { 100_000 + rng.gen_range(0..1_000_000) } else { rng.gen_range(0..300) };
        let first_name = *language.first_names.choose(&mut rng).unwrap_or(&"Alex");
        let last_name = *language.last_names.choose(&mut rng).unwrap_or(&"Doe");
        let body = if new_contact {
            language.opening_messages.choose(&mut rng)
        } else {
            language.follow_ups.choose(&mut rng)
        };
        let message = InboundMessage {
            contact: InboundContact {
                external_id: format!("demo-contact-{contact_n}"),
                name: Some(format!("{first_name} {last_name}")),
                phone: Some(corpus::phone_number(language, contact_n)),
                email: None,
            },
            message: InboundBody {
                external_id: format!("sim-{}-{n}", std::process::id()),
                body: body.copied().unwrap_or("Hello?").into(),
                attachments: vec![],
            },
        };
        let Ok(bytes) = serde_json::to_vec(&message) else { continue };
        let sent = client
            .post(format!("{base_url}/api/v1/channels/{inbox_id}/inbound"))
            .header("content-type", "application/json")
            .header(crate::signing::SIGNATURE_HEADER, crate::signing::sign(secret, &bytes))
            .body(bytes)
            .send()
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "simulated message not delivered");
        }
    }
}
