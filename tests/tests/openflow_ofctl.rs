//! The real `ovs-ofctl` (Open vSwitch 3.1, Debian `openvswitch-common`) against
//! flowlab-hub's passive listener (`--listen ptcp:6653:127.0.0.1`), and `tshark` decoding
//! the captures of those sessions.
//!
//! Each scenario runs in its own network namespace (`flowlab_tests::openflow::Netns`):
//! the hub, its UML clients (OpenFlow ports 1, 2, 3 in connection order), every
//! `ovs-ofctl` and one `tshark -i lo` all live there, so the capture holds this
//! scenario's traffic only, and the fixed port 6653 never collides with another run.
//!
//! * `of13_*`: `-O OpenFlow13`, with and without `--no-names`: show, dump-ports-desc,
//!   add-flow/dump-flows (text compared with what was added), frames through the flows
//!   (delivery, then `n_packets`/`n_bytes`, dump-ports, dump-tables and dump-aggregate
//!   counters compared with what was sent), add-group/dump-groups, add-meter/dump-meters,
//!   mod-flows, packet-out (the exact bytes arrive on the port), del-flows. The capture:
//!   message counts per type against the commands run, no `_ws.malformed`, decoded fields
//!   (flow_mod priorities, the IPv4 OXM, packet_out in_port, group and meter ids), and the
//!   hub's own `ctl show` counters against the capture.
//! * `of10_*`: the same with `-O OpenFlow10 -F openflow10` for what OpenFlow 1.0 has
//!   (no groups, meters, goto_table; one table). tshark 4.0 leaves many 1.0 bodies
//!   undissected, so the capture is checked for message types and malformed frames.
//! * `version_mismatch_and_garbage`: a 1.3-only peer against `--protocols OpenFlow10`
//!   (and the reverse) gets HELLO_FAILED naming both sides' versions while another client
//!   keeps being served; garbage byte streams do not stop the hub from answering.
//! * `of10_dump_flows_with_13_only_flows`: 1.0 dump-flows while the table holds flows that
//!   only 1.3 can express gets an answer (a regression test).
//!
//! The tests skip (printing why) when not root or when `ip`, `ovs-ofctl` or `tshark` is
//! missing.

use std::collections::BTreeMap;
use std::time::Duration;

use flowlab_hub::client::UmlClient;
use flowlab_tests::collect::{gather, QUIET};
use flowlab_tests::frames::{frame, mac, mac_str, Mac, BROADCAST};
use flowlab_tests::openflow::{
    canonical_flow, ctl_show, flow_counters, hello_with_bitmap, normalize_flows, of_message,
    parse_hub_counters, parse_port_desc, parse_port_stats, parse_table_stats, skip,
    tshark_v10_empty_flow_mod, Capture, Decoded, Dir, Netns, Ofctl, PortStats, RawPeer, OFP10,
    OFP13,
};
use flowlab_tests::proc::wait_until;
use flowlab_tests::switch::{Switch, SwitchConfig, SwitchKind};

/// The listener's port inside each test's own namespace.
const PORT: u16 = 6653;
/// The datapath id the hub is started with.
const DPID: &str = "00000000000000ab";

// ----- frames -----------------------------------------------------------------------------

