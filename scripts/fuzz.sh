#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 60 s each), seeded with the
# real frames and requests under each crate's fuzz/seeds/.
#   scripts/fuzz.sh [SECONDS]
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly flags.
# Findings land in <crate>/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
for crate in datapath hub openflow controller; do
  [ -f $crate/fuzz/Cargo.toml ] || continue
  for t in $(cargo fuzz list --fuzz-dir $crate/fuzz); do
    corpus=$(mktemp -d)
    cp $crate/fuzz/seeds/$t/* "$corpus"/ 2>/dev/null || true
    echo "== $crate/$t for ${SECS}s"
    cargo fuzz run --fuzz-dir $crate/fuzz "$t" "$corpus" -- -max_total_time="$SECS" -rss_limit_mb=2048
    rm -rf "$corpus"
  done
done
