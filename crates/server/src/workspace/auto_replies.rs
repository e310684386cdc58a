//! An inbox's automatic replies: greeting, away and keyword replies, decided in the transaction
//! that stores the customer's message (or, for a delayed greeting, in its timer's).
//!
//! The rules, exactly:
//!
//! - **At most one automatic reply per customer message**, by precedence: the first keyword reply
//!   (in the inbox's order) whose keywords the message contains, then away, then greeting. A
//!   keyword reply answers what was asked, so it beats the generic ones; a message that gets it
//!   while the inbox is closed gets no away reply besides.
//! - **Keyword**: text and keywords are both normalised with `proto::text` (Arabic letter forms
//!   to Persian, Persian and Arabic-Indic digits to ASCII, harakat and tatweel dropped), then
//!   case-folded with Latin diacritics removed, and cut into words (runs of letters and digits;
//!   the ZWNJ and punctuation separate). A keyword matches when its words occur consecutively,
//!   as whole words, in the message: `price` matches "PRICE?" and "the price list", never
//!   "pricing" or "apricot"; `price list` matches that phrase only. The first keyword reply that
//!   matches decides: if it went to this conversation within its `cooldown_secs` (read from the
//!   ledger, per conversation and reply, a reply being known by its keywords), no keyword reply
//!   goes out for this message (a later keyword reply would answer the same words again), and
//!   precedence moves on to away and greeting.
//! - **Away**: when the inbox has `hours` and is closed at the message's commit instant (no hours:
//!   always open, never away). At most once per conversation per *closed period*, the maximal
//!   closed stretch between two openings: a second message gets none if the calendar was not
//!   open at any instant since the last away reply (`next_open(last away) > now`), so a calendar
//!   edit or a period spanning midnight or a weekend is handled exactly, with no "per day" reset.
//!   Suppressed when a person replied on this conversation within [`AWAY_QUIET_MS`] (5 minutes)
//!   before the message: someone is evidently at work. A suppressed away reply is not spent: a
//!   later message of the same period, once the person has been quiet for 5 minutes, gets it.
//!   `{{next_open_at}}` becomes the next opening in the calendar's zone
//!   ([`calendar::local_time_text`]).
//! - **Greeting**: only for a conversation the customer's message created (never one an agent
//!   started, never a reopened one), so at most once per conversation. With `delay_secs` a
//!   durable timer (`greeting:<conversation>`) sends it later; a person's reply removes the timer,
//!   and when it fires it is dropped if the conversation is resolved, a person replied or
//!   another automatic reply went out meanwhile.
//! - **Never a response**: the message is `kind: outgoing`, `sender: system`, and its ledger event
//!   is `class: auto_reply` with which reply it was. It does not go through
//!   `rules::on_outgoing` and does not touch the conversation at all: no `first_reply_at`,
//!   `waiting_since` unchanged, no SLA clock stops, the list preview stays the customer's words.
//!   It reaches the customer like a person's reply (the inbox's webhook delivery queue).
//! - **Reply window**: on a channel with one, an automatic reply goes out as written only while it
//!   is open at the sending instant (always, right after a customer message; a delayed greeting
//!   may find it closed). Once it has closed, the reply's `template` (one of the inbox's approved
//!   templates, with its parameters) goes out instead, as a person's template message would:
//!   checked and rendered by `rules::reply_text`, the message carrying the template. Without a
//!   usable template nothing is sent: an activity line says why and the ledger records
//!   `auto_reply_not_sent` with `why: window_closed`.

use switchboard_proto::{
    calendar,
    ledger::{AutoReplyRef, AutoReplySkip, ConversationEvent, EventKind, MessageClass},
    *,
};
use unicode_normalization::UnicodeNormalization;

use super::{conversations, ledger};
use crate::{
    refusal::Outcome,
    store::{StoreReadExt, StoreTx, TimerRecord},
};

/// An away reply is suppressed when a person replied on the conversation this recently: 5 min.
pub const AWAY_QUIET_MS: Millis = 5 * 60 * 1000;

