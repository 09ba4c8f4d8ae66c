//! The fleet facts, computed once: which row is a cluster's latest, what a cluster's verdict
//! is (and what a missing one means), where its version stands in the support calendar, and
//! how the fleet is counted. The HTML page ([`crate::output::page`]) and the EMF lines
//! ([`crate::output::sink::emf`]) read these functions and nothing else; the Athena queries
//! (`athena/queries/fleet_summary.sql` and the queries beside it) restate them in SQL, and a
//! test runs both on the same tree and compares every count.
//!
//! The definitions:
//! - **a cluster** is an (account, region, cluster name); a row whose name is
//!   [`WHOLE_SCOPE`] (`*`) is about a whole account or region that could not be read: it is
//!   never a cluster, it counts once per (account, region) as an **unreadable scope**;
//! - **latest row**: the newest `run_time`, ties broken by the greater `run_id` (UUIDv7 sorts
//!   by time), among the rows of the window;
//! - **verdict**: the recorded `readiness`; a row written before the column existed is
//!   *blocked* when it read the cluster and has a required finding, else *unknown* — never
//!   *ready* (a skipped check leaves no trace in such a row);
//! - **errored**: the latest row's status is `error`. Its version and support dates are
//!   those of the cluster's newest row that has a version (the cluster still runs it);
//! - **in extended support**: past the end of standard support on the day asked
//!   (`end_of_standard_support < as_of`), whether extended support has ended too or not —
//!   both are billed at the extended price until the cluster is upgraded;
//! - **within N days**: `0 ≤ end_of_standard_support − as_of ≤ N`;
//! - **stopped reporting**: no row on the window's last day or the day before
//!   ([`STALE_AFTER_DAYS`]).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use crate::checks::Readiness;
use crate::output::tables::ClusterRow;
use crate::price::Prices;

/// The `cluster_name` of a row about an account or region that could not be read at all.
pub const WHOLE_SCOPE: &str = "*";
/// A cluster with no row on the window's last day or the day before has stopped reporting
/// (the runner is daily; one missed day is tolerated, e.g. a report made before the run).
pub const STALE_AFTER_DAYS: u64 = 2;

/// One `clusters` row as the fleet facts read it: read back from Parquet, or made from the
/// rows a run has just written ([`ClusterRecord::from`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterRecord {
    pub dt: NaiveDate,
    pub file_name: String,
    pub run_id: String,
    pub run_time: DateTime<Utc>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub cluster_name: String,
    pub status: String,
    pub error: Option<String>,
    pub current_version: Option<String>,
    pub target_version: Option<String>,
    pub end_of_standard_support: Option<NaiveDate>,
    pub end_of_extended_support: Option<NaiveDate>,
    pub required_findings: i64,
    pub recommended_findings: i64,
    pub collection_errors: i64,
    /// `blocked|unknown|ready`; absent from files written before the verdict existed.
    pub readiness: Option<String>,
    pub checks_run: Option<i64>,
    pub checks_skipped: Option<i64>,
    /// Until when the control plane can be rolled back one minor; null when not on record.
    pub rollback_window_ends: Option<DateTime<Utc>>,
}

impl From<&ClusterRow> for ClusterRecord {
    fn from(r: &ClusterRow) -> Self {
        Self {
            dt: r.run_time.date_naive(),
            file_name: String::new(),
            run_id: r.run_id.clone(),
            run_time: r.run_time,
            account_id: r.account_id.clone(),
            region: r.region.clone(),
            cluster_name: r.cluster_name.clone(),
            status: r.status.clone(),
            error: r.error.clone(),
            current_version: r.current_version.clone(),
            target_version: r.target_version.clone(),
            end_of_standard_support: r.end_of_standard_support,
            end_of_extended_support: r.end_of_extended_support,
            required_findings: i64::from(r.required_findings),
            recommended_findings: i64::from(r.recommended_findings),
            collection_errors: i64::from(r.collection_errors),
            readiness: Some(r.readiness.clone()),
            checks_run: r.checks_run.map(i64::from),
            checks_skipped: r.checks_skipped.map(i64::from),
            rollback_window_ends: r.rollback_window_ends,
        }
    }
}

/// Where a cluster's version stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Support {
    Standard,
    Extended,
    Ended,
    Unknown,
}

