//! Errors of the command line, each with the exit code it maps to.

use thiserror::Error;

use crate::link::LinkError;
use crate::wire::WireError;

/// Exit code for bad input: a bad flag value, an impossible segment, a bad file.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the link cannot be used: privileges, interface, platform.
pub const EXIT_LINK_UNAVAILABLE: u8 = 3;

/// Why a command failed.
#[derive(Debug, Error)]
pub enum CliError {
    /// A flag's value is unusable; `field` names the flag.
    #[error("{field}: {message}")]
    Input {
        /// The flag, e.g. `--src`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The fields cannot be built into a datagram.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The link failed.
    #[error("{0}")]
    Link(#[from] LinkError),
    /// A preset cannot be read or run (already formatted as `file:line:col: message`).
    #[error("{0}")]
    Preset(String),
}

impl CliError {
    /// A bad-input error about one flag.
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> CliError {
        CliError::Input { field: field.into(), message: message.into() }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input { .. }
            | CliError::Wire(_)
            | CliError::Preset(_)
            | CliError::Link(LinkError::Target { .. }) => EXIT_BAD_INPUT,
            CliError::Link(_) => EXIT_LINK_UNAVAILABLE,
        }
    }
}
