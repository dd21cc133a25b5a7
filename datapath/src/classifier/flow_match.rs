//! [`Match`]: a flow key value and a mask over it, built field by field.

use crate::key::{FlowKey, FLOW_KEY_WORDS};

/// A field type that can be masked bitwise.
trait FieldBits: Copy {
    /// `self & other`.
    fn and(self, other: Self) -> Self;
}

macro_rules! int_field_bits {
    ($($t:ty),*) => {$(
        impl FieldBits for $t {
            #[inline]
            fn and(self, other: Self) -> Self {
                self & other
            }
        }
    )*};
}
int_field_bits!(u8, u16, u32, u64);

impl<const N: usize> FieldBits for [u8; N] {
    #[inline]
    fn and(mut self, other: Self) -> Self {
        for (a, b) in self.iter_mut().zip(other) {
            *a &= b;
        }
        self
    }
}

/// A match: which packets a flow entry applies to, as a value and a mask over [`FlowKey`].
///
/// A key matches when `key & mask == value` word by word. A mask bit of 1 means "this bit
/// must equal the value's bit", 0 means "any". The value is always stored pre-masked, so two
/// matches accepting the same packets compare equal. Build one from [`Match::catchall`] with
/// one method per field: `field(v)` for an exact match on all the field's bits, and
/// `field_masked(v, m)` for an arbitrary bit mask (a zero mask wildcards the field again):
///
/// ```
/// use flowlab_datapath::classifier::Match;
///
/// let web = Match::catchall()
///     .eth_type(0x0800)
///     .ip_proto(6)
///     .ipv4_dst_prefix(0xc000_0200, 24) // 192.0.2.0/24
///     .tp_dst(80);
/// assert!(web.is_subset_of(&Match::catchall().eth_type(0x0800)));
/// ```
///
/// OpenFlow's prerequisites (a `tp_dst` match requires `ip_proto` 6, 17 or 132, and so on)
/// are checked by the OpenFlow layer, not here: at this level every field is just bits.
/// Bits above a field's width (the top 12 bits of `mpls_label`, say) are cleared from both
/// value and mask, so an exact match on a field uses exactly its significant bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Match {
    key: FlowKey,
    mask: FlowKey,
}

impl Match {
    /// The match that accepts every packet (all fields wildcarded).
    #[inline]
    pub fn catchall() -> Self {
        Match::default()
    }

    /// The match that accepts exactly `key`: every field significant.
    pub fn exact(key: &FlowKey) -> Self {
        Match::new(*key, full_mask())
    }

    /// A match from a value and a mask; the value is masked here.
    pub fn new(key: FlowKey, mask: FlowKey) -> Self {
        let mut value = key;
        for (v, m) in value.words_mut().iter_mut().zip(mask.words()) {
            *v &= m;
        }
        Match { key: value, mask }
    }

    /// The value (already masked).
    #[inline]
    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// The mask.
    #[inline]
    pub fn mask(&self) -> &FlowKey {
        &self.mask
    }

    /// Whether `key` is accepted by this match.
    #[inline]
    pub fn matches(&self, key: &FlowKey) -> bool {
        let (k, m, v) = (key.words(), self.mask.words(), self.key.words());
        (0..FLOW_KEY_WORDS).all(|i| k[i] & m[i] == v[i])
    }

    /// Whether this match accepts every packet.
    pub fn is_catchall(&self) -> bool {
        self.mask.words().iter().all(|&m| m == 0)
    }

    /// Whether some packet is accepted by both matches: they agree on every bit that both
    /// care about. OpenFlow's `CHECK_OVERLAP` asks this of entries of equal priority.
    pub fn overlaps(&self, other: &Match) -> bool {
        let (a, b) = (self.key.words(), other.key.words());
        let (ma, mb) = (self.mask.words(), other.mask.words());
        (0..FLOW_KEY_WORDS).all(|i| (a[i] ^ b[i]) & ma[i] & mb[i] == 0)
    }

