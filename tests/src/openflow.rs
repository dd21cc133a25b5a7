//! OpenFlow peers for the end-to-end tests: a network namespace per scenario, the real
//! `ovs-ofctl` (Debian `openvswitch-common`) as a client of flowlab-hub's passive
//! listener, and `tshark` capturing on the namespace's loopback, then decoding the capture
//! (see `/work/shared/specs/openflow-peers.md` §3 and §5).
//!
//! Namespaces without `ip netns exec`: [`Netns::run_inside`] runs a closure on a fresh
//! thread that has `setns()`ed into the namespace. A network namespace belongs to a thread,
//! not to the process, so everything that thread starts (the hub, `ovs-ofctl`, `tshark`)
//! starts inside it, and so does every socket it opens: TCP connections to the listener
//! and the UML clients' abstract data sockets (abstract unix addresses are per network
//! namespace, so the hub and its clients must share one). The test's other threads never
//! leave the host's namespace.
//!
//! A capture holds only the scenario's traffic: the namespace is new and only its own
//! loopback is captured. No sleeps around tshark: [`Capture::sync`] sends UDP probes on
//! loopback (also captured) until the capture file grows. After start-up that proves the
//! capture runs; before stopping it proves every earlier packet is in the file, as
//! dumpcap writes in order. The probes carry no OpenFlow and are ignored when decoding.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::proc::{stop_child, wait_until, ProcGuard};
use crate::switch::{flowlab_hub_bin, read_lossy};

/// How long one `ovs-ofctl` command may take by default (its own `--timeout`).
pub const OFCTL_TIMEOUT_SECS: u32 = 8;

/// Why the OpenFlow peer tests cannot run here, if they cannot: not root (namespaces need
/// it) or a tool missing. The text names the Debian package to install.
pub fn missing_prerequisites() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces (`ip netns add`) need root".into());
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("ovs-ofctl", "openvswitch-common"),
        ("tshark", "tshark"),
    ] {
        if crate::find_in_path(tool).is_none() {
            return Some(format!(
                "`{tool}` not found on PATH (apt-get install -y {package})"
            ));
        }
    }
    None
}

/// Prints why a test is skipped and returns true, or returns false when it can run.
pub fn skip(test: &str) -> bool {
    match missing_prerequisites() {
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            true
        }
        None => false,
    }
}

fn run_ip(args: &[&str]) -> io::Result<Output> {
    Command::new(crate::require_tool("ip", "iproute2"))
        .args(args)
        .stdin(Stdio::null())
        .output()
}

