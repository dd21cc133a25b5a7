//! `lab.conf` in both dialects: Netkit (tolerant, first definition wins) and Kathara
//! (strict, last definition wins). See the module essay in [`super`] for the rules.
//!
//! [`LabConf::parse`] is sans-IO: it takes the text and the path to name in messages.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;
use std::str::FromStr;

use super::error::{LabError, LabErrorKind, Warning};
use super::shellwords;

/// Interface numbers run from 0 to `MAX_INTERFACES - 1` (Netkit's default is 40; UML
/// itself has no fixed limit, so we allow more and stop at nonsense).
pub const MAX_INTERFACES: u32 = 256;

/// Names that are never machines: `shared/` (copied into every guest), `_test/` (ltest
/// material) and `CVS` (Netkit 2.8 skips it).
pub const RESERVED_NAMES: [&str; 3] = ["shared", "_test", "CVS"];

/// The two lab.conf dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// Netkit 2.8 (with Netkit-JH's `LAB_MACHINES=` and Kathara's extensions accepted):
    /// anything that is not a definition is a comment, the first definition wins.
    Netkit,
    /// Kathara: a strict line grammar, the last definition wins, interfaces from 0.
    Kathara,
}

impl Dialect {
    /// The name used on the command line (`--dialect netkit|kathara`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Netkit => "netkit",
            Dialect::Kathara => "kathara",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Dialect, String> {
        match s.to_ascii_lowercase().as_str() {
            "netkit" | "netkit-jh" | "netkit-ng" => Ok(Dialect::Netkit),
            "kathara" | "kathará" => Ok(Dialect::Kathara),
            _ => Err(format!(
                "unknown dialect `{s}` (expected netkit or kathara)"
            )),
        }
    }
}

/// One piece of evidence for a dialect: the line and what was seen there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The 1-based line.
    pub line: usize,
    /// What on that line points to the dialect.
    pub reason: String,
}

/// The outcome of [`detect_dialect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The dialect chosen.
    pub dialect: Dialect,
    /// The first Netkit-only construct (a line Kathara would reject), if any.
    pub netkit: Option<Evidence>,
    /// The first Kathara-only construct, if any.
    pub kathara: Option<Evidence>,
}

/// Guesses the dialect of a lab.conf text.
///
/// The rule: **Kathara when the file uses Kathara-only syntax and nothing that Kathara's
/// strict grammar rejects; Netkit otherwise.**
///
/// * Kathara-only: `LAB_NAME=`, a quoted value, `CD/MAC`, a collision domain with `_`,
///   the metas `image`, `bridged`, `port`, `cpus`, `shell`, `num_terms`, `ulimit`,
///   `privileged`, `entrypoint`, `args`, `volume`, `sysctl`, `env`, `ipv6`, or a memory
///   size with a unit (`mem=128m`).
/// * Netkit-only (Kathara would stop on it): `machines=`, `LAB_MACHINES=`, other unknown
///   `LAB_*` variables, free-text lines that are not `#` comments, one-letter vstart options
///   (`pc[M]=64`), UML options (`con0`, `con1`, `kernel`, `append`, `model-fs`, ...),
///   upper-case or otherwise non-Kathara device names, spaces before `=`, option names
///   with `-`, collision domains with `-` or `.`, and interface numbers that do not start
///   at 0 or have gaps.
/// * Neither (the common subset): Netkit, the reference dialect. On that subset the two
///   dialects differ only in which duplicate definition wins.
///
/// When both kinds appear the file is read as Netkit (which accepts Kathara's extensions)
/// and [`LabConf::parse`] says so in a warning.
pub fn detect_dialect(text: &str) -> Detection {
    let mut netkit: Option<Evidence> = None;
    let mut kathara: Option<Evidence> = None;
    let mut nk = |line: usize, reason: String| {
        if netkit.is_none() {
            netkit = Some(Evidence { line, reason });
        }
    };
    let mut kt = |line: usize, reason: String| {
        if kathara.is_none() {
            kathara = Some(Evidence { line, reason });
        }
    };
    // machine -> (index -> line)
    let mut ifaces: BTreeMap<&str, BTreeMap<u32, usize>> = BTreeMap::new();
    for (i, raw) in lines(text) {
        match classify(raw) {
            Line::Blank | Line::Comment => {}
            Line::Other => nk(
                i,
                "a line that is neither a definition nor a `#` comment".into(),
            ),
            Line::Machines { .. } => nk(i, "`machines=`".into()),
            Line::LabVar { name, .. } => {
                if name == "LAB_NAME" {
                    kt(i, "`LAB_NAME=`".into());
                } else if !KATHARA_LAB_VARS.contains(&name) {
                    nk(i, format!("`{name}=`"));
                }
            }
            Line::Entry {
                machine,
                arg,
                spaced,
                value,
            } => {
                if spaced {
                    nk(i, "a space before `=`".into());
                }
                if !is_kathara_device(machine) {
                    nk(i, format!("device name `{machine}`"));
                }
                if !is_word(arg) {
                    nk(i, format!("option name `{arg}`"));
                    continue;
                }
                let v = value.trim();
                let v = strip_comment(v);
                let quoted = quoted_inner(v).is_some();
                if quoted {
                    kt(i, "a quoted value".into());
                }
                let v = quoted_inner(v).unwrap_or(v);
                if arg.bytes().all(|b| b.is_ascii_digit()) {
                    if let Ok(n) = arg.parse::<u32>() {
                        ifaces.entry(machine).or_default().entry(n).or_insert(i);
                    }
                    if v.contains(',') {
                        continue; // tap: both dialects here
                    }
                    let (cd, mac) = match v.split_once('/') {
                        Some((cd, mac)) => (cd, Some(mac)),
                        None => (v, None),
                    };
                    if let Some(mac) = mac {
                        if MacAddr::from_str(mac).is_ok() {
                            kt(i, "`CD/MAC`".into());
                        }
                    }
                    if cd.contains('_') {
                        kt(i, format!("collision domain `{cd}` with `_`"));
                    }
                    if !cd.is_empty() && !is_word(cd) {
                        nk(i, format!("collision domain `{cd}`"));
                    }
                } else if arg.len() == 1 || NETKIT_OPTIONS.contains(&arg) {
                    nk(i, format!("vstart option `{arg}`"));
                } else if KATHARA_ONLY_METAS.contains(&arg) || matches!(arg, "image" | "ipv6") {
                    kt(i, format!("Kathara option `{arg}`"));
                } else if arg == "mem" && v.bytes().any(|b| b.is_ascii_alphabetic()) {
                    kt(i, "a memory size with a unit".into());
                }
            }
        }
    }
    for (machine, idx) in &ifaces {
        for (expect, (&n, &line)) in idx.iter().enumerate() {
            if n as usize != expect {
                nk(
                    line,
                    format!("`{machine}` interfaces not numbered from 0 without gaps"),
                );
                break;
            }
        }
    }
    let dialect = if netkit.is_none() && kathara.is_some() {
        Dialect::Kathara
    } else {
        Dialect::Netkit
    };
    Detection {
        dialect,
        netkit,
        kathara,
    }
}

