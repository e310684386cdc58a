//! The workspace directory: inboxes, labels, canned responses, and the listings behind
//! `/me`, `/agents`, `/teams`, `/inboxes`, `/labels`, `/canned-responses`.

use axum::http::StatusCode;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension};
use switchboard_proto::*;

use super::{
    accounts::valid_name,
    records::{self, Tx},
};
use crate::{
    db::Viewer,
    error::{ApiError, ApiResult},
    rules,
};

pub fn require_admin(viewer: &Viewer) -> ApiResult<()> {
    if viewer.agent.role != Role::Admin {
        return Err(ApiError::forbidden("only an admin may do this"));
    }
    Ok(())
}

pub fn require_lead(viewer: &Viewer) -> ApiResult<()> {
    if !matches!(viewer.agent.role, Role::Admin | Role::Lead) {
        return Err(ApiError::forbidden("only a lead or an admin may do this"));
    }
    Ok(())
}

/// A directory listing: what the feed would give this viewer of that kind.
pub fn list(conn: &Connection, viewer: &Viewer, kind: EntityKind) -> ApiResult<Vec<serde_json::Value>> {
    let rows: Vec<serde_json::Value> = match kind {
        EntityKind::Agent | EntityKind::Team | EntityKind::Label | EntityKind::Inbox => {
            records::all(conn, kind)?
        }
        EntityKind::CannedResponse => records::all::<CannedResponse>(conn, kind)?
            .into_iter()
            .filter(|c| c.owner_id.is_none_or(|owner| owner == viewer.agent.id))
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::not_found("listing")),
    };
    Ok(rows)
}

fn check_webhook_url(url: &str) -> ApiResult<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2000
        && !url.contains(char::is_whitespace);
    if !ok {
        return Err(ApiError::validation("webhook_url must be an http(s) URL"));
    }
    Ok(())
}

fn check_members(tx: &Tx, agent_ids: &[Id], team_ids: &[Id]) -> ApiResult<()> {
    for id in agent_ids {
        if records::get::<Agent>(tx, EntityKind::Agent, *id, None)?.is_none() {
            return Err(ApiError::validation(format!("no agent {id}")));
        }
    }
    for id in team_ids {
        if records::get::<Team>(tx, EntityKind::Team, *id, None)?.is_none() {
            return Err(ApiError::validation(format!("no team {id}")));
        }
    }
    Ok(())
}

fn check_templates(templates: &[MessageTemplate]) -> ApiResult<()> {
    for template in templates {
        if template.name.trim().is_empty() || template.body.trim().is_empty() {
            return Err(ApiError::validation("a template needs a name and a body"));
        }
    }
    Ok(())
}

pub fn create_inbox(tx: &mut Tx, request: CreateInbox) -> ApiResult<CreatedInbox> {
    if let Some(url) = &request.webhook_url {
        check_webhook_url(url)?;
    }
    check_members(tx, &request.member_agent_ids, &request.member_team_ids)?;
    check_templates(&request.templates)?;
    let inbox = Inbox {
        id: Id::now_v7(),
        name: valid_name(&request.name, "name")?,
        channel: request.channel,
        webhook_url: request.webhook_url,
        member_agent_ids: request.member_agent_ids,
        member_team_ids: request.member_team_ids,
        templates: request.templates,
        attachment_limit: request.channel.attachment_limit(),
    };
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let signing_secret = hex::encode(secret);
    tx.put(EntityKind::Inbox, inbox.id, None, None, &inbox)?;
    tx.execute(
        "INSERT INTO inbox_secrets (inbox_id, secret) VALUES (?1, ?2)",
        (inbox.id.to_string(), &signing_secret),
    )?;
    Ok(CreatedInbox { inbox, signing_secret })
}

pub fn update_inbox(tx: &mut Tx, inbox_id: Id, update: UpdateInbox) -> ApiResult<Inbox> {
    let mut inbox: Inbox =
        records::get(tx, EntityKind::Inbox, inbox_id, None)?.ok_or_else(|| ApiError::not_found("inbox"))?;
    if let Some(name) = update.name {
        inbox.name = valid_name(&name, "name")?;
    }
    if let Some(url) = update.webhook_url {
        if let Some(url) = &url {
            check_webhook_url(url)?;
        }
        inbox.webhook_url = url;
    }
    if let Some(agents) = update.member_agent_ids {
        check_members(tx, &agents, &[])?;
        inbox.member_agent_ids = agents;
    }
    if let Some(teams) = update.member_team_ids {
        check_members(tx, &[], &teams)?;
        inbox.member_team_ids = teams;
    }
    if let Some(templates) = update.templates {
        check_templates(&templates)?;
        inbox.templates = templates;
    }
    tx.put(EntityKind::Inbox, inbox.id, None, None, &inbox)?;
    Ok(inbox)
}

/// The inbox and its signing secret (for verifying inbound calls and signing webhooks).
pub fn inbox_secret(conn: &Connection, inbox_id: Id) -> ApiResult<(Inbox, String)> {
    let inbox: Inbox =
        records::get(conn, EntityKind::Inbox, inbox_id, None)?.ok_or_else(|| ApiError::not_found("inbox"))?;
    let secret: String = conn
        .query_row("SELECT secret FROM inbox_secrets WHERE inbox_id = ?1", [inbox_id.to_string()], |row| {
            row.get(0)
        })
        .optional()?
        .ok_or_else(|| ApiError::not_found("inbox"))?;
    Ok((inbox, secret))
}

