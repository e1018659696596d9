//! Fixed-window rate limits kept in PostgreSQL, so they hold across replicas. Subjects (an
//! address's network, a phone number) are stored only as hashes.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use sha2::{Digest, Sha256};

use crate::db::rate_limits;
use crate::domain::rate_limit::FixedWindow;
use crate::error::Error;

/// Enquiries per phone number. Erasure forgets a number's counter with its lead.
pub const PHONE_BUCKET: &str = "lead_phone";

/// Counts one more request for `subject`; 429 when the window's limit is spent.
pub fn hit(
    conn: &mut PgConnection,
    window: &FixedWindow,
    bucket: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if count(conn, window, bucket, subject, now)? {
        Ok(())
    } else {
        Err(Error::TooManyRequests {
            retry_after_secs: window.retry_after_secs(now),
        })
    }
}

/// Counts one more request for `subject`; false when that goes beyond the window's limit.
pub fn count(
    conn: &mut PgConnection,
    window: &FixedWindow,
    bucket: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    if window.is_off() {
        return Ok(true);
    }
    let subject = rate_subject(bucket, subject);
    let count = rate_limits::hit(conn, bucket, &subject, window.start(now))?;
    Ok(!window.exceeded_by(count.into()))
}

/// Hashed so the table never holds an address or a number in the clear.
pub fn rate_subject(bucket: &str, subject: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(bucket.as_bytes())
        .chain_update([0])
        .chain_update(subject.as_bytes())
        .finalize()
        .into()
}
