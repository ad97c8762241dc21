//! The door's `suggested` showtime, found with a few small store reads instead of the whole
//! day (at 10,000 films a day holds about 50,000 showtimes). [`suggested`]'s rule picks, of the
//! showtimes not yet ended, the one whose start is nearest to now, else the day's last; so
//! the only showtimes that can win are:
//!
//! - the first starting at or after now (one row);
//! - the running one that started last: it started within the longest runtime of the
//!   filter's films before now, so only that window is read, a page at a time, keeping one;
//! - when nothing is running or to come, the day's last: in that same window when the day is
//!   over, else (a day whose last showtime began long before now) found by walking the day in
//!   pages, still keeping one.
//!
//! [`suggested`] then chooses among these few exactly as it would among the whole day.

use chrono::{DateTime, TimeDelta, Utc};
use cinema::store::{ShowtimePage, ShowtimePosition, Store, StoreError};
use cinema::{Catalog, Showtime};

use super::views::suggested;

/// The showtime the door most likely wants among those `selection` holds on its day (its
/// `starting` span; its position and limit are ignored), at `now`.
pub async fn suggestion(
    store: &dyn Store,
    catalog: &Catalog,
    selection: &ShowtimePage,
    now: DateTime<Utc>,
) -> Result<Option<Showtime>, StoreError> {
    let Some((from, to)) = selection.starting else { return Ok(None) };
    let base = ShowtimePage { after: None, ..selection.clone() };
    let mut candidates = Vec::new();
    if now < to {
        let next = ShowtimePage { starting: Some((now.max(from), to)), limit: 1, ..base.clone() };
        candidates.extend(store.live_showtimes_page(next).await?.into_iter().map(|(s, _)| s));
    }
    let end = now.min(to);
    let window_start = (end - longest_runtime(catalog, selection.film.as_deref())).max(from);
    let mut running: Option<Showtime> = None;
    let mut last: Option<Showtime> = None;
    walk(store, &base, (window_start, end), |s| {
        // In start order: the latest start wins, and of those starting together the first.
        if now < s.ends_at && running.as_ref().is_none_or(|r| s.starts_at > r.starts_at) {
            running = Some(s.clone());
        }
        last = Some(s);
    })
    .await?;
    candidates.extend(running);
    if candidates.is_empty() {
        if last.is_none() && from < window_start {
            walk(store, &base, (from, window_start), |s| last = Some(s)).await?;
        }
        candidates.extend(last);
    }
    Ok(suggested(&candidates, now).cloned())
}

/// The longest runtime among `film`'s (or, without one, every film's) showtimes: how long
/// before now a showtime that is still running can have started.
fn longest_runtime(catalog: &Catalog, film: Option<&str>) -> TimeDelta {
    let minutes = catalog.films.iter().filter(|f| film.is_none_or(|slug| f.slug == slug)).map(|f| f.runtime_min).max();
    TimeDelta::minutes(minutes.unwrap_or(0).into())
}

/// Showtimes read at a time while looking for the suggestion: never a reply, so larger than a
/// reply's page (about 1 MB held at once), as on SQLite each read of a whole day's span
/// without a film scans the table (a few tens of ms at 165,000 showtimes).
const WALK_PAGE: usize = 5_000;

/// Calls `each` on every showtime of `base` starting in `span`, in start order, reading a
/// page of [`WALK_PAGE`] at a time.
async fn walk(
    store: &dyn Store,
    base: &ShowtimePage,
    span: (DateTime<Utc>, DateTime<Utc>),
    mut each: impl FnMut(Showtime),
) -> Result<(), StoreError> {
    if span.0 >= span.1 {
        return Ok(());
    }
    let mut page = ShowtimePage { starting: Some(span), limit: WALK_PAGE, after: None, ..base.clone() };
    loop {
        let got = store.live_showtimes_page(page.clone()).await?;
        let full = got.len() == page.limit;
        page.after = got.last().map(|(s, _)| ShowtimePosition::of(s));
        got.into_iter().for_each(|(s, _)| each(s));
        if !full {
            return Ok(());
        }
    }
}
