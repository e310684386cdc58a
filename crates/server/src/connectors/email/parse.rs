//! An inbound email as the domain sees it: who sent it, its threading headers, the text shown
//! (plain part, or HTML-only mail converted to text, never HTML), quoted history folded, its
//! attachments, and whether it was sent automatically (RFC 3834), from raw RFC 5322 bytes.
//! Any bytes at all give an answer: malformed mail is ingested as well as it can be, never a panic.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

/// How the folded quote is marked in a message body: the customer's new text comes first, then a
/// blank line, then the quoted history with every line starting with `>` (RFC 3676 style). The app
/// may collapse the trailing run of lines that start with `>`; see [`split_quoted`].
pub const QUOTE_MARK: &str = ">";

/// An inbound email, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEmail {
    /// `Message-ID` without angle brackets; for mail without one, `sha256:` and the hash of the
    /// raw bytes, so the same bytes fetched twice are still one message.
    pub message_id: String,
    /// `In-Reply-To` and `References` ids (no brackets), nearest parent first, deduplicated.
    pub parents: Vec<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    /// `Reply-To` when it differs from `From`.
    pub reply_to: Option<String>,
    pub subject: String,
    /// The text shown: the new text, then the folded quote (see [`QUOTE_MARK`]).
    pub body: String,
    pub attachments: Vec<ParsedAttachment>,
    /// Why this mail must never get an automatic reply (RFC 3834 and common auto-responder
    /// markers); `None` for mail a person wrote.
    pub automatic: Option<String>,
}

#[derive(Clone, PartialEq)]
pub struct ParsedAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for ParsedAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// Parses raw mail. Never fails: bytes that are not a message at all become a message whose body
/// says so, from no one, so it still shows up (and is deduplicated on its hash).
pub fn parse(raw: &[u8]) -> ParsedEmail {
    let hash_id = || format!("sha256:{}", hex::encode(Sha256::digest(raw)));
    let Some(message) = MessageParser::default().parse(raw) else {
        return ParsedEmail {
            message_id: hash_id(),
            parents: vec![],
            from_address: None,
            from_name: None,
            reply_to: None,
            subject: String::new(),
            body: "(this email could not be read)".into(),
            attachments: vec![],
            automatic: None,
        };
    };
    let message_id = message
        .message_id()
        .map(clean_id)
        .filter(|id| !id.is_empty() && id.len() <= 190)
        .unwrap_or_else(hash_id);
    let mut parents = Vec::new();
    for id in ids(message.in_reply_to()).into_iter().chain(ids(message.references()).into_iter().rev()) {
        if !parents.contains(&id) && id != message_id {
            parents.push(id);
        }
    }
    let from = message.from().and_then(Address::first);
    let from_address =
        from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase()).filter(|a| a.contains('@'));
    let from_name = from.and_then(|a| a.name()).map(|n| no_nul(n.trim())).filter(|n| !n.is_empty());
    let reply_to = message
        .reply_to()
        .and_then(Address::first)
        .and_then(|a| a.address())
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@') && Some(a) != from_address.as_ref());
    let subject = no_nul(message.subject().unwrap_or_default().trim());

    let text = match message.text_part(0) {
        Some(part) if part.is_text_html() => html_to_text(part.text_contents().unwrap_or_default()),
        Some(part) => part.text_contents().unwrap_or_default().to_owned(),
        None => match message.html_part(0) {
            Some(part) => html_to_text(part.text_contents().unwrap_or_default()),
            None => String::new(),
        },
    };
    let body = fold_quoted(&no_nul(&text.replace("\r\n", "\n")));

    let attachments = message
        .attachments()
        .enumerate()
        .map(|(index, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            let file_name = part
                .attachment_name()
                .map(sanitize_file_name)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("attachment-{}", index + 1));
            ParsedAttachment { file_name, content_type, bytes: part.contents().to_vec() }
        })
        .collect();

    let automatic = automatic_reason(&message, from_address.as_deref());
    ParsedEmail {
        message_id,
        parents,
        from_address,
        from_name,
        reply_to,
        subject,
        body,
        attachments,
        automatic,
    }
}

/// RFC 3834 and the markers auto-responders actually send: why this mail is automatic.
fn automatic_reason(message: &mail_parser::Message<'_>, from: Option<&str>) -> Option<String> {
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_lowercase());
    if let Some(value) = header("Auto-Submitted") {
        let keyword = value.split(';').next().unwrap_or_default().trim().to_owned();
        if keyword != "no" {
            return Some(format!("Auto-Submitted: {keyword}"));
        }
    }
    if let Some(value) = header("Precedence") {
        if ["bulk", "junk", "list", "auto_reply"].contains(&value.as_str()) {
            return Some(format!("Precedence: {value}"));
        }
    }
    if message.header_raw("List-Id").is_some() {
        return Some("List-Id".into());
    }
    for marker in [
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Response-Suppress",
        "X-Autogenerated",
        "X-FC-MachineGenerated",
    ] {
        if message.header_raw(marker).is_some() {
            return Some(marker.into());
        }
    }
    if message.return_address().is_some_and(|r| r.trim_matches(['<', '>', ' ']).is_empty())
        || message.header_raw("Return-Path").is_some_and(|r| r.trim() == "<>")
    {
        return Some("Return-Path: <>".into());
    }
    if let Some(local) = from.and_then(|a| a.split('@').next()) {
        if ["mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"]
            .contains(&local)
        {
            return Some(format!("sent from {local}@"));
        }
    }
    let report = message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    report.then(|| "a delivery report (multipart/report)".into())
}

