//! The HTTP surface: state, router, bearer authentication, and the JSON fallbacks, so that every
//! answer, even to a request no route matches, is the protocol's JSON.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod bootstrap;
pub mod channels;
pub mod contacts;
pub mod conversations;
pub mod exports;
pub mod files;
pub mod openapi;
pub mod privacy;
pub mod quick_replies;
pub mod reports;
pub mod saved_views;
pub mod sla;
pub mod stream;
pub mod widget;

use std::sync::Arc;

use axum::{
    extract::{DefaultBodyLimit, FromRequestParts},
    http::{request::Parts, StatusCode},
    routing::get,
    Router,
};
use switchboard_proto::ErrorCode;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    clock::Clock,
    error::ApiError,
    workspace::{Viewer, Workspace},
};

/// Largest JSON body accepted (inbound API messages carry base64 attachments, hence not tiny).
pub const JSON_BODY_LIMIT: usize = 48 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub workspace: Workspace,
    pub files: crate::files::FileStore,
    pub clock: Arc<dyn Clock>,
    pub shutdown: CancellationToken,
    /// See `ServerConfig::trusted_proxies`.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// See `ServerConfig::public_url`.
    pub public_url: Option<Arc<str>>,
}

impl AppState {
    pub fn new(
        workspace: Workspace,
        files: crate::files::FileStore,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Self {
        AppState { workspace, files, clock, shutdown, trusted_proxies: Arc::new([]), public_url: None }
    }
}

/// Every documented route, registered once: the router and the OpenAPI document are both made
/// from this list (`utoipa_axum` reads each handler's path and method from its `#[utoipa::path]`).
pub fn api_routes() -> OpenApiRouter<AppState> {
    // Uploads stream to disk with their own per-inbox limit, not the JSON body limit.
    let (schemas, paths, upload) = routes!(files::upload);
    let upload = (schemas, paths, upload.layer(DefaultBodyLimit::disable()));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::verify_password))
        .routes(routes!(auth::devices))
        .routes(routes!(auth::revoke_device))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(auth::two_factor, auth::begin_two_factor, auth::disable_two_factor))
        .routes(routes!(auth::confirm_two_factor))
        .routes(routes!(auth::reset_two_factor))
        .routes(routes!(auth::two_factor_overview))
        .routes(routes!(auth::require_two_factor))
        .routes(routes!(auth::require_agent_two_factor))
        .routes(routes!(conversations::sync))
        .routes(routes!(bootstrap::bootstrap))
        .routes(routes!(bootstrap::backfill))
        .routes(routes!(bootstrap::history))
        .routes(routes!(conversations::search))
        .routes(routes!(conversations::create))
        .routes(routes!(conversations::send))
        .routes(routes!(conversations::assign))
        .routes(routes!(conversations::status))
        .routes(routes!(conversations::labels))
        .routes(routes!(conversations::priority))
        .routes(routes!(conversations::escalation))
        .routes(routes!(conversations::read))
        .routes(routes!(conversations::retry))
        .routes(routes!(conversations::pin, conversations::unpin))
        .routes(routes!(conversations::export))
        .routes(routes!(exports::create_export_request, exports::export_requests))
        .routes(routes!(exports::decide_export_request))
        .routes(routes!(exports::download_export))
        .routes(routes!(exports::lock_policy, exports::set_lock_policy))
        .routes(routes!(conversations::events))
        .routes(routes!(conversations::routing_explain))
        .routes(routes!(conversations::routing_queue))
        .routes(routes!(conversations::workload))
        .routes(routes!(conversations::find_contacts, conversations::create_contact))
        .routes(routes!(contacts::contact, contacts::update_contact))
        .routes(routes!(contacts::merge_contacts))
        .routes(routes!(privacy::erase_contact))
        .routes(routes!(privacy::export_contact))
        .routes(routes!(privacy::retention, privacy::set_retention))
        .routes(routes!(contacts::create_custom_field))
        .routes(routes!(contacts::delete_custom_field))
        .routes(upload)
        .routes(routes!(files::download))
        .routes(routes!(admin::agents, admin::create_agent))
        .routes(routes!(admin::update_agent))
        .routes(routes!(admin::sign_out_agent))
        .routes(routes!(admin::teams, admin::create_team))
        .routes(routes!(admin::update_team))
        .routes(routes!(admin::inboxes, admin::create_inbox))
        .routes(routes!(admin::update_inbox))
        .routes(routes!(admin::labels, admin::create_label))
        .routes(routes!(admin::update_label, admin::delete_label))
        .routes(routes!(admin::sla_policies, admin::create_sla_policy))
        .routes(routes!(admin::apply_sla_policies))
        .routes(routes!(admin::update_sla_policy, admin::delete_sla_policy))
        .routes(routes!(sla::pin))
        .routes(routes!(sla::attainment))
        .routes(routes!(admin::canned, admin::create_canned))
        .routes(routes!(admin::update_canned, admin::delete_canned))
        .routes(routes!(quick_replies::create))
        .routes(routes!(quick_replies::usage))
        .routes(routes!(quick_replies::update, quick_replies::delete))
        .routes(routes!(quick_replies::bind))
        .routes(routes!(quick_replies::record_use))
        .routes(routes!(quick_replies::promote))
        .routes(routes!(saved_views::list, saved_views::create))
        .routes(routes!(saved_views::update, saved_views::delete))
        .routes(routes!(automation::rules, automation::create_rule))
        .routes(routes!(automation::order_rules))
        .routes(routes!(automation::preview_rule))
        .routes(routes!(automation::update_rule, automation::delete_rule))
        .routes(routes!(automation::test_rule))
        .routes(routes!(automation::rule_runs))
        .routes(routes!(automation::conversation_runs))
        .routes(routes!(audit::log))
        .routes(routes!(audit::verify))
        .routes(routes!(audit::export_log))
        .routes(routes!(reports::summary))
        .routes(routes!(reports::timeseries))
        .routes(routes!(reports::conversations))
        .routes(routes!(reports::live))
        .routes(routes!(reports::rebuild))
        .routes(routes!(channels::inbound))
        .routes(routes!(channels::delivery))
        .routes(routes!(channels::webhook_handshake, channels::webhook))
        .routes(routes!(channels::connector_info))
        .routes(routes!(channels::test_connector))
        .routes(routes!(widget::session))
        .routes(routes!(widget::messages, widget::send))
        .routes(routes!(widget::upload))
        .routes(routes!(widget::download))
        .routes(routes!(widget::seen))
        .routes(routes!(widget::email))
        .routes(routes!(widget::live::live))
}

pub fn router(state: AppState) -> Router {
    let (documented, _) = api_routes().split_for_parts();
    // The two routes the document does not describe: the WebSocket and the document itself.
    documented
        .route("/api/v1/stream", get(stream::upgrade))
        .route("/api/v1/openapi.json", get(openapi::serve))
        // The website widget's script (`http/widget.rs`): JavaScript, not JSON.
        .route("/widget/{file}", get(widget::script))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), widget::cors::check))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed, "method not allowed here")
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        // A device that must enrol a second factor first may do only that, or sign out.
        let path = parts.uri.path();
        let enrolling = path.starts_with("/api/v1/me/two-factor") || path == "/api/v1/auth/logout";
        Ok(state.workspace.authenticate_for(token.to_owned(), enrolling).await?)
    }
}
