//! Addresses and routes of each machine, read from its files without running anything.
//!
//! This is what `flowlab info --topology` draws. It is best effort by design: a startup
//! file is a shell script and only running it tells the truth. We recognise the forms lab
//! authors actually write, and skip anything else silently:
//!
//! * net-tools: `ifconfig eth0 10.0.0.1 netmask 255.255.255.0 up`, `ifconfig eth0
//!   10.0.0.1/24 up`, `ifconfig eth0:1 ...` (an alias: another address on eth0),
//!   `ifconfig eth0 inet6 add 2001:db8::1/64`; `route add default gw X`, `route add -net N
//!   netmask M gw X`, `route add -net N/L gw X`, `route -A inet6 add ...`.
//! * iproute2, with its abbreviations and options: `ip addr add 10.0.0.1/24 dev eth0`,
//!   `ip address add ...`, `ip -4 a a ...`, `ip -6 addr add 2001:db8::1/64 dev eth0`,
//!   `ip addr del ...`, `ip addr flush dev eth0`; `ip route add default via X`, `ip r a
//!   N/L via X dev eth0`, `ip -6 route add ...`, `replace`/`change`/`append`.
//! * `sudo`, `/sbin/ip`-style paths, `;`/`&&`/`||`/`|` between commands, `#` comments and
//!   `\` continuations are understood. A word with `$` or a backquote is unknown, so a
//!   command that computes its address is skipped.
//! * Here-documents in a startup file (`cat << EOF > /etc/frr/frr.conf`) and the files
//!   `<vm>/etc/frr/frr.conf`, `<vm>/etc/frr/zebra.conf`, `<vm>/etc/quagga/zebra.conf` are
//!   read as zebra configuration: `interface eth0` then ` ip address A/L` or ` ipv6
//!   address A/L`, and top-level `ip route P GW`.
//! * `<vm>/etc/network/interfaces` stanzas (`iface eth0 inet static`, `address`,
//!   `netmask`, `gateway`).
//! * A tap interface gets its `GUEST_ADDR/24` and a default route through `TAP_ADDR` (the
//!   first tap only), as Netkit's boot script configures it.
//!
//! Files are read in the order the guest would apply them (tap, `shared.startup`, the
//! `<vm>/etc` files, `<vm>.startup`); `ifconfig` on an interface replaces its earlier IPv4
//! address, `ip addr add` adds.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::model::Lab;
use super::shellwords;

/// An address on an interface, with its prefix length when the file says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfAddr {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length (`/24`), when known.
    pub prefix_len: Option<u8>,
}

impl fmt::Display for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len {
            Some(l) => write!(f, "{}/{}", self.addr, l),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// A route found in a machine's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The destination prefix; `None` for a default route.
    pub destination: Option<IfAddr>,
    /// The next hop, if any.
    pub gateway: Option<IpAddr>,
    /// The output interface, if named.
    pub device: Option<String>,
}

impl Route {
    /// Whether this is a default route (`default`, `0.0.0.0/0`, `::/0`).
    pub fn is_default(&self) -> bool {
        self.destination.is_none()
    }
}

/// The addresses and routes found for one machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineAddresses {
    /// Addresses by interface name (`eth0`; aliases like `eth0:1` are folded into `eth0`).
    pub interfaces: BTreeMap<String, Vec<IfAddr>>,
    /// Routes in file order.
    pub routes: Vec<Route>,
}