/// `<id@host>` (or a list of them) to bare ids.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(text) => vec![text.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => vec![],
    };
    raw.into_iter()
        .flat_map(|t| t.split_whitespace())
        .map(clean_id)
        .filter(|id| !id.is_empty() && id.len() <= 190)
        .collect()
}

/// Text with each NUL replaced by U+FFFD: a NUL shows as nothing, and the store refuses it
/// (PostgreSQL can't keep one in text), so mail carrying one is still ingested.
fn no_nul(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned()
}

/// A file name without directories or control characters, at most 120 characters.
fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars().filter(|c| !c.is_control()).take(120).collect::<String>().trim().to_owned()
}

/// HTML as plain text: tags dropped, links kept as footnotes, scripts and styles ignored. The
/// result is never rendered as HTML anywhere.
pub fn html_to_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 100).unwrap_or_else(|_| {
        // The converter refused the input: drop everything between < and > instead.
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    })
}

/// Folds the quoted history of a reply: the new text, a blank line, then the quoted part with
/// every line starting with [`QUOTE_MARK`]. The quote starts at an Outlook "Original Message"
/// separator, at an "On … wrote:" line followed only by quoted lines, or at the trailing run of
/// `>` lines.
pub fn fold_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let is_quote = |l: &str| l.trim_start().starts_with('>');
    // quotes_from[i]: every line from i on is blank or quoted. Computed once from the end, so a
    // long run of quoted lines before fresh text costs one pass, not one pass per line.
    let mut quotes_from = vec![true; lines.len() + 1];
    for i in (0..lines.len()).rev() {
        quotes_from[i] = quotes_from[i + 1] && (lines[i].trim().is_empty() || is_quote(lines[i]));
    }
    let only_quotes_after = |i: usize| quotes_from[i];
    let mut start = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let separator = trimmed.starts_with("-----Original Message-----")
            || trimmed.starts_with("-------- Original Message --------")
            || (trimmed.chars().all(|c| c == '_') && trimmed.len() >= 20);
        let attribution =
            trimmed.starts_with("On ") && trimmed.ends_with("wrote:") && only_quotes_after(i + 1);
        let trailing = is_quote(line) && only_quotes_after(i);
        if separator || attribution || trailing {
            start = Some(i);
            break;
        }
    }
    let Some(start) = start.filter(|&s| s > 0 && lines[..s].iter().any(|l| !l.trim().is_empty())) else {
        return text.trim_end().to_owned();
    };
    let fresh = lines[..start].join("\n");
    let quoted: Vec<String> = lines[start..]
        .iter()
        .map(
            |l| if is_quote(l) { (*l).to_owned() } else { format!("{QUOTE_MARK} {l}").trim_end().to_owned() },
        )
        .collect();
    let quoted = quoted.join("\n");
    format!("{}\n\n{}", fresh.trim_end(), quoted.trim_end())
}

/// A body as [`fold_quoted`] wrote it: the new text and the folded quote (empty when none).
pub fn split_quoted(body: &str) -> (&str, &str) {
    let mut cut = body.len();
    for (offset, line) in line_offsets(body).rev() {
        if line.trim().is_empty() || line.trim_start().starts_with(QUOTE_MARK) {
            cut = offset;
        } else {
            break;
        }
    }
    let quoted = body[cut..].trim();
    if quoted.is_empty() {
        return (body.trim_end(), "");
    }
    (body[..cut].trim_end(), quoted)
}

