//! Helpers for Tiketa's process tests, kept out of the product crates (a dev-dependency only).
//!
//! [`Client`] is a small blocking HTTP client over `ureq` for tests that drive the real
//! binaries from real threads: every status is a reply (never an error), and each client keeps
//! at most one keep-alive connection, so a test that sends a first request and then waits on a
//! barrier has its connection open before the race starts. [`postgres::fresh_database`] gives a
//! PostgreSQL test a database of its own. [`EventStream`] reads a Server-Sent Events stream.
//! [`smtp::SmtpSink`] is a real SMTP server on loopback that saves what it receives.

mod client;
mod events;
pub mod postgres;
pub mod smtp;

pub use client::{Client, Reply};
pub use events::{Event, EventStream, Next};
