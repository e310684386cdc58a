//! TLS to PostgreSQL: a server whose database URL says `sslmode=verify-full` works over TLS (every
//! connection of it encrypted, the listener's too), and refuses a database whose certificate it
//! can't verify.
//!
//! PostgreSQL only, through `scripts/with-postgres.sh`, which serves TLS on TCP with a CA of its
//! own and exports SWITCHBOARD_TEST_DATABASE_TLS_URL. With SQLite the tests say they were skipped.

use switchboard_server::{Backend, DatabaseUrl, ServerConfig};

use crate::harness::*;

/// The TLS URL of a database of this test's own, or `None` (with SQLite).
fn tls_database(test: &str, name: &str) -> Option<DatabaseUrl> {
    let url = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").unwrap_or_default();
    if !url.starts_with("postgres") {
        eprintln!(
            "skipping database_tls::{test}: it needs PostgreSQL (run through scripts/with-postgres.sh)"
        );
        return None;
    }
    let tls = std::env::var("SWITCHBOARD_TEST_DATABASE_TLS_URL")
        .expect("with PostgreSQL, SWITCHBOARD_TEST_DATABASE_TLS_URL names its TLS port (with-postgres.sh)");
    let name = format!("{name}_{}", &switchboard_proto::Id::new_v4().simple().to_string()[..8]);
    let created = std::thread::spawn(move || DatabaseUrl::new(tls).create_database(&name))
        .join()
        .expect("creating a database panicked")
        .expect("creating a database over TLS");
    Some(created)
}

/// How many of this database's connections (by application name prefix) use TLS, and how many
/// don't, asked over the unix socket.
fn connections_by_tls(database: &DatabaseUrl) -> (i64, i64) {
    let admin = std::env::var("SWITCHBOARD_TEST_DATABASE_URL").expect("admin URL");
    let name = database
        .expose()
        .split('?')
        .next()
        .and_then(|base| base.rsplit('/').next())
        .expect("name")
        .to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
                 FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                 WHERE a.datname = $1 AND a.application_name LIKE 'switchboard-%'",
                &[&name],
            )
            .expect("query");
        (row.get(0), row.get(1))
    })
    .join()
    .expect("database thread")
}

#[tokio::test]
async fn a_server_on_a_verified_tls_database_works_and_every_connection_is_encrypted() {
    let Some(database) = tls_database("a_server_on_a_verified_tls_database_works", "tls") else { return };
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    config.backend = Backend::Postgres { url: database.clone() };
    let password =
        switchboard_server::init_data_dir(&config, "admin@test.example", "Ada Admin").await.expect("init");
    let url = database.clone();
    let server =
        TestServer::start_in(data_dir, password, move |config| config.backend = Backend::Postgres { url })
            .await;
    let workspace = Workspace::create(&server).await;
    let head = server.head().await;
    let mut stream = open_stream(&workspace.sara, head).await;
    server.inbound(&workspace.whatsapp, "c1", "m1", "over TLS").await;
    loop {
        match next_frame(&mut stream).await.expect("the stream") {
            switchboard_proto::ServerFrame::Changes { changes, .. } if !changes.is_empty() => break,
            _ => continue,
        }
    }
    let (encrypted, plain) = connections_by_tls(&database);
    assert_eq!(plain, 0, "no connection of the server's is in plain text");
    // The writer, at least one reader and the listener.
    assert!(encrypted >= 3, "the server's connections use TLS: {encrypted}");
}

#[tokio::test]
async fn a_database_whose_certificate_is_not_trusted_is_refused() {
    let Some(database) = tls_database("a_database_whose_certificate_is_not_trusted_is_refused", "untrusted")
    else {
        return;
    };
    // The system's roots (no sslrootcert) don't know this run's CA.
    let (base, query) = database.expose().split_once('?').expect("a query");
    let kept: Vec<&str> = query.split('&').filter(|pair| !pair.starts_with("sslrootcert=")).collect();
    let untrusted = DatabaseUrl::new(format!("{base}?{}", kept.join("&")));
    let data_dir = tempfile::tempdir().expect("data dir");
    let mut config = ServerConfig::new(data_dir.path());
    config.backend = Backend::Postgres { url: untrusted };
    config.attachments = Some(switchboard_server::Attachments::Directory(data_dir.path().join("files")));
    let error = std::thread::spawn(move || switchboard_server::open_workspace(&config).err())
        .join()
        .expect("opening panicked")
        .expect("a database with an unknown CA is refused");
    let message = format!("{error:#}");
    assert!(message.to_lowercase().contains("certificate"), "the refusal names the certificate: {message}");
}
