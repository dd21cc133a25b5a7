//! Starting and stopping a switch under test from a command template.
//!
//! A template is split on whitespace (no shell); in every word `{ctl}` becomes a fresh
//! control-socket path inside a fresh temporary directory and `{dir}` that directory. The
//! switch runs with stdin a pipe that stays open (vde_switch in the foreground exits on
//! stdin EOF), stdout and stderr appended to `{dir}/switch.log`, and is stopped with SIGINT,
//! then SIGKILL, by PID.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Expands a template: splits on whitespace and substitutes `{ctl}` and `{dir}` in each word.
pub fn expand(template: &str, ctl: &Path, dir: &Path) -> Vec<String> {
    let ctl = ctl.to_string_lossy();
    let dir = dir.to_string_lossy();
    template
        .split_whitespace()
        .map(|w| w.replace("{ctl}", &ctl).replace("{dir}", &dir))
        .collect()
}

/// The default label of a template: the file name of its program.
pub fn program_label(template: &str) -> String {
    let prog = template.split_whitespace().next().unwrap_or("switch");
    Path::new(prog)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| prog.to_string())
}

/// Where a client connects, given the control path and what exists there: the socket
/// itself, or `<path>/ctl` when the path is a directory (vde_switch `-s`).
fn connect_path(ctl: &Path) -> Option<PathBuf> {
    let meta = fs::metadata(ctl).ok()?;
    if meta.is_dir() {
        let inner = ctl.join("ctl");
        let m = fs::metadata(&inner).ok()?;
        return m.file_type().is_socket().then_some(inner);
    }
    meta.file_type().is_socket().then(|| ctl.to_path_buf())
}

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A fresh, private temporary directory.
fn make_temp_dir() -> Result<PathBuf> {
    let base = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    for _ in 0..100 {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("flowlab-bench.{}.{}", std::process::id(), n));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    bail!(
        "cannot create a temporary directory under {}",
        base.display()
    )
}

/// Options for starting a switch.
#[derive(Clone, Debug)]
pub struct StartOptions {
    /// How long to wait for the control socket.
    pub timeout: Duration,
    /// Pin the switch to this CPU.
    pub cpu: Option<usize>,
    /// Keep the temporary directory (and log) after stopping.
    pub keep_dir: bool,
    /// Nice value for the switch.
    pub nice: Option<i32>,
    /// SCHED_FIFO priority for the switch.
    pub rt: Option<i32>,
}

/// A running switch.
#[derive(Debug)]
pub struct SwitchProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    argv: Vec<String>,
    dir: PathBuf,
    ctl: PathBuf,
    log: PathBuf,
    keep_dir: bool,
    exited: Option<ExitStatus>,
}

