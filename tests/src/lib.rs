//! End-to-end test harness for flowlab-hub.
//!
//! * [`switch`]: start a switch under test (the real `uml_switch`, or `flowlab-hub`) in a
//!   fresh temp dir, wait for it, read its log, stop it on drop.
//! * [`frames`]: Ethernet frame builders with tags, and readable descriptions.
//! * [`collect`]: receive everything a set of clients get until the line is quiet, and
//!   check who got what.
//! * [`vde`]: `vde_switch` and `vde_plug` processes (the VDE 2 tools from Debian).
//! * [`guests`]: real User-Mode Linux guests on a busybox hostfs root.
//! * [`openflow`]: network namespaces, `ovs-ofctl` and `tshark` as OpenFlow peers of the hub.
//! * [`controllers`]: real OpenFlow controllers (ovs-testcontroller, os-ken), network
//!   namespaces and veth hosts for the hub's OpenFlow mode.
//! * [`flowlab_controller`]: the `flowlab-controller` binary, started on a unix socket.
//! * [`triangle`]: three OpenFlow switches (flowlab-hub or Open vSwitch userspace) in a
//!   triangle with a host each, for routing tests.
//! * [`proc`], [`tmp`]: process and temp-dir guards.
//!
//! Everything a test creates has a name with the test process's pid and a counter, so two
//! runs can overlap, and is removed by a `Drop` guard, also when the test fails.

pub mod collect;
pub mod controllers;
pub mod flowlab_controller;
pub mod frames;
pub mod guests;
pub mod openflow;
pub mod proc;
pub mod switch;
pub mod tmp;
pub mod triangle;
pub mod vde;

use std::sync::atomic::{AtomicU64, Ordering};

pub use collect::{gather, Delivery};
pub use frames::{frame, mac};
pub use switch::{Switch, SwitchConfig, SwitchKind};
pub use tmp::TempDir;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique to this process and call: `<tag>-<pid>-<n>`.
pub fn unique(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Panics with a message naming the Debian package if `tool` is not on PATH; returns its path.
pub fn require_tool(tool: &str, package: &str) -> std::path::PathBuf {
    find_in_path(tool).unwrap_or_else(|| {
        panic!("`{tool}` not found on PATH: install the Debian package `{package}` (apt-get install -y {package})")
    })
}

/// The first executable named `tool` on PATH.
pub fn find_in_path(tool: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}
