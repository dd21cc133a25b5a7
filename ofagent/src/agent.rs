//! The agent: every OpenFlow connection of one switch, and the switch's pipeline.
//!
//! Sans-IO, like the codec: the driver (flowlab-hub's epoll loop) hands the agent bytes
//! read from a connection ([`Agent::receive`]), frames received on a port
//! ([`Agent::frame`]) and the time ([`Agent::tick`]); the agent answers with bytes to
//! write per connection ([`Agent::pending`], [`Agent::consume`]) and frames to send per
//! port ([`FrameOutputs`]). Nothing here blocks, sleeps or reads a clock.
//!
//! # Ordering
//!
//! Messages of one connection are handled in arrival order, each to completion, before
//! the next byte is looked at, and frames are processed between whole messages only. So a
//! barrier reply can be sent the moment the barrier request is read: everything before it
//! has already taken effect, which is what `OFPT_BARRIER_REQUEST` asks for.
//!
//! # Several controllers
//!
//! Every connection, active or passive, may modify the switch unless its role is slave.
//! Asynchronous messages (packet-in, port status, flow removed) go to every connection
//! whose role and `set_async` masks allow them; 1.0 connections get all three kinds.
//! A table miss is a packet-in for 1.0 connections (1.0 has no table-miss entry) and
//! nothing for 1.3 connections (1.3 drops a miss without a table-miss entry).
//!
//! # Fail modes
//!
//! `secure`: flows apply whoever installed them; with no controller connected nothing
//! learns and misses are dropped. `standalone`: while no active controller connection
//! is up, frames that miss the flow table go to the learning switch (`NORMAL`), so a lab
//! keeps working when its controller is down.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use flowlab_datapath::counters::PortCounters;
use flowlab_datapath::pipeline::Pipeline;
use flowlab_openflow::model::error_code::{
    BadRequestCode, ErrorCode, HelloFailedCode, PortModFailedCode, QueueOpFailedCode,
    RoleRequestFailedCode, TableModFailedCode,
};
use flowlab_openflow::model::multipart::{
    DescStats, MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
    PortStats,
};
use flowlab_openflow::model::port::{config as port_config, features, state as port_state};
use flowlab_openflow::model::{
    AsyncConfig, ErrorMsg, Hello, Message, Port, PortMod, PortNo, PortStatus, QueueGetConfigReply,
    RoleMsg, SwitchConfig, SwitchFeatures, TABLE_ALL,
};

use crate::conn::{
    negotiate, parse_hello, version_names, AsyncKind, Conn, Role, MAX_MESSAGE, MAX_PENDING_OUTPUT,
    OFP10, OFP13,
};
pub use crate::conn::{Origin, Role as ControllerRole};

/// A connection's handle.
pub type ConnId = usize;

/// The versions the switch speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionSet {
    /// OpenFlow 1.0.
    pub of10: bool,
    /// OpenFlow 1.3.
    pub of13: bool,
}

/// What the switch does while no controller is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentFailMode {
    /// Only flows forward; misses are dropped.
    Secure,
    /// Misses go to the learning switch while no active controller connection is up.
    Standalone,
}

/// How the agent is set up.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The datapath id.
    pub datapath_id: u64,
    /// Versions spoken.
    pub versions: VersionSet,
    /// Fail mode.
    pub fail_mode: AgentFailMode,
    /// Number of flow tables (1.3; 1.0 controllers use table 0).
    pub n_tables: u8,
    /// `dp_desc` of the desc stats reply.
    pub description: String,
    /// Silence after which an echo request probes the peer; as long again without an
    /// answer and the connection is dropped.
    pub probe_interval: Duration,
    /// Flow entries per table.
    pub max_entries: usize,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            datapath_id: 1,
            versions: VersionSet {
                of10: true,
                of13: true,
            },
            fail_mode: AgentFailMode::Secure,
            n_tables: 254,
            description: "flowlab-hub".into(),
            probe_interval: Duration::from_secs(5),
            max_entries: 1_000_000,
        }
    }
}

/// Port counters kept by the driver, read for port stats replies.
pub trait PortCounterSource {
    /// The counters of `port`, None if there is no such port.
    fn port_counters(&self, port: u32) -> Option<PortCounters>;
}

