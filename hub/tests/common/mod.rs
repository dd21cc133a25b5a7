//! The harness shared by flowlab-hub's own binary tests: start the built binary in a
//! fresh directory, read its log and its /proc entry, build frames.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running flowlab-hub; SIGINT and directory removal on drop.
pub struct Hub {
    pub child: Child,
    pub dir: PathBuf,
}

impl Hub {
    /// Starts `flowlab-hub -unix DIR/ctl EXTRA...` with stdout and stderr in DIR/log.
    pub fn start(tag: &str, extra: &[&str]) -> Hub {
        let dir = std::env::temp_dir().join(format!("fh-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ctl = dir.join("ctl");
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
            .arg("-unix")
            .arg(&ctl)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        assert!(
            flowlab_hub::client::wait_listening(&ctl, Duration::from_secs(5)),
            "the switch did not start listening"
        );
        Hub { child, dir }
    }

    /// The control socket.
    pub fn ctl(&self) -> PathBuf {
        self.dir.join("ctl")
    }

    /// Everything the switch printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Open descriptors of the switch process.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Output of `flowlab-hub ctl CTL ARGS...`.
    pub fn ctl_cmd(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_flowlab-hub"))
            .arg("ctl")
            .arg(self.ctl())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Waits until `pred(log)` holds, up to 5 s.
    pub fn wait_log(&self, pred: impl Fn(&str) -> bool) -> bool {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if pred(&self.log()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        // SAFETY: signalling the child we started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An Ethernet frame 02:..:dst <- 02:..:src, ethertype 0x88b5, `len` bytes.
pub fn frame(dst: u8, src: u8, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..6].copy_from_slice(&[2, 0, 0, 0, 0, dst]);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, src]);
    f[12] = 0x88;
    f[13] = 0xb5;
    f
}
