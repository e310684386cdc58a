//! What the demo adds so the agent's day shows every feature switched on: custom contact fields
//! (an admin's definitions, with values on many contacts in their own language), each agent's
//! personal quick replies bound to `Alt+1`… (and a team-wide one beside them), and one customer
//! who wrote on WhatsApp and on Instagram, merged into one contact by the lead through the real
//! merge. Everything goes through the workspace's own verbs, as the app and the API would.

use std::collections::BTreeMap;

use switchboard_proto::contacts::{CreateCustomField, CustomFieldKind, MergeContacts, UpdateContact};
use switchboard_proto::quick_replies::{BindQuickReply, CreateQuickReply};
use switchboard_proto::*;

use super::{corpus::Language, fail};
use crate::workspace::{ConversationAction, Viewer, Workspace};

/// The custom contact fields: (key, label, kind, options).
pub const FIELDS: &[(&str, &str, CustomFieldKind, &[&str])] = &[
    ("first_order", "First order", CustomFieldKind::Date, &[]),
    ("plan", "Plan", CustomFieldKind::Choice, &["Free", "Plus", "Business"]),
    ("order_count", "Order count", CustomFieldKind::Number, &[]),
    ("city", "City", CustomFieldKind::Text, &[]),
];

/// Cities of the customers of each demo language, written as they write them.
fn cities(language: &Language) -> &'static [&'static str] {
    match language.code {
        "fa" => &["تهران", "اصفهان", "شیراز", "تبریز", "مشهد"],
        "ar" => &["عمّان", "بيروت", "دبي", "القاهرة", "الدار البيضاء"],
        "ro" => &["București", "Cluj-Napoca", "Iași", "Timișoara", "Brașov"],
        "pl" => &["Kraków", "Warszawa", "Gdańsk", "Wrocław", "Łódź"],
        _ => &["London", "Manchester", "Dublin", "Leeds", "Bristol"],
    }
}

pub async fn define_fields(db: &Workspace, admin: &Viewer) -> anyhow::Result<()> {
    for (key, label, kind, options) in FIELDS {
        let field = CreateCustomField {
            client_id: Id::new_v4(),
            key: (*key).into(),
            label: (*label).into(),
            kind: *kind,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        };
        db.create_custom_field(admin, field).await.map_err(fail)?;
    }
    Ok(())
}

/// The field values of the `n`th seeded contact (written in its language), or none for every
/// third: not every customer has a profile filled in. Some fields stay empty on others.
pub fn field_values(language: &Language, n: u64, now: Millis) -> Option<BTreeMap<String, Option<String>>> {
    if n % 3 == 2 {
        return None;
    }
    const DAY: Millis = 24 * 60 * 60 * 1000;
    let mut fields = BTreeMap::new();
    let since = now - (40 + (n * 37) % 1400) as Millis * DAY;
    fields.insert("first_order".into(), Some(date(since)));
    let plans = FIELDS[1].3;
    fields.insert("plan".into(), Some(plans[(n as usize / 2) % plans.len()].to_owned()));
    if n % 4 != 3 {
        fields.insert("order_count".into(), Some(((n * 7) % 40 + 1).to_string()));
    }
    let cities = cities(language);
    fields.insert("city".into(), Some(cities[(n as usize / 5) % cities.len()].to_owned()));
    Some(fields)
}

/// `YYYY-MM-DD` of an instant, in UTC.
fn date(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_else(|_| "2024-01-01".into())
}

/// Sets the field values of the contact of a seeded conversation, as an agent's edit would.
pub async fn fill_in(
    db: &Workspace,
    admin: &Viewer,
    conversation_id: Id,
    fields: BTreeMap<String, Option<String>>,
) -> anyhow::Result<()> {
    let contact = db.transcript(admin, conversation_id).await.map_err(fail)?.contact;
    let update = UpdateContact { client_id: Id::new_v4(), fields, ..UpdateContact::default() };
    db.update_contact(admin, contact.id, update).await.map_err(fail)?;
    Ok(())
}

