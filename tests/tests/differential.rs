//! Differential scenarios over the control protocol: each runs against the real
//! `uml_switch` (the reference) and against `flowlab-hub`, and asserts who receives what.
//! Where flowlab-hub deliberately differs from uml_switch, the scenario asserts each
//! switch's own behaviour:
//!
//! 1. hairpin: uml_switch unicasts back to the ingress port, flowlab-hub never does;
//! 2. truncation: uml_switch cuts datagrams to 1514 bytes, flowlab-hub forwards whole frames
//!    up to `--max-frame` (default 9216) and drops bigger ones;
//! 3. port close: uml_switch forgets only the last MAC learned on the port, flowlab-hub
//!    purges them all;
//! 4. runts: uml_switch forwards datagrams shorter than 14 bytes, flowlab-hub drops them;
//! 5. bytes after the request: uml_switch tears the port down, flowlab-hub keeps it.
//!
//! Clients alternate between the `Uml` (unconnected) and `UmlConnected` styles unless a
//! scenario says otherwise. A UML-style client's socket queue holds only
//! `net.unix.max_dgram_qlen` (10) datagrams, and uml_switch drops on a full queue, so no
//! scenario sends a client more than 8 frames between two `gather`s.

use std::os::unix::net::UnixListener;
use std::time::Duration;

use flowlab_hub::client::{ClientStyle, UmlClient};
use flowlab_tests::collect::{all_but, gather, QUIET};
use flowlab_tests::frames::{
    frame, mac, runt, small, Mac, BROADCAST, MCAST_V4, MCAST_V6, STP_GROUP,
};
use flowlab_tests::proc::wait_until;
use flowlab_tests::switch::{is_socket, run_once, Switch, SwitchConfig, SwitchKind};
use flowlab_tests::TempDir;

use SwitchKind::{FlowlabHub, UmlSwitch};

/// One `#[test]` per switch for each scenario function: `<scenario>::uml_switch` and
/// `<scenario>::flowlab_hub`.
macro_rules! both_switches {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn uml_switch() {
                super::$scenario(super::SwitchKind::UmlSwitch);
            }
            #[test]
            fn flowlab_hub() {
                super::$scenario(super::SwitchKind::FlowlabHub);
            }
        }
    )*};
}

both_switches!(
    unknown_unicast_floods,
    broadcast_and_multicast_flood,
    learning,
    mac_moves,
    hub_mode,
    port_teardown,
    many_ports,
    frame_sizes,
    jumbo_frames,
    hairpin,
    runts,
    control_extra_bytes,
    only_uml_clients,
    only_connected_clients,
    sigint_cleans_up,
    sigterm,
    second_instance_refused,
    stale_socket_taken_over,
    unknown_argument,
);

const SHORT: Duration = Duration::from_millis(100);

/// Sends one frame, retrying for up to a second while the switch's socket is full (an
/// unconnected data socket, like uml_switch's, takes only `max_dgram_qlen` datagrams).
#[track_caller]
fn send(c: &UmlClient, f: &[u8]) {
    let what = flowlab_tests::frames::describe(f);
    let ok = wait_until(Duration::from_secs(1), || match c.send(f) {
        Ok(sent) => sent,
        Err(e) => panic!("sending {what}: {e}"),
    });
    assert!(ok, "switch socket full for 1 s sending {what}");
}

/// Client `i` broadcasts one frame with source `mac(i)`, a few clients at a time, so that
/// the switch learns every client's MAC. Asserts the floods.
fn learn_all(clients: &mut [UmlClient], tag_base: u64) {
    let n = clients.len();
    let macs: Vec<Mac> = (0..n as u32).map(mac).collect();
    learn(clients, &macs, tag_base);
}

