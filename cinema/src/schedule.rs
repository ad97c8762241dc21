//! The schedule rules: which showtimes a catalog has on which days.
//!
//! Everything here is a pure function of the catalog and a moment, so the same inputs always
//! give the same showtimes with the same ids. That is what makes `roll` idempotent and keeps a
//! booking page's URL stable from one roll to the next.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::film::Film;

/// A showtime's stable id: `<film-slug>-<YYYYMMDD>-<HHMM>`, from the local date and slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShowtimeId(pub String);

impl ShowtimeId {
    pub fn new(film_slug: &str, date: NaiveDate, slot: NaiveTime) -> Self {
        ShowtimeId(format!("{film_slug}-{}-{}", date.format("%Y%m%d"), slot.format("%H%M")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` could be a showtime id at all: checked before any look-up, so a request
    /// with junk in the path is refused without touching the store.
    pub fn is_well_formed(text: &str) -> bool {
        text.len() <= 160 && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

impl fmt::Display for ShowtimeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One screening of one film in its studio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Showtime {
    pub id: ShowtimeId,
    pub film_slug: String,
    pub studio: u32,
    /// The day in the cinema's time zone.
    pub local_date: NaiveDate,
    /// The slot's local start time.
    pub slot: NaiveTime,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Set by `roll` once the showtime has started; an archived showtime is never shown again
    /// but keeps its row so its bookings keep their showtime.
    pub archived: bool,
}

impl Showtime {
    pub fn has_started(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now
    }
}

/// The slots a film screens at each day: its own, or its studio's by parity.
pub fn slots_of<'a>(catalog: &'a Catalog, film: &'a Film) -> &'a [NaiveTime] {
    film.slots.as_deref().unwrap_or_else(|| catalog.settings.slots.for_studio(film.studio))
}

/// The local dates of the horizon that contains `now`: today and the days after it.
pub fn horizon_dates(tz: Tz, horizon_days: u32, now: DateTime<Utc>) -> Vec<NaiveDate> {
    let today = now.with_timezone(&tz).date_naive();
    (0..horizon_days).filter_map(|d| today.checked_add_days(chrono::Days::new(d.into()))).collect()
}

/// The moment a local date and time happen in `tz`. A time that a daylight-saving jump skips
/// does not happen (the slot is dropped that day); a time that happens twice takes the first.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&date.and_time(time)).earliest().map(|t| t.with_timezone(&Utc))
}

/// Every showtime of the horizon around `now`, started or not, in start order then studio.
pub fn plan_horizon(catalog: &Catalog, now: DateTime<Utc>) -> Vec<Showtime> {
    let tz = catalog.settings.time_zone;
    let dates = horizon_dates(tz, catalog.settings.horizon_days, now);
    // Sized up front: at 10,000 films the plan is 165,000 showtimes, and a doubling `Vec`
    // would hold room for 262,144 (a third again of the plan's memory, for nothing).
    let per_day: usize = catalog.films.iter().map(|f| slots_of(catalog, f).len()).sum();
    let mut plan = Vec::with_capacity(dates.len() * per_day);
    for date in dates {
        for film in &catalog.films {
            for &slot in slots_of(catalog, film) {
                let Some(starts_at) = local_instant(tz, date, slot) else {
                    continue;
                };
                plan.push(Showtime {
                    id: ShowtimeId::new(&film.slug, date, slot),
                    film_slug: film.slug.clone(),
                    studio: film.studio,
                    local_date: date,
                    slot,
                    starts_at,
                    ends_at: starts_at + Duration::minutes(film.runtime_min.into()),
                    archived: false,
                });
            }
        }
    }
    plan.sort_by_key(|s| (s.starts_at, s.studio));
    plan
}

/// Checks that a film fits between its own slots: runtime plus cleaning must not run into the
/// next slot, the last slot of a day running into the first of the next day included.
/// Returns the pair of slots that clash, with the minutes available between them.
pub fn check_fits(slots: &[NaiveTime], runtime_min: u32, cleaning_min: u32) -> Result<(), (NaiveTime, NaiveTime, i64)> {
    let needed = i64::from(runtime_min + cleaning_min);
    for (i, &start) in slots.iter().enumerate() {
        let next = slots[(i + 1) % slots.len()];
        let mut gap = (next - start).num_minutes();
        if gap <= 0 {
            gap += 24 * 60;
        }
        if gap < needed {
            return Err((start, next, gap));
        }
    }
    Ok(())
}

#[cfg(test)]
impl Showtime {
    /// A two-hour showtime of film `f` in studio 1, starting at `starts` (UTC), for tests.
    pub(crate) fn for_test(id: &str, starts: DateTime<Utc>) -> Showtime {
        Showtime {
            id: ShowtimeId(id.into()),
            film_slug: "f".into(),
            studio: 1,
            local_date: starts.date_naive(),
            slot: starts.time(),
            starts_at: starts,
            ends_at: starts + chrono::Duration::hours(2),
            archived: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::catalog_of;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
    }

    fn t(hhmm: &str) -> NaiveTime {
        NaiveTime::parse_from_str(hhmm, "%H:%M").unwrap()
    }

    #[test]
    fn twenty_one_studios_make_115_showtimes_a_day() {
        let catalog = catalog_of(21, "");
        let plan = plan_horizon(&catalog, at("2026-11-24T00:00:00+07:00"));
        assert_eq!(plan.len(), 115 * 3);
        let day1 = plan.iter().filter(|s| s.local_date == NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).count();
        assert_eq!(day1, 115);
        let even = plan.iter().filter(|s| s.studio == 2 && s.local_date.to_string() == "2026-11-24").count();
        let odd = plan.iter().filter(|s| s.studio == 7 && s.local_date.to_string() == "2026-11-24").count();
        assert_eq!((even, odd), (6, 5));
    }

    #[test]
    fn the_horizon_starts_on_the_local_date_not_the_utc_date() {
        // 18:30 UTC on the 23rd is already 01:30 on the 24th in Jakarta (UTC+7).
        let catalog = catalog_of(1, "");
        let plan = plan_horizon(&catalog, at("2026-11-23T18:30:00Z"));
        let dates: std::collections::BTreeSet<_> = plan.iter().map(|s| s.local_date.to_string()).collect();
        assert_eq!(dates.into_iter().collect::<Vec<_>>(), ["2026-11-24", "2026-11-25", "2026-11-26"]);
        let first = &plan[0];
        assert_eq!(first.starts_at, at("2026-11-24T06:00:00+07:00"));
        assert_eq!(first.id.as_str(), "film-1-20261124-0600");
    }

    #[test]
    fn a_late_slot_ends_after_midnight_on_the_next_day() {
        let catalog = catalog_of(1, "");
        let plan = plan_horizon(&catalog, at("2026-11-24T00:00:00+07:00"));
        let late = plan.iter().find(|s| s.slot == t("22:00")).unwrap();
        // catalog_of gives every film 150 minutes.
        assert_eq!(late.ends_at, at("2026-11-25T00:30:00+07:00"));
        assert_eq!(late.ends_at - late.starts_at, Duration::minutes(150));
    }

    #[test]
    fn daylight_saving_gaps_drop_a_slot_and_overlaps_take_the_first() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(local_instant(tz, spring, t("02:30")), None);
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        assert_eq!(local_instant(tz, autumn, t("02:30")), Some(at("2026-10-25T02:30:00+02:00")));
    }

    #[test]
    fn fit_counts_the_gap_across_midnight() {
        let slots = [t("06:00"), t("09:00"), t("12:00"), t("15:00"), t("18:00"), t("21:00")];
        assert_eq!(check_fits(&slots, 165, 15), Ok(()));
        assert_eq!(check_fits(&slots, 166, 15), Err((t("06:00"), t("09:00"), 180)));
        assert_eq!(check_fits(&[t("06:00"), t("23:00")], 410, 15), Err((t("23:00"), t("06:00"), 420)));
        assert_eq!(check_fits(&[t("20:00")], 600, 15), Ok(()));
    }

    #[test]
    fn ids_are_stable_and_well_formed() {
        let id = ShowtimeId::new("blade-runner-2049", NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(), t("09:00"));
        assert_eq!(id.as_str(), "blade-runner-2049-20260102-0900");
        assert!(ShowtimeId::is_well_formed(id.as_str()));
        assert!(!ShowtimeId::is_well_formed("../etc/passwd"));
    }
}
