//! The shared-inbox rules, as pure functions over proto entities. Every storage backend applies
//! these; they know nothing of SQL or HTTP, so they are tested here in isolation. The rules the
//! client applies too (previews, reply bookkeeping, status, labels, mentions) live in
//! `switchboard_proto::rules` and are re-exported here.

use switchboard_proto::{
    Agent, Channel, Conversation, Id, Inbox, Millis, Role, TemplateRef, REPLY_WINDOW_MS,
};

/// How recently a resolved conversation may have been active for a new customer message to reopen
/// it rather than start a new one.
pub const REOPEN_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

/// Whether `agent` may see `inbox`: admins see every inbox, others those they or one of their
/// teams are members of.
pub fn can_see_inbox(agent: &Agent, inbox: &Inbox) -> bool {
    switchboard_proto::rules::can_see_inbox(agent, inbox)
}

/// Whether `agent` may see `conversation` of `inbox`: they see the inbox, and its visibility mode
/// shows them the conversation (admins see every conversation). The one rule every read and action
/// goes by (`workspace/feed.rs::Visibility`, `workspace/conversations.rs::visible_conversation`).
pub fn can_see_conversation(agent: &Agent, inbox: &Inbox, assignee: Option<Id>) -> bool {
    can_see_inbox(agent, inbox) && (agent.role == Role::Admin || inbox.visibility.shows(agent.id, assignee))
}

/// Whether `agent` works `inbox`: named as a member, or in one of its teams. Routing hands out
/// conversations to members only; an admin sees every inbox without working them all.
pub fn is_inbox_member(agent: &Agent, inbox: &Inbox) -> bool {
    inbox.member_agent_ids.contains(&agent.id)
        || inbox.member_team_ids.iter().any(|team| agent.team_ids.contains(team))
}

/// The ids of the inboxes `agent` may see.
pub fn visible_inbox_ids<'a>(agent: &Agent, inboxes: impl IntoIterator<Item = &'a Inbox>) -> Vec<Id> {
    inboxes.into_iter().filter(|inbox| can_see_inbox(agent, inbox)).map(|inbox| inbox.id).collect()
}

/// Whether a customer message on a resolved conversation should reopen it (else: a new one).
pub fn reopens(conversation: &Conversation, now: Millis) -> bool {
    now - conversation.last_activity_at <= REOPEN_WINDOW_MS
}

/// Why a reply can't be sent as asked.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplyRejection {
    /// Free-form text outside the reply window; `templates`: whether a template may still go
    /// (WhatsApp), else only the customer writing again reopens it (Messenger, Instagram).
    WindowClosed {
        closed_at: Millis,
        templates: bool,
    },
    /// A template on an inbox whose channel has none (templates are WhatsApp's: Messenger,
    /// Instagram, Telegram, email and the widget send free-form text only).
    NoTemplates {
        channel: Channel,
    },
    /// The template isn't one of the inbox's, or its parameters don't fit.
    UnknownTemplate(String),
    Empty,
}

/// Checks a reply against the inbox's channel rules and returns the text to send: the body, or
/// the rendered template.
pub fn reply_text(
    inbox: &Inbox,
    conversation: &Conversation,
    body: &str,
    template: Option<&TemplateRef>,
    has_attachments: bool,
    now: Millis,
) -> Result<String, ReplyRejection> {
    reply_text_within(inbox, conversation, body, template, has_attachments, now, REPLY_WINDOW_MS)
}

/// [`reply_text`] with the inbox's own window on channels that have one (`window_ms` after the
/// customer's last message: 7 days for a person's reply on a Messenger or Instagram inbox that
/// uses the `HUMAN_AGENT` tag).
pub fn reply_text_within(
    inbox: &Inbox,
    conversation: &Conversation,
    body: &str,
    template: Option<&TemplateRef>,
    has_attachments: bool,
    now: Millis,
    window_ms: Millis,
) -> Result<String, ReplyRejection> {
    if let Some(wanted) = template {
        if !sends_templates(inbox) {
            return Err(ReplyRejection::NoTemplates { channel: inbox.channel });
        }
        let found =
            inbox.templates.iter().find(|t| t.name == wanted.name).ok_or_else(|| {
                ReplyRejection::UnknownTemplate(format!("no template named {:?}", wanted.name))
            })?;
        if found.param_count() != wanted.params.len() {
            return Err(ReplyRejection::UnknownTemplate(format!(
                "template {:?} takes {} parameters, got {}",
                wanted.name,
                found.param_count(),
                wanted.params.len()
            )));
        }
        return Ok(found.render(&wanted.params));
    }
    if inbox.channel.has_reply_window() {
        let closed_at = conversation.last_incoming_at.map_or(Millis::MIN, |at| at.saturating_add(window_ms));
        if now >= closed_at {
            return Err(ReplyRejection::WindowClosed { closed_at, templates: sends_templates(inbox) });
        }
    }
    if body.trim().is_empty() && !has_attachments {
        return Err(ReplyRejection::Empty);
    }
    Ok(body.to_owned())
}

