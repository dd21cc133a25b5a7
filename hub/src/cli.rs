//! The command line: uml_switch's flags, exactly, plus flowlab-hub's long options.
//!
//! ```text
//! flowlab-hub [ -unix control-socket ] [ -hub ] [ -tap tap-device ] [ -daemon ] [LONG OPTIONS]
//! flowlab-hub -compat-v0 [ -unix control-socket data-socket ] [ -hub ] [ -tap tap-device ]
//! flowlab-hub ctl SOCKET show|ports|macs|counters|capture PORT|all [-w FILE|-]
//! ```
//!
//! As in uml_switch, `-compat-v0` must come before `-unix` for `-unix` to take two paths,
//! and anything unknown prints the usage to stderr and exits 1.

use std::path::PathBuf;

use flowlab_ofagent::target::Target;

/// uml_switch's default control socket.
pub const DEFAULT_CTL: &str = "/tmp/uml.ctl";
/// uml_switch's default v0 data socket.
pub const DEFAULT_DATA: &str = "/tmp/uml.data";
/// Default largest frame forwarded (jumbo; vdeplug4 clients send up to about 9 KiB).
pub const DEFAULT_MAX_FRAME: usize = 9216;
/// Default per-port output queue, in frames.
pub const DEFAULT_PORT_QUEUE: usize = 512;

/// Forwarding mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    /// Learning switch (uml_switch's default).
    Switch,
    /// Hub: flood to all but the ingress port.
    Hub,
}

/// Options of the switch itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchArgs {
    /// argv\[0\] as typed, for uml_switch's messages.
    pub argv0: String,
    /// `-unix` control socket (None when only `--vde` was given).
    pub ctl: Option<PathBuf>,
    /// `-compat-v0` data socket.
    pub compat_v0_data: Option<PathBuf>,
    /// `-hub`.
    pub mode: ModeArg,
    /// `-tap`.
    pub tap: Option<String>,
    /// `-daemon`.
    pub daemon: bool,
    /// `--vde DIR`.
    pub vde_dir: Option<PathBuf>,
    /// `--bess PATH`: UML vector-transport (`bess`) listener.
    pub bess: Option<PathBuf>,
    /// `--mac-table-size`.
    pub mac_table_size: usize,
    /// `--mac-aging` in seconds.
    pub mac_aging_secs: u64,
    /// `--max-frame`.
    pub max_frame: usize,
    /// `--port-queue`.
    pub port_queue: usize,
    /// `--quiet`: no per-address learning lines.
    pub quiet: bool,
    /// OpenFlow mode: on when `--controller` or `--listen` is given.
    pub openflow: Option<OpenFlowArgs>,
    /// `--port N=raw:IFNAME` and `--port N=tap:DEV`: extra ports with fixed numbers.
    pub extra_ports: Vec<ExtraPort>,
}

/// OpenFlow 1.0 and/or 1.3 on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    /// OpenFlow 1.0 (wire version 0x01).
    pub of10: bool,
    /// OpenFlow 1.3 (wire version 0x04).
    pub of13: bool,
}

/// What the switch does while no controller is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailMode {
    /// Flows still apply; table misses are dropped (1.3) or lost; no learning.
    Secure,
    /// The learning switch handles what the flow table does not.
    Standalone,
}

/// Options of OpenFlow mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFlowArgs {
    /// `--controller TARGET` (repeatable): active connections.
    pub controllers: Vec<Target>,
    /// `--listen ptcp:PORT[:IP]|punix:PATH` (repeatable): passive listeners.
    pub listeners: Vec<Target>,
    /// `--dpid HEX` (default: derived from the control socket path and pid).
    pub dpid: Option<u64>,
    /// `--fail-mode`.
    pub fail_mode: FailMode,
    /// `--protocols`.
    pub protocols: Protocols,
    /// `--tables N`: number of flow tables (default 254 for 1.3; 1.0 uses table 0 only).
    pub tables: u8,
}

/// An extra port given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraPort {
    /// The port number asked for.
    pub number: u32,
    /// What it is.
    pub kind: ExtraPortKind,
}

/// The kinds of extra port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtraPortKind {
    /// AF_PACKET on a host interface (such as one end of a veth pair).
    Raw(String),
    /// A tap device.
    Tap(String),
}

