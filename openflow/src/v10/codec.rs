//! OpenFlow 1.0 messages and stats bodies to and from the model.
//!
//! Fields 1.0 lacks decode to the defaults the model documents; on encoding, fields that
//! 1.0 cannot carry are ignored where they are informational (a packet-in's table and
//! cookie, a flow-removed's hard timeout) and refused where dropping them would change
//! what the peer does (a flow-mod's cookie mask or out group, instructions beyond one
//! apply-actions).

use super::action::{decode_actions, encode_actions, from_instructions, to_instructions};
use super::match10::MatchV10;
use super::msg_type as mt;
use super::stats_type as st;
use super::{size, VERSION};
use crate::codec::{begin, decode_error, encode_error, finish};
use crate::error::{DecodeError, EncodeError};
use crate::model::multipart::*;
use crate::model::port::{features, Port};
use crate::model::*;
use crate::v13::codec::{decode_queue_props, encode_queue_props};
use crate::v13::multipart::{port_counters, port_stats};
use crate::wire::{Reader, Writer};
use crate::Header;

fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported {
        version: VERSION,
        what,
    }
}

fn port16(p: PortNo) -> Result<u16, EncodeError> {
    p.to_v10().ok_or(unsupported("32-bit port number"))
}

fn read_match(r: &mut Reader<'_>) -> Result<Match, DecodeError> {
    Ok(MatchV10::parse(r)?.to_match())
}

fn write_match(w: &mut Writer<'_>, m: &Match) -> Result<(), EncodeError> {
    MatchV10::from_match(m)?.emit(w);
    Ok(())
}

