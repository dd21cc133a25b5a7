//! OXM TLVs and the 1.3 `ofp_match`.
//!
//! An OXM TLV is a 32-bit header (class 16, field 7, has-mask 1, payload length 8) and
//! the payload: value, then mask of the same width when has-mask is set. Experimenter
//! fields (class 0xffff) start the payload with the 32-bit experimenter id. `ofp_match`
//! is `type` (1, `OFPMT_OXM`), `length` (of the header and the TLVs, without padding),
//! the TLVs, and zero padding to a multiple of 8.

use crate::error::{DecodeError, EncodeError};
use crate::model::multipart::OxmFeatureId;
use crate::model::oxm::{Match, OxmField, OxmId, OXM_CLASS_EXPERIMENTER};
use crate::wire::{Reader, Writer};

/// `OFPMT_OXM`.
pub const MATCH_TYPE_OXM: u16 = 1;

/// The ONF experimenter id, under which OpenFlow 1.3 carries 1.4's `PBB_UCA` (ONF
/// extension 256: class 0xffff, field 0, then a 16-bit experimenter type 2560).
pub const ONF_EXPERIMENTER: u32 = 0x4f4e_4600;
/// `ONFOXM_ET_PBB_UCA`.
pub const ONF_ET_PBB_UCA: u16 = 2560;

/// Reads an OXM header (and the experimenter id of an experimenter field): the id, the
/// has-mask bit and the payload length after what was read.
fn read_header(r: &mut Reader<'_>) -> Result<(OxmId, bool, u8, usize), DecodeError> {
    let h = r.u32()?;
    let class = (h >> 16) as u16;
    let field = ((h >> 9) & 0x7f) as u8;
    let has_mask = h & 0x100 != 0;
    let len = (h & 0xff) as u8;
    if class == OXM_CLASS_EXPERIMENTER {
        let experimenter = r.u32()?;
        Ok((
            OxmId::from_wire(class, field, Some(experimenter)),
            has_mask,
            len,
            4,
        ))
    } else {
        Ok((OxmId::from_wire(class, field, None), has_mask, len, 0))
    }
}

fn write_header(w: &mut Writer<'_>, id: OxmId, has_mask: bool, len: u8) {
    let h = (u32::from(id.class()) << 16)
        | (u32::from(id.field() & 0x7f) << 9)
        | (u32::from(has_mask) << 8)
        | u32::from(len);
    w.u32(h);
    if let Some(e) = id.experimenter() {
        w.u32(e);
    }
}

/// Reads one OXM TLV.
pub(crate) fn decode_field(r: &mut Reader<'_>) -> Result<OxmField, DecodeError> {
    let (id, has_mask, len, consumed) = read_header(r)?;
    let bad = || DecodeError::BadOxmLen {
        class: id.class(),
        field: id.field(),
        len: len.into(),
    };
    let payload_len = usize::from(len).checked_sub(consumed).ok_or_else(bad)?;
    let mut payload = r.bytes(payload_len)?;
    let onf_pbb_uca = OxmId::Experimenter {
        field: 0,
        experimenter: ONF_EXPERIMENTER,
    };
    let id = if id == onf_pbb_uca
        && payload.len() == 3 + usize::from(has_mask)
        && payload[..2] == ONF_ET_PBB_UCA.to_be_bytes()
    {
        payload = &payload[2..];
        OxmId::PbbUca
    } else {
        id
    };
    let payload_len = payload.len();
    let value_len = match id.value_len() {
        Some(w) => {
            if payload_len != if has_mask { 2 * w } else { w } {
                return Err(bad());
            }
            w
        }
        None if has_mask => {
            if payload_len % 2 != 0 {
                return Err(bad());
            }
            payload_len / 2
        }
        None => payload_len,
    };
    let (value, mask) = payload.split_at(value_len);
    Ok(OxmField {
        id,
        value: value.to_vec(),
        mask: if has_mask { Some(mask.to_vec()) } else { None },
    })
}

/// Writes one OXM TLV.
pub(crate) fn encode_field(w: &mut Writer<'_>, f: &OxmField) -> Result<(), EncodeError> {
    if let Some(width) = f.id.value_len() {
        if f.value.len() != width {
            return Err(EncodeError::BadValue {
                what: "oxm value width",
            });
        }
    }
    if let Some(m) = &f.mask {
        if m.len() != f.value.len() {
            return Err(EncodeError::BadValue {
                what: "oxm mask width",
            });
        }
    }
    let (id, prefix) = match f.id {
        OxmId::PbbUca => (
            OxmId::Experimenter {
                field: 0,
                experimenter: ONF_EXPERIMENTER,
            },
            6,
        ),
        id if id.experimenter().is_some() => (id, 4),
        id => (id, 0),
    };
    let len = prefix + f.value.len() + f.mask.as_ref().map_or(0, Vec::len);
    let len = u8::try_from(len).map_err(|_| EncodeError::TooLong { what: "oxm field" })?;
    write_header(w, id, f.mask.is_some(), len);
    if f.id == OxmId::PbbUca {
        w.u16(ONF_ET_PBB_UCA);
    }
    w.bytes(&f.value);
    if let Some(m) = &f.mask {
        w.bytes(m);
    }
    Ok(())
}

