//! Saved views: a named conversation filter, personal or team-wide, sent through the feed to its
//! audience only.
//!
//! The feed's audiences are an inbox's viewers or one agent (`store::Audience`); a team has no
//! audience of its own. So a team-wide view is written once per member, each copy private to that
//! member (the entity tables key rows by id and agent scope): a member receives it, nobody else
//! does. Membership lives on the agent (`Agent::team_ids`); every change of it calls
//! [`follow_membership`], which hands a newcomer the team's views and takes them back from a
//! leaver, so a member's cache holds exactly their teams' views. A personal view is one copy,
//! private to its owner. The filter itself is evaluated on the client's cache, never here.

use std::collections::BTreeMap;

use switchboard_proto::views::{self, CreateSavedView, SavedView, SavedViewResult, UpdateSavedView};
use switchboard_proto::*;

use super::{
    audit::{self, Who},
    idempotency::{self, MutationKey},
    Viewer, Workspace,
};
use crate::{
    refusal::{Outcome, Refusal},
    store::{Audience, StoreRead, StoreReadExt, StoreResult, StoreTx, StoreTxExt},
};

/// Every saved view once (team views are stored once per member), by id.
fn every_view(store: &(impl StoreRead + ?Sized)) -> StoreResult<BTreeMap<Id, SavedView>> {
    Ok(store.all::<SavedView>()?.into_iter().map(|view| (view.id, view)).collect())
}

/// Who holds a copy of `view`: its owner, or every member of its team.
fn holders(agents: &[Agent], view: &SavedView) -> Vec<Id> {
    match (view.owner_id, view.team_id) {
        (Some(owner), _) => vec![owner],
        (None, Some(team)) => {
            agents.iter().filter(|agent| agent.team_ids.contains(&team)).map(|agent| agent.id).collect()
        }
        (None, None) => vec![],
    }
}

/// Writes `view` to each of its holders and takes it back from anyone else who has a copy.
fn publish(tx: &mut dyn StoreTx, view: &SavedView) -> Outcome<()> {
    let agents = tx.all::<Agent>()?;
    let holders = holders(&agents, view);
    for agent in &agents {
        let audience = Audience::private(agent.id, None);
        if holders.contains(&agent.id) {
            tx.put(view, audience)?;
        } else {
            tx.remove(EntityKind::SavedView, view.id, audience)?;
        }
    }
    Ok(())
}

/// Takes a deleted view back from everyone who holds it.
fn withdraw(tx: &mut dyn StoreTx, view_id: Id) -> Outcome<()> {
    for agent in tx.all::<Agent>()? {
        tx.remove(EntityKind::SavedView, view_id, Audience::private(agent.id, None))?;
    }
    Ok(())
}

