//! The `flowlab` command line, parsed without IO.
//!
//! ```text
//! flowlab start   [-d DIR] [-p N|-s] [-f] [--dialect netkit|kathara] [--switch hub|learning]
//!                 [--openflow [--apps LIST]] [--image busybox|debian] [--timeout SECS]
//!                 [--transport daemon|bess] [--no-pin] [MACHINE...]
//! flowlab halt    [-d DIR] [--timeout SECS] [MACHINE...]
//! flowlab crash   [-d DIR] [-F|--keep-fs] [MACHINE...]
//! flowlab info    [-d DIR] [--dialect D] [--topology FILE.svg]
//! flowlab clean   [-d DIR]
//! flowlab exec    [-d DIR] [--timeout SECS] MACHINE [--] CMD...
//! flowlab console [-d DIR] MACHINE
//! flowlab capture [-d DIR] DOMAIN [-w FILE|-]
//! flowlab test    [-d DIR] [start options] [-R|--rebuild-signature] [--verify user|builtin|both]
//! flowlab vm start NAME --ethN=CD... [--mem M] [--image K] [--exec CMD] [--transport T]
//!                 [--no-pin]
//! flowlab vm list | vm halt NAME | vm crash NAME
//! flowlab image build --kind busybox|debian [--size MIB] [--force]
//! flowlab image prune [--kind busybox|debian]
//! ```
//!
//! Long options take their value as `--opt VALUE` or `--opt=VALUE`; `-p` also as `-pN`
//! (Netkit's form). Anything unknown is a [`UsageError`]: the binary prints it and
//! [`USAGE`] and exits with status 2.

use std::path::PathBuf;
use std::time::Duration;

use crate::hubs::{HubMode, SwitchMode, DEFAULT_APPS};
use crate::image::ImageKind;
use crate::lab::Dialect;
use crate::launcher::{StartOptions, TestOptions, Verify, VmOptions};
use crate::uml::Transport;

/// The usage text.
pub const USAGE: &str = "\
usage: flowlab COMMAND [OPTIONS]

