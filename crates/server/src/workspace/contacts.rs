//! Contacts: created by agents, or on a customer's first message through a channel identity.

use switchboard_proto::*;

use super::{
    idempotency::{self, MutationKey},
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreReadExt, StoreTx, StoreTxExt},
};

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
        tx.put(&contact, Audience::inbox(inbox.id))?;
    }
    Ok(contact)
}

impl Workspace {
    pub async fn create_contact(&self, viewer: &Viewer, request: CreateContact) -> Outcome<ContactResult> {
        let viewer = viewer.clone();
        self.write(move |tx| create_contact(tx, &viewer, request)).await
    }
}
