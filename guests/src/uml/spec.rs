//! [`GuestSpec`]: everything that defines one UML guest, and the exact command line that
//! boots it. Sans-IO: building the argv touches no file and no process.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

/// The guest's init inside the image (see `guests/assets/flowlab-init`).
pub const GUEST_INIT: &str = "/sbin/flowlab-init";
/// The default kernel: Debian's `user-mode-linux` package puts `linux.uml` on PATH.
pub const DEFAULT_KERNEL: &str = "linux.uml";
/// The default guest memory in MiB. 64 never failed in the measurements of
/// `specs/uml-guests.md` §8 (32 needs `setarch -R`).
pub const DEFAULT_MEM_MB: u32 = 64;
/// The console line that [`GuestSpec::attach_console`] turns into a host pty.
pub const ATTACH_CONSOLE_LINE: u32 = 1;
/// Longest unix socket path (`sun_path` holds 108 bytes with the terminating NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// A problem with a [`GuestSpec`] found before anything is started.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpecError {
    /// The machine name is empty, too long or has characters a hostname cannot have.
    #[error("bad machine name {0:?}: use 1-64 of A-Z a-z 0-9 - _ .")]
    BadName(String),
    /// The umid is empty, too long or has characters other than A-Z a-z 0-9 - _ .
    #[error("bad umid {0:?}: use 1-64 of A-Z a-z 0-9 - _ .")]
    BadUmid(String),
    /// A path is relative; UML resolves paths against its own working directory.
    #[error("{what} must be an absolute path: {path}")]
    RelativePath {
        /// Which path.
        what: &'static str,
        /// The path.
        path: String,
    },
    /// A path cannot go on the kernel command line (not UTF-8, a space, a comma or a quote).
    #[error("{what} cannot be passed to UML (no spaces, commas, quotes or non-UTF-8): {path}")]
    UnsafePath {
        /// Which path.
        what: &'static str,
        /// The path, lossily converted.
        path: String,
    },
    /// A unix socket path is longer than `sun_path` allows.
    #[error("{what} is {len} bytes long, unix sockets allow {MAX_SOCKET_PATH}: {path}")]
    SocketPathTooLong {
        /// Which socket.
        what: &'static str,
        /// The path.
        path: String,
        /// Its length in bytes.
        len: usize,
    },
    /// Two interfaces have the same index.
    #[error("interface eth{0} is given twice")]
    DuplicateInterface(u32),
    /// The memory size is below what UML can boot with.
    #[error("mem={0}M is too small (at least 16)")]
    MemTooSmall(u32),
    /// The `exec=` command contains a double quote or a newline, which the kernel command
    /// line cannot carry.
    #[error("the exec command cannot contain double quotes or newlines: {0:?}")]
    BadExec(String),
    /// An extra kernel argument is empty or contains whitespace.
    #[error("bad extra kernel argument {0:?} (empty or with whitespace)")]
    BadAppend(String),
}

/// An Ethernet address, written `02:00:00:00:00:01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

/// A string that is not six colon-separated hex bytes.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("bad MAC address {0:?}: expected six hex bytes like 02:00:00:00:00:01")]
pub struct MacParseError(pub String);

impl Mac {
    /// A locally administered unicast address derived from a small number: `02:fl:...`,
    /// handy for tests and for stable per-machine defaults.
    pub fn local(n: u32) -> Mac {
        let b = n.to_be_bytes();
        Mac([0x02, 0x00, b[0], b[1], b[2], b[3]])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl FromStr for Mac {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Mac, MacParseError> {
        let bad = || MacParseError(s.to_string());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in out.iter_mut() {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || p.len() > 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Mac(out))
    }
}

/// How an interface reaches its hub.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// UML's legacy `daemon` transport and the uml_switch protocol, as Netkit uses it:
    /// `ethN=daemon,MAC,unix,CTL` (the socket is the hub's control socket).
    #[default]
    Daemon,
    /// UML's vector driver with the `bess` transport: `vecN:transport=bess,dst=SOCK,mac=MAC`
    /// (the socket is the hub's `--bess` listener). The guest names the interface `vecN`;
    /// the guest init renames it `ethN` before anything else runs, so lab files are
    /// unchanged. This is the transport of kernels without the legacy drivers.
    Bess,
}

impl Transport {
    /// The name used on command lines (`daemon`, `bess`).
    pub fn name(self) -> &'static str {
        match self {
            Transport::Daemon => "daemon",
            Transport::Bess => "bess",
        }
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Transport, String> {
        match s {
            "daemon" => Ok(Transport::Daemon),
            "bess" | "vector" => Ok(Transport::Bess),
            _ => Err(format!(
                "unknown transport '{s}' (daemon: UML's uml_switch transport; bess: UML's vector driver)"
            )),
        }
    }
}

/// One network interface: `eth<index>` on the hub behind `socket`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// N in `ethN`.
    pub index: u32,
    /// The hub's socket: its control socket (daemon) or its `--bess` listener (bess).
    pub socket: PathBuf,
    /// A fixed MAC; `None` lets UML choose.
    pub mac: Option<Mac>,
    /// How the interface reaches the hub.
    pub transport: Transport,
}