Lab commands (a lab is a Netkit or Kathara folder; -d DIR defaults to .):
  start   [-d DIR] [-p N|-s] [-f] [--dialect netkit|kathara] [--switch hub|learning]
          [--openflow [--apps LIST]] [--image busybox|debian] [--timeout SECS]
          [--transport daemon|bess] [--no-pin] [MACHINE...]
                 boot the lab (or the machines named and what they depend on);
                 --transport: how guests reach their hubs, UML's daemon transport
                 (default, as Netkit) or its vector driver (bess; interfaces still ethN);
                 guests are pinned one CPU each, round-robin (--no-pin: the scheduler's)
  halt    [-d DIR] [--timeout SECS] [MACHINE...]
                 shut guests down (their .shutdown files run); disks are kept
  crash   [-d DIR] [-F|--keep-fs] [MACHINE...]
                 kill guests at once; disks are deleted unless --keep-fs
  info    [-d DIR] [--dialect D] [--topology FILE.svg]
                 describe the lab (and draw it) without starting anything
  clean   [-d DIR]
                 stop everything of the lab and remove its .flowlab/ and .ready files
  exec    [-d DIR] [--timeout SECS] MACHINE [--] CMD...
                 run a command in a guest; its output and exit status are returned
  console [-d DIR] MACHINE
                 attach to a guest's console (Ctrl-] leaves)
  capture [-d DIR] DOMAIN [-w FILE|-]
                 live pcapng of a collision domain (stdout by default)
  test    [-d DIR] [start options] [-R|--rebuild-signature] [--verify user|builtin|both]
                 as Netkit's ltest: start, collect signatures, compare with _test/

Single machines (Netkit's vstart/vlist/vhalt/vcrash):
  vm start NAME --eth0=CD [--eth1=CD...] [--mem MIB] [--image K] [--exec CMD]
           [--transport daemon|bess] [--no-pin]
  vm list
  vm halt NAME
  vm crash NAME

Images:
  image build --kind busybox|debian [--size MIB] [--force]
  image prune [--kind busybox|debian]
                 remove cached images an earlier flowlab built (not the current ones)

  -h, --help, --version
";

/// A command line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `start`.
    Start(StartOptions),
    /// `halt`.
    Halt {
        /// The lab.
        dir: PathBuf,
        /// The machines (all when empty).
        machines: Vec<String>,
        /// How long a guest may take to shut down.
        timeout: Duration,
    },
    /// `crash`.
    Crash {
        /// The lab.
        dir: PathBuf,
        /// The machines (all when empty).
        machines: Vec<String>,
        /// Keep the COW files.
        keep_fs: bool,
    },
    /// `info`.
    Info {
        /// The lab.
        dir: PathBuf,
        /// A forced dialect.
        dialect: Option<Dialect>,
        /// Where to write the SVG picture.
        topology: Option<PathBuf>,
    },
    /// `clean`.
    Clean {
        /// The lab.
        dir: PathBuf,
    },
    /// `exec`.
    Exec {
        /// The lab.
        dir: PathBuf,
        /// The machine.
        machine: String,
        /// The command.
        argv: Vec<String>,
        /// Its timeout.
        timeout: Duration,
    },
    /// `console`.
    Console {
        /// The lab.
        dir: PathBuf,
        /// The machine.
        machine: String,
    },
    /// `capture`.
    Capture {
        /// The lab.
        dir: PathBuf,
        /// The collision domain.
        domain: String,
        /// `-w FILE` (`-`: stdout).
        write: Option<String>,
    },
    /// `test`.
    Test(TestOptions),
    /// `vm start`.
    VmStart(VmOptions),
    /// `vm list`.
    VmList,
    /// `vm halt NAME`.
    VmHalt(String),
    /// `vm crash NAME`.
    VmCrash(String),
    /// `image build`.
    ImageBuild {
        /// Which image.
        kind: ImageKind,
        /// Its size.
        size_mib: Option<u64>,
        /// Rebuild even if it exists.
        force: bool,
    },
    /// `image prune [--kind K]`.
    ImagePrune {
        /// Only this kind (None: every kind).
        kind: Option<ImageKind>,
    },
    /// `help`, `-h`, `--help`.
    Help,
    /// `--version`.
    Version,
}

/// A cursor over the arguments with `--opt=value` support.
struct Args<'a> {
    args: &'a [String],
    i: usize,
    /// The value glued to the current option (`--opt=value`, `-pN`).
    glued: Option<String>,
}