    /// Whether every packet this match accepts is also accepted by `other`, i.e. this match
    /// is at least as specific: it cares about every bit `other` cares about, with the same
    /// value there. This is the selection of OpenFlow's non-strict modify, delete and flow
    /// statistics; every match is a subset of itself and of [`Match::catchall`].
    pub fn is_subset_of(&self, other: &Match) -> bool {
        let (a, b) = (self.key.words(), other.key.words());
        let (ma, mb) = (self.mask.words(), other.mask.words());
        (0..FLOW_KEY_WORDS).all(|i| mb[i] & !ma[i] == 0 && a[i] & mb[i] == b[i])
    }

    /// Matches the IPv4 source on its first `len` bits (a CIDR prefix; `len` above 32 is
    /// taken as 32, 0 wildcards the field).
    #[must_use]
    pub fn ipv4_src_prefix(self, addr: u32, len: u8) -> Self {
        self.ipv4_src_masked(addr, ipv4_prefix_mask(len))
    }

    /// Matches the IPv4 destination on its first `len` bits (see [`Match::ipv4_src_prefix`]).
    #[must_use]
    pub fn ipv4_dst_prefix(self, addr: u32, len: u8) -> Self {
        self.ipv4_dst_masked(addr, ipv4_prefix_mask(len))
    }

    /// Matches the IPv6 source on its first `len` bits (`len` above 128 is taken as 128).
    #[must_use]
    pub fn ipv6_src_prefix(self, addr: [u8; 16], len: u8) -> Self {
        self.ipv6_src_masked(addr, ipv6_prefix_mask(len))
    }

    /// Matches the IPv6 destination on its first `len` bits (see [`Match::ipv6_src_prefix`]).
    #[must_use]
    pub fn ipv6_dst_prefix(self, addr: [u8; 16], len: u8) -> Self {
        self.ipv6_dst_masked(addr, ipv6_prefix_mask(len))
    }
}

/// The mask of an IPv4 prefix of `len` bits, host order.
fn ipv4_prefix_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l if l >= 32 => u32::MAX,
        l => u32::MAX << (32 - u32::from(l)),
    }
}

/// The mask of an IPv6 prefix of `len` bits, wire order.
fn ipv6_prefix_mask(len: u8) -> [u8; 16] {
    let len = u32::from(len.min(128));
    let full = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    full.to_be_bytes()
}

/// Declares, for each field of [`FlowKey`], its significant bits and the two builder methods.
macro_rules! match_fields {
    ($( $field:ident, $masked:ident: $ty:ty = $full:expr; )*) => {
        impl Match {
            $(
                #[doc = concat!("Matches `", stringify!($field), "` exactly (all of its significant bits).")]
                #[inline]
                #[must_use]
                pub fn $field(self, value: $ty) -> Self {
                    self.$masked(value, $full)
                }

                #[doc = concat!("Matches the bits of `", stringify!($field), "` set in `mask` (a zero mask wildcards the field); `value` is masked here.")]
                #[inline]
                #[must_use]
                pub fn $masked(mut self, value: $ty, mask: $ty) -> Self {
                    let mask = FieldBits::and(mask, $full);
                    self.mask.$field = mask;
                    self.key.$field = FieldBits::and(value, mask);
                    self
                }
            )*
        }

        /// The mask with every significant bit of every field set (padding stays clear).
        fn full_mask() -> FlowKey {
            let mut m = FlowKey::default();
            $( m.$field = $full; )*
            m
        }
    };
}

const MAC: [u8; 6] = [0xff; 6];
const IPV6: [u8; 16] = [0xff; 16];

