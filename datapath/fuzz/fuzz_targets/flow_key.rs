//! Fuzzes the frame parser: `extract`, every wire view behind `new_checked` with all its
//! getters, and a rewrite list over the extracted layout. Nothing may panic, and the
//! layout must stay inside the frame.
//!
//! Run with `cargo +nightly fuzz run flow_key seeds/flow_key` from `datapath/fuzz`.

#![no_main]

use std::hint::black_box;
use std::net::Ipv4Addr;

use flowlab_datapath::actions::{apply, Action, OutputList};
use flowlab_datapath::key::{extract, FlowKey};
use flowlab_datapath::wire::{self, EtherType, EthernetAddress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut key = FlowKey::default();
    let layout = extract(data, 1, &mut key);
    assert!(usize::from(layout.l3_offset) <= data.len());
    assert!(usize::from(layout.l4_offset) <= data.len());
    if layout.l4_complete {
        assert!(usize::from(layout.l4_offset) < data.len());
    }

    // The views at every offset a header can start at, and at the layout's own.
    for start in [
        0,
        14,
        18,
        22,
        26,
        usize::from(layout.l3_offset),
        usize::from(layout.l4_offset),
    ] {
        views(data.get(start..).unwrap_or(&[]));
    }

    // Rewrites keep the layout in step with the frame.
    let mut frame = data.to_vec();
    let mut moved = layout;
    let mut out = OutputList::new();
    let actions = [
        Action::Output(1),
        Action::SetEthDst(EthernetAddress([2, 0, 0, 0, 0, 1])),
        Action::PushVlan(EtherType::QinQ),
        Action::SetVlanVid(7),
        Action::SetIpv4Src(Ipv4Addr::new(10, 0, 0, 1)),
        Action::SetIpDscp(46),
        Action::DecIpTtl,
        Action::SetTpDst(8080),
        Action::PopVlan,
        Action::Controller { max_len: 128 },
    ];
    let _ = apply(&actions, &mut frame, &mut moved, &mut out);
    for o in out.iter() {
        black_box(out.frame_of(o, &frame));
    }
    let mut again = FlowKey::default();
    black_box(extract(&frame, 1, &mut again));
});

