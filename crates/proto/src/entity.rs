//! The entities the change feed carries: what a client caches, exactly as the server sends it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as it appears on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the wire form.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// What an agent may do: admins run the workspace, leads manage team-wide content.
    Role { Admin => "admin", Lead => "lead", Agent => "agent" }
);
wire_enum!(Availability { Online => "online", Busy => "busy", Offline => "offline" });
wire_enum!(
    /// How an inbox hands out conversations nobody holds: `manual` (agents claim them),
    /// `least_loaded` (to the eligible agent with the fewest open conversations) or `round_robin`
    /// (to the eligible agent whose last automatic assignment is the oldest).
    RoutingMode { Manual => "manual", LeastLoaded => "least_loaded", RoundRobin => "round_robin" }
);

/// An inbox's routing policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub mode: RoutingMode,
    /// When an assignee becomes unavailable (busy, offline, no stream open anywhere, deactivated),
    /// their open conversations whose customer is waiting go back to the queue after this many
    /// seconds, unless they are available again by then; a customer writing to such a
    /// conversation sends it back at once. `null`: assignees keep their conversations.
    #[serde(default = "default_release_after_secs")]
    pub release_after_secs: Option<u32>,
    /// When routing hands a waiting customer to someone who doesn't reply within this many
    /// seconds, it takes the conversation back and hands it to someone else (`null`: never).
    #[serde(default)]
    pub reassign_after_secs: Option<u32>,
    /// After this many such handovers in a cycle the conversation stays in the queue for a person
    /// to decide (routing stops offering it), with an activity line saying so.
    #[serde(default = "default_max_handovers")]
    pub max_handovers: u32,
}

fn default_max_handovers() -> u32 {
    2
}

/// Five minutes: a laptop that sleeps through lunch releases its waiting customers; a dropped
/// connection that comes back within a minute or two does not.
pub const DEFAULT_RELEASE_AFTER_SECS: u32 = 300;

fn default_release_after_secs() -> Option<u32> {
    Some(DEFAULT_RELEASE_AFTER_SECS)
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            mode: RoutingMode::Manual,
            release_after_secs: default_release_after_secs(),
            reassign_after_secs: None,
            max_handovers: default_max_handovers(),
        }
    }
}

/// One automatic reply: its text, and how long after the customer's message it goes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AutoReply {
    pub body: String,
    /// 0: at once. A greeting with a delay is cancelled by a person's reply before it.
    #[serde(default)]
    pub delay_secs: u32,
    /// On a channel with a reply window: the inbox's approved template sent instead once the
    /// window has closed (without one, the reply is skipped and the thread says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub template: Option<TemplateRef>,
}

/// A reply sent when a customer's message contains one of `keywords` (compared after the search
/// normalisation of `text`: case, Persian and Arabic letter forms, digits, diacritics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct KeywordReply {
    pub keywords: Vec<String>,
    pub body: String,
    /// The same keyword reply goes to a conversation at most once in this many seconds.
    #[serde(default)]
    pub cooldown_secs: u32,
    /// As [`AutoReply::template`]: sent instead once the reply window has closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub template: Option<TemplateRef>,
}

/// An inbox's automatic replies. At most one goes out per customer message, and none counts as
/// a response (it sets no first reply, stops no waiting and no SLA clock).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AutoReplies {
    /// To a customer who starts a conversation (never one an agent started).
    #[serde(default)]
    pub greeting: Option<AutoReply>,
    /// To a customer who writes while the inbox is closed (its `hours`), once per closed period;
    /// `{{next_open_at}}` becomes the next opening in the inbox's time zone.
    #[serde(default)]
    pub away: Option<AutoReply>,
    #[serde(default)]
    pub keywords: Vec<KeywordReply>,
}
wire_enum!(
    /// Which of an inbox's conversations its members (not admins) see: `everything`,
    /// `mine_and_unassigned` (those assigned to them and those nobody holds) or `mine_only` (those
    /// assigned to them). Decided in one place on the server (`workspace/feed.rs::Visibility`).
    InboxVisibility {
        Everything => "everything",
        MineAndUnassigned => "mine_and_unassigned",
        MineOnly => "mine_only",
    }
);

