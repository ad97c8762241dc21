//! `tiketa-ops`'s command line: the flags every subcommand shares and one variant per
//! subcommand, each with the help an operator reads before using it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use cinema::ShowtimeId;
use cinema::booking::BookingReference;
use cinema::store::DatabaseUrl;
use clap::{Parser, Subcommand};

use cinema::booking::check_in::PresentedTicket;

use super::check_in::parse_ticket;
use super::dates::DateArg;
use super::output::Format;

const EXAMPLES: &str = "\
Examples:
  tiketa-ops door-list aurora-20300110-1900         tonight's 19:00 Aurora, as a list for the door
  tiketa-ops bookings --from 2030-01-03 --to today --format csv > last-week.csv
  tiketa-ops bookings --film aurora --include-cancelled --format json
  tiketa-ops cancel TK-7Q4M-2XHD                    a box-office cancellation, no token needed
  tiketa-ops occupancy --days 7                     seats sold per film and day, this week
  tiketa-ops check-in 7Q4M-2XHD-K9PA-RT3W           the code typed from a ticket
  tiketa-ops check-in 'TIKETA:TK-7Q4M-2XHD:7Q4M-2XHD-K9PA-RT3W' --showtime aurora-20300110-1900
  tiketa-ops backup /srv/backups/tiketa-$(date +%F).db
  DATABASE_URL=postgres://tiketa@db.internal/tiketa tiketa-ops door-list aurora-20300110-1900

Times are the cinema's local time (site.toml's time_zone), as on the site.

Exit codes:
  0  done (listed, exported, cancelled, checked in, backed up)
  1  failed: the database or the content could not be read, the file could not be written
  2  the command line is wrong (an unknown flag, a malformed date, reference or code)
  3  not found: no such showtime, booking reference or check-in code
  4  refused: the showtime has started, the ticket is cancelled or for another showtime
  5  already done, nothing changed: the booking was already cancelled, or the ticket already
     checked in (the time it was is printed)";

/// The operator's tools: door lists, exports, box-office cancellations, occupancy, check-in
/// and backups, on the booking service's database.
#[derive(Debug, Parser)]
#[command(
    name = "tiketa-ops",
    version,
    args_override_self = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub shared: Shared,
}

/// What every subcommand reads.
#[derive(Debug, clap::Args)]
pub struct Shared {
    /// The database the booking service uses: a SQLite file path (or sqlite:PATH), or
    /// postgres://USER@HOST:PORT/DATABASE. It must exist (`tiketa-gen roll` creates it).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true, default_value = "var/tiketa.db", value_parser = parse_database_url)]
    pub db: DatabaseUrl,

    /// The content folder, for film titles, the seat map and the cinema's time zone.
    #[arg(long, global = true, env = "TIKETA_CONTENT", default_value = "content")]
    pub content: PathBuf,

    /// Act as if it were this moment (RFC 3339), as the other binaries' --now: what "today"
    /// means, and whether a showtime has started.
    #[arg(long, global = true, env = "TIKETA_NOW", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,

