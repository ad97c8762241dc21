# Shared by the benchmark scripts (sourced after they set WORK): background servers that are
# stopped on exit, and the PostgreSQL server a run uses.

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Starts a server in the background; sets `addr` (from its "listening on" line) and `pid` (the
# background job's: exec the server in it, as `serve` functions do, to make it the server's own).
# Never called as $(start ...): in that subshell `pids` would not reach `cleanup`, and the
# servers would outlive the script.
start() {
  local name=$1; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  pid=$!
  pids+=($pid)
  for _ in $(seq 1 200); do
    if grep -qs "listening on http://" "$WORK/$name.out"; then
      addr=$(sed -n 's|.*listening on http://||p' "$WORK/$name.out" | head -1)
      return
    fi
    sleep 0.05
  done
  echo "$name did not start:" >&2; cat "$WORK/$name.err" >&2; exit 1
}

# Sets `pg_url` to the PostgreSQL server of this run: BENCH_DATABASE_URL, or a throwaway server
# (scripts/test-postgres) with its data under $WORK/pg, stopped on exit. Ends the run here (exit
# 0) when BENCH_PG=0 or no PostgreSQL is installed, saying so.
postgres_url() {
  if [ "${BENCH_PG:-1}" = 0 ]; then exit 0; fi
  if [ -z "${BENCH_DATABASE_URL:-}" ] && ! scripts/test-postgres bindir >/dev/null 2>&1; then
    echo "PostgreSQL: skipped (no server binaries; apt-get install postgresql, or set BENCH_DATABASE_URL)"
    exit 0
  fi
  pg_url=${BENCH_DATABASE_URL:-}
  if [ -z "$pg_url" ]; then
    mkdir -p "$WORK/pg" && chmod 755 "$WORK" "$WORK/pg"
    local env
    env=$(unset TIKETA_TEST_POSTGRES_DIR; TIKETA_TEST_POSTGRES_IN="$PWD/$WORK/pg" scripts/test-postgres start)
    pg_url=$(sed -n "s/^export TIKETA_TEST_DATABASE_URL=//p" <<<"$env")
    pg_dir=$(sed -n "s/^export TIKETA_TEST_POSTGRES_DIR=//p" <<<"$env")
    trap 'cleanup; scripts/test-postgres stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
  fi
}
