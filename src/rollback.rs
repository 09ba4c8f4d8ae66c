//! The rollback window (metadata, not a finding): for 7 days after a version update EKS can
//! roll the control plane back one minor. It comes from the cluster's update history
//! (`ListUpdates` + `DescribeUpdate`), which also tells EKS105 about updates in progress.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::snapshot::{ClusterUpdate, Snapshot};
use crate::version::{KubeVersion, SupportCalendar, SupportStatus};

/// How long after a version update EKS accepts a rollback to the previous minor.
pub const WINDOW_DAYS: i64 = 7;

/// The latest successful version update and what rolling it back means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    /// The version the control plane would return to.
    pub to_version: KubeVersion,
    /// The `VersionUpdate` the window belongs to, and when it started.
    pub update_id: String,
    pub updated_at: DateTime<Utc>,
    /// `updated_at` + 7 days. EKS counts from the update's completion, which the API does not
    /// give, so this end is at most the update's duration early — never late.
    pub available_until: DateTime<Utc>,
    /// The window is open at the moment the report is about.
    pub open: bool,
    /// Support of `to_version` on the report's day; `null` for a version the calendar lacks.
    /// `extended`: rolling back resumes the extended-support charge.
    pub to_version_support: Option<SupportStatus>,
}

impl Rollback {
    /// Rolling back would put the cluster into extended support (billed at its price).
    pub fn resumes_extended_support(&self) -> bool {
        self.to_version_support == Some(SupportStatus::Extended)
    }
}

/// The latest successful `VersionUpdate` that brought the cluster to its current version;
/// `None` without an update history, or when the cluster was created at its version or
/// rolled back since (its version is not the update's).
fn latest_version_update(snapshot: &Snapshot) -> Option<(&ClusterUpdate, DateTime<Utc>)> {
    let current = snapshot.cluster.version;
    let history = snapshot.aws.as_ref()?.updates.as_ref()?;
    history
        .updates
        .iter()
        .filter(|u| u.update_type == "VersionUpdate" && u.status == "Successful")
        .filter(|u| {
            u.version
                .as_deref()
                .and_then(|v| v.parse::<KubeVersion>().ok())
                .is_none_or(|v| v == current)
        })
        .filter_map(|u| Some((u, u.created_at?)))
        .max_by_key(|(_, at)| *at)
}

/// The rollback window of the snapshot's cluster, judged at `now` (the later of the
/// collection and the start of `today`, so an old snapshot analyzed today is not "open").
pub fn window(
    snapshot: &Snapshot,
    calendar: &SupportCalendar,
    today: NaiveDate,
) -> Option<Rollback> {
    let (update, updated_at) = latest_version_update(snapshot)?;
    let current = snapshot.cluster.version;
    // EKS upgrades one minor at a time, so the version before the update is the previous minor.
    let to_version = KubeVersion::new(current.major, current.minor.checked_sub(1)?);
    let available_until = updated_at + Duration::days(WINDOW_DAYS);
    let now = snapshot
        .collected_at
        .max(today.and_hms_opt(0, 0, 0)?.and_utc());
    Some(Rollback {
        to_version,
        update_id: update.id.clone(),
        updated_at,
        available_until,
        open: available_until > now,
        to_version_support: calendar.support(to_version, today).map(|s| s.status),
    })
}
