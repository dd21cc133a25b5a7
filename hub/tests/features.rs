//! flowlab-hub's features beyond uml_switch's basics: dump ports, live pcapng capture read
//! by tshark, v0 clients, VDE pathname clients with wanted ports, UML vector-transport
//! (bess) clients, the tap port, ctl.
mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{frame, Hub};
use flowlab_datapath::port::unix_addr::UnixAddr;
use flowlab_datapath::port::unix_dgram::{bind, dgram_socket, send_batch_to};
use flowlab_hub::client::{poll_one, ClientStyle, UmlClient};

const Q: Duration = Duration::from_millis(300);

#[test]
fn dump_port_sees_unicast_and_floods_and_sends_nothing() {
    let hub = Hub::start("feat-dump", &[]);
    let mut a = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut b = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut dump = UmlClient::connect(&hub.ctl(), ClientStyle::Dump).unwrap();
    a.send(&frame(0xff, 0xa, 60)).unwrap(); // broadcast
    b.send(&frame(0xa, 0xb, 61)).unwrap(); // unicast to a known port
    let seen: Vec<usize> = dump.drain(Q).unwrap().iter().map(Vec::len).collect();
    assert_eq!(seen, vec![60, 61]);
    // Frames from the dump port go nowhere and teach nothing.
    dump.send(&frame(0xff, 0xd, 62)).unwrap();
    assert!(a.drain(Q).unwrap().iter().all(|f| f.len() != 62));
    assert!(b.drain(Q).unwrap().iter().all(|f| f.len() != 62));
    assert!(!hub.ctl_cmd(&["macs"]).contains("02:00:00:00:00:0d"));
    assert!(hub.ctl_cmd(&["ports"]).contains(" dump "));
}

