//! OpenFlow 1.3 multipart bodies.
//!
//! Request and reply start with `type`, `flags` and 4 bytes of padding; list replies are
//! records with their own length (flow, group, group desc, meter, meter config, table
//! features) or of fixed size (table, port, queue, port desc).

use super::action::{decode_instructions, encode_instructions};
use super::codec::{
    decode_bands, decode_buckets, decode_port, encode_bands, encode_buckets, encode_port,
};
use super::multipart_type as mp;
use super::oxm::{decode_feature_id, decode_match, encode_feature_id, encode_match};
use super::size;
use super::table_feature_prop as tfp;
use crate::error::{DecodeError, EncodeError};
use crate::model::multipart::*;
use crate::model::port::PortNo;
use crate::wire::{Reader, Writer};

/// Reads a multipart request body (after the header).
pub(crate) fn decode_request(r: &mut Reader<'_>) -> Result<MultipartRequest, DecodeError> {
    let t = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    use MultipartRequestBody as B;
    let body = match t {
        mp::DESC => B::Desc,
        mp::FLOW | mp::AGGREGATE => {
            let table_id = r.u8()?;
            r.skip(3)?;
            let out_port = PortNo(r.u32()?);
            let out_group = r.u32()?;
            r.skip(4)?;
            let req = FlowStatsRequest {
                table_id,
                out_port,
                out_group,
                cookie: r.u64()?,
                cookie_mask: r.u64()?,
                match_: decode_match(r)?,
            };
            if t == mp::FLOW {
                B::Flow(req)
            } else {
                B::Aggregate(req)
            }
        }
        mp::TABLE => B::Table,
        mp::PORT_STATS => {
            let p = PortNo(r.u32()?);
            r.skip(4)?;
            B::PortStats(p)
        }
        mp::QUEUE => B::Queue {
            port_no: PortNo(r.u32()?),
            queue_id: r.u32()?,
        },
        mp::GROUP => {
            let g = r.u32()?;
            r.skip(4)?;
            B::Group(g)
        }
        mp::GROUP_DESC => B::GroupDesc,
        mp::GROUP_FEATURES => B::GroupFeatures,
        mp::METER | mp::METER_CONFIG => {
            let m = r.u32()?;
            r.skip(4)?;
            if t == mp::METER {
                B::Meter(m)
            } else {
                B::MeterConfig(m)
            }
        }
        mp::METER_FEATURES => B::MeterFeatures,
        mp::TABLE_FEATURES => B::TableFeatures(decode_table_features_list(r)?),
        mp::PORT_DESC => B::PortDesc,
        mp::EXPERIMENTER => B::Experimenter {
            experimenter: r.u32()?,
            exp_type: r.u32()?,
            data: r.rest().to_vec(),
        },
        other => return Err(DecodeError::BadMultipart(other)),
    };
    r.end("multipart request")?;
    Ok(MultipartRequest { flags, body })
}

