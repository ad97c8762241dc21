//! `tiketa-load`: the booking service's load generator, for `bench/booking.sh`.
//!
//! `prepare` rolls a database's showtimes; `get` hammers one URL; `seats` fetches seat maps
//! spread over every live showtime; `book` books distinct seats (one per request) spread over
//! every live showtime until the time or the seats run out. Each keeps `--connections`
//! keep-alive connections busy from a single-threaded async runtime per `--threads`, so the
//! loader takes as little CPU from the server as it can on a small machine, and prints
//! requests per second with p50 and p99 latency. Each connection is a hyper HTTP/1 client
//! connection (`hyper::client::conn`): exactly `--connections` sockets, one request in flight
//! on each, no pool in between.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use cinema::Catalog;
use cinema::schedule::plan_horizon;
use cinema::store::{Blocking, DatabaseUrl, OpenMode};
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request to send: method, path and body (JSON when present), parsed once so that making
/// the request for each send copies reference-counted parts, not text.
#[derive(Clone)]
struct Call {
    method: Method,
    uri: Uri,
    body: Option<Bytes>,
}

impl Call {
    fn get(path: &str) -> Self {
        Call { method: Method::GET, uri: path.parse().expect("a valid path"), body: None }
    }

    fn request(&self, host: &HeaderValue) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone().unwrap_or_default()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, host.clone());
        if self.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

#[derive(Parser)]
#[command(name = "tiketa-load", about = "Load generator for tiketa-booking (loopback benchmarks)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rolls the showtimes of the horizon at `--now` into a database.
    Prepare {
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// The database, as DATABASE_URL names it: a SQLite path or a postgres:// URL.
        #[arg(long, env = "DATABASE_URL")]
        db: String,
        #[arg(long)]
        now: DateTime<Utc>,
    },
    /// GETs one path.
    Get {
        #[command(flatten)]
        load: Load,
        #[arg(long, default_value = "/")]
        path: String,
    },
    /// GETs seat maps, round-robin over the live showtimes.
    Seats {
        #[command(flatten)]
        load: Load,
        /// Read the live showtimes from this database (as DATABASE_URL names it) instead of
        /// `GET /api/showtimes`, so that the service's memory after a pass is its seat maps'
        /// alone, not that of a catalog-sized listing it was asked for first.
        #[arg(long, requires = "now")]
        db: Option<String>,
        /// The service's `--now`, with `--db`: showtimes starting after it are live.
        #[arg(long, requires = "db")]
        now: Option<DateTime<Utc>>,
    },
    /// POSTs bookings of distinct seats, round-robin over the live showtimes.
    Book {
        #[command(flatten)]
        load: Load,
        /// This loader's share, `K/N`: it books only every Nth seat from the Kth on, so N
        /// loaders against N instances of one database never ask for the same seat.
        #[arg(long, default_value = "1/1", value_parser = parse_share)]
        share: (usize, usize),
    },
}

