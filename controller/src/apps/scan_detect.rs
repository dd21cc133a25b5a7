//! `scan_detect`: NOX's scan detection: a host that contacts too many distinct
//! destinations in a short time is reported, and optionally blocked.
//!
//! # What counts
//!
//! Only packet-ins are seen, so only what reaches the controller can count: for each
//! IPv4 packet-in, the destination counts for its source address when the packet is a
//! TCP SYN (without ACK: a connection attempt) or when the destination address is not a
//! known host of the network view (nobody answers there, or nobody has been seen to).
//! An ARP request counts the same way, its target address for its sender address, when
//! no known host holds the target: a sweep of the local subnet is mostly ARP requests
//! that nobody answers, and no IPv4 packet ever leaves the scanner. (ARP probes, with
//! sender 0.0.0.0, and gratuitous ARP, sender and target the same, do not count.)
//! Packet-ins arriving on a link port are copies of a packet already seen at its edge
//! and are skipped, as are sources that are not unicast.
//!
//! Per source address, the distinct destinations are counted in fixed windows of
//! `window_s` seconds, each opened by the first destination counted after the previous
//! one ended. When the count goes above `threshold` the app posts
//! [`AppEvent::ScanSuspected`] — once per window, however many more destinations
//! follow — and, with `block = true`, installs on every switch a flow dropping the
//! source's IPv4 traffic for `block_s` seconds (a hard timeout, so the block lifts by
//! itself; a switch that joins during a block gets the flow too). The event carries the
//! source's MAC (from the packet), address and count.
//!
//! Scans of unknown destinations are always visible: routing floods unknown destinations
//! and installs nothing for them, so every probe is a packet-in. Connection attempts to
//! known hosts are visible when each one reaches the controller, which with `routing`'s
//! default pair paths is only the first between two hosts; with `granularity = "l4"`
//! (or under an ACL whose checks send each microflow to the controller) every SYN is.
//!
//! The source address is read from the packet, and nothing stops a host from writing
//! another's there: a forged scan gets its supposed source reported (and, with
//! `block = true`, blocked), and a scanner can spread its probes over forged sources.
//! Reports and blocks are a lab instrument, not an authority.
//!
//! `window_s` must be 1 to [`MAX_WINDOW_S`] and `block_s` at least 1 (the configuration
//! refuses other values); times are added saturating, so no value overflows the clock.
//!
//! Memory is bounded: at most [`MAX_SOURCES`] sources are tracked (a source beyond is
//! not counted until expired windows are swept on the next tick), and a window keeps at
//! most `threshold + 1` destinations, all a verdict needs.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use flowlab_datapath::key::FlowKey;
use flowlab_openflow::model::{Match, OxmField};
use serde::{Deserialize, Deserializer};

use crate::app::{App, Ctx, Disposition, Flow, Registrar};
use crate::event::{AppEvent, Event, EventKind, Location, PacketInEvent};
use crate::view::DatapathId;

/// The top 16 bits of the cookie of block flows ("SC").
pub const COOKIE_TAG: u64 = 0x5343;

/// Priority of block flows: above routing's paths and the ACL's band.
pub const BLOCK_PRIORITY: u16 = 0xf000;

/// Sources tracked at most.
pub const MAX_SOURCES: usize = 1 << 16;

/// The longest window, in seconds (a day).
pub const MAX_WINDOW_S: u64 = 86_400;

const ETH_TYPE_IPV4: u16 = 0x0800;
const ETH_TYPE_ARP: u16 = 0x0806;
const ARP_REQUEST: u16 = 1;
const TCP_SYN: u16 = 0x02;
const TCP_ACK: u16 = 0x10;

/// `[scan_detect]` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanDetectConfig {
    /// Handler priority for packet-ins (it always continues).
    pub priority: i32,
    /// The window, in seconds (1 to [`MAX_WINDOW_S`]).
    #[serde(deserialize_with = "de_window_s")]
    pub window_s: u64,
    /// Distinct destinations allowed per window; one more is a scan.
    pub threshold: u32,
    /// Install a drop flow for a scanning source.
    pub block: bool,
    /// How long a block lasts, in seconds (at least 1).
    #[serde(deserialize_with = "de_block_s")]
    pub block_s: u16,
}

fn de_window_s<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = u64::deserialize(d)?;
    if (1..=MAX_WINDOW_S).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "window_s {v} is out of range (1 to {MAX_WINDOW_S})"
        )))
    }
}

fn de_block_s<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = u16::deserialize(d)?;
    if v >= 1 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(
            "block_s 0 is out of range (1 to 65535)",
        ))
    }
}

