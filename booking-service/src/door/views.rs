//! What the door shows: showtimes in the site's words for times, with how many have come in;
//! door lists with bookers' names (the operator's eyes only; never an email: the door has no
//! use for one); and the booking a ticket belongs to.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use cinema::booking::BookingRecord;
use cinema::times::TimeRange;
use cinema::{Catalog, Showtime};
use serde::Serialize;

use crate::api::views::FilmView;

/// Where a showtime stands at the door's "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowtimeState {
    Upcoming,
    Running,
    Ended,
}

impl ShowtimeState {
    pub fn of(showtime: &Showtime, now: DateTime<Utc>) -> Self {
        if now < showtime.starts_at {
            ShowtimeState::Upcoming
        } else if now < showtime.ends_at {
            ShowtimeState::Running
        } else {
            ShowtimeState::Ended
        }
    }
}

/// A showtime as the door names it: "Aurora, 10:00 – 12:08 WIB, studio 1".
#[derive(Debug, Clone, Serialize)]
pub struct DoorShowtime<'a> {
    pub id: &'a str,
    pub film: FilmView<'a>,
    pub studio: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The local day, `2030-01-10`.
    pub date: NaiveDate,
    /// `Thursday 10 January`.
    pub date_label: String,
    /// `10:00 – 12:08 WIB`, as the site's pages write it.
    pub time_label: String,
    /// `10:00 WIB`.
    pub starts_label: String,
    /// `10:00 to 12:08, Jakarta time`, for screen readers.
    pub time_long: String,
    pub state: ShowtimeState,
}

impl<'a> DoorShowtime<'a> {
    pub fn new(s: &'a Showtime, catalog: &'a Catalog, now: DateTime<Utc>) -> Self {
        let tz = catalog.settings.time_zone;
        let times = TimeRange::new(s.starts_at, s.ends_at, tz);
        DoorShowtime {
            id: s.id.as_str(),
            film: FilmView::of(s, catalog),
            studio: s.studio,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            date: s.local_date,
            date_label: s.local_date.format("%A %-d %B").to_string(),
            time_label: times.text,
            starts_label: times.starts_label,
            time_long: times.long,
            state: ShowtimeState::of(s, now),
        }
    }

    /// "Aurora at 10:00 WIB on Thursday 10 January (studio 1)": a ticket's showtime in a sentence.
    pub fn sentence(&self) -> String {
        format!("{} at {} on {} (studio {})", self.film.title, self.starts_label, self.date_label, self.studio)
    }
}

/// How many of a showtime's active bookings have come in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Attendance {
    pub seats_total: usize,
    pub bookings: usize,
    pub seats_booked: usize,
    pub bookings_checked_in: usize,
    pub seats_checked_in: usize,
}

impl Attendance {
    /// Counts `bookings` (active ones; cancelled ones are skipped) of the showtime `id`.
    pub fn of<'b>(id: &str, bookings: impl IntoIterator<Item = &'b BookingRecord>, seats_total: usize) -> Self {
        let mut a = Attendance { seats_total, ..Attendance::default() };
        for b in bookings.into_iter().filter(|b| b.showtime.id.as_str() == id && b.cancelled_at.is_none()) {
            a.bookings += 1;
            a.seats_booked += b.seats.len();
            if b.checked_in_at.is_some() {
                a.bookings_checked_in += 1;
                a.seats_checked_in += b.seats.len();
            }
        }
        a
    }
}

/// A showtime of the day's list, with its attendance.
#[derive(Debug, Serialize)]
pub struct DayShowtime<'a> {
    #[serde(flatten)]
    pub showtime: DoorShowtime<'a>,
    #[serde(flatten)]
    pub attendance: Attendance,
}

/// One line of a door list.
#[derive(Debug, Serialize)]
pub struct DoorBooking<'a> {
    pub reference: &'a str,
    pub name: &'a str,
    pub seats: &'a [String],
    pub checked_in_at: Option<DateTime<Utc>>,
    /// `19:02` in the cinema's zone, when checked in.
    pub checked_in_at_local: Option<String>,
}

