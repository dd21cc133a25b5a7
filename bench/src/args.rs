//! Command-line parsing (hand-written: no extra dependencies).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::traffic::ClientKind;

/// Usage text.
pub const USAGE: &str = "\
usage: flowlab-bench datapath --switch 'CMD ... {ctl} ...' [--label NAME] [--switch ...] [options]
       flowlab-bench controller [options]   (OpenFlow controllers; see `flowlab-bench controller --help`)

Runs load over the uml_switch protocol against each switch in turn and prints markdown
tables (medians of the repeats, ratios to the first switch).

Switches:
  --switch CMD          command template, split on whitespace (no shell); {ctl} is replaced
                        by a fresh control-socket path, {dir} by its temporary directory.
                        If {ctl} becomes a directory (vde_switch -s), {ctl}/ctl is used.
  --label NAME          label of the preceding --switch (default: its program name)
  --start-timeout SECS  wait this long for the control socket (5)
  --keep-dirs           keep each switch's temporary directory and log
  --pin                 pin the switches to the last CPU and the bench to the others
  --nice N              run the switches and the bench at nice N
  --rt PRIO             run the switches and the bench in SCHED_FIFO at PRIO (1-99): shields
                        the measurement from other load on a shared machine (needs root)

Scenarios (all by default):
  --scenario LIST       comma list of: unicast (a), rtt (b), flood (c), rate (d)
  --client STYLE        uml | connected | both (both): client data sockets for (a)-(c)
  --repeat R            repeat every measurement R times, report medians (3)

  (a) unicast A->B, credit-window paced, counted by a recvmmsg receiver thread
  --frames N            frames per run (200k)
  --sizes LIST          frame sizes in bytes (64,512,1500)
  --window W            frames in flight with connected clients (64)
  --uml-window W        frames in flight with UML-like clients, for (a) and (c) (8)
  (b) ping-pong
  --rtt-count K         measured round trips per run (10k); --rtt-warmup (500)
  (c) broadcast flood
  --flood-ports P       ports including the sender (8)
  --flood-frames N      broadcast frames per run (frames / 4)
  --flood-window W      frames in flight with connected clients (16)
  (d) UML-like clients at a fixed offered rate
  --rate LIST           offered rates in frames/s, e.g. 50k,100k (default 20k,50k,100k
                        unless --rate-search is given)
  --rate-secs S         seconds per fixed-rate run and per search probe (2)
  --rate-size B         frame size (64)
  --burst B             most frames per sendmmsg when pacing (8)
  --burst-gap-us G      least time between two paced batches, in µs (50); batches grow
                        up to --burst to keep it
  --rate-search         find the no-drop rate of the reference switch, then run all there
  --rate-search-ref L   reference switch label (default: uml_switch if present, else first)
  --rate-multiples LIST run every switch at these multiples of the found rate (1), e.g. 1,2,4
  --rate-range LO:HI    search range in frames/s (5k:1M)
  --loss-threshold PCT  most loss that counts as no-drop, % (0.1)

Output:
  --json FILE           also write the results as JSON
  -h, --help            this text

Numbers accept k and M suffixes (200k, 1.5M).
";

/// A `--switch` with its optional label.
#[derive(Clone, Debug, PartialEq)]
pub struct SwitchSpec {
    /// Command template.
    pub template: String,
    /// `--label`.
    pub label: Option<String>,
}

/// Which scenarios run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenarios {
    /// (a)
    pub unicast: bool,
    /// (b)
    pub rtt: bool,
    /// (c)
    pub flood: bool,
    /// (d)
    pub rate: bool,
}