/// An Ethernet + IPv4 + UDP frame of 72 bytes (30 bytes of payload derived from `id`),
/// TTL `ttl`, a valid header checksum.
fn ipv4_frame(dst: Mac, src: Mac, ip_src: [u8; 4], ip_dst: [u8; 4], ttl: u8, id: u16) -> Vec<u8> {
    let payload = 30usize;
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let total = (20 + 8 + payload) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(&[0x40, 0, ttl, 17, 0, 0]);
    f.extend_from_slice(&ip_src);
    f.extend_from_slice(&ip_dst);
    let c = ipv4_checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&4000u16.to_be_bytes());
    f.extend_from_slice(&5000u16.to_be_bytes());
    f.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend((0..payload).map(|i| (id as u8).wrapping_add(i as u8)));
    f
}

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum = 0u32;
    for (i, w) in h.chunks(2).enumerate() {
        if i == 5 {
            continue; // the checksum field itself
        }
        sum += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `f` with TTL `ttl` and the header checksum recomputed (what mod_nw_ttl must give).
fn with_ttl(f: &[u8], ttl: u8) -> Vec<u8> {
    let mut g = f.to_vec();
    g[22] = ttl;
    let c = ipv4_checksum(&g[14..34]);
    g[24..26].copy_from_slice(&c.to_be_bytes());
    g
}

/// `f` with destination MAC `dst`.
fn with_dst(f: &[u8], dst: Mac) -> Vec<u8> {
    let mut g = f.to_vec();
    g[..6].copy_from_slice(&dst);
    g
}

fn hex(f: &[u8]) -> String {
    f.iter().map(|b| format!("{b:02x}")).collect()
}

// ----- the lab ----------------------------------------------------------------------------

/// A hub in OpenFlow mode with three UML clients (ports 1, 2, 3 = clients 0, 1, 2), an
/// ovs-ofctl, and the counters the test expects per port.
struct Lab {
    sw: Switch,
    clients: Vec<UmlClient>,
    of: Ofctl,
    ports: BTreeMap<u32, PortStats>,
}

fn start_hub(extra: &[&str]) -> Switch {
    let mut args: Vec<String> = vec![
        "--listen".into(),
        format!("ptcp:{PORT}:127.0.0.1"),
        "--dpid".into(),
        DPID.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let sw = Switch::start(SwitchKind::FlowlabHub, &SwitchConfig::switch().args(args));
    assert!(
        sw.wait_log(
            &format!("OpenFlow: listening on ptcp:{PORT}:127.0.0.1"),
            Duration::from_secs(5)
        ),
        "flowlab-hub did not report its listener; log:\n{}",
        sw.log_text()
    );
    sw
}

impl Lab {
    fn new(options: &[&str]) -> Lab {
        let sw = start_hub(&[]);
        let clients = sw.mixed_clients(3);
        let ports = (1..=3).map(|p| (p, PortStats::default())).collect();
        Lab {
            sw,
            clients,
            of: Ofctl::new(PORT, options),
            ports,
        }
    }

    /// Client `from` (port from+1) sends `frames`; each must reach exactly the clients
    /// `to` (as sent, or as `rewrite` makes it); the expected port counters follow.
    #[track_caller]
    fn send_expect(
        &mut self,
        what: &str,
        from: usize,
        frames: &[Vec<u8>],
        to: &[usize],
        rewrite: impl Fn(&[u8]) -> Vec<u8>,
    ) {
        for f in frames {
            let c = &self.clients[from];
            assert!(
                wait_until(Duration::from_secs(1), || c.send(f).expect("send")),
                "{what}: the hub's socket stayed full for 1 s"
            );
            let e = self.ports.entry(from as u32 + 1).or_default();
            e.rx_packets += 1;
            e.rx_bytes += f.len() as u64;
        }
        let out: Vec<Vec<u8>> = frames.iter().map(|f| rewrite(f)).collect();
        let d = gather(&mut self.clients, out.len() * to.len(), QUIET);
        let exp: Vec<(&[u8], &[usize])> = out.iter().map(|f| (f.as_slice(), to)).collect();
        d.assert(what, &exp);
        for f in &out {
            for &t in to {
                let e = self.ports.entry(t as u32 + 1).or_default();
                e.tx_packets += 1;
                e.tx_bytes += f.len() as u64;
            }
        }
    }

    /// `dump-ports` equals the expected counters for ports 1-3 (`names`: the port
    /// number-to-name map, for output that names ports).
    #[track_caller]
    fn check_port_counters(&self, what: &str, names: &BTreeMap<u32, String>) {
        let text = self.of.ok("dump-ports", &[]);
        let got = parse_port_stats(&text);
        for (port, want) in &self.ports {
            let stats = got
                .get(&port.to_string())
                .or_else(|| names.get(port).and_then(|n| got.get(n)))
                .unwrap_or_else(|| panic!("{what}: dump-ports has no port {port}:\n{text}"));
            assert_eq!(
                stats, want,
                "{what}: dump-ports counters of port {port} differ from what was sent:\n{text}"
            );
        }
    }

    /// `dump-flows` (normalised) equals `want` (add-flow texts).
    #[track_caller]
    fn check_flows(&self, what: &str, want: &[String]) -> String {
        let text = self.of.ok("dump-flows", &[]);
        let mut exp: Vec<String> = want.iter().map(|f| canonical_flow(f)).collect();
        exp.sort();
        assert_eq!(
            normalize_flows(&text),
            exp,
            "{what}: dump-flows differs from the flows added; output:\n{text}"
        );
        text
    }

    fn hub_context(&self) -> String {
        format!(
            "\nctl show:\n{}\nhub log:\n{}",
            ctl_show(self.sw.ctl()),
            self.sw.log_text()
        )
    }
}

/// Frame lengths summed.
fn bytes(frames: &[Vec<u8>]) -> u64 {
    frames.iter().map(|f| f.len() as u64).sum()
}

/// The flow counters of `dump` for the flow added as `added`.
#[track_caller]
fn counters_of(dump: &str, added: &str) -> (u64, u64) {
    let key = canonical_flow(added);
    *flow_counters(dump)
        .get(&key)
        .unwrap_or_else(|| panic!("dump-flows has no flow `{key}`:\n{dump}"))
}

fn parse_aggregate(text: &str) -> (u64, u64, u64) {
    let line = text
        .lines()
        .find(|l| l.contains("OFPST_AGGREGATE reply"))
        .unwrap_or_else(|| panic!("no aggregate reply in:\n{text}"));
    let kv = flowlab_tests::openflow::kv_list(line.split_once("):").map_or(line, |x| x.1));
    let n = |k: &str| -> u64 {
        kv.get(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k} in `{line}`"))
    };
    (n("packet_count"), n("byte_count"), n("flow_count"))
}

/// The capture's message counts in a readable form, for failure messages.
fn counts_text(d: &Decoded) -> String {
    format!(
        "to switch {:?}\nfrom switch {:?}\nmessages:\n{}",
        d.message_counts(Dir::ToSwitch),
        d.message_counts(Dir::FromSwitch),
        d.summary()
    )
}

/// Checks the hub's `ctl show` counters against the capture: every message the client
/// sent counted in, every message the switch sent (its HELLOs may be left out) counted
/// out, flow mods as in the capture, no errors.
#[track_caller]
fn check_hub_counters(show: &str, d: &Decoded, hello_type: u8) {
    let c = parse_hub_counters(show).unwrap_or_else(|| panic!("no openflow counters in:\n{show}"));
    let sent_in: usize = d.message_counts(Dir::ToSwitch).values().sum();
    let sent_out: usize = d.message_counts(Dir::FromSwitch).values().sum();
    let hellos_out = d.count_type(hello_type, Dir::FromSwitch);
    assert_eq!(
        c.messages_in as usize,
        sent_in,
        "hub `messages in` vs client messages in the capture\n{show}\n{}",
        counts_text(d)
    );
    assert!(
        (sent_out - hellos_out..=sent_out).contains(&(c.messages_out as usize)),
        "hub `messages out` {} vs {sent_out} switch messages ({hellos_out} HELLOs) in the capture\n{show}",
        c.messages_out
    );
    assert_eq!(
        c.flow_mods as usize,
        d.count_type(14, Dir::ToSwitch),
        "hub `flow mods` vs FLOW_MODs in the capture\n{show}"
    );
    assert_eq!(c.errors_sent, 0, "the hub sent errors:\n{show}");
}

// ----- OpenFlow 1.3 -----------------------------------------------------------------------

fn of13_session(test: &str, names: bool) {
    if skip(test) {
        return;
    }
    let ns = Netns::create("flof");
    ns.run_inside(|| of13_body(names));
}

#[test]
fn of13_ofctl_no_names() {
    of13_session("of13_ofctl_no_names", false);
}

#[test]
fn of13_ofctl_with_names() {
    of13_session("of13_ofctl_with_names", true);
}

fn of13_body(names: bool) {
    let mut opts = vec!["-O", "OpenFlow13"];
    if !names {
        opts.push("--no-names");
    }
    let mut lab = Lab::new(&opts);
    let cap = Capture::start(&lab.sw.dir().join("of13.pcapng"), PORT);
    let (m1, m2, m3) = (mac_str(&mac(1)), mac_str(&mac(2)), mac_str(&mac(3)));

    // show, dump-ports-desc: the dpid and the three client ports.
    let show = lab.of.ok("show", &[]);
    assert!(
        show.contains(&format!("dpid:{DPID}")) && show.contains("OFPT_FEATURES_REPLY (OF1.3)"),
        "show:\n{show}"
    );
    let port_names = parse_port_desc(&show);
    assert_eq!(
        port_names.keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3],
        "show lists the client ports 1-3:\n{show}"
    );
    let desc = lab.of.ok("dump-ports-desc", &[]);
    assert_eq!(
        parse_port_desc(&desc),
        port_names,
        "dump-ports-desc:\n{desc}"
    );

    // Flows, then dump-flows compared with them.
    let f_1to2 = format!("table=0,priority=100,in_port=1,dl_dst={m2},actions=output:2");
    let f_2to1 = format!("table=0,priority=100,in_port=2,dl_dst={m1},actions=output:1");
    let f_goto = "table=0,priority=50,ip,in_port=3,actions=goto_table:1".to_string();
    let f_ttl =
        "table=1,priority=5,ip,nw_src=198.51.100.0/24,actions=mod_nw_ttl:9,output:1".to_string();
    let mut flows = vec![
        f_1to2.clone(),
        f_2to1.clone(),
        f_goto.clone(),
        f_ttl.clone(),
    ];
    for f in &flows {
        lab.of.ok("add-flow", &[f]);
    }
    lab.check_flows("after add-flow", &flows);

    // A group and a meter, and flows using them.
    lab.of.ok(
        "add-group",
        &["group_id=1,type=all,bucket=output:2,bucket=output:3"],
    );
    let groups = lab.of.ok("dump-groups", &[]);
    let group_lines: Vec<&str> = groups
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("group_id="))
        .collect();
    assert_eq!(
        group_lines,
        vec!["group_id=1,type=all,bucket=actions=output:2,bucket=actions=output:3"],
        "dump-groups:\n{groups}"
    );
    lab.of
        .ok("add-meter", &["meter=1,pktps,band=type=drop,rate=100000"]);
    let meters = lab.of.ok("dump-meters", &[]);
    let meter_text: Vec<&str> = meters
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        meter_text.join(" "),
        "meter=1 pktps bands= type=drop rate=100000",
        "dump-meters:\n{meters}"
    );
    let f_group =
        "table=0,priority=200,in_port=1,dl_dst=ff:ff:ff:ff:ff:ff,actions=group:1".to_string();
    let f_meter = format!(
        "table=0,priority=60,in_port=2,dl_dst={m3},dl_type=0x88b5,actions=meter:1,output:3"
    );
    for f in [&f_group, &f_meter] {
        lab.of.ok("add-flow", &[f]);
        flows.push(f.clone());
    }
    lab.check_flows("after the group and meter flows", &flows);

    // Traffic through every flow.
    let a: Vec<Vec<u8>> = [60, 100, 200, 400, 1514]
        .iter()
        .enumerate()
        .map(|(i, &n)| frame(mac(2), mac(1), 100 + i as u64, n))
        .collect();
    lab.send_expect("port 1 -> 2", 0, &a, &[1], <[u8]>::to_vec);
    let b: Vec<Vec<u8>> = [60, 61, 1000]
        .iter()
        .enumerate()
        .map(|(i, &n)| frame(mac(1), mac(2), 200 + i as u64, n))
        .collect();
    lab.send_expect("port 2 -> 1", 1, &b, &[0], <[u8]>::to_vec);
    let ip_hit: Vec<Vec<u8>> = (0..2)
        .map(|i| {
            ipv4_frame(
                mac(7),
                mac(3),
                [198, 51, 100, 7],
                [203, 0, 113, 9],
                64,
                300 + i,
            )
        })
        .collect();
    lab.send_expect("goto_table + mod_nw_ttl", 2, &ip_hit, &[0], |f| {
        with_ttl(f, 9)
    });
    let ip_miss = vec![ipv4_frame(
        mac(7),
        mac(3),
        [203, 0, 113, 5],
        [198, 51, 100, 9],
        64,
        310,
    )];
    lab.send_expect("table 1 miss", 2, &ip_miss, &[], <[u8]>::to_vec);
    let bc = vec![frame(BROADCAST, mac(1), 400, 60)];
    lab.send_expect("group all", 0, &bc, &[1, 2], <[u8]>::to_vec);
    let me: Vec<Vec<u8>> = (0..2).map(|i| frame(mac(3), mac(2), 500 + i, 90)).collect();
    lab.send_expect("meter + output", 1, &me, &[2], <[u8]>::to_vec);

    // Counters: flows, ports, tables, aggregate.
    let dump = lab.check_flows("after traffic", &flows);
    let ip_all: Vec<Vec<u8>> = ip_hit.iter().chain(&ip_miss).cloned().collect();
    let want_flow_counts = [
        (&f_1to2, a.len(), bytes(&a)),
        (&f_2to1, b.len(), bytes(&b)),
        (&f_goto, ip_all.len(), bytes(&ip_all)),
        (&f_ttl, ip_hit.len(), bytes(&ip_hit)),
        (&f_group, bc.len(), bytes(&bc)),
        (&f_meter, me.len(), bytes(&me)),
    ];
    for (f, n, by) in want_flow_counts {
        assert_eq!(
            counters_of(&dump, f),
            (n as u64, by),
            "n_packets/n_bytes of `{f}`:\n{dump}"
        );
    }
    lab.check_port_counters("after traffic", &port_names);
    let agg = lab.of.ok("dump-aggregate", &[]);
    let (pk, by) = want_flow_counts
        .iter()
        .fold((0, 0), |(p, b), (_, n, by)| (p + *n as u64, b + by));
    assert_eq!(
        parse_aggregate(&agg),
        (pk, by, flows.len() as u64),
        "dump-aggregate: {agg}"
    );
    let tables_text = lab.of.ok("dump-tables", &[]);
    let tables = parse_table_stats(&tables_text);
    let entered = (a.len() + b.len() + ip_all.len() + bc.len() + me.len()) as u64;
    let t0 = tables.get(&0).copied().unwrap_or_default();
    let t1 = tables.get(&1).copied().unwrap_or_default();
    assert_eq!(
        (t0.active, t0.lookup, t0.matched),
        (5, entered, entered),
        "dump-tables table 0 (active, lookup, matched):\n{tables_text}"
    );
    assert_eq!(
        (t1.active, t1.lookup, t1.matched),
        (1, ip_all.len() as u64, ip_hit.len() as u64),
        "dump-tables table 1 (active, lookup, matched):\n{tables_text}"
    );

    // mod-flows: new actions, counters kept, traffic follows.
    lab.of.ok(
        "mod-flows",
        &[&format!("in_port=1,dl_dst={m2},actions=output:3")],
    );
    let f_1to3 = f_1to2.replace("output:2", "output:3");
    flows.retain(|f| *f != f_1to2);
    flows.push(f_1to3.clone());
    let dump = lab.check_flows("after mod-flows", &flows);
    assert_eq!(
        counters_of(&dump, &f_1to3),
        (a.len() as u64, bytes(&a)),
        "mod-flows keeps the counters:\n{dump}"
    );
    let a2 = vec![frame(mac(2), mac(1), 600, 70)];
    lab.send_expect("port 1 -> 3 after mod-flows", 0, &a2, &[2], <[u8]>::to_vec);

    // packet-out: exactly these bytes on port 2, then on ports 1 and 3.
    let po = frame(mac(2), mac(9), 0x5eed, 77);
    lab.of
        .ok("packet-out", &["CONTROLLER", "output:2", &hex(&po)]);
    let d = gather(&mut lab.clients, 1, QUIET);
    d.assert("packet-out output:2", &[(&po, &[1])]);
    let po2 = frame(BROADCAST, mac(9), 0x5eee, 64);
    lab.of.ok(
        "packet-out",
        &["CONTROLLER", "output:1,output:3", &hex(&po2)],
    );
    let d = gather(&mut lab.clients, 2, QUIET);
    d.assert("packet-out output:1,output:3", &[(&po2, &[0, 2])]);
    for (p, f) in [(2u32, &po), (1, &po2), (3, &po2)] {
        let e = lab.ports.entry(p).or_default();
        e.tx_packets += 1;
        e.tx_bytes += f.len() as u64;
    }
    lab.check_port_counters("after packet-out", &port_names);

    // del-flows: one table, then everything; traffic stops.
    lab.of.ok("del-flows", &["table=1"]);
    flows.retain(|f| *f != f_ttl);
    lab.check_flows("after del-flows table=1", &flows);
    lab.of.ok("del-flows", &[]);
    lab.check_flows("after del-flows", &[]);
    let z = vec![frame(mac(2), mac(1), 700, 60)];
    lab.send_expect("no flows: dropped", 0, &z, &[], <[u8]>::to_vec);
    lab.of.ok("del-groups", &[]);
    let groups = lab.of.ok("dump-groups", &[]);
    assert!(
        !groups.contains("group_id="),
        "dump-groups after del-groups:\n{groups}"
    );
    lab.of.ok("del-meters", &[]);
    let meters = lab.of.ok("dump-meters", &[]);
    assert!(
        !meters.contains("meter="),
        "dump-meters after del-meters:\n{meters}"
    );
    lab.check_port_counters("at the end", &port_names);

    let hub_show = ctl_show(lab.sw.ctl());
    let d = cap.stop();
    check_of13_capture(&lab, &d, names, &hub_show);
}

