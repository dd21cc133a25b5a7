//! Actions and instructions: `actions=...` as ovs-ofctl reads and prints it.
//!
//! An `actions=` list is the flow's instructions in Open vSwitch's fixed order: `meter:N`,
//! then the bare actions (the apply-actions instruction), `clear_actions`,
//! `write_actions(...)`, `write_metadata:V[/M]` and `goto_table:N`; `drop` (or nothing)
//! is the empty list and stands alone.
//!
//! The OpenFlow 1.0 field actions (`mod_dl_src`, `mod_nw_tos`, ...) become what the 1.0
//! decoder makes of them (see `model::action`): `set_field` of the matching OXM field.
//! Three of them depend on the version, as they do in ovs-ofctl:
//!
//! - `mod_tp_src`/`mod_tp_dst` are [`Action::SetTpSrc`]/[`Action::SetTpDst`] in 1.0, and
//!   in 1.3 `set_field` of the TCP, UDP or SCTP port the match's `ip_proto` names.
//! - `mod_vlan_vid`/`mod_vlan_pcp` in 1.3 first push an 802.1Q tag when the packet may
//!   have none (the match does not require one and no earlier action pushed one), because
//!   the 1.0 actions add a tag to untagged packets and 1.3's `set_field` does not.
//! - `enqueue:PORT:QUEUE` is [`Action::Enqueue`] in 1.0 and `set_queue:QUEUE,output:PORT`
//!   in 1.3 (ovs-ofctl adds its own `pop_queue` extension, which has no OpenFlow form).

use super::fields::{self, MatchInfo};
use super::lex::{self, bad, Delim, Item, Items};
use super::FlowTextError;
use crate::model::action::CONTROLLER_MAX_LEN_NO_BUFFER;
use crate::model::{Action, Instruction, OxmField, OxmId, PortNo};
use crate::v10;

/// What the actions need to know about the flow they belong to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Context {
    /// The wire version the text is for.
    pub version: u8,
    /// The match's protocol.
    pub info: MatchInfo,
    /// Whether the packet has a VLAN tag at this point of the action list.
    pub has_vlan: bool,
}

impl Context {
    /// The context at the start of a flow's actions.
    pub fn new(version: u8, info: MatchInfo) -> Context {
        Context {
            version,
            info,
            has_vlan: info.has_vlan,
        }
    }
}

/// Open vSwitch extension actions: known, but with no OpenFlow 1.0/1.3 form.
const OVS_ACTIONS: [&str; 27] = [
    "resubmit",
    "learn",
    "ct",
    "ct_clear",
    "nat",
    "note",
    "exit",
    "multipath",
    "bundle",
    "bundle_load",
    "fin_timeout",
    "sample",
    "clone",
    "push",
    "pop",
    "move",
    "conjunction",
    "encap",
    "decap",
    "check_pkt_larger",
    "delete_field",
    "pop_queue",
    "output_reg",
    "dec_nsh_ttl",
    "set_mpls_ttl64",
    "debug_recirc",
    "debug_slow",
];

/// The instruction kinds in the order ovs-ofctl requires them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Meter,
    Apply,
    Clear,
    Write,
    WriteMetadata,
    Goto,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Meter => "meter",
            Kind::Apply => "apply_actions",
            Kind::Clear => "clear_actions",
            Kind::Write => "write_actions",
            Kind::WriteMetadata => "write_metadata",
            Kind::Goto => "goto_table",
        }
    }
}

fn not_supported(token: &str, hint: &str) -> FlowTextError {
    FlowTextError::NotSupported {
        token: token.to_string(),
        hint: hint.to_string(),
    }
}

/// Parses an `actions=` value into instructions (in canonical order, apply-actions only if
/// there are actions).
pub(super) fn parse_instructions(
    text: &str,
    ctx: &Context,
) -> Result<Vec<Instruction>, FlowTextError> {
    parse_list(text, ctx, true)
}

