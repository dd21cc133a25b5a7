//! Guests booted straight from [`GuestSpec`]s: no lab folder parsing, no state dir, no
//! launcher. Each guest gets the command line `flowlab start` gives a busybox machine
//! (the shared read-only image under a COW file of its own, `setarch -R`, the same
//! memory, consoles, exec agent and stable MAC address), so the bench can boot "the same
//! guests" by hand, and talk to them through the exec agent.
//!
//! Layout of a set's directory: `lab/` (mounted as `/hostlab`: startup files, `.ready`
//! files), `cow/`, `log/` (console logs), `uml/` (UML's `uml_dir`), `exec/NAME/` (agent
//! spools), `run/` (pid files), `tmp/` (UML's TMPDIR when `/dev/shm` is `noexec`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use flowlab_guests::launcher::{stable_mac, uml_tmpdir};
use flowlab_guests::uml::{
    host_machine, Guest, GuestError, GuestSpec, Interface, RootDisk, SpawnOptions, Transport,
};

/// One guest to boot: its name, the hub its `eth0` plugs into, its startup file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestDef {
    /// Machine name (also its umid).
    pub name: String,
    /// The hub's control socket.
    pub socket: PathBuf,
    /// The text of `NAME.startup`.
    pub startup: String,
    /// How `eth0` reaches the hub (`socket` is its `--bess` listener for bess).
    pub transport: Transport,
    /// The CPU the guest is pinned to, if any.
    pub cpu: Option<usize>,
}

impl GuestDef {
    /// A guest with `eth0` at `addr`/24 on `socket`, configured the iproute2 way.
    pub fn with_address(name: &str, socket: &Path, addr: &str) -> GuestDef {
        GuestDef {
            name: name.to_string(),
            socket: socket.to_path_buf(),
            startup: format!("ip link set eth0 up\nip addr add {addr}/24 dev eth0\n"),
            transport: Transport::Daemon,
            cpu: None,
        }
    }

    /// The same guest pinned to `cpu` (None: not pinned).
    pub fn pinned(self, cpu: Option<usize>) -> GuestDef {
        GuestDef { cpu, ..self }
    }

    /// The same guest with `eth0` on `transport`.
    pub fn transport(self, transport: Transport) -> GuestDef {
        GuestDef { transport, ..self }
    }
}

/// A set of guests booted by hand, all stopped (process groups SIGKILLed) on drop.
#[derive(Debug)]
pub struct BareGuests {
    dir: PathBuf,
    base: PathBuf,
    mem_mb: u32,
    machine: String,
    tmpdir: Option<PathBuf>,
    guests: Vec<Guest>,
    keep: bool,
}

