//! Quick replies as an agent uses them from the app (`/api/v1/quick-replies`): personal canned
//! responses made, changed and deleted, favourites bound to slots, insertions counted, and a
//! lead's promotion of a personal reply to a team-wide one. Each is idempotent on its
//! `client_id` (the client queues them in its outbox, so an offline edit is replayed later) and
//! answers the feed seq it committed at.
//!
//! The slot and the use count are the agent's own: a `QuickReplyUsage` per agent and reply, keyed
//! by the reply's id and private to the agent (`Audience::private`), so every device of theirs
//! receives the same favourites and ranking (the rule: `proto::quick_replies`).
//! `/api/v1/canned-responses` (directory.rs) stays the immediate REST face the settings use.

use switchboard_proto::quick_replies::{
    self, BindQuickReply, CreateQuickReply, QuickReplyResult, QuickReplyUsage, UpdateQuickReply,
};
use switchboard_proto::*;

use super::{
    audit::{self, Who},
    idempotency::{self, MutationKey},
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, StoreReadExt, StoreTx, StoreTxExt},
};

fn audience(canned: &CannedResponse) -> Audience {
    Audience { inbox: None, agent: canned.owner_id }
}

fn private(viewer: &Viewer) -> Audience {
    Audience::private(viewer.agent.id, None)
}

/// A canned response the viewer receives: team-wide, or their own personal one.
fn visible(tx: &dyn StoreTx, viewer: &Viewer, id: Id) -> Outcome<CannedResponse> {
    if let Some(shared) = tx.get::<CannedResponse>(id)? {
        return Ok(shared);
    }
    tx.get_scoped::<CannedResponse>(id, Some(viewer.agent.id))?
        .filter(|canned| canned.owner_id == Some(viewer.agent.id))
        .ok_or_else(|| Refusal::not_found("quick reply"))
}

/// One the viewer may change: their own personal one, or a team-wide one for leads and admins.
fn editable(tx: &dyn StoreTx, viewer: &Viewer, id: Id) -> Outcome<CannedResponse> {
    let canned = visible(tx, viewer, id)?;
    if canned.owner_id.is_none() {
        policy::require_lead(viewer)?;
    }
    Ok(canned)
}

fn usage(tx: &dyn StoreTx, viewer: &Viewer, canned_id: Id) -> Outcome<QuickReplyUsage> {
    Ok(tx
        .get_scoped::<QuickReplyUsage>(canned_id, Some(viewer.agent.id))?
        .unwrap_or_else(|| QuickReplyUsage::new(canned_id, viewer.agent.id)))
}

fn valid(text: Result<String, String>) -> Outcome<String> {
    text.map_err(Refusal::validation)
}

