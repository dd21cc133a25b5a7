//! The controller core: every switch connection, the apps, and the dispatch of events to
//! their handlers. Sans-IO: a driver (the tokio one in `driver`, or the in-memory
//! `harness`) opens connections, hands in the bytes it reads and the time, and writes
//! out what [`Controller::take_pending`] gives it.
//!
//! # Dispatch
//!
//! Each received message is handled to completion before the next is looked at: the
//! connection's state machine digests it (`switch_conn`), and what it means to the apps
//! becomes one [`Event`] dispatched to the handlers registered for its kind, highest
//! priority first, until one returns [`Disposition::Stop`]. Events apps post during a
//! dispatch are queued and dispatched, in order, once the event that caused them is
//! done, so a handler never re-enters another; a storm of posted events is cut off after
//! [`MAX_POSTED_PER_INPUT`] per input (and counted).
//!
//! Replies are not broadcast: a statistics or barrier reply, and an error, go to the app
//! whose request caused them, found from the top byte of the xid (see `switch_conn`);
//! only errors whose xid names no app (a switch's own complaint) go to every `Error`
//! handler.
//!
//! # Output
//!
//! What handlers send is encoded straight into the target connection's output buffer.
//! The driver writes a connection's output once per batch of input, however many
//! messages it holds; connections other than the one being read that received output
//! are listed by [`Controller::take_dirty`] so the driver can wake their writers.
//!
//! # The JSON API's requests
//!
//! The JSON API (`crate::api`) reads most of what it serves from the view, but a flow
//! table lives in the switch: `/api/flows/<dpid>` sends a flow-statistics request of its
//! own ([`Controller::api_request`]) with the reserved xid owner [`API_OWNER`]. Its
//! replies never reach an app: they are matched by (connection, xid) against the API's
//! table before any routing, collected part by part, and the request is listed by
//! [`Controller::take_api_done`] once its last part (or an error, or the switch's
//! departure) arrives, so the driver can wake the HTTP request waiting for it, which
//! takes the parts with [`Controller::api_reply`]. Matching by the table, not by the
//! owner byte alone, leaves every other xid routed as before, even with 255 apps (whose
//! last would share the owner byte, never an xid: xids come from one counter per
//! connection).

use std::collections::HashMap;
use std::time::Duration;

use flowlab_openflow::model::multipart::{
    MultipartReplyBody, MultipartRequest, MultipartRequestBody, MORE,
};
use flowlab_openflow::model::Message;
use flowlab_openflow::Framer;

use crate::app::{App, Ctx, Disposition, Registrar, Scratch};
use crate::event::{
    AppEvent, BarrierReplyEvent, ErrorEvent, Event, EventKind, FlowRemovedEvent, PacketInEvent,
    PortReason, PortStatusEvent, StatsReplyEvent, SwitchJoin, SwitchLeave,
};
use crate::netview::NetworkView;
use crate::switch_conn::{xid_owner, ConnConfig, Incoming, SendError, SwitchConn};
use crate::view::{DatapathId, SwitchView};

/// A connection's handle.
pub type ConnId = usize;

/// Posted events dispatched per input (received bytes, a tick, a close) at most.
pub const MAX_POSTED_PER_INPUT: usize = 100_000;

/// The most apps: xids name their sender in one byte, and 0 is the core.
pub const MAX_APPS: usize = 255;

/// Why a controller could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControllerError {
    /// More than [`MAX_APPS`] apps.
    #[error("too many apps ({0}; at most 255)")]
    TooManyApps(usize),
    /// Two apps with the same name.
    #[error("app '{0}' given twice")]
    DuplicateApp(&'static str),
}

/// The xid owner of the JSON API's own requests (see the module documentation).
pub const API_OWNER: u8 = 0xff;

/// JSON API requests waiting or answered but not yet claimed, at most (abandoned ones
/// count only against sixteen times as many).
pub const MAX_API_REQUESTS: usize = 64;

/// Reply messages kept for one JSON API request; later parts are dropped and the reply
/// is marked truncated.
pub const MAX_API_REPLY_PARTS: usize = 1024;

/// How long a JSON API request is kept, answered or not, before it is forgotten.
pub const API_REQUEST_TTL: Duration = Duration::from_secs(30);

/// A JSON API request's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiRequestId(pub u64);

/// Why a JSON API request could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiRequestError {
    /// [`MAX_API_REQUESTS`] requests are already waiting.
    #[error("too many requests waiting for switches")]
    Busy,
    /// The switch could not be sent the request.
    #[error("{0}")]
    Send(#[from] SendError),
}

/// Where a JSON API request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiReply {
    /// Waiting for (more of) the reply.
    Pending,
    /// Every part arrived.
    Done {
        /// The reply's parts, in the order they came.
        parts: Vec<MultipartReplyBody>,
        /// Parts beyond [`MAX_API_REPLY_PARTS`] were dropped.
        truncated: bool,
    },
    /// The switch answered with an error, or its connection closed.
    Failed(String),
}

