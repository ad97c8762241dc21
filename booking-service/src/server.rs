//! Start, serve, stop.
//!
//! The accept loop is the service's own (hyper serving warp's filter), so that every connection
//! is bounded: see [`crate::net`] for the caps and timeouts. Accepted sockets get `TCP_NODELAY`:
//! a reply's head and body leave in separate writes, and without it the body waits for the
//! client's delayed ACK (about 40 ms per file on a reused connection).
//!
//! Shutdown is a first-class path: on SIGINT or SIGTERM the listener closes (no new
//! connections), connections that wait on their client close (see
//! [`crate::net::activity::stalled`]), requests in flight finish (up to [`DRAIN`]), the mail
//! sender finishes the message in hand (its other claims run out and are sent later), then the
//! booking store's writer commits whatever was queued and closes the database. Only then does
//! the process exit.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cinema::Catalog;
use cinema::store::{OpenMode, StoreError};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::access_log::AccessLog;
use crate::clock::Clock;
use crate::config::{Config, MailRoute};
use crate::mail::MailSite;
use crate::mail::message::default_from;
use crate::mail::sender::{Sender, SenderSettings};
use crate::mail::transport::Transport;
use crate::net::activity::{Activity, Watched, stalled};
use crate::net::limits::{Admission, ConnectionLimits, Refusal};
use crate::net::service::{ConnectionService, Warp};
use crate::net::{ConnectionSettings, file_limit};
use crate::rate_limit::{RateLimiter, RateLimits, RecoveryLimits};
use crate::routes::routes;
use crate::{App, cors};

/// How long in-flight requests get to finish after a shutdown signal.
pub const DRAIN: Duration = Duration::from_secs(10);

/// The first pause after a failed `accept`; it doubles up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_millis(500);
/// How long the accept loop waits for an evicted connection to close.
const SETTLE: Duration = Duration::from_millis(100);

/// Builds the app from the configuration: loads the content, opens the database.
pub async fn build_app(config: &Config, listen: SocketAddr) -> anyhow::Result<Arc<App>> {
    // The service never shows a film's lore (its pages are the generator's; mail names a
    // film by its title), and at 10,000 films it weighed 3.4 MB (issue 13).
    let mut catalog = Catalog::load_without_lore(&config.content)?;
    if let Some(base_url) = &config.base_url {
        catalog.settings.base_url = base_url.trim_end_matches('/').to_string();
    }
    // The service never creates a database: a mistyped path must not serve an empty schedule.
    let store = cinema::store::open(&config.db, OpenMode::Existing).await.map_err(|e| match e {
        StoreError::Missing { .. } | StoreError::NotTiketa { .. } => {
            anyhow::anyhow!("{e} (check --db / DATABASE_URL)")
        }
        other => other.into(),
    })?;
    let origins = cors::origins(&config.cors_origins, &catalog.settings.base_url, listen, config.site.is_some());
    if let Some(site) = &config.site
        && !site.is_dir()
    {
        anyhow::bail!("--site {}: is not a folder; build the site first (tiketa-gen build)", site.display());
    }
    let app = App::new(
        catalog,
        store,
        config.now.map_or(Clock::System, Clock::Fixed),
        RateLimits {
            bookings: RateLimiter::new(config.post_limit, config.post_burst),
            holds: RateLimiter::new(config.hold_limit, config.hold_burst),
            recovery: RecoveryLimits::new(
                config.recover_limit,
                config.recover_burst,
                config.recover_address_limit,
                config.recover_address_burst,
            ),
        },
        config.trusted_proxies(),
        config.site.clone(),
        origins,
    )
    .with_operator_token(config.operator_token.clone());
    // The store's commits feed this app's metrics (batch sizes, commit latency).
    app.desk.store().observe_commits(Arc::new(app.metrics.commits()));
    Ok(app)
}

