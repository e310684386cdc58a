//! The hostile corpus's raw emails through the real email channel into the real window (issue 20):
//! every `email` case of `tests/fixtures/hostile/cases.jsonl` (encoded and raw markup in subjects
//! and senders, a reversed sender name, malformed UTF-8 in the body and the subject, UTF-7,
//! header injection, HTML-only mail with script, path-climbing, device and reversed attachment
//! names, an SVG with a script, a 200-deep multipart, 5,000 parts, a 200 KB subject, 10,000
//! references, broken MIME, NUL bytes, no sender, bytes that are no email at all) is put with IMAP
//! APPEND into a mailbox of the Dovecot that `tests/e2e/run.sh` starts (`scripts/with-dovecot.sh`),
//! which an email inbox of the workspace watches: the server's own IMAP worker fetches and
//! ingests it, and the app shows it.
//!
//! For each case, the mail must arrive: as a customer's message in the inbox (found on the feed)
//! or, when the server can't take it as it came, as the stand-in that says why
//! (`workspace/email.rs::ingest_email`); a mail that arrives as neither fails the step, so none
//! is lost without a word. Its conversation is opened with a real click and checked through
//! WebDriver with `hostile.rs`'s checks: no script ran (`window.__pwned`, an element with id
//! `pwned`, the title), the message stays in the thread pane and the page grows no sideways
//! scroll; the body shows exactly what the server keeps (its part before a folded quote) and no
//! element but a web link; the subject shows as text, bidi-isolated, inside the pane; the
//! sender's name reads exactly in the list row, the thread's title and the message, each
//! bidi-isolated; every attachment's name shows as text (the last part of its path), isolated,
//! inside the message. After each, the palette answers Ctrl+K within a second.
//!
//! Each case's `Message-ID` and sender's address (most of them share one, as written for the
//! parser's test) are made its own, so that deduplication on the id (a repeat is dropped, as it
//! must be) doesn't hide a case, and each sender is a new contact named as its mail names them
//! (a known address keeps its contact's name). Where the parser's test says what the sender's
//! name or the subject is, the server must have kept exactly that.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use switchboard_e2e::Session;
use switchboard_proto::*;
use switchboard_server::Clock as _;

use crate::hostile::{corpus, generate, open_and_check, responsive, shown_file_name};
use crate::{leave_fields, screenshot, server, Harness};

/// How long a mail may take from APPEND to the feed (the 5,000 files of one case are stored one by
/// one on a busy machine).
const ARRIVAL: Duration = Duration::from_secs(120);

