//! OpenFlow 1.3 messages: the body of each message type to and from the model.

use super::action::{decode_actions, decode_instructions, encode_actions, encode_instructions};
use super::msg_type as mt;
use super::multipart;
use super::oxm::{decode_match, encode_match};
use super::{size, VERSION};
use crate::codec::{begin, decode_error, encode_error, finish};
use crate::error::{DecodeError, EncodeError};
use crate::model::port::Port;
use crate::model::*;
use crate::wire::{Reader, Writer};
use crate::Header;

/// Decodes the body of a 1.3 message (hello and echo are handled by the caller).
pub(crate) fn decode(h: &Header, body: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader::new(body, "message body");
    let empty = |r: &Reader<'_>, m: Message| r.end("empty message").map(|_| m);
    let m = match h.msg_type {
        mt::ERROR => return decode_error(VERSION, body),
        mt::EXPERIMENTER => Message::Experimenter(Experimenter {
            experimenter: r.u32()?,
            exp_type: r.u32()?,
            data: r.rest().to_vec(),
        }),
        mt::FEATURES_REQUEST => empty(&r, Message::FeaturesRequest)?,
        mt::FEATURES_REPLY => {
            let f = SwitchFeatures {
                datapath_id: r.u64()?,
                n_buffers: r.u32()?,
                n_tables: r.u8()?,
                auxiliary_id: r.u8()?,
                capabilities: {
                    r.skip(2)?;
                    r.u32()?
                },
                actions: r.u32()?,
                ports: Vec::new(),
            };
            r.end("ofp_switch_features")?;
            Message::FeaturesReply(f)
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
            let reason = r.u8()?;
            let table_id = r.u8()?;
            let cookie = r.u64()?;
            let match_ = decode_match(&mut r)?;
            r.skip(2)?;
            Message::PacketIn(PacketIn {
                buffer_id,
                total_len,
                reason,
                table_id,
                cookie,
                match_,
                data: r.rest().to_vec(),
            })
        }
        mt::FLOW_REMOVED => {
            let fr = FlowRemoved {
                cookie: r.u64()?,
                priority: r.u16()?,
                reason: r.u8()?,
                table_id: r.u8()?,
                duration_sec: r.u32()?,
                duration_nsec: r.u32()?,
                idle_timeout: r.u16()?,
                hard_timeout: r.u16()?,
                packet_count: r.u64()?,
                byte_count: r.u64()?,
                match_: decode_match(&mut r)?,
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
            let in_port = PortNo(r.u32()?);
            let actions_len = usize::from(r.u16()?);
            r.skip(6)?;
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
            let cookie = r.u64()?;
            let cookie_mask = r.u64()?;
            let table_id = r.u8()?;
            let command = FlowModCommand::from_u16(u16::from(r.u8()?));
            let idle_timeout = r.u16()?;
            let hard_timeout = r.u16()?;
            let priority = r.u16()?;
            let buffer_id = r.u32()?;
            let out_port = PortNo(r.u32()?);
            let out_group = r.u32()?;
            let flags = r.u16()?;
            r.skip(2)?;
            let match_ = decode_match(&mut r)?;
            let instructions = decode_instructions(&mut r)?;
            Message::FlowMod(FlowMod {
                cookie,
                cookie_mask,
                table_id,
                command,
                idle_timeout,
                hard_timeout,
                priority,
                buffer_id,
                out_port,
                out_group,
                flags,
                match_,
                instructions,
            })
        }
        mt::GROUP_MOD => {
            let command = r.u16()?;
            let group_type = r.u8()?;
            r.skip(1)?;
            let group_id = r.u32()?;
            let buckets = decode_buckets(&mut r)?;
            Message::GroupMod(GroupMod {
                command,
                group_type,
                group_id,
                buckets,
            })
        }
        mt::PORT_MOD => {
            let port_no = PortNo(r.u32()?);
            r.skip(4)?;
            let hw_addr = r.array()?;
            r.skip(2)?;
            let pm = PortMod {
                port_no,
                hw_addr,
                config: r.u32()?,
                mask: r.u32()?,
                advertise: r.u32()?,
            };
            r.skip(4)?;
            r.end("ofp_port_mod")?;
            Message::PortMod(pm)
        }
        mt::TABLE_MOD => {
            let table_id = r.u8()?;
            r.skip(3)?;
            let tm = TableMod {
                table_id,
                config: r.u32()?,
            };
            r.end("ofp_table_mod")?;
            Message::TableMod(tm)
        }
        mt::MULTIPART_REQUEST => Message::MultipartRequest(multipart::decode_request(&mut r)?),
        mt::MULTIPART_REPLY => Message::MultipartReply(multipart::decode_reply(&mut r)?),
        mt::BARRIER_REQUEST => empty(&r, Message::BarrierRequest)?,
        mt::BARRIER_REPLY => empty(&r, Message::BarrierReply)?,
        mt::QUEUE_GET_CONFIG_REQUEST => {
            let port = PortNo(r.u32()?);
            r.skip(4)?;
            r.end("ofp_queue_get_config_request")?;
            Message::QueueGetConfigRequest(port)
        }
        mt::QUEUE_GET_CONFIG_REPLY => {
            let port = PortNo(r.u32()?);
            r.skip(4)?;
            let mut queues = Vec::new();
            while !r.is_empty() {
                queues.push(decode_queue(&mut r)?);
            }
            Message::QueueGetConfigReply(QueueGetConfigReply { port, queues })
        }
        mt::ROLE_REQUEST | mt::ROLE_REPLY => {
            let role = r.u32()?;
            r.skip(4)?;
            let m = RoleMsg {
                role,
                generation_id: r.u64()?,
            };
            r.end("ofp_role_request")?;
            if h.msg_type == mt::ROLE_REQUEST {
                Message::RoleRequest(m)
            } else {
                Message::RoleReply(m)
            }
        }
        mt::GET_ASYNC_REQUEST => empty(&r, Message::GetAsyncRequest)?,
        mt::GET_ASYNC_REPLY | mt::SET_ASYNC => {
            let c = AsyncConfig {
                packet_in_mask: [r.u32()?, r.u32()?],
                port_status_mask: [r.u32()?, r.u32()?],
                flow_removed_mask: [r.u32()?, r.u32()?],
            };
            r.end("ofp_async_config")?;
            if h.msg_type == mt::SET_ASYNC {
                Message::SetAsync(c)
            } else {
                Message::GetAsyncReply(c)
            }
        }
        mt::METER_MOD => {
            let command = r.u16()?;
            let flags = r.u16()?;
            let meter_id = r.u32()?;
            let bands = decode_bands(&mut r)?;
            Message::MeterMod(MeterMod {
                command,
                flags,
                meter_id,
                bands,
            })
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

/// Encodes a 1.3 message (header included; hello and echo are handled by the caller).
pub(crate) fn encode(xid: u32, msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let t = match msg {
        Message::Hello(_) => mt::HELLO,
        Message::Error(_) => mt::ERROR,
        Message::EchoRequest(_) => mt::ECHO_REQUEST,
        Message::EchoReply(_) => mt::ECHO_REPLY,
        Message::Experimenter(_) => mt::EXPERIMENTER,
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
        Message::GroupMod(_) => mt::GROUP_MOD,
        Message::PortMod(_) => mt::PORT_MOD,
        Message::TableMod(_) => mt::TABLE_MOD,
        Message::MultipartRequest(_) => mt::MULTIPART_REQUEST,
        Message::MultipartReply(_) => mt::MULTIPART_REPLY,
        Message::BarrierRequest => mt::BARRIER_REQUEST,
        Message::BarrierReply => mt::BARRIER_REPLY,
        Message::QueueGetConfigRequest(_) => mt::QUEUE_GET_CONFIG_REQUEST,
        Message::QueueGetConfigReply(_) => mt::QUEUE_GET_CONFIG_REPLY,
        Message::RoleRequest(_) => mt::ROLE_REQUEST,
        Message::RoleReply(_) => mt::ROLE_REPLY,
        Message::GetAsyncRequest => mt::GET_ASYNC_REQUEST,
        Message::GetAsyncReply(_) => mt::GET_ASYNC_REPLY,
        Message::SetAsync(_) => mt::SET_ASYNC,
        Message::MeterMod(_) => mt::METER_MOD,
    };
    let (mut w, start) = begin(out, VERSION, t, xid);
    let w = &mut w;
    match msg {
        Message::Hello(_)
        | Message::EchoRequest(_)
        | Message::EchoReply(_)
        | Message::FeaturesRequest
        | Message::GetConfigRequest
        | Message::BarrierRequest
        | Message::BarrierReply
        | Message::GetAsyncRequest => {}
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
            w.u8(f.auxiliary_id);
            w.zeros(2);
            w.u32(f.capabilities);
            w.u32(f.actions);
        }
        Message::GetConfigReply(c) | Message::SetConfig(c) => {
            w.u16(c.flags);
            w.u16(c.miss_send_len);
        }
        Message::PacketIn(p) => {
            w.u32(p.buffer_id);
            w.u16(p.total_len);
            w.u8(p.reason);
            w.u8(p.table_id);
            w.u64(p.cookie);
            encode_match(w, &p.match_)?;
            w.zeros(2);
            w.bytes(&p.data);
        }
        Message::FlowRemoved(f) => {
            w.u64(f.cookie);
            w.u16(f.priority);
            w.u8(f.reason);
            w.u8(f.table_id);
            w.u32(f.duration_sec);
            w.u32(f.duration_nsec);
            w.u16(f.idle_timeout);
            w.u16(f.hard_timeout);
            w.u64(f.packet_count);
            w.u64(f.byte_count);
            encode_match(w, &f.match_)?;
        }
        Message::PortStatus(p) => {
            w.u8(p.reason);
            w.zeros(7);
            encode_port(w, &p.desc)?;
        }
        Message::PacketOut(p) => {
            w.u32(p.buffer_id);
            w.u32(p.in_port.0);
            let len_at = w.pos();
            w.u16(0);
            w.zeros(6);
            let actions_start = w.pos();
            encode_actions(w, &p.actions)?;
            w.patch_len16(len_at, actions_start, "packet_out actions")?;
            w.bytes(&p.data);
        }
        Message::FlowMod(f) => {
            let command = u8::try_from(f.command.to_u16()).map_err(|_| EncodeError::BadValue {
                what: "flow_mod command above 255",
            })?;
            w.u64(f.cookie);
            w.u64(f.cookie_mask);
            w.u8(f.table_id);
            w.u8(command);
            w.u16(f.idle_timeout);
            w.u16(f.hard_timeout);
            w.u16(f.priority);
            w.u32(f.buffer_id);
            w.u32(f.out_port.0);
            w.u32(f.out_group);
            w.u16(f.flags);
            w.zeros(2);
            encode_match(w, &f.match_)?;
            encode_instructions(w, &f.instructions)?;
        }
        Message::GroupMod(g) => {
            w.u16(g.command);
            w.u8(g.group_type);
            w.zeros(1);
            w.u32(g.group_id);
            encode_buckets(w, &g.buckets)?;
        }
        Message::PortMod(p) => {
            w.u32(p.port_no.0);
            w.zeros(4);
            w.bytes(&p.hw_addr);
            w.zeros(2);
            w.u32(p.config);
            w.u32(p.mask);
            w.u32(p.advertise);
            w.zeros(4);
        }
        Message::TableMod(t) => {
            w.u8(t.table_id);
            w.zeros(3);
            w.u32(t.config);
        }
        Message::MultipartRequest(m) => multipart::encode_request(w, m)?,
        Message::MultipartReply(m) => multipart::encode_reply(w, m)?,
        Message::QueueGetConfigRequest(p) => {
            w.u32(p.0);
            w.zeros(4);
        }
        Message::QueueGetConfigReply(q) => {
            w.u32(q.port.0);
            w.zeros(4);
            for queue in &q.queues {
                encode_queue(w, queue)?;
            }
        }
        Message::RoleRequest(m) | Message::RoleReply(m) => {
            w.u32(m.role);
            w.zeros(4);
            w.u64(m.generation_id);
        }
        Message::GetAsyncReply(c) | Message::SetAsync(c) => {
            for v in c
                .packet_in_mask
                .iter()
                .chain(&c.port_status_mask)
                .chain(&c.flow_removed_mask)
            {
                w.u32(*v);
            }
        }
        Message::MeterMod(m) => {
            w.u16(m.command);
            w.u16(m.flags);
            w.u32(m.meter_id);
            encode_bands(w, &m.bands)?;
        }
    }
    finish(w, start)
}

/// Reads an `ofp_port`.
pub(crate) fn decode_port(r: &mut Reader<'_>) -> Result<Port, DecodeError> {
    let mut p = r.sub(size::PORT, "ofp_port")?;
    let port_no = PortNo(p.u32()?);
    p.skip(4)?;
    let hw_addr = p.array()?;
    p.skip(2)?;
    Ok(Port {
        port_no,
        hw_addr,
        name: p.text(16)?,
        config: p.u32()?,
        state: p.u32()?,
        curr: p.u32()?,
        advertised: p.u32()?,
        supported: p.u32()?,
        peer: p.u32()?,
        curr_speed: p.u32()?,
        max_speed: p.u32()?,
    })
}

/// Writes an `ofp_port`.
pub(crate) fn encode_port(w: &mut Writer<'_>, p: &Port) -> Result<(), EncodeError> {
    w.u32(p.port_no.0);
    w.zeros(4);
    w.bytes(&p.hw_addr);
    w.zeros(2);
    w.text(&p.name, 16, "port name")?;
    for v in [
        p.config,
        p.state,
        p.curr,
        p.advertised,
        p.supported,
        p.peer,
        p.curr_speed,
        p.max_speed,
    ] {
        w.u32(v);
    }
    Ok(())
}

/// Reads buckets filling all of `r`.
pub(crate) fn decode_buckets(r: &mut Reader<'_>) -> Result<Vec<Bucket>, DecodeError> {
    let mut buckets = Vec::new();
    while !r.is_empty() {
        let len = usize::from(r.peek_u16(0).unwrap_or(0));
        if len < size::BUCKET || len % 8 != 0 {
            return Err(DecodeError::BadLength {
                what: "ofp_bucket",
                len,
            });
        }
        let mut b = r.sub(len, "ofp_bucket")?;
        b.skip(2)?;
        let weight = b.u16()?;
        let watch_port = PortNo(b.u32()?);
        let watch_group = b.u32()?;
        b.skip(4)?;
        let actions = decode_actions(&mut b)?;
        buckets.push(Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        });
    }
    Ok(buckets)
}

/// Writes buckets.
pub(crate) fn encode_buckets(w: &mut Writer<'_>, buckets: &[Bucket]) -> Result<(), EncodeError> {
    for b in buckets {
        let start = w.pos();
        w.u16(0);
        w.u16(b.weight);
        w.u32(b.watch_port.0);
        w.u32(b.watch_group);
        w.zeros(4);
        encode_actions(w, &b.actions)?;
        w.patch_len16(start, start, "ofp_bucket")?;
    }
    Ok(())
}

/// Reads meter bands filling all of `r`.
pub(crate) fn decode_bands(r: &mut Reader<'_>) -> Result<Vec<MeterBand>, DecodeError> {
    let mut bands = Vec::new();
    while !r.is_empty() {
        let t = r.peek_u16(0).unwrap_or(0);
        let len = usize::from(r.peek_u16(2).unwrap_or(0));
        if len < size::METER_BAND {
            return Err(DecodeError::BadLength {
                what: "ofp_meter_band",
                len,
            });
        }
        let mut b = r.sub(len, "ofp_meter_band")?;
        b.skip(4)?;
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        bands.push(match t {
            1 => {
                b.skip(4)?;
                b.end("ofp_meter_band_drop")?;
                MeterBand::Drop { rate, burst_size }
            }
            2 => {
                let prec_level = b.u8()?;
                b.skip(3)?;
                b.end("ofp_meter_band_dscp_remark")?;
                MeterBand::DscpRemark {
                    rate,
                    burst_size,
                    prec_level,
                }
            }
            0xffff => MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter: b.u32()?,
                data: b.rest().to_vec(),
            },
            _ => {
                return Err(DecodeError::BadLength {
                    what: "ofp_meter_band type",
                    len,
                })
            }
        });
    }
    Ok(bands)
}

/// Writes meter bands.
pub(crate) fn encode_bands(w: &mut Writer<'_>, bands: &[MeterBand]) -> Result<(), EncodeError> {
    for b in bands {
        let start = w.pos();
        match b {
            MeterBand::Drop { rate, burst_size } => {
                w.u16(1);
                w.u16(0);
                w.u32(*rate);
                w.u32(*burst_size);
                w.zeros(4);
            }
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            } => {
                w.u16(2);
                w.u16(0);
                w.u32(*rate);
                w.u32(*burst_size);
                w.u8(*prec_level);
                w.zeros(3);
            }
            MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                data,
            } => {
                w.u16(0xffff);
                w.u16(0);
                w.u32(*rate);
                w.u32(*burst_size);
                w.u32(*experimenter);
                w.bytes(data);
            }
        }
        w.patch_len16(start + 2, start, "ofp_meter_band")?;
    }
    Ok(())
}

