//! OpenFlow 1.3 actions and instructions.
//!
//! Every action is `type`, `len` (a multiple of 8, including the 4-byte header) and a
//! type-specific body; every instruction likewise. Fixed-size types must have exactly
//! their size; `set_field` is padded to 8 after its OXM TLV.

use super::action_type as at;
use super::instruction_type as it;
use super::oxm;
use super::size;
use crate::error::{DecodeError, EncodeError};
use crate::model::action::{Action, Instruction};
use crate::model::port::PortNo;
use crate::wire::{Reader, Writer};

/// Reads an action list filling all of `r`.
pub(crate) fn decode_actions(r: &mut Reader<'_>) -> Result<Vec<Action>, DecodeError> {
    let mut actions = Vec::new();
    while !r.is_empty() {
        actions.push(decode_action(r)?);
    }
    Ok(actions)
}

fn decode_action(r: &mut Reader<'_>) -> Result<Action, DecodeError> {
    let t = r.peek_u16(0).ok_or(DecodeError::BadActionLen {
        action_type: 0,
        len: r.remaining(),
    })?;
    let len = usize::from(r.peek_u16(2).ok_or(DecodeError::BadActionLen {
        action_type: t,
        len: r.remaining(),
    })?);
    let bad_len = DecodeError::BadActionLen {
        action_type: t,
        len,
    };
    if len < size::ACTION_HEADER || len % 8 != 0 || len > r.remaining() {
        return Err(bad_len);
    }
    let mut a = r.sub(len, "action")?;
    a.skip(4)?;
    let fixed = |want: usize| {
        if len == want {
            Ok(())
        } else {
            Err(bad_len.clone())
        }
    };
    let action = match t {
        at::OUTPUT => {
            fixed(size::ACTION_OUTPUT)?;
            let port = PortNo(a.u32()?);
            Action::Output {
                port,
                max_len: a.u16()?,
            }
        }
        at::COPY_TTL_OUT
        | at::COPY_TTL_IN
        | at::DEC_MPLS_TTL
        | at::POP_VLAN
        | at::DEC_NW_TTL
        | at::POP_PBB => {
            fixed(size::ACTION_GENERIC)?;
            match t {
                at::COPY_TTL_OUT => Action::CopyTtlOut,
                at::COPY_TTL_IN => Action::CopyTtlIn,
                at::DEC_MPLS_TTL => Action::DecMplsTtl,
                at::POP_VLAN => Action::PopVlan,
                at::DEC_NW_TTL => Action::DecNwTtl,
                _ => Action::PopPbb,
            }
        }
        at::SET_MPLS_TTL | at::SET_NW_TTL => {
            fixed(size::ACTION_GENERIC)?;
            let ttl = a.u8()?;
            if t == at::SET_MPLS_TTL {
                Action::SetMplsTtl(ttl)
            } else {
                Action::SetNwTtl(ttl)
            }
        }
        at::PUSH_VLAN | at::PUSH_MPLS | at::POP_MPLS | at::PUSH_PBB => {
            fixed(size::ACTION_GENERIC)?;
            let ethertype = a.u16()?;
            match t {
                at::PUSH_VLAN => Action::PushVlan(ethertype),
                at::PUSH_MPLS => Action::PushMpls(ethertype),
                at::POP_MPLS => Action::PopMpls(ethertype),
                _ => Action::PushPbb(ethertype),
            }
        }
        at::SET_QUEUE => {
            fixed(size::ACTION_GENERIC)?;
            Action::SetQueue(a.u32()?)
        }
        at::GROUP => {
            fixed(size::ACTION_GENERIC)?;
            Action::Group(a.u32()?)
        }
        at::SET_FIELD => {
            let field = oxm::decode_field(&mut a).map_err(|e| match e {
                DecodeError::Truncated { .. } => DecodeError::BadSetField("truncated oxm field"),
                _ => DecodeError::BadSetField("bad oxm field"),
            })?;
            if a.remaining() >= 8 {
                return Err(DecodeError::BadSetField("padding longer than 7 bytes"));
            }
            Action::SetField(field)
        }
        at::EXPERIMENTER => {
            let experimenter = a.u32()?;
            Action::Experimenter {
                experimenter,
                data: a.rest().to_vec(),
            }
        }
        other => return Err(DecodeError::BadActionType(other)),
    };
    Ok(action)
}

/// Writes an action list.
pub(crate) fn encode_actions(w: &mut Writer<'_>, actions: &[Action]) -> Result<(), EncodeError> {
    for a in actions {
        encode_action(w, a)?;
    }
    Ok(())
}

fn generic(w: &mut Writer<'_>, t: u16) {
    w.u16(t);
    w.u16(size::ACTION_GENERIC as u16);
}

