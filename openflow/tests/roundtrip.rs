//! Property tests: generated messages of both versions survive encode → decode, and
//! whatever decodes (including mutated golden messages) encodes again to a message that
//! decodes to the same value.

use flowlab_openflow::model::multipart::*;
use flowlab_openflow::v10::MatchV10;
use flowlab_openflow::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

// ---- shared pieces ----

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// Bytes whose length is a multiple of 8 (experimenter bodies are padded to 8).
fn bytes8(max_words: usize) -> impl Strategy<Value = Vec<u8>> {
    (0..=max_words).prop_flat_map(|n| vec(any::<u8>(), n * 8))
}

fn name(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 _é-]{{0,{}}}", max / 2)).unwrap()
}

fn mac() -> impl Strategy<Value = [u8; 6]> {
    any::<[u8; 6]>()
}

fn port13() -> impl Strategy<Value = PortNo> {
    prop_oneof![
        any::<u32>().prop_map(PortNo),
        Just(PortNo::CONTROLLER),
        Just(PortNo::ANY)
    ]
}

fn port10() -> impl Strategy<Value = PortNo> {
    any::<u16>().prop_map(PortNo::from_v10)
}

fn maybe_mask(allowed: bool, width: usize) -> BoxedStrategy<Option<Vec<u8>>> {
    if allowed {
        option::of(vec(any::<u8>(), width)).boxed()
    } else {
        Just(None).boxed()
    }
}

fn basic_field(masked: bool) -> impl Strategy<Value = OxmField> {
    let ids: Vec<OxmId> = OxmId::basic_fields().collect();
    (proptest::sample::select(ids), any::<bool>()).prop_flat_map(move |(id, with_mask)| {
        let w = id.value_len().unwrap();
        let mask = masked && with_mask && id.maskable();
        (vec(any::<u8>(), w), maybe_mask(mask, w)).prop_map(move |(value, mask)| OxmField {
            id,
            value,
            mask,
        })
    })
}

fn oxm13() -> impl Strategy<Value = OxmField> {
    prop_oneof![
        4 => basic_field(true),
        1 => (0u8..128, any::<u32>().prop_filter("not ONF", |e| *e != 0x4f4e_4600), bytes(8))
            .prop_map(|(field, experimenter, value)| {
                OxmField::new(OxmId::Experimenter { field, experimenter }, value)
            }),
        1 => (0u16..0x8000, 0u8..128, 0usize..8, any::<bool>()).prop_flat_map(|(class, field, n, m)| {
            (vec(any::<u8>(), n), maybe_mask(m, n))
                .prop_map(move |(value, mask)| OxmField {
                    id: OxmId::Unknown { class, field },
                    value,
                    mask,
                })
        }),
    ]
}

fn match13() -> impl Strategy<Value = Match> {
    vec(oxm13(), 0..6).prop_map(Match::from_fields)
}

/// A 1.0 match as the 1.0 decoder gives it: the fields of a random `ofp_match`.
fn match10() -> impl Strategy<Value = Match> {
    let head = (
        any::<u32>(),
        any::<u16>(),
        mac(),
        mac(),
        any::<u16>(),
        any::<u8>(),
    );
    let tail = (
        prop_oneof![Just(0x0800u16), Just(0x0806), any::<u16>()],
        any::<u8>(),
        prop_oneof![Just(6u8), Just(17), Just(1), Just(132), any::<u8>()],
        any::<[u32; 2]>(),
        any::<[u16; 2]>(),
    );
    (head, tail).prop_map(|(h, t)| {
        let w = MatchV10 {
            wildcards: h.0 & v10::match10::wildcards::ALL,
            in_port: h.1,
            dl_src: h.2,
            dl_dst: h.3,
            dl_vlan: h.4,
            dl_vlan_pcp: h.5,
            dl_type: t.0,
            nw_tos: t.1,
            nw_proto: t.2,
            nw_src: t.3[0],
            nw_dst: t.3[1],
            tp_src: t.4[0],
            tp_dst: t.4[1],
            ..MatchV10::default()
        };
        Match::from_fields(w.to_fields())
    })
}

