//! One User-Mode Linux guest: its command line, its process, its management console and
//! its exec agent.
//!
//! # Design
//!
//! **Sans-IO where it can be.** [`GuestSpec`] holds everything that defines a guest and
//! turns it into the exact argv ([`GuestSpec::argv`]); it validates what UML would
//! silently misread (spaces or commas in paths, socket paths over 107 bytes, a quote in
//! `exec=`). The mconsole wire format ([`mconsole::RequestRepr`], [`mconsole::ReplyRepr`])
//! and the exec agent's request/status encoding ([`agent::encode_request`],
//! [`agent::parse_status`], [`agent::shell_join`]) are plain functions over bytes. The IO
//! sits in [`Guest`], [`Mconsole`] and [`Agent`].
//!
//! **The command line** follows `specs/uml-guests.md`, measured on this machine kind:
//!
//! ```text
//! setarch $(uname -m) -R linux.uml mem=64M umid=U uml_dir=D
//!   ubd0=COW,BASE root=/dev/ubda rw init=/sbin/flowlab-init
//!   con=null ssl=null con0=null,fd:1 [con1=pts]
//!   eth0=daemon,MAC,unix,SOCK ... hostname=NAME hostlab=LAB [hosthome=H]
//!   [flowlab_agent=SPOOL] [flowlab_copy=always] [flowlab_tty=tty1] [exec="CMD"] [EXTRA...]
//! ```
//!
//! * `setarch -R` removes UML's random "exec-shield gap" from guest RAM (without it
//!   `mem=32M` panics 4 boots in 5). The TMPDIR for UML's memory file must allow
//!   `PROT_EXEC` ([`GuestSpec::tmpdir`]).
//! * `ubd0=COW,BASE`: UML creates the sparse COW file on first boot ("Creating ... as COW
//!   file for ...", verified here); every guest shares the read-only base image. The COW
//!   header records the base's path and mtime, which is why images live under
//!   content-addressed names ([`crate::image`]).
//! * Console 0 goes to the log file (fd 1 is the file); `con=null ssl=null` stop UML
//!   from opening xterms. `con1=pts` gives an attachable console: UML allocates a host
//!   pty and prints `Virtual console 1 assigned device '/dev/pts/N'` in the log
//!   ([`Guest::console_pty`]); the guest's init keeps a shell on `/dev/tty1`.
//! * `hostname=` is a kernel parameter since Linux 5.19 (the kernel sets the hostname and
//!   keeps the word off init's environment); init reads it from `/proc/cmdline`. Unknown
//!   `KEY=VALUE` words (`hostlab=`, `exec=`) also reach init's environment, with quotes
//!   removed, which is the only way `exec="a b"` keeps its spaces.
//!
//! **The process.** [`Guest::spawn`] runs the command in a new session (`setsid` before
//! exec; `setarch` execs the kernel, so the child's pid is the UML main process and the
//! id of a session and process group that holds every helper UML forks). UML writes its
//! own pid file and mconsole socket in `uml_dir/umid/`; [`Guest::attach`] finds a guest
//! started by an earlier process through that pid file, checked against `umid=` in the
//! process's command line (pids get recycled). Stopping, from gentle to hard:
//!
//! 1. [`Guest::halt`]: mconsole `cad`. UML's `cad` calls the kernel's `ctrl_alt_del()`,
//!    which reboots at once unless `/proc/sys/kernel/ctrl-alt-del` is 0; the guest's init
//!    sets it to 0, so init gets SIGINT, runs `<name>.shutdown` then `shared.shutdown`,
//!    ends every process, remounts `/` read-only and powers off (UML exits 0).
//! 2. SIGTERM to the UML main process: UML exits at once and takes its helpers along
//!    (no `.shutdown` files).
//! 3. SIGKILL to the process group, repeated until `/proc` shows no member left
//!    ([`Guest::crash`] starts here). A SIGKILLed main process alone would leave helpers
//!    behind, re-parented to init (`specs/uml-guests.md` §8.3).
//!
//! Processes are only ever signalled by pid or process group, never by name; pids `0`,
//! `1` and `-1` are refused outright ([`process::signal`]).
//!
//! # CPU placement
//!
//! A UML guest is one virtual CPU made of several host processes that take turns: the
//! UML kernel process, and the ptraced processes that run guest userspace. Every guest
//! system call, page fault and signal is a ptrace round trip between them, and every
//! frame the guest sends or receives wakes the UML kernel with SIGIO. Left to itself the
//! host scheduler spreads these processes over CPUs, so each turn is a cross-CPU wakeup
//! (an inter-processor interrupt, on a virtual machine a VM exit) that lands on a cold
//! cache. Measured here (two Debian guests, 100 MiB of TCP through flowlab-hub, 2 CPUs,
//! nc as the transfer program): 38–50 MB/s with the guests free to move, 69–86 MB/s with
//! each guest pinned to a CPU of its own, and still 59 MB/s with both guests and the
//! switch pinned to the same single CPU: the turns, not the CPU time, were the cost.
//! `flowlab-bench lab` against `--no-pin` gives 1.5–1.6x, whatever the switch.
//!
//! [`GuestSpec::cpu`] pins a guest from the start (`sched_setaffinity` between fork and
//! exec, inherited by everything UML forks); [`process::pin_group`] pins a running guest,
//! every thread of every process of its session, and what they fork later inherits it.
//! The launcher pins each lab guest *once it is up*, round-robin in lab order over the
//! CPUs it may use itself (`flowlab start --no-pin` leaves placement to the scheduler):
//! booting is CPU-bound work the scheduler spreads better (pinned from the start, 10
//! busybox guests on 2 CPUs each took 0.7–0.8 s longer to boot). A static placement can
//! put two busy guests on one CPU while another idles, which the scheduler would avoid;
//! the measurement above says that case still beats the migrations.
//!
//! **exec** goes through a spool directory shared over hostfs; the reasons and the
//! protocol are in [`agent`].

pub mod agent;
mod guest;
pub mod mconsole;
pub mod process;
mod spec;

pub use agent::{Agent, AgentError, ExecOutput};
pub use guest::{
    find_program, running_pid, Guest, GuestError, HaltOutcome, SpawnOptions, MCONSOLE_TIMEOUT,
    TERM_GRACE,
};
pub use mconsole::{Mconsole, MconsoleError};
pub use process::host_machine;
pub use spec::{
    parse_console_pty, GuestSpec, Interface, Mac, MacParseError, RootDisk, SpecError, Transport,
    ATTACH_CONSOLE_LINE, DEFAULT_KERNEL, DEFAULT_MEM_MB, GUEST_INIT, MAX_SOCKET_PATH,
};
