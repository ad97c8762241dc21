//! The query of `GET /api/door/showtimes`: `date` (see [`Day::from_query`]), `film=<slug>`,
//! `studio=<n>`, `limit` and `cursor`, read and checked at the edge. `limit` and `cursor` are
//! read as `GET /api/showtimes` reads them (the same default, codes and cursor), so a door
//! day's pages resume exactly like the public list's; only the largest page is smaller
//! ([`MAX_LIMIT`]), as a door showtime carries its labels and counts.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cinema::Catalog;
use cinema::store::{ShowtimePage, ShowtimePosition};

use super::day::Day;
use crate::api::showtimes_query::{DEFAULT_LIMIT, cursor, limit_up_to, pairs};
use crate::api_error::{ApiError, ErrorCode};

/// The most showtimes one door reply holds: a door showtime is about 460 bytes, so a page of
/// this many stays near 140 KB, under the 200 KB any reply may weigh (500 would be 231 KB).
pub const MAX_LIMIT: usize = 300;

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
                "limit" => asked.limit = limit_up_to(&value, MAX_LIMIT)?,
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
        assert_eq!(DayQuery::read(&format!("limit={MAX_LIMIT}"), now(), TZ).unwrap().limit, MAX_LIMIT);
        assert_eq!(code(&format!("limit={}", MAX_LIMIT + 1)), ErrorCode::InvalidLimit);
        assert_eq!(code("cursor=x"), ErrorCode::InvalidCursor);
        assert_eq!(code("date=tomorrow"), ErrorCode::InvalidDate);
    }
}

/// The document holds to the code: the door's limit, its page size and its cursor.
#[cfg(test)]
mod documented {
    use serde_json::Value;

    use super::*;
    use crate::api::showtimes_query::cursor_of;

    #[test]
    fn the_door_days_pages_are_documented_with_their_limit_filters_and_cursor() {
        let doc: Value = serde_json::from_str(crate::api::openapi::DOCUMENT).unwrap();
        let get = &doc["paths"]["/api/door/showtimes"]["get"];
        let param =
            |name: &str| get["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
        assert_eq!(param("limit")["schema"]["default"], DEFAULT_LIMIT);
        assert_eq!(param("limit")["schema"]["maximum"], MAX_LIMIT);
        assert_eq!(param("studio")["schema"]["minimum"], 1);
        assert!(param("film")["schema"].is_object());
        assert_eq!(doc["components"]["schemas"]["DoorDay"]["properties"]["showtimes"]["maxItems"], MAX_LIMIT);
        let description = get["description"].as_str().unwrap();
        assert!(description.contains(&format!("at most {MAX_LIMIT} ({DEFAULT_LIMIT} unless")), "{description}");
        let example = param("cursor")["schema"]["example"].as_str().unwrap().to_string();
        let read = DayQuery::read(&format!("cursor={example}"), chrono::Utc::now(), chrono_tz::UTC).unwrap();
        assert_eq!(cursor_of(&read.after.unwrap()), example);
    }
}
