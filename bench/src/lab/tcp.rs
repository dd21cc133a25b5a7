//! The tcp part: N MiB from one UML guest to another through one switch.
//!
//! One run: a fresh switch; two fresh guests (`pc1` 198.51.100.1 sends, `pc2`
//! 198.51.100.2 receives) with `eth0` on it, pinned one CPU each as `flowlab start` pins
//! a two-machine lab; three pings to learn addresses; the guests' `/proc/net/dev` and
//! `/proc/net/snmp`; then, through the exec agent, `pc2` starts the receiver and, once it
//! listens, `pc1` runs the sender between two readings of its `/proc/uptime`. The sender
//! ends only after the receiver has read every byte and closed, so the guest-side interval
//! covers the whole transfer. The host samples the CPU of both guests' process groups, of
//! the switch and of the machine around the sender's exec. Then the counters again, the
//! switch's drops, and everything is stopped (guests SIGKILLed by process group, the
//! switch by PID).
//!
//! # Which programs move the bytes
//!
//! Every system call of a process inside a UML guest is a ptrace round trip on the host,
//! tens of microseconds, so the transfer programs must not be what is measured:
//!
//! * busybox nc moves about 1 KiB per call (and `dd | nc`, `nc | wc -c` add pipes): with
//!   busybox guests the transfer runs at 7–12 MB/s whatever the switch, with zero drops
//!   or a thousand.
//! * OpenBSD nc (Debian) moves 16 KiB per call, but the pipes double the calls: about
//!   20,000 guest system calls per 100 MiB on each side; 40–90 MB/s.
//! * The default, on the Debian image: two short perl programs ([`PERL_SENDER`],
//!   [`PERL_RECEIVER`]; perl-base is part of every Debian system) that write and read
//!   1 MiB per call straight on the socket, as iperf does, and count the bytes. About 100
//!   calls per side; the guests' network path and the switch are what is left to measure.
//!
//! `--tcp-image busybox` keeps the busybox guests and nc (no root needed to build the
//! image); busybox nc ends the whole connection when its stdin ends, so the receiver's
//! stdin is held open by a fifo.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use flowlab_guests::hubs::hub_program;
use flowlab_guests::image::ImageKind;
use flowlab_guests::launcher::{cpu_for, pin_cpus};
use flowlab_guests::uml::{find_program, Agent, ExecOutput, Transport};

use super::args::{ForwardMode, LabConfig};
use super::bare::{BareGuests, GuestDef};
use super::counters::{key_secs, key_value, snmp_counter, uml_switch_drops, HubCounters, NetDev};
use super::lock::GuestLock;
use super::procstat::{IntervalCpu, Snapshot};
use crate::switch_process::{StartOptions, SwitchProcess};

/// The sender's address.
pub const SENDER_ADDR: &str = "198.51.100.1";
/// The receiver's address.
pub const RECEIVER_ADDR: &str = "198.51.100.2";
/// The receiver's TCP port.
pub const PORT: u16 = 5001;
/// How the switch's drops are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropSource {
    /// flowlab-hub's `ctl counters`: output drops, errors, runts, oversize.
    HubCounters,
    /// uml_switch's log: one `send_sock ...` line per frame a full socket refused.
    UmlSwitchLog,
}

/// A switch of the tcp part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSwitch {
    /// Label in the report.
    pub label: String,
    /// Command template (`{ctl}` is the control socket).
    pub template: String,
    /// Where its drops come from.
    pub drops: DropSource,
    /// How the guests reach it (the socket is `{ctl}` for daemon, `{ctl}.bess` for bess).
    pub transport: Transport,
}

/// The label of flowlab-hub's row (UML's daemon transport, as uml_switch).
pub const FLOWLAB_HUB: &str = "flowlab-hub";
/// The label of flowlab-hub's row with UML's vector transport (`bess`).
pub const FLOWLAB_HUB_BESS: &str = "flowlab-hub (bess)";
/// The label of uml_switch's row.
pub const UML_SWITCH: &str = "uml_switch";

