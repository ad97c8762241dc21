//! The query of `GET /api/showtimes`, read and checked at the edge: `film`, `date`, `limit` and
//! `cursor`, each refused with its own error code and a message that says how to write it.
//!
//! The cursor is opaque to clients: it is the last listed showtime's position (its start, as
//! seconds since the epoch, and its id), `1797134400_akira-20261124-1800`, which the service
//! reads back into a [`ShowtimePosition`]. It carries no filter: clients send the same `film`
//! and `date` with it, and a cursor under other filters simply resumes at that place.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use cinema::schedule::ShowtimeId;
use cinema::store::{ShowtimePage, ShowtimePosition};

use crate::api_error::{ApiError, ErrorCode};
use crate::door::day::Day;

/// Showtimes a page holds when the query names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The most showtimes one page holds: a reply of this many stays near 150 KB.
pub const MAX_LIMIT: usize = 500;

/// The page a query string asks for, at `now` in the cinema's zone `tz`.
pub fn page_of(query: &str, now: DateTime<Utc>, tz: Tz) -> Result<ShowtimePage, ApiError> {
    let mut page =
        ShowtimePage { now, film: None, starting: None, after: None, limit: DEFAULT_LIMIT, started_too: false };
    // An empty value is a parameter left out, as a form with a blank field sends it.
    for (name, value) in pairs(query).filter(|(_, value)| !value.is_empty()) {
        match name.as_str() {
            "film" => page.film = Some(value),
            "date" => page.starting = Some(date(&value, tz)?),
            "limit" => page.limit = limit(&value)?,
            "cursor" => page.after = Some(cursor(&value)?),
            _ => {} // Unknown parameters are ignored, as before they existed.
        }
    }
    Ok(page)
}

/// The cursor that resumes after `position`.
pub fn cursor_of(position: &ShowtimePosition) -> String {
    format!("{}_{}", position.starts_at.timestamp(), position.id)
}

/// The query's `name=value` pairs, percent-decoded (`+` is a space).
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|pair| pair.split_once('=')).map(|(name, value)| {
        let decode =
            |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
        (decode(name), decode(value))
    })
}

fn date(value: &str, tz: Tz) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map(|date| Day::of(date, tz)).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidDate,
            "date must be a day written YYYY-MM-DD, such as 2030-01-10 (in the cinema's time zone); leave it out for every day",
        )
    })?;
    Ok((day.from, day.to))
}

fn limit(value: &str) -> Result<usize, ApiError> {
    limit_up_to(value, MAX_LIMIT)
}

/// A `limit` from 1 to `max`, refused with [`ErrorCode::InvalidLimit`] otherwise.
pub(crate) fn limit_up_to(value: &str, max: usize) -> Result<usize, ApiError> {
    value.parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidLimit,
            format!("limit must be a whole number from 1 to {max}; leave it out for {DEFAULT_LIMIT}"),
        )
    })
}

pub(crate) fn cursor(value: &str) -> Result<ShowtimePosition, ApiError> {
    let parsed = value.split_once('_').and_then(|(secs, id)| {
        let starts_at = DateTime::from_timestamp(secs.parse().ok()?, 0)?;
        (ShowtimeId::is_well_formed(id) && !id.is_empty())
            .then(|| ShowtimePosition { starts_at, id: ShowtimeId(id.to_string()) })
    });
    parsed.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidCursor,
            "cursor must be a next_cursor from an earlier reply, unchanged; leave it out for the first page",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: Tz = chrono_tz::Asia::Jakarta;

    fn now() -> DateTime<Utc> {
        "2030-01-10T03:00:00Z".parse().unwrap()
    }

    #[test]
    fn without_parameters_the_first_page_of_everything_at_the_default_limit() {
        let page = page_of("", now(), TZ).unwrap();
        assert_eq!(
            page,
            ShowtimePage {
                now: now(),
                film: None,
                starting: None,
                after: None,
                limit: DEFAULT_LIMIT,
                started_too: false
            }
        );
        assert_eq!(page_of("other=1&film", now(), TZ).unwrap(), page, "unknown and valueless parameters are ignored");
        assert_eq!(page_of("film=&date=&limit=&cursor=", now(), TZ).unwrap(), page, "empty values are left out");
    }

    #[test]
    fn film_date_limit_and_cursor_are_read() {
        let page = page_of("film=la+haine%21&date=2030-01-12&limit=7&cursor=1894345200_akira-20300112-1800", now(), TZ)
            .unwrap();
        assert_eq!(page.film.as_deref(), Some("la haine!"));
        let day = Day::of(NaiveDate::from_ymd_opt(2030, 1, 12).unwrap(), TZ);
        assert_eq!(page.starting, Some((day.from, day.to)), "the day in the cinema's zone");
        assert_eq!(page.limit, 7);
        let after = page.after.unwrap();
        assert_eq!((after.starts_at.timestamp(), after.id.as_str()), (1894345200, "akira-20300112-1800"));
        assert_eq!(cursor_of(&after), "1894345200_akira-20300112-1800", "a cursor reads back as written");
        assert_eq!(page_of(&format!("limit={MAX_LIMIT}"), now(), TZ).unwrap().limit, MAX_LIMIT);
    }

    #[test]
    fn bad_values_are_refused_each_with_its_code() {
        let code = |q: &str| page_of(q, now(), TZ).unwrap_err().code;
        for bad in ["limit=0", "limit=501", "limit=-1", "limit=ten", "limit=1.5"] {
            assert_eq!(code(bad), ErrorCode::InvalidLimit, "{bad}");
        }
        for bad in ["cursor=x", "cursor=12", "cursor=_akira", "cursor=12_", "cursor=12_Akira", "cursor=a_b"] {
            assert_eq!(code(bad), ErrorCode::InvalidCursor, "{bad}");
        }
        assert_eq!(code("cursor=99999999999999999_a"), ErrorCode::InvalidCursor, "out of chrono's range");
        for bad in ["date=tomorrow", "date=2030-13-01", "date=2030-01-10T00:00"] {
            assert_eq!(code(bad), ErrorCode::InvalidDate, "{bad}");
        }
    }
}
