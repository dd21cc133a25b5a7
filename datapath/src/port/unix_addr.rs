//! `sockaddr_un` as the uml_switch protocol needs it: an opaque 110-byte blob.
//!
//! UML binds its data socket to an abstract name whose bytes past the 12-byte
//! `{zero, pid, usecs}` head are uninitialised heap, and binds with the full length 110.
//! Two addresses are therefore equal only if all of their bytes are; an address is never a
//! C string. Pathname addresses (VDE clients) are kept with the length the kernel gave.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Size of `struct sockaddr_un` on Linux: `sun_family` (2) + `sun_path` (108).
pub const SOCKADDR_UN_LEN: usize = 110;
/// Size of `sun_path`.
pub const SUN_PATH_LEN: usize = 108;

/// A unix socket address, as raw bytes plus the length to pass to the kernel.
#[derive(Clone, Copy)]
pub struct UnixAddr {
    raw: libc::sockaddr_un,
    len: libc::socklen_t,
}

impl UnixAddr {
    /// The address from the 110 bytes of a `struct sockaddr_un` as carried in a request
    /// or reply (family first, host byte order). Returns `None` if the family is not
    /// `AF_UNIX`. The length is chosen as the kernel would report it: the full 110 for an
    /// abstract name, up to the terminating NUL for a pathname.
    pub fn from_wire(bytes: &[u8; SOCKADDR_UN_LEN]) -> Option<Self> {
        let family = u16::from_ne_bytes([bytes[0], bytes[1]]);
        if family != libc::AF_UNIX as u16 {
            return None;
        }
        let mut raw = empty_sockaddr_un();
        for (dst, src) in raw.sun_path.iter_mut().zip(&bytes[2..]) {
            *dst = *src as libc::c_char;
        }
        let path = &bytes[2..];
        let len = if path[0] == 0 {
            SOCKADDR_UN_LEN
        } else {
            let n = path.iter().position(|&b| b == 0).unwrap_or(SUN_PATH_LEN);
            2 + n + usize::from(n < SUN_PATH_LEN)
        };
        Some(UnixAddr {
            raw,
            len: len as libc::socklen_t,
        })
    }

    /// The 110 wire bytes of this address (zero-filled past its length).
    pub fn to_wire(&self) -> [u8; SOCKADDR_UN_LEN] {
        let mut out = [0u8; SOCKADDR_UN_LEN];
        out[..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        let used = (self.len as usize).saturating_sub(2).min(SUN_PATH_LEN);
        for (dst, src) in out[2..2 + used].iter_mut().zip(self.raw.sun_path.iter()) {
            *dst = *src as u8;
        }
        out
    }

    /// A pathname address. Fails if the path does not fit `sun_path` with its NUL.
    pub fn pathname(path: &Path) -> std::io::Result<Self> {
        let bytes = path.as_os_str().as_bytes();
        if bytes.is_empty() || bytes.len() >= SUN_PATH_LEN || bytes.contains(&0) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "unix socket path '{}' must be 1..{} bytes with no NUL",
                    path.display(),
                    SUN_PATH_LEN - 1
                ),
            ));
        }
        let mut raw = empty_sockaddr_un();
        for (dst, src) in raw.sun_path.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        Ok(UnixAddr {
            raw,
            len: (2 + bytes.len() + 1) as libc::socklen_t,
        })
    }

    /// An abstract address `\0name`, zero-filled and bound with the full length 110, as
    /// UML and uml_switch do. `name` is cut to 107 bytes.
    pub fn abstract_full(name: &[u8]) -> Self {
        let mut raw = empty_sockaddr_un();
        for (dst, src) in raw.sun_path[1..].iter_mut().zip(name) {
            *dst = *src as libc::c_char;
        }
        UnixAddr {
            raw,
            len: SOCKADDR_UN_LEN as libc::socklen_t,
        }
    }

    /// From what `accept`/`recvfrom`/`getsockname` filled in.
    pub fn from_raw(raw: libc::sockaddr_un, len: libc::socklen_t) -> Self {
        UnixAddr {
            raw,
            len: len.min(SOCKADDR_UN_LEN as libc::socklen_t),
        }
    }

    /// Pointer for `bind`/`connect`/`sendto`.
    pub fn as_ptr(&self) -> *const libc::sockaddr {
        &self.raw as *const libc::sockaddr_un as *const libc::sockaddr
    }

    /// Length for `bind`/`connect`/`sendto`.
    pub fn len(&self) -> libc::socklen_t {
        self.len
    }

    /// True for an unnamed address (length of the family only).
    pub fn is_empty(&self) -> bool {
        self.len as usize <= 2
    }

    /// True for an abstract name.
    pub fn is_abstract(&self) -> bool {
        self.len as usize > 2 && self.raw.sun_path[0] == 0
    }

    /// The path of a pathname address.
    pub fn path(&self) -> Option<&Path> {
        if self.is_empty() || self.is_abstract() {
            return None;
        }
        let bytes = self.path_bytes();
        let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Some(Path::new(OsStr::from_bytes(&bytes[..n])))
    }

    /// The bytes of `sun_path` that count (up to the length).
    pub fn path_bytes(&self) -> &[u8] {
        let used = (self.len as usize).saturating_sub(2).min(SUN_PATH_LEN);
        // SAFETY: c_char and u8 have the same size and alignment.
        unsafe { std::slice::from_raw_parts(self.raw.sun_path.as_ptr() as *const u8, used) }
    }
}

