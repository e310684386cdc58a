//! Retention and erasure: an inbox's retention policy, and an admin's erasure of a contact.

use std::io::Write;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use futures_util::TryStreamExt;
use switchboard_proto::{privacy::*, *};

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path},
    refusal::Refusal,
    workspace::Viewer,
};

/// Everything held about a contact, for a data-subject request (admin, audited): a zip of
/// `contact.json` (the contact, every conversation of theirs with its messages, the list of files)
/// and each attachment under `files/<attachment id>/<file name>`.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "contacts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn export_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Response> {
    let export = state.workspace.contact_export(&viewer, id).await?;
    let mut files = Vec::with_capacity(export.files.len());
    for file in &export.files {
        let blob = state.files.open(&file.sha256).await?;
        let bytes: Vec<u8> =
            blob.stream.map_ok(|chunk| chunk.to_vec()).try_concat().await.map_err(Refusal::internal)?;
        files.push((file.path.clone(), bytes));
    }
    let json = serde_json::to_vec_pretty(&export).map_err(Refusal::internal)?;
    let zipped = tokio::task::spawn_blocking(move || zip_export(&json, &files))
        .await
        .map_err(Refusal::internal)?
        .map_err(Refusal::internal)?;
    let disposition = format!("attachment; filename=\"contact-{id}.zip\"");
    Ok((
        [(header::CONTENT_TYPE, "application/zip".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        zipped,
    )
        .into_response())
}

/// The export's zip: stored entries (attachments are mostly compressed already).
fn zip_export(json: &[u8], files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("contact.json", options)?;
    zip.write_all(json)?;
    for (path, bytes) in files {
        zip.start_file(path.as_str(), options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Erase a contact (admin, audited): every conversation of theirs with its messages, attachments
/// (stored files no other message names are deleted) and search entries, their channel
/// identities and the contact. The feed's tombstones purge every desktop's cache. `confirm` is
/// the contact's name, typed again.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/erase", tag = "contacts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = EraseContact,
    responses((status = 200, body = Erasure), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn erase_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<EraseContact>,
) -> ApiResult<Json<Erasure>> {
    Ok(Json(state.workspace.erase_contact(&viewer, id, request).await?))
}

/// An inbox's retention policy (lead or admin).
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/retention", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = InboxRetention), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retention(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<InboxRetention>> {
    Ok(Json(state.workspace.retention(&viewer, id).await?))
}

/// Set (or with `null` remove) an inbox's retention policy (lead or admin, audited): conversations
/// resolved more than `days` days ago are deleted or anonymised by a daily pass.
#[utoipa::path(put, path = "/api/v1/inboxes/{id}/retention", tag = "admin", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = InboxRetention,
    responses((status = 200, body = InboxRetention), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_retention(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<InboxRetention>,
) -> ApiResult<Json<InboxRetention>> {
    Ok(Json(state.workspace.set_retention(&viewer, id, request).await?))
}