/// Parses an action list (a bucket's, or a `write_actions(...)` body).
pub(super) fn parse_actions(text: &str, ctx: &Context) -> Result<Vec<Action>, FlowTextError> {
    let ins = parse_list(text, ctx, false)?;
    Ok(ins
        .into_iter()
        .flat_map(|i| match i {
            Instruction::ApplyActions(a) => a,
            _ => Vec::new(),
        })
        .collect())
}

fn parse_list(
    text: &str,
    ctx: &Context,
    allow_instructions: bool,
) -> Result<Vec<Instruction>, FlowTextError> {
    let mut ctx = *ctx;
    let mut drop: Option<&str> = None;
    let mut prev: Option<(Kind, &str)> = None;
    let mut meter = None;
    let mut apply = Vec::new();
    let mut clear = false;
    let mut write = None;
    let mut write_metadata = None;
    let mut goto = None;
    let mut count = 0usize;
    for item in Items::new(text) {
        let item = item?;
        let lower = item.key.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "drop" => {
                item.no_value()?;
                drop = Some(item.key);
                continue;
            }
            "apply_actions" => {
                return Err(not_supported(
                    item.key,
                    "apply_actions is the default instruction: list the actions directly",
                ))
            }
            "meter" => {
                let v = item.need_value("a meter id")?;
                meter = Some(Instruction::Meter(lex::u32_value(item.key, v)?));
                Kind::Meter
            }
            "clear_actions" => {
                item.no_value()?;
                clear = true;
                Kind::Clear
            }
            "write_actions" => {
                let nested = Context {
                    has_vlan: ctx.info.has_vlan,
                    ..ctx
                };
                write = Some(Instruction::WriteActions(parse_actions(
                    item.value, &nested,
                )?));
                Kind::Write
            }
            "write_metadata" => {
                let v = item.need_value("VALUE[/MASK]")?;
                let (value, mask) = lex::split_mask(v);
                let metadata = lex::uint(item.key, value, 64)?;
                let mask = match mask {
                    Some(m) => lex::uint(item.key, m, 64)?,
                    None => u64::MAX,
                };
                write_metadata = Some(Instruction::WriteMetadata { metadata, mask });
                Kind::WriteMetadata
            }
            "goto_table" => {
                let v = item.need_value("a table number")?;
                goto = Some(Instruction::GotoTable(lex::u8_value(item.key, v)?));
                Kind::Goto
            }
            _ => {
                parse_action(&item, &lower, &mut ctx, &mut apply)?;
                Kind::Apply
            }
        };
        count += 1;
        if kind != Kind::Apply {
            if !allow_instructions {
                return Err(not_supported(
                    item.key,
                    "only actions are allowed here, not instructions",
                ));
            }
            if prev.is_some_and(|(k, _)| k == kind) {
                return Err(FlowTextError::Conflict {
                    token: item.key.to_string(),
                    hint: format!("instruction {} may be given only once", kind.name()),
                });
            }
        }
        if let Some((p, _)) = prev.filter(|&(p, _)| kind < p) {
            return Err(FlowTextError::Conflict {
                token: item.key.to_string(),
                hint: format!(
                    "instruction {} must come before {} (order: meter, actions, clear_actions, \
                     write_actions, write_metadata, goto_table)",
                    kind.name(),
                    p.name()
                ),
            });
        }
        prev = Some((kind, item.key));
    }
    if let (Some(token), true) = (drop, count > 0) {
        return Err(FlowTextError::Conflict {
            token: token.to_string(),
            hint: "drop must not be accompanied by any other action or instruction".into(),
        });
    }
    let mut out = Vec::new();
    out.extend(meter);
    if !apply.is_empty() {
        out.push(Instruction::ApplyActions(apply));
    }
    if clear {
        out.push(Instruction::ClearActions);
    }
    out.extend(write);
    out.extend(write_metadata);
    out.extend(goto);
    Ok(out)
}

/// `set_field` of a field from an unsigned value.
fn set(id: OxmId, v: u64) -> Action {
    Action::SetField(OxmField::from_uint(id, v))
}

