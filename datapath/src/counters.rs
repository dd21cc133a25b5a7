//! Counters: per flow entry, per flow table, per microflow cache and per port.
//!
//! All of them are plain structs of `u64` owned by the single datapath thread that updates
//! them; nothing here is atomic or shared. The control plane reads them by asking the
//! datapath thread for a copy (every struct here is `Copy`), between two batches.
//!
//! Counters wrap around on overflow, as OpenFlow counters do, rather than panic: a `u64` of
//! bytes does not overflow in practice, but a wrap is the specified behaviour if it ever does.
//!
//! Time is never read here: every method that needs it takes `now`, a [`Duration`] since an
//! arbitrary epoch chosen by the caller (the datapath loop reads its clock once per batch).

use core::time::Duration;

/// Counters of one flow entry: what OpenFlow's flow statistics report.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct FlowCounters {
    /// Packets that hit the entry.
    pub packets: u64,
    /// Bytes of those packets.
    pub bytes: u64,
    /// When the entry was created (or last replaced by an add).
    pub created: Duration,
    /// When a packet last hit the entry; equal to `created` until the first hit.
    pub last_hit: Duration,
}

impl FlowCounters {
    /// Zeroed counters for an entry created at `now`.
    #[inline]
    pub fn new(now: Duration) -> Self {
        FlowCounters {
            packets: 0,
            bytes: 0,
            created: now,
            last_hit: now,
        }
    }

    /// Counts one packet of `bytes` bytes seen at `now`.
    #[inline]
    pub fn add_packet(&mut self, bytes: u64, now: Duration) {
        self.add(1, bytes, now);
    }

    /// Counts `packets` packets totalling `bytes` bytes, the last of them seen at `now`.
    #[inline]
    pub fn add(&mut self, packets: u64, bytes: u64, now: Duration) {
        self.packets = self.packets.wrapping_add(packets);
        self.bytes = self.bytes.wrapping_add(bytes);
        self.last_hit = now;
    }

    /// Clears the packet and byte counts (OpenFlow's `RESET_COUNTS`); times are kept.
    #[inline]
    pub fn clear_counts(&mut self) {
        self.packets = 0;
        self.bytes = 0;
    }

    /// How long the entry has existed at `now` (zero if `now` is before its creation).
    #[inline]
    pub fn duration(&self, now: Duration) -> Duration {
        now.saturating_sub(self.created)
    }

    /// How long the entry has gone without a hit at `now` (zero if `now` is earlier).
    #[inline]
    pub fn idle_for(&self, now: Duration) -> Duration {
        now.saturating_sub(self.last_hit)
    }
}

/// Counters of one flow table: what OpenFlow's table statistics report (the active count is
/// the table's length and lives with the table).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct TableCounters {
    /// Packets looked up in the table.
    pub lookups: u64,
    /// Packets that matched an entry of the table.
    pub matches: u64,
}

impl TableCounters {
    /// Counts one lookup, and one match if `matched`.
    #[inline]
    pub fn add_lookup(&mut self, matched: bool) {
        self.lookups = self.lookups.wrapping_add(1);
        self.matches = self.matches.wrapping_add(u64::from(matched));
    }

    /// Lookups that matched nothing.
    #[inline]
    pub fn misses(&self) -> u64 {
        self.lookups.wrapping_sub(self.matches)
    }

    /// Adds another set of table counters to this one.
    #[inline]
    pub fn merge(&mut self, other: &TableCounters) {
        self.lookups = self.lookups.wrapping_add(other.lookups);
        self.matches = self.matches.wrapping_add(other.matches);
    }
}

/// Counters of one microflow cache: how often the exact-match cache spared a classifier
/// lookup.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct MicroflowCounters {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that went on to the classifier.
    pub misses: u64,
}

impl MicroflowCounters {
    /// Counts one cache hit.
    #[inline]
    pub fn add_hit(&mut self) {
        self.hits = self.hits.wrapping_add(1);
    }

    /// Counts one cache miss.
    #[inline]
    pub fn add_miss(&mut self) {
        self.misses = self.misses.wrapping_add(1);
    }
}

/// Counters of one port: what OpenFlow's port statistics report (the subset a software
/// switch can know). The hub's switch loop updates the fields directly or through the
/// `add_*` methods.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
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

impl PortCounters {
    /// Counts one received frame of `bytes` bytes.
    #[inline]
    pub fn add_rx(&mut self, bytes: u64) {
        self.add_rx_batch(1, bytes);
    }