#[allow(clippy::derivable_impls)] // the wire_enum! macro fixes the derives
impl Default for InboxVisibility {
    fn default() -> Self {
        InboxVisibility::Everything
    }
}

impl InboxVisibility {
    /// Whether a member who is not an admin sees a conversation of such an inbox held by
    /// `assignee`.
    pub fn shows(self, me: Uuid, assignee: Option<Uuid>) -> bool {
        match self {
            InboxVisibility::Everything => true,
            InboxVisibility::MineAndUnassigned => assignee.is_none_or(|a| a == me),
            InboxVisibility::MineOnly => assignee == Some(me),
        }
    }
}

wire_enum!(Channel {
    Whatsapp => "whatsapp",
    Instagram => "instagram",
    Telegram => "telegram",
    Email => "email",
    Webchat => "webchat",
    Api => "api",
    Facebook => "facebook",
});
wire_enum!(ConversationStatus {
    Open => "open",
    Pending => "pending",
    Snoozed => "snoozed",
    Resolved => "resolved",
});
wire_enum!(Priority { None => "none", Low => "low", Medium => "medium", High => "high", Urgent => "urgent" });
wire_enum!(MessageKind { Incoming => "incoming", Outgoing => "outgoing", Note => "note", Activity => "activity" });
wire_enum!(DeliveryState {
    Queued => "queued",
    Sent => "sent",
    Delivered => "delivered",
    Read => "read",
    Failed => "failed",
});
wire_enum!(
    /// Why an outgoing message failed, as the client branches on it: `window_closed` (the
    /// channel's reply window: only a template may be sent), `rejected` (the provider refused it
    /// for good), `not_configured` (the inbox has no working connector), `gave_up` (transient
    /// failures until the attempts ran out), `interrupted` (the server stopped while sending it on
    /// a channel that can't tell whether it went: it may have reached the customer).
    DeliveryFailureKind {
        WindowClosed => "window_closed",
        Rejected => "rejected",
        NotConfigured => "not_configured",
        GaveUp => "gave_up",
        Interrupted => "interrupted",
    }
);
wire_enum!(
    /// The kinds of entity the change feed carries.
    EntityKind {
        Agent => "agent",
        Team => "team",
        Inbox => "inbox",
        Contact => "contact",
        Conversation => "conversation",
        Message => "message",
        Label => "label",
        CannedResponse => "canned_response",
        Mention => "mention",
        Pin => "pin",
        ReadMarker => "read_marker",
        SlaPolicy => "sla_policy",
        AutomationRule => "automation_rule",
        SavedView => "saved_view",
        QuickReplyUsage => "quick_reply_usage",
        CustomField => "custom_field",
        LockPolicy => "lock_policy",
    }
);

impl EntityKind {
    /// The table this kind lives in: named alike in the server's SQL backends and the client's
    /// cache, so the one mapping lives here.
    pub fn table(self) -> &'static str {
        match self {
            EntityKind::Agent => "agents",
            EntityKind::Team => "teams",
            EntityKind::Inbox => "inboxes",
            EntityKind::Contact => "contacts",
            EntityKind::Conversation => "conversations",
            EntityKind::Message => "messages",
            EntityKind::Label => "labels",
            EntityKind::CannedResponse => "canned_responses",
            EntityKind::Mention => "mentions",
            EntityKind::Pin => "pins",
            EntityKind::ReadMarker => "read_markers",
            EntityKind::SlaPolicy => "sla_policies",
            EntityKind::AutomationRule => "automation_rules",
            EntityKind::SavedView => "saved_views",
            EntityKind::QuickReplyUsage => "quick_reply_usages",
            EntityKind::CustomField => "custom_fields",
            EntityKind::LockPolicy => "lock_policies",
        }
    }
}

/// How long after the customer's last message a free-form reply is allowed on channels with a
/// reply window (WhatsApp, Instagram, Facebook).
pub const REPLY_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

impl Channel {
    /// Whether free-form replies are only allowed within [`REPLY_WINDOW_MS`] of the customer's
    /// last incoming message (after that, only a template message).
    pub fn has_reply_window(self) -> bool {
        matches!(self, Channel::Whatsapp | Channel::Instagram | Channel::Facebook)
    }