/// The guest's root disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootDisk {
    /// `ubd0=COW,BASE`: the shared read-only image `base` under a per-guest copy-on-write
    /// file `cow`. UML creates `cow` (sparse) when it does not exist; an existing one is
    /// reused, which is how a halted guest keeps its state. The COW records the base's
    /// path and mtime, so a rebuilt base at the same path breaks old COW files (images are
    /// therefore stored under content-addressed names, see [`crate::image`]).
    Cow {
        /// The per-guest COW file.
        cow: PathBuf,
        /// The shared image.
        base: PathBuf,
    },
    /// `ubd0=IMAGE`: the image itself, written by the guest (never share it).
    Image(PathBuf),
}

/// Everything that defines one guest. Build with [`GuestSpec::new`], adjust the public
/// fields, then [`GuestSpec::argv`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestSpec {
    /// The machine name: `hostname=`, the `.startup`/`.shutdown`/`.ready` file names.
    pub name: String,
    /// UML's `umid=`: names the guest's dir under `uml_dir` (pid file, mconsole socket).
    pub umid: String,
    /// `mem=` in MiB.
    pub mem_mb: u32,
    /// The kernel binary; a bare name is looked up on PATH.
    pub kernel: PathBuf,
    /// `Some(machine)` runs the kernel under `setarch <machine> -R` (no ASLR: without it
    /// UML adds a random gap to guest RAM, `specs/uml-guests.md` §8.1).
    pub setarch: Option<String>,
    /// The root disk.
    pub root: RootDisk,
    /// The network interfaces.
    pub interfaces: Vec<Interface>,
    /// The lab dir, mounted on `/hostlab` (`hostlab=`); the `.ready` file appears there.
    pub hostlab: Option<PathBuf>,
    /// Mounted on `/hosthome` (`hosthome=`).
    pub hosthome: Option<PathBuf>,
    /// The exec agent's spool dir on the host (`flowlab_agent=`), see [`super::agent`].
    pub agent_dir: Option<PathBuf>,
    /// Netkit's `exec=`: a command run after the startup files.
    pub exec: Option<String>,
    /// Copy the lab folders into `/` at every boot (Kathara) instead of the first only.
    pub copy_always: bool,
    /// `con1=pts` plus a shell on the guest's `/dev/tty1`: a console a user can attach to.
    /// The host pty's name appears in the console log ([`parse_console_pty`]).
    pub attach_console: bool,
    /// More kernel arguments, appended as given (`KEY=VALUE` words reach init's
    /// environment).
    pub append: Vec<String>,
    /// Where console 0 (kernel messages, init's output) is written on the host.
    pub console_log: PathBuf,
    /// UML's `uml_dir=`: the guest's pid file and mconsole socket go in `uml_dir/umid/`.
    pub uml_dir: PathBuf,
    /// `TMPDIR` for UML's memory file; it must allow `PROT_EXEC` mappings. `None` keeps
    /// the inherited environment (UML then tries `/dev/shm`).
    pub tmpdir: Option<PathBuf>,
    /// A pid file for the UML main process that [`super::Guest`] writes and removes.
    pub pid_file: Option<PathBuf>,
    /// Pin every host process of the guest to this CPU (`sched_setaffinity` before exec,
    /// inherited by UML's helpers and the processes that run guest userspace; ignored if
    /// the kernel refuses). See [`super`]'s "CPU placement".
    pub cpu: Option<usize>,
}