/// Everything the command line sets.
#[derive(Clone, Debug)]
pub struct Config {
    /// The bench's own argv.
    pub argv: Vec<String>,
    /// Switches in order.
    pub switches: Vec<SwitchSpec>,
    /// Scenarios.
    pub scenarios: Scenarios,
    /// Client styles for (a)-(c).
    pub clients: Vec<ClientKind>,
    /// Repeats.
    pub repeat: usize,
    /// (a) frames per run.
    pub frames: u64,
    /// (a) sizes.
    pub sizes: Vec<usize>,
    /// Window, connected clients.
    pub window: u64,
    /// Window, UML-like clients.
    pub uml_window: u64,
    /// (b) round trips.
    pub rtt_count: u64,
    /// (b) warm-up round trips.
    pub rtt_warmup: u64,
    /// (c) ports.
    pub flood_ports: usize,
    /// (c) frames per run.
    pub flood_frames: u64,
    /// (c) window, connected clients.
    pub flood_window: u64,
    /// (d) fixed rates.
    pub rates: Vec<f64>,
    /// (d) seconds per run.
    pub rate_secs: f64,
    /// (d) frame size.
    pub rate_size: usize,
    /// (d) most frames per sendmmsg.
    pub burst: usize,
    /// `--burst-gap-us`.
    pub burst_gap_us: f64,
    /// (d) search.
    pub rate_search: bool,
    /// (d) search reference label.
    pub rate_ref: Option<String>,
    /// (d) multiples of the found rate to run at.
    pub rate_multiples: Vec<f64>,
    /// (d) search range.
    pub rate_range: (f64, f64),
    /// (d) loss threshold, %.
    pub loss_threshold: f64,
    /// Socket wait.
    pub start_timeout: Duration,
    /// Keep temp dirs.
    pub keep_dirs: bool,
    /// Pin CPUs.
    pub pin: bool,
    /// Nice value for switches and bench.
    pub nice: Option<i32>,
    /// SCHED_FIFO priority for switches and bench.
    pub rt: Option<i32>,
    /// JSON output.
    pub json: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Print usage.
    Help,
    /// Run the datapath benchmark.
    Datapath(Box<Config>),
    /// Run the controller benchmark.
    Controller(Box<crate::controller::args::ControllerConfig>),
    /// Print the controller benchmark's usage.
    ControllerHelp,
}

/// A walk over a subcommand's options: `--name value`, `--name=value` and bare flags.
#[derive(Debug)]
pub struct Options<'a> {
    args: &'a [String],
    i: usize,
    inline: Option<String>,
}

impl<'a> Options<'a> {
    /// Options from `args`.
    pub fn new(args: &'a [String]) -> Options<'a> {
        Options {
            args,
            i: 0,
            inline: None,
        }
    }

    /// The next option's name (without an `=value`), or None at the end.
    pub fn next_name(&mut self) -> Option<String> {
        let arg = self.args.get(self.i)?;
        self.i += 1;
        match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => {
                self.inline = Some(v.to_string());
                Some(n.to_string())
            }
            _ => {
                self.inline = None;
                Some(arg.clone())
            }
        }
    }

    /// The value of an option whose value may be left out: after its `=`, else the next
    /// argument unless that is another option.
    pub fn optional_value(&mut self) -> Option<String> {
        if let Some(v) = self.inline.take() {
            return Some(v);
        }
        let next = self.args.get(self.i).filter(|a| !a.starts_with('-'))?;
        self.i += 1;
        Some(next.clone())
    }

    /// The value of option `name`: after its `=`, else the next argument.
    pub fn value(&mut self, name: &str) -> Result<String> {
        if let Some(v) = self.inline.take() {
            return Ok(v);
        }
        let v = self
            .args
            .get(self.i)
            .ok_or_else(|| anyhow!("{name} needs a value"))?;
        self.i += 1;
        Ok(v.clone())
    }
}

/// A whole number in `lo..=hi` (suffixes as [`parse_number`]); errors name `name`.
pub fn whole_number(s: &str, name: &str, lo: u64, hi: u64) -> Result<u64> {
    let v = parse_number(s).with_context(|| name.to_string())?;
    if v.fract() != 0.0 || v < lo as f64 || v > hi as f64 {
        bail!("{name} must be a whole number in {lo}..={hi}, not {s:?}");
    }
    Ok(v as u64)
}

