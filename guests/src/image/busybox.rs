//! The busybox image: Debian's `busybox-static`, a link per applet at the path busybox
//! itself gives (`--list-full`: `sbin/ip`, `usr/bin/nc`, ...), a few `/etc` files and
//! `/sbin/flowlab-init`. Builds in well under a second; needs no root and no network.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::assets;
use super::plan::Plan;
use super::ImageError;

/// Top-level dirs of the tree, with their modes.
const DIRS: &[(&str, u32)] = &[
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("etc/flowlab", 0o755),
    ("etc/init.d", 0o755),
    ("dev", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("run", 0o755),
    ("tmp", 0o1777),
    ("var", 0o755),
    ("var/log", 0o755),
    ("var/tmp", 0o1777),
    ("root", 0o700),
    ("home", 0o755),
    ("mnt", 0o755),
    ("hostlab", 0o755),
    ("hosthome", 0o755),
    ("hostwd", 0o755),
];

/// The busybox binary to use: `given`, else `busybox` on PATH; it must be a static ELF
/// (the image has no libraries).
pub fn find_busybox(given: Option<&Path>) -> Result<PathBuf, ImageError> {
    let p = match given {
        Some(p) => p.to_path_buf(),
        None => super::ext4::find_tool("busybox").ok_or(ImageError::ToolMissing {
            tool: "busybox".into(),
            package: "busybox-static",
        })?,
    };
    let mut head = Vec::new();
    fs::File::open(&p)
        .and_then(|f| f.take(1 << 20).read_to_end(&mut head))
        .map_err(|e| ImageError::io(format!("reading {}", p.display()), e))?;
    if !is_static_elf(&head) {
        return Err(ImageError::NotStatic(p));
    }
    Ok(p)
}

/// The applet paths busybox reports with `--list-full` (`bin/ls`, `sbin/ip`, ...).
pub fn applets(busybox: &Path) -> Result<Vec<String>, ImageError> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| ImageError::io(format!("running {} --list-full", busybox.display()), e))?;
    if !out.status.success() {
        return Err(ImageError::ToolFailed {
            tool: format!("{} --list-full", busybox.display()),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect())
}

/// The tree of the busybox image.
///
/// * `/bin/busybox` and one absolute symlink `/…/applet -> /bin/busybox` per applet,
///   except `busybox` itself (a link onto itself would replace the binary) and `init`
///   (`/sbin/init` is flowlab's init, so a boot without `init=` works too);
/// * `/sbin/flowlab-init`;
/// * `/etc`: passwd, group, shadow (root without a password), hosts, hostname, profile,
///   shells, fstab, nsswitch.conf, services (the few names labs use);
/// * `/var/run -> /run`.
pub fn plan(busybox: &Path, applets: &[String]) -> Plan {
    let mut p = Plan::default();
    for (d, mode) in DIRS {
        p.dir(d, *mode);
    }
    p.copy("bin/busybox", 0o755, busybox);
    for a in applets {
        let rel = a.trim_start_matches('/');
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if rel.is_empty()
            || name == "busybox"
            || name == "init"
            || rel.split('/').any(|c| c.is_empty() || c == "..")
            || p.get(rel).is_some()
        {
            continue;
        }
        p.symlink(rel, "/bin/busybox");
    }
    p.file(assets::INIT_PATH, 0o755, assets::INIT);
    p.symlink("sbin/init", "flowlab-init");
    p.symlink("var/run", "../run");
    p.file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n");
    p.file("etc/group", 0o644, "root:x:0:\ntty:x:5:\n");
    p.file("etc/shadow", 0o600, "root::19000:0:99999:7:::\n");
    p.file(
        "etc/hosts",
        0o644,
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    p.file("etc/hostname", 0o644, "flowlab\n");
    p.file("etc/shells", 0o644, "/bin/sh\n/bin/ash\n");
    p.file(
        "etc/profile",
        0o644,
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         export PS1='\\h:\\w\\$ '\n",
    );
    p.file(
        "etc/fstab",
        0o644,
        "/dev/ubda / ext4 defaults 0 1\nproc /proc proc defaults 0 0\n",
    );
    p.file("etc/nsswitch.conf", 0o644, "hosts: files dns\n");
    p.file("etc/services", 0o644, assets::SERVICES);
    p
}

/// True for a 64- or 32-bit ELF header (in `head`) with no `PT_INTERP` program header:
/// statically linked. Never panics on short or odd input.
pub fn is_static_elf(head: &[u8]) -> bool {
    if head.len() < 0x34 || &head[..4] != b"\x7fELF" {
        return false;
    }
    let le = match head[5] {
        1 => true,
        2 => false,
        _ => return false,
    };
    let rd = |o: usize, n: usize| -> Option<u64> {
        let b = head.get(o..o.checked_add(n)?)?;
        let mut v = 0u64;
        for i in 0..n {
            let byte = if le { b[n - 1 - i] } else { b[i] };
            v = (v << 8) | byte as u64;
        }
        Some(v)
    };
    let (phoff, phentsize, phnum) = match head[4] {
        2 => (rd(0x20, 8), rd(0x36, 2), rd(0x38, 2)),
        1 => (rd(0x1c, 4), rd(0x2a, 2), rd(0x2c, 2)),
        _ => return false,
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (phoff, phentsize, phnum) else {
        return false;
    };
    (0..phnum).all(|i| {
        let o = phoff.saturating_add(i.saturating_mul(phentsize));
        usize::try_from(o)
            .ok()
            .and_then(|o| rd(o, 4))
            .is_some_and(|t| t != 3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applets() -> Vec<String> {
        [
            "bin/busybox",
            "bin/sh",
            "bin/ls",
            "sbin/init",
            "sbin/ip",
            "usr/bin/nc",
            "usr/sbin/chroot",
            "bin/../etc/passwd",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn plan_links_applets_but_not_busybox_or_init() {
        use super::super::plan::Entry;
        let p = plan(Path::new("/usr/bin/busybox"), &applets());
        let link = |path: &str| match p.get(path) {
            Some(Entry::Symlink { target, .. }) => Some(target.clone()),
            _ => None,
        };
        assert_eq!(link("bin/sh").as_deref(), Some("/bin/busybox"));
        assert_eq!(link("sbin/ip").as_deref(), Some("/bin/busybox"));
        assert_eq!(link("usr/bin/nc").as_deref(), Some("/bin/busybox"));
        assert_eq!(link("sbin/init").as_deref(), Some("flowlab-init"));
        assert!(matches!(p.get("bin/busybox"), Some(Entry::Copy { .. })));
        assert!(matches!(
            p.get("sbin/flowlab-init"),
            Some(Entry::File { mode: 0o755, .. })
        ));
        // `..` in an applet path is not followed; only one entry per path.
        assert!(p.get("bin/../etc/passwd").is_none());
        let mut paths: Vec<&str> = p.entries.iter().map(|e| e.path()).collect();
        let n = paths.len();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), n, "duplicate paths in the plan");
        assert!(matches!(
            p.get("tmp"),
            Some(Entry::Dir { mode: 0o1777, .. })
        ));
    }

    #[test]
    fn static_elf_detection() {
        // The test binary is dynamically linked (it has PT_INTERP).
        let me = fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(!is_static_elf(&me));
        // A minimal static 64-bit LE header with one PT_LOAD program header.
        let mut h = vec![0u8; 0x40 + 0x38];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        h[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
        h[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        h[0x40..0x44].copy_from_slice(&1u32.to_le_bytes());
        assert!(is_static_elf(&h));
        h[0x40..0x44].copy_from_slice(&3u32.to_le_bytes());
        assert!(!is_static_elf(&h));
        // Program headers past the end, truncation, garbage: false, no panic.
        h[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(!is_static_elf(&h));
        assert!(!is_static_elf(&h[..10]));
        assert!(!is_static_elf(b"#!/bin/sh\n"));
        assert!(!is_static_elf(&[]));
    }
}
