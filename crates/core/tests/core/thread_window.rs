//! The thread view's window (`switchboard_core::thread_window`): a long thread read a page at a
//! time in both directions and read again as a range, jumped into around a message, and on a fresh
//! device whose history is still arriving, fetched on demand into the cache page by page — offline,
//! what the cache has.

use std::time::Duration;

use switchboard_core::{
    cache::backfill::ThreadHistory,
    thread_window::{self, cursor_of, Older, Window},
};
use switchboard_proto::*;

use crate::harness::*;

const MESSAGES: usize = 120;

/// One conversation of `count` customer messages from `contact`, "{contact} 0" first (the clock
/// moved a millisecond between them, so the thread's order is the order they were sent in).
async fn thread_of(server: &Server, workspace: &Workspace, contact: &str, count: usize) -> Id {
    let mut id = None;
    for n in 0..count {
        server.clock.advance(1);
        let sent = server
            .inbound(&workspace.whatsapp, contact, &format!("{contact}{n}"), &format!("{contact} {n}"))
            .await;
        id = Some(sent.conversation_id);
    }
    id.expect("a message")
}

async fn long_thread(server: &Server, workspace: &Workspace) -> Id {
    thread_of(server, workspace, "message", MESSAGES).await
}

fn bodies(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.body.clone()).collect()
}

