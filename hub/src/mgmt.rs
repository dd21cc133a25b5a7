//! Runtime inspection: `flowlab-hub ctl SOCKET show|ports|macs|counters|capture`.
//!
//! The management protocol shares the control socket, so nothing new appears beside it
//! (Netkit counts the sockets named after the control path to decide whether a hub is in
//! use). A management client sends one text line starting with [`MGMT_PREFIX`], which no
//! uml_switch or VDE request can start with (those begin with the 0xfeedface magic or a
//! zero request type), and reads text until the switch closes the connection — or, for
//! `capture`, a pcapng stream until it hangs up.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flowlab_datapath::counters::PortCounters;
use flowlab_datapath::learning::MacTable;

use crate::switch::{fmt_mac, SwitchStats};

/// First bytes of a management request line.
pub const MGMT_PREFIX: &str = "FLOWLAB-CTL ";

/// What the management commands read of a running switch.
#[derive(Debug)]
pub struct View<'a> {
    /// Forwarding mode name.
    pub mode: &'static str,
    /// Time since start.
    pub uptime: Duration,
    /// Milliseconds since start (the MAC table's clock).
    pub now_ms: u64,
    /// Control socket paths.
    pub controls: Vec<&'a Path>,
    /// Ports in number order.
    pub ports: Vec<PortView<'a>>,
    /// The MAC table.
    pub macs: &'a MacTable,
    /// Switch-wide counters.
    pub stats: SwitchStats,
    /// `--max-frame`.
    pub max_frame: usize,
    /// OpenFlow mode: datapath id, connections and agent counters, one line each.
    pub openflow: Vec<String>,
}

/// One port as listed.
#[derive(Debug)]
pub struct PortView<'a> {
    /// Port number.
    pub number: u32,
    /// Kind ("uml", "vde", "tap", "dump", "uml-v0").
    pub kind: &'static str,
    /// Name (kind, description, client pid).
    pub name: &'a str,
    /// The client's data address.
    pub peer: &'a str,
    /// Counters.
    pub counters: PortCounters,
    /// Frames waiting in the output queue.
    pub queued: usize,
}

/// `show`: a summary.
pub fn show(v: &View<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "flowlab-hub {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "pid: {}", std::process::id());
    let _ = writeln!(s, "mode: {}", v.mode);
    for c in &v.controls {
        let _ = writeln!(s, "control socket: {}", c.display());
    }
    let _ = writeln!(s, "uptime: {} s", v.uptime.as_secs());
    let _ = writeln!(s, "ports: {}", v.ports.len());
    let _ = writeln!(
        s,
        "mac table: {} entries (limit {}, aging {} s, {} evictions)",
        v.macs.len(),
        v.macs.limit(),
        v.macs.aging_ms() / 1000,
        v.macs.evictions()
    );
    let _ = writeln!(s, "max frame: {} bytes", v.max_frame);
    for line in &v.openflow {
        let _ = writeln!(s, "openflow: {line}");
    }
    let _ = writeln!(
        s,
        "frames: {} (flooded {}, unicast {}, filtered {}); dropped: {} runts, {} oversize",
        v.stats.frames,
        v.stats.flooded,
        v.stats.unicast,
        v.stats.filtered,
        v.stats.runts,
        v.stats.oversize
    );
    s
}

/// `ports`: one line per port.
pub fn ports(v: &View<'_>) -> String {
    let mut s = String::from("PORT KIND NAME PEER\n");
    for p in &v.ports {
        let _ = writeln!(
            s,
            "{} {} {} {}",
            p.number,
            p.kind,
            p.name.replace(' ', "_"),
            p.peer
        );
    }
    s
}

/// `macs`: one line per live entry, `MAC PORT AGE_SECONDS`, sorted by port then address.
pub fn macs(v: &View<'_>) -> String {
    let mut entries = v.macs.entries(v.now_ms);
    entries.sort_by_key(|e| (e.port, e.mac));
    let mut s = String::from("MAC PORT AGE\n");
    for e in entries {
        let _ = writeln!(s, "{} {} {}", fmt_mac(&e.mac), e.port, e.age_ms / 1000);
    }
    s
}

/// `counters`: per-port counters and the switch-wide ones.
pub fn counters(v: &View<'_>) -> String {
    let mut s = String::from(
        "PORT RX_PACKETS RX_BYTES TX_PACKETS TX_BYTES TX_DROPS RX_ERRORS TX_ERRORS QUEUED\n",
    );
    for p in &v.ports {
        let c = &p.counters;
        let _ = writeln!(
            s,
            "{} {} {} {} {} {} {} {} {}",
            p.number,
            c.rx_packets,
            c.rx_bytes,
            c.tx_packets,
            c.tx_bytes,
            c.tx_drops,
            c.rx_errors,
            c.tx_errors,
            p.queued
        );
    }
    let st = &v.stats;
    let _ = writeln!(
        s,
        "switch frames={} rx_batches={} flooded={} unicast={} filtered={} runts={} oversize={} bad_requests={} ports_created={} ports_removed={} unknown_senders={} mac_entries={} mac_evictions={}",
        st.frames, st.rx_batches, st.flooded, st.unicast, st.filtered, st.runts, st.oversize, st.bad_requests,
        st.ports_created, st.ports_removed, st.unknown_senders, v.macs.len(), v.macs.evictions()
    );
    s
}

/// The control socket behind `socket`: itself, or `socket/ctl` for a VDE directory.
pub fn control_path(socket: &Path) -> PathBuf {
    if socket.is_dir() {
        socket.join("ctl")
    } else {
        socket.to_path_buf()
    }
}

/// Sends a management command; the returned stream carries the answer until EOF.
pub fn request(socket: &Path, command: &[String]) -> io::Result<UnixStream> {
    let path = control_path(socket);
    let mut s = UnixStream::connect(&path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot connect to '{}': {e}", path.display()),
        )
    })?;
    s.write_all(format!("{MGMT_PREFIX}{}\n", command.join(" ")).as_bytes())?;
    Ok(s)
}