fn valid_color(color: Option<String>) -> ApiResult<String> {
    let color = color.unwrap_or_else(|| "#6b7280".into());
    let ok = color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        return Err(ApiError::validation("color must look like #rrggbb"));
    }
    Ok(color.to_lowercase())
}

pub fn create_label(tx: &mut Tx, request: CreateLabel) -> ApiResult<Label> {
    let name = request.name.trim().to_lowercase();
    if name.is_empty() || name.chars().count() > 50 || name.contains(char::is_whitespace) {
        return Err(ApiError::validation("a label name is 1 to 50 characters without spaces"));
    }
    let exists: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM labels WHERE name = ?1)", [&name], |row| row.get(0))?;
    if exists {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::AlreadyExists,
            "a label with this name exists",
        ));
    }
    let label = Label { id: Id::now_v7(), name, color: valid_color(request.color)? };
    tx.put(EntityKind::Label, label.id, None, None, &label)?;
    Ok(label)
}

/// Deletes a label and takes it off every conversation that carries it.
pub fn delete_label(tx: &mut Tx, label_id: Id) -> ApiResult<()> {
    let label: Label =
        records::get(tx, EntityKind::Label, label_id, None)?.ok_or_else(|| ApiError::not_found("label"))?;
    let carrying: Vec<Conversation> = records::query(
        tx,
        "SELECT data FROM conversations WHERE EXISTS (SELECT 1 FROM json_each(data, '$.labels') WHERE value = ?1)",
        [&label.name],
    )?;
    for mut conversation in carrying {
        rules::edit_labels(&mut conversation.labels, &[], std::slice::from_ref(&label.name));
        tx.put(EntityKind::Conversation, conversation.id, None, Some(conversation.inbox_id), &conversation)?;
    }
    tx.remove(EntityKind::Label, label_id, None, None)?;
    Ok(())
}

fn valid_short_code(code: &str) -> ApiResult<String> {
    let code = code.trim().to_lowercase();
    let ok = !code.is_empty()
        && code.chars().count() <= 40
        && code.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(ApiError::validation("short_code is 1 to 40 letters, digits, - or _"));
    }
    Ok(code)
}

fn check_canned_text(title: &str, body: &str) -> ApiResult<()> {
    if title.trim().is_empty() || title.chars().count() > 200 {
        return Err(ApiError::validation("title must be 1 to 200 characters"));
    }
    if body.trim().is_empty() || body.len() > 16 * 1024 {
        return Err(ApiError::validation("body must be 1 byte to 16 KiB"));
    }
    Ok(())
}

pub fn create_canned(
    tx: &mut Tx,
    viewer: &Viewer,
    request: CreateCannedResponse,
) -> ApiResult<CannedResponse> {
    if !request.personal {
        require_lead(viewer)?;
    }
    check_canned_text(&request.title, &request.body)?;
    let canned = CannedResponse {
        id: Id::now_v7(),
        short_code: valid_short_code(&request.short_code)?,
        title: request.title.trim().to_owned(),
        body: request.body,
        owner_id: request.personal.then_some(viewer.agent.id),
    };
    tx.put(EntityKind::CannedResponse, canned.id, canned.owner_id, None, &canned)?;
    Ok(canned)
}

/// A canned response the viewer may change: their own personal ones, or team-wide for leads.
fn editable_canned(tx: &Tx, viewer: &Viewer, canned_id: Id) -> ApiResult<CannedResponse> {
    let canned: CannedResponse = records::get(tx, EntityKind::CannedResponse, canned_id, None)?
        .or(records::get(tx, EntityKind::CannedResponse, canned_id, Some(viewer.agent.id))?)
        .ok_or_else(|| ApiError::not_found("canned response"))?;
    match canned.owner_id {
        Some(owner) if owner != viewer.agent.id => Err(ApiError::not_found("canned response")),
        Some(_) => Ok(canned),
        None => require_lead(viewer).map(|()| canned),
    }
}

pub fn update_canned(
    tx: &mut Tx,
    viewer: &Viewer,
    canned_id: Id,
    update: UpdateCannedResponse,
) -> ApiResult<CannedResponse> {
    let mut canned = editable_canned(tx, viewer, canned_id)?;
    if let Some(code) = update.short_code {
        canned.short_code = valid_short_code(&code)?;
    }
    if let Some(title) = update.title {
        canned.title = title.trim().to_owned();
    }
    if let Some(body) = update.body {
        canned.body = body;
    }
    check_canned_text(&canned.title, &canned.body)?;
    tx.put(EntityKind::CannedResponse, canned.id, canned.owner_id, None, &canned)?;
    Ok(canned)
}

pub fn delete_canned(tx: &mut Tx, viewer: &Viewer, canned_id: Id) -> ApiResult<()> {
    let canned = editable_canned(tx, viewer, canned_id)?;
    tx.remove(EntityKind::CannedResponse, canned.id, canned.owner_id, None)?;
    Ok(())
}
