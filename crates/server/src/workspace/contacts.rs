//! Contacts: created by agents, or on a customer's first message through a channel identity;
//! edited by any agent who can see them (name, phone, email, notes, custom field values checked
//! against the admin's definitions); merged by a lead or an admin (`merge_contacts`: one
//! transaction moves the identities and conversations and leaves a tombstone); custom field
//! definitions created and deleted by admins.

use switchboard_proto::contacts::{
    apply_contact_update, check_field_key, merged_contact, CreateCustomField, CustomField, CustomFieldKind,
    MergeContacts, MergeResult, UpdateContact,
};
use switchboard_proto::*;

use super::{
    audit::{self, Who},
    feed::visible_inboxes,
    idempotency::{self, MutationKey},
    ledger::{self, Cause},
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

/// Who receives a contact's changes: the viewers of the inbox of its first channel identity (as
/// the backends' `contacts.inbox_id` column says), everyone for a contact an agent added.
pub(super) fn audience_of(contact: &Contact) -> Audience {
    contact.identities.first().map(|i| Audience::inbox(i.inbox_id)).unwrap_or(Audience::EVERYONE)
}

/// A live contact the viewer may see; a merged one answers `not_found` naming the survivor.
fn visible_contact(tx: &(impl StoreRead + ?Sized), viewer: &Viewer, id: Id) -> Outcome<Contact> {
    let contact: Contact = tx.get(id)?.ok_or_else(|| Refusal::not_found("contact"))?;
    if let Some(survivor) = contact.merged_into {
        return Err(Refusal::new(ErrorCode::NotFound, format!("this contact was merged into {survivor}")));
    }
    if let Some(inbox) = contact.identities.first().map(|i| i.inbox_id) {
        if !visible_inboxes(tx, &viewer.agent)?.contains(&inbox) {
            return Err(Refusal::not_found("contact"));
        }
    }
    Ok(contact)
}

fn update_contact(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    id: Id,
    request: UpdateContact,
) -> Outcome<ContactResult> {
    let key = MutationKey {
        client_id: request.client_id,
        agent_id: viewer.agent.id,
        action: "update_contact",
        target: id,
    };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    let before = visible_contact(tx, viewer, id)?;
    let definitions: Vec<CustomField> = tx.all()?;
    let mut contact = before.clone();
    apply_contact_update(&mut contact, &request, &definitions).map_err(Refusal::validation)?;
    if contact != before {
        tx.put(&contact, audience_of(&contact))?;
    }
    let result = ContactResult { contact, seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

fn merge_contacts(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    id: Id,
    request: MergeContacts,
) -> Outcome<MergeResult> {
    let key = MutationKey {
        client_id: request.client_id,
        agent_id: viewer.agent.id,
        action: "merge_contacts",
        target: id,
    };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    policy::require_lead(viewer)?;
    if request.other_id == id {
        return Err(Refusal::validation("a contact can't be merged into itself"));
    }
    let survivor = visible_contact(tx, viewer, id)?;
    let other = visible_contact(tx, viewer, request.other_id)?;
    let merged = merged_contact(&survivor, &other);
    // The identities first: from this commit on, the merged-away number's next message finds the
    // survivor (writes are serialised, so an inbound message lands wholly before or after).
    tx.move_identities(other.id, survivor.id)?;
    tx.put(&merged, audience_of(&merged))?;
    let cause = Cause::agent(viewer, "merge", tx.now());
    let (mut moved, mut resolved) = (vec![], vec![]);
    for before in tx.contact_conversations(other.id)? {
        let mut after = before.clone();
        after.contact_id = survivor.id;
        // One open conversation per contact per inbox: where the survivor already has one, the
        // moved one is resolved (its history stays, on the survivor's profile) and the survivor's
        // stays open, so the next message lands there.
        let open = after.status != ConversationStatus::Resolved;
        if open && tx.open_conversation(after.inbox_id, survivor.id, Some(after.id))?.is_some() {
            rules::apply_status(&mut after, ConversationStatus::Resolved, None);
            resolved.push(after.id);
        }
        ledger::save(tx, &before, &after, &cause)?;
        moved.push(after.id);
    }
    let mut tombstone = other.clone();
    tombstone.merged_into = Some(survivor.id);
    tombstone.identities.clear();
    tombstone.phone = None;
    tombstone.email = None;
    tombstone.notes = None;
    tombstone.fields.clear();
    tx.put(&tombstone, audience_of(&other))?;
    audit::record(
        tx,
        &Who::viewer(viewer),
        audit::Record {
            action: "contact.merge",
            target_type: "contact",
            target_id: Some(survivor.id),
            target_label: &survivor.name,
            before: Some(serde_json::to_value(&other)?),
            after: Some(serde_json::to_value(&merged)?),
        },
    )?;
    let result = MergeResult { contact: merged, moved, resolved, seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

fn create_custom_field(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    request: CreateCustomField,
) -> Outcome<CustomField> {
    policy::require_admin(viewer)?;
    if let Some(existing) = tx.get::<CustomField>(request.client_id)? {
        // The same request again answers what it made.
        if existing.key == request.key {
            return Ok(existing);
        }
        return Err(Refusal::conflict(ErrorCode::ClientIdReused, "a contact field with this id exists"));
    }
    let key = request.key.trim();
    check_field_key(key).map_err(Refusal::validation)?;
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Refusal::validation("label must be 1 to 100 characters"));
    }
    let options: Vec<String> = request.options.iter().map(|o| o.trim().to_owned()).collect();
    if request.kind == CustomFieldKind::Choice {
        let mut unique = options.clone();
        unique.sort();
        unique.dedup();
        let bad = options.iter().any(|o| o.is_empty() || o.chars().count() > 100);
        if options.is_empty() || options.len() > 50 || bad || unique.len() != options.len() {
            return Err(Refusal::validation(
                "a choice needs 1 to 50 different options of 1 to 100 characters",
            ));
        }
    } else if !options.is_empty() {
        return Err(Refusal::validation("only a choice field has options"));
    }
    if tx.all::<CustomField>()?.iter().any(|f| f.key == key) {
        return Err(Refusal::conflict(ErrorCode::AlreadyExists, format!("a contact field {key} exists")));
    }
    let field = CustomField {
        id: request.client_id,
        key: key.to_owned(),
        label: label.to_owned(),
        kind: request.kind,
        options,
        created_at: tx.now(),
    };
    tx.put(&field, Audience::EVERYONE)?;
    audit::changed(
        tx,
        &Who::viewer(viewer),
        "contact_field.create",
        field.id,
        &field.label,
        None,
        Some(&field),
    )?;
    Ok(field)
}

fn delete_custom_field(tx: &mut dyn StoreTx, viewer: &Viewer, id: Id) -> Outcome<()> {
    policy::require_admin(viewer)?;
    let field: CustomField = tx.get(id)?.ok_or_else(|| Refusal::not_found("contact field"))?;
    tx.remove(EntityKind::CustomField, id, Audience::EVERYONE)?;
    audit::changed(tx, &Who::viewer(viewer), "contact_field.delete", id, &field.label, Some(&field), None)?;
    Ok(())
}

fn create_contact(tx: &mut dyn StoreTx, viewer: &Viewer, request: CreateContact) -> Outcome<ContactResult> {
    let key = MutationKey {
        client_id: request.client_id,
        agent_id: viewer.agent.id,
        action: "create_contact",
        target: request.client_id,
    };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    policy::check_contact_fields(&request.name, request.phone.as_deref(), request.email.as_deref())?;
    if tx.get::<Contact>(request.client_id)?.is_some() {
        return Err(Refusal::conflict(ErrorCode::ClientIdReused, "a contact with this id exists"));
    }
    let contact = rules::new_contact(
        request.client_id,
        &request.name,
        request.phone.as_deref(),
        request.email.as_deref(),
        tx.now(),
    );
    tx.put(&contact, Audience::EVERYONE)?;
    let result = ContactResult { contact, seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

/// The contact behind a channel identity, created on first contact; fields it lacks are filled in.
pub(super) fn upsert_from_channel(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    from: &InboundContact,
) -> Outcome<Contact> {
    let external_id = from.external_id.trim();
    let name = from.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let phone = from.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let email = from.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    policy::check_contact_fields(name.unwrap_or("x"), phone, email)?;
    let existing = match tx.contact_by_identity(inbox.id, external_id)? {
        Some(id) => tx.get::<Contact>(id)?,
        None => None,
    };
    let created = existing.is_none();
    let mut contact = match existing {
        Some(contact) => contact,
        None => {
            let contact = Contact {
                id: Id::now_v7(),
                name: name.or(phone).or(email).unwrap_or(external_id).to_owned(),
                phone: None,
                email: None,
                identities: vec![ContactIdentity {
                    inbox_id: inbox.id,
                    channel: inbox.channel,
                    external_id: external_id.to_owned(),
                }],
                created_at: tx.now(),
                notes: None,
                fields: Default::default(),
                merged_into: None,
            };
            tx.add_identity(inbox.id, external_id, contact.id)?;
            contact
        }
    };
    let before = contact.clone();
    if contact.phone.is_none() {
        contact.phone = phone.map(str::to_owned);
    }
    if contact.email.is_none() {
        contact.email = email.map(str::to_owned);
    }
    if created || contact != before {
        // Only those who can see the inbox the customer wrote into may see who they are.
        tx.put(&contact, audience_of(&contact))?;
    }
    Ok(contact)
}

impl Workspace {
    pub async fn create_contact(&self, viewer: &Viewer, request: CreateContact) -> Outcome<ContactResult> {
        let viewer = viewer.clone();
        self.write(move |tx| create_contact(tx, &viewer, request)).await
    }

    pub async fn update_contact(
        &self,
        viewer: &Viewer,
        id: Id,
        request: UpdateContact,
    ) -> Outcome<ContactResult> {
        let viewer = viewer.clone();
        self.write(move |tx| update_contact(tx, &viewer, id, request)).await
    }

    pub async fn merge_contacts(
        &self,
        viewer: &Viewer,
        id: Id,
        request: MergeContacts,
    ) -> Outcome<MergeResult> {
        let viewer = viewer.clone();
        self.write(move |tx| merge_contacts(tx, &viewer, id, request)).await
    }

    /// A contact's page: the contact and every conversation of theirs the viewer may see.
    pub async fn contact_page(&self, viewer: &Viewer, id: Id) -> Outcome<(Contact, Vec<Conversation>)> {
        let viewer = viewer.clone();
        self.read(move |store| {
            let contact = visible_contact(store, &viewer, id)?;
            let visibility = super::feed::visibility(store, &viewer.agent)?;
            let conversations = store
                .contact_conversations(id)?
                .into_iter()
                .filter(|c| visibility.inboxes.contains(&c.inbox_id) && visibility.shows_conversation(c.id))
                .collect();
            Ok((contact, conversations))
        })
        .await
    }

    pub async fn create_custom_field(
        &self,
        viewer: &Viewer,
        request: CreateCustomField,
    ) -> Outcome<CustomField> {
        let viewer = viewer.clone();
        self.write(move |tx| create_custom_field(tx, &viewer, request)).await
    }

    pub async fn delete_custom_field(&self, viewer: &Viewer, id: Id) -> Outcome<()> {
        let viewer = viewer.clone();
        self.write(move |tx| delete_custom_field(tx, &viewer, id)).await
    }
}