/// Starts the mail sender of `app`, as the configuration says, until `stop` is cancelled.
pub fn start_mail(config: &Config, app: &App, stop: CancellationToken) -> anyhow::Result<Sender> {
    let route = config.mail_route().map_err(anyhow::Error::msg)?;
    let site = MailSite::new(app.catalog.clone(), &app.catalog.settings.base_url);
    let (transport, from) = match route {
        MailRoute::Smtp(url) => {
            let from = config.mail_from.clone().context("--smtp-url needs --mail-from")?;
            (Transport::smtp(url, config.smtp_timeout), from)
        }
        MailRoute::Files(dir) => {
            let transport = Transport::files(dir.clone()).with_context(|| {
                format!(
                    "cannot create the mail folder {}; create it, or choose another with --outbox-dir",
                    dir.display()
                )
            })?;
            (transport, config.mail_from.clone().unwrap_or_else(|| default_from(&site)))
        }
    };
    let settings = SenderSettings {
        transport,
        site,
        from,
        lease: config.mail_lease,
        send_timeout: config.smtp_timeout,
        first_retry: config.mail_retry,
        clock: app.clock,
    };
    Ok(Sender::spawn(app.desk.store().clone(), settings, app.mail_wakeup.clone(), stop))
}

/// Runs the service until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listen = config.listen_addr().map_err(anyhow::Error::msg)?;
    // A mail setting that cannot work stops the start before the database is touched.
    config.mail_route().map_err(anyhow::Error::msg)?;
    let files = match file_limit::raise() {
        Ok(limit) => limit.now,
        Err(e) => {
            tracing::warn!("cannot read the open-file limit ({e}); assuming 1024");
            1024
        }
    };
    let settings = config.connection_settings(files);
    let app = build_app(&config, listen).await?;
    let filter = routes(app.clone()).map_err(anyhow::Error::msg)?;
    let stop_mail = CancellationToken::new();
    let mail = start_mail(&config, &app, stop_mail.clone())?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; is another program using the port? (--listen)"))?;
    let local = listener.local_addr()?;
    println!("tiketa-booking listening on http://{local}");
    tracing::info!(store = %app.desk.store().describe(), origins = ?app.cors_origins, "serving");
    if app.operator_token.is_some() {
        tracing::info!(
            "operator routes on: the door page at http://{local}/door/ and GET /metrics take the operator token"
        );
    } else {
        tracing::info!(
            "operator routes off (the door page and /metrics answer 401): set TIKETA_OPERATOR_TOKEN to open them"
        );
    }
    tracing::info!(
        open_files = files,
        max_connections = settings.max_connections,
        per_client = settings.max_per_client,
        header_timeout = ?settings.header_timeout,
        idle_timeout = ?settings.idle_timeout,
        "connection limits"
    );
    if settings.max_connections < config.max_connections {
        tracing::info!(
            "{files} open files hold {} connections, fewer than --max-connections {}; raise the hard limit (LimitNOFILE= in a systemd unit) for more",
            settings.max_connections,
            config.max_connections
        );
    }
    let events = app.events.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Open event streams end now: graceful shutdown must not wait for them, and their
        // pages reconnect (to another instance, if this one was behind a load balancer).
        tracing::info!(streams = events.streams(), "ending the open event streams");
        events.stop();
        stop_mail.cancel();
    };
    serve(filter, AccessLog::of(&app), listener, settings, shutdown).await;
    // Its last send is recorded before the store closes.
    mail.join().await;
    // The store commits what was queued and answers it before the database is released.
    if let Err(e) = app.desk.store().close().await {
        tracing::error!("closing the database: {e}");
    }
    println!("tiketa-booking stopped");
    Ok(())
}

