//! Runs the scenarios against every switch and assembles the report.
//!
//! All switches are started first and stay up (idle when not measured); each measurement
//! then cycles through them, repeat by repeat, so slow drifts of a shared machine's load
//! hit every switch alike instead of whichever happened to run last.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::args::Config;
use crate::flood::{self, FloodParams};
use crate::json::{obj, Json};
use crate::load::{self, LoadParams, LoadResult};
use crate::machine;
use crate::rate_search::{self, Probe, RateParams, RateResult, SearchParams};
use crate::report::{shell_join, Column, Report, SwitchInfo, Table};
use crate::rtt::{self, RttParams, RttResult};
use crate::switch_process::{self, program_label, StartOptions, SwitchProcess};
use crate::traffic::{ClientKind, Target};

/// A switch under test.
#[derive(Debug)]
struct Sut {
    info: SwitchInfo,
    proc: Option<SwitchProcess>,
}

impl Sut {
    /// The target if the switch is still running; notes its death otherwise.
    fn target(&mut self) -> Option<Target> {
        let p = self.proc.as_mut()?;
        if let Some(status) = p.exit_status() {
            eprintln!(
                "!! {} exited during the run ({status}); log tail:\n{}",
                self.info.label,
                p.log_tail(10)
            );
            self.info.status = format!("exited during the run ({status})");
            self.proc = None;
            return None;
        }
        Some(Target {
            ctl: p.ctl().to_path_buf(),
            pid: p.pid(),
        })
    }
}

fn load_columns(per: &'static str) -> Vec<Column> {
    vec![
        Column {
            name: "delivered /s",
            key: "rate",
            decimals: None,
            ratio: true,
        },
        Column {
            name: "loss %",
            key: "loss_pct",
            decimals: Some(3),
            ratio: false,
        },
        Column {
            name: per,
            key: "cpu_us_per_copy",
            decimals: Some(3),
            ratio: true,
        },
    ]
}

fn load_metrics(r: &LoadResult) -> Vec<f64> {
    vec![r.rate(), r.loss_pct(), r.cpu_per_copy()]
}

fn load_json(r: &LoadResult) -> Json {
    obj([
        ("sent", r.sent.into()),
        ("refused", r.refused.into()),
        ("eagain_waits", r.eagain.into()),
        ("window_stalls", r.stalls.into()),
        ("delivered", r.delivered.into()),
        ("expected", r.expected.into()),
        ("stray", r.stray.into()),
        ("secs", r.secs.into()),
        ("rate", r.rate().into()),
        ("loss_pct", r.loss_pct().into()),
        ("cpu_stat_us", r.cpu.stat_us.into()),
        ("cpu_sched_us", r.cpu.sched_us.into()),
        ("cpu_us_per_copy", r.cpu_per_copy().into()),
        ("cpu_sched_us_per_copy", r.sched_per_copy().into()),
    ])
}

fn rtt_json(r: &RttResult) -> Json {
    obj([
        ("count", r.sorted_ns.len().into()),
        ("lost", r.lost.into()),
        ("p50_us", r.pct_us(50.0).into()),
        ("p90_us", r.pct_us(90.0).into()),
        ("p99_us", r.pct_us(99.0).into()),
        ("max_us", r.pct_us(100.0).into()),
        ("mean_us", r.mean_us().into()),
    ])
}

fn rate_metrics(r: &RateResult) -> Vec<f64> {
    vec![
        r.achieved(),
        r.delivered as f64 / r.send_secs.max(1e-9),
        r.loss_pct(),
        r.refused_pct(),
        r.cpu_per_frame(),
    ]
}

fn rate_json(r: &RateResult) -> Json {
    obj([
        ("target", r.target.into()),
        ("offered", r.offered.into()),
        ("refused", r.refused.into()),
        ("delivered", r.delivered.into()),
        ("send_secs", r.send_secs.into()),
        ("slips", r.slips.into()),
        ("achieved", r.achieved().into()),
        ("loss_pct", r.loss_pct().into()),
        ("refused_pct", r.refused_pct().into()),
        ("cpu_stat_us", r.cpu.stat_us.into()),
        ("cpu_sched_us", r.cpu.sched_us.into()),
        ("cpu_us_per_frame", r.cpu_per_frame().into()),
    ])
}