match_fields! {
    tunnel_id, tunnel_id_masked: u64 = u64::MAX;
    metadata, metadata_masked: u64 = u64::MAX;
    in_port, in_port_masked: u32 = u32::MAX;
    ipv4_src, ipv4_src_masked: u32 = u32::MAX;
    ipv4_dst, ipv4_dst_masked: u32 = u32::MAX;
    mpls_label, mpls_label_masked: u32 = 0x000f_ffff;
    eth_dst, eth_dst_masked: [u8; 6] = MAC;
    eth_type, eth_type_masked: u16 = u16::MAX;
    eth_src, eth_src_masked: [u8; 6] = MAC;
    vlan_vid, vlan_vid_masked: u16 = 0x1fff;
    ipv6_src, ipv6_src_masked: [u8; 16] = IPV6;
    ipv6_dst, ipv6_dst_masked: [u8; 16] = IPV6;
    nd_target, nd_target_masked: [u8; 16] = IPV6;
    arp_spa, arp_spa_masked: u32 = u32::MAX;
    arp_tpa, arp_tpa_masked: u32 = u32::MAX;
    arp_sha, arp_sha_masked: [u8; 6] = MAC;
    arp_op, arp_op_masked: u16 = u16::MAX;
    arp_tha, arp_tha_masked: [u8; 6] = MAC;
    tp_src, tp_src_masked: u16 = u16::MAX;
    nd_sll, nd_sll_masked: [u8; 6] = MAC;
    tp_dst, tp_dst_masked: u16 = u16::MAX;
    nd_tll, nd_tll_masked: [u8; 6] = MAC;
    ipv6_exthdr, ipv6_exthdr_masked: u16 = 0x01ff;
    ipv6_flabel, ipv6_flabel_masked: u32 = 0x000f_ffff;
    pbb_isid, pbb_isid_masked: u32 = 0x00ff_ffff;
    vlan_pcp, vlan_pcp_masked: u8 = 0x07;
    ip_proto, ip_proto_masked: u8 = u8::MAX;
    ip_dscp, ip_dscp_masked: u8 = 0x3f;
    ip_ecn, ip_ecn_masked: u8 = 0x03;
    ip_ttl, ip_ttl_masked: u8 = u8::MAX;
    icmp_type, icmp_type_masked: u8 = u8::MAX;
    icmp_code, icmp_code_masked: u8 = u8::MAX;
    mpls_tc, mpls_tc_masked: u8 = 0x07;
    mpls_bos, mpls_bos_masked: u8 = 0x01;
    ip_frag, ip_frag_masked: u8 = 0x03;
    tcp_flags, tcp_flags_masked: u16 = 0x0fff;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::VLAN_PRESENT;

    fn tcp_key(src: u32, dst: u32, dport: u16) -> FlowKey {
        FlowKey {
            in_port: 1,
            eth_type: 0x0800,
            ip_proto: 6,
            ipv4_src: src,
            ipv4_dst: dst,
            tp_src: 40000,
            tp_dst: dport,
            ..FlowKey::default()
        }
    }

    #[test]
    fn catchall_matches_everything() {
        let m = Match::catchall();
        assert!(m.is_catchall());
        assert!(m.matches(&FlowKey::default()));
        assert!(m.matches(&tcp_key(1, 2, 3)));
    }

    #[test]
    fn exact_fields() {
        let m = Match::catchall().eth_type(0x0800).ip_proto(6).tp_dst(80);
        assert!(!m.is_catchall());
        assert!(m.matches(&tcp_key(1, 2, 80)));
        assert!(!m.matches(&tcp_key(1, 2, 81)));
        assert_eq!(m.mask().tp_dst, 0xffff);
        assert_eq!(m.mask().tp_src, 0);
    }

    #[test]
    fn value_is_stored_masked() {
        let a = Match::catchall().ipv4_src_masked(0x0a00_0105, 0xffff_ff00);
        let b = Match::catchall().ipv4_src_masked(0x0a00_01ff, 0xffff_ff00);
        assert_eq!(a, b);
        assert_eq!(a.key().ipv4_src, 0x0a00_0100);
        let c = Match::new(
            tcp_key(0x0a00_0105, 9, 80),
            *Match::catchall().in_port(7).mask(),
        );
        assert_eq!(c.key().ipv4_src, 0);
        assert_eq!(c.key().in_port, 1);
    }

    #[test]
    fn field_width_is_respected() {
        let m = Match::catchall().vlan_vid(0xf000 | VLAN_PRESENT | 10);
        assert_eq!(m.mask().vlan_vid, 0x1fff);
        assert_eq!(m.key().vlan_vid, VLAN_PRESENT | 10);
        let m = Match::catchall().mpls_label_masked(u32::MAX, u32::MAX);
        assert_eq!(m.mask().mpls_label, 0x000f_ffff);
        // A zero mask wildcards the field again.
        let m = Match::catchall().tp_dst(80).tp_dst_masked(80, 0);
        assert!(m.is_catchall());
    }

    #[test]
    fn prefixes() {
        let m = Match::catchall().ipv4_dst_prefix(0xc000_0280, 25);
        assert_eq!(m.mask().ipv4_dst, 0xffff_ff80);
        assert!(m.matches(&tcp_key(0, 0xc000_02ff, 1)));
        assert!(!m.matches(&tcp_key(0, 0xc000_027f, 1)));
        assert_eq!(ipv4_prefix_mask(0), 0);
        assert_eq!(ipv4_prefix_mask(32), u32::MAX);
        assert_eq!(ipv4_prefix_mask(40), u32::MAX);
        assert_eq!(ipv4_prefix_mask(1), 0x8000_0000);
        let m = Match::catchall().ipv6_src_prefix(
            [
                0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            ],
            36,
        );
        assert_eq!(m.mask().ipv6_src[..5], [0xff, 0xff, 0xff, 0xff, 0xf0]);
        assert_eq!(m.key().ipv6_src[..5], [0x20, 0x01, 0x0d, 0xb8, 0xf0]);
        assert_eq!(m.key().ipv6_src[15], 0);
        assert_eq!(ipv6_prefix_mask(0), [0; 16]);
        assert_eq!(ipv6_prefix_mask(200), [0xff; 16]);
        let m = Match::catchall()
            .ipv6_dst_prefix([0xfe, 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 10);
        assert_eq!(m.key().ipv6_dst[..2], [0xfe, 0x80]);
    }

    #[test]
    fn exact_match_of_a_key() {
        let k = tcp_key(1, 2, 3);
        let m = Match::exact(&k);
        assert!(m.matches(&k));
        let mut other = k;
        other.ip_ttl = 64;
        assert!(!m.matches(&other));
        assert_eq!(m.mask().pad, [0; 4]);
        assert!(m.is_subset_of(&Match::catchall().ip_proto(6)));
    }

    #[test]
    fn subset() {
        let wide = Match::catchall().eth_type(0x0800);
        let narrow = wide.ipv4_dst_prefix(0x0a00_0000, 8);
        let narrower = wide.ipv4_dst_prefix(0x0a01_0000, 16);
        assert!(narrow.is_subset_of(&wide));
        assert!(narrower.is_subset_of(&narrow));
        assert!(narrower.is_subset_of(&wide));
        assert!(!wide.is_subset_of(&narrow));
        assert!(wide.is_subset_of(&wide));
        assert!(wide.is_subset_of(&Match::catchall()));
        let elsewhere = wide.ipv4_dst_prefix(0x0b00_0000, 8);
        assert!(!elsewhere.is_subset_of(&narrow));
        // Caring about a different field does not make a match more specific.
        let by_port = Match::catchall().in_port(1);
        assert!(!by_port.is_subset_of(&wide));
    }

    #[test]
    fn overlap() {
        let a = Match::catchall().in_port(1);
        let b = Match::catchall().tp_dst(80);
        let c = Match::catchall().in_port(2).tp_dst(80);
        assert!(a.overlaps(&b));
        assert!(b.overlaps(&c));
        assert!(!a.overlaps(&c));
        assert!(a.overlaps(&a));
        assert!(a.overlaps(&Match::catchall()));
        let n8 = Match::catchall().ipv4_src_prefix(0x0a00_0000, 8);
        let n16 = Match::catchall().ipv4_src_prefix(0x0a01_0000, 16);
        let m16 = Match::catchall().ipv4_src_prefix(0x0b01_0000, 16);
        assert!(n8.overlaps(&n16) && n16.overlaps(&n8));
        assert!(!n8.overlaps(&m16));
    }
}
