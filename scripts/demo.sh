#!/usr/bin/env bash
# The demo: two User-Mode Linux guests ping each other through flowlab-hub.
#   scripts/demo.sh [--hub]      (--hub: hub mode instead of the learning switch)
# Sets up the machine (scripts/setup.sh), builds flowlab-hub, builds a busybox root
# filesystem, boots the guests on 198.51.100.0/24, shows the switch's view, tears down.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE_FLAG=""; [ "${1:-}" = "--hub" ] && MODE_FLAG="-hub"
scripts/setup.sh
cargo build --release --quiet -p flowlab-hub
HUB=$PWD/target/release/flowlab-hub

W=$(mktemp -d /tmp/flowlab-demo.XXXXXX)      # short: unix socket paths must be < 108 bytes
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done
  [ -n "${HUBPID:-}" ] && kill -INT "$HUBPID" 2>/dev/null && wait "$HUBPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

# A busybox root filesystem, shared read-write through hostfs.
R=$W/rootfs
mkdir -p $R/{bin,sbin,etc,proc,sys,dev,tmp,root,host,usr/bin,usr/sbin} $W/lab $W/uml
cp "$(command -v busybox)" $R/bin/busybox
for a in $($R/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox $R/bin/$a; done
cat > $R/init <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t tmpfs tmpfs /tmp
hostname "$LAB_NAME"; ip link set lo up
mount -t hostfs none /host -o "$LAB_HOSTDIR"
sh "/host/$LAB_NAME.sh"
poweroff -f
INIT
chmod +x $R/init
cat > $W/lab/g1.sh <<'G1'
ip link set eth0 up; ip addr add 198.51.100.1/24 dev eth0
i=0; until ping -c1 -W1 198.51.100.2 >/dev/null 2>&1; do i=$((i+1)); [ $i -ge 60 ] && break; done
echo "g1: pinging g2 through flowlab-hub"
ping -c 5 -i 0.2 198.51.100.2
: > /host/g1.done
G1
cat > $W/lab/g2.sh <<'G2'
ip link set eth0 up; ip addr add 198.51.100.2/24 dev eth0
i=0; while [ ! -e /host/g1.done ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done
G2

$HUB $MODE_FLAG -unix $W/hub.ctl > $W/hub.log 2>&1 < /dev/null &
HUBPID=$!
for i in $(seq 50); do [ -S $W/hub.ctl ] && break; sleep 0.1; done
boot() {  # name mac
  setsid timeout -s TERM -k 5 120 setarch "$(uname -m)" -R linux.uml \
    mem=64M umid=$1 uml_dir=$W/uml root=/dev/root rootfstype=hostfs rootflags=$R rw init=/init \
    con=null ssl=null con0=null,fd:1 eth0=daemon,$2,unix,$W/hub.ctl \
    LAB_NAME=$1 LAB_HOSTDIR=$W/lab > $W/$1.log 2>&1 < /dev/null &
  PIDS+=($!)
}
boot g2 02:00:00:00:00:02
boot g1 02:00:00:00:00:01
echo "demo: two UML guests booting on flowlab-hub ${MODE_FLAG:-(learning switch)} ..."
wait "${PIDS[1]}" || true
sed -n '/pinging g2/,$p' $W/g1.log | grep -v -e '^reboot' -e 'System halted' || true
echo "--- flowlab-hub ctl macs";     $HUB ctl $W/hub.ctl macs || true
echo "--- flowlab-hub ctl counters"; $HUB ctl $W/hub.ctl counters || true
wait "${PIDS[0]}" || true
echo "--- flowlab-hub log"; cat $W/hub.log
grep -q " 0% packet loss" $W/g1.log && echo "demo: OK" || { echo "demo: ping failed"; exit 1; }
