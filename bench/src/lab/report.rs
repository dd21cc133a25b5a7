//! The lab benchmark's results as markdown and JSON: medians over the repeats, the runs
//! behind them, and the two figures the issue's acceptance names (flowlab-hub's
//! throughput over uml_switch's; the lab's boot time over the bare boot's).

use std::fmt::Write;

use super::boot::{BootRun, Launch};
use super::counters::NetDev;
use super::procstat::{CpuUse, IntervalCpu};
use super::tcp::{TcpRun, TcpSwitch, FLOWLAB_HUB, FLOWLAB_HUB_BESS, UML_SWITCH};
use crate::json::{obj, Json};
use crate::machine::MachineInfo;
use crate::report::{fmt_ratio, thousands};
use crate::stats::median;

/// The target: flowlab-hub's throughput at least this many times uml_switch's.
pub const TCP_TARGET: f64 = 1.5;
/// The target: the lab up within this many times the bare parallel boot.
pub const BOOT_TARGET: f64 = 1.2;

/// One switch's transfers.
#[derive(Clone, Debug)]
pub struct TcpRow {
    /// The switch.
    pub switch: TcpSwitch,
    /// Runs that produced figures (the byte count may still be wrong: see `bytes_ok`).
    pub runs: Vec<TcpRun>,
    /// Runs that failed, with why.
    pub errors: Vec<String>,
}

impl TcpRow {
    /// The median over the runs whose byte count was right.
    pub fn median(&self, f: impl Fn(&TcpRun) -> f64) -> Option<f64> {
        let v: Vec<f64> = self.runs.iter().filter(|r| r.bytes_ok()).map(f).collect();
        median(&v)
    }

    fn ok_runs(&self) -> usize {
        self.runs.iter().filter(|r| r.bytes_ok()).count()
    }
}

/// The boot part's runs.
#[derive(Clone, Debug, Default)]
pub struct BootSection {
    /// Guests per boot.
    pub guests: usize,
    /// Collision domains.
    pub domains: usize,
    /// Every run, both kinds, in the order they ran.
    pub runs: Vec<BootRun>,
    /// Failed runs, with why.
    pub errors: Vec<String>,
}

impl BootSection {
    /// The median of `f` over the runs of `launch`.
    pub fn median(&self, launch: Launch, f: impl Fn(&BootRun) -> f64) -> Option<f64> {
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter(|r| r.launch == launch)
            .map(f)
            .collect();
        median(&v)
    }

    fn range(&self, launch: Launch) -> Option<(f64, f64)> {
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter(|r| r.launch == launch)
            .map(|r| r.up_secs)
            .collect();
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (!v.is_empty()).then_some((lo, hi))
    }

    /// Median lab time ÷ median bare time.
    pub fn ratio(&self) -> Option<f64> {
        let lab = self.median(Launch::Lab, |r| r.up_secs)?;
        let bare = self.median(Launch::Bare, |r| r.up_secs)?;
        (bare > 0.0).then(|| lab / bare)
    }
}

/// A whole `flowlab-bench lab` run.
#[derive(Clone, Debug)]
pub struct LabReport {
    /// The bench's command line.
    pub command: String,
    /// Machine facts at the start.
    pub machine: MachineInfo,
    /// Load average at the end.
    pub loadavg_end: String,
    /// Settings, as (name, value).
    pub settings: Vec<(String, String)>,
    /// MiB per transfer.
    pub size_mib: u64,
    /// The forwarding mode of the tcp part.
    pub mode: String,
    /// The tcp part, when it ran.
    pub tcp: Option<Vec<TcpRow>>,
    /// The boot part, when it ran.
    pub boot: Option<BootSection>,
    /// Lines printed at the end (skipped switches, ...).
    pub notes: Vec<String>,
    /// Wall time of the whole bench, seconds.
    pub elapsed_secs: f64,
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "—".into(),
    }
}

fn cores(u: &CpuUse) -> String {
    format!(
        "{:.2} ({:.2} u + {:.2} s)",
        u.cores(),
        u.user_s / u.wall_s.max(1e-9),
        u.system_s / u.wall_s.max(1e-9)
    )
}

fn guest_cores(cpu: &IntervalCpu, i: usize) -> f64 {
    cpu.guests.get(i).map_or(0.0, CpuUse::cores)
}

