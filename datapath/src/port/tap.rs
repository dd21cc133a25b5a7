//! Tap ports: a Linux tap device (`/dev/net/tun`, `IFF_TAP | IFF_NO_PI`) as a switch port.
//!
//! A tap has no multi-message calls; the batch is a loop of `read`s until the device is
//! empty or the batch is full, and `write`s until the device pushes back.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

use super::{Port, RxBatch};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    pad: [u8; 22],
}

/// A port on a tap device.
#[derive(Debug)]
pub struct TapPort {
    file: File,
    name: String,
}

impl TapPort {
    /// Attaches to tap device `name` (an existing persistent tap, or a new one when
    /// privileged), non-blocking.
    pub fn open(name: &str) -> io::Result<Self> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "tap device name '{name}' must be 1..{} bytes",
                    libc::IFNAMSIZ - 1
                ),
            ));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")?;
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: IFF_TAP | IFF_NO_PI,
            pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF takes a pointer to a struct ifreq, which IfReq lays out.
        if unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TapPort {
            file,
            name: name.to_string(),
        })
    }

    /// The device name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Port for TapPort {
    fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        let fd = self.file.as_raw_fd();
        let mut n = 0;
        while n < batch.capacity() {
            let buf = &mut batch.bufs_mut()[n];
            // SAFETY: reading into a buffer we own, of its length.
            let r = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted => continue,
                    _ if n > 0 => break,
                    _ => return Err(e),
                }
            }
            if r == 0 {
                break;
            }
            batch.set(n, r as usize, false);
            n += 1;
        }
        batch.set_count(n);
        Ok(n)
    }

    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        let fd = self.file.as_raw_fd();
        let mut done = 0;
        while done < frames.len() {
            let f = frames[done];
            // SAFETY: writing a buffer we borrow, of its length.
            let r = unsafe { libc::write(fd, f.as_ptr() as *const libc::c_void, f.len()) };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => *errors += 1,
                }
            }
            done += 1;
        }
        Ok(done)
    }

    fn kind(&self) -> &'static str {
        "tap"
    }
}
