//! `eksup run`: the scheduled batch job. It writes its manifest (`running`), analyzes a
//! list of clusters or a fleet `concurrency` clusters at a time, and hands the rows to
//! [`crate::run::flush`], which writes them in batches while the run goes; each cluster's
//! full report and JSON lines on stdout go out as soon as it is done. At the end (or after
//! SIGTERM/SIGINT, see [`crate::run::shutdown`]) the last batch, the fleet page and the
//! manifest (`complete`, `interrupted` or `failed`) are written.
//!
//! A cluster, region or account that cannot be read still gets a `clusters` row with
//! `status = error` and the reason; an object that cannot be written is reported and every
//! other one still is; any of these, or an interruption, makes the exit code 3. A wrong
//! output (bucket, owner, key, directory) fails before any cluster is read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;
use uuid::Uuid;

use crate::collect::{self, AwsScope, Deadline, EksCluster};
use crate::error::exit;
use crate::output::page;
use crate::output::sink::emf::EmfSettings;
use crate::output::sink::manifest::{Interruption, Manifest, Rows, Status};
use crate::output::sink::s3::{S3Settings, S3Sink};
use crate::output::sink::{self, BatchSettings, Layout, Sinks, events};
use crate::output::tables::{self, ClusterRow, FindingRow};
use crate::run::analyze::{self, Evaluation};
use crate::run::fleet::{self, Shard, Unit, progress::Progress};
use crate::run::flush::{Flusher, Target};
use crate::run::shutdown::Shutdown;
use crate::run::{Error, Job, Source, Work};
use crate::version::KubeVersion;

/// Clusters of a `clusters` list analyzed at once.
const LIST_CONCURRENCY: usize = 4;
/// Past its deadline, a cluster's sources have stopped; this is the margin for building
/// its report before the cluster is given up entirely.
const DEADLINE_GRACE: Duration = Duration::from_secs(10);

/// Where the run writes, resolved by the command from the flags over the `outputs` settings.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub directory: Option<PathBuf>,
    pub s3: Option<S3Settings>,
    pub stdout: bool,
    pub emf: Option<EmfSettings>,
    /// The fleet page after the tables (`outputs.fleet_page`).
    pub fleet_page: bool,
    /// How often rows are flushed (`outputs.batch`).
    pub batch: BatchSettings,
}

impl Outputs {
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(d) = &self.directory {
            out.push(format!("directory {}", d.display()));
        }
        if let Some(s) = &self.s3 {
            out.push(format!(
                "s3://{}/{}{}{}",
                s.bucket,
                s.prefix,
                s.kms_key_id
                    .as_ref()
                    .map(|k| format!(" (SSE-KMS {k})"))
                    .unwrap_or_default(),
                s.expected_bucket_owner
                    .as_ref()
                    .map(|o| format!(" (owner {o})"))
                    .unwrap_or_default()
            ));
        }
        if self.stdout {
            out.push("JSON lines on stdout".into());
        }
        if self.fleet_page {
            out.push("the fleet page (fleet-page/latest.html)".into());
        }
        out
    }
}

/// How a run goes: everything [`run`] needs besides its work.
#[derive(Debug, Clone)]
pub struct Options {
    pub outputs: Outputs,
    pub shard: Shard,
    /// Names this writer in object names (a shard's index already appended).
    pub writer: String,
    /// The runner's own AWS profile and region (outputs, AssumeRole).
    pub profile: Option<String>,
    pub region: Option<String>,
    pub how: Evaluation,
    /// How long the clusters in flight may finish after SIGTERM or SIGINT.
    pub grace: Duration,
}

/// A cluster in flight: what its error row names, and when it started.
struct Started {
    account: Option<String>,
    region: Option<String>,
    cluster: String,
    at: Instant,
}

/// The clusters being analyzed, so that those a shutdown cuts off still get their rows.
#[derive(Default)]
struct InFlight {
    next: AtomicU64,
    clusters: Mutex<BTreeMap<u64, Started>>,
}