fn check_of13_capture(lab: &Lab, d: &Decoded, names: bool, hub_show: &str) {
    let of = &lab.of;
    let ctx = || format!("{}\n{}", counts_text(d), lab.hub_context());
    d.assert_well_formed("OpenFlow 1.3 session");
    assert_eq!(
        d.count_version(OFP10, Dir::Any),
        0,
        "1.0 messages in a 1.3 session\n{}",
        ctx()
    );
    let streams = d.streams().len();
    assert!(
        streams >= 20,
        "only {streams} connections captured\n{}",
        ctx()
    );
    let to = |t: u8| d.count_type(t, Dir::ToSwitch);
    let from = |t: u8| d.count_type(t, Dir::FromSwitch);
    assert_eq!(
        (to(0), from(0)),
        (streams, streams),
        "one HELLO each way per connection\n{}",
        ctx()
    );
    assert_eq!(from(1) + to(1), 0, "ERROR messages\n{}", ctx());
    assert_eq!(
        to(14),
        of.count_all(&["add-flow", "mod-flows", "del-flows"]),
        "FLOW_MOD\n{}",
        ctx()
    );
    assert_eq!(
        to(15),
        of.count_all(&["add-group", "del-groups"]),
        "GROUP_MOD\n{}",
        ctx()
    );
    assert_eq!(
        to(29),
        of.count_all(&["add-meter", "del-meters"]),
        "METER_MOD\n{}",
        ctx()
    );
    assert_eq!(to(13), of.count("packet-out"), "PACKET_OUT\n{}", ctx());
    assert_eq!(
        to(20),
        from(21),
        "a BARRIER_REPLY per BARRIER_REQUEST\n{}",
        ctx()
    );
    assert!(
        to(20) >= to(13) + to(14) + to(15) + to(29),
        "barriers after mods\n{}",
        ctx()
    );
    assert_eq!(to(5), from(6), "FEATURES_REQUEST/REPLY\n{}", ctx());
    assert!(to(5) >= 1, "show sends FEATURES_REQUEST\n{}", ctx());
    assert_eq!(to(7), from(8), "GET_CONFIG_REQUEST/REPLY\n{}", ctx());
    let known: &[u8] = &[0, 5, 6, 7, 8, 13, 14, 15, 18, 19, 20, 21, 29];
    for (&(_, t), n) in d.message_counts(Dir::Any).iter() {
        assert!(
            known.contains(&t),
            "unexpected message type {t} ({n} times)\n{}",
            ctx()
        );
    }

    // Multipart requests per type, each answered by a final reply of the same type.
    let req = |t: &str| d.count_value("openflow_v4.multipart_request.type", t, Dir::ToSwitch);
    for (t, cmd) in [
        ("1", "dump-flows"),
        ("2", "dump-aggregate"),
        ("3", "dump-tables"),
        ("4", "dump-ports"),
        ("7", "dump-groups"),
        ("10", "dump-meters"),
    ] {
        assert_eq!(
            req(t),
            of.count(cmd),
            "multipart type {t} requests ({cmd})\n{}",
            ctx()
        );
    }
    let port_desc_cmds = of.count_all(&["show", "dump-ports-desc"]);
    if names {
        assert!(req("13") >= port_desc_cmds, "PORT_DESC requests\n{}", ctx());
    } else {
        assert_eq!(req("13"), port_desc_cmds, "PORT_DESC requests\n{}", ctx());
        assert_eq!(req("12"), 0, "TABLE_FEATURES with --no-names\n{}", ctx());
    }
    let mut finals: BTreeMap<String, usize> = BTreeMap::new();
    for r in d.frames_with(OFP13, 19) {
        let types = r.get("openflow_v4.multipart_reply.type");
        let flags = r.get("openflow_v4.multipart_reply.flags");
        assert_eq!(
            types.len(),
            flags.len(),
            "frame {}: reply types vs flags",
            r.frame
        );
        for (t, f) in types.iter().zip(flags) {
            if f == "0x0000" || f == "0" {
                *finals.entry(t.clone()).or_default() += 1;
            }
        }
    }
    let mut reqs: BTreeMap<String, usize> = BTreeMap::new();
    for t in d.values("openflow_v4.multipart_request.type", Dir::ToSwitch) {
        *reqs.entry(t).or_default() += 1;
    }
    assert_eq!(
        finals,
        reqs,
        "a final multipart reply per request, by type\n{}",
        ctx()
    );

    // Decoded fields.
    let mut add_prios: Vec<String> = Vec::new();
    for r in d.frames_with(OFP13, 14) {
        for (c, p) in r
            .get("openflow_v4.flowmod.command")
            .iter()
            .zip(r.get("openflow_v4.flowmod.priority"))
        {
            if c == "0" {
                add_prios.push(p.clone());
            }
        }
    }
    add_prios.sort();
    let mut want: Vec<String> = ["100", "100", "50", "5", "200", "60"]
        .map(String::from)
        .to_vec();
    want.sort();
    assert_eq!(
        add_prios,
        want,
        "decoded FLOW_MOD ADD priorities\n{}",
        ctx()
    );
    let ttl_mod = d
        .frames_with(OFP13, 14)
        .into_iter()
        .find(|r| {
            r.get("openflow_v4.flowmod.priority")
                .contains(&"5".to_string())
        })
        .unwrap_or_else(|| panic!("no FLOW_MOD with priority 5\n{}", ctx()));
    assert_eq!(
        ttl_mod.get("openflow_v4.flowmod.table_id"),
        ["1"],
        "table of the priority-5 flow"
    );
    assert_eq!(
        ttl_mod.get("openflow_v4.oxm.value_ipv4addr"),
        ["198.51.100.0"],
        "ipv4_src OXM"
    );
    assert_eq!(
        ttl_mod.get("openflow_v4.oxm.ipv4_mask"),
        ["255.255.255.0"],
        "ipv4_src mask"
    );
    assert!(
        ttl_mod
            .get("openflow_v4.oxm.field")
            .contains(&"11".to_string()),
        "OXM_OF_IPV4_SRC (11) in {:?}",
        ttl_mod.get("openflow_v4.oxm.field")
    );
    let po_in: Vec<String> = d.values("openflow_v4.packet_out.in_port", Dir::ToSwitch);
    assert_eq!(
        po_in,
        ["4294967293", "4294967293"],
        "packet_out in_port CONTROLLER"
    );
    let po_out: Vec<String> = d
        .frames_with(OFP13, 13)
        .iter()
        .flat_map(|r| r.get("openflow_v4.action.output.port").to_vec())
        .collect();
    assert_eq!(po_out, ["2", "1", "3"], "packet_out output ports");
    let gm: Vec<(String, String)> = d
        .frames_with(OFP13, 15)
        .iter()
        .flat_map(|r| {
            r.get("openflow_v4.groupmod.group_id")
                .iter()
                .cloned()
                .zip(r.get("openflow_v4.groupmod.type").iter().cloned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        gm.first(),
        Some(&("1".to_string(), "0".to_string())),
        "GROUP_MOD id/type"
    );
    let mm = d.values("openflow_v4.metermod.meter_id", Dir::ToSwitch);
    assert_eq!(
        mm.first().map(String::as_str),
        Some("1"),
        "METER_MOD meter id"
    );
    assert!(
        d.values("openflow_v4.meter_band.rate", Dir::ToSwitch)
            .contains(&"100000".to_string()),
        "meter band rate"
    );
    let pkt_counts = d.values("openflow_v4.flow_stats.packet_count", Dir::FromSwitch);
    for n in ["5", "3", "2", "1"] {
        assert!(
            pkt_counts.contains(&n.to_string()),
            "flow stats replies carry packet_count {n}: {pkt_counts:?}"
        );
    }
    let rx = d.values("openflow_v4.port_stats.rx_packets", Dir::FromSwitch);
    let want_rx = lab.ports[&1].rx_packets.to_string();
    assert!(
        rx.contains(&want_rx),
        "port stats replies carry rx_packets {want_rx}: {rx:?}"
    );

    check_hub_counters(hub_show, d, 0);
}

// ----- OpenFlow 1.0 -----------------------------------------------------------------------

fn of10_session(test: &str, names: bool) {
    if skip(test) {
        return;
    }
    let ns = Netns::create("flof");
    ns.run_inside(|| of10_body(names));
}

#[test]
fn of10_ofctl_no_names() {
    of10_session("of10_ofctl_no_names", false);
}

#[test]
fn of10_ofctl_with_names() {
    of10_session("of10_ofctl_with_names", true);
}

fn of10_body(names: bool) {
    let mut opts = vec!["-O", "OpenFlow10", "-F", "openflow10"];
    if !names {
        opts.push("--no-names");
    }
    let mut lab = Lab::new(&opts);
    let cap = Capture::start(&lab.sw.dir().join("of10.pcapng"), PORT);
    let (m1, m2) = (mac_str(&mac(1)), mac_str(&mac(2)));

    let show = lab.of.ok("show", &[]);
    assert!(
        show.contains(&format!("dpid:{DPID}")) && show.contains("OFPT_FEATURES_REPLY (xid="),
        "show:\n{show}"
    );
    let port_names = parse_port_desc(&show);
    assert_eq!(
        port_names.keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3],
        "show (features reply) lists the client ports 1-3:\n{show}"
    );

    let f_1to2 = format!("priority=100,in_port=1,dl_dst={m2},actions=output:2");
    let f_2to1 = format!("priority=100,in_port=2,dl_dst={m1},actions=output:1");
    let f_ip =
        format!("priority=50,ip,in_port=3,nw_src=198.51.100.0/24,actions=mod_dl_dst:{m1},output:1");
    let f_two = "idle_timeout=300,priority=10,in_port=1,dl_type=0x88b5,actions=output:2,output:3"
        .to_string();
    let mut flows = vec![f_1to2.clone(), f_2to1.clone(), f_ip.clone(), f_two.clone()];
    for f in &flows {
        lab.of.ok("add-flow", &[f]);
    }
    lab.check_flows("after add-flow", &flows);

    let a: Vec<Vec<u8>> = [60, 300, 1514, 64]
        .iter()
        .enumerate()
        .map(|(i, &n)| frame(mac(2), mac(1), 100 + i as u64, n))
        .collect();
    lab.send_expect("port 1 -> 2", 0, &a, &[1], <[u8]>::to_vec);
    let b: Vec<Vec<u8>> = (0..2)
        .map(|i| frame(mac(1), mac(2), 200 + i, 100))
        .collect();
    lab.send_expect("port 2 -> 1", 1, &b, &[0], <[u8]>::to_vec);
    let ip_hit: Vec<Vec<u8>> = (0..2)
        .map(|i| {
            ipv4_frame(
                mac(7),
                mac(3),
                [198, 51, 100, 7],
                [203, 0, 113, 9],
                64,
                300 + i,
            )
        })
        .collect();
    lab.send_expect("mod_dl_dst", 2, &ip_hit, &[0], |f| with_dst(f, mac(1)));
    let ip_miss = vec![ipv4_frame(
        mac(7),
        mac(3),
        [203, 0, 113, 5],
        [198, 51, 100, 9],
        64,
        310,
    )];
    lab.send_expect("table miss", 2, &ip_miss, &[], <[u8]>::to_vec);
    let c: Vec<Vec<u8>> = (0..3).map(|i| frame(mac(3), mac(1), 400 + i, 80)).collect();
    lab.send_expect("two outputs", 0, &c, &[1, 2], <[u8]>::to_vec);

    let dump = lab.check_flows("after traffic", &flows);
    let want_flow_counts = [
        (&f_1to2, a.len(), bytes(&a)),
        (&f_2to1, b.len(), bytes(&b)),
        (&f_ip, ip_hit.len(), bytes(&ip_hit)),
        (&f_two, c.len(), bytes(&c)),
    ];
    for (f, n, by) in want_flow_counts {
        assert_eq!(
            counters_of(&dump, f),
            (n as u64, by),
            "n_packets/n_bytes of `{f}`:\n{dump}"
        );
    }
    lab.check_port_counters("after traffic", &port_names);
    let agg = lab.of.ok("dump-aggregate", &[]);
    let (pk, by) = want_flow_counts
        .iter()
        .fold((0, 0), |(p, b), (_, n, by)| (p + *n as u64, b + by));
    assert_eq!(
        parse_aggregate(&agg),
        (pk, by, flows.len() as u64),
        "dump-aggregate: {agg}"
    );
    let tables_text = lab.of.ok("dump-tables", &[]);
    let t0 = parse_table_stats(&tables_text)
        .get(&0)
        .copied()
        .unwrap_or_default();
    let entered = (a.len() + b.len() + ip_hit.len() + ip_miss.len() + c.len()) as u64;
    assert_eq!(
        (t0.active, t0.lookup, t0.matched),
        (4, entered, entered - ip_miss.len() as u64),
        "dump-tables table 0 (active, lookup, matched):\n{tables_text}"
    );

    lab.of.ok(
        "mod-flows",
        &[&format!("in_port=1,dl_dst={m2},actions=output:3")],
    );
    let f_1to3 = f_1to2.replace("output:2", "output:3");
    flows.retain(|f| *f != f_1to2);
    flows.push(f_1to3.clone());
    let dump = lab.check_flows("after mod-flows", &flows);
    assert_eq!(
        counters_of(&dump, &f_1to3),
        (a.len() as u64, bytes(&a)),
        "mod-flows keeps the counters:\n{dump}"
    );
    let a2 = vec![frame(mac(2), mac(1), 600, 70)];
    lab.send_expect("port 1 -> 3 after mod-flows", 0, &a2, &[2], <[u8]>::to_vec);

    let po = frame(mac(2), mac(9), 0x5eed, 77);
    lab.of.ok("packet-out", &["none", "output:2", &hex(&po)]);
    let d = gather(&mut lab.clients, 1, QUIET);
    d.assert("packet-out output:2", &[(&po, &[1])]);
    let e = lab.ports.entry(2).or_default();
    e.tx_packets += 1;
    e.tx_bytes += po.len() as u64;
    lab.check_port_counters("after packet-out", &port_names);

    lab.of.ok("del-flows", &[&format!("in_port=2,dl_dst={m1}")]);
    flows.retain(|f| *f != f_2to1);
    lab.check_flows("after del-flows with a match", &flows);
    lab.of.ok("del-flows", &[]);
    lab.check_flows("after del-flows", &[]);
    let z = vec![frame(mac(2), mac(1), 700, 60)];
    lab.send_expect("no flows: dropped", 0, &z, &[], <[u8]>::to_vec);
    lab.check_port_counters("at the end", &port_names);

    let hub_show = ctl_show(lab.sw.ctl());
    let d = cap.stop();
    let of = &lab.of;
    let ctx = || format!("{}\n{}", counts_text(&d), lab.hub_context());
    d.assert_well_formed_except("OpenFlow 1.0 session", tshark_v10_empty_flow_mod);
    let streams = d.streams().len();
    assert!(
        streams >= 15,
        "only {streams} connections captured\n{}",
        ctx()
    );
    // The client speaks 1.0 only; the switch's HELLO may carry its highest version.
    assert_eq!(
        d.count_version(OFP13, Dir::ToSwitch),
        0,
        "1.3 messages from ovs-ofctl\n{}",
        ctx()
    );
    let from_v4: usize = d
        .message_counts(Dir::FromSwitch)
        .iter()
        .filter(|((v, t), _)| *v == OFP13 && *t != 0)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        from_v4,
        0,
        "the switch sent 1.3 messages other than HELLO\n{}",
        ctx()
    );
    let to = |t: u8| d.count_type(t, Dir::ToSwitch);
    let from = |t: u8| d.count_type(t, Dir::FromSwitch);
    assert_eq!(
        (to(0), from(0)),
        (streams, streams),
        "one HELLO each way per connection\n{}",
        ctx()
    );
    assert_eq!(to(1) + from(1), 0, "ERROR messages\n{}", ctx());
    assert_eq!(
        to(4) + from(4),
        0,
        "VENDOR messages with -F openflow10\n{}",
        ctx()
    );
    assert_eq!(
        to(14),
        of.count_all(&["add-flow", "mod-flows", "del-flows"]),
        "FLOW_MOD\n{}",
        ctx()
    );
    assert_eq!(to(13), of.count("packet-out"), "PACKET_OUT\n{}", ctx());
    assert_eq!(
        to(18),
        from(19),
        "a BARRIER_REPLY per BARRIER_REQUEST\n{}",
        ctx()
    );
    assert!(to(18) >= to(13) + to(14), "barriers after mods\n{}", ctx());
    assert_eq!(to(5), from(6), "FEATURES_REQUEST/REPLY\n{}", ctx());
    assert_eq!(to(7), from(8), "GET_CONFIG_REQUEST/REPLY\n{}", ctx());
    assert_eq!(
        to(16),
        from(17),
        "a STATS_REPLY per STATS_REQUEST\n{}",
        ctx()
    );
    let stats_cmds = of.count_all(&["dump-flows", "dump-ports", "dump-tables", "dump-aggregate"]);
    if names {
        assert!(to(16) >= stats_cmds, "STATS_REQUESTs\n{}", ctx());
    } else {
        assert_eq!(to(16), stats_cmds, "STATS_REQUESTs\n{}", ctx());
        let st = |t: &str| d.count_value("openflow.stats.type", t, Dir::ToSwitch);
        for (t, cmd) in [
            ("1", "dump-flows"),
            ("2", "dump-aggregate"),
            ("3", "dump-tables"),
            ("4", "dump-ports"),
        ] {
            assert_eq!(
                st(t),
                of.count(cmd),
                "stats type {t} requests ({cmd})\n{}",
                ctx()
            );
        }
    }
    let known: &[u8] = &[0, 5, 6, 7, 8, 13, 14, 16, 17, 18, 19];
    for (&(_, t), n) in d.message_counts(Dir::Any).iter() {
        assert!(
            known.contains(&t),
            "unexpected message type {t} ({n} times)\n{}",
            ctx()
        );
    }
    check_hub_counters(&hub_show, &d, 0);
}

