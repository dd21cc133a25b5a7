//! The controller's TOML configuration: one file, one table per app, unknown keys
//! rejected (a misspelt option is an error, never silently ignored).
//!
//! ```toml
//! [controller]
//! protocols = ["OpenFlow10", "OpenFlow13"]
//! miss_send_len = 65535
//! echo_interval = 5        # seconds; 0 disables keepalive
//! table_miss = true        # 1.3: install a table-miss entry to the controller
//!
//! [l2_learning]
//! idle_timeout = 60
//! hard_timeout = 0
//!
//! [hub]
//! priority = 0
//!
//! [topology]
//! interval_ms = 1000       # LLDP probes per port
//!
//! [hosts]
//! timeout_s = 300
//!
//! [routing]
//! idle_timeout = 30
//! granularity = "l2"       # or "l4": one path per connection
//!
//! [acl]
//! policy = "policy.toml"   # reloaded when it changes
//! default = "allow"
//!
//! [scan_detect]
//! window_s = 10
//! threshold = 20
//! ```
//!
//! docs/controller.md lists every option of every app.
//!
//! Every key has a default, so an empty file (or none) is a valid configuration. Tables
//! for apps that are not running are checked all the same.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::switch_conn::{ConnConfig, OFP10, OFP13};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The text is not valid TOML for this configuration (unknown key, wrong type, ...).
    #[error("{0}")]
    Parse(String),
    /// A protocol name is not OpenFlow10 or OpenFlow13.
    #[error("unknown protocol '{0}' (use OpenFlow10 and/or OpenFlow13)")]
    UnknownProtocol(String),
    /// No protocol is enabled.
    #[error("protocols is empty: enable OpenFlow10 and/or OpenFlow13")]
    NoProtocol,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[controller]`: connections.
    pub controller: ControllerSection,
    /// `[hub]`.
    pub hub: crate::apps::hub::HubConfig,
    /// `[l2_learning]`.
    pub l2_learning: crate::apps::l2_learning::L2LearningConfig,
    /// `[topology]`.
    pub topology: crate::apps::topology::TopologyConfig,
    /// `[hosts]`.
    pub hosts: crate::apps::hosts::HostsConfig,
    /// `[routing]`.
    pub routing: crate::apps::routing::RoutingConfig,
    /// `[acl]`.
    pub acl: crate::apps::acl::AclConfig,
    /// `[scan_detect]`.
    pub scan_detect: crate::apps::scan_detect::ScanDetectConfig,
}

/// `[controller]`: how switch connections behave.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerSection {
    /// Versions offered: `OpenFlow10`, `OpenFlow13`.
    pub protocols: Vec<String>,
    /// `miss_send_len` sent in `SET_CONFIG` (65535: whole frames).
    pub miss_send_len: u16,
    /// Seconds of silence before an echo request (0 disables keepalive).
    pub echo_interval: u64,
    /// For 1.3 switches, install a table-miss entry sending misses to the controller.
    pub table_miss: bool,
    /// For 1.3 switches, send `SET_ASYNC` for every asynchronous-message reason.
    pub set_async: bool,
    /// Ask switches for their description.
    pub request_desc: bool,
}

impl Default for ControllerSection {
    fn default() -> Self {
        let c = ConnConfig::default();
        ControllerSection {
            protocols: vec!["OpenFlow10".into(), "OpenFlow13".into()],
            miss_send_len: c.miss_send_len,
            echo_interval: c.echo_interval.as_secs(),
            table_miss: c.table_miss,
            set_async: c.set_async,
            request_desc: c.request_desc,
        }
    }
}

impl ControllerSection {
    /// The connection configuration this section describes.
    pub fn conn_config(&self) -> Result<ConnConfig, ConfigError> {
        let mut versions = Vec::new();
        for p in &self.protocols {
            let v = match p.as_str() {
                "OpenFlow10" => OFP10,
                "OpenFlow13" => OFP13,
                other => return Err(ConfigError::UnknownProtocol(other.into())),
            };
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
        if versions.is_empty() {
            return Err(ConfigError::NoProtocol);
        }
        versions.sort_unstable();
        Ok(ConnConfig {
            versions,
            miss_send_len: self.miss_send_len,
            echo_interval: Duration::from_secs(self.echo_interval),
            table_miss: self.table_miss,
            set_async: self.set_async,
            request_desc: self.request_desc,
        })
    }
}

impl Config {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        c.controller.conn_config()?;
        Ok(c)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse(m) => ConfigError::Parse(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.controller.conn_config().unwrap(), ConnConfig::default());
    }

    #[test]
    fn sections_set_their_apps_options() {
        let c = Config::from_toml(
            "[controller]\nprotocols = [\"OpenFlow13\"]\necho_interval = 0\n\
             [l2_learning]\nidle_timeout = 5\nflow_removed = true\n[hub]\npriority = 7\n",
        )
        .unwrap();
        let cc = c.controller.conn_config().unwrap();
        assert_eq!(cc.versions, [OFP13]);
        assert!(cc.echo_interval.is_zero());
        assert_eq!(c.l2_learning.idle_timeout, 5);
        assert!(c.l2_learning.flow_removed);
        assert_eq!(c.hub.priority, 7);
    }

    #[test]
    fn unknown_keys_and_sections_are_refused() {
        for text in [
            "[l2_learning]\nidle_timout = 5\n",
            "[controller]\nport = 6653\n",
            "[router]\n",
            "top = 1\n",
        ] {
            let e = Config::from_toml(text).unwrap_err();
            assert!(matches!(e, ConfigError::Parse(_)), "{text}: {e}");
        }
        let e = Config::from_toml("[controller]\nprotocols = [\"OpenFlow14\"]\n").unwrap_err();
        assert!(e.to_string().contains("OpenFlow14"), "{e}");
        let e = Config::from_toml("[controller]\nprotocols = []\n").unwrap_err();
        assert!(matches!(e, ConfigError::NoProtocol));
    }

    #[test]
    fn the_documented_example_parses() {
        // The example at the top of this module, less the policy file (its existence is
        // checked when the acl app is built, not here).
        let text = "[controller]\nprotocols = [\"OpenFlow10\", \"OpenFlow13\"]\n\
            miss_send_len = 65535\necho_interval = 5\ntable_miss = true\n\
            [l2_learning]\nidle_timeout = 60\nhard_timeout = 0\n[hub]\npriority = 0\n\
            [topology]\ninterval_ms = 1000\n[hosts]\ntimeout_s = 300\n\
            [routing]\nidle_timeout = 30\ngranularity = \"l2\"\n\
            [acl]\npolicy = \"policy.toml\"\ndefault = \"allow\"\n\
            [scan_detect]\nwindow_s = 10\nthreshold = 20\n";
        let c = Config::from_toml(text).unwrap();
        assert_eq!(c.topology.interval_ms, 1000);
        assert_eq!(c.scan_detect.threshold, 20);
    }
}
