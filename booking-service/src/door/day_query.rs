//! The query of `GET /api/door/showtimes`: `date` (see [`Day::from_query`]), `film=<slug>`,
//! `studio=<n>`, `limit` and `cursor`, read and checked at the edge. `limit` and `cursor` are
//! read as `GET /api/showtimes` reads them (the same defaults, bounds, codes and cursor), so a
//! door day's pages resume exactly like the public list's.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cinema::Catalog;
use cinema::store::{ShowtimePage, ShowtimePosition};

use super::day::Day;
use crate::api::showtimes_query::{DEFAULT_LIMIT, cursor, limit, pairs};
use crate::api_error::{ApiError, ErrorCode};

/// One page of a door day, as the query asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayQuery {
    pub day: Day,
    /// Only this film's (by slug).
    pub film: Option<String>,
    /// Only this studio's: each studio screens exactly one film, so this is that film.
    pub studio: Option<u32>,
    pub limit: usize,
    pub after: Option<ShowtimePosition>,
}

impl DayQuery {
    /// The page a query string asks for, at `now` in the cinema's zone `tz`.
    pub fn read(query: &str, now: DateTime<Utc>, tz: Tz) -> Result<Self, ApiError> {
        let mut asked = DayQuery {
            day: Day::from_query(query, now, tz)?,
            film: None,
            studio: None,
            limit: DEFAULT_LIMIT,
            after: None,
        };
        // An empty value is a parameter left out, as a form with a blank field sends it.
        for (name, value) in pairs(query).filter(|(_, value)| !value.is_empty()) {
            match name.as_str() {
                "film" => asked.film = Some(value),
                "studio" => asked.studio = Some(studio(&value)?),
                "limit" => asked.limit = limit(&value)?,
                "cursor" => asked.after = Some(cursor(&value)?),
                _ => {} // `date` is the day's; unknown parameters are ignored.
            }
        }
        Ok(asked)
    }

    /// The store's selection for this day and filter (every showtime starting on the day,
    /// started and archived ones too), or `None` when the filter can match nothing: a studio
    /// no film screens in, or a film and a studio that are not each other's.
    pub fn selection(&self, catalog: &Catalog, now: DateTime<Utc>) -> Option<ShowtimePage> {
        let film = match (self.studio, &self.film) {
            (None, film) => film.clone(),
            (Some(n), film) => {
                let screening = catalog.films.iter().find(|f| f.studio == n)?;
                if film.as_ref().is_some_and(|slug| *slug != screening.slug) {
                    return None;
                }
                Some(screening.slug.clone())
            }
        };
        Some(ShowtimePage {
            now,
            film,
            starting: Some((self.day.from, self.day.to)),
            after: self.after.clone(),
            limit: self.limit,
            started_too: true,
        })
    }
}

fn studio(value: &str) -> Result<u32, ApiError> {
    value.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidStudio,
            "studio must be a studio's number, a whole number from 1 (as on the door's sign); leave it out for every studio",
        )
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    const TZ: Tz = chrono_tz::Asia::Jakarta;

    fn now() -> DateTime<Utc> {
        "2030-01-10T03:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_day_filters_limit_and_cursor_are_read_and_bad_ones_refused() {
        let q = DayQuery::read(
            "date=2030-01-12&film=akira&studio=3&limit=7&cursor=1894345200_akira-20300112-1800",
            now(),
            TZ,
        )
        .unwrap();
        assert_eq!(q.day, Day::of(NaiveDate::from_ymd_opt(2030, 1, 12).unwrap(), TZ));
        assert_eq!((q.film.as_deref(), q.studio, q.limit), (Some("akira"), Some(3), 7));
        assert_eq!(q.after.unwrap().id.as_str(), "akira-20300112-1800");
        let plain = DayQuery::read("film=&studio=&limit=&cursor=", now(), TZ).unwrap();
        assert_eq!(
            (plain.day, plain.film, plain.studio, plain.limit),
            (Day::containing(now(), TZ), None, None, DEFAULT_LIMIT)
        );
        let code = |q: &str| DayQuery::read(q, now(), TZ).unwrap_err().code;
        for bad in ["studio=0", "studio=-1", "studio=two", "studio=1.5"] {
            assert_eq!(code(bad), ErrorCode::InvalidStudio, "{bad}");
        }
        assert_eq!(code("limit=501"), ErrorCode::InvalidLimit);
        assert_eq!(code("cursor=x"), ErrorCode::InvalidCursor);
        assert_eq!(code("date=tomorrow"), ErrorCode::InvalidDate);
    }
}
