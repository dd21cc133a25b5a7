//! Fuzzes the frame parser: `extract`, every wire view behind `new_checked` with all its
//! getters, and a rewrite list over the extracted layout. Nothing may panic, and the
//! layout must stay inside the frame.
//!
//! Run with `cargo +nightly fuzz run flow_key seeds/flow_key` from `datapath/fuzz`.

#![no_main]

use std::hint::black_box;
use std::net::Ipv4Addr;

use flowlab_datapath::actions::{apply, Action, OutputList};
use flowlab_datapath::key::{extract, FlowKey};
use flowlab_datapath::wire::{self, EtherType, EthernetAddress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut key = FlowKey::default();
    let layout = extract(data, 1, &mut key);
    assert!(usize::from(layout.l3_offset) <= data.len());
    assert!(usize::from(layout.l4_offset) <= data.len());
    if layout.l4_complete {
        assert!(usize::from(layout.l4_offset) < data.len());
    }

    // The views at every offset a header can start at, and at the layout's own.
    for start in [
        0,
        14,
        18,
        22,
        26,
        usize::from(layout.l3_offset),
        usize::from(layout.l4_offset),
    ] {
        wire::exercise_views(data.get(start..).unwrap_or(&[]));
    }

    // Rewrites keep the layout in step with the frame.
    let mut frame = data.to_vec();
    let mut moved = layout;
    let mut out = OutputList::new();
    let actions = [
        Action::Output(1),
        Action::SetEthDst(EthernetAddress([2, 0, 0, 0, 0, 1])),
        Action::PushVlan(EtherType::QinQ),
        Action::SetVlanVid(7),
        Action::SetIpv4Src(Ipv4Addr::new(198, 51, 100, 1)),
        Action::SetIpDscp(46),
        Action::DecIpTtl,
        Action::SetTpDst(8080),
        Action::PopVlan,
        Action::Controller { max_len: 128 },
    ];
    let _ = apply(&actions, &mut frame, &mut moved, &mut out);
    for o in out.iter() {
        black_box(out.frame_of(o, &frame));
    }
    let mut again = FlowKey::default();
    black_box(extract(&frame, 1, &mut again));
});