fn encode_action(w: &mut Writer<'_>, a: &Action) -> Result<(), EncodeError> {
    match a {
        Action::Output { port, max_len } => {
            w.u16(at::OUTPUT);
            w.u16(size::ACTION_OUTPUT as u16);
            w.u32(port.0);
            w.u16(*max_len);
            w.zeros(6);
        }
        Action::CopyTtlOut
        | Action::CopyTtlIn
        | Action::DecMplsTtl
        | Action::PopVlan
        | Action::DecNwTtl
        | Action::PopPbb => {
            generic(
                w,
                match a {
                    Action::CopyTtlOut => at::COPY_TTL_OUT,
                    Action::CopyTtlIn => at::COPY_TTL_IN,
                    Action::DecMplsTtl => at::DEC_MPLS_TTL,
                    Action::PopVlan => at::POP_VLAN,
                    Action::DecNwTtl => at::DEC_NW_TTL,
                    _ => at::POP_PBB,
                },
            );
            w.zeros(4);
        }
        Action::SetMplsTtl(ttl) | Action::SetNwTtl(ttl) => {
            let t = if matches!(a, Action::SetMplsTtl(_)) {
                at::SET_MPLS_TTL
            } else {
                at::SET_NW_TTL
            };
            generic(w, t);
            w.u8(*ttl);
            w.zeros(3);
        }
        Action::PushVlan(e) | Action::PushMpls(e) | Action::PopMpls(e) | Action::PushPbb(e) => {
            generic(
                w,
                match a {
                    Action::PushVlan(_) => at::PUSH_VLAN,
                    Action::PushMpls(_) => at::PUSH_MPLS,
                    Action::PopMpls(_) => at::POP_MPLS,
                    _ => at::PUSH_PBB,
                },
            );
            w.u16(*e);
            w.zeros(2);
        }
        Action::SetQueue(q) => {
            generic(w, at::SET_QUEUE);
            w.u32(*q);
        }
        Action::Group(g) => {
            generic(w, at::GROUP);
            w.u32(*g);
        }
        Action::SetField(f) => {
            let start = w.pos();
            w.u16(at::SET_FIELD);
            w.u16(0);
            oxm::encode_field(w, f)?;
            w.pad_from(start, 8);
            w.patch_len16(start + 2, start, "set_field action")?;
        }
        Action::Experimenter { experimenter, data } => {
            let start = w.pos();
            w.u16(at::EXPERIMENTER);
            w.u16(0);
            w.u32(*experimenter);
            w.bytes(data);
            w.pad_from(start, 8);
            w.patch_len16(start + 2, start, "experimenter action")?;
        }
        Action::SetTpSrc(_) | Action::SetTpDst(_) => {
            return Err(EncodeError::Unsupported {
                version: super::VERSION,
                what: "set_tp_src/set_tp_dst (use set_field of tcp/udp ports)",
            })
        }
        Action::Enqueue { .. } => {
            return Err(EncodeError::Unsupported {
                version: super::VERSION,
                what: "enqueue (use set_queue and output)",
            })
        }
    }
    Ok(())
}

/// Reads an instruction list filling all of `r`.
pub(crate) fn decode_instructions(r: &mut Reader<'_>) -> Result<Vec<Instruction>, DecodeError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let t = r.peek_u16(0).ok_or(DecodeError::BadInstructionLen {
            inst_type: 0,
            len: r.remaining(),
        })?;
        let len = usize::from(r.peek_u16(2).ok_or(DecodeError::BadInstructionLen {
            inst_type: t,
            len: r.remaining(),
        })?);
        let bad_len = DecodeError::BadInstructionLen { inst_type: t, len };
        if len < 8 || len % 8 != 0 || len > r.remaining() {
            return Err(bad_len);
        }
        let mut i = r.sub(len, "instruction")?;
        i.skip(4)?;
        let fixed = |want: usize| {
            if len == want {
                Ok(())
            } else {
                Err(bad_len.clone())
            }
        };
        out.push(match t {
            it::GOTO_TABLE => {
                fixed(size::INSTRUCTION_GOTO_TABLE)?;
                Instruction::GotoTable(i.u8()?)
            }
            it::WRITE_METADATA => {
                fixed(size::INSTRUCTION_WRITE_METADATA)?;
                i.skip(4)?;
                Instruction::WriteMetadata {
                    metadata: i.u64()?,
                    mask: i.u64()?,
                }
            }
            it::WRITE_ACTIONS | it::APPLY_ACTIONS => {
                i.skip(4)?;
                let actions = decode_actions(&mut i)?;
                if t == it::WRITE_ACTIONS {
                    Instruction::WriteActions(actions)
                } else {
                    Instruction::ApplyActions(actions)
                }
            }
            it::CLEAR_ACTIONS => {
                fixed(size::INSTRUCTION_ACTIONS)?;
                Instruction::ClearActions
            }
            it::METER => {
                fixed(size::INSTRUCTION_METER)?;
                Instruction::Meter(i.u32()?)
            }
            it::EXPERIMENTER => {
                let experimenter = i.u32()?;
                Instruction::Experimenter {
                    experimenter,
                    data: i.rest().to_vec(),
                }
            }
            other => return Err(DecodeError::BadInstructionType(other)),
        });
    }
    Ok(out)
}

