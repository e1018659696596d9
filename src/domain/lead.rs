//! The rules of lead intake that need no database: interest codes, priority, the crisis
//! trigger, spam verdicts, merging a repeat enquiry into a lead, and consent evidence (its kinds
//! and the wording hash).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The interest that makes a lead urgent and puts crisis resources in the answer.
pub const CRISIS_INTEREST: &str = "suicidal_ideation";

/// Every field a lead form may send to `POST /v1/leads`; a honeypot field must not reuse one.
pub const FORM_FIELDS: &[&str] = &[
    "name",
    "phone",
    "email",
    "interests",
    "message",
    "preferred_contact_time",
    "consent",
    "form_rendered_at",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "referrer",
    "landing_page",
    "article_slug",
];

/// The fields a plain HTML form sends besides [`FORM_FIELDS`]: the consent's parts as hidden
/// fields, and where to go after.
pub const HTML_FORM_FIELDS: &[&str] = &[
    "consent_text",
    "consent_version",
    "consent_page_url",
    "redirect",
];

/// Longest interest code, in characters.
pub const MAX_INTEREST_CODE_CHARS: usize = 64;

/// The longest name intake keeps, from any source.
pub const NAME_MAX_CHARS: usize = 200;
/// The longest consent wording intake keeps (a form's, an ad platform's, the embed's setting).
pub const CONSENT_TEXT_MAX_CHARS: usize = 5_000;
/// The longest ad click id (`gclid`, `fbclid`) intake keeps.
pub const CLICK_ID_MAX_CHARS: usize = 500;

/// How soon the clinic should call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Normal,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 2] = [Priority::Normal, Priority::Urgent];

    /// Urgent exactly when the person says they have suicidal thoughts.
    pub fn for_interests<S: AsRef<str>>(interests: &[S]) -> Self {
        if needs_crisis_resources(interests) {
            Self::Urgent
        } else {
            Self::Normal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Urgent => "urgent",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "normal" => Some(Self::Normal),
            "urgent" => Some(Self::Urgent),
            _ => None,
        }
    }

    /// A repeat enquiry can raise a lead's priority, never lower it.
    pub fn raised_to(self, other: Self) -> Self {
        if self == Self::Urgent || other == Self::Urgent {
            Self::Urgent
        } else {
            Self::Normal
        }
    }
}

/// True when the answer must show crisis resources at once.
pub fn needs_crisis_resources<S: AsRef<str>>(interests: &[S]) -> bool {
    interests
        .iter()
        .any(|code| code.as_ref() == CRISIS_INTEREST)
}

/// Why a submission was quarantined as spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamReason {
    /// The hidden field people never see was filled in.
    Honeypot,
    /// The form was sent sooner after it was shown than a person can fill it in.
    TooFast,
    /// More enquiries for the number within the hour than the per-number limit allows.
    RateLimited,
}

impl SpamReason {
    pub const ALL: [SpamReason; 3] = [
        SpamReason::Honeypot,
        SpamReason::TooFast,
        SpamReason::RateLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Honeypot => "honeypot",
            Self::TooFast => "too_fast",
            Self::RateLimited => "rate_limited",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == name)
    }
}

/// Judges a submission. `rendered_at` is the form's own clock: a time after `received` means
/// the visitor's clock runs ahead, so the fill time is unknown and is not held against them.
/// Speed alone never quarantines someone reporting suicidal thoughts: a person in crisis with
/// autofill can be quick, and a missed call costs more than a spam call.
pub fn spam_verdict(
    honeypot_filled: bool,
    rendered_at: Option<DateTime<Utc>>,
    received: DateTime<Utc>,
    min_fill: Duration,
    reports_crisis: bool,
) -> Option<SpamReason> {
    if honeypot_filled {
        return Some(SpamReason::Honeypot);
    }
    if reports_crisis {
        return None;
    }
    let fill_time = (received - rendered_at?).to_std().ok()?;
    (fill_time < min_fill).then_some(SpamReason::TooFast)
}

