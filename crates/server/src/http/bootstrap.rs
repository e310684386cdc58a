//! A fresh device's priority bootstrap, the history backfilled behind it, and a thread's history
//! on demand (the domain is `workspace/bootstrap.rs`).

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use switchboard_proto::*;
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiError, ApiResult, Json, Path, Query},
    workspace::Viewer,
};

/// Largest backfill or history page one request returns.
pub const MAX_PAGE: usize = 1000;

fn page_limit(limit: Option<usize>, default: usize) -> ApiResult<usize> {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
            "limit must be 1 to 1000",
        ));
    }
    Ok(limit)
}

/// What a fresh device needs first, consistent with one feed position: the directory, the open
/// and recently active conversations with their contacts and read markers, and the last page of
/// the most recent threads. Follow the feed from `next`; backfill the rest with `upto=next`.
#[utoipa::path(get, path = "/api/v1/sync/bootstrap", tag = "feed", security(("bearer" = [])),
    responses((status = 200, body = BootstrapSnapshot), (status = 401, body = ErrorBody)))]
pub async fn bootstrap(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<BootstrapSnapshot>> {
    Ok(Json(state.workspace.bootstrap(&viewer).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BackfillParams {
    /// The snapshot's position S (its `next`).
    pub upto: i64,
    /// The snapshot's `check`: a feed that no longer has S is answered `feed_rewound` (409).
    #[serde(default)]
    pub check: Option<String>,
    /// Only changes below this seq (the last page's `next`); absent: from S down.
    #[serde(default)]
    pub before: Option<i64>,
    /// At most this many changes (1 to 1000, default 500).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of the history at or before S that the snapshot may not have carried, newest change
/// first. Each change is the entity's version at S; entities changed since are left out (the feed
/// after S carries them).
#[utoipa::path(get, path = "/api/v1/sync/backfill", tag = "feed", security(("bearer" = [])), params(BackfillParams),
    responses((status = 200, body = BackfillPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`feed_rewound`: bootstrap again", body = ErrorBody)))]
pub async fn backfill(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<BackfillParams>,
) -> ApiResult<Json<BackfillPage>> {
    if params.upto < 0 || params.before.is_some_and(|b| b < 0) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
            "upto and before must be >= 0",
        ));
    }
    let limit = page_limit(params.limit, 500)?;
    let before = params.before.unwrap_or(i64::MAX);
    Ok(Json(state.workspace.backfill(&viewer, params.upto, params.check, before, limit).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryParams {
    /// With `before_id`: only messages older than this one (a page's `older`).
    #[serde(default)]
    pub before_at: Option<i64>,
    #[serde(default)]
    pub before_id: Option<uuid::Uuid>,
    /// At most this many messages (1 to 1000, default 30).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of a thread's messages, newest first: what a device whose history has not arrived yet
/// shows when the agent opens (or scrolls up) the conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/history", tag = "feed", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<uuid::Uuid>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let before = match (params.before_at, params.before_id) {
        (Some(created_at), Some(id)) => Some(HistoryCursor { created_at, id }),
        (None, None) => None,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidQuery,
                "before_at and before_id go together",
            ))
        }
    };
    let limit = page_limit(params.limit, 30)?;
    Ok(Json(state.workspace.thread_history(&viewer, id, before, limit).await?))
}