#[test]
fn capture_streams_pcapng_that_tshark_reads() {
    if Command::new("tshark").arg("--version").output().is_err() {
        panic!("tshark is missing: install Debian's tshark (scripts/setup.sh does)");
    }
    let hub = Hub::start("feat-capture", &[]);
    let a = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut b = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let pcap = hub.dir.join("all.pcapng");
    let mut cap = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args(["ctl", hub.ctl().to_str().unwrap(), "capture", "all", "-w"])
        .arg(&pcap)
        .spawn()
        .unwrap();
    assert!(hub.wait_log(|l| l.contains("capture of all started")));
    for i in 0..5 {
        let mut f = frame(0xff, 0xa, 100 + i);
        f[12] = 0x08;
        f[13] = 0x06; // ARP ethertype, so tshark names the protocol
        a.send(&f).unwrap();
    }
    assert_eq!(b.drain(Q).unwrap().len(), 5);
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: ending the ctl process we started; the switch sees the sink hang up.
    unsafe { libc::kill(cap.id() as i32, libc::SIGTERM) };
    let _ = cap.wait();
    let out = Command::new("tshark")
        .args([
            "-r",
            pcap.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "frame.interface_name",
            "-e",
            "eth.src",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        5,
        "tshark read: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (i, l) in lines.iter().enumerate() {
        assert!(l.starts_with(&format!("{}\tport1", 100 + i)), "{l}");
        assert!(l.ends_with("02:00:00:00:00:0a"), "{l}");
    }
    assert!(hub.wait_log(|_| !hub.ctl_cmd(&["counters"]).is_empty()));
}

#[test]
fn capture_of_one_port_to_stdout_shows_both_directions() {
    let hub = Hub::start("feat-capture-port", &[]);
    let a = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let b = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut cap = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args([
            "ctl",
            hub.ctl().to_str().unwrap(),
            "capture",
            "2",
            "-w",
            "-",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(hub.wait_log(|l| l.contains("capture of 2 started")));
    a.send(&frame(0xff, 0xa, 70)).unwrap(); // out of port 2
    b.send(&frame(0xa, 0xb, 71)).unwrap(); // into port 2
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: ending the ctl process we started.
    unsafe { libc::kill(cap.id() as i32, libc::SIGTERM) };
    let mut bytes = Vec::new();
    cap.stdout.take().unwrap().read_to_end(&mut bytes).unwrap();
    let _ = cap.wait();
    // Walk the pcapng blocks: SHB, IDB, then two EPBs flagged outbound (2) and inbound (1).
    let mut at = 0;
    let mut epbs = Vec::new();
    while at + 12 <= bytes.len() {
        let ty = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if ty == 6 {
            let caplen = u32::from_le_bytes(bytes[at + 20..at + 24].try_into().unwrap()) as usize;
            let opt = at + 28 + caplen.div_ceil(4) * 4;
            let flags = u32::from_le_bytes(bytes[opt + 4..opt + 8].try_into().unwrap());
            epbs.push((caplen, flags));
        }
        at += len;
    }
    assert_eq!(epbs, vec![(70, 2), (71, 1)]);
}

#[test]
fn ctl_rejects_unknown_ports_and_commands_clearly() {
    let hub = Hub::start("feat-ctl", &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args(["ctl", hub.ctl().to_str().unwrap(), "capture", "42"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no port '42'"));
    let out = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args(["ctl", "/nonexistent/x", "show"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
    let out = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args(["-bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
}

#[test]
fn version_0_clients_through_the_shared_data_socket() {
    let dir = std::env::temp_dir().join(format!("fh-feat-v0-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    // -compat-v0 must precede -unix: start by hand.
    let ctl = dir.join("ctl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args([
            "-compat-v0",
            "-unix",
            ctl.to_str().unwrap(),
            data.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        flowlab_hub::client::wait_listening(&ctl, Duration::from_secs(5)),
        "the switch did not start listening"
    );
    let data_addr = UnixAddr::pathname(&data).unwrap();
    let mut socks = Vec::new();
    let mut ctls = Vec::new();
    for i in 0..2u8 {
        let addr = UnixAddr::abstract_full(format!("fh-v0-{}-{i}", std::process::id()).as_bytes());
        let s = dgram_socket().unwrap();
        bind(s.as_raw_fd(), &addr).unwrap();
        let mut req = vec![0u8; 120];
        req[10..120].copy_from_slice(&addr.to_wire());
        let mut c = UnixStream::connect(&ctl).unwrap();
        c.write_all(&req).unwrap();
        socks.push(s);
        ctls.push(c);
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut errors = 0;
    let f = frame(0xff, 0x1, 60);
    send_batch_to(socks[0].as_raw_fd(), Some(&data_addr), &[&f], &mut errors).unwrap();
    assert!(
        poll_one(socks[1].as_raw_fd(), libc::POLLIN, Duration::from_secs(2)).unwrap(),
        "v0 peer got the flood"
    );
    let mut buf = [0u8; 2048];
    // SAFETY: reading into our buffer.
    let n = unsafe {
        libc::recv(
            socks[1].as_raw_fd(),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            0,
        )
    };
    assert_eq!(n, 60);
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
    assert!(!ctl.exists() && !data.exists(), "sockets removed on exit");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vde_clients_get_pathname_sockets_and_wanted_ports() {
    let dir = std::env::temp_dir().join(format!("fh-vdedir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let hub = Hub::start("feat-vde", &["--vde", dir.to_str().unwrap()]);
    assert!(
        flowlab_hub::client::wait_listening(&dir.join("ctl"), Duration::from_secs(5)),
        "the switch did not start listening"
    );
    let style = |port| ClientStyle::Vde {
        dir: dir.clone(),
        port,
        description: "test user=me".into(),
    };
    let mut v7 = UmlClient::connect(&dir.join("ctl"), style(7)).unwrap();
    let u = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    assert!(
        v7.switch_addr().path().unwrap().starts_with(&dir),
        "a per-port pathname socket"
    );
    let ports = hub.ctl_cmd(&["ports"]);
    assert!(
        ports
            .lines()
            .any(|l| l.starts_with("7 vde port7_vde_test_user=me")),
        "{ports}"
    );
    assert!(
        UmlClient::connect(&dir.join("ctl"), style(7)).is_err(),
        "a taken port is refused"
    );
    u.send(&frame(0xff, 0x1, 60)).unwrap();
    assert_eq!(v7.drain(Q).unwrap().len(), 1);
    let sock_file = v7.switch_addr().path().unwrap().to_path_buf();
    drop(v7);
    assert!(
        hub.wait_log(|_| !sock_file.exists()),
        "the per-port socket file is unlinked"
    );
    drop(hub);
    assert!(!dir.exists(), "the VDE directory it created is removed");
}

#[test]
fn second_switch_on_a_live_socket_refuses_and_stale_socket_is_taken_over() {
    let hub = Hub::start("feat-inuse", &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .arg("-unix")
        .arg(hub.ctl())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has another server attached to it"));
    // A stale socket file (no listener) is replaced.
    let stale = hub.dir.join("stale.ctl");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .arg("-unix")
        .arg(&stale)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = [0u8; 200];
    let n = child.stdout.as_mut().unwrap().read(&mut line).unwrap();
    assert!(String::from_utf8_lossy(&line[..n]).contains("attached to unix socket"));
    assert!(UmlClient::connect(&stale, ClientStyle::Uml).is_ok());
    // SAFETY: SIGTERM to the child we started: it must clean up and exit.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert!(!stale.exists());
}

#[test]
fn tap_port_reaches_a_network_namespace() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        panic!("the tap test needs root (CAP_NET_ADMIN) for its network namespace");
    }
    let ns = format!("fhtap{}", std::process::id());
    let tap = format!("fht{}", std::process::id() % 100_000);
    let ok = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    assert!(ok(&["netns", "add", &ns]), "ip netns add");
    struct NsGuard(String);
    impl Drop for NsGuard {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    let _guard = NsGuard(ns.clone());
    let dir = std::env::temp_dir().join(format!("fh-feat-tap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctl = dir.join("ctl");
    // The switch runs inside the namespace, so the tap appears there.
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_flowlab-hub"),
            "-tap",
            &tap,
            "-unix",
            ctl.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Stopped even when an assertion below fails, so the test never waits on it.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            // SAFETY: SIGINT to the child we started (ip netns exec passes it on by exec).
            unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
            let _ = self.0.wait();
        }
    }
    let child = Stop(child);
    assert!(
        flowlab_hub::client::wait_listening_of(child.0.id(), &ctl, Duration::from_secs(5)),
        "the switch did not start listening"
    );
    assert!(ok(&[
        "-n",
        &ns,
        "addr",
        "add",
        "198.51.100.100/24",
        "dev",
        &tap
    ]));
    assert!(ok(&["-n", &ns, "link", "set", &tap, "up"]));
    // Abstract data sockets are per namespace: the client must live there too, so answer
    // ARP from a helper thread that entered the namespace.
    let ns2 = ns.clone();
    let ctl2 = ctl.clone();
    let responder = std::thread::spawn(move || -> usize {
        let f = std::fs::File::open(format!("/run/netns/{ns2}")).unwrap();
        // SAFETY: moving this thread into the namespace we created.
        assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        let mut c = UmlClient::connect(&ctl2, ClientStyle::Uml).unwrap();
        let my_mac = [2, 0, 0, 0, 0, 0x42];
        let mut replies = 0;
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(8) && replies < 3 {
            let Some(f) = c.recv(Duration::from_millis(200)).unwrap() else {
                continue;
            };
            // ARP request for 198.51.100.42 -> reply; ICMP echo request -> reply.
            if f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[38..42] == [198, 51, 100, 42] {
                let mut r = f.clone();
                r.copy_within(6..12, 0);
                r[6..12].copy_from_slice(&my_mac);
                r[21] = 2;
                r.copy_within(22..32, 32);
                r[22..28].copy_from_slice(&my_mac);
                r[28..32].copy_from_slice(&[198, 51, 100, 42]);
                c.send(&r).unwrap();
            } else if f.len() >= 42 && f[12..14] == [0x08, 0x00] && f[23] == 1 && f[34] == 8 {
                let mut r = f.clone();
                r.copy_within(6..12, 0);
                r[6..12].copy_from_slice(&my_mac);
                let (src, dst) = (f[26..30].to_vec(), f[30..34].to_vec());
                r[26..30].copy_from_slice(&dst);
                r[30..34].copy_from_slice(&src);
                r[34] = 0;
                // ICMP checksum: type 8 -> 0 adds 0x0800 to the ones' complement sum.
                let ck = u16::from_be_bytes([r[36], r[37]]);
                let sum = ck as u32 + 0x0800;
                let sum = (sum & 0xffff) + (sum >> 16);
                r[36..38].copy_from_slice(&(sum as u16).to_be_bytes());
                c.send(&r).unwrap();
                replies += 1;
            }
        }
        replies
    });
    std::thread::sleep(Duration::from_millis(300));
    let ping = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            "ping",
            "-c",
            "3",
            "-i",
            "0.2",
            "-W",
            "2",
            "198.51.100.42",
        ])
        .output()
        .unwrap();
    let replies = responder.join().unwrap();
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        replies,
        3,
        "ping output: {}",
        String::from_utf8_lossy(&ping.stdout)
    );
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );
}

#[test]
fn daemon_detaches_and_keeps_serving() {
    let dir = std::env::temp_dir().join(format!("fh-feat-daemon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctl = dir.join("ctl");
    let status = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args(["-daemon", "-unix", ctl.to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the foreground process returns once detached"
    );
    assert!(ctl.exists());
    let show = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .args(["ctl", ctl.to_str().unwrap(), "show"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&show.stdout).to_string();
    let pid: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("pid: "))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in show: {text}"));
    let a = UmlClient::connect(&ctl, ClientStyle::Uml);
    // SAFETY: SIGTERM to the daemon this test started, found by the pid it reported.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(a.is_ok());
    let t = Instant::now();
    while ctl.exists() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!ctl.exists(), "the daemon removed its socket on SIGTERM");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mac_aging_and_table_size_limit() {
    let hub = Hub::start(
        "feat-mac-opts",
        &["--mac-aging", "1", "--mac-table-size", "4"],
    );
    let a = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut b = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut c = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    for src in 1..=10u8 {
        a.send(&frame(0xff, src, 60)).unwrap();
    }
    b.drain(Q).unwrap();
    c.drain(Q).unwrap();
    let macs = hub.ctl_cmd(&["macs"]);
    assert_eq!(macs.lines().count(), 1 + 4, "at most 4 entries:\n{macs}");
    let counters = hub.ctl_cmd(&["counters"]);
    assert!(counters.contains("mac_evictions=6"), "{counters}");
    // B is learned; unicast to it reaches only B ...
    b.send(&frame(0xff, 0xb, 60)).unwrap();
    c.drain(Q).unwrap();
    a.send(&frame(0xb, 0x1, 61)).unwrap();
    assert_eq!(b.drain(Q).unwrap().len(), 1);
    assert!(c.drain(Q).unwrap().is_empty());
    // ... until B is silent for longer than the aging time: then it floods again.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        !hub.ctl_cmd(&["macs"]).contains("02:00:00:00:00:0b"),
        "aged out"
    );
    a.send(&frame(0xb, 0x1, 62)).unwrap();
    assert_eq!(b.drain(Q).unwrap().len(), 1);
    assert_eq!(c.drain(Q).unwrap().len(), 1, "unknown again: flooded");
}

/// A UML vector-transport (`bess`) client: a connected seqpacket socket, as UML's
/// `vecN:transport=bess,dst=PATH` opens it.
fn bess_client(path: &std::path::Path) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    let addr = UnixAddr::pathname(path).unwrap();
    // SAFETY: plain socket and connect calls on our own descriptor.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        assert_eq!(libc::connect(fd.as_raw_fd(), addr.as_ptr(), addr.len()), 0);
        fd
    }
}

/// Frames waiting on a seqpacket client, until it is quiet for `Q`.
fn bess_drain(fd: &std::os::fd::OwnedFd) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while poll_one(fd.as_raw_fd(), libc::POLLIN, Q).unwrap_or(false) {
        let mut buf = vec![0u8; 2048];
        // SAFETY: reading into our buffer.
        let n = unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n <= 0 {
            break;
        }
        buf.truncate(n as usize);
        out.push(buf);
    }
    out
}

#[test]
fn vector_transport_clients_are_ports_until_they_close() {
    let dir = std::env::temp_dir().join(format!("fh-feat-bess-{}", std::process::id()));
    let bess = dir.join("b.bess");
    let hub = Hub::start("feat-bess", &["--bess", bess.to_str().unwrap()]);
    assert!(flowlab_hub::client::wait_listening(
        &bess,
        Duration::from_secs(5)
    ));
    assert!(hub.log().contains("serving UML vector (bess) clients"));
    let a = bess_client(&bess);
    let b = bess_client(&bess);
    let mut u = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    assert!(hub.wait_log(|l| l.matches("UML vector transport bess").count() == 2));
    let ports = hub.ctl_cmd(&["ports"]);
    assert_eq!(
        ports.lines().filter(|l| l.contains(" bess port")).count(),
        2,
        "{ports}"
    );
    // An unknown destination from a is flooded to b and the daemon client, one message
    // per frame.
    let f = frame(0xff, 0x0a, 100);
    let mut errs = 0;
    send_batch_to(a.as_raw_fd(), None, &[&f, &f[..60]], &mut errs).unwrap();
    assert_eq!(bess_drain(&b), vec![f.clone(), f[..60].to_vec()]);
    assert_eq!(u.drain(Q).unwrap().len(), 2);
    // The daemon client answers a by address: learned, so only a gets it.
    u.send(&frame(0x0a, 0x0c, 80)).unwrap();
    assert_eq!(bess_drain(&a).len(), 1);
    assert!(bess_drain(&b).is_empty());
    // A second switch on the live listener refuses.
    let out = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
        .arg("--bess")
        .arg(&bess)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has another server attached to it"));
    // Closing a client ends its port; its addresses are forgotten.
    drop(a);
    assert!(hub.wait_log(|l| l.contains("closed by the peer")));
    let ports = hub.ctl_cmd(&["ports"]);
    assert_eq!(
        ports.lines().filter(|l| l.contains(" bess port")).count(),
        1
    );
    assert!(!hub.ctl_cmd(&["macs"]).contains("02:00:00:00:00:0a"));
    drop(hub);
    assert!(!bess.exists(), "the listener's file is removed on exit");
}
