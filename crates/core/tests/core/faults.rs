//! Fault injection: seeded random schedules kill the server, drop sockets and crash clients
//! mid-flush while two agents act. Afterwards the server and both caches must agree and no action
//! may be lost or applied twice.
//!
//! `SWITCHBOARD_FAULT_SCHEDULES` sets how many schedules run (default 200) and
//! `SWITCHBOARD_FAULT_SEED` the first seed; a failure names its seed, and running with that seed
//! and one schedule replays the same schedule.

use std::{collections::HashMap, time::Duration};

use rand::{rngs::StdRng, Rng, SeedableRng};
use switchboard_core::{events::Event, outbox::Action};
use switchboard_proto::*;

use crate::harness::*;

const LABELS: [&str; 4] = ["vip", "refund", "bug", "billing"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A random agent action on `conversation`.
fn random_action(rng: &mut StdRng, conversation: Id, me: Id, n: usize) -> Action {
    let client_id = Id::new_v4();
    match rng.gen_range(0..7) {
        0 | 1 => Action::Send {
            conversation_id: conversation,
            request: SendMessage {
                client_id,
                kind: if rng.gen_bool(0.5) { SendKind::Reply } else { SendKind::Note },
                body: format!("message {n} {client_id}"),
                attachment_ids: vec![],
                template: None,
            },
            staged_files: vec![],
        },
        2 => Action::Labels {
            conversation_id: conversation,
            request: LabelsRequest {
                client_id,
                add: vec![LABELS[rng.gen_range(0..LABELS.len())].into()],
                remove: if rng.gen_bool(0.3) {
                    vec![LABELS[rng.gen_range(0..LABELS.len())].into()]
                } else {
                    vec![]
                },
                bulk_id: None,
            },
        },
        3 => Action::Priority {
            conversation_id: conversation,
            request: PriorityRequest {
                client_id,
                priority: Priority::ALL[rng.gen_range(0..Priority::ALL.len())],
                bulk_id: None,
            },
        },
        4 => Action::Status {
            conversation_id: conversation,
            request: StatusRequest {
                client_id,
                status: if rng.gen_bool(0.5) {
                    ConversationStatus::Pending
                } else {
                    ConversationStatus::Open
                },
                snoozed_until: None,
                bulk_id: None,
            },
        },
        5 => Action::Assign {
            conversation_id: conversation,
            request: AssignRequest {
                client_id,
                assignee_id: Some(me),
                team_id: None,
                expected_assignee_id: Some(None),
                bulk_id: None,
            },
        },
        _ => Action::Pin { conversation_id: conversation, client_id, pinned: rng.gen_bool(0.7) },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomized_faults_lose_nothing_and_apply_nothing_twice() {
    let schedules = env_number("SWITCHBOARD_FAULT_SCHEDULES", 200);
    let first_seed = env_number("SWITCHBOARD_FAULT_SEED", 0x5EED);
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let mut clients = vec![
        Client::sign_in(&server, "sara@test.example").await,
        Client::sign_in(&server, "sam@test.example").await,
    ];
    let started = std::time::Instant::now();
    for seed in first_seed..first_seed + schedules {
        let outcome = tokio::time::timeout(
            Duration::from_secs(60),
            run_schedule(seed, &mut server, &workspace, &mut clients),
        )
        .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => panic!("schedule with seed {seed} failed: {why}"),
            Err(_) => panic!("schedule with seed {seed} did not settle within 60 s"),
        }
    }
    println!("{schedules} fault schedules passed in {:.1} s", started.elapsed().as_secs_f64());
}

async fn run_schedule(
    seed: u64,
    server: &mut Server,
    workspace: &Workspace,
    clients: &mut [Client],
) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let conversation = server
        .inbound(&workspace.whatsapp, &format!("fault-{seed}"), &format!("fault-{seed}"), "help")
        .await
        .conversation_id;
    for client in clients.iter() {
        client
            .until("the schedule's conversation is cached", |c| c.conversation(conversation).is_some())
            .await;
    }
    let mut queued: Vec<Action> = Vec::new();
    let mut server_up = true;
    for n in 0..rng.gen_range(6..16) {
        match rng.gen_range(0..10) {
            0..=5 => {
                let who = rng.gen_range(0..clients.len());
                let action = random_action(&mut rng, conversation, clients[who].me(), n);
                queued.push(action.clone());
                clients[who].engine().queue(action).map_err(|e| format!("queue: {e}"))?;
            }
            6 if server_up => {
                server.kill().await;
                server_up = false;
            }
            6 => {
                server.restart().await;
                server_up = true;
            }
            7 => clients[rng.gen_range(0..clients.len())].engine().reconnect(),
            8 => {
                // The client dies mid-flush and starts again on the same cache.
                let who = rng.gen_range(0..clients.len());
                if let Some(engine) = clients[who].engine.take() {
                    engine.abort();
                }
                tokio::time::sleep(Duration::from_millis(rng.gen_range(0..20))).await;
                clients[who].start();
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..25))).await;
    }
    if !server_up {
        server.restart().await;
    }

    // Everything settles: outboxes drain, caches equal what the server shows each agent.
    for client in clients.iter() {
        let expected_ready = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let drained = client.account.cache.outbox().map_err(|e| e.to_string())?.is_empty();
            if drained {
                let expected = server.state(&client.token()).await;
                if client.account.cache.server_state().map_err(|e| e.to_string())? == expected {
                    break;
                }
            }
            if tokio::time::Instant::now() > expected_ready {
                return Err(format!(
                    "{} never settled (outbox drained: {drained})",
                    client.account.info.agent.name
                ));
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    // Each queued message exists exactly once on the server, unless it was rejected.
    let rejected: Vec<Id> = clients
        .iter()
        .flat_map(|c| c.events())
        .filter_map(|e| match e {
            Event::OutboxRejected { client_id, code, .. } => Some((client_id, code)),
            _ => None,
        })
        .map(|(client_id, code)| {
            assert_eq!(code, "assignment_conflict", "only claim races may be refused");
            client_id
        })
        .collect();
    let transcript =
        server.get(&server.admin_token, &format!("/api/v1/conversations/{conversation}/export")).await;
    let mut on_server: HashMap<String, usize> = HashMap::new();
    for message in transcript["messages"].as_array().ok_or("no messages")? {
        *on_server.entry(message["id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    for action in &queued {
        if let Action::Send { request, .. } = action {
            let count = on_server.get(&request.client_id.to_string()).copied().unwrap_or(0);
            let expected = usize::from(!rejected.contains(&request.client_id));
            if count != expected {
                return Err(format!(
                    "message {} is on the server {count} times, expected {expected}",
                    request.client_id
                ));
            }
        }
    }
    // Claims: at most one agent ever won this conversation.
    let claims = transcript["messages"]
        .as_array()
        .ok_or("no messages")?
        .iter()
        .filter(|m| m["body"].as_str().is_some_and(|b| b.ends_with("claimed the conversation")))
        .count();
    if claims > 1 {
        return Err(format!("{claims} agents claimed the same conversation"));
    }
    Ok(())
}