fn action13() -> impl Strategy<Value = Action> {
    prop_oneof![
        (port13(), any::<u16>()).prop_map(|(port, max_len)| Action::Output { port, max_len }),
        Just(Action::CopyTtlOut),
        Just(Action::CopyTtlIn),
        any::<u8>().prop_map(Action::SetMplsTtl),
        Just(Action::DecMplsTtl),
        any::<u16>().prop_map(Action::PushVlan),
        Just(Action::PopVlan),
        any::<u16>().prop_map(Action::PushMpls),
        any::<u16>().prop_map(Action::PopMpls),
        any::<u32>().prop_map(Action::SetQueue),
        any::<u32>().prop_map(Action::Group),
        any::<u8>().prop_map(Action::SetNwTtl),
        Just(Action::DecNwTtl),
        oxm13().prop_map(Action::SetField),
        any::<u16>().prop_map(Action::PushPbb),
        Just(Action::PopPbb),
        (any::<u32>(), bytes8(3))
            .prop_map(|(experimenter, data)| Action::Experimenter { experimenter, data }),
    ]
}

fn action10() -> impl Strategy<Value = Action> {
    let set = |id: OxmId, v: u64| Action::SetField(OxmField::from_uint(id, v));
    prop_oneof![
        (port10(), any::<u16>()).prop_map(|(port, max_len)| Action::Output { port, max_len }),
        (0u64..0x1000).prop_map(move |v| set(OxmId::VlanVid, 0x1000 | v)),
        any::<u8>().prop_map(move |v| set(OxmId::VlanPcp, u64::from(v))),
        Just(Action::PopVlan),
        mac().prop_map(|m| Action::SetField(OxmField::eth_src(m))),
        mac().prop_map(|m| Action::SetField(OxmField::eth_dst(m))),
        any::<[u8; 4]>().prop_map(|a| Action::SetField(OxmField::new(OxmId::Ipv4Src, a))),
        any::<[u8; 4]>().prop_map(|a| Action::SetField(OxmField::new(OxmId::Ipv4Dst, a))),
        (0u64..64).prop_map(move |v| set(OxmId::IpDscp, v)),
        any::<u16>().prop_map(Action::SetTpSrc),
        any::<u16>().prop_map(Action::SetTpDst),
        (port10(), any::<u32>()).prop_map(|(port, queue_id)| Action::Enqueue { port, queue_id }),
        (any::<u32>(), bytes8(3))
            .prop_map(|(experimenter, data)| Action::Experimenter { experimenter, data }),
    ]
}

fn instruction13() -> impl Strategy<Value = Instruction> {
    prop_oneof![
        any::<u8>().prop_map(Instruction::GotoTable),
        (any::<u64>(), any::<u64>())
            .prop_map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }),
        vec(action13(), 0..4).prop_map(Instruction::WriteActions),
        vec(action13(), 0..4).prop_map(Instruction::ApplyActions),
        Just(Instruction::ClearActions),
        any::<u32>().prop_map(Instruction::Meter),
        (any::<u32>(), bytes8(2))
            .prop_map(|(experimenter, data)| Instruction::Experimenter { experimenter, data }),
    ]
}

fn instructions10() -> impl Strategy<Value = Vec<Instruction>> {
    prop_oneof![
        Just(Vec::new()),
        vec(action10(), 1..5).prop_map(|a| vec![Instruction::ApplyActions(a)]),
    ]
}

fn port_desc(v10: bool) -> impl Strategy<Value = Port> {
    (
        if v10 {
            port10().boxed()
        } else {
            port13().boxed()
        },
        mac(),
        name(16),
        any::<[u32; 6]>(),
        any::<[u32; 2]>(),
    )
        .prop_map(move |(port_no, hw_addr, name, f, s)| {
            let feat = |x: u32| {
                if v10 {
                    model::port::features::from_v10(x)
                } else {
                    x
                }
            };
            Port {
                port_no,
                hw_addr,
                name,
                config: f[0],
                state: f[1],
                curr: feat(f[2]),
                advertised: feat(f[3]),
                supported: feat(f[4]),
                peer: feat(f[5]),
                curr_speed: if v10 { 0 } else { s[0] },
                max_speed: if v10 { 0 } else { s[1] },
            }
        })
}

fn band() -> impl Strategy<Value = MeterBand> {
    prop_oneof![
        (any::<u32>(), any::<u32>())
            .prop_map(|(rate, burst_size)| MeterBand::Drop { rate, burst_size }),
        (any::<u32>(), any::<u32>(), any::<u8>()).prop_map(|(rate, burst_size, prec_level)| {
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            }
        }),
        (any::<u32>(), any::<u32>(), any::<u32>(), bytes(9)).prop_map(
            |(rate, burst_size, experimenter, data)| MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                data
            }
        ),
    ]
}

