//! Fuzzes the DHCP and DNS views the `hosts` app reads packet-ins with: any bytes as a
//! DHCP message and as a DNS message (both UDP payloads). Behind `new_checked` every
//! getter is read, the option and answer iterators are walked to their end, and names are
//! read (compression pointers followed) at every offset and where the records put them.
//! Nothing may panic; the walks end, yield at most one error and only last; names are the
//! text the module documentation promises; a DHCP message that parses emits again and
//! parses to the same value.
//!
//! Run with `cargo +nightly fuzz run dhcp_dns seeds/dhcp_dns` from `controller/fuzz`.

#![no_main]

use std::hint::black_box;

use flowlab_controller::proto::dhcp::{self, option, DhcpPacket, DhcpRepr};
use flowlab_controller::proto::dns::{self, DnsPacket, RecordType};
use libfuzzer_sys::fuzz_target;

fn dhcp(data: &[u8]) {
    let Ok(p) = DhcpPacket::new_checked(data) else {
        assert!(data.len() < dhcp::HEADER_LEN);
        return;
    };
    black_box((
        p.op(),
        p.hardware_type(),
        p.hardware_len(),
        p.hops(),
        p.xid(),
        p.secs(),
        p.flags(),
    ));
    black_box((p.client_ip(), p.your_ip(), p.server_ip(), p.relay_ip()));
    black_box((p.client_hardware_addr(), p.client_mac(), p.has_magic()));
    black_box(p.message_type());

    // The walk ends (every option takes two bytes at least), and an error ends it.
    let (mut options, mut errors) = (0usize, 0usize);
    for o in p.options() {
        match o {
            Ok(o) => {
                assert_eq!(errors, 0, "an option after an error");
                assert!(o.code != option::PAD && o.code != option::END);
                options += 1;
                assert!(2 * options <= data.len());
                black_box(o.data);
            }
            Err(_) => errors += 1,
        }
    }
    assert!(errors <= 1);
    for code in [
        option::MESSAGE_TYPE,
        option::HOST_NAME,
        option::OVERLOAD,
        option::REQUESTED_IP,
    ] {
        black_box(p.option(code));
    }

    if let Ok(repr) = DhcpRepr::parse(&p) {
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]))
            .expect("a parsed message emits");
        let again = DhcpPacket::new_checked(&buf[..]).expect("an emitted message is long enough");
        assert_eq!(DhcpRepr::parse(&again), Ok(repr));
    }
}

/// Reads the name at `at` and checks what came out.
fn name(p: &DnsPacket<&[u8]>, len: usize, at: usize) {
    let Ok((n, after)) = p.name(at) else {
        return;
    };
    assert!(at < after && after <= len, "{at} {after} {len}");
    let text = n.as_str();
    assert!(text.len() <= dns::MAX_TEXT_LEN);
    assert_eq!(text.is_empty(), n.is_root());
    assert!(text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)));
    assert!(!text.starts_with('.') && !text.ends_with('.') && !text.contains(".."));
}

fn dns(data: &[u8]) {
    let Ok(p) = DnsPacket::new_checked(data) else {
        assert!(data.len() < dns::HEADER_LEN);
        return;
    };
    black_box((p.id(), p.flags(), p.is_response(), p.opcode()));
    black_box((p.is_truncated(), p.rcode(), p.question_count()));
    black_box((p.authority_count(), p.additional_count()));

    let (mut records, mut errors) = (0usize, 0usize);
    for r in p.answers() {
        match r {
            Ok(r) => {
                assert_eq!(errors, 0, "a record after an error");
                records += 1;
                assert!(records <= usize::from(p.answer_count()));
                assert!(r.name_at < data.len());
                assert!(r.rdata_at + r.rdata.len() <= data.len());
                black_box((r.class, r.ttl, r.ipv4()));
                name(&p, data.len(), r.name_at);
                // Where the data holds a name (after a fixed part, for some types).
                let in_rdata = match r.rtype {
                    RecordType::Cname | RecordType::Ns | RecordType::Ptr | RecordType::Soa => {
                        Some(0)
                    }
                    RecordType::Mx => Some(2),
                    RecordType::Srv => Some(6),
                    _ => None,
                };
                if let Some(skip) = in_rdata {
                    name(&p, data.len(), r.rdata_at + skip);
                }
            }
            Err(_) => errors += 1,
        }
    }
    assert!(errors <= 1);
    for at in 0..data.len() {
        name(&p, data.len(), at);
    }
}

fuzz_target!(|data: &[u8]| {
    dhcp(data);
    dns(data);
});
