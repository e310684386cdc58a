//! Optimistic effects agree with the server: for seeded random sequences of agent actions, what
//! the client shows at once (`Action::apply` on the cached version) equals what the server commits
//! and sync brings back, apart from the fields only the server can know. Both sides call
//! `switchboard_proto::rules`; this fails when a rule is changed on one side only.
//!
//! `SWITCHBOARD_EFFECT_RUNS` sets how many sequences run (default 3) and `SWITCHBOARD_EFFECT_SEED`
//! the first seed; a failure names its seed and step, and running with that seed and one run
//! replays the same sequence.

use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use serde_json::Value;
use switchboard_core::{
    intents,
    outbox::{Action, EffectContext},
    sync::system_now,
};
use switchboard_proto::*;

use crate::harness::*;

/// Fields only the server assigns, by entity kind: times from its clock (the optimistic ones are
/// the client's), a delivery state it learns from the channel, mentions it resolves against the
/// agents who can see the inbox. They are compared only for being set or not.
const SERVER_ASSIGNED: &[(EntityKind, &[&str])] = &[
    (EntityKind::Conversation, &["created_at", "last_activity_at", "first_reply_at"]),
    (EntityKind::Contact, &["created_at"]),
    (EntityKind::Message, &["created_at", "delivery", "mentions"]),
    (EntityKind::ReadMarker, &["read_at"]),
    (EntityKind::Pin, &["pinned_at"]),
];

