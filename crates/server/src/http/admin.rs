//! Directory reads for everyone, and workspace administration for admins and leads.

use axum::{extract::State, http::StatusCode};
use switchboard_proto::*;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path},
    workspace::Viewer,
};

async fn listing<T: serde::de::DeserializeOwned>(
    state: &AppState,
    viewer: &Viewer,
    kind: EntityKind,
) -> ApiResult<Json<Vec<T>>> {
    let rows = state.workspace.directory(viewer, kind).await?;
    let typed = rows.into_iter().map(serde_json::from_value).collect::<Result<_, _>>()?;
    Ok(Json(typed))
}

/// Every agent.
#[utoipa::path(get, path = "/api/v1/agents", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<Agent>), (status = 401, body = ErrorBody)))]
pub async fn agents(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<Agent>>> {
    listing(&state, &viewer, EntityKind::Agent).await
}

/// Add an agent (admin).
#[utoipa::path(post, path = "/api/v1/agents", tag = "admin", security(("bearer" = [])), request_body = CreateAgent,
    responses((status = 200, body = Agent), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_agent(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateAgent>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(state.workspace.create_agent(&viewer, request).await?))
}

/// Change an agent's role, teams, name or password, or deactivate them (admin). Deactivation
/// revokes all their devices.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateAgent,
    responses((status = 200, body = Agent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_agent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(update): Json<UpdateAgent>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(state.workspace.update_agent(&viewer, id, update).await?))
}

/// Sign an agent out of every device at once (admin); they stay active and may sign in again.
#[utoipa::path(delete, path = "/api/v1/agents/{id}/devices", tag = "admin", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DevicesSignedOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn sign_out_agent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<DevicesSignedOut>> {
    Ok(Json(DevicesSignedOut { devices: state.workspace.sign_out_agent(&viewer, id).await? }))
}