fn bucket() -> impl Strategy<Value = Bucket> {
    (any::<u16>(), port13(), any::<u32>(), vec(action13(), 0..3)).prop_map(
        |(weight, watch_port, watch_group, actions)| Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        },
    )
}

fn desc() -> impl Strategy<Value = DescStats> {
    (name(60), name(60), name(60), name(32), name(60)).prop_map(|(a, b, c, d, e)| DescStats {
        mfr_desc: a,
        hw_desc: b,
        sw_desc: c,
        serial_num: d,
        dp_desc: e,
    })
}

fn table_features() -> impl Strategy<Value = TableFeatures> {
    let fid = (any::<u16>(), bytes(4))
        .prop_map(|(id_type, data)| FeatureId { id_type, data })
        .boxed();
    let oid = (oxm13(), any::<bool>(), any::<u8>())
        .prop_map(|(f, has_mask, length)| OxmFeatureId {
            id: if f.id == OxmId::PbbUca {
                OxmId::InPort
            } else {
                f.id
            },
            has_mask,
            length,
        })
        .boxed();
    let prop = prop_oneof![
        (any::<bool>(), vec(fid.clone(), 0..3))
            .prop_map(|(miss, ids)| TableFeatureProp::Instructions { miss, ids }),
        (any::<bool>(), bytes(9))
            .prop_map(|(miss, tables)| TableFeatureProp::NextTables { miss, tables }),
        (any::<bool>(), vec(fid.clone(), 0..3))
            .prop_map(|(miss, ids)| TableFeatureProp::WriteActions { miss, ids }),
        (any::<bool>(), vec(fid, 0..3))
            .prop_map(|(miss, ids)| TableFeatureProp::ApplyActions { miss, ids }),
        vec(oid.clone(), 0..3).prop_map(TableFeatureProp::Match),
        vec(oid.clone(), 0..3).prop_map(TableFeatureProp::Wildcards),
        (any::<bool>(), vec(oid.clone(), 0..3))
            .prop_map(|(miss, ids)| TableFeatureProp::WriteSetfield { miss, ids }),
        (any::<bool>(), vec(oid, 0..3))
            .prop_map(|(miss, ids)| TableFeatureProp::ApplySetfield { miss, ids }),
        (
            any::<bool>(),
            any::<u32>(),
            any::<u32>(),
            vec(any::<u32>(), 0..3)
        )
            .prop_map(|(miss, experimenter, exp_type, data)| {
                TableFeatureProp::Experimenter {
                    miss,
                    experimenter,
                    exp_type,
                    data,
                }
            }),
        (16u16..0xfffe, bytes(5))
            .prop_map(|(prop_type, data)| TableFeatureProp::Unknown { prop_type, data }),
    ];
    (
        any::<u8>(),
        name(32),
        any::<[u64; 2]>(),
        any::<[u32; 2]>(),
        vec(prop, 0..4),
    )
        .prop_map(|(table_id, name, m, c, properties)| TableFeatures {
            table_id,
            name,
            metadata_match: m[0],
            metadata_write: m[1],
            config: c[0],
            max_entries: c[1],
            properties,
        })
}

fn flow_stats(v10: bool) -> impl Strategy<Value = FlowStats> {
    (
        any::<u8>(),
        any::<[u32; 2]>(),
        any::<[u16; 4]>(),
        any::<[u64; 3]>(),
        if v10 {
            match10().boxed()
        } else {
            match13().boxed()
        },
        if v10 {
            instructions10().boxed()
        } else {
            vec(instruction13(), 0..3).boxed()
        },
    )
        .prop_map(move |(table_id, d, s, c, match_, instructions)| FlowStats {
            table_id,
            duration_sec: d[0],
            duration_nsec: d[1],
            priority: s[0],
            idle_timeout: s[1],
            hard_timeout: s[2],
            flags: if v10 { 0 } else { s[3] },
            cookie: c[0],
            packet_count: c[1],
            byte_count: c[2],
            match_,
            instructions,
        })
}

fn flow_stats_request(v10: bool) -> impl Strategy<Value = FlowStatsRequest> {
    (
        any::<u8>(),
        if v10 {
            port10().boxed()
        } else {
            port13().boxed()
        },
        any::<u32>(),
        any::<[u64; 2]>(),
        if v10 {
            match10().boxed()
        } else {
            match13().boxed()
        },
    )
        .prop_map(move |(table_id, out_port, g, c, match_)| FlowStatsRequest {
            table_id,
            out_port,
            out_group: if v10 { GROUP_ANY } else { g },
            cookie: if v10 { 0 } else { c[0] },
            cookie_mask: if v10 { 0 } else { c[1] },
            match_,
        })
}

