//! K8S104: deprecated APIs that something still calls, from runtime evidence only — EKS
//! insights' per-client statistics and the API server's `apiserver_requested_deprecated_apis`
//! — never from manifests, which the API server converts to whatever version is asked for.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::checks::{Context, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::snapshot::{Deprecation, source};
use crate::version::KubeVersion;

const DEPRECATED_APIS: &str = include_str!("../../../data/deprecated-apis.csv");

/// Group, version, resource: `("", "v1", "componentstatuses")` for the core group.
type Gvr = (String, String, String);

/// What is known about one deprecated API from all the evidence.
#[derive(Default)]
struct Called {
    removed: Option<String>,
    replacement: Option<String>,
    callers: Vec<String>,
    evidence: Vec<Value>,
}

/// `(removed_release, replacement)` from `data/deprecated-apis.csv`.
fn known(gvr: &Gvr) -> Option<(String, String)> {
    DEPRECATED_APIS.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split(',').collect();
        (cols.len() >= 5 && cols[0] == gvr.0 && cols[1] == gvr.1 && cols[2] == gvr.2)
            .then(|| (cols[3].to_string(), cols[4].to_string()))
    })
}

/// Splits a request path such as `/apis/batch/v1beta1/cronjobs` or `/api/v1/...`.
fn parse_path(path: &str) -> Option<Gvr> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, rest) = match *segs.first()? {
        "api" => ("", &segs[1..]),
        "apis" => (*segs.get(1)?, &segs[2..]),
        _ => return None,
    };
    let version = rest.first()?;
    let rest = &rest[1..];
    let resource = match rest {
        ["namespaces", _, r, ..] => r,
        [r, ..] => r,
        [] => return None,
    };
    Some((group.into(), (*version).into(), (*resource).into()))
}

