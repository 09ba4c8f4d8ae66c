//! CustomResourceDefinitions, projected to their served and stored versions. The list
//! answer is heavy (each CRD carries its OpenAPI schema); the projection keeps a few names
//! per CRD, and the list is only made with `checks: {K8S105: {enabled: true}}`.

use serde::Deserialize;

use crate::snapshot::CustomResourceDefinition;

#[derive(Deserialize)]
pub struct RawCrd {
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
}

#[derive(Deserialize, Default)]
struct Spec {
    #[serde(default)]
    versions: Vec<Version>,
}

#[derive(Deserialize)]
struct Version {
    name: String,
    #[serde(default)]
    served: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    stored_versions: Vec<String>,
}

pub fn crd(c: RawCrd) -> Option<CustomResourceDefinition> {
    Some(CustomResourceDefinition {
        name: c.metadata.name,
        served: c
            .spec
            .versions
            .into_iter()
            .filter(|v| v.served)
            .map(|v| v.name)
            .collect(),
        stored: c.status.stored_versions,
    })
}
