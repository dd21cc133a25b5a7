//! Running one measurement: connect the emulated switches, let the controller shake hands,
//! teach it the destination hosts, then load it for `warmup + seconds` one-second
//! intervals while a sampler snapshots the counters and the controller's CPU time.
//!
//! Worker threads (`threads`, one by default, like cbench) each run a level-triggered
//! epoll loop over their share of the switches' non-blocking sockets. The phase (handshake,
//! learn, load, stop) is one shared atomic the workers poll between waits.
//!
//! * Throughput mode: a switch's socket stays registered for writability during the load;
//!   whenever it is writable and the switch's output buffer is drained, the switch
//!   appends `batch_bytes` of packet_ins and writes them. The kernel's socket buffers are
//!   the only window, as in cbench.
//! * Latency mode: each switch has one packet_in in flight; the next is written as soon as
//!   the answer arrives (or after `latency_timeout`, counted as a timeout).
//!
//! Reads drain up to 256 KiB per wake-up; messages are framed in place with
//! `flowlab_openflow::frame_len` and counted from their header, so the hot path neither
//! copies nor allocates.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::fake_switch::{FakeSwitch, SwitchSetup, SwitchState};
use super::intervals::{intervals, summarize, Interval, SharedTally, Snapshot, Summary, Tally};
use super::poller::{Endpoint, Epoll, Stream, HUP, IN, OUT};
use crate::cpu;

/// How packet_ins are paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One packet_in in flight per switch.
    Latency,
    /// Sockets kept full.
    Throughput,
}

impl Mode {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Latency => "latency",
            Mode::Throughput => "throughput",
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// The controller.
    pub endpoint: Endpoint,
    /// Emulated switches.
    pub switches: u16,
    /// OpenFlow 1.3 instead of 1.0.
    pub of13: bool,
    /// Ports per switch.
    pub ports: u16,
    /// Source MACs per switch.
    pub macs: u32,
    /// Destination MACs per switch.
    pub dst_macs: u16,
    /// Answer only what cbench answers.
    pub cbench_replies: bool,
    /// Pacing.
    pub mode: Mode,
    /// Measured one-second intervals.
    pub seconds: u32,
    /// Warm-up intervals (dropped).
    pub warmup: u32,
    /// Worker threads.
    pub threads: usize,
    /// Datapath id of switch 0 (the others follow).
    pub dpid_base: u64,
    /// Bytes of packet_ins appended at once in throughput mode.
    pub batch_bytes: usize,
    /// Latency mode: give up on an answer after this long.
    pub latency_timeout: Duration,
    /// How long the controller may take to send every switch a features request.
    pub handshake_timeout: Duration,
}

/// Whose CPU time to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuSource {
    /// A process (all threads): `/proc/PID/stat`.
    Process(i32),
    /// One thread of this process: `/proc/self/task/TID/stat`.
    Thread(i32),
}

impl CpuSource {
    /// utime + stime so far, µs.
    pub fn read_us(self) -> Option<f64> {
        let ticks = match self {
            CpuSource::Process(pid) => cpu::read_stat(pid).ok()?.ticks(),
            CpuSource::Thread(tid) => {
                let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
                cpu::parse_stat(&text)?.ticks()
            }
        };
        Some(ticks as f64 * 1e6 / cpu::clk_tck() as f64)
    }
}

/// Waits until `src` uses less than 5 % of a core over a quarter of a second, or `max`
/// has passed; returns how long that took. A controller still works through the
/// packet_ins queued in its socket buffers after the switches have gone; the next
/// measurement on this shared machine should not pay for it.
pub fn wait_idle(src: CpuSource, max: Duration) -> Duration {
    let start = Instant::now();
    let window = Duration::from_millis(250);
    while start.elapsed() < max {
        let Some(a) = src.read_us() else { break };
        thread::sleep(window);
        let Some(b) = src.read_us() else { break };
        if b - a < 0.05 * window.as_secs_f64() * 1e6 {
            break;
        }
    }
    start.elapsed()
}

/// CPU used during the measured intervals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuUse {
    /// µs of CPU.
    pub us: f64,
    /// Wall-clock seconds.
    pub secs: f64,
}

