//! Real User-Mode Linux guests (Debian `user-mode-linux`, kernel `linux.uml`) on a
//! busybox-static hostfs root, as in `/work/shared/specs/uml-guests.md` §2-§3.
//!
//! * [`GuestLab`] holds the lab lock (one guest test at a time: a process-wide mutex plus
//!   an `flock` on [`LOCK_FILE`], so two test runs on one machine serialise), a temp dir
//!   with the root fs, the lab dir shared with the guests (`/host` inside) and the
//!   `uml_dir`.
//! * [`Guest`] is one booted guest: `timeout -s TERM -k 5 T setarch <arch> -R linux.uml ...`
//!   with the console on a log file. On drop: SIGTERM to the UML main pid (a clean
//!   shutdown), then `kill -KILL -- -PID` (UML setsid()s, so its helpers are in the
//!   process group of its main pid), and its `uml_dir/<umid>` is removed.
//!
//! Guests report through `LAB:` lines on their console.

use std::fs::{self, File};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::proc::{
    children_of, set_parent_death_signal, signal, stop_child, wait_timeout, wait_until,
};
use crate::switch::read_lossy;
use crate::tmp::TempDir;

/// The lock file that serialises guest tests of all test runs on this machine. It is
/// shared on purpose and never removed (removing it would break the lock for a waiter).
pub const LOCK_FILE: &str = "/tmp/flowlab-tests-uml-guests.lock";
/// How long a test waits for the lab lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(900);

static LAB_MUTEX: Mutex<()> = Mutex::new(());

/// The lab lock: held for the life of a [`GuestLab`].
#[derive(Debug)]
pub struct LabLock {
    _file: File,
    _guard: MutexGuard<'static, ()>,
}

/// Takes the process-wide mutex, then the `flock` on [`LOCK_FILE`] (bounded wait).
pub fn lab_lock() -> LabLock {
    let guard = LAB_MUTEX.lock().unwrap_or_else(|e| e.into_inner());
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(LOCK_FILE)
        .unwrap_or_else(|e| panic!("opening {LOCK_FILE}: {e}"));
    let start = Instant::now();
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            break;
        }
        assert!(
            start.elapsed() < LOCK_TIMEOUT,
            "another test run held {LOCK_FILE} for {LOCK_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    LabLock {
        _file: file,
        _guard: guard,
    }
}

/// The tools guest tests need; panics naming the Debian package of a missing one.
pub fn require_guest_tools() -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let kernel = crate::require_tool("linux.uml", "user-mode-linux");
    let busybox = crate::require_tool("busybox", "busybox-static");
    let setarch = crate::require_tool("setarch", "util-linux");
    let timeout = crate::require_tool("timeout", "coreutils");
    (kernel, busybox, setarch, timeout)
}

/// A lab: lock, temp dir, root fs, shared lab dir, uml_dir.
#[derive(Debug)]
pub struct GuestLab {
    kernel: PathBuf,
    setarch: PathBuf,
    timeout: PathBuf,
    rootfs: PathBuf,
    lab: PathBuf,
    uml_dir: PathBuf,
    dir: TempDir,
    _lock: LabLock,
}

impl GuestLab {
    /// Takes the lab lock and builds the busybox hostfs root in a fresh temp dir.
    pub fn new() -> GuestLab {
        let (kernel, busybox, setarch, timeout) = require_guest_tools();
        let lock = lab_lock();
        let dir = TempDir::new("flg");
        let rootfs = dir.join("rootfs");
        let lab = dir.join("lab");
        let uml_dir = dir.join("uml");
        fs::create_dir(&lab).expect("lab dir");
        fs::create_dir(&uml_dir).expect("uml dir");
        build_rootfs(&rootfs, &busybox);
        GuestLab {
            kernel,
            setarch,
            timeout,
            rootfs,
            lab,
            uml_dir,
            dir,
            _lock: lock,
        }
    }

    /// The temp dir.
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    /// The dir shared with the guests (their `/host`).
    pub fn lab_dir(&self) -> &Path {
        &self.lab
    }

