# Shared by the benchmarks in scripts/bench.d/. Sourced after env.sh and pg.sh.
# Each benchmark prints its table and writes it as a markdown section to .local/bench/<name>.md, which
# scripts/bench assembles into docs/BENCHMARKS.md.

BENCH_OUT="$LOCAL/bench"

# Installs the apt tools the benchmarks drive (wrk), once.
bench_tools() {
  command -v wrk >/dev/null && return 0
  log "apt: installing wrk"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}

# One line naming the machine, for every table: cores, CPU model and the load at the time.
bench_machine() {
  printf '%s cores, %s, load average %s' "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# A fresh throwaway cluster (commits not flushed: the benchmarks measure CPU and round trips, not this
# machine's disk) with the migrations applied to its `postgres` database, where pg_cron runs. Sets
# BENCH_PG_HOME and BENCH_DB_URL; the caller stops it with bench_cluster_stop (e.g. in an EXIT trap).
bench_cluster() { # name port
  BENCH_PG_HOME=$(pg_home "bench-$1")
  pg_stop "$BENCH_PG_HOME"
  rm -rf "${BENCH_PG_HOME:?}"/*
  pg_init "$BENCH_PG_HOME" "$2" "fsync = off" "synchronous_commit = off" "full_page_writes = off"
  pg_start "$BENCH_PG_HOME" "$2"
  BENCH_DB_URL=$(pg_url "$2")
  pg_migrate "$BENCH_DB_URL"
}

bench_cluster_stop() {
  [ -n "${BENCH_PG_HOME:-}" ] && pg_stop "$BENCH_PG_HOME"
  return 0
}

# Runs a Deno script with the project's import map and every permission a benchmark needs.
bench_deno() { # script [arg ...]
  deno run --quiet --config "$ROOT/deno.json" --allow-net --allow-env --allow-read --allow-write --allow-run \
    --allow-sys "$@"
}

# Writes a benchmark's markdown section (stdin) to .local/bench/<name>.md.
bench_section() { # name
  mkdir -p "$BENCH_OUT"
  cat >"$BENCH_OUT/$1.md"
}

# Starts a long-running Deno script in the background (stdout to LOGFILE) and waits for the JSON line it
# prints once listening; sets SPAWNED_PID and SPAWNED_PORT.
bench_spawn() { # logfile script [arg ...]
  local logfile=$1
  shift
  bench_deno "$@" >"$logfile" 2>&1 &
  SPAWNED_PID=$!
  local _
  for _ in $(seq 1 300); do
    SPAWNED_PORT=$(sed -n 's/^{.*"listening":true.*"port":\([0-9]*\).*/\1/p' "$logfile" | head -1)
    [ -n "$SPAWNED_PORT" ] && return 0
    kill -0 "$SPAWNED_PID" 2>/dev/null || { cat "$logfile" >&2; die "$1 exited at start"; }
    sleep 0.1
  done
  die "$1 did not start listening within 30 s; see $logfile"
}

# The environment the functions get on Supabase, for a local database: keys, JWT secret, database URL.
bench_function_env() { # db_url
  export SUPABASE_DB_URL=$1 SUPABASE_URL=http://127.0.0.1:9
  set -a
  eval "$(deno run --quiet "$ROOT/scripts/local/keys.ts" env)"
  set +a
}