const STEPS: usize = 30;
const LABELS: [&str; 4] = ["vip", "refund", "bug", "billing"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The entity with server-assigned fields reduced to whether they are set.
fn comparable(kind: EntityKind, value: Option<Value>) -> Option<Value> {
    let mut value = value?;
    let fields = SERVER_ASSIGNED.iter().find(|(k, _)| *k == kind).map_or(&[][..], |(_, f)| f);
    if let Some(object) = value.as_object_mut() {
        for field in fields {
            if let Some(v) = object.get_mut(*field) {
                *v = Value::Bool(!v.is_null());
            }
        }
        // Why a message failed is the channel's answer (or the connector's), learnt after.
        if kind == EntityKind::Message {
            object.remove("failure");
        }
        // An escalation's time is the server's too; who raised it and why are compared.
        if let Some(at) = object.get_mut("escalation").and_then(|e| e.get_mut("at")) {
            *at = Value::Bool(true);
        }
    }
    Some(value)
}

/// Everyone who can see the WhatsApp inbox (Sara, Sam) or nobody.
fn someone(rng: &mut StdRng, sara: Id, sam: Id) -> Option<Id> {
    [Some(sara), Some(sam), None][rng.gen_range(0..3)]
}

fn some_labels(rng: &mut StdRng) -> Vec<String> {
    let count = rng.gen_range(0..3);
    LABELS.choose_multiple(rng, count).map(|l| l.to_string()).collect()
}

/// A random action Sara may take on `conversation`; `None` for a step that is a customer message.
fn random_action(rng: &mut StdRng, sara: &Client, sam: Id, conversation: Id, n: usize) -> Option<Action> {
    let cache = &sara.account.cache;
    let me = sara.me();
    let text = [
        format!("reply {n}"),
        format!("  line one {n}\n\tline two  "),
        format!("{} {n}", "long ".repeat(40)),
    ];
    let action = match rng.gen_range(0..11) {
        0 | 1 => {
            intents::send(conversation, SendKind::Reply, text[rng.gen_range(0..3)].clone(), vec![], None)
        }
        2 => {
            intents::send(conversation, SendKind::Note, format!("@sam @sara @nobody note {n}"), vec![], None)
        }
        3 => Ok(match rng.gen_range(0..3) {
            0 => intents::claim(conversation, me),
            1 => intents::assign(conversation, someone(rng, me, sam)),
            _ => {
                let teams: Vec<Team> = cache.all(EntityKind::Team).expect("teams");
                let team = teams.choose(rng).map(|t| t.id).filter(|_| rng.gen_bool(0.8));
                intents::move_to_team(cache, conversation, team).expect("move")
            }
        }),
        4 => Ok(intents::edit_labels(conversation, some_labels(rng), some_labels(rng))),
        5 if rng.gen_bool(0.5) => {
            let note = rng.gen_bool(0.5).then(|| format!("  escalation {n} "));
            Ok(intents::set_escalated(conversation, rng.gen_bool(0.7), note))
        }
        5 => Ok(intents::set_priority(conversation, Priority::ALL[rng.gen_range(0..Priority::ALL.len())])),
        6 => Ok(match rng.gen_range(0..4) {
            0 => intents::set_status(conversation, ConversationStatus::Open, None),
            1 => intents::set_status(conversation, ConversationStatus::Pending, None),
            2 => intents::set_status(conversation, ConversationStatus::Resolved, None),
            _ => intents::set_status(
                conversation,
                ConversationStatus::Snoozed,
                Some(system_now() + 3_600_000 + rng.gen_range(0..1_000)),
            ),
        }),
        7 => Ok(intents::set_pinned(conversation, rng.gen_bool(0.6))),
        8 => {
            let read = if rng.gen_bool(0.5) {
                intents::read_on_open(cache, conversation)
            } else {
                intents::mark_unread(cache, conversation)
            };
            return read.expect("read").or_else(|| Some(intents::set_pinned(conversation, true)));
        }
        _ => return None,
    };
    Some(action.expect("a valid action"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimistic_effects_equal_the_servers_result_for_random_actions() {
    let runs = env_number("SWITCHBOARD_EFFECT_RUNS", 3);
    let first_seed = env_number("SWITCHBOARD_EFFECT_SEED", 0xEFFEC7);
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let sam = http_login(&server.base, "sam@test.example", PASSWORD).await.agent.id;
    sara.until("teams and labels are cached", |c| {
        c.account.cache.all::<Team>(EntityKind::Team).is_ok_and(|t| t.len() == 2)
    })
    .await;
    for seed in first_seed..first_seed + runs {
        if let Err(why) = run(seed, &server, &workspace, &sara, sam).await {
            panic!(
                "effects with seed {seed} (SWITCHBOARD_EFFECT_SEED={seed} SWITCHBOARD_EFFECT_RUNS=1): {why}"
            );
        }
    }
}

async fn run(
    seed: u64,
    server: &Server,
    workspace: &Workspace,
    sara: &Client,
    sam: Id,
) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let contact = format!("effects-{seed}");
    let conversation =
        server.inbound(&workspace.whatsapp, &contact, &format!("{contact}-0"), "hello").await.conversation_id;
    sara.until("the conversation is cached", |c| c.conversation(conversation).is_some()).await;
    for n in 0..STEPS {
        let Some(action) = random_action(&mut rng, sara, sam, conversation, n) else {
            let body = format!("customer message {n}");
            server.inbound(&workspace.whatsapp, &contact, &format!("{contact}-{n}"), &body).await;
            sara.until("the customer message arrives", |c| {
                c.account.cache.thread(conversation).expect("thread").iter().any(|m| m.body == body)
            })
            .await;
            continue;
        };
        check(sara, action).await.map_err(|why| format!("step {n}, {why}"))?;
    }
    Ok(())
}

/// Applies `action`'s optimistic effect to what `client` shows, queues it, waits for the server's
/// answer, and compares each touched entity with its synced version.
async fn check(client: &Client, action: Action) -> Result<(), String> {
    let cache = &client.account.cache;
    let context = EffectContext { me: client.me(), queued_at: system_now() };
    let mut expected = Vec::new();
    for (kind, id) in action.touches() {
        let before: Option<Value> = cache.get(kind, id).map_err(|e| e.to_string())?;
        expected.push((kind, id, action.apply(kind, before, &context)));
    }
    client.engine().queue(action.clone()).map_err(|e| format!("queue: {e}"))?;
    client.until("the server answered", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    for (kind, id, optimistic) in expected {
        let synced: Option<Value> = cache.get(kind, id).map_err(|e| e.to_string())?;
        let (optimistic, synced) = (comparable(kind, optimistic), comparable(kind, synced));
        if optimistic != synced {
            return Err(format!(
                "{} on {kind:?}: the optimistic effect differs from the server's result\n  \
                 optimistic: {}\n  server:     {}",
                action.name(),
                optimistic.unwrap_or_default(),
                synced.unwrap_or_default(),
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_new_contact_and_conversation_show_as_the_server_creates_them() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let carl = Client::sign_in(&server, "carl@test.example").await;
    let inbox = workspace.email.inbox.id;
    carl.until("the inbox is cached", |c| {
        c.account.cache.get::<Inbox>(EntityKind::Inbox, inbox).is_ok_and(|i| i.is_some())
    })
    .await;
    let contact_id = Id::new_v4();
    let contact = Action::CreateContact {
        request: CreateContact {
            client_id: contact_id,
            name: "  Dana Smith ".into(),
            phone: Some(" +44 7700 900456 ".into()),
            email: Some(" dana@example.com ".into()),
        },
    };
    let conversation = Action::CreateConversation {
        request: CreateConversation {
            client_id: Id::new_v4(),
            inbox_id: inbox,
            contact_id,
            subject: Some("  Your order  ".into()),
            body: Some("Hello Dana,\nyour order has shipped.".into()),
            template: None,
        },
    };
    for action in [contact, conversation] {
        if let Err(why) = check(&carl, action).await {
            panic!("{why}");
        }
    }
}