/// Writes a multipart request body.
pub(crate) fn encode_request(w: &mut Writer<'_>, m: &MultipartRequest) -> Result<(), EncodeError> {
    use MultipartRequestBody as B;
    let t = match &m.body {
        B::Desc => mp::DESC,
        B::Flow(_) => mp::FLOW,
        B::Aggregate(_) => mp::AGGREGATE,
        B::Table => mp::TABLE,
        B::PortStats(_) => mp::PORT_STATS,
        B::Queue { .. } => mp::QUEUE,
        B::Group(_) => mp::GROUP,
        B::GroupDesc => mp::GROUP_DESC,
        B::GroupFeatures => mp::GROUP_FEATURES,
        B::Meter(_) => mp::METER,
        B::MeterConfig(_) => mp::METER_CONFIG,
        B::MeterFeatures => mp::METER_FEATURES,
        B::TableFeatures(_) => mp::TABLE_FEATURES,
        B::PortDesc => mp::PORT_DESC,
        B::Experimenter { .. } => mp::EXPERIMENTER,
    };
    w.u16(t);
    w.u16(m.flags);
    w.zeros(4);
    match &m.body {
        B::Desc | B::Table | B::GroupDesc | B::GroupFeatures | B::MeterFeatures | B::PortDesc => {}
        B::Flow(req) | B::Aggregate(req) => {
            w.u8(req.table_id);
            w.zeros(3);
            w.u32(req.out_port.0);
            w.u32(req.out_group);
            w.zeros(4);
            w.u64(req.cookie);
            w.u64(req.cookie_mask);
            encode_match(w, &req.match_)?;
        }
        B::PortStats(p) => {
            w.u32(p.0);
            w.zeros(4);
        }
        B::Queue { port_no, queue_id } => {
            w.u32(port_no.0);
            w.u32(*queue_id);
        }
        B::Group(id) | B::Meter(id) | B::MeterConfig(id) => {
            w.u32(*id);
            w.zeros(4);
        }
        B::TableFeatures(list) => {
            for tf in list {
                encode_table_features(w, tf)?;
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
    }
    Ok(())
}

/// Reads a length-prefixed record (`len` at offset `at`, at least `min` bytes).
fn record<'a>(
    r: &mut Reader<'a>,
    at: usize,
    min: usize,
    what: &'static str,
) -> Result<Reader<'a>, DecodeError> {
    let len = usize::from(r.peek_u16(at).unwrap_or(0));
    if len < min {
        return Err(DecodeError::BadLength { what, len });
    }
    r.sub(len, what)
}

