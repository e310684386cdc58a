//! Idempotent mutations: a mutation's answer is stored under its `client_id` in the same
//! transaction as its effect, so a replay returns the first answer and writes nothing.

use serde::{de::DeserializeOwned, Serialize};
use switchboard_proto::{ErrorCode, Id};

use crate::{
    refusal::{Outcome, Refusal},
    store::{MutationRecord, StoreTx},
};

/// What identifies a mutation besides its `client_id`: a `client_id` reused for another action,
/// target or agent is refused rather than answered with someone else's result.
pub struct MutationKey<'a> {
    pub client_id: Id,
    pub agent_id: Id,
    pub action: &'a str,
    pub target: Id,
}

/// The stored answer of an earlier mutation with this key's `client_id`, if any.
pub fn replayed<T: DeserializeOwned>(tx: &dyn StoreTx, key: &MutationKey) -> Outcome<Option<T>> {
    let Some(stored) = tx.mutation(key.client_id)? else {
        return Ok(None);
    };
    if stored.agent_id != key.agent_id || stored.action != key.action || stored.target != key.target {
        return Err(Refusal::conflict(
            ErrorCode::ClientIdReused,
            "this client_id was already used for a different request",
        ));
    }
    Ok(Some(serde_json::from_value(stored.response)?))
}

/// Remembers a mutation's answer under its `client_id`.
pub fn remember<T: Serialize>(tx: &mut dyn StoreTx, key: &MutationKey, response: &T) -> Outcome<()> {
    let record = MutationRecord {
        agent_id: key.agent_id,
        action: key.action.to_owned(),
        target: key.target,
        response: serde_json::to_value(response)?,
    };
    tx.remember_mutation(key.client_id, record)?;
    Ok(())
}
