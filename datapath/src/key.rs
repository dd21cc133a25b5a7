//! The flow key: every OpenFlow 1.0 and 1.3 match field a frame carries, in fixed words.
//!
//! The layout is plain old data (`bytemuck::Pod`, no padding), 8-byte aligned, so a key can
//! be viewed as `[u64; FLOW_KEY_WORDS]`: the classifier masks and hashes words, never fields.
//! A field the frame does not carry is zero (the prerequisites of OpenFlow — `eth_type`,
//! `ip_proto`, `icmp_type` — say whether a zero is a value or an absence).
//!
//! [`extract`] fills a key from a frame in one pass over the [`wire`](crate::wire) views,
//! without allocating and without ever panicking, and returns a [`FrameLayout`]: the
//! offsets of the headers that [`actions`](crate::actions) rewrite later. Parsing is
//! lenient where the datapath must be: a header cut short ends the parse but keeps what
//! came before it, and length fields that describe payloads are clamped, never trusted.

use bytemuck::{Pod, Zeroable};

use crate::wire::{
    ethernet, ipv6, vlan, ArpPacket, EtherType, EthernetFrame, Icmpv4Packet, Icmpv6Message,
    Icmpv6Packet, IpAuthHeader, IpProtocol, Ipv4Packet, Ipv6ExtHeader, Ipv6FragmentHeader,
    Ipv6Packet, MplsLabel, NdOptionType, PbbITag, SctpPacket, TcpPacket, UdpPacket, VlanTag,
};

/// Number of 64-bit words in a [`FlowKey`].
pub const FLOW_KEY_WORDS: usize = core::mem::size_of::<FlowKey>() / 8;

/// `vlan_vid` carries this bit when the frame has a VLAN tag (OpenFlow 1.3 `OFPVID_PRESENT`).
pub const VLAN_PRESENT: u16 = 0x1000;

/// Every OpenFlow 1.0/1.3 match field, plus the pipeline's metadata and tunnel id slots.
///
/// Multi-byte numeric fields hold host-order values (`ipv4_src` of 192.0.2.1 is
/// `0xc000_0201`); byte-array fields (MACs, IPv6 addresses) hold wire order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct FlowKey {
    /// Tunnel id (OXM TUNNEL_ID), set by tunnel ports; 0 otherwise.
    pub tunnel_id: u64,
    /// Pipeline metadata (OXM METADATA), written by `write_metadata`.
    pub metadata: u64,
    /// Ingress port number.
    pub in_port: u32,
    /// IPv4 source (host order).
    pub ipv4_src: u32,
    /// IPv4 destination (host order).
    pub ipv4_dst: u32,
    /// Outermost MPLS label (20 bits).
    pub mpls_label: u32,
    /// Ethernet destination.
    pub eth_dst: [u8; 6],
    /// Ethertype after all VLAN/QinQ tags (the type OpenFlow matches on).
    pub eth_type: u16,
    /// Ethernet source.
    pub eth_src: [u8; 6],
    /// Outer VLAN id with [`VLAN_PRESENT`] set, or 0 for an untagged frame.
    pub vlan_vid: u16,
    /// IPv6 source.
    pub ipv6_src: [u8; 16],
    /// IPv6 destination.
    pub ipv6_dst: [u8; 16],
    /// ICMPv6 neighbor discovery target address.
    pub nd_target: [u8; 16],
    /// ARP sender protocol address (host order).
    pub arp_spa: u32,
    /// ARP target protocol address (host order).
    pub arp_tpa: u32,
    /// ARP sender hardware address.
    pub arp_sha: [u8; 6],
    /// ARP opcode.
    pub arp_op: u16,
    /// ARP target hardware address.
    pub arp_tha: [u8; 6],
    /// TCP, UDP or SCTP source port.
    pub tp_src: u16,
    /// ND source link-layer address option.
    pub nd_sll: [u8; 6],
    /// TCP, UDP or SCTP destination port.
    pub tp_dst: u16,
    /// ND target link-layer address option.
    pub nd_tll: [u8; 6],
    /// IPv6 extension-header pseudo-field (OXM IPV6_EXTHDR flags: NOEXT, ESP, AUTH, DEST, FRAG, ROUTER, HOP, UNREP, UNSEQ).
    pub ipv6_exthdr: u16,
    /// IPv6 flow label (20 bits).
    pub ipv6_flabel: u32,
    /// PBB I-SID (24 bits).
    pub pbb_isid: u32,
    /// Outer VLAN priority (3 bits).
    pub vlan_pcp: u8,
    /// IP protocol (IPv4 protocol or the IPv6 upper-layer next header); for ARP, OpenFlow 1.0 uses the low byte of the opcode.
    pub ip_proto: u8,
    /// IP DSCP (6 bits).
    pub ip_dscp: u8,
    /// IP ECN (2 bits).
    pub ip_ecn: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ip_ttl: u8,
    /// ICMPv4 or ICMPv6 type.
    pub icmp_type: u8,
    /// ICMPv4 or ICMPv6 code.
    pub icmp_code: u8,
    /// Outermost MPLS traffic class (3 bits).
    pub mpls_tc: u8,
    /// Outermost MPLS bottom-of-stack bit.
    pub mpls_bos: u8,
    /// IP fragment flags: bit 0 = is a fragment, bit 1 = later (non-first) fragment.
    pub ip_frag: u8,
    /// TCP flags (12 bits).
    pub tcp_flags: u16,
    /// Padding to a whole word; always zero.
    pub pad: [u8; 4],
}

impl FlowKey {
    /// The key as plain words, for masking and hashing.
    #[inline]
    pub fn words(&self) -> &[u64; FLOW_KEY_WORDS] {
        bytemuck::cast_ref(self)
    }

    /// The key as mutable words.
    #[inline]
    pub fn words_mut(&mut self) -> &mut [u64; FLOW_KEY_WORDS] {
        bytemuck::cast_mut(self)
    }

    /// Builds a key from words.
    #[inline]
    pub fn from_words(words: [u64; FLOW_KEY_WORDS]) -> Self {
        bytemuck::cast(words)
    }
}