impl CpuUse {
    /// Cores busy on average.
    pub fn cores(&self) -> f64 {
        self.us / 1e6 / self.secs
    }
}

/// The outcome of one measurement.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Every one-second interval, warm-up included.
    pub intervals: Vec<Interval>,
    /// Figures over the measured intervals.
    pub summary: Summary,
    /// The controller's CPU in the measured intervals, if known.
    pub controller_cpu: Option<CpuUse>,
    /// This process's CPU in the measured intervals, less the controller's when the
    /// controller is a thread of it (self-test).
    pub harness_cpu: Option<CpuUse>,
    /// Time from connecting to every switch being ready, ms.
    pub handshake_ms: f64,
    /// Answers to the learn-phase packet_ins.
    pub learn_answers: u64,
    /// Per switch: failure or OFPT_ERROR text, for switches that had one.
    pub problems: Vec<String>,
}

impl RunResult {
    /// Controller CPU per flow setup in the measured intervals, µs.
    pub fn cpu_per_setup_us(&self) -> Option<f64> {
        let c = self.controller_cpu?;
        (self.summary.total.flow_mods > 0).then(|| c.us / self.summary.total.flow_mods as f64)
    }
}

const HANDSHAKE: u8 = 0;
const LEARN: u8 = 1;
const LOAD: u8 = 2;
const STOP: u8 = 3;

#[derive(Debug)]
struct Shared {
    phase: AtomicU8,
    tallies: Vec<SharedTally>,
    ready: AtomicUsize,
    failed: AtomicUsize,
}

struct Conn {
    sw: FakeSwitch,
    stream: Option<Stream>,
    inbuf: Vec<u8>,
    in_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    interest: u32,
    counted_ready: bool,
    counted_failed: bool,
}

const INBUF: usize = 256 * 1024;

impl Conn {
    fn fail(&mut self, ep: &Epoll, why: String) {
        self.sw.fail(why);
        if let Some(s) = self.stream.take() {
            let _ = ep.delete(s.as_raw_fd());
        }
    }

    /// Reads what is there; returns whether a round trip completed.
    fn read(&mut self, ep: &Epoll) -> bool {
        let mut completed = false;
        for _ in 0..4 {
            let Some(stream) = self.stream.as_mut() else {
                return completed;
            };
            let n = match stream.read(&mut self.inbuf[self.in_len..]) {
                Ok(0) => {
                    self.fail(ep, "connection closed by the controller".into());
                    return completed;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return completed,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.fail(ep, format!("read: {e}"));
                    return completed;
                }
            };
            self.in_len += n;
            let now = Instant::now();
            let mut pos = 0;
            while let Some(len) = flowlab_openflow::frame_len(&self.inbuf[pos..self.in_len]) {
                let Ok(len) = len else {
                    self.fail(ep, "bad OpenFlow length from the controller".into());
                    return completed;
                };
                if pos + len > self.in_len {
                    break;
                }
                completed |= self
                    .sw
                    .handle(&self.inbuf[pos..pos + len], now, &mut self.out);
                pos += len;
            }
            self.inbuf.copy_within(pos..self.in_len, 0);
            self.in_len -= pos;
            if self.in_len < self.inbuf.len() / 2 && n < self.inbuf.len() / 2 {
                // Less than half a buffer came: the socket is likely drained.
                return completed;
            }
        }
        completed
    }

    /// Writes pending output; in throughput mode with `generate`, refills the buffer with
    /// packet_ins while the socket takes them (a few rounds at most).
    fn write(&mut self, ep: &Epoll, generate: Option<usize>) {
        for _ in 0..4 {
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
                match generate {
                    Some(bytes) => self.sw.push_batch(&mut self.out, bytes),
                    None => return,
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                return;
            };
            match stream.write(&self.out[self.out_pos..]) {
                Ok(n) => {
                    self.out_pos += n;
                    if self.out_pos < self.out.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(ep, format!("write: {e}"));
                    return;
                }
            }
        }
        if self.out_pos > 0 && self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        } else if self.out_pos > 1 << 20 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    fn set_interest(&mut self, ep: &Epoll, token: u64, want_out: bool) {
        let want = if want_out || self.out_pos < self.out.len() {
            IN | OUT
        } else {
            IN
        };
        if want == self.interest {
            return;
        }
        if let Some(s) = &self.stream {
            match ep.modify(s.as_raw_fd(), want, token) {
                Ok(()) => self.interest = want,
                Err(e) => self.fail(ep, format!("epoll: {e}")),
            }
        }
    }
}

