//! [`PipelineOutput`]: what one packet's trip through the pipeline produced — frames for
//! ports and packet-in events — without copying a frame that nothing changed.

use crate::actions::OutputPort;

/// Which bytes an output or a packet-in carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameRef {
    /// The caller's frame, as [`Pipeline::process`](super::Pipeline::process) (or
    /// `packet_out`) left it. The common case: no copy at all.
    Packet,
    /// A copy held by the [`PipelineOutput`]: the frame as it was before a later rewrite,
    /// or a group bucket's own copy.
    Buffer(u32),
}

/// One frame to send to a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortOutput {
    /// Where to. Never [`OutputPort::Controller`] (that is a [`PacketIn`]),
    /// [`OutputPort::Group`] (groups run inside the pipeline) or [`OutputPort::Table`]; the
    /// caller resolves `InPort`, `Flood`, `All`, `Local` and `Normal`.
    pub port: OutputPort,
    /// The queue a `set_queue` chose, if any.
    pub queue: Option<u32>,
    /// The bytes: see [`PipelineOutput::frame`].
    pub frame: FrameRef,
}

/// Why a packet goes to the controller (OpenFlow 1.3 `ofp_packet_in_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketInReason {
    /// No flow matched and the pipeline's table-miss behaviour is
    /// [`TableMiss::Controller`](super::TableMiss::Controller), or the output came from a
    /// table-miss flow (priority 0, match-all), as OpenFlow 1.3 reports it (`OFPR_NO_MATCH`).
    NoMatch,
    /// An output action to the controller (`OFPR_ACTION`).
    Action,
    /// A TTL decrement met a TTL of 0 or 1 and the switch sends those to the controller
    /// (`OFPR_INVALID_TTL`).
    InvalidTtl,
}

/// One packet-in event: the fields an OpenFlow 1.3 packet-in carries, the frame in full
/// (the agent truncates to `max_len` or buffers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketIn {
    /// Why.
    pub reason: PacketInReason,
    /// The table of the flow that sent it, or of the table miss (`0xff` for a packet-out).
    pub table_id: u8,
    /// The cookie of that flow; all ones when no flow is involved (a table miss, a
    /// packet-out).
    pub cookie: u64,
    /// Ingress port (OXM `IN_PORT` of the packet-in match).
    pub in_port: u32,
    /// Pipeline metadata when the packet was sent (OXM `METADATA`).
    pub metadata: u64,
    /// Tunnel id (OXM `TUNNEL_ID`).
    pub tunnel_id: u64,
    /// Bytes of the frame the controller asked for: the output action's `max_len`, or the
    /// switch's `miss_send_len` for misses and invalid TTLs (`0xffff`: the whole frame,
    /// unbuffered).
    pub max_len: u16,
    /// The frame: see [`PipelineOutput::frame`].
    pub frame: FrameRef,
}

/// The outputs and packet-ins of one [`Pipeline::process`](super::Pipeline::process) or
/// `packet_out` call, with the frame copies they refer to.
///
/// Reuse one across calls: each call clears it first, and the copy buffers keep their
/// capacity, so the steady state allocates nothing. Most outputs refer to
/// [`FrameRef::Packet`], the caller's frame itself; a copy is made only when the frame is
/// rewritten after an output (or for a group bucket that rewrites its own copy).
#[derive(Debug, Clone, Default)]
pub struct PipelineOutput {
    pub(crate) outputs: Vec<PortOutput>,
    pub(crate) packet_ins: Vec<PacketIn>,
    buffers: Vec<Vec<u8>>,
    used: usize,
}

impl PipelineOutput {
    /// An empty output (allocates nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything (keeps capacity).
    pub fn clear(&mut self) {
        self.outputs.clear();
        self.packet_ins.clear();
        self.used = 0;
    }

    /// Frames for ports, in the order the pipeline produced them.
    pub fn outputs(&self) -> &[PortOutput] {
        &self.outputs
    }

    /// Packet-in events, in order.
    pub fn packet_ins(&self) -> &[PacketIn] {
        &self.packet_ins
    }