// ----- mixed versions -----------------------------------------------------------------------

/// A flow whose instructions or actions have no OpenFlow 1.0 form (goto_table,
/// mod_nw_ttl, group) must not silence the hub's answer to a 1.0 OFPST_FLOW request (it
/// once did: the reply failed to encode and nothing was sent, so ovs-ofctl waited for the
/// echo probe to drop the connection). The answer comes within a second.
#[test]
fn of10_dump_flows_with_13_only_flows() {
    if skip("of10_dump_flows_with_13_only_flows") {
        return;
    }
    let ns = Netns::create("flof");
    ns.run_inside(|| {
        let sw = start_hub(&[]);
        let of13 = Ofctl::new(PORT, &["-O", "OpenFlow13", "--no-names"]);
        let of10 = Ofctl::new(
            PORT,
            &["-O", "OpenFlow10", "-F", "openflow10", "--no-names"],
        )
        .with_timeout(3);
        let plain = "priority=100,in_port=1 actions=output:2";
        of13.ok(
            "add-flow",
            &["table=0,priority=100,in_port=1,actions=output:2"],
        );
        let dump = of10.ok("dump-flows", &[]);
        assert!(dump.contains(plain), "baseline 1.0 dump-flows:\n{dump}");
        of13.ok("add-group", &["group_id=1,type=all,bucket=output:2"]);
        let mut failures = Vec::new();
        for (flow, del) in [
            (
                "table=0,priority=50,ip,in_port=3,actions=goto_table:1",
                "ip,in_port=3",
            ),
            (
                "table=0,priority=60,ip,in_port=2,actions=mod_nw_ttl:9,output:1",
                "ip,in_port=2",
            ),
            ("table=0,priority=70,in_port=2,actions=group:1", "in_port=2"),
        ] {
            of13.ok("add-flow", &[flow]);
            let t0 = std::time::Instant::now();
            let r = of10.run("dump-flows", &[]);
            let took = t0.elapsed();
            let answered = r.code.is_some() && took < Duration::from_secs(2);
            let sensible = (r.success() && r.stdout.contains(plain))
                || r.stderr.contains("OFPT_ERROR")
                || r.stdout.contains("OFPT_ERROR");
            if !(answered && sensible) {
                failures.push(format!(
                    "with `{flow}`: `{}` exit {:?} after {took:.1?}\nstdout:\n{}stderr:\n{}",
                    r.command, r.code, r.stdout, r.stderr
                ));
            }
            of13.ok("del-flows", &[del]);
        }
        assert!(
            failures.is_empty(),
            "OpenFlow 1.0 dump-flows got no answer:\n{}\nhub log:\n{}",
            failures.join("\n"),
            sw.log_text()
        );
    });
}

