//! Email inboxes in the domain: their settings and password (server-side only, never in the
//! feed), the IMAP mailbox's cursor (UIDVALIDITY and last UID, advanced in the transaction that
//! stores the mail, so a restart fetches nothing twice and loses nothing), threading (a reply
//! joins the conversation its `In-Reply-To`/`References` name; a new subject per the inbox's
//! [`NewSubject`] rule), deduplication on `Message-ID`, the loop guard (mail sent automatically,
//! RFC 3834, never gets an automatic reply: [`loop_guard`], read by `auto_replies.rs` and
//! `automation.rs`), and what an outgoing reply's headers are ([`OutgoingEmail`]).
//!
//! Outgoing `Message-ID`s are `<{message id}@{the inbox's domain}>`: derived from the message, so
//! a retried send carries the same id, and a customer's reply to it finds its conversation without
//! a lookup table.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_proto::*;

use super::{conversations::activity, deliveries::connector_settings, ingest, StoredFile, Workspace};
use crate::{
    policy,
    refusal::{Outcome, Refusal},
    store::{StoreRead, StoreReadExt, StoreTx},
};

const MAILBOX: &str = "mailbox";
const WORKER: &str = "worker";
/// Message-IDs kept per conversation for `References` (the first and the latest ones).
const THREAD_IDS: usize = 20;

fn thread_key(conversation: Id) -> String {
    format!("thread:{conversation}")
}

/// Where the IMAP worker is in the mailbox. A new UIDVALIDITY means the server renumbered it: the
/// worker starts again from the first UID, and `Message-ID` deduplication keeps what was stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxCursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// What a conversation's mail thread needs to be continued: its ids and subject, and why the
/// latest customer mail was automatic (if it was).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Thread {
    ids: Vec<String>,
    subject: String,
    #[serde(default)]
    automatic: Option<String>,
}

/// Which node runs an inbox's IMAP worker, until when (the server's clock).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WorkerLease {
    node: String,
    until: Millis,
}

/// An inbound email, as the connector parsed it.
#[derive(Debug, Clone, Default)]
pub struct InboundEmail {
    /// `Message-ID` without brackets (or a hash of the raw mail when it has none).
    pub message_id: String,
    /// `In-Reply-To` then `References`, nearest first.
    pub parents: Vec<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub subject: String,
    pub body: String,
    /// Why the mail is automatic (RFC 3834), if it is: it gets no automatic reply.
    pub automatic: Option<String>,
    /// Attachments the connector refused, each said in one activity line.
    pub refused: Vec<String>,
}

/// A reply to send by SMTP: everything but the server and the password.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub from_address: String,
    pub from_name: Option<String>,
    pub to: String,
    pub subject: String,
    /// `<…>`, derived from the message id.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body: String,
    /// Sent by an automatic reply or a rule: carries `Auto-Submitted: auto-replied` (RFC 3834).
    pub automatic: bool,
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks an email connector's settings (when an admin saves them).
pub(super) fn check(channel: Channel, settings: &EmailSettings) -> Outcome<()> {
    if channel != Channel::Email {
        return Err(Refusal::validation("an email connector needs an email inbox"));
    }
    policy::valid_email(&settings.address)
        .map_err(|_| Refusal::validation("connector.address is not an email address"))?;
    check_server("connector.imap", &settings.imap)?;
    check_server("connector.smtp", &settings.smtp)?;
    if settings.imap.security == MailSecurity::Starttls {
        return Err(Refusal::validation(
            "connector.imap: STARTTLS is not supported for IMAP; use tls (port 993)",
        ));
    }
    if settings.username.trim().is_empty() || settings.password.is_empty() {
        return Err(Refusal::validation("connector.username and connector.password are required"));
    }
    if settings.mailbox.as_deref().is_some_and(|m| m.trim().is_empty() || m.len() > 200) {
        return Err(Refusal::validation("connector.mailbox must be 1 to 200 bytes"));
    }
    Ok(())
}

/// The mailbox an inbox watches.
pub fn mailbox_of(settings: &EmailSettings) -> &str {
    settings.mailbox.as_deref().unwrap_or("INBOX")
}

