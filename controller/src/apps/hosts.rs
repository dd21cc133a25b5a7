//! `hosts`: host tracking (NOX's host tracker and name bindings): MAC, IPv4, location
//! and names, from the packet-ins every other app sees anyway.
//!
//! The app reads every packet-in (at a priority above the apps that answer them, and
//! always lets them through) and writes what it learns into the network view:
//!
//! * **Location**: a frame's unicast source MAC is a host at the frame's input port,
//!   unless that port carries a link (a frame from another switch says nothing about
//!   where its sender is). A host seen elsewhere moves; one not seen for `timeout_s`
//!   leaves, as do the hosts of a port that goes down or away.
//! * **IPv4 address**: from ARP requests and replies, the sender's protocol address,
//!   when the sender's hardware address is the frame's source (ARP probes, with sender
//!   0.0.0.0, bind nothing); from a DHCPACK, `yiaddr` to the client's MAC (`chaddr`).
//! * **Names**: from DHCP, the client's host name (option 12) to its address: the one
//!   a DHCPREQUEST asks for (option 50, else `ciaddr`), then the one the DHCPACK
//!   assigns (the ACK's own option 12, else the name the client sent in its request in
//!   the last minute). From DNS responses (UDP source port 53, no error), every A
//!   answer binds its owner name to the address, and CNAME answers bind the alias to
//!   the address their target resolves to in the same response. A name answered with
//!   several addresses keeps the one it has if that is among them, else takes the
//!   first, so round-robin answers do not rebind it on every response.
//!
//! Protocol data is read wherever the packet-in came from (an ACK crossing a link is
//! as true as one at the server's port), and strictly: IPv4 and UDP lengths and
//! checksums must verify, and a DNS answer section that does not parse entirely binds
//! nothing. Names are kept to letters, digits, `-` and `_` per label. Like any passive
//! snooping, this believes what hosts say; it is a lab inventory, not an authority.
//! The view posts the events (`HostJoin`, `HostMove`, `HostLeave`, `HostAddress`,
//! `NameBound`) for each change it records.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use flowlab_datapath::wire::{
    ethernet, vlan, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame,
    IpProtocol, Ipv4Packet, Ipv4Repr, PseudoHeader, UdpPacket, UdpRepr, VlanTag,
};
use flowlab_openflow::model::port::{config as port_config, state as port_state};
use flowlab_openflow::model::PortNo;
use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::{Event, EventKind, Location, PacketInEvent, PortReason};
use crate::netview::Mac;
use crate::proto::dhcp::{self, DhcpPacket, DhcpRepr, MessageType};
use crate::proto::dns::{self, DnsName, DnsPacket, RecordType};
use crate::proto::Error;

/// How long a host name from a DHCPREQUEST waits for its DHCPACK.
pub const DHCP_NAME_MEMORY: Duration = Duration::from_secs(60);

/// Host names from DHCPREQUESTs remembered at most.
pub const MAX_PENDING_NAMES: usize = 4096;

/// Answers of one DNS response read at most.
pub const MAX_DNS_ANSWERS: usize = 64;

/// CNAMEs followed from one alias at most.
const MAX_CNAME_HOPS: usize = 8;

/// VLAN tags skipped at most before the EtherType that counts.
const MAX_VLAN_TAGS: usize = 2;

/// `[hosts]` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostsConfig {
    /// Handler priority for packet-ins (above `routing`'s 500 and `l2_learning`'s 100,
    /// so hosts are learned before those answer; below `topology`, which keeps LLDP).
    pub priority: i32,
    /// Seconds without a frame before a host leaves (0: never).
    pub timeout_s: u64,
}

impl Default for HostsConfig {
    fn default() -> Self {
        HostsConfig {
            priority: 900,
            timeout_s: 300,
        }
    }
}

/// The `hosts` app. See the module documentation.
#[derive(Debug, Clone)]
pub struct Hosts {
    config: HostsConfig,
    /// Host names from DHCPREQUESTs, by client MAC, with when they were seen.
    pending_names: HashMap<Mac, (String, Duration)>,
}

/// Whether an address can belong to a host (not 0.0.0.0, broadcast or multicast).
fn usable(ip: Ipv4Addr) -> bool {
    !ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast()
}

