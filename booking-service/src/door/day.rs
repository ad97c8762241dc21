//! The door's unit of time: one day in the cinema's time zone, midnight to midnight there,
//! whatever zone the door's device or the server is set to.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::api_error::{ApiError, ErrorCode};

/// One local day and the instants it spans, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Day {
    pub fn of(date: NaiveDate, tz: Tz) -> Self {
        let next = date.succ_opt().unwrap_or(date);
        Day { date, from: start_of(date, tz), to: start_of(next, tz) }
    }

    /// The day `now` falls on in `tz`.
    pub fn containing(now: DateTime<Utc>, tz: Tz) -> Self {
        Self::of(now.with_timezone(&tz).date_naive(), tz)
    }

    /// The day a query string's `date=YYYY-MM-DD` names, or the one `now` falls on without it;
    /// a `date` that is not a day is refused, saying how to write one.
    pub fn from_query(query: &str, now: DateTime<Utc>, tz: Tz) -> Result<Self, ApiError> {
        let asked = query.split('&').find_map(|pair| pair.strip_prefix("date="));
        match asked {
            None | Some("") => Ok(Self::containing(now, tz)),
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|date| Self::of(date, tz)).map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidDate,
                    "date must be a day written YYYY-MM-DD, such as 2030-01-10 (in the cinema's time zone); leave it out for today",
                )
            }),
        }
    }
}

/// When a local day begins: its midnight, or, where a daylight-saving jump skips midnight, the
/// first local time that happens.
fn start_of(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..=24 * 4)
        .find_map(|quarter| {
            let local = midnight + TimeDelta::minutes(15 * quarter);
            local.and_local_timezone(tz).earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_day_runs_from_local_midnight_to_local_midnight() {
        let tz = chrono_tz::Asia::Jakarta;
        let now = tz.with_ymd_and_hms(2030, 1, 10, 23, 30, 0).unwrap().with_timezone(&Utc);
        let day = Day::containing(now, tz);
        assert_eq!(day.date, NaiveDate::from_ymd_opt(2030, 1, 10).unwrap());
        assert_eq!(day.from, Utc.with_ymd_and_hms(2030, 1, 9, 17, 0, 0).unwrap());
        assert_eq!(day.to, Utc.with_ymd_and_hms(2030, 1, 10, 17, 0, 0).unwrap());
    }

    #[test]
    fn a_day_that_skips_midnight_begins_at_its_first_local_time() {
        // Santiago springs forward at midnight: 7 September 2025 begins at 01:00.
        let tz = chrono_tz::America::Santiago;
        let day = Day::of(NaiveDate::from_ymd_opt(2025, 9, 7).unwrap(), tz);
        assert_eq!(day.from, tz.with_ymd_and_hms(2025, 9, 7, 1, 0, 0).unwrap().with_timezone(&Utc));
        assert_eq!(day.to - day.from, TimeDelta::hours(23));
    }

    #[test]
    fn the_query_names_a_day_or_leaves_today() {
        let tz = chrono_tz::Asia::Jakarta;
        let now = Utc.with_ymd_and_hms(2030, 1, 9, 18, 0, 0).unwrap(); // 01:00 on the 10th there
        assert_eq!(Day::from_query("", now, tz).unwrap().date.to_string(), "2030-01-10");
        assert_eq!(Day::from_query("x=1&date=", now, tz).unwrap().date.to_string(), "2030-01-10");
        assert_eq!(Day::from_query("date=2030-01-12", now, tz).unwrap().date.to_string(), "2030-01-12");
        for bad in ["date=tomorrow", "date=2030-13-01", "date=2030-01-10T00:00"] {
            assert_eq!(Day::from_query(bad, now, tz).unwrap_err().code, ErrorCode::InvalidDate, "{bad}");
        }
    }
}
