//! Contacts' editable side: the custom fields an admin defines (an entity of the feed), an
//! edit's request and the pure rules both sides apply to it (phone normalisation, email syntax,
//! a field value checked against its definition), and a merge's request, answer and effect on
//! the surviving contact. The server commits with these rules and the core shows optimistic
//! edits with them, so the two agree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{double_option, text, Contact, ContactIdentity, Millis};

/// The type of a custom contact field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldKind {
    Text,
    /// A decimal number (`-12`, `3.5`).
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the definition's `options`.
    Choice,
}

/// A custom contact field an admin defined. Contacts keep its values under `key` in
/// [`Contact::fields`], as text in the form the kind says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomField {
    pub id: Uuid,
    /// Lowercase letters, digits and `_`, starting with a letter; unique; never changes.
    pub key: String,
    pub label: String,
    pub kind: CustomFieldKind,
    /// For `choice`: the allowed values, in the order offered.
    #[serde(default)]
    pub options: Vec<String>,
    pub created_at: Millis,
}

/// `POST /api/v1/contact-fields` (admins). Its id is `client_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct CreateCustomField {
    pub client_id: Uuid,
    pub key: String,
    pub label: String,
    pub kind: CustomFieldKind,
    #[serde(default)]
    pub options: Vec<String>,
}

/// `PATCH /api/v1/contacts/{id}`: only the fields present change; `null` clears one. In
/// `fields`, a key mapped to `null` clears that custom field's value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    pub client_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[cfg_attr(feature = "ts", ts(optional, type = "string | null"))]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[cfg_attr(feature = "ts", ts(optional, type = "string | null"))]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[cfg_attr(feature = "ts", ts(optional, type = "string | null"))]
    pub notes: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "ts", ts(as = "Option<BTreeMap<String, Option<String>>>", optional))]
    pub fields: BTreeMap<String, Option<String>>,
}

/// `POST /api/v1/contacts/{id}/merge` (leads and admins): `other_id` is merged into the contact
/// of the path, which survives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct MergeContacts {
    pub client_id: Uuid,
    pub other_id: Uuid,
}

/// `POST /api/v1/contacts/{id}/merge` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeResult {
    /// The survivor, with every channel identity of both.
    pub contact: Contact,
    /// The merged contact's conversations, now the survivor's.
    pub moved: Vec<Uuid>,
    /// Of those, the ones resolved because the survivor already had an open conversation in the
    /// same inbox (a contact has at most one open conversation per inbox).
    pub resolved: Vec<Uuid>,
    pub seq: i64,
}

/// `GET /api/v1/contacts/{id}`: a contact and every conversation of theirs the caller may see,
/// most recently active first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactPage {
    pub contact: Contact,
    pub conversations: Vec<crate::Conversation>,
}

/// Longest notes, in characters.
pub const NOTES_MAX_CHARS: usize = 5_000;
/// Longest custom field value, in characters.
pub const FIELD_VALUE_MAX_CHARS: usize = 500;

/// A phone number as it is kept: separators (spaces, `-`, `.`, `(`, `)`) dropped and a leading
/// `00` read as `+`, so `+40 (721) 000-111` and `0040721000111` both become `+40721000111`, the
/// form WhatsApp's inbound numbers arrive in. A number must have 5 to 15 digits (E.164's
/// longest), only one `+`, at the start.
pub fn normalize_phone(phone: &str) -> Result<String, String> {
    let trimmed = phone.trim();
    let mut out = String::new();
    for (index, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => out.push(c),
            '+' if index == 0 => out.push('+'),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err("phone may hold only digits, a leading +, spaces and - . ( )".into()),
        }
    }
    if let Some(rest) = out.strip_prefix("00") {
        out = format!("+{rest}");
    }
    let digits = out.trim_start_matches('+').len();
    if !(5..=15).contains(&digits) {
        return Err("phone must have 5 to 15 digits".into());
    }
    Ok(out)
}

/// An email address as it is kept (trimmed), if its syntax holds: one `@`, a local part, and a
/// domain with a dot and no empty label, no spaces, at most 254 bytes.
pub fn normalize_email(email: &str) -> Result<String, String> {
    let email = email.trim();
    let bad = || "email is not a valid address".to_owned();
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain.contains('.') && domain.split('.').all(|l| !l.is_empty());
    if local.is_empty()
        || !labels_ok
        || domain.contains('@')
        || email.len() > 254
        || email.contains(char::is_whitespace)
    {
        return Err(bad());
    }
    Ok(email.to_owned())
}

