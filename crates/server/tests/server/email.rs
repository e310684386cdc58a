//! The email connector against real servers: Dovecot for IMAP (`scripts/with-dovecot.sh`) and
//! aiosmtpd as the SMTP server (`scripts/with-smtp-sink.sh`, each message a file in a Maildir).
//! Mail is put into the watched mailbox with IMAP APPEND, each test in a mailbox of its own.
//!
//! Without the wrappers' variables these tests say they were skipped and pass, as the S3 tests do;
//! `scripts/test.sh`'s `email` suite runs them through both wrappers and fails if any was skipped.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::OnceLock,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_proto::*;
use tokio::sync::RwLock;

use crate::harness::*;

/// Tests that cut every IMAP connection or restart Dovecot hold this exclusively; the others
/// share it, so they never see the server go away under them.
fn dovecot_lock() -> &'static RwLock<()> {
    static LOCK: OnceLock<RwLock<()>> = OnceLock::new();
    LOCK.get_or_init(|| RwLock::new(()))
}

/// The servers the wrappers started.
struct MailServers {
    imap_port: u16,
    user: String,
    password: String,
    smtp_port: u16,
    sink: PathBuf,
    log: PathBuf,
    kick: String,
    restart: String,
}

impl MailServers {
    fn from_env(test: &str) -> Option<MailServers> {
        let var = |name: &str| std::env::var(name).ok();
        let servers = (|| {
            Some(MailServers {
                imap_port: var("SWITCHBOARD_TEST_IMAP_PORT")?.parse().ok()?,
                user: var("SWITCHBOARD_TEST_IMAP_USER")?,
                password: var("SWITCHBOARD_TEST_IMAP_PASSWORD")?,
                smtp_port: var("SWITCHBOARD_TEST_SMTP_PORT")?.parse().ok()?,
                sink: var("SWITCHBOARD_TEST_SMTP_MAILDIR")?.into(),
                log: var("SWITCHBOARD_TEST_DOVECOT_LOG")?.into(),
                kick: var("SWITCHBOARD_TEST_DOVECOT_KICK")?,
                restart: var("SWITCHBOARD_TEST_DOVECOT_RESTART")?,
            })
        })();
        if servers.is_none() {
            eprintln!(
                "skipping email::{test}: no mail servers (run through scripts/with-dovecot.sh \
                 scripts/with-smtp-sink.sh)"
            );
        }
        servers
    }

