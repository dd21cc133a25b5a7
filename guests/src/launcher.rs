//! The launcher: a lab folder in, running UML guests on per-lab hubs out, and every
//! l-command and v-command on top (`start`, `halt`, `crash`, `info`, `clean`, `exec`,
//! `console`, `capture`, `test`, `vm ...`, `image build`).
//!
//! # Design
//!
//! **No daemon.** Netkit has none either: `lstart` spawns the hubs and the guests and
//! exits; every later command finds them again. flowlab does the same, but instead of
//! parsing `ps` output for `umid=` (Netkit's `vlist`) it finds a lab's processes through
//! the lab's own state dir ([`crate::state`]): a `procs` file of (kind, name, pid, start
//! time). A pid only counts while the process with that start time lives, so a recycled
//! pid is never signalled; every process leads its own session, so a guest's UML
//! helpers die with it. Each command is therefore a short-lived process that reads the
//! state, acts, and rewrites it under the lab's `flock`.
//!
//! **Nothing starts before everything is known.** `start` first loads the lab (any
//! error: `file:line: message` and a hint, and no `.flowlab/` is created), checks the
//! machine names, refuses tap domains without root, takes the lock (a running or
//! booting lab is refused, naming its pids), builds or finds the images (a progress bar;
//! the Debian image needs root), and only then starts processes: the controller (OpenFlow
//! mode), one hub per domain in use, then the guests. A failure before the first guest
//! removes what it started and a `.flowlab/` it created.
//!
//! **Boot schedule.** [`crate::lab::StartPlan`] is a sans-IO scheduler over `lab.dep`
//! with a concurrency cap (`-p N`). The loop here asks it for machines to start, spawns
//! them, and polls every booting guest for its `<vm>.ready` file (the guest's init
//! creates it through `/hostlab` after the startup files ran, as Netkit's does) or its
//! death; a machine becomes ready, the plan releases those waiting for it. A progress
//! line on stderr shows `booting 3/5: r1 r2`. When a machine fails (its UML exits, or no
//! `.ready` within the timeout) its console log path and last 20 lines are printed, and
//! every guest this `start` launched is stopped, then the hubs if no guest of the lab is
//! left: the lab is back where it was, with the logs kept for reading.
//!
//! **Guests.** Each guest boots `ubd0=.flowlab/cow/<vm>.cow,<image>`: one read-only base
//! image per kind, one COW per guest, kept across `halt` and `start` (so, as in Netkit,
//! lab files are copied in at the first boot of a disk only) and deleted by `crash`
//! (Netkit's `lcrash` default) and `clean`. A COW made on another image file (the image
//! was rebuilt) is replaced by a fresh one, with a warning. Interfaces get stable MAC
//! addresses derived from the machine name and interface number unless lab.conf fixes
//! them, so test signatures and IPv6 link-local addresses are the same on every run.
//! Every guest has an attachable console (`con1=pts`, [`crate::uml::GuestSpec::attach_console`])
//! and an exec agent spool (`.flowlab/exec/<vm>/`).
//!
//! **Stopping.** `halt` asks each guest to shut down through mconsole `cad` (its
//! `.shutdown` files run) in parallel, then stops hubs and controller once no guest of the
//! lab runs. `crash` kills process groups at once. `clean` stops whatever is recorded
//! (and any process whose command line names the lab's state dir), removes `.flowlab/`
//! and the `.ready` files, and nothing else; it is idempotent.
//!
//! **Interrupted.** A `start` killed half-way (Ctrl-C) leaves the guests it launched
//! running and recorded (they are in sessions of their own): `flowlab clean` or `halt`
//! stops them.
//!
//! **ltest.** `test` (refused on a running lab) is `clean`, `start`, then per machine a built-in signature
//! (`[NETWORK INTERFACES]` `ip -o addr`, `[ROUTING TABLE]` `ip route`, `[LISTENING PORTS]`
//! `netstat -ltn`/`ss -ltn`, gathered through the exec agent) into
//! `_test/results/<vm>.default`, and the output of `_test/<vm>.test` into
//! `_test/results/<vm>.user`; then `crash` and `clean`. Expectations come from
//! `_test/expected/`, else Netkit's `_test/signature/`; with neither (or `--rebuild`) the
//! results become `_test/signature/`. Files compare as `diff -qEbB` does (blank lines
//! and amounts of white space ignored); `.user` is compared when the expectation has
//! one, else `.default`.
//!
//! **Single machines.** `vm start NAME --eth0=CD` is Netkit's `vstart`: the guest lives
//! in a scratch lab (`$FLOWLAB_VM_DIR`, else `<data dir>/vms`), whose hubs the `vm`
//! guests share; `vm halt` stops a hub once no running `vm` guest uses its domain.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::hubs::{self, DomainSpec, HubError, HubMode, SwitchMode};
use crate::image::{self, BuildOptions, ImageError, ImageKind, ImageStore, Progress};
use crate::lab::{Addresses, Dialect, Image, Lab, LabError, Machine, StartPlan, Warning};
use crate::state::{stop_record, LabState, Record, RecordKind, StateError, STOP_GRACE};
use crate::uml::{
    self, parse_console_pty, Agent, AgentError, ExecOutput, Guest, GuestError, GuestSpec,
    HaltOutcome, Mac, RootDisk, SpawnOptions, Transport, ATTACH_CONSOLE_LINE,
};

/// How long a machine may take from spawn to `.ready` on the busybox image.
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `halt` waits for a guest to shut down after mconsole `cad`.
pub const HALT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default timeout of `exec`.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// Guest memory on the Debian image when lab.conf says nothing (MiB).
pub const DEBIAN_MEM_MB: u32 = 128;
/// Lines of a failed machine's console log that are printed.
pub const LOG_TAIL_LINES: usize = 20;

/// Something a launcher command could not do.
#[derive(Debug, Error)]
pub enum LaunchError {
    /// The lab folder does not load (the message is `file:line: ...` and a hint).
    #[error("{0}")]
    Lab(#[from] LabError),
    /// The lab directory does not exist.
    #[error("{0}: no such lab directory")]
    NoDir(PathBuf),
    /// The state dir could not be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// A hub or the controller could not be started.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// An image could not be built or found.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A guest could not be started, found or stopped.
    #[error("{name}: {source}")]
    Guest {
        /// The machine.
        name: String,
        /// What went wrong.
        source: GuestError,
    },
    /// An exec failed.
    #[error("exec on {name}: {source}")]
    Exec {
        /// The machine.
        name: String,
        /// What went wrong.
        source: AgentError,
    },
    /// The lab (or all the machines asked for) already runs.
    #[error("lab {dir} is already running (pids {pids}); halt or clean it first, or name machines that are not running")]
    AlreadyRunning {
        /// The lab.
        dir: PathBuf,
        /// The running processes, space-separated.
        pids: String,
    },
    /// The machine does not run.
    #[error("machine {name} of lab {dir} is not running")]
    NotRunning {
        /// The lab.
        dir: PathBuf,
        /// The machine.
        name: String,
    },
    /// The machine is not in the lab.
    #[error("lab {dir} has no machine `{name}` (machines: {known})")]
    UnknownMachine {
        /// The lab.
        dir: PathBuf,
        /// The name given.
        name: String,
        /// The lab's machines.
        known: String,
    },
    /// The collision domain has no running hub.
    #[error("collision domain `{name}` of lab {dir} has no running hub (domains: {known})")]
    UnknownDomain {
        /// The lab.
        dir: PathBuf,
        /// The name given.
        name: String,
        /// The running domains.
        known: String,
    },
    /// A machine failed to boot; everything this start launched was stopped.
    #[error("{name} failed to boot: {why}\n  console log: {log}\n{tail}\nstopped the machines this start launched; `flowlab clean` removes the logs")]
    BootFailed {
        /// The machine.
        name: String,
        /// Why.
        why: String,
        /// Its console log.
        log: PathBuf,
        /// The last lines of the log, indented.
        tail: String,
    },
    /// A bad argument (a machine name, an interface option).
    #[error("{0}")]
    Invalid(String),
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> LaunchError {
    let what = what.into();
    move |source| LaunchError::Io { what, source }
}

fn guest_err(name: &str) -> impl FnOnce(GuestError) -> LaunchError + '_ {
    move |source| LaunchError::Guest {
        name: name.to_string(),
        source,
    }
}

/// Messages and progress for the user, on stderr. On a terminal the progress line is
/// rewritten in place; otherwise each change is one line.
#[derive(Debug)]
pub struct Ui {
    tty: bool,
    quiet: bool,
    last: String,
    transient: bool,
}

impl Ui {
    /// Writes to stderr, in place when stderr is a terminal.
    pub fn stderr() -> Ui {
        Ui {
            tty: io::stderr().is_terminal(),
            quiet: false,
            last: String::new(),
            transient: false,
        }
    }

    /// Prints only warnings and errors (for tests and scripts).
    pub fn quiet() -> Ui {
        Ui {
            tty: false,
            quiet: true,
            last: String::new(),
            transient: false,
        }
    }

    fn clear(&mut self) {
        if self.transient {
            eprint!("\r\x1b[K");
            self.transient = false;
        }
    }

    /// A message line.
    pub fn line(&mut self, msg: &str) {
        if self.quiet {
            return;
        }
        self.clear();
        eprintln!("{msg}");
    }

    /// A warning (printed even when quiet).
    pub fn warn(&mut self, msg: &str) {
        self.clear();
        eprintln!("warning: {msg}");
    }

