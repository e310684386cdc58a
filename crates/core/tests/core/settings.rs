//! Settings against the real server: an admin saves an inbox's hours, routing and automatic
//! replies and an agent's capacity, a lead reads the workload, and everything is sent at once:
//! refused by role, by the calendar's rules, or with `offline` when the server can't be reached.

use serde_json::json;
use switchboard_core::{
    events::Event,
    settings::{self, InboxSettings},
};
use switchboard_proto::{calendar::*, *};

use crate::harness::*;

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange { start: start.into(), end: end.into() }
}

/// Weekdays 09:00–17:00 and a Thursday night shift 22:00–06:00, in Tehran.
fn tehran_hours() -> Calendar {
    let day = vec![range("09:00", "17:00")];
    Calendar {
        time_zone: "Asia/Tehran".into(),
        weekly: WeeklyHours {
            sat: day.clone(),
            sun: day.clone(),
            mon: day.clone(),
            tue: day.clone(),
            wed: day,
            thu: vec![range("09:00", "13:00"), range("22:00", "06:00")],
            fri: vec![],
        },
        holidays: vec![Holiday { date: "2026-03-21".into(), label: Some("Nowruz".into()) }],
        special_days: vec![SpecialDay {
            date: "2026-03-19".into(),
            intervals: vec![range("09:00", "12:00")],
            label: None,
        }],
    }
}

async fn agent(server: &Endpoint, name: &str, email: &str, role: &str) {
    server
        .admin_ok("/api/v1/agents", json!({"name": name, "email": email, "role": role, "password": PASSWORD}))
        .await;
}

fn inbox_of(client: &Client, id: Id) -> Option<Inbox> {
    client.account.cache.get(EntityKind::Inbox, id).expect("cache read")
}

fn capacity_of(client: &Client, id: Id) -> Option<Option<u32>> {
    client.account.cache.get::<Agent>(EntityKind::Agent, id).expect("cache read").map(|a| a.capacity)
}

#[tokio::test]
async fn an_admin_saves_hours_routing_and_replies_and_an_unchanged_calendar_adds_no_version() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let inbox_id = workspace.whatsapp.inbox.id;
    ida.until("the inbox arrives", |c| inbox_of(c, inbox_id).is_some()).await;

    let wanted = InboxSettings {
        hours: Some(tehran_hours()),
        routing: Routing {
            mode: RoutingMode::LeastLoaded,
            reassign_after_secs: Some(600),
            ..Routing::default()
        },
        auto_replies: AutoReplies {
            greeting: None,
            away: Some(AutoReply { body: "We open {{next_open_at}}.".into(), delay_secs: 0, template: None }),
            keywords: vec![KeywordReply {
                keywords: vec!["price".into()],
                body: "See our prices.".into(),
                cooldown_secs: 3600,
                template: None,
            }],
        },
        // Members see the conversations assigned to them and the queue (`inbox_visibility.rs`).
        visibility: InboxVisibility::MineAndUnassigned,
        // Agents' transcript exports wait for a lead's approval (`export_approval.rs`).
        exports_need_approval: true,
    };
    let before = inbox_of(&ida, inbox_id).expect("inbox");
    let saved = settings::save_inbox(&ida.account.api, &before, wanted.clone()).await.expect("saved");
    assert_eq!(settings::current(&saved), wanted, "the server's answer is what was saved");
    ida.until("the feed brings the new settings", |c| {
        inbox_of(c, inbox_id).is_some_and(|i| settings::current(&i) == wanted)
    })
    .await;

    let routing_only = InboxSettings { routing: Routing::default(), ..wanted.clone() };
    let cached = inbox_of(&ida, inbox_id).expect("inbox");
    let saved = settings::save_inbox(&ida.account.api, &cached, routing_only).await.expect("saved");
    assert_eq!(saved.routing.mode, RoutingMode::Manual);
    assert_eq!(
        saved.hours.as_ref().map(|h| h.versions.len()),
        Some(1),
        "hours equal to the version in force are not sent, so no new version starts"
    );

    let always_open = InboxSettings { hours: None, ..settings::current(&saved) };
    let saved = settings::save_inbox(&ida.account.api, &saved, always_open).await.expect("saved");
    assert_eq!(saved.hours, None, "no hours: always open");
}

