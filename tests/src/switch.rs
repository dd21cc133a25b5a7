//! The switch under test: the real `uml_switch` (Debian `uml-utilities`) or `flowlab-hub`.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use flowlab_hub::client::{ClientStyle, UmlClient};

use crate::proc::{set_parent_death_signal, stop_child, wait_timeout, wait_until};
use crate::tmp::TempDir;

/// How long a switch may take to create its socket.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a switch may take to exit after SIGINT/SIGTERM before it is SIGKILLed.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// Which switch binary a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchKind {
    /// `uml_switch` from PATH (Debian `uml-utilities`): the reference behaviour.
    UmlSwitch,
    /// The `flowlab-hub` binary built next to the test executable (or `$FLOWLAB_HUB_BIN`).
    FlowlabHub,
}

impl SwitchKind {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            SwitchKind::UmlSwitch => "uml_switch",
            SwitchKind::FlowlabHub => "flowlab-hub",
        }
    }

    /// The program to run; panics with instructions if it is missing.
    pub fn program(self) -> PathBuf {
        match self {
            SwitchKind::UmlSwitch => crate::require_tool("uml_switch", "uml-utilities"),
            SwitchKind::FlowlabHub => flowlab_hub_bin(),
        }
    }

    /// True for flowlab-hub.
    pub fn is_flowlab(self) -> bool {
        self == SwitchKind::FlowlabHub
    }
}

/// The flowlab-hub binary: `$FLOWLAB_HUB_BIN` if set, else `flowlab-hub` in the cargo
/// profile directory the test executable was built into (`target/<profile>/deps/x` →
/// `target/<profile>/flowlab-hub`). Panics with instructions if it does not exist.
pub fn flowlab_hub_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FLOWLAB_HUB_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "FLOWLAB_HUB_BIN={} does not name a file",
            p.display()
        );
        return p;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let bin = dir.join("flowlab-hub");
    assert!(
        bin.is_file(),
        "flowlab-hub binary not found at {} (looked next to the test executable {}): \
         run `cargo build --workspace --bins` first, or set FLOWLAB_HUB_BIN",
        bin.display(),
        exe.display()
    );
    bin
}

/// How to start a switch.
#[derive(Clone, Debug, Default)]
pub struct SwitchConfig {
    /// `-hub`: flood everything.
    pub hub: bool,
    /// Do not pass `-unix CTL` (flowlab-hub with `--vde` only).
    pub no_unix: bool,
    /// `--vde DIR` (flowlab-hub only).
    pub vde: bool,
    /// More arguments, appended as given (`--max-frame 2000`, ...).
    pub args: Vec<String>,
    /// The control socket's path relative to the temp dir (default `sw.ctl`); parent
    /// directories are created.
    pub ctl_name: Option<String>,
}

impl SwitchConfig {
    /// A learning switch on `-unix CTL`.
    pub fn switch() -> Self {
        SwitchConfig::default()
    }

    /// `-hub -unix CTL`.
    pub fn hub() -> Self {
        SwitchConfig {
            hub: true,
            ..Default::default()
        }
    }

