//! `scan_detect`: flags hosts that contact too many unknown destinations.
//!
//! (Being written.)

use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Registrar};
use crate::event::Event;

/// `[scan_detect]` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanDetectConfig {}

/// The `scan_detect` app.
#[derive(Debug, Clone)]
pub struct ScanDetect {
    #[allow(dead_code)]
    config: ScanDetectConfig,
}

impl ScanDetect {
    /// The app with `config`.
    pub fn new(config: ScanDetectConfig) -> ScanDetect {
        ScanDetect { config }
    }
}

impl App for ScanDetect {
    fn name(&self) -> &'static str {
        "scan_detect"
    }

    fn register(&self, _r: &mut Registrar) {}

    fn handle(&mut self, _event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
        Disposition::Continue
    }
}
