//! Property tests over outside input (issue 20): every frame and request body a client or an
//! integration sends, deserialised from arbitrary bytes, arbitrary JSON and a valid sample with one
//! value replaced by arbitrary JSON, never panics; the WhatsApp-style template renderer never panics
//! and its output stays bounded by the body and the parameters.
//!
//! Bounded case counts keep this well under a second or two in `cargo test`.

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use switchboard_proto::{
    automation::{AutomationRuleInput, RuleOrder, RulePreview, RuleTest},
    sla::PinSla,
    views::{CreateSavedView, UpdateSavedView},
    *,
};

const CASES: u32 = 256;

/// Any JSON value, with the strings and keys a parser here is likely to look at mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        Just(json!("0190a5a0-0000-7000-8000-000000000001")),
        Just(json!("typing")),
        Just(json!("whatsapp")),
        Just(json!("Europe/Berlin")),
        Just(json!("{{1}}")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "type",
            "conversation_id",
            "active",
            "client_id",
            "kind",
            "body",
            "template",
            "name",
            "params",
            "contact",
            "message",
            "external_id",
            "attachments",
            "filter",
            "hours",
            "time_zone",
            "weekly",
            "connector",
            "channel",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// Every JSON pointer inside `value`, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// `sample` with the value at one of its places (chosen by `pick`) replaced by `with`.
fn mutate(sample: &Value, pick: usize, with: Value) -> Value {
    let mut all = Vec::new();
    pointers(sample, String::new(), &mut all);
    let mut value = sample.clone();
    if let Some(slot) = value.pointer_mut(&all[pick % all.len()]) {
        *slot = with;
    }
    value
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) {
    let _ = serde_json::from_slice::<T>(bytes);
}

fn parse_value<T: DeserializeOwned>(value: &Value) {
    let _ = serde_json::from_value::<T>(value.clone());
}

/// Calls `$f::<T>(arg)` for every request body type the server reads.
macro_rules! every_body {
    ($f:ident, $arg:expr) => {{
        let arg = $arg;
        $f::<ClientFrame>(arg);
        $f::<LoginRequest>(arg);
        $f::<TwoFactorCode>(arg);
        $f::<TwoFactorRequirement>(arg);
        $f::<SendMessage>(arg);
        $f::<AssignRequest>(arg);
        $f::<StatusRequest>(arg);
        $f::<LabelsRequest>(arg);
        $f::<PriorityRequest>(arg);
        $f::<EscalationRequest>(arg);
        $f::<ReadRequest>(arg);
        $f::<RetryRequest>(arg);
        $f::<CreateConversation>(arg);
        $f::<CreateContact>(arg);
        $f::<UpdateMe>(arg);
        $f::<CreateAgent>(arg);
        $f::<UpdateAgent>(arg);
        $f::<CreateTeam>(arg);
        $f::<UpdateTeam>(arg);
        $f::<CreateInbox>(arg);
        $f::<UpdateInbox>(arg);
        $f::<CreateLabel>(arg);
        $f::<UpdateLabel>(arg);
        $f::<CreateCannedResponse>(arg);
        $f::<UpdateCannedResponse>(arg);
        $f::<InboundMessage>(arg);
        $f::<DeliveryReport>(arg);
        $f::<SlaPolicyInput>(arg);
        $f::<PinSla>(arg);
        $f::<CreateSavedView>(arg);
        $f::<UpdateSavedView>(arg);
        $f::<AutomationRuleInput>(arg);
        $f::<RuleOrder>(arg);
        $f::<RulePreview>(arg);
        $f::<RuleTest>(arg);
        $f::<ServerFrame>(arg);
        $f::<SyncPage>(arg);
    }};
}

/// Valid bodies, each checked to parse, whose values the structure-aware cases replace.
fn samples() -> Vec<Value> {
    let id = "0190a5a0-0000-7000-8000-000000000001";
    let samples = vec![
        json!({"type": "typing", "conversation_id": id, "active": true}),
        json!({"client_id": id, "kind": "reply", "body": "Hi", "attachment_ids": [id],
            "template": {"name": "order_update", "params": ["Ann", "42"]}}),
        json!({"contact": {"external_id": "c1", "name": "Ann", "phone": "+4915100000000", "email": "a@b.test"},
            "message": {"external_id": "m1", "body": "Hello",
                "attachments": [{"file_name": "a.txt", "content_type": "text/plain", "data_base64": "aGk="}]}}),
        json!({"name": "Shop", "channel": "whatsapp",
            "connector": {"kind": "whatsapp", "phone_number_id": "1", "access_token": "t",
                "app_secret": "s", "verify_token": "v"},
            "templates": [{"name": "t", "language": "en", "body": "Hi {{1}}"}]}),
        json!({"name": "Shop", "hours": {"time_zone": "Europe/Berlin",
            "weekly": {"mon": [{"start": "09:00", "end": "17:00"}], "tue": [{"start": "22:00", "end": "02:00"}],
                "wed": [], "thu": [], "fri": [], "sat": [], "sun": []},
            "holidays": [{"date": "2026-12-25"}]}}),
        json!({"client_id": id, "name": "Mine", "filter": {"inbox_ids": [id], "labels": ["vip"],
            "statuses": ["open"], "waiting_longer_than_secs": 60}}),
    ];
    let checks: [fn(&Value) -> bool; 6] = [
        |v| serde_json::from_value::<ClientFrame>(v.clone()).is_ok(),
        |v| serde_json::from_value::<SendMessage>(v.clone()).is_ok(),
        |v| serde_json::from_value::<InboundMessage>(v.clone()).is_ok(),
        |v| serde_json::from_value::<CreateInbox>(v.clone()).is_ok(),
        |v| {
            serde_json::from_value::<UpdateInbox>(v.clone())
                .is_ok_and(|u| matches!(u.hours, Some(Some(ref c)) if c.validate().is_ok()))
        },
        |v| serde_json::from_value::<CreateSavedView>(v.clone()).is_ok(),
    ];
    for (sample, check) in samples.iter().zip(checks) {
        assert!(check(sample), "the sample parses: {sample}");
    }
    samples
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        every_body!(parse, &bytes[..]);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        every_body!(parse_value, &value);
        let text = value.to_string();
        every_body!(parse, text.as_bytes());
    }

    #[test]
    fn a_valid_body_with_a_value_replaced_never_panics(which in 0usize..6, at in any::<i64>(), pick in any::<usize>(), with in json_value()) {
        let sample = &samples()[which];
        let value = mutate(sample, pick, with);
        every_body!(parse_value, &value);
        // A calendar an admin sends is validated, then used to answer "open at?" for any instant.
        if let Ok(UpdateInbox { hours: Some(Some(calendar)), .. }) = serde_json::from_value(value.clone()) {
            if calendar.validate().is_ok() {
                if let Ok(hours) = calendar::BusinessHours::from_calendar(&calendar) {
                    let _ = calendar::is_open(&hours, at);
                    let _ = calendar::next_open(&hours, at);
                    let _ = calendar::next_close(&hours, at);
                }
            }
        }
        if let Ok(filter) = serde_json::from_value::<views::ConversationFilter>(value["filter"].clone()) {
            let _ = filter.check();
        }
    }

    #[test]
    fn templates_render_without_panic_and_bounded(
        body in "(\\{\\{[0-9]{1,2}\\}\\}|[^{}]{0,4}|\\{|\\}){0,24}",
        params in prop::collection::vec("(\\{\\{[0-9]{1,2}\\}\\}|[^{}]{0,4}){0,6}", 0..33),
    ) {
        let template = MessageTemplate { name: "t".into(), language: "en".into(), body: body.clone() };
        let count = template.param_count();
        prop_assert!(count <= 32);
        let rendered = template.render(&params);
        // Each placeholder in the body is replaced once, by one parameter: never more text than the
        // body with every placeholder replaced by the longest parameter.
        let longest = params.iter().map(String::len).max().unwrap_or(0);
        let placeholders = body.matches("{{").count();
        prop_assert!(rendered.len() <= body.len() + placeholders * longest,
            "{} bytes from a {}-byte body", rendered.len(), body.len());
    }
}

/// A parameter holding the next placeholder used to be substituted again, so 32 parameters of
/// `{{n+1}}{{n+1}}` grew a 5-byte body to 2^32 copies.
#[test]
fn a_parameter_is_not_rendered_again() {
    let template = MessageTemplate { name: "t".into(), language: "en".into(), body: "{{1}}".into() };
    let params: Vec<String> = (2..=33).map(|n| format!("{{{{{n}}}}}{{{{{n}}}}}")).collect();
    assert_eq!(template.render(&params), "{{2}}{{2}}");
    let template =
        MessageTemplate { name: "t".into(), language: "en".into(), body: "{{1}} and {{2}}".into() };
    assert_eq!(template.render(&["{{2}}".into(), "x".into()]), "{{2}} and x");
}
