//! Transcripts: a conversation exported as plain text or JSON (the PDF is drawn by the shell
//! from the same [`TranscriptDoc`]). The thread comes from the server's export
//! (`GET /conversations/{id}/export`, which the server records in its audit trail and which holds
//! the whole history) and, while the server can't be reached, from the cache, which holds every
//! message the feed brought, except for an inbox whose exports need approval (`load_approved`
//! downloads an approved request's thread instead). Internal notes are left out unless the agent
//! asks for them.
//! Times are shown in the agent's time zone; the direction is the customer's writing's.

use std::collections::HashMap;

use serde::Serialize;
use switchboard_proto::{
    Agent, Channel, Contact, Conversation, EntityKind, Id, Inbox, Message, MessageKind, Millis, Sender,
    Transcript,
};

use crate::{api::ApiClient, cache::Cache, error::CoreResult, CoreError};

/// The JSON transcript's `format` field: the version of its shape (README, "Transcripts").
pub const JSON_FORMAT: &str = "switchboard-transcript/1";

/// Which way a conversation's text runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Ltr,
    Rtl,
}

/// Who wrote a line of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    Contact,
    Agent,
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptSender {
    pub kind: SenderKind,
    /// The contact's or agent's name; empty for the system.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptMessage {
    pub id: Id,
    /// Epoch milliseconds.
    pub created_at: Millis,
    /// `created_at` in the transcript's time zone, `YYYY-MM-DD HH:MM`.
    pub time: String,
    pub kind: MessageKind,
    pub sender: TranscriptSender,
    pub body: String,
    pub attachments: Vec<TranscriptAttachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptContact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptInbox {
    pub name: String,
    pub channel: Channel,
}

/// A transcript as exported: the JSON format is this, serialised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptDoc {
    pub format: &'static str,
    pub conversation_id: Id,
    pub subject: Option<String>,
    pub contact: TranscriptContact,
    pub inbox: TranscriptInbox,
    pub direction: Direction,
    pub time_zone: String,
    pub exported_at: Millis,
    pub includes_notes: bool,
    pub messages: Vec<TranscriptMessage>,
}

/// What the agent chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptOptions {
    pub include_notes: bool,
    /// An IANA zone; an unknown one falls back to UTC.
    pub time_zone: String,
    pub now: Millis,
}

/// The thread to export: the server's export while it answers, else the cache's copy.
pub async fn load(
    api: &ApiClient,
    cache: &Cache,
    conversation_id: Id,
) -> CoreResult<(Transcript, Vec<Agent>)> {
    let agents: Vec<Agent> = cache.all(EntityKind::Agent)?;
    match api.transcript(conversation_id).await {
        Ok(transcript) => Ok((transcript, agents)),
        Err(error) if error.is_transient() => {
            let transcript = from_cache(cache, conversation_id)?;
            if transcript.inbox.exports_need_approval {
                // The server decides whose export such an inbox holds; offline, nobody's leaves.
                return Err(CoreError::Rejected {
                    code: switchboard_proto::ErrorCode::ExportApprovalRequired,
                    message: "exports from this inbox need the server (and may need a lead's approval)"
                        .into(),
                    current_assignee_id: None,
                    conversation_id: Some(conversation_id),
                });
            }
            Ok((transcript, agents))
        }
        Err(error) => Err(error),
    }
}

/// An approved export request's transcript, downloaded once from the server (never the cache).
pub async fn load_approved(
    api: &ApiClient,
    cache: &Cache,
    request_id: Id,
) -> CoreResult<(Transcript, Vec<Agent>)> {
    let agents: Vec<Agent> = cache.all(EntityKind::Agent)?;
    Ok((api.download_export(request_id).await?, agents))
}

/// The thread as the cache holds it (offline).
pub fn from_cache(cache: &Cache, conversation_id: Id) -> CoreResult<Transcript> {
    let conversation: Conversation = cache
        .get(EntityKind::Conversation, conversation_id)?
        .ok_or_else(|| CoreError::Invalid("no such conversation".into()))?;
    let contact: Contact = cache
        .get(EntityKind::Contact, conversation.contact_id)?
        .ok_or_else(|| CoreError::Corrupt("conversation without its contact".into()))?;
    let inbox: Inbox = cache
        .get(EntityKind::Inbox, conversation.inbox_id)?
        .ok_or_else(|| CoreError::Corrupt("conversation without its inbox".into()))?;
    let messages = cache.thread(conversation_id)?;
    Ok(Transcript { conversation, contact, inbox, messages })
}