/// Serves `filter` on `listener` until `shutdown` completes, then drains; every request is
/// recorded in `log`.
pub async fn serve(
    filter: BoxedFilter<(Response,)>,
    log: AccessLog,
    listener: TcpListener,
    settings: ConnectionSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let limits = ConnectionLimits::new(settings.max_connections, settings.max_per_client);
    let graceful = GracefulShutdown::new();
    let (stopping, stopping_seen) = watch::channel(false);
    let shared = Shared { service: warp::service(filter), log, settings, stopping: stopping_seen };
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, client) = match accepted {
            Ok(pair) => {
                backoff = ACCEPT_BACKOFF_MIN;
                pair
            }
            Err(e) if is_client_gone(&e) => continue,
            Err(e) => {
                // Out of files or memory: wait for some to be freed rather than spin. The
                // connection stays in the kernel's queue meanwhile.
                if backoff == ACCEPT_BACKOFF_MIN {
                    tracing::warn!("cannot accept a connection: {e}; retrying shortly");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let activity = Activity::new();
        let admission = match limits.admit(client.ip(), &activity) {
            Ok(admission) => admission,
            Err(refusal) => {
                let why = match refusal {
                    Refusal::Full => "the service is full and every connection is busy",
                    Refusal::ClientFull => "the client holds its share (--max-connections-per-client)",
                };
                tracing::debug!(%client, "connection closed at once: {why}");
                continue;
            }
        };
        // If a connection was told to make room, let it close before taking more files.
        limits.settle(SETTLE).await;
        let accepted = Accepted { stream, client, admission, activity };
        tokio::spawn(connection(accepted, shared.clone(), graceful.watcher()));
    }
    drop(listener);
    let _ = stopping.send(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::warn!("requests still running {} s after shutdown began; stopping anyway", DRAIN.as_secs()),
    }
}

/// What every connection's task is given.
#[derive(Clone)]
struct Shared<W> {
    service: W,
    log: AccessLog,
    settings: ConnectionSettings,
    /// Becomes true when shutdown begins.
    stopping: watch::Receiver<bool>,
}

/// An accepted connection with its place under the limits.
struct Accepted {
    stream: TcpStream,
    client: SocketAddr,
    admission: Admission,
    activity: Arc<Activity>,
}

/// Serves one connection until it ends, stalls, is evicted, or the service shuts down.
async fn connection(accepted: Accepted, shared: Shared<impl Warp>, watcher: Watcher) {
    let Accepted { stream, client, admission, activity } = accepted;
    let Shared { service, log, settings, stopping } = shared;
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(%client, "cannot set TCP_NODELAY: {e}");
    }
    let io = TokioIo::new(Watched::new(stream, activity.clone()));
    let service = ConnectionService::new(service, client, activity.clone(), settings.header_timeout, log);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(settings.header_timeout);
    let served = watcher.watch(http.serve_connection(io, service));
    // `biased`: this runs on every wake of the connection, once or more per request; polling in
    // order spares drawing a random number each time, and the watchdog is cheap to poll second.
    tokio::select! {
        biased;
        result = served => {
            if let Err(e) = result {
                log_connection_error(client, &e);
            }
        }
        () = stalled(&activity, settings.idle_timeout, stopping) => {
            tracing::debug!(%client, "connection closed: idle too long, or to make room for another");
        }
    }
    drop(admission);
}

/// Errors a client causes by going away before `accept` returns.
fn is_client_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

/// Hang-ups, resets, timeouts and malformed requests are the client's business: debug. Anything
/// else is worth a warning.
fn log_connection_error(client: SocketAddr, e: &hyper::Error) {
    let io_kind = std::error::Error::source(e).and_then(|s| s.downcast_ref::<io::Error>()).map(io::Error::kind);
    let clients_doing = e.is_timeout()
        || e.is_incomplete_message()
        || e.is_parse()
        || e.is_parse_too_large()
        || e.is_canceled()
        || e.is_body_write_aborted()
        || matches!(
            io_kind,
            Some(
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::TimedOut
            )
        );
    if clients_doing {
        tracing::debug!(%client, "connection ended: {e}");
    } else {
        tracing::warn!(%client, "connection failed: {e}");
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
