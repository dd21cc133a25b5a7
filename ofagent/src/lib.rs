//! flowlab-ofagent: the switch side of OpenFlow.
//!
//! The one idea: the agent is sans-IO. It owns the switch's OpenFlow pipeline and the
//! state of every OpenFlow connection, takes bytes, frames and the time from a driver
//! (flowlab-hub's epoll loop), and gives back bytes per connection and frames per port.
//!
//! | module | holds |
//! |---|---|
//! | [`agent`] | the agent: dispatch of every message, ports, roles, async messages, fail modes |
//! | [`conn`] | one connection: buffers, version negotiation, liveness, role |
//! | [`translate`] | OpenFlow matches, actions and instructions onto the datapath's |
//! | `datapath_ops` | flow/group/meter mods, packet-outs, statistics, frames through the pipeline |
//! | [`target`] | `tcp:`, `unix:`, `ptcp:`, `punix:` connection targets |
//! | [`backoff`] | capped exponential backoff for active connections |
#![warn(missing_docs)]

pub mod agent;
pub mod backoff;
pub mod conn;
mod datapath_ops;
pub mod target;
pub mod translate;

#[cfg(test)]
mod tests;
