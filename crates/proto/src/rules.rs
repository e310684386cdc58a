//! The conversation rules both sides apply: the server when it commits an action, the client core
//! when it shows the action's optimistic effect. One copy, so the two can't drift apart; pure
//! functions over the entities, with no clock, storage or I/O (the caller passes `now`).
//!
//! What stays on the server (`switchboard-server`'s `rules.rs`): who may see what, the reply
//! window and templates, and input checks, which the client never needs to restate.

use crate::{Agent, Channel, Contact, Conversation, ConversationStatus, Id, Inbox, Millis, Priority, Role};

/// Longest preview kept on a conversation for list rows, in characters.
pub const PREVIEW_CHARS: usize = 140;

/// A one-line preview of a message body for list rows.
pub fn preview(body: &str) -> String {
    crate::text::preview(body, PREVIEW_CHARS)
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

/// An agent replied: the customer is no longer waiting. `body` is the text sent (a template
/// already rendered).
pub fn on_outgoing(conversation: &mut Conversation, body: &str, now: Millis) {
    conversation.last_activity_at = now;
    conversation.first_reply_at.get_or_insert(now);
    conversation.waiting_since = None;
    conversation.preview = preview(body);
}

/// Sets a conversation's status; resolving it means nobody is waiting any more. The caller has
/// checked the request (`snoozed_until` only with, and always with, `Snoozed`). Returns whether
/// anything changed, so a repeat writes nothing.
pub fn apply_status(
    conversation: &mut Conversation,
    status: ConversationStatus,
    snoozed_until: Option<Millis>,
) -> bool {
    if conversation.status == status && conversation.snoozed_until == snoozed_until {
        return false;
    }
    conversation.status = status;
    conversation.snoozed_until = snoozed_until;
    if status == ConversationStatus::Resolved {
        conversation.waiting_since = None;
        // An escalation belongs to its cycle (`escalation.rs`).
        conversation.escalation = None;
    }
    true
}

/// Whether an assignment's compare-and-set holds: `expected` is `None` for an unconditional
/// assignment, `Some(assignee)` for "only if it is still assigned to `assignee`" (a claim is
/// `Some(None)`: only if nobody has it).
pub fn assignment_holds(conversation: &Conversation, expected: Option<Option<Id>>) -> bool {
    expected.is_none_or(|expected| expected == conversation.assignee_id)
}

/// Assigns a conversation and, when `team_id` is given, moves it to that team (`Some(None)`: no
/// team). The caller has checked [`assignment_holds`] and the assignee. Returns whether the
/// assignee changed (the server then writes an activity line).
pub fn apply_assignment(
    conversation: &mut Conversation,
    assignee_id: Option<Id>,
    team_id: Option<Option<Id>>,
) -> bool {
    let assignee_changed = conversation.assignee_id != assignee_id;
    conversation.assignee_id = assignee_id;
    if let Some(team) = team_id {
        conversation.team_id = team;
    }
    assignee_changed
}

/// Adds and removes label names, keeping the list sorted and free of duplicates. Names are
/// compared by [`crate::labels::label_key`] (a label already there keeps its spelling; the server
/// adds only a label's own display name). A name both added and removed ends up removed.
pub fn edit_labels(labels: &mut Vec<String>, add: &[String], remove: &[String]) {
    for name in add {
        if !crate::labels::has_label(labels, name) {
            labels.push(name.clone());
        }
    }
    labels.retain(|name| !crate::labels::has_label(remove, name));
    labels.sort();
}

/// What an agent starts an outbound conversation with.
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    /// The request's `client_id`, which becomes the conversation's id.
    pub id: Id,
    pub inbox_id: Id,
    pub contact_id: Id,
    pub subject: Option<&'a str>,
    /// The agent starting it, who owns it.
    pub assignee_id: Id,
    /// The first message's text (a template already rendered).
    pub body: &'a str,
}

/// A conversation an agent starts: open, theirs, and already answered (nobody is waiting). A blank
/// subject is no subject.
pub fn new_outgoing_conversation(new: &NewOutgoing<'_>, now: Millis) -> Conversation {
    let mut conversation = new_conversation(new.id, new.inbox_id, new.contact_id, now);
    conversation.subject = new.subject.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    conversation.assignee_id = Some(new.assignee_id);
    on_outgoing(&mut conversation, new.body, now);
    conversation
}

