//! Agents, teams, passwords and device tokens.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use axum::http::StatusCode;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use super::records::{self, Tx};
use crate::{
    db::Viewer,
    error::{ApiError, ApiResult},
};

/// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
const LAST_SEEN_RESOLUTION_MS: Millis = 60_000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

pub fn hash_password(password: &str) -> ApiResult<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::validation(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials, "wrong email or password")
}

/// Verifies an email and password; returns the agent.
pub fn check_password(conn: &mut Connection, request: &LoginRequest) -> ApiResult<Agent> {
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT a.data, c.password_hash FROM agents a JOIN credentials c ON c.agent_id = a.id
             WHERE a.email = lower(?1)",
            [request.email.trim()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    // An unknown email still costs a hash verification, so timing doesn't reveal who exists.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let (data, hash) = match found {
        Some(found) => found,
        None => {
            let dummy = DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default());
            (String::new(), dummy.clone())
        }
    };
    let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
    let verified = Argon2::default().verify_password(request.password.as_bytes(), &parsed).is_ok();
    if !verified || data.is_empty() {
        return Err(invalid_credentials());
    }
    let agent: Agent = serde_json::from_str(&data)?;
    if !agent.active {
        return Err(invalid_credentials());
    }
    Ok(agent)
}

/// Creates a device for a signed-in agent and returns its one-time token.
pub fn create_device(tx: &mut Tx, agent: Agent, device_name: &str) -> ApiResult<LoginResponse> {
    let name = device_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::validation("device_name must be 1 to 200 characters"));
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("sbt_{}", hex::encode(secret));
    let device_id = Id::now_v7();
    tx.execute(
        "INSERT INTO devices (id, agent_id, name, token_hash, created_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![device_id.to_string(), agent.id.to_string(), name, token_hash(&token), tx.now],
    )?;
    Ok(LoginResponse { token, device_id, agent })
}

/// Resolves a bearer token to its agent and device. The flag says `last_seen_at` is stale.
pub fn authenticate(conn: &mut Connection, token: &str, now: Millis) -> ApiResult<(Viewer, bool)> {
    let found: Option<(String, Option<i64>, i64, String)> = conn
        .query_row(
            "SELECT d.id, d.revoked_at, d.last_seen_at, a.data FROM devices d
             JOIN agents a ON a.id = d.agent_id WHERE d.token_hash = ?1",
            [token_hash(token)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((device_id, revoked_at, last_seen_at, data)) = found else {
        return Err(ApiError::unauthorized("unknown token"));
    };
    let agent: Agent = serde_json::from_str(&data)?;
    if revoked_at.is_some() || !agent.active {
        return Err(ApiError::token_revoked());
    }
    let device_id = device_id.parse().map_err(ApiError::internal)?;
    Ok((Viewer { agent, device_id }, now - last_seen_at > LAST_SEEN_RESOLUTION_MS))
}

pub fn touch_device(tx: &mut Tx, device_id: Id) -> ApiResult<()> {
    tx.execute("UPDATE devices SET last_seen_at = ?2 WHERE id = ?1", params![device_id.to_string(), tx.now])?;
    Ok(())
}

/// The caller's own devices; an admin sees everyone's.
pub fn devices(conn: &mut Connection, viewer: &Viewer) -> ApiResult<Vec<Device>> {
    let all = viewer.agent.role == Role::Admin;
    let mut statement = conn.prepare(
        "SELECT id, agent_id, name, created_at, last_seen_at FROM devices
         WHERE revoked_at IS NULL AND (?1 OR agent_id = ?2) ORDER BY created_at",
    )?;
    let rows = statement.query_map(params![all, viewer.agent.id.to_string()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, i64>(4)?,
        ))
    })?;
    let mut devices = Vec::new();
    for row in rows {
        let (id, agent_id, name, created_at, last_seen_at) = row?;
        let id: Id = id.parse().map_err(ApiError::internal)?;
        devices.push(Device {
            id,
            agent_id: agent_id.parse().map_err(ApiError::internal)?,
            name,
            created_at,
            last_seen_at,
            current: id == viewer.device_id,
        });
    }
    Ok(devices)
}

/// Revokes one device: the caller's own, or anyone's for an admin.
pub fn revoke_device(tx: &mut Tx, viewer: &Viewer, device_id: Id) -> ApiResult<Vec<Id>> {
    let owner: Option<String> = tx
        .query_row(
            "SELECT agent_id FROM devices WHERE id = ?1 AND revoked_at IS NULL",
            [device_id.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    match owner {
        Some(owner) if owner == viewer.agent.id.to_string() || viewer.agent.role == Role::Admin => {
            tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1",
                params![device_id.to_string(), tx.now],
            )?;
            Ok(vec![device_id])
        }
        _ => Err(ApiError::not_found("device")),
    }
}

fn revoke_all_devices(tx: &mut Tx, agent_id: Id) -> ApiResult<Vec<Id>> {
    let ids: Vec<String> = {
        let mut statement =
            tx.prepare("SELECT id FROM devices WHERE agent_id = ?1 AND revoked_at IS NULL")?;
        let rows = statement.query_map([agent_id.to_string()], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    tx.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE agent_id = ?1 AND revoked_at IS NULL",
        params![agent_id.to_string(), tx.now],
    )?;
    ids.iter().map(|id| id.parse().map_err(ApiError::internal)).collect()
}

fn require_agent(tx: &Tx, agent_id: Id) -> ApiResult<Agent> {
    records::get(tx, EntityKind::Agent, agent_id, None)?.ok_or_else(|| ApiError::not_found("agent"))
}

pub fn update_me(tx: &mut Tx, agent_id: Id, update: UpdateMe) -> ApiResult<Agent> {
    let mut agent = require_agent(tx, agent_id)?;
    if let Some(name) = update.name {
        agent.name = valid_name(&name, "name")?;
    }
    if let Some(availability) = update.availability {
        agent.availability = availability;
    }
    tx.put(EntityKind::Agent, agent.id, None, None, &agent)?;
    Ok(agent)
}

/// Trims a display name and checks it is 1 to 200 characters.
pub fn valid_name(name: &str, field: &str) -> ApiResult<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 {
        return Err(ApiError::validation(format!("{field} must be 1 to 200 characters")));
    }
    Ok(trimmed.to_owned())
}

fn valid_email(email: &str) -> ApiResult<String> {
    let trimmed = email.trim().to_lowercase();
    let well_formed = trimmed.len() <= 254
        && trimmed.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !trimmed.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(ApiError::validation("email is not a valid address"));
    }
    Ok(trimmed)
}

