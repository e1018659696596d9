//! API key material. A key is `bcn_<prefix>_<secret>`: the prefix identifies it to people and in
//! `beacon keys revoke`, the secret carries 256 random bits, and only a SHA-256 of the whole key
//! is stored (a slow hash buys nothing for a secret this long).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::scope::Scopes;

/// The key a request was made with, once it has been checked.
#[derive(Clone, Debug)]
pub struct Caller {
    pub key_id: Uuid,
    /// The key's name: recorded as "who" in audit and activity entries.
    pub key_name: String,
    pub scopes: Scopes,
}

const KEY_MARKER: &str = "bcn_";

/// A freshly minted key: shown once, then only its hash and prefix exist.
pub struct NewKey {
    pub prefix: String,
    pub secret: String,
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

pub fn generate() -> Result<NewKey, getrandom::Error> {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id)?;
    getrandom::fill(&mut secret)?;
    let prefix = format!("{KEY_MARKER}{}", hex::encode(id));
    let secret = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(secret));
    Ok(NewKey {
        hash: hash(&secret),
        prefix,
        secret,
    })
}

pub fn hash(presented: &str) -> Vec<u8> {
    Sha256::digest(presented.as_bytes()).to_vec()
}

/// The key from an `Authorization: Bearer <key>` header value, if it has that shape.
pub fn from_bearer(header: &str) -> Option<&str> {
    let (scheme, key) = header.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && key.starts_with(KEY_MARKER) && key.len() <= 128)
        .then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_starts_with_its_prefix_and_hashes_to_its_hash() {
        let key = generate().unwrap();
        assert!(key.secret.starts_with(&format!("{}_", key.prefix)));
        assert_eq!(key.prefix.len(), 16);
        assert_eq!(hash(&key.secret), key.hash);
        assert!(!format!("{key:?}").contains(&key.secret));
    }

    #[test]
    fn two_keys_differ() {
        assert_ne!(generate().unwrap().secret, generate().unwrap().secret);
    }

    #[test]
    fn only_bearer_headers_carrying_a_beacon_key_are_accepted() {
        assert_eq!(from_bearer("Bearer bcn_abc_def"), Some("bcn_abc_def"));
        assert_eq!(from_bearer("bearer  bcn_abc_def "), Some("bcn_abc_def"));
        assert_eq!(from_bearer("Basic dXNlcjpwYXNz"), None);
        assert_eq!(from_bearer("Bearer other"), None);
        assert_eq!(from_bearer("Bearer"), None);
    }
}