/// Reads a multipart reply body (after the header).
pub(crate) fn decode_reply(r: &mut Reader<'_>) -> Result<MultipartReply, DecodeError> {
    let t = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    use MultipartReplyBody as B;
    let body = match t {
        mp::DESC => B::Desc(DescStats {
            mfr_desc: r.text(256)?,
            hw_desc: r.text(256)?,
            sw_desc: r.text(256)?,
            serial_num: r.text(32)?,
            dp_desc: r.text(256)?,
        }),
        mp::FLOW => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let mut f = record(r, 0, size::FLOW_STATS, "ofp_flow_stats")?;
                f.skip(2)?;
                let table_id = f.u8()?;
                f.skip(1)?;
                let duration_sec = f.u32()?;
                let duration_nsec = f.u32()?;
                let priority = f.u16()?;
                let idle_timeout = f.u16()?;
                let hard_timeout = f.u16()?;
                let flags = f.u16()?;
                f.skip(4)?;
                list.push(FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags,
                    cookie: f.u64()?,
                    packet_count: f.u64()?,
                    byte_count: f.u64()?,
                    match_: decode_match(&mut f)?,
                    instructions: decode_instructions(&mut f)?,
                });
            }
            B::Flow(list)
        }
        mp::AGGREGATE => {
            let a = AggregateStats {
                packet_count: r.u64()?,
                byte_count: r.u64()?,
                flow_count: r.u32()?,
            };
            r.skip(4)?;
            B::Aggregate(a)
        }
        mp::TABLE => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let table_id = r.u8()?;
                r.skip(3)?;
                list.push(TableStats {
                    table_id,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                    ..TableStats::default()
                });
            }
            B::Table(list)
        }
        mp::PORT_STATS => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let port_no = PortNo(r.u32()?);
                r.skip(4)?;
                let mut c = [0u64; 12];
                for v in &mut c {
                    *v = r.u64()?;
                }
                list.push(port_stats(port_no, c, r.u32()?, r.u32()?));
            }
            B::PortStats(list)
        }
        mp::QUEUE => {
            let mut list = Vec::new();
            while !r.is_empty() {
                list.push(QueueStats {
                    port_no: PortNo(r.u32()?),
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: r.u32()?,
                    duration_nsec: r.u32()?,
                });
            }
            B::Queue(list)
        }
        mp::GROUP => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let mut g = record(r, 0, size::GROUP_STATS, "ofp_group_stats")?;
                g.skip(4)?;
                let group_id = g.u32()?;
                let ref_count = g.u32()?;
                g.skip(4)?;
                let mut s = GroupStats {
                    group_id,
                    ref_count,
                    packet_count: g.u64()?,
                    byte_count: g.u64()?,
                    duration_sec: g.u32()?,
                    duration_nsec: g.u32()?,
                    bucket_stats: Vec::new(),
                };
                while !g.is_empty() {
                    s.bucket_stats.push(BucketCounter {
                        packet_count: g.u64()?,
                        byte_count: g.u64()?,
                    });
                }
                list.push(s);
            }
            B::Group(list)
        }
        mp::GROUP_DESC => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let mut g = record(r, 0, size::GROUP_DESC, "ofp_group_desc")?;
                g.skip(2)?;
                let group_type = g.u8()?;
                g.skip(1)?;
                let group_id = g.u32()?;
                list.push(GroupDesc {
                    group_type,
                    group_id,
                    buckets: decode_buckets(&mut g)?,
                });
            }
            B::GroupDesc(list)
        }
        mp::GROUP_FEATURES => {
            let types = r.u32()?;
            let capabilities = r.u32()?;
            let mut max_groups = [0u32; 4];
            for v in &mut max_groups {
                *v = r.u32()?;
            }
            let mut actions = [0u32; 4];
            for v in &mut actions {
                *v = r.u32()?;
            }
            B::GroupFeatures(GroupFeatures {
                types,
                capabilities,
                max_groups,
                actions,
            })
        }
        mp::METER => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let mut m = record(r, 4, size::METER_STATS, "ofp_meter_stats")?;
                let meter_id = m.u32()?;
                m.skip(8)?;
                let mut s = MeterStats {
                    meter_id,
                    flow_count: m.u32()?,
                    packet_in_count: m.u64()?,
                    byte_in_count: m.u64()?,
                    duration_sec: m.u32()?,
                    duration_nsec: m.u32()?,
                    band_stats: Vec::new(),
                };
                while !m.is_empty() {
                    s.band_stats.push(MeterBandStats {
                        packet_band_count: m.u64()?,
                        byte_band_count: m.u64()?,
                    });
                }
                list.push(s);
            }
            B::Meter(list)
        }
        mp::METER_CONFIG => {
            let mut list = Vec::new();
            while !r.is_empty() {
                let mut m = record(r, 0, size::METER_CONFIG, "ofp_meter_config")?;
                m.skip(2)?;
                let flags = m.u16()?;
                let meter_id = m.u32()?;
                list.push(MeterConfig {
                    flags,
                    meter_id,
                    bands: decode_bands(&mut m)?,
                });
            }
            B::MeterConfig(list)
        }
        mp::METER_FEATURES => {
            let f = MeterFeatures {
                max_meter: r.u32()?,
                band_types: r.u32()?,
                capabilities: r.u32()?,
                max_bands: r.u8()?,
                max_color: r.u8()?,
            };
            r.skip(2)?;
            B::MeterFeatures(f)
        }
        mp::TABLE_FEATURES => B::TableFeatures(decode_table_features_list(r)?),
        mp::PORT_DESC => {
            let mut list = Vec::new();
            while !r.is_empty() {
                list.push(decode_port(r)?);
            }
            B::PortDesc(list)
        }
        mp::EXPERIMENTER => B::Experimenter {
            experimenter: r.u32()?,
            exp_type: r.u32()?,
            data: r.rest().to_vec(),
        },
        other => return Err(DecodeError::BadMultipart(other)),
    };
    r.end("multipart reply")?;
    Ok(MultipartReply { flags, body })
}

/// Port stats from the 12 counters in wire order.
pub(crate) fn port_stats(port_no: PortNo, c: [u64; 12], sec: u32, nsec: u32) -> PortStats {
    PortStats {
        port_no,
        rx_packets: c[0],
        tx_packets: c[1],
        rx_bytes: c[2],
        tx_bytes: c[3],
        rx_dropped: c[4],
        tx_dropped: c[5],
        rx_errors: c[6],
        tx_errors: c[7],
        rx_frame_err: c[8],
        rx_over_err: c[9],
        rx_crc_err: c[10],
        collisions: c[11],
        duration_sec: sec,
        duration_nsec: nsec,
    }
}

