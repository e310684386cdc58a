//! Starting a conversation: finding the person in the cache (fuzzy over name, phone and email,
//! offline), the inboxes that can reach them, and the outbox actions that create the contact (if
//! new) and the conversation with its first message.
//!
//! Nothing here talks to the server: [`start`] returns actions for
//! [`crate::sync::Engine::queue`], so a conversation started offline shows at once (the outbox's
//! optimistic effect) and is created once when the server can be reached, its id the client id.
//! The server decides for good; what is checked here is what the cache can already tell (the
//! inbox reaches the contact, a window channel needs a template with every parameter, no open
//! conversation of the contact in that inbox yet), so the agent hears it before sending.

use std::cmp::Reverse;

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use rusqlite::params;
use switchboard_proto::{rules, text::phone_digits, *};

use crate::{
    cache::Cache,
    error::{CoreError, CoreResult},
    outbox::Action,
};

/// Who the conversation is with: a contact in the cache, or one the agent adds on the spot.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactChoice {
    Existing(Id),
    New { name: String, phone: Option<String>, email: Option<String> },
}

/// What the agent filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConversation {
    pub inbox_id: Id,
    pub contact: ContactChoice,
    pub subject: Option<String>,
    /// The free-form first message (channels without a reply window).
    pub body: String,
    /// The first message on a reply-window channel (WhatsApp…), which has no customer message to
    /// answer yet.
    pub template: Option<TemplateRef>,
}

/// The actions to queue, in order, and the new conversation's id.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub conversation_id: Id,
    pub actions: Vec<Action>,
}

