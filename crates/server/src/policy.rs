//! Who may do what, and what input is acceptable: the role checks and input checks every
//! operation in `workspace/` calls, in one place so no operation can forget one. Pure functions;
//! the conversation rules themselves are in `rules.rs`.

use switchboard_proto::*;

use crate::{
    refusal::{Outcome, Refusal},
    workspace::Viewer,
};

/// Longest body accepted for a message, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

pub fn require_admin(viewer: &Viewer) -> Outcome<()> {
    if viewer.agent.role != Role::Admin {
        return Err(Refusal::forbidden("only an admin may do this"));
    }
    Ok(())
}

pub fn require_lead(viewer: &Viewer) -> Outcome<()> {
    if !matches!(viewer.agent.role, Role::Admin | Role::Lead) {
        return Err(Refusal::forbidden("only a lead or an admin may do this"));
    }
    Ok(())
}

/// Whether `viewer` may see `inbox` (admins see all; others by membership, theirs or a team's).
pub fn can_see_inbox(viewer: &Viewer, inbox: &Inbox) -> bool {
    crate::rules::can_see_inbox(&viewer.agent, inbox)
}

/// Whether `viewer` may see `conversation` of `inbox` (its inbox, and what the inbox's visibility
/// mode shows them).
pub fn can_see_conversation(viewer: &Viewer, inbox: &Inbox, conversation: &Conversation) -> bool {
    crate::rules::can_see_conversation(&viewer.agent, inbox, conversation.assignee_id)
}

pub fn check_body(body: &str) -> Outcome<()> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::too_large(format!("a message body may be at most {MAX_BODY_BYTES} bytes")));
    }
    no_nul(body, "a message body")
}

/// Refuses a NUL character: it shows as nothing and PostgreSQL can't store one in text, so it is
/// refused on both backends alike (issue 20's hostile corpus, `tests/fixtures/hostile/`).
fn no_nul(text: &str, what: &str) -> Outcome<()> {
    if text.contains('\0') {
        return Err(Refusal::validation(format!("{what} may not contain a NUL character")));
    }
    Ok(())
}

pub fn check_password(password: &str) -> Outcome<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Refusal::validation(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Trims a display name and checks it is 1 to 200 characters.
pub fn valid_name(name: &str, field: &str) -> Outcome<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 {
        return Err(Refusal::validation(format!("{field} must be 1 to 200 characters")));
    }
    Ok(trimmed.to_owned())
}

/// An agent's status text, trimmed: blank clears it (`None`); at most 100 characters, one line.
pub fn valid_status_text(text: &str) -> Outcome<Option<String>> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > 100 || trimmed.chars().any(char::is_control) {
        return Err(Refusal::validation("status_text must be one line of at most 100 characters"));
    }
    Ok(Some(trimmed.to_owned()))
}

/// An agent's email, trimmed and lower-cased (sign-in compares it that way).
pub fn valid_email(email: &str) -> Outcome<String> {
    let trimmed = email.trim().to_lowercase();
    let well_formed = trimmed.len() <= 254
        && trimmed.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !trimmed.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(Refusal::validation("email is not a valid address"));
    }
    Ok(trimmed)
}

pub fn check_device_name(name: &str) -> Outcome<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Refusal::validation("device_name must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

pub fn check_contact_fields(name: &str, phone: Option<&str>, email: Option<&str>) -> Outcome<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(Refusal::validation("name must be 1 to 200 characters"));
    }
    no_nul(name, "a name")?;
    no_nul(email.unwrap_or_default(), "an email address")?;
    if let Some(phone) = phone {
        let digits = text::phone_digits(phone);
        let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !allowed || !(5..=20).contains(&digits.len()) {
            return Err(Refusal::validation(
                "phone must be 5 to 20 digits, optionally with + - ( ) . and spaces",
            ));
        }
    }
    if let Some(email) = email {
        if !email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty()) || email.len() > 254 {
            return Err(Refusal::validation("email is not a valid address"));
        }
    }
    Ok(())
}

/// Channel external ids (of a message or a contact) are 1 to 200 bytes once trimmed.
pub fn check_external_id(id: &str) -> Outcome<()> {
    if id.is_empty() || id.len() > 200 {
        return Err(Refusal::validation("external ids must be 1 to 200 bytes"));
    }
    Ok(())
}

pub fn check_webhook_url(url: &str) -> Outcome<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2000
        && !url.contains(char::is_whitespace);
    if !ok {
        return Err(Refusal::validation("webhook_url must be an http(s) URL"));
    }
    Ok(())
}

pub fn check_templates(templates: &[MessageTemplate]) -> Outcome<()> {
    for template in templates {
        if template.name.trim().is_empty() || template.body.trim().is_empty() {
            return Err(Refusal::validation("a template needs a name and a body"));
        }
    }
    Ok(())
}

/// A label name as it was typed (trimmed, NFC; case, spaces and script kept): 1 to 50
/// characters, no control characters or line breaks. Uniqueness is by
/// `switchboard_proto::labels::label_key`, checked where the label is created.
pub fn valid_label_name(name: &str) -> Outcome<String> {
    switchboard_proto::labels::label_display_name(name).ok_or_else(|| {
        Refusal::validation("a label name is 1 to 50 characters on one line, without control characters")
    })
}