// ----- negative cases ---------------------------------------------------------------------

#[test]
fn version_mismatch_and_garbage() {
    if skip("version_mismatch_and_garbage") {
        return;
    }
    let ns = Netns::create("flof");
    ns.run_inside(mismatch_body);
}

/// Reads the switch's HELLO, then expects a HELLO_FAILED error whose text names
/// `ours` and `theirs`, then the connection closed.
#[track_caller]
fn expect_hello_failed(peer: &mut RawPeer, what: &str, ours: &str, theirs: &str) {
    let mut seen = Vec::new();
    let err = loop {
        match peer.recv(Duration::from_secs(3)) {
            Ok(Some(m)) if m.msg_type == 1 => break m,
            Ok(Some(m)) => seen.push(m),
            Ok(None) => panic!("{what}: no ERROR within 3 s; got {seen:?}"),
            Err(e) => panic!("{what}: {e} before an ERROR; got {seen:?}"),
        }
    };
    assert!(
        seen.iter().all(|m| m.msg_type == 0),
        "{what}: only a HELLO may precede the error: {seen:?}"
    );
    assert!(
        err.body.len() >= 4,
        "{what}: short error body {:?}",
        err.body
    );
    let (ty, code) = (
        u16::from_be_bytes([err.body[0], err.body[1]]),
        u16::from_be_bytes([err.body[2], err.body[3]]),
    );
    assert_eq!(
        (ty, code),
        (0, 0),
        "{what}: OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE"
    );
    let text = String::from_utf8_lossy(&err.body[4..]).into_owned();
    assert!(
        text.contains(ours) && text.contains(theirs),
        "{what}: the HELLO_FAILED text should name {ours} and {theirs}: {text:?}"
    );
    assert!(
        peer.wait_closed(Duration::from_secs(3)),
        "{what}: the switch kept the connection open after HELLO_FAILED"
    );
}

