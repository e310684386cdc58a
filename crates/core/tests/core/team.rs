//! Running the team through `switchboard_core::team` against the real server (on every backend):
//! an admin adds an agent with a one-time password the agent then signs in with, renames a label
//! (kept as written) and adds a team-wide quick reply that reach the agent's running client, sees
//! the agent's device, signs them out everywhere and then deactivates them: each time the
//! agent's running client is told it is signed out.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::{
    accounts::Accounts,
    events::{ConnectionState, Event},
    keychain::{MemoryTokenStore, TokenStore},
    team, CoreError,
};
use switchboard_proto::*;

use crate::harness::*;

/// A client signed in with `password` (the harness's own uses the shared test password).
async fn sign_in_with(server: &Endpoint, email: &str, password: &str) -> Client {
    let root = tempfile::tempdir().expect("temp dir");
    let tokens = Arc::new(MemoryTokenStore::default());
    let accounts = Accounts::new(root.path().to_owned(), tokens.clone() as Arc<dyn TokenStore>);
    let now = switchboard_core::clock::system_now();
    let info =
        accounts.sign_in(&server.base, email, password, None, "Nima's laptop", now).await.expect("sign in");
    let account = accounts.open(&info.key()).await.expect("open");
    let mut client = Client { accounts, account, engine: None, events: Arc::default(), root, tokens };
    client.start();
    client
}

fn signed_out(client: &Client) -> bool {
    client.events().iter().any(|event| matches!(event, Event::SignedOut { .. }))
        && client.engine().status().state == ConnectionState::AuthFailed
}

#[tokio::test]
async fn an_admin_runs_the_team_and_the_agents_running_client_follows() {
    let server = Server::start().await;
    Workspace::create(&server).await;
    server
        .admin_ok(
            "/api/v1/agents",
            json!({"name": "Ida Admin", "email": "ida@test.example", "role": "admin", "password": PASSWORD}),
        )
        .await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let api = &ida.account.api;
    ida.until("the teams arrive", |c| {
        !c.account.cache.all::<Team>(EntityKind::Team).expect("teams").is_empty()
    })
    .await;
    let teams: Vec<Team> = ida.account.cache.all(EntityKind::Team).expect("teams");
    let support = teams.iter().find(|t| t.name == "Support").expect("Support").id;

    // A new agent, with a password made here and shown once, signs in with it.
    let new =
        team::create_agent(api, "Nima Rahimi", "nima@test.example", Role::Agent, vec![support], Some(4))
            .await
            .expect("agent added");
    assert_eq!((new.agent.team_ids.clone(), new.agent.capacity), (vec![support], Some(4)));
    let nima = sign_in_with(&server, "nima@test.example", &new.password).await;
    nima.until("Nima's client is online", |c| c.engine().status().state == ConnectionState::Online).await;

    // A label renamed to another spelling of itself and recoloured; a clash refused by code.
    let label = team::save_label(api, None, "new lead", "#112233").await.expect("label");
    let renamed = team::save_label(api, Some(label.id), "New Lead", "#AA5500").await.expect("renamed");
    assert_eq!((renamed.name.as_str(), renamed.color.as_str()), ("New Lead", "#aa5500"));
    nima.until("the renamed label reaches Nima's client", |c| {
        c.account
            .cache
            .get::<Label>(EntityKind::Label, label.id)
            .expect("label")
            .is_some_and(|l| l.name == "New Lead")
    })
    .await;
    let clash = team::save_label(api, None, "NEW  lead", "#000000").await;
    assert!(
        matches!(&clash, Err(CoreError::Rejected { code: ErrorCode::AlreadyExists, .. })),
        "another spelling of an existing label is refused: {clash:?}"
    );

    // A team-wide quick reply reaches everyone; changed, then deleted.
    let reply =
        team::save_quick_reply(api, None, "hours", "Opening hours", "We open at nine.").await.expect("reply");
    assert_eq!(reply.owner_id, None, "team-wide");
    nima.until("the quick reply reaches Nima", |c| {
        c.account.cache.get::<CannedResponse>(EntityKind::CannedResponse, reply.id).expect("reply").is_some()
    })
    .await;
    team::save_quick_reply(api, Some(reply.id), "hours", "Opening hours", "We open at 9:00.")
        .await
        .expect("changed");
    team::delete_quick_reply(api, reply.id).await.expect("deleted");
    nima.until("the deleted quick reply leaves Nima's cache", |c| {
        c.account.cache.get::<CannedResponse>(EntityKind::CannedResponse, reply.id).expect("reply").is_none()
    })
    .await;

    // The admin sees Nima's device; signing Nima out everywhere ends the running client.
    let devices = team::devices(api).await.expect("devices");
    assert!(
        devices.iter().any(|d| d.agent_id == new.agent.id && d.name == "Nima's laptop"),
        "an admin lists everyone's devices: {devices:?}"
    );
    assert_eq!(team::sign_out_everywhere(api, new.agent.id).await.expect("signed out"), 1);
    nima.until("Nima's client is signed out", signed_out).await;

    // Nima may sign in again; deactivated, the running client is signed out and the password
    // no longer works.
    let again = sign_in_with(&server, "nima@test.example", &new.password).await;
    again
        .until("Nima's second client is online", |c| c.engine().status().state == ConnectionState::Online)
        .await;
    let update = UpdateAgent { active: Some(false), ..UpdateAgent::default() };
    let stored = team::update_agent(api, new.agent.id, &update).await.expect("deactivated");
    assert!(!stored.active);
    again.until("the deactivated agent's client is signed out", signed_out).await;
    let refused =
        switchboard_core::api::login(&server.base, "nima@test.example", &new.password, None, "x").await;
    assert!(refused.is_err(), "a deactivated agent can't sign in");

    // An agent can't run the team.
    let sam = Client::sign_in(&server, "sam@test.example").await;
    let forbidden = team::save_label(&sam.account.api, None, "Mine", "#000000").await;
    assert!(
        matches!(&forbidden, Err(CoreError::Rejected { code: ErrorCode::Forbidden, .. })),
        "{forbidden:?}"
    );
}