fn port_stats(v10: bool) -> impl Strategy<Value = PortStats> {
    (
        if v10 {
            port10().boxed()
        } else {
            port13().boxed()
        },
        any::<[u64; 12]>(),
        any::<[u32; 2]>(),
    )
        .prop_map(move |(port_no, c, d)| PortStats {
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
            duration_sec: if v10 { 0 } else { d[0] },
            duration_nsec: if v10 { 0 } else { d[1] },
        })
}

fn queue_stats(v10: bool) -> impl Strategy<Value = QueueStats> {
    (
        if v10 {
            port10().boxed()
        } else {
            port13().boxed()
        },
        any::<u32>(),
        any::<[u64; 3]>(),
        any::<[u32; 2]>(),
    )
        .prop_map(move |(port_no, queue_id, c, d)| QueueStats {
            port_no,
            queue_id,
            tx_bytes: c[0],
            tx_packets: c[1],
            tx_errors: c[2],
            duration_sec: if v10 { 0 } else { d[0] },
            duration_nsec: if v10 { 0 } else { d[1] },
        })
}

fn table_stats(v10: bool) -> impl Strategy<Value = TableStats> {
    (any::<u8>(), name(32), any::<[u32; 3]>(), any::<[u64; 2]>()).prop_map(
        move |(table_id, name, a, b)| TableStats {
            table_id,
            name: if v10 { name } else { String::new() },
            wildcards: if v10 { a[0] } else { 0 },
            max_entries: if v10 { a[1] } else { 0 },
            active_count: a[2],
            lookup_count: b[0],
            matched_count: b[1],
        },
    )
}

fn queue_props(v10: bool) -> impl Strategy<Value = Vec<QueueProp>> {
    let p = if v10 {
        prop_oneof![
            any::<u16>().prop_map(QueueProp::MinRate),
            (3u16..0xffff, bytes8(2))
                .prop_map(|(prop_type, data)| QueueProp::Unknown { prop_type, data }),
        ]
        .boxed()
    } else {
        prop_oneof![
            any::<u16>().prop_map(QueueProp::MinRate),
            any::<u16>().prop_map(QueueProp::MaxRate),
            (any::<u32>(), bytes(5))
                .prop_map(|(experimenter, data)| QueueProp::Experimenter { experimenter, data }),
            (3u16..0xffff, bytes(5))
                .prop_map(|(prop_type, data)| QueueProp::Unknown { prop_type, data }),
        ]
        .boxed()
    };
    vec(p, 0..3)
}

fn experimenter() -> impl Strategy<Value = Experimenter> {
    (any::<u32>(), any::<u32>(), bytes(12)).prop_map(|(experimenter, exp_type, data)| {
        Experimenter {
            experimenter,
            exp_type,
            data,
        }
    })
}

fn hello() -> impl Strategy<Value = Message> {
    vec(
        prop_oneof![
            vec(any::<u32>(), 0..3).prop_map(HelloElement::VersionBitmap),
            (2u16..100, bytes(6))
                .prop_map(|(elem_type, data)| HelloElement::Unknown { elem_type, data }),
        ],
        0..3,
    )
    .prop_map(|elements| Message::Hello(Hello { elements }))
}

fn error(version: u8) -> impl Strategy<Value = Message> {
    let std = (0u16..16, 0u16..20, bytes(20)).prop_map(move |(t, c, data)| {
        Message::Error(ErrorMsg {
            code: ErrorCode::from_wire(version, t, c),
            data,
        })
    });
    if version == v10::VERSION {
        std.boxed()
    } else {
        prop_oneof![
            std,
            (any::<u16>(), any::<u32>(), bytes(8)).prop_map(|(exp_type, experimenter, data)| {
                Message::Error(ErrorMsg {
                    code: ErrorCode::Experimenter {
                        exp_type,
                        experimenter,
                    },
                    data,
                })
            }),
        ]
        .boxed()
    }
}

