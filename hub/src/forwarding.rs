//! Forwarding modes: where a frame goes.
//!
//! This is the seam where OpenFlow mode will plug in: the switch loop asks a
//! [`Forwarding`] for a [`Decision`] per frame and carries it out; it never looks at the
//! frame itself. Hub and learning modes need only the Ethernet addresses, so they read
//! those two fields and skip full flow-key extraction (OpenFlow mode will extract a
//! `FlowKey` and consult the classifier instead).

use flowlab_datapath::learning::{is_group, Learned, MacTable};

/// What to do with one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// To every port but the ingress port.
    Flood,
    /// To one port.
    Unicast(u32),
    /// Nowhere (the destination sits behind the ingress port: no hairpin).
    Filter,
}

/// The forwarding mode and its state.
#[derive(Debug)]
pub enum Forwarding {
    /// Flood everything to all but the ingress port (uml_switch `-hub`). Addresses are
    /// still learned, as uml_switch does, so `macs` shows who is where.
    Hub(MacTable),
    /// The learning switch (uml_switch's default).
    Learning(MacTable),
}

impl Forwarding {
    /// Decides where `frame` (at least 14 bytes) from `in_port` goes, learning its source.
    #[inline]
    pub fn decide(&mut self, frame: &[u8], in_port: u32, now_ms: u64) -> (Decision, Learned) {
        let dst: &[u8; 6] = frame[0..6].try_into().expect("frame has 14 bytes");
        let src: &[u8; 6] = frame[6..12].try_into().expect("frame has 14 bytes");
        match self {
            Forwarding::Hub(macs) => (Decision::Flood, macs.learn(src, in_port, now_ms)),
            Forwarding::Learning(macs) => {
                let learned = macs.learn(src, in_port, now_ms);
                if is_group(dst) {
                    return (Decision::Flood, learned);
                }
                let d = match macs.lookup(dst, now_ms) {
                    Some(p) if p == in_port => Decision::Filter,
                    Some(p) => Decision::Unicast(p),
                    None => Decision::Flood,
                };
                (d, learned)
            }
        }
    }

    /// The MAC table.
    pub fn macs(&self) -> &MacTable {
        match self {
            Forwarding::Hub(m) | Forwarding::Learning(m) => m,
        }
    }

    /// The MAC table, mutably.
    pub fn macs_mut(&mut self) -> &mut MacTable {
        match self {
            Forwarding::Hub(m) | Forwarding::Learning(m) => m,
        }
    }

    /// The mode's name.
    pub fn name(&self) -> &'static str {
        match self {
            Forwarding::Hub(_) => "hub",
            Forwarding::Learning(_) => "learning switch",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
        let mut f = dst.to_vec();
        f.extend_from_slice(&src);
        f.extend_from_slice(&[0x08, 0x00]);
        f
    }
    const A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

    #[test]
    fn learning_switch_decisions() {
        let mut f = Forwarding::Learning(MacTable::new(16, 100_000));
        assert_eq!(
            f.decide(&frame(B, A), 1, 0).0,
            Decision::Flood,
            "unknown unicast floods"
        );
        assert_eq!(f.decide(&frame(A, B), 2, 1).0, Decision::Unicast(1));
        assert_eq!(f.decide(&frame(B, A), 1, 2).0, Decision::Unicast(2));
        assert_eq!(f.decide(&frame([0xff; 6], A), 1, 3).0, Decision::Flood);
        // A second host behind port 1 talking to A: no hairpin.
        let c = [2, 0, 0, 0, 0, 0xc];
        assert_eq!(f.decide(&frame(A, c), 1, 4).0, Decision::Filter);
    }

    #[test]
    fn hub_floods_known_destinations() {
        let mut f = Forwarding::Hub(MacTable::new(16, 100_000));
        f.decide(&frame(A, B), 2, 0);
        assert_eq!(f.decide(&frame(B, A), 1, 1).0, Decision::Flood);
        assert_eq!(f.macs().len(), 2);
    }
}