/// Decodes the body of a 1.0 message (hello and echo are handled by the caller).
pub(crate) fn decode(h: &Header, body: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader::new(body, "message body");
    let empty = |r: &Reader<'_>, m: Message| r.end("empty message").map(|_| m);
    let m = match h.msg_type {
        mt::ERROR => return decode_error(VERSION, body),
        mt::VENDOR => {
            if r.remaining() < 8 {
                return Err(DecodeError::BadLength {
                    what: "ofp_vendor_header",
                    len: body.len(),
                });
            }
            Message::Experimenter(Experimenter {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest().to_vec(),
            })
        }
        mt::FEATURES_REQUEST => empty(&r, Message::FeaturesRequest)?,
        mt::FEATURES_REPLY => {
            let datapath_id = r.u64()?;
            let n_buffers = r.u32()?;
            let n_tables = r.u8()?;
            r.skip(3)?;
            let capabilities = r.u32()?;
            let actions = r.u32()?;
            let mut ports = Vec::new();
            while !r.is_empty() {
                ports.push(decode_port(&mut r)?);
            }
            Message::FeaturesReply(SwitchFeatures {
                datapath_id,
                n_buffers,
                n_tables,
                auxiliary_id: 0,
                capabilities,
                actions,
                ports,
            })
        }
        mt::GET_CONFIG_REQUEST => empty(&r, Message::GetConfigRequest)?,
        mt::GET_CONFIG_REPLY | mt::SET_CONFIG => {
            let c = SwitchConfig {
                flags: r.u16()?,
                miss_send_len: r.u16()?,
            };
            r.end("ofp_switch_config")?;
            if h.msg_type == mt::SET_CONFIG {
                Message::SetConfig(c)
            } else {
                Message::GetConfigReply(c)
            }
        }
        mt::PACKET_IN => {
            let buffer_id = r.u32()?;
            let total_len = r.u16()?;
            let in_port = PortNo::from_v10(r.u16()?);
            let reason = r.u8()?;
            r.skip(1)?;
            Message::PacketIn(PacketIn {
                buffer_id,
                total_len,
                reason,
                table_id: 0,
                cookie: u64::MAX,
                match_: Match::from_fields(vec![OxmField::in_port(in_port)]),
                data: r.rest().to_vec(),
            })
        }
        mt::FLOW_REMOVED => {
            let match_ = read_match(&mut r)?;
            let cookie = r.u64()?;
            let priority = r.u16()?;
            let reason = r.u8()?;
            r.skip(1)?;
            let duration_sec = r.u32()?;
            let duration_nsec = r.u32()?;
            let idle_timeout = r.u16()?;
            r.skip(2)?;
            let fr = FlowRemoved {
                cookie,
                priority,
                reason,
                table_id: 0,
                duration_sec,
                duration_nsec,
                idle_timeout,
                hard_timeout: 0,
                packet_count: r.u64()?,
                byte_count: r.u64()?,
                match_,
            };
            r.end("ofp_flow_removed")?;
            Message::FlowRemoved(fr)
        }
        mt::PORT_STATUS => {
            let reason = r.u8()?;
            r.skip(7)?;
            let desc = decode_port(&mut r)?;
            r.end("ofp_port_status")?;
            Message::PortStatus(PortStatus { reason, desc })
        }
        mt::PACKET_OUT => {
            let buffer_id = r.u32()?;
            let in_port = PortNo::from_v10(r.u16()?);
            let actions_len = usize::from(r.u16()?);
            let mut a = r.sub(actions_len, "packet_out actions")?;
            let actions = decode_actions(&mut a)?;
            Message::PacketOut(PacketOut {
                buffer_id,
                in_port,
                actions,
                data: r.rest().to_vec(),
            })
        }
        mt::FLOW_MOD => {
            let match_ = read_match(&mut r)?;
            let cookie = r.u64()?;
            let command = FlowModCommand::from_u16(r.u16()?);
            let idle_timeout = r.u16()?;
            let hard_timeout = r.u16()?;
            let priority = r.u16()?;
            let buffer_id = r.u32()?;
            let out_port = PortNo::from_v10(r.u16()?);
            let flags = r.u16()?;
            let actions = decode_actions(&mut r)?;
            Message::FlowMod(FlowMod {
                cookie,
                cookie_mask: 0,
                table_id: if command.is_delete() { TABLE_ALL } else { 0 },
                command,
                idle_timeout,
                hard_timeout,
                priority,
                buffer_id,
                out_port,
                out_group: GROUP_ANY,
                flags,
                match_,
                instructions: to_instructions(actions),
            })
        }
        mt::PORT_MOD => {
            let pm = PortMod {
                port_no: PortNo::from_v10(r.u16()?),
                hw_addr: r.array()?,
                config: r.u32()?,
                mask: r.u32()?,
                advertise: features::from_v10(r.u32()?),
            };
            r.skip(4)?;
            r.end("ofp_port_mod")?;
            Message::PortMod(pm)
        }
        mt::STATS_REQUEST => Message::MultipartRequest(decode_stats_request(&mut r)?),
        mt::STATS_REPLY => Message::MultipartReply(decode_stats_reply(&mut r)?),
        mt::BARRIER_REQUEST => empty(&r, Message::BarrierRequest)?,
        mt::BARRIER_REPLY => empty(&r, Message::BarrierReply)?,
        mt::QUEUE_GET_CONFIG_REQUEST => {
            let port = PortNo::from_v10(r.u16()?);
            r.skip(2)?;
            r.end("ofp_queue_get_config_request")?;
            Message::QueueGetConfigRequest(port)
        }
        mt::QUEUE_GET_CONFIG_REPLY => {
            let port = PortNo::from_v10(r.u16()?);
            r.skip(6)?;
            let mut queues = Vec::new();
            while !r.is_empty() {
                let len = usize::from(r.peek_u16(4).unwrap_or(0));
                if len < size::PACKET_QUEUE {
                    return Err(DecodeError::BadLength {
                        what: "ofp_packet_queue",
                        len,
                    });
                }
                let mut q = r.sub(len, "ofp_packet_queue")?;
                let queue_id = q.u32()?;
                q.skip(4)?;
                let properties = decode_queue_props(&mut q, false)?;
                queues.push(PacketQueue {
                    queue_id,
                    port,
                    properties,
                });
            }
            Message::QueueGetConfigReply(QueueGetConfigReply { port, queues })
        }
        t => {
            return Err(DecodeError::BadType {
                version: VERSION,
                msg_type: t,
            })
        }
    };
    Ok(m)
}

