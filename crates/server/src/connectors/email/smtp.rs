//! Sending a reply by SMTP submission (lettre): `From`/`Reply-To` the inbox's address, `Re:`
//! subject, `Message-ID` derived from the message (the provider id, the same on every retry),
//! `In-Reply-To` and `References` from the thread, plain text, attachments from the
//! content-addressed store, and `Auto-Submitted: auto-replied` on automatic replies (RFC 3834).

use std::time::Duration;

use lettre::{
    message::{
        header::{ContentType, HeaderName, HeaderValue},
        Attachment, Mailbox, MultiPart, SinglePart,
    },
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use switchboard_proto::{EmailSettings, MailSecurity};

use crate::{
    connectors::{OutgoingFile, SendError},
    workspace::OutgoingEmail,
};

const TIMEOUT: Duration = Duration::from_secs(30);

fn permanent(reason: impl Into<String>) -> SendError {
    SendError::rejected(reason)
}

#[derive(Debug, Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".into())
    }
}

/// Builds the mail, with `files` attached.
pub fn build(email: &OutgoingEmail, files: &[OutgoingFile]) -> Result<Message, SendError> {
    let address = email.from_address.parse().map_err(|e| permanent(format!("the inbox address: {e}")))?;
    let from = Mailbox::new(email.from_name.clone(), address);
    let to: Mailbox = email.to.parse().map_err(|e| permanent(format!("the customer's address: {e}")))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .reply_to(from)
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(email.message_id.clone()));
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
    }
    if !email.references.is_empty() {
        builder = builder.references(email.references.join(" "));
    }
    if email.automatic {
        builder = builder.header(AutoSubmitted);
    }
    let text = SinglePart::plain(email.body.clone());
    let built = if files.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for file in files {
            let content_type = ContentType::parse(&file.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("a valid type"));
            parts = parts
                .singlepart(Attachment::new(file.file_name.clone()).body(file.bytes.to_vec(), content_type));
        }
        builder.multipart(parts)
    };
    built.map_err(|e| permanent(format!("building the email: {e}")))
}

/// The inbox's SMTP server as lettre's transport.
fn transport(settings: &EmailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let server = &settings.smtp;
    let builder = match server.security {
        MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&server.host),
        MailSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&server.host),
        MailSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)),
    }
    .map_err(|e| permanent(format!("SMTP server {}: {e}", server.host)))?;
    let mut builder = builder.port(server.port).timeout(Some(TIMEOUT));
    // Clear text only reaches a loopback relay (the settings refuse it elsewhere); no password
    // is offered there.
    if server.security != MailSecurity::None {
        builder = builder.credentials(Credentials::new(settings.username.clone(), settings.password.clone()));
    }
    Ok(builder.build())
}

/// Submits the mail through the inbox's SMTP server.
pub async fn send(settings: &EmailSettings, message: Message) -> Result<(), SendError> {
    match transport(settings)?.send(message).await {
        Ok(_) => Ok(()),
        Err(error) if error.is_permanent() => Err(SendError::rejected(format!("SMTP: {error}"))),
        Err(error) => Err(SendError::transient(format!("SMTP: {error}"))),
    }
}

/// Connects to the SMTP server (TLS and login included) and says goodbye.
pub async fn check(settings: &EmailSettings) -> Result<(), String> {
    let server = &settings.smtp;
    match transport(settings).map_err(|e| e.to_string())?.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("SMTP {}:{} did not answer as a mail server", server.host, server.port)),
        Err(error) => Err(format!("SMTP {}:{}: {error}", server.host, server.port)),
    }
}

#[cfg(test)]
mod tests {
    use switchboard_proto::Id;

    use super::*;

    #[test]
    fn a_reply_carries_its_threading_headers_and_an_auto_reply_says_so() {
        let mut email = OutgoingEmail {
            from_address: "support@shop.test".into(),
            from_name: Some("Shop Support".into()),
            to: "sara@example.com".into(),
            subject: "Re: My order".into(),
            message_id: format!("<{}@shop.test>", Id::nil().simple()),
            in_reply_to: Some("<b@example.com>".into()),
            references: vec!["<a@example.com>".into(), "<b@example.com>".into()],
            body: "Hello Sara".into(),
            automatic: false,
        };
        let raw = String::from_utf8(build(&email, &[]).expect("built").formatted()).expect("utf-8");
        assert!(raw.contains("In-Reply-To: <b@example.com>"), "{raw}");
        assert!(raw.contains("References: <a@example.com> <b@example.com>"), "{raw}");
        assert!(raw.contains("Message-ID: <00000000000000000000000000000000@shop.test>"), "{raw}");
        assert!(raw.contains("Reply-To: \"Shop Support\" <support@shop.test>"), "{raw}");
        assert!(!raw.contains("Auto-Submitted"), "{raw}");
        email.automatic = true;
        let raw = String::from_utf8(build(&email, &[]).expect("built").formatted()).expect("utf-8");
        assert!(raw.contains("Auto-Submitted: auto-replied"), "{raw}");
    }
}
