//! The seed corpus of the `flow_key` fuzz target (`datapath/fuzz/seeds/flow_key/`): real
//! frames built here with the wire `Repr`s, so the corpus is ours and reproducible.
//!
//! `cargo test -p flowlab-datapath --test fuzz_seeds` checks that the files on disk are
//! exactly these frames and that each extracts as expected; run it once with
//! `FLOWLAB_WRITE_SEEDS=1` to (re)write them.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use flowlab_datapath::key::{FlowKey, L3Kind, L4Kind, VLAN_PRESENT};
use flowlab_datapath::wire::icmpv6::{NEIGH_FLAG_OVERRIDE, NEIGH_FLAG_SOLICITED};
use flowlab_datapath::wire::lldp::{chassis_subtype, port_subtype};
use flowlab_datapath::wire::tcp::flags;
use flowlab_datapath::wire::{
    ethernet, ipv4, ipv6, udp, vlan, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress,
    EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol,
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, LldpId, LldpRepr, PseudoHeader, TcpPacket, TcpRepr,
    UdpPacket, UdpRepr, VlanRepr, VlanTag,
};

const A: EthernetAddress = EthernetAddress([0x02, 0x00, 0x00, 0x00, 0x00, 0x0a]);
const B: EthernetAddress = EthernetAddress([0x02, 0x00, 0x00, 0x00, 0x00, 0x0b]);
const IP_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const IP_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);

/// Ethernet header from `src` to `dst` of `ethertype`, then `body`, padded to 60 bytes.
fn ethernet(
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: EtherType,
    body: &[u8],
) -> Vec<u8> {
    let mut f = vec![0u8; (ethernet::HEADER_LEN + body.len()).max(60)];
    let mut frame = EthernetFrame::new_unchecked(&mut f[..]);
    EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype,
    }
    .emit(&mut frame)
    .unwrap();
    frame.payload_mut()[..body.len()].copy_from_slice(body);
    f
}

/// An IPv4 packet of `proto` around `l4` (already complete, checksum included).
fn ipv4_packet(proto: IpProtocol, l4: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; ipv4::HEADER_LEN + l4.len()];
    let repr = Ipv4Repr {
        src_addr: IP_A,
        dst_addr: IP_B,
        next_header: proto,
        payload_len: l4.len(),
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 0x4d2,
        dont_frag: true,
    };
    let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
    repr.emit(&mut p).unwrap();
    p.payload_mut().copy_from_slice(l4);
    b
}

fn v4_ph() -> PseudoHeader {
    PseudoHeader::V4 {
        src: IP_A,
        dst: IP_B,
    }
}

fn arp_request() -> Vec<u8> {
    let repr = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: A,
        source_protocol_addr: IP_A,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: IP_B,
    };
    let mut body = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut body[..]))
        .unwrap();
    ethernet(A, EthernetAddress::BROADCAST, EtherType::Arp, &body)
}

fn icmp_echo() -> Vec<u8> {
    let repr = Icmpv4Repr::EchoRequest {
        ident: 0x1f2e,
        seq_no: 1,
        data: b"flowlab ping 0123456789",
    };
    let mut icmp = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut icmp[..]))
        .unwrap();
    ethernet(A, B, EtherType::Ipv4, &ipv4_packet(IpProtocol::Icmp, &icmp))
}

fn tcp_syn() -> Vec<u8> {
    let repr = TcpRepr {
        src_port: 49152,
        dst_port: 80,
        seq_number: 0x1234_5678,
        ack_number: 0,
        flags: flags::SYN,
        window_len: 64240,
        urgent_at: 0,
    };
    let mut tcp = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut tcp[..]), &[], &v4_ph())
        .unwrap();
    ethernet(A, B, EtherType::Ipv4, &ipv4_packet(IpProtocol::Tcp, &tcp))
}

