//! The seed corpus of the `decode` fuzz target (`openflow/fuzz/seeds/decode/`, the golden
//! messages of both versions) run through the target's own check: decode, encode again,
//! decode to the same message; and the same for every prefix, which must fail cleanly.

use std::path::Path;

use flowlab_openflow::{decode, encode};

fn check(bytes: &[u8]) -> bool {
    match decode(bytes) {
        Ok((h, m)) => {
            let mut out = Vec::new();
            encode(h.version, h.xid, &m, &mut out).expect("a decoded message encodes");
            let (h2, again) = decode(&out).expect("an encoded message decodes");
            assert_eq!(
                (h2.version, h2.msg_type, h2.xid),
                (h.version, h.msg_type, h.xid)
            );
            assert_eq!(again, m);
            true
        }
        Err(_) => false,
    }
}

#[test]
fn seeds_decode_and_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(check(&bytes), "{path:?} does not decode");
        for cut in 0..bytes.len() {
            assert!(!check(&bytes[..cut]), "{path:?} decodes when cut at {cut}");
        }
        n += 1;
    }
    assert!(n >= 117, "only {n} seeds");
}
