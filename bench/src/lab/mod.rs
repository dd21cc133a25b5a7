//! `flowlab-bench lab`: real UML guests, through flowlab-hub and its peers.
//!
//! Two questions from the Netkit issue, each answered on real busybox guests booted from
//! the same image the launcher uses (one read-only base, one fresh COW file per guest):
//!
//! * **tcp** ([`tcp`]): how fast does TCP go from one guest to another through
//!   flowlab-hub, and through uml_switch, and does either switch drop frames? A guest
//!   cannot be benchmarked from the host without disturbing it, so the guests measure
//!   themselves: the transfer is timed inside the sender with `/proc/uptime` and counted
//!   inside the receiver, and the exec agent only starts and collects. The host samples
//!   `/proc` around the transfer so the report can say where the time went: each guest's
//!   UML processes, the switch, and the rest of the machine.
//! * **boot** ([`boot`]): what does `flowlab start` cost over booting the same guests by
//!   hand? The baseline ([`bare`]) is the launcher's own guest command line run directly,
//!   so the difference is orchestration alone: lab parsing, state, hubs, the boot loop.
//!
//! Fairness: every measurement starts fresh (switch, guests, COW files); the switches
//! (and lab/bare) alternate repeat by repeat so that the load of a shared machine drifts
//! over both; every use of guests holds the test suite's UML lock ([`lock`]), so tests
//! and bench never boot guests at the same time; everything is stopped by PID or process
//! group, also when a run fails.
//!
//! | module | holds |
//! |---|---|
//! | `args` | the command line |
//! | `bare` | guests booted from `GuestSpec`s by hand |
//! | `tcp` | the transfer: scripts, switches, one run |
//! | `boot` | the generated lab, one lab boot, one bare boot |
//! | `counters` | `/proc/net/dev`, `/proc/net/snmp`, script output, switch counters, parsed |
//! | `procstat` | CPU of process groups and of the machine |
//! | `lock` | the shared UML guest lock |
//! | `report` | markdown and JSON |

pub mod args;
pub mod bare;
pub mod boot;
pub mod counters;
pub mod lock;
pub mod procstat;
pub mod report;
pub mod tcp;

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use flowlab_guests::image::ImageKind;
use flowlab_guests::launcher::{ensure_image, Ui};

use args::LabConfig;
use boot::Launch;
use report::{BootSection, LabReport, TcpRow};

use crate::report::shell_join;

