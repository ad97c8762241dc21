//! [`ShowtimePage`] on SQLite: one query that reads only the page's rows, then each one's
//! count of taken seats (at most `limit` lookups in the seats' unique index).
//!
//! A film's showtimes are found by their id's prefix: a showtime's id is its film's slug, a
//! dash, then its local date and slot (`akira-20261124-1800`, see [`ShowtimeId::new`]), so
//! they sit together in the primary key's index between `slug-` and `slug.` (`.` is the byte
//! after `-`). The `film_slug` test stays too, for a film whose slug extends another's.

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::schedule::{COLUMNS, first_whole_second, showtime_from_row};
use crate::schedule::Showtime;
use crate::store::showtime_page::ShowtimePage;

/// The page's showtimes, by start time then id, each with its number of taken seats.
pub(crate) fn live_showtimes_page(conn: &Connection, page: &ShowtimePage) -> rusqlite::Result<Vec<(Showtime, usize)>> {
    let (sql, values) = query(page);
    let showtimes: Vec<Showtime> =
        conn.prepare_cached(&sql)?.query_map(params_from_iter(values), showtime_from_row)?.collect::<Result<_, _>>()?;
    let mut count = conn.prepare_cached("SELECT COUNT(*) FROM booking_seats WHERE showtime_id = ?1 AND active = 1")?;
    showtimes
        .into_iter()
        .map(|s| {
            let taken: i64 = count.query_row(params![s.id.as_str()], |r| r.get(0))?;
            Ok((s, taken as usize))
        })
        .collect()
}

/// The statement and its values. Its shape depends only on which filters are set, so the
/// statement cache holds a few of them at most.
fn query(page: &ShowtimePage) -> (String, Vec<Value>) {
    // With a film, the unary `+` keeps SQLite's planner off the `(archived, starts_at)` index,
    // which would walk every live showtime, and on the primary key's range of the film's ids.
    let live = if page.film.is_some() { "+archived = 0 AND +starts_at > ?" } else { "archived = 0 AND starts_at > ?" };
    // Started and archived ones too: no test of liveness, and `now` is not bound.
    let (live, mut values) =
        if page.started_too { ("1", vec![]) } else { (live, vec![Value::Integer(page.now.timestamp())]) };
    let mut sql = format!("SELECT {COLUMNS} FROM showtimes WHERE {live}");
    if let Some(film) = &page.film {
        sql.push_str(" AND film_slug = ? AND id >= ? AND id < ?");
        values.extend([Value::Text(film.clone()), Value::Text(format!("{film}-")), Value::Text(format!("{film}."))]);
    }
    if let Some((from, to)) = page.starting {
        sql.push_str(if page.film.is_some() {
            " AND +starts_at >= ? AND +starts_at < ?"
        } else {
            " AND starts_at >= ? AND starts_at < ?"
        });
        values.extend([Value::Integer(first_whole_second(from)), Value::Integer(first_whole_second(to))]);
    }
    if let Some(after) = &page.after {
        sql.push_str(" AND (starts_at > ? OR (starts_at = ? AND id > ?))");
        let at = after.starts_at.timestamp();
        values.extend([Value::Integer(at), Value::Integer(at), Value::Text(after.id.as_str().to_string())]);
    }
    sql.push_str(" ORDER BY starts_at, id LIMIT ?");
    values.push(Value::Integer(i64::try_from(page.limit).unwrap_or(i64::MAX)));
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// The plan SQLite picks for `page`, one line per step.
    fn plan(conn: &Connection, page: &ShowtimePage) -> String {
        let (sql, values) = query(page);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map(params_from_iter(values), |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<Result<Vec<_>, _>>().unwrap().join("\n")
    }

    /// A film's page is read from its ids' range in the primary key, not by walking every live
    /// showtime in start order (165,000 rows at 10,000 films).
    #[test]
    fn a_films_page_reads_its_ids_range_and_the_whole_list_reads_in_start_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let now = "2030-01-10T00:00:00Z".parse().unwrap();
        let all = ShowtimePage { now, film: None, starting: None, after: None, limit: 10, started_too: false };
        let film = ShowtimePage { film: Some("akira".into()), ..all.clone() };
        assert!(
            plan(&conn, &film).contains("USING INDEX sqlite_autoindex_showtimes_1 (id>? AND id<?)"),
            "{}",
            plan(&conn, &film)
        );
        assert!(plan(&conn, &all).contains("USING INDEX showtimes_live"), "{}", plan(&conn, &all));
    }
}
