//! The example labs end to end with real UML guests, through the `flowlab` binary:
//! two hosts ping (hub mode, UML's vector transport, then OpenFlow with l2_learning and
//! the controller's flows checked), the static-routes lab's traceroute path (`flowlab test`), `vm` guests, and
//! the RIP lab on the Debian image. After `clean` no process, socket or file of the lab is
//! left.
//!
//! Needs `linux.uml` (user-mode-linux), `mkfs.ext4`, `busybox` (busybox-static) and
//! flowlab-hub/flowlab-controller built next to flowlab; skips when a package is missing.
//! Serialised with every other UML test of the machine through the flock on
//! `/tmp/flowlab-tests-uml-guests.lock`. Busybox images are built (about a second) into
//! a temp FLOWLAB_DATA per test. The RIP test needs the Debian image (root and a Debian
//! mirror to build, minutes): it uses the one in `$FLOWLAB_DEBIAN_DATA`, else the
//! default data dir (`flowlab image build --kind debian`), and skips when there is none
//! unless `FLOWLAB_TESTS_BUILD_DEBIAN=1`.

mod cli_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cli_support::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of example lab `name` in a fresh temp dir (`tag`), its FLOWLAB_DATA, and a guard
/// that cleans the lab up however the test ends. Keep the `TempDir` alive.
fn example_lab(tag: &str, name: &str) -> (TempDir, PathBuf, PathBuf, LabGuard) {
    let t = TempDir::new(tag);
    let data = t.join("data");
    let lab = copy_example(name, &t.join("lab"));
    let guard = LabGuard {
        dir: lab.clone(),
        data: Some(data.clone()),
    };
    (t, data, lab, guard)
}

/// Asserts that nothing of the lab is left: no recorded process, no process naming the
/// lab, no `.flowlab`, no `.ready`, no short socket dir.
fn assert_gone(lab: &Path, procs: &[Proc], short: Option<&Path>) {
    for (kind, name, pid, start) in procs {
        assert!(
            wait_for(Duration::from_secs(5), || !proc_alive(*pid, *start)),
            "{kind} {name} (pid {pid}) still runs"
        );
    }
    let left = processes_mentioning(&format!("{}/", lab.display()));
    assert!(left.is_empty(), "processes still name the lab: {left:?}");
    assert!(!lab.join(".flowlab").exists());
    for e in fs::read_dir(lab).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(!n.ends_with(".ready"), "{n} left");
    }
    if let Some(d) = short {
        assert!(!d.exists(), "{} left", d.display());
    }
}

