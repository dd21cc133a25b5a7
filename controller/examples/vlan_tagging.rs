//! NOX's first example app, user-based VLAN tagging, on flowlab-controller.
//!
//! In the NOX paper, when a user authenticates, the controller installs two flows at the
//! user's first-hop switch: packets *from* the user's host get the user's VLAN tag and
//! are flooded; packets *to* the host carrying that tag lose it and are delivered. The
//! same app here reacts to the network view instead of an authentication event: when the
//! `hosts` app learns a host (from its first packet), and when a name or address that a
//! mapping names is bound, the host's switch gets
//!
//! * `in_port=<host port>, eth_src=<host>, untagged` → push the VLAN tag, flood;
//! * `eth_dst=<host>, vlan_vid=<vid>` → pop the tag, output to the host's port,
//!
//! and the packet that revealed the host is released through the first flow. A host that
//! moves gets its flows moved; one that leaves loses them. As in the paper, tagged
//! frames are flooded: use it on one switch or a tree of switches (flooding on a
//! topology with loops would loop). Other traffic is left to the other apps.
//!
//! ```text
//! cargo run -p flowlab-controller --example vlan_tagging -- \
//!     --vlan h1.lab=10 --vlan 02:00:00:00:00:02=20 --vlan 203.0.113.0/24=30 \
//!     --listen punix:/tmp/flowlab-vlan.sock
//! cargo run -p flowlab-controller --example vlan_tagging -- --demo
//! ```
//!
//! `--vlan SELECTOR=VID` maps hosts to VLANs (first match wins): a MAC, an IPv4 address
//! or CIDR, or a name the `hosts` app learned from DHCP or DNS. The other options are the
//! controller's (`--listen`, `--connect`, `--config`, `--quiet`, `--api`); `--apps`
//! defaults to `topology,hosts` here, and the tagging app always runs besides. `--demo`
//! runs the app against an in-memory switch and prints what it saw.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context as _};
use flowlab_controller::app::{App, Ctx, Disposition, Flow, Registrar};
use flowlab_controller::apps::acl::Selector;
use flowlab_controller::cli::{self, Command};
use flowlab_controller::config::Config;
use flowlab_controller::controller::Controller;
use flowlab_controller::driver;
use flowlab_controller::event::{Event, EventKind, Location};
use flowlab_controller::netview::{HostInfo, Mac, NetworkView};
use flowlab_openflow::model::{Action, Match, Message, OxmField, OxmId, PacketOut, PortNo};

/// Priority of the tagging flows (above routing's pair paths and the ACL's band).
const TAG_PRIORITY: u16 = 0x9000;
/// 802.1Q.
const ETH_TYPE_VLAN: u16 = 0x8100;
/// `OFPVID_PRESENT`.
const VID_PRESENT: u16 = 0x1000;

/// Tags each mapped host's traffic with its VLAN at its first-hop switch.
#[derive(Debug)]
struct VlanTagging {
    map: Vec<(Selector, u16)>,
    /// What each host has now: where, and which VLAN.
    installed: BTreeMap<Mac, (Location, u16)>,
}

impl VlanTagging {
    fn new(map: Vec<(Selector, u16)>) -> VlanTagging {
        VlanTagging {
            map,
            installed: BTreeMap::new(),
        }
    }

