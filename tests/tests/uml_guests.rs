//! Real UML guests through the switch: two busybox guests, g1 198.51.100.1 and
//! g2 198.51.100.2, ping each other (10 pings each, 0% loss) and move 10 MiB over busybox
//! `nc` (160 blocks of 64 KiB; the receiver counts 10485760 bytes). Four runs through
//! flowlab-hub (learning and `-hub` mode, each over UML's `daemon` transport on `-unix CTL`
//! and over UML's `vde` transport on `--vde DIR`) and one through the real `uml_switch`
//! (harness sanity).
//!
//! The guests run one test at a time (see `flowlab_tests::guests::lab_lock`).

use std::time::{Duration, Instant};

use flowlab_tests::guests::{Guest, GuestLab};
use flowlab_tests::switch::{Switch, SwitchConfig, SwitchKind};

/// 64 KiB blocks to send: 10 MiB.
const BLOCKS: u64 = 160;
/// The guests' own limit (`timeout`).
const GUEST_LIMIT: Duration = Duration::from_secs(180);
/// How long the test waits for both guests to halt.
const WAIT: Duration = Duration::from_secs(200);

const G1: &str = r#"
ip link set eth0 up
ip addr add 198.51.100.1/24 dev eth0
i=0
until ping -c1 -W1 198.51.100.2 >/dev/null 2>&1; do i=$((i+1)); [ $i -ge 60 ] && break; done
echo "LAB: g1 first reply after $i failed probes"
ping -c 10 -i 0.2 198.51.100.2 > /tmp/ping.out 2>&1
echo "LAB: g1 ping: $(grep 'packet loss' /tmp/ping.out)"
# the transfer starts once g2 has pinged too (no bulk traffic under the pings)
j=0; while [ ! -e /host/g2.pinged ] && [ $j -lt 600 ]; do sleep 0.1; j=$((j+1)); done
dd if=/dev/zero bs=65536 count=$LAB_BLOCKS 2>/dev/null | nc 198.51.100.2 5001
echo "LAB: g1 sent $((65536*LAB_BLOCKS)) bytes nc exit=$?"
: > /host/g1.done
# stay up until g2 is done with us
k=0; while [ ! -e /host/g2.done ] && [ $k -lt 600 ]; do sleep 0.2; k=$((k+1)); done
echo "LAB: g1 finished"
"#;

const G2: &str = r#"
ip link set eth0 up
ip addr add 198.51.100.2/24 dev eth0
# busybox nc: keep the listener's stdin open, or the sender stops after ~2 KB
( sleep 600 | nc -l -p 5001 | wc -c > /tmp/rx.count ) &
i=0
until ping -c1 -W1 198.51.100.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -ge 60 ] && break; done
echo "LAB: g2 first reply after $i failed probes"
ping -c 10 -i 0.2 198.51.100.1 > /tmp/ping.out 2>&1
echo "LAB: g2 ping: $(grep 'packet loss' /tmp/ping.out)"
: > /host/g2.pinged
i=0; while [ ! -e /host/g1.done ] && [ $i -lt 900 ]; do sleep 0.2; i=$((i+1)); done
j=0; while [ ! -s /tmp/rx.count ] && [ $j -lt 100 ]; do sleep 0.1; j=$((j+1)); done
echo "LAB: g2 received $(tr -d ' \n' < /tmp/rx.count 2>/dev/null) bytes"
: > /host/g2.done
"#;

#[derive(Clone, Copy, Debug)]
enum Transport {
    /// `eth0=daemon,MAC,unix,CTL`
    Daemon,
    /// `eth0=vde,DIR,MAC`
    Vde,
}

