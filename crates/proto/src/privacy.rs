//! Retention and erasure on the wire: an inbox's retention policy (what happens to resolved
//! conversations after N days), an admin's erasure of a contact, and the export of everything held
//! about one contact for a data-subject request.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Contact, Conversation, Message, Millis};

/// What a retention policy does to a conversation resolved more than `days` days ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// The conversation, its messages and attachments are deleted.
    Delete,
    /// The conversation stays (for reports), its messages' text and attachments are removed.
    Anonymise,
}

/// An inbox's retention policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days after a conversation's resolution (1 to 36,500).
    pub days: u32,
    pub action: RetentionAction,
}

/// `GET`/`PUT /api/v1/inboxes/{id}/retention`: the inbox's policy (`null`: keep everything).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct InboxRetention {
    pub policy: Option<RetentionPolicy>,
}

/// `POST /api/v1/contacts/{id}/erase`: the contact's name typed again, as a confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct EraseContact {
    pub confirm: String,
}

/// What an erasure (or a retention pass) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Erasure {
    pub conversations: u32,
    pub messages: u32,
    pub attachments: u32,
    /// Stored files no other message refers to any more, deleted from the attachment store.
    pub files: u32,
}

/// One attachment in a contact's export: its metadata and the file's path inside the zip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedFile {
    pub attachment_id: Uuid,
    pub message_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub sha256: String,
    /// `files/<sha256>/<file name>` inside the zip.
    pub path: String,
}

/// A conversation and its messages, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedConversation {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

/// `contact.json` of `GET /api/v1/contacts/{id}/export` (a zip beside the files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactExport {
    pub exported_at: Millis,
    pub contact: Contact,
    pub conversations: Vec<ExportedConversation>,
    pub files: Vec<ExportedFile>,
}
