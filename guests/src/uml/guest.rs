//! [`Guest`]: one running UML guest, seen from the host.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;

use super::agent::{Agent, AgentError, ExecOutput};
use super::mconsole::{Mconsole, MconsoleError};
use super::process::{self, alive, group_members, kill_group, signal, wait_until};
use super::spec::{parse_console_pty, GuestSpec, RootDisk, SpecError, ATTACH_CONSOLE_LINE};

/// How long [`Guest::halt`] waits after SIGTERM before it SIGKILLs the process group.
pub const TERM_GRACE: Duration = Duration::from_secs(5);
/// How long an mconsole command may take to be answered.
pub const MCONSOLE_TIMEOUT: Duration = Duration::from_secs(3);

/// A guest that could not be started, found or stopped.
#[derive(Debug, Error)]
pub enum GuestError {
    /// The spec cannot be turned into a command line.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A program is not installed.
    #[error("`{program}` not found: {hint}")]
    Missing {
        /// The program.
        program: String,
        /// How to install it.
        hint: &'static str,
    },
    /// A file or process operation failed.
    #[error("guest {name}: {what}: {source}")]
    Io {
        /// The guest.
        name: String,
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// A guest with this umid is running already.
    #[error("guest {name} (umid {umid}) is already running as pid {pid}")]
    AlreadyRunning {
        /// The guest.
        name: String,
        /// Its umid.
        umid: String,
        /// The running process.
        pid: i32,
    },
    /// No running guest was found for [`Guest::attach`].
    #[error("guest {name} (umid {umid}) is not running")]
    NotRunning {
        /// The guest.
        name: String,
        /// Its umid.
        umid: String,
    },
    /// The guest exited before it was ready.
    #[error("guest {name} exited before it was ready ({status}); console {log}:\n{tail}")]
    Exited {
        /// The guest.
        name: String,
        /// How it ended.
        status: String,
        /// The console log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The guest did not become ready in time.
    #[error("guest {name} not ready after {waited:?}; console {log}:\n{tail}")]
    NotReady {
        /// The guest.
        name: String,
        /// How long the host waited.
        waited: Duration,
        /// The console log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The guest has no lab dir, so it cannot signal readiness.
    #[error("guest {0} has no hostlab dir: it cannot create a .ready file")]
    NoReadyFile(String),
    /// The guest was started without an exec agent.
    #[error("guest {0} has no exec agent dir")]
    NoAgent(String),
    /// Some processes of the guest survived SIGKILL.
    #[error("guest {name}: processes {pids:?} survived SIGKILL")]
    Unkillable {
        /// The guest.
        name: String,
        /// The survivors.
        pids: Vec<i32>,
    },
    /// An mconsole exchange failed.
    #[error(transparent)]
    Mconsole(#[from] MconsoleError),
    /// An exec failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
}

/// How [`Guest::halt`] ended the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltOutcome {
    /// It was not running.
    NotRunning,
    /// It shut down by itself after mconsole `cad` (the `.shutdown` files ran).
    Clean,
    /// It did not, and SIGTERM ended it (no `.shutdown` files).
    Terminated,
    /// Even SIGTERM did not: its process group was SIGKILLed.
    Killed,
}

/// How to start a guest process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnOptions {
    /// Deliver SIGTERM to the guest when the thread that spawned it dies (tests: no
    /// guest outlives a killed test). Off for guests that must outlive the CLI.
    pub die_with_parent: bool,
    /// [`Guest`]'s drop crashes the guest if it still runs. [`Guest::detach`] turns it
    /// off.
    pub kill_on_drop: bool,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions {
            die_with_parent: false,
            kill_on_drop: true,
        }
    }
}

/// One UML guest process (the UML main process; it leads its own session and process
/// group, so every helper it forks is found and killed through the group).
#[derive(Debug)]
pub struct Guest {
    spec: GuestSpec,
    pid: i32,
    child: Option<Child>,
    status: Option<ExitStatus>,
    kill_on_drop: bool,
    started: Instant,
}

/// The first executable called `name` on PATH (or `name` itself when it has a slash).
pub fn find_program(name: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if name.components().count() > 1 {
        return exec(name).then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| exec(p))
}

fn io_err(name: &str, what: impl Into<String>) -> impl FnOnce(io::Error) -> GuestError + '_ {
    let what = what.into();
    move |source| GuestError::Io {
        name: name.to_string(),
        what,
        source,
    }
}

