#!/usr/bin/env bash
# OpenFlow conformance: the os-ken 3.1.1 switch tester against flowlab-hub (or Open vSwitch).
#
#   tests/conformance/run.sh [--target flowlab|ovs] [--suite of10|of13]... [--category C]...
#                            [--out FILE] [--baseline FILE] [--save-baseline FILE]
#                            [--rerun | --no-rerun] [--timeout SECONDS] [--port N]
#                            [--hub-bin PATH] [--keep]
#
# Topology (all inside a private network namespace, nothing touches the host's network):
#
#   os-ken tester app (osken-manager tester.py) listening on 127.0.0.1:PORT
#        ^ OpenFlow 1.3                       ^ OpenFlow 1.0 or 1.3
#   br-tester (OVS userspace, dpid 2)     TARGET (dpid 1): flowlab-hub with AF_PACKET ports,
#     ports 1..3 = ts1..ts3                 or OVS bridge br-target (--target ovs, the anchor)
#        ts1 <-veth-> tg1, ts2 <-veth-> tg2, ts3 <-veth-> tg3    (target ports 1..3 = tg1..tg3)
#
# The tester packet-outs frames on br-tester port 1; they enter the target on port 1, the
# target forwards them per the flows under test, and br-tester packet-ins what comes back.
#
# --suite: of13 (target speaks OpenFlow 1.3) or of10 (target speaks 1.0; the tester switch
#   still speaks 1.3); several allowed, default of13. --category: action, match, group,
#   meter or all (several allowed, default all; of10 has only action and match). Each
#   category is one tester run with its own log.
# --out: the markdown report (default docs/conformance.md for --target flowlab,
#   /tmp/flowlab-conformance-<target>.md otherwise).
# --baseline FILE: a previous report (markdown) or a --save-baseline TSV. Exit status 1 when
#   a case OK there is not OK now. Before deciding, cases that failed with a transient error
#   (a timeout such as "Receiving timeout: no packet-in.", throughput, disconnect) and are
#   OK in the baseline are run once more (only those cases, in a second tester run).
# --rerun: re-run every transient failure once, even without a baseline. --no-rerun: never.
# --timeout: per tester run, seconds (default by category: action 300, match/group 1800,
#   meter 1800; of10 300 each). A run cut short reports its remaining cases as MISSING.
# --keep: keep the work directory (logs, OVS database, JSON results) and print its path.
# --ovs-cache: keep Open vSwitch's datapath flow cache (the default OVS configuration, as
#   in the anchor figures of shared/specs/openflow-peers.md). By default the harness sets
#   other_config:flow-limit=0, so OVS installs no datapath (megaflow) entries and every
#   frame is translated against the current OpenFlow tables. Reason: OVS answers a barrier
#   before its revalidator has updated cached datapath flows, and the tester deletes and
#   re-adds flows before every case, so a frame can meet a cached "drop" entry from the
#   moment the tables were empty. That race hits both switches: the target (spurious
#   "Receiving timeout: no change in tx_packets on target") and the tester switch
#   (spurious "increment in rx_packets in tester"), and it is worse on a quiet machine.
#   Measured here with OVS as target, of13/action: cache on 106-108 OK in about 105 s (34
#   timeouts), cache off 140 OK in about 7 s (no timeouts).
#
# Needs root (namespaces, veth, AF_PACKET), Open vSwitch (ovsdb-server, ovs-vswitchd,
# ovs-vsctl) and the os-ken venv: scripts/setup.sh installs both. Environment:
# FLOWLAB_VENV (default /opt/flowlab/osken-venv), FLOWLAB_HUB_BIN (flowlab-hub binary).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PARSE=(python3 "$HERE/parse_log.py")