impl<'a> DoorBooking<'a> {
    pub fn new(b: &'a BookingRecord, tz: Tz) -> Self {
        DoorBooking {
            reference: b.reference.as_str(),
            name: &b.name,
            seats: &b.seats,
            checked_in_at: b.checked_in_at,
            checked_in_at_local: b.checked_in_at.map(|at| clock_time(at, tz)),
        }
    }
}

/// The booking a ticket belongs to, as the door shows it on a check-in.
#[derive(Debug, Serialize)]
pub struct TicketBooking<'a> {
    pub reference: &'a str,
    pub name: &'a str,
    pub seats: &'a [String],
    pub showtime: DoorShowtime<'a>,
}

impl<'a> TicketBooking<'a> {
    pub fn new(b: &'a BookingRecord, catalog: &'a Catalog, now: DateTime<Utc>) -> Self {
        TicketBooking {
            reference: b.reference.as_str(),
            name: &b.name,
            seats: &b.seats,
            showtime: DoorShowtime::new(&b.showtime, catalog, now),
        }
    }
}

/// `19:02`: a moment of the door's day, in the cinema's zone.
pub fn clock_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// The showtime a door most likely lets in now: of those not yet ended, the one whose start is
/// nearest to `now` (the one about to start, or the one that just started, for latecomers);
/// when all have ended, the last. Showtimes starting together are told apart by id, as the
/// day's pages order them. `None` for a day without showtimes.
pub fn suggested(showtimes: &[Showtime], now: DateTime<Utc>) -> Option<&Showtime> {
    showtimes
        .iter()
        .filter(|s| now < s.ends_at)
        .min_by_key(|s| ((s.starts_at - now).abs(), s.starts_at, s.id.as_str()))
        .or_else(|| showtimes.iter().max_by_key(|s| (s.starts_at, s.id.as_str())))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeDelta, TimeZone};
    use cinema::ShowtimeId;

    use super::*;

    fn show(slug: &str, studio: u32, start: (u32, u32), minutes: i64) -> Showtime {
        let tz = chrono_tz::Asia::Jakarta;
        let starts_at = tz.with_ymd_and_hms(2030, 1, 10, start.0, start.1, 0).unwrap().with_timezone(&Utc);
        let date = NaiveDate::from_ymd_opt(2030, 1, 10).unwrap();
        let slot = NaiveTime::from_hms_opt(start.0, start.1, 0).unwrap();
        Showtime {
            id: ShowtimeId::new(slug, date, slot),
            film_slug: slug.into(),
            studio,
            local_date: date,
            slot,
            starts_at,
            ends_at: starts_at + TimeDelta::minutes(minutes),
            archived: false,
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Jakarta.with_ymd_and_hms(2030, 1, 10, h, m, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_door_is_offered_the_showtime_starting_nearest_to_now_that_has_not_ended() {
        let day = [show("aurora", 1, (10, 0), 128), show("borealis", 2, (11, 0), 128), show("aurora", 1, (13, 0), 128)];
        let id = |s: Option<&Showtime>| s.map(|s| s.id.0.clone());
        assert_eq!(id(suggested(&day, at(8, 0))), Some("aurora-20300110-1000".into()), "before the first");
        assert_eq!(id(suggested(&day, at(10, 5))), Some("aurora-20300110-1000".into()), "latecomers");
        assert_eq!(id(suggested(&day, at(10, 50))), Some("borealis-20300110-1100".into()), "about to start");
        assert_eq!(id(suggested(&day, at(12, 20))), Some("aurora-20300110-1300".into()), "the first has ended");
        assert_eq!(id(suggested(&day, at(23, 0))), Some("aurora-20300110-1300".into()), "all ended: the last");
        assert_eq!(suggested(&[], at(8, 0)), None);
    }

    #[test]
    fn a_state_is_upcoming_then_running_then_ended() {
        let s = show("aurora", 1, (10, 0), 128);
        assert_eq!(ShowtimeState::of(&s, at(9, 59)), ShowtimeState::Upcoming);
        assert_eq!(ShowtimeState::of(&s, at(10, 0)), ShowtimeState::Running);
        assert_eq!(ShowtimeState::of(&s, at(12, 8)), ShowtimeState::Ended);
    }
}