#[derive(Debug)]
struct ApiEntry {
    conn: ConnId,
    xid: u32,
    sent: Duration,
    parts: Vec<MultipartReplyBody>,
    truncated: bool,
    failed: Option<String>,
    finished: bool,
    abandoned: bool,
}

/// The JSON API's requests in flight (see the module documentation).
#[derive(Debug, Default)]
struct ApiRequests {
    next: u64,
    by_xid: HashMap<(ConnId, u32), u64>,
    entries: HashMap<u64, ApiEntry>,
    done: Vec<ApiRequestId>,
}

impl ApiRequests {
    fn waiting(&self) -> usize {
        self.entries
            .values()
            .filter(|e| !e.finished && !e.abandoned)
            .count()
    }

    fn is_ours(&self, conn: ConnId, xid: u32) -> bool {
        xid_owner(xid) == API_OWNER && self.by_xid.contains_key(&(conn, xid))
    }

    fn finish(&mut self, id: u64) {
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        e.finished = true;
        self.by_xid.remove(&(e.conn, e.xid));
        if e.abandoned {
            self.entries.remove(&id);
        } else {
            self.done.push(ApiRequestId(id));
        }
    }

    /// A reply (part) or an error for one of our requests.
    fn reply(&mut self, conn: ConnId, xid: u32, msg: Message) {
        let Some(&id) = self.by_xid.get(&(conn, xid)) else {
            return;
        };
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        match msg {
            Message::MultipartReply(r) => {
                if !e.abandoned {
                    if e.parts.len() < MAX_API_REPLY_PARTS {
                        e.parts.push(r.body);
                    } else {
                        e.truncated = true;
                    }
                }
                if r.flags & MORE == 0 {
                    self.finish(id);
                }
            }
            Message::Error(err) => {
                e.failed = Some(format!("the switch refused the request: {:?}", err.code));
                self.finish(id);
            }
            // Nothing else answers a statistics request.
            _ => {}
        }
    }

    fn conn_gone(&mut self, conn: ConnId) {
        let ids: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| e.conn == conn && !e.finished)
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            if let Some(e) = self.entries.get_mut(&id) {
                e.failed = Some("the switch's connection closed".into());
            }
            self.finish(id);
        }
    }

    fn expire(&mut self, now: Duration) {
        let old: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.sent) >= API_REQUEST_TTL)
            .map(|(&id, _)| id)
            .collect();
        for id in old {
            if let Some(e) = self.entries.remove(&id) {
                self.by_xid.remove(&(e.conn, e.xid));
            }
        }
        let entries = &self.entries;
        self.done.retain(|id| entries.contains_key(&id.0));
    }
}

/// Counters of the controller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControllerStats {
    /// Events dispatched, per [`EventKind::index`].
    pub events: [u64; EventKind::COUNT],
    /// Posted events dropped by the [`MAX_POSTED_PER_INPUT`] limit.
    pub posted_dropped: u64,
    /// Connections opened.
    pub connections: u64,
}

#[derive(Debug, Clone, Copy)]
struct Handler {
    priority: i32,
    app: usize,
}

/// The connections and the datapath-id index, as handlers reach them through [`Ctx`].
#[derive(Debug, Default)]
pub(crate) struct Switches {
    conns: Vec<Option<SwitchConn>>,
    by_dpid: HashMap<DatapathId, ConnId>,
    dirty: Vec<ConnId>,
    is_dirty: Vec<bool>,
}

impl Switches {
    pub(crate) fn view(&self, dpid: DatapathId) -> Option<&SwitchView> {
        let id = *self.by_dpid.get(&dpid)?;
        self.conns.get(id)?.as_ref()?.view()
    }

    pub(crate) fn views(&self) -> impl Iterator<Item = &SwitchView> + '_ {
        self.by_dpid
            .values()
            .filter_map(|&id| self.conns.get(id)?.as_ref()?.view())
    }

    pub(crate) fn is_outstanding(&self, dpid: DatapathId, xid: u32) -> bool {
        self.by_dpid
            .get(&dpid)
            .and_then(|&id| self.conns.get(id)?.as_ref())
            .is_some_and(|c| c.is_outstanding(xid))
    }

    /// Runs `f` on the connection of `dpid` and marks it dirty.
    pub(crate) fn with_conn<T>(
        &mut self,
        dpid: DatapathId,
        f: impl FnOnce(&mut SwitchConn) -> Result<T, SendError>,
    ) -> Result<T, SendError> {
        let id = *self
            .by_dpid
            .get(&dpid)
            .ok_or(SendError::UnknownSwitch(dpid))?;
        let conn = self
            .conns
            .get_mut(id)
            .and_then(Option::as_mut)
            .ok_or(SendError::UnknownSwitch(dpid))?;
        let r = f(conn);
        self.mark(id);
        r
    }

    fn mark(&mut self, id: ConnId) {
        if self.is_dirty.len() <= id {
            self.is_dirty.resize(id + 1, false);
        }
        if !self.is_dirty[id] {
            self.is_dirty[id] = true;
            self.dirty.push(id);
        }
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut SwitchConn> {
        self.conns.get_mut(id).and_then(Option::as_mut)
    }
}

