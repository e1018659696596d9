//! Email addresses from web forms.
//!
//! Deliberately simpler than RFC 5322: no quoted local parts, comments or IP
//! literals, and the domain must be a dotted host name. Lengths are counted
//! in bytes, as SMTP does (RFC 5321: 254 for the path, 64 for the local part,
//! 63 per domain label).

use std::fmt;

use serde::{Serialize, Serializer};

pub const MAX_EMAIL_BYTES: usize = 254;
pub const MAX_LOCAL_PART_BYTES: usize = 64;
pub const MAX_DOMAIN_LABEL_BYTES: usize = 63;

const EXAMPLE: &str = "name@example.com";

/// A syntactically valid email address, with its domain lowercased. Its `Debug` hides the
/// address, so a stray `{:?}` cannot put it in the logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why an email address was rejected. Messages are phrased to follow a field
/// name in an API error ("email must not be empty").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_EMAIL_BYTES} characters")]
    TooLong,
    #[error("must not contain spaces or control characters")]
    InvalidCharacters,
    #[error("must contain exactly one @, e.g. {EXAMPLE}")]
    AtSign,
    #[error("must have a name before the @, e.g. {EXAMPLE}")]
    EmptyLocalPart,
    #[error("must have at most {MAX_LOCAL_PART_BYTES} characters before the @")]
    LocalPartTooLong,
    #[error("must have a valid domain after the @, e.g. {EXAMPLE}")]
    InvalidDomain,
}

impl Email {
    /// Trims surrounding whitespace, validates, and lowercases the domain.
    /// The local part keeps its case: it may be case-sensitive.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_EMAIL_BYTES {
            return Err(EmailError::TooLong);
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::InvalidCharacters);
        }
        let (local, domain) = split_at_sign(trimmed)?;
        check_local_part(local)?;
        check_domain(domain)?;
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

fn split_at_sign(address: &str) -> Result<(&str, &str), EmailError> {
    match address.split_once('@') {
        Some((local, domain)) if !domain.contains('@') => Ok((local, domain)),
        _ => Err(EmailError::AtSign),
    }
}

fn check_local_part(local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if local.len() > MAX_LOCAL_PART_BYTES {
        return Err(EmailError::LocalPartTooLong);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    let mut labels = domain.split('.');
    let all_valid = labels.clone().all(is_valid_label);
    // At least two labels means at least one dot.
    let dotted = labels.nth(1).is_some();
    if all_valid && dotted {
        Ok(())
    } else {
        Err(EmailError::InvalidDomain)
    }
}

fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_DOMAIN_LABEL_BYTES
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_unchanged() {
        for input in [
            "jane@example.com",
            "jane.doe+clinic@mail.example.co.uk",
            "j@x.io",
            "o'brien@example.com",
            "user_name-1@sub-domain.example.org",
            "123@456.com",
        ] {
            assert_eq!(Email::parse(input).unwrap().as_str(), input);
        }
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(
            Email::parse("  jane@example.com\n").unwrap().as_str(),
            "jane@example.com"
        );
    }

    #[test]
    fn domain_is_lowercased_but_local_part_keeps_its_case() {
        assert_eq!(
            Email::parse("Jane.Doe@Example.COM").unwrap().as_str(),
            "Jane.Doe@example.com"
        );
    }

    #[test]
    fn empty_or_blank_input_is_rejected() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse(" \t "), Err(EmailError::Empty));
    }

    #[test]
    fn address_of_254_bytes_is_accepted_and_255_rejected() {
        let domain = format!(
            "{}.{}.{}.com",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(57)
        );
        let ok = format!("{}@{domain}", "x".repeat(64));
        assert_eq!(ok.len(), 254);
        assert!(Email::parse(&ok).is_ok());
        let too_long = format!("{}@{domain}c", "x".repeat(64));
        assert_eq!(Email::parse(&too_long), Err(EmailError::TooLong));
    }

    #[test]
    fn missing_or_repeated_at_sign_is_rejected() {
        for input in [
            "jane.example.com",
            "jane@@example.com",
            "jane@doe@example.com",
            "@@",
        ] {
            assert_eq!(Email::parse(input), Err(EmailError::AtSign), "{input:?}");
        }
    }

    #[test]
    fn empty_local_part_is_rejected() {
        assert_eq!(
            Email::parse("@example.com"),
            Err(EmailError::EmptyLocalPart)
        );
    }

    #[test]
    fn local_part_over_64_bytes_is_rejected() {
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
        let long = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long), Err(EmailError::LocalPartTooLong));
    }

    #[test]
    fn spaces_and_control_characters_are_rejected() {
        for input in [
            "jane doe@example.com",
            "jane@exa mple.com",
            "jane\u{0}@example.com",
            "jane@example.com\u{7}",
            "ja\tne@example.com",
        ] {
            assert_eq!(
                Email::parse(input),
                Err(EmailError::InvalidCharacters),
                "{input:?}"
            );
        }
    }

    #[test]
    fn bad_domains_are_rejected() {
        for input in [
            "jane@",
            "jane@localhost",
            "jane@example",
            "jane@.example.com",
            "jane@example.com.",
            "jane@example..com",
            "jane@-example.com",
            "jane@example-.com",
            "jane@exa_mple.com",
            "jane@exämple.com",
            "jane@[127.0.0.1]",
            "jane@example.com:25",
        ] {
            assert_eq!(
                Email::parse(input),
                Err(EmailError::InvalidDomain),
                "{input:?}"
            );
        }
    }

    #[test]
    fn domain_label_over_63_bytes_is_rejected() {
        let long_label = format!("jane@{}.com", "a".repeat(64));
        assert_eq!(Email::parse(&long_label), Err(EmailError::InvalidDomain));
    }

    #[test]
    fn hyphens_inside_domain_labels_are_accepted() {
        assert!(Email::parse("jane@my-clinic.example-health.com").is_ok());
    }

    #[test]
    fn debug_output_hides_the_address() {
        let email = Email::parse("jane@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "Email(<redacted>)");
    }

    #[test]
    fn display_and_serialize_use_the_normalised_address() {
        let email = Email::parse("Jane@Example.com").unwrap();
        assert_eq!(email.to_string(), "Jane@example.com");
        assert_eq!(
            serde_json::to_string(&email).unwrap(),
            "\"Jane@example.com\""
        );
    }

    #[test]
    fn error_messages_read_as_field_errors() {
        assert_eq!(
            EmailError::AtSign.to_string(),
            "must contain exactly one @, e.g. name@example.com"
        );
        assert_eq!(
            EmailError::TooLong.to_string(),
            "must be at most 254 characters"
        );
    }
}
