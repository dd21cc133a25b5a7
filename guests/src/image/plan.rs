//! A root filesystem tree as data: directories, files, copies of host files and symlinks.
//! Planned without IO (so tests can read the plan), hashed for the image's name, then
//! written into a staging directory for `mkfs.ext4 -d`.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// One thing in the tree. Paths are relative to the root (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory with a mode.
    Dir {
        /// Where.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// A file with the given contents.
    File {
        /// Where.
        path: String,
        /// Permission bits.
        mode: u32,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A copy of a host file.
    Copy {
        /// Where.
        path: String,
        /// Permission bits.
        mode: u32,
        /// The host file.
        from: PathBuf,
    },
    /// A symbolic link.
    Symlink {
        /// Where.
        path: String,
        /// What it points to (as given).
        target: String,
    },
}

impl Entry {
    /// The entry's path.
    pub fn path(&self) -> &str {
        match self {
            Entry::Dir { path, .. }
            | Entry::File { path, .. }
            | Entry::Copy { path, .. }
            | Entry::Symlink { path, .. } => path,
        }
    }
}

/// A tree: entries in creation order (parents before children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Plan {
    /// Adds a directory with permission bits `mode`.
    pub fn dir(&mut self, path: &str, mode: u32) {
        self.entries.push(Entry::Dir {
            path: path.into(),
            mode,
        });
    }

    /// Adds a file.
    pub fn file(&mut self, path: &str, mode: u32, data: impl Into<Vec<u8>>) {
        self.entries.push(Entry::File {
            path: path.into(),
            mode,
            data: data.into(),
        });
    }

    /// Adds a copy of a host file.
    pub fn copy(&mut self, path: &str, mode: u32, from: &Path) {
        self.entries.push(Entry::Copy {
            path: path.into(),
            mode,
            from: from.to_path_buf(),
        });
    }

    /// Adds a symlink.
    pub fn symlink(&mut self, path: &str, target: &str) {
        self.entries.push(Entry::Symlink {
            path: path.into(),
            target: target.into(),
        });
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path() == path)
    }

    /// A stable 64-bit digest of the tree (FNV-1a over every entry, host files by their
    /// contents), mixed with `salt` (kind, size, format version...).
    pub fn digest(&self, salt: &str) -> io::Result<u64> {
        let mut h = Fnv::new();
        h.write(salt.as_bytes());
        for e in &self.entries {
            match e {
                Entry::Dir { path, mode } => {
                    h.write(b"D");
                    h.write(path.as_bytes());
                    h.write(&mode.to_le_bytes());
                }
                Entry::File { path, mode, data } => {
                    h.write(b"F");
                    h.write(path.as_bytes());
                    h.write(&mode.to_le_bytes());
                    h.write(&(data.len() as u64).to_le_bytes());
                    h.write(data);
                }
                Entry::Copy { path, mode, from } => {
                    h.write(b"C");
                    h.write(path.as_bytes());
                    h.write(&mode.to_le_bytes());
                    let mut f = fs::File::open(from)?;
                    let mut buf = vec![0u8; 1 << 16];
                    loop {
                        let n = f.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        h.write(&buf[..n]);
                    }
                }
                Entry::Symlink { path, target } => {
                    h.write(b"L");
                    h.write(path.as_bytes());
                    h.write(b"\0");
                    h.write(target.as_bytes());
                }
            }
            h.write(b"\0");
        }
        Ok(h.finish())
    }

    /// Creates the tree under `root` (which may already hold files, e.g. a debootstrap
    /// tree: files and links are replaced, dirs kept).
    ///
    /// Every path must stay inside `root` once symlinks in the tree are followed (a
    /// debootstrap tree has `sbin -> usr/sbin`; an absolute link would point into the
    /// host): an entry whose parent resolves outside `root` is an error.
    pub fn write(&self, root: &Path) -> io::Result<()> {
        let root_real = fs::canonicalize(root)?;
        for e in &self.entries {
            let rel = Path::new(e.path());
            if rel.is_absolute()
                || rel
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("plan path {rel:?} is not a plain relative path"),
                ));
            }
            let p = root.join(rel);
            if let Some(parent) = p.parent() {
                // The deepest existing ancestor must resolve inside the root.
                let mut probe = parent.to_path_buf();
                while !probe.exists() {
                    if !probe.pop() {
                        break;
                    }
                }
                if !fs::canonicalize(&probe)?.starts_with(&root_real) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{} leads outside {}", p.display(), root.display()),
                    ));
                }
                fs::create_dir_all(parent)?;
            }
            match e {
                Entry::Dir { mode, .. } => {
                    if !p.is_dir() {
                        fs::create_dir(&p)?;
                    }
                    fs::set_permissions(&p, fs::Permissions::from_mode(*mode))?;
                }
                Entry::File { mode, data, .. } => {
                    remove_non_dir(&p)?;
                    fs::write(&p, data)?;
                    fs::set_permissions(&p, fs::Permissions::from_mode(*mode))?;
                }
                Entry::Copy { mode, from, .. } => {
                    remove_non_dir(&p)?;
                    fs::copy(from, &p)?;
                    fs::set_permissions(&p, fs::Permissions::from_mode(*mode))?;
                }
                Entry::Symlink { target, .. } => {
                    remove_non_dir(&p)?;
                    symlink(target, &p)?;
                }
            }
        }
        Ok(())
    }
}

