#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace (unit, property,
# end-to-end against the real uml_switch, vde_plug and real UML guests).
# Needs the packages of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --workspace --bins --quiet
cargo test --workspace --quiet