impl FlowKey {
    /// Extracts the key of `frame` received on `in_port`; see [`extract`].
    #[inline]
    pub fn from_frame(frame: &[u8], in_port: u32) -> (FlowKey, FrameLayout) {
        let mut key = FlowKey::default();
        let layout = extract(frame, in_port, &mut key);
        (key, layout)
    }
}

/// Bits of [`FlowKey::ipv6_exthdr`], numbered as OpenFlow 1.3.5 numbers the OXM
/// `IPV6_EXTHDR` pseudo-field (`OFPIEH_*`).
pub mod ipv6_exthdr {
    /// A "No Next Header" (59) was met.
    pub const NOEXT: u16 = 1 << 0;
    /// An Encapsulating Security Payload header is present.
    pub const ESP: u16 = 1 << 1;
    /// An Authentication header is present.
    pub const AUTH: u16 = 1 << 2;
    /// One or two Destination Options headers are present.
    pub const DEST: u16 = 1 << 3;
    /// A Fragment header is present.
    pub const FRAG: u16 = 1 << 4;
    /// A Routing header is present.
    pub const ROUTER: u16 = 1 << 5;
    /// A Hop-by-Hop Options header is present.
    pub const HOP: u16 = 1 << 6;
    /// A header occurs more often than RFC 8200 allows (Destination Options twice in one
    /// position, any other header twice).
    pub const UNREP: u16 = 1 << 7;
    /// Headers occur out of the RFC 8200 §4.1 order (Hop-by-Hop not first, Routing after
    /// Fragment, ...).
    pub const UNSEQ: u16 = 1 << 8;
}

/// [`FlowKey::ip_frag`]: the packet is a fragment.
pub const IP_FRAG_ANY: u8 = 1 << 0;
/// [`FlowKey::ip_frag`]: the packet is a fragment other than the first.
pub const IP_FRAG_LATER: u8 = 1 << 1;

/// EtherType OpenFlow 1.0 gives an IEEE 802.3 frame without a SNAP header
/// (`OFP_DL_TYPE_NOT_ETH_TYPE`).
pub const ETH_TYPE_NONE: u16 = 0x05ff;

/// What the network header of a frame is, by its EtherType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum L3Kind {
    /// No EtherType: the frame is shorter than an Ethernet header, or a cut tag, or an
    /// 802.3 frame without SNAP.
    #[default]
    None,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// ARP.
    Arp,
    /// An MPLS label stack.
    Mpls,
    /// A PBB I-tag.
    Pbb,
    /// Any other EtherType (LLDP included).
    Other,
}

/// What the transport header of a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum L4Kind {
    /// None: not IP, a later fragment, or the IP header itself is cut or malformed.
    #[default]
    None,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// ICMP (IPv4).
    Icmpv4,
    /// ICMPv6.
    Icmpv6,
    /// Another upper-layer protocol ([`FlowKey::ip_proto`] says which).
    Other,
}

/// Where the headers of a frame are, for the actions that rewrite them.
///
/// Offsets count bytes from the start of the frame. [`extract`] caps frames at 65535
/// bytes for parsing, so every offset fits a `u16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameLayout {
    /// VLAN tags (802.1Q or 802.1ad) between the source address and the EtherType.
    pub vlan_tags: u8,
    /// Start of the network header (just past the last EtherType, or past the LLC/SNAP
    /// header); 0 when [`l3`](Self::l3) is `None`.
    pub l3_offset: u16,
    /// What the network header is (by EtherType; it may still be cut short).
    pub l3: L3Kind,
    /// Start of the transport header (past IPv4 options and IPv6 extension headers);
    /// 0 when [`l4`](Self::l4) is `None`.
    pub l4_offset: u16,
    /// What the transport header is.
    pub l4: L4Kind,
    /// Whether the transport header is in the frame whole (TCP with its options, UDP 8
    /// bytes, SCTP 12, ICMP 8 or the ND fixed part), so that its ports and checksum may be
    /// rewritten.
    pub l4_complete: bool,
    /// Whether parsing stopped early at a header cut short by the end of the frame or
    /// with an impossible length field; the fields up to there are filled.
    pub truncated: bool,
}

impl FrameLayout {
    #[inline]
    fn cut(mut self) -> Self {
        self.truncated = true;
        self
    }
}

/// Largest frame length [`extract`] looks at.
const PARSE_MAX: usize = u16::MAX as usize;

