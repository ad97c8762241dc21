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
# The loader lists the showtimes from the database (--db), not through GET /api/showtimes: a
# catalog-sized listing would weigh on the service's memory, which is measured here for the
# seat maps alone.
declare -A rate rss rss_start
for catalog in content "$WORK/content-big"; do
  name=$(basename "$catalog")
  target/release/tiketa-load prepare --content "$catalog" --db "$WORK/$name.db" --now "$NOW" | tail -1
  start "$name" target/release/tiketa-booking --db "$WORK/$name.db" --content "$catalog" \
    --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
  rss_start[$name]=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  echo "service RSS at start, before any request ($name): ${rss_start[$name]} MiB"
  for pass in cold warm; do
    line=$(target/release/tiketa-load seats --addr "$addr" --db "$WORK/$name.db" --now "$NOW" \
      --label "seat-map GET, $name, $pass" --connections "$CONNECTIONS" --duration "$DURATION")
    echo "$line"
    rate[$name.$pass]=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "ok/s") print $i}' <<<"$line")
  done
  rss[$name]=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  echo "service RSS after both passes ($name): ${rss[$name]} MiB"
  kill "$pid"
done
echo
echo "seat-map GETs at $FILMS films beside the 21-film content (target: within 20 %, i.e. >= 80 %)"
for pass in cold warm; do
  awk -v p="$pass" -v big="${rate[content-big.$pass]}" -v small="${rate[content.$pass]}" \
    'BEGIN { printf "  %-4s %9.0f/s beside %9.0f/s: %3.0f %%\n", p, big, small, 100 * big / small }'
done
awk -v big="${rss[content-big]}" -v small="${rss[content]}" \
  'BEGIN { printf "  RSS  %6.1f MiB beside %6.1f MiB (21 films); target < 64 MiB: %s\n", big, small, (big < 64 ? "met" : "not met") }'
awk -v big="${rss_start[content-big]}" -v small="${rss_start[content]}" \
  'BEGIN { printf "  RSS at start %6.1f MiB beside %6.1f MiB (21 films)\n", big, small }'