fn check_server(what: &str, server: &MailServer) -> Outcome<()> {
    let host = server.host.trim();
    if host.is_empty() || host.len() > 253 || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(Refusal::validation(format!("{what}: a host name is needed")));
    }
    if server.port == 0 {
        return Err(Refusal::validation(format!("{what}: a port is needed")));
    }
    if server.security == MailSecurity::None && !is_loopback(host) {
        return Err(Refusal::validation(format!(
            "{what}: security `none` would send the password in clear; use `tls` or `starttls` (`none` is only for a loopback host)"
        )));
    }
    Ok(())
}

/// The domain of an address (`support@shop.test` → `shop.test`), for Message-IDs.
fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, domain)| domain).unwrap_or("switchboard.invalid")
}

/// The `Message-ID` (without brackets) of a message we send.
pub fn outgoing_message_id(message: Id, inbox_address: &str) -> String {
    format!("{}@{}", message.simple(), domain_of(inbox_address))
}

fn settings_of(store: &(impl StoreRead + ?Sized), inbox: Id) -> Outcome<Option<EmailSettings>> {
    Ok(match connector_settings(store, inbox)? {
        Some(ConnectorSettings::Email(settings)) => Some(settings),
        _ => None,
    })
}

fn thread_of(store: &(impl StoreRead + ?Sized), conversation: Id) -> Outcome<Option<(Id, Thread)>> {
    let Some(conversation) = store.get::<Conversation>(conversation)? else { return Ok(None) };
    let thread = store.email_state(conversation.inbox_id, &thread_key(conversation.id))?;
    Ok(thread.and_then(|v| serde_json::from_value(v).ok()).map(|t| (conversation.inbox_id, t)))
}

/// Why no automatic reply (greeting, away, keyword, or a rule's reply) may go to this
/// conversation: its latest customer mail was sent automatically (RFC 3834). `None` otherwise,
/// and for every conversation that is not an email thread.
///
/// Takes the conversation itself, not its id: a new one is held unwritten while the rules' pass
/// runs over it (`ledger.rs`, the fold), so the store does not have it yet.
pub(super) fn loop_guard(
    store: &(impl StoreRead + ?Sized),
    conversation: &Conversation,
) -> Outcome<Option<String>> {
    let thread = store.email_state(conversation.inbox_id, &thread_key(conversation.id))?;
    Ok(thread.and_then(|v| serde_json::from_value::<Thread>(v).ok()).and_then(|thread| thread.automatic))
}

/// The message of `inbox` a `Message-ID` of ours names.
fn own_message(store: &(impl StoreRead + ?Sized), inbox: Id, message_id: &str) -> Outcome<Option<Message>> {
    let Some(id) = message_id.split_once('@').and_then(|(local, _)| local.parse::<Id>().ok()) else {
        return Ok(None);
    };
    let Some(message) = store.get::<Message>(id)? else { return Ok(None) };
    let conversation = store.get::<Conversation>(message.conversation_id)?;
    Ok(conversation.filter(|c| c.inbox_id == inbox).map(|_| message))
}

/// The conversation in `inbox` a mail answers: one of its parents is a mail stored there, or one
/// we sent from there.
fn answered_conversation(tx: &dyn StoreTx, inbox: Id, parents: &[String]) -> Outcome<Option<Conversation>> {
    for parent in parents {
        if let Some((_, conversation)) = tx.inbound_seen(inbox, parent)? {
            if let Some(conversation) = tx.get::<Conversation>(conversation)? {
                return Ok(Some(conversation));
            }
        }
        if let Some(message) = own_message(tx, inbox, parent)? {
            if let Some(conversation) = tx.get::<Conversation>(message.conversation_id)? {
                return Ok(Some(conversation));
            }
        }
    }
    Ok(None)
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n[… the rest of this email was cut]", &text[..end])
}

/// How the stand-in for a mail that can't be taken as it came begins (the e2e looks for it).
pub const STAND_IN: &str = "This email could not be kept as it came";

