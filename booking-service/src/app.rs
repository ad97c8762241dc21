//! The service's state: owned, built once at start, shared by reference with every handler.
//! Nothing here is global, so tests build as many independent apps as they like.

use std::path::PathBuf;
use std::sync::Arc;

use cinema::Catalog;
use cinema::booking::Desk;
use cinema::store::sqlite::SqliteBookingStore;
use tokio::sync::Semaphore;

use crate::clock::Clock;
use crate::rate_limit::RateLimiter;

/// How many blocking database reads run at once: enough to keep two cores busy while some
/// wait on the disk, few enough that the read pool stays small.
pub const READ_CONCURRENCY: usize = 8;

pub struct App {
    pub desk: Desk<SqliteBookingStore>,
    pub catalog: Catalog,
    /// The auditorium as JSON, serialised once: every seat-map reply embeds it as is.
    pub seat_map_json: String,
    pub clock: Clock,
    pub post_limiter: RateLimiter,
    pub reads: Semaphore,
    /// The built site to serve, if any.
    pub site: Option<PathBuf>,
    pub cors_origins: Vec<String>,
}

impl App {
    pub fn new(
        catalog: Catalog,
        store: SqliteBookingStore,
        clock: Clock,
        post_limiter: RateLimiter,
        site: Option<PathBuf>,
        cors_origins: Vec<String>,
    ) -> Arc<Self> {
        let seat_map = Arc::new(catalog.seat_map.clone());
        let seat_map_json = serde_json::to_string(&catalog.seat_map).expect("a seat map serialises");
        Arc::new(App {
            desk: Desk::new(store, seat_map),
            catalog,
            seat_map_json,
            clock,
            post_limiter,
            reads: Semaphore::new(READ_CONCURRENCY),
            site,
            cors_origins,
        })
    }

    /// Stops taking bookings and waits for the queued ones to be committed.
    pub fn close(&self) {
        self.desk.store().close();
    }
}
