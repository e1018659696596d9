//! The "we will contact you within one business day" promise.
//!
//! Every lead gets a `contact_by` instant computed from the clinic's time
//! zone, business hours, business weekdays and holidays:
//!
//! * received during business hours on a business day: the same local time
//!   on the next business day;
//! * otherwise: the close of the first business day that opens after receipt.
//!
//! Edge-case rules (all covered by the tests below):
//!
//! * Opening time is inclusive and closing time exclusive: 09:00 is within
//!   hours, 17:00 is after hours and is due at the next business day's close
//!   (which is also "the same local time on the next business day", so both
//!   readings agree).
//! * A target local time that falls in a DST gap moves to the first valid
//!   instant after it (the end of the gap, e.g. 02:30 -> 03:00); an ambiguous
//!   local time (DST fall-back) takes the earlier of the two instants.
//! * A lead received in the second pass of a repeated hour is due no earlier
//!   than one received just before the clocks went back, so a later lead never
//!   gets an earlier promise.
//! * A business day whose target local time does not exist at all (a whole
//!   day skipped by the zone, as Pacific/Apia did in 2011) is skipped.
//! * The search for a business day is bounded to [`SEARCH_LIMIT_DAYS`]; a
//!   holiday list covering that whole span falls back to received + 24 h.

use std::collections::BTreeSet;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike,
    Utc, Weekday, WeekdaySet,
};
use chrono_tz::Tz;

/// How far ahead `contact_by` looks for a business day (about three years).
pub const SEARCH_LIMIT_DAYS: usize = 3 * 366;

/// Longest DST gap we step over, in minutes. Real gaps are 30–60 minutes;
/// whole skipped days (Pacific/Apia 2011) are 24 hours.
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// Returned when the search limit is exhausted (only possible with a holiday
/// list covering years): better a late promise than none.
const FALLBACK_DELAY: TimeDelta = TimeDelta::hours(24);

const US_FEDERAL: &str = "us-federal";
const JUNETEENTH_FIRST_YEAR: i32 = 2021;

const MON_TO_FRI: WeekdaySet = WeekdaySet::from_array([
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
]);

const DEFAULT_OPEN: NaiveTime = hm_or_midnight(9, 0);
const DEFAULT_CLOSE: NaiveTime = hm_or_midnight(17, 0);

/// A clinic's business calendar: time zone, daily hours, weekdays, holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    open: NaiveTime,
    close: NaiveTime,
    weekdays: WeekdaySet,
    us_federal_holidays: bool,
    holidays: BTreeSet<NaiveDate>,
}

/// Why a calendar configuration string was rejected.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("unknown time zone \"{0}\": expected an IANA name such as America/New_York")]
    UnknownTimeZone(String),
    #[error("invalid business hours \"{0}\": expected HH:MM-HH:MM, e.g. 09:00-17:00")]
    HoursFormat(String),
    #[error("invalid business hours \"{0}\": the opening time must be before the closing time")]
    HoursOrder(String),
    #[error(
        "unknown weekday \"{0}\" in business days: expected mon, tue, wed, thu, fri, sat or sun, \
         a range such as mon-fri, or a comma list such as mon,wed,fri"
    )]
    UnknownWeekday(String),
    #[error("business days must name at least one weekday, e.g. mon-fri")]
    NoBusinessDays,
    #[error("invalid holiday \"{0}\": expected \"us-federal\" or an ISO date such as 2026-12-24")]
    InvalidHoliday(String),
}

impl BusinessCalendar {
    /// Parses the configuration strings; errors name what is wrong and what is expected.
    ///
    /// * `time_zone`: IANA name ("America/New_York");
    /// * `hours`: "09:00-17:00" (open < close, so the latest close is 23:59);
    /// * `days`: "mon-fri" or a comma list "mon,tue,wed" (ranges allowed and may
    ///   wrap around the week, e.g. "fri-mon"; case-insensitive; full names
    ///   accepted; at least one day);
    /// * `holidays`: comma list of "us-federal" and/or ISO dates "2026-12-24";
    ///   an empty string means none.
    pub fn parse(
        time_zone: &str,
        hours: &str,
        days: &str,
        holidays: &str,
    ) -> Result<Self, CalendarError> {
        let tz = parse_time_zone(time_zone)?;
        let (open, close) = parse_hours(hours)?;
        let weekdays = parse_weekdays(days)?;
        let (us_federal_holidays, holidays) = parse_holidays(holidays)?;
        Ok(Self {
            tz,
            open,
            close,
            weekdays,
            us_federal_holidays,
            holidays,
        })
    }

    /// America/New_York, 09:00-17:00, mon-fri, US federal holidays.
    pub fn us_default() -> Self {
        Self {
            tz: chrono_tz::America::New_York,
            open: DEFAULT_OPEN,
            close: DEFAULT_CLOSE,
            weekdays: MON_TO_FRI,
            us_federal_holidays: true,
            holidays: BTreeSet::new(),
        }
    }

    /// When the clinic promises to have contacted a lead received at `received`.
    ///
    /// Always later than `received`. Falls back to `received` + 24 h if no
    /// business day exists within [`SEARCH_LIMIT_DAYS`].
    pub fn contact_by(&self, received: DateTime<Utc>) -> DateTime<Utc> {
        let due = self.due(received);
        // In the second pass of a repeated hour the wall clock reads earlier than it did just
        // before the switch: promise no less than a lead received just before it got.
        match self.last_instant_before_fall_back(received) {
            Some(before) => due.max(self.due(before)),
            None => due,
        }
    }

