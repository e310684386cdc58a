//! Running the team from the app (admins, and leads where the server's roles allow): agents
//! (added with a one-time password, role, teams, capacity, deactivated and reactivated, signed
//! out everywhere), every agent's devices with remote sign-out, teams and their members, an
//! inbox's members and templates, labels (named in any script, renamed, recoloured, deleted) and team-wide
//! quick replies. Like [`crate::settings`], each goes to the server at once and is never queued:
//! an admin wants to know now that an agent was cut off, and an edit replayed later could undo a
//! colleague's. What the server stores comes back through the feed, so every desktop's
//! directory follows; a refusal answers here, and while the server can't be reached the edit is
//! refused with the `offline` code.

use rand::Rng;
use switchboard_proto::*;

use crate::{
    api::ApiClient,
    error::{CoreError, CoreResult},
};

/// The letters a one-time password is made of: no 0/O, 1/l/I, so it can be read out or copied
/// by hand.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// 18 letters of 56: about 104 bits.
const PASSWORD_LENGTH: usize = 18;

/// A random password to give a new agent once (or an agent whose password is reset), in groups
/// of six for reading: `abcdef-ghijkm-npqrst`.
pub fn one_time_password() -> String {
    let mut rng = rand::rngs::OsRng;
    let letters: Vec<char> = (0..PASSWORD_LENGTH)
        .map(|_| PASSWORD_ALPHABET[rng.gen_range(0..PASSWORD_ALPHABET.len())] as char)
        .collect();
    letters.chunks(6).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn unreachable(what: &str) -> impl Fn(CoreError) -> CoreError + '_ {
    move |error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("{what} can't be saved until the server can be reached again ({why})"))
        }
        other => other,
    }
}

/// A new agent and the password they sign in with, which exists only in this answer.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub agent: Agent,
    pub password: String,
}

/// Adds an agent (admins) with a one-time password made here, then their capacity if given.
pub async fn create_agent(
    api: &ApiClient,
    name: &str,
    email: &str,
    role: Role,
    team_ids: Vec<Id>,
    capacity: Option<u32>,
) -> CoreResult<NewAgent> {
    let password = one_time_password();
    let request = CreateAgent {
        name: name.to_owned(),
        email: email.to_owned(),
        role,
        password: password.clone(),
        team_ids,
    };
    let mut agent = api.create_agent(&request).await.map_err(unreachable("the new agent"))?;
    if capacity.is_some() {
        // The agent exists now, and their password is only here: a capacity that didn't take
        // must not lose it. They keep no limit, which the workload page can change.
        let update = UpdateAgent { capacity: Some(capacity), ..UpdateAgent::default() };
        match api.update_agent(agent.id, &update).await {
            Ok(stored) => agent = stored,
            Err(error) => tracing::warn!(%error, "the new agent's capacity was not saved"),
        }
    }
    Ok(NewAgent { agent, password })
}

/// Changes an agent (admins): name, role, teams, active. Deactivating signs them out of every
/// device at once and puts their conversations back in the queue (the server does both).
pub async fn update_agent(api: &ApiClient, agent_id: Id, update: &UpdateAgent) -> CoreResult<Agent> {
    api.update_agent(agent_id, update).await.map_err(unreachable("the agent"))
}

/// Gives an agent a new one-time password (admins); answers it, shown once.
pub async fn reset_password(api: &ApiClient, agent_id: Id) -> CoreResult<String> {
    let password = one_time_password();
    let update = UpdateAgent { password: Some(password.clone()), ..UpdateAgent::default() };
    api.update_agent(agent_id, &update).await.map_err(unreachable("the new password"))?;
    Ok(password)
}

/// Signs an agent out of every device (admins), leaving them active; answers how many.
pub async fn sign_out_everywhere(api: &ApiClient, agent_id: Id) -> CoreResult<usize> {
    api.sign_out_agent(agent_id).await.map_err(unreachable("the sign-out")).map(|answer| answer.devices)
}

/// Every signed-in device the caller may see: an admin's list is everyone's.
pub async fn devices(api: &ApiClient) -> CoreResult<Vec<Device>> {
    api.devices().await.map_err(|error| match error {
        CoreError::Network(why) => {
            CoreError::Network(format!("devices show when the server can be reached again ({why})"))
        }
        other => other,
    })
}

