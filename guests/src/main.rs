//! `flowlab`: the lab launcher. Parses the command line ([`flowlab_guests::cli`]) and
//! runs the launcher ([`flowlab_guests::launcher`]); see `flowlab --help`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use flowlab_guests::cli::{self, Command, USAGE};
use flowlab_guests::launcher::{self, LaunchError, Ui};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cmd = match cli::parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("flowlab: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(cmd) {
        Ok(code) => code,
        Err(e) => {
            match e.downcast_ref::<LaunchError>() {
                Some(LaunchError::Lab(lab)) => {
                    eprintln!("{lab}\nflowlab: the lab has errors; nothing was started")
                }
                _ => eprintln!("flowlab: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let mut ui = Ui::stderr();
    match cmd {
        Command::Help => print!("{USAGE}"),
        Command::Version => println!("flowlab {}", env!("CARGO_PKG_VERSION")),
        Command::Start(o) => {
            launcher::start(&o, &mut ui)?;
        }
        Command::Halt {
            dir,
            machines,
            timeout,
        } => {
            launcher::halt(&dir, &machines, timeout, &mut ui)?;
        }
        Command::Crash {
            dir,
            machines,
            keep_fs,
        } => {
            launcher::crash(&dir, &machines, keep_fs, &mut ui)?;
        }
        Command::Info {
            dir,
            dialect,
            topology,
        } => print!(
            "{}",
            launcher::info(&dir, dialect, topology.as_deref(), &mut ui)?
        ),
        Command::Clean { dir } => {
            launcher::clean(&dir, &mut ui)?;
        }
        Command::Exec {
            dir,
            machine,
            argv,
            timeout,
        } => {
            let out = launcher::exec(&dir, &machine, &argv, timeout)?;
            std::io::stdout().write_all(&out.stdout)?;
            std::io::stdout().flush()?;
            std::io::stderr().write_all(&out.stderr)?;
            if out.timed_out {
                eprintln!("flowlab: the command timed out after {timeout:?} and was killed");
                return Ok(ExitCode::from(124));
            }
            return Ok(ExitCode::from(out.status.clamp(0, 255) as u8));
        }
        Command::Console { dir, machine } => {
            let c = launcher::console(&dir, &machine)?;
            match c.pty {
                Some(pty) if std::io::stdin().is_terminal() => launcher::attach_terminal(&pty)?,
                Some(pty) => println!(
                    "{machine}: console on {} (attach with `flowlab console` from a terminal, or `screen {}`); log {}",
                    pty.display(),
                    pty.display(),
                    c.log.display()
                ),
                None => println!(
                    "{machine}: no attachable console; its console log is {}",
                    c.log.display()
                ),
            }
        }
        Command::Capture { dir, domain, write } => {
            let code = launcher::capture(&dir, &domain, write.as_deref())?;
            return Ok(ExitCode::from(code.clamp(0, 255) as u8));
        }
        Command::Test(o) => {
            let report = launcher::test(&o, &mut ui)?;
            if let Some(sig) = &report.signature_written {
                println!("signature written to {}", sig.display());
                return Ok(ExitCode::SUCCESS);
            }
            for r in &report.results {
                if r.compared.is_empty() {
                    println!("{}: no expectation, not compared", r.machine);
                } else if r.diff.is_empty() {
                    println!("{}: ok ({})", r.machine, r.compared.join(", "));
                } else {
                    println!("{}: DIFFERS", r.machine);
                    for l in &r.diff {
                        println!("  {l}");
                    }
                }
            }
            let failed = report.results.iter().filter(|r| !r.diff.is_empty()).count();
            println!(
                "{} machine{} tested, {failed} failed",
                report.results.len(),
                if report.results.len() == 1 { "" } else { "s" }
            );
            if !report.passed() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::VmStart(o) => {
            launcher::vm_start(&o, &mut ui)?;
        }
        Command::VmList => {
            let vms = launcher::vm_list()?;
            println!("{:<16} {:>8}  INTERFACES", "NAME", "PID");
            for v in &vms {
                println!("{:<16} {:>8}  {}", v.name, v.pid, v.interfaces);
            }
        }
        Command::VmHalt(name) => {
            launcher::vm_stop(&name, false, &mut ui)?;
        }
        Command::VmCrash(name) => {
            launcher::vm_stop(&name, true, &mut ui)?;
        }
        Command::ImageBuild {
            kind,
            size_mib,
            force,
        } => {
            let p = launcher::image_build(kind, size_mib, force, &mut ui)?;
            println!("{}", p.display());
        }
        Command::ImagePrune { kind } => {
            let removed = launcher::image_prune(kind)?;
            if removed.is_empty() {
                eprintln!("nothing to prune");
            }
            for (p, bytes) in removed {
                println!("removed {} ({} MiB on disk)", p.display(), bytes >> 20);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