/// Client `i` broadcasts from `macs[i]`; at most 8 at a time.
fn learn(clients: &mut [UmlClient], macs: &[Mac], tag_base: u64) {
    let n = clients.len();
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let frames: Vec<(Vec<u8>, Vec<usize>)> = chunk
            .iter()
            .map(|&i| {
                (
                    small(BROADCAST, macs[i], tag_base + i as u64),
                    all_but(n, i),
                )
            })
            .collect();
        for (&i, (f, _)) in chunk.iter().zip(&frames) {
            send(&clients[i], f);
        }
        let expect: usize = frames.iter().map(|(_, to)| to.len()).sum();
        let d = gather(clients, expect, SHORT);
        let exp: Vec<(&[u8], &[usize])> = frames
            .iter()
            .map(|(f, to)| (f.as_slice(), to.as_slice()))
            .collect();
        d.assert("learning broadcasts", &exp);
    }
}

/// Sends `f` from client `from` and asserts exactly `to` receive it (once each).
#[track_caller]
fn expect_one(clients: &mut [UmlClient], from: usize, f: &[u8], to: &[usize], what: &str) {
    send(&clients[from], f);
    let d = gather(clients, to.len(), QUIET);
    d.assert(what, &[(f, to)]);
}

fn start(kind: SwitchKind, cfg: &SwitchConfig) -> Switch {
    Switch::start(kind, cfg)
}

// ---------------------------------------------------------------------------------------

fn unknown_unicast_floods(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(4);
    let f = small(mac(99), mac(0), 1);
    expect_one(&mut c, 0, &f, &[1, 2, 3], "unknown unicast from 0");
    let f = small(mac(98), mac(2), 2);
    expect_one(&mut c, 2, &f, &[0, 1, 3], "unknown unicast from 2");
    // 0 is learned now, 98 is still unknown: 3 -> 98 floods.
    let f = small(mac(98), mac(3), 3);
    expect_one(&mut c, 3, &f, &[0, 1, 2], "unknown unicast from 3");
}

fn broadcast_and_multicast_flood(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(4);
    learn_all(&mut c, 100);
    for (i, dst) in [BROADCAST, MCAST_V4, MCAST_V6, STP_GROUP]
        .into_iter()
        .enumerate()
    {
        let from = i % 4;
        let f = small(dst, mac(from as u32), 10 + i as u64);
        expect_one(&mut c, from, &f, &all_but(4, from), "group destination");
    }
    // A group *source* address is never learned: a frame to it still floods.
    let f = small(BROADCAST, MCAST_V4, 20);
    expect_one(
        &mut c,
        3,
        &f,
        &[0, 1, 2],
        "broadcast with a multicast source",
    );
    let f = small(MCAST_V4, mac(0), 21);
    expect_one(
        &mut c,
        0,
        &f,
        &[1, 2, 3],
        "multicast after a multicast source",
    );
}

fn learning(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(4);
    let f = small(mac(1), mac(0), 1);
    expect_one(&mut c, 0, &f, &[1, 2, 3], "0 -> 1 before 1 spoke: flood");
    let f = small(mac(0), mac(1), 2);
    expect_one(
        &mut c,
        1,
        &f,
        &[0],
        "1 -> 0: 0 was learned from its first frame",
    );
    let f = small(mac(1), mac(0), 3);
    expect_one(&mut c, 0, &f, &[1], "0 -> 1 after 1 spoke");
    let f = small(mac(0), mac(2), 4);
    expect_one(&mut c, 2, &f, &[0], "2 -> 0");
    let f = small(mac(1), mac(3), 5);
    expect_one(&mut c, 3, &f, &[1], "3 -> 1");
    // 2 and 3 were learned from their unicasts.
    let f = small(mac(3), mac(2), 6);
    expect_one(&mut c, 2, &f, &[3], "2 -> 3");
    // Several pairs at once.
    let pairs = [(0usize, 2usize), (1, 3), (2, 1), (3, 0)];
    let frames: Vec<Vec<u8>> = pairs
        .iter()
        .map(|&(a, b)| small(mac(b as u32), mac(a as u32), 10 + a as u64))
        .collect();
    for (&(a, _), f) in pairs.iter().zip(&frames) {
        send(&c[a], f);
    }
    let d = gather(&mut c, pairs.len(), QUIET);
    let exp: Vec<(&[u8], [usize; 1])> = pairs
        .iter()
        .zip(&frames)
        .map(|(&(_, b), f)| (f.as_slice(), [b]))
        .collect();
    let exp: Vec<(&[u8], &[usize])> = exp.iter().map(|(f, t)| (*f, t.as_slice())).collect();
    d.assert("concurrent unicast pairs", &exp);
}

