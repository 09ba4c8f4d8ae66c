//! From rows to what the page shows: each cluster's state and the headline figures, both
//! from the fleet facts ([`crate::output::fleet`]), the required findings of each latest run
//! and the per-day totals. Pure, so every figure is unit-tested without files.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::rows::FindingRecord;
use crate::checks::Readiness;
use crate::output::fleet::{self, ClusterRecord, ClusterState, Fleet, Support, Totals};

/// The days of the report: `first..=last`, one `dt` partition each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Window {
    /// The `days` days ending with `last`.
    pub fn ending(last: NaiveDate, days: u32) -> Self {
        let first = last
            .checked_sub_days(Days::new(u64::from(days.max(1) - 1)))
            .unwrap_or(last);
        Self { first, last }
    }

    pub fn days(&self) -> Vec<NaiveDate> {
        self.first
            .iter_days()
            .take_while(|d| *d <= self.last)
            .collect()
    }
}

/// One cluster as the page shows it: its latest row and what follows from it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterView {
    /// The page anchor of the cluster's section (`c-1`, `c-2`, …): never built from data.
    pub anchor: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub status: String,
    pub error: Option<String>,
    pub current_version: Option<String>,
    /// The day of the earlier run `current_version` and the support dates come from, when
    /// the latest row (an error) has no version of its own.
    pub version_from: Option<NaiveDate>,
    pub target_version: Option<String>,
    pub end_of_standard_support: Option<NaiveDate>,
    pub days_to_end_of_standard_support: Option<i64>,
    pub support: Support,
    pub verdict: Readiness,
    /// False when the verdict was derived because the row predates the `readiness` column.
    pub verdict_recorded: bool,
    pub checks_run: Option<i64>,
    pub checks_skipped: Option<i64>,
    pub required: i64,
    pub recommended: i64,
    pub collection_errors: i64,
    pub last_run: String,
    pub last_dt: NaiveDate,
    pub stale: bool,
    /// The end of the rollback window, when the cluster is inside it on the page's day.
    pub rollback_until: Option<String>,
    #[serde(skip)]
    pub run_id: String,
    pub findings: Vec<FindingRecord>,
}

/// Findings of the fleet on one day: the latest row of each cluster reported that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    pub dt: NaiveDate,
    pub clusters: usize,
    pub required: i64,
    pub recommended: i64,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct FleetView {
    pub as_of: NaiveDate,
    pub window_first: NaiveDate,
    pub window_last: NaiveDate,
    pub figures: Totals,
    pub clusters: Vec<ClusterView>,
    /// Accounts or regions that could not be read at all (latest row per account and region).
    pub scopes: Vec<ClusterView>,
    pub per_day: Vec<DayTotals>,
}

/// A cluster in one run: run id, account, region, name.
type RunKey = (String, Option<String>, Option<String>, String);

/// The view of one cluster's state (or of a scope's latest row, which is its own
/// `versioned`): when the latest row is an error without a version, the cluster still runs
/// the version it had, so that row's version and support dates stand in and the page says
/// which run they are from.
fn view(c: ClusterState, anchor: String, as_of: NaiveDate, window: Window) -> ClusterView {
    let (r, v) = (c.latest, c.versioned);
    let (verdict, verdict_recorded) = r.verdict();
    ClusterView {
        anchor,
        account_id: r.account_id.clone().unwrap_or_default(),
        region: r.region.clone().unwrap_or_default(),
        name: r.cluster_name.clone(),
        status: r.status.clone(),
        error: r.error.clone(),
        current_version: v.current_version.clone(),
        version_from: c.version_from(),
        target_version: r.target_version.clone(),
        end_of_standard_support: v.end_of_standard_support,
        days_to_end_of_standard_support: v.days_to_end_of_standard_support(as_of),
        support: v.support(as_of),
        verdict,
        verdict_recorded,
        checks_run: r.checks_run,
        checks_skipped: r.checks_skipped,
        required: r.required_findings,
        recommended: r.recommended_findings,
        collection_errors: r.collection_errors,
        last_run: r.run_time.format("%Y-%m-%d %H:%M UTC").to_string(),
        last_dt: r.dt,
        stale: fleet::stopped(r.dt, window.last),
        rollback_until: r
            .rollback_window_ends
            .filter(|end| *end > r.run_time && end.date_naive() >= as_of)
            .map(|end| end.format("%Y-%m-%d %H:%M UTC").to_string()),
        run_id: r.run_id.clone(),
        findings: Vec::new(),
    }
}

/// Builds the page's data from every `clusters` row of the window and the required findings
/// of the latest runs (matched to their cluster by run and cluster).
pub fn build(
    rows: &[ClusterRecord],
    findings: Vec<FindingRecord>,
    as_of: NaiveDate,
    window: Window,
) -> FleetView {
    build_from(rows, &Fleet::of(rows), findings, as_of, window)
}

