//! flowlab-controller routes a triangle of real switches: `--apps topology,hosts,routing`
//! over three switches in a ring with a host on each (see `flowlab_tests::triangle`),
//! once with flowlab-hub (`--fail-mode secure`, one switch on OpenFlow 1.0 and two on
//! 1.3) and once with Open vSwitch userspace bridges.
//!
//! * every host pings every other (the topology has a loop: flooding that is not
//!   loop-safe would storm, and fail-mode secure switches forward nothing on their own);
//! * the controller installed the shortest path: the flows for h0 → h1 (matching both
//!   MAC addresses) are on s0 and s1 and not on s2;
//! * the s0–s1 cable is cut (one end down, the other loses carrier): h0 → h1 pings
//!   recover, now through s2, whose flow table shows the new path.
//!
//! Needs root (namespaces), ovs-ofctl, and for the second test Open vSwitch; the
//! controller binary must be built (`cargo build --workspace --bins`).

use std::time::Duration;

use flowlab_tests::controllers::missing_prerequisites;
use flowlab_tests::flowlab_controller::FlowlabController;
use flowlab_tests::proc::wait_until;
use flowlab_tests::triangle::{tools, Triangle, TriangleKind};
use flowlab_tests::TempDir;

/// Discovery once a second (the driver ticks once a second).
const CONFIG: &str = "[topology]\ninterval_ms = 1000\n";

fn routes_the_triangle(kind: TriangleKind) {
    if let Some(why) = missing_prerequisites(&tools(kind), false) {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = TempDir::new("fltri");
    let config = dir.join("controller.toml");
    std::fs::write(&config, CONFIG).unwrap();
    // Open vSwitch connects only to unix sockets in its run directory.
    let ctl_dir = match kind {
        TriangleKind::FlowlabHub => dir.path().to_path_buf(),
        TriangleKind::OpenVswitch => Triangle::ovs_dir(&dir),
    };
    std::fs::create_dir_all(&ctl_dir).unwrap();
    let mut ctl = FlowlabController::start(
        &ctl_dir,
        "topology,hosts,routing",
        &["--config".into(), config.display().to_string()],
    );
    let tri = Triangle::start(kind, ctl.socket(), &dir);
    let context = |ctl: &FlowlabController, tri: &Triangle| {
        format!(
            "controller log:\n{}\nswitch logs:\n{}",
            ctl.log_text(),
            tri.logs()
        )
    };
    assert!(
        wait_until(Duration::from_secs(20), || ctl
            .log_text()
            .matches(" joined")
            .count()
            >= 3),
        "{kind:?}: the three switches did not join\n{}",
        context(&ctl, &tri)
    );

    // Every host reaches every other.
    for from in 0..3 {
        for to in 0..3 {
            if from == to {
                continue;
            }
            let first = tri.ping_until_reply(from, to, Duration::from_secs(20));
            assert!(
                first.is_some(),
                "{kind:?}: h{from} never reached h{to}\n{}",
                context(&ctl, &tri)
            );
            let p = tri.ping(from, to, 3);
            assert_eq!(
                p.received,
                3,
                "{kind:?}: h{from} -> h{to}: {}\n{}",
                p.summary,
                context(&ctl, &tri)
            );
        }
    }
    assert!(ctl.running(), "the controller died\n{}", ctl.log_text());

    // The shortest path h0 -> h1 is s0 -> s1: flows there, none on s2.
    let on = |i: usize| tri.path_flows(i, 0, 1);
    assert!(
        !on(0).is_empty() && !on(1).is_empty(),
        "{kind:?}: no h0->h1 flows on s0/s1: {:?} / {:?}",
        on(0),
        on(1)
    );
    assert!(
        on(2).is_empty(),
        "{kind:?}: h0->h1 flows on s2, off the shortest path: {:?}",
        on(2)
    );
    // s0 sends h0's frames for h1 out of port 2 (the cable to s1).
    assert!(
        on(0).iter().all(|f| f.actions.contains("output:2")),
        "{kind:?}: s0's h0->h1 flow does not output to port 2: {:?}",
        on(0)
    );

    // Cut s0 -- s1: the pings recover through s2.
    tri.cut(0);
    let took = tri.ping_until_reply(0, 1, Duration::from_secs(30));
    assert!(
        took.is_some(),
        "{kind:?}: h0 -> h1 did not recover after the cut\n{}",
        context(&ctl, &tri)
    );
    eprintln!(
        "{kind:?}: h0 -> h1 answered again {:.1} s after the cut",
        took.unwrap().as_secs_f64()
    );
    let p = tri.ping(0, 1, 3);
    assert_eq!(p.received, 3, "{kind:?}: after the cut: {}", p.summary);
    assert!(
        !on(2).is_empty(),
        "{kind:?}: after the cut h0->h1 should go through s2, whose flows are: {:?}",
        tri.flows(2)
    );
    assert!(
        on(0).iter().all(|f| f.actions.contains("output:3")),
        "{kind:?}: s0 should now send h0->h1 out of port 3: {:?}",
        on(0)
    );
    assert!(ctl.running(), "the controller died\n{}", ctl.log_text());
}

#[test]
fn routes_a_triangle_of_flowlab_hubs() {
    routes_the_triangle(TriangleKind::FlowlabHub);
}

#[test]
fn routes_a_triangle_of_open_vswitch_bridges() {
    routes_the_triangle(TriangleKind::OpenVswitch);
}