/// The mail a refused one is kept as: its ids (deduplication and threading work as for the mail),
/// its sender's address and name and its subject where they pass the limits, and a body that says
/// why, then as much of its text as fits.
fn stand_in(email: &InboundEmail, reason: &str) -> InboundEmail {
    const SUBJECT_CHARS: usize = 200;
    let subject: String = email.subject.chars().take(SUBJECT_CHARS).collect();
    let subject = if subject.len() < email.subject.len() { format!("{subject}…") } else { subject };
    let intro = format!("{STAND_IN} ({reason}); the original is still in the mailbox.");
    let text = email.body.trim();
    let body = if text.is_empty() { intro } else { format!("{intro}\n\n{text}") };
    InboundEmail {
        message_id: email.message_id.clone(),
        parents: email.parents.clone(),
        from_address: email
            .from_address
            .clone()
            .filter(|a| policy::valid_email(a).is_ok() && policy::check_external_id(a).is_ok()),
        from_name: email.from_name.as_deref().and_then(|n| policy::valid_name(n, "name").ok()),
        subject,
        // Cut with room for the subject line `ingest_email` puts first.
        body: truncate(&body, policy::MAX_BODY_BYTES - subject_room(SUBJECT_CHARS)),
        automatic: email.automatic.clone(),
        refused: email.refused.clone(),
    }
}

/// The most bytes `Subject: …` and its blank line take before a body of a new thread.
const fn subject_room(chars: usize) -> usize {
    "Subject: \n\n".len() + (chars + 1) * 4
}

fn ingest_email(
    tx: &mut dyn StoreTx,
    inbox_id: Id,
    email: InboundEmail,
    files: Vec<StoredFile>,
    cursor: Option<MailboxCursor>,
) -> Outcome<InboundResult> {
    let inbox = tx.get::<Inbox>(inbox_id)?.ok_or_else(|| Refusal::not_found("inbox"))?;
    if inbox.channel != Channel::Email {
        return Err(Refusal::validation("not an email inbox"));
    }
    if let Some(cursor) = cursor {
        let stored = mailbox_cursor(tx, inbox_id)?;
        if stored.uid_validity != cursor.uid_validity || stored.last_uid < cursor.last_uid {
            tx.set_email_state(
                inbox_id,
                MAILBOX,
                Some(&serde_json::to_value(cursor).map_err(Refusal::internal)?),
            )?;
        }
    }
    if let Some((message_id, conversation_id)) = tx.inbound_seen(inbox_id, &email.message_id)? {
        return Ok(InboundResult { message_id, conversation_id, created: false });
    }
    // A copy of a reply we sent (a Bcc to ourselves, a server filing sent mail in the mailbox):
    // it is that message already.
    if let Some(ours) = own_message(tx, inbox_id, &email.message_id)? {
        return Ok(InboundResult {
            message_id: ours.id,
            conversation_id: ours.conversation_id,
            created: false,
        });
    }
    let settings = settings_of(tx, inbox_id)?;
    let answered = answered_conversation(tx, inbox_id, &email.parents)?;
    let placement = match (&answered, settings.map(|s| s.new_subject)) {
        (Some(conversation), _) => ingest::Placement::Thread(Box::new(conversation.clone())),
        (None, Some(NewSubject::NewConversation)) => ingest::Placement::NewUnlessOpen,
        (None, _) => ingest::Placement::Default,
    };
    let address = email.from_address.clone().unwrap_or_else(|| "unknown-sender@invalid".into());
    let mut body = email.body.trim().to_owned();
    if answered.is_none() && !email.subject.is_empty() {
        body = format!("Subject: {}\n\n{body}", email.subject);
    }
    if body.is_empty() && files.is_empty() {
        body = "(an empty email)".into();
    }
    let inbound = InboundMessage {
        contact: InboundContact {
            external_id: address.clone(),
            name: email.from_name.clone(),
            phone: None,
            email: email.from_address.clone().filter(|a| policy::valid_email(a).is_ok()),
        },
        message: InboundBody {
            external_id: email.message_id.clone(),
            body: truncate(&body, policy::MAX_BODY_BYTES),
            attachments: vec![],
        },
    };
    let result = ingest::ingest_placed(tx, inbox_id, inbound, files, placement, email.automatic.is_some())?;
    let key = thread_key(result.conversation_id);
    let mut thread: Thread =
        tx.email_state(inbox_id, &key)?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    if thread.subject.is_empty() {
        thread.subject = email.subject.clone();
    }
    thread.automatic = email.automatic.clone();
    for id in email.parents.iter().rev().chain(std::iter::once(&email.message_id)) {
        if !thread.ids.contains(id) && !id.starts_with("sha256:") {
            thread.ids.push(id.clone());
        }
    }
    trim_ids(&mut thread.ids);
    tx.set_email_state(inbox_id, &key, Some(&serde_json::to_value(&thread).map_err(Refusal::internal)?))?;
    if let Some(reason) = &email.automatic {
        let text =
            format!("This email was sent automatically ({reason}): no automatic reply goes back to it.");
        activity(tx, inbox_id, result.conversation_id, Sender::System, text)?;
    }
    for refused in email.refused {
        activity(tx, inbox_id, result.conversation_id, Sender::System, refused)?;
    }
    Ok(result)
}