/// [`build`] for a caller that already has the window's fleet (`facts` is `Fleet::of(rows)`).
pub fn build_from(
    rows: &[ClusterRecord],
    facts: &Fleet,
    findings: Vec<FindingRecord>,
    as_of: NaiveDate,
    window: Window,
) -> FleetView {
    let mut by_cluster: HashMap<RunKey, Vec<FindingRecord>> = HashMap::new();
    for f in findings {
        by_cluster
            .entry((
                f.run_id.clone(),
                f.account_id.clone(),
                f.region.clone(),
                f.cluster_name.clone(),
            ))
            .or_default()
            .push(f);
    }
    let clusters: Vec<ClusterView> = facts
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let r = c.latest;
            let mut v = view(*c, format!("c-{}", i + 1), as_of, window);
            let k = (
                r.run_id.clone(),
                r.account_id.clone(),
                r.region.clone(),
                r.cluster_name.clone(),
            );
            let mut found = by_cluster.remove(&k).unwrap_or_default();
            found.sort_by(|a, b| {
                (&a.code, &a.resource_namespace, &a.resource_name).cmp(&(
                    &b.code,
                    &b.resource_namespace,
                    &b.resource_name,
                ))
            });
            v.findings = found;
            v
        })
        .collect();
    let scopes: Vec<ClusterView> = facts
        .scopes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let state = ClusterState {
                latest: r,
                versioned: r,
            };
            view(state, format!("s-{}", i + 1), as_of, window)
        })
        .collect();
    let per_day = window
        .days()
        .into_iter()
        .map(|dt| {
            let day = fleet::latest(rows.iter().filter(|r| r.dt == dt && !r.is_whole_scope()));
            DayTotals {
                dt,
                clusters: day.len(),
                required: day.iter().map(|r| r.required_findings).sum(),
                recommended: day.iter().map(|r| r.recommended_findings).sum(),
            }
        })
        .collect();
    let figures = facts.totals(as_of, Some(window.last));
    FleetView {
        as_of,
        window_first: window.first,
        window_last: window.last,
        figures,
        clusters,
        scopes,
        per_day,
    }
}

/// Clusters per Kubernetes version in each account (`""` for a cluster with no version).
pub fn versions_by_account(clusters: &[ClusterView]) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for c in clusters {
        *out.entry(c.account_id.clone())
            .or_default()
            .entry(c.current_version.clone().unwrap_or_default())
            .or_default() += 1;
    }
    out
}