/// In 1.3, `mod_vlan_*` push a tag first when the packet may have none.
fn push_vlan_if_needed(ctx: &mut Context, out: &mut Vec<Action>) {
    if ctx.version != v10::VERSION && !ctx.has_vlan {
        out.push(Action::PushVlan(0x8100));
    }
    ctx.has_vlan = true;
}

/// An output port: any port but `ANY`.
fn output_port(key: &str, s: &str) -> Result<PortNo, FlowTextError> {
    match lex::port(s) {
        Some(PortNo::ANY) => Err(bad(key, s, "packets cannot be output to ANY")),
        Some(p) => Ok(p),
        None if s.contains('[') || fields::set_field_id(s).is_some() => Err(not_supported(
            key,
            "output to a port read from a field is an Open vSwitch extension",
        )),
        None => Err(bad(
            key,
            s,
            "expected a port number or in_port, table, normal, flood, all, controller, local",
        )),
    }
}

/// Parses one action (some add two, see the module documentation) onto `out`.
fn parse_action(
    item: &Item<'_>,
    lower: &str,
    ctx: &mut Context,
    out: &mut Vec<Action>,
) -> Result<(), FlowTextError> {
    let k = item.key;
    let v = |hint: &str| item.need_value(hint);
    match lower {
        "output" => {
            if item.delim == Delim::Paren {
                let mut port = None;
                for sub in Items::new(item.value) {
                    let sub = sub?;
                    match sub.key {
                        "port" => port = Some(output_port(k, sub.need_value("a port")?)?),
                        "max_len" => {
                            return Err(not_supported(
                                k,
                                "output with max_len is the Open vSwitch truncate extension \
                                 (use controller(max_len=N) for the controller)",
                            ))
                        }
                        other => return Err(bad(k, other, "output(...) takes port=PORT")),
                    }
                }
                let port = port.ok_or_else(|| bad(k, item.value, "output(...) needs port=PORT"))?;
                out.push(Action::output(port));
            } else {
                out.push(Action::output(output_port(k, v("a port")?)?));
            }
        }
        "controller" => {
            let mut max_len = CONTROLLER_MAX_LEN_NO_BUFFER;
            match item.delim {
                Delim::None => {}
                Delim::Colon | Delim::Equals => max_len = lex::u16_value(k, item.value)?,
                Delim::Paren => {
                    for sub in Items::new(item.value) {
                        let sub = sub?;
                        match (sub.key, sub.value) {
                            ("max_len", s) => max_len = lex::u16_value("max_len", s)?,
                            ("reason", "action") | ("id", "0") => {}
                            (other, _) => {
                                return Err(not_supported(
                                    other,
                                    "controller options other than max_len are Open vSwitch \
                                     extensions",
                                ))
                            }
                        }
                    }
                }
            }
            out.push(Action::Output {
                port: PortNo::CONTROLLER,
                max_len,
            });
        }
        "enqueue" => {
            let s = v("PORT:QUEUE")?;
            let (p, q) = s
                .split_once(':')
                .or_else(|| s.split_once(','))
                .ok_or_else(|| bad(k, s, "expected enqueue:PORT:QUEUE"))?;
            let port = output_port(k, p)?;
            let queue_id = lex::u32_value(k, q)?;
            if ctx.version == v10::VERSION {
                out.push(Action::Enqueue { port, queue_id });
            } else {
                out.push(Action::SetQueue(queue_id));
                out.push(Action::output(port));
            }
        }
        "mod_dl_src" | "mod_dl_dst" => {
            let mac = lex::mac(k, v("an Ethernet address")?)?;
            out.push(Action::SetField(if lower == "mod_dl_src" {
                OxmField::eth_src(mac)
            } else {
                OxmField::eth_dst(mac)
            }));
        }
        "mod_vlan_vid" => {
            let s = v("a VLAN id")?;
            let vid = lex::uint(k, s, 12)?;
            push_vlan_if_needed(ctx, out);
            out.push(set(OxmId::VlanVid, 0x1000 | vid));
        }
        "mod_vlan_pcp" => {
            let pcp = lex::uint(k, v("a VLAN priority")?, 3)?;
            push_vlan_if_needed(ctx, out);
            out.push(set(OxmId::VlanPcp, pcp));
        }
        "strip_vlan" | "pop_vlan" => {
            item.no_value()?;
            ctx.has_vlan = false;
            out.push(Action::PopVlan);
        }
        "push_vlan" => {
            let s = v("an Ethernet type (0x8100 or 0x88a8)")?;
            let t = lex::u16_value(k, s)?;
            if t != 0x8100 && t != 0x88a8 {
                return Err(bad(k, s, "a VLAN Ethernet type is 0x8100 or 0x88a8"));
            }
            ctx.has_vlan = true;
            out.push(Action::PushVlan(t));
        }
        "mod_nw_src" | "mod_nw_dst" => {
            let a = lex::ipv4(k, v("an IPv4 address")?)?;
            out.push(Action::SetField(if lower == "mod_nw_src" {
                OxmField::ipv4_src(a)
            } else {
                OxmField::ipv4_dst(a)
            }));
        }
        "mod_nw_tos" => {
            let s = v("a ToS value")?;
            let tos = lex::u8_value(k, s)?;
            if tos & 0x03 != 0 {
                return Err(bad(
                    k,
                    s,
                    "the ToS DSCP bits are a multiple of 4 (mod_nw_ecn sets the low two bits)",
                ));
            }
            out.push(set(OxmId::IpDscp, u64::from(tos >> 2)));
        }
        "mod_nw_ecn" => out.push(set(OxmId::IpEcn, lex::uint(k, v("an ECN value")?, 2)?)),
        "mod_nw_ttl" | "set_nw_ttl" => out.push(Action::SetNwTtl(lex::u8_value(k, v("a TTL")?)?)),
        "dec_ttl" => {
            if item.delim != Delim::None {
                return Err(not_supported(
                    k,
                    "dec_ttl with controller ids is an Open vSwitch extension",
                ));
            }
            out.push(Action::DecNwTtl);
        }
        "mod_tp_src" | "mod_tp_dst" => {
            let port = lex::u16_value(k, v("a port number")?)?;
            let src = lower == "mod_tp_src";
            if ctx.version == v10::VERSION {
                out.push(if src {
                    Action::SetTpSrc(port)
                } else {
                    Action::SetTpDst(port)
                });
            } else {
                let id = match (ctx.info.ip_proto, src) {
                    (Some(6), true) => OxmId::TcpSrc,
                    (Some(6), false) => OxmId::TcpDst,
                    (Some(17), true) => OxmId::UdpSrc,
                    (Some(17), false) => OxmId::UdpDst,
                    (Some(132), true) => OxmId::SctpSrc,
                    (Some(132), false) => OxmId::SctpDst,
                    _ => {
                        return Err(FlowTextError::MissingPrerequisite {
                            token: k.to_string(),
                            hint: "tcp, udp or sctp in the match (in OpenFlow 1.3 it sets that \
                                   protocol's port)"
                                .into(),
                        })
                    }
                };
                out.push(set(id, u64::from(port)));
            }
        }
        "set_mpls_label" => out.push(set(
            OxmId::MplsLabel,
            lex::uint(k, v("an MPLS label")?, 20)?,
        )),
        "set_mpls_tc" => out.push(set(
            OxmId::MplsTc,
            lex::uint(k, v("an MPLS traffic class")?, 3)?,
        )),
        "set_mpls_ttl" => out.push(Action::SetMplsTtl(lex::u8_value(k, v("a TTL")?)?)),
        "dec_mpls_ttl" => {
            item.no_value()?;
            out.push(Action::DecMplsTtl);
        }
        "push_mpls" => {
            let s = v("an Ethernet type (0x8847 or 0x8848)")?;
            let t = lex::u16_value(k, s)?;
            if t != 0x8847 && t != 0x8848 {
                return Err(bad(k, s, "an MPLS Ethernet type is 0x8847 or 0x8848"));
            }
            out.push(Action::PushMpls(t));
        }
        "pop_mpls" => out.push(Action::PopMpls(lex::u16_value(
            k,
            v("the payload's Ethernet type")?,
        )?)),
        "set_queue" => out.push(Action::SetQueue(lex::u32_value(k, v("a queue id")?)?)),
        "group" => out.push(Action::Group(lex::u32_value(k, v("a group id")?)?)),
        "set_tunnel" | "set_tunnel64" => {
            out.push(set(OxmId::TunnelId, lex::uint(k, v("a tunnel id")?, 64)?))
        }
        "set_field" => {
            let f = parse_set_field(k, v("VALUE->FIELD")?)?;
            // In 1.0 an L4 port is set_tp_src/set_tp_dst, as the 1.0 decoder says it.
            let port = f.value_uint().unwrap_or(0) as u16;
            out.push(match f.id {
                OxmId::TcpSrc | OxmId::UdpSrc | OxmId::SctpSrc if ctx.version == v10::VERSION => {
                    Action::SetTpSrc(port)
                }
                OxmId::TcpDst | OxmId::UdpDst | OxmId::SctpDst if ctx.version == v10::VERSION => {
                    Action::SetTpDst(port)
                }
                _ => Action::SetField(f),
            });
        }
        "load" => {
            return Err(not_supported(
                k,
                "load is the Open vSwitch (Nicira) reg_load extension; use set_field:VALUE->FIELD",
            ))
        }
        "copy_ttl_in" | "copy_ttl_out" | "push_pbb" | "pop_pbb" | "experimenter" => {
            return Err(FlowTextError::UnknownAction {
                token: k.to_string(),
                hint: "ovs-ofctl has no syntax for this action".into(),
            })
        }
        _ if OVS_ACTIONS.contains(&lower) => {
            return Err(not_supported(
                k,
                "an Open vSwitch extension action with no OpenFlow 1.0/1.3 form",
            ))
        }
        _ => match (item.delim, lex::port(k)) {
            (Delim::None, Some(PortNo::ANY)) => {
                return Err(bad("output", k, "packets cannot be output to ANY"))
            }
            (Delim::None, Some(p)) => out.push(Action::output(p)),
            _ => {
                return Err(FlowTextError::UnknownAction {
                    token: k.to_string(),
                    hint: "not an action, instruction or port".into(),
                })
            }
        },
    }
    Ok(())
}

