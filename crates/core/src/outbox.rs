//! The outbox's actions and their optimistic effects.
//!
//! Every agent action becomes an [`Action`], written to the cache's `outbox` table in the same
//! transaction that shows its effect. The displayed version of an entity is always recomputed as
//! "the server's version, then every pending action that touches it, in order" — so rolling back a
//! rejected action is just recomputing without it, and a server change that arrives while actions
//! are pending is rebased under them.
//!
//! What an action does to a conversation is not restated here: the effects call the same
//! `switchboard_proto::rules` the server commits with, so the optimistic version matches the
//! server's apart from the fields only the server knows (its timestamps, rendered templates,
//! resolved mentions, delivery state).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_proto::views::{CreateSavedView, SavedView, UpdateSavedView};
use switchboard_proto::{contacts, escalation, rules, *};

/// One agent action, as queued and as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// A reply or note. `staged_files` are uploaded first and become the request's attachments.
    Send {
        conversation_id: Id,
        request: SendMessage,
        staged_files: Vec<Id>,
    },
    Assign {
        conversation_id: Id,
        request: AssignRequest,
    },
    Status {
        conversation_id: Id,
        request: StatusRequest,
    },
    Labels {
        conversation_id: Id,
        request: LabelsRequest,
    },
    Priority {
        conversation_id: Id,
        request: PriorityRequest,
    },
    Escalation {
        conversation_id: Id,
        request: EscalationRequest,
    },
    Read {
        conversation_id: Id,
        request: ReadRequest,
    },
    Pin {
        conversation_id: Id,
        client_id: Id,
        pinned: bool,
    },
    /// Send a failed reply again.
    Retry {
        conversation_id: Id,
        message_id: Id,
        request: RetryRequest,
    },
    CreateConversation {
        request: CreateConversation,
    },
    CreateContact {
        request: CreateContact,
    },
    /// Edit a contact (`PATCH /contacts/{id}`): queued, so an edit made offline is sent later.
    UpdateContact {
        contact_id: Id,
        request: contacts::UpdateContact,
    },
    /// Save a filter as a view (its id is the request's `client_id`).
    CreateView {
        request: CreateSavedView,
    },
    /// Rename a saved view or change its filter.
    UpdateView {
        view_id: Id,
        request: UpdateSavedView,
    },
    DeleteView {
        view_id: Id,
        client_id: Id,
    },
    /// One of the agent's quick replies made, changed, deleted, bound, used or promoted
    /// (`crate::quick_reply_actions`).
    QuickReply {
        reply_id: Id,
        change: crate::quick_reply_actions::QuickReplyChange,
    },
}

/// What an optimistic effect needs to know besides the action.
#[derive(Debug, Clone)]
pub struct EffectContext {
    /// The signed-in agent.
    pub me: Id,
    /// When the action was queued (optimistic timestamps).
    pub queued_at: Millis,
}

impl Action {
    pub fn client_id(&self) -> Id {
        match self {
            Action::Send { request, .. } => request.client_id,
            Action::Assign { request, .. } => request.client_id,
            Action::Status { request, .. } => request.client_id,
            Action::Labels { request, .. } => request.client_id,
            Action::Priority { request, .. } => request.client_id,
            Action::Escalation { request, .. } => request.client_id,
            Action::Read { request, .. } => request.client_id,
            Action::Pin { client_id, .. } => *client_id,
            Action::Retry { request, .. } => request.client_id,
            Action::CreateConversation { request } => request.client_id,
            Action::CreateContact { request } => request.client_id,
            Action::UpdateContact { request, .. } => request.client_id,
            Action::CreateView { request } => request.client_id,
            Action::UpdateView { request, .. } => request.client_id,
            Action::DeleteView { client_id, .. } => *client_id,
            Action::QuickReply { change, .. } => change.client_id(),
        }
    }

    /// The action as one of a bulk action (the same `bulk_id` on every conversation of a
    /// multi-selection, which the server's audit trail keeps); actions without one are unchanged.
    pub fn in_bulk(mut self, bulk_id: Id) -> Action {
        match &mut self {
            Action::Assign { request, .. } => request.bulk_id = Some(bulk_id),
            Action::Status { request, .. } => request.bulk_id = Some(bulk_id),
            Action::Labels { request, .. } => request.bulk_id = Some(bulk_id),
            Action::Priority { request, .. } => request.bulk_id = Some(bulk_id),
            _ => {}
        }
        self
    }

