//! Drain blockers K8S101 and K8S102: PodDisruptionBudgets that make the Eviction API refuse
//! every eviction, so node drains hang and a managed node group update fails with
//! `PodEvictionFailure`. Read from the PDB list the collector already makes (spec and
//! status); no Pod list.

use serde_json::json;

use super::{by_namespace, resource, workloads};
use crate::checks::{Context, finding, lookup, selector};
use crate::finding::{Finding, Remediation};
use crate::snapshot::{PodDisruptionBudget, Workload};

/// Whether `pdb` selects the pods of `w`: same namespace, and its selector matches the pod
/// template's labels. A budget without a selector selects nothing.
fn selects(pdb: &PodDisruptionBudget, w: &Workload) -> bool {
    pdb.namespace == w.namespace
        && pdb
            .selector
            .as_ref()
            .is_some_and(|s| selector::matches(s, &w.pod.labels))
}

/// An `IntOrString` budget value as a pod count out of `pods`. Percentages round up, as the
/// disruption controller does; `None` for a value it would reject.
fn scaled(value: &str, pods: i64) -> Option<i64> {
    match value.strip_suffix('%') {
        Some(p) => {
            let p: i64 = p.trim().parse().ok()?;
            Some((p * pods + 99) / 100)
        }
        None => value.trim().parse().ok(),
    }
}

/// Why `pdb` allows no eviction of its `pods` pods, if it does not.
fn why_blocking(pdb: &PodDisruptionBudget, pods: i64) -> Option<String> {
    if let Some(max) = &pdb.max_unavailable
        && scaled(max, pods) == Some(0)
    {
        return Some(format!("maxUnavailable is {max}"));
    }
    if let Some(min) = &pdb.min_available
        && scaled(min, pods).is_some_and(|n| n >= pods)
    {
        return Some(format!(
            "minAvailable {min} is at least the {pods} replica(s) it covers"
        ));
    }
    let s = pdb.status?;
    (s.expected_pods > 0 && s.disruptions_allowed == 0 && s.current_healthy >= s.desired_healthy)
        .then(|| {
            format!(
                "status.disruptionsAllowed is 0 with {} of {} desired pods healthy",
                s.current_healthy, s.desired_healthy
            )
        })
}

/// K8S101: a budget over running replicated workloads that allows no disruption — by its
/// spec (`maxUnavailable: 0`, `minAvailable` ≥ replicas or `100%`) or, with every pod
/// healthy, by its status.
pub fn blocking_budgets(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S101").expect("catalogued");
    let mut out = Vec::new();
    let running = by_namespace(
        workloads(ctx, check).filter(|w| w.replicas.unwrap_or(0) > 0),
        |w| &w.namespace,
    );
    for pdb in &ctx.snapshot.kubernetes.pod_disruption_budgets {
        let selected: Vec<&Workload> = running
            .get(pdb.namespace.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|w| selects(pdb, w))
            .collect();
        if selected.is_empty() {
            continue;
        }
        let pods: i64 = selected
            .iter()
            .map(|w| i64::from(w.replicas.unwrap_or(0)))
            .sum();
        let Some(why) = why_blocking(pdb, pods) else {
            continue;
        };
        let names: Vec<String> = selected
            .iter()
            .map(|w| format!("{} {}", w.kind.as_str(), w.name))
            .collect();
        out.push(finding(
            check,
            Remediation::Required,
            ("PodDisruptionBudget", &pdb.namespace, &pdb.name),
            format!(
                "{why}: no pod of {} can be evicted, so draining its nodes hangs",
                names.join(", ")
            ),
            json!({
                "workloads": names,
                "replicas": pods,
                "min_available": pdb.min_available,
                "max_unavailable": pdb.max_unavailable,
                "disruptions_allowed": pdb.status.map(|s| s.disruptions_allowed),
            }),
        ));
    }
    out
}