/// A personal quick reply as seeded: (short code, title, body).
type PersonalReply = (&'static str, &'static str, &'static str);

/// Each demo agent's personal quick replies (by email), in the language they work in. The first
/// ones take `Alt+1`, `Alt+2`…
const PERSONAL: &[(&str, &[PersonalReply])] = &[
    (
        super::ADMIN_EMAIL,
        &[
            (
                "still-there",
                "Still there?",
                "Are you still there, {{contact.first_name}}? I'll keep this conversation open a little longer in case you need anything.",
            ),
            (
                "handover",
                "Handing over",
                "I'm handing you over to a colleague who knows this best, {{contact.first_name}}. They'll reply here shortly.",
            ),
        ],
    ),
    (
        "omid@switchboard.demo",
        &[
            ("review-fa", "بررسی سرپرست", "{{contact.first_name}} عزیز، درخواست شما را خودم بررسی می‌کنم و تا یک ساعت دیگر خبرتان می‌کنم."),
            ("sorry-fa", "عذرخواهی", "بابت تأخیر واقعاً متأسفیم، {{contact.first_name}}. موضوع را با اولویت پیگیری می‌کنیم."),
        ],
    ),
    (
        "sara@switchboard.demo",
        &[
            (
                "followup-fa",
                "پیگیری سفارش",
                "سلام {{contact.first_name}}، سفارش شما را پیگیری کردم و تا پایان امروز خبرتان می‌کنم.",
            ),
            ("thanks-fa", "تشکر و پایان", "ممنون از صبرتان {{contact.first_name}}! اگر سؤال دیگری داشتید همین‌جا بنویسید."),
            ("one-moment", "One moment", "Give me a minute, {{contact.first_name}}: I'm checking this with our warehouse."),
        ],
    ),
    (
        "layla@switchboard.demo",
        &[
            ("followup-ar", "متابعة الطلب", "مرحباً {{contact.first_name}}، تابعت طلبك وسأعود إليك قبل نهاية اليوم."),
            ("thanks-ar", "شكر وإغلاق", "شكراً لصبرك يا {{contact.first_name}}! إذا كان لديك أي سؤال آخر فاكتب لنا هنا."),
        ],
    ),
    (
        "andrei@switchboard.demo",
        &[
            (
                "urmarire",
                "Urmărire comandă",
                "Bună, {{contact.first_name}}! Am verificat comanda și revin cu vești până la sfârșitul zilei.",
            ),
            ("multumesc", "Mulțumesc și închidere", "Mulțumesc pentru răbdare, {{contact.first_name}}! Dacă mai ai întrebări, scrie-ne aici."),
        ],
    ),
    (
        "zofia@switchboard.demo",
        &[
            (
                "sprawdzam",
                "Sprawdzam zamówienie",
                "Dzień dobry, {{contact.first_name}}! Sprawdziłam zamówienie i odezwę się do końca dnia.",
            ),
            ("dziekuje", "Podziękowanie", "Dziękuję za cierpliwość, {{contact.first_name}}! Jeśli masz jeszcze pytania, napisz tutaj."),
        ],
    ),
];

/// Every agent's personal quick replies, bound to the first slots, and the team's greeting on the
/// next slot; each used a few times, so the list's ranking has something to rank by.
pub async fn quick_replies(
    db: &Workspace,
    agents: &[Agent],
    team_greeting: Option<Id>,
) -> anyhow::Result<()> {
    for agent in agents {
        let Some((_, replies)) = PERSONAL.iter().find(|(email, _)| *email == agent.email) else { continue };
        let viewer = Viewer { agent: agent.clone(), device_id: Id::nil() };
        let mut slot = 1u8;
        for (n, (short_code, title, body)) in replies.iter().enumerate() {
            let create = CreateQuickReply {
                client_id: Id::new_v4(),
                short_code: (*short_code).into(),
                title: (*title).into(),
                body: (*body).into(),
            };
            let id = db.create_quick_reply(&viewer, create).await.map_err(fail)?.reply.map(|r| r.id);
            let Some(id) = id else { continue };
            db.bind_quick_reply(&viewer, id, BindQuickReply { client_id: Id::new_v4(), slot: Some(slot) })
                .await
                .map_err(fail)?;
            slot += 1;
            for _ in 0..(replies.len() - n) {
                db.use_quick_reply(&viewer, id, Id::new_v4()).await.map_err(fail)?;
            }
        }
        if let Some(greeting) = team_greeting {
            db.bind_quick_reply(
                &viewer,
                greeting,
                BindQuickReply { client_id: Id::new_v4(), slot: Some(slot) },
            )
            .await
            .map_err(fail)?;
        }
    }
    Ok(())
}

/// The customer who wrote on two channels.
pub const MERGED_NAME: &str = "نسرین احمدی";
pub const MERGED_PHONE: &str = "+989121234567";

/// One customer writes on WhatsApp (with her phone) and on Instagram (with her handle only), so
/// she is two contacts; the lead merges the Instagram one into the WhatsApp one, and her profile
/// shows both channels, both conversations and the fields of both. Her WhatsApp conversation is
/// assigned to `agent`. Answers the surviving contact's id.
pub async fn merged_customer(
    db: &Workspace,
    clock: &crate::clock::ManualClock,
    at: Millis,
    whatsapp: &Inbox,
    instagram: &Inbox,
    lead: &Viewer,
    agent: &Viewer,
) -> anyhow::Result<Id> {
    let write = |inbox: Id, external_id: &str, name: &str, phone: Option<&str>, message: &str, body: &str| {
        let inbound = InboundMessage {
            contact: InboundContact {
                external_id: external_id.into(),
                name: Some(name.into()),
                phone: phone.map(str::to_owned),
                email: None,
            },
            message: InboundBody { external_id: message.into(), body: body.into(), attachments: vec![] },
        };
        async move { db.ingest(inbox, inbound, vec![]).await.map_err(fail) }
    };
    clock.set(at);
    let on_whatsapp = write(
        whatsapp.id,
        "demo-merged-whatsapp",
        MERGED_NAME,
        Some(MERGED_PHONE),
        "demo-merged-1",
        "سلام، سفارش ۵۵۲۱ من هنوز نرسیده. کی می‌رسد؟",
    )
    .await?;
    clock.set(at + 20 * 60_000);
    let on_instagram = write(
        instagram.id,
        "demo-merged-instagram",
        "nasrin.ahmadi",
        None,
        "demo-merged-2",
        "این کفش سایز ۳۸ هم دارد؟ همان که در واتس‌اپ پرسیدم.",
    )
    .await?;
    let survivor = db.transcript(lead, on_whatsapp.conversation_id).await.map_err(fail)?.contact;
    let other = db.transcript(lead, on_instagram.conversation_id).await.map_err(fail)?.contact;
    let mut fields = BTreeMap::new();
    fields.insert("first_order".to_owned(), Some("2023-03-14".to_owned()));
    fields.insert("plan".to_owned(), Some("Business".to_owned()));
    fields.insert("city".to_owned(), Some("تهران".to_owned()));
    let update = UpdateContact {
        client_id: Id::new_v4(),
        notes: Some(Some("همیشه اول در اینستاگرام می‌پرسد، بعد در واتس‌اپ پیگیری می‌کند.".into())),
        fields,
        ..UpdateContact::default()
    };
    db.update_contact(lead, survivor.id, update).await.map_err(fail)?;
    // What the Instagram contact had that the WhatsApp one lacks travels in the merge.
    let mut fields = BTreeMap::new();
    fields.insert("order_count".to_owned(), Some("12".to_owned()));
    let update = UpdateContact { client_id: Id::new_v4(), fields, ..UpdateContact::default() };
    db.update_contact(lead, other.id, update).await.map_err(fail)?;
    clock.set(at + 30 * 60_000);
    let claim = AssignRequest {
        client_id: Id::new_v4(),
        assignee_id: Some(agent.agent.id),
        team_id: None,
        expected_assignee_id: Some(None),
        bulk_id: None,
    };
    db.act(agent, on_whatsapp.conversation_id, ConversationAction::Assign(claim)).await.map_err(fail)?;
    db.merge_contacts(lead, survivor.id, MergeContacts { client_id: Id::new_v4(), other_id: other.id })
        .await
        .map_err(fail)?;
    Ok(survivor.id)
}
