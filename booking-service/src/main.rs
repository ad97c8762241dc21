//! `tiketa-booking`: see the library crate for the design; this is only the process's edge.

use std::io::IsTerminal;
use std::process::ExitCode;

use booking_service::config::LogFormat;
use booking_service::{Config, server};
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // `.env` first, so real environment variables (and then flags) win over it.
    let _ = dotenvy::dotenv();
    let config = Config::parse();
    start_logging(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tiketa-booking: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tiketa-booking: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The log on stderr, as `--log-format` says, at the levels `RUST_LOG` names (default `info`).
fn start_logging(format: LogFormat) {
    let log = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    match format {
        // Colours only on a terminal: in a log file they are noise.
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        // One object per line, each event's fields at its top level beside `timestamp`,
        // `level`, `target` and `message`.
        LogFormat::Json => {
            log.json().flatten_event(true).with_current_span(false).with_span_list(false).with_ansi(false).init()
        }
    }
}