    /// Also `--vde DIR`.
    pub fn with_vde(mut self) -> Self {
        self.vde = true;
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
}

/// A running switch in its own temp dir; stopped (SIGINT, then SIGKILL) and its dir removed
/// on drop.
#[derive(Debug)]
pub struct Switch {
    kind: SwitchKind,
    child: Child,
    ctl: Option<PathBuf>,
    vde_dir: Option<PathBuf>,
    log: PathBuf,
    argv: Vec<String>,
    status: Option<ExitStatus>,
    // Last: removed after the process is gone.
    dir: TempDir,
}

impl Switch {
    /// Starts `kind` with `config` in a fresh temp dir and waits until it is ready: its
    /// control socket (and `DIR/ctl` with `--vde`) exists and, with `-unix`, its log has
    /// the `attached to unix socket '<ctl>'` line. Panics (with the log) on failure.
    pub fn start(kind: SwitchKind, config: &SwitchConfig) -> Switch {
        let program = kind.program();
        let dir = TempDir::new("flt");
        let ctl =
            (!config.no_unix).then(|| dir.join(config.ctl_name.as_deref().unwrap_or("sw.ctl")));
        if let Some(parent) = ctl.as_ref().and_then(|c| c.parent()) {
            std::fs::create_dir_all(parent).expect("creating the control socket's dir");
        }
        let vde_dir = config.vde.then(|| dir.join("vde"));
        let mut argv = Vec::new();
        if config.hub {
            argv.push("-hub".to_string());
        }
        if let Some(c) = &ctl {
            argv.push("-unix".into());
            argv.push(c.display().to_string());
        }
        if let Some(v) = &vde_dir {
            argv.push("--vde".into());
            argv.push(v.display().to_string());
        }
        argv.extend(config.args.iter().cloned());
        let log = dir.join("switch.log");
        let child = spawn_switch(kind, &program, &argv, &log)
            .unwrap_or_else(|e| panic!("starting {} {argv:?}: {e}", program.display()));
        let mut sw = Switch {
            kind,
            child,
            ctl,
            vde_dir,
            log,
            argv,
            status: None,
            dir,
        };
        sw.wait_ready();
        sw
    }

    fn wait_ready(&mut self) {
        let mut sockets: Vec<PathBuf> = self.ctl.iter().cloned().collect();
        if let Some(v) = &self.vde_dir {
            sockets.push(v.join("ctl"));
        }
        let mut exited = None;
        let ready = wait_until(START_TIMEOUT, || {
            if let Ok(Some(st)) = self.child.try_wait() {
                exited = Some(st);
                return true;
            }
            sockets.iter().all(|s| flowlab_hub::client::is_listening(s))
        });
        if let Some(st) = exited {
            self.status = Some(st);
            panic!(
                "{} {:?} exited during startup ({st}); log:\n{}",
                self.kind.name(),
                self.argv,
                self.log_text()
            );
        }
        assert!(
            ready,
            "{} {:?}: sockets {sockets:?} not there after {START_TIMEOUT:?}; log:\n{}",
            self.kind.name(),
            self.argv,
            self.log_text()
        );
        if let Some(ctl) = &self.ctl {
            let line = format!("attached to unix socket '{}'", ctl.display());
            assert!(
                self.wait_log(&line, Duration::from_secs(5)),
                "{} {:?}: no `{line}` in its log:\n{}",
                self.kind.name(),
                self.argv,
                self.log_text()
            );
        }
    }

    /// Which switch this is.
    pub fn kind(&self) -> SwitchKind {
        self.kind
    }

    /// The arguments it was started with (without the program).
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `-unix` control socket.
    pub fn ctl(&self) -> &Path {
        self.ctl.as_deref().expect("switch started without -unix")
    }

    /// The `--vde` directory.
    pub fn vde_dir(&self) -> &Path {
        self.vde_dir
            .as_deref()
            .expect("switch started without --vde")
    }

