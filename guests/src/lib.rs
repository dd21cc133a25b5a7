//! flowlab-guests: the `flowlab` lab launcher.
//!
//! Reads Netkit and Kathara lab folders unchanged, boots real User-Mode Linux guests and
//! wires each collision domain through one `flowlab-hub`.
//!
//! | module | holds |
//! |---|---|
//! | [`lab`] | the lab model: `lab.conf` (Netkit and Kathara dialects), `lab.dep`, machine folders, startup files, the topology picture |
//! | [`image`] | guest root filesystems: the busybox and Debian images, the guest init |
//! | [`uml`] | one UML guest: its command line, process, mconsole, console and exec agent |
//! | [`state`] | a lab's run-time state under `DIR/.flowlab/`: lock, process records, sockets, COW files, logs |
//! | [`hubs`] | collision domains: one flowlab-hub per domain and lab, the lab's OpenFlow controller |
//! | [`launcher`] | orchestration: start/halt/crash/info/clean/exec/console/capture/test, `vm`, `image build` |
//! | [`cli`] | the `flowlab` command line, parsed without IO |
#![warn(missing_docs)]

pub mod cli;
pub mod hubs;
pub mod image;
pub mod lab;
pub mod launcher;
pub mod state;
pub mod uml;
