//! Collision domains: one `flowlab-hub` per domain and per lab, and in OpenFlow mode one
//! `flowlab-controller` for the whole lab.
//!
//! # Per lab, not per user
//!
//! Netkit runs one `uml_switch` per collision domain *per user*
//! (`~/.netkit/hubs/vhub_<user>_<CD>.cnct`), so two labs that both name a domain `A`
//! share a wire. flowlab runs one hub per domain *per lab*, with its socket in the lab's
//! state dir ([`crate::state`]): two labs never see each other's frames, and cleaning a
//! lab can stop its hubs without asking who else uses them. This is a deliberate
//! difference.
//!
//! # Modes
//!
//! * [`SwitchMode::Hub`] (default): `flowlab-hub -hub`, a shared wire, as Netkit runs its
//!   hubs (kept on purpose there, maxonthegit/netkit-core#21).
//! * [`SwitchMode::Learning`]: a learning switch (`flowlab-hub` without `-hub`).
//! * OpenFlow ([`HubMode::OpenFlow`]): one `flowlab-controller --listen punix:SOCK --apps
//!   LIST` per lab (default app `l2_learning`), and every hub runs with
//!   `--controller unix:SOCK --fail-mode secure --dpid N` (N: the domain's position in the
//!   lab, from 1), plus `--listen punix:hubs/<CD>.of` so that `ovs-ofctl dump-flows
//!   unix:...` can look inside. With `secure`, nothing crosses a domain that the
//!   controller did not allow: a Netkit lab becomes an OpenFlow lab with no change to its
//!   files.
//!
//! # Tap domains
//!
//! A `tap,TAP_ADDR,GUEST_ADDR` domain connects the lab to the host: a tap device is
//! created (`ip tuntap add`, the address, up) and the hub gets `-tap DEV`. Creating a tap
//! device needs root (CAP_NET_ADMIN); without it the lab is refused before anything
//! starts ([`check_tap_allowed`]). The device is recorded and deleted by `clean`.
//!
//! # Programs
//!
//! `$FLOWLAB_HUB_BIN` (`$FLOWLAB_CONTROLLER_BIN`), else the binary next to the running
//! `flowlab` executable (the cargo target dir, or an install prefix), else `PATH`.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::state::{fnv1a, LabState, Record, RecordKind};
use crate::uml::find_program;

/// The hub program's name.
pub const HUB_PROGRAM: &str = "flowlab-hub";
/// The controller program's name.
pub const CONTROLLER_PROGRAM: &str = "flowlab-controller";
/// The controller apps used when `--openflow` names none.
pub const DEFAULT_APPS: &str = "l2_learning";
/// How long a hub or the controller may take to listen on its socket.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Forwarding without a controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchMode {
    /// Flood everything: a shared wire (Netkit's choice).
    Hub,
    /// A learning switch.
    Learning,
}

impl SwitchMode {
    /// `hub` or `learning`.
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchMode::Hub => "hub",
            SwitchMode::Learning => "learning",
        }
    }

    /// Parses `hub` or `learning`.
    pub fn parse(s: &str) -> Option<SwitchMode> {
        match s {
            "hub" => Some(SwitchMode::Hub),
            "learning" | "switch" => Some(SwitchMode::Learning),
            _ => None,
        }
    }
}

/// How every hub of a lab forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubMode {
    /// Hub or learning switch, no controller.
    Plain(SwitchMode),
    /// OpenFlow, connected to the lab's controller running `apps`.
    OpenFlow {
        /// The controller's `--apps` list.
        apps: String,
    },
}

impl HubMode {
    /// The form saved in the state's options: `hub`, `learning`, `openflow:APPS`.
    pub fn to_option(&self) -> String {
        match self {
            HubMode::Plain(m) => m.as_str().to_string(),
            HubMode::OpenFlow { apps } => format!("openflow:{apps}"),
        }
    }

    /// Parses [`HubMode::to_option`]'s form.
    pub fn from_option(s: &str) -> Option<HubMode> {
        match s.strip_prefix("openflow:") {
            Some(apps) => Some(HubMode::OpenFlow {
                apps: apps.to_string(),
            }),
            None => SwitchMode::parse(s).map(HubMode::Plain),
        }
    }
}