/// Frames the agent wants sent: per port, and to the learning switch (`NORMAL`, and
/// misses in standalone fail mode). Ranges index `arena`. Reuse one across calls.
#[derive(Debug, Default)]
pub struct FrameOutputs {
    /// (port, bytes) in the order decided.
    pub frames: Vec<(u32, Range<usize>)>,
    /// (in_port, bytes) for the learning switch.
    pub normal: Vec<(u32, Range<usize>)>,
    /// The bytes.
    pub arena: Vec<u8>,
}

impl FrameOutputs {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.normal.is_empty()
    }

    /// Forgets everything (keeps capacity).
    pub fn clear(&mut self) {
        self.frames.clear();
        self.normal.clear();
        self.arena.clear();
    }

    fn add(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        start..self.arena.len()
    }

    /// Queues `bytes` for `port`.
    pub fn push(&mut self, port: u32, bytes: &[u8]) {
        let r = self.add(bytes);
        self.frames.push((port, r));
    }

    /// Queues `bytes` from `in_port` for the learning switch.
    pub fn push_normal(&mut self, in_port: u32, bytes: &[u8]) {
        let r = self.add(bytes);
        self.normal.push((in_port, r));
    }
}

/// One port as OpenFlow sees it.
#[derive(Clone, Debug)]
pub(crate) struct PortEntry {
    pub(crate) name: String,
    pub(crate) hw_addr: [u8; 6],
    pub(crate) config: u32,
    pub(crate) state: u32,
    pub(crate) added: Duration,
}

/// Counters of the agent itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Packet-in messages sent (counted once per connection).
    pub packet_ins: u64,
    /// Flow mods that took effect.
    pub flow_mods: u64,
    /// Error messages sent.
    pub errors_sent: u64,
    /// Frames handed to the learning switch because no controller is connected.
    pub fail_open_frames: u64,
}

/// The switch side of OpenFlow for one switch.
#[derive(Debug)]
pub struct Agent {
    pub(crate) config: AgentConfig,
    versions: Vec<u8>,
    conns: Vec<Option<Conn>>,
    pub(crate) ports: BTreeMap<u32, PortEntry>,
    pub(crate) pipeline: Pipeline,
    pub(crate) switch_config: SwitchConfig,
    generation_id: Option<u64>,
    pub(crate) stats: AgentStats,
    encode_buf: Vec<u8>,
    pub(crate) scratch: crate::datapath_ops::Scratch,
}

