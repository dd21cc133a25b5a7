//! Guest root filesystems: the busybox and Debian images, and the guest init they boot.
//!
//! # Design
//!
//! **One read-only base, one COW per guest.** An image is an ext4 file. Guests boot it as
//! `ubd0=<guest>.cow,<image>`; UML creates the sparse COW file on first boot and writes
//! only there, so any number of guests share one base, as in Netkit. A COW file records
//! its base's path and mtime, and UML refuses a COW whose base changed. So an image is
//! never rebuilt in place: its file name carries a digest of everything that went into
//! it (`busybox-<16 hex>.img`), a changed init script or busybox binary gives a new file,
//! and COW files made against the old one keep working until [`ImageStore::prune`]
//! removes it.
//!
//! **No root for the busybox image.** The tree is staged in a directory (a [`Plan`]:
//! dirs, files, copies, symlinks; planned without IO, then hashed, then written) and
//! turned into an image by `mkfs.ext4 -d` (e2fsprogs ≥ 1.43). `-d` copies owners from the
//! staging dir, so a normal user's build would give a guest whose `/etc/shadow` belongs to
//! uid 1000: `-E root_owner=0:0` fixes the root dir and `debugfs -w` (`sif PATH uid 0`)
//! every other staged inode that is not root-owned ([`ext4::make_ext4`]).
//!
//! **The Debian image needs root** ([`ImageError::NeedsRoot`]): debootstrap unpacks
//! root-owned files, makes device nodes and runs package scripts in a chroot. The
//! unprivileged route (`fakechroot fakeroot debootstrap --variant=fakechroot`) breaks on
//! packages whose scripts need a real chroot and is not implemented; build once as root
//! into a data dir users can read (the image file is mode 0444, and UML opens a COW's
//! base read-only, so a normal user boots a root-built image). It needs a Debian mirror
//! and takes about a minute here (`debootstrap --variant=minbase
//! --include=iproute2,net-tools,...,frr bookworm`: 49 to 65 s, 1 GiB sparse image).
//!
//! **Cache.** Images live in `<data>/images/`, `<data>` being `$FLOWLAB_DATA`, else
//! `$XDG_DATA_HOME/flowlab`, else `~/.local/share/flowlab` ([`data_dir`]). A build runs
//! under an exclusive `flock` on `images/.lock`, into a temp file renamed into place at
//! the end: a finished name is always a complete image, two concurrent `ensure` calls
//! build once, and a crashed build leaves only temp files (removed by the next build).
//! Progress goes to a callback ([`Progress`]) for the CLI's bar.
//!
//! # The guest boot contract (`/sbin/flowlab-init`, `guests/assets/flowlab-init`)
//!
//! The same POSIX sh script is PID 1 in both images (busybox ash; dash on Debian, whose
//! minbase has no init system). It does what Netkit's phase 1 and 2 scripts do
//! (`specs/netkit-lab.md` §4), keyed by the same kernel command line:
//!
//! 1. mounts proc, sys, devtmpfs (already there: `CONFIG_DEVTMPFS_MOUNT`), devpts, tmpfs
//!    on `/tmp`, `/run`, `/dev/shm`; sets `/proc/sys/kernel/ctrl-alt-del` to 0 so that
//!    mconsole `cad` reaches init as SIGINT instead of rebooting the kernel at once;
//! 2. reads `/proc/cmdline`: `hostname=` (the kernel sets the hostname itself since 5.19)
//!    or Netkit 2.8's `name=`, `hostlab=`, `hosthome=`, `hostwd=`, `mount=SRC,DST`,
//!    `autoconf_ethN=`, `def_route=`, and `flowlab_agent=`, `flowlab_copy=`,
//!    `flowlab_shell=`, `flowlab_tty=`; `exec="..."` comes from init's environment (the
//!    kernel passes unknown keys there, with the quotes removed);
//! 3. mounts hostfs: the lab on `/hostlab`, `/hosthome`, `/hostwd`, the agent spool on
//!    `/run/flowlab/agent`;
//! 4. on the **first boot of this root** (no `/etc/flowlab/configured`; `flowlab_copy=
//!    always` for Kathara's every-boot copy): copies `/hostlab/shared/.` then
//!    `/hostlab/<name>/.` into `/` (`cp -R`: symlinks kept, owners not), writes
//!    `/etc/hostname` and `/etc/hosts`, then the marker. A halted guest keeps its COW and
//!    so does not see edited lab files again, exactly as in Netkit;
//! 5. brings `lo` up, applies `autoconf_ethN`/`def_route`;
//! 6. starts the exec agent ([`crate::uml::agent`]) and, with `flowlab_tty`, a respawning
//!    shell on that tty;
//! 7. in a background job: `/hostlab/shared.startup`, `/hostlab/<name>.startup` (with
//!    `/bin/sh`, cwd `/root`, stdin `/dev/null`, output on the console), `exec=`, then
//!    creates `/hostlab/<name>.ready`;
//! 8. waits. `wait` with a never-ending child reaps every process (orphans included) and
//!    returns when a trapped signal arrives: SIGINT (`cad`), SIGUSR1/SIGUSR2 (busybox
//!    `halt`/`poweroff`) halt, SIGTERM (busybox `reboot`) reboots. Shutdown: stop the
//!    agent, run `<name>.shutdown` then `shared.shutdown`, SIGTERM then SIGKILL every
//!    process, `sync`, remount `/` read-only, `poweroff -f` (busybox) or
//!    `echo o > /proc/sysrq-trigger` (Debian minbase has no poweroff). UML exits 0.
//!
//! Startup files run in the background so that PID 1 stays free to take a halt while a
//! startup file still runs (a shell defers traps while a foreground child runs).
//!
//! On the Debian image `systemctl start frr` (Kathara labs) runs `/etc/init.d/frr start`
//! through a shim, and `/etc/init.d/zebra|quagga start` (Netkit labs) copy a Quagga-style
//! config into `/etc/frr` and start FRR.