/// A cluster: account, region, name.
pub type Key = (Option<String>, Option<String>, String);

impl ClusterRecord {
    pub fn key(&self) -> Key {
        (
            self.account_id.clone(),
            self.region.clone(),
            self.cluster_name.clone(),
        )
    }

    /// A row about a whole account or region that could not be read, not about a cluster.
    pub fn is_whole_scope(&self) -> bool {
        self.cluster_name == WHOLE_SCOPE
    }

    pub fn errored(&self) -> bool {
        self.status == "error"
    }

    /// The verdict, and whether it was recorded (false: derived for a row that predates the
    /// `readiness` column).
    pub fn verdict(&self) -> (Readiness, bool) {
        match self.readiness.as_deref() {
            Some("blocked") => (Readiness::Blocked, true),
            Some("ready") => (Readiness::Ready, true),
            Some(_) => (Readiness::Unknown, true),
            None if !self.errored() && self.required_findings > 0 => (Readiness::Blocked, false),
            None => (Readiness::Unknown, false),
        }
    }

    pub fn support(&self, as_of: NaiveDate) -> Support {
        match (self.end_of_standard_support, self.end_of_extended_support) {
            (Some(s), _) if as_of <= s => Support::Standard,
            (Some(_), Some(e)) if as_of <= e => Support::Extended,
            (Some(_), Some(_)) => Support::Ended,
            // Without the extended date, past standard support still bills as extended.
            (Some(_), None) => Support::Extended,
            (None, _) => Support::Unknown,
        }
    }

    /// Past the end of standard support: billed at the extended price.
    pub fn in_extended_support(&self, as_of: NaiveDate) -> bool {
        matches!(self.support(as_of), Support::Extended | Support::Ended)
    }

    pub fn days_to_end_of_standard_support(&self, as_of: NaiveDate) -> Option<i64> {
        self.end_of_standard_support.map(|d| (d - as_of).num_days())
    }

    /// Standard support ends within `days` days (and has not ended yet).
    pub fn within(&self, as_of: NaiveDate, days: i64) -> bool {
        self.days_to_end_of_standard_support(as_of)
            .is_some_and(|d| (0..=days).contains(&d))
    }
}

/// The latest row of each cluster (or scope): newest `run_time`, then the greater `run_id`,
/// so two runs in the same millisecond still pick one deterministically. Sorted by key.
pub fn latest<'a>(rows: impl IntoIterator<Item = &'a ClusterRecord>) -> Vec<&'a ClusterRecord> {
    let mut by: HashMap<Key, &ClusterRecord> = HashMap::new();
    for r in rows {
        by.entry(r.key())
            .and_modify(|cur| {
                if (r.run_time, &r.run_id) > (cur.run_time, &cur.run_id) {
                    *cur = r;
                }
            })
            .or_insert(r);
    }
    let mut out: Vec<_> = by.into_values().collect();
    out.sort_by_key(|r| r.key());
    out
}

/// Whether a cluster whose latest row is of day `last_dt` has stopped reporting by the
/// window's last day.
pub fn stopped(last_dt: NaiveDate, window_last: NaiveDate) -> bool {
    let stale_before = window_last
        .checked_sub_days(Days::new(STALE_AFTER_DAYS - 1))
        .unwrap_or(window_last);
    last_dt < stale_before
}

/// One cluster as the fleet counts it: its latest row, and the row its version and support
/// dates come from (an earlier one when the latest is an error without a version).
#[derive(Debug, Clone, Copy)]
pub struct ClusterState<'a> {
    pub latest: &'a ClusterRecord,
    pub versioned: &'a ClusterRecord,
}

impl ClusterState<'_> {
    /// The day of the earlier run the version comes from, when it is not the latest row's.
    pub fn version_from(&self) -> Option<NaiveDate> {
        (!std::ptr::eq(self.latest, self.versioned)).then_some(self.versioned.dt)
    }
}

/// The fleet in a window: each cluster's state and the latest row of each unreadable scope.
#[derive(Debug, Clone)]
pub struct Fleet<'a> {
    pub clusters: Vec<ClusterState<'a>>,
    pub scopes: Vec<&'a ClusterRecord>,
}