fn rate_columns() -> Vec<Column> {
    vec![
        Column {
            name: "offered /s",
            key: "achieved",
            decimals: None,
            ratio: false,
        },
        Column {
            name: "delivered /s",
            key: "delivered_rate",
            decimals: None,
            ratio: false,
        },
        Column {
            name: "loss %",
            key: "loss_pct",
            decimals: Some(3),
            ratio: false,
        },
        Column {
            name: "refused at send %",
            key: "refused_pct",
            decimals: Some(3),
            ratio: false,
        },
        Column {
            name: "CPU µs/frame",
            key: "cpu_us_per_frame",
            decimals: Some(3),
            ratio: true,
        },
    ]
}

/// How a result type is recorded: metric values (table columns), raw JSON, progress line.
struct Record<T> {
    metrics: fn(&T) -> Vec<f64>,
    raw: fn(&T) -> Json,
    show: fn(&T) -> String,
}

const LOAD: Record<LoadResult> = Record {
    metrics: load_metrics,
    raw: load_json,
    show: show_load,
};
const RATE: Record<RateResult> = Record {
    metrics: rate_metrics,
    raw: rate_json,
    show: show_rate,
};
const RTT: Record<RttResult> = Record {
    metrics: rtt_metrics,
    raw: rtt_json,
    show: show_rtt,
};

fn rtt_metrics(r: &RttResult) -> Vec<f64> {
    vec![r.pct_us(50.0), r.pct_us(99.0), r.lost as f64]
}

fn show_rtt(r: &RttResult) -> String {
    format!(
        "p50 {:.1} µs  p99 {:.1} µs  lost {}",
        r.pct_us(50.0),
        r.pct_us(99.0),
        r.lost
    )
}

/// Measures group `g` of `table`: `repeat` rounds, each over every live switch.
fn measure<T>(
    suts: &mut [Sut],
    table: &mut Table,
    g: usize,
    repeat: usize,
    what: &str,
    mut run: impl FnMut(&Target) -> Result<T>,
    rec: &Record<T>,
) {
    let Record { metrics, raw, show } = rec;
    for rep in 0..repeat {
        for (i, sut) in suts.iter_mut().enumerate() {
            let Some(target) = sut.target() else { continue };
            let cell = &mut table.groups[g].cells[i];
            match run(&target) {
                Ok(r) => {
                    eprintln!(
                        "   {what} #{}/{repeat} {:<14} {}",
                        rep + 1,
                        sut.info.label,
                        show(&r)
                    );
                    cell.samples.push(metrics(&r));
                    cell.raw.push(raw(&r));
                }
                Err(e) => {
                    eprintln!(
                        "   {what} #{}/{repeat} {:<14} FAILED: {e:#}",
                        rep + 1,
                        sut.info.label
                    );
                    cell.errors.push(format!("{e:#}"));
                }
            }
        }
    }
}

fn window_for(cfg: &Config, kind: ClientKind, connected_window: u64) -> u64 {
    match kind {
        ClientKind::Connected => connected_window,
        ClientKind::Uml => cfg.uml_window,
    }
}

fn show_load(r: &LoadResult) -> String {
    format!(
        "{:>10.0}/s  loss {:.3}%  cpu {:.3} µs/copy  (sched {:.3}, eagain {}, stalls {})",
        r.rate(),
        r.loss_pct(),
        r.cpu_per_copy(),
        r.sched_per_copy().unwrap_or(f64::NAN),
        r.eagain,
        r.stalls
    )
}

fn show_rate(r: &RateResult) -> String {
    format!(
        "offered {:>9.0}/s  loss {:.3}% (refused {:.3}%)  cpu {:.3} µs/frame  slips {}",
        r.achieved(),
        r.loss_pct(),
        r.refused_pct(),
        r.cpu_per_frame(),
        r.slips
    )
}

