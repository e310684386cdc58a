//! Message search in PostgreSQL terms, with SQLite's FTS5 semantics.
//!
//! Text is normalised with `proto::text` (as the client does) and tokenised here, in Rust, the way
//! FTS5's `unicode61 remove_diacritics 2` tokeniser does: runs of letters and digits, case folded,
//! Latin diacritics removed. The index is a `tsvector` of those tokens with their positions and
//! the query a `tsquery`, both written as literals and cast, so PostgreSQL's own parser and
//! dictionaries never see the text: Persian, Arabic and digits are tokens like any other, and
//! nothing a person types is tsquery syntax.

use unicode_normalization::UnicodeNormalization;

/// PostgreSQL refuses lexemes longer than this (bytes); such a token is left out of the index.
const MAX_LEXEME_BYTES: usize = 2046;

/// How many tokens a snippet shows, as `snippet(…, 12)` does in the SQLite backend.
const SNIPPET_TOKENS: usize = 12;

/// One token of a text: where it is and its folded form.
#[derive(Debug, PartialEq)]
struct Token {
    start: usize,
    end: usize,
    folded: String,
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Lower case without Latin diacritics ("É" → "e"); other scripts are only case folded.
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

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start = None;
    for (index, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (start, is_token_char(c)) {
            (None, true) => start = Some(index),
            (Some(begin), false) => {
                let folded = fold(&text[begin..index]);
                if !folded.is_empty() {
                    out.push(Token { start: begin, end: index, folded });
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// A lexeme quoted for `tsvector`/`tsquery` input: taken literally, whatever it contains.
fn quote(lexeme: &str) -> String {
    format!("'{}'", lexeme.replace('\\', "\\\\").replace('\'', "''"))
}

/// The `tsvector` literal indexing an already normalised body: every token with its positions.
pub fn tsvector(normalized: &str) -> String {
    let mut positions: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (index, token) in tokens(normalized).into_iter().enumerate() {
        if token.folded.len() <= MAX_LEXEME_BYTES {
            // PostgreSQL keeps positions up to 16383 and clamps larger ones itself.
            positions.entry(token.folded).or_default().push((index + 1).min(16383));
        }
    }
    positions
        .into_iter()
        .map(|(lexeme, at)| {
            let mut at: Vec<String> = at.iter().map(usize::to_string).collect();
            at.dedup();
            format!("{}:{}", quote(&lexeme), at.join(","))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a person typed, as `text::fts_query` reads it: every word must occur (a word of several
/// tokens, such as `e-mail`, as a phrase), the last one as a prefix once it has two characters.
#[derive(Debug, PartialEq)]
pub struct Query {
    words: Vec<Vec<String>>,
    last_is_prefix: bool,
}

impl Query {
    /// `None` when nothing searchable was typed.
    pub fn parse(input: &str) -> Option<Query> {
        let normalized = switchboard_proto::text::normalize_for_search(input);
        let typed: Vec<&str> = normalized.split_whitespace().collect();
        let last_is_prefix = typed.last()?.chars().nth(1).is_some();
        let words: Vec<Vec<String>> = typed
            .iter()
            .map(|word| tokens(word).into_iter().map(|token| token.folded).collect::<Vec<_>>())
            .filter(|tokens: &Vec<String>| !tokens.is_empty())
            .collect();
        let last_is_prefix = last_is_prefix && tokens(typed.last()?).last().is_some();
        (!words.is_empty()).then_some(Query { words, last_is_prefix })
    }

    /// The `tsquery` literal: the words ANDed, each word's tokens as a phrase.
    pub fn tsquery(&self) -> String {
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .map(|(w, tokens)| {
                let phrase = tokens
                    .iter()
                    .enumerate()
                    .map(|(t, token)| {
                        let prefix = w == last && t == tokens.len() - 1 && self.last_is_prefix;
                        if prefix {
                            format!("{}:*", quote(token))
                        } else {
                            quote(token)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" <-> ");
                format!("({phrase})")
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    fn matches(&self, token: &str) -> bool {
        let last = self.words.len() - 1;
        self.words.iter().enumerate().any(|(w, tokens)| {
            tokens.iter().enumerate().any(|(t, query)| {
                let prefix = w == last && t == tokens.len() - 1 && self.last_is_prefix;
                token == query || (prefix && token.starts_with(query.as_str()))
            })
        })
    }

    /// A short excerpt of `body` around its first match, as FTS5's `snippet()` cuts one: at most
    /// twelve tokens, with `…` where text was left out.
    pub fn snippet(&self, body: &str) -> String {
        let tokens = tokens(body);
        if tokens.len() <= SNIPPET_TOKENS {
            return body.to_owned();
        }
        let first_match = tokens.iter().position(|token| self.matches(&token.folded)).unwrap_or(0);
        let start = first_match.saturating_sub((SNIPPET_TOKENS - 1) / 2).min(tokens.len() - SNIPPET_TOKENS);
        let end = start + SNIPPET_TOKENS;
        let from = if start == 0 { 0 } else { tokens[start].start };
        let to = if end == tokens.len() { body.len() } else { tokens[end - 1].end };
        format!(
            "{}{}{}",
            if start == 0 { "" } else { "…" },
            &body[from..to],
            if end == tokens.len() { "" } else { "…" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_case_and_latin_diacritics_and_keep_other_scripts() {
        let folded: Vec<String> =
            tokens("Café, NAÏVE e-mail سفارش۱۲ 42").into_iter().map(|t| t.folded).collect();
        assert_eq!(folded, ["cafe", "naive", "e", "mail", "سفارش۱۲", "42"]);
    }

    #[test]
    fn the_index_is_a_literal_tsvector_with_positions() {
        assert_eq!(tsvector("to be or not to be"), "'be':2,6 'not':4 'or':3 'to':1,5");
        assert_eq!(tsvector("it's"), "'it':1 's':2", "punctuation separates tokens");
        assert_eq!(tsvector(""), "");
    }

    #[test]
    fn queries_are_literal_every_word_must_match_and_the_last_is_a_prefix() {
        let query = |input: &str| Query::parse(input).map(|q| q.tsquery());
        assert_eq!(query("سفارش من"), Some("('سفارش') & ('من':*)".into()));
        assert_eq!(query("a"), Some("('a')".into()), "one letter is a word, not a prefix");
        assert_eq!(query("ab"), Some("('ab':*)".into()));
        assert_eq!(query("e-mail ad"), Some("('e' <-> 'mail') & ('ad':*)".into()));
        assert_eq!(
            query("a & b | !c :*"),
            Some("('a') & ('b') & ('c')".into()),
            "tsquery operators typed by a person are separators, never syntax"
        );
        assert_eq!(query("say 'hi'"), Some("('say') & ('hi':*)".into()));
        assert_eq!(query("   "), None);
        assert_eq!(query("& |"), None, "nothing searchable");
        assert_eq!(query("۱۲۳"), Some("('123':*)".into()), "Persian digits are searched as ASCII ones");
    }

    #[test]
    fn quoting_keeps_quotes_and_backslashes_literal() {
        assert_eq!(quote(r"it's\"), r"'it''s\\'");
    }

    #[test]
    fn snippets_cut_twelve_tokens_around_the_first_match() {
        let query = Query::parse("zanzibar").expect("a query");
        assert_eq!(query.snippet("a short zanzibar note"), "a short zanzibar note");
        let long =
            "one two three four five six seven eight nine ten eleven twelve zanzibar fourteen fifteen \
                    sixteen seventeen eighteen nineteen twenty";
        assert_eq!(
            query.snippet(long),
            "…eight nine ten eleven twelve zanzibar fourteen fifteen sixteen seventeen eighteen nineteen…"
        );
    }
}
