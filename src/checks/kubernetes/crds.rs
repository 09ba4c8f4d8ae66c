//! K8S105: CustomResourceDefinitions that still store a version they no longer serve.

use serde_json::json;

use crate::checks::{Context, finding, lookup};
use crate::finding::{Finding, Remediation};

/// Precondition of K8S105: the CRDs were listed. The list is off by default (its answer
/// carries every CRD's OpenAPI schema, a third of a run's bytes on a cluster with many
/// CRDs), so a run that did not ask for it skips the check as not applicable and says how
/// to turn it on. Read from the snapshot, not the settings, so `eksup analyze --snapshot`
/// judges what was collected.
pub fn not_listed(ctx: &Context) -> Option<String> {
    ctx.snapshot.kubernetes.crds.is_none().then(|| {
        "the CRD list is off by default (it carries every CRD's schema); enable it with `checks: {K8S105: {enabled: true}}`".to_string()
    })
}

pub fn unserved_stored_versions(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S105").expect("catalogued");
    ctx.snapshot
        .kubernetes
        .crds
        .iter()
        .flatten()
        .filter_map(|crd| {
            let unserved: Vec<&str> = crd
                .stored
                .iter()
                .filter(|v| !crd.served.contains(v))
                .map(String::as_str)
                .collect();
            (!unserved.is_empty()).then(|| {
                finding(
                    check,
                    Remediation::Recommended,
                    ("CustomResourceDefinition", "", &crd.name),
                    format!(
                        "{} lists {} in status.storedVersions but no longer serves it; rewrite the stored objects at a served version (e.g. with kube-storage-version-migrator), then drop {} from status.storedVersions before removing it from the CRD",
                        crd.name,
                        unserved.join(", "),
                        unserved.join(", ")
                    ),
                    json!({"stored_versions": crd.stored, "served_versions": crd.served, "unserved_stored": unserved}),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::checks::SkipCause;
    use crate::checks::kubernetes::fixtures::{codes_for, run};
    use crate::snapshot::{CustomResourceDefinition, source};

    fn crd(name: &str, served: &[&str], stored: &[&str]) -> CustomResourceDefinition {
        CustomResourceDefinition {
            name: name.into(),
            served: served.iter().map(|v| v.to_string()).collect(),
            stored: stored.iter().map(|v| v.to_string()).collect(),
            conversion: None,
        }
    }

    #[test]
    fn off_by_default_says_how_to_turn_it_on() {
        let s = crate::checks::kubernetes::fixtures::snapshot("1.31");
        let eval = run(&s, "1.32");
        let skipped = eval.skipped.iter().find(|k| k.code == "K8S105").unwrap();
        assert_eq!(skipped.cause, SkipCause::NotApplicable);
        assert!(
            skipped.reason.contains("checks: {K8S105: {enabled: true}}"),
            "{}",
            skipped.reason
        );
    }

    #[test]
    fn listed_crds_storing_an_unserved_version_are_recommended() {
        let mut s = crate::checks::kubernetes::fixtures::snapshot("1.31");
        s.kubernetes.crds = Some(vec![
            crd("widgets.example.com", &["v2"], &["v1", "v2"]),
            crd("gadgets.example.com", &["v1", "v2"], &["v1"]),
        ]);
        let eval = run(&s, "1.32");
        assert!(!eval.skipped.iter().any(|k| k.code == "K8S105"));
        let found = codes_for(&eval.findings, "K8S105");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].resource_name, "widgets.example.com");
        assert_eq!(
            found[0].details["unserved_stored"],
            serde_json::json!(["v1"])
        );
    }

    #[test]
    fn a_failed_list_is_not_collected() {
        let mut s = crate::checks::kubernetes::fixtures::snapshot("1.31");
        s.kubernetes.crds = Some(Vec::new());
        s.record_error(source::CRDS, "HTTP 403 Forbidden");
        let eval = run(&s, "1.32");
        let skipped = eval.skipped.iter().find(|k| k.code == "K8S105").unwrap();
        assert_eq!(skipped.cause, SkipCause::NotCollected);
    }
}
