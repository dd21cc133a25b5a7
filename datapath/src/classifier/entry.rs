//! Flow entries and what describes them: [`FlowEntry`], [`NewFlow`], [`FlowFlags`],
//! [`FlowHandle`], [`RemovalReason`], and the rank that orders entries for lookup.

use core::fmt;
use core::ops::{BitOr, BitOrAssign};
use core::time::Duration;

use super::flow_match::Match;
use crate::counters::FlowCounters;

/// A stable reference to one entry of a [`FlowTable`](super::FlowTable).
///
/// A handle is a slot index plus the slot's generation: when the entry is removed, the slot's
/// generation moves on, so an old handle stops resolving ([`FlowTable::get`] returns `None`)
/// rather than pointing at whatever entry reuses the slot. Handles are only meaningful for the
/// table that issued them.
///
/// [`FlowTable::get`]: super::FlowTable::get
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FlowHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Flags of a flow entry, with the bit values of OpenFlow 1.3's `ofp_flow_mod_flags` (the
/// OpenFlow layer maps other versions onto these). Bits this type does not name are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlowFlags(u16);

impl FlowFlags {
    /// No flag.
    pub const EMPTY: FlowFlags = FlowFlags(0);
    /// Send a flow-removed message when the entry expires or is deleted.
    pub const SEND_FLOW_REM: FlowFlags = FlowFlags(1 << 0);
    /// Refuse an add that overlaps an entry of the same priority
    /// ([`ClassifierError::Overlap`](super::ClassifierError::Overlap)).
    pub const CHECK_OVERLAP: FlowFlags = FlowFlags(1 << 1);
    /// Reset the counters of the entries a modify touches (the OpenFlow layer applies it
    /// through the modify callback; for an add see [`NewFlow::keep_counts`]).
    pub const RESET_COUNTS: FlowFlags = FlowFlags(1 << 2);
    /// The controller does not need the packet count.
    pub const NO_PKT_COUNTS: FlowFlags = FlowFlags(1 << 3);
    /// The controller does not need the byte count.
    pub const NO_BYT_COUNTS: FlowFlags = FlowFlags(1 << 4);

    /// Flags from raw bits, unknown bits included.
    #[inline]
    pub const fn from_bits(bits: u16) -> Self {
        FlowFlags(bits)
    }

    /// The raw bits.
    #[inline]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every flag of `other` is set in `self`.
    #[inline]
    pub const fn contains(self, other: FlowFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags of both.
    #[inline]
    pub const fn union(self, other: FlowFlags) -> Self {
        FlowFlags(self.0 | other.0)
    }
}

impl BitOr for FlowFlags {
    type Output = FlowFlags;

    #[inline]
    fn bitor(self, rhs: FlowFlags) -> FlowFlags {
        self.union(rhs)
    }
}

impl BitOrAssign for FlowFlags {
    #[inline]
    fn bitor_assign(&mut self, rhs: FlowFlags) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for FlowFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(FlowFlags, &str); 5] = [
            (FlowFlags::SEND_FLOW_REM, "SEND_FLOW_REM"),
            (FlowFlags::CHECK_OVERLAP, "CHECK_OVERLAP"),
            (FlowFlags::RESET_COUNTS, "RESET_COUNTS"),
            (FlowFlags::NO_PKT_COUNTS, "NO_PKT_COUNTS"),
            (FlowFlags::NO_BYT_COUNTS, "NO_BYT_COUNTS"),
        ];
        let mut rest = self.0;
        let mut first = true;
        f.write_str("FlowFlags(")?;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                rest &= !flag.0;
                first = false;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "{rest:#x}")?;
        }
        f.write_str(")")
    }
}

/// Why an entry left its table (OpenFlow's flow-removed reasons that the table itself causes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum RemovalReason {
    /// No packet hit the entry for its idle timeout.
    IdleTimeout,
    /// The entry reached its hard timeout.
    HardTimeout,
    /// A delete request removed it.
    Delete,
}

/// What an add request puts into a table: the match, priority and payload of the entry, and
/// its OpenFlow attributes. Build with [`NewFlow::new`] and the `with_*` methods.
#[derive(Clone, Debug)]
pub struct NewFlow<A> {
    /// Which packets the entry applies to.
    pub flow_match: Match,
    /// Higher wins.
    pub priority: u16,
    /// Opaque controller cookie.
    pub cookie: u64,
    /// Remove the entry after this long without a hit; zero means never.
    pub idle_timeout: Duration,
    /// Remove the entry this long after its creation; zero means never.
    pub hard_timeout: Duration,
    /// OpenFlow flags; the table itself acts on [`FlowFlags::CHECK_OVERLAP`].
    pub flags: FlowFlags,
    /// When this add replaces an entry with the identical match and priority, carry that
    /// entry's packet and byte counts over instead of starting from zero (OpenFlow 1.3's add
    /// without `RESET_COUNTS`; OpenFlow 1.0 resets, which is the default). The duration
    /// restarts either way.
    pub keep_counts: bool,
    /// The payload: actions or instructions.
    pub actions: A,
}

