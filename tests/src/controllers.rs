//! Real OpenFlow controllers driving flowlab-hub, and the hosts they connect.
//!
//! A test builds its own little network:
//!
//! ```text
//!   switch namespace (unique name, entered by the test thread: see [`Netns::enter`])
//!     controller on 127.0.0.1:6653  <── flowlab-hub ──> --listen ptcp:6634 (ovs-ofctl)
//!                                        │ port 1 = raw:p1    │ port 2 = raw:p2
//!   h1 namespace: eth0 198.51.100.1/24 ──┘                    └── h2 namespace: eth0 198.51.100.2/24
//! ```
//!
//! or, for UML guests, the guests themselves in the switch namespace (a guest and its
//! switch must share a namespace: their data sockets are abstract unix names).
//!
//! # Why the test thread enters the switch namespace
//!
//! Everything on the switch's side (the hub, the controller, `ovs-ofctl`, the UML guests)
//! must run in the switch namespace so that `127.0.0.1:6653` is private to the test: two
//! tests, or two runs, never meet on a port. The harness starts the hub and the guests
//! itself ([`crate::switch::Switch::start`], [`crate::guests::GuestLab::boot`]) with plain
//! `Command`s, and a child inherits the network namespace of the *thread* that forks it.
//! So the test thread `setns(2)`s into the namespace for as long as it builds and drives
//! the network, and returns on drop. Namespaces are per thread: other tests running in
//! parallel are not affected, and libtest gives every test its own thread.
//!
//! # Controllers
//!
//! * `ovs-testcontroller -O OpenFlow10|OpenFlow13 ptcp:PORT:127.0.0.1`: Open vSwitch's
//!   learning switch. It is run in the foreground as a child of the test (with a
//!   parent-death signal, so it cannot outlive a killed test), with its own pidfile,
//!   unixctl socket and log in the test's temp dir, and stopped by that pid.
//! * `osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port PORT APP` from the
//!   os-ken 3.1.1 venv (`$FLOWLAB_VENV`, default `/opt/flowlab/osken-venv`). APP is
//!   `os_ken.app.simple_switch_13` when the venv has it. The os-ken 3.1.1 wheel on PyPI
//!   does not ship `os_ken/app/simple_switch_*` (only `os_ken/app/ofctl`), so otherwise
//!   APP is [`OSKEN_L2_APP`], written for these tests: the same flow policy as
//!   simple_switch_13 (a priority-0 table-miss entry to `CONTROLLER:65535`, and per learned
//!   destination a priority-1 flow on `in_port`, `eth_src`, `eth_dst`).
//!
//! Readiness of a controller is its listening socket in `/proc/thread-self/net/tcp`
//! (no probe connection that the controller would take for a switch).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::proc::{set_parent_death_signal, stop_child, wait_timeout, wait_until};
use crate::switch::read_lossy;

/// The controllers' TCP port inside a switch namespace.
pub const CONTROLLER_PORT: u16 = 6653;
/// The hub's passive OpenFlow listener (for `ovs-ofctl`) inside a switch namespace.
pub const LISTEN_PORT: u16 = 6634;
/// How long a controller may take to listen (os-ken needs a few seconds under load).
pub const CONTROLLER_START: Duration = Duration::from_secs(30);

/// Why an OpenFlow test cannot run here (not root, a tool or the os-ken venv missing), or
/// `None` if it can. `tools` are `(program, Debian package)` pairs; `osken` also asks for
/// the venv.
pub fn missing_prerequisites(tools: &[(&str, &str)], osken: bool) -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (network namespaces, veth, AF_PACKET)".into());
    }
    let mut missing = Vec::new();
    for (tool, package) in [("ip", "iproute2")].iter().chain(tools) {
        if crate::find_in_path(tool).is_none() {
            missing.push(format!("`{tool}` (Debian package {package})"));
        }
    }
    if osken && !osken_manager().is_file() {
        missing.push(format!(
            "{} (scripts/setup.sh creates the os-ken 3.1.1 venv)",
            osken_manager().display()
        ));
    }
    (!missing.is_empty()).then(|| format!("missing {}", missing.join(", ")))
}

/// Runs `cmd`, panicking with its output unless it exits 0; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ip() -> Command {
    Command::new(crate::require_tool("ip", "iproute2"))
}

