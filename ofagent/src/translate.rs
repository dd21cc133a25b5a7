//! OpenFlow's model onto the datapath's types and back: matches (OXM lists onto the
//! classifier's key and mask), actions and instructions, with the OpenFlow error each
//! refusal answers with.
//!
//! OpenFlow 1.0 matches are normalised as 1.0 switches do: a field whose prerequisite the
//! match does not meet (say `nw_src` without `dl_type=0x0800`) is ignored rather than
//! refused, since 1.0 has no prerequisite error; 1.3 refuses it with `BAD_PREREQ`.

use flowlab_datapath::actions::Action as DpAction;
use flowlab_datapath::classifier::Match as DpMatch;
use flowlab_datapath::field::{Field, FieldError, FieldValue};
use flowlab_datapath::pipeline::Instructions;
use flowlab_openflow::model::error_code::{
    BadActionCode, BadInstructionCode, BadMatchCode, ErrorCode,
};
use flowlab_openflow::model::{Action, Instruction, Match, OxmField, OxmId, PortNo};

use crate::conn::OFP10;

/// The datapath field of an OXM id (None for experimenter and unknown fields, and for
/// basic fields the datapath does not match on).
pub fn field_of(id: OxmId) -> Option<Field> {
    if id.class() != flowlab_openflow::model::oxm::OXM_CLASS_BASIC {
        return None;
    }
    Field::from_oxm(id.field())
}

/// The OXM id of a datapath field.
pub fn oxm_of(field: Field) -> OxmId {
    OxmId::from_wire(
        flowlab_openflow::model::oxm::OXM_CLASS_BASIC,
        field.oxm_field(),
        None,
    )
}

fn match_error(e: FieldError) -> ErrorCode {
    ErrorCode::BadMatch(match e {
        FieldError::BadLen { .. } => BadMatchCode::BadLen,
        FieldError::BadValue(_) => BadMatchCode::BadValue,
        FieldError::BadMask(_) => BadMatchCode::BadMask,
        FieldError::BadWildcards(_) => BadMatchCode::BadWildcards,
        FieldError::BadPrerequisite(_) => BadMatchCode::BadPrereq,
        FieldError::Conflict(_) => BadMatchCode::BadValue,
        _ => BadMatchCode::BadValue,
    })
}

/// An OpenFlow match as a classifier match.
pub fn match_to_dp(m: &Match, version: u8) -> Result<DpMatch, ErrorCode> {
    let mut dp = DpMatch::catchall();
    let mut seen: Vec<Field> = Vec::with_capacity(m.fields.len());
    for f in &m.fields {
        let Some(field) = field_of(f.id) else {
            return Err(ErrorCode::BadMatch(BadMatchCode::BadField));
        };
        if seen.contains(&field) {
            return Err(ErrorCode::BadMatch(BadMatchCode::DupField));
        }
        seen.push(field);
        dp.set_field(field, &f.value, f.mask.as_deref())
            .map_err(match_error)?;
    }
    if version == OFP10 {
        // Normalise: drop what the match's own fields say cannot be there.
        loop {
            match dp.check_prerequisites() {
                Ok(()) => break,
                Err(FieldError::BadPrerequisite(f)) => dp.clear_field(f),
                Err(e) => return Err(match_error(e)),
            }
        }
    } else {
        dp.check_prerequisites().map_err(match_error)?;
    }
    Ok(dp)
}

/// A classifier match as an OpenFlow match, fields in OXM number order.
pub fn match_from_dp(m: &DpMatch) -> Match {
    let mut fields: Vec<OxmField> = m
        .oxm_fields()
        .map(|(f, v, mask)| OxmField {
            id: oxm_of(f),
            value: v.to_vec(),
            mask: mask.map(|m| m.to_vec()),
        })
        .collect();
    fields.sort_by_key(|f| f.id.field());
    Match::from_fields(fields)
}

fn action_error(code: BadActionCode) -> ErrorCode {
    ErrorCode::BadAction(code)
}

/// Where an OpenFlow action list is used: flow entries may not output to `TABLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionUse {
    /// In a flow entry or a group bucket.
    Flow,
    /// In a packet-out.
    PacketOut,
}

