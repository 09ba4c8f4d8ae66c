//! Builders for snapshots in unit tests: `deployment("prod", "web").replicas(3).build()`.

use std::collections::BTreeMap;

use crate::checks::{CheckSettings, Evaluation, evaluate};
use crate::finding::Finding;
use crate::snapshot::{
    ClusterInfo, ClusterSource, Container, PodTemplate, Snapshot, Workload, WorkloadKind,
};
use crate::version::KubeVersion;

pub fn snapshot(version: &str) -> Snapshot {
    Snapshot::new(ClusterInfo {
        name: "test".into(),
        source: ClusterSource::Eks,
        region: Some("us-east-1".into()),
        account_id: Some("111122223333".into()),
        arn: None,
        version: version.parse().unwrap(),
        platform_version: None,
    })
}

/// A workload that passes every workload check.
pub fn workload(kind: WorkloadKind, namespace: &str, name: &str) -> Workload {
    Workload {
        kind,
        namespace: namespace.into(),
        name: name.into(),
        replicas: kind.is_replicated().then_some(3),
        min_ready_seconds: Some(10),
        pod: PodTemplate {
            labels: BTreeMap::from([("app".to_string(), name.to_string())]),
            containers: vec![Container {
                name: "main".into(),
                image: "public.ecr.aws/app/web:1.0".into(),
                has_readiness_probe: true,
                ..Default::default()
            }],
            has_pod_anti_affinity: false,
            topology_spread_constraints: 1,
            termination_grace_period_seconds: Some(30),
            ..Default::default()
        },
    }
}

pub fn run(snapshot: &Snapshot, target: &str) -> Evaluation {
    run_with(snapshot, target, &CheckSettings::default())
}

/// Evaluates on a fixed day (2026-11-23) with the embedded calendar.
pub fn run_with(snapshot: &Snapshot, target: &str, settings: &CheckSettings) -> Evaluation {
    evaluate(
        snapshot,
        target.parse::<KubeVersion>().unwrap(),
        settings,
        &crate::version::SupportCalendar::embedded(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    )
}

pub fn codes_for<'a>(findings: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.code == code).collect()
}
