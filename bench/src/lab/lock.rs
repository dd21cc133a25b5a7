//! The machine-wide UML guest lock shared with the test suite (`tests/src/guests.rs`
//! `lab_lock`): an exclusive `flock` on [`LOCK_FILE`], held while the bench's guests run,
//! so that a test run and a benchmark never boot guests on the same CPUs at once.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The lock file (shared on purpose and never removed).
pub const LOCK_FILE: &str = "/tmp/flowlab-tests-uml-guests.lock";

/// The held lock; dropping it (closing the file) releases it.
#[derive(Debug)]
pub struct GuestLock {
    _file: File,
}

impl GuestLock {
    /// Waits up to `timeout` for the lock, saying on stderr once that it waits.
    pub fn take(timeout: Duration) -> Result<GuestLock> {
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(LOCK_FILE)
            .with_context(|| format!("opening {LOCK_FILE}"))?;
        let start = Instant::now();
        let mut said = false;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                if said {
                    eprintln!(
                        "== got {LOCK_FILE} after {:.0} s",
                        start.elapsed().as_secs_f64()
                    );
                }
                return Ok(GuestLock { _file: file });
            }
            if start.elapsed() >= timeout {
                bail!("{LOCK_FILE} stayed locked for {timeout:?} (a test run using UML guests?)");
            }
            if !said {
                eprintln!("== waiting for {LOCK_FILE} (UML guests of another run)");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