/// A new conversation with nothing in it yet: open, unassigned, in no team. A customer's first
/// message ([`on_incoming`]) or an agent's ([`new_outgoing_conversation`]) then fills it in.
pub fn new_conversation(id: Id, inbox_id: Id, contact_id: Id, now: Millis) -> Conversation {
    Conversation {
        id,
        inbox_id,
        contact_id,
        subject: None,
        status: ConversationStatus::Open,
        snoozed_until: None,
        assignee_id: None,
        team_id: None,
        priority: Priority::None,
        labels: vec![],
        created_at: now,
        last_activity_at: now,
        waiting_since: None,
        first_reply_at: None,
        last_incoming_at: None,
        preview: String::new(),
        sla: None,
        escalation: None,
    }
}

/// A contact an agent adds: name, phone and email without surrounding spaces. The caller has
/// checked the fields.
pub fn new_contact(id: Id, name: &str, phone: Option<&str>, email: Option<&str>, now: Millis) -> Contact {
    Contact {
        id,
        name: name.trim().to_owned(),
        phone: phone.map(|p| p.trim().to_owned()),
        email: email.map(|e| e.trim().to_owned()),
        identities: vec![],
        created_at: now,
        notes: None,
        fields: Default::default(),
        merged_into: None,
    }
}

// Mentions.
//
// A handle is `@` followed by letters, digits, `.`, `_` or `-` (not ending in one of the last
// three), at the start of the text or after a non-alphanumeric character (so an email address is
// not a mention). An agent answers to their first name, their full name without spaces, and their
// email's local part, compared case-insensitively.

/// The agents a note mentions: each handle that names exactly one of `agents` (those who can see
/// the conversation; inactive ones are skipped), in the order first mentioned.
///
/// An ambiguous handle (two Saras, or one agent's first name that is another's local part)
/// mentions nobody. Guessing would notify someone who was not meant, and put a note about a
/// customer in their Mentions list, which is worse than notifying nobody; and the answer would
/// depend on the agents' order. The composer never inserts an ambiguous handle: it picks one with
/// [`mention_handle`], so only a hand-typed handle can be ambiguous.
pub fn parse_mentions(body: &str, agents: &[Agent]) -> Vec<Id> {
    let mut mentioned = Vec::new();
    for handle in mention_handles(body) {
        if let Some(agent) = resolve_handle(handle, agents) {
            if !mentioned.contains(&agent.id) {
                mentioned.push(agent.id);
            }
        }
    }
    mentioned
}

/// The handle to insert for `agent` so that [`parse_mentions`] resolves it to `agent` alone,
/// among `agents` (pass every agent of the workspace: a handle unique there is unique among those
/// who can see any one inbox). The first of the first name, the full name without spaces and the
/// email's local part that does; `None` if none does (two agents with the same name and the same
/// local part on different domains).
pub fn mention_handle(agent: &Agent, agents: &[Agent]) -> Option<String> {
    let [first, joined, local] = handles_of(agent);
    [first, joined, local].into_iter().find(|handle| {
        is_valid_handle(handle) && resolve_handle(handle, agents).is_some_and(|found| found.id == agent.id)
    })
}

/// The one active agent answering to `handle`, if exactly one does.
fn resolve_handle<'a>(handle: &str, agents: &'a [Agent]) -> Option<&'a Agent> {
    let handle = handle.to_lowercase();
    let mut matching = agents
        .iter()
        .filter(|agent| agent.active && handles_of(agent).iter().any(|h| h.to_lowercase() == handle));
    let found = matching.next()?;
    matching.all(|other| other.id == found.id).then_some(found)
}

/// First name, full name without spaces, email local part; as written (case kept for display).
fn handles_of(agent: &Agent) -> [String; 3] {
    let first = agent.name.split_whitespace().next().unwrap_or_default().to_owned();
    let joined = agent.name.split_whitespace().collect::<String>();
    let local = agent.email.split('@').next().unwrap_or_default().to_owned();
    [first, joined, local]
}

fn is_handle_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Whether `@handle` reads back as exactly `handle`.
fn is_valid_handle(handle: &str) -> bool {
    !handle.is_empty() && handle.chars().all(is_handle_char) && !handle.ends_with(['.', '-', '_'])
}

