//! flowlab-hub: a drop-in `uml_switch` on flowlab's datapath.
pub mod client;
pub mod request;
