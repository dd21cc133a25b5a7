//! VDE clients: `vde_plug` (Debian `vdeplug`, vdeplug4) and libvdeplug-style protocol
//! clients against `flowlab-hub -unix CTL --vde DIR`, and the same exchanges against the
//! real `vde_switch` as a sanity check of the harness (and of the `vde_plug` stream format:
//! a 2-byte big-endian length before every frame).

use std::path::{Path, PathBuf};
use std::time::Duration;

use flowlab_hub::client::{ClientStyle, UmlClient};
use flowlab_tests::collect::{gather_from, Delivery, Endpoint, QUIET};
use flowlab_tests::frames::{frame, mac, small, BROADCAST};
use flowlab_tests::proc::{wait_until, ProcGuard};
use flowlab_tests::switch::{connect_retry, Switch, SwitchConfig, SwitchKind};
use flowlab_tests::vde::{VdePlug, VdeSwitch};

/// A switch that serves VDE clients.
enum VdeCapable {
    Real(VdeSwitch),
    Flowlab(Switch),
}

impl VdeCapable {
    fn real() -> Self {
        VdeCapable::Real(VdeSwitch::start(false))
    }

    fn flowlab() -> Self {
        VdeCapable::Flowlab(Switch::start(
            SwitchKind::FlowlabHub,
            &SwitchConfig::switch().with_vde(),
        ))
    }

    fn name(&self) -> &'static str {
        match self {
            VdeCapable::Real(_) => "vde_switch",
            VdeCapable::Flowlab(_) => "flowlab-hub",
        }
    }

    /// The VDE switch directory (`vde_plug` URL).
    fn vde_dir(&self) -> PathBuf {
        match self {
            VdeCapable::Real(v) => v.sock_dir().to_path_buf(),
            VdeCapable::Flowlab(s) => s.vde_dir().to_path_buf(),
        }
    }

    /// A scratch dir for logs.
    fn scratch(&self) -> &Path {
        match self {
            VdeCapable::Real(v) => v.dir().path(),
            VdeCapable::Flowlab(s) => s.dir().path(),
        }
    }

    /// A UML-style (abstract address, unconnected) client: on flowlab-hub's `-unix`
    /// socket, on vde_switch's `DIR/ctl` (it accepts UML requests there).
    fn uml_client(&self) -> UmlClient {
        let ctl = match self {
            VdeCapable::Real(v) => v.sock_dir().join("ctl"),
            VdeCapable::Flowlab(s) => s.ctl().to_path_buf(),
        };
        connect_retry(&ctl, ClientStyle::Uml)
            .unwrap_or_else(|e| panic!("{}: uml client: {e}{}", self.name(), self.log()))
    }

    /// A libvdeplug-style client on `DIR/ctl` (pathname data socket in DIR, port 0).
    fn vde_client(&self) -> UmlClient {
        let dir = self.vde_dir();
        let style = ClientStyle::Vde {
            dir: dir.clone(),
            port: 0,
            description: "flowlab-tests".into(),
        };
        connect_retry(&dir.join("ctl"), style)
            .unwrap_or_else(|e| panic!("{}: vde client: {e}{}", self.name(), self.log()))
    }

    fn log(&self) -> String {
        match self {
            VdeCapable::Real(_) => String::new(),
            VdeCapable::Flowlab(s) => format!("; log:\n{}", s.log_text()),
        }
    }
}

#[track_caller]
fn send(c: &UmlClient, f: &[u8]) {
    let ok = wait_until(Duration::from_secs(1), || c.send(f).expect("send"));
    assert!(ok, "switch socket full for 1 s");
}

/// Broadcasts probes from the plug (source `src`) until endpoint `watch` of `rest` gets
/// one (the plug is connected), then drains everything.
fn wait_plug_connected(plug: &mut VdePlug, src: [u8; 6], rest: &mut [&mut dyn Endpoint]) {
    let mut n = 0u64;
    let ok = wait_until(Duration::from_secs(10), || {
        assert!(
            plug.exited().is_none(),
            "vde_plug exited; stderr:\n{}",
            plug.stderr_text()
        );
        n += 1;
        plug.send(&small(BROADCAST, src, 900_000 + n))
            .expect("writing to vde_plug");
        let d = gather_from(rest, 1, Duration::from_millis(100));
        d.total() > 0
    });
    assert!(
        ok,
        "no probe from vde_plug arrived in 10 s; stderr:\n{}",
        plug.stderr_text()
    );
    // Drain the remaining copies of the probes.
    let _ = gather_from(rest, 0, QUIET);
}

