//! A lead's and an admin's settings: an inbox's business hours, routing and automatic replies, an
//! agent's capacity, and the workload routing sees. Like availability, these are sent at once and
//! never queued: a settings edit made offline and sent later could silently overwrite a
//! colleague's newer one, and an admin wants to know now whether the server took it. While the
//! server can't be reached they are refused with the `offline` code, and the caller keeps the edit.

use switchboard_proto::{calendar::Calendar, *};

use crate::{
    api::ApiClient,
    error::{CoreError, CoreResult},
};

/// What the settings screen saves of one inbox in one request. `hours: None` is "always open".
#[derive(Debug, Clone, PartialEq)]
pub struct InboxSettings {
    pub hours: Option<Calendar>,
    pub routing: Routing,
    pub auto_replies: AutoReplies,
}

/// The settings of an inbox as they are now: the calendar version in force is the last one.
pub fn current(inbox: &Inbox) -> InboxSettings {
    InboxSettings {
        hours: inbox.hours.as_ref().and_then(|history| history.versions.last()).map(|v| v.calendar.clone()),
        routing: inbox.routing.clone(),
        auto_replies: inbox.auto_replies.clone(),
    }
}

fn unreachable(what: &str) -> impl Fn(CoreError) -> CoreError + '_ {
    move |error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("{what} can't be saved until the server can be reached again ({why})"))
        }
        other => other,
    }
}

/// Saves an inbox's hours, routing and automatic replies (admins). Hours are only sent when they
/// differ from the version in force, so saving routing alone adds no calendar version.
pub async fn save_inbox(api: &ApiClient, inbox: &Inbox, settings: InboxSettings) -> CoreResult<Inbox> {
    let now = current(inbox);
    let update = UpdateInbox {
        hours: (settings.hours != now.hours).then_some(settings.hours),
        routing: (settings.routing != now.routing).then_some(settings.routing),
        auto_replies: (settings.auto_replies != now.auto_replies).then_some(settings.auto_replies),
        ..UpdateInbox::default()
    };
    api.update_inbox(inbox.id, &update).await.map_err(unreachable("the inbox's settings"))
}

/// Sets the most open conversations routing gives an agent (`None`: no limit; admins).
pub async fn set_capacity(api: &ApiClient, agent_id: Id, capacity: Option<u32>) -> CoreResult<Agent> {
    let update = UpdateAgent { capacity: Some(capacity), ..UpdateAgent::default() };
    api.update_agent(agent_id, &update).await.map_err(unreachable("the capacity"))
}

/// What routing sees of every active agent now (leads and admins).
pub async fn workload(api: &ApiClient) -> CoreResult<Vec<AgentWorkload>> {
    api.workload().await.map_err(|error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("the workload shows when the server can be reached again ({why})"))
        }
        other => other,
    })
}