/// The 12 counters of port stats in wire order.
pub(crate) fn port_counters(s: &PortStats) -> [u64; 12] {
    [
        s.rx_packets,
        s.tx_packets,
        s.rx_bytes,
        s.tx_bytes,
        s.rx_dropped,
        s.tx_dropped,
        s.rx_errors,
        s.tx_errors,
        s.rx_frame_err,
        s.rx_over_err,
        s.rx_crc_err,
        s.collisions,
    ]
}

/// Writes a multipart reply body.
pub(crate) fn encode_reply(w: &mut Writer<'_>, m: &MultipartReply) -> Result<(), EncodeError> {
    use MultipartReplyBody as B;
    let t = match &m.body {
        B::Desc(_) => mp::DESC,
        B::Flow(_) => mp::FLOW,
        B::Aggregate(_) => mp::AGGREGATE,
        B::Table(_) => mp::TABLE,
        B::PortStats(_) => mp::PORT_STATS,
        B::Queue(_) => mp::QUEUE,
        B::Group(_) => mp::GROUP,
        B::GroupDesc(_) => mp::GROUP_DESC,
        B::GroupFeatures(_) => mp::GROUP_FEATURES,
        B::Meter(_) => mp::METER,
        B::MeterConfig(_) => mp::METER_CONFIG,
        B::MeterFeatures(_) => mp::METER_FEATURES,
        B::TableFeatures(_) => mp::TABLE_FEATURES,
        B::PortDesc(_) => mp::PORT_DESC,
        B::Experimenter { .. } => mp::EXPERIMENTER,
    };
    w.u16(t);
    w.u16(m.flags);
    w.zeros(4);
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
                let start = w.pos();
                w.u16(0);
                w.u8(f.table_id);
                w.zeros(1);
                w.u32(f.duration_sec);
                w.u32(f.duration_nsec);
                w.u16(f.priority);
                w.u16(f.idle_timeout);
                w.u16(f.hard_timeout);
                w.u16(f.flags);
                w.zeros(4);
                w.u64(f.cookie);
                w.u64(f.packet_count);
                w.u64(f.byte_count);
                encode_match(w, &f.match_)?;
                encode_instructions(w, &f.instructions)?;
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
                w.u32(s.active_count);
                w.u64(s.lookup_count);
                w.u64(s.matched_count);
            }
        }
        B::PortStats(list) => {
            for s in list {
                w.u32(s.port_no.0);
                w.zeros(4);
                for c in port_counters(s) {
                    w.u64(c);
                }
                w.u32(s.duration_sec);
                w.u32(s.duration_nsec);
            }
        }
        B::Queue(list) => {
            for s in list {
                w.u32(s.port_no.0);
                w.u32(s.queue_id);
                w.u64(s.tx_bytes);
                w.u64(s.tx_packets);
                w.u64(s.tx_errors);
                w.u32(s.duration_sec);
                w.u32(s.duration_nsec);
            }
        }
        B::Group(list) => {
            for s in list {
                let start = w.pos();
                w.u16(0);
                w.zeros(2);
                w.u32(s.group_id);
                w.u32(s.ref_count);
                w.zeros(4);
                w.u64(s.packet_count);
                w.u64(s.byte_count);
                w.u32(s.duration_sec);
                w.u32(s.duration_nsec);
                for b in &s.bucket_stats {
                    w.u64(b.packet_count);
                    w.u64(b.byte_count);
                }
                w.patch_len16(start, start, "ofp_group_stats")?;
            }
        }
        B::GroupDesc(list) => {
            for g in list {
                let start = w.pos();
                w.u16(0);
                w.u8(g.group_type);
                w.zeros(1);
                w.u32(g.group_id);
                encode_buckets(w, &g.buckets)?;
                w.patch_len16(start, start, "ofp_group_desc")?;
            }
        }
        B::GroupFeatures(f) => {
            w.u32(f.types);
            w.u32(f.capabilities);
            for v in f.max_groups.iter().chain(&f.actions) {
                w.u32(*v);
            }
        }
        B::Meter(list) => {
            for s in list {
                let start = w.pos();
                w.u32(s.meter_id);
                w.u16(0);
                w.zeros(6);
                w.u32(s.flow_count);
                w.u64(s.packet_in_count);
                w.u64(s.byte_in_count);
                w.u32(s.duration_sec);
                w.u32(s.duration_nsec);
                for b in &s.band_stats {
                    w.u64(b.packet_band_count);
                    w.u64(b.byte_band_count);
                }
                w.patch_len16(start + 4, start, "ofp_meter_stats")?;
            }
        }
        B::MeterConfig(list) => {
            for c in list {
                let start = w.pos();
                w.u16(0);
                w.u16(c.flags);
                w.u32(c.meter_id);
                encode_bands(w, &c.bands)?;
                w.patch_len16(start, start, "ofp_meter_config")?;
            }
        }
        B::MeterFeatures(f) => {
            w.u32(f.max_meter);
            w.u32(f.band_types);
            w.u32(f.capabilities);
            w.u8(f.max_bands);
            w.u8(f.max_color);
            w.zeros(2);
        }
        B::TableFeatures(list) => {
            for tf in list {
                encode_table_features(w, tf)?;
            }
        }
        B::PortDesc(list) => {
            for p in list {
                encode_port(w, p)?;
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
    }
    Ok(())
}

