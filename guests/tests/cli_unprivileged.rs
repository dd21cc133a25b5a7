//! Issue item 6: a lab runs as a normal user. When the tests run as root, a system user of
//! its own is created (`flowlab-t<pid>`, removed at the end, also on failure), and as that
//! user (setpriv: real, effective and saved ids, no capabilities, `no_new_privs`) the
//! two-host lab is started (the busybox image built on the way, into the user's own data
//! dir), pinged through, halted and cleaned. While it runs every process of the lab (each
//! recorded hub and guest, and every member of their process groups) must belong to that
//! user with no effective capability; afterwards no process of the user and no file of
//! the lab may be left. Then a tap domain, which needs root, is refused with the clear
//! message before anything starts (the user owns the lab dir, so nothing but the refusal
//! can keep `.flowlab/` from appearing).
//!
//! The user runs the cargo binaries when it can reach them, else copies of them in its
//! temp dir (`FLOWLAB_TESTS_COPY_BINARIES=1` forces the copies).
//!
//! Skips when not run as root (it cannot create a user), when a UML tool is missing, or
//! when setpriv/useradd are missing. Serialised with the other UML tests through the flock
//! on `/tmp/flowlab-tests-uml-guests.lock`.

mod cli_support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cli_support::*;

const SETPRIV: &str = "/usr/bin/setpriv";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `Name:\tvalue` from `/proc/PID/status`.
fn status_field(pid: i32, field: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// The four ids (real, effective, saved, file system) of a `Uid:`/`Gid:` line.
fn ids(pid: i32, field: &str) -> Option<Vec<u32>> {
    status_field(pid, field)?
        .split_whitespace()
        .map(|w| w.parse().ok())
        .collect()
}

/// Live, non-zombie processes whose real or effective uid is `uid`.
fn processes_of(uid: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let zombie = status_field(pid, "State")
            .map(|s| s.starts_with('Z'))
            .unwrap_or(true);
        let mine =
            ids(pid, "Uid").is_some_and(|v| v.first() == Some(&uid) || v.get(1) == Some(&uid));
        if mine && !zombie {
            out.push(pid);
        }
    }
    out
}

/// The members of process group `pgid` (field 5 of `/proc/PID/stat`).
fn group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let pgrp = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(2)?.parse::<i32>().ok());
        if pgrp == Some(pgid) {
            out.push(pid);
        }
    }
    out
}

