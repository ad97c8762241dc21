//! [`ShowtimePage`] on PostgreSQL: one query for the page's rows and their counts of taken
//! seats, the counts from the unique index over active seats.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::schedule::{COLUMNS, showtime_from_row};
use crate::schedule::Showtime;
use crate::store::showtime_page::ShowtimePage;

/// The page's showtimes, by start time then id, each with its number of taken seats.
pub(super) async fn live_showtimes_page(
    client: &impl GenericClient,
    page: &ShowtimePage,
) -> Result<Vec<(Showtime, usize)>, tokio_postgres::Error> {
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    let (from, to) = page.starting.unzip();
    let (after_at, after_id) = page.after.as_ref().map(|p| (p.starts_at, p.id.as_str())).unzip();
    // Two statements for every combination: a filter left out is a NULL parameter (or, for
    // liveness, `started_too` true), but a film's page has a statement of its own, whose plan
    // (custom or generic) walks the film's rows in the `showtimes_film` index rather than
    // every live showtime: `$2 IS NULL OR film_slug = $2` would keep a generic plan off it.
    // `id COLLATE "C"` orders ids byte by byte, as the position compares them, whatever the
    // database's collation.
    let film = if page.film.is_some() { "film_slug = $2" } else { "$2::text IS NULL" };
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS},
                    (SELECT count(*) FROM booking_seats b WHERE b.showtime_id = showtimes.id AND b.active)
             FROM showtimes
             WHERE ($8 OR (NOT archived AND starts_at > $1))
               AND {film}
               AND ($3::timestamptz IS NULL OR (starts_at >= $3 AND starts_at < $4))
               AND ($5::timestamptz IS NULL OR starts_at > $5
                    OR (starts_at = $5 AND id COLLATE \"C\" > $6::text COLLATE \"C\"))
             ORDER BY starts_at, id COLLATE \"C\"
             LIMIT $7"
        ))
        .await?;
    let params: [&(dyn ToSql + Sync); 8] =
        [&page.now, &page.film, &from, &to, &after_at, &after_id, &limit, &page.started_too];
    let rows = client.query(&stmt, &params).await?;
    rows.iter().map(|r| Ok((showtime_from_row(r, 0)?, usize::try_from(r.try_get::<_, i64>(8)?).unwrap_or(0)))).collect()
}
