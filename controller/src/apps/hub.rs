//! `hub`: every packet-in is flooded out of every port but the one it came in on.

use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::{Event, EventKind};

/// `[hub]` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    /// Handler priority for packet-ins (below `l2_learning`'s 100 by default, so with
    /// both apps running the learning switch answers and the hub stays quiet).
    pub priority: i32,
}

/// The hub app.
#[derive(Debug, Clone)]
pub struct Hub {
    config: HubConfig,
}

impl Hub {
    /// A hub with these options.
    pub fn new(config: HubConfig) -> Hub {
        Hub { config }
    }
}

impl App for Hub {
    fn name(&self) -> &'static str {
        "hub"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::PacketIn, self.config.priority);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        if let Event::PacketIn(pi) = event {
            // A switch that left meanwhile is the only failure; nothing to do about it.
            let _ = ctx.flood(pi);
            return Disposition::Stop;
        }
        Disposition::Continue
    }
}