/// A network namespace made for one test (`ip netns add`), deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `<tag>-<pid>-<n>` and brings its loopback up. Panics on failure.
    pub fn create(tag: &str) -> Netns {
        let name = crate::unique(tag);
        let out = run_ip(&["netns", "add", &name]).expect("running ip netns add");
        assert!(
            out.status.success(),
            "ip netns add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ns = Netns { name };
        let out = run_ip(&["-n", &ns.name, "link", "set", "lo", "up"]).expect("running ip");
        assert!(
            out.status.success(),
            "ip -n {} link set lo up: {}",
            ns.name,
            String::from_utf8_lossy(&out.stderr)
        );
        ns
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a new thread inside the namespace and returns its result; a panic in
    /// `f` is resumed on the calling thread.
    pub fn run_inside<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        let thread_name = std::thread::current()
            .name()
            .map_or_else(|| self.name.clone(), str::to_string);
        std::thread::scope(|s| {
            let h = std::thread::Builder::new()
                .name(thread_name)
                .spawn_scoped(s, move || {
                    let file = File::open(&path).unwrap_or_else(|e| panic!("opening {path}: {e}"));
                    // SAFETY: setns on a descriptor we own; it affects this thread only.
                    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        panic!("setns({path}): {}", io::Error::last_os_error());
                    }
                    f()
                })
                .expect("spawning the namespace thread");
            match h.join() {
                Ok(v) => v,
                Err(e) => std::panic::resume_unwind(e),
            }
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        match run_ip(&["netns", "del", &self.name]) {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "ip netns del {}: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("ip netns del {}: {e}", self.name),
        }
    }
}

/// What one `ovs-ofctl` run gave.
#[derive(Debug, Clone)]
pub struct OfctlRun {
    /// The command line (for messages).
    pub command: String,
    /// Exit code (None: killed by a signal, e.g. its own `--timeout` alarm).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl OfctlRun {
    /// True on exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// `ovs-ofctl [options] COMMAND tcp:127.0.0.1:PORT ARGS...`, counting the commands run
/// (for the expected message counts of a capture).
#[derive(Debug)]
pub struct Ofctl {
    target: String,
    options: Vec<String>,
    timeout_secs: u32,
    tally: Mutex<BTreeMap<String, usize>>,
}

impl Ofctl {
    /// A client of `tcp:127.0.0.1:port` with `options` before every command.
    pub fn new(port: u16, options: &[&str]) -> Ofctl {
        Ofctl {
            target: format!("tcp:127.0.0.1:{port}"),
            options: options.iter().map(|s| s.to_string()).collect(),
            timeout_secs: OFCTL_TIMEOUT_SECS,
            tally: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sets `--timeout` (seconds; ovs-ofctl then dies of SIGALRM: exit code None).
    pub fn with_timeout(mut self, secs: u32) -> Ofctl {
        self.timeout_secs = secs;
        self
    }

    /// The target string.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs `command` with `args` after the target (in the calling thread's namespace).
    pub fn run(&self, command: &str, args: &[&str]) -> OfctlRun {
        let prog = crate::require_tool("ovs-ofctl", "openvswitch-common");
        let mut argv: Vec<String> = self.options.clone();
        argv.push(format!("--timeout={}", self.timeout_secs));
        argv.push(command.to_string());
        argv.push(self.target.clone());
        argv.extend(args.iter().map(|s| s.to_string()));
        *self
            .tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(command.to_string())
            .or_default() += 1;
        let out = Command::new(prog)
            .args(&argv)
            .stdin(Stdio::null())
            .output()
            .expect("running ovs-ofctl");
        OfctlRun {
            command: format!("ovs-ofctl {}", shell_words(&argv)),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// [`Ofctl::run`], panicking (with the output) unless it succeeds; returns stdout.
    #[track_caller]
    pub fn ok(&self, command: &str, args: &[&str]) -> String {
        let r = self.run(command, args);
        assert!(
            r.success(),
            "`{}` failed (exit {:?})\nstdout:\n{}\nstderr:\n{}",
            r.command,
            r.code,
            r.stdout,
            r.stderr
        );
        r.stdout
    }

    /// How many times `command` ran.
    pub fn count(&self, command: &str) -> usize {
        self.tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(command)
            .copied()
            .unwrap_or(0)
    }

    /// The sum of [`Ofctl::count`] over `commands`.
    pub fn count_all(&self, commands: &[&str]) -> usize {
        commands.iter().map(|c| self.count(c)).sum()
    }
}

fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=:./,".contains(c))
            {
                a.clone()
            } else {
                format!("'{a}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `tshark -i lo -f "tcp port P" -w FILE -q`, started in the calling thread's namespace.
/// Stopped by SIGINT to its pid ([`Capture::stop`], or on drop).
#[derive(Debug)]
pub struct Capture {
    proc: Option<ProcGuard>,
    file: PathBuf,
    log: PathBuf,
    port: u16,
}

/// The UDP port of [`Capture::sync`]'s probes (discard; nothing listens).
pub const PROBE_PORT: u16 = 9;

/// How long tshark may take to start capturing.
pub const CAPTURE_START_TIMEOUT: Duration = Duration::from_secs(15);

impl Capture {
    /// Starts capturing TCP port `port` on `lo` into `file` (its log next to it) and waits
    /// until the capture file has its header.
    pub fn start(file: &Path, port: u16) -> Capture {
        let prog = crate::require_tool("tshark", "tshark");
        let log = file.with_extension("tshark.log");
        let out = File::create(&log).expect("tshark log");
        let filter = format!("tcp port {port} or udp port {PROBE_PORT}");
        let mut cmd = Command::new(prog);
        cmd.args(["-i", "lo", "-f", &filter, "-q", "-w"])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out);
        let proc = ProcGuard::spawn(&mut cmd, libc::SIGINT, Duration::from_secs(5))
            .expect("spawning tshark");
        let mut cap = Capture {
            proc: Some(proc),
            file: file.to_path_buf(),
            log,
            port,
        };
        let mut exited = None;
        let ok = wait_until(CAPTURE_START_TIMEOUT, || {
            if let Some(st) = cap.proc.as_mut().and_then(ProcGuard::exited) {
                exited = Some(st);
                return true;
            }
            cap.file_len() >= 24
        });
        assert!(
            ok && exited.is_none(),
            "tshark did not start capturing (exit {exited:?}); log:\n{}",
            read_lossy(&cap.log)
        );
        cap.sync();
        cap
    }

    fn file_len(&self) -> u64 {
        std::fs::metadata(&self.file).map_or(0, |m| m.len())
    }

    /// Sends UDP probes to [`PROBE_PORT`] on loopback until the capture file grows: then
    /// the capture is running, and everything captured before the probe is in the file
    /// (dumpcap writes packets in order).
    pub fn sync(&self) {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("probe socket");
        let before = self.file_len();
        let ok = wait_until(CAPTURE_START_TIMEOUT, || {
            let _ = sock.send_to(b"flowlab-tests capture probe", ("127.0.0.1", PROBE_PORT));
            std::thread::sleep(Duration::from_millis(20));
            self.file_len() > before
        });
        assert!(
            ok,
            "tshark captured none of the probes to udp port {PROBE_PORT} in {CAPTURE_START_TIMEOUT:?}; log:\n{}",
            read_lossy(&self.log)
        );
    }

    /// The capture file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Stops tshark (SIGINT to its pid, then waits) and returns the decoded capture.
    pub fn stop(mut self) -> Decoded {
        // Everything sent so far is in the file once a later probe is.
        self.sync();
        if let Some(mut p) = self.proc.take() {
            let (st, clean) = stop_child(&mut p.child, libc::SIGINT, Duration::from_secs(5));
            assert!(
                clean,
                "tshark ignored SIGINT for 5 s (status {st:?}); log:\n{}",
                read_lossy(&self.log)
            );
        }
        Decoded::read(&self.file, self.port)
    }
}

/// tshark 4.0's OpenFlow 1.0 dissector flags every FLOW_MOD without actions as malformed
/// (ovs-ofctl's `del-flows`: 72 bytes, DELETE or DELETE_STRICT). True for such a frame
/// sent by the client, whose bytes the switch did not write.
pub fn tshark_v10_empty_flow_mod(row: &Row) -> bool {
    !row.from_switch
        && row.messages() == [(OFP10, 14)]
        && row.get("openflow.length") == ["72"]
        && matches!(row.get("openflow.command"), [c] if c == "3" || c == "4")
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = stop_child(&mut p.child, libc::SIGINT, Duration::from_secs(5));
        }
    }
}

/// One captured frame's fields (each a list: a frame can carry several messages).
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The frame number.
    pub frame: u64,
    /// The TCP stream index.
    pub stream: Option<u64>,
    /// True if the switch (the listener's port) sent it.
    pub from_switch: bool,
    /// Field name to values, in the order tshark gave them.
    pub fields: BTreeMap<String, Vec<String>>,
}

impl Row {
    /// The values of `field` (empty if absent).
    pub fn get(&self, field: &str) -> &[String] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// OpenFlow messages in this frame as (version, type): from `openflow_v4.type` (1.3)
    /// and `openflow_1_0.type` (1.0).
    pub fn messages(&self) -> Vec<(u8, u8)> {
        let mut v = Vec::new();
        for (field, version) in [("openflow_1_0.type", 1u8), ("openflow_v4.type", 4u8)] {
            for t in self.get(field) {
                if let Ok(t) = t.parse::<u8>() {
                    v.push((version, t));
                }
            }
        }
        v
    }
}

/// Which side sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// The client (ovs-ofctl) sent it.
    ToSwitch,
    /// The switch sent it.
    FromSwitch,
    /// Either.
    Any,
}

impl Dir {
    fn admits(self, row: &Row) -> bool {
        match self {
            Dir::ToSwitch => !row.from_switch,
            Dir::FromSwitch => row.from_switch,
            Dir::Any => true,
        }
    }
}

/// The fields [`Decoded::read`] asks tshark for.
pub const FIELDS: &[&str] = &[
    "frame.number",
    "tcp.stream",
    "tcp.srcport",
    "_ws.malformed",
    "_ws.col.Info",
    "openflow_1_0.type",
    "openflow.stats.type",
    "openflow.priority",
    "openflow.command",
    "openflow.length",
    "openflow_v4.type",
    "openflow_v4.multipart_request.type",
    "openflow_v4.multipart_reply.type",
    "openflow_v4.multipart_reply.flags",
    "openflow_v4.flowmod.priority",
    "openflow_v4.flowmod.table_id",
    "openflow_v4.flowmod.command",
    "openflow_v4.oxm.field",
    "openflow_v4.oxm.value_ipv4addr",
    "openflow_v4.oxm.ipv4_mask",
    "openflow_v4.oxm.value_etheraddr",
    "openflow_v4.packet_out.in_port",
    "openflow_v4.action.output.port",
    "openflow_v4.groupmod.group_id",
    "openflow_v4.groupmod.type",
    "openflow_v4.metermod.meter_id",
    "openflow_v4.meter_band.rate",
    "openflow_v4.flow_stats.priority",
    "openflow_v4.flow_stats.packet_count",
    "openflow_v4.flow_stats.byte_count",
    "openflow_v4.port_stats.port_no",
    "openflow_v4.port_stats.rx_packets",
    "openflow_v4.port_stats.tx_packets",
    "openflow_v4.error.type",
    "openflow_v4.error.code",
    "openflow_v4.error.data",
];

/// A capture decoded by `tshark -r FILE -d tcp.port==PORT,openflow -T fields`.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// Every frame of the capture.
    pub rows: Vec<Row>,
    /// The capture file (for messages).
    pub file: PathBuf,
}

impl Decoded {
    /// Decodes `file`, port `port` as OpenFlow. Panics if tshark fails.
    pub fn read(file: &Path, port: u16) -> Decoded {
        let prog = crate::require_tool("tshark", "tshark");
        let mut cmd = Command::new(prog);
        cmd.arg("-r")
            .arg(file)
            .args(["-d", &format!("tcp.port=={port},openflow")])
            .args(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"])
            .args(["-E", "aggregator=\u{1f}"]);
        for f in FIELDS {
            cmd.args(["-e", f]);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .expect("running tshark -r");
        assert!(
            out.status.success(),
            "tshark -r {} failed: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut rows = Vec::new();
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            let mut row = Row::default();
            for (name, col) in FIELDS.iter().zip(cols.iter()) {
                if col.is_empty() {
                    continue;
                }
                let vals: Vec<String> = col.split('\u{1f}').map(str::to_string).collect();
                row.fields.insert(name.to_string(), vals);
            }
            row.frame = row
                .get("frame.number")
                .first()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            row.stream = row.get("tcp.stream").first().and_then(|s| s.parse().ok());
            row.from_switch = row
                .get("tcp.srcport")
                .first()
                .is_some_and(|s| s.parse::<u16>().ok() == Some(port));
            rows.push(row);
        }
        Decoded {
            rows,
            file: file.to_path_buf(),
        }
    }

    /// Frames tshark flagged `_ws.malformed`, described.
    pub fn malformed(&self) -> Vec<String> {
        self.malformed_except(|_| false)
    }

    /// Frames tshark flagged `_ws.malformed` for which `excused` is false, described.
    pub fn malformed_except(&self, excused: impl Fn(&Row) -> bool) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| !r.get("_ws.malformed").is_empty() && !excused(r))
            .map(|r| {
                format!(
                    "frame {} ({}): {}",
                    r.frame,
                    if r.from_switch {
                        "from the switch"
                    } else {
                        "to the switch"
                    },
                    r.get("_ws.col.Info").join(" ")
                )
            })
            .collect()
    }

    /// Asserts no frame is malformed.
    #[track_caller]
    pub fn assert_well_formed(&self, what: &str) {
        self.assert_well_formed_except(what, |_| false);
    }

    /// Asserts no frame is malformed but those `excused` (known dissector limits).
    #[track_caller]
    pub fn assert_well_formed_except(&self, what: &str, excused: impl Fn(&Row) -> bool) {
        let bad = self.malformed_except(excused);
        assert!(
            bad.is_empty(),
            "{what}: tshark flags malformed frames in {}:\n{}\nall messages:\n{}",
            self.file.display(),
            bad.join("\n"),
            self.summary()
        );
    }

    /// TCP streams that carried OpenFlow messages.
    pub fn streams(&self) -> BTreeSet<u64> {
        self.rows
            .iter()
            .filter(|r| !r.messages().is_empty())
            .filter_map(|r| r.stream)
            .collect()
    }

    /// OpenFlow messages (version, type) sent in `dir`, counted.
    pub fn message_counts(&self, dir: Dir) -> BTreeMap<(u8, u8), usize> {
        let mut m = BTreeMap::new();
        for r in self.rows.iter().filter(|r| dir.admits(r)) {
            for k in r.messages() {
                *m.entry(k).or_default() += 1;
            }
        }
        m
    }

    /// Messages of `msg_type` (either version) sent in `dir`.
    pub fn count_type(&self, msg_type: u8, dir: Dir) -> usize {
        self.message_counts(dir)
            .iter()
            .filter(|((_, t), _)| *t == msg_type)
            .map(|(_, n)| n)
            .sum()
    }

    /// Messages of `version` sent in `dir`.
    pub fn count_version(&self, version: u8, dir: Dir) -> usize {
        self.message_counts(dir)
            .iter()
            .filter(|((v, _), _)| *v == version)
            .map(|(_, n)| n)
            .sum()
    }

    /// How many times `field` has value `value` in frames sent in `dir`.
    pub fn count_value(&self, field: &str, value: &str, dir: Dir) -> usize {
        self.rows
            .iter()
            .filter(|r| dir.admits(r))
            .map(|r| r.get(field).iter().filter(|v| *v == value).count())
            .sum()
    }

    /// All values of `field` in frames sent in `dir`, in order.
    pub fn values(&self, field: &str, dir: Dir) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| dir.admits(r))
            .flat_map(|r| r.get(field).iter().cloned())
            .collect()
    }

    /// Frames that carry a message of (`version`, `msg_type`).
    pub fn frames_with(&self, version: u8, msg_type: u8) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|r| r.messages().contains(&(version, msg_type)))
            .collect()
    }

    /// One line per frame with OpenFlow messages: stream, direction, Info column.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for r in &self.rows {
            let m = r.messages();
            if m.is_empty() && r.get("_ws.malformed").is_empty() {
                continue;
            }
            s.push_str(&format!(
                "  {:>5} stream {:>3} {} {:?} {}\n",
                r.frame,
                r.stream.map_or_else(|| "-".into(), |n| n.to_string()),
                if r.from_switch { "<-" } else { "->" },
                m,
                r.get("_ws.col.Info").join(" ")
            ));
        }
        s
    }
}

