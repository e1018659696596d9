//! Phone numbers from web forms, normalised to E.164 ("+14155552671").
//!
//! Input is screened before it reaches `phonenumber`: only digits, spaces and
//! `+ ( ) - . /` are accepted. That rejects letters (vanity numbers, "ext"
//! extensions), control characters and anything the library's RFC 3966
//! parser could trip over, so odd input yields an error rather than surprises.

use std::fmt;
use std::fmt::Write as _;

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};
use serde::{Serialize, Serializer};

/// Longest input accepted, in characters, after trimming surrounding spaces.
pub const MAX_INPUT_CHARS: usize = 32;

const EXAMPLE: &str = "(415) 555-2671";

/// A validated phone number in E.164 form, e.g. "+14155552671". Its `Debug` hides all but the
/// last two digits, so a stray `{:?}` cannot put a number in the logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct E164Phone(String);

/// Why a phone number (or a region code) was rejected. Messages are phrased
/// to follow a field name in an API error ("phone must not be empty").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_INPUT_CHARS} characters")]
    TooLong,
    #[error("must contain only digits, spaces and + ( ) - . /, e.g. {EXAMPLE}")]
    InvalidCharacters,
    #[error("must be a valid phone number, e.g. {EXAMPLE}")]
    Invalid,
    #[error("unknown phone region \"{0}\": expected a two-letter country code such as US or GB")]
    UnknownRegion(String),
}

impl E164Phone {
    /// Parses a number as typed into a form. Numbers without a leading `+`
    /// (or international dialling prefix) are read as national numbers of
    /// `default_region`.
    pub fn parse(input: &str, default_region: Id) -> Result<Self, PhoneError> {
        let trimmed = screen(input)?;
        let number =
            phonenumber::parse(Some(default_region), trimmed).map_err(|_| PhoneError::Invalid)?;
        if !number.is_valid() || number.extension().is_some() {
            return Err(PhoneError::Invalid);
        }
        to_e164(&number).map(Self)
    }

    /// A number Beacon stored in its E.164 form; anything else is refused.
    pub fn from_stored(e164: &str) -> Result<Self, PhoneError> {
        let number = phonenumber::parse(None, e164).map_err(|_| PhoneError::Invalid)?;
        let phone = to_e164(&number).map(Self)?;
        if phone.0 == e164 {
            Ok(phone)
        } else {
            Err(PhoneError::Invalid)
        }
    }

    /// The E.164 form, e.g. "+14155552671".
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for E164Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let visible = self.0.len().saturating_sub(2);
        let tail = self.0.get(visible..).unwrap_or_default();
        write!(f, "E164Phone(\"+…{tail}\")")
    }
}

impl fmt::Display for E164Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for E164Phone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Parses a configured default region such as "US" or "gb".
pub fn parse_region(code: &str) -> Result<Id, PhoneError> {
    let unknown = || PhoneError::UnknownRegion(code.to_owned());
    let upper = code.trim().to_ascii_uppercase();
    let id: Id = upper.parse().map_err(|_| unknown())?;
    // Some CLDR ids (e.g. AQ) have no numbering plan: every number would fail.
    match phonenumber::metadata::DATABASE.by_id(id.as_ref()) {
        Some(_) => Ok(id),
        None => Err(unknown()),
    }
}

/// Cheap checks before the library sees the input; returns it trimmed.
fn screen(input: &str) -> Result<&str, PhoneError> {
    if input.chars().any(char::is_control) {
        return Err(PhoneError::InvalidCharacters);
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    if trimmed.chars().count() > MAX_INPUT_CHARS {
        return Err(PhoneError::TooLong);
    }
    if !trimmed.chars().all(is_allowed_char) {
        return Err(PhoneError::InvalidCharacters);
    }
    Ok(trimmed)
}

fn is_allowed_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-' | '.' | '/')
}

