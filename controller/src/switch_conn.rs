//! One switch connection: negotiation, the handshake, liveness, transaction ids, and the
//! switch's entry in the view. Sans-IO: it is handed whole messages (the caller frames
//! the stream with the codec's [`Framer`](flowlab_openflow::Framer)) and the time, and
//! queues bytes to write.
//!
//! # The handshake never waits
//!
//! A controller needs little from a switch before it can serve it: the datapath id and
//! the version. Everything else (the port list, the description, asynchronous-message
//! masks, a table-miss entry) is useful, but some switches never answer for some of it:
//! cbench's emulated switches speak OpenFlow 1.0 only and answer no description request;
//! a 1.3 switch may reject `SET_ASYNC` or leave `PORT_DESC` unanswered. A controller that
//! waits for those replies hangs on exactly the switches a benchmark uses.
//!
//! So the handshake is pipelined and has one gate. The moment the peer's `HELLO` fixes the
//! version, everything is sent at once: `FEATURES_REQUEST`, `SET_CONFIG` (so misses carry
//! the whole frame: `miss_send_len` 0xffff by default), for 1.3 a `PORT_DESC` request,
//! `SET_ASYNC` (every packet-in, port-status and flow-removed reason) and a table-miss
//! entry sending misses to the controller (1.3 drops a miss without one), and a
//! description request. The switch is *joined* the moment its `FEATURES_REPLY` arrives;
//! replies to the rest update the view whenever they come, or never, and an error
//! answering one of them is recorded and otherwise ignored.
//!
//! # Transaction ids say who asked
//!
//! Every message the controller sends gets a fresh xid whose top byte names the sender:
//! 0 for this connection's own requests (handshake, echo), `n` for the `n`-th app. A
//! switch answers with the request's xid, so a reply or an error goes back to whoever
//! sent the request without a table of every xid sent: flow mods, which are most of what
//! goes out and are never answered unless they fail, cost no bookkeeping. Requests that
//! expect a reply (statistics, barriers) are also remembered until their last reply
//! arrives ([`SwitchConn::outstanding`]), which is what a barrier-aware app checks.
//!
//! # Liveness
//!
//! Any bytes from the switch count as life. After `echo_interval` of silence an
//! `ECHO_REQUEST` goes out; after as long again with nothing received, the connection is
//! declared dead and a close is requested. A peer that sends no `HELLO` within twice the
//! interval is dropped too.

use std::collections::HashMap;
use std::time::Duration;

use flowlab_openflow::model::error_code::{ErrorCode, HelloFailedCode};
use flowlab_openflow::model::multipart::{
    MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
use flowlab_openflow::model::{
    Action, AsyncConfig, ErrorMsg, FlowMod, Hello, Instruction, Match, Message, Port, PortNo,
    SwitchConfig, SwitchFeatures,
};
use flowlab_openflow::{EncodeError, Header};

use crate::packet_in::PacketInView;
use crate::view::{DatapathId, SwitchView};

/// OpenFlow 1.0's wire version.
pub const OFP10: u8 = 0x01;
/// OpenFlow 1.3's wire version.
pub const OFP13: u8 = 0x04;

/// Output kept for a switch that stops reading before the connection is dropped.
pub const MAX_PENDING_OUTPUT: usize = 64 << 20;

/// The xid owner of the connection's own requests.
pub const CORE_OWNER: u8 = 0;

/// How connections behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnConfig {
    /// Wire versions offered, ascending (0x01, 0x04).
    pub versions: Vec<u8>,
    /// `miss_send_len` of the `SET_CONFIG` sent in the handshake.
    pub miss_send_len: u16,
    /// Silence before an echo request; as long again without an answer and the
    /// connection is dropped. Zero disables keepalive.
    pub echo_interval: Duration,
    /// For 1.3 switches, install a table-miss entry (priority 0, all wildcards, output to
    /// the controller) so misses reach the controller as they do in 1.0.
    pub table_miss: bool,
    /// For 1.3 switches, send `SET_ASYNC` asking for every asynchronous-message reason.
    pub set_async: bool,
    /// Ask for the switch's description (`OFPMP_DESC`).
    pub request_desc: bool,
}

impl Default for ConnConfig {
    fn default() -> Self {
        ConnConfig {
            versions: vec![OFP10, OFP13],
            miss_send_len: 0xffff,
            echo_interval: Duration::from_secs(5),
            table_miss: true,
            set_async: true,
            request_desc: true,
        }
    }
}

