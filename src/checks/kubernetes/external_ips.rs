//! K8S016: Services that set `spec.externalIPs`, deprecated from the release
//! `data/behaviour-changes.csv` records (kube-proxy is to stop implementing the field in a
//! later release; CVE-2020-8554 is why).

use serde_json::json;

use crate::checks::{Context, changes, finding, lookup};
use crate::finding::Finding;

/// What K8S016 needs beyond its source: the Services were listed. They are read only when
/// the upgrade reaches the deprecating release, so a snapshot from a shorter path has none.
pub fn services_not_listed(ctx: &Context) -> Option<String> {
    ctx.snapshot
        .kubernetes
        .services_with_external_ips
        .is_none()
        .then(|| {
            let from = changes::for_check("K8S016").first_release();
            let from = from.map_or("the deprecating release".to_string(), |v| v.to_string());
            format!("the Services were not listed (they are read when a hop reaches {from})")
        })
}

pub fn external_ips(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S016").expect("catalogued");
    let change = changes::for_check(check.code);
    let Some(level) = change.level(ctx.target) else {
        return Vec::new();
    };
    let plan = change
        .planned_text()
        .map_or(String::new(), |p| format!(" (planned: {p})"));
    let from = change
        .recommended_from
        .map_or(String::new(), |v| format!(" from Kubernetes {v}"));
    ctx.snapshot
        .kubernetes
        .services_with_external_ips
        .iter()
        .flatten()
        .map(|s| {
            finding(
                check,
                level,
                ("Service", &s.namespace, &s.name),
                format!(
                    "spec.externalIPs {} is deprecated{from} and kube-proxy is to stop serving it{plan}; expose the Service as type LoadBalancer (AWS Load Balancer Controller) or through Gateway API instead",
                    s.external_ips.join(", ")
                ),
                json!({"external_ips": s.external_ips}),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot};
    use crate::finding::Remediation;
    use crate::snapshot::ExternalIpService;

    fn service(name: &str, ips: &[&str]) -> ExternalIpService {
        ExternalIpService {
            namespace: "edge".into(),
            name: name.into(),
            external_ips: ips.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn one_recommended_finding_per_service_from_136() {
        let mut s = snapshot("1.35");
        s.kubernetes.services_with_external_ips = Some(vec![
            service("legacy", &["203.0.113.10", "203.0.113.11"]),
            service("dns", &["198.51.100.53"]),
        ]);
        let eval = run(&s, "1.36");
        let f = codes_for(&eval.findings, "K8S016");
        assert_eq!(f.len(), 2);
        let f: Vec<_> = f
            .into_iter()
            .filter(|f| f.resource_name == "legacy")
            .collect();
        assert_eq!(f[0].remediation, Remediation::Recommended);
        assert_eq!(f[0].resource_path(), "edge/legacy");
        assert!(
            f[0].message.contains("203.0.113.10, 203.0.113.11"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("(planned: removed in 1.43)"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn silent_without_external_ips_and_skipped_when_not_listed() {
        let mut s = snapshot("1.35");
        s.kubernetes.services_with_external_ips = Some(Vec::new());
        let eval = run(&s, "1.36");
        assert!(codes_for(&eval.findings, "K8S016").is_empty());
        assert!(!eval.skipped.iter().any(|k| k.code == "K8S016"));

        s.kubernetes.services_with_external_ips = None;
        let eval = run(&s, "1.36");
        let skipped = eval.skipped.iter().find(|k| k.code == "K8S016").unwrap();
        assert!(skipped.reason.contains("not listed"), "{}", skipped.reason);
        // Before 1.36 the check does not apply: nothing is read and nothing is skipped for it.
        let eval = run(&s, "1.35");
        assert!(codes_for(&eval.findings, "K8S016").is_empty());
    }
}