fn mac_moves(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(4);
    learn_all(&mut c, 0);
    let f = small(mac(1), mac(0), 1);
    expect_one(&mut c, 0, &f, &[1], "0 -> 1 before the move");
    // mac(1) now speaks from client 2 (a guest moved, or a bridge behind 2).
    let f = small(BROADCAST, mac(1), 2);
    expect_one(&mut c, 2, &f, &[0, 1, 3], "mac(1) speaks on port 2");
    let f = small(mac(1), mac(0), 3);
    expect_one(
        &mut c,
        0,
        &f,
        &[2],
        "0 -> mac(1) follows the move to port 2",
    );
    let f = small(mac(1), mac(3), 4);
    expect_one(
        &mut c,
        3,
        &f,
        &[2],
        "3 -> mac(1) follows the move to port 2",
    );
}

fn hub_mode(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::hub());
    if kind == UmlSwitch {
        assert!(
            sw.log_text().contains("will be a hub instead of a switch"),
            "log:\n{}",
            sw.log_text()
        );
    }
    let mut c = sw.mixed_clients(4);
    learn_all(&mut c, 0);
    let f = small(mac(1), mac(0), 1);
    expect_one(
        &mut c,
        0,
        &f,
        &[1, 2, 3],
        "hub: learned unicast still floods",
    );
    let f = small(mac(0), mac(3), 2);
    expect_one(
        &mut c,
        3,
        &f,
        &[0, 1, 2],
        "hub: learned unicast still floods",
    );
    let f = small(mac(0), mac(0), 3);
    expect_one(
        &mut c,
        0,
        &f,
        &[1, 2, 3],
        "hub: a frame to the sender's own MAC is not echoed",
    );
    let f = small(mac(77), mac(2), 4);
    expect_one(&mut c, 2, &f, &[0, 1, 3], "hub: unknown unicast");
    let f = small(MCAST_V6, mac(1), 5);
    expect_one(&mut c, 1, &f, &[0, 2, 3], "hub: multicast");
}

fn port_teardown(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3); // 0 = A (leaves), 1 = B, 2 = C
    let (a1, a2) = (mac(100), mac(101));
    // A owns two MACs (a bridge or a guest with two addresses); a2 is learned last.
    learn(&mut c, &[a1, mac(1), mac(2)], 0);
    let f = small(BROADCAST, a2, 3);
    expect_one(&mut c, 0, &f, &[1, 2], "A speaks from its second MAC");
    let f = small(a1, mac(1), 4);
    expect_one(&mut c, 1, &f, &[0], "B -> a1 before A leaves");
    let f = small(a2, mac(2), 5);
    expect_one(&mut c, 2, &f, &[0], "C -> a2 before A leaves");

    let a = c.remove(0); // now 0 = B, 1 = C
    drop(a);
    if kind == UmlSwitch {
        assert!(
            sw.wait_log("Disconnect", Duration::from_secs(3)),
            "log:\n{}",
            sw.log_text()
        );
    } else {
        std::thread::sleep(Duration::from_millis(300));
    }

    // a2 was the last MAC learned on A: both switches forget it, so it floods again.
    let f = small(a2, mac(1), 6);
    expect_one(&mut c, 0, &f, &[1], "B -> a2 after A left: flooded to C");
    // a1: uml_switch keeps the entry pointing at the dead port (lost); flowlab-hub purged it.
    let f = small(a1, mac(1), 7);
    match kind {
        UmlSwitch => expect_one(
            &mut c,
            0,
            &f,
            &[],
            "uml_switch: B -> a1 after A left is lost",
        ),
        FlowlabHub => expect_one(
            &mut c,
            0,
            &f,
            &[1],
            "flowlab-hub: B -> a1 after A left: flooded to C",
        ),
    }
    // The remaining ports keep working.
    let f = small(mac(2), mac(1), 8);
    expect_one(&mut c, 0, &f, &[1], "B -> C");
    let f = small(mac(1), mac(2), 9);
    expect_one(&mut c, 1, &f, &[0], "C -> B");
    let f = small(BROADCAST, mac(2), 10);
    expect_one(&mut c, 1, &f, &[0], "C broadcast reaches only B");
    // A new port works too (and gets floods).
    c.push(sw.client(ClientStyle::Uml));
    let f = small(BROADCAST, mac(1), 11);
    expect_one(
        &mut c,
        0,
        &f,
        &[1, 2],
        "B broadcast reaches C and the new port",
    );
    let f = small(mac(77), mac(3), 12);
    expect_one(
        &mut c,
        2,
        &f,
        &[0, 1],
        "the new port floods an unknown unicast",
    );
}