/// Parses `1500`, `200k`, `1.5M`, `2e5`.
pub fn parse_number(s: &str) -> Result<f64> {
    let t = s.trim().replace('_', "");
    let (num, mul) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M' | 'm') => (&t[..t.len() - 1], 1e6),
        Some('G' | 'g') => (&t[..t.len() - 1], 1e9),
        _ => (&t[..], 1.0),
    };
    let v: f64 = num.parse().map_err(|_| anyhow!("not a number: {s:?}"))?;
    if !v.is_finite() || v < 0.0 {
        bail!("not a non-negative number: {s:?}");
    }
    Ok(v * mul)
}

fn parse_int(s: &str) -> Result<u64> {
    let v = parse_number(s)?;
    if v.fract() != 0.0 {
        bail!("not a whole number: {s:?}");
    }
    Ok(v as u64)
}

fn parse_list<T>(s: &str, f: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    s.split(',')
        .filter(|w| !w.trim().is_empty())
        .map(|w| f(w.trim()))
        .collect()
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("datapath") => {}
        Some("controller") => {
            let rest: Vec<String> = it.cloned().collect();
            return Ok(match crate::controller::args::parse(&rest)? {
                Some(c) => Command::Controller(Box::new(c)),
                None => Command::ControllerHelp,
            });
        }
        Some(other) => bail!("unknown command {other:?} (expected `datapath` or `controller`)"),
    }
    let mut c = Config {
        argv: Vec::new(),
        switches: Vec::new(),
        scenarios: Scenarios {
            unicast: true,
            rtt: true,
            flood: true,
            rate: true,
        },
        clients: vec![ClientKind::Connected, ClientKind::Uml],
        repeat: 3,
        frames: 200_000,
        sizes: vec![64, 512, 1500],
        window: 64,
        uml_window: 8,
        rtt_count: 10_000,
        rtt_warmup: 500,
        flood_ports: 8,
        flood_frames: 0,
        flood_window: 16,
        rates: Vec::new(),
        rate_secs: 2.0,
        rate_size: 64,
        burst: 8,
        burst_gap_us: 50.0,
        rate_search: false,
        rate_ref: None,
        rate_multiples: vec![1.0],
        rate_range: (5_000.0, 1_000_000.0),
        loss_threshold: 0.1,
        start_timeout: Duration::from_secs(5),
        keep_dirs: false,
        pin: false,
        nice: None,
        rt: None,
        json: None,
    };
    let mut flood_frames = None;
    let rest: Vec<&String> = it.collect();
    let mut i = 0;
    while i < rest.len() {
        let arg = rest[i].as_str();
        i += 1;
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || -> Result<String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = rest.get(i).ok_or_else(|| anyhow!("{name} needs a value"))?;
            i += 1;
            Ok(v.to_string())
        };
        match name {
            "-h" | "--help" => return Ok(Command::Help),
            "--switch" => c.switches.push(SwitchSpec {
                template: value()?,
                label: None,
            }),
            "--label" => {
                let v = value()?;
                let last = c
                    .switches
                    .last_mut()
                    .ok_or_else(|| anyhow!("--label must follow a --switch"))?;
                last.label = Some(v);
            }
            "--scenario" | "--scenarios" => {
                let mut s = Scenarios {
                    unicast: false,
                    rtt: false,
                    flood: false,
                    rate: false,
                };
                for w in value()?.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                    match w {
                        "a" | "unicast" => s.unicast = true,
                        "b" | "rtt" => s.rtt = true,
                        "c" | "flood" => s.flood = true,
                        "d" | "rate" | "uml-rate" => s.rate = true,
                        "all" => {
                            s = Scenarios {
                                unicast: true,
                                rtt: true,
                                flood: true,
                                rate: true,
                            }
                        }
                        other => bail!("unknown scenario {other:?} (unicast, rtt, flood, rate)"),
                    }
                }
                c.scenarios = s;
            }
            "--client" => {
                c.clients = match value()?.as_str() {
                    "uml" => vec![ClientKind::Uml],
                    "connected" => vec![ClientKind::Connected],
                    "both" => vec![ClientKind::Connected, ClientKind::Uml],
                    other => bail!("--client must be uml, connected or both, not {other:?}"),
                }
            }
            "--repeat" => c.repeat = parse_int(&value()?)? as usize,
            "--frames" => c.frames = parse_int(&value()?)?,
            "--sizes" => c.sizes = parse_list(&value()?, |w| Ok(parse_int(w)? as usize))?,
            "--window" => c.window = parse_int(&value()?)?,
            "--uml-window" => c.uml_window = parse_int(&value()?)?,
            "--rtt-count" => c.rtt_count = parse_int(&value()?)?,
            "--rtt-warmup" => c.rtt_warmup = parse_int(&value()?)?,
            "--flood-ports" => c.flood_ports = parse_int(&value()?)? as usize,
            "--flood-frames" => flood_frames = Some(parse_int(&value()?)?),
            "--flood-window" => c.flood_window = parse_int(&value()?)?,
            "--rate" | "--rates" => c.rates = parse_list(&value()?, parse_number)?,
            "--rate-secs" | "--probe-secs" => c.rate_secs = parse_number(&value()?)?,
            "--rate-size" => c.rate_size = parse_int(&value()?)? as usize,
            "--burst" => c.burst = parse_int(&value()?)? as usize,
            "--burst-gap-us" => c.burst_gap_us = value()?.parse().context("--burst-gap-us")?,
            "--rate-search" => c.rate_search = true,
            "--rate-search-ref" => c.rate_ref = Some(value()?),
            "--rate-multiples" => c.rate_multiples = parse_list(&value()?, parse_number)?,
            "--rate-range" => {
                let v = value()?;
                let (lo, hi) = v
                    .split_once(':')
                    .ok_or_else(|| anyhow!("--rate-range wants LO:HI"))?;
                c.rate_range = (parse_number(lo)?, parse_number(hi)?);
            }
            "--loss-threshold" => c.loss_threshold = parse_number(&value()?)?,
            "--start-timeout" => {
                c.start_timeout = Duration::from_secs_f64(parse_number(&value()?)?)
            }
            "--keep-dirs" => c.keep_dirs = true,
            "--pin" => c.pin = true,
            "--nice" => {
                let v = value()?;
                let n: i32 = v
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("--nice wants an integer, not {v:?}"))?;
                c.nice = Some(n.clamp(-20, 19));
            }
            "--rt" => {
                let v = value()?;
                let p: i32 = v
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("--rt wants a priority, not {v:?}"))?;
                if !(1..=99).contains(&p) {
                    bail!("--rt priority must be 1..=99");
                }
                c.rt = Some(p);
            }
            "--json" => c.json = Some(PathBuf::from(value()?)),
            other => bail!("unknown option {other:?} (see --help)"),
        }
    }
    c.flood_frames = flood_frames.unwrap_or(c.frames / 4);
    if c.rates.is_empty() && !c.rate_search {
        c.rates = vec![20_000.0, 50_000.0, 100_000.0];
    }
    validate(&c).context("invalid arguments")?;
    Ok(Command::Datapath(Box::new(c)))
}

