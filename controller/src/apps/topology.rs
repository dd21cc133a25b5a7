//! `topology`: LLDP link discovery: writes the links of the network view.
//!
//! (Being written.)

use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::Event;

/// `[topology]` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyConfig {}

/// The `topology` app.
#[derive(Debug, Clone)]
pub struct Topology {
    #[allow(dead_code)]
    config: TopologyConfig,
}

impl Topology {
    /// The app with `config`.
    pub fn new(config: TopologyConfig) -> Topology {
        Topology { config }
    }
}

impl App for Topology {
    fn name(&self) -> &'static str {
        "topology"
    }

    fn register(&self, _r: &mut Registrar) {}

    fn handle(&mut self, _event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
        Disposition::Continue
    }
}