/// The parts of the controller a dispatch borrows (all but the framers, whose bytes the
/// events being dispatched borrow).
struct Dispatcher<'a> {
    apps: &'a mut [Box<dyn App>],
    handlers: &'a [Vec<Handler>],
    switches: &'a mut Switches,
    network: &'a mut NetworkView,
    posted: &'a mut Vec<AppEvent>,
    scratch: &'a mut Scratch,
    stats: &'a mut ControllerStats,
    api: &'a mut ApiRequests,
    now: Duration,
}

impl Dispatcher<'_> {
    fn ctx_for(&mut self, app: usize) -> (&mut dyn App, Ctx<'_>) {
        let ctx = Ctx {
            switches: self.switches,
            network: self.network,
            posted: self.posted,
            scratch: self.scratch,
            // App i sends with owner i + 1 (0 is the core); at most 255 apps.
            owner: (app + 1) as u8,
            now: self.now,
        };
        (self.apps[app].as_mut(), ctx)
    }

    /// Every handler of the event's kind, by priority, until one stops.
    fn dispatch(&mut self, event: &Event<'_>) {
        let kind = event.kind();
        self.stats.events[kind.index()] += 1;
        let handlers = self.handlers;
        for h in &handlers[kind.index()] {
            let (app, mut ctx) = self.ctx_for(h.app);
            let d = app.handle(event, &mut ctx);
            self.network.take_pending(self.posted);
            if d == Disposition::Stop {
                break;
            }
        }
    }

    /// A reply or error: to the app whose xid it carries, else to every handler.
    fn route(&mut self, xid: u32, event: &Event<'_>) {
        let owner = usize::from(xid_owner(xid));
        if owner >= 1 && owner <= self.apps.len() {
            self.stats.events[event.kind().index()] += 1;
            let (app, mut ctx) = self.ctx_for(owner - 1);
            app.handle(event, &mut ctx);
            self.network.take_pending(self.posted);
        } else {
            self.dispatch(event);
        }
    }

    /// Dispatches posted events until none are left (or the limit is reached).
    fn drain_posted(&mut self) {
        let mut n = 0;
        while !self.posted.is_empty() {
            let batch = std::mem::take(self.posted);
            for e in &batch {
                if n >= MAX_POSTED_PER_INPUT {
                    self.stats.posted_dropped += 1;
                    continue;
                }
                n += 1;
                self.dispatch(&Event::App(e));
            }
            if n >= MAX_POSTED_PER_INPUT {
                self.stats.posted_dropped += self.posted.len() as u64;
                self.posted.clear();
            }
        }
    }

    fn tick_apps(&mut self) {
        for i in 0..self.apps.len() {
            let (app, mut ctx) = self.ctx_for(i);
            app.tick(&mut ctx);
            self.network.take_pending(self.posted);
        }
    }

    /// A switch's connection is gone: it leaves the view.
    fn leave(&mut self, id: ConnId, dpid: DatapathId) {
        if self.switches.by_dpid.get(&dpid) == Some(&id) {
            self.switches.by_dpid.remove(&dpid);
            self.network.switch_gone(dpid, self.now);
            self.dispatch(&Event::SwitchLeave(SwitchLeave { dpid }));
            self.network.take_pending(self.posted);
        }
    }

    fn incoming(&mut self, id: ConnId, incoming: Incoming<'_>) {
        let Some(dpid) = self.switches.conns[id].as_ref().and_then(|c| c.dpid()) else {
            return;
        };
        match incoming {
            Incoming::Nothing => {}
            Incoming::Joined => {
                if let Some(&old) = self.switches.by_dpid.get(&dpid) {
                    if old != id {
                        if let Some(c) = self.switches.conn_mut(old) {
                            c.request_close(format!(
                                "replaced by a newer connection from datapath {dpid}"
                            ));
                        }
                        self.switches.mark(old);
                        self.leave(old, dpid);
                    }
                }
                let version = self.switches.conns[id]
                    .as_ref()
                    .and_then(|c| c.version())
                    .unwrap_or(0);
                self.switches.by_dpid.insert(dpid, id);
                self.dispatch(&Event::SwitchJoin(SwitchJoin { dpid, version }));
            }
            Incoming::PortsLearned(ports) => {
                for port in &ports {
                    self.dispatch(&Event::PortStatus(PortStatusEvent {
                        dpid,
                        reason: PortReason::Add,
                        port,
                    }));
                }
            }
            Incoming::PacketIn(packet) => {
                self.dispatch(&Event::PacketIn(PacketInEvent { dpid, packet }));
            }
            // The JSON API's own requests: never routed to an app.
            Incoming::Message { xid, msg } if self.api.is_ours(id, xid) => {
                self.api.reply(id, xid, msg);
            }
            Incoming::Message { xid, msg } => match &msg {
                Message::PortStatus(ps) => self.dispatch(&Event::PortStatus(PortStatusEvent {
                    dpid,
                    reason: PortReason::from_u8(ps.reason),
                    port: &ps.desc,
                })),
                Message::FlowRemoved(removed) => {
                    self.dispatch(&Event::FlowRemoved(FlowRemovedEvent { dpid, removed }))
                }
                Message::MultipartReply(r) => self.route(
                    xid,
                    &Event::StatsReply(StatsReplyEvent {
                        dpid,
                        xid,
                        more: r.flags & MORE != 0,
                        body: &r.body,
                    }),
                ),
                Message::BarrierReply => {
                    self.route(xid, &Event::BarrierReply(BarrierReplyEvent { dpid, xid }))
                }
                Message::Error(error) => {
                    self.route(xid, &Event::Error(ErrorEvent { dpid, xid, error }))
                }
                // Nothing else has an event (yet).
                _ => {}
            },
        }
    }
}

