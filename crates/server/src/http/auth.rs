//! Sign-in, devices and the caller's own profile.

use std::net::{IpAddr, SocketAddr};

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
    headers: axum::http::HeaderMap,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|value| value.to_str().ok());
    let client = client_address(peer.ip(), forwarded_for, &state.trusted_proxies);
    Ok(Json(state.workspace.login(request, &client.to_string()).await?))
}

/// The address a request came from: the peer's, unless the peer is a trusted proxy, in which case
/// the nearest address in `X-Forwarded-For` that isn't one (each proxy appends the address it was
/// called from, so addresses to the left of an untrusted one could be made up by the client).
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
        let (lb, client, other) =
            ("10.0.0.2".parse().expect("ip"), "203.0.113.7".parse().expect("ip"), "198.51.100.1");
        let trusted = [lb];
        assert_eq!(client_address(lb, Some("203.0.113.7"), &trusted), client);
        assert_eq!(client_address(client, Some(other), &trusted), client, "not a proxy: its own address");
        assert_eq!(client_address(lb, None, &trusted), lb);
        // A client's made-up hops to the left of the proxy's entry are ignored.
        assert_eq!(client_address(lb, Some("1.2.3.4, 203.0.113.7"), &trusted), client);
        // Proxies in a chain are skipped; rubbish stops the walk.
        assert_eq!(client_address(lb, Some("203.0.113.7, 10.0.0.2"), &trusted), client);
        assert_eq!(client_address(lb, Some("nonsense"), &trusted), lb);
        assert_eq!(client_address(lb, Some("203.0.113.7"), &[]), lb, "no proxy trusted");
    }
}

/// Sign out this device: its token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> ApiResult<StatusCode> {
    state.workspace.revoke_device(&viewer, viewer.device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Check the caller's password (the desktop's app lock unlocks with it). A wrong one answers
/// `invalid_credentials` and counts toward the sign-in rate limit of the same email and address.
#[utoipa::path(post, path = "/api/v1/me/verify-password", tag = "auth", security(("bearer" = [])),
    request_body = VerifyPassword,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn verify_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    viewer: Viewer,
    Json(request): Json<VerifyPassword>,
) -> ApiResult<StatusCode> {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|value| value.to_str().ok());
    let client = client_address(peer.ip(), forwarded_for, &state.trusted_proxies);
    state.workspace.verify_password(&viewer, request.password, &client.to_string()).await?;
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

/// Whether the caller signs in with a second factor, and how many recovery codes are left.
#[utoipa::path(get, path = "/api/v1/me/two-factor", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TwoFactorStatus), (status = 401, body = ErrorBody)))]
pub async fn two_factor(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<TwoFactorStatus>> {
    Ok(Json(state.workspace.two_factor_status(&viewer).await?))
}

/// Start enrolling a second factor: a secret and its `otpauth://` URI (for a QR code), shown
/// once; nothing changes at sign-in until a code confirms it.
#[utoipa::path(post, path = "/api/v1/me/two-factor", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TwoFactorEnrolment), (status = 409, body = ErrorBody)))]
pub async fn begin_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
) -> ApiResult<Json<TwoFactorEnrolment>> {
    Ok(Json(state.workspace.begin_two_factor(&viewer).await?))
}

/// Confirm the enrolment with a code from the authenticator: sign-ins then need one, and ten
/// recovery codes are answered, once.
#[utoipa::path(post, path = "/api/v1/me/two-factor/confirm", tag = "auth", security(("bearer" = [])),
    request_body = TwoFactorCode,
    responses((status = 200, body = TwoFactorConfirmed), (status = 422, body = ErrorBody)))]
pub async fn confirm_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(code): Json<TwoFactorCode>,
) -> ApiResult<Json<TwoFactorConfirmed>> {
    Ok(Json(state.workspace.confirm_two_factor(&viewer, code).await?))
}

/// Turn the second factor off, with a current code or a recovery code.
#[utoipa::path(delete, path = "/api/v1/me/two-factor", tag = "auth", security(("bearer" = [])),
    request_body = TwoFactorCode,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn disable_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(code): Json<TwoFactorCode>,
) -> ApiResult<StatusCode> {
    state.workspace.disable_two_factor(&viewer, code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an agent's second factor (admin), for one who lost both the authenticator and the
/// recovery codes.
#[utoipa::path(delete, path = "/api/v1/agents/{id}/two-factor", tag = "admin", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.reset_two_factor(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who must sign in with a second factor (the whole workspace, each agent) and who does (admin).
#[utoipa::path(get, path = "/api/v1/two-factor", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = TwoFactorOverview), (status = 403, body = ErrorBody)))]
pub async fn two_factor_overview(
    State(state): State<AppState>,
    viewer: Viewer,
) -> ApiResult<Json<TwoFactorOverview>> {
    Ok(Json(state.workspace.two_factor_overview(&viewer).await?))
}

/// Require a second factor of every agent, or no longer (admin). Agents without one enrol at
/// their next sign-in: until they do, that sign-in's token answers only enrolment and sign-out.
#[utoipa::path(put, path = "/api/v1/two-factor/required", tag = "admin", security(("bearer" = [])),
    request_body = TwoFactorRequirement,
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn require_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(requirement): Json<TwoFactorRequirement>,
) -> ApiResult<StatusCode> {
    state.workspace.require_two_factor(&viewer, requirement).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Require a second factor of one agent, or no longer in particular (admin).
#[utoipa::path(put, path = "/api/v1/agents/{id}/two-factor/required", tag = "admin",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = TwoFactorRequirement,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn require_agent_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(requirement): Json<TwoFactorRequirement>,
) -> ApiResult<StatusCode> {
    state.workspace.require_agent_two_factor(&viewer, id, requirement).await?;
    Ok(StatusCode::NO_CONTENT)
}
