//! `flowlab-controller`: parse the command line, build the controller, serve switches.

use anyhow::Context;
use flowlab_controller::cli::{self, Command};
use flowlab_controller::config::Config;
use flowlab_controller::controller::Controller;
use flowlab_controller::driver;

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
    driver::run_program(controller, args.driver_config(), "flowlab-controller")
        .context("serving switches")
}
