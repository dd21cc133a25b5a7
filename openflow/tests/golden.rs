//! The golden corpus (`tests/golden/`, from os-ken; see its README): every `.packet` of
//! OpenFlow 1.0 and 1.3 decodes to the values of its JSON (os-ken's `to_jsondict` form)
//! and encodes back to the same bytes.
//!
//! The model stores no length field, so "re-encode with every length zeroed" holds by
//! construction: the encoder computes every length from the model, and the byte
//! comparison checks them all. For the same reason the JSON comparison drops os-ken's
//! `len`/`length`/`actions_len` keys (except an OXM id's `length`, which is a value the
//! model keeps).
//!
//! Compared with less than every field, and why (see [`EXCEPTIONS`]):
//! - Nicira (0x2320) and ONF (0x4f4e4600) experimenter actions and the ONF flow-monitor
//!   request are passed through as opaque bytes; os-ken decodes their bodies. We compare
//!   the experimenter id and the subtype (the body's first 16 bits).
//! - Packet data that os-ken parsed into protocols (`"data": {"Packet": ...}`) is compared
//!   on its Ethernet and IPv4 header fields.
//! - `*.truncated64`: os-ken's JSON is its partial parse of the first 64 bytes of the
//!   message; we require a decode error for those bytes (and for the empty file).
//! - `lib-ofctl-*.json` have no `.packet` file: nothing to decode.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use flowlab_openflow::model::multipart::*;
use flowlab_openflow::*;
use serde_json::{json, Map, Value};

/// The cases compared with less than every field (see the module documentation).
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "NXAction*",
        "Nicira experimenter actions are opaque bytes: experimenter id and subtype",
    ),
    (
        "ONFFlowMonitorStatsRequest",
        "ONF experimenter multipart body is opaque",
    ),
    (
        "data: Packet",
        "os-ken parsed the frame: Ethernet and IPv4 header fields",
    ),
    (
        "*.truncated64",
        "os-ken's partial parse: the bytes must not decode",
    ),
];

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn packet_files(version: &str) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(golden().join("packet_data").join(version))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "packet"))
        .collect();
    files.sort();
    files
}

fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut f = Framer::new();
    f.extend(bytes);
    let mut out = Vec::new();
    while let Some(frame) = f.next_frame() {
        out.push(frame.unwrap().to_vec());
    }
    assert_eq!(f.buffered(), 0, "trailing bytes");
    out
}

#[test]
fn every_packet_encodes_back_to_its_bytes() {
    let mut n = 0;
    for v in ["of10", "of13"] {
        for path in packet_files(v) {
            let bytes = std::fs::read(&path).unwrap();
            for frame in frames(&bytes) {
                let (h, m) = decode(&frame).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                assert_eq!(usize::from(h.length), frame.len());
                let mut out = vec![0xa5; 3];
                encode(h.version, h.xid, &m, &mut out).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                assert_eq!(&out[3..], &frame[..], "{path:?}");
                // Decoding what we wrote gives the same message.
                assert_eq!(decode(&out[3..]).unwrap(), (h, m), "{path:?}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 13 + 104);
}

#[test]
fn every_packet_decodes_to_its_json() {
    let mut failures = String::new();
    let mut compared = 0;
    for v in ["of10", "of13"] {
        for path in packet_files(v) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let json_path = golden().join("json").join(v).join(format!("{name}.json"));
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let (h, m) = decode(&bytes).unwrap();
            let ours = msg_json(h.version, &m);
            let expected = normalize(expected, &ours, "");
            if ours != expected {
                let _ = writeln!(failures, "{name}: {}", first_diff(&ours, &expected, ""));
            }
            compared += 1;
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert_eq!(compared, 13 + 104);
    assert_eq!(EXCEPTIONS.len(), 4);
}

#[test]
fn truncated_packets_do_not_decode() {
    let dir = golden().join("packet_data/of13");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "truncated64") {
            let bytes = std::fs::read(&path).unwrap();
            assert!(decode(&bytes).is_err(), "{path:?}");
            // os-ken's case: the first 64 bytes of the full message.
            let full = std::fs::read(path.with_extension("packet")).unwrap();
            let cut = &full[..64.min(full.len())];
            assert!(
                matches!(decode(cut), Err(DecodeError::Truncated { .. })),
                "{path:?}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 1);
    // And every proper prefix of every golden message fails cleanly.
    for v in ["of10", "of13"] {
        for path in packet_files(v) {
            let bytes = std::fs::read(&path).unwrap();
            for cut in 0..bytes.len() {
                assert!(decode(&bytes[..cut]).is_err(), "{path:?} cut at {cut}");
            }
        }
    }
}

/// Where two values first differ, for the failure message.
fn first_diff(ours: &Value, expected: &Value, path: &str) -> String {
    match (ours, expected) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys()) {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                if x != y {
                    return first_diff(x, y, &format!("{path}.{k}"));
                }
            }
            String::new()
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if x != y {
                    return first_diff(x, y, &format!("{path}[{i}]"));
                }
            }
            String::new()
        }
        _ => format!("at {path}: ours {ours} expected {expected}"),
    }
}

// ---- normalisation of os-ken's JSON ----

/// Drops wire lengths and turns the exceptions into the shape `msg_json` gives them.
fn normalize(v: Value, ours: &Value, class: &str) -> Value {
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                let (k, inner) = map.into_iter().next().unwrap();
                if k.starts_with("NXAction") {
                    return nx_opaque(&inner);
                }
                if k == "ONFFlowMonitorStatsRequest" {
                    return json!({"OFPExperimenterStatsRequest": {
                        "experimenter": inner["experimenter"],
                        "exp_type": inner["exp_type"],
                        "flags": inner["flags"],
                        "type": inner["type"],
                    }});
                }
                if k == "Packet" {
                    // Our side is the frame in base64: equal headers make them equal.
                    let frame = ours.as_str().map(unb64).unwrap_or_default();
                    let expected = packet_headers_expected(&inner);
                    if frame.len() >= 34 && packet_headers_ours(&frame) == expected {
                        return ours.clone();
                    }
                    return expected;
                }
                let ours_inner = ours.get(&k).unwrap_or(&Value::Null);
                let mut m = Map::new();
                m.insert(k.clone(), normalize(inner, ours_inner, &k));
                return Value::Object(m);
            }
            let mut out = Map::new();
            for (k, val) in map {
                let keep_length = class == "OFPOxmId";
                if !keep_length && matches!(k.as_str(), "len" | "length" | "actions_len") {
                    continue;
                }
                let o = ours.get(&k).unwrap_or(&Value::Null);
                out.insert(k, normalize(val, o, class));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, x)| normalize(x, ours.get(i).unwrap_or(&Value::Null), class))
                .collect(),
        ),
        other => other,
    }
}