    fn due(&self, received: DateTime<Utc>) -> DateTime<Utc> {
        self.find_contact_by(received)
            .unwrap_or(received + FALLBACK_DELAY)
    }

    /// When `received` falls in the second pass of a repeated wall-clock hour: the last second
    /// of the first pass.
    fn last_instant_before_fall_back(&self, received: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = received.with_timezone(&self.tz).naive_local();
        let LocalResult::Ambiguous(first, second) = self.tz.from_local_datetime(&local) else {
            return None;
        };
        if second.with_timezone(&Utc) != received {
            return None;
        }
        // The switch lies between the first pass's reading of this wall-clock time and `received`.
        let offset = |second: i64| {
            DateTime::from_timestamp(second, 0)
                .map(|at| self.tz.offset_from_utc_datetime(&at.naive_utc()).fix())
        };
        let (mut before, mut after) = (first.timestamp(), received.timestamp());
        let old = offset(before);
        while after - before > 1 {
            let middle = before + (after - before) / 2;
            if offset(middle) == old {
                before = middle;
            } else {
                after = middle;
            }
        }
        DateTime::from_timestamp(before, 0)
    }

    /// A business weekday that is not a holiday.
    pub fn is_business_day(&self, day: NaiveDate) -> bool {
        self.weekdays.contains(day.weekday()) && !self.is_holiday(day)
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    fn find_contact_by(&self, received: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = received.with_timezone(&self.tz).naive_local();
        let (day, time) = (local.date(), local.time());
        let business_day = self.is_business_day(day);
        if business_day && self.is_within_hours(time) {
            return self.first_resolvable(day.succ_opt()?, time);
        }
        // Today still counts if it has yet to open.
        let first_opening = if business_day && time < self.open {
            day
        } else {
            day.succ_opt()?
        };
        self.first_resolvable(first_opening, self.close)
    }

    /// The first business day on or after `start` where `time` exists,
    /// resolved to an instant.
    fn first_resolvable(&self, start: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        start
            .iter_days()
            .take(SEARCH_LIMIT_DAYS)
            .filter(|day| self.is_business_day(*day))
            .find_map(|day| self.resolve_on(day, time))
    }

    /// `time` on `day` as an instant, or `None` if the zone skipped that day.
    fn resolve_on(&self, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        let instant = resolve_local(self.tz, day.and_time(time))?;
        (instant.date_naive() == day).then(|| instant.with_timezone(&Utc))
    }

    fn is_within_hours(&self, time: NaiveTime) -> bool {
        self.open <= time && time < self.close
    }

    fn is_holiday(&self, day: NaiveDate) -> bool {
        self.holidays.contains(&day) || (self.us_federal_holidays && is_us_federal_holiday(day))
    }
}

/// Observed US federal holidays (OPM rules) that fall in `year`, sorted.
///
/// Fixed-date holidays on a Saturday are observed the Friday before, on a
/// Sunday the Monday after. When New Year's Day falls on a Saturday it is
/// observed on Dec 31 of the previous year, so that date is listed under the
/// previous year (e.g. 2027 includes 2027-12-31 and 2022 has no New Year's).
pub fn us_federal_holidays(year: i32) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = [
        fixed_observed(year, 1, 1),
        nth_weekday(year, 1, Weekday::Mon, 3), // Martin Luther King Jr. Day
        nth_weekday(year, 2, Weekday::Mon, 3), // Washington's Birthday
        last_weekday(year, 5, Weekday::Mon),   // Memorial Day
        juneteenth(year),
        fixed_observed(year, 7, 4),                   // Independence Day
        nth_weekday(year, 9, Weekday::Mon, 1),        // Labor Day
        nth_weekday(year, 10, Weekday::Mon, 2),       // Columbus Day
        fixed_observed(year, 11, 11),                 // Veterans Day
        nth_weekday(year, 11, Weekday::Thu, 4),       // Thanksgiving
        fixed_observed(year, 12, 25),                 // Christmas
        fixed_observed(year.saturating_add(1), 1, 1), // may land on Dec 31
    ]
    .into_iter()
    .flatten()
    .filter(|day| day.year() == year)
    .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// Juneteenth became a federal holiday in 2021. Older rule changes (MLK Day
/// from 1986, the 1971 Monday holidays) are not modelled: leads are recent.
fn juneteenth(year: i32) -> Option<NaiveDate> {
    (year >= JUNETEENTH_FIRST_YEAR).then(|| fixed_observed(year, 6, 19))?
}

fn is_us_federal_holiday(day: NaiveDate) -> bool {
    us_federal_holidays(day.year()).contains(&day)
}

fn fixed_observed(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    (4..=5)
        .rev()
        .find_map(|n| nth_weekday(year, month, weekday, n))
}

/// Resolves a local wall-clock time: ambiguous times take the earlier
/// instant, times in a gap move to the first valid minute after them.
fn resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Tz>> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| first_valid_after_gap(tz, local))
}

fn first_valid_after_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Tz>> {
    // Gap ends fall on whole minutes, so stepping minute by minute from the
    // truncated time finds exactly the end of the gap.
    let minute = local.with_second(0)?.with_nanosecond(0)?;
    (1..=MAX_GAP_MINUTES).find_map(|step| {
        let candidate = minute.checked_add_signed(TimeDelta::minutes(step))?;
        tz.from_local_datetime(&candidate).earliest()
    })
}