impl BareGuests {
    /// A new set in `dir` (created; it must not exist) booting image `base`.
    pub fn new(dir: PathBuf, base: &Path, mem_mb: u32, keep: bool) -> Result<BareGuests> {
        fs::create_dir_all(dir.parent().unwrap_or(Path::new("/")))?;
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for sub in ["lab", "cow", "log", "uml", "exec", "run"] {
            fs::create_dir(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
        let tmpdir = uml_tmpdir(&mounts, &dir.join("tmp"));
        if let Some(t) = &tmpdir {
            fs::create_dir_all(t)?;
        }
        Ok(BareGuests {
            dir,
            base: base.to_path_buf(),
            mem_mb,
            machine: host_machine(),
            tmpdir,
            guests: Vec::new(),
            keep,
        })
    }

    /// The directory mounted as `/hostlab` in every guest.
    pub fn lab_dir(&self) -> PathBuf {
        self.dir.join("lab")
    }

    /// The spec of `def`, as the launcher builds it for a busybox machine.
    pub fn spec(&self, def: &GuestDef) -> GuestSpec {
        let name = def.name.as_str();
        let mut s = GuestSpec::new(
            name,
            name,
            RootDisk::Cow {
                cow: self.dir.join("cow").join(format!("{name}.cow")),
                base: self.base.clone(),
            },
            self.dir.join("log").join(format!("{name}.log")),
            self.dir.join("uml"),
            Some(&self.machine),
        );
        s.mem_mb = self.mem_mb;
        s.interfaces.push(Interface {
            index: 0,
            socket: def.socket.clone(),
            mac: Some(stable_mac(name, 0, 0)),
            transport: def.transport,
        });
        s.hostlab = Some(self.lab_dir());
        s.agent_dir = Some(self.dir.join("exec").join(name));
        s.pid_file = Some(self.dir.join("run").join(format!("{name}.pid")));
        s.attach_console = true;
        s.tmpdir = self.tmpdir.clone();
        s.cpu = def.cpu;
        s
    }

    /// Writes `def`'s startup file into the lab dir (before any guest boots).
    pub fn write_startup(&self, def: &GuestDef) -> Result<()> {
        let path = self.lab_dir().join(format!("{}.startup", def.name));
        fs::write(&path, &def.startup).with_context(|| format!("writing {}", path.display()))
    }

    /// Boots `def` (its startup file must be written). Call from the main thread: the
    /// guest gets SIGTERM when the thread that spawned it dies.
    pub fn spawn(&mut self, def: &GuestDef) -> Result<()> {
        let spec = self.spec(def);
        let g = Guest::spawn_with(
            &spec,
            SpawnOptions {
                die_with_parent: true,
                kill_on_drop: true,
            },
        )
        .with_context(|| format!("starting guest {}", def.name))?;
        self.guests.push(g);
        Ok(())
    }

    /// Waits until every guest's `.ready` file exists, polling every `poll`, up to
    /// `timeout` in all. Returns each guest's time from its spawn to ready, in order.
    pub fn wait_ready(&mut self, timeout: Duration, poll: Duration) -> Result<Vec<Duration>> {
        let start = Instant::now();
        let mut done: Vec<Option<Duration>> = vec![None; self.guests.len()];
        loop {
            for (g, d) in self.guests.iter_mut().zip(done.iter_mut()) {
                if d.is_some() {
                    continue;
                }
                match g.wait_ready(Duration::ZERO) {
                    Ok(t) => *d = Some(t),
                    Err(GuestError::NotReady { .. }) => {}
                    Err(e) => return Err(anyhow!(e)),
                }
            }
            if done.iter().all(Option::is_some) {
                return Ok(done.into_iter().flatten().collect());
            }
            if start.elapsed() >= timeout {
                let late: Vec<&str> = self
                    .guests
                    .iter()
                    .zip(&done)
                    .filter(|(_, d)| d.is_none())
                    .map(|(g, _)| g.name())
                    .collect();
                let tail = self
                    .guests
                    .iter()
                    .zip(&done)
                    .find(|(_, d)| d.is_none())
                    .map(|(g, _)| g.console_tail(10))
                    .unwrap_or_default();
                bail!(
                    "guests {} not ready after {timeout:?}; console of the first:\n{tail}",
                    late.join(" ")
                );
            }
            std::thread::sleep(poll);
        }
    }

    /// The guests, in spawn order.
    pub fn guests(&self) -> &[Guest] {
        &self.guests
    }

    /// The UML main pid of each guest (also its process group and session).
    pub fn pids(&self) -> Vec<i32> {
        self.guests.iter().map(Guest::pid).collect()
    }

    /// Stops every guest at once (SIGKILL to each process group) and removes its COW.
    pub fn crash(&mut self) -> Result<()> {
        let mut errors = Vec::new();
        for mut g in self.guests.drain(..) {
            if let Err(e) = g.crash() {
                errors.push(e.to_string());
            }
            if let RootDisk::Cow { cow, .. } = &g.spec().root {
                let _ = fs::remove_file(cow);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            bail!("stopping guests: {}", errors.join("; "))
        }
    }
}

impl Drop for BareGuests {
    fn drop(&mut self) {
        let _ = self.crash();
        if !self.keep {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_the_launchers_busybox_machines() {
        let dir =
            std::env::temp_dir().join(format!("flowlab-bench-bare-test.{}", std::process::id()));
        let set =
            BareGuests::new(dir.clone(), Path::new("/images/busybox.img"), 64, false).unwrap();
        let def = GuestDef::with_address("pc3", Path::new("/tmp/hub/A.ctl"), "198.51.100.3");
        assert!(def.startup.contains("ip addr add 198.51.100.3/24 dev eth0"));
        set.write_startup(&def).unwrap();
        assert!(dir.join("lab/pc3.startup").is_file());
        let argv = set.spec(&def).argv().unwrap();
        let has = |w: &str| argv.iter().any(|a| a == w);
        assert!(has("-R") && has("mem=64M") && has("umid=pc3"), "{argv:?}");
        assert!(has("con1=pts"), "{argv:?}");
        let cow = format!("ubd0={}/cow/pc3.cow,/images/busybox.img", dir.display());
        assert!(has(&cow), "{argv:?}");
        let eth0 = format!(
            "eth0=daemon,{},unix,/tmp/hub/A.ctl",
            stable_mac("pc3", 0, 0)
        );
        assert!(has(&eth0), "{argv:?}");
        assert!(has(&format!("hostlab={}/lab", dir.display())), "{argv:?}");
        drop(set);
        assert!(!dir.exists());
    }
}
