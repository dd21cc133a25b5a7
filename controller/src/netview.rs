//! The network view: the one global state apps share (NOX's "network view").
//!
//! It holds what no single switch knows: the links between switches (written by the
//! `topology` app from LLDP), the hosts with their MAC ↔ IPv4 ↔ location bindings
//! (written by the `hosts` app from ARP, DHCP and IP traffic) and the names bound to
//! addresses (from DHCP host names and DNS answers). Switches and their ports live in
//! [`SwitchView`](crate::view::SwitchView)s, which the core keeps.
//!
//! # Written only on change
//!
//! Every writer goes through a method that compares before it writes: seeing a known
//! link or a host at its known place refreshes a timestamp and nothing else. A real
//! change does three things at once, so they can never disagree: the view changes, the
//! change is appended to the feed (a bounded ring of [`Change`]s with sequence numbers,
//! which the JSON API serves as `changes?since=N`), and the matching [`AppEvent`] is
//! queued; the core dispatches queued events after the handler that caused them, like
//! any event an app posts. So `LinkUp`, `HostMove` or `NameBound` handlers see the view
//! already updated, and no app has to remember to post them.
//!
//! The core keeps the view consistent with the switches: when a switch leaves, its links
//! and the hosts attached to it go (with `LinkDown` and `HostLeave`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::event::{AppEvent, Host, Link, Location};
use crate::view::DatapathId;

/// Changes the feed keeps; older ones are dropped (a reader that fell behind is told).
pub const FEED_LEN: usize = 4096;

/// Hosts the view holds at most. Hosts are learned from what anyone sends, so a flood of
/// random source addresses must not grow the view without bound: past the cap, new hosts
/// are refused (and counted) until old ones leave.
pub const MAX_HOSTS: usize = 65_536;

/// Name bindings the view holds at most (names come from DNS answers anyone can send).
pub const MAX_NAMES: usize = 65_536;

/// A MAC address that prints as `02:00:00:00:00:01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// What the view knows about a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    /// When it was first seen.
    pub since: Duration,
    /// When it was last confirmed.
    pub last_seen: Duration,
}

/// What the view knows about a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// Its MAC address.
    pub mac: Mac,
    /// Its IPv4 address, once seen.
    pub ipv4: Option<Ipv4Addr>,
    /// Where it is attached.
    pub location: Location,
    /// When it was first seen.
    pub since: Duration,
    /// When it was last seen.
    pub last_seen: Duration,
}

impl HostInfo {
    /// The host as events carry it.
    pub fn host(&self) -> Host {
        Host {
            mac: self.mac.0,
            ipv4: self.ipv4,
            location: self.location,
        }
    }
}

/// What [`NetworkView::host_seen`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSeen {
    /// A new host.
    Joined,
    /// A known host at a new place (it was at `from`).
    Moved {
        /// Where it was.
        from: Location,
    },
    /// Nothing new.
    Unchanged,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its sequence number (from 1, one per change).
    pub seq: u64,
    /// When it happened.
    pub at: Duration,
    /// What happened, as the event posted for it.
    pub event: AppEvent,
}

/// The network view. See the module documentation.
#[derive(Debug, Default)]
pub struct NetworkView {
    links: BTreeMap<Link, LinkInfo>,
    /// How many links start or end at each location (the link ports), for an O(1)
    /// [`NetworkView::is_link_port`] on every packet-in.
    link_ends: HashMap<Location, u32>,
    link_seq: u64,
    hosts: HashMap<Mac, HostInfo>,
    by_ipv4: HashMap<Ipv4Addr, Mac>,
    names: BTreeMap<String, Ipv4Addr>,
    names_by_ipv4: HashMap<Ipv4Addr, Vec<String>>,
    feed: VecDeque<Change>,
    seq: u64,
    refused: u64,
    pending: Vec<AppEvent>,
}

impl NetworkView {
    /// An empty view.
    pub fn new() -> NetworkView {
        NetworkView::default()
    }