impl<A> NewFlow<A> {
    /// A permanent entry with cookie 0 and no flags.
    pub fn new(flow_match: Match, priority: u16, actions: A) -> Self {
        NewFlow {
            flow_match,
            priority,
            cookie: 0,
            idle_timeout: Duration::ZERO,
            hard_timeout: Duration::ZERO,
            flags: FlowFlags::EMPTY,
            keep_counts: false,
            actions,
        }
    }

    /// Sets the cookie.
    #[must_use]
    pub fn with_cookie(mut self, cookie: u64) -> Self {
        self.cookie = cookie;
        self
    }

    /// Sets the idle timeout (zero: never).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the hard timeout (zero: never).
    #[must_use]
    pub fn with_hard_timeout(mut self, timeout: Duration) -> Self {
        self.hard_timeout = timeout;
        self
    }

    /// Sets the flags.
    #[must_use]
    pub fn with_flags(mut self, flags: FlowFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Carries the counts of a replaced identical entry over (see [`NewFlow::keep_counts`]).
    #[must_use]
    pub fn keeping_counts(mut self) -> Self {
        self.keep_counts = true;
        self
    }
}

/// An entry's place in the order lookups honour: higher priority first, then earlier
/// insertion first. Smaller ranks win. Sequence numbers are unique within a table, so two
/// entries never share a rank.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct Rank {
    /// `u16::MAX - priority`, so that the derived order puts high priorities first.
    inv_priority: u16,
    /// The table's insertion sequence number.
    seq: u64,
}

impl Rank {
    /// The rank of an entry of `priority` inserted as number `seq`.
    #[inline]
    pub(crate) fn new(priority: u16, seq: u64) -> Self {
        Rank {
            inv_priority: u16::MAX - priority,
            seq,
        }
    }

    /// The priority part of the rank.
    #[inline]
    pub(crate) fn priority(self) -> u16 {
        u16::MAX - self.inv_priority
    }
}

/// One entry of a flow table: match, priority, attributes, counters and the payload.
///
/// The match and the priority are fixed for the entry's life (they decide where it lives in
/// the table); the payload, cookie, flags and counters can change in place.
#[derive(Clone, Debug)]
pub struct FlowEntry<A> {
    pub(crate) flow_match: Match,
    pub(crate) priority: u16,
    pub(crate) seq: u64,
    pub(crate) cookie: u64,
    pub(crate) idle_timeout: Duration,
    pub(crate) hard_timeout: Duration,
    pub(crate) flags: FlowFlags,
    pub(crate) counters: FlowCounters,
    pub(crate) actions: A,
}

impl<A> FlowEntry<A> {
    /// The entry's match.
    #[inline]
    pub fn flow_match(&self) -> &Match {
        &self.flow_match
    }

    /// The entry's priority.
    #[inline]
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// The insertion sequence number: among overlapping entries of equal priority the one
    /// with the smallest number wins. Unique within its table, increasing with every add.
    #[inline]
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// The controller cookie.
    #[inline]
    pub fn cookie(&self) -> u64 {
        self.cookie
    }

    /// Replaces the cookie.
    #[inline]
    pub fn set_cookie(&mut self, cookie: u64) {
        self.cookie = cookie;
    }

    /// Whether the cookie equals `cookie` on the bits of `mask` (OpenFlow's cookie filter of
    /// modify, delete and statistics requests; a zero mask accepts every entry).
    #[inline]
    pub fn cookie_matches(&self, cookie: u64, mask: u64) -> bool {
        (self.cookie ^ cookie) & mask == 0
    }

    /// The idle timeout; zero means none.
    #[inline]
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The hard timeout; zero means none.
    #[inline]
    pub fn hard_timeout(&self) -> Duration {
        self.hard_timeout
    }

    /// The flags.
    #[inline]
    pub fn flags(&self) -> FlowFlags {
        self.flags
    }

    /// Replaces the flags.
    #[inline]
    pub fn set_flags(&mut self, flags: FlowFlags) {
        self.flags = flags;
    }

    /// The counters.
    #[inline]
    pub fn counters(&self) -> &FlowCounters {
        &self.counters
    }

    /// The counters, to change (say, to clear them for `RESET_COUNTS`).
    #[inline]
    pub fn counters_mut(&mut self) -> &mut FlowCounters {
        &mut self.counters
    }

    /// How long the entry has existed at `now`.
    #[inline]
    pub fn duration(&self, now: Duration) -> Duration {
        self.counters.duration(now)
    }

