//! What an API key may do. Scopes are explicit: `admin` manages keys and settings but does not
//! imply reading leads, so a key only ever sees the health data it was made for.

use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    ContentWrite,
    LeadsRead,
    LeadsWrite,
    /// Only posts leads, as a lead source of kind `api`.
    LeadsCreate,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::ContentWrite,
        Scope::LeadsRead,
        Scope::LeadsWrite,
        Scope::LeadsCreate,
        Scope::Admin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::ContentWrite => "content:write",
            Scope::LeadsRead => "leads:read",
            Scope::LeadsWrite => "leads:write",
            Scope::LeadsCreate => "leads:create",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    #[error("must name at least one scope")]
    Empty,
    #[error(
        "unknown scope `{0}`; known scopes: content:write, leads:read, leads:write, leads:create, admin"
    )]
    Unknown(String),
}

impl Scopes {
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, ScopesError> {
        let scopes = names
            .into_iter()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| Scope::parse(name).ok_or_else(|| ScopesError::Unknown(name.to_owned())))
            .collect::<Result<BTreeSet<_>, _>>()?;
        if scopes.is_empty() {
            return Err(ScopesError::Empty);
        }
        Ok(Scopes(scopes))
    }

    /// The stored form: space-separated, as OAuth writes scopes.
    pub fn parse_stored(stored: &str) -> Result<Scopes, ScopesError> {
        Self::parse(stored.split(' '))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|scope| scope.as_str()).collect()
    }

    pub fn to_stored(&self) -> String {
        self.names().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_names_and_ignore_duplicates() {
        let scopes = Scopes::parse(["leads:read", "admin", "leads:read"]).unwrap();
        assert_eq!(scopes.names(), ["leads:read", "admin"]);
        assert!(scopes.contains(Scope::Admin));
        assert!(!scopes.contains(Scope::LeadsWrite));
    }

    #[test]
    fn an_unknown_or_missing_scope_is_refused() {
        assert_eq!(
            Scopes::parse(["leads:delete"]),
            Err(ScopesError::Unknown("leads:delete".into()))
        );
        assert_eq!(Scopes::parse([" ", ""]), Err(ScopesError::Empty));
    }

    #[test]
    fn the_stored_form_round_trips() {
        let scopes = Scopes::parse(["content:write", "leads:write"]).unwrap();
        assert_eq!(Scopes::parse_stored(&scopes.to_stored()).unwrap(), scopes);
    }
}
