//! The exec agent, host side: run a command in a guest and get its stdout, stderr and
//! exit status.
//!
//! # Why a spool directory
//!
//! The guest must be reachable by any later `flowlab exec`, long after the process that
//! booted it has exited, and with several commands in flight. The candidates UML offers:
//!
//! * an extra serial line (`ssl1=pts`/`port:`) with an agent on `/dev/ttyS1`: one byte
//!   stream, so framing, binary output, terminal modes and one-client-at-a-time locking
//!   all become our problem; a crashed client leaves the line in an unknown state;
//! * `fd:`/pipe channels: owned by the booting process, gone when it exits;
//! * the shared lab folder (hostfs), which every guest mounts anyway.
//!
//! The agent uses a **spool directory** on the host, mounted in the guest over hostfs
//! (`flowlab_agent=DIR` → `/run/flowlab/agent`). Files are the framing; a rename is the
//! only synchronisation; any number of host processes can submit requests concurrently.
//! hostfs writes through to the host at once (`write_end` writes the host file), and a
//! request id is never looked up before it exists, so the guest's dentry cache cannot
//! hide a new request.
//!
//! # Protocol (v1)
//!
//! For a request `ID` (unique per host process, call and time):
//!
//! 1. host: writes `.ID.tmp`, renames it to `ID.cmd`. Its first line is
//!    `#flowlab-exec v1 timeout=SECS` (a comment to `sh`), the rest is the script.
//! 2. guest (a loop in `/sbin/flowlab-init agent`, polling every 0.1 s with a builtin
//!    `read -t` on a fifo: no fork per poll, ~1 % of one core per idle guest): claims the
//!    request by renaming `ID.cmd` to `ID.run`, then runs `setsid sh ID.run` with cwd
//!    `/root`, stdin `/dev/null`, stdout to `ID.out`, stderr to `ID.err`.
//! 3. guest: a watchdog kills the command's session after SECS and writes `ID.timeout`.
//! 4. guest: writes the exit status (`$?`: 128+N after signal N) to `ID.st` and renames it
//!    to `ID.status`. The status file appearing means every other file is complete.
//! 5. host: reads the files, removes `ID.*`.
//!
//! The host waits [`Agent::pickup_timeout`] for the claim (else the guest is not running
//! or has no agent: [`AgentError::NotPickedUp`], and the request is withdrawn), then the
//! command's timeout plus [`Agent::grace`] for the status ([`AgentError::NoAnswer`]).
//! Files of an abandoned request (the host gave up, the guest finished later) are swept
//! by the next request once they are a minute old.
//!
//! Limits: no stdin, no terminal, output is buffered in files (not streamed).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use thiserror::Error;

/// The first-line tag of a request file.
pub const REQUEST_TAG: &str = "#flowlab-exec v1 timeout=";

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The shell's exit status: the command's exit code, or 128+N after signal N.
    pub status: i32,
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// The guest killed the command when its timeout passed.
    pub timed_out: bool,
}

impl ExecOutput {
    /// Exit status 0 and no timeout.
    pub fn success(&self) -> bool {
        self.status == 0 && !self.timed_out
    }

