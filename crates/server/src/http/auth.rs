//! Sign-in, devices and the caller's own profile.

use std::{collections::HashMap, net::SocketAddr, sync::Mutex};

use axum::{
    extract::{ConnectInfo, State},
    http::StatusCode,
};
use switchboard_proto::*;

use super::AppState;
use crate::{
    bus::BusEvent,
    error::{ApiError, ApiResult, Json, Path},
    workspace::Viewer,
};

/// Failed sign-ins allowed per email and address within [`WINDOW_MS`] before answering 429.
const MAX_FAILURES: u32 = 5;
const WINDOW_MS: Millis = 5 * 60 * 1000;

/// Counts failed sign-ins per (email, client address) in a sliding window.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<(String, String), (u32, Millis)>>,
}

impl LoginLimiter {
    fn key(email: &str, peer: &SocketAddr) -> (String, String) {
        (email.trim().to_lowercase(), peer.ip().to_string())
    }

    /// Seconds until this key may try again, if it is locked out now.
    fn locked_for(&self, key: &(String, String), now: Millis) -> Option<u64> {
        let failures = self.failures.lock().ok()?;
        let (count, since) = failures.get(key)?;
        let remaining = since + WINDOW_MS - now;
        (*count >= MAX_FAILURES && remaining > 0).then(|| (remaining as u64).div_ceil(1000))
    }

    fn failed(&self, key: (String, String), now: Millis) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.retain(|_, (_, since)| now - *since < WINDOW_MS);
            let entry = failures.entry(key).or_insert((0, now));
            entry.0 += 1;
        }
    }

    fn succeeded(&self, key: &(String, String)) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }
}

/// Sign in: trades an email and password for a device token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let now = state.clock.now();
    let key = LoginLimiter::key(&request.email, &peer);
    if let Some(secs) = state.login_limiter.locked_for(&key, now) {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many failed sign-ins; try again in {secs} s"),
        );
        error.retry_after_secs = Some(secs);
        return Err(error);
    }
    match state.workspace.login(request).await {
        Ok(response) => {
            state.login_limiter.succeeded(&key);
            Ok(Json(response))
        }
        Err(error) => {
            if error.code == ErrorCode::InvalidCredentials {
                state.login_limiter.failed(key, now);
            }
            Err(error.into())
        }
    }
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
    let agent = state.workspace.update_me(&viewer, update).await?;
    let online = state.connected.lock().map(|c| c.get(&agent.id).copied().unwrap_or(0) > 0).unwrap_or(false);
    state.workspace.bus().publish(BusEvent::Ephemeral {
        inbox_id: None,
        from_agent: agent.id,
        frame: ServerFrame::Presence { agent_id: agent.id, online, availability: agent.availability },
    });
    Ok(Json(agent))
}
