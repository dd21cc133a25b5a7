//! `acl`: a TOML policy over names and addresses, compiled into flows, reloadable.
//!
//! ```toml
//! default = "allow"            # or "deny"
//! [[rule]]
//! action = "deny"              # allow | deny
//! src = "h1"                   # a name, an IPv4 address or CIDR, a MAC, or "any"
//! dst = "198.51.100.0/24"
//! proto = "tcp"                # icmp | tcp | udp | any (the default)
//! dst_port = 22                # tcp and udp only
//! ```
//!
//! # What the policy means
//!
//! Rules are IPv4 rules, read in order: the first rule whose selectors, protocol and
//! port all match an IPv4 packet decides it; a packet no rule matches gets the default,
//! and so does every packet that is not IPv4 — except ARP and LLDP, which always pass, so
//! that addresses can be resolved and links discovered whatever the policy says. A MAC
//! selector matches the Ethernet address (of an IPv4 packet). A name is resolved through
//! the network view (DNS answers and DHCP host names the `hosts` app binds); a rule with
//! a name that is not bound yet matches nothing — it is skipped both in the switches and
//! at packet-ins — until a `NameBound` (or a host event) makes it resolvable, then the
//! policy is compiled again. So an unbound name in a deny rule denies nothing yet, and in
//! an allow rule allows nothing yet (under default deny: fails closed).
//!
//! # How it is enforced: flows in fixed bands, and the packet-ins that escape them
//!
//! The policy is compiled into the same set of flows on every switch, all with cookies
//! tagged [`COOKIE_TAG`], at fixed priorities that `routing` (whose configuration refuses
//! path priorities inside them, see [`routing::PAIR_PRIORITIES`]) builds around:
//!
//! ```text
//!  0x9000..=0xefff  routing's microflow paths     above the rules
//!  0x8000..=0x8fff  the rule band                 rule i at BAND_TOP - i
//!  0x7001           PASS_PRIORITY                 default deny: to the controller
//!  0x7000           FLOOR_PRIORITY                default deny: drop everything else
//!  1..=0x6fff       routing's pair paths          below every ACL flow
//! ```
//!
//! * rule *i* (counting from 0) becomes one flow at priority [`BAND_TOP`]` - i`; a deny
//!   rule drops, an allow rule *that a later deny rule overlaps* outputs to the
//!   controller (it is a hole in that deny rule, which the switch must not apply to it;
//!   rules overlap unless their addresses, MACs, protocols or ports are disjoint, and a
//!   MAC against an address counts as overlapping). Rules whose names are unbound get no
//!   flow, and make no hole.
//! * `default = "deny"` adds a drop-all floor at [`FLOOR_PRIORITY`], and at
//!   [`PASS_PRIORITY`] flows sending ARP, LLDP and every allow rule's packets to the
//!   controller. Both lie above every pair path, below the rule band.
//!
//! A packet-in sent by one of these explicit controller outputs carries the reason
//! `OFPR_ACTION`, and `routing` answers such packet-ins with a *microflow* path (the
//! packet's addresses, protocol and ports) above the band. So: traffic under a deny rule
//! is dropped in the first switch, even between hosts that have a pair path; traffic in
//! an allow hole, and under default deny all allowed traffic, reaches the controller once
//! per microflow, is checked here, and gets a path that carries that microflow and
//! nothing else; everything else is routed by pairs as without an ACL. A pair path can
//! never carry denied traffic, whenever it was set up: the deny flows and the floor lie
//! above it.
//!
//! The switches are the fast path, the packet-in check the backstop: `acl` handles
//! packet-ins before `routing` (priority 700 against 500) and stops those the policy
//! denies, whatever let them reach the controller (a flow not installed yet, a switch
//! that just joined). The check resolves no name per packet: the rules' names are
//! resolved once per change of the network view.
//!
//! # Policy changes
//!
//! The policy is a file (`[acl] policy = "path"`) and the rules inline in the
//! configuration, inline rules first. Every tick the file's modification time and size
//! are compared with the loaded version; a changed file is read only once two
//! consecutive ticks have found the same (time, size), so a file caught half-written is
//! not loaded unless its writer paused for a whole tick (write it elsewhere and rename
//! it over the policy: a rename is atomic, and leaves nothing half-written to see). A
//! file that does not parse (unknown key, bad selector, `dst_port` without `tcp` or
//! `udp`) keeps the previous policy in force, and the error, naming the file and the
//! rule, is logged once. A good file is compiled, and each switch gets the difference:
//! the flows of the old set that the new one lacks are deleted by strict match, the new
//! ones added. A switch that joins first loses any flow carrying the ACL's cookie (1.3,
//! by cookie mask: leftovers of an earlier controller) and then gets the whole set.
//!
//! A microflow path was checked against the policy it was set up under, and lies above
//! the band: when the policy changes (a reload that changes it, or a name binding that
//! changes the compiled flows), the ACL deletes routing's microflow paths on every
//! switch — by cookie ([`routing::MICROFLOW_COOKIE`]) on 1.3; on 1.0, which has no
//! cookie filter for deletes, every flow that outputs to one of the switch's ports (so
//! other apps' forwarding flows go too, and are set up again on demand). Routing's flows
//! ask for flow-removed messages, so routing forgets those paths as the messages arrive;
//! the next packet of each connection is checked again. Pair paths need no such care.
//!
//! [`Acl::load`], which the controller uses, refuses a policy that cannot be loaded, so
//! the controller does not start with one. [`Acl::new`] (for embedding) instead logs it
//! and starts failing closed: only ARP and LLDP pass until a good file appears.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use flowlab_datapath::key::FlowKey;
use flowlab_openflow::model::{
    Action, FlowMod, FlowModCommand, Match, Message, OxmField, OxmId, PacketOut, PortNo, TABLE_ALL,
};
use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Flow, Registrar};
use crate::apps::routing;
use crate::event::{Event, EventKind, PacketInEvent};
use crate::netview::NetworkView;
use crate::switch_conn::OFP13;
use crate::view::DatapathId;

pub use crate::apps::routing::{L2_FLOW_PRIORITY, L4_FLOW_PRIORITY};

/// The top 16 bits of the cookie of every ACL flow ("AC").
pub const COOKIE_TAG: u64 = 0x4143;

/// The mask selecting [`COOKIE_TAG`] in a cookie.
pub const COOKIE_MASK: u64 = 0xffff << 48;

/// Priority of rule 0's flow; rule *i* gets `BAND_TOP - i`.
pub const BAND_TOP: u16 = 0x8fff;

/// The most rules a policy may have (the band's width).
pub const MAX_RULES: usize = 0x1000;

/// Priority of the last rule the band holds.
pub const BAND_BOTTOM: u16 = BAND_TOP - (MAX_RULES as u16 - 1);

/// Priority of the default-deny floor: above every pair path of `routing` (which lie
/// below it, see [`routing::PAIR_PRIORITIES`]), below the rule band.
pub const FLOOR_PRIORITY: u16 = 0x7000;

/// Priority of the flows that let ARP, LLDP and allowed packets through the floor to the
/// controller.
pub const PASS_PRIORITY: u16 = FLOOR_PRIORITY + 1;

// The bands, in order: pair paths, floor, pass, rules, microflow paths.
const _: () = assert!(
    *routing::PAIR_PRIORITIES.end() < FLOOR_PRIORITY
        && PASS_PRIORITY < BAND_BOTTOM
        && BAND_TOP < *routing::MICROFLOW_PRIORITIES.start()
);

const ETH_TYPE_IPV4: u16 = 0x0800;
const ETH_TYPE_ARP: u16 = 0x0806;
const ETH_TYPE_LLDP: u16 = 0x88cc;

/// What a rule, or the default, does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Let the packet through.
    Allow,
    /// Drop it.
    Deny,
}

/// A rule's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// Any IPv4 protocol.
    #[default]
    Any,
    /// ICMP (1).
    Icmp,
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
}

impl Proto {
    fn number(self) -> Option<u8> {
        match self {
            Proto::Any => None,
            Proto::Icmp => Some(1),
            Proto::Tcp => Some(6),
            Proto::Udp => Some(17),
        }
    }
}

fn any() -> String {
    "any".into()
}

/// A rule as written (in the policy file or the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `allow` or `deny`.
    pub action: Verdict,
    /// The source: a name, an IPv4 address or CIDR, a MAC, or `any` (the default).
    #[serde(default = "any")]
    pub src: String,
    /// The destination, as `src`.
    #[serde(default = "any")]
    pub dst: String,
    /// The protocol (default any).
    #[serde(default)]
    pub proto: Proto,
    /// The TCP or UDP destination port.
    #[serde(default)]
    pub dst_port: Option<u16>,
}