fn common(version: u8) -> impl Strategy<Value = Message> {
    prop_oneof![
        hello(),
        error(version),
        bytes(16).prop_map(Message::EchoRequest),
        bytes(16).prop_map(Message::EchoReply),
        Just(Message::FeaturesRequest),
        Just(Message::GetConfigRequest),
        any::<[u16; 2]>().prop_map(|c| Message::GetConfigReply(SwitchConfig {
            flags: c[0],
            miss_send_len: c[1]
        })),
        any::<[u16; 2]>().prop_map(|c| Message::SetConfig(SwitchConfig {
            flags: c[0],
            miss_send_len: c[1]
        })),
        Just(Message::BarrierRequest),
        Just(Message::BarrierReply),
        experimenter()
            .prop_filter("1.0 vendor needs the subtype", move |_| true)
            .prop_map(Message::Experimenter),
    ]
}

fn flow_mod(v10: bool) -> impl Strategy<Value = FlowMod> {
    (
        any::<[u64; 2]>(),
        any::<u8>(),
        prop_oneof![(0u16..5), any::<u8>().prop_map(u16::from)],
        any::<[u16; 4]>(),
        any::<u32>(),
        if v10 {
            port10().boxed()
        } else {
            port13().boxed()
        },
        any::<u32>(),
        if v10 {
            match10().boxed()
        } else {
            match13().boxed()
        },
        if v10 {
            instructions10().boxed()
        } else {
            vec(instruction13(), 0..4).boxed()
        },
    )
        .prop_map(
            move |(
                c,
                table_id,
                command,
                s,
                buffer_id,
                out_port,
                out_group,
                match_,
                instructions,
            )| {
                let command = FlowModCommand::from_u16(command);
                FlowMod {
                    cookie: c[0],
                    cookie_mask: if v10 { 0 } else { c[1] },
                    table_id: if !v10 {
                        table_id
                    } else if command.is_delete() {
                        TABLE_ALL
                    } else {
                        0
                    },
                    command,
                    idle_timeout: s[0],
                    hard_timeout: s[1],
                    priority: s[2],
                    buffer_id,
                    out_port,
                    out_group: if v10 { GROUP_ANY } else { out_group },
                    flags: s[3],
                    match_,
                    instructions,
                }
            },
        )
}

fn message10() -> impl Strategy<Value = Message> {
    let v10 = true;
    prop_oneof![
        common(v10::VERSION),
        (
            any::<u64>(),
            any::<u32>(),
            any::<u8>(),
            any::<[u32; 2]>(),
            vec(port_desc(v10), 0..3)
        )
            .prop_map(|(datapath_id, n_buffers, n_tables, c, ports)| {
                Message::FeaturesReply(SwitchFeatures {
                    datapath_id,
                    n_buffers,
                    n_tables,
                    auxiliary_id: 0,
                    capabilities: c[0],
                    actions: c[1],
                    ports,
                })
            }),
        (any::<u32>(), any::<u16>(), any::<u8>(), port10(), bytes(30)).prop_map(
            |(buffer_id, total_len, reason, in_port, data)| Message::PacketIn(PacketIn {
                buffer_id,
                total_len,
                reason,
                table_id: 0,
                cookie: u64::MAX,
                match_: Match::from_fields(vec![OxmField::in_port(in_port)]),
                data,
            })
        ),
        (
            any::<u64>(),
            any::<u16>(),
            any::<u8>(),
            any::<[u32; 2]>(),
            any::<u16>(),
            any::<[u64; 2]>(),
            match10()
        )
            .prop_map(|(cookie, priority, reason, d, idle_timeout, c, match_)| {
                Message::FlowRemoved(FlowRemoved {
                    cookie,
                    priority,
                    reason,
                    table_id: 0,
                    duration_sec: d[0],
                    duration_nsec: d[1],
                    idle_timeout,
                    hard_timeout: 0,
                    packet_count: c[0],
                    byte_count: c[1],
                    match_,
                })
            }),
        (any::<u8>(), port_desc(v10))
            .prop_map(|(reason, desc)| Message::PortStatus(PortStatus { reason, desc })),
        (any::<u32>(), port10(), vec(action10(), 0..4), bytes(30)).prop_map(
            |(buffer_id, in_port, actions, data)| Message::PacketOut(PacketOut {
                buffer_id,
                in_port,
                actions,
                data
            })
        ),
        flow_mod(v10).prop_map(Message::FlowMod),
        (port10(), mac(), any::<[u32; 3]>()).prop_map(|(port_no, hw_addr, c)| Message::PortMod(
            PortMod {
                port_no,
                hw_addr,
                config: c[0],
                mask: c[1],
                advertise: model::port::features::from_v10(c[2]),
            }
        )),
        (any::<u16>(), request_body(v10))
            .prop_map(|(flags, body)| Message::MultipartRequest(MultipartRequest { flags, body })),
        (any::<u16>(), reply_body(v10))
            .prop_map(|(flags, body)| Message::MultipartReply(MultipartReply { flags, body })),
        port10().prop_map(Message::QueueGetConfigRequest),
        (port10(), vec((any::<u32>(), queue_props(v10)), 0..3)).prop_map(|(port, qs)| {
            Message::QueueGetConfigReply(QueueGetConfigReply {
                port,
                queues: qs
                    .into_iter()
                    .map(|(queue_id, properties)| PacketQueue {
                        queue_id,
                        port,
                        properties,
                    })
                    .collect(),
            })
        }),
    ]
}