    fn record(&mut self, now: Duration, event: AppEvent) {
        self.seq += 1;
        if self.feed.len() == FEED_LEN {
            self.feed.pop_front();
        }
        self.feed.push_back(Change {
            seq: self.seq,
            at: now,
            event: event.clone(),
        });
        self.pending.push(event);
    }

    /// The events of the changes made since the last call (the core dispatches them).
    pub(crate) fn take_pending(&mut self, into: &mut Vec<AppEvent>) {
        into.append(&mut self.pending);
    }

    // ----- links -----------------------------------------------------------------------

    /// A link was seen (an LLDP frame sent from `link.src` arrived at `link.dst`): new
    /// links are added (and `LinkUp` posted), known ones refreshed. Returns true if new.
    pub fn link_seen(&mut self, link: Link, now: Duration) -> bool {
        if let Some(info) = self.links.get_mut(&link) {
            info.last_seen = now;
            return false;
        }
        self.links.insert(
            link,
            LinkInfo {
                since: now,
                last_seen: now,
            },
        );
        self.link_seq += 1;
        for end in [link.src, link.dst] {
            *self.link_ends.entry(end).or_insert(0) += 1;
        }
        // A port that carries a link has no hosts: what was learned there was a host
        // seen through the link before the link was known.
        self.forget_hosts_at(link.dst, now);
        self.forget_hosts_at(link.src, now);
        self.record(now, AppEvent::LinkUp(link));
        true
    }

    /// A link is gone (timed out, or one of its ports went down). Returns true if it was
    /// known.
    pub fn link_gone(&mut self, link: Link, now: Duration) -> bool {
        if self.links.remove(&link).is_none() {
            return false;
        }
        self.link_seq += 1;
        for end in [link.src, link.dst] {
            if let Some(n) = self.link_ends.get_mut(&end) {
                *n -= 1;
                if *n == 0 {
                    self.link_ends.remove(&end);
                }
            }
        }
        self.record(now, AppEvent::LinkDown(link));
        true
    }

    /// Removes every link with an end at `at` (a port went down or away). Returns how
    /// many went.
    pub fn port_gone(&mut self, at: Location, now: Duration) -> usize {
        let gone: Vec<Link> = self
            .links
            .keys()
            .filter(|l| l.src == at || l.dst == at)
            .copied()
            .collect();
        for l in &gone {
            self.link_gone(*l, now);
        }
        self.forget_hosts_at(at, now);
        gone.len()
    }