/// Encodes a 1.0 message (header included; hello and echo are handled by the caller).
pub(crate) fn encode(xid: u32, msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let t = match msg {
        Message::Hello(_) => mt::HELLO,
        Message::Error(_) => mt::ERROR,
        Message::EchoRequest(_) => mt::ECHO_REQUEST,
        Message::EchoReply(_) => mt::ECHO_REPLY,
        Message::Experimenter(_) => mt::VENDOR,
        Message::FeaturesRequest => mt::FEATURES_REQUEST,
        Message::FeaturesReply(_) => mt::FEATURES_REPLY,
        Message::GetConfigRequest => mt::GET_CONFIG_REQUEST,
        Message::GetConfigReply(_) => mt::GET_CONFIG_REPLY,
        Message::SetConfig(_) => mt::SET_CONFIG,
        Message::PacketIn(_) => mt::PACKET_IN,
        Message::FlowRemoved(_) => mt::FLOW_REMOVED,
        Message::PortStatus(_) => mt::PORT_STATUS,
        Message::PacketOut(_) => mt::PACKET_OUT,
        Message::FlowMod(_) => mt::FLOW_MOD,
        Message::PortMod(_) => mt::PORT_MOD,
        Message::MultipartRequest(_) => mt::STATS_REQUEST,
        Message::MultipartReply(_) => mt::STATS_REPLY,
        Message::BarrierRequest => mt::BARRIER_REQUEST,
        Message::BarrierReply => mt::BARRIER_REPLY,
        Message::QueueGetConfigRequest(_) => mt::QUEUE_GET_CONFIG_REQUEST,
        Message::QueueGetConfigReply(_) => mt::QUEUE_GET_CONFIG_REPLY,
        Message::GroupMod(_) => return Err(unsupported("group_mod")),
        Message::TableMod(_) => return Err(unsupported("table_mod")),
        Message::RoleRequest(_) | Message::RoleReply(_) => {
            return Err(unsupported("role messages"))
        }
        Message::GetAsyncRequest | Message::GetAsyncReply(_) | Message::SetAsync(_) => {
            return Err(unsupported("async config messages"))
        }
        Message::MeterMod(_) => return Err(unsupported("meter_mod")),
    };
    let (mut w, start) = begin(out, VERSION, t, xid);
    let w = &mut w;
    match msg {
        Message::Error(e) => encode_error(w, VERSION, e)?,
        Message::Experimenter(e) => {
            w.u32(e.experimenter);
            w.u32(e.exp_type);
            w.bytes(&e.data);
        }
        Message::FeaturesReply(f) => {
            w.u64(f.datapath_id);
            w.u32(f.n_buffers);
            w.u8(f.n_tables);
            w.zeros(3);
            w.u32(f.capabilities);
            w.u32(f.actions);
            for p in &f.ports {
                encode_port(w, p)?;
            }
        }
        Message::GetConfigReply(c) | Message::SetConfig(c) => {
            w.u16(c.flags);
            w.u16(c.miss_send_len);
        }
        Message::PacketIn(p) => {
            let in_port = p.in_port().ok_or(EncodeError::BadValue {
                what: "packet_in without in_port",
            })?;
            w.u32(p.buffer_id);
            w.u16(p.total_len);
            w.u16(port16(in_port)?);
            w.u8(p.reason);
            w.zeros(1);
            w.bytes(&p.data);
        }
        Message::FlowRemoved(f) => {
            write_match(w, &f.match_)?;
            w.u64(f.cookie);
            w.u16(f.priority);
            w.u8(f.reason);
            w.zeros(1);
            w.u32(f.duration_sec);
            w.u32(f.duration_nsec);
            w.u16(f.idle_timeout);
            w.zeros(2);
            w.u64(f.packet_count);
            w.u64(f.byte_count);
        }
        Message::PortStatus(p) => {
            w.u8(p.reason);
            w.zeros(7);
            encode_port(w, &p.desc)?;
        }
        Message::PacketOut(p) => {
            w.u32(p.buffer_id);
            w.u16(port16(p.in_port)?);
            let len_at = w.pos();
            w.u16(0);
            let actions_start = w.pos();
            encode_actions(w, &p.actions)?;
            w.patch_len16(len_at, actions_start, "packet_out actions")?;
            w.bytes(&p.data);
        }
        Message::FlowMod(f) => {
            if f.cookie_mask != 0 {
                return Err(unsupported("flow_mod cookie_mask"));
            }
            if f.out_group != GROUP_ANY {
                return Err(unsupported("flow_mod out_group"));
            }
            if f.table_id != 0 && f.table_id != TABLE_ALL {
                return Err(unsupported("flow_mod table_id other than 0"));
            }
            let actions = from_instructions(&f.instructions)?;
            write_match(w, &f.match_)?;
            w.u64(f.cookie);
            w.u16(f.command.to_u16());
            w.u16(f.idle_timeout);
            w.u16(f.hard_timeout);
            w.u16(f.priority);
            w.u32(f.buffer_id);
            w.u16(port16(f.out_port)?);
            w.u16(f.flags);
            encode_actions(w, actions)?;
        }
        Message::PortMod(p) => {
            w.u16(port16(p.port_no)?);
            w.bytes(&p.hw_addr);
            w.u32(p.config);
            w.u32(p.mask);
            w.u32(features::to_v10(p.advertise));
            w.zeros(4);
        }
        Message::MultipartRequest(m) => encode_stats_request(w, m)?,
        Message::MultipartReply(m) => encode_stats_reply(w, m)?,
        Message::QueueGetConfigRequest(p) => {
            w.u16(port16(*p)?);
            w.zeros(2);
        }
        Message::QueueGetConfigReply(q) => {
            w.u16(port16(q.port)?);
            w.zeros(6);
            for queue in &q.queues {
                let s = w.pos();
                w.u32(queue.queue_id);
                w.u16(0);
                w.zeros(2);
                encode_queue_props(w, &queue.properties, VERSION)?;
                w.patch_len16(s + 4, s, "ofp_packet_queue")?;
            }
        }
        _ => {}
    }
    finish(w, start)
}

