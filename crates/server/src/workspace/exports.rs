//! Export approval: an inbox an admin marks `exports_need_approval` holds its agents' transcript
//! exports. The agent asks instead (`request_export`: what and why), a lead who sees the inbox or
//! an admin approves or declines (`decide_export`), and the requester downloads an approved one
//! once, within `EXPORT_DOWNLOAD_WINDOW_MS` of the approval on the injected clock
//! (`download_export`). Every step is an audit row in the transaction of the step; a lead's or an
//! admin's own export is never held. Requests are the inbox's server-only state under
//! `export:<id>` (`StoreTx::put_export_request`), never in the feed.
//!
//! Report CSVs are figures, not customers' words, so they are recorded but never held; contact
//! and audit exports are admins' only.

use serde_json::json;
use switchboard_proto::{exports::*, *};

use super::{
    audit::{self, Record, Who},
    conversations::visible_conversation,
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

/// Longest reason or decision note, in characters.
const MAX_REASON_CHARS: usize = 500;
/// Most requests a listing answers.
const LIST_LIMIT: usize = 500;

/// Whether `viewer`'s export from `inbox` waits for approval.
pub fn held(viewer: &Viewer, inbox: &Inbox) -> bool {
    inbox.exports_need_approval && viewer.agent.role == Role::Agent
}

/// The request as it stands at `now`: an approved one past its window reads `expired`.
fn as_of(mut request: ExportRequest, now: Millis) -> ExportRequest {
    if request.status == ExportRequestStatus::Approved && request.expires_at.is_some_and(|end| now > end) {
        request.status = ExportRequestStatus::Expired;
    }
    request
}

fn check_text(text: &str, field: &str) -> Outcome<String> {
    let text = text.trim();
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(Refusal::validation(format!("{field}: at most {MAX_REASON_CHARS} characters")));
    }
    Ok(text.to_owned())
}

fn audit_request(
    tx: &mut dyn StoreTx,
    who: &Who,
    action: &str,
    request: &ExportRequest,
    before: Option<serde_json::Value>,
) -> Outcome<()> {
    let after = json!({
        "conversation_id": request.conversation_id,
        "inbox_id": request.inbox_id,
        "format": request.format.as_str(),
        "reason": request.reason,
        "requester_id": request.requester_id,
        "status": request.status,
        "note": request.note,
        "expires_at": request.expires_at,
    });
    let what = Record {
        action,
        target_type: "export_request",
        target_id: Some(request.id),
        target_label: &request.requester_name,
        before,
        after: Some(after),
    };
    audit::record(tx, who, what)
}

impl Workspace {
    /// `GET /conversations/{id}/export`: the transcript, recorded; refused with
    /// `export_approval_required` when the viewer's export from its inbox is held.
    pub async fn export_transcript(
        &self,
        viewer: &Viewer,
        id: Id,
        format: ExportFormat,
    ) -> Outcome<Transcript> {
        let transcript = self.transcript(viewer, id).await?;
        if held(viewer, &transcript.inbox) {
            return Err(Refusal::new(
                ErrorCode::ExportApprovalRequired,
                "exports from this inbox need a lead's approval: ask for one with a reason",
            ));
        }
        let filters = json!({"conversation_id": id, "format": format.as_str()});
        self.record_export(viewer, "export.transcript", filters).await?;
        Ok(transcript)
    }

    /// `POST /export-requests`: an agent asks to export a transcript their inbox holds.
    pub async fn request_export(&self, viewer: &Viewer, request: NewExportRequest) -> Outcome<ExportRequest> {
        let reason = check_text(&request.reason, "reason")?;
        if reason.is_empty() {
            return Err(Refusal::validation("reason: say why you need the export"));
        }
        let viewer = viewer.clone();
        let who = Who::viewer(&viewer);
        self.write(move |tx| {
            let (conversation, inbox) = visible_conversation(&*tx, &viewer, request.conversation_id)?;
            if !held(&viewer, &inbox) {
                return Err(Refusal::validation("this export needs no approval: download it directly"));
            }
            let created = ExportRequest {
                id: Id::new_v4(),
                requester_id: viewer.agent.id,
                requester_name: viewer.agent.name.clone(),
                inbox_id: inbox.id,
                conversation_id: conversation.id,
                format: request.format,
                reason,
                status: ExportRequestStatus::Pending,
                created_at: tx.now(),
                decided_by: None,
                decided_at: None,
                note: None,
                expires_at: None,
                downloaded_at: None,
            };
            tx.put_export_request(&created)?;
            audit_request(tx, &who, "export.requested", &created, None)?;
            Ok(created)
        })
        .await
    }