/// The controller. See the module documentation.
pub struct Controller {
    config: ConnConfig,
    framers: Vec<Framer>,
    switches: Switches,
    network: NetworkView,
    apps: Vec<Box<dyn App>>,
    handlers: Vec<Vec<Handler>>,
    posted: Vec<AppEvent>,
    scratch: Scratch,
    stats: ControllerStats,
    api: ApiRequests,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("apps", &self.app_names())
            .field("switches", &self.switches.by_dpid.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Controller {
    /// A controller running `apps` (in the order given, which breaks priority ties).
    pub fn new(config: ConnConfig, apps: Vec<Box<dyn App>>) -> Result<Controller, ControllerError> {
        if apps.len() > MAX_APPS {
            return Err(ControllerError::TooManyApps(apps.len()));
        }
        for (i, a) in apps.iter().enumerate() {
            if apps[..i].iter().any(|b| b.name() == a.name()) {
                return Err(ControllerError::DuplicateApp(a.name()));
            }
        }
        let mut handlers: Vec<Vec<Handler>> = vec![Vec::new(); EventKind::COUNT];
        for (app, a) in apps.iter().enumerate() {
            let mut r = Registrar::default();
            a.register(&mut r);
            for (kind, priority) in r.entries {
                handlers[kind.index()].push(Handler { priority, app });
            }
        }
        for list in &mut handlers {
            // Stable: equal priorities keep the apps' order.
            list.sort_by_key(|h| std::cmp::Reverse(h.priority));
        }
        Ok(Controller {
            config,
            framers: Vec::new(),
            switches: Switches::default(),
            network: NetworkView::new(),
            apps,
            handlers,
            posted: Vec::new(),
            scratch: Scratch::default(),
            stats: ControllerStats::default(),
            api: ApiRequests::default(),
        })
    }

    /// The apps' names, in order.
    pub fn app_names(&self) -> Vec<&'static str> {
        self.apps.iter().map(|a| a.name()).collect()
    }

    /// The handlers of `kind`, in the order they run: (app name, priority).
    pub fn handlers(&self, kind: EventKind) -> Vec<(&'static str, i32)> {
        self.handlers[kind.index()]
            .iter()
            .map(|h| (self.apps[h.app].name(), h.priority))
            .collect()
    }

    /// The counters.
    pub fn stats(&self) -> ControllerStats {
        self.stats
    }

    /// A joined switch.
    pub fn switch(&self, dpid: DatapathId) -> Option<&SwitchView> {
        self.switches.view(dpid)
    }

    /// Every joined switch, in datapath-id order.
    pub fn switches(&self) -> Vec<&SwitchView> {
        let mut v: Vec<&SwitchView> = self.switches.views().collect();
        v.sort_by_key(|s| s.dpid);
        v
    }

    /// The network view: links, hosts, names, and the change feed.
    pub fn network(&self) -> &NetworkView {
        &self.network
    }

    /// A connection.
    pub fn conn(&self, id: ConnId) -> Option<&SwitchConn> {
        self.switches.conns.get(id).and_then(Option::as_ref)
    }

    /// The connection of a joined switch.
    pub fn conn_of(&self, dpid: DatapathId) -> Option<ConnId> {
        self.switches.by_dpid.get(&dpid).copied()
    }

    fn split(&mut self, now: Duration) -> (&mut Vec<Framer>, Dispatcher<'_>) {
        (
            &mut self.framers,
            Dispatcher {
                apps: &mut self.apps,
                handlers: &self.handlers,
                switches: &mut self.switches,
                network: &mut self.network,
                posted: &mut self.posted,
                scratch: &mut self.scratch,
                stats: &mut self.stats,
                api: &mut self.api,
                now,
            },
        )
    }

    /// A new connection (accepted, or connected out): our hello is queued.
    pub fn open(&mut self, now: Duration) -> ConnId {
        self.stats.connections += 1;
        let conn = SwitchConn::new(self.config.clone(), now);
        let id = match self.switches.conns.iter().position(Option::is_none) {
            Some(id) => id,
            None => {
                self.switches.conns.push(None);
                self.framers.push(Framer::new());
                self.switches.conns.len() - 1
            }
        };
        self.switches.conns[id] = Some(conn);
        self.framers[id] = Framer::new();
        id
    }

    /// Bytes read from connection `id`: every whole message is handled, in order.
    pub fn receive(&mut self, id: ConnId, bytes: &[u8], now: Duration) {
        let (framers, mut d) = self.split(now);
        let Some(framer) = framers.get_mut(id) else {
            return;
        };
        match d.switches.conn_mut(id) {
            Some(c) if c.close_requested().is_none() => c.note_rx(now),
            _ => return,
        }
        framer.extend(bytes);
        loop {
            let frame = match framer.next_frame() {
                None => break,
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    if let Some(c) = d.switches.conn_mut(id) {
                        c.request_close(format!("unframeable stream: {e}"));
                    }
                    break;
                }
            };
            let Some(conn) = d.switches.conn_mut(id) else {
                break;
            };
            let incoming = conn.handle_message(frame);
            d.incoming(id, incoming);
            d.drain_posted();
            if d.switches
                .conn_mut(id)
                .is_none_or(|c| c.close_requested().is_some())
            {
                break;
            }
        }
    }