    /// stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (lossy).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// An exec that did not produce a result.
#[derive(Debug, Error)]
pub enum AgentError {
    /// A spool file could not be written or read.
    #[error("exec agent spool {path}: {source}")]
    Io {
        /// The file or dir.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Nobody claimed the request: the guest is not running, not booted yet, or was
    /// started without an agent dir.
    #[error("no exec agent answered in {dir} within {waited:?} (is the guest running?)")]
    NotPickedUp {
        /// The spool dir.
        dir: PathBuf,
        /// How long the host waited.
        waited: Duration,
    },
    /// The guest claimed the request but wrote no status in time (the guest hung or
    /// went down while running it).
    #[error("exec request {id} claimed but not answered within {waited:?}")]
    NoAnswer {
        /// The request id.
        id: String,
        /// How long the host waited after the claim.
        waited: Duration,
    },
    /// The status file does not hold a number.
    #[error("exec request {id}: bad status {text:?}")]
    BadStatus {
        /// The request id.
        id: String,
        /// What the file held.
        text: String,
    },
}

/// Quotes `s` for a POSIX shell: bare when it has only safe characters, else in single
/// quotes with each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Joins an argv into one shell command line that runs exactly that argv.
pub fn shell_join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| shell_quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of a request file: the tag line, then the script.
pub fn encode_request(script: &str, timeout: Duration) -> String {
    let secs = timeout.as_secs_f64().ceil().max(1.0) as u64;
    let mut s = format!("{REQUEST_TAG}{secs}\n{script}");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The exit status written by the guest (`"0\n"`).
pub fn parse_status(text: &str) -> Option<i32> {
    text.trim().parse().ok()
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

fn request_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The host side of one guest's exec agent: its spool dir.
#[derive(Debug, Clone)]
pub struct Agent {
    dir: PathBuf,
    /// How long to wait for the guest to claim a request.
    pub pickup_timeout: Duration,
    /// How long after the command's own timeout to wait for its status.
    pub grace: Duration,
}

impl Agent {
    /// The agent whose spool dir is `dir` (the guest's [`super::GuestSpec::agent_dir`]).
    pub fn new(dir: impl Into<PathBuf>) -> Agent {
        Agent {
            dir: dir.into(),
            pickup_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(5),
        }
    }

    /// The spool dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the spool dir (before the guest boots: it mounts the dir).
    pub fn prepare(&self) -> Result<(), AgentError> {
        fs::create_dir_all(&self.dir).map_err(|source| AgentError::Io {
            path: self.dir.clone(),
            source,
        })
    }

    /// Runs `argv` (quoted with [`shell_join`]) in the guest.
    pub fn exec<S: AsRef<str>>(
        &self,
        argv: &[S],
        timeout: Duration,
    ) -> Result<ExecOutput, AgentError> {
        self.exec_script(&shell_join(argv), timeout)
    }

    /// Runs `script` with the guest's `/bin/sh` (cwd `/root`, stdin `/dev/null`), killing
    /// it after `timeout` (rounded up to whole seconds).
    pub fn exec_script(&self, script: &str, timeout: Duration) -> Result<ExecOutput, AgentError> {
        self.sweep();
        let id = request_id();
        let f = |ext: &str| self.dir.join(format!("{id}.{ext}"));
        let io_err = |path: PathBuf| move |source| AgentError::Io { path, source };
        let tmp = self.dir.join(format!(".{id}.tmp"));
        fs::write(&tmp, encode_request(script, timeout)).map_err(io_err(tmp.clone()))?;
        fs::rename(&tmp, f("cmd")).map_err(io_err(f("cmd")))?;

        // 1. The claim: ID.cmd disappears (renamed to ID.run by the guest).
        let start = Instant::now();
        while f("cmd").exists() {
            if start.elapsed() >= self.pickup_timeout {
                // Withdraw it; if the rename fails the guest has just claimed it.
                let gone = self.dir.join(format!(".{id}.withdrawn"));
                if fs::rename(f("cmd"), &gone).is_ok() {
                    let _ = fs::remove_file(&gone);
                    return Err(AgentError::NotPickedUp {
                        dir: self.dir.clone(),
                        waited: start.elapsed(),
                    });
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }

        // 2. The answer: ID.status appears.
        let claimed = Instant::now();
        let limit = Duration::from_secs(timeout.as_secs_f64().ceil().max(1.0) as u64) + self.grace;
        while !f("status").exists() {
            if claimed.elapsed() >= limit {
                self.remove(&id);
                return Err(AgentError::NoAnswer {
                    id,
                    waited: claimed.elapsed(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let read = |ext: &str| fs::read(f(ext)).map_err(io_err(f(ext)));
        let status_text = String::from_utf8_lossy(&read("status")?).into_owned();
        let result = match parse_status(&status_text) {
            Some(status) => Ok(ExecOutput {
                status,
                stdout: read("out").unwrap_or_default(),
                stderr: read("err").unwrap_or_default(),
                timed_out: f("timeout").exists(),
            }),
            None => Err(AgentError::BadStatus {
                id: id.clone(),
                text: status_text,
            }),
        };
        self.remove(&id);
        result
    }

    fn remove(&self, id: &str) {
        for ext in ["cmd", "run", "out", "err", "st", "status", "timeout"] {
            let _ = fs::remove_file(self.dir.join(format!("{id}.{ext}")));
        }
    }

    /// Removes the files of requests answered more than a minute ago and never collected.
    fn sweep(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let old = |p: &Path| {
            fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(60))
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".status")) else {
                continue;
            };
            if old(&e.path()) {
                self.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("ping"), "ping");
        assert_eq!(shell_quote("198.51.100.2"), "198.51.100.2");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME;rm"), "'$HOME;rm'");
        assert_eq!(
            shell_join(&["ping", "-c", "1", "198.51.100.2"]),
            "ping -c 1 198.51.100.2"
        );
        assert_eq!(shell_join(&["echo", "a b", "*"]), "echo 'a b' '*'");
    }

    #[test]
    fn quoting_survives_a_real_shell() {
        let args = [
            "printf", "%s|", "a b", "it's", "$x", "*", "", "\\n", "\"q\"",
        ];
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(shell_join(&args))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a b|it's|$x|*||\\n|\"q\"|"
        );
    }

    #[test]
    fn request_encoding() {
        assert_eq!(
            encode_request("echo hi", Duration::from_millis(2500)),
            "#flowlab-exec v1 timeout=3\necho hi\n"
        );
        assert_eq!(
            encode_request("true\n", Duration::ZERO),
            "#flowlab-exec v1 timeout=1\ntrue\n"
        );
        assert_eq!(parse_status("0\n"), Some(0));
        assert_eq!(parse_status("137"), Some(137));
        assert_eq!(parse_status(""), None);
        assert_eq!(parse_status("x"), None);
    }

    /// A fake guest agent (a thread doing what the guest loop does) checks the host side's
    /// file protocol: claim by rename, output files, status last.
    #[test]
    fn host_side_against_fake_guest() {
        let dir = std::env::temp_dir().join(format!("flowlab-agent-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let agent = Agent::new(&dir);
        agent.prepare().unwrap();
        let d = dir.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let guest = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                for e in fs::read_dir(&d).unwrap().flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let Some(id) = name.strip_suffix(".cmd") else {
                        continue;
                    };
                    let run = d.join(format!("{id}.run"));
                    fs::rename(e.path(), &run).unwrap();
                    let text = fs::read_to_string(&run).unwrap();
                    let (hdr, script) = text.split_once('\n').unwrap();
                    assert!(hdr.starts_with(REQUEST_TAG));
                    let out = std::process::Command::new("sh")
                        .arg("-c")
                        .arg(script)
                        .output()
                        .unwrap();
                    fs::write(d.join(format!("{id}.out")), &out.stdout).unwrap();
                    fs::write(d.join(format!("{id}.err")), &out.stderr).unwrap();
                    let st = d.join(format!("{id}.st"));
                    fs::write(&st, format!("{}\n", out.status.code().unwrap())).unwrap();
                    fs::rename(&st, d.join(format!("{id}.status"))).unwrap();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let o = agent
            .exec(
                &["sh", "-c", "echo out; echo err >&2; exit 3"],
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(o.status, 3);
        assert_eq!(o.stdout_text(), "out\n");
        assert_eq!(o.stderr_text(), "err\n");
        assert!(!o.timed_out && !o.success());
        let o = agent.exec(&["true"], Duration::from_secs(5)).unwrap();
        assert!(o.success());
        // Everything was collected.
        let left: Vec<_> = fs::read_dir(&dir).unwrap().flatten().collect();
        assert!(left.is_empty(), "{left:?}");
        stop.store(true, Ordering::Relaxed);
        guest.join().unwrap();

        // Nobody claims now: NotPickedUp, and the request is withdrawn.
        let mut quick = Agent::new(&dir);
        quick.pickup_timeout = Duration::from_millis(100);
        let err = quick.exec(&["true"], Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, AgentError::NotPickedUp { .. }), "{err:?}");
        let left: Vec<_> = fs::read_dir(&dir).unwrap().flatten().collect();
        assert!(left.is_empty(), "{left:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
