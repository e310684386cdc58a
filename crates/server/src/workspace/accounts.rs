//! Signing in, device tokens, and the caller's own profile.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use super::{
    audit::{self, Record, Who},
    Viewer, Workspace,
};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{Audience, DeviceRecord, StoreRead, StoreReadExt, StoreTx, StoreTxExt},
};

/// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
const LAST_SEEN_RESOLUTION_MS: Millis = 60_000;
/// Failed sign-ins allowed per email and client address within [`LOGIN_WINDOW_MS`] before the
/// next is refused without even checking the password (`rate_limited`, with when to retry).
const MAX_LOGIN_FAILURES: usize = 5;
const LOGIN_WINDOW_MS: Millis = 5 * 60 * 1000;

/// The rate limit's key: who is trying from where. Stored in the database, not in a node's
/// memory, so a client can't multiply its tries by the number of nodes.
fn login_key(email: &str, client: &str) -> String {
    format!("{}|{client}", email.trim().to_lowercase())
}

/// Refuses a sign-in while its key has too many recent failures (a sliding window: the oldest of
/// the last `MAX_LOGIN_FAILURES` failures must have left the window).
fn check_login_rate(store: &dyn StoreRead, key: &str) -> Outcome<()> {
    let now = store.now();
    let failures = store.login_failures(key, now - LOGIN_WINDOW_MS + 1)?;
    if failures.len() < MAX_LOGIN_FAILURES {
        return Ok(());
    }
    let free_at = failures[failures.len() - MAX_LOGIN_FAILURES] + LOGIN_WINDOW_MS;
    let secs = u64::try_from(free_at - now).unwrap_or(0).div_ceil(1000).max(1);
    let mut refusal =
        Refusal::new(ErrorCode::RateLimited, format!("too many failed sign-ins; try again in {secs} s"));
    refusal.retry_after_secs = Some(secs);
    Err(refusal)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invalid_credentials() -> Refusal {
    Refusal::new(ErrorCode::InvalidCredentials, "wrong email or password")
}

fn hash_now(password: &str) -> Outcome<String> {
    policy::check_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(Refusal::internal)
}

/// Hashes a password on a blocking thread: argon2 is slow on purpose (tens of ms of CPU), and on
/// the async runtime it would stall every request and stream sharing that worker.
pub(super) async fn hash_password(password: String) -> Outcome<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.map_err(Refusal::internal)?
}

/// Verifies an email and password; returns the agent.
fn check_password(store: &dyn StoreRead, request: &LoginRequest) -> Outcome<Agent> {
    let email = request.email.trim().to_lowercase();
    let found = match store.agent_by_email(&email)? {
        Some(agent) => store.password_hash(agent.id)?.map(|hash| (agent, hash)),
        None => None,
    };
    // An unknown email still costs a hash verification, so timing doesn't reveal who exists.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match &found {
        Some((_, hash)) => hash.clone(),
        None => DUMMY.get_or_init(|| hash_now("not-a-real-password").unwrap_or_default()).clone(),
    };
    let parsed = PasswordHash::new(&hash).map_err(Refusal::internal)?;
    let verified = Argon2::default().verify_password(request.password.as_bytes(), &parsed).is_ok();
    match found {
        Some((agent, _)) if verified && agent.active => Ok(agent),
        _ => Err(invalid_credentials()),
    }
}

/// Creates a device for a signed-in agent and returns its one-time token.
fn create_device(tx: &mut dyn StoreTx, agent: Agent, device_name: &str) -> Outcome<LoginResponse> {
    let name = policy::check_device_name(device_name)?;
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("sbt_{}", hex::encode(secret));
    let now = tx.now();
    let device = DeviceRecord {
        id: Id::now_v7(),
        agent_id: agent.id,
        name,
        token_hash: token_hash(&token),
        created_at: now,
        last_seen_at: now,
        revoked_at: None,
    };
    tx.insert_device(&device)?;
    Ok(LoginResponse { token, device_id: device.id, agent, two_factor_enrolment_required: false })
}