/// The pid of a live UML process of `spec` (from UML's pid file, checked against the
/// process's command line so that a recycled pid is not mistaken for the guest).
pub fn running_pid(spec: &GuestSpec) -> Option<i32> {
    let text = fs::read_to_string(spec.uml_pid_file()).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    if !alive(pid) {
        return None;
    }
    let want = format!("umid={}", spec.umid);
    process::cmdline(pid)?.contains(&want).then_some(pid)
}

impl Guest {
    /// Starts the guest with [`SpawnOptions::default`].
    pub fn spawn(spec: &GuestSpec) -> Result<Guest, GuestError> {
        Guest::spawn_with(spec, SpawnOptions::default())
    }

    /// Starts the guest: checks the programs, refuses a umid in use, removes a stale
    /// `uml_dir/umid` and `.ready` file, creates the agent dir, then runs the command line
    /// of [`GuestSpec::argv`] in a new session with the console on
    /// [`GuestSpec::console_log`] (truncated) and stdin from `/dev/null`.
    pub fn spawn_with(spec: &GuestSpec, opts: SpawnOptions) -> Result<Guest, GuestError> {
        let argv = spec.argv()?;
        let name = spec.name.as_str();
        if find_program(&spec.kernel).is_none() {
            return Err(GuestError::Missing {
                program: spec.kernel.display().to_string(),
                hint: "install Debian's user-mode-linux package (apt-get install user-mode-linux)",
            });
        }
        let program = match &spec.setarch {
            Some(_) => find_program(Path::new("setarch")).ok_or(GuestError::Missing {
                program: "setarch".into(),
                hint: "install util-linux",
            })?,
            None => find_program(&spec.kernel).unwrap_or_else(|| spec.kernel.clone()),
        };
        let (RootDisk::Cow { base, .. } | RootDisk::Image(base)) = &spec.root;
        if !base.is_file() {
            return Err(io_err(name, format!("root image {}", base.display()))(
                io::Error::new(io::ErrorKind::NotFound, "no such file"),
            ));
        }
        if let Some(pid) = running_pid(spec) {
            return Err(GuestError::AlreadyRunning {
                name: name.to_string(),
                umid: spec.umid.clone(),
                pid,
            });
        }
        let umid_dir = spec.umid_dir();
        if umid_dir.exists() {
            fs::remove_dir_all(&umid_dir).map_err(io_err(
                name,
                format!("removing stale {}", umid_dir.display()),
            ))?;
        }
        fs::create_dir_all(&spec.uml_dir)
            .map_err(io_err(name, format!("creating {}", spec.uml_dir.display())))?;
        if let Some(ready) = spec.ready_file() {
            let _ = fs::remove_file(ready);
        }
        if let Some(dir) = &spec.agent_dir {
            Agent::new(dir).prepare()?;
        }
        if let Some(parent) = spec.console_log.parent() {
            fs::create_dir_all(parent)
                .map_err(io_err(name, format!("creating {}", parent.display())))?;
        }
        let log = fs::File::create(&spec.console_log).map_err(io_err(
            name,
            format!("creating console log {}", spec.console_log.display()),
        ))?;
        let log2 = log
            .try_clone()
            .map_err(io_err(name, "duplicating the log fd"))?;
        let mut cmd = Command::new(&program);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if let Some(t) = &spec.tmpdir {
            cmd.env("TMPDIR", t);
        }
        let die_with_parent = opts.die_with_parent;
        let cpu = spec.cpu;
        // SAFETY: setsid, prctl and sched_setaffinity are async-signal-safe and touch no
        // parent memory.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                if let Some(c) = cpu {
                    // Pinning only speeds the guest up: a CPU gone from the cpuset since
                    // the plan was made must not stop it from booting.
                    let _ = super::process::pin_to_cpu(c);
                }
                if die_with_parent
                    && libc::prctl(
                        libc::PR_SET_PDEATHSIG,
                        libc::SIGTERM as libc::c_ulong,
                        0,
                        0,
                        0,
                    ) < 0
                {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(io_err(name, format!("starting {}", program.display())))?;
        let pid = child.id() as i32;
        if let Some(pf) = &spec.pid_file {
            if let Some(parent) = pf.parent() {
                let _ = fs::create_dir_all(parent);
            }
            fs::write(pf, format!("{pid}\n"))
                .map_err(io_err(name, format!("writing {}", pf.display())))?;
        }
        Ok(Guest {
            spec: spec.clone(),
            pid,
            child: Some(child),
            status: None,
            kill_on_drop: opts.kill_on_drop,
            started: Instant::now(),
        })
    }

