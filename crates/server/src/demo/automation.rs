//! The demo's automation, switched on once the history is written (so the history stays as people
//! made it, and routing and auto-replies act on the traffic that follows): business hours in
//! Tehran for the support inboxes and in Bucharest for the sales ones, a greeting, an away
//! message, keyword replies in the five languages, least-loaded routing and agent capacities, the
//! service levels (a VIP one that escalates to the Support lead), and automation rules.

use switchboard_proto::{
    calendar::{Calendar, Holiday, SpecialDay, TimeRange, WeeklyHours},
    *,
};

/// Open conversations routing gives each demo agent at most.
pub const CAPACITY: u32 = 12;

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange { start: start.into(), end: end.into() }
}

/// Support works the Iranian week from Tehran: Saturday to Wednesday 09:00–17:00, Thursday
/// morning, Friday closed; Nowruz closed, and a late shift on the last Wednesday of the year.
fn tehran_support() -> Calendar {
    let day = || vec![range("09:00", "17:00")];
    Calendar {
        time_zone: "Asia/Tehran".into(),
        weekly: WeeklyHours {
            sat: day(),
            sun: day(),
            mon: day(),
            tue: day(),
            wed: day(),
            thu: vec![range("09:00", "13:00")],
            fri: vec![],
        },
        holidays: vec![
            Holiday { date: "2027-03-21".into(), label: Some("Nowruz".into()) },
            Holiday { date: "2027-03-22".into(), label: Some("Nowruz".into()) },
        ],
        special_days: vec![SpecialDay {
            date: "2027-03-17".into(),
            intervals: vec![range("09:00", "13:00"), range("18:00", "23:00")],
            label: Some("Chaharshanbe Suri late shift".into()),
        }],
    }
}

/// Sales works from Bucharest, Monday to Friday, with a lunch break.
fn bucharest_sales() -> Calendar {
    let day = || vec![range("09:00", "13:00"), range("14:00", "18:00")];
    Calendar {
        time_zone: "Europe/Bucharest".into(),
        weekly: WeeklyHours {
            mon: day(),
            tue: day(),
            wed: day(),
            thu: day(),
            fri: day(),
            sat: vec![],
            sun: vec![],
        },
        holidays: vec![Holiday { date: "2026-12-25".into(), label: Some("Crăciun".into()) }],
        special_days: vec![SpecialDay {
            date: "2026-12-24".into(),
            intervals: vec![range("09:00", "13:00")],
            label: Some("Ajunul Crăciunului".into()),
        }],
    }
}

fn keyword(keywords: &[&str], body: &str) -> KeywordReply {
    KeywordReply {
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        body: body.into(),
        cooldown_secs: 3600,
        template: None,
    }
}

fn auto_replies() -> AutoReplies {
    AutoReplies {
        greeting: Some(AutoReply {
            body: "Hi, thanks for writing to us! A person from the team will answer here shortly.".into(),
            delay_secs: 0,
            template: None,
        }),
        away: Some(AutoReply {
            body: "Thanks for your message. We're closed right now and will answer from {{next_open_at}}."
                .into(),
            delay_secs: 0,
            template: None,
        }),
        keywords: vec![
            keyword(&["opening hours", "hours"], "We answer Saturday to Thursday; see our hours on the website."),
            keyword(&["ساعت کاری"], "ما از شنبه تا پنجشنبه پاسخگو هستیم."),
            keyword(&["ساعات العمل"], "نحن متاحون من السبت إلى الخميس."),
            keyword(&["program"], "Vă răspundem de luni până vineri, 09:00–18:00."),
            keyword(&["godziny otwarcia"], "Odpowiadamy od poniedziałku do piątku, 09:00–18:00."),
            keyword(&["tracking", "پیگیری", "تتبع", "urmărire", "śledzenie"], "You can track your order with the link in your confirmation email / لینک پیگیری در ایمیل تأیید سفارش شماست."),
        ],
    }
}

/// Which calendar an inbox of the demo keeps: by the team that works it.
fn calendar_for(inbox: &Inbox, support: Option<Id>) -> Option<Calendar> {
    match inbox.channel {
        Channel::Api => None,
        _ if support.is_some_and(|team| inbox.member_team_ids == [team]) => Some(tehran_support()),
        _ => Some(bucharest_sales()),
    }
}

/// The settings every demo inbox gets (the partner API inbox keeps manual claiming, no hours, no
/// auto-replies: machines on the other end).
pub fn inbox_settings(inbox: &Inbox, support_team: Option<Id>) -> UpdateInbox {
    if inbox.channel == Channel::Api {
        return UpdateInbox::default();
    }
    UpdateInbox {
        hours: Some(calendar_for(inbox, support_team)),
        routing: Some(Routing { mode: RoutingMode::LeastLoaded, ..Routing::default() }),
        auto_replies: Some(auto_replies()),
        ..UpdateInbox::default()
    }
}