/// Whether approved templates are a thing on `channel`: they are WhatsApp's (Meta's Messenger and
/// Instagram have none, whatever the connector: the demo's simulator included).
pub fn channel_has_templates(channel: Channel) -> bool {
    !matches!(channel, Channel::Facebook | Channel::Instagram)
}

/// Whether a template may be sent on `inbox`: its channel has them and its connector sends them
/// (`Inbox::reply_rules`, from the connector's capabilities; an inbox without a connector fails
/// any reply at delivery, saying so).
pub fn sends_templates(inbox: &Inbox) -> bool {
    channel_has_templates(inbox.channel) && inbox.reply_rules.is_none_or(|rules| rules.templates)
}

/// Whether `channel` needs a template to start a conversation (no customer message to answer).
pub fn outbound_needs_template(channel: Channel) -> bool {
    channel.has_reply_window()
}

pub use switchboard_proto::text::{fts_query, normalize_for_search, phone_digits};

// The conversation rules the client core applies too, as optimistic effects: one copy, in proto.
pub use switchboard_proto::rules::{
    apply_assignment, apply_status, assignment_holds, can_start_conversation, contact_address, edit_labels,
    mention_handle, new_contact, new_conversation, new_outgoing_conversation, on_incoming, on_outgoing,
    parse_mentions, preview, NewOutgoing, PREVIEW_CHARS,
};

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_proto::MessageTemplate;

    fn conversation() -> Conversation {
        let new = switchboard_proto::rules::new_conversation(Id::new_v4(), Id::new_v4(), Id::new_v4(), 0);
        Conversation { last_incoming_at: Some(0), ..new }
    }

    fn inbox(channel: Channel) -> Inbox {
        Inbox {
            id: Id::new_v4(),
            name: "Main".into(),
            channel,
            member_agent_ids: vec![],
            member_team_ids: vec![],
            templates: vec![MessageTemplate {
                name: "follow_up".into(),
                language: "en".into(),
                body: "Hello {{1}}, any news?".into(),
            }],
            attachment_limit: channel.attachment_limit(),
            hours: None,
            routing: switchboard_proto::Routing::default(),
            auto_replies: switchboard_proto::AutoReplies::default(),
            visibility: Default::default(),
            exports_need_approval: false,
            reply_rules: None,
        }
    }

    /// Templates are WhatsApp's: Messenger and Instagram refuse one (whatever the connector), a
    /// connector without them (Telegram's) too; a closed window says whether a template is left.
    #[test]
    fn templates_only_where_the_channel_and_connector_have_them() {
        let template = TemplateRef { name: "follow_up".into(), params: vec!["Ana".into()] };
        let late = switchboard_proto::REPLY_WINDOW_MS + 1;
        for channel in [Channel::Facebook, Channel::Instagram] {
            let meta = inbox(channel);
            assert_eq!(
                reply_text(&meta, &conversation(), "", Some(&template), false, 10),
                Err(ReplyRejection::NoTemplates { channel })
            );
            assert_eq!(
                reply_text(&meta, &conversation(), "hi", None, false, late),
                Err(ReplyRejection::WindowClosed { closed_at: late - 1, templates: false })
            );
        }
        let mut telegram = inbox(Channel::Telegram);
        telegram.reply_rules =
            Some(switchboard_proto::ReplyRules { window_ms: None, person_window_ms: None, templates: false });
        assert_eq!(
            reply_text(&telegram, &conversation(), "", Some(&template), false, 10),
            Err(ReplyRejection::NoTemplates { channel: Channel::Telegram })
        );
        assert_eq!(
            reply_text(&inbox(Channel::Whatsapp), &conversation(), "hi", None, false, late),
            Err(ReplyRejection::WindowClosed { closed_at: late - 1, templates: true })
        );
    }

    #[test]
    fn reply_outside_window_needs_a_template() {
        let inbox = inbox(Channel::Whatsapp);
        let conversation = conversation();
        let late = switchboard_proto::REPLY_WINDOW_MS + 1;
        assert!(matches!(
            reply_text(&inbox, &conversation, "hi", None, false, late),
            Err(ReplyRejection::WindowClosed { .. })
        ));
        let template = TemplateRef { name: "follow_up".into(), params: vec!["Ana".into()] };
        assert_eq!(
            reply_text(&inbox, &conversation, "", Some(&template), false, late),
            Ok("Hello Ana, any news?".to_string())
        );
        let wrong = TemplateRef { name: "follow_up".into(), params: vec![] };
        assert!(matches!(
            reply_text(&inbox, &conversation, "", Some(&wrong), false, late),
            Err(ReplyRejection::UnknownTemplate(_))
        ));
        assert_eq!(reply_text(&inbox, &conversation, "hi", None, false, 10), Ok("hi".into()));
        assert_eq!(reply_text(&inbox, &conversation, "  ", None, false, 10), Err(ReplyRejection::Empty));
    }
}
