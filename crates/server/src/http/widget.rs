//! The website chat widget's HTTP edge: the script a team embeds (`GET /widget/{inbox_id}.js`,
//! `crates/server/assets/widget.js`), the visitor endpoints under `/api/v1/widget/{inbox_id}/` (a session, the
//! conversation, sending text and files, "seen", leaving an email), the live channel (`live.rs`,
//! Server-Sent Events) and the origin check (`cors.rs`). The domain half is
//! `workspace/widget.rs`; the connector (what the delivery job calls) `connectors/widget.rs`.
//!
//! A visitor authenticates with the token their session gave them (`Authorization: Bearer`),
//! which names one visitor of one inbox: a token of another inbox, unknown or expired is 401.

pub mod cors;
pub mod live;

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::{ConnectInfo, Multipart, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use switchboard_proto::*;

use crate::{
    connectors::widget as connector,
    error::{ApiError, ApiResult, Json, Path, Query},
    http::{
        auth::client_address,
        files::{self, clean_content_type, clean_file_name},
        AppState,
    },
    workspace::{StoredFile, Visitor, VisitorMessage, WidgetSession},
};

/// The script, with `__SWITCHBOARD_INBOX__` standing for the inbox's id.
const SCRIPT: &str = include_str!("../../assets/widget.js");

/// `POST /api/v1/widget/{id}/session`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The token of the session to resume (kept by the browser); absent to start one.
    #[serde(default)]
    pub token: Option<String>,
}

/// `POST /api/v1/widget/{id}/messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorSend {
    /// Made by the page for this message: a retried send is stored once.
    #[schema(value_type = String, format = Uuid)]
    pub client_id: Id,
    pub body: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VisitorUpload {
    /// Made by the page for this file: a retried upload is stored once.
    #[param(value_type = String, format = Uuid)]
    pub client_id: Id,
}

/// `POST /api/v1/widget/{id}/seen`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorSeen {
    #[schema(value_type = Vec<String>)]
    pub message_ids: Vec<Id>,
    /// `delivered` (the page has them) or `read` (they were shown).
    pub state: DeliveryState,
}

/// `POST /api/v1/widget/{id}/email`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorEmail {
    pub email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VisitorSent {
    #[schema(value_type = String, format = Uuid)]
    pub message_id: Id,
    /// False when the `client_id` was seen before (nothing new was stored).
    pub created: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeenResult {
    /// How many replies moved forward.
    pub moved: usize,
}

/// The visitor the request's bearer token names on this inbox.
async fn visitor(state: &AppState, inbox_id: Id, headers: &HeaderMap) -> ApiResult<(Visitor, String)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| ApiError::unauthorized("missing the visitor's bearer token"))?;
    let visitor = state.workspace.widget_visitor(inbox_id, token.clone()).await?;
    Ok((visitor, token))
}

/// The widget's script for one inbox: plain JavaScript, no framework, cached for five minutes.
/// Any page may load it; only the inbox's allowed origins may then use the visitor endpoints.
pub async fn script(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(inbox_id) = file.strip_suffix(".js").and_then(|id| id.parse::<Id>().ok()) else {
        return ApiError::not_found("widget").into_response();
    };
    if let Err(refusal) = state.workspace.widget_settings(inbox_id).await {
        return ApiError::from(refusal).into_response();
    }
    let body = SCRIPT.replace("__SWITCHBOARD_INBOX__", &inbox_id.to_string());
    Response::builder()
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=300")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(body))
        .unwrap_or_else(|e| ApiError::internal(e).into_response())
}

/// Starts a visitor's session, or resumes the one `token` names (401 when it is unknown or
/// expired). New sessions are limited per address (429).
#[utoipa::path(post, path = "/api/v1/widget/{id}/session", tag = "widget", operation_id = "widget_session", params(("id" = uuid::Uuid, Path)),
    request_body = SessionRequest,
    responses((status = 200, body = WidgetSession), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(request): Json<SessionRequest>,
) -> ApiResult<Json<WidgetSession>> {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|value| value.to_str().ok());
    let client = client_address(peer.ip(), forwarded_for, &state.trusted_proxies);
    Ok(Json(state.workspace.widget_session(inbox_id, request.token, client.to_string()).await?))
}

/// The visitor's conversation: their messages and the replies sent to them, oldest first.
#[utoipa::path(get, path = "/api/v1/widget/{id}/messages", tag = "widget", operation_id = "widget_messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<VisitorMessage>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<VisitorMessage>>> {
    let (visitor, _) = visitor(&state, inbox_id, &headers).await?;
    Ok(Json(state.workspace.widget_thread(visitor).await?))
}