    /// Writes `name` into the lab dir (a guest script, `sh /host/<name>` runs it).
    pub fn write_script(&self, name: &str, text: &str) {
        fs::write(self.lab.join(name), text).expect("writing a guest script");
    }

    /// Boots guest `name` with `eth0=<eth0>`, running `/host/<script>`, with extra
    /// `KEY=VALUE` environment for init, and the whole guest limited to `limit` by `timeout`.
    pub fn boot(
        &self,
        name: &str,
        eth0: &str,
        script: &str,
        env: &[(&str, &str)],
        limit: Duration,
    ) -> Guest {
        let umid = crate::unique("flt");
        let log = self.dir.join(&format!("{name}.console"));
        let out = File::create(&log).expect("console log");
        let arch = machine();
        let mut cmd = Command::new(&self.timeout);
        cmd.arg("-s")
            .arg("TERM")
            .arg("-k")
            .arg("5")
            .arg(format!("{}", limit.as_secs()));
        cmd.arg(&self.setarch)
            .arg(&arch)
            .arg("-R")
            .arg(&self.kernel);
        cmd.arg("mem=64M")
            .arg(format!("umid={umid}"))
            .arg(format!("uml_dir={}", self.uml_dir.display()))
            .arg("root=/dev/root")
            .arg("rootfstype=hostfs")
            .arg(format!("rootflags={}", self.rootfs.display()))
            .arg("rw")
            .arg("init=/init")
            .arg("con=null")
            .arg("ssl=null")
            .arg("con0=null,fd:1")
            .arg(format!("eth0={eth0}"))
            .arg(format!("LAB_NAME={name}"))
            .arg(format!("LAB_HOSTDIR={}", self.lab.display()))
            .arg(format!("LAB_SCRIPT={script}"));
        for (k, v) in env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out);
        // If this test process dies, timeout gets SIGTERM and passes it to UML.
        set_parent_death_signal(&mut cmd, libc::SIGTERM);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting guest {name}: {e}"));
        let mut g = Guest {
            name: name.to_string(),
            umid: umid.clone(),
            uml_pid: None,
            log,
            status: None,
            umid_dir: self.uml_dir.join(&umid),
            child,
        };
        // timeout's child is setarch, which execs linux.uml: the UML main pid.
        let tpid = g.child.id() as i32;
        let found = wait_until(Duration::from_secs(5), || {
            g.uml_pid = children_of(tpid).first().copied();
            g.uml_pid.is_some() || matches!(g.child.try_wait(), Ok(Some(_)))
        });
        assert!(
            found,
            "guest {name}: no UML process under timeout (pid {tpid})"
        );
        g
    }
}

impl Default for GuestLab {
    fn default() -> Self {
        Self::new()
    }
}

/// One running guest.
#[derive(Debug)]
pub struct Guest {
    name: String,
    umid: String,
    uml_pid: Option<i32>,
    log: PathBuf,
    status: Option<ExitStatus>,
    umid_dir: PathBuf,
    child: Child,
}

impl Guest {
    /// The guest's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its umid.
    pub fn umid(&self) -> &str {
        &self.umid
    }

    /// The console log so far.
    pub fn console(&self) -> String {
        read_lossy(&self.log)
    }

    /// The `LAB:` lines of the console, without the prefix.
    pub fn lab_lines(&self) -> Vec<String> {
        lab_lines(&self.console())
    }

    /// Waits for the guest (its `timeout` wrapper) to exit, up to `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = wait_timeout(&mut self.child, limit).ok().flatten();
        }
        self.status
    }

    /// The last `n` console lines.
    pub fn console_tail(&self, n: usize) -> String {
        let text = self.console();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    fn kill_group(&self) {
        if let Some(pid) = self.uml_pid {
            if group_exists(pid) {
                signal(-pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
            }
        }
        if self.status.is_none() {
            // SIGTERM to the UML main process shuts the whole guest down cleanly.
            if let Some(pid) = self.uml_pid {
                signal(pid, libc::SIGTERM);
            }
            self.status = wait_timeout(&mut self.child, Duration::from_secs(5))
                .ok()
                .flatten();
            self.kill_group();
            if self.status.is_none() {
                stop_child(&mut self.child, libc::SIGKILL, Duration::from_secs(1));
            }
        }
        self.kill_group();
        wait_until(
            Duration::from_secs(2),
            || !matches!(self.uml_pid, Some(p) if group_exists(p)),
        );
        let _ = fs::remove_dir_all(&self.umid_dir);
    }
}

/// True if some process has process group `pgid`.
fn group_exists(pgid: i32) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        return false;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command name: state ppid pgrp ...
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[2].parse::<i32>() == Ok(pgid) && f[0] != "Z" {
            return true;
        }
    }
    false
}

