//! Seat holds in SQLite: the `seat_holds` table, read and written inside the booking writer's
//! transaction (see [`super::bookings_writer`]), so holds and bookings serialise with each other
//! and a seat is never both newly held and newly booked by two commands.
//!
//! One row per held seat: the showtime and seat (the primary key, so a seat has at most one
//! row), the hash of the token that holds it, when the hold ends and when the seat was held,
//! both in milliseconds since the epoch. A row whose expiry has passed holds nothing: every query
//! here that decides counts only rows with `expires_at > now`, so no sweeper is needed. Ended
//! rows are deleted opportunistically when a hold writes to their showtime, which also clears
//! the way for the new rows (the primary key would refuse them otherwise).
//!
//! Every function that writes returns what it changed as [`HoldChange`]s, for the writer to
//! apply to the seat index after its commit and to log for other processes.

use rusqlite::{Connection, params, params_from_iter};

use super::bookings_writer::is_unique_violation;
use crate::booking::decide::{self, HoldDecision, HoldFacts};
use crate::booking::hold::{Hold, HoldOutcome, NewHold, ReleaseHold};
use crate::booking::{HeldSeat, TokenHash};
use crate::schedule::ShowtimeId;
use crate::store::seat_cache::HoldChange;

/// Adds seats to a token's hold as [`decide::hold`] decides. Writes nothing unless it answers
/// [`HoldOutcome::Held`] with seats added.
pub(crate) fn hold(conn: &Connection, new: &NewHold) -> rusqlite::Result<(HoldOutcome, Vec<HoldChange>)> {
    let now = new.now.timestamp_millis();
    let showtime = super::schedule::showtime(conn, &new.showtime)?;
    let (taken, others, own) = match &showtime {
        Some(_) => (
            super::bookings_writer::taken_among(conn, &new.showtime, &new.seats)?,
            held_among(conn, &new.showtime, &new.seats, Some(&new.token_hash), now)?,
            own_hold(conn, &new.showtime, &new.token_hash, now)?,
        ),
        None => Default::default(),
    };
    let facts = HoldFacts {
        showtime: showtime.as_ref(),
        requested: &new.seats,
        taken: &taken,
        held_by_others: &others,
        own: &own.seats,
        own_expires_at: own.expires_at,
        now: new.now,
    };
    let (seats, expires_at) = match decide::hold(facts, new) {
        HoldDecision::Refuse(outcome) => return Ok((outcome, Vec::new())),
        // A look at the hold: nothing to write.
        HoldDecision::Insert { seats, .. } if seats.is_empty() => return Ok((HoldOutcome::Held(own), Vec::new())),
        HoldDecision::Insert { seats, expires_at } => (seats, expires_at),
    };
    let mut changes = delete_ended(conn, &new.showtime, now)?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO seat_holds (showtime_id, seat, token_hash, expires_at, held_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for seat in &seats {
        match insert.execute(params![
            new.showtime.as_str(),
            seat,
            &new.token_hash.0[..],
            expires_at.timestamp_millis(),
            now
        ]) {
            Ok(_) => {}
            // The facts above make this unreachable; the key is the last line of defence.
            Err(e) if is_unique_violation(&e) => return Ok((HoldOutcome::SeatsHeld(vec![seat.clone()]), Vec::new())),
            Err(e) => return Err(e),
        }
        changes.push((new.showtime.0.clone(), seat.clone(), Some(millis(expires_at.timestamp_millis())?)));
    }
    Ok((HoldOutcome::Held(own_hold(conn, &new.showtime, &new.token_hash, now)?), changes))
}

/// Gives back seats of a token's hold (all of them for `seats: None`); answers what it still
/// holds. Seats it does not hold are ignored, so a retried release answers alike.
pub(crate) fn release(conn: &Connection, release: &ReleaseHold) -> rusqlite::Result<(HoldOutcome, Vec<HoldChange>)> {
    let showtime = super::schedule::showtime(conn, &release.showtime)?;
    if let Err(refused) = decide::release(showtime.as_ref()) {
        return Ok((refused, Vec::new()));
    }
    let deleted: Vec<String> = match &release.seats {
        None => end_hold(conn, &release.showtime, &release.token_hash)?,
        Some(seats) if seats.is_empty() => Vec::new(),
        Some(seats) => {
            let marks = vec!["?"; seats.len()].join(", ");
            let sql = format!(
                "DELETE FROM seat_holds WHERE showtime_id = ? AND token_hash = ? AND seat IN ({marks}) RETURNING seat"
            );
            let mut delete = conn.prepare_cached(&sql)?;
            let head: [&dyn rusqlite::ToSql; 2] = [&release.showtime.as_str(), &&release.token_hash.0[..]];
            let tail = seats.iter().map(|s| s as &dyn rusqlite::ToSql);
            delete.query_map(params_from_iter(head.into_iter().chain(tail)), |r| r.get(0))?.collect::<Result<_, _>>()?
        }
    };
    let changes = deleted.into_iter().map(|seat| (release.showtime.0.clone(), seat, None)).collect();
    let hold = own_hold(conn, &release.showtime, &release.token_hash, release.now.timestamp_millis())?;
    Ok((HoldOutcome::Held(hold), changes))
}

/// Deletes every row of `token`'s hold on `showtime`, ended or not: what a booking with the
/// token does. Returns the seats.
pub(crate) fn end_hold(conn: &Connection, showtime: &ShowtimeId, token: &TokenHash) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("DELETE FROM seat_holds WHERE showtime_id = ?1 AND token_hash = ?2 RETURNING seat")?
        .query_map(params![showtime.as_str(), &token.0[..]], |r| r.get(0))?
        .collect()
}