    async fn imap(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port)).await.expect("IMAP connect");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting").expect("a greeting");
        client.login(&self.user, &self.password).await.map_err(|(e, _)| e).expect("IMAP login")
    }

    /// A mailbox of this test's own.
    async fn mailbox(&self) -> String {
        let name = format!("test-{}", Id::new_v4().simple());
        let mut imap = self.imap().await;
        if let Err(error) = imap.create(&name).await {
            // The name is this test's alone, so "already exists" can only mean Dovecot made it and
            // then reported a race of its own: the mailbox is usable if it opens empty.
            assert!(error.to_string().contains("ALREADYEXISTS"), "CREATE {name}: {error}");
            let opened =
                imap.examine(&name).await.unwrap_or_else(|e| panic!("CREATE {name}: {error}; EXAMINE: {e}"));
            assert_eq!(opened.exists, 0, "CREATE {name}: {error}, and it holds mail");
        }
        imap.logout().await.expect("LOGOUT");
        name
    }

    /// Delivers a mail into `mailbox` (IMAP APPEND).
    async fn deliver(&self, mailbox: &str, raw: &str) {
        let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut imap = self.imap().await;
        imap.append(mailbox, None, None, raw.as_bytes()).await.expect("APPEND");
        imap.logout().await.expect("LOGOUT");
    }

    /// Delivers a mail that arrived at `internal_date` (`"01-Jan-2020 10:00:00 +0000"`).
    async fn deliver_dated(&self, mailbox: &str, internal_date: &str, raw: &str) {
        let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut imap = self.imap().await;
        let date = format!("\"{internal_date}\"");
        imap.append(mailbox, None, Some(&date), raw.as_bytes()).await.expect("APPEND");
        imap.logout().await.expect("LOGOUT");
    }

    /// Every message the SMTP server received for `to`, raw.
    fn received_for(&self, to: &str) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.sink.join("new")).expect("the sink's Maildir") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("a message");
            if text.lines().any(|l| l.eq_ignore_ascii_case(&format!("X-RcptTo: {to}"))) {
                out.push(text);
            }
        }
        out
    }

    /// The same servers as another user (the counted one, whom no kick disturbs).
    fn as_counted_user(&self) -> MailServers {
        let user = std::env::var("SWITCHBOARD_TEST_IMAP_COUNTED_USER").expect("the counted user");
        MailServers {
            user,
            sink: self.sink.clone(),
            log: self.log.clone(),
            kick: self.kick.clone(),
            restart: self.restart.clone(),
            password: self.password.clone(),
            ..*self
        }
    }

    /// Where Dovecot's log ends now: [`Self::bodies_fetched`] reads what comes after.
    fn log_mark(&self) -> usize {
        std::fs::read(&self.log).map(|log| log.len()).unwrap_or(0)
    }

    /// How many message bodies this user's IMAP sessions fetched since `mark`, once every session
    /// that logged in has ended (Dovecot logs `body_count=` when a session ends).
    fn bodies_fetched(&self, mark: usize) -> Option<u64> {
        let log = std::fs::read(&self.log).expect("dovecot's log");
        let log = String::from_utf8_lossy(log.get(mark..).unwrap_or_default());
        let logins = log.lines().filter(|l| l.contains(&format!("Login: user=<{}>", self.user))).count();
        let ended: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(&format!("imap({})", self.user)) && l.contains("Disconnected"))
            .collect();
        if ended.len() < logins {
            return None;
        }
        let count = |line: &str| -> u64 {
            line.split_whitespace()
                .find_map(|word| word.strip_prefix("body_count="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Some(ended.iter().map(|l| count(l)).sum())
    }

    fn run(&self, script: &str) {
        let status = std::process::Command::new(script).status().expect("the wrapper's helper");
        // `doveadm kick` says 68 when nobody was connected; either way the connections are gone.
        assert!(status.success() || status.code() == Some(68), "{script} failed: {status}");
    }
}

/// A server whose email workers notice settings and reconnect quickly.
async fn start_server() -> TestServer {
    TestServer::start_with(quick_email).await
}

/// Settings read every 50 ms, IDLE issued again every 300 ms (so every test also goes through
/// re-issuing it), reconnects after 100 ms doubling to 500 ms.
fn quick_email(config: &mut switchboard_server::ServerConfig) {
    config.email.rescan = Duration::from_millis(50);
    config.email.idle_timeout = Duration::from_millis(300);
    config.email.backoff = Duration::from_millis(100);
    config.email.max_backoff = Duration::from_millis(500);
}

/// An email inbox on `mailbox`, replies through the sink.
async fn email_inbox(server: &TestServer, mail: &MailServers, mailbox: &str, extra: Value) -> Id {
    let mut connector = json!({
        "kind": "email",
        "address": "support@shop.test",
        "display_name": "Shop Support",
        "imap": {"host": "127.0.0.1", "port": mail.imap_port, "security": "none"},
        "smtp": {"host": "127.0.0.1", "port": mail.smtp_port, "security": "none"},
        "username": mail.user,
        "password": mail.password,
        "mailbox": mailbox,
    });
    if let (Some(connector), Some(extra)) = (connector.as_object_mut(), extra.as_object()) {
        connector.extend(extra.clone());
    }
    let created = server
        .admin
        .ok(
            "/api/v1/inboxes",
            json!({"name": format!("Email {mailbox}"), "channel": "email", "connector": connector}),
        )
        .await;
    let inbox: Id = serde_json::from_value(created["inbox"]["id"].clone()).expect("inbox id");
    let (status, info) = server.admin.get(&format!("/api/v1/inboxes/{inbox}/connector")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["kind"], "email", "{info}");
    assert!(!info.to_string().contains(&mail.password), "the password is never read back: {info}");
    inbox
}

/// The messages of every conversation of `inbox`, oldest first.
async fn conversations(server: &TestServer, inbox: Id) -> BTreeMap<Id, Vec<Message>> {
    let state = apply(&server.admin.bootstrap().await);
    let mut out: BTreeMap<Id, Vec<Message>> = BTreeMap::new();
    for ((kind, _), value) in &state {
        if *kind == EntityKind::Conversation {
            let conversation: Conversation = serde_json::from_value(value.clone()).expect("conversation");
            if conversation.inbox_id == inbox {
                out.entry(conversation.id).or_default();
            }
        }
    }
    for ((kind, _), value) in &state {
        if *kind == EntityKind::Message {
            let message: Message = serde_json::from_value(value.clone()).expect("message");
            if let Some(messages) = out.get_mut(&message.conversation_id) {
                messages.push(message);
            }
        }
    }
    for messages in out.values_mut() {
        messages.sort_by_key(|m| (m.created_at, m.id));
    }
    out
}

fn incoming(messages: &[Message]) -> Vec<&Message> {
    messages.iter().filter(|m| m.kind == MessageKind::Incoming).collect()
}

/// Waits (polling, up to 20 s of real time: the IMAP worker is real I/O) until `done` holds.
async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `inbox` holds `count` customer messages in all, and returns its conversations.
async fn until_incoming(server: &TestServer, inbox: Id, count: usize) -> BTreeMap<Id, Vec<Message>> {
    until(&format!("{count} customer messages"), async || {
        let all = conversations(server, inbox).await;
        let seen: usize = all.values().map(|m| incoming(m).len()).sum();
        assert!(seen <= count, "more customer messages than were delivered: {all:#?}");
        (seen == count).then_some(all)
    })
    .await
}

/// A header's value, its folded lines joined (RFC 5322 §2.2.3).
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.replace("\r\n", "\n");
    let head = head.split("\n\n").next().unwrap_or_default();
    let mut value: Option<String> = None;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(value) = value.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((key, rest)) = line.split_once(':') {
            if key.eq_ignore_ascii_case(name) {
                value = Some(rest.trim().to_owned());
            }
        }
    }
    value
}

