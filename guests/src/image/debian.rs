//! The Debian image: `debootstrap --variant=minbase bookworm` plus the packages Netkit
//! startup files and routing labs use, flowlab's init and service shims, then
//! `mkfs.ext4 -d`.
//!
//! **Needs root.** debootstrap unpacks packages as root-owned files, creates device
//! nodes and runs maintainer scripts in a chroot. Without root the known route is
//! `fakechroot fakeroot debootstrap --variant=fakechroot`, which breaks on packages whose
//! scripts call `chroot`-sensitive tools and on absolute symlinks; it is not implemented:
//! a non-root build fails with [`ImageError::NeedsRoot`] explaining the options (run the
//! build once as root, e.g. `sudo flowlab image build --kind debian`, with
//! `FLOWLAB_DATA` pointing at a shared data dir; the image file itself is then readable
//! by everyone). Needs network access to a Debian mirror. Takes minutes (the spec measured
//! 58 s for minbase without FRR on this machine kind).
//!
//! minbase has no init system and no `poweroff`: `/sbin/flowlab-init` is PID 1 (it powers
//! off through `/proc/sysrq-trigger`), `systemctl` is a shim over `/etc/init.d`, and
//! `/etc/init.d/zebra` and `/etc/init.d/quagga` start FRR from a Quagga-style config.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::assets;
use super::plan::Plan;
use super::{ImageError, Progress};

/// The Debian release.
pub const SUITE: &str = "bookworm";

/// Packages on top of minbase: what Netkit/Kathara startup files call (`ip`, `ifconfig`,
/// `route`, `ping`, `traceroute`, `tcpdump`, `nc`, `ps`), FRR for routing labs, and `bash`
/// (already in minbase, listed because the exec agent prefers it for its `read -t`).
pub const PACKAGES: &[&str] = &[
    "iproute2",
    "net-tools",
    "iputils-ping",
    "traceroute",
    "tcpdump",
    "netcat-openbsd",
    "frr",
    "procps",
    "bash",
    "util-linux",
    "kmod",
    "less",
];

/// The debootstrap argv (after the program).
pub fn debootstrap_args(stage: &Path, mirror: Option<&str>, extra: &[String]) -> Vec<String> {
    let mut pkgs: Vec<String> = PACKAGES.iter().map(|s| s.to_string()).collect();
    pkgs.extend(extra.iter().cloned());
    let mut a = vec![
        "--variant=minbase".to_string(),
        format!("--include={}", pkgs.join(",")),
        SUITE.to_string(),
        stage.display().to_string(),
    ];
    if let Some(m) = mirror {
        a.push(m.to_string());
    }
    a
}

/// What flowlab adds to the debootstrap tree.
pub fn overlay_plan() -> Plan {
    let mut p = Plan::default();
    p.dir("etc/flowlab", 0o755);
    p.dir("hostlab", 0o755);
    p.dir("hosthome", 0o755);
    p.dir("hostwd", 0o755);
    p.file(assets::INIT_PATH, 0o755, assets::INIT);
    p.symlink("sbin/init", "flowlab-init");
    p.file("usr/local/bin/systemctl", 0o755, assets::SYSTEMCTL);
    p.file("etc/init.d/zebra", 0o755, assets::QUAGGA_COMPAT);
    p.file("etc/init.d/quagga", 0o755, assets::QUAGGA_COMPAT);
    p.file("etc/hostname", 0o644, "flowlab\n");
    p.file("etc/fstab", 0o644, "/dev/ubda / ext4 defaults 0 1\n");
    p
}

/// Maps a debootstrap output line onto progress (debootstrap's phases, in order).
pub fn progress_of_line(line: &str) -> Option<(u64, &str)> {
    let rest = line.strip_prefix("I: ")?;
    let phases: &[(&str, u64)] = &[
        ("Retrieving InRelease", 2),
        ("Retrieving Release", 2),
        ("Checking Release signature", 3),
        ("Valid Release signature", 3),
        ("Validating Release", 3),
        ("Retrieving Packages", 4),
        ("Validating Packages", 5),
        ("Resolving dependencies", 6),
        ("Found ", 7),
        ("Checking component", 7),
        ("Retrieving ", 20),
        ("Validating ", 40),
        ("Chosen extractor", 45),
        ("Extracting ", 50),
        ("Installing core packages", 55),
        ("Unpacking required packages", 60),
        ("Configuring required packages", 65),
        ("Unpacking the base system", 70),
        ("Unpacking ", 75),
        ("Configuring the base system", 80),
        ("Configuring ", 85),
        ("Base system installed successfully", 90),
    ];
    phases
        .iter()
        .find(|(p, _)| rest.starts_with(p))
        .map(|(_, pct)| (*pct, rest))
}