fn views(bytes: &[u8]) {
    if let Ok(p) = wire::EthernetFrame::new_checked(bytes) {
        black_box((p.src_addr(), p.dst_addr(), p.ethertype(), p.payload()));
        black_box(wire::EthernetRepr::parse(&p).ok());
    }
    black_box(wire::ethernet::snap_ethertype(bytes));
    if let Ok(p) = wire::VlanTag::new_checked(bytes) {
        black_box((
            p.tci(),
            p.pcp(),
            p.dei(),
            p.vid(),
            p.ethertype(),
            p.payload(),
        ));
        black_box(wire::VlanRepr::parse(&p).ok());
    }
    if let Ok(p) = wire::MplsLabel::new_checked(bytes) {
        black_box((p.label(), p.tc(), p.bos(), p.ttl(), p.payload()));
        black_box(wire::MplsRepr::parse(&p).ok());
    }
    if let Ok(p) = wire::PbbITag::new_checked(bytes) {
        black_box((
            p.pcp(),
            p.dei(),
            p.uca(),
            p.isid(),
            p.customer_dst(),
            p.customer_src(),
        ));
        black_box((p.ethertype(), p.payload(), wire::PbbRepr::parse(&p).ok()));
    }
    if let Ok(p) = wire::ArpPacket::new_checked(bytes) {
        black_box((
            p.hardware_type(),
            p.protocol_type(),
            p.hardware_len(),
            p.protocol_len(),
        ));
        black_box((p.operation(), p.is_ethernet_ipv4()));
        black_box((p.source_hardware_addr(), p.source_protocol_addr()));
        black_box((p.target_hardware_addr(), p.target_protocol_addr()));
        black_box(wire::ArpRepr::parse(&p).ok());
    }
    if let Ok(p) = wire::Ipv4Packet::new_checked(bytes) {
        black_box((
            p.version(),
            p.header_len(),
            p.dscp(),
            p.ecn(),
            p.total_len(),
            p.ident(),
        ));
        black_box((
            p.dont_frag(),
            p.more_frags(),
            p.frag_offset(),
            p.is_fragment(),
            p.ttl(),
        ));
        black_box((p.next_header(), p.checksum(), p.src_addr(), p.dst_addr()));
        black_box((p.verify_checksum(), p.options(), p.payload()));
        black_box(wire::Ipv4Repr::parse(&p).ok());
    }
    if let Ok(p) = wire::Ipv6Packet::new_checked(bytes) {
        black_box((
            p.version(),
            p.traffic_class(),
            p.dscp(),
            p.ecn(),
            p.flow_label(),
        ));
        black_box((
            p.payload_len(),
            p.next_header(),
            p.hop_limit(),
            p.src_addr(),
            p.dst_addr(),
        ));
        black_box((p.payload(), wire::Ipv6Repr::parse(&p).ok()));
    }
    if let Ok(p) = wire::Ipv6ExtHeader::new_checked(bytes) {
        black_box((p.next_header(), p.header_len(), p.data()));
    }
    if let Ok(p) = wire::Ipv6FragmentHeader::new_checked(bytes) {
        black_box((p.next_header(), p.frag_offset(), p.more_frags(), p.ident()));
    }
    if let Ok(p) = wire::IpAuthHeader::new_checked(bytes) {
        black_box((
            p.next_header(),
            p.header_len(),
            p.spi(),
            p.seq_number(),
            p.icv(),
        ));
    }
    let ph = wire::PseudoHeader::V4 {
        src: Ipv4Addr::LOCALHOST,
        dst: Ipv4Addr::BROADCAST,
    };
    if let Ok(p) = wire::TcpPacket::new_checked(bytes) {
        black_box((
            p.src_port(),
            p.dst_port(),
            p.seq_number(),
            p.ack_number(),
            p.header_len(),
        ));
        black_box((
            p.flags(),
            p.fin(),
            p.syn(),
            p.rst(),
            p.psh(),
            p.ack(),
            p.urg(),
        ));
        black_box((
            p.window_len(),
            p.checksum(),
            p.urgent_at(),
            p.options(),
            p.payload(),
        ));
        black_box((p.verify_checksum(&ph), wire::TcpRepr::parse(&p, &ph).ok()));
    }
    if let Ok(p) = wire::UdpPacket::new_checked(bytes) {
        black_box((
            p.src_port(),
            p.dst_port(),
            p.len(),
            p.is_empty(),
            p.checksum(),
        ));
        black_box((
            p.payload(),
            p.verify_checksum(&ph),
            wire::UdpRepr::parse(&p, &ph).ok(),
        ));
    }
    if let Ok(p) = wire::SctpPacket::new_checked(bytes) {
        black_box((
            p.src_port(),
            p.dst_port(),
            p.verification_tag(),
            p.checksum(),
            p.chunks(),
        ));
    }
    if let Ok(p) = wire::Icmpv4Packet::new_checked(bytes) {
        black_box((
            p.msg_type(),
            p.msg_code(),
            p.checksum(),
            p.echo_ident(),
            p.echo_seq_no(),
        ));
        black_box((
            p.data(),
            p.verify_checksum(),
            wire::Icmpv4Repr::parse(&p).ok(),
        ));
    }
    if let Ok(p) = wire::Icmpv6Packet::new_checked(bytes) {
        black_box((p.msg_type(), p.msg_code(), p.checksum(), p.header_len()));
        black_box((
            p.check_message_len().ok(),
            p.echo_ident(),
            p.echo_seq_no(),
            p.neighbor_flags(),
        ));
        black_box((
            p.router_advert(),
            p.target_addr(),
            p.redirect_dest(),
            p.payload(),
        ));
        for o in p.nd_options().flatten() {
            black_box((
                o.option_type(),
                o.total_len(),
                o.data(),
                o.link_layer_addr(),
            ));
        }
        let ph6 = wire::PseudoHeader::V6 {
            src: std::net::Ipv6Addr::LOCALHOST,
            dst: std::net::Ipv6Addr::UNSPECIFIED,
        };
        black_box((
            p.verify_checksum(&ph6),
            wire::Icmpv6Repr::parse(&p, &ph6).ok(),
        ));
    }
    for t in wire::LldpTlvIter::new(bytes).flatten() {
        black_box((t.tlv_type(), t.value_len(), t.value(), t.id(), t.ttl()));
    }
    black_box(wire::LldpRepr::parse(bytes).ok());
}
