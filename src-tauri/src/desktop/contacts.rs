//! A contact's profile and its actions: read from the cache (the contact, every conversation of
//! theirs, the custom field definitions), added and edited through the outbox
//! (`switchboard_core::contacts::{add, edit}`, so offline edits queue), merged (leads and admins)
//! and custom fields defined (admins) at once through the server.

use switchboard_core::contacts;
use switchboard_proto::contacts::{CustomField, CustomFieldKind, UpdateContact};

use super::*;

impl Desktop {
    pub async fn contact_profile(&self, contact_id: Uuid) -> UiResult<dto::ContactProfile> {
        self.with(|s| {
            let cache = &s.account.cache;
            let page = contacts::profile(cache, contact_id)?
                .ok_or_else(|| UiError::new(UiErrorCode::NotFound, "no such contact"))?;
            Ok(dto::ContactProfile {
                contact: page.contact,
                conversations: page.conversations,
                fields: contacts::custom_fields(cache)?,
            })
        })
        .await
    }

    pub async fn custom_fields(&self) -> UiResult<Vec<CustomField>> {
        self.with(|s| Ok(contacts::custom_fields(&s.account.cache)?)).await
    }

    /// Queues a new contact; answers its id.
    pub async fn add_contact(
        &self,
        name: String,
        phone: Option<String>,
        email: Option<String>,
    ) -> UiResult<Uuid> {
        self.with(|s| {
            let action = contacts::add(&name, phone.as_deref(), email.as_deref())?;
            let id = action.client_id();
            s.engine.queue(action)?;
            Ok(id)
        })
        .await
    }

    pub async fn edit_contact(&self, contact_id: Uuid, update: UpdateContact) -> UiResult<()> {
        self.with(|s| {
            s.engine.queue(contacts::edit(&s.account.cache, contact_id, update)?)?;
            Ok(())
        })
        .await
    }

    pub async fn merge_contacts(&self, survivor_id: Uuid, other_id: Uuid) -> UiResult<dto::Merged> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let merged = contacts::merge(&api, survivor_id, other_id).await?;
        Ok(dto::Merged { contact_id: merged.contact.id, moved: merged.moved, resolved: merged.resolved })
    }

    /// Everything the server holds about a contact (admins): the zip's name and bytes.
    pub async fn contact_export_file(&self, contact_id: Uuid) -> UiResult<(String, Vec<u8>)> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let bytes = api.export_contact(contact_id).await?;
        Ok((format!("contact-{contact_id}.zip"), bytes))
    }

    /// Erases a contact on the server (admins; `confirm` is their name typed again). The feed
    /// then removes them from this cache and every other desktop's.
    pub async fn erase_contact(&self, contact_id: Uuid, confirm: &str) -> UiResult<privacy::Erasure> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(api.erase_contact(contact_id, confirm).await?)
    }

    pub async fn create_custom_field(
        &self,
        key: String,
        label: String,
        kind: CustomFieldKind,
        options: Vec<String>,
    ) -> UiResult<CustomField> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(contacts::create_field(&api, &key, &label, kind, options).await?)
    }

    pub async fn delete_custom_field(&self, field_id: Uuid) -> UiResult<()> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(contacts::delete_field(&api, field_id).await?)
    }
}
