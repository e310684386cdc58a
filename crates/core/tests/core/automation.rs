//! Automation rules from the settings screen against the real server: a lead saves, switches off,
//! reorders, previews, tries and deletes rules, the cache follows through the feed, an agent is
//! refused, and nothing is sent later: while the server can't be reached every call is refused
//! with `offline` and the outbox stays empty.

use serde_json::json;
use switchboard_core::settings;
use switchboard_proto::{automation::*, *};

use crate::harness::*;

/// A lead in Support (so the WhatsApp inbox is theirs to see), signed in.
async fn lead(server: &Endpoint) -> Client {
    let teams: Vec<Team> =
        serde_json::from_value(server.get(&server.admin_token, "/api/v1/teams").await).expect("teams");
    let support = teams.iter().find(|t| t.name == "Support").expect("Support").id;
    server
        .admin_ok(
            "/api/v1/agents",
            json!({"name": "Leo Lead", "email": "leo@test.example", "role": "lead", "password": PASSWORD, "team_ids": [support]}),
        )
        .await;
    Client::sign_in(server, "leo@test.example").await
}

fn rules_of(client: &Client) -> Vec<AutomationRule> {
    let mut rules: Vec<AutomationRule> =
        client.account.cache.all(EntityKind::AutomationRule).expect("cache read");
    rules.sort_by_key(|rule| rule.position);
    rules
}

fn input(name: &str, conditions: Condition, actions: Vec<Action>) -> AutomationRuleInput {
    AutomationRuleInput {
        name: name.into(),
        enabled: true,
        position: None,
        trigger: Trigger::Event { events: vec![TriggerEvent::MessageReceived] },
        conditions,
        actions,
        stop_processing: false,
        run_limit: RunLimit::EveryTime,
        allow_rule_origin: false,
    }
}

/// "A refund question, not already urgent": all[text contains refund, not[priority urgent]].
fn refund_conditions() -> Condition {
    Condition::All(vec![
        Condition::TextContains(vec!["refund".into()]),
        Condition::Not(Box::new(Condition::Priority(vec![Priority::Urgent]))),
    ])
}

#[tokio::test]
async fn a_lead_saves_orders_previews_tries_and_deletes_rules_and_the_cache_follows() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let leo = lead(&server).await;
    let api = &leo.account.api;
    let refund = server.inbound(&workspace.whatsapp, "ana", "m1", "I want a refund please").await;
    let hello = server.inbound(&workspace.whatsapp, "bob", "m2", "hello there").await;

    // Preview an unsaved editor's conditions over the latest conversations.
    let preview = settings::preview_rule(api, &refund_conditions(), None).await.expect("preview");
    assert_eq!(preview.tried, 2, "both conversations are Leo's to see");
    assert_eq!(preview.matched, vec![refund.conversation_id], "only the refund question matches");

    let first = settings::save_rule(
        api,
        None,
        &input(
            "Refunds are urgent",
            refund_conditions(),
            vec![Action::SetPriority { priority: Priority::Urgent }],
        ),
    )
    .await
    .expect("a lead creates a rule");
    let second = settings::save_rule(
        api,
        None,
        &input("Everything to routing", Condition::default(), vec![Action::Route]),
    )
    .await
    .expect("a second rule");
    assert!(first.position < second.position, "a new rule runs after the others");
    leo.until("the feed brings both rules", |c| rules_of(c).len() == 2).await;

    // The dry run on one conversation: the trace of every node, and what the action would do.
    let tried = settings::test_rule(api, first.id, refund.conversation_id).await.expect("dry run");
    assert!(tried.matched);
    let paths: Vec<(&str, bool)> = tried.trace.iter().map(|s| (s.path.as_str(), s.result)).collect();
    assert_eq!(paths, [("all[0]", true), ("all[1].not", false), ("all[1]", true), ("$", true)]);
    assert_eq!(tried.actions.len(), 1);
    let tried = settings::test_rule(api, first.id, hello.conversation_id).await.expect("dry run");
    assert!(!tried.matched, "no refund in “hello there”");

    // Switch the first off, then move it below the second: both are new versions the feed brings.
    let off = settings::set_rule_enabled(api, &first, false).await.expect("switched off");
    assert!(!off.enabled);
    assert_eq!((off.version, off.position, &off.conditions), (2, first.position, &first.conditions));
    let order = settings::moved(&rules_of(&leo), first.id, 1).expect("it can move down");
    let ordered = settings::order_rules(api, order).await.expect("reordered");
    assert_eq!(ordered.iter().map(|r| r.id).collect::<Vec<_>>(), [second.id, first.id]);
    leo.until("the cache shows the new order and the switch", |c| {
        let rules = rules_of(c);
        rules.iter().map(|r| r.id).collect::<Vec<_>>() == [second.id, first.id] && !rules[1].enabled
    })
    .await;

    // The run log: the refund rule ran on a new refund question while it was on.
    let on = settings::set_rule_enabled(api, &off, true).await.expect("on again");
    let third = server.inbound(&workspace.whatsapp, "cem", "m3", "refund my order").await;
    let runs = settings::rule_runs(api, on.id, None).await.expect("run log");
    let run =
        runs.iter().find(|r| r.conversation_id == third.conversation_id).expect("a run on Cem's question");
    assert_eq!((run.status, run.rule_version), (RunStatus::Done, on.version));
    assert_eq!(run.actions[0].status, ActionStatus::Ok);
    leo.until("the rule's change arrives", |c| {
        c.conversation(third.conversation_id).is_some_and(|conv| conv.priority == Priority::Urgent)
    })
    .await;

    // A save the server refuses names the path of the bad node.
    let missing = Condition::All(vec![Condition::LabelsAny(vec!["nonexistent".into()])]);
    let refused = settings::save_rule(api, Some(on.id), &input("Bad", missing, vec![Action::Route])).await;
    assert!(
        matches!(&refused, Err(e) if e.code() == "validation" && e.to_string().contains("conditions.all[0]")),
        "an unknown label is refused at its path: {refused:?}"
    );

    settings::delete_rule(api, second.id).await.expect("deleted");
    leo.until("the deletion reaches the cache", |c| {
        rules_of(c).iter().map(|r| r.id).collect::<Vec<_>>() == [first.id]
    })
    .await;
    assert_eq!(api.automation_rules().await.expect("the server's list").len(), 1);
}