// ----- ovs-ofctl output -------------------------------------------------------------------

/// The flows of a `dump-flows` output as `table=T,MATCH actions=ACTIONS` strings (sorted):
/// cookie, duration, counters and ages removed, the table always shown.
pub fn normalize_flows(dump: &str) -> Vec<String> {
    let mut v: Vec<String> = flow_lines(dump).map(|(flow, _, _)| flow).collect();
    v.sort();
    v
}

/// Each flow of a `dump-flows` output (normalised as in [`normalize_flows`]) with its
/// `n_packets` and `n_bytes`.
pub fn flow_counters(dump: &str) -> BTreeMap<String, (u64, u64)> {
    flow_lines(dump)
        .map(|(flow, p, b)| (flow, (p, b)))
        .collect()
}

fn flow_lines(dump: &str) -> impl Iterator<Item = (String, u64, u64)> + '_ {
    dump.lines().filter_map(|line| {
        let line = line.trim();
        let (left, actions) = line.split_once(" actions=")?;
        let mut table = "0".to_string();
        let mut rest = Vec::new();
        let (mut packets, mut bytes) = (0, 0);
        for tok in left.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (k, v) = tok.split_once('=').unwrap_or((tok, ""));
            match k {
                "cookie" | "duration" | "idle_age" | "hard_age" => {}
                "n_packets" => packets = v.parse().unwrap_or(u64::MAX),
                "n_bytes" => bytes = v.parse().unwrap_or(u64::MAX),
                "table" => table = v.to_string(),
                _ => rest.push(tok),
            }
        }
        Some((
            format!("table={table},{} actions={actions}", rest.join(",")),
            packets,
            bytes,
        ))
    })
}