#[derive(clap::Args, Clone)]
struct Load {
    /// The server, host:port.
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Loader threads, each with its own single-threaded runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A label for the result line.
    #[arg(long, default_value = "")]
    label: String,
    /// A header sent with every request, `Name: value` (repeatable), such as
    /// `--header 'Accept-Encoding: br, gzip'` as browsers send it.
    #[arg(long = "header", value_parser = parse_header)]
    headers: Vec<(HeaderName, HeaderValue)>,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { content, db, now } => {
            let catalog = Catalog::load(&content)?;
            let url: DatabaseUrl = db.parse()?;
            let store = Blocking::open(&url, OpenMode::Create)?;
            let report = store.run(|s| s.roll(plan_horizon(&catalog, now), now))?;
            println!("prepared {url}: {} showtimes", report.created);
            Ok(())
        }
        Command::Get { load, path } => {
            let calls = Arc::new(vec![Call::get(&path)]);
            report(&load, run(&load, move |i| calls[i % calls.len()].clone(), usize::MAX)?)
        }
        Command::Seats { load, db, now } => {
            let ids = match (db, now) {
                (Some(db), Some(now)) => showtimes_in(&db, now)?,
                _ => showtimes(load.addr)?,
            };
            let calls: Arc<Vec<Call>> =
                Arc::new(ids.iter().map(|id| Call::get(&format!("/api/showtimes/{id}/seats"))).collect());
            report(&load, run(&load, move |i| calls[i % calls.len()].clone(), usize::MAX)?)
        }
        Command::Book { load, share: (part, parts) } => {
            let ids = showtimes(load.addr)?;
            let map = get_json(load.addr, &format!("/api/showtimes/{}/seats", ids[0]))?;
            let seats: Vec<String> = map["seat_map"]["rows"]
                .as_array()
                .context("no seat map")?
                .iter()
                .flat_map(|r| r["cells"].as_array().cloned().unwrap_or_default())
                .filter(|c| c["kind"] != "gap")
                .map(|c| c["id"].as_str().unwrap_or_default().to_string())
                .collect();
            // Seat-major order: consecutive bookings go to different showtimes, as real load would.
            let work: Arc<Vec<(String, String)>> = Arc::new(
                seats
                    .iter()
                    .flat_map(|seat| ids.iter().map(move |id| (id.clone(), seat.clone())))
                    .skip(part - 1)
                    .step_by(parts)
                    .collect(),
            );
            let total = work.len();
            let make = move |i: usize| {
                let (id, seat) = &work[i];
                Call {
                    method: Method::POST,
                    body: Some(Bytes::from(format!(r#"{{"name":"Load Test","seats":["{seat}"]}}"#))),
                    ..Call::get(&format!("/api/showtimes/{id}/bookings"))
                }
            };
            report(&load, run(&load, make, total)?)
        }
    }
}

fn parse_share(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{text:?}: expected K/N with 1 <= K <= N, such as 2/2");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let bad = |why: &str| format!("{text:?}: {why}; expected `Name: value`, such as `Accept-Encoding: gzip`");
    let (name, value) = text.split_once(':').ok_or_else(|| bad("no colon"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("not a header name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("not a header value"))?;
    Ok((name, value))
}

/// One GET on a fresh connection, its body as JSON: the loader's setup requests.
fn get_json(addr: SocketAddr, path: &str) -> anyhow::Result<serde_json::Value> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let mut sender = connect(addr).await?;
        let host = HeaderValue::from_str(&addr.to_string())?;
        let response = sender.send_request(Call::get(path).request(&host)).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("GET {path} answered {status}: {}", String::from_utf8_lossy(&body));
        }
        serde_json::from_slice(&body).with_context(|| format!("GET {path} did not answer JSON"))
    })
}

/// The live showtimes' ids, from the service itself.
fn showtimes(addr: SocketAddr) -> anyhow::Result<Vec<String>> {
    let ids: Vec<String> = get_json(addr, "/api/showtimes")?["showtimes"]
        .as_array()
        .context("GET /api/showtimes did not list showtimes")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    if ids.is_empty() {
        bail!("the service has no live showtimes; run `tiketa-load prepare` first");
    }
    Ok(ids)
}

/// The ids of the showtimes live at `now`, by start then studio (the order of
/// `GET /api/showtimes`), read from the database itself.
fn showtimes_in(db: &str, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
    let url: DatabaseUrl = db.parse()?;
    let store = Blocking::open(&url, OpenMode::Existing)?;
    let ids: Vec<String> = store
        .run(|s| s.showtimes_between(now, now + chrono::Duration::days(3650)))?
        .into_iter()
        .filter(|s| !s.archived && s.starts_at > now)
        .map(|s| s.id.0)
        .collect();
    if ids.is_empty() {
        bail!("{url} has no live showtimes at {now}; run `tiketa-load prepare` first");
    }
    Ok(ids)
}

/// Opens one HTTP/1 connection; its driver runs as a task of the current runtime.
async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let (sender, driver) = handshake(addr).await?;
    tokio::spawn(driver);
    Ok(sender)
}

/// Opens one HTTP/1 connection: the sender, and the driver the caller must poll.
async fn handshake(
    addr: SocketAddr,
) -> anyhow::Result<(SendRequest<Full<Bytes>>, http1::Connection<TokioIo<TcpStream>, Full<Bytes>>)> {
    let stream = TcpStream::connect(addr).await.with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    Ok(http1::handshake(TokioIo::new(stream)).await?)
}

