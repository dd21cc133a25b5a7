//! `flowlab-bench controller`: a cbench-class OpenFlow controller benchmark.
//!
//! N emulated switches connect to a controller, complete the handshake as cbench's fake
//! switches do and send packet_ins whose source MACs cycle through `--macs` addresses per
//! switch (towards a few destinations taught first), so a learning switch both learns and
//! installs. What comes back is counted by kind, FLOW_MODs (flow setups) apart from
//! PACKET_OUTs: cbench adds them up, so a controller that answers each packet_in with two
//! messages scores double there. Counting happens per switch and per one-second interval;
//! the figures are medians over the intervals after the warm-up, and the controller's CPU
//! per flow setup comes from `/proc/PID/stat` around those intervals.
//!
//! | module | holds |
//! |---|---|
//! | `wire` | packet_in and flow_mod templates built with the codec, patched in place; classifying answers from their header |
//! | `fake_switch` | one emulated switch, sans IO: handshake replies, the traffic pattern, round trips |
//! | `intervals` | tallies, snapshots, one-second intervals, medians |
//! | `poller` | endpoints, streams, epoll |
//! | `driver` | one measurement: connect, handshake, learn, load, sample |
//! | `responder` | the in-process do-nothing controller of `--self-test` |
//! | `launch` | finding, starting and stopping the controllers of `--compare` |
//! | `report` | markdown and JSON |

pub mod args;
pub mod driver;
pub mod fake_switch;
pub mod intervals;
pub mod launch;
pub mod poller;
pub mod report;
pub mod responder;
pub mod wire;

use std::time::Duration;

use anyhow::Result;

use args::ControllerConfig;
use driver::{CpuSource, LoadSpec};
use launch::{ControllerProcess, ControllerSpec};
use report::{ControllerReport, Row};
use responder::Responder;

use crate::report::shell_join;

/// The label of the in-process responder's row.
pub const SELF_TEST: &str = "self-test responder";

fn load_spec(c: &ControllerConfig) -> LoadSpec {
    LoadSpec {
        endpoint: c.connect.clone(),
        switches: c.switches,
        of13: c.of13,
        ports: c.ports,
        macs: c.macs,
        dst_macs: c.dst_macs,
        cbench_replies: c.cbench_replies,
        mode: c.mode,
        seconds: c.seconds,
        warmup: c.warmup,
        threads: c.threads,
        dpid_base: 1,
        batch_bytes: c.batch_bytes,
        latency_timeout: c.latency_timeout,
        handshake_timeout: c.handshake_timeout,
    }
}

fn progress(label: &str, k: usize, of: usize, r: &Result<driver::RunResult>) {
    match r {
        Ok(r) => eprintln!(
            "== {label} run {}/{of}: {:.0} flow setups/s, {:.0} packet_outs/s, CPU/setup {} µs{}",
            k + 1,
            r.summary.flow_mods_per_s,
            r.summary.packet_outs_per_s,
            r.cpu_per_setup_us()
                .map_or_else(|| "—".into(), |v| format!("{v:.3}")),
            r.summary
                .mean_rtt_us
                .map_or_else(String::new, |v| format!(", mean RTT {v:.1} µs"))
        ),
        Err(e) => eprintln!("== {label} run {}/{of} failed: {e:#}", k + 1),
    }
}

/// One run against the in-process responder.
fn self_test_run(spec: &LoadSpec) -> Result<driver::RunResult> {
    let responder = Responder::start(spec.of13, None)?;
    let s = LoadSpec {
        endpoint: responder.endpoint().clone(),
        ..spec.clone()
    };
    let tid = CpuSource::Thread(responder.tid());
    driver::run(&s, Some(tid), Some(tid))
}

fn self_test_row() -> Row {
    Row::new(
        SELF_TEST,
        "in-process".into(),
        Some(
            "a do-nothing controller thread in the bench: one flow_mod per packet_in, nothing \
             decoded (the harness's ceiling); its CPU is the thread's"
                .into(),
        ),
    )
}

fn record(row: &mut Row, k: usize, of: usize, r: Result<driver::RunResult>) {
    progress(&row.label, k, of, &r);
    match r {
        Ok(r) => row.runs.push(r),
        Err(e) => row.errors.push(format!("{e:#}")),
    }
}