fn decode_port(r: &mut Reader<'_>) -> Result<Port, DecodeError> {
    let mut p = r.sub(size::PHY_PORT, "ofp_phy_port")?;
    Ok(Port {
        port_no: PortNo::from_v10(p.u16()?),
        hw_addr: p.array()?,
        name: p.text(16)?,
        config: p.u32()?,
        state: p.u32()?,
        curr: features::from_v10(p.u32()?),
        advertised: features::from_v10(p.u32()?),
        supported: features::from_v10(p.u32()?),
        peer: features::from_v10(p.u32()?),
        curr_speed: 0,
        max_speed: 0,
    })
}

fn encode_port(w: &mut Writer<'_>, p: &Port) -> Result<(), EncodeError> {
    w.u16(port16(p.port_no)?);
    w.bytes(&p.hw_addr);
    w.text(&p.name, 16, "port name")?;
    w.u32(p.config);
    w.u32(p.state);
    for f in [p.curr, p.advertised, p.supported, p.peer] {
        w.u32(features::to_v10(f));
    }
    Ok(())
}

fn decode_stats_request(r: &mut Reader<'_>) -> Result<MultipartRequest, DecodeError> {
    let t = r.u16()?;
    let flags = r.u16()?;
    use MultipartRequestBody as B;
    let body = match t {
        st::DESC => B::Desc,
        st::FLOW | st::AGGREGATE => {
            let match_ = read_match(r)?;
            let table_id = r.u8()?;
            r.skip(1)?;
            let req = FlowStatsRequest {
                table_id,
                out_port: PortNo::from_v10(r.u16()?),
                out_group: GROUP_ANY,
                cookie: 0,
                cookie_mask: 0,
                match_,
            };
            if t == st::FLOW {
                B::Flow(req)
            } else {
                B::Aggregate(req)
            }
        }
        st::TABLE => B::Table,
        st::PORT => {
            let p = PortNo::from_v10(r.u16()?);
            r.skip(6)?;
            B::PortStats(p)
        }
        st::QUEUE => {
            let port_no = PortNo::from_v10(r.u16()?);
            r.skip(2)?;
            B::Queue {
                port_no,
                queue_id: r.u32()?,
            }
        }
        st::VENDOR => B::Experimenter {
            experimenter: r.u32()?,
            exp_type: r.u32()?,
            data: r.rest().to_vec(),
        },
        other => return Err(DecodeError::BadMultipart(other)),
    };
    r.end("ofp_stats_request")?;
    Ok(MultipartRequest { flags, body })
}

