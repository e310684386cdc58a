//! The thread view's window on a conversation: a page or a few of its messages, never the whole
//! thread. It opens on the newest page (or around a message a search found), grows a page at a time
//! as the agent scrolls up or back down, and is read again as one range when something in it
//! changes. Every read is an index range on the cache's `(conversation_id, created_at)`
//! (`Cache::{thread_page, thread_page_after, thread_range}`), so a 10,000-message thread opens as
//! fast as a short one.
//!
//! While a fresh device's history is still arriving, a page the cache can't vouch for is fetched
//! on demand first (`history::fetch_older`, newest first, into the cache), and the page is then
//! read from the cache like any other: the cache stays the one thing the UI reads. The cache vouches
//! for a page when the thread's history is complete, or when the on-demand fetches have reached at
//! or below the page's oldest message and the page is full.

use switchboard_proto::*;

use crate::{
    api::ApiClient,
    cache::{backfill::ThreadHistory, Cache},
    error::CoreResult,
    history,
};

/// Messages per page of the thread view.
pub const PAGE: usize = 50;
/// The most messages one read of a loaded window answers (the UI keeps far fewer).
pub const MAX_WINDOW: usize = 500;
/// On-demand history fetches one page read may make before it answers what the cache has.
const MAX_FETCHES: usize = 6;

/// What lies before a window's oldest message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Older {
    /// Nothing: the window starts at the conversation's first message.
    None,
    /// Older messages are in the cache.
    Cached,
    /// The cache has no older messages yet but the server may (the history is still arriving).
    Remote,
}

/// A run of a thread's messages, oldest first, and what lies on either side of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub messages: Vec<Message>,
    pub older: Older,
    /// Newer messages exist past the window's newest (it is not at the live end).
    pub newer: bool,
    /// Pages of history fetched from the server to answer this read.
    pub fetched: usize,
}

/// The cursor a message has in its thread's order.
pub fn cursor_of(message: &Message) -> HistoryCursor {
    HistoryCursor { created_at: message.created_at, id: message.id }
}

/// The newest page, fetched on demand first if the cache can't vouch for it (offline, whatever
/// the cache has).
pub async fn newest(api: &ApiClient, cache: &Cache, conversation_id: Id, limit: usize) -> CoreResult<Window> {
    let (messages, fetched) = page_before(api, cache, conversation_id, None, limit, false).await?;
    at_live_end(cache, conversation_id, window(cache, conversation_id, messages, None, fetched)?)
}

/// The page before `before` (exclusive) as the agent scrolls up, fetched on demand first if the
/// cache can't vouch for it. Offline, the cache's page (an error only when it has none).
pub async fn older(
    api: &ApiClient,
    cache: &Cache,
    conversation_id: Id,
    before: HistoryCursor,
    limit: usize,
) -> CoreResult<Window> {
    let (messages, fetched) = page_before(api, cache, conversation_id, Some(before), limit, true).await?;
    let first = messages.first().map(cursor_of).unwrap_or(before);
    Ok(Window { older: older_than(cache, conversation_id, Some(first))?, newer: true, messages, fetched })
}

/// The page after `after` (exclusive) as the agent scrolls back down after a jump: the newer
/// messages are all cached (the live feed and the snapshot bring the newest first).
pub fn newer(cache: &Cache, conversation_id: Id, after: HistoryCursor, limit: usize) -> CoreResult<Window> {
    let messages = cache.thread_page_after(conversation_id, after, limit)?;
    let last = messages.last().map(cursor_of).unwrap_or(after);
    Ok(Window {
        newer: !cache.thread_page_after(conversation_id, last, 1)?.is_empty(),
        older: Older::Cached,
        messages,
        fetched: 0,
    })
}

/// What is loaded, read again after a change: `from` to `to` (`None`: through the newest, so a
/// new message joins a window at the live end). An empty thread's window is its newest page.
pub fn range(
    cache: &Cache,
    conversation_id: Id,
    from: HistoryCursor,
    to: Option<HistoryCursor>,
) -> CoreResult<Window> {
    let messages = cache.thread_range(conversation_id, from, to, MAX_WINDOW)?;
    let messages = if messages.is_empty() && to.is_none() {
        cache.thread_page(conversation_id, None, PAGE)?
    } else {
        messages
    };
    let window = window(cache, conversation_id, messages, None, 0)?;
    if to.is_some() {
        return Ok(window);
    }
    at_live_end(cache, conversation_id, window)
}