/// An OpenFlow action list as datapath actions.
pub fn actions_to_dp(actions: &[Action], used: ActionUse) -> Result<Vec<DpAction>, ErrorCode> {
    let mut out = Vec::with_capacity(actions.len());
    for a in actions {
        match a {
            Action::Output { port, max_len } => out.push(output_to_dp(*port, *max_len, used)?),
            Action::SetField(f) => {
                let Some(field) = field_of(f.id) else {
                    return Err(action_error(BadActionCode::BadSetType));
                };
                if !field.settable() {
                    return Err(action_error(BadActionCode::BadSetType));
                }
                if f.mask.is_some() {
                    return Err(action_error(BadActionCode::BadSetArgument));
                }
                let v = FieldValue::new(field, &f.value).map_err(|e| match e {
                    FieldError::BadLen { .. } => action_error(BadActionCode::BadSetLen),
                    _ => action_error(BadActionCode::BadSetArgument),
                })?;
                out.push(DpAction::SetField(v));
            }
            Action::PushVlan(et) => {
                if *et != 0x8100 && *et != 0x88a8 {
                    return Err(action_error(BadActionCode::BadArgument));
                }
                out.push(DpAction::PushVlan((*et).into()));
            }
            Action::PopVlan => out.push(DpAction::PopVlan),
            Action::PushMpls(et) => {
                if *et != 0x8847 && *et != 0x8848 {
                    return Err(action_error(BadActionCode::BadArgument));
                }
                out.push(DpAction::PushMpls((*et).into()));
            }
            Action::PopMpls(et) => out.push(DpAction::PopMpls((*et).into())),
            Action::PushPbb(et) => {
                if *et != 0x88e7 {
                    return Err(action_error(BadActionCode::BadArgument));
                }
                out.push(DpAction::PushPbb((*et).into()));
            }
            Action::PopPbb => out.push(DpAction::PopPbb),
            Action::SetMplsTtl(t) => out.push(DpAction::SetMplsTtl(*t)),
            Action::DecMplsTtl => out.push(DpAction::DecMplsTtl),
            Action::SetNwTtl(t) => out.push(DpAction::SetIpTtl(*t)),
            Action::DecNwTtl => out.push(DpAction::DecIpTtl),
            Action::CopyTtlOut => out.push(DpAction::CopyTtlOut),
            Action::CopyTtlIn => out.push(DpAction::CopyTtlIn),
            Action::SetQueue(q) => out.push(DpAction::SetQueue(*q)),
            Action::Group(g) => {
                if *g > flowlab_openflow::model::GROUP_ALL - 1 {
                    return Err(action_error(BadActionCode::BadOutGroup));
                }
                out.push(DpAction::Group(*g));
            }
            Action::SetTpSrc(p) => out.push(DpAction::SetTpSrc(*p)),
            Action::SetTpDst(p) => out.push(DpAction::SetTpDst(*p)),
            Action::Enqueue { port, queue_id } => {
                out.push(DpAction::SetQueue(*queue_id));
                out.push(output_to_dp(*port, 0, used)?);
            }
            Action::Experimenter { .. } => {
                return Err(action_error(BadActionCode::BadExperimenter))
            }
        }
    }
    Ok(out)
}

fn output_to_dp(port: PortNo, max_len: u16, used: ActionUse) -> Result<DpAction, ErrorCode> {
    Ok(match port {
        PortNo::CONTROLLER => DpAction::Controller { max_len },
        PortNo::IN_PORT => DpAction::InPort,
        PortNo::FLOOD => DpAction::Flood,
        PortNo::ALL => DpAction::All,
        PortNo::LOCAL => DpAction::Local,
        PortNo::NORMAL => DpAction::Normal,
        PortNo::TABLE if used == ActionUse::PacketOut => DpAction::Table,
        PortNo(p) if (1..=PortNo::MAX.0).contains(&p) => DpAction::Output(p),
        _ => return Err(action_error(BadActionCode::BadOutPort)),
    })
}

