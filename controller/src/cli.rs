//! The command line of `flowlab-controller`.
//!
//! ```text
//! flowlab-controller [--listen TARGET]... [--connect TARGET]... [--apps LIST]
//!                    [--config FILE] [--api [IP:]PORT [--api-any]] [--quiet]
//! ```
//!
//! With neither `--listen` nor `--connect`, the controller listens on `ptcp:6653`
//! (127.0.0.1). Without `--apps` it runs `l2_learning`. `--api` serves the JSON API and
//! the topology page; it takes loopback addresses only unless `--api-any` is given too.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use flowlab_ofagent::target::Target;

/// The usage text.
pub const USAGE: &str = "\
usage: flowlab-controller [OPTIONS]

  --listen TARGET    accept switches on ptcp:PORT[:IP] (IP defaults to 127.0.0.1)
                     or punix:PATH; repeatable (default: ptcp:6653)
  --connect TARGET   connect to a switch listening on tcp:HOST[:PORT] or unix:PATH;
                     repeatable, reconnects with backoff
  --apps LIST        apps to run, comma-separated, in order: hub, l2_learning,
                     topology, hosts, routing, acl, scan_detect (default: l2_learning)
  --config FILE      TOML options: [controller], one table per app; unknown keys
                     are errors
  --api [IP:]PORT    serve the JSON API and the live topology page over HTTP on
                     IP:PORT (IP defaults to 127.0.0.1; port 0 picks a free one)
  --api-any          allow --api on an address that is not loopback (the API then
                     answers anyone who can reach it)
  --quiet            do not log connections to stderr
  --help, --version
