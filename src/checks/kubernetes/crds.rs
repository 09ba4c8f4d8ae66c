//! K8S020: CustomResourceDefinitions that still store a version they no longer serve.

use serde_json::json;

use crate::checks::{Context, finding, lookup};
use crate::finding::{Finding, Remediation};

pub fn unserved_stored_versions(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S020").expect("catalogued");
    ctx.snapshot
        .kubernetes
        .crds
        .iter()
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
