//! A customer message from a channel: finds or creates the contact and the one open conversation
//! (reopening a recently resolved one), and stores the message once per `external_id`.

use switchboard_proto::{ledger::Origin, *};

use super::{
    contacts,
    ledger::{self, Cause},
    routing, StoredFile, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{AttachmentRecord, StoreTx},
};

/// Which conversation a customer message goes to, when it has none open in the inbox.
#[derive(Debug, Clone)]
pub(super) enum Placement {
    /// A recently resolved conversation reopens, else a new one (every channel).
    Default,
    /// A new conversation (an email with a new subject, per the inbox's rule).
    NewUnlessOpen,
    /// The conversation the message answers (an email's `In-Reply-To`/`References`): it, when
    /// open; else reopened, unless its contact has another conversation open, which it joins.
    Thread(Box<Conversation>),
}

fn ingest(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    inbound: InboundMessage,
    files: Vec<StoredFile>,
) -> Outcome<InboundResult> {
    ingest_placed(tx, inbox_id, inbound, files, Placement::Default, false)
}

/// [`ingest`] with a placement, and `automatic` for a message a machine sent (RFC 3834): it gets
/// no automatic reply.
pub(super) fn ingest_placed(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    inbound: InboundMessage,
    files: Vec<StoredFile>,
    placement: Placement,
    automatic: bool,
) -> Outcome<InboundResult> {
    let inboxes = super::cached::inboxes(tx)?;
    let inbox = inboxes.get(inbox_id).ok_or_else(|| Refusal::not_found("inbox"))?;
    let external_id = inbound.message.external_id.trim();
    policy::check_external_id(external_id)?;
    policy::check_external_id(inbound.contact.external_id.trim())?;
    policy::check_body(&inbound.message.body)?;
    if inbound.message.body.trim().is_empty() && files.is_empty() {
        return Err(Refusal::validation("an inbound message needs a body or an attachment"));
    }
    if let Some((message_id, conversation_id)) = tx.inbound_seen(inbox.id, external_id)? {
        return Ok(InboundResult { message_id, conversation_id, created: false });
    }
    let now = tx.now();
    let contact = contacts::upsert_from_channel(tx, inbox, &inbound.contact)?;

    let existing = match placement {
        Placement::Thread(thread) if thread.status.is_open() => Some(*thread),
        Placement::Thread(thread) => match tx.open_conversation(inbox.id, thread.contact_id, None)? {
            Some(open) => Some(open),
            None => Some(*thread),
        },
        Placement::Default | Placement::NewUnlessOpen => {
            match tx.open_conversation(inbox.id, contact.id, None)? {
                Some(open) => Some(open),
                None if matches!(placement, Placement::NewUnlessOpen) => None,
                None => tx.latest_conversation(inbox.id, contact.id)?.filter(|c| rules::reopens(c, now)),
            }
        }
    };
    let mut conversation = match existing.clone() {
        Some(existing) => existing,
        None => rules::new_conversation(Id::now_v7(), inbox.id, contact.id, now),
    };
    let message_id = Id::now_v7();
    let mut attachments = Vec::with_capacity(files.len());
    for file in files {
        let attachment = Attachment {
            id: Id::now_v7(),
            conversation_id: conversation.id,
            file_name: file.file_name,
            content_type: file.content_type,
            size: file.size,
            sha256: file.sha256,
        };
        tx.insert_attachment(&AttachmentRecord {
            attachment: attachment.clone(),
            message_id: Some(message_id),
            uploaded_by: None,
        })?;
        attachments.push(attachment);
    }
    let message = Message {
        id: message_id,
        conversation_id: conversation.id,
        kind: MessageKind::Incoming,
        body: inbound.message.body,
        sender: Sender::Contact { id: contact.id },
        attachments,
        template: None,
        delivery: DeliveryState::Delivered,
        failure: None,
        mentions: vec![],
        created_at: now,
    };
    rules::on_incoming(&mut conversation, &message.body, now);
    // A new conversation is written once, with the assignee routing would give it right after.
    let decided = match &existing {
        None => routing::decide_new(tx, inbox, &conversation)?,
        Some(_) => None,
    };
    if let Some(decided) = &decided {
        rules::apply_assignment(&mut conversation, Some(decided.agent_id()), None);
    }
    let cause = Cause::contact(contact.id, "customer", now);
    match &existing {
        Some(before) => ledger::save(tx, before, &conversation, &cause)?,
        // Held until the rules have answered: what they change is written with it, once.
        None => ledger::create_held(tx, &conversation, Origin::Customer, &cause)?,
    }
    super::conversations::put_message(tx, inbox.id, &message)?;
    tx.remember_inbound(inbox.id, external_id, message.id, conversation.id)?;
    // Automatic replies (greeting, away, keyword): at most one, in this transaction.
    if !automatic {
        super::auto_replies::on_inbound(tx, inbox, &conversation, &message, existing.is_none())?;
    }
    let routed_on_arrival = decided.is_some();
    if let Some(decided) = decided {
        decided.record(tx, inbox, &conversation)?;
    }
    // Routing: a reopened conversation stays with its owner only if they could take it now.
    if existing.as_ref().is_some_and(|before| before.status == ConversationStatus::Resolved) {
        routing::release_unavailable_owner(tx, inbox, conversation.id)?;
    } else if existing.as_ref().is_some_and(|before| before.assignee_id.is_some()) {
        // Nothing above assigns: a conversation nobody held (every new one) has no assignee to
        // release, so it isn't read back to find that out.
        routing::release_if_assignee_unavailable(tx, inbox, conversation.id)?;
    }
    // Routing decided on arrival only because nothing waited in any routed inbox, and this
    // conversation was written assigned: the queue is still empty, and a pass would only look.
    if !routed_on_arrival {
        // Routing reads its queue from the store: a routed inbox's new conversation is written
        // first, to wait in it (a manual inbox's queues nothing, so it stays held).
        if inbox.routing.mode != RoutingMode::Manual {
            ledger::write_held(tx)?;
        }
        routing::route(tx, routing::Released::default())?;
    }
    Ok(InboundResult { conversation_id: conversation.id, message_id: message.id, created: true })
}

impl Workspace {
    pub async fn ingest(
        &self,
        inbox_id: Id,
        message: InboundMessage,
        files: Vec<StoredFile>,
    ) -> Outcome<InboundResult> {
        self.write(move |tx| ingest(tx, inbox_id, message, files)).await
    }
}