    /// A progress line: `[=====>    ] text`.
    pub fn progress(&mut self, done: u64, total: u64, text: &str) {
        if self.quiet {
            return;
        }
        let line = format!("{} {text}", bar(done, total, 20));
        if line == self.last {
            return;
        }
        self.last = line.clone();
        if self.tty {
            eprint!("\r\x1b[K{line}");
            let _ = io::stderr().flush();
            self.transient = true;
        } else {
            eprintln!("{line}");
        }
    }

    /// Ends a progress line.
    pub fn done(&mut self) {
        self.clear();
        self.last.clear();
    }
}

/// A text progress bar `[=====>    ]` of `width` cells.
pub fn bar(done: u64, total: u64, width: usize) -> String {
    let total = total.max(1);
    let filled = ((done.min(total) as u128 * width as u128) / total as u128) as usize;
    let mut s = String::with_capacity(width + 2);
    s.push('[');
    for i in 0..width {
        s.push(if i < filled {
            '='
        } else if i == filled && done < total {
            '>'
        } else {
            ' '
        });
    }
    s.push(']');
    s
}

/// The lab directory, absolute and with symlinks resolved.
pub fn lab_dir(dir: &Path) -> Result<PathBuf, LaunchError> {
    let d = fs::canonicalize(dir).map_err(|_| LaunchError::NoDir(dir.to_path_buf()))?;
    if !d.is_dir() {
        return Err(LaunchError::NoDir(dir.to_path_buf()));
    }
    Ok(d)
}

/// Loads the lab in `dir` and prints its warnings.
pub fn load_lab(dir: &Path, dialect: Option<Dialect>, ui: &mut Ui) -> Result<Lab, LaunchError> {
    let (lab, warnings) = Lab::load(dir, dialect)?;
    print_warnings(&warnings, ui);
    Ok(lab)
}

fn print_warnings(warnings: &[Warning], ui: &mut Ui) {
    for w in warnings {
        ui.warn(&w.to_string());
    }
}

/// A stable locally administered MAC for `machine`'s `ethN`: `02:` and five bytes of a
/// hash of the name and number (the same in every copy of a lab).
pub fn stable_mac(machine: &str, index: u32, salt: u32) -> Mac {
    let key = format!("{machine}\0{index}\0{salt}");
    let h = crate::state::fnv1a(key.as_bytes()).to_be_bytes();
    Mac([0x02, h[0], h[1], h[2], h[3], h[4]])
}

/// The MACs of every interface of the lab: lab.conf's, else [`stable_mac`], never two the
/// same.
pub fn lab_macs(lab: &Lab) -> BTreeMap<(String, u32), Mac> {
    let mut out = BTreeMap::new();
    let mut used: Vec<Mac> = lab
        .machines
        .iter()
        .flat_map(|m| m.interfaces.iter().filter_map(|i| i.mac.map(|x| Mac(x.0))))
        .collect();
    for m in &lab.machines {
        for i in &m.interfaces {
            let mac = match i.mac {
                Some(x) => Mac(x.0),
                None => {
                    let mut salt = 0;
                    let mut mac = stable_mac(&m.name, i.index, salt);
                    while used.contains(&mac) {
                        salt += 1;
                        mac = stable_mac(&m.name, i.index, salt);
                    }
                    used.push(mac);
                    mac
                }
            };
            out.insert((m.name.clone(), i.index), mac);
        }
    }
    out
}

/// A TMPDIR for UML's memory file: `None` (UML uses `/dev/shm`) unless `/dev/shm` is
/// missing or mounted `noexec`; then `fallback`.
pub fn uml_tmpdir(mounts: &str, fallback: &Path) -> Option<PathBuf> {
    let shm = mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 4 && f[1] == "/dev/shm").then(|| f[3].split(',').any(|o| o == "noexec"))
    });
    match shm {
        Some(false) => None,
        _ => Some(fallback.to_path_buf()),
    }
}

/// Options of `flowlab start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartOptions {
    /// The lab directory.
    pub dir: PathBuf,
    /// Force a lab.conf dialect.
    pub dialect: Option<Dialect>,
    /// At most this many guests boot at once (0: no cap).
    pub parallel: usize,
    /// How the collision domains forward.
    pub mode: HubMode,
    /// Start only these machines (and what they depend on in lab.dep); empty: all.
    pub machines: Vec<String>,
    /// The image of machines whose lab.conf names none (default busybox).
    pub image: Option<ImageKind>,
    /// How long one machine may take to become ready (default [`READY_TIMEOUT`]; twice
    /// that on the Debian image).
    pub ready_timeout: Option<Duration>,
    /// How the guests' interfaces reach their hubs (default daemon, as Netkit).
    pub transport: Transport,
    /// Pin each guest to one CPU once it is up, round-robin in lab order (default; see
    /// [`crate::uml`]'s "CPU placement"). False leaves placement to the scheduler.
    pub pin: bool,
}

impl StartOptions {
    /// All machines of `dir`, hub mode, no cap, busybox by default.
    pub fn new(dir: impl Into<PathBuf>) -> StartOptions {
        StartOptions {
            dir: dir.into(),
            dialect: None,
            parallel: 0,
            mode: HubMode::Plain(SwitchMode::Hub),
            machines: Vec::new(),
            image: None,
            ready_timeout: None,
            transport: Transport::Daemon,
            pin: true,
        }
    }
}

/// What `start` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartReport {
    /// The machines started, with the time each took to become ready.
    pub started: Vec<(String, Duration)>,
    /// Named machines that were running already.
    pub already_running: Vec<String>,
    /// From the first process started to the last machine ready.
    pub elapsed: Duration,
}

/// The lab.conf options of `m` that the launcher cannot honour on a UML guest.
pub fn ignored_options(m: &Machine) -> Vec<&'static str> {
    let o = &m.options;
    let mut v = Vec::new();
    if !o.sysctl.is_empty() {
        v.push("sysctl");
    }
    if !o.env.is_empty() {
        v.push("env");
    }
    if o.ipv6.is_some() {
        v.push("ipv6");
    }
    if o.con0.is_some() {
        v.push("con0");
    }
    if o.con1.is_some() {
        v.push("con1");
    }
    v
}

fn image_of(m: &Machine, default: ImageKind) -> ImageKind {
    match m.image {
        Some(Image::Busybox) => ImageKind::Busybox,
        Some(Image::Debian) => ImageKind::Debian,
        None => default,
    }
}

/// The default image: `FLOWLAB_IMAGE` (busybox or debian), else busybox.
pub fn default_image() -> ImageKind {
    std::env::var("FLOWLAB_IMAGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ImageKind::Busybox)
}

/// Finds (or builds, with a progress bar) the image of `kind` in the default store.
pub fn ensure_image(kind: ImageKind, ui: &mut Ui) -> Result<PathBuf, LaunchError> {
    let store = ImageStore::open_default()?;
    let opts = BuildOptions::default();
    if let Some(p) = store.find(kind, &opts)? {
        return Ok(p);
    }
    ui.line(&format!(
        "building the {kind} image in {} (once)",
        store.dir().display()
    ));
    let p = store.ensure(kind, &opts, &mut |p: &Progress| {
        ui.progress(p.done, p.total, &p.message)
    })?;
    ui.done();
    Ok(p)
}

/// The spec used to find a running guest again (attach, halt, crash): everything but the
/// root disk is what `start` used.
pub fn attach_spec(state: &LabState, name: &str) -> GuestSpec {
    let mut s = GuestSpec::new(
        name,
        name,
        RootDisk::Cow {
            cow: state.cow_file(name),
            base: PathBuf::from("/"),
        },
        state.guest_log(name),
        state.uml_dir(),
        None,
    );
    s.hostlab = Some(state.lab_dir().to_path_buf());
    s.agent_dir = Some(state.agent_dir(name));
    s.pid_file = Some(state.pid_file(name));
    s
}

/// The full spec of guest `name` (interfaces as (index, domain, MAC, tap)).
struct GuestPlan<'a> {
    name: &'a str,
    interfaces: Vec<(u32, String, Option<Mac>, Option<crate::lab::TapSpec>)>,
    mem_mb: Option<u32>,
    kernel: Option<String>,
    exec: Vec<String>,
    append: Option<String>,
    copy_always: bool,
    transport: Transport,
}

fn build_spec(
    state: &LabState,
    plan: &GuestPlan<'_>,
    base: &Path,
    kind: ImageKind,
    tmpdir: Option<PathBuf>,
) -> GuestSpec {
    let name = plan.name;
    let machine = uml::host_machine();
    let mut s = GuestSpec::new(
        name,
        name,
        RootDisk::Cow {
            cow: state.cow_file(name),
            base: base.to_path_buf(),
        },
        state.guest_log(name),
        state.uml_dir(),
        Some(&machine),
    );
    s.mem_mb = plan.mem_mb.unwrap_or(match kind {
        ImageKind::Busybox => uml::DEFAULT_MEM_MB,
        ImageKind::Debian => DEBIAN_MEM_MB,
    });
    if let Some(k) = &plan.kernel {
        s.kernel = PathBuf::from(k);
    }
    let mut first_tap = true;
    for (index, domain, mac, tap) in &plan.interfaces {
        s.interfaces.push(uml::Interface {
            index: *index,
            socket: match plan.transport {
                Transport::Daemon => state.hub_socket(domain),
                Transport::Bess => state.hub_bess_socket(domain),
            },
            mac: *mac,
            transport: plan.transport,
        });
        if let Some(t) = tap {
            s.append
                .push(format!("autoconf_eth{index}={}", t.guest_addr));
            if first_tap {
                s.append.push(format!("def_route={}", t.tap_addr));
                first_tap = false;
            }
        }
    }
    s.hostlab = Some(state.lab_dir().to_path_buf());
    s.agent_dir = Some(state.agent_dir(name));
    s.pid_file = Some(state.pid_file(name));
    if !plan.exec.is_empty() {
        s.exec = Some(plan.exec.join("; "));
    }
    if let Some(a) = &plan.append {
        s.append.extend(a.split_whitespace().map(|w| w.to_string()));
    }
    s.copy_always = plan.copy_always;
    s.attach_console = true;
    s.tmpdir = tmpdir;
    s
}