impl Default for ScanDetectConfig {
    fn default() -> Self {
        ScanDetectConfig {
            priority: 800,
            window_s: 10,
            threshold: 20,
            block: false,
            block_s: 60,
        }
    }
}

/// Counters of the scan detector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Packet-ins whose destination counted.
    pub counted: u64,
    /// Scans reported.
    pub suspected: u64,
    /// Blocks installed (per source, not per switch).
    pub blocked: u64,
}

/// A handle on the counters that stays valid after the app is boxed into a controller.
pub type SharedScanStats = Arc<Mutex<ScanStats>>;

/// One source's current window.
#[derive(Debug)]
struct Window {
    opened: Duration,
    destinations: HashSet<Ipv4Addr>,
    reported: bool,
}

/// The scan detector. See the module documentation.
#[derive(Debug)]
pub struct ScanDetect {
    config: ScanDetectConfig,
    windows: HashMap<Ipv4Addr, Window>,
    /// Sources blocked, until when.
    blocked: HashMap<Ipv4Addr, Duration>,
    stats: SharedScanStats,
}

impl ScanDetect {
    /// The app with `config`.
    pub fn new(config: ScanDetectConfig) -> ScanDetect {
        ScanDetect {
            config,
            windows: HashMap::new(),
            blocked: HashMap::new(),
            stats: SharedScanStats::default(),
        }
    }

    /// A handle on the counters.
    pub fn shared(&self) -> SharedScanStats {
        self.stats.clone()
    }

    fn stats(&self) -> MutexGuard<'_, ScanStats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.config.window_s)
    }

    fn packet_in(&mut self, pi: &PacketInEvent<'_>, ctx: &mut Ctx<'_>) {
        let here = Location {
            dpid: pi.dpid,
            port: pi.in_port(),
        };
        let (k, _) = FlowKey::from_frame(pi.data(), 0);
        if k.eth_src[0] & 1 != 0 {
            return;
        }
        let (src, dst) = match k.eth_type {
            ETH_TYPE_IPV4 if pi.data().len() >= 34 => (k.ipv4_src, k.ipv4_dst),
            ETH_TYPE_ARP if pi.data().len() >= 42 && k.arp_op == ARP_REQUEST => {
                (k.arp_spa, k.arp_tpa)
            }
            _ => return,
        };
        let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
        if src.is_unspecified() || src.is_broadcast() || src.is_multicast() || src == dst {
            return;
        }
        let syn = k.eth_type == ETH_TYPE_IPV4
            && k.ip_proto == 6
            && k.ip_frag & 2 == 0
            && k.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN;
        let unknown = ctx.network().host_by_ipv4(dst).is_none();
        if !(syn || unknown) || ctx.network().is_link_port(here) {
            return;
        }
        let now = ctx.now();
        let window = self.window();
        if !self.windows.contains_key(&src) && self.windows.len() >= MAX_SOURCES {
            return;
        }
        let w = self.windows.entry(src).or_insert_with(|| Window {
            opened: now,
            destinations: HashSet::new(),
            reported: false,
        });
        if now >= w.opened.saturating_add(window) {
            *w = Window {
                opened: now,
                destinations: HashSet::new(),
                reported: false,
            };
        }
        let cap = self.config.threshold as usize + 1;
        if w.destinations.len() < cap {
            w.destinations.insert(dst);
        }
        let count = w.destinations.len() as u32;
        let report = count > self.config.threshold && !w.reported;
        if report {
            w.reported = true;
        }
        self.stats().counted += 1;
        if !report {
            return;
        }
        ctx.post(AppEvent::ScanSuspected {
            mac: k.eth_src,
            ipv4: src,
            destinations: count,
        });
        self.stats().suspected += 1;
        if self.config.block && !self.blocked.contains_key(&src) {
            let secs = self.config.block_s.max(1);
            self.blocked.insert(
                src,
                now.saturating_add(Duration::from_secs(u64::from(secs))),
            );
            let mut dpids: Vec<DatapathId> = ctx.switches().map(|s| s.dpid).collect();
            dpids.sort_unstable();
            for dpid in dpids {
                let _ = ctx.install(dpid, self.block_flow(src, secs));
            }
            self.stats().blocked += 1;
        }
    }

    fn block_flow(&self, src: Ipv4Addr, secs: u16) -> Flow {
        let m = Match::new()
            .with(OxmField::eth_type(ETH_TYPE_IPV4))
            .with(OxmField::ipv4_src(src));
        Flow::new(m)
            .priority(BLOCK_PRIORITY)
            .hard_timeout(secs.max(1))
            .cookie(COOKIE_TAG << 48)
    }
}