fn many_ports(kind: SwitchKind) {
    const N: usize = 24;
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(N);
    learn_all(&mut c, 1000);
    for shift in [1usize, 5, 12] {
        let frames: Vec<Vec<u8>> = (0..N)
            .map(|i| {
                small(
                    mac(((i + shift) % N) as u32),
                    mac(i as u32),
                    (shift * 100 + i) as u64,
                )
            })
            .collect();
        for (i, f) in frames.iter().enumerate() {
            send(&c[i], f);
        }
        let d = gather(&mut c, N, QUIET);
        let to: Vec<[usize; 1]> = (0..N).map(|i| [(i + shift) % N]).collect();
        let exp: Vec<(&[u8], &[usize])> = frames
            .iter()
            .zip(&to)
            .map(|(f, t)| (f.as_slice(), t.as_slice()))
            .collect();
        d.assert(&format!("{N} ports, i -> i+{shift}"), &exp);
    }
    // Everyone floods once more (after learning): still all but the sender.
    learn_all(&mut c, 2000);
}

/// What uml_switch delivers of a frame: at most 1514 bytes.
fn uml_switch_cut(f: &[u8]) -> Vec<u8> {
    f[..f.len().min(1514)].to_vec()
}

fn frame_sizes(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3);
    learn_all(&mut c, 0);
    for (k, len) in [14usize, 60, 64, 1514, 1518, 4000].into_iter().enumerate() {
        let uni = frame(mac(1), mac(0), 10 + k as u64, len);
        let bc = frame(BROADCAST, mac(2), 20 + k as u64, len);
        send(&c[0], &uni);
        send(&c[2], &bc);
        let (uni_out, bc_out) = match kind {
            UmlSwitch => (uml_switch_cut(&uni), uml_switch_cut(&bc)),
            FlowlabHub => (uni.clone(), bc.clone()),
        };
        let d = gather(&mut c, 3, SHORT);
        d.assert(
            &format!("{} bytes (unicast 0 -> 1, broadcast from 2)", len),
            &[(&uni_out, &[1]), (&bc_out, &[0, 1])],
        );
        if kind == UmlSwitch && len > 1514 {
            assert_eq!(d.got[1][0].len(), 1514, "uml_switch truncates to 1514");
        }
    }
}

fn jumbo_frames(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3);
    learn_all(&mut c, 0);
    let ok = frame(mac(1), mac(0), 1, 9216);
    let big = frame(mac(1), mac(0), 2, 9217);
    let marker = small(mac(1), mac(0), 3);
    send(&c[0], &ok);
    send(&c[0], &big);
    send(&c[0], &marker);
    let d = gather(&mut c, if kind == UmlSwitch { 3 } else { 2 }, QUIET);
    match kind {
        UmlSwitch => d.assert(
            "uml_switch cuts 9216 and 9217 bytes to 1514",
            &[
                (&uml_switch_cut(&ok), &[1]),
                (&uml_switch_cut(&big), &[1]),
                (&marker, &[1]),
            ],
        ),
        FlowlabHub => d.assert(
            "flowlab-hub forwards 9216 whole (the default --max-frame) and drops 9217",
            &[(&ok, &[1]), (&marker, &[1])],
        ),
    }
}

