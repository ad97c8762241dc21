//! The service's state: owned, built once at start, shared by reference with every handler.
//! Nothing here is global, so tests build as many independent apps as they like.

use std::path::PathBuf;
use std::sync::Arc;

use cinema::Catalog;
use cinema::booking::Desk;
use cinema::store::Store;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::events::Hub;
use crate::metrics::Metrics;
use crate::net::client_address::TrustedProxies;
use crate::operator::OperatorToken;
use crate::rate_limit::RateLimits;

pub struct App {
    pub desk: Arc<Desk>,
    /// Shared with the mail sender's [`crate::mail::MailSite`]: one copy of a catalog that may
    /// hold 10,000 films.
    pub catalog: Arc<Catalog>,
    /// The auditorium as JSON, serialised once: every seat-map reply embeds it as is.
    pub seat_map_json: String,
    pub clock: Clock,
    pub limits: RateLimits,
    /// Whose `X-Forwarded-For` names the client the limiters count.
    pub trusted_proxies: TrustedProxies,
    /// The built site to serve, if any.
    pub site: Option<PathBuf>,
    pub cors_origins: Vec<String>,
    /// Live seats for the event streams.
    pub events: Arc<Hub>,
    /// Poked after a change that queued mail (a booking, a cancellation, a recovery), so this
    /// instance's mail sender sends it now rather than at its next poll.
    pub mail_wakeup: Arc<Notify>,
    /// The operator's token for the door and metrics routes; `None`: those routes refuse all.
    pub operator_token: Option<OperatorToken>,
    /// What `GET /metrics` serves: this app's own registry, never a global one.
    pub metrics: Arc<Metrics>,
}

impl App {
    pub fn new(
        catalog: Catalog,
        store: Arc<dyn Store>,
        clock: Clock,
        limits: RateLimits,
        trusted_proxies: TrustedProxies,
        site: Option<PathBuf>,
        cors_origins: Vec<String>,
    ) -> Arc<Self> {
        let seat_map = Arc::new(catalog.seat_map.clone());
        let seat_map_json = serde_json::to_string(&catalog.seat_map).expect("a seat map serialises");
        let desk = Arc::new(Desk::new(store, seat_map).with_hold_duration(catalog.settings.hold_duration()));
        Arc::new(App {
            events: Hub::new(desk.clone(), clock),
            desk,
            catalog: Arc::new(catalog),
            seat_map_json,
            clock,
            limits,
            trusted_proxies,
            site,
            cors_origins,
            mail_wakeup: Arc::new(Notify::new()),
            operator_token: None,
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// This app with the operator's token set: called right after [`App::new`], while nothing
    /// else holds the app.
    pub fn with_operator_token(mut self: Arc<Self>, token: Option<OperatorToken>) -> Arc<Self> {
        Arc::get_mut(&mut self).expect("the operator token is set before the app is shared").operator_token = token;
        self
    }
}