/// Keeps the first id (the thread's root) and the latest ones.
fn trim_ids(ids: &mut Vec<String>) {
    if ids.len() > THREAD_IDS {
        let cut = ids.len() - (THREAD_IDS - 1);
        ids.drain(1..cut);
    }
}

/// Claims or renews, for `lease_ms` on the server's clock, `node`'s lease on the worker `key` of
/// `inbox` (a row of the inbox's connector state): false while another node holds it. Taken in
/// the write transaction, so two nodes asking at once never both get it.
pub(super) fn claim_lease(
    tx: &mut dyn StoreTx,
    inbox: Id,
    key: &str,
    node: String,
    lease_ms: Millis,
) -> Outcome<bool> {
    let now = tx.now();
    let held: Option<WorkerLease> = tx.email_state(inbox, key)?.and_then(|v| serde_json::from_value(v).ok());
    if held.is_some_and(|lease| lease.node != node && lease.until > now) {
        return Ok(false);
    }
    let lease = WorkerLease { node, until: now + lease_ms };
    tx.set_email_state(inbox, key, Some(&serde_json::to_value(lease).map_err(Refusal::internal)?))?;
    Ok(true)
}

/// Gives up `node`'s lease on the worker `key` of `inbox`, if it holds it.
pub(super) fn release_lease(tx: &mut dyn StoreTx, inbox: Id, key: &str, node: &str) -> Outcome<()> {
    let held: Option<WorkerLease> = tx.email_state(inbox, key)?.and_then(|v| serde_json::from_value(v).ok());
    if held.is_some_and(|lease| lease.node == node) {
        tx.set_email_state(inbox, key, None)?;
    }
    Ok(())
}