fn to_e164(number: &PhoneNumber) -> Result<String, PhoneError> {
    // The formatter's Display can fail; `to_string()` would panic on that.
    let mut e164 = String::new();
    write!(e164, "{}", number.format().mode(Mode::E164)).map_err(|_| PhoneError::Invalid)?;
    Ok(e164)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use phonenumber::country;

    fn us(input: &str) -> Result<E164Phone, PhoneError> {
        E164Phone::parse(input, country::US)
    }

    #[test]
    fn only_the_e164_form_is_read_back_as_stored() {
        assert_eq!(
            E164Phone::from_stored("+14155552671").unwrap().as_str(),
            "+14155552671"
        );
        for not_stored in ["4155552671", "+1 415 555 2671", "(415) 555-2671", "", "+1"] {
            assert!(
                E164Phone::from_stored(not_stored).is_err(),
                "{not_stored:?}"
            );
        }
    }

    #[test]
    fn common_us_formats_normalise_to_e164() {
        let inputs = [
            "(415) 555-2671",
            "415-555-2671",
            "415.555.2671",
            "4155552671",
            "+1 415 555 2671",
            "1-415-555-2671",
            "+14155552671",
            "+1 (415) 555-2671",
            "(415)555-2671",
            "415/555-2671",
            "  415 555 2671  ",
        ];
        for input in inputs {
            assert_eq!(us(input).unwrap().as_str(), "+14155552671", "{input:?}");
        }
    }

    #[test]
    fn international_number_with_plus_ignores_default_region() {
        assert_eq!(us("+44 20 7946 0958").unwrap().as_str(), "+442079460958");
    }

    #[test]
    fn international_dialling_prefix_is_understood() {
        assert_eq!(us("011 44 20 7946 0958").unwrap().as_str(), "+442079460958");
    }

    #[test]
    fn national_number_uses_default_region() {
        let london = E164Phone::parse("020 7946 0958", country::GB).unwrap();
        assert_eq!(london.as_str(), "+442079460958");
        assert_eq!(us("020 7946 0958"), Err(PhoneError::Invalid));
    }

    #[test]
    fn empty_or_blank_input_is_rejected() {
        assert_eq!(us(""), Err(PhoneError::Empty));
        assert_eq!(us("   "), Err(PhoneError::Empty));
    }

    #[test]
    fn input_longer_than_32_characters_is_rejected() {
        let long = format!("415 555 2671{}", " ".repeat(20) + "1");
        assert_eq!(long.chars().count(), 33);
        assert_eq!(us(&long), Err(PhoneError::TooLong));
        assert_eq!(us(&"1".repeat(1_000)), Err(PhoneError::TooLong));
    }

    #[test]
    fn exactly_32_characters_are_checked_as_a_number() {
        let padded = format!("+1 415 555 2671{}", "-".repeat(17));
        assert_eq!(padded.chars().count(), 32);
        assert_ne!(us(&padded), Err(PhoneError::TooLong));
    }

    #[test]
    fn letters_are_rejected() {
        for input in ["1-800-FLOWERS", "415-555-2671 ext 5", "415x5552671", "abc"] {
            assert_eq!(us(input), Err(PhoneError::InvalidCharacters), "{input:?}");
        }
    }

    #[test]
    fn control_characters_are_rejected_anywhere() {
        for input in [
            "415\u{0}5552671",
            "4155552671\u{0}",
            "\t4155552671",
            "4155552671\n",
            "415\u{7f}5552671",
        ] {
            assert_eq!(us(input), Err(PhoneError::InvalidCharacters), "{input:?}");
        }
    }

    #[test]
    fn other_symbols_and_non_ascii_digits_are_rejected() {
        for input in [
            "415#555#2671",
            "tel:+14155552671",
            "４１５５５５２６７１",
            "415;5552671",
            "415_555_2671",
        ] {
            assert_eq!(us(input), Err(PhoneError::InvalidCharacters), "{input:?}");
        }
    }

    #[test]
    fn numbers_that_parse_but_are_not_valid_are_rejected() {
        for input in [
            "555-1234",
            "123",
            "+1 415 555 26711",
            "000-000-0000",
            "1",
            "+",
            "+999 123",
            "----",
        ] {
            assert_eq!(us(input), Err(PhoneError::Invalid), "{input:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_number() {
        let phone = us("(415) 555-2671").unwrap();
        assert_eq!(format!("{phone:?}"), "E164Phone(\"+…71\")");
    }

    #[test]
    fn display_and_serialize_use_e164() {
        let phone = us("(415) 555-2671").unwrap();
        assert_eq!(phone.to_string(), "+14155552671");
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"+14155552671\"");
    }

    #[test]
    fn equal_numbers_in_different_formats_are_equal() {
        assert_eq!(
            us("(415) 555-2671").unwrap(),
            us("+1.415.555.2671").unwrap()
        );
    }

    #[test]
    fn error_messages_read_as_field_errors() {
        assert_eq!(
            PhoneError::Invalid.to_string(),
            "must be a valid phone number, e.g. (415) 555-2671"
        );
        assert_eq!(
            PhoneError::TooLong.to_string(),
            "must be at most 32 characters"
        );
        assert_eq!(PhoneError::Empty.to_string(), "must not be empty");
    }

    #[test]
    fn region_codes_parse_case_insensitively() {
        assert_eq!(parse_region("US"), Ok(country::US));
        assert_eq!(parse_region("gb"), Ok(country::GB));
        assert_eq!(parse_region(" Ca "), Ok(country::CA));
    }

    #[test]
    fn unknown_region_codes_are_rejected() {
        for code in ["", "USA", "XX", "U", "1", "AQ"] {
            assert_eq!(
                parse_region(code),
                Err(PhoneError::UnknownRegion(code.into())),
                "{code:?}"
            );
        }
        assert!(
            PhoneError::UnknownRegion("XX".into())
                .to_string()
                .contains("such as US or GB")
        );
    }

    #[test]
    fn short_strings_of_allowed_characters_never_panic() {
        let alphabet = ['0', '1', '4', ' ', '+', '(', ')', '-', '.', '/'];
        let mut inputs = vec![String::new()];
        for _ in 0..4 {
            inputs = inputs
                .iter()
                .flat_map(|prefix| alphabet.iter().map(move |c| format!("{prefix}{c}")))
                .collect();
            for input in &inputs {
                let _ = us(input);
            }
        }
    }

    #[test]
    fn long_pseudo_random_inputs_never_panic() {
        let alphabet: Vec<char> = "0123456789 +()-./".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2_000 {
            let input: String = (0..32)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let _ = us(&input);
        }
    }
}

#[cfg(test)]
mod properties {
    use phonenumber::country;
    use proptest::prelude::*;

    use super::*;

    fn region() -> impl Strategy<Value = Id> {
        prop::sample::select(vec![country::US, country::GB, country::DE, country::AU])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics_on_any_text(input in any::<String>(), region in region()) {
            let _ = E164Phone::parse(&input, region);
        }

        #[test]
        fn e164_output_reparses_to_itself_from_any_region(
            input in "[0-9 +()./-]{1,32}",
            region in region(),
            other in region(),
        ) {
            if let Ok(phone) = E164Phone::parse(&input, region) {
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert!(phone.as_str().bytes().skip(1).all(|b| b.is_ascii_digit()));
                prop_assert_eq!(E164Phone::parse(phone.as_str(), other), Ok(phone.clone()));
                prop_assert_eq!(E164Phone::from_stored(phone.as_str()), Ok(phone));
            }
        }
    }
}