/// The timer that sends a delayed greeting.
pub(super) fn greeting_timer_key(conversation: Id) -> String {
    format!("greeting:{conversation}")
}

/// What an inbox's history on a conversation says, read from its ledger.
#[derive(Default)]
struct History {
    last_human_reply: Option<Millis>,
    last_away: Option<Millis>,
    any_auto_reply: bool,
    /// Keyword replies sent: their keywords (normalised) and when.
    keyword_replies: Vec<(Vec<Vec<String>>, Millis)>,
}

fn history(events: &[ConversationEvent]) -> History {
    let mut history = History::default();
    for event in events {
        let EventKind::Message { class, auto_reply, .. } = &event.event else { continue };
        match (class, auto_reply) {
            (MessageClass::Human, _) => {
                history.last_human_reply = history.last_human_reply.max(Some(event.at))
            }
            (MessageClass::AutoReply, reply) => {
                history.any_auto_reply = true;
                match reply {
                    Some(AutoReplyRef::Away) => history.last_away = history.last_away.max(Some(event.at)),
                    Some(AutoReplyRef::Keyword { keywords }) => {
                        history.keyword_replies.push((keyword_words(keywords), event.at));
                    }
                    Some(AutoReplyRef::Greeting) | None => {}
                }
            }
            _ => {}
        }
    }
    history
}

/// A character that belongs to a word: letters and digits of any script, and combining marks
/// (which Latin folding then drops).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Lower case without Latin diacritics ("É" → "e"); other scripts are case folded only (their
/// forms and marks were folded by `proto::text` already).
fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .flat_map(|c| {
            let latin = matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}');
            let decomposed: Vec<char> = if latin { c.to_string().nfd().collect() } else { vec![c] };
            decomposed.into_iter().filter(|c| !('\u{0300}'..='\u{036F}').contains(c))
        })
        .collect()
}

/// The words of a text as keyword matching compares them.
pub(crate) fn words(text: &str) -> Vec<String> {
    text::normalize_for_search(text)
        .split(|c: char| !is_word_char(c))
        .map(fold)
        .filter(|word| !word.is_empty())
        .collect()
}

pub(crate) fn keyword_words(keywords: &[String]) -> Vec<Vec<String>> {
    keywords.iter().map(|keyword| words(keyword)).filter(|words| !words.is_empty()).collect()
}

/// Whether `message` (its words) contains one of the keywords as whole consecutive words.
pub(crate) fn contains_any(message: &[String], keywords: &[Vec<String>]) -> bool {
    keywords.iter().any(|keyword| message.windows(keyword.len()).any(|window| window == keyword.as_slice()))
}

/// The keyword reply for a message, if the first one that matches is not cooling down.
fn keyword_reply<'a>(
    replies: &'a [KeywordReply],
    body: &str,
    history: &History,
    now: Millis,
) -> Option<&'a KeywordReply> {
    let message = words(body);
    let (reply, keywords) = replies
        .iter()
        .map(|reply| (reply, keyword_words(&reply.keywords)))
        .find(|(_, keywords)| contains_any(&message, keywords))?;
    let cooldown = Millis::from(reply.cooldown_secs) * 1000;
    let cooling = history
        .keyword_replies
        .iter()
        .any(|(sent_keywords, at)| *sent_keywords == keywords && now < at.saturating_add(cooldown));
    (!cooling).then_some(reply)
}

/// The away reply's text for a message at `now`, when one is due.
/// `hours`: the inbox's calendar, if it has one (validated when saved; a broken one counts as
/// none), compiled once per inbox edit (`cached.rs`).
fn away_reply(
    inbox: &Inbox,
    hours: Option<&calendar::BusinessHours>,
    history: &History,
    now: Millis,
) -> Option<String> {
    let away = inbox.auto_replies.away.as_ref()?;
    let hours = hours?;
    if calendar::is_open(hours, now) {
        return None;
    }
    if history.last_human_reply.is_some_and(|at| now - at <= AWAY_QUIET_MS) {
        return None;
    }
    // Same closed period: the calendar has not been open at any instant since the last one.
    if let Some(sent) = history.last_away {
        if calendar::next_open(hours, sent).is_none_or(|opened| opened > now) {
            return None;
        }
    }
    let next_open = calendar::next_open(hours, now).and_then(|at| calendar::local_time_text(hours, at));
    let next_open = next_open.unwrap_or_else(|| "as soon as we are back".to_owned());
    Some(away.body.replace("{{next_open_at}}", &next_open))
}

