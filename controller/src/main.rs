//! `flowlab-controller`: parse the command line, build the controller, serve switches.

use anyhow::Context;
use flowlab_controller::cli::{self, Command};
use flowlab_controller::config::Config;
use flowlab_controller::controller::Controller;
use flowlab_controller::driver::{Bound, Driver, DriverConfig};

fn main() {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(a)) => a,
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            return;
        }
        Ok(Command::Version) => {
            println!("flowlab-controller {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(e) => {
            eprintln!("flowlab-controller: {e}\n\n{}", cli::USAGE);
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("flowlab-controller: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: cli::Args) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let apps = flowlab_controller::apps::build(&args.apps, &config)?;
    let controller = Controller::new(config.controller.conn_config()?, apps)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let names = controller.app_names().join(",");
        let driver = Driver::bind(
            controller,
            DriverConfig {
                listen: args.listen,
                connect: args.connect,
                verbose: !args.quiet,
                api: args.api,
                api_any: args.api_any,
            },
        )
        .await
        .context("binding listeners")?;
        for b in driver.bound() {
            match b {
                Bound::Tcp(a) => eprintln!("flowlab-controller: listening on ptcp:{a} ({names})"),
                Bound::Unix(p) => eprintln!(
                    "flowlab-controller: listening on punix:{} ({names})",
                    p.display()
                ),
                Bound::Api(a) => eprintln!("flowlab-controller: JSON API on http://{a}/"),
            }
        }
        driver.run(shutdown()).await;
        Ok(())
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
