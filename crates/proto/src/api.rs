//! Request and response bodies of the REST endpoints.
//!
//! Every mutation carries a client-generated `client_id` (UUID): replaying it returns the original
//! result and writes nothing new. Mutations that create an entity give it the `client_id` as id,
//! so a client can refer to it before the server has answered (offline).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    double_option, Agent, Attachment, Availability, Channel, Contact, Conversation, ConversationStatus,
    Inbox, Message, MessageTemplate, Millis, Priority, Role, TemplateRef,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    pub device_name: String,
    /// The authenticator's six digits, or a recovery code, for an agent who enrolled a second
    /// factor (without it such a sign-in answers `two_factor_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor_code: Option<String>,
}

/// `POST /api/v1/me/verify-password`: the signed-in agent's password, checked (the app lock's
/// unlock); failures count toward sign-in's rate limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyPassword {
    pub password: String,
}

/// `POST /api/v1/me/two-factor`: a new secret to enrol, shown once; confirmed with a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorEnrolment {
    /// Base32, for typing into an authenticator by hand.
    pub secret: String,
    /// `otpauth://totp/…`, for the QR code an authenticator scans.
    pub otpauth_uri: String,
}

/// A six-digit code (or a recovery code where one is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TwoFactorCode {
    pub code: String,
}

/// Enrolment confirmed: ten recovery codes, each good once, shown only now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorConfirmed {
    pub recovery_codes: Vec<String>,
}

/// `GET /api/v1/me/two-factor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
    /// An admin requires a second factor of this agent (themselves or the whole workspace): it
    /// can't be turned off, only replaced.
    #[serde(default)]
    pub required: bool,
}

/// `PUT /api/v1/two-factor/required` (the whole workspace) and
/// `PUT /api/v1/agents/{id}/two-factor/required` (one agent), admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TwoFactorRequirement {
    pub required: bool,
}

/// `GET /api/v1/two-factor` (admins): who must sign in with a second factor and who does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TwoFactorOverview {
    /// Every agent must enrol.
    pub workspace_required: bool,
    pub agents: Vec<AgentTwoFactor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentTwoFactor {
    pub agent_id: Uuid,
    /// Required of this agent in particular (the workspace's requirement aside).
    pub required: bool,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for this device. Shown once; the server keeps only its hash.
    pub token: String,
    pub device_id: Uuid,
    pub agent: Agent,
    /// An admin requires a second factor of this agent and none is enrolled yet: until one is,
    /// this token answers only the enrolment endpoints (`/me/two-factor…`) and sign-out, and
    /// everything else with `two_factor_enrolment_required`.
    #[serde(default)]
    pub two_factor_enrolment_required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub name: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    /// The device making this request.
    pub current: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SendKind {
    Reply,
    Note,
}

/// `POST /api/v1/conversations/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub client_id: Uuid,
    pub kind: SendKind,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
    /// Required for replies once the channel's reply window has closed.
    #[serde(default)]
    pub template: Option<TemplateRef>,
}

/// `POST /api/v1/conversations/{id}/assign`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub client_id: Uuid,
    /// The new assignee; null unassigns.
    pub assignee_id: Option<Uuid>,
    /// Absent: keep the team. Null: no team. Otherwise the new team.
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub team_id: Option<Option<Uuid>>,
    /// Compare-and-set: only assign if the current assignee is this (null: unassigned).
    /// Absent: assign unconditionally.
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub expected_assignee_id: Option<Option<Uuid>>,
    /// The bulk action this is one of: one id shared by every conversation of a multi-selection,
    /// kept on the audit trail's rows (`bulk_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<Uuid>,
}

/// `POST /api/v1/conversations/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub client_id: Uuid,
    pub status: ConversationStatus,
    /// Required with `snoozed`, in the future.
    #[serde(default)]
    pub snoozed_until: Option<Millis>,
    /// The bulk action this is one of: one id shared by every conversation of a multi-selection,
    /// kept on the audit trail's rows (`bulk_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<Uuid>,
}

