//! Host processes of a guest, found through `/proc` and signalled by pid or process group
//! only (never by name: other labs and test runs share the machine).

use std::fs;
use std::io;
use std::time::{Duration, Instant};

/// One line of `/proc/<pid>/stat`, the fields we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The pid.
    pub pid: i32,
    /// The state letter (`R`, `S`, `Z`, ...).
    pub state: char,
    /// The parent pid.
    pub ppid: i32,
    /// The process group.
    pub pgrp: i32,
    /// The session.
    pub session: i32,
}

impl ProcStat {
    /// Parses the text of `/proc/<pid>/stat`. The command name (field 2) may contain
    /// spaces and parentheses, so the fields are counted after its last `)`.
    pub fn parse(text: &str) -> Option<ProcStat> {
        let (head, rest) = text.rsplit_once(')')?;
        let pid = head.split_whitespace().next()?.parse().ok()?;
        let mut f = rest.split_whitespace();
        let state = f.next()?.chars().next()?;
        let ppid = f.next()?.parse().ok()?;
        let pgrp = f.next()?.parse().ok()?;
        let session = f.next()?.parse().ok()?;
        Some(ProcStat {
            pid,
            state,
            ppid,
            pgrp,
            session,
        })
    }

    /// Reads `/proc/<pid>/stat`.
    pub fn read(pid: i32) -> Option<ProcStat> {
        ProcStat::parse(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// A zombie or dead process: it holds nothing any more but its pid.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// True if `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    pid > 0 && ProcStat::read(pid).is_some_and(|s| !s.is_dead())
}

/// The live (non-zombie) processes whose process group or session is `id`. UML's main
/// process leads its own group and session (we `setsid()` before exec), and all its
/// helpers stay in them.
pub fn group_members(id: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if id <= 1 {
        return out;
    }
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(st) = ProcStat::read(pid) {
            if (st.pgrp == id || st.session == id) && !st.is_dead() {
                out.push(pid);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The command line of `pid`, split at NULs.
pub fn cmdline(pid: i32) -> Option<Vec<String>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// Sends `sig` to `pid` (negative: a process group). `ESRCH` (already gone) is success.
pub fn signal(pid: i32, sig: libc::c_int) -> io::Result<()> {
    if pid == 0 || pid == -1 || pid == 1 || pid == i32::MIN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to signal pid {pid}"),
        ));
    }
    // SAFETY: kill(2) with a pid (or group) this crate started.
    if unsafe { libc::kill(pid, sig) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ESRCH) {
        return Ok(());
    }
    Err(e)
}

/// SIGKILLs process group `pgid` (and the members of session `pgid` that left the group)
/// until none is left, up to `timeout`. Returns true when the group is gone.
pub fn kill_group(pgid: i32, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    loop {
        let members = group_members(pgid);
        if members.is_empty() {
            return true;
        }
        let _ = signal(-pgid, libc::SIGKILL);
        for p in members {
            let _ = signal(p, libc::SIGKILL);
        }
        if Instant::now() >= end {
            return group_members(pgid).is_empty();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `cond` every 20 ms until it is true or `timeout` passes; returns its last value.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `uname -m`: the machine name `setarch` wants.
pub fn host_machine() -> String {
    // SAFETY: uname fills the struct we pass.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::uname(&mut u) } != 0 {
        return std::env::consts::ARCH.to_string();
    }
    let bytes: Vec<u8> = u
        .machine
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The host CPUs this process may run on (its affinity mask), in increasing order.
/// Empty if the kernel would not say.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the set is ours and of the size given.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r != 0 {
        return Vec::new();
    }
    // SAFETY: CPU_ISSET reads the set within its size.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Restricts the calling process (and what it forks and execs later) to `cpu`.
/// Async-signal-safe: callable between fork and exec.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    set_affinity(0, cpu)
}

/// Pins every thread of every live process in process group or session `id` (a running
/// guest) to `cpu`; what they fork later inherits it. Two passes, so that a process
/// forked during the first by a parent not yet pinned is caught. Returns how many threads
/// were pinned.
pub fn pin_group(id: i32, cpu: usize) -> usize {
    let mut pinned = 0;
    for _ in 0..2 {
        for pid in group_members(id) {
            let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            for t in tasks.flatten() {
                let tid = t.file_name().to_str().and_then(|s| s.parse::<i32>().ok());
                if let Some(tid) = tid.filter(|&t| t > 0) {
                    if set_affinity(tid, cpu).is_ok() {
                        pinned += 1;
                    }
                }
            }
        }
    }
    pinned
}

/// The CPUs `pid` may run on, as the kernel lists them (`Cpus_allowed_list`, e.g. `0-1`).
pub fn cpus_allowed(pid: i32) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_string())
}

/// Test helper: runs `sh -c script` in a session of its own and waits until the session
/// has `members` processes. Returns the child and the session id (its pid).
#[cfg(test)]
pub(crate) fn spawn_session(script: &str, members: usize) -> (std::process::Child, i32) {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", script]);
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    assert!(wait_until(Duration::from_secs(5), || group_members(pid)
        .len()
        == members));
    (child, pid)
}

/// `sched_setaffinity(tid, {cpu})`; tid 0 is the calling thread.
fn set_affinity(tid: i32, cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: cpu is within the set's size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: the set is ours and of the size given.
    if unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parse_with_odd_names() {
        let s = ProcStat::parse("4242 (linux (uml) x) S 1 4242 4242 0 -1 4194560 55").unwrap();
        assert_eq!(
            s,
            ProcStat {
                pid: 4242,
                state: 'S',
                ppid: 1,
                pgrp: 4242,
                session: 4242
            }
        );
        assert!(!s.is_dead());
        assert!(ProcStat::parse("12 (sh) Z 1 12 12").unwrap().is_dead());
        assert_eq!(ProcStat::parse("12 (sh) S 1"), None);
        assert_eq!(ProcStat::parse("garbage"), None);
        assert_eq!(ProcStat::parse(""), None);
    }

    #[test]
    fn own_process_is_seen() {
        let me = std::process::id() as i32;
        assert!(alive(me));
        let st = ProcStat::read(me).unwrap();
        assert!(group_members(st.pgrp).contains(&me));
        assert!(!cmdline(me).unwrap().is_empty());
        assert!(!alive(-5));
        assert!(group_members(1).is_empty());
    }

    #[test]
    fn signal_refuses_broadcasts() {
        for p in [0, -1, 1] {
            assert!(signal(p, 0).is_err());
        }
        assert!(signal(std::process::id() as i32, 0).is_ok());
    }

    #[test]
    fn kill_group_ends_a_session() {
        let (mut child, pid) = spawn_session("sleep 30 & sleep 30 & wait", 3);
        assert!(kill_group(pid, Duration::from_secs(5)));
        let _ = child.wait();
        assert!(group_members(pid).is_empty());
    }

    #[test]
    fn pin_group_pins_every_process_of_a_session() {
        let cpus = allowed_cpus();
        let Some(&cpu) = cpus.last() else {
            return;
        };
        let (mut child, pid) = spawn_session("sleep 30 & sleep 30 & wait", 3);
        assert!(pin_group(pid, cpu) >= 3);
        for p in group_members(pid) {
            assert_eq!(cpus_allowed(p), Some(cpu.to_string()), "pid {p}");
        }
        assert!(kill_group(pid, Duration::from_secs(5)));
        let _ = child.wait();
    }

    #[test]
    fn machine_name() {
        assert!(!host_machine().is_empty());
    }
}