#[tokio::test]
async fn an_agent_reads_rules_but_may_not_write_preview_or_try_them() {
    let server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let leo = lead(&server).await;
    let sara = Client::sign_in(&server, "sara@test.example").await;
    let hello = server.inbound(&workspace.whatsapp, "bob", "m1", "hello").await;
    let rule = settings::save_rule(
        &leo.account.api,
        None,
        &input("Route", Condition::default(), vec![Action::Route]),
    )
    .await
    .expect("saved");
    sara.until("an agent's cache has the rule too", |c| rules_of(c).len() == 1).await;

    let api = &sara.account.api;
    let forbidden = |result: &Result<(), switchboard_core::CoreError>| matches!(result, Err(e) if e.code() == "forbidden");
    let created = settings::save_rule(api, None, &input("Mine", Condition::default(), vec![Action::Route]))
        .await
        .map(|_| ());
    assert!(forbidden(&created), "{created:?}");
    let switched = settings::set_rule_enabled(api, &rule, false).await.map(|_| ());
    assert!(forbidden(&switched), "{switched:?}");
    let preview = settings::preview_rule(api, &Condition::default(), None).await;
    assert!(forbidden(&preview.map(|_| ())), "no preview for agents");
    let tried = settings::test_rule(api, rule.id, hello.conversation_id).await;
    assert!(forbidden(&tried.map(|_| ())), "no dry run for agents");
    let deleted = settings::delete_rule(api, rule.id).await;
    assert!(forbidden(&deleted), "{deleted:?}");
}

#[tokio::test]
async fn rule_edits_are_refused_offline_and_never_sent_later() {
    let mut server = Server::start().await;
    let workspace = Workspace::create(&server).await;
    let leo = lead(&server).await;
    let hello = server.inbound(&workspace.whatsapp, "bob", "m1", "hello").await;
    let rule = settings::save_rule(
        &leo.account.api,
        None,
        &input("Route", Condition::default(), vec![Action::Route]),
    )
    .await
    .expect("saved");
    leo.until("the rule arrives", |c| rules_of(c).len() == 1).await;

    server.kill().await;
    let api = &leo.account.api;
    let offline = |result: Result<(), switchboard_core::CoreError>| match result {
        Err(e) => e.code() == "offline" && e.is_transient(),
        Ok(()) => false,
    };
    let new_one = input("Offline", Condition::default(), vec![Action::Unassign]);
    assert!(offline(settings::save_rule(api, None, &new_one).await.map(|_| ())), "a new rule");
    assert!(offline(settings::set_rule_enabled(api, &rule, false).await.map(|_| ())), "the switch");
    assert!(offline(settings::order_rules(api, vec![rule.id]).await.map(|_| ())), "the order");
    assert!(offline(settings::delete_rule(api, rule.id).await), "a deletion");
    assert!(
        offline(settings::preview_rule(api, &Condition::default(), None).await.map(|_| ())),
        "the preview"
    );
    assert!(offline(settings::test_rule(api, rule.id, hello.conversation_id).await.map(|_| ())), "a dry run");
    assert!(offline(settings::rule_runs(api, rule.id, None).await.map(|_| ())), "the run log");
    assert_eq!(leo.account.cache.pending_count().expect("pending"), 0, "nothing queued for later");
    assert_eq!(rules_of(&leo), vec![rule.clone()], "the cache still lists the rule, offline");

    server.restart().await;
    let stored: Vec<AutomationRule> =
        serde_json::from_value(server.get(&server.admin_token, "/api/v1/automation-rules").await)
            .expect("rules");
    assert_eq!(stored, vec![rule], "nothing refused offline reached the server");
}
