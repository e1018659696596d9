//! The instants and dates the API accepts: years 0000–9999, what RFC 3339 can write. chrono
//! also reads signed, wider years (`+200000-01-01T00:00:00Z`) that PostgreSQL cannot store.
//! The `deserialize_with` helpers below refuse them where a request is read.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::domain::change::Change;

pub const OUT_OF_RANGE: &str = "must be a time between the years 0000 and 9999";

const YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

pub fn in_range(at: DateTime<Utc>) -> bool {
    YEARS.contains(&at.year())
}

pub fn date_in_range(date: NaiveDate) -> bool {
    YEARS.contains(&date.year())
}

fn checked<E: serde::de::Error>(at: DateTime<Utc>) -> Result<DateTime<Utc>, E> {
    if in_range(at) {
        Ok(at)
    } else {
        Err(E::custom(OUT_OF_RANGE))
    }
}

/// For a `DateTime<Utc>` field.
pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    checked(DateTime::<Utc>::deserialize(deserializer)?)
}

/// For an `Option<DateTime<Utc>>` field; pair with `#[serde(default)]`.
pub fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<DateTime<Utc>>::deserialize(deserializer)?
        .map(checked)
        .transpose()
}

/// For a `Change<DateTime<Utc>>` field; pair with `#[serde(default)]`.
pub fn change<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Change<DateTime<Utc>>, D::Error> {
    Ok(match Change::<DateTime<Utc>>::deserialize(deserializer)? {
        Change::Set(at) => Change::Set(checked(at)?),
        other => other,
    })
}

/// For an `Option<NaiveDate>` field; pair with `#[serde(default)]`.
pub fn optional_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<NaiveDate>::deserialize(deserializer)? {
        Some(date) if !date_in_range(date) => Err(D::Error::custom(
            "must be a date between the years 0000 and 9999",
        )),
        date => Ok(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "optional")]
        at: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "optional_date")]
        day: Option<NaiveDate>,
    }

    fn read(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn four_digit_years_are_read_as_usual() {
        let body = read(r#"{"at": "0000-01-01T00:00:00Z", "day": "9999-12-31"}"#).unwrap();
        assert_eq!(body.at.unwrap().year(), 0);
        assert_eq!(body.day.unwrap().year(), 9999);
        assert!(read("{}").unwrap().at.is_none());
    }

    #[test]
    fn wider_years_chrono_reads_are_refused() {
        for json in [
            r#"{"at": "+200000-01-01T00:00:00Z"}"#,
            r#"{"at": "-0001-12-31T23:59:59Z"}"#,
            r#"{"day": "+10000-01-01"}"#,
        ] {
            assert!(read(json).unwrap_err().starts_with("must be a"), "{json}");
        }
    }
}