    /// Connection `id` is gone (closed by either side): a joined switch leaves.
    pub fn close(&mut self, id: ConnId, now: Duration) {
        let (_, mut d) = self.split(now);
        let Some(conn) = d.switches.conns.get_mut(id).and_then(Option::take) else {
            return;
        };
        d.api.conn_gone(id);
        if let Some(dpid) = conn.dpid() {
            d.leave(id, dpid);
            d.drain_posted();
        }
        if let Some(f) = self.framers.get_mut(id) {
            *f = Framer::new();
        }
    }

    /// Periodic work (call about once a second): keepalive on every connection, then the
    /// apps' [`App::tick`].
    pub fn tick(&mut self, now: Duration) {
        self.api.expire(now);
        for id in 0..self.switches.conns.len() {
            if let Some(c) = self.switches.conn_mut(id) {
                let (before, closing) = (c.pending().len(), c.close_requested().is_some());
                c.tick(now);
                if c.pending().len() != before || c.close_requested().is_some() != closing {
                    self.switches.mark(id);
                }
            }
        }
        let (_, mut d) = self.split(now);
        d.tick_apps();
        d.drain_posted();
    }

    /// Bytes waiting to be written to `id`.
    pub fn pending(&self, id: ConnId) -> &[u8] {
        self.conn(id).map_or(&[], SwitchConn::pending)
    }

    /// `n` bytes of [`Controller::pending`] were written.
    pub fn consume(&mut self, id: ConnId, n: usize) {
        if let Some(c) = self.switches.conn_mut(id) {
            c.consume(n);
        }
    }

    /// Moves `id`'s pending bytes into `buf` (see [`SwitchConn::take_pending`]).
    pub fn take_pending(&mut self, id: ConnId, buf: &mut Vec<u8>) {
        match self.switches.conn_mut(id) {
            Some(c) => c.take_pending(buf),
            None => buf.clear(),
        }
    }

    /// Why the controller wants `id` closed (once its pending bytes are written).
    pub fn close_requested(&self, id: ConnId) -> Option<&str> {
        self.conn(id).and_then(SwitchConn::close_requested)
    }

    /// The connections that got output (or a close request) from anything but their own
    /// input since the last call, appended to `out`.
    pub fn take_dirty(&mut self, out: &mut Vec<ConnId>) {
        for id in self.switches.dirty.drain(..) {
            self.switches.is_dirty[id] = false;
            out.push(id);
        }
    }

    /// Sends a statistics request for the JSON API to `dpid` (see the module
    /// documentation); its reply is kept for [`Controller::api_reply`]. The switch's
    /// connection is marked dirty ([`Controller::take_dirty`]).
    pub fn api_request(
        &mut self,
        dpid: DatapathId,
        body: MultipartRequestBody,
        now: Duration,
    ) -> Result<ApiRequestId, ApiRequestError> {
        // Requests someone still waits for (or has not collected) are limited; abandoned
        // ones, which keep no reply parts, only by a wider bound, so a switch that never
        // answers cannot lock every other switch out of the API for the TTL.
        let live = self.api.entries.values().filter(|e| !e.abandoned).count();
        if live >= MAX_API_REQUESTS || self.api.entries.len() >= MAX_API_REQUESTS * 16 {
            return Err(ApiRequestError::Busy);
        }
        let conn = self.conn_of(dpid).ok_or(SendError::UnknownSwitch(dpid))?;
        let msg = Message::MultipartRequest(MultipartRequest { flags: 0, body });
        let xid = self
            .switches
            .with_conn(dpid, |c| c.request(API_OWNER, &msg, now))?;
        self.api.next += 1;
        let id = self.api.next;
        self.api.by_xid.insert((conn, xid), id);
        self.api.entries.insert(
            id,
            ApiEntry {
                conn,
                xid,
                sent: now,
                parts: Vec::new(),
                truncated: false,
                failed: None,
                finished: false,
                abandoned: false,
            },
        );
        Ok(ApiRequestId(id))
    }

    /// Where the JSON API request `id` stands: a finished request is handed over (and
    /// forgotten); None for a request that is not known (handed over already, abandoned,
    /// or older than [`API_REQUEST_TTL`]).
    pub fn api_reply(&mut self, id: ApiRequestId) -> Option<ApiReply> {
        let e = self.api.entries.get(&id.0)?;
        if !e.finished {
            return Some(ApiReply::Pending);
        }
        let e = self.api.entries.remove(&id.0)?;
        Some(match e.failed {
            Some(why) => ApiReply::Failed(why),
            None => ApiReply::Done {
                parts: e.parts,
                truncated: e.truncated,
            },
        })
    }