/// An email case: the body reads what the server keeps, the subject and the sender's name read
/// exactly in isolated elements inside the pane, every attachment's name is text.
const CHECK_EMAIL: &str = r#"
const { body, subject, name, files } = expected;
const text = message.querySelector('[data-testid=message-body]');
if (!text) return [...failed, 'the message has no body'];
const shown = text.textContent;
if (message.querySelector('[data-testid=quote-toggle]')) {
  if (!body.startsWith(shown)) failed.push(`the body reads ${JSON.stringify(shown.slice(0, 80))}, not the start of what the server keeps`);
} else if (shown !== body.trimEnd()) {
  failed.push(`the body reads ${JSON.stringify(shown.slice(0, 80))}… (${shown.length} chars, not ${body.trimEnd().length})`);
}
for (const e of text.querySelectorAll('*')) {
  const href = e.getAttribute('href') || '';
  if (e.tagName !== 'A' || !/^https?:\/\//.test(href)) failed.push(`the body holds a <${e.tagName.toLowerCase()}> ${href}`);
}
const textBox = text.getBoundingClientRect();
if (textBox.right > box.right + 1 || textBox.left < box.left - 1) failed.push('the body leaves its message');
const shownSubject = thread.querySelector('.subject');
if (subject === null) {
  if (shownSubject) failed.push(`a subject shows: ${JSON.stringify(shownSubject.textContent.slice(0, 60))}`);
} else if (!shownSubject) {
  failed.push('the subject is not shown');
} else {
  if (shownSubject.textContent !== subject) failed.push(`the subject reads ${JSON.stringify(shownSubject.textContent.slice(0, 60))}`);
  if (shownSubject.children.length > 0) failed.push('the subject holds elements');
  if (!isolated(shownSubject)) failed.push('the subject is not bidi-isolated');
  const s = shownSubject.getBoundingClientRect();
  if (s.right > pane.right + 1 || s.left < pane.left - 1) failed.push(`the subject (${s.left}-${s.right}) leaves the pane`);
}
const names = [document.querySelector(`[data-testid=conversation-row][data-id='${thread.dataset.id}'] [data-testid=row-contact]`), thread.querySelector('h2'), message.querySelector('.sender-name')];
for (const e of names) {
  if (!e) { failed.push('the sender is not shown'); continue; }
  if (e.textContent !== name) failed.push(`the sender reads ${JSON.stringify(e.textContent.slice(0, 60))}, not ${JSON.stringify(name.slice(0, 60))}`);
  if (e.children.length > 0) failed.push('the sender holds elements');
  if (!isolated(e)) failed.push(`the sender's element is not bidi-isolated (${getComputedStyle(e).unicodeBidi})`);
}
const attachments = [...message.querySelectorAll('[data-testid=attachment]')];
if (attachments.length !== files.length) return [...failed, `${attachments.length} attachments shown, not ${files.length}`];
attachments.forEach((a, i) => {
  const n = a.querySelector('.name');
  if (!n) { failed.push(`attachment ${i} has no name`); return; }
  if (files[i] !== null && n.textContent !== files[i]) failed.push(`attachment ${i} reads ${JSON.stringify(n.textContent.slice(0, 60))}, not ${JSON.stringify(files[i].slice(0, 60))}`);
  if (files[i] === null && n.textContent.trim() === '') failed.push(`attachment ${i} shows no name`);
  if (n.children.length > 0) failed.push(`attachment ${i}'s name holds elements`);
  if (!isolated(n)) failed.push(`attachment ${i}'s name is not bidi-isolated`);
  const r = a.getBoundingClientRect();
  if (r.right > box.right + 1 || r.left < box.left - 1) failed.push(`attachment ${i} leaves its message`);
  for (const e of a.querySelectorAll('iframe, object, embed, script, svg foreignObject')) failed.push(`attachment ${i} holds a <${e.tagName.toLowerCase()}>`);
});
return failed;
"#;

/// How the server's stand-in for a mail it can't take as it came begins
/// (`crates/server/src/workspace/email.rs::STAND_IN`).
const STAND_IN: &str = "This email could not be kept as it came";

/// The Dovecot of `scripts/with-dovecot.sh`.
struct Mail {
    port: u16,
    user: String,
    password: String,
}

impl Mail {
    fn from_env() -> anyhow::Result<Mail> {
        let var = |name: &str| {
            std::env::var(name).with_context(|| {
                format!("{name} is not set: the e2e needs a Dovecot (tests/e2e/run.sh runs under scripts/with-dovecot.sh)")
            })
        };
        Ok(Mail {
            port: var("SWITCHBOARD_TEST_IMAP_PORT")?.parse()?,
            user: var("SWITCHBOARD_TEST_IMAP_USER")?,
            password: var("SWITCHBOARD_TEST_IMAP_PASSWORD")?,
        })
    }

    async fn session(&self) -> anyhow::Result<async_imap::Session<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.context("IMAP connect")?;
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.context("IMAP greeting")?;
        client.login(&self.user, &self.password).await.map_err(|(e, _)| e).context("IMAP login")
    }
}

/// An IMAP `date-time` (RFC 3501: `01-Dec-2026 04:15:00 +0000`) of an instant in milliseconds.
fn imap_date_time(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .expect("an instant jiff holds")
        .strftime("%d-%b-%Y %H:%M:%S +0000")
        .to_string()
}

