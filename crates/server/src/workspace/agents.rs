//! Administering people: agents (roles, teams, deactivation, passwords) and teams.

use std::collections::HashMap;

use switchboard_proto::*;

use super::{
    accounts::hash_password,
    audit::{self, Who},
    conversations::activity,
    ledger::{self, Cause},
    routing, Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    rules,
    store::{Audience, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

fn require_agent(store: &(impl StoreRead + ?Sized), agent_id: Id) -> Outcome<Agent> {
    store.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))
}

fn check_teams_exist(store: &(impl StoreRead + ?Sized), team_ids: &[Id]) -> Outcome<()> {
    for team_id in team_ids {
        if store.get::<Team>(*team_id)?.is_none() {
            return Err(Refusal::validation(format!("no team {team_id}")));
        }
    }
    Ok(())
}

fn create_agent(tx: &mut dyn StoreTx, request: CreateAgent, password_hash: String) -> Outcome<Agent> {
    let email = policy::valid_email(&request.email)?;
    if tx.agent_by_email(&email)?.is_some() {
        return Err(Refusal::conflict(ErrorCode::AlreadyExists, "an agent with this email exists"));
    }
    check_teams_exist(tx, &request.team_ids)?;
    let agent = Agent {
        id: Id::now_v7(),
        name: policy::valid_name(&request.name, "name")?,
        email,
        role: request.role,
        availability: Availability::Offline,
        active: true,
        team_ids: policy::dedup(request.team_ids),
        capacity: None,
        availability_since: None,
        status_text: None,
    };
    tx.put(&agent, Audience::EVERYONE)?;
    super::saved_views::follow_membership(tx, &[], &agent)?;
    tx.set_password_hash(agent.id, &password_hash)?;
    Ok(agent)
}

/// Applies an admin's change to an agent; deactivation revokes every device and unassigns their
/// unresolved conversations (one ledger event each). Returns the revoked device ids so their
/// streams can be closed.
fn update_agent(
    tx: &mut dyn StoreTx,
    admin: &Viewer,
    agent_id: Id,
    update: UpdateAgent,
    password_hash: Option<String>,
) -> Outcome<(Agent, Vec<Id>)> {
    let mut agent = require_agent(tx, agent_id)?;
    let teams_before = agent.team_ids.clone();
    let role_before = agent.role;
    let stays_admin =
        update.role.unwrap_or(agent.role) == Role::Admin && update.active.unwrap_or(agent.active);
    if agent.role == Role::Admin && agent.active && !stays_admin {
        let other_admins = tx
            .all::<Agent>()?
            .iter()
            .filter(|a| a.id != agent.id && a.role == Role::Admin && a.active)
            .count();
        if other_admins == 0 {
            return Err(Refusal::validation(
                "the workspace needs an active admin: promote another agent first",
            ));
        }
    }
    if let Some(name) = update.name {
        agent.name = policy::valid_name(&name, "name")?;
    }
    if let Some(role) = update.role {
        agent.role = role;
    }
    if let Some(team_ids) = update.team_ids {
        check_teams_exist(tx, &team_ids)?;
        agent.team_ids = policy::dedup(team_ids);
    }
    if let Some(capacity) = update.capacity {
        agent.capacity = capacity;
    }
    let mut revoked = Vec::new();
    if let Some(active) = update.active {
        if !active && agent.active {
            let now = tx.now();
            for device in tx.active_devices(Some(agent.id))? {
                tx.revoke_device(device.id, now)?;
                revoked.push(device.id);
            }
            agent.availability = Availability::Offline;
            unassign_all(tx, admin, &agent)?;
        }
        agent.active = active;
    }
    if let Some(hash) = password_hash {
        tx.set_password_hash(agent.id, &hash)?;
    }
    tx.put(&agent, Audience::EVERYONE)?;
    super::saved_views::follow_membership(tx, &teams_before, &agent)?;
    if agent.team_ids != teams_before || agent.role != role_before {
        release_lost_access(tx, admin.agent.id, &agent)?;
    }
    if !revoked.is_empty() || update.active == Some(false) {
        // A rule that assigns to them now names someone who can't take conversations.
        super::automation::check_references(tx)?;
    }
    // Capacity, teams or activity changed: someone may have room, or the queue may have grown.
    routing::route(tx, routing::Released::default())?;
    Ok((agent, revoked))
}

