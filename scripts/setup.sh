#!/usr/bin/env bash
# Installs what flowlab's demo and tests use on Debian 12 (run as root, or with sudo).
# Idempotent: packages already present are left alone.
set -euo pipefail
PKGS=(user-mode-linux uml-utilities vde2 busybox-static iproute2 iputils-ping tshark tcpdump qemu-system-x86)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (rustup) first" >&2; exit 1; }
echo "setup: ${PKGS[*]} present"
