//! Figures for the live seat stream (`GET /api/showtimes/{id}/events`), on running instances:
//!
//! - `latency`: the time from a booking POSTed to one instance to its `change` event in a
//!   stream open on another (one booking at a time, one seat each): median, p99, slowest.
//! - `streams`: the service's resident memory before and after opening N streams, per stream.
//!
//! Blocking and simple on purpose (test-support's client and SSE reader): one booking at a
//! time measures propagation, not throughput.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use test_support::{Client, EventStream};

#[derive(Parser)]
#[command(name = "tiketa-events", about = "Live seat stream figures for tiketa-booking (loopback benchmarks)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Booking on one instance to the event in another instance's stream.
    Latency {
        /// The instance whose stream is watched.
        #[arg(long)]
        watch: SocketAddr,
        /// The instance bookings are sent to.
        #[arg(long)]
        book: SocketAddr,
        #[arg(long, default_value_t = 200)]
        count: usize,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Resident memory of the service per open stream.
    Streams {
        #[arg(long)]
        addr: SocketAddr,
        /// The service's process id (its memory is read from /proc).
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 2000)]
        count: usize,
    },
}

const PATIENCE: Duration = Duration::from_secs(30);

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Latency { watch, book, count, label } => latency(watch, book, count, &label),
        Command::Streams { addr, pid, count } => streams(addr, pid, count),
    }
}

fn latency(watch: SocketAddr, book: SocketAddr, count: usize, label: &str) -> anyhow::Result<()> {
    let client = Client::new(book);
    let mut times = Vec::with_capacity(count);
    'showtimes: for showtime in showtimes(&client)? {
        let seats = free_seats(&client, &showtime)?;
        let mut stream = open(watch, &showtime)?;
        for seat in seats {
            if times.len() == count {
                break 'showtimes;
            }
            let body = serde_json::json!({"name": "Bench", "seats": [seat]}).to_string();
            let sent = Instant::now();
            let reply = client.send(
                "POST",
                &format!("/api/showtimes/{showtime}/bookings"),
                &[("Content-Type", "application/json")],
                Some(body.as_bytes()),
            )?;
            if reply.status != 201 {
                bail!("booking {seat} of {showtime}: {} {}", reply.status, reply.text());
            }
            let event = stream.next(PATIENCE);
            times.push(sent.elapsed());
            if event.event != "change" || event.list("taken") != [seat.clone()] {
                bail!("expected {seat} taken, got {event:?}");
            }
        }
    }
    if times.len() < count {
        bail!("only {} free seats in the live showtimes", times.len());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: booking on one instance to the event on another, {} bookings: median {:.1} ms, p99 {:.1} ms, slowest {:.1} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*times.last().unwrap())
    );
    Ok(())
}

fn streams(addr: SocketAddr, pid: u32, count: usize) -> anyhow::Result<()> {
    let client = Client::new(addr);
    let showtime = showtimes(&client)?.into_iter().next().context("no live showtime")?;
    // The first stream builds the showtime's channel: not a per-stream cost.
    let _first = open(addr, &showtime)?;
    let before = rss(pid)?;
    let opened = Instant::now();
    let streams = (0..count).map(|_| open(addr, &showtime)).collect::<anyhow::Result<Vec<_>>>()?;
    let took = opened.elapsed();
    let after = rss(pid)?;
    println!(
        "{count} open streams on one instance: RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per stream (opened in {:.2} s)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        after.saturating_sub(before) as f64 / count as f64 / 1024.0,
        took.as_secs_f64()
    );
    drop(streams);
    Ok(())
}

/// A stream of `showtime` with its snapshot read.
fn open(addr: SocketAddr, showtime: &str) -> anyhow::Result<EventStream> {
    let mut stream = EventStream::open(addr, &format!("/api/showtimes/{showtime}/events"), None)?;
    if stream.status != 200 {
        bail!("the stream of {showtime} answered {}", stream.status);
    }
    let snapshot = stream.next(PATIENCE);
    if snapshot.event != "snapshot" {
        bail!("expected a snapshot, got {snapshot:?}");
    }
    Ok(stream)
}

fn showtimes(client: &Client) -> anyhow::Result<Vec<String>> {
    let list = client.get("/api/showtimes")?.json();
    Ok(list["showtimes"]
        .as_array()
        .context("no showtimes list")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(String::from))
        .collect())
}

fn free_seats(client: &Client, showtime: &str) -> anyhow::Result<Vec<String>> {
    let map = client.get(&format!("/api/showtimes/{showtime}/seats"))?.json();
    let unavailable: Vec<&str> = ["taken", "held"]
        .iter()
        .flat_map(|k| map[*k].as_array().into_iter().flatten())
        .filter_map(|s| s.as_str())
        .collect();
    Ok(map["seat_map"]["rows"]
        .as_array()
        .context("no seat map")?
        .iter()
        .flat_map(|row| row["cells"].as_array().into_iter().flatten())
        .filter_map(|cell| cell["id"].as_str())
        .filter(|id| !id.is_empty())
        .filter(|id| !unavailable.contains(id))
        .map(String::from)
        .collect())
}

/// The resident memory of a process, in bytes.
fn rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading the service's memory")?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")?;
    Ok(kb * 1024)
}
