//! Finding, starting and stopping the controllers that `--compare` runs side by side.
//!
//! Each controller listens on its own TCP port on 127.0.0.1, chosen free by the kernel
//! just before the start. Readiness is its listening socket in `/proc/net/tcp` (a probe
//! connection would look like a switch to it). Output goes to a log file in a private
//! temporary directory; `PR_SET_PDEATHSIG` takes the controller down with a crashed
//! bench, and it is otherwise stopped by PID: SIGTERM, then SIGKILL after 3 s.
//!
//! os-ken 3.1.1's wheel has no `simple_switch` app, so the bench writes its own
//! equivalents ([`OSKEN_SIMPLE_SWITCH_10`], [`OSKEN_SIMPLE_SWITCH_13`]) into that
//! directory and says so in the report.

use std::fs::{self, File};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// An OpenFlow 1.0 learning switch for os-ken with the policy of Ryu's classic
/// `simple_switch.py`: learn the source's port; for a known destination install a flow
/// on (in_port, dl_dst) and release the packet with a packet_out (two messages per
/// packet_in); flood unknown destinations.
pub const OSKEN_SIMPLE_SWITCH_10: &str = r#"# Written by flowlab-bench: os-ken 3.1.1 ships no simple_switch app.
# The policy of Ryu's OpenFlow 1.0 simple_switch.py.
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_0


class FlowlabBenchSimpleSwitch10(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_0.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mac_to_port = {}

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        if eth is None:
            return
        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = msg.in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=msg.in_port, dl_dst=eth.dst)
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, match=match, cookie=0, command=ofp.OFPFC_ADD,
                idle_timeout=0, hard_timeout=0, priority=ofp.OFP_DEFAULT_PRIORITY,
                flags=ofp.OFPFF_SEND_FLOW_REM, actions=actions))
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(
            datapath=dp, buffer_id=msg.buffer_id, in_port=msg.in_port,
            actions=actions, data=data))
"#;

/// The OpenFlow 1.3 equivalent (`--of13`), with the policy of Ryu's `simple_switch_13.py`:
/// a table-miss flow to the controller on connect, then per packet_in a flow on
/// (in_port, eth_dst, eth_src) and a packet_out.
pub const OSKEN_SIMPLE_SWITCH_13: &str = r#"# Written by flowlab-bench: os-ken 3.1.1 ships no simple_switch_13 app.
# The policy of Ryu's simple_switch_13.py.
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class FlowlabBenchSimpleSwitch13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mac_to_port = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions)

    def add_flow(self, dp, priority, match, actions, buffer_id=None):
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        if buffer_id is None:
            buffer_id = ofp.OFP_NO_BUFFER
        dp.send_msg(parser.OFPFlowMod(datapath=dp, buffer_id=buffer_id, priority=priority,
                                      match=match, instructions=inst))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        in_port = msg.match['in_port']
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        if eth is None:
            return
        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst, eth_src=eth.src)
            if msg.buffer_id != ofp.OFP_NO_BUFFER:
                self.add_flow(dp, 1, match, actions, msg.buffer_id)
                return
            self.add_flow(dp, 1, match, actions)
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id,
                                        in_port=in_port, actions=actions, data=data))
"#;

/// A controller the bench can start: a label and a command template in which `{port}`
/// becomes the TCP port and `{dir}` the private directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerSpec {
    /// Label in the table.
    pub label: String,
    /// Command template, split on whitespace (no shell).
    pub template: String,
    /// A note for the report (e.g. which app file was used).
    pub note: Option<String>,
    /// A file to write into `{dir}` first: (name, contents).
    pub file: Option<(String, String)>,
}

/// The built-in controllers' names, as `--only` takes them.
pub const KNOWN: &[&str] = &["flowlab", "ovs-testcontroller", "os-ken", "self-test"];

/// The label of ovs-testcontroller rows (the baseline of the ratios).
pub const OVS_TESTCONTROLLER: &str = "ovs-testcontroller";

/// Finds a program in `$PATH`.
pub fn find_in_path(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// The flowlab-controller binary: `$FLOWLAB_CONTROLLER_BIN`, else next to this binary,
/// else `target/release` or `target/debug` under the current directory.
pub fn flowlab_controller_bin() -> Option<PathBuf> {
    // Absolute: the controller runs in its own directory.
    let absolute = |p: PathBuf| fs::canonicalize(&p).unwrap_or(p);
    if let Some(p) = std::env::var_os("FLOWLAB_CONTROLLER_BIN") {
        let p = PathBuf::from(p);
        return p.is_file().then(|| absolute(p));
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("flowlab-controller"));
            // Test binaries live in target/*/deps.
            if let Some(up) = dir.parent() {
                candidates.push(up.join("flowlab-controller"));
            }
        }
    }
    candidates.push(PathBuf::from("target/release/flowlab-controller"));
    candidates.push(PathBuf::from("target/debug/flowlab-controller"));
    candidates.into_iter().find(|p| p.is_file()).map(absolute)
}

