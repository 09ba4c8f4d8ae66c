//! Progress while a run goes (an indicatif bar on a terminal; in a pod, one JSON line on
//! stderr at most every 10 seconds) and the summary at its end.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::collect::REQUESTS;
use crate::output::tables::ClusterRow;

const LINE_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    started: Instant,
    done: AtomicUsize,
    failed: AtomicUsize,
    in_flight: AtomicUsize,
    accounts: AtomicUsize,
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
}

impl Progress {
    /// Starts the clock: a bar when stderr is a terminal, JSON lines otherwise.
    pub fn start() -> Self {
        let started = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {pos} clusters done · {msg}",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            started,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            accounts: AtomicUsize::new(0),
            bar,
            // The first line comes after 10 s, not at once.
            last_line: Mutex::new(started),
        }
    }

    pub fn set_accounts(&self, n: usize) {
        self.accounts.store(n, Ordering::Relaxed);
        self.refresh();
    }

    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    /// A cluster finished (`failed`: its row is an error).
    pub fn finished(&self, failed: bool, started: bool) {
        if started {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        self.done.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.refresh();
    }

    fn refresh(&self) {
        let (done, failed, in_flight, accounts) = (
            self.done.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.in_flight.load(Ordering::Relaxed),
            self.accounts.load(Ordering::Relaxed),
        );
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            bar.set_message(format!(
                "{failed} failed · {in_flight} in flight · {accounts} accounts"
            ));
            return;
        }
        let mut last = self.last_line.lock().expect("not poisoned");
        if last.elapsed() < LINE_EVERY {
            return;
        }
        *last = Instant::now();
        let line = serde_json::json!({
            "event": "progress",
            "clusters_done": done,
            "clusters_failed": failed,
            "clusters_in_flight": in_flight,
            "accounts": accounts,
            "elapsed_seconds": self.started.elapsed().as_secs(),
        });
        eprintln!("{line}");
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The end-of-run summary: clusters by status, findings by remediation, the five slowest
/// clusters, and the requests the run made.
pub fn summary(rows: &[ClusterRow], wall: Duration) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *by_status.entry(r.status.as_str()).or_default() += 1;
    }
    let required: i64 = rows.iter().map(|r| i64::from(r.required_findings)).sum();
    let recommended: i64 = rows.iter().map(|r| i64::from(r.recommended_findings)).sum();
    let mut slowest: Vec<&ClusterRow> = rows.iter().filter(|r| r.cluster_name != "*").collect();
    slowest.sort_by_key(|r| std::cmp::Reverse(r.duration_ms));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "summary: {} cluster row(s) in {:.1} s: {}",
        rows.len(),
        wall.as_secs_f64(),
        by_status
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "findings: {required} required, {recommended} recommended"
    );
    let _ = writeln!(out, "slowest clusters:");
    for r in slowest.iter().take(5) {
        let _ = writeln!(
            out,
            "  {:>8.1} s  {}/{}/{} ({})",
            r.duration_ms as f64 / 1000.0,
            r.account_id.as_deref().unwrap_or("-"),
            r.region.as_deref().unwrap_or("-"),
            r.cluster_name,
            r.status
        );
    }
    let _ = writeln!(
        out,
        "requests: {} AWS, {} Kubernetes ({} bytes)",
        REQUESTS.aws.load(Ordering::Relaxed),
        REQUESTS.kubernetes.load(Ordering::Relaxed),
        REQUESTS.kubernetes_bytes.load(Ordering::Relaxed),
    );
    out
}
