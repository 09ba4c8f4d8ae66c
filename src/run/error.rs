//! What doing the work can fail with — a bad job, a snapshot, a collector, an output — and
//! the exit code of each (docs/analyze-and-playbook.md, "Exit codes"). Configuration errors belong to the command
//! layer above, which aggregates both.

use crate::collect::CollectError;
use crate::error::exit;
use crate::snapshot::SnapshotError;
use crate::version::{ParseVersionError, TargetError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    /// The fleet page could not read its tables or render.
    #[error("{0}")]
    Page(String),
    #[error("cannot write {path}: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Version(_) | Self::Target(_) => exit::USAGE,
            Self::Snapshot(SnapshotError::Write { .. }) => exit::FAILURE,
            Self::Snapshot(_) => exit::USAGE,
            Self::Collect(e) if e.is_usage() => exit::USAGE,
            Self::Collect(_) | Self::Output { .. } | Self::Render(_) | Self::Page(_) => {
                exit::FAILURE
            }
        }
    }
}

impl From<crate::output::page::Error> for Error {
    fn from(e: crate::output::page::Error) -> Self {
        match e {
            crate::output::page::Error::Usage(m) => Self::Usage(m),
            crate::output::page::Error::Failed(m) => Self::Page(m),
        }
    }
}
