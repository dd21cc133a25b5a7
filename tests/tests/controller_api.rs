//! flowlab-controller's JSON API and topology page, end to end, over unix sockets and a
//! loopback HTTP port the kernel picks (so runs never collide and need no privileges).
//!
//! `flowlab-controller --listen punix:DIR/ctl.sock --api 127.0.0.1:0 --apps
//! topology,hosts,l2_learning`, and three flowlab-hubs in OpenFlow mode connected to it:
//!
//! ```text
//!   h1 ── c1 (1.3) p1 ══ p1 c2 (1.0) p2 ══ p1 c3 (1.3) ── h2
//!         p2                                      p2
//! ```
//!
//! The cables (══) are relays this test runs: a uml_switch-protocol client on each end,
//! a thread copying frames between them. h1 and h2 are clients that speak ARP.
//!
//! * `/api/switches` lists the three switches with their versions and ports;
//! * `/api/links` the four links (two per cable) the topology app found by LLDP;
//! * `/api/hosts` h1 and h2 with their addresses and locations, after an ARP exchange;
//! * `/api/flows/<dpid>` the flow tables, asked of the switches: topology's LLDP flow, the
//!   1.3 table-miss entry, and l2_learning's flows towards h1;
//! * `/api/stats`, `/api/changes`, `/api/topology`, and the error statuses;
//! * the page, loaded in headless Chromium (`--dump-dom`), draws the three switches, the
//!   two cables and the two hosts. Skipped with a message when `chromium` is not installed
//!   (scripts/setup.sh installs Debian's `chromium`).
//!
//! The binaries are `flowlab-controller` and `flowlab-hub` next to the test executable's
//! profile directory (or `$FLOWLAB_CONTROLLER_BIN`, `$FLOWLAB_HUB_BIN`): run
//! `cargo build --workspace --bins` first.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use flowlab_hub::client::{ClientStyle, UmlClient};
use flowlab_tests::frames::mac;
use flowlab_tests::proc::{stop_child, wait_timeout, wait_until, ProcGuard};
use flowlab_tests::switch::{Switch, SwitchConfig, SwitchKind};
use flowlab_tests::TempDir;
use serde_json::Value;

/// The flowlab-controller binary (as in controller_e2e.rs).
fn controller_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FLOWLAB_CONTROLLER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let bin = dir.join("flowlab-controller");
    assert!(
        bin.is_file(),
        "flowlab-controller not found at {}: run `cargo build --workspace --bins` first, \
         or set FLOWLAB_CONTROLLER_BIN",
        bin.display()
    );
    bin
}

/// A running controller with its API address; stopped (SIGTERM, then SIGKILL) on drop.
struct Controller {
    proc: ProcGuard,
    log: PathBuf,
    socket: PathBuf,
    api: SocketAddr,
}

impl Controller {
    fn start(dir: &TempDir, apps: &str) -> Controller {
        let socket = dir.join("ctl.sock");
        let log = dir.join("controller.log");
        let out = File::create(&log).expect("controller log");
        let err = out.try_clone().expect("controller log");
        let mut cmd = Command::new(controller_bin());
        cmd.arg("--listen")
            .arg(format!("punix:{}", socket.display()))
            .args(["--api", "127.0.0.1:0", "--apps", apps])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut proc = ProcGuard::spawn(&mut cmd, libc::SIGTERM, Duration::from_secs(3))
            .expect("spawning flowlab-controller");
        let mut api = None;
        let up = wait_until(Duration::from_secs(10), || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            api = text
                .lines()
                .find_map(|l| l.split_once("JSON API on http://"))
                .and_then(|(_, rest)| rest.trim_end_matches('/').parse().ok());
            (api.is_some() && socket.exists()) || proc.exited().is_some()
        });
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            up && proc.exited().is_none(),
            "flowlab-controller did not come up; log:\n{text}"
        );
        Controller {
            proc,
            log,
            socket,
            api: api.expect("API address"),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = stop_child(&mut self.proc.child, libc::SIGTERM, Duration::from_secs(3));
    }
}

