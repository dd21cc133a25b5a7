//! Command-line parsing of `flowlab-bench controller`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::driver::Mode;
use super::launch::KNOWN;
use super::poller::Endpoint;
use crate::args::{parse_number, whole_number as int, Options};

/// Usage text of the subcommand.
pub const USAGE: &str = "\
usage: flowlab-bench controller [--connect tcp:HOST:PORT|unix:PATH] [--controller-pid PID]
                                [--switches N] [--macs M] [--mode latency|throughput]
                                [--seconds S] [--warmup S] [--repeat R] [--of13] [--json [FILE]]
       flowlab-bench controller --self-test [options]
       flowlab-bench controller --compare [--only LIST] [options]

A cbench-class controller benchmark: N emulated OpenFlow switches connect to the controller,
complete the handshake and send packet_ins; flow_mods (flow setups) and packet_outs coming
back are counted separately, per switch and per one-second interval, and the medians over the
intervals after the warm-up are reported.

Target:
  --connect EP          the controller: tcp:HOST:PORT (tcp:127.0.0.1:6653) or unix:PATH
  --controller-pid PID  read the controller's CPU time (/proc/PID/stat) for CPU per flow setup
  --self-test           run against a built-in do-nothing responder (one flow_mod per
                        packet_in) in this process: the harness's own ceiling
  --compare             start each installed controller on its own port, run the same
                        benchmark against each (cycling through them repeat by repeat), stop
                        each by PID and print one table with ratios to ovs-testcontroller:
                        flowlab-controller --apps l2_learning ($FLOWLAB_CONTROLLER_BIN, or
                        target/release, target/debug), ovs-testcontroller, os-ken 3.1.1
                        (${FLOWLAB_VENV:-/opt/flowlab/osken-venv}) with a simple_switch app
                        written by the bench, and the self-test responder
  --only LIST           with --compare: some of flowlab,ovs-testcontroller,os-ken,self-test
  --start-timeout S     with --compare: wait this long for a controller to listen (30)
  --keep-logs           with --compare: keep each controller's directory and log

Load:
  --switches N          emulated switches (16)
  --macs M              distinct source MAC addresses per switch, cycled (100k)
  --dst-macs D          destination MAC addresses per switch, taught to the controller
                        before the measurement (8)
  --ports P             ports per switch (4); destinations sit on port 1
  --cbench-replies      answer only what cbench answers (features, echo, get_config, desc
                        stats): no barrier, port-desc, role or other replies
  --mode MODE           throughput (sockets kept full, the default) or latency (one
                        packet_in in flight per switch)
  --seconds S           measured one-second intervals (10)
  --warmup S            one-second intervals dropped first (1)
  --repeat R            repeat the whole measurement R times; medians are reported (1)
  --of13                OpenFlow 1.3 instead of 1.0
  --threads T           threads driving the switches (1, as cbench)
  --batch-bytes B       throughput mode: bytes of packet_ins written at once (64k)
  --latency-timeout MS  latency mode: send the next packet_in after MS ms without answer (1000)
  --handshake-timeout S every switch must get a features request within S s (15)

Output:
  --json [FILE]         write JSON to FILE, or to stdout instead of markdown
  -h, --help            this text

Numbers accept k and M suffixes (100k, 1.5M).
";

/// Where JSON goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonOut {
    /// Instead of markdown on stdout.
    Stdout,
    /// To a file, markdown still on stdout.
    File(PathBuf),
}

/// Everything `flowlab-bench controller` takes.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// The bench's own argv.
    pub argv: Vec<String>,
    /// `--connect`.
    pub connect: Endpoint,
    /// `--controller-pid`.
    pub controller_pid: Option<i32>,
    /// `--self-test`.
    pub self_test: bool,
    /// `--compare`.
    pub compare: bool,
    /// `--only`.
    pub only: Option<Vec<String>>,
    /// `--switches`.
    pub switches: u16,
    /// `--macs`.
    pub macs: u32,
    /// `--dst-macs`.
    pub dst_macs: u16,
    /// `--ports`.
    pub ports: u16,
    /// `--cbench-replies`.
    pub cbench_replies: bool,
    /// `--mode`.
    pub mode: Mode,
    /// `--seconds`.
    pub seconds: u32,
    /// `--warmup`.
    pub warmup: u32,
    /// `--repeat`.
    pub repeat: usize,
    /// `--of13`.
    pub of13: bool,
    /// `--threads`.
    pub threads: usize,
    /// `--batch-bytes`.
    pub batch_bytes: usize,
    /// `--latency-timeout`.
    pub latency_timeout: Duration,
    /// `--handshake-timeout`.
    pub handshake_timeout: Duration,
    /// `--start-timeout`.
    pub start_timeout: Duration,
    /// `--keep-logs`.
    pub keep_logs: bool,
    /// `--json`.
    pub json: Option<JsonOut>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            argv: Vec::new(),
            connect: Endpoint::Tcp("127.0.0.1:6653".into()),
            controller_pid: None,
            self_test: false,
            compare: false,
            only: None,
            switches: 16,
            macs: 100_000,
            dst_macs: 8,
            ports: 4,
            cbench_replies: false,
            mode: Mode::Throughput,
            seconds: 10,
            warmup: 1,
            repeat: 1,
            of13: false,
            threads: 1,
            batch_bytes: 64 * 1024,
            latency_timeout: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(15),
            start_timeout: Duration::from_secs(30),
            keep_logs: false,
            json: None,
        }
    }
}