fn request_body(v10: bool) -> BoxedStrategy<MultipartRequestBody> {
    use MultipartRequestBody as B;
    let port = if v10 {
        port10().boxed()
    } else {
        port13().boxed()
    };
    let common = prop_oneof![
        Just(B::Desc),
        flow_stats_request(v10).prop_map(B::Flow),
        flow_stats_request(v10).prop_map(B::Aggregate),
        Just(B::Table),
        port.clone().prop_map(B::PortStats),
        (port, any::<u32>()).prop_map(|(port_no, queue_id)| B::Queue { port_no, queue_id }),
        (any::<u32>(), any::<u32>(), bytes(12)).prop_map(|(experimenter, exp_type, data)| {
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            }
        }),
    ];
    if v10 {
        return common.boxed();
    }
    prop_oneof![
        common,
        any::<u32>().prop_map(B::Group),
        Just(B::GroupDesc),
        Just(B::GroupFeatures),
        any::<u32>().prop_map(B::Meter),
        any::<u32>().prop_map(B::MeterConfig),
        Just(B::MeterFeatures),
        vec(table_features(), 0..2).prop_map(B::TableFeatures),
        Just(B::PortDesc),
    ]
    .boxed()
}

fn reply_body(v10: bool) -> BoxedStrategy<MultipartReplyBody> {
    use MultipartReplyBody as B;
    let common = prop_oneof![
        desc().prop_map(B::Desc),
        vec(flow_stats(v10), 0..3).prop_map(B::Flow),
        (any::<[u64; 2]>(), any::<u32>()).prop_map(|(c, flow_count)| B::Aggregate(
            AggregateStats {
                packet_count: c[0],
                byte_count: c[1],
                flow_count
            }
        )),
        vec(table_stats(v10), 0..3).prop_map(B::Table),
        vec(port_stats(v10), 0..3).prop_map(B::PortStats),
        vec(queue_stats(v10), 0..3).prop_map(B::Queue),
        (any::<u32>(), any::<u32>(), bytes(12)).prop_map(|(experimenter, exp_type, data)| {
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            }
        }),
    ];
    if v10 {
        return common.boxed();
    }
    let group_stats = (
        any::<[u32; 4]>(),
        any::<[u64; 2]>(),
        vec(any::<[u64; 2]>(), 0..3),
    )
        .prop_map(|(a, c, b)| GroupStats {
            group_id: a[0],
            ref_count: a[1],
            packet_count: c[0],
            byte_count: c[1],
            duration_sec: a[2],
            duration_nsec: a[3],
            bucket_stats: b
                .into_iter()
                .map(|x| BucketCounter {
                    packet_count: x[0],
                    byte_count: x[1],
                })
                .collect(),
        });
    let meter_stats = (
        any::<[u32; 4]>(),
        any::<[u64; 2]>(),
        vec(any::<[u64; 2]>(), 0..3),
    )
        .prop_map(|(a, c, b)| MeterStats {
            meter_id: a[0],
            flow_count: a[1],
            packet_in_count: c[0],
            byte_in_count: c[1],
            duration_sec: a[2],
            duration_nsec: a[3],
            band_stats: b
                .into_iter()
                .map(|x| MeterBandStats {
                    packet_band_count: x[0],
                    byte_band_count: x[1],
                })
                .collect(),
        });
    prop_oneof![
        common,
        vec(group_stats, 0..3).prop_map(B::Group),
        vec((any::<u8>(), any::<u32>(), vec(bucket(), 0..3)), 0..3).prop_map(|l| B::GroupDesc(
            l.into_iter()
                .map(|(group_type, group_id, buckets)| GroupDesc {
                    group_type,
                    group_id,
                    buckets
                })
                .collect()
        )),
        (any::<[u32; 2]>(), any::<[u32; 4]>(), any::<[u32; 4]>()).prop_map(
            |(a, max_groups, actions)| {
                B::GroupFeatures(GroupFeatures {
                    types: a[0],
                    capabilities: a[1],
                    max_groups,
                    actions,
                })
            }
        ),
        vec(meter_stats, 0..3).prop_map(B::Meter),
        vec((any::<u16>(), any::<u32>(), vec(band(), 0..3)), 0..3).prop_map(|l| B::MeterConfig(
            l.into_iter()
                .map(|(flags, meter_id, bands)| MeterConfig {
                    flags,
                    meter_id,
                    bands
                })
                .collect()
        )),
        (any::<[u32; 3]>(), any::<[u8; 2]>()).prop_map(|(a, b)| B::MeterFeatures(MeterFeatures {
            max_meter: a[0],
            band_types: a[1],
            capabilities: a[2],
            max_bands: b[0],
            max_color: b[1],
        })),
        vec(table_features(), 0..2).prop_map(B::TableFeatures),
        vec(port_desc(false), 0..3).prop_map(B::PortDesc),
    ]
    .boxed()
}

