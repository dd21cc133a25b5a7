//! `acl`: a TOML access policy over host names and addresses, compiled into flows.
//!
//! (Being written.)

use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::Event;

/// `[acl]` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AclConfig {}

/// The `acl` app.
#[derive(Debug, Clone)]
pub struct Acl {
    #[allow(dead_code)]
    config: AclConfig,
}

impl Acl {
    /// The app with `config`.
    pub fn new(config: AclConfig) -> Acl {
        Acl { config }
    }
}

impl App for Acl {
    fn name(&self) -> &'static str {
        "acl"
    }

    fn register(&self, _r: &mut Registrar) {}

    fn handle(&mut self, _event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
        Disposition::Continue
    }
}