/// A MAC address given as `CD/xx:xx:xx:xx:xx:xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Whether the group (multicast) bit is set.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl FromStr for MacAddr {
    type Err = ();

    /// Six pairs of hex digits separated by `:`.
    fn from_str(s: &str) -> Result<MacAddr, ()> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in out.iter_mut() {
            let p = parts.next().ok_or(())?;
            if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The addresses of a tap collision domain (`vm[N]=tap,TAP_ADDR,GUEST_ADDR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapSpec {
    /// The host side of the tap (the guest's default route).
    pub tap_addr: Ipv4Addr,
    /// The guest's address on this interface (a /24 as Netkit-JH configures it).
    pub guest_addr: Ipv4Addr,
}

/// One `vm[N]=VALUE` line: interface `ethN` on a collision domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConf {
    /// The collision domain name (`tap` for Netkit 2.8's tap domain).
    pub domain: String,
    /// A fixed MAC address (`CD/MAC`).
    pub mac: Option<MacAddr>,
    /// Set for a tap domain.
    pub tap: Option<TapSpec>,
    /// The 1-based line of the definition that was kept.
    pub line: usize,
}

/// An option flowlab does not interpret, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOption {
    /// The option name (`vm[NAME]`).
    pub name: String,
    /// The value, possibly empty (a flag).
    pub value: String,
    /// The 1-based line of the definition that was kept.
    pub line: usize,
}

impl RawOption {
    /// The option the way Netkit's lstart hands it to vstart: `-X VALUE` for one-letter
    /// names, `--name=VALUE` otherwise, the bare flag when the value is empty.
    pub fn vstart_args(&self) -> Vec<String> {
        match (self.name.chars().count() == 1, self.value.is_empty()) {
            (true, true) => vec![format!("-{}", self.name)],
            (true, false) => vec![format!("-{}", self.name), self.value.clone()],
            (false, true) => vec![format!("--{}", self.name)],
            (false, false) => vec![format!("--{}={}", self.name, self.value)],
        }
    }
}

/// A machine's options, typed where flowlab understands them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineOptions {
    /// Guest memory in MiB (`mem`/`M`; `64`, `64m`, `1g`).
    pub mem_mb: Option<u32>,
    /// Kathara `image` as written (mapped onto a flowlab image by the lab model).
    pub image: Option<String>,
    /// Commands run after the startup scripts (`exec`/`e`). Netkit keeps one (first wins);
    /// Kathara runs every `exec` line in order.
    pub exec: Vec<String>,
    /// Kathara `ipv6`: enable (`true`) or disable (`false`) IPv6 in the guest.
    pub ipv6: Option<bool>,
    /// `sysctl` settings (`name=value`), repeatable, in file order.
    pub sysctl: Vec<(String, String)>,
    /// `env` settings (`NAME=VALUE`), repeatable, in file order.
    pub env: Vec<(String, String)>,
    /// UML console 0 mode (`xterm`, `this`, `pty`, `port:N`, `none`).
    pub con0: Option<String>,
    /// UML console 1 mode.
    pub con1: Option<String>,
    /// The UML kernel to boot (`kernel`/`k`).
    pub kernel: Option<String>,
    /// Extra kernel parameters (`append`).
    pub append: Option<String>,
    /// Everything else, in file order (see [`RawOption::vstart_args`]).
    pub raw: Vec<RawOption>,
}

/// The definitions of one machine in lab.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineConf {
    /// The machine name.
    pub name: String,
    /// The 1-based line of its first definition.
    pub line: usize,
    /// Its interfaces by number.
    pub interfaces: BTreeMap<u32, InterfaceConf>,
    /// Its options.
    pub options: MachineOptions,
    /// The line of the kept definition of each option (the first one of a repeatable
    /// option), by option name (`M`, `e` and `k` appear as `mem`, `exec`, `kernel`).
    pub option_lines: BTreeMap<String, usize>,
}

/// A machine list given by `machines="a b"` (Netkit 2.8) or `LAB_MACHINES=a,b` (Netkit-JH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineList {
    /// The machines in start order.
    pub names: Vec<String>,
    /// The 1-based line of the definition.
    pub line: usize,
}

/// The lab description variables (shown by `flowlab info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabInfo {
    /// `LAB_NAME` (Kathara).
    pub name: Option<String>,
    /// `LAB_DESCRIPTION`.
    pub description: Option<String>,
    /// `LAB_VERSION`.
    pub version: Option<String>,
    /// `LAB_AUTHOR`.
    pub author: Option<String>,
    /// `LAB_EMAIL`.
    pub email: Option<String>,
    /// `LAB_WEB`.
    pub web: Option<String>,
}

/// A parsed lab.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabConf {
    /// The dialect it was read in.
    pub dialect: Dialect,
    /// The `machines=`/`LAB_MACHINES=` list, if any.
    pub machine_list: Option<MachineList>,
    /// The description variables.
    pub info: LabInfo,
    /// The machines with definitions, in order of their first definition.
    pub machines: Vec<MachineConf>,
}

impl LabConf {
    /// The definitions of one machine.
    pub fn machine(&self, name: &str) -> Option<&MachineConf> {
        self.machines.iter().find(|m| m.name == name)
    }

    /// Parses `text` (the contents of `file`, which is only used in messages). With
    /// `dialect` `None` the dialect is detected with [`detect_dialect`].
    pub fn parse(
        text: &str,
        file: &Path,
        dialect: Option<Dialect>,
    ) -> Result<(LabConf, Vec<Warning>), LabError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut p = Parser {
            file,
            dialect: Dialect::Netkit,
            warnings: Vec::new(),
            conf: LabConf {
                dialect: Dialect::Netkit,
                machine_list: None,
                info: LabInfo::default(),
                machines: Vec::new(),
            },
            set_lines: BTreeMap::new(),
            var_lines: BTreeMap::new(),
        };
        p.dialect = match dialect {
            Some(d) => d,
            None => {
                let det = detect_dialect(text);
                if let (Dialect::Netkit, Some(n), Some(k)) =
                    (det.dialect, &det.netkit, &det.kathara)
                {
                    p.warnings.push(Warning::file(
                        file,
                        format!(
                            "mixes Kathara syntax ({} on line {}) with Netkit syntax ({} on line \
                             {}); read as Netkit, which accepts both (force with --dialect)",
                            k.reason, k.line, n.reason, n.line
                        ),
                    ));
                }
                det.dialect
            }
        };
        p.conf.dialect = p.dialect;
        if text.contains('\r') {
            p.warnings.push(Warning::file(
                file,
                "has CRLF line endings (Netkit breaks on them); read as LF",
            ));
        }
        for (i, raw) in lines(text) {
            p.line(i, raw)?;
        }
        p.finish()?;
        Ok((p.conf, p.warnings))
    }
}

/// The `LAB_*` variables Kathara accepts.
const KATHARA_LAB_VARS: [&str; 6] = [
    "LAB_NAME",
    "LAB_DESCRIPTION",
    "LAB_VERSION",
    "LAB_AUTHOR",
    "LAB_EMAIL",
    "LAB_WEB",
];