fn decode_queue(r: &mut Reader<'_>) -> Result<PacketQueue, DecodeError> {
    let len = usize::from(r.peek_u16(8).unwrap_or(0));
    if len < size::PACKET_QUEUE {
        return Err(DecodeError::BadLength {
            what: "ofp_packet_queue",
            len,
        });
    }
    let mut q = r.sub(len, "ofp_packet_queue")?;
    let queue_id = q.u32()?;
    let port = PortNo(q.u32()?);
    q.skip(8)?;
    let properties = decode_queue_props(&mut q, true)?;
    Ok(PacketQueue {
        queue_id,
        port,
        properties,
    })
}

fn encode_queue(w: &mut Writer<'_>, q: &PacketQueue) -> Result<(), EncodeError> {
    let start = w.pos();
    w.u32(q.queue_id);
    w.u32(q.port.0);
    w.u16(0);
    w.zeros(6);
    encode_queue_props(w, &q.properties, VERSION)?;
    w.patch_len16(start + 8, start, "ofp_packet_queue")
}

/// Reads queue properties filling all of `r` (`v13`: whether 1.3's types are known).
pub(crate) fn decode_queue_props(
    r: &mut Reader<'_>,
    v13: bool,
) -> Result<Vec<QueueProp>, DecodeError> {
    let mut props = Vec::new();
    while !r.is_empty() {
        let t = r.peek_u16(0).unwrap_or(0);
        let len = usize::from(r.peek_u16(2).unwrap_or(0));
        if len < size::QUEUE_PROP_HEADER {
            return Err(DecodeError::BadLength {
                what: "ofp_queue_prop_header",
                len,
            });
        }
        let mut p = r.sub(len, "queue property")?;
        p.skip(8)?;
        props.push(match (t, v13) {
            (1, _) | (2, true) => {
                let rate = p.u16()?;
                p.skip(6)?;
                p.end("ofp_queue_prop_rate")?;
                if t == 1 {
                    QueueProp::MinRate(rate)
                } else {
                    QueueProp::MaxRate(rate)
                }
            }
            (0xffff, true) => {
                let experimenter = p.u32()?;
                p.skip(4)?;
                QueueProp::Experimenter {
                    experimenter,
                    data: p.rest().to_vec(),
                }
            }
            _ => QueueProp::Unknown {
                prop_type: t,
                data: p.rest().to_vec(),
            },
        });
    }
    Ok(props)
}