/// Signs one device out (own, or anyone's for an admin).
pub async fn revoke_device(api: &ApiClient, device_id: Id) -> CoreResult<()> {
    api.revoke_device(device_id).await.map_err(unreachable("the sign-out"))
}

/// Adds a team (`team_id: None`) or renames one and sets its members (admins).
pub async fn save_team(
    api: &ApiClient,
    team_id: Option<Id>,
    name: &str,
    member_agent_ids: Vec<Id>,
) -> CoreResult<Team> {
    match team_id {
        None => api.create_team(&CreateTeam { name: name.to_owned(), member_agent_ids }).await,
        Some(id) => {
            let update = UpdateTeam { name: Some(name.to_owned()), member_agent_ids: Some(member_agent_ids) };
            api.update_team(id, &update).await
        }
    }
    .map_err(unreachable("the team"))
}

/// Sets who works an inbox, agents and teams (admins).
pub async fn set_inbox_members(
    api: &ApiClient,
    inbox_id: Id,
    agent_ids: Vec<Id>,
    team_ids: Vec<Id>,
) -> CoreResult<Inbox> {
    let update = UpdateInbox {
        member_agent_ids: Some(agent_ids),
        member_team_ids: Some(team_ids),
        ..UpdateInbox::default()
    };
    api.update_inbox(inbox_id, &update).await.map_err(unreachable("the inbox's members"))
}

/// Sets an inbox's approved message templates (admins): what an agent may send once a
/// channel's reply window has closed. Each needs a name and a body.
pub async fn set_inbox_templates(
    api: &ApiClient,
    inbox_id: Id,
    templates: Vec<MessageTemplate>,
) -> CoreResult<Inbox> {
    let update = UpdateInbox { templates: Some(templates), ..UpdateInbox::default() };
    api.update_inbox(inbox_id, &update).await.map_err(unreachable("the inbox's templates"))
}

/// Adds a label (`label_id: None`) or renames and recolours one (leads and admins). The name is
/// kept as written; a name that is another label's by key is refused `already_exists`.
pub async fn save_label(api: &ApiClient, label_id: Option<Id>, name: &str, color: &str) -> CoreResult<Label> {
    match label_id {
        None => api.create_label(&CreateLabel { name: name.to_owned(), color: Some(color.to_owned()) }).await,
        Some(id) => {
            let update = UpdateLabel { name: Some(name.to_owned()), color: Some(color.to_owned()) };
            api.update_label(id, &update).await
        }
    }
    .map_err(unreachable("the label"))
}

/// Deletes a label, taking it off every conversation (leads and admins).
pub async fn delete_label(api: &ApiClient, label_id: Id) -> CoreResult<()> {
    api.delete_label(label_id).await.map_err(unreachable("the label's deletion"))
}

/// Adds a team-wide quick reply (`id: None`) or changes one (leads and admins).
pub async fn save_quick_reply(
    api: &ApiClient,
    id: Option<Id>,
    short_code: &str,
    title: &str,
    body: &str,
) -> CoreResult<CannedResponse> {
    match id {
        None => {
            let request = CreateCannedResponse {
                short_code: short_code.to_owned(),
                title: title.to_owned(),
                body: body.to_owned(),
                personal: false,
            };
            api.create_canned(&request).await
        }
        Some(id) => {
            let update = UpdateCannedResponse {
                short_code: Some(short_code.to_owned()),
                title: Some(title.to_owned()),
                body: Some(body.to_owned()),
            };
            api.update_canned(id, &update).await
        }
    }
    .map_err(unreachable("the quick reply"))
}

/// Deletes a quick reply.
pub async fn delete_quick_reply(api: &ApiClient, id: Id) -> CoreResult<()> {
    api.delete_canned(id).await.map_err(unreachable("the quick reply's deletion"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_long_unambiguous_and_differ() {
        let first = one_time_password();
        assert_eq!(first.len(), PASSWORD_LENGTH + 2, "three groups of six: {first}");
        let groups: Vec<&str> = first.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [6, 6, 6]);
        assert!(
            groups.concat().bytes().all(|b| PASSWORD_ALPHABET.contains(&b)),
            "no look-alike letters: {first}"
        );
        assert!(!first.contains(['0', 'O', '1', 'l', 'I']));
        assert_ne!(first, one_time_password(), "made at random each time");
    }
}