fn udp_datagram(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let repr = UdpRepr { src_port, dst_port };
    let mut udp = vec![0u8; udp::HEADER_LEN + payload.len()];
    repr.emit(
        &mut UdpPacket::new_unchecked(&mut udp[..]),
        payload,
        Some(&v4_ph()),
    )
    .unwrap();
    ipv4_packet(IpProtocol::Udp, &udp)
}

fn udp_dns() -> Vec<u8> {
    // A DNS query for example.com, type A.
    let query =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    ethernet(A, B, EtherType::Ipv4, &udp_datagram(5353, 53, query))
}

fn vlan_tagged() -> Vec<u8> {
    let ip = udp_datagram(40000, 9, b"tagged frame");
    let mut body = vec![0u8; vlan::HEADER_LEN + ip.len()];
    let tag = VlanRepr {
        pcp: 3,
        dei: false,
        vid: 100,
        ethertype: EtherType::Ipv4,
    };
    let mut view = VlanTag::new_unchecked(&mut body[..]);
    tag.emit(&mut view).unwrap();
    view.payload_mut().copy_from_slice(&ip);
    ethernet(A, B, EtherType::Vlan, &body)
}

fn ipv6_neighbor_solicit() -> Vec<u8> {
    let src: Ipv6Addr = "fe80::a".parse().unwrap();
    let target: Ipv6Addr = "fe80::b".parse().unwrap();
    // Solicited-node multicast of the target.
    let dst: Ipv6Addr = "ff02::1:ff00:b".parse().unwrap();
    let ph = PseudoHeader::V6 { src, dst };
    let repr = Icmpv6Repr::NeighborSolicit {
        target_addr: target,
        lladdr: Some(A),
    };
    let mut b = vec![0u8; ipv6::HEADER_LEN + repr.buffer_len()];
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: repr.buffer_len(),
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut p = Ipv6Packet::new_unchecked(&mut b[..]);
    ip.emit(&mut p).unwrap();
    repr.emit(&mut Icmpv6Packet::new_unchecked(p.payload_mut()), &ph)
        .unwrap();
    let mcast = EthernetAddress([0x33, 0x33, 0xff, 0x00, 0x00, 0x0b]);
    ethernet(A, mcast, EtherType::Ipv6, &b)
}

fn ipv6_neighbor_advert() -> Vec<u8> {
    let src: Ipv6Addr = "fe80::b".parse().unwrap();
    let dst: Ipv6Addr = "fe80::a".parse().unwrap();
    let repr = Icmpv6Repr::NeighborAdvert {
        flags: NEIGH_FLAG_SOLICITED | NEIGH_FLAG_OVERRIDE,
        target_addr: src,
        lladdr: Some(B),
    };
    let mut b = vec![0u8; ipv6::HEADER_LEN + repr.buffer_len()];
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: repr.buffer_len(),
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0x12345,
    };
    let mut p = Ipv6Packet::new_unchecked(&mut b[..]);
    ip.emit(&mut p).unwrap();
    repr.emit(
        &mut Icmpv6Packet::new_unchecked(p.payload_mut()),
        &PseudoHeader::V6 { src, dst },
    )
    .unwrap();
    ethernet(B, A, EtherType::Ipv6, &b)
}

fn lldp() -> Vec<u8> {
    let repr = LldpRepr {
        chassis_id: LldpId {
            subtype: chassis_subtype::LOCALLY_ASSIGNED,
            id: b"dpid:0000000000000001",
        },
        port_id: LldpId {
            subtype: port_subtype::LOCALLY_ASSIGNED,
            id: b"3",
        },
        ttl: 120,
    };
    let mut f = vec![0u8; repr.frame_len()];
    let n = repr.emit_frame(A, &mut f).unwrap();
    f.truncate(n);
    f
}

