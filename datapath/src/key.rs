//! The flow key: every OpenFlow 1.0 and 1.3 match field a frame carries, in fixed words.
//!
//! The layout is plain old data (`bytemuck::Pod`, no padding), 8-byte aligned, so a key can
//! be viewed as `[u64; FLOW_KEY_WORDS]`: the classifier masks and hashes words, never fields.
//! A field the frame does not carry is zero (the prerequisites of OpenFlow — `eth_type`,
//! `ip_proto`, `icmp_type` — say whether a zero is a value or an absence).

use bytemuck::{Pod, Zeroable};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_whole_words() {
        assert_eq!(core::mem::size_of::<FlowKey>() % 8, 0);
        assert_eq!(core::mem::align_of::<FlowKey>(), 8);
        let mut k = FlowKey::default();
        k.in_port = 7;
        let w = *k.words();
        assert_eq!(FlowKey::from_words(w), k);
    }
}
