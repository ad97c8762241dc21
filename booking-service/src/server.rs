//! Start, serve, stop.
//!
//! Shutdown is a first-class path: on SIGINT or SIGTERM the listener closes (no new
//! connections), requests in flight finish (up to [`DRAIN`]), then the booking store's writer
//! commits whatever was queued and closes the database. Only then does the process exit.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cinema::Catalog;
use cinema::store::StoreError;
use cinema::store::sqlite::SqliteBookingStore;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::clock::Clock;
use crate::config::Config;
use crate::rate_limit::RateLimiter;
use crate::routes::routes;
use crate::{App, cors};

/// How long in-flight requests get to finish after a shutdown signal.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Builds the app from the configuration: loads the content, opens the database.
pub fn build_app(config: &Config, listen: SocketAddr) -> anyhow::Result<Arc<App>> {
    let catalog = Catalog::load(&config.content)?;
    let db = config.db_path();
    // The service never creates a database: a mistyped path must not serve an empty schedule.
    let store = SqliteBookingStore::open(&db).map_err(|e| match e {
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
    Ok(App::new(
        catalog,
        store,
        config.now.map_or(Clock::System, Clock::Fixed),
        RateLimiter::new(config.post_limit, config.post_burst),
        config.site.clone(),
        origins,
    ))
}

/// Runs the service until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listen = config.listen_addr().map_err(anyhow::Error::msg)?;
    let app = build_app(&config, listen)?;
    let filter = routes(app.clone()).map_err(anyhow::Error::msg)?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; is another program using the port? (--listen)"))?;
    let local = listener.local_addr()?;
    println!("tiketa-booking listening on http://{local}");
    tracing::info!(db = %config.db_path().display(), origins = ?app.cors_origins, "serving");
    serve(filter, listener, shutdown_signal()).await;
    // The writer commits what was queued; blocking, so off the executor's threads.
    let closing = app.clone();
    tokio::task::spawn_blocking(move || closing.close()).await?;
    println!("tiketa-booking stopped");
    Ok(())
}

/// Serves `filter` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    filter: BoxedFilter<(Response,)>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let server = warp::serve(filter)
        .incoming(listener)
        .graceful(async move {
            shutdown.await;
            let _ = stopping.send(true);
        })
        .run();
    let deadline = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(DRAIN).await;
    };
    tokio::select! {
        () = server => {}
        () = deadline => tracing::warn!("requests still running {} s after shutdown began; stopping anyway", DRAIN.as_secs()),
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