/// A 1.0 client that has finished its handshake; checks it is still served.
struct Keeper {
    peer: RawPeer,
    xid: u32,
}

impl Keeper {
    fn new() -> Keeper {
        let mut peer = RawPeer::connect(PORT).expect("connecting");
        peer.send(&of_message(OFP10, 0, 1, &[])).expect("hello");
        let m = peer
            .recv(Duration::from_secs(3))
            .expect("hello reply")
            .expect("a HELLO within 3 s");
        assert_eq!(m.msg_type, 0, "first message from the switch: {m:?}");
        let mut k = Keeper { peer, xid: 100 };
        k.check("after the handshake");
        k
    }

    /// ECHO_REQUEST with a payload gets the ECHO_REPLY with the same xid and payload.
    #[track_caller]
    fn check(&mut self, what: &str) {
        self.xid += 1;
        let payload = self.xid.to_be_bytes();
        self.peer
            .send(&of_message(OFP10, 2, self.xid, &payload))
            .unwrap_or_else(|e| panic!("{what}: the long-lived client cannot send: {e}"));
        loop {
            let m = self
                .peer
                .recv(Duration::from_secs(3))
                .unwrap_or_else(|e| panic!("{what}: long-lived client: {e}"))
                .unwrap_or_else(|| panic!("{what}: no ECHO_REPLY within 3 s"));
            if m.msg_type == 2 {
                continue; // the switch's own keepalive
            }
            assert_eq!(
                (m.version, m.msg_type, m.xid, m.body.as_slice()),
                (OFP10, 3, self.xid, &payload[..]),
                "{what}: ECHO_REPLY"
            );
            break;
        }
    }
}

