//! Group mods and meter mods in the syntax of `ovs-ofctl add-group` and `add-meter`.
//!
//! Both are OpenFlow 1.3 messages, so neither parser takes a version. Open vSwitch's
//! OpenFlow 1.5 extensions (`bucket_id`, `selection_method`, `fields`,
//! `command_bucket_id`) are refused.

use super::actions::{self, Context};
use super::fields::MatchInfo;
use super::lex::{self, Delim, Item, Items};
use super::{group_command, group_type, meter_command, meter_flags, FlowTextError};
use crate::model::{
    Bucket, GroupMod, MeterBand, MeterMod, PortNo, GROUP_ALL, GROUP_ANY, METER_ALL,
};
use crate::v13;

/// The highest group id (`OFPG_MAX`).
const GROUP_MAX: u32 = 0xffff_ff00;
/// The highest meter id (`OFPM_MAX`).
const METER_MAX: u32 = 0xffff_0000;
/// The virtual meter for packets to the slow path (`OFPM_SLOWPATH`).
const METER_SLOWPATH: u32 = 0xffff_fffd;
/// The virtual meter for packets to the controller (`OFPM_CONTROLLER`).
const METER_CONTROLLER: u32 = 0xffff_fffe;

const GROUP_TYPES: [(&str, u8); 5] = [
    ("all", group_type::ALL),
    ("select", group_type::SELECT),
    ("indirect", group_type::INDIRECT),
    ("ff", group_type::FF),
    ("fast_failover", group_type::FF),
];

fn not_allowed(token: &str, hint: &str) -> FlowTextError {
    FlowTextError::NotAllowed {
        token: token.to_string(),
        hint: hint.to_string(),
    }
}

fn missing(token: &str, hint: &str) -> FlowTextError {
    FlowTextError::Missing {
        token: token.to_string(),
        hint: hint.to_string(),
    }
}

fn unknown(token: &str, hint: &str) -> FlowTextError {
    FlowTextError::UnknownKeyword {
        token: token.to_string(),
        hint: hint.to_string(),
    }
}

fn open_flow_15(token: &str) -> FlowTextError {
    FlowTextError::NotSupported {
        token: token.to_string(),
        hint: "an OpenFlow 1.5 / Open vSwitch extension".into(),
    }
}

/// The text of an item as written, to hand a bucket's actions on to the action parser.
fn item_text(item: &Item<'_>) -> String {
    match item.delim {
        Delim::None => item.key.to_string(),
        Delim::Equals => format!("{}={}", item.key, item.value),
        Delim::Colon => format!("{}:{}", item.key, item.value),
        Delim::Paren => format!("{}({})", item.key, item.value),
    }
}

