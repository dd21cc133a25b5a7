#!/usr/bin/env bash
# Installs what flowlab's demo and tests use on Debian 12 (run as root, or with sudo).
# Idempotent: packages already present are left alone.
#
# Also creates the os-ken 3.1.1 virtualenv used by the OpenFlow conformance harness
# (tests/conformance/run.sh) at ${FLOWLAB_VENV:-/opt/flowlab/osken-venv}. os-ken 3.1.1 is
# the last release with `osken-manager` (4.0.0 removed the CLI). Set FLOWLAB_SKIP_VENV=1
# to skip it.
set -euo pipefail
PKGS=(user-mode-linux uml-utilities vde2 busybox-static iproute2 iputils-ping tshark tcpdump qemu-system-x86
  openvswitch-switch openvswitch-common openvswitch-testcontroller ethtool python3-venv
  chromium e2fsprogs debootstrap)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (rustup) first" >&2; exit 1; }
echo "setup: ${PKGS[*]} present"

# os-ken switch tester venv. Debian's own python3.11 (not a pyenv shim) so the venv does not
# depend on a per-user interpreter.
OSKEN_VERSION=3.1.1
VENV="${FLOWLAB_VENV:-/opt/flowlab/osken-venv}"
if [ "${FLOWLAB_SKIP_VENV:-0}" != 1 ]; then
  if [ "$("$VENV/bin/osken-manager" --version 2>&1 | awk '{print $2}')" != "$OSKEN_VERSION" ]; then
    PY=/usr/bin/python3.11; [ -x "$PY" ] || PY=$(command -v python3)
    $SUDO mkdir -p "$(dirname "$VENV")"
    $SUDO "$PY" -m venv "$VENV"
    $SUDO "$VENV/bin/pip" install -q --disable-pip-version-check "os-ken==$OSKEN_VERSION"
  fi
  echo "setup: os-ken $OSKEN_VERSION in $VENV"
fi