fn mismatch_body() {
    let mut sw = start_hub(&["--protocols", "OpenFlow10"]);
    let cap = Capture::start(&sw.dir().join("mismatch.pcapng"), PORT);
    let mut keeper = Keeper::new();

    // ovs-ofctl offering 1.3 only.
    let of13 = Ofctl::new(PORT, &["-O", "OpenFlow13", "--no-names"]);
    let r = of13.run("show", &[]);
    assert!(
        !r.success(),
        "ovs-ofctl -O OpenFlow13 against a 1.0-only hub succeeded:\n{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("version negotiation failed")
            && r.stderr.contains("0x04")
            && r.stderr.contains("0x01"),
        "ovs-ofctl should report the failed negotiation (1.3 offered, 1.0 answered):\n{}",
        r.stderr
    );
    keeper.check("after ovs-ofctl's failed negotiation");

    // A raw 1.3-only HELLO (version bitmap {1.3}).
    let mut p = RawPeer::connect(PORT).expect("connecting");
    p.send(&hello_with_bitmap(OFP13, 7, &[OFP13]))
        .expect("hello");
    expect_hello_failed(
        &mut p,
        "1.3-only peer vs --protocols OpenFlow10",
        "1.0",
        "1.3",
    );
    keeper.check("after a HELLO_FAILED");

    // The hub still serves 1.0 clients.
    let of10 = Ofctl::new(
        PORT,
        &["-O", "OpenFlow10", "-F", "openflow10", "--no-names"],
    );
    let show = of10.ok("show", &[]);
    assert!(
        show.contains(&format!("dpid:{DPID}")),
        "show after the failures:\n{show}"
    );

    let hub_show = ctl_show(sw.ctl());
    let d = cap.stop();
    d.assert_well_formed("version mismatch session");
    let hf: Vec<(String, String)> = d
        .rows
        .iter()
        .filter(|r| r.from_switch)
        .flat_map(|r| {
            r.get("openflow_v4.error.type")
                .iter()
                .cloned()
                .zip(r.get("openflow_v4.error.code").iter().cloned())
                .collect::<Vec<_>>()
        })
        .collect();
    let v1_errors = d.count_value("openflow_1_0.type", "1", Dir::FromSwitch);
    assert!(
        hf.iter().filter(|(t, c)| t == "0" && c == "0").count() + v1_errors >= 1,
        "tshark sees the switch's HELLO_FAILED ({hf:?}, {v1_errors} 1.0 errors)\n{}",
        d.summary()
    );
    let c = parse_hub_counters(&hub_show).expect("openflow counters");
    assert!(
        c.errors_sent >= 1,
        "the hub counts the HELLO_FAILED it sent:\n{hub_show}"
    );

    // Garbage on the listener: the hub lives on and answers.
    garbage_round(&mut sw, &mut keeper);

    // The reverse: a 1.3-only hub, a 1.0-only peer.
    let mut sw13 = {
        let mut args: Vec<String> = vec!["--listen".into(), format!("ptcp:{}:127.0.0.1", PORT + 1)];
        args.extend(["--protocols", "OpenFlow13"].map(String::from));
        let sw = Switch::start(SwitchKind::FlowlabHub, &SwitchConfig::switch().args(args));
        assert!(
            sw.wait_log("OpenFlow: listening on", Duration::from_secs(5)),
            "{}",
            sw.log_text()
        );
        sw
    };
    let of10b = Ofctl::new(
        PORT + 1,
        &["-O", "OpenFlow10", "-F", "openflow10", "--no-names"],
    );
    let r = of10b.run("show", &[]);
    assert!(
        !r.success(),
        "ovs-ofctl -O OpenFlow10 against a 1.3-only hub succeeded:\n{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("version negotiation failed"),
        "ovs-ofctl should report the failed negotiation:\n{}",
        r.stderr
    );
    let mut p = RawPeer::connect(PORT + 1).expect("connecting");
    p.send(&of_message(OFP10, 0, 9, &[])).expect("hello");
    expect_hello_failed(&mut p, "1.0 peer vs --protocols OpenFlow13", "1.3", "1.0");
    let of13b = Ofctl::new(PORT + 1, &["-O", "OpenFlow13", "--no-names"]);
    of13b.ok("show", &[]);
    assert!(
        sw13.running(),
        "the 1.3-only hub exited; log:\n{}",
        sw13.log_text()
    );
    keeper.check("at the end");
}

