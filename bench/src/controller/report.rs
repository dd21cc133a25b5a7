//! The controller benchmark's results: one row per controller (medians over the repeats of
//! each run's median over its intervals), the runs and intervals behind them, as markdown
//! and JSON.

use std::fmt::Write;

use super::driver::{LoadSpec, Mode, RunResult};
use super::intervals::{Interval, Tally};
use super::launch::OVS_TESTCONTROLLER;
use crate::json::{obj, Json};
use crate::machine::MachineInfo;
use crate::report::{fmt_ratio, thousands};
use crate::stats::median;

/// One controller's results.
#[derive(Clone, Debug)]
pub struct Row {
    /// Label.
    pub label: String,
    /// Command line (or a description of an in-process controller).
    pub command: String,
    /// What was run, in words.
    pub note: Option<String>,
    /// How it went: started, failed to start, exit status.
    pub status: String,
    /// Successful runs.
    pub runs: Vec<RunResult>,
    /// Failed runs.
    pub errors: Vec<String>,
}

impl Row {
    /// A row with no runs yet.
    pub fn new(label: &str, command: String, note: Option<String>) -> Row {
        Row {
            label: label.to_string(),
            command,
            note,
            status: "ok".into(),
            runs: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The median over the runs of `f`.
    pub fn median(&self, f: impl Fn(&RunResult) -> Option<f64>) -> Option<f64> {
        let v: Vec<f64> = self.runs.iter().filter_map(f).collect();
        median(&v)
    }

    fn flow_mods(&self) -> Option<f64> {
        self.median(|r| Some(r.summary.flow_mods_per_s))
    }

    fn cpu_per_setup(&self) -> Option<f64> {
        self.median(RunResult::cpu_per_setup_us)
    }
}

/// A whole run of `flowlab-bench controller`.
#[derive(Clone, Debug)]
pub struct ControllerReport {
    /// The bench's command line.
    pub command: String,
    /// Machine facts at the start.
    pub machine: MachineInfo,
    /// Load average at the end.
    pub loadavg_end: String,
    /// The load (endpoint ignored in compare mode).
    pub spec: LoadSpec,
    /// Repeats asked for.
    pub repeat: usize,
    /// Whether controllers were compared (ratio columns).
    pub compare: bool,
    /// One row per controller.
    pub rows: Vec<Row>,
    /// Lines printed under the table (skipped controllers, notes).
    pub notes: Vec<String>,
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "—".into(),
    }
}

fn opt_k(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), thousands)
}

fn tally_json(t: &Tally) -> Json {
    obj([
        ("flow_mods", t.flow_mods.into()),
        ("packet_outs", t.packet_outs.into()),
        ("other", t.other.into()),
        ("errors", t.errors.into()),
        ("packet_ins", t.packet_ins.into()),
        ("rtts", t.rtts.into()),
        ("rtt_ns", t.rtt_ns.into()),
        ("timeouts", t.timeouts.into()),
    ])
}

fn interval_json(i: &Interval) -> Json {
    obj([
        ("start_s", i.start.into()),
        ("secs", i.secs.into()),
        ("total", tally_json(&i.total())),
        (
            "per_switch",
            Json::Arr(i.switches.iter().map(tally_json).collect()),
        ),
    ])
}

fn run_json(r: &RunResult) -> Json {
    let s = &r.summary;
    obj([
        ("flow_mods_per_s", s.flow_mods_per_s.into()),
        ("packet_outs_per_s", s.packet_outs_per_s.into()),
        ("responses_per_s", s.responses_per_s.into()),
        ("packet_ins_per_s", s.packet_ins_per_s.into()),
        ("flow_mods_per_s_min", s.flow_mods_range.0.into()),
        ("flow_mods_per_s_max", s.flow_mods_range.1.into()),
        ("intervals_used", s.intervals.into()),
        ("secs_used", s.secs.into()),
        ("mean_rtt_us", s.mean_rtt_us.into()),
        (
            "per_switch_flow_mods_per_s",
            s.per_switch_flow_mods.clone().into(),
        ),
        (
            "per_switch_packet_outs_per_s",
            s.per_switch_packet_outs.clone().into(),
        ),
        ("total", tally_json(&s.total)),
        ("controller_cpu_us", r.controller_cpu.map(|c| c.us).into()),
        (
            "controller_cores",
            r.controller_cpu.map(|c| c.cores()).into(),
        ),
        ("cpu_us_per_flow_setup", r.cpu_per_setup_us().into()),
        ("harness_cpu_us", r.harness_cpu.map(|c| c.us).into()),
        ("harness_cores", r.harness_cpu.map(|c| c.cores()).into()),
        ("handshake_ms", r.handshake_ms.into()),
        ("learn_answers", r.learn_answers.into()),
        ("problems", r.problems.clone().into()),
        (
            "intervals",
            Json::Arr(r.intervals.iter().map(interval_json).collect()),
        ),
    ])
}

