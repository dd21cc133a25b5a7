//! flowlab-hub: a drop-in `uml_switch` on flowlab's datapath.
//!
//! Netkit labs, UML guests (`daemon` and `vde` transports), `vde_plug` and QEMU `-nic vde`
//! connect to it unchanged. The one idea: every port gets its own connected datagram
//! socket (the VDE design), so ports are identified by socket rather than by source
//! address, client-to-switch traffic has no queue-length cap, and writability is
//! meaningful — which is what lets the switch batch, queue and never drop a frame a
//! UML guest could still have taken.
//!
//! | module | holds |
//! |---|---|
//! | [`request`] | the control request codec (v0, v1, v3 UML, v3 VDE), sans-IO |
//! | [`cli`] | uml_switch's command line plus the long options |
//! | [`switch`] | the epoll loop: listeners, control connections, ports, the fast path |
//! | [`forwarding`] | hub and learning modes (the seam for OpenFlow mode) |
//! | [`mgmt`] | `flowlab-hub ctl`: show, ports, macs, counters, capture |
//! | [`capture`] | the pcapng stream writer |
//! | [`log`] | uml_switch-style messages, rate-limited where guests can trigger them |
//! | [`client`] | a protocol client (tests, benchmarks, `ctl`) |

pub mod capture;
pub mod cli;
pub mod client;
pub mod forwarding;
pub mod log;
pub mod mgmt;
pub mod request;
pub mod switch;
