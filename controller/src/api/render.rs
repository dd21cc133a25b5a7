//! The API's JSON documents, rendered from the controller's state.
//!
//! Conventions, the same in every document: a datapath id is 16 lower-case hex digits
//! (as `ovs-ofctl` prints it), a MAC address `02:00:00:00:00:01`, a port its number,
//! times are seconds (with milliseconds) on the controller's clock, which starts when the
//! controller does (`now` in `/api/topology` and `/api/stats` is the present on it).

use std::time::Duration;

use flowlab_openflow::flow_text::flow_stats_to_string;
use flowlab_openflow::flow_text::{flow_mod_to_string, flow_stats_request_to_string};
use flowlab_openflow::model::multipart::{FlowStats, FlowStatsRequest, MultipartReplyBody};
use flowlab_openflow::model::port::{config, state};
use flowlab_openflow::model::{FlowMod, Port, PortNo, GROUP_ANY, TABLE_ALL};
use serde_json::{json, Value};

use super::Response;
use crate::controller::{ApiReply, Controller};
use crate::event::{AppEvent, EventKind, Host, Link, Location};
use crate::netview::{HostInfo, Mac, NetworkView};
use crate::view::{DatapathId, SwitchView};

/// Seconds with millisecond precision.
fn secs(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

fn version_name(v: u8) -> String {
    match v {
        0x01 => "1.0".into(),
        0x04 => "1.3".into(),
        other => format!("0x{other:02x}"),
    }
}

/// At most 200 characters of `s`, for echoing input in an error.
pub(super) fn printable(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn location(l: &Location) -> Value {
    json!({ "dpid": l.dpid.to_string(), "port": l.port.0 })
}

fn port(p: &Port) -> Value {
    json!({
        "no": p.port_no.0,
        "name": p.name,
        "hw_addr": Mac(p.hw_addr).to_string(),
        "config": p.config,
        "state": p.state,
        "up": p.config & config::PORT_DOWN == 0 && p.state & state::LINK_DOWN == 0,
        "curr_speed": p.curr_speed,
        "max_speed": p.max_speed,
    })
}

fn switch(s: &SwitchView) -> Value {
    let desc = s.desc.as_ref().map_or(Value::Null, |d| {
        json!({
            "mfr_desc": d.mfr_desc,
            "hw_desc": d.hw_desc,
            "sw_desc": d.sw_desc,
            "serial_num": d.serial_num,
            "dp_desc": d.dp_desc,
        })
    });
    json!({
        "dpid": s.dpid.to_string(),
        "version": version_name(s.version),
        "n_tables": s.n_tables,
        "n_buffers": s.n_buffers,
        "capabilities": s.capabilities,
        "ports_known": s.ports_known,
        "ports": s.ports.values().map(port).collect::<Vec<_>>(),
        "desc": desc,
    })
}

fn link(l: &Link) -> Value {
    json!({ "src": location(&l.src), "dst": location(&l.dst) })
}

fn host(net: &NetworkView, h: &HostInfo) -> Value {
    let names: Vec<&str> = h.ipv4.map_or(Vec::new(), |ip| net.names_of(ip).collect());
    json!({
        "mac": h.mac.to_string(),
        "ipv4": h.ipv4.map(|a| a.to_string()),
        "location": location(&h.location),
        "names": names,
        "since": secs(h.since),
        "last_seen": secs(h.last_seen),
    })
}

fn event_host(h: &Host) -> Value {
    json!({
        "mac": Mac(h.mac).to_string(),
        "ipv4": h.ipv4.map(|a| a.to_string()),
        "location": location(&h.location),
    })
}

fn event(e: &AppEvent) -> Value {
    let mut v = match e {
        AppEvent::HostJoin(h) | AppEvent::HostLeave(h) | AppEvent::HostAddress(h) => {
            json!({ "host": event_host(h) })
        }
        AppEvent::HostMove { host, from } => {
            json!({ "host": event_host(host), "from": location(from) })
        }
        AppEvent::LinkUp(l) | AppEvent::LinkDown(l) => json!({ "link": link(l) }),
        AppEvent::NameBound { name, ipv4 } => {
            json!({ "name": name, "ipv4": ipv4.to_string() })
        }
        AppEvent::ScanSuspected {
            mac,
            ipv4,
            destinations,
        } => json!({
            "mac": Mac(*mac).to_string(),
            "ipv4": ipv4.to_string(),
            "destinations": destinations,
        }),
    };
    if let Value::Object(m) = &mut v {
        m.insert("type".into(), Value::from(format!("{:?}", e.kind())));
    }
    v
}

fn switch_list(ctl: &Controller) -> Vec<Value> {
    ctl.switches().into_iter().map(switch).collect()
}

fn link_list(ctl: &Controller) -> Vec<Value> {
    ctl.network()
        .links()
        .map(|(l, info)| {
            let mut v = link(l);
            if let Value::Object(m) = &mut v {
                m.insert("since".into(), secs(info.since).into());
                m.insert("last_seen".into(), secs(info.last_seen).into());
            }
            v
        })
        .collect()
}

fn host_list(ctl: &Controller) -> Vec<Value> {
    let net = ctl.network();
    net.hosts().into_iter().map(|h| host(net, h)).collect()
}

/// `/api/switches`.
pub(super) fn switches(ctl: &Controller) -> Value {
    json!({ "switches": switch_list(ctl) })
}

/// `/api/links`.
pub(super) fn links(ctl: &Controller) -> Value {
    json!({ "links": link_list(ctl) })
}

/// `/api/hosts`.
pub(super) fn hosts(ctl: &Controller) -> Value {
    json!({ "hosts": host_list(ctl) })
}

/// `/api/names`.
pub(super) fn names(ctl: &Controller) -> Value {
    let net = ctl.network();
    let names: Vec<Value> = net
        .names()
        .map(|(name, ipv4)| {
            json!({
                "name": name,
                "ipv4": ipv4.to_string(),
                "mac": net.host_by_ipv4(ipv4).map(|h| h.mac.to_string()),
            })
        })
        .collect();
    json!({ "names": names })
}

/// `/api/topology`.
pub(super) fn topology(ctl: &Controller, now: Duration) -> Value {
    json!({
        "seq": ctl.network().seq(),
        "now": secs(now),
        "switches": switch_list(ctl),
        "links": link_list(ctl),
        "hosts": host_list(ctl),
    })
}

/// `/api/changes?since=N`.
pub(super) fn changes(ctl: &Controller, since: u64) -> Value {
    let net = ctl.network();
    let (changes, lost) = net.changes_since(since);
    let changes: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut v = event(&c.event);
            if let Value::Object(m) = &mut v {
                m.insert("seq".into(), c.seq.into());
                m.insert("at".into(), secs(c.at).into());
            }
            v
        })
        .collect();
    json!({ "seq": net.seq(), "since": since, "lost": lost, "changes": changes })
}

