//! Fixed-window rate limits: at most `limit` requests per subject in each window, windows aligned
//! to the epoch so every replica agrees on where one starts.

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    /// Requests allowed per window; 0 turns the limit off.
    pub limit: u32,
    pub length: TimeDelta,
}

impl FixedWindow {
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            length: TimeDelta::minutes(1),
        }
    }

    pub fn per_hour(limit: u32) -> Self {
        Self {
            limit,
            length: TimeDelta::hours(1),
        }
    }

    pub fn is_off(&self) -> bool {
        self.limit == 0
    }

    /// The start of the window `now` falls in.
    pub fn start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let length = self.length.num_microseconds().unwrap_or(1).max(1);
        let micros = now.timestamp_micros();
        let start = micros - micros.rem_euclid(length);
        DateTime::from_timestamp_micros(start).unwrap_or(now)
    }

    /// Whole seconds until the window `now` falls in ends: what `Retry-After` says. At least 1.
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        let remaining = self.start(now) + self.length - now;
        let micros = u64::try_from(remaining.num_microseconds().unwrap_or(0)).unwrap_or(0);
        micros.div_ceil(1_000_000).max(1)
    }

    /// Whether the `count`th request of a window (counting from 1) is refused.
    pub fn exceeded_by(&self, count: i64) -> bool {
        !self.is_off() && count > i64::from(self.limit)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32, ms: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, s).unwrap() + TimeDelta::milliseconds(ms.into())
    }

    #[test]
    fn minute_windows_start_on_the_minute() {
        let window = FixedWindow::per_minute(5);
        assert_eq!(window.start(at(10, 7, 42, 500)), at(10, 7, 0, 0));
        assert_eq!(window.start(at(10, 7, 0, 0)), at(10, 7, 0, 0));
    }

    #[test]
    fn hour_windows_start_on_the_hour() {
        let window = FixedWindow::per_hour(5);
        assert_eq!(window.start(at(10, 59, 59, 999)), at(10, 0, 0, 0));
    }

    #[test]
    fn retry_after_rounds_the_rest_of_the_window_up() {
        let window = FixedWindow::per_minute(5);
        assert_eq!(window.retry_after_secs(at(10, 7, 42, 500)), 18);
        assert_eq!(window.retry_after_secs(at(10, 7, 0, 0)), 60);
        assert_eq!(window.retry_after_secs(at(10, 7, 59, 999)), 1);
        assert_eq!(
            FixedWindow::per_hour(1).retry_after_secs(at(10, 30, 0, 0)),
            1800
        );
    }

    #[test]
    fn the_limit_allows_exactly_limit_requests_per_window() {
        let window = FixedWindow::per_minute(2);
        assert!(!window.exceeded_by(1));
        assert!(!window.exceeded_by(2));
        assert!(window.exceeded_by(3));
    }

    #[test]
    fn a_zero_limit_is_off() {
        let window = FixedWindow::per_minute(0);
        assert!(window.is_off());
        assert!(!window.exceeded_by(1_000_000));
    }
}