fn hairpin(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3);
    learn_all(&mut c, 0);
    // Client 0 has a second MAC m (a bridge behind the port): learned on port 0.
    let m = mac(50);
    let f = small(BROADCAST, m, 1);
    expect_one(&mut c, 0, &f, &[1, 2], "0 speaks from m");
    let f = small(m, mac(1), 2);
    expect_one(&mut c, 1, &f, &[0], "1 -> m: m is on port 0");
    // 0 sends to m, which was learned on 0 itself.
    let f = small(m, mac(0), 3);
    match kind {
        UmlSwitch => expect_one(
            &mut c,
            0,
            &f,
            &[0],
            "uml_switch echoes a unicast to the ingress port",
        ),
        FlowlabHub => expect_one(
            &mut c,
            0,
            &f,
            &[],
            "flowlab-hub never sends back to the ingress port",
        ),
    }
    // Same with the client's own MAC as destination.
    let f = small(mac(0), mac(0), 4);
    match kind {
        UmlSwitch => expect_one(
            &mut c,
            0,
            &f,
            &[0],
            "uml_switch echoes a frame to the sender's own MAC",
        ),
        FlowlabHub => expect_one(
            &mut c,
            0,
            &f,
            &[],
            "flowlab-hub drops a frame to the sender's own MAC",
        ),
    }
    // Also from a connected-style client (1).
    let f = small(mac(1), mac(1), 5);
    match kind {
        UmlSwitch => expect_one(&mut c, 1, &f, &[1], "uml_switch echo to a connected client"),
        FlowlabHub => expect_one(
            &mut c,
            1,
            &f,
            &[],
            "flowlab-hub: no echo to a connected client",
        ),
    }
}

fn runts(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3);
    learn_all(&mut c, 0);
    let runts: Vec<Vec<u8>> = [13usize, 12, 6, 1]
        .iter()
        .map(|&n| runt(n, mac(0), n as u8))
        .collect();
    let min = frame(BROADCAST, mac(0), 7, 14);
    let marker = small(BROADCAST, mac(0), 8);
    for r in &runts {
        send(&c[0], r);
    }
    send(&c[0], &min);
    send(&c[0], &marker);
    let mut exp: Vec<(&[u8], &[usize])> = vec![(&min, &[1, 2]), (&marker, &[1, 2])];
    if kind == UmlSwitch {
        exp.extend(runts.iter().map(|r| (r.as_slice(), &[1usize, 2][..])));
    }
    let expect = exp.iter().map(|(_, t)| t.len()).sum();
    let d = gather(&mut c, expect, QUIET);
    match kind {
        UmlSwitch => d.assert("uml_switch forwards runts", &exp),
        FlowlabHub => d.assert("flowlab-hub drops runts (< 14 bytes), forwards 14", &exp),
    }
    // The port still works after runts.
    let f = small(mac(2), mac(0), 9);
    expect_one(&mut c, 0, &f, &[2], "unicast after runts");
}

fn control_extra_bytes(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3);
    learn_all(&mut c, 0);
    use std::io::Write;
    c[0].control()
        .write_all(b"junk after the request")
        .expect("write on control");
    match kind {
        UmlSwitch => {
            // Spec §6 [verified]: any byte after the request ends the port.
            assert!(
                c[0].control_closed(Duration::from_secs(3)).unwrap(),
                "uml_switch kept the port"
            );
            assert!(
                sw.wait_log("Bad request", Duration::from_secs(3)),
                "log:\n{}",
                sw.log_text()
            );
            // The others are unaffected.
            let f = small(mac(2), mac(1), 1);
            expect_one(&mut c, 1, &f, &[2], "1 -> 2 after port 0 went");
        }
        FlowlabHub => {
            assert!(
                !c[0].control_closed(Duration::from_millis(500)).unwrap(),
                "flowlab-hub closed the control connection after extra bytes"
            );
            let f = small(mac(0), mac(1), 1);
            expect_one(&mut c, 1, &f, &[0], "1 -> 0: port 0 survives");
            let f = small(mac(2), mac(0), 2);
            expect_one(&mut c, 0, &f, &[2], "0 -> 2: port 0 survives");
            let f = small(BROADCAST, mac(0), 3);
            expect_one(&mut c, 0, &f, &[1, 2], "0 broadcast");
            // More junk later: still there.
            c[0].control()
                .write_all(&[0u8; 300])
                .expect("write on control");
            assert!(
                !c[0].control_closed(Duration::from_millis(300)).unwrap(),
                "closed after more junk"
            );
            let f = small(mac(0), mac(2), 4);
            expect_one(&mut c, 2, &f, &[0], "2 -> 0 after more junk");
        }
    }
}