fn mention_handles(body: &str) -> impl Iterator<Item = &str> {
    body.match_indices('@').filter_map(move |(at, _)| {
        // An `@` inside a word (an email address) is not a mention.
        let preceded_by_word = body[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric());
        if preceded_by_word {
            return None;
        }
        let rest = &body[at + 1..];
        let end = rest.char_indices().find(|(_, c)| !is_handle_char(*c)).map_or(rest.len(), |(i, _)| i);
        let handle = rest[..end].trim_end_matches(['.', '-', '_']);
        (!handle.is_empty()).then_some(handle)
    })
}

// Reaching a contact first.

/// Where an inbox's channel reaches `contact`: the id that channel gave them on this inbox (they
/// wrote to it before), else what the channel can address from their details: on WhatsApp the
/// phone's digits (a `wa_id`), on email the address. `None`: this inbox can't write to them first
/// (Telegram, Instagram, Facebook and web chat know a person only once they have written).
pub fn contact_address(channel: Channel, inbox_id: Id, contact: &Contact) -> Option<String> {
    if let Some(identity) = contact.identities.iter().find(|i| i.inbox_id == inbox_id) {
        return Some(identity.external_id.clone());
    }
    match channel {
        Channel::Whatsapp => {
            contact.phone.as_deref().map(crate::text::phone_digits).filter(|digits| digits.len() >= 6)
        }
        Channel::Email => {
            contact.email.as_deref().map(str::trim).filter(|e| e.contains('@')).map(str::to_owned)
        }
        _ => None,
    }
}

/// Whether an agent can start a conversation with `contact` on an inbox of `channel`: the channel
/// has an address for them ([`contact_address`]), or it is the API channel, whose integration
/// finds the person from the webhook's contact.
pub fn can_start_conversation(channel: Channel, inbox_id: Id, contact: &Contact) -> bool {
    channel == Channel::Api || contact_address(channel, inbox_id, contact).is_some()
}