/// Parses the argument of `ovs-ofctl add-group`, `mod-group` or `del-groups` (chosen by
/// `command`, a [`group_command`]): `group_id=N,type=T,bucket=...,bucket=...`. A delete
/// takes only `group_id` (default all groups).
pub fn parse_group_mod(text: &str, command: u16) -> Result<GroupMod, FlowTextError> {
    let full = match command {
        group_command::ADD | group_command::MODIFY => true,
        group_command::DELETE => false,
        n => {
            return Err(lex::bad(
                "command",
                &n.to_string(),
                "not a group-mod command",
            ))
        }
    };
    if !full && text.trim().is_empty() {
        return Ok(GroupMod {
            command,
            group_type: 0,
            group_id: GROUP_ALL,
            buckets: Vec::new(),
        });
    }
    let (head, buckets_text) = match text.find("bucket=") {
        Some(_) if !full => return Err(not_allowed("bucket", "deleting a group takes no buckets")),
        Some(i) => (&text[..i], Some(&text[i..])),
        None => (text, None),
    };
    let mut group_id = None;
    let mut gtype = None;
    for item in Items::new(head) {
        let item = item?;
        match item.key {
            "group_id" => {
                let v = item.need_value("a group id")?;
                let id = if v == "all" {
                    GROUP_ALL
                } else {
                    lex::u32_value(item.key, v)?
                };
                if id > GROUP_MAX && id != GROUP_ALL {
                    return Err(lex::bad(
                        item.key,
                        v,
                        "group ids are 0 to 4294967040 (0xffffff00)",
                    ));
                }
                group_id = Some(id);
            }
            "type" => {
                if !full {
                    return Err(not_allowed(item.key, "deleting a group takes no type"));
                }
                let v = item.need_value("all, select, indirect or ff")?;
                let t = GROUP_TYPES.iter().find(|(n, _)| *n == v).map(|&(_, t)| t);
                gtype = Some(t.ok_or_else(|| {
                    lex::bad(item.key, v, "all, select, indirect, ff or fast_failover")
                })?);
            }
            "selection_method" | "selection_method_param" | "fields" | "command_bucket_id" => {
                return Err(open_flow_15(item.key))
            }
            other => return Err(unknown(other, "groups take group_id, type and bucket")),
        }
    }
    let group_id = group_id.ok_or_else(|| missing("group_id", "group_id=N is required"))?;
    let group_type = match (gtype, full) {
        (Some(t), _) => t,
        (None, false) => 0,
        (None, true) => return Err(missing("type", "type=all|select|indirect|ff is required")),
    };
    let mut buckets = Vec::new();
    let mut rest = buckets_text;
    while let Some(b) = rest {
        // `b` starts with "bucket="; its content runs to the next "bucket=".
        let body = &b["bucket=".len()..];
        let (this, next) = match body.find("bucket=") {
            Some(i) => (&body[..i], Some(&body[i..])),
            None => (body, None),
        };
        buckets.push(parse_bucket(this, group_type)?);
        rest = next;
    }
    if group_type == group_type::INDIRECT && buckets.len() > 1 {
        return Err(FlowTextError::Conflict {
            token: "bucket".into(),
            hint: "an indirect group has at most one bucket".into(),
        });
    }
    Ok(GroupMod {
        command,
        group_type,
        group_id,
        buckets,
    })
}

/// One bucket: `weight`, `watch_port`, `watch_group` and actions (with or without
/// `actions=`).
fn parse_bucket(text: &str, gtype: u8) -> Result<Bucket, FlowTextError> {
    let mut weight = if gtype == group_type::SELECT { 1 } else { 0 };
    let mut watch_port = PortNo::ANY;
    let mut watch_group = GROUP_ANY;
    let mut actions_text: Vec<String> = Vec::new();
    for item in Items::new(text) {
        let item = item?;
        match item.key.to_ascii_lowercase().as_str() {
            "weight" => weight = lex::u16_value(item.key, item.need_value("a weight")?)?,
            "watch_port" => {
                let v = item.need_value("a port")?;
                watch_port = lex::port_value(item.key, v)?;
                if watch_port.is_reserved() && watch_port != PortNo::ANY {
                    return Err(lex::bad(
                        item.key,
                        v,
                        "a watch port is a physical port or any",
                    ));
                }
            }
            "watch_group" => {
                let v = item.need_value("a group id")?;
                watch_group = if v.eq_ignore_ascii_case("any") {
                    GROUP_ANY
                } else {
                    lex::u32_value(item.key, v)?
                };
                if watch_group > GROUP_MAX && watch_group != GROUP_ANY {
                    return Err(lex::bad(
                        item.key,
                        v,
                        "group ids are 0 to 4294967040 (0xffffff00)",
                    ));
                }
            }
            "bucket_id" => return Err(open_flow_15(item.key)),
            "actions" | "action" => actions_text.push(item.value.to_string()),
            _ => actions_text.push(item_text(&item)),
        }
    }
    if actions_text.is_empty() {
        return Err(missing(
            "actions",
            "a bucket needs actions (actions=drop for none)",
        ));
    }
    if gtype != group_type::SELECT && weight != 0 {
        return Err(not_allowed(
            "weight",
            "only select groups have bucket weights",
        ));
    }
    let ctx = Context::new(v13::VERSION, MatchInfo::default());
    let actions = actions::parse_actions(&actions_text.join(","), &ctx)?;
    Ok(Bucket {
        weight,
        watch_port,
        watch_group,
        actions,
    })
}