/// A custom field's value checked against its definition, in its kept form (trimmed; a number
/// as typed, a date as `YYYY-MM-DD`, a choice exactly one of the options).
pub fn check_field_value(field: &CustomField, value: &str) -> Result<String, String> {
    let value = value.trim();
    let label = &field.label;
    if value.is_empty() || value.chars().count() > FIELD_VALUE_MAX_CHARS {
        return Err(format!("{label} must be 1 to {FIELD_VALUE_MAX_CHARS} characters"));
    }
    let ok = match field.kind {
        CustomFieldKind::Text => true,
        CustomFieldKind::Number => {
            let unsigned = value.strip_prefix('-').unwrap_or(value);
            let mut parts = unsigned.splitn(2, '.');
            let whole = parts.next().unwrap_or("");
            let fraction = parts.next();
            !whole.is_empty()
                && whole.chars().all(|c| c.is_ascii_digit())
                && fraction.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
        }
        CustomFieldKind::Date => is_date(value),
        CustomFieldKind::Choice => field.options.iter().any(|o| o == value),
    };
    if !ok {
        let what = match field.kind {
            CustomFieldKind::Text => "text",
            CustomFieldKind::Number => "a number",
            CustomFieldKind::Date => "a date (YYYY-MM-DD)",
            CustomFieldKind::Choice => "one of its options",
        };
        return Err(format!("{label} must be {what}"));
    }
    Ok(value.to_owned())
}

fn is_date(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    let numeric = |s: &str, len: usize| s.len() == len && s.chars().all(|c| c.is_ascii_digit());
    if !(numeric(y, 4) && numeric(m, 2) && numeric(d, 2)) {
        return false;
    }
    let (y, m, d): (u32, u32, u32) = (y.parse().unwrap_or(0), m.parse().unwrap_or(0), d.parse().unwrap_or(0));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// A custom field's key: 1 to 40 of lowercase ASCII letters, digits and `_`, starting with a
/// letter.
pub fn check_field_key(key: &str) -> Result<(), String> {
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err("key must be 1 to 40 lowercase letters, digits or _, starting with a letter".into())
    }
}

/// Applies an edit to a contact, checking every field (custom ones against `definitions`); on
/// an error the contact is left as it was.
pub fn apply_contact_update(
    contact: &mut Contact,
    update: &UpdateContact,
    definitions: &[CustomField],
) -> Result<(), String> {
    let mut edited = contact.clone();
    if let Some(name) = &update.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err("name must be 1 to 200 characters".into());
        }
        edited.name = name.to_owned();
    }
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    if let Some(phone) = &update.phone {
        edited.phone = blank(phone).map(|p| normalize_phone(&p)).transpose()?;
    }
    if let Some(email) = &update.email {
        edited.email = blank(email).map(|e| normalize_email(&e)).transpose()?;
    }
    if let Some(notes) = &update.notes {
        let notes = blank(notes);
        if notes.as_ref().is_some_and(|n| n.chars().count() > NOTES_MAX_CHARS) {
            return Err(format!("notes must be at most {NOTES_MAX_CHARS} characters"));
        }
        edited.notes = notes;
    }
    for (key, value) in &update.fields {
        // Clearing needs no definition: a deleted field's value may still be cleared.
        let Some(value) = blank(value) else {
            edited.fields.remove(key);
            continue;
        };
        let definition = definitions
            .iter()
            .find(|d| &d.key == key)
            .ok_or_else(|| format!("no contact field named {key}"))?;
        edited.fields.insert(key.clone(), check_field_value(definition, &value)?);
    }
    *contact = edited;
    Ok(())
}

/// The survivor of a merge: its own fields win, the other's fill what it lacks (phone, email,
/// each custom field); notes are joined; it gains every channel identity of the other.
pub fn merged_contact(survivor: &Contact, other: &Contact) -> Contact {
    let mut merged = survivor.clone();
    if merged.phone.is_none() {
        merged.phone = other.phone.clone();
    }
    if merged.email.is_none() {
        merged.email = other.email.clone();
    }
    merged.notes = match (&survivor.notes, &other.notes) {
        (Some(a), Some(b)) if a != b => Some(format!("{a}\n\n{b}")),
        (a, b) => a.clone().or_else(|| b.clone()),
    };
    for (key, value) in &other.fields {
        merged.fields.entry(key.clone()).or_insert_with(|| value.clone());
    }
    for identity in &other.identities {
        let known =
            |i: &ContactIdentity| i.inbox_id == identity.inbox_id && i.external_id == identity.external_id;
        if !merged.identities.iter().any(known) {
            merged.identities.push(identity.clone());
        }
    }
    merged
}

