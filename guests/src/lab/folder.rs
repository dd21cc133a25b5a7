//! The only file-system reading of the lab model: one pass over a lab directory.
//!
//! [`LabListing::read`] lists the directory and reads `lab.conf` and `lab.dep`; everything
//! else ([`super::Lab::from_listing`]) works on the listing, so it is testable without
//! files. Directory entries are sorted by byte value, which is `ls` order in the C locale
//! (Netkit's order when there is no `machines=` list).

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{LabError, LabErrorKind, Warning};

/// One entry of the lab directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingEntry {
    /// The file name.
    pub name: String,
    /// Whether it is a directory (symbolic links are followed).
    pub is_dir: bool,
}

/// What the lab model needs from a lab directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabListing {
    /// The lab directory.
    pub dir: PathBuf,
    /// Its entries, sorted by name (byte order); names that are not UTF-8 are left out.
    pub entries: Vec<ListingEntry>,
    /// The text of `lab.conf`, if the file exists.
    pub conf: Option<String>,
    /// The text of `lab.dep`, if the file exists.
    pub dep: Option<String>,
}

impl LabListing {
    /// Whether the listing has a directory `name`.
    pub fn has_dir(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.is_dir && e.name == name)
    }

    /// Whether the listing has a file (not a directory) `name`.
    pub fn has_file(&self, name: &str) -> bool {
        self.entries.iter().any(|e| !e.is_dir && e.name == name)
    }

    /// Reads the directory listing, `lab.conf` and `lab.dep` of `dir`. A file that is not
    /// UTF-8 is read lossily, with a warning.
    pub fn read(dir: &Path) -> Result<(LabListing, Vec<Warning>), LabError> {
        let io =
            |path: &Path, e: std::io::Error| LabError::file(path, LabErrorKind::Io(e.to_string()));
        let meta = fs::metadata(dir).map_err(|e| {
            io(dir, e).with_hint("give the lab directory (the one holding lab.conf) with -d DIR")
        })?;
        if !meta.is_dir() {
            return Err(
                LabError::file(dir, LabErrorKind::Io("not a directory".into()))
                    .with_hint("give the lab directory (the one holding lab.conf) with -d DIR"),
            );
        }
        let mut warnings = Vec::new();
        let mut entries = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let path = entry.path();
            let is_dir = fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
            match entry.file_name().into_string() {
                Ok(name) => entries.push(ListingEntry { name, is_dir }),
                Err(_) if is_dir => warnings.push(Warning::file(
                    &path,
                    "directory name is not UTF-8; not a machine",
                )),
                Err(_) => {}
            }
        }
        entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let mut text = |name: &str| -> Result<Option<String>, LabError> {
            if !entries.iter().any(|e| !e.is_dir && e.name == name) {
                return Ok(None);
            }
            let path = dir.join(name);
            let bytes = fs::read(&path).map_err(|e| io(&path, e))?;
            Ok(Some(match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => {
                    warnings.push(Warning::file(&path, "is not UTF-8; read lossily"));
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                }
            }))
        };
        let conf = text("lab.conf")?;
        let dep = text("lab.dep")?;
        Ok((
            LabListing {
                dir: dir.to_path_buf(),
                entries,
                conf,
                dep,
            },
            warnings,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::testutil::TempLab;

    #[test]
    fn reads_sorted_entries_and_texts() {
        let t = TempLab::new("listing");
        t.file("lab.conf", "pc1[0]=A\n");
        t.file("b.startup", "");
        t.dir("pc1");
        t.dir("B");
        t.bytes("lab.dep", b"pc1: B\xff\n");
        let (l, w) = LabListing::read(t.path()).unwrap();
        let names: Vec<&str> = l.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["B", "b.startup", "lab.conf", "lab.dep", "pc1"]);
        assert!(l.has_dir("pc1") && !l.has_dir("lab.conf") && l.has_file("lab.conf"));
        assert_eq!(l.conf.as_deref(), Some("pc1[0]=A\n"));
        assert!(l.dep.as_deref().unwrap().starts_with("pc1: B"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0]
            .to_string()
            .ends_with("lab.dep: is not UTF-8; read lossily"));
    }

    #[test]
    fn missing_directory_is_an_error() {
        let t = TempLab::new("missing");
        let e = LabListing::read(&t.path().join("nope")).unwrap_err();
        assert!(matches!(e.kind(), LabErrorKind::Io(_)));
        assert!(e.hint().unwrap().contains("-d DIR"));
        t.file("f", "");
        let e = LabListing::read(&t.path().join("f")).unwrap_err();
        assert_eq!(*e.kind(), LabErrorKind::Io("not a directory".into()));
    }
}