/// Puts a deactivated agent's unresolved conversations back in the queue: nobody may be left
/// waiting on someone who can no longer sign in.
fn unassign_all(tx: &mut dyn StoreTx, admin: &Viewer, agent: &Agent) -> Outcome<()> {
    let cause = Cause::agent(admin, "deactivated", tx.now());
    for conversation in tx.unresolved_assigned_to(agent.id)? {
        let mut unassigned = conversation.clone();
        unassigned.assignee_id = None;
        ledger::save(tx, &conversation, &unassigned, &cause)?;
        let text = format!("{} was deactivated; the conversation is unassigned", agent.name);
        activity(tx, unassigned.inbox_id, unassigned.id, Sender::Agent { id: admin.agent.id }, text)?;
    }
    Ok(())
}

/// Unassigns `agent`'s unresolved conversations in inboxes they can no longer see (taken off the
/// inbox, out of the team that gave them access, no longer an admin): nobody may hold a
/// conversation they cannot open, and none may wait on them unseen. One event each, reason
/// `access_removed` (the design's §3, "never silent"); the caller routes them afterwards.
pub(super) fn release_lost_access(tx: &mut dyn StoreTx, admin: Id, agent: &Agent) -> Outcome<()> {
    if !agent.active {
        // Deactivation has unassigned everything already (`unassign_all`).
        return Ok(());
    }
    let cause = Cause::agent_id(admin, "access_removed", tx.now());
    let mut sees: HashMap<Id, bool> = HashMap::new();
    for conversation in tx.unresolved_assigned_to(agent.id)? {
        let visible = match sees.get(&conversation.inbox_id) {
            Some(visible) => *visible,
            None => {
                let inbox: Option<Inbox> = tx.get(conversation.inbox_id)?;
                let visible = inbox.is_some_and(|inbox| rules::can_see_inbox(agent, &inbox));
                sees.insert(conversation.inbox_id, visible);
                visible
            }
        };
        if visible {
            continue;
        }
        let mut unassigned = conversation.clone();
        unassigned.assignee_id = None;
        ledger::save(tx, &conversation, &unassigned, &cause)?;
        let text =
            format!("{} no longer has access to this inbox; the conversation is unassigned", agent.name);
        activity(tx, unassigned.inbox_id, unassigned.id, Sender::Agent { id: admin }, text)?;
    }
    Ok(())
}

/// Membership lives on the agent (`team_ids`), so each changed agent gets a new feed record; one
/// who left the team gives up what only the team let them see (`release_lost_access`).
fn set_team_members(tx: &mut dyn StoreTx, admin: Id, team_id: Id, member_ids: &[Id]) -> Outcome<()> {
    for member in member_ids {
        require_agent(tx, *member)?;
    }
    for mut agent in tx.all::<Agent>()? {
        let wanted = member_ids.contains(&agent.id);
        let has = agent.team_ids.contains(&team_id);
        if wanted != has {
            let before = agent.team_ids.clone();
            if wanted {
                agent.team_ids.push(team_id);
            } else {
                agent.team_ids.retain(|t| *t != team_id);
            }
            tx.put(&agent, Audience::EVERYONE)?;
            super::saved_views::follow_membership(tx, &before, &agent)?;
            if !wanted {
                release_lost_access(tx, admin, &agent)?;
            }
        }
    }
    routing::route(tx, routing::Released::default())?;
    Ok(())
}

impl Workspace {
    pub async fn create_agent(&self, viewer: &Viewer, request: CreateAgent) -> Outcome<Agent> {
        policy::require_admin(viewer)?;
        self.create_agent_unchecked(request, Who::viewer(viewer)).await
    }

    /// Creates an admin without an acting admin: only for `init` and the demo seeder.
    pub async fn create_first_admin(&self, request: CreateAgent) -> Outcome<Agent> {
        let who = Who { actor_label: "setup".into(), ..Who::default() };
        self.create_agent_unchecked(CreateAgent { role: Role::Admin, ..request }, who).await
    }

    async fn create_agent_unchecked(&self, request: CreateAgent, who: Who) -> Outcome<Agent> {
        let hash = hash_password(request.password.clone()).await?;
        self.write(move |tx| {
            let agent = create_agent(tx, request, hash)?;
            audit::changed(tx, &who, "agent.create", agent.id, &agent.name, None, Some(&agent))?;
            Ok(agent)
        })
        .await
    }

