//! Ethernet frames for the tests: dst, src, ethertype 0x88b5 (IEEE local experimental),
//! then a 64-bit tag and a filler pattern derived from the tag, to any size.

use std::fmt::Write;

/// A MAC address.
pub type Mac = [u8; 6];

/// ff:ff:ff:ff:ff:ff.
pub const BROADCAST: Mac = [0xff; 6];
/// 01:00:5e:00:00:fb, an IPv4 multicast MAC (mDNS).
pub const MCAST_V4: Mac = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];
/// 33:33:00:00:00:01, the IPv6 all-nodes multicast MAC.
pub const MCAST_V6: Mac = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];
/// 01:80:c2:00:00:00, the STP bridge group address (a switch must not filter it either).
pub const STP_GROUP: Mac = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00];
/// The ethertype of test frames.
pub const ETHERTYPE: u16 = 0x88b5;
/// Ethernet header length.
pub const HEADER: usize = 14;

/// The locally administered unicast MAC number `n`: 02:f1:nn:nn:nn:nn.
pub fn mac(n: u32) -> Mac {
    let b = n.to_be_bytes();
    [0x02, 0xf1, b[0], b[1], b[2], b[3]]
}

/// A frame of exactly `len` bytes (at least 14): header, then the tag (big-endian, cut if
/// the frame is shorter), then bytes `tag + i` (mod 256).
pub fn frame(dst: Mac, src: Mac, tag: u64, len: usize) -> Vec<u8> {
    assert!(
        len >= HEADER,
        "a frame has at least {HEADER} bytes; use `runt` for less"
    );
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ETHERTYPE.to_be_bytes());
    let tag_bytes = tag.to_be_bytes();
    f.extend((0..len - HEADER).map(|i| match tag_bytes.get(i) {
        Some(&b) => b,
        None => (tag as u8).wrapping_add(i as u8),
    }));
    f
}

/// A 60-byte frame (the minimum Ethernet size without FCS).
pub fn small(dst: Mac, src: Mac, tag: u64) -> Vec<u8> {
    frame(dst, src, tag, 60)
}

/// A runt of `len` < 14 bytes: the broadcast address, then `src`, then the tag byte,
/// cut to `len`. (uml_switch reads a runt over the header of the previous datagram, so a
/// runt that starts with ff:ff:ff:ff:ff:ff is flooded whatever came before.)
pub fn runt(len: usize, src: Mac, tag: u8) -> Vec<u8> {
    assert!(len < HEADER);
    let mut f = Vec::with_capacity(HEADER);
    f.extend_from_slice(&BROADCAST);
    f.extend_from_slice(&src);
    f.push(tag);
    f.truncate(len);
    f
}

/// The destination MAC of a frame, if it has one.
pub fn dst_of(f: &[u8]) -> Option<Mac> {
    f.get(..6).map(|b| b.try_into().expect("6 bytes"))
}

/// The source MAC of a frame, if it has one.
pub fn src_of(f: &[u8]) -> Option<Mac> {
    f.get(6..12).map(|b| b.try_into().expect("6 bytes"))
}

/// The tag of a test frame of at least 22 bytes.
pub fn tag_of(f: &[u8]) -> Option<u64> {
    if f.len() >= HEADER + 8 && f[12..14] == ETHERTYPE.to_be_bytes() {
        Some(u64::from_be_bytes(f[14..22].try_into().expect("8 bytes")))
    } else {
        None
    }
}

/// `xx:xx:xx:xx:xx:xx`.
pub fn mac_str(m: &Mac) -> String {
    let mut s = String::new();
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A one-line description: length, addresses, tag.
pub fn describe(f: &[u8]) -> String {
    match (dst_of(f), src_of(f)) {
        (Some(d), Some(s)) => {
            let tag = tag_of(f).map(|t| format!(" tag={t}")).unwrap_or_default();
            format!(
                "[{} bytes {} -> {}{tag}]",
                f.len(),
                mac_str(&s),
                mac_str(&d)
            )
        }
        _ => format!("[{} bytes runt {:02x?}]", f.len(), f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_layout() {
        let f = frame(mac(1), mac(2), 0x0102_0304_0506_0708, 64);
        assert_eq!(f.len(), 64);
        assert_eq!(dst_of(&f), Some(mac(1)));
        assert_eq!(src_of(&f), Some(mac(2)));
        assert_eq!(tag_of(&f), Some(0x0102_0304_0506_0708));
        assert_eq!(frame(BROADCAST, mac(0), 7, 14).len(), 14);
        assert_eq!(tag_of(&frame(BROADCAST, mac(0), 7, 20)), None);
        assert_ne!(
            frame(BROADCAST, mac(0), 1, 100),
            frame(BROADCAST, mac(0), 2, 100)
        );
        assert_eq!(mac_str(&mac(0x0a0b)), "02:f1:00:00:0a:0b");
        assert_eq!(mac(5)[0] & 3, 2, "locally administered unicast");
    }

    #[test]
    fn runts_start_with_broadcast() {
        for n in 1..HEADER {
            let r = runt(n, mac(3), 9);
            assert_eq!(r.len(), n);
            assert!(r.iter().take(6).all(|&b| b == 0xff));
        }
    }
}
