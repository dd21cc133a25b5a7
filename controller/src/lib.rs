//! flowlab-controller: a NOX-like OpenFlow controller.
//!
//! The one idea: management programs are apps over events, not per-switch configuration.
//! Switches connect (OpenFlow 1.0 or 1.3, through the `flowlab-openflow` codec); what
//! they say becomes typed [`Event`](event::Event)s, dispatched to the handlers apps
//! registered for each kind, highest priority first, each returning Continue or Stop;
//! apps answer through a small vocabulary (install, delete, output, flood, barrier,
//! stats) that never makes them build raw messages, and post events of their own. The
//! core is sans-IO and deterministic; the tokio driver and the in-memory harness are two
//! ways of feeding it bytes and time.
//!
//! | module | holds |
//! |---|---|
//! | [`switch_conn`] | one switch connection: negotiation, the handshake that never waits, xids, keepalive |
//! | [`packet_in`] | the zero-copy packet-in view the hot path reads |
//! | [`event`] | events and their kinds: from switches, and posted by apps |
//! | [`app`] | the [`App`](app::App) trait, handler registration, [`Ctx`](app::Ctx) and [`Flow`](app::Flow) |
//! | [`controller`] | the core: connections, dispatch by priority, reply routing, output |
//! | [`view`] | what is known about each switch (datapath id, ports, description) |
//! | [`netview`] | the network view: links, hosts, names, written only on change, with a change feed |
//! | [`apps`] | the shipped apps: `hub`, `l2_learning`, `topology`, `hosts`, `routing`, `acl`, `scan_detect` |
//! | [`proto`] | zero-copy DHCP and DNS views the `hosts` app reads packet-ins with |
//! | [`config`] | the TOML configuration (unknown keys rejected) |
//! | [`api`] | the JSON API and the live topology page on loopback HTTP (`--api`) |
//! | [`driver`] | tokio: listeners, outgoing connections, one task per switch, batched writes |
//! | [`harness`] | the controller wired to in-memory switches, stepped without sockets or sleeps |
//! | [`cli`] | the `flowlab-controller` command line |
#![warn(missing_docs)]

pub mod api;
pub mod app;
pub mod apps;
pub mod cli;
pub mod config;
pub mod controller;
pub mod driver;
pub mod event;
pub mod harness;
pub mod netview;
pub mod packet_in;
pub mod proto;
pub mod switch_conn;
pub mod view;
