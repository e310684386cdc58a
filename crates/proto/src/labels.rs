//! Label names as people write them: what is kept (the display name) and what makes two names the
//! same label (the key). Both sides compare labels only through [`label_key`], so "New Lead",
//! "new lead" and "New\u{00A0} Lead" are one label, and «پشتیبانی باز» typed with an Arabic yeh
//! is the label typed with a Persian one.

use unicode_normalization::UnicodeNormalization;

/// The longest label name, in characters.
pub const MAX_LABEL_CHARS: usize = 50;

/// A label name as it is kept and shown: NFC, trimmed, with every other character (case, inner
/// spaces, script, zero-width non-joiners) exactly as typed. `None` when it is empty, longer than
/// [`MAX_LABEL_CHARS`], or holds a control character or a line break.
pub fn label_display_name(name: &str) -> Option<String> {
    let name: String = name.trim().nfc().collect();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_LABEL_CHARS
        && !name.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'));
    ok.then_some(name)
}

/// What makes two label names the same label: NFC, trimmed, every run of whitespace one space,
/// lower-cased (Unicode), and Arabic letter forms folded to the Persian ones as search folds them
/// (ي→ی, ك→ک). Never shown.
pub fn label_key(name: &str) -> String {
    let spaced = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let folded: String = spaced
        .nfc()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            other => other,
        })
        .collect();
    folded.nfc().collect()
}

/// Whether two label names name the same label. Two ASCII names (most labels) are compared word
/// by word without building their keys: for ASCII, NFC and the letter folding change nothing and
/// lower-casing is ASCII's, so this is exactly `label_key(a) == label_key(b)` (SLA policies and
/// rules compare labels on every conversation write).
pub fn same_label(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        let (mut a, mut b) = (a.split_whitespace(), b.split_whitespace());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
    label_key(a) == label_key(b)
}

/// Whether `labels` holds `name` (by key).
pub fn has_label(labels: &[String], name: &str) -> bool {
    labels.iter().any(|label| same_label(label, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_label_agrees_with_the_keys() {
        let names = [
            "vip",
            "VIP",
            " vip ",
            "v ip",
            "V  IP",
            "v\tip",
            "v\u{000B}ip",
            "v\u{000C}ip",
            "vip\r\n",
            "New Lead",
            "new   lead",
            "newlead",
            "new lead ",
            "",
            " ",
            "\u{212A}ey",
            "key",
            "Kéy",
            "ke\u{0301}y",
            "پشتیبانی باز",
            "پشتيباني باز",
            "tier1",
            "tier10",
            "a-b",
            "A_B",
            "a b c",
            "a bc",
        ];
        for a in names {
            for b in names {
                assert_eq!(same_label(a, b), label_key(a) == label_key(b), "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn display_names_keep_case_spaces_and_script() {
        assert_eq!(label_display_name("  New Lead ").as_deref(), Some("New Lead"));
        assert_eq!(label_display_name("پشتیبانی باز").as_deref(), Some("پشتیبانی باز"));
        assert_eq!(label_display_name("نیم\u{200C}فاصله").as_deref(), Some("نیم\u{200C}فاصله"), "ZWNJ kept");
        // A decomposed é is kept as the composed one, so the same word is stored one way.
        assert_eq!(label_display_name("Cafe\u{0301}").as_deref(), Some("Café"));
    }

    #[test]
    fn bad_display_names_are_refused() {
        assert_eq!(label_display_name("   "), None);
        assert_eq!(label_display_name("two\nlines"), None);
        assert_eq!(label_display_name("tab\there"), None);
        assert_eq!(label_display_name(&"x".repeat(51)), None);
        assert!(label_display_name(&"ب".repeat(50)).is_some(), "50 characters, not bytes");
    }

    #[test]
    fn keys_ignore_case_spacing_normalisation_and_arabic_forms() {
        for (a, b) in [
            ("New Lead", "new lead"),
            ("New Lead", " NEW   LEAD "),
            ("Café", "CAFE\u{0301}"),
            ("پشتیبانی باز", "پشتيباني باز"),
            ("ΣΟΦΙΑ", "σοφια"),
        ] {
            assert!(same_label(a, b), "{a:?} and {b:?} are one label");
        }
        assert!(!same_label("New Lead", "NewLead"), "a space is part of the name");
        assert!(!same_label("vip", "vip2"));
    }

    #[test]
    fn has_label_matches_by_key() {
        let labels = vec!["New Lead".to_string(), "پشتیبانی باز".to_string()];
        assert!(has_label(&labels, "new lead"));
        assert!(has_label(&labels, "پشتيباني باز"));
        assert!(!has_label(&labels, "lead"));
    }
}