fn remove_non_dir(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if !m.is_dir() => fs::remove_file(p),
        _ => Ok(()),
    }
}

/// FNV-1a, 64 bits: stable across Rust versions, unlike `DefaultHasher`.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_values() {
        let mut h = Fnv::new();
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn digest_sees_every_change() {
        let mut a = Plan::default();
        a.dir("etc", 0o755);
        a.file("etc/x", 0o644, "1");
        a.symlink("bin/sh", "busybox");
        let base = a.digest("s").unwrap();
        assert_eq!(base, a.clone().digest("s").unwrap());
        assert_ne!(base, a.digest("t").unwrap());
        let mut b = a.clone();
        b.entries[1] = Entry::File {
            path: "etc/x".into(),
            mode: 0o644,
            data: b"2".to_vec(),
        };
        assert_ne!(base, b.digest("s").unwrap());
        let mut c = a.clone();
        c.entries[1] = Entry::File {
            path: "etc/x".into(),
            mode: 0o755,
            data: b"1".to_vec(),
        };
        assert_ne!(base, c.digest("s").unwrap());
        let mut d = a.clone();
        d.symlink("bin/ls", "busybox");
        assert_ne!(base, d.digest("s").unwrap());
    }

    #[test]
    fn write_creates_and_replaces() {
        let root = std::env::temp_dir().join(format!("flowlab-plan-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::write(root.join("bin/sh"), "old").unwrap();
        let mut q = Plan::default();
        q.dir("tmp", 0o1777);
        q.file("etc/deep/f", 0o600, "x");
        q.symlink("bin/sh", "busybox");
        q.copy("bin/copy", 0o755, &root.join("etc/deep/f"));
        q.write(&root).unwrap();
        let md = fs::metadata(root.join("tmp")).unwrap();
        assert_eq!(md.permissions().mode() & 0o7777, 0o1777);
        assert_eq!(
            fs::read_link(root.join("bin/sh")).unwrap(),
            Path::new("busybox")
        );
        assert_eq!(fs::read(root.join("bin/copy")).unwrap(), b"x");
        assert_eq!(
            fs::metadata(root.join("etc/deep/f"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert_eq!(q.get("bin/sh"), Some(&q.entries[2]));
        // A link into the host, or a `..`, is refused.
        symlink("/tmp", root.join("escape")).unwrap();
        let mut bad = Plan::default();
        bad.file("escape/flowlab-plan-test", 0o644, "x");
        assert!(bad.write(&root).is_err());
        let mut bad = Plan::default();
        bad.file("../x", 0o644, "x");
        assert!(bad.write(&root).is_err());
        // A relative link inside the tree is followed.
        fs::create_dir_all(root.join("usr/sbin")).unwrap();
        symlink("usr/sbin", root.join("sbin")).unwrap();
        let mut ok = Plan::default();
        ok.file("sbin/tool", 0o755, "x");
        ok.write(&root).unwrap();
        assert!(root.join("usr/sbin/tool").is_file());
        fs::remove_dir_all(&root).unwrap();
    }
}
