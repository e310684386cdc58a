//! Files agents upload to a conversation (staged until a message claims them) and downloads.

use switchboard_proto::*;

use super::{conversations::visible_conversation, StoredFile, Viewer, Workspace};
use crate::{
    refusal::{Outcome, Refusal},
    store::AttachmentRecord,
};

impl Workspace {
    /// Records an uploaded file as an attachment staged on a conversation (sent with a message later).
    pub async fn add_attachment(
        &self,
        viewer: &Viewer,
        conversation_id: Id,
        file: StoredFile,
    ) -> Outcome<Attachment> {
        let viewer = viewer.clone();
        self.write(move |tx| {
            visible_conversation(tx, &viewer, conversation_id)?;
            let attachment = Attachment {
                id: Id::now_v7(),
                conversation_id,
                file_name: file.file_name,
                content_type: file.content_type,
                size: file.size,
                sha256: file.sha256,
            };
            tx.insert_attachment(&AttachmentRecord {
                attachment: attachment.clone(),
                message_id: None,
                uploaded_by: Some(viewer.agent.id),
            })?;
            Ok(attachment)
        })
        .await
    }

    /// An attachment of a conversation the viewer may see; not found otherwise.
    pub async fn attachment(&self, viewer: &Viewer, attachment_id: Id) -> Outcome<Attachment> {
        let viewer = viewer.clone();
        self.read(move |store| {
            let record = store.attachment(attachment_id)?.ok_or_else(|| Refusal::not_found("attachment"))?;
            visible_conversation(store, &viewer, record.attachment.conversation_id)
                .map_err(|_| Refusal::not_found("attachment"))?;
            Ok(record.attachment)
        })
        .await
    }
}