/// The demo's service levels: a VIP customer gets a first answer within 15 minutes and
/// escalates to the lead (Omid's desktop rings at the warning and at the breach, and a breach
/// makes it urgent, so it tops her list), everyone else within 30, counted in business hours,
/// the lead told of a breach; the next answer within an hour and resolution within two working
/// days.
pub fn sla_policies() -> Vec<SlaPolicyInput> {
    use switchboard_proto::sla::{SlaConditions, SlaEscalation, SlaEscalationOn, SlaNotify};
    let tell_lead = |on, raise_priority| SlaEscalation {
        on,
        after_secs: 0,
        notify: Some(SlaNotify::TeamLeads),
        raise_priority,
        reassign: false,
        // A breach puts the conversation in the board's Escalated column.
        escalate: matches!(on, SlaEscalationOn::Breach),
    };
    let policy = |name: &str, position: u32| SlaPolicyInput {
        name: name.into(),
        position: Some(position),
        enabled: true,
        conditions: SlaConditions::default(),
        first_response_secs: None,
        next_response_secs: None,
        resolution_secs: None,
        business_hours: true,
        warn_at_percent: 80,
        escalations: vec![],
    };
    vec![
        SlaPolicyInput {
            conditions: SlaConditions { labels: vec!["vip".into()], ..SlaConditions::default() },
            first_response_secs: Some(15 * 60),
            next_response_secs: Some(30 * 60),
            escalations: vec![
                tell_lead(SlaEscalationOn::Warning, None),
                tell_lead(SlaEscalationOn::Breach, Some(Priority::Urgent)),
            ],
            ..policy("VIP", 1)
        },
        SlaPolicyInput {
            first_response_secs: Some(30 * 60),
            next_response_secs: Some(60 * 60),
            resolution_secs: Some(2 * 8 * 3600),
            escalations: vec![tell_lead(SlaEscalationOn::Breach, Some(Priority::High))],
            ..policy("Standard", 2)
        },
    ]
}

/// The demo's automation rules, in run order: urgent words raise the priority and tell the lead,
/// refund requests are labelled, a customer waiting half an hour of business time is flagged for
/// follow-up, and a conversation pending for three days is closed with a last word.
/// `lead_handle` is the Support lead's `@handle`.
pub fn rules(lead_handle: &str) -> Vec<automation::AutomationRuleInput> {
    use automation::{Action, AutomationRuleInput, Condition, RunLimit, Trigger, TriggerEvent};
    let rule =
        |name: &str, trigger: Trigger, conditions: Condition, actions: Vec<Action>| AutomationRuleInput {
            name: name.into(),
            enabled: true,
            position: None,
            trigger,
            conditions,
            actions,
            stop_processing: false,
            run_limit: RunLimit::EveryTime,
            allow_rule_origin: false,
        };
    let received = Trigger::Event { events: vec![TriggerEvent::MessageReceived] };
    let words = |list: &[&str]| Condition::TextContains(list.iter().map(|w| (*w).to_owned()).collect());
    vec![
        AutomationRuleInput {
            run_limit: RunLimit::OncePerCycle,
            ..rule(
                "Urgent words: priority high, tell the lead",
                received.clone(),
                Condition::All(vec![
                    words(&["urgent", "asap", "فوری", "عاجل", "urgentă", "pilne"]),
                    Condition::Not(Box::new(Condition::Priority(vec![Priority::Urgent]))),
                ]),
                vec![
                    Action::SetPriority { priority: Priority::High },
                    Action::AddNote { body: format!("@{lead_handle} the customer says it is urgent.") },
                ],
            )
        },
        rule(
            "Refund requests get the refund label",
            received,
            words(&["refund", "money back", "بازپرداخت", "استرداد", "rambursare", "zwrot"]),
            vec![Action::AddLabels { labels: vec!["refund".into()] }],
        ),
        AutomationRuleInput {
            run_limit: RunLimit::OncePerCycle,
            ..rule(
                "Waiting 30 business minutes: follow-up, priority high",
                Trigger::CustomerWaiting { after_secs: 30 * 60, business_hours: true },
                Condition::All(vec![
                    Condition::Status(vec![ConversationStatus::Open]),
                    Condition::Priority(vec![Priority::None, Priority::Low, Priority::Medium]),
                ]),
                // No mention here: the conversations already waiting when the demo starts all
                // qualify at once, and a lead shouldn't get a hundred pings on first start.
                vec![
                    Action::AddLabels { labels: vec!["follow-up".into()] },
                    Action::SetPriority { priority: Priority::High },
                ],
            )
        },
        rule(
            "Pending 3 days: close with a last word",
            Trigger::StatusHeld {
                status: ConversationStatus::Pending,
                after_secs: 3 * 86_400,
                business_hours: false,
            },
            Condition::default(),
            vec![
                Action::SendReply {
                    body:
                        "We haven't heard back, so we'll close this for now. Just write again if you need us."
                            .into(),
                },
                Action::SetStatus { status: ConversationStatus::Resolved, snooze_secs: None },
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_calendars_are_valid() {
        for calendar in [tehran_support(), bucharest_sales()] {
            calendar.validate().expect(&calendar.time_zone);
        }
    }

    #[test]
    fn the_demo_auto_replies_pass_the_servers_checks() {
        crate::policy::check_auto_replies(&auto_replies()).expect("valid auto-replies");
    }
}