/// `[acl]` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AclConfig {
    /// Handler priority for packet-ins (above `routing`).
    pub priority: i32,
    /// The policy file, reloaded when it changes.
    pub policy: Option<PathBuf>,
    /// The default when the policy file sets none (or there is no file).
    pub default: Verdict,
    /// Rules placed before the file's.
    pub rule: Vec<RuleSpec>,
}

impl Default for AclConfig {
    fn default() -> Self {
        AclConfig {
            priority: 700,
            policy: None,
            default: Verdict::Allow,
            rule: Vec::new(),
        }
    }
}

/// Why a policy was refused.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    /// The policy file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The text is not a policy (bad TOML, unknown key, wrong type).
    #[error("{origin}: {message}")]
    Parse {
        /// The file (or `[acl]` for the configuration).
        origin: String,
        /// What is wrong, with the rule and position when known.
        message: String,
    },
    /// A rule says something impossible.
    #[error("{origin}: rule {index}: {message}")]
    Rule {
        /// The file (or `[acl]`).
        origin: String,
        /// The rule's number, from 1.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// More rules than the band holds.
    #[error("{origin}: {count} rules, at most 4096")]
    TooManyRules {
        /// The file (or `[acl]`).
        origin: String,
        /// How many there are.
        count: usize,
    },
}

/// What a selector names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    /// Anything.
    Any,
    /// An Ethernet address.
    Mac([u8; 6]),
    /// An IPv4 network (a /32 for an address).
    Net(Ipv4Addr, u8),
    /// A name (lower-case), resolved through the network view.
    Name(String),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Any => f.write_str("any"),
            Selector::Mac(m) => write!(f, "{}", crate::netview::Mac(*m)),
            Selector::Net(a, 32) => write!(f, "{a}"),
            Selector::Net(a, p) => write!(f, "{a}/{p}"),
            Selector::Name(n) => f.write_str(n),
        }
    }
}

fn prefix_mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

impl Selector {
    /// Parses a selector.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("any") {
            return Ok(Selector::Any);
        }
        if t.contains(':') {
            let parts: Vec<&str> = t.split(':').collect();
            let bytes: Option<Vec<u8>> = parts
                .iter()
                .map(|p| {
                    (p.len() == 2)
                        .then(|| u8::from_str_radix(p, 16).ok())
                        .flatten()
                })
                .collect();
            return match bytes.and_then(|b| <[u8; 6]>::try_from(b).ok()) {
                Some(m) => Ok(Selector::Mac(m)),
                None => Err(format!("'{t}' is not a MAC address")),
            };
        }
        if let Some((addr, prefix)) = t.split_once('/') {
            let a: Ipv4Addr = addr
                .parse()
                .map_err(|_| format!("'{t}': '{addr}' is not an IPv4 address"))?;
            let p: u8 = prefix
                .parse()
                .ok()
                .filter(|p| *p <= 32)
                .ok_or_else(|| format!("'{t}': the prefix length must be 0 to 32"))?;
            if u32::from(a) & !prefix_mask(p) != 0 {
                return Err(format!("'{t}' has host bits set"));
            }
            return Ok(Selector::Net(a, p));
        }
        if let Ok(a) = t.parse::<Ipv4Addr>() {
            return Ok(Selector::Net(a, 32));
        }
        let name = t.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if valid && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            Ok(Selector::Name(name))
        } else {
            Err(format!(
                "'{t}' is not a name, an IPv4 address or CIDR, a MAC or 'any'"
            ))
        }
    }

    /// The selector with its name resolved, or None for a name not bound yet.
    fn resolve(&self, net: &NetworkView) -> Option<Resolved> {
        Some(match self {
            Selector::Any => Resolved::Any,
            Selector::Mac(m) => Resolved::Mac(*m),
            Selector::Net(a, p) => Resolved::Net(u32::from(*a), *p),
            Selector::Name(n) => Resolved::Net(u32::from(net.resolve(n)?), 32),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
    Any,
    Mac([u8; 6]),
    Net(u32, u8),
}

impl Resolved {
    fn matches(self, mac: [u8; 6], ipv4: u32) -> bool {
        match self {
            Resolved::Any => true,
            Resolved::Mac(m) => m == mac,
            Resolved::Net(a, p) => (ipv4 ^ a) & prefix_mask(p) == 0,
        }
    }

    fn overlaps(self, other: Resolved) -> bool {
        match (self, other) {
            (Resolved::Mac(a), Resolved::Mac(b)) => a == b,
            (Resolved::Net(a, pa), Resolved::Net(b, pb)) => (a ^ b) & prefix_mask(pa.min(pb)) == 0,
            _ => true,
        }
    }

    fn add_to(self, m: &mut Match, eth: OxmId, ip: OxmId) {
        match self {
            Resolved::Any | Resolved::Net(_, 0) => {}
            Resolved::Mac(mac) => m.set(OxmField::new(eth, mac)),
            Resolved::Net(a, 32) => m.set(OxmField::new(ip, a.to_be_bytes())),
            Resolved::Net(a, p) => m.set(OxmField::masked(
                ip,
                a.to_be_bytes(),
                prefix_mask(p).to_be_bytes(),
            )),
        }
    }
}

/// One rule, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What it does.
    pub verdict: Verdict,
    /// The source.
    pub src: Selector,
    /// The destination.
    pub dst: Selector,
    /// The protocol.
    pub proto: Proto,
    /// The TCP or UDP destination port.
    pub dst_port: Option<u16>,
}

impl Rule {
    /// Checks and parses a written rule.
    pub fn from_spec(spec: &RuleSpec) -> Result<Rule, String> {
        if spec.dst_port.is_some() && !matches!(spec.proto, Proto::Tcp | Proto::Udp) {
            return Err("dst_port needs proto = \"tcp\" or \"udp\"".into());
        }
        Ok(Rule {
            verdict: spec.action,
            src: Selector::parse(&spec.src).map_err(|e| format!("src: {e}"))?,
            dst: Selector::parse(&spec.dst).map_err(|e| format!("dst: {e}"))?,
            proto: spec.proto,
            dst_port: spec.dst_port,
        })
    }

    /// Whether some packet could match both rules (names resolved; an unbound name
    /// matches nothing). When unsure (a MAC against an address), yes.
    fn overlaps(&self, other: &Rule, net: &NetworkView) -> bool {
        let sel = |a: &Selector, b: &Selector| match (a.resolve(net), b.resolve(net)) {
            (Some(x), Some(y)) => x.overlaps(y),
            _ => false,
        };
        let proto = match (self.proto.number(), other.proto.number()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let port = match (self.dst_port, other.dst_port) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        sel(&self.src, &other.src) && sel(&self.dst, &other.dst) && proto && port
    }

    fn has_name(&self) -> bool {
        matches!(self.src, Selector::Name(_)) || matches!(self.dst, Selector::Name(_))
    }

    /// The rule's source and destination, names resolved; None if a name is unbound.
    fn selectors(&self, net: &NetworkView) -> Option<(Resolved, Resolved)> {
        Some((self.src.resolve(net)?, self.dst.resolve(net)?))
    }

    /// Whether the rule, its selectors resolved to `src` and `dst`, matches the IPv4
    /// packet `k`.
    fn matches(&self, (src, dst): (Resolved, Resolved), k: &FlowKey) -> bool {
        let proto_ok = self.proto.number().is_none_or(|p| p == k.ip_proto);
        // A later fragment carries no ports: it cannot match a port rule.
        let port_ok = self
            .dst_port
            .is_none_or(|p| k.ip_frag & 2 == 0 && k.tp_dst == p);
        src.matches(k.eth_src, k.ipv4_src)
            && dst.matches(k.eth_dst, k.ipv4_dst)
            && proto_ok
            && port_ok
    }

    /// The rule's match, or None if a name is unbound.
    fn flow_match(&self, net: &NetworkView) -> Option<Match> {
        let (src, dst) = (self.src.resolve(net)?, self.dst.resolve(net)?);
        let mut m = Match::new().with(OxmField::eth_type(ETH_TYPE_IPV4));
        src.add_to(&mut m, OxmId::EthSrc, OxmId::Ipv4Src);
        dst.add_to(&mut m, OxmId::EthDst, OxmId::Ipv4Dst);
        if let Some(p) = self.proto.number() {
            m.set(OxmField::ip_proto(p));
        }
        if let Some(port) = self.dst_port {
            let id = if self.proto == Proto::Tcp {
                OxmId::TcpDst
            } else {
                OxmId::UdpDst
            };
            m.set(OxmField::from_uint(id, u64::from(port)));
        }
        Some(m)
    }
}

/// The policy file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    default: Option<Verdict>,
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A parsed policy: the rules in order and the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The default.
    pub default: Verdict,
    /// The rules, first match wins.
    pub rules: Vec<Rule>,
}

/// Which `[[rule]]` the byte offset `at` of `text` lies in (from 1), if any.
fn rule_at(text: &str, at: usize) -> Option<usize> {
    // Up to the end of the line `at` is on: an error at a rule's header is that rule's.
    let end = text.get(at..)?.find('\n').map_or(text.len(), |i| at + i);
    let before = text.get(..end)?;
    let n = before
        .lines()
        .filter(|l| l.trim_start().starts_with("[[rule]]"))
        .count();
    (n > 0).then_some(n)
}

fn parse_rules(specs: &[RuleSpec], first: usize, origin: &str) -> Result<Vec<Rule>, AclError> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Rule::from_spec(s).map_err(|message| AclError::Rule {
                origin: origin.into(),
                index: first + i,
                message,
            })
        })
        .collect()
}

