//! The agent's own quick replies through the outbox: made, changed, deleted, bound to a favourite
//! slot, counted when inserted, promoted to team-wide by a lead. Each is an
//! [`Action::QuickReply`](crate::outbox::Action) queued like any action, so an edit made offline
//! shows at once and reaches the server (`/api/v1/quick-replies`) on reconnect; its optimistic
//! effect uses the same rules the server commits with (`proto::quick_replies`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_proto::quick_replies::{
    self, BindQuickReply, CreateQuickReply, QuickReplyUsage, UpdateQuickReply,
};
use switchboard_proto::*;

use crate::{
    cache::Cache,
    error::{CoreError, CoreResult},
    outbox::{Action, EffectContext},
};

/// What is done to one quick reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum QuickReplyChange {
    Create {
        request: CreateQuickReply,
    },
    Update {
        request: UpdateQuickReply,
    },
    Delete {
        client_id: Id,
    },
    /// `displaced`: the replies that held the slot when this was queued (they lose it).
    Bind {
        request: BindQuickReply,
        displaced: Vec<Id>,
    },
    Use {
        client_id: Id,
    },
    Promote {
        client_id: Id,
    },
}

impl QuickReplyChange {
    pub fn client_id(&self) -> Id {
        match self {
            QuickReplyChange::Create { request } => request.client_id,
            QuickReplyChange::Update { request } => request.client_id,
            QuickReplyChange::Bind { request, .. } => request.client_id,
            QuickReplyChange::Delete { client_id }
            | QuickReplyChange::Use { client_id }
            | QuickReplyChange::Promote { client_id } => *client_id,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            QuickReplyChange::Create { .. } => "create_quick_reply",
            QuickReplyChange::Update { .. } => "update_quick_reply",
            QuickReplyChange::Delete { .. } => "delete_quick_reply",
            QuickReplyChange::Bind { .. } => "bind_quick_reply",
            QuickReplyChange::Use { .. } => "use_quick_reply",
            QuickReplyChange::Promote { .. } => "promote_quick_reply",
        }
    }

    pub fn touches(&self, reply_id: Id) -> Vec<(EntityKind, Id)> {
        let reply = (EntityKind::CannedResponse, reply_id);
        let usage = (EntityKind::QuickReplyUsage, reply_id);
        match self {
            QuickReplyChange::Create { .. }
            | QuickReplyChange::Update { .. }
            | QuickReplyChange::Promote { .. } => {
                vec![reply]
            }
            QuickReplyChange::Delete { .. } => vec![reply, usage],
            QuickReplyChange::Use { .. } => vec![usage],
            QuickReplyChange::Bind { displaced, .. } => std::iter::once(usage)
                .chain(displaced.iter().map(|id| (EntityKind::QuickReplyUsage, *id)))
                .collect(),
        }
    }

    /// The optimistic effect on one touched entity's displayed JSON.
    pub fn apply(
        &self,
        reply_id: Id,
        kind: EntityKind,
        current: Option<Value>,
        context: &EffectContext,
    ) -> Option<Value> {
        let me = context.me;
        match (self, kind) {
            (QuickReplyChange::Create { request }, EntityKind::CannedResponse) => current.or_else(|| {
                // What the server refuses shows nothing (the rejection would roll it back anyway).
                let title = quick_replies::check_text(&request.title, &request.body).ok()?;
                let short_code = quick_replies::short_code(&request.short_code).ok()?;
                to_value(&CannedResponse {
                    id: reply_id,
                    short_code,
                    title,
                    body: request.body.clone(),
                    owner_id: Some(me),
                })
            }),
            (QuickReplyChange::Update { request }, EntityKind::CannedResponse) => {
                edit(current, |c: &mut CannedResponse| {
                    let mut changed = c.clone();
                    if let Some(code) = &request.short_code {
                        let Ok(code) = quick_replies::short_code(code) else { return };
                        changed.short_code = code;
                    }
                    if let Some(title) = &request.title {
                        changed.title.clone_from(title);
                    }
                    if let Some(body) = &request.body {
                        changed.body.clone_from(body);
                    }
                    if let Ok(title) = quick_replies::check_text(&changed.title, &changed.body) {
                        changed.title = title;
                        *c = changed;
                    }
                })
            }
            (QuickReplyChange::Promote { .. }, EntityKind::CannedResponse) => {
                edit(current, |c: &mut CannedResponse| c.owner_id = None)
            }
            (QuickReplyChange::Delete { .. }, EntityKind::CannedResponse | EntityKind::QuickReplyUsage) => {
                None
            }
            (QuickReplyChange::Use { .. }, EntityKind::QuickReplyUsage) => {
                usage(current, reply_id, me, |u| u.record_use(context.queued_at))
            }
            (QuickReplyChange::Bind { request, .. }, EntityKind::QuickReplyUsage) => {
                let Some(slot) = request.slot.map(quick_replies::valid_slot).transpose().ok() else {
                    return current;
                };
                let reply_id_of = current
                    .as_ref()
                    .and_then(|v| v.get("canned_response_id"))
                    .and_then(|v| serde_json::from_value::<Id>(v.clone()).ok());
                match reply_id_of {
                    // A displaced reply loses the slot if it still holds it.
                    Some(other) if other != reply_id => edit(current, |u: &mut QuickReplyUsage| {
                        if slot.is_some() && u.slot == slot {
                            u.slot = None;
                        }
                    }),
                    _ => usage(current, reply_id, me, |u| u.slot = slot),
                }
            }
            _ => current,
        }
    }
}

