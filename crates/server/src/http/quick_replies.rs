//! Quick replies from the app: personal ones made, changed, deleted; favourite slots; counted
//! insertions; a lead's promotion to team-wide. Each is idempotent on `client_id` and answers the
//! feed seq (the client's outbox sends them).

use axum::extract::State;
use switchboard_proto::quick_replies::{
    BindQuickReply, CreateQuickReply, QuickReplyMutation, QuickReplyResult, QuickReplyUsage, UpdateQuickReply,
};
use switchboard_proto::*;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path, Query},
    workspace::Viewer,
};

/// The caller's favourite slots and use counts (what the feed gives them as `quick_reply_usage`).
#[utoipa::path(get, path = "/api/v1/quick-replies/usage", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<QuickReplyUsage>), (status = 401, body = ErrorBody)))]
pub async fn usage(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<QuickReplyUsage>>> {
    Ok(Json(state.workspace.quick_reply_usages(&viewer).await?))
}

/// Add a personal quick reply; its id is `client_id`.
#[utoipa::path(post, path = "/api/v1/quick-replies", tag = "directory", security(("bearer" = [])),
    request_body = CreateQuickReply,
    responses((status = 200, body = QuickReplyResult), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateQuickReply>,
) -> ApiResult<Json<QuickReplyResult>> {
    Ok(Json(state.workspace.create_quick_reply(&viewer, request).await?))
}

/// Change a quick reply: one's own personal one, or a team-wide one for leads and admins.
#[utoipa::path(patch, path = "/api/v1/quick-replies/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateQuickReply,
    responses((status = 200, body = QuickReplyResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<UpdateQuickReply>,
) -> ApiResult<Json<QuickReplyResult>> {
    Ok(Json(state.workspace.update_quick_reply(&viewer, id, request).await?))
}

/// Delete a quick reply (one's own personal one, or a team-wide one for leads and admins).
#[utoipa::path(delete, path = "/api/v1/quick-replies/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), QuickReplyMutation),
    responses((status = 200, body = QuickReplyResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Query(query): Query<QuickReplyMutation>,
) -> ApiResult<Json<QuickReplyResult>> {
    Ok(Json(state.workspace.delete_quick_reply(&viewer, id, query.client_id).await?))
}

/// Bind a quick reply to a favourite slot (1–9, `Alt+slot` in the composer) or unbind it
/// (`null`); the reply that held the slot loses it.
#[utoipa::path(put, path = "/api/v1/quick-replies/{id}/slot", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = BindQuickReply,
    responses((status = 200, body = QuickReplyResult), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bind(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<BindQuickReply>,
) -> ApiResult<Json<QuickReplyResult>> {
    Ok(Json(state.workspace.bind_quick_reply(&viewer, id, request).await?))
}

/// Count one insertion of a quick reply (ranks the caller's list: recent and frequent first).
#[utoipa::path(post, path = "/api/v1/quick-replies/{id}/uses", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = QuickReplyMutation,
    responses((status = 200, body = QuickReplyResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn record_use(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<QuickReplyMutation>,
) -> ApiResult<Json<QuickReplyResult>> {
    Ok(Json(state.workspace.use_quick_reply(&viewer, id, request.client_id).await?))
}

/// Make one's own personal quick reply team-wide (leads and admins; audited).
#[utoipa::path(post, path = "/api/v1/quick-replies/{id}/promote", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = QuickReplyMutation,
    responses((status = 200, body = QuickReplyResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn promote(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<QuickReplyMutation>,
) -> ApiResult<Json<QuickReplyResult>> {
    Ok(Json(state.workspace.promote_quick_reply(&viewer, id, request.client_id).await?))
}
