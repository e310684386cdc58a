//! Sign-in, devices and the caller's own profile.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::StatusCode,
};
use switchboard_proto::*;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path},
    workspace::Viewer,
};

/// Sign in: trades an email and password for a device token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    Ok(Json(state.workspace.login(request, &peer.ip().to_string()).await?))
}

/// Sign out this device: its token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> ApiResult<StatusCode> {
    state.workspace.revoke_device(&viewer, viewer.device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's signed-in devices (an admin sees everyone's).
#[utoipa::path(get, path = "/api/v1/devices", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<Device>), (status = 401, body = ErrorBody)))]
pub async fn devices(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<Device>>> {
    Ok(Json(state.workspace.devices(&viewer).await?))
}

/// Revoke a device (own, or anyone's for an admin); its streams close.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "device id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.revoke_device(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in agent.
#[utoipa::path(get, path = "/api/v1/me", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Agent), (status = 401, body = ErrorBody)))]
pub async fn me(viewer: Viewer) -> Json<Agent> {
    Json(viewer.agent)
}

/// Change the caller's name or availability.
#[utoipa::path(patch, path = "/api/v1/me", tag = "directory", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = Agent), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(update): Json<UpdateMe>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(state.workspace.update_me(&viewer, update).await?))
}