    /// Admins change anything; a lead balancing the load may change an agent's capacity alone.
    pub async fn update_agent(&self, viewer: &Viewer, agent_id: Id, update: UpdateAgent) -> Outcome<Agent> {
        let capacity_only = update.capacity.is_some()
            && update.name.is_none()
            && update.role.is_none()
            && update.active.is_none()
            && update.team_ids.is_none()
            && update.password.is_none();
        if capacity_only {
            policy::require_lead(viewer)?;
        } else {
            policy::require_admin(viewer)?;
        }
        let hash = match update.password.clone() {
            Some(password) => Some(hash_password(password).await?),
            None => None,
        };
        let admin = viewer.clone();
        let (agent, revoked) = self
            .write(move |tx| {
                let before: Option<Agent> = tx.get(agent_id)?;
                let password_changed = hash.is_some();
                let (agent, revoked) = update_agent(tx, &admin, agent_id, update, hash)?;
                let mut after = serde_json::to_value(&agent)?;
                if password_changed {
                    // Recorded as changed, never what it is.
                    after["password"] = serde_json::Value::Bool(true);
                }
                let what = audit::Record {
                    action: "agent.update",
                    target_type: "agent",
                    target_id: Some(agent.id),
                    target_label: &agent.name,
                    before: before.map(serde_json::to_value).transpose()?,
                    after: Some(after),
                };
                audit::record(tx, &Who::viewer(&admin), what)?;
                Ok((agent, revoked))
            })
            .await?;
        self.revoked(revoked);
        Ok(agent)
    }

    /// Signs an agent out of every device at once (admin), without deactivating them: each
    /// device's token is refused from now on and its streams close. Answers how many were signed
    /// in.
    pub async fn sign_out_agent(&self, viewer: &Viewer, agent_id: Id) -> Outcome<usize> {
        policy::require_admin(viewer)?;
        let who = Who::viewer(viewer);
        let revoked = self
            .write(move |tx| {
                let agent = require_agent(tx, agent_id)?;
                let now = tx.now();
                let mut revoked = Vec::new();
                for device in tx.active_devices(Some(agent.id))? {
                    tx.revoke_device(device.id, now)?;
                    revoked.push(device.id);
                }
                let what = audit::Record {
                    action: "agent.sign_out",
                    target_type: "agent",
                    target_id: Some(agent.id),
                    target_label: &agent.name,
                    before: None,
                    after: Some(serde_json::json!({ "devices": revoked })),
                };
                audit::record(tx, &who, what)?;
                Ok(revoked)
            })
            .await?;
        let count = revoked.len();
        self.revoked(revoked);
        Ok(count)
    }

    pub async fn create_team(&self, viewer: &Viewer, request: CreateTeam) -> Outcome<Team> {
        policy::require_admin(viewer)?;
        let who = Who::viewer(viewer);
        let admin = viewer.agent.id;
        self.write(move |tx| {
            let team = Team { id: Id::now_v7(), name: policy::valid_name(&request.name, "name")? };
            tx.put(&team, Audience::EVERYONE)?;
            set_team_members(tx, admin, team.id, &request.member_agent_ids)?;
            let after = serde_json::json!({"name": team.name, "member_agent_ids": request.member_agent_ids});
            let what = audit::Record {
                action: "team.create",
                target_type: "team",
                target_id: Some(team.id),
                target_label: &team.name,
                before: None,
                after: Some(after),
            };
            audit::record(tx, &who, what)?;
            Ok(team)
        })
        .await
    }

    pub async fn update_team(&self, viewer: &Viewer, team_id: Id, update: UpdateTeam) -> Outcome<Team> {
        policy::require_admin(viewer)?;
        let who = Who::viewer(viewer);
        let admin = viewer.agent.id;
        self.write(move |tx| {
            let mut team: Team = tx.get(team_id)?.ok_or_else(|| Refusal::not_found("team"))?;
            let label = team.name.clone();
            let what = audit::Record {
                action: "team.update",
                target_type: "team",
                target_id: Some(team.id),
                target_label: &label,
                before: Some(serde_json::json!({"name": team.name})),
                after: Some(serde_json::json!({
                    "name": update.name.clone().unwrap_or_else(|| team.name.clone()),
                    "member_agent_ids": update.member_agent_ids,
                })),
            };
            audit::record(tx, &who, what)?;
            if let Some(name) = update.name {
                team.name = policy::valid_name(&name, "name")?;
                tx.put(&team, Audience::EVERYONE)?;
            }
            if let Some(members) = update.member_agent_ids {
                set_team_members(tx, admin, team.id, &members)?;
            }
            Ok(team)
        })
        .await
    }
}
