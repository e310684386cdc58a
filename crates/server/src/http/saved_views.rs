//! Saved views: listed, created, renamed or refiltered, deleted (each idempotent on `client_id`).

use axum::extract::State;
use switchboard_proto::views::{
    CreateSavedView, DeleteSavedView, SavedView, SavedViewResult, UpdateSavedView,
};
use switchboard_proto::*;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path, Query},
    workspace::Viewer,
};

/// The caller's personal views and their teams' views, in creation order.
#[utoipa::path(get, path = "/api/v1/saved-views", tag = "views", security(("bearer" = [])),
    responses((status = 200, body = Vec<SavedView>), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<SavedView>>> {
    Ok(Json(state.workspace.saved_views(&viewer).await?))
}

/// Save a filter as a view: personal (no `team_id`) for anyone, team-wide for an admin or a lead
/// of that team. The view's id is `client_id`.
#[utoipa::path(post, path = "/api/v1/saved-views", tag = "views", security(("bearer" = [])),
    request_body = CreateSavedView,
    responses((status = 200, body = SavedViewResult), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateSavedView>,
) -> ApiResult<Json<SavedViewResult>> {
    Ok(Json(state.workspace.create_saved_view(&viewer, request).await?))
}

/// Rename a view or change its filter (a personal one: its owner; a team view: an admin or a lead
/// of the team).
#[utoipa::path(patch, path = "/api/v1/saved-views/{id}", tag = "views", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateSavedView,
    responses((status = 200, body = SavedViewResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<UpdateSavedView>,
) -> ApiResult<Json<SavedViewResult>> {
    Ok(Json(state.workspace.update_saved_view(&viewer, id, request).await?))
}

/// Delete a view (everyone who had it loses it through the feed).
#[utoipa::path(delete, path = "/api/v1/saved-views/{id}", tag = "views", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), DeleteSavedView),
    responses((status = 200, body = SavedViewResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Query(query): Query<DeleteSavedView>,
) -> ApiResult<Json<SavedViewResult>> {
    Ok(Json(state.workspace.delete_saved_view(&viewer, id, query.client_id).await?))
}
