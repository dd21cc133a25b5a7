//! The fuzz seeds of `hub/fuzz/seeds/control_request/` are real requests of each form; this
//! test (re)writes them and checks each parses, so the corpus stays meaningful.
use std::path::Path;

use flowlab_datapath::port::unix_addr::UnixAddr;
use flowlab_hub::request::{Listener, UmlRequest, REQ_NEW_CONTROL};

#[test]
fn seeds_are_real_requests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/control_request");
    std::fs::create_dir_all(&dir).unwrap();
    let mut uml_name = [0u8; 107];
    uml_name[3..7].copy_from_slice(&4242u32.to_ne_bytes());
    uml_name[60] = 0x7f;
    let uml = UnixAddr::abstract_full(&uml_name);
    let vde = UnixAddr::pathname(Path::new("/tmp/vde.ctl/.04242-00000")).unwrap();
    let mut v1 = vec![0u8; 124];
    v1[..4].copy_from_slice(&0xfeed_faceu32.to_ne_bytes());
    v1[14..].copy_from_slice(&uml.to_wire());
    let mut v0 = vec![0u8; 120];
    v0[10..].copy_from_slice(&uml.to_wire());
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("uml_v3", UmlRequest::encode_uml(&uml).to_vec()),
        ("dump_v3", UmlRequest::encode_uml_typed(&uml, 1).to_vec()),
        (
            "vde_v3",
            UmlRequest::encode_vde(&vde, REQ_NEW_CONTROL, 3, "QEMU user=u PID=4242"),
        ),
        ("v1", v1),
        ("v0", v0),
    ];
    for (name, bytes) in seeds {
        UmlRequest::parse(&bytes, Listener::Uml).unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&path, &bytes).unwrap();
        }
    }
}