/// Parses the arguments after `controller`; `Ok(None)` asks for the usage text.
pub fn parse(args: &[String]) -> Result<Option<ControllerConfig>> {
    let mut c = ControllerConfig::default();
    let mut opts = Options::new(args);
    while let Some(option) = opts.next_name() {
        let name = option.as_str();
        let mut value = || opts.value(name);
        match name {
            "-h" | "--help" => return Ok(None),
            "--connect" => c.connect = Endpoint::parse(&value()?)?,
            "--controller-pid" => {
                c.controller_pid = Some(int(&value()?, name, 1, i32::MAX as u64)? as i32)
            }
            "--self-test" => c.self_test = true,
            "--compare" => c.compare = true,
            "--only" => {
                let v = value()?;
                let list: Vec<String> = v
                    .split(',')
                    .map(|w| w.trim().to_string())
                    .filter(|w| !w.is_empty())
                    .collect();
                if let Some(bad) = list.iter().find(|w| !KNOWN.contains(&w.as_str())) {
                    bail!(
                        "--only: unknown controller {bad:?} (known: {})",
                        KNOWN.join(",")
                    );
                }
                c.only = Some(list);
            }
            "--switches" => c.switches = int(&value()?, name, 1, 4096)? as u16,
            "--macs" => c.macs = int(&value()?, name, 1, 1 << 24)? as u32,
            "--dst-macs" => c.dst_macs = int(&value()?, name, 1, 65_535)? as u16,
            "--ports" => c.ports = int(&value()?, name, 2, 65_000)? as u16,
            "--cbench-replies" => c.cbench_replies = true,
            "--mode" => {
                c.mode = match value()?.as_str() {
                    "latency" => Mode::Latency,
                    "throughput" => Mode::Throughput,
                    other => bail!("--mode must be latency or throughput, not {other:?}"),
                }
            }
            "--seconds" => c.seconds = int(&value()?, name, 1, 86_400)? as u32,
            "--warmup" => c.warmup = int(&value()?, name, 0, 3_600)? as u32,
            "--repeat" => c.repeat = int(&value()?, name, 1, 1_000)? as usize,
            "--of13" => c.of13 = true,
            "--threads" => c.threads = int(&value()?, name, 1, 256)? as usize,
            "--batch-bytes" => c.batch_bytes = int(&value()?, name, 100, 16 << 20)? as usize,
            "--latency-timeout" => {
                c.latency_timeout = Duration::from_millis(int(&value()?, name, 1, 60_000)?)
            }
            "--handshake-timeout" => {
                c.handshake_timeout =
                    Duration::from_secs_f64(parse_number(&value()?).context("--handshake-timeout")?)
            }
            "--start-timeout" => {
                c.start_timeout =
                    Duration::from_secs_f64(parse_number(&value()?).context("--start-timeout")?)
            }
            "--keep-logs" => c.keep_logs = true,
            "--json" => {
                c.json = Some(match opts.optional_value() {
                    Some(v) => JsonOut::File(PathBuf::from(v)),
                    None => JsonOut::Stdout,
                })
            }
            other => bail!("unknown option {other:?} (see flowlab-bench controller --help)"),
        }
    }
    if c.self_test && c.compare {
        bail!("--self-test and --compare exclude each other (--compare includes the self-test)");
    }
    if c.controller_pid.is_some() && (c.self_test || c.compare) {
        bail!("--controller-pid is for a controller given with --connect");
    }
    if c.only.is_some() && !c.compare {
        bail!("--only needs --compare");
    }
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_are_cbench_like() {
        let c = parse(&[]).unwrap().unwrap();
        assert_eq!(c.switches, 16);
        assert_eq!(c.macs, 100_000);
        assert_eq!(c.mode, Mode::Throughput);
        assert_eq!(c.seconds, 10);
        assert_eq!(c.connect, Endpoint::Tcp("127.0.0.1:6653".into()));
        assert!(!c.of13 && !c.compare && !c.self_test);
    }

    #[test]
    fn parses_a_full_command() {
        let c = parse(&args(&[
            "--connect",
            "unix:/tmp/c",
            "--controller-pid=42",
            "--switches",
            "4",
            "--macs",
            "1k",
            "--mode",
            "latency",
            "--seconds",
            "3",
            "--warmup",
            "0",
            "--repeat",
            "2",
            "--of13",
            "--cbench-replies",
            "--json",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.connect, Endpoint::Unix("/tmp/c".into()));
        assert_eq!(c.controller_pid, Some(42));
        assert_eq!(
            (c.switches, c.macs, c.seconds, c.warmup, c.repeat),
            (4, 1000, 3, 0, 2)
        );
        assert_eq!(c.mode, Mode::Latency);
        assert!(c.of13 && c.cbench_replies);
        assert_eq!(c.json, Some(JsonOut::Stdout));

        let c = parse(&args(&[
            "--compare",
            "--only",
            "os-ken,self-test",
            "--json",
            "/tmp/x.json",
        ]))
        .unwrap()
        .unwrap();
        assert!(c.compare);
        assert_eq!(c.only.unwrap(), ["os-ken", "self-test"]);
        assert_eq!(c.json, Some(JsonOut::File("/tmp/x.json".into())));
        let c = parse(&args(&["--json", "--self-test"])).unwrap().unwrap();
        assert_eq!(c.json, Some(JsonOut::Stdout));
        assert!(c.self_test);
    }

    #[test]
    fn rejects_bad_commands() {
        assert!(parse(&args(&["--help"])).unwrap().is_none());
        for bad in [
            &["--mode", "fast"][..],
            &["--switches", "0"],
            &["--macs", "20M"],
            &["--ports", "1"],
            &["--bogus"],
            &["--connect", "6653"],
            &["--self-test", "--compare"],
            &["--compare", "--only", "nox"],
            &["--only", "os-ken"],
            &["--self-test", "--controller-pid", "5"],
            &["--seconds"],
            &["--seconds", "1.5"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
