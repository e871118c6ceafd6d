# A private Postgres 15 cluster with pg_cron and pgTAP, for the local stack and the tests. Sourced after
# env.sh. Postgres refuses to run as root, so when we are root the cluster runs as the `postgres` user.

# Runs a command as the cluster's owner.
pg_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where a cluster's files live. Under .local/ when the postgres user can reach it; otherwise (a checkout
# under a private home directory) in /var/tmp, linked from .local/ so every path stays the same.
pg_home() { # name
  local want="$LOCAL/$1"
  mkdir -p "$LOCAL"
  if [ "$(id -u)" = 0 ] && [ ! -e "$want" ] && ! runuser -u postgres -- test -x "$LOCAL"; then
    local alt
    alt="/var/tmp/imagegen-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)/$1"
    mkdir -p "$alt" && ln -sfn "$alt" "$want"
  fi
  mkdir -p "$want"
  echo "$want"
}

# Creates the cluster if it does not exist. Extra settings (e.g. fsync=off for tests) are appended.
pg_init() { # home port [setting ...]
  local home=$1 port=$2
  shift 2
  if [ -f "$home/data/PG_VERSION" ]; then return 0; fi
  mkdir -p "$home/data" "$home/run"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$home"
  chmod 700 "$home/data"
  pg_owner initdb -D "$home/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$home/initdb.log"
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$home/run'"
    echo "shared_preload_libraries = 'pg_cron'"
    echo "cron.database_name = 'postgres'"
    echo "max_connections = 200"
    echo "wal_level = logical" # Realtime needs logical decoding, as on Supabase
    echo "log_min_messages = warning"
    echo "log_line_prefix = '%m [%p] %d '"
    for setting in "$@"; do echo "$setting"; done
  } | pg_owner tee -a "$home/data/postgresql.conf" >/dev/null
}

pg_running() { # home
  pg_owner pg_ctl -D "$1/data" status >/dev/null 2>&1
}

pg_start() { # home port
  local home=$1 port=$2
  if pg_running "$home"; then return 0; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use by another program; stop it first"
  fi
  pg_owner pg_ctl -D "$home/data" -l "$home/postgres.log" -w -t 60 start >/dev/null ||
    die "Postgres did not start; see $home/postgres.log"
}

pg_stop() { # home
  if pg_running "$1"; then pg_owner pg_ctl -D "$1/data" -m fast -w stop >/dev/null; fi
}

pg_url() { # port [database]
  echo "postgresql://postgres@127.0.0.1:$1/${2:-postgres}"
}

# psql with errors fatal and no noise.
pg_psql() { # url [psql args...]
  local url=$1
  shift
  PGOPTIONS="-c client_min_messages=warning" psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"
}

# Applies the Supabase shim and then the project's migrations with the real Supabase CLI.
pg_migrate() { # url
  local url=$1
  pg_psql "$url" -f "$ROOT/scripts/local/shim.sql" >/dev/null
  (cd "$ROOT" && supabase db push --db-url "$url?sslmode=disable" --yes >"$LOCAL/db-push.log" 2>&1) || {
    cat "$LOCAL/db-push.log" >&2
    die "supabase db push failed"
  }
}