/// Writes an instruction list.
pub(crate) fn encode_instructions(
    w: &mut Writer<'_>,
    instructions: &[Instruction],
) -> Result<(), EncodeError> {
    for i in instructions {
        let start = w.pos();
        match i {
            Instruction::GotoTable(t) => {
                w.u16(it::GOTO_TABLE);
                w.u16(0);
                w.u8(*t);
                w.zeros(3);
            }
            Instruction::WriteMetadata { metadata, mask } => {
                w.u16(it::WRITE_METADATA);
                w.u16(0);
                w.zeros(4);
                w.u64(*metadata);
                w.u64(*mask);
            }
            Instruction::WriteActions(actions) | Instruction::ApplyActions(actions) => {
                let t = if matches!(i, Instruction::WriteActions(_)) {
                    it::WRITE_ACTIONS
                } else {
                    it::APPLY_ACTIONS
                };
                w.u16(t);
                w.u16(0);
                w.zeros(4);
                encode_actions(w, actions)?;
            }
            Instruction::ClearActions => {
                w.u16(it::CLEAR_ACTIONS);
                w.u16(0);
                w.zeros(4);
            }
            Instruction::Meter(m) => {
                w.u16(it::METER);
                w.u16(0);
                w.u32(*m);
            }
            Instruction::Experimenter { experimenter, data } => {
                w.u16(it::EXPERIMENTER);
                w.u16(0);
                w.u32(*experimenter);
                w.bytes(data);
                w.pad_from(start, 8);
            }
        }
        w.patch_len16(start + 2, start, "instruction")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::oxm::{OxmField, OxmId};

    fn enc(actions: &[Action]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_actions(&mut Writer::new(&mut out), actions).unwrap();
        out
    }

    #[test]
    fn fixed_sizes() {
        assert_eq!(enc(&[Action::output(PortNo(1))]).len(), size::ACTION_OUTPUT);
        assert_eq!(enc(&[Action::PopVlan]).len(), size::ACTION_GENERIC);
        assert_eq!(enc(&[Action::Group(3)]).len(), size::ACTION_GENERIC);
        let mut out = Vec::new();
        encode_instructions(
            &mut Writer::new(&mut out),
            &[Instruction::WriteMetadata {
                metadata: 1,
                mask: 1,
            }],
        )
        .unwrap();
        assert_eq!(out.len(), size::INSTRUCTION_WRITE_METADATA);
    }

    #[test]
    fn set_field_is_padded_and_round_trips() {
        let a = vec![
            Action::SetField(OxmField::from_uint(OxmId::VlanVid, 0x1102)),
            Action::SetField(OxmField::new(OxmId::Ipv6Dst, [7; 16])),
            Action::Experimenter {
                experimenter: 0x2320,
                data: vec![0, 18, 0, 0, 0, 0, 0, 0],
            },
        ];
        let out = enc(&a);
        assert_eq!(out.len(), 16 + 24 + 16);
        assert_eq!(&out[..4], &[0, 25, 0, 16]);
        assert_eq!(decode_actions(&mut Reader::new(&out, "t")).unwrap(), a);
        // Experimenter bodies are padded to 8; the padding then belongs to the body.
        let short = enc(&[Action::Experimenter {
            experimenter: 1,
            data: vec![9],
        }]);
        assert_eq!(
            short,
            [0xff, 0xff, 0, 16, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn bad_lengths_and_types() {
        // Output with length 8.
        let b = [0, 0, 0, 8, 0, 0, 0, 1];
        assert!(matches!(
            decode_actions(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadActionLen { .. })
        ));
        let b = [0, 99, 0, 8, 0, 0, 0, 0];
        assert_eq!(
            decode_actions(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadActionType(99))
        );
        let b = [0, 11, 0, 4];
        assert!(decode_actions(&mut Reader::new(&b, "t")).is_err());
        let b = [0, 1, 0, 16, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            decode_instructions(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadInstructionLen { .. })
        ));
    }
}