/// `set_field:VALUE->FIELD` (no mask: OpenFlow 1.3's set-field writes whole fields).
fn parse_set_field(key: &str, s: &str) -> Result<OxmField, FlowTextError> {
    let (value, name) = s
        .split_once("->")
        .ok_or_else(|| bad(key, s, "expected set_field:VALUE->FIELD"))?;
    let Some(id) = fields::set_field_id(name) else {
        return Err(
            if fields::is_ovs_only_field(name) || matches!(name, "nw_tos" | "dl_vlan" | "vlan_tci")
            {
                not_supported(
                    name,
                    "set_field writes OXM fields only (nw_tos: mod_nw_tos; dl_vlan: vlan_vid)",
                )
            } else {
                FlowTextError::UnknownKeyword {
                    token: name.to_string(),
                    hint: "not a field name".into(),
                }
            },
        );
    };
    if value.contains('/') {
        return Err(not_supported(
            key,
            "set_field with a mask is not OpenFlow 1.3 (Open vSwitch sends its load extension)",
        ));
    }
    if matches!(
        id,
        OxmId::EthType | OxmId::IpProto | OxmId::MplsBos | OxmId::InPhyPort
    ) {
        return Err(not_supported(name, "this field is read-only"));
    }
    if id == OxmId::InPort {
        return Err(not_supported(
            name,
            "OpenFlow forbids set_field of in_port (Open vSwitch uses its load extension)",
        ));
    }
    Ok(OxmField::new(id, fields::parse_value(name, id, value)?))
}