/// vstart options (Netkit) that flowlab recognises but does not support: kept as raw
/// options and ignored with a warning. One-letter names (other than `M`, `e` and `k`) are
/// treated the same way.
const NETKIT_OPTIONS: [&str; 18] = [
    "con0",
    "con1",
    "kernel",
    "append",
    "model-fs",
    "filesystem",
    "hostlab",
    "hostwd",
    "hosthome",
    "no-hosthome",
    "hide-disk-file",
    "no-cow",
    "xterm",
    "mount",
    "foreground",
    "verbose",
    "quiet",
    "test",
];

/// Kathara metas with no meaning for a UML guest (kept raw, with a warning).
const KATHARA_ONLY_METAS: [&str; 12] = [
    "bridged",
    "port",
    "cpus",
    "shell",
    "num_terms",
    "ulimit",
    "privileged",
    "entrypoint",
    "args",
    "volume",
    "sysctl",
    "env",
];

/// The lines of `text`, numbered from 1, without the `\r` of CRLF endings.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// What a lab.conf line is, before dialect rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line<'a> {
    Blank,
    Comment,
    /// `LAB_[A-Z]+=rest`.
    LabVar {
        name: &'a str,
        rest: &'a str,
    },
    /// `machines=rest`.
    Machines {
        rest: &'a str,
    },
    /// `machine[arg] =value`, `spaced` when blanks precede the `=`.
    Entry {
        machine: &'a str,
        arg: &'a str,
        spaced: bool,
        value: &'a str,
    },
    Other,
}

fn classify(raw: &str) -> Line<'_> {
    let t = raw.trim_start_matches([' ', '\t']);
    if t.trim().is_empty() {
        return Line::Blank;
    }
    if t.starts_with('#') {
        return Line::Comment;
    }
    if let Some(after) = t.strip_prefix("LAB_") {
        let n = after.bytes().take_while(|b| b.is_ascii_uppercase()).count();
        if n > 0 && after.as_bytes().get(n) == Some(&b'=') {
            return Line::LabVar {
                name: &t[..4 + n],
                rest: &after[n + 1..],
            };
        }
    }
    if let Some(rest) = t.strip_prefix("machines=") {
        return Line::Machines { rest };
    }
    let Some(open) = t.find('[') else {
        return Line::Other;
    };
    let machine = &t[..open];
    if machine.is_empty()
        || machine
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '=' | ']' | '#'))
    {
        return Line::Other;
    }
    let after_open = &t[open + 1..];
    let Some(close) = after_open.find(']') else {
        return Line::Other;
    };
    let arg = &after_open[..close];
    if arg.contains(['[', '=']) {
        return Line::Other;
    }
    let after = &after_open[close + 1..];
    let trimmed = after.trim_start_matches([' ', '\t']);
    let Some(value) = trimmed.strip_prefix('=') else {
        return Line::Other;
    };
    Line::Entry {
        machine,
        arg,
        spaced: trimmed.len() != after.len(),
        value,
    }
}

/// ASCII `\w+`.
fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Kathara device names: `[a-z0-9_]{1,30}`.
fn is_kathara_device(s: &str) -> bool {
    (1..=30).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Machine names flowlab accepts in the Netkit dialect: letters, digits, `_`, `.`, `-`,
/// starting with a letter or digit, at most 64 bytes (they become host names and
/// directory names).
pub(crate) fn is_netkit_machine(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `name` is usable as a machine in `dialect`.
pub(crate) fn is_machine_name(name: &str, dialect: Dialect) -> bool {
    match dialect {
        Dialect::Netkit => is_netkit_machine(name),
        Dialect::Kathara => is_kathara_device(name),
    }
}

/// Removes a trailing ` # comment` (a `#` after a blank).
fn strip_comment(v: &str) -> &str {
    let b = v.as_bytes();
    for i in 1..b.len() {
        if b[i] == b'#' && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return v[..i].trim_end();
        }
    }
    v
}

/// The inside of `"..."` or `'...'` when `v` is exactly one quoted string.
fn quoted_inner(v: &str) -> Option<&str> {
    let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = v.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q)).then_some(inner)
}

/// A value after the dialect's rules.
#[derive(Debug)]
struct Value {
    text: String,
}

/// Netkit value: everything after `=`, a trailing ` #comment` removed, then either the
/// inside of one quoted string (Kathara style, kept verbatim) or the text with every
/// blank deleted (Netkit 2.8).
fn netkit_value(raw: &str) -> Value {
    let t = raw.trim();
    // A quoted value may itself contain " #"; look for the closing quote first.
    if let Some(q) = t.chars().next().filter(|c| *c == '"' || *c == '\'') {
        if let Some(end) = t[1..].find(q) {
            let rest = t[1 + end + 1..].trim();
            if rest.is_empty() || rest.starts_with('#') {
                return Value {
                    text: t[1..1 + end].to_string(),
                };
            }
        }
    }
    Value {
        text: strip_comment(t)
            .chars()
            .filter(|c| *c != ' ' && *c != '\t')
            .collect(),
    }
}

/// Kathara value: `(quote)value(same quote)(\s+#comment)?` with no quote inside.
fn kathara_value(raw: &str) -> Result<Value, String> {
    let t = raw.trim();
    if let Some(q) = t.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let Some(end) = t[1..].find(q) else {
            return Err("the quote is not closed".into());
        };
        let inner = &t[1..1 + end];
        if inner.contains(['"', '\'']) {
            return Err("quotes inside a value".into());
        }
        let rest = &t[1 + end + 1..];
        let comment = rest.starts_with([' ', '\t']) && rest.trim().starts_with('#');
        if !rest.is_empty() && !comment {
            return Err("text after the closing quote".into());
        }
        return Ok(Value {
            text: inner.to_string(),
        });
    }
    let v = strip_comment(t);
    if v.contains(['"', '\'']) {
        return Err("quotes inside a value".into());
    }
    Ok(Value {
        text: v.to_string(),
    })
}

/// Memory in MiB: digits with an optional unit `m`/`mb` (MiB) or `g`/`gb` (GiB).
fn parse_mem(v: &str) -> Option<u32> {
    let digits = v.bytes().take_while(|b| b.is_ascii_digit()).count();
    let n: u32 = v.get(..digits)?.parse().ok()?;
    let mul = match v.get(digits..)?.to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mib" => 1,
        "g" | "gb" | "gib" => 1024,
        _ => return None,
    };
    n.checked_mul(mul).filter(|mb| *mb > 0)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

struct Parser<'a> {
    file: &'a Path,
    dialect: Dialect,
    warnings: Vec<Warning>,
    conf: LabConf,
    /// (machine, option key) -> line of the kept definition (single-valued options).
    set_lines: BTreeMap<(String, String), usize>,
    /// LAB_* or machines -> line of the last definition.
    var_lines: BTreeMap<String, usize>,
}

const DIALECT_HINT: &str = "or use --dialect netkit";

