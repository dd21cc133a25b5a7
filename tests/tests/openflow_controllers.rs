//! Real OpenFlow controllers drive flowlab-hub (`--fail-mode secure`, so the hub's own
//! learning cannot stand in for them): `ovs-testcontroller -O OpenFlow10`,
//! `ovs-testcontroller -O OpenFlow13` and os-ken 3.1.1 with simple_switch_13's flow policy
//! (see `flowlab_tests::controllers` for why the app may be our own copy of that policy).
//!
//! Two kinds of end host, each under every controller:
//!
//! * **veth hosts**: network namespaces h1 (198.51.100.1) and h2 (198.51.100.2) on veth
//!   pairs whose switch ends are the hub's `--port 1=raw:p1 --port 2=raw:p2`. 10 pings
//!   each way with 0 % loss, then exactly 10 MiB over TCP (python3), byte count checked.
//! * **UML guests**: two busybox guests g1 and g2 on the hub's `-unix` socket, same
//!   addresses, same pings, and 10 MiB through busybox `nc` (160 blocks of 64 KiB).
//!
//! Every test then asserts that the controller's own flows are in the hub (`ovs-ofctl
//! dump-flows` on the hub's `--listen ptcp:6634`): one per direction between the two MACs,
//! with output ports that agree with each other, that carried packets, plus the
//! controller's signature (ovs-testcontroller: exact-match flows with `idle_timeout=60`,
//! TCP flows on port 5001, in 1.3 a `CONTROLLER:128` table-miss entry; os-ken: priority-1
//! flows on exactly `in_port, dl_src, dl_dst`, a `CONTROLLER:65535` table-miss entry), and
//! that the hub's `packet-ins` and `flow mods` counters (`ctl show`) rose.
//!
//! Fail modes, for both kinds of host, with `--controller` pointing at a port where
//! nothing listens: `standalone` forwards (learning switch: 0 % loss after the first
//! reply, no flows, no packet-ins, `fail-open frames` rising); `secure` forwards nothing
//! (100 % loss) until a controller is started and installs flows, then 0 % loss.
//!
//! Each test runs in its own switch namespace (hub, controller on 127.0.0.1:6653,
//! ovs-ofctl, guests) so runs never share a port; the test thread enters it
//! (`Netns::enter`). Guest tests also hold the guest lab lock, so they run one at a time;
//! veth-host tests run alongside. Needs root, Open vSwitch's tools, the os-ken venv
//! (`scripts/setup.sh`), python3, ethtool and iputils ping; a test prints `SKIP` and
//! passes when something is missing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flowlab_tests::controllers::{
    dump_flows, hub_of_stats, missing_prerequisites, try_dump_flows, try_hub_show, wait_connected,
    Controller, ControllerKind, Entered, FlowLine, GuestOutput, GuestShell, HubOfStats, Netns,
    PingStats, VethHosts, CONTROLLER_PORT, GUEST_SHELL, LISTEN_PORT,
};
use flowlab_tests::guests::{Guest, GuestLab};
use flowlab_tests::proc::wait_until;
use flowlab_tests::switch::{Switch, SwitchConfig, SwitchKind};
use flowlab_tests::TempDir;

/// Exactly 10 MiB.
const TEN_MIB: u64 = 10 * 1024 * 1024;
/// 64 KiB blocks of the guests' transfer: 10 MiB.
const GUEST_BLOCKS: u64 = TEN_MIB / 65536;
/// The hub's datapath id.
const DPID: &str = "00000000000000f1";
/// Guest MACs.
const GUEST_MACS: [&str; 2] = ["02:00:00:00:00:01", "02:00:00:00:00:02"];
/// Guest and host addresses.
const ADDRS: [&str; 2] = VethHosts::ADDRS;
/// A UML guest's own limit (`timeout`).
const GUEST_LIMIT: Duration = Duration::from_secs(300);

// ----- prerequisites ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hosts {
    Veth,
    Uml,
}

/// Prints why the test is skipped and returns true, or returns false.
fn skip(test: &str, hosts: Hosts, kind: Option<ControllerKind>) -> bool {
    let mut tools: Vec<(&str, &str)> = vec![("ovs-ofctl", "openvswitch-common")];
    match hosts {
        Hosts::Veth => tools.extend([
            ("ethtool", "ethtool"),
            ("python3", "python3"),
            ("ping", "iputils-ping"),
        ]),
        Hosts::Uml => tools.extend([
            ("linux.uml", "user-mode-linux"),
            ("busybox", "busybox-static"),
            ("setarch", "util-linux"),
            ("timeout", "coreutils"),
        ]),
    }
    // The secure fail-mode tests start a controller in their second half.
    let kinds: Vec<ControllerKind> = kind.into_iter().collect();
    for k in &kinds {
        tools.extend(k.tools());
    }
    let osken = kinds.contains(&ControllerKind::OsKen13);
    match missing_prerequisites(&tools, osken) {
        Some(why) => {
            eprintln!("SKIP {test}: {why}");
            true
        }
        None => false,
    }
}