fn basic_exchange(sw: &Switch, style: ClientStyle) {
    let mut c: Vec<UmlClient> = (0..4).map(|_| sw.client(style.clone())).collect();
    let f = small(mac(3), mac(0), 1);
    expect_one(&mut c, 0, &f, &[1, 2, 3], "unknown unicast floods");
    let f = small(mac(0), mac(3), 2);
    expect_one(&mut c, 3, &f, &[0], "learned unicast");
    let f = small(BROADCAST, mac(1), 3);
    expect_one(&mut c, 1, &f, &[0, 2, 3], "broadcast");
    let f = small(mac(1), mac(2), 4);
    expect_one(&mut c, 2, &f, &[1], "learned unicast");
    let f = frame(mac(2), mac(1), 5, 1514);
    expect_one(&mut c, 1, &f, &[2], "1514 bytes");
}

fn only_uml_clients(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    basic_exchange(&sw, ClientStyle::Uml);
}

fn only_connected_clients(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    basic_exchange(&sw, ClientStyle::UmlConnected);
}

fn sigint_cleans_up(kind: SwitchKind) {
    let mut sw = start(kind, &SwitchConfig::switch());
    let ctl = sw.ctl().to_path_buf();
    let _c = sw.mixed_clients(2);
    let (st, clean) = sw.stop_with(libc::SIGINT);
    assert!(
        clean,
        "{} did not exit on SIGINT; log:\n{}",
        kind.name(),
        sw.log_text()
    );
    assert!(st.is_some());
    assert!(
        !ctl.exists(),
        "{} left {} after SIGINT",
        kind.name(),
        ctl.display()
    );
}

fn sigterm(kind: SwitchKind) {
    let mut sw = start(kind, &SwitchConfig::switch());
    let ctl = sw.ctl().to_path_buf();
    let _c = sw.mixed_clients(2);
    let (st, clean) = sw.stop_with(libc::SIGTERM);
    assert!(
        clean,
        "{} did not exit on SIGTERM; log:\n{}",
        kind.name(),
        sw.log_text()
    );
    assert!(st.is_some());
    match kind {
        // Spec uml-guests §8.7 [verified]: SIGTERM kills it without unlinking the socket.
        UmlSwitch => assert!(is_socket(&ctl), "uml_switch removed its socket on SIGTERM?"),
        FlowlabHub => assert!(
            !ctl.exists(),
            "flowlab-hub left {} after SIGTERM",
            ctl.display()
        ),
    }
}

fn second_instance_refused(kind: SwitchKind) {
    let sw = start(kind, &SwitchConfig::switch());
    let ctl = sw.ctl().to_str().expect("utf-8 path").to_string();
    let log = sw.dir().join("second.log");
    let (st, out) = run_once(kind, &["-unix", &ctl], &log, Duration::from_secs(5));
    let st = st.unwrap_or_else(|| {
        panic!(
            "a second {} on a live socket kept running; output:\n{out}",
            kind.name()
        )
    });
    assert!(!st.success(), "second instance exited 0; output:\n{out}");
    if kind == UmlSwitch {
        assert_eq!(st.code(), Some(1), "output:\n{out}");
        assert!(
            out.contains("has another server attached to it"),
            "output:\n{out}"
        );
    }
    // The first one still serves.
    assert!(
        is_socket(sw.ctl()),
        "the second instance removed the live socket"
    );
    let mut c = sw.mixed_clients(2);
    let f = small(BROADCAST, mac(0), 1);
    expect_one(&mut c, 0, &f, &[1], "the first instance still works");
}

