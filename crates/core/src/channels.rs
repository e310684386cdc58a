//! Inboxes' channels from the app (admins): creating an inbox with its connector, changing an
//! inbox's connector settings, and "test connection". Like [`crate::settings`], each goes to the
//! server at once and is never queued (credentials are not kept on the desktop, not even in the
//! outbox). Secrets are write-only: the server never sends them back, so an edit sends a secret
//! blank to keep the stored one (`workspace/connectors.rs::keep_secrets` in the server).

use switchboard_proto::*;

use crate::{
    api::ApiClient,
    error::{CoreError, CoreResult},
};

fn unreachable(what: &str) -> impl Fn(CoreError) -> CoreError + '_ {
    move |error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("{what} can't be saved until the server can be reached again ({why})"))
        }
        other => other,
    }
}

/// Creates an inbox on `channel` with its connector (`None`: none yet; replies on it fail,
/// `not_configured`, until one is set).
pub async fn create_inbox(
    api: &ApiClient,
    name: &str,
    channel: Channel,
    connector: Option<ConnectorSettings>,
) -> CoreResult<Inbox> {
    let request = CreateInbox {
        name: name.trim().to_owned(),
        channel,
        webhook_url: None,
        connector,
        member_agent_ids: Vec::new(),
        member_team_ids: Vec::new(),
        templates: Vec::new(),
    };
    Ok(api.create_inbox(&request).await.map_err(unreachable("the inbox"))?.inbox)
}

/// Replaces an inbox's connector (`None` removes it). A secret field left blank keeps the one
/// the server stores for a connector of the same kind.
pub async fn save_connector(
    api: &ApiClient,
    inbox_id: Id,
    connector: Option<ConnectorSettings>,
) -> CoreResult<Inbox> {
    let update = UpdateInbox { connector: Some(connector), ..UpdateInbox::default() };
    api.update_inbox(inbox_id, &update).await.map_err(unreachable("the inbox's channel settings"))
}

/// Tries the inbox's stored connector settings against the provider: `ok` and what was found, or
/// what failed (never a secret).
pub async fn test_connection(api: &ApiClient, inbox_id: Id) -> CoreResult<ConnectorTest> {
    api.test_connector(inbox_id).await
}
