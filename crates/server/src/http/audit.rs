//! The audit trail, for admins: read and verify only (there is no route that writes, changes or
//! deletes a row).

use axum::extract::State;
use serde::Deserialize;
use switchboard_proto::{audit::*, *};
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Query},
    workspace::{AuditQuery, Viewer},
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// An action (`agent.update`), or a prefix ending in a dot (`auth.`).
    action: Option<String>,
    #[param(value_type = Option<String>, format = Uuid)]
    actor_id: Option<Id>,
    #[param(value_type = Option<String>, format = Uuid)]
    target_id: Option<Id>,
    /// Who acted: `agent`, `routing`, `rule`, `contact` or `system`.
    actor_type: Option<String>,
    /// Rows at or after this time (ms since the epoch).
    from: Option<Millis>,
    /// Rows before this time (ms since the epoch).
    to: Option<Millis>,
    /// Only rows older than this seq (the next page).
    before: Option<i64>,
    /// At most this many rows (default 100, at most 1,000).
    limit: Option<usize>,
}

/// The trail, newest first (admins; anyone else is refused, and that is recorded too).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn log(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<AuditParams>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let query = AuditQuery {
        action: params.action,
        actor_id: params.actor_id,
        target_id: params.target_id,
        actor_type: params.actor_type,
        from: params.from,
        to: params.to,
        before: params.before,
        limit: params.limit.unwrap_or(100),
    };
    Ok(Json(state.workspace.audit_log(&viewer, query).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditExportParams {
    /// An action (`agent.update`), or a prefix ending in a dot (`auth.`).
    action: Option<String>,
    #[param(value_type = Option<String>, format = Uuid)]
    actor_id: Option<Id>,
    #[param(value_type = Option<String>, format = Uuid)]
    target_id: Option<Id>,
    /// Who acted: `agent`, `routing`, `rule`, `contact` or `system`.
    actor_type: Option<String>,
    /// Rows at or after this time (ms since the epoch).
    from: Option<Millis>,
    /// Rows before this time (ms since the epoch).
    to: Option<Millis>,
}

/// Every row the filters match, oldest first, hashes included (admins). The export is recorded
/// in the trail first (`export.audit`, with its filters): an unfiltered export ends with its own row.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", security(("bearer" = [])),
    params(AuditExportParams),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn export_log(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<AuditExportParams>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let query = AuditQuery {
        action: params.action,
        actor_id: params.actor_id,
        target_id: params.target_id,
        actor_type: params.actor_type,
        from: params.from,
        to: params.to,
        before: None,
        limit: usize::MAX,
    };
    Ok(Json(state.workspace.audit_export(&viewer, query).await?))
}

/// Whether the chain holds: every row numbered, linked and hashed as written (admins).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 403, body = ErrorBody)))]
pub async fn verify(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<AuditVerification>> {
    Ok(Json(state.workspace.verify_audit(Some(&viewer)).await?))
}