/// The canonical form of a flow as given to `add-flow` (`...,actions=...`), for
/// comparison with [`normalize_flows`]: the table shown (default 0).
pub fn canonical_flow(added: &str) -> String {
    let (m, actions) = added
        .split_once("actions=")
        .unwrap_or_else(|| panic!("flow without actions: {added}"));
    let mut table = "0".to_string();
    let mut rest = Vec::new();
    for tok in m.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match tok.split_once('=') {
            Some(("table", v)) => table = v.to_string(),
            _ => rest.push(tok),
        }
    }
    format!("table={table},{} actions={actions}", rest.join(","))
}

/// Port counters from `dump-ports`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
}

/// `dump-ports` output: port (as printed, quotes removed) to counters.
pub fn parse_port_stats(dump: &str) -> BTreeMap<String, PortStats> {
    let mut m = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in dump.lines() {
        let t = line.trim();
        if let Some(after) = t.strip_prefix("port ") {
            if let Some((name, rest)) = after.split_once(':') {
                let name = name.trim().trim_matches('"').to_string();
                let rx = kv_list(rest.trim().strip_prefix("rx ").unwrap_or(""));
                let e: &mut PortStats = m.entry(name.clone()).or_default();
                e.rx_packets = num(&rx, "pkts");
                e.rx_bytes = num(&rx, "bytes");
                current = Some(name);
            }
        } else if let (Some(tx), Some(name)) = (t.strip_prefix("tx "), current.as_ref()) {
            let tx = kv_list(tx);
            let e: &mut PortStats = m.entry(name.clone()).or_default();
            e.tx_packets = num(&tx, "pkts");
            e.tx_bytes = num(&tx, "bytes");
        }
    }
    m
}

