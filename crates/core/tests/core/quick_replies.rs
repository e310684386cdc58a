//! The agent's own quick replies through the outbox: made, bound to a slot and used while offline
//! (shown at once, sent on reconnect), the binding reaching the agent's other device through the
//! feed, and a refused change rolled back.

use switchboard_core::quick_reply_actions as quick;
use switchboard_proto::quick_replies::QuickReplyUsage;
use switchboard_proto::*;

use crate::harness::*;

fn reply(client: &Client, id: Id) -> Option<CannedResponse> {
    client.account.cache.get(EntityKind::CannedResponse, id).expect("cache read")
}

fn usage(client: &Client, id: Id) -> Option<QuickReplyUsage> {
    client.account.cache.get(EntityKind::QuickReplyUsage, id).expect("cache read")
}

#[tokio::test]
async fn a_quick_reply_made_bound_and_used_offline_reaches_the_server_and_the_other_device() {
    let mut server = Server::start().await;
    let _workspace = Workspace::create(&server).await;
    let laptop = Client::sign_in(&server, "sara@test.example").await;
    let desktop = Client::sign_in(&server, "sara@test.example").await;
    laptop.until("connected", |c| c.account.cache.cursor().expect("cursor") > 0).await;

    // Offline: made, bound to slot 1 and inserted once. Each shows at once.
    server.kill().await;
    let create =
        quick::create("Thanks", "Thank you", "Thanks {{contact.name}}, we are on it.").expect("valid");
    let Some((_, id)) = create.touches().first().copied() else { panic!("touches the reply") };
    laptop.engine().queue(create).expect("queue");
    let shown = reply(&laptop, id).expect("shown before the server knows");
    assert_eq!((shown.short_code.as_str(), shown.owner_id), ("thanks", Some(laptop.me())));
    laptop.engine().queue(quick::bind(&laptop.account.cache, id, Some(1)).expect("valid")).expect("queue");
    laptop.engine().queue(quick::record_use(id)).expect("queue");
    let local = usage(&laptop, id).expect("usage shown");
    assert_eq!((local.slot, local.uses), (Some(1), 1));
    assert!(quick::bind(&laptop.account.cache, id, Some(10)).is_err(), "a slot past 9 is refused here");
    assert!(quick::create("two words", "t", "b").is_err(), "a bad short code is refused here");

    // Back online: the outbox drains, the server has all three, and the other device follows.
    server.restart().await;
    laptop.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    let stored = server.get(&laptop.token(), "/api/v1/canned-responses").await;
    assert!(stored.to_string().contains(&id.to_string()), "the server has it with its offline id: {stored}");
    let usages = server.get(&laptop.token(), "/api/v1/quick-replies/usage").await;
    assert_eq!(usages[0]["slot"], 1, "{usages}");
    assert_eq!(usages[0]["uses"], 1, "{usages}");
    desktop
        .until("the binding reaches the other device", |c| usage(c, id).and_then(|u| u.slot) == Some(1))
        .await;
    assert_eq!(reply(&desktop, id).map(|r| r.title), Some("Thank you".to_owned()));

    // A second reply takes slot 1; the first loses it at once, and on the other device too.
    let second = quick::create("bye", "Goodbye", "Bye!").expect("valid");
    let Some((_, second_id)) = second.touches().first().copied() else { panic!("touches") };
    laptop.engine().queue(second).expect("queue");
    laptop
        .engine()
        .queue(quick::bind(&laptop.account.cache, second_id, Some(1)).expect("valid"))
        .expect("queue");
    assert_eq!(usage(&laptop, id).and_then(|u| u.slot), None, "displaced at once");
    assert_eq!(usage(&laptop, second_id).and_then(|u| u.slot), Some(1));
    desktop
        .until("the slot moves on the other device", |c| {
            usage(c, second_id).and_then(|u| u.slot) == Some(1) && usage(c, id).and_then(|u| u.slot).is_none()
        })
        .await;

    // An agent's promotion is refused by the server: the reply goes back to personal.
    laptop.engine().queue(quick::promote(id)).expect("queue");
    laptop
        .until("the refusal rolls it back", |c| {
            c.account.cache.pending_count().expect("pending") == 0
                && reply(c, id).and_then(|r| r.owner_id) == Some(c.me())
        })
        .await;

    // Deleted offline-first: gone at once, and from the server.
    laptop.engine().queue(quick::delete(second_id)).expect("queue");
    assert!(reply(&laptop, second_id).is_none() && usage(&laptop, second_id).is_none());
    laptop.until("the outbox drains", |c| c.account.cache.pending_count().expect("pending") == 0).await;
    desktop.until("the deletion arrives", |c| reply(c, second_id).is_none()).await;
}
