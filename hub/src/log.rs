//! The switch's messages: uml_switch's wording on stdout, one line at a time.
//!
//! Netkit pipes a hub's stdout through `awk` into a log file, so every line is written
//! whole and flushed, and a closed stdout never stops the switch (write errors are
//! ignored). Messages that a guest can trigger per frame (a runt, an unknown sender, a
//! learning event under a MAC flood) go through [`Log::rate_limited`]: at most
//! [`LINES_PER_SECOND`] a second, then one line saying how many were suppressed.

use std::io::Write;
use std::time::{Duration, Instant};

/// Rate-limited lines allowed per second.
pub const LINES_PER_SECOND: u32 = 20;

/// The switch's log.
#[derive(Debug)]
pub struct Log {
    events: bool,
    window: Instant,
    count: u32,
    suppressed: u64,
}

impl Log {
    /// A log; `events` enables per-address learning lines.
    pub fn new(events: bool) -> Self {
        Log {
            events,
            window: Instant::now(),
            count: 0,
            suppressed: 0,
        }
    }

    /// One line on stdout.
    pub fn line(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// One line on stderr.
    pub fn error(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// A learning event line (unless `--quiet`), rate-limited.
    pub fn event(&mut self, text: &str) {
        if self.events {
            self.rate_limited(text);
        }
    }

    /// A line that untrusted traffic can trigger: at most [`LINES_PER_SECOND`] a second.
    pub fn rate_limited(&mut self, text: &str) {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.flush_suppressed();
            self.window = Instant::now();
            self.count = 0;
        }
        if self.count < LINES_PER_SECOND {
            self.count += 1;
            self.line(text);
        } else {
            self.suppressed += 1;
        }
    }

    /// Reports how many rate-limited lines were dropped, if any.
    pub fn flush_suppressed(&mut self) {
        if self.suppressed > 0 {
            let n = std::mem::take(&mut self.suppressed);
            self.line(&format!("({n} similar messages suppressed)"));
        }
    }
}
