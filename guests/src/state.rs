//! A lab's run-time state: everything under `DIR/.flowlab/`.
//!
//! # Layout
//!
//! ```text
//! DIR/.flowlab/
//!   lock              flock(2) held by the flowlab command working on the lab; holds its pid
//!   procs             one line per process started: `KIND NAME PID STARTTIME [EXTRA]`
//!   options           how the lab was started (`switch=hub`, `openflow=l2_learning`, ...)
//!   hubs/<CD>.ctl     each collision domain's hub control socket (`<CD>.of`: its OpenFlow
//!                     listener, in OpenFlow mode)
//!   ctl.sock          the lab's OpenFlow controller (OpenFlow mode)
//!   uml/<vm>/         UML's uml_dir: the guest's pid file and mconsole socket
//!   cow/<vm>.cow      the guest's copy-on-write disk (`<vm>.base`: the image it was made on)
//!   log/<vm>.log      the guest's console; `log/hub-<CD>.log`, `log/controller.log`
//!   exec/<vm>/        the exec agent's spool dir (see [`crate::uml::agent`])
//!   run/<vm>.pid      the UML main process of the guest
//! ```
//!
//! `DIR/<vm>.ready` (created by the guest through `/hostlab`, as in Netkit) is the only
//! file outside `.flowlab/`.
//!
//! # Sockets and the 108-byte limit
//!
//! A unix socket path must fit `sun_path` (107 bytes and a NUL). A lab deep in a home
//! directory easily passes that with `DIR/.flowlab/uml/<vm>/mconsole`. When the longest
//! socket path of the lab would not fit, the sockets move to a short directory,
//! `$XDG_RUNTIME_DIR/flowlab/<hash>/` (else `/tmp/flowlab-<uid>/<hash>/`, mode 0700, owned
//! by the user), `<hash>` being 16 hex digits of the FNV-1a hash of the lab path; then
//! `DIR/.flowlab/hubs`, `uml` and `ctl.sock` are symlinks into it, so the layout above
//! still holds for anyone looking, and [`LabState::socket_base`] finds the short
//! directory again by reading the `hubs` link. `clean` removes it.
//!
//! # Which processes are the lab's
//!
//! Every process flowlab starts is recorded with its pid **and its start time** (field 22
//! of `/proc/PID/stat`): a recorded pid counts as the lab's only while a process with that
//! pid and that start time exists, so a recycled pid is never signalled. Each such process
//! leads its own session and process group (flowlab starts it after `setsid`), and is
//! stopped through that group: SIGTERM, a grace time, then SIGKILL until `/proc` shows no
//! member left. As a last net, `clean` also stops unrecorded processes whose command line
//! shows they are this lab's (a UML with its `uml_dir=`, a hub on its `hubs/*.ctl`, a
//! controller on its `ctl.sock`: one started just before its record could be written).
//! Nothing is ever signalled by name.
//!
//! # Locking
//!
//! Commands that change a lab (`start`, `halt`, `crash`, `clean`, `vm ...`) hold an
//! exclusive `flock` on `.flowlab/lock` ([`LabState::lock`]), taken without waiting: a
//! second `flowlab start` while the first one is booting is refused, naming the pids.
//! The lock lives as long as the command; whether the lab *runs* is read from the records
//! ([`LabState::running`]).

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::uml::process::{group_members, kill_group, signal, wait_until};
use crate::uml::MAX_SOCKET_PATH;

/// The state directory's name inside a lab.
pub const STATE_DIR: &str = ".flowlab";
/// How long a process gets between SIGTERM and SIGKILL when a lab is cleaned.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// The longest machine or domain name the socket layout is sized for when the names are
/// not known in advance ([`LabState::prepare`] with `None`).
pub const MAX_NAME: usize = 64;

/// A state-directory operation that failed.
#[derive(Debug, Error)]
pub enum StateError {
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// Another flowlab command holds the lab's lock.
    #[error("lab {dir} is already running or being changed (flowlab pid {holder}{})", pid_list(.pids))]
    Busy {
        /// The lab directory.
        dir: PathBuf,
        /// The pid written in the lock file by the holder (0 when unknown).
        holder: i32,
        /// The lab's live recorded processes.
        pids: Vec<i32>,
    },
    /// The short socket directory exists but is not a private directory of this user.
    #[error("{0} is not a directory owned by this user with mode 0700: remove it or set XDG_RUNTIME_DIR")]
    UnsafeSocketDir(PathBuf),
    /// Some processes of the lab survived SIGKILL.
    #[error("processes {0:?} of the lab survived SIGKILL")]
    Unkillable(Vec<i32>),
}