/// `POST /api/v1/conversations/{id}/labels`: adds and removes, never replaces, so two agents
/// labelling at once both win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LabelsRequest {
    pub client_id: Uuid,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    /// The bulk action this is one of: one id shared by every conversation of a multi-selection,
    /// kept on the audit trail's rows (`bulk_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<Uuid>,
}

/// `POST /api/v1/conversations/{id}/priority`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriorityRequest {
    pub client_id: Uuid,
    pub priority: Priority,
    /// The bulk action this is one of: one id shared by every conversation of a multi-selection,
    /// kept on the audit trail's rows (`bulk_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<Uuid>,
}

/// `POST /api/v1/conversations/{id}/escalation`: escalate (`escalated: true`, with an optional
/// note) or de-escalate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EscalationRequest {
    pub client_id: Uuid,
    pub escalated: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/conversations/{id}/read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub client_id: Uuid,
    pub last_read_message_id: Uuid,
}

/// `POST /api/v1/conversations/{id}/messages/{message_id}/retry`: queue a failed outgoing message
/// for delivery again (its connector may have been fixed, or the provider's error has passed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    pub client_id: Uuid,
}

/// `POST /api/v1/conversations`: start an outbound conversation. Its id is `client_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    pub client_id: Uuid,
    pub inbox_id: Uuid,
    pub contact_id: Uuid,
    #[serde(default)]
    pub subject: Option<String>,
    /// The first message; channels with a reply window need `template` instead.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub template: Option<TemplateRef>,
}

/// The id the server gives the first message of a conversation created with `client_id`, so a
/// client's optimistic copy and the server's are the same message.
pub fn first_message_id(client_id: crate::Id) -> crate::Id {
    uuid::Uuid::from_u128(client_id.as_u128() ^ 1)
}

/// The answer to a conversation mutation: the conversation as it now is, and the message the
/// mutation wrote, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationResult {
    pub conversation: Conversation,
    pub message: Option<Message>,
    /// The highest feed seq this mutation committed (0: it changed nothing). Once a client's
    /// cursor reaches it, the feed carries the mutation's effect.
    pub seq: i64,
}

/// `POST /api/v1/contacts`. Its id is `client_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    pub client_id: Uuid,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /api/v1/contacts` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactResult {
    pub contact: Contact,
    /// The feed seq of the contact's creation (see [`ConversationResult::seq`]).
    pub seq: i64,
}

/// `PATCH /api/v1/me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub availability: Option<Availability>,
    /// The status text beside the availability; an empty (or blank) one clears it.
    #[serde(default)]
    pub status_text: Option<String>,
}

/// `POST /api/v1/agents` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password: String,
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
}

/// `PATCH /api/v1/agents/{id}` (admin). `active: false` revokes all the agent's devices.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub team_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    pub password: Option<String>,
    /// The most open conversations routing gives the agent; `null` for no limit.
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub capacity: Option<Option<u32>>,
}

/// `POST /api/v1/teams` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: String,
    #[serde(default)]
    pub member_agent_ids: Vec<Uuid>,
}

/// `PATCH /api/v1/teams/{id}` (admin): rename, or set who is on the team.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub member_agent_ids: Option<Vec<Uuid>>,
}

/// `POST /api/v1/inboxes` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    pub name: String,
    pub channel: Channel,
    /// API channel: where outgoing replies are POSTed (signed with the inbox secret). Short for
    /// `connector: {"kind": "api", "webhook_url": …}`; stored server-side, never in the feed.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// How the inbox talks to its channel (credentials included): stored server-side only.
    #[serde(default)]
    pub connector: Option<ConnectorSettings>,
    #[serde(default)]
    pub member_agent_ids: Vec<Uuid>,
    #[serde(default)]
    pub member_team_ids: Vec<Uuid>,
    #[serde(default)]
    pub templates: Vec<MessageTemplate>,
}

