//! The HTTP side of the protocol: sign-in, feed pages, mutations, uploads and downloads, with
//! failures sorted into "retry later" (network, 5xx, 429, a 401 that isn't the server's), "signed
//! out" (the server's 401) and "refused" (4xx).

use std::{path::Path, time::Duration};

use reqwest::StatusCode;
use serde::{de::DeserializeOwned, Serialize};
use switchboard_proto::{audit::*, *};
use tokio::io::AsyncWriteExt;

use crate::{
    error::{CoreError, CoreResult},
    keychain::Token,
    outbox::Action,
};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Uploads and downloads stream large files; past this the transfer is abandoned (and retried).
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for one server, signed in with one device token.
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    token: Token,
    http: reqwest::Client,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("base", &self.base).field("token", &self.token).finish()
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The server URL without a trailing slash.
pub fn normalize_base(server_url: &str) -> String {
    server_url.trim().trim_end_matches('/').to_owned()
}

fn network(error: reqwest::Error) -> CoreError {
    CoreError::Network(error.to_string())
}

/// Sorts a failed response into the error kinds the sync engine acts on.
async fn failure(response: reqwest::Response) -> CoreError {
    let status = response.status();
    let body: Option<ErrorBody> = response.json().await.ok();
    let (code, message) = match &body {
        Some(body) => (body.error.code, body.error.message.clone()),
        None => (ErrorCode::Unknown, format!("the server answered {status}")),
    };
    if status == StatusCode::UNAUTHORIZED {
        if body.is_none() {
            // Something between us and the server refused us (a proxy, a gateway, a captive
            // portal), not the server, which always says why. Signing out would forget the
            // account's cache and whatever waits to be sent, so this is tried again later.
            return CoreError::Network(format!(
                "{status} without the server's error body (a proxy in between?)"
            ));
        }
        // A wrong password or second-factor code, or a code still to give, is the sign-in's
        // answer, not the end of a session.
        if !matches!(
            code,
            ErrorCode::InvalidCredentials | ErrorCode::InvalidSignature | ErrorCode::TwoFactorRequired
        ) {
            return CoreError::SignedOut(message);
        }
    }
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return CoreError::Network(format!("{status}: {message}"));
    }
    let (current_assignee_id, conversation_id) =
        body.map(|b| (b.error.current_assignee_id, b.error.conversation_id)).unwrap_or_default();
    CoreError::Rejected { code, message, current_assignee_id, conversation_id }
}

async fn parse<T: DeserializeOwned>(response: reqwest::Response) -> CoreResult<T> {
    if !response.status().is_success() {
        return Err(failure(response).await);
    }
    let body = response.bytes().await.map_err(|e| CoreError::Network(format!("reading the answer: {e}")))?;
    tracing::debug_span!("decode", bytes = body.len())
        .in_scope(|| serde_json::from_slice(&body))
        .map_err(|e| CoreError::Network(format!("reading the answer: {e}")))
}

/// An answer with no body: `Ok` on success, else the server's refusal.
async fn no_content(response: reqwest::Response) -> CoreResult<()> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(failure(response).await)
    }
}

/// Signs in and returns the device token and agent. `two_factor_code` is the authenticator's
/// code or a recovery code, for an agent the server answered `two_factor_required`. Too many
/// failed sign-ins answer `Rejected` with `rate_limited` (a person is waiting: no silent retry).
pub async fn login(
    server_url: &str,
    email: &str,
    password: &str,
    two_factor_code: Option<&str>,
    device_name: &str,
) -> CoreResult<LoginResponse> {
    let response = http_client()
        .post(format!("{}/api/v1/auth/login", normalize_base(server_url)))
        .timeout(REQUEST_TIMEOUT)
        .json(&LoginRequest {
            email: email.into(),
            password: password.into(),
            device_name: device_name.into(),
            two_factor_code: two_factor_code.map(str::trim).filter(|code| !code.is_empty()).map(Into::into),
        })
        .send()
        .await
        .map_err(network)?;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        let message = match response.json::<ErrorBody>().await {
            Ok(body) => body.error.message,
            Err(_) => "too many failed sign-ins; try again later".to_owned(),
        };
        return Err(CoreError::Rejected {
            code: ErrorCode::RateLimited,
            message,
            current_assignee_id: None,
            conversation_id: None,
        });
    }
    parse(response).await
}