/// The raw bytes of an `email` case, its shared `Message-ID` and sender's address made the case's
/// own: one contact per case, named as its mail names it.
fn raw_email(case: &corpus::Case) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    let raw = if let Some(raw) = case.get("raw") {
        raw.as_bytes().to_vec()
    } else if let Some(encoded) = case.get("raw_base64") {
        base64::engine::general_purpose::STANDARD.decode(encoded)?
    } else {
        generate::generated_email(case.generator().context("raw, raw_base64 or generate")?)
    };
    let own_id = format!("<{}@evil.test>", case.name);
    let own_address = format!("{}@evil.test", case.name);
    let shared: [(&[u8], &[u8]); 3] = [
        (b"<h@evil.test>", own_id.as_bytes()),
        (b"<gen@evil.test>", own_id.as_bytes()),
        (b"mallory@evil.test", own_address.as_bytes()),
    ];
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw.as_slice();
    'bytes: while !rest.is_empty() {
        for (shared, own) in shared {
            if rest.starts_with(shared) {
                out.extend_from_slice(own);
                rest = &rest[shared.len()..];
                continue 'bytes;
            }
        }
        out.push(rest[0]);
        rest = &rest[1..];
    }
    Ok(out)
}

/// What the feed has said so far about the email inbox: its conversations and contacts, and the
/// messages already seen.
struct Feed {
    since: i64,
    inbox: Id,
    conversations: std::collections::HashMap<Id, Conversation>,
    contacts: std::collections::HashMap<Id, Contact>,
    seen: std::collections::HashSet<Id>,
}

impl Feed {
    /// Reads the feed on; answers the customer messages of the inbox not seen before.
    async fn read(&mut self, api: &server::Api) -> anyhow::Result<Vec<Message>> {
        let mut messages = Vec::new();
        loop {
            let page = api.sync_page(self.since).await?;
            for change in page.changes {
                let Some(data) = change.data.filter(|_| change.op == ChangeOp::Upsert) else { continue };
                match change.entity {
                    EntityKind::Conversation => {
                        let conversation: Conversation = serde_json::from_value(data)?;
                        if conversation.inbox_id == self.inbox {
                            self.conversations.insert(conversation.id, conversation);
                        }
                    }
                    EntityKind::Contact => {
                        let contact: Contact = serde_json::from_value(data)?;
                        self.contacts.insert(contact.id, contact);
                    }
                    EntityKind::Message => {
                        let message: Message = serde_json::from_value(data)?;
                        if message.kind == MessageKind::Incoming && self.seen.insert(message.id) {
                            messages.push(message);
                        }
                    }
                    _ => {}
                }
            }
            self.since = page.next;
            if !page.has_more {
                break;
            }
        }
        Ok(messages.into_iter().filter(|m| self.conversations.contains_key(&m.conversation_id)).collect())
    }
}

