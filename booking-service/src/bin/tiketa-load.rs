//! `tiketa-load`: the booking service's load generator, for `bench/booking.sh`.
//!
//! `prepare` rolls a database's showtimes; `get` hammers one URL; `seats` fetches seat maps
//! spread over every live showtime; `book` books distinct seats (one per request) spread over
//! every live showtime until the time or the seats run out. Each keeps `--connections`
//! keep-alive connections busy from a single-threaded async runtime per `--threads`, so the
//! loader takes as little CPU from the server as it can on a small machine, and prints
//! requests per second with p50 and p99 latency.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use booking_service::http1;
use chrono::{DateTime, Utc};
use cinema::Catalog;
use cinema::schedule::plan_horizon;
use cinema::store::ScheduleStore;
use cinema::store::sqlite::SqliteStore;
use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
        #[arg(long)]
        db: PathBuf,
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
    },
    /// POSTs bookings of distinct seats, round-robin over the live showtimes.
    Book {
        #[command(flatten)]
        load: Load,
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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { content, db, now } => {
            let catalog = Catalog::load(&content)?;
            let report = SqliteStore::open(&db)?.roll(&plan_horizon(&catalog, now), now)?;
            println!("prepared {}: {} showtimes", db.display(), report.created);
            Ok(())
        }
        Command::Get { load, path } => {
            let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", load.addr).into_bytes();
            let requests = Arc::new(vec![request]);
            report(&load, run(&load, move |i| requests[i % requests.len()].clone(), usize::MAX)?)
        }
        Command::Seats { load } => {
            let requests: Arc<Vec<Vec<u8>>> = Arc::new(
                showtimes(load.addr)?
                    .iter()
                    .map(|id| {
                        format!("GET /api/showtimes/{id}/seats HTTP/1.1\r\nHost: {}\r\n\r\n", load.addr).into_bytes()
                    })
                    .collect(),
            );
            report(&load, run(&load, move |i| requests[i % requests.len()].clone(), usize::MAX)?)
        }
        Command::Book { load } => {
            let ids = showtimes(load.addr)?;
            let reply = http1::send(load.addr, "GET", &format!("/api/showtimes/{}/seats", ids[0]), &[], None)?;
            let seats: Vec<String> = reply.json()["seat_map"]["rows"]
                .as_array()
                .context("no seat map")?
                .iter()
                .flat_map(|r| r["cells"].as_array().cloned().unwrap_or_default())
                .filter(|c| c["kind"] != "gap")
                .map(|c| c["id"].as_str().unwrap_or_default().to_string())
                .collect();
            // Seat-major order: consecutive bookings go to different showtimes, as real load would.
            let work: Arc<Vec<(String, String)>> =
                Arc::new(seats.iter().flat_map(|seat| ids.iter().map(move |id| (id.clone(), seat.clone()))).collect());
            let total = work.len();
            let addr = load.addr;
            let make = move |i: usize| {
                let (id, seat) = &work[i];
                let body = format!(r#"{{"name":"Load Test","seats":["{seat}"]}}"#);
                format!(
                    "POST /api/showtimes/{id}/bookings HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            };
            report(&load, run(&load, make, total)?)
        }
    }
}

/// The live showtimes' ids, from the service itself.
fn showtimes(addr: SocketAddr) -> anyhow::Result<Vec<String>> {
    let reply = http1::send(addr, "GET", "/api/showtimes", &[], None)?;
    let ids: Vec<String> = reply.json()["showtimes"]
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
fn run(load: &Load, make: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static, limit: usize) -> anyhow::Result<Tally> {
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(load.duration);
    let threads = load.threads.max(1);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let conns = load.connections / threads + usize::from(t < load.connections % threads);
            let (make, next, addr) = (make.clone(), next.clone(), load.addr);
            std::thread::spawn(move || -> anyhow::Result<Tally> {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                rt.block_on(async move {
                    let tasks: Vec<_> = (0..conns)
                        .map(|_| tokio::spawn(connection(addr, make.clone(), next.clone(), limit, deadline)))
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
    make: Arc<impl Fn(usize) -> Vec<u8>>,
    next: Arc<AtomicUsize>,
    limit: usize,
    deadline: Instant,
) -> anyhow::Result<Tally> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut tally = Tally::default();
    let mut buf = Vec::with_capacity(64 * 1024);
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= limit {
            break;
        }
        let request = make(i);
        let sent = Instant::now();
        stream.write_all(&request).await?;
        let status = read_response(&mut stream, &mut buf).await?;
        tally.latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        *tally.statuses.entry(status).or_default() += 1;
        if (200..300).contains(&status) {
            tally.ok += 1;
        } else {
            tally.failed += 1;
        }
    }
    Ok(tally)
}

/// Reads one response (Content-Length bodies only, which is what the service sends for these
/// routes); returns its status. `buf` keeps nothing between responses: one request in flight.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<u16> {
    buf.clear();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end])?;
            let status: u16 = head.get(9..12).context("short status line")?.parse()?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
                })
                .context("response without Content-Length")?;
            let total = end + 4 + length;
            while buf.len() < total {
                read_more(stream, buf).await?;
            }
            return Ok(status);
        }
        read_more(stream, buf).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
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
