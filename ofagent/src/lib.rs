//! flowlab-ofagent: the switch side of OpenFlow.
//!
//! Controller connections (active with backoff, passive for ovs-ofctl), the connection
//! state machine, fail modes, and the mapping of messages onto the datapath pipeline.
//!
//! - [`target`]: `tcp:`, `unix:`, `ptcp:`, `punix:` connection targets.
//! - [`backoff`]: capped exponential backoff for active connections.
#![warn(missing_docs)]

pub mod backoff;
pub mod target;