    /// The conversation the action is about, if any.
    pub fn conversation_id(&self) -> Option<Id> {
        match self {
            Action::Send { conversation_id, .. }
            | Action::Assign { conversation_id, .. }
            | Action::Status { conversation_id, .. }
            | Action::Labels { conversation_id, .. }
            | Action::Priority { conversation_id, .. }
            | Action::Escalation { conversation_id, .. }
            | Action::Read { conversation_id, .. }
            | Action::Pin { conversation_id, .. }
            | Action::Retry { conversation_id, .. } => Some(*conversation_id),
            Action::CreateConversation { request } => Some(request.client_id),
            Action::CreateContact { .. }
            | Action::UpdateContact { .. }
            | Action::CreateView { .. }
            | Action::UpdateView { .. }
            | Action::DeleteView { .. }
            | Action::QuickReply { .. } => None,
        }
    }

    /// A short name for events and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Send { request, .. } if request.kind == SendKind::Note => "note",
            Action::Send { .. } => "reply",
            Action::Assign { .. } => "assign",
            Action::Status { .. } => "status",
            Action::Labels { .. } => "labels",
            Action::Priority { .. } => "priority",
            Action::Escalation { .. } => "escalation",
            Action::Read { .. } => "read",
            Action::Pin { .. } => "pin",
            Action::Retry { .. } => "retry",
            Action::CreateConversation { .. } => "create_conversation",
            Action::CreateContact { .. } => "create_contact",
            Action::UpdateContact { .. } => "update_contact",
            Action::CreateView { .. } => "create_view",
            Action::UpdateView { .. } => "update_view",
            Action::DeleteView { .. } => "delete_view",
            Action::QuickReply { change, .. } => change.name(),
        }
    }

    /// The cached entities whose displayed version this action changes.
    pub fn touches(&self) -> Vec<(EntityKind, Id)> {
        match self {
            Action::Send { conversation_id, request, .. } => {
                let mut touched = vec![(EntityKind::Message, request.client_id)];
                if request.kind == SendKind::Reply {
                    touched.push((EntityKind::Conversation, *conversation_id));
                }
                touched
            }
            Action::Assign { conversation_id, .. }
            | Action::Status { conversation_id, .. }
            | Action::Labels { conversation_id, .. }
            | Action::Priority { conversation_id, .. }
            | Action::Escalation { conversation_id, .. } => {
                vec![(EntityKind::Conversation, *conversation_id)]
            }
            Action::Read { conversation_id, .. } => vec![(EntityKind::ReadMarker, *conversation_id)],
            Action::Pin { conversation_id, .. } => vec![(EntityKind::Pin, *conversation_id)],
            Action::Retry { message_id, .. } => vec![(EntityKind::Message, *message_id)],
            Action::CreateConversation { request } => vec![
                (EntityKind::Conversation, request.client_id),
                // The first message's id, as the server will give it: the optimistic copy is then
                // the same entity as the server's, and is replaced by it rather than shown beside it.
                (EntityKind::Message, first_message_id(request.client_id)),
            ],
            Action::CreateContact { request } => vec![(EntityKind::Contact, request.client_id)],
            Action::UpdateContact { contact_id, .. } => vec![(EntityKind::Contact, *contact_id)],
            Action::CreateView { request } => vec![(EntityKind::SavedView, request.client_id)],
            Action::UpdateView { view_id, .. } | Action::DeleteView { view_id, .. } => {
                vec![(EntityKind::SavedView, *view_id)]
            }
            Action::QuickReply { reply_id, change } => change.touches(*reply_id),
        }
    }

    /// Applies this action's optimistic effect to one touched entity's displayed JSON.
    pub fn apply(&self, kind: EntityKind, current: Option<Value>, context: &EffectContext) -> Option<Value> {
        let me = context.me;
        let now = context.queued_at;
        match (self, kind) {
            (Action::Send { conversation_id, request, .. }, EntityKind::Message) => {
                // Once the server's version exists, it wins.
                current.or_else(|| {
                    to_value(&Message {
                        id: request.client_id,
                        conversation_id: *conversation_id,
                        kind: match request.kind {
                            SendKind::Reply => MessageKind::Outgoing,
                            SendKind::Note => MessageKind::Note,
                        },
                        body: request.body.clone(),
                        sender: Sender::Agent { id: me },
                        attachments: vec![],
                        template: request.template.clone(),
                        delivery: DeliveryState::Queued,
                        failure: None,
                        mentions: vec![],
                        created_at: now,
                    })
                })
            }
            (Action::Send { request, .. }, EntityKind::Conversation) => {
                edit(current, |c: &mut Conversation| {
                    // The queued time may be older than a server change rebased under the action:
                    // never move the activity time backwards (the server's time replaces it anyway).
                    let at = now.max(c.last_activity_at);
                    let shown = c.preview.clone();
                    rules::on_outgoing(c, &request.body, at);
                    if request.template.is_some() {
                        // Only the server renders the template; keep the old preview until then.
                        c.preview = shown;
                    }
                })
            }
            (Action::Assign { request, .. }, EntityKind::Conversation) => {
                edit(current, |c: &mut Conversation| {
                    // A compare-and-set that will fail shows nothing: only assign over what we expect.
                    if rules::assignment_holds(c, request.expected_assignee_id) {
                        rules::apply_assignment(c, request.assignee_id, request.team_id);
                    }
                })
            }
            (Action::Status { request, .. }, EntityKind::Conversation) => {
                edit(current, |c: &mut Conversation| {
                    rules::apply_status(c, request.status, request.snoozed_until);
                })
            }
            (Action::Labels { request, .. }, EntityKind::Conversation) => {
                edit(current, |c: &mut Conversation| {
                    rules::edit_labels(&mut c.labels, &request.add, &request.remove);
                })
            }
            (Action::Priority { request, .. }, EntityKind::Conversation) => {
                edit(current, |c: &mut Conversation| c.priority = request.priority)
            }
            (Action::Escalation { request, .. }, EntityKind::Conversation) => {
                edit(current, |c: &mut Conversation| {
                    // A note the server will refuse shows nothing (the rejection rolls it back).
                    let Ok(note) = escalation::escalation_note(request.note.as_deref()) else { return };
                    let by = escalation::EscalatedBy::Agent { id: me };
                    let marked = request.escalated.then_some(escalation::Escalation { at: now, by, note });
                    escalation::apply_escalation(c, marked);
                })
            }
            (Action::Read { conversation_id, request }, EntityKind::ReadMarker) => to_value(&ReadMarker {
                conversation_id: *conversation_id,
                last_read_message_id: request.last_read_message_id,
                read_at: now,
            }),
            (Action::Pin { conversation_id, pinned, .. }, EntityKind::Pin) => {
                if *pinned {
                    current.or_else(|| to_value(&Pin { conversation_id: *conversation_id, pinned_at: now }))
                } else {
                    None
                }
            }
            (Action::Retry { .. }, EntityKind::Message) => {
                edit(current, |m: &mut Message| {
                    // Only a failed reply is retried (the server refuses the rest, rolling it back).
                    if m.kind == MessageKind::Outgoing && m.delivery == DeliveryState::Failed {
                        m.delivery = DeliveryState::Queued;
                        m.failure = None;
                    }
                })
            }
            (Action::CreateConversation { request }, EntityKind::Conversation) => current.or_else(|| {
                let new = rules::NewOutgoing {
                    id: request.client_id,
                    inbox_id: request.inbox_id,
                    contact_id: request.contact_id,
                    subject: request.subject.as_deref(),
                    assignee_id: me,
                    // A template's text is rendered by the server; until then the preview is empty.
                    body: request.body.as_deref().unwrap_or_default(),
                };
                to_value(&rules::new_outgoing_conversation(&new, now))
            }),
            (Action::CreateConversation { request }, EntityKind::Message) => current.or_else(|| {
                to_value(&Message {
                    id: first_message_id(request.client_id),
                    conversation_id: request.client_id,
                    kind: MessageKind::Outgoing,
                    body: request.body.clone().unwrap_or_default(),
                    sender: Sender::Agent { id: me },
                    attachments: vec![],
                    template: request.template.clone(),
                    delivery: DeliveryState::Queued,
                    failure: None,
                    mentions: vec![],
                    created_at: now,
                })
            }),
            (Action::CreateContact { request }, EntityKind::Contact) => current.or_else(|| {
                to_value(&rules::new_contact(
                    request.client_id,
                    &request.name,
                    request.phone.as_deref(),
                    request.email.as_deref(),
                    now,
                ))
            }),
            (Action::UpdateContact { request, .. }, EntityKind::Contact) => {
                edit(current, |c: &mut Contact| {
                    // The definitions are the server's to check (a refusal rolls the edit back):
                    // here every custom value is kept as typed, trimmed; an edit the shared rule
                    // refuses outright shows nothing.
                    let loose: Vec<contacts::CustomField> = request
                        .fields
                        .keys()
                        .map(|key| contacts::CustomField {
                            id: Id::nil(),
                            key: key.clone(),
                            label: key.clone(),
                            kind: contacts::CustomFieldKind::Text,
                            options: vec![],
                            created_at: 0,
                        })
                        .collect();
                    let _ = contacts::apply_contact_update(c, request, &loose);
                })
            }
            (Action::CreateView { request }, EntityKind::SavedView) => current.or_else(|| {
                to_value(&SavedView {
                    id: request.client_id,
                    // The server keeps the name trimmed; one it refuses rolls the view back.
                    name: request.name.trim().to_owned(),
                    filter: request.filter.clone(),
                    owner_id: request.team_id.is_none().then_some(me),
                    team_id: request.team_id,
                    created_by: me,
                    created_at: now,
                })
            }),
            (Action::UpdateView { request, .. }, EntityKind::SavedView) => {
                edit(current, |v: &mut SavedView| {
                    if let Some(name) = &request.name {
                        v.name = name.trim().to_owned();
                    }
                    if let Some(filter) = &request.filter {
                        v.filter = filter.clone();
                    }
                })
            }
            (Action::DeleteView { .. }, EntityKind::SavedView) => None,
            (Action::QuickReply { reply_id, change }, kind) => {
                change.apply(*reply_id, kind, current, context)
            }
            _ => current,
        }
    }
}