fn nx_opaque(inner: &Value) -> Value {
    let experimenter = inner.get("experimenter").or(inner.get("vendor")).cloned();
    json!({"NX_OPAQUE": {"experimenter": experimenter, "subtype": inner["subtype"]}})
}

fn packet_headers_expected(p: &Value) -> Value {
    let protos = p["protocols"].as_array().unwrap();
    let eth = &protos[0]["ethernet"];
    let ip = &protos[1]["ipv4"];
    json!({"headers": {
        "eth_dst": eth["dst"], "eth_src": eth["src"], "ethertype": eth["ethertype"],
        "ip_src": ip["src"], "ip_dst": ip["dst"], "proto": ip["proto"], "ttl": ip["ttl"],
        "total_length": ip["total_length"], "identification": ip["identification"],
        "csum": ip["csum"],
    }})
}

fn packet_headers_ours(d: &[u8]) -> Value {
    let u16at = |i: usize| u16::from_be_bytes([d[i], d[i + 1]]);
    json!({"headers": {
        "eth_dst": mac(&d[0..6]), "eth_src": mac(&d[6..12]), "ethertype": u16at(12),
        "ip_src": ipv4(&d[26..30]), "ip_dst": ipv4(&d[30..34]), "proto": d[23], "ttl": d[22],
        "total_length": u16at(16), "identification": u16at(18), "csum": u16at(24),
    }})
}

