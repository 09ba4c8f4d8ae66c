//! K8S015: `gitRepo` volumes, deprecated since 1.11 and refused by the kubelet from the
//! release `data/behaviour-changes.csv` records.

use serde_json::json;

use super::{resource, workloads};
use crate::checks::{Context, changes, finding, lookup};
use crate::finding::Finding;

pub fn git_repo_volumes(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S015").expect("catalogued");
    let change = changes::for_check(check.code);
    let Some(level) = change.level(ctx.target) else {
        return Vec::new();
    };
    let removed = change
        .required_from
        .map_or("a later release".to_string(), |v| v.to_string());
    workloads(ctx, check)
        .filter(|w| !w.pod.git_repo_volumes.is_empty())
        .map(|w| {
            let volumes = &w.pod.git_repo_volumes;
            finding(
                check,
                level,
                resource(w),
                format!(
                    "gitRepo volume(s) {}: the kubelet refuses such pods from {removed}; clone in an init container instead",
                    volumes.join(", ")
                ),
                json!({"volumes": volumes}),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::checks::kubernetes::fixtures::{codes_for, run, run_with, snapshot, workload};
    use crate::finding::Remediation;
    use crate::snapshot::WorkloadKind;

    #[test]
    fn recommended_before_136_required_from_136_every_kind() {
        let mut s = snapshot("1.34");
        let mut job = workload(WorkloadKind::CronJob, "ci", "sync");
        job.pod.git_repo_volumes = vec!["src".into()];
        let clean = workload(WorkloadKind::Deployment, "prod", "web");
        s.kubernetes.workloads = vec![job, clean];
        let f = run(&s, "1.35").findings;
        let f = codes_for(&f, "K8S015");
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].resource_path(), f[0].remediation),
            ("ci/sync".to_string(), Remediation::Recommended)
        );
        s.cluster.version = "1.35".parse().unwrap();
        let eval = run_with(&s, "1.36", &Default::default());
        assert_eq!(
            codes_for(&eval.findings, "K8S015")[0].remediation,
            Remediation::Required
        );
    }
}