/// A network namespace made for one test (`ip netns add <tag>-<pid>-<n>`), deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace, brings `lo` up and turns IPv6 off (no router solicitations or
    /// neighbour discovery frames to disturb packet-in counts).
    pub fn new(tag: &str) -> Netns {
        let name = crate::unique(tag);
        run_ok(ip().args(["netns", "add", &name]));
        let ns = Netns { name };
        run_ok(ip().args(["-n", &ns.name, "link", "set", "lo", "up"]));
        for key in ["all", "default"] {
            let path = format!("/proc/sys/net/ipv6/conf/{key}/disable_ipv6");
            // Best effort: a kernel without IPv6 has no such file.
            let _ = ns
                .exec("sh")
                .args(["-c", &format!("[ -e {path} ] && echo 1 > {path}")])
                .output();
        }
        ns
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec <name> <program>`.
    pub fn exec(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = ip();
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `program args...` in the namespace; panics unless it exits 0; returns stdout.
    pub fn run(&self, program: &str, args: &[&str]) -> String {
        run_ok(self.exec(program).args(args))
    }

    /// Moves the calling thread into the namespace until the guard is dropped; every
    /// process the thread starts meanwhile is born in it, and sockets the thread opens
    /// belong to it.
    pub fn enter(&self) -> Entered {
        let home = File::open("/proc/thread-self/ns/net").expect("opening this thread's netns");
        let target = File::open(Path::new("/run/netns").join(&self.name))
            .unwrap_or_else(|e| panic!("opening /run/netns/{}: {e}", self.name));
        setns(&target, &self.name);
        Entered { home }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let ok = ip()
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok && !std::thread::panicking() {
            eprintln!("could not delete network namespace {}", self.name);
        }
    }
}

fn setns(ns: &File, what: &str) {
    // SAFETY: setns on a namespace descriptor we hold open; affects this thread only.
    let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    assert!(
        r == 0,
        "setns into {what}: {}",
        std::io::Error::last_os_error()
    );
}

/// The calling thread's stay in a namespace (see [`Netns::enter`]); back home on drop.
#[derive(Debug)]
pub struct Entered {
    home: File,
}

impl Drop for Entered {
    fn drop(&mut self) {
        setns(&self.home, "the thread's original network namespace");
    }
}

/// True if something in the calling thread's network namespace listens on TCP
/// `127.0.0.1:port` (from `/proc/thread-self/net/tcp`).
pub fn listening_on_loopback(port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    read_lossy(Path::new("/proc/thread-self/net/tcp"))
        .lines()
        .skip(1)
        .any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // sl local_address rem_address st ...; 0A = LISTEN
            f.len() > 3 && f[1] == want && f[3] == "0A"
        })
}

/// Two hosts in their own namespaces, each on a veth pair whose other end (`p1`, `p2`)
/// is in the switch namespace, for the hub's `--port 1=raw:p1 --port 2=raw:p2`.
#[derive(Debug)]
pub struct VethHosts {
    hosts: [Netns; 2],
    macs: [String; 2],
}

impl VethHosts {
    /// Host addresses, `h1` and `h2`.
    pub const ADDRS: [&'static str; 2] = ["198.51.100.1", "198.51.100.2"];
    /// The switch-side interface names, ports 1 and 2.
    pub const SWITCH_ENDS: [&'static str; 2] = ["p1", "p2"];

    /// Creates `h1` and `h2` and their veth pairs into `switch`, addresses
    /// 198.51.100.1/24 and .2/24, all links up, and transmit checksum offload off on
    /// every veth end (`ethtool -K DEV tx off`; this also turns TSO off): a frame a local
    /// stack sends must carry its real checksum when the hub reads it from a packet
    /// socket.
    pub fn new(switch: &Netns) -> VethHosts {
        let ethtool = crate::require_tool("ethtool", "ethtool");
        let hosts = [Netns::new("flofh"), Netns::new("flofh")];
        let mut macs = [String::new(), String::new()];
        for (i, h) in hosts.iter().enumerate() {
            let end = Self::SWITCH_ENDS[i];
            run_ok(
                ip().args(["-n", switch.name(), "link", "add", end, "type", "veth"])
                    .args(["peer", "name", "eth0", "netns", h.name()]),
            );
            run_ok(ip().args(["-n", switch.name(), "link", "set", end, "up"]));
            let addr = format!("{}/24", Self::ADDRS[i]);
            run_ok(ip().args(["-n", h.name(), "addr", "add", &addr, "dev", "eth0"]));
            run_ok(ip().args(["-n", h.name(), "link", "set", "eth0", "up"]));
            run_ok(switch.exec(&ethtool).args(["-K", end, "tx", "off"]));
            run_ok(h.exec(&ethtool).args(["-K", "eth0", "tx", "off"]));
            macs[i] = h
                .run("cat", &["/sys/class/net/eth0/address"])
                .trim()
                .to_string();
        }
        VethHosts { hosts, macs }
    }

    /// Host `i` (0: h1, 1: h2).
    pub fn host(&self, i: usize) -> &Netns {
        &self.hosts[i]
    }

    /// The MAC address of host `i`'s `eth0`.
    pub fn mac(&self, i: usize) -> &str {
        &self.macs[i]
    }

    /// `ping -c count -i interval -W wait` from host `from` to the other host.
    pub fn ping(&self, from: usize, count: u32, interval: &str, wait: u32) -> PingStats {
        let to = Self::ADDRS[1 - from];
        let out = self.hosts[from]
            .exec(crate::require_tool("ping", "iputils-ping"))
            .args(["-q", "-n", "-c", &count.to_string(), "-i", interval])
            .args(["-W", &wait.to_string(), to])
            .stdin(Stdio::null())
            .output()
            .expect("running ping");
        PingStats::from_output(&out)
    }

    /// Pings from host `from` once a second until a reply comes (up to `tries`); returns
    /// the number of failed probes, or None if none was answered.
    pub fn ping_until_reply(&self, from: usize, tries: u32) -> Option<u32> {
        (0..tries).find(|_| self.ping(from, 1, "1", 1).received == 1)
    }

    /// Sends exactly `bytes` over TCP from h1 to a receiver in h2 (python3 on both sides)
    /// and returns the byte count the receiver saw and how long the transfer took.
    pub fn tcp_transfer(&self, bytes: u64, limit: Duration) -> (u64, Duration) {
        let python = crate::require_tool("python3", "python3");
        let secs = limit.as_secs().max(1).to_string();
        let mut rx = self.hosts[1]
            .exec(&python)
            .args(["-c", TCP_RECEIVER, Self::ADDRS[1], "5001", &secs])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the receiver");
        let mut lines = BufReader::new(rx.stdout.take().expect("piped"));
        let mut first = String::new();
        // The receiver prints `listening` once bound (or exits on its own deadline).
        let _ = lines.read_line(&mut first);
        assert_eq!(
            first.trim(),
            "listening",
            "receiver did not start: {}",
            stderr_of(&mut rx)
        );
        let t0 = Instant::now();
        let tx = self.hosts[0]
            .exec(&python)
            .args([
                "-c",
                TCP_SENDER,
                Self::ADDRS[1],
                "5001",
                &bytes.to_string(),
                &secs,
            ])
            .stdin(Stdio::null())
            .output()
            .expect("running the sender");
        let took = t0.elapsed();
        let st = wait_timeout(&mut rx, limit).ok().flatten();
        if st.is_none() {
            let _ = stop_child(&mut rx, libc::SIGKILL, Duration::from_secs(1));
        }
        let mut rest = String::new();
        let _ = lines.read_to_string(&mut rest);
        let count = rest
            .lines()
            .find_map(|l| l.strip_prefix("received "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        assert!(
            tx.status.success(),
            "sender failed ({}): {}{}",
            tx.status,
            String::from_utf8_lossy(&tx.stdout),
            String::from_utf8_lossy(&tx.stderr)
        );
        let count = count.unwrap_or_else(|| {
            panic!(
                "receiver printed no count (exit {st:?}): {rest}{}",
                stderr_of(&mut rx)
            )
        });
        (count, took)
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// Receiver: `ADDR PORT TIMEOUT`; prints `listening`, accepts one connection, counts its
/// bytes until EOF, prints `received N`.
pub const TCP_RECEIVER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(float(sys.argv[3]))
print("listening", flush=True)
c, _ = s.accept()
c.settimeout(float(sys.argv[3]))
n = 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    n += len(b)
c.close()
print("received", n, flush=True)
"#;

/// Sender: `ADDR PORT BYTES TIMEOUT`; sends exactly BYTES (a repeating 0..255 pattern),
/// then shuts its side down and waits for the receiver to close.
pub const TCP_SENDER: &str = r#"
import socket, sys
n = int(sys.argv[3])
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[4]))
block = bytes(range(256)) * 256
left = n
while left:
    left -= s.send(block[:min(left, len(block))])
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
print("sent", n, flush=True)
"#;

/// Ping results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PingStats {
    /// Echo requests sent.
    pub transmitted: u32,
    /// Replies received.
    pub received: u32,
    /// The summary lines, for messages.
    pub summary: String,
}

impl PingStats {
    /// Parses the summary of iputils ping (`5 packets transmitted, 5 received, ...`) or
    /// busybox ping (`5 packets transmitted, 5 packets received, ...`).
    pub fn parse(text: &str) -> PingStats {
        let mut s = PingStats::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
            let Some(t) = words.iter().position(|&w| w == "transmitted") else {
                continue;
            };
            let num = |i: usize| words.get(i).and_then(|w| w.parse::<u32>().ok());
            s.transmitted = t.checked_sub(2).and_then(num).unwrap_or(0);
            s.received = words
                .iter()
                .position(|&w| w == "received")
                .and_then(|r| {
                    // `N received` or `N packets received`
                    let back = if r > 0 && words[r - 1] == "packets" {
                        2
                    } else {
                        1
                    };
                    r.checked_sub(back).and_then(num)
                })
                .unwrap_or(0);
            s.summary = line.trim().to_string();
        }
        s
    }

    /// From a finished ping's output.
    pub fn from_output(out: &Output) -> PingStats {
        let text = String::from_utf8_lossy(&out.stdout);
        let mut s = PingStats::parse(&text);
        if s.summary.is_empty() {
            s.summary = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
        }
        s
    }

    /// Loss in percent (100 when nothing was sent).
    pub fn loss_percent(&self) -> u32 {
        if self.transmitted == 0 {
            return 100;
        }
        100 - self.received.min(self.transmitted) * 100 / self.transmitted
    }
}

/// Which controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControllerKind {
    /// `ovs-testcontroller -O OpenFlow10`.
    TestController10,
    /// `ovs-testcontroller -O OpenFlow13`.
    TestController13,
    /// `osken-manager` with simple_switch_13 (or [`OSKEN_L2_APP`], see the module docs).
    OsKen13,
}

impl ControllerKind {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            ControllerKind::TestController10 => "ovs-testcontroller OF1.0",
            ControllerKind::TestController13 => "ovs-testcontroller OF1.3",
            ControllerKind::OsKen13 => "os-ken simple_switch_13",
        }
    }

    /// The OpenFlow version the controller speaks: 10 or 13.
    pub fn version(self) -> u8 {
        match self {
            ControllerKind::TestController10 => 10,
            _ => 13,
        }
    }

    /// The tools it needs, as `(program, Debian package)`.
    pub fn tools(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ControllerKind::OsKen13 => &[],
            _ => &[("ovs-testcontroller", "openvswitch-testcontroller")],
        }
    }
}

/// The os-ken venv: `$FLOWLAB_VENV` or `/opt/flowlab/osken-venv`.
pub fn osken_venv() -> PathBuf {
    std::env::var_os("FLOWLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/flowlab/osken-venv"))
}

/// `<venv>/bin/osken-manager`.
pub fn osken_manager() -> PathBuf {
    osken_venv().join("bin/osken-manager")
}

/// True if the venv's os-ken has `os_ken/app/simple_switch_13.py`.
pub fn osken_has_simple_switch_13() -> bool {
    let Ok(entries) = std::fs::read_dir(osken_venv().join("lib")) else {
        return false;
    };
    entries.flatten().any(|e| {
        e.path()
            .join("site-packages/os_ken/app/simple_switch_13.py")
            .is_file()
    })
}

/// An os-ken app for OpenFlow 1.3 written for these tests, used when the venv lacks
/// `os_ken.app.simple_switch_13`. Flow policy as simple_switch_13: on switch features, a
/// priority-0 table-miss flow to `CONTROLLER` (no buffering); on a packet-in, learn
/// `eth_src` on `in_port`; if `eth_dst` is known, add a priority-1 flow on
/// `in_port, eth_src, eth_dst` that outputs to its port; packet-out the frame (to the
/// known port or FLOOD).
pub const OSKEN_L2_APP: &str = r#"
# flowlab tests: an OpenFlow 1.3 L2 learning switch for os-ken.
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ether_types, ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class FlowlabL2Learning13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.port_of = {}

    @staticmethod
    def add_flow(dp, priority, match, actions):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        apply = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match,
                                      instructions=apply))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        miss = parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)
        self.add_flow(dp, 0, parser.OFPMatch(), [miss])
        self.logger.info("switch %016x: table-miss flow sent", dp.id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        if eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return
        known = self.port_of.setdefault(dp.id, {})
        known[eth.src] = in_port
        out = known.get(eth.dst, ofp.OFPP_FLOOD)
        self.logger.info("packet-in %s > %s in_port %d out %d", eth.src, eth.dst, in_port, out)
        actions = [parser.OFPActionOutput(out)]
        if out != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst, eth_src=eth.src)
            self.add_flow(dp, 1, match, actions)
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id,
                                        in_port=in_port, actions=actions, data=data))
"#;

/// A running controller in the calling thread's network namespace, stopped by its pid on
/// drop (SIGTERM, then SIGKILL).
#[derive(Debug)]
pub struct Controller {
    kind: ControllerKind,
    app: String,
    child: Child,
    log: PathBuf,
    pidfile: Option<PathBuf>,
}

impl Controller {
    /// Starts `kind` listening on `127.0.0.1:port` in the calling thread's namespace (see
    /// [`Netns::enter`]), with its files in `dir` (unique names), and waits until it
    /// listens. Panics with its log if it exits or does not listen in time.
    pub fn start(kind: ControllerKind, port: u16, dir: &Path) -> Controller {
        assert!(
            !listening_on_loopback(port),
            "something already listens on 127.0.0.1:{port} in this namespace"
        );
        let tag = crate::unique("ctl");
        let log = dir.join(format!("{tag}.log"));
        let (mut cmd, app, pidfile) = match kind {
            ControllerKind::TestController10 | ControllerKind::TestController13 => {
                let pidfile = dir.join(format!("{tag}.pid"));
                let mut c = Command::new(crate::require_tool(
                    "ovs-testcontroller",
                    "openvswitch-testcontroller",
                ));
                let version = if kind == ControllerKind::TestController10 {
                    "OpenFlow10"
                } else {
                    "OpenFlow13"
                };
                c.args(["-O", version, &format!("ptcp:{port}:127.0.0.1")])
                    .arg(format!("--pidfile={}", pidfile.display()))
                    .arg(format!(
                        "--unixctl={}",
                        dir.join(format!("{tag}.ctl")).display()
                    ))
                    .arg(format!("--log-file={}", log.display()))
                    .args(["--no-chdir", "-vconsole:off"]);
                (c, "ovs-testcontroller".to_string(), Some(pidfile))
            }
            ControllerKind::OsKen13 => {
                let app = if osken_has_simple_switch_13() {
                    "os_ken.app.simple_switch_13".to_string()
                } else {
                    let file = dir.join("flowlab_l2_learning_13.py");
                    std::fs::write(&file, OSKEN_L2_APP).expect("writing the os-ken app");
                    file.display().to_string()
                };
                let mut c = Command::new(osken_manager());
                c.args(["--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port"])
                    .arg(port.to_string())
                    .arg(&app);
                (c, app, None)
            }
        };
        let out = File::create(&log).expect("controller log");
        // ovs-testcontroller logs to its --log-file itself; keep its stderr apart.
        let err = match kind {
            ControllerKind::OsKen13 => out.try_clone().expect("dup"),
            _ => File::create(dir.join(format!("{tag}.stderr"))).expect("controller stderr"),
        };
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        set_parent_death_signal(&mut cmd, libc::SIGTERM);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", kind.name()));
        let mut c = Controller {
            kind,
            app,
            child,
            log,
            pidfile,
        };
        let t0 = Instant::now();
        let mut exited = None;
        let up = wait_until(CONTROLLER_START, || {
            if let Ok(Some(st)) = c.child.try_wait() {
                exited = Some(st);
                return true;
            }
            listening_on_loopback(port)
        });
        assert!(
            up && exited.is_none(),
            "{} did not listen on 127.0.0.1:{port} within {CONTROLLER_START:?} (exit {exited:?}); log:\n{}",
            kind.name(),
            c.log_text()
        );
        if let Some(p) = &c.pidfile {
            // The pidfile names the process we started (no daemon fork in between).
            let ok = wait_until(Duration::from_secs(5), || {
                read_lossy(p).trim().parse::<u32>().ok() == Some(c.child.id())
            });
            assert!(
                ok,
                "{}: pidfile {} does not name pid {}",
                kind.name(),
                p.display(),
                c.pid()
            );
        }
        eprintln!(
            "{} ({}) listening after {:.1} s",
            kind.name(),
            c.app,
            t0.elapsed().as_secs_f64()
        );
        c
    }

    /// Which controller.
    pub fn kind(&self) -> ControllerKind {
        self.kind
    }

    /// The app (os-ken) or program name.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Stops it now (SIGTERM, then SIGKILL after 3 s).
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        stop_child(&mut self.child, libc::SIGTERM, Duration::from_secs(3));
        if let Some(p) = &self.pidfile {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// The OpenFlow counters and controller states from `flowlab-hub ctl SOCK show`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubOfStats {
    /// `messages in N`.
    pub messages_in: u64,
    /// `flow mods N`.
    pub flow_mods: u64,
    /// `packet-ins N`.
    pub packet_ins: u64,
    /// `fail-open frames N`.
    pub fail_open_frames: u64,
    /// `errors sent N`.
    pub errors_sent: u64,
    /// One `(target, state)` per `--controller`.
    pub controllers: Vec<(String, String)>,
    /// All `openflow:` lines, for messages.
    pub text: String,
}

impl HubOfStats {
    /// Parses the `openflow:` lines of `ctl show`.
    pub fn parse(show: &str) -> HubOfStats {
        let mut s = HubOfStats::default();
        for line in show.lines() {
            let Some(l) = line.strip_prefix("openflow: ") else {
                continue;
            };
            s.text += line;
            s.text.push('\n');
            if let Some(rest) = l.strip_prefix("controller ") {
                // `controller tcp:127.0.0.1:6653: connected`
                if let Some((target, state)) = rest.split_once(": ") {
                    s.controllers.push((target.to_string(), state.to_string()));
                }
                continue;
            }
            for part in l.split([';', ',']) {
                let part = part.trim();
                let Some((name, n)) = part.rsplit_once(' ') else {
                    continue;
                };
                let Ok(n) = n.parse::<u64>() else { continue };
                match name {
                    "messages in" => s.messages_in = n,
                    "flow mods" => s.flow_mods = n,
                    "packet-ins" => s.packet_ins = n,
                    "fail-open frames" => s.fail_open_frames = n,
                    "errors sent" => s.errors_sent = n,
                    _ => {}
                }
            }
        }
        s
    }

    /// True if every `--controller` is connected (and there is at least one).
    pub fn connected(&self) -> bool {
        !self.controllers.is_empty() && self.controllers.iter().all(|(_, st)| st == "connected")
    }
}

/// `flowlab-hub ctl <ctl> show`, through the management protocol.
pub fn hub_show(ctl: &Path) -> String {
    try_hub_show(ctl).unwrap_or_else(|e| panic!("{e}"))
}

/// [`hub_show`], with failures as text.
pub fn try_hub_show(ctl: &Path) -> Result<String, String> {
    let mut s = flowlab_hub::mgmt::request(ctl, &["show".to_string()])
        .map_err(|e| format!("ctl {} show: {e}", ctl.display()))?;
    let mut text = String::new();
    s.read_to_string(&mut text)
        .map_err(|e| format!("ctl {} show: reading: {e}", ctl.display()))?;
    Ok(text)
}

/// The OpenFlow counters of the hub on `ctl`.
pub fn hub_of_stats(ctl: &Path) -> HubOfStats {
    HubOfStats::parse(&hub_show(ctl))
}

/// Waits up to `limit` until the hub's controllers are all connected.
pub fn wait_connected(ctl: &Path, limit: Duration) -> bool {
    wait_until(limit, || hub_of_stats(ctl).connected())
}

/// One flow as `ovs-ofctl dump-flows` prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowLine {
    /// `key=value` fields and bare words (`icmp`, `tcp`: empty value), statistics and
    /// match alike.
    pub fields: BTreeMap<String, String>,
    /// Everything after `actions=`.
    pub actions: String,
    /// The whole line.
    pub line: String,
}

impl FlowLine {
    /// Parses one flow line; None for headers and blank lines.
    pub fn parse(line: &str) -> Option<FlowLine> {
        let (left, actions) = line.trim().split_once("actions=")?;
        let mut fields = BTreeMap::new();
        for tok in left.split([',', ' ']).filter(|t| !t.is_empty()) {
            let (k, v) = tok.split_once('=').unwrap_or((tok, ""));
            fields.insert(k.to_string(), v.to_string());
        }
        Some(FlowLine {
            fields,
            actions: actions.trim().to_string(),
            line: line.trim().to_string(),
        })
    }

    /// A field's value (`""` for a bare word), None if absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// The priority (OpenFlow's default 32768 when not printed).
    pub fn priority(&self) -> u32 {
        self.get("priority")
            .and_then(|p| p.parse().ok())
            .unwrap_or(32768)
    }

    /// `n_packets`.
    pub fn n_packets(&self) -> u64 {
        self.get("n_packets")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// True for a table-miss entry: priority 0, no match fields, output to CONTROLLER.
    pub fn is_table_miss(&self) -> bool {
        const STATS: [&str; 8] = [
            "cookie",
            "duration",
            "table",
            "n_packets",
            "n_bytes",
            "idle_age",
            "priority",
            "reset_counts",
        ];
        self.priority() == 0
            && self.fields.keys().all(|k| STATS.contains(&k.as_str()))
            && self.actions.starts_with("CONTROLLER")
    }
}

/// `ovs-ofctl dump-flows` against the hub's `--listen ptcp:port` (from the calling
/// thread's namespace), `version` 10 (`-O OpenFlow10 -F openflow10`) or 13.
pub fn dump_flows(port: u16, version: u8) -> Vec<FlowLine> {
    try_dump_flows(port, version).unwrap_or_else(|e| panic!("{e}"))
}

/// [`dump_flows`], with failures as text.
pub fn try_dump_flows(port: u16, version: u8) -> Result<Vec<FlowLine>, String> {
    let mut c = Command::new(crate::require_tool("ovs-ofctl", "openvswitch-common"));
    if version == 10 {
        c.args(["-O", "OpenFlow10", "-F", "openflow10"]);
    } else {
        c.args(["-O", "OpenFlow13"]);
    }
    c.args(["--no-names", "--timeout=10", "dump-flows"])
        .arg(format!("tcp:127.0.0.1:{port}"))
        .stdin(Stdio::null());
    let out = c.output().map_err(|e| format!("running {c:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // ovs-ofctl exits 0 even when it cannot decode the reply: it prints the message in
    // hex after `***decode error: ...***` (and logs a warning).
    if !out.status.success() || stdout.contains("decode error") {
        return Err(format!(
            "{c:?} failed ({}):\n{}{}",
            out.status,
            stdout.trim_end(),
            stderr.trim_end()
        ));
    }
    Ok(stdout.lines().filter_map(FlowLine::parse).collect())
}

/// A guest script (for [`crate::guests::GuestLab::boot`]) that configures `eth0` with
/// `$LAB_ADDR` (`ADDR/LEN`) and then runs, one after the other, the command files the
/// host drops into the lab dir as `<name>.cmd.<n>` (n = 1, 2, ...), writing each one's
/// output and `LAB-EXIT <status>` to `<name>.out.<n>` (renamed into place when complete).
/// It stops when `/host/stop` exists. Idle waits are `read -t` on a private FIFO: no
/// process per poll (a fork costs 10 to 20 ms in UML).
pub const GUEST_SHELL: &str = r#"
ip link set eth0 up
ip addr add "$LAB_ADDR" dev eth0
f=/tmp/tick.$$; mkfifo $f; exec 3<>$f; rm $f
echo "LAB: $LAB_NAME serving"
n=1
while [ ! -e /host/stop ]; do
  c="/host/$LAB_NAME.cmd.$n"
  if [ -e "$c" ]; then
    o="/host/$LAB_NAME.out.$n"
    sh "$c" > "$o.part" 2>&1 < /dev/null
    echo "LAB-EXIT $?" >> "$o.part"
    mv "$o.part" "$o"
    n=$((n+1))
  else
    read -t 0.1 -u 3 x
  fi
done
echo "LAB: $LAB_NAME stopping"
"#;

/// The host's side of [`GUEST_SHELL`] for one guest.
#[derive(Debug)]
pub struct GuestShell {
    lab_dir: PathBuf,
    name: String,
    next: u32,
}

/// What a command run in a guest printed, and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestOutput {
    /// stdout and stderr together.
    pub text: String,
    /// The exit status (None if the command did not finish in time).
    pub exit: Option<i32>,
}

impl GuestShell {
    /// The shell of guest `name` whose `/host` is `lab_dir`.
    pub fn new(lab_dir: &Path, name: &str) -> GuestShell {
        GuestShell {
            lab_dir: lab_dir.to_path_buf(),
            name: name.to_string(),
            next: 1,
        }
    }

    /// Hands `script` to the guest; returns its sequence number for [`GuestShell::wait`].
    pub fn start(&mut self, script: &str) -> u32 {
        let n = self.next;
        self.next += 1;
        let file = self.lab_dir.join(format!("{}.cmd.{n}", self.name));
        let part = self.lab_dir.join(format!(".{}.cmd.{n}.part", self.name));
        std::fs::write(&part, script).expect("writing a guest command");
        std::fs::rename(&part, &file).expect("renaming a guest command");
        n
    }

    /// Waits up to `limit` for command `n` to finish.
    pub fn wait(&self, n: u32, limit: Duration) -> GuestOutput {
        let out = self.lab_dir.join(format!("{}.out.{n}", self.name));
        if !wait_until(limit, || out.exists()) {
            let part = self.lab_dir.join(format!("{}.out.{n}.part", self.name));
            return GuestOutput {
                text: read_lossy(&part),
                exit: None,
            };
        }
        let text = read_lossy(&out);
        let exit = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("LAB-EXIT "))
            .and_then(|s| s.trim().parse().ok());
        GuestOutput { text, exit }
    }

    /// Runs `script` in the guest and waits up to `limit` for it.
    pub fn run(&mut self, script: &str, limit: Duration) -> GuestOutput {
        let n = self.start(script);
        self.wait(n, limit)
    }

    /// Asks every guest of the lab dir to stop serving (their scripts end, they power off).
    pub fn stop_all(lab_dir: &Path) {
        let _ = std::fs::write(lab_dir.join("stop"), b"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_summaries() {
        let iputils = "--- 198.51.100.2 ping statistics ---\n\
            5 packets transmitted, 5 received, 0% packet loss, time 810ms\n";
        let p = PingStats::parse(iputils);
        assert_eq!((p.transmitted, p.received, p.loss_percent()), (5, 5, 0));
        let errs = "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2030ms";
        let p = PingStats::parse(errs);
        assert_eq!((p.transmitted, p.received, p.loss_percent()), (3, 0, 100));
        let busybox = "10 packets transmitted, 9 packets received, 10% packet loss";
        let p = PingStats::parse(busybox);
        assert_eq!((p.transmitted, p.received, p.loss_percent()), (10, 9, 10));
        assert_eq!(PingStats::parse("ping: bad address").loss_percent(), 100);
    }

    #[test]
    fn of_stats_from_show() {
        let show = "mode: openflow\n\
            openflow: datapath id 0000000000000001\n\
            openflow: messages in 10, out 5; flow mods 3; packet-ins 4; errors sent 1; fail-open frames 7\n\
            openflow: controller tcp:127.0.0.1:6653: connected\n\
            openflow: controller unix:/tmp/x: retrying (connection refused)\n";
        let s = HubOfStats::parse(show);
        assert_eq!(
            (
                s.messages_in,
                s.flow_mods,
                s.packet_ins,
                s.errors_sent,
                s.fail_open_frames
            ),
            (10, 3, 4, 1, 7)
        );
        assert_eq!(s.controllers.len(), 2);
        assert_eq!(
            s.controllers[0],
            ("tcp:127.0.0.1:6653".into(), "connected".into())
        );
        assert!(!s.connected());
    }

    #[test]
    fn flow_lines() {
        let l = " cookie=0x0, duration=0.82s, table=0, n_packets=5, n_bytes=490, \
            priority=1,in_port=2,dl_src=fe:8f:27:03:e3:e0,dl_dst=e2:ea:4f:81:73:2a actions=output:1";
        let f = FlowLine::parse(l).unwrap();
        assert_eq!(f.priority(), 1);
        assert_eq!(f.n_packets(), 5);
        assert_eq!(f.get("in_port"), Some("2"));
        assert_eq!(f.get("dl_dst"), Some("e2:ea:4f:81:73:2a"));
        assert_eq!(f.actions, "output:1");
        assert!(!f.is_table_miss());
        let miss = FlowLine::parse(
            " cookie=0x0, duration=2.3s, table=0, n_packets=3, n_bytes=182, priority=0 actions=CONTROLLER:65535",
        )
        .unwrap();
        assert!(miss.is_table_miss());
        let icmp = FlowLine::parse(
            " cookie=0x0, duration=0.8s, table=0, n_packets=4, n_bytes=392, idle_timeout=60, \
             priority=1,icmp,in_port=1,vlan_tci=0x0000 actions=output:2",
        )
        .unwrap();
        assert_eq!(icmp.get("icmp"), Some(""));
        assert_eq!(icmp.get("idle_timeout"), Some("60"));
        assert!(FlowLine::parse("OFPST_FLOW reply (OF1.3) (xid=0x2):").is_none());
    }
}
