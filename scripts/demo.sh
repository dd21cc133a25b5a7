#!/usr/bin/env bash
# The demo: a Netkit lab of two User-Mode Linux guests, started by `flowlab` and wired
# through flowlab-hub; pc1 pings pc2.
#   scripts/demo.sh [--openflow]   (--openflow: the collision domain's hub is an OpenFlow
#                                   switch under flowlab-controller's l2_learning)
# Sets up the machine (scripts/setup.sh), builds the binaries, builds the busybox guest
# image on first use, starts examples/labs/two-hosts from a copy, shows the lab and the
# ping, and removes everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA=()
[ "${1:-}" = "--openflow" ] && EXTRA=(--openflow)
scripts/setup.sh
cargo build --release --quiet -p flowlab-guests -p flowlab-hub -p flowlab-controller
FLOWLAB=$PWD/target/release/flowlab

LAB=$(mktemp -d /tmp/flowlab-demo.XXXXXX)
cleanup() { "$FLOWLAB" clean -d "$LAB" >/dev/null 2>&1 || true; rm -rf "$LAB"; }
trap cleanup EXIT
cp -r examples/labs/two-hosts/. "$LAB"

"$FLOWLAB" info -d "$LAB"
"$FLOWLAB" start -d "$LAB" "${EXTRA[@]}"
echo "== pc1: ping -c 5 198.51.100.2"
"$FLOWLAB" exec -d "$LAB" pc1 -- ping -c 5 -i 0.2 198.51.100.2
"$FLOWLAB" halt -d "$LAB"
