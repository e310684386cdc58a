//! TLS to PostgreSQL: how a database URL's `sslmode` and `sslrootcert` become the connection's
//! [`Config`] and TLS connector, for the pooled connections and the listener alike.
//!
//! The modes, stricter than libpq's where libpq trusts blindly:
//! - no `sslmode`, or `disable`: no TLS (a unix socket, or a database on the same host);
//! - `require`, `verify-ca`, `verify-full`: TLS or no connection, and the server's certificate is
//!   always verified, host name included, against `sslrootcert` (a PEM file) if given, else the
//!   system's roots. libpq's `require` encrypts without checking who answers, which stops a
//!   listener but not an impostor, and this database holds every conversation; `verify-ca` is
//!   taken as `verify-full` because rustls always checks the name (a certificate without the
//!   host's name is what `verify-ca` would let through);
//! - `prefer` and `allow`: refused, since they fall back to plain text without a word.
//!
//! tokio-postgres itself knows only `disable`, `prefer` and `require` and no `sslrootcert`, so
//! those two parameters are taken out of the URL here before it parses the rest.

use std::sync::Arc;

use anyhow::Context;
use rustls::{pki_types::pem::PemObject, pki_types::CertificateDer, ClientConfig, RootCertStore};
use tokio_postgres::config::{Config, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::DatabaseUrl;

/// What every connection to one database is made with.
#[derive(Clone)]
pub struct Connector {
    pub config: Config,
    /// `None` without TLS: then no connector at all, because a TLS connector is asked for the
    /// host's name before the mode is looked at, and a unix socket's path is no name.
    pub tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("ssl_mode", &self.config.get_ssl_mode()).finish_non_exhaustive()
    }
}

impl Connector {
    /// Reads the URL: its TLS parameters here, the rest by tokio-postgres.
    pub fn new(url: &DatabaseUrl) -> anyhow::Result<Connector> {
        let (rest, ssl_mode, root_cert) = take_tls_parameters(url.expose());
        let mut config: Config = rest.parse().map_err(|e| anyhow::anyhow!("database URL {url}: {e}"))?;
        let verify = match ssl_mode.as_deref() {
            None | Some("disable") => false,
            Some("require" | "verify-ca" | "verify-full") => true,
            Some(other @ ("prefer" | "allow")) => anyhow::bail!(
                "database URL {url}: sslmode={other} falls back to plain text silently; \
                 use sslmode=verify-full (with sslrootcert=… for a private CA) or sslmode=disable"
            ),
            Some(other) => anyhow::bail!("database URL {url}: unknown sslmode {other:?}"),
        };
        if !verify && root_cert.is_some() {
            anyhow::bail!("database URL {url}: sslrootcert needs sslmode=verify-full");
        }
        config.ssl_mode(if verify { SslMode::Require } else { SslMode::Disable });
        if !verify {
            return Ok(Connector { config, tls: None });
        }
        let roots = match &root_cert {
            Some(path) => roots_from_file(path)?,
            None => system_roots(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connector { config, tls: Some(MakeRustlsConnect::new(client)) })
    }

    /// Whether connections use TLS.
    pub fn encrypted(&self) -> bool {
        self.tls.is_some()
    }

    /// A blocking client (the store's pooled connections).
    pub fn connect_blocking(&self, application_name: &str) -> Result<::postgres::Client, ::postgres::Error> {
        let mut config = ::postgres::Config::from(self.config.clone());
        config.application_name(application_name);
        match &self.tls {
            Some(tls) => config.connect(tls.clone()),
            None => config.connect(tokio_postgres::NoTls),
        }
    }
}

/// The URL without `sslmode` and `sslrootcert`, and their values.
fn take_tls_parameters(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None, None) };
    let (mut ssl_mode, mut root_cert, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => ssl_mode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => root_cert = Some(percent_decoded(value)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    (rest, ssl_mode, root_cert)
}

/// A URL query value with `%XX` escapes decoded (a path may hold spaces or `&`).
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn roots_from_file(path: &str) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading sslrootcert {path}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading sslrootcert {path}"))?;
    anyhow::ensure!(!certificates.is_empty(), "sslrootcert {path} holds no certificate");
    for certificate in certificates {
        roots.add(certificate).with_context(|| format!("a certificate in sslrootcert {path}"))?;
    }
    Ok(roots)
}

/// The system's trusted roots; those it can't read are skipped (logged), as a browser would.
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "reading the system's TLS roots");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    tracing::debug!(added, ignored, "system TLS roots for PostgreSQL");
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_and_the_rest_kept() {
        let (rest, mode, root) = take_tls_parameters(
            "postgres://u@db:5432/sb?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
        );
        assert_eq!(rest, "postgres://u@db:5432/sb?application_name=x");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(take_tls_parameters("postgres://db/sb?sslmode=disable").0, "postgres://db/sb");
        assert_eq!(take_tls_parameters("postgres://db/sb").1, None);
    }

    #[test]
    fn modes_that_fall_back_to_plain_text_or_are_unknown_are_refused() {
        for mode in ["prefer", "allow", "verify"] {
            let url = DatabaseUrl::new(format!("postgres://db/sb?sslmode={mode}"));
            let error = Connector::new(&url).expect_err(mode).to_string();
            assert!(error.contains(mode), "{error}");
        }
        let url = DatabaseUrl::new("postgres://db/sb?sslrootcert=/nonexistent.pem");
        assert!(Connector::new(&url).is_err(), "a root certificate without verification");
        let url = DatabaseUrl::new("postgres://db/sb?sslmode=verify-full&sslrootcert=/nonexistent.pem");
        let error = format!("{:#}", Connector::new(&url).expect_err("a missing root file"));
        assert!(error.contains("/nonexistent.pem"), "{error}");
    }

    #[test]
    fn which_modes_encrypt() {
        let encrypted = |url: &str| Connector::new(&DatabaseUrl::new(url)).expect(url).encrypted();
        assert!(!encrypted("postgres://db/sb"));
        assert!(!encrypted("postgres://db/sb?sslmode=disable"));
        assert!(encrypted("postgres://db/sb?sslmode=require"));
        assert!(encrypted("postgres://db/sb?sslmode=verify-full"));
    }
}