/// Runs a mutation once per `client_id`: a replay answers what the first run answered.
fn once(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    client_id: Id,
    action: &'static str,
    target: Id,
    run: impl FnOnce(&mut dyn StoreTx) -> Outcome<(Option<CannedResponse>, Option<QuickReplyUsage>)>,
) -> Outcome<QuickReplyResult> {
    let key = MutationKey { client_id, agent_id: viewer.agent.id, action, target };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    let (reply, usage) = run(tx)?;
    let result = QuickReplyResult { reply, usage, seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

fn create(tx: &mut dyn StoreTx, viewer: &Viewer, request: CreateQuickReply) -> Outcome<QuickReplyResult> {
    let id = request.client_id;
    once(tx, viewer, id, "create_quick_reply", id, |tx| {
        let title = valid(quick_replies::check_text(&request.title, &request.body))?;
        let short_code = valid(quick_replies::short_code(&request.short_code))?;
        if tx.get::<CannedResponse>(id)?.is_some()
            || tx.get_scoped::<CannedResponse>(id, Some(viewer.agent.id))?.is_some()
        {
            return Err(Refusal::conflict(ErrorCode::ClientIdReused, "a quick reply with this id exists"));
        }
        let canned =
            CannedResponse { id, short_code, title, body: request.body, owner_id: Some(viewer.agent.id) };
        tx.put(&canned, audience(&canned))?;
        Ok((Some(canned), None))
    })
}

fn update(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    id: Id,
    update: UpdateQuickReply,
) -> Outcome<QuickReplyResult> {
    once(tx, viewer, update.client_id, "update_quick_reply", id, |tx| {
        let before = editable(tx, viewer, id)?;
        let mut canned = before.clone();
        if let Some(code) = &update.short_code {
            canned.short_code = valid(quick_replies::short_code(code))?;
        }
        if let Some(title) = update.title {
            canned.title = title;
        }
        if let Some(body) = update.body {
            canned.body = body;
        }
        canned.title = valid(quick_replies::check_text(&canned.title, &canned.body))?;
        if canned != before {
            tx.put(&canned, audience(&canned))?;
            if canned.owner_id.is_none() {
                let label = canned.short_code.clone();
                audit::changed(
                    tx,
                    &Who::viewer(viewer),
                    "canned_response.update",
                    id,
                    &label,
                    Some(&before),
                    Some(&canned),
                )?;
            }
        }
        Ok((Some(canned), None))
    })
}

fn delete(tx: &mut dyn StoreTx, viewer: &Viewer, id: Id, client_id: Id) -> Outcome<QuickReplyResult> {
    once(tx, viewer, client_id, "delete_quick_reply", id, |tx| {
        let canned = editable(tx, viewer, id)?;
        tx.remove(EntityKind::CannedResponse, id, audience(&canned))?;
        // The caller's own slot and count go with it; other agents' rows of a team-wide reply
        // name nothing now and are left out of their lists (the client joins on the reply).
        tx.remove(EntityKind::QuickReplyUsage, id, private(viewer))?;
        if canned.owner_id.is_none() {
            let label = canned.short_code.clone();
            audit::changed(
                tx,
                &Who::viewer(viewer),
                "canned_response.delete",
                id,
                &label,
                Some(&canned),
                None,
            )?;
        }
        Ok((None, None))
    })
}

/// Binds the reply to `slot` (the reply that held it loses it) or unbinds it.
fn bind(tx: &mut dyn StoreTx, viewer: &Viewer, id: Id, request: BindQuickReply) -> Outcome<QuickReplyResult> {
    once(tx, viewer, request.client_id, "bind_quick_reply", id, |tx| {
        let slot = request.slot.map(quick_replies::valid_slot).transpose().map_err(Refusal::validation)?;
        let canned = visible(tx, viewer, id)?;
        if let Some(slot) = slot {
            let holders = tx.all::<QuickReplyUsage>()?.into_iter().filter(|u| {
                u.agent_id == viewer.agent.id && u.slot == Some(slot) && u.canned_response_id != id
            });
            for mut holder in holders.collect::<Vec<_>>() {
                holder.slot = None;
                tx.put(&holder, private(viewer))?;
            }
        }
        let mut usage = usage(tx, viewer, id)?;
        if usage.slot != slot {
            usage.slot = slot;
            tx.put(&usage, private(viewer))?;
        }
        Ok((Some(canned), Some(usage)))
    })
}

/// Counts one insertion of the reply (the ranking's input).
fn record_use(tx: &mut dyn StoreTx, viewer: &Viewer, id: Id, client_id: Id) -> Outcome<QuickReplyResult> {
    once(tx, viewer, client_id, "use_quick_reply", id, |tx| {
        let canned = visible(tx, viewer, id)?;
        let mut usage = usage(tx, viewer, id)?;
        usage.record_use(tx.now());
        tx.put(&usage, private(viewer))?;
        Ok((Some(canned), Some(usage)))
    })
}

/// A lead or admin makes their own personal reply team-wide: it leaves their private scope and
/// reaches everyone through the feed, audited. The caller's slot and count stay (keyed by id).
fn promote(tx: &mut dyn StoreTx, viewer: &Viewer, id: Id, client_id: Id) -> Outcome<QuickReplyResult> {
    once(tx, viewer, client_id, "promote_quick_reply", id, |tx| {
        let before = visible(tx, viewer, id)?;
        if before.owner_id.is_none() {
            return Err(Refusal::validation("this quick reply is already team-wide"));
        }
        if tx
            .all::<CannedResponse>()?
            .iter()
            .any(|c| c.owner_id.is_none() && c.short_code == before.short_code)
        {
            return Err(Refusal::conflict(
                ErrorCode::AlreadyExists,
                format!("a team-wide quick reply /{} exists", before.short_code),
            ));
        }
        let canned = CannedResponse { owner_id: None, ..before.clone() };
        tx.remove(EntityKind::CannedResponse, id, audience(&before))?;
        tx.put(&canned, audience(&canned))?;
        let label = canned.short_code.clone();
        audit::changed(
            tx,
            &Who::viewer(viewer),
            "canned_response.promote",
            id,
            &label,
            Some(&before),
            Some(&canned),
        )?;
        Ok((Some(canned), None))
    })
}

impl Workspace {
    /// The caller's slots and use counts, one per reply they have bound or used.
    pub async fn quick_reply_usages(&self, viewer: &Viewer) -> Outcome<Vec<QuickReplyUsage>> {
        let me = viewer.agent.id;
        self.read(move |store| {
            Ok(store.all::<QuickReplyUsage>()?.into_iter().filter(|u| u.agent_id == me).collect())
        })
        .await
    }

    pub async fn create_quick_reply(
        &self,
        viewer: &Viewer,
        request: CreateQuickReply,
    ) -> Outcome<QuickReplyResult> {
        let viewer = viewer.clone();
        self.write(move |tx| create(tx, &viewer, request)).await
    }

    pub async fn update_quick_reply(
        &self,
        viewer: &Viewer,
        id: Id,
        request: UpdateQuickReply,
    ) -> Outcome<QuickReplyResult> {
        let viewer = viewer.clone();
        self.write(move |tx| update(tx, &viewer, id, request)).await
    }

    pub async fn delete_quick_reply(
        &self,
        viewer: &Viewer,
        id: Id,
        client_id: Id,
    ) -> Outcome<QuickReplyResult> {
        let viewer = viewer.clone();
        self.write(move |tx| delete(tx, &viewer, id, client_id)).await
    }

    pub async fn bind_quick_reply(
        &self,
        viewer: &Viewer,
        id: Id,
        request: BindQuickReply,
    ) -> Outcome<QuickReplyResult> {
        let viewer = viewer.clone();
        self.write(move |tx| bind(tx, &viewer, id, request)).await
    }

    pub async fn use_quick_reply(&self, viewer: &Viewer, id: Id, client_id: Id) -> Outcome<QuickReplyResult> {
        let viewer = viewer.clone();
        self.write(move |tx| record_use(tx, &viewer, id, client_id)).await
    }

    pub async fn promote_quick_reply(
        &self,
        viewer: &Viewer,
        id: Id,
        client_id: Id,
    ) -> Outcome<QuickReplyResult> {
        policy::require_lead(viewer)?;
        let viewer = viewer.clone();
        self.write(move |tx| promote(tx, &viewer, id, client_id)).await
    }
}
