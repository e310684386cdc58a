//! One email inbox's IMAP worker: connect (TLS, or clear text on loopback), log in, select the
//! mailbox, fetch every UID after the stored cursor (each mail stored and the cursor moved in one
//! transaction), then IDLE until the server says something changed, re-issuing IDLE before the
//! 29 minutes RFC 2177 allows. Any failure (the server cut the connection, restarted, refused the
//! login) ends the session; the worker reconnects after a backoff that doubles up to a limit and
//! starts over from the stored cursor, so nothing is fetched twice or skipped. A new UIDVALIDITY
//! restarts the cursor at 0; `Message-ID` deduplication keeps what was already stored.

use std::{fmt, sync::Arc, time::Duration};

use async_imap::{extensions::idle::IdleResponse, Session};
use futures_util::TryStreamExt;
use switchboard_proto::{EmailSettings, ErrorCode, Id, MailSecurity};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

use crate::{
    files::FileStore,
    workspace::{mailbox_of, MailboxCursor, Workspace},
};

use super::{parse, EmailConfig};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How far back the first read of a mailbox goes (older mail is history, not taken).
const FIRST_SYNC_MS: i64 = 24 * 60 * 60 * 1000;
/// Mail fetched per round trip, so a large backlog is never in memory at once.
const FETCH_BATCH: usize = 20;

pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}
type Stream = Box<dyn Io>;

pub(super) struct Worker {
    pub workspace: Workspace,
    pub files: FileStore,
    pub inbox: Id,
    pub settings: EmailSettings,
    pub config: EmailConfig,
}

impl Worker {
    pub async fn run(self, stop: CancellationToken) {
        let mut wait = self.config.backoff;
        loop {
            let outcome = tokio::select! {
                _ = stop.cancelled() => return,
                outcome = self.session(&stop) => outcome,
            };
            match outcome {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(inbox = %self.inbox, %error, retry_in = ?wait, "IMAP session ended");
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(self.config.max_backoff);
        }
    }

    /// One connection: returns only when stopped (`Ok`) or on a failure.
    async fn session(&self, stop: &CancellationToken) -> anyhow::Result<()> {
        let mut session = connect(&self.settings).await?;
        let mailbox = session.select(mailbox_of(&self.settings)).await?;
        let uid_validity = mailbox.uid_validity.unwrap_or(0);
        tracing::info!(inbox = %self.inbox, mailbox = %mailbox_of(&self.settings), uid_validity, "IMAP connected");
        loop {
            self.fetch_new(&mut session, uid_validity).await?;
            let mut idle = session.idle();
            idle.init().await?;
            let (wait, interrupt) = idle.wait_with_timeout(self.config.idle_timeout);
            // The library's timeout restarts with every server keepalive (Dovecot sends one every
            // 2 minutes), so a deadline of our own makes sure IDLE is issued again in time.
            let response = tokio::select! {
                response = wait => Some(response?),
                _ = tokio::time::sleep(self.config.idle_timeout) => Some(IdleResponse::Timeout),
                _ = stop.cancelled() => None,
            };
            drop(interrupt);
            match response {
                // Stopped: leave IDLE politely if the connection still answers.
                None => {
                    if let Ok(mut session) = idle.done().await {
                        let _ = session.logout().await;
                    }
                    return Ok(());
                }
                Some(IdleResponse::NewData(_)) | Some(IdleResponse::Timeout) => {}
                // The stream ended: the server closed the connection.
                Some(IdleResponse::ManualInterrupt) => anyhow::bail!("the server closed the connection"),
            }
            session = idle.done().await?;
        }
    }

    /// Stores every mail after the cursor, in UID order, moving the cursor with each. The first
    /// time an inbox reads its mailbox, it takes only the mail of the last day (by the server's
    /// INTERNALDATE) and steps over the older history: a new inbox does not import, and greet,
    /// years of mail.
    async fn fetch_new(&self, session: &mut Session<Stream>, uid_validity: u32) -> anyhow::Result<()> {
        let stored =
            self.workspace.mailbox_cursor(self.inbox).await.map_err(|e| anyhow::anyhow!(e.message))?;
        let mut history_before = None;
        if stored.uid_validity == 0 {
            // Everything there now; what the day's search below does not return is history.
            let all = session.uid_search("UID 1:*").await?;
            history_before = all.into_iter().max();
        }
        let mut cursor = if stored.uid_validity == uid_validity {
            stored
        } else {
            if stored.uid_validity != 0 {
                tracing::warn!(inbox = %self.inbox, old = stored.uid_validity, new = uid_validity, "UIDVALIDITY changed: reading the mailbox again");
            }
            MailboxCursor { uid_validity, last_uid: 0 }
        };
        loop {
            let from = cursor.last_uid + 1;
            // The UIDs first (`n:*` always names the highest UID, even below n: filtered out), so
            // no body is fetched that is not stored.
            let query = match history_before {
                Some(_) => format!("UID {from}:* SINCE {}", imap_date(self.workspace.now() - FIRST_SYNC_MS)),
                None => format!("UID {from}:*"),
            };
            let mut uids: Vec<u32> =
                session.uid_search(query).await?.into_iter().filter(|uid| *uid >= from).collect();
            if let Some(history) = history_before.take() {
                // After this day's mail, the history is behind the cursor too.
                if uids.is_empty() && history > cursor.last_uid {
                    cursor.last_uid = history;
                    self.workspace
                        .set_mailbox_cursor(self.inbox, cursor)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message))?;
                    continue;
                }
                if !uids.is_empty() {
                    uids.sort_unstable();
                    self.store_uids(session, &uids, from, &mut cursor).await?;
                }
                if history > cursor.last_uid {
                    cursor.last_uid = history;
                    self.workspace
                        .set_mailbox_cursor(self.inbox, cursor)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message))?;
                }
                continue;
            }
            if uids.is_empty() {
                if cursor != stored {
                    // A new UIDVALIDITY with nothing new to store: remember it.
                    self.workspace
                        .set_mailbox_cursor(self.inbox, cursor)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message))?;
                }
                return Ok(());
            }
            uids.sort_unstable();
            self.store_uids(session, &uids, from, &mut cursor).await?;
            // Ask again: mail may have arrived while these were stored.
        }
    }

    /// Fetches and stores these UIDs (sorted), in batches, moving the cursor with each.
    async fn store_uids(
        &self,
        session: &mut Session<Stream>,
        uids: &[u32],
        from: u32,
        cursor: &mut MailboxCursor,
    ) -> anyhow::Result<()> {
        for batch in uids.chunks(FETCH_BATCH) {
            let set = batch.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let fetches: Vec<_> = session.uid_fetch(&set, "(UID BODY.PEEK[])").await?.try_collect().await?;
            let mut mails: Vec<(u32, Vec<u8>)> = fetches
                .iter()
                .filter_map(|f| Some((f.uid?, f.body().map(<[u8]>::to_vec).unwrap_or_default())))
                .filter(|(uid, _)| *uid >= from)
                .collect();
            mails.sort_by_key(|(uid, _)| *uid);
            for (uid, raw) in mails {
                cursor.last_uid = uid;
                self.store(raw, *cursor).await?;
            }
        }
        Ok(())
    }

    async fn store(&self, raw: Vec<u8>, cursor: MailboxCursor) -> anyhow::Result<()> {
        let parsed = parse::parse(&raw);
        let message_id = parsed.message_id.clone();
        let (email, files) = super::prepare(&self.files, parsed).await;
        match self.workspace.ingest_email(self.inbox, email, files, Some(cursor)).await {
            Ok(result) => {
                tracing::debug!(inbox = %self.inbox, uid = cursor.last_uid, %message_id, created = result.created, "mail stored");
                Ok(())
            }
            // Neither the mail nor its stand-in (`Workspace::ingest_email` keeps one saying why when
            // the mail can't be taken as it came) is acceptable, and never will be: skip it, loudly.
            Err(refusal) if matches!(refusal.code, ErrorCode::Validation | ErrorCode::TooLarge) => {
                tracing::warn!(inbox = %self.inbox, uid = cursor.last_uid, %message_id, message = %refusal.message, "mail refused");
                self.workspace
                    .set_mailbox_cursor(self.inbox, cursor)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))
            }
            // Storage failed: the session ends and the mail is fetched again later.
            Err(refusal) => anyhow::bail!("storing mail uid {}: {}", cursor.last_uid, refusal.message),
        }
    }
}

