//! The VDE 2 tools from Debian: `vde_switch` (package `vde2`) and `vde_plug` (package
//! `vdeplug`, vdeplug4).
//!
//! `vde_plug URL` with one URL turns the network into a byte stream on its stdin/stdout:
//! every frame is a 2-byte big-endian length, then the frame (vdeplug4's `vdestream`
//! format, the same that `dpipe vde_plug = vde_plug` cables carry). The tests in
//! `tests/vde.rs` check this against the real `vde_switch`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::collect::Endpoint;
use crate::proc::{alive, signal, wait_gone, wait_timeout, wait_until, ProcGuard};
use crate::switch::read_lossy;
use crate::tmp::TempDir;

/// A `vde_switch -d -p PIDFILE -s DIR` in its own temp dir. SIGTERMed (then SIGKILLed) by
/// pid on drop. (`-d`: in the foreground it exits on stdin EOF; the pidfile must not exist
/// beforehand or it exits silently.)
#[derive(Debug)]
pub struct VdeSwitch {
    pid: i32,
    sock_dir: PathBuf,
    dir: TempDir,
}

impl VdeSwitch {
    /// Starts it (with `-x`: hub mode) and waits for `DIR/ctl`.
    pub fn start(hub: bool) -> VdeSwitch {
        let prog = crate::require_tool("vde_switch", "vde2");
        let dir = TempDir::new("flv");
        let sock_dir = dir.join("sw");
        let pidfile = dir.join("vde.pid");
        let log = dir.join("vde_switch.log");
        let out = File::create(&log).expect("log");
        let mut cmd = Command::new(prog);
        cmd.arg("-d")
            .arg("-p")
            .arg(&pidfile)
            .arg("-s")
            .arg(&sock_dir);
        if hub {
            cmd.arg("-x");
        }
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out);
        let mut child = cmd.spawn().expect("spawning vde_switch");
        // -d: the process we started forks the daemon and exits.
        let st = wait_timeout(&mut child, Duration::from_secs(10)).expect("wait");
        if st.is_none() {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "vde_switch -d did not daemonize; log:\n{}",
                read_lossy(&log)
            );
        }
        let mut pid = 0;
        let ok = wait_until(Duration::from_secs(10), || {
            pid = read_lossy(&pidfile).trim().parse().unwrap_or(0);
            pid > 0 && flowlab_hub::client::is_listening(&sock_dir.join("ctl"))
        });
        let sw = VdeSwitch { pid, sock_dir, dir };
        assert!(
            ok,
            "vde_switch: no pid/ctl socket after 10 s (exit {st:?}); log:\n{}",
            read_lossy(&log)
        );
        sw
    }

    /// The switch directory (`vde_plug` URL; `DIR/ctl` is the control socket).
    pub fn sock_dir(&self) -> &Path {
        &self.sock_dir
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Our temp dir.
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }
}

impl Drop for VdeSwitch {
    fn drop(&mut self) {
        if self.pid > 0 && alive(self.pid) {
            signal(self.pid, libc::SIGTERM);
            if !wait_gone(self.pid, Duration::from_secs(3)) {
                signal(self.pid, libc::SIGKILL);
                wait_gone(self.pid, Duration::from_secs(2));
            }
        }
    }
}

/// A `vde_plug URL` process: frames in and out through its stdin/stdout stream.
#[derive(Debug)]
pub struct VdePlug {
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    buf: Vec<u8>,
    stderr_log: PathBuf,
    proc: ProcGuard,
}

impl VdePlug {
    /// Starts `vde_plug [args...] url`; its stderr goes to `stderr_log`.
    pub fn spawn(url: &Path, args: &[&str], stderr_log: &Path) -> VdePlug {
        let prog = crate::require_tool("vde_plug", "vdeplug");
        let err = File::create(stderr_log).expect("stderr log");
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err);
        let mut proc = ProcGuard::spawn(&mut cmd, libc::SIGTERM, Duration::from_secs(2))
            .expect("spawning vde_plug");
        let stdin = proc.child.stdin.take();
        let stdout = proc.child.stdout.take().expect("stdout");
        set_nonblocking(stdout.as_raw_fd());
        VdePlug {
            stdin,
            stdout,
            buf: Vec::new(),
            stderr_log: stderr_log.to_path_buf(),
            proc,
        }
    }

    /// Sends one frame (length prefix + frame on stdin).
    pub fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let len = u16::try_from(frame.len())
            .map_err(|_| io::Error::other("frame too long for the stream"))?;
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(frame);
        self.stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("stdin closed"))?
            .write_all(&out)
    }

    /// Closes its stdin (vde_plug then exits).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The exit status if it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.proc.exited()
    }

    /// Waits up to `timeout` for it to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        wait_timeout(&mut self.proc.child, timeout).ok().flatten()
    }

    /// What it printed on stderr.
    pub fn stderr_text(&self) -> String {
        read_lossy(&self.stderr_log)
    }

    fn pop(&mut self) -> Option<Vec<u8>> {
        if self.buf.len() < 2 {
            return None;
        }
        let n = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        if self.buf.len() < 2 + n {
            return None;
        }
        let f = self.buf[2..2 + n].to_vec();
        self.buf.drain(..2 + n);
        Some(f)
    }
}

impl Drop for VdePlug {
    fn drop(&mut self) {
        // EOF on stdin makes vde_plug exit by itself; ProcGuard then signals if needed.
        self.stdin = None;
        let _ = wait_timeout(&mut self.proc.child, Duration::from_millis(500));
    }
}

impl Endpoint for VdePlug {
    fn poll_fd(&self) -> RawFd {
        self.stdout.as_raw_fd()
    }

    fn recv_now(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(f) = self.pop() {
                return Ok(Some(f));
            }
            let mut chunk = [0u8; 65536];
            match self.stdout.read(&mut chunk) {
                Ok(0) => return Ok(None), // EOF: vde_plug exited
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}
