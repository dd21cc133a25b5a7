//! Command-line parsing of `flowlab-bench lab`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use flowlab_guests::image::ImageKind;
use flowlab_guests::launcher::DEBIAN_MEM_MB;
use flowlab_guests::uml::DEFAULT_MEM_MB;

use crate::args::{parse_number, whole_number as int, Options};

/// Usage text of the subcommand.
pub const USAGE: &str = "\
usage: flowlab-bench lab [--size-mib N] [--repeat R] [--guests G] [--only tcp|boot]
                         [--mode learning|hub] [--json FILE] [options]

Real User-Mode Linux guests (one COW file per guest), two measurements:

  tcp   two guests on one switch; the first sends exactly N MiB of zeros, the second
        counts what arrives. Timed inside the sender with /proc/uptime; the byte count
        must match. Debian guests by default, where two perl programs write and read the
        socket 1 MiB per system call (every guest system call is a ptrace round trip, so
        busybox nc's 1 KiB calls would measure nc, not the network); --tcp-image busybox
        uses `dd | nc` and `nc -l | wc -c`. Per repeat (the order alternates), each with
        fresh guests and a fresh switch: flowlab-hub with UML's daemon transport,
        flowlab-hub with UML's vector transport (bess), uml_switch (daemon). Reported:
        MB/s, the switch's drops (flowlab-hub: its
        `ctl counters`; uml_switch: the EAGAIN lines it logs), the guests' eth0 drop and
        error counters and TCP retransmissions, and where the CPU went (each guest's UML
        processes, the switch, the whole machine).
  boot  the time until a G-guest lab is up (`flowlab start` through the launcher API, all
        .ready files present) against booting the same G guests with bare, parallel
        linux.uml launches on directly started hubs, waiting for the same .ready files.

Options:
  --only PART           run only tcp or boot (both by default)
  --size-mib N          MiB sent per transfer (100)
  --repeat R            repeat each measurement R times; medians are reported (3)
  --mode MODE           how both switches forward in the tcp part: learning (default;
                        uml_switch and flowlab-hub without -hub) or hub (both with -hub)
  --guests G            guests of the boot part (10)
  --domains D           collision domains of the boot part, 1 or 2 (2; the guests are
                        split evenly)
  --tcp-image K         image of the tcp part's guests: debian (default; built on first
                        use, which needs root) or busybox
  --no-pin              leave guest placement to the scheduler; by default the tcp
                        guests are pinned one CPU each, and `flowlab start` pins the lab's
                        guests round-robin once they are up (the bare boot never pins)
  --mem MIB             guest memory (the launcher's default for the image: 64 MiB
                        busybox, 128 MiB debian)
  --transfer-timeout S  longest one transfer may take (600)
  --ready-timeout S     longest a guest may take to boot (120)
  --lock-timeout S      longest to wait for the UML guest lock (1800)
  --keep-dirs           keep the work directory (console logs, switch logs)
  --json FILE           also write the results as JSON
  -h, --help            this text

The flowlab-hub binary is $FLOWLAB_HUB_BIN, else the one next to flowlab-bench, else PATH.
Every guest use holds an flock on /tmp/flowlab-tests-uml-guests.lock, as the test suite
does, so the two never boot guests at the same time.
";

/// Which parts run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Guest-to-guest TCP.
    pub tcp: bool,
    /// Lab boot against bare boot.
    pub boot: bool,
}

/// How the switches of the tcp part forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardMode {
    /// A learning switch (no `-hub`).
    Learning,
    /// A hub (`-hub`): every frame to every other port.
    Hub,
}

impl ForwardMode {
    /// `learning` or `hub`.
    pub fn name(self) -> &'static str {
        match self {
            ForwardMode::Learning => "learning",
            ForwardMode::Hub => "hub",
        }
    }
}

/// Everything `flowlab-bench lab` takes.
#[derive(Clone, Debug)]
pub struct LabConfig {
    /// The bench's own argv.
    pub argv: Vec<String>,
    /// `--only`.
    pub parts: Parts,
    /// `--size-mib`.
    pub size_mib: u64,
    /// `--repeat`.
    pub repeat: usize,
    /// `--mode`.
    pub mode: ForwardMode,
    /// `--guests`.
    pub guests: usize,
    /// `--domains`.
    pub domains: usize,
    /// `--mem` (None: the launcher's default for the image).
    pub mem_mb: Option<u32>,
    /// `--tcp-image`.
    pub tcp_image: ImageKind,
    /// Guests pinned one CPU each as `flowlab start` pins them (not `--no-pin`).
    pub pin: bool,
    /// `--transfer-timeout`.
    pub transfer_timeout: Duration,
    /// `--ready-timeout`.
    pub ready_timeout: Duration,
    /// `--lock-timeout`.
    pub lock_timeout: Duration,
    /// `--keep-dirs`.
    pub keep_dirs: bool,
    /// `--json`.
    pub json: Option<PathBuf>,
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            argv: Vec::new(),
            parts: Parts {
                tcp: true,
                boot: true,
            },
            size_mib: 100,
            repeat: 3,
            mode: ForwardMode::Learning,
            guests: 10,
            domains: 2,
            mem_mb: None,
            tcp_image: ImageKind::Debian,
            pin: true,
            transfer_timeout: Duration::from_secs(600),
            ready_timeout: Duration::from_secs(120),
            lock_timeout: Duration::from_secs(1800),
            keep_dirs: false,
            json: None,
        }
    }
}