fn to_value<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// Edits a displayed entity if it exists and parses; anything else is left as it is.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation() -> Conversation {
        Conversation {
            labels: vec!["vip".into()],
            waiting_since: Some(0),
            last_incoming_at: Some(0),
            ..switchboard_proto::rules::new_conversation(Id::new_v4(), Id::new_v4(), Id::new_v4(), 0)
        }
    }

    fn context() -> EffectContext {
        EffectContext { me: Id::new_v4(), queued_at: 1_000 }
    }

    #[test]
    fn a_claim_shows_only_if_the_expected_assignee_still_holds_it() {
        let context = context();
        let other = Id::new_v4();
        let claim = Action::Assign {
            conversation_id: Id::new_v4(),
            request: AssignRequest {
                client_id: Id::new_v4(),
                assignee_id: Some(context.me),
                team_id: None,
                expected_assignee_id: Some(None),
                bulk_id: None,
            },
        };
        let free = serde_json::to_value(conversation()).ok();
        let claimed = claim.apply(EntityKind::Conversation, free, &context).expect("kept");
        assert_eq!(claimed["assignee_id"], serde_json::json!(context.me));
        let taken = serde_json::to_value(Conversation { assignee_id: Some(other), ..conversation() }).ok();
        let unchanged = claim.apply(EntityKind::Conversation, taken, &context).expect("kept");
        assert_eq!(unchanged["assignee_id"], serde_json::json!(other), "a losing claim must not show as won");
    }

    #[test]
    fn labels_add_and_remove_on_top_of_the_server_version() {
        let action = Action::Labels {
            conversation_id: Id::new_v4(),
            request: LabelsRequest {
                client_id: Id::new_v4(),
                add: vec!["bug".into()],
                remove: vec!["vip".into()],
                bulk_id: None,
            },
        };
        let applied =
            action.apply(EntityKind::Conversation, serde_json::to_value(conversation()).ok(), &context());
        assert_eq!(applied.expect("kept")["labels"], serde_json::json!(["bug"]));
    }

    #[test]
    fn a_queued_reply_appears_as_a_queued_message_until_the_server_version_exists() {
        let context = context();
        let conversation_id = Id::new_v4();
        let action = Action::Send {
            conversation_id,
            request: SendMessage {
                client_id: Id::new_v4(),
                kind: SendKind::Reply,
                body: "on its way".into(),
                attachment_ids: vec![],
                template: None,
            },
            staged_files: vec![],
        };
        let optimistic = action.apply(EntityKind::Message, None, &context).expect("created");
        assert_eq!(optimistic["delivery"], "queued");
        assert_eq!(optimistic["conversation_id"], serde_json::json!(conversation_id));
        let server = serde_json::json!({"server": true});
        assert_eq!(action.apply(EntityKind::Message, Some(server.clone()), &context), Some(server));
        let updated =
            action.apply(EntityKind::Conversation, serde_json::to_value(conversation()).ok(), &context);
        let updated = updated.expect("kept");
        assert_eq!(
            (updated["waiting_since"].clone(), updated["preview"].clone()),
            (Value::Null, "on its way".into())
        );
    }

    #[test]
    fn actions_round_trip_through_json_including_null_versus_absent() {
        let action = Action::Assign {
            conversation_id: Id::new_v4(),
            request: AssignRequest {
                client_id: Id::new_v4(),
                assignee_id: None,
                team_id: Some(None),
                expected_assignee_id: None,
                bulk_id: None,
            },
        };
        let json = serde_json::to_string(&action).expect("serializes");
        let back: Action = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, action, "team_id: null (clear) must not become absent (keep)");
    }
}
