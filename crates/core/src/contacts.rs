//! Contacts from the app: added and edited through the outbox (so an edit made offline is sent
//! when the server can be reached, and shown at once), checked first with the same rules the
//! server commits with (`switchboard_proto::contacts`) against the custom field definitions in
//! the cache; a contact's profile read from the cache (the contact and every conversation of
//! theirs). Merging two contacts (leads and admins) and defining custom fields (admins) go to the
//! server at once and are never queued, like [`crate::team`]: a merge moves other people's
//! conversations, and replayed later it could surprise a colleague. The feed brings the result
//! to every desktop (the merged contact's tombstone leaves each cache: `cache.rs`, `merged_away`).

use switchboard_proto::contacts::{
    apply_contact_update, normalize_email, normalize_phone, ContactPage, CreateCustomField, CustomField,
    CustomFieldKind, MergeContacts, MergeResult, UpdateContact,
};
use switchboard_proto::*;

use crate::{
    api::ApiClient,
    cache::Cache,
    error::{CoreError, CoreResult},
    outbox::Action,
};

/// The custom contact fields the admins defined, oldest first.
pub fn custom_fields(cache: &Cache) -> CoreResult<Vec<CustomField>> {
    let mut fields: Vec<CustomField> = cache.all(EntityKind::CustomField)?;
    fields.sort_by_key(|f| (f.created_at, f.id));
    Ok(fields)
}

/// A contact and every conversation of theirs in the cache, most recently active first; `None`
/// when the cache doesn't hold the contact (never synced, or merged away).
pub fn profile(cache: &Cache, contact_id: Id) -> CoreResult<Option<ContactPage>> {
    let Some(contact) = cache.get::<Contact>(EntityKind::Contact, contact_id)? else {
        return Ok(None);
    };
    let conversations = cache.contact_conversations(contact_id)?;
    Ok(Some(ContactPage { contact, conversations }))
}

/// A new contact, as the outbox action that adds it (its id is the request's `client_id`). The
/// phone and email are checked and kept as the server keeps an edited one.
pub fn add(name: &str, phone: Option<&str>, email: Option<&str>) -> CoreResult<Action> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CoreError::Validation("name must be 1 to 200 characters".into()));
    }
    fn blank(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let phone = blank(phone).map(normalize_phone).transpose().map_err(CoreError::Validation)?;
    let email = blank(email).map(normalize_email).transpose().map_err(CoreError::Validation)?;
    let request = CreateContact { client_id: Id::new_v4(), name: name.to_owned(), phone, email };
    Ok(Action::CreateContact { request })
}

/// An edit of a cached contact, checked against the cached field definitions, as the outbox
/// action that sends it. A refused edit never reaches the outbox.
pub fn edit(cache: &Cache, contact_id: Id, mut request: UpdateContact) -> CoreResult<Action> {
    let mut contact: Contact = cache
        .get(EntityKind::Contact, contact_id)?
        .ok_or_else(|| CoreError::Validation("this contact is not in the cache (merged away?)".into()))?;
    apply_contact_update(&mut contact, &request, &custom_fields(cache)?).map_err(CoreError::Validation)?;
    request.client_id = Id::new_v4();
    Ok(Action::UpdateContact { contact_id, request })
}

fn offline(what: &'static str) -> impl Fn(CoreError) -> CoreError {
    move |error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("{what} needs the server; it can't be reached ({why})"))
        }
        other => other,
    }
}

/// Merges `other_id` into `survivor_id` at once (leads and admins; never queued).
pub async fn merge(api: &ApiClient, survivor_id: Id, other_id: Id) -> CoreResult<MergeResult> {
    let request = MergeContacts { client_id: Id::new_v4(), other_id };
    api.merge_contacts(survivor_id, &request).await.map_err(offline("merging contacts"))
}

/// Defines a custom contact field at once (admins; never queued).
pub async fn create_field(
    api: &ApiClient,
    key: &str,
    label: &str,
    kind: CustomFieldKind,
    options: Vec<String>,
) -> CoreResult<CustomField> {
    let request = CreateCustomField {
        client_id: Id::new_v4(),
        key: key.trim().to_owned(),
        label: label.trim().to_owned(),
        kind,
        options,
    };
    api.create_custom_field(&request).await.map_err(offline("a contact field"))
}

/// Deletes a custom contact field at once (admins; never queued).
pub async fn delete_field(api: &ApiClient, field_id: Id) -> CoreResult<()> {
    api.delete_custom_field(field_id).await.map_err(offline("a contact field"))
}
