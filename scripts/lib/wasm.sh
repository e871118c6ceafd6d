# The committed Wasm module (supabase/functions/_shared/wasm/): what it is built from and whether the
# committed files are still that build. Sourced by scripts/build and scripts/check-wasm, after env.sh.
#
# .source-sha256 holds one hash of everything that decides the module's bytes: the sources of the two
# crates compiled into it, the workspace manifest (release profile) and lock file, the pinned toolchain,
# scripts/build (its compiler and wasm-bindgen flags) and the wasm-bindgen version that writes the glue. .files-sha256 holds the hash of each generated file, so a
# module committed without its glue (or the other way round) is caught too.
WASM_OUT="$ROOT/supabase/functions/_shared/wasm"
WASM_OUT_REL="supabase/functions/_shared/wasm"

# The inputs, relative to $ROOT. Only src/ of each crate: tests/ and fixtures never reach the module.
wasm_inputs() {
  (cd "$ROOT" && {
    printf '%s\n' Cargo.toml Cargo.lock rust-toolchain.toml scripts/build \
      crates/imagegen-core/Cargo.toml crates/imagegen-edge/Cargo.toml
    find crates/imagegen-core/src crates/imagegen-edge/src -type f
  } | LC_ALL=C sort)
}

# Prints the hash of the inputs and the wasm-bindgen version; fails if an input is missing.
wasm_source_hash() {
  local files
  files=$(wasm_inputs)
  (cd "$ROOT" && {
    # shellcheck disable=SC2086 # paths in this repository have no spaces
    sha256sum $files || return 1
    echo "wasm-bindgen $WASM_BINDGEN_VERSION"
  } | sha256sum | cut -d' ' -f1)
}

# Says what is wrong with the module in $WASM_OUT (nothing, and status 0, when it is current).
wasm_problem() {
  local stamp="$WASM_OUT/.source-sha256" sum
  if [ ! -f "$WASM_OUT/imagegen_edge_bg.wasm" ] || [ ! -f "$stamp" ] || [ ! -f "$WASM_OUT/.files-sha256" ]; then
    echo "the Wasm module is missing from $WASM_OUT_REL"
    return 1
  fi
  sum=$(wasm_source_hash) || { echo "an input of the Wasm module is missing"; return 1; }
  if [ "$(cat "$stamp")" != "$sum" ]; then
    echo "the Wasm module in $WASM_OUT_REL is stale: the Rust sources, Cargo files, toolchain, scripts/build or" \
      "wasm-bindgen version it is built from changed since it was built ($WASM_OUT_REL/.source-sha256 is" \
      "$(cat "$stamp"), the sources hash to $sum)"
    return 1
  fi
  if ! (cd "$WASM_OUT" && sha256sum --check --quiet --strict .files-sha256 >/dev/null 2>&1); then
    echo "the files in $WASM_OUT_REL are not the ones its build wrote ($WASM_OUT_REL/.files-sha256 does not" \
      "match them)"
    return 1
  fi
}