TARGET=flowlab
SUITES=()
CATEGORIES=()
OUT=""
BASELINE=""
SAVE_BASELINE=""
RERUN=auto
TIMEOUT=""
PORT=6653
HUB_BIN="${FLOWLAB_HUB_BIN:-}"
KEEP=0
OVS_CACHE=0
VENV="${FLOWLAB_VENV:-/opt/flowlab/osken-venv}"

die() { echo "conformance: $*" >&2; exit 2; }
log() { echo "conformance: $*" >&2; }

while (($#)); do
  case "$1" in
    --target) TARGET=${2:?}; shift 2 ;;
    --suite) IFS=, read -ra s <<<"${2:?}"; SUITES+=("${s[@]}"); shift 2 ;;
    --category) IFS=, read -ra s <<<"${2:?}"; CATEGORIES+=("${s[@]}"); shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --baseline) BASELINE=${2:?}; shift 2 ;;
    --save-baseline) SAVE_BASELINE=${2:?}; shift 2 ;;
    --rerun) RERUN=yes; shift ;;
    --no-rerun) RERUN=no; shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --port) PORT=${2:?}; shift 2 ;;
    --hub-bin) HUB_BIN=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --ovs-cache) OVS_CACHE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

case "$TARGET" in flowlab|ovs) ;; *) die "--target must be flowlab or ovs" ;; esac
((${#SUITES[@]})) || SUITES=(of13)
((${#CATEGORIES[@]})) || CATEGORIES=(all)
for s in "${SUITES[@]}"; do case "$s" in of10|of13) ;; *) die "--suite must be of10 or of13, not '$s'" ;; esac; done
for c in "${CATEGORIES[@]}"; do
  case "$c" in action|match|group|meter|all) ;; *) die "--category must be action, match, group, meter or all, not '$c'" ;; esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number"
[ -z "$TIMEOUT" ] || [[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
if [ -z "$OUT" ]; then
  if [ "$TARGET" = flowlab ]; then OUT="$ROOT/docs/conformance.md"; else OUT="/tmp/flowlab-conformance-$TARGET.md"; fi
fi
[ -z "$BASELINE" ] || [ -r "$BASELINE" ] || die "baseline '$BASELINE' not readable"
[ "$RERUN" != auto ] || { if [ -n "$BASELINE" ]; then RERUN=baseline; else RERUN=no; fi; }

# Preflight: say what is missing before creating anything.
[ "$(id -u)" = 0 ] || die "needs root (network namespace, veth, raw sockets)"
for cmd in ip ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl timeout python3; do
  command -v "$cmd" >/dev/null || die "'$cmd' not found: run scripts/setup.sh"
done
OSKEN="$VENV/bin/osken-manager"
[ -x "$OSKEN" ] || die "$OSKEN not found: run scripts/setup.sh (or set FLOWLAB_VENV)"
TESTS=$("$VENV/bin/python" -c 'import os, os_ken.tests.switch as t; print(os.path.dirname(t.__file__))' 2>/dev/null) \
  || die "os_ken.tests.switch not importable from $VENV"
[ -f "$TESTS/tester.py" ] || die "$TESTS/tester.py missing (os-ken 3.1.1 ships it; 4.x does not)"
if [ "$TARGET" = flowlab ]; then
  if [ -z "$HUB_BIN" ]; then
    for b in "$ROOT/target/release/flowlab-hub" "$ROOT/target/debug/flowlab-hub"; do
      [ -x "$b" ] && { HUB_BIN=$b; break; }
    done
  fi
  [ -n "$HUB_BIN" ] && [[ "$HUB_BIN" != */* ]] && HUB_BIN=$(command -v "$HUB_BIN" || true)
  [ -n "$HUB_BIN" ] && [ -x "$HUB_BIN" ] || die "flowlab-hub not found: cargo build --release -p flowlab-hub, or set FLOWLAB_HUB_BIN"
  HUB_BIN=$(realpath "$HUB_BIN")
fi

ID=$$
NS="flowlab-conf-$ID"
WORK="/tmp/flowlab-conf-$ID"
OVSD="$WORK/ovs"
export OVS_RUNDIR="$OVSD" OVS_LOGDIR="$OVSD" OVS_DBDIR="$OVSD" OVS_SYSCONFDIR="$OVSD"
VS=(ovs-vsctl --db="unix:$OVSD/db.sock" --timeout=20)
X=(ip netns exec "$NS")
NS_CREATED=0

# Stops a process recorded in a pidfile: TERM, up to 5 s, then KILL.
stop_pidfile() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null) || return 0
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pidfile "$WORK/osken.pid"
  stop_pidfile "$WORK/hub.pid"
  stop_pidfile "$OVSD/ovs-vswitchd.pid"
  stop_pidfile "$OVSD/ovsdb-server.pid"
  if ((NS_CREATED)); then ip netns del "$NS" 2>/dev/null || true; fi
  if ((KEEP)); then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM
mkdir -p "$OVSD" "$WORK/logs" "$WORK/results"

# --- namespace, links, Open vSwitch -----------------------------------------------------
ip netns add "$NS"
NS_CREATED=1
"${X[@]}" ip link set lo up
# No IPv6 on the links: no router solicitations or MLD reports among the test frames.
"${X[@]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for i in 1 2 3; do
  "${X[@]}" ip link add "tg$i" type veth peer name "ts$i"
  for l in "tg$i" "ts$i"; do
    # Frames here come from packet sockets and are complete; offloads off anyway so no
    # partial checksum or super-segment can ever reach a switch (see datapath port/raw.rs).
    if command -v ethtool >/dev/null; then "${X[@]}" ethtool -K "$l" tx off tso off gso off >/dev/null 2>&1 || true; fi
    "${X[@]}" ip link set "$l" up
  done
done

ovsdb-tool create "$OVSD/conf.db" /usr/share/openvswitch/vswitch.ovsschema
"${X[@]}" ovsdb-server "$OVSD/conf.db" --remote="punix:$OVSD/db.sock" --unixctl="$OVSD/ovsdb-server.ctl" \
  --pidfile="$OVSD/ovsdb-server.pid" --log-file="$OVSD/ovsdb-server.log" --detach --no-chdir -vconsole:off 2>>"$OVSD/start.log"
"${VS[@]}" --no-wait init
((OVS_CACHE)) || "${VS[@]}" --no-wait set Open_vSwitch . other_config:flow-limit=0
"${X[@]}" ovs-vswitchd "unix:$OVSD/db.sock" --unixctl="$OVSD/ovs-vswitchd.ctl" \
  --pidfile="$OVSD/ovs-vswitchd.pid" --log-file="$OVSD/ovs-vswitchd.log" --detach --no-chdir -vconsole:off 2>>"$OVSD/start.log"

# add_bridge NAME DPID PREFIX: a userspace bridge with ports 1..3 = PREFIX1..PREFIX3.
add_bridge() {
  local br=$1 dpid=$2 pfx=$3
  "${VS[@]}" add-br "$br" -- set bridge "$br" datapath_type=netdev protocols=OpenFlow13 fail_mode=secure \
    other-config:datapath-id="$dpid" other-config:disable-in-band=true
  for i in 1 2 3; do "${VS[@]}" add-port "$br" "$pfx$i" -- set interface "$pfx$i" ofport_request="$i"; done
  # max_backoff: reconnect within a second when one tester run ends and the next begins.
  "${VS[@]}" -- --id=@c create controller target="\"tcp:127.0.0.1:$PORT\"" max_backoff=1000 \
    -- set bridge "$br" controller=@c >/dev/null
}
add_bridge br-tester 0000000000000002 ts
[ "$TARGET" = ovs ] && add_bridge br-target 0000000000000001 tg

# --- the target -------------------------------------------------------------------------
start_target() {
  local suite=$1 proto=OpenFlow13
  [ "$suite" = of10 ] && proto=OpenFlow10
  if [ "$TARGET" = ovs ]; then
    "${VS[@]}" set bridge br-target protocols="$proto"
    return
  fi
  local hublog="$WORK/logs/flowlab-hub-$suite.log"
  rm -f "$WORK/hub.sock"
  "${X[@]}" "$HUB_BIN" -unix "$WORK/hub.sock" --controller "tcp:127.0.0.1:$PORT" --dpid 1 \
    --fail-mode secure --protocols "$proto" \
    --port 1=raw:tg1 --port 2=raw:tg2 --port 3=raw:tg3 >>"$hublog" 2>&1 &
  echo $! >"$WORK/hub.pid"
  sleep 1
  if ! kill -0 "$(cat "$WORK/hub.pid")" 2>/dev/null; then
    log "flowlab-hub exited at start; its log:"
    tail -n 20 "$hublog" >&2 || true
    exit 2
  fi
}
# True while the target runs (always for OVS).
target_alive() {
  [ "$TARGET" = ovs ] && return 0
  [ -s "$WORK/hub.pid" ] && kill -0 "$(cat "$WORK/hub.pid")" 2>/dev/null
}
stop_target() {
  [ "$TARGET" = flowlab ] && stop_pidfile "$WORK/hub.pid"
  return 0
}

# run_tester SUITE TEST_DIR LOG SECONDS: one osken-manager run; sets RUN_SECS to its wall
# time. (Not run in a command substitution: signals must reach this shell's traps at once.)
run_tester() {
  local suite=$1 dir=$2 out=$3 limit=$4 tver=openflow13 start rc=0
  [ "$suite" = of10 ] && tver=openflow10
  start=$(date +%s)
  "${X[@]}" timeout --kill-after=10 "$limit" "$OSKEN" \
    --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port "$PORT" \
    --test-switch-target 0000000000000001 --test-switch-tester 0000000000000002 \
    --test-switch-target-version "$tver" --test-switch-tester-version openflow13 \
    --test-switch-dir "$dir" "$TESTS/tester.py" >"$out" 2>&1 &
  local pid=$! joined=0
  echo "$pid" >"$WORK/osken.pid"
  # Both switches must connect within a minute; otherwise do not wait for the time limit.
  while kill -0 "$pid" 2>/dev/null; do
    if ! target_alive; then
      log "flowlab-hub exited during the run; the rest of this run is MISSING. Its log ends:"
      tail -n 20 "$WORK/logs/flowlab-hub-$suite.log" >&2 || true
      kill -TERM "$pid" 2>/dev/null || true
      break
    fi
    if ((!joined)); then
      if grep -qs "Join target SW" "$out" && grep -qs "Join tester SW" "$out"; then
        joined=1
      elif (($(date +%s) - start > 60)); then
        grep -qs "Join target SW" "$out" || log "the target switch did not connect within 60 s"
        grep -qs "Join tester SW" "$out" || log "the tester switch did not connect within 60 s"
        kill -TERM "$pid" 2>/dev/null || true
      fi
    fi
    sleep 1
  done
  wait "$pid" || rc=$?
  rm -f "$WORK/osken.pid"
  # tester.py ends by SIGTERMing itself (143); 124 is our time limit.
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then log "tester run hit the ${limit}s limit: $out"; fi
  RUN_SECS=$(($(date +%s) - start))
}

category_limit() {
  local suite=$1 cat=$2
  if [ -n "$TIMEOUT" ]; then echo "$TIMEOUT"; return; fi
  if [ "$suite" = of10 ]; then echo 300; return; fi
  case "$cat" in action) echo 300 ;; meter) echo 1800 ;; *) echo 1800 ;; esac
}

RESULTS=()
RUN_SECS=0
T0=$(date +%s)
for suite in "${SUITES[@]}"; do
  cats=()
  for c in "${CATEGORIES[@]}"; do
    if [ "$c" = all ]; then
      for d in action match group meter; do [ -d "$TESTS/$suite/$d" ] && cats+=("$d"); done
    elif [ -d "$TESTS/$suite/$c" ]; then
      cats+=("$c")
    else
      log "$suite has no '$c' category: skipped"
    fi
  done
  # De-duplicate, keep order.
  mapfile -t cats < <(printf '%s\n' "${cats[@]}" | awk 'NF && !seen[$0]++')
  ((${#cats[@]})) || continue
  start_target "$suite"
  for cat in "${cats[@]}"; do
    dir="$TESTS/$suite/$cat"
    tlog="$WORK/logs/$suite-$cat.log"
    res="$WORK/results/$suite-$cat.json"
    target_alive || { log "restarting flowlab-hub"; start_target "$suite"; }
    log "$suite/$cat: running (target $TARGET)"
    run_tester "$suite" "$dir" "$tlog" "$(category_limit "$suite" "$cat")"
    "${PARSE[@]}" parse --log "$tlog" --suite "$suite" --category "$cat" --test-dir "$dir" --seconds "$RUN_SECS" --out "$res"
    if [ "$RERUN" != no ]; then
      sub="$WORK/rerun/$suite-$cat"
      bl=(); [ "$RERUN" = baseline ] && bl=(--baseline "$BASELINE")
      n=$("${PARSE[@]}" rerun-set --results "$res" --test-dir "$dir" --out-dir "$sub" "${bl[@]}")
      if [ "$n" -gt 0 ]; then
        log "$suite/$cat: re-running $n case(s) that failed with a transient error"
        rlog="$WORK/logs/$suite-$cat-rerun.log"
        run_tester "$suite" "$sub" "$rlog" "$(category_limit "$suite" "$cat")"
        "${PARSE[@]}" parse --log "$rlog" --suite "$suite" --category "$cat" --test-dir "$sub" --seconds "$RUN_SECS" --out "$res.rerun"
        "${PARSE[@]}" merge --results "$res" --rerun "$res.rerun" --out "$res"
      fi
    fi
    RESULTS+=("$res")
  done
  stop_target
done
((${#RESULTS[@]})) || die "nothing to run"

if [ "$TARGET" = flowlab ]; then
  tdesc="flowlab-hub ($HUB_BIN), AF_PACKET ports on veth"
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)
  [ -z "$rev" ] || tdesc="$tdesc, tree at $rev"
  git -C "$ROOT" diff --quiet HEAD 2>/dev/null || tdesc="$tdesc (with local changes)"
else
  tdesc="Open vSwitch $(ovs-vswitchd --version | awk 'NR==1{print $NF}') userspace (datapath_type=netdev), bridge br-target"
fi
if ((OVS_CACHE)); then cache="datapath flow cache on (OVS default)"; else cache="datapath flow cache off (flow-limit=0)"; fi
tester="os-ken $("$OSKEN" --version 2>&1 | awk '/osken-manager/{print $2}') tester.py; tester switch: Open vSwitch userspace br-tester, $cache"
mkdir -p "$(dirname "$OUT")"
cmdline="tests/conformance/run.sh --target $TARGET"
((OVS_CACHE == 0)) || cmdline+=" --ovs-cache"
cmdline+=" --suite $(IFS=,; echo "${SUITES[*]}") --category $(IFS=,; echo "${CATEGORIES[*]}")"
cmdline+=" ($(($(date +%s) - T0)) s)"
rep=(report "${RESULTS[@]}" --out "$OUT" --target "$tdesc" --tester "$tester" --command "$cmdline")
[ -z "$BASELINE" ] || rep+=(--baseline "$BASELINE")
[ -z "$SAVE_BASELINE" ] || rep+=(--save-baseline "$SAVE_BASELINE")
rc=0
"${PARSE[@]}" "${rep[@]}" || rc=$?
log "report: $OUT ($(($(date +%s) - T0)) s in all)"
exit "$rc"