/// A group mod in the syntax of `ovs-ofctl add-group` (the command itself is not
/// printed; a delete prints only its `group_id`), as `ovs-ofctl dump-groups` prints it:
/// `group_id=1,type=select,bucket=weight:2,actions=output:1`. [`parse_group_mod`] with
/// the same command reads it back.
pub fn group_mod_to_string(gm: &GroupMod) -> String {
    let id = if gm.group_id == GROUP_ALL {
        "all".to_string()
    } else {
        gm.group_id.to_string()
    };
    let mut s = format!("group_id={id}");
    if gm.command == group_command::DELETE {
        return s;
    }
    match GROUP_TYPES.iter().find(|&&(_, t)| t == gm.group_type) {
        Some((name, _)) => s.push_str(&format!(",type={name}")),
        None => s.push_str(&format!(",type={}", gm.group_type)),
    }
    let default_weight = if gm.group_type == group_type::SELECT {
        1
    } else {
        0
    };
    for b in &gm.buckets {
        s.push_str(",bucket=");
        if b.weight != default_weight {
            s.push_str(&format!("weight:{},", b.weight));
        }
        if b.watch_port != PortNo::ANY {
            s.push_str(&format!("watch_port:{},", lex::format_port(b.watch_port)));
        }
        if b.watch_group != GROUP_ANY {
            s.push_str(&format!("watch_group:{},", b.watch_group));
        }
        s.push_str("actions=");
        s.push_str(&actions::format_actions(&b.actions, v13::VERSION));
    }
    s
}

const METER_FLAGS: [(&str, u16); 4] = [
    ("kbps", meter_flags::KBPS),
    ("pktps", meter_flags::PKTPS),
    ("burst", meter_flags::BURST),
    ("stats", meter_flags::STATS),
];

/// A band being parsed.
#[derive(Debug, Default)]
struct BandText {
    dscp_remark: bool,
    rate: u32,
    burst_size: u32,
    prec_level: u8,
}