/// A contact as the picker shows it, with their open conversations (to say "already open").
#[derive(Debug, Clone, PartialEq)]
pub struct ContactMatch {
    pub contact: Contact,
    pub open_conversations: Vec<OpenConversation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenConversation {
    pub inbox_id: Id,
    pub conversation_id: Id,
}

/// Whether an inbox can start a conversation with `contact` (see
/// [`rules::can_start_conversation`]).
pub fn reaches(inbox: &Inbox, contact: &Contact) -> bool {
    rules::can_start_conversation(inbox.channel, inbox.id, contact)
}

/// The checked actions for a new conversation. Refused (`validation`) when the inbox or contact
/// is unknown, the inbox can't reach the contact, a new contact has no name or neither phone nor
/// email, or the first message is missing (a template with every parameter on window channels,
/// text elsewhere); `conversation_exists` (with its id) when the contact already has an open
/// conversation in that inbox.
pub fn start(cache: &Cache, new: NewConversation) -> CoreResult<Started> {
    let inbox: Inbox = cache
        .get(EntityKind::Inbox, new.inbox_id)?
        .ok_or_else(|| CoreError::Validation("that inbox is not in the cache".into()))?;
    let mut actions = Vec::new();
    let contact = match new.contact {
        ContactChoice::Existing(id) => cache
            .get::<Contact>(EntityKind::Contact, id)?
            .ok_or_else(|| CoreError::Validation("that contact is not in the cache".into()))?,
        ContactChoice::New { name, phone, email } => {
            let (phone, email) = (filled(phone), filled(email));
            if name.trim().is_empty() {
                return Err(CoreError::Validation("a new contact needs a name".into()));
            }
            if phone.is_none() && email.is_none() {
                return Err(CoreError::Validation("a new contact needs a phone number or an email".into()));
            }
            let request = CreateContact { client_id: Id::new_v4(), name, phone, email };
            let contact = rules::new_contact(
                request.client_id,
                &request.name,
                request.phone.as_deref(),
                request.email.as_deref(),
                0,
            );
            actions.push(Action::CreateContact { request });
            contact
        }
    };
    if !reaches(&inbox, &contact) {
        return Err(CoreError::Validation(format!("{} can't write to {} first", inbox.name, contact.name)));
    }
    if let Some(open) = open_conversations(cache, contact.id)?.into_iter().find(|o| o.inbox_id == inbox.id) {
        return Err(CoreError::Rejected {
            code: ErrorCode::ConversationExists,
            message: format!("{} already has an open conversation in {}", contact.name, inbox.name),
            current_assignee_id: None,
            conversation_id: Some(open.conversation_id),
        });
    }
    let (body, template) = first_message(&inbox, new.body, new.template)?;
    let request = CreateConversation {
        client_id: Id::new_v4(),
        inbox_id: inbox.id,
        contact_id: contact.id,
        subject: filled(new.subject),
        body: Some(body),
        template,
    };
    let conversation_id = request.client_id;
    actions.push(Action::CreateConversation { request });
    Ok(Started { conversation_id, actions })
}

/// The first message's body and template. With a template, the body is its rendering, so the
/// optimistic copy reads as the customer will (the server renders the template itself and
/// ignores the body).
fn first_message(
    inbox: &Inbox,
    body: String,
    template: Option<TemplateRef>,
) -> CoreResult<(String, Option<TemplateRef>)> {
    match template {
        Some(wanted) => {
            let found = inbox.templates.iter().find(|t| t.name == wanted.name).ok_or_else(|| {
                CoreError::Validation(format!("{} has no template named {}", inbox.name, wanted.name))
            })?;
            if found.param_count() != wanted.params.len() || wanted.params.iter().any(|p| p.trim().is_empty())
            {
                return Err(CoreError::Validation(format!(
                    "fill each of the template's {} parameters",
                    found.param_count()
                )));
            }
            Ok((found.render(&wanted.params), Some(wanted)))
        }
        None if inbox.channel.has_reply_window() => Err(CoreError::Validation(format!(
            "{} starts conversations with an approved template",
            inbox.name
        ))),
        None if body.trim().is_empty() => Err(CoreError::Validation("write the first message".into())),
        None => Ok((body, None)),
    }
}

fn filled(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// The contact's conversations that are not resolved, one per inbox at most (the server's
/// invariant), as the cache shows them (queued ones included).
pub fn open_conversations(cache: &Cache, contact_id: Id) -> CoreResult<Vec<OpenConversation>> {
    Ok(cache
        .contact_conversations(contact_id)?
        .into_iter()
        .filter(|c| c.status.is_open())
        .map(|c| OpenConversation { inbox_id: c.inbox_id, conversation_id: c.id })
        .collect())
}

/// The contacts the picker offers for `query`, best first, at most `limit`, from the cache alone.
///
/// Every whitespace-separated word must match the name or the email fuzzily (nucleo, case- and
/// diacritic-insensitive: "olga" finds "Olga Ionescu", "ionscu" too) or, with three digits or
/// more, appear in the phone's digits ("0721 000" finds "+40 721 000 111"). An empty query
/// offers the people of the most recent conversations, then the newest contacts. Merged contacts
/// are left out (their conversations live on the contact they were merged into).
pub fn find_contacts(cache: &Cache, query: &str, limit: usize) -> CoreResult<Vec<ContactMatch>> {
    let candidates = candidates(cache, query.trim().is_empty(), limit)?;
    let ids: Vec<Id> = if query.trim().is_empty() {
        candidates.into_iter().map(|c| c.id).take(limit).collect()
    } else {
        rank(query, &candidates, limit)
    };
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(contact) = cache.get::<Contact>(EntityKind::Contact, id)? {
            let open_conversations = open_conversations(cache, id)?;
            found.push(ContactMatch { contact, open_conversations });
        }
    }
    Ok(found)
}

/// What the matcher sees of a contact.
#[derive(Debug, Clone)]
struct Candidate {
    id: Id,
    name: String,
    email: String,
    phone_digits: String,
}

fn candidates(cache: &Cache, recent_first: bool, limit: usize) -> CoreResult<Vec<Candidate>> {
    let conn = cache.lock();
    let sql = if recent_first {
        "SELECT c.id, c.data->>'name', c.data->>'email', c.data->>'phone' FROM contacts c
         LEFT JOIN (SELECT contact_id, MAX(last_activity_at) AS at FROM conversations
                    WHERE data IS NOT NULL GROUP BY contact_id) a ON a.contact_id = c.id
         WHERE c.data IS NOT NULL AND c.data->>'merged_into' IS NULL
         ORDER BY a.at IS NULL, a.at DESC, c.data->>'created_at' DESC LIMIT ?1"
    } else {
        "SELECT c.id, c.data->>'name', c.data->>'email', c.data->>'phone' FROM contacts c
         WHERE c.data IS NOT NULL AND c.data->>'merged_into' IS NULL AND ?1 >= 0"
    };
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params![limit as i64], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Option<String>>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, email, phone) = row?;
        let Ok(id) = id.parse() else { continue };
        out.push(Candidate {
            id,
            name: name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            phone_digits: phone.as_deref().map(phone_digits).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Fuzzy ranking: a word's score is its best of name, email (worth a little less) and phone
/// digits (an exact run of digits, worth as much as a good name match); ties by name.
fn rank(query: &str, candidates: &[Candidate], limit: usize) -> Vec<Id> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let atoms: Vec<Atom> = words
        .iter()
        .map(|word| Atom::new(word, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy, false))
        .collect();
    let mut matcher = Matcher::new(Config::DEFAULT);
    let (mut name_buf, mut email_buf) = (Vec::new(), Vec::new());
    let mut scored: Vec<(u32, &Candidate)> = Vec::new();
    'candidates: for candidate in candidates {
        let name = Utf32Str::new(&candidate.name, &mut name_buf);
        let email = Utf32Str::new(&candidate.email, &mut email_buf);
        let mut total = 0u32;
        for (word, atom) in words.iter().zip(&atoms) {
            let digits = phone_digits(word);
            let phone = (digits.len() >= 3 && candidate.phone_digits.contains(&digits))
                .then(|| 40 * digits.len() as u32);
            let best = [
                atom.score(name, &mut matcher).map(|s| u32::from(s) * 2),
                atom.score(email, &mut matcher).map(u32::from),
                phone,
            ]
            .into_iter()
            .flatten()
            .max();
            let Some(best) = best else { continue 'candidates };
            total += best;
        }
        scored.push((total, candidate));
    }
    scored.sort_by(|a, b| (Reverse(a.0), &a.1.name).cmp(&(Reverse(b.0), &b.1.name)));
    scored.into_iter().take(limit).map(|(_, c)| c.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, email: &str, phone: &str) -> Candidate {
        Candidate {
            id: Id::new_v4(),
            name: name.into(),
            email: email.into(),
            phone_digits: phone_digits(phone),
        }
    }

    #[test]
    fn contacts_rank_by_fuzzy_name_email_and_phone_digits() {
        let olga = candidate("Olga Ionescu", "olga@example.ro", "+40 721 000 111");
        let nadia = candidate("Nadia Rahimi", "nadia@example.com", "+98 912 555 0101");
        let oleg = candidate("Oleg Petrov", "", "");
        let sara = candidate("سارا کریمی", "sara@example.ir", "");
        let all = [olga.clone(), nadia.clone(), oleg.clone(), sara.clone()];
        let names = |query: &str| -> Vec<String> {
            rank(query, &all, 10)
                .into_iter()
                .map(|id| all.iter().find(|c| c.id == id).expect("ranked").name.clone())
                .collect()
        };
        assert_eq!(names("olga"), ["Olga Ionescu"], "a name");
        assert_eq!(names("ionscu"), ["Olga Ionescu"], "a typo's letters in order still match");
        assert_eq!(names("0721 000"), ["Olga Ionescu"], "digits of the phone, spaced as the agent types");
        assert_eq!(names("912-555"), ["Nadia Rahimi"], "punctuation in a number is ignored");
        assert_eq!(names("example.com"), ["Nadia Rahimi"], "an email");
        assert_eq!(names("ol"), ["Oleg Petrov", "Olga Ionescu"], "two equally good: by name");
        assert_eq!(names("olga 0721"), ["Olga Ionescu"], "every word must match somewhere");
        assert!(names("olga 999").is_empty(), "a word that matches nothing excludes");
        assert_eq!(names("سارا"), ["سارا کریمی"], "Persian names");
    }
}