#[tokio::test]
async fn mail_becomes_a_conversation_the_reply_threads_and_the_answer_joins_it() {
    let Some(mail) =
        MailServers::from_env("mail_becomes_a_conversation_the_reply_threads_and_the_answer_joins_it")
    else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    let customer = format!("sara-{}@customer.test", Id::new_v4().simple());

    mail.deliver(
        &mailbox,
        &format!(
            "From: Sara Ahmadi <{customer}>\nTo: support@shop.test\nSubject: Order 17 is late\n\
             Message-ID: <first-{mailbox}@customer.test>\nDate: Mon, 30 Nov 2026 06:00:00 +0000\n\n\
             Hello, my order 17 has not arrived.\n"
        ),
    )
    .await;
    let all = until_incoming(&server, inbox, 1).await;
    let (&conversation, messages) = all.iter().next().expect("a conversation");
    let first = incoming(messages)[0];
    assert!(
        first.body.contains("Subject: Order 17 is late"),
        "a new thread shows its subject: {}",
        first.body
    );
    assert!(first.body.contains("my order 17 has not arrived"), "{}", first.body);

    // The agent's reply goes out by SMTP with the thread's headers.
    let (status, answer) = server.admin.reply(conversation, "Sorry! It ships today.").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let sent = until("the reply at the SMTP server", async || mail.received_for(&customer).pop()).await;
    assert_eq!(header(&sent, "Subject").as_deref(), Some("Re: Order 17 is late"), "{sent}");
    assert_eq!(
        header(&sent, "In-Reply-To").as_deref(),
        Some(format!("<first-{mailbox}@customer.test>").as_str()),
        "{sent}"
    );
    assert!(
        header(&sent, "References").is_some_and(|r| r.contains(&format!("<first-{mailbox}@customer.test>"))),
        "{sent}"
    );
    assert!(header(&sent, "From").is_some_and(|f| f.contains("support@shop.test")), "{sent}");
    assert!(header(&sent, "Reply-To").is_some_and(|f| f.contains("support@shop.test")), "{sent}");
    assert!(header(&sent, "Auto-Submitted").is_none(), "a person's reply is not automatic: {sent}");
    assert!(sent.contains("It ships today."), "{sent}");
    let our_id = header(&sent, "Message-ID").expect("a Message-ID").to_owned();
    assert!(our_id.ends_with("@shop.test>"), "{our_id}");
    let reply_id: Id = serde_json::from_value(answer["message"]["id"].clone()).expect("the reply's id");
    let delivered = until("the reply marked sent", async || {
        let all = conversations(&server, inbox).await;
        all[&conversation].iter().find(|m| m.id == reply_id && m.delivery == DeliveryState::Sent).cloned()
    })
    .await;
    assert_eq!(delivered.body, "Sorry! It ships today.");

    // The customer answers that mail, with another subject and the quote below: same conversation.
    mail.deliver(
        &mailbox,
        &format!(
            "From: {customer}\nTo: support@shop.test\nSubject: thanks!!\nMessage-ID: <second-{mailbox}@customer.test>\n\
             In-Reply-To: {our_id}\nReferences: <first-{mailbox}@customer.test> {our_id}\n\n\
             Great, thank you.\n\nOn Mon, 30 Nov 2026, Shop Support wrote:\n> Sorry! It ships today.\n"
        ),
    )
    .await;
    let all = until_incoming(&server, inbox, 2).await;
    assert_eq!(all.len(), 1, "the answer joined the conversation: {all:#?}");
    let answer = incoming(&all[&conversation])[1].body.clone();
    assert!(answer.starts_with("Great, thank you."), "{answer}");
    assert!(answer.contains("\n\n> On Mon, 30 Nov 2026"), "the quote is kept, folded: {answer}");
    assert!(!answer.contains("Subject:"), "a reply in a thread does not repeat a subject: {answer}");

    // A copy of our own reply filed into the mailbox (a Bcc to ourselves) is not a customer's.
    mail.deliver(&mailbox, &sent.replace("\r\n", "\n")).await;
    mail.deliver(&mailbox, &format!("From: {customer}\nSubject: ping\nMessage-ID: <ping-{mailbox}@customer.test>\nIn-Reply-To: {our_id}\n\nping\n")).await;
    let all = until_incoming(&server, inbox, 3).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        incoming(&all[&conversation]).iter().all(|m| !m.body.starts_with("Sorry! It ships today")),
        "our own reply was not taken for the customer's: {all:#?}"
    );

    // A second reply, with a file: it references the whole thread and carries the file.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"Tracking: ZX-17".to_vec())
            .file_name("tracking.txt")
            .mime_str("text/plain")
            .expect("mime"),
    );
    let uploaded: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/attachments?conversation_id={conversation}", server.base))
        .bearer_auth(&server.admin.token)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("the attachment");
    let (status, answer) = server
        .admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_id": Id::new_v4(), "kind": "reply", "body": "Here is the tracking number.",
                "attachment_ids": [uploaded["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let second = until("the second reply", async || {
        mail.received_for(&customer).into_iter().find(|m| m.contains("tracking number"))
    })
    .await;
    assert_eq!(
        header(&second, "In-Reply-To").as_deref(),
        Some(format!("<ping-{mailbox}@customer.test>").as_str()),
        "{second}"
    );
    let references = header(&second, "References").unwrap_or_default();
    for id in [
        format!("<first-{mailbox}@customer.test>"),
        our_id.clone(),
        format!("<second-{mailbox}@customer.test>"),
    ] {
        assert!(references.contains(&id), "References name {id}: {second}");
    }
    assert!(
        second.contains("filename=\"tracking.txt\"") || second.contains("filename=tracking.txt"),
        "{second}"
    );
}

