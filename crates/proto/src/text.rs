//! Text rules both sides must agree on: how text is normalised for search, and phone digits.

/// Normalises text for search indexes and queries alike: Arabic letter forms folded to the
/// Persian ones (ي→ی, ك→ک, ى→ی), ة→ه, hamza-carrying alefs to ا, tatweel and Arabic diacritics
/// (harakat) dropped, so a search typed in either script finds both. Latin diacritics are left to
/// FTS5's `remove_diacritics`.
pub fn normalize_for_search(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'ي' | 'ى' => Some('ی'),
            'ك' => Some('ک'),
            'ة' => Some('ه'),
            'أ' | 'إ' | 'آ' => Some('ا'),
            'ـ' => None,
            '\u{064B}'..='\u{065F}' | '\u{0670}' => None,
            // Persian and Arabic-Indic digits become ASCII digits.
            '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10),
            '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10),
            other => Some(other),
        })
        .collect()
}

/// An FTS5 MATCH expression from what a person typed: every word must occur, the last one as a
/// prefix (so results follow typing) once it has two characters: a one-letter prefix matches
/// most of a language, which no index makes cheap, so a lone letter is matched as a word.
/// Quoting makes FTS5 syntax in the input literal.
pub fn fts_query(input: &str) -> Option<String> {
    let normalized = normalize_for_search(input);
    let words: Vec<&str> = normalized.split_whitespace().collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                let quoted = format!("\"{}\"", word.replace('"', "\"\""));
                if i == last && word.chars().nth(1).is_some() {
                    format!("{quoted}*")
                } else {
                    quoted
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The digits of a phone number (Persian/Arabic-Indic digits included), for matching fragments
/// however they were typed.
pub fn phone_digits(phone: &str) -> String {
    normalize_for_search(phone).chars().filter(char::is_ascii_digit).collect()
}

/// A one-line preview of a message body: whitespace folded, at most `max_chars` characters
/// (then an ellipsis).
pub fn preview(body: &str, max_chars: usize) -> String {
    let single_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match single_line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &single_line[..cut]),
        None => single_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_and_persian_forms_fold_together() {
        assert_eq!(normalize_for_search("كتاب علي"), normalize_for_search("کتاب علی"));
        assert_eq!(normalize_for_search("مُحَمَّد"), "محمد", "harakat are dropped");
    }

    #[test]
    fn phone_digits_accept_any_script() {
        assert_eq!(phone_digits("+98 (912) ۳۴۵-۶۷۸۹"), "989123456789");
    }

    #[test]
    fn fts_queries_quote_input_and_prefix_the_last_word() {
        assert_eq!(fts_query("سفارش من"), Some("\"سفارش\" \"من\"*".to_string()));
        assert_eq!(fts_query("say \"hi\""), Some("\"say\" \"\"\"hi\"\"\"*".to_string()));
        assert_eq!(fts_query("   "), None);
        assert_eq!(fts_query("a"), Some("\"a\"".to_string()), "one letter is a word, not a prefix");
        assert_eq!(fts_query("و م"), Some("\"و\" \"م\"".to_string()));
        assert_eq!(fts_query("ab"), Some("\"ab\"*".to_string()));
    }
}
