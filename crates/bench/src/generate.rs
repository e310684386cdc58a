//! A deterministic workspace generator: conversations, contacts and messages in English, Persian,
//! Arabic, Romanian and Polish, with words drawn from a Zipf distribution, phone numbers, labels,
//! notes and attachment metadata — as feed changes, exactly what a client ingests.

use std::collections::HashMap;

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::Value;
use switchboard_proto::*;
use switchboard_server::demo::corpus;

/// Sizes of a generated workspace.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub conversations: usize,
    pub messages: usize,
}

pub const FULL: Preset = Preset { conversations: 100_000, messages: 1_000_000 };
pub const QUICK: Preset = Preset { conversations: 2_000, messages: 20_000 };

/// The messages of the longest thread (opened by the thread figure).
pub const LONG_THREAD: usize = 500;

const LABELS: [&str; 6] = ["vip", "refund", "bug", "billing", "shipping", "lead"];

/// A generated workspace: its feed, and facts the figures query with.
pub struct Workspace {
    pub changes: Vec<Change>,
    pub me: Id,
    pub team: Id,
    pub long_thread: Id,
    /// Every word's occurrence count in message bodies (normalised as the index does).
    pub word_counts: HashMap<String, usize>,
    pub phones: Vec<String>,
    pub message_count: usize,
}

/// Zipf sampling over a vocabulary: rank r is drawn with probability ∝ 1 / r^1.07.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.07);
                total
            })
            .collect::<Vec<_>>();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.gen::<f64>() * total;
        self.cumulative.partition_point(|c| *c < x).min(self.cumulative.len() - 1)
    }
}

/// Each language's vocabulary: the demo corpus's words by frequency, then a long tail of
/// made-up words from the language's own letters (real text has many rare words).
fn vocabulary(language: &corpus::Language, rng: &mut StdRng) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for text in language.opening_messages.iter().chain(language.follow_ups).chain(language.agent_replies) {
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 1) {
            *counts.entry(word.to_lowercase()).or_default() += 1;
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut vocabulary: Vec<String> = words.into_iter().map(|(w, _)| w).collect();
    let letters: Vec<char> =
        vocabulary.iter().flat_map(|w| w.chars()).filter(|c| c.is_alphabetic()).collect();
    for _ in 0..20_000 {
        let length = rng.gen_range(4..10);
        let word: String = (0..length).map(|_| letters[rng.gen_range(0..letters.len())]).collect();
        vocabulary.push(word);
    }
    vocabulary
}