// ----- the hub ----------------------------------------------------------------------------

/// Starts flowlab-hub in the calling thread's namespace in OpenFlow mode: an active
/// connection to 127.0.0.1:6653, a passive listener on 6634 for ovs-ofctl, and with
/// `raw` the veth ends p1 and p2 as ports 1 and 2.
fn start_hub(fail_mode: &str, protocols: &str, raw: bool) -> Switch {
    let mut args: Vec<String> = [
        "--controller".to_string(),
        format!("tcp:127.0.0.1:{CONTROLLER_PORT}"),
        "--listen".to_string(),
        format!("ptcp:{LISTEN_PORT}"),
        "--dpid".to_string(),
        DPID.to_string(),
        "--fail-mode".to_string(),
        fail_mode.to_string(),
        "--protocols".to_string(),
        protocols.to_string(),
    ]
    .into();
    if raw {
        for (i, end) in VethHosts::SWITCH_ENDS.iter().enumerate() {
            args.push("--port".into());
            args.push(format!("{}=raw:{end}", i + 1));
        }
    }
    Switch::start(SwitchKind::FlowlabHub, &SwitchConfig::switch().args(args))
}

/// The `--protocols` a test gives the hub for `kind`: exactly its version for
/// ovs-testcontroller (so OF1.0-only and OF1.3-only hubs are both exercised), both for
/// os-ken (which then negotiates 1.3).
fn protocols_for(kind: ControllerKind) -> &'static str {
    match kind {
        ControllerKind::TestController10 => "OpenFlow10",
        ControllerKind::TestController13 => "OpenFlow13",
        ControllerKind::OsKen13 => "OpenFlow10,OpenFlow13",
    }
}

/// Waits until the hub's controller connection is up and the controller has spoken
/// (hello and features request), and for OpenFlow 1.3 until its table-miss entry is in
/// the table (without it a 1.3 switch drops misses). Panics with `report` on timeout.
fn wait_controller_ready(kind: ControllerKind, ctl: &Path, report: &dyn Fn() -> String) {
    assert!(
        wait_connected(ctl, Duration::from_secs(20)),
        "{}: the hub did not connect to the controller\n{}",
        kind.name(),
        report()
    );
    let spoke = wait_until(Duration::from_secs(10), || {
        hub_of_stats(ctl).messages_in >= 2
    });
    assert!(
        spoke,
        "{}: no messages from the controller\n{}",
        kind.name(),
        report()
    );
    if kind.version() == 13 {
        let miss = wait_until(Duration::from_secs(10), || {
            dump_flows(LISTEN_PORT, 13)
                .iter()
                .any(FlowLine::is_table_miss)
        });
        assert!(
            miss,
            "{}: no table-miss flow after the handshake\n{}",
            kind.name(),
            report()
        );
    }
}

/// Everything a failure message needs: counters, flows, logs.
fn report(what: &str, hub: &Switch, ctrl: Option<&Controller>, extra: &[(&str, String)]) -> String {
    let mut out = format!("--- {what}\n");
    for (k, v) in extra {
        out += &format!("--- {k}:\n{v}\n");
    }
    let show = try_hub_show(hub.ctl())
        .map(|s| HubOfStats::parse(&s).text)
        .unwrap_or_else(|e| format!("({e})\n"));
    out += &format!("--- hub openflow state:\n{show}");
    match try_dump_flows(LISTEN_PORT, 13).or_else(|_| try_dump_flows(LISTEN_PORT, 10)) {
        Ok(f) => {
            out += "--- flows:\n";
            for l in f {
                out += &format!("{}\n", l.line);
            }
        }
        Err(e) => out += &format!("--- flows: {e}\n"),
    }
    out += &format!("--- hub log tail:\n{}\n", tail(&hub.log_text(), 30));
    if let Some(c) = ctrl {
        out += &format!(
            "--- controller {} ({}) log tail:\n{}\n",
            c.kind().name(),
            c.app(),
            tail(&c.log_text(), 30)
        );
    }
    out
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ----- what the controllers must have installed --------------------------------------------

/// The flow from `src` to `dst` MAC that carried packets (and, if given, has `extra`
/// as a field), if exactly such a flow exists.
fn flow_between<'a>(
    flows: &'a [FlowLine],
    src: &str,
    dst: &str,
    extra: Option<(&str, &str)>,
) -> Option<&'a FlowLine> {
    flows.iter().find(|f| {
        f.get("dl_src") == Some(src)
            && f.get("dl_dst") == Some(dst)
            && f.n_packets() > 0
            && f.actions.starts_with("output:")
            && match extra {
                Some((k, v)) => f.get(k) == Some(v),
                None => true,
            }
    })
}