/// An Ethernet type as ovs-ofctl prints it in actions.
fn eth(t: u16) -> String {
    format!("{t:#06x}")
}

/// Bytes as hexadecimal digits.
fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One action in ovs-ofctl's spelling for `version`.
pub(super) fn format_action(a: &Action, version: u8) -> String {
    let v10 = version == v10::VERSION;
    match a {
        Action::Output {
            port: PortNo::CONTROLLER,
            max_len,
        } => format!("CONTROLLER:{max_len}"),
        Action::Output { port, .. } => match lex::port_name(*port) {
            Some(name) => name.to_string(),
            None => format!("output:{}", lex::format_port(*port)),
        },
        Action::CopyTtlOut => "copy_ttl_out".into(),
        Action::CopyTtlIn => "copy_ttl_in".into(),
        Action::SetMplsTtl(t) => format!("set_mpls_ttl({t})"),
        Action::DecMplsTtl => "dec_mpls_ttl".into(),
        Action::PushVlan(t) => format!("push_vlan:{}", eth(*t)),
        Action::PopVlan if v10 => "strip_vlan".into(),
        Action::PopVlan => "pop_vlan".into(),
        Action::PushMpls(t) => format!("push_mpls:{}", eth(*t)),
        Action::PopMpls(t) => format!("pop_mpls:{}", eth(*t)),
        Action::SetQueue(q) => format!("set_queue:{q}"),
        Action::Group(g) => format!("group:{g}"),
        Action::SetNwTtl(t) => format!("mod_nw_ttl:{t}"),
        Action::DecNwTtl => "dec_ttl".into(),
        Action::SetField(f) => match v10_spelling(f).filter(|_| v10) {
            Some(s) => s,
            None => format!(
                "set_field:{}->{}",
                fields::format_set_value(f),
                fields::field_name(f.id)
            ),
        },
        Action::PushPbb(t) => format!("push_pbb:{}", eth(*t)),
        Action::PopPbb => "pop_pbb".into(),
        Action::SetTpSrc(p) => format!("mod_tp_src:{p}"),
        Action::SetTpDst(p) => format!("mod_tp_dst:{p}"),
        Action::Enqueue { port, queue_id } => {
            format!("enqueue:{}:{queue_id}", lex::format_port(*port))
        }
        Action::Experimenter { experimenter, data } => {
            format!(
                "experimenter(id={experimenter:#010x},data=0x{})",
                hex_bytes(data)
            )
        }
    }
}