    /// Nobody waits for the JSON API request `id` any more: what arrives for it is
    /// dropped, and it is forgotten once its last part arrives.
    pub fn api_abandon(&mut self, id: ApiRequestId) {
        let Some(e) = self.api.entries.get_mut(&id.0) else {
            return;
        };
        if e.finished {
            self.api.entries.remove(&id.0);
        } else {
            e.abandoned = true;
            e.parts = Vec::new();
        }
    }

    /// The JSON API requests that finished (answered, refused, or their switch left)
    /// since the last call, appended to `out`.
    pub fn take_api_done(&mut self, out: &mut Vec<ApiRequestId>) {
        out.append(&mut self.api.done);
    }

    /// JSON API requests still waiting for their replies (and not abandoned).
    pub fn api_waiting(&self) -> usize {
        self.api.waiting()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::switch_conn::{make_xid, OFP10, OFP13};
    use flowlab_openflow::model::error_code::{BadRequestCode, ErrorCode};
    use flowlab_openflow::model::multipart::{MultipartReply, MultipartReplyBody};
    use flowlab_openflow::model::{
        ErrorMsg, Hello, Match, OxmField, PacketIn, PortNo, SwitchFeatures,
    };
    use std::sync::{Arc, Mutex};

    const T0: Duration = Duration::from_secs(1);

    type Log = Arc<Mutex<Vec<String>>>;

    /// An app that logs what it sees and answers with a fixed disposition.
    struct Probe {
        name: &'static str,
        kinds: Vec<(EventKind, i32)>,
        answer: Disposition,
        log: Log,
        post: Option<AppEvent>,
        barrier_on_join: bool,
    }

    impl Probe {
        fn new(name: &'static str, kind: EventKind, priority: i32, log: &Log) -> Probe {
            Probe {
                name,
                kinds: vec![(kind, priority)],
                answer: Disposition::Continue,
                log: log.clone(),
                post: None,
                barrier_on_join: false,
            }
        }
    }

    impl App for Probe {
        fn name(&self) -> &'static str {
            self.name
        }
        fn register(&self, r: &mut Registrar) {
            for &(k, p) in &self.kinds {
                r.on(k, p);
            }
        }
        fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
            self.log
                .lock()
                .unwrap()
                .push(format!("{}:{:?}", self.name, event.kind()));
            if let Some(e) = self.post.take() {
                ctx.post(e);
            }
            if let Event::SwitchJoin(j) = event {
                if self.barrier_on_join {
                    ctx.barrier(j.dpid).unwrap();
                }
            }
            self.answer
        }
    }

    /// A controller and one connection past the hello, for `version`.
    struct Rig {
        c: Controller,
        id: ConnId,
        version: u8,
    }

    impl Rig {
        fn new(apps: Vec<Box<dyn App>>, version: u8) -> Rig {
            let mut c = Controller::new(ConnConfig::default(), apps).unwrap();
            let id = c.open(T0);
            let hello = if version == OFP13 {
                Hello::with_versions(&[4])
            } else {
                Hello::default()
            };
            let mut r = Rig { c, id, version };
            r.feed(&Message::Hello(hello), 1);
            r
        }

        fn feed(&mut self, m: &Message, xid: u32) {
            let mut b = Vec::new();
            flowlab_openflow::encode(self.version, xid, m, &mut b).unwrap();
            self.c.receive(self.id, &b, T0);
        }

        fn join(&mut self, dpid: u64) {
            self.feed(
                &Message::FeaturesReply(SwitchFeatures {
                    datapath_id: dpid,
                    ..SwitchFeatures::default()
                }),
                1,
            );
        }

        fn sent(&mut self) -> Vec<(u32, Message)> {
            let mut buf = Vec::new();
            self.c.take_pending(self.id, &mut buf);
            let mut f = Framer::new();
            f.extend(&buf);
            let mut out = Vec::new();
            while let Some(Ok(m)) = f.next_frame() {
                let (h, m) = flowlab_openflow::decode(m).unwrap();
                out.push((h.xid, m));
            }
            out
        }
    }

    fn packet_in(port: u32) -> Message {
        let mut data = vec![0u8; 60];
        data[..6].copy_from_slice(&[0xff; 6]);
        Message::PacketIn(PacketIn {
            buffer_id: flowlab_openflow::NO_BUFFER,
            total_len: 60,
            reason: 0,
            table_id: 0,
            cookie: 0,
            match_: Match::new().with(OxmField::in_port(PortNo(port))),
            data,
        })
    }

    #[test]
    fn handlers_run_by_priority_and_stop_stops() {
        let log: Log = Arc::default();
        let low = Probe::new("low", EventKind::PacketIn, 1, &log);
        let mut mid = Probe::new("mid", EventKind::PacketIn, 50, &log);
        mid.answer = Disposition::Stop;
        let high = Probe::new("high", EventKind::PacketIn, 100, &log);
        let tie = Probe::new("tie", EventKind::PacketIn, 100, &log);
        let apps: Vec<Box<dyn App>> =
            vec![Box::new(low), Box::new(mid), Box::new(high), Box::new(tie)];
        let mut r = Rig::new(apps, OFP10);
        assert_eq!(
            r.c.handlers(EventKind::PacketIn),
            [("high", 100), ("tie", 100), ("mid", 50), ("low", 1)]
        );
        r.join(1);
        r.feed(&packet_in(1), 9);
        assert_eq!(
            *log.lock().unwrap(),
            ["high:PacketIn", "tie:PacketIn", "mid:PacketIn"],
            "low never runs: mid stopped the dispatch"
        );
        assert_eq!(r.c.stats().events[EventKind::PacketIn.index()], 1);
    }

    #[test]
    fn posted_events_follow_the_event_that_caused_them() {
        let log: Log = Arc::default();
        let mut poster = Probe::new("poster", EventKind::SwitchJoin, 0, &log);
        let host = crate::event::Host {
            mac: [2, 0, 0, 0, 0, 1],
            ipv4: None,
            location: crate::event::Location {
                dpid: DatapathId(1),
                port: PortNo(1),
            },
        };
        poster.post = Some(AppEvent::HostJoin(host));
        let mut late = Probe::new("late", EventKind::SwitchJoin, -5, &log);
        late.kinds.push((EventKind::HostJoin, 0));
        let mut r = Rig::new(vec![Box::new(poster), Box::new(late)], OFP13);
        r.join(1);
        assert_eq!(
            *log.lock().unwrap(),
            ["poster:SwitchJoin", "late:SwitchJoin", "late:HostJoin"]
        );
    }

    #[test]
    fn replies_go_to_the_requesting_app_and_foreign_errors_to_all() {
        let log: Log = Arc::default();
        let mut asker = Probe::new("asker", EventKind::SwitchJoin, 0, &log);
        asker.barrier_on_join = true;
        let errs = Probe::new("errs", EventKind::Error, 0, &log);
        let bar = Probe::new("bar", EventKind::BarrierReply, 0, &log);
        let mut r = Rig::new(vec![Box::new(asker), Box::new(errs), Box::new(bar)], OFP13);
        r.sent();
        r.join(1);
        let barrier = r
            .sent()
            .into_iter()
            .find(|(_, m)| *m == Message::BarrierRequest)
            .unwrap()
            .0;
        assert_eq!(xid_owner(barrier), 1, "the first app sends with owner 1");
        assert!(r.c.conn(r.id).unwrap().is_outstanding(barrier));
        r.feed(&Message::BarrierReply, barrier);
        assert!(!r.c.conn(r.id).unwrap().is_outstanding(barrier));
        let err = Message::Error(ErrorMsg {
            code: ErrorCode::BadRequest(BadRequestCode::BadType),
            data: vec![],
        });
        r.feed(&err, barrier);
        r.feed(&err, make_xid(200, 5));
        assert_eq!(
            *log.lock().unwrap(),
            [
                "asker:SwitchJoin",
                "asker:BarrierReply",
                "asker:Error",
                "errs:Error"
            ],
            "bar never sees asker's barrier reply; errs sees only the unowned error"
        );
    }

    #[test]
    fn a_second_connection_with_the_same_dpid_replaces_the_first() {
        let log: Log = Arc::default();
        let mut p = Probe::new("p", EventKind::SwitchJoin, 0, &log);
        p.kinds.push((EventKind::SwitchLeave, 0));
        let mut r = Rig::new(vec![Box::new(p)], OFP10);
        r.join(5);
        let first = r.id;
        r.id = r.c.open(T0);
        r.feed(&Message::Hello(Hello::default()), 1);
        r.join(5);
        assert!(r.c.close_requested(first).unwrap().contains("replaced"));
        let mut dirty = Vec::new();
        r.c.take_dirty(&mut dirty);
        assert!(
            dirty.contains(&first),
            "the old connection's writer must notice"
        );
        assert_eq!(r.c.conn_of(DatapathId(5)), Some(r.id));
        // The old connection closing later does not make the switch leave again.
        r.c.close(first, T0);
        assert_eq!(r.c.switches().len(), 1);
        r.c.close(r.id, T0);
        assert!(r.c.switches().is_empty());
        assert_eq!(
            *log.lock().unwrap(),
            [
                "p:SwitchJoin",
                "p:SwitchLeave",
                "p:SwitchJoin",
                "p:SwitchLeave"
            ]
        );
    }

    #[test]
    fn a_broken_stream_asks_for_a_close_and_is_not_read_further() {
        let log: Log = Arc::default();
        let p = Probe::new("p", EventKind::PacketIn, 0, &log);
        let mut r = Rig::new(vec![Box::new(p)], OFP10);
        r.join(1);
        r.c.receive(r.id, &[1, 10, 0, 3, 0, 0, 0, 0], T0);
        assert!(r.c.close_requested(r.id).unwrap().contains("unframeable"));
        r.feed(&packet_in(1), 2);
        assert!(log.lock().unwrap().is_empty());
    }

    #[test]
    fn apps_are_counted_and_named_once() {
        let log: Log = Arc::default();
        let a = Probe::new("same", EventKind::PacketIn, 0, &log);
        let b = Probe::new("same", EventKind::PacketIn, 0, &log);
        assert_eq!(
            Controller::new(ConnConfig::default(), vec![Box::new(a), Box::new(b)]).err(),
            Some(ControllerError::DuplicateApp("same"))
        );
    }

    #[test]
    fn api_replies_are_claimed_before_any_routing() {
        let log: Log = Arc::default();
        let mut p = Probe::new("p", EventKind::StatsReply, 0, &log);
        p.kinds.push((EventKind::Error, 0));
        let mut r = Rig::new(vec![Box::new(p)], OFP13);
        r.join(1);
        r.sent();
        let body = flowlab_openflow::model::multipart::MultipartRequestBody::Desc;
        let a = r.c.api_request(DatapathId(1), body.clone(), T0).unwrap();
        let b = r.c.api_request(DatapathId(1), body, T0).unwrap();
        let xids: Vec<u32> = r.sent().into_iter().map(|(x, _)| x).collect();
        assert_eq!(xids.len(), 2);
        assert!(xids.iter().all(|&x| xid_owner(x) == API_OWNER));
        assert_eq!(r.c.api_waiting(), 2);
        for flags in [MORE, 0] {
            r.feed(
                &Message::MultipartReply(MultipartReply {
                    flags,
                    body: MultipartReplyBody::Table(vec![]),
                }),
                xids[0],
            );
        }
        let err = Message::Error(ErrorMsg {
            code: ErrorCode::BadRequest(BadRequestCode::BadType),
            data: vec![],
        });
        r.feed(&err, xids[1]);
        let mut done = Vec::new();
        r.c.take_api_done(&mut done);
        assert_eq!(done, [a, b]);
        assert_eq!(
            r.c.api_reply(a),
            Some(ApiReply::Done {
                parts: vec![MultipartReplyBody::Table(vec![]); 2],
                truncated: false
            })
        );
        assert!(matches!(r.c.api_reply(b), Some(ApiReply::Failed(_))));
        assert!(
            log.lock().unwrap().is_empty(),
            "no app saw the API's replies"
        );
        // An xid with the API's owner byte that the API did not send is routed as before.
        r.feed(&err, make_xid(API_OWNER, 0x77));
        assert_eq!(*log.lock().unwrap(), ["p:Error"]);
    }

    #[test]
    fn abandoned_api_requests_do_not_lock_the_api_out() {
        let mut r = Rig::new(vec![], OFP13);
        r.join(1);
        r.sent();
        let body = flowlab_openflow::model::multipart::MultipartRequestBody::Desc;
        // A switch that never answers: every request is given up on.
        for _ in 0..MAX_API_REQUESTS {
            let id = r.c.api_request(DatapathId(1), body.clone(), T0).unwrap();
            r.c.api_abandon(id);
        }
        assert_eq!(r.c.api_waiting(), 0);
        let mut live = Vec::new();
        for _ in 0..MAX_API_REQUESTS {
            live.push(r.c.api_request(DatapathId(1), body.clone(), T0).unwrap());
        }
        assert_eq!(
            r.c.api_request(DatapathId(1), body.clone(), T0),
            Err(ApiRequestError::Busy),
            "the live limit holds"
        );
        for id in live {
            r.c.api_abandon(id);
        }
        assert!(r.c.api_request(DatapathId(1), body, T0).is_ok());
    }

    #[test]
    fn stats_replies_in_parts_reach_the_requester_each_time() {
        struct Asker {
            parts: Log,
            xid: Option<u32>,
        }
        impl App for Asker {
            fn name(&self) -> &'static str {
                "asker"
            }
            fn register(&self, r: &mut Registrar) {
                r.on(EventKind::SwitchJoin, 0);
            }
            fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
                match event {
                    Event::SwitchJoin(j) => {
                        self.xid = Some(
                            ctx.stats(
                                j.dpid,
                                flowlab_openflow::model::multipart::MultipartRequestBody::Table,
                            )
                            .unwrap(),
                        );
                    }
                    Event::StatsReply(s) => {
                        assert_eq!(Some(s.xid), self.xid);
                        self.parts.lock().unwrap().push(format!("more={}", s.more));
                    }
                    _ => {}
                }
                Disposition::Continue
            }
        }
        let parts: Log = Arc::default();
        let mut r = Rig::new(
            vec![Box::new(Asker {
                parts: parts.clone(),
                xid: None,
            })],
            OFP13,
        );
        r.join(1);
        let xid = r
            .sent()
            .into_iter()
            .rev()
            .find(|(_, m)| matches!(m, Message::MultipartRequest(_)))
            .unwrap()
            .0;
        for flags in [MORE, 0] {
            r.feed(
                &Message::MultipartReply(MultipartReply {
                    flags,
                    body: MultipartReplyBody::Table(vec![]),
                }),
                xid,
            );
        }
        assert_eq!(*parts.lock().unwrap(), ["more=true", "more=false"]);
    }
}