/// The switches to compare, and notes on those that are missing.
pub fn switches(mode: ForwardMode) -> (Vec<TcpSwitch>, Vec<String>) {
    let hub_flag = match mode {
        ForwardMode::Learning => "",
        ForwardMode::Hub => " -hub",
    };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    match hub_program() {
        Ok(p) if !p.to_string_lossy().contains(char::is_whitespace) => {
            out.push(TcpSwitch {
                label: FLOWLAB_HUB.into(),
                template: format!("{}{hub_flag} -unix {{ctl}}", p.display()),
                drops: DropSource::HubCounters,
                transport: Transport::Daemon,
            });
            out.push(TcpSwitch {
                label: FLOWLAB_HUB_BESS.into(),
                template: format!(
                    "{}{hub_flag} -unix {{ctl}} --bess {{ctl}}.bess",
                    p.display()
                ),
                drops: DropSource::HubCounters,
                transport: Transport::Bess,
            });
        }
        Ok(p) => notes.push(format!(
            "flowlab-hub skipped: its path {} has white space",
            p.display()
        )),
        Err(e) => notes.push(format!("flowlab-hub skipped: {e}")),
    }
    if find_program(Path::new("uml_switch")).is_none() {
        notes.push("uml_switch skipped: not installed (Debian package uml-utilities)".into());
    } else if find_program(Path::new("stdbuf")).is_none() {
        notes.push("uml_switch skipped: stdbuf (coreutils) is needed to read its log".into());
    } else {
        // stdbuf: uml_switch's stdout is block-buffered into a file, and its drop lines
        // are read while it runs.
        out.push(TcpSwitch {
            label: UML_SWITCH.into(),
            template: format!("stdbuf -oL -eL uml_switch{hub_flag} -unix {{ctl}}"),
            drops: DropSource::UmlSwitchLog,
            transport: Transport::Daemon,
        });
    }
    (out, notes)
}

/// The Debian receiver: accept one connection on port `$ARGV[0]`, read it in 1 MiB
/// system calls to the end, print the byte count, close.
pub const PERL_RECEIVER: &str = "use IO::Socket::INET; \
    my $s = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 1, ReuseAddr => 1) \
        or die \"listen: $!\\n\"; \
    my $c = $s->accept or die \"accept: $!\\n\"; \
    my ($n, $r, $b) = (0); \
    while ($r = sysread($c, $b, 1 << 20)) { $n += $r } \
    die \"read: $!\\n\" unless defined $r; \
    print \"$n\\n\";";

/// The Debian sender: connect to `$ARGV[0]:$ARGV[1]`, write `$ARGV[2]` MiB of zeros in
/// 1 MiB system calls, shut the sending side down, and wait until the receiver has read
/// everything and closed.
pub const PERL_SENDER: &str = "use IO::Socket::INET; \
    my ($addr, $port, $mib) = @ARGV; \
    my $c = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $port) \
        or die \"connect: $!\\n\"; \
    my $b = \"\\0\" x (1 << 20); \
    for (1 .. $mib) { \
        my $o = 0; \
        while ($o < length $b) { \
            my $w = syswrite($c, $b, length($b) - $o, $o); \
            die \"write: $!\\n\" unless defined $w; \
            $o += $w; \
        } \
    } \
    shutdown($c, 1) or die \"shutdown: $!\\n\"; \
    sysread($c, my $x, 1);";