/// The OpenFlow 1.0 action a `set_field` is, in its ovs-ofctl spelling.
fn v10_spelling(f: &OxmField) -> Option<String> {
    if f.mask.is_some() || f.id.value_len() != Some(f.value.len()) {
        return None;
    }
    let n = f.value_uint()?;
    Some(match f.id {
        OxmId::EthSrc => format!("mod_dl_src:{}", lex::format_mac(&f.value)),
        OxmId::EthDst => format!("mod_dl_dst:{}", lex::format_mac(&f.value)),
        OxmId::VlanVid if n & 0x1000 != 0 && n <= 0x1fff => format!("mod_vlan_vid:{}", n & 0xfff),
        OxmId::VlanPcp if n < 8 => format!("mod_vlan_pcp:{n}"),
        OxmId::Ipv4Src => format!("mod_nw_src:{}", f.value_ipv4()?),
        OxmId::Ipv4Dst => format!("mod_nw_dst:{}", f.value_ipv4()?),
        OxmId::IpDscp if n < 64 => format!("mod_nw_tos:{}", n << 2),
        OxmId::TcpSrc | OxmId::UdpSrc | OxmId::SctpSrc => format!("mod_tp_src:{n}"),
        OxmId::TcpDst | OxmId::UdpDst | OxmId::SctpDst => format!("mod_tp_dst:{n}"),
        _ => return None,
    })
}

/// An action list, comma-separated; `drop` when empty.
pub(super) fn format_actions(actions: &[Action], version: u8) -> String {
    if actions.is_empty() {
        return "drop".into();
    }
    actions
        .iter()
        .map(|a| format_action(a, version))
        .collect::<Vec<_>>()
        .join(",")
}