/// Parses the argument of `ovs-ofctl add-meter`, `mod-meter` or `del-meters` (chosen by
/// `command`, a [`meter_command`]): `meter=N,kbps|pktps[,burst][,stats],bands=type=drop,
/// rate=R[,burst_size=B]...`. A delete takes only `meter`.
pub fn parse_meter_mod(text: &str, command: u16) -> Result<MeterMod, FlowTextError> {
    let full = match command {
        meter_command::ADD | meter_command::MODIFY => true,
        meter_command::DELETE => false,
        n => {
            return Err(lex::bad(
                "command",
                &n.to_string(),
                "not a meter-mod command",
            ))
        }
    };
    let (head, bands_text) = match text.find("band") {
        Some(_) if !full => return Err(not_allowed("bands", "deleting a meter takes no bands")),
        Some(i) => {
            let rest = &text[i..];
            let eq = rest
                .find('=')
                .ok_or_else(|| missing("bands", "bands=type=...,rate=..."))?;
            (&text[..i], &rest[eq + 1..])
        }
        None if full => {
            return Err(missing(
                "bands",
                "add and modify need bands=type=drop,rate=N",
            ))
        }
        None => (text, ""),
    };
    let mut meter_id = None;
    let mut flags = 0u16;
    for item in Items::new(head) {
        let item = item?;
        if let Some(&(_, bit)) = METER_FLAGS.iter().find(|(n, _)| *n == item.key) {
            item.no_value()?;
            if !full {
                return Err(not_allowed(item.key, "deleting a meter takes no flags"));
            }
            flags |= bit;
            continue;
        }
        match item.key {
            "meter" => {
                let v = item.need_value("a meter id")?;
                meter_id = Some(match v {
                    "all" => METER_ALL,
                    "controller" => METER_CONTROLLER,
                    "slowpath" => METER_SLOWPATH,
                    _ => match lex::u32_value(item.key, v)? {
                        id @ 1..=METER_MAX => id,
                        _ => {
                            return Err(lex::bad(
                                item.key,
                                v,
                                "meter ids are 1 to 4294901760 (0xffff0000)",
                            ))
                        }
                    },
                });
            }
            other => {
                return Err(unknown(
                    other,
                    "meters take meter, kbps, pktps, burst, stats and bands",
                ))
            }
        }
    }
    let meter_id = meter_id.ok_or_else(|| missing("meter", "meter=N is required"))?;
    if !full {
        return Ok(MeterMod {
            command,
            flags: 0,
            meter_id,
            bands: Vec::new(),
        });
    }
    match flags & (meter_flags::KBPS | meter_flags::PKTPS) {
        0 => return Err(missing("kbps", "a meter needs its unit: kbps or pktps")),
        meter_flags::KBPS | meter_flags::PKTPS => {}
        _ => {
            return Err(FlowTextError::Conflict {
                token: "pktps".into(),
                hint: "a meter counts in kbps or in pktps, not both".into(),
            })
        }
    }
    let mut bands: Vec<BandText> = Vec::new();
    for item in Items::new(bands_text) {
        let item = item?;
        let v = item.need_value("a value")?;
        if item.key == "type" {
            let dscp_remark = match v {
                "drop" => false,
                "dscp_remark" => true,
                _ => return Err(lex::bad(item.key, v, "band types are drop and dscp_remark")),
            };
            bands.push(BandText {
                dscp_remark,
                ..BandText::default()
            });
            continue;
        }
        let band = bands.last_mut().ok_or_else(|| {
            missing(
                "type",
                "each band starts with type=drop or type=dscp_remark",
            )
        })?;
        match item.key {
            "rate" => band.rate = lex::u32_value(item.key, v)?,
            "burst_size" => band.burst_size = lex::u32_value(item.key, v)?,
            "prec_level" => band.prec_level = lex::u8_value(item.key, v)?,
            other => {
                return Err(unknown(
                    other,
                    "bands take type, rate, burst_size and prec_level",
                ))
            }
        }
    }
    if bands.is_empty() {
        return Err(missing("type", "a meter needs at least one band"));
    }
    let burst = flags & meter_flags::BURST != 0;
    let mut out = Vec::new();
    for b in bands {
        if b.rate == 0 {
            return Err(missing("rate", "every band needs a rate above 0"));
        }
        if burst && b.burst_size == 0 {
            return Err(missing(
                "burst_size",
                "with the burst flag every band needs a burst_size",
            ));
        }
        if !burst && b.burst_size != 0 {
            return Err(not_allowed(
                "burst_size",
                "a burst size needs the burst flag",
            ));
        }
        out.push(if b.dscp_remark {
            if b.prec_level == 0 {
                return Err(missing("prec_level", "a dscp_remark band needs prec_level"));
            }
            MeterBand::DscpRemark {
                rate: b.rate,
                burst_size: b.burst_size,
                prec_level: b.prec_level,
            }
        } else {
            if b.prec_level != 0 {
                return Err(not_allowed(
                    "prec_level",
                    "only dscp_remark bands have prec_level",
                ));
            }
            MeterBand::Drop {
                rate: b.rate,
                burst_size: b.burst_size,
            }
        });
    }
    Ok(MeterMod {
        command,
        flags,
        meter_id,
        bands: out,
    })
}

/// A meter id as `ovs-ofctl` names it.
fn format_meter_id(id: u32) -> String {
    match id {
        METER_ALL => "all".into(),
        METER_CONTROLLER => "controller".into(),
        METER_SLOWPATH => "slowpath".into(),
        _ => id.to_string(),
    }
}