/// The os-ken venv: `$FLOWLAB_VENV` or `/opt/flowlab/osken-venv`.
pub fn osken_venv() -> PathBuf {
    std::env::var_os("FLOWLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/flowlab/osken-venv"))
}

/// The controllers of `--compare` that are installed, in table order, and a note for each
/// one skipped. `only` restricts them to these names (see [`KNOWN`]); the in-process
/// responder ("self-test") is not a process and is not listed here.
pub fn available(of13: bool, only: Option<&[String]>) -> (Vec<ControllerSpec>, Vec<String>) {
    let wanted = |name: &str| only.is_none_or(|o| o.iter().any(|x| x == name));
    let mut specs = Vec::new();
    let mut skipped = Vec::new();
    if wanted("flowlab") {
        match flowlab_controller_bin() {
            Some(bin) => specs.push(ControllerSpec {
                label: "flowlab-controller".into(),
                template: format!(
                    "{} --listen ptcp:{{port}}:127.0.0.1 --apps l2_learning",
                    bin.display()
                ),
                note: Some(format!(
                    "{} (app l2_learning){}",
                    bin.display(),
                    if bin.components().any(|c| c.as_os_str() == "debug") {
                        "; a debug build: its figures are not representative"
                    } else {
                        ""
                    }
                )),
                file: None,
            }),
            None => skipped.push(
                "flowlab-controller: no binary ($FLOWLAB_CONTROLLER_BIN, target/release, target/debug)"
                    .into(),
            ),
        }
    }
    if wanted("ovs-testcontroller") {
        match find_in_path("ovs-testcontroller") {
            Some(bin) => specs.push(ControllerSpec {
                label: OVS_TESTCONTROLLER.into(),
                template: format!(
                    "{} -O {} --unixctl={{dir}}/tc.ctl ptcp:{{port}}:127.0.0.1",
                    bin.display(),
                    if of13 { "OpenFlow13" } else { "OpenFlow10" }
                ),
                note: Some("learning switch (lswitch), one flow_mod per packet_in".into()),
                file: None,
            }),
            None => skipped.push(
                "ovs-testcontroller: not in $PATH (Debian package openvswitch-testcontroller)"
                    .into(),
            ),
        }
    }
    if wanted("os-ken") {
        let mgr = osken_venv().join("bin/osken-manager");
        if mgr.is_file() {
            let (name, text) = if of13 {
                ("flowlab_bench_simple_switch_13.py", OSKEN_SIMPLE_SWITCH_13)
            } else {
                ("flowlab_bench_simple_switch_10.py", OSKEN_SIMPLE_SWITCH_10)
            };
            specs.push(ControllerSpec {
                label: "os-ken".into(),
                template: format!(
                    "{} --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port {{port}} {{dir}}/{name}",
                    mgr.display()
                ),
                note: Some(format!(
                    "{}; os-ken 3.1.1 ships no simple_switch app, so the bench wrote {name}, \
                     the policy of Ryu's {} (flow_mod + packet_out per packet_in)",
                    mgr.display(),
                    if of13 {
                        "simple_switch_13.py"
                    } else {
                        "simple_switch.py"
                    }
                )),
                file: Some((name.into(), text.into())),
            });
        } else {
            skipped.push(format!(
                "os-ken: no {} (scripts/setup.sh makes the venv; $FLOWLAB_VENV)",
                mgr.display()
            ));
        }
    }
    (specs, skipped)
}

/// Whether `port` has a listening TCP socket in a `/proc/net/tcp`-format text.
pub fn tcp_listening(table: &str, port: u16) -> bool {
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(local), Some(state)) = (f.get(1), f.get(3)) else {
            return false;
        };
        let p = local
            .rsplit_once(':')
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
        p == Some(port) && *state == "0A"
    })
}

fn listening(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .any(|f| fs::read_to_string(f).is_ok_and(|t| tcp_listening(&t, port)))
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

fn make_dir() -> Result<PathBuf> {
    let base = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    loop {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let d = base.join(format!("flowlab-bench-ctl.{}.{n}", std::process::id()));
        match fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", d.display())),
        }
    }
}

