//! flowlab-ofagent: the switch side of OpenFlow.
//!
//! Controller connections (active with backoff, passive for ovs-ofctl), the connection
//! state machine, fail modes, and the mapping of messages onto the datapath pipeline.
//! It is empty until the OpenFlow issue lands; `flowlab-hub` keeps a forwarding-mode seam
//! (`hub::forwarding`) where it will plug in.