/// A window at the live end ends with the messages still in the outbox, whatever this device's
/// clock gave them (behind the server's, they would otherwise sort above the window, out of it).
fn at_live_end(cache: &Cache, conversation_id: Id, mut window: Window) -> CoreResult<Window> {
    if window.newer {
        return Ok(window);
    }
    let pending = cache.pending_messages(conversation_id)?;
    if !pending.is_empty() {
        window.messages.retain(|m| !pending.iter().any(|p| p.id == m.id));
        window.messages.extend(pending);
    }
    Ok(window)
}

/// The window around a message (a search hit): up to `limit / 2` messages before it, the message,
/// and the rest after it. `None` when the cache doesn't hold the message in this conversation.
pub fn around(
    cache: &Cache,
    conversation_id: Id,
    message_id: Id,
    limit: usize,
) -> CoreResult<Option<Window>> {
    let Some((conversation, at)) = cache.message_place(message_id)? else { return Ok(None) };
    if conversation != conversation_id {
        return Ok(None);
    }
    let mut messages = cache.thread_page(conversation_id, Some(at), limit / 2)?;
    let after = limit.saturating_sub(messages.len() + 1);
    let to = match after {
        0 => at,
        _ => cache.thread_page_after(conversation_id, at, after)?.last().map_or(at, cursor_of),
    };
    messages.extend(cache.thread_range(conversation_id, at, Some(to), after + 1)?);
    Ok(Some(window(cache, conversation_id, messages, Some(at), 0)?))
}

/// A window over `messages` with what lies on either side, read from the cache.
fn window(
    cache: &Cache,
    conversation_id: Id,
    messages: Vec<Message>,
    empty_at: Option<HistoryCursor>,
    fetched: usize,
) -> CoreResult<Window> {
    let first = messages.first().map(cursor_of).or(empty_at);
    let newer = match messages.last() {
        Some(last) => !cache.thread_page_after(conversation_id, cursor_of(last), 1)?.is_empty(),
        None => false,
    };
    Ok(Window { older: older_than(cache, conversation_id, first)?, newer, messages, fetched })
}

/// What lies before `first` (`None`: an empty window).
fn older_than(cache: &Cache, conversation_id: Id, first: Option<HistoryCursor>) -> CoreResult<Older> {
    if let Some(first) = first {
        if !cache.thread_page(conversation_id, Some(first), 1)?.is_empty() {
            return Ok(Older::Cached);
        }
    }
    Ok(match cache.thread_history(conversation_id)? {
        ThreadHistory::Complete => Older::None,
        ThreadHistory::Partial(_) => Older::Remote,
    })
}

/// The cache's page before `before`, after fetching history pages on demand until the cache
/// vouches for it (at most [`MAX_FETCHES`]). A failed fetch answers the cache's page if it has
/// one (offline, the agent reads what is there); with `strict`, an empty one is the error.
async fn page_before(
    api: &ApiClient,
    cache: &Cache,
    conversation_id: Id,
    before: Option<HistoryCursor>,
    limit: usize,
    strict: bool,
) -> CoreResult<(Vec<Message>, usize)> {
    let mut fetched = 0;
    loop {
        let page = cache.thread_page(conversation_id, before, limit)?;
        let vouched = match cache.thread_history(conversation_id)? {
            ThreadHistory::Complete => true,
            ThreadHistory::Partial(None) => false,
            ThreadHistory::Partial(Some(reached)) => {
                page.len() == limit
                    && page.first().is_some_and(|m| cursor_key(cursor_of(m)) >= cursor_key(reached))
            }
        };
        if vouched || fetched >= MAX_FETCHES {
            return Ok((page, fetched));
        }
        match history::fetch_older(api, cache, conversation_id).await {
            Ok(_) => fetched += 1,
            Err(error) if strict && page.is_empty() => return Err(error),
            Err(_) => return Ok((page, fetched)),
        }
    }
}

/// The order of the thread: time, then id as the cache and the server compare it.
fn cursor_key(cursor: HistoryCursor) -> (i64, String) {
    (cursor.created_at, cursor.id.to_string())
}