/// The visitor writes: stored through the inbound path every channel uses, once per `client_id`.
#[utoipa::path(post, path = "/api/v1/widget/{id}/messages", tag = "widget", operation_id = "widget_send", params(("id" = uuid::Uuid, Path)),
    request_body = VisitorSend,
    responses((status = 200, body = VisitorSent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
    Json(request): Json<VisitorSend>,
) -> ApiResult<Json<VisitorSent>> {
    let (visitor, token) = visitor(&state, inbox_id, &headers).await?;
    if request.body.trim().is_empty() {
        return Err(ApiError::validation("a message needs some text"));
    }
    let result = state.workspace.widget_send(visitor, token, request.client_id, request.body, vec![]).await?;
    Ok(Json(VisitorSent { message_id: result.message_id, created: result.created }))
}

/// The visitor sends a file (`multipart/form-data`, part `file`): the web chat's size and type
/// limits, into the content-addressed store, as a message of its own.
#[utoipa::path(post, path = "/api/v1/widget/{id}/files", tag = "widget", operation_id = "widget_upload", params(("id" = uuid::Uuid, Path), VisitorUpload),
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 200, body = VisitorSent), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    Query(params): Query<VisitorUpload>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Json<VisitorSent>> {
    let (visitor, token) = visitor(&state, inbox_id, &headers).await?;
    let bad = |e: String| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidBody, e);
    let mut multipart =
        multipart.map_err(|e| bad(format!("expected multipart/form-data: {}", e.body_text())))?;
    let capabilities = connector::capabilities();
    while let Some(field) =
        multipart.next_field().await.map_err(|e| bad(format!("multipart: {}", e.body_text())))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = clean_file_name(field.file_name().unwrap_or("file"));
        let content_type = clean_content_type(field.content_type().unwrap_or("application/octet-stream"));
        let Some(limit) = capabilities.attachment_limit(&content_type) else {
            return Err(ApiError::validation(format!("the chat does not carry {content_type}")));
        };
        let stored = state.files.store(field, limit).await?;
        let file = StoredFile { sha256: stored.sha256, size: stored.size, file_name, content_type };
        let result =
            state.workspace.widget_send(visitor, token, params.client_id, String::new(), vec![file]).await?;
        return Ok(Json(VisitorSent { message_id: result.message_id, created: result.created }));
    }
    Err(ApiError::validation("the form has no part named \"file\""))
}

/// A file of the visitor's own conversation (theirs, or one an agent sent them).
#[utoipa::path(get, path = "/api/v1/widget/{id}/files/{attachment_id}", tag = "widget", operation_id = "widget_download",
    params(("id" = uuid::Uuid, Path), ("attachment_id" = uuid::Uuid, Path)), 
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    Path((inbox_id, attachment_id)): Path<(Id, Id)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (visitor, _) = visitor(&state, inbox_id, &headers).await?;
    let thread = state.workspace.widget_thread(visitor.clone()).await?;
    let attachment = thread
        .iter()
        .flat_map(|m| &m.attachments)
        .find(|a| a.id == attachment_id)
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let sha256 = state.workspace.widget_attachment_sha256(visitor, attachment_id).await?;
    files::file_response(&state, &sha256, &attachment.file_name, &attachment.content_type).await
}

/// The visitor's page has (`delivered`) or showed (`read`) replies; forward only, and only the
/// visitor's own.
#[utoipa::path(post, path = "/api/v1/widget/{id}/seen", tag = "widget", operation_id = "widget_seen", params(("id" = uuid::Uuid, Path)),
    request_body = VisitorSeen,
    responses((status = 200, body = SeenResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn seen(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
    Json(request): Json<VisitorSeen>,
) -> ApiResult<Json<SeenResult>> {
    let (visitor, _) = visitor(&state, inbox_id, &headers).await?;
    if request.message_ids.len() > 500 {
        return Err(ApiError::validation("at most 500 message ids at once"));
    }
    let moved = state.workspace.widget_seen(visitor, request.message_ids, request.state).await?;
    Ok(Json(SeenResult { moved }))
}

/// "Leave your email" (offered when no agent is online): stored on the visitor's contact.
#[utoipa::path(post, path = "/api/v1/widget/{id}/email", tag = "widget", operation_id = "widget_email", params(("id" = uuid::Uuid, Path)),
    request_body = VisitorEmail,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn email(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
    Json(request): Json<VisitorEmail>,
) -> ApiResult<StatusCode> {
    let (visitor, token) = visitor(&state, inbox_id, &headers).await?;
    state.workspace.widget_leave_email(visitor, token, request.email).await?;
    Ok(StatusCode::NO_CONTENT)
}