/// An automatic reply the closed reply window held back (no usable template): the ledger and
/// the thread say why.
fn not_sent(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    conversation: &Conversation,
    template: Option<&TemplateRef>,
    reply: AutoReplyRef,
    now: Millis,
) -> Outcome<()> {
    if let Some(wanted) = template {
        tracing::warn!(inbox = %inbox.id, template = %wanted.name, "an automatic reply's template is not one of the inbox's, or its parameters don't match: not sent");
    }
    let what = match reply {
        AutoReplyRef::Greeting => "greeting",
        AutoReplyRef::Away => "away reply",
        AutoReplyRef::Keyword { .. } => "keyword reply",
    };
    ledger::auto_reply_not_sent(tx, conversation.id, reply, AutoReplySkip::WindowClosed, now)?;
    let text = format!(
        "The automatic {what} was not sent: the {}-hour reply window had closed",
        REPLY_WINDOW_MS / 3_600_000
    );
    conversations::activity(tx, inbox.id, conversation.id, Sender::System, text)?;
    Ok(())
}

/// Sends an automatic reply now. When the channel's reply window has closed, it sends the reply's
/// approved `template` instead (checked and rendered as a person's template message is), or,
/// without a usable one, records why nothing went out.
fn send(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    conversation: &Conversation,
    body: String,
    template: Option<&TemplateRef>,
    reply: AutoReplyRef,
) -> Outcome<()> {
    // RFC 3834: mail a machine sent never gets an automatic answer (no auto-reply loops).
    if super::email::loop_guard(tx, conversation)?.is_some() {
        return Ok(());
    }
    let now = tx.now();
    let (body, sent_template) = if conversation.reply_window_open(inbox.channel, now) {
        (body, None)
    } else {
        // The rule a person's template message goes through: an approved template, its
        // parameters all given.
        let approved = template.and_then(|wanted| {
            let text = crate::rules::reply_text(inbox, conversation, "", Some(wanted), false, now);
            text.ok().map(|text| (text, Some(wanted.clone())))
        });
        match approved {
            Some(template_message) => template_message,
            None => return not_sent(tx, inbox, conversation, template, reply, now),
        }
    };
    let message = Message {
        id: Id::now_v7(),
        conversation_id: conversation.id,
        kind: MessageKind::Outgoing,
        body,
        sender: Sender::System,
        attachments: vec![],
        template: sent_template,
        delivery: conversations::initial_delivery(inbox),
        failure: None,
        mentions: vec![],
        created_at: now,
    };
    conversations::put_auto_reply(tx, inbox.id, &message, reply)?;
    conversations::queue_delivery(tx, inbox, &message)
}

/// A customer's message was just stored on `conversation` (`started`: the message created it):
/// sends (or schedules) at most one automatic reply, in the same transaction.
pub(super) fn on_inbound(
    tx: &mut dyn StoreTx,
    inbox: &Inbox,
    conversation: &Conversation,
    message: &Message,
    started: bool,
) -> Outcome<()> {
    let replies = &inbox.auto_replies;
    if replies.greeting.is_none() && replies.away.is_none() && replies.keywords.is_empty() {
        return Ok(());
    }
    let now = tx.now();
    let history = history(&tx.events_of(conversation.id)?);
    if let Some(reply) = keyword_reply(&replies.keywords, &message.body, &history, now) {
        let reference = AutoReplyRef::Keyword { keywords: reply.keywords.clone() };
        return send(tx, inbox, conversation, reply.body.clone(), reply.template.as_ref(), reference);
    }
    let inboxes = super::cached::inboxes(tx)?;
    if let Some(body) = away_reply(inbox, inboxes.hours(inbox.id), &history, now) {
        let template = replies.away.as_ref().and_then(|away| away.template.as_ref());
        return send(tx, inbox, conversation, body, template, AutoReplyRef::Away);
    }
    match &replies.greeting {
        Some(greeting) if started => {
            if greeting.delay_secs == 0 {
                let template = greeting.template.as_ref();
                send(tx, inbox, conversation, greeting.body.clone(), template, AutoReplyRef::Greeting)
            } else {
                let timer = TimerRecord {
                    key: greeting_timer_key(conversation.id),
                    due_at: now + Millis::from(greeting.delay_secs) * 1000,
                    payload: serde_json::Value::Null,
                };
                Ok(tx.schedule_timer(&timer)?)
            }
        }
        _ => Ok(()),
    }
}