    /// Largest attachment the channel carries, in bytes.
    pub fn attachment_limit(self) -> u64 {
        const MIB: u64 = 1024 * 1024;
        match self {
            Channel::Whatsapp => 16 * MIB,
            Channel::Instagram => 8 * MIB,
            Channel::Telegram => 50 * MIB,
            Channel::Email | Channel::Webchat | Channel::Api | Channel::Facebook => 25 * MIB,
        }
    }
}

impl ConversationStatus {
    /// Everything but resolved counts as open for the one-open-conversation-per-inbox rule.
    pub fn is_open(self) -> bool {
        !matches!(self, ConversationStatus::Resolved)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Agent {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub availability: Availability,
    /// False once an admin deactivates the agent (all their devices are revoked).
    pub active: bool,
    pub team_ids: Vec<Uuid>,
    /// The most open conversations routing gives this agent, across every inbox (`None`: no
    /// limit). A person may assign them more by hand; routing then waits until they are below it.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// When they last changed their availability (so the app can say when routing will release
    /// their waiting customers while they are busy or offline).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub availability_since: Option<Millis>,
    /// What the agent says beside their availability ("Back at 3", "On a call"): set with
    /// `PATCH /me`, at most 100 characters, absent when they have said nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub status_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Team {
    pub id: Uuid,
    pub name: String,
}

/// A pre-approved template message (WhatsApp-style): `body` holds `{{1}}`, `{{2}}`… placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub name: String,
    pub language: String,
    pub body: String,
}

impl MessageTemplate {
    /// How many `{{n}}` parameters the body uses (the highest n).
    pub fn param_count(&self) -> usize {
        (1..=32).rev().find(|n| self.body.contains(&format!("{{{{{n}}}}}"))).unwrap_or(0)
    }