fn line_offsets(text: &str) -> impl DoubleEndedIterator<Item = (usize, &str)> {
    let mut offset = 0;
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        out.push((offset, line));
        offset += line.len();
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}").replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn a_plain_reply_has_its_threading_headers_and_its_quote_folded() {
        let raw = mail(
            "From: Sara Ahmadi <Sara@Example.com>\nTo: support@shop.test\nSubject: Re: My order\n\
             Message-ID: <reply-1@example.com>\nIn-Reply-To: <sent-1@shop.test>\n\
             References: <first@example.com> <sent-1@shop.test>",
            "Thanks, that works.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <support@shop.test> wrote:\n> Try again now.\n>\n> Support",
        );
        let parsed = parse(&raw);
        assert_eq!(parsed.message_id, "reply-1@example.com");
        assert_eq!(parsed.parents, vec!["sent-1@shop.test".to_owned(), "first@example.com".to_owned()]);
        assert_eq!(parsed.from_address.as_deref(), Some("sara@example.com"));
        assert_eq!(parsed.from_name.as_deref(), Some("Sara Ahmadi"));
        assert_eq!(parsed.subject, "Re: My order");
        assert!(parsed.automatic.is_none());
        let (fresh, quoted) = split_quoted(&parsed.body);
        assert_eq!(fresh, "Thanks, that works.");
        assert!(
            quoted.starts_with("> On Mon, 1 Dec 2026"),
            "the attribution is folded with the quote: {quoted}"
        );
        assert!(quoted.contains("> Try again now."), "the quote is kept: {quoted}");
    }

    #[test]
    fn html_only_mail_becomes_text_without_markup_or_scripts() {
        let raw = mail(
            "From: a@example.com\nSubject: Hi\nMessage-ID: <h@example.com>\nContent-Type: text/html; charset=utf-8",
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head>\
             <body><p>Hello <b>there</b></p><p>Order <a href=\"https://x.test/o/1\">#1</a></p></body></html>",
        );
        let parsed = parse(&raw);
        assert!(parsed.body.contains("Hello"), "{}", parsed.body);
        assert!(parsed.body.contains("there"), "{}", parsed.body);
        assert!(!parsed.body.contains('<'), "no markup survives: {}", parsed.body);
        assert!(!parsed.body.contains("alert"), "scripts are dropped: {}", parsed.body);
    }

    #[test]
    fn automatic_mail_is_recognised_and_a_person_s_is_not() {
        let cases = [
            ("Auto-Submitted: auto-replied", true),
            ("Auto-Submitted: auto-generated; owner-email=x@y", true),
            ("Auto-Submitted: no", false),
            ("Precedence: bulk", true),
            ("Precedence: list", true),
            ("Precedence: junk", true),
            ("List-Id: <news.example.com>", true),
            ("X-Autoreply: yes", true),
            ("X-Auto-Response-Suppress: All", true),
            ("Return-Path: <>", true),
            ("X-Mailer: Thunderbird", false),
        ];
        for (header, automatic) in cases {
            let raw = mail(&format!("From: a@example.com\nSubject: Hi\n{header}"), "Out of office.");
            assert_eq!(parse(&raw).automatic.is_some(), automatic, "{header}");
        }
        let bounce = mail("From: MAILER-DAEMON@example.com\nSubject: Undelivered", "x");
        assert!(parse(&bounce).automatic.is_some(), "bounces are automatic");
    }

    #[test]
    fn attachments_keep_a_safe_name_and_their_type() {
        let raw = mail(
            "From: a@example.com\nSubject: Files\nMessage-ID: <f@example.com>\n\
             Content-Type: multipart/mixed; boundary=\"b\"",
            "--b\nContent-Type: text/plain\n\nSee attached.\n--b\nContent-Type: application/pdf\n\
             Content-Disposition: attachment; filename=\"../../etc/invoice.pdf\"\n\
             Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n",
        );
        let parsed = parse(&raw);
        assert_eq!(parsed.body, "See attached.");
        assert_eq!(parsed.attachments.len(), 1);
        assert_eq!(parsed.attachments[0].file_name, "invoice.pdf");
        assert_eq!(parsed.attachments[0].content_type, "application/pdf");
        assert_eq!(parsed.attachments[0].bytes, b"%PDF-1.4\n");
    }

    #[test]
    fn malformed_mail_never_panics_and_is_identified_by_its_hash() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"\xff\xfe\x00garbage".to_vec(),
            b"Subject: only headers".to_vec(),
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n".to_vec(),
            b"From: <<<>>>\r\nMessage-ID: <>\r\nReferences: <<a> b>>\r\n\r\n>".to_vec(),
            mail("From: a@example.com\nContent-Type: text/html", "<p><b>unclosed <i>tags"),
        ];
        for raw in inputs {
            let parsed = parse(&raw);
            assert!(!parsed.message_id.is_empty());
            assert_eq!(parse(&raw).message_id, parsed.message_id, "the same bytes, the same id");
        }
    }

    #[test]
    fn outlook_style_quotes_fold_and_text_without_a_quote_is_untouched() {
        let body = "Yes please.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nHello";
        let folded = fold_quoted(body);
        let (fresh, quoted) = split_quoted(&folded);
        assert_eq!(fresh, "Yes please.");
        assert!(quoted.lines().all(|l| l.starts_with('>')), "{quoted}");
        assert_eq!(fold_quoted("Just text.\nTwo lines."), "Just text.\nTwo lines.");
        // A message that is only a quote keeps it as its text rather than showing nothing.
        assert_eq!(fold_quoted("> quoted only"), "> quoted only");
    }

    /// Found by the fuzz tests' review (issue 20): each quoted line scanned every line after it, so
    /// a mail of 100,000 quoted lines before one fresh line took billions of steps.
    #[test]
    fn a_long_run_of_quoted_lines_folds_in_one_pass() {
        let text = format!("{}fresh", "> quoted\n".repeat(100_000));
        assert_eq!(fold_quoted(&text), text);
        let reply = format!("Thanks\nOn Mon, Bob wrote:\n{}", "> quoted\n".repeat(100_000));
        assert!(fold_quoted(&reply).starts_with("Thanks\n\n> On Mon, Bob wrote:\n> quoted"));
    }
}
