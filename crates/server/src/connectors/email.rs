//! The email connector: an IMAP worker per email inbox (IDLE, reconnect with backoff, UID-based
//! with UIDVALIDITY kept durably: `imap.rs`), MIME parsing and the loop guard's markers
//! (`parse.rs`), SMTP submission with threading headers (`smtp.rs`), and attachments into the
//! content-addressed store with per-type size limits (a refused file becomes an activity line).
//! Threading, deduplication and the settings live in the domain, `workspace/email.rs`.

mod imap;
pub mod parse;
pub mod smtp;

use std::{collections::HashMap, sync::Mutex, time::Duration};

use async_trait::async_trait;

use switchboard_proto::{Channel, EmailSettings, Id};
use tokio_util::sync::CancellationToken;

use super::{Capabilities, Connector, Outgoing, SendError, Sent};
use crate::{
    files::FileStore,
    workspace::{InboundEmail, StoredFile, Workspace},
};

/// How the email workers behave; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// How often the set of email inboxes and their settings is read again (a changed inbox's
    /// worker restarts with its new settings).
    pub rescan: Duration,
    /// IDLE is ended and issued again after this long without news (RFC 2177: before 29 minutes).
    pub idle_timeout: Duration,
    /// The first wait before reconnecting after a failure; it doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            rescan: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(25 * 60),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5 * 60),
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// What email carries: no reply window, no templates, attachments per type (images 10 MiB, audio
/// and video 16 MiB, anything else the channel's 25 MiB).
pub fn capabilities() -> Capabilities {
    Capabilities {
        reply_window_ms: None,
        max_body_chars: None,
        attachment_limits: vec![
            ("image/", 10 * MIB),
            ("audio/", 16 * MIB),
            ("video/", 16 * MIB),
            ("", Channel::Email.attachment_limit()),
        ],
        templates: false,
        simulated: false,
    }
}

/// The largest attachment kept of this type.
pub fn attachment_limit(content_type: &str) -> u64 {
    capabilities().attachment_limit(content_type).unwrap_or(Channel::Email.attachment_limit())
}

/// The workspaces whose email workers run in this process, by inbox: a reply's thread (subject,
/// `References`) is read through it when the connector sends. Inbox ids are unique, so several
/// servers in one process (the tests) never see each other's.
fn workspaces() -> &'static Mutex<HashMap<Id, Workspace>> {
    static WORKSPACES: std::sync::OnceLock<Mutex<HashMap<Id, Workspace>>> = std::sync::OnceLock::new();
    WORKSPACES.get_or_init(Default::default)
}

fn workspace_of(inbox: Id) -> Option<Workspace> {
    workspaces().lock().ok()?.get(&inbox).cloned()
}

fn register(inbox: Id, workspace: Option<&Workspace>) {
    if let Ok(mut all) = workspaces().lock() {
        match workspace {
            Some(workspace) => all.insert(inbox, workspace.clone()),
            None => all.remove(&inbox),
        };
    }
}

/// An email inbox's connector: sends replies by SMTP. What arrives comes by IMAP ([`run`]), not
/// through webhooks.
pub struct EmailConnector {
    pub settings: EmailSettings,
}

#[async_trait]
impl Connector for EmailConnector {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<Sent, SendError> {
        let workspace = workspace_of(outgoing.inbox_id)
            .ok_or_else(|| SendError::transient("the email worker of this inbox is not running yet"))?;
        let email =
            workspace.outgoing_email(outgoing.message.id).await.map_err(|refusal| match refusal.code {
                switchboard_proto::ErrorCode::Validation => SendError::rejected(refusal.message),
                _ => SendError::transient(refusal.message),
            })?;
        let message = smtp::build(&email, &outgoing.files)?;
        smtp::send(&self.settings, message).await?;
        if let Err(error) = workspace.email_sent(outgoing.message.id).await {
            tracing::warn!(message_id = %outgoing.message.id, message = %error.message, "recording a sent email in its thread failed");
        }
        let id = email.message_id.trim_start_matches('<').trim_end_matches('>').to_owned();
        Ok(Sent { provider_ids: vec![id] })
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / MIB as f64)
}