/// How an inbox talks to its channel: the connector and its settings, secrets included. Stored
/// server-side (`inbox_connectors`), written by admins, never sent in the feed or read back with
/// its secrets (`ConnectorInfo` is what an admin reads).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectorSettings {
    /// The signed API channel: replies POSTed to `webhook_url`, signed with the inbox secret.
    Api { webhook_url: String },
    /// WhatsApp Cloud API (Meta Graph API).
    Whatsapp(WhatsappSettings),
    /// The demo's traffic simulator: replies go to the simulated customer, nowhere else.
    Simulator,
    /// An email address: IMAP (IDLE) for what arrives, SMTP submission for replies.
    Email(EmailSettings),
    /// A Telegram bot (Bot API): updates by webhook, replies with `sendMessage`/`sendPhoto`/
    /// `sendDocument`.
    Telegram(TelegramSettings),
    /// A Facebook Page's Messenger conversations (Messenger Platform, Graph API).
    Messenger(MetaSettings),
    /// An Instagram professional account's direct messages (Instagram Messaging, Graph API).
    Instagram(MetaSettings),
    /// The website chat widget: a script served by this server (`/widget/{inbox_id}.js`) that
    /// visitors of the team's site chat through. No secret: what it has is public.
    Widget(WidgetSettings),
}

impl std::fmt::Debug for ConnectorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectorSettings::Api { webhook_url } => {
                f.debug_struct("Api").field("webhook_url", webhook_url).finish()
            }
            ConnectorSettings::Whatsapp(settings) => settings.fmt(f),
            ConnectorSettings::Simulator => f.write_str("Simulator"),
            ConnectorSettings::Email(settings) => settings.fmt(f),
            ConnectorSettings::Telegram(settings) => settings.fmt(f),
            ConnectorSettings::Messenger(settings) | ConnectorSettings::Instagram(settings) => {
                settings.fmt(f)
            }
            ConnectorSettings::Widget(settings) => settings.fmt(f),
        }
    }
}

/// The website chat widget's settings (`connectors/widget.rs` in the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WidgetSettings {
    /// The sites that may embed the widget, as origins (`https://example.com`,
    /// `http://localhost:8080`): the visitor endpoints answer these origins' browsers (CORS) and
    /// refuse any other.
    pub allowed_origins: Vec<String>,
    /// The first words the visitor reads when the chat opens.
    #[serde(default)]
    pub greeting: String,
    /// The bubble's and the header's colour, `#rrggbb` (`#2563eb` unless set).
    #[serde(default)]
    pub color: Option<String>,
}

/// A Messenger Page or an Instagram account on Meta's Graph API (`connectors/meta.rs` in the
/// server): what the app dashboard shows.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetaSettings {
    /// The Facebook Page's id (Messenger) or the Instagram account's id (Instagram): the `id` of
    /// the webhook's entries; entries for other accounts of the same app are skipped.
    pub account_id: String,
    /// The Page access token (`Authorization: Bearer`): `POST /{version}/me/messages`.
    pub access_token: String,
    /// The app secret: `X-Hub-Signature-256` is HMAC-SHA256 of the raw body under it.
    pub app_secret: String,
    /// The token typed into the webhook settings; the `GET` handshake must echo it.
    pub verify_token: String,
    /// Replies by people may go out up to 7 days after the customer's last message, tagged
    /// `HUMAN_AGENT` after the first 24 hours (the app must have Meta's approval for the tag).
    #[serde(default)]
    pub human_agent: bool,
    /// `https://graph.facebook.com` unless set (tests point it at an emulator).
    #[serde(default)]
    pub graph_base_url: Option<String>,
    /// The Graph API version, `v23.0` unless set.
    #[serde(default)]
    pub api_version: Option<String>,
}

impl std::fmt::Debug for MetaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meta")
            .field("account_id", &self.account_id)
            .field("access_token", &"<redacted>")
            .field("app_secret", &"<redacted>")
            .field("verify_token", &"<redacted>")
            .field("human_agent", &self.human_agent)
            .field("graph_base_url", &self.graph_base_url)
            .field("api_version", &self.api_version)
            .finish()
    }
}

