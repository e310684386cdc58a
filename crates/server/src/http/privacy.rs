//! Retention and erasure: an inbox's retention policy, and an admin's erasure of a contact.

use axum::extract::State;
use switchboard_proto::{privacy::*, *};

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path},
    workspace::Viewer,
};

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
