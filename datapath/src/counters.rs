//! Counters: per flow, per port, per table. Owned by the single datapath thread: plain
//! integers, no atomics.

/// Per-port counters, owned by the datapath thread (used by flowlab-hub's switch loop).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    /// Frames received and accepted.
    pub rx_packets: u64,
    /// Bytes of those frames.
    pub rx_bytes: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames received but dropped for lack of resources.
    pub rx_drops: u64,
    /// Frames dropped on output (queue full: the receiver is too slow).
    pub tx_drops: u64,
    /// Frames received but malformed (runt, over the size limit) or failed reads.
    pub rx_errors: u64,
    /// Frames the kernel refused for good on output.
    pub tx_errors: u64,
}
