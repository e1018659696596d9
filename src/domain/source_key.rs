//! The shared key an ad platform sends with each lead (Google's `google_key`): 192 random bits,
//! shown once when the source is created, then only its SHA-256 is kept (a slow hash buys
//! nothing for a secret this long), and a presented key is compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest key looked at; longer ones are wrong without hashing them.
const PRESENTED_MAX_BYTES: usize = 256;

/// A freshly made key: shown once. Its `Debug` shows nothing.
pub struct SourceKey {
    pub secret: String,
    pub sha256: [u8; 32],
}

impl std::fmt::Debug for SourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SourceKey(<redacted>)")
    }
}

impl SourceKey {
    pub fn generate() -> Result<SourceKey, getrandom::Error> {
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes)?;
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        Ok(SourceKey {
            sha256: Sha256::digest(secret.as_bytes()).into(),
            secret,
        })
    }
}

/// Whether `presented` is the key whose SHA-256 is `stored`, without a timing difference that
/// tells how much of it was right.
pub fn matches(stored: &[u8], presented: &str) -> bool {
    if presented.len() > PRESENTED_MAX_BYTES {
        return false;
    }
    let digest = Sha256::digest(presented.as_bytes());
    stored.ct_eq(digest.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_matches_its_hash_and_nothing_else() {
        let key = SourceKey::generate().unwrap_or_else(|_| unreachable!("no entropy"));
        assert_eq!(key.secret.len(), 32);
        assert!(matches(&key.sha256, &key.secret));
        assert!(!matches(&key.sha256, &key.secret[1..]));
        assert!(!matches(&key.sha256, ""));
        assert!(!matches(&key.sha256[..31], &key.secret));
        assert!(!format!("{key:?}").contains(&key.secret));
    }
}