#[tokio::test]
async fn html_only_and_malformed_mail_are_shown_as_safe_text() {
    let Some(mail) = MailServers::from_env("html_only_and_malformed_mail_are_shown_as_safe_text") else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    mail.deliver(
        &mailbox,
        "From: html@customer.test\nSubject: Styled\nMessage-ID: <html@customer.test>\n\
         Content-Type: text/html; charset=utf-8\n\n\
         <html><head><script>steal()</script></head><body><p>Where is <b>my refund</b>?</p>\
         <img src=\"https://tracker.test/pixel.gif\"></body></html>\n",
    )
    .await;
    mail.deliver(
        &mailbox,
        "From: <<broken@@customer.test\nSubject: =?utf-8?B?not base64!?=\nContent-Type: multipart/mixed; boundary=\"x\"\n\n\
         --x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n%%%% not base64\n",
    )
    .await;
    let all = until_incoming(&server, inbox, 2).await;
    let bodies: Vec<String> = all.values().flat_map(|m| incoming(m)).map(|m| m.body.clone()).collect();
    let html = bodies.iter().find(|b| b.contains("refund")).expect("the HTML mail");
    assert!(html.contains("Where is") && html.contains("my refund"), "{html}");
    assert!(!html.contains('<') && !html.contains("steal"), "no markup, no script: {html}");
    assert!(bodies.iter().any(|b| !b.contains("refund")), "the malformed mail is there too: {bodies:?}");
}