impl InFlight {
    fn enter(&self, account: Option<String>, region: Option<String>, cluster: String) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let started = Started {
            account,
            region,
            cluster,
            at: Instant::now(),
        };
        self.lock().insert(id, started);
        id
    }

    fn leave(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn remaining(&self) -> Vec<Started> {
        std::mem::take(&mut *self.lock()).into_values().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Started>> {
        self.clusters.lock().expect("not poisoned")
    }
}

/// What one run shares with each cluster's analysis.
struct RunContext {
    run_id: Uuid,
    run_time: DateTime<Utc>,
    how: Evaluation,
    layout: Layout,
    sinks: Arc<Sinks>,
    stdout: bool,
    in_flight: InFlight,
}

/// A cluster's rows, plus what failed writing its report.
struct Outcome {
    row: ClusterRow,
    findings: Vec<FindingRow>,
    reports_written: usize,
    write_errors: Vec<String>,
}

/// A unit of work of the run: a job of a `clusters` list, or what fleet discovery found.
enum Item {
    Job(Job),
    Fleet(Unit),
}

impl RunContext {
    fn error_row(
        &self,
        account: Option<String>,
        region: Option<String>,
        cluster: &str,
        error: String,
        started: Instant,
    ) -> Outcome {
        tracing::error!(cluster, "{error}");
        let row = tables::error_row(
            &self.run_id.to_string(),
            self.run_time,
            account,
            region,
            cluster,
            error,
            started.elapsed().as_millis() as i64,
        );
        events::cluster(&row, self.stdout);
        Outcome {
            row,
            findings: Vec::new(),
            reports_written: 0,
            write_errors: Vec::new(),
        }
    }

    /// Rows from an analysis; the report is written now and the snapshot dropped, so only
    /// rows outlive the cluster.
    async fn rows(
        &self,
        analysis: analyze::Analysis,
        started: Instant,
        timeout: Option<Duration>,
    ) -> Outcome {
        let mut analysis = analysis;
        analysis.report.metadata.run_id = self.run_id;
        let elapsed = started.elapsed().as_millis() as i64;
        let mut row = tables::cluster_row(
            &analysis.report,
            &analysis.snapshot,
            self.run_time,
            analysis.as_of,
            elapsed,
        );
        if let Some(t) = timeout {
            let late: Vec<&str> = analysis
                .snapshot
                .collection_errors
                .iter()
                .filter(|e| e.message.contains(collect::deadline::MARKER))
                .map(|e| e.source.as_str())
                .collect();
            if !late.is_empty() {
                row.status = "error".into();
                row.error = Some(format!(
                    "the cluster exceeded cluster_timeout_seconds ({} s); not read in time: {}; findings from what was read before the deadline are kept",
                    t.as_secs(),
                    late.join(", ")
                ));
            }
        }
        drop(analysis.snapshot);
        events::report(&analysis.report, &row, self.stdout);
        let findings = tables::finding_rows(&analysis.report, self.run_time);
        let object = sink::report_object(&analysis.report, &self.layout);
        let written = sink::write(std::slice::from_ref(&object), &self.sinks).await;
        Outcome {
            row,
            findings,
            reports_written: written.locations.len(),
            write_errors: written.errors,
        }
    }

    async fn job(&self, job: Job) -> Result<Outcome, Error> {
        let started = Instant::now();
        match analyze::analyze(&job, &self.how, None).await {
            Ok(analysis) => Ok(self.rows(analysis, started, None).await),
            // A bad snapshot file is a usage error of the whole run.
            Err(e) if e.exit_code() == exit::USAGE && matches!(job.source, Source::Snapshot(_)) => {
                Err(e)
            }
            Err(e) => {
                let (name, region) = job.label();
                Ok(self.error_row(None, region, &name, e.to_string(), started))
            }
        }
    }

    /// A fleet cluster: collected under its deadline with its account's credentials.
    async fn described(
        &self,
        scope: Arc<AwsScope>,
        cluster: EksCluster,
        target_version: Option<KubeVersion>,
        timeout: Duration,
    ) -> Outcome {
        let started = Instant::now();
        let (account, region, name) = (
            cluster.account_id.clone(),
            Some(cluster.region.clone()),
            cluster.name.clone(),
        );
        let collected = tokio::time::timeout(
            timeout + DEADLINE_GRACE,
            collect::collect_described(
                &scope,
                cluster,
                target_version,
                None,
                Deadline::after(timeout),
                self.how.reads(),
            ),
        )
        .await;
        let analysis = match collected {
            Err(_) => Err(format!(
                "the cluster exceeded cluster_timeout_seconds ({} s) before anything could be reported",
                timeout.as_secs()
            )),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(snapshot)) => analyze::evaluate_snapshot(snapshot, target_version, &self.how)
                .map_err(|e| e.to_string()),
        };
        match analysis {
            Ok(a) => self.rows(a, started, Some(timeout)).await,
            Err(e) => self.error_row(account, region, &name, e, started),
        }
    }
}