/// Whether a contact matches a phone fragment by digits (as search does).
pub fn phone_matches(contact: &Contact, fragment: &str) -> bool {
    let digits = text::phone_digits(fragment);
    !digits.is_empty() && contact.phone.as_deref().is_some_and(|p| text::phone_digits(p).contains(&digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: CustomFieldKind) -> CustomField {
        CustomField {
            id: Uuid::nil(),
            key: "k".into(),
            label: "Plan".into(),
            kind,
            options: vec!["gold".into(), "silver".into()],
            created_at: 0,
        }
    }

    fn contact() -> Contact {
        crate::rules::new_contact(Uuid::nil(), "Ana", None, None, 0)
    }

    #[test]
    fn phones_are_normalised_or_refused() {
        assert_eq!(normalize_phone("+40 (721) 000-111").expect("as set up"), "+40721000111");
        assert_eq!(normalize_phone("0040721000111").expect("as set up"), "+40721000111");
        assert_eq!(normalize_phone("0721.000.111").expect("as set up"), "0721000111");
        assert!(normalize_phone("12+34567").is_err());
        assert!(normalize_phone("call me").is_err());
        assert!(normalize_phone("+1234").is_err());
        assert!(normalize_phone("+1234567890123456").is_err());
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert_eq!(normalize_email(" ana@example.ro ").expect("as set up"), "ana@example.ro");
        for bad in ["ana", "ana@", "@x.ro", "ana@localhost", "ana@x..ro", "a b@x.ro", "a@b@x.ro"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_checked_against_their_kind() {
        assert_eq!(
            check_field_value(&field(CustomFieldKind::Number), " -12.5 ").expect("as set up"),
            "-12.5"
        );
        assert!(check_field_value(&field(CustomFieldKind::Number), "12.").is_err());
        assert!(check_field_value(&field(CustomFieldKind::Number), "1e3").is_err());
        assert!(check_field_value(&field(CustomFieldKind::Date), "2024-02-29").is_ok());
        assert!(check_field_value(&field(CustomFieldKind::Date), "2023-02-29").is_err());
        assert!(check_field_value(&field(CustomFieldKind::Date), "2023-1-2").is_err());
        assert!(check_field_value(&field(CustomFieldKind::Choice), "gold").is_ok());
        let refused = check_field_value(&field(CustomFieldKind::Choice), "bronze").expect_err("refused");
        assert_eq!(refused, "Plan must be one of its options");
        assert!(check_field_value(&field(CustomFieldKind::Text), "  ").is_err());
    }

    #[test]
    fn an_update_changes_only_what_it_names_and_all_or_nothing() {
        let mut contact = contact();
        contact.email = Some("ana@example.ro".into());
        let definitions = [CustomField { key: "plan".into(), ..field(CustomFieldKind::Choice) }];
        let update = UpdateContact {
            phone: Some(Some("+40 721 000 111".into())),
            notes: Some(Some(" VIP ".into())),
            fields: [("plan".to_owned(), Some("gold".to_owned()))].into(),
            ..UpdateContact::default()
        };
        apply_contact_update(&mut contact, &update, &definitions).expect("as set up");
        assert_eq!(contact.name, "Ana");
        assert_eq!(contact.phone.as_deref(), Some("+40721000111"));
        assert_eq!(contact.email.as_deref(), Some("ana@example.ro"));
        assert_eq!(contact.notes.as_deref(), Some("VIP"));
        assert_eq!(contact.fields["plan"], "gold");

        let before = contact.clone();
        let bad = UpdateContact {
            name: Some("Ana Pop".into()),
            fields: [("plan".to_owned(), Some("bronze".to_owned()))].into(),
            ..UpdateContact::default()
        };
        assert!(apply_contact_update(&mut contact, &bad, &definitions).is_err());
        assert_eq!(contact, before);
        let unknown = UpdateContact {
            fields: [("tier".to_owned(), Some("x".to_owned()))].into(),
            ..Default::default()
        };
        assert_eq!(
            apply_contact_update(&mut contact, &unknown, &definitions).expect_err("refused"),
            "no contact field named tier"
        );
        let cleared = UpdateContact {
            email: Some(None),
            fields: [("plan".to_owned(), None)].into(),
            ..UpdateContact::default()
        };
        apply_contact_update(&mut contact, &cleared, &definitions).expect("as set up");
        assert_eq!(contact.email, None);
        assert!(contact.fields.is_empty());
    }

    #[test]
    fn a_merge_keeps_the_survivors_fields_and_every_identity() {
        let identity = |n: u128, id: &str| ContactIdentity {
            inbox_id: Uuid::from_u128(n),
            channel: crate::Channel::Whatsapp,
            external_id: id.into(),
        };
        let mut survivor = contact();
        survivor.email = Some("ana@example.ro".into());
        survivor.identities = vec![identity(1, "40721")];
        survivor.fields.insert("plan".into(), "gold".into());
        let mut other =
            crate::rules::new_contact(Uuid::from_u128(9), "Ana P", Some("+40721"), Some("x@y.ro"), 0);
        other.identities = vec![identity(2, "ana_tg"), identity(1, "40721")];
        other.fields.insert("plan".into(), "silver".into());
        other.fields.insert("city".into(), "Iași".into());
        other.notes = Some("met at the fair".into());
        let merged = merged_contact(&survivor, &other);
        assert_eq!(merged.id, survivor.id);
        assert_eq!(merged.email.as_deref(), Some("ana@example.ro"));
        assert_eq!(merged.phone.as_deref(), Some("+40721"));
        assert_eq!(merged.identities, vec![identity(1, "40721"), identity(2, "ana_tg")]);
        assert_eq!(merged.fields["plan"], "gold");
        assert_eq!(merged.fields["city"], "Iași");
        assert_eq!(merged.notes.as_deref(), Some("met at the fair"));
    }
}