impl GuestSpec {
    /// A spec with the defaults: [`DEFAULT_MEM_MB`], [`DEFAULT_KERNEL`], `setarch -R` for
    /// `machine` (pass [`super::host_machine`]), no interfaces, no host dirs.
    pub fn new(
        name: &str,
        umid: &str,
        root: RootDisk,
        console_log: impl Into<PathBuf>,
        uml_dir: impl Into<PathBuf>,
        machine: Option<&str>,
    ) -> GuestSpec {
        GuestSpec {
            name: name.to_string(),
            umid: umid.to_string(),
            mem_mb: DEFAULT_MEM_MB,
            kernel: PathBuf::from(DEFAULT_KERNEL),
            setarch: machine.map(str::to_string),
            root,
            interfaces: Vec::new(),
            hostlab: None,
            hosthome: None,
            agent_dir: None,
            exec: None,
            copy_always: false,
            attach_console: false,
            append: Vec::new(),
            console_log: console_log.into(),
            uml_dir: uml_dir.into(),
            tmpdir: None,
            pid_file: None,
            cpu: None,
        }
    }

    /// `uml_dir/umid`: UML's per-guest dir.
    pub fn umid_dir(&self) -> PathBuf {
        self.uml_dir.join(&self.umid)
    }

    /// `uml_dir/umid/mconsole`: the management console socket.
    pub fn mconsole_path(&self) -> PathBuf {
        self.umid_dir().join("mconsole")
    }

    /// `uml_dir/umid/pid`: the pid file UML writes itself.
    pub fn uml_pid_file(&self) -> PathBuf {
        self.umid_dir().join("pid")
    }

    /// `hostlab/<name>.ready`: created by the guest when its startup files have run.
    pub fn ready_file(&self) -> Option<PathBuf> {
        self.hostlab
            .as_ref()
            .map(|d| d.join(format!("{}.ready", self.name)))
    }

    /// The program to run: `setarch` when [`GuestSpec::setarch`] is set, else the kernel.
    pub fn program(&self) -> PathBuf {
        match self.setarch {
            Some(_) => PathBuf::from("setarch"),
            None => self.kernel.clone(),
        }
    }

    /// Checks everything that would make UML misread its command line.
    pub fn validate(&self) -> Result<(), SpecError> {
        if !valid_ident(&self.name) {
            return Err(SpecError::BadName(self.name.clone()));
        }
        if !valid_ident(&self.umid) {
            return Err(SpecError::BadUmid(self.umid.clone()));
        }
        if self.mem_mb < 16 {
            return Err(SpecError::MemTooSmall(self.mem_mb));
        }
        match &self.root {
            RootDisk::Cow { cow, base } => {
                cmdline_path("COW file", cow)?;
                cmdline_path("base image", base)?;
            }
            RootDisk::Image(p) => {
                cmdline_path("root image", p)?;
            }
        }
        cmdline_path("uml_dir", &self.uml_dir)?;
        socket_path("mconsole socket", &self.mconsole_path())?;
        let mut seen = Vec::new();
        for i in &self.interfaces {
            if seen.contains(&i.index) {
                return Err(SpecError::DuplicateInterface(i.index));
            }
            seen.push(i.index);
            let path = cmdline_path("hub socket", &i.socket)?;
            if i.transport == Transport::Bess && path.contains([':', '=']) {
                // The vector driver splits its spec at `=`; `:` ends the device name.
                return Err(SpecError::UnsafePath {
                    what: "hub socket",
                    path: path.to_string(),
                });
            }
            socket_path("hub socket", &i.socket)?;
        }
        for (what, p) in [
            ("hostlab", &self.hostlab),
            ("hosthome", &self.hosthome),
            ("agent dir", &self.agent_dir),
        ] {
            if let Some(p) = p {
                cmdline_path(what, p)?;
            }
        }
        if let Some(e) = &self.exec {
            if e.contains(['"', '\n', '\r']) {
                return Err(SpecError::BadExec(e.clone()));
            }
        }
        for a in &self.append {
            if a.is_empty() || a.contains(char::is_whitespace) {
                return Err(SpecError::BadAppend(a.clone()));
            }
        }
        Ok(())
    }

