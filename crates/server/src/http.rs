//! The HTTP surface: state, router, bearer authentication, and the JSON fallbacks, so that every
//! answer, even to a request no route matches, is the protocol's JSON.

pub mod admin;
pub mod auth;
pub mod channels;
pub mod conversations;
pub mod files;

// The handlers, by area, for the OpenAPI document.
pub use self::{
    admin as admin_routes, auth as auth_routes, channels as channel_routes,
    conversations as conversation_routes, files as file_routes,
};

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{DefaultBodyLimit, FromRequestParts},
    http::{request::Parts, StatusCode},
    routing::{delete, get, patch, post, put},
    Router,
};
use switchboard_proto::{ErrorCode, Id};
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::{
    clock::Clock,
    error::ApiError,
    workspace::{Viewer, Workspace},
};
pub use channels::{sign as sign_body, SIGNATURE_HEADER};

/// Largest JSON body accepted (inbound API messages carry base64 attachments, hence not tiny).
pub const JSON_BODY_LIMIT: usize = 48 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub workspace: Workspace,
    pub files: crate::files::FileStore,
    pub clock: Arc<dyn Clock>,
    pub shutdown: CancellationToken,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Open streams per agent, for presence.
    pub connected: Arc<Mutex<HashMap<Id, usize>>>,
}

impl AppState {
    pub fn new(
        workspace: Workspace,
        files: crate::files::FileStore,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Self {
        AppState {
            workspace,
            files,
            clock,
            shutdown,
            login_limiter: Arc::default(),
            connected: Arc::default(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/devices", get(auth::devices))
        .route("/devices/{id}", delete(auth::revoke_device))
        .route("/me", get(auth::me).patch(auth::update_me))
        .route("/sync", get(conversations::sync))
        .route("/stream", get(crate::stream::upgrade))
        .route("/search", get(conversations::search))
        .route("/conversations", post(conversations::create))
        .route("/conversations/{id}/messages", post(conversations::send))
        .route("/conversations/{id}/assign", post(conversations::assign))
        .route("/conversations/{id}/status", post(conversations::status))
        .route("/conversations/{id}/labels", post(conversations::labels))
        .route("/conversations/{id}/priority", post(conversations::priority))
        .route("/conversations/{id}/read", post(conversations::read))
        .route("/conversations/{id}/pin", put(conversations::pin).delete(conversations::unpin))
        .route("/conversations/{id}/export", get(conversations::export))
        .route("/contacts", get(conversations::find_contacts).post(conversations::create_contact))
        .route("/attachments", post(files::upload).layer(DefaultBodyLimit::disable()))
        .route("/attachments/{id}", get(files::download))
        .route("/agents", get(admin::agents).post(admin::create_agent))
        .route("/agents/{id}", patch(admin::update_agent))
        .route("/teams", get(admin::teams).post(admin::create_team))
        .route("/teams/{id}", patch(admin::update_team))
        .route("/inboxes", get(admin::inboxes).post(admin::create_inbox))
        .route("/inboxes/{id}", patch(admin::update_inbox))
        .route("/labels", get(admin::labels).post(admin::create_label))
        .route("/labels/{id}", delete(admin::delete_label))
        .route("/canned-responses", get(admin::canned).post(admin::create_canned))
        .route("/canned-responses/{id}", patch(admin::update_canned).delete(admin::delete_canned))
        .route("/channels/{id}/inbound", post(channels::inbound))
        .route("/channels/{id}/delivery", post(channels::delivery))
        .route("/openapi.json", get(crate::openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
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
        Ok(state.workspace.authenticate(token.to_owned()).await?)
    }
}