    /// The VLAN of `host`, from the first mapping that names it.
    fn vlan_of(&self, host: &HostInfo, net: &NetworkView) -> Option<u16> {
        let names = |s: &Selector| match s {
            Selector::Any => true,
            Selector::Mac(m) => *m == host.mac.0,
            Selector::Net(a, p) => host.ipv4.is_some_and(|ip| {
                let mask = if *p == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(*p))
                };
                (u32::from(ip) ^ u32::from(*a)) & mask == 0
            }),
            Selector::Name(n) => host.ipv4.is_some() && net.resolve(n) == host.ipv4,
        };
        self.map.iter().find(|(s, _)| names(s)).map(|&(_, v)| v)
    }

    /// The two flows of a host at `at` on VLAN `vid`: (tag, untag).
    fn flows(mac: Mac, at: Location, vid: u16, version: u8) -> (Flow, Flow) {
        let vid_field = OxmField::from_uint(OxmId::VlanVid, u64::from(VID_PRESENT | vid));
        let mut tag = Vec::new();
        if version >= 4 {
            // 1.3 pushes a tag, then sets its id; 1.0's set_vlan_vid adds one itself.
            tag.push(Action::PushVlan(ETH_TYPE_VLAN));
        }
        tag.push(Action::SetField(vid_field.clone()));
        tag.push(Action::output(PortNo::FLOOD));
        let from_host = Match::new()
            .with(OxmField::in_port(at.port))
            .with(OxmField::eth_src(mac.0))
            .with(OxmField::from_uint(OxmId::VlanVid, 0));
        let to_host = Match::new().with(OxmField::eth_dst(mac.0)).with(vid_field);
        (
            Flow::new(from_host).actions(tag).priority(TAG_PRIORITY),
            Flow::new(to_host)
                .actions(vec![Action::PopVlan, Action::output(at.port)])
                .priority(TAG_PRIORITY),
        )
    }

    fn remove(mac: Mac, at: Location, vid: u16, ctx: &mut Ctx<'_>) {
        let version = ctx.switch(at.dpid).map_or(4, |s| s.version);
        let (a, b) = VlanTagging::flows(mac, at, vid, version);
        for f in [a, b] {
            let _ = ctx.delete_strict(at.dpid, f.match_, f.priority, 0);
        }
    }

    /// Brings every host's flows to what the view and the map say.
    fn sync(&mut self, ctx: &mut Ctx<'_>) {
        let want: BTreeMap<Mac, (Location, u16)> = ctx
            .network()
            .hosts()
            .into_iter()
            .filter_map(|h| Some((h.mac, (h.location, self.vlan_of(h, ctx.network())?))))
            .collect();
        let stale: Vec<(Mac, (Location, u16))> = self
            .installed
            .iter()
            .filter(|(m, now)| want.get(m) != Some(now))
            .map(|(m, v)| (*m, *v))
            .collect();
        for (mac, (at, vid)) in stale {
            VlanTagging::remove(mac, at, vid, ctx);
            self.installed.remove(&mac);
        }
        for (mac, (at, vid)) in want {
            if self.installed.contains_key(&mac) {
                continue;
            }
            let version = ctx.switch(at.dpid).map_or(4, |s| s.version);
            let (tag, untag) = VlanTagging::flows(mac, at, vid, version);
            let _ = ctx.install(at.dpid, tag);
            let _ = ctx.install(at.dpid, untag);
            println!(
                "vlan_tagging: host {mac} at {}:{} on VLAN {vid}",
                at.dpid, at.port.0
            );
            self.installed.insert(mac, (at, vid));
        }
    }
}

impl App for VlanTagging {
    fn name(&self) -> &'static str {
        "vlan_tagging"
    }

    fn register(&self, r: &mut Registrar) {
        // After `hosts` (900) has learned the sender, before `routing` (500).
        r.on(EventKind::PacketIn, 600);
        for k in [
            EventKind::HostJoin,
            EventKind::HostMove,
            EventKind::HostLeave,
            EventKind::HostAddress,
            EventKind::NameBound,
        ] {
            r.on(k, 0);
        }
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        let Event::PacketIn(pi) = event else {
            self.sync(ctx);
            return Disposition::Continue;
        };
        let (Some(src), Some(eth_type)) = (pi.packet.eth_src(), pi.packet.eth_type()) else {
            return Disposition::Continue;
        };
        let from_host = Location {
            dpid: pi.dpid,
            port: pi.in_port(),
        };
        let at_home = ctx
            .network()
            .host(Mac(src))
            .is_some_and(|h| h.location == from_host);
        if !at_home || eth_type == ETH_TYPE_VLAN {
            return Disposition::Continue;
        }
        // The host was just learned: its flows go in, and this packet through them.
        self.sync(ctx);
        let Some(&(at, vid)) = self.installed.get(&Mac(src)) else {
            return Disposition::Continue;
        };
        let version = ctx.switch(at.dpid).map_or(4, |s| s.version);
        let (tag, _) = VlanTagging::flows(Mac(src), at, vid, version);
        let po = PacketOut {
            buffer_id: pi.packet.buffer_id(),
            in_port: pi.in_port(),
            actions: tag.actions,
            data: if pi.packet.is_buffered() {
                Vec::new()
            } else {
                pi.data().to_vec()
            },
        };
        let _ = ctx.send(pi.dpid, &Message::PacketOut(po));
        Disposition::Stop
    }
}

