//! Service levels beyond the policies: pinning a conversation's policy, and the attainment report.

use axum::extract::State;
use serde::Deserialize;
use switchboard_proto::{
    sla::{PinSla, SlaAttainment},
    *,
};
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path, Query},
    workspace::Viewer,
};

/// Pin a policy on the conversation, or `{"policy_id": null}` for no SLA (leads and admins). A
/// pinned conversation keeps its policy through later changes and reopens; another policy moves
/// the live clocks to its targets, keeping what they counted; `null` cancels the live clocks
/// (reason `removed`). A resolved conversation's SLA is final (422).
#[utoipa::path(put, path = "/api/v1/conversations/{id}/sla", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = PinSla,
    responses((status = 200, body = Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pin(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<PinSla>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(state.workspace.pin_sla(&viewer, id, request.policy_id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AttainmentParams {
    /// Clocks that started at or after this instant (Unix milliseconds).
    pub from: Millis,
    /// … and before this one; each is counted by where it stood then.
    pub to: Millis,
}

/// SLA attainment (leads and admins): the clocks that started in `[from, to)` in the inboxes the
/// caller sees, counted by outcome per metric, per agent and per team, with met ÷ (met + breached
/// + breached_closed).
#[utoipa::path(get, path = "/api/v1/sla/attainment", tag = "reports", security(("bearer" = [])), params(AttainmentParams),
    responses((status = 200, body = SlaAttainment), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attainment(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<AttainmentParams>,
) -> ApiResult<Json<SlaAttainment>> {
    Ok(Json(state.workspace.sla_attainment(&viewer, params.from, params.to).await?))
}
