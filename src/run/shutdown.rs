//! SIGTERM and SIGINT (DESIGN.md, "Fleet mode"). The first signal stops the run from
//! starting clusters and gives those in flight a grace period to finish; the end of the
//! grace period, or a second signal, cuts them off. The run then flushes what it has,
//! writes its manifest as `interrupted` and exits 3 — all before the pod's
//! `terminationGracePeriodSeconds` (30 s by default) ends in SIGKILL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

/// Grace period given to the clusters in flight when `shutdown_grace_seconds` is not set:
/// under a pod's default 30 s, leaving time to flush and write the manifest.
pub const DEFAULT_GRACE_SECONDS: u64 = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    /// No cluster is started any more; those in flight may finish.
    Stopping,
    /// Those still in flight are given up.
    CutOff,
}

/// The first signal received and when, once one was.
type First = Option<(&'static str, DateTime<Utc>)>;

/// The run's view of the signals it received.
#[derive(Clone)]
pub struct Shutdown {
    phase: watch::Receiver<Phase>,
    first: Arc<Mutex<First>>,
    grace: Duration,
}

impl Shutdown {
    /// Listens for SIGTERM and SIGINT from now on.
    pub fn listen(grace: Duration) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        for (kind, name) in [
            (tokio::signal::unix::SignalKind::terminate(), "SIGTERM"),
            (tokio::signal::unix::SignalKind::interrupt(), "SIGINT"),
        ] {
            match tokio::signal::unix::signal(kind) {
                Ok(mut signal) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        while signal.recv().await.is_some() {
                            if tx.send(name).is_err() {
                                break;
                            }
                        }
                    });
                }
                Err(e) => tracing::warn!("cannot listen for {name}: {e}"),
            }
        }
        Self::driven_by(rx, grace)
    }

    /// The phases driven by the signal names `signals` yields (the tests send their own).
    fn driven_by(mut signals: mpsc::UnboundedReceiver<&'static str>, grace: Duration) -> Self {
        let (tx, rx) = watch::channel(Phase::Running);
        let first = Arc::new(Mutex::new(None));
        let recorded = first.clone();
        tokio::spawn(async move {
            let Some(name) = signals.recv().await else {
                return;
            };
            *recorded.lock().expect("not poisoned") = Some((name, Utc::now()));
            eprintln!(
                "{name}: starting no more clusters; those in flight have {} s to finish",
                grace.as_secs()
            );
            let _ = tx.send(Phase::Stopping);
            tokio::select! {
                () = tokio::time::sleep(grace) => {}
                Some(again) = signals.recv() => {
                    eprintln!("{again} again: giving up the clusters in flight now");
                }
            }
            let _ = tx.send(Phase::CutOff);
            // Keep the sender alive so waiters see CutOff and not a closed channel.
            tx.closed().await;
        });
        Self {
            phase: rx,
            first,
            grace,
        }
    }

    async fn reached(&self, phase: Phase) {
        let mut rx = self.phase.clone();
        // An error means the driver ended without reaching the phase: never resolve.
        if rx.wait_for(|p| *p >= phase).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves at the first signal.
    pub async fn stopping(&self) {
        self.reached(Phase::Stopping).await;
    }

    /// Resolves when the clusters in flight are to be given up.
    pub async fn cut_off(&self) {
        self.reached(Phase::CutOff).await;
    }

    /// The first signal and when it came, once one did.
    pub fn signal(&self) -> First {
        *self.first.lock().expect("not poisoned")
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }
}

#[cfg(test)]
pub(crate) fn manual(grace: Duration) -> (Shutdown, mpsc::UnboundedSender<&'static str>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Shutdown::driven_by(rx, grace), tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    async fn resolves(f: impl std::future::Future<Output = ()>) -> bool {
        tokio::time::timeout(Duration::from_millis(50), f)
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn one_signal_stops_then_the_grace_period_cuts_off() {
        let (s, tx) = manual(Duration::from_millis(300));
        assert!(!resolves(s.stopping()).await, "nothing received yet");
        assert_eq!(s.signal(), None);
        let sent = Instant::now();
        tx.send("SIGTERM").unwrap();
        assert!(resolves(s.stopping()).await);
        assert_eq!(s.signal().map(|(n, _)| n), Some("SIGTERM"));
        assert!(!resolves(s.cut_off()).await, "the grace period runs");
        s.cut_off().await;
        let waited = sent.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn a_second_signal_cuts_off_at_once() {
        let (s, tx) = manual(Duration::from_secs(60));
        tx.send("SIGINT").unwrap();
        s.stopping().await;
        tx.send("SIGINT").unwrap();
        assert!(resolves(s.cut_off()).await);
        assert_eq!(s.signal().map(|(n, _)| n), Some("SIGINT"));
    }
}
