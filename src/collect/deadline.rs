//! The per-cluster deadline. Every source is read under it, so a cluster past its time
//! keeps what was read before the deadline and records the rest as not read.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The words every "ran out of time" collection error starts with, so a row can tell a
/// timed-out cluster from one whose sources failed.
pub const MARKER: &str = "not read before the cluster's deadline";

/// When a cluster's collection must end; `None`: no deadline (one-off commands).
#[derive(Debug, Clone, Copy, Default)]
pub struct Deadline {
    pub at: Option<Instant>,
    /// The configured budget, for messages.
    pub budget: Duration,
}

impl Deadline {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn after(budget: Duration) -> Self {
        Self {
            at: Some(Instant::now() + budget),
            budget,
        }
    }

    pub fn message(&self) -> String {
        format!(
            "{MARKER} ({} s, fleet.cluster_timeout_seconds)",
            self.budget.as_secs()
        )
    }

    pub fn passed(&self) -> bool {
        self.at.is_some_and(|at| Instant::now() >= at)
    }

    /// Runs a source under the deadline; one that does not finish in time fails with
    /// [`Deadline::message`].
    pub async fn within<T>(
        &self,
        fut: impl Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        match self.at {
            None => fut.await,
            Some(at) => tokio::time::timeout_at(at, fut)
                .await
                .unwrap_or_else(|_| Err(self.message())),
        }
    }
}