/// A DHCP host name as text: labels of letters, digits, `-` and `_`, joined by dots;
/// trailing NULs (some clients send a C string) and one trailing dot are dropped.
pub fn host_name_text(raw: &[u8]) -> Option<&str> {
    let mut raw = raw;
    while let [rest @ .., 0] = raw {
        raw = rest;
    }
    let raw = raw.strip_suffix(b".").unwrap_or(raw);
    if raw.is_empty() || raw.len() > dns::MAX_TEXT_LEN {
        return None;
    }
    let label_ok = |l: &[u8]| {
        !l.is_empty()
            && l.len() <= 63
            && l.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    };
    if !raw.split(|b| *b == b'.').all(label_ok) {
        return None;
    }
    std::str::from_utf8(raw).ok()
}

/// The EtherType and payload of a frame, past up to [`MAX_VLAN_TAGS`] VLAN tags.
fn inner(frame: &[u8]) -> Option<(EtherType, &[u8])> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let mut ethertype = eth.ethertype();
    let mut payload = frame.get(ethernet::HEADER_LEN..)?;
    for _ in 0..MAX_VLAN_TAGS {
        if !ethertype.is_vlan() {
            break;
        }
        ethertype = VlanTag::new_checked(payload).ok()?.ethertype();
        payload = payload.get(vlan::HEADER_LEN..)?;
    }
    Some((ethertype, payload))
}

impl Hosts {
    /// The app with `config`.
    pub fn new(config: HostsConfig) -> Hosts {
        Hosts {
            config,
            pending_names: HashMap::new(),
        }
    }

    fn packet_in(&mut self, ctx: &mut Ctx<'_>, pi: &PacketInEvent<'_>) {
        let data = pi.data();
        let Some((ethertype, payload)) = inner(data) else {
            return;
        };
        if ethertype == EtherType::Lldp {
            return;
        }
        let Ok(eth) = EthernetFrame::new_checked(data) else {
            return;
        };
        let src = eth.src_addr();
        let at = Location {
            dpid: pi.dpid,
            port: pi.in_port(),
        };
        let edge = at.port.0 < PortNo::MAX.0 || at.port == PortNo::LOCAL;
        if src.is_unicast() && src.0 != [0; 6] && edge && !ctx.network().is_link_port(at) {
            let now = ctx.now();
            ctx.network_mut().host_seen(Mac(src.0), at, now);
        }
        match ethertype {
            EtherType::Arp => arp(ctx, src, payload),
            EtherType::Ipv4 => self.ipv4(ctx, payload),
            _ => {}
        }
    }

    fn ipv4(&mut self, ctx: &mut Ctx<'_>, packet: &[u8]) {
        let Ok(ip) = Ipv4Packet::new_checked(packet) else {
            return;
        };
        // Most packet-ins are neither DHCP nor DNS: look at the protocol and the ports
        // before paying for any checksum.
        if ip.next_header() != IpProtocol::Udp {
            return;
        }
        let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
            return;
        };
        let dhcp_port = |p: u16| p == dhcp::SERVER_PORT || p == dhcp::CLIENT_PORT;
        let (sport, dport) = (udp.src_port(), udp.dst_port());
        if !(dhcp_port(sport) && dhcp_port(dport)) && sport != dns::PORT {
            return;
        }
        // Strict: version, lengths within the frame, checksum, not a fragment.
        let Ok(repr) = Ipv4Repr::parse(&ip) else {
            return;
        };
        let ph = PseudoHeader::V4 {
            src: repr.src_addr,
            dst: repr.dst_addr,
        };
        let Ok(u) = UdpRepr::parse(&udp, &ph) else {
            return;
        };
        if dhcp_port(u.src_port) && dhcp_port(u.dst_port) {
            self.dhcp(ctx, udp.payload());
        } else if u.src_port == dns::PORT {
            dns_response(ctx, udp.payload());
        }
    }

    fn dhcp(&mut self, ctx: &mut Ctx<'_>, message: &[u8]) {
        let Ok(p) = DhcpPacket::new_checked(message) else {
            return;
        };
        let Ok(d) = DhcpRepr::parse(&p) else {
            return;
        };
        let mac = Mac(d.client_mac);
        let name = d.host_name.and_then(host_name_text);
        let now = ctx.now();
        match d.message_type {
            MessageType::Request => {
                let Some(name) = name else { return };
                let asked = d.requested_ip.unwrap_or(d.client_ip);
                if usable(asked) {
                    ctx.network_mut().bind_name(name, asked, now);
                }
                if self.pending_names.len() < MAX_PENDING_NAMES
                    || self.pending_names.contains_key(&mac)
                {
                    self.pending_names.insert(mac, (name.to_owned(), now));
                }
            }
            MessageType::Ack => {
                // An ACK to an INFORM assigns no address.
                if !usable(d.your_ip) {
                    return;
                }
                ctx.network_mut().bind_ipv4(mac, d.your_ip, now);
                let requested = self.pending_names.remove(&mac).map(|(n, _)| n);
                if let Some(name) = name.or(requested.as_deref()) {
                    ctx.network_mut().bind_name(name, d.your_ip, now);
                }
            }
            _ => {}
        }
    }

    fn forget_port(&mut self, ctx: &mut Ctx<'_>, at: Location) {
        let gone: Vec<Mac> = ctx
            .network()
            .hosts()
            .into_iter()
            .filter(|h| h.location == at)
            .map(|h| h.mac)
            .collect();
        let now = ctx.now();
        for m in gone {
            ctx.network_mut().host_gone(m, now);
        }
    }
}