impl<'a> Fleet<'a> {
    /// Every row of a window (or of one run) → the fleet.
    pub fn of(rows: &'a [ClusterRecord]) -> Self {
        let (scope_rows, cluster_rows): (Vec<&ClusterRecord>, Vec<&ClusterRecord>) =
            rows.iter().partition(|r| r.is_whole_scope());
        let versioned: HashMap<Key, &ClusterRecord> = latest(
            cluster_rows
                .iter()
                .copied()
                .filter(|r| r.current_version.is_some()),
        )
        .into_iter()
        .map(|r| (r.key(), r))
        .collect();
        let clusters = latest(cluster_rows.iter().copied())
            .into_iter()
            .map(|r| ClusterState {
                latest: r,
                versioned: match versioned.get(&r.key()) {
                    Some(earlier) if r.current_version.is_none() => earlier,
                    _ => r,
                },
            })
            .collect();
        Self {
            clusters,
            scopes: latest(scope_rows),
        }
    }

    /// The counts as of `as_of`; `window_last` is the last day of the window (stopped
    /// reporting is measured against it; `None` for a single run).
    pub fn totals(&self, as_of: NaiveDate, window_last: Option<NaiveDate>) -> Totals {
        let count =
            |f: &dyn Fn(&ClusterState) -> bool| self.clusters.iter().filter(|c| f(c)).count();
        let distinct = |f: &dyn Fn(&ClusterRecord) -> Option<&str>| {
            self.clusters
                .iter()
                .filter_map(|c| f(c.latest))
                .filter(|s| !s.is_empty())
                .collect::<BTreeSet<_>>()
                .len()
        };
        let verdict = |v: Readiness| count(&|c| c.latest.verdict().0 == v);
        let extended = count(&|c| c.versioned.in_extended_support(as_of));
        let n = extended as i64;
        let prices = Prices::embedded();
        Totals {
            clusters: self.clusters.len(),
            accounts: distinct(&|r| r.account_id.as_deref()),
            regions: distinct(&|r| r.region.as_deref()),
            analyzed: count(&|c| !c.latest.errored()),
            errored: count(&|c| c.latest.errored()),
            blocked: verdict(Readiness::Blocked),
            unknown: verdict(Readiness::Unknown),
            ready: verdict(Readiness::Ready),
            verdicts_derived: count(&|c| !c.latest.verdict().1),
            extended,
            extended_monthly_cents: n * prices.extended_cents_per_month(),
            standard_monthly_cents: n * prices.standard_cents_per_month(),
            extended_extra_monthly_cents: n * prices.extended_extra_cents_per_month(),
            within_30: self.within(as_of, 30),
            within_90: self.within(as_of, 90),
            stopped: window_last.map_or(0, |last| count(&|c| stopped(c.latest.dt, last))),
            unreadable_scopes: self.scopes.len(),
        }
    }

    /// Clusters whose standard support ends within `days` days.
    pub fn within(&self, as_of: NaiveDate, days: i64) -> usize {
        self.clusters
            .iter()
            .filter(|c| c.versioned.within(as_of, days))
            .count()
    }
}

/// The fleet's counts: the page's headline figures, the EMF fleet totals and
/// `athena/queries/fleet_summary.sql`'s one row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub clusters: usize,
    pub accounts: usize,
    pub regions: usize,
    /// Latest row read and evaluated (status `ok` or `partial`).
    pub analyzed: usize,
    /// Latest row an error.
    pub errored: usize,
    pub blocked: usize,
    pub unknown: usize,
    pub ready: usize,
    /// Verdicts derived for rows that predate the `readiness` column.
    pub verdicts_derived: usize,
    /// Past the end of standard support.
    pub extended: usize,
    /// Per month for the clusters in extended support, at the extended and at the standard
    /// price, in cents.
    pub extended_monthly_cents: i64,
    pub standard_monthly_cents: i64,
    /// What extended support adds per month for those clusters (extended − standard), from
    /// [`Prices::extended_extra_cents_per_month`]: the page's headline and the EMF
    /// `ExtendedSupportExtraCostPerMonth`.
    pub extended_extra_monthly_cents: i64,
    pub within_30: usize,
    pub within_90: usize,
    pub stopped: usize,
    pub unreadable_scopes: usize,
}