/// Endpoint 0 = plug, 1 = UML-style client, 2 = VDE-style client.
fn exchange(plug: &mut VdePlug, uml: &mut UmlClient, vde: &mut UmlClient, what: &str) {
    let (mp, m1, m2) = (mac(0x70), mac(0x71), mac(0x72));
    wait_plug_connected(plug, mp, &mut [uml as &mut dyn Endpoint, vde]);
    let round =
        |plug: &mut VdePlug, uml: &mut UmlClient, vde: &mut UmlClient, expect: usize| -> Delivery {
            let mut eps: [&mut dyn Endpoint; 3] = [plug, uml, vde];
            gather_from(&mut eps, expect, QUIET)
        };

    // Everyone broadcasts (and is learned).
    let b0 = small(BROADCAST, mp, 1);
    plug.send(&b0).unwrap();
    let d = round(plug, uml, vde, 2);
    d.assert(&format!("{what}: plug broadcast"), &[(&b0, &[1, 2])]);
    let b1 = small(BROADCAST, m1, 2);
    send(uml, &b1);
    let d = round(plug, uml, vde, 2);
    d.assert(&format!("{what}: uml client broadcast"), &[(&b1, &[0, 2])]);
    let b2 = small(BROADCAST, m2, 3);
    send(vde, &b2);
    let d = round(plug, uml, vde, 2);
    d.assert(&format!("{what}: vde client broadcast"), &[(&b2, &[0, 1])]);

    // Unicast both ways between the plug and each client.
    let u1 = small(m1, mp, 4);
    let u2 = frame(m2, mp, 5, 1514);
    plug.send(&u1).unwrap();
    plug.send(&u2).unwrap();
    let d = round(plug, uml, vde, 2);
    d.assert(
        &format!("{what}: plug unicasts"),
        &[(&u1, &[1]), (&u2, &[2])],
    );
    let v1 = frame(mp, m1, 6, 1514);
    let v2 = small(mp, m2, 7);
    send(uml, &v1);
    send(vde, &v2);
    let d = round(plug, uml, vde, 2);
    d.assert(
        &format!("{what}: unicasts to the plug"),
        &[(&v1, &[0]), (&v2, &[0])],
    );
    let w = small(m2, m1, 8);
    send(uml, &w);
    let d = round(plug, uml, vde, 1);
    d.assert(&format!("{what}: uml client -> vde client"), &[(&w, &[2])]);

    // A burst through the plug's stream: several frames per read, in order.
    let burst: Vec<Vec<u8>> = (0..8)
        .map(|i| frame(m2, mp, 100 + i, 60 + 100 * i as usize))
        .collect();
    for f in &burst {
        plug.send(f).unwrap();
    }
    let d = round(plug, uml, vde, burst.len());
    let exp: Vec<(&[u8], &[usize])> = burst
        .iter()
        .map(|f| (f.as_slice(), &[2usize][..]))
        .collect();
    d.assert(&format!("{what}: burst from the plug"), &exp);
    assert_eq!(d.got[2], burst, "{what}: burst order");
    let burst: Vec<Vec<u8>> = (0..8)
        .map(|i| frame(mp, m1, 200 + i, 1514 - 50 * i as usize))
        .collect();
    for f in &burst {
        send(uml, f);
    }
    let d = round(plug, uml, vde, burst.len());
    assert_eq!(d.got[0], burst, "{what}: burst to the plug, in order");
}

fn plug_exchange(sw: VdeCapable) {
    let what = sw.name();
    let mut uml = sw.uml_client();
    let mut vde = sw.vde_client();
    let mut plug = VdePlug::spawn(&sw.vde_dir(), &[], &sw.scratch().join("plug.err"));
    exchange(&mut plug, &mut uml, &mut vde, what);
    assert!(
        plug.exited().is_none(),
        "{what}: vde_plug exited; stderr:\n{}",
        plug.stderr_text()
    );
    // Closing the plug's stdin ends it; the switch drops the port and the others go on.
    plug.close_stdin();
    let st = plug.wait_exit(Duration::from_secs(5));
    assert!(st.is_some(), "{what}: vde_plug did not exit on stdin EOF");
    std::thread::sleep(Duration::from_millis(200));
    let f = small(mac(0x72), mac(0x71), 50);
    send(&uml, &f);
    let d = gather2(&mut uml, &mut vde, 1);
    d.assert(&format!("{what}: after the plug left"), &[(&f, &[1])]);
}

#[test]
fn vde_switch_vde_plug_exchange() {
    plug_exchange(VdeCapable::real());
}

#[test]
fn flowlab_hub_vde_plug_exchange() {
    plug_exchange(VdeCapable::flowlab());
}

fn gather2(a: &mut UmlClient, b: &mut UmlClient, expect: usize) -> Delivery {
    let mut eps: [&mut dyn Endpoint; 2] = [a, b];
    gather_from(&mut eps, expect, QUIET)
}