/// `existing` followed by the codes of `new` it lacks, in their order.
pub fn merge_interests(existing: &[String], new: &[String]) -> Vec<String> {
    let mut merged = existing.to_vec();
    for code in new {
        if !merged.contains(code) {
            merged.push(code.clone());
        }
    }
    merged
}

/// The deadline of a lead that gets another enquiry: a promise still open stands (or moves
/// earlier); one already past is replaced by the new enquiry's own deadline.
pub fn merged_contact_by(
    existing: DateTime<Utc>,
    fresh: DateTime<Utc>,
    received: DateTime<Utc>,
) -> DateTime<Utc> {
    if existing > received {
        existing.min(fresh)
    } else {
        fresh
    }
}

/// What a consent record is evidence of. Records are only ever added: a later answer never
/// changes an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentKind {
    /// Agreed or declined on the form of an enquiry.
    Form,
    /// The person asked never to be contacted at the number.
    OptOut,
    /// Staff lifted an opt-out, with a reason.
    StaffReinstated,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 3] = [
        ConsentKind::Form,
        ConsentKind::OptOut,
        ConsentKind::StaffReinstated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Form => "form",
            Self::OptOut => "opt_out",
            Self::StaffReinstated => "staff_reinstated",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Identifies the exact consent wording a person saw, whatever its length.
pub fn wording_sha256(wording: &str) -> [u8; 32] {
    Sha256::digest(wording.as_bytes()).into()
}

/// Why an interest code was refused; the message is shown to API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be 1 to {MAX_INTEREST_CODE_CHARS} lowercase letters, digits or underscores, starting \
     with a letter, e.g. treatment_resistant_depression"
)]
pub struct InterestCodeError;