/// A management request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtlArgs {
    /// The control socket (a `-unix` path, a VDE directory or its `ctl`).
    pub socket: PathBuf,
    /// The command and its arguments as sent.
    pub command: Vec<String>,
    /// `-w FILE` for capture (`-` or absent: stdout).
    pub write_to: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run a switch.
    Run(Box<SwitchArgs>),
    /// Talk to a running switch.
    Ctl(CtlArgs),
    /// Print the long help.
    Help,
    /// Print the version.
    Version,
}

/// A command line that does not parse; the caller prints [`usage`] and exits 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The usage text, uml_switch's first, then the long options.
pub fn usage(argv0: &str) -> String {
    format!(
        "Usage : {argv0} [ -unix control-socket ] [ -hub ] [ -tap tap-device ] [ -daemon ]\n\
         or : {argv0} -compat-v0 [ -unix control-socket data-socket ] [ -hub ] [ -tap tap-device ]\n\
         flowlab-hub options:\n\
         \x20 --vde DIR              also serve VDE clients (vde_plug, QEMU -nic vde, UML vde) at DIR/ctl\n\
         \x20 --bess PATH            also serve UML vector guests (vecN:transport=bess,dst=PATH), a port per connection\n\
         \x20 --mac-table-size N     MAC table size limit (default {})\n\
         \x20 --mac-aging SECS       MAC entry aging time (default {})\n\
         \x20 --max-frame BYTES      largest frame forwarded, bigger ones are dropped (default {DEFAULT_MAX_FRAME})\n\
         \x20 --port-queue FRAMES    per-port output queue for slow receivers (default {DEFAULT_PORT_QUEUE})\n\
         \x20 --quiet                no per-address learning lines\n\
         OpenFlow mode (on when --controller or --listen is given):\n\
         \x20 --controller TARGET    connect to a controller: tcp:HOST[:PORT] or unix:PATH (repeatable)\n\
         \x20 --listen TARGET        accept OpenFlow clients (ovs-ofctl): ptcp:PORT[:IP] or punix:PATH (repeatable)\n\
         \x20 --dpid HEX             datapath id (16 hex digits at most)\n\
         \x20 --fail-mode MODE       secure or standalone (default secure)\n\
         \x20 --protocols LIST       OpenFlow10,OpenFlow13 (default both)\n\
         \x20 --tables N             flow tables (default 254)\n\
         \x20 --port N=raw:IFNAME    port N is a host interface, over AF_PACKET (needs CAP_NET_RAW)\n\
         \x20 --port N=tap:DEV       port N is a tap device\n\
         \x20 --help, --version\n\
         or : {argv0} ctl SOCKET show|ports|macs|counters\n\
         or : {argv0} ctl SOCKET capture PORT|all [-w FILE|-]\n",
        flowlab_datapath::learning::DEFAULT_LIMIT,
        flowlab_datapath::learning::DEFAULT_AGING_MS / 1000,
    )
}