/// A Telegram bot: what BotFather gave, and the secret registered with `setWebhook`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The bot's token (`123456:ABC-DEF…`): `https://api.telegram.org/bot<token>/METHOD`.
    pub bot_token: String,
    /// The `secret_token` given to `setWebhook` (1-256 of `A-Z a-z 0-9 _ -`): every webhook
    /// request carries it in `X-Telegram-Bot-Api-Secret-Token`. Not needed for `polling`.
    #[serde(default)]
    pub webhook_secret: String,
    /// `https://api.telegram.org` unless set (a local Bot API server, or the tests' emulator).
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// How updates arrive: Telegram POSTs them to the webhook (the default), or the server asks
    /// for them (`getUpdates`, for a server Telegram cannot reach).
    #[serde(default)]
    pub mode: TelegramMode,
}

/// How a Telegram inbox gets its updates: `webhook` (Telegram POSTs each to the inbox's callback
/// URL, registered with `setWebhook`) or `polling` (the server long-polls `getUpdates`, for a
/// server behind NAT; the server deletes the bot's webhook first, as `getUpdates` requires).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TelegramMode {
    #[default]
    Webhook,
    Polling,
}

impl std::fmt::Debug for TelegramSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("bot_token", &"<redacted>")
            .field("webhook_secret", &"<redacted>")
            .field("api_base_url", &self.api_base_url)
            .field("mode", &self.mode)
            .finish()
    }
}

/// An email inbox's mail servers and login (`connectors/email.rs` in the server).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The inbox's address: what customers write to, the `From` and `Reply-To` of replies.
    pub address: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub imap: MailServer,
    pub smtp: MailServer,
    /// The login on both servers (often the address itself).
    pub username: String,
    /// An app password (most providers want one for IMAP/SMTP). Never read back.
    pub password: String,
    /// The mailbox watched for new mail, `INBOX` unless set.
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub new_subject: NewSubject,
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("address", &self.address)
            .field("imap", &self.imap)
            .field("smtp", &self.smtp)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("mailbox", &self.mailbox)
            .field("new_subject", &self.new_subject)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
}

/// `tls` (IMAPS 993, SMTPS 465), `starttls` (SMTP submission 587; not for IMAP), or `none`,
/// accepted only for a loopback host (a bridge on the same machine, a test server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MailSecurity {
    Tls,
    Starttls,
    None,
}

/// Mail from a customer that answers nothing we know (a new subject): it joins their open
/// conversation, or reopens one resolved recently, as on every channel (`same_conversation`); or
/// it opens a new conversation (`new_conversation`) unless one of theirs is still open, which it
/// joins (a contact has at most one open conversation per inbox).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NewSubject {
    #[default]
    SameConversation,
    NewConversation,
}

/// A WhatsApp Cloud API number: what Meta's app dashboard shows.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WhatsappSettings {
    /// The phone number's id (not the number): `POST /{phone_number_id}/messages`.
    pub phone_number_id: String,
    /// A system user's permanent access token (`Authorization: Bearer`).
    pub access_token: String,
    /// The app secret: `X-Hub-Signature-256` is HMAC-SHA256 of the raw body under it.
    pub app_secret: String,
    /// The token typed into the webhook settings; the `GET` handshake must echo it.
    pub verify_token: String,
    /// `https://graph.facebook.com` unless set (tests point it at an emulator).
    #[serde(default)]
    pub graph_base_url: Option<String>,
    /// The Graph API version, `v23.0` unless set.
    #[serde(default)]
    pub api_version: Option<String>,
}

impl std::fmt::Debug for WhatsappSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whatsapp")
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"<redacted>")
            .field("app_secret", &"<redacted>")
            .field("verify_token", &"<redacted>")
            .field("graph_base_url", &self.graph_base_url)
            .field("api_version", &self.api_version)
            .finish()
    }
}