fn pid_list(pids: &[i32]) -> String {
    if pids.is_empty() {
        String::new()
    } else {
        let v: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
        format!("; lab pids {}", v.join(" "))
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> StateError {
    let what = what.into();
    move |source| StateError::Io { what, source }
}

/// What a recorded process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// A UML guest's main process (its process group holds the helpers).
    Guest,
    /// A collision domain's flowlab-hub.
    Hub,
    /// The lab's flowlab-controller.
    Controller,
    /// A host tap device (no process: `pid` is 0 and `extra` is the device name).
    Tap,
}

impl RecordKind {
    /// The word in the `procs` file.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Guest => "guest",
            RecordKind::Hub => "hub",
            RecordKind::Controller => "controller",
            RecordKind::Tap => "tap",
        }
    }

    fn parse(s: &str) -> Option<RecordKind> {
        Some(match s {
            "guest" => RecordKind::Guest,
            "hub" => RecordKind::Hub,
            "controller" => RecordKind::Controller,
            "tap" => RecordKind::Tap,
            _ => return None,
        })
    }
}

/// One line of the `procs` file: a process (or tap device) the lab started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What it is.
    pub kind: RecordKind,
    /// The machine or domain name (`-` for the controller).
    pub name: String,
    /// The process id (also its process group and session id); 0 for a tap.
    pub pid: i32,
    /// Its start time in clock ticks since boot (`/proc/PID/stat` field 22).
    pub start_time: u64,
    /// Kind-specific: a guest's interfaces (`eth0=A,eth1=B`), a tap's device name.
    pub extra: String,
}

impl Record {
    /// A record for the running process `pid` (its start time is read now).
    pub fn for_process(kind: RecordKind, name: &str, pid: i32, extra: &str) -> Record {
        Record {
            kind,
            name: name.to_string(),
            pid,
            start_time: process_start_time(pid).unwrap_or(0),
            extra: extra.to_string(),
        }
    }

    /// Parses one line; `None` for blank, comment or malformed lines.
    pub fn parse(line: &str) -> Option<Record> {
        let mut f = line.split_whitespace();
        let kind = RecordKind::parse(f.next()?)?;
        let name = f.next()?.to_string();
        let pid = f.next()?.parse().ok()?;
        let start_time = f.next()?.parse().ok()?;
        let extra = f.next().unwrap_or("").to_string();
        Some(Record {
            kind,
            name,
            pid,
            start_time,
            extra,
        })
    }

    /// True while the recorded process runs (same pid, same start time, not a zombie).
    /// A tap record is "alive" while its device exists.
    pub fn is_alive(&self) -> bool {
        match self.kind {
            RecordKind::Tap => Path::new("/sys/class/net").join(&self.extra).exists(),
            _ => {
                self.pid > 1
                    && process_start_time(self.pid) == Some(self.start_time)
                    && !is_zombie(self.pid)
            }
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.kind.as_str(),
            self.name,
            self.pid,
            self.start_time
        )?;
        if !self.extra.is_empty() {
            write!(f, " {}", self.extra)?;
        }
        Ok(())
    }
}

/// The start time of `pid` in clock ticks since boot (`/proc/PID/stat` field 22).
pub fn process_start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&text)
}

/// Field 22 of a `/proc/PID/stat` line (counted after the command name's last `)`).
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // rest: " S ppid pgrp ..." -> field 3 is the first word; starttime is field 22.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| {
            t.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|s| s.to_string()))
        })
        .is_some_and(|s| matches!(s.as_str(), "Z" | "X" | "x"))
}

/// FNV-1a, 64 bits: a stable hash for names derived from paths.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The held lab lock; released on drop.
#[derive(Debug)]
pub struct LabLock {
    file: fs::File,
}

impl Drop for LabLock {
    fn drop(&mut self) {
        // SAFETY: flock on a descriptor we own.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// What [`LabState::clean`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanReport {
    /// The processes that were still running and were stopped.
    pub stopped: Vec<Record>,
    /// Processes found by their command line (not recorded) and stopped.
    pub strays: Vec<i32>,
    /// Files and directories removed.
    pub removed: Vec<PathBuf>,
}

impl CleanReport {
    /// True when there was nothing to clean.
    pub fn is_empty(&self) -> bool {
        self.stopped.is_empty() && self.strays.is_empty() && self.removed.is_empty()
    }
}

/// The state of one lab: paths under `DIR/.flowlab/` and the records of its processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabState {
    lab_dir: PathBuf,
    root: PathBuf,
}