/// The corpus: file name, frame, and what `extract` must find in it.
fn seeds() -> Vec<(&'static str, Vec<u8>, L3Kind, L4Kind)> {
    vec![
        ("arp_request", arp_request(), L3Kind::Arp, L4Kind::None),
        ("icmp_echo", icmp_echo(), L3Kind::Ipv4, L4Kind::Icmpv4),
        ("tcp_syn", tcp_syn(), L3Kind::Ipv4, L4Kind::Tcp),
        ("udp_dns", udp_dns(), L3Kind::Ipv4, L4Kind::Udp),
        ("vlan_udp", vlan_tagged(), L3Kind::Ipv4, L4Kind::Udp),
        (
            "ipv6_nd_solicit",
            ipv6_neighbor_solicit(),
            L3Kind::Ipv6,
            L4Kind::Icmpv6,
        ),
        (
            "ipv6_nd_advert",
            ipv6_neighbor_advert(),
            L3Kind::Ipv6,
            L4Kind::Icmpv6,
        ),
        ("lldp", lldp(), L3Kind::Other, L4Kind::None),
    ]
}

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/flow_key")
}

#[test]
fn seeds_extract_as_expected() {
    for (name, frame, l3, l4) in seeds() {
        let (k, l) = FlowKey::from_frame(&frame, 1);
        assert_eq!((l.l3, l.l4, l.truncated), (l3, l4, false), "{name}");
        assert!(l4 == L4Kind::None || l.l4_complete, "{name}");
        match name {
            "arp_request" => assert_eq!((k.arp_op, k.arp_tpa), (1, u32::from(IP_B))),
            "tcp_syn" => assert_eq!((k.tp_dst, k.tcp_flags), (80, flags::SYN)),
            "vlan_udp" => assert_eq!(
                (k.vlan_vid, k.vlan_pcp, k.tp_dst),
                (100 | VLAN_PRESENT, 3, 9)
            ),
            "ipv6_nd_solicit" => assert_eq!((k.icmp_type, k.nd_sll), (135, A.0)),
            "ipv6_nd_advert" => assert_eq!((k.icmp_type, k.nd_tll), (136, B.0)),
            "lldp" => assert_eq!(k.eth_type, 0x88cc),
            _ => {}
        }
    }
}

#[test]
fn seed_checksums_verify() {
    for (name, frame, l3, _) in seeds() {
        let (_, l) = FlowKey::from_frame(&frame, 1);
        let l3_bytes = &frame[usize::from(l.l3_offset)..];
        if l3 == L3Kind::Ipv4 {
            let ip = Ipv4Packet::new_checked(l3_bytes).unwrap();
            assert!(Ipv4Repr::parse(&ip).is_ok(), "{name}");
            let ph = PseudoHeader::V4 {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
            };
            match l.l4 {
                L4Kind::Tcp => assert!(TcpPacket::new_checked(ip.payload())
                    .unwrap()
                    .verify_checksum(&ph)),
                L4Kind::Udp => {
                    assert!(
                        UdpRepr::parse(&UdpPacket::new_checked(ip.payload()).unwrap(), &ph).is_ok()
                    )
                }
                L4Kind::Icmpv4 => assert!(Icmpv4Packet::new_checked(ip.payload())
                    .unwrap()
                    .verify_checksum()),
                _ => {}
            }
        }
        if l3 == L3Kind::Ipv6 {
            let ip = Ipv6Packet::new_checked(l3_bytes).unwrap();
            let ph = PseudoHeader::V6 {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
            };
            let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
            assert!(Icmpv6Repr::parse(&icmp, &ph).is_ok(), "{name}");
        }
    }
}

#[test]
fn seed_files_match() {
    let dir = seed_dir();
    let write = std::env::var_os("FLOWLAB_WRITE_SEEDS").is_some();
    if write {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, frame, _, _) in seeds() {
        let path = dir.join(name);
        if write {
            std::fs::write(&path, &frame).unwrap();
        }
        let on_disk = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with FLOWLAB_WRITE_SEEDS=1)", path.display()));
        assert_eq!(on_disk, frame, "{name} differs from its builder");
    }
}