    /// The payload.
    #[inline]
    pub fn actions(&self) -> &A {
        &self.actions
    }

    /// The payload, to change in place.
    #[inline]
    pub fn actions_mut(&mut self) -> &mut A {
        &mut self.actions
    }

    /// Replaces the payload, returning the old one.
    #[inline]
    pub fn set_actions(&mut self, actions: A) -> A {
        core::mem::replace(&mut self.actions, actions)
    }

    /// Consumes the entry for its payload.
    #[inline]
    pub fn into_actions(self) -> A {
        self.actions
    }

    /// Whether a timeout has run out at `now`, and which; the hard timeout is checked first.
    pub fn expiry(&self, now: Duration) -> Option<RemovalReason> {
        if !self.hard_timeout.is_zero() && self.counters.duration(now) >= self.hard_timeout {
            Some(RemovalReason::HardTimeout)
        } else if !self.idle_timeout.is_zero() && self.counters.idle_for(now) >= self.idle_timeout {
            Some(RemovalReason::IdleTimeout)
        } else {
            None
        }
    }

    /// The entry's rank in lookup order.
    #[inline]
    pub(crate) fn rank(&self) -> Rank {
        Rank::new(self.priority, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(idle: u64, hard: u64) -> FlowEntry<()> {
        FlowEntry {
            flow_match: Match::catchall(),
            priority: 1,
            seq: 0,
            cookie: 0xab00,
            idle_timeout: Duration::from_secs(idle),
            hard_timeout: Duration::from_secs(hard),
            flags: FlowFlags::EMPTY,
            counters: FlowCounters::new(Duration::from_secs(100)),
            actions: (),
        }
    }

    #[test]
    fn rank_orders_priority_then_sequence() {
        assert!(Rank::new(10, 5) < Rank::new(9, 1));
        assert!(Rank::new(10, 1) < Rank::new(10, 2));
        assert!(Rank::new(u16::MAX, u64::MAX) < Rank::new(0, 0));
        assert_eq!(Rank::new(42, 7).priority(), 42);
    }

    #[test]
    fn flags() {
        let f = FlowFlags::SEND_FLOW_REM | FlowFlags::CHECK_OVERLAP;
        assert!(f.contains(FlowFlags::SEND_FLOW_REM));
        assert!(!f.contains(FlowFlags::RESET_COUNTS));
        assert!(f.contains(FlowFlags::EMPTY));
        assert_eq!(f.bits(), 3);
        let mut g = FlowFlags::from_bits(0x100);
        g |= FlowFlags::NO_BYT_COUNTS;
        assert_eq!(format!("{g:?}"), "FlowFlags(NO_BYT_COUNTS | 0x100)");
        assert_eq!(format!("{:?}", FlowFlags::EMPTY), "FlowFlags()");
        assert_eq!(format!("{f:?}"), "FlowFlags(SEND_FLOW_REM | CHECK_OVERLAP)");
    }

    #[test]
    fn expiry() {
        let s = Duration::from_secs;
        assert_eq!(entry(0, 0).expiry(s(1_000_000)), None);
        let e = entry(10, 0);
        assert_eq!(e.expiry(s(109)), None);
        assert_eq!(e.expiry(s(110)), Some(RemovalReason::IdleTimeout));
        let mut e = entry(10, 30);
        e.counters.add_packet(60, s(125));
        assert_eq!(e.expiry(s(129)), None);
        assert_eq!(e.expiry(s(130)), Some(RemovalReason::HardTimeout));
        let e = entry(5, 5);
        assert_eq!(e.expiry(s(105)), Some(RemovalReason::HardTimeout));
    }

    #[test]
    fn cookie_filter() {
        let e = entry(0, 0);
        assert!(e.cookie_matches(0, 0));
        assert!(e.cookie_matches(0xab00, u64::MAX));
        assert!(e.cookie_matches(0xabff, 0xff00));
        assert!(!e.cookie_matches(0xac00, 0xff00));
    }

    #[test]
    fn payload_and_builders() {
        let mut e = entry(0, 0);
        e.set_cookie(5);
        e.set_flags(FlowFlags::SEND_FLOW_REM);
        assert_eq!((e.cookie(), e.flags()), (5, FlowFlags::SEND_FLOW_REM));
        let f = NewFlow::new(Match::catchall(), 3, vec![1u8])
            .with_cookie(9)
            .with_idle_timeout(Duration::from_secs(1))
            .with_hard_timeout(Duration::from_secs(2))
            .with_flags(FlowFlags::CHECK_OVERLAP)
            .keeping_counts();
        assert_eq!(f.cookie, 9);
        assert!(f.keep_counts);
        assert_eq!(f.hard_timeout, Duration::from_secs(2));
    }
}
