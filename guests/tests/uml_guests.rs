//! Real UML guests on the busybox image: two guests from one base image with a COW file
//! each, on one flowlab-hub in hub mode; readiness through `.ready`, exec through the
//! agent, halt through mconsole `cad` (the `.shutdown` file runs), crash, a second boot
//! from the same COW file (first-boot-only copy), the attachable console.
//!
//! Needs `linux.uml` (user-mode-linux), `mkfs.ext4` (e2fsprogs) and `busybox`
//! (busybox-static); skips with a message when one is missing. Serialised with the other
//! guest tests of this machine through the `flock` on `/tmp/flowlab-tests-uml-guests.lock`
//! (the lock `tests/src/guests.rs` takes).

mod cli_support;

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::lab_lock;
use flowlab_guests::image::{ext4, find_busybox, BuildOptions, ImageKind, ImageStore};
use flowlab_guests::uml::process::{alive, group_members, signal};
use flowlab_guests::uml::{
    find_program, host_machine, Guest, GuestSpec, HaltOutcome, Interface, Mac, RootDisk,
    SpawnOptions, Transport,
};

const READY_TIMEOUT: Duration = Duration::from_secs(90);
const EXEC_TIMEOUT: Duration = Duration::from_secs(20);

/// Prints why and returns false when a tool is missing.
fn tools_present() -> bool {
    let mut ok = true;
    if find_program(Path::new("linux.uml")).is_none() {
        eprintln!("SKIP: linux.uml not found (apt-get install user-mode-linux)");
        ok = false;
    }
    if ext4::find_tool("mkfs.ext4").is_none() {
        eprintln!("SKIP: mkfs.ext4 not found (apt-get install e2fsprogs)");
        ok = false;
    }
    if find_busybox(None).is_err() {
        eprintln!("SKIP: static busybox not found (apt-get install busybox-static)");
        ok = false;
    }
    ok
}

/// A temp dir with a short path (unix socket paths must stay under 108 bytes).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = PathBuf::from(format!("/tmp/{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir(&p).unwrap();
        TempDir(p)
    }

    fn join(&self, s: &str) -> PathBuf {
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

/// The hub: flowlab-hub (`$FLOWLAB_HUB_BIN`, or next to the test executable in the
/// target dir); uml_switch if it has not been built. Stopped with SIGINT on drop.
struct Hub {
    child: Child,
    ctl: PathBuf,
    name: String,
}

impl Hub {
    fn start(ctl: PathBuf, log: &Path) -> Hub {
        let bin = std::env::var_os("FLOWLAB_HUB_BIN")
            .map(PathBuf::from)
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                let mut dir = exe.parent()?.to_path_buf();
                if dir.ends_with("deps") {
                    dir.pop();
                }
                Some(dir.join("flowlab-hub")).filter(|p| p.is_file())
            });
        let (prog, name) = match bin {
            Some(b) => (b, "flowlab-hub"),
            None => {
                eprintln!(
                    "NOTE: flowlab-hub is not built (cargo build -p flowlab-hub); using uml_switch"
                );
                let p = find_program(Path::new("uml_switch"))
                    .expect("neither flowlab-hub nor uml_switch (uml-utilities) is available");
                (p, "uml_switch")
            }
        };
        let out = File::create(log).unwrap();
        let child = Command::new(&prog)
            .arg("-hub")
            .arg("-unix")
            .arg(&ctl)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", prog.display()));
        let hub = Hub {
            child,
            ctl,
            name: name.into(),
        };
        let start = Instant::now();
        while !listening(&hub.ctl) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} did not listen on {}: {}",
                hub.name,
                hub.ctl.display(),
                fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        hub
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = signal(self.child.id() as i32, libc::SIGINT);
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if start.elapsed() > Duration::from_secs(3) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
    }
}

/// True when a listening unix socket is bound at `path` (`/proc/net/unix`).
fn listening(path: &Path) -> bool {
    let Ok(table) = fs::read_to_string("/proc/net/unix") else {
        return path.exists();
    };
    let want = path.to_string_lossy();
    table.lines().skip(1).any(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.len() >= 8 && cols[3] == "00010000" && cols[7] == want
    })
}

struct Lab {
    dir: TempDir,
    base: PathBuf,
    hub: Hub,
}