fn arp(ctx: &mut Ctx<'_>, src: EthernetAddress, packet: &[u8]) {
    let Ok(p) = ArpPacket::new_checked(packet) else {
        return;
    };
    let Ok(ArpRepr::EthernetIpv4 {
        operation,
        source_hardware_addr,
        source_protocol_addr,
        ..
    }) = ArpRepr::parse(&p)
    else {
        return;
    };
    let op_ok = matches!(operation, ArpOperation::Request | ArpOperation::Reply);
    if op_ok && source_hardware_addr == src && usable(source_protocol_addr) {
        let now = ctx.now();
        ctx.network_mut()
            .bind_ipv4(Mac(src.0), source_protocol_addr, now);
    }
}

/// Reads a name for binding: `None` to skip the record (a name that cannot be text, or
/// the root), `Err` to drop the whole response (it does not parse).
fn binding_name(p: &DnsPacket<&[u8]>, at: usize) -> Result<Option<DnsName>, Error> {
    match p.name(at) {
        Ok((n, _)) if !n.is_root() => Ok(Some(n)),
        Ok(_) | Err(Error::Unsupported) => Ok(None),
        Err(e) => Err(e),
    }
}

fn dns_response(ctx: &mut Ctx<'_>, message: &[u8]) {
    let Ok(p) = DnsPacket::new_checked(message) else {
        return;
    };
    if !p.is_response() || p.opcode() != 0 || p.rcode() != 0 {
        return;
    }
    let mut addrs: Vec<(DnsName, Ipv4Addr)> = Vec::new();
    let mut aliases: Vec<(DnsName, DnsName)> = Vec::new();
    for r in p.answers().take(MAX_DNS_ANSWERS) {
        let Ok(r) = r else { return };
        if r.class != dns::CLASS_IN {
            continue;
        }
        match r.rtype {
            RecordType::A => {
                let Some(ip) = r.ipv4() else { return };
                let Ok(owner) = binding_name(&p, r.name_at) else {
                    return;
                };
                if let (Some(owner), true) = (owner, usable(ip)) {
                    addrs.push((owner, ip));
                }
            }
            RecordType::Cname => {
                let (Ok(alias), Ok(target)) =
                    (binding_name(&p, r.name_at), binding_name(&p, r.rdata_at))
                else {
                    return;
                };
                if let (Some(alias), Some(target)) = (alias, target) {
                    aliases.push((alias, target));
                }
            }
            _ => {}
        }
    }
    // One address per name: the one it has if answered again, else the first.
    let mut chosen: Vec<(DnsName, Ipv4Addr)> = Vec::new();
    for (name, first) in &addrs {
        if chosen.iter().any(|(n, _)| n == name) {
            continue;
        }
        let current = ctx.network().resolve(name.as_str());
        let keep = current.filter(|c| addrs.iter().any(|(n, a)| n == name && a == c));
        chosen.push((*name, keep.unwrap_or(*first)));
    }
    let mut via_alias: Vec<(DnsName, Ipv4Addr)> = Vec::new();
    for (alias, target) in &aliases {
        let mut t = target;
        for _ in 0..MAX_CNAME_HOPS {
            if let Some((_, ip)) = chosen.iter().find(|(n, _)| n == t) {
                via_alias.push((*alias, *ip));
                break;
            }
            match aliases.iter().find(|(a, _)| a == t) {
                Some((_, next)) => t = next,
                None => break,
            }
        }
    }
    let now = ctx.now();
    for (name, ip) in chosen.iter().chain(&via_alias) {
        ctx.network_mut().bind_name(name.as_str(), *ip, now);
    }
}

