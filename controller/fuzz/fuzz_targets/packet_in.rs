//! Fuzzes the packet-in path end to end: any bytes, as a frame a host sends into a lab of
//! three real switch agents (one OpenFlow 1.0, two 1.3) cabled in a triangle, under the
//! controller running `topology,hosts,scan_detect,acl,routing` with the default
//! configuration. The frame goes through the switch pipeline, comes to the controller as a
//! packet-in, through every app (LLDP, ARP, DHCP and DNS parsing, scan counting, the ACL,
//! path computation), and whatever the apps send back (flows, packet-outs, floods) crosses
//! the cables. Nothing may panic, and nothing may make the harness see a forwarding loop
//! (it panics after too many rounds or frames on the cables).
//!
//! Each input gets a lab of its own, built and discovered afresh, so that a finding
//! replays from its input alone. That is cheap: 0.1 ms in a release build, about 5 ms under
//! the fuzzer's sanitizer and coverage (some 200 runs a second on one core), and faster than
//! one long-lived lab, whose state grows with every input (measured at 78 runs a second).
//! The frame arrives on an edge port of the 1.0 switch, again on an edge port of a 1.3
//! switch, once more on the first (now with the state the first two left: learned hosts,
//! installed flows), and then a second passes, so the apps' timers (LLDP rounds, scan
//! windows, expiries) run over what the frame left.
//!
//! Run with `cargo +nightly fuzz run packet_in seeds/packet_in` from `controller/fuzz`.

#![no_main]

use std::time::Duration;

use flowlab_controller::apps;
use flowlab_controller::config::Config;
use flowlab_controller::controller::Controller;
use flowlab_controller::harness::{agent_config, Harness};
use flowlab_controller::switch_conn::{OFP10, OFP13};
use libfuzzer_sys::fuzz_target;

const APPS: &str = "topology,hosts,scan_detect,acl,routing";

/// The edge port of every switch (ports 2 and 3 are cabled).
const EDGE: u32 = 1;

/// Switches 1 (OpenFlow 1.0), 2 and 3 (1.3), ports 1 to 3; a cable from port 2 of each to
/// port 3 of the next; two seconds for LLDP discovery, so routing floods on a tree.
fn lab() -> (Harness, [usize; 3]) {
    let config = Config::default();
    let apps = apps::build(&apps::parse_list(APPS), &config).expect("the apps build");
    let conn = config.controller.conn_config().expect("the default config");
    let mut h = Harness::new(Controller::new(conn, apps).expect("the controller starts"));
    let s = [(1, OFP10), (2, OFP13), (3, OFP13)]
        .map(|(dpid, version)| h.add_switch(agent_config(dpid, version), &[1, 2, 3]));
    for i in 0..3 {
        h.wire((s[i], 2), (s[(i + 1) % 3], 3));
    }
    for _ in 0..2 {
        h.advance(Duration::from_secs(1));
    }
    (h, s)
}

fuzz_target!(|data: &[u8]| {
    let (mut h, s) = lab();
    h.frame(s[0], EDGE, data);
    h.frame(s[1], EDGE, data);
    h.frame(s[0], EDGE, data);
    h.advance(Duration::from_secs(1));
});