impl Lab {
    fn new() -> Lab {
        let dir = TempDir::new("flg");
        let store = ImageStore::new(dir.join("data"));
        let t = Instant::now();
        let base = store
            .ensure(ImageKind::Busybox, &BuildOptions::default(), &mut |_| {})
            .expect("building the busybox image");
        eprintln!("busybox image: {:?}", t.elapsed());
        let lab = dir.join("lab");
        fs::create_dir_all(lab.join("shared/etc")).unwrap();
        fs::create_dir_all(lab.join("pc1/root")).unwrap();
        fs::write(lab.join("shared/etc/motd"), "shared file\n").unwrap();
        fs::write(lab.join("pc1/root/hello"), "first version\n").unwrap();
        fs::write(
            lab.join("shared.startup"),
            "echo \"shared.startup on $(hostname)\" >> /hostlab/startup.log\n",
        )
        .unwrap();
        fs::write(
            lab.join("pc1.startup"),
            "ip link set eth0 up\nip addr add 198.51.100.1/24 dev eth0\n\
             echo pc1.startup >> /hostlab/startup.log\n",
        )
        .unwrap();
        fs::write(
            lab.join("pc2.startup"),
            "ip link set eth0 up\nip addr add 198.51.100.2/24 dev eth0\n",
        )
        .unwrap();
        fs::write(
            lab.join("pc1.shutdown"),
            "echo \"pc1 shutdown $(hostname) $(cat /root/hello)\" > /hostlab/pc1.halted\n",
        )
        .unwrap();
        fs::write(
            lab.join("shared.shutdown"),
            "echo \"shared.shutdown on $(hostname)\" >> /hostlab/shutdown.log\n",
        )
        .unwrap();
        let hub = Hub::start(dir.join("A.ctl"), &dir.join("hub.log"));
        Lab { dir, base, hub }
    }

    fn lab_dir(&self) -> PathBuf {
        self.dir.join("lab")
    }

    fn spec(&self, name: &str, n: u32) -> GuestSpec {
        let state = self.dir.join("state");
        let mut s = GuestSpec::new(
            name,
            &format!("flg-{}-{name}", std::process::id()),
            RootDisk::Cow {
                cow: state.join(format!("{name}.disk")),
                base: self.base.clone(),
            },
            state.join(format!("{name}.log")),
            state.join("uml"),
            Some(&host_machine()),
        );
        s.interfaces.push(Interface {
            index: 0,
            socket: self.hub.ctl.clone(),
            mac: Some(Mac::local(n)),
            transport: Transport::Daemon,
        });
        s.hostlab = Some(self.lab_dir());
        s.agent_dir = Some(state.join(format!("exec/{name}")));
        s.pid_file = Some(state.join(format!("{name}.pid")));
        s
    }
}

fn spawn(spec: &GuestSpec) -> Guest {
    Guest::spawn_with(
        spec,
        SpawnOptions {
            die_with_parent: true,
            kill_on_drop: true,
        },
    )
    .unwrap_or_else(|e| panic!("spawning {}: {e}", spec.name))
}