/// Writes queue properties in `version`.
pub(crate) fn encode_queue_props(
    w: &mut Writer<'_>,
    props: &[QueueProp],
    version: u8,
) -> Result<(), EncodeError> {
    for p in props {
        let start = w.pos();
        match p {
            QueueProp::MinRate(rate) | QueueProp::MaxRate(rate) => {
                if matches!(p, QueueProp::MaxRate(_)) && version != VERSION {
                    return Err(EncodeError::Unsupported {
                        version,
                        what: "queue max_rate",
                    });
                }
                w.u16(if matches!(p, QueueProp::MinRate(_)) {
                    1
                } else {
                    2
                });
                w.u16(0);
                w.zeros(4);
                w.u16(*rate);
                w.zeros(6);
            }
            QueueProp::Experimenter { experimenter, data } => {
                if version != VERSION {
                    return Err(EncodeError::Unsupported {
                        version,
                        what: "experimenter queue property",
                    });
                }
                w.u16(0xffff);
                w.u16(0);
                w.zeros(4);
                w.u32(*experimenter);
                w.zeros(4);
                w.bytes(data);
            }
            QueueProp::Unknown { prop_type, data } => {
                w.u16(*prop_type);
                w.u16(0);
                w.zeros(4);
                w.bytes(data);
            }
        }
        w.patch_len16(start + 2, start, "queue property")?;
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

    /// Every structure is as long as `openflow.h` 1.3.5 says (an empty `ofp_match` is 8
    /// bytes and part of the C structs that contain one).
    #[test]
    fn structure_sizes() {
        use MultipartReplyBody as R;
        use MultipartRequestBody as Q;
        let port = Port::default();
        let empty_match = Match::new();
        let fsr = FlowStatsRequest {
            table_id: 0,
            out_port: PortNo::ANY,
            out_group: GROUP_ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: empty_match.clone(),
        };
        let mp = s::MULTIPART_REPLY;
        let cases: Vec<(Message, usize)> = vec![
            (Message::BarrierRequest, s::HEADER),
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
                Message::Error(ErrorMsg {
                    code: ErrorCode::Experimenter {
                        exp_type: 1,
                        experimenter: 2,
                    },
                    data: vec![],
                }),
                s::ERROR_EXPERIMENTER_MSG,
            ),
            (
                Message::Experimenter(Experimenter {
                    experimenter: 1,
                    exp_type: 2,
                    data: vec![],
                }),
                s::EXPERIMENTER_HEADER,
            ),
            (
                Message::FeaturesReply(SwitchFeatures::default()),
                s::SWITCH_FEATURES,
            ),
            (
                Message::SetConfig(SwitchConfig::default()),
                s::SWITCH_CONFIG,
            ),
            (
                Message::PacketIn(PacketIn {
                    buffer_id: 0,
                    total_len: 0,
                    reason: 0,
                    table_id: 0,
                    cookie: 0,
                    match_: empty_match.clone(),
                    data: vec![],
                }),
                s::PACKET_IN + 2,
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
                    match_: empty_match.clone(),
                }),
                s::FLOW_REMOVED,
            ),
            (
                Message::PortStatus(PortStatus {
                    reason: 0,
                    desc: port.clone(),
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
                Message::GroupMod(GroupMod {
                    command: 0,
                    group_type: 0,
                    group_id: 0,
                    buckets: vec![],
                }),
                s::GROUP_MOD,
            ),
            (
                Message::GroupMod(GroupMod {
                    command: 0,
                    group_type: 0,
                    group_id: 0,
                    buckets: vec![Bucket {
                        weight: 0,
                        watch_port: PortNo::ANY,
                        watch_group: 0,
                        actions: vec![],
                    }],
                }),
                s::GROUP_MOD + s::BUCKET,
            ),
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
            (
                Message::TableMod(TableMod {
                    table_id: 0,
                    config: 0,
                }),
                s::TABLE_MOD,
            ),
            (req(Q::Desc), s::MULTIPART_REQUEST),
            (
                req(Q::Flow(fsr.clone())),
                s::MULTIPART_REQUEST + s::FLOW_STATS_REQUEST,
            ),
            (
                req(Q::Aggregate(fsr)),
                s::MULTIPART_REQUEST + s::FLOW_STATS_REQUEST,
            ),
            (
                req(Q::PortStats(PortNo::ANY)),
                s::MULTIPART_REQUEST + s::PORT_STATS_REQUEST,
            ),
            (
                req(Q::Queue {
                    port_no: PortNo::ANY,
                    queue_id: 0,
                }),
                s::MULTIPART_REQUEST + s::QUEUE_STATS_REQUEST,
            ),
            (
                req(Q::Group(0)),
                s::MULTIPART_REQUEST + s::GROUP_STATS_REQUEST,
            ),
            (
                req(Q::Meter(0)),
                s::MULTIPART_REQUEST + s::METER_MULTIPART_REQUEST,
            ),
            (
                req(Q::Experimenter {
                    experimenter: 0,
                    exp_type: 0,
                    data: vec![],
                }),
                s::MULTIPART_REQUEST + s::EXPERIMENTER_MULTIPART_HEADER,
            ),
            (rep(R::Desc(DescStats::default())), mp + s::DESC),
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
                    match_: empty_match,
                    instructions: vec![],
                }])),
                mp + s::FLOW_STATS,
            ),
            (
                rep(R::Aggregate(AggregateStats::default())),
                mp + s::AGGREGATE_STATS_REPLY,
            ),
            (
                rep(R::Table(vec![TableStats::default()])),
                mp + s::TABLE_STATS,
            ),
            (
                rep(R::PortStats(vec![PortStats::default()])),
                mp + s::PORT_STATS,
            ),
            (
                rep(R::Queue(vec![QueueStats::default()])),
                mp + s::QUEUE_STATS,
            ),
            (
                rep(R::Group(vec![GroupStats {
                    bucket_stats: vec![BucketCounter::default()],
                    ..GroupStats::default()
                }])),
                mp + s::GROUP_STATS + s::BUCKET_COUNTER,
            ),
            (
                rep(R::GroupDesc(vec![GroupDesc {
                    group_type: 0,
                    group_id: 0,
                    buckets: vec![],
                }])),
                mp + s::GROUP_DESC,
            ),
            (
                rep(R::GroupFeatures(GroupFeatures::default())),
                mp + s::GROUP_FEATURES,
            ),
            (
                rep(R::Meter(vec![MeterStats {
                    band_stats: vec![MeterBandStats::default()],
                    ..MeterStats::default()
                }])),
                mp + s::METER_STATS + s::METER_BAND_STATS,
            ),
            (
                rep(R::MeterConfig(vec![MeterConfig {
                    flags: 0,
                    meter_id: 0,
                    bands: vec![],
                }])),
                mp + s::METER_CONFIG,
            ),
            (
                rep(R::MeterFeatures(MeterFeatures::default())),
                mp + s::METER_FEATURES,
            ),
            (
                rep(R::TableFeatures(vec![TableFeatures {
                    table_id: 0,
                    name: String::new(),
                    metadata_match: 0,
                    metadata_write: 0,
                    config: 0,
                    max_entries: 0,
                    properties: vec![TableFeatureProp::NextTables {
                        miss: false,
                        tables: vec![],
                    }],
                }])),
                mp + s::TABLE_FEATURES + 8,
            ),
            (rep(R::PortDesc(vec![port])), mp + s::PORT),
            (
                Message::QueueGetConfigRequest(PortNo::ANY),
                s::QUEUE_GET_CONFIG_REQUEST,
            ),
            (
                Message::QueueGetConfigReply(QueueGetConfigReply {
                    port: PortNo::ANY,
                    queues: vec![PacketQueue {
                        queue_id: 0,
                        port: PortNo(1),
                        properties: vec![QueueProp::MinRate(1)],
                    }],
                }),
                s::QUEUE_GET_CONFIG_REPLY + s::PACKET_QUEUE + s::QUEUE_PROP_RATE,
            ),
            (
                Message::QueueGetConfigReply(QueueGetConfigReply {
                    port: PortNo::ANY,
                    queues: vec![PacketQueue {
                        queue_id: 0,
                        port: PortNo(1),
                        properties: vec![QueueProp::Experimenter {
                            experimenter: 1,
                            data: vec![],
                        }],
                    }],
                }),
                s::QUEUE_GET_CONFIG_REPLY + s::PACKET_QUEUE + s::QUEUE_PROP_EXPERIMENTER,
            ),
            (
                Message::RoleRequest(RoleMsg {
                    role: 0,
                    generation_id: 0,
                }),
                s::ROLE_REQUEST,
            ),
            (Message::SetAsync(AsyncConfig::default()), s::ASYNC_CONFIG),
            (
                Message::MeterMod(MeterMod {
                    command: 0,
                    flags: 0,
                    meter_id: 0,
                    bands: vec![MeterBand::Drop {
                        rate: 0,
                        burst_size: 0,
                    }],
                }),
                s::METER_MOD + s::METER_BAND,
            ),
        ];
        for (m, want) in cases {
            assert_eq!(len(m.clone()), want, "{m:?}");
        }
    }
}
