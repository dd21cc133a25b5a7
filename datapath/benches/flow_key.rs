//! Flow key extraction of three common frames: TCP/IPv4, UDP/IPv6 and ARP.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etherparse::PacketBuilder;
use flowlab_datapath::key::{extract, FlowKey};
use flowlab_datapath::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
};

const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

fn tcp_ipv4() -> Vec<u8> {
    let mut f = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv4([198, 51, 100, 1], [198, 51, 100, 2], 64)
        .tcp(40000, 80, 1, 64240)
        .syn()
        .write(&mut f, &[0u8; 64])
        .expect("tcp frame");
    f
}

fn udp_ipv6() -> Vec<u8> {
    let mut a = [0u8; 16];
    a[..2].copy_from_slice(&[0x20, 0x01]);
    let mut b = a;
    a[15] = 1;
    b[15] = 2;
    let mut f = Vec::new();
    PacketBuilder::ethernet2(SRC, DST)
        .ipv6(a, b, 64)
        .udp(5353, 53)
        .write(&mut f, &[0u8; 64])
        .expect("udp frame");
    f
}

fn arp() -> Vec<u8> {
    let mut f = vec![0u8; 60];
    let eth = EthernetRepr {
        src_addr: EthernetAddress(SRC),
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EtherType::Arp,
    };
    let mut frame = EthernetFrame::new_unchecked(&mut f[..]);
    eth.emit(&mut frame).expect("ethernet header");
    ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: EthernetAddress(SRC),
        source_protocol_addr: Ipv4Addr::new(198, 51, 100, 1),
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: Ipv4Addr::new(198, 51, 100, 2),
    }
    .emit(&mut ArpPacket::new_unchecked(frame.payload_mut()))
    .expect("arp");
    f
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("flow_key");
    group.throughput(Throughput::Elements(1));
    for (name, frame) in [
        ("tcp_ipv4", tcp_ipv4()),
        ("udp_ipv6", udp_ipv6()),
        ("arp", arp()),
    ] {
        // Measure the full path, not an early exit.
        let (k, layout) = FlowKey::from_frame(&frame, 1);
        assert!(!layout.truncated && k.eth_type != 0, "{name}: {layout:?}");
        assert!(layout.l4_complete || k.arp_op == 1, "{name}: {layout:?}");
        let mut key = FlowKey::default();
        group.bench_function(name, |b| {
            b.iter(|| black_box(extract(black_box(&frame), 1, &mut key)));
        });
        black_box(key);
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