/// A meter mod in the syntax of `ovs-ofctl add-meter` (the command is not printed; a
/// delete prints only its `meter`): `meter=1,kbps,burst,bands=type=drop,rate=1000,
/// burst_size=100`. [`parse_meter_mod`] with the same command reads it back.
pub fn meter_mod_to_string(mm: &MeterMod) -> String {
    let mut s = format!("meter={}", format_meter_id(mm.meter_id));
    if mm.command == meter_command::DELETE {
        return s;
    }
    for (name, bit) in METER_FLAGS {
        if mm.flags & bit != 0 {
            s.push(',');
            s.push_str(name);
        }
    }
    s.push_str(",bands=");
    let burst = mm.flags & meter_flags::BURST != 0;
    let bands: Vec<String> = mm
        .bands
        .iter()
        .map(|b| {
            let burst_text = |size: u32| {
                if burst || size != 0 {
                    format!(",burst_size={size}")
                } else {
                    String::new()
                }
            };
            match b {
                MeterBand::Drop { rate, burst_size } => {
                    format!("type=drop,rate={rate}{}", burst_text(*burst_size))
                }
                MeterBand::DscpRemark { rate, burst_size, prec_level } => format!(
                    "type=dscp_remark,rate={rate}{},prec_level={prec_level}",
                    burst_text(*burst_size)
                ),
                MeterBand::Experimenter { rate, burst_size, experimenter, data } => {
                    let hex: String = data.iter().map(|x| format!("{x:02x}")).collect();
                    format!(
                        "type=experimenter,rate={rate}{},experimenter={experimenter:#010x},data=0x{hex}",
                        burst_text(*burst_size)
                    )
                }
            }
        })
        .collect();
    s.push_str(&bands.join(","));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    #[test]
    fn groups() {
        let g = parse_group_mod(
            "group_id=1,type=select,bucket=weight:10,output:1,bucket=weight=20,actions=output:2",
            group_command::ADD,
        )
        .unwrap();
        assert_eq!(g.group_type, group_type::SELECT);
        assert_eq!(g.buckets.len(), 2);
        assert_eq!(g.buckets[0].weight, 10);
        assert_eq!(g.buckets[1].actions, vec![Action::output(PortNo(2))]);
        assert_eq!(
            group_mod_to_string(&g),
            "group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2"
        );
        let g = parse_group_mod(
            "group_id=2,type=ff,bucket=watch_port:3,output:3",
            group_command::ADD,
        )
        .unwrap();
        assert_eq!(g.buckets[0].watch_port, PortNo(3));
        assert_eq!(
            parse_group_mod("", group_command::DELETE).unwrap().group_id,
            GROUP_ALL
        );
        for bad in [
            "group_id=1",
            "type=all",
            "group_id=1,type=all,bucket=weight:2,output:1",
            "group_id=1,type=indirect,bucket=output:1,bucket=output:2",
            "group_id=1,type=all,bucket=watch_port:2",
            "group_id=1,type=all,selection_method=hash",
            "group_id=4294967280,type=all",
        ] {
            assert!(parse_group_mod(bad, group_command::ADD).is_err(), "{bad}");
        }
        assert!(parse_group_mod("group_id=1,type=all", group_command::DELETE).is_err());
    }

    #[test]
    fn meters() {
        let m = parse_meter_mod(
            "meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100",
            meter_command::ADD,
        )
        .unwrap();
        assert_eq!(m.flags, meter_flags::KBPS | meter_flags::BURST);
        assert_eq!(
            m.bands,
            vec![MeterBand::Drop {
                rate: 1000,
                burst_size: 100
            }]
        );
        assert_eq!(
            meter_mod_to_string(&m),
            "meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100"
        );
        let m = parse_meter_mod(
            "meter=2 pktps stats bands=type=dscp_remark rate=5 prec_level=1 type=drop rate=9",
            meter_command::MODIFY,
        )
        .unwrap();
        assert_eq!(m.bands.len(), 2);
        assert_eq!(
            parse_meter_mod(&meter_mod_to_string(&m), meter_command::MODIFY).unwrap(),
            m
        );
        assert_eq!(
            parse_meter_mod("meter=all", meter_command::DELETE)
                .unwrap()
                .meter_id,
            METER_ALL
        );
        for bad in [
            "meter=1,bands=type=drop,rate=1",
            "meter=1,kbps",
            "meter=1,kbps,bands=rate=1",
            "meter=1,kbps,bands=type=drop",
            "meter=1,kbps,burst,bands=type=drop,rate=1",
            "meter=1,kbps,bands=type=dscp_remark,rate=1",
            "meter=0,kbps,bands=type=drop,rate=1",
            "kbps,bands=type=drop,rate=1",
            "meter=1,kbps,pktps,bands=type=drop,rate=1",
        ] {
            assert!(parse_meter_mod(bad, meter_command::ADD).is_err(), "{bad}");
        }
    }
}
