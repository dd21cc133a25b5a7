//! ext4 image files from a staging directory, without root: `mkfs.ext4 -d` copies the
//! tree in, `debugfs -w` makes every inode root-owned afterwards.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::ImageError;

/// Finds `name` on PATH, then in `/usr/sbin` and `/sbin` (not on a normal user's PATH,
/// where e2fsprogs and debootstrap live).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.push("/sbin".into());
    dirs.into_iter().map(|d| d.join(name)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

fn require(name: &str) -> Result<PathBuf, ImageError> {
    find_tool(name).ok_or(ImageError::ToolMissing {
        tool: name.to_string(),
        package: "e2fsprogs",
    })
}

/// The `mkfs.ext4` arguments (after the program) that make `image` of `size_mib` MiB from
/// `stage`: 4 KiB blocks, 256-byte inodes (timestamps past 2038), no reserved blocks,
/// the root directory owned by root. `-d` keeps the owners of the staged files;
/// [`owner_fixups`] handles those.
pub fn mkfs_args(stage: &Path, image: &Path, size_mib: u64, label: &str) -> Vec<String> {
    vec![
        "-q".into(),
        "-F".into(),
        "-t".into(),
        "ext4".into(),
        "-b".into(),
        "4096".into(),
        "-I".into(),
        "256".into(),
        "-m".into(),
        "0".into(),
        "-L".into(),
        label.into(),
        "-E".into(),
        "root_owner=0:0".into(),
        "-d".into(),
        stage.display().to_string(),
        image.display().to_string(),
        format!("{size_mib}M"),
    ]
}

/// `debugfs` commands that make every staged file and dir not owned by `0:0` root-owned
/// inside the image (paths relative to the image root). Fails on a name that debugfs
/// cannot quote (a double quote or a newline).
pub fn owner_fixups(stage: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for e in fs::read_dir(stage.join(&rel))? {
            let e = e?;
            let rel_child = rel.join(e.file_name());
            let md = fs::symlink_metadata(e.path())?;
            if md.is_dir() {
                todo.push(rel_child.clone());
            }
            if md.uid() == 0 && md.gid() == 0 {
                continue;
            }
            let p = format!("/{}", rel_child.display());
            if p.contains(['"', '\n']) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("cannot fix the owner of {p:?} with debugfs"),
                ));
            }
            out.push(format!("sif \"{p}\" uid 0"));
            out.push(format!("sif \"{p}\" gid 0"));
        }
    }
    out.sort();
    Ok(out)
}

/// Makes `image` (`size_mib` MiB, label `label`) from `stage`, all files root-owned.
pub fn make_ext4(stage: &Path, image: &Path, size_mib: u64, label: &str) -> Result<(), ImageError> {
    let mkfs = require("mkfs.ext4")?;
    let out = Command::new(&mkfs)
        .args(mkfs_args(stage, image, size_mib, label))
        .output()
        .map_err(|e| ImageError::io(format!("running {}", mkfs.display()), e))?;
    if !out.status.success() {
        return Err(ImageError::ToolFailed {
            tool: "mkfs.ext4".into(),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned(),
        });
    }
    let fixes = owner_fixups(stage).map_err(|e| ImageError::io("listing the staged files", e))?;
    if fixes.is_empty() {
        return Ok(());
    }
    let debugfs = require("debugfs")?;
    let cmds = image.with_extension("debugfs");
    fs::write(&cmds, fixes.join("\n") + "\n")
        .map_err(|e| ImageError::io(format!("writing {}", cmds.display()), e))?;
    let out = Command::new(&debugfs)
        .arg("-w")
        .arg("-f")
        .arg(&cmds)
        .arg(image)
        .output();
    let _ = fs::remove_file(&cmds);
    let out = out.map_err(|e| ImageError::io(format!("running {}", debugfs.display()), e))?;
    // debugfs exits 0 even when a command fails; its errors go to stderr, after a
    // version banner.
    let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("debugfs "))
        .map(str::to_string)
        .collect();
    if !out.status.success() || !errors.is_empty() {
        return Err(ImageError::ToolFailed {
            tool: "debugfs".into(),
            status: out.status.to_string(),
            output: errors.join("\n"),
        });
    }
    Ok(())
}

/// What `debugfs` says about `path` inside `image`: `(uid, gid, mode)`; for tests and
/// diagnostics.
pub fn stat_in_image(image: &Path, path: &str) -> Option<(u32, u32, u32)> {
    let debugfs = find_tool("debugfs")?;
    let out = Command::new(debugfs)
        .arg("-R")
        .arg(format!("stat \"{path}\""))
        .arg(image)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let after = |key: &str| -> Option<u32> {
        let i = text.find(key)? + key.len();
        let rest = text.get(i..)?.trim_start();
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if key == "Mode:" {
            u32::from_str_radix(&word, 8).ok()
        } else {
            word.parse().ok()
        }
    };
    Some((after("User:")?, after("Group:")?, after("Mode:")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn args_are_exact() {
        assert_eq!(
            mkfs_args(Path::new("/s"), Path::new("/i.img"), 256, "flowlab").join(" "),
            "-q -F -t ext4 -b 4096 -I 256 -m 0 -L flowlab -E root_owner=0:0 -d /s /i.img 256M"
        );
    }

    #[test]
    fn tools_are_found_outside_path() {
        // sh is on every PATH; mkfs.ext4 is in /sbin or /usr/sbin when installed.
        assert!(find_tool("sh").is_some());
        assert!(find_tool("no-such-tool-flowlab").is_none());
    }

    /// Files staged by a non-root owner end up root-owned in the image (the test runs as
    /// root here, so it chowns the staged files to a user first; as a normal user they
    /// are the user's already).
    #[test]
    fn staged_files_become_root_owned() {
        if find_tool("mkfs.ext4").is_none() || find_tool("debugfs").is_none() {
            eprintln!("SKIP: mkfs.ext4/debugfs missing (apt-get install e2fsprogs)");
            return;
        }
        let dir = std::env::temp_dir().join(format!("flowlab-ext4-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let stage = dir.join("stage");
        fs::create_dir_all(stage.join("etc/sub")).unwrap();
        fs::write(stage.join("etc/sub/f"), "x").unwrap();
        symlink("sub/f", stage.join("etc/l")).unwrap();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            for p in ["etc", "etc/sub", "etc/sub/f", "etc/l"] {
                std::os::unix::fs::lchown(stage.join(p), Some(100_001), Some(100_002)).unwrap();
            }
        }
        let fixes = owner_fixups(&stage).unwrap();
        assert!(
            fixes.contains(&"sif \"/etc/sub/f\" uid 0".to_string()),
            "{fixes:?}"
        );
        assert_eq!(fixes.len(), 8);
        let img = dir.join("t.img");
        make_ext4(&stage, &img, 16, "t").unwrap();
        for p in ["/", "/etc", "/etc/sub", "/etc/sub/f", "/etc/l"] {
            let (uid, gid, _) = stat_in_image(&img, p).unwrap();
            assert_eq!((uid, gid), (0, 0), "{p}");
        }
        let (_, _, mode) = stat_in_image(&img, "/etc/l").unwrap();
        assert_eq!(mode, 0o777, "the symlink itself was changed, not followed");
        fs::remove_dir_all(&dir).unwrap();
    }
}
