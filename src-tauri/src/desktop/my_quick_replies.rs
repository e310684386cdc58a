//! The agent's own quick replies from the palette and the composer: personal ones made, changed
//! and deleted, favourites bound to `Alt+1`…`Alt+9`, insertions counted (the list's ranking), and
//! a lead's promotion to team-wide. Unlike the settings' team-wide editor (`team.rs`, sent at
//! once) each is queued in the outbox (`switchboard_core::quick_reply_actions`), so it shows at
//! once and works offline.

use switchboard_core::quick_reply_actions as quick;

use super::*;

impl Desktop {
    /// Adds a personal quick reply (`id: None`) or changes one; answers its id.
    pub async fn save_my_quick_reply(&self, id: Option<Uuid>, reply: dto::QuickReplyInput) -> UiResult<Uuid> {
        self.with(|s| {
            let action = match id {
                Some(id) => quick::update(id, &reply.short_code, &reply.title, &reply.body)?,
                None => quick::create(&reply.short_code, &reply.title, &reply.body)?,
            };
            let Action::QuickReply { reply_id, .. } = &action else { unreachable!("a quick-reply action") };
            let reply_id = *reply_id;
            s.engine.queue(action)?;
            Ok(reply_id)
        })
        .await
    }

    pub async fn delete_my_quick_reply(&self, id: Uuid) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(quick::delete(id))?)).await
    }

    /// Binds the reply to `slot` (1–9; the reply that held it loses it) or unbinds it.
    pub async fn bind_quick_reply(&self, id: Uuid, slot: Option<u8>) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(quick::bind(&s.account.cache, id, slot)?)?)).await
    }

    /// Counts an insertion of the reply (from the `/` menu or `Alt+slot`).
    pub async fn use_quick_reply(&self, id: Uuid) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(quick::record_use(id))?)).await
    }

    /// Makes the lead's own personal reply team-wide (the server refuses anyone else).
    pub async fn promote_quick_reply(&self, id: Uuid) -> UiResult<()> {
        self.with(|s| Ok(s.engine.queue(quick::promote(id))?)).await
    }
}