pub async fn hostile_email_steps(
    harness: &Harness,
    server: &server::Server,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let cases: Vec<_> = corpus::load().into_iter().filter(|case| case.kind == "email").collect();
    anyhow::ensure!(cases.len() >= 30, "the corpus lost its email cases: {}", cases.len());
    let mail = Mail::from_env()?;
    let mailbox = format!("e2e-hostile-{}", Id::new_v4().simple());
    let mut imap = mail.session().await?;
    imap.create(&mailbox).await.with_context(|| format!("CREATE {mailbox}"))?;

    // An email inbox on that mailbox, Support's, each new mail a conversation of its own (so one
    // case's thread is one case). Nothing is sent from it: its SMTP server is never reached.
    let created: CreatedInbox = serde_json::from_value(
        server
            .admin(
                "/api/v1/inboxes",
                json!({"name": "Hostile Mail", "channel": "email",
                       "member_team_ids": workspace.whatsapp.inbox.member_team_ids,
                       "connector": {"kind": "email", "address": "support@desk.test",
                           "imap": {"host": "127.0.0.1", "port": mail.port, "security": "none"},
                           "smtp": {"host": "127.0.0.1", "port": 1, "security": "none"},
                           "username": mail.user, "password": mail.password, "mailbox": mailbox,
                           "new_subject": "new_conversation"}}),
            )
            .await?,
    )?;
    let mut feed = Feed {
        since: 0,
        inbox: created.inbox.id,
        conversations: Default::default(),
        contacts: Default::default(),
        seen: Default::default(),
    };
    feed.read(server).await?;

    leave_fields(session).await?;
    crate::show_all_view(session).await?;
    let started = Instant::now();
    let mut shot = 0;
    let mut stand_ins = 0;
    for case in &cases {
        let raw = raw_email(case)?;
        // Dated by the server's clock (which earlier steps move): the worker's first read of the
        // mailbox takes only the last day's mail.
        let date = format!("\"{}\"", imap_date_time(server.clock.now()));
        imap.append(&mailbox, None, Some(&date), &raw)
            .await
            .with_context(|| format!("APPEND {}", case.name))?;
        let deadline = Instant::now() + ARRIVAL;
        let message = loop {
            let mut arrived = feed.read(server).await?;
            anyhow::ensure!(
                arrived.len() <= 1,
                "hostile email {} became {} messages: {:?}",
                case.name,
                arrived.len(),
                arrived.iter().map(|m| &m.body).collect::<Vec<_>>()
            );
            if let Some(message) = arrived.pop() {
                break message;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "hostile email {} ({}) never arrived in {} s: neither taken nor accounted for",
                case.name,
                case.tries,
                ARRIVAL.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let conversation = feed.conversations[&message.conversation_id].clone();
        let contact = feed
            .contacts
            .get(&conversation.contact_id)
            .with_context(|| format!("hostile email {}: its contact is not on the feed", case.name))?;
        if message.body.starts_with(STAND_IN) {
            stand_ins += 1;
            println!(
                "hostile email: {} arrived as the stand-in: {}",
                case.name,
                message.body.lines().next().unwrap_or_default()
            );
        }
        // What the parser's test says the mail holds is what the server kept.
        if let Some(name) = case.check().get("from_name").and_then(serde_json::Value::as_str) {
            anyhow::ensure!(
                contact.name == name,
                "hostile email {}: the sender is {:?}, not {name:?}",
                case.name,
                contact.name
            );
        }
        if let Some(subject) = case.check().get("subject").and_then(serde_json::Value::as_str) {
            anyhow::ensure!(
                message.body.starts_with(&format!("Subject: {subject}\n")),
                "hostile email {}: the body does not open with its subject {subject:?}",
                case.name
            );
        }
        let files: Vec<Option<String>> =
            message.attachments.iter().map(|a| shown_file_name(&a.file_name)).collect();
        let expected = json!({"body": message.body, "subject": conversation.subject, "name": contact.name, "files": files});
        let sent =
            InboundResult { conversation_id: message.conversation_id, message_id: message.id, created: true };
        open_and_check(session, case, &sent, CHECK_EMAIL, expected).await?;
        if [
            "email-subject-script",
            "email-from-rlo",
            "email-html-only-script",
            "email-filename-rlo",
            "email-many-parts",
        ]
        .contains(&case.name.as_str())
        {
            shot += 1;
            screenshot(session, harness, &format!("hostile-email-{shot}-{}", case.name)).await?;
        }
        responsive(session, &case.name).await?;
        server.set_status(message.conversation_id, "resolved").await?;
    }
    imap.logout().await?;
    anyhow::ensure!(shot == 5, "the step took {shot} screenshots of hostile emails, not 5");
    leave_fields(session).await?;
    crate::show_all_view(session).await?;
    println!(
        "hostile email: {} raw emails through Dovecot and the IMAP worker into the window, {stand_ins} as the stand-in \
         saying why; none ran or left its pane, in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_read_as_imap_date_times() {
        assert_eq!(super::imap_date_time(0), "01-Jan-1970 00:00:00 +0000");
        assert_eq!(super::imap_date_time(1_795_236_900_000), "21-Nov-2026 04:55:00 +0000");
        assert_eq!(super::imap_date_time(951_782_400_000 + 3_723_000), "29-Feb-2000 01:02:03 +0000");
    }
}