    /// Counts `packets` received frames totalling `bytes` bytes.
    #[inline]
    pub fn add_rx_batch(&mut self, packets: u64, bytes: u64) {
        self.rx_packets = self.rx_packets.wrapping_add(packets);
        self.rx_bytes = self.rx_bytes.wrapping_add(bytes);
    }

    /// Counts one sent frame of `bytes` bytes.
    #[inline]
    pub fn add_tx(&mut self, bytes: u64) {
        self.add_tx_batch(1, bytes);
    }

    /// Counts `packets` sent frames totalling `bytes` bytes.
    #[inline]
    pub fn add_tx_batch(&mut self, packets: u64, bytes: u64) {
        self.tx_packets = self.tx_packets.wrapping_add(packets);
        self.tx_bytes = self.tx_bytes.wrapping_add(bytes);
    }

    /// Counts `n` frames dropped on receive.
    #[inline]
    pub fn add_rx_drops(&mut self, n: u64) {
        self.rx_drops = self.rx_drops.wrapping_add(n);
    }

    /// Counts `n` receive errors.
    #[inline]
    pub fn add_rx_errors(&mut self, n: u64) {
        self.rx_errors = self.rx_errors.wrapping_add(n);
    }

    /// Counts `n` frames dropped on send.
    #[inline]
    pub fn add_tx_drops(&mut self, n: u64) {
        self.tx_drops = self.tx_drops.wrapping_add(n);
    }

    /// Counts `n` send errors.
    #[inline]
    pub fn add_tx_errors(&mut self, n: u64) {
        self.tx_errors = self.tx_errors.wrapping_add(n);
    }

    /// Adds another port's counters to this one (to total several ports or threads).
    pub fn merge(&mut self, other: &PortCounters) {
        self.add_rx_batch(other.rx_packets, other.rx_bytes);
        self.add_tx_batch(other.tx_packets, other.tx_bytes);
        self.add_rx_drops(other.rx_drops);
        self.add_rx_errors(other.rx_errors);
        self.add_tx_drops(other.tx_drops);
        self.add_tx_errors(other.tx_errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn flow_counters_track_hits_and_time() {
        let mut c = FlowCounters::new(secs(10));
        assert_eq!((c.packets, c.bytes), (0, 0));
        assert_eq!(c.last_hit, secs(10));
        c.add_packet(60, secs(12));
        c.add(2, 200, secs(15));
        assert_eq!((c.packets, c.bytes), (3, 260));
        assert_eq!(c.duration(secs(20)), secs(10));
        assert_eq!(c.idle_for(secs(20)), secs(5));
        // A clock that runs backwards gives zero, never a panic.
        assert_eq!(c.duration(secs(1)), Duration::ZERO);
        c.clear_counts();
        assert_eq!((c.packets, c.bytes, c.created), (0, 0, secs(10)));
    }

    #[test]
    fn flow_counters_wrap() {
        let mut c = FlowCounters::new(Duration::ZERO);
        c.packets = u64::MAX;
        c.add_packet(1, Duration::ZERO);
        assert_eq!(c.packets, 0);
    }

    #[test]
    fn table_counters() {
        let mut t = TableCounters::default();
        t.add_lookup(true);
        t.add_lookup(false);
        t.add_lookup(true);
        assert_eq!((t.lookups, t.matches, t.misses()), (3, 2, 1));
        let mut u = TableCounters::default();
        u.merge(&t);
        u.merge(&t);
        assert_eq!((u.lookups, u.matches), (6, 4));
    }

    #[test]
    fn microflow_counters() {
        let mut m = MicroflowCounters::default();
        m.add_hit();
        m.add_hit();
        m.add_miss();
        assert_eq!((m.hits, m.misses), (2, 1));
    }

    #[test]
    fn port_counters() {
        let mut p = PortCounters::default();
        p.add_rx(64);
        p.add_rx_batch(2, 3000);
        p.add_tx(100);
        p.add_tx_batch(3, 300);
        p.add_rx_drops(1);
        p.add_rx_errors(2);
        p.add_tx_drops(3);
        p.add_tx_errors(4);
        assert_eq!((p.rx_packets, p.rx_bytes), (3, 3064));
        assert_eq!((p.tx_packets, p.tx_bytes), (4, 400));
        assert_eq!(
            (p.rx_drops, p.rx_errors, p.tx_drops, p.tx_errors),
            (1, 2, 3, 4)
        );
        let mut total = p;
        total.merge(&p);
        assert_eq!(total.rx_bytes, 2 * 3064);
        assert_eq!(total.tx_errors, 8);
    }
}