/// Resolves a bearer token to its agent and device. The first flag says `last_seen_at` is stale,
/// the second that the device may only enrol a second factor (see
/// [`super::two_factor::enrolment_due`]).
fn authenticate(store: &dyn StoreRead, token: &str) -> Outcome<(Viewer, bool, bool)> {
    let device = store
        .device_by_token_hash(&token_hash(token))?
        .ok_or_else(|| Refusal::unauthorized("unknown token"))?;
    let agent: Agent = store.get(device.agent_id)?.ok_or_else(|| Refusal::unauthorized("unknown token"))?;
    if device.revoked_at.is_some() || !agent.active {
        return Err(Refusal::token_revoked());
    }
    let stale = store.now() - device.last_seen_at > LAST_SEEN_RESOLUTION_MS;
    let must_enrol = super::two_factor::enrolment_due(store, agent.id)?
        .is_some_and(|required_since| device.created_at >= required_since);
    Ok((Viewer { agent, device_id: device.id }, stale, must_enrol))
}

impl Workspace {
    /// Signs in from `client` (the caller's address): a device token for the right password, a
    /// refusal otherwise; failures count toward the rate limit, a success clears them.
    pub async fn login(&self, request: LoginRequest, client: &str) -> Outcome<LoginResponse> {
        let key = login_key(&request.email, client);
        let checked = request.clone();
        let rate_key = key.clone();
        let verdict = self
            .read(move |store| {
                check_login_rate(store, &rate_key)?;
                check_password(store, &checked)
            })
            .await;
        let email = request.email.trim().to_lowercase();
        let failure_key = key.clone();
        let result = match verdict {
            Ok(agent) => {
                let ip = client.to_owned();
                let code = request.two_factor_code.clone();
                self.write(move |tx| {
                    // The second factor, when the agent has one: in the transaction that clears
                    // the failures, so an accepted code is used up exactly when it signs in.
                    super::two_factor::check_sign_in(tx, &agent, code.as_deref())?;
                    tx.clear_login_failures(&key)?;
                    let must_enrol = super::two_factor::enrolment_due(&*tx, agent.id)?.is_some();
                    let mut signed_in = create_device(tx, agent, &request.device_name)?;
                    signed_in.two_factor_enrolment_required = must_enrol;
                    let who = Who {
                        actor_id: Some(signed_in.agent.id),
                        actor_label: signed_in.agent.name.clone(),
                        device_id: Some(signed_in.device_id),
                        ip: Some(ip),
                    };
                    let what = Record {
                        action: "auth.login",
                        target_type: "device",
                        target_id: Some(signed_in.device_id),
                        target_label: &request.device_name,
                        before: None,
                        after: None,
                    };
                    audit::record(tx, &who, what)?;
                    Ok(signed_in)
                })
                .await
            }
            Err(refusal) => Err(refusal),
        };
        match result {
            // A wrong password and a wrong second-factor code count alike toward the rate limit.
            Err(refusal) if refusal.code == ErrorCode::InvalidCredentials => {
                let ip = client.to_owned();
                self.write(move |tx| {
                    let now = tx.now();
                    tx.record_login_failure(&failure_key, now, now - LOGIN_WINDOW_MS)?;
                    // The same row for an unknown email and a wrong password, as the answer is.
                    let who = Who { actor_label: email, ip: Some(ip), ..Who::default() };
                    let what = Record {
                        action: "auth.login_failed",
                        target_type: "agent",
                        target_id: None,
                        target_label: "",
                        before: None,
                        after: None,
                    };
                    audit::record(tx, &who, what)
                })
                .await?;
                Err(refusal)
            }
            other => other,
        }
    }

    /// Checks the signed-in agent's password (the app lock), rate limited with sign-in: the same
    /// key, the same window, a failure recorded (and audited) alike.
    pub async fn verify_password(&self, viewer: &Viewer, password: String, client: &str) -> Outcome<()> {
        let email = viewer.agent.email.trim().to_lowercase();
        let key = login_key(&email, client);
        let request = LoginRequest {
            email: email.clone(),
            password,
            device_name: String::new(),
            two_factor_code: None,
        };
        let rate_key = key.clone();
        let verdict = self
            .read(move |store| {
                check_login_rate(store, &rate_key)?;
                check_password(store, &request).map(|_| ())
            })
            .await;
        match verdict {
            Ok(()) => {
                self.write(move |tx| Ok(tx.clear_login_failures(&key)?)).await?;
                Ok(())
            }
            Err(refusal) if refusal.code == ErrorCode::InvalidCredentials => {
                let (ip, agent, device_id) = (client.to_owned(), viewer.agent.clone(), viewer.device_id);
                self.write(move |tx| {
                    let now = tx.now();
                    tx.record_login_failure(&key, now, now - LOGIN_WINDOW_MS)?;
                    let who = Who {
                        actor_id: Some(agent.id),
                        actor_label: agent.name.clone(),
                        device_id: Some(device_id),
                        ip: Some(ip),
                    };
                    let what = Record {
                        action: "auth.unlock_failed",
                        target_type: "device",
                        target_id: Some(device_id),
                        target_label: "",
                        before: None,
                        after: None,
                    };
                    audit::record(tx, &who, what)
                })
                .await?;
                Err(Refusal::new(ErrorCode::InvalidCredentials, "wrong password"))
            }
            Err(refusal) => Err(refusal),
        }
    }