/// Parses `args` (including argv\[0\]).
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| "flowlab-hub".into());
    let rest = &args[1.min(args.len())..];
    if rest.first().map(String::as_str) == Some("ctl") {
        return parse_ctl(&rest[1..]);
    }
    let mut s = SwitchArgs {
        argv0,
        ctl: None,
        compat_v0_data: None,
        mode: ModeArg::Switch,
        tap: None,
        daemon: false,
        vde_dir: None,
        bess: None,
        mac_table_size: flowlab_datapath::learning::DEFAULT_LIMIT,
        mac_aging_secs: flowlab_datapath::learning::DEFAULT_AGING_MS / 1000,
        max_frame: DEFAULT_MAX_FRAME,
        port_queue: DEFAULT_PORT_QUEUE,
        quiet: false,
        openflow: None,
        extra_ports: Vec::new(),
    };
    let mut controllers = Vec::new();
    let mut listeners = Vec::new();
    let mut dpid = None;
    let mut fail_mode = None;
    let mut protocols = None;
    let mut tables = None;
    let mut compat_v0 = false;
    let mut unix_given = false;
    let mut i = 0;
    let value = |i: usize, flag: &str| -> Result<String, UsageError> {
        rest.get(i + 1)
            .cloned()
            .ok_or_else(|| UsageError(format!("{flag} needs a value")))
    };
    while i < rest.len() {
        let a = rest[i].as_str();
        match a {
            "-unix" => {
                s.ctl = Some(PathBuf::from(value(i, a)?));
                unix_given = true;
                i += 1;
                if compat_v0 {
                    s.compat_v0_data = Some(PathBuf::from(value(i, "-unix (with -compat-v0)")?));
                    i += 1;
                }
            }
            "-hub" | "--hub" => s.mode = ModeArg::Hub,
            "-tap" => {
                s.tap = Some(value(i, a)?);
                i += 1;
            }
            "-daemon" => s.daemon = true,
            "-compat-v0" => compat_v0 = true,
            "--vde" => {
                s.vde_dir = Some(PathBuf::from(value(i, a)?));
                i += 1;
            }
            "--bess" => {
                s.bess = Some(PathBuf::from(value(i, a)?));
                i += 1;
            }
            "--mac-table-size" => {
                s.mac_table_size = number(&value(i, a)?, a, 1, 1 << 24)? as usize;
                i += 1;
            }
            "--mac-aging" => {
                s.mac_aging_secs = number(&value(i, a)?, a, 1, 86_400 * 365)?;
                i += 1;
            }
            "--max-frame" => {
                s.max_frame = number(&value(i, a)?, a, 64, 65_535)? as usize;
                i += 1;
            }
            "--port-queue" => {
                s.port_queue = number(&value(i, a)?, a, 1, 1 << 20)? as usize;
                i += 1;
            }
            "--quiet" => s.quiet = true,
            "--controller" => {
                let v = value(i, a)?;
                let t = Target::parse(&v).map_err(|e| UsageError(format!("--controller {e}")))?;
                if t.is_passive() {
                    return Err(UsageError(format!(
                        "--controller {v}: a passive target belongs to --listen"
                    )));
                }
                controllers.push(t);
                i += 1;
            }
            "--listen" => {
                let v = value(i, a)?;
                let t = Target::parse(&v).map_err(|e| UsageError(format!("--listen {e}")))?;
                if !t.is_passive() {
                    return Err(UsageError(format!(
                        "--listen {v}: use ptcp:PORT[:IP] or punix:PATH (an active target belongs to --controller)"
                    )));
                }
                listeners.push(t);
                i += 1;
            }
            "--dpid" => {
                let v = value(i, a)?;
                let hex = v.trim_start_matches("0x");
                dpid = Some(
                    u64::from_str_radix(hex, 16)
                        .ok()
                        .filter(|_| !hex.is_empty() && hex.len() <= 16)
                        .ok_or_else(|| {
                            UsageError(format!("--dpid takes up to 16 hex digits, not '{v}'"))
                        })?,
                );
                i += 1;
            }
            "--fail-mode" => {
                fail_mode = Some(match value(i, a)?.as_str() {
                    "secure" => FailMode::Secure,
                    "standalone" => FailMode::Standalone,
                    v => {
                        return Err(UsageError(format!(
                            "--fail-mode takes secure or standalone, not '{v}'"
                        )))
                    }
                });
                i += 1;
            }
            "--protocols" => {
                let v = value(i, a)?;
                let mut p = Protocols {
                    of10: false,
                    of13: false,
                };
                for name in v.split(',') {
                    match name.trim() {
                        "OpenFlow10" => p.of10 = true,
                        "OpenFlow13" => p.of13 = true,
                        other => {
                            return Err(UsageError(format!(
                                "--protocols: '{other}' is not supported (OpenFlow10, OpenFlow13)"
                            )))
                        }
                    }
                }
                protocols = Some(p);
                i += 1;
            }
            "--tables" => {
                tables = Some(number(&value(i, a)?, a, 1, 254)? as u8);
                i += 1;
            }
            "--port" => {
                let v = value(i, a)?;
                s.extra_ports.push(parse_extra_port(&v)?);
                i += 1;
            }
            "--help" => return Ok(Command::Help),
            "--version" => return Ok(Command::Version),
            other => return Err(UsageError(format!("unknown argument '{other}'"))),
        }
        i += 1;
    }
    if compat_v0 && s.compat_v0_data.is_none() {
        s.compat_v0_data = Some(PathBuf::from(DEFAULT_DATA));
    }
    if !unix_given && s.vde_dir.is_none() && s.bess.is_none() {
        s.ctl = Some(PathBuf::from(DEFAULT_CTL));
    }
    if controllers.is_empty() && listeners.is_empty() {
        if dpid.is_some() || fail_mode.is_some() || protocols.is_some() || tables.is_some() {
            return Err(UsageError(
                "--dpid, --fail-mode, --protocols and --tables need OpenFlow mode (--controller or --listen)"
                    .into(),
            ));
        }
    } else {
        if s.mode == ModeArg::Hub {
            return Err(UsageError(
                "-hub and OpenFlow mode (--controller, --listen) exclude each other".into(),
            ));
        }
        s.openflow = Some(OpenFlowArgs {
            controllers,
            listeners,
            dpid,
            fail_mode: fail_mode.unwrap_or(FailMode::Secure),
            protocols: protocols.unwrap_or(Protocols {
                of10: true,
                of13: true,
            }),
            tables: tables.unwrap_or(254),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for p in &s.extra_ports {
        if !seen.insert(p.number) {
            return Err(UsageError(format!("--port {} given twice", p.number)));
        }
    }
    Ok(Command::Run(Box::new(s)))
}

fn number(text: &str, flag: &str, min: u64, max: u64) -> Result<u64, UsageError> {
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(UsageError(format!(
            "{flag} takes a number from {min} to {max}, not '{text}'"
        ))),
    }
}

/// `N=raw:IFNAME` or `N=tap:DEV`.
fn parse_extra_port(v: &str) -> Result<ExtraPort, UsageError> {
    let bad = || UsageError(format!("--port takes N=raw:IFNAME or N=tap:DEV, not '{v}'"));
    let (n, what) = v.split_once('=').ok_or_else(bad)?;
    let number = n
        .parse::<u32>()
        .ok()
        .filter(|&n| n >= 1 && (n as usize) < crate::switch::MAX_PORTS)
        .ok_or_else(|| {
            UsageError(format!(
                "--port {v}: the port number must be 1 to {}",
                crate::switch::MAX_PORTS - 1
            ))
        })?;
    let (kind, name) = what.split_once(':').ok_or_else(bad)?;
    if name.is_empty() || name.len() >= 16 {
        return Err(UsageError(format!(
            "--port {v}: an interface name has 1 to 15 characters"
        )));
    }
    let kind = match kind {
        "raw" => ExtraPortKind::Raw(name.into()),
        "tap" => ExtraPortKind::Tap(name.into()),
        _ => return Err(bad()),
    };
    Ok(ExtraPort { number, kind })
}

fn parse_ctl(rest: &[String]) -> Result<Command, UsageError> {
    let socket = rest
        .first()
        .ok_or_else(|| UsageError("ctl needs a SOCKET".into()))?;
    let mut command = Vec::new();
    let mut write_to = None;
    let mut i = 1;
    while i < rest.len() {
        if rest[i] == "-w" {
            let f = rest
                .get(i + 1)
                .ok_or_else(|| UsageError("-w needs a FILE or -".into()))?;
            if f != "-" {
                write_to = Some(PathBuf::from(f));
            }
            i += 2;
            continue;
        }
        command.push(rest[i].clone());
        i += 1;
    }
    match command.first().map(String::as_str) {
        Some("show" | "ports" | "macs" | "counters") if command.len() == 1 => {}
        Some("capture") if command.len() == 2 => {}
        Some("capture") => return Err(UsageError("capture takes one PORT number or 'all'".into())),
        Some(c) => return Err(UsageError(format!("unknown ctl command '{c}'"))),
        None => return Err(UsageError("ctl needs a command".into())),
    }
    if write_to.is_some() && command[0] != "capture" {
        return Err(UsageError("-w applies to capture only".into()));
    }
    Ok(Command::Ctl(CtlArgs {
        socket: PathBuf::from(socket),
        command,
        write_to,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, UsageError> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    fn run(s: &str) -> SwitchArgs {
        match p(s).unwrap() {
            Command::Run(a) => *a,
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn netkit_command_line() {
        let a = run("/opt/netkit/bin/uml_switch -hub -unix /home/u/.netkit/hubs/vhub_u_A.cnct");
        assert_eq!(a.mode, ModeArg::Hub);
        assert_eq!(
            a.ctl.unwrap(),
            PathBuf::from("/home/u/.netkit/hubs/vhub_u_A.cnct")
        );
        assert_eq!(a.argv0, "/opt/netkit/bin/uml_switch");
    }

    #[test]
    fn defaults() {
        let a = run("uml_switch");
        assert_eq!(a.ctl.unwrap(), PathBuf::from(DEFAULT_CTL));
        assert_eq!(a.mode, ModeArg::Switch);
        assert!(a.compat_v0_data.is_none());
    }

    #[test]
    fn compat_v0_order_matters() {
        let a = run("uml_switch -compat-v0 -unix /tmp/c /tmp/d");
        assert_eq!(a.compat_v0_data.unwrap(), PathBuf::from("/tmp/d"));
        assert!(p("uml_switch -unix /tmp/c /tmp/d -compat-v0").is_err());
        let a = run("uml_switch -compat-v0");
        assert_eq!(a.compat_v0_data.unwrap(), PathBuf::from(DEFAULT_DATA));
    }

    #[test]
    fn unknown_and_missing_values_are_errors() {
        assert!(p("uml_switch -help").is_err());
        assert!(p("uml_switch -unix").is_err());
        assert!(p("uml_switch --mac-aging zero").is_err());
        assert!(p("uml_switch --max-frame 10").is_err());
        assert!(p("uml_switch -tap").is_err());
    }

    #[test]
    fn bess_listener() {
        let a = run("flowlab-hub --bess /tmp/b.bess");
        assert_eq!(a.bess.unwrap(), PathBuf::from("/tmp/b.bess"));
        assert!(a.ctl.is_none(), "--bess alone serves only vector guests");
        let a = run("flowlab-hub -unix /tmp/a.ctl --bess /tmp/b.bess");
        assert_eq!(a.ctl.unwrap(), PathBuf::from("/tmp/a.ctl"));
        assert!(parse(&["flowlab-hub".into(), "--bess".into()]).is_err());
    }

    #[test]
    fn long_options() {
        let a = run("flowlab-hub --vde /tmp/v --mac-table-size 10 --mac-aging 5 --max-frame 1518 -tap t0 -daemon");
        assert_eq!(a.vde_dir.unwrap(), PathBuf::from("/tmp/v"));
        assert!(a.ctl.is_none(), "--vde alone serves only VDE");
        assert_eq!(
            (a.mac_table_size, a.mac_aging_secs, a.max_frame),
            (10, 5, 1518)
        );
        assert_eq!(a.tap.as_deref(), Some("t0"));
        assert!(a.daemon);
    }

    #[test]
    fn openflow_options() {
        let a = run(
            "flowlab-hub -unix /tmp/s --controller tcp:127.0.0.1:6653 --controller unix:/tmp/c \
             --listen ptcp:6634 --dpid 0000000000000001 --fail-mode standalone \
             --protocols OpenFlow13 --port 1=raw:tg1 --port 7=tap:tap7",
        );
        let of = a.openflow.unwrap();
        assert_eq!(of.controllers.len(), 2);
        assert_eq!(of.listeners, vec![Target::parse("ptcp:6634").unwrap()]);
        assert_eq!(of.dpid, Some(1));
        assert_eq!(of.fail_mode, FailMode::Standalone);
        assert_eq!(
            of.protocols,
            Protocols {
                of10: false,
                of13: true
            }
        );
        assert_eq!(
            a.extra_ports,
            vec![
                ExtraPort {
                    number: 1,
                    kind: ExtraPortKind::Raw("tg1".into())
                },
                ExtraPort {
                    number: 7,
                    kind: ExtraPortKind::Tap("tap7".into())
                }
            ]
        );
        let a = run("flowlab-hub --listen punix:/tmp/x");
        let of = a.openflow.unwrap();
        assert_eq!(of.fail_mode, FailMode::Secure);
        assert!(of.protocols.of10 && of.protocols.of13);
        assert!(run("flowlab-hub").openflow.is_none());
    }

    #[test]
    fn bad_openflow_options_are_errors() {
        for bad in [
            "flowlab-hub --controller ptcp:6653",
            "flowlab-hub --listen tcp:1.2.3.4:5",
            "flowlab-hub --controller ssl:x:1",
            "flowlab-hub --listen ptcp:1 --dpid xyz",
            "flowlab-hub --listen ptcp:1 --dpid 12345678901234567",
            "flowlab-hub --listen ptcp:1 --fail-mode open",
            "flowlab-hub --listen ptcp:1 --protocols OpenFlow12",
            "flowlab-hub --dpid 1",
            "flowlab-hub -hub --listen ptcp:1",
            "flowlab-hub --port 0=raw:x",
            "flowlab-hub --port 1=veth:x",
            "flowlab-hub --port 1=raw:",
            "flowlab-hub --port 1=raw:a --port 1=raw:b",
            "flowlab-hub --listen ptcp:1 --tables 0",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ctl_commands() {
        match p("flowlab-hub ctl /tmp/s capture all -w -").unwrap() {
            Command::Ctl(c) => {
                assert_eq!(c.command, vec!["capture", "all"]);
                assert!(c.write_to.is_none());
            }
            c => panic!("{c:?}"),
        }
        assert!(p("flowlab-hub ctl /tmp/s frobnicate").is_err());
        assert!(p("flowlab-hub ctl /tmp/s macs -w x").is_err());
        assert!(p("flowlab-hub ctl").is_err());
    }
}