fn validate(c: &Config) -> Result<()> {
    if c.switches.is_empty() {
        bail!("give at least one --switch");
    }
    for s in &c.switches {
        if s.template.split_whitespace().next().is_none() {
            bail!("empty --switch command");
        }
        if !s.template.contains("{ctl}") {
            bail!("--switch {:?} has no {{ctl}}", s.template);
        }
    }
    if c.repeat == 0 || c.frames == 0 || c.window == 0 || c.uml_window == 0 || c.flood_window == 0 {
        bail!("--repeat, --frames and the windows must be at least 1");
    }
    if c.sizes.is_empty()
        || c.sizes
            .iter()
            .any(|&s| !(crate::frames::MIN_FRAME..=65_000).contains(&s))
    {
        bail!(
            "frame sizes must be {}..=65000 bytes",
            crate::frames::MIN_FRAME
        );
    }
    if !(crate::frames::MIN_FRAME..=65_000).contains(&c.rate_size) {
        bail!(
            "--rate-size must be {}..=65000 bytes",
            crate::frames::MIN_FRAME
        );
    }
    if c.flood_ports < 2 || c.flood_ports > 250 {
        bail!("--flood-ports must be 2..=250");
    }
    if c.rates.iter().any(|&r| r <= 0.0)
        || c.rate_range.0 <= 0.0
        || c.rate_range.0 >= c.rate_range.1
    {
        bail!("rates must be positive and the range LO < HI");
    }
    if c.rate_multiples.is_empty() || c.rate_multiples.iter().any(|&m| m <= 0.0) {
        bail!("--rate-multiples must be positive");
    }
    if c.rate_secs <= 0.0 || c.burst == 0 || c.burst_gap_us <= 0.0 {
        bail!("--rate-secs, --burst and --burst-gap-us must be positive");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("200k").unwrap(), 200_000.0);
        assert_eq!(parse_number("1.5M").unwrap(), 1_500_000.0);
        assert_eq!(parse_number("64").unwrap(), 64.0);
        assert_eq!(parse_number("2e5").unwrap(), 200_000.0);
        assert!(parse_number("x").is_err());
        assert!(parse_number("-3").is_err());
        assert!(parse_int("1.5").is_err());
    }

    #[test]
    fn parses_a_full_command() {
        let a = args(&[
            "datapath",
            "--switch",
            "uml_switch -unix {ctl}",
            "--label",
            "old",
            "--switch=vde_switch -s {ctl}",
            "--scenario",
            "unicast,d",
            "--client",
            "uml",
            "--sizes",
            "64,1500",
            "--frames",
            "20k",
            "--rate-search",
            "--rate-range",
            "5k:500k",
            "--json",
            "/tmp/x.json",
        ]);
        let Command::Datapath(c) = parse(&a).unwrap() else {
            panic!()
        };
        assert_eq!(c.switches.len(), 2);
        assert_eq!(c.switches[0].label.as_deref(), Some("old"));
        assert_eq!(c.switches[1].template, "vde_switch -s {ctl}");
        assert_eq!(
            c.scenarios,
            Scenarios {
                unicast: true,
                rtt: false,
                flood: false,
                rate: true
            }
        );
        assert_eq!(c.clients, vec![ClientKind::Uml]);
        assert_eq!(c.sizes, vec![64, 1500]);
        assert_eq!(c.frames, 20_000);
        assert_eq!(c.flood_frames, 5_000);
        assert!(c.rate_search && c.rates.is_empty());
        assert_eq!(c.rate_range, (5_000.0, 500_000.0));
        assert_eq!(c.json, Some(PathBuf::from("/tmp/x.json")));
    }

    #[test]
    fn rejects_bad_commands() {
        assert!(matches!(parse(&args(&[])).unwrap(), Command::Help));
        assert!(parse(&args(&["datapath"])).is_err());
        assert!(parse(&args(&["datapath", "--switch", "uml_switch"])).is_err());
        assert!(parse(&args(&["datapath", "--label", "x"])).is_err());
        assert!(parse(&args(&["datapath", "--switch", "a {ctl}", "--bogus"])).is_err());
        assert!(parse(&args(&["datapath", "--switch", "a {ctl}", "--sizes", "10"])).is_err());
        assert!(parse(&args(&["frobnicate"])).is_err());
    }
}
