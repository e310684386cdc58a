//! The settings screen's calls: an inbox's hours, routing and automatic replies, an agent's
//! capacity, the workload panel and the time zones to pick from. Each goes to the server at once
//! through `switchboard_core::settings` (never queued; refused with `offline` when the server
//! can't be reached). The session lock is not held across a request, so the window's reads go on
//! meanwhile; the directory shows a saved change when the feed brings it.

use super::*;

impl Desktop {
    /// Saves an inbox's settings (admins); answers the inbox as the server now stores it.
    pub async fn save_inbox_settings(&self, inbox_id: Uuid, settings: dto::InboxSettings) -> UiResult<Inbox> {
        let (api, inbox) = self
            .with(|s| {
                let inbox: Option<Inbox> = s.account.cache.get(EntityKind::Inbox, inbox_id)?;
                let inbox = inbox.ok_or_else(|| UiError::new(UiErrorCode::NotFound, "no such inbox"))?;
                Ok((s.account.api.clone(), inbox))
            })
            .await?;
        Ok(switchboard_core::settings::save_inbox(&api, &inbox, settings.into()).await?)
    }

    /// Sets an agent's capacity (admins); `None` is no limit.
    pub async fn set_capacity(&self, agent_id: Uuid, capacity: Option<u32>) -> UiResult<Agent> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::settings::set_capacity(&api, agent_id, capacity).await?)
    }

    /// What routing sees now: every active agent's load, and the queue's length (leads, admins).
    pub async fn workload(&self) -> UiResult<dto::Workload> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let agents = switchboard_core::settings::workload(&api).await?;
        let queue = api.routing_queue().await?;
        Ok(dto::Workload {
            agents: agents.into_iter().map(dto::WorkloadRow::from).collect(),
            queued: queue.len() as u32,
            oldest_waiting_since: queue.iter().filter_map(|q| q.waiting_since).min(),
        })
    }
}

/// Every IANA zone name in the tz database the calendars are computed with (jiff's bundled copy,
/// as `switchboard_proto::calendar` uses), sorted, without the legacy aliases a person wouldn't
/// pick (`EST5EDT`, `Etc/GMT+3`) but with `UTC`.
pub fn time_zones() -> Vec<String> {
    let db = jiff::tz::TimeZoneDatabase::bundled();
    let mut names: Vec<String> = db
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name == "UTC" || (name.contains('/') && !name.starts_with("Etc/")))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_zones_are_iana_names_the_calendars_accept() {
        let zones = super::time_zones();
        for wanted in ["Asia/Tehran", "Europe/Bucharest", "America/New_York", "UTC"] {
            assert!(zones.iter().any(|z| z == wanted), "{wanted} is offered");
        }
        assert!(!zones.iter().any(|z| z.starts_with("Etc/")), "no fixed offsets: they can't follow DST");
        assert!(zones.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    }
}