#[tokio::test]
async fn a_calendar_the_server_refuses_comes_back_as_a_validation_error_naming_the_field() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let inbox_id = workspace.whatsapp.inbox.id;
    ida.until("the inbox arrives", |c| inbox_of(c, inbox_id).is_some()).await;
    let inbox = inbox_of(&ida, inbox_id).expect("inbox");

    let mut hours = tehran_hours();
    hours.weekly.mon = vec![range("09:00", "13:00"), range("12:00", "18:00")];
    let refused = settings::save_inbox(
        &ida.account.api,
        &inbox,
        InboxSettings { hours: Some(hours), ..settings::current(&inbox) },
    )
    .await;
    assert!(
        matches!(&refused, Err(e) if e.code() == "validation" && e.to_string().contains("mon[1]")),
        "overlapping intervals are refused, naming the later one: {refused:?}"
    );
    let mut hours = tehran_hours();
    hours.time_zone = "Mars/Olympus_Mons".into();
    let refused = settings::save_inbox(
        &ida.account.api,
        &inbox,
        InboxSettings { hours: Some(hours), ..settings::current(&inbox) },
    )
    .await;
    assert!(matches!(&refused, Err(e) if e.code() == "validation"), "an unknown zone: {refused:?}");
}

#[tokio::test]
async fn leads_and_admins_set_capacity_and_routing_and_read_the_workload() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    agent(&server, "Leo Lead", "leo@test.example", "lead").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let leo = Client::sign_in(&server, "leo@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;

    let stored = settings::set_capacity(&ida.account.api, sam.me(), Some(3)).await.expect("capacity");
    assert_eq!((stored.id, stored.capacity), (sam.me(), Some(3)));
    sam.until("Sam's own cache shows it", |c| capacity_of(c, sam.me()) == Some(Some(3))).await;

    let rows = settings::workload(&leo.account.api).await.expect("a lead reads the workload");
    let row = rows.iter().find(|r| r.agent_id == sam.me()).expect("Sam's row");
    assert_eq!((row.capacity, row.load), (Some(3), 0));

    // A lead runs the day: capacity and an inbox's routing are theirs to change too.
    let stored =
        settings::set_capacity(&leo.account.api, sam.me(), Some(4)).await.expect("a lead sets capacity");
    assert_eq!(stored.capacity, Some(4));
    let inbox = {
        leo.until("the inbox arrives", |c| inbox_of(c, workspace.whatsapp.inbox.id).is_some()).await;
        inbox_of(&leo, workspace.whatsapp.inbox.id).expect("inbox")
    };
    let mut wanted = settings::current(&inbox);
    wanted.routing.mode = RoutingMode::RoundRobin;
    let saved = settings::save_inbox(&leo.account.api, &inbox, wanted).await.expect("a lead sets routing");
    assert_eq!(saved.routing.mode, RoutingMode::RoundRobin);
    let refused = settings::set_capacity(&sam.account.api, sam.me(), None).await;
    assert!(matches!(&refused, Err(e) if e.code() == "forbidden"), "an agent may not: {refused:?}");
    let refused = settings::workload(&sam.account.api).await;
    assert!(matches!(&refused, Err(e) if e.code() == "forbidden"), "an agent sees no workload: {refused:?}");

    settings::set_capacity(&ida.account.api, sam.me(), None).await.expect("no limit");
    sam.until("no limit again", |c| capacity_of(c, sam.me()) == Some(None)).await;
}

#[tokio::test]
async fn settings_are_refused_while_the_server_cannot_be_reached_and_never_sent_later() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let inbox_id = workspace.whatsapp.inbox.id;
    ida.until("the inbox arrives", |c| inbox_of(c, inbox_id).is_some()).await;
    let inbox = inbox_of(&ida, inbox_id).expect("inbox");

    server.kill().await;
    let wanted = InboxSettings { hours: Some(tehran_hours()), ..settings::current(&inbox) };
    let refused = settings::save_inbox(&ida.account.api, &inbox, wanted).await;
    assert!(
        matches!(&refused, Err(e) if e.code() == "offline" && e.is_transient()),
        "an unreachable server refuses it with the offline code: {refused:?}"
    );
    let refused = settings::set_capacity(&ida.account.api, ida.me(), Some(2)).await;
    assert!(matches!(&refused, Err(e) if e.code() == "offline"), "{refused:?}");
    assert_eq!(ida.account.cache.pending_count().expect("pending"), 0, "nothing queued for later");

    server.restart().await;
    let inboxes: Vec<Inbox> =
        serde_json::from_value(server.get(&server.admin_token, "/api/v1/inboxes").await).expect("inboxes");
    let stored = inboxes.iter().find(|i| i.id == inbox_id).expect("the inbox");
    assert_eq!(stored.hours, None, "the refused hours never reached the server");
}