fn ready(g: &mut Guest) -> Duration {
    g.wait_ready(READY_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn two_guests_ping_exec_halt_crash_reboot() {
    if !tools_present() {
        return;
    }
    let _lock = lab_lock();
    let lab = Lab::new();
    let s1 = lab.spec("pc1", 1);
    let s2 = lab.spec("pc2", 2);
    let t0 = Instant::now();
    let mut g1 = spawn(&s1);
    let mut g2 = spawn(&s2);
    let r1 = ready(&mut g1);
    let r2 = ready(&mut g2);
    eprintln!("ready: pc1 {r1:?}, pc2 {r2:?} (both {:?})", t0.elapsed());

    // UML created the COW files; the base image was not written.
    for (s, g) in [(&s1, &g1), (&s2, &g2)] {
        let RootDisk::Cow { cow, .. } = &s.root else {
            unreachable!()
        };
        assert!(cow.is_file(), "{} missing", cow.display());
        assert!(g.console().contains("as COW file for"), "{}", g.console());
    }
    // Our pid file and UML's agree; the main process leads its group.
    let pid_text = fs::read_to_string(s1.pid_file.as_ref().unwrap()).unwrap();
    assert_eq!(pid_text.trim(), g1.pid().to_string());
    assert_eq!(
        fs::read_to_string(s1.uml_pid_file()).unwrap().trim(),
        g1.pid().to_string()
    );
    assert!(g1.processes().contains(&g1.pid()));

    // The startup files ran, in order, on both guests.
    let log = fs::read_to_string(lab.lab_dir().join("startup.log")).unwrap();
    let at = |line: &str| log.lines().position(|l| l == line);
    assert!(at("shared.startup on pc1") < at("pc1.startup"), "{log}");
    assert!(at("pc1.startup").is_some(), "{log}");
    assert!(at("shared.startup on pc2").is_some(), "{log}");
    assert_eq!(log.lines().count(), 3, "{log}");

    // exec: ping across the hub.
    let t = Instant::now();
    let ping = g1
        .exec(
            &["ping", "-c", "1", "-W", "5", "198.51.100.2"],
            EXEC_TIMEOUT,
        )
        .unwrap();
    eprintln!("exec ping: {:?}", t.elapsed());
    assert_eq!(
        ping.status,
        0,
        "{}{}",
        ping.stdout_text(),
        ping.stderr_text()
    );
    assert!(
        ping.stdout_text().contains("1 packets received"),
        "{}",
        ping.stdout_text()
    );
    // exec: status, stderr, cwd, hostname, the lab folders copied into /.
    let t = Instant::now();
    assert_eq!(g1.exec(&["false"], EXEC_TIMEOUT).unwrap().status, 1);
    eprintln!("exec false: {:?}", t.elapsed());
    let o = g1
        .exec_script(
            "hostname; pwd; cat /root/hello /etc/motd; echo oops >&2; exit 7",
            EXEC_TIMEOUT,
        )
        .unwrap();
    assert_eq!(o.status, 7);
    assert_eq!(o.stdout_text(), "pc1\n/root\nfirst version\nshared file\n");
    assert_eq!(o.stderr_text(), "oops\n");
    assert!(!o.timed_out);
    // Binary-safe output, and arguments with spaces and quotes arrive intact.
    let o = g2
        .exec(&["printf", "%s|", "a b", "it's", "$HOME"], EXEC_TIMEOUT)
        .unwrap();
    assert_eq!(o.stdout_text(), "a b|it's|$HOME|");
    // exec: the guest kills a command that overruns its timeout.
    let t = Instant::now();
    let o = g2
        .exec(
            &["sh", "-c", "echo started; sleep 60"],
            Duration::from_secs(1),
        )
        .unwrap();
    eprintln!("exec timeout 1 s: {:?}", t.elapsed());
    assert!(o.timed_out);
    assert_eq!(o.status, 137);
    assert_eq!(o.stdout_text(), "started\n");
    assert!(t.elapsed() < Duration::from_secs(10));
    // Nothing of the requests is left in the spool.
    let left: Vec<_> = fs::read_dir(s1.agent_dir.as_ref().unwrap())
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // mconsole answers.
    let v = g1.mconsole_command("version").unwrap();
    assert!(v.contains("Linux"), "{v}");

    // halt: cad -> init runs pc1.shutdown then shared.shutdown and powers off.
    let pid1 = g1.pid();
    let t = Instant::now();
    assert_eq!(
        g1.halt(Duration::from_secs(30)).unwrap(),
        HaltOutcome::Clean
    );
    eprintln!("halt: {:?}", t.elapsed());
    let halted = fs::read_to_string(lab.lab_dir().join("pc1.halted")).unwrap();
    assert_eq!(halted, "pc1 shutdown pc1 first version\n");
    let down = fs::read_to_string(lab.lab_dir().join("shutdown.log")).unwrap();
    assert_eq!(down, "shared.shutdown on pc1\n");
    assert!(!alive(pid1));
    assert!(group_members(pid1).is_empty());
    assert!(g1.try_wait().is_some_and(|st| st.success()), "UML exits 0");
    assert!(!s1.umid_dir().exists());
    assert!(!s1.ready_file().unwrap().exists());
    assert!(!s1.pid_file.as_ref().unwrap().exists());
    assert!(g1.console().contains("reboot: System halted"));

    // crash: SIGKILL of the whole process group; no .shutdown file runs.
    let pid2 = g2.pid();
    let members = g2.processes();
    assert!(members.len() > 1, "UML has helper processes: {members:?}");
    let t = Instant::now();
    g2.crash().unwrap();
    eprintln!("crash: {:?}", t.elapsed());
    assert!(group_members(pid2).is_empty());
    for p in members {
        assert!(!alive(p), "process {p} of pc2 survived");
    }
    let down = fs::read_to_string(lab.lab_dir().join("shutdown.log")).unwrap();
    assert!(!down.contains("pc2"), "{down}");
    assert!(!s2.umid_dir().exists());

    // Second boot of pc1 from its COW file: startup files run again, but the lab folder
    // is not copied again (Netkit's first-boot rule): the edited file stays old.
    fs::write(lab.lab_dir().join("pc1/root/hello"), "second version\n").unwrap();
    let mut g1 = spawn(&s1);
    let r = ready(&mut g1);
    eprintln!("second boot ready: {r:?}");
    assert!(!g1.console().contains("as COW file for"), "COW reused");
    let o = g1.exec(&["cat", "/root/hello"], EXEC_TIMEOUT).unwrap();
    assert_eq!(o.stdout_text(), "first version\n");
    // A second handle finds the running guest through UML's pid file.
    let other = Guest::attach(&s1).unwrap();
    assert_eq!(other.pid(), g1.pid());
    drop(other);
    assert!(
        g1.is_running(),
        "dropping an attached handle leaves the guest alone"
    );
    // Spawning it twice is refused.
    assert!(Guest::spawn(&s1).is_err());
    let pid1 = g1.pid();
    drop(g1);
    assert!(
        group_members(pid1).is_empty(),
        "drop crashes a spawned guest"
    );
    eprintln!("total: {:?}", t0.elapsed());
}

/// `attach_console`: UML gives console 1 a host pty, the guest keeps a shell on it. Also
/// `autoconf_eth0=`, `def_route=` and `hosthome=`.
#[test]
fn attachable_console() {
    if !tools_present() {
        return;
    }
    let _lock = lab_lock();
    let lab = Lab::new();
    let mut s = lab.spec("pc3", 3);
    s.attach_console = true;
    // Also Netkit's tap-style keys and a home dir.
    s.append = vec![
        "autoconf_eth0=203.0.113.5".into(),
        "def_route=203.0.113.1".into(),
    ];
    let home = lab.dir.join("home");
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join("note"), "from the host home\n").unwrap();
    s.hosthome = Some(home);
    let mut g = spawn(&s);
    ready(&mut g);
    let pty = g.console_pty().expect("no pty in the console log");
    let out = talk(&pty, b"echo con-$((6*7)) $(hostname)\r", "con-42 pc3").unwrap();
    assert!(out.contains("con-42 pc3"), "{out:?}");
    let o = g
        .exec_script(
            "ip -4 addr show dev eth0; ip route; cat /hosthome/note",
            EXEC_TIMEOUT,
        )
        .unwrap();
    let text = o.stdout_text();
    assert!(text.contains("inet 203.0.113.5/24"), "{text}");
    assert!(text.contains("default via 203.0.113.1"), "{text}");
    assert!(text.contains("from the host home"), "{text}");
    assert_eq!(g.halt(Duration::from_secs(30)).unwrap(), HaltOutcome::Clean);
}

/// Writes `input` to the pty and reads until `want` appears (10 s at most).
fn talk(pty: &Path, input: &[u8], want: &str) -> io::Result<String> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(pty)?;
    // SAFETY: termios calls on a descriptor we own, with a zeroed struct they fill.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(f.as_raw_fd(), &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(f.as_raw_fd(), libc::TCSANOW, &t);
        }
    }
    f.write_all(input)?;
    let mut text = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(10) {
        match f.read(&mut buf) {
            Ok(n) if n > 0 => text.extend_from_slice(&buf[..n]),
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => return Err(e),
        }
        // The echo of the input holds `$((6*7))`, not the result, so a match means the
        // shell ran it.
        if String::from_utf8_lossy(&text).contains(want) {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// A guest that cannot answer (every process SIGSTOPped): `cad` gets no reply, SIGTERM
/// is not acted on, and halt ends in SIGKILL of the process group, with nothing left.
#[test]
fn halt_of_a_stuck_guest_kills_it() {
    if !tools_present() {
        return;
    }
    let _lock = lab_lock();
    let lab = Lab::new();
    let mut s = lab.spec("pc4", 4);
    s.interfaces.clear();
    let mut g = spawn(&s);
    ready(&mut g);
    let members = g.processes();
    for &p in &members {
        signal(p, libc::SIGSTOP).unwrap();
    }
    let t = Instant::now();
    assert_eq!(g.halt(Duration::from_secs(1)).unwrap(), HaltOutcome::Killed);
    eprintln!("halt of a stuck guest: {:?}", t.elapsed());
    for p in members {
        assert!(!alive(p), "process {p} survived");
    }
    assert!(group_members(g.pid()).is_empty());
    assert!(!lab.lab_dir().join("pc4.halted").exists());
    assert!(!s.umid_dir().exists(), "stale uml_dir/umid removed");
}

/// The Debian image (dash as init's shell, bash for the agent, no poweroff binary) with
/// FRR started the Kathara way (`systemctl start frr`) on one guest and the Netkit way
/// (`/etc/init.d/zebra start` with a Quagga-style `/etc/quagga`) on the other.
///
/// Building the image takes about a minute and needs root and a Debian mirror, so this
/// test is ignored; run it with `FLOWLAB_TEST_DEBIAN_IMAGE=<image>` (or without, to
/// build one into a temp data dir):
/// `cargo test -p flowlab-guests --test uml_guests -- --ignored debian`.
#[test]
#[ignore]
fn debian_guests_run_frr() {
    if !tools_present() {
        return;
    }
    let _lock = lab_lock();
    let mut lab = Lab::new();
    lab.base = match std::env::var_os("FLOWLAB_TEST_DEBIAN_IMAGE") {
        Some(p) => PathBuf::from(p),
        None => ImageStore::new(lab.dir.join("data"))
            .ensure(ImageKind::Debian, &BuildOptions::default(), &mut |p| {
                eprintln!("{:>3}% {}", p.done, p.message)
            })
            .expect("building the debian image"),
    };
    let l = lab.lab_dir();
    fs::write(
        l.join("pc1.startup"),
        "ip link set eth0 up\nip addr add 198.51.100.1/24 dev eth0\n\
         sed -i 's/^ripd=no/ripd=yes/' /etc/frr/daemons\n\
         printf 'router rip\\n network 198.51.100.0/24\\n' >> /etc/frr/frr.conf\n\
         systemctl start frr\n",
    )
    .unwrap();
    fs::create_dir_all(l.join("pc2/etc/quagga")).unwrap();
    fs::write(l.join("pc2/etc/quagga/daemons"), "zebra=yes\nripd=yes\n").unwrap();
    fs::write(
        l.join("pc2/etc/quagga/ripd.conf"),
        "router rip\n network 198.51.100.0/24\n",
    )
    .unwrap();
    fs::write(
        l.join("pc2.startup"),
        "ifconfig eth0 198.51.100.2 netmask 255.255.255.0 up\n/etc/init.d/zebra start\n",
    )
    .unwrap();
    let s1 = lab.spec("pc1", 1);
    let s2 = lab.spec("pc2", 2);
    let mut g1 = spawn(&s1);
    let mut g2 = spawn(&s2);
    eprintln!("ready: pc1 {:?}, pc2 {:?}", ready(&mut g1), ready(&mut g2));
    let o = g1
        .exec(
            &["ping", "-c", "1", "-W", "5", "198.51.100.2"],
            EXEC_TIMEOUT,
        )
        .unwrap();
    assert_eq!(o.status, 0, "{}{}", o.stdout_text(), o.stderr_text());
    for g in [&g1, &g2] {
        let o = g
            .exec_script("ps -e -o comm= | sort | tr '\\n' ' '", EXEC_TIMEOUT)
            .unwrap();
        let ps = o.stdout_text();
        assert!(
            ps.contains("zebra") && ps.contains("ripd"),
            "{}: {ps}",
            g.name()
        );
        let o = g
            .exec(&["vtysh", "-c", "show running-config"], EXEC_TIMEOUT)
            .unwrap();
        assert!(
            o.stdout_text().contains("network 198.51.100.0/24"),
            "{}: {}{}",
            g.name(),
            o.stdout_text(),
            o.stderr_text()
        );
    }
    assert_eq!(
        g1.halt(Duration::from_secs(30)).unwrap(),
        HaltOutcome::Clean
    );
    assert_eq!(
        fs::read_to_string(l.join("pc1.halted")).unwrap(),
        "pc1 shutdown pc1 first version\n"
    );
    assert_eq!(
        g2.halt(Duration::from_secs(30)).unwrap(),
        HaltOutcome::Clean
    );
}