#[tokio::test]
async fn an_auto_reply_from_the_customer_side_gets_no_reply_back() {
    let Some(mail) = MailServers::from_env("an_auto_reply_from_the_customer_side_gets_no_reply_back") else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    let (status, answer) = server
        .admin
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"auto_replies": {"greeting": {"body": "Thanks for writing, we'll answer soon."}}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // And a rule that answers anything saying "away" (B16: no rule's reply either).
    let (status, rule) = server
        .admin
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Away notes", "trigger": {"type": "event", "events": ["message_received"]},
                "conditions": {"text_contains": ["away"]},
                "actions": [{"type": "send_reply", "body": "Noted, thank you."}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rule}");
    let person = format!("person-{}@customer.test", Id::new_v4().simple());
    let robot = format!("robot-{}@customer.test", Id::new_v4().simple());
    mail.deliver(
        &mailbox,
        &format!("From: {person}\nSubject: Hello\nMessage-ID: <p-{mailbox}@c.test>\n\nHi there\n"),
    )
    .await;
    mail.deliver(
        &mailbox,
        &format!(
            "From: {robot}\nSubject: Out of office: Hello\nMessage-ID: <r-{mailbox}@c.test>\n\
             Auto-Submitted: auto-replied\n\nI am away until Monday.\n"
        ),
    )
    .await;
    let all = until_incoming(&server, inbox, 2).await;
    // The greeting is written in the transaction that stores the mail: what the feed shows now
    // is final.
    let (mut greeted, mut guarded) = (0, 0);
    for messages in all.values() {
        let from_robot = incoming(messages)[0].body.contains("I am away");
        let outgoing = messages.iter().filter(|m| m.kind == MessageKind::Outgoing).count();
        if from_robot {
            assert_eq!(outgoing, 0, "no automatic reply to an automatic mail: {messages:#?}");
            assert!(
                messages.iter().any(|m| m.kind == MessageKind::Activity && m.body.contains("Auto-Submitted")),
                "an activity line says why: {messages:#?}"
            );
            guarded += 1;
        } else {
            assert_eq!(outgoing, 1, "a person's mail gets the greeting: {messages:#?}");
            greeted += 1;
        }
    }
    assert_eq!((greeted, guarded), (1, 1));
    let (status, runs) = server
        .admin
        .get(&format!("/api/v1/automation-rules/{}/runs", rule["id"].as_str().unwrap_or_default()))
        .await;
    assert_eq!(status, StatusCode::OK, "{runs}");
    let runs: Vec<automation::AutomationRun> = serde_json::from_value(runs).expect("runs");
    assert_eq!(runs.len(), 1, "the rule matched the automatic mail: {runs:#?}");
    assert_eq!(runs[0].actions[0].reason.as_deref(), Some("automatic_email"), "{runs:#?}");
    // The person's greeting reaches the SMTP server marked automatic; the robot gets nothing.
    let greeting = until("the greeting at the SMTP server", async || mail.received_for(&person).pop()).await;
    assert_eq!(header(&greeting, "Auto-Submitted").as_deref(), Some("auto-replied"), "{greeting}");
    assert!(mail.received_for(&robot).is_empty(), "nothing went to the auto-responder");
}

#[tokio::test]
async fn a_connection_cut_by_the_server_is_resumed_without_loss_or_duplicates() {
    let Some(mail) =
        MailServers::from_env("a_connection_cut_by_the_server_is_resumed_without_loss_or_duplicates")
    else {
        return;
    };
    let _exclusive = dovecot_lock().write().await;
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    let customer = |n: u32| {
        format!(
            "From: c{n}@customer.test\nSubject: Mail {n}\nMessage-ID: <{n}-{mailbox}@c.test>\n\nNumber {n}\n"
        )
    };
    mail.deliver(&mailbox, &customer(1)).await;
    until_incoming(&server, inbox, 1).await;

    // The server cuts the IDLE connection; mail arrives while the worker is away or reconnecting.
    mail.run(&mail.kick);
    mail.deliver(&mailbox, &customer(2)).await;
    until_incoming(&server, inbox, 2).await;

    // Dovecot restarts; mail arrives while it is up again.
    mail.run(&mail.restart);
    mail.deliver(&mailbox, &customer(3)).await;
    mail.deliver(&mailbox, &customer(4)).await;
    let all = until_incoming(&server, inbox, 4).await;
    let mut numbers: Vec<String> = all
        .values()
        .flat_map(|m| incoming(m))
        .map(|m| m.body.lines().last().unwrap_or_default().to_owned())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["Number 1", "Number 2", "Number 3", "Number 4"]);
}