/// Deterministic pseudo-random bytes.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn garbage_round(sw: &mut Switch, keeper: &mut Keeper) {
    let of10 = Ofctl::new(
        PORT,
        &["-O", "OpenFlow10", "-F", "openflow10", "--no-names"],
    );
    let mut huge_len_hello = of_message(OFP10, 0, 1, &[]);
    huge_len_hello.extend_from_slice(&[OFP10, 10, 0xff, 0xff, 0, 0, 0, 2]);
    huge_len_hello.extend_from_slice(&noise(100, 5));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("4 KiB of noise", noise(4096, 1)),
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        ),
        ("a header with length 2", vec![OFP10, 0, 0, 2, 0, 0, 0, 1]),
        (
            "a header with length 0",
            vec![OFP13, 0, 0, 0, 0, 0, 0, 1, 0xde, 0xad],
        ),
        ("a HELLO then a cut 64 KiB message", huge_len_hello),
        (
            "a HELLO then unknown types and versions",
            [
                of_message(OFP10, 0, 1, &[]),
                of_message(OFP10, 0xee, 2, &[1, 2, 3]),
                of_message(0x7f, 5, 3, &[]),
                of_message(OFP13, 14, 4, &noise(40, 3)),
                of_message(OFP10, 14, 5, &noise(3, 4)),
            ]
            .concat(),
        ),
        ("1 MiB of noise", noise(1 << 20, 2)),
    ];
    for (what, bytes) in cases {
        let mut p = RawPeer::connect(PORT).unwrap_or_else(|e| panic!("{what}: connect: {e}"));
        // The hub may close early; a failed write is fine.
        let _ = p.send(&bytes);
        p.shutdown_write();
        let closed = p.wait_closed(Duration::from_secs(3));
        assert!(
            sw.running(),
            "{what}: flowlab-hub exited; log:\n{}",
            sw.log_text()
        );
        assert!(
            closed,
            "{what}: the hub did not close the connection after EOF"
        );
        let show = of10.ok("show", &[]);
        assert!(
            show.contains(&format!("dpid:{DPID}")),
            "{what}: show:\n{show}"
        );
        keeper.check(what);
    }
    // The unknown type got a BAD_REQUEST/BAD_TYPE error.
    let mut p = RawPeer::connect(PORT).expect("connect");
    p.send(&of_message(OFP10, 0, 1, &[])).expect("hello");
    p.send(&of_message(OFP10, 0xee, 0x77, &[1, 2, 3]))
        .expect("send");
    let mut got = Vec::new();
    let err = loop {
        match p.recv(Duration::from_secs(3)) {
            Ok(Some(m)) if m.msg_type == 1 => break m,
            Ok(Some(m)) => got.push(m),
            other => panic!("no error for an unknown message type: {other:?} after {got:?}"),
        }
    };
    assert_eq!(
        (err.version, err.xid, &err.body[..4]),
        (OFP10, 0x77, &[0u8, 1, 0, 1][..]),
        "OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE echoing the xid"
    );
    assert_eq!(
        err.body.get(4..),
        Some(&of_message(OFP10, 0xee, 0x77, &[1, 2, 3])[..]),
        "the error carries the offending message"
    );
    assert!(sw.running(), "flowlab-hub exited; log:\n{}", sw.log_text());
}