fn run_quiet(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

/// A system user made for this test; on drop its processes are killed (by pid) and the
/// user, its group and its short socket root are removed.
struct TestUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl TestUser {
    fn create() -> TestUser {
        let name = format!("flowlab-t{}", std::process::id());
        // A leftover of a crashed run with a recycled pid.
        let _ = run_quiet("userdel", &[&name]);
        let o = run_quiet(
            "useradd",
            &[
                "--system",
                "--no-create-home",
                "--user-group",
                "--shell",
                "/usr/sbin/nologin",
                &name,
            ],
        );
        assert!(
            o.status.success(),
            "useradd {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // From here on Drop removes the user, whatever fails next.
        let mut u = TestUser {
            name,
            uid: u32::MAX,
            gid: u32::MAX,
        };
        let id = |flag: &str| -> u32 {
            let o = run_quiet("id", &[flag, &u.name]);
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("id {flag} {}: {o:?}", u.name))
        };
        let (uid, gid) = (id("-u"), id("-g"));
        u.uid = uid;
        u.gid = gid;
        assert!(uid != 0 && gid != 0, "{} got uid {uid} gid {gid}", u.name);
        u
    }

    /// `/tmp/flowlab-<uid>`: where the lab's sockets would go if its path were long.
    fn short_root(&self) -> PathBuf {
        PathBuf::from(format!("/tmp/flowlab-{}", self.uid))
    }

    /// Gives `path` (and everything under it) to the user.
    fn give(&self, path: &Path) {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid)).unwrap();
        let m = fs::symlink_metadata(path).unwrap();
        if m.is_dir() {
            for e in fs::read_dir(path).unwrap().flatten() {
                self.give(&e.path());
            }
        }
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        if self.uid != u32::MAX {
            // Whatever the user still runs is this test's: stop it by pid.
            for _ in 0..50 {
                let left = processes_of(self.uid);
                if left.is_empty() {
                    break;
                }
                for pid in left {
                    // SAFETY: kill(2) on a pid of a process of the test's own user.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let short = self.short_root();
            if fs::metadata(&short).is_ok_and(|m| m.uid() == self.uid) {
                let _ = fs::remove_dir_all(&short);
            }
        }
        let o = run_quiet("userdel", &[&self.name]);
        if !o.status.success() {
            eprintln!(
                "WARNING: userdel {}: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // userdel removes the user's own group; make sure.
        let _ = run_quiet("groupdel", &[&self.name]);
    }
}

/// How the user runs `flowlab`: the binaries, its environment.
struct AsUser<'a> {
    user: &'a TestUser,
    flowlab: PathBuf,
    hub: PathBuf,
    controller: PathBuf,
    home: PathBuf,
    data: PathBuf,
}

impl AsUser<'_> {
    /// `program args` as the user: setpriv with the user's real, effective and saved ids,
    /// its groups, no capabilities, `no_new_privs`, and an environment of only HOME,
    /// USER, LOGNAME, PATH, FLOWLAB_DATA and the companion binaries.
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(SETPRIV);
        c.env_clear()
            .env("HOME", &self.home)
            .env("USER", &self.user.name)
            .env("LOGNAME", &self.user.name)
            .env("PATH", PATH)
            .env("LANG", "C")
            .env("FLOWLAB_DATA", &self.data)
            .env("FLOWLAB_HUB_BIN", &self.hub)
            .env("FLOWLAB_CONTROLLER_BIN", &self.controller)
            .current_dir(&self.home)
            .stdin(Stdio::null())
            .arg(format!("--reuid={}", self.user.uid))
            .arg(format!("--regid={}", self.user.gid))
            .args(["--init-groups", "--inh-caps=-all", "--no-new-privs", "--"])
            .arg(program);
        c
    }

    /// `flowlab args` as the user, echoed like [`flowlab`].
    fn flowlab(&self, args: &[&str]) -> Output {
        let t = Instant::now();
        let out = self
            .command(&self.flowlab)
            .args(args)
            .output()
            .expect("running setpriv");
        eprintln!(
            "$ [{}] flowlab {}\n-> {} in {:.1?}\n{}{}",
            self.user.name,
            args.join(" "),
            out.status,
            t.elapsed(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Cleans the lab as the user on drop (before the user is removed), whatever happened.
struct UserLab<'a> {
    run: &'a AsUser<'a>,
    dir: PathBuf,
}

impl Drop for UserLab<'_> {
    fn drop(&mut self) {
        if self.dir.join(".flowlab").exists() {
            let _ = self
                .run
                .flowlab(&["clean", "-d", self.dir.to_str().unwrap()]);
        }
    }
}

/// The paths of the three binaries as the user can run them: the cargo ones when the user
/// can reach them, else copies in `dir` (given to the user).
fn binaries_for(user: &TestUser, probe: &AsUser<'_>, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let built = flowlab_bin();
    let next_to = |p: &str| built.parent().unwrap().join(p);
    let hub = std::env::var_os("FLOWLAB_HUB_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| next_to("flowlab-hub"));
    let ctl = std::env::var_os("FLOWLAB_CONTROLLER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| next_to("flowlab-controller"));
    let all = [built.clone(), hub.clone(), ctl.clone()];
    let reachable = probe
        .command(Path::new("/bin/sh"))
        .args([
            "-c",
            "test -x \"$1\" && test -x \"$2\" && test -x \"$3\"",
            "sh",
        ])
        .args(&all)
        .status()
        .is_ok_and(|s| s.success());
    // FLOWLAB_TESTS_COPY_BINARIES=1 takes the copy route even when it is not needed.
    if reachable && std::env::var_os("FLOWLAB_TESTS_COPY_BINARIES").is_none() {
        return (built, hub, ctl);
    }
    eprintln!(
        "NOTE: {} runs copies of the binaries in {} ({})",
        user.name,
        dir.display(),
        if reachable {
            "FLOWLAB_TESTS_COPY_BINARIES is set"
        } else {
            "it cannot reach the cargo ones"
        }
    );
    fs::create_dir_all(dir).unwrap();
    let copies: Vec<PathBuf> = all
        .iter()
        .map(|p| {
            let to = dir.join(p.file_name().unwrap());
            fs::copy(p, &to).unwrap();
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).unwrap();
            to
        })
        .collect();
    user.give(dir);
    (copies[0].clone(), copies[1].clone(), copies[2].clone())
}

/// Asserts that `pid` runs as the user, with every id and no effective capability.
fn assert_runs_as(pid: i32, what: &str, user: &TestUser) {
    let uids = ids(pid, "Uid").unwrap_or_else(|| panic!("{what} (pid {pid}) is gone"));
    let gids = ids(pid, "Gid").unwrap_or_else(|| panic!("{what} (pid {pid}) is gone"));
    assert_eq!(uids, [user.uid; 4], "{what} (pid {pid}) uids");
    assert_eq!(gids, [user.gid; 4], "{what} (pid {pid}) gids");
    let cap = status_field(pid, "CapEff").unwrap_or_default();
    assert!(
        cap.chars().all(|c| c == '0'),
        "{what} (pid {pid}) has capabilities {cap}"
    );
}

#[test]
fn a_lab_runs_as_an_unprivileged_user() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIP: not root, so no user can be created for this test (run the tests as root)"
        );
        return;
    }
    if !uml_available() {
        return;
    }
    for tool in [SETPRIV, "/usr/sbin/useradd", "/usr/sbin/userdel"] {
        if !Path::new(tool).is_file() {
            eprintln!("SKIP: {tool} not found (util-linux, passwd)");
            return;
        }
    }
    let _lock = lab_lock();
    let t0 = Instant::now();
    let t = TempDir::new("flun");
    let user = TestUser::create();
    // The whole temp dir is the user's, 0700: only the user (and root) can enter it.
    user.give(&t.0);
    fs::set_permissions(&t.0, fs::Permissions::from_mode(0o700)).unwrap();
    let home = t.join("home");
    fs::create_dir(&home).unwrap();
    user.give(&home);
    let mut run = AsUser {
        user: &user,
        flowlab: PathBuf::new(),
        hub: PathBuf::new(),
        controller: PathBuf::new(),
        home: home.clone(),
        // Created by the user's own flowlab.
        data: t.join("data"),
    };
    let (flowlab, hub, controller) = binaries_for(&user, &run, &t.join("bin"));
    run.flowlab = flowlab;
    run.hub = hub;
    run.controller = controller;
    let lab = copy_example("two-hosts", &t.join("lab"));
    user.give(&lab);
    let short_root_existed = user.short_root().exists();
    let guard = UserLab {
        run: &run,
        dir: lab.clone(),
    };
    let d = lab.to_str().unwrap();

    // start: builds the busybox image as the user, then boots the lab.
    let t1 = Instant::now();
    let o = run.flowlab(&["start", "-d", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 machines up"), "{}", stderr(&o));
    let started = t1.elapsed();
    let images: Vec<PathBuf> = fs::read_dir(run.data.join("images"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "img"))
        .collect();
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(fs::metadata(&images[0]).unwrap().uid(), user.uid);

    // Every process of the lab is the user's.
    let procs = recorded(&lab);
    let kinds: Vec<(&str, &str)> = procs.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
    assert_eq!(kinds, [("hub", "A"), ("guest", "pc1"), ("guest", "pc2")]);
    let mut checked = 0;
    for (kind, name, pid, start) in &procs {
        assert!(
            proc_alive(*pid, *start),
            "{kind} {name} (pid {pid}) is not running"
        );
        let members = group_members(*pid);
        assert!(
            members.contains(pid),
            "{kind} {name} leads no group: {members:?}"
        );
        for m in members {
            assert_runs_as(m, &format!("{kind} {name} (group {pid})"), &user);
            checked += 1;
        }
    }
    // The hub is the binary the user was given (FLOWLAB_HUB_BIN).
    let hub_exe = fs::read_link(format!("/proc/{}/exe", procs[0].2)).unwrap();
    assert_eq!(hub_exe, fs::canonicalize(&run.hub).unwrap());
    // Nothing that names the lab runs as anyone else (a helper outside the groups).
    for pid in processes_mentioning(&format!("{d}/")) {
        assert_runs_as(pid, "a process naming the lab", &user);
    }
    // The lab's files are the user's too, including what the guests wrote through hostfs.
    for f in [
        lab.join(".flowlab"),
        lab.join(".flowlab/procs"),
        lab.join(".flowlab/cow/pc1.cow"),
        lab.join(".flowlab/log/pc1.log"),
        lab.join("pc1.ready"),
        lab.join("pc2.ready"),
    ] {
        let m = fs::symlink_metadata(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(m.uid(), user.uid, "{} owner", f.display());
    }
    eprintln!(
        "start as {}: {started:.1?}; {checked} lab processes checked",
        user.name
    );

    // exec: the ping crosses the hub.
    let o = run.flowlab(&ping_args(d, "pc1", "1", "198.51.100.2"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 packets received"), "{}", stdout(&o));
    // The command ran in the guest as the guest's root, on the user's UML.
    let o = run.flowlab(&["exec", "-d", d, "pc2", "--", "id", "-u"]);
    assert_eq!(stdout(&o).trim(), "0", "{}", stderr(&o));

    // halt, then clean: nothing of the user is left.
    let o = run.flowlab(&["halt", "-d", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("pc1: halted"), "{}", stderr(&o));
    assert!(stderr(&o).contains("pc2: halted"), "{}", stderr(&o));
    for (kind, name, pid, start) in &procs {
        assert!(
            wait_for(Duration::from_secs(5), || !proc_alive(*pid, *start)),
            "{kind} {name} (pid {pid}) survived halt"
        );
    }
    assert!(
        wait_for(Duration::from_secs(5), || processes_of(user.uid).is_empty()),
        "processes of {} after halt: {:?}",
        user.name,
        processes_of(user.uid)
    );
    let o = run.flowlab(&["clean", "-d", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!lab.join(".flowlab").exists());
    for e in fs::read_dir(&lab).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(!n.ends_with(".ready"), "{n} left");
    }
    assert!(processes_of(user.uid).is_empty());
    assert!(processes_mentioning(&format!("{d}/")).is_empty());
    if !short_root_existed {
        assert!(
            !user.short_root().exists(),
            "{} left",
            user.short_root().display()
        );
    }

    // A tap domain needs root: refused before anything starts, although the user could
    // write the lab dir.
    fs::write(
        lab.join("lab.conf"),
        "pc1[0]=A\npc2[0]=A\npc2[1]=tap,203.0.113.1,203.0.113.2\n",
    )
    .unwrap();
    let o = run.flowlab(&["start", "-d", d]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("collision domain `tap` is a tap domain"), "{e}");
    assert!(e.contains("lab.conf:3") && e.contains("needs root"), "{e}");
    assert!(!lab.join(".flowlab").exists());
    assert!(processes_of(user.uid).is_empty());

    drop(guard);
    eprintln!("a_lab_runs_as_an_unprivileged_user: {:.1?}", t0.elapsed());
}