/// An interest code as stored: `^[a-z][a-z0-9_]{0,63}$` (the table checks the same).
pub fn interest_code(input: &str) -> Result<String, InterestCodeError> {
    let code = input.trim();
    let mut bytes = code.bytes();
    let starts_with_letter = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    let rest_valid = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if starts_with_letter && rest_valid && code.len() <= MAX_INTEREST_CODE_CHARS {
        Ok(code.to_owned())
    } else {
        Err(InterestCodeError)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, s).unwrap()
    }

    const THREE_SECONDS: Duration = Duration::from_secs(3);

    #[test]
    fn suicidal_ideation_makes_a_lead_urgent_and_nothing_else_does() {
        assert_eq!(
            Priority::for_interests(&["ptsd", "suicidal_ideation"]),
            Priority::Urgent
        );
        assert_eq!(
            Priority::for_interests(&["ptsd", "treatment_resistant_depression"]),
            Priority::Normal
        );
        assert_eq!(Priority::for_interests::<&str>(&[]), Priority::Normal);
        assert_eq!(
            Priority::for_interests(&["suicidal_ideation_history"]),
            Priority::Normal
        );
    }

    #[test]
    fn priority_is_raised_never_lowered() {
        assert_eq!(
            Priority::Urgent.raised_to(Priority::Normal),
            Priority::Urgent
        );
        assert_eq!(
            Priority::Normal.raised_to(Priority::Urgent),
            Priority::Urgent
        );
        assert_eq!(
            Priority::Normal.raised_to(Priority::Normal),
            Priority::Normal
        );
    }

    #[test]
    fn priority_round_trips_through_its_stored_name() {
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()), Some(priority));
        }
        assert_eq!(Priority::parse("high"), None);
    }

    #[test]
    fn spam_reasons_and_consent_kinds_round_trip_through_their_stored_names() {
        for reason in SpamReason::ALL {
            assert_eq!(SpamReason::parse(reason.as_str()), Some(reason));
        }
        for kind in ConsentKind::ALL {
            assert_eq!(ConsentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SpamReason::parse("Honeypot"), None);
        assert_eq!(ConsentKind::parse("opt-out"), None);
    }

    #[test]
    fn a_filled_honeypot_is_spam_whatever_the_timing() {
        assert_eq!(
            spam_verdict(true, None, at(10, 0, 0), THREE_SECONDS, false),
            Some(SpamReason::Honeypot)
        );
    }

    #[test]
    fn a_form_sent_faster_than_the_minimum_fill_time_is_spam() {
        assert_eq!(
            spam_verdict(
                false,
                Some(at(10, 0, 0)),
                at(10, 0, 2),
                THREE_SECONDS,
                false
            ),
            Some(SpamReason::TooFast)
        );
    }

    #[test]
    fn a_form_filled_in_at_least_the_minimum_time_is_not_spam() {
        assert_eq!(
            spam_verdict(
                false,
                Some(at(10, 0, 0)),
                at(10, 0, 3),
                THREE_SECONDS,
                false
            ),
            None
        );
        assert_eq!(
            spam_verdict(false, Some(at(9, 0, 0)), at(10, 0, 0), THREE_SECONDS, false),
            None
        );
    }

    #[test]
    fn speed_alone_never_quarantines_someone_reporting_a_crisis() {
        assert_eq!(
            spam_verdict(false, Some(at(10, 0, 0)), at(10, 0, 1), THREE_SECONDS, true),
            None
        );
        assert_eq!(
            spam_verdict(true, Some(at(10, 0, 0)), at(10, 0, 1), THREE_SECONDS, true),
            Some(SpamReason::Honeypot)
        );
    }

    #[test]
    fn a_render_time_in_the_future_is_a_skewed_clock_not_spam() {
        assert_eq!(
            spam_verdict(
                false,
                Some(at(10, 5, 0)),
                at(10, 0, 0),
                THREE_SECONDS,
                false
            ),
            None
        );
    }

    #[test]
    fn without_a_render_time_or_minimum_only_the_honeypot_counts() {
        assert_eq!(
            spam_verdict(false, None, at(10, 0, 0), THREE_SECONDS, false),
            None
        );
        assert_eq!(
            spam_verdict(
                false,
                Some(at(10, 0, 0)),
                at(10, 0, 0),
                Duration::ZERO,
                false
            ),
            None
        );
    }

    #[test]
    fn merging_interests_keeps_existing_order_and_adds_new_codes_once() {
        let existing = vec!["ptsd".to_owned(), "suicidal_ideation".to_owned()];
        let new = vec![
            "treatment_resistant_depression".to_owned(),
            "ptsd".to_owned(),
        ];
        assert_eq!(
            merge_interests(&existing, &new),
            [
                "ptsd",
                "suicidal_ideation",
                "treatment_resistant_depression"
            ]
        );
        assert_eq!(merge_interests(&[], &[]), Vec::<String>::new());
    }

    #[test]
    fn an_open_deadline_stands_when_the_same_person_writes_again() {
        let existing = at(17, 0, 0);
        assert_eq!(
            merged_contact_by(existing, at(18, 0, 0), at(11, 0, 0)),
            existing
        );
    }

    #[test]
    fn a_passed_deadline_is_replaced_by_the_new_enquirys_deadline() {
        let fresh = at(18, 0, 0);
        assert_eq!(merged_contact_by(at(9, 0, 0), fresh, at(11, 0, 0)), fresh);
    }

    #[test]
    fn a_merged_deadline_never_moves_later_than_the_new_enquirys() {
        let fresh = at(15, 0, 0);
        assert_eq!(merged_contact_by(at(17, 0, 0), fresh, at(11, 0, 0)), fresh);
    }

    #[test]
    fn the_wording_hash_is_the_sha256_of_the_exact_text() {
        assert_eq!(
            hex::encode(wording_sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(wording_sha256("I agree."), wording_sha256("I agree"));
    }

    #[test]
    fn interest_codes_are_snake_case_starting_with_a_letter() {
        assert_eq!(interest_code(" ptsd ").unwrap(), "ptsd");
        assert_eq!(interest_code("long_covid_2").unwrap(), "long_covid_2");
        for bad in ["", "PTSD", "2fa", "_x", "ptsd-c", "pt sd", "é"] {
            assert_eq!(interest_code(bad), Err(InterestCodeError), "{bad:?}");
        }
        assert!(interest_code(&"a".repeat(64)).is_ok());
        assert!(interest_code(&"a".repeat(65)).is_err());
    }
}
