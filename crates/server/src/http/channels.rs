//! The channels' HTTP edge. The API channel: customer messages and delivery reports POSTed by an
//! integration, signed with the inbox's secret (`X-Switchboard-Signature: sha256=<hex
//! HMAC-SHA256 of the body>`). Providers' webhooks (`/channels/{id}/webhook`): the request handed
//! raw to the inbox's connector (`connectors.rs`), which verifies and parses it; the media it
//! names fetched into the attachment store (a file over the channel's limit for its type becomes
//! an activity line); messages ingested once per provider id; statuses applied. A valid request is
//! answered 200 only once all of it is stored, so the provider retries anything lost.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use base64::Engine;
use switchboard_proto::*;

use super::AppState;
use crate::{
    connectors::{self, inbound::StoreInboundError, ConnectorContext, InboundError, InboundRequest},
    error::{ApiError, ApiResult, Json, Path, Query},
    signing::SIGNATURE_HEADER,
    workspace::{StoredFile, Viewer},
};

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if !connectors::api::verify(secret, header, body) {
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

fn inbound_error(error: InboundError) -> ApiError {
    match error {
        InboundError::Forged(why) => {
            ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidSignature, why)
        }
        InboundError::Malformed(why) => ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidBody, why),
        InboundError::NotSupported => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "this inbox's connector takes no webhook requests",
        ),
    }
}

/// The inbox's connector, for a provider's request.
async fn connector_of(
    state: &AppState,
    inbox_id: Id,
) -> ApiResult<(Inbox, std::sync::Arc<dyn connectors::Connector>)> {
    let (inbox, secret, settings) = state.workspace.inbox_connector(inbox_id).await?;
    let Some(settings) = settings else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "this inbox has no connector"));
    };
    let context = ConnectorContext { http: connectors::http_client(), inbox_secret: secret };
    Ok((inbox, connectors::build(&settings, &context)))
}

/// A provider verifies the callback URL (WhatsApp: `hub.mode=subscribe`, `hub.verify_token`,
/// `hub.challenge`): answered with the challenge when the token is this inbox's.
#[utoipa::path(get, path = "/api/v1/channels/{id}/webhook", tag = "channels", params(("id" = uuid::Uuid, Path),
    ("hub.mode" = Option<String>, Query), ("hub.verify_token" = Option<String>, Query), ("hub.challenge" = Option<String>, Query)),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn webhook_handshake(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    Query(query): Query<BTreeMap<String, String>>,
) -> ApiResult<String> {
    let (_, connector) = connector_of(&state, inbox_id).await?;
    let request = InboundRequest { query, ..InboundRequest::default() };
    connector.handshake(&request).map_err(|error| match error {
        InboundError::Forged(why) => ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, why),
        other => inbound_error(other),
    })
}

/// A provider's webhook notification (WhatsApp Cloud API: `X-Hub-Signature-256` over the raw
/// body with the app secret): messages stored once per provider id, media fetched, statuses
/// applied. 200 only once everything valid in it is stored; 401 for a forged one.
#[utoipa::path(post, path = "/api/v1/channels/{id}/webhook", tag = "channels", params(("id" = uuid::Uuid, Path),
    ("X-Hub-Signature-256" = Option<String>, Header, description = "sha256=<hex HMAC-SHA256 of the raw body with the app secret>")),
    request_body(content = String, description = "the provider's notification, as it sent it", content_type = "application/json"),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, body = ErrorBody)))]
pub async fn webhook(
    State(state): State<AppState>,
    Path(inbox_id): Path<Id>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let (_, connector) = connector_of(&state, inbox_id).await?;
    let headers = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_ascii_lowercase(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let request = InboundRequest { query, headers, body };
    let inbound = connector.receive(&request).map_err(inbound_error)?;
    connectors::inbound::store_inbound(&state.workspace, &state.files, inbox_id, connector.as_ref(), inbound)
        .await
        .map_err(|error| match error {
            // The provider retries the whole notification; what was stored is then a repeat.
            StoreInboundError::Unavailable(why) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, why)
            }
            StoreInboundError::Refused(refusal) => refusal.into(),
        })?;
    Ok(StatusCode::OK)
}

/// What an inbox's connector is (admins): its kind, whether it is the demo's simulator, the
/// callback path to register at the provider, its settings without secrets.
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/connector", tag = "inboxes", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConnectorInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn connector_info(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(inbox_id): Path<Id>,
) -> ApiResult<Json<ConnectorInfo>> {
    Ok(Json(state.workspace.connector_info(&viewer, inbox_id).await?))
}

/// "Test connection" (admins): the inbox's stored connector settings tried against the provider
/// (WhatsApp: the phone number; Telegram: `getMe`; email: IMAP and SMTP logins). A provider down
/// or refusing answers `ok: false` with why; the detail holds no secret.
#[utoipa::path(post, path = "/api/v1/inboxes/{id}/connector/test", tag = "inboxes", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConnectorTest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_connector(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(inbox_id): Path<Id>,
) -> ApiResult<Json<ConnectorTest>> {
    Ok(Json(state.workspace.test_connector(&viewer, inbox_id).await?))
}
