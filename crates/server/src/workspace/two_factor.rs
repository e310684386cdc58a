//! Two-factor sign-in: TOTP (RFC 6238: SHA-1, six digits, 30-second steps, one step of skew
//! either way, as every authenticator app expects) through `totp-rs`, and ten one-time recovery
//! codes kept only as SHA-256 hashes. A code is accepted once: the step it matched is stored, and
//! a code for that step or an earlier one is refused (no replay of a shoulder-surfed code).
//! A wrong code counts as a failed sign-in for the rate limit, like a wrong password.
//!
//! An admin may require a second factor of one agent or of the whole workspace (the row under the
//! nil id). A device that signs in while a required factor is missing gets a token good only for
//! enrolling (`enrolment_due`, checked in `accounts.rs::authenticate`); devices signed in before
//! the requirement keep working, and their agent is guided to enrol at the next sign-in.

use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_proto::*;
use totp_rs::{Algorithm, TOTP};

use super::{
    audit::{self, Record, Who},
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{StoreRead, StoreReadExt, StoreTx, TwoFactorRecord},
};

/// The `two_factor` row that holds the whole workspace's requirement.
const WORKSPACE_ROW: Id = Id::nil();

const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Switchboard";

fn totp(secret: &[u8], account: &str) -> Outcome<TOTP> {
    // `:` separates issuer and account in the URI; an email never has one, but be sure.
    let account = account.replace(':', "_");
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, secret.to_vec(), Some(ISSUER.into()), account)
        .map_err(Refusal::internal)
}

fn recovery_hash(code: &str) -> String {
    let normalised: String =
        code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// The step `code` is valid for at `now` (within one step either way), if any.
fn matching_step(totp: &TOTP, code: &str, now: Millis) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now / 1000).ok()?;
    let step = now / STEP_SECS;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|candidate| totp.generate(candidate * STEP_SECS) == code)
}

/// Whether `code` signs `agent` in now: a fresh TOTP code, or an unused recovery code (used up
/// here). Writes the record back when it accepts.
fn accept(tx: &mut dyn StoreTx, agent: &Agent, record: &TwoFactorRecord, code: &str) -> Outcome<bool> {
    let totp = totp(&record.secret, &agent.email)?;
    if let Some(step) = matching_step(&totp, code, tx.now()) {
        if step <= record.last_step {
            return Ok(false); // Already used.
        }
        let updated = TwoFactorRecord { last_step: step, ..record.clone() };
        tx.set_two_factor(agent.id, Some(&updated))?;
        return Ok(true);
    }
    let hash = recovery_hash(code);
    if let Some(index) = record.recovery_hashes.iter().position(|known| *known == hash) {
        let mut updated = record.clone();
        updated.recovery_hashes.remove(index);
        tx.set_two_factor(agent.id, Some(&updated))?;
        return Ok(true);
    }
    Ok(false)
}

/// The sign-in's second step, after the password: nothing to do for an agent without a confirmed
/// second factor; otherwise `two_factor_required` without a code, `invalid_credentials` with a
/// wrong one.
pub(super) fn check_sign_in(tx: &mut dyn StoreTx, agent: &Agent, code: Option<&str>) -> Outcome<()> {
    let Some(record) = tx.two_factor(agent.id)?.filter(|record| record.confirmed) else { return Ok(()) };
    let Some(code) = code.filter(|code| !code.trim().is_empty()) else {
        return Err(Refusal::new(ErrorCode::TwoFactorRequired, "enter the code from your authenticator app"));
    };
    if accept(tx, agent, &record, code)? {
        Ok(())
    } else {
        Err(Refusal::new(ErrorCode::InvalidCredentials, "wrong or already used code"))
    }
}

/// Since when a second factor has been required of `agent` (in particular or by the workspace,
/// the earlier), if it is and they have none confirmed.
pub(super) fn enrolment_due(store: &dyn StoreRead, agent: Id) -> Outcome<Option<Millis>> {
    let own = store.two_factor(agent)?;
    if own.as_ref().is_some_and(|record| record.confirmed) {
        return Ok(None);
    }
    let own = own.and_then(|record| record.required_since);
    let workspace = store.two_factor(WORKSPACE_ROW)?.and_then(|record| record.required_since);
    Ok(match (own, workspace) {
        (Some(own), Some(workspace)) => Some(own.min(workspace)),
        (own, workspace) => own.or(workspace),
    })
}

/// Whether an admin requires a second factor of `agent` (whether or not they have one).
fn required_of(store: &dyn StoreRead, agent: Id) -> Outcome<bool> {
    let own = store.two_factor(agent)?.is_some_and(|record| record.required_since.is_some());
    Ok(own || store.two_factor(WORKSPACE_ROW)?.is_some_and(|record| record.required_since.is_some()))
}

