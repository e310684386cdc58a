//! Inboxes' channels from the settings screen (admins): a new inbox with its connector, an
//! inbox's connector changed, and "test connection". Each goes to the server at once through
//! `switchboard_core::channels` (never queued: credentials are not kept on the desktop); the new
//! inbox reaches the directory through the feed.

use super::*;

impl Desktop {
    pub async fn create_inbox(
        &self,
        name: String,
        channel: Channel,
        connector: Option<ConnectorSettings>,
    ) -> UiResult<Inbox> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::channels::create_inbox(&api, &name, channel, connector).await?)
    }

    pub async fn save_inbox_connector(
        &self,
        inbox_id: Uuid,
        connector: Option<ConnectorSettings>,
    ) -> UiResult<Inbox> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::channels::save_connector(&api, inbox_id, connector).await?)
    }

    pub async fn test_inbox_connector(&self, inbox_id: Uuid) -> UiResult<ConnectorTest> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::channels::test_connection(&api, inbox_id).await?)
    }
}
