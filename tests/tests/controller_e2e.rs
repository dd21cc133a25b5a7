//! flowlab-controller drives a real flowlab-hub end to end, over unix sockets only (so
//! runs never fight over port 6653 and need no privileges).
//!
//! `flowlab-controller --listen punix:DIR/ctl.sock --apps l2_learning` and
//! `flowlab-hub -unix DIR/sw.ctl --controller unix:DIR/ctl.sock --fail-mode secure`
//! (secure: the hub's own learning cannot stand in for the controller), with three
//! uml_switch-protocol clients as hosts. Once for OpenFlow 1.0 and once for 1.3:
//!
//! * A to B while B is unknown is flooded (to B and C), by the controller's packet-out;
//! * B's answer goes to A alone and installs B→A; A to B again installs A→B;
//! * from then on both directions are forwarded by the hub's flow table: the hub's
//!   `packet-ins` counter (`ctl show`) stands still while frames keep arriving, and its
//!   `flow mods` counter shows the two flows;
//! * when `ovs-ofctl` is installed, `dump-flows` on the hub's `--listen punix:` socket
//!   shows the two exact flows with `idle_timeout=60`.
//!
//! And once the other way round: the hub only listens (`--listen punix:`) and the
//! controller connects out to it (`--connect unix:`).
//!
//! The controller binary is `flowlab-controller` next to the test executable's profile
//! directory (or `$FLOWLAB_CONTROLLER_BIN`), like flowlab-hub: run
//! `cargo build --workspace --bins` first.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use flowlab_hub::client::{ClientStyle, UmlClient};
use flowlab_tests::collect::{gather, QUIET};
use flowlab_tests::controllers::{hub_of_stats, wait_connected, FlowLine, HubOfStats};
use flowlab_tests::flowlab_controller::FlowlabController;
use flowlab_tests::frames::{frame, mac};
use flowlab_tests::proc::wait_until;
use flowlab_tests::switch::{Switch, SwitchConfig, SwitchKind};
use flowlab_tests::TempDir;

/// Starts the controller listening on `DIR/ctl.sock`, and also connecting out to
/// `connect` when given.
fn start_controller(dir: &TempDir, apps: &str, connect: Option<&Path>) -> FlowlabController {
    let extra: Vec<String> = match connect {
        Some(target) => vec!["--connect".into(), format!("unix:{}", target.display())],
        None => Vec::new(),
    };
    FlowlabController::start(dir.path(), apps, &extra)
}

/// `ovs-ofctl dump-flows` on a unix socket; None when ovs-ofctl is not installed.
fn dump_flows_unix(socket: &Path, version: u8) -> Option<Vec<FlowLine>> {
    let tool = flowlab_tests::find_in_path("ovs-ofctl")?;
    let mut c = Command::new(tool);
    if version == 10 {
        c.args(["-O", "OpenFlow10", "-F", "openflow10"]);
    } else {
        c.args(["-O", "OpenFlow13"]);
    }
    let out = c
        .args(["--no-names", "--timeout=10", "dump-flows"])
        .arg(format!("unix:{}", socket.display()))
        .stdin(Stdio::null())
        .output()
        .expect("running ovs-ofctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !stdout.contains("decode error"),
        "ovs-ofctl dump-flows failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout.lines().filter_map(FlowLine::parse).collect())
}

fn stats(sw: &Switch) -> HubOfStats {
    hub_of_stats(sw.ctl())
}

/// Who opens the OpenFlow connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dial {
    /// The hub connects to the controller's `--listen punix:` (`--controller unix:`).
    HubConnects,
    /// The controller connects to the hub's `--listen punix:` (`--connect unix:`).
    ControllerConnects,
}