/// The receiver's script for a guest on `image`: count the bytes of one connection on
/// `port`.
pub fn receiver_script(image: ImageKind, port: u16) -> String {
    let count = match image {
        ImageKind::Debian => format!("n=$(perl -e '{PERL_RECEIVER}' {port})\n"),
        ImageKind::Busybox => format!(
            "hold=/tmp/flowlab-bench.hold\n\
             rm -f $hold\n\
             mkfifo $hold || exit 90\n\
             # busybox nc closes the connection when its stdin ends: keep it open.\n\
             sleep 100000 > $hold &\n\
             sleeper=$!\n\
             n=$(nc -l -p {port} < $hold | wc -c)\n\
             kill $sleeper 2>/dev/null\n\
             rm -f $hold\n"
        ),
    };
    format!(
        "{count}\
         read up idle < /proc/uptime\n\
         echo \"bytes=$n\"\n\
         echo \"end=$up\"\n"
    )
}

/// The sender's script for a guest on `image`: exactly `mib` MiB of zeros to
/// `addr:port`, timed with `/proc/uptime`.
pub fn sender_script(image: ImageKind, addr: &str, port: u16, mib: u64) -> String {
    let send = match image {
        ImageKind::Debian => format!("perl -e '{PERL_SENDER}' {addr} {port} {mib}"),
        ImageKind::Busybox => {
            format!("dd if=/dev/zero bs=1048576 count={mib} 2>/dev/null | nc {addr} {port}")
        }
    };
    format!(
        "read a idle < /proc/uptime\n\
         {send}\n\
         st=$?\n\
         read b idle < /proc/uptime\n\
         echo \"start=$a\"\n\
         echo \"end=$b\"\n\
         echo \"status=$st\"\n"
    )
}

/// Prints the counters read before and after a transfer.
pub const COUNTERS_SCRIPT: &str = "cat /proc/net/dev /proc/net/snmp";

/// One transfer's results.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpRun {
    /// Repeat number, from 0.
    pub repeat: usize,
    /// Bytes sent.
    pub expected_bytes: u64,
    /// Bytes the receiver counted.
    pub received_bytes: u64,
    /// The transfer as timed inside the sender.
    pub guest_secs: f64,
    /// The sender's exec as timed on the host (agent overhead included).
    pub host_secs: f64,
    /// Frames the switch dropped (over its whole life: it is fresh for each run).
    pub switch_drops: u64,
    /// flowlab-hub's counters, when the switch is flowlab-hub.
    pub hub: Option<HubCounters>,
    /// The sender's eth0 counters over the transfer.
    pub sender: NetDev,
    /// The receiver's eth0 counters over the transfer.
    pub receiver: NetDev,
    /// TCP segments the sender retransmitted during the transfer.
    pub retransmits: Option<u64>,
    /// CPU during the transfer: guests `[sender, receiver]`, the switch, the machine.
    pub cpu: IntervalCpu,
    /// From the first guest's spawn to both `.ready`.
    pub boot_secs: f64,
    /// Load average when the run started.
    pub loadavg: String,
}

impl TcpRun {
    /// Every byte arrived.
    pub fn bytes_ok(&self) -> bool {
        self.received_bytes == self.expected_bytes
    }

    /// CPU milliseconds `u` spent per MiB received (load-independent, unlike cores).
    pub fn cpu_ms_per_mib(&self, u: &super::procstat::CpuUse) -> f64 {
        let mib = self.received_bytes as f64 / (1u64 << 20) as f64;
        if mib > 0.0 {
            u.total_s() * 1e3 / mib
        } else {
            f64::NAN
        }
    }

    /// CPU ms per MiB of guest `i` (0 sender, 1 receiver).
    pub fn guest_ms_per_mib(&self, i: usize) -> f64 {
        self.cpu
            .guests
            .get(i)
            .map_or(f64::NAN, |u| self.cpu_ms_per_mib(u))
    }

    /// CPU ms per MiB of the switch.
    pub fn switch_ms_per_mib(&self) -> f64 {
        self.cpu_ms_per_mib(&self.cpu.switch)
    }

    /// The most a switch that cost no CPU could speed this transfer up, if the CPU the
    /// guests and the switch share is the limit: (guests + switch) ÷ guests.
    pub fn free_switch_gain(&self) -> f64 {
        let g = self.guest_ms_per_mib(0) + self.guest_ms_per_mib(1);
        (g + self.switch_ms_per_mib()) / g
    }