    /// The temp dir (for client sockets and other files of the test).
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    /// Everything the switch printed so far (stdout and stderr).
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Waits up to `timeout` for `needle` to appear in the log.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log_text().contains(needle))
    }

    /// A client of the `-unix` socket.
    pub fn client(&self, style: ClientStyle) -> UmlClient {
        connect_retry(self.ctl(), style.clone()).unwrap_or_else(|e| {
            panic!(
                "{}: client {style:?} on {}: {e}; log:\n{}",
                self.kind.name(),
                self.ctl().display(),
                self.log_text()
            )
        })
    }

    /// `n` clients of the `-unix` socket, alternating Uml and UmlConnected (even: Uml).
    pub fn mixed_clients(&self, n: usize) -> Vec<UmlClient> {
        (0..n).map(|i| self.client(alternate_style(i))).collect()
    }

    /// A libvdeplug-style client of `DIR/ctl` (`--vde`), data socket in DIR.
    pub fn vde_client(&self, description: &str) -> UmlClient {
        let dir = self.vde_dir().to_path_buf();
        let style = ClientStyle::Vde {
            dir: dir.clone(),
            port: 0,
            description: description.into(),
        };
        connect_retry(&dir.join("ctl"), style).unwrap_or_else(|e| {
            panic!(
                "{}: vde client on {}: {e}; log:\n{}",
                self.kind.name(),
                dir.display(),
                self.log_text()
            )
        })
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `sig` and waits (up to [`STOP_GRACE`], then SIGKILL). Returns the exit status
    /// and whether `sig` alone stopped it.
    pub fn stop_with(&mut self, sig: libc::c_int) -> (Option<ExitStatus>, bool) {
        if let Some(st) = self.status {
            return (Some(st), true);
        }
        let r = stop_child(&mut self.child, sig, STOP_GRACE);
        self.status = r.0;
        r
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = wait_timeout(&mut self.child, timeout).ok().flatten();
        }
        self.status
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        if self.status.is_none() {
            let (_, clean) = stop_child(&mut self.child, libc::SIGINT, STOP_GRACE);
            if !clean && !std::thread::panicking() {
                eprintln!(
                    "{} did not exit on SIGINT within {STOP_GRACE:?}; killed",
                    self.kind.name()
                );
            }
        }
    }
}

/// Client style number `i` of a mixed set: Uml for even, UmlConnected for odd.
pub fn alternate_style(i: usize) -> ClientStyle {
    if i & 1 == 0 {
        ClientStyle::Uml
    } else {
        ClientStyle::UmlConnected
    }
}

/// `UmlClient::connect`, retried briefly on ECONNREFUSED/ENOENT (the window between a
/// switch's `bind` and its `listen`).
pub fn connect_retry(ctl: &Path, style: ClientStyle) -> io::Result<UmlClient> {
    let mut tries = 0;
    loop {
        match UmlClient::connect(ctl, style.clone()) {
            Err(e)
                if tries < 20
                    && matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound
                    ) =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            r => return r,
        }
    }
}

/// Runs the switch program once with `args` (for startup failures, usage errors): output
/// goes to `log`; the process is SIGKILLed after `timeout`. Returns the exit status (None
/// if it had to be killed) and the output.
pub fn run_once(
    kind: SwitchKind,
    args: &[&str],
    log: &Path,
    timeout: Duration,
) -> (Option<ExitStatus>, String) {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut child = spawn_switch(kind, &kind.program(), &argv, log).expect("spawn");
    let st = wait_timeout(&mut child, timeout).ok().flatten();
    if st.is_none() {
        let _ = stop_child(&mut child, libc::SIGINT, STOP_GRACE);
    }
    (st, read_lossy(log))
}

fn spawn_switch(
    kind: SwitchKind,
    program: &Path,
    argv: &[String],
    log: &Path,
) -> io::Result<Child> {
    let out = File::create(log)?;
    let err = out.try_clone()?;
    let mut cmd = match kind {
        // uml_switch printf()s to a fully buffered stdout when it is a file: line-buffer it.
        SwitchKind::UmlSwitch => {
            let mut c = Command::new(crate::require_tool("stdbuf", "coreutils"));
            c.arg("-oL").arg("-eL").arg(program);
            c
        }
        SwitchKind::FlowlabHub => Command::new(program),
    };
    cmd.args(argv).stdin(Stdio::null()).stdout(out).stderr(err);
    set_parent_death_signal(&mut cmd, libc::SIGINT);
    cmd.spawn()
}

/// True if `p` is a unix socket.
pub fn is_socket(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false)
}

/// A file's contents as text, empty if unreadable.
pub fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