/// Starts every switch; one that fails to start is reported and skipped.
fn start_switches(cfg: &Config, opts: &StartOptions) -> Vec<Sut> {
    let mut suts: Vec<Sut> = Vec::new();
    for spec in &cfg.switches {
        let base = spec
            .label
            .clone()
            .unwrap_or_else(|| program_label(&spec.template));
        let mut label = base.clone();
        let mut n = 2;
        while suts.iter().any(|s| s.info.label == label) {
            label = format!("{base}#{n}");
            n += 1;
        }
        let mut info = SwitchInfo {
            label,
            template: spec.template.clone(),
            argv: Vec::new(),
            status: String::new(),
        };
        let proc = match SwitchProcess::start(&spec.template, opts) {
            Ok(p) => {
                info.argv = p.argv().to_vec();
                info.status = "ok".into();
                eprintln!(
                    "== started {} (pid {}): {}",
                    info.label,
                    p.pid(),
                    info.argv.join(" ")
                );
                Some(p)
            }
            Err(e) => {
                eprintln!("!! {} did not start: {e:#}", info.label);
                let first = format!("{e:#}").lines().next().unwrap_or("").to_string();
                info.status = format!("did not start: {first}");
                None
            }
        };
        suts.push(Sut { info, proc });
    }
    suts
}

/// Scenario (a): one table per client style, a group per frame size.
fn unicast_tables(cfg: &Config, suts: &mut [Sut]) -> Vec<Table> {
    let mut tables = Vec::new();
    for &kind in &cfg.clients {
        let window = window_for(cfg, kind, cfg.window);
        let mut t = Table::new(
            &format!("unicast-{}", kind.name()),
            format!("(a) Unicast A→B, {} clients", kind.name()),
            "frame B",
            load_columns("CPU µs/frame"),
        );
        t.notes.push(format!(
            "{} frames per run, at most {window} in flight; median of {} runs. delivered /s = frames \
             B counted ÷ (first send → last receive). CPU = switch utime+stime (/proc/PID/stat) \
             over the run ÷ frames delivered.",
            cfg.frames, cfg.repeat
        ));
        for &size in &cfg.sizes {
            let g = t.add_group(size.to_string(), suts.len());
            let p = LoadParams {
                kind,
                ports: 2,
                size,
                frames: cfg.frames,
                window,
                broadcast: false,
                stall: Duration::from_millis(50),
                quiet: Duration::from_millis(200),
            };
            let what = format!("unicast {} {size}B", kind.name());
            measure(
                suts,
                &mut t,
                g,
                cfg.repeat,
                &what,
                |tg| load::run(tg, &p),
                &LOAD,
            );
        }
        tables.push(t);
    }
    tables
}

/// Scenario (b): a group per client style.
fn rtt_table(cfg: &Config, suts: &mut [Sut]) -> Table {
    let col = |name, key, decimals, ratio| Column {
        name,
        key,
        decimals,
        ratio,
    };
    let mut t = Table::new(
        "rtt",
        "(b) Ping-pong round trip A→B→A, 64-byte frames".into(),
        "clients",
        vec![
            col("p50 µs", "p50_us", Some(1), true),
            col("p99 µs", "p99_us", Some(1), true),
            col("lost", "lost", Some(0), false),
        ],
    );
    t.notes.push(format!(
        "{} round trips per run after {} warm-up; one frame in flight; both ends block in poll(); \
         median of {} runs of each percentile.",
        cfg.rtt_count, cfg.rtt_warmup, cfg.repeat
    ));
    for &kind in &cfg.clients {
        let g = t.add_group(kind.name().into(), suts.len());
        let p = RttParams {
            kind,
            count: cfg.rtt_count,
            warmup: cfg.rtt_warmup,
            size: 64,
            timeout: Duration::from_millis(200),
        };
        let what = format!("rtt {}", kind.name());
        measure(
            suts,
            &mut t,
            g,
            cfg.repeat,
            &what,
            |tg| rtt::run(tg, &p),
            &RTT,
        );
    }
    t
}