    /// Every known link, in order, with what is known about it.
    pub fn links(&self) -> impl Iterator<Item = (&Link, &LinkInfo)> + '_ {
        self.links.iter()
    }

    /// The number of known links (each direction counts).
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Whether `link` is known.
    pub fn has_link(&self, link: &Link) -> bool {
        self.links.contains_key(link)
    }

    /// Whether a link starts or ends at `at` (a switch-to-switch port, not an edge).
    pub fn is_link_port(&self, at: Location) -> bool {
        self.link_ends.contains_key(&at)
    }

    /// A number that changes whenever a link comes or goes, and only then (apps that
    /// cache a graph of the links compare it; [`NetworkView::seq`] also moves with hosts).
    pub fn link_seq(&self) -> u64 {
        self.link_seq
    }

    /// The links leaving `dpid`.
    pub fn links_from(&self, dpid: DatapathId) -> impl Iterator<Item = &Link> + '_ {
        let lo = Link {
            src: Location {
                dpid,
                port: flowlab_openflow::model::PortNo(0),
            },
            dst: Location {
                dpid: DatapathId(0),
                port: flowlab_openflow::model::PortNo(0),
            },
        };
        self.links
            .range(lo..)
            .map(|(l, _)| l)
            .take_while(move |l| l.src.dpid == dpid)
    }

    // ----- hosts -----------------------------------------------------------------------

    /// A host was seen at `at`. New hosts join, known hosts elsewhere move; either is a
    /// change. Seeing it where it was only refreshes `last_seen`.
    pub fn host_seen(&mut self, mac: Mac, at: Location, now: Duration) -> HostSeen {
        if let Some(h) = self.hosts.get_mut(&mac) {
            h.last_seen = now;
            if h.location == at {
                return HostSeen::Unchanged;
            }
            let from = h.location;
            h.location = at;
            let host = h.host();
            self.record(now, AppEvent::HostMove { host, from });
            return HostSeen::Moved { from };
        }
        if self.hosts.len() >= MAX_HOSTS {
            self.refused += 1;
            return HostSeen::Unchanged;
        }
        let info = HostInfo {
            mac,
            ipv4: None,
            location: at,
            since: now,
            last_seen: now,
        };
        let host = info.host();
        self.hosts.insert(mac, info);
        self.record(now, AppEvent::HostJoin(host));
        HostSeen::Joined
    }

    /// Binds `ipv4` to the known host `mac` (an address moves off any other host that
    /// had it). Returns true if that changed anything; false also for an unknown host.
    pub fn bind_ipv4(&mut self, mac: Mac, ipv4: Ipv4Addr, now: Duration) -> bool {
        let Some(h) = self.hosts.get(&mac) else {
            return false;
        };
        if h.ipv4 == Some(ipv4) {
            return false;
        }
        if let Some(old) = self.by_ipv4.get(&ipv4).copied() {
            if let Some(o) = self.hosts.get_mut(&old) {
                o.ipv4 = None;
            }
        }
        let Some(h) = self.hosts.get_mut(&mac) else {
            return false;
        };
        if let Some(prev) = h.ipv4.replace(ipv4) {
            self.by_ipv4.remove(&prev);
        }
        self.by_ipv4.insert(ipv4, mac);
        let host = h.host();
        self.record(now, AppEvent::HostAddress(host));
        true
    }

    /// Removes a host (it timed out). Returns true if it was known.
    pub fn host_gone(&mut self, mac: Mac, now: Duration) -> bool {
        let Some(h) = self.hosts.remove(&mac) else {
            return false;
        };
        if let Some(ip) = h.ipv4 {
            if self.by_ipv4.get(&ip) == Some(&mac) {
                self.by_ipv4.remove(&ip);
            }
        }
        self.record(now, AppEvent::HostLeave(h.host()));
        true
    }

    fn forget_hosts_at(&mut self, at: Location, now: Duration) {
        let gone: Vec<Mac> = self
            .hosts
            .values()
            .filter(|h| h.location == at)
            .map(|h| h.mac)
            .collect();
        for m in gone {
            self.host_gone(m, now);
        }
    }

    /// A host by MAC.
    pub fn host(&self, mac: Mac) -> Option<&HostInfo> {
        self.hosts.get(&mac)
    }

    /// The host holding `ipv4`.
    pub fn host_by_ipv4(&self, ipv4: Ipv4Addr) -> Option<&HostInfo> {
        self.hosts.get(self.by_ipv4.get(&ipv4)?)
    }

    /// The host a name is bound to (through its address).
    pub fn host_by_name(&self, name: &str) -> Option<&HostInfo> {
        self.host_by_ipv4(self.resolve(name)?)
    }

    /// Every host, in MAC order.
    pub fn hosts(&self) -> Vec<&HostInfo> {
        let mut v: Vec<&HostInfo> = self.hosts.values().collect();
        v.sort_by_key(|h| h.mac);
        v
    }

    /// The number of known hosts.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    // ----- names -----------------------------------------------------------------------

    /// Binds `name` (case-insensitive, stored lower-case) to `ipv4`, as a DNS answer or
    /// a DHCP host name does. Returns true if that changed the binding.
    pub fn bind_name(&mut self, name: &str, ipv4: Ipv4Addr, now: Duration) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || self.names.get(&name) == Some(&ipv4) {
            return false;
        }
        if !self.names.contains_key(&name) && self.names.len() >= MAX_NAMES {
            self.refused += 1;
            return false;
        }
        if let Some(old) = self.names.insert(name.clone(), ipv4) {
            if let Some(v) = self.names_by_ipv4.get_mut(&old) {
                v.retain(|n| *n != name);
                if v.is_empty() {
                    self.names_by_ipv4.remove(&old);
                }
            }
        }
        let list = self.names_by_ipv4.entry(ipv4).or_default();
        let at = list.binary_search(&name).unwrap_or_else(|i| i);
        list.insert(at, name.clone());
        self.record(now, AppEvent::NameBound { name, ipv4 });
        true
    }

    /// The address a name is bound to.
    pub fn resolve(&self, name: &str) -> Option<Ipv4Addr> {
        let name = name.trim_end_matches('.');
        // Stored names are lower-case: look up as given, allocating only for a name
        // with upper-case letters.
        if !name.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.names.get(name).copied();
        }
        self.names.get(&name.to_ascii_lowercase()).copied()
    }

    /// The names bound to `ipv4`, in order.
    pub fn names_of(&self, ipv4: Ipv4Addr) -> impl Iterator<Item = &str> + '_ {
        self.names_by_ipv4
            .get(&ipv4)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The number of name bindings.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// New hosts and names refused because the view was full ([`MAX_HOSTS`],
    /// [`MAX_NAMES`]).
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Every name binding, in name order.
    pub fn names(&self) -> impl Iterator<Item = (&str, Ipv4Addr)> + '_ {
        self.names.iter().map(|(n, &a)| (n.as_str(), a))
    }

    // ----- switches --------------------------------------------------------------------

    /// A switch left: its links (either end) and its hosts go.
    pub(crate) fn switch_gone(&mut self, dpid: DatapathId, now: Duration) {
        let gone: Vec<Link> = self
            .links
            .keys()
            .filter(|l| l.src.dpid == dpid || l.dst.dpid == dpid)
            .copied()
            .collect();
        for l in gone {
            self.link_gone(l, now);
        }
        let hosts: Vec<Mac> = self
            .hosts
            .values()
            .filter(|h| h.location.dpid == dpid)
            .map(|h| h.mac)
            .collect();
        for m in hosts {
            self.host_gone(m, now);
        }
    }

    // ----- the feed --------------------------------------------------------------------

    /// The sequence number of the latest change (0: none yet).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The changes after `since`, oldest first, and whether some were already dropped
    /// from the feed (the reader should re-read the whole view).
    pub fn changes_since(&self, since: u64) -> (Vec<&Change>, bool) {
        let oldest = self.feed.front().map_or(self.seq + 1, |c| c.seq);
        let lost = since.saturating_add(1) < oldest && since < self.seq;
        let v = self.feed.iter().filter(|c| c.seq > since).collect();
        (v, lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_openflow::model::PortNo;

    fn at(dpid: u64, port: u32) -> Location {
        Location {
            dpid: DatapathId(dpid),
            port: PortNo(port),
        }
    }

    fn link(a: (u64, u32), b: (u64, u32)) -> Link {
        Link {
            src: at(a.0, a.1),
            dst: at(b.0, b.1),
        }
    }

    fn take(v: &mut NetworkView) -> Vec<AppEvent> {
        let mut out = Vec::new();
        v.take_pending(&mut out);
        out
    }

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn links_are_written_only_on_change() {
        let mut v = NetworkView::new();
        let l = link((1, 2), (2, 1));
        assert!(v.link_seen(l, T));
        assert!(!v.link_seen(l, 2 * T));
        assert_eq!(take(&mut v), vec![AppEvent::LinkUp(l)]);
        assert_eq!(v.links().next().unwrap().1.last_seen, 2 * T);
        assert_eq!(v.seq(), 1);
        assert!(v.is_link_port(at(1, 2)) && v.is_link_port(at(2, 1)));
        assert!(!v.is_link_port(at(1, 1)));
        assert!(v.link_gone(l, 3 * T));
        assert!(!v.link_gone(l, 3 * T));
        assert_eq!(take(&mut v), vec![AppEvent::LinkDown(l)]);
        assert_eq!(v.seq(), 2);
    }

    #[test]
    fn links_from_a_switch_are_its_own() {
        let mut v = NetworkView::new();
        for l in [
            link((1, 1), (2, 1)),
            link((2, 1), (1, 1)),
            link((2, 2), (3, 1)),
            link((3, 1), (2, 2)),
            link((1, 9), (3, 2)),
        ] {
            v.link_seen(l, T);
        }
        let from2: Vec<Link> = v.links_from(DatapathId(2)).copied().collect();
        assert_eq!(from2, vec![link((2, 1), (1, 1)), link((2, 2), (3, 1))]);
        assert_eq!(v.links_from(DatapathId(1)).count(), 2);
        assert_eq!(v.links_from(DatapathId(4)).count(), 0);
        assert_eq!(v.port_gone(at(2, 2), T), 2);
        assert_eq!(v.link_count(), 3);
    }

    #[test]
    fn hosts_join_move_bind_and_leave() {
        let mut v = NetworkView::new();
        let m = Mac([2, 0, 0, 0, 0, 1]);
        assert_eq!(v.host_seen(m, at(1, 1), T), HostSeen::Joined);
        assert_eq!(v.host_seen(m, at(1, 1), 2 * T), HostSeen::Unchanged);
        assert_eq!(v.host(m).unwrap().last_seen, 2 * T);
        assert_eq!(
            v.host_seen(m, at(2, 3), 3 * T),
            HostSeen::Moved { from: at(1, 1) }
        );
        let ip = Ipv4Addr::new(198, 51, 100, 1);
        assert!(v.bind_ipv4(m, ip, 3 * T));
        assert!(!v.bind_ipv4(m, ip, 3 * T));
        assert!(!v.bind_ipv4(Mac([9; 6]), ip, 3 * T), "unknown host");
        assert_eq!(v.host_by_ipv4(ip).unwrap().mac, m);
        assert!(v.bind_name("H1.lab.", ip, 3 * T));
        assert!(!v.bind_name("h1.lab", ip, 3 * T));
        assert_eq!(v.host_by_name("h1.LAB").unwrap().mac, m);
        assert_eq!(v.names_of(ip).collect::<Vec<_>>(), ["h1.lab"]);
        // The address moves to another host.
        let m2 = Mac([2, 0, 0, 0, 0, 2]);
        v.host_seen(m2, at(1, 2), 4 * T);
        assert!(v.bind_ipv4(m2, ip, 4 * T));
        assert_eq!(v.host(m).unwrap().ipv4, None);
        assert_eq!(v.host_by_ipv4(ip).unwrap().mac, m2);
        assert!(v.host_gone(m2, 5 * T));
        assert!(v.host_by_ipv4(ip).is_none());
        let kinds: Vec<_> = take(&mut v).iter().map(AppEvent::kind).collect();
        use crate::event::EventKind::*;
        assert_eq!(
            kinds,
            [
                HostJoin,
                HostMove,
                HostAddress,
                NameBound,
                HostJoin,
                HostAddress,
                HostLeave
            ]
        );
    }

    #[test]
    fn a_link_on_a_port_evicts_hosts_learned_there() {
        let mut v = NetworkView::new();
        let m = Mac([2, 0, 0, 0, 0, 1]);
        v.host_seen(m, at(2, 1), T);
        v.link_seen(link((1, 1), (2, 1)), T);
        assert!(v.host(m).is_none());
    }

    #[test]
    fn a_leaving_switch_takes_its_links_and_hosts() {
        let mut v = NetworkView::new();
        v.link_seen(link((1, 1), (2, 1)), T);
        v.link_seen(link((2, 1), (1, 1)), T);
        v.link_seen(link((2, 2), (3, 1)), T);
        v.host_seen(Mac([2; 6]), at(1, 5), T);
        v.host_seen(Mac([3; 6]), at(3, 5), T);
        v.switch_gone(DatapathId(1), 2 * T);
        assert_eq!(v.link_count(), 1);
        assert_eq!(v.host_count(), 1);
    }

    #[test]
    fn the_feed_is_bounded_and_says_when_a_reader_fell_behind() {
        let mut v = NetworkView::new();
        for i in 0..(FEED_LEN as u64 + 10) {
            v.link_seen(link((1, i as u32), (2, 1)), T);
        }
        let (all, lost) = v.changes_since(0);
        assert!(lost);
        assert_eq!(all.len(), FEED_LEN);
        assert_eq!(all[0].seq, 11);
        let (recent, lost) = v.changes_since(v.seq() - 2);
        assert!(!lost);
        assert_eq!(recent.len(), 2);
        let (none, lost) = v.changes_since(v.seq());
        assert!(none.is_empty() && !lost);
    }

    #[test]
    fn macs_print_with_colons() {
        assert_eq!(Mac([2, 0, 0, 0, 0xab, 1]).to_string(), "02:00:00:00:ab:01");
    }

    #[test]
    fn link_ports_and_the_link_sequence_follow_the_links() {
        let mut v = NetworkView::new();
        let (a, b) = (link((1, 2), (2, 1)), link((2, 1), (1, 2)));
        v.link_seen(a, T);
        v.link_seen(b, T);
        let s = v.link_seq();
        v.host_seen(Mac([2; 6]), at(3, 1), T);
        assert_eq!(v.link_seq(), s, "hosts do not move the link sequence");
        assert!(v.is_link_port(at(1, 2)) && v.is_link_port(at(2, 1)));
        v.link_gone(a, T);
        assert!(v.is_link_port(at(1, 2)), "still the end of b");
        v.link_gone(b, T);
        assert!(!v.is_link_port(at(1, 2)) && !v.is_link_port(at(2, 1)));
        assert_eq!(v.link_seq(), s + 2);
    }

    #[test]
    fn names_are_indexed_by_address_and_rebinding_moves_them() {
        let mut v = NetworkView::new();
        let (a, b) = (
            Ipv4Addr::new(198, 51, 100, 1),
            Ipv4Addr::new(198, 51, 100, 2),
        );
        v.bind_name("web", a, T);
        v.bind_name("app", a, T);
        assert_eq!(v.names_of(a).collect::<Vec<_>>(), ["app", "web"]);
        v.bind_name("web", b, T);
        assert_eq!(v.names_of(a).collect::<Vec<_>>(), ["app"]);
        assert_eq!(v.names_of(b).collect::<Vec<_>>(), ["web"]);
        assert_eq!(v.resolve("WEB."), Some(b));
        assert_eq!(v.name_count(), 2);
    }

    #[test]
    fn the_view_is_bounded() {
        let mut v = NetworkView::new();
        for i in 0..(MAX_HOSTS as u32 + 5) {
            let b = i.to_be_bytes();
            v.host_seen(Mac([2, 0, b[0], b[1], b[2], b[3]]), at(1, 1), T);
        }
        assert_eq!(v.host_count(), MAX_HOSTS);
        assert_eq!(v.refused(), 5);
        let mut v = NetworkView::new();
        for i in 0..(MAX_NAMES as u32 + 3) {
            v.bind_name(&format!("n{i}"), Ipv4Addr::from(i), T);
        }
        assert_eq!(v.name_count(), MAX_NAMES);
        assert_eq!(v.refused(), 3);
        // A bound name can still move.
        assert!(v.bind_name("n1", Ipv4Addr::new(203, 0, 113, 9), T));
    }

    #[test]
    fn a_huge_since_is_no_overflow() {
        let mut v = NetworkView::new();
        v.link_seen(link((1, 1), (2, 1)), T);
        let (c, lost) = v.changes_since(u64::MAX);
        assert!(c.is_empty() && !lost);
    }
}
