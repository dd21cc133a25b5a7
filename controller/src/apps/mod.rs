//! The apps that ship with the controller, chosen by name (`--apps hub,l2_learning`).
//!
//! | app | does |
//! |---|---|
//! | [`hub`] | floods every packet-in |
//! | [`l2_learning`] | per-switch MAC learning; installs exact flows with idle timeouts |
//! | [`topology`] | LLDP link discovery into the network view |
//! | [`hosts`] | hosts: MAC, IPv4, location and names from ARP, DHCP and DNS |
//! | [`routing`] | shortest paths over the topology; loop-safe flooding |
//! | [`acl`] | a TOML policy over names and addresses, compiled into flows, reloadable |
//! | [`scan_detect`] | posts `ScanSuspected` for hosts contacting many unknown destinations |

use crate::app::App;
use crate::config::Config;

pub mod acl;
pub mod hosts;
pub mod hub;
pub mod l2_learning;
pub mod routing;
pub mod scan_detect;
pub mod topology;

/// The names `--apps` accepts.
pub const NAMES: [&str; 7] = [
    "hub",
    "l2_learning",
    "topology",
    "hosts",
    "routing",
    "acl",
    "scan_detect",
];

/// Why the apps could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// An app name that is not one of [`NAMES`].
    #[error(
        "unknown app '{0}' (known: hub, l2_learning, topology, hosts, routing, acl, scan_detect)"
    )]
    UnknownApp(String),
    /// The `acl` app's policy cannot be loaded: the controller does not start.
    #[error("acl: {0}")]
    Acl(#[from] acl::AclError),
}

/// Splits a comma-separated app list (`"hub,l2_learning"`), dropping empty items.
pub fn parse_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Builds the named apps, in order, with their options from `config`.
pub fn build(names: &[String], config: &Config) -> Result<Vec<Box<dyn App>>, BuildError> {
    names
        .iter()
        .map(|n| -> Result<Box<dyn App>, BuildError> {
            match n.as_str() {
                "hub" => Ok(Box::new(hub::Hub::new(config.hub.clone()))),
                "l2_learning" => Ok(Box::new(l2_learning::L2Learning::new(
                    config.l2_learning.clone(),
                ))),
                "topology" => Ok(Box::new(topology::Topology::new(config.topology.clone()))),
                "hosts" => Ok(Box::new(hosts::Hosts::new(config.hosts.clone()))),
                "routing" => Ok(Box::new(routing::Routing::new(config.routing.clone()))),
                "acl" => Ok(Box::new(acl::Acl::load(config.acl.clone())?)),
                "scan_detect" => Ok(Box::new(scan_detect::ScanDetect::new(
                    config.scan_detect.clone(),
                ))),
                other => Err(BuildError::UnknownApp(other.into())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_are_built_by_name_in_order() {
        let names = parse_list(" l2_learning, ,hub,");
        assert_eq!(names, ["l2_learning", "hub"]);
        let apps = build(&names, &Config::default()).unwrap();
        let got: Vec<&str> = apps.iter().map(|a| a.name()).collect();
        assert_eq!(got, ["l2_learning", "hub"]);
        for n in NAMES {
            assert_eq!(
                build(&[n.to_string()], &Config::default()).unwrap()[0].name(),
                n
            );
        }
        assert!(matches!(
            build(&["router".into()], &Config::default()),
            Err(BuildError::UnknownApp(n)) if n == "router"
        ));
        let mut bad = Config::default();
        bad.acl.policy = Some(std::path::PathBuf::from("/nonexistent/flowlab-acl.toml"));
        let e = build(&["acl".into()], &bad)
            .err()
            .expect("a missing policy file");
        assert!(e.to_string().contains("flowlab-acl.toml"), "{e}");
    }
}
