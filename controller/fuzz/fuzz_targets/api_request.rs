//! Fuzzes the API's request handling with whatever a client could send: any bytes as a
//! buffer of pipelined request heads, each parsed by `parse_request`, checked against the
//! loopback `Host` rule, routed by `route`, answered (by `plan`, from a controller with no
//! switches) and encoded, as the server does. Nothing may panic; a parsed head stays
//! inside the buffer and keeps the parser's limits; every refusal carries the status the
//! module documentation promises.
//!
//! Run with `cargo +nightly fuzz run api_request seeds/api_request` from `controller/fuzz`.

#![no_main]

use std::time::Duration;

use flowlab_controller::api::request::MAX_TARGET;
use flowlab_controller::api::{
    host_is_loopback, parse_request, plan, route, Parsed, Plan, Response,
};
use flowlab_controller::controller::Controller;
use flowlab_controller::switch_conn::ConnConfig;
use libfuzzer_sys::fuzz_target;

thread_local! {
    /// The state answers are planned from: no apps, no switches.
    static CONTROLLER: Controller =
        Controller::new(ConnConfig::default(), Vec::new()).expect("a controller without apps");
}

fuzz_target!(|data: &[u8]| {
    let mut buf = data;
    let mut out = Vec::new();
    loop {
        let (req, used) = match parse_request(buf) {
            Ok(Parsed::Partial) => break,
            Ok(Parsed::Complete(req, used)) => (req, used),
            Err(e) => {
                assert!(matches!(e.status(), 400 | 414 | 431 | 505), "{e:?}");
                Response::error(e.status(), &e).encode(false, &mut out);
                break;
            }
        };
        // Every head takes at least its empty line, so the loop ends.
        assert!(used > 0 && used <= buf.len(), "{used} of {}", buf.len());
        assert!(req.target.starts_with('/') && req.target.len() <= MAX_TARGET);
        assert!(req.minor <= 1);
        assert!(req.minor == 0 || req.host.is_some());
        let response = if !host_is_loopback(req.host.as_deref()) {
            Response::error(403, "the API answers only requests to a loopback host")
        } else {
            match route(&req.method, &req.target) {
                Ok(r) => {
                    assert_eq!(req.method, "GET");
                    match CONTROLLER.with(|c| plan(&r, c, Duration::from_secs(1000))) {
                        Plan::Respond(r) => r,
                        Plan::AskFlows { .. } => panic!("{r:?}: there are no switches to ask"),
                    }
                }
                Err(r) => {
                    assert!(matches!(r.status, 400 | 404 | 405), "{}", r.status);
                    r
                }
            }
        };
        response.encode(req.keep_alive && !req.has_body, &mut out);
        buf = &buf[used..];
    }
});
