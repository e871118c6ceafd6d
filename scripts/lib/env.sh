# Shared by every script: pinned tool versions, the git-ignored tool folder and the PATH that finds them.
# Sourced, not executed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"
LOCAL="$ROOT/.local"

# One place for every pinned version; wasm-bindgen must equal the crate pin in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
DENO_VERSION=2.9.6
SUPABASE_CLI_VERSION=2.117.0
PG_MAJOR=15

PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
export PATH="$TOOLS/cargo/bin:$TOOLS/npm/node_modules/.bin:$PG_BIN:$HOME/.cargo/bin:$PATH"
export DENO_DIR="${DENO_DIR:-$TOOLS/deno-cache}"
export DENO_NO_UPDATE_CHECK=1

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }
