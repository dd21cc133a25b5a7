//! Interoperability with real peers a user meets: QEMU's `-nic vde`, and Netkit's process
//! contract (a `uml_switch` link, `lsof`-style socket counts).
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Hub;
use flowlab_hub::client::{ClientStyle, UmlClient};

/// QEMU boots no disk: its iPXE ROM sends DHCP discovers through the e1000 NIC, which
/// `-nic vde` plugs into flowlab-hub's VDE socket.
#[test]
fn qemu_nic_vde_connects_and_its_frames_arrive() {
    let qemu = "qemu-system-x86_64";
    if Command::new(qemu).arg("--version").output().is_err() {
        panic!("{qemu} is missing: install Debian's qemu-system-x86 (scripts/setup.sh does)");
    }
    let vde = std::env::temp_dir().join(format!("fh-qemu-vde-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&vde);
    let hub = Hub::start("interop-qemu", &["--vde", vde.to_str().unwrap()]);
    assert!(
        flowlab_hub::client::wait_listening(&vde.join("ctl"), Duration::from_secs(5)),
        "the switch did not start listening"
    );
    let mut listener = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mac = [0x52, 0x54, 0x00, 0x0f, 0x1a, 0xb0];
    let mut child = Command::new(qemu)
        .args([
            "-display",
            "none",
            "-nodefaults",
            "-no-user-config",
            "-m",
            "64",
            "-accel",
            "tcg",
        ])
        .args(["-boot", "n", "-serial", "none", "-nic"])
        .arg(format!(
            "vde,sock={},model=e1000,mac=52:54:00:0f:1a:b0",
            vde.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: ending the QEMU process this test started, by its pid.
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
    let guard = Kill(child.id());
    let t = Instant::now();
    let mut dhcp = None;
    while t.elapsed() < Duration::from_secs(60) && dhcp.is_none() {
        if let Some(f) = listener.recv(Duration::from_millis(500)).unwrap() {
            // IPv4, UDP, destination port 67: a DHCP discover from QEMU's NIC.
            if f.len() > 42
                && f[6..12] == mac
                && f[12..14] == [8, 0]
                && f[23] == 17
                && f[36..38] == [0, 67]
            {
                dhcp = Some(f);
            }
        }
    }
    let ports = hub.ctl_cmd(&["ports"]);
    drop(guard);
    let _ = child.wait();
    let stderr = {
        use std::io::Read;
        let mut s = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut s);
        s
    };
    assert!(
        ports
            .lines()
            .any(|l| l.contains(" vde ") && l.contains("QEMU")),
        "ports: {ports}\nqemu: {stderr}"
    );
    assert!(
        dhcp.is_some(),
        "no DHCP discover from QEMU within 60 s; qemu: {stderr}"
    );
    assert!(
        hub.wait_log(|l| l.contains("Disconnect")),
        "QEMU's port goes when QEMU does"
    );
    assert_eq!(
        hub.ctl_cmd(&["macs"]).lines().count(),
        1,
        "QEMU's MAC was purged with its port"
    );
}

/// Netkit runs `$NETKIT_HOME/bin/uml_switch`: a link by that name is a drop-in.
#[test]
fn a_link_named_uml_switch_is_a_drop_in() {
    let dir = std::env::temp_dir().join(format!("fh-interop-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("uml_switch");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_flowlab-hub"), &link).unwrap();
    let ctl = dir.join("hub.ctl");
    let out = dir.join("out");
    let mut child = Command::new(&link)
        .args(["-hub", "-unix", ctl.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    assert!(
        flowlab_hub::client::wait_listening(&ctl, Duration::from_secs(5)),
        "the switch did not start listening"
    );
    // Netkit finds the hub by its command line.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    let argv: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into())
        .collect();
    assert_eq!(
        argv,
        vec![
            link.to_str().unwrap(),
            "-hub",
            "-unix",
            ctl.to_str().unwrap()
        ]
    );
    // SAFETY: SIGTERM to the child we started, as Netkit's `kill` sends.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with(&format!(
            "{} will be a hub instead of a switch\n",
            link.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} attached to unix socket '{}'",
            link.display(),
            ctl.display()
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Netkit decides a hub is idle when the switch process holds at most one unix socket
/// named after the control path (`lsof -p PID | grep -c SOCKET`): one per client plus the
/// listener, nothing else under that name.
#[test]
fn sockets_named_after_the_control_path_are_the_listener_and_one_per_client() {
    let hub = Hub::start("interop-lsof", &[]);
    let count = || {
        let ctl = hub.ctl().to_str().unwrap().to_string();
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", hub.child.id()))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
            .filter_map(|l| {
                l.to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')
                    .map(String::from)
            })
            .collect();
        String::from_utf8_lossy(&std::fs::read("/proc/net/unix").unwrap())
            .lines()
            .filter(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() >= 8 && cols[7].contains(&ctl) && inodes.iter().any(|i| i == cols[6])
            })
            .count()
    };
    assert_eq!(count(), 1, "only the listener while idle");
    let clients: Vec<UmlClient> = (0..3)
        .map(|_| UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        count(),
        4,
        "the listener and one accepted socket per client: {}",
        String::from_utf8_lossy(&std::fs::read("/proc/net/unix").unwrap())
            .lines()
            .filter(|l| l.contains("interop-lsof"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(clients);
    assert!(hub.wait_log(|l| l.matches("Disconnect").count() == 3));
    assert_eq!(count(), 1, "idle again");
}

/// Like uml_switch, a switch whose stdin is a terminal exits cleanly on EOF (Ctrl-D).
/// `script` gives it a pseudo-terminal and passes on the EOF of its own stdin.
#[test]
fn eof_on_a_terminal_stdin_cleans_up_and_exits() {
    let dir = std::env::temp_dir().join(format!("fh-interop-tty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctl = dir.join("ctl");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!(
            "{} -unix {}",
            env!("CARGO_BIN_EXE_flowlab-hub"),
            ctl.display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (Debian bsdutils)");
    assert!(
        flowlab_hub::client::wait_listening(&ctl, Duration::from_secs(5)),
        "the switch did not start listening"
    );
    drop(child.stdin.take()); // EOF
    let pid = child.id() as i32;
    let (done, wait_done) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if wait_done.recv_timeout(Duration::from_secs(10)).is_err() {
            // SAFETY: ending the `script` we started, still unreaped (the main thread is
            // blocked waiting for it), because the switch never reacted to EOF.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    let _ = done.send(());
    let _ = watchdog.join();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "EOF did not stop the switch"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("EOF on stdin, cleaning up and exiting"),
        "{text}"
    );
    assert!(!ctl.exists(), "socket removed");
    let _ = std::fs::remove_dir_all(&dir);
}