fn check_teams_exist(tx: &Tx, team_ids: &[Id]) -> ApiResult<()> {
    for team_id in team_ids {
        if records::get::<Team>(tx, EntityKind::Team, *team_id, None)?.is_none() {
            return Err(ApiError::validation(format!("no team {team_id}")));
        }
    }
    Ok(())
}

pub fn create_agent(tx: &mut Tx, request: CreateAgent, password_hash: String) -> ApiResult<Agent> {
    let email = valid_email(&request.email)?;
    let exists: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM agents WHERE email = ?1)", [&email], |row| row.get(0))?;
    if exists {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::AlreadyExists,
            "an agent with this email exists",
        ));
    }
    check_teams_exist(tx, &request.team_ids)?;
    let agent = Agent {
        id: Id::now_v7(),
        name: valid_name(&request.name, "name")?,
        email,
        role: request.role,
        availability: Availability::Offline,
        active: true,
        team_ids: dedup(request.team_ids),
    };
    tx.put(EntityKind::Agent, agent.id, None, None, &agent)?;
    tx.execute(
        "INSERT INTO credentials (agent_id, password_hash) VALUES (?1, ?2)",
        params![agent.id.to_string(), password_hash],
    )?;
    Ok(agent)
}

/// Applies an admin's change to an agent; deactivation revokes every device. Returns the revoked
/// device ids so their streams can be closed.
pub fn update_agent(
    tx: &mut Tx,
    agent_id: Id,
    update: UpdateAgent,
    password_hash: Option<String>,
) -> ApiResult<(Agent, Vec<Id>)> {
    let mut agent = require_agent(tx, agent_id)?;
    let stays_admin =
        update.role.unwrap_or(agent.role) == Role::Admin && update.active.unwrap_or(agent.active);
    if agent.role == Role::Admin && agent.active && !stays_admin {
        let other_admins = records::all::<Agent>(tx, EntityKind::Agent)?
            .iter()
            .filter(|a| a.id != agent.id && a.role == Role::Admin && a.active)
            .count();
        if other_admins == 0 {
            return Err(ApiError::validation(
                "the workspace needs an active admin: promote another agent first",
            ));
        }
    }
    if let Some(name) = update.name {
        agent.name = valid_name(&name, "name")?;
    }
    if let Some(role) = update.role {
        agent.role = role;
    }
    if let Some(team_ids) = update.team_ids {
        check_teams_exist(tx, &team_ids)?;
        agent.team_ids = dedup(team_ids);
    }
    let mut revoked = Vec::new();
    if let Some(active) = update.active {
        if !active && agent.active {
            revoked = revoke_all_devices(tx, agent.id)?;
            agent.availability = Availability::Offline;
        }
        agent.active = active;
    }
    if let Some(hash) = password_hash {
        tx.execute(
            "UPDATE credentials SET password_hash = ?2 WHERE agent_id = ?1",
            params![agent.id.to_string(), hash],
        )?;
    }
    tx.put(EntityKind::Agent, agent.id, None, None, &agent)?;
    Ok((agent, revoked))
}

pub fn create_team(tx: &mut Tx, request: CreateTeam) -> ApiResult<Team> {
    let team = Team { id: Id::now_v7(), name: valid_name(&request.name, "name")? };
    tx.put(EntityKind::Team, team.id, None, None, &team)?;
    set_team_members(tx, team.id, &request.member_agent_ids)?;
    Ok(team)
}

pub fn update_team(tx: &mut Tx, team_id: Id, update: UpdateTeam) -> ApiResult<Team> {
    let mut team: Team =
        records::get(tx, EntityKind::Team, team_id, None)?.ok_or_else(|| ApiError::not_found("team"))?;
    if let Some(name) = update.name {
        team.name = valid_name(&name, "name")?;
        tx.put(EntityKind::Team, team.id, None, None, &team)?;
    }
    if let Some(members) = update.member_agent_ids {
        set_team_members(tx, team.id, &members)?;
    }
    Ok(team)
}

/// Membership lives on the agent (`team_ids`), so each changed agent gets a new feed record.
fn set_team_members(tx: &mut Tx, team_id: Id, member_ids: &[Id]) -> ApiResult<()> {
    for member in member_ids {
        require_agent(tx, *member)?;
    }
    for mut agent in records::all::<Agent>(tx, EntityKind::Agent)? {
        let wanted = member_ids.contains(&agent.id);
        let has = agent.team_ids.contains(&team_id);
        if wanted != has {
            if wanted {
                agent.team_ids.push(team_id);
            } else {
                agent.team_ids.retain(|t| *t != team_id);
            }
            tx.put(EntityKind::Agent, agent.id, None, None, &agent)?;
        }
    }
    Ok(())
}

fn dedup(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort();
    ids.dedup();
    ids
}
