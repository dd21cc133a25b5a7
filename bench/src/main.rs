//! `flowlab-bench datapath`: a load generator over the uml_switch protocol that runs several
//! switches (flowlab-hub, uml_switch, vde_switch, ...) side by side and compares them.
//! `flowlab-bench controller`: a cbench-class OpenFlow controller benchmark ([`controller`]).
//! `flowlab-bench lab`: real UML guests: guest-to-guest TCP through flowlab-hub and
//! uml_switch, and `flowlab start` against bare parallel boots ([`lab`]).
//! See `flowlab-bench --help` and docs/benchmarks.md.

mod args;
mod controller;
mod cpu;
mod flood;
mod frames;
mod json;
mod lab;
mod load;
mod machine;
mod rate_search;
mod report;
mod rtt;
mod runner;
mod stats;
mod switch_process;
mod traffic;

use anyhow::{Context, Result};

/// The `lab` line added to [`args::USAGE`].
const LAB_USAGE: &str = "       flowlab-bench lab [options]          (UML guests: TCP through flowlab-hub and uml_switch,\n                                             lab boot time; see `flowlab-bench lab --help`)\n";

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("lab") {
        return match lab::args::parse(&argv[2..])? {
            None => {
                print!("{}", lab::args::USAGE);
                Ok(())
            }
            Some(mut cfg) => {
                cfg.argv = argv;
                run_lab(&cfg)
            }
        };
    }
    let mut cfg = match args::parse(&argv[1..])? {
        args::Command::Help => {
            // The lab line goes at the end of the usage lines, before the description.
            match args::USAGE.split_once("\n\n") {
                Some((head, rest)) => print!("{head}\n{LAB_USAGE}\n{rest}"),
                None => print!("{}{LAB_USAGE}", args::USAGE),
            }
            return Ok(());
        }
        args::Command::Datapath(cfg) => cfg,
        args::Command::ControllerHelp => {
            print!("{}", controller::args::USAGE);
            return Ok(());
        }
        args::Command::Controller(mut cfg) => {
            cfg.argv = argv;
            return run_controller(&cfg);
        }
    };
    cfg.argv = argv;
    let report = runner::run(&cfg)?;
    print!("{}", report.markdown());
    if let Some(path) = &cfg.json {
        std::fs::write(path, report.to_json().render())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("== JSON written to {}", path.display());
    }
    Ok(())
}

fn run_lab(cfg: &lab::args::LabConfig) -> Result<()> {
    let report = lab::run(cfg)?;
    print!("{}", report.markdown());
    if let Some(path) = &cfg.json {
        std::fs::write(path, report.to_json().render())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("== JSON written to {}", path.display());
    }
    Ok(())
}

fn run_controller(cfg: &controller::args::ControllerConfig) -> Result<()> {
    use controller::args::JsonOut;
    let report = controller::run(cfg)?;
    match &cfg.json {
        Some(JsonOut::Stdout) => print!("{}", report.to_json().render()),
        Some(JsonOut::File(path)) => {
            print!("{}", report.markdown());
            std::fs::write(path, report.to_json().render())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("== JSON written to {}", path.display());
        }
        None => print!("{}", report.markdown()),
    }
    Ok(())
}
