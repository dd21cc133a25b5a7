//! Errors and warnings of the lab model, both located at `file:line`.
//!
//! A [`LabError`] stops the lab from loading (nothing is started); it carries the file,
//! the 1-based line, the offending text and a hint that says how to fix it. A [`Warning`]
//! is returned beside a successfully loaded lab, never printed here: the caller decides.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, without the location (that is in [`LabError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabErrorKind {
    /// A file or directory of the lab could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// The directory has neither `lab.conf` nor `lab.dep`.
    #[error("not a lab directory (no lab.conf or lab.dep)")]
    NotALab,
    /// A line of `lab.conf` or `lab.dep` does not follow the grammar.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A machine name that cannot be used (reserved, spaces, wrong characters).
    #[error("invalid machine name `{0}`")]
    MachineName(String),
    /// An option name (`vm[NAME]`) that cannot be used.
    #[error("invalid option name `{0}`")]
    OptionName(String),
    /// A collision-domain name that cannot be used.
    #[error("invalid collision domain `{0}`")]
    DomainName(String),
    /// An interface number that is out of range.
    #[error("invalid interface number `{0}`")]
    InterfaceNumber(String),
    /// Kathara: interface numbers of a machine do not start at 0 or have a gap.
    #[error("interface eth{missing} of `{machine}` is missing")]
    InterfaceGap {
        /// The machine.
        machine: String,
        /// The first missing interface number.
        missing: u32,
    },
    /// Kathara: the same interface is defined twice.
    #[error("interface eth{index} of `{machine}` is defined twice")]
    DuplicateInterface {
        /// The machine.
        machine: String,
        /// The interface number.
        index: u32,
    },
    /// Kathara: one machine has two interfaces on one collision domain.
    #[error("`{machine}` is attached twice to collision domain `{domain}`")]
    TwiceOnDomain {
        /// The machine.
        machine: String,
        /// The collision domain.
        domain: String,
    },
    /// A `tap,TAP_ADDR,GUEST_ADDR` value that does not parse.
    #[error("invalid tap domain `{0}`")]
    Tap(String),
    /// A MAC address (`CD/xx:xx:xx:xx:xx:xx`) that does not parse.
    #[error("invalid MAC address `{0}`")]
    Mac(String),
    /// An option value that does not parse (for example `mem=lots`).
    #[error("invalid value for `{option}`: `{value}`")]
    OptionValue {
        /// The option name.
        option: String,
        /// The value given.
        value: String,
    },
    /// A `LAB_*` or `machines=` value that does not parse (an unclosed quote).
    #[error("invalid value: {0}")]
    Value(String),
    /// One name used both as a tap domain and as a plain domain, or two tap addresses.
    #[error("collision domain `{0}` is used inconsistently")]
    DomainConflict(String),
    /// `lab.dep` names a machine that is not in the lab.
    #[error("unknown machine `{0}`")]
    UnknownMachine(String),
    /// `lab.dep` has a dependency cycle; the names are the cycle in order.
    #[error("dependency cycle {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

/// An error that stops a lab from loading, located at `file:line`.
///
/// Displayed as `FILE:LINE: MESSAGE: `TEXT`` with the hint on a second line. Boxed inside,
/// so that `Result<_, LabError>` stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabError {
    inner: Box<Inner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    file: PathBuf,
    line: Option<usize>,
    text: String,
    kind: LabErrorKind,
    hint: Option<String>,
}

impl LabError {
    /// An error about one line of `file`; `text` is the offending text (trimmed).
    pub fn at(file: &Path, line: usize, text: &str, kind: LabErrorKind) -> LabError {
        LabError {
            inner: Box::new(Inner {
                file: file.to_path_buf(),
                line: Some(line),
                text: text.trim().to_string(),
                kind,
                hint: None,
            }),
        }
    }

    /// An error about a whole file or directory.
    pub fn file(file: &Path, kind: LabErrorKind) -> LabError {
        LabError {
            inner: Box::new(Inner {
                file: file.to_path_buf(),
                line: None,
                text: String::new(),
                kind,
                hint: None,
            }),
        }
    }

    /// The same error with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> LabError {
        self.inner.hint = Some(hint.into());
        self
    }

    /// The file (or directory) the error is about.
    pub fn path(&self) -> &Path {
        &self.inner.file
    }

    /// The 1-based line number, when the error is about one line.
    pub fn line(&self) -> Option<usize> {
        self.inner.line
    }

    /// The offending text (the line, or the part of it that is wrong); may be empty.
    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// What went wrong.
    pub fn kind(&self) -> &LabErrorKind {
        &self.inner.kind
    }

    /// How to fix it, when we can say.
    pub fn hint(&self) -> Option<&str> {
        self.inner.hint.as_deref()
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        write!(f, "{}", i.file.display())?;
        if let Some(line) = i.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", i.kind)?;
        if !i.text.is_empty() {
            write!(f, ": `{}`", i.text)?;
        }
        if let Some(hint) = &i.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LabError {}

/// Something odd that did not stop the lab from loading, located at `file[:line]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file (or directory) the warning is about.
    pub file: PathBuf,
    /// The 1-based line number, when the warning is about one line.
    pub line: Option<usize>,
    /// What is odd and what was done about it.
    pub message: String,
}

impl Warning {
    /// A warning about one line of `file`.
    pub fn at(file: &Path, line: usize, message: impl Into<String>) -> Warning {
        Warning {
            file: file.to_path_buf(),
            line: Some(line),
            message: message.into(),
        }
    }

    /// A warning about a whole file or directory.
    pub fn file(file: &Path, message: impl Into<String>) -> Warning {
        Warning {
            file: file.to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_has_location_text_and_hint() {
        let e = LabError::at(
            Path::new("/l/lab.conf"),
            7,
            "  r1[1]=B ",
            LabErrorKind::InterfaceGap {
                machine: "r1".into(),
                missing: 0,
            },
        )
        .with_hint("add `r1[0]=...`");
        let s = e.to_string();
        assert_eq!(
            s,
            "/l/lab.conf:7: interface eth0 of `r1` is missing: `r1[1]=B`\n  hint: add `r1[0]=...`"
        );
    }

    #[test]
    fn file_level_messages_have_no_line() {
        let e = LabError::file(Path::new("/l"), LabErrorKind::NotALab);
        assert_eq!(
            e.to_string(),
            "/l: not a lab directory (no lab.conf or lab.dep)"
        );
        let w = Warning::file(Path::new("/l/x"), "odd");
        assert_eq!(w.to_string(), "/l/x: odd");
        let w = Warning::at(Path::new("/l/x"), 3, "odd");
        assert_eq!(w.to_string(), "/l/x:3: odd");
    }

    #[test]
    fn cycle_message_names_the_cycle() {
        let k = LabErrorKind::Cycle(vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(k.to_string(), "dependency cycle a -> b -> a");
    }
}
