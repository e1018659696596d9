//! What a staff change to a resource carries besides its values: which fields it keeps, clears or
//! sets, and which version of the resource it was made against.

use serde::{Deserialize, Deserializer};

/// A PATCH field: absent (keep), `null` (clear), or a value (set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Change<T> {
    /// Only called when the field is present; pair with `#[serde(default)]` for `Keep`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Change::Set(value),
            None => Change::Clear,
        })
    }
}

impl<T> Change<T> {
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Change::Keep => current,
            Change::Clear => None,
            Change::Set(value) => Some(value),
        }
    }
}

/// An `If-Match` condition on a resource's version tag (an article's or a lead's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: the resource must exist.
    Any,
    /// One of these tags (unquoted) must be the current one.
    OneOf(Vec<String>),
}

impl Precondition {
    pub fn holds(&self, current: &str) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::OneOf(tags) => tags.iter().any(|tag| tag == current),
        }
    }
}