";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--listen`, or `ptcp:6653` when neither `--listen` nor `--connect` is given.
    pub listen: Vec<Target>,
    /// `--connect`.
    pub connect: Vec<Target>,
    /// `--apps`, split.
    pub apps: Vec<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--quiet`.
    pub quiet: bool,
    /// `--api`: where to serve the JSON API.
    pub api: Option<SocketAddr>,
    /// `--api-any`: a non-loopback `--api` address is allowed.
    pub api_any: bool,
}

impl Args {
    /// The driver's configuration these arguments ask for.
    pub fn driver_config(&self) -> crate::driver::DriverConfig {
        crate::driver::DriverConfig {
            listen: self.listen.clone(),
            connect: self.connect.clone(),
            verbose: !self.quiet,
            api: self.api,
            api_any: self.api_any,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the controller.
    Run(Args),
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
}

/// A command line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An option needs a value and got none.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// An unknown option or a stray argument.
    #[error("unknown argument '{0}'")]
    Unknown(String),
    /// A target does not parse.
    #[error("{0}")]
    Target(#[from] flowlab_ofagent::target::TargetError),
    /// A target of the wrong direction (`--listen tcp:...`).
    #[error("{option} {target}: {why}")]
    WrongTarget {
        /// The option.
        option: &'static str,
        /// The target as written.
        target: String,
        /// What it takes.
        why: &'static str,
    },
    /// `--apps` names no app.
    #[error("--apps names no app")]
    NoApps,
    /// `--api` is not `[IP:]PORT`.
    #[error("--api {0}: takes [IP:]PORT, as 127.0.0.1:8080, [::1]:8080 or 8080")]
    BadApiAddress(String),
    /// `--api` on an address that is not loopback, without `--api-any`.
    #[error("--api {0}: not a loopback address; add --api-any to serve the API there")]
    ApiNotLoopback(SocketAddr),
}

/// Parses `--api`'s value: `IP:PORT`, `[IPv6]:PORT`, or a port alone (on 127.0.0.1).
pub fn parse_api_address(v: &str) -> Result<SocketAddr, CliError> {
    if let Ok(port) = v.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    v.parse::<SocketAddr>()
        .map_err(|_| CliError::BadApiAddress(v.to_string()))
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, CliError> {
    let mut listen = Vec::new();
    let mut connect = Vec::new();
    let mut apps = None;
    let mut config = None;
    let mut quiet = false;
    let mut api = None;
    let mut api_any = false;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let value = |it: &mut I::IntoIter| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| CliError::MissingValue(name.clone()))
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--version" | "-V" => return Ok(Command::Version),
            "--quiet" | "-q" => quiet = true,
            "--listen" => {
                let v = value(&mut it)?;
                let t = Target::parse(&v)?;
                if !t.is_passive() {
                    return Err(CliError::WrongTarget {
                        option: "--listen",
                        target: v,
                        why: "takes ptcp:PORT[:IP] or punix:PATH",
                    });
                }
                listen.push(t);
            }
            "--connect" => {
                let v = value(&mut it)?;
                let t = Target::parse(&v)?;
                if t.is_passive() {
                    return Err(CliError::WrongTarget {
                        option: "--connect",
                        target: v,
                        why: "takes tcp:HOST[:PORT] or unix:PATH",
                    });
                }
                connect.push(t);
            }
            "--apps" => {
                let list = crate::apps::parse_list(&value(&mut it)?);
                if list.is_empty() {
                    return Err(CliError::NoApps);
                }
                apps = Some(list);
            }
            "--config" => config = Some(PathBuf::from(value(&mut it)?)),
            "--api" => api = Some(parse_api_address(&value(&mut it)?)?),
            "--api-any" => api_any = true,
            _ => return Err(CliError::Unknown(a)),
        }
    }
    if let Some(a) = api {
        if !a.ip().is_loopback() && !api_any {
            return Err(CliError::ApiNotLoopback(a));
        }
    }
    if listen.is_empty() && connect.is_empty() {
        listen.push(Target::parse("ptcp:6653")?);
    }
    Ok(Command::Run(Args {
        listen,
        connect,
        apps: apps.unwrap_or_else(|| vec!["l2_learning".into()]),
        config,
        quiet,
        api,
        api_any,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn run(args: &[&str]) -> Result<Args, CliError> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(a) => Ok(a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_listen_on_6653_with_l2_learning() {
        let a = run(&[]).unwrap();
        assert_eq!(
            a.listen,
            [Target::PassiveTcp {
                port: 6653,
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST)
            }]
        );
        assert_eq!(a.apps, ["l2_learning"]);
        assert!(a.connect.is_empty() && a.config.is_none() && !a.quiet);
        assert!(a.api.is_none() && !a.api_any);
    }

    #[test]
    fn the_api_is_loopback_unless_allowed_otherwise() {
        let a = run(&["--api", "127.0.0.1:8080"]).unwrap();
        assert_eq!(a.api, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(
            run(&["--api=9000"]).unwrap().api,
            Some("127.0.0.1:9000".parse().unwrap())
        );
        assert_eq!(
            run(&["--api", "[::1]:0"]).unwrap().api,
            Some("[::1]:0".parse().unwrap())
        );
        assert_eq!(
            run(&["--api", "0.0.0.0:8080"]).unwrap_err(),
            CliError::ApiNotLoopback("0.0.0.0:8080".parse().unwrap())
        );
        let a = run(&["--api", "0.0.0.0:8080", "--api-any"]).unwrap();
        assert!(a.api_any && a.api.is_some());
        for bad in ["localhost:80", "127.0.0.1", "127.0.0.1:70000", "x", ""] {
            assert_eq!(
                run(&["--api", bad]).unwrap_err(),
                CliError::BadApiAddress(bad.into()),
                "{bad}"
            );
        }
        assert_eq!(
            run(&["--api"]).unwrap_err(),
            CliError::MissingValue("--api".into())
        );
    }

    #[test]
    fn options_repeat_and_take_inline_values() {
        let a = run(&[
            "--listen",
            "punix:/tmp/x",
            "--listen=ptcp:7000:0.0.0.0",
            "--connect",
            "unix:/tmp/sw",
            "--apps",
            "hub,l2_learning",
            "--config=/etc/c.toml",
            "-q",
        ])
        .unwrap();
        assert_eq!(a.listen.len(), 2);
        assert_eq!(a.listen[0], Target::PassiveUnix("/tmp/x".into()));
        assert_eq!(a.connect, [Target::Unix("/tmp/sw".into())]);
        assert_eq!(a.apps, ["hub", "l2_learning"]);
        assert_eq!(a.config, Some(PathBuf::from("/etc/c.toml")));
        assert!(a.quiet);
        // --connect alone: no default listener.
        assert!(run(&["--connect", "tcp:127.0.0.1:6634"])
            .unwrap()
            .listen
            .is_empty());
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        assert_eq!(
            run(&["--listen"]).unwrap_err(),
            CliError::MissingValue("--listen".into())
        );
        assert!(matches!(
            run(&["--listen", "tcp:1.2.3.4:5"]).unwrap_err(),
            CliError::WrongTarget { .. }
        ));
        assert!(matches!(
            run(&["--connect", "punix:/x"]).unwrap_err(),
            CliError::WrongTarget { .. }
        ));
        assert!(matches!(
            run(&["--listen", "bogus:1"]).unwrap_err(),
            CliError::Target(_)
        ));
        assert_eq!(run(&["--apps", ","]).unwrap_err(), CliError::NoApps);
        assert_eq!(run(&["x"]).unwrap_err(), CliError::Unknown("x".into()));
        assert_eq!(parse(["--help".to_string()]).unwrap(), Command::Help);
    }
}
