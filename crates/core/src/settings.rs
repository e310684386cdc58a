//! A lead's and an admin's settings: an inbox's business hours, routing, automatic replies,
//! visibility mode and export approval, the app lock's required idle time, an agent's capacity,
//! the workload routing sees, and automation rules (saved, ordered, deleted,
//! tried on a conversation or previewed over the latest ones, and their run log). Like availability, these are sent at once and
//! never queued: a settings edit made offline and sent later could silently overwrite a
//! colleague's newer one, and an admin wants to know now whether the server took it. While the
//! server can't be reached they are refused with the `offline` code, and the caller keeps the edit.

use switchboard_proto::{
    automation::{
        AutomationRule, AutomationRuleInput, AutomationRun, Condition, RulePreviewResult, RuleTestResult,
    },
    calendar::Calendar,
    *,
};

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
    /// Which of the inbox's conversations its members see (admins see all).
    pub visibility: InboxVisibility,
    /// Whether agents' transcript exports from the inbox wait for a lead's approval.
    pub exports_need_approval: bool,
}

/// The settings of an inbox as they are now: the calendar version in force is the last one.
pub fn current(inbox: &Inbox) -> InboxSettings {
    InboxSettings {
        hours: inbox.hours.as_ref().and_then(|history| history.versions.last()).map(|v| v.calendar.clone()),
        routing: inbox.routing.clone(),
        auto_replies: inbox.auto_replies.clone(),
        visibility: inbox.visibility,
        exports_need_approval: inbox.exports_need_approval,
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
        visibility: (settings.visibility != now.visibility).then_some(settings.visibility),
        exports_need_approval: (settings.exports_need_approval != now.exports_need_approval)
            .then_some(settings.exports_need_approval),
        ..UpdateInbox::default()
    };
    api.update_inbox(inbox.id, &update).await.map_err(unreachable("the inbox's settings"))
}

/// The longest idle time before the app locks that an admin requires (`None`: the agent's
/// choice stands). Read when a session starts and when settings open; refused with `offline`
/// while the server can't be reached (the app keeps the last one it read).
pub async fn lock_policy(api: &ApiClient) -> CoreResult<Option<u32>> {
    Ok(api.lock_policy().await?.max_idle_minutes)
}

/// The lock maximum as the feed last brought it into the cache: `Some(None)` when the workspace
/// has none, `None` when the feed has not carried one yet (a server from before it did; ask it
/// with [`lock_policy`]). A change reaches a running app as a `lock_policy` change of the cache.
pub fn cached_lock_policy(cache: &crate::cache::Cache) -> CoreResult<Option<Option<u32>>> {
    let policy = cache.get::<exports::LockPolicy>(EntityKind::LockPolicy, exports::LOCK_POLICY_ID)?;
    Ok(policy.map(|policy| policy.max_idle_minutes))
}

/// Requires the app to lock after at most `max_idle_minutes` idle, or lifts it (admins).
pub async fn set_lock_policy(api: &ApiClient, max_idle_minutes: Option<u32>) -> CoreResult<Option<u32>> {
    let policy = switchboard_proto::exports::LockPolicy { max_idle_minutes };
    Ok(api.set_lock_policy(&policy).await.map_err(unreachable("the lock time"))?.max_idle_minutes)
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

fn shows_when_reachable(what: &str) -> impl Fn(CoreError) -> CoreError + '_ {
    move |error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("{what} shows when the server can be reached again ({why})"))
        }
        other => other,
    }
}

/// The rule as a lead would send it back. Without a position, so saving it keeps the rule where
/// the server has it now (a colleague may have reordered the rules since this copy was read).
pub fn rule_input(rule: &AutomationRule) -> AutomationRuleInput {
    AutomationRuleInput {
        name: rule.name.clone(),
        enabled: rule.enabled,
        position: None,
        trigger: rule.trigger.clone(),
        conditions: rule.conditions.clone(),
        actions: rule.actions.clone(),
        stop_processing: rule.stop_processing,
        run_limit: rule.run_limit,
        allow_rule_origin: rule.allow_rule_origin,
    }
}