    /// `GET /export-requests`: an agent's own requests; a lead's of the inboxes they see; an
    /// admin's all. Newest first, each as it stands now.
    pub async fn export_requests(&self, viewer: &Viewer, pending_only: bool) -> Outcome<Vec<ExportRequest>> {
        let viewer = viewer.clone();
        self.read(move |store| {
            let now = store.now();
            let mut shown = Vec::new();
            for request in store.export_requests(pending_only, LIST_LIMIT)? {
                if may_read(store, &viewer, &request)? {
                    shown.push(as_of(request, now));
                }
            }
            Ok(shown)
        })
        .await
    }

    /// `POST /export-requests/{id}/decision`: a lead who sees the inbox, or an admin, approves or
    /// declines a pending request.
    pub async fn decide_export(
        &self,
        viewer: &Viewer,
        id: Id,
        decision: ExportDecision,
    ) -> Outcome<ExportRequest> {
        policy::require_lead(viewer)?;
        let note = decision.note.as_deref().map(|note| check_text(note, "note")).transpose()?;
        let note = note.filter(|note| !note.is_empty());
        let viewer = viewer.clone();
        let who = Who::viewer(&viewer);
        self.write(move |tx| {
            let request = tx.export_request(id)?.ok_or_else(|| Refusal::not_found("export request"))?;
            if !may_read(&*tx, &viewer, &request)? {
                return Err(Refusal::not_found("export request"));
            }
            if request.status != ExportRequestStatus::Pending {
                return Err(Refusal::conflict(ErrorCode::AlreadyExists, "this request was already decided"));
            }
            let now = tx.now();
            let decided = ExportRequest {
                status: if decision.approve {
                    ExportRequestStatus::Approved
                } else {
                    ExportRequestStatus::Declined
                },
                decided_by: Some(viewer.agent.id),
                decided_at: Some(now),
                note,
                expires_at: decision.approve.then_some(now + EXPORT_DOWNLOAD_WINDOW_MS),
                ..request
            };
            tx.put_export_request(&decided)?;
            let action = if decision.approve { "export.approved" } else { "export.declined" };
            audit_request(tx, &who, action, &decided, Some(json!({"status": ExportRequestStatus::Pending})))?;
            Ok(decided)
        })
        .await
    }

    /// `GET /export-requests/{id}/download`: the requester's transcript, once, while the approval
    /// lasts (and they still see the conversation). A late try records the expiry and answers
    /// `expired`; a second download answers `expired` too.
    pub async fn download_export(&self, viewer: &Viewer, id: Id) -> Outcome<(ExportRequest, Transcript)> {
        let viewer = viewer.clone();
        let who = Who::viewer(&viewer);
        let outcome = self
            .write(move |tx| {
                let not_found = || Refusal::not_found("export request");
                let request = tx.export_request(id)?.ok_or_else(not_found)?;
                if request.requester_id != viewer.agent.id {
                    return Err(not_found());
                }
                let now = tx.now();
                match as_of(request.clone(), now).status {
                    ExportRequestStatus::Approved => {}
                    ExportRequestStatus::Expired if request.status == ExportRequestStatus::Approved => {
                        // Recorded once, when first noticed: the request stays expired.
                        let expired = ExportRequest { status: ExportRequestStatus::Expired, ..request };
                        tx.put_export_request(&expired)?;
                        audit_request(tx, &who, "export.expired", &expired, None)?;
                        return Ok(Err(Refusal::new(
                            ErrorCode::Expired,
                            "the approval has expired: ask again if you still need the export",
                        )));
                    }
                    ExportRequestStatus::Downloaded | ExportRequestStatus::Expired => {
                        return Err(Refusal::new(
                            ErrorCode::Expired,
                            "this approved export was already downloaded or has expired",
                        ))
                    }
                    ExportRequestStatus::Pending | ExportRequestStatus::Declined => {
                        return Err(Refusal::forbidden("this export request is not approved"))
                    }
                }
                let (conversation, inbox) = visible_conversation(&*tx, &viewer, request.conversation_id)?;
                let contact: Contact = StoreReadExt::get(&*tx, conversation.contact_id)?
                    .ok_or_else(|| Refusal::internal("conversation without contact"))?;
                let messages = tx.messages_of(conversation.id)?;
                let done = ExportRequest {
                    status: ExportRequestStatus::Downloaded,
                    downloaded_at: Some(now),
                    ..request
                };
                tx.put_export_request(&done)?;
                let after = Some(json!({ "filters": {
                    "conversation_id": done.conversation_id,
                    "format": done.format.as_str(),
                    "export_request_id": done.id,
                }}));
                let what = Record {
                    action: "export.transcript",
                    target_type: "export",
                    target_id: Some(done.id),
                    target_label: "",
                    before: None,
                    after,
                };
                audit::record(tx, &who, what)?;
                Ok(Ok((done, Transcript { conversation, contact, inbox, messages })))
            })
            .await?;
        outcome
    }
}

