//! Doing the work: one job analyzed (collect → evaluate → report), the scheduled batch job,
//! and fleet mode. Everything here takes plain values from the command layer above (a
//! [`Work`], [`batch::Options`]) and never reads flags or the configuration itself.
//!
//! | module | job |
//! |---|---|
//! | [`job`] | what to do: a [`Job`] (one cluster or snapshot), a list of jobs or a fleet plan |
//! | [`analyze`] | one job → snapshot (collected or loaded) → checks → report |
//! | [`batch`] | `eksup run`: bounded concurrent analyses → rows → sinks, EMF lines, the fleet page, the manifest |
//! | [`flush`] | rows written in batches while the run goes (every N clusters or S seconds) |
//! | [`shutdown`] | SIGTERM/SIGINT: stop starting clusters, a grace period, then cut off |
//! | [`fleet`] | accounts × regions, AssumeRole, discovery, shards, progress and summary |
//! | [`error`] | what doing the work can fail with, and each failure's exit code |

pub mod analyze;
pub mod batch;
pub mod error;
pub mod fleet;
pub mod flush;
pub mod job;
pub mod shutdown;

pub use error::Error;
pub use job::{Job, Source, Work};