/// Scenario (c): a group per client style.
fn flood_table(cfg: &Config, suts: &mut [Sut]) -> Table {
    let mut t = Table::new(
        "flood",
        format!(
            "(c) Broadcast flood, 1 sender → {} receivers, 64-byte frames",
            cfg.flood_ports - 1
        ),
        "clients",
        load_columns("CPU µs/copy"),
    );
    t.notes.push(format!(
        "{} broadcast frames per run; at most {} (connected) / {} (uml) frames in flight, counted \
         at the slowest receiver; median of {} runs. delivered /s counts copies; CPU per copy = \
         switch CPU ÷ copies delivered.",
        cfg.flood_frames, cfg.flood_window, cfg.uml_window, cfg.repeat
    ));
    for &kind in &cfg.clients {
        let g = t.add_group(kind.name().into(), suts.len());
        let p = FloodParams {
            kind,
            ports: cfg.flood_ports,
            frames: cfg.flood_frames,
            window: window_for(cfg, kind, cfg.flood_window),
            size: 64,
        };
        let what = format!("flood {}", kind.name());
        measure(
            suts,
            &mut t,
            g,
            cfg.repeat,
            &what,
            |tg| flood::run(tg, &p),
            &LOAD,
        );
    }
    t
}

fn rate_params(cfg: &Config, rate: f64) -> RateParams {
    RateParams {
        rate,
        secs: cfg.rate_secs,
        size: cfg.rate_size,
        burst: cfg.burst,
        burst_gap_us: cfg.burst_gap_us,
        kind: ClientKind::Uml,
    }
}

/// The no-drop rate search on the reference switch: notes and JSON go into `t`; returns
/// the rate every switch then runs at.
fn search_reference(cfg: &Config, suts: &mut [Sut], t: &mut Table) -> Option<f64> {
    let ri = match &cfg.rate_ref {
        Some(l) => suts.iter().position(|s| &s.info.label == l),
        None => Some(
            suts.iter()
                .position(|s| s.info.label == "uml_switch")
                .unwrap_or(0),
        ),
    };
    let Some(ri) = ri else {
        eprintln!(
            "!! --rate-search-ref: no switch labelled {:?}",
            cfg.rate_ref
        );
        t.notes.push(format!(
            "Rate search skipped: no switch labelled {:?}.",
            cfg.rate_ref
        ));
        return None;
    };
    let label = suts[ri].info.label.clone();
    let target = suts[ri].target()?;
    let sp = SearchParams {
        lo: cfg.rate_range.0,
        hi: cfg.rate_range.1,
        threshold_pct: cfg.loss_threshold,
        tolerance: 0.05,
        max_probes: 12,
    };
    eprintln!("-- rate search on {label} in {}..{} fps", sp.lo, sp.hi);
    let probe = |rate: f64| rate_search::run(&target, &rate_params(cfg, rate));
    let report = |pr: &Probe| {
        let verdict = if pr.pass { "pass" } else { "FAIL" };
        eprintln!(
            "   probe {:>9.0}/s (offered {:>9.0}/s): loss {:.3}% {verdict}",
            pr.rate, pr.achieved, pr.loss_pct
        )
    };
    let out = match rate_search::search(&sp, probe, report) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("!! rate search failed: {e:#}");
            t.notes
                .push(format!("Rate search on {label} failed: {e:#}"));
            return None;
        }
    };
    let probes: Vec<String> = out
        .probes
        .iter()
        .map(|p| format!("{:.0} → {:.3}%", p.rate, p.loss_pct))
        .collect();
    t.notes.push(format!(
        "No-drop rate search on **{label}** (loss ≤ {} %, {} s probes, range {:.0}..{:.0}): {}. \
         Probes (rate → loss): {}.",
        cfg.loss_threshold,
        cfg.rate_secs,
        sp.lo,
        sp.hi,
        out.note,
        probes.join(", ")
    ));
    let probe_json = |p: &Probe| {
        obj([
            ("rate", p.rate.into()),
            ("achieved", p.achieved.into()),
            ("loss_pct", p.loss_pct.into()),
            ("pass", p.pass.into()),
        ])
    };
    t.extra = obj([(
        "search",
        obj([
            ("reference", label.clone().into()),
            ("threshold_pct", cfg.loss_threshold.into()),
            ("probe_secs", cfg.rate_secs.into()),
            ("lo", sp.lo.into()),
            ("hi", sp.hi.into()),
            ("rate", out.rate.into()),
            ("note", out.note.clone().into()),
            (
                "probes",
                Json::Arr(out.probes.iter().map(probe_json).collect()),
            ),
        ]),
    )]);
    Some(out.rate.unwrap_or_else(|| {
        t.notes.push(format!(
            "{label} has no no-drop rate in the range; every switch runs at the bottom of the \
             range instead."
        ));
        sp.lo
    }))
}

