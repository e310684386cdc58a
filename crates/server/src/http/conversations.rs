//! The feed, search, and every conversation and contact mutation.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use switchboard_proto::{ledger::ConversationEvent, *};
use utoipa::IntoParams;

use super::AppState;
use crate::{
    error::{ApiError, ApiResult, Json, Path, Query},
    workspace::{ConversationAction, Viewer},
};

/// Largest page of the feed one request returns.
pub const MAX_SYNC_LIMIT: usize = 1000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SyncParams {
    /// The cursor (`next` of the last page applied); 0 bootstraps.
    #[serde(default)]
    pub since: i64,
    /// The `check` that came with `since`: a cursor that no longer names the same change (the
    /// server was restored from an older backup) is answered `feed_rewound` (409).
    #[serde(default)]
    pub check: Option<String>,
    /// At most this many changes (1 to 1000, default 500).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of the change feed after `since`.
#[utoipa::path(get, path = "/api/v1/sync", tag = "feed", security(("bearer" = [])), params(SyncParams),
    responses((status = 200, body = SyncPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`feed_rewound`: bootstrap again from `since=0`", body = ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<SyncParams>,
) -> ApiResult<Json<SyncPage>> {
    if params.since < 0 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidQuery, "since must be >= 0"));
    }
    let limit = params.limit.unwrap_or(500);
    if !(1..=MAX_SYNC_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
            "limit must be 1 to 1000",
        ));
    }
    Ok(Json(state.workspace.sync(&viewer, params.since, params.check, limit).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// What to look for: words (the last one as a prefix), or digits of a phone number.
    pub q: String,
    /// At most this many hits of each kind (1 to 200, default 50).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// No stored text holds a NUL (policy.rs refuses it); SQLite's full-text query fails on one and
/// PostgreSQL can't take one in text, so a query with one is refused alike on both backends.
fn no_nul_in_query(q: &str) -> ApiResult<()> {
    if q.contains('\0') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
            "q may not contain a NUL character",
        ));
    }
    Ok(())
}

fn search_limit(limit: Option<usize>) -> ApiResult<usize> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
            "limit must be 1 to 200",
        ));
    }
    Ok(limit)
}

/// Search messages and contacts; only conversations in inboxes the caller may see.
#[utoipa::path(get, path = "/api/v1/search", tag = "feed", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let limit = search_limit(params.limit)?;
    no_nul_in_query(&params.q)?;
    Ok(Json(state.workspace.search(&viewer, params.q, limit).await?))
}

async fn act(
    state: &AppState,
    viewer: &Viewer,
    id: Id,
    action: ConversationAction,
) -> ApiResult<Json<ConversationResult>> {
    Ok(Json(state.workspace.act(viewer, id, action).await?))
}

/// Reply to the customer, or add an internal note (`@name` mentions agents).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = SendMessage,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<SendMessage>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Send(request)).await
}

/// Assign (or claim, with `expected_assignee_id: null`) a conversation; compare-and-set when
/// `expected_assignee_id` is given.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = AssignRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<AssignRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Assign(request)).await
}

/// Open, mark pending, snooze until a time, or resolve.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/status", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = StatusRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<StatusRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Status(request)).await
}

/// Add and remove labels (never replace-all).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/labels", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = LabelsRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn labels(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<LabelsRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Labels(request)).await
}

/// Set the priority.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/priority", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = PriorityRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn priority(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<PriorityRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Priority(request)).await
}

/// Escalate (`escalated: true`, with an optional note) or de-escalate. Escalating an escalated
/// conversation, or de-escalating one that isn't, changes nothing.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/escalation", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = EscalationRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn escalation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<EscalationRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Escalation(request)).await
}

/// Move the caller's read marker.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = ReadRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Json(request): Json<ReadRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Read(request)).await
}

/// Queue a failed reply for delivery again (after an admin fixed the inbox's connector, or once
/// the provider's error has passed). Only a failed outgoing message; replaying `client_id`
/// returns the first answer.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message_id}/retry", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("message_id" = uuid::Uuid, Path)), request_body = RetryRequest,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, message_id)): Path<(Id, Id)>,
    Json(request): Json<RetryRequest>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Retry { message_id, request }).await
}

/// Pin for the caller (idempotent).
#[utoipa::path(put, path = "/api/v1/conversations/{id}/pin", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody)))]
pub async fn pin(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Pin { pinned: true }).await
}

/// Unpin for the caller (idempotent).
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/pin", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody)))]
pub async fn unpin(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<ConversationResult>> {
    act(&state, &viewer, id, ConversationAction::Pin { pinned: false }).await
}

/// Start an outbound conversation (a template where the channel needs one).
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    request_body = CreateConversation,
    responses((status = 200, body = ConversationResult), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateConversation>,
) -> ApiResult<Json<ConversationResult>> {
    Ok(Json(state.workspace.create_conversation(&viewer, request).await?))
}

pub use switchboard_proto::exports::ExportFormat;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportParams {
    #[serde(default)]
    pub format: Option<ExportFormat>,
}

/// The conversation's event ledger, oldest first: every state change with who caused it and the
/// cycle it belongs to (a reopened conversation starts a new cycle).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/events", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<ConversationEvent>), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<Vec<ConversationEvent>>> {
    Ok(Json(state.workspace.events(&viewer, id).await?))
}