/// The bench's work directory: guests' files and lab folders, removed at the end
/// (unless `--keep-dirs`).
fn work_dir() -> Result<PathBuf> {
    let base = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let dir = base.join(format!("flowlab-bench-lab.{}", std::process::id()));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn settings(
    c: &LabConfig,
    boot_image: &std::path::Path,
    tcp_image: Option<&std::path::Path>,
) -> Vec<(String, String)> {
    let cpus = flowlab_guests::launcher::pin_cpus();
    let placement = if c.pin && !cpus.is_empty() {
        format!(
            "pinned one CPU each, round-robin over CPUs {:?} (flowlab start: once up; the bare boot: never)",
            cpus
        )
    } else {
        "left to the scheduler".to_string()
    };
    let mut s = vec![
        ("repeat".to_string(), c.repeat.to_string()),
        ("guests".into(), placement),
    ];
    if let (true, Some(image)) = (c.parts.tcp, tcp_image) {
        s.push((
            "tcp guests".into(),
            format!(
                "{} image {}, {} MiB each",
                c.tcp_image.name(),
                image.display(),
                c.tcp_mem_mb()
            ),
        ));
        s.push(("transfer".into(), format!("{} MiB", c.size_mib)));
        s.push(("switch mode".into(), c.mode.name().into()));
    }
    if c.parts.boot {
        s.push((
            "boot".into(),
            format!(
                "{} busybox guests ({}, {} MiB each) on {} domain(s)",
                c.guests,
                boot_image.display(),
                c.boot_mem_mb(),
                c.domains
            ),
        ));
    }
    s
}

/// Runs what the configuration asks for.
pub fn run(c: &LabConfig) -> Result<LabReport> {
    let t_all = Instant::now();
    let machine = crate::machine::collect();
    let image = ensure_image(ImageKind::Busybox, &mut Ui::stderr())
        .context("finding or building the busybox image")?;
    let tcp_image = if c.parts.tcp {
        Some(
            ensure_image(c.tcp_image, &mut Ui::stderr()).with_context(|| {
                format!(
                    "finding or building the {} image (`--tcp-image busybox` needs no root)",
                    c.tcp_image.name()
                )
            })?,
        )
    } else {
        None
    };
    let work = work_dir()?;
    let mut notes = Vec::new();

    let tcp = if c.parts.tcp {
        let (switches, skipped) = tcp::switches(c.mode);
        notes.extend(skipped);
        let mut rows: Vec<TcpRow> = switches
            .into_iter()
            .map(|switch| TcpRow {
                switch,
                runs: Vec::new(),
                errors: Vec::new(),
            })
            .collect();
        for k in 0..c.repeat {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            if k % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let row = &mut rows[i];
                eprintln!(
                    "== tcp {}/{}: {} MiB through {}",
                    k + 1,
                    c.repeat,
                    c.size_mib,
                    row.switch.label
                );
                let tcp_image = tcp_image.as_deref().unwrap_or(&image);
                match tcp::run_once(c, &row.switch, tcp_image, &work, k) {
                    Ok(r) => {
                        eprintln!(
                            "   {:.2} MB/s ({:.2} s in the guest), {} bytes{}, switch drops {}, \
                             sender TX drops {}, retransmits {}, cores: guests {:.2} + {:.2}, \
                             switch {:.2}, machine {:.2}",
                            r.mb_per_s(),
                            r.guest_secs,
                            r.received_bytes,
                            if r.bytes_ok() { "" } else { " (WRONG)" },
                            r.switch_drops,
                            r.sender.tx_dropped,
                            r.retransmits.map_or_else(|| "?".into(), |v| v.to_string()),
                            r.cpu.guests.first().map_or(0.0, |g| g.cores()),
                            r.cpu.guests.get(1).map_or(0.0, |g| g.cores()),
                            r.cpu.switch.cores(),
                            r.cpu.machine_cores
                        );
                        row.runs.push(r);
                    }
                    Err(e) => {
                        eprintln!("   failed: {e:#}");
                        row.errors.push(format!("run {}: {e:#}", k + 1));
                    }
                }
            }
        }
        Some(rows)
    } else {
        None
    };

    let boot = if c.parts.boot {
        let mut b = BootSection {
            guests: c.guests,
            domains: c.domains,
            ..BootSection::default()
        };
        for k in 0..c.repeat {
            let order = if k % 2 == 0 {
                [Launch::Lab, Launch::Bare]
            } else {
                [Launch::Bare, Launch::Lab]
            };
            for launch in order {
                eprintln!(
                    "== boot {}/{}: {} guests, {}",
                    k + 1,
                    c.repeat,
                    c.guests,
                    launch.name()
                );
                let r = match launch {
                    Launch::Lab => boot::run_lab(c, &work, k),
                    Launch::Bare => boot::run_bare(c, &image, &work, k),
                };
                match r {
                    Ok(r) => {
                        eprintln!(
                            "   all ready after {:.2} s (machine busy {:.2} cores)",
                            r.up_secs, r.machine_cores
                        );
                        b.runs.push(r);
                    }
                    Err(e) => {
                        eprintln!("   failed: {e:#}");
                        b.errors
                            .push(format!("run {} ({}): {e:#}", k + 1, launch.name()));
                    }
                }
            }
        }
        Some(b)
    } else {
        None
    };

    if c.keep_dirs {
        notes.push(format!("work directory kept: {}", work.display()));
    } else {
        let _ = fs::remove_dir_all(&work);
    }
    Ok(LabReport {
        command: shell_join(&c.argv),
        machine,
        loadavg_end: crate::machine::loadavg(),
        settings: settings(c, &image, tcp_image.as_deref()),
        size_mib: c.size_mib,
        mode: c.mode.name().into(),
        tcp,
        boot,
        notes,
        elapsed_secs: t_all.elapsed().as_secs_f64(),
    })
}
