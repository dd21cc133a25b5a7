//! Temp dirs under /tmp with short names (unix socket paths must stay under 108 bytes).

use std::path::{Path, PathBuf};

/// A directory `/tmp/<tag>-<pid>-<n>`, removed with everything in it on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    /// Creates a fresh directory. `tag` should be short.
    pub fn new(tag: &str) -> TempDir {
        let path = Path::new("/tmp").join(crate::unique(tag));
        std::fs::create_dir(&path)
            .unwrap_or_else(|e| panic!("creating temp dir {}: {e}", path.display()));
        TempDir {
            path,
            keep: std::env::var_os("FLOWLAB_TESTS_KEEP").is_some(),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `self.path().join(name)`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("FLOWLAB_TESTS_KEEP: leaving {}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
