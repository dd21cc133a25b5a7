//! flowlab-openflow: the sans-IO OpenFlow 1.0 and 1.3 codec.
//!
//! Both the switch agent (`flowlab-ofagent`) and the controller speak the protocol, and
//! neither owns it. This crate will hold the version-tagged wire layer, one semantic
//! message model above both versions, version negotiation and ovs-ofctl flow text.
//! It is empty until the OpenFlow issue lands.
