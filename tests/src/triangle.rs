//! Three OpenFlow switches in a triangle, a host on each, for routing tests.
//!
//! ```text
//!            h0 (198.51.100.1)
//!             |1
//!            s0
//!          2/  \3
//!          3/    \2
//!   h1 -1- s1 --- s2 -1- h2
//!            2   3
//! ```
//!
//! Switch `i` has the host on port 1, a link to switch `i+1` on port 2 and a link to
//! switch `i+2` on port 3 (mod 3); the cable between `si` port 2 and `s(i+1)` port 3 is
//! the veth pair `si-p2` / `s(i+1)-p3`. The switches run inside one network namespace
//! made for the test (their interface ports are the switch-side veth ends), the hosts in
//! three more; datapath ids are 1, 2 and 3. Two kinds of switch:
//!
//! * flowlab-hub, `--fail-mode secure`, `--port N=raw:IF` for the three veth ends, and
//!   `--listen punix:` for `ovs-ofctl`; switch 0 speaks OpenFlow 1.0 only, the others
//!   1.3, so one controller serves both versions at once;
//! * Open vSwitch userspace (`ovs-vswitchd` with `datapath_type=netdev`, its own
//!   `ovsdb-server`, all state in the test directory), three bridges in fail mode secure.
//!
//! Everything is torn down on drop: processes by PID, namespaces by name.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::controllers::{run_ok, FlowLine, Netns, PingStats};
use crate::proc::{signal, wait_gone, wait_until};
use crate::switch::{read_lossy, Switch, SwitchConfig, SwitchKind};
use crate::TempDir;

/// Which switches make the triangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriangleKind {
    /// Three flowlab-hub processes (switch 0 on OpenFlow 1.0, the others on 1.3).
    FlowlabHub,
    /// Three Open vSwitch userspace bridges.
    OpenVswitch,
}

/// The hosts' addresses.
pub const HOST_ADDRS: [&str; 3] = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];

/// The tools a triangle of `kind` needs, as (tool, Debian package).
pub fn tools(kind: TriangleKind) -> Vec<(&'static str, &'static str)> {
    let mut t = vec![
        ("ip", "iproute2"),
        ("ethtool", "ethtool"),
        ("ping", "iputils-ping"),
        ("ovs-ofctl", "openvswitch-common"),
    ];
    if kind == TriangleKind::OpenVswitch {
        t.extend([
            ("ovs-vswitchd", "openvswitch-switch"),
            ("ovsdb-server", "openvswitch-switch"),
            ("ovsdb-tool", "openvswitch-switch"),
            ("ovs-vsctl", "openvswitch-switch"),
        ]);
    }
    t
}

fn ip() -> Command {
    Command::new(crate::require_tool("ip", "iproute2"))
}

/// A private Open vSwitch (ovsdb-server and ovs-vswitchd) inside a namespace.
#[derive(Debug)]
struct Ovs {
    dir: PathBuf,
    pids: Vec<i32>,
}

impl Ovs {
    fn env(dir: &Path, cmd: &mut Command) {
        for var in ["OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"] {
            cmd.env(var, dir);
        }
    }

    fn start(ns: &Netns, dir: &Path) -> Ovs {
        std::fs::create_dir_all(dir).expect("ovs dir");
        let db = dir.join("conf.db");
        let sock = dir.join("db.sock");
        let mut ovs = Ovs {
            dir: dir.to_path_buf(),
            pids: Vec::new(),
        };
        let mut c = Command::new(crate::require_tool("ovsdb-tool", "openvswitch-switch"));
        c.arg("create").arg(&db);
        run_ok(&mut c);
        let mut c = ns.exec(crate::require_tool("ovsdb-server", "openvswitch-switch"));
        Ovs::env(dir, &mut c);
        c.arg(&db)
            .arg(format!("--remote=punix:{}", sock.display()))
            .arg(format!(
                "--unixctl={}",
                dir.join("ovsdb-server.ctl").display()
            ))
            .arg(format!(
                "--pidfile={}",
                dir.join("ovsdb-server.pid").display()
            ))
            .arg(format!(
                "--log-file={}",
                dir.join("ovsdb-server.log").display()
            ))
            .args(["--detach", "--no-chdir", "-vconsole:off"]);
        run_ok(&mut c);
        ovs.pids.push(ovs.pid("ovsdb-server"));
        ovs.vsctl(&["--no-wait", "init"]);
        let mut c = ns.exec(crate::require_tool("ovs-vswitchd", "openvswitch-switch"));
        Ovs::env(dir, &mut c);
        c.arg(format!("unix:{}", sock.display()))
            .arg(format!(
                "--unixctl={}",
                dir.join("ovs-vswitchd.ctl").display()
            ))
            .arg(format!(
                "--pidfile={}",
                dir.join("ovs-vswitchd.pid").display()
            ))
            .arg(format!(
                "--log-file={}",
                dir.join("ovs-vswitchd.log").display()
            ))
            .args(["--detach", "--no-chdir", "-vconsole:off"]);
        run_ok(&mut c);
        ovs.pids.push(ovs.pid("ovs-vswitchd"));
        ovs
    }

