//! `hosts`: host tracking: MAC, IPv4, location and name bindings from ARP, DHCP and DNS.
//!
//! (Being written.)

use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::Event;

/// `[hosts]` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostsConfig {}

/// The `hosts` app.
#[derive(Debug, Clone)]
pub struct Hosts {
    #[allow(dead_code)]
    config: HostsConfig,
}

impl Hosts {
    /// The app with `config`.
    pub fn new(config: HostsConfig) -> Hosts {
        Hosts { config }
    }
}

impl App for Hosts {
    fn name(&self) -> &'static str {
        "hosts"
    }

    fn register(&self, _r: &mut Registrar) {}

    fn handle(&mut self, _event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
        Disposition::Continue
    }
}