/// Saves a rule (leads and admins): a new one when `rule_id` is `None` (after the others unless
/// `input.position` says where), else a new version of that rule. The server checks the tree's
/// depth, the actions and every agent, team, label and inbox named, and a refusal names the path
/// (`conditions.all[1].labels[0]: no label named …`).
pub async fn save_rule(
    api: &ApiClient,
    rule_id: Option<Id>,
    input: &AutomationRuleInput,
) -> CoreResult<AutomationRule> {
    match rule_id {
        Some(id) => api.update_rule(id, input).await,
        None => api.create_rule(input).await,
    }
    .map_err(unreachable("the rule"))
}

/// Switches a rule on or off: a new version with nothing else changed.
pub async fn set_rule_enabled(
    api: &ApiClient,
    rule: &AutomationRule,
    enabled: bool,
) -> CoreResult<AutomationRule> {
    let input = AutomationRuleInput { enabled, ..rule_input(rule) };
    api.update_rule(rule.id, &input).await.map_err(unreachable("the rule"))
}

/// Deletes a rule; its run log stays until it ages out.
pub async fn delete_rule(api: &ApiClient, rule_id: Id) -> CoreResult<()> {
    api.delete_rule(rule_id).await.map_err(unreachable("the rule's deletion"))
}

/// Puts the rules in the order they run: every rule's id, once.
pub async fn order_rules(api: &ApiClient, ids: Vec<Id>) -> CoreResult<Vec<AutomationRule>> {
    api.order_rules(ids).await.map_err(unreachable("the rules' order"))
}

/// The order after moving `rule_id` by `offset` places (−1: up, one earlier), clamped at the ends;
/// `None` when it doesn't move (or isn't there). `rules` in run order.
pub fn moved(rules: &[AutomationRule], rule_id: Id, offset: isize) -> Option<Vec<Id>> {
    let mut ids: Vec<Id> = rules.iter().map(|rule| rule.id).collect();
    let from = ids.iter().position(|id| *id == rule_id)?;
    let to = (from as isize + offset).clamp(0, ids.len() as isize - 1) as usize;
    if to == from {
        return None;
    }
    let id = ids.remove(from);
    ids.insert(to, id);
    Some(ids)
}

/// Which of the latest `limit` conversations (100 when `None`) the conditions hold for now.
/// Nothing is written; an unsaved editor's conditions can be previewed.
pub async fn preview_rule(
    api: &ApiClient,
    conditions: &Condition,
    limit: Option<u32>,
) -> CoreResult<RulePreviewResult> {
    api.preview_rule(conditions, limit).await.map_err(shows_when_reachable("the preview"))
}

/// A saved rule's dry run on a conversation: the trace of every condition and what each action
/// would do. Nothing is written.
pub async fn test_rule(api: &ApiClient, rule_id: Id, conversation_id: Id) -> CoreResult<RuleTestResult> {
    api.test_rule(rule_id, conversation_id).await.map_err(shows_when_reachable("the dry run"))
}

/// A rule's latest runs (the run log), newest first.
pub async fn rule_runs(api: &ApiClient, rule_id: Id, before: Option<Id>) -> CoreResult<Vec<AutomationRun>> {
    api.rule_runs(rule_id, before).await.map_err(shows_when_reachable("the run log"))
}

#[cfg(test)]
mod tests {
    use switchboard_proto::automation::*;

    use super::*;

    fn rule(n: u128) -> AutomationRule {
        AutomationRule {
            id: Id::from_u128(n),
            name: format!("rule {n}"),
            enabled: true,
            position: n as u32,
            version: 1,
            trigger: Trigger::Event { events: vec![TriggerEvent::MessageReceived] },
            conditions: Condition::default(),
            actions: vec![Action::Route],
            stop_processing: false,
            run_limit: RunLimit::EveryTime,
            allow_rule_origin: false,
            needs_attention: None,
            updated_at: 0,
        }
    }

    #[test]
    fn moving_a_rule_reorders_every_id_and_stops_at_the_ends() {
        let rules = [rule(1), rule(2), rule(3)];
        let ids = |ns: [u128; 3]| ns.map(Id::from_u128).to_vec();
        assert_eq!(moved(&rules, Id::from_u128(3), -1), Some(ids([1, 3, 2])));
        assert_eq!(moved(&rules, Id::from_u128(1), 1), Some(ids([2, 1, 3])));
        assert_eq!(moved(&rules, Id::from_u128(1), -1), None, "the first can't move up");
        assert_eq!(moved(&rules, Id::from_u128(3), 5), None, "the last can't move down");
        assert_eq!(moved(&rules, Id::from_u128(9), 1), None, "an unknown rule");
    }
}