impl MachineAddresses {
    /// The addresses of interface `name` (empty when none were found).
    pub fn addresses(&self, name: &str) -> &[IfAddr] {
        self.interfaces.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The gateways of the default routes.
    pub fn default_gateways(&self) -> Vec<IpAddr> {
        self.routes
            .iter()
            .filter(|r| r.is_default())
            .filter_map(|r| r.gateway)
            .collect()
    }

    fn add(&mut self, ifname: &str, a: IfAddr) {
        let list = self.interfaces.entry(ifname.to_string()).or_default();
        match list.iter_mut().find(|x| x.addr == a.addr) {
            Some(x) => {
                if a.prefix_len.is_some() {
                    x.prefix_len = a.prefix_len;
                }
            }
            None => list.push(a),
        }
    }

    fn remove(&mut self, ifname: &str, addr: IpAddr) {
        if let Some(list) = self.interfaces.get_mut(ifname) {
            list.retain(|x| x.addr != addr);
        }
    }

    fn flush(&mut self, ifname: &str, family: Option<Family>) {
        if let Some(list) = self.interfaces.get_mut(ifname) {
            list.retain(|x| family.is_some_and(|f| !f.matches(x.addr)));
        }
    }

    fn add_route(&mut self, r: Route) {
        if !self.routes.contains(&r) {
            self.routes.push(r);
        }
    }

    /// Reads a shell script (a `.startup` file).
    pub fn parse_script(&mut self, text: &str) {
        let mut lines = text.lines();
        let mut pending = String::new();
        while let Some(line) = lines.next() {
            if let Some(cont) = line.strip_suffix('\\') {
                pending.push_str(cont);
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let full = std::mem::take(&mut pending);
            if let Some((delim, strip_tabs)) = heredoc_delimiter(&full) {
                let mut body = String::new();
                for l in lines.by_ref() {
                    let end = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if end.trim_end() == delim {
                        break;
                    }
                    body.push_str(l);
                    body.push('\n');
                }
                self.parse_zebra(&body);
            }
            for cmd in shellwords::commands(&full) {
                self.command(&cmd);
            }
        }
        if !pending.is_empty() {
            for cmd in shellwords::commands(&pending) {
                self.command(&cmd);
            }
        }
    }

    fn command(&mut self, words: &[String]) {
        let mut w: &[String] = words;
        // Leading `sudo`, `command`, `exec` and VAR=value assignments.
        while let Some(first) = w.first() {
            let base = basename(first);
            if matches!(base, "sudo" | "command" | "exec" | "nohup")
                || (first.contains('=') && !first.starts_with('='))
            {
                w = &w[1..];
            } else {
                break;
            }
        }
        let Some((cmd, args)) = w.split_first() else {
            return;
        };
        if args.iter().any(|a| a.contains(['$', '`'])) {
            return;
        }
        match basename(cmd) {
            "ifconfig" => self.ifconfig(args),
            "ip" => self.ip(args),
            "route" => self.route(args),
            _ => {}
        }
    }

    fn ifconfig(&mut self, args: &[String]) {
        let Some((ifname, rest)) = args.split_first() else {
            return;
        };
        if ifname.starts_with('-') {
            return;
        }
        let (dev, alias) = match ifname.split_once(':') {
            Some((d, _)) => (d, true),
            None => (ifname.as_str(), false),
        };
        let mut i = 0;
        let mut inet6 = false;
        while let Some(t) = rest.get(i).map(String::as_str) {
            match t {
                "inet" => i += 1,
                "inet6" => {
                    inet6 = true;
                    i += 1;
                }
                "add" => {
                    inet6 = true;
                    i += 1;
                }
                _ => break,
            }
        }
        let Some(mut a) = rest.get(i).and_then(|t| parse_ifaddr(t)) else {
            return;
        };
        if a.addr.is_unspecified() {
            return;
        }
        let mut j = i + 1;
        while let Some(t) = rest.get(j).map(String::as_str) {
            if t == "netmask" {
                if let Some(len) = rest.get(j + 1).and_then(|m| mask_len(m)) {
                    a.prefix_len = Some(len);
                }
                j += 1;
            }
            j += 1;
        }
        if !inet6 && a.addr.is_ipv4() && !alias {
            self.flush(dev, Some(Family::V4));
        }
        self.add(dev, a);
    }

    fn ip(&mut self, args: &[String]) {
        let mut family = None;
        let mut i = 0;
        while let Some(t) = args.get(i).map(String::as_str) {
            if !t.starts_with('-') {
                break;
            }
            match t {
                "-4" => family = Some(Family::V4),
                "-6" => family = Some(Family::V6),
                "-f" | "-family" => {
                    family = match args.get(i + 1).map(String::as_str) {
                        Some("inet") => Some(Family::V4),
                        Some("inet6") => Some(Family::V6),
                        _ => family,
                    };
                    i += 1;
                }
                // Another namespace or a batch file: not this machine's plain commands.
                "-n" | "-netns" | "-b" | "-batch" => return,
                _ => {}
            }
            i += 1;
        }
        let Some(object) = args.get(i) else { return };
        let Some(verb) = args.get(i + 1).map(String::as_str) else {
            return;
        };
        let rest = args.get(i + 2..).unwrap_or(&[]);
        if is_abbrev(object, "address", 1) {
            self.ip_addr(verb, rest, family);
        } else if is_abbrev(object, "route", 1)
            && (is_abbrev(verb, "add", 1)
                || matches!(verb, "replace" | "change" | "chg" | "append"))
        {
            self.ip_route(rest);
        }
    }

    fn ip_addr(&mut self, verb: &str, rest: &[String], family: Option<Family>) {
        let mut dev = None;
        let mut addr = None;
        let mut i = 0;
        while let Some(t) = rest.get(i).map(String::as_str) {
            match t {
                "dev" | "label" | "broadcast" | "brd" | "scope" | "peer" | "anycast"
                | "valid_lft" | "preferred_lft" | "metric" | "proto" => {
                    if t == "dev" {
                        dev = rest.get(i + 1).map(String::as_str);
                    }
                    i += 2;
                    continue;
                }
                "local" => {}
                other => {
                    if addr.is_none() {
                        addr = parse_ifaddr(other);
                    }
                }
            }
            i += 1;
        }
        let Some(dev) = dev else { return };
        let dev = dev.split(':').next().unwrap_or(dev);
        if is_abbrev(verb, "add", 1) || matches!(verb, "replace" | "change" | "chg") {
            if let Some(a) = addr {
                self.add(dev, a);
            }
        } else if is_abbrev(verb, "delete", 1) {
            if let Some(a) = addr {
                self.remove(dev, a.addr);
            }
        } else if is_abbrev(verb, "flush", 1) {
            self.flush(dev, family);
        }
    }

    fn ip_route(&mut self, rest: &[String]) {
        let mut dest: Option<Option<IfAddr>> = None;
        let mut gateway = None;
        let mut device = None;
        let mut i = 0;
        while let Some(t) = rest.get(i).map(String::as_str) {
            match t {
                "via" => {
                    let mut g = rest.get(i + 1).map(String::as_str);
                    if matches!(g, Some("inet" | "inet6")) {
                        i += 1;
                        g = rest.get(i + 1).map(String::as_str);
                    }
                    gateway = g.and_then(|g| g.parse::<IpAddr>().ok());
                    i += 2;
                }
                "dev" | "oif" => {
                    device = rest.get(i + 1).cloned();
                    i += 2;
                }
                "metric" | "preference" | "proto" | "table" | "src" | "scope" | "mtu"
                | "advmss" | "realm" | "realms" | "type" | "nexthop" | "weight" => i += 2,
                "default" if dest.is_none() => {
                    dest = Some(None);
                    i += 1;
                }
                "unicast" | "onlink" => i += 1,
                other => {
                    if dest.is_none() {
                        dest = parse_ifaddr(other).map(host_or_default);
                    }
                    i += 1;
                }
            }
        }
        if let Some(destination) = dest {
            if gateway.is_some() || device.is_some() {
                self.add_route(Route {
                    destination,
                    gateway,
                    device,
                });
            }
        }
    }

    fn route(&mut self, args: &[String]) {
        let mut i = 0;
        while let Some(t) = args.get(i).map(String::as_str) {
            match t {
                "-A" => i += 2,
                "add" => break,
                _ if t.starts_with('-') => i += 1,
                _ => return,
            }
        }
        if args.get(i).map(String::as_str) != Some("add") {
            return;
        }
        i += 1;
        let mut dest: Option<Option<IfAddr>> = None;
        let mut gateway = None;
        let mut device = None;
        let mut netmask = None;
        while let Some(t) = args.get(i).map(String::as_str) {
            match t {
                "-net" | "-host" => i += 1,
                "default" if dest.is_none() => {
                    dest = Some(None);
                    i += 1;
                }
                "gw" => {
                    gateway = args.get(i + 1).and_then(|g| g.parse::<IpAddr>().ok());
                    i += 2;
                }
                "netmask" => {
                    netmask = args.get(i + 1).and_then(|m| mask_len(m));
                    i += 2;
                }
                "dev" => {
                    device = args.get(i + 1).cloned();
                    i += 2;
                }
                "metric" | "mss" | "window" | "irtt" => i += 2,
                "reject" | "mod" | "dyn" | "reinstate" => i += 1,
                other => {
                    if dest.is_none() {
                        dest = parse_ifaddr(other).map(Some);
                    } else if device.is_none() && !other.contains(['.', ':']) {
                        device = Some(other.to_string());
                    }
                    i += 1;
                }
            }
        }
        let Some(mut destination) = dest else { return };
        if let (Some(d), Some(len)) = (destination.as_mut(), netmask) {
            if d.prefix_len.is_none() {
                d.prefix_len = Some(len);
            }
        }
        let destination = destination.and_then(host_or_default);
        if gateway.is_some() || device.is_some() {
            self.add_route(Route {
                destination,
                gateway,
                device,
            });
        }
    }

    /// Reads zebra-style configuration (`frr.conf`, `zebra.conf`).
    pub fn parse_zebra(&mut self, text: &str) {
        let mut iface: Option<String> = None;
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('!') || t.starts_with('#') {
                if t.starts_with('!') {
                    iface = None;
                }
                continue;
            }
            let words: Vec<&str> = t.split_whitespace().collect();
            let indented = line.starts_with([' ', '\t']);
            match words.as_slice() {
                ["interface", name, ..] => iface = Some(name.to_string()),
                ["ip" | "ipv6", "address", a, ..] if indented || iface.is_some() => {
                    if let (Some(dev), Some(a)) = (&iface, parse_ifaddr(a)) {
                        let dev = dev.clone();
                        self.add(&dev, a);
                    }
                }
                ["ip" | "ipv6", "route", p, gw, ..] if !indented => {
                    if let Some(p) = parse_ifaddr(p) {
                        let (gateway, device) = match gw.parse::<IpAddr>() {
                            Ok(g) => (Some(g), None),
                            Err(_) => (None, Some(gw.to_string())),
                        };
                        self.add_route(Route {
                            destination: host_or_default(p),
                            gateway,
                            device,
                        });
                    }
                    iface = None;
                }
                _ => {
                    if !indented {
                        iface = None;
                    }
                }
            }
        }
    }

    /// Reads a Debian `/etc/network/interfaces` file (static stanzas).
    pub fn parse_interfaces_file(&mut self, text: &str) {
        struct Stanza {
            dev: String,
            addr: Option<IfAddr>,
            netmask: Option<u8>,
            gateway: Option<IpAddr>,
        }
        let mut cur: Option<Stanza> = None;
        let mut done: Vec<Stanza> = Vec::new();
        for line in text.lines() {
            let words: Vec<&str> = line
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            match words.as_slice() {
                ["iface", dev, "inet" | "inet6", "static", ..] => {
                    done.extend(cur.take());
                    cur = Some(Stanza {
                        dev: dev.to_string(),
                        addr: None,
                        netmask: None,
                        gateway: None,
                    });
                }
                ["iface" | "auto" | "allow-hotplug" | "mapping" | "source", ..] => {
                    done.extend(cur.take());
                }
                ["address", a, ..] => {
                    if let Some(s) = cur.as_mut() {
                        s.addr = parse_ifaddr(a);
                    }
                }
                ["netmask", m, ..] => {
                    if let Some(s) = cur.as_mut() {
                        s.netmask = mask_len(m).or_else(|| m.parse().ok());
                    }
                }
                ["gateway", g, ..] => {
                    if let Some(s) = cur.as_mut() {
                        s.gateway = g.parse().ok();
                    }
                }
                _ => {}
            }
        }
        done.extend(cur);
        for s in done {
            if let Some(mut a) = s.addr {
                if a.prefix_len.is_none() {
                    a.prefix_len = s.netmask;
                }
                self.add(&s.dev, a);
            }
            if let Some(g) = s.gateway {
                self.add_route(Route {
                    destination: None,
                    gateway: Some(g),
                    device: Some(s.dev.clone()),
                });
            }
        }
    }
}

/// What the topology picture shows for every machine of a lab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    /// By machine name.
    pub machines: BTreeMap<String, MachineAddresses>,
}