fn stale_socket_taken_over(kind: SwitchKind) {
    let dir = TempDir::new("fls");
    let ctl = dir.join("stale.ctl");
    drop(UnixListener::bind(&ctl).expect("bind")); // leaves a socket file nobody listens on
    assert!(is_socket(&ctl));
    let log = dir.join("switch.log");
    let ctl_s = ctl.to_str().expect("utf-8").to_string();
    // Start it on the stale path and use it; run_once kills it after the timeout.
    let t = std::thread::spawn({
        let ctl = ctl.clone();
        move || {
            let line = format!("attached to unix socket '{}'", ctl.display());
            let ok = wait_until(Duration::from_secs(10), || {
                flowlab_tests::switch::read_lossy(&log).contains(&line)
            });
            assert!(ok, "no `{line}` line");
            let mut c: Vec<UmlClient> = (0..2)
                .map(|i| {
                    flowlab_tests::switch::connect_retry(
                        &ctl,
                        flowlab_tests::switch::alternate_style(i),
                    )
                    .expect("connect")
                })
                .collect();
            let f = small(BROADCAST, mac(0), 1);
            expect_one(&mut c, 0, &f, &[1], "switch on a taken-over stale socket");
        }
    });
    let (st, out) = run_once(
        kind,
        &["-unix", &ctl_s],
        &dir.join("switch.log"),
        Duration::from_secs(4),
    );
    let r = t.join();
    assert!(
        st.is_none(),
        "{} exited ({st:?}) instead of taking over the stale socket; output:\n{out}",
        kind.name()
    );
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}

fn unknown_argument(kind: SwitchKind) {
    let dir = TempDir::new("flu");
    let (st, out) = run_once(
        kind,
        &["-bogus-flag"],
        &dir.join("out.log"),
        Duration::from_secs(5),
    );
    let st = st.unwrap_or_else(|| panic!("{} kept running with an unknown argument", kind.name()));
    assert_eq!(
        st.code(),
        Some(1),
        "{} exit status; output:\n{out}",
        kind.name()
    );
}

// --------------------------------------------------------------------------- flowlab only

#[test]
fn flowlab_hub_max_frame_option() {
    let sw = start(
        FlowlabHub,
        &SwitchConfig::switch().args(["--max-frame", "2000"]),
    );
    let mut c = sw.mixed_clients(3);
    learn_all(&mut c, 0);
    let frames: Vec<Vec<u8>> = [1518usize, 2000, 2001, 4000]
        .iter()
        .map(|&n| frame(mac(1), mac(0), n as u64, n))
        .collect();
    for f in &frames {
        send(&c[0], f);
    }
    let bc = frame(BROADCAST, mac(2), 1, 2001);
    send(&c[2], &bc);
    let marker = small(BROADCAST, mac(2), 2);
    send(&c[2], &marker);
    let d = gather(&mut c, 4, QUIET);
    d.assert(
        "--max-frame 2000: 1518 and 2000 whole, 2001 and 4000 dropped (not cut)",
        &[(&frames[0], &[1]), (&frames[1], &[1]), (&marker, &[0, 1])],
    );
}

#[test]
fn flowlab_hub_vde_request_on_unix_socket() {
    // A libvdeplug-style request (122 bytes + description) on the classic -unix socket.
    let sw = start(FlowlabHub, &SwitchConfig::switch());
    let cdir = sw.dir().join("c");
    std::fs::create_dir(&cdir).expect("mkdir");
    let mut c = vec![
        sw.client(ClientStyle::Vde {
            dir: cdir,
            port: 0,
            description: "flowlab-tests vde client".into(),
        }),
        sw.client(ClientStyle::Uml),
    ];
    let f = small(BROADCAST, mac(0), 1);
    expect_one(&mut c, 0, &f, &[1], "vde-style client -> uml client");
    let f = small(mac(0), mac(1), 2);
    expect_one(&mut c, 1, &f, &[0], "uml client -> vde-style client");
    assert!(
        !c[0].control_closed(Duration::from_millis(200)).unwrap(),
        "port closed"
    );
}

