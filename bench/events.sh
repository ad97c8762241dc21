#!/usr/bin/env bash
# Live seat stream figures on loopback, release builds (the tool is tiketa-events, in this folder):
# - the time from a booking POSTed to one instance to its event in a stream on ANOTHER instance,
#   one booking at a time (COUNT bookings, default 200): two processes on one SQLite file, then
#   two instances on one PostgreSQL database (a throwaway server from scripts/test-postgres, or
#   BENCH_DATABASE_URL; BENCH_PG=0 skips it);
# - the service's resident memory per open stream, at STREAMS open streams (default 2000).
#
#   bench/events.sh
#   COUNT=50 STREAMS=500 BENCH_PG=0 bench/events.sh
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-200}
STREAMS=${STREAMS:-2000}
NOW=2030-01-10T00:00:00+07:00     # every showtime of the horizon is in the future
WORK=target/bench-events

cargo build --release --quiet -p booking-service -p tiketa-bench --bins
rm -rf "$WORK" && mkdir -p "$WORK"

# start (servers stopped on exit) and postgres_url (the PostgreSQL server of this run).
. bench/lib.sh

serve() { exec target/release/tiketa-booking --content content --listen 127.0.0.1:0 --now "$NOW" \
  --post-limit 0 --hold-limit 0 --max-connections-per-client 0 "$@"; }

echo "live seat stream benchmark: $(nproc) cores"
target/release/tiketa-load prepare --content content --db "$WORK/tiketa.db" --now "$NOW" >/dev/null
start a serve --db "$WORK/tiketa.db"; a=$addr; a_pid=$pid
start b serve --db "$WORK/tiketa.db"; b=$addr
target/release/tiketa-events latency --watch "$a" --book "$b" --count "$COUNT" --label "SQLite, 2 processes on one file"
target/release/tiketa-events streams --addr "$a" --pid "$a_pid" --count "$STREAMS"

postgres_url
# A database of its own (`roll`'s store creates it; with BENCH_DATABASE_URL its user needs
# CREATEDB). The service and the loader read the URL from the environment, never a command line.
pg_base=${pg_url%%\?*}
export DATABASE_URL=${pg_base%/*}/tiketa_bench_events${pg_url#"$pg_base"}
target/release/tiketa-load prepare --content content --now "$NOW" >/dev/null
start pg1 serve; pg1=$addr
start pg2 serve; pg2=$addr
target/release/tiketa-events latency --watch "$pg1" --book "$pg2" --count "$COUNT" --label "PostgreSQL, 2 instances on one database"