/// The `seats` under a live hold at `now` of any token but `except` (of any token at all for
/// `None`), in request order.
pub(crate) fn held_among(
    conn: &Connection,
    showtime: &ShowtimeId,
    seats: &[String],
    except: Option<&TokenHash>,
    now: i64,
) -> rusqlite::Result<Vec<String>> {
    if seats.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; seats.len()].join(", ");
    // A token hash no token has: every hold is another's.
    let except = except.map_or(&[][..], |t| &t.0[..]);
    let sql = format!(
        "SELECT seat FROM seat_holds
         WHERE showtime_id = ? AND expires_at > ? AND token_hash != ? AND seat IN ({marks})"
    );
    let head: [&dyn rusqlite::ToSql; 3] = [&showtime.as_str(), &now, &except];
    let tail = seats.iter().map(|s| s as &dyn rusqlite::ToSql);
    let held: std::collections::HashSet<String> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(head.into_iter().chain(tail)), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(seats.iter().filter(|s| held.contains(*s)).cloned().collect())
}

/// A token's live hold on a showtime at `now`: its seats in the order held (ties by seat id).
fn own_hold(conn: &Connection, showtime: &ShowtimeId, token: &TokenHash, now: i64) -> rusqlite::Result<Hold> {
    let rows: Vec<(String, i64)> = conn
        .prepare_cached(
            "SELECT seat, expires_at FROM seat_holds
             WHERE showtime_id = ?1 AND token_hash = ?2 AND expires_at > ?3 ORDER BY held_at, seat",
        )?
        .query_map(params![showtime.as_str(), &token.0[..], now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // One expiry per hold; the earliest, should rows ever disagree, so no seat outlives its hold.
    let expires_at = rows.iter().map(|(_, at)| *at).min().map(millis).transpose()?;
    Ok(Hold { seats: rows.into_iter().map(|(seat, _)| seat).collect(), expires_at })
}

/// Deletes the showtime's holds that ended by `now`; returns them as changes.
fn delete_ended(conn: &Connection, showtime: &ShowtimeId, now: i64) -> rusqlite::Result<Vec<HoldChange>> {
    conn.prepare_cached("DELETE FROM seat_holds WHERE showtime_id = ?1 AND expires_at <= ?2 RETURNING seat")?
        .query_map(params![showtime.as_str(), now], |r| Ok((showtime.0.clone(), r.get(0)?, None)))?
        .collect()
}

/// Every hold row of a showtime, ended or not, by seat id: readers drop ended ones at their
/// own clock.
pub(crate) fn held_seats(conn: &Connection, showtime: &ShowtimeId) -> rusqlite::Result<Vec<HeldSeat>> {
    conn.prepare_cached("SELECT seat, expires_at FROM seat_holds WHERE showtime_id = ?1 ORDER BY seat")?
        .query_map([showtime.as_str()], |r| Ok(HeldSeat { seat: r.get(0)?, expires_at: millis(r.get(1)?)? }))?
        .collect()
}

use super::bookings_read::timestamp_millis as millis;