    /// The kernel's arguments (without the program and `setarch`), in this order: memory
    /// and identity, root disk and init, consoles, interfaces by index, Netkit keys, then
    /// [`GuestSpec::append`].
    pub fn kernel_args(&self) -> Result<Vec<String>, SpecError> {
        self.validate()?;
        let s = |p: &Path| p.to_str().unwrap_or_default().to_string();
        let mut a = vec![
            format!("mem={}M", self.mem_mb),
            format!("umid={}", self.umid),
            format!("uml_dir={}", s(&self.uml_dir)),
        ];
        match &self.root {
            RootDisk::Cow { cow, base } => a.push(format!("ubd0={},{}", s(cow), s(base))),
            RootDisk::Image(p) => a.push(format!("ubd0={}", s(p))),
        }
        a.push("root=/dev/ubda".into());
        a.push("rw".into());
        a.push(format!("init={GUEST_INIT}"));
        a.push("con=null".into());
        a.push("ssl=null".into());
        a.push("con0=null,fd:1".into());
        if self.attach_console {
            a.push(format!("con{ATTACH_CONSOLE_LINE}=pts"));
        }
        let mut ifs: Vec<&Interface> = self.interfaces.iter().collect();
        ifs.sort_by_key(|i| i.index);
        for i in ifs {
            let mac = i.mac.map(|m| m.to_string()).unwrap_or_default();
            match i.transport {
                Transport::Daemon => {
                    a.push(format!("eth{}=daemon,{mac},unix,{}", i.index, s(&i.socket)))
                }
                Transport::Bess if mac.is_empty() => a.push(format!(
                    "vec{}:transport=bess,dst={}",
                    i.index,
                    s(&i.socket)
                )),
                Transport::Bess => a.push(format!(
                    "vec{}:transport=bess,dst={},mac={mac}",
                    i.index,
                    s(&i.socket)
                )),
            }
        }
        a.push(format!("hostname={}", self.name));
        if let Some(p) = &self.hostlab {
            a.push(format!("hostlab={}", s(p)));
        }
        if let Some(p) = &self.hosthome {
            a.push(format!("hosthome={}", s(p)));
        }
        if let Some(p) = &self.agent_dir {
            a.push(format!("flowlab_agent={}", s(p)));
        }
        if self.copy_always {
            a.push("flowlab_copy=always".into());
        }
        if self.attach_console {
            a.push(format!("flowlab_tty=tty{ATTACH_CONSOLE_LINE}"));
        }
        if let Some(e) = &self.exec {
            a.push(format!("exec=\"{e}\""));
        }
        a.extend(self.append.iter().cloned());
        Ok(a)
    }

    /// The whole command line: `setarch <machine> -R <kernel> <kernel args>` (or the kernel
    /// alone without setarch). The first element is the program.
    pub fn argv(&self) -> Result<Vec<String>, SpecError> {
        let kernel = self.kernel.to_string_lossy().into_owned();
        let mut argv = match &self.setarch {
            Some(m) => vec!["setarch".to_string(), m.clone(), "-R".into(), kernel],
            None => vec![kernel],
        };
        argv.extend(self.kernel_args()?);
        Ok(argv)
    }
}