/// What all connections measured.
#[derive(Default)]
struct Tally {
    /// Latency of each request in microseconds.
    latencies: Vec<u32>,
    ok: usize,
    failed: usize,
    statuses: std::collections::BTreeMap<u16, usize>,
    elapsed: Duration,
}

/// Runs the load: request `i` is `make(i)`, for `i` below `limit`, until the duration is up.
fn run(load: &Load, make: impl Fn(usize) -> Call + Send + Sync + 'static, limit: usize) -> anyhow::Result<Tally> {
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(load.duration);
    let threads = load.threads.max(1);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let conns = load.connections / threads + usize::from(t < load.connections % threads);
            let (make, next, addr) = (make.clone(), next.clone(), load.addr);
            let headers = load.headers.clone();
            std::thread::spawn(move || -> anyhow::Result<Tally> {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                rt.block_on(async move {
                    let tasks: Vec<_> = (0..conns)
                        .map(|_| {
                            tokio::spawn(connection(addr, make.clone(), headers.clone(), next.clone(), limit, deadline))
                        })
                        .collect();
                    let mut tally = Tally::default();
                    for task in tasks {
                        let t = task.await??;
                        tally.latencies.extend(t.latencies);
                        tally.ok += t.ok;
                        tally.failed += t.failed;
                        for (s, n) in t.statuses {
                            *tally.statuses.entry(s).or_default() += n;
                        }
                    }
                    Ok(tally)
                })
            })
        })
        .collect();
    let mut tally = Tally::default();
    for h in handles {
        let t = h.join().map_err(|_| anyhow::anyhow!("a loader thread panicked"))??;
        tally.latencies.extend(t.latencies);
        tally.ok += t.ok;
        tally.failed += t.failed;
        for (s, n) in t.statuses {
            *tally.statuses.entry(s).or_default() += n;
        }
    }
    tally.elapsed = start.elapsed();
    Ok(tally)
}

async fn connection(
    addr: SocketAddr,
    make: Arc<impl Fn(usize) -> Call>,
    headers: Vec<(HeaderName, HeaderValue)>,
    next: Arc<AtomicUsize>,
    limit: usize,
    deadline: Instant,
) -> anyhow::Result<Tally> {
    let (mut sender, driver) = handshake(addr).await?;
    let host = HeaderValue::from_str(&addr.to_string())?;
    let requests = async move {
        let mut tally = Tally::default();
        while Instant::now() < deadline {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= limit {
                break;
            }
            let mut request = make(i).request(&host);
            for (name, value) in &headers {
                request.headers_mut().insert(name.clone(), value.clone());
            }
            let sent = Instant::now();
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            // Read to the end without gathering: the loader measures, it does not keep bodies.
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                frame?;
            }
            tally.latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
            *tally.statuses.entry(status).or_default() += 1;
            if (200..300).contains(&status) {
                tally.ok += 1;
            } else {
                tally.failed += 1;
            }
        }
        // Dropping the sender lets the connection's driver finish.
        drop(sender);
        anyhow::Ok(tally)
    };
    // The connection is driven in this task, beside its requests: no hand-over between two
    // tasks for every request and reply.
    let (tally, driven) = tokio::join!(requests, driver);
    let tally = tally?;
    driven.context("the connection failed")?;
    Ok(tally)
}

fn report(load: &Load, mut tally: Tally) -> anyhow::Result<()> {
    tally.latencies.sort_unstable();
    let pct = |p: f64| {
        let l = &tally.latencies;
        if l.is_empty() { 0.0 } else { f64::from(l[((l.len() as f64 * p) as usize).min(l.len() - 1)]) / 1000.0 }
    };
    let secs = tally.elapsed.as_secs_f64();
    println!(
        "{:<14} {:>9.0} ok/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {} failed in {:.2} s, {} connections; statuses {:?})",
        load.label,
        tally.ok as f64 / secs,
        pct(0.50),
        pct(0.99),
        tally.ok,
        tally.failed,
        secs,
        load.connections,
        tally.statuses
    );
    Ok(())
}