/// Extracts every OpenFlow 1.0/1.3 match field `frame` carries into `key`, in one pass and
/// without allocating, and returns where the headers are.
///
/// The whole key is reset first (`tunnel_id` and `metadata` included: a tunnel port sets
/// `tunnel_id` after extraction), then `in_port` and the fields below are filled:
///
/// * Ethernet addresses; `eth_type` is the type after all VLAN tags. An IEEE 802.3 frame
///   with an LLC/SNAP header (zero OUI) has the SNAP type; one without gets
///   [`ETH_TYPE_NONE`] (OpenFlow 1.0's 0x05ff).
/// * The outermost tag, 802.1Q or 802.1ad: `vlan_vid` (with [`VLAN_PRESENT`]) and
///   `vlan_pcp`. Inner tags are skipped.
/// * MPLS (0x8847/0x8848): label, TC and bottom-of-stack of the outermost entry; nothing
///   below the stack is parsed. PBB (0x88e7): the I-SID; the customer frame is not parsed.
/// * ARP with Ethernet/IPv4 addresses: opcode, addresses, and (OpenFlow 1.0) the low byte
///   of an opcode below 256 in `ip_proto`.
/// * IPv4: addresses, protocol, DSCP, ECN, TTL, fragment bits ([`IP_FRAG_ANY`],
///   [`IP_FRAG_LATER`]). A later fragment has no transport fields.
/// * IPv6: addresses, flow label, DSCP, ECN, hop limit, and the extension header chain
///   walked to the upper layer: `ip_proto` is the upper-layer protocol (for a later
///   fragment the one its Fragment header announces; 50 at ESP, 59 at No Next Header, the
///   number of an extension header cut short), `ipv6_exthdr` gets the [`ipv6_exthdr`] bits.
/// * TCP (ports, 12 flag bits), UDP and SCTP (ports), ICMPv4 and ICMPv6 (`icmp_type`,
///   `icmp_code`; OpenFlow 1.0 puts those in the transport ports, which is for the codec
///   to do), ND: `nd_target`, `nd_sll` (solicitations) and `nd_tll` (advertisements). A
///   malformed ND option clears all three.
///
/// Never panics: a header cut short or with an impossible length field ends the parse,
/// leaving the fields before it filled and [`FrameLayout::truncated`] set. A header whose
/// version field is wrong (an "IPv4" header of version 6) is ignored, like a type with no
/// parser here.
pub fn extract(frame: &[u8], in_port: u32, key: &mut FlowKey) -> FrameLayout {
    *key = FlowKey::default();
    key.in_port = in_port;
    let frame = &frame[..frame.len().min(PARSE_MAX)];
    let mut layout = FrameLayout::default();

    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return layout.cut();
    };
    key.eth_dst = eth.dst_addr().0;
    key.eth_src = eth.src_addr().0;
    let mut ethertype = eth.ethertype();
    let mut off = ethernet::HEADER_LEN;

    while ethertype.is_vlan() {
        let Ok(tag) = VlanTag::new_checked(tail(frame, off)) else {
            // Cut inside a tag: its TPID is the only type known.
            key.eth_type = ethertype.into();
            return layout.cut();
        };
        if layout.vlan_tags == 0 {
            key.vlan_vid = tag.vid() | VLAN_PRESENT;
            key.vlan_pcp = tag.pcp();
        }
        layout.vlan_tags = layout.vlan_tags.saturating_add(1);
        ethertype = tag.ethertype();
        off += vlan::HEADER_LEN;
    }

    if u16::from(ethertype) < ethernet::ETHERTYPE_MIN {
        match ethernet::snap_ethertype(tail(frame, off)) {
            Some(t) => {
                ethertype = t;
                off += ethernet::SNAP_HEADER_LEN;
            }
            None => {
                key.eth_type = ETH_TYPE_NONE;
                return layout;
            }
        }
    }

    key.eth_type = ethertype.into();
    layout.l3_offset = off as u16;
    let l3 = tail(frame, off);
    match ethertype {
        EtherType::Ipv4 => {
            layout.l3 = L3Kind::Ipv4;
            extract_ipv4(l3, off, key, layout)
        }
        EtherType::Ipv6 => {
            layout.l3 = L3Kind::Ipv6;
            extract_ipv6(l3, off, key, layout)
        }
        EtherType::Arp => {
            layout.l3 = L3Kind::Arp;
            match ArpPacket::new_checked(l3) {
                Ok(arp) => {
                    if arp.is_ethernet_ipv4() {
                        let op = u16::from(arp.operation());
                        key.arp_op = op;
                        if let Ok(low) = u8::try_from(op) {
                            key.ip_proto = low;
                        }
                        key.arp_sha.copy_from_slice(arp.source_hardware_addr());
                        key.arp_tha.copy_from_slice(arp.target_hardware_addr());
                        key.arp_spa = be32(arp.source_protocol_addr());
                        key.arp_tpa = be32(arp.target_protocol_addr());
                    }
                    layout
                }
                Err(_) => layout.cut(),
            }
        }
        EtherType::Mpls | EtherType::MplsMulticast => {
            layout.l3 = L3Kind::Mpls;
            match MplsLabel::new_checked(l3) {
                Ok(label) => {
                    key.mpls_label = label.label();
                    key.mpls_tc = label.tc();
                    key.mpls_bos = u8::from(label.bos());
                    layout
                }
                Err(_) => layout.cut(),
            }
        }
        EtherType::Pbb => {
            layout.l3 = L3Kind::Pbb;
            match PbbITag::new_checked(l3) {
                Ok(itag) => {
                    key.pbb_isid = itag.isid();
                    layout
                }
                Err(_) => layout.cut(),
            }
        }
        _ => {
            layout.l3 = L3Kind::Other;
            layout
        }
    }
}

/// The bytes of `frame` from `off` on (empty past the end).
#[inline(always)]
fn tail(frame: &[u8], off: usize) -> &[u8] {
    frame.get(off..).unwrap_or(&[])
}

