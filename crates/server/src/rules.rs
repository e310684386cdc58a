//! The shared-inbox rules, as pure functions over proto entities. Every storage backend applies
//! these; they know nothing of SQL or HTTP, so they are tested here in isolation.

use switchboard_proto::{
    Agent, Channel, Conversation, ConversationStatus, Id, Inbox, Millis, Role, TemplateRef,
};

/// How recently a resolved conversation may have been active for a new customer message to reopen
/// it rather than start a new one.
pub const REOPEN_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

/// Longest preview kept on a conversation for list rows, in characters.
const PREVIEW_CHARS: usize = 140;

/// Whether `agent` may see `inbox`: admins see every inbox, others those they or one of their
/// teams are members of.
pub fn can_see_inbox(agent: &Agent, inbox: &Inbox) -> bool {
    agent.role == Role::Admin
        || inbox.member_agent_ids.contains(&agent.id)
        || inbox.member_team_ids.iter().any(|team| agent.team_ids.contains(team))
}

/// The ids of the inboxes `agent` may see.
pub fn visible_inbox_ids<'a>(agent: &Agent, inboxes: impl IntoIterator<Item = &'a Inbox>) -> Vec<Id> {
    inboxes.into_iter().filter(|inbox| can_see_inbox(agent, inbox)).map(|inbox| inbox.id).collect()
}

/// A one-line preview of a message body for list rows.
pub fn preview(body: &str) -> String {
    switchboard_proto::text::preview(body, PREVIEW_CHARS)
}

/// A customer message arrived: the conversation is open again and the customer is waiting.
pub fn on_incoming(conversation: &mut Conversation, body: &str, now: Millis) {
    conversation.status = ConversationStatus::Open;
    conversation.snoozed_until = None;
    conversation.last_incoming_at = Some(now);
    conversation.last_activity_at = now;
    conversation.waiting_since.get_or_insert(now);
    conversation.preview = preview(body);
}

/// An agent replied: the customer is no longer waiting.
pub fn on_outgoing(conversation: &mut Conversation, body: &str, now: Millis) {
    conversation.last_activity_at = now;
    conversation.first_reply_at.get_or_insert(now);
    conversation.waiting_since = None;
    conversation.preview = preview(body);
}

/// Whether a customer message on a resolved conversation should reopen it (else: a new one).
pub fn reopens(conversation: &Conversation, now: Millis) -> bool {
    now - conversation.last_activity_at <= REOPEN_WINDOW_MS
}

