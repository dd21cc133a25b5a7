//! flowlab-controller: a NOX-like OpenFlow controller.
//!
//! Switch connections, events dispatched to prioritized handlers (Continue/Stop), a
//! network view (topology, hosts, name bindings), apps and a JSON API. It is empty until
//! the controller issue lands.
