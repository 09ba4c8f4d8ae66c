//! Workload availability checks K8S002–K8S008: what keeps pods serving while nodes are
//! drained and replaced during an upgrade.

use std::collections::HashMap;

use serde_json::json;

use super::{by_namespace, resource, workloads};
use crate::checks::{Check, Context, finding, lookup, selector};
use crate::finding::{Finding, Remediation};
use crate::snapshot::{Autoscaler, PodDisruptionBudget, WorkloadKind};

/// The autoscalers by their target (namespace, kind, name): one lookup per workload. The
/// first one listed wins where two target the same workload.
fn autoscalers<'a>(ctx: &'a Context) -> HashMap<(&'a str, &'a str, &'a str), &'a Autoscaler> {
    let mut out = HashMap::new();
    for h in &ctx.snapshot.kubernetes.autoscalers {
        out.entry((
            h.namespace.as_str(),
            h.target_kind.as_str(),
            h.target_name.as_str(),
        ))
        .or_insert(h);
    }
    out
}

fn check(code: &str) -> &'static Check {
    lookup(code).expect("catalogued")
}

/// K8S002: `0 < replicas < min_replicas`; an autoscaler's `minReplicas` is the floor when
/// one targets the workload, because it may scale down to it mid-upgrade.
pub fn too_few_replicas(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S002");
    let autoscalers = autoscalers(ctx);
    workloads(ctx, check)
        .filter_map(|w| {
            let wanted = ctx.settings.min_replicas_for(w);
            let hpa = autoscalers
                .get(&(w.namespace.as_str(), w.kind.as_str(), w.name.as_str()))
                .copied();
            let (floor, source) = match hpa {
                Some(h) => (h.min_replicas.unwrap_or(1), format!("HorizontalPodAutoscaler {} minReplicas", h.name)),
                None => (w.replicas?, "replicas".to_string()),
            };
            let short = floor > 0 && u32::try_from(floor).is_ok_and(|f| f < wanted);
            short.then(|| {
                finding(
                    check,
                    Remediation::Required,
                    resource(w),
                    format!("{source} is {floor}; run at least {wanted} so a node drain cannot take every replica down"),
                    json!({"replicas": w.replicas, "floor": floor, "min_replicas": wanted, "autoscaler": hpa.map(|h| &h.name)}),
                )
            })
        })
        .collect()
}

/// K8S003: `minReadySeconds` unset or 0 — required for StatefulSets (a pod that flaps
/// right after start breaks quorum), recommended for the others.
pub fn min_ready_seconds(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S003");
    workloads(ctx, check)
        .filter(|w| w.min_ready_seconds.unwrap_or(0) == 0)
        .map(|w| {
            let level = if w.kind == WorkloadKind::StatefulSet {
                Remediation::Required
            } else {
                Remediation::Recommended
            };
            finding(
                check,
                level,
                resource(w),
                "minReadySeconds is not set; set it so pods prove themselves ready before the next one is replaced".into(),
                json!({"min_ready_seconds": w.min_ready_seconds}),
            )
        })
        .collect()
}

/// K8S004: a multi-replica workload that no PodDisruptionBudget covers, or whose covering
/// budgets set neither `minAvailable` nor `maxUnavailable`.
pub fn pod_disruption_budget(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S004");
    let budgets = by_namespace(&ctx.snapshot.kubernetes.pod_disruption_budgets, |p| {
        &p.namespace
    });
    workloads(ctx, check)
        .filter_map(|w| {
            let (limiting, without_limits): (Vec<&PodDisruptionBudget>, Vec<_>) = budgets
                .get(w.namespace.as_str())
                .into_iter()
                .flatten()
                .filter(|p| p.selector.as_ref().is_some_and(|s| selector::matches(s, &w.pod.labels)))
                .partition(|p| p.min_available.is_some() || p.max_unavailable.is_some());
            if !limiting.is_empty() {
                return None;
            }
            let names: Vec<&str> = without_limits.iter().map(|p| p.name.as_str()).collect();
            let message = if names.is_empty() {
                "no PodDisruptionBudget selects these pods; add one with minAvailable or maxUnavailable".to_string()
            } else {
                format!(
                    "PodDisruptionBudget {} selects these pods but sets neither minAvailable nor maxUnavailable",
                    names.join(", ")
                )
            };
            Some(finding(
                check,
                Remediation::Recommended,
                resource(w),
                message,
                json!({"replicas": w.replicas, "budgets_without_limits": names}),
            ))
        })
        .collect()
}