    /// The body with `{{n}}` replaced by the n-th parameter, in one pass: a parameter's own text is
    /// never rendered again (a parameter holding `{{2}}` stays `{{2}}`), so the output is at most the
    /// body with each placeholder replaced by one parameter. Placeholders without a parameter stay.
    pub fn render(&self, params: &[String]) -> String {
        let mut out = String::with_capacity(self.body.len());
        let mut rest = self.body.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let param = after[digits..]
                .starts_with("}}")
                .then(|| after[..digits].parse::<usize>().ok())
                .flatten()
                .filter(|n| after[..digits] == n.to_string())
                .and_then(|n| params.get(n.checked_sub(1)?));
            match param {
                Some(value) => {
                    out.push_str(value);
                    rest = &after[digits + 2..];
                }
                None => {
                    out.push('{');
                    rest = &rest[open + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inbox {
    pub id: Uuid,
    pub name: String,
    pub channel: Channel,
    pub member_agent_ids: Vec<Uuid>,
    pub member_team_ids: Vec<Uuid>,
    pub templates: Vec<MessageTemplate>,
    pub attachment_limit: u64,
    /// Business hours, versioned so an edit never changes past figures (`None`: always open).
    #[serde(default)]
    pub hours: Option<crate::calendar::CalendarHistory>,
    #[serde(default)]
    pub routing: Routing,
    #[serde(default)]
    pub auto_replies: AutoReplies,
    /// Which of its conversations the inbox's members see (admins see all).
    #[serde(default)]
    pub visibility: InboxVisibility,
    /// Whether an agent's transcript export from this inbox waits for a lead's approval
    /// (`crate::exports::ExportRequest`); leads' and admins' own exports are never held.
    #[serde(default)]
    pub exports_need_approval: bool,
    /// What the inbox's connector says of replies (its reported capabilities), so the app shows
    /// the window the server enforces. `None`: no connector, the channel's defaults apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub reply_rules: Option<ReplyRules>,
}

/// How long replies may follow the customer's last message on an inbox, and what is left once
/// that time has passed: the connector's capabilities, carried on the inbox entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReplyRules {
    /// Free-form replies only within this long of the customer's last message (`None`: any time).
    pub window_ms: Option<Millis>,
    /// How long a person (not an automation) may still reply: longer than `window_ms` on a
    /// Messenger or Instagram inbox that enables the `HUMAN_AGENT` tag (7 days).
    pub person_window_ms: Option<Millis>,
    /// Whether an approved template may be sent once the window has closed (WhatsApp); without
    /// templates, only the customer writing again opens it.
    pub templates: bool,
}

impl Inbox {
    /// The reply rules in force: the connector's, else the channel's defaults (24 hours on
    /// WhatsApp, Instagram and Messenger, templates only on WhatsApp; no window elsewhere).
    pub fn reply_rules(&self) -> ReplyRules {
        self.reply_rules.unwrap_or_else(|| {
            let window = self.channel.has_reply_window().then_some(REPLY_WINDOW_MS);
            let templates = self.channel == Channel::Whatsapp;
            ReplyRules { window_ms: window, person_window_ms: window, templates }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactIdentity {
    pub inbox_id: Uuid,
    pub channel: Channel,
    pub external_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Contact {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub identities: Vec<ContactIdentity>,
    pub created_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub notes: Option<String>,
    /// Custom field values by the field's key (see [`crate::contacts::CustomField`]), as text.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[cfg_attr(feature = "ts", ts(as = "Option<std::collections::BTreeMap<String, String>>", optional))]
    pub fields: std::collections::BTreeMap<String, String>,
    /// Set on a contact merged into another: a tombstone pointing at the survivor, which holds
    /// its channel identities and conversations now. Clients drop it from their caches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub merged_into: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conversation {
    pub id: Uuid,
    pub inbox_id: Uuid,
    pub contact_id: Uuid,
    pub subject: Option<String>,
    pub status: ConversationStatus,
    pub snoozed_until: Option<Millis>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub priority: Priority,
    /// Label names, sorted.
    pub labels: Vec<String>,
    pub created_at: Millis,
    /// Last customer or agent message (notes and activity don't count).
    pub last_activity_at: Millis,
    /// Since when the customer has been waiting for a reply (null: not waiting).
    pub waiting_since: Option<Millis>,
    pub first_reply_at: Option<Millis>,
    /// The customer's last message: the reply window is measured from here.
    pub last_incoming_at: Option<Millis>,
    /// A short preview of the last customer or agent message, for list rows.
    pub preview: String,
    /// The service-level policy of the current cycle and its clocks (`None`: no policy applies).
    #[serde(default)]
    pub sla: Option<crate::sla::ConversationSla>,
    /// Escalated, by whom and since when (`None`: not escalated).
    #[serde(default)]
    pub escalation: Option<crate::escalation::Escalation>,
}

impl Conversation {
    /// When the free-form reply window closes, for channels that have one.
    pub fn reply_window_closes_at(&self, channel: Channel) -> Option<Millis> {
        if !channel.has_reply_window() {
            return None;
        }
        Some(self.last_incoming_at.map_or(Millis::MIN, |at| at + REPLY_WINDOW_MS))
    }

    /// Whether a free-form reply is allowed at `now`.
    pub fn reply_window_open(&self, channel: Channel, now: Millis) -> bool {
        self.reply_window_closes_at(channel).is_none_or(|closes| now < closes)
    }

    /// When a person's free-form reply stops being allowed on `inbox` (`None`: never).
    pub fn person_reply_closes_at(&self, inbox: &Inbox) -> Option<Millis> {
        let window = inbox.reply_rules().person_window_ms?;
        Some(self.last_incoming_at.map_or(Millis::MIN, |at| at.saturating_add(window)))
    }
}

/// Why an outgoing message was not delivered, shown on the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeliveryFailure {
    pub kind: DeliveryFailureKind,
    /// The provider's reason (e.g. `(#131047) Re-engagement message`), or the connector's.
    pub reason: String,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Sender {
    Agent { id: Uuid },
    Contact { id: Uuid },
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attachment {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Hex sha256 of the content; the server stores files by it.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    pub name: String,
    #[serde(default)]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Message {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub kind: MessageKind,
    pub body: String,
    pub sender: Sender,
    pub attachments: Vec<Attachment>,
    pub template: Option<TemplateRef>,
    /// Outgoing messages: how far delivery got. Others: `delivered`.
    pub delivery: DeliveryState,
    /// A failed outgoing message: why, as the channel (or the connector) said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub failure: Option<DeliveryFailure>,
    /// Notes: the agents mentioned with `@name`.
    pub mentions: Vec<Uuid>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Label {
    pub id: Uuid,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CannedResponse {
    pub id: Uuid,
    pub short_code: String,
    pub title: String,
    /// Text with `{{contact.name}}`-style variables.
    pub body: String,
    /// Personal to this agent; null: team-wide.
    pub owner_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Mention {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub mentioned_by: Uuid,
    pub created_at: Millis,
}

/// A conversation pinned by the requesting agent. Its feed id is the conversation id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Pin {
    pub conversation_id: Uuid,
    pub pinned_at: Millis,
}

/// How far the requesting agent has read a conversation. Its feed id is the conversation id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReadMarker {
    pub conversation_id: Uuid,
    pub last_read_message_id: Uuid,
    pub read_at: Millis,
}

/// Any entity of the feed, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    Agent(Agent),
    Team(Team),
    Inbox(Inbox),
    Contact(Contact),
    Conversation(Conversation),
    Message(Message),
    Label(Label),
    CannedResponse(CannedResponse),
    Mention(Mention),
    Pin(Pin),
    ReadMarker(ReadMarker),
    SlaPolicy(crate::sla::SlaPolicy),
    AutomationRule(crate::automation::AutomationRule),
    SavedView(crate::views::SavedView),
    QuickReplyUsage(crate::quick_replies::QuickReplyUsage),
    CustomField(crate::contacts::CustomField),
    LockPolicy(crate::exports::LockPolicy),
}

impl Entity {
    /// Decodes a feed record's `data` according to its entity kind.
    pub fn decode(kind: EntityKind, data: serde_json::Value) -> serde_json::Result<Entity> {
        use serde_json::from_value as de;
        Ok(match kind {
            EntityKind::Agent => Entity::Agent(de(data)?),
            EntityKind::Team => Entity::Team(de(data)?),
            EntityKind::Inbox => Entity::Inbox(de(data)?),
            EntityKind::Contact => Entity::Contact(de(data)?),
            EntityKind::Conversation => Entity::Conversation(de(data)?),
            EntityKind::Message => Entity::Message(de(data)?),
            EntityKind::Label => Entity::Label(de(data)?),
            EntityKind::CannedResponse => Entity::CannedResponse(de(data)?),
            EntityKind::Mention => Entity::Mention(de(data)?),
            EntityKind::Pin => Entity::Pin(de(data)?),
            EntityKind::ReadMarker => Entity::ReadMarker(de(data)?),
            EntityKind::SlaPolicy => Entity::SlaPolicy(de(data)?),
            EntityKind::AutomationRule => Entity::AutomationRule(de(data)?),
            EntityKind::SavedView => Entity::SavedView(de(data)?),
            EntityKind::CustomField => Entity::CustomField(de(data)?),
            EntityKind::QuickReplyUsage => Entity::QuickReplyUsage(de(data)?),
            EntityKind::LockPolicy => Entity::LockPolicy(de(data)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_params_render_in_order() {
        let template = MessageTemplate {
            name: "order_update".into(),
            language: "en".into(),
            body: "Hi {{1}}, order {{2}} is on its way".into(),
        };
        assert_eq!(template.param_count(), 2);
        assert_eq!(template.render(&["Ana".into(), "#42".into()]), "Hi Ana, order #42 is on its way");
    }

    #[test]
    fn reply_window_closes_24h_after_last_incoming() {
        let conversation = Conversation {
            id: Uuid::nil(),
            inbox_id: Uuid::nil(),
            contact_id: Uuid::nil(),
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
            last_incoming_at: Some(1_000),
            preview: String::new(),
            sla: None,
            escalation: None,
        };
        assert!(conversation.reply_window_open(Channel::Whatsapp, 1_000 + REPLY_WINDOW_MS - 1));
        assert!(!conversation.reply_window_open(Channel::Whatsapp, 1_000 + REPLY_WINDOW_MS));
        assert!(conversation.reply_window_open(Channel::Email, i64::MAX), "email has no window");
        let never_wrote = Conversation { last_incoming_at: None, ..conversation };
        assert!(!never_wrote.reply_window_open(Channel::Instagram, 0));
    }

    #[test]
    fn wire_enums_round_trip() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_string(kind).expect("serializes");
            assert_eq!(json, format!("\"{kind}\""));
        }
    }
}
