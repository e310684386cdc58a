//! The API channel: customer messages and delivery reports POSTed by an integration, signed with
//! the inbox's secret (`X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body>`).

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use base64::Engine;
use switchboard_proto::*;

use super::AppState;
use crate::{
    error::{ApiError, ApiResult, Json, Path},
    signing::{self, SIGNATURE_HEADER},
    workspace::StoredFile,
};

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !signing::verify(secret, header, body) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidSignature,
            "missing or wrong X-Switchboard-Signature",
        ));
    }
    Ok(())
}

/// Signature first, then parse: an unsigned body is never even looked at.
async fn signed<T: serde::de::DeserializeOwned>(
    state: &AppState,
    inbox_id: Id,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<(Inbox, T)> {
    let (inbox, secret) = state.workspace.inbox_secret(inbox_id).await?;
    verify(&secret, headers, body)?;
    let parsed = serde_json::from_slice(body).map_err(|e| {
        let (status, code) = if e.is_data() {
            (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidBody)
        } else {
            (StatusCode::BAD_REQUEST, ErrorCode::MalformedJson)
        };
        ApiError::new(status, code, format!("request body: {e}"))
    })?;
    Ok((inbox, parsed))
}

/// A customer message arrives on an inbox (deduplicated on `message.external_id`).
#[utoipa::path(post, path = "/api/v1/channels/{id}/inbound", tag = "channels", params(("id" = uuid::Uuid, Path),
    ("X-Switchboard-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body with the inbox secret>")),
    request_body = InboundMessage,
    responses((status = 200, body = InboundResult), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn inbound(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<InboundResult>> {
    let (inbox, message): (Inbox, InboundMessage) = signed(&state, inbox_id, &headers, &body).await?;
    let mut files = Vec::with_capacity(message.message.attachments.len());
    for attachment in &message.message.attachments {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(attachment.data_base64.as_bytes()).map_err(
                |e| ApiError::validation(format!("attachment {:?}: bad base64: {e}", attachment.file_name)),
            )?;
        let stored = state.files.store_bytes(&bytes, inbox.attachment_limit).await?;
        files.push(StoredFile {
            sha256: stored.sha256,
            size: stored.size,
            file_name: super::files::clean_file_name(&attachment.file_name),
            content_type: super::files::clean_content_type(&attachment.content_type),
        });
    }
    Ok(Json(state.workspace.ingest(inbox_id, message, files).await?))
}

/// The channel reports how far an outgoing message got (`delivered`, `read`, `failed`).
#[utoipa::path(post, path = "/api/v1/channels/{id}/delivery", tag = "channels", params(("id" = uuid::Uuid, Path),
    ("X-Switchboard-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body with the inbox secret>")),
    request_body = DeliveryReport,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delivery(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let (_, report): (Inbox, DeliveryReport) = signed(&state, inbox_id, &headers, &body).await?;
    state.workspace.report_delivery(inbox_id, report).await?;
    Ok(StatusCode::NO_CONTENT)
}