/// K8S102: a workload whose pods more than one budget selects; the Eviction API answers
/// 500 for such pods and never evicts them.
pub fn overlapping_budgets(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S102").expect("catalogued");
    let by_ns = by_namespace(&ctx.snapshot.kubernetes.pod_disruption_budgets, |p| {
        &p.namespace
    });
    workloads(ctx, check)
        .filter(|w| w.replicas.unwrap_or(0) > 0)
        .filter_map(|w| {
            let budgets: Vec<&str> = by_ns
                .get(w.namespace.as_str())
                .into_iter()
                .flatten()
                .filter(|p| selects(p, w))
                .map(|p| p.name.as_str())
                .collect();
            (budgets.len() > 1).then(|| {
                finding(
                    check,
                    Remediation::Required,
                    resource(w),
                    format!(
                        "{} PodDisruptionBudgets ({}) select these pods; the Eviction API refuses to evict them, so their nodes cannot drain",
                        budgets.len(),
                        budgets.join(", ")
                    ),
                    json!({"budgets": budgets}),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot, workload};
    use crate::snapshot::{LabelSelector, LabelSelectorRequirement, PdbStatus, WorkloadKind};

    fn pdb(name: &str, app: &str, min: Option<&str>, max: Option<&str>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: "prod".into(),
            name: name.into(),
            selector: Some(LabelSelector {
                match_labels: BTreeMap::from([("app".into(), app.into())]),
                match_expressions: vec![],
            }),
            min_available: min.map(str::to_string),
            max_unavailable: max.map(str::to_string),
            status: None,
        }
    }

    fn deployment(name: &str, replicas: i32) -> Workload {
        let mut w = workload(WorkloadKind::Deployment, "prod", name);
        w.replicas = Some(replicas);
        w
    }

    fn k8s101(workloads: Vec<Workload>, budgets: Vec<PodDisruptionBudget>) -> Vec<String> {
        let mut s = snapshot("1.34");
        s.kubernetes.workloads = workloads;
        s.kubernetes.pod_disruption_budgets = budgets;
        codes_for(&run(&s, "1.35").findings, "K8S101")
            .iter()
            .map(|f| format!("{}: {}", f.resource_name, f.message))
            .collect()
    }

    #[test]
    fn budgets_that_allow_no_eviction() {
        let got = k8s101(
            vec![
                deployment("a", 3),
                deployment("b", 3),
                deployment("c", 3),
                deployment("d", 1),
                deployment("e", 4),
            ],
            vec![
                pdb("zero", "a", None, Some("0")),
                pdb("all", "b", Some("100%"), None),
                pdb("equal", "c", Some("3"), None),
                pdb("single", "d", Some("1"), None),
                pdb("zero-percent", "e", None, Some("0%")),
            ],
        );
        // Sorted by budget name.
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(
            got[0].starts_with("all: minAvailable 100% is at least the 3 replica(s)"),
            "{}",
            got[0]
        );
        assert!(got[1].starts_with("equal: minAvailable 3 is at least the 3"));
        assert!(got[2].starts_with("single: minAvailable 1 is at least the 1 replica(s)"));
        assert!(got[2].contains("Deployment d"));
        assert!(
            got[3].starts_with("zero: maxUnavailable is 0:"),
            "{}",
            got[3]
        );
        assert!(got[4].starts_with("zero-percent: maxUnavailable is 0%"));
    }

    #[test]
    fn budgets_that_allow_eviction_are_silent() {
        let mut healthy = pdb("ok", "a", Some("1"), None);
        healthy.status = Some(PdbStatus {
            disruptions_allowed: 2,
            current_healthy: 3,
            desired_healthy: 1,
            expected_pods: 3,
        });
        let got = k8s101(
            vec![
                deployment("a", 3),
                deployment("b", 3),
                deployment("parked", 0),
            ],
            vec![
                healthy,
                pdb("some", "b", None, Some("10%")),
                pdb("parked", "parked", Some("1"), None),
                pdb("orphan", "nothing-matches", None, Some("0")),
            ],
        );
        assert_eq!(got, Vec::<String>::new());
    }

    #[test]
    fn status_with_every_pod_healthy_and_no_disruption_allowed_blocks() {
        let mut b = pdb("edge", "a", Some("2"), None);
        b.status = Some(PdbStatus {
            disruptions_allowed: 0,
            current_healthy: 3,
            desired_healthy: 3,
            expected_pods: 3,
        });
        // Spec alone (2 of 3) would allow one eviction; the status says none is allowed.
        let got = k8s101(vec![deployment("a", 3)], vec![b.clone()]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("disruptionsAllowed is 0 with 3 of 3"),
            "{}",
            got[0]
        );
        // Unhealthy pods are a different, passing problem: not this finding.
        b.status.as_mut().unwrap().current_healthy = 1;
        assert!(k8s101(vec![deployment("a", 3)], vec![b]).is_empty());
    }

    #[test]
    fn several_workloads_under_one_budget_count_together() {
        let mut a = deployment("a", 1);
        a.pod.labels.insert("tier".into(), "web".into());
        let mut b = deployment("b", 1);
        b.pod.labels.insert("tier".into(), "web".into());
        let mut budget = pdb("tier", "x", Some("2"), None);
        budget.selector = Some(LabelSelector {
            match_labels: BTreeMap::from([("tier".into(), "web".into())]),
            match_expressions: vec![],
        });
        let got = k8s101(vec![a, b], vec![budget]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("at least the 2 replica(s)")
                && got[0].contains("Deployment a, Deployment b")
        );
    }

    #[test]
    fn two_budgets_overlapping_through_match_expressions() {
        let mut s = snapshot("1.34");
        let mut w = deployment("web", 3);
        w.pod.labels.insert("tier".into(), "front".into());
        s.kubernetes.workloads = vec![w, deployment("api", 3)];
        let mut by_tier = pdb("by-tier", "unused", None, Some("1"));
        by_tier.selector = Some(LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: vec!["front".into(), "edge".into()],
            }],
        });
        s.kubernetes.pod_disruption_budgets = vec![pdb("web", "web", Some("1"), None), by_tier];
        let f = run(&s, "1.35").findings;
        let f = codes_for(&f, "K8S102");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].resource_path(), "prod/web");
        assert_eq!(f[0].remediation, Remediation::Required);
        assert_eq!(f[0].details["budgets"], json!(["web", "by-tier"]));
    }
}