fn parse_time_zone(value: &str) -> Result<Tz, CalendarError> {
    value
        .trim()
        .parse()
        .map_err(|_| CalendarError::UnknownTimeZone(value.to_owned()))
}

fn parse_hours(value: &str) -> Result<(NaiveTime, NaiveTime), CalendarError> {
    let format_error = || CalendarError::HoursFormat(value.to_owned());
    let (open, close) = value.split_once('-').ok_or_else(format_error)?;
    let open = parse_hh_mm(open).ok_or_else(format_error)?;
    let close = parse_hh_mm(close).ok_or_else(format_error)?;
    if open >= close {
        return Err(CalendarError::HoursOrder(value.to_owned()));
    }
    Ok((open, close))
}

fn parse_hh_mm(value: &str) -> Option<NaiveTime> {
    let (hours, minutes) = value.trim().split_once(':')?;
    let is_two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !is_two_digits(hours) || !is_two_digits(minutes) {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

fn parse_weekdays(value: &str) -> Result<WeekdaySet, CalendarError> {
    if value.trim().is_empty() {
        return Err(CalendarError::NoBusinessDays);
    }
    value
        .split(',')
        .map(str::trim)
        .try_fold(WeekdaySet::EMPTY, |set, item| {
            Ok(set.union(parse_weekday_item(item)?))
        })
}

/// "mon" or an inclusive range "mon-fri" (wrapping: "fri-mon" is fri..mon).
fn parse_weekday_item(item: &str) -> Result<WeekdaySet, CalendarError> {
    let (first, last) = item.split_once('-').unwrap_or((item, item));
    let first = parse_weekday(first).ok_or_else(|| unknown_weekday(item))?;
    let last = parse_weekday(last).ok_or_else(|| unknown_weekday(item))?;
    // `iter` starts at `first` and wraps past Sunday, as `days_since` counts.
    let span = last.days_since(first) as usize;
    Ok(WeekdaySet::ALL.iter(first).take(span + 1).collect())
}

fn parse_weekday(value: &str) -> Option<Weekday> {
    value.trim().parse().ok()
}

fn unknown_weekday(item: &str) -> CalendarError {
    CalendarError::UnknownWeekday(item.to_owned())
}

fn parse_holidays(value: &str) -> Result<(bool, BTreeSet<NaiveDate>), CalendarError> {
    let mut us_federal = false;
    let mut dates = BTreeSet::new();
    if value.trim().is_empty() {
        return Ok((us_federal, dates));
    }
    for item in value.split(',').map(str::trim) {
        if item.eq_ignore_ascii_case(US_FEDERAL) {
            us_federal = true;
        } else {
            dates.insert(parse_iso_date(item)?);
        }
    }
    Ok((us_federal, dates))
}

fn parse_iso_date(item: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(item, "%Y-%m-%d")
        .map_err(|_| CalendarError::InvalidHoliday(item.to_owned()))
}

const fn hm_or_midnight(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => NaiveTime::MIN,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::London;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An unambiguous local wall-clock time in `tz`, as UTC.
    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        match tz.with_ymd_and_hms(y, m, d, h, min, 0) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            other => panic!("{y}-{m}-{d} {h}:{min} is not unique in {tz}: {other:?}"),
        }
    }

    fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        at(New_York, y, m, d, h, min)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn default_due(received: DateTime<Utc>) -> DateTime<Utc> {
        BusinessCalendar::us_default().contact_by(received)
    }

    fn around_the_clock() -> BusinessCalendar {
        BusinessCalendar::parse("America/New_York", "00:00-23:59", "mon-sun", "").unwrap()
    }

    // --- required examples (2026-03-10 is a Tuesday) ---

    #[test]
    fn tuesday_morning_is_due_wednesday_same_time() {
        assert_eq!(default_due(ny(2026, 3, 10, 10, 0)), ny(2026, 3, 11, 10, 0));
    }

    #[test]
    fn friday_afternoon_is_due_monday_same_time() {
        assert_eq!(default_due(ny(2026, 3, 13, 15, 0)), ny(2026, 3, 16, 15, 0));
    }

    #[test]
    fn saturday_morning_is_due_at_monday_close() {
        assert_eq!(default_due(ny(2026, 3, 14, 11, 0)), ny(2026, 3, 16, 17, 0));
    }

    #[test]
    fn wednesday_evening_is_due_at_thursday_close() {
        assert_eq!(default_due(ny(2026, 3, 11, 20, 0)), ny(2026, 3, 12, 17, 0));
    }

    #[test]
    fn monday_before_opening_is_due_at_that_days_close() {
        assert_eq!(default_due(ny(2026, 3, 16, 7, 0)), ny(2026, 3, 16, 17, 0));
    }

    #[test]
    fn christmas_eve_morning_is_due_the_monday_after_christmas() {
        assert_eq!(
            default_due(ny(2026, 12, 24, 10, 0)),
            ny(2026, 12, 28, 10, 0)
        );
    }

    // --- opening and closing boundaries ---

    #[test]
    fn exactly_at_opening_counts_as_within_hours() {
        assert_eq!(default_due(ny(2026, 3, 10, 9, 0)), ny(2026, 3, 11, 9, 0));
    }

    #[test]
    fn one_second_before_opening_is_due_at_that_days_close() {
        let received = ny(2026, 3, 10, 9, 0) - TimeDelta::seconds(1);
        assert_eq!(default_due(received), ny(2026, 3, 10, 17, 0));
    }

    #[test]
    fn exactly_at_closing_counts_as_after_hours_and_is_due_at_next_close() {
        assert_eq!(default_due(ny(2026, 3, 10, 17, 0)), ny(2026, 3, 11, 17, 0));
    }

    #[test]
    fn one_second_before_closing_is_due_next_day_same_second() {
        let received = ny(2026, 3, 10, 17, 0) - TimeDelta::seconds(1);
        let expected = ny(2026, 3, 11, 17, 0) - TimeDelta::seconds(1);
        assert_eq!(default_due(received), expected);
    }

    #[test]
    fn friday_at_closing_is_due_at_monday_close() {
        assert_eq!(default_due(ny(2026, 3, 13, 17, 0)), ny(2026, 3, 16, 17, 0));
    }

    #[test]
    fn sub_second_precision_is_kept_for_same_time_deadlines() {
        let received = ny(2026, 3, 10, 10, 0) + TimeDelta::milliseconds(1_234);
        let expected = ny(2026, 3, 11, 10, 0) + TimeDelta::milliseconds(1_234);
        assert_eq!(default_due(received), expected);
    }

    // --- daylight saving time ---

    #[test]
    fn friday_before_spring_forward_keeps_local_time_with_new_offset() {
        let received = ny(2026, 3, 6, 10, 0);
        assert_eq!(received, utc(2026, 3, 6, 15, 0)); // EST, UTC-5
        let due = default_due(received);
        assert_eq!(due, ny(2026, 3, 9, 10, 0));
        assert_eq!(due, utc(2026, 3, 9, 14, 0)); // EDT, UTC-4
    }

    #[test]
    fn friday_before_fall_back_keeps_local_time_with_new_offset() {
        let due = default_due(ny(2026, 10, 30, 10, 0));
        assert_eq!(due, utc(2026, 11, 2, 15, 0)); // EST, UTC-5
    }

    #[test]
    fn saturday_before_fall_back_is_due_at_monday_close_in_standard_time() {
        let received = ny(2026, 10, 31, 12, 0); // EDT
        assert_eq!(default_due(received), utc(2026, 11, 2, 22, 0)); // 17:00 EST
    }

    #[test]
    fn saturday_before_spring_forward_is_due_at_monday_close_in_daylight_time() {
        let received = ny(2026, 3, 7, 12, 0); // EST
        assert_eq!(default_due(received), utc(2026, 3, 9, 21, 0)); // 17:00 EDT
    }

    #[test]
    fn time_in_spring_forward_gap_moves_to_end_of_gap() {
        // 02:30 on Sun 2026-03-08 does not exist in New York: use 03:00 EDT.
        let received = ny(2026, 3, 7, 2, 30); // 07:30 UTC
        let due = around_the_clock().contact_by(received);
        assert_eq!(due, utc(2026, 3, 8, 7, 0));
        assert_eq!(due.with_timezone(&New_York).time(), hm(3, 0));
    }

    #[test]
    fn seconds_in_spring_forward_gap_move_to_exact_end_of_gap() {
        let received = ny(2026, 3, 7, 2, 59) + TimeDelta::seconds(59);
        assert_eq!(
            around_the_clock().contact_by(received),
            utc(2026, 3, 8, 7, 0)
        );
    }

    #[test]
    fn ambiguous_fall_back_time_picks_the_earlier_instant() {
        // 01:30 on Sun 2026-11-01 happens twice; the EDT one comes first.
        let received = ny(2026, 10, 31, 1, 30); // 05:30 UTC
        assert_eq!(
            around_the_clock().contact_by(received),
            utc(2026, 11, 1, 5, 30)
        );
    }

    #[test]
    fn second_pass_of_ambiguous_hour_is_due_no_earlier_than_the_end_of_the_first_pass() {
        // 01:30 EST comes after 01:59:59 EDT, which is due Monday 01:59:59.
        let received = utc(2026, 11, 1, 6, 30);
        assert_eq!(
            around_the_clock().contact_by(received),
            utc(2026, 11, 2, 7, 0) - TimeDelta::seconds(1)
        );
        // After the repeated hour, the same local time next day again.
        let received = utc(2026, 11, 1, 7, 30); // 02:30 EST
        assert_eq!(
            around_the_clock().contact_by(received),
            utc(2026, 11, 2, 7, 30)
        );
    }

    #[test]
    fn close_inside_a_dst_gap_moves_to_end_of_gap() {
        let night = BusinessCalendar::parse("America/New_York", "00:00-02:30", "sun", "").unwrap();
        let received = ny(2026, 3, 7, 12, 0); // Saturday
        assert_eq!(night.contact_by(received), utc(2026, 3, 8, 7, 0)); // 03:00 EDT
    }

    #[test]
    fn a_day_skipped_by_the_time_zone_is_skipped() {
        // Samoa skipped Friday 2011-12-30 entirely.
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        let calendar =
            BusinessCalendar::parse("Pacific/Apia", "09:00-17:00", "mon-fri", "").unwrap();
        let received = at(apia, 2011, 12, 29, 10, 0);
        assert_eq!(calendar.contact_by(received), at(apia, 2012, 1, 2, 10, 0));
    }

    // --- holidays, weekends, other calendars ---

    #[test]
    fn holiday_monday_after_weekend_pushes_to_tuesday() {
        // Fri 2026-01-16 10:00; Mon 2026-01-19 is MLK Day.
        assert_eq!(default_due(ny(2026, 1, 16, 10, 0)), ny(2026, 1, 20, 10, 0));
    }

    #[test]
    fn saturday_before_holiday_monday_is_due_at_tuesday_close() {
        assert_eq!(default_due(ny(2026, 9, 5, 11, 0)), ny(2026, 9, 8, 17, 0));
    }

    #[test]
    fn observed_independence_day_friday_is_skipped() {
        // Jul 4 2026 is a Saturday, observed Fri Jul 3.
        assert_eq!(default_due(ny(2026, 7, 2, 10, 0)), ny(2026, 7, 6, 10, 0));
    }

    #[test]
    fn new_years_eve_is_due_after_new_years_day() {
        // Thu 2026-12-31 10:00; Fri 2027-01-01 is a holiday.
        assert_eq!(default_due(ny(2026, 12, 31, 10, 0)), ny(2027, 1, 4, 10, 0));
    }

    #[test]
    fn new_years_day_observed_on_december_31_is_not_a_business_day() {
        // Jan 1 2028 is a Saturday, observed Fri 2027-12-31.
        assert_eq!(default_due(ny(2027, 12, 30, 10, 0)), ny(2028, 1, 3, 10, 0));
    }

    #[test]
    fn new_years_day_evening_is_due_at_next_business_close() {
        assert_eq!(default_due(ny(2027, 1, 1, 20, 0)), ny(2027, 1, 4, 17, 0));
    }

    #[test]
    fn thanksgiving_eve_is_due_friday_same_time() {
        assert_eq!(
            default_due(ny(2026, 11, 25, 10, 0)),
            ny(2026, 11, 27, 10, 0)
        );
    }

    #[test]
    fn chain_of_custom_holidays_and_weekend_is_skipped() {
        let calendar = BusinessCalendar::parse(
            "America/New_York",
            "09:00-17:00",
            "mon-fri",
            "us-federal, 2026-12-24, 2026-12-28,2026-12-29",
        )
        .unwrap();
        assert_eq!(
            calendar.contact_by(ny(2026, 12, 23, 10, 0)),
            ny(2026, 12, 30, 10, 0)
        );
    }

    #[test]
    fn tuesday_to_saturday_calendar_treats_saturday_as_business_day() {
        let calendar =
            BusinessCalendar::parse("America/New_York", "09:00-17:00", "tue-sat", "").unwrap();
        // Sat 10:00 -> Tue 10:00; Sun 11:00 -> Tue close; Mon 10:00 -> Tue close.
        assert_eq!(
            calendar.contact_by(ny(2026, 3, 14, 10, 0)),
            ny(2026, 3, 17, 10, 0)
        );
        assert_eq!(
            calendar.contact_by(ny(2026, 3, 15, 11, 0)),
            ny(2026, 3, 17, 17, 0)
        );
        assert_eq!(
            calendar.contact_by(ny(2026, 3, 16, 10, 0)),
            ny(2026, 3, 17, 17, 0)
        );
        assert_eq!(
            calendar.contact_by(ny(2026, 3, 13, 10, 0)),
            ny(2026, 3, 14, 10, 0)
        );
    }

    #[test]
    fn london_calendar_uses_london_hours_and_bst() {
        let calendar = BusinessCalendar::parse(
            "Europe/London",
            "08:30-18:00",
            "mon-fri",
            "2026-04-03,2026-04-06",
        )
        .unwrap();
        assert_eq!(calendar.time_zone(), London);
        // Thu 2026-04-02 10:00 BST; Good Friday and Easter Monday are holidays.
        let received = at(London, 2026, 4, 2, 10, 0);
        assert_eq!(received, utc(2026, 4, 2, 9, 0));
        assert_eq!(calendar.contact_by(received), at(London, 2026, 4, 7, 10, 0));
        // Friday before the 2026-03-29 change: GMT in, BST out.
        let due = calendar.contact_by(at(London, 2026, 3, 27, 17, 59));
        assert_eq!(due, utc(2026, 3, 30, 16, 59));
    }

    #[test]
    fn london_evening_is_due_at_next_london_close() {
        let calendar =
            BusinessCalendar::parse("Europe/London", "08:30-18:00", "mon-fri", "").unwrap();
        assert_eq!(
            calendar.contact_by(at(London, 2026, 6, 10, 18, 0)),
            at(London, 2026, 6, 11, 18, 0)
        );
    }

    #[test]
    fn us_federal_holidays_are_ignored_without_us_federal_rule() {
        let calendar =
            BusinessCalendar::parse("America/New_York", "09:00-17:00", "mon-fri", "").unwrap();
        assert_eq!(
            calendar.contact_by(ny(2026, 12, 24, 10, 0)),
            ny(2026, 12, 25, 10, 0)
        );
    }

    #[test]
    fn holidays_covering_the_search_limit_fall_back_to_24_hours() {
        let start = date(2026, 1, 1);
        let all_days: Vec<String> = start
            .iter_days()
            .take(SEARCH_LIMIT_DAYS + 400)
            .map(|d| d.to_string())
            .collect();
        let calendar =
            BusinessCalendar::parse("UTC", "09:00-17:00", "mon-sun", &all_days.join(",")).unwrap();
        let received = utc(2026, 1, 5, 10, 0);
        assert_eq!(
            calendar.contact_by(received),
            received + TimeDelta::hours(24)
        );
    }

    #[test]
    fn business_day_check_honours_weekdays_and_holidays() {
        let calendar = BusinessCalendar::us_default();
        assert!(calendar.is_business_day(date(2026, 3, 10)));
        assert!(!calendar.is_business_day(date(2026, 3, 14)));
        assert!(!calendar.is_business_day(date(2026, 3, 15)));
        assert!(!calendar.is_business_day(date(2026, 7, 3)));
        assert!(!calendar.is_business_day(date(2027, 12, 31)));
    }

    // --- property-like sweep over a whole year ---

    fn assert_sweep_holds(calendar: &BusinessCalendar, year: i32, max_days: i64) {
        let tz = calendar.time_zone();
        let mut received = utc(year, 1, 1, 0, 0);
        let end = utc(year + 1, 1, 1, 0, 0);
        let mut count = 0;
        while received < end {
            assert_deadline_is_sound(calendar, tz, received, max_days);
            received += TimeDelta::minutes(15);
            count += 1;
        }
        assert!(count >= 365 * 96);
    }

    fn assert_deadline_is_sound(
        calendar: &BusinessCalendar,
        tz: Tz,
        received: DateTime<Utc>,
        max_days: i64,
    ) {
        let due = calendar.contact_by(received);
        let local = due.with_timezone(&tz);
        let (due_day, received_day) =
            (local.date_naive(), received.with_timezone(&tz).date_naive());
        assert!(due > received, "{received}: {due} is not later");
        assert!(
            calendar.is_business_day(due_day),
            "{received}: {due} not a business day"
        );
        let time = local.time();
        assert!(
            calendar.open <= time && time <= calendar.close,
            "{received}: {local} outside hours"
        );
        assert!(
            due - received <= TimeDelta::days(max_days) + TimeDelta::hours(1),
            "{received}: {due} too far"
        );
        // "Within one business day": no business day is skipped in between.
        let skipped = received_day
            .iter_days()
            .skip(1)
            .take_while(|d| *d < due_day)
            .filter(|d| calendar.is_business_day(*d))
            .count();
        assert_eq!(skipped, 0, "{received}: {due} skips a business day");
    }

    #[test]
    fn every_quarter_hour_of_2026_gets_a_sound_default_deadline() {
        // Longest gap: Thu Dec 24 -> Mon Dec 28 (Christmas on Friday).
        assert_sweep_holds(&BusinessCalendar::us_default(), 2026, 4);
    }

    #[test]
    fn every_quarter_hour_of_2027_gets_a_sound_london_tuesday_to_saturday_deadline() {
        let calendar = BusinessCalendar::parse(
            "Europe/London",
            "08:00-16:30",
            "tue-sat",
            "2027-12-24,2027-12-25",
        )
        .unwrap();
        // Longest gap: Thu Dec 23 -> Tue Dec 28 (holidays on Fri and Sat).
        assert_sweep_holds(&calendar, 2027, 5);
    }

    #[test]
    fn every_quarter_hour_of_2026_gets_a_sound_around_the_clock_deadline() {
        assert_sweep_holds(&around_the_clock(), 2026, 1);
    }

    // --- US federal holidays ---

    #[test]
    fn us_federal_holidays_2026_match_opm() {
        let expected = [
            date(2026, 1, 1),
            date(2026, 1, 19),
            date(2026, 2, 16),
            date(2026, 5, 25),
            date(2026, 6, 19),
            date(2026, 7, 3),
            date(2026, 9, 7),
            date(2026, 10, 12),
            date(2026, 11, 11),
            date(2026, 11, 26),
            date(2026, 12, 25),
        ];
        assert_eq!(us_federal_holidays(2026), expected);
    }

    #[test]
    fn us_federal_holidays_2027_match_opm_including_new_years_observed_on_december_31() {
        let expected = [
            date(2027, 1, 1),
            date(2027, 1, 18),
            date(2027, 2, 15),
            date(2027, 5, 31),
            date(2027, 6, 18),
            date(2027, 7, 5),
            date(2027, 9, 6),
            date(2027, 10, 11),
            date(2027, 11, 11),
            date(2027, 11, 25),
            date(2027, 12, 24),
            date(2027, 12, 31),
        ];
        assert_eq!(us_federal_holidays(2027), expected);
    }

    #[test]
    fn new_years_day_on_saturday_is_not_listed_in_its_own_year() {
        // Jan 1 2022 was a Saturday, observed Fri 2021-12-31.
        let holidays_2022 = us_federal_holidays(2022);
        assert!(!holidays_2022.contains(&date(2022, 1, 1)));
        assert!(!holidays_2022.contains(&date(2021, 12, 31)));
        assert_eq!(holidays_2022.len(), 10);
        assert!(us_federal_holidays(2021).contains(&date(2021, 12, 31)));
    }

    #[test]
    fn juneteenth_is_a_holiday_only_from_2021() {
        assert!(!us_federal_holidays(2020).contains(&date(2020, 6, 19)));
        assert!(us_federal_holidays(2021).contains(&date(2021, 6, 18)));
    }

    #[test]
    fn sunday_holidays_are_observed_on_monday() {
        // Jan 1 2023 and Jun 19 2022 were Sundays.
        assert!(us_federal_holidays(2023).contains(&date(2023, 1, 2)));
        assert!(us_federal_holidays(2022).contains(&date(2022, 6, 20)));
    }

    #[test]
    fn memorial_day_is_the_last_monday_of_may_in_four_and_five_monday_years() {
        assert!(us_federal_holidays(2026).contains(&date(2026, 5, 25))); // 4 Mondays
        assert!(us_federal_holidays(2027).contains(&date(2027, 5, 31))); // 5 Mondays
    }

    #[test]
    fn us_federal_holidays_are_sorted_weekdays_every_year() {
        for year in JUNETEENTH_FIRST_YEAR..2100 {
            let days = us_federal_holidays(year);
            assert!((10..=12).contains(&days.len()), "{year}: {days:?}");
            assert!(days.windows(2).all(|w| w[0] < w[1]), "{year}");
            assert!(
                days.iter()
                    .all(|d| d.year() == year && d.weekday().num_days_from_monday() < 5)
            );
        }
    }

    // --- parsing ---

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn parsing_default_strings_equals_us_default() {
        let parsed =
            BusinessCalendar::parse("America/New_York", "09:00-17:00", "mon-fri", "us-federal")
                .unwrap();
        assert_eq!(parsed, BusinessCalendar::us_default());
    }

    #[test]
    fn parsing_is_case_insensitive_and_tolerates_spaces() {
        let parsed = BusinessCalendar::parse(
            " America/New_York ",
            " 09:00 - 17:00 ",
            " MON - Fri ",
            " US-Federal ",
        )
        .unwrap();
        assert_eq!(parsed, BusinessCalendar::us_default());
    }

    #[test]
    fn comma_lists_and_ranges_combine() {
        let calendar =
            BusinessCalendar::parse("UTC", "09:00-17:00", "mon,wed-thu,sat", "").unwrap();
        let days: Vec<bool> = date(2026, 3, 9)
            .iter_days()
            .take(7)
            .map(|d| calendar.is_business_day(d))
            .collect();
        assert_eq!(days, [true, false, true, true, false, true, false]);
    }

    #[test]
    fn weekday_ranges_wrap_around_the_week() {
        let calendar = BusinessCalendar::parse("UTC", "09:00-17:00", "fri-mon", "").unwrap();
        let days: Vec<bool> = date(2026, 3, 9)
            .iter_days()
            .take(7)
            .map(|d| calendar.is_business_day(d))
            .collect();
        assert_eq!(days, [true, false, false, false, true, true, true]);
    }

    #[test]
    fn full_weekday_names_are_accepted() {
        let calendar = BusinessCalendar::parse("UTC", "09:00-17:00", "Monday-Friday", "").unwrap();
        assert_eq!(calendar.weekdays, MON_TO_FRI);
    }

    #[test]
    fn every_weekday_range_holds_the_days_from_its_first_to_its_last() {
        let week = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        for first in week {
            for last in week {
                let mut expected = WeekdaySet::EMPTY;
                let mut day = first;
                while expected.insert(day) && day != last {
                    day = day.succ();
                }
                let parsed = parse_weekday_item(&format!("{first}-{last}")).unwrap();
                assert_eq!(parsed, expected, "{first}-{last}");
            }
        }
    }

    #[test]
    fn custom_holiday_dates_are_not_business_days() {
        let calendar =
            BusinessCalendar::parse("UTC", "09:00-17:00", "mon-fri", "2026-03-10").unwrap();
        assert!(!calendar.is_business_day(date(2026, 3, 10)));
        assert!(calendar.is_business_day(date(2026, 12, 25)));
    }

    #[test]
    fn unknown_time_zone_is_rejected() {
        let err =
            BusinessCalendar::parse("Mars/Olympus", "09:00-17:00", "mon-fri", "").unwrap_err();
        assert_eq!(err, CalendarError::UnknownTimeZone("Mars/Olympus".into()));
        assert!(err.to_string().contains("IANA name"));
    }

    #[test]
    fn malformed_hours_are_rejected() {
        for hours in [
            "",
            "9-17",
            "09:00",
            "09:00-",
            "09:00-24:00",
            "9:00-17:00",
            "09:00-17:60",
            "09:00/17:00",
            "aa:bb-cc:dd",
        ] {
            let err = BusinessCalendar::parse("UTC", hours, "mon-fri", "").unwrap_err();
            assert_eq!(err, CalendarError::HoursFormat(hours.into()), "{hours:?}");
        }
        let message = CalendarError::HoursFormat("x".into()).to_string();
        assert!(message.contains("HH:MM-HH:MM"));
    }

    #[test]
    fn opening_not_before_closing_is_rejected() {
        for hours in ["17:00-09:00", "09:00-09:00"] {
            let err = BusinessCalendar::parse("UTC", hours, "mon-fri", "").unwrap_err();
            assert_eq!(err, CalendarError::HoursOrder(hours.into()));
        }
    }

    #[test]
    fn unknown_weekdays_are_rejected() {
        for (days, item) in [
            ("mon-fry", "mon-fry"),
            ("mon,,tue", ""),
            ("mon,xyz", "xyz"),
            ("mon-", "mon-"),
        ] {
            let err = BusinessCalendar::parse("UTC", "09:00-17:00", days, "").unwrap_err();
            assert_eq!(err, CalendarError::UnknownWeekday(item.into()), "{days:?}");
        }
    }

    #[test]
    fn empty_business_days_are_rejected() {
        for days in ["", "  "] {
            let err = BusinessCalendar::parse("UTC", "09:00-17:00", days, "").unwrap_err();
            assert_eq!(err, CalendarError::NoBusinessDays);
        }
    }

    #[test]
    fn invalid_holidays_are_rejected() {
        for (holidays, item) in [
            ("2026-02-30", "2026-02-30"),
            ("us-federal,xmas", "xmas"),
            ("2026-12-24,", ""),
            ("12/25/2026", "12/25/2026"),
        ] {
            let err =
                BusinessCalendar::parse("UTC", "09:00-17:00", "mon-fri", holidays).unwrap_err();
            assert_eq!(
                err,
                CalendarError::InvalidHoliday(item.into()),
                "{holidays:?}"
            );
        }
    }

    #[test]
    fn a_lead_in_the_second_pass_of_a_repeated_hour_is_not_due_before_an_earlier_one() {
        // 2026-11-01: New York repeats 01:00-02:00 (EDT, then EST).
        let calendar = around_the_clock();
        let first_pass = utc(2026, 11, 1, 5, 30); // 01:30 EDT
        let second_pass = utc(2026, 11, 1, 6, 10); // 01:10 EST, 40 minutes later
        assert!(calendar.contact_by(first_pass) <= calendar.contact_by(second_pass));
    }

    #[test]
    fn empty_holidays_mean_none() {
        let calendar = BusinessCalendar::parse("UTC", "09:00-17:00", "mon-fri", "  ").unwrap();
        assert!(calendar.is_business_day(date(2026, 1, 1)));
    }
}

