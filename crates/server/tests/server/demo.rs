//! The demo workspace shows every feature of an agent's day switched on: what Sara (the agent
//! `scripts/run.sh` signs in as) receives holds the custom contact fields with values in the
//! customers' languages, her personal quick replies bound to Alt+1… with the team's greeting
//! beside them, and a customer who wrote on two channels merged into one contact.

use std::collections::BTreeMap;

use switchboard_proto::{
    contacts::{ContactPage, CustomField, CustomFieldKind},
    quick_replies::QuickReplyUsage,
    *,
};
use switchboard_server::demo::profiles::{MERGED_NAME, MERGED_PHONE};

use crate::harness::*;

fn all<T: serde::de::DeserializeOwned>(
    state: &BTreeMap<(EntityKind, Id), serde_json::Value>,
    kind: EntityKind,
) -> Vec<T> {
    state
        .iter()
        .filter(|((k, _), _)| *k == kind)
        .map(|(_, value)| serde_json::from_value(value.clone()).expect("an entity of its kind"))
        .collect()
}

#[tokio::test]
async fn the_demo_seeds_contact_fields_personal_quick_replies_and_a_merged_contact() {
    let (server, _) = TestServer::start_demo(15).await;
    let sara = Session::login(&server.base, "sara@switchboard.demo", "switchboard-demo").await;
    let state = apply(&sara.bootstrap().await);

    // The admin's field definitions, one of each kind.
    let fields: Vec<CustomField> = all(&state, EntityKind::CustomField);
    let mut kinds: Vec<(String, CustomFieldKind)> = fields.iter().map(|f| (f.key.clone(), f.kind)).collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        kinds,
        [
            ("city".to_owned(), CustomFieldKind::Text),
            ("first_order".to_owned(), CustomFieldKind::Date),
            ("order_count".to_owned(), CustomFieldKind::Number),
            ("plan".to_owned(), CustomFieldKind::Choice),
        ]
    );

    // Values on many of the contacts Sara sees, the city written in the customer's own script.
    let contacts: Vec<Contact> = all(&state, EntityKind::Contact);
    let filled: Vec<&Contact> = contacts.iter().filter(|c| c.fields.len() >= 3).collect();
    assert!(filled.len() >= 4, "{} of {} contacts have field values", filled.len(), contacts.len());
    let cities: Vec<&str> = filled.iter().filter_map(|c| c.fields.get("city").map(String::as_str)).collect();
    assert!(cities.iter().any(|c| c.chars().any(|ch| ('\u{0600}'..='\u{06FF}').contains(&ch))), "{cities:?}");
    assert!(cities.iter().any(|c| c.is_ascii()), "{cities:?}");
    for contact in &filled {
        let since = &contact.fields["first_order"];
        assert!(since.len() == 10 && since.as_bytes()[4] == b'-', "a date: {since}");
    }

    // Her own quick replies, on Alt+1, Alt+2 and Alt+3, and the team's greeting on Alt+4.
    let replies: Vec<CannedResponse> = all(&state, EntityKind::CannedResponse);
    let usages: Vec<QuickReplyUsage> = all(&state, EntityKind::QuickReplyUsage);
    let slot = |n: u8| {
        let usage = usages.iter().find(|u| u.slot == Some(n)).unwrap_or_else(|| panic!("nothing on Alt+{n}"));
        replies.iter().find(|r| r.id == usage.canned_response_id).expect("the reply on the slot")
    };
    let me = sara.agent.id;
    for n in 1..=3 {
        assert_eq!(slot(n).owner_id, Some(me), "Alt+{n} is Sara's own: {:?}", slot(n));
    }
    assert_eq!(slot(1).short_code, "followup-fa");
    assert_eq!((slot(4).short_code.as_str(), slot(4).owner_id), ("greet", None));
    assert!(usages.iter().all(|u| u.agent_id == me), "only her own usage reaches her");
    assert!(usages.iter().any(|u| u.uses > 0), "her replies have been used: {usages:?}");

    // The customer on WhatsApp and Instagram is one contact now, with both conversations.
    let found: Vec<Contact> =
        serde_json::from_value(sara.get(&format!("/api/v1/contacts?q={}", &MERGED_PHONE[1..])).await.1)
            .expect("contacts");
    assert_eq!(found.len(), 1, "{found:#?}");
    let page: ContactPage =
        serde_json::from_value(sara.get(&format!("/api/v1/contacts/{}", found[0].id)).await.1).expect("page");
    assert_eq!(page.contact.name, MERGED_NAME);
    let mut channels: Vec<Channel> = page.contact.identities.iter().map(|i| i.channel).collect();
    channels.sort_by_key(|c| c.to_string());
    assert_eq!(channels, [Channel::Instagram, Channel::Whatsapp]);
    assert_eq!(page.conversations.len(), 2);
    assert_eq!(page.contact.fields.get("plan").map(String::as_str), Some("Business"));
    assert_eq!(page.contact.fields.get("order_count").map(String::as_str), Some("12"), "from the merged one");
    assert!(
        page.conversations.iter().any(|c| c.assignee_id == Some(me)),
        "her WhatsApp conversation is Sara's: {:#?}",
        page.conversations
    );
    let merged: Vec<&Contact> = contacts.iter().filter(|c| c.merged_into == Some(page.contact.id)).collect();
    assert!(
        merged.is_empty() || merged.iter().all(|c| c.identities.is_empty() || c.merged_into.is_some()),
        "the merged contact is a tombstone"
    );
}