fn run(kind: SwitchKind, hub: bool, transport: Transport) {
    let lab = GuestLab::new();
    let mut cfg = if hub {
        SwitchConfig::hub()
    } else {
        SwitchConfig::switch()
    };
    if matches!(transport, Transport::Vde) {
        cfg = cfg.with_vde();
    }
    let sw = Switch::start(kind, &cfg);
    let eth0 = |mac: &str| match transport {
        Transport::Daemon => format!("daemon,{mac},unix,{}", sw.ctl().display()),
        Transport::Vde => format!("vde,{},{mac}", sw.vde_dir().display()),
    };
    lab.write_script("g1.sh", G1);
    lab.write_script("g2.sh", G2);
    let blocks = BLOCKS.to_string();
    let env = [("LAB_BLOCKS", blocks.as_str())];
    let t0 = Instant::now();
    let mut g2 = lab.boot("g2", &eth0("02:00:00:00:00:02"), "g2.sh", &env, GUEST_LIMIT);
    let mut g1 = lab.boot("g1", &eth0("02:00:00:00:00:01"), "g1.sh", &env, GUEST_LIMIT);
    let s1 = g1.wait(WAIT);
    // g1 halts only after g2 is done (or after its own waits ran out): g2 follows quickly.
    let s2 = g2.wait(Duration::from_secs(30).min(WAIT.saturating_sub(t0.elapsed())));
    let what = format!(
        "{} {} over UML's {transport:?} transport",
        kind.name(),
        if hub { "-hub" } else { "(learning)" }
    );
    eprintln!("{what}: guests done in {:.1} s", t0.elapsed().as_secs_f64());
    let report = || report(&what, &sw, &[&g1, &g2]);
    let l1 = g1.lab_lines();
    let l2 = g2.lab_lines();
    let has = |lines: &[String], needle: &str| lines.iter().any(|l| l.contains(needle));
    let loss0 = "10 packets transmitted, 10 packets received, 0% packet loss";
    assert!(
        has(&l1, &format!("g1 ping: {loss0}")),
        "g1 -> g2 ping\n{}",
        report()
    );
    assert!(
        has(&l2, &format!("g2 ping: {loss0}")),
        "g2 -> g1 ping\n{}",
        report()
    );
    let bytes = 65536 * BLOCKS;
    assert!(
        has(&l1, &format!("g1 sent {bytes} bytes nc exit=0")),
        "g1 send\n{}",
        report()
    );
    assert!(
        l2.iter()
            .any(|l| l == &format!("g2 received {bytes} bytes")),
        "g2 byte count (want {bytes})\n{}",
        report()
    );
    for (g, s, l) in [(&g1, s1, &l1), (&g2, s2, &l2)] {
        assert!(has(l, "script exit=0"), "{} script\n{}", g.name(), report());
        let st =
            s.unwrap_or_else(|| panic!("{} did not halt within {WAIT:?}\n{}", g.name(), report()));
        assert!(st.success(), "{} exit status {st}\n{}", g.name(), report());
    }
    drop((g1, g2));
    drop(sw);
    drop(lab);
}

fn report(what: &str, sw: &Switch, guests: &[&Guest]) -> String {
    let mut out = format!("--- {what}\n");
    for g in guests {
        out += &format!(
            "--- {} LAB lines: {:#?}\n--- {} console tail:\n{}\n",
            g.name(),
            g.lab_lines(),
            g.name(),
            g.console_tail(25)
        );
    }
    let log = sw.log_text();
    let tail: Vec<&str> = log.lines().collect();
    out += &format!(
        "--- switch log tail:\n{}\n",
        tail[tail.len().saturating_sub(25)..].join("\n")
    );
    out
}

#[test]
fn flowlab_hub_switch_daemon_transport() {
    run(SwitchKind::FlowlabHub, false, Transport::Daemon);
}

#[test]
fn flowlab_hub_hub_daemon_transport() {
    run(SwitchKind::FlowlabHub, true, Transport::Daemon);
}

#[test]
fn flowlab_hub_switch_vde_transport() {
    run(SwitchKind::FlowlabHub, false, Transport::Vde);
}

#[test]
fn flowlab_hub_hub_vde_transport() {
    run(SwitchKind::FlowlabHub, true, Transport::Vde);
}

#[test]
fn uml_switch_switch_daemon_transport() {
    run(SwitchKind::UmlSwitch, false, Transport::Daemon);
}