/// Whether `viewer` may read `request`: the requester; a lead who sees its inbox; an admin.
fn may_read(store: &(impl StoreRead + ?Sized), viewer: &Viewer, request: &ExportRequest) -> Outcome<bool> {
    Ok(match viewer.agent.role {
        Role::Admin => true,
        Role::Agent => request.requester_id == viewer.agent.id,
        Role::Lead => {
            request.requester_id == viewer.agent.id
                || StoreReadExt::get::<Inbox>(store, request.inbox_id)?
                    .is_some_and(|inbox| policy::can_see_inbox(viewer, &inbox))
        }
    })
}

/// Where the workspace's app-lock requirement was kept before it became an entity of the feed
/// (`StoreRead::workspace_setting`): read while no entity exists, removed by the next change.
const LEGACY_LOCK_POLICY: &str = "lock_policy";
/// The longest idle time an admin may require, in minutes (a day).
const MAX_LOCK_MINUTES: u32 = 24 * 60;

impl Workspace {
    /// `GET /settings/lock`: the longest idle time an admin allows before the app locks (every
    /// signed-in agent reads it; the app applies it).
    pub async fn lock_policy(&self, _viewer: &Viewer) -> Outcome<LockPolicy> {
        self.read(|store| read_lock_policy(store)).await
    }

    /// `PUT /settings/lock` (admins, audited as `settings.lock`). Stored as the feed's one
    /// `lock_policy` entity, sent to everyone, so every running app applies it at once.
    pub async fn set_lock_policy(&self, viewer: &Viewer, policy: LockPolicy) -> Outcome<LockPolicy> {
        policy::require_admin(viewer)?;
        if policy.max_idle_minutes.is_some_and(|minutes| minutes == 0 || minutes > MAX_LOCK_MINUTES) {
            return Err(Refusal::validation(format!(
                "max_idle_minutes: 1 to {MAX_LOCK_MINUTES}, or null for the agent's own choice"
            )));
        }
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let before = read_lock_policy(&*tx)?;
            if before == policy {
                return Ok(policy);
            }
            tx.put(&policy, Audience::EVERYONE)?;
            tx.set_workspace_setting(LEGACY_LOCK_POLICY, None)?;
            let what = Record {
                action: "settings.lock",
                target_type: "workspace",
                target_id: None,
                target_label: "",
                before: Some(serde_json::to_value(before)?),
                after: Some(serde_json::to_value(policy)?),
            };
            audit::record(tx, &who, what)?;
            Ok(policy)
        })
        .await
    }
}

fn read_lock_policy(store: &(impl StoreRead + ?Sized)) -> Outcome<LockPolicy> {
    if let Some(policy) = store.get::<LockPolicy>(LOCK_POLICY_ID)? {
        return Ok(policy);
    }
    let legacy = store.workspace_setting(LEGACY_LOCK_POLICY)?;
    Ok(legacy.map(serde_json::from_value).transpose()?.unwrap_or_default())
}
