//! The API extensions K8S106 judges: the two admission webhook kinds and the APIServices,
//! each one small cluster-scoped LIST projected to where it is called, then only the
//! Services they (and the CRD conversion webhooks) name: one GET per Service and one LIST of
//! its EndpointSlices by the `kubernetes.io/service-name` label in its namespace. Services
//! and EndpointSlices are never listed cluster-wide.

use std::collections::BTreeSet;

use futures::StreamExt;
use serde::Deserialize;

use super::client::{self, ApiClient, ApiError, Listed, Shape};
use super::{rbac, settle};
use crate::snapshot::{
    AdmissionWebhook, ApiExtensions, ApiService, Backend, ExtensionService, ServiceRef, Snapshot,
    WebhookTarget, source,
};

#[derive(Deserialize)]
struct Meta {
    name: String,
}

#[derive(Deserialize)]
pub struct RawWebhookConfiguration {
    metadata: Meta,
    #[serde(default, deserialize_with = "super::wire::or_default")]
    webhooks: Vec<RawWebhook>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawWebhook {
    name: String,
    #[serde(default)]
    failure_policy: Option<String>,
    #[serde(default)]
    client_config: ClientConfig,
}

/// `clientConfig` of an admission webhook, and of a CRD's conversion webhook.
#[derive(Deserialize, Default)]
pub struct ClientConfig {
    #[serde(default)]
    service: Option<ServiceName>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct ServiceName {
    namespace: String,
    name: String,
}

impl ClientConfig {
    /// Where the API server calls; `None` for a config that names neither (invalid in v1).
    pub fn target(self) -> Option<WebhookTarget> {
        match (self.service, self.url) {
            (Some(s), _) => Some(WebhookTarget::Service(ServiceRef {
                namespace: s.namespace,
                name: s.name,
            })),
            (None, Some(url)) => Some(WebhookTarget::Url(url)),
            (None, None) => None,
        }
    }
}

fn webhooks(
    kind: &'static str,
) -> impl FnMut(RawWebhookConfiguration) -> Option<Vec<AdmissionWebhook>> {
    move |c| {
        let configuration = c.metadata.name;
        Some(
            c.webhooks
                .into_iter()
                .filter_map(|w| {
                    Some(AdmissionWebhook {
                        kind: kind.to_string(),
                        configuration: configuration.clone(),
                        name: w.name,
                        // admissionregistration.k8s.io/v1 defaults an unset policy to Fail.
                        fails_closed: w.failure_policy.as_deref() != Some("Ignore"),
                        target: w.client_config.target()?,
                    })
                })
                .collect(),
        )
    }
}

#[derive(Deserialize)]
pub struct RawApiService {
    metadata: Meta,
    #[serde(default)]
    spec: ApiServiceSpec,
    #[serde(default)]
    status: ApiServiceStatus,
}

#[derive(Deserialize, Default)]
struct ApiServiceSpec {
    #[serde(default)]
    group: String,
    /// Unset for the groups the API server serves itself.
    #[serde(default)]
    service: Option<ServiceName>,
}

#[derive(Deserialize, Default)]
struct ApiServiceStatus {
    #[serde(default, deserialize_with = "super::wire::or_default")]
    conditions: Vec<Condition>,
}

#[derive(Deserialize)]
struct Condition {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

/// An aggregated APIService, judged by its `Available` condition; local ones are dropped.
fn api_service(a: RawApiService) -> Option<ApiService> {
    a.spec.service.as_ref()?;
    let available = a
        .status
        .conditions
        .into_iter()
        .find(|c| c.kind == "Available");
    Some(ApiService {
        name: a.metadata.name,
        group: a.spec.group,
        available: available.as_ref().map(|c| c.status.clone()),
        reason: available
            .as_ref()
            .map(|c| c.reason.clone())
            .unwrap_or_default(),
        message: available.map(|c| c.message).unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct RawService {
    #[serde(default)]
    spec: ServiceSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ServiceSpec {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    external_name: String,
}

#[derive(Deserialize)]
struct RawEndpointSlice {
    #[serde(default, deserialize_with = "super::wire::or_default")]
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    #[serde(default)]
    conditions: EndpointConditions,
}

#[derive(Deserialize, Default)]
struct EndpointConditions {
    #[serde(default)]
    ready: Option<bool>,
}

/// (ready, total) endpoints of one slice. An unset `ready` means ready (discovery.k8s.io/v1:
/// "a nil value should be interpreted as true").
fn slice_endpoints(s: RawEndpointSlice) -> Option<(u32, u32)> {
    let ready = s
        .endpoints
        .iter()
        .filter(|e| e.conditions.ready.unwrap_or(true))
        .count();
    Some((ready as u32, s.endpoints.len() as u32))
}

/// What the three lists answered.
pub struct Lists {
    validating: Result<Option<Listed<Vec<AdmissionWebhook>>>, ApiError>,
    mutating: Result<Option<Listed<Vec<AdmissionWebhook>>>, ApiError>,
    api_services: Result<Option<Listed<ApiService>>, ApiError>,
}

/// Lists the webhook configurations and APIServices side by side.
pub async fn list(api: &ApiClient) -> Lists {
    let (validating, mutating, api_services) = tokio::join!(
        api.list(
            rbac::VALIDATING_WEBHOOKS.collection,
            Shape::Full,
            webhooks("ValidatingWebhookConfiguration")
        ),
        api.list(
            rbac::MUTATING_WEBHOOKS.collection,
            Shape::Full,
            webhooks("MutatingWebhookConfiguration")
        ),
        api.list(rbac::API_SERVICES.collection, Shape::Full, api_service),
    );
    Lists {
        validating,
        mutating,
        api_services,
    }
}

/// Records that none of the three lists could be read.
pub fn record_unread(snapshot: &mut Snapshot, message: &str) {
    for s in [
        source::VALIDATING_WEBHOOKS,
        source::MUTATING_WEBHOOKS,
        source::API_SERVICES,
    ] {
        snapshot.record_error(s, message);
    }
}

impl Lists {
    /// Stores the lists, then reads the Services that the webhooks and the snapshot's CRD
    /// conversion webhooks name (the CRDs must be stored first).
    pub async fn store(self, api: &ApiClient, snapshot: &mut Snapshot) {
        let mut webhooks: Vec<AdmissionWebhook> =
            settle(snapshot, source::VALIDATING_WEBHOOKS, self.validating)
                .into_iter()
                .flatten()
                .collect();
        webhooks.extend(
            settle(snapshot, source::MUTATING_WEBHOOKS, self.mutating)
                .into_iter()
                .flatten(),
        );
        let api_services = settle(snapshot, source::API_SERVICES, self.api_services);
        let conversions = snapshot
            .kubernetes
            .crds
            .iter()
            .flatten()
            .filter_map(|c| c.conversion.as_ref());
        let named: BTreeSet<ServiceRef> = webhooks
            .iter()
            .map(|w| &w.target)
            .chain(conversions)
            .filter_map(|t| match t {
                WebhookTarget::Service(s) => Some(s.clone()),
                WebhookTarget::Url(_) => None,
            })
            .collect();
        let services = read_backends(api, named).await;
        for s in &services {
            if let Backend::Unread(e) = &s.backend {
                snapshot.record_error(
                    source::EXTENSION_SERVICES,
                    format!("Service {}: {e}", s.service),
                );
            }
        }
        snapshot.kubernetes.api_extensions = Some(ApiExtensions {
            webhooks,
            api_services,
            services,
        });
    }
}

/// GETs each Service and, when it exists and is not an ExternalName, lists its EndpointSlices
/// by label in its namespace; a few requests at a time.
async fn read_backends(api: &ApiClient, named: BTreeSet<ServiceRef>) -> Vec<ExtensionService> {
    let reads = futures::stream::iter(named.into_iter().map(|service| async move {
        let backend = backend(api, &service).await;
        ExtensionService { service, backend }
    }))
    .buffered(client::MAX_CONCURRENT_REQUESTS);
    reads.collect().await
}

async fn backend(api: &ApiClient, s: &ServiceRef) -> Backend {
    let collection = rbac::SERVICES.namespaced(&s.namespace);
    let service = match api.get::<RawService>(&collection, &s.name).await {
        Ok(None) => return Backend::Missing,
        Ok(Some(service)) => service,
        Err(e) => return Backend::Unread(e.to_string()),
    };
    if service.spec.kind == "ExternalName" {
        return Backend::ExternalName(service.spec.external_name);
    }
    let selector = format!("kubernetes.io/service-name={}", s.name);
    let slices = rbac::ENDPOINTSLICES_BY_SERVICE.namespaced(&s.namespace);
    match api.list_labelled(&slices, &selector, slice_endpoints).await {
        Ok(Some(listed)) if listed.invalid.is_empty() => {
            let (ready, total) = listed
                .items
                .iter()
                .fold((0, 0), |(r, t), (sr, st)| (r + sr, t + st));
            Backend::Endpoints { ready, total }
        }
        Ok(Some(listed)) => Backend::Unread(format!(
            "EndpointSlices that could not be decoded: {}",
            listed.invalid.join("; ")
        )),
        Ok(None) => Backend::Unread("the API server does not serve discovery.k8s.io/v1".into()),
        Err(e) => Backend::Unread(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: serde_json::Value) -> Vec<AdmissionWebhook> {
        webhooks("ValidatingWebhookConfiguration")(serde_json::from_value(json).unwrap()).unwrap()
    }

    #[test]
    fn an_unset_failure_policy_fails_closed() {
        let hooks = config(serde_json::json!({
            "metadata": {"name": "policy"},
            "webhooks": [
                {"name": "a.example.com", "clientConfig": {"service": {"namespace": "p", "name": "svc", "port": 8443}}},
                {"name": "b.example.com", "failurePolicy": "Ignore", "clientConfig": {"url": "https://x.example.com/v"}},
                {"name": "c.example.com", "failurePolicy": "Fail", "clientConfig": {"service": {"namespace": "p", "name": "svc"}}},
            ]
        }));
        assert_eq!(hooks.len(), 3);
        assert!(hooks[0].fails_closed && !hooks[1].fails_closed && hooks[2].fails_closed);
        assert_eq!(hooks[0].configuration, "policy");
        assert_eq!(
            hooks[0].target,
            WebhookTarget::Service(ServiceRef {
                namespace: "p".into(),
                name: "svc".into()
            })
        );
        assert_eq!(
            hooks[1].target,
            WebhookTarget::Url("https://x.example.com/v".into())
        );
    }

    #[test]
    fn unset_ready_counts_as_ready() {
        let slice: RawEndpointSlice = serde_json::from_value(serde_json::json!({
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": false, "terminating": true}},
                {"addresses": ["10.0.0.3"], "conditions": {}},
                {"addresses": ["10.0.0.4"]},
            ]
        }))
        .unwrap();
        assert_eq!(slice_endpoints(slice), Some((3, 4)));
        let empty: RawEndpointSlice = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(slice_endpoints(empty), Some((0, 0)));
        // kube-apiserver writes a slice with no endpoint as `"endpoints": null`.
        let none: RawEndpointSlice =
            serde_json::from_value(serde_json::json!({"endpoints": null})).unwrap();
        assert_eq!(slice_endpoints(none), Some((0, 0)));
    }

    #[test]
    fn local_api_services_are_left_out() {
        let local: RawApiService = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "v1.apps"},
            "spec": {"group": "apps", "version": "v1"},
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}
        }))
        .unwrap();
        assert!(api_service(local).is_none());
        let metrics: RawApiService = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "service": {"namespace": "kube-system", "name": "metrics-server"}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints",
                                       "message": "endpoints for service/metrics-server in \"kube-system\" have no addresses"}]}
        }))
        .unwrap();
        let a = api_service(metrics).unwrap();
        assert_eq!(
            (a.group.as_str(), a.available.as_deref(), a.reason.as_str()),
            ("metrics.k8s.io", Some("False"), "MissingEndpoints")
        );
        assert!(a.message.contains("no addresses"));
    }
}
