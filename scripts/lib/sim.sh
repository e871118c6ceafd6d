# The Replicate simulator (crates/replicate-sim) as a background process, for scripts/dev, the tests and
# the benchmarks. Sourced after env.sh (ROOT, LOCAL, log, die).

SIM_BIN="$ROOT/target/release/replicate-sim"

# Builds the release binary; cargo itself skips the work when nothing changed.
sim_build() {
  (cd "$ROOT" && cargo build --release --quiet -p replicate-sim) >&2 || die "cannot build replicate-sim"
}

# Starts the simulator on 127.0.0.1:PORT, logging to LOGFILE; extra arguments go to the binary
# (e.g. --time-scale 0.1). Waits until it answers, then echoes its pid.
sim_start() { # port logfile [arg ...]
  local port=$1 logfile=$2
  shift 2
  sim_build
  mkdir -p "$(dirname "$logfile")"
  "$SIM_BIN" --port "$port" "$@" >"$logfile" 2>&1 &
  local pid=$!
  local _
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/admin/health" >/dev/null 2>&1; then
      echo "$pid"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "replicate-sim exited at start (port $port); see $logfile"
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  die "replicate-sim did not answer on port $port within 10 s; see $logfile"
}

# Stops the simulator started by sim_start (SIGTERM, then SIGKILL after 5 s).
sim_stop() { # pid
  local pid=${1:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  local _
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