fn message13() -> impl Strategy<Value = Message> {
    let v10 = false;
    let a = prop_oneof![
        common(v13::VERSION),
        (
            any::<u64>(),
            any::<u32>(),
            any::<[u8; 2]>(),
            any::<[u32; 2]>()
        )
            .prop_map(|(datapath_id, n_buffers, b, c)| Message::FeaturesReply(
                SwitchFeatures {
                    datapath_id,
                    n_buffers,
                    n_tables: b[0],
                    auxiliary_id: b[1],
                    capabilities: c[0],
                    actions: c[1],
                    ports: Vec::new(),
                }
            )),
        (
            any::<u32>(),
            any::<u16>(),
            any::<[u8; 2]>(),
            any::<u64>(),
            match13(),
            bytes(30)
        )
            .prop_map(
                |(buffer_id, total_len, b, cookie, match_, data)| Message::PacketIn(PacketIn {
                    buffer_id,
                    total_len,
                    reason: b[0],
                    table_id: b[1],
                    cookie,
                    match_,
                    data,
                })
            ),
        (
            any::<u64>(),
            any::<u16>(),
            any::<[u8; 2]>(),
            any::<[u32; 2]>(),
            any::<[u16; 2]>(),
            any::<[u64; 2]>(),
            match13()
        )
            .prop_map(|(cookie, priority, b, d, t, c, match_)| {
                Message::FlowRemoved(FlowRemoved {
                    cookie,
                    priority,
                    reason: b[0],
                    table_id: b[1],
                    duration_sec: d[0],
                    duration_nsec: d[1],
                    idle_timeout: t[0],
                    hard_timeout: t[1],
                    packet_count: c[0],
                    byte_count: c[1],
                    match_,
                })
            }),
        (any::<u8>(), port_desc(v10))
            .prop_map(|(reason, desc)| Message::PortStatus(PortStatus { reason, desc })),
        (any::<u32>(), port13(), vec(action13(), 0..4), bytes(30)).prop_map(
            |(buffer_id, in_port, actions, data)| Message::PacketOut(PacketOut {
                buffer_id,
                in_port,
                actions,
                data
            })
        ),
        flow_mod(v10).prop_map(Message::FlowMod),
    ];
    let b = prop_oneof![
        (any::<u16>(), any::<u8>(), any::<u32>(), vec(bucket(), 0..3)).prop_map(
            |(command, group_type, group_id, buckets)| Message::GroupMod(GroupMod {
                command,
                group_type,
                group_id,
                buckets
            })
        ),
        (port13(), mac(), any::<[u32; 3]>()).prop_map(|(port_no, hw_addr, c)| Message::PortMod(
            PortMod {
                port_no,
                hw_addr,
                config: c[0],
                mask: c[1],
                advertise: c[2],
            }
        )),
        (any::<u8>(), any::<u32>())
            .prop_map(|(table_id, config)| Message::TableMod(TableMod { table_id, config })),
        (any::<u16>(), request_body(v10))
            .prop_map(|(flags, body)| Message::MultipartRequest(MultipartRequest { flags, body })),
        (any::<u16>(), reply_body(v10))
            .prop_map(|(flags, body)| Message::MultipartReply(MultipartReply { flags, body })),
        port13().prop_map(Message::QueueGetConfigRequest),
        (
            port13(),
            vec((any::<u32>(), port13(), queue_props(v10)), 0..3)
        )
            .prop_map(|(port, qs)| {
                Message::QueueGetConfigReply(QueueGetConfigReply {
                    port,
                    queues: qs
                        .into_iter()
                        .map(|(queue_id, port, properties)| PacketQueue {
                            queue_id,
                            port,
                            properties,
                        })
                        .collect(),
                })
            }),
        (any::<u32>(), any::<u64>()).prop_map(|(role, generation_id)| Message::RoleRequest(
            RoleMsg {
                role,
                generation_id
            }
        )),
        (any::<u32>(), any::<u64>()).prop_map(|(role, generation_id)| Message::RoleReply(
            RoleMsg {
                role,
                generation_id
            }
        )),
        Just(Message::GetAsyncRequest),
        any::<[u32; 6]>().prop_map(|m| Message::GetAsyncReply(AsyncConfig {
            packet_in_mask: [m[0], m[1]],
            port_status_mask: [m[2], m[3]],
            flow_removed_mask: [m[4], m[5]],
        })),
        any::<[u32; 6]>().prop_map(|m| Message::SetAsync(AsyncConfig {
            packet_in_mask: [m[0], m[1]],
            port_status_mask: [m[2], m[3]],
            flow_removed_mask: [m[4], m[5]],
        })),
        (any::<[u16; 2]>(), any::<u32>(), vec(band(), 0..3)).prop_map(|(c, meter_id, bands)| {
            Message::MeterMod(MeterMod {
                command: c[0],
                flags: c[1],
                meter_id,
                bands,
            })
        }),
    ];
    prop_oneof![a, b]
}

