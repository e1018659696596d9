//! URL slugs for articles: validated on input, derivable from a title.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A URL path segment: lowercase `a-z`, `0-9` and single `-` between parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a slug was refused; the message is shown to API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must be lowercase letters, digits and single hyphens, e.g. ketamine-and-ptsd")]
    InvalidFormat,
}

impl Slug {
    /// Longest accepted slug, in characters (all slug characters are ASCII).
    pub const MAX_LEN: usize = 120;

    /// Accepts an already well-formed slug; never rewrites the input.
    pub fn parse(input: &str) -> Result<Slug, SlugError> {
        if input.is_empty() {
            return Err(SlugError::Empty);
        }
        if input.chars().count() > Self::MAX_LEN {
            return Err(SlugError::TooLong { max: Self::MAX_LEN });
        }
        if !is_well_formed(input) {
            return Err(SlugError::InvalidFormat);
        }
        Ok(Slug(input.to_owned()))
    }

    /// Derives a slug from a human title, or `None` when nothing usable remains
    /// (e.g. a title made only of punctuation or non-Latin script).
    pub fn from_title(title: &str) -> Option<Slug> {
        let full = slugify(title);
        let slug = truncate_at_word(&full, Self::MAX_LEN);
        if slug.is_empty() {
            None
        } else {
            Some(Slug(slug.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_well_formed(input: &str) -> bool {
    input
        .split('-')
        .all(|part| !part.is_empty() && part.bytes().all(is_slug_byte))
}

fn is_slug_byte(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit()
}

/// Builds the hyphenated form without a length limit.
fn slugify(title: &str) -> String {
    let mut out = SlugBuilder::default();
    for c in title.chars() {
        if c.is_ascii() {
            out.push_ascii(c);
        } else if is_apostrophe(c) || is_combining_mark(c) {
            // "it’s" -> "its"; a decomposed "e\u{301}" keeps its base letter.
        } else if c.is_alphanumeric() {
            // Letters and digits of any script, spelled in ASCII: "ß" -> "ss", "Ж" -> "Zh".
            let ascii = deunicode::deunicode_char(c).unwrap_or(" ");
            ascii.chars().for_each(|a| out.push_ascii(a));
        } else {
            // Symbols and emoji are not words of the title ("©", "🌅" would read as "c", "sunrise").
            out.separate();
        }
    }
    out.finish()
}

/// Accumulates slug parts, collapsing separators and never starting with one.
#[derive(Default)]
struct SlugBuilder {
    text: String,
    pending_separator: bool,
}

impl SlugBuilder {
    /// "Don't" -> "dont", "R&D" -> "r-and-d"; punctuation and spaces separate.
    fn push_ascii(&mut self, c: char) {
        if c.is_ascii_alphanumeric() {
            self.push_str(c.to_ascii_lowercase().encode_utf8(&mut [0; 4]));
        } else if c == '&' {
            self.separate();
            self.push_str("and");
            self.separate();
        } else if !is_apostrophe(c) {
            self.separate();
        }
    }

    fn push_str(&mut self, part: &str) {
        if self.pending_separator && !self.text.is_empty() {
            self.text.push('-');
        }
        self.pending_separator = false;
        self.text.push_str(part);
    }

    fn separate(&mut self) {
        self.pending_separator = true;
    }

    fn finish(self) -> String {
        self.text
    }
}

/// Cuts an ASCII slug to at most `max` bytes, preferring the last whole part.
fn truncate_at_word(slug: &str, max: usize) -> &str {
    if slug.len() <= max {
        return slug;
    }
    // A hyphen right after the limit means the cut already falls between parts.
    if slug.as_bytes().get(max) == Some(&b'-') {
        return slug.get(..max).unwrap_or_default();
    }
    let head = slug.get(..max).unwrap_or_default();
    match head.rfind('-') {
        Some(cut) => head.get(..cut).unwrap_or_default(),
        None => head,
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}' | '`')
}

fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036f}').contains(&c)
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = SlugError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Slug::parse(s)
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)?;
        Ok(Slug(value))
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn from_title(title: &str) -> Option<String> {
        Slug::from_title(title).map(String::from)
    }

    #[test]
    fn parse_accepts_lowercase_words_joined_by_single_hyphens() {
        let slug = Slug::parse("ketamine-and-ptsd-2024").unwrap();
        assert_eq!(slug.as_str(), "ketamine-and-ptsd-2024");
        assert_eq!(slug.to_string(), "ketamine-and-ptsd-2024");
    }

    #[test]
    fn parse_accepts_a_single_character_and_exactly_120_characters() {
        assert!(Slug::parse("a").is_ok());
        assert!(Slug::parse(&"a".repeat(120)).is_ok());
    }

    #[test]
    fn parse_refuses_empty_input() {
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
    }

    #[test]
    fn parse_refuses_more_than_120_characters() {
        assert_eq!(
            Slug::parse(&"a".repeat(121)),
            Err(SlugError::TooLong { max: 120 })
        );
    }

    #[test]
    fn parse_refuses_uppercase_spaces_underscores_and_non_ascii() {
        for bad in [
            "Ketamine",
            "ketamine ptsd",
            "ketamine_ptsd",
            "café",
            "a.b",
            " a",
        ] {
            assert_eq!(Slug::parse(bad), Err(SlugError::InvalidFormat), "{bad:?}");
        }
    }

    #[test]
    fn parse_refuses_leading_trailing_and_double_hyphens() {
        for bad in ["-ketamine", "ketamine-", "ketamine--ptsd", "-"] {
            assert_eq!(Slug::parse(bad), Err(SlugError::InvalidFormat), "{bad:?}");
        }
    }

    #[test]
    fn errors_read_as_api_field_messages() {
        assert_eq!(
            SlugError::InvalidFormat.to_string(),
            "must be lowercase letters, digits and single hyphens, e.g. ketamine-and-ptsd"
        );
        assert_eq!(
            SlugError::TooLong { max: 120 }.to_string(),
            "must be at most 120 characters"
        );
        assert_eq!(SlugError::Empty.to_string(), "must not be empty");
    }

    #[test]
    fn from_title_turns_a_headline_into_a_slug() {
        assert_eq!(
            from_title("Ketamine and PTSD: a ray of hope for trauma survivors").as_deref(),
            Some("ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors")
        );
    }

    #[test]
    fn from_title_transliterates_common_latin_accents() {
        assert_eq!(
            from_title("Café Niño über Straße, Æsir og Søren").as_deref(),
            Some("cafe-nino-uber-strasse-aesir-og-soren")
        );
        assert_eq!(from_title("ÉCOLE Œuvre").as_deref(), Some("ecole-oeuvre"));
    }

    #[test]
    fn from_title_keeps_the_base_letter_of_decomposed_accents() {
        assert_eq!(
            from_title("Cafe\u{301} society").as_deref(),
            Some("cafe-society")
        );
    }

    #[test]
    fn from_title_spells_out_ampersands() {
        assert_eq!(
            from_title("Anxiety & Depression").as_deref(),
            Some("anxiety-and-depression")
        );
        assert_eq!(from_title("R&D").as_deref(), Some("r-and-d"));
    }

    #[test]
    fn from_title_drops_apostrophes_inside_words() {
        assert_eq!(
            from_title("Don't panic: it\u{2019}s PTSD").as_deref(),
            Some("dont-panic-its-ptsd")
        );
    }

    #[test]
    fn from_title_collapses_punctuation_runs_and_trims_hyphens() {
        assert_eq!(
            from_title("  --Ready to take the next step?!  ").as_deref(),
            Some("ready-to-take-the-next-step")
        );
    }

    #[test]
    fn from_title_returns_none_when_nothing_usable_remains() {
        assert_eq!(from_title(""), None);
        assert_eq!(from_title(" ?!… — "), None);
        assert_eq!(from_title("🌅 ✓ → ©"), None);
    }

    #[test]
    fn from_title_spells_other_scripts_and_letter_forms_in_ascii() {
        for (title, slug) in [
            ("Привет, мир", "privet-mir"),
            ("Tiếng Việt", "tieng-viet"),
            ("α-synuclein and β-blockers", "a-synuclein-and-b-blockers"),
            ("创伤后", "chuang-shang-hou"),
            ("ﬁnance ﬂow", "finance-flow"),
            ("ＦＵＬＬ width x²", "full-width-x2"),
        ] {
            assert_eq!(from_title(title).as_deref(), Some(slug), "{title}");
        }
    }

    #[test]
    fn from_title_drops_symbols_and_emoji() {
        assert_eq!(
            from_title("Hope 🌅 — «now» ™ ©2024").as_deref(),
            Some("hope-now-2024")
        );
    }

    #[test]
    fn from_title_cuts_long_titles_at_a_word_boundary() {
        let title = "word ".repeat(40); // "word-word-..." is 199 chars
        let slug = Slug::from_title(&title).unwrap();
        assert!(slug.as_str().len() <= 120);
        assert!(slug.as_str().ends_with("word"));
        assert!(Slug::parse(slug.as_str()).is_ok());
        assert_eq!(slug.as_str().len(), 119); // 24 words of 4 + 23 hyphens
    }

    #[test]
    fn from_title_keeps_a_cut_that_lands_exactly_on_a_hyphen() {
        let title = format!("{} {}", "a".repeat(120), "tail");
        assert_eq!(from_title(&title), Some("a".repeat(120)));
    }

    #[test]
    fn from_title_hard_cuts_a_single_overlong_word() {
        let slug = Slug::from_title(&"x".repeat(300)).unwrap();
        assert_eq!(slug.as_str(), "x".repeat(120));
    }

    #[test]
    fn from_title_results_always_parse() {
        for title in ["A", "Ünïcödé — ñ & ß", "1. Rapid relief", "what's new?"] {
            let slug = Slug::from_title(title).unwrap();
            assert_eq!(Slug::parse(slug.as_str()).as_ref(), Ok(&slug));
        }
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let slug = Slug::parse("ketamine-and-ptsd").unwrap();
        assert_eq!(
            serde_json::to_string(&slug).unwrap(),
            "\"ketamine-and-ptsd\""
        );
    }

    #[test]
    fn deserializes_only_valid_slugs() {
        let slug: Slug = serde_json::from_str("\"ketamine-and-ptsd\"").unwrap();
        assert_eq!(slug.as_str(), "ketamine-and-ptsd");
        let err = serde_json::from_str::<Slug>("\"Not A Slug\"").unwrap_err();
        assert!(err.to_string().contains("single hyphens"), "{err}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics_and_what_it_accepts_reparses_to_itself(input in any::<String>()) {
            if let Ok(slug) = Slug::parse(&input) {
                prop_assert_eq!(slug.as_str(), input.as_str());
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug));
            }
        }

        #[test]
        fn parse_accepts_every_well_formed_slug(input in "[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,8}") {
            prop_assert_eq!(Slug::parse(&input).map(String::from), Ok(input));
        }

        #[test]
        fn from_title_output_always_parses(title in prop_oneof![
            any::<String>(),
            "[A-Za-zÀ-ÿ0-9 &'’.,:!?-]{0,300}",
        ]) {
            if let Some(slug) = Slug::from_title(&title) {
                prop_assert!(slug.as_str().len() <= Slug::MAX_LEN);
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug));
            }
        }
    }
}
