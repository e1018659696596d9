//! Opaque keyset cursors: the position after the last item of a page, so the next page starts
//! there whatever was inserted meanwhile, and costs the same however deep it is.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::instant;

/// Where a page ended: newest-first lists key on `(published_at, id)`, the editors' list (any
/// status, so maybe no `published_at`) on `(created_at, id)`, search results on `(rank, id)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cursor {
    Published { at: DateTime<Utc>, id: Uuid },
    Created { at: DateTime<Utc>, id: Uuid },
    Ranked { rank: f32, id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a cursor from a previous page of this list")]
pub struct CursorError;

impl Cursor {
    /// URL-safe base64 of a short versioned text, e.g. `p1:<microseconds>:<id>`.
    pub fn encode(&self) -> String {
        let text = match self {
            Cursor::Published { at, id } => format!("p1:{}:{}", at.timestamp_micros(), id.simple()),
            Cursor::Created { at, id } => format!("c1:{}:{}", at.timestamp_micros(), id.simple()),
            Cursor::Ranked { rank, id } => format!("r1:{}:{}", rank.to_bits(), id.simple()),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(cursor: &str) -> Result<Cursor, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor.trim().trim_end_matches('='))
            .map_err(|_| CursorError)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CursorError)?;
        let mut parts = text.split(':');
        let (Some(kind), Some(key), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CursorError);
        };
        let id = Uuid::try_parse(id).map_err(|_| CursorError)?;
        let instant = |key: &str| {
            let micros: i64 = key.parse().map_err(|_| CursorError)?;
            // Only what a stored row can hold: PostgreSQL refuses chrono's wider years.
            DateTime::from_timestamp_micros(micros)
                .filter(|at| instant::in_range(*at))
                .ok_or(CursorError)
        };
        match kind {
            "p1" => Ok(Cursor::Published {
                at: instant(key)?,
                id,
            }),
            "c1" => Ok(Cursor::Created {
                at: instant(key)?,
                id,
            }),
            "r1" => {
                let bits: u32 = key.parse().map_err(|_| CursorError)?;
                let rank = f32::from_bits(bits);
                if !rank.is_finite() {
                    return Err(CursorError);
                }
                Ok(Cursor::Ranked { rank, id })
            }
            _ => Err(CursorError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_to_the_microsecond_and_the_exact_rank() {
        let at = DateTime::from_timestamp_micros(1_764_417_600_123_456).unwrap();
        let id = Uuid::now_v7();
        for cursor in [
            Cursor::Published { at, id },
            Cursor::Created { at, id },
            Cursor::Ranked {
                rank: 0.607_927_1,
                id,
            },
        ] {
            let encoded = cursor.encode();
            assert!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
            assert_eq!(Cursor::decode(&encoded), Ok(cursor));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "!!!",
            "bm90IGEgY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("p1:abc:0193a4f17c1e7b529a0e3f2d5c6b7a81"),
            &URL_SAFE_NO_PAD.encode("c1:abc:0193a4f17c1e7b529a0e3f2d5c6b7a81"),
            &URL_SAFE_NO_PAD.encode("x1:1:0193a4f17c1e7b529a0e3f2d5c6b7a81"),
            &URL_SAFE_NO_PAD.encode("p1:1:nope"),
            // Instants chrono can hold but PostgreSQL cannot.
            &URL_SAFE_NO_PAD.encode("p1:-8000000000000000000:0193a4f17c1e7b529a0e3f2d5c6b7a81"),
            &URL_SAFE_NO_PAD.encode("c1:8000000000000000000:0193a4f17c1e7b529a0e3f2d5c6b7a81"),
            &URL_SAFE_NO_PAD.encode(format!(
                "r1:{}:0193a4f17c1e7b529a0e3f2d5c6b7a81",
                f32::NAN.to_bits()
            )),
        ] {
            assert_eq!(Cursor::decode(bad), Err(CursorError), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Cursors Beacon can issue: their times are rows' times, years 0000–9999 (wider ones are
    /// refused by `anything_else_is_refused`).
    fn cursor() -> impl Strategy<Value = Cursor> {
        let micros = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|at| at.timestamp_micros())
                .unwrap_or_default()
        };
        let at = (micros("0000-01-01T00:00:00Z")..=micros("9999-12-31T23:59:59.999999Z"))
            .prop_filter_map("in range", DateTime::from_timestamp_micros);
        let id = any::<u128>().prop_map(Uuid::from_u128);
        let rank = any::<f32>().prop_filter("finite", |rank| rank.is_finite());
        prop_oneof![
            (at.clone(), id.clone()).prop_map(|(at, id)| Cursor::Published { at, id }),
            (at, id.clone()).prop_map(|(at, id)| Cursor::Created { at, id }),
            (rank, id).prop_map(|(rank, id)| Cursor::Ranked { rank, id }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_cursor_round_trips(cursor in cursor()) {
            prop_assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }

        #[test]
        fn decoding_any_text_never_panics_and_what_decodes_round_trips(
            text in prop_oneof![any::<String>(), "[A-Za-z0-9_=-]{0,80}"],
        ) {
            if let Ok(cursor) = Cursor::decode(&text) {
                prop_assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
            }
        }

        #[test]
        fn decoding_any_encoded_text_never_panics(text in "(p1|c1|r1|x)(:[-0-9a-f]{0,40}){0,4}") {
            let _ = Cursor::decode(&URL_SAFE_NO_PAD.encode(text));
        }
    }
}