/// Whether `agent` may see `inbox`: admins see every inbox, others those they or one of their
/// teams are members of. The server decides with it; a cache follows it to purge what it lost.
pub fn can_see_inbox(agent: &Agent, inbox: &Inbox) -> bool {
    agent.role == Role::Admin
        || inbox.member_agent_ids.contains(&agent.id)
        || inbox.member_team_ids.iter().any(|team| agent.team_ids.contains(team))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Availability, Role};

    fn agent(name: &str, email: &str) -> Agent {
        Agent {
            id: Id::new_v4(),
            name: name.into(),
            email: email.into(),
            role: Role::Agent,
            availability: Availability::Online,
            active: true,
            team_ids: vec![],
            capacity: None,
            availability_since: None,
            status_text: None,
        }
    }

    fn conversation() -> Conversation {
        Conversation {
            last_incoming_at: Some(0),
            ..new_conversation(Id::new_v4(), Id::new_v4(), Id::new_v4(), 0)
        }
    }

    /// The workspace every mention case runs in: two Saras, an Ali whose local part is another
    /// agent's first name, and an inactive agent.
    fn team() -> Vec<Agent> {
        let mut gone = agent("Gone Person", "gone@example.com");
        gone.active = false;
        vec![
            agent("Sara Karimi", "sara.k@example.com"),
            agent("Sara Lee", "slee@example.com"),
            agent("Ali Rezaei", "ali@example.com"),
            agent("Omid Ali", "omid@example.com"),
            agent("Mina Ahmadi", "mina@example.com"),
            gone,
        ]
    }

    /// Runs `body` through [`parse_mentions`] and names who was mentioned, by email local part.
    #[track_caller]
    fn check_mentions(body: &str, expected: &[&str]) {
        let agents = team();
        let names: Vec<String> = parse_mentions(body, &agents)
            .into_iter()
            .map(|id| agents.iter().find(|a| a.id == id).map(|a| a.email.clone()).unwrap_or_default())
            .map(|email| email.split('@').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(names, expected, "mentions in {body:?}");
    }

    #[test]
    fn a_handle_mentions_the_one_agent_it_names() {
        for (body, expected) in [
            ("@sara.k can you look?", &["sara.k"][..]),
            ("@SaraKarimi, please", &["sara.k"]),
            ("@slee and @SaraLee are one person", &["slee"]),
            ("@Mina.", &["mina"]),
            ("@mina @sara.k then @mina again", &["mina", "sara.k"]),
            ("(@omid)", &["omid"]),
            ("@OmidAli", &["omid"]),
            ("@rezaei is not a handle", &[]),
            ("write to mina@example.com", &[]),
            ("@nobody", &[]),
            ("@gone is inactive", &[]),
            ("@", &[]),
        ] {
            check_mentions(body, expected);
        }
    }

    #[test]
    fn an_ambiguous_handle_mentions_nobody() {
        check_mentions("@sara please", &[]);
        check_mentions("@sara and @slee", &["slee"]);
        let first_name_is_anothers_local_part =
            [agent("Omid Rahimi", "or@example.com"), agent("Xan Yee", "omid@example.com")];
        assert!(
            parse_mentions("@omid", &first_name_is_anothers_local_part).is_empty(),
            "one agent's first name and another's local part: ambiguous"
        );
    }

    #[test]
    fn mention_handle_picks_a_handle_that_resolves_to_that_agent_alone() {
        let agents = team();
        let by_local = |local: &str| {
            agents.iter().find(|a| a.email.starts_with(&format!("{local}@"))).cloned().expect("agent")
        };
        for (local, expected) in [
            ("sara.k", Some("SaraKarimi")),
            ("slee", Some("SaraLee")),
            ("ali", Some("Ali")),
            ("omid", Some("Omid")),
            ("mina", Some("Mina")),
        ] {
            let handle = mention_handle(&by_local(local), &agents);
            assert_eq!(handle.as_deref(), expected, "handle for {local}");
            let handle = handle.expect("a handle");
            assert_eq!(
                parse_mentions(&format!("@{handle} hi"), &agents),
                vec![by_local(local).id],
                "the inserted handle must mention exactly that agent"
            );
        }
        let twins = [agent("Sam Li", "sam@a.example"), agent("Sam Li", "sam@b.example")];
        assert_eq!(mention_handle(&twins[0], &twins), None, "nothing tells identical twins apart");
        let persian = [agent("مُحمد رحیمی", "m.rahimi@example.com"), agent("Zwnj Case", "z@example.com")];
        assert_eq!(mention_handle(&persian[0], &persian).as_deref(), Some("مُحمد"), "marks are letters");
        let odd = [agent("O'Brien", "o.brien-@example.com"), agent("Sean", "sean@example.com")];
        assert_eq!(mention_handle(&odd[0], &odd), None, "a handle that does not read back is never offered");
    }

    #[test]
    fn labels_add_and_remove_without_replacing() {
        let mut labels = vec!["vip".to_string()];
        edit_labels(&mut labels, &["refund".into(), "vip".into()], &[]);
        edit_labels(&mut labels, &["bug".into()], &["vip".into()]);
        assert_eq!(labels, vec!["bug".to_string(), "refund".to_string()]);
        edit_labels(&mut labels, &["vip".into()], &["vip".into()]);
        assert_eq!(labels, vec!["bug".to_string(), "refund".to_string()], "remove wins over add");
    }

    #[test]
    fn labels_match_by_key_and_keep_their_spelling() {
        let mut labels = vec!["New Lead".to_string()];
        edit_labels(&mut labels, &["new lead".into(), "پشتیبانی باز".into()], &[]);
        assert_eq!(labels, vec!["New Lead".to_string(), "پشتیبانی باز".to_string()], "no second New Lead");
        edit_labels(&mut labels, &[], &["NEW  LEAD".into(), "پشتيباني باز".into()]);
        assert!(labels.is_empty(), "removed by any spelling of the same label: {labels:?}");
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
    fn resolving_stops_the_wait_and_a_repeat_changes_nothing() {
        let mut c = conversation();
        c.waiting_since = Some(5);
        assert!(apply_status(&mut c, ConversationStatus::Pending, None));
        assert_eq!(c.waiting_since, Some(5), "pending: the customer still waits");
        assert!(apply_status(&mut c, ConversationStatus::Snoozed, Some(50)));
        assert_eq!((c.status, c.snoozed_until), (ConversationStatus::Snoozed, Some(50)));
        assert!(apply_status(&mut c, ConversationStatus::Resolved, None));
        assert_eq!((c.snoozed_until, c.waiting_since), (None, None), "resolved: nobody waits");
        assert!(!apply_status(&mut c, ConversationStatus::Resolved, None), "a repeat is no change");
    }

    #[test]
    fn a_claim_holds_only_while_nobody_has_it() {
        let me = Id::new_v4();
        let mut c = conversation();
        assert!(assignment_holds(&c, Some(None)));
        assert!(apply_assignment(&mut c, Some(me), None));
        assert!(!assignment_holds(&c, Some(None)), "someone has it now");
        assert!(assignment_holds(&c, None), "an unconditional assignment always holds");
        let team = Id::new_v4();
        assert!(!apply_assignment(&mut c, Some(me), Some(Some(team))), "same assignee, new team");
        assert_eq!(c.team_id, Some(team));
    }

    #[test]
    fn an_outgoing_conversation_is_the_agents_and_answered() {
        let me = Id::new_v4();
        let new = NewOutgoing {
            id: Id::new_v4(),
            inbox_id: Id::new_v4(),
            contact_id: Id::new_v4(),
            subject: Some("  "),
            assignee_id: me,
            body: "Hello\nthere",
        };
        let c = new_outgoing_conversation(&new, 7);
        assert_eq!((c.assignee_id, c.subject.clone(), c.first_reply_at), (Some(me), None, Some(7)));
        assert_eq!(
            (c.status, c.waiting_since, c.preview.as_str()),
            (ConversationStatus::Open, None, "Hello there")
        );
    }

    #[test]
    fn a_new_contact_is_trimmed() {
        let contact = new_contact(Id::new_v4(), " Dana ", Some(" +44 1 "), Some(" d@x.example "), 3);
        assert_eq!(
            (contact.name.as_str(), contact.phone.as_deref(), contact.email.as_deref()),
            ("Dana", Some("+44 1"), Some("d@x.example"))
        );
    }

    #[test]
    fn previews_are_single_line_and_bounded() {
        assert_eq!(preview("a\n b\t c"), "a b c");
        let long = "ж".repeat(500);
        assert_eq!(preview(&long).chars().count(), PREVIEW_CHARS + 1);
    }

    #[test]
    fn an_inbox_reaches_a_contact_by_its_identity_or_the_address_its_channel_uses() {
        let inbox = Id::new_v4();
        let phone_only = new_contact(Id::new_v4(), "Olga", Some("+40 721 000 111"), None, 0);
        let email_only = new_contact(Id::new_v4(), "Nadia", None, Some("nadia@example.com"), 0);
        let cases = [
            (Channel::Whatsapp, &phone_only, Some("40721000111")),
            (Channel::Whatsapp, &email_only, None),
            (Channel::Email, &email_only, Some("nadia@example.com")),
            (Channel::Email, &phone_only, None),
            (Channel::Telegram, &phone_only, None),
            (Channel::Instagram, &email_only, None),
        ];
        for (channel, contact, expected) in cases {
            assert_eq!(
                contact_address(channel, inbox, contact).as_deref(),
                expected,
                "{channel:?} to {}",
                contact.name
            );
        }
        let mut known = phone_only.clone();
        known.identities.push(crate::ContactIdentity {
            inbox_id: inbox,
            channel: Channel::Telegram,
            external_id: "4242".into(),
        });
        assert_eq!(
            contact_address(Channel::Telegram, inbox, &known).as_deref(),
            Some("4242"),
            "who wrote is known"
        );
        assert_eq!(
            contact_address(Channel::Whatsapp, inbox, &known).as_deref(),
            Some("4242"),
            "the identity on the inbox wins over the phone"
        );
        let bare = new_contact(Id::new_v4(), "Nobody", None, None, 0);
        assert!(can_start_conversation(Channel::Api, inbox, &bare), "the API's integration finds them");
        assert!(!can_start_conversation(Channel::Whatsapp, inbox, &bare));
        assert!(
            !can_start_conversation(
                Channel::Whatsapp,
                inbox,
                &new_contact(Id::new_v4(), "x", Some("12"), None, 0)
            ),
            "too few digits"
        );
    }
}
