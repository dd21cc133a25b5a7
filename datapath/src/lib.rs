//! flowlab-datapath: the software datapath under `flowlab-hub`.
//!
//! One idea runs through the crate: a frame is parsed once, in place, into a fixed-size
//! [`FlowKey`](key::FlowKey) of plain words; everything after that (the classifier, the
//! microflow cache, the MAC table) works on those words and never on the frame again,
//! until actions rewrite the frame's bytes in place.
//!
//! | module | holds |
//! |---|---|
//! | [`wire`] | zero-copy views over frame bytes: Ethernet, 802.1Q/QinQ, MPLS, PBB, ARP, IPv4, IPv6, TCP, UDP, SCTP, ICMPv4, ICMPv6/ND, LLDP |
//! | [`key`] | [`FlowKey`](key::FlowKey): one-pass extraction of every OpenFlow 1.0/1.3 match field |
//! | [`classifier`] | priority + wildcard flow tables: tuple space search behind a microflow cache |
//! | [`actions`] | frame rewrites and output decisions, with incremental checksum updates |
//! | [`field`] | OpenFlow match fields by name: OXM value bytes to and from [`FlowKey`](key::FlowKey) and [`Match`](classifier::Match) |
//! | [`counters`] | per-flow, per-port and per-table counters |
//! | [`learning`] | the MAC table of the learning switch: aging, a size limit, a keyed hash |
//! | [`pipeline`] | the OpenFlow multi-table pipeline: instructions, action set, groups, meters, a cache over whole walks |
//! | [`port`] | the port trait and its drivers: batched unix datagram ports, tap |
//!
//! The core (`wire`, `key`, `classifier`, `actions`, `counters`, `learning`, `pipeline`) is
//! sans-IO and takes time as an argument; only `port` touches the operating system.

pub mod actions;
pub mod classifier;
pub mod counters;
pub mod field;
pub mod key;
pub mod learning;
pub mod pipeline;
pub mod port;
pub mod wire;
