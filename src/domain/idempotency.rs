//! The `Idempotency-Key` a client sends so that retrying a request is safe.

use std::fmt;

/// Longest key accepted, in characters (all of them ASCII).
pub const MAX_CHARS: usize = 255;

/// 1 to 255 visible ASCII characters (spaces allowed inside), e.g. a UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to {MAX_CHARS} visible ASCII characters, e.g. a UUID")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// Ignores the spaces and tabs HTTP allows around a header value.
    pub fn parse(value: &str) -> Result<IdempotencyKey, IdempotencyKeyError> {
        let key = value.trim_matches([' ', '\t']);
        let valid = !key.is_empty()
            && key.len() <= MAX_CHARS
            && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if valid {
            Ok(IdempotencyKey(key.to_owned()))
        } else {
            Err(IdempotencyKeyError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> Self {
        key.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_uuid_or_any_visible_ascii_is_a_key() {
        let uuid = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81";
        assert_eq!(IdempotencyKey::parse(uuid).unwrap().as_str(), uuid);
        assert_eq!(IdempotencyKey::parse(" a b ").unwrap().as_str(), "a b");
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_CHARS)).is_ok());
    }

    #[test]
    fn empty_long_control_and_non_ascii_keys_are_refused() {
        for bad in [
            String::new(),
            " \t ".to_owned(),
            "k".repeat(MAX_CHARS + 1),
            "a\nb".to_owned(),
            "a\tb".to_owned(),
            "clé".to_owned(),
            "\u{3000}key".to_owned(),
        ] {
            assert_eq!(
                IdempotencyKey::parse(&bad),
                Err(IdempotencyKeyError),
                "{bad:?}"
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn documented(key: &str) -> bool {
        !key.is_empty() && key.len() <= MAX_CHARS && key.bytes().all(|b| (b' '..=b'~').contains(&b))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_accepts_exactly_trimmed_visible_ascii_up_to_the_limit(input in prop_oneof![
            any::<String>(),
            "[ \t]{0,2}[ -~]{0,260}[ \t]{0,2}",
            "[ -~\t\n\u{7f}é]{0,20}",
        ]) {
            let trimmed = input.trim_matches([' ', '\t']);
            match IdempotencyKey::parse(&input) {
                Ok(key) => {
                    prop_assert!(documented(trimmed), "accepted {:?}", input);
                    prop_assert_eq!(key.as_str(), trimmed);
                    prop_assert_eq!(IdempotencyKey::parse(key.as_str()), Ok(key.clone()));
                }
                Err(_) => prop_assert!(!documented(trimmed), "refused {:?}", input),
            }
        }
    }
}
