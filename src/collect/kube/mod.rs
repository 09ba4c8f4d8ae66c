//! Reading the Kubernetes API with the least load (see DESIGN.md, "Reading the cluster").
//!
//! One paginated LIST per kind, cluster-wide; ReplicaSets and Jobs as metadata first, with
//! full GETs only for the few that no controller owns (ReplicaSets by label: the server
//! leaves out those a Deployment made, see [`settings`]); kube-proxy taken from the DaemonSet
//! list rather than fetched again; Secrets never read.

pub mod client;
mod crds;
mod extensions;
mod karpenter;
pub mod metrics;
pub mod optional;
pub mod project;
pub mod rbac;
mod services;
pub mod settings;
pub mod wire;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use kube::config::{KubeConfigOptions, Kubeconfig};

pub use client::{ApiClient, ApiError, Listed, Shape};
pub use optional::Reads;
use project::MetadataOnly;

use super::{CollectError, Deadline};
use crate::snapshot::{KubeProxy, Snapshot, Workload, WorkloadKind, source};
use rbac::Resource;

/// How to reach the API server.
#[derive(Debug, Clone)]
pub enum Connection {
    /// From `DescribeCluster`: endpoint, base64 PEM certificate authority, bearer token.
    Eks {
        endpoint: String,
        certificate_authority: String,
        token: String,
    },
    /// A kubeconfig file (default locations when `path` is `None`) and context.
    Kubeconfig {
        path: Option<PathBuf>,
        context: Option<String>,
    },
    /// The pod's service account.
    InCluster,
}

/// The Kubernetes group the read-only ClusterRole is bound to (deploy/kubernetes), and that
/// an EKS access entry maps eksup's role to.
pub const READER_GROUP: &str = "eksup-readers";

/// Every source the Kubernetes side records, for when none of them can be read.
const SOURCES: [&str; 12] = [
    source::NODES,
    source::DEPLOYMENTS,
    source::STATEFULSETS,
    source::DAEMONSETS,
    source::CRONJOBS,
    source::REPLICASETS,
    source::JOBS,
    source::REPLICATIONCONTROLLERS,
    source::PDBS,
    source::HPAS,
    source::KUBE_PROXY_CONFIG,
    source::ENICONFIGS,
];

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

fn user_agent() -> String {
    format!("eksup/{}", env!("CARGO_PKG_VERSION"))
}

/// Builds a kube client for `connection` whose requests end by `deadline`; a bad
/// kubeconfig or certificate is a usage error.
pub async fn connect(
    connection: &Connection,
    deadline: Deadline,
) -> Result<ApiClient, CollectError> {
    let mut config = match connection {
        Connection::Eks {
            endpoint,
            certificate_authority,
            token,
        } => {
            let bad =
                |m: String| CollectError::Connection(format!("cluster certificate authority: {m}"));
            let pem_bytes = base64::engine::general_purpose::STANDARD
                .decode(certificate_authority.trim())
                .map_err(|e| bad(e.to_string()))?;
            let certs = pem::parse_many(&pem_bytes).map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate in the data".into()));
            }
            let url = endpoint.parse().map_err(|e| {
                CollectError::Connection(format!("cluster endpoint `{endpoint}`: {e}"))
            })?;
            let mut config = kube::Config::new(url);
            config.root_cert = Some(certs.into_iter().map(|p| p.into_contents()).collect());
            config.auth_info.token = Some(token.clone().into());
            config
        }
        Connection::Kubeconfig { path, context } => {
            let options = KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            let result = match path {
                Some(path) => match Kubeconfig::read_from(path) {
                    Ok(kc) => kube::Config::from_custom_kubeconfig(kc, &options).await,
                    Err(e) => Err(e),
                },
                None => kube::Config::from_kubeconfig(&options).await,
            };
            result.map_err(|e| CollectError::Connection(format!("kubeconfig: {e}")))?
        }
        Connection::InCluster => kube::Config::incluster()
            .map_err(|e| CollectError::Connection(format!("in-cluster service account: {e}")))?,
    };
    let endpoint = config.cluster_url.to_string();
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    // One retry layer: ApiClient's, which honours Retry-After within a budget and the
    // deadline. kube's default layer would retry again inside each of its attempts.
    config.default_retry = false;
    config.headers.push((
        http::header::USER_AGENT,
        user_agent().parse().expect("valid header value"),
    ));
    let client = kube::Client::try_from(config).map_err(|e| {
        CollectError::Connection(format!("cannot build the Kubernetes client: {e}"))
    })?;
    Ok(ApiClient::new(client, endpoint, deadline))
}