/// Removes a COW file made on another image than `base` (a rebuilt image), and records
/// `base` for the next boot. Returns true when an old COW was dropped.
fn check_cow(state: &LabState, name: &str, base: &Path) -> Result<bool, LaunchError> {
    let cow = state.cow_file(name);
    let stamp = state.cow_base_file(name);
    // The base by path and identity: an image rebuilt in place (`image build --force`)
    // has the same path but another inode and time, and a COW file made against the old
    // one would make the guest's root unreadable.
    let identity = {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(base).map_err(io_err(format!("reading {}", base.display())))?;
        format!(
            "{}\n{} {} {}.{}\n",
            base.display(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec()
        )
    };
    let mut dropped = false;
    if cow.exists() {
        let made_on = fs::read_to_string(&stamp).unwrap_or_default();
        if made_on != identity {
            fs::remove_file(&cow).map_err(io_err(format!("removing {}", cow.display())))?;
            dropped = true;
        }
    }
    fs::write(&stamp, identity).map_err(io_err(format!("writing {}", stamp.display())))?;
    Ok(dropped)
}

fn interfaces_extra(plan: &GuestPlan<'_>) -> String {
    plan.interfaces
        .iter()
        .map(|(i, d, _, _)| format!("eth{i}={d}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Stops the lab's hubs, controller and tap devices when no guest of the lab runs any
/// more (call with the lock held). Returns true when it did.
fn stop_network_if_idle(state: &LabState) -> Result<bool, LaunchError> {
    let running = state.running();
    if running.iter().any(|r| r.kind == RecordKind::Guest) {
        return Ok(false);
    }
    stop_records(
        state,
        running
            .into_iter()
            .filter(|r| r.kind != RecordKind::Guest)
            .collect(),
    )?;
    Ok(true)
}

/// Stops records (hubs before the controller) and removes them from the state.
fn stop_records(state: &LabState, mut recs: Vec<Record>) -> Result<(), LaunchError> {
    recs.sort_by_key(|r| match r.kind {
        RecordKind::Guest => 0,
        RecordKind::Hub => 1,
        RecordKind::Controller => 2,
        RecordKind::Tap => 3,
    });
    let mut survivors = Vec::new();
    for r in &recs {
        if let Err(left) = stop_record(r, STOP_GRACE) {
            survivors.extend(left);
        }
        if r.kind == RecordKind::Hub {
            let _ = fs::remove_file(state.hub_socket(&r.name));
            let _ = fs::remove_file(state.hub_of_socket(&r.name));
            let _ = fs::remove_file(state.hub_bess_socket(&r.name));
        }
        if r.kind == RecordKind::Controller {
            let _ = fs::remove_file(state.controller_socket());
        }
    }
    state.remove_records(|r| recs.contains(r))?;
    if survivors.is_empty() {
        Ok(())
    } else {
        Err(StateError::Unkillable(survivors).into())
    }
}

fn pid_text(recs: &[Record]) -> String {
    recs.iter()
        .filter(|r| r.pid > 0)
        .map(|r| r.pid.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `flowlab start`: see the module documentation.
pub fn start(opts: &StartOptions, ui: &mut Ui) -> Result<StartReport, LaunchError> {
    let dir = lab_dir(&opts.dir)?;
    let lab = load_lab(&dir, opts.dialect, ui)?;
    let state = LabState::new(&dir);

    // The machines asked for.
    let mut selected: Vec<&str> = Vec::new();
    for n in &opts.machines {
        if lab.machine(n).is_some() {
            selected.push(n);
        } else {
            ui.warn(&format!(
                "lab {} has no machine `{n}`; skipped",
                dir.display()
            ));
        }
    }
    if !opts.machines.is_empty() && selected.is_empty() {
        return Err(LaunchError::UnknownMachine {
            dir: dir.clone(),
            name: opts.machines.join(" "),
            known: lab.machine_names().join(" "),
        });
    }
    let order: Vec<String> = lab
        .start_waves(&selected, 0)
        .into_iter()
        .flatten()
        .collect();

    // Tap domains need root: refuse before anything starts.
    let conf = lab
        .conf_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "lab.conf".into());
    for m in order.iter().filter_map(|n| lab.machine(n)) {
        for i in &m.interfaces {
            if i.tap.is_some() {
                hubs::check_tap_allowed(hubs::is_root(), &i.domain, &format!("{conf}:{}", i.line))?;
            }
        }
    }

    let created = !state.exists();
    let lock = state.lock().map_err(|e| match e {
        StateError::Busy { dir, pids, holder } => LaunchError::AlreadyRunning {
            dir,
            pids: if pids.is_empty() {
                format!("flowlab {holder}")
            } else {
                pids.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        },
        e => e.into(),
    })?;
    let result = start_locked(opts, &lab, &state, &order, ui);
    if result.is_err() && created && state.running().is_empty() {
        if let Err(LaunchError::BootFailed { .. }) = &result {
            // Keep the logs the message points at.
        } else {
            drop(lock);
            let _ = fs::remove_dir_all(state.root());
            return result;
        }
    }
    drop(lock);
    result
}

fn start_locked(
    opts: &StartOptions,
    lab: &Lab,
    state: &LabState,
    order: &[String],
    ui: &mut Ui,
) -> Result<StartReport, LaunchError> {
    let dir = state.lab_dir().to_path_buf();
    let running = state.running();
    let running_guests: Vec<String> = running
        .iter()
        .filter(|r| r.kind == RecordKind::Guest)
        .map(|r| r.name.clone())
        .collect();
    let to_start: Vec<&str> = order
        .iter()
        .map(String::as_str)
        .filter(|n| !running_guests.iter().any(|r| r == n))
        .collect();
    let already: Vec<String> = order
        .iter()
        .filter(|n| running_guests.contains(n))
        .cloned()
        .collect();
    if !running_guests.is_empty() && (opts.machines.is_empty() || to_start.is_empty()) {
        return Err(LaunchError::AlreadyRunning {
            dir,
            pids: pid_text(&running),
        });
    }
    for n in &already {
        ui.line(&format!("{n} is already running"));
    }
    for m in to_start.iter().filter_map(|n| lab.machine(n)) {
        let ignored = ignored_options(m);
        if !ignored.is_empty() {
            ui.warn(&format!(
                "{}: lab.conf option{} {} not supported by flowlab's UML guests; ignored",
                m.name,
                if ignored.len() == 1 { "" } else { "s" },
                ignored.join(", ")
            ));
        }
    }

    // The hub mode: a running lab keeps its own.
    let mut mode = opts.mode.clone();
    if running.iter().any(|r| r.kind == RecordKind::Hub) {
        if let Some(m) = state.option("mode").and_then(|s| HubMode::from_option(&s)) {
            if m != mode {
                ui.warn(&format!(
                    "the lab's hubs run in mode {}; keeping it",
                    m.to_option()
                ));
            }
            mode = m;
        }
    }

    // Images first: building one can take minutes, and may fail.
    let default = opts.image.unwrap_or_else(default_image);
    let mut bases: BTreeMap<&'static str, (ImageKind, PathBuf)> = BTreeMap::new();
    for n in &to_start {
        let Some(m) = lab.machine(n) else { continue };
        let kind = image_of(m, default);
        if !bases.contains_key(kind.name()) {
            let p = ensure_image(kind, ui)?;
            bases.insert(kind.name(), (kind, p));
        }
    }

    let vms: Vec<&str> = lab.machines.iter().map(|m| m.name.as_str()).collect();
    let cds: Vec<&str> = lab.domains.iter().map(|d| d.name.as_str()).collect();
    state.prepare(Some((&vms, &cds)))?;
    state.save_options(&[
        ("mode", mode.to_option()),
        ("dialect", lab.dialect.as_str().to_string()),
        ("image", default.name().to_string()),
    ])?;
    let t0 = Instant::now();

    // The network: controller, then one hub per domain the machines use.
    let mut domains: Vec<&str> = Vec::new();
    for m in to_start.iter().filter_map(|n| lab.machine(n)) {
        for i in &m.interfaces {
            if !domains.contains(&i.domain.as_str()) {
                domains.push(&i.domain);
            }
        }
    }
    if let Err(e) = start_network(state, lab, &domains, &mode, ui) {
        let _ = stop_network_if_idle(state);
        return Err(e);
    }

    // The guests.
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let tmpdir = uml_tmpdir(&mounts, &state.tmp_dir());
    if let Some(t) = &tmpdir {
        fs::create_dir_all(t).map_err(io_err(format!("creating {}", t.display())))?;
    }
    let ctx = BootContext {
        lab,
        state,
        bases: &bases,
        default,
        macs: lab_macs(lab),
        tmpdir,
        ready_timeout: opts.ready_timeout,
        transport: opts.transport,
        cpus: if opts.pin { pin_cpus() } else { Vec::new() },
    };
    let mut plan = StartPlan::new(order, lab.dep.as_ref(), opts.parallel);
    for n in &already {
        plan.handle_ready(n);
    }
    let ready = match boot_guests(&ctx, &mut plan, to_start.len(), ui, t0) {
        Ok(r) => r,
        Err((f, launched)) => {
            // The guests this start launched are stopped already (dropped).
            state.remove_records(|r| r.kind == RecordKind::Guest && launched.contains(&r.name))?;
            let _ = stop_network_if_idle(state);
            let tail = if f.tail.is_empty() {
                hubs::file_tail(&f.log, LOG_TAIL_LINES)
            } else {
                f.tail
            };
            return Err(LaunchError::BootFailed {
                name: f.name,
                why: f.why,
                log: f.log,
                tail: indent(&tail),
            });
        }
    };
    let started: Vec<(String, Duration)> = ready
        .into_iter()
        .map(|(n, g, d)| {
            g.detach();
            (n, d)
        })
        .collect();
    ui.line(&format!(
        "lab {}: {} machine{} up in {:.1}s ({} mode)",
        dir.display(),
        started.len(),
        if started.len() == 1 { "" } else { "s" },
        t0.elapsed().as_secs_f64(),
        mode.to_option()
    ));
    Ok(StartReport {
        started,
        already_running: already,
        elapsed: t0.elapsed(),
    })
}

/// Starts the controller (OpenFlow mode) and the hubs of `domains`, then waits for every
/// hub to reach the controller.
fn start_network(
    state: &LabState,
    lab: &Lab,
    domains: &[&str],
    mode: &HubMode,
    ui: &mut Ui,
) -> Result<(), LaunchError> {
    if let HubMode::OpenFlow { apps } = mode {
        hubs::ensure_controller(state, apps)?;
    }
    for (idx, d) in lab.domains.iter().enumerate() {
        if !domains.contains(&d.name.as_str()) {
            continue;
        }
        hubs::ensure_hub(
            state,
            &DomainSpec {
                name: d.name.clone(),
                dpid: hubs::dpid_for(idx),
                tap_addr: d.tap.map(|t| t.tap_addr),
            },
            mode,
        )?;
    }
    if let HubMode::OpenFlow { .. } = mode {
        for d in domains {
            if !hubs::wait_controller_connected(&state.hub_socket(d), Duration::from_secs(10)) {
                ui.warn(&format!(
                    "the hub of {d} is not connected to the controller yet (log {})",
                    state.hub_log(d).display()
                ));
            }
        }
    }
    Ok(())
}

/// What booting guests need.
struct BootContext<'a> {
    lab: &'a Lab,
    state: &'a LabState,
    bases: &'a BTreeMap<&'static str, (ImageKind, PathBuf)>,
    default: ImageKind,
    macs: BTreeMap<(String, u32), Mac>,
    tmpdir: Option<PathBuf>,
    ready_timeout: Option<Duration>,
    transport: Transport,
    /// CPUs to spread guests over (empty: no pinning).
    cpus: Vec<usize>,
}

/// The CPUs guests are pinned to: those this process may use, or none (no pinning) when
/// there is only one.
pub fn pin_cpus() -> Vec<usize> {
    let cpus = uml::process::allowed_cpus();
    if cpus.len() > 1 {
        cpus
    } else {
        Vec::new()
    }
}

/// The CPU a lab machine is pinned to once it is up: round-robin in lab order.
fn machine_cpu(ctx: &BootContext<'_>, name: &str) -> Option<usize> {
    let index = ctx.lab.machines.iter().position(|m| m.name == name)?;
    cpu_for(&ctx.cpus, index)
}

/// The CPU of the `index`-th guest: round-robin over `cpus`, None when `cpus` is empty.
pub fn cpu_for(cpus: &[usize], index: usize) -> Option<usize> {
    (!cpus.is_empty()).then(|| cpus[index % cpus.len()])
}

/// A machine that did not boot.
struct BootFailure {
    name: String,
    why: String,
    log: PathBuf,
    tail: String,
}

impl BootFailure {
    fn new(name: &str, why: impl Into<String>, log: PathBuf, tail: String) -> BootFailure {
        BootFailure {
            name: name.to_string(),
            why: why.into(),
            log,
            tail,
        }
    }
}

/// A guest that is booting: its handle, when it started, how long it may take.
type Booting = (String, Guest, Instant, Duration);

/// A guest that booted, and how long it took.
type Booted = (String, Guest, Duration);

/// Spawns machine `name` and records it.
fn spawn_machine(ctx: &BootContext<'_>, name: &str) -> Result<Booting, BootFailure> {
    let state = ctx.state;
    let log = state.guest_log(name);
    let fail = |why: String| BootFailure::new(name, why, log.clone(), String::new());
    let m = ctx
        .lab
        .machine(name)
        .ok_or_else(|| fail("not in the lab".into()))?;
    let kind = image_of(m, ctx.default);
    let (_, base) = ctx
        .bases
        .get(kind.name())
        .ok_or_else(|| fail(format!("no {kind} image")))?;
    let plan = GuestPlan {
        name: &m.name,
        interfaces: m
            .interfaces
            .iter()
            .map(|i| {
                (
                    i.index,
                    i.domain.clone(),
                    ctx.macs.get(&(m.name.clone(), i.index)).copied(),
                    i.tap,
                )
            })
            .collect(),
        mem_mb: m.options.mem_mb,
        kernel: m.options.kernel.clone(),
        exec: m.options.exec.clone(),
        append: m.options.append.clone(),
        copy_always: ctx.lab.dialect == Dialect::Kathara,
        transport: ctx.transport,
    };
    if ctx.transport == Transport::Bess {
        for i in &m.interfaces {
            let b = state.hub_bess_socket(&i.domain);
            if !b.exists() {
                return Err(fail(format!(
                    "the hub of collision domain {} has no vector-transport socket {} \
                     (a hub started by an older flowlab?): halt the lab first, or start \
                     it with --transport daemon",
                    i.domain,
                    b.display()
                )));
            }
        }
    }
    if check_cow(state, name, base).map_err(|e| fail(e.to_string()))? {
        eprintln!(
            "{name}: its disk was made on another build of the image; it starts from a fresh disk"
        );
    }
    let spec = build_spec(state, &plan, base, kind, ctx.tmpdir.clone());
    let guest = Guest::spawn_with(
        &spec,
        SpawnOptions {
            die_with_parent: false,
            kill_on_drop: true,
        },
    )
    .map_err(|e| fail(e.to_string()))?;
    state
        .add_record(&Record::for_process(
            RecordKind::Guest,
            name,
            guest.pid(),
            &interfaces_extra(&plan),
        ))
        .map_err(|e| fail(e.to_string()))?;
    let timeout = ctx.ready_timeout.unwrap_or(match kind {
        ImageKind::Busybox => READY_TIMEOUT,
        ImageKind::Debian => READY_TIMEOUT * 2,
    });
    Ok((name.to_string(), guest, Instant::now(), timeout))
}

/// Whether a booting guest is ready (`Ok(true)`), still booting (`Ok(false)`), or failed.
fn poll_booting(b: &mut Booting) -> Result<bool, BootFailure> {
    let (name, guest, since, timeout) = b;
    match guest.wait_ready(Duration::ZERO) {
        Ok(_) => Ok(true),
        Err(GuestError::NotReady { .. }) if since.elapsed() < *timeout => Ok(false),
        Err(GuestError::NotReady { log, tail, .. }) => Err(BootFailure::new(
            name,
            format!("no {name}.ready after {:.0?}", since.elapsed()),
            log,
            tail,
        )),
        Err(GuestError::Exited {
            status, log, tail, ..
        }) => Err(BootFailure::new(
            name,
            format!("the guest exited before it was ready ({status})"),
            log,
            tail,
        )),
        Err(e) => Err(BootFailure::new(
            name,
            e.to_string(),
            guest.spec().console_log.clone(),
            guest.console_tail(LOG_TAIL_LINES),
        )),
    }
}

/// Runs `plan` to the end: spawns what it releases, polls the booting guests, shows
/// progress. Returns the guests (still owned: dropping one kills it) with their boot
/// times; on a failure every guest launched here is dropped, so stopped, and their names
/// come back with the failure.
fn boot_guests(
    ctx: &BootContext<'_>,
    plan: &mut StartPlan,
    total: usize,
    ui: &mut Ui,
    t0: Instant,
) -> Result<Vec<Booted>, (BootFailure, Vec<String>)> {
    let mut booting: Vec<Booting> = Vec::new();
    let mut ready: Vec<Booted> = Vec::new();
    let failure = 'boot: loop {
        while let Some(name) = plan.poll_start() {
            match spawn_machine(ctx, &name) {
                Ok(b) => booting.push(b),
                Err(f) => break 'boot f,
            }
        }
        let mut i = 0;
        while i < booting.len() {
            match poll_booting(&mut booting[i]) {
                Ok(true) => {
                    let (name, guest, since, _) = booting.remove(i);
                    if let Some(c) = machine_cpu(ctx, &name) {
                        uml::process::pin_group(guest.pid(), c);
                    }
                    plan.handle_ready(&name);
                    ready.push((name, guest, since.elapsed()));
                }
                Ok(false) => i += 1,
                Err(f) => break 'boot f,
            }
        }
        if !booting.is_empty() {
            let names: Vec<&str> = booting.iter().map(|(n, ..)| n.as_str()).collect();
            let clock = if ui.tty {
                format!(" ({}s)", t0.elapsed().as_secs())
            } else {
                String::new()
            };
            ui.progress(
                ready.len() as u64,
                total as u64,
                &format!(
                    "booting {}/{total}: {}{clock}",
                    ready.len(),
                    names.join(" ")
                ),
            );
        }
        if plan.is_finished() {
            ui.done();
            return Ok(ready);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    ui.done();
    let launched: Vec<String> = booting
        .iter()
        .map(|(n, ..)| n.clone())
        .chain(ready.iter().map(|(n, ..)| n.clone()))
        .chain(std::iter::once(failure.name.clone()))
        .collect();
    drop(booting);
    drop(ready);
    Err((failure, launched))
}

/// How one machine was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// The machine.
    pub name: String,
    /// What happened.
    pub outcome: String,
}

/// The running guests of a lab among `machines` (all when empty); unknown or stopped
/// names are warned about.
fn selected_guests(state: &LabState, machines: &[String], ui: &mut Ui) -> Vec<Record> {
    let guests: Vec<Record> = state
        .running()
        .into_iter()
        .filter(|r| r.kind == RecordKind::Guest)
        .collect();
    if machines.is_empty() {
        return guests;
    }
    for m in machines {
        if !guests.iter().any(|g| &g.name == m) {
            ui.warn(&format!("{m} is not running; skipped"));
        }
    }
    guests
        .into_iter()
        .filter(|g| machines.contains(&g.name))
        .collect()
}

/// `flowlab halt [MACHINE...]`: mconsole `cad` to each (their `.shutdown` files run), in
/// parallel, then SIGTERM and SIGKILL for those that do not stop within `timeout`. The
/// COW files stay. The hubs stop once no guest of the lab runs.
pub fn halt(
    dir: &Path,
    machines: &[String],
    timeout: Duration,
    ui: &mut Ui,
) -> Result<Vec<Stopped>, LaunchError> {
    stop_guests(dir, machines, ui, |state, r| {
        let spec = attach_spec(state, &r.name);
        match Guest::attach(&spec) {
            Ok(mut g) => match g.halt(timeout) {
                Ok(HaltOutcome::Clean) => "halted".to_string(),
                Ok(HaltOutcome::Terminated) => "did not halt in time: terminated".to_string(),
                Ok(HaltOutcome::Killed) => "did not halt in time: killed".to_string(),
                Ok(HaltOutcome::NotRunning) => "was not running".to_string(),
                Err(e) => format!("error: {e}"),
            },
            Err(_) => match stop_record(r, STOP_GRACE) {
                Ok(()) => "terminated".to_string(),
                Err(left) => format!("processes {left:?} survived"),
            },
        }
    })
}

/// `flowlab crash [MACHINE...]`: SIGKILL to each guest's process group, at once. As
/// Netkit's `lcrash`, the COW files are deleted unless `keep_fs`.
pub fn crash(
    dir: &Path,
    machines: &[String],
    keep_fs: bool,
    ui: &mut Ui,
) -> Result<Vec<Stopped>, LaunchError> {
    stop_guests(dir, machines, ui, |state, r| {
        let spec = attach_spec(state, &r.name);
        let mut out = match Guest::attach(&spec) {
            Ok(mut g) => match g.crash() {
                Ok(()) => "crashed".to_string(),
                Err(e) => format!("error: {e}"),
            },
            Err(_) => match stop_record(r, Duration::ZERO) {
                Ok(()) => "killed".to_string(),
                Err(left) => format!("processes {left:?} survived"),
            },
        };
        if !keep_fs {
            let _ = fs::remove_file(state.cow_file(&r.name));
            let _ = fs::remove_file(state.cow_base_file(&r.name));
            out.push_str(", disk removed");
        }
        out
    })
}

fn stop_guests(
    dir: &Path,
    machines: &[String],
    ui: &mut Ui,
    stop: impl Fn(&LabState, &Record) -> String + Sync,
) -> Result<Vec<Stopped>, LaunchError> {
    let dir = lab_dir(dir)?;
    let state = LabState::new(&dir);
    if !state.exists() {
        ui.line(&format!("lab {} is not running", dir.display()));
        return Ok(Vec::new());
    }
    let _lock = state.lock()?;
    let guests = selected_guests(&state, machines, ui);
    let mut out = Vec::new();
    std::thread::scope(|s| {
        let hs: Vec<_> = guests
            .iter()
            .map(|r| {
                let state = &state;
                let stop = &stop;
                s.spawn(move || stop(state, r))
            })
            .collect();
        for (r, h) in guests.iter().zip(hs) {
            let outcome = h.join().unwrap_or_else(|_| "error: panicked".into());
            out.push(Stopped {
                name: r.name.clone(),
                outcome,
            });
        }
    });
    for s in &out {
        ui.line(&format!("{}: {}", s.name, s.outcome));
        let _ = fs::remove_file(state.ready_file(&s.name));
    }
    state.remove_records(|r| r.kind == RecordKind::Guest && guests.contains(r))?;
    if stop_network_if_idle(&state)? && !guests.is_empty() {
        ui.line("no machine left: hubs stopped");
    }
    Ok(out)
}

/// `flowlab clean`: see [`LabState::clean`]. The lab's machine names (when the lab
/// loads) get their `.ready` files removed too.
pub fn clean(dir: &Path, ui: &mut Ui) -> Result<crate::state::CleanReport, LaunchError> {
    let dir = lab_dir(dir)?;
    let names = Lab::load(&dir, None)
        .map(|(l, _)| l.machine_names())
        .unwrap_or_default();
    let state = LabState::new(&dir);
    let report = state.clean(&names)?;
    if report.is_empty() {
        ui.line(&format!("lab {}: nothing to clean", dir.display()));
    } else {
        ui.line(&format!(
            "lab {}: stopped {} process{}, removed {} file{}",
            dir.display(),
            report.stopped.len() + report.strays.len(),
            if report.stopped.len() + report.strays.len() == 1 {
                ""
            } else {
                "es"
            },
            report.removed.len(),
            if report.removed.len() == 1 { "" } else { "s" },
        ));
    }
    Ok(report)
}

/// `flowlab exec MACHINE -- CMD...`: runs `argv` in the guest through its exec agent (one
/// argument is run as a shell script, so `flowlab exec pc1 -- 'ip a; ip r'` works).
pub fn exec(
    dir: &Path,
    machine: &str,
    argv: &[String],
    timeout: Duration,
) -> Result<ExecOutput, LaunchError> {
    let dir = lab_dir(dir)?;
    let state = LabState::new(&dir);
    if state.running_guest(machine).is_none() {
        return Err(LaunchError::NotRunning {
            dir,
            name: machine.to_string(),
        });
    }
    let agent = Agent::new(state.agent_dir(machine));
    let r = if argv.len() == 1 {
        agent.exec_script(&argv[0], timeout)
    } else {
        agent.exec(argv, timeout)
    };
    r.map_err(|source| LaunchError::Exec {
        name: machine.to_string(),
        source,
    })
}

/// Where to reach a guest's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleInfo {
    /// The host pty of its attachable console, once UML has printed it.
    pub pty: Option<PathBuf>,
    /// Its console log (kernel and init output).
    pub log: PathBuf,
}

/// The console of running machine `machine`.
pub fn console(dir: &Path, machine: &str) -> Result<ConsoleInfo, LaunchError> {
    let dir = lab_dir(dir)?;
    let state = LabState::new(&dir);
    if state.running_guest(machine).is_none() {
        return Err(LaunchError::NotRunning {
            dir,
            name: machine.to_string(),
        });
    }
    let log = state.guest_log(machine);
    let text = fs::read(&log)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Ok(ConsoleInfo {
        pty: parse_console_pty(&text, ATTACH_CONSOLE_LINE),
        log,
    })
}

/// Connects the terminal to `pty` until Ctrl-] is typed or the pty closes: stdin in raw
/// mode, bytes copied both ways.
pub fn attach_terminal(pty: &Path) -> Result<(), LaunchError> {
    use std::os::fd::AsRawFd;
    let dev = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(pty)
        .map_err(io_err(format!("opening {}", pty.display())))?;
    let pfd = dev.as_raw_fd();
    let stdin = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr on stdin with a valid pointer.
    let is_tty = unsafe { libc::tcgetattr(stdin, &mut saved) } == 0;
    if is_tty {
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the struct we own; tcsetattr applies it to stdin.
        unsafe {
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(stdin, libc::TCSANOW, &raw);
        }
    }
    eprint!("connected to {} (Ctrl-] to leave)\r\n", pty.display());
    // Nudge the guest's shell to print a prompt.
    // SAFETY: write(2) of a one-byte buffer to the pty.
    unsafe {
        libc::write(pfd, b"\n".as_ptr().cast(), 1);
    }
    let mut buf = [0u8; 4096];
    let result = loop {
        let mut fds = [
            libc::pollfd {
                fd: stdin,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pfd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on two valid pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break Err(e);
        }
        if fds[0].revents != 0 {
            // SAFETY: read into our buffer.
            let r = unsafe { libc::read(stdin, buf.as_mut_ptr().cast(), buf.len()) };
            if r <= 0 {
                break Ok(());
            }
            let data = &buf[..r as usize];
            if let Some(p) = data.iter().position(|&b| b == 0x1d) {
                // SAFETY: write the bytes before Ctrl-] to the pty.
                unsafe { libc::write(pfd, data.as_ptr().cast(), p) };
                break Ok(());
            }
            // SAFETY: write what was read to the pty.
            unsafe { libc::write(pfd, data.as_ptr().cast(), data.len()) };
        }
        if fds[1].revents != 0 {
            // SAFETY: read into our buffer.
            let r = unsafe { libc::read(pfd, buf.as_mut_ptr().cast(), buf.len()) };
            if r <= 0 {
                break Ok(());
            }
            let mut out = io::stdout();
            let _ = out.write_all(&buf[..r as usize]);
            let _ = out.flush();
        }
    };
    if is_tty {
        // SAFETY: restore the saved attributes.
        unsafe {
            libc::tcsetattr(stdin, libc::TCSANOW, &saved);
        }
    }
    eprintln!();
    result.map_err(io_err("console"))
}

/// `flowlab capture DOMAIN [-w FILE|-]`: runs `flowlab-hub ctl SOCK capture all [-w
/// FILE]` with this process's stdout; returns its exit status.
pub fn capture(dir: &Path, domain: &str, write: Option<&str>) -> Result<i32, LaunchError> {
    let dir = lab_dir(dir)?;
    let state = LabState::new(&dir);
    let hubs: Vec<Record> = state
        .running()
        .into_iter()
        .filter(|r| r.kind == RecordKind::Hub)
        .collect();
    if !hubs.iter().any(|r| r.name == domain) {
        return Err(LaunchError::UnknownDomain {
            dir,
            name: domain.to_string(),
            known: hubs
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    let program = hubs::hub_program()?;
    let mut cmd = std::process::Command::new(&program);
    cmd.arg("ctl")
        .arg(state.hub_socket(domain))
        .args(["capture", "all"]);
    if let Some(w) = write {
        cmd.args(["-w", w]);
    }
    let st = cmd
        .status()
        .map_err(io_err(format!("running {}", program.display())))?;
    Ok(st.code().unwrap_or(1))
}

/// `flowlab info`: the lab's description, machines (interfaces, domains, addresses from
/// the startup files, and whether they run), domains, and lab.dep; writes the topology
/// picture to `topology` when given. Starts nothing.
pub fn info(
    dir: &Path,
    dialect: Option<Dialect>,
    topology: Option<&Path>,
    ui: &mut Ui,
) -> Result<String, LaunchError> {
    let dir = lab_dir(dir)?;
    let lab = load_lab(&dir, dialect, ui)?;
    let addrs = Addresses::collect(&lab);
    let state = LabState::new(&dir);
    let running = state.running();
    let mut s = String::new();
    let _ = writeln!(s, "lab {} ({} dialect)", dir.display(), lab.dialect);
    let i = &lab.info;
    for (k, v) in [
        ("name", &i.name),
        ("description", &i.description),
        ("version", &i.version),
        ("author", &i.author),
        ("email", &i.email),
        ("web", &i.web),
    ] {
        if let Some(v) = v {
            let _ = writeln!(s, "  {k}: {v}");
        }
    }
    let _ = writeln!(s, "machines ({}):", lab.machines.len());
    let width = lab.machines.iter().map(|m| m.name.len()).max().unwrap_or(0);
    for m in &lab.machines {
        let status = match running
            .iter()
            .find(|r| r.kind == RecordKind::Guest && r.name == m.name)
        {
            Some(r) => format!("running, pid {}", r.pid),
            None => "stopped".to_string(),
        };
        let image = match (m.image, &m.options.image) {
            (Some(img), Some(named)) if named != img.as_str() => {
                format!("{} ({named})", img.as_str())
            }
            (Some(img), _) => img.as_str().to_string(),
            (None, Some(named)) => format!("default image ({named} is not provided)"),
            (None, None) => "default image".to_string(),
        };
        let _ = writeln!(s, "  {:width$}  {image}, {status}", m.name);
        for iface in &m.interfaces {
            let a: Vec<String> = addrs
                .interface(&m.name, &iface.name())
                .iter()
                .map(|a| a.to_string())
                .collect();
            let tap = if iface.tap.is_some() { " (tap)" } else { "" };
            let _ = writeln!(
                s,
                "  {:width$}    {} @ {}{tap}  {}",
                "",
                iface.name(),
                iface.domain,
                a.join(" ")
            );
        }
    }
    let _ = writeln!(s, "collision domains ({}):", lab.domains.len());
    for d in &lab.domains {
        let ends: Vec<String> = d
            .attachments
            .iter()
            .map(|a| format!("{}.eth{}", a.machine, a.interface))
            .collect();
        let hub = match running
            .iter()
            .find(|r| r.kind == RecordKind::Hub && r.name == d.name)
        {
            Some(r) => format!(
                " [hub pid {}, {}]",
                r.pid,
                state.hub_socket(&d.name).display()
            ),
            None => String::new(),
        };
        let _ = writeln!(s, "  {}: {}{hub}", d.name, ends.join(" "));
    }
    match &lab.dep {
        Some(dep) => {
            let _ = writeln!(
                s,
                "lab.dep: {} rule{}",
                dep.rules.len(),
                if dep.rules.len() == 1 { "" } else { "s" }
            );
        }
        None => {
            let _ = writeln!(s, "lab.dep: none (all machines start together)");
        }
    }
    if let Some(path) = topology {
        let svg = crate::lab::topology_svg(&lab, &addrs);
        fs::write(path, svg).map_err(io_err(format!("writing {}", path.display())))?;
        let _ = writeln!(s, "topology written to {}", path.display());
    }
    Ok(s)
}

/// Which signature files `test` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// `.user` when the expectation has one, else `.default` (Netkit's default).
    Auto,
    /// Only `.user`.
    User,
    /// Only `.default`.
    Builtin,
    /// Both.
    Both,
}

/// Options of `flowlab test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOptions {
    /// How to start the lab (all machines).
    pub start: StartOptions,
    /// Make the results the new signature.
    pub rebuild: bool,
    /// What to compare.
    pub verify: Verify,
}

/// One machine's comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The machine.
    pub machine: String,
    /// The files compared (`pc1.user`), empty when a signature was written.
    pub compared: Vec<String>,
    /// Differences, as `- expected` / `+ found` lines.
    pub diff: Vec<String>,
}

/// What `test` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    /// Per machine.
    pub results: Vec<TestResult>,
    /// The results became the signature (in this dir).
    pub signature_written: Option<PathBuf>,
}

impl TestReport {
    /// True when nothing differed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.diff.is_empty())
    }
}

/// The built-in signature script (runs in the guest's `/bin/sh`).
pub const SIGNATURE_SCRIPT: &str = "\
echo '[NETWORK INTERFACES]'
ip -o addr show 2>&1 | sed -e 's/ tentative//' -e '/ fe80::/d'
echo
echo '[ROUTING TABLE]'
ip route show 2>&1
echo
echo '[LISTENING PORTS]'
{ netstat -ltn 2>/dev/null || ss -ltn 2>/dev/null; } | grep -i listen | awk '{print $4}' | sort -u
";

/// Lines as `diff -bB` sees them: blank lines dropped, runs of white space made one
/// space, trailing white space removed, tabs expanded (as white space).
pub fn normalize_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

/// A line diff of `expected` and `found` (longest common subsequence): `- line` for lines
/// only expected, `+ line` for lines only found. Empty when they match.
pub fn line_diff(expected: &[String], found: &[String]) -> Vec<String> {
    let (n, m) = (expected.len(), found.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == found[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && expected[i] == found[j] {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", expected[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", found[j]));
            j += 1;
        }
    }
    out
}

/// Compares one machine's results with its expectation directory. With [`Verify::Auto`]
/// a machine that has no expectation file at all is not compared (`compared` is empty).
pub fn compare_machine(
    machine: &str,
    results: &Path,
    expected: &Path,
    verify: Verify,
) -> TestResult {
    let read = |p: PathBuf| {
        fs::read(p)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let has_user = expected.join(format!("{machine}.user")).is_file();
    let has_default = expected.join(format!("{machine}.default")).is_file();
    let kinds: &[&str] = match verify {
        Verify::Auto if !has_user && !has_default => &[],
        Verify::Auto if has_user => &["user"],
        Verify::Auto | Verify::Builtin => &["default"],
        Verify::User => &["user"],
        Verify::Both => &["default", "user"],
    };
    let mut r = TestResult {
        machine: machine.to_string(),
        compared: Vec::new(),
        diff: Vec::new(),
    };
    for k in kinds {
        let name = format!("{machine}.{k}");
        r.compared.push(name.clone());
        let exp = read(expected.join(&name));
        let got = read(results.join(&name));
        match (exp, got) {
            (Some(e), Some(g)) => {
                let d = line_diff(&normalize_lines(&e), &normalize_lines(&g));
                r.diff.extend(d.into_iter().map(|l| format!("{name}: {l}")));
            }
            (None, _) => r
                .diff
                .push(format!("{name}: no expectation in {}", expected.display())),
            (_, None) => r.diff.push(format!("{name}: no result")),
        }
    }
    r
}

/// `flowlab test`: see the module documentation.
pub fn test(opts: &TestOptions, ui: &mut Ui) -> Result<TestReport, LaunchError> {
    let dir = lab_dir(&opts.start.dir)?;
    let lab = load_lab(&dir, opts.start.dialect, ui)?;
    let running = LabState::new(&dir).running();
    if !running.is_empty() {
        return Err(LaunchError::AlreadyRunning {
            dir,
            pids: pid_text(&running),
        });
    }
    clean(&dir, &mut Ui::quiet())?;
    let mut sopts = opts.start.clone();
    sopts.dir = dir.clone();
    sopts.machines.clear();
    let outcome = (|| -> Result<(), LaunchError> {
        start(&sopts, ui)?;
        let test_dir = dir.join("_test");
        let results = test_dir.join("results");
        fs::create_dir_all(&results).map_err(io_err(format!("creating {}", results.display())))?;
        for m in &lab.machines {
            let out = exec(&dir, &m.name, &[SIGNATURE_SCRIPT.to_string()], EXEC_TIMEOUT)?;
            let f = results.join(format!("{}.default", m.name));
            fs::write(&f, &out.stdout).map_err(io_err(format!("writing {}", f.display())))?;
            let script = test_dir.join(format!("{}.test", m.name));
            let f = results.join(format!("{}.user", m.name));
            if script.is_file() {
                let out = exec(
                    &dir,
                    &m.name,
                    &[format!("sh /hostlab/_test/{}.test 2>&1", m.name)],
                    EXEC_TIMEOUT,
                )?;
                fs::write(&f, &out.stdout).map_err(io_err(format!("writing {}", f.display())))?;
            } else {
                let _ = fs::remove_file(&f);
            }
        }
        Ok(())
    })();
    // As ltest: crash and clean whatever happened.
    let _ = crash(&dir, &[], false, &mut Ui::quiet());
    clean(&dir, &mut Ui::quiet())?;
    outcome?;

    let test_dir = dir.join("_test");
    let results = test_dir.join("results");
    let expected = [test_dir.join("expected"), test_dir.join("signature")]
        .into_iter()
        .find(|d| d.is_dir());
    let mut report = TestReport {
        results: Vec::new(),
        signature_written: None,
    };
    match expected {
        Some(exp) if !opts.rebuild => {
            for m in &lab.machines {
                report
                    .results
                    .push(compare_machine(&m.name, &results, &exp, opts.verify));
            }
        }
        other => {
            let sig = other.unwrap_or_else(|| test_dir.join("signature"));
            fs::create_dir_all(&sig).map_err(io_err(format!("creating {}", sig.display())))?;
            for e in fs::read_dir(&results)
                .map_err(io_err(format!("reading {}", results.display())))?
                .flatten()
            {
                let to = sig.join(e.file_name());
                fs::copy(e.path(), &to).map_err(io_err(format!("writing {}", to.display())))?;
            }
            report.signature_written = Some(sig);
        }
    }
    Ok(report)
}

/// The scratch lab of `vm` commands: `$FLOWLAB_VM_DIR`, else `<data dir>/vms` (created).
pub fn vm_dir() -> Result<PathBuf, LaunchError> {
    let d = match std::env::var_os("FLOWLAB_VM_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => image::data_dir()?.join("vms"),
    };
    fs::create_dir_all(&d).map_err(io_err(format!("creating {}", d.display())))?;
    lab_dir(&d)
}

/// Options of `flowlab vm start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmOptions {
    /// The machine name.
    pub name: String,
    /// `--ethN=CD`.
    pub interfaces: Vec<(u32, String)>,
    /// `--mem M`.
    pub mem_mb: Option<u32>,
    /// `--image`.
    pub image: Option<ImageKind>,
    /// `--exec CMD`.
    pub exec: Option<String>,
    /// `--transport`.
    pub transport: Transport,
    /// Pin the guest to one CPU (not `--no-pin`).
    pub pin: bool,
}

/// `flowlab vm start`: one guest in the scratch lab, its hubs (hub mode) started as
/// needed. Returns the time to ready.
pub fn vm_start(opts: &VmOptions, ui: &mut Ui) -> Result<Duration, LaunchError> {
    if !crate::lab::conf::is_machine_name(&opts.name, Dialect::Netkit) {
        return Err(LaunchError::Invalid(format!(
            "bad machine name `{}`: use letters, digits, `_`, `.` and `-`",
            opts.name
        )));
    }
    for (_, cd) in &opts.interfaces {
        if cd.is_empty()
            || !cd
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(LaunchError::Invalid(format!(
                "bad collision domain `{cd}`: use letters, digits, `-` and `_`"
            )));
        }
    }
    let dir = vm_dir()?;
    let state = LabState::new(&dir);
    let _lock = state.lock()?;
    if let Some(r) = state.running_guest(&opts.name) {
        return Err(LaunchError::Invalid(format!(
            "{} is already running (pid {}); `flowlab vm halt {}` first",
            opts.name, r.pid, opts.name
        )));
    }
    let kind = opts.image.unwrap_or_else(default_image);
    let base = ensure_image(kind, ui)?;
    state.prepare(None)?;
    let mode = HubMode::Plain(SwitchMode::Hub);
    for (_, cd) in &opts.interfaces {
        hubs::ensure_hub(
            &state,
            &DomainSpec {
                name: cd.clone(),
                dpid: 1,
                tap_addr: None,
            },
            &mode,
        )?;
    }
    let plan = GuestPlan {
        name: &opts.name,
        interfaces: opts
            .interfaces
            .iter()
            .map(|(i, d)| (*i, d.clone(), Some(stable_mac(&opts.name, *i, 0)), None))
            .collect(),
        mem_mb: opts.mem_mb,
        kernel: None,
        exec: opts.exec.iter().cloned().collect(),
        append: None,
        copy_always: false,
        transport: opts.transport,
    };
    // Round-robin over the scratch lab's running guests, once this one is up.
    let cpu = if opts.pin {
        cpu_for(
            &pin_cpus(),
            state
                .running()
                .iter()
                .filter(|r| r.kind == RecordKind::Guest)
                .count(),
        )
    } else {
        None
    };
    if check_cow(&state, &opts.name, &base)? {
        eprintln!(
            "{}: its disk was made on another build of the image; it starts from a fresh disk",
            opts.name
        );
    }
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let tmpdir = uml_tmpdir(&mounts, &state.tmp_dir());
    if let Some(t) = &tmpdir {
        fs::create_dir_all(t).map_err(io_err(format!("creating {}", t.display())))?;
    }
    let spec = build_spec(&state, &plan, &base, kind, tmpdir);
    let mut g = Guest::spawn_with(
        &spec,
        SpawnOptions {
            die_with_parent: false,
            kill_on_drop: true,
        },
    )
    .map_err(guest_err(&opts.name))?;
    state.add_record(&Record::for_process(
        RecordKind::Guest,
        &opts.name,
        g.pid(),
        &interfaces_extra(&plan),
    ))?;
    let timeout = match kind {
        ImageKind::Busybox => READY_TIMEOUT,
        ImageKind::Debian => READY_TIMEOUT * 2,
    };
    ui.line(&format!("booting {} ...", opts.name));
    match g.wait_ready(timeout) {
        Ok(t) => {
            if let Some(c) = cpu {
                uml::process::pin_group(g.pid(), c);
            }
            g.detach();
            ui.line(&format!("{} is up ({:.1}s)", opts.name, t.as_secs_f64()));
            Ok(t)
        }
        Err(e) => {
            drop(g);
            state.remove_records(|r| r.kind == RecordKind::Guest && r.name == opts.name)?;
            stop_unused_vm_hubs(&state)?;
            Err(LaunchError::Guest {
                name: opts.name.clone(),
                source: e,
            })
        }
    }
}

/// Stops the scratch lab's hubs that no running `vm` guest uses.
fn stop_unused_vm_hubs(state: &LabState) -> Result<(), LaunchError> {
    let running = state.running();
    let used: Vec<String> = running
        .iter()
        .filter(|r| r.kind == RecordKind::Guest)
        .flat_map(|r| {
            r.extra
                .split(',')
                .filter_map(|p| p.split_once('=').map(|(_, d)| d.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let idle: Vec<Record> = running
        .into_iter()
        .filter(|r| r.kind == RecordKind::Hub && !used.contains(&r.name))
        .collect();
    stop_records(state, idle)
}

/// One line of `vm list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmInfo {
    /// The machine.
    pub name: String,
    /// Its UML main process.
    pub pid: i32,
    /// `eth0 @ A, eth1 @ B`.
    pub interfaces: String,
}

/// `flowlab vm list`: the running `vm` guests.
pub fn vm_list() -> Result<Vec<VmInfo>, LaunchError> {
    let dir = vm_dir()?;
    let state = LabState::new(&dir);
    Ok(state
        .running()
        .into_iter()
        .filter(|r| r.kind == RecordKind::Guest)
        .map(|r| VmInfo {
            interfaces: r
                .extra
                .split(',')
                .filter_map(|p| p.split_once('='))
                .map(|(i, d)| format!("{i} @ {d}"))
                .collect::<Vec<_>>()
                .join(", "),
            name: r.name,
            pid: r.pid,
        })
        .collect())
}

/// `flowlab vm halt NAME` / `vm crash NAME`.
pub fn vm_stop(name: &str, crash_it: bool, ui: &mut Ui) -> Result<Stopped, LaunchError> {
    let dir = vm_dir()?;
    let state = LabState::new(&dir);
    let _lock = state.lock()?;
    let Some(r) = state.running_guest(name) else {
        return Err(LaunchError::NotRunning {
            dir,
            name: name.to_string(),
        });
    };
    let spec = attach_spec(&state, name);
    let outcome = match Guest::attach(&spec) {
        Ok(mut g) => {
            if crash_it {
                g.crash().map_err(guest_err(name))?;
                "crashed".to_string()
            } else {
                match g.halt(HALT_TIMEOUT).map_err(guest_err(name))? {
                    HaltOutcome::Clean => "halted".to_string(),
                    other => format!("{other:?}").to_lowercase(),
                }
            }
        }
        Err(_) => {
            stop_record(&r, STOP_GRACE).map_err(StateError::Unkillable)?;
            "terminated".to_string()
        }
    };
    state.remove_records(|x| x.kind == RecordKind::Guest && x.name == name)?;
    stop_unused_vm_hubs(&state)?;
    ui.line(&format!("{name}: {outcome}"));
    Ok(Stopped {
        name: name.to_string(),
        outcome,
    })
}

/// `flowlab image build --kind K`: builds the image (always with `force`, else only when
/// missing), with a progress bar. Returns its path.
pub fn image_build(
    kind: ImageKind,
    size_mib: Option<u64>,
    force: bool,
    ui: &mut Ui,
) -> Result<PathBuf, LaunchError> {
    let store = ImageStore::open_default()?;
    let opts = BuildOptions {
        size_mib,
        ..Default::default()
    };
    let mut cb = |p: &Progress| ui.progress(p.done, p.total, &p.message);
    let p = if force {
        store.build(kind, &opts, &mut cb)?
    } else {
        store.ensure(kind, &opts, &mut cb)?
    };
    ui.done();
    Ok(p)
}

/// `flowlab image prune`: removes the cached images of `kind` (every kind when None) that
/// the current flowlab would not use: those an earlier build of flowlab (another guest
/// init, another package list) made. The current images, and images built with a
/// non-default `--size`, stay only if they are what `image build` makes now. Returns what
/// was removed, with sizes on disk. A guest that is running keeps its image open, so it
/// is not disturbed; a stopped lab whose disk was made on a removed image starts from a
/// fresh disk, with a warning, as after any rebuild.
pub fn image_prune(kind: Option<ImageKind>) -> Result<Vec<(PathBuf, u64)>, LaunchError> {
    let store = ImageStore::open_default()?;
    let kinds = match kind {
        Some(k) => vec![k],
        None => vec![ImageKind::Busybox, ImageKind::Debian],
    };
    let mut removed = Vec::new();
    for k in kinds {
        if store.list(k).is_empty() {
            // Nothing to prune, and no need to find busybox (the recipe does) either.
            continue;
        }
        let keep = store.path_of(&store.recipe(k, &BuildOptions::default())?);
        let sizes: Vec<(PathBuf, u64)> = store
            .list(k)
            .into_iter()
            .map(|p| {
                let used = fs::metadata(&p).map_or(0, |m| {
                    use std::os::unix::fs::MetadataExt;
                    m.blocks() * 512
                });
                (p, used)
            })
            .collect();
        for p in store.prune(k, &keep)? {
            let used = sizes.iter().find(|(q, _)| *q == p).map_or(0, |(_, u)| *u);
            removed.push((p, used));
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_bar() {
        assert_eq!(bar(0, 4, 8), "[>       ]");
        assert_eq!(bar(2, 4, 8), "[====>   ]");
        assert_eq!(bar(4, 4, 8), "[========]");
        assert_eq!(bar(9, 4, 4), "[====]");
        assert_eq!(bar(0, 0, 2), "[> ]");
    }

    #[test]
    fn diffs_like_diff_bb() {
        let e = normalize_lines("a  b\n\n c\t d \nx\n");
        assert_eq!(e, ["a b", "c d", "x"]);
        let f = normalize_lines("a b\nc d\n\nx\n\n");
        assert!(line_diff(&e, &f).is_empty());
        let g = normalize_lines("a b\ny\nx\nz\n");
        assert_eq!(line_diff(&e, &g), ["- c d", "+ y", "+ z"]);
        assert_eq!(line_diff(&[], &normalize_lines("q")), ["+ q"]);
    }

    #[test]
    fn compare_prefers_user_files() {
        let d = std::env::temp_dir().join(format!("flowlab-cmp-{}", std::process::id()));
        let (res, exp) = (d.join("results"), d.join("expected"));
        fs::create_dir_all(&res).unwrap();
        fs::create_dir_all(&exp).unwrap();
        fs::write(res.join("pc1.default"), "[X]\n1\n").unwrap();
        fs::write(exp.join("pc1.default"), "[X]\n2\n").unwrap();
        let r = compare_machine("pc1", &res, &exp, Verify::Auto);
        assert_eq!(r.compared, ["pc1.default"]);
        assert_eq!(r.diff, ["pc1.default: - 2", "pc1.default: + 1"]);
        fs::write(res.join("pc1.user"), "ok\n").unwrap();
        fs::write(exp.join("pc1.user"), "ok \n\n").unwrap();
        let r = compare_machine("pc1", &res, &exp, Verify::Auto);
        assert_eq!(r.compared, ["pc1.user"]);
        assert!(r.diff.is_empty());
        let r = compare_machine("pc1", &res, &exp, Verify::Both);
        assert_eq!(r.diff.len(), 2);
        let r = compare_machine("pc2", &res, &exp, Verify::Auto);
        assert!(r.compared.is_empty() && r.diff.is_empty(), "{r:?}");
        let r = compare_machine("pc2", &res, &exp, Verify::User);
        assert!(r.diff[0].contains("no expectation"), "{:?}", r.diff);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn stable_macs_are_unique_and_local() {
        let a = stable_mac("pc1", 0, 0);
        assert_eq!(a, stable_mac("pc1", 0, 0));
        assert_ne!(a, stable_mac("pc1", 1, 0));
        assert_ne!(a, stable_mac("pc2", 0, 0));
        assert_eq!(a.0[0], 0x02);
    }

    #[test]
    fn tmpdir_only_when_shm_is_noexec() {
        let fb = Path::new("/lab/.flowlab/tmp");
        assert_eq!(
            uml_tmpdir("tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n", fb),
            None
        );
        assert_eq!(
            uml_tmpdir("tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n", fb),
            Some(fb.to_path_buf())
        );
        assert_eq!(uml_tmpdir("", fb), Some(fb.to_path_buf()));
    }

    #[test]
    fn guests_spread_round_robin_over_the_cpus() {
        let cpus = [0, 2, 3];
        let got: Vec<Option<usize>> = (0..5).map(|i| cpu_for(&cpus, i)).collect();
        assert_eq!(got, [Some(0), Some(2), Some(3), Some(0), Some(2)]);
        assert_eq!(cpu_for(&[], 4), None, "no CPUs: no pinning");
        let mine = uml::process::allowed_cpus();
        assert!(!mine.is_empty(), "this process runs somewhere");
        assert!(pin_cpus().is_empty() || pin_cpus() == mine);
    }

    #[test]
    fn spec_of_a_machine() {
        let state = LabState::new(Path::new("/labs/x"));
        let plan = GuestPlan {
            name: "r1",
            interfaces: vec![
                (0, "A".into(), Some(Mac::local(1)), None),
                (
                    1,
                    "ext".into(),
                    None,
                    Some(crate::lab::TapSpec {
                        tap_addr: "10.0.0.1".parse().unwrap(),
                        guest_addr: "10.0.0.2".parse().unwrap(),
                    }),
                ),
            ],
            mem_mb: None,
            kernel: None,
            exec: vec!["echo a".into(), "echo b".into()],
            append: Some("quiet  loglevel=3".into()),
            copy_always: true,
            transport: Transport::Daemon,
        };
        let s = build_spec(
            &state,
            &plan,
            Path::new("/img/debian.img"),
            ImageKind::Debian,
            None,
        );
        let argv = s.argv().unwrap();
        let has = |a: &str| argv.iter().any(|x| x == a);
        assert!(has("mem=128M"), "{argv:?}");
        assert!(has("ubd0=/labs/x/.flowlab/cow/r1.cow,/img/debian.img"));
        assert!(has(
            "eth0=daemon,02:00:00:00:00:01,unix,/labs/x/.flowlab/hubs/A.ctl"
        ));
        assert!(has("eth1=daemon,,unix,/labs/x/.flowlab/hubs/ext.ctl"));
        assert!(has("autoconf_eth1=10.0.0.2") && has("def_route=10.0.0.1"));
        assert!(has("hostlab=/labs/x") && has("flowlab_copy=always") && has("con1=pts"));
        assert!(has("exec=\"echo a; echo b\"") && has("quiet") && has("loglevel=3"));
        assert!(has("flowlab_agent=/labs/x/.flowlab/exec/r1"));
        assert_eq!(
            s.cpu, None,
            "lab guests boot unpinned; they are pinned once up"
        );
        assert_eq!(attach_spec(&state, "r1").uml_pid_file(), s.uml_pid_file());
        // The vector transport: the same domains, reached through each hub's --bess socket.
        let plan = GuestPlan {
            transport: Transport::Bess,
            ..plan
        };
        let argv = build_spec(
            &state,
            &plan,
            Path::new("/img/b.img"),
            ImageKind::Busybox,
            None,
        )
        .argv()
        .unwrap();
        let has = |a: &str| argv.iter().any(|x| x == a);
        assert!(
            has("vec0:transport=bess,dst=/labs/x/.flowlab/hubs/A.bess,mac=02:00:00:00:00:01"),
            "{argv:?}"
        );
        assert!(has(
            "vec1:transport=bess,dst=/labs/x/.flowlab/hubs/ext.bess"
        ));
        assert!(has("autoconf_eth1=10.0.0.2"), "{argv:?}");
    }
}