/// The two-host lab in a deep directory (so its sockets move to the short socket dir):
/// start, a second start refused, ping, exit statuses, info, halt (the .shutdown file
/// runs), start of one machine, clean; then nothing of the lab is left.
#[test]
fn two_hosts_start_ping_halt_clean() {
    if !uml_available() {
        return;
    }
    let _lock = lab_lock();
    let t = TempDir::new("flab");
    let data = t.join("data");
    let deep = t.join(&format!("{}/{}", "d".repeat(50), "e".repeat(40)));
    let lab = copy_example("two-hosts", &deep.join("lab"));
    fs::write(
        lab.join("pc1.shutdown"),
        "echo \"pc1 went down cleanly\" > /hostlab/pc1.bye\n",
    )
    .unwrap();
    let _guard = LabGuard {
        dir: lab.clone(),
        data: Some(data.clone()),
    };
    let d = s(&lab);

    let t0 = Instant::now();
    let o = flowlab(&["start", "-d", d], Some(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    eprintln!("start: {:?}", t0.elapsed());
    assert!(stderr(&o).contains("2 machines up"), "{}", stderr(&o));
    let procs = recorded(&lab);
    let kinds: Vec<(&str, &str)> = procs.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
    assert_eq!(kinds, [("hub", "A"), ("guest", "pc1"), ("guest", "pc2")]);
    assert!(procs.iter().all(|p| proc_alive(p.2, p.3)));
    assert!(lab.join("pc1.ready").exists() && lab.join("pc2.ready").exists());
    // The sockets did not fit under the lab: they live in the short dir, linked.
    let hubs = fs::read_link(lab.join(".flowlab/hubs")).expect(".flowlab/hubs is a link");
    let short = hubs.parent().unwrap().to_path_buf();
    assert!(hubs.join("A.ctl").as_os_str().len() < 108);
    assert!(fs::symlink_metadata(hubs.join("A.ctl")).is_ok());

    // A second start is refused and names the pids.
    let o = flowlab(&["start", "-d", d], Some(&data));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("is already running (pids"), "{e}");
    assert!(e.contains(&procs[1].2.to_string()), "{e}");

    // exec: the ping, and exit statuses and output.
    let o = flowlab(&ping_args(d, "pc1", "1", "198.51.100.2"), None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 packets received"), "{}", stdout(&o));
    let o = flowlab(
        &[
            "exec",
            "-d",
            d,
            "pc2",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        (stdout(&o).as_str(), stderr(&o).as_str()),
        ("out\n", "err\n")
    );
    let o = flowlab(&["exec", "-d", d, "pc2", "hostname; cat /etc/motd"], None);
    assert_eq!(
        stdout(&o),
        "pc2\npc2: 198.51.100.2/24 on collision domain A\n"
    );
    let o = flowlab(
        &[
            "exec",
            "-d",
            d,
            "--timeout",
            "1",
            "pc2",
            "--",
            "sleep",
            "30",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));

    // info knows they run; console finds the pty.
    let o = flowlab(&["info", "-d", d], None);
    assert!(
        stdout(&o).contains(&format!("running, pid {}", procs[1].2)),
        "{}",
        stdout(&o)
    );
    let o = flowlab(&["console", "-d", d, "pc1"], None);
    assert!(
        stdout(&o).contains("console on /dev/pts/"),
        "{}",
        stdout(&o)
    );

    // halt: the .shutdown file runs, every process ends, hubs too; disks stay.
    let o = flowlab(&["halt", "-d", d], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("pc1: halted"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(lab.join("pc1.bye")).unwrap(),
        "pc1 went down cleanly\n"
    );
    fs::remove_file(lab.join("pc1.bye")).unwrap();
    for (kind, name, pid, start) in &procs {
        assert!(!proc_alive(*pid, *start), "{kind} {name} survived halt");
    }
    assert!(recorded(&lab).is_empty());
    assert!(lab.join(".flowlab/cow/pc1.cow").exists());
    assert!(!lab.join("pc1.ready").exists());

    // One machine again, on its kept disk.
    let o = flowlab(&["start", "-d", d, "pc2"], Some(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    let procs2 = recorded(&lab);
    assert_eq!(procs2.len(), 2, "{procs2:?}");

    let o = flowlab(&["clean", "-d", d], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_gone(&lab, &[procs, procs2].concat(), Some(&short));
    let o = flowlab(&["clean", "-d", d], None);
    assert!(stderr(&o).contains("nothing to clean"));
    eprintln!("two_hosts_start_ping_halt_clean: {:?}", t0.elapsed());
}

/// `flowlab-hub ctl SOCK show`.
fn hub_show(ctl: &Path) -> String {
    hub_ctl(ctl, "show")
}

/// `flowlab-hub ctl SOCK WHAT`.
fn hub_ctl(ctl: &Path, what: &str) -> String {
    let hub = flowlab_bin().parent().unwrap().join("flowlab-hub");
    let hub = std::env::var_os("FLOWLAB_HUB_BIN")
        .map(PathBuf::from)
        .unwrap_or(hub);
    let o = Command::new(hub)
        .arg("ctl")
        .arg(ctl)
        .arg(what)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The two-host lab on UML's vector transport (`--transport bess`): the guests' vec0 is
/// renamed eth0 before the unchanged startup files run, the guests are pinned one CPU
/// each, the hub's ports are `bess` connections, the ping works, and `clean` leaves
/// nothing (the `.bess` sockets too).
#[test]
fn two_hosts_over_the_vector_transport() {
    if !uml_available() {
        return;
    }
    let _lock = lab_lock();
    let (_t, data, lab, _guard) = example_lab("flvec", "two-hosts");
    let d = s(&lab);
    let o = flowlab(&["start", "-d", d, "--transport", "bess"], Some(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    let procs = recorded(&lab);
    // Pinned one CPU each, round-robin in lab order (pc1, pc2), when there are several.
    let cpus = flowlab_guests::launcher::pin_cpus();
    for (i, name) in ["pc1", "pc2"].iter().enumerate() {
        let pid = procs.iter().find(|p| p.1 == *name).unwrap().2;
        let allowed = flowlab_guests::uml::process::cpus_allowed(pid);
        if let Some(c) = flowlab_guests::launcher::cpu_for(&cpus, i) {
            assert_eq!(allowed, Some(c.to_string()), "{name}");
        }
    }
    let ports = hub_ctl(&lab.join(".flowlab/hubs/A.ctl"), "ports");
    assert_eq!(ports.matches(" bess").count(), 2, "{ports}");
    assert!(lab.join(".flowlab/hubs/A.bess").exists());
    let o = flowlab(&ping_args(d, "pc1", "2", "198.51.100.2"), None);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("2 packets received"), "{}", stdout(&o));
    let o = flowlab(&["exec", "-d", d, "pc2", "--", "ip", "-o", "link"], None);
    let links = stdout(&o);
    assert!(
        links.contains(": eth0:") && !links.contains("vec0"),
        "{links}"
    );
    let o = flowlab(&["clean", "-d", d], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_gone(&lab, &procs, None);
}

/// The two-host lab in OpenFlow mode: one controller (l2_learning), the hub in
/// `--fail-mode secure`; the ping works and the controller's flows carry the guests'
/// addresses.
#[test]
fn two_hosts_openflow_l2_learning() {
    if !uml_available() {
        return;
    }
    let _lock = lab_lock();
    let (_t, data, lab, _guard) = example_lab("flof", "two-hosts");
    let d = s(&lab);
    let t0 = Instant::now();
    let o = flowlab(&["start", "-d", d, "--openflow"], Some(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("openflow:l2_learning mode"),
        "{}",
        stderr(&o)
    );
    let procs = recorded(&lab);
    assert_eq!(procs[0].0, "controller");
    let ctl = lab.join(".flowlab/hubs/A.ctl");
    let show = hub_show(&ctl);
    assert!(show.contains("datapath id 0000000000000001"), "{show}");
    assert!(
        show.contains(&format!(
            "controller unix:{}/.flowlab/ctl.sock: connected",
            lab.display()
        )),
        "{show}"
    );
    let hub_cmdline = fs::read(format!("/proc/{}/cmdline", procs[1].2)).unwrap();
    let hub_args: Vec<String> = hub_cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let pos = hub_args.iter().position(|a| a == "--fail-mode");
    assert_eq!(
        pos.map(|i| hub_args[i + 1].as_str()),
        Some("secure"),
        "{hub_args:?}"
    );
    assert!(!hub_args.iter().any(|a| a == "-hub"), "{hub_args:?}");

    let o = flowlab(&ping_args(d, "pc1", "2", "198.51.100.2"), None);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let mac = |vm: &str| {
        let o = flowlab(
            &[
                "exec",
                "-d",
                d,
                vm,
                "--",
                "cat",
                "/sys/class/net/eth0/address",
            ],
            None,
        );
        stdout(&o).trim().to_string()
    };
    let (m1, m2) = (mac("pc1"), mac("pc2"));
    assert_eq!(m1.len(), 17, "{m1}");
    let show = hub_show(&ctl);
    assert!(!show.contains("flow mods 0;"), "{show}");
    // The flows the controller installed: one per direction, on both addresses.
    let of = lab.join(".flowlab/hubs/A.of");
    match Command::new("ovs-ofctl")
        .arg("dump-flows")
        .arg(format!("unix:{}", of.display()))
        .output()
    {
        Ok(o) => {
            let flows = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(
                o.status.success(),
                "{flows}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            let hit = |src: &str, dst: &str| {
                flows.lines().any(|l| {
                    l.contains(&format!("dl_src={src}")) && l.contains(&format!("dl_dst={dst}"))
                })
            };
            assert!(hit(&m1, &m2) && hit(&m2, &m1), "{m1} {m2}:\n{flows}");
            assert!(flows.contains("actions=CONTROLLER"), "{flows}");
        }
        Err(e) => eprintln!("NOTE: ovs-ofctl not run ({e}); flows checked through ctl show only"),
    }
    let o = flowlab(&["clean", "-d", d], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_gone(&lab, &procs, None);
    eprintln!("two_hosts_openflow_l2_learning: {:?}", t0.elapsed());
}

/// `flowlab test` on the static-routes lab: the traceroute paths match `_test/expected`,
/// and so do the routers' built-in signatures; a wrong expectation fails with exit 1.
#[test]
fn static_routes_traceroute_and_ltest() {
    if !uml_available() {
        return;
    }
    let _lock = lab_lock();
    let (t, data, lab, _guard) = example_lab("flst", "static-routes");
    let d = s(&lab);
    let t0 = Instant::now();
    let o = flowlab(&["test", "-d", d, "-p", "3"], Some(&data));
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    for m in ["pc1", "pc2"] {
        assert!(out.contains(&format!("{m}: ok ({m}.user)")), "{out}");
    }
    for m in ["r1", "r2", "r3"] {
        assert!(out.contains(&format!("{m}: ok ({m}.default)")), "{out}");
    }
    assert_eq!(
        fs::read_to_string(lab.join("_test/results/pc1.user")).unwrap(),
        "1 198.51.100.1\n2 198.51.100.66\n3 203.0.113.2\n4 203.0.113.70\n"
    );
    let r2 = fs::read_to_string(lab.join("_test/results/r2.default")).unwrap();
    assert!(
        r2.contains("[ROUTING TABLE]") && r2.contains("203.0.113.64/26 via 203.0.113.2"),
        "{r2}"
    );
    // ltest cleans up after itself.
    assert!(!lab.join(".flowlab").exists());
    eprintln!("static-routes test: {:?}", t0.elapsed());

    // A wrong expectation: exit 1 and the difference.
    let lab2 = copy_example("two-hosts", &t.join("lab2"));
    let _guard2 = LabGuard {
        dir: lab2.clone(),
        data: Some(data.clone()),
    };
    fs::write(
        lab2.join("_test/expected/pc2.user"),
        "eth0 198.51.100.2/24\n198.51.100.9 reachable\n",
    )
    .unwrap();
    let o = flowlab(&["test", "-d", s(&lab2)], Some(&data));
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("pc1: ok (pc1.user)"), "{out}");
    assert!(out.contains("pc2: DIFFERS"), "{out}");
    assert!(out.contains("pc2.user: - 198.51.100.9 reachable"), "{out}");
    assert!(out.contains("pc2.user: + 198.51.100.1 reachable"), "{out}");
    assert!(!lab2.join(".flowlab").exists());
    eprintln!("static_routes_traceroute_and_ltest: {:?}", t0.elapsed());
}

/// `vm start/list/halt/crash`: two single guests on one domain of the scratch lab.
#[test]
fn vm_commands() {
    if !uml_available() {
        return;
    }
    let _lock = lab_lock();
    let t = TempDir::new("flvm");
    let data = t.join("data");
    let vmdir = t.join("vms");
    let run = |args: &[&str]| {
        let mut c = Command::new(flowlab_bin());
        c.args(args)
            .env("FLOWLAB_DATA", &data)
            .env("FLOWLAB_VM_DIR", &vmdir);
        let o = c.output().unwrap();
        eprintln!("$ flowlab {}\n{}{}", args.join(" "), stdout(&o), stderr(&o));
        o
    };
    let _guard = LabGuard {
        dir: vmdir.clone(),
        data: Some(data.clone()),
    };
    let t0 = Instant::now();
    for (n, a) in [("va", "198.51.100.21"), ("vb", "198.51.100.22")] {
        let exec = format!("ip addr add {a}/24 dev eth0; ip link set eth0 up");
        let o = run(&["vm", "start", n, "--eth0=X", "--mem", "48", "--exec", &exec]);
        assert!(o.status.success());
    }
    let o = run(&["vm", "start", "va", "--eth0=X"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already running"));
    let o = run(&["vm", "list"]);
    let list = stdout(&o);
    assert!(
        list.contains("va") && list.contains("vb") && list.contains("eth0 @ X"),
        "{list}"
    );
    let o = run(&[
        "exec",
        "-d",
        s(&vmdir),
        "va",
        "--",
        "ping",
        "-c",
        "1",
        "-W",
        "5",
        "198.51.100.22",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let procs = recorded(&vmdir);
    assert_eq!(procs.len(), 3, "{procs:?}");
    let o = run(&["vm", "halt", "va"]);
    assert!(stderr(&o).contains("va: halted"));
    let o = run(&["vm", "crash", "vb"]);
    assert!(stderr(&o).contains("vb: crashed"));
    // The last guest gone, its hub is stopped too.
    for (kind, name, pid, start) in &procs {
        assert!(
            wait_for(Duration::from_secs(5), || !proc_alive(*pid, *start)),
            "{kind} {name} survived"
        );
    }
    assert!(recorded(&vmdir).is_empty());
    let o = run(&["vm", "list"]);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    let o = run(&["vm", "halt", "va"]);
    assert_eq!(o.status.code(), Some(1));
    eprintln!("vm_commands: {:?}", t0.elapsed());
}

/// The data dir holding a Debian image, if any.
fn debian_data() -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = [
        std::env::var_os("FLOWLAB_DEBIAN_DATA").map(PathBuf::from),
        std::env::var_os("FLOWLAB_DATA").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/flowlab")),
    ]
    .into_iter()
    .flatten()
    .collect();
    for d in &dirs {
        let has = fs::read_dir(d.join("images"))
            .map(|es| {
                es.flatten().any(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.starts_with("debian-") && n.ends_with(".img")
                })
            })
            .unwrap_or(false);
        if has {
            return Some(d.clone());
        }
    }
    if std::env::var_os("FLOWLAB_TESTS_BUILD_DEBIAN").is_some() {
        return dirs.last().cloned();
    }
    None
}

/// The RIP lab on the Debian image: `flowlab test` passes, i.e. every router learned the
/// subnets it is not on through RIP (destination and next hop as expected) and the hosts
/// ping each other across the three routers.
#[test]
fn rip_converges_on_debian() {
    if !uml_available() {
        return;
    }
    let Some(data) = debian_data() else {
        eprintln!(
            "SKIP: no Debian image (build one with `flowlab image build --kind debian` as root, \
             or set FLOWLAB_TESTS_BUILD_DEBIAN=1)"
        );
        return;
    };
    let _lock = lab_lock();
    let t = TempDir::new("flrip");
    let lab = copy_example("rip", &t.join("lab"));
    let _guard = LabGuard {
        dir: lab.clone(),
        data: Some(data.clone()),
    };
    let t0 = Instant::now();
    let o = flowlab(&["test", "-d", s(&lab)], Some(&data));
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    for m in ["pc1", "pc2", "r1", "r2", "r3"] {
        assert!(out.contains(&format!("{m}: ok ({m}.user)")), "{out}");
    }
    let r1 = fs::read_to_string(lab.join("_test/results/r1.user")).unwrap();
    assert!(r1.contains("203.0.113.64/26 198.51.100.66"), "{r1}");
    eprintln!("rip_converges_on_debian: {:?}", t0.elapsed());
}