fn l2_learning_drives_the_hub(version: u8, dial: Dial) {
    let dir = TempDir::new("flc");
    let of_socket = dir.join("of.sock");
    let protocols = if version == 10 {
        "OpenFlow10"
    } else {
        "OpenFlow13"
    };
    let mut args = vec![
        "--listen".to_string(),
        format!("punix:{}", of_socket.display()),
        "--fail-mode".into(),
        "secure".into(),
        "--protocols".into(),
        protocols.into(),
        "--dpid".into(),
        "00000000000000c1".into(),
    ];
    let ctl = match dial {
        Dial::HubConnects => {
            let ctl = start_controller(&dir, "l2_learning", None);
            args.push("--controller".into());
            args.push(format!("unix:{}", ctl.socket().display()));
            ctl
        }
        // Started first: it retries with backoff until the hub listens.
        Dial::ControllerConnects => start_controller(&dir, "l2_learning", Some(&of_socket)),
    };
    let sw = Switch::start(SwitchKind::FlowlabHub, &SwitchConfig::switch().args(args));
    let connected = match dial {
        Dial::HubConnects => wait_connected(sw.ctl(), Duration::from_secs(10)),
        Dial::ControllerConnects => wait_until(Duration::from_secs(15), || {
            ctl.log_text().contains("joined")
        }),
    };
    assert!(
        connected,
        "{dial:?}: the hub and the controller never connected; hub log:\n{}\ncontroller log:\n{}",
        sw.log_text(),
        ctl.log_text()
    );
    let mut hosts: Vec<UmlClient> = (0..3).map(|_| sw.client(ClientStyle::Uml)).collect();
    let (a, b) = (mac(1), mac(2));
    let context = |what: &str| {
        format!(
            "OpenFlow {version}: {what}\nhub:\n{}\ncontroller:\n{}",
            stats(&sw).text,
            ctl.log_text()
        )
    };

    // A to B, B unknown: flooded by the controller to B and C.
    let f1 = frame(b, a, 1, 60);
    hosts[0].send(&f1).expect("send");
    let d = gather(&mut hosts, 2, QUIET);
    if d.check(&[(&f1, &[1, 2])]).is_err() {
        panic!("{}", context("the first frame was not flooded"));
    }
    // B to A: A is known, the packet reaches A alone (and B->A is installed).
    let f2 = frame(a, b, 2, 60);
    hosts[1].send(&f2).expect("send");
    gather(&mut hosts, 1, QUIET).assert(&context("B to A"), &[(&f2, &[0])]);
    // A to B again: B is known now (A->B is installed).
    let f3 = frame(b, a, 3, 60);
    hosts[0].send(&f3).expect("send");
    gather(&mut hosts, 1, QUIET).assert(&context("A to B"), &[(&f3, &[1])]);

    let before = stats(&sw);
    assert!(
        before.packet_ins >= 3,
        "{}",
        context("the hub sent fewer than 3 packet-ins")
    );
    assert!(
        before.flow_mods >= 2,
        "{}",
        context("fewer than 2 flow mods took effect")
    );
    // Both directions are now forwarded by the hub's flows, without packet-ins.
    let mut expected = Vec::new();
    for i in 0..5u64 {
        let ab = frame(b, a, 100 + i, 60);
        let ba = frame(a, b, 200 + i, 60);
        hosts[0].send(&ab).expect("send");
        hosts[1].send(&ba).expect("send");
        expected.push((ab, vec![1usize]));
        expected.push((ba, vec![0usize]));
    }
    let d = gather(&mut hosts, 10, QUIET);
    let exp: Vec<(&[u8], &[usize])> = expected
        .iter()
        .map(|(f, to)| (f.as_slice(), to.as_slice()))
        .collect();
    d.assert(&context("traffic over the installed flows"), &exp);
    let after = stats(&sw);
    assert_eq!(
        after.packet_ins,
        before.packet_ins,
        "{}",
        context("frames on installed flows still reached the controller")
    );

    // The flows themselves, when ovs-ofctl is there to read them.
    match dump_flows_unix(&of_socket, version) {
        None => eprintln!("ovs-ofctl not installed: flows not dumped"),
        Some(flows) => {
            let ours: Vec<&FlowLine> = flows
                .iter()
                .filter(|f| f.get("idle_timeout") == Some("60"))
                .collect();
            assert_eq!(ours.len(), 2, "{flows:#?}");
            let a_text = "02:f1:00:00:00:01";
            let b_text = "02:f1:00:00:00:02";
            for (src, dst, out) in [(a_text, b_text, "output:2"), (b_text, a_text, "output:1")] {
                assert!(
                    ours.iter().any(|f| f.get("dl_src") == Some(src)
                        && f.get("dl_dst") == Some(dst)
                        && f.actions == out),
                    "no flow {src} -> {dst} with {out}: {flows:#?}"
                );
            }
        }
    }
    assert!(
        ctl.log_text().contains("joined"),
        "the controller logged no join:\n{}",
        ctl.log_text()
    );
}

#[test]
fn l2_learning_drives_flowlab_hub_over_openflow10() {
    l2_learning_drives_the_hub(10, Dial::HubConnects);
}

#[test]
fn l2_learning_drives_flowlab_hub_over_openflow13() {
    l2_learning_drives_the_hub(13, Dial::HubConnects);
}

#[test]
fn the_controller_connects_out_to_a_listening_hub() {
    l2_learning_drives_the_hub(13, Dial::ControllerConnects);
}
