//! `routing`: shortest-path routing over the discovered topology, loop-safe flooding.
//!
//! (Being written.)

use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::Event;

/// `[routing]` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingConfig {}

/// The `routing` app.
#[derive(Debug, Clone)]
pub struct Routing {
    #[allow(dead_code)]
    config: RoutingConfig,
}

impl Routing {
    /// The app with `config`.
    pub fn new(config: RoutingConfig) -> Routing {
        Routing { config }
    }
}

impl App for Routing {
    fn name(&self) -> &'static str {
        "routing"
    }

    fn register(&self, _r: &mut Registrar) {}

    fn handle(&mut self, _event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
        Disposition::Continue
    }
}