fn netdev_json(d: &NetDev) -> Json {
    obj([
        ("rx_bytes", d.rx_bytes.into()),
        ("rx_packets", d.rx_packets.into()),
        ("rx_errors", d.rx_errors.into()),
        ("rx_dropped", d.rx_dropped.into()),
        ("tx_bytes", d.tx_bytes.into()),
        ("tx_packets", d.tx_packets.into()),
        ("tx_errors", d.tx_errors.into()),
        ("tx_dropped", d.tx_dropped.into()),
    ])
}

fn cpu_json(u: &CpuUse) -> Json {
    obj([
        ("user_s", u.user_s.into()),
        ("system_s", u.system_s.into()),
        ("cores", u.cores().into()),
    ])
}

fn tcp_run_json(r: &TcpRun) -> Json {
    obj([
        ("repeat", r.repeat.into()),
        ("expected_bytes", r.expected_bytes.into()),
        ("received_bytes", r.received_bytes.into()),
        ("bytes_ok", r.bytes_ok().into()),
        ("guest_secs", r.guest_secs.into()),
        ("host_secs", r.host_secs.into()),
        ("mb_per_s", r.mb_per_s().into()),
        ("switch_drops", r.switch_drops.into()),
        (
            "hub_counters",
            r.hub.map_or(Json::Null, |c| {
                obj([
                    ("ports", c.ports.into()),
                    ("rx_packets", c.rx_packets.into()),
                    ("tx_packets", c.tx_packets.into()),
                    ("tx_drops", c.tx_drops.into()),
                    ("rx_errors", c.rx_errors.into()),
                    ("tx_errors", c.tx_errors.into()),
                    ("runts", c.runts.into()),
                    ("oversize", c.oversize.into()),
                ])
            }),
        ),
        ("sender_eth0", netdev_json(&r.sender)),
        ("receiver_eth0", netdev_json(&r.receiver)),
        ("sender_tcp_retransmits", r.retransmits.into()),
        (
            "cpu",
            obj([
                ("wall_s", r.cpu.wall_s.into()),
                (
                    "sender_guest",
                    r.cpu.guests.first().map_or(Json::Null, cpu_json),
                ),
                (
                    "receiver_guest",
                    r.cpu.guests.get(1).map_or(Json::Null, cpu_json),
                ),
                ("switch", cpu_json(&r.cpu.switch)),
                ("machine_busy_cores", r.cpu.machine_cores.into()),
                ("other_cores", r.cpu.other_cores().into()),
            ]),
        ),
        ("boot_secs", r.boot_secs.into()),
        ("loadavg_start", r.loadavg.clone().into()),
    ])
}

fn boot_run_json(r: &BootRun) -> Json {
    obj([
        ("repeat", r.repeat.into()),
        ("launch", r.launch.name().into()),
        ("up_secs", r.up_secs.into()),
        ("launcher_secs", r.launcher_secs.into()),
        ("per_guest_secs", r.per_guest.clone().into()),
        ("machine_busy_cores", r.machine_cores.into()),
        ("loadavg_start", r.loadavg.clone().into()),
    ])
}

impl LabReport {
    fn row(&self, label: &str) -> Option<&TcpRow> {
        self.tcp.as_ref()?.iter().find(|r| r.switch.label == label)
    }

    /// flowlab-hub's (daemon transport) median throughput ÷ uml_switch's.
    pub fn tcp_ratio(&self) -> Option<f64> {
        self.tcp_ratio_of(FLOWLAB_HUB)
    }

    /// Row `label`'s median throughput ÷ uml_switch's.
    pub fn tcp_ratio_of(&self, label: &str) -> Option<f64> {
        let hub = self.row(label)?.median(TcpRun::mb_per_s)?;
        let uml = self.row(UML_SWITCH)?.median(TcpRun::mb_per_s)?;
        (uml > 0.0).then(|| hub / uml)
    }