/// A 4-byte address as a host-order word (0 for any other length).
#[inline(always)]
fn be32(b: &[u8]) -> u32 {
    match *b {
        [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

fn extract_ipv4(l3: &[u8], off: usize, key: &mut FlowKey, layout: FrameLayout) -> FrameLayout {
    let Ok(ip) = Ipv4Packet::new_checked(l3) else {
        return layout.cut();
    };
    if ip.version() != 4 {
        return layout;
    }
    key.ipv4_src = u32::from(ip.src_addr());
    key.ipv4_dst = u32::from(ip.dst_addr());
    let proto = ip.next_header();
    key.ip_proto = proto.into();
    key.ip_dscp = ip.dscp();
    key.ip_ecn = ip.ecn();
    key.ip_ttl = ip.ttl();
    if ip.is_fragment() {
        key.ip_frag = IP_FRAG_ANY;
        if ip.frag_offset() != 0 {
            key.ip_frag |= IP_FRAG_LATER;
            return layout;
        }
    }
    let hl = usize::from(ip.header_len());
    if usize::from(ip.total_len()) < hl {
        return layout.cut();
    }
    extract_l4(proto, false, ip.payload(), off + hl, key, layout)
}

/// Order ranks of the IPv6 extension headers (RFC 8200 §4.1).
mod rank {
    pub const HOP: u8 = 0;
    pub const DEST_FIRST: u8 = 1;
    pub const ROUTER: u8 = 2;
    pub const FRAG: u8 = 3;
    pub const AUTH: u8 = 4;
    pub const ESP: u8 = 5;
    pub const DEST_FINAL: u8 = 6;
}

/// Computes the `IPV6_EXTHDR` bits while the chain is walked.
///
/// RFC 8200 §4.1 orders the headers Hop-by-Hop, Destination Options (for the routers of a
/// Routing header), Routing, Fragment, Authentication, ESP, Destination Options (for the
/// final destination). Each occurs at most once, except Destination Options, at most once
/// in each of its two places; Hop-by-Hop must come first. A header whose rank is below one
/// already seen sets `UNSEQ`; a second occurrence sets `UNREP`. A Destination Options
/// header takes the first place while nothing past it has been seen, the final one after.
#[derive(Default)]
struct ExtHdrWalk {
    bits: u16,
    seen: u8,
    last_rank: u8,
    dest_first: bool,
    dest_final: bool,
}

impl ExtHdrWalk {
    fn note(&mut self, proto: IpProtocol) {
        use ipv6_exthdr as x;
        let (bit, rank) = match proto {
            IpProtocol::HopByHop => (x::HOP, rank::HOP),
            IpProtocol::Ipv6Opts if self.last_rank <= rank::DEST_FIRST => {
                (x::DEST, rank::DEST_FIRST)
            }
            IpProtocol::Ipv6Opts => (x::DEST, rank::DEST_FINAL),
            IpProtocol::Ipv6Route => (x::ROUTER, rank::ROUTER),
            IpProtocol::Ipv6Frag => (x::FRAG, rank::FRAG),
            IpProtocol::Ah => (x::AUTH, rank::AUTH),
            IpProtocol::Esp => (x::ESP, rank::ESP),
            _ => return,
        };
        let repeated = match rank {
            rank::DEST_FIRST => core::mem::replace(&mut self.dest_first, true),
            rank::DEST_FINAL => core::mem::replace(&mut self.dest_final, true),
            _ => self.bits & bit != 0,
        };
        if repeated {
            self.bits |= x::UNREP;
        }
        if rank < self.last_rank || (rank == rank::HOP && self.seen > 0) {
            self.bits |= x::UNSEQ;
        }
        self.bits |= bit;
        self.last_rank = self.last_rank.max(rank);
        self.seen = self.seen.saturating_add(1);
    }
}

fn extract_ipv6(l3: &[u8], off: usize, key: &mut FlowKey, layout: FrameLayout) -> FrameLayout {
    let Ok(ip) = Ipv6Packet::new_checked(l3) else {
        return layout.cut();
    };
    if ip.version() != 6 {
        return layout;
    }
    key.ipv6_src = ip.src_addr().octets();
    key.ipv6_dst = ip.dst_addr().octets();
    key.ipv6_flabel = ip.flow_label();
    key.ip_dscp = ip.dscp();
    key.ip_ecn = ip.ecn();
    key.ip_ttl = ip.hop_limit();

    let mut walk = ExtHdrWalk::default();
    let mut nh = ip.next_header();
    let mut rest = ip.payload();
    let mut pos = off + ipv6::HEADER_LEN;
    let result = loop {
        walk.note(nh);
        let advance = match nh {
            IpProtocol::HopByHop | IpProtocol::Ipv6Route | IpProtocol::Ipv6Opts => {
                match Ipv6ExtHeader::new_checked(rest) {
                    Ok(h) => {
                        nh = h.next_header();
                        h.header_len()
                    }
                    Err(_) => break Err(nh),
                }
            }
            IpProtocol::Ah => match IpAuthHeader::new_checked(rest) {
                Ok(h) => {
                    nh = h.next_header();
                    h.header_len()
                }
                Err(_) => break Err(nh),
            },
            IpProtocol::Ipv6Frag => match Ipv6FragmentHeader::new_checked(rest) {
                Ok(h) => {
                    key.ip_frag = IP_FRAG_ANY;
                    nh = h.next_header();
                    if h.frag_offset() != 0 {
                        key.ip_frag |= IP_FRAG_LATER;
                        break Ok(None);
                    }
                    h.header_len()
                }
                Err(_) => break Err(nh),
            },
            IpProtocol::Esp => break Ok(None),
            IpProtocol::Ipv6NoNxt => {
                walk.bits |= ipv6_exthdr::NOEXT;
                break Ok(None);
            }
            _ => break Ok(Some(nh)),
        };
        // `check_len` guaranteed `advance <= rest.len()`.
        rest = rest.get(advance..).unwrap_or(&[]);
        pos += advance;
    };
    key.ipv6_exthdr = walk.bits;
    match result {
        Ok(Some(upper)) => {
            key.ip_proto = upper.into();
            extract_l4(upper, true, rest, pos, key, layout)
        }
        Ok(None) => {
            key.ip_proto = nh.into();
            layout
        }
        Err(cut_at) => {
            key.ip_proto = cut_at.into();
            layout.cut()
        }
    }
}

fn extract_l4(
    proto: IpProtocol,
    v6: bool,
    l4: &[u8],
    off: usize,
    key: &mut FlowKey,
    mut layout: FrameLayout,
) -> FrameLayout {
    layout.l4_offset = off as u16;
    layout.l4 = match proto {
        IpProtocol::Tcp => {
            let Ok(tcp) = TcpPacket::new_checked(l4) else {
                layout.l4 = L4Kind::Tcp;
                return layout.cut();
            };
            key.tp_src = tcp.src_port();
            key.tp_dst = tcp.dst_port();
            key.tcp_flags = tcp.flags();
            L4Kind::Tcp
        }
        IpProtocol::Udp => {
            let Ok(udp) = UdpPacket::new_checked(l4) else {
                layout.l4 = L4Kind::Udp;
                return layout.cut();
            };
            key.tp_src = udp.src_port();
            key.tp_dst = udp.dst_port();
            L4Kind::Udp
        }
        IpProtocol::Sctp => {
            let Ok(sctp) = SctpPacket::new_checked(l4) else {
                layout.l4 = L4Kind::Sctp;
                return layout.cut();
            };
            key.tp_src = sctp.src_port();
            key.tp_dst = sctp.dst_port();
            L4Kind::Sctp
        }
        IpProtocol::Icmp if !v6 => {
            let Ok(icmp) = Icmpv4Packet::new_checked(l4) else {
                layout.l4 = L4Kind::Icmpv4;
                return layout.cut();
            };
            key.icmp_type = icmp.msg_type().into();
            key.icmp_code = icmp.msg_code();
            L4Kind::Icmpv4
        }
        IpProtocol::Icmpv6 if v6 => {
            layout.l4 = L4Kind::Icmpv6;
            let Ok(icmp) = Icmpv6Packet::new_checked(l4) else {
                return layout.cut();
            };
            key.icmp_type = icmp.msg_type().into();
            key.icmp_code = icmp.msg_code();
            // The type and code are there; the rest of the fixed part (an ND target) may
            // not be.
            if icmp.check_message_len().is_err() {
                return layout.cut();
            }
            if icmp.msg_code() == 0 {
                extract_nd(&icmp, key);
            }
            L4Kind::Icmpv6
        }
        _ => {
            layout.l4 = L4Kind::Other;
            return layout;
        }
    };
    layout.l4_complete = true;
    layout
}

/// Neighbor discovery fields of a solicitation or advertisement (OpenFlow matches the
/// source link-layer option of a solicitation and the target one of an advertisement).
fn extract_nd(icmp: &Icmpv6Packet<&[u8]>, key: &mut FlowKey) {
    let want = match icmp.msg_type() {
        Icmpv6Message::NeighborSolicit => NdOptionType::SourceLinkLayerAddr,
        Icmpv6Message::NeighborAdvert => NdOptionType::TargetLinkLayerAddr,
        _ => return,
    };
    let Some(target) = icmp.target_addr() else {
        return;
    };
    let mut lladdr: Option<[u8; 6]> = None;
    for opt in icmp.nd_options() {
        let Ok(opt) = opt else {
            return; // malformed: no ND field at all
        };
        if opt.option_type() != want {
            continue;
        }
        if let Some(a) = opt.link_layer_addr() {
            if lladdr.replace(a.0).is_some() {
                return; // the same option twice
            }
        }
    }
    key.nd_target = target.octets();
    if let Some(a) = lladdr {
        match want {
            NdOptionType::SourceLinkLayerAddr => key.nd_sll = a,
            _ => key.nd_tll = a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_whole_words() {
        assert_eq!(core::mem::size_of::<FlowKey>() % 8, 0);
        assert_eq!(core::mem::align_of::<FlowKey>(), 8);
        let k = FlowKey {
            in_port: 7,
            ..Default::default()
        };
        let w = *k.words();
        assert_eq!(FlowKey::from_words(w), k);
    }

    const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

    /// Ethernet header a -> b of `ethertype`, then `rest`.
    fn eth(ethertype: u16, rest: &[&[u8]]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&MAC_B);
        f.extend_from_slice(&MAC_A);
        f.extend_from_slice(&ethertype.to_be_bytes());
        for r in rest {
            f.extend_from_slice(r);
        }
        f
    }

    /// A 20-byte IPv4 header 198.51.100.1 -> 198.51.100.2 for `payload_len` bytes of `proto`.
    fn ipv4(proto: u8, payload_len: usize, flg_off: u16) -> Vec<u8> {
        let total = (20 + payload_len) as u16;
        let mut h = vec![0x45, 0xb9];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[0x12, 0x34]);
        h.extend_from_slice(&flg_off.to_be_bytes());
        h.extend_from_slice(&[17, proto, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2]);
        h
    }

    /// A 40-byte IPv6 header 2001:db8::1 -> 2001:db8::2 (TC 0x2d, flow 0xabcde).
    fn ipv6(next: u8, payload_len: usize) -> Vec<u8> {
        let mut h = vec![0x62, 0xda, 0xbc, 0xde];
        h.extend_from_slice(&(payload_len as u16).to_be_bytes());
        h.extend_from_slice(&[next, 64]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h
    }

    // TCP 1234 -> 80, SYN|ACK, data offset 5.
    const TCP: [u8; 20] = [
        0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
    ];
    // UDP 5353 -> 53, length 8.
    const UDP: [u8; 8] = [0x14, 0xe9, 0x00, 0x35, 0x00, 0x08, 0, 0];

    #[test]
    fn tcp_ipv4() {
        let f = eth(0x0800, &[&ipv4(6, 20, 0x4000), &TCP]);
        let (k, l) = FlowKey::from_frame(&f, 3);
        assert_eq!(k.in_port, 3);
        assert_eq!((k.eth_src, k.eth_dst, k.eth_type), (MAC_A, MAC_B, 0x0800));
        assert_eq!((k.vlan_vid, k.vlan_pcp), (0, 0));
        assert_eq!((k.ipv4_src, k.ipv4_dst), (0xc633_6401, 0xc633_6402));
        assert_eq!(
            (k.ip_proto, k.ip_dscp, k.ip_ecn, k.ip_ttl, k.ip_frag),
            (6, 46, 1, 17, 0)
        );
        assert_eq!((k.tp_src, k.tp_dst, k.tcp_flags), (1234, 80, 0x012));
        assert_eq!(
            l,
            FrameLayout {
                vlan_tags: 0,
                l3_offset: 14,
                l3: L3Kind::Ipv4,
                l4_offset: 34,
                l4: L4Kind::Tcp,
                l4_complete: true,
                truncated: false,
            }
        );
        // Nothing else is set.
        let mut expect = k;
        expect.eth_src = [0; 6];
        expect.eth_dst = [0; 6];
        expect.eth_type = 0;
        expect.in_port = 0;
        expect.ipv4_src = 0;
        expect.ipv4_dst = 0;
        expect.ip_proto = 0;
        expect.ip_dscp = 0;
        expect.ip_ecn = 0;
        expect.ip_ttl = 0;
        expect.tp_src = 0;
        expect.tp_dst = 0;
        expect.tcp_flags = 0;
        assert_eq!(expect, FlowKey::default());
    }

    #[test]
    fn key_is_reset() {
        let mut k = FlowKey::default();
        let tcp = eth(0x0800, &[&ipv4(6, 20, 0), &TCP]);
        extract(&tcp, 1, &mut k);
        k.tunnel_id = 9;
        k.metadata = 9;
        let arp = eth(0x0806, &[&[0u8; 28]]);
        extract(&arp, 2, &mut k);
        assert_eq!(
            (k.tunnel_id, k.metadata, k.ipv4_src, k.tp_src),
            (0, 0, 0, 0)
        );
    }

    #[test]
    fn vlan_and_qinq() {
        // S-tag pcp 5 vid 100, C-tag pcp 1 vid 200, then IPv4/UDP.
        let f = eth(
            0x88a8,
            &[
                &[0xa0, 0x64, 0x81, 0x00],
                &[0x20, 0xc8, 0x08, 0x00],
                &ipv4(17, 8, 0),
                &UDP,
            ],
        );
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!(k.vlan_vid, 100 | VLAN_PRESENT);
        assert_eq!(k.vlan_pcp, 5);
        assert_eq!(k.eth_type, 0x0800);
        assert_eq!((k.tp_src, k.tp_dst), (5353, 53));
        assert_eq!(
            (l.vlan_tags, l.l3_offset, l.l4_offset, l.l4),
            (2, 22, 42, L4Kind::Udp)
        );

        // VID 0 (priority tag) is still a tag.
        let f = eth(0x8100, &[&[0xe0, 0x00, 0x86, 0xdd], &ipv6(59, 0)]);
        let (k, _) = FlowKey::from_frame(&f, 1);
        assert_eq!(
            (k.vlan_vid, k.vlan_pcp, k.eth_type),
            (VLAN_PRESENT, 7, 0x86dd)
        );
    }

    #[test]
    fn cut_tag_keeps_tpid() {
        let f = eth(0x8100, &[&[0x00, 0x05, 0x08]]);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.eth_type, k.vlan_vid), (0x8100, 0));
        assert!(l.truncated);
        assert_eq!(l.l3, L3Kind::None);
    }

    #[test]
    fn arp() {
        let arp = [
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0, 0, 0, 0, 0x0a, 198, 51, 100,
            1, 0x02, 0, 0, 0, 0, 0x0b, 198, 51, 100, 2,
        ];
        let f = eth(0x0806, &[&arp, &[0u8; 18]]);
        let (k, l) = FlowKey::from_frame(&f, 4);
        assert_eq!((k.eth_type, k.arp_op, k.ip_proto), (0x0806, 2, 2));
        assert_eq!((k.arp_spa, k.arp_tpa), (0xc633_6401, 0xc633_6402));
        assert_eq!((k.arp_sha, k.arp_tha), (MAC_A, MAC_B));
        assert_eq!((l.l3, l.l3_offset, l.l4), (L3Kind::Arp, 14, L4Kind::None));

        // A non-Ethernet/IPv4 ARP carries no ARP fields.
        let mut other = arp;
        other[1] = 6; // IEEE 802 hardware type
        let (k, l) = FlowKey::from_frame(&eth(0x0806, &[&other]), 4);
        assert_eq!((k.eth_type, k.arp_op, k.arp_spa), (0x0806, 0, 0));
        assert!(!l.truncated);
        // A cut ARP.
        let (k, l) = FlowKey::from_frame(&eth(0x0806, &[&arp[..27]]), 4);
        assert_eq!((k.arp_op, l.truncated), (0, true));
    }

    #[test]
    fn ipv4_fragments() {
        // First fragment: transport fields present.
        let f = eth(0x0800, &[&ipv4(17, 8, 0x2000), &UDP]);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.ip_frag, k.tp_dst, l.l4), (IP_FRAG_ANY, 53, L4Kind::Udp));
        // Later fragment (offset 185 × 8): none.
        let f = eth(0x0800, &[&ipv4(17, 8, 0x00b9), &UDP]);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!(
            (k.ip_frag, k.ip_proto, k.tp_dst),
            (IP_FRAG_ANY | IP_FRAG_LATER, 17, 0)
        );
        assert_eq!((l.l4, l.l4_offset, l.truncated), (L4Kind::None, 0, false));
    }

    #[test]
    fn ipv4_options_and_bad_lengths() {
        // IHL 6: one option word, TCP follows at 38.
        let mut ip = ipv4(6, 24, 0);
        ip[0] = 0x46;
        ip.extend_from_slice(&[1, 1, 1, 0]);
        let f = eth(0x0800, &[&ip, &TCP]);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!((l.l4_offset, k.tp_src), (38, 1234));

        // Version 6 in an IPv4 EtherType: no IP fields, not "truncated".
        let mut ip = ipv4(6, 20, 0);
        ip[0] = 0x65;
        let (k, l) = FlowKey::from_frame(&eth(0x0800, &[&ip, &TCP]), 1);
        assert_eq!(
            (k.ipv4_src, k.ip_proto, l.truncated, l.l3),
            (0, 0, false, L3Kind::Ipv4)
        );

        // Total length below the header: L3 fields, no L4.
        let mut ip = ipv4(6, 20, 0);
        ip[3] = 10;
        let (k, l) = FlowKey::from_frame(&eth(0x0800, &[&ip, &TCP]), 1);
        assert_eq!((k.ip_proto, k.tp_src, l.truncated), (6, 0, true));

        // Total length bounds the payload: the TCP header past it is not read.
        let ip = ipv4(6, 10, 0);
        let (k, l) = FlowKey::from_frame(&eth(0x0800, &[&ip, &TCP]), 1);
        assert_eq!(
            (k.tp_src, l.l4, l.l4_complete, l.truncated),
            (0, L4Kind::Tcp, false, true)
        );
    }

    #[test]
    fn icmpv4() {
        let icmp = [8, 0, 0, 0, 0, 1, 0, 1];
        let (k, l) = FlowKey::from_frame(&eth(0x0800, &[&ipv4(1, 8, 0), &icmp]), 1);
        assert_eq!(
            (k.ip_proto, k.icmp_type, k.icmp_code, k.tp_src),
            (1, 8, 0, 0)
        );
        assert_eq!((l.l4, l.l4_complete), (L4Kind::Icmpv4, true));
        // ICMPv4 inside IPv6 is just another protocol.
        let (k, l) = FlowKey::from_frame(&eth(0x86dd, &[&ipv6(1, 8), &icmp]), 1);
        assert_eq!((k.ip_proto, k.icmp_type, l.l4), (1, 0, L4Kind::Other));
    }

    #[test]
    fn sctp() {
        let sctp = [0x0b, 0x59, 0x0b, 0x5a, 0, 0, 0, 7, 0, 0, 0, 0];
        let (k, l) = FlowKey::from_frame(&eth(0x0800, &[&ipv4(132, 12, 0), &sctp]), 1);
        assert_eq!(
            (k.ip_proto, k.tp_src, k.tp_dst, l.l4),
            (132, 2905, 2906, L4Kind::Sctp)
        );
    }

    #[test]
    fn ipv6_udp() {
        let (k, l) = FlowKey::from_frame(&eth(0x86dd, &[&ipv6(17, 8), &UDP]), 1);
        assert_eq!(k.eth_type, 0x86dd);
        assert_eq!(k.ipv6_src[15], 1);
        assert_eq!(k.ipv6_dst[..4], [0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(
            (k.ipv6_flabel, k.ip_dscp, k.ip_ecn, k.ip_ttl),
            (0xabcde, 11, 1, 64)
        );
        assert_eq!(
            (k.ip_proto, k.tp_src, k.tp_dst, k.ipv6_exthdr),
            (17, 5353, 53, 0)
        );
        assert_eq!((l.l3_offset, l.l4_offset, l.l4_complete), (14, 54, true));
    }

    /// An extension header of 8 bytes announcing `next`.
    fn ext8(next: u8) -> [u8; 8] {
        [next, 0, 1, 4, 0, 0, 0, 0]
    }

    /// A fragment header announcing `next` at byte `offset`, more fragments.
    fn frag(next: u8, offset: u16) -> [u8; 8] {
        let o = (offset | 1).to_be_bytes();
        [next, 0, o[0], o[1], 0, 0, 0, 9]
    }

    fn exthdr_of(chain: &[&[u8]], first: u8) -> (FlowKey, FrameLayout) {
        let len: usize = chain.iter().map(|c| c.len()).sum();
        let mut parts: Vec<&[u8]> = Vec::new();
        let ip = ipv6(first, len);
        parts.push(&ip);
        parts.extend_from_slice(chain);
        FlowKey::from_frame(&eth(0x86dd, &parts), 1)
    }

    #[test]
    fn ipv6_extension_headers_in_order() {
        use ipv6_exthdr::*;
        // Hop-by-Hop, Destination, Routing, Fragment (first), AH, then UDP.
        let ah = [17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        let (k, l) = exthdr_of(
            &[&ext8(60), &ext8(43), &ext8(44), &frag(51, 0), &ah, &UDP],
            0,
        );
        assert_eq!(k.ipv6_exthdr, HOP | DEST | ROUTER | FRAG | AUTH);
        assert_eq!((k.ip_proto, k.ip_frag, k.tp_dst), (17, IP_FRAG_ANY, 53));
        assert_eq!(l.l4_offset, 14 + 40 + 8 * 4 + 12);
        assert!(l.l4_complete);

        // Routing then final Destination Options then TCP.
        let (k, _) = exthdr_of(&[&ext8(60), &ext8(6), &TCP], 43);
        assert_eq!(k.ipv6_exthdr, ROUTER | DEST);
        assert_eq!((k.ip_proto, k.tp_src), (6, 1234));

        // Both Destination Options places.
        let (k, _) = exthdr_of(&[&ext8(43), &ext8(60), &ext8(17), &UDP], 60);
        assert_eq!(k.ipv6_exthdr, DEST | ROUTER);
    }

    #[test]
    fn ipv6_extension_header_anomalies() {
        use ipv6_exthdr::*;
        // Hop-by-Hop not first.
        let (k, _) = exthdr_of(&[&ext8(0), &ext8(17), &UDP], 60);
        assert_eq!(k.ipv6_exthdr, DEST | HOP | UNSEQ);
        // Routing after Fragment.
        let (k, _) = exthdr_of(&[&frag(43, 0), &ext8(17), &UDP], 44);
        assert_eq!(k.ipv6_exthdr, FRAG | ROUTER | UNSEQ);
        // Two Routing headers.
        let (k, _) = exthdr_of(&[&ext8(43), &ext8(17), &UDP], 43);
        assert_eq!(k.ipv6_exthdr, ROUTER | UNREP);
        // Two Destination Options headers in a row.
        let (k, _) = exthdr_of(&[&ext8(60), &ext8(17), &UDP], 60);
        assert_eq!(k.ipv6_exthdr, DEST | UNREP);
        // The final Destination Options before a Fragment header.
        let (k, _) = exthdr_of(&[&ext8(60), &ext8(44), &frag(17, 0), &UDP], 43);
        assert_eq!(k.ipv6_exthdr, ROUTER | DEST | FRAG | UNSEQ);
    }

    #[test]
    fn ipv6_chain_ends() {
        use ipv6_exthdr::*;
        // No Next Header.
        let (k, l) = exthdr_of(&[&ext8(59)], 0);
        assert_eq!((k.ipv6_exthdr, k.ip_proto), (HOP | NOEXT, 59));
        assert_eq!((l.l4, l.truncated), (L4Kind::None, false));
        // ESP: nothing past it is readable.
        let (k, l) = exthdr_of(&[&[0, 0, 1, 0, 0, 0, 0, 1]], 50);
        assert_eq!((k.ipv6_exthdr, k.ip_proto, l.l4), (ESP, 50, L4Kind::None));
        // A later fragment: the fragment's next header, no transport fields.
        let (k, l) = exthdr_of(&[&frag(6, 1448), &TCP], 44);
        assert_eq!((k.ipv6_exthdr, k.ip_proto), (FRAG, 6));
        assert_eq!(
            (k.ip_frag, k.tp_src, l.l4),
            (IP_FRAG_ANY | IP_FRAG_LATER, 0, L4Kind::None)
        );
        // An extension header cut short: its number is the protocol.
        let (k, l) = exthdr_of(&[&ext8(17)[..5]], 0);
        assert_eq!((k.ipv6_exthdr, k.ip_proto, l.truncated), (HOP, 0, true));
        let mut long = ext8(17);
        long[1] = 3; // announces 32 bytes
        let (k, l) = exthdr_of(&[&long, &UDP], 60);
        assert_eq!((k.ip_proto, k.tp_src, l.truncated), (60, 0, true));
    }

    fn nd_frame(ty: u8, code: u8, opts: &[&[u8]]) -> Vec<u8> {
        let mut icmp = vec![ty, code, 0, 0, 0x60, 0, 0, 0];
        icmp.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b]);
        for o in opts {
            icmp.extend_from_slice(o);
        }
        let ip = ipv6(58, icmp.len());
        eth(0x86dd, &[&ip, &icmp])
    }

    fn nd(ty: u8, code: u8, opts: &[&[u8]]) -> (FlowKey, FrameLayout) {
        FlowKey::from_frame(&nd_frame(ty, code, opts), 1)
    }

    const SLL: [u8; 8] = [1, 1, 0x02, 0, 0, 0, 0, 0x0a];
    const TLL: [u8; 8] = [2, 1, 0x02, 0, 0, 0, 0, 0x0b];
    const MTU: [u8; 8] = [5, 1, 0, 0, 0, 0, 0x05, 0xdc];

    #[test]
    fn neighbor_discovery() {
        let target = {
            let mut t = [0u8; 16];
            t[0] = 0xfe;
            t[1] = 0x80;
            t[15] = 0x0b;
            t
        };
        let (k, l) = nd(135, 0, &[&MTU, &SLL, &TLL]);
        assert_eq!((k.ip_proto, k.icmp_type, k.icmp_code), (58, 135, 0));
        assert_eq!((k.nd_target, k.nd_sll, k.nd_tll), (target, MAC_A, [0; 6]));
        assert_eq!((l.l4, l.l4_complete), (L4Kind::Icmpv6, true));

        let (k, _) = nd(136, 0, &[&SLL, &TLL]);
        assert_eq!((k.nd_target, k.nd_sll, k.nd_tll), (target, [0; 6], MAC_B));

        // No option: the target alone.
        let (k, _) = nd(136, 0, &[]);
        assert_eq!((k.nd_target, k.nd_tll), (target, [0; 6]));

        // A zero-length option, or the wanted option twice: no ND field at all.
        let (k, _) = nd(135, 0, &[&SLL, &[1, 0, 0, 0, 0, 0, 0, 0]]);
        assert_eq!((k.icmp_type, k.nd_target, k.nd_sll), (135, [0; 16], [0; 6]));
        let (k, _) = nd(135, 0, &[&SLL, &SLL]);
        assert_eq!((k.nd_target, k.nd_sll), ([0; 16], [0; 6]));

        // A solicitation cut before its target: type and code, nothing more.
        let f = nd_frame(135, 0, &[]);
        let (k, l) = FlowKey::from_frame(&f[..f.len() - 1], 1);
        assert_eq!((k.icmp_type, k.nd_target), (135, [0; 16]));
        assert_eq!(
            (l.l4, l.l4_complete, l.truncated),
            (L4Kind::Icmpv6, false, true)
        );

        // A non-zero code is not ND.
        let (k, _) = nd(135, 1, &[&SLL]);
        assert_eq!((k.icmp_code, k.nd_target), (1, [0; 16]));

        // An echo request has no ND fields.
        let (k, _) = nd(128, 0, &[&SLL]);
        assert_eq!((k.icmp_type, k.nd_target, k.nd_sll), (128, [0; 16], [0; 6]));
    }

    #[test]
    fn mpls_and_pbb() {
        // Two labels: the outer one (0x12345, TC 5, not bottom) is the key's.
        let f = eth(
            0x8847,
            &[&[0x12, 0x34, 0x5a, 0x40], &[0x00, 0x01, 0x01, 0x40]],
        );
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!(
            (k.eth_type, k.mpls_label, k.mpls_tc, k.mpls_bos),
            (0x8847, 0x12345, 5, 0)
        );
        assert_eq!(l.l3, L3Kind::Mpls);
        let f = eth(0x8848, &[&[0x00, 0x01, 0x01, 0x40]]);
        let (k, _) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.eth_type, k.mpls_label, k.mpls_bos), (0x8848, 0x10, 1));

        let itag = [
            0x60, 0xab, 0xcd, 0xef, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        ];
        let (k, l) = FlowKey::from_frame(&eth(0x88e7, &[&itag]), 1);
        assert_eq!(
            (k.eth_type, k.pbb_isid, l.l3),
            (0x88e7, 0xabcdef, L3Kind::Pbb)
        );
        let (k, l) = FlowKey::from_frame(&eth(0x88e7, &[&itag[..10]]), 1);
        assert_eq!((k.pbb_isid, l.truncated), (0, true));
    }

    #[test]
    fn ieee_802_3() {
        // LLC/SNAP carrying ARP.
        let snap = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06];
        let arp = [0u8; 28];
        let f = eth(36, &[&snap, &arp]);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.eth_type, l.l3, l.l3_offset), (0x0806, L3Kind::Arp, 22));
        // Plain LLC (spanning tree).
        let f = eth(38, &[&[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]]);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!(
            (k.eth_type, l.l3, l.truncated),
            (ETH_TYPE_NONE, L3Kind::None, false)
        );
    }

    #[test]
    fn lldp_is_other() {
        let (k, l) = FlowKey::from_frame(&eth(0x88cc, &[&[0x02, 0x07, 4]]), 1);
        assert_eq!((k.eth_type, l.l3, l.l3_offset), (0x88cc, L3Kind::Other, 14));
    }

    #[test]
    fn every_prefix_is_safe_and_consistent() {
        let frames = [
            eth(0x8100, &[&[0x20, 0x0a, 0x08, 0x00], &ipv4(6, 20, 0), &TCP]),
            eth(
                0x86dd,
                &[
                    &ipv6(0, 8 + 8 + 8 + 8),
                    &ext8(44),
                    &frag(17, 0),
                    &UDP,
                    &[1; 8],
                ],
            ),
            nd_frame(135, 0, &[&SLL]),
        ];
        for f in &frames {
            let (full, full_l) = FlowKey::from_frame(f, 1);
            assert!(!full_l.truncated);
            for n in 0..f.len() {
                let (k, l) = FlowKey::from_frame(&f[..n], 1);
                // Every address and port a prefix yields is the full frame's value.
                for (a, b) in [(k.eth_src, full.eth_src), (k.eth_dst, full.eth_dst)] {
                    assert!(a == b || a == [0; 6]);
                }
                assert!(k.ipv4_src == full.ipv4_src || k.ipv4_src == 0);
                assert!(k.tp_src == full.tp_src || k.tp_src == 0);
                assert!(k.vlan_vid == full.vlan_vid || k.vlan_vid == 0);
                if l.l4_complete {
                    assert_eq!((k.tp_src, k.tp_dst), (full.tp_src, full.tp_dst));
                }
            }
        }
    }

    #[test]
    fn nothing_below_ethernet() {
        for n in 0..14 {
            let (k, l) = FlowKey::from_frame(&[0xff; 14][..n], 5);
            assert_eq!(k.in_port, 5);
            assert_eq!(k.eth_type, 0);
            assert!(l.truncated);
        }
    }
}
