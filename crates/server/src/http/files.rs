//! Attachment upload (multipart, streamed to a temporary file, then to the blob store) and download (only for those who can see the
//! conversation).

use axum::{
    body::Body,
    extract::{Multipart, State},
    http::{header, StatusCode},
    response::Response,
};
use serde::Deserialize;
use switchboard_proto::*;
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiError, ApiResult, Json, Path, Query},
    workspace::{StoredFile, Viewer},
};

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadParams {
    /// The conversation the file will be sent in (decides the size limit and who may read it).
    pub conversation_id: uuid::Uuid,
}

/// The multipart form of an upload: one part named `file`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

// What a stored file may be called and typed: shared with the connectors (`files.rs`).
pub use crate::files::{clean_content_type, clean_file_name};

/// Upload a file to send in a conversation; reference it in `attachment_ids` of a message.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments", security(("bearer" = [])), params(UploadParams),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Attachment), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<UploadParams>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Json<Attachment>> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidBody,
            format!("expected multipart/form-data: {}", e.body_text()),
        )
    })?;
    let inbox = state.workspace.conversation_inbox(&viewer, params.conversation_id).await?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidBody,
            format!("multipart: {}", e.body_text()),
        )
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = clean_file_name(field.file_name().unwrap_or("file"));
        let content_type = clean_content_type(field.content_type().unwrap_or("application/octet-stream"));
        let stored = state.files.store(field, inbox.attachment_limit).await?;
        let file = StoredFile { sha256: stored.sha256, size: stored.size, file_name, content_type };
        return Ok(Json(state.workspace.add_attachment(&viewer, params.conversation_id, file).await?));
    }
    Err(ApiError::validation("the form has no part named \"file\""))
}

/// Download an attachment.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Response> {
    let attachment = state.workspace.attachment(&viewer, id).await?;
    file_response(&state, &attachment.sha256, &attachment.file_name, &attachment.content_type).await
}

/// A stored file as a download: its type, length and name (ASCII only, and no quote that would
/// end the header's quoted name), never sniffed by the browser. Agents' and visitors' downloads.
pub(crate) async fn file_response(
    state: &AppState,
    sha256: &str,
    file_name: &str,
    content_type: &str,
) -> ApiResult<Response> {
    let blob = state.files.open(sha256).await?;
    let disposition =
        format!("attachment; filename=\"{}\"", file_name.replace(|c: char| !c.is_ascii() || c == '"', "_"));
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, blob.size)
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from_stream(blob.stream))
        .map_err(ApiError::internal)
}
