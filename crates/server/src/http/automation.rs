//! Automation rules (leads and admins write them; everyone can read them, as the feed carries
//! them), their dry runs and their run log.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use switchboard_proto::{automation::*, *};
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path, Query},
    workspace::Viewer,
};

/// Every automation rule, in the order they run.
#[utoipa::path(get, path = "/api/v1/automation-rules", tag = "automation", security(("bearer" = [])),
    responses((status = 200, body = Vec<AutomationRule>), (status = 401, body = ErrorBody)))]
pub async fn rules(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<AutomationRule>>> {
    Ok(Json(state.workspace.automation_rules(&viewer).await?))
}

/// Add a rule (lead or admin). A reference to an unknown agent, team, label or inbox is refused
/// with the path of the bad node.
#[utoipa::path(post, path = "/api/v1/automation-rules", tag = "automation", security(("bearer" = [])),
    request_body = AutomationRuleInput,
    responses((status = 200, body = AutomationRule), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(input): Json<AutomationRuleInput>,
) -> ApiResult<Json<AutomationRule>> {
    Ok(Json(state.workspace.create_automation_rule(&viewer, input).await?))
}

/// Replace a rule with a new version (lead or admin).
#[utoipa::path(put, path = "/api/v1/automation-rules/{id}", tag = "automation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = AutomationRuleInput,
    responses((status = 200, body = AutomationRule), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(input): Json<AutomationRuleInput>,
) -> ApiResult<Json<AutomationRule>> {
    Ok(Json(state.workspace.update_automation_rule(&viewer, id, input).await?))
}

/// Delete a rule (lead or admin). Its run log stays until it ages out.
#[utoipa::path(delete, path = "/api/v1/automation-rules/{id}", tag = "automation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.delete_automation_rule(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Put the rules in the order they run (lead or admin): every rule's id, once.
#[utoipa::path(put, path = "/api/v1/automation-rules/order", tag = "automation", security(("bearer" = [])),
    request_body = RuleOrder,
    responses((status = 200, body = Vec<AutomationRule>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn order_rules(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(order): Json<RuleOrder>,
) -> ApiResult<Json<Vec<AutomationRule>>> {
    Ok(Json(state.workspace.order_automation_rules(&viewer, order).await?))
}

/// A dry run (lead or admin): the rule's condition trace on a conversation now, and what each
/// action would do. Writes nothing.
#[utoipa::path(post, path = "/api/v1/automation-rules/{id}/test", tag = "automation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = RuleTest,
    responses((status = 200, body = RuleTestResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(test): Json<RuleTest>,
) -> ApiResult<Json<RuleTestResult>> {
    Ok(Json(state.workspace.test_automation_rule(&viewer, id, test).await?))
}

/// Which of the latest conversations a rule's conditions (saved or not) hold for now (lead or
/// admin). Writes nothing.
#[utoipa::path(post, path = "/api/v1/automation-rules/preview", tag = "automation", security(("bearer" = [])),
    request_body = RulePreview,
    responses((status = 200, body = RulePreviewResult), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(preview): Json<RulePreview>,
) -> ApiResult<Json<RulePreviewResult>> {
    Ok(Json(state.workspace.preview_automation_rule(&viewer, preview).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// Only runs older than this run id (the next page).
    #[param(value_type = Option<String>, format = Uuid)]
    before: Option<Id>,
}

/// A rule's run log, newest first, 100 a page (lead or admin).
#[utoipa::path(get, path = "/api/v1/automation-rules/{id}/runs", tag = "automation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), RunsParams),
    responses((status = 200, body = Vec<AutomationRun>), (status = 403, body = ErrorBody)))]
pub async fn rule_runs(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Query(params): Query<RunsParams>,
) -> ApiResult<Json<Vec<AutomationRun>>> {
    Ok(Json(state.workspace.automation_runs(&viewer, Some(id), None, params.before).await?))
}

/// The rules that ran on a conversation, newest first, 100 a page.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/automation-runs", tag = "automation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), RunsParams),
    responses((status = 200, body = Vec<AutomationRun>), (status = 404, body = ErrorBody)))]
pub async fn conversation_runs(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Query(params): Query<RunsParams>,
) -> ApiResult<Json<Vec<AutomationRun>>> {
    Ok(Json(state.workspace.automation_runs(&viewer, None, Some(id), params.before).await?))
}