fn decode_table_features_list(r: &mut Reader<'_>) -> Result<Vec<TableFeatures>, DecodeError> {
    let mut list = Vec::new();
    while !r.is_empty() {
        let mut t = record(r, 0, size::TABLE_FEATURES, "ofp_table_features")?;
        t.skip(2)?;
        let table_id = t.u8()?;
        t.skip(5)?;
        let name = t.text(32)?;
        let metadata_match = t.u64()?;
        let metadata_write = t.u64()?;
        let config = t.u32()?;
        let max_entries = t.u32()?;
        let mut properties = Vec::new();
        while !t.is_empty() {
            properties.push(decode_prop(&mut t)?);
        }
        list.push(TableFeatures {
            table_id,
            name,
            metadata_match,
            metadata_write,
            config,
            max_entries,
            properties,
        });
    }
    Ok(list)
}

fn decode_ids(p: &mut Reader<'_>) -> Result<Vec<FeatureId>, DecodeError> {
    let mut ids = Vec::new();
    while !p.is_empty() {
        let id_type = p.u16()?;
        let len = usize::from(p.u16()?);
        if len < 4 {
            return Err(DecodeError::BadLength {
                what: "table feature id",
                len,
            });
        }
        ids.push(FeatureId {
            id_type,
            data: p.bytes(len - 4)?.to_vec(),
        });
    }
    Ok(ids)
}

fn decode_oxm_ids(p: &mut Reader<'_>) -> Result<Vec<OxmFeatureId>, DecodeError> {
    let mut ids = Vec::new();
    while !p.is_empty() {
        ids.push(decode_feature_id(p)?);
    }
    Ok(ids)
}

fn decode_prop(t: &mut Reader<'_>) -> Result<TableFeatureProp, DecodeError> {
    let prop_type = t.peek_u16(0).unwrap_or(0);
    let len = usize::from(t.peek_u16(2).unwrap_or(0));
    if len < size::TABLE_FEATURE_PROP_HEADER {
        return Err(DecodeError::BadLength {
            what: "ofp_table_feature_prop",
            len,
        });
    }
    let mut p = t.sub(len, "ofp_table_feature_prop")?;
    p.skip(4)?;
    let miss = prop_type % 2 == 1;
    use TableFeatureProp as P;
    let prop = match prop_type {
        tfp::INSTRUCTIONS | tfp::INSTRUCTIONS_MISS => P::Instructions {
            miss,
            ids: decode_ids(&mut p)?,
        },
        tfp::NEXT_TABLES | tfp::NEXT_TABLES_MISS => P::NextTables {
            miss,
            tables: p.rest().to_vec(),
        },
        tfp::WRITE_ACTIONS | tfp::WRITE_ACTIONS_MISS => P::WriteActions {
            miss,
            ids: decode_ids(&mut p)?,
        },
        tfp::APPLY_ACTIONS | tfp::APPLY_ACTIONS_MISS => P::ApplyActions {
            miss,
            ids: decode_ids(&mut p)?,
        },
        tfp::MATCH => P::Match(decode_oxm_ids(&mut p)?),
        tfp::WILDCARDS => P::Wildcards(decode_oxm_ids(&mut p)?),
        tfp::WRITE_SETFIELD | tfp::WRITE_SETFIELD_MISS => P::WriteSetfield {
            miss,
            ids: decode_oxm_ids(&mut p)?,
        },
        tfp::APPLY_SETFIELD | tfp::APPLY_SETFIELD_MISS => P::ApplySetfield {
            miss,
            ids: decode_oxm_ids(&mut p)?,
        },
        tfp::EXPERIMENTER | tfp::EXPERIMENTER_MISS => {
            let experimenter = p.u32()?;
            let exp_type = p.u32()?;
            let mut data = Vec::new();
            while !p.is_empty() {
                data.push(p.u32()?);
            }
            P::Experimenter {
                miss: prop_type == tfp::EXPERIMENTER_MISS,
                experimenter,
                exp_type,
                data,
            }
        }
        _ => P::Unknown {
            prop_type,
            data: p.rest().to_vec(),
        },
    };
    t.skip(((8 - len % 8) % 8).min(t.remaining()))?;
    Ok(prop)
}

