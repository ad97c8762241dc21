//! `tiketa-ops`: the operator's command line, on the same database as the booking service.
//!
//! One file per subcommand ([`door_list`], [`bookings`], [`cancel`], [`occupancy`],
//! [`check_in`], [`backup`]), each a function from a [`Context`] and its arguments to a
//! [`Report`] (or a [`Failure`]); [`output`] prints a report as aligned text, CSV or JSON, and
//! [`exit`] gives the exit codes their meaning. The tool talks to the store only through
//! [`cinema::store::Store`], as the service and the generator do, so it works the same on
//! SQLite and PostgreSQL and never writes SQL of its own; it reads `content/` for what the
//! database does not keep (film titles, the seat map, the cinema's time zone).
//!
//! It lives in the service's package (a second binary) so that its tests can start the real
//! service on the same fixtures and compare what the tool prints with what the API says.

pub mod backup;
pub mod booking_view;
pub mod bookings;
pub mod cancel;
pub mod check_in;
pub mod cli;
pub mod dates;
pub mod door_list;
pub mod exit;
pub mod occupancy;
pub mod output;

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};
use cinema::Catalog;
use cinema::store::{Blocking, OpenMode};

pub use self::cli::{Cli, Command};
use self::dates::CinemaTime;
pub use self::exit::{Exit, Failure};
pub use self::output::{Format, Report};

/// What every subcommand works with: the store, the content and the moment it runs at.
pub struct Context {
    pub store: Blocking,
    pub catalog: Catalog,
    pub now: DateTime<Utc>,
    pub time: CinemaTime,
}

impl Context {
    /// Reads the content, then opens the database (which must exist).
    pub fn open(shared: &cli::Shared) -> Result<Self, Failure> {
        let catalog = Catalog::load(&shared.content).map_err(|e| {
            Failure::failed(format!(
                "cannot read the content: {e} (tiketa-ops reads film titles, the seat map and the time zone from it)"
            ))
        })?;
        let store = Blocking::open(&shared.db, OpenMode::Existing)?;
        let time = CinemaTime { tz: catalog.settings.time_zone };
        Ok(Context { store, catalog, now: shared.now.unwrap_or_else(Utc::now), time })
    }

    /// The cinema's date now.
    pub fn today(&self) -> NaiveDate {
        self.time.today(self.now)
    }

    /// A film's title, or its slug when the film is no longer in the content (its bookings
    /// stay in the database).
    pub fn film_title<'a>(&'a self, slug: &'a str) -> &'a str {
        self.catalog.film(slug).map_or(slug, |film| film.title.as_str())
    }
}

/// Runs one command line to its exit code: the report on stdout, a failure on stderr.
pub fn run(cli: Cli) -> ExitCode {
    let format = cli.shared.format;
    let result = Context::open(&cli.shared).and_then(|context| dispatch(&context, cli.command));
    match result {
        Ok(report) => {
            let mut stdout = std::io::stdout().lock();
            match report.write(format, &mut stdout).and_then(|()| stdout.flush()) {
                Ok(()) => report.exit.into(),
                // A reader that stopped early (`| head`) has what it wanted.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => report.exit.into(),
                Err(e) => {
                    eprintln!("tiketa-ops: cannot write the output: {e}");
                    Exit::Failed.into()
                }
            }
        }
        Err(failure) => {
            eprintln!("tiketa-ops: {failure}");
            failure.exit.into()
        }
    }
}

fn dispatch(context: &Context, command: Command) -> Result<Report, Failure> {
    match command {
        Command::DoorList { showtime } => door_list::run(context, &showtime),
        Command::Bookings { from, to, film, include_cancelled } => {
            bookings::run(context, bookings::Range { from, to }, film, include_cancelled)
        }
        Command::Cancel { reference } => cancel::run(context, reference),
        Command::Occupancy { days } => occupancy::run(context, days),
        Command::CheckIn { code, showtime } => check_in::run(context, code, showtime),
        Command::Backup { file } => backup::run(context, &file),
    }
}