    /// A handle on a guest started earlier (by another process): found through UML's pid
    /// file in `uml_dir/umid` and checked by its command line. Dropping it does not stop
    /// the guest.
    pub fn attach(spec: &GuestSpec) -> Result<Guest, GuestError> {
        let pid = running_pid(spec).ok_or_else(|| GuestError::NotRunning {
            name: spec.name.clone(),
            umid: spec.umid.clone(),
        })?;
        Ok(Guest {
            spec: spec.clone(),
            pid,
            child: None,
            status: None,
            kill_on_drop: false,
            started: Instant::now(),
        })
    }

    /// The spec it was started from.
    pub fn spec(&self) -> &GuestSpec {
        &self.spec
    }

    /// The machine name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The UML main process (also its process group and session id).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the guest outlive this handle: drop will not stop it. Returns the pid.
    pub fn detach(mut self) -> i32 {
        self.kill_on_drop = false;
        self.pid
    }

    /// Every live host process of the guest (its process group and session).
    pub fn processes(&self) -> Vec<i32> {
        group_members(self.pid)
    }

    /// True while the UML main process runs (a child is reaped when it has exited).
    pub fn is_running(&mut self) -> bool {
        self.try_wait();
        self.status.is_none() && alive(self.pid)
    }

    /// The exit status, if the guest was started by this handle and has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    self.status = Some(st);
                }
            }
        }
        self.status
    }

    /// Waits up to `timeout` for the UML main process to end. True when it has.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        wait_until(timeout, || !self.is_running())
    }

    /// The console log so far.
    pub fn console(&self) -> String {
        fs::read(&self.spec.console_log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The last `n` lines of the console log.
    pub fn console_tail(&self, n: usize) -> String {
        let text = self.console();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The host pty of the attachable console ([`GuestSpec::attach_console`]), once UML
    /// has printed it.
    pub fn console_pty(&self) -> Option<PathBuf> {
        parse_console_pty(&self.console(), ATTACH_CONSOLE_LINE)
    }

    /// Waits for `hostlab/<name>.ready` (the startup files have run), up to `timeout`.
    /// Returns the time since the spawn. Fails at once when the guest exits first.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<Duration, GuestError> {
        let ready = self
            .spec
            .ready_file()
            .ok_or_else(|| GuestError::NoReadyFile(self.spec.name.clone()))?;
        let start = Instant::now();
        loop {
            if ready.exists() {
                return Ok(self.started.elapsed());
            }
            if !self.is_running() {
                // The guest may have created the file just before exiting.
                if ready.exists() {
                    return Ok(self.started.elapsed());
                }
                let status = match self.status {
                    Some(st) => st.to_string(),
                    None => "exited".into(),
                };
                return Err(GuestError::Exited {
                    name: self.spec.name.clone(),
                    status,
                    log: self.spec.console_log.clone(),
                    tail: self.console_tail(20),
                });
            }
            if start.elapsed() >= timeout {
                return Err(GuestError::NotReady {
                    name: self.spec.name.clone(),
                    waited: start.elapsed(),
                    log: self.spec.console_log.clone(),
                    tail: self.console_tail(20),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A client of the guest's mconsole.
    pub fn mconsole(&self) -> Result<Mconsole, GuestError> {
        Ok(Mconsole::connect(&self.spec.mconsole_path())?)
    }

    /// Sends one mconsole command (e.g. `config eth1=daemon,,unix,SOCK`, `remove eth1`).
    pub fn mconsole_command(&self, command: &str) -> Result<String, GuestError> {
        Ok(self.mconsole()?.command(command, MCONSOLE_TIMEOUT)?)
    }

    /// The exec agent of the guest.
    pub fn agent(&self) -> Result<Agent, GuestError> {
        self.spec
            .agent_dir
            .as_ref()
            .map(Agent::new)
            .ok_or_else(|| GuestError::NoAgent(self.spec.name.clone()))
    }

    /// Runs `argv` in the guest through the exec agent.
    pub fn exec<S: AsRef<str>>(
        &self,
        argv: &[S],
        timeout: Duration,
    ) -> Result<ExecOutput, GuestError> {
        Ok(self.agent()?.exec(argv, timeout)?)
    }

    /// Runs a shell script in the guest through the exec agent.
    pub fn exec_script(&self, script: &str, timeout: Duration) -> Result<ExecOutput, GuestError> {
        Ok(self.agent()?.exec_script(script, timeout)?)
    }

    /// Halts the guest as Netkit's `vhalt` does: mconsole `cad` (init runs the
    /// `.shutdown` files and powers off) and up to `timeout` for the process to end; then
    /// SIGTERM to the UML main process and [`TERM_GRACE`]; then SIGKILL to the whole
    /// process group. Afterwards no process of the guest is left, and its `uml_dir/umid`,
    /// pid file and `.ready` file are removed (its COW file stays).
    pub fn halt(&mut self, timeout: Duration) -> Result<HaltOutcome, GuestError> {
        if !self.is_running() {
            self.finish()?;
            return Ok(HaltOutcome::NotRunning);
        }
        let mut outcome = HaltOutcome::Clean;
        let cad = self
            .mconsole()
            .and_then(|m| Ok(m.command("cad", MCONSOLE_TIMEOUT)?));
        if cad.is_err() || !self.wait_exit(timeout) {
            outcome = HaltOutcome::Terminated;
            let _ = signal(self.pid, libc::SIGTERM);
            if !self.wait_exit(TERM_GRACE) {
                outcome = HaltOutcome::Killed;
            }
        }
        self.finish()?;
        Ok(outcome)
    }

    /// Crashes the guest as `vcrash -k`: SIGKILL to its whole process group, at once (no
    /// `.shutdown` files). Its `uml_dir/umid`, pid file and `.ready` file are removed; its
    /// COW file stays (a crashed guest's disk may be inconsistent: delete it to start
    /// fresh, as `lcrash` does).
    pub fn crash(&mut self) -> Result<(), GuestError> {
        self.finish()
    }

    /// Kills whatever is left of the process group, reaps, and removes run-time files.
    fn finish(&mut self) -> Result<(), GuestError> {
        let gone = kill_group(self.pid, Duration::from_secs(5));
        if let Some(c) = self.child.as_mut() {
            if self.status.is_none() {
                let _ = signal(self.pid, libc::SIGKILL);
                if let Ok(st) = c.wait() {
                    self.status = Some(st);
                }
            }
        }
        if !gone {
            return Err(GuestError::Unkillable {
                name: self.spec.name.clone(),
                pids: group_members(self.pid),
            });
        }
        let _ = fs::remove_dir_all(self.spec.umid_dir());
        if let Some(pf) = &self.spec.pid_file {
            let _ = fs::remove_file(pf);
        }
        if let Some(ready) = self.spec.ready_file() {
            let _ = fs::remove_file(ready);
        }
        Ok(())
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.finish();
        } else if let Some(c) = self.child.as_mut() {
            // Reap it if it has ended; a live detached guest is left alone.
            let _ = c.try_wait();
        }
    }
}
