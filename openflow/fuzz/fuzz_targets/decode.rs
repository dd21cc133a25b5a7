//! Fuzzes the OpenFlow decoder: any bytes, as one message and as a stream. Nothing may
//! panic; whatever decodes must encode again (in the version it came in) and decode to
//! the same message.
//!
//! Run with `cargo +nightly fuzz run decode seeds/decode` from `openflow/fuzz`.

#![no_main]

use flowlab_openflow::{decode, encode, Framer};
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    if let Ok((h, m)) = decode(bytes) {
        let mut out = Vec::new();
        encode(h.version, h.xid, &m, &mut out).expect("a decoded message encodes");
        let (h2, again) = decode(&out).expect("an encoded message decodes");
        assert_eq!(
            (h2.version, h2.msg_type, h2.xid),
            (h.version, h.msg_type, h.xid)
        );
        assert_eq!(again, m);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut framer = Framer::new();
    framer.extend(data);
    while let Some(Ok(frame)) = framer.next_frame() {
        let frame = frame.to_vec();
        check(&frame);
    }
});
