//! OpenFlow 1.0 actions onto the shared [`Action`] model (see `model::action` for the
//! mapping), and 1.0 action lists to and from instruction lists.

use super::action_type as at;
use super::{size, VERSION};
use crate::error::{DecodeError, EncodeError};
use crate::model::action::{Action, Instruction};
use crate::model::oxm::{OxmField, OxmId};
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
    let want = match t {
        at::SET_DL_SRC | at::SET_DL_DST | at::ENQUEUE => 16,
        at::VENDOR => len,
        _ => 8,
    };
    if len != want {
        return Err(bad_len);
    }
    let set = |id: OxmId, v: u64| Action::SetField(OxmField::from_uint(id, v));
    let action = match t {
        at::OUTPUT => {
            let port = PortNo::from_v10(a.u16()?);
            Action::Output {
                port,
                max_len: a.u16()?,
            }
        }
        at::SET_VLAN_VID => {
            let vid = a.u16()?;
            if vid > 0xfff {
                return Err(DecodeError::BadActionArgument(t));
            }
            set(OxmId::VlanVid, u64::from(0x1000 | vid))
        }
        at::SET_VLAN_PCP => set(OxmId::VlanPcp, u64::from(a.u8()?)),
        at::STRIP_VLAN => Action::PopVlan,
        at::SET_DL_SRC => Action::SetField(OxmField::eth_src(a.array()?)),
        at::SET_DL_DST => Action::SetField(OxmField::eth_dst(a.array()?)),
        at::SET_NW_SRC => Action::SetField(OxmField::new(OxmId::Ipv4Src, a.bytes(4)?)),
        at::SET_NW_DST => Action::SetField(OxmField::new(OxmId::Ipv4Dst, a.bytes(4)?)),
        at::SET_NW_TOS => {
            let tos = a.u8()?;
            if tos & 0x03 != 0 {
                return Err(DecodeError::BadActionArgument(t));
            }
            set(OxmId::IpDscp, u64::from(tos >> 2))
        }
        at::SET_TP_SRC => Action::SetTpSrc(a.u16()?),
        at::SET_TP_DST => Action::SetTpDst(a.u16()?),
        at::ENQUEUE => {
            let port = PortNo::from_v10(a.u16()?);
            a.skip(6)?;
            Action::Enqueue {
                port,
                queue_id: a.u32()?,
            }
        }
        at::VENDOR => {
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

fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported {
        version: VERSION,
        what,
    }
}

fn port(p: PortNo) -> Result<u16, EncodeError> {
    p.to_v10().ok_or(unsupported("32-bit port number"))
}

fn head(w: &mut Writer<'_>, t: u16, len: usize) {
    w.u16(t);
    w.u16(len as u16);
}

fn encode_action(w: &mut Writer<'_>, a: &Action) -> Result<(), EncodeError> {
    match a {
        Action::Output { port: p, max_len } => {
            head(w, at::OUTPUT, size::ACTION_OUTPUT);
            w.u16(port(*p)?);
            w.u16(*max_len);
        }
        Action::PopVlan => {
            head(w, at::STRIP_VLAN, size::ACTION_HEADER);
            w.zeros(4);
        }
        Action::SetTpSrc(p) | Action::SetTpDst(p) => {
            let t = if matches!(a, Action::SetTpSrc(_)) {
                at::SET_TP_SRC
            } else {
                at::SET_TP_DST
            };
            head(w, t, size::ACTION_TP_PORT);
            w.u16(*p);
            w.zeros(2);
        }
        Action::Enqueue { port: p, queue_id } => {
            head(w, at::ENQUEUE, size::ACTION_ENQUEUE);
            w.u16(port(*p)?);
            w.zeros(6);
            w.u32(*queue_id);
        }
        Action::Experimenter { experimenter, data } => {
            let start = w.pos();
            head(w, at::VENDOR, 0);
            w.u32(*experimenter);
            w.bytes(data);
            w.pad_from(start, 8);
            w.patch_len16(start + 2, start, "vendor action")?;
        }
        Action::SetField(f) => encode_set_field(w, f)?,
        Action::CopyTtlOut | Action::CopyTtlIn => return Err(unsupported("copy_ttl action")),
        Action::SetMplsTtl(_) | Action::DecMplsTtl | Action::PushMpls(_) | Action::PopMpls(_) => {
            return Err(unsupported("mpls action"))
        }
        Action::PushVlan(_) => return Err(unsupported("push_vlan action")),
        Action::SetQueue(_) => return Err(unsupported("set_queue action (use enqueue)")),
        Action::Group(_) => return Err(unsupported("group action")),
        Action::SetNwTtl(_) | Action::DecNwTtl => return Err(unsupported("nw_ttl action")),
        Action::PushPbb(_) | Action::PopPbb => return Err(unsupported("pbb action")),
    }
    Ok(())
}

fn encode_set_field(w: &mut Writer<'_>, f: &OxmField) -> Result<(), EncodeError> {
    if f.mask.is_some() {
        return Err(unsupported("masked set_field"));
    }
    if Some(f.value.len()) != f.id.value_len() {
        return Err(EncodeError::BadValue {
            what: "set_field value width",
        });
    }
    let v = f.value_uint().unwrap_or(0);
    match f.id {
        OxmId::VlanVid => {
            if v & 0x1000 == 0 || v > 0x1fff {
                return Err(unsupported("set_field vlan_vid without OFPVID_PRESENT"));
            }
            head(w, at::SET_VLAN_VID, size::ACTION_VLAN_VID);
            w.u16(v as u16 & 0xfff);
            w.zeros(2);
        }
        OxmId::VlanPcp => {
            head(w, at::SET_VLAN_PCP, size::ACTION_VLAN_PCP);
            w.u8(v as u8);
            w.zeros(3);
        }
        OxmId::EthSrc | OxmId::EthDst => {
            let t = if f.id == OxmId::EthSrc {
                at::SET_DL_SRC
            } else {
                at::SET_DL_DST
            };
            head(w, t, size::ACTION_DL_ADDR);
            w.bytes(&f.value);
            w.zeros(6);
        }
        OxmId::Ipv4Src | OxmId::Ipv4Dst => {
            let t = if f.id == OxmId::Ipv4Src {
                at::SET_NW_SRC
            } else {
                at::SET_NW_DST
            };
            head(w, t, size::ACTION_NW_ADDR);
            w.bytes(&f.value);
        }
        OxmId::IpDscp => {
            if v > 0x3f {
                return Err(EncodeError::BadValue {
                    what: "ip_dscp above 63",
                });
            }
            head(w, at::SET_NW_TOS, size::ACTION_NW_TOS);
            w.u8((v as u8) << 2);
            w.zeros(3);
        }
        OxmId::TcpSrc | OxmId::UdpSrc | OxmId::SctpSrc => {
            head(w, at::SET_TP_SRC, size::ACTION_TP_PORT);
            w.u16(v as u16);
            w.zeros(2);
        }
        OxmId::TcpDst | OxmId::UdpDst | OxmId::SctpDst => {
            head(w, at::SET_TP_DST, size::ACTION_TP_PORT);
            w.u16(v as u16);
            w.zeros(2);
        }
        _ => return Err(unsupported("set_field of a field without a 1.0 action")),
    }
    Ok(())
}

/// A 1.0 action list as instructions: none for an empty list, else one `ApplyActions`.
pub(crate) fn to_instructions(actions: Vec<Action>) -> Vec<Instruction> {
    if actions.is_empty() {
        Vec::new()
    } else {
        vec![Instruction::ApplyActions(actions)]
    }
}

/// The 1.0 action list of instructions: empty, or exactly one `ApplyActions`.
pub(crate) fn from_instructions(instructions: &[Instruction]) -> Result<&[Action], EncodeError> {
    match instructions {
        [] => Ok(&[]),
        [Instruction::ApplyActions(a)] => Ok(a),
        _ => Err(unsupported("instructions other than one apply_actions")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(a: Vec<Action>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_actions(&mut Writer::new(&mut out), &a).unwrap();
        assert_eq!(decode_actions(&mut Reader::new(&out, "t")).unwrap(), a);
        out
    }

    #[test]
    fn v10_field_actions_are_set_fields() {
        let out = round_trip(vec![
            Action::SetField(OxmField::from_uint(OxmId::VlanVid, 0x1000 | 42)),
            Action::SetField(OxmField::eth_src([2, 0, 0, 0, 0, 1])),
            Action::SetField(OxmField::from_uint(OxmId::IpDscp, 46)),
            Action::SetField(OxmField::new(OxmId::Ipv4Dst, [198, 51, 100, 7])),
            Action::PopVlan,
            Action::SetTpDst(8080),
            Action::Enqueue {
                port: PortNo(3),
                queue_id: 9,
            },
            Action::output(PortNo::CONTROLLER),
        ]);
        assert_eq!(out.len(), 8 + 16 + 8 + 8 + 8 + 8 + 16 + 8);
        assert_eq!(&out[..8], &[0, 1, 0, 8, 0, 42, 0, 0]);
        assert_eq!(&out[24..28], &[0, 8, 0, 8]);
        assert_eq!(out[28], 46 << 2);
        assert_eq!(&out[out.len() - 4..], &[0xff, 0xfd, 0xff, 0xff]);
    }

    #[test]
    fn inexpressible_actions_fail() {
        for a in [
            Action::Group(1),
            Action::PushVlan(0x8100),
            Action::SetField(OxmField::from_uint(OxmId::Metadata, 1)),
            Action::SetField(OxmField::from_uint(OxmId::VlanVid, 5)),
            Action::output(PortNo(0x10000)),
        ] {
            let mut out = Vec::new();
            assert!(
                encode_actions(&mut Writer::new(&mut out), std::slice::from_ref(&a)).is_err(),
                "{a:?}"
            );
        }
    }

    #[test]
    fn bad_v10_arguments() {
        let b = [0, 8, 0, 8, 0x05, 0, 0, 0];
        assert_eq!(
            decode_actions(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadActionArgument(at::SET_NW_TOS))
        );
        let b = [0, 4, 0, 8, 0, 0, 0, 0];
        assert!(matches!(
            decode_actions(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadActionLen { .. })
        ));
    }
}