/// Runs the benchmark the configuration asks for.
pub fn run(c: &ControllerConfig) -> Result<ControllerReport> {
    let machine = crate::machine::collect();
    let spec = load_spec(c);
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    if c.compare {
        let (specs, skipped) = launch::available(c.of13, c.only.as_deref());
        notes.extend(skipped);
        let mut running: Vec<(ControllerSpec, Option<ControllerProcess>, Row)> = Vec::new();
        for s in specs {
            eprintln!("== starting {}", s.label);
            let started = ControllerProcess::start(&s, c.start_timeout, c.keep_logs);
            let mut row = Row::new(&s.label, s.template.clone(), s.note.clone());
            let p = match started {
                Ok(p) => {
                    row.command = shell_join(p.argv());
                    if c.keep_logs {
                        row.status = format!("ok, log {}", p.log().display());
                    }
                    Some(p)
                }
                Err(e) => {
                    row.status = "failed to start".into();
                    row.errors.push(format!("{e:#}"));
                    eprintln!("== {} failed to start: {e:#}", s.label);
                    None
                }
            };
            running.push((s, p, row));
        }
        let with_self = c
            .only
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x == "self-test"));
        let mut self_row = with_self.then(self_test_row);
        for k in 0..c.repeat {
            for (s, p, row) in running.iter_mut() {
                let Some(proc_) = p.as_mut() else { continue };
                if let Some(st) = proc_.exit_status() {
                    row.errors
                        .push(format!("exited before run {} ({st})", k + 1));
                    continue;
                }
                let spec = LoadSpec {
                    endpoint: poller::Endpoint::Tcp(format!("127.0.0.1:{}", proc_.port())),
                    ..spec.clone()
                };
                let cpu = CpuSource::Process(proc_.pid());
                let r = driver::run(&spec, Some(cpu), None);
                record(row, k, c.repeat, r);
                let idle = driver::wait_idle(cpu, Duration::from_secs(30));
                if idle > Duration::from_secs(1) {
                    eprintln!(
                        "== {} went idle {:.1} s after the run",
                        s.label,
                        idle.as_secs_f64()
                    );
                }
                if let Some(st) = proc_.exit_status() {
                    row.status =
                        format!("exited during the run ({st}); log:\n{}", proc_.log_tail(10));
                    eprintln!("== {} exited: {}", s.label, row.status);
                }
            }
            if let Some(row) = self_row.as_mut() {
                let r = self_test_run(&spec);
                record(row, k, c.repeat, r);
            }
        }
        for (s, p, mut row) in running {
            if let Some(mut p) = p {
                match p.stop() {
                    Ok(st) if row.status == "ok" || row.status.starts_with("ok,") => {
                        row.status = format!("{}; stopped ({st})", row.status)
                    }
                    Ok(_) => {}
                    Err(e) => row.status = format!("{}; stopping: {e}", row.status),
                }
            }
            let _ = s;
            rows.push(row);
        }
        rows.extend(self_row);
    } else if c.self_test {
        let mut row = self_test_row();
        for k in 0..c.repeat {
            let r = self_test_run(&spec);
            record(&mut row, k, c.repeat, r);
        }
        rows.push(row);
    } else {
        let mut row = Row::new(
            &c.connect.to_string(),
            c.connect.to_string(),
            c.controller_pid.map(|p| format!("controller PID {p}")),
        );
        if c.controller_pid.is_none() {
            row.note = Some("no --controller-pid: no CPU figures".into());
        }
        let cpu = c.controller_pid.map(CpuSource::Process);
        for k in 0..c.repeat {
            let r = driver::run(&spec, cpu, None);
            record(&mut row, k, c.repeat, r);
            if let (Some(cpu), true) = (cpu, k + 1 < c.repeat) {
                driver::wait_idle(cpu, Duration::from_secs(30));
            }
        }
        rows.push(row);
    }
    Ok(ControllerReport {
        command: shell_join(&c.argv),
        machine,
        loadavg_end: crate::machine::loadavg(),
        spec,
        repeat: c.repeat,
        compare: c.compare,
        rows,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use driver::Mode;

    fn short(mode: Mode, of13: bool) -> LoadSpec {
        LoadSpec {
            endpoint: poller::Endpoint::Tcp("127.0.0.1:1".into()),
            switches: 4,
            of13,
            ports: 4,
            macs: 1000,
            dst_macs: 2,
            cbench_replies: false,
            mode,
            seconds: 1,
            warmup: 1,
            threads: 2,
            dpid_base: 1,
            batch_bytes: 16 * 1024,
            latency_timeout: Duration::from_millis(500),
            handshake_timeout: Duration::from_secs(5),
        }
    }

    /// The 2-second integration test: four switches against the in-process responder,
    /// one warm-up and one measured interval, in each mode.
    #[test]
    fn measures_the_in_process_responder() {
        let r = self_test_run(&short(Mode::Throughput, false)).unwrap();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.intervals.len(), 2);
        assert_eq!(r.learn_answers, 8, "one flow_mod per learn packet_in");
        let s = &r.summary;
        assert_eq!(s.intervals, 1);
        assert!(s.flow_mods_per_s > 1000.0, "{s:?}");
        assert_eq!(s.packet_outs_per_s, 0.0);
        // Every switch was answered.
        assert!(s.per_switch_flow_mods.iter().all(|&v| v > 0.0), "{s:?}");
        // Nothing is answered that was not sent, and the answers keep up.
        let (mut sent, mut answered) = (0, 0);
        for iv in &r.intervals {
            sent += iv.total().packet_ins;
            answered += iv.total().flow_mods;
        }
        assert!(
            answered <= sent && answered * 10 > sent,
            "{answered} of {sent}"
        );
        assert!(r.controller_cpu.is_some() && r.harness_cpu.is_some());
        assert!(r.cpu_per_setup_us().is_some());

        let r = self_test_run(&short(Mode::Latency, true)).unwrap();
        let s = &r.summary;
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(s.total.rtts > 100, "{s:?}");
        assert_eq!(s.total.timeouts, 0);
        let rtt = s.mean_rtt_us.unwrap();
        assert!(rtt > 0.0 && rtt < 500_000.0, "{rtt}");
        // One packet_in in flight per switch: answers and packet_ins stay in step.
        assert!(s.total.flow_mods.abs_diff(s.total.packet_ins) <= 4, "{s:?}");
    }

    #[test]
    fn a_controller_that_is_not_there_is_an_error() {
        let port = launch::free_port().unwrap();
        let spec = LoadSpec {
            endpoint: poller::Endpoint::Tcp(format!("127.0.0.1:{port}")),
            ..short(Mode::Throughput, false)
        };
        let err = driver::run(&spec, None, None).unwrap_err();
        assert!(format!("{err:#}").contains("connecting"), "{err:#}");
    }
}
