//! One page of the live showtimes, for lists that must not grow with the catalog: at 10,000
//! films the horizon holds about 165,000 showtimes, and a reply or a `Vec` of all of them is
//! tens of megabytes. A reader asks for at most [`ShowtimePage::limit`] showtimes after a
//! position ([`ShowtimePosition`]), and the store reads only those rows.
//!
//! The order is by start time, then id: an id names one showtime, so the order is total and a
//! position taken from one page's last showtime resumes exactly after it, however the pages
//! are cut and whatever was booked in between. A showtime that starts (leaves the live set)
//! between two pages is simply no longer listed; none is listed twice.

use chrono::{DateTime, Utc};

use crate::schedule::{Showtime, ShowtimeId};

/// Which live showtimes to read: those neither archived nor started by `now` (or, with
/// [`ShowtimePage::started_too`], every one), optionally of one film and starting in one span,
/// after a position, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowtimePage {
    pub now: DateTime<Utc>,
    /// Only this film's (by slug).
    pub film: Option<String>,
    /// Only those starting in `[from, to)`.
    pub starting: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Only those after this position (the previous page's last showtime).
    pub after: Option<ShowtimePosition>,
    /// At most this many.
    pub limit: usize,
    /// Started and archived showtimes too, `now` aside: the door lets latecomers in, so its
    /// day lists what already began. Pair it with `starting` (a day), or it reads them all.
    pub started_too: bool,
}

/// A place in the order of showtimes (start time, then id): a page resumes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowtimePosition {
    pub starts_at: DateTime<Utc>,
    pub id: ShowtimeId,
}

impl ShowtimePosition {
    /// The position of `showtime`.
    pub fn of(showtime: &Showtime) -> Self {
        ShowtimePosition { starts_at: showtime.starts_at, id: showtime.id.clone() }
    }

    /// Whether `showtime` comes after this position in the pages' order.
    pub fn precedes(&self, showtime: &Showtime) -> bool {
        (showtime.starts_at, showtime.id.as_str()) > (self.starts_at, self.id.as_str())
    }
}

impl ShowtimePage {
    /// Whether `showtime` belongs to this page's selection (the limit aside): what the stores'
    /// queries select, written once in Rust for their tests.
    pub fn selects(&self, showtime: &Showtime) -> bool {
        (self.started_too || (!showtime.archived && showtime.starts_at > self.now))
            && self.film.as_deref().is_none_or(|f| showtime.film_slug == f)
            && self.starting.is_none_or(|(from, to)| showtime.starts_at >= from && showtime.starts_at < to)
            && self.after.as_ref().is_none_or(|p| p.precedes(showtime))
    }
}
