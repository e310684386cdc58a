//! Retention and erasure. An inbox's retention policy is its durable timer `retention:<inbox>`
//! (the policy is the timer's payload), so the timer loop runs it on the injected clock, once a
//! day, and with several nodes exactly one of them runs each pass: the timer is re-read and moved
//! inside the pass's write transaction, which every node serialises on the feed lock. A pass
//! deletes or anonymises a batch of the inbox's conversations resolved more than N days ago.
//!
//! An admin's erasure of a contact deletes, in one audited transaction, every conversation of
//! theirs with its messages, attachment rows, search entries and side rows, their channel
//! identities and the contact, leaving tombstones in the feed (which purge every desktop's cache)
//! and clearing the data of every earlier change of those entities. Then the store scrubs its
//! files (`Store::scrub`) and the stored files no attachment names any more are deleted: each is
//! first a `blob:<sha256>` timer in the same transaction, so a crash before the deletion leaves
//! it to the timer loop. A contact's export gathers the same rows into a zip.

use serde_json::json;
use switchboard_proto::{privacy::*, *};

use super::{
    audit::{self, Record, Who},
    contacts::audience_of,
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt, TimerRecord},
};

const DAY: Millis = 86_400_000;
/// Conversations one retention pass handles (one transaction).
const RETENTION_BATCH: usize = 50;
pub(super) const RETENTION: &str = "retention:";
pub(super) const BLOB: &str = "blob:";

fn retention_key(inbox: Id) -> String {
    format!("{RETENTION}{inbox}")
}

/// What a deletion is collecting: counts, and the stored files its attachment rows named.
#[derive(Default)]
struct Sweep {
    erasure: Erasure,
    files: Vec<String>,
}

impl Sweep {
    /// Schedules the deletion of every collected file no attachment row names any more; answers
    /// those files.
    fn forget_files(&mut self, tx: &mut dyn StoreTx) -> Outcome<Vec<String>> {
        let mut files = std::mem::take(&mut self.files);
        files.sort();
        files.dedup();
        let mut orphans = Vec::new();
        for sha256 in files {
            if !tx.blob_referenced(&sha256)? {
                let timer =
                    TimerRecord { key: format!("{BLOB}{sha256}"), due_at: tx.now(), payload: json!(null) };
                tx.schedule_timer(&timer)?;
                orphans.push(sha256);
            }
        }
        self.erasure.files = orphans.len() as u32;
        Ok(orphans)
    }

    /// Deletes a conversation, its messages and every row kept beside them.
    fn delete_conversation(&mut self, tx: &mut dyn StoreTx, conversation: &Conversation) -> Outcome<()> {
        let messages = tx.messages_of(conversation.id)?;
        let files = tx.erase_conversation_rows(conversation.id)?;
        self.erasure.attachments += files.len() as u32;
        self.files.extend(files);
        let audience = Audience::inbox(conversation.inbox_id);
        let mut ids = Vec::with_capacity(messages.len() + 1);
        for message in &messages {
            tx.remove(EntityKind::Message, message.id, audience)?;
            ids.push(message.id);
        }
        tx.remove(EntityKind::Conversation, conversation.id, audience)?;
        ids.push(conversation.id);
        tx.erase_change_data(&ids)?;
        self.erasure.conversations += 1;
        self.erasure.messages += messages.len() as u32;
        Ok(())
    }

    /// Keeps a conversation (its ledger and figures) but empties its messages' text, subject and
    /// preview, and removes their attachments and search entries.
    fn anonymise_conversation(&mut self, tx: &mut dyn StoreTx, conversation: &Conversation) -> Outcome<()> {
        let messages = tx.messages_of(conversation.id)?;
        let ids: Vec<Id> = messages.iter().map(|m| m.id).collect();
        let files = tx.erase_message_rows(&ids)?;
        self.erasure.attachments += files.len() as u32;
        self.files.extend(files);
        // The earlier versions' data first: the versions put below are the ones served.
        let mut all = ids.clone();
        all.push(conversation.id);
        tx.erase_change_data(&all)?;
        let audience = Audience::inbox(conversation.inbox_id);
        for mut message in messages {
            message.body = String::new();
            message.attachments.clear();
            message.template = None;
            tx.put(&message, audience)?;
        }
        let mut emptied = conversation.clone();
        emptied.preview = String::new();
        emptied.subject = None;
        tx.put(&emptied, audience)?;
        self.erasure.conversations += 1;
        self.erasure.messages += ids.len() as u32;
        Ok(())
    }
}