/// The host pty of console line `line` in a console log: UML prints
/// `Virtual console N assigned device '/dev/pts/M'` when it opens a `pts` channel.
pub fn parse_console_pty(log: &str, line: u32) -> Option<PathBuf> {
    let needle = format!("Virtual console {line} assigned device '");
    let start = log.rfind(&needle)? + needle.len();
    let rest = log.get(start..)?;
    let end = rest.find('\'')?;
    Some(PathBuf::from(&rest[..end]))
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn cmdline_path<'a>(what: &'static str, p: &'a Path) -> Result<&'a str, SpecError> {
    let Some(s) = p.to_str() else {
        return Err(SpecError::UnsafePath {
            what,
            path: p.to_string_lossy().into_owned(),
        });
    };
    if !p.is_absolute() {
        return Err(SpecError::RelativePath {
            what,
            path: s.to_string(),
        });
    }
    if s.contains(|c: char| c.is_whitespace() || c == ',' || c == '"' || c.is_control()) {
        return Err(SpecError::UnsafePath {
            what,
            path: s.to_string(),
        });
    }
    Ok(s)
}

fn socket_path(what: &'static str, p: &Path) -> Result<(), SpecError> {
    let len = p.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(SpecError::SocketPathTooLong {
            what,
            path: p.to_string_lossy().into_owned(),
            len,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> GuestSpec {
        let mut s = GuestSpec::new(
            "pc1",
            "lab-pc1",
            RootDisk::Cow {
                cow: "/lab/.flowlab/pc1.disk".into(),
                base: "/data/images/busybox-0123.img".into(),
            },
            "/lab/.flowlab/pc1.log",
            "/lab/.flowlab/uml",
            Some("x86_64"),
        );
        s.interfaces = vec![
            Interface {
                index: 1,
                socket: "/lab/.flowlab/hubs/B.ctl".into(),
                mac: None,
                transport: Transport::Daemon,
            },
            Interface {
                index: 0,
                socket: "/lab/.flowlab/hubs/A.ctl".into(),
                mac: Some(Mac::local(1)),
                transport: Transport::Daemon,
            },
        ];
        s.hostlab = Some("/lab".into());
        s.agent_dir = Some("/lab/.flowlab/exec/pc1".into());
        s
    }

    #[test]
    fn argv_is_exact() {
        let mut s = spec();
        s.exec = Some("echo a  b".into());
        s.append = vec!["quiet".into()];
        let argv = s.argv().unwrap();
        assert_eq!(
            argv,
            vec![
                "setarch",
                "x86_64",
                "-R",
                "linux.uml",
                "mem=64M",
                "umid=lab-pc1",
                "uml_dir=/lab/.flowlab/uml",
                "ubd0=/lab/.flowlab/pc1.disk,/data/images/busybox-0123.img",
                "root=/dev/ubda",
                "rw",
                "init=/sbin/flowlab-init",
                "con=null",
                "ssl=null",
                "con0=null,fd:1",
                "eth0=daemon,02:00:00:00:00:01,unix,/lab/.flowlab/hubs/A.ctl",
                "eth1=daemon,,unix,/lab/.flowlab/hubs/B.ctl",
                "hostname=pc1",
                "hostlab=/lab",
                "flowlab_agent=/lab/.flowlab/exec/pc1",
                "exec=\"echo a  b\"",
                "quiet",
            ]
        );
        assert_eq!(s.program(), PathBuf::from("setarch"));
    }

    #[test]
    fn bess_interfaces_use_the_vector_driver() {
        let mut s = spec();
        for i in &mut s.interfaces {
            i.transport = Transport::Bess;
            i.socket = i.socket.with_extension("bess");
        }
        let argv = s.argv().unwrap();
        let has = |w: &str| argv.iter().any(|a| a == w);
        assert!(
            has("vec0:transport=bess,dst=/lab/.flowlab/hubs/A.bess,mac=02:00:00:00:00:01"),
            "{argv:?}"
        );
        assert!(
            has("vec1:transport=bess,dst=/lab/.flowlab/hubs/B.bess"),
            "{argv:?}"
        );
        assert!(!argv.iter().any(|a| a.starts_with("eth")), "{argv:?}");
        s.interfaces[0].socket = "/lab/a=b.bess".into();
        assert!(matches!(s.argv(), Err(SpecError::UnsafePath { .. })));
        assert_eq!("vector".parse::<Transport>(), Ok(Transport::Bess));
        assert_eq!("daemon".parse::<Transport>(), Ok(Transport::Daemon));
        assert!("tap".parse::<Transport>().is_err());
    }

    #[test]
    fn argv_without_setarch_and_with_console() {
        let mut s = spec();
        s.setarch = None;
        s.kernel = "/opt/uml/linux".into();
        s.root = RootDisk::Image("/img/root.img".into());
        s.attach_console = true;
        s.copy_always = true;
        s.hosthome = Some("/home/u".into());
        s.mem_mb = 128;
        let argv = s.argv().unwrap();
        assert_eq!(argv[0], "/opt/uml/linux");
        assert_eq!(argv[1], "mem=128M");
        assert!(argv.contains(&"ubd0=/img/root.img".to_string()));
        assert!(argv.contains(&"con1=pts".to_string()));
        assert!(argv.contains(&"flowlab_tty=tty1".to_string()));
        assert!(argv.contains(&"flowlab_copy=always".to_string()));
        assert!(argv.contains(&"hosthome=/home/u".to_string()));
        // con1 comes after con0 (a later con= would override it otherwise).
        let p0 = argv.iter().position(|a| a == "con0=null,fd:1").unwrap();
        let p1 = argv.iter().position(|a| a == "con1=pts").unwrap();
        let pc = argv.iter().position(|a| a == "con=null").unwrap();
        assert!(pc < p0 && p0 < p1);
    }

    #[test]
    fn paths_and_names() {
        let s = spec();
        assert_eq!(
            s.mconsole_path(),
            PathBuf::from("/lab/.flowlab/uml/lab-pc1/mconsole")
        );
        assert_eq!(
            s.uml_pid_file(),
            PathBuf::from("/lab/.flowlab/uml/lab-pc1/pid")
        );
        assert_eq!(s.ready_file(), Some(PathBuf::from("/lab/pc1.ready")));
    }

    #[test]
    fn validation_rejects_what_uml_would_misread() {
        let mut s = spec();
        s.name = "pc 1".into();
        assert_eq!(s.argv(), Err(SpecError::BadName("pc 1".into())));
        let mut s = spec();
        s.umid = String::new();
        assert!(matches!(s.argv(), Err(SpecError::BadUmid(_))));
        let mut s = spec();
        s.hostlab = Some("/my lab".into());
        assert!(matches!(
            s.argv(),
            Err(SpecError::UnsafePath {
                what: "hostlab",
                ..
            })
        ));
        let mut s = spec();
        s.root = RootDisk::Cow {
            cow: "/a,b.cow".into(),
            base: "/base.img".into(),
        };
        assert!(matches!(s.argv(), Err(SpecError::UnsafePath { .. })));
        let mut s = spec();
        s.uml_dir = "relative/uml".into();
        assert!(matches!(s.argv(), Err(SpecError::RelativePath { .. })));
        let mut s = spec();
        s.interfaces[1].index = 1;
        s.interfaces[0].index = 1;
        assert_eq!(s.argv(), Err(SpecError::DuplicateInterface(1)));
        let mut s = spec();
        s.interfaces[0].socket = PathBuf::from(format!("/{}", "x".repeat(120)));
        assert!(matches!(
            s.argv(),
            Err(SpecError::SocketPathTooLong { len: 121, .. })
        ));
        let mut s = spec();
        s.exec = Some("echo \"hi\"".into());
        assert!(matches!(s.argv(), Err(SpecError::BadExec(_))));
        let mut s = spec();
        s.append = vec!["a b".into()];
        assert!(matches!(s.argv(), Err(SpecError::BadAppend(_))));
        let mut s = spec();
        s.mem_mb = 8;
        assert_eq!(s.argv(), Err(SpecError::MemTooSmall(8)));
    }

    #[test]
    fn mac_parse_and_print() {
        let m: Mac = "02:00:0A:bc:00:ff".parse().unwrap();
        assert_eq!(m, Mac([2, 0, 0x0a, 0xbc, 0, 0xff]));
        assert_eq!(m.to_string(), "02:00:0a:bc:00:ff");
        assert_eq!("02-00-00-00-00-01".parse::<Mac>(), Ok(Mac::local(1)));
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:01:02",
            "02:00:00:00:00:1g",
            "002:00:00:00:00:01",
            "02::00:00:00:01",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
        assert_eq!(Mac::local(0x0102_0304).to_string(), "02:00:01:02:03:04");
    }

    #[test]
    fn console_pty_from_log() {
        let log = "Console initialized on /dev/tty0\n\
                   Virtual console 1 assigned device '/dev/pts/7'\n\
                   Virtual console 2 assigned device '/dev/pts/9'\n";
        assert_eq!(parse_console_pty(log, 1), Some(PathBuf::from("/dev/pts/7")));
        assert_eq!(parse_console_pty(log, 2), Some(PathBuf::from("/dev/pts/9")));
        assert_eq!(parse_console_pty(log, 3), None);
        assert_eq!(
            parse_console_pty("Virtual console 1 assigned device '/dev/pts", 1),
            None
        );
    }
}
