//! flowlab-guests: the `flowlab` lab launcher.
//!
//! Reads Netkit and Kathara lab folders unchanged, boots real User-Mode Linux guests and
//! wires each collision domain through one `flowlab-hub`. It is empty until the lab issue
//! lands; for now the UML boot recipe lives in the end-to-end test harness
//! (`flowlab-tests`).