/// A parsed mail as the domain takes it: its attachments stored (or refused, with the reason).
pub async fn prepare(files: &FileStore, parsed: parse::ParsedEmail) -> (InboundEmail, Vec<StoredFile>) {
    let mut stored = Vec::new();
    let mut refused = Vec::new();
    for attachment in parsed.attachments {
        let size = attachment.bytes.len() as u64;
        let limit = attachment_limit(&attachment.content_type);
        if size > limit {
            refused.push(format!(
                "Attachment “{}” ({}, {}) was not kept: {} files may be at most {}.",
                attachment.file_name,
                attachment.content_type,
                megabytes(size),
                attachment.content_type.split('/').next().unwrap_or("such"),
                megabytes(limit)
            ));
            continue;
        }
        match files.store_bytes(&attachment.bytes, limit).await {
            Ok(file) => stored.push(StoredFile {
                sha256: file.sha256,
                size: file.size,
                file_name: attachment.file_name,
                content_type: attachment.content_type,
            }),
            Err(error) => refused.push(format!(
                "Attachment “{}” could not be stored: {}.",
                attachment.file_name, error.message
            )),
        }
    }
    let email = InboundEmail {
        message_id: parsed.message_id,
        parents: parsed.parents,
        from_address: parsed.reply_to.or(parsed.from_address),
        from_name: parsed.from_name,
        subject: parsed.subject,
        body: parsed.body,
        automatic: parsed.automatic,
        refused,
    };
    (email, stored)
}

/// What an admin reads back: the servers and login, never the password. No webhook: mail is
/// fetched by IMAP.
pub fn info(settings: &EmailSettings) -> super::ConnectorInfo {
    super::ConnectorInfo {
        kind: "email".into(),
        simulated: false,
        webhook_path: None,
        details: serde_json::json!({
            "address": settings.address,
            "display_name": settings.display_name,
            "imap": settings.imap,
            "smtp": settings.smtp,
            "username": settings.username,
            "mailbox": crate::workspace::mailbox_of(settings),
            "new_subject": settings.new_subject,
        }),
    }
}

/// An admin's "test connection": logs in to IMAP and opens the mailbox, then connects (and logs
/// in) to SMTP. Says what it found, or exactly what failed.
pub async fn check_connection(settings: &EmailSettings) -> Result<String, String> {
    let mailbox = crate::workspace::mailbox_of(settings);
    let mut session = imap::connect(settings)
        .await
        .map_err(|e| format!("IMAP {}:{}: {e:#}", settings.imap.host, settings.imap.port))?;
    let opened = session
        .select(mailbox)
        .await
        .map_err(|e| format!("IMAP: the mailbox {mailbox:?} can't be opened: {e}"))?;
    let _ = session.logout().await;
    smtp::check(settings).await?;
    Ok(format!("IMAP: {mailbox} holds {} messages; SMTP: connected", opened.exists))
}