/// A running controller.
#[derive(Debug)]
pub struct ControllerProcess {
    child: Child,
    argv: Vec<String>,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    keep: bool,
    status: Option<ExitStatus>,
}

impl ControllerProcess {
    /// Starts `spec` on a free port and waits up to `timeout` for it to listen.
    pub fn start(spec: &ControllerSpec, timeout: Duration, keep: bool) -> Result<Self> {
        let dir = make_dir()?;
        if let Some((name, text)) = &spec.file {
            fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
        }
        let port = free_port()?;
        let argv: Vec<String> = spec
            .template
            .split_whitespace()
            .map(|w| {
                w.replace("{port}", &port.to_string())
                    .replace("{dir}", &dir.to_string_lossy())
            })
            .collect();
        let Some(prog) = argv.first() else {
            bail!("empty command for {}", spec.label);
        };
        let log = dir.join("controller.log");
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(prog);
        cmd.args(&argv[1..])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // SAFETY: prctl is async-signal-safe; it only asks for SIGKILL when the bench dies.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                );
                Ok(())
            });
        }
        let child = cmd.spawn().with_context(|| format!("starting {prog:?}"))?;
        let mut p = ControllerProcess {
            child,
            argv,
            port,
            dir,
            log,
            keep,
            status: None,
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = p.child.try_wait()? {
                p.status = Some(s);
                bail!(
                    "{} exited before listening ({s}); log:\n{}",
                    spec.label,
                    p.log_tail(15)
                );
            }
            if listening(port) {
                return Ok(p);
            }
            if Instant::now() > deadline {
                let _ = p.stop();
                bail!(
                    "{} did not listen on port {port} within {timeout:?}; log:\n{}",
                    spec.label,
                    p.log_tail(15)
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The TCP port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The expanded command line.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `None` while it runs.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// The last lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        crate::switch_process::log_tail(&self.log, lines)
    }

    /// SIGTERM, up to 3 s, then SIGKILL; by PID.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        if let Some(s) = self.exit_status() {
            return Ok(s);
        }
        let s = crate::switch_process::stop_child(
            &mut self.child,
            libc::SIGTERM,
            Duration::from_secs(3),
        )?;
        self.status = Some(s);
        Ok(s)
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.stop();
        if !self.keep {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_listening_ports_in_proc_net_tcp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n\
           1: 0100007F:1A0B 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
        assert!(tcp_listening(table, 8080));
        // Established, not listening.
        assert!(!tcp_listening(table, 0x1a0b));
        assert!(!tcp_listening(table, 6653));
        assert!(!tcp_listening("", 1));
    }

    #[test]
    fn sees_its_own_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(listening(port));
        drop(l);
        assert!(!listening(port));
    }

    #[test]
    fn lists_and_skips_controllers() {
        let only = vec!["os-ken".to_string()];
        let (specs, skipped) = available(false, Some(&only));
        assert_eq!(specs.len() + skipped.len(), 1);
        if let Some(s) = specs.first() {
            assert_eq!(s.label, "os-ken");
            assert!(s.template.contains("{port}"));
            let (name, text) = s.file.as_ref().unwrap();
            assert!(s.template.contains(name.as_str()));
            assert!(text.contains("ofproto_v1_0"));
        }
        let none: Vec<String> = Vec::new();
        let (specs, skipped) = available(true, Some(&none));
        assert!(specs.is_empty() && skipped.is_empty());
    }

    #[test]
    fn starts_and_stops_a_listener_by_pid() {
        // A shell-free "controller": python3 is not guaranteed, but `nc -l` may not be
        // either; use this test binary's own environment only when a listener tool exists.
        let Some(py) = find_in_path("python3") else {
            return;
        };
        let spec = ControllerSpec {
            label: "py".into(),
            template: format!(
                "{} {{dir}}/l.py {{port}}",
                py.display()
            ),
            note: None,
            file: Some((
                "l.py".into(),
                "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',int(sys.argv[1])))\ns.listen()\ntime.sleep(60)\n".into(),
            )),
        };
        let mut p = ControllerProcess::start(&spec, Duration::from_secs(10), false).unwrap();
        assert!(listening(p.port()));
        let pid = p.pid();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        let s = p.stop().unwrap();
        assert!(!s.success());
        let bad = ControllerSpec {
            label: "false".into(),
            template: "false {port}".into(),
            note: None,
            file: None,
        };
        let err = ControllerProcess::start(&bad, Duration::from_secs(5), false).unwrap_err();
        assert!(err.to_string().contains("exited before listening"), "{err}");
    }
}
