//! CPU time of the switch process, from `/proc/PID/stat` (utime + stime, all threads, in
//! clock ticks) and, as a finer cross-check, `/proc/PID/task/*/schedstat` (run time in ns).

use std::fs;
use std::io;

/// utime and stime of a process, in clock ticks (`sysconf(_SC_CLK_TCK)` per second).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTimes {
    /// User time, ticks.
    pub utime: u64,
    /// System time, ticks.
    pub stime: u64,
}

impl CpuTimes {
    /// utime + stime in ticks.
    pub fn ticks(&self) -> u64 {
        self.utime + self.stime
    }
}

/// Parses the text of `/proc/PID/stat`. The command name (field 2) is in parentheses and
/// may contain spaces and parentheses, so fields are counted after the *last* `)`: there
/// field 3 (state) comes first, utime is field 14 and stime field 15.
pub fn parse_stat(text: &str) -> Option<CpuTimes> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime = fields.get(11)?.parse().ok()?;
    let stime = fields.get(12)?.parse().ok()?;
    Some(CpuTimes { utime, stime })
}

/// Reads utime + stime of process `pid`.
pub fn read_stat(pid: i32) -> io::Result<CpuTimes> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad /proc/PID/stat"))
}

/// Clock ticks per second.
pub fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Sum of the first field of `/proc/PID/task/*/schedstat` (ns on CPU) over the live
/// threads; `None` when unavailable. Threads that exited are not counted.
pub fn schedstat_ns(pid: i32) -> Option<u64> {
    let mut total = 0u64;
    for entry in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let text = fs::read_to_string(path).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// One reading of a process's CPU counters.
#[derive(Clone, Copy, Debug)]
pub struct CpuSample {
    stat: CpuTimes,
    sched_ns: Option<u64>,
}

/// CPU used between two samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuDelta {
    /// utime + stime difference, µs (resolution one clock tick, usually 10 ms).
    pub stat_us: f64,
    /// schedstat run-time difference, µs, when available.
    pub sched_us: Option<f64>,
}

/// Samples process `pid`.
pub fn sample(pid: i32) -> io::Result<CpuSample> {
    Ok(CpuSample {
        stat: read_stat(pid)?,
        sched_ns: schedstat_ns(pid),
    })
}

impl CpuSample {
    /// CPU used from `earlier` to `self`.
    pub fn since(&self, earlier: &CpuSample) -> CpuDelta {
        let ticks = self.stat.ticks().saturating_sub(earlier.stat.ticks());
        let stat_us = ticks as f64 * 1e6 / clk_tck() as f64;
        let sched_us = match (self.sched_ns, earlier.sched_ns) {
            (Some(a), Some(b)) => Some(a.saturating_sub(b) as f64 / 1e3),
            _ => None,
        };
        CpuDelta { stat_us, sched_us }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line = "4242 (uml_switch) S 1 4242 4242 0 -1 4194560 120 0 0 0 37 12 0 0 20 0 1 0 \
                    5000 2420736 180 18446744073709551615 1 1 0 0 0 0 0 4096 16385 0 0 0 17 1 0 \
                    0 0 0 0";
        assert_eq!(
            parse_stat(line),
            Some(CpuTimes {
                utime: 37,
                stime: 12
            })
        );
        let odd = "77 (a) b (c) S 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1";
        assert_eq!(parse_stat(odd), Some(CpuTimes { utime: 5, stime: 6 }));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn reads_own_process() {
        let pid = std::process::id() as i32;
        let a = sample(pid).unwrap();
        let mut x = 0u64;
        for i in 0..3_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = sample(pid).unwrap();
        let d = b.since(&a);
        assert!(d.stat_us >= 0.0);
        assert!(read_stat(pid).unwrap().ticks() >= a.stat.ticks());
        assert!(clk_tck() > 0);
    }
}