/// Scrolls up from `window` to the first message; answers the whole thread as read and the
/// windows each step answered.
async fn walk_up(client: &Client, id: Id, mut window: Window) -> (Vec<Message>, Vec<Window>) {
    let (api, cache) = (&client.account.api, &client.account.cache);
    let mut all = window.messages.clone();
    let mut steps = Vec::new();
    while window.older != Older::None {
        assert!(steps.len() < MESSAGES, "scrolling up never reached the first message");
        let before = cursor_of(all.first().expect("a message"));
        window = thread_window::older(api, cache, id, before, thread_window::PAGE).await.expect("older");
        assert!(window.newer, "a page above the window has newer messages after it");
        assert!(window.messages.len() <= thread_window::PAGE);
        let mut grown = window.messages.clone();
        grown.append(&mut all);
        all = grown;
        steps.push(window.clone());
    }
    (all, steps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_thread_is_read_a_page_at_a_time() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let id = long_thread(&server, &workspace).await;
    let client = Client::sign_in(&server, "sara@test.example").await;
    client
        .until("the whole history is cached", |c| {
            c.account.cache.backfill().expect("backfill").is_none()
                && c.account.cache.thread(id).expect("thread").len() == MESSAGES
        })
        .await;
    let (api, cache) = (&client.account.api, &client.account.cache);
    let everything = bodies(&cache.thread(id).expect("thread"));

    // Opening reads the newest page only, and nothing from the server: the cache is complete.
    let newest = thread_window::newest(api, cache, id, thread_window::PAGE).await.expect("newest");
    assert_eq!(newest.messages.len(), thread_window::PAGE);
    assert_eq!(newest.messages.last().map(|m| m.body.as_str()), Some("message 119"));
    assert_eq!((newest.older, newest.newer, newest.fetched), (Older::Cached, false, 0));

    // Scrolling up walks to the first message, each message once, in the thread's order.
    let (read, steps) = walk_up(&client, id, newest.clone()).await;
    assert_eq!(bodies(&read), everything);
    assert_eq!(steps.len(), 2, "120 messages are three pages");
    assert!(steps.iter().all(|w| w.fetched == 0));

    // A jump to a message in the middle loads around it; scrolling down walks back to the newest.
    let middle = read[60].id;
    let around =
        thread_window::around(cache, id, middle, thread_window::PAGE).expect("around").expect("found");
    assert_eq!(around.messages.len(), thread_window::PAGE);
    assert_eq!(around.messages[thread_window::PAGE / 2].id, middle, "the message in the middle");
    assert_eq!((around.older, around.newer), (Older::Cached, true));
    let mut below = around.messages.clone();
    let mut window = around;
    while window.newer {
        let after = cursor_of(below.last().expect("a message"));
        window = thread_window::newer(cache, id, after, thread_window::PAGE).expect("newer");
        below.extend(window.messages.iter().cloned());
    }
    assert_eq!(bodies(&below), everything[35..].to_vec());
    assert!(thread_window::around(cache, id, Id::new_v4(), 10).expect("around").is_none());

    // A new message joins a window at the live end when it is read again; a window that ends
    // before the newest keeps its end.
    let from = cursor_of(&newest.messages[0]);
    let to = cursor_of(newest.messages.last().expect("a message"));
    server.clock.advance(1);
    server.inbound(&workspace.whatsapp, "message", "l-new", "a new one").await;
    client
        .until("the new message arrived", |c| c.account.cache.thread(id).expect("thread").len() > MESSAGES)
        .await;
    let live = thread_window::range(cache, id, from, None).expect("range");
    assert_eq!(live.messages.len(), thread_window::PAGE + 1);
    assert_eq!(live.messages.last().map(|m| m.body.as_str()), Some("a new one"));
    assert_eq!((live.older, live.newer), (Older::Cached, false));
    let fixed = thread_window::range(cache, id, from, Some(to)).expect("range");
    assert_eq!(bodies(&fixed.messages), bodies(&newest.messages));
    assert!(fixed.newer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_whose_history_has_not_arrived_is_fetched_as_it_is_scrolled() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let id = long_thread(&server, &workspace).await;
    let mut client = Client::sign_in(&server, "sara@test.example").await;
    // A fresh device that has the priority snapshot and nothing of the history behind it yet.
    client.engine.take().expect("engine").shutdown().await;
    client.account.cache.reset_feed().expect("reset");
    let (api, cache) = (client.account.api.clone(), client.account.cache.clone());
    let snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    cache.apply_snapshot(&snapshot).expect("snapshot");
    assert_eq!(cache.thread(id).expect("thread").len(), 30, "the snapshot holds the last page");
    assert_eq!(cache.thread_history(id).expect("history"), ThreadHistory::Partial(None));

    // Opening fetches the newest page first (the cache can't vouch for it yet) and reads it from
    // the cache; what lies above is on the server.
    let newest = thread_window::newest(&api, &cache, id, thread_window::PAGE).await.expect("newest");
    assert_eq!(newest.fetched, 1);
    assert_eq!(newest.messages.len(), thread_window::PAGE);
    assert_eq!(newest.messages.last().map(|m| m.body.as_str()), Some("message 119"));
    assert_eq!(newest.older, Older::Remote, "nothing older cached, more on the server");

    // Scrolling up fetches the rest on demand, page by page, until the first message.
    let (read, steps) = walk_up(&client, id, newest).await;
    let expected: Vec<String> = (0..MESSAGES).map(|n| format!("message {n}")).collect();
    assert_eq!(bodies(&read), expected, "the whole thread, each message once, in order");
    assert!(steps.iter().any(|w| w.fetched > 0), "older pages came from the server");
    assert_eq!(cache.thread_history(id).expect("history"), ThreadHistory::Complete);
    assert_eq!(cache.thread(id).expect("thread").len(), MESSAGES, "the cache holds what was read");

    // Offline, a thread not fetched yet opens on what the cache has; scrolling up says why not.
    let other = thread_of(&server, &workspace, "other", 40).await;
    client.account.cache.reset_feed().expect("reset");
    let snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    cache.apply_snapshot(&snapshot).expect("snapshot");
    server.kill().await;
    let offline = tokio::time::timeout(
        Duration::from_secs(30),
        thread_window::newest(&api, &cache, other, thread_window::PAGE),
    )
    .await
    .expect("answers")
    .expect("the cache's page");
    assert_eq!(offline.messages.len(), 30);
    assert_eq!((offline.older, offline.fetched), (Older::Remote, 0));
    let before = cursor_of(&offline.messages[0]);
    let error = thread_window::older(&api, &cache, other, before, thread_window::PAGE)
        .await
        .expect_err("nothing older cached and the server unreachable");
    assert_eq!(error.code(), "offline");
}

/// A thread whose messages all carry one timestamp (the server's clock did not move while they
/// came: a burst, or a frozen test clock) pages by `(created_at, id)`: every page moves past the
/// last, in both directions, on a complete cache and on a fresh device fetching it on demand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_whose_messages_share_one_instant_is_paged_through() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    server.clock.hold();
    let mut id = None;
    for n in 0..MESSAGES {
        let sent =
            server.inbound(&workspace.whatsapp, "tied", &format!("tied{n}"), &format!("tied {n}")).await;
        id = Some(sent.conversation_id);
    }
    server.clock.release();
    let id = id.expect("a message");
    let mut client = Client::sign_in(&server, "sara@test.example").await;
    client
        .until("the whole history is cached", |c| {
            c.account.cache.backfill().expect("backfill").is_none()
                && c.account.cache.thread(id).expect("thread").len() == MESSAGES
        })
        .await;
    let (api, cache) = (client.account.api.clone(), client.account.cache.clone());
    let everything = cache.thread(id).expect("thread");
    let instants: std::collections::BTreeSet<i64> = everything.iter().map(|m| m.created_at).collect();
    assert_eq!(instants.len(), 1, "every message at one instant");
    // Ties are ordered by id, and the server's ids grow in the order the messages came.
    let everything: Vec<String> = (0..MESSAGES).map(|n| format!("tied {n}")).collect();

    // Up from the newest page: three pages, each message once, in the cache's order.
    let newest = thread_window::newest(&api, &cache, id, thread_window::PAGE).await.expect("newest");
    assert_eq!(newest.messages.len(), thread_window::PAGE);
    assert_eq!((newest.older, newest.newer), (Older::Cached, false));
    let (read, steps) = walk_up(&client, id, newest).await;
    assert_eq!(bodies(&read), everything, "each message once, in order");
    assert_eq!(steps.len(), 2, "120 messages are three pages");

    // Down from the first page back to the newest, each message once.
    let first = thread_window::range(
        &cache,
        id,
        cursor_of(&read[0]),
        Some(cursor_of(&read[thread_window::PAGE - 1])),
    )
    .expect("range");
    assert_eq!(first.messages.len(), thread_window::PAGE);
    assert_eq!((first.older, first.newer), (Older::None, true));
    let mut below = first.messages.clone();
    let mut window = first;
    while window.newer {
        assert!(below.len() <= MESSAGES, "scrolling down never reached the newest message");
        let after = cursor_of(below.last().expect("a message"));
        window = thread_window::newer(&cache, id, after, thread_window::PAGE).expect("newer");
        assert!(!window.messages.is_empty(), "a page below the window is never empty while newer ones exist");
        below.extend(window.messages.iter().cloned());
    }
    assert_eq!(bodies(&below), everything);

    // A fresh device fetches the tied history on demand, page by page, to the first message.
    client.engine.take().expect("engine").shutdown().await;
    cache.reset_feed().expect("reset");
    let snapshot = api.bootstrap().await.expect("bootstrap").expect("snapshot");
    cache.apply_snapshot(&snapshot).expect("snapshot");
    assert_eq!(cache.thread_history(id).expect("history"), ThreadHistory::Partial(None));
    let newest = thread_window::newest(&api, &cache, id, thread_window::PAGE).await.expect("newest");
    assert_eq!(newest.older, Older::Remote);
    let (read, steps) = walk_up(&client, id, newest).await;
    assert_eq!(bodies(&read), everything, "the whole thread from the server, each message once, in order");
    assert!(steps.iter().any(|w| w.fetched > 0), "older pages came from the server");
    assert_eq!(cache.thread_history(id).expect("history"), ThreadHistory::Complete);
}
