//! The settings screen's calls: an inbox's hours, routing and automatic replies, an agent's
//! capacity, the workload panel, the time zones to pick from, and automation rules (listed from
//! the cache, so offline too; saved, switched, reordered, deleted, previewed, tried, their log). Each goes to the server at once
//! through `switchboard_core::settings` (never queued; refused with `offline` when the server
//! can't be reached). The session lock is not held across a request, so the window's reads go on
//! meanwhile; the directory shows a saved change when the feed brings it.

use switchboard_proto::automation::{AutomationRule, AutomationRuleInput, Condition, RuleTestResult};

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

    /// How an inbox reaches its channel (admins): its connector's kind, and whether it is the demo's
    /// simulator. Read from the server each time (connector settings are never cached).
    pub async fn inbox_connector(&self, inbox_id: Uuid) -> UiResult<dto::InboxConnector> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let info = api.inbox_connector(inbox_id).await?;
        Ok(dto::InboxConnector {
            kind: info.kind,
            simulated: info.simulated,
            webhook_path: info.webhook_path,
            details: info.details,
        })
    }

    /// Sets an agent's capacity (admins); `None` is no limit.
    pub async fn set_capacity(&self, agent_id: Uuid, capacity: Option<u32>) -> UiResult<Agent> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::settings::set_capacity(&api, agent_id, capacity).await?)
    }

    /// What routing sees now: every active agent's load, and the queue's length (leads, admins);
    /// with, from the cache, each agent's oldest waiting customer and how many of theirs are
    /// breaching soon.
    pub async fn workload(&self) -> UiResult<dto::Workload> {
        let soon = (self.now)() + dto::BREACHING_SOON_MS;
        let (api, queues) =
            self.with(|s| Ok((s.account.api.clone(), s.account.cache.agent_queues(soon)?))).await?;
        let agents = switchboard_core::settings::workload(&api).await?;
        let queue = api.routing_queue().await?;
        let rows = agents.into_iter().map(|agent| {
            let cached = queues.iter().find(|q| q.agent_id == agent.agent_id);
            dto::WorkloadRow {
                oldest_waiting_since: cached.and_then(|q| q.oldest_waiting_since),
                breaching_soon: cached.map_or(0, |q| q.breaching_soon as u32),
                ..dto::WorkloadRow::from(agent)
            }
        });
        Ok(dto::Workload {
            agents: rows.collect(),
            queued: queue.len() as u32,
            oldest_waiting_since: queue.iter().filter_map(|q| q.waiting_since).min(),
        })
    }
}

/// What the window shows of a conversation a rule names, from the cache.
fn brief(cache: &switchboard_core::cache::Cache, id: Uuid) -> UiResult<dto::ConversationBrief> {
    let conversation: Option<Conversation> = cache.get(EntityKind::Conversation, id)?;
    let Some(conversation) = conversation else {
        return Ok(dto::ConversationBrief {
            id,
            contact_name: None,
            inbox_name: None,
            channel: None,
            status: None,
            preview: None,
            last_activity_at: None,
        });
    };
    let contact: Option<Contact> = cache.get(EntityKind::Contact, conversation.contact_id)?;
    let inbox: Option<Inbox> = cache.get(EntityKind::Inbox, conversation.inbox_id)?;
    Ok(dto::ConversationBrief {
        id,
        contact_name: contact.map(|c| c.name),
        inbox_name: inbox.as_ref().map(|i| i.name.clone()),
        channel: inbox.map(|i| i.channel),
        status: Some(conversation.status),
        preview: Some(conversation.preview),
        last_activity_at: Some(conversation.last_activity_at),
    })
}

fn rules_in_order(cache: &switchboard_core::cache::Cache) -> UiResult<Vec<AutomationRule>> {
    let mut rules: Vec<AutomationRule> = cache.all(EntityKind::AutomationRule)?;
    rules.sort_by_key(|rule| (rule.position, rule.id));
    Ok(rules)
}

impl Desktop {
    /// Every automation rule in run order, as the cache has them (offline too).
    pub async fn automation_rules(&self) -> UiResult<Vec<AutomationRule>> {
        self.with(|s| rules_in_order(&s.account.cache)).await
    }

    /// The SLA policies in the order they match, from the cache: what a rule's `apply_sla` picks.
    pub async fn sla_policies(&self) -> UiResult<Vec<switchboard_proto::sla::SlaPolicy>> {
        self.with(|s| {
            let mut policies: Vec<switchboard_proto::sla::SlaPolicy> =
                s.account.cache.all(EntityKind::SlaPolicy)?;
            policies.sort_by_key(|policy| (policy.position, policy.id));
            Ok(policies)
        })
        .await
    }

    /// Saves a rule (a new one when `rule_id` is null); answers it as the server stored it.
    pub async fn save_rule(
        &self,
        rule_id: Option<Uuid>,
        input: AutomationRuleInput,
    ) -> UiResult<AutomationRule> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::settings::save_rule(&api, rule_id, &input).await?)
    }

    /// Switches a rule on or off (a new version, nothing else changed).
    pub async fn set_rule_enabled(&self, rule_id: Uuid, enabled: bool) -> UiResult<AutomationRule> {
        let (api, rule) = self
            .with(|s| {
                let rule: Option<AutomationRule> =
                    s.account.cache.get(EntityKind::AutomationRule, rule_id)?;
                let rule = rule.ok_or_else(|| UiError::new(UiErrorCode::NotFound, "no such rule"))?;
                Ok((s.account.api.clone(), rule))
            })
            .await?;
        Ok(switchboard_core::settings::set_rule_enabled(&api, &rule, enabled).await?)
    }

    pub async fn delete_rule(&self, rule_id: Uuid) -> UiResult<()> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::settings::delete_rule(&api, rule_id).await?)
    }

    /// Moves a rule `offset` places in the run order (−1: one earlier); answers the rules in their
    /// new order (unchanged at either end).
    pub async fn move_rule(&self, rule_id: Uuid, offset: i32) -> UiResult<Vec<AutomationRule>> {
        let (api, rules) =
            self.with(|s| Ok((s.account.api.clone(), rules_in_order(&s.account.cache)?))).await?;
        match switchboard_core::settings::moved(&rules, rule_id, offset as isize) {
            Some(ids) => Ok(switchboard_core::settings::order_rules(&api, ids).await?),
            None => Ok(rules),
        }
    }

    /// Which of the latest 100 conversations `conditions` hold for now, each named from the cache.
    pub async fn preview_rule(&self, conditions: Condition) -> UiResult<dto::RulePreview> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let result = switchboard_core::settings::preview_rule(&api, &conditions, None).await?;
        self.with(|s| {
            let matched =
                result.matched.iter().map(|id| brief(&s.account.cache, *id)).collect::<UiResult<_>>()?;
            Ok(dto::RulePreview { tried: result.tried, matched })
        })
        .await
    }

    /// A saved rule's dry run on a conversation: the trace and what each action would do.
    pub async fn test_rule(&self, rule_id: Uuid, conversation_id: Uuid) -> UiResult<RuleTestResult> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::settings::test_rule(&api, rule_id, conversation_id).await?)
    }

    /// A rule's latest runs, newest first, each with its conversation.
    pub async fn rule_runs(&self, rule_id: Uuid) -> UiResult<Vec<dto::RuleRun>> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let runs = switchboard_core::settings::rule_runs(&api, rule_id, None).await?;
        self.with(|s| {
            runs.into_iter()
                .map(|run| {
                    Ok(dto::RuleRun { conversation: brief(&s.account.cache, run.conversation_id)?, run })
                })
                .collect()
        })
        .await
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