/// Rows for tests: a cluster on 1.33 (standard support until 2026-07-29) read on day `d` of
/// July 2026 at hour `h`.
#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::ClusterRecord;

    pub fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, d).unwrap()
    }

    pub fn at(d: u32, h: u32) -> DateTime<Utc> {
        day(d).and_hms_opt(h, 0, 0).unwrap().and_utc()
    }

    pub fn rec(name: &str, d: u32, h: u32) -> ClusterRecord {
        ClusterRecord {
            dt: day(d),
            run_id: format!("run-{d}-{h}"),
            run_time: at(d, h),
            account_id: Some("111111111111".into()),
            region: Some("us-east-1".into()),
            cluster_name: name.into(),
            status: "ok".into(),
            current_version: Some("1.33".into()),
            end_of_standard_support: Some(day(29)),
            end_of_extended_support: Some(NaiveDate::from_ymd_opt(2027, 7, 29).unwrap()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{at, day, rec};
    use super::*;

    #[test]
    fn the_latest_row_wins_and_ties_break_on_run_id() {
        let rows = [
            rec("a", 5, 6),
            rec("a", 6, 6),
            rec("a", 6, 18),
            rec("b", 3, 6),
        ];
        let got = latest(rows.iter());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].run_time, at(6, 18));
        let mut same = rec("a", 6, 18);
        same.run_id = "run-6-18-z".into();
        let both = [same.clone(), rec("a", 6, 18)];
        assert_eq!(latest(both.iter())[0].run_id, "run-6-18-z");
    }

    #[test]
    fn the_recorded_verdict_wins_and_old_rows_fall_back() {
        let mut r = rec("a", 6, 6);
        assert_eq!(r.verdict(), (Readiness::Unknown, false));
        r.required_findings = 2;
        assert_eq!(r.verdict(), (Readiness::Blocked, false));
        r.readiness = Some("ready".into());
        assert_eq!(r.verdict(), (Readiness::Ready, true));
        r.readiness = None;
        r.status = "error".into();
        assert_eq!(r.verdict(), (Readiness::Unknown, false));
    }

    #[test]
    fn support_windows_are_measured_on_the_day_asked() {
        let r = rec("a", 6, 6);
        assert_eq!(r.support(day(29)), Support::Standard);
        assert!(!r.in_extended_support(day(29)));
        assert!(r.in_extended_support(day(30)));
        assert!(r.within(day(29), 30) && r.within(day(1), 30));
        assert!(
            !r.within(day(30), 30),
            "ended standard support is not within the notice"
        );
        let mut ended = r.clone();
        ended.end_of_extended_support = Some(day(30));
        assert_eq!(ended.support(day(31)), Support::Ended);
        assert!(
            ended.in_extended_support(day(31)),
            "billed as extended until upgraded"
        );
        let mut none = r.clone();
        none.end_of_standard_support = None;
        assert_eq!(none.support(day(1)), Support::Unknown);
        assert!(!none.in_extended_support(day(1)) && !none.within(day(1), 90));
    }

    #[test]
    fn whole_scope_rows_are_scopes_not_clusters_and_errors_keep_their_version() {
        let mut scope = rec(WHOLE_SCOPE, 6, 6);
        scope.status = "error".into();
        scope.current_version = None;
        let mut failed = rec("b", 6, 6);
        failed.status = "error".into();
        failed.current_version = None;
        failed.end_of_standard_support = None;
        let mut old = rec("b", 5, 6);
        old.end_of_standard_support = Some(day(1));
        let rows = vec![scope, failed, old, rec("a", 6, 6)];
        let fleet = Fleet::of(&rows);
        let t = fleet.totals(day(6), Some(day(6)));
        assert_eq!((t.clusters, t.unreadable_scopes, t.errored), (2, 1, 1));
        assert_eq!(t.analyzed, 1);
        let b = fleet
            .clusters
            .iter()
            .find(|c| c.latest.cluster_name == "b")
            .unwrap();
        assert_eq!(b.version_from(), Some(day(5)));
        assert_eq!(
            t.extended, 1,
            "the errored cluster still runs its old version"
        );
        assert_eq!(t.within_30, 1);
    }

    #[test]
    fn stopped_reporting_tolerates_one_missed_day() {
        assert!(!stopped(day(6), day(6)));
        assert!(!stopped(day(5), day(6)));
        assert!(stopped(day(4), day(6)));
    }
}