    /// Whether the packet went nowhere (dropped).
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty() && self.packet_ins.is_empty()
    }

    /// Number of frame copies made (0 in the common case).
    pub fn copies(&self) -> usize {
        self.used
    }

    /// The bytes `frame` stands for, given the caller's frame `packet` as the call left it.
    pub fn frame<'a>(&'a self, frame: FrameRef, packet: &'a [u8]) -> &'a [u8] {
        match frame {
            FrameRef::Packet => packet,
            FrameRef::Buffer(i) => self
                .buffers
                .get(i as usize)
                .filter(|_| (i as usize) < self.used)
                .map_or(&[], Vec::as_slice),
        }
    }

    /// Each port output with its bytes.
    pub fn iter<'a>(
        &'a self,
        packet: &'a [u8],
    ) -> impl Iterator<Item = (&'a PortOutput, &'a [u8])> + 'a {
        self.outputs
            .iter()
            .map(move |o| (o, self.frame(o.frame, packet)))
    }

    /// A copy of `bytes` in a reused buffer.
    pub(crate) fn copy_of(&mut self, bytes: &[u8]) -> u32 {
        if self.used == self.buffers.len() {
            self.buffers.push(Vec::new());
        }
        let b = &mut self.buffers[self.used];
        b.clear();
        b.extend_from_slice(bytes);
        self.used += 1;
        (self.used - 1) as u32
    }

    /// Takes buffer `i` out, to run a frame context on it; give it back with
    /// [`put_back`](Self::put_back).
    pub(crate) fn take(&mut self, i: u32) -> Vec<u8> {
        self.buffers
            .get_mut(i as usize)
            .map(core::mem::take)
            .unwrap_or_default()
    }

    /// Returns a buffer [`take`](Self::take)n out.
    pub(crate) fn put_back(&mut self, i: u32, buf: Vec<u8>) {
        if let Some(b) = self.buffers.get_mut(i as usize) {
            *b = buf;
        }
    }

    /// Outputs and packet-ins from `out_from`/`pin_from` on that refer to `from` refer to
    /// `to` instead.
    pub(crate) fn retarget(
        &mut self,
        out_from: usize,
        pin_from: usize,
        from: FrameRef,
        to: FrameRef,
    ) {
        for o in self.outputs.iter_mut().skip(out_from) {
            if o.frame == from {
                o.frame = to;
            }
        }
        for p in self.packet_ins.iter_mut().skip(pin_from) {
            if p.frame == from {
                p.frame = to;
            }
        }
    }

    /// Whether an output or packet-in from `out_from`/`pin_from` on refers to `frame`.
    pub(crate) fn refers_to(&self, out_from: usize, pin_from: usize, frame: FrameRef) -> bool {
        self.outputs.iter().skip(out_from).any(|o| o.frame == frame)
            || self
                .packet_ins
                .iter()
                .skip(pin_from)
                .any(|p| p.frame == frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused() {
        let mut out = PipelineOutput::new();
        let a = out.copy_of(&[1, 2, 3]);
        let b = out.copy_of(&[4]);
        assert_eq!((a, b), (0, 1));
        out.outputs.push(PortOutput {
            port: OutputPort::Port(1),
            queue: None,
            frame: FrameRef::Buffer(b),
        });
        assert_eq!(out.frame(FrameRef::Buffer(a), &[9]), &[1, 2, 3]);
        assert_eq!(out.frame(FrameRef::Packet, &[9]), &[9]);
        let pairs: Vec<_> = out.iter(&[9]).map(|(o, f)| (o.port, f.to_vec())).collect();
        assert_eq!(pairs, vec![(OutputPort::Port(1), vec![4])]);
        out.clear();
        assert!(out.is_empty());
        assert_eq!(out.copies(), 0);
        // A stale reference after clear sees nothing rather than old bytes.
        assert_eq!(out.frame(FrameRef::Buffer(a), &[9]), &[] as &[u8]);
        let c = out.copy_of(&[7, 7]);
        assert_eq!(c, 0);
        assert_eq!(out.frame(FrameRef::Buffer(c), &[]), &[7, 7]);
        let taken = out.take(c);
        assert_eq!(taken, vec![7, 7]);
        out.put_back(c, taken);
        assert_eq!(out.frame(FrameRef::Buffer(c), &[]), &[7, 7]);
    }
}