/// Scenario (d): the searched rate (if asked) and the fixed rates, a group per rate.
fn rate_table(cfg: &Config, suts: &mut [Sut]) -> Table {
    let mut t = Table::new(
        "uml-rate",
        format!(
            "(d) UML-like (unconnected) clients at a fixed offered rate, {}-byte frames",
            cfg.rate_size
        ),
        "target /s",
        rate_columns(),
    );
    t.notes.push(format!(
        "{} s per run; sender paced in batches of up to {} frames (≥ {} µs apart); frames the \
         switch refuses (EAGAIN) are dropped as UML does; loss % = (offered − delivered) ÷ \
         offered; median of {} runs.",
        cfg.rate_secs, cfg.burst, cfg.burst_gap_us, cfg.repeat
    ));
    let mut rates = Vec::new();
    if cfg.rate_search {
        if let Some(r) = search_reference(cfg, suts, &mut t) {
            for &m in &cfg.rate_multiples {
                let rate = if m == 1.0 {
                    r
                } else {
                    rate_search::round_rate(r * m)
                };
                if !rates.contains(&rate) {
                    rates.push(rate);
                }
            }
        }
    }
    for &r in &cfg.rates {
        if !rates.contains(&r) {
            rates.push(r);
        }
    }
    for rate in rates {
        let g = t.add_group(format!("{rate:.0}"), suts.len());
        let p = rate_params(cfg, rate);
        let what = format!("uml-rate {rate:.0}/s");
        measure(
            suts,
            &mut t,
            g,
            cfg.repeat,
            &what,
            |tg| rate_search::run(tg, &p),
            &RATE,
        );
    }
    t
}