/// `k=v, k=v` or `k=v k=v` pairs.
pub fn kv_list(s: &str) -> BTreeMap<String, String> {
    s.split([',', ' '])
        .filter_map(|t| t.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(m: &BTreeMap<String, String>, k: &str) -> u64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX)
}

/// Per-table counters from `dump-tables`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Flows in the table.
    pub active: u64,
    /// Packets looked up.
    pub lookup: u64,
    /// Packets that hit.
    pub matched: u64,
}

/// `dump-tables` output: table id to counters (tables folded as "ditto" are absent).
pub fn parse_table_stats(dump: &str) -> BTreeMap<u8, TableStats> {
    let mut m = BTreeMap::new();
    let mut current = None;
    for line in dump.lines() {
        let t = line.trim();
        if let Some(after) = t.strip_prefix("table ") {
            current = after
                .split([':', ' '])
                .next()
                .and_then(|n| n.parse::<u8>().ok());
        } else if let (Some(id), true) = (current, t.starts_with("active=")) {
            let kv = kv_list(t);
            m.insert(
                id,
                TableStats {
                    active: num(&kv, "active"),
                    lookup: num(&kv, "lookup"),
                    matched: num(&kv, "matched"),
                },
            );
            current = None;
        }
    }
    m
}

/// The ports listed by `show` or `dump-ports-desc`: number to name, from lines
/// ` N(NAME): addr:...`.
pub fn parse_port_desc(text: &str) -> BTreeMap<u32, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let t = line.trim();
        let Some((head, _)) = t.split_once("): addr:") else {
            continue;
        };
        let Some((n, name)) = head.split_once('(') else {
            continue;
        };
        if let Ok(n) = n.trim().parse::<u32>() {
            m.insert(n, name.to_string());
        }
    }
    m
}