/// Why a reply can't be sent as asked.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplyRejection {
    /// Free-form text outside the reply window.
    WindowClosed {
        closed_at: Millis,
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
    if let Some(wanted) = template {
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
    if !conversation.reply_window_open(inbox.channel, now) {
        let closed_at = conversation.reply_window_closes_at(inbox.channel).unwrap_or(Millis::MIN);
        return Err(ReplyRejection::WindowClosed { closed_at });
    }
    if body.trim().is_empty() && !has_attachments {
        return Err(ReplyRejection::Empty);
    }
    Ok(body.to_owned())
}

/// Whether `channel` needs a template to start a conversation (no customer message to answer).
pub fn outbound_needs_template(channel: Channel) -> bool {
    channel.has_reply_window()
}

/// The agents a note mentions: `@handle` where the handle is an agent's first name, full name
/// without spaces, or email local part, compared case-insensitively. Inactive agents are skipped.
pub fn parse_mentions(body: &str, agents: &[Agent]) -> Vec<Id> {
    let mut mentioned = Vec::new();
    for handle in mention_handles(body) {
        let handle = handle.to_lowercase();
        for agent in agents.iter().filter(|a| a.active) {
            let first = agent.name.split_whitespace().next().unwrap_or_default().to_lowercase();
            let joined: String = agent.name.split_whitespace().collect::<String>().to_lowercase();
            let local = agent.email.split('@').next().unwrap_or_default().to_lowercase();
            if (handle == first || handle == joined || handle == local) && !mentioned.contains(&agent.id) {
                mentioned.push(agent.id);
            }
        }
    }
    mentioned
}

fn mention_handles(body: &str) -> impl Iterator<Item = &str> {
    body.match_indices('@').filter_map(move |(at, _)| {
        // An `@` inside a word (an email address) is not a mention.
        let preceded_by_word = body[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric());
        if preceded_by_word {
            return None;
        }
        let rest = &body[at + 1..];
        let end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .map_or(rest.len(), |(i, _)| i);
        let handle = rest[..end].trim_end_matches(['.', '-', '_']);
        (!handle.is_empty()).then_some(handle)
    })
}

/// Adds and removes label names, keeping the list sorted and free of duplicates.
pub fn edit_labels(labels: &mut Vec<String>, add: &[String], remove: &[String]) {
    for name in add {
        if !labels.contains(name) {
            labels.push(name.clone());
        }
    }
    labels.retain(|name| !remove.contains(name));
    labels.sort();
}

pub use switchboard_proto::text::{fts_query, normalize_for_search, phone_digits};

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_proto::{Availability, MessageTemplate, Priority};

    fn agent(name: &str, email: &str) -> Agent {
        Agent {
            id: Id::new_v4(),
            name: name.into(),
            email: email.into(),
            role: Role::Agent,
            availability: Availability::Online,
            active: true,
            team_ids: vec![],
        }
    }

    fn conversation() -> Conversation {
        Conversation {
            id: Id::new_v4(),
            inbox_id: Id::new_v4(),
            contact_id: Id::new_v4(),
            subject: None,
            status: ConversationStatus::Open,
            snoozed_until: None,
            assignee_id: None,
            team_id: None,
            priority: Priority::None,
            labels: vec![],
            created_at: 0,
            last_activity_at: 0,
            waiting_since: None,
            first_reply_at: None,
            last_incoming_at: Some(0),
            preview: String::new(),
        }
    }

    fn inbox(channel: Channel) -> Inbox {
        Inbox {
            id: Id::new_v4(),
            name: "Main".into(),
            channel,
            webhook_url: None,
            member_agent_ids: vec![],
            member_team_ids: vec![],
            templates: vec![MessageTemplate {
                name: "follow_up".into(),
                language: "en".into(),
                body: "Hello {{1}}, any news?".into(),
            }],
            attachment_limit: channel.attachment_limit(),
        }
    }

    #[test]
    fn mentions_match_first_name_full_name_and_email_local_part() {
        let sara = agent("Sara Karimi", "sara.k@example.com");
        let ali = agent("Ali Rezaei", "ali@example.com");
        let agents = [sara.clone(), ali.clone()];
        assert_eq!(parse_mentions("@Sara can you look?", &agents), vec![sara.id]);
        assert_eq!(parse_mentions("ping @alirezaei.", &agents), vec![ali.id]);
        assert_eq!(parse_mentions("@sara.k and @ali, @sara again", &agents), vec![sara.id, ali.id]);
        assert!(parse_mentions("write to ali@example.com", &agents).is_empty(), "emails aren't mentions");
        assert!(parse_mentions("@nobody", &agents).is_empty());
    }

    #[test]
    fn labels_add_and_remove_without_replacing() {
        let mut labels = vec!["vip".to_string()];
        edit_labels(&mut labels, &["refund".into(), "vip".into()], &[]);
        edit_labels(&mut labels, &["bug".into()], &["vip".into()]);
        assert_eq!(labels, vec!["bug".to_string(), "refund".to_string()]);
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

    #[test]
    fn incoming_then_outgoing_tracks_waiting_and_first_reply() {
        let mut c = conversation();
        c.status = ConversationStatus::Snoozed;
        c.snoozed_until = Some(99);
        on_incoming(&mut c, "where is my order?", 100);
        on_incoming(&mut c, "hello??", 200);
        assert_eq!((c.status, c.snoozed_until, c.waiting_since), (ConversationStatus::Open, None, Some(100)));
        on_outgoing(&mut c, "on its way", 300);
        on_outgoing(&mut c, "tracking: 123", 400);
        assert_eq!((c.waiting_since, c.first_reply_at, c.last_activity_at), (None, Some(300), 400));
    }

    #[test]
    fn previews_are_single_line_and_bounded() {
        assert_eq!(preview("a\n b\t c"), "a b c");
        let long = "ж".repeat(500);
        assert_eq!(preview(&long).chars().count(), PREVIEW_CHARS + 1);
    }
}
