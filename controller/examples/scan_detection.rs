//! NOX's second example app, scan detection, on flowlab-controller.
//!
//! In the NOX paper a short program watches the first packet of every flow, counts for
//! each host the distinct destinations it contacts, and flags a host that contacts too
//! many too quickly. Here the counting is the shipped `scan_detect` app (see its module
//! documentation: TCP SYNs and packets to addresses no known host holds, per source,
//! `threshold` distinct destinations per `window_s` seconds, optionally blocked for
//! `block_s` seconds); this example adds the part a network operator writes: an app that
//! listens for the `ScanSuspected` events `scan_detect` posts and reports them with what
//! the network view knows about the host — its names, its switch and port — and keeps a
//! tally per host.
//!
//! ```text
//! cargo run -p flowlab-controller --example scan_detection -- \
//!     --listen punix:/tmp/flowlab-scan.sock --config scan.toml
//! cargo run -p flowlab-controller --example scan_detection -- --demo
//! ```
//!
//! The options are the controller's; `--apps` defaults to
//! `topology,hosts,scan_detect,routing` here, and the reporter always runs besides.
//! Set `[scan_detect] threshold`, `window_s`, `block` and `block_s` in the configuration
//! file. `--demo` runs everything against two in-memory switches, lets one host sweep
//! 203.0.113.0/24 (ARP requests nobody answers) and prints the report.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{bail, Context as _};
use flowlab_controller::app::{App, Ctx, Disposition, Registrar};
use flowlab_controller::cli::{self, Command};
use flowlab_controller::config::Config;
use flowlab_controller::controller::Controller;
use flowlab_controller::driver;
use flowlab_controller::event::{AppEvent, Event, EventKind};
use flowlab_controller::netview::Mac;

/// Reports every suspected scan with what the view knows of the scanner.
#[derive(Debug, Default)]
struct ScanReporter {
    /// Scans reported per host.
    tally: BTreeMap<Mac, u32>,
}

impl App for ScanReporter {
    fn name(&self) -> &'static str {
        "scan_reporter"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::ScanSuspected, 0);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        let Event::App(AppEvent::ScanSuspected {
            mac,
            ipv4,
            destinations,
        }) = event
        else {
            return Disposition::Continue;
        };
        let net = ctx.network();
        let names: Vec<&str> = net.names_of(*ipv4).collect();
        let place = net
            .host(Mac(*mac))
            .map(|h| format!("switch {} port {}", h.location.dpid, h.location.port.0))
            .unwrap_or_else(|| "an unknown place".into());
        let n = self.tally.entry(Mac(*mac)).or_default();
        *n += 1;
        println!(
            "scan suspected: {} ({ipv4}{}) at {place} contacted {destinations} destinations \
             (report {n} for this host)",
            Mac(*mac),
            if names.is_empty() {
                String::new()
            } else {
                format!(", {}", names.join(", "))
            },
        );
        Disposition::Continue
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("scan_detection: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let mut rest: Vec<String> = std::env::args().skip(1).collect();
    if rest.iter().any(|a| a == "--demo") {
        return run_demo();
    }
    if !rest
        .iter()
        .any(|a| a == "--apps" || a.starts_with("--apps="))
    {
        rest.push("--apps=topology,hosts,scan_detect,routing".into());
    }
    let args = match cli::parse(rest)? {
        Command::Run(a) => a,
        Command::Help | Command::Version => {
            println!("usage: scan_detection [--demo] [controller options]\n");
            print!("{}", cli::USAGE);
            return Ok(());
        }
    };
    let config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let mut apps = flowlab_controller::apps::build(&args.apps, &config)?;
    apps.push(Box::new(ScanReporter::default()));
    let controller = Controller::new(config.controller.conn_config()?, apps)?;
    driver::run_program(controller, args.driver_config(), "scan_detection")
        .context("serving switches")
}

/// Two in-memory switches, h1 and h2; h1 sweeps 203.0.113.0/24 with ARP requests.
fn run_demo() -> anyhow::Result<()> {
    use flowlab_controller::harness::{agent_config, Harness};
    let mut config = Config::from_toml(
        "[scan_detect]\nthreshold = 20\nwindow_s = 10\nblock = true\nblock_s = 30\n",
    )?;
    config.controller.echo_interval = 0;
    let names: Vec<String> = ["topology", "hosts", "scan_detect", "routing"]
        .map(String::from)
        .to_vec();
    let mut apps = flowlab_controller::apps::build(&names, &config)?;
    apps.push(Box::new(ScanReporter::default()));
    let mut h = Harness::new(Controller::new(config.controller.conn_config()?, apps)?);
    let s1 = h.add_switch(agent_config(1, 4), &[1, 2]);
    let s2 = h.add_switch(agent_config(2, 4), &[1, 2]);
    h.wire((s1, 2), (s2, 2));
    for _ in 0..5 {
        h.advance(Duration::from_secs(1));
    }
    let mac = |n: u8| [2, 0, 0, 0, 0, n];
    let ip = |n: u8| Ipv4Addr::new(198, 51, 100, n);
    // h1 and h2 introduce themselves.
    h.frame(s1, 1, &arp(mac(1), ip(1), ip(2), None));
    h.frame(s2, 1, &arp(mac(2), ip(2), ip(1), Some(mac(1))));
    println!(
        "hosts known: {}, links known: {}",
        h.controller().network().host_count(),
        h.controller().network().link_count()
    );
    // h1 sweeps its neighbourhood: ARP requests for 30 addresses nobody holds.
    for n in 1..=30u8 {
        h.frame(
            s1,
            1,
            &arp(mac(1), ip(1), Ipv4Addr::new(203, 0, 113, n), None),
        );
    }
    let reports = h.controller().stats().events[EventKind::ScanSuspected.index()];
    if reports != 1 {
        bail!("expected exactly one report, got {reports}");
    }
    // The block holds: h1's pings to h2 no longer arrive.
    h.take_delivered(s2);
    h.frame(s1, 1, &ping(mac(2), mac(1), ip(1), ip(2)));
    let lldp = |f: &Vec<u8>| f.get(12..14) == Some(&[0x88, 0xcc][..]);
    if h.take_delivered(s2).iter().any(|(_, f)| !lldp(f)) {
        bail!("expected h1 blocked");
    }
    println!("h1 is blocked for 30 s; demo: ok");
    Ok(())
}

/// An ARP request (or, with `to`, a reply) from `src` at `sip` about `tip`.
fn arp(src: [u8; 6], sip: Ipv4Addr, tip: Ipv4Addr, to: Option<[u8; 6]>) -> Vec<u8> {
    let mut f = to.unwrap_or([0xff; 6]).to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[
        0x08,
        0x06,
        0,
        1,
        8,
        0,
        6,
        4,
        0,
        if to.is_some() { 2 } else { 1 },
    ]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&sip.octets());
    f.extend_from_slice(&to.unwrap_or([0; 6]));
    f.extend_from_slice(&tip.octets());
    f.resize(60, 0);
    f
}

/// An ICMP echo request (header checksum filled in).
fn ping(dst: [u8; 6], src: [u8; 6], sip: Ipv4Addr, dip: Ipv4Addr) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0];
    ip.extend_from_slice(&sip.octets());
    ip.extend_from_slice(&dip.octets());
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
    f.resize(60, 0);
    f
}
