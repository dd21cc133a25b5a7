//! The JSON API and the live topology page, on loopback HTTP (`--api 127.0.0.1:PORT`).
//!
//! # Snapshots under the lock, bytes outside it
//!
//! The controller is one value behind one mutex (see `driver`), and the hot path, packet-ins,
//! takes that mutex once per batch. The API must not make switches wait for a slow HTTP
//! client, so an answer is made in two steps of very different cost. Under the lock, the
//! route's part of the state is rendered into the response's JSON bytes ([`plan`]):
//! built as a `serde_json` value and serialised, so nothing borrowed escapes, and the
//! time held is that of building and serialising that part of the view. Everything else happens without the lock: reading and parsing
//! the request ([`request`]), routing it ([`route`]), and writing the bytes, however slowly
//! the client reads them ([`http`]).
//!
//! One route cannot be answered from the view: a flow table lives in the switch.
//! `/api/flows/<dpid>` plans [`Plan::AskFlows`]; the driver sends a flow-statistics request
//! through [`Controller::api_request`] (its replies are kept apart from the apps', see
//! `controller`), lets go of the lock, and waits, woken when the last part arrives, for at
//! most [`FLOWS_TIMEOUT`]; the parts are then moved out under the lock and rendered outside
//! it ([`render_flows`]).
//!
//! # What is served
//!
//! | path | document |
//! |---|---|
//! | `/` | the topology page: HTML, script and inline SVG, no external resources |
//! | `/api/switches` | switches with version, tables, ports and description |
//! | `/api/links` | links between switch ports |
//! | `/api/hosts` | hosts: MAC, IPv4, location, names, first and last seen |
//! | `/api/names` | name bindings |
//! | `/api/topology` | switches, links and hosts in one document, with the view's `seq` |
//! | `/api/changes?since=N` | the view's change feed after `N`; `lost` when some were dropped |
//! | `/api/stats` | event counters by kind, connections, dropped posted events |
//! | `/api/flows/<dpid>` | the switch's flow table, asked of the switch |
//!
//! Only `GET` is served (anything else is 405), unknown paths are 404, and every error is a
//! JSON object `{"error": "...", "status": N}`. No input makes the server panic: the parser
//! refuses what it cannot measure, and routing matches strings.
//!
//! # Loopback only, and not reachable by rebinding
//!
//! The API reads out the whole network: who is where, with which address and name. It
//! binds loopback addresses unless `--api-any` is given, and, bound to loopback, it also
//! refuses requests whose `Host` is not a loopback name or address (403): a web page on
//! another site could otherwise rebind its own name to 127.0.0.1 and read the API from the
//! user's browser.

use std::net::IpAddr;
use std::time::Duration;

use flowlab_openflow::model::multipart::{FlowStatsRequest, MultipartRequestBody};
use flowlab_openflow::model::{Match, PortNo, GROUP_ANY, TABLE_ALL};

use crate::controller::{ApiReply, ApiRequestError, Controller};
use crate::view::DatapathId;

pub mod http;
mod render;
pub mod request;

pub use render::render_flows;
pub use request::{parse_request, Parsed, Request, RequestError};

/// How long `/api/flows/<dpid>` waits for the switch's whole reply.
pub const FLOWS_TIMEOUT: Duration = Duration::from_secs(2);

/// The page's HTML (its script goes where `/*PAGE_JS*/` stands).
const PAGE_HTML: &str = include_str!("page.html");

/// The page's script.
const PAGE_JS: &str = include_str!("page.js");

