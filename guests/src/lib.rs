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
#![warn(missing_docs)]

pub mod image;
pub mod lab;
pub mod uml;