fn round_trip(version: u8, xid: u32, m: &Message) -> Result<(), TestCaseError> {
    let mut out = vec![0xa5];
    encode(version, xid, m, &mut out).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
    let (h, back) = decode(&out[1..]).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
    prop_assert_eq!(h.version, version);
    prop_assert_eq!(h.xid, xid);
    prop_assert_eq!(usize::from(h.length), out.len() - 1);
    prop_assert_eq!(&back, m);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn v13_messages_round_trip(m in message13(), xid in any::<u32>()) {
        round_trip(v13::VERSION, xid, &m)?;
    }

    #[test]
    fn v10_messages_round_trip(m in message10(), xid in any::<u32>()) {
        round_trip(v10::VERSION, xid, &m)?;
    }

    /// A 1.0 match means the same after a trip through OXM fields and back.
    #[test]
    fn v10_match_conversion_is_stable(m in match10()) {
        let wire = MatchV10::from_fields(&m.fields).unwrap();
        prop_assert_eq!(wire.to_fields(), m.fields);
    }

    /// Whatever decodes re-encodes, and decodes to the same message.
    #[test]
    fn mutated_golden_messages_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let files = golden_frames();
        let mut bytes = files[pick.index(files.len())].clone();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = 8 + cut.index(bytes.len() - 7);
        bytes.truncate(keep);
        check_decode_encode(&bytes)?;
    }

    #[test]
    fn random_bytes_never_panic(mut bytes in vec(any::<u8>(), 8..200), version in prop_oneof![Just(1u8), Just(4u8), any::<u8>()]) {
        bytes[0] = version;
        let len = bytes.len() as u16;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        check_decode_encode(&bytes)?;
    }
}

fn check_decode_encode(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok((h, m)) = decode(bytes) {
        let mut out = Vec::new();
        encode(h.version, h.xid, &m, &mut out)
            .map_err(|e| TestCaseError::fail(format!("re-encode of {m:?}: {e}")))?;
        let (_, again) = decode(&out).map_err(|e| TestCaseError::fail(format!("{m:?}: {e}")))?;
        prop_assert_eq!(again, m);
    }
    Ok(())
}

fn golden_frames() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/packet_data");
    let mut out = Vec::new();
    for v in ["of10", "of13"] {
        for e in std::fs::read_dir(dir.join(v)).unwrap() {
            let b = std::fs::read(e.unwrap().path()).unwrap();
            if b.len() >= 8 {
                out.push(b);
            }
        }
    }
    out.sort();
    out
}
