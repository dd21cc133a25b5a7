//! `flowlab-hub`: parse the command line, start the switch, run it.

use std::io::Write;
use std::process::ExitCode;

use flowlab_hub::cli::{self, Command};
use flowlab_hub::{mgmt, switch::Switch};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| "flowlab-hub".into());
    match cli::parse(&args) {
        Ok(Command::Run(a)) => {
            let daemon = a.daemon;
            let sw = match Switch::start(*a) {
                Ok(sw) => sw,
                Err(e) => {
                    eprintln!("{argv0}: {e}");
                    return ExitCode::from(1);
                }
            };
            if daemon {
                if let Err(e) = sw.daemonize() {
                    eprintln!("{argv0}: -daemon: {e}");
                    return ExitCode::from(1);
                }
            }
            match sw.run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{argv0}: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Ok(Command::Ctl(c)) => match ctl(&c) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{argv0} ctl: {e:#}");
                ExitCode::from(1)
            }
        },
        Ok(Command::Help) => {
            print!("{}", cli::usage(&argv0));
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("flowlab-hub {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{argv0}: {e}");
            eprint!("{}", cli::usage(&argv0));
            ExitCode::from(1)
        }
    }
}

fn ctl(c: &cli::CtlArgs) -> anyhow::Result<()> {
    let mut stream = mgmt::request(&c.socket, &c.command)?;
    let mut out: Box<dyn Write> = match &c.write_to {
        Some(path) => Box::new(std::fs::File::create(path)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut buf = [0u8; 65536];
    let mut first = true;
    loop {
        let n = std::io::Read::read(&mut stream, &mut buf)?;
        if n == 0 {
            break;
        }
        if first && buf[..n].starts_with(b"error: ") {
            anyhow::bail!("{}", String::from_utf8_lossy(&buf[7..n]).trim());
        }
        first = false;
        if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
            break; // the reader (tshark, head) went away
        }
    }
    Ok(())
}
