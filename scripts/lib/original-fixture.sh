# The original Picture app's database (supabase/tests/fixtures/original), for the upgrade-in-place tests
# (issue 13). Sourced after env.sh and pg.sh:
#
#   source scripts/lib/env.sh; source scripts/lib/pg.sh; source scripts/lib/original-fixture.sh
#   original_fixture_load "$(pg_url 54382 somedb)"              # shim + schema + data
#   original_fixture_synthetic "$(pg_url 54382 somedb)" 1000000 # optional: a big image_generations
#
# Load into the cluster's `postgres` database (cron.database_name) to get the original pg_cron job too;
# anywhere else the schedule is skipped.

ORIGINAL_FIXTURE_DIR="$ROOT/supabase/tests/fixtures/original"

# Loads the Supabase shim, the original schema and its data into an EMPTY database (nothing in `public`,
# no migration history): the state `supabase db push` of this project's migrations then meets.
original_fixture_load() { # db-url
  local url=$1
  local existing
  existing=$(pg_psql "$url" -At -c "
    select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where (n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm'))
        or (n.nspname = 'supabase_migrations' and c.relname = 'schema_migrations')") ||
    die "original fixture: cannot reach $url"
  [ "$existing" = 0 ] || die "original fixture: $url is not empty ($existing tables or views); use a new database"
  pg_psql "$url" \
    -f "$ROOT/scripts/local/shim.sql" \
    -f "$ORIGINAL_FIXTURE_DIR/schema.sql" \
    -f "$ORIGINAL_FIXTURE_DIR/data.sql" >/dev/null
}

# Adds ROWS synthetic generations (and their images) to a database loaded by original_fixture_load.
original_fixture_synthetic() { # db-url [rows]
  local url=$1 rows=${2:-1000000}
  pg_psql "$url" -v rows="$rows" -f "$ORIGINAL_FIXTURE_DIR/synthetic.sql" >/dev/null
}
