//! Where the CPU went: a UML guest's host processes, a switch, the whole machine.
//!
//! A UML guest is many host processes: the kernel's main process, its helpers, and one
//! stub process per guest address space, all in the session the main process leads. The
//! guest's CPU over an interval is the sum over the members alive at each end of
//! `utime + stime + cutime + cstime` (`/proc/PID/stat` fields 14-17): a stub that exits in
//! between is reaped by its parent, whose `cutime`/`cstime` then carry its time, so the
//! sum does not lose it; a member that appears in between counts from zero.
//!
//! The machine's CPU comes from the first line of `/proc/stat`: busy = all ticks but
//! idle and iowait (steal included: time the hypervisor gave to other VMs). Busy cores
//! minus ours (guests + switch) is what the rest of the machine (other tenants, the bench
//! itself, steal) took in the same interval.

use std::fs;
use std::time::Instant;

use flowlab_guests::uml::process::group_members;

use crate::cpu::clk_tck;

/// utime, stime, cutime, cstime of one process, in clock ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcTimes {
    /// User time.
    pub utime: u64,
    /// System time.
    pub stime: u64,
    /// User time of reaped children.
    pub cutime: u64,
    /// System time of reaped children.
    pub cstime: u64,
}

impl ProcTimes {
    /// Parses `/proc/PID/stat`: fields are counted after the last `)` (the command name
    /// may hold spaces and parentheses); utime is field 14.
    pub fn parse(text: &str) -> Option<ProcTimes> {
        let rest = text.get(text.rfind(')')? + 1..)?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i)?.parse::<u64>().ok();
        Some(ProcTimes {
            utime: num(11)?,
            stime: num(12)?,
            cutime: num(13)?,
            cstime: num(14)?,
        })
    }

    /// Reads `/proc/PID/stat`.
    pub fn read(pid: i32) -> Option<ProcTimes> {
        ProcTimes::parse(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// User ticks, own and reaped children's.
    pub fn user(&self) -> u64 {
        self.utime + self.cutime
    }

    /// System ticks, own and reaped children's.
    pub fn system(&self) -> u64 {
        self.stime + self.cstime
    }
}

/// User and system CPU of a set of processes, in ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ticks {
    /// User ticks.
    pub user: u64,
    /// System ticks.
    pub system: u64,
}

/// CPU used over an interval, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuUse {
    /// User seconds.
    pub user_s: f64,
    /// System seconds.
    pub system_s: f64,
    /// Wall seconds of the interval.
    pub wall_s: f64,
}

impl CpuUse {
    /// From two tick readings `wall_s` apart.
    pub fn between(a: Ticks, b: Ticks, wall_s: f64) -> CpuUse {
        let t = clk_tck() as f64;
        CpuUse {
            user_s: b.user.saturating_sub(a.user) as f64 / t,
            system_s: b.system.saturating_sub(a.system) as f64 / t,
            wall_s,
        }
    }

    /// User + system seconds.
    pub fn total_s(&self) -> f64 {
        self.user_s + self.system_s
    }

    /// Cores kept busy on average: CPU seconds ÷ wall seconds.
    pub fn cores(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.total_s() / self.wall_s
        } else {
            0.0
        }
    }
}

/// The ticks of every live member of the session/process group led by `leader`.
pub fn group_ticks(leader: i32) -> Ticks {
    let mut t = Ticks::default();
    for pid in group_members(leader) {
        if let Some(p) = ProcTimes::read(pid) {
            t.user += p.user();
            t.system += p.system();
        }
    }
    t
}

/// The ticks of one process (and its reaped children).
pub fn process_ticks(pid: i32) -> Ticks {
    ProcTimes::read(pid)
        .map(|p| Ticks {
            user: p.user(),
            system: p.system(),
        })
        .unwrap_or_default()
}

/// Busy and total ticks of the whole machine, from the `cpu` line of `/proc/stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachineTicks {
    /// All ticks but idle and iowait.
    pub busy: u64,
    /// All ticks.
    pub total: u64,
}

impl MachineTicks {
    /// Parses the text of `/proc/stat`.
    pub fn parse(text: &str) -> Option<MachineTicks> {
        let line = text.lines().find(|l| l.starts_with("cpu "))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|w| w.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        if v.len() < 4 {
            return None;
        }
        // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time
        // is already inside user and nice.
        let total: u64 = v.iter().take(8).sum();
        let idle = v[3] + v.get(4).copied().unwrap_or(0);
        Some(MachineTicks {
            busy: total - idle,
            total,
        })
    }