/// A delayed greeting is due: sends it unless the conversation no longer wants it.
pub(super) fn send_greeting(tx: &mut dyn StoreTx, conversation_id: Id) -> Outcome<()> {
    let Some(conversation) = tx.get::<Conversation>(conversation_id)? else { return Ok(()) };
    let Some(inbox) = tx.get::<Inbox>(conversation.inbox_id)? else { return Ok(()) };
    let Some(greeting) = inbox.auto_replies.greeting.clone() else { return Ok(()) };
    if conversation.status == ConversationStatus::Resolved {
        return Ok(());
    }
    let history = history(&tx.events_of(conversation.id)?);
    if history.last_human_reply.is_some() || history.any_auto_reply {
        return Ok(());
    }
    send(tx, &inbox, &conversation, greeting.body, greeting.template.as_ref(), AutoReplyRef::Greeting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(body: &str, keywords: &[&str]) -> bool {
        let keywords: Vec<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
        contains_any(&words(body), &keyword_words(&keywords))
    }

    #[test]
    fn keywords_match_whole_words_after_normalisation() {
        assert!(matches("PRICE?", &["price"]), "case and punctuation");
        assert!(matches("What's the price list", &["Price List"]), "a phrase");
        assert!(!matches("pricing", &["price"]), "not inside a word");
        assert!(!matches("apricot", &["price"]));
        assert!(!matches("list price", &["price list"]), "a phrase keeps its order");
        assert!(matches("Café ouvert ?", &["cafe"]), "Latin diacritics");
        assert!(matches("سفارش ۱۲۳", &["سفارش 123"]), "Persian digits");
        assert!(matches("سفارش ١٢٣", &["سفارش ۱۲۳"]), "Arabic-Indic digits");
        assert!(matches("قيمت كتاب چنده؟", &["قیمت کتاب"]), "Arabic letter forms");
        assert!(matches("قیمتِ کتاب", &["قیمت"]), "harakat");
        assert!(matches("قیمت‌ها", &["قیمت"]), "the ZWNJ separates a suffix");
        assert!(!matches("anything", &["", "  "]), "blank keywords never match");
    }

    #[test]
    fn the_first_matching_keyword_reply_decides_and_cools_down() {
        let reply = |keyword: &str, body: &str| KeywordReply {
            keywords: vec![keyword.to_owned()],
            body: body.to_owned(),
            cooldown_secs: 60,
            template: None,
        };
        let replies = vec![reply("price", "A"), reply("price", "B"), reply("refund", "C")];
        let fresh = History::default();
        assert_eq!(keyword_reply(&replies, "price?", &fresh, 0).map(|r| r.body.as_str()), Some("A"));
        let sent = History { keyword_replies: vec![(vec![words("price")], 0)], ..History::default() };
        assert!(keyword_reply(&replies, "price?", &sent, 59_999).is_none(), "cooling down: none at all");
        assert_eq!(keyword_reply(&replies, "price?", &sent, 60_000).map(|r| r.body.as_str()), Some("A"));
        assert_eq!(keyword_reply(&replies, "a refund", &sent, 1).map(|r| r.body.as_str()), Some("C"));
    }
}