impl LabConfig {
    /// Guest memory of the tcp part.
    pub fn tcp_mem_mb(&self) -> u32 {
        self.mem_mb.unwrap_or(match self.tcp_image {
            ImageKind::Debian => DEBIAN_MEM_MB,
            ImageKind::Busybox => DEFAULT_MEM_MB,
        })
    }

    /// Guest memory of the boot part (busybox guests).
    pub fn boot_mem_mb(&self) -> u32 {
        self.mem_mb.unwrap_or(DEFAULT_MEM_MB)
    }
}

fn secs(s: &str, name: &str) -> Result<Duration> {
    let v = parse_number(s).with_context(|| name.to_string())?;
    if v <= 0.0 {
        bail!("{name} must be positive");
    }
    Ok(Duration::from_secs_f64(v))
}

/// Parses the arguments after `lab`; `Ok(None)` asks for the usage text.
pub fn parse(args: &[String]) -> Result<Option<LabConfig>> {
    let mut c = LabConfig::default();
    let mut opts = Options::new(args);
    while let Some(option) = opts.next_name() {
        let name = option.as_str();
        let mut value = || opts.value(name);
        match name {
            "-h" | "--help" => return Ok(None),
            "--only" => {
                c.parts = match value()?.as_str() {
                    "tcp" => Parts {
                        tcp: true,
                        boot: false,
                    },
                    "boot" => Parts {
                        tcp: false,
                        boot: true,
                    },
                    other => bail!("--only must be tcp or boot, not {other:?}"),
                }
            }
            "--size-mib" => c.size_mib = int(&value()?, name, 1, 64 * 1024)?,
            "--repeat" => c.repeat = int(&value()?, name, 1, 1000)? as usize,
            "--mode" => {
                c.mode = match value()?.as_str() {
                    "learning" | "switch" => ForwardMode::Learning,
                    "hub" => ForwardMode::Hub,
                    other => bail!("--mode must be learning or hub, not {other:?}"),
                }
            }
            "--guests" => c.guests = int(&value()?, name, 1, 250)? as usize,
            "--domains" => c.domains = int(&value()?, name, 1, 2)? as usize,
            "--mem" => c.mem_mb = Some(int(&value()?, name, 16, 4096)? as u32),
            "--tcp-image" => {
                c.tcp_image = match value()?.as_str() {
                    "debian" => ImageKind::Debian,
                    "busybox" => ImageKind::Busybox,
                    other => bail!("--tcp-image must be debian or busybox, not {other:?}"),
                }
            }
            "--transfer-timeout" => c.transfer_timeout = secs(&value()?, name)?,
            "--ready-timeout" => c.ready_timeout = secs(&value()?, name)?,
            "--lock-timeout" => c.lock_timeout = secs(&value()?, name)?,
            "--keep-dirs" => c.keep_dirs = true,
            "--no-pin" => c.pin = false,
            "--json" => c.json = Some(PathBuf::from(value()?)),
            other => bail!("unknown option {other:?} (see flowlab-bench lab --help)"),
        }
    }
    if c.domains > c.guests {
        bail!(
            "--domains {} needs at least as many guests (--guests {})",
            c.domains,
            c.guests
        );
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
    fn defaults_match_the_issue() {
        let c = parse(&[]).unwrap().unwrap();
        assert_eq!((c.size_mib, c.repeat, c.guests, c.domains), (100, 3, 10, 2));
        assert_eq!(
            c.parts,
            Parts {
                tcp: true,
                boot: true
            }
        );
        assert_eq!(c.mode, ForwardMode::Learning);
        assert!(c.json.is_none() && !c.keep_dirs);
        assert_eq!(c.tcp_image, ImageKind::Debian);
        assert_eq!((c.tcp_mem_mb(), c.boot_mem_mb()), (128, 64));
        assert!(c.pin);
        assert!(!parse(&args(&["--no-pin"])).unwrap().unwrap().pin);
        let b = parse(&args(&["--tcp-image", "busybox"])).unwrap().unwrap();
        assert_eq!((b.tcp_image, b.tcp_mem_mb()), (ImageKind::Busybox, 64));
        assert!(parse(&args(&["--tcp-image", "alpine"])).is_err());
    }

    #[test]
    fn parses_a_full_command() {
        let c = parse(&args(&[
            "--size-mib",
            "10",
            "--repeat=5",
            "--guests",
            "4",
            "--domains",
            "1",
            "--only",
            "boot",
            "--mode",
            "hub",
            "--mem",
            "48",
            "--transfer-timeout",
            "90",
            "--keep-dirs",
            "--json",
            "/tmp/lab.json",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((c.size_mib, c.repeat, c.guests, c.domains), (10, 5, 4, 1));
        assert_eq!(
            c.parts,
            Parts {
                tcp: false,
                boot: true
            }
        );
        assert_eq!(c.mode, ForwardMode::Hub);
        assert_eq!(c.mem_mb, Some(48));
        assert_eq!((c.tcp_mem_mb(), c.boot_mem_mb()), (48, 48));
        assert_eq!(c.transfer_timeout, Duration::from_secs(90));
        assert!(c.keep_dirs);
        assert_eq!(c.json, Some(PathBuf::from("/tmp/lab.json")));
    }

    #[test]
    fn rejects_bad_commands() {
        assert!(parse(&args(&["--help"])).unwrap().is_none());
        for bad in [
            &["--only", "udp"][..],
            &["--size-mib", "0"],
            &["--size-mib", "1.5"],
            &["--repeat", "0"],
            &["--domains", "3"],
            &["--guests", "1", "--domains", "2"],
            &["--mode", "openflow"],
            &["--mem", "8"],
            &["--transfer-timeout", "0"],
            &["--bogus"],
            &["--json"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