fn worker(shared: Arc<Shared>, mut conns: Vec<(usize, Conn)>, spec: LoadSpec) -> Vec<String> {
    let mut ep = match Epoll::new() {
        Ok(ep) => ep,
        Err(e) => {
            return vec![format!("epoll: {e}")];
        }
    };
    for (token, (_, c)) in conns.iter_mut().enumerate() {
        if let Some(s) = &c.stream {
            if let Err(e) = s
                .set_nonblocking()
                .and_then(|()| ep.add(s.as_raw_fd(), IN, token as u64))
            {
                c.fail(&ep, format!("setup: {e}"));
            }
        }
        c.interest = IN;
        c.write(&ep, None);
        c.set_interest(&ep, token as u64, false);
    }
    let mut phase = HANDSHAKE;
    let throughput = spec.mode == Mode::Throughput;
    loop {
        let now_phase = shared.phase.load(Ordering::Acquire);
        if now_phase != phase {
            phase = now_phase;
            if phase == STOP {
                break;
            }
            let now = Instant::now();
            for (token, (_, c)) in conns.iter_mut().enumerate() {
                if c.stream.is_none() || c.sw.state() != &SwitchState::Ready {
                    continue;
                }
                match phase {
                    LEARN => c.sw.push_learn(&mut c.out),
                    LOAD if !throughput => c.sw.push_packet_in(&mut c.out, Some(now)),
                    _ => {}
                }
                c.write(&ep, None);
                c.set_interest(&ep, token as u64, phase == LOAD && throughput);
            }
        }
        let generating = phase == LOAD && throughput;
        let timeout = if phase == LOAD && !throughput { 2 } else { 20 };
        let events = match ep.wait(timeout) {
            Ok(ev) => ev,
            Err(e) => return vec![format!("epoll_wait: {e}")],
        };
        for (token, ev) in events {
            let Some((_, c)) = conns.get_mut(token as usize) else {
                continue;
            };
            let mut completed = false;
            if ev & (IN | HUP) != 0 {
                completed = c.read(&ep);
            }
            if completed && phase == LOAD && c.sw.state() == &SwitchState::Ready {
                c.sw.push_packet_in(&mut c.out, Some(Instant::now()));
            }
            let gen = (generating && ev & OUT != 0 && c.sw.state() == &SwitchState::Ready)
                .then_some(spec.batch_bytes);
            c.write(&ep, gen);
            c.set_interest(&ep, token, generating);
        }
        if phase == LOAD && !throughput {
            let now = Instant::now();
            for (token, (_, c)) in conns.iter_mut().enumerate() {
                if c.stream.is_some() && c.sw.expire(now, spec.latency_timeout) {
                    c.sw.push_packet_in(&mut c.out, Some(now));
                    c.write(&ep, None);
                    c.set_interest(&ep, token as u64, false);
                }
            }
        }
        for (idx, c) in conns.iter_mut() {
            shared.tallies[*idx].flush(&mut c.sw.tally);
            if !c.counted_ready && c.sw.state() == &SwitchState::Ready {
                c.counted_ready = true;
                shared.ready.fetch_add(1, Ordering::AcqRel);
            }
            if !c.counted_failed && matches!(c.sw.state(), SwitchState::Failed(_)) {
                c.counted_failed = true;
                shared.failed.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
    let mut problems = Vec::new();
    for (idx, c) in &conns {
        let mut p = Vec::new();
        if let SwitchState::Failed(why) = c.sw.state() {
            p.push(why.clone());
        }
        if let Some(e) = c.sw.first_error() {
            p.push(format!("OFPT_ERROR from the controller: {e}"));
        }
        if !p.is_empty() {
            problems.push(format!("switch {idx}: {}", p.join("; ")));
        }
    }
    problems
}

fn snapshot(shared: &Shared, t0: Instant) -> Snapshot {
    Snapshot {
        at: t0.elapsed().as_secs_f64(),
        switches: shared.tallies.iter().map(SharedTally::load).collect(),
    }
}

fn sum(snap: &Snapshot) -> Tally {
    let mut t = Tally::default();
    for s in &snap.switches {
        t.add(s);
    }
    t
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

/// Runs one measurement against `spec.endpoint`; `controller` says whose CPU to charge.
/// `harness_less` is subtracted from this process's CPU (the self-test responder thread).
pub fn run(
    spec: &LoadSpec,
    controller: Option<CpuSource>,
    harness_less: Option<CpuSource>,
) -> Result<RunResult> {
    if spec.switches == 0 || spec.threads == 0 {
        bail!("need at least one switch and one thread");
    }
    let n = usize::from(spec.switches);
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(HANDSHAKE),
        tallies: (0..n).map(|_| SharedTally::default()).collect(),
        ready: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let threads = spec.threads.min(n);
    let mut shares: Vec<Vec<(usize, Conn)>> = (0..threads).map(|_| Vec::new()).collect();
    for i in 0..n {
        let stream = spec
            .endpoint
            .connect()
            .with_context(|| format!("switch {i}: connecting to {}", spec.endpoint))?;
        let setup = SwitchSetup {
            index: i as u16,
            dpid: spec.dpid_base + i as u64,
            of13: spec.of13,
            ports: spec.ports,
            macs: spec.macs,
            dst_macs: spec.dst_macs,
            cbench_replies: spec.cbench_replies,
        };
        // HELLO goes out at once: a controller may give up on a connection that stays
        // silent while the other switches connect (ovs-testcontroller does, after 1-2 s).
        let mut sw = FakeSwitch::new(setup);
        let mut hello = Vec::new();
        sw.hello(&mut hello);
        let mut stream = stream;
        stream
            .write_all(&hello)
            .with_context(|| format!("switch {i}: sending HELLO"))?;
        shares[i % threads].push((
            i,
            Conn {
                sw,
                stream: Some(stream),
                inbuf: vec![0; INBUF],
                in_len: 0,
                out: Vec::new(),
                out_pos: 0,
                interest: 0,
                counted_ready: false,
                counted_failed: false,
            },
        ));
    }
    let handles: Vec<_> = shares
        .into_iter()
        .enumerate()
        .map(|(t, conns)| {
            let shared = Arc::clone(&shared);
            let spec = spec.clone();
            thread::Builder::new()
                .name(format!("fakeswitch-{t}"))
                .spawn(move || worker(shared, conns, spec))
        })
        .collect::<io::Result<_>>()
        .context("starting worker threads")?;
    let stop = |shared: &Shared, handles: Vec<thread::JoinHandle<Vec<String>>>| -> Vec<String> {
        shared.phase.store(STOP, Ordering::Release);
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a worker panicked".into()])
            })
            .collect()
    };

    // Handshake: every switch answered a features request (or failed).
    let deadline = started + spec.handshake_timeout;
    loop {
        let ready = shared.ready.load(Ordering::Acquire);
        let failed = shared.failed.load(Ordering::Acquire);
        if ready + failed >= n {
            if failed > 0 {
                let problems = stop(&shared, handles);
                bail!(
                    "{failed} of {n} switches failed the handshake: {}",
                    problems.join(" | ")
                );
            }
            break;
        }
        if Instant::now() > deadline {
            let problems = stop(&shared, handles);
            bail!(
                "only {ready} of {n} switches got a features request within {:?}{}",
                spec.handshake_timeout,
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(": {}", problems.join(" | "))
                }
            );
        }
        thread::sleep(Duration::from_millis(5));
    }
    let handshake_ms = started.elapsed().as_secs_f64() * 1e3;
    // Let the rest of the controller's handshake (set_config, barriers, flow deletes) pass.
    thread::sleep(Duration::from_millis(200));

    // Learn phase: one broadcast from each destination host.
    let before_learn = sum(&snapshot(&shared, started));
    shared.phase.store(LEARN, Ordering::Release);
    let want = n as u64 * u64::from(spec.dst_macs.max(1));
    let learn_deadline = Instant::now() + Duration::from_secs(2);
    let mut learn_answers;
    loop {
        learn_answers = sum(&snapshot(&shared, started))
            .since(&before_learn)
            .responses();
        if learn_answers >= want || Instant::now() > learn_deadline {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(50));

    // Load.
    let total = spec.warmup + spec.seconds;
    let t0 = Instant::now();
    shared.phase.store(LOAD, Ordering::Release);
    let mut snaps = vec![snapshot(&shared, t0)];
    let me = CpuSource::Process(std::process::id() as i32);
    let read_cpu = || {
        (
            controller.and_then(CpuSource::read_us),
            me.read_us(),
            harness_less.and_then(CpuSource::read_us),
        )
    };
    let mut cpu_start = read_cpu();
    let mut cpu_start_at = Instant::now();
    for k in 1..=total {
        sleep_until(t0 + Duration::from_secs(u64::from(k)));
        snaps.push(snapshot(&shared, t0));
        if k == spec.warmup {
            cpu_start = read_cpu();
            cpu_start_at = Instant::now();
        }
    }
    let cpu_end = read_cpu();
    let cpu_secs = cpu_start_at.elapsed().as_secs_f64();
    let problems = stop(&shared, handles);

    let all = intervals(&snaps);
    let summary = summarize(&all, spec.warmup as usize);
    let controller_cpu = match (cpu_start.0, cpu_end.0) {
        (Some(a), Some(b)) => Some(CpuUse {
            us: b - a,
            secs: cpu_secs,
        }),
        _ => None,
    };
    let harness_cpu = match (cpu_start.1, cpu_end.1) {
        (Some(a), Some(b)) => {
            let less = match (cpu_start.2, cpu_end.2) {
                (Some(x), Some(y)) => y - x,
                _ => 0.0,
            };
            Some(CpuUse {
                us: (b - a - less).max(0.0),
                secs: cpu_secs,
            })
        }
        _ => None,
    };
    Ok(RunResult {
        intervals: all,
        summary,
        controller_cpu,
        harness_cpu,
        handshake_ms,
        learn_answers,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicI32};

    fn thread_with(busy: bool) -> (Arc<AtomicBool>, i32, thread::JoinHandle<()>) {
        let stop = Arc::new(AtomicBool::new(false));
        let tid = Arc::new(AtomicI32::new(0));
        let (s, t) = (Arc::clone(&stop), Arc::clone(&tid));
        let h = thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            t.store(unsafe { libc::gettid() }, Ordering::Release);
            let mut x = 0u64;
            while !s.load(Ordering::Acquire) {
                if busy {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
                } else {
                    thread::sleep(Duration::from_millis(5));
                }
            }
        });
        while tid.load(Ordering::Acquire) == 0 {
            thread::yield_now();
        }
        let id = tid.load(Ordering::Acquire);
        (stop, id, h)
    }

    #[test]
    fn waits_for_a_busy_thread_but_not_an_idle_one() {
        let (stop, tid, h) = thread_with(false);
        let waited = wait_idle(CpuSource::Thread(tid), Duration::from_secs(5));
        assert!(waited < Duration::from_secs(2), "{waited:?}");
        stop.store(true, Ordering::Release);
        h.join().unwrap();

        let (stop, tid, h) = thread_with(true);
        let before = CpuSource::Thread(tid).read_us().unwrap();
        let waited = wait_idle(CpuSource::Thread(tid), Duration::from_millis(800));
        assert!(waited >= Duration::from_millis(800), "{waited:?}");
        assert!(CpuSource::Thread(tid).read_us().unwrap() > before);
        stop.store(true, Ordering::Release);
        h.join().unwrap();
        // A thread that is gone reads as nothing, and waiting on it ends at once.
        assert_eq!(CpuSource::Thread(tid).read_us(), None);
        assert!(wait_idle(CpuSource::Thread(tid), Duration::from_secs(5)) < Duration::from_secs(1));
    }
}