/// A hub or controller that could not be started.
#[derive(Debug, Error)]
pub enum HubError {
    /// The program is not found.
    #[error("`{program}` not found (set {env}, put it next to flowlab, or on PATH; build it with `cargo build -p {program}`)")]
    Missing {
        /// The program.
        program: &'static str,
        /// The variable that names it.
        env: &'static str,
    },
    /// A tap domain without root.
    #[error("collision domain `{domain}` is a tap domain ({line}): creating a tap device on the host needs root; run flowlab as root, or remove the tap from lab.conf")]
    TapNeedsRoot {
        /// The domain.
        domain: String,
        /// Where it is defined (`lab.conf:N`).
        line: String,
    },
    /// Spawning or configuring failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// The process exited or did not listen in time.
    #[error("{what} did not come up on {socket} ({why}); log {log}:\n{tail}")]
    NotListening {
        /// Which process.
        what: String,
        /// The socket it should listen on.
        socket: PathBuf,
        /// Exited or timed out.
        why: String,
        /// Its log.
        log: PathBuf,
        /// The end of its log.
        tail: String,
    },
    /// A command (`ip`) failed.
    #[error("`{command}` failed: {output}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed.
        output: String,
    },
    /// The state dir could not be updated.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> HubError {
    let what = what.into();
    move |source| HubError::Io { what, source }
}