/// When a resolved conversation was resolved: its ledger's last event (anything after the
/// resolution only moves it later, so it is never erased early).
fn resolved_at(tx: &dyn StoreTx, conversation: &Conversation) -> Outcome<Millis> {
    let last = tx.events_of(conversation.id)?.last().map(|event| event.at);
    Ok(last.unwrap_or(conversation.last_activity_at).max(conversation.last_activity_at))
}

/// One retention pass of an inbox (`timers.rs` fires `retention:<inbox>`, removed already): a
/// batch of conversations resolved before the cutoff, then the next pass: at once if the batch
/// was full, else a day later.
pub(super) fn run_retention(tx: &mut dyn StoreTx, inbox: Id, timer: &TimerRecord) -> Outcome<()> {
    if tx.get::<Inbox>(inbox)?.is_none() {
        return Ok(());
    }
    let policy: RetentionPolicy = serde_json::from_value(timer.payload.clone())
        .map_err(|e| Refusal::internal(format!("a stored retention policy: {e}")))?;
    let now = tx.now();
    let cutoff = now - Millis::from(policy.days) * DAY;
    let anonymise = policy.action == RetentionAction::Anonymise;
    let candidates = tx.resolved_before(inbox, cutoff, anonymise, RETENTION_BATCH)?;
    let full = candidates.len() == RETENTION_BATCH;
    let mut sweep = Sweep::default();
    for conversation in &candidates {
        if resolved_at(tx, conversation)? >= cutoff {
            continue;
        }
        if anonymise {
            sweep.anonymise_conversation(tx, conversation)?;
        } else {
            sweep.delete_conversation(tx, conversation)?;
        }
    }
    sweep.forget_files(tx)?;
    if sweep.erasure.conversations > 0 {
        tracing::info!(%inbox, conversations = sweep.erasure.conversations, ?policy.action, "retention");
    }
    let again = full && sweep.erasure.conversations > 0;
    let next = TimerRecord {
        key: timer.key.clone(),
        due_at: if again { now } else { now + DAY },
        payload: timer.payload.clone(),
    };
    tx.schedule_timer(&next)?;
    Ok(())
}

fn erase_contact(
    tx: &mut dyn StoreTx,
    who: &Who,
    id: Id,
    request: &EraseContact,
) -> Outcome<(Erasure, Vec<String>)> {
    let contact: Contact = tx.get(id)?.ok_or_else(|| Refusal::not_found("contact"))?;
    if request.confirm.trim() != contact.name.trim() {
        return Err(Refusal::validation("type the contact's name exactly to confirm the erasure"));
    }
    let mut sweep = Sweep::default();
    for conversation in tx.contact_conversations(id)? {
        sweep.delete_conversation(tx, &conversation)?;
    }
    tx.erase_contact_rows(id)?;
    tx.remove(EntityKind::Contact, id, audience_of(&contact))?;
    tx.erase_change_data(&[id])?;
    let orphans = sweep.forget_files(tx)?;
    // The row names the contact by id only: the trail can't be erased, so it holds no name.
    let after = Some(serde_json::to_value(&sweep.erasure)?);
    let what = Record {
        action: "contact.erased",
        target_type: "contact",
        target_id: Some(id),
        target_label: "",
        before: None,
        after,
    };
    audit::record(tx, who, what)?;
    Ok((sweep.erasure, orphans))
}

impl Workspace {
    /// `POST /contacts/{id}/erase` (admins): see the module's note.
    pub async fn erase_contact(&self, viewer: &Viewer, id: Id, request: EraseContact) -> Outcome<Erasure> {
        self.require_admin_audited(viewer, "contact").await?;
        let who = Who::viewer(viewer);
        let (erasure, orphans) = self.write(move |tx| erase_contact(tx, &who, id, &request)).await?;
        self.store.scrub().await?;
        for sha256 in orphans {
            self.delete_file(&sha256).await;
        }
        Ok(erasure)
    }

