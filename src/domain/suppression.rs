//! The opt-out suppression list's key: numbers are kept as HMAC-SHA256 of their E.164 form, so
//! the list can say "this number opted out" without holding any number. And what staff write
//! when they lift an opt-out.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::phone::E164Phone;
use crate::domain::text::{self, TextError};

type HmacSha256 = Hmac<Sha256>;

/// Keys shorter than this are refused.
pub const MIN_KEY_BYTES: usize = 32;

/// The per-installation key, prepared once as an HMAC. Never printed. Changing it forgets every
/// opt-out.
#[derive(Clone)]
pub struct SuppressionKey(HmacSha256);

impl std::fmt::Debug for SuppressionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuppressionKey(<redacted>)")
    }
}

impl SuppressionKey {
    /// `None` when the key is too short to be safe.
    pub fn new(bytes: Vec<u8>) -> Option<SuppressionKey> {
        if bytes.len() < MIN_KEY_BYTES {
            return None;
        }
        // HMAC accepts keys of any length; this is the only place one is made.
        <HmacSha256 as KeyInit>::new_from_slice(&bytes)
            .ok()
            .map(SuppressionKey)
    }

    /// What the suppression list stores for `phone`.
    pub fn tag(&self, phone: &E164Phone) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(phone.as_str().as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Longest reason for lifting an opt-out, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// Why staff lift a number's opt-out: 1–500 characters after trimming, line breaks kept. It
/// may name the person or their health, so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReinstateReason(String);

impl std::fmt::Debug for ReinstateReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReinstateReason(<redacted>)")
    }
}

impl ReinstateReason {
    pub fn parse(input: &str) -> Result<ReinstateReason, TextError> {
        text::multi_line(input, REASON_MAX_CHARS).map(ReinstateReason)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The consent wording that records the reinstatement: who did it and why.
    pub fn wording(&self, staff: &str) -> String {
        format!(
            "Reinstated by staff ({staff}) after an opt-out: contact with this phone number may \
             resume. Reason: {}",
            self.0
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use phonenumber::country;

    fn phone(input: &str) -> E164Phone {
        E164Phone::parse(input, country::US).unwrap()
    }

    #[test]
    fn every_format_of_a_number_gets_the_same_tag_and_other_numbers_another() {
        let key = SuppressionKey::new(vec![7; 32]).unwrap();
        assert_eq!(
            key.tag(&phone("(415) 555-2671")),
            key.tag(&phone("+1 415 555 2671"))
        );
        assert_ne!(
            key.tag(&phone("(415) 555-2671")),
            key.tag(&phone("(212) 555-0143"))
        );
    }

    #[test]
    fn the_tag_is_hmac_sha256_of_the_e164_number() {
        let key = SuppressionKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(b"0123456789abcdef0123456789abcdef").unwrap();
        mac.update(b"+14155552671");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(key.tag(&phone("415-555-2671")), expected);
    }

    #[test]
    fn another_key_gives_another_tag_and_short_keys_are_refused() {
        let a = SuppressionKey::new(vec![1; 32]).unwrap();
        let b = SuppressionKey::new(vec![2; 32]).unwrap();
        assert_ne!(a.tag(&phone("4155552671")), b.tag(&phone("4155552671")));
        assert!(SuppressionKey::new(vec![1; 31]).is_none());
        assert_eq!(format!("{a:?}"), "SuppressionKey(<redacted>)");
    }

    #[test]
    fn a_reason_is_trimmed_kept_with_its_line_breaks_and_between_1_and_500_characters() {
        let reason = ReinstateReason::parse("  She called back.\nWants a call.  ").unwrap();
        assert_eq!(reason.as_str(), "She called back.\nWants a call.");
        assert_eq!(ReinstateReason::parse("   "), Err(TextError::Empty));
        assert!(ReinstateReason::parse(&"é".repeat(500)).is_ok());
        assert_eq!(
            ReinstateReason::parse(&"é".repeat(501)),
            Err(TextError::TooLong { max: 500 })
        );
        assert_eq!(format!("{reason:?}"), "ReinstateReason(<redacted>)");
    }

    #[test]
    fn the_wording_names_the_staff_key_and_ends_with_the_reason() {
        let reason = ReinstateReason::parse("She called back.").unwrap();
        let wording = reason.wording("Front desk CRM");
        assert!(wording.starts_with("Reinstated by staff (Front desk CRM)"));
        assert!(wording.ends_with("Reason: She called back."));
    }
}