    /// How to print: `text` (aligned columns, for people), `csv` (for a spreadsheet) or `json`
    /// (for scripts).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Who is coming to one showtime: its active bookings, for the door.
    ///
    /// Every active booking of the showtime, by name: reference, name, seats and whether (and
    /// when) it was checked in; above them the film, the studio and the local time.
    #[command(
        after_help = "Example:\n  tiketa-ops door-list aurora-20300110-1900\n\nShowtime ids are <film>-<YYYYMMDD>-<HHMM> in local time; the door page, the showtime column\nof `tiketa-ops bookings` and the site's booking pages (/book/<id>/) show them."
    )]
    DoorList {
        /// The showtime, such as aurora-20300110-1900.
        #[arg(value_parser = parse_showtime)]
        showtime: ShowtimeId,
    },

    /// Export the bookings of the showtimes between two days (--format csv for a spreadsheet).
    ///
    /// One row per booking of the showtimes that start between the two days: reference, film,
    /// showtime, start, seats, name, email, status (active, checked in or cancelled), when it
    /// was made, when and by whom it was cancelled, when it was checked in.
    #[command(
        after_help = "Dates are days in the cinema's time zone (site.toml's time_zone): YYYY-MM-DD, or today,\nyesterday or tomorrow. Both ends are included: --from 2030-01-03 --to 2030-01-09 is seven\nwhole days. Without them: the seven days ending today (today and the six before it).\n\nExamples:\n  tiketa-ops bookings --format csv > last-week.csv\n  tiketa-ops bookings --from 2030-01-01 --to 2030-01-31 --film aurora --include-cancelled --format csv"
    )]
    Bookings {
        /// The first day (included). Default: six days before --to.
        #[arg(long)]
        from: Option<DateArg>,
        /// The last day (included). Default: today.
        #[arg(long)]
        to: Option<DateArg>,
        /// Only this film's bookings (its slug: the file name in content/films without .md).
        #[arg(long, value_parser = parse_film)]
        film: Option<String>,
        /// Cancelled bookings too (with when and by whom).
        #[arg(long)]
        include_cancelled: bool,
    },

    /// Cancel a booking at the box office, without its manage token.
    ///
    /// Its seats are free again at once, the booker is sent the cancellation notice (if they
    /// gave an email), and the booking records that an operator cancelled it. A booking can no
    /// longer be cancelled once its showtime starts.
    #[command(
        after_help = "Example:\n  tiketa-ops cancel TK-7Q4M-2XHD\n\nExit codes: 0 cancelled, 3 no such booking, 4 its showtime has started, 5 it was already\ncancelled (by whom and when is printed)."
    )]
    Cancel {
        /// The booking's reference, such as TK-7Q4M-2XHD (any case).
        #[arg(value_parser = parse_reference)]
        reference: BookingReference,
    },

    /// Seats sold per film and day, from today on.
    ///
    /// Per film and day: showtimes, seats sold, capacity (the seat map's seats times the
    /// showtimes), fill rate, and wheelchair spaces sold out of those there are.
    #[command(
        after_help = "Example:\n  tiketa-ops occupancy --days 7 --format csv > week.csv\n\nCounts active bookings (cancelled ones free their seats); showtimes that already started\ntoday are counted too."
    )]
    Occupancy {
        /// How many days, today included. Default: the schedule's horizon (site.toml's
        /// horizon_days).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: Option<u32>,
    },

    /// Check a ticket in at the door, by its check-in code or its QR code's text.
    ///
    /// The check-in code typed from the ticket, or the text its QR code holds
    /// (TIKETA:<reference>:<code>). A second check-in of one ticket is refused with the time
    /// of the first.
    #[command(
        after_help = "Examples:\n  tiketa-ops check-in 7Q4M-2XHD-K9PA-RT3W\n  tiketa-ops check-in 7q4m2xhdk9part3w --showtime aurora-20300110-1900\n  tiketa-ops check-in 'TIKETA:TK-7Q4M-2XHD:7Q4M-2XHD-K9PA-RT3W'\n\nExit codes: 0 checked in, 3 no ticket has this code, 4 refused (the booking was cancelled,\nor the ticket is for another showtime than --showtime), 5 already checked in."
    )]
    CheckIn {
        /// The check-in code (any case, dashes and spaces optional) or the QR code's text.
        #[arg(value_parser = parse_ticket)]
        code: PresentedTicket,
        /// The showtime the door is letting in: a ticket for any other showtime is refused.
        #[arg(long, value_parser = parse_showtime)]
        showtime: Option<ShowtimeId>,
    },

    /// Copy the SQLite database to a new file while the service runs (PostgreSQL: pg_dump).
    ///
    /// SQLite's online backup: bookings go on being taken, and the copy holds every booking
    /// made before it began. For PostgreSQL, use pg_dump.
    #[command(
        after_help = "Example:\n  tiketa-ops backup /srv/backups/tiketa-$(date +%F).db\n\nThe copy is a SQLite database like the original: restore it by stopping the service and\nputting the copy in the original's place. An existing file is never overwritten."
    )]
    Backup {
        /// The new file to write.
        file: PathBuf,
    },
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected an RFC 3339 time such as 2030-01-10T19:00:00+07:00"))
}

fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    text.parse().map_err(|e: cinema::store::database_url::UnknownDatabase| e.to_string())
}

fn parse_showtime(text: &str) -> Result<ShowtimeId, String> {
    let text = text.trim();
    if text.is_empty() || !ShowtimeId::is_well_formed(text) {
        return Err(format!(
            "{text:?} is not a showtime id; expected <film>-<YYYYMMDD>-<HHMM> such as aurora-20300110-1900 (`tiketa-ops occupancy` lists the films and days)"
        ));
    }
    Ok(ShowtimeId(text.to_string()))
}

fn parse_reference(text: &str) -> Result<BookingReference, String> {
    BookingReference::parse(text).ok_or_else(|| {
        format!("{text:?} is not a booking reference; expected TK- and eight letters or digits, such as TK-7Q4M-2XHD")
    })
}

fn parse_film(text: &str) -> Result<String, String> {
    let slug = text.trim();
    if cinema::film::is_slug(slug) {
        Ok(slug.to_string())
    } else {
        Err(format!(
            "{text:?} is not a film slug; expected the film's file name in content/films without .md, such as aurora"
        ))
    }
}