impl Addresses {
    /// Reads the files of every machine of `lab` (see the module documentation). Files
    /// that are missing or unreadable are skipped: this never fails.
    pub fn collect(lab: &Lab) -> Addresses {
        let read = |p: &Path| {
            fs::read(p)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let shared = lab.shared_startup.as_deref().and_then(read);
        let mut out = Addresses::default();
        for m in &lab.machines {
            let mut ma = MachineAddresses::default();
            let mut first_tap = true;
            for i in &m.interfaces {
                if let Some(tap) = i.tap {
                    ma.add(
                        &i.name(),
                        IfAddr {
                            addr: IpAddr::V4(tap.guest_addr),
                            prefix_len: Some(24),
                        },
                    );
                    if first_tap {
                        ma.add_route(Route {
                            destination: None,
                            gateway: Some(IpAddr::V4(tap.tap_addr)),
                            device: None,
                        });
                        first_tap = false;
                    }
                }
            }
            if let Some(s) = &shared {
                ma.parse_script(s);
            }
            if let Some(dir) = &m.dir {
                if let Some(t) = read(&dir.join("etc/network/interfaces")) {
                    ma.parse_interfaces_file(&t);
                }
                for f in [
                    "etc/frr/frr.conf",
                    "etc/frr/zebra.conf",
                    "etc/quagga/zebra.conf",
                ] {
                    if let Some(t) = read(&dir.join(f)) {
                        ma.parse_zebra(&t);
                    }
                }
            }
            if let Some(t) = m.startup.as_deref().and_then(read) {
                ma.parse_script(&t);
            }
            out.machines.insert(m.name.clone(), ma);
        }
        out
    }

    /// The addresses found for `machine`'s interface `ifname` (empty when none).
    pub fn interface(&self, machine: &str, ifname: &str) -> &[IfAddr] {
        self.machines
            .get(machine)
            .map(|m| m.addresses(ifname))
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn matches(self, a: IpAddr) -> bool {
        matches!(
            (self, a),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        )
    }
}

/// The delimiter of a here-document started on `line` (`<< EOF`, `<<-'EOF'`), and
/// whether leading tabs are stripped (`<<-`).
fn heredoc_delimiter(line: &str) -> Option<(String, bool)> {
    if line.trim_start().starts_with('#') {
        return None;
    }
    let pos = line.find("<<")?;
    let rest = &line[pos + 2..];
    if rest.starts_with('<') {
        return None; // a here-string
    }
    let (rest, strip_tabs) = match rest.strip_prefix('-') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let rest = rest.trim_start().trim_start_matches(['\'', '"', '\\']);
    let delim: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!delim.is_empty()).then_some((delim, strip_tabs))
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Whether `word` is a non-empty abbreviation of `full` at least `min` long (iproute2's
/// `matches()`).
fn is_abbrev(word: &str, full: &str, min: usize) -> bool {
    word.len() >= min && full.starts_with(word)
}

/// `A`, `A/L`.
fn parse_ifaddr(t: &str) -> Option<IfAddr> {
    let (a, len) = match t.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (t, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if len.is_some_and(|l| l > max) {
        return None;
    }
    Some(IfAddr {
        addr,
        prefix_len: len,
    })
}

/// `0.0.0.0/0` and `::/0` are default routes.
fn host_or_default(a: IfAddr) -> Option<IfAddr> {
    if a.prefix_len == Some(0) || (a.addr.is_unspecified() && a.prefix_len.is_none()) {
        None
    } else {
        Some(a)
    }
}

/// The prefix length of a dotted netmask (`255.255.255.0` → 24); `None` if not contiguous.
fn mask_len(m: &str) -> Option<u8> {
    let mask: Ipv4Addr = m.parse().ok()?;
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::testutil;

    fn script(text: &str) -> MachineAddresses {
        let mut m = MachineAddresses::default();
        m.parse_script(text);
        m
    }

    fn a(s: &str) -> IfAddr {
        parse_ifaddr(s).unwrap()
    }

    fn strs(v: &[IfAddr]) -> Vec<String> {
        v.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn ifconfig_forms() {
        let m = script(
            "ifconfig eth0 10.0.0.1 netmask 255.255.255.0 up\n\
             ifconfig eth1 10.0.1.1/24 up   # second leg\n\
             /sbin/ifconfig eth2 inet 10.0.2.1 netmask 255.255.0.0 broadcast 10.0.255.255 up\n\
             ifconfig eth0:1 192.0.2.1 netmask 255.255.255.255\n\
             ifconfig eth3 inet6 add 2001:db8::3/64\n\
             ifconfig eth4 up\n\
             ifconfig eth5 $ADDR up\n",
        );
        assert_eq!(strs(m.addresses("eth0")), ["10.0.0.1/24", "192.0.2.1/32"]);
        assert_eq!(strs(m.addresses("eth1")), ["10.0.1.1/24"]);
        assert_eq!(strs(m.addresses("eth2")), ["10.0.2.1/16"]);
        assert_eq!(strs(m.addresses("eth3")), ["2001:db8::3/64"]);
        assert!(m.addresses("eth4").is_empty());
        assert!(m.addresses("eth5").is_empty());
        // ifconfig replaces the primary IPv4 address.
        let m = script("ifconfig eth0 10.0.0.1/24\nifconfig eth0 10.0.0.9/24\n");
        assert_eq!(strs(m.addresses("eth0")), ["10.0.0.9/24"]);
    }

    #[test]
    fn iproute2_forms() {
        let m = script(
            "ip addr add 10.0.0.1/24 dev eth0\n\
             ip address add 10.0.1.1/24 brd + dev eth1\n\
             ip -4 a a 10.0.2.1/24 dev eth2 && ip link set eth2 up\n\
             sudo ip -6 addr add 2001:db8::1/64 dev eth0\n\
             ip addr add dev eth3 local 10.0.3.1/30\n\
             ip -family inet6 address add fd00::3/64 dev eth3\n\
             ip a add 10.9.9.9/24 dev eth4; ip addr del 10.9.9.9/24 dev eth4\n\
             ip addr add 10.8.8.8/24 dev eth5\n\
             ip -4 addr flush dev eth5\n\
             ip netns exec x ip addr add 10.7.7.7/24 dev eth6\n\
             ip -n other addr add 10.6.6.6/24 dev eth7\n",
        );
        assert_eq!(strs(m.addresses("eth0")), ["10.0.0.1/24", "2001:db8::1/64"]);
        assert_eq!(strs(m.addresses("eth1")), ["10.0.1.1/24"]);
        assert_eq!(strs(m.addresses("eth2")), ["10.0.2.1/24"]);
        assert_eq!(strs(m.addresses("eth3")), ["10.0.3.1/30", "fd00::3/64"]);
        assert!(m.addresses("eth4").is_empty(), "deleted");
        assert!(m.addresses("eth5").is_empty(), "flushed");
        assert!(m.addresses("eth7").is_empty(), "another namespace");
    }

    #[test]
    fn routes() {
        let m = script(
            "route add default gw 10.0.0.254\n\
             route add -net 10.1.0.0 netmask 255.255.0.0 gw 10.0.0.2 dev eth0\n\
             route add -net 10.2.0.0/16 gw 10.0.0.3\n\
             route -A inet6 add default gw 2001:db8::ff\n\
             route add -net 0.0.0.0 netmask 0.0.0.0 gw 10.0.0.253\n\
             route -n\n\
             ip route add default via 10.0.0.252\n\
             ip r a 10.3.0.0/16 via 10.0.0.4 dev eth0 metric 5\n\
             ip -6 route add ::/0 via fe80::1 dev eth1\n\
             ip route add 10.4.0.0/16 dev eth1\n\
             ip route show\n",
        );
        let gws: Vec<String> = m.default_gateways().iter().map(|g| g.to_string()).collect();
        assert_eq!(
            gws,
            [
                "10.0.0.254",
                "2001:db8::ff",
                "10.0.0.253",
                "10.0.0.252",
                "fe80::1"
            ]
        );
        let r = &m.routes[1];
        assert_eq!(r.destination, Some(a("10.1.0.0/16")));
        assert_eq!(r.gateway, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(r.device.as_deref(), Some("eth0"));
        assert_eq!(m.routes[2].destination, Some(a("10.2.0.0/16")));
        assert!(m.routes.iter().any(
            |r| r.destination == Some(a("10.3.0.0/16")) && r.device.as_deref() == Some("eth0")
        ));
        assert!(m
            .routes
            .iter()
            .any(|r| r.destination == Some(a("10.4.0.0/16")) && r.gateway.is_none()));
        assert_eq!(m.routes.len(), 9);
    }

    #[test]
    fn comments_continuations_and_heredocs() {
        let m = script(
            "# ifconfig eth0 10.0.0.1/24 up\n\
             echo ifconfig eth9 10.9.9.9/24\n\
             ip addr add \\\n  10.0.0.2/24 dev eth0\n\
             cat << EOF > /etc/frr/frr.conf\n\
             interface eth1\n ip address 10.0.1.2/24\n ipv6 address 2001:db8:1::2/64\n!\n\
             ip route 0.0.0.0/0 10.0.1.254\n\
             EOF\n\
             systemctl start frr\n",
        );
        assert_eq!(strs(m.addresses("eth0")), ["10.0.0.2/24"]);
        assert_eq!(
            strs(m.addresses("eth1")),
            ["10.0.1.2/24", "2001:db8:1::2/64"]
        );
        assert!(
            m.addresses("eth9").is_empty(),
            "an echo is not a command we read"
        );
        assert_eq!(
            m.default_gateways(),
            ["10.0.1.254".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn interfaces_file() {
        let mut m = MachineAddresses::default();
        m.parse_interfaces_file(
            "auto eth0\niface eth0 inet static\n  address 10.0.0.5\n  netmask 255.255.255.0\n  \
             gateway 10.0.0.1\n\niface eth1 inet6 static\n  address 2001:db8::5/64\n\
             iface eth2 inet dhcp\n  address 10.9.9.9\n",
        );
        assert_eq!(strs(m.addresses("eth0")), ["10.0.0.5/24"]);
        assert_eq!(strs(m.addresses("eth1")), ["2001:db8::5/64"]);
        assert!(m.addresses("eth2").is_empty());
        assert_eq!(
            m.default_gateways(),
            ["10.0.0.1".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(mask_len("255.255.255.0"), Some(24));
        assert_eq!(mask_len("255.255.255.255"), Some(32));
        assert_eq!(mask_len("0.0.0.0"), Some(0));
        assert_eq!(mask_len("255.0.255.0"), None);
        assert_eq!(parse_ifaddr("10.0.0.1/33"), None);
        assert_eq!(parse_ifaddr("10.0.0.1/x"), None);
        assert!(is_abbrev("a", "address", 1) && is_abbrev("addr", "address", 1));
        assert!(!is_abbrev("addrx", "address", 1) && !is_abbrev("", "address", 1));
    }

    #[test]
    fn collect_from_lab_folders() {
        let t = testutil::static_routes_lab();
        let (lab, _) = Lab::load(t.path(), None).unwrap();
        let ad = Addresses::collect(&lab);
        assert_eq!(strs(ad.interface("r1", "eth0")), ["10.0.1.1/24"]);
        assert_eq!(strs(ad.interface("r2", "eth0")), ["10.0.1.2/24"]);
        assert_eq!(strs(ad.interface("r2", "eth1")), ["10.0.2.2/24"]);
        assert_eq!(strs(ad.interface("r3", "eth0")), ["10.0.2.3/24"]);
        assert_eq!(
            ad.machines["r3"].default_gateways(),
            ["10.0.2.2".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            ad.machines["r1"].routes[0].destination,
            Some(a("10.0.2.0/24"))
        );

        let t = testutil::kathara_frr_lab();
        let (lab, _) = Lab::load(t.path(), None).unwrap();
        let ad = Addresses::collect(&lab);
        assert_eq!(strs(ad.interface("router1", "eth0")), ["10.0.0.1/24"]);
        // frr.conf from the machine folder, then the startup file.
        assert_eq!(
            strs(ad.interface("router1", "eth1")),
            ["203.0.113.1/24", "2001:db8::1/64"]
        );
        assert_eq!(strs(ad.interface("router2", "eth0")), ["10.0.0.2/24"]);
        assert!(ad.interface("ws", "eth0").is_empty());

        let t = testutil::two_host_lab();
        t.file(
            "lab.conf",
            "pc1[0]=A\npc2[0]=A\npc2[1]=tap,192.0.2.1,192.0.2.2\n",
        );
        let (lab, _) = Lab::load(t.path(), None).unwrap();
        let ad = Addresses::collect(&lab);
        assert_eq!(strs(ad.interface("pc2", "eth1")), ["192.0.2.2/24"]);
        assert_eq!(
            ad.machines["pc2"].default_gateways(),
            ["192.0.2.1".parse::<IpAddr>().unwrap()]
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_scripts_never_panic(text in ".{0,300}") {
            let mut m = MachineAddresses::default();
            m.parse_script(&text);
            m.parse_zebra(&text);
            m.parse_interfaces_file(&text);
        }

        #[test]
        fn command_like_scripts_never_panic(
            words in proptest::collection::vec(
                "(ip|ifconfig|route|-4|-6|a|addr|add|del|flush|r|default|via|gw|dev|eth0|netmask|255.255.0.0|10.0.0.1/24|::1/64|-net|-A|inet6|local|;|\\\\|<<|EOF|\n)",
                0..20,
            )
        ) {
            let mut m = MachineAddresses::default();
            m.parse_script(&words.join(" "));
        }
    }
}