/// Runs the work; returns the exit code.
pub async fn run(work: Work, options: Options) -> Result<u8, Error> {
    let Options {
        outputs,
        shard,
        writer,
        profile,
        region,
        how,
        grace,
    } = options;
    let run_id = Uuid::now_v7();
    // Milliseconds, the precision of the Parquet column, so JSON lines and Parquet agree.
    let run_time = Utc::now().trunc_subsecs(3);
    let layout = Layout::new(
        outputs.s3.as_ref().map_or("", |s| s.prefix.as_str()),
        run_time,
        &run_id.to_string(),
        &writer,
    );
    // The runner's own credentials: outputs and AssumeRole use them, never a member's.
    let needs_aws = outputs.s3.is_some() || matches!(work, Work::Fleet(_));
    let runner = if needs_aws {
        Some(collect::aws::eks::load_sdk_config(profile.as_deref(), region.as_deref()).await?)
    } else {
        None
    };
    let s3 = match (&outputs.s3, &runner) {
        (Some(s), Some(sdk)) => Some(S3Sink::new(
            sink::s3::client(sdk, s.force_path_style),
            s.clone(),
        )),
        _ => None,
    };
    let sinks = Arc::new(Sinks {
        directory: outputs.directory.clone(),
        s3,
    });
    let mut manifest = Manifest {
        run_id: run_id.to_string(),
        writer: layout.writer().to_string(),
        shard: shard.to_string(),
        tool_version: env!("CARGO_PKG_VERSION"),
        status: Status::Running,
        started_at: run_time,
        ended_at: None,
        plan: serde_json::json!({"work": work.summary(), "outputs": outputs.describe()}),
        batch: outputs.batch,
        batches: 0,
        rows: Rows::default(),
        clusters: BTreeMap::new(),
        reports: 0,
        files: Vec::new(),
        failed: Vec::new(),
        interrupted: None,
    };
    if let Err(e) = start_manifest(&manifest, &layout, &sinks).await {
        eprintln!(
            "error: cannot write {e}; no cluster was read (check the bucket, its owner, the KMS key and the runner's permissions)"
        );
        return Ok(exit::FAILURE);
    }
    let shutdown = Shutdown::listen(grace);
    let ctx = RunContext {
        run_id,
        run_time,
        how,
        layout,
        sinks: sinks.clone(),
        stdout: outputs.stdout,
        in_flight: InFlight::default(),
    };
    let progress = Progress::start();
    let started = Instant::now();
    let run_id_text = run_id.to_string();

    let (items, concurrency, fleet_limits) = match &work {
        Work::Clusters(jobs) => {
            let mine: Vec<Job> = jobs
                .iter()
                .enumerate()
                .filter(|(k, _)| *k as u32 % shard.count == shard.index)
                .map(|(_, j)| j.clone())
                .collect();
            (
                futures::stream::iter(mine.into_iter().map(Item::Job)).left_stream(),
                LIST_CONCURRENCY,
                None,
            )
        }
        Work::Fleet(plan) => {
            let runner = runner
                .as_ref()
                .expect("a fleet loads the runner's configuration");
            let units = fleet::units(plan, runner, &run_id_text, shard, &progress).await;
            (
                units.map(Item::Fleet).right_stream(),
                plan.concurrency,
                Some((plan.target_version, plan.cluster_timeout)),
            )
        }
    };
    // After a signal no further unit is taken: discovery and the clusters not started stop.
    let stop = shutdown.clone();
    let items = items.take_until(async move { stop.stopping().await });
    let ctx = &ctx;
    let progress = &progress;
    // Boxed so that dropping it cancels the analyses in flight.
    let mut outcomes = Box::pin(
        items
            .map(|item| async move {
                let result = match item {
                    Item::Job(job) => {
                        progress.started();
                        let (name, region) = job.label();
                        let id = ctx.in_flight.enter(None, region, name);
                        let outcome = ctx.job(job).await;
                        ctx.in_flight.leave(id);
                        outcome.map(|o| (o, true))
                    }
                    Item::Fleet(Unit::Failed(f)) => Ok((
                        ctx.error_row(f.account, f.region, &f.cluster, f.error, Instant::now()),
                        false,
                    )),
                    Item::Fleet(Unit::Cluster { scope, cluster }) => {
                        progress.started();
                        let (tv, timeout) =
                            fleet_limits.expect("fleet units come with fleet limits");
                        let id = ctx.in_flight.enter(
                            cluster.account_id.clone(),
                            Some(cluster.region.clone()),
                            cluster.name.clone(),
                        );
                        let outcome = ctx.described(scope, *cluster, tv, timeout).await;
                        ctx.in_flight.leave(id);
                        Ok((outcome, true))
                    }
                };
                if let Ok((o, began)) = &result {
                    progress.finished(o.row.status == "error", *began);
                }
                result.map(|(o, _)| o)
            })
            .buffer_unordered(concurrency),
    );
    let mut flusher = Flusher::start(
        Target {
            sinks: sinks.clone(),
            layout: ctx.layout.clone(),
            emf: outputs.emf.clone(),
            run_time,
        },
        outputs.batch,
    );
    // Cluster rows only (no findings) outlive their batch: the summary and the EMF fleet
    // totals count them at the end.
    let mut rows: Vec<ClusterRow> = Vec::new();
    let mut errors = Vec::new();
    let mut reports = 0;
    let cut_off = loop {
        let due = flusher.due();
        tokio::select! {
            biased;
            () = shutdown.cut_off() => break true,
            next = outcomes.next() => match next {
                None => break false,
                Some(outcome) => {
                    let outcome = outcome?;
                    reports += outcome.reports_written;
                    errors.extend(outcome.write_errors);
                    rows.push(outcome.row.clone());
                    flusher.push(outcome.row, outcome.findings).await;
                }
            },
            () = until(due) => flusher.flush().await,
        }
    };
    // Dropping the stream cancels the analyses still in flight; each gets an error row.
    drop(outcomes);
    let mut given_up = Vec::new();
    if cut_off {
        for s in ctx.in_flight.remaining() {
            let error = format!(
                "interrupted: the run was stopped ({}) and the cluster's analysis did not finish within the {} s grace period",
                shutdown.signal().map_or("signal", |(s, _)| s),
                grace.as_secs()
            );
            given_up.push(format!(
                "{}/{}/{}",
                s.account.as_deref().unwrap_or("-"),
                s.region.as_deref().unwrap_or("-"),
                s.cluster
            ));
            let o = ctx.error_row(s.account, s.region, &s.cluster, error, s.at);
            progress.finished(true, true);
            rows.push(o.row.clone());
            flusher.push(o.row, Vec::new()).await;
        }
    }
    progress.finish();
    let flushed = flusher.finish().await;
    errors.extend(flushed.errors);
    let interrupted = shutdown.signal();
    let mut pages_written = 0;
    if outputs.fleet_page && interrupted.is_none() {
        match fleet_pages(ctx, run_time).await {
            Ok(pages) => {
                let more = sink::write(&pages, &sinks).await;
                pages_written = more.locations.len();
                errors.extend(more.errors);
            }
            Err(e) => errors.push(format!("cannot write the fleet page: {e}")),
        }
    } else if outputs.fleet_page {
        eprintln!("the fleet page is not written: the run was interrupted");
    }

    manifest.status = match (interrupted, errors.is_empty()) {
        (Some(_), _) => Status::Interrupted,
        (None, false) => Status::Failed,
        (None, true) => Status::Complete,
    };
    manifest.ended_at = Some(Utc::now());
    manifest.batches = flushed.batches;
    manifest.rows = flushed.rows;
    manifest.files = flushed.files;
    manifest.reports = reports;
    for r in &rows {
        *manifest.clusters.entry(r.status.clone()).or_default() += 1;
    }
    manifest.failed = errors.clone();
    manifest.interrupted = interrupted.map(|(signal, at)| Interruption {
        signal,
        at,
        grace_seconds: grace.as_secs(),
        cut_off: given_up,
    });
    if !sinks.is_empty() {
        let written = sink::write(&[manifest.object(&ctx.layout)], &sinks).await;
        errors.extend(written.errors);
    }
    events::run(&manifest, outputs.stdout);
    for e in &errors {
        eprintln!("error: {e}");
    }
    if let Some(settings) = &outputs.emf {
        let status = serde_json::to_value(manifest.status).expect("serializes");
        sink::emf::print(&[sink::emf::totals_line(
            settings,
            &run_id_text,
            run_time,
            ctx.how.as_of.unwrap_or(run_time.date_naive()),
            &rows,
            status.as_str(),
        )]);
    }
    let failed = rows.iter().filter(|c| c.status == "error").count();
    eprintln!(
        "run {run_id}: {} of {} cluster(s) analyzed, {} finding(s); wrote {} table file(s) in {} batch(es), {reports} report(s){}{}",
        rows.len() - failed,
        rows.len(),
        manifest.rows.findings,
        manifest.files.len(),
        manifest.batches,
        if pages_written > 0 {
            " and the fleet page"
        } else {
            ""
        },
        outputs
            .directory
            .map(|d| format!(" under {}", d.display()))
            .unwrap_or_default()
    );
    eprint!("{}", fleet::progress::summary(&rows, started.elapsed()));
    Ok(
        if failed > 0 || !errors.is_empty() || interrupted.is_some() {
            exit::FAILURE
        } else {
            exit::OK
        },
    )
}