/// A record holding only a requirement (no factor enrolled).
fn requirement_only(required_since: Option<Millis>) -> Option<TwoFactorRecord> {
    required_since.map(|since| TwoFactorRecord {
        secret: vec![],
        confirmed: false,
        last_step: 0,
        recovery_hashes: vec![],
        required_since: Some(since),
    })
}

fn audit_row(tx: &mut dyn StoreTx, who: &Who, action: &str, agent: &Agent) -> Outcome<()> {
    let what = Record {
        action,
        target_type: "agent",
        target_id: Some(agent.id),
        target_label: &agent.name,
        before: None,
        after: None,
    };
    audit::record(tx, who, what)
}

impl Workspace {
    /// `GET /me/two-factor`.
    pub async fn two_factor_status(&self, viewer: &Viewer) -> Outcome<TwoFactorStatus> {
        let agent = viewer.agent.id;
        self.read(move |store| {
            let required = required_of(store, agent)?;
            let record = store.two_factor(agent)?.filter(|record| record.confirmed);
            Ok(TwoFactorStatus {
                enabled: record.is_some(),
                recovery_codes_left: record.map_or(0, |r| r.recovery_hashes.len() as u32),
                required,
            })
        })
        .await
    }

    /// `POST /me/two-factor`: a new secret to enrol (replacing one not confirmed yet); refused
    /// while one is enabled.
    pub async fn begin_two_factor(&self, viewer: &Viewer) -> Outcome<TwoFactorEnrolment> {
        let agent = viewer.agent.clone();
        self.write(move |tx| {
            let existing = tx.two_factor(agent.id)?;
            if existing.as_ref().is_some_and(|record| record.confirmed) {
                return Err(Refusal::conflict(ErrorCode::AlreadyExists, "two-factor sign-in is already on"));
            }
            let mut secret = vec![0u8; 20];
            rand::thread_rng().fill_bytes(&mut secret);
            let totp = totp(&secret, &agent.email)?;
            let record = TwoFactorRecord {
                secret,
                confirmed: false,
                last_step: 0,
                recovery_hashes: vec![],
                required_since: existing.and_then(|record| record.required_since),
            };
            tx.set_two_factor(agent.id, Some(&record))?;
            Ok(TwoFactorEnrolment { secret: totp.get_secret_base32(), otpauth_uri: totp.get_url() })
        })
        .await
    }

    /// `POST /me/two-factor/confirm`: a code from the new secret turns it on; answers the
    /// recovery codes, once.
    pub async fn confirm_two_factor(
        &self,
        viewer: &Viewer,
        code: TwoFactorCode,
    ) -> Outcome<TwoFactorConfirmed> {
        let who = Who::viewer(viewer);
        let agent = viewer.agent.clone();
        self.write(move |tx| {
            let record = tx
                .two_factor(agent.id)?
                .filter(|record| !record.confirmed && !record.secret.is_empty())
                .ok_or_else(|| Refusal::validation("start enrolling first (POST /me/two-factor)"))?;
            let totp = totp(&record.secret, &agent.email)?;
            let Some(step) = matching_step(&totp, &code.code, tx.now()) else {
                return Err(Refusal::validation("that code doesn't match: check the authenticator's clock"));
            };
            let recovery_codes: Vec<String> = (0..RECOVERY_CODES)
                .map(|_| {
                    let mut bytes = [0u8; 5];
                    rand::thread_rng().fill_bytes(&mut bytes);
                    let code = hex::encode_upper(bytes);
                    format!("{}-{}", &code[..5], &code[5..])
                })
                .collect();
            let confirmed = TwoFactorRecord {
                confirmed: true,
                last_step: step,
                recovery_hashes: recovery_codes.iter().map(|code| recovery_hash(code)).collect(),
                ..record
            };
            tx.set_two_factor(agent.id, Some(&confirmed))?;
            audit_row(tx, &who, "auth.two_factor_enabled", &agent)?;
            Ok(TwoFactorConfirmed { recovery_codes })
        })
        .await
    }

    /// `DELETE /me/two-factor` with a current code (or a recovery code).
    pub async fn disable_two_factor(&self, viewer: &Viewer, code: TwoFactorCode) -> Outcome<()> {
        let who = Who::viewer(viewer);
        let agent = viewer.agent.clone();
        self.write(move |tx| {
            let record = tx
                .two_factor(agent.id)?
                .filter(|record| record.confirmed)
                .ok_or_else(|| Refusal::not_found("two-factor sign-in"))?;
            if required_of(&*tx, agent.id)? {
                return Err(Refusal::forbidden("an admin requires two-factor sign-in for you"));
            }
            if !accept(tx, &agent, &record, &code.code)? {
                return Err(Refusal::validation("wrong or already used code"));
            }
            tx.set_two_factor(agent.id, None)?;
            audit_row(tx, &who, "auth.two_factor_disabled", &agent)
        })
        .await
    }

