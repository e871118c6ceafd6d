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
  # Benchmarks start far more generations per user and per hour than the usage limits allow: the limits
  # are raised out of reach, not removed, so every start still does the accounting it does in production.
  pg_psql "$BENCH_DB_URL" -qc "update public.usage_settings set user_units_per_hour = 2000000000,
    user_units_per_day = 2000000000, anonymous_units_per_hour = 2000000000,
    anonymous_units_per_day = 2000000000, project_units_per_hour = 1000000000000"
}

bench_cluster_stop() {
  [ -n "${BENCH_PG_HOME:-}" ] && pg_stop "$BENCH_PG_HOME"
  return 0
}

# Runs a Deno script with the project's import map and every permission a benchmark needs.
BENCH_DENO_FLAGS=(--quiet --config "$ROOT/deno.json" --allow-net --allow-env --allow-read --allow-write --allow-run
  --allow-sys)
bench_deno() { # script [arg ...]
  deno run "${BENCH_DENO_FLAGS[@]}" "$@"
}

# Writes a benchmark's markdown section (stdin) to .local/bench/<name>.md.
bench_section() { # name
  mkdir -p "$BENCH_OUT"
  cat >"$BENCH_OUT/$1.md"
}

# Starts a long-running Deno script in the background and waits for the JSON line it prints once
# listening; sets SPAWNED_PID and SPAWNED_PORT. Its stdout (a function's log lines) goes to LOGFILE, or
# with BENCH_LOG_PIPE=1 into a pipe that keeps only the first lines: on Supabase log lines leave through
# the runtime, and writing them to this machine's disk would be charged to the function.
bench_spawn() { # logfile script [arg ...]
  local logfile=$1
  shift
  # Started directly, not through bench_deno: $! must be Deno's own pid, for kill and for /proc.
  if [ "${BENCH_LOG_PIPE:-0}" = 1 ]; then
    deno run "${BENCH_DENO_FLAGS[@]}" "$@" > >(sed -u -n '1,20p' >"$logfile") 2>>"$logfile" &
  else
    deno run "${BENCH_DENO_FLAGS[@]}" "$@" >"$logfile" 2>&1 &
  fi
  SPAWNED_PID=$!
  BENCH_PIDS+=("$SPAWNED_PID") # stopped by bench_cleanup, even when the wait below gives up
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
  # SUPABASE_URL: a gateway sets its own; a function served alone (start-generation.d/serve.ts, kick off)
  # only needs one that parses, and port 9 (discard) makes any stray call fail at once.
  export SUPABASE_DB_URL=$1 SUPABASE_URL=http://127.0.0.1:9
  set -a
  eval "$(deno run --quiet "$ROOT/scripts/local/keys.ts" env)"
  set +a
}

# Background processes a benchmark started; bench_cleanup stops them, the simulator and the cluster.
BENCH_PIDS=()
BENCH_SIM_PID=""
bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  BENCH_PIDS=()
  [ -z "$BENCH_SIM_PID" ] || sim_stop "$BENCH_SIM_PID"
  BENCH_SIM_PID=""
  bench_cluster_stop
}

# The release simulator on a free port (a fixed one can be taken for a moment by a client's outgoing
# connection: 543xx is inside Linux's ephemeral range). Sets BENCH_SIM_PID and SIM_URL; bench_cleanup stops it.
bench_sim() { # logfile [sim arg ...]
  local logfile=$1 _
  shift
  sim_build
  "$SIM_BIN" --port 0 "$@" >"$logfile" 2>&1 &
  BENCH_SIM_PID=$!
  SIM_URL=""
  for _ in $(seq 1 100); do
    SIM_URL=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$logfile" | head -1)
    [ -n "$SIM_URL" ] && return 0
    kill -0 "$BENCH_SIM_PID" 2>/dev/null || { cat "$logfile" >&2; die "replicate-sim exited at start"; }
    sleep 0.1
  done
  die "replicate-sim did not start within 10 s; see $logfile"
}

# The local stack end to end on a fresh cluster: the Replicate simulator (extra arguments as given), the
# functions gateway with Storage, and the notify forwarder that turns pg_cron's sweep into the worker's
# POST. The functions' own settings (WORKER_KICK, WORKER_CONCURRENCY, ...) are exported by the caller.
# Sets STACK_URL, SIM_URL, GATEWAY_PID and BENCH_DB_URL; logs go to WORKDIR.
bench_stack() { # name db_port workdir [sim arg ...]
  local name=$1 db_port=$2 workdir=$3
  shift 3
  bench_cluster "$name" "$db_port"
  bench_sim "$workdir/sim.log" --api-token r8_bench "$@"
  local sim_host=${SIM_URL#http://}
  bench_function_env "$BENCH_DB_URL"
  export REPLICATE_API_BASE="$SIM_URL/v1" REPLICATE_API_TOKEN=r8_bench DOWNLOAD_ALLOWED_HOSTS="$sim_host"
  export STORAGE_ROOT="$workdir/storage" GATEWAY_PORT=0
  bench_spawn "$workdir/gateway.log" "$ROOT/scripts/local/gateway.ts"
  GATEWAY_PID=$SPAWNED_PID
  STACK_URL="http://127.0.0.1:$SPAWNED_PORT"
  SUPABASE_URL=$STACK_URL deno run "${BENCH_DENO_FLAGS[@]}" "$ROOT/scripts/local/notify-forwarder.ts" \
    >"$workdir/forwarder.log" 2>&1 &
  BENCH_PIDS+=("$!")
}

# Writes a benchmark's rows of the summary table in docs/BENCHMARKS.md (stdin):
# | goal | ours | peer | ratio | verdict | section |
bench_summary() { # name
  mkdir -p "$BENCH_OUT"
  cat >"$BENCH_OUT/$1.row"
}
