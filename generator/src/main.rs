//! `tiketa-gen`: rolls the Time Gallery's schedule forward and builds its static site.
//!
//! The binary is a thin edge: it reads flags (then environment variables, then `.env`), calls
//! the build pipeline, and turns errors into a message and an exit code.

mod build;
mod error;
mod identity;
mod output;
mod render;
mod serve;
mod synth;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use cinema::store::DatabaseUrl;
use clap::{Parser, Subcommand};

use crate::build::BuildOptions;

#[derive(Debug, Parser)]
#[command(
    name = "tiketa-gen",
    version,
    about = "Rolls the Time Gallery's schedule forward and builds its static site.",
    after_help = "Examples:\n  tiketa-gen roll                  archive started showtimes, add the new ones, rebuild dist/\n  tiketa-gen build --out /tmp/site build from the schedule as it is\n  tiketa-gen watch                 rebuild on every edit under content/ or the theme\n  tiketa-gen roll --now 2026-11-24T08:00:00+07:00   as if it were that moment\n  tiketa-gen roll --base-url http://127.0.0.1:9090  links name the port the site is served on"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    paths: Paths,
}

#[derive(Debug, clap::Args)]
struct Paths {
    /// The content folder: site.toml, auditorium.txt, films/*.md.
    #[arg(long, global = true, env = "TIKETA_CONTENT", default_value = "content")]
    content: PathBuf,
    /// The theme folder: templates/ and assets/.
    #[arg(long, global = true, env = "TIKETA_THEME", default_value = "themes/time-gallery")]
    theme: PathBuf,
    /// Where the site is written.
    #[arg(long, global = true, env = "TIKETA_OUT", default_value = "dist")]
    out: PathBuf,
    /// The database holding the schedule, shared with the booking service: a SQLite file path
    /// (or sqlite:PATH), or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "var/tiketa.db", value_parser = parse_database_url)]
    db: DatabaseUrl,
    /// Where the site is served, overriding site.toml's `base_url`: canonical links, the
    /// sitemap and JSON-LD name it (an absolute http(s) URL without query or fragment).
    #[arg(long, global = true, env = "TIKETA_BASE_URL", value_parser = parse_base_url)]
    base_url: Option<String>,
    /// Build as if it were this moment (RFC 3339), for reproducible builds and tests.
    #[arg(long, global = true, env = "TIKETA_NOW", value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the site from the schedule as the database holds it.
    Build,
    /// Archive started showtimes, create the horizon's missing ones, then build the site.
    /// This is the operator's scheduled job; running it twice changes nothing the second time.
    Roll,
    /// Roll and build, then rebuild whenever content or the theme changes.
    Watch,
    /// Watch, and serve the site locally with live reload: an edit shows in the open browser.
    Serve {
        /// Where to listen.
        #[arg(long, env = "TIKETA_SERVE_LISTEN", default_value = "127.0.0.1:8000")]
        listen: std::net::SocketAddr,
    },
    /// Write a synthetic catalog of N films (for benchmarks) into a new content folder.
    SynthContent {
        /// How many films.
        #[arg(long)]
        films: u32,
        /// The content folder to create.
        #[arg(long = "into")]
        into: PathBuf,
    },
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected an RFC 3339 time such as 2026-11-24T08:00:00+07:00"))
}

fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    text.parse().map_err(|e: cinema::store::database_url::UnknownDatabase| e.to_string())
}

fn parse_base_url(text: &str) -> Result<String, String> {
    cinema::site_url::check(text)
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    if std::env::var_os("TIKETA_DB").is_some() && std::env::var_os("DATABASE_URL").is_none() {
        // Renamed: silently building from the default database would publish the wrong schedule.
        eprintln!("error: TIKETA_DB is no longer read; set DATABASE_URL instead (one setting for every Tiketa binary)");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    let fixed_now = cli.paths.now.is_some();
    let opts = BuildOptions {
        content: cli.paths.content,
        theme: cli.paths.theme,
        out: cli.paths.out,
        db: cli.paths.db,
        now: cli.paths.now.unwrap_or_else(Utc::now),
        base_url: cli.paths.base_url,
    };
    let result = match cli.command {
        Command::Build | Command::Roll => {
            let roll = matches!(cli.command, Command::Roll);
            build::run(&opts, roll).map(|report| {
                // A roll lists them one by one (see `BuildReport::line`); a build only counts them.
                if report.orphaned_showtimes > 0 && report.roll.is_none() {
                    eprintln!(
                        "warning: {} live showtimes belong to films no longer in {}; their pages are not built (their bookings stay honoured; `tiketa-gen roll` retires the ones without bookings and lists the others)",
                        report.orphaned_showtimes,
                        opts.content.display()
                    );
                }
                println!("{}", report.line());
            })
            .map_err(anyhow::Error::from)
        }
        Command::Watch => watch::run(opts, fixed_now, || {}),
        Command::Serve { listen } => serve::run(opts, fixed_now, listen),
        Command::SynthContent { films, into } => synth::write(&opts.content, &into, films),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