impl Policy {
    /// Parses policy text; `origin` names it in errors. Rules `inline` come first (they
    /// were checked already), `default` applies when the text sets none.
    pub fn parse(
        text: &str,
        origin: &str,
        inline: &[Rule],
        default: Verdict,
    ) -> Result<Policy, AclError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            let rule = e.span().and_then(|s| rule_at(text, s.start));
            let msg = e.message().trim().to_string();
            let message = match (rule, e.span()) {
                (Some(r), Some(s)) => {
                    format!("rule {r} (line {}): {msg}", line_of(text, s.start))
                }
                (None, Some(s)) => format!("line {}: {msg}", line_of(text, s.start)),
                _ => msg,
            };
            AclError::Parse {
                origin: origin.into(),
                message,
            }
        })?;
        let mut rules = inline.to_vec();
        rules.extend(parse_rules(&file.rule, 1, origin)?);
        if rules.len() > MAX_RULES {
            return Err(AclError::TooManyRules {
                origin: origin.into(),
                count: rules.len(),
            });
        }
        Ok(Policy {
            default: file.default.unwrap_or(default),
            rules,
        })
    }

    /// Reads and parses a policy file (see [`Policy::parse`]).
    pub fn load(path: &Path, inline: &[Rule], default: Verdict) -> Result<Policy, AclError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AclError::Read {
            path: origin.clone(),
            source,
        })?;
        Policy::parse(&text, &origin, inline, default)
    }

    /// What the policy does with the frame `frame` (the view resolves names).
    pub fn verdict(&self, frame: &[u8], net: &NetworkView) -> Verdict {
        self.decide(frame, |_, r| r.selectors(net))
    }

    /// What the policy does with `frame`, rule *i*'s selectors given by `selectors`
    /// (None: a name is unbound, the rule matches nothing).
    fn decide(
        &self,
        frame: &[u8],
        selectors: impl Fn(usize, &Rule) -> Option<(Resolved, Resolved)>,
    ) -> Verdict {
        let (k, _) = FlowKey::from_frame(frame, 0);
        match k.eth_type {
            ETH_TYPE_ARP | ETH_TYPE_LLDP => Verdict::Allow,
            ETH_TYPE_IPV4 => self
                .rules
                .iter()
                .enumerate()
                .find(|&(i, r)| selectors(i, r).is_some_and(|sel| r.matches(sel, &k)))
                .map_or(self.default, |(_, r)| r.verdict),
            _ => self.default,
        }
    }

    /// The flows every switch gets, names resolved through `net` (see the module
    /// documentation).
    pub fn compile(&self, net: &NetworkView) -> Vec<Flow> {
        let cookie = COOKIE_TAG << 48;
        let to_controller = || vec![Action::output(PortNo::CONTROLLER)];
        let mut flows: Vec<Flow> = Vec::new();
        let mut push = |f: Flow| {
            if !flows
                .iter()
                .any(|g| g.priority == f.priority && g.match_ == f.match_)
            {
                flows.push(f.cookie(cookie));
            }
        };
        // Rules past the band (only a policy built by hand can have them) get no flows.
        for (i, r) in self.rules.iter().enumerate().take(MAX_RULES) {
            let Some(m) = r.flow_match(net) else {
                continue;
            };
            let band = BAND_TOP - i as u16;
            match r.verdict {
                Verdict::Deny => push(Flow::new(m).priority(band)),
                Verdict::Allow => {
                    let hole = self.rules[i + 1..]
                        .iter()
                        .any(|later| later.verdict == Verdict::Deny && r.overlaps(later, net));
                    if hole {
                        push(Flow::new(m.clone()).actions(to_controller()).priority(band));
                    }
                    if self.default == Verdict::Deny {
                        push(
                            Flow::new(m)
                                .actions(to_controller())
                                .priority(PASS_PRIORITY),
                        );
                    }
                }
            }
        }
        if self.default == Verdict::Deny {
            for t in [ETH_TYPE_ARP, ETH_TYPE_LLDP] {
                push(
                    Flow::new(Match::new().with(OxmField::eth_type(t)))
                        .actions(to_controller())
                        .priority(PASS_PRIORITY),
                );
            }
            push(Flow::new(Match::new()).priority(FLOOR_PRIORITY));
        }
        flows
    }

    /// Whether a rule names a host, so the view's changes can change the flows.
    pub fn has_names(&self) -> bool {
        self.rules.iter().any(Rule::has_name)
    }
}

fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |b| b.matches('\n').count() + 1)
}

/// Counters of the ACL app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AclStats {
    /// Packet-ins the policy denied (stopped).
    pub denied: u64,
    /// Packet-ins the policy allowed (passed on).
    pub allowed: u64,
    /// Policy files loaded after the first.
    pub reloads: u64,
    /// Policy files refused.
    pub load_errors: u64,
    /// Flows in the compiled set.
    pub flows: usize,
    /// Policy changes that deleted routing's microflow paths on every switch.
    pub path_flushes: u64,
    /// Times the rules' names were resolved for the packet-in check: once per change
    /// of the network view (or of the policy), never per packet-in.
    pub resolutions: u64,
}

/// What the ACL shares with whoever holds [`Acl::shared`].
#[derive(Debug, Default)]
pub struct AclState {
    /// The counters.
    pub stats: AclStats,
    /// The last load error, if the file in place was refused.
    pub last_error: Option<String>,
}

/// A handle on the ACL's state that stays valid after the app is boxed into a controller.
pub type SharedAcl = Arc<Mutex<AclState>>;

/// What identifies a version of the policy file.
type Signature = (Option<SystemTime>, u64);

fn signature(path: &Path) -> Option<Signature> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok(), m.len()))
}

/// The ACL app. See the module documentation.
#[derive(Debug)]
pub struct Acl {
    config: AclConfig,
    inline: Vec<Rule>,
    policy: Policy,
    /// The file version the policy came from (or was refused for).
    seen: Option<Signature>,
    /// A version other than `seen` found at the last tick: read when the next tick
    /// finds it again (the writer is done with it).
    candidate: Option<Option<Signature>>,
    /// The flows each switch has.
    installed: std::collections::HashMap<DatapathId, Vec<Flow>>,
    /// The current compiled set.
    flows: Vec<Flow>,
    /// Whether the policy has been compiled yet.
    compiled: bool,
    /// The rules' selectors for the packet-in check.
    resolution: Resolution,
    shared: SharedAcl,
}

/// The rules' selectors with their names resolved, for the packet-in check, so that no
/// packet-in resolves a name.
#[derive(Debug, Default)]
struct Resolution {
    /// The view's sequence number they were resolved at (None: stale).
    seq: Option<u64>,
    /// Per rule: (source, destination), None while a name is unbound.
    rules: Vec<Option<(Resolved, Resolved)>>,
}

impl Resolution {
    /// Resolves `policy`'s rules again if the view changed since; whether it did.
    fn refresh(&mut self, policy: &Policy, net: &NetworkView) -> bool {
        if self.seq == Some(net.seq()) {
            return false;
        }
        self.rules.clear();
        self.rules
            .extend(policy.rules.iter().map(|r| r.selectors(net)));
        self.seq = Some(net.seq());
        true
    }
}

/// Deletes `routing`'s microflow paths on switch `dpid`: they carry microflows a policy
/// that is no longer in force allowed. 1.3 deletes by cookie; 1.0, whose deletes have no
/// cookie filter, deletes every flow that outputs to one of the switch's ports.
fn flush_microflow_paths(dpid: DatapathId, ctx: &mut Ctx<'_>) {
    let Some(sw) = ctx.switch(dpid) else {
        return;
    };
    let deletes: Vec<FlowMod> = if sw.version >= OFP13 {
        vec![FlowMod {
            command: FlowModCommand::Delete,
            table_id: TABLE_ALL,
            cookie: (routing::COOKIE_TAG << 48) | routing::MICROFLOW_COOKIE,
            cookie_mask: routing::COOKIE_MASK | routing::MICROFLOW_COOKIE,
            ..FlowMod::default()
        }]
    } else {
        sw.ports
            .keys()
            .filter(|p| p.0 != 0 && !p.is_reserved())
            .map(|&p| FlowMod {
                command: FlowModCommand::Delete,
                table_id: TABLE_ALL,
                out_port: p,
                ..FlowMod::default()
            })
            .collect()
    };
    for fm in deletes {
        let _ = ctx.send(dpid, &Message::FlowMod(fm));
    }
}