/// The topology page, script inlined.
pub fn page() -> String {
    PAGE_HTML.replacen("/*PAGE_JS*/", PAGE_JS, 1)
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/`: the topology page.
    Page,
    /// `/api/switches`.
    Switches,
    /// `/api/links`.
    Links,
    /// `/api/hosts`.
    Hosts,
    /// `/api/names`.
    Names,
    /// `/api/topology`.
    Topology,
    /// `/api/changes?since=N`.
    Changes {
        /// The last change the reader has (0: none).
        since: u64,
    },
    /// `/api/stats`.
    Stats,
    /// `/api/flows/<dpid>`.
    Flows(DatapathId),
}

/// A response, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// The reason phrase of the statuses the API answers with.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

impl Response {
    /// A JSON document.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Response {
            status,
            content_type: "application/json",
            body,
        }
    }

    /// A JSON error: `{"error": why, "status": status}`.
    pub fn error(status: u16, why: impl std::fmt::Display) -> Response {
        Response::json(
            status,
            &serde_json::json!({ "error": why.to_string(), "status": status }),
        )
    }

    /// The topology page.
    pub fn page() -> Response {
        Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: page().into_bytes(),
        }
    }

    /// Appends the whole response (status line, fields, body) to `out`. `keep_alive`
    /// says whether the connection stays open after it.
    pub fn encode(&self, keep_alive: bool, out: &mut Vec<u8>) {
        use std::io::Write;
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        if self.status == 405 {
            out.extend_from_slice(b"Allow: GET\r\n");
        }
        if self.content_type.starts_with("text/html") {
            // The page needs its own inline script and style, and same-origin fetches.
            out.extend_from_slice(
                b"Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; \
                  style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:\r\n",
            );
        }
        out.extend_from_slice(if keep_alive {
            b"Connection: keep-alive\r\n\r\n"
        } else {
            b"Connection: close\r\n\r\n"
        });
        out.extend_from_slice(&self.body);
    }
}

/// Who may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiPolicy {
    /// Refuse requests whose `Host` is not loopback (set when the API is bound to a
    /// loopback address: see the module documentation).
    pub loopback_hosts_only: bool,
}

/// Whether a `Host` field names a loopback host (`localhost`, `127.x.y.z`, `[::1]`, with
/// or without a port). A missing field (HTTP/1.0) is let through.
pub fn host_is_loopback(host: Option<&str>) -> bool {
    let Some(host) = host else {
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inner, port)) if port.is_empty() || port.starts_with(':') => inner,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, _port)) => name,
            None => host,
        }
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// Parses a datapath id: 1 to 16 hex digits, optionally after `0x`, or colon-separated
/// byte pairs (`00:00:00:00:00:00:00:c1`).
pub fn parse_dpid(text: &str) -> Option<DatapathId> {
    let t = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let digits: String = if t.contains(':') {
        let pairs: Vec<&str> = t.split(':').collect();
        if pairs.len() > 8 || pairs.iter().any(|p| p.len() != 2) {
            return None;
        }
        pairs.concat()
    } else {
        t.to_string()
    };
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(&digits, 16).ok().map(DatapathId)
}

/// Routes a request to what it asks for, or to the error response to send.
pub fn route(method: &str, target: &str) -> Result<Route, Response> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" {
        return Err(Response::error(
            405,
            format_args!("method {method} not allowed: the API is read-only (GET)"),
        ));
    }
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let r = match trimmed {
        "/" | "/index.html" => Route::Page,
        "/api/switches" => Route::Switches,
        "/api/links" => Route::Links,
        "/api/hosts" => Route::Hosts,
        "/api/names" => Route::Names,
        "/api/topology" => Route::Topology,
        "/api/stats" => Route::Stats,
        "/api/changes" => {
            let mut since = 0;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if k == "since" {
                    since = v
                        .parse()
                        .map_err(|_| Response::error(400, "since takes a sequence number"))?;
                }
            }
            Route::Changes { since }
        }
        p => match p.strip_prefix("/api/flows/") {
            Some(d) if !d.contains('/') => Route::Flows(
                parse_dpid(d)
                    .ok_or_else(|| Response::error(400, "a datapath id is 1 to 16 hex digits"))?,
            ),
            _ => {
                return Err(Response::error(
                    404,
                    format_args!("no such resource: {}", render::printable(path)),
                ))
            }
        },
    };
    Ok(r)
}

/// How a routed request is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// With this response, rendered from the state.
    Respond(Response),
    /// By asking the switch for its flows (see the module documentation).
    AskFlows {
        /// The switch.
        dpid: DatapathId,
        /// Its wire version (for printing matches and actions).
        version: u8,
    },
}

/// Answers `route` from the controller's state at `now` (call under the lock: the
/// response holds only bytes).
pub fn plan(route: &Route, ctl: &Controller, now: Duration) -> Plan {
    let json = |v: serde_json::Value| Plan::Respond(Response::json(200, &v));
    match *route {
        Route::Page => Plan::Respond(Response::page()),
        Route::Switches => json(render::switches(ctl)),
        Route::Links => json(render::links(ctl)),
        Route::Hosts => json(render::hosts(ctl)),
        Route::Names => json(render::names(ctl)),
        Route::Topology => json(render::topology(ctl, now)),
        Route::Changes { since } => json(render::changes(ctl, since)),
        Route::Stats => json(render::stats(ctl, now)),
        Route::Flows(dpid) => match ctl.switch(dpid) {
            Some(s) => Plan::AskFlows {
                dpid,
                version: s.version,
            },
            None => Plan::Respond(Response::error(404, format_args!("no switch {dpid}"))),
        },
    }
}

/// The request `/api/flows/<dpid>` sends: every flow of every table.
pub fn flows_request() -> MultipartRequestBody {
    MultipartRequestBody::Flow(FlowStatsRequest {
        table_id: TABLE_ALL,
        out_port: PortNo::ANY,
        out_group: GROUP_ANY,
        cookie: 0,
        cookie_mask: 0,
        match_: Match::new(),
    })
}

/// The response when the flows request could not be sent.
pub fn request_failed(dpid: DatapathId, e: &ApiRequestError) -> Response {
    match e {
        ApiRequestError::Busy => Response::error(503, e),
        ApiRequestError::Send(s) => Response::error(502, format_args!("switch {dpid}: {s}")),
    }
}

/// The response for a reply that did not come in time.
pub fn flows_timed_out(dpid: DatapathId) -> Response {
    render_flows(dpid, 0, ApiReply::Pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, Ctx, Disposition, Flow, Registrar};
    use crate::controller::{ApiReply, API_OWNER};
    use crate::event::{Event, EventKind, Link, Location};
    use crate::harness::{agent_config, Harness};
    use crate::netview::Mac;
    use crate::switch_conn::{xid_owner, ConnConfig, OFP10, OFP13};
    use flowlab_openflow::model::OxmField;
    use serde_json::Value;
    use std::net::Ipv4Addr;
    use std::sync::{Arc, Mutex};

    fn at(dpid: u64, port: u32) -> Location {
        Location {
            dpid: DatapathId(dpid),
            port: PortNo(port),
        }
    }

    const H1: [u8; 6] = [2, 0, 0, 0, 0, 0x11];
    const H1_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 11);

    /// Writes a little network into the view once switch 2 joins, installs one flow on
    /// every switch, and logs the stats replies it sees (it should see none of the API's).
    struct Writer {
        stats_seen: Arc<Mutex<Vec<u32>>>,
    }

    impl App for Writer {
        fn name(&self) -> &'static str {
            "writer"
        }
        fn register(&self, r: &mut Registrar) {
            r.on(EventKind::SwitchJoin, 0).on(EventKind::StatsReply, 0);
        }
        fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
            match event {
                Event::SwitchJoin(j) => {
                    let now = ctx.now();
                    if j.dpid == DatapathId(2) {
                        let net = ctx.network_mut();
                        net.link_seen(
                            Link {
                                src: at(1, 1),
                                dst: at(2, 1),
                            },
                            now,
                        );
                        net.link_seen(
                            Link {
                                src: at(2, 1),
                                dst: at(1, 1),
                            },
                            now,
                        );
                        net.host_seen(Mac(H1), at(1, 2), now);
                        net.bind_ipv4(Mac(H1), H1_IP, now);
                        net.bind_name("h1.lab", H1_IP, now);
                    }
                    let flow = Flow::new(Match::new().with(OxmField::eth_dst(H1)))
                        .output(PortNo(2))
                        .priority(100)
                        .cookie(0x42);
                    ctx.install(j.dpid, flow).unwrap();
                }
                Event::StatsReply(s) => self.stats_seen.lock().unwrap().push(s.xid),
                _ => {}
            }
            Disposition::Continue
        }
    }

    /// Switch 1 (OpenFlow 1.0, ports 1-2) and switch 2 (1.3, ports 1-3) joined, the view
    /// written by [`Writer`].
    fn network() -> (Harness, Arc<Mutex<Vec<u32>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let apps: Vec<Box<dyn App>> = vec![Box::new(Writer {
            stats_seen: seen.clone(),
        })];
        let c = Controller::new(ConnConfig::default(), apps).unwrap();
        let mut h = Harness::new(c);
        h.add_switch(agent_config(1, OFP10), &[1, 2]);
        h.add_switch(agent_config(2, OFP13), &[1, 2, 3]);
        (h, seen)
    }

    fn respond(route: Route, h: &Harness) -> (u16, Value) {
        match plan(&route, h.controller(), h.now()) {
            Plan::Respond(r) => {
                assert_eq!(r.content_type, "application/json", "{route:?}");
                (r.status, serde_json::from_slice(&r.body).unwrap())
            }
            other => panic!("{route:?}: {other:?}"),
        }
    }

    #[test]
    fn targets_route_to_what_they_ask_for() {
        let ok = |t: &str| route("GET", t).unwrap();
        assert_eq!(ok("/"), Route::Page);
        assert_eq!(ok("/index.html"), Route::Page);
        assert_eq!(ok("/api/switches"), Route::Switches);
        assert_eq!(ok("/api/switches/"), Route::Switches);
        assert_eq!(ok("/api/links?x=1"), Route::Links);
        assert_eq!(ok("/api/hosts"), Route::Hosts);
        assert_eq!(ok("/api/names"), Route::Names);
        assert_eq!(ok("/api/topology"), Route::Topology);
        assert_eq!(ok("/api/stats"), Route::Stats);
        assert_eq!(ok("/api/changes"), Route::Changes { since: 0 });
        assert_eq!(ok("/api/changes?x=&since=42"), Route::Changes { since: 42 });
        assert_eq!(ok("/api/flows/c1"), Route::Flows(DatapathId(0xc1)));
        assert_eq!(
            ok("/api/flows/00000000000000c1"),
            Route::Flows(DatapathId(0xc1))
        );
        let status = |m: &str, t: &str| route(m, t).unwrap_err().status;
        assert_eq!(status("POST", "/api/switches"), 405);
        assert_eq!(status("HEAD", "/"), 405);
        assert_eq!(status("get", "/"), 405, "methods are case-sensitive");
        assert_eq!(status("GET", "/api"), 404);
        assert_eq!(status("GET", "/api/switchesx"), 404);
        assert_eq!(status("GET", "/api/flows/1/2"), 404);
        assert_eq!(status("GET", "/api/flows/"), 404);
        assert_eq!(status("GET", "/api/flows/x:y"), 400);
        assert_eq!(status("GET", "/api/flows/xyz"), 400);
        assert_eq!(status("GET", "/api/flows/12345678901234567"), 400);
        assert_eq!(status("GET", "/api/changes?since=-1"), 400);
        assert_eq!(status("GET", "/api/changes?since"), 400);
        let e = route("GET", "/nope").unwrap_err();
        let v: Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(v["status"], 404);
        assert!(v["error"].as_str().unwrap().contains("/nope"));
    }

    #[test]
    fn datapath_ids_and_loopback_hosts_parse() {
        assert_eq!(parse_dpid("0xC1"), Some(DatapathId(0xc1)));
        assert_eq!(
            parse_dpid("00:00:00:00:00:00:00:c1"),
            Some(DatapathId(0xc1))
        );
        assert_eq!(parse_dpid("ffffffffffffffff"), Some(DatapathId(u64::MAX)));
        for bad in [
            "",
            "0x",
            "g1",
            "1:2",
            "00:00:00:00:00:00:00:00:01",
            "+1",
            "-1",
        ] {
            assert_eq!(parse_dpid(bad), None, "{bad}");
        }
        for good in [
            None,
            Some("localhost"),
            Some("LOCALHOST:8080"),
            Some("127.0.0.1:1"),
            Some("127.9.9.9"),
            Some("[::1]:80"),
            Some("[::1]"),
        ] {
            assert!(host_is_loopback(good), "{good:?}");
        }
        for bad in [
            "evil.example",
            "evil.example:80",
            "10.0.0.1",
            "[::2]",
            "[::1",
            "[::1]x",
            "",
            "localhost.evil.example",
        ] {
            assert!(!host_is_loopback(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn responses_carry_their_length_and_connection() {
        let r = Response::error(404, "no such thing");
        let mut out = Vec::new();
        r.encode(true, &mut out);
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(head.contains("Content-Type: application/json"));
        assert!(head.ends_with("Connection: keep-alive"));
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": "no such thing", "status": 404})
        );
    }

    #[test]
    fn the_page_is_self_contained() {
        let p = page();
        assert!(
            p.contains("fetch(\"/api/topology\""),
            "the script is inlined"
        );
        assert!(!p.contains("/*PAGE_JS*/"));
        assert!(p.contains("<svg id=\"topology\""));
        for external in [" src=", "href=", "@import", "url("] {
            assert!(!p.contains(external), "{external} in the page");
        }
        // The only absolute URL is the SVG namespace name.
        assert_eq!(
            p.matches("http://").count(),
            p.matches("http://www.w3.org/2000/svg").count()
        );
        let r = Response::page();
        let mut out = Vec::new();
        r.encode(false, &mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("Content-Type: text/html; charset=utf-8"));
        assert!(text.contains("Content-Security-Policy: default-src 'none'"));
    }

    #[test]
    fn switches_links_hosts_and_names_render_from_the_state() {
        let (h, _) = network();
        let (status, v) = respond(Route::Switches, &h);
        assert_eq!(status, 200);
        let sw = v["switches"].as_array().unwrap();
        assert_eq!(sw.len(), 2);
        assert_eq!(sw[0]["dpid"], "0000000000000001");
        assert_eq!(sw[0]["version"], "1.0");
        assert_eq!(sw[1]["dpid"], "0000000000000002");
        assert_eq!(sw[1]["version"], "1.3");
        assert_eq!(sw[1]["n_tables"], 4);
        let ports: Vec<u64> = sw[1]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["no"].as_u64().unwrap())
            .filter(|&n| n < 0xffff_ff00)
            .collect();
        assert_eq!(ports, [1, 2, 3]);
        let p1 = &sw[1]["ports"][0];
        assert_eq!(p1["name"], "p1");
        assert_eq!(p1["up"], true);
        assert_eq!(p1["hw_addr"].as_str().unwrap().len(), 17);

        let (_, v) = respond(Route::Links, &h);
        let links = v["links"].as_array().unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(
            links[0]["src"],
            serde_json::json!({"dpid": "0000000000000001", "port": 1})
        );
        assert_eq!(
            links[0]["dst"],
            serde_json::json!({"dpid": "0000000000000002", "port": 1})
        );
        assert_eq!(links[0]["since"], h.now().as_secs_f64());

        let (_, v) = respond(Route::Hosts, &h);
        assert_eq!(
            v["hosts"],
            serde_json::json!([{
                "mac": "02:00:00:00:00:11",
                "ipv4": "198.51.100.11",
                "location": {"dpid": "0000000000000001", "port": 2},
                "names": ["h1.lab"],
                "since": h.now().as_secs_f64(),
                "last_seen": h.now().as_secs_f64(),
            }])
        );
        let (_, v) = respond(Route::Names, &h);
        assert_eq!(
            v["names"],
            serde_json::json!([{"name": "h1.lab", "ipv4": "198.51.100.11", "mac": "02:00:00:00:00:11"}])
        );

        let (_, v) = respond(Route::Topology, &h);
        assert_eq!(v["seq"], h.controller().network().seq());
        assert_eq!(v["switches"].as_array().unwrap().len(), 2);
        assert_eq!(v["links"].as_array().unwrap().len(), 2);
        assert_eq!(v["hosts"].as_array().unwrap().len(), 1);
        assert_eq!(v["now"], h.now().as_secs_f64());
    }

    #[test]
    fn the_change_feed_and_the_counters_render() {
        let (h, _) = network();
        let seq = h.controller().network().seq();
        assert_eq!(seq, 5, "two links, a host, its address, a name");
        let (_, v) = respond(Route::Changes { since: 0 }, &h);
        assert_eq!(v["lost"], false);
        let types: Vec<&str> = v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["LinkUp", "LinkUp", "HostJoin", "HostAddress", "NameBound"]
        );
        assert_eq!(v["changes"][0]["seq"], 1);
        assert_eq!(v["changes"][0]["link"]["src"]["dpid"], "0000000000000001");
        assert_eq!(v["changes"][3]["host"]["ipv4"], "198.51.100.11");
        assert_eq!(v["changes"][4]["name"], "h1.lab");
        let (_, v) = respond(Route::Changes { since: 3 }, &h);
        assert_eq!(v["changes"].as_array().unwrap().len(), 2);
        assert_eq!(v["seq"], seq);
        let (_, v) = respond(Route::Changes { since: seq }, &h);
        assert!(v["changes"].as_array().unwrap().is_empty());

        let (_, v) = respond(Route::Stats, &h);
        assert_eq!(v["events"]["SwitchJoin"], 2);
        assert_eq!(v["events"]["LinkUp"], 2);
        assert_eq!(v["events"]["HostJoin"], 1);
        assert_eq!(v["events"]["PacketIn"], 0);
        assert_eq!(
            v["events"].as_object().unwrap().len(),
            EventKind::COUNT,
            "every kind, by name"
        );
        assert_eq!(v["connections"], 2);
        assert_eq!(v["posted_dropped"], 0);
        assert_eq!(v["switches"], 2);
        assert_eq!(v["apps"], serde_json::json!(["writer"]));
    }

    /// Asks switch `dpid` for its flows through the API path and renders the answer.
    fn flows_of(h: &mut Harness, dpid: u64) -> (u16, Value) {
        let route = Route::Flows(DatapathId(dpid));
        let Plan::AskFlows { dpid, version } = plan(&route, h.controller(), h.now()) else {
            panic!("switch {dpid} should be asked")
        };
        let now = h.now();
        let id = h
            .controller_mut()
            .api_request(dpid, flows_request(), now)
            .unwrap();
        assert_eq!(h.controller().api_waiting(), 1);
        assert_eq!(h.controller_mut().api_reply(id), Some(ApiReply::Pending));
        h.run();
        let mut done = Vec::new();
        h.controller_mut().take_api_done(&mut done);
        assert_eq!(done, [id]);
        let reply = h.controller_mut().api_reply(id).unwrap();
        assert_eq!(h.controller_mut().api_reply(id), None, "handed over once");
        let r = render_flows(dpid, version, reply);
        (r.status, serde_json::from_slice(&r.body).unwrap())
    }

    #[test]
    fn flows_are_asked_of_the_switch_and_printed_like_ovs_ofctl() {
        let (mut h, seen) = network();
        for (dpid, version) in [(1, "1.0"), (2, "1.3")] {
            let (status, v) = flows_of(&mut h, dpid);
            assert_eq!(status, 200, "{v}");
            assert_eq!(v["version"], version);
            assert_eq!(v["truncated"], false);
            let flows = v["flows"].as_array().unwrap();
            let ours = flows
                .iter()
                .find(|f| f["priority"] == 100)
                .unwrap_or_else(|| panic!("{v}"));
            assert_eq!(ours["match"], "dl_dst=02:00:00:00:00:11");
            assert_eq!(ours["actions"], "output:2");
            assert_eq!(ours["cookie"], "0x42");
            assert_eq!(ours["table"], 0);
            assert_eq!(ours["packets"], 0);
            let text = ours["text"].as_str().unwrap();
            assert!(
                text.starts_with("cookie=0x42, duration=")
                    && text.ends_with("priority=100,dl_dst=02:00:00:00:00:11 actions=output:2"),
                "{text}"
            );
            if version == "1.3" {
                // The controller's own table-miss entry.
                let miss = flows.iter().find(|f| f["priority"] == 0).unwrap();
                assert_eq!(miss["match"], "");
                assert_eq!(miss["actions"], "CONTROLLER:65535");
            }
        }
        assert!(
            seen.lock().unwrap().is_empty(),
            "the API's replies never reach an app"
        );
        assert_eq!(
            h.controller().stats().events[EventKind::StatsReply.index()],
            0
        );
        // An unknown switch is not asked.
        assert_eq!(
            plan(&Route::Flows(DatapathId(9)), h.controller(), h.now()),
            Plan::Respond(Response::error(404, "no switch 0000000000000009"))
        );
    }

    #[test]
    fn abandoned_and_orphaned_requests_end_quietly() {
        let (mut h, seen) = network();
        let now = h.now();
        let ctl = h.controller_mut();
        let a = ctl
            .api_request(DatapathId(1), flows_request(), now)
            .unwrap();
        ctl.api_abandon(a);
        h.run();
        let mut done = Vec::new();
        h.controller_mut().take_api_done(&mut done);
        assert!(done.is_empty(), "nobody waits for an abandoned request");
        assert_eq!(h.controller_mut().api_reply(a), None);
        assert_eq!(h.controller().api_waiting(), 0);
        assert!(seen.lock().unwrap().is_empty());

        // The switch leaves before it answers.
        let b = h
            .controller_mut()
            .api_request(DatapathId(2), flows_request(), now)
            .unwrap();
        h.disconnect(1);
        h.controller_mut().take_api_done(&mut done);
        assert_eq!(done, [b]);
        assert!(matches!(
            h.controller_mut().api_reply(b),
            Some(ApiReply::Failed(why)) if why.contains("closed")
        ));
        assert_eq!(
            h.controller_mut()
                .api_request(DatapathId(2), flows_request(), now)
                .unwrap_err()
                .to_string(),
            "no switch 0000000000000002"
        );
        assert_eq!(xid_owner(0xff00_0001), API_OWNER);
        // A reply that never came is a timeout.
        assert_eq!(flows_timed_out(DatapathId(1)).status, 504);
    }

    #[test]
    fn api_requests_are_bounded_and_expire() {
        let (mut h, _) = network();
        let now = h.now();
        let ctl = h.controller_mut();
        let mut ids = Vec::new();
        for _ in 0..crate::controller::MAX_API_REQUESTS {
            ids.push(
                ctl.api_request(DatapathId(1), flows_request(), now)
                    .unwrap(),
            );
        }
        let busy = ctl
            .api_request(DatapathId(1), flows_request(), now)
            .unwrap_err();
        assert_eq!(request_failed(DatapathId(1), &busy).status, 503);
        // Time passes without the switch being heard (nothing is run): all are forgotten.
        ctl.tick(now + crate::controller::API_REQUEST_TTL);
        assert_eq!(ctl.api_waiting(), 0);
        assert_eq!(ctl.api_reply(ids[0]), None);
        assert!(ctl.api_request(DatapathId(1), flows_request(), now).is_ok());
    }
}