#[tokio::test]
async fn an_admin_reads_how_an_inbox_reaches_its_channel_and_a_lead_may_not() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    agent(&server, "Leo Lead", "leo@test.example", "lead").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let info = ida.account.api.inbox_connector(workspace.whatsapp.inbox.id).await.expect("connector");
    assert_eq!((info.kind.as_str(), info.simulated), ("none", false), "{info:?}");
    let leo = Client::sign_in(&server, "leo@test.example").await;
    let refused =
        leo.account.api.inbox_connector(workspace.whatsapp.inbox.id).await.expect_err("admins only");
    assert!(
        matches!(refused, switchboard_core::CoreError::Rejected { code: ErrorCode::Forbidden, .. }),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_admin_requires_a_lock_time_that_every_agent_reads() {
    let server = Server::start().await;
    let _workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;

    assert_eq!(settings::lock_policy(&sam.account.api).await.expect("read"), None, "none by default");
    let refused = settings::set_lock_policy(&sam.account.api, Some(5)).await;
    assert!(matches!(&refused, Err(e) if e.code() == "forbidden"), "only an admin: {refused:?}");
    let stored = settings::set_lock_policy(&ida.account.api, Some(5)).await.expect("an admin sets it");
    assert_eq!(stored, Some(5));
    assert_eq!(
        settings::lock_policy(&sam.account.api).await.expect("read"),
        Some(5),
        "the agent's app reads it"
    );
    settings::set_lock_policy(&ida.account.api, None).await.expect("lifted");
    assert_eq!(settings::lock_policy(&sam.account.api).await.expect("read"), None);
}

#[tokio::test]
async fn a_lowered_lock_maximum_reaches_every_running_app_through_the_feed() {
    let server = Server::start().await;
    let _workspace = Workspace::create(&server).await;
    agent(&server, "Ida Admin", "ida@test.example", "admin").await;
    let ida = Client::sign_in(&server, "ida@test.example").await;
    let sam = Client::sign_in(&server, "sam@test.example").await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let cached = |client: &Client| settings::cached_lock_policy(&client.account.cache).expect("cache read");
    sam.until("the first sync", |c| c.engine().status().last_sync_at.is_some()).await;
    assert_eq!(cached(&sam), None, "nothing on the feed before an admin sets it");

    settings::set_lock_policy(&ida.account.api, Some(30)).await.expect("an admin sets it");
    for app in [&sam, &sara, &ida] {
        app.until("the maximum arrives", |c| cached(c) == Some(Some(30))).await;
    }
    // What the desktop turns into the window's `cache_changed`: the window reads it again then.
    let told = |client: &Client| {
        client
            .events()
            .iter()
            .any(|e| matches!(e, Event::CacheChanged { kinds } if kinds.contains(&EntityKind::LockPolicy)))
    };
    assert!(told(&sam), "the running app is told the lock maximum changed: {:?}", sam.events());

    // Lowered while the apps run: no one signs in again, and each applies the shorter time.
    settings::set_lock_policy(&ida.account.api, Some(5)).await.expect("lowered");
    for app in [&sam, &sara] {
        app.until("the lowered maximum arrives", |c| cached(c) == Some(Some(5))).await;
    }
    assert_eq!(exports::effective_lock_minutes(30, Some(5)), 5, "a 30-minute choice now locks at 5");

    // A device signing in now has it from its first snapshot.
    let fresh = Client::sign_in(&server, "sam@test.example").await;
    fresh.until("the first sync", |c| c.engine().status().last_sync_at.is_some()).await;
    assert_eq!(cached(&fresh), Some(Some(5)), "the bootstrap carries it");

    // Lifted: the feed says so (the agent's own choice stands again), not "never heard of it".
    settings::set_lock_policy(&ida.account.api, None).await.expect("lifted");
    sam.until("the lifted maximum arrives", |c| cached(c) == Some(None)).await;
    assert_eq!(settings::lock_policy(&sam.account.api).await.expect("read"), None);
}