impl App for Hosts {
    fn name(&self) -> &'static str {
        "hosts"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::PacketIn, self.config.priority)
            .on(EventKind::PortStatus, self.config.priority);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        match event {
            Event::PacketIn(pi) => self.packet_in(ctx, pi),
            Event::PortStatus(ps) => {
                let down = ps.reason == PortReason::Delete
                    || ps.port.state & port_state::LINK_DOWN != 0
                    || ps.port.config & port_config::PORT_DOWN != 0;
                if down {
                    let at = Location {
                        dpid: ps.dpid,
                        port: ps.port.port_no,
                    };
                    self.forget_port(ctx, at);
                }
            }
            _ => {}
        }
        Disposition::Continue
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        self.pending_names
            .retain(|_, (_, seen)| now.saturating_sub(*seen) < DHCP_NAME_MEMORY);
        if self.config.timeout_s == 0 {
            return;
        }
        let timeout = Duration::from_secs(self.config.timeout_s);
        let gone: Vec<Mac> = ctx
            .network()
            .hosts()
            .into_iter()
            .filter(|h| now.saturating_sub(h.last_seen) >= timeout)
            .map(|h| h.mac)
            .collect();
        for m in gone {
            ctx.network_mut().host_gone(m, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use flowlab_datapath::wire::{arp, udp};

    use crate::apps::topology::tests::{advance, at, changes, controller, triangle};
    use crate::config::Config;
    use crate::event::{AppEvent, Host};
    use crate::harness::Harness;
    use crate::proto::dhcp::DhcpRepr;
    use crate::switch_conn::{OFP10, OFP13};

    fn mac(n: u8) -> [u8; 6] {
        [2, 0, 0, 0, 0, n]
    }

    fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new(a, b, c, d)
    }

    const BCAST: [u8; 6] = [0xff; 6];

    fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(60);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&src);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f.resize(f.len().max(60), 0);
        f
    }

    fn arp_frame(
        op: ArpOperation,
        src: [u8; 6],
        sha: [u8; 6],
        spa: Ipv4Addr,
        tpa: Ipv4Addr,
    ) -> Vec<u8> {
        let mut p = [0u8; arp::ETHERNET_IPV4_LEN];
        ArpRepr::EthernetIpv4 {
            operation: op,
            source_hardware_addr: EthernetAddress(sha),
            source_protocol_addr: spa,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: tpa,
        }
        .emit(&mut ArpPacket::new_unchecked(&mut p[..]))
        .unwrap();
        eth(BCAST, src, 0x0806, &p)
    }

    /// An Ethernet/IPv4/UDP frame, checksummed; returns it and where the IP packet ends.
    fn udp_frame(
        (src, dst): ([u8; 6], [u8; 6]),
        (sip, dip): (Ipv4Addr, Ipv4Addr),
        (sport, dport): (u16, u16),
        payload: &[u8],
    ) -> (Vec<u8>, usize) {
        let udp_len = udp::HEADER_LEN + payload.len();
        let mut ipb = vec![0u8; 20 + udp_len];
        Ipv4Repr {
            src_addr: sip,
            dst_addr: dip,
            next_header: IpProtocol::Udp,
            payload_len: udp_len,
            ttl: 64,
            dscp: 0,
            ecn: 0,
            ident: 1,
            dont_frag: false,
        }
        .emit(&mut Ipv4Packet::new_unchecked(&mut ipb[..]))
        .unwrap();
        let ph = PseudoHeader::V4 { src: sip, dst: dip };
        UdpRepr {
            src_port: sport,
            dst_port: dport,
        }
        .emit(
            &mut UdpPacket::new_unchecked(&mut ipb[20..]),
            payload,
            Some(&ph),
        )
        .unwrap();
        let end = ethernet::HEADER_LEN + ipb.len();
        (eth(dst, src, 0x0800, &ipb), end)
    }

    fn dhcp_bytes(r: &DhcpRepr<'_>) -> Vec<u8> {
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut DhcpPacket::new_unchecked(&mut b[..])).unwrap();
        b
    }

    fn dhcp(message_type: MessageType, client: [u8; 6]) -> DhcpRepr<'static> {
        DhcpRepr {
            message_type,
            xid: 7,
            client_mac: client,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: Ipv4Addr::UNSPECIFIED,
            broadcast: false,
            requested_ip: None,
            server_id: None,
            host_name: None,
        }
    }

    const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

    fn client_frame(client: [u8; 6], r: &DhcpRepr<'_>) -> Vec<u8> {
        let addrs = (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST);
        udp_frame((client, BCAST), addrs, (68, 67), &dhcp_bytes(r)).0
    }

    fn server_frame(server: [u8; 6], r: &DhcpRepr<'_>) -> (Vec<u8>, usize) {
        let addrs = (SERVER, r.your_ip);
        udp_frame((server, r.client_mac), addrs, (67, 68), &dhcp_bytes(r))
    }

    /// A DNS response for "www.lab.example": a CNAME to "web.lab.example", then
    /// `addrs` as A records of "web.lab.example" (owner compressed to the CNAME data).
    fn dns_response(addrs: &[Ipv4Addr]) -> Vec<u8> {
        let mut b = vec![0u8; dns::HEADER_LEN];
        {
            let mut p = DnsPacket::new_unchecked(&mut b[..]);
            p.set_id(0x5151);
            p.set_flags(dns::flags::QR | dns::flags::RD | dns::flags::RA);
            p.set_counts(1, 1 + addrs.len() as u16, 0, 0);
        }
        b.extend_from_slice(b"\x03WWW\x03lab\x07example\x00\x00\x01\x00\x01");
        b.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6]);
        b.extend_from_slice(&[3, b'w', b'e', b'b', 0xc0, 16]);
        for a in addrs {
            b.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            b.extend_from_slice(&a.octets());
        }
        b
    }

    fn dns_frame(server: [u8; 6], client: [u8; 6], payload: &[u8]) -> (Vec<u8>, usize) {
        let addrs = (ip(203, 0, 113, 53), ip(198, 51, 100, 20));
        udp_frame((server, client), addrs, (53, 40000), payload)
    }

    fn ping(src: [u8; 6]) -> Vec<u8> {
        eth(mac(0xee), src, 0x88b5, &[1; 46])
    }

    fn triangle_harness(config: &Config, version: u8) -> (Harness, [usize; 3]) {
        let mut h = Harness::new(controller("topology,hosts", config, Vec::new()));
        let s = triangle(&mut h, version);
        advance(&mut h, 2);
        assert_eq!(h.controller().network().link_count(), 6);
        (h, s)
    }

    fn host(h: &Harness, m: [u8; 6]) -> Option<Host> {
        h.controller().network().host(Mac(m)).map(|i| i.host())
    }

    #[test]
    fn hosts_join_at_edge_ports_only() {
        for version in [OFP10, OFP13] {
            let (mut h, s) = triangle_harness(&Config::default(), version);
            for (i, sw) in s.iter().enumerate() {
                h.frame(*sw, 1, &ping(mac(i as u8 + 1)));
            }
            let net = h.controller().network();
            assert_eq!(net.host_count(), 3, "v{version}");
            for d in 1..=3u8 {
                assert_eq!(net.host(Mac(mac(d))).unwrap().location, at(u64::from(d), 1));
            }
            let seq = net.seq();
            // A frame on a link port, from a group address, or from 00:00:00:00:00:00.
            h.frame(s[0], 2, &ping(mac(9)));
            h.frame(s[0], 1, &ping([3, 0, 0, 0, 0, 1]));
            h.frame(s[0], 1, &ping([0; 6]));
            h.frame(s[0], 1, &[0u8; 11]);
            assert_eq!(h.controller().network().seq(), seq, "v{version}");
            let joins = changes(&h, 0)
                .iter()
                .filter(|e| matches!(e, AppEvent::HostJoin(_)))
                .count();
            assert_eq!(joins, 3);
        }
    }

    #[test]
    fn arp_binds_the_senders_address() {
        let (mut h, s) = triangle_harness(&Config::default(), OFP13);
        let (a, b) = (ip(198, 51, 100, 11), ip(198, 51, 100, 12));
        h.frame(
            s[0],
            1,
            &arp_frame(ArpOperation::Request, mac(1), mac(1), a, b),
        );
        assert_eq!(host(&h, mac(1)).unwrap().ipv4, Some(a));
        let mut reply = arp_frame(ArpOperation::Reply, mac(2), mac(2), b, a);
        reply[0..6].copy_from_slice(&mac(1));
        h.frame(s[1], 1, &reply);
        assert_eq!(host(&h, mac(2)).unwrap().ipv4, Some(b));
        assert_eq!(
            h.controller().network().host_by_ipv4(b).unwrap().location,
            at(2, 1)
        );
        let seq = h.controller().network().seq();
        // A probe (sender 0.0.0.0), a sender that is not the frame's source, RARP.
        let c = ip(198, 51, 100, 13);
        let unspecified = Ipv4Addr::UNSPECIFIED;
        h.frame(
            s[0],
            1,
            &arp_frame(ArpOperation::Request, mac(1), mac(1), unspecified, c),
        );
        h.frame(
            s[0],
            1,
            &arp_frame(ArpOperation::Reply, mac(1), mac(2), c, a),
        );
        h.frame(
            s[0],
            1,
            &arp_frame(ArpOperation::ReverseReply, mac(1), mac(1), c, a),
        );
        assert_eq!(h.controller().network().seq(), seq);
        let kinds: Vec<EventKind> = changes(&h, 0).iter().map(AppEvent::kind).collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == EventKind::HostAddress)
                .count(),
            2
        );
    }

    #[test]
    fn dhcp_binds_addresses_and_host_names() {
        let (mut h, s) = triangle_harness(&Config::default(), OFP13);
        let leased = ip(198, 51, 100, 10);
        // The client asks for an address, giving its name; the server (behind switch 2)
        // acknowledges without repeating the name.
        let request = DhcpRepr {
            requested_ip: Some(leased),
            host_name: Some(b"Alice\0"),
            ..dhcp(MessageType::Request, mac(1))
        };
        h.frame(s[0], 1, &client_frame(mac(1), &request));
        assert_eq!(h.controller().network().resolve("alice"), Some(leased));
        assert_eq!(host(&h, mac(1)).unwrap().ipv4, None, "asked is not given");
        let ack = DhcpRepr {
            your_ip: leased,
            server_id: Some(SERVER),
            ..dhcp(MessageType::Ack, mac(1))
        };
        h.frame(s[1], 1, &server_frame(mac(0x5e), &ack).0);
        let net = h.controller().network();
        assert_eq!(net.host(Mac(mac(1))).unwrap().ipv4, Some(leased));
        assert_eq!(net.host_by_name("ALICE").unwrap().mac, Mac(mac(1)));
        assert_eq!(net.host(Mac(mac(0x5e))).unwrap().location, at(2, 1));
        // An ACK carrying a name binds it; the ACK of an INFORM assigns nothing.
        h.frame(s[2], 1, &ping(mac(3)));
        let other = ip(198, 51, 100, 30);
        let named = DhcpRepr {
            your_ip: other,
            host_name: Some(b"bob.lab.example."),
            ..dhcp(MessageType::Ack, mac(3))
        };
        h.frame(s[1], 1, &server_frame(mac(0x5e), &named).0);
        let net = h.controller().network();
        assert_eq!(net.host(Mac(mac(3))).unwrap().ipv4, Some(other));
        assert_eq!(net.resolve("bob.lab.example"), Some(other));
        let seq = net.seq();
        h.frame(
            s[1],
            1,
            &server_frame(mac(0x5e), &dhcp(MessageType::Ack, mac(3))).0,
        );
        // A name that is not a host name binds nothing.
        let odd = DhcpRepr {
            requested_ip: Some(ip(198, 51, 100, 40)),
            host_name: Some(b"eve smith"),
            ..dhcp(MessageType::Request, mac(3))
        };
        h.frame(s[2], 1, &client_frame(mac(3), &odd));
        assert_eq!(h.controller().network().seq(), seq);
        let names: Vec<AppEvent> = changes(&h, 0)
            .into_iter()
            .filter(|e| e.kind() == EventKind::NameBound)
            .collect();
        assert_eq!(
            names,
            [
                AppEvent::NameBound {
                    name: "alice".into(),
                    ipv4: leased
                },
                AppEvent::NameBound {
                    name: "bob.lab.example".into(),
                    ipv4: other
                }
            ]
        );
    }

    #[test]
    fn dns_answers_bind_names_and_aliases_without_flapping() {
        let (mut h, s) = triangle_harness(&Config::default(), OFP10);
        let (a, b) = (ip(203, 0, 113, 7), ip(203, 0, 113, 8));
        h.frame(
            s[2],
            1,
            &dns_frame(mac(0x53), mac(1), &dns_response(&[a, b])).0,
        );
        let net = h.controller().network();
        assert_eq!(net.resolve("web.lab.example"), Some(a));
        assert_eq!(net.resolve("www.lab.example"), Some(a), "the CNAME's alias");
        assert_eq!(net.host(Mac(mac(0x53))).unwrap().location, at(3, 1));
        // The same answer in the other order keeps the binding.
        let seq = net.seq();
        h.frame(
            s[2],
            1,
            &dns_frame(mac(0x53), mac(1), &dns_response(&[b, a])).0,
        );
        assert_eq!(h.controller().network().seq(), seq);
        // A new address rebinds.
        let c = ip(203, 0, 113, 9);
        h.frame(
            s[2],
            1,
            &dns_frame(mac(0x53), mac(1), &dns_response(&[c])).0,
        );
        assert_eq!(h.controller().network().resolve("www.lab.example"), Some(c));
        assert_eq!(changes(&h, seq).len(), 2);
        // Queries, errors and other ports bind nothing.
        let seq = h.controller().network().seq();
        let mut query = dns_response(&[a]);
        query[2] &= 0x7f;
        h.frame(s[2], 1, &dns_frame(mac(0x53), mac(1), &query).0);
        let mut nxdomain = dns_response(&[a]);
        nxdomain[3] |= 3;
        h.frame(s[2], 1, &dns_frame(mac(0x53), mac(1), &nxdomain).0);
        let addrs = (ip(203, 0, 113, 53), ip(198, 51, 100, 20));
        let (f, _) = udp_frame((mac(0x53), mac(1)), addrs, (5353, 53), &dns_response(&[a]));
        h.frame(s[2], 1, &f);
        assert_eq!(h.controller().network().seq(), seq);
    }

    #[test]
    fn a_host_that_moves_is_posted_and_an_idle_one_leaves() {
        let mut config = Config::default();
        config.hosts.timeout_s = 5;
        let (mut h, s) = triangle_harness(&config, OFP13);
        h.frame(s[0], 1, &ping(mac(1)));
        h.frame(s[2], 1, &ping(mac(3)));
        let seq = h.controller().network().seq();
        h.frame(s[1], 1, &ping(mac(1)));
        let moved = Host {
            mac: mac(1),
            ipv4: None,
            location: at(2, 1),
        };
        assert_eq!(
            changes(&h, seq),
            [AppEvent::HostMove {
                host: moved,
                from: at(1, 1)
            }]
        );
        // Host 1 keeps talking; host 3 falls silent and leaves after 5 s.
        for _ in 0..4 {
            advance(&mut h, 1);
            h.frame(s[1], 1, &ping(mac(1)));
        }
        assert_eq!(h.controller().network().host_count(), 2);
        advance(&mut h, 1);
        let net = h.controller().network();
        assert!(net.host(Mac(mac(3))).is_none());
        assert!(net.host(Mac(mac(1))).is_some());
        assert!(changes(&h, seq).contains(&AppEvent::HostLeave(Host {
            mac: mac(3),
            ipv4: None,
            location: at(3, 1)
        })));
    }

    #[test]
    fn a_port_that_goes_away_takes_its_hosts() {
        let (mut h, s) = triangle_harness(&Config::default(), OFP13);
        h.frame(s[0], 1, &ping(mac(1)));
        h.frame(s[1], 1, &ping(mac(2)));
        h.remove_port(s[0], 1);
        let net = h.controller().network();
        assert!(net.host(Mac(mac(1))).is_none());
        assert!(net.host(Mac(mac(2))).is_some());
    }

    #[test]
    fn the_handler_runs_between_topology_and_the_forwarding_apps() {
        let h = Harness::new(controller(
            "l2_learning,hosts,topology",
            &Config::default(),
            Vec::new(),
        ));
        assert_eq!(
            h.controller().handlers(EventKind::PacketIn),
            [("topology", 1000), ("hosts", 900), ("l2_learning", 100)]
        );
        let c = Config::from_toml("[hosts]\npriority = 950\ntimeout_s = 0\n").unwrap();
        assert_eq!((c.hosts.priority, c.hosts.timeout_s), (950, 0));
        assert!(Config::from_toml("[hosts]\ntimeout = 1\n").is_err());
        assert_eq!(host_name_text(b"h1\0\0"), Some("h1"));
        assert_eq!(host_name_text(b"a..b"), None);
        assert_eq!(host_name_text(b"\0"), None);
        assert_eq!(host_name_text(&[b'a'; 64]), None);
    }

    #[test]
    fn truncated_or_garbage_dhcp_and_dns_change_nothing() {
        let (mut h, s) = triangle_harness(&Config::default(), OFP13);
        h.frame(s[0], 1, &ping(mac(1)));
        h.frame(s[1], 1, &ping(mac(0x5e)));
        let ack = DhcpRepr {
            your_ip: ip(198, 51, 100, 10),
            host_name: Some(b"alice"),
            ..dhcp(MessageType::Ack, mac(1))
        };
        let (ack, ack_end) = server_frame(mac(0x5e), &ack);
        let (answer, dns_end) = dns_frame(mac(0x5e), mac(1), &dns_response(&[ip(203, 0, 113, 7)]));
        let seq = h.controller().network().seq();
        for (frame, end) in [(&ack, ack_end), (&answer, dns_end)] {
            for cut in 0..end {
                h.frame(s[1], 1, &frame[..cut]);
            }
        }
        // Garbage payloads with valid IPv4/UDP around them (no UDP checksum, so the
        // bytes reach the parsers), from a fixed xorshift stream.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..400usize {
            let mut payload = vec![0u8; [12, 40, 240, 300][i % 4] + i % 7];
            for b in payload.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            match i % 4 {
                0 | 1 => payload[2] |= 0x80, // a DNS response
                _ => payload[236..240].copy_from_slice(&dhcp::MAGIC_COOKIE),
            }
            let ports = if i % 4 < 2 { (53, 40000) } else { (67, 68) };
            let addrs = (ip(198, 51, 100, 1), ip(198, 51, 100, 10));
            let (mut f, _) = udp_frame((mac(0x5e), mac(1)), addrs, ports, &payload);
            f[40..42].copy_from_slice(&[0, 0]);
            h.frame(s[1], 1, &f);
        }
        assert_eq!(h.controller().network().seq(), seq, "no view change");
        assert_eq!(h.controller().network().names().count(), 0);
        // The untouched frames do bind, so the cuts were cut from something that works.
        h.frame(s[1], 1, &ack);
        h.frame(s[1], 1, &answer);
        let net = h.controller().network();
        assert_eq!(net.resolve("alice"), Some(ip(198, 51, 100, 10)));
        assert_eq!(net.resolve("web.lab.example"), Some(ip(203, 0, 113, 7)));
    }
}
