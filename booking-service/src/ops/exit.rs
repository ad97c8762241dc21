//! How a subcommand ends: an exit code that means something to a script, and a failure that
//! says what to do next.

use std::process::ExitCode;

use cinema::store::StoreError;

/// The exit codes, as `tiketa-ops --help` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done as asked.
    Done,
    /// The database, the content or a file failed.
    Failed,
    /// The command line is wrong (clap's own code for its errors too).
    Usage,
    /// No such showtime, booking or ticket.
    NotFound,
    /// Refused: nothing changed, and it cannot be done.
    Refused,
    /// It had been done before: nothing changed.
    AlreadyDone,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::NotFound => 3,
            Exit::Refused => 4,
            Exit::AlreadyDone => 5,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// A subcommand that could not give its answer: the message (for stderr) and the exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure { exit, message: message.into() }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Exit::Failed, message)
    }
}

impl From<StoreError> for Failure {
    /// The store's own words: they already say what to do (run a roll, start the database,
    /// use pg_dump).
    fn from(error: StoreError) -> Self {
        Failure::failed(error.to_string())
    }
}