/// Every team.
#[utoipa::path(get, path = "/api/v1/teams", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<Team>), (status = 401, body = ErrorBody)))]
pub async fn teams(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<Team>>> {
    listing(&state, &viewer, EntityKind::Team).await
}

/// Add a team (admin).
#[utoipa::path(post, path = "/api/v1/teams", tag = "admin", security(("bearer" = [])), request_body = CreateTeam,
    responses((status = 200, body = Team), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateTeam>,
) -> ApiResult<Json<Team>> {
    Ok(Json(state.workspace.create_team(&viewer, request).await?))
}

/// Rename a team or set its members (admin).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateTeam,
    responses((status = 200, body = Team), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_team(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(update): Json<UpdateTeam>,
) -> ApiResult<Json<Team>> {
    Ok(Json(state.workspace.update_team(&viewer, id, update).await?))
}

/// Every inbox (membership decides whose conversations an agent sees).
#[utoipa::path(get, path = "/api/v1/inboxes", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<Inbox>), (status = 401, body = ErrorBody)))]
pub async fn inboxes(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<Inbox>>> {
    listing(&state, &viewer, EntityKind::Inbox).await
}

/// Add an inbox (admin); the answer carries its signing secret, shown only once.
#[utoipa::path(post, path = "/api/v1/inboxes", tag = "admin", security(("bearer" = [])), request_body = CreateInbox,
    responses((status = 200, body = CreatedInbox), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_inbox(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Json(request): Json<CreateInbox>,
) -> ApiResult<Json<CreatedInbox>> {
    let base = callback_base(&state, &headers);
    Ok(Json(state.workspace.create_inbox_calling_back(&viewer, request, base).await?))
}

/// The address a provider is to reach this server at, for a callback the server registers itself
/// (Telegram's `setWebhook`): `--public-url`, else the host the admin's request came to, over
/// https (Telegram takes nothing else).
fn callback_base(state: &AppState, headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(url) = &state.public_url {
        return Some(url.to_string());
    }
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?.trim();
    let plain = !host.is_empty() && !host.contains(['/', '@', ' ', '?', '#']);
    plain.then(|| format!("https://{host}"))
}

/// Change an inbox's name, webhook, members or templates (admin).
#[utoipa::path(patch, path = "/api/v1/inboxes/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateInbox,
    responses((status = 200, body = Inbox), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_inbox(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    headers: axum::http::HeaderMap,
    Json(update): Json<UpdateInbox>,
) -> ApiResult<Json<Inbox>> {
    let base = callback_base(&state, &headers);
    Ok(Json(state.workspace.update_inbox_calling_back(&viewer, id, update, base).await?))
}

/// Every label.
#[utoipa::path(get, path = "/api/v1/labels", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<Label>), (status = 401, body = ErrorBody)))]
pub async fn labels(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<Label>>> {
    listing(&state, &viewer, EntityKind::Label).await
}

/// Add a label (lead or admin).
#[utoipa::path(post, path = "/api/v1/labels", tag = "admin", security(("bearer" = [])), request_body = CreateLabel,
    responses((status = 200, body = Label), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_label(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateLabel>,
) -> ApiResult<Json<Label>> {
    Ok(Json(state.workspace.create_label(&viewer, request).await?))
}

/// Rename a label or change its colour (lead or admin). The name is kept as written; the
/// conversations carrying the label carry the new name.
#[utoipa::path(patch, path = "/api/v1/labels/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateLabel,
    responses((status = 200, body = Label), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_label(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(update): Json<UpdateLabel>,
) -> ApiResult<Json<Label>> {
    Ok(Json(state.workspace.update_label(&viewer, id, update).await?))
}

/// Delete a label, taking it off every conversation (lead or admin).
#[utoipa::path(delete, path = "/api/v1/labels/{id}", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_label(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.delete_label(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every service-level policy, in the order they are tried.
#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<switchboard_proto::sla::SlaPolicy>), (status = 401, body = ErrorBody)))]
pub async fn sla_policies(
    State(state): State<AppState>,
    _viewer: Viewer,
) -> ApiResult<Json<Vec<switchboard_proto::sla::SlaPolicy>>> {
    Ok(Json(state.workspace.sla_policies().await?))
}

/// Add a service-level policy (lead or admin). Conversations get it when a cycle starts, or at
/// their next change if it now matches first.
#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "admin", security(("bearer" = [])), request_body = SlaPolicyInput,
    responses((status = 200, body = switchboard_proto::sla::SlaPolicy), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_sla_policy(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<SlaPolicyInput>,
) -> ApiResult<Json<switchboard_proto::sla::SlaPolicy>> {
    Ok(Json(state.workspace.create_sla_policy(&viewer, request).await?))
}

/// Apply the policies now to every unresolved conversation without an SLA (lead or admin):
/// otherwise a policy reaches a conversation at its next change.
#[utoipa::path(post, path = "/api/v1/sla-policies/apply", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SlaApplied), (status = 403, body = ErrorBody)))]
pub async fn apply_sla_policies(
    State(state): State<AppState>,
    viewer: Viewer,
) -> ApiResult<Json<SlaApplied>> {
    Ok(Json(SlaApplied { conversations: state.workspace.apply_sla_policies(&viewer).await? }))
}

/// Replace a service-level policy (lead or admin).
#[utoipa::path(put, path = "/api/v1/sla-policies/{id}", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = SlaPolicyInput,
    responses((status = 200, body = switchboard_proto::sla::SlaPolicy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_sla_policy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<SlaPolicyInput>,
) -> ApiResult<Json<switchboard_proto::sla::SlaPolicy>> {
    Ok(Json(state.workspace.update_sla_policy(&viewer, id, request).await?))
}

/// Delete a service-level policy (lead or admin); conversations keep its name in their history.
#[utoipa::path(delete, path = "/api/v1/sla-policies/{id}", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_sla_policy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.delete_sla_policy(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Team-wide canned responses and the caller's personal ones.
#[utoipa::path(get, path = "/api/v1/canned-responses", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<CannedResponse>), (status = 401, body = ErrorBody)))]
pub async fn canned(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<CannedResponse>>> {
    listing(&state, &viewer, EntityKind::CannedResponse).await
}

/// Add a canned response: personal for anyone, team-wide for leads and admins.
#[utoipa::path(post, path = "/api/v1/canned-responses", tag = "directory", security(("bearer" = [])),
    request_body = CreateCannedResponse,
    responses((status = 200, body = CannedResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_canned(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateCannedResponse>,
) -> ApiResult<Json<CannedResponse>> {
    Ok(Json(state.workspace.create_canned(&viewer, request).await?))
}

/// Change a canned response (own personal ones; team-wide for leads and admins).
#[utoipa::path(patch, path = "/api/v1/canned-responses/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateCannedResponse,
    responses((status = 200, body = CannedResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_canned(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(update): Json<UpdateCannedResponse>,
) -> ApiResult<Json<CannedResponse>> {
    Ok(Json(state.workspace.update_canned(&viewer, id, update).await?))
}

/// Delete a canned response.
#[utoipa::path(delete, path = "/api/v1/canned-responses/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_canned(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.delete_canned(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