/// Asserts the controller's flows between `macs[0]` and `macs[1]`: one each way that
/// carried packets, the output port of each equal to the other's `in_port` (and equal to
/// `ports` when the port numbers are known), and the controller's own signature. With
/// `tcp`, also the flows of the TCP transfer to port 5001 (ovs-testcontroller matches
/// exactly, so they are separate flows).
fn check_flows(
    kind: ControllerKind,
    flows: &[FlowLine],
    macs: [&str; 2],
    ports: Option<[u32; 2]>,
    tcp: bool,
    report: &dyn Fn() -> String,
) {
    let exact = kind != ControllerKind::OsKen13;
    let proto = exact.then_some(("icmp", ""));
    let fwd = flow_between(flows, macs[0], macs[1], proto);
    let rev = flow_between(flows, macs[1], macs[0], proto);
    let (Some(fwd), Some(rev)) = (fwd, rev) else {
        panic!(
            "{}: no flow with packets for {} -> {} and back ({proto:?})\n{}",
            kind.name(),
            macs[0],
            macs[1],
            report()
        );
    };
    let port = |f: &FlowLine, k: &str| f.get(k).and_then(|p| p.parse::<u32>().ok());
    let (in1, in2) = (port(fwd, "in_port"), port(rev, "in_port"));
    let out1 = fwd
        .actions
        .strip_prefix("output:")
        .and_then(|p| p.parse().ok());
    let out2 = rev
        .actions
        .strip_prefix("output:")
        .and_then(|p| p.parse().ok());
    assert!(
        in1.is_some() && out1 == in2 && out2 == in1,
        "{}: flows disagree on ports:\n{}\n{}\n{}",
        kind.name(),
        fwd.line,
        rev.line,
        report()
    );
    if let Some([p1, p2]) = ports {
        assert_eq!(
            (in1, in2),
            (Some(p1), Some(p2)),
            "{}: in_port of the flows\n{}",
            kind.name(),
            report()
        );
    }
    let learned: Vec<&FlowLine> = flows.iter().filter(|f| !f.is_table_miss()).collect();
    let misses: Vec<&FlowLine> = flows.iter().filter(|f| f.is_table_miss()).collect();
    match kind {
        ControllerKind::TestController10 | ControllerKind::TestController13 => {
            for f in &learned {
                assert_eq!(
                    f.get("idle_timeout"),
                    Some("60"),
                    "{}: ovs-testcontroller's flows idle out after 60 s: {}\n{}",
                    kind.name(),
                    f.line,
                    report()
                );
            }
            if tcp {
                let to = flow_between(flows, macs[0], macs[1], Some(("tp_dst", "5001")));
                let back = flow_between(flows, macs[1], macs[0], Some(("tp_src", "5001")));
                assert!(
                    to.is_some_and(|f| f.get("tcp").is_some())
                        && back.is_some_and(|f| f.get("tcp").is_some()),
                    "{}: no TCP flows for the transfer to port 5001\n{}",
                    kind.name(),
                    report()
                );
            }
        }
        ControllerKind::OsKen13 => {
            for f in [fwd, rev] {
                let match_fields: Vec<&str> = f
                    .fields
                    .keys()
                    .map(String::as_str)
                    .filter(|k| {
                        !matches!(
                            *k,
                            "cookie"
                                | "duration"
                                | "table"
                                | "n_packets"
                                | "n_bytes"
                                | "idle_age"
                                | "priority"
                        )
                    })
                    .collect();
                assert_eq!(
                    (f.priority(), match_fields),
                    (1, vec!["dl_dst", "dl_src", "in_port"]),
                    "{}: simple_switch_13's flows are priority 1 on in_port, eth_src, eth_dst: {}\n{}",
                    kind.name(),
                    f.line,
                    report()
                );
            }
        }
    }
    let miss_action = match kind {
        ControllerKind::TestController10 => None,
        ControllerKind::TestController13 => Some("CONTROLLER:128"),
        ControllerKind::OsKen13 => Some("CONTROLLER:65535"),
    };
    match miss_action {
        None => assert!(
            misses.is_empty(),
            "{}: an OpenFlow 1.0 controller installed a table-miss entry?\n{}",
            kind.name(),
            report()
        ),
        Some(a) => assert!(
            misses.len() == 1 && misses[0].actions == a,
            "{}: want one table-miss flow with actions={a}\n{}",
            kind.name(),
            report()
        ),
    }
}

/// Asserts that the hub's packet-in and flow-mod counters rose between two readings.
fn check_counters_rose(
    kind: ControllerKind,
    before: &HubOfStats,
    after: &HubOfStats,
    report: &dyn Fn() -> String,
) {
    assert!(
        after.packet_ins > before.packet_ins && after.flow_mods > before.flow_mods,
        "{}: packet-ins {} -> {}, flow mods {} -> {}: both must rise\n{}",
        kind.name(),
        before.packet_ins,
        after.packet_ins,
        before.flow_mods,
        after.flow_mods,
        report()
    );
}

