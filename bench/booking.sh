#!/usr/bin/env bash
# Load benchmark of the booking service on loopback: a bare warp "hello" route (the ceiling),
# seat-map GETs, then durable bookings (synchronous=FULL, distinct seats over every showtime).
# Each phase runs DURATION seconds at CONNECTIONS keep-alive connections. Prints one line each.
# The tools (tiketa-load, bench-hello) are the tiketa-bench crate in this folder, not the product.
#
# Then a sustained booking phase (SUSTAIN seconds, default 30) on a 200-film synthetic catalog
# with enough seats to stay busy the whole time, sampling the database's WAL file: its largest
# size during the load, its size when the load stops and after IDLE_WAIT seconds of no load.
#
#   bench/booking.sh                    # defaults: 5 s, 64 connections, 30 s sustained
#   DURATION=3 CONNECTIONS=32 SUSTAIN=10 bench/booking.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
SUSTAIN=${SUSTAIN:-30}
IDLE_WAIT=${IDLE_WAIT:-3}
CONNECTIONS=${CONNECTIONS:-64}
NOW=2030-01-10T00:00:00+07:00     # every showtime of the horizon is in the future
WORK=target/bench-booking          # on the real disk (fsync is what is being measured)

cargo build --release --quiet -p booking-service -p generator -p tiketa-bench --bins
rm -rf "$WORK" && mkdir -p "$WORK"

# start (servers stopped on exit) and postgres_url (the PostgreSQL server of this run).
. bench/lib.sh

load() { target/release/tiketa-load "$@" --connections "$CONNECTIONS" --duration "$DURATION"; }

target/release/tiketa-load prepare --content content --db "$WORK/tiketa.db" --now "$NOW" >/dev/null
start hello target/release/bench-hello 127.0.0.1:0
hello=$addr
start booking target/release/tiketa-booking --db "$WORK/tiketa.db" --content content \
  --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
booking=$addr

echo "booking service benchmark: $(nproc) cores, ${DURATION} s per phase, ${CONNECTIONS} connections, db on $(df -T "$WORK" | awk 'NR==2 {print $2}')"
load get --addr "$hello" --path /hello --label "hello (ceiling)"
load seats --addr "$booking" --label "seat-map GET"
load book --addr "$booking" --label "bookings"

# Sustained bookings on a bigger catalog: 200 films, about 700,000 seats over the horizon.
target/release/tiketa-gen synth-content --films 200 --into "$WORK/content-200" --content content >/dev/null
target/release/tiketa-load prepare --content "$WORK/content-200" --db "$WORK/sustained.db" --now "$NOW" >/dev/null
start sustained target/release/tiketa-booking --db "$WORK/sustained.db" --content "$WORK/content-200" \
  --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
sustained=$addr
wal="$WORK/sustained.db-wal"
wal_size() { stat -c %s "$wal" 2>/dev/null || echo 0; }
( max=0; while :; do s=$(wal_size); [ "$s" -gt "$max" ] && max=$s && echo "$max" >"$WORK/wal.max"; sleep 0.1; done ) &
sampler=$!
pids+=($sampler)
target/release/tiketa-load book --addr "$sustained" --label "bookings, sustained" --connections "$CONNECTIONS" --duration "$SUSTAIN"
at_end=$(wal_size)
sleep "$IDLE_WAIT"
kill "$sampler" 2>/dev/null || true
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "WAL during ${SUSTAIN} s of bookings: largest $(mib "$(cat "$WORK/wal.max" 2>/dev/null || echo 0)"), $(mib "$at_end") when the load stopped, $(mib "$(wal_size)") after ${IDLE_WAIT} s idle; database $(mib "$(stat -c %s "$WORK/sustained.db")")"

# ---------------------------------------------------------------------------------------------
# PostgreSQL, in the same run: the store with one instance and with two instances on one
# database (each loaded by its own tiketa-load with half the connections), and the floor:
# pgbench committing one row per transaction at the same concurrency. A throwaway server
# (scripts/test-postgres) with its data under target/ (the real disk, as the SQLite figures),
# or BENCH_DATABASE_URL=postgres://... for a server of yours. BENCH_PG=0 skips this part;
# without PostgreSQL installed it says so and stops here.
postgres_url
# The service and the loader read the URL from the environment, never from a command line.
export DATABASE_URL=$pg_url
target/release/tiketa-load prepare --content content --now "$NOW" >/dev/null
start pg1 target/release/tiketa-booking --content content \
  --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
pg1=$addr
echo "PostgreSQL store ($(sed -E 's|//[^@]*@|//|' <<<"$pg_url"), one instance:"
load seats --addr "$pg1" --label "seat-map GET, PostgreSQL, 1 instance"
load book --addr "$pg1" --label "bookings, PostgreSQL, 1 instance"
# Two instances on a second database (the first one's seats are taken now), rolled alike.
# (`roll`'s store creates it; with BENCH_DATABASE_URL its user needs CREATEDB.)
pg_base=${pg_url%%\?*}
export DATABASE_URL=${pg_base%/*}/tiketa_bench_two${pg_url#"$pg_base"}
target/release/tiketa-load prepare --content content --now "$NOW" >/dev/null
for n in 1 2; do
  start "pg2-$n" target/release/tiketa-booking --content content \
    --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
  declare "pg2_$n=$addr"
done
pg1=$pg2_1 pg2=$pg2_2
half=$((CONNECTIONS / 2))
# Two loaders at once, one per instance; the figure is their sum (each line shows its half).
# Each booking loader asks for its own half of the seats (--share), so the two never collide.
for phase in seats book; do
  share=(); [ "$phase" = book ] && share=(--share 1/2)
  target/release/tiketa-load "$phase" --addr "$pg1" --connections "$half" --duration "$DURATION" "${share[@]}" \
    --label "$phase, PostgreSQL, instance 1 of 2" >"$WORK/pg-$phase-1.out" &
  first=$!
  [ "$phase" = book ] && share=(--share 2/2)
  target/release/tiketa-load "$phase" --addr "$pg2" --connections "$half" --duration "$DURATION" "${share[@]}" \
    --label "$phase, PostgreSQL, instance 2 of 2" >"$WORK/pg-$phase-2.out"
  wait "$first"
  cat "$WORK/pg-$phase-1.out" "$WORK/pg-$phase-2.out"
  awk -v phase="$phase" '{ for (i = 2; i <= NF; i++) if ($i == "ok/s") sum += $(i - 1) }
    END { printf "%s, PostgreSQL, 2 instances: %.0f ok/s in all\n", phase, sum }' "$WORK/pg-$phase-1.out" "$WORK/pg-$phase-2.out"
done
unset DATABASE_URL
CONNECTIONS=$CONNECTIONS bash bench/pgbench-floor.sh "$pg_url"