/// Finds a companion program: `$env`, else next to the running executable (and its
/// parent, for test binaries in `target/debug/deps`), else `PATH`.
pub fn find_companion(program: &'static str, env: &'static str) -> Result<PathBuf, HubError> {
    if let Some(p) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        for _ in 0..2 {
            let Some(d) = dir else { break };
            let cand = d.join(program);
            if cand.is_file() {
                return Ok(cand);
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    find_program(Path::new(program)).ok_or(HubError::Missing { program, env })
}

/// The hub program ([`find_companion`] with `FLOWLAB_HUB_BIN`).
pub fn hub_program() -> Result<PathBuf, HubError> {
    find_companion(HUB_PROGRAM, "FLOWLAB_HUB_BIN")
}

/// The controller program ([`find_companion`] with `FLOWLAB_CONTROLLER_BIN`).
pub fn controller_program() -> Result<PathBuf, HubError> {
    find_companion(CONTROLLER_PROGRAM, "FLOWLAB_CONTROLLER_BIN")
}

/// The datapath id of the `index`-th domain (0-based) of a lab: `index + 1`.
pub fn dpid_for(index: usize) -> u64 {
    index as u64 + 1
}

/// A hub's arguments (after the program name).
pub fn hub_args(
    ctl: &Path,
    bess: &Path,
    mode: &HubMode,
    controller: &Path,
    of_listen: &Path,
    dpid: u64,
    tap: Option<&str>,
) -> Vec<String> {
    let mut a = vec![
        "-unix".to_string(),
        ctl.display().to_string(),
        "--bess".into(),
        bess.display().to_string(),
    ];
    match mode {
        HubMode::Plain(SwitchMode::Hub) => a.push("-hub".into()),
        HubMode::Plain(SwitchMode::Learning) => {}
        HubMode::OpenFlow { .. } => {
            a.extend([
                "--controller".to_string(),
                format!("unix:{}", controller.display()),
                "--fail-mode".into(),
                "secure".into(),
                "--dpid".into(),
                format!("{dpid:016x}"),
                "--listen".into(),
                format!("punix:{}", of_listen.display()),
            ]);
        }
    }
    if let Some(t) = tap {
        a.push("-tap".into());
        a.push(t.to_string());
    }
    a
}

/// The controller's arguments (after the program name).
pub fn controller_args(socket: &Path, apps: &str) -> Vec<String> {
    vec![
        "--listen".into(),
        format!("punix:{}", socket.display()),
        "--apps".into(),
        apps.to_string(),
    ]
}

/// The tap device name of domain `cd` in the lab at `lab_dir`: `fl` and 12 hex digits
/// (Linux allows 15 characters).
pub fn tap_device(lab_dir: &Path, cd: &str) -> String {
    let mut key = lab_dir.as_os_str().as_encoded_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(cd.as_bytes());
    format!("fl{:012x}", fnv1a(&key) & 0xffff_ffff_ffff)
}

/// Refuses a tap domain when not running as root.
pub fn check_tap_allowed(is_root: bool, domain: &str, line: &str) -> Result<(), HubError> {
    if is_root {
        Ok(())
    } else {
        Err(HubError::TapNeedsRoot {
            domain: domain.to_string(),
            line: line.to_string(),
        })
    }
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// True when a listening unix stream socket is bound at `path` (from `/proc/net/unix`,
/// without connecting: a probe connection would show up as a port in a hub's log).
pub fn is_listening(path: &Path) -> bool {
    match fs::read_to_string("/proc/net/unix") {
        Ok(table) => listening_in(&table, path),
        Err(_) => {
            use std::os::unix::fs::FileTypeExt;
            fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
        }
    }
}

/// [`is_listening`] on the text of `/proc/net/unix`: a line with the `__SO_ACCEPTCON`
/// flag and the path.
pub fn listening_in(table: &str, path: &Path) -> bool {
    const SO_ACCEPTCON: u32 = 0x0001_0000;
    let want = path.to_string_lossy();
    table.lines().skip(1).any(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.len() >= 8
            && u32::from_str_radix(cols[3], 16).is_ok_and(|f| f & SO_ACCEPTCON != 0)
            && cols[7] == want
    })
}

/// The last `n` non-empty lines of a file.
pub fn file_tail(path: &Path, n: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Starts `program args` detached: a new session, stdin `/dev/null`, output to `log`.
/// Returns the child (the caller waits for readiness, then drops it: the process goes on).
fn spawn_detached(
    program: &Path,
    args: &[String],
    log: &Path,
) -> Result<std::process::Child, HubError> {
    let out = fs::File::create(log).map_err(io_err(format!("creating {}", log.display())))?;
    let err = out
        .try_clone()
        .map_err(io_err(format!("duplicating {}", log.display())))?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: setsid is async-signal-safe and touches no parent memory.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
        .map_err(io_err(format!("starting {}", program.display())))
}

/// Waits until `child` listens on `socket`; on failure stops it and explains.
fn wait_listening(
    child: &mut std::process::Child,
    socket: &Path,
    what: &str,
    log: &Path,
) -> Result<(), HubError> {
    let start = Instant::now();
    loop {
        if is_listening(socket) {
            return Ok(());
        }
        if let Ok(Some(st)) = child.try_wait() {
            return Err(HubError::NotListening {
                what: what.to_string(),
                socket: socket.to_path_buf(),
                why: format!("exited, {st}"),
                log: log.to_path_buf(),
                tail: file_tail(log, 20),
            });
        }
        if start.elapsed() > LISTEN_TIMEOUT {
            let _ = crate::state::stop_group(child.id() as i32, Duration::from_secs(1));
            let _ = child.wait();
            return Err(HubError::NotListening {
                what: what.to_string(),
                socket: socket.to_path_buf(),
                why: format!("nothing after {LISTEN_TIMEOUT:?}"),
                log: log.to_path_buf(),
                tail: file_tail(log, 20),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts the lab's controller (unless one runs) and records it. Returns its record.
pub fn ensure_controller(state: &LabState, apps: &str) -> Result<Record, HubError> {
    if let Some(r) = state.running_record(RecordKind::Controller, "-") {
        return Ok(r);
    }
    let program = controller_program()?;
    let socket = state.controller_socket();
    let _ = fs::remove_file(&socket);
    let log = state.controller_log();
    let mut child = spawn_detached(&program, &controller_args(&socket, apps), &log)?;
    let rec = Record::for_process(RecordKind::Controller, "-", child.id() as i32, apps);
    state.add_record(&rec)?;
    wait_listening(&mut child, &socket, "flowlab-controller", &log)?;
    Ok(rec)
}

/// One domain to start a hub for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSpec {
    /// The domain name.
    pub name: String,
    /// Its datapath id in OpenFlow mode.
    pub dpid: u64,
    /// For a tap domain: the host address (`TAP_ADDR`, a /24 as Netkit).
    pub tap_addr: Option<std::net::Ipv4Addr>,
}

/// Starts domain `d`'s hub (unless one runs), and for a tap domain its tap device first;
/// records both. Returns the hub's record.
pub fn ensure_hub(state: &LabState, d: &DomainSpec, mode: &HubMode) -> Result<Record, HubError> {
    if let Some(r) = state.running_record(RecordKind::Hub, &d.name) {
        return Ok(r);
    }
    let program = hub_program()?;
    let ctl = state.hub_socket(&d.name);
    let of = state.hub_of_socket(&d.name);
    let bess = state.hub_bess_socket(&d.name);
    let _ = fs::remove_file(&ctl);
    let _ = fs::remove_file(&of);
    let _ = fs::remove_file(&bess);
    let tap = match d.tap_addr {
        Some(addr) => Some(create_tap(state, &d.name, addr)?),
        None => None,
    };
    let args = hub_args(
        &ctl,
        &bess,
        mode,
        &state.controller_socket(),
        &of,
        d.dpid,
        tap.as_deref(),
    );
    let log = state.hub_log(&d.name);
    let mut child = spawn_detached(&program, &args, &log)?;
    let rec = Record::for_process(RecordKind::Hub, &d.name, child.id() as i32, "");
    state.add_record(&rec)?;
    wait_listening(
        &mut child,
        &ctl,
        &format!("flowlab-hub for collision domain {}", d.name),
        &log,
    )?;
    Ok(rec)
}

/// Creates the tap device of domain `cd` with `addr`/24 and records it.
fn create_tap(state: &LabState, cd: &str, addr: std::net::Ipv4Addr) -> Result<String, HubError> {
    let dev = tap_device(state.lab_dir(), cd);
    let run = |args: &[&str]| -> Result<(), HubError> {
        let out = Command::new("ip")
            .args(args)
            .output()
            .map_err(io_err("running ip (iproute2)"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(HubError::Command {
                command: format!("ip {}", args.join(" ")),
                output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    };
    if !Path::new("/sys/class/net").join(&dev).exists() {
        run(&["tuntap", "add", "dev", &dev, "mode", "tap"])?;
    }
    state.add_record(&Record {
        kind: RecordKind::Tap,
        name: cd.to_string(),
        pid: 0,
        start_time: 0,
        extra: dev.clone(),
    })?;
    run(&["addr", "replace", &format!("{addr}/24"), "dev", &dev])?;
    run(&["link", "set", &dev, "up"])?;
    Ok(dev)
}

/// Waits up to `limit` until the hub on `ctl` reports its controller connected
/// (`flowlab-hub ctl CTL show`). False if it did not.
pub fn wait_controller_connected(ctl: &Path, limit: Duration) -> bool {
    let Ok(program) = hub_program() else {
        return false;
    };
    let start = Instant::now();
    loop {
        let out = Command::new(&program)
            .arg("ctl")
            .arg(ctl)
            .arg("show")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        if let Ok(o) = out {
            let text = String::from_utf8_lossy(&o.stdout);
            if controller_connected(&text) {
                return true;
            }
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True when `ctl show` output says every controller is connected (and there is one).
pub fn controller_connected(show: &str) -> bool {
    let states: Vec<&str> = show
        .lines()
        .filter_map(|l| l.strip_prefix("openflow: controller "))
        .filter_map(|rest| rest.rsplit_once(": ").map(|(_, st)| st.trim()))
        .collect();
    !states.is_empty() && states.iter().all(|s| *s == "connected")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_command_lines() {
        let ctl = Path::new("/l/.flowlab/hubs/A.ctl");
        let sock = Path::new("/l/.flowlab/ctl.sock");
        let of = Path::new("/l/.flowlab/hubs/A.of");
        let b = Path::new("/l/.flowlab/hubs/A.bess");
        assert_eq!(
            hub_args(ctl, b, &HubMode::Plain(SwitchMode::Hub), sock, of, 1, None),
            [
                "-unix",
                "/l/.flowlab/hubs/A.ctl",
                "--bess",
                "/l/.flowlab/hubs/A.bess",
                "-hub"
            ]
        );
        assert_eq!(
            hub_args(
                ctl,
                b,
                &HubMode::Plain(SwitchMode::Learning),
                sock,
                of,
                1,
                Some("fl0")
            ),
            [
                "-unix",
                "/l/.flowlab/hubs/A.ctl",
                "--bess",
                "/l/.flowlab/hubs/A.bess",
                "-tap",
                "fl0"
            ]
        );
        let a = hub_args(
            ctl,
            b,
            &HubMode::OpenFlow {
                apps: "l2_learning".into(),
            },
            sock,
            of,
            dpid_for(2),
            None,
        );
        assert_eq!(
            a,
            [
                "-unix",
                "/l/.flowlab/hubs/A.ctl",
                "--bess",
                "/l/.flowlab/hubs/A.bess",
                "--controller",
                "unix:/l/.flowlab/ctl.sock",
                "--fail-mode",
                "secure",
                "--dpid",
                "0000000000000003",
                "--listen",
                "punix:/l/.flowlab/hubs/A.of"
            ]
        );
        assert!(!a.contains(&"-hub".to_string()));
        assert_eq!(
            controller_args(sock, "hub,topology"),
            [
                "--listen",
                "punix:/l/.flowlab/ctl.sock",
                "--apps",
                "hub,topology"
            ]
        );
    }

    #[test]
    fn modes_round_trip() {
        for m in [
            HubMode::Plain(SwitchMode::Hub),
            HubMode::Plain(SwitchMode::Learning),
            HubMode::OpenFlow {
                apps: "l2_learning,topology".into(),
            },
        ] {
            assert_eq!(HubMode::from_option(&m.to_option()), Some(m));
        }
        assert_eq!(HubMode::from_option("bridge"), None);
    }

    #[test]
    fn tap_names_and_root() {
        let a = tap_device(Path::new("/labs/one"), "ext");
        let b = tap_device(Path::new("/labs/two"), "ext");
        assert!(a.len() <= 15 && a.starts_with("fl"), "{a}");
        assert_ne!(a, b);
        assert_eq!(a, tap_device(Path::new("/labs/one"), "ext"));
        let e = check_tap_allowed(false, "ext", "lab.conf:3").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("`ext`") && msg.contains("needs root") && msg.contains("lab.conf:3"),
            "{msg}"
        );
        assert!(check_tap_allowed(true, "ext", "lab.conf:3").is_ok());
    }

    #[test]
    fn controller_state_from_show() {
        let show = "switch ...\nopenflow: controller unix:/x/ctl.sock: connected\nopenflow: messages in 3\n";
        assert!(controller_connected(show));
        assert!(!controller_connected(
            "openflow: controller unix:/x/ctl.sock: connecting\n"
        ));
        assert!(!controller_connected("switch frames=0\n"));
    }

    #[test]
    fn listening_probe() {
        let table = "Num       RefCount Protocol Flags    Type St Inode Path\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 2001 /l/hubs/A.ctl\n\
            0000000000000000: 00000003 00000000 00000000 0001 03 2002 /l/hubs/B.ctl\n\
            0000000000000000: 00000002 00000000 00010000 0002 01 2003\n";
        assert!(listening_in(table, Path::new("/l/hubs/A.ctl")));
        assert!(
            !listening_in(table, Path::new("/l/hubs/B.ctl")),
            "connected, not listening"
        );
        assert!(!listening_in(table, Path::new("/l/hubs/C.ctl")));
        assert!(!listening_in("", Path::new("/l/hubs/A.ctl")));
        // And the real table.
        let dir = std::env::temp_dir().join(format!("flowlab-hubs-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.sock");
        let _ = fs::remove_file(&p);
        assert!(!is_listening(&p));
        let l = std::os::unix::net::UnixListener::bind(&p).unwrap();
        assert!(is_listening(&p));
        drop(l);
        fs::remove_dir_all(&dir).unwrap();
    }
}