/// An IMAP date (RFC 3501 `date`: `1-Dec-2026`) of an instant, in UTC.
fn imap_date(at: i64) -> String {
    jiff::Timestamp::from_millisecond(at)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%-d-%b-%Y").to_string())
        .unwrap_or_else(|_| "1-Jan-1970".into())
}

/// Connects and logs in.
pub(super) async fn connect(settings: &EmailSettings) -> anyhow::Result<Session<Stream>> {
    let server = &settings.imap;
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((server.host.as_str(), server.port)))
        .await
        .map_err(|_| anyhow::anyhow!("connecting to {}:{} timed out", server.host, server.port))??;
    let stream: Stream = match server.security {
        MailSecurity::None => Box::new(tcp),
        MailSecurity::Tls => Box::new(tls(tcp, &server.host).await?),
        MailSecurity::Starttls => anyhow::bail!("IMAP over STARTTLS is not supported: use tls (port 993)"),
    };
    let mut client = async_imap::Client::new(stream);
    // The greeting first, or the login can hang (chatmail/async-imap#84).
    client.read_response().await?.ok_or_else(|| anyhow::anyhow!("the IMAP server sent no greeting"))?;
    let session = client
        .login(&settings.username, &settings.password)
        .await
        .map_err(|(error, _)| anyhow::anyhow!("IMAP login as {} failed: {error}", settings.username))?;
    Ok(session)
}

async fn tls(tcp: TcpStream, host: &str) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())?;
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn imap_dates_are_day_month_year_in_utc() {
        assert_eq!(super::imap_date(0), "1-Jan-1970");
        // 2026-11-30T23:30:00Z
        assert_eq!(super::imap_date(1_796_081_400_000), "30-Nov-2026");
    }
}
