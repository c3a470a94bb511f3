//! Preset errors, always as `file:line:col: message`.

use thiserror::Error;

/// A preset that cannot be read, checked or written.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{path}:{line}:{col}: {message}")]
pub struct PresetError {
    /// The file (or `<builtin:NAME>`).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong, stating the rule.
    pub message: String,
}

impl PresetError {
    /// An error at the start of the file (I/O, size).
    pub fn whole_file(path: &str, message: impl Into<String>) -> PresetError {
        PresetError { path: path.into(), line: 1, col: 1, message: message.into() }
    }
}
