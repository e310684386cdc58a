//! The OpenAPI document, generated from the handlers' annotations. Served at
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
    paths(
        http::auth_routes::login, http::auth_routes::logout, http::auth_routes::devices,
        http::auth_routes::revoke_device, http::auth_routes::me, http::auth_routes::update_me,
        http::conversation_routes::sync, http::conversation_routes::search,
        http::conversation_routes::send, http::conversation_routes::assign, http::conversation_routes::status,
        http::conversation_routes::labels, http::conversation_routes::priority, http::conversation_routes::read,
        http::conversation_routes::pin, http::conversation_routes::unpin, http::conversation_routes::create,
        http::conversation_routes::export, http::conversation_routes::find_contacts,
        http::conversation_routes::create_contact,
        http::file_routes::upload, http::file_routes::download,
        http::admin_routes::agents, http::admin_routes::create_agent, http::admin_routes::update_agent,
        http::admin_routes::teams, http::admin_routes::create_team, http::admin_routes::update_team,
        http::admin_routes::inboxes, http::admin_routes::create_inbox, http::admin_routes::update_inbox,
        http::admin_routes::labels, http::admin_routes::create_label, http::admin_routes::delete_label,
        http::admin_routes::canned, http::admin_routes::create_canned, http::admin_routes::update_canned,
        http::admin_routes::delete_canned,
        http::channel_routes::inbound, http::channel_routes::delivery,
    ),
    components(schemas(
        switchboard_proto::ServerFrame,
        switchboard_proto::ClientFrame,
        switchboard_proto::Change,
        http::conversation_routes::ExportFormat,
    )),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

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
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
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