/// Why a message could not be sent to a switch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No joined switch has this datapath id.
    #[error("no switch {0}")]
    UnknownSwitch(DatapathId),
    /// The connection has no version yet (the peer's hello has not arrived).
    #[error("no version negotiated yet")]
    NotNegotiated,
    /// The connection is closing.
    #[error("connection closing")]
    Closing,
    /// The message has no form in the switch's version.
    #[error("{0}")]
    Encode(#[from] EncodeError),
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Our hello is sent; the peer's has not arrived.
    Hello,
    /// The version is fixed and the handshake sent; no `FEATURES_REPLY` yet.
    Features,
    /// The switch is joined.
    Joined,
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Packet-ins received.
    pub packet_ins: u64,
    /// Errors received.
    pub errors_in: u64,
    /// Messages dropped: malformed, of the wrong version, or arriving before the join.
    pub dropped: u64,
}

/// What a received message means to the caller.
#[derive(Debug)]
pub enum Incoming<'f> {
    /// Nothing: the connection handled it (hello, echo, a reply to its own request) or
    /// dropped it.
    Nothing,
    /// The switch joined (its `FEATURES_REPLY`; see [`SwitchConn::view`]).
    Joined,
    /// Ports first learned from a `PORT_DESC` reply (already in the view).
    PortsLearned(Vec<Port>),
    /// A packet-in, read in place.
    PacketIn(PacketInView<'f>),
    /// Any other message from a joined switch, for the apps: port status, flow removed,
    /// replies to apps' requests, errors.
    Message {
        /// The message's xid (for replies: the request's, whose top byte is its owner).
        xid: u32,
        /// The message.
        msg: Message,
    },
}

/// The protocol state of one switch connection.
#[derive(Debug)]
pub struct SwitchConn {
    config: ConnConfig,
    phase: Phase,
    version: Option<u8>,
    output: Vec<u8>,
    close: Option<String>,
    last_rx: Duration,
    echo_sent: Option<Duration>,
    next_seq: u32,
    outstanding: HashMap<u32, Duration>,
    view: Option<SwitchView>,
    handshake_errors: u32,
    stats: ConnStats,
}

/// The xid for sequence number `seq` of `owner`.
pub fn make_xid(owner: u8, seq: u32) -> u32 {
    (u32::from(owner) << 24) | (seq & 0x00ff_ffff)
}

/// The owner of `xid` (see the module documentation).
pub fn xid_owner(xid: u32) -> u8 {
    (xid >> 24) as u8
}

/// The version to use with a peer: the highest both bitmaps share when the peer sent a
/// bitmap, else the lower of the two header versions if we speak it.
pub fn negotiate(ours: &[u8], peer_header: u8, peer_bitmap: Option<&[u8]>) -> Option<u8> {
    match peer_bitmap {
        Some(b) => ours.iter().copied().filter(|v| b.contains(v)).max(),
        None => {
            let v = peer_header.min(ours.iter().copied().max()?);
            ours.contains(&v).then_some(v)
        }
    }
}

impl SwitchConn {
    /// A new connection; our hello is queued.
    pub fn new(config: ConnConfig, now: Duration) -> SwitchConn {
        let mut c = SwitchConn {
            config,
            phase: Phase::Hello,
            version: None,
            output: Vec::with_capacity(4096),
            close: None,
            last_rx: now,
            echo_sent: None,
            next_seq: 1,
            outstanding: HashMap::new(),
            view: None,
            handshake_errors: 0,
            stats: ConnStats::default(),
        };
        let max = c.config.versions.iter().copied().max().unwrap_or(OFP13);
        let hello = if max >= OFP13 {
            Hello::with_versions(&c.config.versions)
        } else {
            Hello::default()
        };
        let xid = c.xid(CORE_OWNER);
        c.encode(max, xid, &Message::Hello(hello));
        c
    }

    /// Where the handshake is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The negotiated version.
    pub fn version(&self) -> Option<u8> {
        self.version
    }

    /// The switch, once joined.
    pub fn view(&self) -> Option<&SwitchView> {
        self.view.as_ref()
    }

    /// The datapath id, once joined.
    pub fn dpid(&self) -> Option<DatapathId> {
        self.view.as_ref().map(|v| v.dpid)
    }

    /// The counters.
    pub fn stats(&self) -> ConnStats {
        self.stats
    }

