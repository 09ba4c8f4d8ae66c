//! CustomResourceDefinitions, projected to their served and stored versions. The list
//! answer is heavy (each CRD carries its OpenAPI schema); the projection keeps a few names
//! per CRD, and the list is only made with `checks: {K8S105: {enabled: true}}`.

use serde::Deserialize;

use super::extensions::ClientConfig;
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
    #[serde(default, deserialize_with = "super::wire::or_default")]
    versions: Vec<Version>,
    #[serde(default)]
    conversion: Option<Conversion>,
}

/// `spec.conversion`: K8S106 judges the webhook's Service.
#[derive(Deserialize)]
struct Conversion {
    #[serde(default)]
    strategy: String,
    #[serde(default)]
    webhook: Option<ConversionWebhook>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversionWebhook {
    #[serde(default)]
    client_config: ClientConfig,
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
    #[serde(default, deserialize_with = "super::wire::or_default")]
    stored_versions: Vec<String>,
}

pub fn crd(c: RawCrd) -> Option<CustomResourceDefinition> {
    let conversion = c
        .spec
        .conversion
        .filter(|c| c.strategy == "Webhook")
        .and_then(|c| c.webhook)
        .and_then(|w| w.client_config.target());
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
        conversion,
    })
}
