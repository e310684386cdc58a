//! Storing what a connector read from its provider, however it arrived (a webhook request, or a
//! Telegram `getUpdates` answer): each message once per provider id, the media it names fetched
//! into the attachment store (a file the channel refuses becomes an activity line), statuses and
//! watermarks applied forward only. A webhook and the Telegram poller share this, so
//! deduplication and media work the same for both.

use switchboard_proto::*;

use super::{Connector, Inbound, SendError};
use crate::{
    files::{clean_content_type, clean_file_name, FileStore},
    refusal::Refusal,
    workspace::{StoredFile, Workspace},
};

/// Why not all of an inbound batch was stored. Nothing after the failing message was stored; what
/// came before it was, and is dropped as a repeat when the provider sends the batch again.
#[derive(Debug)]
pub enum StoreInboundError {
    /// A file could not be fetched for now (the provider is down, a timeout): try the whole batch
    /// again later.
    Unavailable(String),
    /// The workspace refused or failed a write.
    Refused(Refusal),
}

impl From<Refusal> for StoreInboundError {
    fn from(refusal: Refusal) -> Self {
        StoreInboundError::Refused(refusal)
    }
}

/// Stores `inbound` for `inbox_id` (see the module's doc).
pub async fn store_inbound(
    workspace: &Workspace,
    files: &FileStore,
    inbox_id: Id,
    connector: &dyn Connector,
    inbound: Inbound,
) -> Result<(), StoreInboundError> {
    let capabilities = connector.capabilities();
    for item in inbound.messages {
        let mut message = item.message;
        if workspace.inbound_known(inbox_id, message.message.external_id.clone()).await? {
            continue;
        }
        let mut stored_files = Vec::with_capacity(item.media.len());
        let mut refused = Vec::new();
        for media in &item.media {
            let what = media.file_name.clone().unwrap_or_else(|| media.kind.clone());
            let mut fetched = match connector.fetch_media(media).await {
                Ok(fetched) => fetched,
                Err(SendError::Failed(failure)) => {
                    refused.push(format!("The customer's {what} was not kept: {}", failure.reason));
                    continue;
                }
                // The provider sends the whole batch again; nothing of this message is stored yet.
                Err(SendError::Transient { reason, .. }) => {
                    return Err(StoreInboundError::Unavailable(format!(
                        "fetching the customer's {what}: {reason}"
                    )))
                }
            };
            // `audio/ogg; codecs=opus` is stored as `audio/ogg`.
            fetched.content_type =
                fetched.content_type.split(';').next().unwrap_or_default().trim().to_owned();
            let Some(limit) = capabilities.attachment_limit(&fetched.content_type) else {
                refused.push(format!(
                    "The customer's {what} was not kept: this channel does not carry {}",
                    fetched.content_type
                ));
                continue;
            };
            if fetched.bytes.len() as u64 > limit {
                refused.push(format!(
                    "The customer's {what} was not kept: {} bytes is over the channel's {limit}-byte limit for {}",
                    fetched.bytes.len(),
                    fetched.content_type
                ));
                continue;
            }
            let stored = files.store_bytes(&fetched.bytes, limit).await?;
            let extension = fetched.content_type.rsplit('/').next().unwrap_or("bin");
            let name = media.file_name.clone().unwrap_or_else(|| format!("{}.{extension}", media.kind));
            stored_files.push(StoredFile {
                sha256: stored.sha256,
                size: stored.size,
                file_name: clean_file_name(&name),
                content_type: clean_content_type(&fetched.content_type),
            });
        }
        if message.message.body.trim().is_empty() && stored_files.is_empty() {
            message.message.body = format!("[{}]", item.media.first().map_or("message", |m| m.kind.as_str()));
        }
        let result = workspace.ingest(inbox_id, message, stored_files).await?;
        if result.created {
            for line in refused {
                workspace.channel_activity(inbox_id, result.conversation_id, line).await?;
            }
        }
    }
    workspace.apply_statuses(inbox_id, inbound.statuses).await?;
    workspace.apply_watermarks(inbox_id, inbound.watermarks).await?;
    Ok(())
}
