#!/usr/bin/env bash
# The booking service's catalog-wide replies at catalog size (issue 13): no API reply may grow
# with the catalog past 200 KB. For the real 21-film content and a synthetic catalog of FILMS
# films (10,000: 165,000 showtimes), one fresh service each: the bytes and time of each listing
# the pages and the door ask for, at its default and its largest page, beside the 200 KB limit;
# then the service's resident memory after them (a 37.5 MB listing once lifted it by 100 MiB).
#
#   bench/reply-sizes.sh                    # 10,000 films
#   FILMS=2000 bench/reply-sizes.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FILMS=${FILMS:-10000}
NOW=2030-01-10T00:00:00+07:00
WORK=target/bench-reply-sizes
LIMIT=$((200 * 1024))
TOKEN=reply-sizes-bench-operator-token-0123

cargo build --release --quiet -p booking-service -p generator -p tiketa-bench --bins
rm -rf "$WORK" && mkdir -p "$WORK"
. bench/lib.sh

target/release/tiketa-gen synth-content --films "$FILMS" --into "$WORK/content-big" --content content >/dev/null

# Fetches $1 (a path) from the running service: "<bytes> <milliseconds>", failing on any status
# but 200.
fetch() {
  curl -sS -o /dev/null --fail -H "Authorization: Bearer $TOKEN" \
    -w '%{size_download} %{time_total}\n' "http://$addr$1" | awk '{printf "%d %.1f\n", $1, $2 * 1000}'
}

declare -A size ms rss
labels=(
  "/api/showtimes"
  "/api/showtimes?limit=500"
  "/api/showtimes?film=<film>"
  "/api/showtimes/<id>/seats"
  "/api/door/showtimes?limit=300"
  "/api/door/showtimes?studio=1&limit=300"
  "/api/openapi.json"
)
for catalog in content "$WORK/content-big"; do
  name=$(basename "$catalog")
  target/release/tiketa-load prepare --content "$catalog" --db "$WORK/$name.db" --now "$NOW" >/dev/null
  TIKETA_OPERATOR_TOKEN=$TOKEN start "$name" target/release/tiketa-booking --db "$WORK/$name.db" \
    --content "$catalog" --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
  first=$(curl -sS "http://$addr/api/showtimes?limit=1" | python3 -c 'import json, sys; s = json.load(sys.stdin)["showtimes"][0]; print(s["id"], s["film"]["slug"])')
  read -r id film <<<"$first"
  paths=(
    "/api/showtimes"
    "/api/showtimes?limit=500"
    "/api/showtimes?film=$film"
    "/api/showtimes/$id/seats"
    "/api/door/showtimes?limit=300"
    "/api/door/showtimes?studio=1&limit=300"
    "/api/openapi.json"
  )
  for i in "${!paths[@]}"; do
    read -r size[$name.$i] ms[$name.$i] <<<"$(fetch "${paths[$i]}")"
  done
  rss[$name]=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"
done

echo "API replies at $FILMS films beside the 21-film content (limit: 200 KB = $LIMIT bytes, any size)"
printf '  %-40s %10s %8s %10s %8s  %s\n' "reply" "21 films" "ms" "$FILMS films" "ms" "limit"
over=0
for i in "${!labels[@]}"; do
  small=${size[content.$i]} big=${size[content-big.$i]}
  verdict="ok"; [ "$big" -gt "$LIMIT" ] && { verdict="OVER"; over=1; }
  printf '  %-40s %10d %8.1f %10d %8.1f  %s\n' "${labels[$i]}" "$small" "${ms[content.$i]}" \
    "$big" "${ms[content-big.$i]}" "$verdict"
done
echo "  service RSS after these replies: ${rss[content]} MiB (21 films), ${rss[content-big]} MiB ($FILMS films)"
exit "$over"