/// K8S005: replicas can land on one node or zone — no pod anti-affinity and no topology
/// spread constraints. Node affinity does not spread pods, so it does not count.
pub fn spread(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S005");
    workloads(ctx, check)
        .filter(|w| !w.pod.has_pod_anti_affinity && w.pod.topology_spread_constraints == 0)
        .map(|w| {
            finding(
                check,
                Remediation::Required,
                resource(w),
                "neither podAntiAffinity nor topologySpreadConstraints is set; replicas may share one node and go down together".into(),
                json!({"replicas": w.replicas}),
            )
        })
        .collect()
}

/// K8S006: every container (and native sidecar) of a replicated workload needs a readiness
/// probe, not just the first. DaemonSets are left out: their pods are per node, and EKS's
/// own kube-proxy ships without a probe, so every cluster would carry the finding.
pub fn readiness_probes(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S006");
    workloads(ctx, check)
        .filter_map(|w| {
            let missing: Vec<&str> = w
                .pod
                .containers
                .iter()
                .chain(w.pod.init_containers.iter().filter(|c| c.is_sidecar))
                .filter(|c| !c.has_readiness_probe)
                .map(|c| c.name.as_str())
                .collect();
            (!missing.is_empty()).then(|| {
                finding(
                    check,
                    Remediation::Required,
                    resource(w),
                    format!("container(s) {} have no readinessProbe", missing.join(", ")),
                    json!({"containers": missing}),
                )
            })
        })
        .collect()
}

/// K8S007: a StatefulSet whose pods are killed without any grace period.
pub fn termination_grace_period(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S007");
    workloads(ctx, check)
        .filter(|w| w.pod.termination_grace_period_seconds == Some(0))
        .map(|w| {
            finding(
                check,
                Remediation::Required,
                resource(w),
                "terminationGracePeriodSeconds is 0; pods are killed without a chance to shut down cleanly".into(),
                json!({"termination_grace_period_seconds": 0}),
            )
        })
        .collect()
}

const DOCKER_SOCKETS: [&str; 2] = ["docker.sock", "dockershim.sock"];

fn is_docker_socket(path: &str) -> bool {
    let file = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    DOCKER_SOCKETS.contains(&file)
}