    fn pid(&self, daemon: &str) -> i32 {
        let file = self.dir.join(format!("{daemon}.pid"));
        read_lossy(&file)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no pid in {}", file.display()))
    }

    fn vsctl(&self, args: &[&str]) -> String {
        let mut c = Command::new(crate::require_tool("ovs-vsctl", "openvswitch-switch"));
        Ovs::env(&self.dir, &mut c);
        c.arg(format!("--db=unix:{}", self.dir.join("db.sock").display()))
            .arg("--timeout=20")
            .args(args);
        run_ok(&mut c)
    }

    fn log(&self) -> String {
        read_lossy(&self.dir.join("ovs-vswitchd.log"))
    }
}

impl Drop for Ovs {
    fn drop(&mut self) {
        // ovs-vswitchd first, then the database; by the PIDs they wrote for us.
        for &pid in self.pids.iter().rev() {
            signal(pid, libc::SIGTERM);
            if !wait_gone(pid, Duration::from_secs(5)) {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

/// The triangle. See the module documentation.
#[derive(Debug)]
pub struct Triangle {
    kind: TriangleKind,
    // Field order is drop order: switches stop before their namespace goes.
    hubs: Vec<Switch>,
    ovs: Option<Ovs>,
    hosts: Vec<Netns>,
    core: Netns,
    macs: Vec<String>,
    dir: PathBuf,
}

impl Triangle {
    /// Builds the namespaces and cables and starts the three switches of `kind`, each
    /// connecting to the controller at `controller` (a unix socket path). `dir` holds
    /// the switches' sockets and logs.
    pub fn start(kind: TriangleKind, controller: &Path, dir: &TempDir) -> Triangle {
        let ethtool = crate::require_tool("ethtool", "ethtool");
        let core = Netns::new("flotri");
        let hosts: Vec<Netns> = (0..3).map(|_| Netns::new("flotrh")).collect();
        let mut macs = Vec::new();
        for (i, h) in hosts.iter().enumerate() {
            let end = Self::ifname(i, 1);
            run_ok(
                ip().args(["-n", core.name(), "link", "add", &end, "type", "veth"])
                    .args(["peer", "name", "eth0", "netns", h.name()]),
            );
            let addr = format!("{}/24", HOST_ADDRS[i]);
            run_ok(ip().args(["-n", h.name(), "addr", "add", &addr, "dev", "eth0"]));
            run_ok(ip().args(["-n", h.name(), "link", "set", "eth0", "up"]));
            // Frames the hosts' stacks send must carry complete checksums (see RawPort).
            run_ok(h.exec(&ethtool).args(["-K", "eth0", "tx", "off"]));
            macs.push(
                h.run("cat", &["/sys/class/net/eth0/address"])
                    .trim()
                    .to_string(),
            );
        }
        for i in 0..3 {
            let a = Self::ifname(i, 2);
            let b = Self::ifname((i + 1) % 3, 3);
            run_ok(
                ip().args(["-n", core.name(), "link", "add", &a, "type", "veth"])
                    .args(["peer", "name", &b]),
            );
        }
        for i in 0..3 {
            for port in 1..=3 {
                let ifname = Self::ifname(i, port);
                run_ok(ip().args(["-n", core.name(), "link", "set", &ifname, "up"]));
                run_ok(core.exec(&ethtool).args(["-K", &ifname, "tx", "off"]));
            }
        }
        let mut t = Triangle {
            kind,
            hubs: Vec::new(),
            ovs: None,
            hosts,
            core,
            macs,
            dir: dir.path().to_path_buf(),
        };
        match kind {
            TriangleKind::FlowlabHub => t.start_hubs(controller),
            TriangleKind::OpenVswitch => t.start_ovs(controller),
        }
        t
    }

    /// The interface of switch `i`'s port `port`.
    pub fn ifname(i: usize, port: u32) -> String {
        format!("s{i}-p{port}")
    }

    fn start_hubs(&mut self, controller: &Path) {
        // Born inside the switch namespace, so raw ports find its interfaces.
        let _inside = self.core.enter();
        for i in 0..3 {
            let protocols = if i == 0 { "OpenFlow10" } else { "OpenFlow13" };
            let mut args = vec![
                "--fail-mode".to_string(),
                "secure".into(),
                "--protocols".into(),
                protocols.into(),
                "--dpid".into(),
                format!("{:016x}", i + 1),
                "--controller".into(),
                format!("unix:{}", controller.display()),
                "--listen".into(),
                format!("punix:{}", self.of_socket(i).display()),
            ];
            for port in 1..=3 {
                args.push("--port".into());
                args.push(format!("{port}=raw:{}", Self::ifname(i, port)));
            }
            self.hubs.push(Switch::start(
                SwitchKind::FlowlabHub,
                &SwitchConfig::switch().args(args),
            ));
        }
    }

    /// Open vSwitch's run directory in `dir`: the only place its bridges connect to a
    /// unix-socket controller in ("possibility for remote exploit" otherwise).
    pub fn ovs_dir(dir: &TempDir) -> PathBuf {
        dir.join("ovs")
    }

    fn start_ovs(&mut self, controller: &Path) {
        let ovs = Ovs::start(&self.core, &self.dir.join("ovs"));
        for i in 0..3 {
            let br = format!("br{i}");
            ovs.vsctl(&[
                "add-br",
                &br,
                "--",
                "set",
                "bridge",
                &br,
                "datapath_type=netdev",
                "protocols=OpenFlow10,OpenFlow13",
                "fail_mode=secure",
                &format!("other-config:datapath-id={:016x}", i + 1),
                "other-config:disable-in-band=true",
            ]);
            for port in 1..=3 {
                let ifname = Self::ifname(i, port);
                ovs.vsctl(&[
                    "add-port",
                    &br,
                    &ifname,
                    "--",
                    "set",
                    "interface",
                    &ifname,
                    &format!("ofport_request={port}"),
                ]);
            }
            ovs.vsctl(&[
                "set-controller",
                &br,
                &format!("unix:{}", controller.display()),
            ]);
        }
        self.ovs = Some(ovs);
    }

    fn of_socket(&self, i: usize) -> PathBuf {
        self.dir.join(format!("s{i}.of"))
    }

    /// The kind of switches.
    pub fn kind(&self) -> TriangleKind {
        self.kind
    }

    /// The MAC address of host `i`.
    pub fn mac(&self, i: usize) -> &str {
        &self.macs[i]
    }

    /// `ping -c count -i 0.2 -W 1` from host `from` to host `to`.
    pub fn ping(&self, from: usize, to: usize, count: u32) -> PingStats {
        let out = self.hosts[from]
            .exec(crate::require_tool("ping", "iputils-ping"))
            .args(["-q", "-n", "-c", &count.to_string(), "-i", "0.2", "-W", "1"])
            .arg(HOST_ADDRS[to])
            .stdin(Stdio::null())
            .output()
            .expect("running ping");
        PingStats::from_output(&out)
    }

    /// Pings from `from` to `to` once at a time until one is answered or `limit` passes;
    /// returns how long it took.
    pub fn ping_until_reply(&self, from: usize, to: usize, limit: Duration) -> Option<Duration> {
        let start = std::time::Instant::now();
        let ok = wait_until(limit, || self.ping(from, to, 1).received == 1);
        ok.then(|| start.elapsed())
    }

    /// Takes the cable from switch `i` port 2 to switch `i+1` port 3 down (its `i` end
    /// administratively down: the other end loses carrier).
    pub fn cut(&self, i: usize) {
        let ifname = Self::ifname(i, 2);
        run_ok(ip().args(["-n", self.core.name(), "link", "set", &ifname, "down"]));
    }

    /// The flows of switch `i` (`ovs-ofctl dump-flows`).
    pub fn flows(&self, i: usize) -> Vec<FlowLine> {
        let tool = crate::require_tool("ovs-ofctl", "openvswitch-common");
        let mut c = Command::new(tool);
        let target = match self.kind {
            TriangleKind::FlowlabHub => {
                if i == 0 {
                    c.args(["-O", "OpenFlow10", "-F", "openflow10"]);
                } else {
                    c.args(["-O", "OpenFlow13"]);
                }
                self.of_socket(i)
            }
            TriangleKind::OpenVswitch => {
                c.args(["-O", "OpenFlow13"]);
                self.dir.join("ovs").join(format!("br{i}.mgmt"))
            }
        };
        let out = c
            .args(["--no-names", "--timeout=10", "dump-flows"])
            .arg(format!("unix:{}", target.display()))
            .stdin(Stdio::null())
            .output()
            .expect("running ovs-ofctl");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "ovs-ofctl dump-flows on switch {i}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout.lines().filter_map(FlowLine::parse).collect()
    }

    /// The flows of switch `i` for frames from host `src` to host `dst` (matching both
    /// addresses), as `ovs-ofctl` prints them.
    pub fn path_flows(&self, i: usize, src: usize, dst: usize) -> Vec<FlowLine> {
        self.flows(i)
            .into_iter()
            .filter(|f| {
                f.get("dl_src") == Some(self.mac(src)) && f.get("dl_dst") == Some(self.mac(dst))
            })
            .collect()
    }

    /// The switches' logs, for failure messages.
    pub fn logs(&self) -> String {
        match &self.ovs {
            Some(o) => {
                // Warnings, errors and the controller connections, not the start-up chatter.
                let log = o.log();
                let lines: Vec<&str> = log
                    .lines()
                    .filter(|l| l.contains("|WARN|") || l.contains("|ERR|") || l.contains("rconn"))
                    .collect();
                lines[lines.len().saturating_sub(60)..].join("\n")
            }
            None => self
                .hubs
                .iter()
                .enumerate()
                .map(|(i, h)| format!("--- s{i}:\n{}", h.log_text()))
                .collect(),
        }
    }
}