    /// Errors the switch sent in answer to the handshake's optional requests.
    pub fn handshake_errors(&self) -> u32 {
        self.handshake_errors
    }

    /// Why the connection should be closed (once its output is written), if it should.
    pub fn close_requested(&self) -> Option<&str> {
        self.close.as_deref()
    }

    /// Asks for the connection to be closed.
    pub fn request_close(&mut self, why: impl Into<String>) {
        if self.close.is_none() {
            self.close = Some(why.into());
        }
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> &[u8] {
        &self.output
    }

    /// `n` bytes of [`SwitchConn::pending`] were written.
    pub fn consume(&mut self, n: usize) {
        self.output.drain(..n.min(self.output.len()));
    }

    /// Moves the pending bytes into `buf` (which is cleared first) without copying: the
    /// two buffers trade places, so a driver that keeps one buffer per connection and
    /// swaps it in and out allocates nothing in the steady state.
    pub fn take_pending(&mut self, buf: &mut Vec<u8>) {
        buf.clear();
        std::mem::swap(&mut self.output, buf);
    }

    /// Requests that are still waiting for (the last part of) their reply.
    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// Whether the request `xid` is still waiting for its reply.
    pub fn is_outstanding(&self, xid: u32) -> bool {
        self.outstanding.contains_key(&xid)
    }

    /// A fresh xid for `owner`.
    pub fn xid(&mut self, owner: u8) -> u32 {
        let seq = self.next_seq;
        self.next_seq = (self.next_seq + 1) & 0x00ff_ffff;
        if self.next_seq == 0 {
            self.next_seq = 1;
        }
        make_xid(owner, seq)
    }

    /// Sends `msg` with a fresh xid of `owner`; returns the xid.
    pub fn send(&mut self, owner: u8, msg: &Message) -> Result<u32, SendError> {
        let version = self.writable()?;
        let xid = self.xid(owner);
        let start = self.output.len();
        flowlab_openflow::encode(version, xid, msg, &mut self.output)?;
        self.sent(start);
        Ok(xid)
    }

    /// Sends a request whose reply is awaited: as [`SwitchConn::send`], and the xid is
    /// remembered until the reply's last part (or an error) arrives.
    pub fn request(&mut self, owner: u8, msg: &Message, now: Duration) -> Result<u32, SendError> {
        let xid = self.send(owner, msg)?;
        self.outstanding.insert(xid, now);
        Ok(xid)
    }

    /// Sends `msg` with the given xid (replies).
    pub fn send_with_xid(&mut self, xid: u32, msg: &Message) -> Result<(), SendError> {
        let version = self.writable()?;
        let start = self.output.len();
        flowlab_openflow::encode(version, xid, msg, &mut self.output)?;
        self.sent(start);
        Ok(())
    }

    /// Appends to the output whatever `write` writes (one or more whole messages in the
    /// connection's version, which `write` is given with a fresh xid of `owner`). For
    /// hot paths that encode without building a [`Message`].
    pub fn send_raw(
        &mut self,
        owner: u8,
        write: impl FnOnce(u8, u32, &mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<u32, SendError> {
        let version = self.writable()?;
        let xid = self.xid(owner);
        let start = self.output.len();
        if let Err(e) = write(version, xid, &mut self.output) {
            self.output.truncate(start);
            return Err(e.into());
        }
        self.sent(start);
        Ok(xid)
    }

    fn writable(&self) -> Result<u8, SendError> {
        if self.close.is_some() {
            return Err(SendError::Closing);
        }
        self.version.ok_or(SendError::NotNegotiated)
    }

    fn sent(&mut self, start: usize) {
        if self.output.len() > start {
            self.stats.messages_out += 1;
        }
        if self.output.len() > MAX_PENDING_OUTPUT {
            self.request_close("the switch stopped reading; connection dropped");
        }
    }

    /// Encodes in `version` regardless of the negotiated one (hello, hello errors).
    fn encode(&mut self, version: u8, xid: u32, msg: &Message) {
        let start = self.output.len();
        if flowlab_openflow::encode(version, xid, msg, &mut self.output).is_ok() {
            self.sent(start);
        }
    }

    /// Bytes arrived (any bytes count as life).
    pub fn note_rx(&mut self, now: Duration) {
        self.last_rx = now;
        self.echo_sent = None;
    }

    /// Handles one whole message.
    pub fn handle_message<'f>(&mut self, msg: &'f [u8]) -> Incoming<'f> {
        self.stats.messages_in += 1;
        if self.close.is_some() {
            return Incoming::Nothing;
        }
        let Ok(header) = Header::parse(msg) else {
            self.stats.dropped += 1;
            return Incoming::Nothing;
        };
        let Some(version) = self.version else {
            self.on_hello(header, msg);
            return Incoming::Nothing;
        };
        if header.version != version {
            self.stats.dropped += 1;
            return Incoming::Nothing;
        }
        // The hot path: packet-ins are read in place, never decoded.
        if header.msg_type == flowlab_openflow::v13::msg_type::PACKET_IN {
            if self.phase != Phase::Joined {
                self.stats.dropped += 1;
                return Incoming::Nothing;
            }
            return match PacketInView::parse(msg) {
                Ok(p) => {
                    self.stats.packet_ins += 1;
                    Incoming::PacketIn(p)
                }
                Err(_) => {
                    self.stats.dropped += 1;
                    Incoming::Nothing
                }
            };
        }
        let Ok((_, message)) = flowlab_openflow::decode(msg) else {
            self.stats.dropped += 1;
            return Incoming::Nothing;
        };
        self.on_message(header.xid, message)
    }

    fn on_hello(&mut self, header: Header, msg: &[u8]) {
        let hello = match flowlab_openflow::decode(msg) {
            Ok((_, Message::Hello(h))) => h,
            _ => {
                self.request_close(format!(
                    "the switch sent message type {} before its HELLO",
                    header.msg_type
                ));
                return;
            }
        };
        let bitmap = hello.versions();
        match negotiate(&self.config.versions, header.version, bitmap.as_deref()) {
            Some(v) => {
                self.version = Some(v);
                self.phase = Phase::Features;
                self.send_handshake(v);
            }
            None => {
                let offered = bitmap.unwrap_or_else(|| vec![header.version]);
                let text = format!(
                    "no shared OpenFlow version: the controller speaks {:?}, the switch offers {:?}",
                    self.config.versions, offered
                );
                let v = self.config.versions.first().copied().unwrap_or(OFP10);
                let err = Message::Error(ErrorMsg {
                    code: ErrorCode::HelloFailed(HelloFailedCode::Incompatible),
                    data: text.clone().into_bytes(),
                });
                let xid = self.xid(CORE_OWNER);
                self.encode(v, xid, &err);
                self.request_close(text);
            }
        }
    }

    fn send_handshake(&mut self, version: u8) {
        let mut msgs = vec![
            Message::FeaturesRequest,
            Message::SetConfig(SwitchConfig {
                flags: 0,
                miss_send_len: self.config.miss_send_len,
            }),
        ];
        if version >= OFP13 {
            msgs.push(Message::MultipartRequest(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::PortDesc,
            }));
            if self.config.set_async {
                msgs.push(Message::SetAsync(AsyncConfig {
                    packet_in_mask: [0b111, 0b111],
                    port_status_mask: [0b111, 0b111],
                    flow_removed_mask: [0b1111, 0b1111],
                }));
            }
            if self.config.table_miss {
                msgs.push(Message::FlowMod(FlowMod {
                    priority: 0,
                    match_: Match::new(),
                    instructions: vec![Instruction::ApplyActions(vec![Action::output(
                        PortNo::CONTROLLER,
                    )])],
                    ..FlowMod::default()
                }));
            }
        }
        if self.config.request_desc {
            msgs.push(Message::MultipartRequest(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::Desc,
            }));
        }
        for m in &msgs {
            // Every one of these has a form in both versions.
            let _ = self.send(CORE_OWNER, m);
        }
    }

    fn on_message(&mut self, xid: u32, message: Message) -> Incoming<'static> {
        let core = xid_owner(xid) == CORE_OWNER;
        match message {
            Message::Hello(_) | Message::EchoReply(_) => Incoming::Nothing,
            Message::EchoRequest(data) => {
                let _ = self.send_with_xid(xid, &Message::EchoReply(data));
                Incoming::Nothing
            }
            Message::FeaturesReply(f) => self.on_features(f),
            _ if self.phase != Phase::Joined => {
                // Nothing but the features reply means anything before the join.
                if let Message::Error(_) = message {
                    self.stats.errors_in += 1;
                    self.handshake_errors += 1;
                } else {
                    self.stats.dropped += 1;
                }
                Incoming::Nothing
            }
            Message::PortStatus(ps) => {
                if let Some(view) = &mut self.view {
                    if ps.reason == 1 {
                        view.ports.remove(&ps.desc.port_no);
                    } else {
                        view.ports.insert(ps.desc.port_no, ps.desc.clone());
                    }
                }
                Incoming::Message {
                    xid,
                    msg: Message::PortStatus(ps),
                }
            }
            Message::MultipartReply(r) => {
                if r.flags & flowlab_openflow::model::multipart::MORE == 0 {
                    self.outstanding.remove(&xid);
                }
                if core {
                    self.on_core_reply(r)
                } else {
                    Incoming::Message {
                        xid,
                        msg: Message::MultipartReply(r),
                    }
                }
            }
            Message::Error(e) => {
                self.stats.errors_in += 1;
                self.outstanding.remove(&xid);
                if core {
                    self.handshake_errors += 1;
                    Incoming::Nothing
                } else {
                    Incoming::Message {
                        xid,
                        msg: Message::Error(e),
                    }
                }
            }
            Message::BarrierReply => {
                self.outstanding.remove(&xid);
                if core {
                    Incoming::Nothing
                } else {
                    Incoming::Message {
                        xid,
                        msg: Message::BarrierReply,
                    }
                }
            }
            other => {
                if is_reply(&other) {
                    self.outstanding.remove(&xid);
                }
                Incoming::Message { xid, msg: other }
            }
        }
    }

    fn on_features(&mut self, f: SwitchFeatures) -> Incoming<'static> {
        let version = self.version.unwrap_or(OFP10);
        match &mut self.view {
            Some(view) => {
                // A repeated reply (to an app's request): refresh what it says.
                view.n_buffers = f.n_buffers;
                view.n_tables = f.n_tables;
                view.capabilities = f.capabilities;
                Incoming::Nothing
            }
            None => {
                let ports_known = version == OFP10;
                let ports = f.ports.into_iter().map(|p| (p.port_no, p)).collect();
                self.view = Some(SwitchView {
                    dpid: DatapathId(f.datapath_id),
                    version,
                    n_buffers: f.n_buffers,
                    n_tables: f.n_tables,
                    capabilities: f.capabilities,
                    ports,
                    ports_known,
                    desc: None,
                });
                self.phase = Phase::Joined;
                Incoming::Joined
            }
        }
    }

    fn on_core_reply(&mut self, r: MultipartReply) -> Incoming<'static> {
        let Some(view) = &mut self.view else {
            return Incoming::Nothing;
        };
        match r.body {
            MultipartReplyBody::PortDesc(ports) => {
                view.ports_known = r.flags & flowlab_openflow::model::multipart::MORE == 0;
                let mut new = Vec::new();
                for p in ports {
                    if view.ports.insert(p.port_no, p.clone()).is_none() {
                        new.push(p);
                    }
                }
                if new.is_empty() {
                    Incoming::Nothing
                } else {
                    Incoming::PortsLearned(new)
                }
            }
            MultipartReplyBody::Desc(d) => {
                view.desc = Some(d);
                Incoming::Nothing
            }
            _ => Incoming::Nothing,
        }
    }

    /// Periodic work: echo keepalive and dead peers.
    pub fn tick(&mut self, now: Duration) {
        let interval = self.config.echo_interval;
        if self.close.is_some() || interval.is_zero() {
            return;
        }
        let idle = now.saturating_sub(self.last_rx);
        if self.version.is_none() {
            if idle >= interval * 2 {
                self.request_close("no HELLO from the switch");
            }
            return;
        }
        match self.echo_sent {
            None if idle >= interval => {
                self.echo_sent = Some(now);
                let _ = self.send(CORE_OWNER, &Message::EchoRequest(Vec::new()));
            }
            Some(t) if now.saturating_sub(t) >= interval => {
                self.request_close(format!(
                    "no answer to an echo request in {:?}: the switch is considered dead",
                    interval
                ));
            }
            _ => {}
        }
    }
}