impl PartialEq for UnixAddr {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.path_bytes() == other.path_bytes()
    }
}
impl Eq for UnixAddr {}

impl std::hash::Hash for UnixAddr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.len.hash(state);
        self.path_bytes().hash(state);
    }
}

impl fmt::Debug for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.path() {
            return write!(f, "{}", p.display());
        }
        if self.is_empty() {
            return f.write_str("(unnamed)");
        }
        // Abstract: our own names are text; UML's are binary {zero, pid, usecs} + garbage,
        // shown as the hex of that 12-byte head.
        let b = &self.path_bytes()[1..];
        let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
        if b[..end].iter().all(|x| x.is_ascii_graphic()) {
            return write!(f, "@{}", String::from_utf8_lossy(&b[..end]));
        }
        f.write_str("@")?;
        for x in &b[..b.len().min(11)] {
            write!(f, "{x:02x}")?;
        }
        if end > 11 {
            f.write_str("...")?;
        }
        Ok(())
    }
}

fn empty_sockaddr_un() -> libc::sockaddr_un {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let mut raw: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    raw.sun_family = libc::AF_UNIX as libc::sa_family_t;
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstract_round_trips_through_wire_with_garbage() {
        let mut wire = [0u8; SOCKADDR_UN_LEN];
        wire[0] = 1;
        wire[3] = 0x7f; // {zero, pid, ...} with garbage far into the name
        wire[100] = 0x55;
        let a = UnixAddr::from_wire(&wire).unwrap();
        assert!(a.is_abstract());
        assert_eq!(a.len() as usize, SOCKADDR_UN_LEN);
        assert_eq!(a.to_wire(), wire);
    }

    #[test]
    fn pathname_round_trips() {
        let a = UnixAddr::pathname(Path::new("/tmp/x/001.5")).unwrap();
        let w = a.to_wire();
        let b = UnixAddr::from_wire(&w).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.path().unwrap(), Path::new("/tmp/x/001.5"));
    }

    #[test]
    fn wrong_family_is_none() {
        let mut wire = [0u8; SOCKADDR_UN_LEN];
        wire[0] = 2;
        assert!(UnixAddr::from_wire(&wire).is_none());
    }

    #[test]
    fn too_long_path_is_error() {
        let long = "/".repeat(200);
        assert!(UnixAddr::pathname(Path::new(&long)).is_err());
    }
}
