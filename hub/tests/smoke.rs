//! A fast smoke test of the binary: clients learn each other through flowlab-hub.
//! The full behavioural suite (against uml_switch too) lives in the `flowlab-tests` crate.
mod common;

use std::time::Duration;

use common::{frame, Hub};
use flowlab_hub::client::{ClientStyle, UmlClient};

#[test]
fn clients_learn_each_other() {
    let hub = Hub::start("smoke-learn", &[]);
    let ctl = hub.ctl();
    let mut a = UmlClient::connect(&ctl, ClientStyle::Uml).unwrap();
    let mut b = UmlClient::connect(&ctl, ClientStyle::UmlConnected).unwrap();
    let mut c = UmlClient::connect(&ctl, ClientStyle::Uml).unwrap();
    let q = Duration::from_millis(200);
    a.send(&frame(0xb, 0xa, 60)).unwrap(); // unknown: flooded to b and c
    assert_eq!(b.drain(q).unwrap().len(), 1);
    assert_eq!(c.drain(q).unwrap().len(), 1);
    assert!(a.drain(q).unwrap().is_empty(), "no echo to the sender");
    b.send(&frame(0xa, 0xb, 1518)).unwrap(); // a is known: unicast
    assert_eq!(a.drain(q).unwrap()[0].len(), 1518);
    assert!(c.drain(q).unwrap().is_empty());
    a.send(&frame(0xb, 0xa, 4000)).unwrap();
    assert_eq!(b.drain(q).unwrap()[0].len(), 4000);
    assert!(c.drain(q).unwrap().is_empty());
}

#[test]
fn burst_to_unconnected_client_arrives_whole_and_in_order() {
    let hub = Hub::start("smoke-burst", &[]);
    let ctl = hub.ctl();
    let mut a = UmlClient::connect(&ctl, ClientStyle::Uml).unwrap();
    let b = UmlClient::connect(&ctl, ClientStyle::UmlConnected).unwrap();
    let q = Duration::from_millis(200);
    a.send(&frame(0xb, 0xa, 60)).unwrap();
    b.send(&frame(0xa, 0xb, 60)).unwrap();
    a.drain(q).unwrap();
    // 300 frames in one burst at a receiver whose kernel queue holds about 11.
    let frames: Vec<Vec<u8>> = (0..300u16)
        .map(|i| {
            let mut f = frame(0xa, 0xb, 64);
            f[14..16].copy_from_slice(&i.to_be_bytes());
            f
        })
        .collect();
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let mut errors = 0;
    let mut sent = 0;
    while sent < refs.len() {
        sent += b.send_many(&refs[sent..], &mut errors).unwrap();
    }
    let got = a.drain(Duration::from_millis(500)).unwrap();
    let seq: Vec<u16> = got
        .iter()
        .map(|f| u16::from_be_bytes([f[14], f[15]]))
        .collect();
    assert_eq!(seq, (0..300).collect::<Vec<u16>>());
}