// ---- our model in os-ken's JSON shape ----

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn unb64(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|&c| c != b'=') {
        acc = (acc << 6) | A.iter().position(|&a| a == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ipv4(b: &[u8]) -> String {
    Ipv4Addr::from(<[u8; 4]>::try_from(b).unwrap()).to_string()
}

fn uint(b: &[u8]) -> Value {
    json!(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

/// Names of the Nicira (class 0x0001) fields in the corpus.
fn nxm_name(field: u8) -> String {
    match field {
        0..=15 => format!("reg{field}"),
        31 => "tun_ipv4_src".into(),
        32 => "tun_ipv4_dst".into(),
        33 => "pkt_mark".into(),
        37 => "conj_id".into(),
        105 => "ct_state".into(),
        106 => "ct_zone".into(),
        107 => "ct_mark".into(),
        other => format!("nxm1_{other}"),
    }
}

fn oxm_value(name: &str, b: &[u8]) -> Value {
    match name {
        "eth_dst" | "eth_src" | "arp_sha" | "arp_tha" | "ipv6_nd_sll" | "ipv6_nd_tll" => {
            json!(mac(b))
        }
        "ipv4_src" | "ipv4_dst" | "arp_spa" | "arp_tpa" | "tun_ipv4_src" | "tun_ipv4_dst" => {
            json!(ipv4(b))
        }
        "ipv6_src" | "ipv6_dst" | "ipv6_nd_target" => {
            json!(Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap()).to_string())
        }
        _ => uint(b),
    }
}

fn oxm_name(id: OxmId) -> String {
    match id {
        OxmId::Unknown { class: 1, field } => nxm_name(field),
        other => other
            .name()
            .map_or_else(|| format!("{other:?}"), str::to_string),
    }
}

fn oxm_json(f: &OxmField) -> Value {
    let name = oxm_name(f.id);
    json!({"OXMTlv": {
        "field": name,
        "value": oxm_value(&name, &f.value),
        "mask": f.mask.as_ref().map(|m| oxm_value(&name, m)),
    }})
}

fn match_json(version: u8, m: &Match) -> Value {
    if version == v10::VERSION {
        let w = v10::MatchV10::from_match(m).unwrap();
        return json!({"OFPMatch": {
            "wildcards": w.wildcards, "in_port": w.in_port, "dl_src": mac(&w.dl_src),
            "dl_dst": mac(&w.dl_dst), "dl_vlan": w.dl_vlan, "dl_vlan_pcp": w.dl_vlan_pcp,
            "dl_type": w.dl_type, "nw_tos": w.nw_tos, "nw_proto": w.nw_proto,
            "nw_src": ipv4(&w.nw_src.to_be_bytes()), "nw_dst": ipv4(&w.nw_dst.to_be_bytes()),
            "tp_src": w.tp_src, "tp_dst": w.tp_dst,
        }});
    }
    json!({"OFPMatch": {"type": 1, "oxm_fields": m.fields.iter().map(oxm_json).collect::<Vec<_>>()}})
}

fn v10_port(p: PortNo) -> u16 {
    p.to_v10().unwrap()
}

fn action_json(version: u8, a: &Action) -> Value {
    if version == v10::VERSION {
        return match a {
            Action::Output { port, max_len } => {
                json!({"OFPActionOutput": {"port": v10_port(*port), "max_len": max_len}})
            }
            Action::Experimenter { experimenter, data } if *experimenter == 0x2320 => {
                json!({"NX_OPAQUE": {"experimenter": experimenter, "subtype": uint(&data[..2])}})
            }
            other => json!({"UNEXPECTED": format!("{other:?}")}),
        };
    }
    let t = |name: &str, ty: u16| json!({ name: {"type": ty} });
    match a {
        Action::Output { port, max_len } => {
            json!({"OFPActionOutput": {"type": 0, "port": port.0, "max_len": max_len}})
        }
        Action::CopyTtlOut => t("OFPActionCopyTtlOut", 11),
        Action::CopyTtlIn => t("OFPActionCopyTtlIn", 12),
        Action::SetMplsTtl(ttl) => json!({"OFPActionSetMplsTtl": {"type": 15, "mpls_ttl": ttl}}),
        Action::DecMplsTtl => t("OFPActionDecMplsTtl", 16),
        Action::PushVlan(e) => json!({"OFPActionPushVlan": {"type": 17, "ethertype": e}}),
        Action::PopVlan => t("OFPActionPopVlan", 18),
        Action::PushMpls(e) => json!({"OFPActionPushMpls": {"type": 19, "ethertype": e}}),
        Action::PopMpls(e) => json!({"OFPActionPopMpls": {"type": 20, "ethertype": e}}),
        Action::SetQueue(q) => json!({"OFPActionSetQueue": {"type": 21, "queue_id": q}}),
        Action::Group(g) => json!({"OFPActionGroup": {"type": 22, "group_id": g}}),
        Action::SetNwTtl(ttl) => json!({"OFPActionSetNwTtl": {"type": 23, "nw_ttl": ttl}}),
        Action::DecNwTtl => t("OFPActionDecNwTtl", 24),
        Action::SetField(f) => json!({"OFPActionSetField": {"type": 25, "field": oxm_json(f)}}),
        Action::PushPbb(e) => json!({"OFPActionPushPbb": {"type": 26, "ethertype": e}}),
        Action::PopPbb => t("OFPActionPopPbb", 27),
        Action::Experimenter { experimenter, data }
            if *experimenter == 0x2320 || *experimenter == 0x4f4e4600 =>
        {
            json!({"NX_OPAQUE": {"experimenter": experimenter, "subtype": uint(&data[..2])}})
        }
        Action::Experimenter { experimenter, data } => json!({"OFPActionExperimenterUnknown": {
            "type": 0xffff, "experimenter": experimenter, "data": b64(data)
        }}),
        other => json!({"UNEXPECTED": format!("{other:?}")}),
    }
}

fn actions_json(version: u8, actions: &[Action]) -> Value {
    Value::Array(actions.iter().map(|a| action_json(version, a)).collect())
}

fn instruction_json(i: &Instruction) -> Value {
    match i {
        Instruction::GotoTable(t) => json!({"OFPInstructionGotoTable": {"type": 1, "table_id": t}}),
        Instruction::WriteMetadata { metadata, mask } => json!({"OFPInstructionWriteMetadata": {
            "type": 2, "metadata": metadata, "metadata_mask": mask
        }}),
        Instruction::WriteActions(a) => {
            json!({"OFPInstructionActions": {"type": 3, "actions": actions_json(4, a)}})
        }
        Instruction::ApplyActions(a) => {
            json!({"OFPInstructionActions": {"type": 4, "actions": actions_json(4, a)}})
        }
        Instruction::ClearActions => json!({"OFPInstructionActions": {"type": 5, "actions": []}}),
        Instruction::Meter(m) => json!({"OFPInstructionMeter": {"type": 6, "meter_id": m}}),
        Instruction::Experimenter { experimenter, data } => json!({"OFPInstructionExperimenter": {
            "type": 0xffff, "experimenter": experimenter, "data": b64(data)
        }}),
    }
}

fn instructions_json(list: &[Instruction]) -> Value {
    Value::Array(list.iter().map(instruction_json).collect())
}

fn port_json(version: u8, p: &Port) -> Value {
    if version == v10::VERSION {
        let f = model::port::features::to_v10;
        return json!({"OFPPhyPort": {
            "port_no": v10_port(p.port_no), "hw_addr": mac(&p.hw_addr), "name": p.name,
            "config": p.config, "state": p.state, "curr": f(p.curr),
            "advertised": f(p.advertised), "supported": f(p.supported), "peer": f(p.peer),
        }});
    }
    json!({"OFPPort": {
        "port_no": p.port_no.0, "hw_addr": mac(&p.hw_addr), "name": p.name,
        "config": p.config, "state": p.state, "curr": p.curr, "advertised": p.advertised,
        "supported": p.supported, "peer": p.peer, "curr_speed": p.curr_speed,
        "max_speed": p.max_speed,
    }})
}

fn buckets_json(buckets: &[Bucket]) -> Value {
    buckets
        .iter()
        .map(|b| {
            json!({"OFPBucket": {
                "weight": b.weight, "watch_port": b.watch_port.0, "watch_group": b.watch_group,
                "actions": actions_json(4, &b.actions),
            }})
        })
        .collect()
}

fn bands_json(bands: &[MeterBand]) -> Value {
    bands
        .iter()
        .map(|b| match b {
            MeterBand::Drop { rate, burst_size } => {
                json!({"OFPMeterBandDrop": {"type": 1, "rate": rate, "burst_size": burst_size}})
            }
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            } => {
                json!({"OFPMeterBandDscpRemark": {
                    "type": 2, "rate": rate, "burst_size": burst_size, "prec_level": prec_level
                }})
            }
            MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                ..
            } => {
                json!({"OFPMeterBandExperimenter": {
                    "type": 0xffff, "rate": rate, "burst_size": burst_size,
                    "experimenter": experimenter
                }})
            }
        })
        .collect()
}

fn data_json(d: &[u8]) -> Value {
    json!(b64(d))
}

fn flow_stats_request_json(
    name: &str,
    r: &MultipartRequest,
    req: &FlowStatsRequest,
    t: u16,
) -> Value {
    json!({ name: {
        "flags": r.flags, "type": t, "table_id": req.table_id, "out_port": req.out_port.0,
        "out_group": req.out_group, "cookie": req.cookie, "cookie_mask": req.cookie_mask,
        "match": match_json(4, &req.match_),
    }})
}

fn table_features_json(list: &[TableFeatures]) -> Value {
    let ids = |ids: &[FeatureId], name: &str| -> Value {
        ids.iter()
            .map(|i| json!({ name: {"type": i.id_type} }))
            .collect()
    };
    let oxm_ids = |ids: &[OxmFeatureId]| -> Value {
        ids.iter()
            .map(|i| {
                json!({"OFPOxmId": {
                    "type": oxm_name(i.id), "hasmask": u8::from(i.has_mask), "length": i.length
                }})
            })
            .collect()
    };
    list.iter()
        .map(|tf| {
            let props: Vec<Value> = tf
                .properties
                .iter()
                .map(|p| {
                    use TableFeatureProp as P;
                    let ty = |base: u16, miss: bool| base + u16::from(miss);
                    match p {
                        P::Instructions { miss, ids: i } => {
                            json!({"OFPTableFeaturePropInstructions": {
                                "type": ty(0, *miss), "instruction_ids": ids(i, "OFPInstructionId")
                            }})
                        }
                        P::NextTables { miss, tables } => {
                            json!({"OFPTableFeaturePropNextTables": {
                                "type": ty(2, *miss), "table_ids": tables
                            }})
                        }
                        P::WriteActions { miss, ids: i } => json!({"OFPTableFeaturePropActions": {
                            "type": ty(4, *miss), "action_ids": ids(i, "OFPActionId")
                        }}),
                        P::ApplyActions { miss, ids: i } => json!({"OFPTableFeaturePropActions": {
                            "type": ty(6, *miss), "action_ids": ids(i, "OFPActionId")
                        }}),
                        P::Match(i) => {
                            json!({"OFPTableFeaturePropOxm": {"type": 8, "oxm_ids": oxm_ids(i)}})
                        }
                        P::Wildcards(i) => {
                            json!({"OFPTableFeaturePropOxm": {"type": 10, "oxm_ids": oxm_ids(i)}})
                        }
                        P::WriteSetfield { miss, ids: i } => json!({"OFPTableFeaturePropOxm": {
                            "type": ty(12, *miss), "oxm_ids": oxm_ids(i)
                        }}),
                        P::ApplySetfield { miss, ids: i } => json!({"OFPTableFeaturePropOxm": {
                            "type": ty(14, *miss), "oxm_ids": oxm_ids(i)
                        }}),
                        P::Experimenter { miss, experimenter, exp_type, data } => {
                            json!({"OFPTableFeaturePropExperimenter": {
                                "type": ty(0xfffe, *miss), "experimenter": experimenter,
                                "exp_type": exp_type, "data": data
                            }})
                        }
                        P::Unknown { prop_type, data } => {
                            json!({"OFPTableFeaturePropUnknown": {"type": prop_type, "data": b64(data)}})
                        }
                    }
                })
                .collect();
            json!({"OFPTableFeaturesStats": {
                "table_id": tf.table_id, "name": tf.name, "metadata_match": tf.metadata_match,
                "metadata_write": tf.metadata_write, "config": tf.config,
                "max_entries": tf.max_entries, "properties": props,
            }})
        })
        .collect()
}

fn request_json(version: u8, r: &MultipartRequest) -> Value {
    use MultipartRequestBody as B;
    let plain = |name: &str, t: u16| json!({ name: {"flags": r.flags, "type": t} });
    match &r.body {
        B::Desc => plain("OFPDescStatsRequest", 0),
        B::Flow(req) => flow_stats_request_json("OFPFlowStatsRequest", r, req, 1),
        B::Aggregate(req) => flow_stats_request_json("OFPAggregateStatsRequest", r, req, 2),
        B::Table => plain("OFPTableStatsRequest", 3),
        B::PortStats(p) => {
            json!({"OFPPortStatsRequest": {"flags": r.flags, "type": 4, "port_no": p.0}})
        }
        B::Queue { port_no, queue_id } => json!({"OFPQueueStatsRequest": {
            "flags": r.flags, "type": 5, "port_no": port_no.0, "queue_id": queue_id
        }}),
        B::Group(g) => {
            json!({"OFPGroupStatsRequest": {"flags": r.flags, "type": 6, "group_id": g}})
        }
        B::GroupDesc => plain("OFPGroupDescStatsRequest", 7),
        B::GroupFeatures => plain("OFPGroupFeaturesStatsRequest", 8),
        B::Meter(m) => {
            json!({"OFPMeterStatsRequest": {"flags": r.flags, "type": 9, "meter_id": m}})
        }
        B::MeterConfig(m) => {
            json!({"OFPMeterConfigStatsRequest": {"flags": r.flags, "type": 10, "meter_id": m}})
        }
        B::MeterFeatures => plain("OFPMeterFeaturesStatsRequest", 11),
        B::TableFeatures(list) => json!({"OFPTableFeaturesStatsRequest": {
            "flags": r.flags, "type": 12, "body": table_features_json(list)
        }}),
        B::PortDesc => plain("OFPPortDescStatsRequest", 13),
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => {
            let mut v = json!({"OFPExperimenterStatsRequest": {
                "flags": r.flags, "type": 0xffff, "experimenter": experimenter,
                "exp_type": exp_type, "data": b64(data),
            }});
            if *experimenter == 0x4f4e4600 {
                v["OFPExperimenterStatsRequest"]
                    .as_object_mut()
                    .unwrap()
                    .remove("data");
            }
            let _ = version;
            v
        }
    }
}

fn reply_json(r: &MultipartReply) -> Value {
    use MultipartReplyBody as B;
    let wrap = |name: &str, t: u16, body: Value| json!({ name: {"flags": r.flags, "type": t, "body": body} });
    match &r.body {
        B::Desc(d) => wrap(
            "OFPDescStatsReply",
            0,
            json!({"OFPDescStats": {
                "mfr_desc": d.mfr_desc, "hw_desc": d.hw_desc, "sw_desc": d.sw_desc,
                "serial_num": d.serial_num, "dp_desc": d.dp_desc,
            }}),
        ),
        B::Flow(list) => wrap(
            "OFPFlowStatsReply",
            1,
            list.iter()
                .map(|f| {
                    json!({"OFPFlowStats": {
                        "table_id": f.table_id, "duration_sec": f.duration_sec,
                        "duration_nsec": f.duration_nsec, "priority": f.priority,
                        "idle_timeout": f.idle_timeout, "hard_timeout": f.hard_timeout,
                        "flags": f.flags, "cookie": f.cookie, "packet_count": f.packet_count,
                        "byte_count": f.byte_count, "match": match_json(4, &f.match_),
                        "instructions": instructions_json(&f.instructions),
                    }})
                })
                .collect(),
        ),
        B::Aggregate(a) => wrap(
            "OFPAggregateStatsReply",
            2,
            json!({"OFPAggregateStats": {
                "packet_count": a.packet_count, "byte_count": a.byte_count,
                "flow_count": a.flow_count
            }}),
        ),
        B::Table(list) => wrap(
            "OFPTableStatsReply",
            3,
            list.iter()
                .map(|t| {
                    json!({"OFPTableStats": {
                        "table_id": t.table_id, "active_count": t.active_count,
                        "lookup_count": t.lookup_count, "matched_count": t.matched_count,
                    }})
                })
                .collect(),
        ),
        B::PortStats(list) => wrap(
            "OFPPortStatsReply",
            4,
            list.iter()
                .map(|s| {
                    json!({"OFPPortStats": {
                        "port_no": s.port_no.0, "rx_packets": s.rx_packets,
                        "tx_packets": s.tx_packets, "rx_bytes": s.rx_bytes,
                        "tx_bytes": s.tx_bytes, "rx_dropped": s.rx_dropped,
                        "tx_dropped": s.tx_dropped, "rx_errors": s.rx_errors,
                        "tx_errors": s.tx_errors, "rx_frame_err": s.rx_frame_err,
                        "rx_over_err": s.rx_over_err, "rx_crc_err": s.rx_crc_err,
                        "collisions": s.collisions, "duration_sec": s.duration_sec,
                        "duration_nsec": s.duration_nsec,
                    }})
                })
                .collect(),
        ),
        B::Queue(list) => wrap(
            "OFPQueueStatsReply",
            5,
            list.iter()
                .map(|s| {
                    json!({"OFPQueueStats": {
                        "port_no": s.port_no.0, "queue_id": s.queue_id, "tx_bytes": s.tx_bytes,
                        "tx_packets": s.tx_packets, "tx_errors": s.tx_errors,
                        "duration_sec": s.duration_sec, "duration_nsec": s.duration_nsec,
                    }})
                })
                .collect(),
        ),
        B::Group(list) => wrap(
            "OFPGroupStatsReply",
            6,
            list.iter()
                .map(|s| {
                    json!({"OFPGroupStats": {
                        "group_id": s.group_id, "ref_count": s.ref_count,
                        "packet_count": s.packet_count, "byte_count": s.byte_count,
                        "duration_sec": s.duration_sec, "duration_nsec": s.duration_nsec,
                        "bucket_stats": s.bucket_stats.iter().map(|b| json!({"OFPBucketCounter": {
                            "packet_count": b.packet_count, "byte_count": b.byte_count
                        }})).collect::<Vec<_>>(),
                    }})
                })
                .collect(),
        ),
        B::GroupDesc(list) => wrap(
            "OFPGroupDescStatsReply",
            7,
            list.iter()
                .map(|g| {
                    json!({"OFPGroupDescStats": {
                        "type": g.group_type, "group_id": g.group_id,
                        "buckets": buckets_json(&g.buckets),
                    }})
                })
                .collect(),
        ),
        B::GroupFeatures(f) => wrap(
            "OFPGroupFeaturesStatsReply",
            8,
            json!({"OFPGroupFeaturesStats": {
                "types": f.types, "capabilities": f.capabilities, "max_groups": f.max_groups,
                "actions": f.actions,
            }}),
        ),
        B::Meter(list) => wrap(
            "OFPMeterStatsReply",
            9,
            list.iter()
                .map(|s| {
                    json!({"OFPMeterStats": {
                        "meter_id": s.meter_id, "flow_count": s.flow_count,
                        "packet_in_count": s.packet_in_count, "byte_in_count": s.byte_in_count,
                        "duration_sec": s.duration_sec, "duration_nsec": s.duration_nsec,
                        "band_stats": s.band_stats.iter().map(|b| json!({"OFPMeterBandStats": {
                            "packet_band_count": b.packet_band_count,
                            "byte_band_count": b.byte_band_count,
                        }})).collect::<Vec<_>>(),
                    }})
                })
                .collect(),
        ),
        B::MeterConfig(list) => wrap(
            "OFPMeterConfigStatsReply",
            10,
            list.iter()
                .map(|c| {
                    json!({"OFPMeterConfigStats": {
                        "flags": c.flags, "meter_id": c.meter_id, "bands": bands_json(&c.bands)
                    }})
                })
                .collect(),
        ),
        B::MeterFeatures(f) => wrap(
            "OFPMeterFeaturesStatsReply",
            11,
            json!([{"OFPMeterFeaturesStats": {
                "max_meter": f.max_meter, "band_types": f.band_types,
                "capabilities": f.capabilities, "max_bands": f.max_bands,
                "max_color": f.max_color,
            }}]),
        ),
        B::TableFeatures(list) => wrap("OFPTableFeaturesStatsReply", 12, table_features_json(list)),
        B::PortDesc(list) => wrap(
            "OFPPortDescStatsReply",
            13,
            list.iter().map(|p| port_json(4, p)).collect(),
        ),
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => wrap(
            "OFPExperimenterStatsReply",
            0xffff,
            json!({"OFPExperimenterMultipart": {
                "experimenter": experimenter, "exp_type": exp_type, "data": b64(data)
            }}),
        ),
    }
}

fn msg_json(version: u8, m: &Message) -> Value {
    let v10 = version == v10::VERSION;
    match m {
        Message::Hello(h) => json!({"OFPHello": {"elements": h.elements.iter().map(|e| match e {
            HelloElement::VersionBitmap(_) => json!({"OFPHelloElemVersionBitmap": {
                "type": 1,
                "versions": Hello { elements: vec![e.clone()] }.versions().unwrap(),
            }}),
            HelloElement::Unknown { elem_type, data } => {
                json!({"OFPHelloElemUnknown": {"type": elem_type, "data": b64(data)}})
            }
        }).collect::<Vec<_>>()}}),
        Message::Error(e) => match e.code {
            ErrorCode::Experimenter {
                exp_type,
                experimenter,
            } => json!({"OFPErrorMsg": {
                "type": 0xffff, "code": null, "exp_type": exp_type,
                "experimenter": experimenter, "data": b64(&e.data)
            }}),
            code => {
                let (t, c) = code.to_wire(version);
                json!({"OFPErrorMsg": {"type": t, "code": c, "data": b64(&e.data)}})
            }
        },
        Message::EchoRequest(d) => json!({"OFPEchoRequest": {"data": b64(d)}}),
        Message::EchoReply(d) => json!({"OFPEchoReply": {"data": b64(d)}}),
        Message::Experimenter(e) => json!({"OFPExperimenter": {
            "experimenter": e.experimenter, "exp_type": e.exp_type, "data": b64(&e.data)
        }}),
        Message::FeaturesRequest => json!({"OFPFeaturesRequest": {}}),
        Message::FeaturesReply(f) if v10 => {
            let ports: Map<String, Value> = f
                .ports
                .iter()
                .map(|p| (v10_port(p.port_no).to_string(), port_json(version, p)))
                .collect();
            json!({"OFPSwitchFeatures": {
                "datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables,
                "capabilities": f.capabilities, "actions": f.actions, "ports": ports,
            }})
        }
        Message::FeaturesReply(f) => json!({"OFPSwitchFeatures": {
            "datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables,
            "auxiliary_id": f.auxiliary_id, "capabilities": f.capabilities,
        }}),
        Message::GetConfigRequest => json!({"OFPGetConfigRequest": {}}),
        Message::GetConfigReply(c) => json!({"OFPGetConfigReply": {
            "flags": c.flags, "miss_send_len": c.miss_send_len
        }}),
        Message::SetConfig(c) => json!({"OFPSetConfig": {
            "flags": c.flags, "miss_send_len": c.miss_send_len
        }}),
        Message::PacketIn(p) if v10 => json!({"OFPPacketIn": {
            "buffer_id": p.buffer_id, "total_len": p.total_len,
            "in_port": v10_port(p.in_port().unwrap()), "reason": p.reason, "data": b64(&p.data),
        }}),
        Message::PacketIn(p) => json!({"OFPPacketIn": {
            "buffer_id": p.buffer_id, "total_len": p.total_len, "reason": p.reason,
            "table_id": p.table_id, "cookie": p.cookie, "match": match_json(version, &p.match_),
            "data": b64(&p.data),
        }}),
        Message::FlowRemoved(f) => json!({"OFPFlowRemoved": {
            "cookie": f.cookie, "priority": f.priority, "reason": f.reason,
            "table_id": f.table_id, "duration_sec": f.duration_sec,
            "duration_nsec": f.duration_nsec, "idle_timeout": f.idle_timeout,
            "hard_timeout": f.hard_timeout, "packet_count": f.packet_count,
            "byte_count": f.byte_count, "match": match_json(version, &f.match_),
        }}),
        Message::PortStatus(p) => json!({"OFPPortStatus": {
            "reason": p.reason, "desc": port_json(version, &p.desc)
        }}),
        Message::PacketOut(p) => {
            let in_port = if v10 {
                u32::from(v10_port(p.in_port))
            } else {
                p.in_port.0
            };
            let data = data_json(&p.data);
            json!({"OFPPacketOut": {
                "buffer_id": p.buffer_id, "in_port": in_port,
                "actions": actions_json(version, &p.actions), "data": data,
            }})
        }
        Message::FlowMod(f) if v10 => {
            let actions = match f.instructions.as_slice() {
                [Instruction::ApplyActions(a)] => a.clone(),
                _ => Vec::new(),
            };
            json!({"OFPFlowMod": {
                "match": match_json(version, &f.match_), "cookie": f.cookie,
                "command": f.command.to_u16(), "idle_timeout": f.idle_timeout,
                "hard_timeout": f.hard_timeout, "priority": f.priority,
                "buffer_id": f.buffer_id, "out_port": v10_port(f.out_port), "flags": f.flags,
                "actions": actions_json(version, &actions),
            }})
        }
        Message::FlowMod(f) => json!({"OFPFlowMod": {
            "cookie": f.cookie, "cookie_mask": f.cookie_mask, "table_id": f.table_id,
            "command": f.command.to_u16(), "idle_timeout": f.idle_timeout,
            "hard_timeout": f.hard_timeout, "priority": f.priority, "buffer_id": f.buffer_id,
            "out_port": f.out_port.0, "out_group": f.out_group, "flags": f.flags,
            "match": match_json(version, &f.match_),
            "instructions": instructions_json(&f.instructions),
        }}),
        Message::GroupMod(g) => json!({"OFPGroupMod": {
            "command": g.command, "type": g.group_type, "group_id": g.group_id,
            "buckets": buckets_json(&g.buckets),
        }}),
        Message::PortMod(p) => json!({"OFPPortMod": {
            "port_no": p.port_no.0, "hw_addr": mac(&p.hw_addr), "config": p.config,
            "mask": p.mask, "advertise": p.advertise,
        }}),
        Message::TableMod(t) => {
            json!({"OFPTableMod": {"table_id": t.table_id, "config": t.config}})
        }
        Message::MultipartRequest(r) => request_json(version, r),
        Message::MultipartReply(r) => reply_json(r),
        Message::BarrierRequest => json!({"OFPBarrierRequest": {}}),
        Message::BarrierReply => json!({"OFPBarrierReply": {}}),
        Message::QueueGetConfigRequest(p) => json!({"OFPQueueGetConfigRequest": {"port": p.0}}),
        Message::QueueGetConfigReply(q) => json!({"OFPQueueGetConfigReply": {
            "port": q.port.0,
            "queues": q.queues.iter().map(|queue| json!({"OFPPacketQueue": {
                "queue_id": queue.queue_id, "port": queue.port.0,
                "properties": queue.properties.iter().map(|p| match p {
                    QueueProp::MinRate(r) => json!({"OFPQueuePropMinRate": {"property": 1, "rate": r}}),
                    QueueProp::MaxRate(r) => json!({"OFPQueuePropMaxRate": {"property": 2, "rate": r}}),
                    QueueProp::Experimenter { experimenter, data } => json!({"OFPQueuePropExperimenter": {
                        "property": 0xffff, "experimenter": experimenter, "data": data
                    }}),
                    QueueProp::Unknown { prop_type, data } => json!({"OFPQueuePropUnknown": {
                        "property": prop_type, "data": data
                    }}),
                }).collect::<Vec<_>>(),
            }})).collect::<Vec<_>>(),
        }}),
        Message::RoleRequest(r) => json!({"OFPRoleRequest": {
            "role": r.role, "generation_id": r.generation_id
        }}),
        Message::RoleReply(r) => json!({"OFPRoleReply": {
            "role": r.role, "generation_id": r.generation_id
        }}),
        Message::GetAsyncRequest => json!({"OFPGetAsyncRequest": {}}),
        Message::GetAsyncReply(c) | Message::SetAsync(c) => {
            let name = if matches!(m, Message::SetAsync(_)) {
                "OFPSetAsync"
            } else {
                "OFPGetAsyncReply"
            };
            json!({ name: {
                "packet_in_mask": c.packet_in_mask, "port_status_mask": c.port_status_mask,
                "flow_removed_mask": c.flow_removed_mask,
            }})
        }
        Message::MeterMod(mm) => json!({"OFPMeterMod": {
            "command": mm.command, "flags": mm.flags, "meter_id": mm.meter_id,
            "bands": bands_json(&mm.bands),
        }}),
    }
}

#[test]
fn the_corpus_is_where_expected() {
    assert!(Path::new(&golden()).join("README.md").exists());
}
