//! `flowlab-bench datapath`: a load generator over the uml_switch protocol that runs several
//! switches (flowlab-hub, uml_switch, vde_switch, ...) side by side and compares them.
//! `flowlab-bench controller`: a cbench-class OpenFlow controller benchmark ([`controller`]).
//! See `flowlab-bench --help` and docs/benchmarks.md.

mod args;
mod controller;
mod cpu;
mod flood;
mod frames;
mod json;
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

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    let mut cfg = match args::parse(&argv[1..])? {
        args::Command::Help => {
            print!("{}", args::USAGE);
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