#[cfg(test)]
mod properties {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    /// Zones with the awkward transitions: US and EU DST, a 30-minute shift, midnight
    /// transitions, a skipped day, and none at all.
    const ZONES: &[&str] = &[
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "America/Santiago",
        "America/Havana",
        "Pacific/Apia",
        "Asia/Kolkata",
        "UTC",
    ];

    fn calendar() -> impl Strategy<Value = BusinessCalendar> {
        let zone = prop::sample::select(ZONES);
        let hours = (0u32..24 * 60 - 1, 1u32..24 * 60).prop_filter_map("open < close", |(a, b)| {
            let (open, close) = (a.min(b), a.max(b).min(24 * 60 - 1));
            (open < close).then(|| {
                format!(
                    "{:02}:{:02}-{:02}:{:02}",
                    open / 60,
                    open % 60,
                    close / 60,
                    close % 60
                )
            })
        });
        let hours = prop_oneof![hours, Just("00:00-23:59".to_owned())];
        let days =
            prop::sample::subsequence(vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"], 1..=7)
                .prop_map(|days| days.join(","));
        let holidays = prop::sample::select(vec!["", "us-federal", "us-federal,2026-12-24"]);
        (zone, hours, days, holidays).prop_filter_map("valid", |(zone, hours, days, holidays)| {
            BusinessCalendar::parse(zone, &hours, &days, holidays).ok()
        })
    }

    /// 2010 to 2035 to the second, half of them within six hours of a DST switch.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // New York, London, Lord Howe and Santiago switching back and forth in 2026.
        let switches = prop::sample::select(vec![
            1_772_953_200i64, // 2026-03-08T07:00Z
            1_793_512_800,    // 2026-11-01T06:00Z
            1_774_746_000,    // 2026-03-29T01:00Z
            1_792_890_000,    // 2026-10-25T01:00Z
            1_775_314_800,    // 2026-04-04T15:00Z
            1_775_358_000,    // 2026-04-05T03:00Z
        ]);
        prop_oneof![
            1_262_304_000i64..2_082_758_400,
            (switches, -6 * 3600i64..6 * 3600).prop_map(|(at, offset)| at + offset),
        ]
        .prop_filter_map("in range", |s| Utc.timestamp_opt(s, 0).single())
    }