/// One HTTP/1.0 exchange: (status, body).
fn http(addr: SocketAddr, method: &str, path: &str, host: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connecting to the API");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("reading the response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// GET `path` as JSON, asserting 200.
fn get(ctl: &Controller, path: &str) -> Value {
    let (status, body) = http(ctl.api, "GET", path, "127.0.0.1");
    assert_eq!(
        status,
        200,
        "GET {path}: {body}\ncontroller log:\n{}",
        ctl.log_text()
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// A cable between two hub ports: a thread copying frames between two clients.
struct Cables {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Cables {
    fn new(mut pairs: Vec<(UmlClient, UmlClient)>) -> Cables {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                for (a, b) in &mut pairs {
                    for _ in 0..64 {
                        match a.recv(Duration::from_millis(1)) {
                            Ok(Some(f)) => {
                                let _ = b.send(&f);
                            }
                            _ => break,
                        }
                    }
                    for _ in 0..64 {
                        match b.recv(Duration::from_millis(1)) {
                            Ok(Some(f)) => {
                                let _ = a.send(&f);
                            }
                            _ => break,
                        }
                    }
                }
            }
        });
        Cables {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Cables {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An ARP packet (60 bytes): request to broadcast, or reply to `target_mac`.
fn arp(op: u16, sender: ([u8; 6], [u8; 4]), target: ([u8; 6], [u8; 4])) -> Vec<u8> {
    let dst = if op == 1 { [0xff; 6] } else { target.0 };
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&0x0806u16.to_be_bytes());
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&sender.1);
    f.extend_from_slice(if op == 1 { &[0; 6] } else { &target.0 });
    f.extend_from_slice(&target.1);
    f.resize(60, 0);
    f
}

fn dpid(n: u64) -> String {
    format!("{n:016x}")
}

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The flows of a switch through the API.
fn flows(ctl: &Controller, n: u64) -> Vec<Value> {
    let v = get(ctl, &format!("/api/flows/{}", dpid(n)));
    assert_eq!(v["dpid"], dpid(n));
    v["flows"].as_array().cloned().unwrap_or_default()
}

/// `(src dpid, src port, dst dpid, dst port)` of every link.
fn links(ctl: &Controller) -> Vec<(String, u64, String, u64)> {
    let v = get(ctl, "/api/links");
    let mut out: Vec<_> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["src"]["dpid"].as_str().unwrap().to_string(),
                l["src"]["port"].as_u64().unwrap(),
                l["dst"]["dpid"].as_str().unwrap().to_string(),
                l["dst"]["port"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Runs headless Chromium on `url` and returns the DOM it dumps, or None when chromium
/// is not installed.
fn chromium_dom(url: &str, dir: &TempDir) -> Option<String> {
    let tool = flowlab_tests::find_in_path("chromium")?;
    let out_path = dir.join("dom.html");
    let err_path = dir.join("chromium.log");
    let mut cmd = Command::new(tool);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-extensions",
        "--virtual-time-budget=5000",
    ])
    .arg(format!(
        "--user-data-dir={}",
        dir.join("chromium-profile").display()
    ))
    .args(["--dump-dom", url])
    .stdin(Stdio::null())
    .stdout(File::create(&out_path).expect("dom file"))
    .stderr(File::create(&err_path).expect("chromium log"));
    let mut guard = ProcGuard::spawn(&mut cmd, libc::SIGKILL, Duration::from_secs(1))
        .expect("spawning chromium");
    let status = wait_timeout(&mut guard.child, Duration::from_secs(90)).expect("waiting");
    let dom = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()),
        "chromium did not finish well ({status:?}); its log:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    Some(dom)
}

#[test]
fn the_api_and_the_page_show_a_live_three_switch_network() {
    let dir = TempDir::new("fla");
    let ctl = Controller::start(&dir, "topology,hosts,l2_learning");

    // The API is up before any switch.
    assert_eq!(
        get(&ctl, "/api/switches"),
        serde_json::json!({"switches": []})
    );

    let hub = |n: u64, protocols: &str| {
        Switch::start(
            SwitchKind::FlowlabHub,
            &SwitchConfig::switch().args([
                "--controller".to_string(),
                format!("unix:{}", ctl.socket.display()),
                "--fail-mode".into(),
                "secure".into(),
                "--protocols".into(),
                protocols.into(),
                "--dpid".into(),
                dpid(n),
            ]),
        )
    };
    let (s1, s2, s3) = (
        hub(0xc1, "OpenFlow13"),
        hub(0xc2, "OpenFlow10"),
        hub(0xc3, "OpenFlow13"),
    );
    let joined = wait_until(Duration::from_secs(15), || {
        get(&ctl, "/api/switches")["switches"]
            .as_array()
            .is_some_and(|s| s.len() == 3)
    });
    assert!(
        joined,
        "the three hubs never showed in /api/switches; controller log:\n{}",
        ctl.log_text()
    );

    // Cables first (port 1 of c1 and c3, ports 1 and 2 of c2), then the hosts (port 2 of
    // c1 and c3).
    let c1p1 = s1.client(ClientStyle::Uml);
    let c2p1 = s2.client(ClientStyle::Uml);
    let c2p2 = s2.client(ClientStyle::Uml);
    let c3p1 = s3.client(ClientStyle::Uml);
    let _cables = Cables::new(vec![(c1p1, c2p1), (c2p2, c3p1)]);
    let mut h1 = s1.client(ClientStyle::Uml);
    let mut h2 = s3.client(ClientStyle::Uml);

    // Switches: versions and the ports the clients took.
    let found_ports = wait_until(Duration::from_secs(10), || {
        let v = get(&ctl, "/api/switches");
        v["switches"].as_array().is_some_and(|sw| {
            sw.iter().all(|s| {
                s["ports"]
                    .as_array()
                    .is_some_and(|p| p.iter().filter(|p| p["no"].as_u64() < Some(100)).count() == 2)
            })
        })
    });
    let v = get(&ctl, "/api/switches");
    assert!(found_ports, "ports never appeared: {v:#}");
    let sw = v["switches"].as_array().unwrap();
    let ids: Vec<&str> = sw.iter().map(|s| s["dpid"].as_str().unwrap()).collect();
    assert_eq!(ids, [dpid(0xc1), dpid(0xc2), dpid(0xc3)]);
    let versions: Vec<&str> = sw.iter().map(|s| s["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.3", "1.0", "1.3"]);
    for s in sw {
        let nos: Vec<u64> = s["ports"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["no"].as_u64().filter(|&n| n < 100))
            .collect();
        assert_eq!(nos, [1, 2], "{s:#}");
        assert!(s["n_tables"].as_u64().unwrap() >= 1);
    }

    // Links: LLDP through the cables, both directions of each.
    let want_links = vec![
        (dpid(0xc1), 1, dpid(0xc2), 1),
        (dpid(0xc2), 1, dpid(0xc1), 1),
        (dpid(0xc2), 2, dpid(0xc3), 1),
        (dpid(0xc3), 1, dpid(0xc2), 2),
    ];
    let found = wait_until(Duration::from_secs(20), || links(&ctl) == want_links);
    assert!(
        found,
        "links: {:?}, wanted {want_links:?}; stats: {}\ncontroller log:\n{}",
        links(&ctl),
        get(&ctl, "/api/stats"),
        ctl.log_text()
    );

    // Hosts: h1 asks for h2 by ARP, h2 answers; repeated until both are known.
    let (m1, m2) = (mac(0xa1), mac(0xa2));
    let (ip1, ip2) = ([198, 51, 100, 1], [198, 51, 100, 2]);
    let mut hosts = Value::Null;
    let learned = wait_until(Duration::from_secs(20), || {
        h1.send(&arp(1, (m1, ip1), ([0; 6], ip2))).expect("send");
        let _ = h2.drain(Duration::from_millis(50));
        h2.send(&arp(2, (m2, ip2), (m1, ip1))).expect("send");
        let _ = h1.drain(Duration::from_millis(50));
        hosts = get(&ctl, "/api/hosts");
        hosts["hosts"]
            .as_array()
            .is_some_and(|h| h.len() == 2 && h.iter().all(|h| h["ipv4"].is_string()))
    });
    assert!(
        learned,
        "hosts: {hosts:#}\nstats: {}\ncontroller log:\n{}",
        get(&ctl, "/api/stats"),
        ctl.log_text()
    );
    let h = hosts["hosts"].as_array().unwrap();
    assert_eq!(h[0]["mac"], mac_text(m1));
    assert_eq!(h[0]["ipv4"], "198.51.100.1");
    assert_eq!(
        h[0]["location"],
        serde_json::json!({"dpid": dpid(0xc1), "port": 2})
    );
    assert_eq!(h[1]["mac"], mac_text(m2));
    assert_eq!(h[1]["ipv4"], "198.51.100.2");
    assert_eq!(
        h[1]["location"],
        serde_json::json!({"dpid": dpid(0xc3), "port": 2})
    );
    assert!(h[0]["last_seen"].as_f64() >= h[0]["since"].as_f64());

    // Flows, asked of the switches.
    let h1_text = format!("dl_dst={}", mac_text(m1));
    for (n, version) in [(0xc1, "1.3"), (0xc2, "1.0"), (0xc3, "1.3")] {
        let f = flows(&ctl, n);
        let lldp = f
            .iter()
            .find(|f| f["priority"] == 65535)
            .unwrap_or_else(|| panic!("no LLDP flow on {n:x}: {f:#?}"));
        assert_eq!(lldp["match"], "dl_type=0x88cc");
        assert_eq!(lldp["actions"], "CONTROLLER:65535");
        if version == "1.3" {
            let miss = f
                .iter()
                .find(|f| f["priority"] == 0)
                .unwrap_or_else(|| panic!("no table-miss flow on {n:x}: {f:#?}"));
            assert_eq!(miss["match"], "");
        }
        // The ARP reply towards h1 was unicast: every switch on its way learned a flow.
        assert!(
            f.iter()
                .any(|f| f["match"].as_str().is_some_and(|m| m.contains(&h1_text))),
            "switch {n:x} has no flow towards h1: {f:#?}"
        );
        for flow in &f {
            assert!(flow["text"].as_str().unwrap().starts_with("cookie="));
            assert!(flow["packets"].is_u64() && flow["bytes"].is_u64());
        }
    }

    // Counters and the change feed.
    let stats = get(&ctl, "/api/stats");
    assert_eq!(stats["events"]["SwitchJoin"], 3, "{stats:#}");
    assert!(stats["events"]["LinkUp"].as_u64() >= Some(4), "{stats:#}");
    assert!(stats["events"]["HostJoin"].as_u64() >= Some(2), "{stats:#}");
    assert!(stats["events"]["PacketIn"].as_u64() > Some(0), "{stats:#}");
    assert_eq!(stats["connections"], 3);
    assert_eq!(stats["switches"], 3);
    let topo = get(&ctl, "/api/topology");
    let seq = topo["seq"].as_u64().unwrap();
    assert!(seq >= 6, "{topo:#}");
    assert_eq!(topo["switches"].as_array().unwrap().len(), 3);
    assert_eq!(topo["links"].as_array().unwrap().len(), 4);
    assert_eq!(topo["hosts"].as_array().unwrap().len(), 2);
    let changes = get(&ctl, "/api/changes?since=0");
    assert_eq!(changes["lost"], false);
    let kinds: Vec<&str> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "LinkUp").count(),
        4,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"HostJoin") && kinds.contains(&"HostAddress"));
    let last = changes["changes"].as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    assert!(last >= seq, "the feed reaches at least the topology's seq");
    let tail = get(&ctl, &format!("/api/changes?since={last}"));
    assert_eq!(tail["changes"], serde_json::json!([]));

    // Errors, over the wire.
    for (method, path, host, status) in [
        ("GET", "/api/nothing", "127.0.0.1", 404),
        ("POST", "/api/switches", "127.0.0.1", 405),
        ("GET", "/api/flows/zz", "127.0.0.1", 400),
        ("GET", "/api/flows/00000000000000ff", "127.0.0.1", 404),
        ("GET", "/api/changes?since=x", "127.0.0.1", 400),
        ("GET", "/api/switches", "attacker.example", 403),
    ] {
        let (got, body) = http(ctl.api, method, path, host);
        assert_eq!(got, status, "{method} {path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], status);
    }
    let (status, page) = http(ctl.api, "GET", "/", "localhost");
    assert_eq!(status, 200);
    assert!(page.contains("<svg id=\"topology\""));

    // The page, drawn by a real browser.
    let url = format!("http://{}/", ctl.api);
    match chromium_dom(&url, &dir) {
        None => eprintln!(
            "SKIPPED the browser check: `chromium` is not installed \
             (Debian package chromium; scripts/setup.sh installs it)"
        ),
        Some(page) => {
            // What was drawn (the script's own text, with its examples, is not).
            let dom = page
                .find("<svg id=\"topology\"")
                .and_then(|start| {
                    let end = start + page[start..].find("</svg>")?;
                    page.get(start..end)
                })
                .unwrap_or_else(|| panic!("no topology SVG in the page:\n{page}"));
            for n in [0xc1, 0xc2, 0xc3] {
                let g = format!("class=\"switch\" data-dpid=\"{}\"", dpid(n));
                assert!(dom.contains(&g), "no {g} in the page:\n{dom}");
            }
            assert_eq!(dom.matches("class=\"switch\"").count(), 3, "{dom}");
            for (a, pa, b, pb) in [(0xc1, 1, 0xc2, 1), (0xc2, 2, 0xc3, 1)] {
                let line = format!(
                    "data-src=\"{}\" data-src-port=\"{pa}\" data-dst=\"{}\" data-dst-port=\"{pb}\" \
                     data-directions=\"2\"",
                    dpid(a),
                    dpid(b)
                );
                assert!(dom.contains(&line), "no link {line} in the page:\n{dom}");
            }
            assert_eq!(dom.matches("class=\"link\"").count(), 2, "{dom}");
            for (m, n) in [(m1, 0xc1), (m2, 0xc3)] {
                let g = format!(
                    "class=\"host\" data-mac=\"{}\" data-ipv4=\"198.51.100.{}\" data-dpid=\"{}\" \
                     data-port=\"2\"",
                    mac_text(m),
                    if n == 0xc1 { 1 } else { 2 },
                    dpid(n)
                );
                assert!(dom.contains(&g), "no {g} in the page:\n{dom}");
            }
            assert!(dom.contains("data-switches=\"3\""), "{dom}");
        }
    }
}