/// `/api/stats`.
pub(super) fn stats(ctl: &Controller, now: Duration) -> Value {
    let s = ctl.stats();
    let events: serde_json::Map<String, Value> = EventKind::ALL
        .iter()
        .map(|k| (format!("{k:?}"), Value::from(s.events[k.index()])))
        .collect();
    let net = ctl.network();
    json!({
        "now": secs(now),
        "events": events,
        "connections": s.connections,
        "posted_dropped": s.posted_dropped,
        "switches": ctl.switches().len(),
        "links": net.link_count(),
        "hosts": net.host_count(),
        "names": net.names().count(),
        "seq": net.seq(),
        "apps": ctl.app_names(),
        "api_waiting": ctl.api_waiting(),
    })
}

/// A match in `ovs-ofctl` words (empty for match-all).
fn match_text(fs: &FlowStats, version: u8) -> String {
    flow_stats_request_to_string(
        &FlowStatsRequest {
            table_id: TABLE_ALL,
            out_port: PortNo::ANY,
            out_group: GROUP_ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: fs.match_.clone(),
        },
        version,
    )
}

/// Instructions in `ovs-ofctl` words (`drop` for none).
fn actions_text(fs: &FlowStats, version: u8) -> String {
    let text = flow_mod_to_string(
        &FlowMod {
            instructions: fs.instructions.clone(),
            ..FlowMod::default()
        },
        version,
    );
    match text.find("actions=") {
        Some(i) => text[i + "actions=".len()..].to_string(),
        None => text,
    }
}

fn flow(fs: &FlowStats, version: u8) -> Value {
    json!({
        "table": fs.table_id,
        "priority": fs.priority,
        "match": match_text(fs, version),
        "actions": actions_text(fs, version),
        "cookie": format!("{:#x}", fs.cookie),
        "packets": fs.packet_count,
        "bytes": fs.byte_count,
        "duration": f64::from(fs.duration_sec) + f64::from(fs.duration_nsec / 1_000_000) / 1000.0,
        "idle_timeout": fs.idle_timeout,
        "hard_timeout": fs.hard_timeout,
        "flags": fs.flags,
        "text": flow_stats_to_string(fs, version),
    })
}

/// The response to `/api/flows/<dpid>` for the switch's reply (`Pending`: it did not
/// come in time, 504).
pub fn render_flows(dpid: DatapathId, version: u8, reply: ApiReply) -> Response {
    match reply {
        ApiReply::Pending => Response::error(
            504,
            format_args!("switch {dpid} did not answer the flow statistics request in time"),
        ),
        ApiReply::Failed(why) => Response::error(502, format_args!("switch {dpid}: {why}")),
        ApiReply::Done { parts, truncated } => {
            let flows: Vec<Value> = parts
                .iter()
                .filter_map(|p| match p {
                    MultipartReplyBody::Flow(v) => Some(v),
                    _ => None,
                })
                .flatten()
                .map(|fs| flow(fs, version))
                .collect();
            Response::json(
                200,
                &json!({
                    "dpid": dpid.to_string(),
                    "version": version_name(version),
                    "flows": flows,
                    "truncated": truncated,
                }),
            )
        }
    }
}