/// The transcript as exported, with notes or without.
pub fn build(transcript: &Transcript, agents: &[Agent], options: &TranscriptOptions) -> TranscriptDoc {
    let names: HashMap<Id, &str> = agents.iter().map(|a| (a.id, a.name.as_str())).collect();
    let zone = jiff::tz::TimeZone::get(&options.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let time_zone =
        if zone == jiff::tz::TimeZone::UTC { "UTC".to_owned() } else { options.time_zone.clone() };
    let messages = transcript
        .messages
        .iter()
        .filter(|m| options.include_notes || m.kind != MessageKind::Note)
        .map(|m| TranscriptMessage {
            id: m.id,
            created_at: m.created_at,
            time: local_time(m.created_at, &zone),
            kind: m.kind,
            sender: match m.sender {
                Sender::Contact { .. } => {
                    TranscriptSender { kind: SenderKind::Contact, name: transcript.contact.name.clone() }
                }
                Sender::Agent { id } => TranscriptSender {
                    kind: SenderKind::Agent,
                    name: names.get(&id).map_or_else(|| "agent".to_owned(), |n| (*n).to_owned()),
                },
                Sender::System => TranscriptSender { kind: SenderKind::System, name: String::new() },
            },
            body: m.body.clone(),
            attachments: m
                .attachments
                .iter()
                .map(|a| TranscriptAttachment {
                    file_name: a.file_name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                })
                .collect(),
        })
        .collect();
    TranscriptDoc {
        format: JSON_FORMAT,
        conversation_id: transcript.conversation.id,
        subject: transcript.conversation.subject.clone(),
        contact: TranscriptContact {
            name: transcript.contact.name.clone(),
            phone: transcript.contact.phone.clone(),
            email: transcript.contact.email.clone(),
        },
        inbox: TranscriptInbox { name: transcript.inbox.name.clone(), channel: transcript.inbox.channel },
        direction: direction_of(&transcript.messages),
        time_zone,
        exported_at: options.now,
        includes_notes: options.include_notes,
        messages,
    }
}

/// The conversation's direction: the customer's messages', each judged by its first strong
/// character as `dir="auto"` does; right-to-left when more of them start right-to-left. With no
/// customer text, the agents' replies decide the same way.
pub fn direction_of(messages: &[Message]) -> Direction {
    let count = |from_contact: bool| {
        let (mut rtl, mut ltr) = (0usize, 0usize);
        for message in messages {
            let is_contact = matches!(message.sender, Sender::Contact { .. });
            if is_contact != from_contact || matches!(message.kind, MessageKind::Activity | MessageKind::Note)
            {
                continue;
            }
            match unicode_bidi::get_base_direction(message.body.as_str()) {
                unicode_bidi::Direction::Rtl => rtl += 1,
                unicode_bidi::Direction::Ltr => ltr += 1,
                unicode_bidi::Direction::Mixed => {}
            }
        }
        (rtl, ltr)
    };
    let (rtl, ltr) = match count(true) {
        (0, 0) => count(false),
        counts => counts,
    };
    if rtl > ltr {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

fn local_time(millis: Millis, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

impl TranscriptDoc {
    /// The transcript as pretty-printed JSON (`switchboard-transcript/1`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The header lines every format starts with.
    pub fn heading(&self) -> Vec<String> {
        let mut lines =
            vec![format!("Transcript: {} · {} ({})", self.contact.name, self.inbox.name, self.inbox.channel)];
        let reach: Vec<&str> =
            [self.contact.phone.as_deref(), self.contact.email.as_deref()].into_iter().flatten().collect();
        if !reach.is_empty() {
            lines.push(format!("Contact: {}", reach.join(", ")));
        }
        if let Some(subject) = self.subject.as_deref().filter(|s| !s.is_empty()) {
            lines.push(format!("Subject: {subject}"));
        }
        lines.push(format!("Conversation: {}", self.conversation_id));
        lines.push(format!(
            "Exported: {} ({}), internal notes {}",
            local_time(
                self.exported_at,
                &jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
            ),
            self.time_zone,
            if self.includes_notes { "included" } else { "left out" }
        ));
        lines
    }

    /// `[time] Sender: ` — a message's prefix in the text and PDF formats.
    pub fn prefix(message: &TranscriptMessage) -> String {
        let who = match (message.sender.kind, message.kind) {
            (_, MessageKind::Activity) => "—".to_owned(),
            (SenderKind::System, _) => "Automatic".to_owned(),
            (SenderKind::Agent, MessageKind::Note) => format!("{} (internal note)", message.sender.name),
            (_, _) => message.sender.name.clone(),
        };
        format!("[{}] {who}:", message.time)
    }

    /// The plain-text transcript: the heading, a blank line, then each message as
    /// `[YYYY-MM-DD HH:MM] Sender: text`, its further lines indented by four spaces, and one
    /// `    attachment: name (size)` line per file.
    pub fn to_text(&self) -> String {
        let mut out = self.heading().join("\n");
        out.push_str("\n\n");
        for message in &self.messages {
            out.push_str(&Self::prefix(message));
            let mut lines = message.body.lines();
            if let Some(first) = lines.next() {
                out.push(' ');
                out.push_str(first);
            }
            out.push('\n');
            for line in lines {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
            for attachment in &message.attachments {
                out.push_str(&format!(
                    "    attachment: {} ({})\n",
                    attachment.file_name,
                    size_text(attachment.size)
                ));
            }
        }
        out
    }

    /// The file name to offer: the contact's name made safe, and the date.
    pub fn file_name(&self, extension: &str) -> String {
        let safe: String = self
            .contact
            .name
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let date = self.heading_date();
        let stem = if safe.is_empty() { "transcript".to_owned() } else { format!("transcript-{safe}") };
        format!("{stem}-{date}.{extension}")
    }

    fn heading_date(&self) -> String {
        let zone = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        local_time(self.exported_at, &zone).chars().take(10).collect()
    }
}

/// A file size for people: bytes, KB or MB (1024-based, one decimal).
pub fn size_text(size: u64) -> String {
    match size {
        0..=1023 => format!("{size} B"),
        1024..=1_048_575 => format!("{:.1} KB", size as f64 / 1024.0),
        _ => format!("{:.1} MB", size as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_proto::{Attachment, DeliveryState, Role};

    fn agent(name: &str) -> Agent {
        Agent {
            id: Id::new_v4(),
            name: name.into(),
            email: format!("{}@example.com", name.to_lowercase()),
            role: Role::Agent,
            availability: switchboard_proto::Availability::Online,
            active: true,
            team_ids: vec![],
            capacity: None,
            availability_since: None,
            status_text: None,
        }
    }

    fn message(conversation: Id, kind: MessageKind, sender: Sender, body: &str, at: Millis) -> Message {
        Message {
            id: Id::new_v4(),
            conversation_id: conversation,
            kind,
            body: body.into(),
            sender,
            attachments: vec![],
            template: None,
            delivery: DeliveryState::Delivered,
            failure: None,
            mentions: vec![],
            created_at: at,
        }
    }

    fn transcript(contact_name: &str, bodies: &[(MessageKind, bool, &str)], maria: &Agent) -> Transcript {
        let conversation =
            switchboard_proto::rules::new_conversation(Id::new_v4(), Id::new_v4(), Id::new_v4(), 0);
        let contact = switchboard_proto::rules::new_contact(
            conversation.contact_id,
            contact_name,
            Some("+40 700 000 001"),
            None,
            0,
        );
        let inbox: Inbox = serde_json::from_value(serde_json::json!({
            "id": conversation.inbox_id, "name": "Support", "channel": "whatsapp", "member_agent_ids": [],
            "member_team_ids": [], "templates": [], "attachment_limit": 0
        }))
        .expect("an inbox");
        // 2026-11-30 10:00 UTC, then a minute apart.
        let start = 1_796_032_800_000;
        let messages = bodies
            .iter()
            .enumerate()
            .map(|(i, (kind, from_contact, body))| {
                let sender = if *from_contact {
                    Sender::Contact { id: contact.id }
                } else {
                    Sender::Agent { id: maria.id }
                };
                message(conversation.id, *kind, sender, body, start + i as i64 * 60_000)
            })
            .collect();
        Transcript { conversation, contact, inbox, messages }
    }

    fn options(include_notes: bool) -> TranscriptOptions {
        TranscriptOptions { include_notes, time_zone: "Europe/Bucharest".into(), now: 1_796_036_400_000 }
    }

    #[test]
    fn notes_are_left_out_unless_asked_for() {
        let maria = agent("Maria");
        let thread = transcript(
            "Ana Pop",
            &[
                (MessageKind::Incoming, true, "My invoice is wrong"),
                (MessageKind::Note, false, "Billing knows, ticket 42"),
                (MessageKind::Outgoing, false, "Sorry! Fixing it now"),
            ],
            &maria,
        );
        let without = build(&thread, std::slice::from_ref(&maria), &options(false)).to_text();
        assert!(!without.contains("ticket 42"), "a note must not leave without being asked for: {without}");
        assert!(
            without.contains("internal notes left out"),
            "the heading says notes were left out: {without}"
        );
        let with = build(&thread, std::slice::from_ref(&maria), &options(true)).to_text();
        assert!(with.contains("Maria (internal note): Billing knows, ticket 42"), "{with}");
    }

    #[test]
    fn text_lines_carry_local_time_sender_and_indented_continuations() {
        let maria = agent("Maria");
        let mut thread = transcript(
            "Ana Pop",
            &[(MessageKind::Incoming, true, "Hello\nsecond line"), (MessageKind::Outgoing, false, "Hi Ana")],
            &maria,
        );
        thread.messages[0].attachments.push(Attachment {
            id: Id::new_v4(),
            conversation_id: thread.conversation.id,
            file_name: "invoice.pdf".into(),
            content_type: "application/pdf".into(),
            size: 2048,
            sha256: String::new(),
        });
        let text = build(&thread, &[maria], &options(false)).to_text();
        let body: Vec<&str> = text.split("\n\n").nth(1).expect("a body after the heading").lines().collect();
        // Bucharest is UTC+2 in winter.
        assert_eq!(
            body,
            vec![
                "[2026-11-30 12:00] Ana Pop: Hello",
                "    second line",
                "    attachment: invoice.pdf (2.0 KB)",
                "[2026-11-30 12:01] Maria: Hi Ana",
            ]
        );
        assert!(
            text.starts_with("Transcript: Ana Pop · Support (whatsapp)\nContact: +40 700 000 001\n"),
            "{text}"
        );
    }

    #[test]
    fn json_has_the_documented_shape() {
        let maria = agent("Maria");
        let thread = transcript("Ana Pop", &[(MessageKind::Incoming, true, "Hello")], &maria);
        let json: serde_json::Value =
            serde_json::from_str(&build(&thread, &[maria], &options(false)).to_json()).expect("valid JSON");
        assert_eq!(json["format"], JSON_FORMAT);
        assert_eq!(json["direction"], "ltr");
        assert_eq!(json["time_zone"], "Europe/Bucharest");
        assert_eq!(json["includes_notes"], false);
        assert_eq!(json["contact"]["name"], "Ana Pop");
        assert_eq!(json["inbox"]["channel"], "whatsapp");
        assert_eq!(json["messages"][0]["sender"], serde_json::json!({"kind": "contact", "name": "Ana Pop"}));
        assert_eq!(json["messages"][0]["kind"], "incoming");
        assert_eq!(json["messages"][0]["time"], "2026-11-30 12:00");
    }

    #[test]
    fn the_customers_writing_decides_the_direction() {
        let maria = agent("Maria");
        let persian = transcript(
            "سارا",
            &[
                (MessageKind::Incoming, true, "سلام، فاکتور من اشتباه است"),
                (MessageKind::Outgoing, false, "Hello"),
            ],
            &maria,
        );
        assert_eq!(build(&persian, std::slice::from_ref(&maria), &options(false)).direction, Direction::Rtl);
        let latin = transcript("Ana", &[(MessageKind::Incoming, true, "Bună ziua")], &maria);
        assert_eq!(build(&latin, std::slice::from_ref(&maria), &options(false)).direction, Direction::Ltr);
        // Digits alone say nothing; the agents' Arabic replies decide.
        let arabic_reply = transcript(
            "Ana",
            &[(MessageKind::Incoming, true, "42"), (MessageKind::Outgoing, false, "مرحبا")],
            &maria,
        );
        assert_eq!(build(&arabic_reply, &[maria], &options(false)).direction, Direction::Rtl);
    }

    #[test]
    fn an_unknown_zone_falls_back_to_utc_and_file_names_are_safe() {
        let maria = agent("Maria");
        let thread = transcript("Ana / Pop: \"VIP\"", &[(MessageKind::Incoming, true, "Hello")], &maria);
        let doc = build(
            &thread,
            &[maria],
            &TranscriptOptions {
                include_notes: false,
                time_zone: "Mars/Olympus".into(),
                now: 1_796_036_400_000,
            },
        );
        assert_eq!(doc.time_zone, "UTC");
        assert_eq!(doc.messages[0].time, "2026-11-30 10:00");
        assert_eq!(doc.file_name("txt"), "transcript-Ana-Pop-VIP-2026-11-30.txt");
    }
}