/// Runs debootstrap into `stage`, reporting progress (0..=90 of 100).
pub fn debootstrap(
    stage: &Path,
    mirror: Option<&str>,
    extra: &[String],
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), ImageError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(ImageError::NeedsRoot);
    }
    let tool = super::ext4::find_tool("debootstrap").ok_or(ImageError::ToolMissing {
        tool: "debootstrap".into(),
        package: "debootstrap",
    })?;
    let mut child = Command::new(&tool)
        .args(debootstrap_args(stage, mirror, extra))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ImageError::io(format!("running {}", tool.display()), e))?;
    let stderr = child.stderr.take();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    });
    let mut tail: Vec<String> = Vec::new();
    let mut last = 0;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some((pct, msg)) = progress_of_line(&line) {
                last = last.max(pct);
                progress(&Progress {
                    done: last,
                    total: 100,
                    message: msg.to_string(),
                });
            }
            tail.push(line);
            if tail.len() > 30 {
                tail.remove(0);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| ImageError::io("waiting for debootstrap", e))?;
    let stderr = err_thread.join().unwrap_or_default();
    if !status.success() {
        let log = stage.join("debootstrap/debootstrap.log");
        let log_tail = std::fs::read_to_string(&log)
            .map(|t| {
                let lines: Vec<&str> = t.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            })
            .unwrap_or_default();
        return Err(ImageError::ToolFailed {
            tool: "debootstrap".into(),
            status: status.to_string(),
            output: format!("{}\n{stderr}\n{log_tail}", tail.join("\n")),
        });
    }
    Ok(())
}

/// Removes what an image does not need: apt's caches and lists, logs.
pub fn trim(stage: &Path) {
    for d in ["var/cache/apt/archives", "var/lib/apt/lists", "var/log"] {
        if let Ok(entries) = std::fs::read_dir(stage.join(d)) {
            for e in entries.flatten() {
                let p = e.path();
                let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
                if is_file {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let a = debootstrap_args(
            Path::new("/data/st"),
            Some("http://deb.example/debian"),
            &["vim-tiny".into()],
        );
        assert_eq!(a[0], "--variant=minbase");
        assert!(a[1].starts_with("--include=iproute2,net-tools,"));
        assert!(a[1].ends_with(",vim-tiny"));
        for p in [
            "frr",
            "tcpdump",
            "traceroute",
            "netcat-openbsd",
            "iputils-ping",
        ] {
            assert!(a[1].split([',', '=']).any(|x| x == p), "{p}");
        }
        assert_eq!(
            &a[2..],
            ["bookworm", "/data/st", "http://deb.example/debian"]
        );
        assert_eq!(debootstrap_args(Path::new("/s"), None, &[]).len(), 4);
    }

    #[test]
    fn progress_lines() {
        assert_eq!(
            progress_of_line("I: Retrieving libc6 2.36-9"),
            Some((20, "Retrieving libc6 2.36-9"))
        );
        assert_eq!(
            progress_of_line("I: Retrieving Release "),
            Some((2, "Retrieving Release "))
        );
        assert_eq!(
            progress_of_line("I: Base system installed successfully."),
            Some((90, "Base system installed successfully."))
        );
        assert_eq!(
            progress_of_line("I: Retrieving InRelease "),
            Some((2, "Retrieving InRelease "))
        );
        assert_eq!(progress_of_line("W: something"), None);
        assert_eq!(progress_of_line(""), None);
    }

    #[test]
    fn overlay_has_init_and_shims() {
        let p = overlay_plan();
        for path in [
            "sbin/flowlab-init",
            "sbin/init",
            "usr/local/bin/systemctl",
            "etc/init.d/zebra",
            "etc/init.d/quagga",
        ] {
            assert!(p.get(path).is_some(), "{path}");
        }
    }
}