impl Agent {
    /// An agent with no ports and no connections.
    pub fn new(config: AgentConfig) -> Agent {
        let mut versions = Vec::new();
        if config.versions.of10 {
            versions.push(OFP10);
        }
        if config.versions.of13 {
            versions.push(OFP13);
        }
        let pipeline = crate::datapath_ops::new_pipeline(&config);
        Agent {
            versions,
            conns: Vec::new(),
            ports: BTreeMap::new(),
            pipeline,
            switch_config: SwitchConfig {
                flags: 0,
                miss_send_len: 128,
            },
            generation_id: None,
            stats: AgentStats::default(),
            encode_buf: Vec::with_capacity(1024),
            scratch: Default::default(),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The agent's counters.
    pub fn stats(&self) -> AgentStats {
        self.stats
    }

    /// The pipeline (flow tables, groups, meters).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// A new connection is up: our hello is queued.
    pub fn open(&mut self, origin: Origin, now: Duration) -> ConnId {
        let id = self
            .conns
            .iter()
            .position(Option::is_none)
            .unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
        let mut conn = Conn::new(origin, now);
        let max = self.versions.iter().copied().max().unwrap_or(OFP13);
        let hello = if self.versions.contains(&OFP13) {
            Hello::with_versions(&self.versions)
        } else {
            Hello::default()
        };
        let mut buf = Vec::new();
        if flowlab_openflow::encode(max, 0, &Message::Hello(hello), &mut buf).is_ok() {
            conn.output.extend_from_slice(&buf);
            self.stats.messages_out += 1;
        }
        self.conns[id] = Some(conn);
        id
    }

    /// The connection is gone (closed by either side).
    pub fn close(&mut self, id: ConnId, _now: Duration) {
        if let Some(slot) = self.conns.get_mut(id) {
            *slot = None;
        }
    }

    /// Bytes waiting to be written to `id`.
    pub fn pending(&self, id: ConnId) -> &[u8] {
        self.conn(id).map_or(&[], Conn::pending)
    }

    /// `n` bytes of [`Agent::pending`] were written.
    pub fn consume(&mut self, id: ConnId, n: usize) {
        if let Some(c) = self.conn_mut(id) {
            c.consume(n);
        }
    }

    /// Why the agent wants `id` closed, once its pending bytes are written.
    pub fn close_requested(&self, id: ConnId) -> Option<&str> {
        self.conn(id).and_then(|c| c.close.as_deref())
    }

    /// The negotiated version of `id` (None before the peer's hello).
    pub fn version(&self, id: ConnId) -> Option<u8> {
        self.conn(id).and_then(|c| c.version)
    }

    /// The role of `id`.
    pub fn role(&self, id: ConnId) -> Option<Role> {
        self.conn(id).map(|c| c.role)
    }

    /// Whether an active controller connection has completed its hello.
    pub fn controller_connected(&self) -> bool {
        self.conns.iter().flatten().any(|c| {
            matches!(c.origin, Origin::Controller(_)) && c.version.is_some() && c.close.is_none()
        })
    }

    fn conn(&self, id: ConnId) -> Option<&Conn> {
        self.conns.get(id).and_then(Option::as_ref)
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.conns.get_mut(id).and_then(Option::as_mut)
    }

    /// Bytes read from connection `id`: every complete message is handled in order.
    pub fn receive(
        &mut self,
        id: ConnId,
        bytes: &[u8],
        now: Duration,
        counters: &dyn PortCounterSource,
        out: &mut FrameOutputs,
    ) {
        let Some(c) = self.conn_mut(id) else { return };
        if c.close.is_some() {
            return;
        }
        c.last_rx = now;
        c.echo_sent = None;
        c.input.extend_from_slice(bytes);
        let mut input = std::mem::take(&mut c.input);
        let mut at = 0;
        while input.len() - at >= 8 {
            let len = usize::from(u16::from_be_bytes([input[at + 2], input[at + 3]]));
            if len < 8 {
                let v = input[at];
                self.fail_stream(id, v, &input[at..at + 8], "a message length under 8 bytes");
                input.clear();
                at = 0;
                break;
            }
            if input.len() - at < len {
                break;
            }
            let msg = input[at..at + len].to_vec();
            at += len;
            self.handle_message(id, &msg, now, counters, out);
            if self.conn(id).is_none_or(|c| c.close.is_some()) {
                break;
            }
        }
        input.drain(..at.min(input.len()));
        if let Some(c) = self.conn_mut(id) {
            if c.input.is_empty() {
                c.input = input;
            } else {
                // Unreachable in practice (receive is not re-entered), kept lossless.
                input.extend_from_slice(&c.input);
                c.input = input;
            }
            if c.input.len() > MAX_MESSAGE {
                c.input.clear();
            }
        }
    }

    fn fail_stream(&mut self, id: ConnId, version: u8, data: &[u8], why: &str) {
        let v = self.reply_version(id, version);
        self.send_error(
            id,
            v,
            0,
            ErrorCode::BadRequest(BadRequestCode::BadLen),
            data,
        );
        if let Some(c) = self.conn_mut(id) {
            c.close = Some(format!("closing a connection that sent {why}"));
        }
    }

    /// The version to answer in: the negotiated one, else the message's own when we
    /// speak it, else our lowest.
    fn reply_version(&self, id: ConnId, msg_version: u8) -> u8 {
        self.conn(id).and_then(|c| c.version).unwrap_or_else(|| {
            if self.versions.contains(&msg_version) {
                msg_version
            } else {
                self.versions.first().copied().unwrap_or(OFP13)
            }
        })
    }

    fn handle_message(
        &mut self,
        id: ConnId,
        msg: &[u8],
        now: Duration,
        counters: &dyn PortCounterSource,
        out: &mut FrameOutputs,
    ) {
        self.stats.messages_in += 1;
        let version = msg[0];
        let msg_type = msg[1];
        let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
        let Some(negotiated) = self.conn(id).and_then(|c| c.version) else {
            if msg_type != 0 {
                // Anything before the hello: answer as the spec asks and give up.
                let v = self.reply_version(id, version);
                self.send_error(
                    id,
                    v,
                    xid,
                    ErrorCode::HelloFailed(HelloFailedCode::Incompatible),
                    &msg[..msg.len().min(64)],
                );
                if let Some(c) = self.conn_mut(id) {
                    c.close = Some("the peer sent a message before its HELLO".into());
                }
                return;
            }
            let peer = parse_hello(msg);
            match negotiate(&self.versions, &peer) {
                Some(v) => {
                    if let Some(c) = self.conn_mut(id) {
                        c.version = Some(v);
                    }
                }
                None => {
                    let offered = peer
                        .bitmap
                        .clone()
                        .unwrap_or_else(|| vec![peer.header_version]);
                    let text = format!(
                        "no shared OpenFlow version: this switch speaks {} (--protocols), the peer offers {}; \
                         start the switch with --protocols including one of the peer's versions, \
                         or configure the controller for OpenFlow {}",
                        version_names(&self.versions),
                        version_names(&offered),
                        version_names(&self.versions),
                    );
                    let v = self.versions.first().copied().unwrap_or(OFP13);
                    self.send_error(
                        id,
                        v,
                        xid,
                        ErrorCode::HelloFailed(HelloFailedCode::Incompatible),
                        text.as_bytes(),
                    );
                    if let Some(c) = self.conn_mut(id) {
                        c.close = Some(text);
                    }
                }
            }
            return;
        };
        if version != negotiated {
            self.send_error(
                id,
                negotiated,
                xid,
                ErrorCode::BadRequest(BadRequestCode::BadVersion),
                &msg[..msg.len().min(64)],
            );
            return;
        }
        let message = match flowlab_openflow::decode(msg) {
            Ok((_, m)) => m,
            Err(e) => {
                let code = e.error_code();
                self.send_error(id, negotiated, xid, code, &msg[..msg.len().min(64)]);
                return;
            }
        };
        let is_slave = self.conn(id).is_some_and(|c| c.role == Role::Slave);
        let modifies = matches!(
            message,
            Message::FlowMod(_)
                | Message::GroupMod(_)
                | Message::MeterMod(_)
                | Message::PortMod(_)
                | Message::TableMod(_)
                | Message::PacketOut(_)
        );
        if is_slave && modifies {
            self.send_error(
                id,
                negotiated,
                xid,
                ErrorCode::BadRequest(BadRequestCode::IsSlave),
                &msg[..msg.len().min(64)],
            );
            return;
        }
        let ctx = Request {
            id,
            version: negotiated,
            xid,
            raw: msg,
            now,
        };
        self.dispatch(&ctx, message, counters, out);
    }

    fn dispatch(
        &mut self,
        r: &Request<'_>,
        message: Message,
        counters: &dyn PortCounterSource,
        out: &mut FrameOutputs,
    ) {
        match message {
            Message::Hello(_) => {}
            Message::EchoRequest(data) => self.reply(r, &Message::EchoReply(data)),
            Message::EchoReply(_) => {}
            Message::Error(_) => {}
            Message::Experimenter(_) => {
                // 1.0 calls it BAD_VENDOR: the same meaning, mapped per version.
                self.error(r, ErrorCode::BadRequest(BadRequestCode::BadExperimenter));
            }
            Message::FeaturesRequest => {
                let reply = self.features(r.version);
                self.reply(r, &Message::FeaturesReply(reply));
            }
            Message::GetConfigRequest => {
                let c = self.switch_config;
                self.reply(r, &Message::GetConfigReply(c));
            }
            Message::SetConfig(c) => {
                self.switch_config = c;
                self.pipeline.set_miss_send_len(c.miss_send_len);
                // OFPC_INVALID_TTL_TO_CONTROLLER (1.3 only).
                self.pipeline
                    .set_invalid_ttl_to_controller(r.version != OFP10 && c.flags & 4 != 0);
            }
            Message::BarrierRequest => self.reply(r, &Message::BarrierReply),
            Message::FlowMod(m) => self.handle_flow_mod(r, m),
            Message::GroupMod(m) => self.handle_group_mod(r, m),
            Message::MeterMod(m) => self.handle_meter_mod(r, m),
            Message::PacketOut(p) => self.handle_packet_out(r, p, out),
            Message::PortMod(m) => self.handle_port_mod(r, m),
            Message::TableMod(t) => {
                if t.table_id != TABLE_ALL && t.table_id >= self.n_tables(r.version) {
                    self.error(r, ErrorCode::TableModFailed(TableModFailedCode::BadTable));
                }
            }
            Message::MultipartRequest(req) => self.handle_multipart(r, req, counters),
            Message::QueueGetConfigRequest(port) => {
                if port != PortNo::ANY && !self.ports.contains_key(&port.0) {
                    self.error(r, ErrorCode::QueueOpFailed(QueueOpFailedCode::BadPort));
                } else {
                    self.reply(
                        r,
                        &Message::QueueGetConfigReply(QueueGetConfigReply {
                            port,
                            queues: Vec::new(),
                        }),
                    );
                }
            }
            Message::RoleRequest(role) => self.handle_role(r, role),
            Message::GetAsyncRequest => {
                let cfg = self
                    .conn(r.id)
                    .map_or_else(crate::conn::default_async, |c| c.async_config);
                self.reply(r, &Message::GetAsyncReply(cfg));
            }
            Message::SetAsync(cfg) => {
                if let Some(c) = self.conn_mut(r.id) {
                    c.async_config = cfg;
                }
            }
            // Messages only a switch sends.
            Message::FeaturesReply(_)
            | Message::GetConfigReply(_)
            | Message::PacketIn(_)
            | Message::FlowRemoved(_)
            | Message::PortStatus(_)
            | Message::MultipartReply(_)
            | Message::BarrierReply
            | Message::QueueGetConfigReply(_)
            | Message::RoleReply(_)
            | Message::GetAsyncReply(_) => {
                self.error(r, ErrorCode::BadRequest(BadRequestCode::BadType));
            }
        }
    }

    pub(crate) fn n_tables(&self, version: u8) -> u8 {
        if version == OFP10 {
            1
        } else {
            self.config.n_tables
        }
    }

    fn features(&self, version: u8) -> SwitchFeatures {
        let (capabilities, actions) = if version == OFP10 {
            // FLOW_STATS | TABLE_STATS | PORT_STATS | QUEUE_STATS; every 1.0 action but
            // enqueue (bits 0..=10 and 11 are OUTPUT .. SET_TP_DST, ENQUEUE).
            (0x1 | 0x2 | 0x4 | 0x40, 0x7ff)
        } else {
            // FLOW_STATS | TABLE_STATS | PORT_STATS | GROUP_STATS | QUEUE_STATS.
            (0x1 | 0x2 | 0x4 | 0x8 | 0x40, 0)
        };
        SwitchFeatures {
            datapath_id: self.config.datapath_id,
            n_buffers: 0,
            n_tables: self.n_tables(version),
            auxiliary_id: 0,
            capabilities,
            actions,
            ports: if version == OFP10 {
                self.port_descs()
            } else {
                Vec::new()
            },
        }
    }

    pub(crate) fn port_descs(&self) -> Vec<Port> {
        self.ports
            .iter()
            .map(|(&n, p)| self.port_desc(n, p))
            .collect()
    }

    pub(crate) fn port_desc(&self, n: u32, p: &PortEntry) -> Port {
        let feat = features::RATE_10GB_FD | features::COPPER;
        Port {
            port_no: PortNo(n),
            hw_addr: p.hw_addr,
            name: p.name.clone(),
            config: p.config,
            state: p.state,
            curr: feat,
            advertised: 0,
            supported: feat,
            peer: 0,
            curr_speed: 10_000_000,
            max_speed: 10_000_000,
        }
    }

    fn handle_port_mod(&mut self, r: &Request<'_>, m: PortMod) {
        let Some(p) = self.ports.get_mut(&m.port_no.0) else {
            self.error(r, ErrorCode::PortModFailed(PortModFailedCode::BadPort));
            return;
        };
        if p.hw_addr != m.hw_addr {
            self.error(r, ErrorCode::PortModFailed(PortModFailedCode::BadHwAddr));
            return;
        }
        let changeable = port_config::PORT_DOWN
            | port_config::NO_RECV
            | port_config::NO_FWD
            | port_config::NO_PACKET_IN
            | port_config::NO_FLOOD
            | port_config::NO_STP
            | port_config::NO_RECV_STP;
        if m.mask & !changeable != 0 {
            self.error(r, ErrorCode::PortModFailed(PortModFailedCode::BadConfig));
            return;
        }
        let before = p.config;
        p.config = (p.config & !m.mask) | (m.config & m.mask);
        if p.config != before {
            let live =
                p.config & port_config::PORT_DOWN == 0 && p.state & port_state::LINK_DOWN == 0;
            let n = m.port_no.0;
            self.set_port_live(n, live);
            self.port_status(n, 2);
        }
    }

    fn handle_role(&mut self, r: &Request<'_>, m: RoleMsg) {
        let role = match m.role {
            0 => None,
            1 => Some(Role::Equal),
            2 => Some(Role::Master),
            3 => Some(Role::Slave),
            _ => {
                self.error(
                    r,
                    ErrorCode::RoleRequestFailed(RoleRequestFailedCode::BadRole),
                );
                return;
            }
        };
        if matches!(role, Some(Role::Master | Role::Slave)) {
            if let Some(g) = self.generation_id {
                // Stale if (generation_id - cached) as a signed difference is negative.
                if (m.generation_id.wrapping_sub(g) as i64) < 0 {
                    self.error(
                        r,
                        ErrorCode::RoleRequestFailed(RoleRequestFailedCode::Stale),
                    );
                    return;
                }
            }
            self.generation_id = Some(m.generation_id);
        }
        if let Some(role) = role {
            if role == Role::Master {
                for (i, c) in self.conns.iter_mut().enumerate() {
                    if let Some(c) = c {
                        if i != r.id && c.role == Role::Master {
                            c.role = Role::Slave;
                        }
                    }
                }
            }
            if let Some(c) = self.conn_mut(r.id) {
                c.role = role;
            }
        }
        let current = self.conn(r.id).map_or(Role::Equal, |c| c.role);
        self.reply(
            r,
            &Message::RoleReply(RoleMsg {
                role: current.to_wire(),
                generation_id: self.generation_id.unwrap_or(0),
            }),
        );
    }

    fn handle_multipart(
        &mut self,
        r: &Request<'_>,
        req: MultipartRequest,
        counters: &dyn PortCounterSource,
    ) {
        let body = match req.body {
            MultipartRequestBody::Desc => MultipartReplyBody::Desc(DescStats {
                mfr_desc: "flowlab".into(),
                hw_desc: "flowlab-hub userspace datapath".into(),
                sw_desc: format!("flowlab {}", env!("CARGO_PKG_VERSION")),
                serial_num: "None".into(),
                dp_desc: self.config.description.clone(),
            }),
            MultipartRequestBody::PortStats(port) => {
                if port != PortNo::ANY && !self.ports.contains_key(&port.0) {
                    self.error(r, ErrorCode::BadRequest(BadRequestCode::BadPort));
                    return;
                }
                let list = self
                    .ports
                    .iter()
                    .filter(|(&n, _)| port == PortNo::ANY || port.0 == n)
                    .map(|(&n, p)| {
                        let c = counters.port_counters(n).unwrap_or_default();
                        let d = r.now.saturating_sub(p.added);
                        PortStats {
                            port_no: PortNo(n),
                            rx_packets: c.rx_packets,
                            tx_packets: c.tx_packets,
                            rx_bytes: c.rx_bytes,
                            tx_bytes: c.tx_bytes,
                            rx_dropped: c.rx_drops,
                            tx_dropped: c.tx_drops,
                            rx_errors: c.rx_errors,
                            tx_errors: c.tx_errors,
                            duration_sec: d.as_secs() as u32,
                            duration_nsec: d.subsec_nanos(),
                            ..PortStats::default()
                        }
                    })
                    .collect();
                MultipartReplyBody::PortStats(list)
            }
            MultipartRequestBody::PortDesc => MultipartReplyBody::PortDesc(self.port_descs()),
            MultipartRequestBody::Queue { port_no, .. } => {
                if port_no != PortNo::ANY && !self.ports.contains_key(&port_no.0) {
                    self.error(r, ErrorCode::QueueOpFailed(QueueOpFailedCode::BadPort));
                    return;
                }
                MultipartReplyBody::Queue(Vec::new())
            }
            MultipartRequestBody::Experimenter { .. } => {
                // 1.0 calls it BAD_VENDOR: the same meaning, mapped per version.
                self.error(r, ErrorCode::BadRequest(BadRequestCode::BadExperimenter));
                return;
            }
            other => match self.pipeline_multipart(r, other) {
                Some(bodies) => {
                    self.reply_multipart(r, bodies);
                    return;
                }
                None => return,
            },
        };
        self.reply_multipart(r, vec![body]);
    }

    /// Sends reply bodies, each in its own message, flagged `MORE` but the last.
    pub(crate) fn reply_multipart(&mut self, r: &Request<'_>, bodies: Vec<MultipartReplyBody>) {
        let n = bodies.len();
        for (i, body) in bodies.into_iter().enumerate() {
            let flags = if i + 1 < n {
                flowlab_openflow::model::multipart::MORE
            } else {
                0
            };
            self.reply(r, &Message::MultipartReply(MultipartReply { flags, body }));
        }
    }

    // ----- ports ------------------------------------------------------------------------

    /// A port appeared: controllers get `port_status` ADD.
    pub fn add_port(&mut self, n: u32, name: &str, now: Duration) {
        let id = self.config.datapath_id.to_be_bytes();
        let hw_addr = [
            0x02 | (id[3] & 0xfc),
            id[4] ^ id[2],
            id[5] ^ id[1],
            id[6],
            (n >> 8) as u8 ^ id[7],
            n as u8,
        ];
        self.ports.insert(
            n,
            PortEntry {
                name: name.chars().take(15).collect(),
                hw_addr,
                config: 0,
                state: port_state::LIVE,
                added: now,
            },
        );
        self.set_port_live(n, true);
        self.port_status(n, 0);
    }

    /// A port went away: controllers get `port_status` DELETE.
    pub fn remove_port(&mut self, n: u32, _now: Duration) {
        if self.ports.contains_key(&n) {
            self.port_status(n, 1);
            self.ports.remove(&n);
            self.set_port_live(n, false);
        }
    }

    /// The port's link went up or down (`port_status` MODIFY).
    pub fn set_link(&mut self, n: u32, up: bool) {
        let Some(p) = self.ports.get_mut(&n) else {
            return;
        };
        let before = p.state;
        if up {
            p.state = (p.state & !port_state::LINK_DOWN) | port_state::LIVE;
        } else {
            p.state = (p.state | port_state::LINK_DOWN) & !port_state::LIVE;
        }
        if p.state != before {
            let live = up && p.config & port_config::PORT_DOWN == 0;
            self.set_port_live(n, live);
            self.port_status(n, 2);
        }
    }

    /// The port numbers, in order.
    pub fn port_numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.ports.keys().copied()
    }

    fn port_status(&mut self, n: u32, reason: u8) {
        let Some(p) = self.ports.get(&n) else { return };
        let desc = self.port_desc(n, p);
        let msg = Message::PortStatus(PortStatus { reason, desc });
        self.broadcast(AsyncKind::PortStatus, reason, &msg);
    }

    // ----- sending ----------------------------------------------------------------------

    /// Sends `msg` to every connection whose role and async masks take it.
    pub(crate) fn broadcast(&mut self, kind: AsyncKind, reason: u8, msg: &Message) -> usize {
        let mut sent = 0;
        for id in 0..self.conns.len() {
            let Some(c) = self.conns[id].as_mut() else {
                continue;
            };
            let Some(v) = c.version else { continue };
            let ok = if v == OFP10 {
                // 1.0 has no roles or async config: everything goes to every controller.
                c.close.is_none()
            } else {
                c.wants_async(kind, reason)
            };
            if !ok {
                continue;
            }
            let xid = c.xid();
            if self.send(id, v, xid, msg) {
                sent += 1;
            }
        }
        sent
    }

    /// Sends `msg` to 1.0 connections only (table misses).
    pub(crate) fn broadcast_v10(&mut self, msg: &Message) -> usize {
        let mut sent = 0;
        for id in 0..self.conns.len() {
            let Some(c) = self.conns[id].as_mut() else {
                continue;
            };
            if c.version != Some(OFP10) || c.close.is_some() {
                continue;
            }
            let xid = c.xid();
            if self.send(id, OFP10, xid, msg) {
                sent += 1;
            }
        }
        sent
    }

    /// Answers `r`; a reply with no form in the connection's version (a flow only 1.3
    /// can express, asked for over 1.0) becomes an `EPERM` error rather than silence.
    pub(crate) fn reply(&mut self, r: &Request<'_>, msg: &Message) {
        if !self.send(r.id, r.version, r.xid, msg) {
            self.error(r, ErrorCode::BadRequest(BadRequestCode::Eperm));
        }
    }

    pub(crate) fn error(&mut self, r: &Request<'_>, code: ErrorCode) {
        let data = &r.raw[..r.raw.len().min(64)];
        self.send_error(r.id, r.version, r.xid, code, data);
    }

    fn send_error(&mut self, id: ConnId, version: u8, xid: u32, code: ErrorCode, data: &[u8]) {
        self.stats.errors_sent += 1;
        let msg = Message::Error(ErrorMsg {
            code,
            data: data.to_vec(),
        });
        self.send(id, version, xid, &msg);
    }

    /// Encodes and queues one message; false if it has no form in `version` (an error
    /// is sent instead) or the peer stopped reading (the connection is closed).
    pub(crate) fn send(&mut self, id: ConnId, version: u8, xid: u32, msg: &Message) -> bool {
        let mut buf = std::mem::take(&mut self.encode_buf);
        buf.clear();
        let ok = flowlab_openflow::encode(version, xid, msg, &mut buf).is_ok();
        if let Some(c) = self.conns.get_mut(id).and_then(Option::as_mut) {
            if ok {
                if c.pending().len() + buf.len() > MAX_PENDING_OUTPUT {
                    c.close = Some("the peer stopped reading; connection dropped".into());
                } else {
                    c.output.extend_from_slice(&buf);
                    self.stats.messages_out += 1;
                }
            }
        }
        self.encode_buf = buf;
        ok
    }

    // ----- time -------------------------------------------------------------------------

    /// Periodic work: echo probes, dead connections, flow expiry (flow_removed).
    pub fn tick(&mut self, now: Duration, out: &mut FrameOutputs) {
        let probe = self.config.probe_interval;
        for id in 0..self.conns.len() {
            let Some(c) = self.conns[id].as_mut() else {
                continue;
            };
            let idle = now.saturating_sub(c.last_rx);
            if c.close.is_some() {
                continue;
            }
            if c.version.is_none() {
                if idle >= probe * 2 {
                    c.close = Some("no HELLO from the peer; connection closed".into());
                }
                continue;
            }
            match c.echo_sent {
                None if idle >= probe => {
                    c.echo_sent = Some(now);
                    let xid = c.xid();
                    let v = c.version.unwrap_or(OFP13);
                    self.send(id, v, xid, &Message::EchoRequest(Vec::new()));
                }
                Some(t) if now.saturating_sub(t) >= probe => {
                    c.close = Some(format!(
                        "no answer to an echo request in {} s: connection considered dead",
                        probe.as_secs()
                    ));
                }
                _ => {}
            }
        }
        self.expire_flows(now, out);
    }

    /// The set of asynchronous-message masks of `id` (for `ctl show`).
    pub fn async_config(&self, id: ConnId) -> Option<AsyncConfig> {
        self.conn(id).map(|c| c.async_config)
    }
}

/// The message being handled.
pub(crate) struct Request<'a> {
    pub(crate) id: ConnId,
    pub(crate) version: u8,
    pub(crate) xid: u32,
    pub(crate) raw: &'a [u8],
    pub(crate) now: Duration,
}