    /// Reads `/proc/stat`.
    pub fn read() -> MachineTicks {
        fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| MachineTicks::parse(&t))
            .unwrap_or_default()
    }
}

/// A reading of everything at one instant: the guests, the switch, the machine.
#[derive(Clone, Debug)]
pub struct Snapshot {
    at: Instant,
    guests: Vec<Ticks>,
    switch: Ticks,
    machine: MachineTicks,
}

/// CPU over an interval: per guest, the switch, the machine's busy cores.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntervalCpu {
    /// Per guest (in the order given).
    pub guests: Vec<CpuUse>,
    /// The switch process.
    pub switch: CpuUse,
    /// Busy cores of the whole machine.
    pub machine_cores: f64,
    /// Wall seconds.
    pub wall_s: f64,
}

impl Snapshot {
    /// Reads the groups led by `guests` and process `switch` now.
    pub fn take(guests: &[i32], switch: i32) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            guests: guests.iter().map(|&g| group_ticks(g)).collect(),
            switch: process_ticks(switch),
            machine: MachineTicks::read(),
        }
    }

    /// What was used from `self` to `later`.
    pub fn until(&self, later: &Snapshot) -> IntervalCpu {
        let wall_s = later.at.duration_since(self.at).as_secs_f64();
        let busy = later.machine.busy.saturating_sub(self.machine.busy) as f64;
        IntervalCpu {
            guests: self
                .guests
                .iter()
                .zip(&later.guests)
                .map(|(&a, &b)| CpuUse::between(a, b, wall_s))
                .collect(),
            switch: CpuUse::between(self.switch, later.switch, wall_s),
            machine_cores: if wall_s > 0.0 {
                busy / clk_tck() as f64 / wall_s
            } else {
                0.0
            },
            wall_s,
        }
    }
}

impl IntervalCpu {
    /// Busy cores not accounted for by the guests and the switch.
    pub fn other_cores(&self) -> f64 {
        let ours: f64 = self.guests.iter().map(CpuUse::cores).sum::<f64>() + self.switch.cores();
        (self.machine_cores - ours).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_of_a_process() {
        let line = "4242 (linux.uml (x)) S 1 4242 4242 0 -1 4194560 120 0 0 0 37 12 5 7 20 0 1 \
                    0 5000 2420736 180";
        assert_eq!(
            ProcTimes::parse(line),
            Some(ProcTimes {
                utime: 37,
                stime: 12,
                cutime: 5,
                cstime: 7
            })
        );
        let p = ProcTimes::parse(line).unwrap();
        assert_eq!((p.user(), p.system()), (42, 19));
        assert_eq!(ProcTimes::parse("1 (x) S 1 2 3"), None);
        assert_eq!(ProcTimes::parse("no parens"), None);
    }

    #[test]
    fn parses_the_machine_line() {
        let text = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\nintr 1\n";
        let m = MachineTicks::parse(text).unwrap();
        assert_eq!(m.total, 100 + 5 + 50 + 1000 + 20 + 3 + 2);
        assert_eq!(m.busy, 100 + 5 + 50 + 3 + 2);
        assert_eq!(MachineTicks::parse("cpu0 1 2 3 4\n"), None);
        assert_eq!(MachineTicks::parse("cpu  1 x 3 4\n"), None);
    }

    #[test]
    fn cpu_use_and_other_cores() {
        let tck = clk_tck();
        let a = Ticks { user: 0, system: 0 };
        let b = Ticks {
            user: tck,
            system: 2 * tck,
        };
        let u = CpuUse::between(a, b, 2.0);
        assert_eq!((u.user_s, u.system_s), (1.0, 2.0));
        assert!((u.cores() - 1.5).abs() < 1e-9);
        let iv = IntervalCpu {
            guests: vec![u, CpuUse::default()],
            switch: CpuUse {
                user_s: 0.0,
                system_s: 0.5,
                wall_s: 2.0,
            },
            machine_cores: 2.0,
            wall_s: 2.0,
        };
        assert!((iv.other_cores() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn reads_this_process_and_the_machine() {
        let me = std::process::id() as i32;
        assert!(ProcTimes::read(me).is_some());
        let m = MachineTicks::read();
        assert!(m.total > 0 && m.busy <= m.total);
    }
}