/// `vde_plug A B` is a cable between two switches.
fn cable(a: VdeCapable, b: VdeCapable) {
    let what = format!("cable {} <-> {}", a.name(), b.name());
    let mut ca = a.uml_client();
    let mut cb = b.vde_client();
    let log = a.scratch().join("cable.err");
    let err = std::fs::File::create(&log).expect("log");
    let mut cmd = std::process::Command::new(flowlab_tests::require_tool("vde_plug", "vdeplug"));
    cmd.arg(a.vde_dir())
        .arg(b.vde_dir())
        .stdin(std::process::Stdio::null())
        .stdout(err.try_clone().unwrap())
        .stderr(err);
    let mut plug =
        ProcGuard::spawn(&mut cmd, libc::SIGTERM, Duration::from_secs(2)).expect("vde_plug");
    // Wait until frames cross.
    let mut n = 0u64;
    let ok = wait_until(Duration::from_secs(10), || {
        assert!(
            plug.exited().is_none(),
            "{what}: vde_plug exited: {}",
            flowlab_tests::switch::read_lossy(&log)
        );
        n += 1;
        send(&ca, &small(BROADCAST, mac(1), 900_000 + n));
        let mut eps: [&mut dyn Endpoint; 1] = [&mut cb];
        gather_from(&mut eps, 1, Duration::from_millis(100)).total() > 0
    });
    assert!(ok, "{what}: nothing crossed in 10 s");
    let _ = gather2(&mut ca, &mut cb, 0);

    let f = small(mac(1), mac(2), 1);
    send(&cb, &f);
    let d = gather2(&mut ca, &mut cb, 1);
    d.assert(&format!("{what}: b -> a unicast"), &[(&f, &[0])]);
    let f = frame(mac(2), mac(1), 2, 1514);
    send(&ca, &f);
    let d = gather2(&mut ca, &mut cb, 1);
    d.assert(&format!("{what}: a -> b unicast"), &[(&f, &[1])]);
    let f = small(BROADCAST, mac(2), 3);
    send(&cb, &f);
    let d = gather2(&mut ca, &mut cb, 1);
    d.assert(&format!("{what}: b broadcast"), &[(&f, &[0])]);
}

#[test]
fn cable_vde_switch_to_vde_switch() {
    cable(VdeCapable::real(), VdeCapable::real());
}

#[test]
fn cable_flowlab_hub_to_vde_switch() {
    cable(VdeCapable::flowlab(), VdeCapable::real());
}

#[test]
fn cable_vde_switch_to_flowlab_hub() {
    cable(VdeCapable::real(), VdeCapable::flowlab());
}

/// Spec §6 [verified]: the description bytes after uml_switch's 124-byte request read
/// count as "data" on the control connection, so uml_switch tears the port down and
/// vde_plug exits. (flowlab-hub is the drop-in that fixes this; see the tests above.)
#[test]
fn uml_switch_drops_vde_plug() {
    let cfg = SwitchConfig {
        ctl_name: Some("vde/ctl".into()),
        ..SwitchConfig::switch()
    };
    let sw = Switch::start(SwitchKind::UmlSwitch, &cfg);
    let dir = sw.ctl().parent().unwrap().to_path_buf();
    let mut plug = VdePlug::spawn(&dir, &[], &sw.dir().join("plug.err"));
    let st = plug.wait_exit(Duration::from_secs(5));
    assert!(
        st.is_some(),
        "vde_plug still runs on uml_switch; log:\n{}",
        sw.log_text()
    );
    assert!(
        sw.wait_log("Bad request", Duration::from_secs(2)),
        "log:\n{}",
        sw.log_text()
    );
}

/// A VDE client may ask for a port number (`type >> 8`); both switches answer.
fn wanted_port(sw: VdeCapable) {
    let dir = sw.vde_dir();
    let style = ClientStyle::Vde {
        dir: dir.clone(),
        port: 5,
        description: "port 5".into(),
    };
    let mut a = connect_retry(&dir.join("ctl"), style).expect("client asking for port 5");
    let mut b = sw.vde_client();
    let f = small(BROADCAST, mac(5), 1);
    send(&a, &f);
    let mut eps: [&mut dyn Endpoint; 2] = [&mut a, &mut b];
    let d = gather_from(&mut eps, 1, QUIET);
    d.assert(
        &format!("{}: from the port-5 client", sw.name()),
        &[(&f, &[1])],
    );
}

#[test]
fn vde_switch_wanted_port() {
    wanted_port(VdeCapable::real());
}

#[test]
fn flowlab_hub_wanted_port() {
    wanted_port(VdeCapable::flowlab());
}