#[tokio::test]
async fn a_restarted_server_fetches_nothing_twice_and_misses_nothing() {
    let Some(mail) = MailServers::from_env("a_restarted_server_fetches_nothing_twice_and_misses_nothing")
    else {
        return;
    };
    // The counted user's sessions are this test's alone.
    let _exclusive = dovecot_lock().write().await;
    // A user of its own, so Dovecot's log tells what this test's workers fetched.
    let mail = mail.as_counted_user();
    let mark = mail.log_mark();
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    // Without a Message-ID: each is known by the hash of its bytes.
    for n in 1..=2 {
        mail.deliver(&mailbox, &format!("From: same@customer.test\nSubject: S\n\nNo id {n}\n")).await;
    }
    until_incoming(&server, inbox, 2).await;

    let server = server.restart_later_with(0, quick_email).await;
    mail.deliver(&mailbox, "From: same@customer.test\nSubject: S\n\nNo id 3\n").await;
    let all = until_incoming(&server, inbox, 3).await;
    let bodies: Vec<&str> = all.values().flat_map(|m| incoming(m)).map(|m| m.body.as_str()).collect();
    for n in 1..=3 {
        assert_eq!(bodies.iter().filter(|b| b.ends_with(&format!("No id {n}"))).count(), 1, "{bodies:?}");
    }
    // Stopped, every session of this user has ended: three mails, three bodies fetched in all
    // (a restart that fetched from the start again would have made it five).
    drop(server.restart_later_with(0, |config| config.email.rescan = Duration::from_secs(3600)).await);
    let fetched = until("every IMAP session to end", async || mail.bodies_fetched(mark)).await;
    assert_eq!(fetched, 3, "each mail fetched once, across the restart");
}