/// `GET /api/v1/inboxes/{id}/connector` (admins): what the inbox's connector is, without its
/// secrets, and the URL to register at the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorInfo {
    /// `api`, `whatsapp`, `simulator`…, or `none`: replies on this inbox fail (`not_configured`).
    pub kind: String,
    /// The demo's simulated channels say so.
    pub simulated: bool,
    /// The callback path to register at the provider (relative to the server's public URL).
    pub webhook_path: Option<String>,
    /// Settings without secrets (`webhook_url`, `phone_number_id`, `graph_base_url`…).
    pub details: serde_json::Value,
}

/// `POST /api/v1/inboxes/{id}/connector/test` (admins): whether the stored settings reach the
/// provider. `detail` says what was found or exactly what failed, and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorTest {
    pub ok: bool,
    pub detail: String,
}

/// `POST /api/v1/inboxes` answer: the signing secret is shown only here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedInbox {
    pub inbox: Inbox,
    /// HMAC-SHA256 key for `X-Switchboard-Signature` on this inbox's API channel.
    pub signing_secret: String,
}

/// `PATCH /api/v1/inboxes/{id}` (admin): membership and settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateInbox {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub webhook_url: Option<Option<String>>,
    /// Replaces the inbox's connector; `null` removes it (replies then fail, `not_configured`).
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<ConnectorSettings>))]
    pub connector: Option<Option<ConnectorSettings>>,
    #[serde(default)]
    pub member_agent_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    pub member_team_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    pub templates: Option<Vec<MessageTemplate>>,
    /// Business hours; `null` for always open. A new calendar is added as a version effective now,
    /// so figures already measured keep the hours they were measured with.
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::calendar::Calendar>))]
    pub hours: Option<Option<crate::calendar::Calendar>>,
    #[serde(default)]
    pub routing: Option<crate::Routing>,
    #[serde(default)]
    pub auto_replies: Option<crate::AutoReplies>,
    /// Which of the inbox's conversations its members see (admins see all).
    #[serde(default)]
    pub visibility: Option<crate::InboxVisibility>,
    /// Whether agents' transcript exports from the inbox need a lead's approval.
    #[serde(default)]
    pub exports_need_approval: Option<bool>,
}

/// `POST /api/v1/labels` (leads and admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateLabel {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

/// `PATCH /api/v1/labels/{id}` (leads and admins): a new name (kept as written, unique by
/// `labels::label_key`; conversations carrying the label carry the new name) or colour.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateLabel {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
}

/// `POST /api/v1/canned-responses`: team-wide needs a lead or admin; personal anyone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCannedResponse {
    pub short_code: String,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub personal: bool,
}

/// `PATCH /api/v1/canned-responses/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCannedResponse {
    #[serde(default)]
    pub short_code: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// `POST /api/v1/channels/{inbox_id}/inbound`, signed with the inbox secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboundMessage {
    pub contact: InboundContact,
    pub message: InboundBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboundContact {
    pub external_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboundBody {
    /// The channel's own message id: a message seen twice is stored once.
    pub external_id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<InboundAttachment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboundAttachment {
    pub file_name: String,
    pub content_type: String,
    /// Standard base64 of the content.
    pub data_base64: String,
}

/// `POST /api/v1/channels/{inbox_id}/inbound` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundResult {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    /// False when `external_id` had been seen before and nothing was written.
    pub created: bool,
}

/// `POST /api/v1/channels/{inbox_id}/delivery`, signed: the channel reports how far an outgoing
/// message got.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliveryReport {
    pub message_id: Uuid,
    pub state: crate::DeliveryState,
    /// With `failed`: why, shown on the message.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the server POSTs to an API inbox's webhook for each outgoing reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutgoingWebhook {
    pub event: String,
    pub inbox_id: Uuid,
    pub conversation_id: Uuid,
    /// The contact's id on the channel (the `external_id` it wrote in with).
    pub contact_external_id: Option<String>,
    pub message: Message,
}

/// `GET /api/v1/search` answer: only conversations and contacts the caller may see.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    pub messages: Vec<MessageHit>,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageHit {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub snippet: String,
    pub created_at: Millis,
}

