//! Bad input: the switch stays up, logs one clear line per bad thing, and leaks no
//! descriptor and no MAC entry.
mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::{frame, Hub};
use flowlab_datapath::port::unix_addr::UnixAddr;
use flowlab_hub::client::{ClientStyle, UmlClient};
use flowlab_hub::request::{UmlRequest, SWITCH_MAGIC};

/// Sends `bytes` as a request and returns true if the switch closed the connection
/// without replying.
fn refused(hub: &Hub, bytes: &[u8], close_after: bool) -> bool {
    let mut s = UnixStream::connect(hub.ctl()).unwrap();
    s.write_all(bytes).unwrap();
    if close_after {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 512];
    match s.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

fn some_addr() -> UnixAddr {
    UnixAddr::abstract_full(format!("fh-bad-{}", std::process::id()).as_bytes())
}

#[test]
fn malformed_requests_get_one_line_each_and_no_port() {
    let mut hub = Hub::start("bad-requests", &[]);
    let fds = hub.fd_count();
    let good = UmlRequest::encode_uml(&some_addr());

    let mut garbage = vec![0u8; 124];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(97).wrapping_add(13);
    }
    let mut v2 = good;
    v2[4] = 2;
    let mut v9 = good;
    v9[4] = 9;
    let mut bad_type = good;
    bad_type[8] = 7;
    let mut bad_family = good;
    bad_family[12] = 2;
    let mut oversized = SWITCH_MAGIC.to_ne_bytes().to_vec();
    oversized.extend_from_slice(&[0xff; 4096]);
    let v0 = {
        let mut b = vec![0u8; 120];
        b[10..120].copy_from_slice(&some_addr().to_wire());
        b
    };
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("garbage", garbage, false),
        ("short", good[..5].to_vec(), true),
        ("short v3", good[..100].to_vec(), true),
        ("version 2", v2.to_vec(), false),
        ("version 9", v9.to_vec(), false),
        ("bad type", bad_type.to_vec(), false),
        ("bad family", bad_family.to_vec(), false),
        ("oversized", oversized, false),
        ("v0 without -compat-v0", v0, false),
    ];
    for (i, (what, bytes, close)) in cases.iter().enumerate() {
        assert!(
            refused(&hub, bytes, *close),
            "{what}: the switch should close the connection"
        );
        assert!(
            hub.wait_log(|l| count(l, "Bad request") == i + 1),
            "{what}: expected exactly {} 'Bad request' lines, log:\n{}",
            i + 1,
            hub.log()
        );
        assert!(hub.alive(), "{what}: the switch died");
    }
    assert!(
        hub.ctl_cmd(&["ports"]).lines().count() == 1,
        "no port was created"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(hub.fd_count(), fds, "descriptors leaked");
}

#[test]
fn bytes_after_a_request_keep_the_port() {
    let hub = Hub::start("bad-extra", &[]);
    let mut a = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut b = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    a.control().write_all(b"unexpected trailing bytes").unwrap();
    a.control().write_all(b"and more").unwrap();
    assert!(
        hub.wait_log(|l| count(l, "ignoring") == 1),
        "one line for the extra bytes:\n{}",
        hub.log()
    );
    a.send(&frame(0xb, 0xa, 60)).unwrap();
    assert_eq!(
        b.drain(Duration::from_millis(300)).unwrap().len(),
        1,
        "the port still forwards"
    );
    b.send(&frame(0xa, 0xb, 60)).unwrap();
    assert_eq!(a.drain(Duration::from_millis(300)).unwrap().len(), 1);
}

#[test]
fn runt_and_oversized_frames_are_dropped_and_counted() {
    let mut hub = Hub::start("bad-frames", &["--max-frame", "1518"]);
    let a = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let mut b = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    let full = frame(0xff, 0xa, 60);
    a.send(&full[..5]).unwrap();
    a.send(&[]).unwrap();
    a.send(&full[..13]).unwrap();
    a.send(&frame(0xff, 0xa, 1519)).unwrap();
    a.send(&frame(0xff, 0xa, 9000)).unwrap();
    a.send(&frame(0xff, 0xa, 14)).unwrap();
    a.send(&frame(0xff, 0xa, 1518)).unwrap();
    let got: Vec<usize> = b
        .drain(Duration::from_millis(300))
        .unwrap()
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(
        got,
        vec![14, 1518],
        "only the well-sized frames pass, whole"
    );
    let counters = hub.ctl_cmd(&["counters"]);
    assert!(counters.contains("runts=3"), "{counters}");
    assert!(counters.contains("oversize=2"), "{counters}");
    assert!(hub.alive());
}

#[test]
fn a_vanishing_client_takes_its_port_and_macs_with_it() {
    let hub = Hub::start("bad-vanish", &[]);
    let keep = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
    {
        let gone = UmlClient::connect(&hub.ctl(), ClientStyle::Uml).unwrap();
        for src in 1..=5u8 {
            gone.send(&frame(0xff, src, 60)).unwrap();
        }
        assert!(hub.wait_log(|_| hub.ctl_cmd(&["macs"]).lines().count() == 6));
    } // both sockets closed, no goodbye
    assert!(hub.wait_log(|l| l.contains("Disconnect")));
    assert_eq!(
        hub.ctl_cmd(&["macs"]).lines().count(),
        1,
        "every MAC of the port purged"
    );
    keep.send(&frame(0xff, 0x77, 60)).unwrap();
    assert!(hub.wait_log(|_| hub.ctl_cmd(&["macs"]).contains("02:00:00:00:00:77")));
}

#[test]
fn a_thousand_connect_disconnect_cycles_leak_nothing() {
    let mut hub = Hub::start("bad-cycles", &["--quiet"]);
    let fds = hub.fd_count();
    let t = Instant::now();
    for i in 0..1000u32 {
        let c = UmlClient::connect(
            &hub.ctl(),
            if i % 2 == 0 {
                ClientStyle::Uml
            } else {
                ClientStyle::UmlConnected
            },
        )
        .unwrap();
        c.send(&frame(0xff, (i % 250) as u8 + 1, 60)).unwrap();
    }
    assert!(
        hub.wait_log(|l| count(l, "Disconnect") == 1000),
        "1000 disconnects logged"
    );
    assert!(t.elapsed() < Duration::from_secs(120));
    assert!(hub.alive());
    assert_eq!(
        hub.ctl_cmd(&["macs"]).lines().count(),
        1,
        "no MAC entry left"
    );
    assert_eq!(hub.ctl_cmd(&["ports"]).lines().count(), 1, "no port left");
    assert_eq!(hub.fd_count(), fds, "descriptors leaked");
    let counters = hub.ctl_cmd(&["counters"]);
    assert!(
        counters.contains("ports_created=1000 ports_removed=1000"),
        "{counters}"
    );
}