impl App for ScanDetect {
    fn name(&self) -> &'static str {
        "scan_detect"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::PacketIn, self.config.priority)
            .on(EventKind::SwitchJoin, 0);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        match event {
            Event::PacketIn(pi) => self.packet_in(pi, ctx),
            Event::SwitchJoin(j) => {
                // Blocks still running reach a switch that joins, for what is left.
                let now = ctx.now();
                let mut left: Vec<(Ipv4Addr, u16)> = self
                    .blocked
                    .iter()
                    .filter(|(_, &until)| until > now)
                    .map(|(&a, &until)| {
                        let secs = (until - now).as_secs().clamp(1, u64::from(u16::MAX));
                        (a, secs as u16)
                    })
                    .collect();
                left.sort_unstable();
                for (a, secs) in left {
                    let _ = ctx.install(j.dpid, self.block_flow(a, secs));
                }
            }
            _ => {}
        }
        Disposition::Continue
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let window = self.window();
        self.windows
            .retain(|_, w| now < w.opened.saturating_add(window));
        self.blocked.retain(|_, until| now < *until);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::apps::routing::testutil::*;
    use crate::apps::routing::{Routing, RoutingConfig};
    use crate::harness::Harness;

    /// Records the scans posted.
    struct Listener(Arc<Mutex<Vec<AppEvent>>>);

    impl App for Listener {
        fn name(&self) -> &'static str {
            "listener"
        }
        fn register(&self, r: &mut Registrar) {
            r.on(EventKind::ScanSuspected, 0);
        }
        fn handle(&mut self, event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
            if let Event::App(e) = event {
                self.0.lock().unwrap().push((*e).clone());
            }
            Disposition::Continue
        }
    }

    struct Rig {
        h: Harness,
        scans: Arc<Mutex<Vec<AppEvent>>>,
        stats: SharedScanStats,
        sw: Vec<usize>,
    }

    /// s1 - s2, h1 at s1:1 and h2 at s2:1 (known); scan_detect, routing, a listener.
    fn rig(config: ScanDetectConfig) -> Rig {
        let plan = SharedPlan::default();
        let scan = ScanDetect::new(config);
        let stats = scan.shared();
        let scans = Arc::new(Mutex::new(Vec::new()));
        let mut h = harness(
            &plan,
            vec![
                Box::new(scan),
                Box::new(Routing::new(RoutingConfig::default())),
                Box::new(Listener(scans.clone())),
            ],
        );
        let sw = switches(&mut h, 2);
        h.wire((sw[0], 2), (sw[1], 3));
        {
            let mut p = plan.lock().unwrap();
            p.cable(at(1, 2), at(2, 3));
            p.host(1, at(1, 1), None);
            p.host(2, at(2, 1), None);
        }
        settle(&mut h, 4);
        Rig {
            h,
            scans,
            stats,
            sw,
        }
    }

    fn probe(n: u8) -> Vec<u8> {
        // h1 pings an address nobody holds, in 203.0.113.0/24.
        ping(
            [2, 0, 0, 0, 0, 0xee],
            mac(1),
            ip(1),
            Ipv4Addr::new(203, 0, 113, n),
            u16::from(n),
        )
    }

    #[test]
    fn a_scan_above_the_threshold_is_reported_once() {
        let config = ScanDetectConfig {
            threshold: 5,
            ..ScanDetectConfig::default()
        };
        let mut r = rig(config);
        for n in 1..=5 {
            r.h.frame(r.sw[0], 1, &probe(n));
        }
        // The same destinations again do not count twice.
        for n in 1..=5 {
            r.h.frame(r.sw[0], 1, &probe(n));
        }
        assert!(r.scans.lock().unwrap().is_empty(), "5 is not above 5");
        for n in 6..=12 {
            r.h.frame(r.sw[0], 1, &probe(n));
        }
        assert_eq!(
            *r.scans.lock().unwrap(),
            [AppEvent::ScanSuspected {
                mac: mac(1),
                ipv4: ip(1),
                destinations: 6,
            }]
        );
        assert_eq!(r.stats.lock().unwrap().blocked, 0);
        // The probes were still flooded: scan_detect only watches.
        assert!(!r.h.take_delivered(r.sw[1]).is_empty());
        // A new window reports again.
        settle(&mut r.h, 11);
        for n in 20..=26 {
            r.h.frame(r.sw[0], 1, &probe(n));
        }
        assert_eq!(r.scans.lock().unwrap().len(), 2);
    }

    #[test]
    fn below_the_threshold_or_spread_over_windows_nothing_is_reported() {
        let config = ScanDetectConfig {
            threshold: 5,
            window_s: 10,
            ..ScanDetectConfig::default()
        };
        let mut r = rig(config);
        // Traffic to a known host is no scan, however much.
        for seq in 0..50 {
            r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), seq));
        }
        // Five unknown destinations per window, for three windows.
        for round in 0..3u8 {
            for n in 1..=5 {
                r.h.frame(r.sw[0], 1, &probe(round * 5 + n));
            }
            settle(&mut r.h, 11);
        }
        assert!(r.scans.lock().unwrap().is_empty());
        assert_eq!(r.stats.lock().unwrap().counted, 15);
    }

    #[test]
    fn syns_to_known_hosts_count_and_a_block_drops_the_source() {
        let config = ScanDetectConfig {
            threshold: 3,
            block: true,
            block_s: 30,
            ..ScanDetectConfig::default()
        };
        let mut r = rig(config);
        // SYNs to four known addresses... only h2 is known; use four ports of h2 and
        // three unknown addresses: distinct destinations are what count.
        r.h.frame(
            r.sw[0],
            1,
            &tcp(mac(2), mac(1), ip(1), ip(2), (1000, 22), 0x02),
        );
        r.h.frame(
            r.sw[0],
            1,
            &tcp(mac(2), mac(1), ip(1), ip(2), (1001, 23), 0x02),
        );
        assert_eq!(
            r.stats.lock().unwrap().counted,
            1,
            "the second SYN rides the pair path"
        );
        for n in 1..=3 {
            r.h.frame(r.sw[0], 1, &probe(n));
        }
        assert_eq!(r.scans.lock().unwrap().len(), 1);
        assert_eq!(r.stats.lock().unwrap().blocked, 1);
        // h1's IPv4 traffic is now dropped in the switches, even along its path.
        r.h.take_delivered(r.sw[1]);
        r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), 1));
        assert!(r.h.take_delivered(r.sw[1]).is_empty());
        // ARP still goes.
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(2)));
        assert!(!r.h.take_delivered(r.sw[1]).is_empty());
        // The block lifts by itself.
        settle(&mut r.h, 31);
        r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), 2));
        assert_eq!(ports(&r.h.take_delivered(r.sw[1])), [1]);
    }

    #[test]
    fn options_parse_with_defaults() {
        let c: ScanDetectConfig = toml::from_str("threshold = 3\nblock = true").unwrap();
        assert_eq!((c.threshold, c.block, c.window_s), (3, true, 10));
        assert!(toml::from_str::<ScanDetectConfig>("window = 3").is_err());
    }

    #[test]
    fn huge_or_empty_windows_are_refused_and_never_overflow() {
        for bad in [
            "window_s = 18446744073709551615",
            "window_s = 86401",
            "window_s = 0",
            "block_s = 0",
        ] {
            let e = toml::from_str::<ScanDetectConfig>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("out of range"), "{bad}: {e}");
        }
        assert!(toml::from_str::<ScanDetectConfig>("window_s = 86400\nblock_s = 1").is_ok());
        // Built in code, a huge window cannot overflow the clock.
        let config = ScanDetectConfig {
            window_s: u64::MAX,
            threshold: 2,
            block: true,
            block_s: u16::MAX,
            ..ScanDetectConfig::default()
        };
        let mut r = rig(config);
        for n in 1..=3 {
            r.h.frame(r.sw[0], 1, &probe(n));
        }
        r.h.advance(Duration::from_secs(1));
        assert_eq!(r.scans.lock().unwrap().len(), 1);
        assert_eq!(r.stats.lock().unwrap().blocked, 1);
    }

    #[test]
    fn an_arp_sweep_of_the_subnet_counts() {
        let config = ScanDetectConfig {
            threshold: 4,
            ..ScanDetectConfig::default()
        };
        let mut r = rig(config);
        // Asking for known hosts, a probe (sender 0.0.0.0) and a gratuitous ARP: nothing.
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(2)));
        r.h.frame(
            r.sw[0],
            1,
            &arp_request(mac(1), Ipv4Addr::UNSPECIFIED, ip(50)),
        );
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(1)));
        assert_eq!(r.stats.lock().unwrap().counted, 0);
        for n in 100..=104 {
            r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(n)));
        }
        assert_eq!(
            *r.scans.lock().unwrap(),
            [AppEvent::ScanSuspected {
                mac: mac(1),
                ipv4: ip(1),
                destinations: 5,
            }]
        );
    }
}