fn encode_table_features(w: &mut Writer<'_>, tf: &TableFeatures) -> Result<(), EncodeError> {
    let start = w.pos();
    w.u16(0);
    w.u8(tf.table_id);
    w.zeros(5);
    w.text(&tf.name, 32, "table name")?;
    w.u64(tf.metadata_match);
    w.u64(tf.metadata_write);
    w.u32(tf.config);
    w.u32(tf.max_entries);
    for p in &tf.properties {
        encode_prop(w, p)?;
    }
    w.patch_len16(start, start, "ofp_table_features")
}

fn encode_prop(w: &mut Writer<'_>, p: &TableFeatureProp) -> Result<(), EncodeError> {
    use TableFeatureProp as P;
    let pick = |miss: bool, t: u16| if miss { t + 1 } else { t };
    let start = w.pos();
    let t = match p {
        P::Instructions { miss, .. } => pick(*miss, tfp::INSTRUCTIONS),
        P::NextTables { miss, .. } => pick(*miss, tfp::NEXT_TABLES),
        P::WriteActions { miss, .. } => pick(*miss, tfp::WRITE_ACTIONS),
        P::ApplyActions { miss, .. } => pick(*miss, tfp::APPLY_ACTIONS),
        P::Match(_) => tfp::MATCH,
        P::Wildcards(_) => tfp::WILDCARDS,
        P::WriteSetfield { miss, .. } => pick(*miss, tfp::WRITE_SETFIELD),
        P::ApplySetfield { miss, .. } => pick(*miss, tfp::APPLY_SETFIELD),
        P::Experimenter { miss, .. } => pick(*miss, tfp::EXPERIMENTER),
        P::Unknown { prop_type, .. } => *prop_type,
    };
    w.u16(t);
    w.u16(0);
    match p {
        P::Instructions { ids, .. } | P::WriteActions { ids, .. } | P::ApplyActions { ids, .. } => {
            for id in ids {
                let s = w.pos();
                w.u16(id.id_type);
                w.u16(0);
                w.bytes(&id.data);
                w.patch_len16(s + 2, s, "table feature id")?;
            }
        }
        P::NextTables { tables, .. } => w.bytes(tables),
        P::Match(ids)
        | P::Wildcards(ids)
        | P::WriteSetfield { ids, .. }
        | P::ApplySetfield { ids, .. } => {
            for id in ids {
                encode_feature_id(w, id);
            }
        }
        P::Experimenter {
            experimenter,
            exp_type,
            data,
            ..
        } => {
            w.u32(*experimenter);
            w.u32(*exp_type);
            for v in data {
                w.u32(*v);
            }
        }
        P::Unknown { data, .. } => w.bytes(data),
    }
    w.patch_len16(start + 2, start, "ofp_table_feature_prop")?;
    w.pad_from(start, 8);
    Ok(())
}