mod assets;
mod busybox;
mod debian;
pub mod ext4;
mod plan;

use std::fmt;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

pub use assets::{INIT, INIT_PATH, QUAGGA_COMPAT, SYSTEMCTL};
pub use busybox::{find_busybox, is_static_elf};
pub use debian::{PACKAGES as DEBIAN_PACKAGES, SUITE as DEBIAN_SUITE};
pub use plan::{Entry, Plan};

/// Bumped whenever the build changes in a way the plan digest does not see (mkfs options,
/// debootstrap handling), so that existing images are rebuilt.
pub const FORMAT_VERSION: u32 = 1;
/// Default busybox image size in MiB (sparse: about 19 MiB on disk).
pub const BUSYBOX_SIZE_MIB: u64 = 256;
/// Default Debian image size in MiB (sparse).
pub const DEBIAN_SIZE_MIB: u64 = 1024;

/// Which image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// busybox-static: boots in about 2 s, builds in a second without root or network.
    Busybox,
    /// Debian bookworm minbase with iproute2, net-tools, FRR...: realistic; needs root
    /// and a mirror to build, minutes.
    Debian,
}

impl ImageKind {
    /// `busybox` or `debian`.
    pub fn name(self) -> &'static str {
        match self {
            ImageKind::Busybox => "busybox",
            ImageKind::Debian => "debian",
        }
    }
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ImageKind {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<ImageKind, ImageError> {
        match s {
            "busybox" => Ok(ImageKind::Busybox),
            "debian" => Ok(ImageKind::Debian),
            other => Err(ImageError::UnknownKind(other.to_string())),
        }
    }
}

/// Build options; the defaults are what `flowlab image build` uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Image size in MiB (default [`BUSYBOX_SIZE_MIB`] / [`DEBIAN_SIZE_MIB`]).
    pub size_mib: Option<u64>,
    /// The busybox binary (default: `busybox` on PATH; must be static).
    pub busybox: Option<PathBuf>,
    /// The Debian mirror (default: debootstrap's).
    pub mirror: Option<String>,
    /// More Debian packages.
    pub extra_packages: Vec<String>,
}

/// Build progress, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Steps done.
    pub done: u64,
    /// Steps in all.
    pub total: u64,
    /// What is happening.
    pub message: String,
}