    /// Fires a `blob:<sha256>` timer: deletes the stored file unless an attachment names it again,
    /// then forgets the timer. A failure leaves the timer for the next pass.
    pub(super) async fn delete_file(&self, sha256: &str) {
        let key = format!("{BLOB}{sha256}");
        let result = async {
            let owned = sha256.to_owned();
            let referenced = self.read(move |store| Ok(store.blob_referenced(&owned)?)).await?;
            if !referenced {
                match &self.files {
                    Some(files) => files.delete(sha256).await?,
                    None => tracing::warn!(%sha256, "no attachment store to delete an erased file from"),
                }
            }
            let key = key.clone();
            self.write(move |tx| Ok(tx.remove_timer(&key)?)).await
        }
        .await;
        if let Err(refusal) = result {
            tracing::warn!(%key, message = %refusal.message, "deleting an erased file failed");
        }
    }

    /// `GET /inboxes/{id}/retention` (leads and admins).
    pub async fn retention(&self, viewer: &Viewer, inbox: Id) -> Outcome<InboxRetention> {
        policy::require_lead(viewer)?;
        self.read(move |store| {
            store.get::<Inbox>(inbox)?.ok_or_else(|| Refusal::not_found("inbox"))?;
            policy_of(store, inbox)
        })
        .await
    }

    /// `PUT /inboxes/{id}/retention` (leads and admins, audited): a policy's first pass is due at
    /// once, a changed one keeps its schedule, `null` stops it.
    pub async fn set_retention(
        &self,
        viewer: &Viewer,
        inbox: Id,
        request: InboxRetention,
    ) -> Outcome<InboxRetention> {
        policy::require_lead(viewer)?;
        if let Some(policy) = request.policy {
            if !(1..=36_500).contains(&policy.days) {
                return Err(Refusal::validation("days must be between 1 and 36500"));
            }
        }
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let found = tx.get::<Inbox>(inbox)?.ok_or_else(|| Refusal::not_found("inbox"))?;
            let before = policy_of(tx, inbox)?;
            let key = retention_key(inbox);
            match request.policy {
                Some(policy) => {
                    let due_at = tx.timer(&key)?.map(|timer| timer.due_at).unwrap_or(tx.now());
                    let payload = serde_json::to_value(policy)?;
                    tx.schedule_timer(&TimerRecord { key, due_at, payload })?;
                }
                None => tx.remove_timer(&key)?,
            }
            if before != request {
                let what = Record {
                    action: "inbox.retention",
                    target_type: "inbox",
                    target_id: Some(inbox),
                    target_label: &found.name,
                    before: Some(json!({ "retention": before.policy })),
                    after: Some(json!({ "retention": request.policy })),
                };
                audit::record(tx, &who, what)?;
            }
            Ok(request)
        })
        .await
    }
}

impl Workspace {
    /// `GET /contacts/{id}/export` (admins, audited): everything held about a contact, every
    /// conversation with its messages, and which stored files the zip carries.
    pub async fn contact_export(&self, viewer: &Viewer, id: Id) -> Outcome<ContactExport> {
        self.require_admin_audited(viewer, "contact").await?;
        let export = self
            .read(move |store| {
                let contact: Contact = store.get(id)?.ok_or_else(|| Refusal::not_found("contact"))?;
                let mut conversations = Vec::new();
                let mut files = Vec::new();
                for conversation in store.contact_conversations(id)? {
                    let messages = store.messages_of(conversation.id)?;
                    for message in &messages {
                        for attachment in &message.attachments {
                            files.push(ExportedFile {
                                attachment_id: attachment.id,
                                message_id: message.id,
                                file_name: attachment.file_name.clone(),
                                content_type: attachment.content_type.clone(),
                                sha256: attachment.sha256.clone(),
                                path: format!("files/{}/{}", attachment.id, zip_name(&attachment.file_name)),
                            });
                        }
                    }
                    conversations.push(ExportedConversation { conversation, messages });
                }
                Ok(ContactExport { exported_at: store.now(), contact, conversations, files })
            })
            .await?;
        self.record_export(viewer, "export.contact", json!({ "contact_id": id })).await?;
        Ok(export)
    }
}

/// A file's name as a zip entry's last component: no directories, no control characters.
fn zip_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    match cleaned.trim() {
        "" | "." | ".." => "file".into(),
        _ => cleaned,
    }
}

fn policy_of(store: &(impl StoreRead + ?Sized), inbox: Id) -> Outcome<InboxRetention> {
    let policy = store
        .timer(&retention_key(inbox))?
        .map(|timer| serde_json::from_value(timer.payload))
        .transpose()
        .map_err(|e| Refusal::internal(format!("a stored retention policy: {e}")))?;
    Ok(InboxRetention { policy })
}