/// A personal quick reply, checked as the server checks it.
pub fn create(short_code: &str, title: &str, body: &str) -> CoreResult<Action> {
    let title = quick_replies::check_text(title, body).map_err(CoreError::Validation)?;
    let short_code = quick_replies::short_code(short_code).map_err(CoreError::Validation)?;
    let client_id = Id::new_v4();
    Ok(Action::QuickReply {
        reply_id: client_id,
        change: QuickReplyChange::Create {
            request: CreateQuickReply { client_id, short_code, title, body: body.to_owned() },
        },
    })
}

/// Changes a quick reply's code, title and body.
pub fn update(reply_id: Id, short_code: &str, title: &str, body: &str) -> CoreResult<Action> {
    let title = quick_replies::check_text(title, body).map_err(CoreError::Validation)?;
    let short_code = quick_replies::short_code(short_code).map_err(CoreError::Validation)?;
    Ok(Action::QuickReply {
        reply_id,
        change: QuickReplyChange::Update {
            request: UpdateQuickReply {
                client_id: Id::new_v4(),
                short_code: Some(short_code),
                title: Some(title),
                body: Some(body.to_owned()),
            },
        },
    })
}

pub fn delete(reply_id: Id) -> Action {
    Action::QuickReply { reply_id, change: QuickReplyChange::Delete { client_id: Id::new_v4() } }
}

/// Counts an insertion of the reply (the ranking's input).
pub fn record_use(reply_id: Id) -> Action {
    Action::QuickReply { reply_id, change: QuickReplyChange::Use { client_id: Id::new_v4() } }
}

pub fn promote(reply_id: Id) -> Action {
    Action::QuickReply { reply_id, change: QuickReplyChange::Promote { client_id: Id::new_v4() } }
}

/// Binds the reply to `slot` (1–9) or unbinds it (`None`); the replies the cache shows holding
/// that slot are named so they lose it at once.
pub fn bind(cache: &Cache, reply_id: Id, slot: Option<u8>) -> CoreResult<Action> {
    let slot = slot.map(quick_replies::valid_slot).transpose().map_err(CoreError::Validation)?;
    let displaced = match slot {
        Some(slot) => cache
            .all::<QuickReplyUsage>(EntityKind::QuickReplyUsage)?
            .into_iter()
            .filter(|u| u.slot == Some(slot) && u.canned_response_id != reply_id)
            .map(|u| u.canned_response_id)
            .collect(),
        None => vec![],
    };
    Ok(Action::QuickReply {
        reply_id,
        change: QuickReplyChange::Bind {
            request: BindQuickReply { client_id: Id::new_v4(), slot },
            displaced,
        },
    })
}

fn to_value<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

fn edit<T: Serialize + serde::de::DeserializeOwned>(
    current: Option<Value>,
    change: impl FnOnce(&mut T),
) -> Option<Value> {
    let value = current?;
    match serde_json::from_value::<T>(value.clone()) {
        Ok(mut entity) => {
            change(&mut entity);
            to_value(&entity).or(Some(value))
        }
        Err(_) => Some(value),
    }
}

/// Edits the usage, starting from an empty one when the agent has none yet.
fn usage(
    current: Option<Value>,
    reply_id: Id,
    me: Id,
    change: impl FnOnce(&mut QuickReplyUsage),
) -> Option<Value> {
    let mut usage = match current {
        Some(value) => match serde_json::from_value::<QuickReplyUsage>(value.clone()) {
            Ok(usage) => usage,
            Err(_) => return Some(value),
        },
        None => QuickReplyUsage::new(reply_id, me),
    };
    change(&mut usage);
    to_value(&usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> EffectContext {
        EffectContext { me: Id::new_v4(), queued_at: 1_000 }
    }

    #[test]
    fn binding_a_slot_takes_it_from_the_reply_that_held_it() {
        let context = context();
        let (mine, other) = (Id::new_v4(), Id::new_v4());
        let held = QuickReplyUsage { slot: Some(1), ..QuickReplyUsage::new(other, context.me) };
        let reply_id = mine;
        let change = QuickReplyChange::Bind {
            request: BindQuickReply { client_id: Id::new_v4(), slot: Some(1) },
            displaced: vec![other],
        };
        assert_eq!(change.touches(reply_id).len(), 2);
        let bound = change.apply(reply_id, EntityKind::QuickReplyUsage, None, &context).expect("made");
        assert_eq!(bound["slot"], 1);
        let freed =
            change.apply(reply_id, EntityKind::QuickReplyUsage, to_value(&held), &context).expect("kept");
        assert_eq!(freed["slot"], Value::Null);
    }

    #[test]
    fn a_use_counts_on_top_of_the_server_version_and_bad_text_is_refused_here() {
        let context = context();
        let change = QuickReplyChange::Use { client_id: Id::new_v4() };
        let id = Id::new_v4();
        let once = change.apply(id, EntityKind::QuickReplyUsage, None, &context);
        let twice = change.apply(id, EntityKind::QuickReplyUsage, once, &context).expect("kept");
        assert_eq!(twice["uses"], 2);
        assert!(create("two words", "t", "b").is_err());
        assert!(create("ok", " ", "b").is_err());
        assert!(create("ok", "Title", "Body").is_ok());
    }
}