/// A failed image operation.
#[derive(Debug, Error)]
pub enum ImageError {
    /// `--kind` names no image.
    #[error("unknown image kind {0:?} (busybox or debian)")]
    UnknownKind(String),
    /// No data dir: neither `$FLOWLAB_DATA`, `$XDG_DATA_HOME` nor `$HOME` is set.
    #[error("no data dir: set FLOWLAB_DATA (or HOME)")]
    NoDataDir,
    /// A tool is not installed.
    #[error(
        "`{tool}` not found: install the Debian package {package} (apt-get install {package})"
    )]
    ToolMissing {
        /// The program.
        tool: String,
        /// Its Debian package.
        package: &'static str,
    },
    /// The busybox binary is dynamically linked.
    #[error("{0} is not statically linked: install the Debian package busybox-static")]
    NotStatic(PathBuf),
    /// A tool failed.
    #[error("{tool} failed ({status}):\n{output}")]
    ToolFailed {
        /// The program.
        tool: String,
        /// Its exit status.
        status: String,
        /// What it printed (the end of it).
        output: String,
    },
    /// The Debian build runs as a normal user.
    #[error(
        "building the debian image needs root (debootstrap unpacks root-owned files and runs \
         package scripts in a chroot): run `sudo flowlab image build --kind debian` once, \
         with FLOWLAB_DATA set to a data dir your user can read"
    )]
    NeedsRoot,
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

impl ImageError {
    fn io(what: impl Into<String>, source: io::Error) -> ImageError {
        ImageError::Io {
            what: what.into(),
            source,
        }
    }
}

/// The data dir from the environment variables as given (sans-IO core of [`data_dir`]).
pub fn data_dir_from(
    flowlab_data: Option<&str>,
    xdg_data_home: Option<&str>,
    home: Option<&str>,
) -> Option<PathBuf> {
    let set = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(PathBuf::from);
    set(flowlab_data)
        .or_else(|| set(xdg_data_home).map(|d| d.join("flowlab")))
        .or_else(|| set(home).map(|h| h.join(".local/share/flowlab")))
}

/// `$FLOWLAB_DATA`, else `$XDG_DATA_HOME/flowlab`, else `~/.local/share/flowlab`.
pub fn data_dir() -> Result<PathBuf, ImageError> {
    let var = |k: &str| std::env::var(k).ok();
    data_dir_from(
        var("FLOWLAB_DATA").as_deref(),
        var("XDG_DATA_HOME").as_deref(),
        var("HOME").as_deref(),
    )
    .ok_or(ImageError::NoDataDir)
}

/// What an image is made of, before it is built: its tree and its content-addressed name.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Which image.
    pub kind: ImageKind,
    /// Size in MiB.
    pub size_mib: u64,
    /// The digest of everything that goes into it.
    pub digest: u64,
    plan: Plan,
    mirror: Option<String>,
    extra_packages: Vec<String>,
}

impl Recipe {
    /// `<kind>-<digest>.img`.
    pub fn file_name(&self) -> String {
        format!("{}-{:016x}.img", self.kind, self.digest)
    }

    /// The files flowlab puts into the image (for Debian: on top of debootstrap's).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }
}

/// The image cache: `<data>/images/`.
#[derive(Debug, Clone)]
pub struct ImageStore {
    dir: PathBuf,
}

/// The exclusive build lock, released on drop.
struct BuildLock(fs::File);

impl BuildLock {
    fn take(dir: &Path) -> Result<BuildLock, ImageError> {
        let path = dir.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| ImageError::io(format!("opening {}", path.display()), e))?;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(BuildLock(f));
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(ImageError::io(format!("locking {}", path.display()), e));
            }
        }
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        // SAFETY: flock on a descriptor we own.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

impl ImageStore {
    /// The store under `data_dir` (its `images/` subdir).
    pub fn new(data_dir: impl AsRef<Path>) -> ImageStore {
        ImageStore {
            dir: data_dir.as_ref().join("images"),
        }
    }

    /// The store under [`data_dir`].
    pub fn open_default() -> Result<ImageStore, ImageError> {
        Ok(ImageStore::new(data_dir()?))
    }

