//! A contact's page, edits and merges, and the custom contact fields admins define.

use axum::{extract::State, http::StatusCode};
use switchboard_proto::{
    contacts::{ContactPage, CreateCustomField, CustomField, MergeContacts, MergeResult, UpdateContact},
    *,
};

use super::AppState;
use crate::{
    error::{ApiResult, Json, Path},
    workspace::Viewer,
};

/// A contact and every conversation of theirs the caller may see; a merged contact is 404.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ContactPage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<ContactPage>> {
    let (contact, conversations) = state.workspace.contact_page(&viewer, id).await?;
    Ok(Json(ContactPage { contact, conversations }))
}

/// Edit a contact (any agent who can see it): only the fields sent change, `null` clears one.
/// The phone is kept normalised (`+` and digits), custom values are checked against their field.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = UpdateContact,
    responses((status = 200, body = ContactResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<UpdateContact>,
) -> ApiResult<Json<ContactResult>> {
    Ok(Json(state.workspace.update_contact(&viewer, id, request).await?))
}

/// Merge `other_id` into this contact (lead or admin): the survivor keeps every channel identity
/// of both, the other's conversations move to it (one it would then have open twice in an inbox
/// is resolved), and the other becomes a tombstone (`merged_into`). One transaction.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = MergeContacts,
    responses((status = 200, body = MergeResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn merge_contacts(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<MergeContacts>,
) -> ApiResult<Json<MergeResult>> {
    Ok(Json(state.workspace.merge_contacts(&viewer, id, request).await?))
}

/// Define a custom contact field (admin); the feed carries it to every client.
#[utoipa::path(post, path = "/api/v1/contact-fields", tag = "contacts", security(("bearer" = [])), request_body = CreateCustomField,
    responses((status = 200, body = CustomField), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_custom_field(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateCustomField>,
) -> ApiResult<Json<CustomField>> {
    Ok(Json(state.workspace.create_custom_field(&viewer, request).await?))
}

/// Delete a custom contact field (admin); contacts' values of it are no longer shown.
#[utoipa::path(delete, path = "/api/v1/contact-fields/{id}", tag = "contacts", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_custom_field(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.workspace.delete_custom_field(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
