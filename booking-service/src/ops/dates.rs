//! Days and times as the cinema counts them: an operator says "from the 3rd to the 9th" and
//! "today" in the cinema's time zone, whatever zone the machine running the tool is set to,
//! and reads every time back in that zone.

use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A day as given on the command line: a date, or one relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateArg {
    On(NaiveDate),
    /// Days from today: -1 yesterday, 0 today, 1 tomorrow.
    FromToday(i8),
}

impl FromStr for DateArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "today" => Ok(DateArg::FromToday(0)),
            "yesterday" => Ok(DateArg::FromToday(-1)),
            "tomorrow" => Ok(DateArg::FromToday(1)),
            other => NaiveDate::parse_from_str(other, "%Y-%m-%d").map(DateArg::On).map_err(|_| {
                format!("{text:?} is not a day; expected YYYY-MM-DD (such as 2030-01-09), today, yesterday or tomorrow")
            }),
        }
    }
}

impl DateArg {
    /// The day this names, `today` being the cinema's.
    pub fn resolve(self, today: NaiveDate) -> NaiveDate {
        match self {
            DateArg::On(date) => date,
            DateArg::FromToday(days) => {
                let shift = Days::new(u64::from(days.unsigned_abs()));
                let moved = if days < 0 { today.checked_sub_days(shift) } else { today.checked_add_days(shift) };
                moved.unwrap_or(today)
            }
        }
    }
}

/// The cinema's zone, and how the tool shows times in it.
#[derive(Debug, Clone, Copy)]
pub struct CinemaTime {
    pub tz: Tz,
}

impl CinemaTime {
    /// The cinema's date at `now`.
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz).date_naive()
    }

    /// The first moment of a local day. Midnight may not exist where daylight saving starts
    /// at midnight: the day then starts at the first local time that does.
    pub fn start_of(self, date: NaiveDate) -> DateTime<Utc> {
        (0..=4 * 24)
            .filter_map(|quarter| NaiveTime::from_hms_opt(quarter / 4, (quarter % 4) * 15, 0))
            .find_map(|time| self.tz.from_local_datetime(&date.and_time(time)).earliest())
            .map_or_else(|| date.and_time(NaiveTime::MIN).and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The instants of the local days `first` to `last`, both included: `[start, end)`.
    pub fn days(self, first: NaiveDate, last: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = last.checked_add_days(Days::new(1)).unwrap_or(last);
        (self.start_of(first), self.start_of(after))
    }

    /// `2030-01-10 19:00`: for tables and spreadsheets.
    pub fn local(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }

    /// `2030-01-10T19:00:00+07:00`: for JSON, unambiguous and still local.
    pub fn rfc3339(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).to_rfc3339()
    }

    /// `19:02 WIB` when `at` is on the cinema's day `today`, else `2030-01-09 19:02 WIB`: the
    /// time a door reads out.
    pub fn said(self, at: DateTime<Utc>, today: NaiveDate) -> String {
        let local = at.with_timezone(&self.tz);
        let zone = cinema::times::zone_short(self.tz, at);
        if local.date_naive() == today {
            format!("{} {zone}", local.format("%H:%M"))
        } else {
            format!("{} {zone}", local.format("%Y-%m-%d %H:%M"))
        }
    }

    /// `Thu 10 Jan 2030, 19:00 WIB`: a showtime's start in a heading.
    pub fn heading(self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.tz);
        format!(
            "{}, {} {}",
            local.format("%a %-d %b %Y"),
            local.format("%H:%M"),
            cinema::times::zone_short(self.tz, at)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn days_read_as_dates_or_relative_to_today() {
        let today = date("2030-01-10");
        let read = |text: &str| text.parse::<DateArg>().map(|d| d.resolve(today));
        assert_eq!(read("2030-01-03"), Ok(date("2030-01-03")));
        assert_eq!(read("Today"), Ok(today));
        assert_eq!(read("yesterday"), Ok(date("2030-01-09")));
        assert_eq!(read("tomorrow"), Ok(date("2030-01-11")));
        for bad in ["", "10/01/2030", "2030-13-01", "last week"] {
            let err = read(bad).unwrap_err();
            assert!(err.contains("YYYY-MM-DD"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_range_of_days_is_local_and_includes_its_last_day() {
        let jakarta = CinemaTime { tz: chrono_tz::Asia::Jakarta };
        let (from, to) = jakarta.days(date("2030-01-03"), date("2030-01-09"));
        assert_eq!(from.to_rfc3339(), "2030-01-02T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2030-01-09T17:00:00+00:00");
    }

    #[test]
    fn a_day_that_skips_midnight_starts_at_its_first_hour() {
        // Santiago's clocks jumped from 00:00 to 01:00 on 2019-09-08.
        let santiago = CinemaTime { tz: chrono_tz::America::Santiago };
        let start = santiago.start_of(date("2019-09-08"));
        assert_eq!(start.with_timezone(&santiago.tz).to_rfc3339(), "2019-09-08T01:00:00-03:00");
    }

    #[test]
    fn a_door_hears_the_time_alone_on_the_day_and_the_date_otherwise() {
        let jakarta = CinemaTime { tz: chrono_tz::Asia::Jakarta };
        let at = DateTime::parse_from_rfc3339("2030-01-10T19:02:00+07:00").unwrap().with_timezone(&Utc);
        assert_eq!(jakarta.said(at, date("2030-01-10")), "19:02 WIB");
        assert_eq!(jakarta.said(at, date("2030-01-11")), "2030-01-10 19:02 WIB");
        assert_eq!(jakarta.heading(at), "Thu 10 Jan 2030, 19:02 WIB");
    }
}
