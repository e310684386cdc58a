//! Starting a conversation (`c` or the palette): the contact picker's matches from the cache and
//! the new conversation queued through the outbox, over `switchboard_core::new_conversation`.

use switchboard_core::new_conversation::{self, ContactChoice, NewConversation};

use super::*;

/// How many contacts the picker shows.
const CONTACT_OPTIONS: usize = 20;

impl Desktop {
    /// The contacts matching `query` (fuzzy; the most recent when empty), each with the inboxes
    /// where they already have an open conversation. Offline: the cache only.
    pub async fn find_contacts(&self, query: String) -> UiResult<Vec<dto::ContactOption>> {
        self.with(|s| {
            let found = new_conversation::find_contacts(&s.account.cache, &query, CONTACT_OPTIONS)?;
            Ok(found.into_iter().map(dto::ContactOption::from).collect())
        })
        .await
    }

    /// Queues the new contact (if any) and the conversation with its first message; answers its
    /// id. When the contact already has an open conversation in that inbox, nothing is queued and
    /// the answer is that one, `already_open`, for the window to offer opening it.
    pub async fn start_conversation(
        &self,
        input: dto::StartConversationInput,
    ) -> UiResult<dto::StartedConversation> {
        let contact = match (input.contact_id, input.new_contact) {
            (Some(id), _) => ContactChoice::Existing(id),
            (None, Some(new)) => ContactChoice::New { name: new.name, phone: new.phone, email: new.email },
            (None, None) => return Err(UiError::new(UiErrorCode::Validation, "pick or add a contact")),
        };
        let new = NewConversation {
            inbox_id: input.inbox_id,
            contact,
            subject: input.subject,
            body: input.body,
            template: input.template,
        };
        self.with(|s| match new_conversation::start(&s.account.cache, new) {
            Ok(started) => {
                for action in started.actions {
                    s.engine.queue(action)?;
                }
                Ok(dto::StartedConversation { conversation_id: started.conversation_id, already_open: false })
            }
            Err(CoreError::Rejected {
                code: ErrorCode::ConversationExists,
                conversation_id: Some(id),
                ..
            }) => Ok(dto::StartedConversation { conversation_id: id, already_open: true }),
            Err(other) => Err(other.into()),
        })
        .await
    }
}