impl LabState {
    /// The state of the lab in `lab_dir` (which should be absolute: the paths end up on
    /// UML's command line). Touches nothing.
    pub fn new(lab_dir: &Path) -> LabState {
        LabState {
            lab_dir: lab_dir.to_path_buf(),
            root: lab_dir.join(STATE_DIR),
        }
    }

    /// The lab directory.
    pub fn lab_dir(&self) -> &Path {
        &self.lab_dir
    }

    /// `DIR/.flowlab`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when `DIR/.flowlab` exists.
    pub fn exists(&self) -> bool {
        self.root.symlink_metadata().is_ok()
    }

    /// `DIR/.flowlab/lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join("lock")
    }

    /// `DIR/.flowlab/procs`.
    pub fn procs_path(&self) -> PathBuf {
        self.root.join("procs")
    }

    /// `DIR/.flowlab/options`.
    pub fn options_path(&self) -> PathBuf {
        self.root.join("options")
    }

    /// `DIR/.flowlab/log`.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `DIR/.flowlab/log/<vm>.log`: the guest's console.
    pub fn guest_log(&self, vm: &str) -> PathBuf {
        self.log_dir().join(format!("{vm}.log"))
    }

    /// `DIR/.flowlab/log/hub-<CD>.log`.
    pub fn hub_log(&self, domain: &str) -> PathBuf {
        self.log_dir().join(format!("hub-{domain}.log"))
    }

    /// `DIR/.flowlab/log/controller.log`.
    pub fn controller_log(&self) -> PathBuf {
        self.log_dir().join("controller.log")
    }

    /// `DIR/.flowlab/cow`.
    pub fn cow_dir(&self) -> PathBuf {
        self.root.join("cow")
    }

    /// `DIR/.flowlab/cow/<vm>.cow`.
    pub fn cow_file(&self, vm: &str) -> PathBuf {
        self.cow_dir().join(format!("{vm}.cow"))
    }

    /// `DIR/.flowlab/cow/<vm>.base`: the image the COW file was made against.
    pub fn cow_base_file(&self, vm: &str) -> PathBuf {
        self.cow_dir().join(format!("{vm}.base"))
    }

    /// `DIR/.flowlab/exec/<vm>`: the exec agent's spool dir.
    pub fn agent_dir(&self, vm: &str) -> PathBuf {
        self.root.join("exec").join(vm)
    }

    /// `DIR/.flowlab/run/<vm>.pid`.
    pub fn pid_file(&self, vm: &str) -> PathBuf {
        self.root.join("run").join(format!("{vm}.pid"))
    }

    /// `DIR/.flowlab/tmp`: an exec-able TMPDIR for UML's memory files when `/dev/shm`
    /// cannot be used.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `DIR/<vm>.ready`.
    pub fn ready_file(&self, vm: &str) -> PathBuf {
        self.lab_dir.join(format!("{vm}.ready"))
    }

    /// Where the sockets live: `DIR/.flowlab`, or the short directory when
    /// `DIR/.flowlab/hubs` is a symlink into one (see the module documentation).
    pub fn socket_base(&self) -> PathBuf {
        let hubs = self.root.join("hubs");
        match fs::read_link(&hubs) {
            Ok(target) => target.parent().map(Path::to_path_buf).unwrap_or(target),
            Err(_) => self.root.clone(),
        }
    }

    /// The directory of the hubs' control sockets.
    pub fn hubs_dir(&self) -> PathBuf {
        self.socket_base().join("hubs")
    }

    /// The control socket of domain `cd`'s hub.
    pub fn hub_socket(&self, cd: &str) -> PathBuf {
        self.hubs_dir().join(format!("{cd}.ctl"))
    }

    /// The UML vector-transport listener (`--bess`) of domain `cd`'s hub.
    pub fn hub_bess_socket(&self, cd: &str) -> PathBuf {
        self.hubs_dir().join(format!("{cd}.bess"))
    }

    /// The OpenFlow listener (`punix:`) of domain `cd`'s hub, for `ovs-ofctl`.
    pub fn hub_of_socket(&self, cd: &str) -> PathBuf {
        self.hubs_dir().join(format!("{cd}.of"))
    }

    /// The OpenFlow controller's socket.
    pub fn controller_socket(&self) -> PathBuf {
        self.socket_base().join("ctl.sock")
    }

    /// UML's `uml_dir`.
    pub fn uml_dir(&self) -> PathBuf {
        self.socket_base().join("uml")
    }

    /// The short socket directory this lab would use: `$XDG_RUNTIME_DIR/flowlab/<hash>`,
    /// else `/tmp/flowlab-<uid>/<hash>`.
    pub fn short_socket_dir(&self) -> PathBuf {
        let hash = format!(
            "{:016x}",
            fnv1a(self.lab_dir.as_os_str().as_encoded_bytes())
        );
        short_root().join(hash)
    }

    /// The longest socket path (in bytes) under `base` for these machine and domain names
    /// (`None`: any names up to [`MAX_NAME`]).
    pub fn longest_socket(base: &Path, names: Option<(&[&str], &[&str])>) -> usize {
        let (vm, cd) = match names {
            Some((vms, cds)) => (
                vms.iter().map(|s| s.len()).max().unwrap_or(0),
                cds.iter().map(|s| s.len()).max().unwrap_or(0),
            ),
            None => (MAX_NAME, MAX_NAME),
        };
        let base = base.as_os_str().len();
        [
            base + "/uml/".len() + vm + "/mconsole".len(),
            // The longest of the hub's sockets: `.ctl`, `.of`, `.bess`.
            base + "/hubs/".len() + cd + ".bess".len(),
            base + "/ctl.sock".len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Creates `DIR/.flowlab` and its subdirectories, choosing where sockets go for the
    /// given machine and domain names (`None`: names up to [`MAX_NAME`]). An existing
    /// layout is kept. Returns the socket base.
    pub fn prepare(&self, names: Option<(&[&str], &[&str])>) -> Result<PathBuf, StateError> {
        fs::create_dir_all(&self.root)
            .map_err(io_err(format!("creating {}", self.root.display())))?;
        for d in [
            self.log_dir(),
            self.cow_dir(),
            self.root.join("exec"),
            self.root.join("run"),
        ] {
            fs::create_dir_all(&d).map_err(io_err(format!("creating {}", d.display())))?;
        }
        let hubs = self.root.join("hubs");
        if hubs.symlink_metadata().is_err() {
            if Self::longest_socket(&self.root, names) > MAX_SOCKET_PATH {
                let short = self.short_socket_dir();
                make_private_dir(&short_root())?;
                make_private_dir(&short)?;
                for (name, is_dir) in [("hubs", true), ("uml", true), ("ctl.sock", false)] {
                    let target = short.join(name);
                    if is_dir {
                        fs::create_dir_all(&target)
                            .map_err(io_err(format!("creating {}", target.display())))?;
                    }
                    let link = self.root.join(name);
                    let _ = fs::remove_file(&link);
                    std::os::unix::fs::symlink(&target, &link)
                        .map_err(io_err(format!("linking {}", link.display())))?;
                }
            } else {
                for d in [self.root.join("hubs"), self.root.join("uml")] {
                    fs::create_dir_all(&d).map_err(io_err(format!("creating {}", d.display())))?;
                }
            }
        }
        Ok(self.socket_base())
    }

    /// Takes the lab's lock without waiting (creating `DIR/.flowlab` if needed). Fails with
    /// [`StateError::Busy`] when another flowlab command holds it.
    pub fn lock(&self) -> Result<LabLock, StateError> {
        fs::create_dir_all(&self.root)
            .map_err(io_err(format!("creating {}", self.root.display())))?;
        let path = self.lock_path();
        loop {
            let file = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_err(format!("opening {}", path.display())))?;
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    let holder = fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse().ok())
                        .unwrap_or(0);
                    return Err(StateError::Busy {
                        dir: self.lab_dir.clone(),
                        holder,
                        pids: self.running().iter().map(|r| r.pid).collect(),
                    });
                }
                return Err(io_err(format!("locking {}", path.display()))(e));
            }
            // The file may have been removed (a `clean`) between open and flock: then
            // the lock we hold is on a dead inode; start over.
            let same = match (file.metadata(), fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                fs::create_dir_all(&self.root)
                    .map_err(io_err(format!("creating {}", self.root.display())))?;
                continue;
            }
            let mut f = &file;
            let _ = f.set_len(0);
            let _ = writeln!(f, "{}", std::process::id());
            return Ok(LabLock { file });
        }
    }

    /// Every record of the `procs` file, alive or not.
    pub fn records(&self) -> Vec<Record> {
        fs::read_to_string(self.procs_path())
            .map(|t| t.lines().filter_map(Record::parse).collect())
            .unwrap_or_default()
    }

    /// The records whose process still runs.
    pub fn running(&self) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(Record::is_alive)
            .collect()
    }

    /// The running guest `vm`, if any.
    pub fn running_guest(&self, vm: &str) -> Option<Record> {
        self.running()
            .into_iter()
            .find(|r| r.kind == RecordKind::Guest && r.name == vm)
    }

    /// The running process recorded for `kind`/`name`, if any.
    pub fn running_record(&self, kind: RecordKind, name: &str) -> Option<Record> {
        self.running()
            .into_iter()
            .find(|r| r.kind == kind && r.name == name)
    }

    /// Appends a record (call with the lock held).
    pub fn add_record(&self, r: &Record) -> Result<(), StateError> {
        let path = self.procs_path();
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(format!("opening {}", path.display())))?;
        writeln!(f, "{r}").map_err(io_err(format!("writing {}", path.display())))
    }

    /// Rewrites the `procs` file without the records for which `drop` is true, and
    /// without records of processes that have ended (call with the lock held).
    pub fn remove_records(&self, drop: impl Fn(&Record) -> bool) -> Result<(), StateError> {
        let keep: Vec<Record> = self
            .records()
            .into_iter()
            .filter(|r| !drop(r) && r.is_alive())
            .collect();
        let path = self.procs_path();
        if !path.exists() && keep.is_empty() {
            return Ok(());
        }
        let tmp = self.root.join(".procs.tmp");
        let text: String = keep.iter().map(|r| format!("{r}\n")).collect();
        fs::write(&tmp, text).map_err(io_err(format!("writing {}", tmp.display())))?;
        fs::rename(&tmp, &path).map_err(io_err(format!("renaming to {}", path.display())))
    }

    /// The saved start options (`key=value` lines).
    pub fn options(&self) -> Vec<(String, String)> {
        fs::read_to_string(self.options_path())
            .map(|t| {
                t.lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The saved start option `key`.
    pub fn option(&self, key: &str) -> Option<String> {
        self.options()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Saves the start options (replacing the old ones).
    pub fn save_options(&self, opts: &[(&str, String)]) -> Result<(), StateError> {
        let text: String = opts.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let path = self.options_path();
        fs::write(&path, text).map_err(io_err(format!("writing {}", path.display())))
    }

    /// Processes not recorded that this lab started, found by their command line: a UML
    /// guest with this lab's `uml_dir=`, a hub (or `ctl` client) on one of its
    /// `hubs/*.ctl` sockets, a controller listening on its `ctl.sock`. A process that
    /// merely names a file of the lab (`tail -f .flowlab/log/pc1.log`) is not one.
    pub fn strays(&self) -> Vec<i32> {
        let mut bases = vec![self.root.clone(), self.short_socket_dir()];
        let base = self.socket_base();
        if !bases.contains(&base) {
            bases.push(base);
        }
        let uml: Vec<String> = bases
            .iter()
            .map(|b| format!("uml_dir={}", b.join("uml").display()))
            .collect();
        let hubs: Vec<String> = bases
            .iter()
            .map(|b| format!("{}/", b.join("hubs").display()))
            .collect();
        let ctl: Vec<String> = bases
            .iter()
            .map(|b| format!("punix:{}", b.join("ctl.sock").display()))
            .collect();
        let ours = |a: &str| {
            uml.iter().any(|u| a == u)
                || ctl.iter().any(|c| a == c)
                || (a.ends_with(".ctl") && hubs.iter().any(|h| a.starts_with(h.as_str())))
        };
        let me = std::process::id() as i32;
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if pid <= 1 || pid == me || is_zombie(pid) {
                continue;
            }
            let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            if raw
                .split(|&b| b == 0)
                .any(|arg| ours(&String::from_utf8_lossy(arg)))
            {
                out.push(pid);
            }
        }
        out.sort_unstable();
        out
    }

    /// Stops every recorded process that still runs (guests first, then hubs, then the
    /// controller), deletes recorded tap devices, stops strays, and removes
    /// `DIR/.flowlab`, the short socket directory and `DIR/<vm>.ready` for the recorded
    /// guests and for `machines`. Touches nothing else; does nothing on a lab that was
    /// never started. Takes the lock itself.
    pub fn clean(&self, machines: &[String]) -> Result<CleanReport, StateError> {
        let mut report = CleanReport::default();
        let mut names: Vec<String> = machines.to_vec();
        if self.exists() {
            let _lock = self.lock()?;
            let mut recs = self.records();
            recs.sort_by_key(|r| match r.kind {
                RecordKind::Guest => 0,
                RecordKind::Hub => 1,
                RecordKind::Controller => 2,
                RecordKind::Tap => 3,
            });
            for r in &recs {
                if r.kind == RecordKind::Guest && !names.contains(&r.name) {
                    names.push(r.name.clone());
                }
            }
            // Guests in parallel: each may take the whole grace time.
            let alive: Vec<Record> = recs.into_iter().filter(Record::is_alive).collect();
            let (guests, others): (Vec<Record>, Vec<Record>) =
                alive.into_iter().partition(|r| r.kind == RecordKind::Guest);
            let mut survivors = Vec::new();
            std::thread::scope(|s| {
                let hs: Vec<_> = guests
                    .iter()
                    .map(|r| s.spawn(move || stop_record(r, STOP_GRACE)))
                    .collect();
                for h in hs {
                    if let Ok(Err(left)) = h.join() {
                        survivors.extend(left);
                    }
                }
            });
            for r in &others {
                if let Err(left) = stop_record(r, STOP_GRACE) {
                    survivors.extend(left);
                }
            }
            report.stopped.extend(guests);
            report.stopped.extend(others);
            for pid in self.strays() {
                if stop_group(pid, STOP_GRACE).is_err() {
                    survivors.push(pid);
                }
                report.strays.push(pid);
            }
            if !survivors.is_empty() {
                return Err(StateError::Unkillable(survivors));
            }
            let base = self.socket_base();
            if base != self.root && base.starts_with(short_root()) && base.exists() {
                fs::remove_dir_all(&base)
                    .map_err(io_err(format!("removing {}", base.display())))?;
                report.removed.push(base);
            }
            fs::remove_dir_all(&self.root)
                .map_err(io_err(format!("removing {}", self.root.display())))?;
            report.removed.push(self.root.clone());
        }
        for n in &names {
            let f = self.ready_file(n);
            if f.symlink_metadata().is_ok() {
                fs::remove_file(&f).map_err(io_err(format!("removing {}", f.display())))?;
                report.removed.push(f);
            }
        }
        Ok(report)
    }
}

/// Stops the recorded process `r` (if it is still the recorded one) and its process
/// group: SIGTERM, up to `grace`, then SIGKILL. A tap record deletes its device. Returns
/// the survivors as the error.
pub fn stop_record(r: &Record, grace: Duration) -> Result<(), Vec<i32>> {
    match r.kind {
        RecordKind::Tap => {
            if r.is_alive() {
                let _ = std::process::Command::new("ip")
                    .args(["link", "del", &r.extra])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
            Ok(())
        }
        _ => {
            if !r.is_alive() {
                return Ok(());
            }
            stop_group(r.pid, grace)
        }
    }
}

/// SIGTERM to `pid` (and its group when it leads one), up to `grace` for it to end, then
/// SIGKILL to the group until no member is left.
pub fn stop_group(pid: i32, grace: Duration) -> Result<(), Vec<i32>> {
    // Never this process or its own group (a corrupt record must not stop flowlab).
    // SAFETY: getpgrp cannot fail.
    let own_group = unsafe { libc::getpgrp() };
    if pid <= 1 || pid == std::process::id() as i32 || pid == own_group {
        return Ok(());
    }
    let leads = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| {
            let (_, rest) = t.rsplit_once(')')?;
            rest.split_whitespace().nth(2)?.parse::<i32>().ok()
        })
        == Some(pid);
    let _ = signal(pid, libc::SIGTERM);
    if leads {
        let _ = signal(-pid, libc::SIGTERM);
    }
    let ended = wait_until(grace, || {
        !Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid)
    });
    if leads || !ended {
        if !kill_group(pid, Duration::from_secs(5)) {
            return Err(group_members(pid));
        }
        if !ended {
            let _ = signal(pid, libc::SIGKILL);
        }
    }
    // Reap if it is our child (the CLI that started it may still run, e.g. on a failed
    // start); ignore errors: usually it is not.
    // SAFETY: waitpid on a specific pid with WNOHANG.
    unsafe {
        let mut st = 0;
        libc::waitpid(pid, &mut st, libc::WNOHANG);
    }
    Ok(())
}

/// `$XDG_RUNTIME_DIR/flowlab`, else `/tmp/flowlab-<uid>`.
fn short_root() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d).join("flowlab"),
        None => {
            // SAFETY: getuid cannot fail.
            let uid = unsafe { libc::getuid() };
            PathBuf::from(format!("/tmp/flowlab-{uid}"))
        }
    }
}