fn change(seq: &mut i64, entity: EntityKind, id: Id, value: Value) -> Change {
    *seq += 1;
    Change { seq: *seq, entity, id, op: ChangeOp::Upsert, data: Some(value) }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Generates the workspace seen by the agent `me` (the signed-in agent when the app figures run).
pub fn generate(preset: Preset, seed: u64, me: Option<Id>) -> Workspace {
    let mut rng = StdRng::seed_from_u64(seed);
    let vocabularies: Vec<Vec<String>> = corpus::LANGUAGES.iter().map(|l| vocabulary(l, &mut rng)).collect();
    let zipfs: Vec<Zipf> = vocabularies.iter().map(|v| Zipf::new(v.len())).collect();
    let mut seq = 0i64;
    let mut changes = Vec::with_capacity(preset.messages + preset.conversations * 2 + 100);
    // Drawn even when given, so the rest of the workspace is the same for a seed either way.
    let drawn = Id::from_u128(rng.gen());
    let me = me.unwrap_or(drawn);
    let colleague = Id::from_u128(rng.gen());
    let team = Id::from_u128(rng.gen());
    changes.push(change(
        &mut seq,
        EntityKind::Team,
        team,
        serde_json::json!({"id": team, "name": "Support"}),
    ));
    for (id, name) in [(me, "Bench Agent"), (colleague, "Other Agent")] {
        let agent = Agent {
            id,
            name: name.into(),
            email: format!("{}@bench.example", id.simple()),
            role: Role::Agent,
            availability: Availability::Online,
            active: true,
            team_ids: vec![team],
            capacity: None,
            availability_since: None,
            status_text: None,
        };
        changes.push(change(&mut seq, EntityKind::Agent, id, to_value(&agent)));
    }
    let channels =
        [Channel::Whatsapp, Channel::Instagram, Channel::Telegram, Channel::Email, Channel::Webchat];
    let inboxes: Vec<Id> = channels
        .iter()
        .map(|channel| {
            let id = Id::from_u128(rng.gen());
            let inbox = Inbox {
                id,
                name: format!("{channel} inbox"),
                channel: *channel,
                member_agent_ids: vec![],
                member_team_ids: vec![team],
                templates: vec![],
                attachment_limit: channel.attachment_limit(),
                hours: None,
                routing: Routing::default(),
                auto_replies: AutoReplies::default(),
                visibility: Default::default(),
                exports_need_approval: false,
                reply_rules: None,
            };
            changes.push(change(&mut seq, EntityKind::Inbox, id, to_value(&inbox)));
            id
        })
        .collect();
    for name in LABELS {
        let id = Id::from_u128(rng.gen());
        changes.push(change(
            &mut seq,
            EntityKind::Label,
            id,
            serde_json::json!({"id": id, "name": name, "color": "#888888"}),
        ));
    }

    let mut word_counts: HashMap<String, usize> = HashMap::new();
    let mut phones = Vec::new();
    let now: Millis = 1_790_000_000_000;
    // The long thread first, then the rest spread evenly.
    let remaining = preset.messages.saturating_sub(LONG_THREAD);
    let others = preset.conversations.saturating_sub(1).max(1);
    // Spread exactly over the other conversations: the first `extra` of them get one more.
    let (per_conversation, extra) = (remaining / others, remaining % others);
    let mut long_thread = Id::nil();
    let mut message_count = 0;
    for n in 0..preset.conversations {
        let language_index = n % corpus::LANGUAGES.len();
        let language = corpus::LANGUAGES[language_index];
        let contact_id = Id::from_u128(rng.gen());
        let first = language.first_names[rng.gen_range(0..language.first_names.len())];
        let last = language.last_names[rng.gen_range(0..language.last_names.len())];
        let phone = corpus::phone_number(language, n as u64);
        phones.push(phone.clone());
        let contact = Contact {
            id: contact_id,
            name: format!("{first} {last}"),
            phone: Some(phone),
            email: Some(corpus::email_address(language, first, last, n as u64)),
            identities: vec![],
            created_at: now - 1_000_000 + n as i64,
            notes: None,
            fields: Default::default(),
            merged_into: None,
        };
        changes.push(change(&mut seq, EntityKind::Contact, contact_id, to_value(&contact)));
        let conversation_id = Id::from_u128(rng.gen());
        if n == 0 {
            long_thread = conversation_id;
        }
        let count = if n == 0 { LONG_THREAD } else { (per_conversation + usize::from(n <= extra)).max(1) };
        let started = now - (preset.conversations - n) as i64 * 60_000;
        let assignee = match n % 3 {
            0 => None,
            1 => Some(me),
            _ => Some(colleague),
        };
        let mut labels = vec![];
        if n % 4 == 0 {
            labels.push(LABELS[n % LABELS.len()].to_string());
        }
        let mut last_body = String::new();
        let mut messages = Vec::with_capacity(count);
        for m in 0..count {
            let kind = match m % 7 {
                0 | 2 | 4 => MessageKind::Incoming,
                6 => MessageKind::Note,
                _ => MessageKind::Outgoing,
            };
            let words = rng.gen_range(6..28);
            let body: Vec<&str> = (0..words)
                .map(|_| vocabularies[language_index][zipfs[language_index].sample(&mut rng)].as_str())
                .collect();
            let body = body.join(" ");
            for word in body.split(' ') {
                *word_counts.entry(text::normalize_for_search(word)).or_default() += 1;
            }
            let attachments = if m % 40 == 39 {
                vec![Attachment {
                    id: Id::from_u128(rng.gen()),
                    conversation_id,
                    file_name: format!("photo-{m}.jpg"),
                    content_type: "image/jpeg".into(),
                    size: rng.gen_range(20_000..2_000_000),
                    sha256: hex::encode(rng.gen::<[u8; 32]>()),
                }]
            } else {
                vec![]
            };
            let sender = match kind {
                MessageKind::Incoming => Sender::Contact { id: contact_id },
                _ => Sender::Agent { id: assignee.unwrap_or(colleague) },
            };
            last_body.clone_from(&body);
            messages.push(Message {
                id: Id::from_u128(rng.gen()),
                conversation_id,
                kind,
                body,
                sender,
                attachments,
                template: None,
                delivery: DeliveryState::Delivered,
                failure: None,
                mentions: vec![],
                created_at: started + m as i64 * 1_000,
            });
        }
        message_count += messages.len();
        let last_at = started + count as i64 * 1_000;
        let conversation = Conversation {
            id: conversation_id,
            inbox_id: inboxes[n % inboxes.len()],
            contact_id,
            subject: None,
            status: if n % 5 == 0 { ConversationStatus::Resolved } else { ConversationStatus::Open },
            snoozed_until: None,
            assignee_id: assignee,
            team_id: (n % 2 == 0).then_some(team),
            priority: Priority::None,
            labels,
            created_at: started,
            last_activity_at: last_at,
            waiting_since: (n % 3 == 0).then_some(last_at),
            first_reply_at: Some(started + 1_000),
            last_incoming_at: Some(last_at),
            preview: last_body.chars().take(140).collect(),
            sla: None,
            escalation: None,
        };
        changes.push(change(&mut seq, EntityKind::Conversation, conversation_id, to_value(&conversation)));
        for message in messages {
            changes.push(change(&mut seq, EntityKind::Message, message.id, to_value(&message)));
        }
    }
    Workspace { changes, me, team, long_thread, word_counts, phones, message_count }
}