fn gv(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn replacement_of(d: &Deprecation) -> Option<String> {
    let with = d.replaced_with.as_deref()?;
    Some(match parse_path(with) {
        Some((g, v, r)) => format!("{} {r}", gv(&g, &v)),
        None => with.to_string(),
    })
}

fn collect_evidence(ctx: &Context) -> BTreeMap<Gvr, Called> {
    let mut apis: BTreeMap<Gvr, Called> = BTreeMap::new();
    let insights = ctx.snapshot.aws.iter().flat_map(|a| &a.insights);
    for insight in insights {
        for d in &insight.deprecations {
            let calls: i64 = d.clients.iter().map(|c| c.requests_last_30_days).sum();
            let Some(gvr) = parse_path(&d.usage).filter(|_| calls > 0) else {
                continue;
            };
            let api = apis.entry(gvr).or_default();
            api.removed = api.removed.take().or(d.stop_serving_version.clone());
            api.replacement = api.replacement.take().or_else(|| replacement_of(d));
            api.callers
                .extend(d.clients.iter().map(|c| c.user_agent.clone()));
            api.evidence.push(json!({
                "source": "eks-insights",
                "insight": insight.name,
                "window": format!(
                    "the 30 days to {}",
                    insight.last_refresh.map_or("the insight's last refresh".into(), |t| t.to_rfc3339())
                ),
                "clients": d.clients.iter().map(|c| json!({
                    "user_agent": c.user_agent,
                    "requests_last_30_days": c.requests_last_30_days,
                    "last_request": c.last_request,
                })).collect::<Vec<_>>(),
            }));
        }
    }
    for r in ctx
        .snapshot
        .kubernetes
        .deprecated_api_requests
        .iter()
        .flatten()
    {
        let gvr = (r.group.clone(), r.version.clone(), r.resource.clone());
        let api = apis.entry(gvr).or_default();
        if api.removed.is_none() && !r.removed_release.is_empty() {
            api.removed = Some(r.removed_release.clone());
        }
        api.evidence.push(json!({
            "source": "apiserver-metrics",
            "metric": "apiserver_requested_deprecated_apis",
            "subresource": r.subresource,
            "window": "since the API server process that answered started (one of the control plane's API servers)",
        }));
    }
    for (gvr, api) in apis.iter_mut() {
        if let Some((removed, replacement)) = known(gvr) {
            api.removed.get_or_insert(removed);
            api.replacement.get_or_insert(replacement);
        }
        api.callers.sort();
        api.callers.dedup();
    }
    apis
}

/// What K8S104 needs beyond its sources: at least one source of evidence was read. Without
/// one eksup could not look (`not_collected`), which is not the same as "nothing called".
pub fn no_evidence(ctx: &Context) -> Option<String> {
    let insights =
        ctx.snapshot.aws.is_some() && ctx.snapshot.failure_of(source::INSIGHTS).is_none();
    let metrics = ctx.snapshot.kubernetes.deprecated_api_requests.is_some();
    (!insights && !metrics)
        .then(|| "neither EKS insights nor the API server's /metrics could be read".to_string())
}

/// K8S104: each deprecated API with evidence of calls; removed on the upgrade path:
/// required, otherwise recommended.
pub fn still_called(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S104").expect("catalogued");
    collect_evidence(ctx)
        .into_iter()
        .map(|((group, version, resource), api)| {
            let removed: Option<KubeVersion> = api.removed.as_deref().and_then(|r| r.parse().ok());
            let on_path = removed.is_some_and(|r| r <= ctx.target);
            let name = format!("{resource}.{}", gv(&group, &version));
            let when = match (&api.removed, on_path) {
                (Some(r), true) => {
                    format!(
                        "is removed in Kubernetes {r} (on the upgrade path to {})",
                        ctx.target
                    )
                }
                (Some(r), false) => format!("is deprecated (removed in Kubernetes {r})"),
                (None, _) => "is deprecated (no removal release planned)".to_string(),
            };
            let who = if api.callers.is_empty() {
                "callers unknown (the API server's metric does not name them)".to_string()
            } else {
                format!("called by {}", api.callers.join(", "))
            };
            let sources: Vec<&str> = api
                .evidence
                .iter()
                .filter_map(|e| e["source"].as_str())
                .collect();
            let instead = api
                .replacement
                .as_deref()
                .map_or(String::new(), |r| format!("; use {r} instead"));
            finding(
                check,
                if on_path {
                    Remediation::Required
                } else {
                    Remediation::Recommended
                },
                ("API", "", &name),
                format!(
                    "{name} {when}, yet it is still requested: {who} (evidence: {}){instead}",
                    sources.join(", ")
                ),
                json!({
                    "group": group,
                    "version": version,
                    "resource": resource,
                    "removed_release": api.removed,
                    "replacement": api.replacement,
                    "callers": api.callers,
                    "evidence": api.evidence,
                }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_split_into_group_version_resource() {
        let gvr = |g: &str, v: &str, r: &str| Some((g.into(), v.into(), r.into()));
        assert_eq!(
            parse_path("/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"),
            gvr("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas")
        );
        assert_eq!(
            parse_path("/apis/batch/v1beta1/namespaces/x/cronjobs/y"),
            gvr("batch", "v1beta1", "cronjobs")
        );
        assert_eq!(
            parse_path("/api/v1/componentstatuses"),
            gvr("", "v1", "componentstatuses")
        );
        assert_eq!(parse_path("/metrics"), None);
    }

    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot};
    use crate::snapshot::{AwsData, ClientStat, DeprecatedApiRequest, Insight};

    fn metric(group: &str, version: &str, resource: &str, removed: &str) -> DeprecatedApiRequest {
        DeprecatedApiRequest {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            removed_release: removed.into(),
            ..Default::default()
        }
    }

    #[test]
    fn removed_on_the_path_is_required_and_later_is_recommended() {
        let mut s = snapshot("1.31");
        s.kubernetes.deprecated_api_requests = Some(vec![
            metric(
                "flowcontrol.apiserver.k8s.io",
                "v1beta3",
                "flowschemas",
                "1.32",
            ),
            metric("example.com", "v1beta1", "widgets", "1.40"),
            metric("karpenter.sh", "v1beta1", "nodepools", ""),
        ]);
        let levels = |target: &str| -> Vec<(String, Remediation)> {
            codes_for(&run(&s, target).findings, "K8S104")
                .iter()
                .map(|f| (f.resource_name.clone(), f.remediation))
                .collect()
        };
        let at_132 = levels("1.32");
        assert!(at_132.contains(&(
            "flowschemas.flowcontrol.apiserver.k8s.io/v1beta3".into(),
            Remediation::Required
        )));
        assert!(at_132.contains(&(
            "widgets.example.com/v1beta1".into(),
            Remediation::Recommended
        )));
        assert!(at_132.contains(&(
            "nodepools.karpenter.sh/v1beta1".into(),
            Remediation::Recommended
        )));
    }

    #[test]
    fn insight_and_metric_about_one_api_make_one_finding_with_both_evidences() {
        let mut s = snapshot("1.31");
        s.kubernetes.deprecated_api_requests = Some(vec![metric(
            "flowcontrol.apiserver.k8s.io",
            "v1beta3",
            "flowschemas",
            "1.32",
        )]);
        s.aws = Some(AwsData {
            insights: vec![Insight {
                name: "Deprecated APIs removed in Kubernetes v1.32".into(),
                deprecations: vec![Deprecation {
                    usage: "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas".into(),
                    replaced_with: Some("/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas".into()),
                    stop_serving_version: Some("1.32".into()),
                    clients: vec![ClientStat {
                        user_agent: "helm/v3.12".into(),
                        requests_last_30_days: 3,
                        last_request: None,
                    }],
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        let eval = run(&s, "1.32");
        let found = codes_for(&eval.findings, "K8S104");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].details["callers"],
            serde_json::json!(["helm/v3.12"])
        );
        assert_eq!(found[0].details["evidence"].as_array().unwrap().len(), 2);
        assert!(
            found[0]
                .message
                .contains("use flowcontrol.apiserver.k8s.io/v1 flowschemas instead")
        );
    }

    #[test]
    fn skipped_when_no_evidence_was_read() {
        let s = snapshot("1.31");
        let eval = run(&s, "1.32");
        let skipped = eval.skipped.iter().find(|k| k.code == "K8S104").unwrap();
        assert_eq!(skipped.cause, crate::checks::SkipCause::NotCollected);
    }

    #[test]
    fn the_table_knows_removals_and_replacements() {
        let k = known(&(
            "policy".into(),
            "v1beta1".into(),
            "poddisruptionbudgets".into(),
        ));
        assert_eq!(k, Some(("1.25".into(), "policy/v1".into())));
    }

    /// 1.37 stops serving the beta VolumeAttributesClass (GA in 1.34), which EKS 1.31–1.33
    /// served: a 1.37 target that still calls it is required to move.
    #[test]
    fn volume_attributes_class_beta_is_removed_in_137() {
        let k = known(&(
            "storage.k8s.io".into(),
            "v1beta1".into(),
            "volumeattributesclasses".into(),
        ));
        assert_eq!(k, Some(("1.37".into(), "storage.k8s.io/v1".into())));
    }
}