fn encode_stats_request(w: &mut Writer<'_>, m: &MultipartRequest) -> Result<(), EncodeError> {
    use MultipartRequestBody as B;
    let t = match &m.body {
        B::Desc => st::DESC,
        B::Flow(_) => st::FLOW,
        B::Aggregate(_) => st::AGGREGATE,
        B::Table => st::TABLE,
        B::PortStats(_) => st::PORT,
        B::Queue { .. } => st::QUEUE,
        B::Experimenter { .. } => st::VENDOR,
        _ => return Err(unsupported("multipart request type")),
    };
    w.u16(t);
    w.u16(m.flags);
    match &m.body {
        B::Flow(req) | B::Aggregate(req) => {
            if req.cookie_mask != 0 || req.out_group != GROUP_ANY {
                return Err(unsupported("flow stats cookie or out_group"));
            }
            write_match(w, &req.match_)?;
            w.u8(req.table_id);
            w.zeros(1);
            w.u16(port16(req.out_port)?);
        }
        B::PortStats(p) => {
            w.u16(port16(*p)?);
            w.zeros(6);
        }
        B::Queue { port_no, queue_id } => {
            w.u16(port16(*port_no)?);
            w.zeros(2);
            w.u32(*queue_id);
        }
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => {
            w.u32(*experimenter);
            w.u32(*exp_type);
            w.bytes(data);
        }
        _ => {}
    }
    Ok(())
}

fn decode_stats_reply(r: &mut Reader<'_>) -> Result<MultipartReply, DecodeError> {
    let t = r.u16()?;
    let flags = r.u16()?;
    use MultipartReplyBody as B;
    let body = match t {
        st::DESC => B::Desc(DescStats {
            mfr_desc: r.text(256)?,
            hw_desc: r.text(256)?,
            sw_desc: r.text(256)?,
            serial_num: r.text(32)?,
            dp_desc: r.text(256)?,
        }),
        st::FLOW => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let len = usize::from(r.peek_u16(0).unwrap_or(0));
                if len < size::FLOW_STATS {
                    return Err(DecodeError::BadLength {
                        what: "ofp_flow_stats",
                        len,
                    });
                }
                let mut f = r.sub(len, "ofp_flow_stats")?;
                f.skip(2)?;
                let table_id = f.u8()?;
                f.skip(1)?;
                let match_ = read_match(&mut f)?;
                let duration_sec = f.u32()?;
                let duration_nsec = f.u32()?;
                let priority = f.u16()?;
                let idle_timeout = f.u16()?;
                let hard_timeout = f.u16()?;
                f.skip(6)?;
                list.push(FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags: 0,
                    cookie: f.u64()?,
                    packet_count: f.u64()?,
                    byte_count: f.u64()?,
                    match_,
                    instructions: to_instructions(decode_actions(&mut f)?),
                });
            }
            B::Flow(list)
        }
        st::AGGREGATE => {
            let a = AggregateStats {
                packet_count: r.u64()?,
                byte_count: r.u64()?,
                flow_count: r.u32()?,
            };
            r.skip(4)?;
            B::Aggregate(a)
        }
        st::TABLE => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let table_id = r.u8()?;
                r.skip(3)?;
                list.push(TableStats {
                    table_id,
                    name: r.text(32)?,
                    wildcards: r.u32()?,
                    max_entries: r.u32()?,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                });
            }
            B::Table(list)
        }
        st::PORT => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let port_no = PortNo::from_v10(r.u16()?);
                r.skip(6)?;
                let mut c = [0u64; 12];
                for v in &mut c {
                    *v = r.u64()?;
                }
                list.push(port_stats(port_no, c, 0, 0));
            }
            B::PortStats(list)
        }
        st::QUEUE => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let port_no = PortNo::from_v10(r.u16()?);
                r.skip(2)?;
                list.push(QueueStats {
                    port_no,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: 0,
                    duration_nsec: 0,
                });
            }
            B::Queue(list)
        }
        st::VENDOR => B::Experimenter {
            experimenter: r.u32()?,
            exp_type: r.u32()?,
            data: r.rest().to_vec(),
        },
        other => return Err(DecodeError::BadMultipart(other)),
    };
    r.end("ofp_stats_reply")?;
    Ok(MultipartReply { flags, body })
}