/// Records a failed list under `source`, and a list's undecodable objects too.
fn settle<P>(
    snapshot: &mut Snapshot,
    source: &str,
    result: Result<Option<Listed<P>>, ApiError>,
) -> Vec<P> {
    match result {
        Ok(Some(listed)) => {
            if !listed.invalid.is_empty() {
                snapshot.record_error(
                    source,
                    format!(
                        "{} object(s) could not be decoded and were skipped: {}",
                        listed.invalid.len(),
                        listed.invalid.join("; ")
                    ),
                );
            }
            listed.items
        }
        Ok(None) => Vec::new(),
        Err(e) => {
            snapshot.record_error(source, e.to_string());
            Vec::new()
        }
    }
}

/// Lists a kind whose objects are mostly owned (ReplicaSets, Jobs): metadata for those
/// that match `selector` (all without one), then a full GET only for each unowned one.
async fn list_unowned<T>(
    api: &ApiClient,
    resource: &Resource,
    selector: Option<&str>,
    project: fn(T) -> Option<Workload>,
) -> Result<Option<Listed<Workload>>, ApiError>
where
    T: serde::de::DeserializeOwned,
{
    let Some(meta) = api
        .list_selected(
            resource.collection,
            Shape::Metadata,
            selector,
            |m: MetadataOnly| (!project::is_owned(&m.metadata)).then_some(m.metadata),
        )
        .await?
    else {
        return Ok(None);
    };
    let mut listed = Listed {
        items: Vec::new(),
        invalid: meta.invalid,
    };
    let fetches = futures::stream::iter(meta.items.into_iter().map(|m| {
        let namespace = m.namespace.unwrap_or_default();
        let name = m.name.unwrap_or_default();
        let path = resource.namespaced(&namespace);
        async move {
            (
                api.get::<T>(&path, &name).await,
                format!("{namespace}/{name}"),
            )
        }
    }))
    .buffer_unordered(client::MAX_CONCURRENT_REQUESTS);
    let results: Vec<_> = fetches.collect().await;
    for (result, name) in results {
        match result {
            Ok(Some(object)) => listed.items.extend(project(object)),
            // Deleted between the list and the get: nothing to check.
            Ok(None) => {}
            Err(e) => listed.invalid.push(format!("{name}: {e}")),
        }
    }
    Ok(Some(listed))
}