/// `GET /api/v1/conversations/{id}/export?format=json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transcript {
    pub conversation: Conversation,
    pub contact: Contact,
    pub inbox: Inbox,
    pub messages: Vec<Message>,
}

/// `POST /api/v1/attachments` answer.
pub type UploadedAttachment = Attachment;

/// `GET /api/v1/conversations/{id}/routing-explain` (leads and admins): why a conversation went
/// (or would go) to whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingExplanation {
    pub mode: crate::RoutingMode,
    /// The last assignment routing made, with the candidates as they stood then.
    pub last_decision: Option<crate::ledger::ConversationEvent>,
    /// Whom routing would pick now, were the conversation queued.
    pub would_pick: Option<Uuid>,
    /// Every active member of the inbox as things stand now, and why each would be passed over.
    pub candidates: Vec<crate::ledger::RoutingCandidate>,
}

/// One agent's row of `GET /api/v1/workload` (leads and admins): what routing sees of them now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentWorkload {
    pub agent_id: Uuid,
    pub availability: crate::Availability,
    /// A stream of theirs is open on some node.
    pub connected: bool,
    /// Open conversations assigned to them, over every inbox.
    pub load: u32,
    pub capacity: Option<u32>,
    /// Pending and snoozed conversations assigned to them (not counted in `load`).
    pub parked: u32,
    /// Whether routing could give them a conversation now (in some inbox they work).
    pub can_take_more: bool,
}

/// One conversation waiting in routing's queue, in queue order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedConversation {
    /// 1 is the next to be handed out.
    pub position: u32,
    pub conversation_id: Uuid,
    pub inbox_id: Uuid,
    pub team_id: Option<Uuid>,
    pub waiting_since: Option<crate::Millis>,
    pub created_at: crate::Millis,
}

/// `POST /api/v1/sla-policies` and `PUT /api/v1/sla-policies/{id}` (leads and admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyInput {
    pub name: String,
    /// Where it is tried among the policies (lower first); default: after the others.
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub conditions: crate::sla::SlaConditions,
    #[serde(default)]
    pub first_response_secs: Option<u32>,
    #[serde(default)]
    pub next_response_secs: Option<u32>,
    #[serde(default)]
    pub resolution_secs: Option<u32>,
    #[serde(default)]
    pub business_hours: bool,
    #[serde(default = "default_warn_at_percent")]
    pub warn_at_percent: u8,
    /// Default: a breach tells the team's leads (`[{"on": "breach", "notify": "team_leads"}]`);
    /// `[]` for none.
    #[serde(default = "default_escalations")]
    pub escalations: Vec<crate::sla::SlaEscalation>,
}

fn default_escalations() -> Vec<crate::sla::SlaEscalation> {
    vec![crate::sla::SlaEscalation {
        on: crate::sla::SlaEscalationOn::Breach,
        after_secs: 0,
        notify: Some(crate::sla::SlaNotify::TeamLeads),
        raise_priority: None,
        reassign: false,
        escalate: false,
    }]
}

fn enabled_by_default() -> bool {
    true
}

fn default_warn_at_percent() -> u8 {
    80
}

impl SlaPolicyInput {
    pub fn into_policy(self, id: Uuid, position: u32) -> crate::sla::SlaPolicy {
        crate::sla::SlaPolicy {
            id,
            name: self.name,
            position,
            enabled: self.enabled,
            conditions: self.conditions,
            first_response_secs: self.first_response_secs,
            next_response_secs: self.next_response_secs,
            resolution_secs: self.resolution_secs,
            business_hours: self.business_hours,
            warn_at_percent: self.warn_at_percent,
            escalations: self.escalations,
        }
    }
}

/// `DELETE /api/v1/agents/{id}/devices`: how many signed-in devices were signed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevicesSignedOut {
    pub devices: usize,
}

/// `POST /api/v1/sla-policies/apply`: how many conversations got an SLA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaApplied {
    pub conversations: usize,
}