/// Instructions in ovs-ofctl's order, comma-separated; `drop` when there are none.
pub(super) fn format_instructions(instructions: &[Instruction], version: u8) -> String {
    let rank = |i: &Instruction| match i {
        Instruction::Meter(_) => 0,
        Instruction::ApplyActions(_) => 1,
        Instruction::ClearActions => 2,
        Instruction::WriteActions(_) => 3,
        Instruction::WriteMetadata { .. } => 4,
        Instruction::GotoTable(_) => 5,
        Instruction::Experimenter { .. } => 6,
    };
    let mut sorted: Vec<&Instruction> = instructions.iter().collect();
    sorted.sort_by_key(|i| rank(i));
    let mut parts = Vec::new();
    for i in sorted {
        match i {
            Instruction::Meter(m) => parts.push(format!("meter:{m}")),
            Instruction::ApplyActions(a) => {
                parts.extend(a.iter().map(|a| format_action(a, version)))
            }
            Instruction::ClearActions => parts.push("clear_actions".into()),
            Instruction::WriteActions(a) => {
                parts.push(format!("write_actions({})", format_actions(a, version)))
            }
            Instruction::WriteMetadata { metadata, mask } if *mask == u64::MAX => {
                parts.push(format!("write_metadata:{}", lex::format_hex_min(*metadata)))
            }
            Instruction::WriteMetadata { metadata, mask } => parts.push(format!(
                "write_metadata:{}/{}",
                lex::format_hex_min(*metadata),
                lex::format_hex_min(*mask)
            )),
            Instruction::GotoTable(t) => parts.push(format!("goto_table:{t}")),
            Instruction::Experimenter { experimenter, data } => parts.push(format!(
                "experimenter_instruction(id={experimenter:#010x},data=0x{})",
                hex_bytes(data)
            )),
        }
    }
    if parts.is_empty() {
        "drop".into()
    } else {
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(version: u8, ip_proto: Option<u8>, has_vlan: bool) -> Context {
        Context::new(
            version,
            MatchInfo {
                eth_type: ip_proto.map(|_| 0x800),
                ip_proto,
                has_vlan,
            },
        )
    }

    fn apply(text: &str, c: &Context) -> Vec<Action> {
        match parse_instructions(text, c).unwrap().as_slice() {
            [Instruction::ApplyActions(a)] => a.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ports_and_controller() {
        let c = ctx(4, None, false);
        assert_eq!(
            apply(
                "1,output:2,LOCAL,in_port,controller,controller:100,controller(max_len=7)",
                &c
            ),
            vec![
                Action::output(PortNo(1)),
                Action::output(PortNo(2)),
                Action::output(PortNo::LOCAL),
                Action::output(PortNo::IN_PORT),
                Action::Output {
                    port: PortNo::CONTROLLER,
                    max_len: 0xffff
                },
                Action::Output {
                    port: PortNo::CONTROLLER,
                    max_len: 100
                },
                Action::Output {
                    port: PortNo::CONTROLLER,
                    max_len: 7
                },
            ]
        );
        assert!(parse_instructions("output:ANY", &c).is_err());
        assert!(matches!(
            parse_instructions("output(port=1,max_len=5)", &c),
            Err(FlowTextError::NotSupported { .. })
        ));
    }

    #[test]
    fn version_dependent_actions() {
        let c10 = ctx(1, Some(6), false);
        let c13 = ctx(4, Some(6), false);
        assert_eq!(apply("mod_tp_src:80", &c10), vec![Action::SetTpSrc(80)]);
        assert_eq!(apply("mod_tp_src:80", &c13), vec![set(OxmId::TcpSrc, 80)]);
        assert!(parse_instructions("mod_tp_src:80", &ctx(4, None, false)).is_err());
        assert_eq!(
            apply("mod_vlan_vid:7", &c10),
            vec![set(OxmId::VlanVid, 0x1007)]
        );
        assert_eq!(
            apply("mod_vlan_vid:7,mod_vlan_pcp:1", &c13),
            vec![
                Action::PushVlan(0x8100),
                set(OxmId::VlanVid, 0x1007),
                set(OxmId::VlanPcp, 1)
            ]
        );
        assert_eq!(
            apply("mod_vlan_vid:7", &ctx(4, None, true)),
            vec![set(OxmId::VlanVid, 0x1007)]
        );
        assert_eq!(
            apply("enqueue:1:2", &c10),
            vec![Action::Enqueue {
                port: PortNo(1),
                queue_id: 2
            }]
        );
        assert_eq!(
            apply("enqueue(1,2)", &c13),
            vec![Action::SetQueue(2), Action::output(PortNo(1))]
        );
    }

    #[test]
    fn instruction_order_and_drop() {
        let c = ctx(4, None, false);
        assert_eq!(
            parse_instructions(
                "meter:1,output:1,clear_actions,write_actions(group:3),write_metadata:0x10/0xff,goto_table:2",
                &c
            )
            .unwrap(),
            vec![
                Instruction::Meter(1),
                Instruction::ApplyActions(vec![Action::output(PortNo(1))]),
                Instruction::ClearActions,
                Instruction::WriteActions(vec![Action::Group(3)]),
                Instruction::WriteMetadata { metadata: 0x10, mask: 0xff },
                Instruction::GotoTable(2),
            ]
        );
        assert!(parse_instructions("goto_table:1,output:1", &c).is_err());
        assert!(parse_instructions("output:1,meter:1", &c).is_err());
        assert!(parse_instructions("goto_table:1,goto_table:2", &c).is_err());
        assert!(parse_instructions("drop,output:1", &c).is_err());
        assert_eq!(parse_instructions("drop", &c).unwrap(), vec![]);
        assert_eq!(parse_instructions("", &c).unwrap(), vec![]);
        assert!(parse_instructions("write_actions(goto_table:1)", &c).is_err());
    }

    #[test]
    fn set_field_and_extensions() {
        let c = ctx(4, None, false);
        assert_eq!(
            apply("set_field:00:11:22:33:44:55->eth_src,set_field:1.2.3.4->nw_dst,set_field:0x5->tun_id", &c),
            vec![
                Action::SetField(OxmField::eth_src([0, 0x11, 0x22, 0x33, 0x44, 0x55])),
                Action::SetField(OxmField::ipv4_dst([1, 2, 3, 4].into())),
                set(OxmId::TunnelId, 5),
            ]
        );
        for bad in [
            "set_field:1/1->metadata",
            "load:1->reg0",
            "resubmit(,1)",
            "set_field:1->nw_tos",
        ] {
            assert!(
                matches!(
                    parse_instructions(bad, &c),
                    Err(FlowTextError::NotSupported { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_instructions("push_pbb:0x88e7", &c),
            Err(FlowTextError::UnknownAction { .. })
        ));
        assert!(matches!(
            parse_instructions("frobnicate", &c),
            Err(FlowTextError::UnknownAction { .. })
        ));
    }

    #[test]
    fn printing() {
        let a = [
            Action::SetField(OxmField::from_uint(OxmId::VlanVid, 0x1007)),
            Action::SetField(OxmField::from_uint(OxmId::IpDscp, 4)),
            Action::PopVlan,
            Action::SetField(OxmField::from_uint(OxmId::TunnelId, 7)),
        ];
        assert_eq!(
            format_actions(&a, 1),
            "mod_vlan_vid:7,mod_nw_tos:16,strip_vlan,set_field:0x7->tun_id"
        );
        assert_eq!(
            format_actions(&a, 4),
            "set_field:4103->vlan_vid,set_field:4->ip_dscp,pop_vlan,set_field:0x7->tun_id"
        );
        assert_eq!(
            format_instructions(
                &[
                    Instruction::GotoTable(3),
                    Instruction::WriteMetadata {
                        metadata: 1,
                        mask: 0
                    },
                    Instruction::Meter(2)
                ],
                4
            ),
            "meter:2,write_metadata:0x1/0,goto_table:3"
        );
        assert_eq!(format_instructions(&[], 4), "drop");
    }
}