/// The policy that holds when none could be loaded: deny all but ARP and LLDP.
fn fail_closed(inline: &[Rule]) -> Policy {
    Policy {
        default: Verdict::Deny,
        rules: inline.to_vec(),
    }
}

impl Acl {
    /// The app with `config`, its policy loaded. An unreadable or invalid policy is
    /// logged and the app fails closed (see the module documentation); use
    /// [`Acl::load`] to refuse it instead.
    pub fn new(config: AclConfig) -> Acl {
        match Acl::load(config.clone()) {
            Ok(acl) => acl,
            Err(e) => {
                eprintln!("flowlab-controller: acl: {e}; denying all but ARP and LLDP until the policy loads");
                let inline = parse_rules(&config.rule, 1, "[acl]").unwrap_or_default();
                let mut acl = Acl::with_policy(config, inline.clone(), fail_closed(&inline));
                acl.seen = acl.config.policy.as_deref().and_then(signature);
                acl.state().last_error = Some(e.to_string());
                acl
            }
        }
    }

    /// The app with `config`, or why its policy cannot be loaded.
    pub fn load(config: AclConfig) -> Result<Acl, AclError> {
        let inline = parse_rules(&config.rule, 1, "[acl]")?;
        if inline.len() > MAX_RULES {
            return Err(AclError::TooManyRules {
                origin: "[acl]".into(),
                count: inline.len(),
            });
        }
        let (policy, seen) = match &config.policy {
            Some(path) => {
                let seen = signature(path);
                (Policy::load(path, &inline, config.default)?, seen)
            }
            None => (
                Policy {
                    default: config.default,
                    rules: inline.clone(),
                },
                None,
            ),
        };
        let mut acl = Acl::with_policy(config, inline, policy);
        acl.seen = seen;
        Ok(acl)
    }