impl SwitchProcess {
    /// Starts `template` and waits until its control socket exists.
    pub fn start(template: &str, opts: &StartOptions) -> Result<Self> {
        let dir = make_temp_dir()?;
        let ctl_arg = dir.join("sw.ctl");
        let argv = expand(template, &ctl_arg, &dir);
        if argv.is_empty() {
            bail!("empty switch command");
        }
        let log = dir.join("switch.log");
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        // SAFETY: prctl is async-signal-safe; it only asks for SIGKILL if the bench dies, so
        // a crashed bench leaves no switch behind.
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
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {:?}", argv[0]))?;
        let stdin = child.stdin.take();
        let mut sp = SwitchProcess {
            child,
            stdin,
            argv,
            dir,
            ctl: PathBuf::new(),
            log,
            keep_dir: opts.keep_dir,
            exited: None,
        };
        if let Some(cpu) = opts.cpu {
            pin_pid(sp.pid(), cpu);
        }
        if let Some(n) = opts.nice {
            set_nice(sp.pid(), n);
        }
        if let Some(prio) = opts.rt {
            set_fifo(sp.pid(), prio).context("setting SCHED_FIFO on the switch")?;
        }
        let deadline = Instant::now() + opts.timeout;
        loop {
            if let Some(status) = sp.child.try_wait()? {
                sp.exited = Some(status);
                bail!(
                    "{} exited before its control socket appeared ({status}); log:\n{}",
                    sp.argv[0],
                    sp.log_tail(10)
                );
            }
            if let Some(p) = connect_path(&ctl_arg) {
                sp.ctl = p;
                return Ok(sp);
            }
            if Instant::now() > deadline {
                let _ = sp.stop();
                bail!(
                    "no control socket at {} after {:?}; log:\n{}",
                    ctl_arg.display(),
                    opts.timeout,
                    sp.log_tail(10)
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The control socket clients connect to.
    pub fn ctl(&self) -> &Path {
        &self.ctl
    }

    /// The expanded command line.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// `None` while running, the exit status once it has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// The last `lines` lines of the switch's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// Stops the switch: SIGINT, up to 2 s for it to exit, then SIGKILL. Returns its status.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        if let Some(s) = self.exit_status() {
            return Ok(s);
        }
        let s = stop_child(&mut self.child, libc::SIGINT, Duration::from_secs(2))?;
        self.exited = Some(s);
        self.stdin = None;
        Ok(s)
    }
}

/// The last `lines` lines of a log file (read from its last 8 KiB); empty if unreadable.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let Ok(mut f) = File::open(log) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(8192)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Stops a child we started and have not reaped: `sig`, up to `grace` for it to exit, then
/// SIGKILL. By PID, never by name.
pub fn stop_child(child: &mut Child, sig: libc::c_int, grace: Duration) -> io::Result<ExitStatus> {
    let pid = child.id() as libc::pid_t;
    // SAFETY: signalling our own child, which has not been reaped (the caller's try_wait
    // said so).
    unsafe { libc::kill(pid, sig) };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait()? {
            return Ok(s);
        }
        thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: as above; still not reaped.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    child.wait()
}

impl Drop for SwitchProcess {
    fn drop(&mut self) {
        let _ = self.stop();
        if !self.keep_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Sets the nice value of `pid` (0 = the calling thread); best effort.
pub fn set_nice(pid: i32, nice: i32) {
    // SAFETY: setpriority with plain integers.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, nice) };
}

/// Puts `pid` (0 = the calling thread) in SCHED_FIFO at priority `prio`.
pub fn set_fifo(pid: i32, prio: i32) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: a valid sched_param.
    if unsafe { libc::sched_setscheduler(pid, libc::SCHED_FIFO, &param) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Restricts process (or thread) `pid` (0 = the calling thread) to one CPU; best effort.
pub fn pin_pid(pid: i32, cpu: usize) {
    pin_set(pid, &[cpu]);
}

/// Restricts `pid` (0 = the calling thread) to `cpus`; best effort.
pub fn pin_set(pid: i32, cpus: &[usize]) {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it for cpu < CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            if c < libc::CPU_SETSIZE as usize {
                libc::CPU_SET(c, &mut set);
            }
        }
        libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_templates() {
        let argv = expand(
            "  vde_switch -s {ctl}   --mgmt {dir}/mgmt --x=a{ctl}b ",
            Path::new("/tmp/d/sw.ctl"),
            Path::new("/tmp/d"),
        );
        assert_eq!(
            argv,
            [
                "vde_switch",
                "-s",
                "/tmp/d/sw.ctl",
                "--mgmt",
                "/tmp/d/mgmt",
                "--x=a/tmp/d/sw.ctlb"
            ]
        );
        assert!(expand("   ", Path::new("/c"), Path::new("/d")).is_empty());
    }

    #[test]
    fn labels_are_program_names() {
        assert_eq!(
            program_label("target/release/flowlab-hub -unix {ctl}"),
            "flowlab-hub"
        );
        assert_eq!(program_label("uml_switch -unix {ctl}"), "uml_switch");
        assert_eq!(program_label(""), "switch");
    }

    #[test]
    fn connect_path_follows_directories() {
        let dir = make_temp_dir().unwrap();
        let sock = dir.join("s");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(connect_path(&sock), Some(sock.clone()));
        let vde = dir.join("vde");
        fs::create_dir(&vde).unwrap();
        assert_eq!(connect_path(&vde), None);
        let _l2 = std::os::unix::net::UnixListener::bind(vde.join("ctl")).unwrap();
        assert_eq!(connect_path(&vde), Some(vde.join("ctl")));
        assert_eq!(connect_path(&dir.join("missing")), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn starts_and_stops_a_process() {
        let opts = StartOptions {
            timeout: Duration::from_millis(300),
            cpu: None,
            keep_dir: false,
            nice: None,
            rt: None,
        };
        // `sleep` never creates the socket: start must fail, and clean up.
        let err = SwitchProcess::start("sleep 5", &opts).unwrap_err();
        assert!(err.to_string().contains("no control socket"), "{err}");
        let err = SwitchProcess::start("false {ctl}", &opts).unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
    }
}
