//! Counters read as text: a guest's `/proc/net/dev` and `/proc/net/snmp`, the `key=value`
//! lines the bench's guest scripts print, flowlab-hub's `ctl counters`, uml_switch's log.
//! All sans-IO: text in, numbers out, nothing panics on odd input.

/// One interface's line of `/proc/net/dev`, the fields used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetDev {
    /// Received bytes.
    pub rx_bytes: u64,
    /// Received packets.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Sent bytes.
    pub tx_bytes: u64,
    /// Sent packets.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Packets dropped on send (UML: the switch's socket refused them, EAGAIN).
    pub tx_dropped: u64,
}

impl NetDev {
    /// The line of `dev` in the text of `/proc/net/dev` (other text around it is ignored).
    pub fn parse(text: &str, dev: &str) -> Option<NetDev> {
        let prefix = format!("{dev}:");
        let line = text.lines().find(|l| l.trim_start().starts_with(&prefix))?;
        let rest = line.trim_start().get(prefix.len()..)?;
        let v: Vec<u64> = rest
            .split_whitespace()
            .map(|w| w.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        if v.len() < 12 {
            return None;
        }
        Some(NetDev {
            rx_bytes: v[0],
            rx_packets: v[1],
            rx_errors: v[2],
            rx_dropped: v[3],
            tx_bytes: v[8],
            tx_packets: v[9],
            tx_errors: v[10],
            tx_dropped: v[11],
        })
    }

    /// Field-wise `self - earlier` (0 where a counter went backwards).
    pub fn since(&self, earlier: &NetDev) -> NetDev {
        NetDev {
            rx_bytes: self.rx_bytes.saturating_sub(earlier.rx_bytes),
            rx_packets: self.rx_packets.saturating_sub(earlier.rx_packets),
            rx_errors: self.rx_errors.saturating_sub(earlier.rx_errors),
            rx_dropped: self.rx_dropped.saturating_sub(earlier.rx_dropped),
            tx_bytes: self.tx_bytes.saturating_sub(earlier.tx_bytes),
            tx_packets: self.tx_packets.saturating_sub(earlier.tx_packets),
            tx_errors: self.tx_errors.saturating_sub(earlier.tx_errors),
            tx_dropped: self.tx_dropped.saturating_sub(earlier.tx_dropped),
        }
    }
}

/// A counter of one `/proc/net/snmp` protocol (`Tcp`, `RetransSegs`): the header line and
/// the value line both start with `Proto:`.
pub fn snmp_counter(text: &str, proto: &str, name: &str) -> Option<u64> {
    let prefix = format!("{proto}:");
    let mut lines = text.lines().filter(|l| l.starts_with(&prefix));
    let header = lines.next()?;
    let values = lines.next()?;
    let col = header.split_whitespace().position(|w| w == name)?;
    values.split_whitespace().nth(col)?.parse().ok()
}

/// The value of the first `key=VALUE` line for `key` (surrounding blanks trimmed).
pub fn key_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.trim().split_once('=')?;
        (k == key).then_some(v.trim())
    })
}

/// The first field of `/proc/uptime` as printed in a `key=...` line: seconds.
pub fn key_secs(text: &str, key: &str) -> Option<f64> {
    let v: f64 = key_value(text, key)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    v.is_finite().then_some(v)
}

/// What flowlab-hub's `ctl counters` says about drops and errors, summed over the ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubCounters {
    /// Ports listed.
    pub ports: u64,
    /// Frames received, all ports.
    pub rx_packets: u64,
    /// Frames sent, all ports.
    pub tx_packets: u64,
    /// Frames dropped on output, all ports.
    pub tx_drops: u64,
    /// Receive errors, all ports.
    pub rx_errors: u64,
    /// Send errors, all ports.
    pub tx_errors: u64,
    /// Frames dropped as too short.
    pub runts: u64,
    /// Frames dropped as too long.
    pub oversize: u64,
}

impl HubCounters {
    /// Parses the `counters` answer: a header, one line of nine numbers per port, then
    /// `switch key=value ...`.
    pub fn parse(text: &str) -> Option<HubCounters> {
        let mut lines = text.lines();
        let header = lines.next()?;
        if !header.starts_with("PORT ") {
            return None;
        }
        let mut c = HubCounters::default();
        let mut saw_switch = false;
        for line in lines {
            if let Some(rest) = line.strip_prefix("switch ") {
                saw_switch = true;
                for kv in rest.split_whitespace() {
                    let Some((k, v)) = kv.split_once('=') else {
                        continue;
                    };
                    let Ok(v) = v.parse::<u64>() else { continue };
                    match k {
                        "runts" => c.runts = v,
                        "oversize" => c.oversize = v,
                        _ => {}
                    }
                }
                continue;
            }
            let v: Vec<u64> = line
                .split_whitespace()
                .map(|w| w.parse().ok())
                .collect::<Option<Vec<u64>>>()?;
            if v.len() < 8 {
                return None;
            }
            c.ports += 1;
            c.rx_packets += v[1];
            c.tx_packets += v[3];
            c.tx_drops += v[5];
            c.rx_errors += v[6];
            c.tx_errors += v[7];
        }
        saw_switch.then_some(c)
    }