impl<'a> Args<'a> {
    fn new(args: &'a [String]) -> Args<'a> {
        Args {
            args,
            i: 0,
            glued: None,
        }
    }

    /// The next argument, split at `=` for long options.
    fn next(&mut self) -> Option<String> {
        let a = self.args.get(self.i)?.clone();
        self.i += 1;
        self.glued = None;
        if a.starts_with("--") {
            if let Some((k, v)) = a.split_once('=') {
                self.glued = Some(v.to_string());
                return Some(k.to_string());
            }
        }
        Some(a)
    }

    fn value(&mut self, opt: &str) -> Result<String, UsageError> {
        if let Some(v) = self.glued.take() {
            return Ok(v);
        }
        let v = self
            .args
            .get(self.i)
            .cloned()
            .ok_or_else(|| UsageError(format!("{opt} needs a value")))?;
        self.i += 1;
        Ok(v)
    }

    fn no_value(&self, opt: &str) -> Result<(), UsageError> {
        match &self.glued {
            Some(_) => Err(UsageError(format!("{opt} takes no value"))),
            None => Ok(()),
        }
    }

    fn rest(&mut self) -> Vec<String> {
        let r = self.args[self.i.min(self.args.len())..].to_vec();
        self.i = self.args.len();
        r
    }
}

fn number<T: std::str::FromStr>(opt: &str, v: &str) -> Result<T, UsageError> {
    v.parse()
        .map_err(|_| UsageError(format!("{opt} takes a number, not `{v}`")))
}

fn seconds(opt: &str, v: &str) -> Result<Duration, UsageError> {
    let s: f64 = number(opt, v)?;
    if !(s.is_finite() && s > 0.0 && s < 1e7) {
        return Err(UsageError(format!(
            "{opt} takes a positive number of seconds"
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

fn positional(a: &str, what: &str) -> Result<String, UsageError> {
    if a.starts_with('-') && a != "-" {
        Err(UsageError(format!("unknown option `{a}` for {what}")))
    } else {
        Ok(a.to_string())
    }
}

fn dialect(v: &str) -> Result<Dialect, UsageError> {
    v.parse::<Dialect>().map_err(UsageError)
}

fn image_kind(v: &str) -> Result<ImageKind, UsageError> {
    v.parse::<ImageKind>()
        .map_err(|_| UsageError(format!("--image takes busybox or debian, not `{v}`")))
}

/// Options shared by `start` and `test`; returns true when `opt` was one of them.
fn start_option(
    opt: &str,
    a: &mut Args<'_>,
    o: &mut StartOptions,
    switch: &mut Option<SwitchMode>,
    openflow: &mut bool,
    apps: &mut Option<String>,
) -> Result<bool, UsageError> {
    match opt {
        "-d" | "--dir" => o.dir = PathBuf::from(a.value(opt)?),
        "-p" | "--parallel" => o.parallel = number(opt, &a.value(opt)?)?,
        // Netkit's lstart: one machine at a time, each awaited before the next.
        "-s" | "--sequential" => {
            a.no_value(opt)?;
            o.parallel = 1;
        }
        // Netkit's lstart: do not wait for a machine before starting the next. flowlab
        // never waits between machines beyond lab.dep and -p, so this changes nothing.
        "-f" | "--fast" => a.no_value(opt)?,
        "--dialect" => o.dialect = Some(dialect(&a.value(opt)?)?),
        "--switch" => {
            let v = a.value(opt)?;
            *switch =
                Some(SwitchMode::parse(&v).ok_or_else(|| {
                    UsageError(format!("--switch takes hub or learning, not `{v}`"))
                })?);
        }
        "--openflow" => {
            a.no_value(opt)?;
            *openflow = true;
        }
        "--apps" => *apps = Some(a.value(opt)?),
        "--image" => o.image = Some(image_kind(&a.value(opt)?)?),
        "--timeout" => o.ready_timeout = Some(seconds(opt, &a.value(opt)?)?),
        "--transport" => o.transport = transport(&a.value(opt)?)?,
        "--no-pin" => {
            a.no_value(opt)?;
            o.pin = false;
        }
        s if s.starts_with("-p") && s.len() > 2 && !s.starts_with("--") => {
            o.parallel = number("-p", &s[2..])?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn transport(v: &str) -> Result<Transport, UsageError> {
    v.parse().map_err(UsageError)
}

fn finish_mode(
    o: &mut StartOptions,
    switch: Option<SwitchMode>,
    openflow: bool,
    apps: Option<String>,
) -> Result<(), UsageError> {
    o.mode = match (switch, openflow, apps) {
        (Some(_), true, _) => return Err(UsageError(
            "--switch and --openflow exclude each other (in OpenFlow mode the controller forwards)"
                .into(),
        )),
        (_, false, Some(_)) => return Err(UsageError("--apps needs --openflow".into())),
        (_, true, apps) => {
            let apps = apps.unwrap_or_else(|| DEFAULT_APPS.to_string());
            if apps.is_empty() || apps.contains(char::is_whitespace) {
                return Err(UsageError(format!(
                    "--apps takes a comma-separated list, not `{apps}`"
                )));
            }
            HubMode::OpenFlow { apps }
        }
        (s, false, None) => HubMode::Plain(s.unwrap_or(SwitchMode::Hub)),
    };
    Ok(())
}

fn parse_start(a: &mut Args<'_>) -> Result<StartOptions, UsageError> {
    let mut o = StartOptions::new(".");
    let (mut switch, mut openflow, mut apps) = (None, false, None);
    while let Some(opt) = a.next() {
        if !start_option(&opt, a, &mut o, &mut switch, &mut openflow, &mut apps)? {
            o.machines.push(positional(&opt, "start")?);
        }
    }
    finish_mode(&mut o, switch, openflow, apps)?;
    Ok(o)
}

fn parse_test(a: &mut Args<'_>) -> Result<TestOptions, UsageError> {
    let mut o = StartOptions::new(".");
    let (mut switch, mut openflow, mut apps) = (None, false, None);
    let mut rebuild = false;
    let mut verify = Verify::Auto;
    while let Some(opt) = a.next() {
        if start_option(&opt, a, &mut o, &mut switch, &mut openflow, &mut apps)? {
            continue;
        }
        match opt.as_str() {
            "-R" | "--rebuild-signature" => rebuild = true,
            "--verify" => {
                let v = a.value(&opt)?;
                verify = match v.as_str() {
                    "user" => Verify::User,
                    "builtin" => Verify::Builtin,
                    "both" => Verify::Both,
                    _ => {
                        return Err(UsageError(format!(
                            "--verify takes user, builtin or both, not `{v}`"
                        )))
                    }
                };
            }
            other => {
                return Err(UsageError(format!(
                    "unexpected `{other}` for test (it always runs the whole lab)"
                )))
            }
        }
    }
    finish_mode(&mut o, switch, openflow, apps)?;
    Ok(TestOptions {
        start: o,
        rebuild,
        verify,
    })
}

fn parse_vm(a: &mut Args<'_>) -> Result<Command, UsageError> {
    let sub = a
        .next()
        .ok_or_else(|| UsageError("vm needs a subcommand: start, list, halt or crash".into()))?;
    match sub.as_str() {
        "list" => match a.next() {
            None => Ok(Command::VmList),
            Some(x) => Err(UsageError(format!("unexpected `{x}` for vm list"))),
        },
        "halt" | "crash" => {
            let name = a
                .next()
                .ok_or_else(|| UsageError(format!("vm {sub} needs a machine name")))?;
            let name = positional(&name, &format!("vm {sub}"))?;
            if let Some(x) = a.next() {
                return Err(UsageError(format!("unexpected `{x}` for vm {sub}")));
            }
            Ok(if sub == "halt" {
                Command::VmHalt(name)
            } else {
                Command::VmCrash(name)
            })
        }
        "start" => {
            let mut o = VmOptions {
                name: String::new(),
                interfaces: Vec::new(),
                mem_mb: None,
                image: None,
                exec: None,
                transport: Transport::Daemon,
                pin: true,
            };
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "--mem" | "-M" => o.mem_mb = Some(number(&opt, &a.value(&opt)?)?),
                    "--image" => o.image = Some(image_kind(&a.value(&opt)?)?),
                    "--exec" | "-e" => o.exec = Some(a.value(&opt)?),
                    "--transport" => o.transport = transport(&a.value(&opt)?)?,
                    "--no-pin" => {
                        a.no_value(&opt)?;
                        o.pin = false;
                    }
                    s if s.starts_with("--eth") => {
                        let n: u32 = number(s, &s[5..])?;
                        if n >= crate::lab::conf::MAX_INTERFACES {
                            return Err(UsageError(format!("{s}: interface number too big")));
                        }
                        if o.interfaces.iter().any(|(i, _)| *i == n) {
                            return Err(UsageError(format!("{s} given twice")));
                        }
                        o.interfaces.push((n, a.value(s)?));
                    }
                    other => {
                        let name = positional(other, "vm start")?;
                        if !o.name.is_empty() {
                            return Err(UsageError(format!(
                                "vm start takes one machine name (got `{}` and `{name}`)",
                                o.name
                            )));
                        }
                        o.name = name;
                    }
                }
            }
            if o.name.is_empty() {
                return Err(UsageError("vm start needs a machine name".into()));
            }
            o.interfaces.sort();
            Ok(Command::VmStart(o))
        }
        other => Err(UsageError(format!(
            "unknown vm subcommand `{other}` (start, list, halt, crash)"
        ))),
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let mut a = Args::new(args);
    let Some(cmd) = a.next() else {
        return Err(UsageError("no command given".into()));
    };
    let mut dir = PathBuf::from(".");
    match cmd.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "--version" | "version" => Ok(Command::Version),
        "start" | "lstart" => Ok(Command::Start(parse_start(&mut a)?)),
        "test" | "ltest" => Ok(Command::Test(parse_test(&mut a)?)),
        "halt" | "lhalt" => {
            let mut machines = Vec::new();
            let mut timeout = crate::launcher::HALT_TIMEOUT;
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    "--timeout" => timeout = seconds(&opt, &a.value(&opt)?)?,
                    other => machines.push(positional(other, "halt")?),
                }
            }
            Ok(Command::Halt {
                dir,
                machines,
                timeout,
            })
        }
        "crash" | "lcrash" => {
            let mut machines = Vec::new();
            let mut keep_fs = false;
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    "-F" | "--keep-fs" => keep_fs = true,
                    other => machines.push(positional(other, "crash")?),
                }
            }
            Ok(Command::Crash {
                dir,
                machines,
                keep_fs,
            })
        }
        "info" | "linfo" => {
            let (mut dialect_opt, mut topology) = (None, None);
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    "--dialect" => dialect_opt = Some(dialect(&a.value(&opt)?)?),
                    "--topology" | "-m" | "--map" => topology = Some(PathBuf::from(a.value(&opt)?)),
                    other => return Err(UsageError(format!("unexpected `{other}` for info"))),
                }
            }
            Ok(Command::Info {
                dir,
                dialect: dialect_opt,
                topology,
            })
        }
        "clean" | "lclean" => {
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    other => return Err(UsageError(format!("unexpected `{other}` for clean"))),
                }
            }
            Ok(Command::Clean { dir })
        }
        "exec" => {
            let mut timeout = crate::launcher::EXEC_TIMEOUT;
            let mut machine = None;
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    "--timeout" => timeout = seconds(&opt, &a.value(&opt)?)?,
                    other => {
                        machine = Some(positional(other, "exec")?);
                        break;
                    }
                }
            }
            let machine =
                machine.ok_or_else(|| UsageError("exec needs a machine and a command".into()))?;
            let mut argv = a.rest();
            if argv.first().map(String::as_str) == Some("--") {
                argv.remove(0);
            }
            if argv.is_empty() {
                return Err(UsageError(format!(
                    "exec needs a command: flowlab exec {machine} -- CMD..."
                )));
            }
            Ok(Command::Exec {
                dir,
                machine,
                argv,
                timeout,
            })
        }
        "console" => {
            let mut machine = None;
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    other if machine.is_none() => machine = Some(positional(other, "console")?),
                    other => return Err(UsageError(format!("unexpected `{other}` for console"))),
                }
            }
            Ok(Command::Console {
                dir,
                machine: machine.ok_or_else(|| UsageError("console needs a machine".into()))?,
            })
        }
        "capture" => {
            let (mut domain, mut write) = (None, None);
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "-d" | "--dir" => dir = PathBuf::from(a.value(&opt)?),
                    "-w" => write = Some(a.value(&opt)?),
                    other if domain.is_none() => domain = Some(positional(other, "capture")?),
                    other => return Err(UsageError(format!("unexpected `{other}` for capture"))),
                }
            }
            Ok(Command::Capture {
                dir,
                domain: domain
                    .ok_or_else(|| UsageError("capture needs a collision domain".into()))?,
                write,
            })
        }
        "vm" => parse_vm(&mut a),
        "image" => {
            match a.next().as_deref() {
                Some("build") => {}
                Some("prune") => {
                    let mut kind = None;
                    while let Some(opt) = a.next() {
                        match opt.as_str() {
                            "--kind" => kind = Some(image_kind(&a.value(&opt)?)?),
                            other => {
                                return Err(UsageError(format!(
                                    "unexpected `{other}` for image prune"
                                )))
                            }
                        }
                    }
                    return Ok(Command::ImagePrune { kind });
                }
                Some(other) => {
                    return Err(UsageError(format!(
                        "unknown image subcommand `{other}` (build, prune)"
                    )))
                }
                None => return Err(UsageError("image needs a subcommand: build, prune".into())),
            }
            let (mut kind, mut size_mib, mut force) = (None, None, false);
            while let Some(opt) = a.next() {
                match opt.as_str() {
                    "--kind" => {
                        let v = a.value(&opt)?;
                        kind = Some(v.parse::<ImageKind>().map_err(|_| {
                            UsageError(format!("--kind takes busybox or debian, not `{v}`"))
                        })?);
                    }
                    "--size" => size_mib = Some(number(&opt, &a.value(&opt)?)?),
                    "--force" => force = true,
                    other => {
                        return Err(UsageError(format!("unexpected `{other}` for image build")))
                    }
                }
            }
            Ok(Command::ImageBuild {
                kind: kind
                    .ok_or_else(|| UsageError("image build needs --kind busybox|debian".into()))?,
                size_mib,
                force,
            })
        }
        other => Err(UsageError(format!("unknown command `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, UsageError> {
        let v: Vec<String> = s.split_whitespace().map(str::to_string).collect();
        parse(&v)
    }

    fn start(s: &str) -> StartOptions {
        match p(s) {
            Ok(Command::Start(o)) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn start_options() {
        let o = start("start");
        assert_eq!(o, StartOptions::new("."));
        let o = start("start -d /labs/x -p 2 --dialect kathara --switch=learning pc1 r1");
        assert_eq!(o.dir, PathBuf::from("/labs/x"));
        assert_eq!(o.parallel, 2);
        assert_eq!(o.dialect, Some(Dialect::Kathara));
        assert_eq!(o.mode, HubMode::Plain(SwitchMode::Learning));
        assert_eq!(o.machines, ["pc1", "r1"]);
        let o = start("start --openflow -p3 --image debian --timeout 90");
        assert_eq!(o.parallel, 3);
        assert_eq!(
            o.mode,
            HubMode::OpenFlow {
                apps: "l2_learning".into()
            }
        );
        assert_eq!(o.image, Some(ImageKind::Debian));
        assert_eq!(o.ready_timeout, Some(Duration::from_secs(90)));
        assert_eq!(o.transport, Transport::Daemon);
        assert_eq!(start("start --transport bess").transport, Transport::Bess);
        assert!(o.pin && !start("start --no-pin").pin);
        assert_eq!(start("lstart -s").parallel, 1);
        assert_eq!(start("start --sequential -f").parallel, 1);
        assert_eq!(start("start --fast"), StartOptions::new("."));
        assert!(p("start --no-pin=yes").is_err());
        assert_eq!(start("start --transport=vector").transport, Transport::Bess);
        assert!(p("start --transport tap").is_err());
        let o = start("start --openflow --apps hub,topology");
        assert_eq!(
            o.mode,
            HubMode::OpenFlow {
                apps: "hub,topology".into()
            }
        );
    }

    #[test]
    fn usage_errors() {
        for bad in [
            "",
            "frobnicate",
            "start --bogus",
            "start -p x",
            "start -d",
            "start --switch bridge",
            "start --switch hub --openflow",
            "start --apps hub",
            "start --openflow=yes",
            "start --dialect zebra",
            "start --timeout -3",
            "info pc1",
            "clean --force",
            "exec",
            "exec pc1",
            "exec pc1 --",
            "console",
            "console pc1 pc2",
            "capture",
            "test pc1",
            "test --verify all",
            "vm",
            "vm start",
            "vm start --eth0=A",
            "vm start a b",
            "vm start a --eth0=A --eth0=B",
            "vm start a --ethX=A",
            "vm list x",
            "vm halt",
            "vm reboot a",
            "image",
            "image build",
            "image build --kind alpine",
            "image remove",
        ] {
            assert!(p(bad).is_err(), "`{bad}` should not parse: {:?}", p(bad));
        }
        let e = p("start --bogus").unwrap_err();
        assert!(e.0.contains("--bogus"), "{e}");
    }

    #[test]
    fn other_commands() {
        assert_eq!(p("--help").unwrap(), Command::Help);
        assert_eq!(p("--version").unwrap(), Command::Version);
        assert_eq!(
            p("halt -d L pc1 --timeout 5").unwrap(),
            Command::Halt {
                dir: "L".into(),
                machines: vec!["pc1".into()],
                timeout: Duration::from_secs(5)
            }
        );
        assert_eq!(
            p("crash -F").unwrap(),
            Command::Crash {
                dir: ".".into(),
                machines: vec![],
                keep_fs: true
            }
        );
        assert_eq!(
            p("info --topology=t.svg -d L").unwrap(),
            Command::Info {
                dir: "L".into(),
                dialect: None,
                topology: Some("t.svg".into())
            }
        );
        assert_eq!(p("clean -d L").unwrap(), Command::Clean { dir: "L".into() });
        // Everything after the machine is the command, options included.
        assert_eq!(
            p("exec -d L pc1 -- ping -c 1 198.51.100.2").unwrap(),
            Command::Exec {
                dir: "L".into(),
                machine: "pc1".into(),
                argv: ["ping", "-c", "1", "198.51.100.2"]
                    .map(String::from)
                    .to_vec(),
                timeout: crate::launcher::EXEC_TIMEOUT,
            }
        );
        assert!(matches!(
            p("exec pc1 ip -o addr").unwrap(),
            Command::Exec { argv, .. } if argv == ["ip", "-o", "addr"]
        ));
        assert_eq!(
            p("capture A -w -").unwrap(),
            Command::Capture {
                dir: ".".into(),
                domain: "A".into(),
                write: Some("-".into())
            }
        );
        match p("test -d L -R --verify both --openflow").unwrap() {
            Command::Test(t) => {
                assert!(t.rebuild);
                assert_eq!(t.verify, Verify::Both);
                assert_eq!(t.start.dir, PathBuf::from("L"));
                assert!(matches!(t.start.mode, HubMode::OpenFlow { .. }));
            }
            other => panic!("{other:?}"),
        }
        match p("vm start pc1 --eth1=B --eth0 A --mem 96 --image busybox").unwrap() {
            Command::VmStart(v) => {
                assert_eq!(v.name, "pc1");
                assert_eq!(v.interfaces, [(0, "A".into()), (1, "B".into())]);
                assert_eq!(v.mem_mb, Some(96));
                assert_eq!(v.image, Some(ImageKind::Busybox));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p("vm list").unwrap(), Command::VmList);
        assert_eq!(p("vm crash pc1").unwrap(), Command::VmCrash("pc1".into()));
        assert_eq!(
            p("image build --kind debian --size 2048 --force").unwrap(),
            Command::ImageBuild {
                kind: ImageKind::Debian,
                size_mib: Some(2048),
                force: true
            }
        );
        assert_eq!(
            p("image prune").unwrap(),
            Command::ImagePrune { kind: None }
        );
        assert_eq!(
            p("image prune --kind busybox").unwrap(),
            Command::ImagePrune {
                kind: Some(ImageKind::Busybox)
            }
        );
        assert!(p("image prune --all").is_err());
        // Netkit's names work too.
        assert!(matches!(p("lstart -d L").unwrap(), Command::Start(_)));
        assert!(matches!(p("lclean").unwrap(), Command::Clean { .. }));
    }
}
