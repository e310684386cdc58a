//! Export approval (an agent's transcript export from an inbox that holds exports: requested,
//! decided by a lead or admin, downloaded once) and the workspace's app-lock requirement.

use axum::{extract::State, http::StatusCode, response::Response};
use serde::Deserialize;
use switchboard_proto::{exports::*, *};
use utoipa::IntoParams;

use super::{conversations::transcript_response, AppState};
use crate::{
    error::{ApiResult, Json, Path, Query},
    workspace::Viewer,
};

/// Ask a lead to approve a transcript export (an agent, from an inbox whose exports need
/// approval; audited as `export.requested`).
#[utoipa::path(post, path = "/api/v1/export-requests", tag = "exports", security(("bearer" = [])),
    request_body = NewExportRequest,
    responses((status = 201, body = ExportRequest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_export_request(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<NewExportRequest>,
) -> ApiResult<(StatusCode, Json<ExportRequest>)> {
    Ok((StatusCode::CREATED, Json(state.workspace.request_export(&viewer, request).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportRequestsParams {
    /// Only the requests waiting for a decision.
    #[serde(default)]
    pub pending: Option<bool>,
}

/// Export requests, newest first: an agent's own, a lead's of the inboxes they see, all for an
/// admin.
#[utoipa::path(get, path = "/api/v1/export-requests", tag = "exports", security(("bearer" = [])), params(ExportRequestsParams),
    responses((status = 200, body = Vec<ExportRequest>), (status = 401, body = ErrorBody)))]
pub async fn export_requests(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<ExportRequestsParams>,
) -> ApiResult<Json<Vec<ExportRequest>>> {
    Ok(Json(state.workspace.export_requests(&viewer, params.pending.unwrap_or(false)).await?))
}

/// Approve or decline a pending export request (a lead who sees its inbox, or an admin; audited
/// as `export.approved` or `export.declined`). An approval lasts 24 hours.
#[utoipa::path(post, path = "/api/v1/export-requests/{id}/decision", tag = "exports", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = ExportDecision,
    responses((status = 200, body = ExportRequest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_export_request(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(decision): Json<ExportDecision>,
) -> ApiResult<Json<ExportRequest>> {
    Ok(Json(state.workspace.decide_export(&viewer, id, decision).await?))
}

/// The approved transcript, once, for its requester, within 24 hours of the approval (audited
/// as `export.transcript`); later, or a second time, `expired` (410).
#[utoipa::path(get, path = "/api/v1/export-requests/{id}/download", tag = "exports", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Transcript), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 410, body = ErrorBody)))]
pub async fn download_export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Response> {
    let (request, transcript) = state.workspace.download_export(&viewer, id).await?;
    transcript_response(&state, &viewer, transcript, request.format).await
}

/// The longest idle time before the app locks that an admin requires (`null`: the agent's own
/// choice). Every signed-in agent reads it.
#[utoipa::path(get, path = "/api/v1/settings/lock", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = LockPolicy), (status = 401, body = ErrorBody)))]
pub async fn lock_policy(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<LockPolicy>> {
    Ok(Json(state.workspace.lock_policy(&viewer).await?))
}

/// Require the app to lock after at most N idle minutes, or no longer (admin, audited as
/// `settings.lock`).
#[utoipa::path(put, path = "/api/v1/settings/lock", tag = "admin", security(("bearer" = [])), request_body = LockPolicy,
    responses((status = 200, body = LockPolicy), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_lock_policy(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(policy): Json<LockPolicy>,
) -> ApiResult<Json<LockPolicy>> {
    Ok(Json(state.workspace.set_lock_policy(&viewer, policy).await?))
}