fn encode_stats_reply(w: &mut Writer<'_>, m: &MultipartReply) -> Result<(), EncodeError> {
    use MultipartReplyBody as B;
    let t = match &m.body {
        B::Desc(_) => st::DESC,
        B::Flow(_) => st::FLOW,
        B::Aggregate(_) => st::AGGREGATE,
        B::Table(_) => st::TABLE,
        B::PortStats(_) => st::PORT,
        B::Queue(_) => st::QUEUE,
        B::Experimenter { .. } => st::VENDOR,
        _ => return Err(unsupported("multipart reply type")),
    };
    w.u16(t);
    w.u16(m.flags);
    match &m.body {
        B::Desc(d) => {
            w.text(&d.mfr_desc, 256, "mfr_desc")?;
            w.text(&d.hw_desc, 256, "hw_desc")?;
            w.text(&d.sw_desc, 256, "sw_desc")?;
            w.text(&d.serial_num, 32, "serial_num")?;
            w.text(&d.dp_desc, 256, "dp_desc")?;
        }
        B::Flow(list) => {
            for f in list {
                let actions = from_instructions(&f.instructions)?;
                let start = w.pos();
                w.u16(0);
                w.u8(f.table_id);
                w.zeros(1);
                write_match(w, &f.match_)?;
                w.u32(f.duration_sec);
                w.u32(f.duration_nsec);
                w.u16(f.priority);
                w.u16(f.idle_timeout);
                w.u16(f.hard_timeout);
                w.zeros(6);
                w.u64(f.cookie);
                w.u64(f.packet_count);
                w.u64(f.byte_count);
                encode_actions(w, actions)?;
                w.patch_len16(start, start, "ofp_flow_stats")?;
            }
        }
        B::Aggregate(a) => {
            w.u64(a.packet_count);
            w.u64(a.byte_count);
            w.u32(a.flow_count);
            w.zeros(4);
        }
        B::Table(list) => {
            for s in list {
                w.u8(s.table_id);
                w.zeros(3);
                w.text(&s.name, 32, "table name")?;
                w.u32(s.wildcards);
                w.u32(s.max_entries);
                w.u32(s.active_count);
                w.u64(s.lookup_count);
                w.u64(s.matched_count);
            }
        }
        B::PortStats(list) => {
            for s in list {
                w.u16(port16(s.port_no)?);
                w.zeros(6);
                for c in port_counters(s) {
                    w.u64(c);
                }
            }
        }
        B::Queue(list) => {
            for s in list {
                w.u16(port16(s.port_no)?);
                w.zeros(2);
                w.u32(s.queue_id);
                w.u64(s.tx_bytes);
                w.u64(s.tx_packets);
                w.u64(s.tx_errors);
            }
        }
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => {
            w.u32(*experimenter);
            w.u32(*exp_type);
            w.bytes(data);
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::size as s;
    use crate::model::multipart::*;
    use crate::model::*;

    fn len(m: Message) -> usize {
        let mut out = Vec::new();
        crate::encode(super::VERSION, 1, &m, &mut out).unwrap();
        assert_eq!(usize::from(u16::from_be_bytes([out[2], out[3]])), out.len());
        out.len()
    }

    fn req(body: MultipartRequestBody) -> Message {
        Message::MultipartRequest(MultipartRequest { flags: 0, body })
    }

    fn rep(body: MultipartReplyBody) -> Message {
        Message::MultipartReply(MultipartReply { flags: 0, body })
    }

    /// Every structure is as long as `openflow.h` 1.0.0 says.
    #[test]
    fn structure_sizes() {
        use MultipartReplyBody as R;
        use MultipartRequestBody as Q;
        let port = Port {
            port_no: PortNo(1),
            ..Port::default()
        };
        let fsr = FlowStatsRequest {
            table_id: 0,
            out_port: PortNo::ANY,
            out_group: GROUP_ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: Match::new(),
        };
        let sr = s::STATS_REPLY;
        let cases: Vec<(Message, usize)> = vec![
            (Message::BarrierReply, s::HEADER),
            (
                Message::Error(ErrorMsg {
                    code: ErrorCode::Unknown {
                        err_type: 1,
                        code: 1,
                    },
                    data: vec![],
                }),
                s::ERROR_MSG,
            ),
            (
                Message::Experimenter(Experimenter {
                    experimenter: 1,
                    exp_type: 2,
                    data: vec![],
                }),
                s::VENDOR_HEADER + 4,
            ),
            (
                Message::FeaturesReply(SwitchFeatures {
                    ports: vec![port.clone()],
                    ..Default::default()
                }),
                s::SWITCH_FEATURES + s::PHY_PORT,
            ),
            (
                Message::GetConfigReply(SwitchConfig::default()),
                s::SWITCH_CONFIG,
            ),
            (
                Message::PacketIn(PacketIn {
                    buffer_id: 0,
                    total_len: 0,
                    reason: 0,
                    table_id: 0,
                    cookie: 0,
                    match_: Match::new().with(OxmField::in_port(PortNo(1))),
                    data: vec![],
                }),
                s::PACKET_IN,
            ),
            (
                Message::FlowRemoved(FlowRemoved {
                    cookie: 0,
                    priority: 0,
                    reason: 0,
                    table_id: 0,
                    duration_sec: 0,
                    duration_nsec: 0,
                    idle_timeout: 0,
                    hard_timeout: 0,
                    packet_count: 0,
                    byte_count: 0,
                    match_: Match::new(),
                }),
                s::FLOW_REMOVED,
            ),
            (
                Message::PortStatus(PortStatus {
                    reason: 0,
                    desc: port,
                }),
                s::PORT_STATUS,
            ),
            (
                Message::PacketOut(PacketOut {
                    buffer_id: 0,
                    in_port: PortNo::ANY,
                    actions: vec![],
                    data: vec![],
                }),
                s::PACKET_OUT,
            ),
            (Message::FlowMod(FlowMod::default()), s::FLOW_MOD),
            (
                Message::PortMod(PortMod {
                    port_no: PortNo(1),
                    hw_addr: [0; 6],
                    config: 0,
                    mask: 0,
                    advertise: 0,
                }),
                s::PORT_MOD,
            ),
            (req(Q::Desc), s::STATS_REQUEST),
            (req(Q::Flow(fsr)), s::STATS_REQUEST + s::FLOW_STATS_REQUEST),
            (
                req(Q::PortStats(PortNo::ANY)),
                s::STATS_REQUEST + s::PORT_STATS_REQUEST,
            ),
            (
                req(Q::Queue {
                    port_no: PortNo::ALL,
                    queue_id: 0,
                }),
                s::STATS_REQUEST + s::QUEUE_STATS_REQUEST,
            ),
            (rep(R::Desc(DescStats::default())), sr + s::DESC_STATS),
            (
                rep(R::Flow(vec![FlowStats {
                    table_id: 0,
                    duration_sec: 0,
                    duration_nsec: 0,
                    priority: 0,
                    idle_timeout: 0,
                    hard_timeout: 0,
                    flags: 0,
                    cookie: 0,
                    packet_count: 0,
                    byte_count: 0,
                    match_: Match::new(),
                    instructions: vec![],
                }])),
                sr + s::FLOW_STATS,
            ),
            (
                rep(R::Aggregate(AggregateStats::default())),
                sr + s::AGGREGATE_STATS_REPLY,
            ),
            (
                rep(R::Table(vec![TableStats::default()])),
                sr + s::TABLE_STATS,
            ),
            (
                rep(R::PortStats(vec![PortStats::default()])),
                sr + s::PORT_STATS,
            ),
            (
                rep(R::Queue(vec![QueueStats::default()])),
                sr + s::QUEUE_STATS,
            ),
            (
                Message::QueueGetConfigRequest(PortNo(1)),
                s::QUEUE_GET_CONFIG_REQUEST,
            ),
            (
                Message::QueueGetConfigReply(QueueGetConfigReply {
                    port: PortNo(1),
                    queues: vec![PacketQueue {
                        queue_id: 0,
                        port: PortNo(1),
                        properties: vec![QueueProp::MinRate(1)],
                    }],
                }),
                s::QUEUE_GET_CONFIG_REPLY + s::PACKET_QUEUE + s::QUEUE_PROP_MIN_RATE,
            ),
        ];
        for (m, want) in cases {
            assert_eq!(len(m.clone()), want, "{m:?}");
        }
    }

    #[test]
    fn v13_only_messages_and_fields_are_refused() {
        let mut out = Vec::new();
        for m in [
            Message::TableMod(TableMod {
                table_id: 0,
                config: 0,
            }),
            Message::GetAsyncRequest,
            Message::FlowMod(FlowMod {
                cookie_mask: 1,
                ..FlowMod::default()
            }),
            Message::FlowMod(FlowMod {
                table_id: 3,
                ..FlowMod::default()
            }),
            Message::FlowMod(FlowMod {
                instructions: vec![Instruction::GotoTable(1)],
                ..FlowMod::default()
            }),
            Message::FlowMod(FlowMod {
                match_: Match::new().with(OxmField::from_uint(OxmId::TunnelId, 1)),
                ..FlowMod::default()
            }),
            req(MultipartRequestBody::PortDesc),
        ] {
            assert!(
                matches!(
                    crate::encode(super::VERSION, 0, &m, &mut out),
                    Err(crate::EncodeError::Unsupported { .. })
                ),
                "{m:?}"
            );
            assert!(out.is_empty());
        }
    }

    #[test]
    fn v10_flow_mod_decodes_onto_the_model() {
        // 1-2-ofp_flow_mod.packet of the golden corpus: match on dl_dst, output to 6.
        let bytes = [
            0x01, 0x0e, 0x00, 0x50, 0, 0, 0, 0, 0x00, 0x3f, 0xff, 0xf7, 0, 0, 0, 0, 0, 0, 0, 0,
            0xf2, 0x0b, 0xa4, 0x7d, 0xf8, 0xea, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0, 0, 0xff, 0xff,
            0xff, 0xfc, 0, 0, 0, 0, 0, 8, 0, 6, 0xff, 0xff,
        ];
        let (_, m) = crate::decode(&bytes).unwrap();
        let Message::FlowMod(f) = &m else {
            panic!("{m:?}")
        };
        assert_eq!(
            f.match_.fields,
            vec![OxmField::eth_dst([0xf2, 0x0b, 0xa4, 0x7d, 0xf8, 0xea])]
        );
        assert_eq!(f.priority, 123);
        assert_eq!(f.out_port, PortNo::ALL);
        assert_eq!(
            f.instructions,
            vec![Instruction::ApplyActions(vec![Action::output(PortNo(6))])]
        );
        // The same flow mod says the same in 1.3.
        let mut out = Vec::new();
        crate::encode(crate::v13::VERSION, 0, &m, &mut out).unwrap();
        assert_eq!(crate::decode(&out).unwrap().1, m);
    }
}