#[test]
fn flowlab_hub_ctl_macs_purged_on_close() {
    let sw = start(FlowlabHub, &SwitchConfig::switch());
    let mut c = sw.mixed_clients(3);
    let extra = mac(100);
    learn(&mut c, &[extra, mac(1), mac(2)], 0);
    let f = small(BROADCAST, mac(0), 3);
    expect_one(&mut c, 0, &f, &[1, 2], "0 speaks from its second MAC");
    let macs = || {
        let out = std::process::Command::new(flowlab_tests::switch::flowlab_hub_bin())
            .arg("ctl")
            .arg(sw.ctl())
            .arg("macs")
            .output()
            .expect("flowlab-hub ctl");
        assert!(
            out.status.success(),
            "ctl macs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let table = macs();
    eprintln!("macs:\n{table}");
    for m in [extra, mac(0), mac(1), mac(2)] {
        let m = flowlab_tests::frames::mac_str(&m);
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().next() == Some(m.as_str())),
            "{m} missing:\n{table}"
        );
    }
    drop(c.remove(0));
    let gone = wait_until(Duration::from_secs(3), || {
        let t = macs();
        [extra, mac(0)]
            .iter()
            .all(|m| !t.contains(&flowlab_tests::frames::mac_str(m)))
    });
    let table = macs();
    assert!(gone, "the closed port's MACs are still listed:\n{table}");
    for m in [mac(1), mac(2)] {
        assert!(
            table.contains(&flowlab_tests::frames::mac_str(&m)),
            "lost {m:?}:\n{table}"
        );
    }
}

#[test]
fn flowlab_hub_uml_request_with_trailing_bytes() {
    // Spec §3.4/§6: bytes that arrive together with a 124-byte UML request are taken as a
    // description; the port works. (uml_switch would tear it down.)
    use flowlab_datapath::port::unix_addr::{UnixAddr, SOCKADDR_UN_LEN};
    use flowlab_hub::request::UmlRequest;
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    let sw = start(FlowlabHub, &SwitchConfig::switch());
    let mut peer = sw.mixed_clients(1);
    // SAFETY: socket(2); the descriptor is owned below.
    let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: raw is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let local = UnixAddr::abstract_full(flowlab_tests::unique("flt-raw").as_bytes());
    // SAFETY: local is a valid sockaddr_un of the given length.
    let r = unsafe { libc::bind(fd.as_raw_fd(), local.as_ptr(), local.len()) };
    assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());

    let mut req = UmlRequest::encode_uml(&local).to_vec();
    req.extend_from_slice(b"trailing bytes in the same write");
    let mut ctl = std::os::unix::net::UnixStream::connect(sw.ctl()).expect("connect");
    ctl.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ctl.write_all(&req).expect("request");
    let mut reply = [0u8; SOCKADDR_UN_LEN];
    ctl.read_exact(&mut reply).expect("110-byte reply");
    let switch = UnixAddr::from_wire(&reply).expect("AF_UNIX reply");

    let f = small(BROADCAST, mac(9), 1);
    // SAFETY: sending our buffer to a valid address.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            f.as_ptr().cast(),
            f.len(),
            0,
            switch.as_ptr(),
            switch.len(),
        )
    };
    assert_eq!(
        n,
        f.len() as isize,
        "sendto: {}",
        std::io::Error::last_os_error()
    );
    gather(&mut peer, 1, QUIET).assert("raw client broadcast", &[(&f, &[0])]);

    let back = small(mac(9), mac(0), 2);
    send(&peer[0], &back);
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    assert_eq!(
        unsafe { libc::poll(&mut pfd, 1, 5000) },
        1,
        "nothing came back to the raw client"
    );
    let mut buf = vec![0u8; 65536];
    // SAFETY: receiving into our buffer.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert!(n > 0, "recv: {}", std::io::Error::last_os_error());
    assert_eq!(&buf[..n as usize], back.as_slice());
    // The control connection stays open.
    ctl.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut b = [0u8; 1];
    assert!(
        matches!(ctl.read(&mut b), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "flowlab-hub closed (or wrote on) the control connection"
    );
}