    /// Whether the zone's offset changes during this local day (a DST switch).
    fn shifts_on(tz: Tz, day: NaiveDate) -> bool {
        let offset = |time| {
            resolve_local(tz, day.and_time(time))
                .map(|t| t.with_timezone(&Utc) - t.naive_local().and_utc())
        };
        offset(NaiveTime::MIN) != offset(hm_or_midnight(23, 59))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn contact_by_is_later_on_a_business_day_within_hours(
            calendar in calendar(),
            received in instant(),
        ) {
            let due = calendar.contact_by(received);
            prop_assert!(due > received);
            let local = due.with_timezone(&calendar.tz).naive_local();
            prop_assert!(calendar.is_business_day(local.date()), "{} due {}", received, local);
            if !shifts_on(calendar.tz, local.date()) {
                prop_assert!(
                    calendar.open <= local.time() && local.time() <= calendar.close,
                    "{} due {}", received, local
                );
            }
        }

        #[test]
        fn contact_by_never_moves_earlier_when_a_lead_arrives_later(
            calendar in calendar(),
            received in instant(),
            later in prop_oneof![0i64..4 * 24 * 3600, 0i64..2 * 3600],
        ) {
            let second = received + TimeDelta::seconds(later);
            prop_assert!(
                calendar.contact_by(received) <= calendar.contact_by(second),
                "{} -> {}, {} -> {}",
                received,
                calendar.contact_by(received),
                second,
                calendar.contact_by(second)
            );
        }
    }
}
