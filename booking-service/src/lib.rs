//! tiketa-booking: the booking service behind the static pages.
//!
//! The service is a thin web layer over [`cinema::booking::Desk`]: it parses requests, calls the
//! desk and turns answers into JSON replies. The files read like its table of contents:
//! [`routes`] combines the filters of [`api`] (one file per route), [`site`] and the
//! cross-cutting pieces ([`cors`], [`security`], [`rate_limit`], [`guard`], [`recover`],
//! [`head`], [`compress`] with [`encoding`], [`vary`]); [`events`] keeps the live seats that
//! the event streams send; [`mail`] delivers the outbox (confirmations, cancellation notices,
//! recovery links); [`server`] binds, accepts, serves and shuts down, within the bounds of
//! [`net`], recording each request in the [`access_log`] and the [`metrics`] that
//! `GET /metrics` serves to the [`operator`]; [`config`] is the command line.

pub mod access_log;
pub mod api;
pub mod api_error;
pub mod app;
pub mod clock;
pub mod compress;
pub mod config;
pub mod cors;
pub mod door;
pub mod encoding;
pub mod events;
pub mod guard;
pub mod head;
pub mod mail;
pub mod metrics;
pub mod net;
pub mod operator;
pub mod ops;
pub mod rate_limit;
pub mod recover;
pub mod routes;
pub mod security;
pub mod server;
pub mod site;
pub mod ticket;
pub mod vary;

pub use app::App;
pub use config::Config;
