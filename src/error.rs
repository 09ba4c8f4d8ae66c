//! The top-level error and its exit code (see the README, "Exit codes").

use crate::collect::CollectError;
use crate::config::ConfigError;
use crate::snapshot::SnapshotError;
use crate::version::{ParseVersionError, TargetError};

/// Exit codes: 0 success whatever was found · 1 `--fail-on` met · 2 usage or configuration
/// error · 3 a cluster could not be collected or a result could not be written.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const FAILURE: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Version(#[from] ParseVersionError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error("cannot render the playbook: {0}")]
    Render(String),
    /// `eksup report` could not read its tables or render the page.
    #[error("{0}")]
    Report(String),
    #[error("cannot write {path}: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Usage(_) | Self::Version(_) | Self::Target(_) => exit::USAGE,
            Self::Snapshot(SnapshotError::Write { .. }) => exit::FAILURE,
            Self::Snapshot(_) => exit::USAGE,
            Self::Collect(e) if e.is_usage() => exit::USAGE,
            Self::Collect(_) | Self::Output { .. } | Self::Render(_) | Self::Report(_) => {
                exit::FAILURE
            }
        }
    }
}
