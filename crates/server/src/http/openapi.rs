//! The OpenAPI document, generated from the handlers' annotations and the route list in
//! `http.rs::api_routes` (the same list the router is made from). Served at
//! `/api/v1/openapi.json` and committed as `crates/server/openapi.json` (a test fails when the
//! committed copy is stale; `switchboard-server openapi > crates/server/openapi.json` renews it).

use axum::response::IntoResponse;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::http;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", version = "1", description = "Team shared-inbox server: an ordered change feed, \
        idempotent mutations keyed by client ids, and a WebSocket stream at /api/v1/stream (not described here)."),
    components(schemas(
        switchboard_proto::ServerFrame,
        switchboard_proto::ClientFrame,
        switchboard_proto::Change,
        http::conversations::ExportFormat,
        switchboard_proto::automation::ContactField,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as pretty JSON, ending in a newline.
pub fn openapi_json() -> String {
    let (_, document) = http::api_routes().split_for_parts();
    let mut json = document.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}

pub async fn serve() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json())
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_openapi_document_is_current() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")).unwrap_or_default();
        assert!(
            committed == super::openapi_json(),
            "crates/server/openapi.json is stale: run `cargo run -p switchboard-server -- openapi > crates/server/openapi.json`"
        );
    }
}