    /// `DELETE /agents/{id}/two-factor` (admins): for an agent who lost their authenticator and
    /// their recovery codes.
    pub async fn reset_two_factor(&self, viewer: &Viewer, agent_id: Id) -> Outcome<()> {
        policy::require_admin(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let agent: Agent =
                StoreReadExt::get(&*tx, agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            // A requirement outlives the reset: the agent enrols again at their next sign-in.
            let required_since = tx.two_factor(agent_id)?.and_then(|record| record.required_since);
            tx.set_two_factor(agent_id, requirement_only(required_since).as_ref())?;
            audit_row(tx, &who, "auth.two_factor_reset", &agent)
        })
        .await
    }

    /// `GET /two-factor` (admins): the workspace's requirement and every agent's.
    pub async fn two_factor_overview(&self, viewer: &Viewer) -> Outcome<TwoFactorOverview> {
        policy::require_admin(viewer)?;
        self.read(move |store| {
            let workspace_required =
                store.two_factor(WORKSPACE_ROW)?.is_some_and(|record| record.required_since.is_some());
            let mut agents: Vec<Agent> = store.all()?;
            agents.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            let agents = agents
                .into_iter()
                .map(|agent| {
                    let record = store.two_factor(agent.id)?;
                    Ok(AgentTwoFactor {
                        agent_id: agent.id,
                        required: record.as_ref().is_some_and(|r| r.required_since.is_some()),
                        enabled: record.is_some_and(|r| r.confirmed),
                    })
                })
                .collect::<Outcome<Vec<_>>>()?;
            Ok(TwoFactorOverview { workspace_required, agents })
        })
        .await
    }

    /// `PUT /two-factor/required` (admins): every agent must sign in with a second factor (those
    /// without one enrol at their next sign-in), or no longer in general.
    pub async fn require_two_factor(
        &self,
        viewer: &Viewer,
        requirement: TwoFactorRequirement,
    ) -> Outcome<()> {
        policy::require_admin(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let before = tx.two_factor(WORKSPACE_ROW)?.and_then(|record| record.required_since);
            if before.is_some() == requirement.required {
                return Ok(());
            }
            let since = requirement.required.then(|| tx.now());
            tx.set_two_factor(WORKSPACE_ROW, requirement_only(since).as_ref())?;
            let what = Record {
                action: "settings.two_factor_required",
                target_type: "workspace",
                target_id: None,
                target_label: "",
                before: Some(serde_json::json!({ "required": before.is_some() })),
                after: Some(serde_json::json!({ "required": requirement.required })),
            };
            audit::record(tx, &who, what)
        })
        .await
    }

    /// `PUT /agents/{id}/two-factor/required` (admins): one agent must sign in with a second
    /// factor, or no longer in particular.
    pub async fn require_agent_two_factor(
        &self,
        viewer: &Viewer,
        agent_id: Id,
        requirement: TwoFactorRequirement,
    ) -> Outcome<()> {
        policy::require_admin(viewer)?;
        let who = Who::viewer(viewer);
        self.write(move |tx| {
            let agent: Agent =
                StoreReadExt::get(&*tx, agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
            let record = tx.two_factor(agent_id)?;
            let before = record.as_ref().and_then(|record| record.required_since);
            if before.is_some() == requirement.required {
                return Ok(());
            }
            let since = requirement.required.then(|| tx.now());
            let updated = match record {
                Some(record) if !record.secret.is_empty() => {
                    Some(TwoFactorRecord { required_since: since, ..record })
                }
                _ => requirement_only(since),
            };
            tx.set_two_factor(agent_id, updated.as_ref())?;
            let what = Record {
                action: "agent.two_factor_required",
                target_type: "agent",
                target_id: Some(agent.id),
                target_label: &agent.name,
                before: Some(serde_json::json!({ "required": before.is_some() })),
                after: Some(serde_json::json!({ "required": requirement.required })),
            };
            audit::record(tx, &who, what)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector_and_one_step_of_skew() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (the last six digits for a six-digit code).
        let totp = totp(b"12345678901234567890", "test@example.com").expect("totp");
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(matching_step(&totp, "287082", 59_000), Some(1));
        assert_eq!(matching_step(&totp, "287082", 89_000), Some(1), "one step late is fine");
        assert_eq!(matching_step(&totp, "287082", 120_000), None, "two steps late is not");
        assert_eq!(matching_step(&totp, "28708", 59_000), None);
        assert_eq!(matching_step(&totp, "abcdef", 59_000), None);
    }

    #[test]
    fn recovery_codes_match_however_they_are_typed() {
        assert_eq!(recovery_hash("ABCDE-12345"), recovery_hash(" abcde12345 "));
        assert_ne!(recovery_hash("ABCDE-12345"), recovery_hash("ABCDE-12346"));
    }
}