impl ControllerReport {
    fn baseline(&self) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.label == OVS_TESTCONTROLLER && !r.runs.is_empty())
    }

    fn settings(&self) -> String {
        let s = &self.spec;
        format!(
            "mode {}; {} switches, OpenFlow {}; {} source and {} destination MACs per switch, \
             {} ports; {} + {} one-second intervals (the first {} dropped as warm-up); \
             repeat {} (medians of the runs' medians); {} harness thread(s){}{}",
            s.mode.name(),
            s.switches,
            if s.of13 { "1.3" } else { "1.0" },
            thousands(f64::from(s.macs)),
            s.dst_macs,
            s.ports,
            s.warmup,
            s.seconds,
            s.warmup,
            self.repeat,
            s.threads,
            if s.mode == Mode::Throughput {
                format!(", {} KiB write batches", s.batch_bytes / 1024)
            } else {
                format!(", {} ms answer timeout", s.latency_timeout.as_millis())
            },
            if s.cbench_replies {
                "; switches answer only what cbench answers"
            } else {
                ""
            }
        )
    }

    /// The report as markdown.
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let latency = self.spec.mode == Mode::Latency;
        let mut out = String::new();
        let _ = writeln!(out, "## flowlab-bench controller, {}\n", m.date_utc);
        let _ = writeln!(out, "Command:\n\n```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            out,
            "Machine: {} CPUs ({}), {} RAM, {}.  ",
            m.nproc, m.cpu_model, m.mem, m.kernel
        );
        let _ = writeln!(
            out,
            "Load average at start: {}; at end: {}.\n",
            m.loadavg, self.loadavg_end
        );
        let _ = writeln!(out, "Settings: {}.\n", self.settings());

        let base = self.baseline();
        let mut head = vec![
            "controller",
            "flow setups/s",
            "packet_outs/s",
            "cbench count/s",
            "packet_ins sent/s",
        ];
        if latency {
            head.push("mean RTT µs");
        }
        head.extend(["CPU µs/setup", "controller cores", "harness cores"]);
        if self.compare {
            head.extend([
                "setups/s vs ovs-testcontroller",
                "CPU/setup vs ovs-testcontroller",
            ]);
        }
        head.push("runs");
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let align: Vec<&str> = head
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "|{}|", align.join("|"));
        for row in &self.rows {
            let mut cells = vec![
                row.label.clone(),
                opt_k(row.flow_mods()),
                opt_k(row.median(|r| Some(r.summary.packet_outs_per_s))),
                opt_k(row.median(|r| Some(r.summary.responses_per_s))),
                opt_k(row.median(|r| Some(r.summary.packet_ins_per_s))),
            ];
            if latency {
                cells.push(opt(row.median(|r| r.summary.mean_rtt_us), 1));
            }
            cells.push(opt(row.cpu_per_setup(), 3));
            cells.push(opt(row.median(|r| r.controller_cpu.map(|c| c.cores())), 2));
            cells.push(opt(row.median(|r| r.harness_cpu.map(|c| c.cores())), 2));
            if self.compare {
                cells.push(fmt_ratio(row.flow_mods(), base.and_then(Row::flow_mods)));
                cells.push(fmt_ratio(
                    row.cpu_per_setup(),
                    base.and_then(Row::cpu_per_setup),
                ));
            }
            cells.push(format!(
                "{}{}",
                row.runs.len(),
                if row.errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({} failed)", row.errors.len())
                }
            ));
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
        out.push_str(
            "flow setups = FLOW_MODs received; cbench count = FLOW_MODs + PACKET_OUTs (what \
             cbench reports, so a controller answering with two messages scores double). Rates \
             are medians over the one-second intervals after the warm-up; CPU µs/setup = the \
             controller's utime+stime (/proc/PID/stat) over those intervals ÷ the FLOW_MODs \
             received in them; cores = CPU time ÷ wall time.\n\n",
        );
        for row in &self.rows {
            let _ = write!(out, "* **{}**: `{}`", row.label, row.command);
            if let Some(n) = &row.note {
                let _ = write!(out, ". {n}");
            }
            let _ = writeln!(out, ". Status: {}.", row.status);
        }
        for n in &self.notes {
            let _ = writeln!(out, "* {n}");
        }
        out.push('\n');

        for row in &self.rows {
            if row.runs.is_empty() && row.errors.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {}\n", row.label);
            out.push_str(
                "| run | flow setups/s | min..max over intervals | packet_outs/s | per switch setups/s (min / median / max) |",
            );
            if latency {
                out.push_str(" mean RTT µs | timeouts |");
            }
            out.push_str(" CPU µs/setup | handshake ms | learn answers |\n");
            out.push_str("|---:|---:|---:|---:|---:|");
            if latency {
                out.push_str("---:|---:|");
            }
            out.push_str("---:|---:|---:|\n");
            for (k, r) in row.runs.iter().enumerate() {
                let s = &r.summary;
                let ps = &s.per_switch_flow_mods;
                let (lo, med, hi) = (
                    ps.iter().copied().fold(f64::INFINITY, f64::min),
                    median(ps).unwrap_or(0.0),
                    ps.iter().copied().fold(0.0, f64::max),
                );
                let _ = write!(
                    out,
                    "| {} | {} | {}..{} | {} | {} / {} / {} |",
                    k + 1,
                    thousands(s.flow_mods_per_s),
                    thousands(s.flow_mods_range.0),
                    thousands(s.flow_mods_range.1),
                    thousands(s.packet_outs_per_s),
                    thousands(lo),
                    thousands(med),
                    thousands(hi),
                );
                if latency {
                    let _ = write!(out, " {} | {} |", opt(s.mean_rtt_us, 1), s.total.timeouts);
                }
                let _ = writeln!(
                    out,
                    " {} | {:.0} | {} |",
                    opt(r.cpu_per_setup_us(), 3),
                    r.handshake_ms,
                    r.learn_answers
                );
            }
            out.push('\n');
            for (k, r) in row.runs.iter().enumerate() {
                let per: Vec<String> = r
                    .intervals
                    .iter()
                    .enumerate()
                    .map(|(i, iv)| {
                        let v = thousands(iv.rate(|t| t.flow_mods));
                        if i < self.spec.warmup as usize {
                            format!("({v})")
                        } else {
                            v
                        }
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "Run {} flow setups/s per interval (warm-up in parentheses): {}.  ",
                    k + 1,
                    per.join(", ")
                );
                for p in &r.problems {
                    let _ = writeln!(out, "Run {}: {p}.  ", k + 1);
                }
            }
            for e in &row.errors {
                let _ = writeln!(out, "Failed run: {e}.  ");
            }
            out.push('\n');
        }
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Json {
        let s = &self.spec;
        let base = self.baseline();
        obj([
            ("command", self.command.clone().into()),
            ("machine", self.machine.to_json()),
            ("loadavg_end", self.loadavg_end.clone().into()),
            (
                "settings",
                obj([
                    ("mode", s.mode.name().into()),
                    ("switches", u64::from(s.switches).into()),
                    ("openflow", (if s.of13 { "1.3" } else { "1.0" }).into()),
                    ("macs", u64::from(s.macs).into()),
                    ("dst_macs", u64::from(s.dst_macs).into()),
                    ("ports", u64::from(s.ports).into()),
                    ("cbench_replies", s.cbench_replies.into()),
                    ("seconds", u64::from(s.seconds).into()),
                    ("warmup", u64::from(s.warmup).into()),
                    ("repeat", self.repeat.into()),
                    ("threads", s.threads.into()),
                    ("batch_bytes", s.batch_bytes.into()),
                    (
                        "latency_timeout_ms",
                        (s.latency_timeout.as_millis() as u64).into(),
                    ),
                ]),
            ),
            (
                "controllers",
                Json::Arr(
                    self.rows
                        .iter()
                        .map(|r| {
                            let ratio = |v: Option<f64>, b: Option<f64>| match (v, b) {
                                (Some(v), Some(b)) if b != 0.0 => Json::Num(v / b),
                                _ => Json::Null,
                            };
                            obj([
                                ("label", r.label.clone().into()),
                                ("command", r.command.clone().into()),
                                ("note", r.note.clone().into()),
                                ("status", r.status.clone().into()),
                                ("flow_mods_per_s", r.flow_mods().into()),
                                (
                                    "packet_outs_per_s",
                                    r.median(|x| Some(x.summary.packet_outs_per_s)).into(),
                                ),
                                (
                                    "responses_per_s",
                                    r.median(|x| Some(x.summary.responses_per_s)).into(),
                                ),
                                ("mean_rtt_us", r.median(|x| x.summary.mean_rtt_us).into()),
                                ("cpu_us_per_flow_setup", r.cpu_per_setup().into()),
                                (
                                    "flow_mods_vs_ovs_testcontroller",
                                    ratio(r.flow_mods(), base.and_then(Row::flow_mods)),
                                ),
                                (
                                    "cpu_per_setup_vs_ovs_testcontroller",
                                    ratio(r.cpu_per_setup(), base.and_then(Row::cpu_per_setup)),
                                ),
                                ("runs", Json::Arr(r.runs.iter().map(run_json).collect())),
                                ("errors", r.errors.clone().into()),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("notes", self.notes.clone().into()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::driver::CpuUse;
    use crate::controller::intervals::{summarize, Summary};
    use crate::controller::poller::Endpoint;
    use std::time::Duration;

    fn spec() -> LoadSpec {
        LoadSpec {
            endpoint: Endpoint::Tcp("127.0.0.1:1".into()),
            switches: 2,
            of13: false,
            ports: 4,
            macs: 100,
            dst_macs: 2,
            cbench_replies: false,
            mode: Mode::Throughput,
            seconds: 2,
            warmup: 1,
            threads: 1,
            dpid_base: 1,
            batch_bytes: 65536,
            latency_timeout: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(1),
        }
    }

    fn run(flow_mods: u64, cpu_us: f64) -> RunResult {
        let iv: Vec<Interval> = (0..3)
            .map(|k| Interval {
                start: f64::from(k),
                secs: 1.0,
                switches: vec![
                    Tally {
                        flow_mods,
                        packet_outs: 1,
                        packet_ins: flow_mods,
                        ..Tally::default()
                    };
                    2
                ],
            })
            .collect();
        RunResult {
            summary: summarize(&iv, 1),
            intervals: iv,
            controller_cpu: Some(CpuUse {
                us: cpu_us,
                secs: 2.0,
            }),
            harness_cpu: None,
            handshake_ms: 3.0,
            learn_answers: 4,
            problems: vec![],
        }
    }

    #[test]
    fn table_has_medians_and_ratios_against_ovs_testcontroller() {
        let mut a = Row::new("flowlab-controller", "x".into(), None);
        a.runs = vec![run(500, 1000.0), run(600, 1000.0), run(700, 1000.0)];
        let mut b = Row::new(OVS_TESTCONTROLLER, "y".into(), Some("note".into()));
        b.runs = vec![run(50, 1000.0)];
        let r = ControllerReport {
            command: "flowlab-bench controller --compare".into(),
            machine: crate::machine::collect(),
            loadavg_end: "0 0 0".into(),
            spec: spec(),
            repeat: 3,
            compare: true,
            rows: vec![a, b],
            notes: vec!["os-ken: missing".into()],
        };
        let md = r.markdown();
        // 600 flow_mods per switch per interval, 2 switches: 1,200/s median.
        assert!(
            md.contains("| flowlab-controller | 1,200 | 2 | 1,202 | 1,200 |"),
            "{md}"
        );
        // CPU per setup: 1000 µs over 2 intervals × 1,200 = 2,400 setups.
        assert!(md.contains("| 0.417 | 0.00 |"), "{md}");
        // Ratios: 1200 / 100 = 12; CPU/setup (1000/2400) / (1000/200) = 0.08.
        assert!(md.contains("| 12.00 | 0.08 | 3 |"), "{md}");
        assert!(md.contains("* os-ken: missing"));
        assert!(md.contains("(1,200), 1,200, 1,200"), "{md}");
        let js = r.to_json().render();
        assert!(
            js.contains("\"flow_mods_vs_ovs_testcontroller\": 12"),
            "{js}"
        );
        assert!(js.contains("\"per_switch\""));
    }

    #[test]
    fn empty_rows_render() {
        let mut row = Row::new("os-ken", "z".into(), None);
        row.status = "failed to start".into();
        row.errors.push("boom".into());
        let r = ControllerReport {
            command: "c".into(),
            machine: crate::machine::collect(),
            loadavg_end: String::new(),
            spec: LoadSpec {
                mode: Mode::Latency,
                ..spec()
            },
            repeat: 1,
            compare: false,
            rows: vec![row],
            notes: vec![],
        };
        let md = r.markdown();
        assert!(
            md.contains("| os-ken | — | — | — | — | — | — | — | — | 0 (1 failed) |"),
            "{md}"
        );
        assert!(md.contains("Failed run: boom"));
        assert_eq!(Summary::default().flow_mods_per_s, 0.0);
    }
}