/// Reads an `ofp_match` with its padding.
pub(crate) fn decode_match(r: &mut Reader<'_>) -> Result<Match, DecodeError> {
    let match_type = r.u16()?;
    let len = usize::from(r.u16()?);
    if match_type != MATCH_TYPE_OXM {
        return Err(DecodeError::BadMatchType(match_type));
    }
    if len < 4 {
        return Err(DecodeError::BadMatchLen(len));
    }
    let mut body = r.sub(len - 4, "ofp_match")?;
    let mut fields = Vec::new();
    while !body.is_empty() {
        fields.push(decode_field(&mut body)?);
    }
    r.skip((8 - len % 8) % 8)?;
    Ok(Match::from_fields(fields))
}

/// Writes an `ofp_match` with its padding.
pub(crate) fn encode_match(w: &mut Writer<'_>, m: &Match) -> Result<(), EncodeError> {
    let start = w.pos();
    w.u16(MATCH_TYPE_OXM);
    w.u16(0);
    for f in &m.fields {
        encode_field(w, f)?;
    }
    w.patch_len16(start + 2, start, "ofp_match")?;
    w.pad_from(start, 8);
    Ok(())
}

/// Reads an OXM id (a header without payload) of a table-features property.
pub(crate) fn decode_feature_id(r: &mut Reader<'_>) -> Result<OxmFeatureId, DecodeError> {
    let (id, has_mask, length, _) = read_header(r)?;
    Ok(OxmFeatureId {
        id,
        has_mask,
        length,
    })
}

/// Writes an OXM id of a table-features property.
pub(crate) fn encode_feature_id(w: &mut Writer<'_>, f: &OxmFeatureId) {
    write_header(w, f.id, f.has_mask, f.length);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: &Match) -> Vec<u8> {
        let mut out = Vec::new();
        encode_match(&mut Writer::new(&mut out), m).unwrap();
        let back = decode_match(&mut Reader::new(&out, "t")).unwrap();
        assert_eq!(&back, m);
        out
    }

    #[test]
    fn match_with_one_field_is_padded_to_16() {
        let m = Match::new().with(OxmField::eth_dst([0xf2, 0x0b, 0xa4, 0x7d, 0xf8, 0xea]));
        let out = round_trip(&m);
        assert_eq!(
            out,
            [0, 1, 0, 14, 0x80, 0, 6, 6, 0xf2, 0x0b, 0xa4, 0x7d, 0xf8, 0xea, 0, 0]
        );
        // The empty match is 4 bytes of header and 4 of padding.
        assert_eq!(round_trip(&Match::new()), [0, 1, 0, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn masks_experimenter_and_unknown_classes() {
        let m = Match::from_fields(vec![
            OxmField::masked(OxmId::Ipv4Src, [10, 0, 0, 0], [255, 0, 0, 0]),
            OxmField::new(
                OxmId::Experimenter {
                    field: 42,
                    experimenter: 0x4f4e4600,
                },
                [0, 2],
            ),
            OxmField::masked(
                OxmId::Unknown {
                    class: 1,
                    field: 33,
                },
                [1, 2, 3, 4],
                [0, 0, 0, 0xff],
            ),
        ]);
        let out = round_trip(&m);
        // Experimenter header: class 0xffff, field 42, length 6 (id + value).
        assert_eq!(&out[16..24], &[0xff, 0xff, 42 << 1, 6, 0x4f, 0x4e, 0x46, 0]);
    }

    #[test]
    fn pbb_uca_uses_the_onf_extension_in_v13() {
        let m = Match::new().with(OxmField::from_uint(OxmId::PbbUca, 1));
        let out = round_trip(&m);
        assert_eq!(
            &out[4..15],
            &[0xff, 0xff, 0, 7, 0x4f, 0x4e, 0x46, 0, 0x0a, 0, 1]
        );
    }

    #[test]
    fn wrong_widths_are_errors() {
        // in_port with a 2-byte payload.
        let b = [0, 1, 0, 10, 0x80, 0, 0, 2, 0, 1, 0, 0];
        assert!(matches!(
            decode_match(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadOxmLen { .. })
        ));
        let mut out = Vec::new();
        let bad = Match::new().with(OxmField::new(OxmId::InPort, [1]));
        assert!(encode_match(&mut Writer::new(&mut out), &bad).is_err());
        // Match type 0 (1.1's standard match) is not supported.
        let b = [0, 0, 0, 4, 0, 0, 0, 0];
        assert_eq!(
            decode_match(&mut Reader::new(&b, "t")),
            Err(DecodeError::BadMatchType(0))
        );
    }
}
