//! Text matching as French users expect it: a search for « ecole » finds « École de la
//! Transition », « coeur » finds « Cœur de ville ». Used by every name search, on both
//! backends alike (SQL `lower()` only folds ASCII on SQLite and knows no accents anywhere).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The form names are compared in: lower case, compatibility decomposition without combining
/// marks (accents, cedillas), the French ligatures spelt out, one apostrophe and one dash,
/// runs of white space as one space, trimmed.
pub fn fold(s: &str) -> String {
    // NFKD (compatibility forms too: the ﬁ ligature, full-width letters, non-breaking
    // spaces), lower case, then NFKD again: some capitals lower-case to a letter and a
    // combining mark (İ), some compatibility forms decompose to capitals (𝕆).
    let lower: String = s.nfkd().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(lower.len());
    let mut pending_space = false;
    for c in lower.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            // Typographic apostrophes and dashes, as word processors type them.
            '’' | '‘' | 'ʼ' | '′' | '`' | '´' => out.push('\''),
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => out.push('-'),
            _ => out.push(c),
        }
    }
    out
}

/// A search typed by a user, folded once and matched against many names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search(String);

impl Search {
    /// None when there is nothing to search for (empty or white space only).
    pub fn new(raw: &str) -> Option<Self> {
        let folded = fold(raw);
        (!folded.is_empty()).then_some(Self(folded))
    }

    /// A SQL `LIKE` pattern (escape character `\\`) finding the search in a folded column.
    pub fn like_pattern(&self) -> String {
        let mut p = String::with_capacity(self.0.len() + 2);
        p.push('%');
        for c in self.0.chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    }

    /// Whether `name` contains the search, ignoring case, accents and spacing.
    pub fn matches(&self, name: &str) -> bool {
        fold(name).contains(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(Search::new("École").unwrap().like_pattern(), "%ecole%");
        assert_eq!(
            Search::new("50%_a\\b").unwrap().like_pattern(),
            "%50\\%\\_a\\\\b%"
        );
    }

    #[test]
    fn accents_case_and_ligatures_fold() {
        assert_eq!(fold("École"), "ecole");
        assert_eq!(fold("ÉLÉONORE Ça"), "eleonore ca");
        assert_eq!(fold("Cœur de ville"), "coeur de ville");
        assert_eq!(fold("  Salle   des\tfêtes "), "salle des fetes");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn typographic_apostrophes_and_dashes_match_typed_ones() {
        let s = Search::new("l'atelier").unwrap();
        assert!(s.matches("L’Atelier du Coin"));
        assert!(s.matches("L‘ATELIER"));
        assert!(Search::new("saint-jean")
            .unwrap()
            .matches("Salle Saint–Jean"));
        assert!(Search::new("saint—jean").unwrap().matches("Saint-Jean"));
        assert!(Search::new("fin").unwrap().matches("Ateliers de ﬁnition"));
        assert_eq!(fold("Salle\u{a0}A"), "salle a");
    }

    #[test]
    fn capitals_that_decompose_or_lower_case_to_marks_fold_stably() {
        // Found by `fold_is_idempotent`: 𝕆 decomposes to a capital O; İ lower-cases to i and
        // a combining dot.
        assert_eq!(fold("𝕆"), "o");
        assert_eq!(fold("İstanbul"), "istanbul");
        for s in ["𝕆", "İ", "ǅ", "Ⅻ", "ﬁ"] {
            assert_eq!(fold(&fold(s)), fold(s), "{s}");
        }
    }

    #[test]
    fn decomposed_and_composed_forms_are_equal() {
        // « é » typed as one code point or as e + combining acute.
        assert_eq!(fold("caf\u{e9}"), fold("cafe\u{301}"));
    }

    #[test]
    fn search_matches_inside_names_either_way_round() {
        let s = Search::new("ecole").unwrap();
        assert!(s.matches("École de la Transition"));
        assert!(s.matches("Petite ÉCOLE"));
        assert!(!s.matches("Écoute"));
        let s = Search::new("Fêtes").unwrap();
        assert!(s.matches("Salle des fetes"));
        assert!(Search::new("coeur").unwrap().matches("Cœur de ville"));
    }

    #[test]
    fn blank_search_is_no_search() {
        assert_eq!(Search::new(""), None);
        assert_eq!(Search::new(" \t "), None);
    }

    #[test]
    fn sql_wildcards_are_plain_characters() {
        let s = Search::new("50%").unwrap();
        assert!(s.matches("Remise 50% adhérents"));
        assert!(!s.matches("Remise 500 adhérents"));
        assert!(!Search::new("a_b").unwrap().matches("axb"));
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }

        #[test]
        fn every_name_contains_itself_and_its_parts(s in "[a-zA-ZéèêàçôûœÉÈÀÇ ]{1,30}", start in 0usize..30, len in 1usize..30) {
            let name: Vec<char> = s.chars().collect();
            let start = start.min(name.len() - 1);
            let end = (start + len).min(name.len());
            let part: String = name[start..end].iter().collect();
            prop_assert!(Search::new(&s).is_none_or(|q| q.matches(&s)));
            if let Some(q) = Search::new(&part) {
                prop_assert!(q.matches(&s), "{:?} in {:?}", part, s);
            }
        }

        #[test]
        fn ascii_matching_is_case_insensitive_contains(name in "[a-zA-Z0-9 ]{0,30}", q in "[a-zA-Z0-9]{1,5}") {
            // Oracle: plain ASCII lower-casing, as before, on inputs without accents or runs of spaces.
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
            let expected = norm(&name).contains(&q.to_ascii_lowercase());
            prop_assert_eq!(Search::new(&q).unwrap().matches(&name), expected);
        }
    }
}