impl Parser<'_> {
    fn err(&self, line: usize, text: &str, kind: LabErrorKind) -> LabError {
        LabError::at(self.file, line, text, kind)
    }

    fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.warnings.push(Warning::at(self.file, line, message));
    }

    fn line(&mut self, i: usize, raw: &str) -> Result<(), LabError> {
        match classify(raw) {
            Line::Blank | Line::Comment => Ok(()),
            Line::Other => match self.dialect {
                Dialect::Kathara => Err(self
                    .err(
                        i,
                        raw,
                        LabErrorKind::Syntax("not a Kathara lab.conf line".into()),
                    )
                    .with_hint(format!(
                        "Kathara allows only `device[arg]=value`, `LAB_NAME=...`-style \
                         variables and `# comments`; {DIALECT_HINT} to read free text as \
                         comments"
                    ))),
                Dialect::Netkit => {
                    if raw.contains('[') && raw.contains('=') {
                        self.warn(
                            i,
                            "looks like a definition but is not `machine[arg]=value`; ignored \
                             (Netkit treats it as a comment)",
                        );
                    }
                    Ok(())
                }
            },
            Line::Machines { rest } => self.machine_list(i, raw, "machines", rest),
            Line::LabVar { name, rest } => {
                if name == "LAB_MACHINES" {
                    return self.machine_list(i, raw, name, rest);
                }
                self.lab_var(i, raw, name, rest)
            }
            Line::Entry {
                machine,
                arg,
                spaced,
                value,
            } => self.entry(i, raw, machine, arg, spaced, value),
        }
    }

    /// A variable's value in the current dialect.
    fn var_value(&mut self, i: usize, raw: &str, rest: &str) -> Result<String, LabError> {
        match self.dialect {
            Dialect::Kathara => kathara_value(rest).map(|v| v.text).map_err(|why| {
                self.err(i, raw, LabErrorKind::Value(why))
                    .with_hint("write `LAB_DESCRIPTION=\"some text\"` with matching quotes")
            }),
            Dialect::Netkit => match shellwords::assignment_value(rest) {
                Ok((v, more)) => {
                    if more {
                        self.warn(
                            i,
                            "words after the value are ignored (the shell would run them); \
                             quote the value",
                        );
                    }
                    Ok(v)
                }
                Err(shellwords::SplitError::Unclosed(q)) => Err(self
                    .err(i, raw, LabErrorKind::Value(format!("unclosed {q}")))
                    .with_hint(format!("close the {q} quote"))),
            },
        }
    }

    fn note_var(&mut self, i: usize, name: &str) {
        if let Some(prev) = self.var_lines.insert(name.to_string(), i) {
            self.warn(
                i,
                format!("`{name}` is also set on line {prev}; the last value is used"),
            );
        }
    }

    fn lab_var(&mut self, i: usize, raw: &str, name: &str, rest: &str) -> Result<(), LabError> {
        if self.dialect == Dialect::Kathara && !KATHARA_LAB_VARS.contains(&name) {
            return Err(self
                .err(
                    i,
                    raw,
                    LabErrorKind::Syntax(format!("unknown variable `{name}`")),
                )
                .with_hint(format!(
                    "Kathara knows {}; {DIALECT_HINT}",
                    KATHARA_LAB_VARS.join(", ")
                )));
        }
        let value = self.var_value(i, raw, rest)?;
        let info = &mut self.conf.info;
        let slot = match name {
            "LAB_NAME" => &mut info.name,
            "LAB_DESCRIPTION" => &mut info.description,
            "LAB_VERSION" => &mut info.version,
            "LAB_AUTHOR" => &mut info.author,
            "LAB_EMAIL" => &mut info.email,
            "LAB_WEB" => &mut info.web,
            _ => {
                self.warn(i, format!("unknown lab variable `{name}`; ignored"));
                return Ok(());
            }
        };
        *slot = Some(value);
        self.note_var(i, name);
        Ok(())
    }

    fn machine_list(
        &mut self,
        i: usize,
        raw: &str,
        name: &str,
        rest: &str,
    ) -> Result<(), LabError> {
        if self.dialect == Dialect::Kathara {
            return Err(self
                .err(
                    i,
                    raw,
                    LabErrorKind::Syntax(format!("`{name}=` is not Kathara syntax")),
                )
                .with_hint(format!(
                    "Kathara takes the machines from lab.conf and the folders: remove the \
                     line, {DIALECT_HINT}"
                )));
        }
        // Netkit 2.8 adds quotes around an unquoted `machines=a b`.
        let t = rest.trim_start();
        let value = if t.starts_with(['"', '\'']) {
            self.var_value(i, raw, t)?
        } else {
            strip_comment(rest.trim()).to_string()
        };
        let mut names: Vec<String> = Vec::new();
        for n in value.split([' ', '\t', ',']).filter(|n| !n.is_empty()) {
            if RESERVED_NAMES.contains(&n) {
                return Err(self
                    .err(i, raw, LabErrorKind::MachineName(n.into()))
                    .with_hint(format!("`{n}` is a reserved folder name, not a machine")));
            }
            if !is_netkit_machine(n) {
                return Err(self
                    .err(i, raw, LabErrorKind::MachineName(n.into()))
                    .with_hint(
                        "machine names are letters, digits, `_`, `.` and `-`, starting with a \
                     letter or digit",
                    ));
            }
            if names.iter().any(|x| x == n) {
                self.warn(
                    i,
                    format!("machine `{n}` is listed twice; the first place counts"),
                );
                continue;
            }
            names.push(n.to_string());
        }
        self.note_var(i, "machines");
        self.conf.machine_list = Some(MachineList { names, line: i });
        Ok(())
    }

    fn machine_index(&mut self, name: &str, line: usize) -> usize {
        if let Some(pos) = self.conf.machines.iter().position(|m| m.name == name) {
            return pos;
        }
        self.conf.machines.push(MachineConf {
            name: name.to_string(),
            line,
            interfaces: BTreeMap::new(),
            options: MachineOptions::default(),
            option_lines: BTreeMap::new(),
        });
        self.conf.machines.len() - 1
    }

    fn entry(
        &mut self,
        i: usize,
        raw: &str,
        machine: &str,
        arg: &str,
        spaced: bool,
        value: &str,
    ) -> Result<(), LabError> {
        let kathara = self.dialect == Dialect::Kathara;
        if RESERVED_NAMES.contains(&machine) {
            return Err(self
                .err(i, raw, LabErrorKind::MachineName(machine.into()))
                .with_hint(format!(
                    "`{machine}` is a reserved folder name, not a machine"
                )));
        }
        if !is_machine_name(machine, self.dialect) {
            let hint = if kathara {
                format!(
                    "Kathara device names are 1 to 30 lower-case letters, digits and `_`; \
                     rename it, {DIALECT_HINT}"
                )
            } else {
                "machine names are letters, digits, `_`, `.` and `-`, starting with a letter \
                 or digit"
                    .to_string()
            };
            return Err(self
                .err(i, raw, LabErrorKind::MachineName(machine.into()))
                .with_hint(hint));
        }
        if kathara && spaced {
            return Err(self
                .err(i, raw, LabErrorKind::Syntax("blank before `=`".into()))
                .with_hint(format!("write `{machine}[{arg}]=...`, {DIALECT_HINT}")));
        }
        let arg_ok = if kathara {
            is_word(arg)
        } else {
            !arg.is_empty()
                && arg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !arg_ok {
            let hint = if kathara {
                format!("Kathara option names are letters, digits and `_`; {DIALECT_HINT}")
            } else {
                "write `machine[N]=DOMAIN` for an interface or `machine[option]=value`".into()
            };
            return Err(self
                .err(i, raw, LabErrorKind::OptionName(arg.into()))
                .with_hint(hint));
        }
        let value = if kathara {
            kathara_value(value).map_err(|why| {
                self.err(i, raw, LabErrorKind::Syntax(why))
                    .with_hint(format!(
                        "Kathara values are `value`, `\"value\"` or `'value'` without quotes \
                     inside; {DIALECT_HINT}"
                    ))
            })?
        } else {
            netkit_value(value)
        };
        let m = self.machine_index(machine, i);
        if arg.bytes().all(|b| b.is_ascii_digit()) {
            self.interface(i, raw, m, arg, value)
        } else {
            self.option(i, raw, m, arg, value)
        }
    }

    fn interface(
        &mut self,
        i: usize,
        raw: &str,
        m: usize,
        arg: &str,
        value: Value,
    ) -> Result<(), LabError> {
        let name = self.conf.machines[m].name.clone();
        let index = match arg.parse::<u32>() {
            Ok(n) if n < MAX_INTERFACES => n,
            _ => {
                return Err(self
                    .err(i, raw, LabErrorKind::InterfaceNumber(arg.into()))
                    .with_hint(format!(
                        "interfaces are numbered 0 to {}",
                        MAX_INTERFACES - 1
                    )))
            }
        };
        if let Some(prev) = self.conf.machines[m].interfaces.get(&index).map(|c| c.line) {
            match self.dialect {
                Dialect::Netkit => {
                    self.warn(
                        i,
                        format!(
                            "`{name}[{index}]` is already defined on line {prev}; keeping the \
                             first definition (Netkit rule)"
                        ),
                    );
                    return Ok(());
                }
                Dialect::Kathara => {
                    return Err(self
                        .err(
                            i,
                            raw,
                            LabErrorKind::DuplicateInterface {
                                machine: name,
                                index,
                            },
                        )
                        .with_hint(format!(
                            "it is already defined on line {prev}; remove one of the lines"
                        )))
                }
            }
        }
        let conf = self.domain_value(i, raw, &value)?;
        self.conf.machines[m].interfaces.insert(index, conf);
        Ok(())
    }

    /// Parses an interface value: `CD`, `CD/MAC`, `tap,TAP,GUEST`, `CD,TAP,GUEST`.
    fn domain_value(
        &mut self,
        i: usize,
        raw: &str,
        value: &Value,
    ) -> Result<InterfaceConf, LabError> {
        let v = value.text.as_str();
        let kathara = self.dialect == Dialect::Kathara;
        if v.is_empty() {
            return Err(self
                .err(i, raw, LabErrorKind::DomainName(String::new()))
                .with_hint("name a collision domain, e.g. `pc1[0]=A`"));
        }
        let tap_hint = "write `tap,TAP_ADDR,GUEST_ADDR` with dotted IPv4 addresses, e.g. \
                        `r1[0]=tap,10.0.0.1,10.0.0.2`";
        if v.contains(',') {
            let parts: Vec<&str> = v.split(',').collect();
            let tap = match parts.as_slice() {
                [d, t, g] => match (t.parse::<Ipv4Addr>(), g.parse::<Ipv4Addr>()) {
                    (Ok(t), Ok(g)) => Some((*d, t, g)),
                    _ => None,
                },
                _ => None,
            };
            match tap {
                Some((d, tap_addr, guest_addr)) => {
                    if d != "tap" {
                        self.check_domain_name(i, raw, d)?;
                    }
                    return Ok(InterfaceConf {
                        domain: d.to_string(),
                        mac: None,
                        tap: Some(TapSpec {
                            tap_addr,
                            guest_addr,
                        }),
                        line: i,
                    });
                }
                None if v.starts_with("tap,") => {
                    return Err(self
                        .err(i, raw, LabErrorKind::Tap(v.into()))
                        .with_hint(tap_hint))
                }
                None => {}
            }
        }
        let (cd, mac) = match v.split_once('/') {
            Some((cd, mac_text)) => {
                let Ok(mac) = MacAddr::from_str(mac_text) else {
                    return Err(self
                        .err(i, raw, LabErrorKind::Mac(mac_text.into()))
                        .with_hint(
                            "write `CD/02:00:00:00:00:01`: six hex pairs separated by `:`",
                        ));
                };
                if mac.is_multicast() {
                    self.warn(
                        i,
                        format!("MAC {mac} has the multicast bit set; the guest may not use it"),
                    );
                }
                (cd, Some(mac))
            }
            None => (v, None),
        };
        let cd = if kathara {
            self.check_domain_name(i, raw, cd)?;
            cd.to_string()
        } else {
            let stripped: String = cd
                .chars()
                .filter(|c| !matches!(c, ',' | '.' | '_'))
                .collect();
            if stripped != cd && !stripped.is_empty() {
                self.warn(
                    i,
                    format!(
                        "collision domain `{cd}`: Netkit removes `,`, `.` and `_` from domain \
                         names; using `{stripped}`"
                    ),
                );
            }
            self.check_domain_name(i, raw, &stripped)?;
            stripped
        };
        Ok(InterfaceConf {
            domain: cd,
            mac,
            tap: None,
            line: i,
        })
    }

    fn check_domain_name(&self, i: usize, raw: &str, cd: &str) -> Result<(), LabError> {
        let (ok, hint) = match self.dialect {
            Dialect::Kathara => (
                is_word(cd),
                format!(
                    "Kathara collision domain names are letters, digits and `_`; rename it, \
                     {DIALECT_HINT}"
                ),
            ),
            Dialect::Netkit => (
                !cd.is_empty()
                    && cd.len() <= 64
                    && cd.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "collision domain names are at most 64 letters, digits and `-`".to_string(),
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(self
                .err(i, raw, LabErrorKind::DomainName(cd.into()))
                .with_hint(hint))
        }
    }

    fn option(
        &mut self,
        i: usize,
        raw: &str,
        m: usize,
        arg: &str,
        value: Value,
    ) -> Result<(), LabError> {
        let kathara = self.dialect == Dialect::Kathara;
        let machine = self.conf.machines[m].name.clone();
        let key = match arg {
            "M" => "mem",
            "e" => "exec",
            "k" => "kernel",
            other => other,
        };
        let repeatable = matches!(key, "sysctl" | "env") || (key == "exec" && kathara);
        if !repeatable {
            let slot = (machine.clone(), key.to_string());
            if let Some(&prev) = self.set_lines.get(&slot) {
                if kathara {
                    self.warn(
                        i,
                        format!(
                            "`{machine}[{key}]` is also defined on line {prev}; the last \
                             definition wins (Kathara rule)"
                        ),
                    );
                } else {
                    self.warn(
                        i,
                        format!(
                            "`{machine}[{key}]` is already defined on line {prev}; keeping the \
                             first definition (Netkit rule)"
                        ),
                    );
                    return Ok(());
                }
            }
            self.set_lines.insert(slot, i);
            self.conf.machines[m]
                .option_lines
                .insert(key.to_string(), i);
        } else {
            self.conf.machines[m]
                .option_lines
                .entry(key.to_string())
                .or_insert(i);
        }
        let bad = |p: &Self, hint: &str| {
            p.err(
                i,
                raw,
                LabErrorKind::OptionValue {
                    option: key.into(),
                    value: value.text.clone(),
                },
            )
            .with_hint(hint.to_string())
        };
        let text = value.text.clone();
        let opts = &mut self.conf.machines[m].options;
        match key {
            "mem" => match parse_mem(&text) {
                Some(mb) => opts.mem_mb = Some(mb),
                None => return Err(bad(self, "memory in MiB: `64`, `64m` or `1g`")),
            },
            "image" => {
                if text.is_empty() {
                    return Err(bad(self, "name an image, e.g. `kathara/frr`"));
                }
                opts.image = Some(text);
            }
            "exec" => {
                if text.is_empty() {
                    return Err(bad(self, "give the command to run after the startup files"));
                }
                if kathara {
                    opts.exec.push(text);
                } else {
                    opts.exec = vec![text];
                }
            }
            "ipv6" => match parse_bool(&text) {
                Some(b) => opts.ipv6 = Some(b),
                None => return Err(bad(self, "write `true` or `false`")),
            },
            "sysctl" | "env" => {
                let Some((k, v)) = text.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                    let hint = if key == "sysctl" {
                        "write `net.ipv4.ip_forward=1`"
                    } else {
                        "write `NAME=VALUE`"
                    };
                    return Err(bad(self, hint));
                };
                let pair = (k.to_string(), v.to_string());
                if key == "sysctl" {
                    opts.sysctl.push(pair);
                    if kathara && !k.starts_with("net.") {
                        self.warn(
                            i,
                            format!("sysctl `{k}`: Kathara allows only `net.*` settings"),
                        );
                    }
                } else {
                    opts.env.push(pair);
                }
            }
            "con0" | "con1" | "kernel" | "append" => {
                if text.is_empty() {
                    return Err(bad(self, "give a value"));
                }
                let slot = match key {
                    "con0" => &mut opts.con0,
                    "con1" => &mut opts.con1,
                    "kernel" => &mut opts.kernel,
                    _ => &mut opts.append,
                };
                *slot = Some(text);
            }
            _ => {
                let raw_opt = RawOption {
                    name: key.to_string(),
                    value: text,
                    line: i,
                };
                match opts.raw.iter_mut().find(|r| r.name == key) {
                    Some(r) => *r = raw_opt,
                    None => opts.raw.push(raw_opt),
                }
                if KATHARA_ONLY_METAS.contains(&key) {
                    self.warn(
                        i,
                        format!("Kathara option `{key}` has no meaning for UML guests; ignored"),
                    );
                } else if key.len() == 1 || NETKIT_OPTIONS.contains(&key) {
                    self.warn(
                        i,
                        format!("Netkit option `{key}` is not supported by flowlab; ignored"),
                    );
                } else {
                    self.warn(i, format!("unknown option `{key}`; ignored"));
                }
            }
        }
        Ok(())
    }

    /// Whole-file checks: Kathara's contiguous interfaces, one interface per domain.
    fn finish(&mut self) -> Result<(), LabError> {
        let kathara = self.dialect == Dialect::Kathara;
        let mut warnings = Vec::new();
        for m in &self.conf.machines {
            if kathara {
                for (expect, (&n, c)) in m.interfaces.iter().enumerate() {
                    let expect = expect as u32;
                    if n != expect {
                        return Err(LabError::at(
                            self.file,
                            c.line,
                            &format!("{}[{}]={}", m.name, n, c.domain),
                            LabErrorKind::InterfaceGap {
                                machine: m.name.clone(),
                                missing: expect,
                            },
                        )
                        .with_hint(format!(
                            "Kathara requires interfaces numbered from 0 without gaps: add \
                             `{}[{}]=...` {DIALECT_HINT}",
                            m.name, expect
                        )));
                    }
                }
            }
            let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
            for (&n, c) in &m.interfaces {
                if let Some(&first) = seen.get(c.domain.as_str()) {
                    if kathara {
                        return Err(LabError::at(
                            self.file,
                            c.line,
                            &format!("{}[{}]={}", m.name, n, c.domain),
                            LabErrorKind::TwiceOnDomain {
                                machine: m.name.clone(),
                                domain: c.domain.clone(),
                            },
                        )
                        .with_hint(format!(
                            "eth{first} is already on `{}`; a device sits once on a collision \
                             domain: remove one of the lines, {DIALECT_HINT}",
                            c.domain
                        )));
                    }
                    warnings.push(Warning::at(
                        self.file,
                        c.line,
                        format!(
                            "`{}` has two interfaces (eth{first} and eth{n}) on collision \
                             domain `{}`",
                            m.name, c.domain
                        ),
                    ));
                } else {
                    seen.insert(&c.domain, n);
                }
            }
        }
        self.warnings.extend(warnings);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str, d: Option<Dialect>) -> Result<(LabConf, Vec<Warning>), LabError> {
        LabConf::parse(text, Path::new("/lab/lab.conf"), d)
    }

    fn ok(text: &str, d: Option<Dialect>) -> (LabConf, Vec<Warning>) {
        match p(text, d) {
            Ok(x) => x,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn err(text: &str, d: Option<Dialect>) -> LabError {
        match p(text, d) {
            Ok((c, _)) => panic!("expected an error, got {c:?}"),
            Err(e) => e,
        }
    }

    /// The example of Netkit's lab.conf(5).
    const NETKIT_MAN: &str = "\
machines=\"pc1 pc2 router\"
pc1[0]=CD1
pc2[0]=CD2
router[0]=CD1
router[1]=CD2
pc1[mem]=64
router[mem]=128
";

    #[test]
    fn netkit_man_page_example() {
        let (c, w) = ok(NETKIT_MAN, None);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.dialect, Dialect::Netkit);
        let list = c.machine_list.as_ref().unwrap();
        assert_eq!(list.names, ["pc1", "pc2", "router"]);
        assert_eq!(list.line, 1);
        let r = c.machine("router").unwrap();
        assert_eq!(r.interfaces[&0].domain, "CD1");
        assert_eq!(r.interfaces[&1].domain, "CD2");
        assert_eq!(r.interfaces[&1].line, 5);
        assert_eq!(r.options.mem_mb, Some(128));
        assert_eq!(c.machine("pc1").unwrap().options.mem_mb, Some(64));
        assert_eq!(
            c.machines
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>(),
            ["pc1", "pc2", "router"]
        );
    }

    #[test]
    fn netkit_quirks() {
        let text = "\
This lab shows Netkit's tolerance: free text is a comment.
LAB_DESCRIPTION=\"two words\"
LAB_AUTHOR=Somebody Else
LAB_MACHINES=r1,r2
r1[1] = B_net
r1[2]=C.x
r1[1]=Z
r1[M]=32
r1[mem]=64
r1[D]=
r1[no-hosthome]=
r1[exec]=echo hi there
r1[exec]=second
r2[0]=tap,10.0.0.1,10.0.0.2
r2[con0]=port:4000
r2[1]=lan1/02:00:00:00:00:01
r2[image]=\"kathara/frr\"   # trailing comment
";
        let (c, w) = ok(text, Some(Dialect::Netkit));
        let ws: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert_eq!(c.info.description.as_deref(), Some("two words"));
        assert_eq!(c.info.author.as_deref(), Some("Somebody"));
        assert!(
            ws.iter()
                .any(|w| w.starts_with("/lab/lab.conf:3: words after")),
            "{ws:?}"
        );
        assert_eq!(c.machine_list.as_ref().unwrap().names, ["r1", "r2"]);
        let r1 = c.machine("r1").unwrap();
        // Gaps allowed, `_`/`.` stripped with a warning, first definition wins.
        assert_eq!(r1.interfaces.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(r1.interfaces[&1].domain, "Bnet");
        assert_eq!(r1.interfaces[&2].domain, "Cx");
        assert!(ws
            .iter()
            .any(|w| w.starts_with("/lab/lab.conf:5: collision domain `B_net`")));
        assert!(ws
            .iter()
            .any(|w| w.starts_with("/lab/lab.conf:7: `r1[1]` is already defined on line 5")));
        assert_eq!(r1.options.mem_mb, Some(32), "M aliases mem, first wins");
        assert!(ws
            .iter()
            .any(|w| w.starts_with("/lab/lab.conf:9: `r1[mem]`")));
        assert_eq!(r1.options.exec, ["echohithere"], "Netkit deletes blanks");
        let args: Vec<Vec<String>> = r1.options.raw.iter().map(|r| r.vstart_args()).collect();
        assert_eq!(
            args,
            [vec!["-D".to_string()], vec!["--no-hosthome".to_string()]]
        );
        let r2 = c.machine("r2").unwrap();
        let tap = r2.interfaces[&0].tap.unwrap();
        assert_eq!(r2.interfaces[&0].domain, "tap");
        assert_eq!(tap.tap_addr, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(tap.guest_addr, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(r2.options.con0.as_deref(), Some("port:4000"));
        assert_eq!(
            r2.interfaces[&1].mac.unwrap().to_string(),
            "02:00:00:00:00:01"
        );
        assert_eq!(r2.options.image.as_deref(), Some("kathara/frr"));
    }

    #[test]
    fn raw_option_rendering() {
        let r = |n: &str, v: &str| RawOption {
            name: n.into(),
            value: v.into(),
            line: 1,
        };
        assert_eq!(r("m", "/fs").vstart_args(), ["-m", "/fs"]);
        assert_eq!(r("model-fs", "/fs").vstart_args(), ["--model-fs=/fs"]);
        assert_eq!(r("W", "").vstart_args(), ["-W"]);
    }

    /// A Kathara lab in the style of its public labs: FRR image, fixed MACs, metas.
    const KATHARA_FRR: &str = "\
LAB_NAME=\"bgp-simple\"
LAB_DESCRIPTION=\"two AS with eBGP\"
LAB_AUTHOR='Kathara'

router1[0]=\"A/02:42:ac:11:00:01\"
router1[1]=\"ext_1\"
router1[image]=\"kathara/frr:latest\"
router1[sysctl]=\"net.ipv4.ip_forward=1\"
router1[sysctl]=net.ipv6.conf.all.forwarding=1
router1[env]=\"ROLE=border router\"
router1[exec]=\"echo one\"
router1[exec]=\"echo two\"

router2[0]=A
router2[image]=kathara/frr
router2[mem]=256m
router2[mem]=1g  # last wins
router2[ipv6]=false
router2[bridged]=true
";

    #[test]
    fn kathara_lab_with_frr_and_macs() {
        let (c, w) = ok(KATHARA_FRR, None);
        assert_eq!(c.dialect, Dialect::Kathara);
        assert_eq!(c.info.name.as_deref(), Some("bgp-simple"));
        assert_eq!(c.info.author.as_deref(), Some("Kathara"));
        let r1 = c.machine("router1").unwrap();
        assert_eq!(r1.interfaces[&0].domain, "A");
        assert_eq!(
            r1.interfaces[&0].mac,
            Some(MacAddr([2, 0x42, 0xac, 0x11, 0, 1]))
        );
        assert_eq!(r1.interfaces[&1].domain, "ext_1", "Kathara keeps `_`");
        assert_eq!(r1.options.image.as_deref(), Some("kathara/frr:latest"));
        assert_eq!(
            r1.options.sysctl,
            [
                ("net.ipv4.ip_forward".to_string(), "1".to_string()),
                ("net.ipv6.conf.all.forwarding".to_string(), "1".to_string())
            ]
        );
        assert_eq!(
            r1.options.env,
            [("ROLE".to_string(), "border router".to_string())]
        );
        assert_eq!(r1.options.exec, ["echo one", "echo two"]);
        let r2 = c.machine("router2").unwrap();
        assert_eq!(r2.options.mem_mb, Some(1024), "last wins");
        assert_eq!(r2.options.ipv6, Some(false));
        let ws: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert!(
            ws.iter()
                .any(|w| w
                    .starts_with("/lab/lab.conf:17: `router2[mem]` is also defined on line 16")),
            "{ws:?}"
        );
        assert!(
            ws.iter().any(|w| w.contains("`bridged` has no meaning")),
            "{ws:?}"
        );
        assert_eq!(r2.options.raw[0].name, "bridged");
    }

    #[test]
    fn detection_rules() {
        assert_eq!(detect_dialect(NETKIT_MAN).dialect, Dialect::Netkit);
        assert_eq!(detect_dialect(KATHARA_FRR).dialect, Dialect::Kathara);
        let d = detect_dialect("pc1[0]=A\npc2[0]=A\n");
        assert_eq!(d.dialect, Dialect::Netkit, "common subset reads as Netkit");
        assert!(d.netkit.is_none() && d.kathara.is_none());
        let d = detect_dialect("pc1[0]=A\npc1[image]=kathara/base\n");
        assert_eq!(d.dialect, Dialect::Kathara);
        assert_eq!(d.kathara.unwrap().line, 2);
        let d = detect_dialect("pc1[0]=A\npc1[image]=kathara/base\nr[1]=B\n");
        assert_eq!(d.dialect, Dialect::Netkit, "a gap is Netkit-only");
        assert_eq!(d.netkit.unwrap().line, 3);
        assert_eq!(detect_dialect("pc1[0]=a_b\n").dialect, Dialect::Kathara);
        assert_eq!(
            detect_dialect("PC1[0]=A\npc1[mem]=64m\n").dialect,
            Dialect::Netkit
        );
        assert_eq!(
            detect_dialect("pc1[M]=64\npc1[mem]=64m\n").dialect,
            Dialect::Netkit
        );
        assert_eq!(
            detect_dialect("LAB_NAME=x\nsome text\n").dialect,
            Dialect::Netkit
        );
        // Mixed: read as Netkit, with a warning naming both lines.
        let (c, w) = ok("LAB_NAME=x\nmachines=\"a\"\na[0]=A\n", None);
        assert_eq!(c.dialect, Dialect::Netkit);
        assert!(
            w[0].message.contains("line 1") && w[0].message.contains("line 2"),
            "{w:?}"
        );
    }

    #[test]
    fn kathara_errors_have_lines_and_hints() {
        let k = Some(Dialect::Kathara);
        let e = err("r1[0]=A\nr1[2]=B\n", k);
        assert_eq!(e.line(), Some(2));
        assert_eq!(
            *e.kind(),
            LabErrorKind::InterfaceGap {
                machine: "r1".into(),
                missing: 1
            }
        );
        assert!(e.hint().unwrap().contains("add `r1[1]=...`"));
        let e = err("\nr1[1]=B\n", k);
        assert_eq!(e.line(), Some(2));
        let h = e.hint().unwrap();
        assert!(
            h.contains("Kathara requires interfaces numbered from 0"),
            "{h}"
        );
        assert!(
            h.contains("add `r1[0]=...`") && h.contains("--dialect netkit"),
            "{h}"
        );

        let e = err("# ok\nmachines=\"a b\"\n", k);
        assert_eq!(e.line(), Some(2));
        assert!(e.hint().unwrap().contains("--dialect netkit"));

        let e = err("a[0]=A\nthis is free text\n", k);
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.text(), "this is free text");
        assert!(matches!(e.kind(), LabErrorKind::Syntax(_)));

        let e = err("PC1[0]=A\n", k);
        assert_eq!(*e.kind(), LabErrorKind::MachineName("PC1".into()));
        assert!(e.hint().unwrap().contains("lower-case"));

        let e = err("a[0]=lan-1\n", k);
        assert_eq!(*e.kind(), LabErrorKind::DomainName("lan-1".into()));

        let e = err("a[0]=A\na[1]=A\n", k);
        assert_eq!(e.line(), Some(2));
        assert!(matches!(e.kind(), LabErrorKind::TwiceOnDomain { .. }));

        let e = err("a[0]=A\na[0]=B\n", k);
        assert_eq!(e.line(), Some(2));
        assert!(e.hint().unwrap().contains("line 1"));

        let e = err("a[0]=\"A\n", k);
        assert_eq!(e.line(), Some(1));

        let e = err("a[0] =A\n", k);
        assert!(matches!(e.kind(), LabErrorKind::Syntax(_)));

        let e = err("LAB_MACHINES=a,b\n", k);
        assert_eq!(e.line(), Some(1));

        let e = err("LAB_FOO=1\n", k);
        assert!(e.hint().unwrap().contains("LAB_NAME"));
    }

    #[test]
    fn errors_in_both_dialects() {
        for d in [Some(Dialect::Netkit), Some(Dialect::Kathara)] {
            let e = err("a[0]=A\na[mem]=lots\n", d);
            assert_eq!(e.line(), Some(2));
            assert!(e.hint().unwrap().contains("MiB"));
            let e = err("a[0]=A/zz:00:00:00:00:00\n", d);
            assert_eq!(*e.kind(), LabErrorKind::Mac("zz:00:00:00:00:00".into()));
            let e = err("a[0]=tap,10.0.0.1\n", d);
            assert!(matches!(e.kind(), LabErrorKind::Tap(_)));
            assert!(e.hint().unwrap().contains("tap,TAP_ADDR,GUEST_ADDR"));
            let e = err("a[999]=A\n", d);
            assert_eq!(*e.kind(), LabErrorKind::InterfaceNumber("999".into()));
            let e = err("\n\nshared[0]=A\n", d);
            assert_eq!(e.line(), Some(3));
            assert!(e.hint().unwrap().contains("reserved"));
            let e = err("a[0]=\n", d);
            assert_eq!(*e.kind(), LabErrorKind::DomainName(String::new()));
            let e = err("a[sysctl]=nonsense\n", d);
            assert!(matches!(e.kind(), LabErrorKind::OptionValue { .. }));
            let e = err("a[ipv6]=maybe\n", d);
            assert!(matches!(e.kind(), LabErrorKind::OptionValue { .. }));
        }
        let e = err("LAB_DESCRIPTION=\"open\n", Some(Dialect::Netkit));
        assert!(e.hint().unwrap().contains("close"));
        let e = err("machines=\"a b$\"\n", Some(Dialect::Netkit));
        assert_eq!(*e.kind(), LabErrorKind::MachineName("b$".into()));
        let e = err("a[0]=x$y\n", Some(Dialect::Netkit));
        assert_eq!(*e.kind(), LabErrorKind::DomainName("x$y".into()));
    }

    #[test]
    fn netkit_twice_on_a_domain_is_a_warning() {
        let (c, w) = ok("a[0]=A\na[1]=A\n", Some(Dialect::Netkit));
        assert_eq!(c.machine("a").unwrap().interfaces.len(), 2);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(2));
    }

    #[test]
    fn jh_tap_and_crlf_and_bom() {
        let (c, w) = ok(
            "\u{feff}r[0]=ext,192.168.7.1,192.168.7.2\r\nr[1]=B\r\n",
            None,
        );
        let r = c.machine("r").unwrap();
        assert_eq!(r.interfaces[&0].domain, "ext");
        assert!(r.interfaces[&0].tap.is_some());
        assert_eq!(r.interfaces[&1].domain, "B");
        assert!(w.iter().any(|w| w.message.contains("CRLF")));
    }

    #[test]
    fn mem_and_mac_parsing() {
        assert_eq!(parse_mem("64"), Some(64));
        assert_eq!(parse_mem("64m"), Some(64));
        assert_eq!(parse_mem("64M"), Some(64));
        assert_eq!(parse_mem("2g"), Some(2048));
        assert_eq!(parse_mem("0"), None);
        assert_eq!(parse_mem("m"), None);
        assert_eq!(parse_mem("99999999999"), None);
        assert_eq!(parse_mem("5000000g"), None);
        assert!(MacAddr::from_str("02:00:00:00:00:0g").is_err());
        assert!(MacAddr::from_str("02:00:00:00:00").is_err());
        assert!(MacAddr::from_str("02:00:00:00:00:00:00").is_err());
        assert!(MacAddr::from_str("01:00:5e:00:00:01")
            .unwrap()
            .is_multicast());
    }

    #[test]
    fn dialect_names() {
        assert_eq!("Kathara".parse::<Dialect>(), Ok(Dialect::Kathara));
        assert_eq!("netkit".parse::<Dialect>(), Ok(Dialect::Netkit));
        assert!("docker".parse::<Dialect>().is_err());
        assert_eq!(Dialect::Kathara.to_string(), "kathara");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            for d in [None, Some(Dialect::Netkit), Some(Dialect::Kathara)] {
                let _ = p(&text, d);
            }
        }

        #[test]
        fn lab_conf_like_text_never_panics(
            lines in proptest::collection::vec(
                "[a-zA-Z_ #\"'=]{0,3}(\\[[0-9a-z_ -]{0,4}\\])?[ =]{0,2}[a-zA-Z0-9_,./:\" '#-]{0,24}",
                0..12,
            )
        ) {
            let text = lines.join("\n");
            for d in [None, Some(Dialect::Netkit), Some(Dialect::Kathara)] {
                if let Ok((c, _)) = p(&text, d) {
                    // Kathara output always satisfies Kathara's own rules.
                    if c.dialect == Dialect::Kathara {
                        for m in &c.machines {
                            prop_assert!(is_kathara_device(&m.name));
                            for (i, n) in m.interfaces.keys().enumerate() {
                                prop_assert_eq!(i as u32, *n);
                            }
                        }
                    }
                }
            }
        }
    }
}
