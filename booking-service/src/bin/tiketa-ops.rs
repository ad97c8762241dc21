//! `tiketa-ops`: the operator's command line (see `booking_service::ops`); this is only the
//! process's edge.

use std::process::ExitCode;

use booking_service::ops::{self, Cli};
use clap::Parser;

fn main() -> ExitCode {
    // `.env` first, so real environment variables (and then flags) win over it.
    let _ = dotenvy::dotenv();
    ops::run(Cli::parse())
}
