//! Fuzzes the control-request parser with whatever a client could send first.
#![no_main]

use flowlab_hub::request::{Listener, UmlRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for listener in [Listener::Uml, Listener::Vde] {
        if let Ok(req) = UmlRequest::parse(data, listener) {
            // A parsed request re-encodes into something that parses to the same address.
            let again = UmlRequest::encode_uml(&req.addr);
            let back = UmlRequest::parse(&again, listener).expect("re-encoded request parses");
            assert_eq!(back.addr, req.addr);
        }
    }
});