/// Required findings per check code, and how many clusters have them: most findings first.
pub fn required_by_code(clusters: &[ClusterView]) -> Vec<(String, usize, usize)> {
    let mut by: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for c in clusters {
        for f in &c.findings {
            let e = by.entry(&f.code).or_default();
            e.0 += 1;
            e.1.insert(&c.anchor);
        }
    }
    let mut out: Vec<_> = by
        .into_iter()
        .map(|(code, (n, cs))| (code.to_string(), n, cs.len()))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fleet::WHOLE_SCOPE;
    use crate::output::fleet::fixtures::{day, rec};

    #[test]
    fn figures_count_support_windows_costs_and_silence() {
        let window = Window::ending(day(6), 14);
        assert_eq!(window.first, NaiveDate::from_ymd_opt(2026, 6, 23).unwrap());
        let soon = rec("soon", 6, 6); // 23 days to end of standard support
        let mut old = rec("old", 6, 6);
        old.current_version = Some("1.30".into());
        old.end_of_standard_support = NaiveDate::from_ymd_opt(2025, 7, 23);
        old.end_of_extended_support = NaiveDate::from_ymd_opt(2026, 7, 23);
        old.readiness = Some("blocked".into());
        let mut later = rec("later", 6, 6);
        later.end_of_standard_support = NaiveDate::from_ymd_opt(2026, 9, 20);
        let gone = rec("gone", 4, 6);
        let mut err = rec("err", 6, 6);
        err.status = "error".into();
        err.end_of_standard_support = None;
        let mut scope = rec(WHOLE_SCOPE, 6, 6);
        scope.status = "error".into();
        let v = build(
            &[soon, old, later, gone, err, scope],
            vec![],
            day(6),
            window,
        );
        let f = &v.figures;
        assert_eq!((f.clusters, f.accounts, f.regions), (5, 1, 1));
        assert_eq!(
            (f.within_30, f.within_90),
            (2, 3),
            "soon + gone (23 d), later (76 d)"
        );
        assert_eq!(f.extended, 1);
        assert_eq!(f.extended_monthly_cents, 60 * 730);
        assert_eq!(f.standard_monthly_cents, 10 * 730);
        assert_eq!((f.errored, f.stopped, f.unreadable_scopes), (1, 1, 1));
        assert_eq!(
            (f.blocked, f.unknown, f.ready, f.verdicts_derived),
            (1, 4, 0, 4)
        );
        let gone = v.clusters.iter().find(|c| c.name == "gone").unwrap();
        assert!(gone.stale && gone.days_to_end_of_standard_support == Some(23));
    }

    /// A cluster whose latest run saw a version update 2 days before is marked until the
    /// window's end; one whose update was 9 days before (window closed) is not.
    #[test]
    fn clusters_inside_their_rollback_window_are_marked() {
        use crate::output::fleet::fixtures::at;
        let mut open = rec("open", 6, 6);
        open.rollback_window_ends = Some(at(4, 6) + chrono::Duration::days(7));
        let mut closed = rec("closed", 6, 6);
        closed.rollback_window_ends = Some(at(6, 6) - chrono::Duration::days(2));
        let v = build(
            &[open, closed, rec("never", 6, 6)],
            vec![],
            day(6),
            Window::ending(day(6), 14),
        );
        let mark = |name: &str| {
            v.clusters
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .rollback_until
                .clone()
        };
        assert_eq!(mark("open").as_deref(), Some("2026-07-11 06:00 UTC"));
        assert_eq!(mark("closed"), None);
        assert_eq!(mark("never"), None);
    }

    #[test]
    fn an_errored_latest_row_keeps_the_version_of_the_newest_earlier_row() {
        // On 1.30 two days ago, upgraded to 1.31 yesterday (both past standard support on
        // day 6), errored today: the cluster still runs 1.31 and bills extended support.
        let mut older = rec("flaky", 4, 6);
        older.current_version = Some("1.30".into());
        older.end_of_standard_support = NaiveDate::from_ymd_opt(2025, 7, 23);
        older.end_of_extended_support = NaiveDate::from_ymd_opt(2026, 7, 23);
        let mut newer = rec("flaky", 5, 6);
        newer.current_version = Some("1.31".into());
        newer.end_of_standard_support = NaiveDate::from_ymd_opt(2025, 11, 26);
        newer.end_of_extended_support = NaiveDate::from_ymd_opt(2026, 11, 26);
        let errored = |name: &str, d: u32, h: u32| {
            let mut e = rec(name, d, h);
            e.status = "error".into();
            e.error = Some("cannot be read".into());
            e.current_version = None;
            e.end_of_standard_support = None;
            e.end_of_extended_support = None;
            e
        };
        // Errors after the versioned rows, one earlier in the morning as well: the version
        // still comes from the newest row that has one, whatever lies between.
        let rows = [
            older,
            errored("flaky", 5, 3),
            newer,
            errored("flaky", 6, 6),
            errored("never", 6, 6),
            rec("fine", 6, 6),
        ];
        let v = build(&rows, vec![], day(6), Window::ending(day(6), 14));
        let by = |n: &str| v.clusters.iter().find(|c| c.name == n).unwrap();
        let flaky = by("flaky");
        assert_eq!(flaky.status, "error");
        assert_eq!(flaky.last_dt, day(6), "still the latest row's run");
        assert_eq!(flaky.current_version.as_deref(), Some("1.31"));
        assert_eq!(flaky.version_from, Some(day(5)));
        assert_eq!(
            flaky.end_of_standard_support,
            NaiveDate::from_ymd_opt(2025, 11, 26)
        );
        assert_eq!(flaky.support, Support::Extended);
        // A cluster that never had a version, and one whose latest row has its own, are as before.
        assert_eq!(
            (
                by("never").current_version.clone(),
                by("never").version_from
            ),
            (None, None)
        );
        assert_eq!(by("never").support, Support::Unknown);
        assert_eq!(by("fine").version_from, None);
        let f = &v.figures;
        assert_eq!((f.extended, f.errored), (1, 2));
        assert_eq!(f.extended_monthly_cents, 60 * 730);
        assert_eq!((f.within_30, f.within_90), (1, 1), "fine: 23 days");
        assert_eq!(versions_by_account(&v.clusters)["111111111111"]["1.31"], 1);
    }

    #[test]
    fn per_day_totals_take_each_clusters_latest_row_of_the_day() {
        let mut morning = rec("a", 6, 6);
        morning.required_findings = 5;
        let mut evening = rec("a", 6, 18);
        evening.required_findings = 2;
        evening.recommended_findings = 1;
        let mut b = rec("b", 5, 6);
        b.required_findings = 4;
        let v = build(
            &[morning, evening, b],
            vec![],
            day(6),
            Window::ending(day(6), 2),
        );
        let got: Vec<_> = v
            .per_day
            .iter()
            .map(|d| (d.dt, d.clusters, d.required, d.recommended))
            .collect();
        assert_eq!(got, vec![(day(5), 1, 4, 0), (day(6), 1, 2, 1)]);
    }

    #[test]
    fn findings_attach_to_the_latest_run_of_their_cluster() {
        let f = |run: &str, code: &str| FindingRecord {
            run_id: run.into(),
            account_id: Some("111111111111".into()),
            region: Some("us-east-1".into()),
            cluster_name: "a".into(),
            code: code.into(),
            title: String::new(),
            remediation: "required".into(),
            resource_kind: String::new(),
            resource_namespace: String::new(),
            resource_name: String::new(),
            message: String::new(),
        };
        let v = build(
            &[rec("a", 5, 6), rec("a", 6, 6)],
            vec![
                f("run-6-6", "K8S002"),
                f("run-6-6", "K8S002"),
                f("run-6-6", "EKS001"),
            ],
            day(6),
            Window::ending(day(6), 3),
        );
        assert_eq!(v.clusters[0].findings.len(), 3);
        assert_eq!(
            required_by_code(&v.clusters),
            vec![("K8S002".into(), 2, 1), ("EKS001".into(), 1, 1)]
        );
    }
}