/// Creates `dir` with mode 0700, or checks that an existing one is a real directory of
/// this user with no access for others.
fn make_private_dir(dir: &Path) -> Result<(), StateError> {
    match fs::symlink_metadata(dir) {
        Ok(m) => {
            // SAFETY: getuid cannot fail.
            let uid = unsafe { libc::getuid() };
            if !m.is_dir() || m.uid() != uid || m.mode() & 0o077 != 0 {
                return Err(StateError::UnsafeSocketDir(dir.to_path_buf()));
            }
            Ok(())
        }
        Err(_) => {
            fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err(format!("chmod {}", dir.display())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    struct Tmp(PathBuf);
    impl Tmp {
        fn new(tag: &str) -> Tmp {
            let p = std::env::temp_dir().join(format!(
                "flowlab-state-{tag}-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos()
            ));
            fs::create_dir_all(&p).unwrap();
            Tmp(p)
        }
    }
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn start_time_parse() {
        let line = "4242 (linux (uml) x) S 1 4242 4242 0 -1 4194560 55 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(line), Some(987654));
        assert_eq!(parse_start_time("12 (sh) S 1 2"), None);
        assert_eq!(parse_start_time("garbage"), None);
        let me = std::process::id() as i32;
        assert!(process_start_time(me).is_some());
        assert_eq!(process_start_time(-3), None);
    }

    #[test]
    fn records_round_trip_and_liveness() {
        let me = std::process::id() as i32;
        let r = Record::for_process(RecordKind::Guest, "pc1", me, "eth0=A,eth1=B");
        let line = r.to_string();
        assert_eq!(Record::parse(&line), Some(r.clone()));
        assert!(r.is_alive());
        // Same pid, another start time: a recycled pid is not ours.
        let mut other = r.clone();
        other.start_time += 1;
        assert!(!other.is_alive());
        for bad in [
            "",
            "# x",
            "guest pc1",
            "hub A x 1",
            "what A 1 1",
            "guest pc1 1 -2",
        ] {
            assert_eq!(Record::parse(bad), None, "{bad}");
        }
        let c = Record::parse("controller - 12 34").unwrap();
        assert_eq!(
            (c.kind, c.pid, c.start_time),
            (RecordKind::Controller, 12, 34)
        );
        assert_eq!(c.extra, "");
    }

    #[test]
    fn layout_and_short_sockets() {
        let t = Tmp::new("layout");
        let s = LabState::new(&t.0);
        assert!(!s.exists());
        let base = s.prepare(Some((&["pc1"], &["A"]))).unwrap();
        assert_eq!(base, s.root());
        assert_eq!(s.hub_socket("A"), t.0.join(".flowlab/hubs/A.ctl"));
        assert!(s.uml_dir().is_dir() && s.log_dir().is_dir() && s.cow_dir().is_dir());

        // A lab whose sockets would not fit sun_path.
        let deep = t.0.join("x".repeat(60)).join("y".repeat(40));
        fs::create_dir_all(&deep).unwrap();
        let s = LabState::new(&deep);
        let base = s.prepare(Some((&["pc1"], &["A"]))).unwrap();
        assert_eq!(base, s.short_socket_dir());
        assert!(s.hub_socket("A").as_os_str().len() <= MAX_SOCKET_PATH);
        assert!(s.hub_bess_socket("A").as_os_str().len() <= MAX_SOCKET_PATH);
        assert!(s
            .root()
            .join("hubs")
            .symlink_metadata()
            .unwrap()
            .is_symlink());
        assert_eq!(s.hubs_dir(), base.join("hubs"));
        let m = fs::metadata(base.parent().unwrap()).unwrap();
        assert_eq!(m.mode() & 0o777, 0o700);
        // Preparing again keeps the layout.
        assert_eq!(s.prepare(Some((&["pc1"], &["A"]))).unwrap(), base);
        let report = s.clean(&[]).unwrap();
        assert!(report.removed.contains(&base), "{report:?}");
        assert!(!base.exists() && !s.exists());
    }

    #[test]
    fn the_longest_socket_is_the_hubs_bess_listener() {
        let cd = "a_long_domain";
        let base = Path::new("/l");
        let n = LabState::longest_socket(base, Some((&["a"], &[cd])));
        assert_eq!(n, format!("/l/hubs/{cd}.bess").len());
        // A lab where `.ctl` would just fit but `.bess` would not moves to the short dir.
        let root = "r".repeat(MAX_SOCKET_PATH - format!("/hubs/{cd}.ctl").len());
        let root = Path::new(&root);
        assert_eq!(
            LabState::longest_socket(root, Some((&["a"], &[cd]))),
            MAX_SOCKET_PATH + 1
        );
    }

    #[test]
    fn lock_refuses_a_second_holder() {
        let t = Tmp::new("lock");
        let s = LabState::new(&t.0);
        let l = s.lock().unwrap();
        match s.lock() {
            Err(StateError::Busy { holder, .. }) => {
                assert_eq!(holder, std::process::id() as i32)
            }
            other => panic!("{other:?}"),
        }
        drop(l);
        let _again = s.lock().unwrap();
    }

    #[test]
    fn clean_stops_recorded_processes_and_is_idempotent() {
        let t = Tmp::new("clean");
        fs::write(t.0.join("keep.txt"), "mine").unwrap();
        fs::write(t.0.join("pc1.ready"), "").unwrap();
        fs::write(t.0.join("other.ready"), "").unwrap();
        let s = LabState::new(&t.0);
        // Never started: nothing to do, nothing created.
        let r = s.clean(&[]).unwrap();
        assert!(r.is_empty(), "{r:?}");
        assert!(!s.exists());

        s.prepare(None).unwrap();
        // A process group of three, one ignoring SIGTERM.
        let (mut child, pid) =
            crate::uml::process::spawn_session("trap '' TERM; sleep 60 & sleep 60 & wait", 3);
        let rec = Record::for_process(RecordKind::Guest, "pc1", pid, "");
        s.add_record(&rec).unwrap();
        s.add_record(&Record {
            kind: RecordKind::Hub,
            name: "A".into(),
            pid,
            start_time: rec.start_time + 7,
            extra: String::new(),
        })
        .unwrap();
        assert_eq!(s.running(), vec![rec.clone()]);
        let reaper = std::thread::spawn(move || child.wait());
        let r = s.clean(&[]).unwrap();
        let _ = reaper.join();
        assert_eq!(r.stopped, vec![rec]);
        assert!(group_members(pid).is_empty());
        assert!(!s.exists());
        assert!(!t.0.join("pc1.ready").exists());
        assert!(t.0.join("other.ready").exists(), "not a recorded machine");
        assert!(t.0.join("keep.txt").exists());
        assert!(s.clean(&[]).unwrap().is_empty());
    }

    #[test]
    fn clean_finds_unrecorded_lab_processes_only() {
        let t = Tmp::new("strays");
        let s = LabState::new(&t.0);
        s.prepare(None).unwrap();
        let spawn = |arg: String| {
            let mut cmd = std::process::Command::new("sh");
            cmd.args(["-c", "sleep 60; :", "sh", &arg]);
            // SAFETY: setsid is async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    libc::setsid();
                    Ok(())
                });
            }
            cmd.spawn().unwrap()
        };
        let mut uml = spawn(format!("uml_dir={}", s.uml_dir().display()));
        let mut hub = spawn(s.hub_socket("A").display().to_string());
        let mut viewer = spawn(s.guest_log("pc1").display().to_string());
        let (u, h, v) = (uml.id() as i32, hub.id() as i32, viewer.id() as i32);
        let mut want = vec![u, h];
        want.sort_unstable();
        assert!(wait_until(Duration::from_secs(5), || s.strays() == want));
        let reaper = std::thread::spawn(move || {
            let _ = uml.wait();
            let _ = hub.wait();
        });
        let r = s.clean(&[]).unwrap();
        reaper.join().unwrap();
        assert_eq!(r.strays, want);
        assert!(group_members(u).is_empty() && group_members(h).is_empty());
        assert!(
            !group_members(v).is_empty(),
            "a process that only reads a log is not ours"
        );
        let _ = signal(-v, libc::SIGKILL);
        let _ = viewer.wait();
        assert!(!s.short_socket_dir().exists());
    }

    #[test]
    fn remove_records_drops_dead_and_selected() {
        let t = Tmp::new("recs");
        let s = LabState::new(&t.0);
        s.prepare(None).unwrap();
        let me = std::process::id() as i32;
        let a = Record::for_process(RecordKind::Hub, "A", me, "");
        let b = Record::for_process(RecordKind::Hub, "B", me, "");
        let dead = Record {
            start_time: 1,
            ..Record::for_process(RecordKind::Guest, "x", me, "")
        };
        for r in [&a, &b, &dead] {
            s.add_record(r).unwrap();
        }
        s.remove_records(|r| r.name == "A").unwrap();
        assert_eq!(s.records(), vec![b]);
        s.save_options(&[("switch", "hub".into()), ("openflow", "l2_learning".into())])
            .unwrap();
        assert_eq!(s.option("openflow").as_deref(), Some("l2_learning"));
        assert_eq!(s.option("nope"), None);
        // `prepare(None)` sized the sockets for long names: a short dir, which clean removes
        // (and this process, recorded above as a hub, is not stopped).
        let base = s.socket_base();
        s.clean(&[]).unwrap();
        assert!(!base.exists() && !s.exists());
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