// ----- the hub's own view -----------------------------------------------------------------

/// The `openflow:` counters of `flowlab-hub ctl CTL show`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubOfCounters {
    /// OpenFlow messages received.
    pub messages_in: u64,
    /// OpenFlow messages sent.
    pub messages_out: u64,
    /// Flow mods carried out.
    pub flow_mods: u64,
    /// Packet-ins sent.
    pub packet_ins: u64,
    /// Error messages sent.
    pub errors_sent: u64,
}

/// Runs `flowlab-hub ctl CTL show` and returns its text.
pub fn ctl_show(ctl: &Path) -> String {
    let out = Command::new(flowlab_hub_bin())
        .arg("ctl")
        .arg(ctl)
        .arg("show")
        .stdin(Stdio::null())
        .output()
        .expect("running flowlab-hub ctl");
    assert!(
        out.status.success(),
        "flowlab-hub ctl {} show: {}",
        ctl.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Parses the `openflow: messages in A, out B; flow mods C; packet-ins D; errors sent E`
/// line of `ctl show`.
pub fn parse_hub_counters(show: &str) -> Option<HubOfCounters> {
    let line = show
        .lines()
        .find(|l| l.starts_with("openflow: messages in"))?;
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    Some(HubOfCounters {
        messages_in: *nums.first()?,
        messages_out: *nums.get(1)?,
        flow_mods: *nums.get(2)?,
        packet_ins: *nums.get(3)?,
        errors_sent: *nums.get(4)?,
    })
}

// ----- a raw OpenFlow peer ----------------------------------------------------------------

/// OpenFlow wire versions.
pub const OFP10: u8 = 0x01;
/// OpenFlow 1.3.
pub const OFP13: u8 = 0x04;

/// An 8-byte OpenFlow header followed by `body`.
pub fn of_message(version: u8, msg_type: u8, xid: u32, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + body.len()).expect("message under 64 KiB");
    let mut m = vec![version, msg_type];
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(&xid.to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A HELLO of `version` with a version-bitmap element listing `versions`.
pub fn hello_with_bitmap(version: u8, xid: u32, versions: &[u8]) -> Vec<u8> {
    let mut bitmap = 0u32;
    for v in versions {
        bitmap |= 1 << v;
    }
    let mut body = Vec::new();
    body.extend_from_slice(&1u16.to_be_bytes()); // OFPHET_VERSIONBITMAP
    body.extend_from_slice(&8u16.to_be_bytes());
    body.extend_from_slice(&bitmap.to_be_bytes());
    of_message(version, 0, xid, &body)
}

/// A raw TCP connection speaking OpenFlow framing (for negative tests).
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A message read by [`RawPeer::recv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Header version.
    pub version: u8,
    /// Header type.
    pub msg_type: u8,
    /// Header xid.
    pub xid: u32,
    /// Everything after the header.
    pub body: Vec<u8>,
}

impl RawPeer {
    /// Connects to `127.0.0.1:port` (in the calling thread's namespace).
    pub fn connect(port: u16) -> io::Result<RawPeer> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(RawPeer {
            stream,
            buf: Vec::new(),
        })
    }

    /// Writes `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Half-closes the sending side.
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// The next message, waiting up to `timeout`; `Ok(None)` on timeout, an
    /// `UnexpectedEof` error when the peer closed.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Option<RawMessage>> {
        let end = Instant::now() + timeout;
        loop {
            if self.buf.len() >= 8 {
                let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
                if len < 8 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("message length {len} under 8: {:02x?}", &self.buf[..8]),
                    ));
                }
                if self.buf.len() >= len {
                    let m: Vec<u8> = self.buf.drain(..len).collect();
                    return Ok(Some(RawMessage {
                        version: m[0],
                        msg_type: m[1],
                        xid: u32::from_be_bytes([m[4], m[5], m[6], m[7]]),
                        body: m[8..].to_vec(),
                    }));
                }
            }
            let now = Instant::now();
            if now >= end {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(end - now))?;
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the switch closed the connection",
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until the switch closes the connection (true) or `timeout` passes (false),
    /// dropping what arrives.
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            match self.recv(end - now) {
                Ok(Some(_)) => {}
                Ok(None) => return false,
                Err(_) => return true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_dump_normalisation() {
        let dump = "OFPST_FLOW reply (OF1.3) (xid=0x2):\n \
            cookie=0x0, duration=0.048431491s, table=0, n_packets=7, n_bytes=420, priority=7,in_port=1,dl_dst=02:f1:00:00:00:02 actions=output:3\n \
            cookie=0x0, duration=0.08s, table=1, n_packets=0, n_bytes=0, idle_timeout=30, priority=5,ip,nw_src=198.51.100.0/24 actions=mod_nw_ttl:9,output:3\n";
        assert_eq!(
            normalize_flows(dump),
            vec![
                "table=0,priority=7,in_port=1,dl_dst=02:f1:00:00:00:02 actions=output:3",
                "table=1,idle_timeout=30,priority=5,ip,nw_src=198.51.100.0/24 actions=mod_nw_ttl:9,output:3",
            ]
        );
        let c = flow_counters(dump);
        assert_eq!(
            c["table=0,priority=7,in_port=1,dl_dst=02:f1:00:00:00:02 actions=output:3"],
            (7, 420)
        );
        assert_eq!(
            canonical_flow("table=1,idle_timeout=30,priority=5,ip,nw_src=198.51.100.0/24,actions=mod_nw_ttl:9,output:3"),
            "table=1,idle_timeout=30,priority=5,ip,nw_src=198.51.100.0/24 actions=mod_nw_ttl:9,output:3"
        );
        assert_eq!(
            canonical_flow("priority=7,in_port=1,actions=drop"),
            "table=0,priority=7,in_port=1 actions=drop"
        );
    }

    #[test]
    fn ports_tables_and_counters() {
        let ports = "OFPST_PORT reply (OF1.3) (xid=0x2): 2 ports\n  \
            port  1: rx pkts=5, bytes=300, drop=0, errs=0, frame=0, over=0, crc=0\n           \
            tx pkts=3, bytes=180, drop=0, errs=0, coll=0\n           duration=1.2s\n  \
            port  \"uml2\": rx pkts=1, bytes=60, drop=0, errs=0, frame=0, over=0, crc=0\n           \
            tx pkts=0, bytes=0, drop=0, errs=0, coll=0\n";
        let p = parse_port_stats(ports);
        assert_eq!(
            p["1"],
            PortStats {
                rx_packets: 5,
                rx_bytes: 300,
                tx_packets: 3,
                tx_bytes: 180
            }
        );
        assert_eq!(p["uml2"].rx_bytes, 60);
        let tables = "OFPST_TABLE reply (OF1.3) (xid=0x2): flags=[more]\n  table 0:\n    \
            active=2, lookup=9, matched=8\n\n  table 1 (\"t1\"):\n    active=0, lookup=1, matched=0\n";
        let t = parse_table_stats(tables);
        assert_eq!(
            t[&0],
            TableStats {
                active: 2,
                lookup: 9,
                matched: 8
            }
        );
        assert_eq!(t[&1].lookup, 1);
        let desc = " 1(uml1): addr:02:00:00:00:00:01\n     config:     0\n 2(uml2): addr:aa:bb:cc:dd:ee:ff\n";
        let d = parse_port_desc(desc);
        assert_eq!(d[&1], "uml1");
        assert_eq!(d[&2], "uml2");
        let show = "openflow: datapath id 00000000000000ab\nopenflow: messages in 5, out 3; flow mods 1; packet-ins 0; errors sent 2; fail-open frames 0\n";
        let c = parse_hub_counters(show).unwrap();
        assert_eq!(
            (c.messages_in, c.messages_out, c.flow_mods, c.errors_sent),
            (5, 3, 1, 2)
        );
        assert_eq!(
            hello_with_bitmap(4, 9, &[1, 4]),
            vec![4, 0, 0, 16, 0, 0, 0, 9, 0, 1, 0, 8, 0, 0, 0, 0x12]
        );
    }
}
