//! Files that go into every image, kept as real files under `guests/assets/` (so they can
//! be read, linted with `sh -n` and diffed) and compiled in.

/// `/sbin/flowlab-init`: PID 1 of every guest and the guest half of the exec agent.
pub const INIT: &str = include_str!("../../assets/flowlab-init");
/// Where [`INIT`] goes, relative to the image root.
pub const INIT_PATH: &str = "sbin/flowlab-init";
/// A `systemctl` that maps `systemctl ACTION UNIT` onto `/etc/init.d/UNIT ACTION` (Debian
/// image: no systemd).
pub const SYSTEMCTL: &str = include_str!("../../assets/debian/systemctl");
/// Netkit's `/etc/init.d/zebra` and `/etc/init.d/quagga` on top of FRR (Debian image).
pub const QUAGGA_COMPAT: &str = include_str!("../../assets/debian/quagga");
/// A small `/etc/services` for the busybox image.
pub const SERVICES: &str = "\
ftp\t\t21/tcp
ssh\t\t22/tcp
telnet\t\t23/tcp
smtp\t\t25/tcp
domain\t\t53/tcp
domain\t\t53/udp
http\t\t80/tcp
bgp\t\t179/tcp
https\t\t443/tcp
router\t\t520/udp
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_with_the_guest_shells() {
        // busybox ash is the busybox image's /bin/sh, dash the Debian image's.
        for (name, text) in [
            ("flowlab-init", INIT),
            ("systemctl", SYSTEMCTL),
            ("quagga", QUAGGA_COMPAT),
        ] {
            assert!(text.starts_with("#!/bin/sh\n"), "{name}");
            for shell in [["busybox", "sh"], ["dash", "dash"]] {
                let Ok(out) = std::process::Command::new(shell[0])
                    .args(if shell[0] == "busybox" {
                        vec!["sh"]
                    } else {
                        vec![]
                    })
                    .arg("-n")
                    .arg("-c")
                    .arg(text)
                    .output()
                else {
                    eprintln!("SKIP: {} not installed", shell[0]);
                    continue;
                };
                assert!(
                    out.status.success(),
                    "{name} under {}: {}",
                    shell[1],
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    #[test]
    fn init_handles_the_netkit_keys() {
        for key in [
            "hostname=*",
            "hostlab=*",
            "hosthome=*",
            "autoconf_eth*=*",
            "def_route=*",
            "flowlab_agent=*",
            "shared.startup",
            ".shutdown",
            ".ready",
            "ctrl-alt-del",
        ] {
            assert!(INIT.contains(key), "{key}");
        }
    }
}