    fn with_policy(config: AclConfig, inline: Vec<Rule>, policy: Policy) -> Acl {
        Acl {
            config,
            inline,
            policy,
            seen: None,
            candidate: None,
            installed: std::collections::HashMap::new(),
            flows: Vec::new(),
            compiled: false,
            resolution: Resolution::default(),
            shared: SharedAcl::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A handle on the counters and the last load error.
    pub fn shared(&self) -> SharedAcl {
        self.shared.clone()
    }

    fn state(&self) -> MutexGuard<'_, AclState> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Compiles the policy and brings every switch to the new set. When the policy
    /// changed (`changed`, or a compiled set different from the last), routing's
    /// microflow paths go too.
    fn apply(&mut self, changed: bool, ctx: &mut Ctx<'_>) {
        let flows = self.policy.compile(ctx.network());
        let flush = changed || (self.compiled && flows != self.flows);
        self.flows = flows;
        self.compiled = true;
        self.resolution.seq = None;
        let mut dpids: Vec<DatapathId> = ctx.switches().map(|s| s.dpid).collect();
        dpids.sort_unstable();
        for &dpid in &dpids {
            self.sync(dpid, ctx);
        }
        if flush {
            for &dpid in &dpids {
                flush_microflow_paths(dpid, ctx);
            }
        }
        let mut st = self.state();
        st.stats.flows = self.flows.len();
        if flush {
            st.stats.path_flushes += 1;
        }
    }

    /// Brings switch `dpid` from what it has to the compiled set.
    fn sync(&mut self, dpid: DatapathId, ctx: &mut Ctx<'_>) {
        let old = self.installed.remove(&dpid).unwrap_or_default();
        for f in &old {
            let kept = self
                .flows
                .iter()
                .any(|n| n.priority == f.priority && n.match_ == f.match_);
            if !kept {
                let _ = ctx.delete_strict(dpid, f.match_.clone(), f.priority, 0);
            }
        }
        for f in &self.flows {
            if !old.contains(f) {
                let _ = ctx.install(dpid, f.clone());
            }
        }
        self.installed.insert(dpid, self.flows.clone());
    }

    /// A switch joined: clear any ACL flows it kept (1.3), then install the set.
    fn joined(&mut self, dpid: DatapathId, version: u8, ctx: &mut Ctx<'_>) {
        if version >= OFP13 {
            let clear = FlowMod {
                command: FlowModCommand::Delete,
                table_id: TABLE_ALL,
                cookie: COOKIE_TAG << 48,
                cookie_mask: COOKIE_MASK,
                ..FlowMod::default()
            };
            let _ = ctx.send(dpid, &Message::FlowMod(clear));
            let _ = ctx.barrier(dpid);
        }
        self.installed.remove(&dpid);
        self.apply(false, ctx);
    }

    /// Reloads the policy file if it changed, and stayed so for a tick.
    fn check_file(&mut self, ctx: &mut Ctx<'_>) {
        let Some(path) = self.config.policy.clone() else {
            return;
        };
        let now = signature(&path);
        if now == self.seen {
            self.candidate = None;
            return;
        }
        if self.candidate != Some(now) {
            // Changed since the last tick: the writer may not be done.
            self.candidate = Some(now);
            return;
        }
        self.candidate = None;
        self.seen = now;
        match Policy::load(&path, &self.inline, self.config.default) {
            Ok(p) => {
                let changed = p != self.policy;
                self.policy = p;
                {
                    let mut st = self.state();
                    st.stats.reloads += 1;
                    st.last_error = None;
                }
                self.apply(changed, ctx);
            }
            Err(e) => {
                eprintln!("flowlab-controller: acl: {e}; keeping the previous policy");
                let mut st = self.state();
                st.stats.load_errors += 1;
                st.last_error = Some(e.to_string());
            }
        }
    }

    fn packet_in(&mut self, pi: &PacketInEvent<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        if self.resolution.refresh(&self.policy, ctx.network()) {
            self.state().stats.resolutions += 1;
        }
        let resolved = &self.resolution.rules;
        let verdict = self
            .policy
            .decide(pi.data(), |i, _| resolved.get(i).copied().flatten());
        match verdict {
            Verdict::Allow => {
                self.state().stats.allowed += 1;
                Disposition::Continue
            }
            Verdict::Deny => {
                self.state().stats.denied += 1;
                if pi.packet.is_buffered() {
                    // Released to nowhere: the switch's buffer is freed.
                    let po = PacketOut {
                        buffer_id: pi.packet.buffer_id(),
                        in_port: pi.in_port(),
                        actions: Vec::new(),
                        data: Vec::new(),
                    };
                    let _ = ctx.send(pi.dpid, &Message::PacketOut(po));
                }
                Disposition::Stop
            }
        }
    }
}

impl App for Acl {
    fn name(&self) -> &'static str {
        "acl"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::PacketIn, self.config.priority)
            .on(EventKind::SwitchJoin, 0)
            .on(EventKind::SwitchLeave, 0)
            .on(EventKind::NameBound, 0)
            .on(EventKind::HostAddress, 0)
            .on(EventKind::HostLeave, 0);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        match event {
            Event::PacketIn(pi) => return self.packet_in(pi, ctx),
            Event::SwitchJoin(j) => self.joined(j.dpid, j.version, ctx),
            Event::SwitchLeave(l) => {
                self.installed.remove(&l.dpid);
            }
            Event::App(_) if self.policy.has_names() => self.apply(false, ctx),
            _ => {}
        }
        Disposition::Continue
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        self.check_file(ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::app::App;
    use crate::apps::routing::testutil::*;
    use crate::apps::routing::{Routing, RoutingConfig, SharedRouting};
    use crate::harness::Harness;

    /// A directory of its own under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let d = std::env::temp_dir().join(format!(
                "flowlab-acl-{}-{tag}-{}",
                std::process::id(),
                std::thread::current()
                    .name()
                    .unwrap_or("t")
                    .replace("::", "-")
            ));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }

        /// Writes `text` to `name` with a modification time that grows with `version`.
        fn write(&self, name: &str, text: &str, version: u64) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000 + version))
                .unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn h3_ip() -> Ipv4Addr {
        Ipv4Addr::new(203, 0, 113, 3)
    }

    struct Rig {
        h: Harness,
        plan: SharedPlan,
        acl: SharedAcl,
        routing: SharedRouting,
        sw: Vec<usize>,
        /// The table-miss entry of 1.3 switches.
        miss: usize,
    }

    impl Rig {
        /// The line s1 - s2 - s3 (discovered), h1 at s1:1, h2 at s2:1, h3 (203.0.113.3)
        /// at s3:1, named h1, h2, h3; `acl` and `routing` apps.
        fn new(config: AclConfig) -> Rig {
            Rig::with_version(config, crate::switch_conn::OFP13)
        }

        fn with_version(config: AclConfig, version: u8) -> Rig {
            let plan = SharedPlan::default();
            let acl = Acl::new(config);
            let acl_state = acl.shared();
            let routing = Routing::new(RoutingConfig::default());
            let routing_state = routing.shared();
            let mut h = harness(&plan, vec![Box::new(acl), Box::new(routing)]);
            let sw: Vec<usize> = (1..=3)
                .map(|d| h.add_switch(crate::harness::agent_config(d, version), &[1, 2, 3]))
                .collect();
            h.wire((sw[0], 2), (sw[1], 3));
            h.wire((sw[1], 2), (sw[2], 3));
            {
                let mut p = plan.lock().unwrap();
                p.cable(at(1, 2), at(2, 3));
                p.cable(at(2, 2), at(3, 3));
                p.host(1, at(1, 1), Some("h1"));
                p.host(2, at(2, 1), Some("h2"));
                p.host_at(3, h3_ip(), at(3, 1), Some("h3"));
            }
            settle(&mut h, 4);
            let mut r = Rig {
                h,
                plan,
                acl: acl_state,
                routing: routing_state,
                sw,
                miss: usize::from(version == crate::switch_conn::OFP13),
            };
            r.delivered();
            r
        }

        fn delivered(&mut self) -> Vec<(usize, u32)> {
            let mut out = Vec::new();
            for &s in &self.sw {
                for (p, _) in self.h.take_delivered(s) {
                    out.push((s, p));
                }
            }
            out.sort_unstable();
            out
        }

        /// Sends `frame` in at host `from`'s port; returns where it came out.
        fn send(&mut self, from: usize, frame: &[u8]) -> Vec<(usize, u32)> {
            self.h.frame(self.sw[from], 1, frame);
            self.delivered()
        }

        fn stats(&self) -> AclStats {
            self.acl.lock().unwrap().stats
        }

        fn flows(&self) -> Vec<usize> {
            self.sw
                .iter()
                .map(|&s| self.h.flow_count(s) - self.miss)
                .collect()
        }

        /// The two ticks a changed policy file needs to be read.
        fn file_ticks(&mut self) {
            self.h.advance(Duration::from_secs(1));
            self.h.advance(Duration::from_secs(1));
        }

        fn packet_ins(&self) -> u64 {
            self.sw.iter().map(|&s| packet_ins(&self.h, s)).sum()
        }

        fn errors(&self) -> u64 {
            self.sw
                .iter()
                .map(|&s| self.h.agent(s).unwrap().stats().errors_sent)
                .sum()
        }
    }

    fn icmp_1_3(seq: u16) -> Vec<u8> {
        ping(mac(3), mac(1), ip(1), h3_ip(), seq)
    }

    fn inline(rules: &str) -> AclConfig {
        let c: crate::config::Config = toml::from_str(&format!("[acl]\n{rules}")).unwrap();
        c.acl
    }

    #[test]
    fn selectors_parse_strictly() {
        use Selector::*;
        assert_eq!(Selector::parse("any"), Ok(Any));
        assert_eq!(Selector::parse("H1.Lab."), Ok(Name("h1.lab".into())));
        assert_eq!(
            Selector::parse("198.51.100.7"),
            Ok(Net(Ipv4Addr::new(198, 51, 100, 7), 32))
        );
        assert_eq!(
            Selector::parse("203.0.113.0/24"),
            Ok(Net(Ipv4Addr::new(203, 0, 113, 0), 24))
        );
        assert_eq!(Selector::parse("02:00:00:00:00:0a"), Ok(Mac(mac(10))));
        for bad in [
            "203.0.113.1/24",
            "203.0.113.0/33",
            "1.2.3/8",
            "02:00:00:00:00",
            "02:00:00:00:00:zz",
            "h 1",
            "",
            "1.2.3",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Selector::parse("203.0.113.0/24").unwrap().to_string(),
            "203.0.113.0/24"
        );
    }

    #[test]
    fn policy_errors_name_the_file_and_the_rule() {
        let ok = "default = \"deny\"\n[[rule]]\naction = \"allow\"\nsrc = \"h1\"\n";
        let p = Policy::parse(ok, "p.toml", &[], Verdict::Allow).unwrap();
        assert_eq!(p.default, Verdict::Deny);
        assert_eq!(p.rules[0].dst, Selector::Any);
        let cases = [
            (
                "[[rule]]\naction = \"deny\"\n[[rule]]\naction = \"deny\"\ndstport = 22\n",
                "p.toml: rule 2 (line 5): unknown field `dstport`",
            ),
            (
                "[[rule]]\naction = \"deny\"\nproto = \"icmp\"\ndst_port = 22\n",
                "p.toml: rule 1: dst_port needs proto",
            ),
            (
                "[[rule]]\naction = \"deny\"\n[[rule]]\naction = \"deny\"\nsrc = \"10.0.0.1/8\"\n",
                "p.toml: rule 2: src: '10.0.0.1/8' has host bits set",
            ),
            (
                "[[rule]]\naction = \"drop\"\n",
                "p.toml: rule 1 (line 2): unknown variant `drop`",
            ),
            (
                "defualt = \"deny\"\n",
                "p.toml: line 1: unknown field `defualt`",
            ),
            ("[[rule]]\nsrc = \"h1\"\n", "p.toml: rule 1"),
        ];
        for (text, want) in cases {
            let e = Policy::parse(text, "p.toml", &[], Verdict::Allow)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(want), "{text:?}: got {e}");
        }
        let e = Acl::load(AclConfig {
            policy: Some("/nonexistent/flowlab/policy.toml".into()),
            ..AclConfig::default()
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/flowlab/policy.toml: "),
            "{e}"
        );
        let e = Acl::load(inline("[[acl.rule]]\naction = \"deny\"\ndst = \"?\"\n")).unwrap_err();
        assert!(e.to_string().starts_with("[acl]: rule 1: dst:"), "{e}");
    }

    #[test]
    fn verdicts_follow_the_first_matching_rule() {
        let text = "[[rule]]\naction = \"allow\"\nsrc = \"h1\"\nproto = \"tcp\"\ndst_port = 22\n\
                    [[rule]]\naction = \"deny\"\ndst = \"203.0.113.0/24\"\n\
                    [[rule]]\naction = \"deny\"\nsrc = \"h9\"\n";
        let p = Policy::parse(text, "p", &[], Verdict::Allow).unwrap();
        let mut net = NetworkView::new();
        net.bind_name("h1", ip(1), Duration::ZERO);
        let to3 = |ports, flags| tcp(mac(3), mac(1), ip(1), h3_ip(), ports, flags);
        assert_eq!(
            p.verdict(&to3((999, 22), 2), &net),
            Verdict::Allow,
            "the hole"
        );
        assert_eq!(p.verdict(&to3((999, 80), 2), &net), Verdict::Deny);
        assert_eq!(p.verdict(&icmp_1_3(1), &net), Verdict::Deny);
        assert_eq!(
            p.verdict(&ping(mac(2), mac(1), ip(1), ip(2), 1), &net),
            Verdict::Allow,
            "default"
        );
        // h9 is not bound: its rule matches nothing, until it is.
        let from9 = ping(mac(2), mac(9), ip(9), ip(2), 1);
        assert_eq!(p.verdict(&from9, &net), Verdict::Allow);
        net.bind_name("h9", ip(9), Duration::ZERO);
        assert_eq!(p.verdict(&from9, &net), Verdict::Deny);
        // ARP always passes, even under default deny; other EtherTypes get the default.
        let deny_all = Policy::parse("default = \"deny\"", "p", &[], Verdict::Allow).unwrap();
        assert_eq!(
            deny_all.verdict(&arp_request(mac(1), ip(1), ip(2)), &net),
            Verdict::Allow
        );
        let mut v6 = arp_request(mac(1), ip(1), ip(2));
        v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(deny_all.verdict(&v6, &net), Verdict::Deny);
    }

    #[test]
    fn rules_compile_into_a_band_and_a_floor() {
        let text = "default = \"deny\"\n\
                    [[rule]]\naction = \"allow\"\nsrc = \"h1\"\nproto = \"tcp\"\ndst_port = 22\n\
                    [[rule]]\naction = \"deny\"\ndst = \"203.0.113.0/24\"\n\
                    [[rule]]\naction = \"allow\"\nsrc = \"02:00:00:00:00:02\"\n\
                    [[rule]]\naction = \"deny\"\nsrc = \"unbound\"\n";
        let p = Policy::parse(text, "p", &[], Verdict::Allow).unwrap();
        let mut net = NetworkView::new();
        net.bind_name("h1", ip(1), Duration::ZERO);
        let flows = p.compile(&net);
        let summary: Vec<(u16, bool)> = flows
            .iter()
            .map(|f| (f.priority, f.actions.is_empty()))
            .collect();
        assert_eq!(
            summary,
            [
                (BAND_TOP, false),      // rule 1: a hole in rule 2 (to the controller)
                (PASS_PRIORITY, false), // and allowed under default deny
                (BAND_TOP - 1, true),   // rule 2 drops
                (PASS_PRIORITY, false), // rule 3: pass only (rule 4 cannot match yet)
                // rule 4 names nobody yet: nothing
                (PASS_PRIORITY, false), // ARP
                (PASS_PRIORITY, false), // LLDP
                (FLOOR_PRIORITY, true), // the floor
            ]
        );
        assert!(flows
            .iter()
            .all(|f| f.cookie & COOKIE_MASK == COOKIE_TAG << 48));
        let m = &flows[2].match_;
        assert_eq!(
            m.get(OxmId::Ipv4Dst).unwrap().mask.as_deref(),
            Some(&[255, 255, 255, 0][..])
        );
        assert_eq!(m.get(OxmId::EthType).unwrap().value_uint(), Some(0x0800));
        net.bind_name("unbound", ip(9), Duration::ZERO);
        // Bound, rule 4 drops, and rule 3 becomes a hole in it (a MAC against an
        // address may overlap).
        assert_eq!(p.compile(&net).len(), flows.len() + 2);
        // Disjoint rules make no hole.
        let q = Policy::parse(
            "[[rule]]\naction = \"allow\"\ndst = \"198.51.100.0/25\"\n\
             [[rule]]\naction = \"deny\"\ndst = \"198.51.100.128/25\"\n\
             [[rule]]\naction = \"allow\"\nproto = \"udp\"\n\
             [[rule]]\naction = \"deny\"\nproto = \"tcp\"\n",
            "q",
            &[],
            Verdict::Allow,
        )
        .unwrap();
        let prios: Vec<u16> = q.compile(&net).iter().map(|f| f.priority).collect();
        assert_eq!(
            prios,
            [BAND_TOP, BAND_TOP - 1, BAND_TOP - 3],
            "rule 1 is a hole in rule 4 (not in rule 2); rule 3 overlaps no deny rule"
        );
    }

    #[test]
    fn a_name_is_denied_in_the_switches_even_between_hosts_with_a_path() {
        let mut r = Rig::new(inline(
            "[[acl.rule]]\naction = \"deny\"\nsrc = \"h1\"\ndst = \"h3\"\nproto = \"icmp\"\n",
        ));
        assert_eq!(r.stats().flows, 1);
        assert_eq!(r.flows(), [1, 1, 1], "the drop flow, everywhere");
        // UDP from h1 to h3 is allowed and gets a pair path.
        let u = udp(mac(3), mac(1), ip(1), h3_ip(), (5000, 53));
        assert_eq!(r.send(0, &u), [(r.sw[2], 1)]);
        assert_eq!(r.flows(), [2, 2, 2]);
        // ICMP rides nothing: the drop flow is above the path, and no packet-in happens.
        let pins = r.packet_ins();
        assert_eq!(r.send(0, &icmp_1_3(1)), []);
        assert_eq!(r.packet_ins(), pins);
        // From h2 it is allowed.
        let from2 = ping(mac(3), mac(2), ip(2), h3_ip(), 2);
        assert_eq!(r.send(1, &from2), [(r.sw[2], 1)]);
        assert_eq!(r.send(0, &u), [(r.sw[2], 1)]);
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn a_cidr_with_a_port_is_denied() {
        let mut r = Rig::new(inline(
            "[[acl.rule]]\naction = \"deny\"\ndst = \"203.0.113.0/24\"\nproto = \"tcp\"\ndst_port = 22\n",
        ));
        let ssh = tcp(mac(3), mac(1), ip(1), h3_ip(), (40000, 22), 2);
        let web = tcp(mac(3), mac(1), ip(1), h3_ip(), (40001, 80), 2);
        let ssh2 = tcp(mac(2), mac(1), ip(1), ip(2), (40002, 22), 2);
        assert_eq!(r.send(0, &ssh), []);
        assert_eq!(r.send(0, &web), [(r.sw[2], 1)]);
        assert_eq!(r.send(0, &ssh), [], "not even along the pair path now");
        assert_eq!(r.send(0, &ssh2), [(r.sw[1], 1)]);
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn the_packet_in_check_stops_what_the_switches_let_through() {
        // A switch that installs nothing (a cbench-like fake speaking 1.0): every packet
        // reaches the controller, and only the check stands between it and routing.
        use crate::harness::{FakeSwitch, UNBUFFERED};
        use crate::switch_conn::OFP10;
        let plan = SharedPlan::default();
        {
            let mut p = plan.lock().unwrap();
            p.host(1, at(9, 1), Some("h1"));
            p.host_at(3, h3_ip(), at(9, 3), Some("h3"));
        }
        let acl = Acl::new(inline(
            "[[acl.rule]]\naction = \"deny\"\nsrc = \"h1\"\ndst = \"h3\"\nproto = \"icmp\"\n",
        ));
        let state = acl.shared();
        let routing = Routing::new(RoutingConfig::default());
        let mut h = harness(&plan, vec![Box::new(acl), Box::new(routing)]);
        let sw = h.add_fake(FakeSwitch::new(OFP10, 9, 0, 3));
        settle(&mut h, 4);
        let got = h.fake(sw).unwrap().take_received();
        let acl_flows: Vec<&FlowMod> = got
            .iter()
            .filter_map(|m| match m {
                Message::FlowMod(f) if f.cookie & COOKIE_MASK == COOKIE_TAG << 48 => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(acl_flows.len(), 1, "encoded for 1.0 too: {got:?}");
        assert_eq!(acl_flows[0].priority, BAND_TOP);
        h.fake(sw).unwrap().packet_in(1, UNBUFFERED, &icmp_1_3(1));
        h.run();
        assert_eq!(h.fake(sw).unwrap().take_received(), []);
        assert_eq!(state.lock().unwrap().stats.denied, 1);
        let u = udp(mac(3), mac(1), ip(1), h3_ip(), (5000, 53));
        h.fake(sw).unwrap().packet_in(1, UNBUFFERED, &u);
        h.run();
        let got = h.fake(sw).unwrap().take_received();
        assert!(
            matches!(&got[..], [Message::FlowMod(_), Message::PacketOut(_)]),
            "routed: {got:?}"
        );
        assert_eq!(state.lock().unwrap().stats.allowed, 1);
    }

    #[test]
    fn default_deny_lets_allowed_microflows_through_and_nothing_else() {
        let mut r = Rig::new(inline(
            "default = \"deny\"\n\
             [[acl.rule]]\naction = \"allow\"\nsrc = \"h1\"\ndst = \"h3\"\nproto = \"tcp\"\ndst_port = 22\n\
             [[acl.rule]]\naction = \"allow\"\nsrc = \"h3\"\ndst = \"h1\"\nproto = \"tcp\"\n",
        ));
        // ARP still floods everywhere.
        assert_eq!(
            r.send(0, &arp_request(mac(1), ip(1), h3_ip())),
            [(r.sw[0], 3), (r.sw[1], 1), (r.sw[2], 1), (r.sw[2], 2)]
        );
        let syn = tcp(mac(3), mac(1), ip(1), h3_ip(), (40000, 22), 2);
        assert_eq!(r.send(0, &syn), [(r.sw[2], 1)]);
        let paths: Vec<_> = r.routing.lock().unwrap().paths.values().cloned().collect();
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].priority, L4_FLOW_PRIORITY, "a microflow path");
        assert!(paths[0].hops[0].match_.contains(OxmId::TcpDst));
        // The rest of the connection runs in the switches.
        let pins = r.packet_ins();
        let ack = tcp(mac(3), mac(1), ip(1), h3_ip(), (40000, 22), 0x10);
        assert_eq!(r.send(0, &ack), [(r.sw[2], 1)]);
        assert_eq!(r.packet_ins(), pins);
        // The answer is allowed by the second rule.
        let back = tcp(mac(1), mac(3), h3_ip(), ip(1), (22, 40000), 0x12);
        assert_eq!(r.send(2, &back), [(r.sw[0], 1)]);
        // Anything else between the same hosts is dropped in the first switch.
        let pins = r.packet_ins();
        assert_eq!(r.send(0, &icmp_1_3(1)), []);
        assert_eq!(
            r.send(0, &tcp(mac(3), mac(1), ip(1), h3_ip(), (40000, 80), 2)),
            []
        );
        assert_eq!(r.send(1, &ping(mac(3), mac(2), ip(2), h3_ip(), 1)), []);
        assert_eq!(
            r.packet_ins(),
            pins,
            "dropped by the floor, not at the controller"
        );
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn an_allow_hole_in_a_deny_rule_works_across_switches() {
        let mut r = Rig::new(inline(
            "[[acl.rule]]\naction = \"allow\"\nsrc = \"h1\"\nproto = \"tcp\"\ndst_port = 22\n\
             [[acl.rule]]\naction = \"deny\"\ndst = \"h3\"\n",
        ));
        let ssh = tcp(mac(3), mac(1), ip(1), h3_ip(), (40000, 22), 2);
        assert_eq!(r.send(0, &ssh), [(r.sw[2], 1)]);
        assert_eq!(r.send(0, &ssh), [(r.sw[2], 1)]);
        assert_eq!(r.send(0, &icmp_1_3(1)), []);
        assert_eq!(
            r.send(1, &tcp(mac(3), mac(2), ip(2), h3_ip(), (40000, 22), 2)),
            []
        );
        assert_eq!(
            r.send(1, &ping(mac(1), mac(2), ip(2), ip(1), 1)),
            [(r.sw[0], 1)]
        );
    }

    #[test]
    fn the_policy_file_reloads_on_change_and_a_bad_one_keeps_the_old() {
        let dir = TempDir::new("reload");
        let deny_icmp =
            "[[rule]]\naction = \"deny\"\nsrc = \"h1\"\ndst = \"h3\"\nproto = \"icmp\"\n";
        let path = dir.write("policy.toml", deny_icmp, 1);
        let mut r = Rig::new(AclConfig {
            policy: Some(path.clone()),
            ..AclConfig::default()
        });
        assert_eq!(r.send(0, &icmp_1_3(1)), []);
        assert_eq!(r.flows(), [1, 1, 1]);
        // The file changes to deny UDP instead.
        let deny_udp = "[[rule]]\naction = \"deny\"\nsrc = \"h1\"\nproto = \"udp\"\n";
        dir.write("policy.toml", deny_udp, 2);
        r.file_ticks();
        assert_eq!(r.stats().reloads, 1);
        assert_eq!(
            r.flows(),
            [1, 1, 1],
            "the old flow deleted, the new one added"
        );
        assert_eq!(r.send(0, &icmp_1_3(2)), [(r.sw[2], 1)]);
        let u = udp(mac(3), mac(1), ip(1), h3_ip(), (5000, 53));
        assert_eq!(r.send(0, &u), []);
        // A broken file: the UDP rule stays.
        dir.write(
            "policy.toml",
            "[[rule]]\naction = \"deny\"\nsrc = \"h1\"\nprot = \"udp\"\n",
            3,
        );
        r.file_ticks();
        r.file_ticks();
        assert_eq!(r.stats().load_errors, 1, "logged once");
        let err = r.acl.lock().unwrap().last_error.clone().unwrap();
        assert!(
            err.contains("policy.toml") && err.contains("rule 1"),
            "{err}"
        );
        assert_eq!(r.send(0, &u), []);
        assert_eq!(r.send(0, &icmp_1_3(3)), [(r.sw[2], 1)]);
        // Fixed: an empty policy allows everything, and the ACL's flows are gone.
        dir.write("policy.toml", "default = \"allow\"\n", 4);
        r.file_ticks();
        assert_eq!(r.stats().reloads, 2);
        assert!(r.acl.lock().unwrap().last_error.is_none());
        assert_eq!(r.send(0, &u), [(r.sw[2], 1)]);
        assert_eq!(r.stats().flows, 0);
    }

    #[test]
    fn an_unloadable_policy_fails_closed_until_it_loads() {
        let dir = TempDir::new("closed");
        let path = dir.write("policy.toml", "default = \"maybe\"\n", 1);
        let mut r = Rig::new(AclConfig {
            policy: Some(path),
            ..AclConfig::default()
        });
        assert!(r.acl.lock().unwrap().last_error.is_some());
        assert_eq!(r.send(0, &icmp_1_3(1)), []);
        assert_eq!(
            r.send(0, &arp_request(mac(1), ip(1), h3_ip())).len(),
            4,
            "ARP passes"
        );
        dir.write("policy.toml", "default = \"allow\"\n", 2);
        r.file_ticks();
        assert_eq!(r.send(0, &icmp_1_3(2)), [(r.sw[2], 1)]);
    }

    #[test]
    fn the_floor_and_pass_flows_lie_above_every_pair_path() {
        let text = "default = \"deny\"\n\
                    [[rule]]\naction = \"allow\"\nsrc = \"h1\"\nproto = \"tcp\"\n\
                    [[rule]]\naction = \"deny\"\ndst = \"203.0.113.0/24\"\n";
        let p = Policy::parse(text, "p", &[], Verdict::Allow).unwrap();
        let mut net = NetworkView::new();
        net.bind_name("h1", ip(1), Duration::ZERO);
        let flows = p.compile(&net);
        assert!(flows.iter().any(|f| f.priority == FLOOR_PRIORITY));
        let pair = routing::PAIR_PRIORITIES;
        let micro = routing::MICROFLOW_PRIORITIES;
        for f in &flows {
            assert!(
                f.priority > *pair.end() && f.priority < *micro.start(),
                "{} between the paths",
                f.priority
            );
            let floor_or_pass = matches!(f.priority, FLOOR_PRIORITY | PASS_PRIORITY);
            assert!(floor_or_pass || (BAND_BOTTOM..=BAND_TOP).contains(&f.priority));
        }
        assert!(RoutingConfig::default().flow_priority < FLOOR_PRIORITY);
        assert_eq!(usize::from(BAND_TOP - BAND_BOTTOM) + 1, MAX_RULES);
    }

    #[test]
    fn a_reload_to_default_deny_stops_traffic_on_existing_pair_paths() {
        let dir = TempDir::new("floor");
        let path = dir.write("policy.toml", "default = \"allow\"\n", 1);
        let mut r = Rig::new(AclConfig {
            policy: Some(path),
            ..AclConfig::default()
        });
        assert_eq!(r.send(0, &icmp_1_3(1)), [(r.sw[2], 1)]);
        let pins = r.packet_ins();
        assert_eq!(r.send(0, &icmp_1_3(2)), [(r.sw[2], 1)]);
        assert_eq!(r.packet_ins(), pins, "on the pair path");
        dir.write("policy.toml", "default = \"deny\"\n", 2);
        r.file_ticks();
        assert_eq!(r.stats().reloads, 1);
        // The floor lies above the pair path: nothing gets through any more.
        assert_eq!(r.send(0, &icmp_1_3(3)), []);
        assert_eq!(
            r.packet_ins(),
            pins,
            "dropped by the floor in the first switch"
        );
        assert_eq!(r.send(2, &ping(mac(1), mac(3), h3_ip(), ip(1), 4)), []);
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn a_reload_that_denies_a_microflow_cuts_its_path() {
        for version in [crate::switch_conn::OFP13, crate::switch_conn::OFP10] {
            let dir = TempDir::new(&format!("micro{version}"));
            let ssh_ok = "default = \"deny\"\n\
                [[rule]]\naction = \"allow\"\nsrc = \"h1\"\ndst = \"h3\"\nproto = \"tcp\"\ndst_port = 22\n";
            let path = dir.write("policy.toml", ssh_ok, 1);
            let config = AclConfig {
                policy: Some(path),
                ..AclConfig::default()
            };
            let mut r = Rig::with_version(config, version);
            let seg = |flags| tcp(mac(3), mac(1), ip(1), h3_ip(), (40000, 22), flags);
            assert_eq!(r.send(0, &seg(2)), [(r.sw[2], 1)], "v{version}");
            let pins = r.packet_ins();
            assert_eq!(r.send(0, &seg(0x10)), [(r.sw[2], 1)]);
            assert_eq!(r.packet_ins(), pins, "v{version}: on the microflow path");
            let micro = |r: &Rig| {
                r.routing
                    .lock()
                    .unwrap()
                    .paths
                    .values()
                    .filter(|p| p.priority == L4_FLOW_PRIORITY)
                    .count()
            };
            assert_eq!(micro(&r), 1);
            // The policy no longer allows ssh: the microflow path, above the band, goes.
            let flushes = r.stats().path_flushes;
            dir.write("policy.toml", "default = \"deny\"\n", 2);
            r.file_ticks();
            assert_eq!(r.stats().path_flushes, flushes + 1, "v{version}");
            assert_eq!(micro(&r), 0, "v{version}: routing forgot it");
            assert_eq!(r.send(0, &seg(0x10)), [], "v{version}");
            assert_eq!(r.errors(), 0);
            // Touching the file without changing the policy flushes nothing.
            dir.write("policy.toml", "default = \"deny\"\n", 3);
            r.file_ticks();
            assert_eq!(r.stats().reloads, 2);
            assert_eq!(r.stats().path_flushes, flushes + 1);
        }
    }

    #[test]
    fn a_half_written_policy_is_not_loaded() {
        let dir = TempDir::new("half");
        let deny_icmp = "[[rule]]\naction = \"deny\"\nproto = \"icmp\"\n";
        let path = dir.write("policy.toml", deny_icmp, 1);
        let mut r = Rig::new(AclConfig {
            policy: Some(path),
            ..AclConfig::default()
        });
        let udp_1_2 = udp(mac(2), mac(1), ip(1), ip(2), (5000, 53));
        assert_eq!(r.send(0, &udp_1_2), [(r.sw[1], 1)]);
        // The writer has written the first rule's header and action only: as a policy
        // that denies everything. It is caught at one tick...
        let full = "[[rule]]\naction = \"deny\"\nproto = \"tcp\"\ndst_port = 23\n";
        dir.write("policy.toml", &full[..27], 2);
        r.h.advance(Duration::from_secs(1));
        assert_eq!(r.stats().reloads, 0, "not read while it may be changing");
        // ... and finished before the next.
        dir.write("policy.toml", full, 3);
        r.h.advance(Duration::from_secs(1));
        assert_eq!(r.stats().reloads, 0);
        r.h.advance(Duration::from_secs(1));
        assert_eq!(r.stats().reloads, 1);
        assert_eq!(r.stats().load_errors, 0);
        assert_eq!(r.send(0, &udp_1_2), [(r.sw[1], 1)], "never denied all");
        assert_eq!(
            r.send(0, &ping(mac(2), mac(1), ip(1), ip(2), 1)),
            [(r.sw[1], 1)]
        );
        assert_eq!(
            r.send(0, &tcp(mac(2), mac(1), ip(1), ip(2), (4000, 23), 2)),
            []
        );
    }

    #[test]
    fn names_are_resolved_once_per_view_change_not_per_packet_in() {
        use crate::harness::{FakeSwitch, UNBUFFERED};
        use crate::switch_conn::OFP10;
        let plan = SharedPlan::default();
        {
            let mut p = plan.lock().unwrap();
            p.host(1, at(9, 1), Some("h1"));
            p.host_at(3, h3_ip(), at(9, 3), Some("h3"));
        }
        let acl = Acl::new(inline(
            "[[acl.rule]]\naction = \"deny\"\nsrc = \"h1\"\ndst = \"h3\"\nproto = \"icmp\"\n",
        ));
        let state = acl.shared();
        let mut h = harness(
            &plan,
            vec![
                Box::new(acl),
                Box::new(Routing::new(RoutingConfig::default())),
            ],
        );
        let sw = h.add_fake(FakeSwitch::new(OFP10, 9, 0, 3));
        settle(&mut h, 4);
        for seq in 0..10 {
            h.fake(sw).unwrap().packet_in(1, UNBUFFERED, &icmp_1_3(seq));
            h.run();
        }
        let st = state.lock().unwrap().stats;
        assert_eq!(st.denied, 10);
        assert_eq!(st.resolutions, 1, "resolved for the first packet-in only");
        // The view changes (h1's address gets another name): resolved once more.
        plan.lock()
            .unwrap()
            .host_at(5, ip(1), at(9, 2), Some("h1-alias"));
        h.advance(Duration::from_secs(1));
        for seq in 10..15 {
            h.fake(sw).unwrap().packet_in(1, UNBUFFERED, &icmp_1_3(seq));
            h.run();
        }
        let st = state.lock().unwrap().stats;
        assert_eq!((st.denied, st.resolutions), (15, 2));
    }

    #[test]
    fn a_name_bound_later_compiles_then() {
        let mut r = Rig::new(inline("[[acl.rule]]\naction = \"deny\"\nsrc = \"late\"\n"));
        assert_eq!(r.stats().flows, 0);
        assert_eq!(r.flows(), [0, 0, 0]);
        let from2 = |seq| ping(mac(3), mac(2), ip(2), h3_ip(), seq);
        assert_eq!(r.send(1, &from2(1)), [(r.sw[2], 1)]);
        // h2's address gets the name: the rule now denies it, in every switch.
        r.plan.lock().unwrap().hosts[1].name = Some("late".into());
        r.h.advance(Duration::from_secs(1));
        assert_eq!(r.stats().flows, 1);
        assert_eq!(
            r.flows(),
            [1, 2, 2],
            "the drop flow, and the pair path of h2 -> h3"
        );
        assert_eq!(r.send(1, &from2(2)), []);
    }

    #[test]
    fn openflow_10_switches_enforce_the_same_policy() {
        let mut r = Rig::with_version(
            inline(
                "default = \"deny\"\n\
                 [[acl.rule]]\naction = \"allow\"\nsrc = \"198.51.100.0/24\"\ndst = \"203.0.113.0/24\"\nproto = \"udp\"\ndst_port = 53\n",
            ),
            crate::switch_conn::OFP10,
        );
        let dns = udp(mac(3), mac(1), ip(1), h3_ip(), (5000, 53));
        assert_eq!(r.send(0, &dns), [(r.sw[2], 1)]);
        assert_eq!(r.send(0, &dns), [(r.sw[2], 1)]);
        assert_eq!(
            r.send(0, &udp(mac(3), mac(1), ip(1), h3_ip(), (5000, 54))),
            []
        );
        assert_eq!(r.send(0, &icmp_1_3(1)), []);
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn end_to_end_names_from_dns_answers_feed_the_policy() {
        use crate::apps::{hosts, topology};
        let dir = TempDir::new("e2e");
        let path = dir.write(
            "policy.toml",
            "[[rule]]\naction = \"deny\"\nsrc = \"h1.lab\"\ndst = \"h3.lab\"\nproto = \"icmp\"\n",
            1,
        );
        let mut config = crate::config::Config::default();
        config.acl.policy = Some(path);
        let apps: Vec<Box<dyn App>> = vec![
            Box::new(topology::Topology::new(config.topology.clone())),
            Box::new(hosts::Hosts::new(config.hosts.clone())),
            Box::new(Acl::new(config.acl.clone())),
            Box::new(Routing::new(config.routing.clone())),
        ];
        let mut h = Harness::new(
            crate::controller::Controller::new(config.controller.conn_config().unwrap(), apps)
                .unwrap(),
        );
        let sw: Vec<usize> = (1..=3)
            .map(|d| {
                h.add_switch(
                    crate::harness::agent_config(d, crate::switch_conn::OFP13),
                    &[1, 2, 3],
                )
            })
            .collect();
        h.wire((sw[0], 2), (sw[1], 3));
        h.wire((sw[1], 2), (sw[2], 3));
        settle(&mut h, 5);
        let out = |h: &mut Harness| -> Vec<(usize, u32)> {
            let mut v = Vec::new();
            for &s in &sw {
                for (p, f) in h.take_delivered(s) {
                    if !is_lldp(&f) {
                        v.push((s, p));
                    }
                }
            }
            v.sort_unstable();
            v
        };
        out(&mut h);
        // h2, a DNS server, tells h1 the names (h1 is not known yet, so the answers are
        // flooded and each reaches the controller: once a pair path between the two
        // exists, their packets no longer do); then the hosts introduce themselves.
        for (name, addr) in [("h1.lab", ip(1)), ("h3.lab", h3_ip())] {
            h.frame(
                sw[1],
                1,
                &dns_answer(mac(1), mac(2), ip(2), ip(1), name, addr),
            );
        }
        h.frame(sw[0], 1, &arp_request(mac(1), ip(1), ip(2)));
        h.frame(sw[2], 1, &arp_request(mac(3), h3_ip(), ip(2)));
        h.frame(sw[1], 1, &arp_reply(mac(1), mac(2), ip(2), ip(1)));
        out(&mut h);
        let net = h.controller().network();
        assert_eq!(net.host_count(), 3);
        assert_eq!(net.resolve("h3.lab"), Some(h3_ip()));
        // The names compiled into drop flows: h1 cannot ping h3, h2 can, and UDP from
        // h1 to h3 is routed.
        h.frame(sw[0], 1, &icmp_1_3(1));
        assert_eq!(out(&mut h), []);
        h.frame(sw[1], 1, &ping(mac(3), mac(2), ip(2), h3_ip(), 1));
        assert_eq!(out(&mut h), [(sw[2], 1)]);
        h.frame(sw[0], 1, &udp(mac(3), mac(1), ip(1), h3_ip(), (5000, 7)));
        assert_eq!(out(&mut h), [(sw[2], 1)]);
        h.frame(sw[0], 1, &icmp_1_3(2));
        assert_eq!(out(&mut h), []);
    }
}
