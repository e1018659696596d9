//! Who sent a public request, as far as it can be told: kept as evidence with consent records
//! and used for per-network rate limits.

use std::net::IpAddr;

/// Longest user agent kept, in characters.
pub const USER_AGENT_MAX_CHARS: usize = 512;

/// A request's sender. Its `Debug` shows nothing that identifies a person.
#[derive(Clone, Default)]
pub struct Client {
    /// Resolved through trusted proxies.
    pub ip: Option<IpAddr>,
    /// Cut to [`USER_AGENT_MAX_CHARS`].
    pub user_agent: Option<String>,
    /// The `Referer` header when it is an http(s) URL: the page the form was on.
    pub referer: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client(<redacted>)")
    }
}