/// K8S008: a hostPath volume or a mount (in any container, init containers included) of
/// `docker.sock` / `dockershim.sock`.
pub fn docker_socket(ctx: &Context) -> Vec<Finding> {
    let check = check("K8S008");
    workloads(ctx, check)
        .filter_map(|w| {
            let mut hits: Vec<String> = w
                .pod
                .host_path_volumes
                .iter()
                .filter(|(_, path)| is_docker_socket(path))
                .map(|(name, path)| format!("hostPath volume {name} ({path})"))
                .collect();
            for c in w.pod.containers.iter().chain(&w.pod.init_containers) {
                hits.extend(
                    c.mounts
                        .keys()
                        .filter(|p| is_docker_socket(p))
                        .map(|p| format!("container {} mounts {p}", c.name)),
                );
            }
            (!hits.is_empty()).then(|| {
                finding(
                    check,
                    Remediation::Required,
                    resource(w),
                    format!("uses the Docker socket: {}", hits.join("; ")),
                    json!({"mounts": hits}),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checks::CheckSettings;
    use crate::checks::kubernetes::fixtures::{codes_for, run, run_with, snapshot, workload};
    use crate::checks::settings::{ReplicasOverride, WorkloadRef};
    use crate::snapshot::{Container, LabelSelector, PodDisruptionBudget};

    fn pdb(ns: &str, name: &str, app: &str, min: Option<&str>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: ns.into(),
            name: name.into(),
            selector: Some(LabelSelector {
                match_labels: BTreeMap::from([("app".into(), app.into())]),
                match_expressions: vec![],
            }),
            min_available: min.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn a_well_configured_workload_has_no_findings() {
        let mut s = snapshot("1.30");
        s.kubernetes.workloads = vec![workload(WorkloadKind::Deployment, "prod", "web")];
        s.kubernetes.pod_disruption_budgets = vec![pdb("prod", "web", "web", Some("1"))];
        assert_eq!(run(&s, "1.31").findings, vec![]);
    }

    #[test]
    fn replicas_below_minimum_respect_autoscaler_overrides_and_ignores() {
        let mut s = snapshot("1.30");
        let mut one = workload(WorkloadKind::Deployment, "prod", "single");
        one.replicas = Some(1);
        let mut zero = workload(WorkloadKind::Deployment, "prod", "parked");
        zero.replicas = Some(0);
        let mut scaled = workload(WorkloadKind::Deployment, "prod", "scaled");
        scaled.replicas = Some(4);
        let mut critical = workload(WorkloadKind::StatefulSet, "prod", "critical");
        critical.replicas = Some(3);
        let mut metrics = workload(WorkloadKind::Deployment, "kube-system", "metrics-server");
        metrics.replicas = Some(1);
        s.kubernetes.workloads = vec![one, zero, scaled, critical, metrics];
        s.kubernetes.autoscalers = vec![Autoscaler {
            namespace: "prod".into(),
            name: "scaled-hpa".into(),
            target_kind: "Deployment".into(),
            target_name: "scaled".into(),
            min_replicas: Some(1),
        }];
        let mut settings = CheckSettings::default();
        settings.k8s002.ignore = vec![WorkloadRef {
            name: "metrics-server".into(),
            namespace: Some("kube-system".into()),
            kind: None,
        }];
        settings.k8s002.overrides = vec![ReplicasOverride {
            name: "critical".into(),
            namespace: Some("prod".into()),
            kind: None,
            min_replicas: 5,
        }];
        let eval = run_with(&s, "1.31", &settings);
        let names: Vec<&str> = codes_for(&eval.findings, "K8S002")
            .iter()
            .map(|f| f.resource_name.as_str())
            .collect();
        assert_eq!(names, vec!["critical", "scaled", "single"]);
        let scaled = eval
            .findings
            .iter()
            .find(|f| f.resource_name == "scaled")
            .unwrap();
        assert!(scaled.message.contains("scaled-hpa"), "{}", scaled.message);
    }

    #[test]
    fn min_ready_seconds_level_depends_on_kind() {
        let mut s = snapshot("1.30");
        let mut sts = workload(WorkloadKind::StatefulSet, "db", "pg");
        sts.min_ready_seconds = None;
        let mut dep = workload(WorkloadKind::Deployment, "prod", "web");
        dep.min_ready_seconds = Some(0);
        s.kubernetes.workloads = vec![sts, dep];
        let f = run(&s, "1.31").findings;
        let f = codes_for(&f, "K8S003");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].resource_name, "pg");
        assert_eq!(f[0].remediation, Remediation::Required);
        assert_eq!(f[1].remediation, Remediation::Recommended);
    }

    #[test]
    fn pdb_cover_uses_selectors_and_requires_limits() {
        let mut s = snapshot("1.30");
        s.kubernetes.workloads = vec![
            workload(WorkloadKind::Deployment, "prod", "covered"),
            workload(WorkloadKind::Deployment, "prod", "uncovered"),
            workload(WorkloadKind::Deployment, "prod", "empty-budget"),
            workload(WorkloadKind::Deployment, "other", "covered"),
        ];
        s.kubernetes.pod_disruption_budgets = vec![
            pdb("prod", "covered", "covered", Some("50%")),
            pdb("prod", "empty", "empty-budget", None),
        ];
        let f = run(&s, "1.31").findings;
        let f = codes_for(&f, "K8S004");
        let got: Vec<String> = f.iter().map(|f| f.resource_path()).collect();
        assert_eq!(
            got,
            vec!["other/covered", "prod/empty-budget", "prod/uncovered"]
        );
        assert!(
            f[1].message
                .contains("neither minAvailable nor maxUnavailable")
        );
    }

    #[test]
    fn spread_needs_anti_affinity_or_topology_spread() {
        let mut s = snapshot("1.30");
        let mut bare = workload(WorkloadKind::Deployment, "prod", "bare");
        bare.pod.topology_spread_constraints = 0;
        let mut anti = bare.clone();
        anti.name = "anti".into();
        anti.pod.has_pod_anti_affinity = true;
        let mut single = bare.clone();
        single.name = "single".into();
        single.replicas = Some(1);
        s.kubernetes.workloads = vec![bare, anti, single];
        let f = run(&s, "1.31").findings;
        let names: Vec<&str> = codes_for(&f, "K8S005")
            .iter()
            .map(|f| f.resource_name.as_str())
            .collect();
        assert_eq!(names, vec!["bare"]);
    }

    #[test]
    fn every_container_needs_a_readiness_probe() {
        let mut s = snapshot("1.30");
        let mut w = workload(WorkloadKind::Deployment, "prod", "api");
        w.pod.containers.push(Container {
            name: "sidecar".into(),
            image: "x:1".into(),
            ..Default::default()
        });
        w.pod.init_containers.push(Container {
            name: "native-sidecar".into(),
            image: "x:1".into(),
            is_sidecar: true,
            ..Default::default()
        });
        w.pod.init_containers.push(Container {
            name: "setup".into(),
            image: "x:1".into(),
            ..Default::default()
        });
        let mut job = workload(WorkloadKind::CronJob, "batch", "nightly");
        job.pod.containers[0].has_readiness_probe = false;
        s.kubernetes.workloads = vec![w, job];
        let f = run(&s, "1.31").findings;
        let f = codes_for(&f, "K8S006");
        assert_eq!(f.len(), 1, "batch workloads are not checked");
        assert_eq!(
            f[0].details["containers"],
            json!(["sidecar", "native-sidecar"])
        );
    }

    #[test]
    fn statefulset_without_grace_period() {
        let mut s = snapshot("1.30");
        let mut sts = workload(WorkloadKind::StatefulSet, "db", "pg");
        sts.pod.termination_grace_period_seconds = Some(0);
        let mut dep = workload(WorkloadKind::Deployment, "db", "web");
        dep.pod.termination_grace_period_seconds = Some(0);
        s.kubernetes.workloads = vec![sts, dep];
        let f = run(&s, "1.31").findings;
        let names: Vec<&str> = codes_for(&f, "K8S007")
            .iter()
            .map(|f| f.resource_name.as_str())
            .collect();
        assert_eq!(names, vec!["pg"]);
    }

    #[test]
    fn docker_socket_in_host_paths_and_init_containers() {
        let mut s = snapshot("1.30");
        let mut a = workload(WorkloadKind::DaemonSet, "monitoring", "agent");
        a.pod
            .host_path_volumes
            .insert("sock".into(), "/var/run/docker.sock".into());
        let mut b = workload(WorkloadKind::Job, "ci", "builder");
        b.pod.init_containers.push(Container {
            name: "prep".into(),
            image: "x:1".into(),
            mounts: BTreeMap::from([("/run/dockershim.sock".into(), "s".into())]),
            ..Default::default()
        });
        let mut c = workload(WorkloadKind::Deployment, "prod", "lookalike");
        c.pod
            .host_path_volumes
            .insert("d".into(), "/var/run/docker.sock.d/x".into());
        s.kubernetes.workloads = vec![a, b, c];
        let f = run(&s, "1.31").findings;
        let names: Vec<&str> = codes_for(&f, "K8S008")
            .iter()
            .map(|f| f.resource_name.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["builder", "agent"],
            "sorted by namespace: ci, monitoring"
        );
    }
}
