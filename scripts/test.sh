#!/usr/bin/env bash
# The test command: formatting, lints, docs, then every test of the workspace (unit, property,
# end-to-end against the real uml_switch, vde_plug and real UML guests).
# Needs the packages of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
cargo build --workspace --bins --quiet
# The fuzz targets must build (running them is scripts/fuzz.sh).
for f in datapath/fuzz hub/fuzz openflow/fuzz; do
  [ -f $f/Cargo.toml ] && cargo build --quiet --manifest-path $f/Cargo.toml --target-dir target/fuzz
done
mkdir -p target
cargo test --workspace --quiet 2>&1 | tee target/test-output.log
# One closing line for the whole run (cargo's last line is a doc-test binary's).
awk '/^test result:/ { p += $4; f += $6 } END { printf "total: %d passed, %d failed\n", p, f; exit (f > 0 || p == 0) }' target/test-output.log
