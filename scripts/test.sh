#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace (unit, property,
# end-to-end against the real uml_switch, vde_plug and real UML guests).
# Needs the packages of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --workspace --bins --quiet
# The fuzz targets must build (running them is scripts/fuzz.sh).
for f in datapath/fuzz hub/fuzz; do
  [ -f $f/Cargo.toml ] && cargo build --quiet --manifest-path $f/Cargo.toml --target-dir target/fuzz
done
cargo test --workspace --quiet