fn assert_no_loss(what: &str, p: &PingStats, count: u32, report: &dyn Fn() -> String) {
    assert!(
        p.transmitted == count && p.received == count,
        "{what}: want {count}/{count} replies, got `{}`\n{}",
        p.summary,
        report()
    );
}

// ----- veth hosts on raw: ports --------------------------------------------------------------

/// One veth-host test's network: the switch namespace (entered), h1 and h2, a temp dir.
struct VethBed {
    // Dropped in this order: the thread leaves the namespace, then h1/h2, then the
    // switch namespace, then the dir.
    _inside: Entered,
    hosts: VethHosts,
    _sw: Netns,
    dir: TempDir,
}

impl VethBed {
    fn new() -> VethBed {
        let sw = Netns::new("flofs");
        let hosts = VethHosts::new(&sw);
        let inside = sw.enter();
        VethBed {
            _inside: inside,
            hosts,
            _sw: sw,
            dir: TempDir::new("flofc"),
        }
    }
}

fn veth_hosts_under(test: &str, kind: ControllerKind) {
    if skip(test, Hosts::Veth, Some(kind)) {
        return;
    }
    let t0 = Instant::now();
    let bed = VethBed::new();
    let ctrl = Controller::start(kind, CONTROLLER_PORT, bed.dir.path());
    let hub = start_hub("secure", protocols_for(kind), true);
    let ctl = hub.ctl().to_path_buf();
    let what = format!(
        "{} driving flowlab-hub, veth hosts on raw ports",
        kind.name()
    );
    wait_controller_ready(kind, &ctl, &|| report(&what, &hub, Some(&ctrl), &[]));
    let before = hub_of_stats(&ctl);
    let p12 = bed.hosts.ping(0, 10, "0.2", 2);
    let p21 = bed.hosts.ping(1, 10, "0.2", 2);
    let (bytes, took) = bed.hosts.tcp_transfer(TEN_MIB, Duration::from_secs(60));
    let after = hub_of_stats(&ctl);
    let flows = dump_flows(LISTEN_PORT, kind.version());
    let rep = || {
        report(
            &what,
            &hub,
            Some(&ctrl),
            &[
                ("h1 -> h2", p12.summary.clone()),
                ("h2 -> h1", p21.summary.clone()),
                ("tcp", format!("received {bytes} of {TEN_MIB} bytes")),
            ],
        )
    };
    assert_no_loss("h1 -> h2", &p12, 10, &rep);
    assert_no_loss("h2 -> h1", &p21, 10, &rep);
    assert_eq!(bytes, TEN_MIB, "TCP byte count\n{}", rep());
    check_counters_rose(kind, &before, &after, &rep);
    let macs = [bed.hosts.mac(0), bed.hosts.mac(1)];
    check_flows(kind, &flows, macs, Some([1, 2]), true, &rep);
    eprintln!(
        "{what}: pings `{}` / `{}`; {bytes} bytes in {:.2} s; packet-ins {} -> {}, flow mods {} -> {}; {} flows; test {:.1} s",
        p12.summary,
        p21.summary,
        took.as_secs_f64(),
        before.packet_ins,
        after.packet_ins,
        before.flow_mods,
        after.flow_mods,
        flows.len(),
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn veth_hosts_ovs_testcontroller_of10() {
    veth_hosts_under(
        "veth_hosts_ovs_testcontroller_of10",
        ControllerKind::TestController10,
    );
}

#[test]
fn veth_hosts_ovs_testcontroller_of13() {
    veth_hosts_under(
        "veth_hosts_ovs_testcontroller_of13",
        ControllerKind::TestController13,
    );
}

#[test]
fn veth_hosts_osken_simple_switch_13() {
    veth_hosts_under("veth_hosts_osken_simple_switch_13", ControllerKind::OsKen13);
}

#[test]
fn veth_hosts_fail_standalone_forwards_without_controller() {
    let test = "veth_hosts_fail_standalone_forwards_without_controller";
    if skip(test, Hosts::Veth, None) {
        return;
    }
    let t0 = Instant::now();
    let bed = VethBed::new();
    // --controller points at 127.0.0.1:6653, where nothing listens in this namespace.
    let hub = start_hub("standalone", "OpenFlow10,OpenFlow13", true);
    let ctl = hub.ctl().to_path_buf();
    let what = "flowlab-hub --fail-mode standalone, no controller, veth hosts";
    let first = bed.hosts.ping_until_reply(0, 10);
    let p12 = bed.hosts.ping(0, 10, "0.2", 2);
    let p21 = bed.hosts.ping(1, 10, "0.2", 2);
    let st = hub_of_stats(&ctl);
    let flows = dump_flows(LISTEN_PORT, 13);
    let rep = || {
        report(
            what,
            &hub,
            None,
            &[
                ("first reply", format!("{first:?}")),
                ("h1 -> h2", p12.summary.clone()),
                ("h2 -> h1", p21.summary.clone()),
            ],
        )
    };
    assert!(first.is_some(), "no reply at all\n{}", rep());
    assert_no_loss("h1 -> h2", &p12, 10, &rep);
    assert_no_loss("h2 -> h1", &p21, 10, &rep);
    assert!(
        !st.connected(),
        "nothing listens, yet connected?\n{}",
        rep()
    );
    assert!(
        st.packet_ins == 0 && st.fail_open_frames > 0 && flows.is_empty(),
        "standalone without a controller: want no packet-ins, no flows, fail-open frames > 0\n{}",
        rep()
    );
    eprintln!(
        "{what}: first reply after {first:?} failed probes; `{}` / `{}`; fail-open frames {}; test {:.1} s",
        p12.summary,
        p21.summary,
        st.fail_open_frames,
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn veth_hosts_fail_secure_needs_controller() {
    let test = "veth_hosts_fail_secure_needs_controller";
    let kind = ControllerKind::OsKen13;
    if skip(test, Hosts::Veth, Some(kind)) {
        return;
    }
    let t0 = Instant::now();
    let bed = VethBed::new();
    let hub = start_hub("secure", "OpenFlow10,OpenFlow13", true);
    let ctl = hub.ctl().to_path_buf();
    let what = "flowlab-hub --fail-mode secure, veth hosts";
    // No controller yet: nothing may pass.
    let dark = bed.hosts.ping(0, 3, "0.2", 1);
    let st0 = hub_of_stats(&ctl);
    let rep0 = || {
        report(
            what,
            &hub,
            None,
            &[("h1 -> h2 (no controller)", dark.summary.clone())],
        )
    };
    assert!(
        dark.transmitted == 3 && dark.received == 0,
        "secure with no controller must not forward: `{}`\n{}",
        dark.summary,
        rep0()
    );
    assert!(
        !st0.connected() && st0.fail_open_frames == 0 && st0.packet_ins == 0,
        "secure with no controller: no fail-open frames, no packet-ins\n{}",
        rep0()
    );
    // Now a controller: the hub connects (on its backoff schedule) and pings pass.
    let ctrl = Controller::start(kind, CONTROLLER_PORT, bed.dir.path());
    wait_controller_ready(kind, &ctl, &|| report(what, &hub, Some(&ctrl), &[]));
    let p12 = bed.hosts.ping(0, 10, "0.2", 2);
    let p21 = bed.hosts.ping(1, 10, "0.2", 2);
    let st1 = hub_of_stats(&ctl);
    let flows = dump_flows(LISTEN_PORT, kind.version());
    let rep = || {
        report(
            what,
            &hub,
            Some(&ctrl),
            &[
                ("h1 -> h2 (no controller)", dark.summary.clone()),
                ("h1 -> h2", p12.summary.clone()),
                ("h2 -> h1", p21.summary.clone()),
            ],
        )
    };
    assert_no_loss("h1 -> h2", &p12, 10, &rep);
    assert_no_loss("h2 -> h1", &p21, 10, &rep);
    check_counters_rose(kind, &st0, &st1, &rep);
    assert_eq!(
        st1.fail_open_frames,
        0,
        "secure never fails open\n{}",
        rep()
    );
    let macs = [bed.hosts.mac(0), bed.hosts.mac(1)];
    check_flows(kind, &flows, macs, Some([1, 2]), false, &rep);
    eprintln!(
        "{what}: without controller `{}`; with {}: `{}` / `{}`; packet-ins {} -> {}; test {:.1} s",
        dark.summary,
        kind.name(),
        p12.summary,
        p21.summary,
        st0.packet_ins,
        st1.packet_ins,
        t0.elapsed().as_secs_f64()
    );
}

/// Flows a 1.0 controller installed read back over 1.3. OF1.0 flows match untagged frames
/// exactly (`dl_vlan=0xffff`, `dl_vlan_pcp=0`, neither wildcarded); OpenFlow 1.3
/// (7.2.3.8) forbids `VLAN_PCP` beside `VLAN_VID=NONE`, so the codec drops the priority of
/// an untagged 1.0 match, or ovs-ofctl would reject the whole 1.3 flow stats reply
/// (`OFPBMC_BAD_PREREQ`), as it did before that fix.
#[test]
fn veth_hosts_of10_flows_read_over_of13() {
    let test = "veth_hosts_of10_flows_read_over_of13";
    let kind = ControllerKind::TestController10;
    if skip(test, Hosts::Veth, Some(kind)) {
        return;
    }
    let bed = VethBed::new();
    let ctrl = Controller::start(kind, CONTROLLER_PORT, bed.dir.path());
    let hub = start_hub("secure", "OpenFlow10,OpenFlow13", true);
    let ctl = hub.ctl().to_path_buf();
    let what = "ovs-testcontroller OF1.0 on a hub speaking 1.0 and 1.3, flows read over 1.3";
    wait_controller_ready(kind, &ctl, &|| report(what, &hub, Some(&ctrl), &[]));
    let p = bed.hosts.ping(0, 3, "0.2", 2);
    let rep = || report(what, &hub, Some(&ctrl), &[("h1 -> h2", p.summary.clone())]);
    assert_no_loss("h1 -> h2", &p, 3, &rep);
    let v10 = dump_flows(LISTEN_PORT, 10);
    assert!(!v10.is_empty(), "no flows over OF1.0\n{}", rep());
    let v13 = try_dump_flows(LISTEN_PORT, 13)
        .unwrap_or_else(|e| panic!("dump-flows over OF1.3: {e}\n--- over OF1.0: {v10:#?}"));
    let key = |f: &FlowLine| {
        let g = |k: &str| f.get(k).unwrap_or("-").to_string();
        (g("in_port"), g("dl_src"), g("dl_dst"), f.actions.clone())
    };
    let mut k10: Vec<_> = v10.iter().map(key).collect();
    let mut k13: Vec<_> = v13.iter().map(key).collect();
    k10.sort();
    k13.sort();
    assert_eq!(k13, k10, "the same flows over 1.3 as over 1.0\n{}", rep());
}

// ----- UML guests ---------------------------------------------------------------------------

/// Two booted guests running [`GUEST_SHELL`] on the hub's control socket.
struct GuestPair {
    shells: [GuestShell; 2],
    // Declared after the shells; the guests are asked to stop in Drop, then dropped
    // (SIGTERM, process group SIGKILL) by their own guards.
    guests: Vec<Guest>,
    lab_dir: PathBuf,
}

impl GuestPair {
    /// Boots g1 and g2 on `ctl` and waits until both serve commands.
    fn boot(lab: &GuestLab, ctl: &Path) -> GuestPair {
        lab.write_script("shell.sh", GUEST_SHELL);
        let t0 = Instant::now();
        let mut guests = Vec::new();
        for i in 0..2 {
            let name = format!("g{}", i + 1);
            let addr = format!("{}/24", ADDRS[i]);
            let eth0 = format!("daemon,{},unix,{}", GUEST_MACS[i], ctl.display());
            guests.push(lab.boot(
                &name,
                &eth0,
                "shell.sh",
                &[("LAB_ADDR", addr.as_str())],
                GUEST_LIMIT,
            ));
        }
        let lab_dir = lab.lab_dir().to_path_buf();
        let pair = GuestPair {
            shells: [
                GuestShell::new(&lab_dir, "g1"),
                GuestShell::new(&lab_dir, "g2"),
            ],
            guests,
            lab_dir,
        };
        for g in &pair.guests {
            let line = format!("{} serving", g.name());
            let up = wait_until(Duration::from_secs(90), || {
                g.lab_lines().iter().any(|l| l == &line)
            });
            assert!(
                up,
                "guest {} did not come up; console:\n{}",
                g.name(),
                g.console_tail(30)
            );
        }
        eprintln!("guests serving after {:.1} s", t0.elapsed().as_secs_f64());
        pair
    }

    /// `ping -c count -i 0.2 -W 2` from guest `from` to the other.
    fn ping(&mut self, from: usize, count: u32, wait: u32) -> (PingStats, GuestOutput) {
        let script = format!("ping -c {count} -i 0.2 -W {wait} {}", ADDRS[1 - from]);
        let out = self.shells[from].run(&script, Duration::from_secs(60));
        (PingStats::parse(&out.text), out)
    }

    /// Pings from `from` once a second until a reply (up to `tries`); the failed probes.
    fn ping_until_reply(&mut self, from: usize, tries: u32) -> Option<u32> {
        let script = format!(
            "i=0; until ping -c 1 -W 1 {} >/dev/null 2>&1; do i=$((i+1)); [ $i -ge {tries} ] && exit 1; done; echo failed=$i",
            ADDRS[1 - from]
        );
        let out = self.shells[from].run(&script, Duration::from_secs(u64::from(tries) * 3 + 10));
        out.text
            .lines()
            .find_map(|l| l.strip_prefix("failed="))
            .and_then(|n| n.trim().parse().ok())
    }

    /// g1 sends `blocks` x 64 KiB of zeros to g2 over busybox nc; returns g2's byte
    /// count, the time the sender took, and both outputs.
    fn transfer(&mut self, blocks: u64) -> (Option<u64>, Duration, String) {
        // busybox nc: keep the listener's stdin open, or the sender stops after ~2 KB.
        let listen = self.shells[1].run(
            "rm -f /tmp/rx.count\n\
             ( sleep 600 | nc -l -p 5001 | wc -c > /tmp/rx.count ) > /dev/null 2>&1 &\n\
             i=0; until netstat -ltn 2>/dev/null | grep -q ':5001 '; do i=$((i+1)); [ $i -ge 50 ] && break; sleep 0.1; done\n\
             echo listening after $i",
            Duration::from_secs(30),
        );
        let t0 = Instant::now();
        let send = self.shells[0].run(
            &format!(
                "dd if=/dev/zero bs=65536 count={blocks} 2>/dev/null | nc {} 5001; echo nc-exit=$?",
                ADDRS[1]
            ),
            Duration::from_secs(180),
        );
        let took = t0.elapsed();
        let count = self.shells[1].run(
            "i=0; while [ ! -s /tmp/rx.count ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
             echo rx=$(tr -d ' \\n' < /tmp/rx.count 2>/dev/null)",
            Duration::from_secs(30),
        );
        let n = count
            .text
            .lines()
            .find_map(|l| l.strip_prefix("rx="))
            .and_then(|n| n.trim().parse().ok());
        let text = format!(
            "g2 listen: {}\ng1 send: {}\ng2 count: {}",
            listen.text, send.text, count.text
        );
        (n, took, text)
    }

    fn consoles(&self) -> Vec<(&'static str, String)> {
        self.guests
            .iter()
            .zip(["g1 console", "g2 console"])
            .map(|(g, k)| (k, g.console_tail(15)))
            .collect()
    }
}

impl Drop for GuestPair {
    fn drop(&mut self) {
        GuestShell::stop_all(&self.lab_dir);
        for g in &mut self.guests {
            g.wait(Duration::from_secs(10));
        }
    }
}

/// One guest test's surroundings: the lab (lock first, released last), the switch
/// namespace (entered), a temp dir.
struct GuestBed {
    // Dropped in declaration order: the thread leaves the namespace, then the namespace,
    // the dir, and the lab with its lock last.
    _inside: Entered,
    _sw: Netns,
    dir: TempDir,
    lab: GuestLab,
}

impl GuestBed {
    fn new() -> GuestBed {
        let lab = GuestLab::new();
        let sw = Netns::new("flofs");
        let inside = sw.enter();
        GuestBed {
            _inside: inside,
            _sw: sw,
            dir: TempDir::new("flofc"),
            lab,
        }
    }
}

fn uml_guests_under(test: &str, kind: ControllerKind) {
    if skip(test, Hosts::Uml, Some(kind)) {
        return;
    }
    let t0 = Instant::now();
    let bed = GuestBed::new();
    let ctrl = Controller::start(kind, CONTROLLER_PORT, bed.dir.path());
    let hub = start_hub("secure", protocols_for(kind), false);
    let ctl = hub.ctl().to_path_buf();
    let what = format!("{} driving flowlab-hub, UML guests", kind.name());
    wait_controller_ready(kind, &ctl, &|| report(&what, &hub, Some(&ctrl), &[]));
    let before = hub_of_stats(&ctl);
    let mut g = GuestPair::boot(&bed.lab, &ctl);
    let t1 = Instant::now();
    let (p12, o12) = g.ping(0, 10, 2);
    let (p21, o21) = g.ping(1, 10, 2);
    let (bytes, took, xfer) = g.transfer(GUEST_BLOCKS);
    let after = hub_of_stats(&ctl);
    let flows = dump_flows(LISTEN_PORT, kind.version());
    let rep = || {
        let mut extra = vec![
            ("g1 -> g2", o12.text.clone()),
            ("g2 -> g1", o21.text.clone()),
            ("transfer", xfer.clone()),
        ];
        extra.extend(g.consoles());
        report(&what, &hub, Some(&ctrl), &extra)
    };
    assert_no_loss("g1 -> g2", &p12, 10, &rep);
    assert_no_loss("g2 -> g1", &p21, 10, &rep);
    assert_eq!(bytes, Some(TEN_MIB), "g2's byte count\n{}", rep());
    check_counters_rose(kind, &before, &after, &rep);
    check_flows(kind, &flows, GUEST_MACS, None, true, &rep);
    eprintln!(
        "{what}: pings `{}` / `{}`; {TEN_MIB} bytes in {:.2} s; packet-ins {} -> {}, flow mods {} -> {}; {} flows; traffic {:.1} s, test {:.1} s",
        p12.summary,
        p21.summary,
        took.as_secs_f64(),
        before.packet_ins,
        after.packet_ins,
        before.flow_mods,
        after.flow_mods,
        flows.len(),
        t1.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    drop(g);
}

#[test]
fn uml_guests_ovs_testcontroller_of10() {
    uml_guests_under(
        "uml_guests_ovs_testcontroller_of10",
        ControllerKind::TestController10,
    );
}

#[test]
fn uml_guests_ovs_testcontroller_of13() {
    uml_guests_under(
        "uml_guests_ovs_testcontroller_of13",
        ControllerKind::TestController13,
    );
}

#[test]
fn uml_guests_osken_simple_switch_13() {
    uml_guests_under("uml_guests_osken_simple_switch_13", ControllerKind::OsKen13);
}

#[test]
fn uml_guests_fail_standalone_forwards_without_controller() {
    let test = "uml_guests_fail_standalone_forwards_without_controller";
    if skip(test, Hosts::Uml, None) {
        return;
    }
    let t0 = Instant::now();
    let bed = GuestBed::new();
    let hub = start_hub("standalone", "OpenFlow10,OpenFlow13", false);
    let ctl = hub.ctl().to_path_buf();
    let what = "flowlab-hub --fail-mode standalone, no controller, UML guests";
    let mut g = GuestPair::boot(&bed.lab, &ctl);
    let first = g.ping_until_reply(0, 20);
    let (p12, o12) = g.ping(0, 10, 2);
    let (p21, o21) = g.ping(1, 10, 2);
    let st = hub_of_stats(&ctl);
    let flows = dump_flows(LISTEN_PORT, 13);
    let rep = || {
        let mut extra = vec![
            ("first reply", format!("{first:?}")),
            ("g1 -> g2", o12.text.clone()),
            ("g2 -> g1", o21.text.clone()),
        ];
        extra.extend(g.consoles());
        report(what, &hub, None, &extra)
    };
    assert!(first.is_some(), "no reply at all\n{}", rep());
    assert_no_loss("g1 -> g2", &p12, 10, &rep);
    assert_no_loss("g2 -> g1", &p21, 10, &rep);
    assert!(
        !st.connected(),
        "nothing listens, yet connected?\n{}",
        rep()
    );
    assert!(
        st.packet_ins == 0 && st.fail_open_frames > 0 && flows.is_empty(),
        "standalone without a controller: want no packet-ins, no flows, fail-open frames > 0\n{}",
        rep()
    );
    eprintln!(
        "{what}: first reply after {first:?} failed probes; `{}` / `{}`; fail-open frames {}; test {:.1} s",
        p12.summary,
        p21.summary,
        st.fail_open_frames,
        t0.elapsed().as_secs_f64()
    );
    drop(g);
}

#[test]
fn uml_guests_fail_secure_needs_controller() {
    let test = "uml_guests_fail_secure_needs_controller";
    let kind = ControllerKind::TestController10;
    if skip(test, Hosts::Uml, Some(kind)) {
        return;
    }
    let t0 = Instant::now();
    let bed = GuestBed::new();
    let hub = start_hub("secure", "OpenFlow10,OpenFlow13", false);
    let ctl = hub.ctl().to_path_buf();
    let what = "flowlab-hub --fail-mode secure, UML guests";
    let mut g = GuestPair::boot(&bed.lab, &ctl);
    let (dark, odark) = g.ping(0, 3, 1);
    let st0 = hub_of_stats(&ctl);
    {
        let rep0 = || {
            let mut extra = vec![("g1 -> g2 (no controller)", odark.text.clone())];
            extra.extend(g.consoles());
            report(what, &hub, None, &extra)
        };
        assert!(
            dark.transmitted == 3 && dark.received == 0,
            "secure with no controller must not forward: `{}`\n{}",
            dark.summary,
            rep0()
        );
        assert!(
            !st0.connected() && st0.fail_open_frames == 0 && st0.packet_ins == 0,
            "secure with no controller: no fail-open frames, no packet-ins\n{}",
            rep0()
        );
    }
    let ctrl = Controller::start(kind, CONTROLLER_PORT, bed.dir.path());
    wait_controller_ready(kind, &ctl, &|| report(what, &hub, Some(&ctrl), &[]));
    let (p12, o12) = g.ping(0, 10, 2);
    let (p21, o21) = g.ping(1, 10, 2);
    let st1 = hub_of_stats(&ctl);
    let flows = dump_flows(LISTEN_PORT, kind.version());
    let rep = || {
        let mut extra = vec![
            ("g1 -> g2 (no controller)", odark.text.clone()),
            ("g1 -> g2", o12.text.clone()),
            ("g2 -> g1", o21.text.clone()),
        ];
        extra.extend(g.consoles());
        report(what, &hub, Some(&ctrl), &extra)
    };
    assert_no_loss("g1 -> g2", &p12, 10, &rep);
    assert_no_loss("g2 -> g1", &p21, 10, &rep);
    check_counters_rose(kind, &st0, &st1, &rep);
    assert_eq!(
        st1.fail_open_frames,
        0,
        "secure never fails open\n{}",
        rep()
    );
    check_flows(kind, &flows, GUEST_MACS, None, false, &rep);
    eprintln!(
        "{what}: without controller `{}`; with {}: `{}` / `{}`; packet-ins {} -> {}; test {:.1} s",
        dark.summary,
        kind.name(),
        p12.summary,
        p21.summary,
        st0.packet_ins,
        st1.packet_ins,
        t0.elapsed().as_secs_f64()
    );
    drop(g);
}