/// Runs the IMAP workers of this node until `shutdown`: every `config.rescan` it reads the email
/// inboxes again, claims (or renews) each inbox's worker lease, and runs a worker for the inboxes
/// it holds — one node at a time per inbox, taken over by another node within `3 × rescan` of
/// this one stopping renewing. A worker whose settings changed restarts with them. Every email
/// inbox is registered for sending on every node, whoever holds its worker.
pub async fn run(workspace: Workspace, files: FileStore, config: EmailConfig, shutdown: CancellationToken) {
    let lease_ms = i64::try_from(config.rescan.as_millis().saturating_mul(3)).unwrap_or(i64::MAX).max(1000);
    let mut workers: HashMap<Id, (EmailSettings, CancellationToken)> = HashMap::new();
    let mut registered: Vec<Id> = Vec::new();
    loop {
        match workspace.email_inboxes().await {
            Ok(inboxes) => {
                let current: HashMap<Id, EmailSettings> = inboxes.into_iter().collect();
                for inbox in registered.drain(..) {
                    if !current.contains_key(&inbox) {
                        register(inbox, None);
                    }
                }
                for inbox in current.keys() {
                    register(*inbox, Some(&workspace));
                    registered.push(*inbox);
                }
                workers.retain(|inbox, (settings, stop)| {
                    let keep = current.get(inbox) == Some(settings);
                    if !keep {
                        stop.cancel();
                    }
                    keep
                });
                for (inbox, settings) in current {
                    let held = match workspace.claim_mail_worker(inbox, lease_ms).await {
                        Ok(held) => held,
                        Err(error) => {
                            tracing::warn!(%inbox, message = %error.message, "claiming an email worker failed");
                            false
                        }
                    };
                    if !held {
                        if let Some((_, stop)) = workers.remove(&inbox) {
                            tracing::info!(%inbox, "another node runs this inbox's IMAP worker now");
                            stop.cancel();
                        }
                        continue;
                    }
                    if workers.contains_key(&inbox) {
                        continue;
                    }
                    let stop = shutdown.child_token();
                    let worker = imap::Worker {
                        workspace: workspace.clone(),
                        files: files.clone(),
                        inbox,
                        settings: settings.clone(),
                        config: config.clone(),
                    };
                    tokio::spawn(worker.run(stop.clone()));
                    workers.insert(inbox, (settings, stop));
                }
            }
            Err(error) => tracing::warn!(message = %error.message, "listing email inboxes failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => {
                for inbox in registered.drain(..) {
                    register(inbox, None);
                }
                // Another node may take these over at once rather than when the leases run out.
                for inbox in workers.keys() {
                    let _ = workspace.release_mail_worker(*inbox).await;
                }
                return;
            }
            _ = tokio::time::sleep(config.rescan) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse::{ParsedAttachment, ParsedEmail};

    #[tokio::test]
    async fn a_file_over_its_type_s_limit_is_left_out_with_a_line_saying_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let attachments = crate::files::Attachments::Directory(dir.path().join("attachments"));
        let files = super::FileStore::new(&attachments, dir.path()).expect("file store");
        let file = |name: &str, content_type: &str, size: usize| ParsedAttachment {
            file_name: name.into(),
            content_type: content_type.into(),
            bytes: vec![7; size],
        };
        let parsed = ParsedEmail {
            message_id: "m@c.test".into(),
            parents: vec![],
            from_address: Some("a@c.test".into()),
            from_name: None,
            reply_to: Some("replies@c.test".into()),
            subject: "Files".into(),
            body: "See attached".into(),
            attachments: vec![
                file("invoice.pdf", "application/pdf", 1000),
                file("photo.jpg", "image/jpeg", 12 * 1024 * 1024),
            ],
            automatic: None,
        };
        let (email, stored) = super::prepare(&files, parsed).await;
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].file_name.as_str(), stored[0].size), ("invoice.pdf", 1000));
        assert_eq!(email.refused.len(), 1, "{:?}", email.refused);
        assert!(
            email.refused[0].contains("photo.jpg") && email.refused[0].contains("12.0 MB)"),
            "{:?}",
            email.refused
        );
        assert_eq!(email.from_address.as_deref(), Some("replies@c.test"), "replies go to Reply-To");
    }

    #[test]
    fn limits_depend_on_the_type() {
        assert_eq!(super::attachment_limit("image/png"), 10 * 1024 * 1024);
        assert_eq!(super::attachment_limit("video/mp4"), 16 * 1024 * 1024);
        assert_eq!(super::attachment_limit("application/pdf"), 25 * 1024 * 1024);
    }
}