    /// The report as markdown.
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "## flowlab-bench lab, {}\n", m.date_utc);
        let _ = writeln!(out, "Command:\n\n```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            out,
            "Machine: {} CPUs ({}), {} RAM, {}.  ",
            m.nproc, m.cpu_model, m.mem, m.kernel
        );
        let _ = writeln!(
            out,
            "Load average at start: {}; at end: {}. The whole run took {:.0} s.\n",
            m.loadavg, self.loadavg_end, self.elapsed_secs
        );
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "Settings: {}.\n", settings.join("; "));
        if let Some(rows) = &self.tcp {
            self.tcp_markdown(rows, &mut out);
        }
        if let Some(b) = &self.boot {
            boot_markdown(b, &mut out);
        }
        for n in &self.notes {
            let _ = writeln!(out, "* {n}");
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        out
    }

    fn tcp_markdown(&self, rows: &[TcpRow], out: &mut String) {
        let _ = writeln!(
            out,
            "### Guest-to-guest TCP, {} MiB, every switch in {} mode\n",
            self.size_mib, self.mode
        );
        let base = self
            .row(UML_SWITCH)
            .and_then(|r| r.median(TcpRun::mb_per_s));
        out.push_str(
            "| switch | MB/s | vs uml_switch | bytes right | switch drops | guest eth0 TX drops, sender / receiver | TCP retransmits | CPU ms/MiB: sender guest / receiver guest / switch | cores: sender guest / receiver guest / switch / machine / other | runs |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for row in rows {
            let mbs = row.median(TcpRun::mb_per_s);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} | {} / {} | {} | {} / {} / {} | {} / {} / {} / {} / {} | {}{} |",
                row.switch.label,
                opt(mbs, 2),
                fmt_ratio(mbs, base),
                row.ok_runs(),
                row.runs.len(),
                opt(row.median(|r| r.switch_drops as f64), 0),
                opt(row.median(|r| r.sender.tx_dropped as f64), 0),
                opt(row.median(|r| r.receiver.tx_dropped as f64), 0),
                opt(
                    row.median(|r| r.retransmits.map_or(f64::NAN, |v| v as f64)),
                    0
                ),
                opt(row.median(|r| r.guest_ms_per_mib(0)), 0),
                opt(row.median(|r| r.guest_ms_per_mib(1)), 0),
                opt(row.median(TcpRun::switch_ms_per_mib), 1),
                opt(row.median(|r| guest_cores(&r.cpu, 0)), 2),
                opt(row.median(|r| guest_cores(&r.cpu, 1)), 2),
                opt(row.median(|r| r.cpu.switch.cores()), 2),
                opt(row.median(|r| r.cpu.machine_cores), 2),
                opt(row.median(|r| r.cpu.other_cores()), 2),
                row.runs.len(),
                if row.errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({} failed)", row.errors.len())
                }
            );
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "Medians over the runs whose byte count was right. MB/s = bytes received ÷ the \
             transfer's time inside the sender (/proc/uptime around the sending program), 10^6 bytes/s. \
             Switch drops: flowlab-hub's `ctl counters` (output drops, errors, runts, \
             oversize), uml_switch's `send_sock` (EAGAIN) log lines; both over the switch's \
             whole life, which is one run. Guest TX drops: eth0's TX-drop counter in \
             /proc/net/dev (UML counts a frame the switch's socket refused). Retransmits: \
             the sender's Tcp RetransSegs. Cores = CPU seconds (utime+stime, a guest's whole \
             process group with reaped children) over the sender's exec, per MiB received \
             or ÷ its wall time on the host; machine busy from /proc/stat; other = machine − \
             guests − switch (other tenants, the bench).\n"
        );
        for label in [FLOWLAB_HUB, FLOWLAB_HUB_BESS] {
            if self.row(label).is_none() {
                continue;
            }
            match self.tcp_ratio_of(label) {
                Some(r) => {
                    let _ = writeln!(
                        out,
                        "**{label} ÷ uml_switch throughput: {r:.2}** (target ≥ {TCP_TARGET}: {}).  ",
                        if r >= TCP_TARGET { "met" } else { "not met" }
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "{label} ÷ uml_switch throughput: — (a switch has no good run).  "
                    );
                }
            }
        }
        let gains: Vec<String> = rows
            .iter()
            .filter_map(|row| {
                row.median(TcpRun::free_switch_gain)
                    .map(|g| format!("{g:.2} over {}", row.switch.label))
            })
            .collect();
        if !gains.is_empty() {
            let _ = writeln!(
                out,
                "If the CPU the guests and the switch share is the limit, a switch that cost \
                 nothing would gain at most (guests + switch) ÷ guests CPU: {}.  ",
                gains.join(", ")
            );
        }
        for hub in [FLOWLAB_HUB, FLOWLAB_HUB_BESS]
            .iter()
            .filter_map(|l| self.row(l))
        {
            let drops: u64 = hub.runs.iter().map(|r| r.switch_drops).sum();
            let _ = writeln!(
                out,
                "{} dropped {drops} frame{} in {} run{} (target 0: {}).  ",
                hub.switch.label,
                if drops == 1 { "" } else { "s" },
                hub.runs.len(),
                if hub.runs.len() == 1 { "" } else { "s" },
                if drops == 0 && !hub.runs.is_empty() {
                    "met"
                } else {
                    "not met"
                }
            );
        }
        out.push('\n');
        out.push_str("#### Runs\n\n");
        out.push_str(
            "| run | switch | MB/s | guest s | host s | bytes received | switch drops | sender eth0 TX pkts / drops | receiver eth0 TX pkts / drops | retransmits | CPU ms/MiB: sender / receiver / switch | sender guest cores | receiver guest cores | switch cores | machine busy | load at start |\n\
             |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        let mut all: Vec<(&str, &TcpRun)> = rows
            .iter()
            .flat_map(|row| row.runs.iter().map(move |r| (row.switch.label.as_str(), r)))
            .collect();
        all.sort_by_key(|(_, r)| r.repeat);
        for (label, r) in all {
            let _ = writeln!(
                out,
                "| {} | {label} | {:.2} | {:.2} | {:.2} | {}{} | {} | {} / {} | {} / {} | {} | {:.0} / {:.0} / {:.1} | {} | {} | {} | {:.2} | {} |",
                r.repeat + 1,
                r.mb_per_s(),
                r.guest_secs,
                r.host_secs,
                thousands(r.received_bytes as f64),
                if r.bytes_ok() { "" } else { " (**wrong**)" },
                r.switch_drops,
                r.sender.tx_packets,
                r.sender.tx_dropped,
                r.receiver.tx_packets,
                r.receiver.tx_dropped,
                r.retransmits.map_or_else(|| "—".into(), |v| v.to_string()),
                r.guest_ms_per_mib(0),
                r.guest_ms_per_mib(1),
                r.switch_ms_per_mib(),
                r.cpu.guests.first().map_or_else(|| "—".into(), cores),
                r.cpu.guests.get(1).map_or_else(|| "—".into(), cores),
                cores(&r.cpu.switch),
                r.cpu.machine_cores,
                r.loadavg
            );
        }
        out.push('\n');
        for row in rows {
            for e in &row.errors {
                let _ = writeln!(out, "* {} failed: {e}", row.switch.label);
            }
        }
        if rows.iter().any(|r| !r.errors.is_empty()) {
            out.push('\n');
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Json {
        let m = &self.machine;
        obj([
            ("command", self.command.clone().into()),
            ("machine", m.to_json()),
            ("loadavg_end", self.loadavg_end.clone().into()),
            ("elapsed_secs", self.elapsed_secs.into()),
            (
                "settings",
                Json::Obj(
                    self.settings
                        .iter()
                        .map(|(k, v)| (k.clone(), Json::from(v.clone())))
                        .collect(),
                ),
            ),
            (
                "tcp",
                self.tcp.as_ref().map_or(Json::Null, |rows| {
                    obj([
                        ("size_mib", self.size_mib.into()),
                        ("mode", self.mode.clone().into()),
                        ("flowlab_hub_vs_uml_switch", self.tcp_ratio().into()),
                        (
                            "flowlab_hub_bess_vs_uml_switch",
                            self.tcp_ratio_of(FLOWLAB_HUB_BESS).into(),
                        ),
                        ("target", TCP_TARGET.into()),
                        (
                            "switches",
                            Json::Arr(
                                rows.iter()
                                    .map(|row| {
                                        obj([
                                            ("label", row.switch.label.clone().into()),
                                            ("command", row.switch.template.clone().into()),
                                            (
                                                "median_mb_per_s",
                                                row.median(TcpRun::mb_per_s).into(),
                                            ),
                                            (
                                                "runs",
                                                Json::Arr(
                                                    row.runs.iter().map(tcp_run_json).collect(),
                                                ),
                                            ),
                                            ("errors", row.errors.clone().into()),
                                        ])
                                    })
                                    .collect(),
                            ),
                        ),
                    ])
                }),
            ),
            (
                "boot",
                self.boot.as_ref().map_or(Json::Null, |b| {
                    obj([
                        ("guests", b.guests.into()),
                        ("domains", b.domains.into()),
                        (
                            "median_lab_secs",
                            b.median(Launch::Lab, |r| r.up_secs).into(),
                        ),
                        (
                            "median_bare_secs",
                            b.median(Launch::Bare, |r| r.up_secs).into(),
                        ),
                        ("lab_vs_bare", b.ratio().into()),
                        ("target", BOOT_TARGET.into()),
                        (
                            "runs",
                            Json::Arr(b.runs.iter().map(boot_run_json).collect()),
                        ),
                        ("errors", b.errors.clone().into()),
                    ])
                }),
            ),
            ("notes", self.notes.clone().into()),
        ])
    }
}

fn boot_markdown(b: &BootSection, out: &mut String) {
    let _ = writeln!(
        out,
        "### {} guests up: `flowlab start` against bare parallel UML launches\n",
        b.guests
    );
    let bare = b.median(Launch::Bare, |r| r.up_secs);
    out.push_str(
        "| launch | all ready, s | min..max s | vs bare | per guest spawn→ready, s (median) | machine busy cores | runs |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for launch in [Launch::Lab, Launch::Bare] {
        let up = b.median(launch, |r| r.up_secs);
        let per_guest = b.median(launch, |r| median(&r.per_guest).unwrap_or(f64::NAN));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            launch.name(),
            opt(up, 2),
            b.range(launch)
                .map_or_else(|| "—".into(), |(lo, hi)| format!("{lo:.2}..{hi:.2}")),
            fmt_ratio(up, bare),
            opt(per_guest, 2),
            opt(b.median(launch, |r| r.machine_cores), 2),
            b.runs.iter().filter(|r| r.launch == launch).count()
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{} busybox guests on {} collision domain{} (flowlab-hub -hub each), fresh COW files. \
         all ready = from calling `flowlab start` (bare: from starting the first hub) until \
         every guest's .ready file exists; medians over the repeats. The launcher's own \
         figure (first process → last ready) was {} s (median).\n",
        b.guests,
        b.domains,
        if b.domains == 1 { "" } else { "s" },
        opt(
            b.median(Launch::Lab, |r| r.launcher_secs.unwrap_or(f64::NAN)),
            2
        )
    );
    match b.ratio() {
        Some(r) => {
            let _ = writeln!(
                out,
                "**lab ÷ bare: {r:.2}** (target ≤ {BOOT_TARGET}: {}).\n",
                if r <= BOOT_TARGET { "met" } else { "not met" }
            );
        }
        None => out.push_str("lab ÷ bare: — (a side has no good run).\n\n"),
    }
    out.push_str("| run | launch | all ready, s | per guest min / median / max, s | machine busy cores | load at start |\n|---:|---|---:|---:|---:|---|\n");
    for r in &b.runs {
        let mut v = r.per_guest.clone();
        v.sort_by(f64::total_cmp);
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {} / {} / {} | {:.2} | {} |",
            r.repeat + 1,
            r.launch.name(),
            r.up_secs,
            opt(v.first().copied(), 2),
            opt(median(&v), 2),
            opt(v.last().copied(), 2),
            r.machine_cores,
            r.loadavg
        );
    }
    out.push('\n');
    for e in &b.errors {
        let _ = writeln!(out, "* failed: {e}");
    }
    if !b.errors.is_empty() {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::tcp::DropSource;

    fn tcp_run(repeat: usize, mbps: f64, drops: u64, ok: bool) -> TcpRun {
        let bytes = 100u64 << 20;
        TcpRun {
            repeat,
            expected_bytes: bytes,
            received_bytes: if ok { bytes } else { bytes - 1 },
            guest_secs: bytes as f64 / (mbps * 1e6),
            host_secs: 1.0,
            switch_drops: drops,
            hub: None,
            sender: NetDev {
                tx_dropped: drops,
                ..NetDev::default()
            },
            receiver: NetDev::default(),
            retransmits: Some(drops),
            cpu: IntervalCpu {
                guests: vec![
                    CpuUse {
                        user_s: 1.0,
                        system_s: 3.0,
                        wall_s: 5.0,
                    },
                    CpuUse {
                        user_s: 0.5,
                        system_s: 2.0,
                        wall_s: 5.0,
                    },
                ],
                switch: CpuUse {
                    user_s: 0.1,
                    system_s: 0.4,
                    wall_s: 5.0,
                },
                machine_cores: 1.9,
                wall_s: 5.0,
            },
            boot_secs: 2.0,
            loadavg: "1.00 1.00 1.00".into(),
        }
    }

    fn row(label: &str, runs: Vec<TcpRun>) -> TcpRow {
        TcpRow {
            switch: TcpSwitch {
                label: label.into(),
                template: format!("{label} -unix {{ctl}}"),
                drops: DropSource::HubCounters,
                transport: flowlab_guests::uml::Transport::Daemon,
            },
            runs,
            errors: Vec::new(),
        }
    }

    fn boot_run(repeat: usize, launch: Launch, up: f64) -> BootRun {
        BootRun {
            repeat,
            launch,
            up_secs: up,
            launcher_secs: (launch == Launch::Lab).then_some(up - 0.5),
            per_guest: vec![up - 1.0, up - 2.0, up - 0.1],
            machine_cores: 1.95,
            loadavg: "2 2 2".into(),
        }
    }

    fn report() -> LabReport {
        LabReport {
            command: "flowlab-bench lab --repeat 3".into(),
            machine: crate::machine::collect(),
            loadavg_end: "1 1 1".into(),
            settings: vec![("repeat".into(), "3".into())],
            size_mib: 100,
            mode: "learning".into(),
            tcp: Some(vec![
                row(
                    FLOWLAB_HUB,
                    vec![
                        tcp_run(0, 9.0, 0, true),
                        tcp_run(1, 10.0, 0, true),
                        tcp_run(2, 11.0, 0, true),
                    ],
                ),
                row(
                    UML_SWITCH,
                    vec![
                        tcp_run(0, 4.0, 300, true),
                        tcp_run(1, 5.0, 400, true),
                        tcp_run(2, 100.0, 10, false),
                    ],
                ),
            ]),
            boot: Some(BootSection {
                guests: 10,
                domains: 2,
                runs: vec![
                    boot_run(0, Launch::Lab, 22.0),
                    boot_run(0, Launch::Bare, 20.0),
                    boot_run(1, Launch::Bare, 21.0),
                    boot_run(1, Launch::Lab, 23.0),
                ],
                errors: vec!["pc3 never became ready".into()],
            }),
            notes: vec!["a note".into()],
            elapsed_secs: 300.0,
        }
    }

    #[test]
    fn ratios_use_medians_of_good_runs() {
        let r = report();
        // uml_switch's run with a wrong byte count (100 MB/s) is left out: median of 4, 5.
        assert!((r.tcp_ratio().unwrap() - 10.0 / 4.5).abs() < 1e-9);
        let b = r.boot.as_ref().unwrap();
        assert!((b.ratio().unwrap() - 22.5 / 20.5).abs() < 1e-9);
        assert_eq!(b.range(Launch::Bare), Some((20.0, 21.0)));
    }

    #[test]
    fn markdown_names_the_figures_and_targets() {
        let md = report().markdown();
        assert!(
            md.contains("| flowlab-hub | 10.00 | 2.22 | 3/3 | 0 |"),
            "{md}"
        );
        // 4 s of sender CPU per 100 MiB: 40 ms/MiB; the switch 0.5 s: 5 ms/MiB.
        assert!(
            md.contains("| 40 / 25 / 5.0 | 0.80 / 0.50 / 0.10 / 1.90 / 0.50 |"),
            "{md}"
        );
        assert!(
            md.contains("at most (guests + switch) ÷ guests CPU: 1.08 over flowlab-hub"),
            "{md}"
        );
        assert!(md.contains("| uml_switch | 4.50 | 1.00 | 2/3 |"), "{md}");
        assert!(md.contains("**flowlab-hub ÷ uml_switch throughput: 2.22** (target ≥ 1.5: met)"));
        assert!(md.contains("flowlab-hub dropped 0 frames in 3 runs (target 0: met)"));
        assert!(md.contains("(**wrong**)"), "{md}");
        assert!(
            md.contains("| flowlab start | 22.50 | 22.00..23.00 | 1.10 |"),
            "{md}"
        );
        assert!(
            md.contains("**lab ÷ bare: 1.10** (target ≤ 1.2: met)"),
            "{md}"
        );
        assert!(md.contains("* failed: pc3 never became ready"));
        assert!(md.contains("* a note"));
    }

    #[test]
    fn json_carries_runs_and_ratios() {
        let j = report().to_json().render();
        assert!(j.contains("\"flowlab_hub_vs_uml_switch\": 2.2222"), "{j}");
        assert!(j.contains("\"lab_vs_bare\": 1.0975"), "{j}");
        assert!(j.contains("\"bytes_ok\": false"));
        assert!(j.contains("\"received_bytes\": 104857599"));
        let empty = LabReport {
            tcp: None,
            boot: None,
            ..report()
        };
        let j = empty.to_json().render();
        assert!(j.contains("\"tcp\": null") && j.contains("\"boot\": null"));
        assert!(empty.tcp_ratio().is_none());
    }
}