/// Whether a message from a switch answers a request.
fn is_reply(m: &Message) -> bool {
    matches!(
        m,
        Message::GetConfigReply(_)
            | Message::QueueGetConfigReply(_)
            | Message::RoleReply(_)
            | Message::GetAsyncReply(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_openflow::model::{PacketIn, PortStatus};
    use flowlab_openflow::Framer;

    const T0: Duration = Duration::from_secs(10);

    /// Decodes everything queued on `c`.
    fn drain(c: &mut SwitchConn) -> Vec<(u8, u32, Message)> {
        let mut buf = Vec::new();
        c.take_pending(&mut buf);
        let mut f = Framer::new();
        f.extend(&buf);
        let mut out = Vec::new();
        while let Some(m) = f.next_frame() {
            let (h, m) = flowlab_openflow::decode(m.unwrap()).unwrap();
            out.push((h.version, h.xid, m));
        }
        out
    }

    fn msg(version: u8, xid: u32, m: &Message) -> Vec<u8> {
        let mut out = Vec::new();
        flowlab_openflow::encode(version, xid, m, &mut out).unwrap();
        out
    }

    fn features(dpid: u64, ports: Vec<Port>) -> Message {
        Message::FeaturesReply(SwitchFeatures {
            datapath_id: dpid,
            n_buffers: 256,
            n_tables: 1,
            ports,
            ..SwitchFeatures::default()
        })
    }

    fn port(n: u32) -> Port {
        Port {
            port_no: PortNo(n),
            name: format!("p{n}"),
            ..Port::default()
        }
    }

    /// A connection past the peer's hello, with its hello and handshake drained.
    fn negotiated(version: u8) -> (SwitchConn, Vec<(u8, u32, Message)>) {
        let mut c = SwitchConn::new(ConnConfig::default(), T0);
        let hello = drain(&mut c);
        assert!(
            matches!(&hello[..], [(4, _, Message::Hello(_))]),
            "{hello:?}"
        );
        let peer = if version == OFP13 {
            Hello::with_versions(&[1, 4])
        } else {
            Hello::default()
        };
        let bytes = msg(version, 1, &Message::Hello(peer));
        assert!(matches!(c.handle_message(&bytes), Incoming::Nothing));
        assert_eq!(c.version(), Some(version));
        assert_eq!(c.phase(), Phase::Features);
        let sent = drain(&mut c);
        (c, sent)
    }

    #[test]
    fn negotiation_prefers_bitmaps_and_falls_back_to_headers() {
        assert_eq!(negotiate(&[1, 4], 4, Some(&[1, 4])), Some(4));
        assert_eq!(negotiate(&[1, 4], 6, Some(&[1, 5, 6])), Some(1));
        assert_eq!(negotiate(&[1, 4], 6, Some(&[5, 6])), None);
        assert_eq!(negotiate(&[1, 4], 1, None), Some(1));
        assert_eq!(negotiate(&[1, 4], 5, None), Some(4));
        assert_eq!(negotiate(&[1], 4, None), Some(1));
        assert_eq!(negotiate(&[4], 2, None), None);
    }

    #[test]
    fn a_v10_handshake_is_features_config_and_desc_sent_at_once() {
        let (_, sent) = negotiated(OFP10);
        let kinds: Vec<&Message> = sent
            .iter()
            .map(|(v, _, m)| {
                assert_eq!(*v, OFP10);
                m
            })
            .collect();
        assert!(
            matches!(
                kinds[..],
                [
                    Message::FeaturesRequest,
                    Message::SetConfig(SwitchConfig {
                        miss_send_len: 0xffff,
                        ..
                    }),
                    Message::MultipartRequest(MultipartRequest {
                        body: MultipartRequestBody::Desc,
                        ..
                    })
                ]
            ),
            "{kinds:?}"
        );
        for (_, xid, _) in &sent {
            assert_eq!(xid_owner(*xid), CORE_OWNER);
        }
    }

    #[test]
    fn a_v13_handshake_adds_port_desc_async_and_a_table_miss_entry() {
        let (_, sent) = negotiated(OFP13);
        let has = |f: &dyn Fn(&Message) -> bool| sent.iter().any(|(_, _, m)| f(m));
        assert!(matches!(sent[0].2, Message::FeaturesRequest));
        assert!(has(&|m| matches!(
            m,
            Message::MultipartRequest(MultipartRequest {
                body: MultipartRequestBody::PortDesc,
                ..
            })
        )));
        assert!(has(
            &|m| matches!(m, Message::SetAsync(a) if a.packet_in_mask[0] == 0b111)
        ));
        assert!(has(&|m| matches!(
            m,
            Message::FlowMod(f) if f.priority == 0
                && f.match_.is_empty()
                && f.instructions == vec![Instruction::ApplyActions(vec![Action::output(PortNo::CONTROLLER)])]
        )));
    }

    #[test]
    fn the_features_reply_alone_joins_and_later_replies_fill_the_view() {
        let (mut c, sent) = negotiated(OFP13);
        let port_desc_xid = sent
            .iter()
            .find(|(_, _, m)| {
                matches!(m, Message::MultipartRequest(r) if r.body == MultipartRequestBody::PortDesc)
            })
            .unwrap()
            .1;
        // A packet-in before the join is dropped: there is no datapath id to give it.
        let pi = Message::PacketIn(PacketIn {
            buffer_id: 1,
            total_len: 60,
            reason: 0,
            table_id: 0,
            cookie: 0,
            match_: Match::new().with(flowlab_openflow::model::OxmField::in_port(PortNo(1))),
            data: vec![0; 60],
        });
        let pi = msg(OFP13, 5, &pi);
        assert!(matches!(c.handle_message(&pi), Incoming::Nothing));
        assert_eq!(c.stats().dropped, 1);
        // An error answering SET_ASYNC is recorded, not fatal.
        let err = Message::Error(ErrorMsg {
            code: ErrorCode::BadRequest(
                flowlab_openflow::model::error_code::BadRequestCode::BadType,
            ),
            data: vec![],
        });
        assert!(matches!(
            c.handle_message(&msg(OFP13, make_xid(0, 4), &err)),
            Incoming::Nothing
        ));
        assert_eq!(c.handshake_errors(), 1);
        let f = msg(OFP13, sent[0].1, &features(0xab, vec![]));
        assert!(matches!(c.handle_message(&f), Incoming::Joined));
        let view = c.view().unwrap();
        assert_eq!(view.dpid, DatapathId(0xab));
        assert_eq!(view.n_buffers, 256);
        assert!(!view.ports_known, "1.3 ports come with PORT_DESC");
        assert!(matches!(c.handle_message(&pi), Incoming::PacketIn(p) if p.in_port() == PortNo(1)));
        let reply = Message::MultipartReply(MultipartReply {
            flags: 0,
            body: MultipartReplyBody::PortDesc(vec![port(1), port(2)]),
        });
        match c.handle_message(&msg(OFP13, port_desc_xid, &reply)) {
            Incoming::PortsLearned(p) => assert_eq!(p.len(), 2),
            other => panic!("{other:?}"),
        }
        let view = c.view().unwrap();
        assert!(view.ports_known);
        assert_eq!(view.ports.len(), 2);
        // A port going away leaves the view and reaches the apps.
        let gone = Message::PortStatus(PortStatus {
            reason: 1,
            desc: port(2),
        });
        assert!(matches!(
            c.handle_message(&msg(OFP13, 9, &gone)),
            Incoming::Message {
                msg: Message::PortStatus(_),
                ..
            }
        ));
        assert_eq!(c.view().unwrap().ports.len(), 1);
    }

    #[test]
    fn v10_ports_come_with_the_features_reply() {
        let (mut c, _) = negotiated(OFP10);
        let f = msg(OFP10, 1, &features(7, vec![port(1), port(3)]));
        assert!(matches!(c.handle_message(&f), Incoming::Joined));
        let v = c.view().unwrap();
        assert!(v.ports_known);
        assert_eq!(
            v.ports.keys().copied().collect::<Vec<_>>(),
            [PortNo(1), PortNo(3)]
        );
    }

    #[test]
    fn no_shared_version_fails_the_hello_and_asks_to_close() {
        let mut c = SwitchConn::new(
            ConnConfig {
                versions: vec![OFP13],
                ..ConnConfig::default()
            },
            T0,
        );
        drain(&mut c);
        c.handle_message(&msg(OFP10, 1, &Message::Hello(Hello::default())));
        match &drain(&mut c)[..] {
            [(_, _, Message::Error(e))] => assert_eq!(
                e.code,
                ErrorCode::HelloFailed(HelloFailedCode::Incompatible)
            ),
            other => panic!("{other:?}"),
        }
        assert!(c.close_requested().is_some());
        assert_eq!(c.send(1, &Message::BarrierRequest), Err(SendError::Closing));
    }

    #[test]
    fn a_message_before_hello_closes() {
        let mut c = SwitchConn::new(ConnConfig::default(), T0);
        c.handle_message(&msg(OFP13, 1, &Message::FeaturesRequest));
        assert!(c.close_requested().unwrap().contains("before its HELLO"));
    }

    #[test]
    fn echo_requests_are_answered_and_silence_is_probed_then_fatal() {
        let (mut c, _) = negotiated(OFP10);
        c.handle_message(&msg(OFP10, 0x77, &Message::EchoRequest(b"hi".to_vec())));
        assert_eq!(
            drain(&mut c),
            [(OFP10, 0x77, Message::EchoReply(b"hi".to_vec()))]
        );
        c.tick(T0 + Duration::from_secs(4));
        assert!(drain(&mut c).is_empty());
        c.tick(T0 + Duration::from_secs(5));
        assert!(matches!(
            &drain(&mut c)[..],
            [(_, _, Message::EchoRequest(_))]
        ));
        // An answer (any bytes) keeps it alive.
        c.note_rx(T0 + Duration::from_secs(6));
        c.tick(T0 + Duration::from_secs(10));
        assert!(c.close_requested().is_none());
        c.tick(T0 + Duration::from_secs(11));
        assert!(matches!(
            &drain(&mut c)[..],
            [(_, _, Message::EchoRequest(_))]
        ));
        c.tick(T0 + Duration::from_secs(16));
        assert!(c.close_requested().unwrap().contains("dead"));
    }

    #[test]
    fn a_silent_peer_without_hello_is_dropped() {
        let mut c = SwitchConn::new(ConnConfig::default(), T0);
        c.tick(T0 + Duration::from_secs(9));
        assert!(c.close_requested().is_none());
        c.tick(T0 + Duration::from_secs(10));
        assert!(c.close_requested().is_some());
    }

    #[test]
    fn xids_carry_their_owner_and_tracked_requests_settle_on_the_last_part() {
        let (mut c, _) = negotiated(OFP13);
        c.handle_message(&msg(OFP13, 1, &features(1, vec![])));
        let a = c.send(3, &Message::BarrierRequest).unwrap();
        let b = c.send(3, &Message::BarrierRequest).unwrap();
        assert_eq!(xid_owner(a), 3);
        assert_ne!(a, b);
        let req = Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Table,
        });
        let x = c.request(2, &req, T0).unwrap();
        assert!(c.is_outstanding(x));
        let part = |flags| {
            Message::MultipartReply(MultipartReply {
                flags,
                body: MultipartReplyBody::Table(vec![]),
            })
        };
        let first = msg(OFP13, x, &part(1));
        let got = c.handle_message(&first);
        assert!(matches!(got, Incoming::Message { xid, .. } if xid == x));
        assert!(c.is_outstanding(x), "more parts follow");
        c.handle_message(&msg(OFP13, x, &part(0)));
        assert_eq!(c.outstanding(), 0);
        // Sequence numbers wrap within 24 bits and never give xid 0 for an owner.
        c.next_seq = 0x00ff_ffff;
        assert_eq!(c.xid(1), 0x01ff_ffff);
        assert_eq!(c.xid(1), 0x0100_0001);
    }

    #[test]
    fn malformed_and_wrong_version_messages_are_dropped() {
        let (mut c, _) = negotiated(OFP13);
        c.handle_message(&msg(OFP13, 1, &features(1, vec![])));
        let mut bad = msg(OFP13, 2, &Message::BarrierReply);
        bad[1] = 99;
        assert!(matches!(c.handle_message(&bad), Incoming::Nothing));
        assert!(matches!(
            c.handle_message(&msg(OFP10, 2, &Message::BarrierReply)),
            Incoming::Nothing
        ));
        assert!(matches!(c.handle_message(&[4, 10, 0]), Incoming::Nothing));
        assert_eq!(c.stats().dropped, 3);
    }

    #[test]
    fn raw_sends_are_undone_on_error() {
        let (mut c, _) = negotiated(OFP10);
        let r = c.send_raw(1, |_, _, out| {
            out.extend_from_slice(&[1, 2, 3]);
            Err(EncodeError::TooLong { what: "test" })
        });
        assert!(r.is_err());
        assert!(c.pending().is_empty());
        let x = c
            .send_raw(1, |v, xid, out| {
                flowlab_openflow::encode(v, xid, &Message::BarrierRequest, out)
            })
            .unwrap();
        assert_eq!(drain(&mut c), [(OFP10, x, Message::BarrierRequest)]);
    }
}
