//! Scenario (c): broadcast flood. Port 0 of `ports` sends broadcast frames under a credit
//! window (in flight = sent − copies counted by the *slowest* of the other ports); every
//! other port counts its copies. The cost that matters is switch CPU per output copy.

use std::time::Duration;

use anyhow::Result;

use crate::load::{self, LoadParams, LoadResult};
use crate::traffic::{ClientKind, Target};

/// Parameters of one flood run.
#[derive(Clone, Debug)]
pub struct FloodParams {
    /// Client style of all ports.
    pub kind: ClientKind,
    /// Ports including the sender.
    pub ports: usize,
    /// Broadcast frames to send.
    pub frames: u64,
    /// Most frames in flight.
    pub window: u64,
    /// Frame size.
    pub size: usize,
}

/// Runs one flood.
pub fn run(target: &Target, p: &FloodParams) -> Result<LoadResult> {
    load::run(
        target,
        &LoadParams {
            kind: p.kind,
            ports: p.ports,
            size: p.size,
            frames: p.frames,
            window: p.window,
            broadcast: true,
            stall: Duration::from_millis(50),
            quiet: Duration::from_millis(200),
        },
    )
}
