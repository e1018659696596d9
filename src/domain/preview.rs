//! Preview tokens: let someone without a key read one unpublished article until a deadline.
//!
//! A token is URL-safe base64 of `article id (16 bytes) ‖ expiry (i64 seconds, big-endian) ‖
//! HMAC-SHA256 of those 24 bytes`. Nothing is stored: any replica holding the same key verifies
//! it, and it cannot be revoked before it expires except by rotating the key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

const PAYLOAD_LEN: usize = 16 + 8;
const TOKEN_LEN: usize = PAYLOAD_LEN + 32;
/// Keys shorter than this are refused: the token's strength is the key's.
pub const MIN_KEY_BYTES: usize = 32;

/// The signing key, prepared once as an HMAC. Never printed.
#[derive(Clone)]
pub struct PreviewKey(HmacSha256);

impl std::fmt::Debug for PreviewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreviewKey(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("the preview token is malformed or its signature does not match")]
    Invalid,
    #[error("the preview token has expired")]
    Expired,
}

/// What a valid token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewGrant {
    pub article_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl PreviewKey {
    /// `None` when the key is too short to be safe.
    pub fn new(bytes: Vec<u8>) -> Option<PreviewKey> {
        if bytes.len() < MIN_KEY_BYTES {
            return None;
        }
        // HMAC accepts keys of any length; this is the only place one is made.
        HmacSha256::new_from_slice(&bytes).ok().map(PreviewKey)
    }

    pub fn sign(&self, article_id: Uuid, expires_at: DateTime<Utc>) -> String {
        let payload = payload(article_id, expires_at.timestamp());
        let mut token = payload.to_vec();
        token.extend_from_slice(&self.mac(&payload).finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The grant a token carries, if its signature holds and it has not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<PreviewGrant, PreviewError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| PreviewError::Invalid)?;
        if bytes.len() != TOKEN_LEN {
            return Err(PreviewError::Invalid);
        }
        let (payload, signature) = bytes.split_at(PAYLOAD_LEN);
        // Constant-time comparison, so the signature cannot be guessed byte by byte.
        self.mac(payload)
            .verify_slice(signature)
            .map_err(|_| PreviewError::Invalid)?;
        let (id, expiry) = payload.split_at(16);
        let article_id = Uuid::from_slice(id).map_err(|_| PreviewError::Invalid)?;
        let expiry = i64::from_be_bytes(expiry.try_into().map_err(|_| PreviewError::Invalid)?);
        let expires_at = DateTime::from_timestamp(expiry, 0).ok_or(PreviewError::Invalid)?;
        if expires_at <= now {
            return Err(PreviewError::Expired);
        }
        Ok(PreviewGrant {
            article_id,
            expires_at,
        })
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(payload);
        mac
    }
}

fn payload(article_id: Uuid, expiry: i64) -> [u8; PAYLOAD_LEN] {
    let mut payload = [0u8; PAYLOAD_LEN];
    let (id, exp) = payload.split_at_mut(16);
    id.copy_from_slice(article_id.as_bytes());
    exp.copy_from_slice(&expiry.to_be_bytes());
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key(byte: u8) -> PreviewKey {
        PreviewKey::new(vec![byte; 32]).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_417_600, 0).unwrap()
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let id = Uuid::now_v7();
        let expires_at = now() + Duration::hours(1);
        let token = key(1).sign(id, expires_at);

        assert_eq!(
            key(1).verify(&token, now()),
            Ok(PreviewGrant {
                article_id: id,
                expires_at
            })
        );
        assert_eq!(
            key(1).verify(&token, expires_at),
            Err(PreviewError::Expired)
        );
    }

    #[test]
    fn a_token_signed_with_another_key_or_altered_is_invalid() {
        let token = key(1).sign(Uuid::now_v7(), now() + Duration::hours(1));
        assert_eq!(key(2).verify(&token, now()), Err(PreviewError::Invalid));

        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[20] ^= 1; // push the expiry elsewhere
        let altered = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(key(1).verify(&altered, now()), Err(PreviewError::Invalid));
        assert_eq!(
            key(1).verify("not a token", now()),
            Err(PreviewError::Invalid)
        );
        assert_eq!(key(1).verify("", now()), Err(PreviewError::Invalid));
    }

    #[test]
    fn short_keys_are_refused_and_never_printed() {
        assert!(PreviewKey::new(vec![7; 31]).is_none());
        assert!(!format!("{:?}", key(7)).contains('7'));
    }
}

#[cfg(test)]
mod properties {
    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;

    const NOW: i64 = 1_764_417_600;

    fn key() -> impl Strategy<Value = PreviewKey> {
        prop::collection::vec(any::<u8>(), MIN_KEY_BYTES..64)
            .prop_filter_map("long", PreviewKey::new)
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(NOW, 0).unwrap_or_default()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_signed_token_verifies_to_what_was_signed(
            key in key(),
            id in any::<u128>(),
            ttl in 1i64..10_000_000,
        ) {
            let article_id = Uuid::from_u128(id);
            let expires_at = now() + Duration::seconds(ttl);
            let token = key.sign(article_id, expires_at);
            prop_assert_eq!(key.verify(&token, now()), Ok(PreviewGrant { article_id, expires_at }));
            prop_assert_eq!(key.verify(&token, expires_at), Err(PreviewError::Expired));
        }

        #[test]
        fn any_changed_character_makes_a_token_invalid(
            key in key(),
            id in any::<u128>(),
            position in any::<prop::sample::Index>(),
            replacement in "[A-Za-z0-9_-]",
        ) {
            let token = key.sign(Uuid::from_u128(id), now() + Duration::hours(1));
            let index = position.index(token.len());
            let original = token.get(index..=index).unwrap_or_default();
            prop_assume!(original != replacement);
            let mut tampered = token.clone();
            tampered.replace_range(index..=index, &replacement);
            prop_assert_eq!(key.verify(&tampered, now()), Err(PreviewError::Invalid));
        }

        #[test]
        fn a_token_signed_with_another_key_is_invalid(
            // One length: HMAC pads short keys with zeros, so `k` and `k‖0` are the same key.
            bytes in prop::array::uniform32(any::<u8>()),
            other in prop::array::uniform32(any::<u8>()),
            id in any::<u128>(),
        ) {
            prop_assume!(bytes != other);
            let (Some(key), Some(other)) = (PreviewKey::new(bytes.to_vec()), PreviewKey::new(other.to_vec())) else {
                return Err(TestCaseError::fail("keys this long are accepted"));
            };
            let token = key.sign(Uuid::from_u128(id), now() + Duration::hours(1));
            prop_assert_eq!(other.verify(&token, now()), Err(PreviewError::Invalid));
        }

        #[test]
        fn verifying_any_text_never_panics(key in key(), text in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_-]{70,80}",
        ]) {
            let _ = key.verify(&text, now());
        }
    }
}