#[tokio::test]
async fn a_new_subject_opens_a_new_conversation_only_when_the_inbox_says_so() {
    let Some(mail) =
        MailServers::from_env("a_new_subject_opens_a_new_conversation_only_when_the_inbox_says_so")
    else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let server = start_server().await;
    for (rule, expected) in [("same_conversation", 1), ("new_conversation", 2)] {
        let mailbox = mail.mailbox().await;
        let inbox = email_inbox(&server, &mail, &mailbox, json!({"new_subject": rule})).await;
        mail.deliver(
            &mailbox,
            &format!("From: a@customer.test\nSubject: First\nMessage-ID: <1-{mailbox}@c.test>\n\nOne\n"),
        )
        .await;
        let all = until_incoming(&server, inbox, 1).await;
        let first = *all.keys().next().expect("a conversation");
        let (status, answer) = server
            .admin
            .post(
                &format!("/api/v1/conversations/{first}/status"),
                json!({"client_id": Id::new_v4(), "status": "resolved"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        mail.deliver(
            &mailbox,
            &format!("From: a@customer.test\nSubject: Second\nMessage-ID: <2-{mailbox}@c.test>\n\nTwo\n"),
        )
        .await;
        let all = until_incoming(&server, inbox, 2).await;
        assert_eq!(all.len(), expected, "{rule}: {all:#?}");
    }
}

#[tokio::test]
async fn checking_the_connection_says_what_failed() {
    let Some(mail) = MailServers::from_env("checking_the_connection_says_what_failed") else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let mailbox = mail.mailbox().await;
    mail.deliver(&mailbox, "From: a@c.test\nSubject: x\n\nhello\n").await;
    let server = |port| MailServer { host: "127.0.0.1".into(), port, security: MailSecurity::None };
    let mut settings = EmailSettings {
        address: "support@shop.test".into(),
        display_name: None,
        imap: server(mail.imap_port),
        smtp: server(mail.smtp_port),
        username: mail.user.clone(),
        password: mail.password.clone(),
        mailbox: Some(mailbox.clone()),
        new_subject: NewSubject::SameConversation,
    };
    let check = switchboard_server::connectors::email::check_connection;
    let found = check(&settings).await.expect("the right settings work");
    assert!(found.contains("holds 1 messages"), "{found}");

    settings.password = "wrong".into();
    let error = check(&settings).await.expect_err("a wrong password");
    assert!(error.contains("login") && error.contains(&mail.user), "{error}");

    settings.password = mail.password.clone();
    settings.mailbox = Some("no-such-mailbox".into());
    let error = check(&settings).await.expect_err("a missing mailbox");
    assert!(error.contains("no-such-mailbox"), "{error}");

    settings.mailbox = None;
    settings.smtp.port = 1;
    let error = check(&settings).await.expect_err("no SMTP server");
    assert!(error.starts_with("SMTP 127.0.0.1:1"), "{error}");
}

#[tokio::test]
async fn two_nodes_run_one_imap_worker_per_inbox_and_both_send() {
    let Some(mail) = MailServers::from_env("two_nodes_run_one_imap_worker_per_inbox_and_both_send") else {
        return;
    };
    if std::env::var("SWITCHBOARD_TEST_DATABASE_URL").is_err() {
        eprintln!("email::two_nodes_run_one_imap_worker_per_inbox_and_both_send needs PostgreSQL: not run on SQLite");
        return;
    }
    let _exclusive = dovecot_lock().write().await;
    let mail = mail.as_counted_user();
    let mark = mail.log_mark();
    let server = start_server().await;
    let other = server.second_node(quick_email).await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    let customer = |n: u32| {
        format!("From: c@customer.test\nSubject: S\nMessage-ID: <{n}-{mailbox}@c.test>\n\nMail {n}\n")
    };
    mail.deliver(&mailbox, &customer(1)).await;
    until_incoming(&server, inbox, 1).await;
    // Both nodes have read the inboxes many times over (every 50 ms): a worker on each would now
    // be waiting in IDLE, and would both fetch what arrives next.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 2..=4 {
        mail.deliver(&mailbox, &customer(n)).await;
    }
    let all = until_incoming(&server, inbox, 4).await;
    let conversation = *all.keys().next().expect("a conversation");
    // A reply written on the second node goes out too (the delivery job may run on either).
    let (status, answer) = other.admin.reply(conversation, "From the second node").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    until("the reply at the SMTP server", async || {
        mail.received_for("c@customer.test").into_iter().find(|m| m.contains("From the second node"))
    })
    .await;
    // Both nodes stopped, every session has ended: each mail was fetched once, by one worker.
    drop(other);
    drop(server);
    let fetched = until("every IMAP session to end", async || mail.bodies_fetched(mark)).await;
    assert_eq!(fetched, 4, "one worker fetched each mail once");
}

#[tokio::test]
async fn a_new_inbox_takes_the_last_day_of_mail_not_the_mailbox_s_history() {
    let Some(mail) =
        MailServers::from_env("a_new_inbox_takes_the_last_day_of_mail_not_the_mailbox_s_history")
    else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    mail.deliver_dated(
        &mailbox,
        "01-Jan-2020 10:00:00 +0000",
        "From: old@c.test\nSubject: Old\n\nFrom 2020\n",
    )
    .await;
    mail.deliver(&mailbox, "From: recent@c.test\nSubject: Recent\n\nFrom today\n").await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    mail.deliver(&mailbox, "From: new@c.test\nSubject: New\n\nAfter the inbox\n").await;
    let all = until_incoming(&server, inbox, 2).await;
    let bodies: Vec<&str> = all.values().flat_map(|m| incoming(m)).map(|m| m.body.as_str()).collect();
    assert!(bodies.iter().any(|b| b.ends_with("From today")), "{bodies:?}");
    assert!(bodies.iter().any(|b| b.ends_with("After the inbox")), "{bodies:?}");
}

#[tokio::test]
async fn an_admin_tests_an_email_inbox_over_http_and_a_wrong_password_says_so() {
    let Some(mail) =
        MailServers::from_env("an_admin_tests_an_email_inbox_over_http_and_a_wrong_password_says_so")
    else {
        return;
    };
    let _shared = dovecot_lock().read().await;
    let server = start_server().await;
    let mailbox = mail.mailbox().await;
    let inbox = email_inbox(&server, &mail, &mailbox, json!({})).await;
    let path = format!("/api/v1/inboxes/{inbox}/connector/test");
    let (status, answer) = server.admin.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(answer["detail"].as_str().unwrap_or_default().contains("SMTP: connected"), "{answer}");

    let wrong = email_inbox(&server, &mail, &mailbox, json!({"password": "not-the-password"})).await;
    let (status, answer) =
        server.admin.post(&format!("/api/v1/inboxes/{wrong}/connector/test"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let detail = answer["detail"].as_str().unwrap_or_default();
    assert!(answer["ok"] == false && detail.contains("login"), "{answer}");
    assert!(!detail.contains("not-the-password"), "no secret in {answer}");
}
