//! The tidy checks on this repository (see `crates/tidy/src/lib.rs` for each rule). Each test prints
//! every violation as `path:line: what is wrong`.

use std::path::PathBuf;
use switchboard_tidy::{
    architecture_paths, http_outside_http_layer, module_docs, postgres_outside_postgres_backend,
    rusqlite_outside_sqlite_backend, Violation,
};

/// The repository root: this crate lives in `crates/tidy`.
fn root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(root.join("ARCHITECTURE.md").is_file(), "{} is not the repository root", root.display());
    root
}

fn assert_none(violations: Vec<Violation>, rule: &str) {
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(list.is_empty(), "{rule} ({} violations):\n{}\n", list.len(), list.join("\n"));
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    assert_none(module_docs(&root()), "every .rs file opens with a `//!` line saying what it is for");
}

#[test]
fn the_server_names_http_types_only_in_its_http_layer() {
    assert_none(
        http_outside_http_layer(&root()),
        "the server's domain and backends use no axum, http::, StatusCode or tower \
         (the HTTP layer is listed in SERVER_HTTP_LAYER, crates/tidy/src/lib.rs)",
    );
}

#[test]
fn the_server_names_rusqlite_only_in_its_sqlite_backend() {
    assert_none(
        rusqlite_outside_sqlite_backend(&root()),
        "rusqlite stays in crates/server/src/sqlite.rs and crates/server/src/sqlite/",
    );
}

#[test]
fn the_server_names_the_postgres_client_only_in_its_postgres_backend() {
    assert_none(
        postgres_outside_postgres_backend(&root()),
        "the postgres client crates stay in crates/server/src/postgres.rs and crates/server/src/postgres/",
    );
}

#[test]
fn architecture_md_names_only_paths_that_exist() {
    assert_none(
        architecture_paths(&root()),
        "every repository path ARCHITECTURE.md names in backticks exists",
    );
}
