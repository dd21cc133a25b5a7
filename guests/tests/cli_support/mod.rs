//! Shared helpers of the `flowlab` command-line tests (`cli_*.rs`): the binary, temp
//! dirs with short paths, copies of the example labs, the UML lab lock, tool checks.

#![allow(dead_code)]

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The lock file that serialises UML guest tests of all test runs on this machine (the one
/// `tests/src/guests.rs` and `guests/tests/uml_guests.rs` take).
pub const LOCK_FILE: &str = "/tmp/flowlab-tests-uml-guests.lock";

/// The `flowlab` binary under test.
pub fn flowlab_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_flowlab"))
}

/// `flowlab ARGS` with `data` as FLOWLAB_DATA (None: the environment's), stdin closed.
pub fn flowlab(args: &[&str], data: Option<&Path>) -> Output {
    let mut c = Command::new(flowlab_bin());
    c.args(args).stdin(Stdio::null());
    if let Some(d) = data {
        c.env("FLOWLAB_DATA", d);
    }
    c.env_remove("FLOWLAB_IMAGE");
    let out = c.output().expect("running flowlab");
    eprintln!(
        "$ flowlab {}\n-> {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// stdout as text.
/// `flowlab exec -d DIR VM -- ping -c COUNT -W 5 ADDR`'s arguments.
pub fn ping_args<'a>(dir: &'a str, vm: &'a str, count: &'a str, addr: &'a str) -> Vec<&'a str> {
    vec![
        "exec", "-d", dir, vm, "--", "ping", "-c", count, "-W", "5", addr,
    ]
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A temp dir with a short path, removed on drop (kept with FLOWLAB_TESTS_KEEP set).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `/tmp/<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        let p = PathBuf::from(format!(
            "/tmp/{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// A path inside.
    pub fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("FLOWLAB_TESTS_KEEP").is_some() {
            eprintln!("keeping {}", self.0.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `examples/labs/<name>`.
pub fn example_lab(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/labs")
        .join(name)
}

/// The example labs.
pub const EXAMPLES: [&str; 3] = ["two-hosts", "static-routes", "rip"];

/// Copies a directory tree (files, dirs, symlinks).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let src = e.path();
        let dst = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_tree(&src, &dst);
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Copies example lab `name` to `dir` (which must not exist).
pub fn copy_example(name: &str, dir: &Path) -> PathBuf {
    copy_tree(&example_lab(name), dir);
    dir.to_path_buf()
}

/// Every file and dir under `dir`, relative, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

fn on_path(p: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
        .unwrap_or(false)
}

/// True when UML guests can run here (linux.uml, mkfs.ext4, busybox); prints why not.
/// Panics when flowlab-hub or flowlab-controller is not built next to flowlab: that is a
/// build step, not a missing package.
pub fn uml_available() -> bool {
    let mut ok = true;
    for (prog, pkg) in [
        ("linux.uml", "user-mode-linux"),
        ("mkfs.ext4", "e2fsprogs"),
        ("busybox", "busybox-static"),
        ("setarch", "util-linux"),
    ] {
        if !on_path(prog) && !Path::new("/sbin").join(prog).is_file() {
            eprintln!("SKIP: {prog} not found (apt-get install {pkg})");
            ok = false;
        }
    }
    if ok {
        let dir = flowlab_bin().parent().unwrap().to_path_buf();
        for (prog, env) in [
            ("flowlab-hub", "FLOWLAB_HUB_BIN"),
            ("flowlab-controller", "FLOWLAB_CONTROLLER_BIN"),
        ] {
            let set = std::env::var_os(env).is_some();
            assert!(
                set || dir.join(prog).is_file(),
                "{prog} is not built next to {}: run `cargo build -p flowlab-hub -p flowlab-controller` \
                 (or `cargo build --workspace --bins`) first, or set {env}",
                flowlab_bin().display()
            );
        }
    }
    ok
}

static LOCAL: Mutex<()> = Mutex::new(());

/// The UML lab lock: a process-wide mutex plus the `flock` on [`LOCK_FILE`].
pub struct LabLock {
    _file: File,
    _guard: MutexGuard<'static, ()>,
}

/// Takes [`LabLock`] (waits up to 15 minutes).
pub fn lab_lock() -> LabLock {
    let guard = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(LOCK_FILE)
        // flock works on a read-only descriptor too: another user's lock file still locks.
        .or_else(|_| fs::File::open(LOCK_FILE))
        .expect("lock file");
    let start = Instant::now();
    // SAFETY: flock on a descriptor we own.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "{LOCK_FILE} held for 15 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    LabLock {
        _file: file,
        _guard: guard,
    }
}

/// A started lab that is cleaned (`flowlab clean`) on drop, whatever the test did.
pub struct LabGuard {
    /// The lab dir.
    pub dir: PathBuf,
    /// FLOWLAB_DATA for it.
    pub data: Option<PathBuf>,
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        if self.dir.join(".flowlab").exists() {
            let _ = Command::new(flowlab_bin())
                .args(["clean", "-d"])
                .arg(&self.dir)
                .envs(self.data.iter().map(|d| ("FLOWLAB_DATA", d)))
                .stdin(Stdio::null())
                .output();
        }
    }
}

/// One line of `.flowlab/procs`: (kind, name, pid, start time).
pub type Proc = (String, String, i32, u64);

/// The lab's recorded processes.
pub fn recorded(dir: &Path) -> Vec<Proc> {
    fs::read_to_string(dir.join(".flowlab/procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.to_string(),
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
            ))
        })
        .collect()
}

/// True while the process `pid` with start time `start` lives (not a zombie).
pub fn proc_alive(pid: i32, start: u64) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.first().is_some_and(|s| *s != "Z" && *s != "X")
        && f.get(19) == Some(&start.to_string().as_str())
}

/// Live processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(true);
        if !zombie && String::from_utf8_lossy(&raw).contains(needle) {
            out.push(pid);
        }
    }
    out
}

/// Waits up to `limit` for `cond`.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
