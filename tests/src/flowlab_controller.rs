//! Running `flowlab-controller` in tests: the binary, started on a unix socket in a test
//! directory, stopped (SIGTERM, then SIGKILL) on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::proc::{wait_until, ProcGuard};
use crate::switch::read_lossy;

/// The flowlab-controller binary: `$FLOWLAB_CONTROLLER_BIN`, else `flowlab-controller`
/// in the cargo profile directory of the test executable (run
/// `cargo build --workspace --bins` first).
pub fn controller_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FLOWLAB_CONTROLLER_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "FLOWLAB_CONTROLLER_BIN={} is not a file",
            p.display()
        );
        return p;
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

/// A running flowlab-controller.
#[derive(Debug)]
pub struct FlowlabController {
    proc: ProcGuard,
    log: PathBuf,
    socket: PathBuf,
}

impl FlowlabController {
    /// Starts `flowlab-controller --listen punix:DIR/ctl.sock --apps APPS` plus `extra`
    /// arguments, with its output in `DIR/controller.log`, and waits until it listens.
    pub fn start(dir: &Path, apps: &str, extra: &[String]) -> FlowlabController {
        let socket = dir.join("ctl.sock");
        let log = dir.join("controller.log");
        let out = File::create(&log).expect("controller log");
        let err = out.try_clone().expect("controller log");
        let mut cmd = Command::new(controller_bin());
        cmd.arg("--listen")
            .arg(format!("punix:{}", socket.display()))
            .args(["--apps", apps])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut c = FlowlabController {
            proc: ProcGuard::spawn(&mut cmd, libc::SIGTERM, Duration::from_secs(3))
                .expect("spawning flowlab-controller"),
            log,
            socket,
        };
        let pid = c.proc.pid() as u32;
        let up = wait_until(Duration::from_secs(10), || {
            flowlab_hub::client::wait_listening_of(pid, &c.socket, Duration::ZERO)
                || c.proc.exited().is_some()
        });
        assert!(
            up && c.proc.exited().is_none(),
            "flowlab-controller did not come up; log:\n{}",
            c.log_text()
        );
        c
    }

    /// The socket switches connect to (`unix:` this).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.proc.pid()
    }

    /// Everything it printed so far.
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        self.proc.exited().is_none()
    }
}