/// Why routing gave the conversation to whom (its last decision, with every candidate as they
/// stood), and whom it would pick now, with why each member would be passed over. Leads and admins.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/routing-explain", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RoutingExplanation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn routing_explain(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
) -> ApiResult<Json<RoutingExplanation>> {
    Ok(Json(state.workspace.routing_explain(&viewer, id).await?))
}

/// Routing's queue: conversations waiting for an agent in the routed inboxes the caller sees, in
/// the order routing hands them out. Leads and admins.
#[utoipa::path(get, path = "/api/v1/routing/queue", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = Vec<QueuedConversation>), (status = 403, body = ErrorBody)))]
pub async fn routing_queue(
    State(state): State<AppState>,
    viewer: Viewer,
) -> ApiResult<Json<Vec<QueuedConversation>>> {
    Ok(Json(state.workspace.routing_queue(&viewer).await?))
}

/// Every active agent as routing sees them: availability, connected, load against capacity,
/// parked (pending and snoozed) conversations, and whether routing could give them more. Leads
/// and admins.
#[utoipa::path(get, path = "/api/v1/workload", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Vec<AgentWorkload>), (status = 403, body = ErrorBody)))]
pub async fn workload(State(state): State<AppState>, viewer: Viewer) -> ApiResult<Json<Vec<AgentWorkload>>> {
    Ok(Json(state.workspace.workload(&viewer).await?))
}

/// The conversation's transcript, as JSON or plain text (audited as `export.transcript`).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/export", tag = "conversations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ExportParams),
    responses((status = 200, body = Transcript),
        (status = 403, description = "`export_approval_required`: the inbox holds agents' exports; ask with `POST /api/v1/export-requests`", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Id>,
    Query(params): Query<ExportParams>,
) -> ApiResult<Response> {
    let format = params.format.unwrap_or(ExportFormat::Json);
    let transcript = state.workspace.export_transcript(&viewer, id, format).await?;
    transcript_response(&state, &viewer, transcript, format).await
}

/// A transcript in the asked format (a held export's download answers the same).
pub(super) async fn transcript_response(
    state: &AppState,
    viewer: &Viewer,
    transcript: Transcript,
    format: ExportFormat,
) -> ApiResult<Response> {
    Ok(match format {
        ExportFormat::Json => Json(transcript).into_response(),
        ExportFormat::Txt => {
            let agents = state.workspace.directory(viewer, EntityKind::Agent).await?;
            let text = transcript_text(&transcript, &agents);
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
        }
    })
}

/// A plain-text transcript: one line per message, `[time UTC] Sender: text`.
fn transcript_text(transcript: &Transcript, agents: &[serde_json::Value]) -> String {
    let agent_name = |id: Id| {
        agents
            .iter()
            .find(|a| a["id"] == serde_json::Value::String(id.to_string()))
            .and_then(|a| a["name"].as_str())
            .unwrap_or("agent")
            .to_owned()
    };
    let mut out = format!(
        "Conversation {} with {} on {} ({})\n\n",
        transcript.conversation.id, transcript.contact.name, transcript.inbox.name, transcript.inbox.channel
    );
    for message in &transcript.messages {
        let who = match (message.kind, message.sender) {
            (MessageKind::Outgoing, Sender::System) => "Automatic reply".to_owned(),
            (MessageKind::Activity, _) | (_, Sender::System) => "—".to_owned(),
            (MessageKind::Note, Sender::Agent { id }) => format!("{} (note)", agent_name(id)),
            (_, Sender::Agent { id }) => agent_name(id),
            (_, Sender::Contact { .. }) => transcript.contact.name.clone(),
        };
        out.push_str(&format!("[{}] {who}: {}\n", utc_time(message.created_at), message.body));
        for attachment in &message.attachments {
            out.push_str(&format!("    attachment: {} ({} bytes)\n", attachment.file_name, attachment.size));
        }
    }
    out
}

/// `YYYY-MM-DD HH:MM` in UTC, from epoch milliseconds (the raw number past jiff's ±9999 years).
fn utc_time(millis: Millis) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map_or_else(|_| millis.to_string(), |at| at.strftime("%Y-%m-%d %H:%M").to_string())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ContactParams {
    /// Name, email, or digits of a phone number; empty lists the newest contacts.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Find contacts by name, phone or email.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", security(("bearer" = [])), params(ContactParams),
    responses((status = 200, body = Vec<Contact>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn find_contacts(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<ContactParams>,
) -> ApiResult<Json<Vec<Contact>>> {
    let limit = search_limit(params.limit)?;
    no_nul_in_query(&params.q)?;
    Ok(Json(state.workspace.find_contacts(&viewer, params.q, limit).await?))
}

/// Create a contact; its id is the `client_id`.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", security(("bearer" = [])), request_body = CreateContact,
    responses((status = 200, body = ContactResult), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Json(request): Json<CreateContact>,
) -> ApiResult<Json<ContactResult>> {
    Ok(Json(state.workspace.create_contact(&viewer, request).await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_time_formats_known_instants() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00");
        assert_eq!(super::utc_time(1_795_219_200_000), "2026-11-21 00:00");
        assert_eq!(super::utc_time(951_782_400_000 + 3_723_000), "2000-02-29 01:02");
    }
}