/// Reads everything the Kubernetes checks need into `snapshot`, starting with the
/// `/version` probe. A server that cannot be reached or refuses eksup's identity fails
/// the cluster; one that keeps shedding load (429, 5xx) or runs past the deadline has every
/// Kubernetes source recorded as not read, so its checks are skipped with the reason and
/// the AWS side still completes. After the probe, each failing source is recorded and the
/// others go on.
pub async fn collect(
    api: &ApiClient,
    snapshot: &mut Snapshot,
    reads: Reads,
) -> Result<(), CollectError> {
    let reads = match api.version().await {
        Ok(version) => {
            let reads = reads.for_server(version.parse().ok());
            snapshot.kubernetes.server_version = Some(version);
            reads
        }
        Err(ApiError::Transport(message)) => {
            return Err(CollectError::Unreachable {
                endpoint: api.endpoint.clone(),
                message,
            });
        }
        Err(ApiError::Status {
            code: code @ (401 | 403),
            reason,
            ..
        }) => {
            return Err(CollectError::Unauthorized {
                endpoint: api.endpoint.clone(),
                code,
                message: reason,
            });
        }
        Err(e) => {
            let message = format!("the API server did not answer /version: {e}");
            for s in SOURCES {
                snapshot.record_error(s, message.clone());
            }
            optional::record_unread(snapshot, reads.for_server(None), &message);
            return Ok(());
        }
    };

    let (
        nodes,
        deployments,
        statefulsets,
        daemonsets,
        cronjobs,
        replicasets,
        jobs,
        rcs,
        pdbs,
        hpas,
        proxy_config,
        eniconfigs,
        optional_answers,
        extension_lists,
    ) = tokio::join!(
        api.list(rbac::NODES.collection, Shape::Full, project::node),
        api.list(
            rbac::DEPLOYMENTS.collection,
            Shape::Full,
            project::deployment
        ),
        api.list(
            rbac::STATEFULSETS.collection,
            Shape::Full,
            project::stateful_set
        ),
        api.list(
            rbac::DAEMONSETS.collection,
            Shape::Full,
            project::daemon_set
        ),
        api.list(rbac::CRONJOBS.collection, Shape::Full, project::cron_job),
        // Deployments label every ReplicaSet they make: the server leaves those out.
        list_unowned::<wire::Workload>(
            api,
            &rbac::REPLICASETS,
            reads.replicasets.selector(),
            project::replica_set
        ),
        // The CronJob controller sets no label on its Jobs (only an owner reference and the
        // `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation), so no selector can
        // leave them out: every Job's metadata is listed.
        list_unowned::<wire::Job>(api, &rbac::JOBS, None, project::job),
        api.list(
            rbac::REPLICATIONCONTROLLERS.collection,
            Shape::Full,
            project::replication_controller
        ),
        api.list(
            rbac::PODDISRUPTIONBUDGETS.collection,
            Shape::Full,
            project::pod_disruption_budget
        ),
        api.list(
            rbac::HORIZONTALPODAUTOSCALERS.collection,
            Shape::Full,
            project::autoscaler
        ),
        api.get::<wire::ConfigMap>(
            rbac::KUBE_PROXY_CONFIG.collection,
            rbac::KUBE_PROXY_CONFIG.name
        ),
        api.list(
            rbac::ENICONFIGS.collection,
            Shape::Full,
            project::eni_config
        ),
        optional::read(api, reads),
        async {
            if reads.extensions {
                Some(extensions::list(api).await)
            } else {
                None
            }
        },
    );
    optional_answers.store(snapshot);
    // After the CRDs are stored: their conversion webhooks name Services too.
    if let Some(lists) = extension_lists {
        lists.store(api, snapshot).await;
    }

    let nodes = settle(snapshot, source::NODES, nodes);
    let mut workloads = Vec::new();
    workloads.extend(settle(snapshot, source::DEPLOYMENTS, deployments));
    workloads.extend(settle(snapshot, source::STATEFULSETS, statefulsets));
    let daemonsets_failed = daemonsets.is_err();
    workloads.extend(settle(snapshot, source::DAEMONSETS, daemonsets));
    workloads.extend(settle(snapshot, source::CRONJOBS, cronjobs));
    workloads.extend(settle(snapshot, source::REPLICASETS, replicasets));
    workloads.extend(settle(snapshot, source::JOBS, jobs));
    workloads.extend(settle(snapshot, source::REPLICATIONCONTROLLERS, rcs));
    let pdbs = settle(snapshot, source::PDBS, pdbs);
    let hpas = settle(snapshot, source::HPAS, hpas);
    let eniconfigs = settle(snapshot, source::ENICONFIGS, eniconfigs);
    let proxy_mode = match proxy_config {
        Ok(cm) => cm.as_ref().and_then(project::kube_proxy_mode),
        Err(e) => {
            snapshot.record_error(source::KUBE_PROXY_CONFIG, e.to_string());
            None
        }
    };
    let kube_proxy = (!daemonsets_failed)
        .then(|| {
            workloads
                .iter()
                .find(|w| {
                    w.kind == WorkloadKind::DaemonSet
                        && w.namespace == "kube-system"
                        && w.name == "kube-proxy"
                })
                .map(|w| KubeProxy {
                    images: w.pod.containers.iter().map(|c| c.image.clone()).collect(),
                    mode: proxy_mode,
                })
        })
        .flatten();

    let k = &mut snapshot.kubernetes;
    k.nodes = nodes;
    k.workloads = workloads;
    k.pod_disruption_budgets = pdbs;
    k.autoscalers = hpas;
    k.eni_configs = eniconfigs;
    k.kube_proxy = kube_proxy;
    tracing::info!(
        requests = api.load.requests.load(Ordering::Relaxed),
        bytes = api.load.bytes.load(Ordering::Relaxed),
        retries = api.load.retries.load(Ordering::Relaxed),
        "read the Kubernetes API"
    );
    Ok(())
}