impl ApiClient {
    pub fn new(server_url: &str, token: Token) -> Self {
        ApiClient { base: normalize_base(server_url), token, http: http_client() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> &Token {
        &self.token
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CoreResult<T> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// Changes the signed-in agent's own profile (`PATCH /me`); answers the agent as now stored.
    /// Not an outbox action: the caller decides what a failure means (see
    /// [`crate::intents::set_availability`]).
    pub async fn update_me(&self, update: &UpdateMe) -> CoreResult<Agent> {
        let response = self
            .http
            .patch(format!("{}/api/v1/me", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(update)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CoreResult<T> {
        let response = self
            .http
            .patch(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> CoreResult<T> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// A conversation's whole thread as the server exports it (`GET /conversations/{id}/export`,
    /// which the server records in its audit trail).
    pub async fn transcript(&self, conversation_id: Id) -> CoreResult<Transcript> {
        self.get(&format!("/api/v1/conversations/{conversation_id}/export?format=json")).await
    }

    /// Asks a lead to approve a transcript export the inbox holds (`POST /export-requests`).
    pub async fn request_export(
        &self,
        request: &switchboard_proto::exports::NewExportRequest,
    ) -> CoreResult<switchboard_proto::exports::ExportRequest> {
        self.post("/api/v1/export-requests", request).await
    }

    /// Export requests the agent may see (their own; a lead's inboxes'; all for an admin).
    pub async fn export_requests(
        &self,
        pending_only: bool,
    ) -> CoreResult<Vec<switchboard_proto::exports::ExportRequest>> {
        self.get(&format!("/api/v1/export-requests?pending={pending_only}")).await
    }

    /// A lead's or admin's decision on a pending export request.
    pub async fn decide_export(
        &self,
        id: Id,
        decision: &switchboard_proto::exports::ExportDecision,
    ) -> CoreResult<switchboard_proto::exports::ExportRequest> {
        self.post(&format!("/api/v1/export-requests/{id}/decision"), decision).await
    }

    /// An approved export request's transcript (asked as JSON), once.
    pub async fn download_export(&self, id: Id) -> CoreResult<Transcript> {
        self.get(&format!("/api/v1/export-requests/{id}/download")).await
    }

    /// The longest idle time before the app locks that an admin requires.
    pub async fn lock_policy(&self) -> CoreResult<switchboard_proto::exports::LockPolicy> {
        self.get("/api/v1/settings/lock").await
    }

    /// Sets (admins) the longest idle time before the app locks, or lifts it.
    pub async fn set_lock_policy(
        &self,
        policy: &switchboard_proto::exports::LockPolicy,
    ) -> CoreResult<switchboard_proto::exports::LockPolicy> {
        self.put("/api/v1/settings/lock", policy).await
    }

    /// Changes an inbox's settings (`PATCH /inboxes/{id}`, admins); answers the inbox as now
    /// stored. Not an outbox action (see [`crate::settings`]).
    pub async fn update_inbox(&self, inbox_id: Id, update: &UpdateInbox) -> CoreResult<Inbox> {
        self.patch(&format!("/api/v1/inboxes/{inbox_id}"), update).await
    }

    /// How an inbox reaches its channel, without secrets (`GET /inboxes/{id}/connector`, admins).
    pub async fn inbox_connector(&self, inbox_id: Id) -> CoreResult<ConnectorInfo> {
        self.get(&format!("/api/v1/inboxes/{inbox_id}/connector")).await
    }

    /// Creates an inbox with its connector (`POST /inboxes`, admins).
    pub async fn create_inbox(&self, inbox: &CreateInbox) -> CoreResult<CreatedInbox> {
        self.post("/api/v1/inboxes", inbox).await
    }

    /// Tries an inbox's stored connector settings against the provider
    /// (`POST /inboxes/{id}/connector/test`, admins).
    pub async fn test_connector(&self, inbox_id: Id) -> CoreResult<ConnectorTest> {
        self.post(&format!("/api/v1/inboxes/{inbox_id}/connector/test"), &serde_json::json!({})).await
    }

    /// Changes an agent (`PATCH /agents/{id}`, admins); answers the agent as now stored.
    pub async fn update_agent(&self, agent_id: Id, update: &UpdateAgent) -> CoreResult<Agent> {
        self.patch(&format!("/api/v1/agents/{agent_id}"), update).await
    }

    /// A GET with query parameters (encoded by reqwest, so a zone like `Etc/GMT+3` survives).
    async fn get_query<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> CoreResult<T> {
        let response = self.get_response(path, query).await?;
        parse(response).await
    }

    async fn get_response(&self, path: &str, query: &[(&str, String)]) -> CoreResult<reqwest::Response> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .query(query)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        Ok(response)
    }

    /// A report as JSON (`GET /reports/{summary,timeseries,conversations,live}`); `query` is the
    /// period, zone, grouping and interval as the server names them.
    pub async fn report<T: DeserializeOwned>(&self, kind: &str, query: &[(&str, String)]) -> CoreResult<T> {
        self.get_query(&format!("/api/v1/reports/{kind}"), query).await
    }

    /// A report as the server writes it in CSV (`format=csv`, with a byte-order mark so a
    /// spreadsheet reads non-Latin names right): the bytes, untouched.
    pub async fn report_csv(&self, kind: &str, query: &[(&str, String)]) -> CoreResult<Vec<u8>> {
        let mut query = query.to_vec();
        query.push(("format", "csv".into()));
        query.push(("bom", "1".into()));
        let response = self.get_response(&format!("/api/v1/reports/{kind}"), &query).await?;
        let bytes =
            response.bytes().await.map_err(|e| CoreError::Network(format!("reading the answer: {e}")))?;
        Ok(bytes.to_vec())
    }

    /// Every active agent as routing sees them now (`GET /workload`, leads and admins).
    pub async fn workload(&self) -> CoreResult<Vec<AgentWorkload>> {
        self.get("/api/v1/workload").await
    }

    /// The conversations waiting in routing's queue, next first (`GET /routing/queue`, leads and
    /// admins).
    pub async fn routing_queue(&self) -> CoreResult<Vec<QueuedConversation>> {
        self.get("/api/v1/routing/queue").await
    }

    /// Everything the server holds about a contact, as a zip (`GET /contacts/{id}/export`,
    /// admins; the server records the export).
    pub async fn export_contact(&self, contact_id: Id) -> CoreResult<Vec<u8>> {
        let response = self.get_response(&format!("/api/v1/contacts/{contact_id}/export"), &[]).await?;
        let bytes =
            response.bytes().await.map_err(|e| CoreError::Network(format!("reading the answer: {e}")))?;
        Ok(bytes.to_vec())
    }

    /// Erases a contact and everything about them (`POST /contacts/{id}/erase`, admins);
    /// `confirm` is their name typed again.
    pub async fn erase_contact(&self, contact_id: Id, confirm: &str) -> CoreResult<privacy::Erasure> {
        let request = privacy::EraseContact { confirm: confirm.into() };
        self.post(&format!("/api/v1/contacts/{contact_id}/erase"), &request).await
    }

    /// Merges `other_id` into `contact_id` (leads and admins).
    pub async fn merge_contacts(
        &self,
        contact_id: Id,
        request: &switchboard_proto::contacts::MergeContacts,
    ) -> CoreResult<switchboard_proto::contacts::MergeResult> {
        self.post(&format!("/api/v1/contacts/{contact_id}/merge"), request).await
    }

    pub async fn create_custom_field(
        &self,
        request: &switchboard_proto::contacts::CreateCustomField,
    ) -> CoreResult<switchboard_proto::contacts::CustomField> {
        self.post("/api/v1/contact-fields", request).await
    }

    pub async fn delete_custom_field(&self, field_id: Id) -> CoreResult<()> {
        self.delete(&format!("/api/v1/contact-fields/{field_id}")).await
    }

    async fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CoreResult<T> {
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// A PUT the server answers with 204 and no body.
    async fn put_no_content<B: Serialize>(&self, path: &str, body: &B) -> CoreResult<()> {
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(network)?;
        no_content(response).await
    }

    async fn delete(&self, path: &str) -> CoreResult<()> {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        no_content(response).await
    }

    /// Adds an agent (`POST /agents`, admins).
    pub async fn create_agent(&self, request: &CreateAgent) -> CoreResult<Agent> {
        self.post("/api/v1/agents", request).await
    }

    /// Signs an agent out of every device (`DELETE /agents/{id}/devices`, admins).
    pub async fn sign_out_agent(&self, agent_id: Id) -> CoreResult<DevicesSignedOut> {
        let response = self
            .http
            .delete(format!("{}/api/v1/agents/{agent_id}/devices", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// The signed-in devices the caller may see (`GET /devices`; an admin's: everyone's).
    pub async fn devices(&self) -> CoreResult<Vec<Device>> {
        self.get("/api/v1/devices").await
    }

    /// Signs a device out (`DELETE /devices/{id}`).
    pub async fn revoke_device(&self, device_id: Id) -> CoreResult<()> {
        self.delete(&format!("/api/v1/devices/{device_id}")).await
    }

    /// Adds a team (`POST /teams`, admins).
    pub async fn create_team(&self, request: &CreateTeam) -> CoreResult<Team> {
        self.post("/api/v1/teams", request).await
    }

    /// Renames a team or sets its members (`PATCH /teams/{id}`, admins).
    pub async fn update_team(&self, team_id: Id, update: &UpdateTeam) -> CoreResult<Team> {
        self.patch(&format!("/api/v1/teams/{team_id}"), update).await
    }

    /// Adds a label (`POST /labels`, leads and admins).
    pub async fn create_label(&self, request: &CreateLabel) -> CoreResult<Label> {
        self.post("/api/v1/labels", request).await
    }

    /// Renames or recolours a label (`PATCH /labels/{id}`, leads and admins).
    pub async fn update_label(&self, label_id: Id, update: &UpdateLabel) -> CoreResult<Label> {
        self.patch(&format!("/api/v1/labels/{label_id}"), update).await
    }

    /// Deletes a label (`DELETE /labels/{id}`, leads and admins).
    pub async fn delete_label(&self, label_id: Id) -> CoreResult<()> {
        self.delete(&format!("/api/v1/labels/{label_id}")).await
    }

    /// Adds a canned response (`POST /canned-responses`; team-wide for leads and admins).
    pub async fn create_canned(&self, request: &CreateCannedResponse) -> CoreResult<CannedResponse> {
        self.post("/api/v1/canned-responses", request).await
    }

    /// Changes a canned response (`PATCH /canned-responses/{id}`).
    pub async fn update_canned(&self, id: Id, update: &UpdateCannedResponse) -> CoreResult<CannedResponse> {
        self.patch(&format!("/api/v1/canned-responses/{id}"), update).await
    }

    /// Deletes a canned response (`DELETE /canned-responses/{id}`).
    pub async fn delete_canned(&self, id: Id) -> CoreResult<()> {
        self.delete(&format!("/api/v1/canned-responses/{id}")).await
    }

    /// Whether this agent signs in with a second factor (`GET /me/two-factor`).
    pub async fn two_factor_status(&self) -> CoreResult<TwoFactorStatus> {
        self.get("/api/v1/me/two-factor").await
    }

    /// Starts enrolling a second factor: a new secret and its `otpauth://` URI.
    pub async fn begin_two_factor(&self) -> CoreResult<TwoFactorEnrolment> {
        self.post("/api/v1/me/two-factor", &serde_json::json!({})).await
    }

    /// Confirms the enrolment with a code; answers the recovery codes, once.
    pub async fn confirm_two_factor(&self, code: &str) -> CoreResult<TwoFactorConfirmed> {
        self.post("/api/v1/me/two-factor/confirm", &TwoFactorCode { code: code.trim().into() }).await
    }

    /// Checks the signed-in agent's password (the app lock). A wrong one is `Rejected` with
    /// `invalid_credentials`; too many are `Rejected` with `rate_limited` (not a network failure,
    /// which would let the lock fall back to its local check).
    pub async fn verify_password(&self, password: &str) -> CoreResult<()> {
        let response = self
            .http
            .post(format!("{}/api/v1/me/verify-password", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(&VerifyPassword { password: password.into() })
            .send()
            .await
            .map_err(network)?;
        if response.status().is_success() {
            return Ok(());
        }
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let body: Option<ErrorBody> = response.json().await.ok();
            let message = body.map_or_else(|| "too many wrong passwords".into(), |b| b.error.message);
            return Err(CoreError::Rejected {
                code: ErrorCode::RateLimited,
                message,
                current_assignee_id: None,
                conversation_id: None,
            });
        }
        Err(failure(response).await)
    }

    /// Turns the second factor off, with a current code or a recovery code.
    pub async fn disable_two_factor(&self, code: &str) -> CoreResult<()> {
        let response = self
            .http
            .delete(format!("{}/api/v1/me/two-factor", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .json(&TwoFactorCode { code: code.trim().into() })
            .send()
            .await
            .map_err(network)?;
        no_content(response).await
    }

    /// Who must sign in with a second factor and who does (`GET /two-factor`, admins).
    pub async fn two_factor_overview(&self) -> CoreResult<TwoFactorOverview> {
        self.get("/api/v1/two-factor").await
    }

    /// Requires a second factor of every agent, or no longer (`PUT /two-factor/required`, admins).
    pub async fn require_two_factor(&self, required: bool) -> CoreResult<()> {
        self.put_no_content("/api/v1/two-factor/required", &TwoFactorRequirement { required }).await
    }

    /// Requires a second factor of one agent, or no longer in particular
    /// (`PUT /agents/{id}/two-factor/required`, admins).
    pub async fn require_agent_two_factor(&self, agent_id: Id, required: bool) -> CoreResult<()> {
        let path = format!("/api/v1/agents/{agent_id}/two-factor/required");
        self.put_no_content(&path, &TwoFactorRequirement { required }).await
    }

    /// A page of the audit trail, newest first (`GET /audit`, admins).
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: usize,
    ) -> CoreResult<Vec<AuditEntry>> {
        let mut query = filter.query();
        if let Some(before) = before {
            query.push(("before", before.to_string()));
        }
        query.push(("limit", limit.to_string()));
        self.get_query("/api/v1/audit", &query).await
    }

    /// Every row the filter matches, oldest first; the server records the export
    /// (`GET /audit/export`, admins).
    pub async fn audit_export(&self, filter: &AuditFilter) -> CoreResult<Vec<AuditEntry>> {
        self.get_query("/api/v1/audit/export", &filter.query()).await
    }

    /// Whether the trail's hash chain holds (`GET /audit/verify`, admins).
    pub async fn verify_audit(&self) -> CoreResult<AuditVerification> {
        self.get("/api/v1/audit/verify").await
    }

    /// Every automation rule in run order (`GET /automation-rules`). The desktop reads them from
    /// its cache (the feed carries them); this is the server's own answer.
    pub async fn automation_rules(&self) -> CoreResult<Vec<automation::AutomationRule>> {
        self.get("/api/v1/automation-rules").await
    }

    /// Adds a rule (`POST /automation-rules`, leads and admins). Not an outbox action (see
    /// [`crate::settings`]).
    pub async fn create_rule(
        &self,
        input: &automation::AutomationRuleInput,
    ) -> CoreResult<automation::AutomationRule> {
        self.post("/api/v1/automation-rules", input).await
    }

    /// Replaces a rule with a new version (`PUT /automation-rules/{id}`).
    pub async fn update_rule(
        &self,
        rule_id: Id,
        input: &automation::AutomationRuleInput,
    ) -> CoreResult<automation::AutomationRule> {
        self.put(&format!("/api/v1/automation-rules/{rule_id}"), input).await
    }

    /// Deletes a rule (`DELETE /automation-rules/{id}`).
    pub async fn delete_rule(&self, rule_id: Id) -> CoreResult<()> {
        self.delete(&format!("/api/v1/automation-rules/{rule_id}")).await
    }

    /// Puts every rule in the order they run (`PUT /automation-rules/order`).
    pub async fn order_rules(&self, ids: Vec<Id>) -> CoreResult<Vec<automation::AutomationRule>> {
        self.put("/api/v1/automation-rules/order", &automation::RuleOrder { ids }).await
    }

    /// A saved rule's dry run on one conversation (`POST /automation-rules/{id}/test`): the
    /// condition trace and what each action would do; the server writes nothing.
    pub async fn test_rule(
        &self,
        rule_id: Id,
        conversation_id: Id,
    ) -> CoreResult<automation::RuleTestResult> {
        self.post(
            &format!("/api/v1/automation-rules/{rule_id}/test"),
            &automation::RuleTest { conversation_id },
        )
        .await
    }

    /// Which of the latest conversations conditions (saved or not) hold for now
    /// (`POST /automation-rules/preview`).
    pub async fn preview_rule(
        &self,
        conditions: &automation::Condition,
        limit: Option<u32>,
    ) -> CoreResult<automation::RulePreviewResult> {
        let preview = automation::RulePreview { conditions: conditions.clone(), limit };
        self.post("/api/v1/automation-rules/preview", &preview).await
    }

    /// A rule's run log, newest first, 100 a page (`GET /automation-rules/{id}/runs`); `before`
    /// is the oldest run id of the page before.
    pub async fn rule_runs(
        &self,
        rule_id: Id,
        before: Option<Id>,
    ) -> CoreResult<Vec<automation::AutomationRun>> {
        let after = before.map(|id| format!("?before={id}")).unwrap_or_default();
        self.get(&format!("/api/v1/automation-rules/{rule_id}/runs{after}")).await
    }

    /// The rules that ran on a conversation, newest first (`GET /conversations/{id}/automation-runs`).
    pub async fn conversation_runs(&self, conversation_id: Id) -> CoreResult<Vec<automation::AutomationRun>> {
        self.get(&format!("/api/v1/conversations/{conversation_id}/automation-runs")).await
    }

    /// One page of the feed.
    /// A fresh device's priority bootstrap (`GET /sync/bootstrap`); `None` from a server that has
    /// none (older: the client bootstraps from `/sync?since=0`).
    pub async fn bootstrap(&self) -> CoreResult<Option<BootstrapSnapshot>> {
        match self.get("/api/v1/sync/bootstrap").await {
            Ok(snapshot) => Ok(Some(snapshot)),
            Err(CoreError::Rejected { code: ErrorCode::NotFound | ErrorCode::MethodNotAllowed, .. }) => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// A page of the history below a snapshot's S, newest first (`GET /sync/backfill`).
    pub async fn backfill(
        &self,
        upto: i64,
        check: Option<&str>,
        before: i64,
        limit: usize,
    ) -> CoreResult<BackfillPage> {
        let check = check.map(|check| format!("&check={check}")).unwrap_or_default();
        self.get(&format!("/api/v1/sync/backfill?upto={upto}{check}&before={before}&limit={limit}")).await
    }

    /// A page of a thread's messages older than `before`, newest first
    /// (`GET /conversations/{id}/history`).
    pub async fn history(
        &self,
        conversation_id: Id,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> CoreResult<HistoryPage> {
        let before =
            before.map(|b| format!("&before_at={}&before_id={}", b.created_at, b.id)).unwrap_or_default();
        self.get(&format!("/api/v1/conversations/{conversation_id}/history?limit={limit}{before}")).await
    }

    pub async fn sync(&self, since: i64, check: Option<&str>, limit: usize) -> CoreResult<SyncPage> {
        let check = check.map(|check| format!("&check={check}")).unwrap_or_default();
        let response = self
            .http
            .get(format!("{}/api/v1/sync?since={since}{check}&limit={limit}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// Sends one outbox action; returns the feed seq its effect committed at.
    pub async fn send(&self, action: &Action, attachment_ids: Vec<Id>) -> CoreResult<i64> {
        let conversation = |id: &Id, what: &str| format!("/api/v1/conversations/{id}/{what}");
        match action {
            Action::Send { conversation_id, request, .. } => {
                let request = SendMessage { attachment_ids, ..request.clone() };
                let result: ConversationResult =
                    self.post(&conversation(conversation_id, "messages"), &request).await?;
                Ok(result.seq)
            }
            Action::Assign { conversation_id, request } => self
                .post::<_, ConversationResult>(&conversation(conversation_id, "assign"), request)
                .await
                .map(|r| r.seq),
            Action::Status { conversation_id, request } => self
                .post::<_, ConversationResult>(&conversation(conversation_id, "status"), request)
                .await
                .map(|r| r.seq),
            Action::Labels { conversation_id, request } => self
                .post::<_, ConversationResult>(&conversation(conversation_id, "labels"), request)
                .await
                .map(|r| r.seq),
            Action::Priority { conversation_id, request } => self
                .post::<_, ConversationResult>(&conversation(conversation_id, "priority"), request)
                .await
                .map(|r| r.seq),
            Action::Escalation { conversation_id, request } => self
                .post::<_, ConversationResult>(&conversation(conversation_id, "escalation"), request)
                .await
                .map(|r| r.seq),
            Action::Read { conversation_id, request } => self
                .post::<_, ConversationResult>(&conversation(conversation_id, "read"), request)
                .await
                .map(|r| r.seq),
            Action::Retry { conversation_id, message_id, request } => self
                .post::<_, ConversationResult>(
                    &conversation(conversation_id, &format!("messages/{message_id}/retry")),
                    request,
                )
                .await
                .map(|r| r.seq),
            Action::Pin { conversation_id, pinned, .. } => {
                let url = format!("{}{}", self.base, conversation(conversation_id, "pin"));
                let request = if *pinned { self.http.put(url) } else { self.http.delete(url) };
                let response = request
                    .bearer_auth(self.token.expose())
                    .timeout(REQUEST_TIMEOUT)
                    .send()
                    .await
                    .map_err(network)?;
                parse::<ConversationResult>(response).await.map(|r| r.seq)
            }
            Action::CreateConversation { request } => {
                self.post::<_, ConversationResult>("/api/v1/conversations", request).await.map(|r| r.seq)
            }
            Action::CreateContact { request } => {
                self.post::<_, ContactResult>("/api/v1/contacts", request).await.map(|r| r.seq)
            }
            Action::UpdateContact { contact_id, request } => self
                .patch::<_, ContactResult>(&format!("/api/v1/contacts/{contact_id}"), request)
                .await
                .map(|r| r.seq),
            Action::CreateView { request } => {
                self.post::<_, views::SavedViewResult>("/api/v1/saved-views", request).await.map(|r| r.seq)
            }
            Action::UpdateView { view_id, request } => self
                .patch::<_, views::SavedViewResult>(&format!("/api/v1/saved-views/{view_id}"), request)
                .await
                .map(|r| r.seq),
            Action::DeleteView { view_id, client_id } => {
                let url = format!("{}/api/v1/saved-views/{view_id}?client_id={client_id}", self.base);
                let response = self
                    .http
                    .delete(url)
                    .bearer_auth(self.token.expose())
                    .timeout(REQUEST_TIMEOUT)
                    .send()
                    .await
                    .map_err(network)?;
                parse::<views::SavedViewResult>(response).await.map(|r| r.seq)
            }
            Action::QuickReply { reply_id, change } => self.send_quick_reply(*reply_id, change).await,
        }
    }

    /// Sends one quick-reply change (`/api/v1/quick-replies`); returns its feed seq.
    async fn send_quick_reply(
        &self,
        reply_id: Id,
        change: &crate::quick_reply_actions::QuickReplyChange,
    ) -> CoreResult<i64> {
        use crate::quick_reply_actions::QuickReplyChange as Change;
        use switchboard_proto::quick_replies::{QuickReplyMutation as Only, QuickReplyResult as Answer};
        let path = |what: &str| format!("/api/v1/quick-replies/{reply_id}{what}");
        let answer: Answer = match change {
            Change::Create { request } => self.post("/api/v1/quick-replies", request).await?,
            Change::Update { request } => self.patch(&path(""), request).await?,
            Change::Bind { request, .. } => self.put(&path("/slot"), request).await?,
            Change::Use { client_id } => self.post(&path("/uses"), &Only { client_id: *client_id }).await?,
            Change::Promote { client_id } => {
                self.post(&path("/promote"), &Only { client_id: *client_id }).await?
            }
            Change::Delete { client_id } => {
                let url = format!("{}{}?client_id={client_id}", self.base, path(""));
                let response = self
                    .http
                    .delete(url)
                    .bearer_auth(self.token.expose())
                    .timeout(REQUEST_TIMEOUT)
                    .send()
                    .await
                    .map_err(network)?;
                parse(response).await?
            }
        };
        Ok(answer.seq)
    }

    /// Uploads a file (streamed from disk) to send in a conversation.
    pub async fn upload(
        &self,
        conversation_id: Id,
        path: &Path,
        file_name: &str,
        content_type: &str,
    ) -> CoreResult<Attachment> {
        let file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let part = reqwest::multipart::Part::stream_with_length(body, length);
        self.post_attachment(conversation_id, part, file_name, content_type).await
    }

    /// Uploads a file held in memory (a sealed staged file, unsealed) to send in a conversation.
    pub async fn upload_bytes(
        &self,
        conversation_id: Id,
        bytes: Vec<u8>,
        file_name: &str,
        content_type: &str,
    ) -> CoreResult<Attachment> {
        self.post_attachment(conversation_id, reqwest::multipart::Part::bytes(bytes), file_name, content_type)
            .await
    }

    /// The upload both of the above make: `part` as the form's file, named and typed.
    async fn post_attachment(
        &self,
        conversation_id: Id,
        part: reqwest::multipart::Part,
        file_name: &str,
        content_type: &str,
    ) -> CoreResult<Attachment> {
        let part = part
            .file_name(file_name.to_owned())
            .mime_str(content_type)
            .map_err(|e| CoreError::Invalid(format!("content type {content_type:?}: {e}")))?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let response = self
            .http
            .post(format!("{}/api/v1/attachments?conversation_id={conversation_id}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(TRANSFER_TIMEOUT)
            .multipart(form)
            .send()
            .await
            .map_err(network)?;
        parse(response).await
    }

    /// Downloads an attachment into memory, answered only if its sha256 is `expected_sha256`.
    pub async fn download_bytes(&self, attachment_id: Id, expected_sha256: &str) -> CoreResult<Vec<u8>> {
        use sha2::{Digest, Sha256};
        let response = self
            .http
            .get(format!("{}/api/v1/attachments/{attachment_id}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(TRANSFER_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let bytes = response.bytes().await.map_err(network)?;
        if !hex::encode(Sha256::digest(&bytes)).eq_ignore_ascii_case(expected_sha256) {
            return Err(CoreError::Invalid(
                "the downloaded file does not match its checksum: it was damaged or replaced".into(),
            ));
        }
        Ok(bytes.to_vec())
    }

    /// Downloads an attachment to `target` (written to a temporary name, then renamed), which
    /// appears only once the whole file is there and its sha256 is `expected_sha256`: a damaged or
    /// substituted file is deleted, never kept.
    pub async fn download(&self, attachment_id: Id, expected_sha256: &str, target: &Path) -> CoreResult<u64> {
        use futures_util::StreamExt;
        use sha2::{Digest, Sha256};
        let response = self
            .http
            .get(format!("{}/api/v1/attachments/{attachment_id}", self.base))
            .bearer_auth(self.token.expose())
            .timeout(TRANSFER_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        let partial = target.with_extension("partial");
        let mut file = tokio::fs::File::create(&partial).await?;
        let mut stream = response.bytes_stream();
        let mut written = 0u64;
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(network)?;
            written += chunk.len() as u64;
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        drop(file);
        if !hex::encode(hasher.finalize()).eq_ignore_ascii_case(expected_sha256) {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(CoreError::Invalid(
                "the downloaded file does not match its checksum: it was damaged or replaced".into(),
            ));
        }
        tokio::fs::rename(&partial, target).await?;
        Ok(written)
    }

    /// Signs this device out on the server (its token stops working).
    pub async fn logout(&self) -> CoreResult<()> {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/logout", self.base))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        no_content(response).await
    }

    /// The WebSocket request for the stream after `since`, with the bearer token.
    pub fn stream_request(
        &self,
        since: i64,
        check: Option<&str>,
    ) -> CoreResult<tokio_tungstenite::tungstenite::handshake::client::Request> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let check = check.map(|check| format!("&check={check}")).unwrap_or_default();
        let url = format!("{}/api/v1/stream?since={since}{check}", self.base.replacen("http", "ws", 1));
        let mut request =
            url.into_client_request().map_err(|e| CoreError::Invalid(format!("stream URL: {e}")))?;
        let header = format!("Bearer {}", self.token.expose())
            .parse()
            .map_err(|_| CoreError::Invalid("the token is not a valid header".into()))?;
        request.headers_mut().insert("authorization", header);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: StatusCode, body: &str) -> reqwest::Response {
        http::Response::builder().status(status).body(body.to_owned()).expect("response").into()
    }

    fn server_error(code: &str) -> String {
        format!(r#"{{"error": {{"code": "{code}", "message": "from the server"}}}}"#)
    }

    #[tokio::test]
    async fn only_the_servers_own_401_signs_out() {
        let revoked = failure(response(StatusCode::UNAUTHORIZED, &server_error("token_revoked"))).await;
        assert!(
            matches!(revoked, CoreError::SignedOut(ref message) if message == "from the server"),
            "{revoked:?}"
        );
        let unknown_code =
            failure(response(StatusCode::UNAUTHORIZED, &server_error("session_expired"))).await;
        assert!(matches!(unknown_code, CoreError::SignedOut(_)), "a newer server's code: {unknown_code:?}");

        let proxy =
            failure(response(StatusCode::UNAUTHORIZED, "<html><body>Sign in to the proxy</body></html>"))
                .await;
        assert!(matches!(proxy, CoreError::Network(ref message) if message.contains("401")), "{proxy:?}");
        let empty = failure(response(StatusCode::UNAUTHORIZED, "")).await;
        assert!(matches!(empty, CoreError::Network(_)), "{empty:?}");

        let wrong_password =
            failure(response(StatusCode::UNAUTHORIZED, &server_error("invalid_credentials"))).await;
        assert!(
            matches!(wrong_password, CoreError::Rejected { code: ErrorCode::InvalidCredentials, .. }),
            "{wrong_password:?}"
        );
    }
}
