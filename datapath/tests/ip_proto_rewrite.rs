//! `set_field` of IP_PROTO carries the transport checksum over the pseudo-header change,
//! byte for byte as a sender of the new protocol number computes it (checked against a
//! frame built independently with os-ken's packet library: ipv4/tcp() serialized once
//! with proto 6, once with proto 17).

use flowlab_datapath::actions::{apply, Action, OutputList};
use flowlab_datapath::field::{Field, FieldValue};
use flowlab_datapath::key::FlowKey;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

const TCP_PROTO6: &str = "ffffffffffff00000000000008004500002800000000ff06a7cd0a0000010a000002\
                          000100010000000000000000500000009be00000000000000000";
const TCP_PROTO17: &str = "ffffffffffff00000000000008004500002800000000ff11a7c20a0000010a000002\
                           000100010000000000000000500000009bd50000000000000000";

fn set_proto(frame: &mut Vec<u8>, proto: u8) {
    let (_, mut layout) = FlowKey::from_frame(frame, 1);
    let mut out = OutputList::new();
    let v = FieldValue::new(Field::IpProto, &[proto]).unwrap();
    apply(&[Action::SetField(v)], frame, &mut layout, &mut out).unwrap();
}

#[test]
fn tcp_checksum_follows_the_protocol_number() {
    let mut f = hex(TCP_PROTO6);
    set_proto(&mut f, 17);
    assert_eq!(f, hex(TCP_PROTO17));
}

#[test]
fn same_protocol_changes_nothing() {
    let mut f = hex(TCP_PROTO6);
    set_proto(&mut f, 6);
    assert_eq!(f, hex(TCP_PROTO6));
}