/// `--vlan SELECTOR=VID`.
fn parse_mapping(text: &str) -> anyhow::Result<(Selector, u16)> {
    let (sel, vid) = text
        .rsplit_once('=')
        .with_context(|| format!("--vlan {text}: expected SELECTOR=VID"))?;
    let vid: u16 = vid
        .parse()
        .ok()
        .filter(|v| (1..4095).contains(v))
        .with_context(|| format!("--vlan {text}: the VLAN id must be 1 to 4094"))?;
    let sel = Selector::parse(sel).map_err(|e| anyhow::anyhow!("--vlan {text}: {e}"))?;
    Ok((sel, vid))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("vlan_tagging: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let mut map = Vec::new();
    let mut demo = false;
    let mut rest = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--demo" => demo = true,
            "--vlan" => map.push(parse_mapping(
                &args.next().context("--vlan needs a value")?,
            )?),
            other if other.starts_with("--vlan=") => map.push(parse_mapping(&other[7..])?),
            _ => rest.push(a),
        }
    }
    if demo {
        return run_demo();
    }
    if !rest
        .iter()
        .any(|a| a == "--apps" || a.starts_with("--apps="))
    {
        rest.push("--apps=topology,hosts".into());
    }
    let args = match cli::parse(rest)? {
        Command::Run(a) => a,
        Command::Help | Command::Version => {
            println!(
                "usage: vlan_tagging [--vlan SELECTOR=VID]... [--demo] [controller options]\n"
            );
            print!("{}", cli::USAGE);
            return Ok(());
        }
    };
    if map.is_empty() {
        bail!("no --vlan SELECTOR=VID given: nothing to tag");
    }
    let config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let mut apps = flowlab_controller::apps::build(&args.apps, &config)?;
    apps.push(Box::new(VlanTagging::new(map)));
    let controller = Controller::new(config.controller.conn_config()?, apps)?;
    driver::run_program(controller, args.driver_config(), "vlan_tagging")
        .context("serving switches")
}

/// One in-memory switch, two hosts on two VLANs, a trunk on port 4.
fn run_demo() -> anyhow::Result<()> {
    use flowlab_controller::harness::{agent_config, Harness};
    let map = vec![
        (
            Selector::parse("02:00:00:00:00:01").map_err(anyhow::Error::msg)?,
            10,
        ),
        (
            Selector::parse("198.51.100.2").map_err(anyhow::Error::msg)?,
            20,
        ),
    ];
    let config = Config::default();
    let mut apps = flowlab_controller::apps::build(&["topology".into(), "hosts".into()], &config)?;
    apps.push(Box::new(VlanTagging::new(map)));
    let mut h = Harness::new(Controller::new(config.controller.conn_config()?, apps)?);
    let sw = h.add_switch(agent_config(1, 4), &[1, 2, 3, 4]);
    h.advance(Duration::from_secs(1));
    h.take_delivered(sw);
    let mac = |n: u8| [2, 0, 0, 0, 0, n];
    let arp = |n: u8| {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&mac(n));
        f.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&mac(n));
        f.extend_from_slice(&[198, 51, 100, n]);
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&[198, 51, 100, 99]);
        f.resize(60, 0);
        f
    };
    let lldp = |f: &Vec<u8>| f.get(12..14) == Some(&[0x88, 0xcc][..]);
    let show = |h: &mut Harness, what: &str| -> Vec<(u32, Vec<u8>)> {
        let out: Vec<(u32, Vec<u8>)> = h
            .take_delivered(sw)
            .into_iter()
            .filter(|(_, f)| !lldp(f))
            .collect();
        println!("{what}:");
        for (p, f) in &out {
            let tag = match f.get(12..16) {
                Some([0x81, 0x00, hi, lo]) => {
                    format!("VLAN {}", u16::from_be_bytes([*hi, *lo]) & 0xfff)
                }
                _ => "untagged".into(),
            };
            println!("  out of port {p}: {} bytes, {tag}", f.len());
        }
        out
    };
    // h1 (VLAN 10 by MAC) speaks first: learned, tagged, flooded.
    h.frame(sw, 1, &arp(1));
    let out = show(&mut h, "h1's ARP request from port 1");
    let tagged_10 = |f: &Vec<u8>| f.get(12..16) == Some(&[0x81, 0x00, 0x00, 10][..]);
    if out.len() != 3 || !out.iter().all(|(_, f)| tagged_10(f)) {
        bail!("expected the request tagged with VLAN 10 out of ports 2, 3 and 4");
    }
    // h2 (VLAN 20 by address, known once its ARP is seen).
    h.frame(sw, 2, &arp(2));
    let out = show(&mut h, "h2's ARP request from port 2");
    if out.len() != 3 {
        bail!("expected the request out of ports 1, 3 and 4");
    }
    // A frame for h1 tagged with VLAN 10 arrives on the trunk: untagged, to port 1 only.
    let mut to_h1 = mac(1).to_vec();
    to_h1.extend_from_slice(&mac(9));
    to_h1.extend_from_slice(&[0x81, 0x00, 0x00, 10, 0x08, 0x00]);
    to_h1.resize(64, 0x5a);
    h.frame(sw, 4, &to_h1);
    let out = show(&mut h, "a VLAN 10 frame for h1 from the trunk (port 4)");
    if out.len() != 1 || out[0].0 != 1 || out[0].1.get(12..14) != Some(&[0x08, 0x00][..]) {
        bail!("expected the frame untagged out of port 1 alone");
    }
    println!("flows on the switch: {}", h.flow_count(sw));
    println!("demo: ok");
    Ok(())
}
