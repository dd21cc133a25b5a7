//! A description of the machine a run happened on.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::json::{obj, Json};

/// Machine facts recorded with every report.
#[derive(Clone, Debug)]
pub struct MachineInfo {
    /// CPUs available to the bench.
    pub nproc: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Kernel release and version.
    pub kernel: String,
    /// /proc/loadavg when collected.
    pub loadavg: String,
    /// MemTotal.
    pub mem: String,
    /// net.unix.max_dgram_qlen.
    pub max_dgram_qlen: String,
    /// Date and time, UTC.
    pub date_utc: String,
}

fn read_trim(path: &str) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The current load average ("1 5 15" minutes).
pub fn loadavg() -> String {
    read_trim("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Collects the facts now.
pub fn collect() -> MachineInfo {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "?".into());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .map(|l| l[9..].trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    MachineInfo {
        nproc: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model,
        kernel: format!(
            "Linux {} {}",
            read_trim("/proc/sys/kernel/osrelease"),
            read_trim("/proc/sys/kernel/version")
        ),
        loadavg: loadavg(),
        mem,
        max_dgram_qlen: read_trim("/proc/sys/net/unix/max_dgram_qlen"),
        date_utc: utc_date(secs),
    }
}

impl MachineInfo {
    /// As JSON.
    pub fn to_json(&self) -> Json {
        obj([
            ("nproc", self.nproc.into()),
            ("cpu_model", self.cpu_model.clone().into()),
            ("kernel", self.kernel.clone().into()),
            ("loadavg_start", self.loadavg.clone().into()),
            ("mem_total", self.mem.clone().into()),
            ("max_dgram_qlen", self.max_dgram_qlen.clone().into()),
            ("date_utc", self.date_utc.clone().into()),
        ])
    }
}

/// Days since 1970-01-01 to a (year, month, day) civil date (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a "year".
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..365, from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch.
pub fn utc_date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_709_251_199), "2024-02-29 23:59:59 UTC");
        assert_eq!(utc_date(4_102_444_800), "2100-01-01 00:00:00 UTC");
        assert_eq!(utc_date(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn collects_something() {
        let m = collect();
        assert!(m.nproc >= 1);
        assert!(m.kernel.starts_with("Linux"));
    }
}