/// Runs everything `cfg` asks for.
pub fn run(cfg: &Config) -> Result<Report> {
    let machine = machine::collect();
    let nproc = machine.nproc;
    let switch_cpu = (cfg.pin && nproc >= 2).then_some(nproc - 1);
    if switch_cpu.is_some() {
        let others: Vec<usize> = (0..nproc - 1).collect();
        switch_process::pin_set(0, &others);
    }
    if let Some(n) = cfg.nice {
        switch_process::set_nice(0, n);
    }
    if let Some(prio) = cfg.rt {
        switch_process::set_fifo(0, prio).context("--rt: setting SCHED_FIFO on the bench")?;
    }
    let opts = StartOptions {
        timeout: cfg.start_timeout,
        cpu: switch_cpu,
        keep_dir: cfg.keep_dirs,
        nice: cfg.nice,
        rt: cfg.rt,
    };
    let mut suts = start_switches(cfg, &opts);

    let mut tables = Vec::new();
    if cfg.scenarios.unicast {
        tables.extend(unicast_tables(cfg, &mut suts));
    }
    if cfg.scenarios.rtt {
        tables.push(rtt_table(cfg, &mut suts));
    }
    if cfg.scenarios.flood {
        tables.push(flood_table(cfg, &mut suts));
    }
    if cfg.scenarios.rate {
        tables.push(rate_table(cfg, &mut suts));
    }

    for sut in &mut suts {
        if let Some(mut p) = sut.proc.take() {
            match p.stop() {
                Ok(s) if sut.info.status == "ok" => sut.info.status = format!("ok (stopped: {s})"),
                Ok(_) => {}
                Err(e) => sut.info.status = format!("stop failed: {e:#}"),
            }
        }
    }

    let settings: Vec<(String, String)> = vec![
        (
            "repeat".into(),
            format!("{} (medians reported)", cfg.repeat),
        ),
        (
            "clients".into(),
            cfg.clients
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(","),
        ),
        (
            "windows".into(),
            format!(
                "{} connected / {} uml / {} flood connected",
                cfg.window, cfg.uml_window, cfg.flood_window
            ),
        ),
        (
            "pinned".into(),
            switch_cpu.map_or("no".into(), |c| format!("switches on CPU {c}")),
        ),
        (
            "nice".into(),
            cfg.nice.map_or("unchanged".into(), |n| n.to_string()),
        ),
        (
            "scheduling".into(),
            cfg.rt
                .map_or("normal".into(), |p| format!("SCHED_FIFO {p}")),
        ),
    ];
    Ok(Report {
        command: shell_join(&cfg.argv),
        machine,
        loadavg_end: machine::loadavg(),
        switches: suts.into_iter().map(|s| s.info).collect(),
        settings,
        tables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every scenario briefly against `template` if its program is installed.
    fn smoke(template: &str) {
        let prog = template.split_whitespace().next().unwrap();
        if !std::path::Path::new(prog).exists() {
            eprintln!("{prog} not installed, skipped");
            return;
        }
        let opts = StartOptions {
            timeout: Duration::from_secs(5),
            cpu: None,
            keep_dir: false,
            nice: None,
            rt: None,
        };
        let mut sw = SwitchProcess::start(template, &opts).unwrap();
        let target = Target {
            ctl: sw.ctl().to_path_buf(),
            pid: sw.pid(),
        };
        for kind in [ClientKind::Connected, ClientKind::Uml] {
            let p = LoadParams {
                kind,
                ports: 2,
                size: 64,
                frames: 2_000,
                window: 8,
                broadcast: false,
                stall: Duration::from_millis(50),
                quiet: Duration::from_millis(100),
            };
            let r = load::run(&target, &p).unwrap();
            assert_eq!(r.sent, 2_000);
            assert!(r.delivered >= 1_900, "{r:?}");
            let f = FloodParams {
                kind,
                ports: 4,
                frames: 500,
                window: 4,
                size: 64,
            };
            let r = flood::run(&target, &f).unwrap();
            assert_eq!(r.expected, 1_500);
            assert!(r.delivered >= 1_400, "{r:?}");
            let rp = RttParams {
                kind,
                count: 50,
                warmup: 5,
                size: 64,
                timeout: Duration::from_millis(200),
            };
            let r = rtt::run(&target, &rp).unwrap();
            assert!(r.sorted_ns.len() >= 45, "{r:?}");
        }
        let p = RateParams {
            rate: 5_000.0,
            secs: 0.1,
            size: 64,
            burst: 8,
            burst_gap_us: 50.0,
            kind: ClientKind::Uml,
        };
        let r = rate_search::run(&target, &p).unwrap();
        assert_eq!(r.offered, 500);
        // The plumbing, not the switch's speed: UML-style receivers are unconnected
        // sockets whose kernel queue holds ten datagrams, so on a loaded machine some
        // of a burst is lost at the receiver (that is what the rate search measures).
        assert!(r.delivered > 0 && r.delivered <= r.offered, "{r:?}");
        assert!(sw.exit_status().is_none());
        sw.stop().unwrap();
    }

    #[test]
    fn smoke_uml_switch() {
        smoke("/usr/bin/uml_switch -unix {ctl}");
    }

    #[test]
    fn smoke_vde_switch() {
        smoke("/usr/bin/vde_switch -s {ctl}");
    }
}