    /// Every frame the switch dropped or failed on.
    pub fn drops(&self) -> u64 {
        self.tx_drops + self.rx_errors + self.tx_errors + self.runts + self.oversize
    }
}

/// uml_switch logs one `send_sock sending to fd N ...` line per frame a receiver's full
/// socket refused (non-blocking `sendto`, EAGAIN): the frame is lost.
pub fn uml_switch_drops(log: &str) -> u64 {
    log.lines().filter(|l| l.contains("send_sock")).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0       0          0
  eth0:105000000   72000    1    2    0     0          0         0  4200000   70000    3   417    0     0       0          0
";

    #[test]
    fn net_dev_lines() {
        let e = NetDev::parse(NET_DEV, "eth0").unwrap();
        assert_eq!(e.rx_bytes, 105_000_000);
        assert_eq!((e.rx_packets, e.rx_errors, e.rx_dropped), (72_000, 1, 2));
        assert_eq!((e.tx_packets, e.tx_errors, e.tx_dropped), (70_000, 3, 417));
        let lo = NetDev::parse(NET_DEV, "lo").unwrap();
        assert_eq!(lo.tx_bytes, 120);
        assert_eq!(e.since(&lo).rx_packets, 71_998);
        assert_eq!(lo.since(&e).rx_packets, 0);
        assert_eq!(NetDev::parse(NET_DEV, "eth1"), None);
        assert_eq!(NetDev::parse("  eth0: 1 2 3\n", "eth0"), None);
        assert_eq!(
            NetDev::parse("  eth0: 1 2 x 4 5 6 7 8 9 10 11 12\n", "eth0"),
            None
        );
    }

    #[test]
    fn snmp_and_key_values() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin \
                    RetransSegs InErrs\nTcp: 1 200 37 0\nUdp: InDatagrams\nUdp: 5\n";
        assert_eq!(snmp_counter(snmp, "Tcp", "RetransSegs"), Some(37));
        assert_eq!(snmp_counter(snmp, "Udp", "InDatagrams"), Some(5));
        assert_eq!(snmp_counter(snmp, "Tcp", "Nope"), None);
        assert_eq!(snmp_counter("Tcp: A B\n", "Tcp", "A"), None);

        let out = "noise\nstart=12.34 56.78\nbytes= 104857600 \nend=15.00 60.00\n";
        assert_eq!(key_value(out, "bytes"), Some("104857600"));
        assert_eq!(key_secs(out, "start"), Some(12.34));
        assert_eq!(key_secs(out, "end"), Some(15.0));
        assert_eq!(key_secs(out, "bytes"), Some(104_857_600.0));
        assert_eq!(key_value(out, "missing"), None);
        assert_eq!(key_secs("start=x\n", "start"), None);
    }

    #[test]
    fn hub_counters() {
        let text = "\
PORT RX_PACKETS RX_BYTES TX_PACKETS TX_BYTES TX_DROPS RX_ERRORS TX_ERRORS QUEUED
1 72000 4200000 80000 105000000 0 0 0 0
2 80000 105000000 72000 4200000 5 1 2 0
switch frames=152000 rx_batches=9000 flooded=4 unicast=151996 filtered=0 runts=3 oversize=4 bad_requests=0
";
        let c = HubCounters::parse(text).unwrap();
        assert_eq!(c.ports, 2);
        assert_eq!((c.rx_packets, c.tx_packets), (152_000, 152_000));
        assert_eq!((c.tx_drops, c.rx_errors, c.tx_errors), (5, 1, 2));
        assert_eq!((c.runts, c.oversize), (3, 4));
        assert_eq!(c.drops(), 15);
        assert_eq!(HubCounters::parse("error: no such command\n"), None);
        assert_eq!(
            HubCounters::parse("PORT RX\n1 2 3\nswitch frames=1\n"),
            None,
            "a short port line"
        );
        assert_eq!(HubCounters::parse("PORT RX\n"), None, "no switch line");
    }

    #[test]
    fn uml_switch_log() {
        let log = "uml_switch attached to unix socket '/tmp/x'\nNew connection\n\
                   send_sock sending to fd 4 Resource temporarily unavailable\n\
                   send_sock sending to fd 5 Resource temporarily unavailable\nDisconnect\n";
        assert_eq!(uml_switch_drops(log), 2);
        assert_eq!(uml_switch_drops(""), 0);
    }
}