/// OpenFlow instructions as the pipeline's.
pub fn instructions_to_dp(list: &[Instruction]) -> Result<Instructions, ErrorCode> {
    let mut ins = Instructions::new();
    let mut seen = [false; 8];
    for i in list {
        let slot = match i {
            Instruction::GotoTable(_) => 0,
            Instruction::WriteMetadata { .. } => 1,
            Instruction::WriteActions(_) => 2,
            Instruction::ApplyActions(_) => 3,
            Instruction::ClearActions => 4,
            Instruction::Meter(_) => 5,
            Instruction::Experimenter { .. } => 6,
        };
        if seen[slot] {
            // 1.3.5 names no "duplicate instruction" code; OVS answers UNSUP_INST.
            return Err(ErrorCode::BadInstruction(BadInstructionCode::UnsupInst));
        }
        seen[slot] = true;
        match i {
            Instruction::GotoTable(t) => ins.goto_table = Some(*t),
            Instruction::WriteMetadata { metadata, mask } => {
                ins.write_metadata = Some((*metadata, *mask))
            }
            Instruction::WriteActions(a) => {
                ins.write_actions = Some(actions_to_dp(a, ActionUse::Flow)?)
            }
            Instruction::ApplyActions(a) => {
                ins.apply_actions = Some(actions_to_dp(a, ActionUse::Flow)?)
            }
            Instruction::ClearActions => ins.clear_actions = true,
            Instruction::Meter(m) => ins.meter = Some(*m),
            Instruction::Experimenter { .. } => {
                return Err(ErrorCode::BadInstruction(
                    BadInstructionCode::BadExperimenter,
                ))
            }
        }
    }
    Ok(ins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_datapath::key::FlowKey;

    fn tcp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&[198, 51, 100, 1]);
        f[30..34].copy_from_slice(&[198, 51, 100, 2]);
        f[34..36].copy_from_slice(&1234u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f[46] = 0x50;
        f
    }

    #[test]
    fn oxm_matches_select_the_frames_they_name() {
        let (key, _) = FlowKey::from_frame(&tcp_frame(), 3);
        let m = Match::new()
            .with(OxmField::in_port(PortNo(3)))
            .with(OxmField::eth_type(0x0800))
            .with(OxmField::ip_proto(6))
            .with(OxmField::from_uint(OxmId::TcpDst, 80));
        let dp = match_to_dp(&m, 0x04).unwrap();
        assert!(dp.matches(&key));
        let other = Match::new()
            .with(OxmField::eth_type(0x0800))
            .with(OxmField::ip_proto(6))
            .with(OxmField::from_uint(OxmId::TcpDst, 81));
        assert!(!match_to_dp(&other, 0x04).unwrap().matches(&key));
        // Back to OXM: the same fields, in OXM number order.
        let back = match_from_dp(&dp);
        let ids: Vec<OxmId> = back.fields.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            vec![OxmId::InPort, OxmId::EthType, OxmId::IpProto, OxmId::TcpDst]
        );
    }

    #[test]
    fn bad_matches_get_their_error_codes() {
        let no_prereq = Match::new().with(OxmField::from_uint(OxmId::TcpDst, 80));
        assert_eq!(
            match_to_dp(&no_prereq, 0x04),
            Err(ErrorCode::BadMatch(BadMatchCode::BadPrereq))
        );
        // 1.0 ignores the field instead.
        assert!(match_to_dp(&no_prereq, 0x01).unwrap().is_catchall());
        let dup = Match::from_fields(vec![OxmField::eth_type(0x0800), OxmField::eth_type(0x86dd)]);
        assert_eq!(
            match_to_dp(&dup, 0x04),
            Err(ErrorCode::BadMatch(BadMatchCode::DupField))
        );
        let bad_len = Match::from_fields(vec![OxmField::new(OxmId::EthType, vec![8])]);
        assert_eq!(
            match_to_dp(&bad_len, 0x04),
            Err(ErrorCode::BadMatch(BadMatchCode::BadLen))
        );
    }

    #[test]
    fn actions_map_and_refuse() {
        let a = actions_to_dp(
            &[
                Action::output(PortNo(2)),
                Action::output(PortNo::CONTROLLER),
                Action::SetField(OxmField::eth_dst([2, 0, 0, 0, 0, 9])),
                Action::Enqueue {
                    port: PortNo(1),
                    queue_id: 7,
                },
            ],
            ActionUse::Flow,
        )
        .unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a[0], DpAction::Output(2));
        assert!(matches!(a[1], DpAction::Controller { .. }));
        for bad in [
            Action::output(PortNo::TABLE),
            Action::output(PortNo(0)),
            Action::output(PortNo::ANY),
            Action::PushVlan(0x0800),
            Action::SetField(OxmField::masked(OxmId::EthDst, vec![0; 6], vec![0xff; 6])),
            Action::SetField(OxmField::from_uint(OxmId::InPort, 1)),
        ] {
            assert!(
                matches!(
                    actions_to_dp(std::slice::from_ref(&bad), ActionUse::Flow),
                    Err(ErrorCode::BadAction(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            actions_to_dp(&[Action::output(PortNo::TABLE)], ActionUse::PacketOut).unwrap(),
            vec![DpAction::Table]
        );
    }

    #[test]
    fn duplicate_instructions_are_refused() {
        let i = vec![Instruction::ClearActions, Instruction::ClearActions];
        assert!(matches!(
            instructions_to_dp(&i),
            Err(ErrorCode::BadInstruction(_))
        ));
        let i = vec![
            Instruction::WriteMetadata {
                metadata: 1,
                mask: 1,
            },
            Instruction::GotoTable(2),
        ];
        let d = instructions_to_dp(&i).unwrap();
        assert_eq!(d.goto_table, Some(2));
        assert_eq!(d.write_metadata, Some((1, 1)));
    }
}