/// The `LAB:` lines of a console log, without the prefix.
pub fn lab_lines(console: &str) -> Vec<String> {
    console
        .lines()
        .filter_map(|l| l.find("LAB: ").map(|i| l[i + 5..].trim_end().to_string()))
        .collect()
}

/// `uname -m`.
pub fn machine() -> String {
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

const INIT: &str = r#"#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
hostname "${LAB_NAME:-uml}"
ip link set lo up
echo "LAB: init up name=$LAB_NAME uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ -n "$LAB_SCRIPT" ]; then
  mount -t hostfs none /host -o "$LAB_HOSTDIR"
  sh "/host/$LAB_SCRIPT"
  echo "LAB: script exit=$?"
fi
echo "LAB: halting uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
"#;

/// Builds the busybox-static hostfs root in `root`: the static busybox, a symlink per
/// applet, and `/init` (mounts, `LAB:` lines, runs `$LAB_HOSTDIR/$LAB_SCRIPT`, powers off).
pub fn build_rootfs(root: &Path, busybox: &Path) {
    assert!(
        is_static_elf(busybox),
        "{} is not statically linked: the guests need the Debian package `busybox-static`",
        busybox.display()
    );
    for d in [
        "bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "mnt", "host", "usr/bin",
        "usr/sbin",
    ] {
        fs::create_dir_all(root.join(d)).expect("rootfs dir");
    }
    let bb = root.join("bin/busybox");
    fs::copy(busybox, &bb).expect("copying busybox");
    fs::set_permissions(&bb, fs::Permissions::from_mode(0o755)).expect("chmod busybox");
    // Ask the original for its applets, not the copy: another test thread forking while
    // the copy was still open for writing would make running it fail with ETXTBSY.
    let out = Command::new(busybox)
        .arg("--list")
        .output()
        .expect("busybox --list");
    assert!(out.status.success(), "busybox --list failed");
    for applet in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        // `--list` names busybox itself: a link onto itself would replace the binary.
        if applet == "busybox" || applet.contains('/') {
            continue;
        }
        let link = root.join("bin").join(applet);
        if !link.exists() {
            symlink("busybox", &link).expect("applet link");
        }
    }
    let init = root.join("init");
    fs::write(&init, INIT).expect("writing /init");
    fs::set_permissions(&init, fs::Permissions::from_mode(0o755)).expect("chmod /init");
}

/// True for an ELF file without a program interpreter (statically linked).
fn is_static_elf(p: &Path) -> bool {
    let mut data = Vec::new();
    if File::open(p)
        .and_then(|mut f| f.read_to_end(&mut data))
        .is_err()
        || data.len() < 64
    {
        return false;
    }
    if &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return false; // only 64-bit little-endian is checked; others are rejected
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().expect("8")) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        data.get(o..o + 4)
            .map(|t| u32::from_le_bytes(t.try_into().expect("4")) != 3)
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_lines_strip_prefix() {
        let c = "boot noise\r\nLAB: init up name=g1\nxLAB: g2 received 5 bytes \nLAB:no\n";
        assert_eq!(lab_lines(c), vec!["init up name=g1", "g2 received 5 bytes"]);
    }

    #[test]
    fn static_elf_check() {
        // The test binary itself is dynamically linked.
        assert!(!is_static_elf(&std::env::current_exe().unwrap()));
        assert!(!is_static_elf(Path::new("/nonexistent")));
    }
}