    /// Throughput, 10^6 bytes per second of the guest-side interval.
    pub fn mb_per_s(&self) -> f64 {
        if self.guest_secs > 0.0 {
            self.received_bytes as f64 / self.guest_secs / 1e6
        } else {
            0.0
        }
    }
}

fn exec(agent: &Agent, what: &str, script: &str, timeout: Duration) -> Result<ExecOutput> {
    let out = agent
        .exec_script(script, timeout)
        .with_context(|| format!("{what}: exec"))?;
    if out.timed_out {
        bail!("{what}: timed out after {timeout:?}");
    }
    Ok(out)
}

/// Ends a receiver left waiting (the sender failed), so that its exec returns now rather
/// than at its timeout. Inside the guest, whose processes are all ours.
fn stop_receiver(agent: &Agent) {
    // perl on Debian (which has pkill, not killall), nc and its fifo holder on busybox.
    let _ = agent.exec_script(
        "for p in perl nc sleep; do pkill -x $p || killall $p; done 2>/dev/null",
        Duration::from_secs(10),
    );
}

fn read_counters(agent: &Agent, what: &str) -> Result<(NetDev, Option<u64>)> {
    let out = exec(agent, what, COUNTERS_SCRIPT, Duration::from_secs(30))?;
    let text = out.stdout_text();
    let dev = NetDev::parse(&text, "eth0")
        .with_context(|| format!("{what}: no eth0 in /proc/net/dev:\n{text}"))?;
    Ok((dev, snmp_counter(&text, "Tcp", "RetransSegs")))
}

fn hub_counters(ctl: &Path) -> Result<HubCounters> {
    let mut s = flowlab_hub::mgmt::request(ctl, &["counters".to_string()])
        .with_context(|| format!("flowlab-hub ctl {} counters", ctl.display()))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    HubCounters::parse(&text).with_context(|| format!("unexpected counters answer:\n{text}"))
}

fn switch_log(sw: &SwitchProcess) -> PathBuf {
    // SwitchProcess keeps the control socket and switch.log in the same directory.
    sw.ctl()
        .parent()
        .unwrap_or(Path::new("/"))
        .join("switch.log")
}