    /// `<data>/images`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What `kind` with `opts` is made of (reads the busybox binary to hash it).
    pub fn recipe(&self, kind: ImageKind, opts: &BuildOptions) -> Result<Recipe, ImageError> {
        let (plan, size_mib, salt) = match kind {
            ImageKind::Busybox => {
                let bb = find_busybox(opts.busybox.as_deref())?;
                let applets = busybox::applets(&bb)?;
                let size = opts.size_mib.unwrap_or(BUSYBOX_SIZE_MIB);
                (
                    busybox::plan(&bb, &applets),
                    size,
                    format!("busybox format={FORMAT_VERSION} size={size}"),
                )
            }
            ImageKind::Debian => {
                let size = opts.size_mib.unwrap_or(DEBIAN_SIZE_MIB);
                let args = debian::debootstrap_args(
                    Path::new("/"),
                    opts.mirror.as_deref(),
                    &opts.extra_packages,
                );
                (
                    debian::overlay_plan(),
                    size,
                    format!(
                        "debian format={FORMAT_VERSION} size={size} args={}",
                        args.join(" ")
                    ),
                )
            }
        };
        let digest = plan
            .digest(&salt)
            .map_err(|e| ImageError::io("hashing the image contents", e))?;
        Ok(Recipe {
            kind,
            size_mib,
            digest,
            plan,
            mirror: opts.mirror.clone(),
            extra_packages: opts.extra_packages.clone(),
        })
    }

    /// The image file of `recipe` (which may not exist yet).
    pub fn path_of(&self, recipe: &Recipe) -> PathBuf {
        self.dir.join(recipe.file_name())
    }

    /// The current image of `kind`, if it is built.
    pub fn find(
        &self,
        kind: ImageKind,
        opts: &BuildOptions,
    ) -> Result<Option<PathBuf>, ImageError> {
        let path = self.path_of(&self.recipe(kind, opts)?);
        Ok(path.is_file().then_some(path))
    }