/// Sleeps until `due`, or forever when nothing is pending.
async fn until(due: Option<tokio::time::Instant>) {
    match due {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Writes the `running` manifest to S3 first, then to the directory: a wrong bucket, owner,
/// key or permission fails the run before any cluster is read or any file is made.
async fn start_manifest(manifest: &Manifest, layout: &Layout, sinks: &Sinks) -> Result<(), String> {
    let object = manifest.object(layout);
    if let Some(s3) = &sinks.s3 {
        s3.put(&object.key, object.body.clone(), object.content_type)
            .await?;
    }
    if let Some(dir) = &sinks.directory {
        sink::local::put(dir, &object.key, &object.body)?;
    }
    Ok(())
}

/// The fleet's page (`outputs.report`), read back from what this run just wrote (the local
/// directory when there is one, else S3), so it also shows the clusters other writers and
/// shards reported within the default window.
async fn fleet_pages(
    ctx: &RunContext,
    run_time: DateTime<Utc>,
) -> Result<Vec<sink::Object>, Error> {
    let store = match (&ctx.sinks.directory, &ctx.sinks.s3) {
        (Some(dir), _) => page::Store::Local(dir.clone()),
        (None, Some(s3)) => page::Store::S3 {
            client: s3.client().clone(),
            bucket: s3.settings.bucket.clone(),
            prefix: s3.settings.prefix.clone(),
        },
        (None, None) => return Ok(Vec::new()),
    };
    let today = run_time.date_naive();
    let window = page::model::Window::ending(today, page::DEFAULT_DAYS);
    let html = page::generate(&store, window, ctx.how.as_of.unwrap_or(today)).await?;
    let body = bytes::Bytes::from(html);
    Ok(ctx
        .layout
        .fleet_pages()
        .into_iter()
        .map(|key| sink::Object {
            key,
            body: body.clone(),
            content_type: "text/html; charset=utf-8",
        })
        .collect())
}