/// One run through switch `sw`, in the work directory `work`.
pub fn run_once(
    cfg: &LabConfig,
    sw: &TcpSwitch,
    image: &Path,
    work: &Path,
    repeat: usize,
) -> Result<TcpRun> {
    let _lock = GuestLock::take(cfg.lock_timeout)?;
    let loadavg = crate::machine::loadavg();
    let mut switch = SwitchProcess::start(
        &sw.template,
        &StartOptions {
            timeout: Duration::from_secs(5),
            cpu: None,
            keep_dir: cfg.keep_dirs,
            nice: None,
            rt: None,
        },
    )
    .with_context(|| format!("starting {}", sw.label))?;
    let ctl = switch.ctl().to_path_buf();
    let slug: String = sw
        .label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = work.join(format!("tcp-{repeat}-{slug}"));
    let mut set = BareGuests::new(dir, image, cfg.tcp_mem_mb(), cfg.keep_dirs)?;
    let socket = match sw.transport {
        Transport::Daemon => ctl.clone(),
        Transport::Bess => PathBuf::from(format!("{}.bess", ctl.display())),
    };
    // Placed as `flowlab start` places a two-machine lab (unless --no-pin).
    let cpus = if cfg.pin { pin_cpus() } else { Vec::new() };
    let defs = [
        GuestDef::with_address("pc1", &socket, SENDER_ADDR)
            .transport(sw.transport)
            .pinned(cpu_for(&cpus, 0)),
        GuestDef::with_address("pc2", &socket, RECEIVER_ADDR)
            .transport(sw.transport)
            .pinned(cpu_for(&cpus, 1)),
    ];
    for d in &defs {
        set.write_startup(d)?;
    }
    let t_boot = Instant::now();
    for d in &defs {
        set.spawn(d)?;
    }
    set.wait_ready(cfg.ready_timeout, Duration::from_millis(20))?;
    let boot_secs = t_boot.elapsed().as_secs_f64();
    let tx = set.guests()[0].agent()?;
    let rx = set.guests()[1].agent()?;

    // Addresses learned, the path works.
    let ping = format!("ping -c 3 -W 2 {RECEIVER_ADDR}");
    let mut reached = false;
    for _ in 0..5 {
        if exec(&tx, "ping", &ping, Duration::from_secs(30))?.success() {
            reached = true;
            break;
        }
    }
    if !reached {
        bail!("pc1 cannot ping {RECEIVER_ADDR} through {}", sw.label);
    }

    let (tx0, re0) = read_counters(&tx, "pc1 counters")?;
    let (rx0, _) = read_counters(&rx, "pc2 counters")?;
    let expected_bytes = cfg.size_mib * 1024 * 1024;
    let pids = set.pids();
    let timeout = cfg.transfer_timeout;

    let (sent, received, cpu) = std::thread::scope(|s| -> Result<_> {
        let rx_agent = &rx;
        let script = receiver_script(cfg.tcp_image, PORT);
        let receiver = s.spawn(move || exec(rx_agent, "receiver", &script, timeout));
        let listening = format!("netstat -ltn 2>/dev/null | grep -q ':{PORT} '");
        let start = Instant::now();
        loop {
            match exec(&rx, "netstat", &listening, Duration::from_secs(30)) {
                Ok(o) if o.success() => break,
                Ok(_) => {}
                Err(e) => {
                    stop_receiver(&rx);
                    return Err(e);
                }
            }
            if receiver.is_finished() || start.elapsed() > Duration::from_secs(60) {
                stop_receiver(&rx);
                bail!("the receiver in pc2 never listened on port {PORT}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let before = Snapshot::take(&pids, switch.pid());
        let t0 = Instant::now();
        let sent = exec(
            &tx,
            "sender",
            &sender_script(cfg.tcp_image, RECEIVER_ADDR, PORT, cfg.size_mib),
            timeout,
        );
        let host_secs = t0.elapsed().as_secs_f64();
        let after = Snapshot::take(&pids, switch.pid());
        if sent.is_err() {
            stop_receiver(&rx);
        }
        let received = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the receiver thread panicked"))?;
        Ok((sent.map(|o| (o, host_secs)), received, before.until(&after)))
    })?;
    let (sent, host_secs) = sent?;
    let received = received?;
    let out = sent.stdout_text();
    let (Some(a), Some(b)) = (key_secs(&out, "start"), key_secs(&out, "end")) else {
        bail!("the sender printed no times:\n{out}{}", sent.stderr_text());
    };
    let rtext = received.stdout_text();
    let received_bytes: u64 = key_value(&rtext, "bytes")
        .and_then(|v| v.parse().ok())
        .with_context(|| {
            format!(
                "the receiver printed no byte count:\n{rtext}{}",
                received.stderr_text()
            )
        })?;

    let (tx1, re1) = read_counters(&tx, "pc1 counters")?;
    let (rx1, _) = read_counters(&rx, "pc2 counters")?;
    let (switch_drops, hub) = match sw.drops {
        DropSource::HubCounters => {
            let c = hub_counters(&ctl)?;
            (c.drops(), Some(c))
        }
        DropSource::UmlSwitchLog => {
            let log = fs::read_to_string(switch_log(&switch)).unwrap_or_default();
            (uml_switch_drops(&log), None)
        }
    };
    set.crash()?;
    drop(set);
    if let Some(st) = switch.exit_status() {
        bail!("{} exited during the run ({st})", sw.label);
    }
    let _ = switch.stop();
    Ok(TcpRun {
        repeat,
        expected_bytes,
        received_bytes,
        guest_secs: b - a,
        host_secs,
        switch_drops,
        hub,
        sender: tx1.since(&tx0),
        receiver: rx1.since(&rx0),
        retransmits: match (re0, re1) {
            (Some(x), Some(y)) => Some(y.saturating_sub(x)),
            _ => None,
        },
        cpu,
        boot_secs,
        loadavg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_say_what_they_measure() {
        let s = sender_script(ImageKind::Busybox, "198.51.100.2", 5001, 100);
        assert!(s.contains("dd if=/dev/zero bs=1048576 count=100"), "{s}");
        assert!(s.contains("| nc 198.51.100.2 5001"), "{s}");
        let d = sender_script(ImageKind::Debian, "198.51.100.2", 5001, 100);
        assert!(d.contains("' 198.51.100.2 5001 100\n"), "{d}");
        let r = receiver_script(ImageKind::Debian, 5001);
        assert!(r.contains("n=$(perl -e 'use IO::Socket::INET;"), "{r}");
        assert!(r.contains("echo \"bytes=$n\""), "{r}");
        assert!(
            s.contains("echo \"start=$a\"") && s.contains("echo \"end=$b\""),
            "{s}"
        );
        let r = receiver_script(ImageKind::Busybox, 5001);
        assert!(r.contains("nc -l -p 5001 < $hold | wc -c"), "{r}");
        assert!(r.contains("echo \"bytes=$n\""), "{r}");
        // The sender's output, as the guest prints it, parses back.
        let out = "start=12.50\nend=32.75\nstatus=0\n";
        assert_eq!(key_secs(out, "start"), Some(12.5));
        assert_eq!(key_secs(out, "end"), Some(32.75));
    }

    /// The Debian guests' perl programs, run on this host over loopback: every byte
    /// arrives, counted, and the sender ends only after the receiver closed.
    #[test]
    fn perl_sender_and_receiver_move_and_count_every_byte() {
        use std::process::{Command, Stdio};
        if find_program(Path::new("perl")).is_none() {
            return;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let rx = Command::new("perl")
            .args(["-e", PERL_RECEIVER, &port.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut sent = None;
        for _ in 0..100 {
            let o = Command::new("perl")
                .args(["-e", PERL_SENDER, "127.0.0.1", &port.to_string(), "3"])
                .output()
                .unwrap();
            if o.status.success() {
                sent = Some(o);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(sent.is_some(), "the sender never got through");
        let out = rx.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "3145728\n");
    }

    #[test]
    fn throughput_and_byte_check() {
        let run = TcpRun {
            repeat: 0,
            expected_bytes: 100 << 20,
            received_bytes: 100 << 20,
            guest_secs: 10.0,
            host_secs: 10.4,
            switch_drops: 0,
            hub: None,
            sender: NetDev::default(),
            receiver: NetDev::default(),
            retransmits: Some(0),
            cpu: IntervalCpu::default(),
            boot_secs: 3.0,
            loadavg: "1 1 1".into(),
        };
        assert!(run.bytes_ok());
        assert!((run.mb_per_s() - 10.48576).abs() < 1e-9);
        let short = TcpRun {
            received_bytes: 1000,
            guest_secs: 0.0,
            ..run
        };
        assert!(!short.bytes_ok());
        assert_eq!(short.mb_per_s(), 0.0);
    }

    #[test]
    fn switch_templates_follow_the_mode() {
        let (learning, _) = switches(ForwardMode::Learning);
        let (hub, _) = switches(ForwardMode::Hub);
        for s in &learning {
            assert!(s.template.contains("{ctl}") && !s.template.contains(" -hub "));
        }
        for s in &hub {
            assert!(s.template.contains(" -hub "), "{}", s.template);
        }
        if let Some(b) = learning.iter().find(|s| s.label == FLOWLAB_HUB_BESS) {
            assert_eq!(b.transport, Transport::Bess);
            assert!(b.template.ends_with("--bess {ctl}.bess"), "{}", b.template);
        }
    }
}