fn mailbox_cursor(store: &(impl StoreRead + ?Sized), inbox: Id) -> Outcome<MailboxCursor> {
    let value = store.email_state(inbox, MAILBOX)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

fn outgoing_email(store: &dyn StoreRead, message_id: Id) -> Outcome<OutgoingEmail> {
    let message = store.get::<Message>(message_id)?.ok_or_else(|| Refusal::not_found("message"))?;
    if message.kind != MessageKind::Outgoing {
        return Err(Refusal::validation("only an outgoing message is sent"));
    }
    let conversation = store
        .get::<Conversation>(message.conversation_id)?
        .ok_or_else(|| Refusal::not_found("conversation"))?;
    let settings = settings_of(store, conversation.inbox_id)?
        .ok_or_else(|| Refusal::validation("this email inbox has no IMAP/SMTP settings"))?;
    let contact =
        store.get::<Contact>(conversation.contact_id)?.ok_or_else(|| Refusal::not_found("contact"))?;
    let to = contact
        .identities
        .iter()
        .find(|identity| identity.inbox_id == conversation.inbox_id)
        .map(|identity| identity.external_id.clone())
        .or(contact.email.clone())
        .filter(|address| policy::valid_email(address).is_ok())
        .ok_or_else(|| Refusal::validation("the contact has no email address"))?;
    let thread: Thread = store
        .email_state(conversation.inbox_id, &thread_key(conversation.id))?
        .and_then(|v: Value| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let subject = match thread.subject.trim() {
        "" => "Your message".to_owned(),
        s if s.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:")) => s.to_owned(),
        s => format!("Re: {s}"),
    };
    let own = outgoing_message_id(message.id, &settings.address);
    let email = OutgoingEmail {
        from_address: settings.address.clone(),
        from_name: settings.display_name.clone(),
        to,
        subject,
        message_id: format!("<{own}>"),
        in_reply_to: thread.ids.last().map(|id| format!("<{id}>")),
        references: thread.ids.iter().map(|id| format!("<{id}>")).collect(),
        body: message.body.clone(),
        automatic: message.sender == Sender::System,
    };
    Ok(email)
}

/// Records a sent reply in its thread, so the next reply references it too.
fn email_sent(tx: &mut dyn StoreTx, message_id: Id) -> Outcome<()> {
    let Some(message) = tx.get::<Message>(message_id)? else { return Ok(()) };
    let Some((inbox, mut thread)) = thread_of(tx, message.conversation_id)? else { return Ok(()) };
    let Some(settings) = settings_of(tx, inbox)? else { return Ok(()) };
    let own = outgoing_message_id(message.id, &settings.address);
    if !thread.ids.contains(&own) {
        thread.ids.push(own);
        trim_ids(&mut thread.ids);
        let key = thread_key(message.conversation_id);
        tx.set_email_state(inbox, &key, Some(&serde_json::to_value(&thread).map_err(Refusal::internal)?))?;
    }
    Ok(())
}

impl Workspace {
    /// Every email inbox with its settings, password included: for the server's own workers.
    pub async fn email_inboxes(&self) -> Outcome<Vec<(Id, EmailSettings)>> {
        self.read(move |store| {
            let mut out = Vec::new();
            for inbox in store.all::<Inbox>()? {
                if inbox.channel == Channel::Email {
                    if let Some(settings) = settings_of(store, inbox.id)? {
                        out.push((inbox.id, settings));
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// Claims or renews, for `lease_ms`, the right to run `inbox`'s IMAP worker on this node:
    /// false while another node holds it.
    pub async fn claim_mail_worker(&self, inbox: Id, lease_ms: Millis) -> Outcome<bool> {
        let node = self.node.to_string();
        self.write(move |tx| claim_lease(tx, inbox, WORKER, node, lease_ms)).await
    }

    /// Gives up this node's lease on `inbox`'s IMAP worker (another node may take it at once).
    pub async fn release_mail_worker(&self, inbox: Id) -> Outcome<()> {
        let node = self.node.to_string();
        self.write(move |tx| release_lease(tx, inbox, WORKER, &node)).await
    }

    /// Where the IMAP worker of an inbox is in its mailbox.
    pub async fn mailbox_cursor(&self, inbox_id: Id) -> Outcome<MailboxCursor> {
        self.read(move |store| mailbox_cursor(store, inbox_id)).await
    }

    /// Moves the cursor without a message (a UID that was not mail we keep, or a new UIDVALIDITY).
    pub async fn set_mailbox_cursor(&self, inbox_id: Id, cursor: MailboxCursor) -> Outcome<()> {
        self.write(move |tx| {
            let value = serde_json::to_value(cursor).map_err(Refusal::internal)?;
            Ok(tx.set_email_state(inbox_id, MAILBOX, Some(&value))?)
        })
        .await
    }

    /// Stores an inbound email (once per `Message-ID`) in its thread's conversation, and moves the
    /// mailbox cursor to it in the same transaction.
    pub async fn ingest_email(
        &self,
        inbox_id: Id,
        email: InboundEmail,
        files: Vec<StoredFile>,
        cursor: Option<MailboxCursor>,
    ) -> Outcome<InboundResult> {
        let first = {
            let (email, files) = (email.clone(), files.clone());
            self.write(move |tx| ingest_email(tx, inbox_id, email, files, cursor)).await
        };
        match first {
            // The mail can't be taken as it came (a sender's address or name over the limits…):
            // its stand-in says why, so it is not lost without a word; the mail stays in the mailbox.
            Err(refusal) if matches!(refusal.code, ErrorCode::Validation | ErrorCode::TooLarge) => {
                let stand_in = stand_in(&email, &refusal.message);
                let with_files = {
                    let (stand_in, files) = (stand_in.clone(), files.clone());
                    self.write(move |tx| ingest_email(tx, inbox_id, stand_in, files, cursor)).await
                };
                match with_files {
                    Err(again)
                        if !files.is_empty()
                            && matches!(again.code, ErrorCode::Validation | ErrorCode::TooLarge) =>
                    {
                        self.write(move |tx| ingest_email(tx, inbox_id, stand_in, vec![], cursor)).await
                    }
                    other => other,
                }
            }
            other => other,
        }
    }

    /// The reply `message_id` as an email: addresses, subject and threading headers.
    pub async fn outgoing_email(&self, message_id: Id) -> Outcome<OutgoingEmail> {
        self.read(move |store| outgoing_email(store, message_id)).await
    }

    /// A reply went out by SMTP: later replies reference it.
    pub async fn email_sent(&self, message_id: Id) -> Outcome<()> {
        self.write(move |tx| email_sent(tx, message_id)).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_never_print_their_password() {
        let server = MailServer { host: "127.0.0.1".into(), port: 143, security: MailSecurity::None };
        let settings = ConnectorSettings::Email(EmailSettings {
            address: "support@shop.test".into(),
            display_name: None,
            imap: server.clone(),
            smtp: server,
            username: "support".into(),
            password: "hunter2-app-password".into(),
            mailbox: None,
            new_subject: NewSubject::SameConversation,
        });
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(check(
            Channel::Email,
            match &settings {
                ConnectorSettings::Email(s) => s,
                _ => unreachable!(),
            }
        )
        .is_ok());
    }

    /// A workspace on `dir` with one email inbox (no servers: nothing connects in this test).
    async fn open(dir: &std::path::Path, inbox: Option<Id>) -> (Workspace, Id) {
        let clock = std::sync::Arc::new(crate::clock::ManualClock::default());
        clock.set(1_000_000);
        let workspace =
            crate::open_workspace_with_clock(&crate::ServerConfig::new(dir), clock).expect("open workspace");
        if let Some(inbox) = inbox {
            return (workspace, inbox);
        }
        let admin = crate::workspace::first_test_admin(&workspace).await;
        let server = json!({"host": "127.0.0.1", "port": 1, "security": "none"});
        let request = json!({"name": "Mail", "channel": "email", "connector": {
            "kind": "email", "address": "support@shop.test", "imap": server, "smtp": server,
            "username": "support", "password": "app-password"}});
        let inbox = workspace.create_inbox(&admin, serde_json::from_value(request).expect("request")).await;
        (workspace, inbox.expect("inbox").inbox.id)
    }

    fn mail(id: &str, parents: &[&str], body: &str) -> InboundEmail {
        InboundEmail {
            message_id: id.into(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            from_address: Some("sara@customer.test".into()),
            subject: "Order".into(),
            body: body.into(),
            ..InboundEmail::default()
        }
    }

    #[tokio::test]
    async fn the_cursor_survives_a_restart_and_a_mail_is_stored_once_in_its_thread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (workspace, inbox) = open(dir.path(), None).await;
        let cursor = |uid| Some(MailboxCursor { uid_validity: 7, last_uid: uid });
        let first =
            workspace.ingest_email(inbox, mail("a@c.test", &[], "One"), vec![], cursor(3)).await.expect("a");
        assert!(first.created);
        // The same mail again (another UID: copied back into the mailbox): stored once.
        let again =
            workspace.ingest_email(inbox, mail("a@c.test", &[], "One"), vec![], cursor(4)).await.expect("a");
        assert!(!again.created);
        assert_eq!(again.message_id, first.message_id);
        // An answer whose References name a stored mail joins its conversation (the first parent,
        // an id of ours that names no message, is passed over).
        let reply = workspace.outgoing_email(first.message_id).await;
        assert!(reply.is_err(), "an incoming message is not sent");
        let ours = outgoing_message_id(Id::now_v7(), "support@shop.test");
        let answer =
            workspace.ingest_email(inbox, mail("b@c.test", &[&ours, "a@c.test"], "Two"), vec![], cursor(5));
        assert_eq!(
            answer.await.expect("b").conversation_id,
            first.conversation_id,
            "References name the thread"
        );
        drop(workspace);

        let (workspace, _) = open(dir.path(), Some(inbox)).await;
        assert_eq!(
            workspace.mailbox_cursor(inbox).await.expect("cursor"),
            MailboxCursor { uid_validity: 7, last_uid: 5 }
        );
    }

    /// Issue 20: a mail the domain can't take as it came (here a sender's address over the limit
    /// of a contact's id, and a 300-character name) is kept as a stand-in that says why, with its
    /// text and its subject cut to fit; fetched again, it is that message, not a second one.
    #[tokio::test]
    async fn a_mail_that_cant_be_taken_as_it_came_is_kept_as_a_stand_in_saying_why() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (workspace, inbox) = open(dir.path(), None).await;
        let cursor = |uid| Some(MailboxCursor { uid_validity: 1, last_uid: uid });
        let address = format!("{}@customer.test", "a".repeat(240));
        let hostile = InboundEmail {
            from_address: Some(address.clone()),
            from_name: Some("N".repeat(300)),
            subject: "S".repeat(100_000),
            ..mail("long@c.test", &[], "Where is my <b>refund</b>?")
        };
        let stored = workspace.ingest_email(inbox, hostile.clone(), vec![], cursor(1)).await.expect("kept");
        assert!(stored.created);
        let read = |id| workspace.read(move |store| Ok(store.get::<Message>(id)?.expect("the message")));
        let message = read(stored.message_id).await.expect("read");
        assert!(message.body.starts_with("Subject: SSS"), "{}", &message.body[..40]);
        let intro = message.body.lines().nth(2).expect("the stand-in's first line");
        assert!(
            intro.starts_with(STAND_IN) && intro.contains("external ids must be 1 to 200 bytes"),
            "{intro}"
        );
        assert!(message.body.ends_with("Where is my <b>refund</b>?"), "its text follows");
        assert!(message.body.len() <= policy::MAX_BODY_BYTES);
        let conversation = stored.conversation_id;
        let (contact, subject) = workspace
            .read(move |store| {
                let conversation = store.get::<Conversation>(conversation)?.expect("conversation");
                Ok((store.get::<Contact>(conversation.contact_id)?.expect("contact"), conversation.subject))
            })
            .await
            .expect("read");
        assert!(!contact.name.contains(&address) && contact.email.is_none(), "{contact:?}");
        assert!(subject.is_none_or(|s| s.chars().count() <= 201), "the subject is cut");
        let again = workspace.ingest_email(inbox, hostile, vec![], cursor(2)).await.expect("again");
        assert_eq!((again.message_id, again.created), (stored.message_id, false), "one stand-in");
    }

    #[test]
    fn clear_text_is_only_allowed_on_loopback() {
        let mut server =
            MailServer { host: "imap.example.com".into(), port: 143, security: MailSecurity::None };
        assert!(check_server("imap", &server).is_err());
        server.host = "127.0.0.1".into();
        assert!(check_server("imap", &server).is_ok());
        server.host = "imap.example.com".into();
        server.security = MailSecurity::Tls;
        assert!(check_server("imap", &server).is_ok());
    }

    #[test]
    fn a_long_thread_keeps_its_root_and_latest_ids() {
        let mut ids: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
        trim_ids(&mut ids);
        assert_eq!(ids.len(), THREAD_IDS);
        assert_eq!(ids[0], "m0");
        assert_eq!(ids.last().map(String::as_str), Some("m29"));
        assert_eq!(ids[1], "m11");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 256, failure_persistence: None, ..Default::default() })]

        /// Issue 20: what an email's sender controls (its body, its From address, its threading ids)
        /// is cut and read without a panic, and a cut body stays within the limit.
        #[test]
        fn sender_controlled_text_is_cut_and_read_without_panic(
            text in ".{0,300}",
            max in 0usize..400,
            address in ".{0,40}",
            ids in proptest::collection::vec(".{0,8}", 0..(THREAD_IDS * 2)),
        ) {
            let cut = truncate(&text, max);
            proptest::prop_assert!(cut == text || cut.len() <= max.max(38), "{} > {max}", cut.len());
            let _ = outgoing_message_id(Id::nil(), &address);
            let mut ids = ids;
            let first = ids.first().cloned();
            trim_ids(&mut ids);
            proptest::prop_assert!(ids.len() <= THREAD_IDS);
            proptest::prop_assert_eq!(ids.first().cloned(), first);
        }
    }
}
