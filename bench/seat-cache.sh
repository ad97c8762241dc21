#!/usr/bin/env bash
# The seat-map cache at catalog size (issue 13): seat-map GETs round-robin over every live
# showtime of a synthetic catalog of FILMS films (10,000: 165,000 showtimes), two passes of
# DURATION seconds on one fresh service (the first cold: every request a cache miss), then the
# service's resident memory. Beside it, the same two passes on the real 21-film content: the
# figure each is held to (within 20 %), from the same run.
#
#   bench/seat-cache.sh                     # defaults: 10,000 films, 10 s a pass, 64 connections
#   FILMS=2000 DURATION=5 bench/seat-cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FILMS=${FILMS:-10000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
NOW=2030-01-10T00:00:00+07:00
WORK=target/bench-seat-cache

cargo build --release --quiet -p booking-service -p generator -p tiketa-bench --bins
rm -rf "$WORK" && mkdir -p "$WORK"
. bench/lib.sh

target/release/tiketa-gen synth-content --films "$FILMS" --into "$WORK/content-big" --content content >/dev/null
echo "seat-map cache: $(nproc) cores, ${DURATION} s a pass, ${CONNECTIONS} connections"
for catalog in content "$WORK/content-big"; do
  name=$(basename "$catalog")
  target/release/tiketa-load prepare --content "$catalog" --db "$WORK/$name.db" --now "$NOW" | tail -1
  start "$name" target/release/tiketa-booking --db "$WORK/$name.db" --content "$catalog" \
    --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
  for pass in cold warm; do
    target/release/tiketa-load seats --addr "$addr" --label "seat-map GET, $name, $pass" \
      --connections "$CONNECTIONS" --duration "$DURATION"
  done
  echo "service RSS after both passes ($name): $(awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status")"
done