    /// The current image of `kind`, built first if it is missing (or its inputs changed).
    pub fn ensure(
        &self,
        kind: ImageKind,
        opts: &BuildOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<PathBuf, ImageError> {
        let recipe = self.recipe(kind, opts)?;
        let path = self.path_of(&recipe);
        if path.is_file() {
            return Ok(path);
        }
        self.build_recipe(&recipe, false, progress)
    }

    /// Builds the image of `kind` even if it exists (replacing it: COW files made against
    /// the old file stop working).
    pub fn build(
        &self,
        kind: ImageKind,
        opts: &BuildOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<PathBuf, ImageError> {
        let recipe = self.recipe(kind, opts)?;
        self.build_recipe(&recipe, true, progress)
    }

    fn build_recipe(
        &self,
        recipe: &Recipe,
        force: bool,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<PathBuf, ImageError> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| ImageError::io(format!("creating {}", self.dir.display()), e))?;
        let _lock = BuildLock::take(&self.dir)?;
        let path = self.path_of(recipe);
        if path.is_file() && !force {
            // Built by someone else while we waited for the lock.
            return Ok(path);
        }
        self.remove_leftovers();
        let pid = std::process::id();
        let stage = self.dir.join(format!(".stage-{}-{pid}", recipe.kind));
        let tmp = self.dir.join(format!(".{}.tmp-{pid}", recipe.file_name()));
        let result = self.build_into(recipe, &stage, &tmp, progress);
        let _ = fs::remove_dir_all(&stage);
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        // Read-only: guests only ever read a base (UML opens a COW's backing file
        // read-only, also for a user who does not own it).
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o444))
            .map_err(|e| ImageError::io(format!("chmod {}", tmp.display()), e))?;
        if force && path.exists() {
            let _ = fs::remove_file(&path);
        }
        fs::rename(&tmp, &path)
            .map_err(|e| ImageError::io(format!("renaming into {}", path.display()), e))?;
        let stamp = format!(
            "kind={}\nformat={FORMAT_VERSION}\ndigest={:016x}\nsize_mib={}\n",
            recipe.kind, recipe.digest, recipe.size_mib
        );
        let _ = fs::write(path.with_extension("stamp"), stamp);
        progress(&Progress {
            done: 100,
            total: 100,
            message: format!("built {}", path.display()),
        });
        Ok(path)
    }

    fn build_into(
        &self,
        recipe: &Recipe,
        stage: &Path,
        tmp: &Path,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(), ImageError> {
        let step = |done: u64, message: &str, progress: &mut dyn FnMut(&Progress)| {
            progress(&Progress {
                done,
                total: 100,
                message: message.to_string(),
            })
        };
        let _ = fs::remove_dir_all(stage);
        fs::create_dir_all(stage)
            .map_err(|e| ImageError::io(format!("creating {}", stage.display()), e))?;
        let label = format!("flowlab-{}", recipe.kind);
        match recipe.kind {
            ImageKind::Busybox => {
                step(10, "staging the busybox tree", progress);
                recipe
                    .plan
                    .write(stage)
                    .map_err(|e| ImageError::io(format!("staging in {}", stage.display()), e))?;
            }
            ImageKind::Debian => {
                step(1, "debootstrap", progress);
                debian::debootstrap(
                    stage,
                    recipe.mirror.as_deref(),
                    &recipe.extra_packages,
                    progress,
                )?;
                debian::trim(stage);
                step(91, "adding flowlab's init and shims", progress);
                recipe
                    .plan
                    .write(stage)
                    .map_err(|e| ImageError::io(format!("staging in {}", stage.display()), e))?;
            }
        }
        step(95, "mkfs.ext4", progress);
        ext4::make_ext4(stage, tmp, recipe.size_mib, &label)
    }

    /// Removes temp files and staging dirs of builds that died (called under the lock).
    fn remove_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".stage-") {
                let _ = fs::remove_dir_all(e.path());
            } else if name.starts_with('.') && name.contains(".img.tmp-") {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// The built images of `kind`, newest first.
    pub fn list(&self, kind: ImageKind) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let prefix = format!("{kind}-");
        let mut v: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with(&prefix) && n.ends_with(".img")
            })
            .map(|e| {
                let t = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (t, e.path())
            })
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        v.into_iter().map(|(_, p)| p).collect()
    }

    /// Removes the images of `kind` other than `keep` (and their stamps). Guests whose COW
    /// files were made against a removed image cannot boot any more. Returns what was
    /// removed.
    pub fn prune(&self, kind: ImageKind, keep: &Path) -> Result<Vec<PathBuf>, ImageError> {
        let _lock = BuildLock::take(&self.dir)?;
        let mut removed = Vec::new();
        for p in self.list(kind) {
            if p == keep {
                continue;
            }
            fs::remove_file(&p)
                .map_err(|e| ImageError::io(format!("removing {}", p.display()), e))?;
            let _ = fs::remove_file(p.with_extension("stamp"));
            removed.push(p);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_precedence() {
        assert_eq!(
            data_dir_from(Some("/d"), Some("/x"), Some("/h")),
            Some(PathBuf::from("/d"))
        );
        assert_eq!(
            data_dir_from(None, Some("/x"), Some("/h")),
            Some(PathBuf::from("/x/flowlab"))
        );
        assert_eq!(
            data_dir_from(Some(""), Some(""), Some("/h")),
            Some(PathBuf::from("/h/.local/share/flowlab"))
        );
        assert_eq!(data_dir_from(None, None, None), None);
    }

    #[test]
    fn kinds() {
        assert_eq!("busybox".parse::<ImageKind>().unwrap(), ImageKind::Busybox);
        assert_eq!("debian".parse::<ImageKind>().unwrap(), ImageKind::Debian);
        assert!("alpine".parse::<ImageKind>().is_err());
        assert_eq!(ImageKind::Debian.to_string(), "debian");
    }

    #[test]
    fn debian_recipe_name_changes_with_inputs() {
        let store = ImageStore::new("/nonexistent-flowlab");
        let a = store
            .recipe(ImageKind::Debian, &BuildOptions::default())
            .unwrap();
        let b = store
            .recipe(
                ImageKind::Debian,
                &BuildOptions {
                    extra_packages: vec!["vim-tiny".into()],
                    ..Default::default()
                },
            )
            .unwrap();
        let c = store
            .recipe(
                ImageKind::Debian,
                &BuildOptions {
                    size_mib: Some(2048),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(a.file_name().starts_with("debian-") && a.file_name().ends_with(".img"));
        assert_eq!(a.file_name().len(), "debian-".len() + 16 + ".img".len());
        assert_ne!(a.digest, b.digest);
        assert_ne!(a.digest, c.digest);
        assert_eq!(
            store.path_of(&a),
            Path::new("/nonexistent-flowlab/images").join(a.file_name())
        );
    }

    /// Builds the busybox image twice into a fresh data dir: the second `ensure` reuses
    /// the first file; another size gives another file; prune removes the old one.
    #[test]
    fn busybox_image_builds_caches_and_prunes() {
        if ext4::find_tool("mkfs.ext4").is_none() || find_busybox(None).is_err() {
            eprintln!("SKIP: needs mkfs.ext4 (e2fsprogs) and busybox (busybox-static)");
            return;
        }
        let dir = std::env::temp_dir().join(format!("flowlab-img-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = ImageStore::new(&dir);
        let opts = BuildOptions {
            size_mib: Some(64),
            ..Default::default()
        };
        assert_eq!(store.find(ImageKind::Busybox, &opts).unwrap(), None);
        let mut steps = Vec::new();
        let t = std::time::Instant::now();
        let img = store
            .ensure(ImageKind::Busybox, &opts, &mut |p| steps.push(p.clone()))
            .unwrap();
        eprintln!("busybox image built in {:?}", t.elapsed());
        assert!(
            steps.len() >= 3 && steps.last().unwrap().done == 100,
            "{steps:?}"
        );
        assert!(steps.windows(2).all(|w| w[0].done <= w[1].done));
        assert_eq!(fs::metadata(&img).unwrap().len(), 64 << 20);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&img).unwrap().permissions().mode() & 0o777,
            0o444
        );
        assert_eq!(
            store.find(ImageKind::Busybox, &opts).unwrap(),
            Some(img.clone())
        );
        for (path, mode) in [
            ("/sbin/flowlab-init", 0o755),
            ("/bin/busybox", 0o755),
            ("/etc/shadow", 0o600),
            ("/tmp", 0o1777),
        ] {
            let (uid, gid, m) = ext4::stat_in_image(&img, path).unwrap();
            assert_eq!((uid, gid, m & 0o7777), (0, 0, mode), "{path}");
        }
        let mtime = fs::metadata(&img).unwrap().modified().unwrap();
        let mut calls = 0;
        let again = store
            .ensure(ImageKind::Busybox, &opts, &mut |_| calls += 1)
            .unwrap();
        assert_eq!((again.clone(), calls), (img.clone(), 0));
        assert_eq!(fs::metadata(&img).unwrap().modified().unwrap(), mtime);
        let bigger = BuildOptions {
            size_mib: Some(80),
            ..Default::default()
        };
        let img2 = store
            .ensure(ImageKind::Busybox, &bigger, &mut |_| {})
            .unwrap();
        assert_ne!(img, img2);
        assert_eq!(store.list(ImageKind::Busybox).len(), 2);
        assert_eq!(
            store.prune(ImageKind::Busybox, &img2).unwrap(),
            vec![img.clone()]
        );
        assert!(!img.exists() && img2.exists());
        // Only the image, its stamp and the lock are left: no staging or temp files.
        let mut names: Vec<String> = fs::read_dir(store.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 3, "{names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The debian build: minutes, needs root and a Debian mirror. Run it with
    /// `cargo test -p flowlab-guests --lib -- --ignored debian_image_builds`.
    #[test]
    #[ignore]
    fn debian_image_builds() {
        let dir = std::env::temp_dir().join(format!("flowlab-deb-{}", std::process::id()));
        let store = ImageStore::new(&dir);
        let mut last = 0;
        let img = store
            .ensure(ImageKind::Debian, &BuildOptions::default(), &mut |p| {
                assert!(p.done >= last, "progress went back: {p:?}");
                last = p.done;
                eprintln!("{:>3}% {}", p.done, p.message);
            })
            .unwrap();
        assert!(img.is_file());
        assert!(ext4::stat_in_image(&img, "/usr/local/bin/systemctl").is_some());
        assert!(ext4::stat_in_image(&img, "/usr/lib/frr/zebra").is_some());
        eprintln!("kept {} (remove it when done)", img.display());
    }
}
