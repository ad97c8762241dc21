#!/usr/bin/env bash
# Static files through `tiketa-booking --site` (what `make run` serves) beside nginx serving the
# same built site, with the same client (tiketa-load) at CONNECTIONS keep-alive connections, in
# one run: a small file (robots.txt), a booking page (/book/<id>/, its index.html) as it is and
# compressed, and the stylesheet. Prints each as ours, nginx and the ratio ours/nginx. The issue's
# target: a ratio of at least 0.5 and our p99 under 5 ms.
#
# Both log nothing per request (ours: RUST_LOG=info,access=off; nginx: access_log off). nginx is
# Debian's: sendfile, tcp_nopush/tcp_nodelay, open_file_cache and gzip_static (the generator's
# .gz files). Debian's nginx has no brotli module, so `br, gzip` gets nginx's .gz file, while we
# send the .br one: that line compares our brotli with nginx's gzip of the same page.
#
# Each figure is the median of ROUNDS runs of DURATION seconds, ours and nginx in turns.
#
#   bench/static.sh                         # defaults: 3 rounds of 3 s, 64 connections
#   ROUNDS=5 DURATION=2 CONNECTIONS=32 bench/static.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
NOW=2030-01-10T00:00:00+07:00
WORK=target/bench-static
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

if [ ! -x "$NGINX" ]; then
  echo "static files: nginx is not installed; it is the peer of this benchmark." >&2
  echo "  Debian/Ubuntu: sudo apt-get install -y nginx   (its service need not run: this script starts its own)" >&2
  echo "  or NGINX=/path/to/nginx bash bench/static.sh" >&2
  exit 1
fi

cargo build --release --quiet -p booking-service -p generator -p tiketa-bench --bins
rm -rf "$WORK" && mkdir -p "$WORK"
. bench/lib.sh

# The real 21-film site, built as the operator's job does (a build folder behind a `dist` symlink).
target/release/tiketa-gen roll --content content --db "$WORK/tiketa.db" --out "$WORK/dist" --now "$NOW" >/dev/null
site=$(cd "$WORK/dist" && pwd -P)
# (Globs, not `ls | head`: head closing the pipe early would end the script under pipefail.)
pages=("$site"/book/*/index.html) stylesheets=("$site"/assets/site.*.css)
book=${pages[0]#"$site"/book/}; book=${book%index.html}
css=${stylesheets[0]#"$site"/}

RUST_LOG=info,access=off start booking target/release/tiketa-booking --db "$WORK/tiketa.db" --content content \
  --site "$WORK/dist" --listen 127.0.0.1:0 --now "$NOW" --post-limit 0 --max-connections-per-client 0
ours=$addr

# nginx on a free port of its own choosing is not possible: take one from the kernel first.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx/logs"
user=""; [ "$(id -u)" = 0 ] && user="user $(id -un);"
cat >"$WORK/nginx/nginx.conf" <<EOF
$user
worker_processes auto;
daemon off;
pid $PWD/$WORK/nginx/nginx.pid;
error_log $PWD/$WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  gzip_static on;
  gzip_vary on;
  client_body_temp_path $PWD/$WORK/nginx/body;
  proxy_temp_path $PWD/$WORK/nginx/proxy;
  fastcgi_temp_path $PWD/$WORK/nginx/fastcgi;
  uwsgi_temp_path $PWD/$WORK/nginx/uwsgi;
  scgi_temp_path $PWD/$WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    root $site;
    index index.html;
  }
}
EOF
"$NGINX" -t -q -c "$PWD/$WORK/nginx/nginx.conf" -p "$PWD/$WORK/nginx"
"$NGINX" -c "$PWD/$WORK/nginx/nginx.conf" -p "$PWD/$WORK/nginx" >"$WORK/nginx.out" 2>"$WORK/nginx.err" &
pids+=($!)
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.05; done
nginx=127.0.0.1:$port

# Each server answers each case with the coding the case names, or the run stops here.
coding() { curl -s -o /dev/null -D - ${2:+-H "Accept-Encoding: $2"} "http://$1$3" |
  tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" { c = $2 } END { print c ? c : "identity" }'; }
expect() { # server path accept-encoding wanted
  local got; got=$(coding "$1" "$3" "$2")
  if [ "$got" != "$4" ]; then echo "$1$2 with Accept-Encoding '$3' answered $got, not $4" >&2; exit 1; fi
}

echo "static files: $(nproc) cores, median of ${ROUNDS} rounds of ${DURATION} s in turns, ${CONNECTIONS} connections; ours --site, nginx $("$NGINX" -v 2>&1 | sed 's|.*/||')"
printf '%-34s %10s %9s %10s %9s %7s\n' "file" "ours/s" "p99 ms" "nginx/s" "p99 ms" "ratio"
# The rate and p99 of a loader line, as "rate p99".
figures() { awk '{ for (i = 1; i <= NF; i++) { if ($i == "ok/s") r = $(i - 1); if ($i == "p99") p = $(i + 1) } } END { print r, p }'; }
# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
measure() { # label path accept-encoding ours-coding nginx-coding
  local label=$1 path=$2 accept=$3
  expect "$ours" "$path" "$accept" "$4"
  expect "$nginx" "$path" "$accept" "$5"
  local header=(); [ -n "$accept" ] && header=(--header "Accept-Encoding: $accept")
  : >"$WORK/ours.fig"; : >"$WORK/nginx.fig"
  # Rounds taken in turns, so that a busy moment of the machine falls on both alike.
  for _ in $(seq 1 "$ROUNDS"); do
    for server in ours nginx; do
      local line
      line=$(target/release/tiketa-load get --addr "${!server}" --path "$path" "${header[@]}" \
        --connections "$CONNECTIONS" --duration "$DURATION")
      if ! grep -q " 0 failed" <<<"$line"; then echo "$label ($server): failed requests: $line" >&2; exit 1; fi
      figures <<<"$line" >>"$WORK/$server.fig"
    done
  done
  local ra pa rb pb
  ra=$(cut -d' ' -f1 "$WORK/ours.fig" | median); pa=$(cut -d' ' -f2 "$WORK/ours.fig" | median)
  rb=$(cut -d' ' -f1 "$WORK/nginx.fig" | median); pb=$(cut -d' ' -f2 "$WORK/nginx.fig" | median)
  awk -v l="$label" -v ra="$ra" -v pa="$pa" -v rb="$rb" -v pb="$pb" \
    'BEGIN { printf "%-34s %10.0f %9.2f %10.0f %9.2f %7.2f\n", l, ra, pa, rb, pb, ra / rb }'
}
measure "robots.txt" /robots.txt "" identity identity
measure "booking page" "/book/$book" "" identity identity
measure "booking page, gzip" "/book/$book" "gzip" gzip gzip
measure "booking page, br, gzip (nginx gz)" "/book/$book" "br, gzip" br gzip
measure "stylesheet, br, gzip (nginx gz)" "/$css" "br, gzip" br gzip
