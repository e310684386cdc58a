//! A thread whose history has not arrived yet (a priority bootstrap's backfill is still under
//! way): its messages fetched on demand, a page at a time, newest first, into the cache — which
//! stays the one thing the UI reads (`cache/backfill.rs` keeps the newer version of every row).

use switchboard_proto::*;

use crate::{
    api::ApiClient,
    cache::{backfill::ThreadHistory, Applied, Cache},
    error::CoreResult,
};

/// Messages fetched per page on demand.
pub const PAGE: usize = 50;

/// Fetches the next older page of a thread if its history is incomplete in the cache; answers
/// where the thread stands afterwards and what changed.
pub async fn fetch_older(
    api: &ApiClient,
    cache: &Cache,
    conversation_id: Id,
) -> CoreResult<(ThreadHistory, Applied)> {
    let ThreadHistory::Partial(before) = cache.thread_history(conversation_id)? else {
        return Ok((ThreadHistory::Complete, Applied::default()));
    };
    let page = api.history(conversation_id, before, PAGE).await?;
    let applied = cache.apply_history(conversation_id, &page)?;
    Ok((cache.thread_history(conversation_id)?, applied))
}
