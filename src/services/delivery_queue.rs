//! The retry rule every queue channel (webhooks, staff e-mails, Meta lead fetches) follows after
//! an attempt, and the lease their claims take (`db::queue`).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::webhook::{DeliveryState, RetrySchedule};
use crate::error::Error;

/// What the delivery loops wait on between rounds of work.
pub use crate::db::notify::Waiter;

/// Longest an attempt may hold its claim; every sender's timeouts are well within it, so a
/// claim never expires under a live attempt.
pub const LEASE: Duration = Duration::from_secs(60);
/// Longest wait a receiver may ask for (`Retry-After`): it cannot park a delivery for longer.
const MAX_ASKED_WAIT: Duration = Duration::from_secs(24 * 3600);

pub fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How long a first attempt waits after its row was queued.
pub fn first_wait(schedule: &RetrySchedule) -> i64 {
    millis(schedule.wait_before(1).unwrap_or_default())
}

/// Where attempt `attempt` (1-based) leaves its row: delivered; or failed, and then due again
/// after the schedule's next wait (or the receiver's `asked` wait), or dead-lettered after
/// the last attempt.
pub fn after_attempt(
    schedule: &RetrySchedule,
    attempt: i32,
    succeeded: bool,
    asked: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<(DeliveryState, Option<DateTime<Utc>>), Error> {
    if succeeded {
        return Ok((DeliveryState::Delivered, None));
    }
    let number = usize::try_from(attempt).unwrap_or(usize::MAX);
    match schedule.wait_before(number.saturating_add(1)) {
        None => Ok((DeliveryState::Failed, None)),
        Some(wait) => {
            let wait = asked.map_or(wait, |asked| asked.min(MAX_ASKED_WAIT));
            let wait = chrono::Duration::from_std(wait).map_err(Error::internal)?;
            Ok((DeliveryState::Pending, Some(now + wait)))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_failure_waits_its_turn_in_the_schedule_and_the_last_one_dead_letters() {
        let schedule = RetrySchedule::parse("0s,5s,1m").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 15, 0, 0).unwrap();
        let after = |attempt, succeeded, asked| {
            after_attempt(&schedule, attempt, succeeded, asked, now).unwrap()
        };
        assert_eq!(after(1, true, None), (DeliveryState::Delivered, None));
        assert_eq!(
            after(1, false, None),
            (
                DeliveryState::Pending,
                Some(now + chrono::Duration::seconds(5))
            )
        );
        assert_eq!(
            after(2, false, Some(Duration::from_secs(7))),
            (
                DeliveryState::Pending,
                Some(now + chrono::Duration::seconds(7))
            )
        );
        assert_eq!(
            after(2, false, Some(Duration::from_secs(90 * 3600))),
            (
                DeliveryState::Pending,
                Some(now + chrono::Duration::hours(24))
            )
        );
        assert_eq!(after(3, false, None), (DeliveryState::Failed, None));
    }
}
