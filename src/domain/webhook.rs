//! Webhook subscriptions: which events a subscription wants, the body format it receives, and
//! its signing secret (Standard Webhooks: `whsec_` + base64 of the key bytes).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::event::EventType;

/// Marks a secret as a Standard Webhooks signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Key bytes per secret: HMAC-SHA256's block-worthy 256 bits.
const SECRET_BYTES: usize = 32;
/// The one-entry list that selects every event type.
pub const ALL_EVENTS: &str = "*";

/// The body a subscription receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `{"id","type","occurred_at","data"}`, signed.
    #[default]
    Standard,
    /// `{"text": …}` for a Slack, Teams or Google Chat channel; never personal data.
    Slack,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Standard, Format::Slack];

    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Standard => "standard",
            Format::Slack => "slack",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    #[error("must name at least one event type, or be [\"*\"]")]
    Empty,
    #[error("`*` must be the only entry")]
    WildcardWithOthers,
    #[error("`{0}` is not an event type: use {names}", names = event_names())]
    Unknown(String),
}

fn event_names() -> String {
    let names: Vec<&str> = EventType::ALL.into_iter().map(EventType::as_str).collect();
    names.join(", ")
}

/// The event types a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSelection {
    /// `["*"]`: every type, including types added later.
    All,
    /// These types, each once, in the order first given.
    Only(Vec<EventType>),
}

impl EventSelection {
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<EventSelection, EventsError> {
        let names: Vec<&str> = names.iter().map(|name| name.as_ref().trim()).collect();
        if names.is_empty() {
            return Err(EventsError::Empty);
        }
        if names.contains(&ALL_EVENTS) {
            return if names.iter().all(|name| *name == ALL_EVENTS) {
                Ok(EventSelection::All)
            } else {
                Err(EventsError::WildcardWithOthers)
            };
        }
        let mut kinds = Vec::new();
        for name in names {
            let kind =
                EventType::parse(name).ok_or_else(|| EventsError::Unknown(name.to_owned()))?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(EventSelection::Only(kinds))
    }

    pub fn names(&self) -> Vec<&'static str> {
        match self {
            EventSelection::All => vec![ALL_EVENTS],
            EventSelection::Only(kinds) => kinds.iter().map(|kind| kind.as_str()).collect(),
        }
    }

    pub fn matches(&self, kind: EventType) -> bool {
        match self {
            EventSelection::All => true,
            EventSelection::Only(kinds) => kinds.contains(&kind),
        }
    }
}

/// A signing secret as shown to the subscriber once and kept to sign: `whsec_` + base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Result<Secret, getrandom::Error> {
        let mut key = [0u8; SECRET_BYTES];
        getrandom::fill(&mut key)?;
        Ok(Secret(format!("{SECRET_PREFIX}{}", STANDARD.encode(key))))
    }

    /// A stored secret; `None` unless it has the shape [`Secret::generate`] gives.
    pub fn from_stored(stored: &str) -> Option<Secret> {
        let secret = Secret(stored.to_owned());
        (secret.key().map(|key| key.len()) == Some(SECRET_BYTES)).then_some(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the bytes after `whsec_`.
    pub fn key(&self) -> Option<Vec<u8>> {
        let encoded = self.0.strip_prefix(SECRET_PREFIX)?;
        STANDARD.decode(encoded).ok()
    }
}

impl fmt::Debug for Secret {
    // Never the secret itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_their_names() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::parse("teams"), None);
    }

    #[test]
    fn a_star_alone_selects_every_event_type() {
        let all = EventSelection::parse(&["*"]).unwrap();
        assert_eq!(all, EventSelection::All);
        assert!(EventType::ALL.into_iter().all(|kind| all.matches(kind)));
        assert_eq!(all.names(), vec!["*"]);
    }

    #[test]
    fn named_event_types_select_only_themselves_once_each() {
        let some =
            EventSelection::parse(&["lead.created", " article.published", "lead.created"]).unwrap();
        assert_eq!(some.names(), vec!["lead.created", "article.published"]);
        assert!(some.matches(EventType::LeadCreated));
        assert!(!some.matches(EventType::LeadUpdated));
    }

    #[test]
    fn empty_unknown_and_mixed_wildcard_selections_are_refused() {
        let none: [&str; 0] = [];
        assert_eq!(EventSelection::parse(&none), Err(EventsError::Empty));
        assert_eq!(
            EventSelection::parse(&["*", "lead.created"]),
            Err(EventsError::WildcardWithOthers)
        );
        assert_eq!(
            EventSelection::parse(&["lead.deleted"]),
            Err(EventsError::Unknown("lead.deleted".to_owned()))
        );
    }

    #[test]
    fn a_generated_secret_is_whsec_and_base64_of_32_random_bytes() {
        let one = Secret::generate().unwrap();
        let two = Secret::generate().unwrap();
        assert!(one.expose().starts_with("whsec_"));
        assert_eq!(one.key().unwrap().len(), 32);
        assert_ne!(one, two);
        assert_eq!(Secret::from_stored(one.expose()), Some(one.clone()));
        assert_eq!(Secret::from_stored("whsec_c2hvcnQ="), None);
        assert!(!format!("{one:?}").contains(one.expose()));
    }
}
