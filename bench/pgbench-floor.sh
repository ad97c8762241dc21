#!/usr/bin/env bash
# The PostgreSQL floor for the booking benchmark: pgbench running a one-row insert-and-commit
# transaction (`INSERT INTO pgbench_floor ...`, autocommit, so one durable commit each) at the
# booking phases' concurrency. No PostgreSQL store can book faster than this server commits one
# row, so the store's durable bookings/s are judged against this figure (target: within 2x).
# Prints one line in tiketa-load's format, with the pgbench command that made it.
#
#   bench/pgbench-floor.sh              # a throwaway server (scripts/test-postgres) whose data
#                                       # is under target/bench-pgbench/ (the real disk, as the
#                                       # SQLite figures), stopped and deleted at the end
#   bench/pgbench-floor.sh postgres://USER:PASSWORD@HOST:PORT/DB
#                                       # a server of yours: creates, then drops, pgbench_floor
#   CONNECTIONS=32 PGBENCH_DURATION=10 bench/pgbench-floor.sh
#
# The floor must be durable: the script refuses a server with fsync or synchronous_commit off.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}         # the same variable and default as bench/booking.sh
DURATION=${PGBENCH_DURATION:-20}
THREADS=${PGBENCH_THREADS:-2}
WORK=target/bench-pgbench
url=${1:-${BENCH_DATABASE_URL:-}}

bin=$(scripts/test-postgres bindir)
pgbench=$bin/pgbench
[ -x "$pgbench" ] || pgbench=$(command -v pgbench) ||
  { echo "pgbench not found in $bin nor on PATH: install it (Debian: apt-get install postgresql)" >&2; exit 1; }

rm -rf "$WORK" && mkdir -p "$WORK" && chmod 755 "$WORK"
server=""
cleanup() {
  if [ -n "${PGDATABASE:-}" ]; then "$pgbench" -n -t 1 -c 1 -f "$WORK/drop.sql" >/dev/null 2>&1 || true; fi
  if [ -n "$server" ]; then scripts/test-postgres stop "$server" 2>/dev/null || true; fi
}
trap cleanup EXIT
if [ -z "$url" ]; then
  # Not one the calling shell may already have (TIKETA_TEST_POSTGRES_DIR): that one could be on
  # a tmpfs, and it is not this script's to stop.
  env=$(unset TIKETA_TEST_POSTGRES_DIR; TIKETA_TEST_POSTGRES_IN="$PWD/$WORK" scripts/test-postgres start 2>"$WORK/server.err") ||
    { cat "$WORK/server.err" >&2; exit 1; }
  url=$(sed -n "s/^export TIKETA_TEST_DATABASE_URL=//p" <<<"$env")
  server=$(sed -n "s/^export TIKETA_TEST_POSTGRES_DIR=//p" <<<"$env")
  where="throwaway server, data on $(df -T "$WORK" | awk 'NR==2 {print $2}')"
else
  where="the server given"
fi
# pgbench reads the URL from PGDATABASE, not from its command line: a command line is visible to
# every local user, and the URL may hold a password.
export PGDATABASE=$url

cat >"$WORK/setup.sql" <<'EOF'
DO $$
BEGIN
  IF current_setting('fsync') <> 'on' OR current_setting('synchronous_commit') NOT IN ('on', 'remote_write', 'remote_apply') THEN
    RAISE EXCEPTION 'the floor must be durable, but this server has fsync=% and synchronous_commit=%',
      current_setting('fsync'), current_setting('synchronous_commit');
  END IF;
END $$;
DROP TABLE IF EXISTS pgbench_floor;
CREATE TABLE pgbench_floor (id bigserial PRIMARY KEY, showtime text NOT NULL, seat text NOT NULL, at timestamptz NOT NULL DEFAULT now());
EOF
echo "DROP TABLE IF EXISTS pgbench_floor;" >"$WORK/drop.sql"
cat >"$WORK/floor.sql" <<'EOF'
\set showtime random(1, 345)
\set seat random(1, 216)
INSERT INTO pgbench_floor (showtime, seat) VALUES (:showtime, :seat);
EOF

"$pgbench" -n -t 1 -c 1 -f "$WORK/setup.sql" >"$WORK/setup.out" 2>&1 ||
  { echo "pgbench could not set up its table:" >&2; cat "$WORK/setup.out" >&2; exit 1; }

command=(pgbench -n -M prepared -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -f "$WORK/floor.sql")
"$pgbench" "${command[@]:1}" -l --log-prefix="$WORK/txn" >"$WORK/pgbench.out" 2>"$WORK/pgbench.err" ||
  { echo "pgbench failed:" >&2; cat "$WORK/pgbench.out" "$WORK/pgbench.err" >&2; exit 1; }

field() { sed -n "s/^$1//p" "$WORK/pgbench.out" | awk '{print $1}'; }
tps=$(field "tps = ")
ok=$(field "number of transactions actually processed: ")
failed=$(field "number of failed transactions: ")
# Per-transaction log: "client txn latency_us script epoch epoch_us"; failed ones say "failed".
cat "$WORK"/txn.* | awk '$3 ~ /^[0-9]+$/ {print $3}' | sort -n >"$WORK/latencies"
pct() { awk -v p="$1" '{ l[NR] = $1 } END { i = int(NR * p) + 1; if (i > NR) i = NR; printf "%.2f", NR ? l[i] / 1000 : 0 }' "$WORK/latencies"; }
version=$(head -1 "$WORK/pgbench.out" | sed 's/^pgbench (\(.*\))$/PostgreSQL \1/')

echo "pgbench floor: $(nproc) cores, ${DURATION} s, ${CONNECTIONS} clients on ${THREADS} threads, $version, $where"
echo "  \$ PGDATABASE=postgres://... ${command[*]}   # floor.sql: one INSERT of one row per transaction"
printf "%-14s %9.0f ok/s  p50 %6s ms  p99 %6s ms  (%s ok, %s failed in %s s, %s connections)\n" \
  "pgbench floor" "$tps" "$(pct 0.50)" "$(pct 0.99)" "$ok" "${failed:-0}" "$DURATION" "$CONNECTIONS"
