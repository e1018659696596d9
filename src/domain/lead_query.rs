//! Pure parts of working the lead queue: the search term, staff-written text, and the day range
//! of statistics in the clinic's time zone.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use phonenumber::country;

use crate::domain::phone::E164Phone;
use crate::domain::text::{self, TextError};

pub const SEARCH_MAX_CHARS: usize = 200;
pub const ASSIGNEE_MAX_CHARS: usize = 100;
pub const NOTE_MAX_CHARS: usize = 2_000;

/// Digits a partial phone number needs before it is searched as one.
pub const MIN_PHONE_DIGITS: usize = 4;

/// What `q` looks for: a case-insensitive substring of the name or email; when it reads as a
/// phone number in any common format, that number; and when it is written like (part of) a
/// number, numbers holding its digits.
#[derive(Clone, PartialEq, Eq)]
pub struct SearchTerm {
    /// An `ILIKE` pattern matching the term anywhere, its own `%`, `_` and `\` escaped.
    pub pattern: String,
    pub phone: Option<E164Phone>,
    /// A `LIKE` pattern for E.164 numbers holding these digits, e.g. `%5550172%`.
    pub digits: Option<String>,
}

// A search term is usually a name, a number or an address: never printed.
impl std::fmt::Debug for SearchTerm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SearchTerm(<redacted>)")
    }
}

impl SearchTerm {
    pub fn parse(q: &str, region: country::Id) -> Result<SearchTerm, TextError> {
        let term = text::single_line(q, SEARCH_MAX_CHARS)?;
        let phone = E164Phone::parse(&term, region).ok();
        let looks_like_a_number = term
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-' | '.' | '/'));
        let digits: String = term.chars().filter(char::is_ascii_digit).collect();
        Ok(SearchTerm {
            pattern: format!("%{}%", escape_like(&term)),
            phone,
            digits: (looks_like_a_number && digits.len() >= MIN_PHONE_DIGITS)
                .then(|| format!("%{digits}%")),
        })
    }
}

fn escape_like(term: &str) -> String {
    let mut escaped = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Who works a lead: 1–100 characters on one line.
pub fn assignee(input: &str) -> Result<String, TextError> {
    text::single_line(input, ASSIGNEE_MAX_CHARS)
}

/// A note staff add to a lead's history: 1–2000 characters, line breaks kept.
pub fn note(input: &str) -> Result<String, TextError> {
    text::multi_line(input, NOTE_MAX_CHARS)
}

/// `[from, to)` in UTC for the clinic-local days `first..=last` (either end open).
pub fn day_range(
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    zone: Tz,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let from = first.map(|day| start_of_day(day, zone));
    let to = last
        .and_then(|day| day.succ_opt())
        .map(|day| start_of_day(day, zone));
    (from, to)
}

/// The first instant of a local day; on a day that starts inside a DST gap, the first instant
/// that exists.
pub fn start_of_day(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let mut local = day.and_time(chrono::NaiveTime::MIN);
    for _ in 0..=24 {
        if let Some(at) = zone.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::TimeDelta::minutes(15);
    }
    Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_in_any_common_format_is_searched_as_that_number() {
        for q in [
            "(415) 555-2671",
            "415.555.2671",
            "+1 415 555 2671",
            "4155552671",
        ] {
            let term = SearchTerm::parse(q, country::US).unwrap();
            assert_eq!(term.phone.unwrap().as_str(), "+14155552671", "{q}");
        }
    }

    #[test]
    fn part_of_a_number_is_searched_by_its_digits() {
        let term = SearchTerm::parse("555-0172", country::US).unwrap();
        assert!(term.phone.is_none());
        assert_eq!(term.digits.as_deref(), Some("%5550172%"));
        let full = SearchTerm::parse("+1 (415) 555-0172", country::US).unwrap();
        assert_eq!(full.digits.as_deref(), Some("%14155550172%"));
        for not_a_number in ["017", "Jane 5550172", "R2D2 unit 4444"] {
            let term = SearchTerm::parse(not_a_number, country::US).unwrap();
            assert_eq!(term.digits, None, "{not_a_number}");
        }
    }

    #[test]
    fn a_name_or_address_is_a_substring_pattern_with_wildcards_escaped() {
        let term = SearchTerm::parse("  Jane ", country::US).unwrap();
        assert_eq!(term.pattern, "%Jane%");
        assert!(term.phone.is_none());
        let term = SearchTerm::parse("100%_a\\b", country::US).unwrap();
        assert_eq!(term.pattern, "%100\\%\\_a\\\\b%");
        assert!(SearchTerm::parse(" ", country::US).is_err());
        assert!(SearchTerm::parse(&"x".repeat(201), country::US).is_err());
        assert_eq!(
            format!("{:?}", SearchTerm::parse("Jane", country::US).unwrap()),
            "SearchTerm(<redacted>)"
        );
    }

    #[test]
    fn assignees_are_one_line_and_notes_keep_their_lines() {
        assert_eq!(assignee(" Maria ").unwrap(), "Maria");
        assert!(assignee("a\nb").is_err() && assignee("").is_err());
        assert!(assignee(&"x".repeat(101)).is_err());
        assert_eq!(
            note("Called.\r\nNo answer.").unwrap(),
            "Called.\nNo answer."
        );
        assert!(note(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn a_day_range_covers_whole_local_days() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let (from, to) = day_range(Some(day(7)), Some(day(8)), zone);
        assert_eq!(from.unwrap().to_rfc3339(), "2026-03-07T05:00:00+00:00");
        // 8 March 2026 is the start of daylight saving time in New York.
        assert_eq!(to.unwrap().to_rfc3339(), "2026-03-09T04:00:00+00:00");
        assert_eq!(day_range(None, None, zone), (None, None));
    }

    #[test]
    fn a_day_starting_in_a_dst_gap_starts_at_its_first_real_instant() {
        // Chile moves clocks from 00:00 to 01:00 on 6 September 2026.
        let zone: Tz = "America/Santiago".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(
            start_of_day(day, zone).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }
}