    /// The viewer a bearer token stands for; a device signed in while a required second factor
    /// was missing answers `two_factor_enrolment_required` until one is enrolled.
    pub async fn authenticate(&self, token: String) -> Outcome<Viewer> {
        self.authenticate_for(token, false).await
    }

    /// The same, for the requests such a device may make (`enrolling`: enrolment, sign-out).
    pub async fn authenticate_for(&self, token: String, enrolling: bool) -> Outcome<Viewer> {
        let (viewer, stale, must_enrol) = self.read(move |store| authenticate(store, &token)).await?;
        if must_enrol && !enrolling {
            return Err(Refusal::new(
                ErrorCode::TwoFactorEnrolmentRequired,
                "an admin requires two-factor sign-in: enrol an authenticator first",
            ));
        }
        if stale {
            let device_id = viewer.device_id;
            self.write(move |tx| Ok(tx.touch_device(device_id, tx.now())?)).await?;
        }
        Ok(viewer)
    }

    /// The caller's own devices; an admin sees everyone's.
    pub async fn devices(&self, viewer: &Viewer) -> Outcome<Vec<Device>> {
        let viewer = viewer.clone();
        self.read(move |store| {
            let whose = (viewer.agent.role != Role::Admin).then_some(viewer.agent.id);
            Ok(store
                .active_devices(whose)?
                .into_iter()
                .map(|d| Device {
                    id: d.id,
                    agent_id: d.agent_id,
                    name: d.name,
                    created_at: d.created_at,
                    last_seen_at: d.last_seen_at,
                    current: d.id == viewer.device_id,
                })
                .collect())
        })
        .await
    }

    /// Revokes one device: the caller's own, or anyone's for an admin. Its stream is closed.
    pub async fn revoke_device(&self, viewer: &Viewer, device_id: Id) -> Outcome<()> {
        let viewer = viewer.clone();
        self.write(move |tx| {
            let owned = tx
                .device(device_id)?
                .filter(|d| d.revoked_at.is_none())
                .is_some_and(|d| d.agent_id == viewer.agent.id || viewer.agent.role == Role::Admin);
            if !owned {
                return Err(Refusal::not_found("device"));
            }
            tx.revoke_device(device_id, tx.now())?;
            let what = Record {
                action: "device.revoke",
                target_type: "device",
                target_id: Some(device_id),
                target_label: "",
                before: None,
                after: None,
            };
            audit::record(tx, &Who::viewer(&viewer), what)
        })
        .await?;
        self.revoked(vec![device_id]);
        Ok(())
    }

    pub async fn update_me(&self, viewer: &Viewer, update: UpdateMe) -> Outcome<Agent> {
        let agent_id = viewer.agent.id;
        let agent = self
            .write(move |tx| {
                let mut agent: Agent = tx.get(agent_id)?.ok_or_else(|| Refusal::not_found("agent"))?;
                if let Some(name) = update.name {
                    agent.name = policy::valid_name(&name, "name")?;
                }
                if let Some(text) = update.status_text {
                    agent.status_text = policy::valid_status_text(&text)?;
                }
                if let Some(availability) = update.availability.filter(|a| *a != agent.availability) {
                    agent.availability = availability;
                    agent.availability_since = Some(tx.now());
                }
                tx.put(&agent, Audience::EVERYONE)?;
                // Coming online may take queued conversations at once; going busy or offline
                // starts the countdown to releasing waiting customers.
                super::routing::availability_changed(tx, agent_id)?;
                super::routing::route(tx, super::routing::Released::default())?;
                Ok(agent)
            })
            .await?;
        // Availability travels with presence, so streams see a busy agent at once.
        let online = self.is_streaming(agent_id).await?;
        self.announce_presence(agent_id, online).await;
        Ok(agent)
    }

    /// Whether any agent exists (a fresh workspace has none).
    pub async fn has_agents(&self) -> Outcome<bool> {
        self.read(|store| Ok(store.has_agents()?)).await
    }
}