/// A `#rrggbb` colour, lower-cased; grey when none is given.
pub fn valid_color(color: Option<String>) -> Outcome<String> {
    let color = color.unwrap_or_else(|| "#6b7280".into());
    let ok = color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        return Err(Refusal::validation("color must look like #rrggbb"));
    }
    Ok(color.to_lowercase())
}

pub fn valid_short_code(code: &str) -> Outcome<String> {
    let code = code.trim().to_lowercase();
    let ok = !code.is_empty()
        && code.chars().count() <= 40
        && code.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(Refusal::validation("short_code is 1 to 40 letters, digits, - or _"));
    }
    Ok(code)
}

pub fn check_canned_text(title: &str, body: &str) -> Outcome<()> {
    if title.trim().is_empty() || title.chars().count() > 200 {
        return Err(Refusal::validation("title must be 1 to 200 characters"));
    }
    if body.trim().is_empty() || body.len() > 16 * 1024 {
        return Err(Refusal::validation("body must be 1 byte to 16 KiB"));
    }
    Ok(())
}

/// Sorted and without duplicates.
pub fn dedup(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort();
    ids.dedup();
    ids
}

/// The longest automatic reply, and the most keyword replies an inbox may have.
const MAX_AUTO_REPLY: usize = 4096;
const MAX_KEYWORD_REPLIES: usize = 100;

/// Automatic replies: bodies not blank and not huge, keywords not blank, delays within a day.
pub fn check_auto_replies(replies: &AutoReplies) -> Outcome<()> {
    let check_body = |body: &str, what: &str| -> Outcome<()> {
        if body.trim().is_empty() || body.len() > MAX_AUTO_REPLY {
            return Err(Refusal::validation(format!("{what}: a text of 1 to {MAX_AUTO_REPLY} bytes")));
        }
        Ok(())
    };
    for (reply, what) in [(&replies.greeting, "greeting"), (&replies.away, "away")] {
        if let Some(reply) = reply {
            check_body(&reply.body, what)?;
            if reply.delay_secs > 86_400 {
                return Err(Refusal::validation(format!("{what}: a delay of at most a day")));
            }
        }
    }
    if replies.keywords.len() > MAX_KEYWORD_REPLIES {
        return Err(Refusal::validation(format!("at most {MAX_KEYWORD_REPLIES} keyword replies")));
    }
    for reply in &replies.keywords {
        check_body(&reply.body, "keyword reply")?;
        if reply.keywords.is_empty() || reply.keywords.iter().any(|keyword| keyword.trim().is_empty()) {
            return Err(Refusal::validation("keyword reply: at least one keyword, none blank"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role) -> Viewer {
        Viewer {
            agent: Agent {
                id: Id::new_v4(),
                name: "Sara".into(),
                email: "sara@example.com".into(),
                role,
                availability: Availability::Online,
                active: true,
                team_ids: vec![],
                capacity: None,
                availability_since: None,
                status_text: None,
            },
            device_id: Id::new_v4(),
        }
    }

    #[test]
    fn roles_gate_administration() {
        assert!(require_admin(&viewer(Role::Admin)).is_ok());
        assert_eq!(require_admin(&viewer(Role::Lead)).map_err(|r| r.code), Err(ErrorCode::Forbidden));
        assert!(require_lead(&viewer(Role::Lead)).is_ok());
        assert_eq!(require_lead(&viewer(Role::Agent)).map_err(|r| r.code), Err(ErrorCode::Forbidden));
    }

    #[test]
    fn input_checks_accept_the_reasonable_and_refuse_the_rest() {
        assert_eq!(valid_email(" Sara@Example.COM ").ok(), Some("sara@example.com".to_string()));
        assert!(valid_email("sara@localhost").is_err(), "a domain needs a dot");
        assert_eq!(valid_label_name(" VIP ").ok(), Some("VIP".to_string()), "case kept");
        assert_eq!(valid_label_name("New Lead").ok(), Some("New Lead".to_string()), "spaces kept");
        assert_eq!(valid_label_name("پشتیبانی باز").ok(), Some("پشتیبانی باز".to_string()));
        assert!(valid_label_name("two\nlines").is_err());
        assert!(valid_label_name("  ").is_err());
        assert_eq!(valid_color(None).ok(), Some("#6b7280".to_string()));
        assert!(valid_color(Some("red".into())).is_err());
        assert!(check_contact_fields("Ana", Some("+40 (721) 555-010"), None).is_ok());
        assert!(check_contact_fields("Ana", Some("call me"), None).is_err());
        assert_eq!(check_body(&"x".repeat(MAX_BODY_BYTES + 1)).map_err(|r| r.code), Err(ErrorCode::TooLarge));
        assert!(check_body("a\0b").is_err(), "a NUL is refused");
        assert!(check_contact_fields("Ann\0", None, None).is_err(), "a NUL in a name is refused");
        assert!(check_password("short").is_err());
    }
}