/// After `agent`'s teams changed from `before`: the views of teams they joined are written to
/// them, those of teams they left taken back (in the transaction of the change).
pub(crate) fn follow_membership(tx: &mut dyn StoreTx, before: &[Id], agent: &Agent) -> Outcome<()> {
    if before == agent.team_ids.as_slice() {
        return Ok(());
    }
    let audience = Audience::private(agent.id, None);
    for view in every_view(tx)?.into_values() {
        let Some(team) = view.team_id else { continue };
        match (before.contains(&team), agent.team_ids.contains(&team)) {
            (false, true) => tx.put(&view, audience)?,
            (true, false) => {
                tx.remove(EntityKind::SavedView, view.id, audience)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `viewer` may make or change a view of `team`: an admin, or a lead in that team.
fn may_manage_team(viewer: &Viewer, team: Id) -> Outcome<()> {
    match viewer.agent.role {
        Role::Admin => Ok(()),
        Role::Lead if viewer.agent.team_ids.contains(&team) => Ok(()),
        Role::Lead => Err(Refusal::forbidden("a lead manages the views of their own teams")),
        Role::Agent => Err(Refusal::forbidden("only a lead or an admin manages team views")),
    }
}

/// The view `viewer` may change: their own personal one, or a team view they manage. A view they
/// may not see answers 404, like a missing one.
fn editable(tx: &dyn StoreTx, viewer: &Viewer, view_id: Id) -> Outcome<SavedView> {
    let view = every_view(tx)?.remove(&view_id).ok_or_else(|| Refusal::not_found("saved view"))?;
    match (view.owner_id, view.team_id) {
        (Some(owner), _) if owner == viewer.agent.id => Ok(view),
        (None, Some(team)) if viewer.agent.team_ids.contains(&team) || viewer.agent.role == Role::Admin => {
            may_manage_team(viewer, team).map(|()| view)
        }
        _ => Err(Refusal::not_found("saved view")),
    }
}

fn check(name: &str, filter: &views::ConversationFilter) -> Outcome<String> {
    filter.check().map_err(Refusal::validation)?;
    views::view_name(name).map_err(Refusal::validation)
}

fn audit_team_view(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    action: &str,
    before: Option<&SavedView>,
    after: Option<&SavedView>,
) -> Outcome<()> {
    let Some(view) = after.or(before).filter(|view| view.team_id.is_some()) else { return Ok(()) };
    let (id, name) = (view.id, view.name.clone());
    audit::changed(tx, &Who::viewer(viewer), action, id, &name, before, after)
}

fn create(tx: &mut dyn StoreTx, viewer: &Viewer, request: CreateSavedView) -> Outcome<SavedViewResult> {
    let key = MutationKey {
        client_id: request.client_id,
        agent_id: viewer.agent.id,
        action: "create_saved_view",
        target: request.client_id,
    };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    let name = check(&request.name, &request.filter)?;
    if let Some(team) = request.team_id {
        may_manage_team(viewer, team)?;
        if tx.get::<Team>(team)?.is_none() {
            return Err(Refusal::validation(format!("team_id: no team {team}")));
        }
    }
    if every_view(tx)?.contains_key(&request.client_id) {
        return Err(Refusal::conflict(ErrorCode::ClientIdReused, "a saved view with this id exists"));
    }
    let view = SavedView {
        id: request.client_id,
        name,
        filter: request.filter,
        owner_id: request.team_id.is_none().then_some(viewer.agent.id),
        team_id: request.team_id,
        created_by: viewer.agent.id,
        created_at: tx.now(),
    };
    publish(tx, &view)?;
    audit_team_view(tx, viewer, "saved_view.create", None, Some(&view))?;
    let result = SavedViewResult { view: Some(view), seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

fn update(
    tx: &mut dyn StoreTx,
    viewer: &Viewer,
    view_id: Id,
    update: UpdateSavedView,
) -> Outcome<SavedViewResult> {
    let key = MutationKey {
        client_id: update.client_id,
        agent_id: viewer.agent.id,
        action: "update_saved_view",
        target: view_id,
    };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    let before = editable(tx, viewer, view_id)?;
    let mut view = before.clone();
    if let Some(filter) = update.filter {
        view.filter = filter;
    }
    view.name = check(update.name.as_deref().unwrap_or(&before.name), &view.filter)?;
    publish(tx, &view)?;
    audit_team_view(tx, viewer, "saved_view.update", Some(&before), Some(&view))?;
    let result = SavedViewResult { view: Some(view), seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

fn delete(tx: &mut dyn StoreTx, viewer: &Viewer, view_id: Id, client_id: Id) -> Outcome<SavedViewResult> {
    let key =
        MutationKey { client_id, agent_id: viewer.agent.id, action: "delete_saved_view", target: view_id };
    if let Some(stored) = idempotency::replayed(tx, &key)? {
        return Ok(stored);
    }
    let view = editable(tx, viewer, view_id)?;
    withdraw(tx, view.id)?;
    audit_team_view(tx, viewer, "saved_view.delete", Some(&view), None)?;
    let result = SavedViewResult { view: None, seq: tx.last_seq() };
    idempotency::remember(tx, &key, &result)?;
    Ok(result)
}

impl Workspace {
    /// The saved views `viewer` receives: their personal ones and their teams' (what the feed
    /// gives them), in creation order.
    pub async fn saved_views(&self, viewer: &Viewer) -> Outcome<Vec<SavedView>> {
        let (me, teams) = (viewer.agent.id, viewer.agent.team_ids.clone());
        self.read(move |store| {
            let mine = every_view(store)?.into_values().filter(|view| {
                view.owner_id == Some(me) || view.team_id.is_some_and(|team| teams.contains(&team))
            });
            let mut views: Vec<SavedView> = mine.collect();
            views.sort_by_key(|view| (view.created_at, view.id));
            Ok(views)
        })
        .await
    }

    pub async fn create_saved_view(
        &self,
        viewer: &Viewer,
        request: CreateSavedView,
    ) -> Outcome<SavedViewResult> {
        let viewer = viewer.clone();
        self.write(move |tx| create(tx, &viewer, request)).await
    }

    pub async fn update_saved_view(
        &self,
        viewer: &Viewer,
        view_id: Id,
        request: UpdateSavedView,
    ) -> Outcome<SavedViewResult> {
        let viewer = viewer.clone();
        self.write(move |tx| update(tx, &viewer, view_id, request)).await
    }

    pub async fn delete_saved_view(
        &self,
        viewer: &Viewer,
        view_id: Id,
        client_id: Id,
    ) -> Outcome<SavedViewResult> {
        let viewer = viewer.clone();
        self.write(move |tx| delete(tx, &viewer, view_id, client_id)).await
    }
}
