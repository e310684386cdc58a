//! The embed check on the visitor endpoints (`/api/v1/widget/{inbox_id}/…`): a browser's request
//! from an origin the inbox does not list is refused 403 before anything runs (CORS alone would
//! only hide the answer from the page, after a POST had already been taken); an allowed origin
//! gets its preflight answered and `Access-Control-Allow-Origin` naming it, never `*`. A request
//! without `Origin` is not a browser's cross-site one (a server, a test) and passes.
//!
//! tower-http's `CorsLayer` decides per request too (`AllowOrigin::async_predicate`) but never
//! refuses one, so the check is these few lines instead.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use switchboard_proto::{ErrorCode, Id};

use crate::{connectors::widget, error::ApiError, http::AppState};

pub const PREFIX: &str = "/api/v1/widget/";

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(rest) = request.uri().path().strip_prefix(PREFIX) else {
        return next.run(request).await;
    };
    let Some(inbox_id) = rest.split('/').next().and_then(|id| id.parse::<Id>().ok()) else {
        return next.run(request).await;
    };
    let origin = request.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let settings = match state.workspace.widget_settings(inbox_id).await {
        Ok(settings) => settings,
        Err(refusal) => return ApiError::from(refusal).into_response(),
    };
    if !origin.to_str().is_ok_and(|o| widget::allows(&settings, o)) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this site is not one of the inbox's allowed origins for the chat widget",
        )
        .into_response();
    }
    let mut response = if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        response
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    response.headers_mut().append(header::VARY, HeaderValue::from_static("origin"));
    response
}
