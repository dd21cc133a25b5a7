//! The test frames: Ethernet frames with a recognisable header so that receivers count only
//! the frames of the current run.
//!
//! Layout: `dst[6] src[6] 0x88b5[2] "FLB1"[4] run[4] kind[1] 0[1] seq[8]`, then zero
//! padding up to the frame size. 0x88b5 is the IEEE local experimental EtherType.

use std::sync::atomic::{AtomicU32, Ordering};

/// Smallest frame the bench builds.
pub const MIN_FRAME: usize = 32;
/// EtherType of test frames.
pub const ETHERTYPE: [u8; 2] = [0x88, 0xb5];
/// Marker after the EtherType.
pub const MAGIC: [u8; 4] = *b"FLB1";
/// The broadcast address.
pub const BROADCAST: [u8; 6] = [0xff; 6];

/// What a frame is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Sent once per port so that the switch learns its MAC.
    Learn = 1,
    /// Load.
    Data = 2,
    /// RTT request.
    Ping = 3,
    /// RTT reply.
    Pong = 4,
}

static NEXT_RUN: AtomicU32 = AtomicU32::new(0);

/// A fresh run id (each measurement uses new MACs, so no stale table entry interferes).
pub fn next_run() -> u32 {
    let seed = std::process::id().wrapping_mul(0x9e37_79b9) & 0x00ff_f000;
    (seed | (NEXT_RUN.fetch_add(1, Ordering::Relaxed) & 0xfff)) & 0x00ff_ffff
}

/// A locally administered unicast MAC for port `port` of run `run`.
pub fn mac(run: u32, port: usize) -> [u8; 6] {
    [
        0x02,
        0xfb,
        (run >> 16) as u8,
        (run >> 8) as u8,
        run as u8,
        port as u8,
    ]
}

/// Builds a frame of `size` bytes (at least [`MIN_FRAME`]).
pub fn build(dst: [u8; 6], src: [u8; 6], run: u32, kind: Kind, size: usize) -> Vec<u8> {
    let mut f = vec![0u8; size.max(MIN_FRAME)];
    f[0..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12..14].copy_from_slice(&ETHERTYPE);
    f[14..18].copy_from_slice(&MAGIC);
    f[18..22].copy_from_slice(&run.to_le_bytes());
    f[22] = kind as u8;
    f
}

/// Writes the sequence number.
pub fn set_seq(frame: &mut [u8], seq: u64) {
    frame[24..32].copy_from_slice(&seq.to_le_bytes());
}

/// Makes `frame` a reply: swaps the addresses, sets `kind`.
pub fn turn_around(frame: &mut [u8], kind: Kind) {
    let mut dst = [0u8; 6];
    dst.copy_from_slice(&frame[0..6]);
    frame.copy_within(6..12, 0);
    frame[6..12].copy_from_slice(&dst);
    frame[22] = kind as u8;
}

/// If `frame` is a test frame of run `run` with kind `kind`, its sequence number.
pub fn parse(frame: &[u8], run: u32, kind: Kind) -> Option<u64> {
    if frame.len() < MIN_FRAME
        || frame[12..14] != ETHERTYPE
        || frame[14..18] != MAGIC
        || frame[18..22] != run.to_le_bytes()
        || frame[22] != kind as u8
    {
        return None;
    }
    Some(u64::from_le_bytes(frame[24..32].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_parse_and_turn_around() {
        let run = next_run();
        let a = mac(run, 0);
        let b = mac(run, 1);
        assert_eq!(a[0] & 1, 0, "unicast");
        assert_eq!(a[0] & 2, 2, "locally administered");
        let mut f = build(b, a, run, Kind::Ping, 64);
        assert_eq!(f.len(), 64);
        set_seq(&mut f, 12345);
        assert_eq!(parse(&f, run, Kind::Ping), Some(12345));
        assert_eq!(parse(&f, run, Kind::Data), None);
        assert_eq!(parse(&f, run.wrapping_add(1), Kind::Ping), None);
        turn_around(&mut f, Kind::Pong);
        assert_eq!(&f[0..6], &a);
        assert_eq!(&f[6..12], &b);
        assert_eq!(parse(&f, run, Kind::Pong), Some(12345));
        assert_eq!(parse(&f[..20], run, Kind::Pong), None);
    }
}
