//! Connection targets in Open vSwitch's syntax: `tcp:HOST:PORT` and `unix:PATH` (active,
//! the switch connects out to a controller), `ptcp:PORT[:IP]` and `punix:PATH` (passive,
//! the switch listens for ovs-ofctl and test tools).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// The IANA OpenFlow port, used when an active `tcp:` target names none.
pub const DEFAULT_OPENFLOW_PORT: u16 = 6653;

/// Where a connection goes, or where the switch listens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `tcp:HOST[:PORT]`: connect to a controller over TCP.
    Tcp {
        /// Host name or address as written.
        host: String,
        /// Port (6653 when omitted).
        port: u16,
    },
    /// `unix:PATH`: connect to a controller's unix stream socket.
    Unix(PathBuf),
    /// `ptcp:PORT[:IP]`: listen on TCP (IP defaults to 127.0.0.1; port 0 picks one).
    PassiveTcp {
        /// Port to listen on.
        port: u16,
        /// Address to bind.
        ip: IpAddr,
    },
    /// `punix:PATH`: listen on a unix stream socket.
    PassiveUnix(PathBuf),
}

/// A target that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The method before the colon is none of tcp, unix, ptcp, punix.
    #[error("'{0}': unknown connection method (use tcp:HOST:PORT, unix:PATH, ptcp:PORT[:IP] or punix:PATH)")]
    UnknownMethod(String),
    /// A port number is missing or out of range.
    #[error("'{0}': bad port number")]
    BadPort(String),
    /// An address does not parse.
    #[error("'{0}': bad IP address")]
    BadAddress(String),
    /// A path or host is empty.
    #[error("'{0}': empty host or path")]
    Empty(String),
}

impl Target {
    /// Parses one target.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let (method, rest) = text
            .split_once(':')
            .ok_or_else(|| TargetError::UnknownMethod(text.into()))?;
        match method {
            "tcp" => {
                let (host, port) = split_host_port(rest);
                if host.is_empty() {
                    return Err(TargetError::Empty(text.into()));
                }
                let port = match port {
                    Some(p) => parse_port(p, text)?,
                    None => DEFAULT_OPENFLOW_PORT,
                };
                Ok(Target::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            "unix" | "punix" => {
                if rest.is_empty() {
                    return Err(TargetError::Empty(text.into()));
                }
                let path = PathBuf::from(rest);
                Ok(if method == "unix" {
                    Target::Unix(path)
                } else {
                    Target::PassiveUnix(path)
                })
            }
            "ptcp" => {
                let (port, ip) = match rest.split_once(':') {
                    Some((p, ip)) => (p, Some(ip)),
                    None => (rest, None),
                };
                let port = if port.is_empty() {
                    DEFAULT_OPENFLOW_PORT
                } else {
                    parse_port(port, text)?
                };
                let ip = match ip {
                    Some(ip) => ip
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<IpAddr>()
                        .map_err(|_| TargetError::BadAddress(text.into()))?,
                    None => IpAddr::V4(Ipv4Addr::LOCALHOST),
                };
                Ok(Target::PassiveTcp { port, ip })
            }
            _ => Err(TargetError::UnknownMethod(text.into())),
        }
    }

    /// Whether the switch listens on this target (ptcp, punix).
    pub fn is_passive(&self) -> bool {
        matches!(self, Target::PassiveTcp { .. } | Target::PassiveUnix(_))
    }
}

/// `HOST:PORT`, `[V6]:PORT`, `HOST`.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(inner) = s.strip_prefix('[') {
        if let Some((host, after)) = inner.split_once(']') {
            return (host, after.strip_prefix(':'));
        }
    }
    match s.rsplit_once(':') {
        // A bare IPv6 address has several colons: no port then.
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

fn parse_port(p: &str, text: &str) -> Result<u16, TargetError> {
    p.parse::<u16>()
        .map_err(|_| TargetError::BadPort(text.into()))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
            Target::PassiveTcp { port, ip } if ip.is_ipv6() => write!(f, "ptcp:{port}:[{ip}]"),
            Target::PassiveTcp { port, ip } => write!(f, "ptcp:{port}:{ip}"),
            Target::PassiveUnix(p) => write!(f, "punix:{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_method() {
        assert_eq!(
            Target::parse("tcp:127.0.0.1:6633").unwrap(),
            Target::Tcp {
                host: "127.0.0.1".into(),
                port: 6633
            }
        );
        assert_eq!(
            Target::parse("tcp:ctl.example").unwrap(),
            Target::Tcp {
                host: "ctl.example".into(),
                port: 6653
            }
        );
        assert_eq!(
            Target::parse("tcp:[::1]:7000").unwrap(),
            Target::Tcp {
                host: "::1".into(),
                port: 7000
            }
        );
        assert_eq!(
            Target::parse("unix:/tmp/c.sock").unwrap(),
            Target::Unix("/tmp/c.sock".into())
        );
        assert_eq!(
            Target::parse("ptcp:6634").unwrap(),
            Target::PassiveTcp {
                port: 6634,
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST)
            }
        );
        assert_eq!(
            Target::parse("ptcp:0:0.0.0.0").unwrap(),
            Target::PassiveTcp {
                port: 0,
                ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            }
        );
        assert!(Target::parse("punix:/tmp/s").unwrap().is_passive());
        assert!(!Target::parse("unix:/tmp/s").unwrap().is_passive());
    }

    #[test]
    fn rejects_bad_targets_with_a_reason() {
        assert!(matches!(
            Target::parse("ssl:1.2.3.4:6653"),
            Err(TargetError::UnknownMethod(_))
        ));
        assert!(matches!(
            Target::parse("6653"),
            Err(TargetError::UnknownMethod(_))
        ));
        assert!(matches!(
            Target::parse("tcp:h:99999"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(
            Target::parse("ptcp:x"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(
            Target::parse("ptcp:1:nothere"),
            Err(TargetError::BadAddress(_))
        ));
        assert!(matches!(Target::parse("unix:"), Err(TargetError::Empty(_))));
        assert!(matches!(
            Target::parse("tcp::1"),
            Err(TargetError::Empty(_))
        ));
    }

    #[test]
    fn display_round_trips() {
        for t in [
            "tcp:127.0.0.1:6653",
            "tcp:[::1]:6653",
            "unix:/a/b",
            "ptcp:6634:127.0.0.1",
            "ptcp:1:[::1]",
            "punix:/x",
        ] {
            assert_eq!(Target::parse(t).unwrap().to_string(), t);
        }
    }
}
