//! Child processes: spawn with a parent-death signal, wait with a deadline, stop by pid.
//!
//! Processes are only ever signalled by the pid (or, for UML, the process group) this
//! harness started; never by name.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Asks the kernel to send `sig` to the child when the spawning thread dies, so that a
/// test process killed outright does not leave switches and guests behind.
pub fn set_parent_death_signal(cmd: &mut Command, sig: libc::c_int) {
    // SAFETY: prctl is async-signal-safe; the closure touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sends `sig` to `pid` (a negative pid names a process group). Errors are ignored: the
/// process may be gone already.
pub fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) with a pid we started.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Waits for `child` to exit, up to `timeout`.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Some(st));
        }
        if Instant::now() >= end {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `sig`, waits up to `grace`, then SIGKILLs and reaps. Returns the exit status and
/// whether the first signal was enough.
pub fn stop_child(
    child: &mut Child,
    sig: libc::c_int,
    grace: Duration,
) -> (Option<ExitStatus>, bool) {
    if let Ok(Some(st)) = child.try_wait() {
        return (Some(st), true);
    }
    signal(child.id() as i32, sig);
    if let Ok(Some(st)) = wait_timeout(child, grace) {
        return (Some(st), true);
    }
    let _ = child.kill();
    (child.wait().ok(), false)
}

/// True if `pid` exists and is not a zombie (works for processes that are not our children).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the last ')' (the command name may contain anything).
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        }
        Err(_) => false,
    }
}

/// Waits until `pid` is gone (or a zombie), up to `timeout`. Returns true if it is gone.
pub fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The children of `pid`, from `/proc/<pid>/task/*/children`.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|w| w.parse::<i32>().ok()));
        }
    }
    out
}

/// Polls `cond` every 10 ms until it is true or `timeout` passes; returns its last value.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A child process stopped on drop: `sig`, a grace period, then SIGKILL.
#[derive(Debug)]
pub struct ProcGuard {
    /// The process.
    pub child: Child,
    sig: libc::c_int,
    grace: Duration,
}

impl ProcGuard {
    /// Spawns `cmd` with `sig` as its parent-death signal and its stop signal.
    pub fn spawn(cmd: &mut Command, sig: libc::c_int, grace: Duration) -> io::Result<ProcGuard> {
        set_parent_death_signal(cmd, sig);
        Ok(ProcGuard {
            child: cmd.spawn()?,
            sig,
            grace,
        })
    }

    /// The pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The exit status if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ProcGuard {
    fn drop(&mut self) {
        stop_child(&mut self.child, self.sig, self.grace);
    }
}
