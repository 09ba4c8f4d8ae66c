//! Collection: the only stage that talks to AWS or Kubernetes. It returns an owned
//! [`Snapshot`]; a failing source is recorded in it and the others go on.

pub mod auth;
pub mod aws;
pub mod deadline;
pub mod kube;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

use crate::snapshot::{ClusterInfo, ClusterSource, CollectionError, Snapshot, source};
use crate::version::{KubeVersion, SupportCalendar, TargetError, hops, resolve_target};

pub use self::aws::{AwsScope, EksCluster};
pub use self::deadline::Deadline;
pub use self::kube::Connection;

/// Requests this process made, for the end-of-run summary and the benchmarks.
#[derive(Debug, Default)]
pub struct RequestCounts {
    /// AWS API attempts (retries included).
    pub aws: AtomicU64,
    /// Kubernetes API requests (retries included) and the bytes they returned.
    pub kubernetes: AtomicU64,
    pub kubernetes_bytes: AtomicU64,
}

pub static REQUESTS: RequestCounts = RequestCounts {
    aws: AtomicU64::new(0),
    kubernetes: AtomicU64::new(0),
    kubernetes_bytes: AtomicU64::new(0),
};

/// Why a cluster could not be collected at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("no AWS region: pass --region, set AWS_REGION, or set a region in the AWS profile")]
    NoRegion,
    #[error("{operation}: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error("cannot create the EKS token: {0}")]
    Auth(#[from] auth::AuthError),
    #[error("{0}")]
    Connection(String),
    #[error("the Kubernetes API server cannot be read at {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error(
        "the Kubernetes API server at {endpoint} answered HTTP {code} to eksup's identity: give the role eksup runs as an EKS access entry mapped to the Kubernetes group `{group}`, which deploy/kubernetes binds to the read-only ClusterRole ({message})",
        group = kube::READER_GROUP
    )]
    Unauthorized {
        endpoint: String,
        code: u16,
        message: String,
    },
    #[error("the API server reports version `{0}`, which is not a Kubernetes version")]
    ServerVersion(String),
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl CollectError {
    /// Bad input (a kubeconfig, a missing region) is a usage error; the rest is a failure
    /// to collect.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::NoRegion | Self::Connection(_) | Self::Target(_))
    }
}

/// Which cluster to read and how to reach it. ("Target" in eksup is only ever the
/// Kubernetes version to upgrade to.)
#[derive(Debug, Clone, Default)]
pub struct ClusterRef {
    /// The EKS cluster name (required with AWS; a label otherwise).
    pub name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// `false` with `--no-aws`: Kubernetes only.
    pub use_aws: bool,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub in_cluster: bool,
}

impl ClusterRef {
    /// The explicit Kubernetes connection, if the user chose one.
    pub fn explicit_connection(&self) -> Option<Connection> {
        if self.kubeconfig.is_some() || self.context.is_some() {
            Some(Connection::Kubeconfig {
                path: self.kubeconfig.clone(),
                context: self.context.clone(),
            })
        } else if self.in_cluster {
            Some(Connection::InCluster)
        } else {
            None
        }
    }
}

/// Reads one cluster into a snapshot with the caller's own AWS configuration. The
/// requested target version decides which addon catalogues are read (one per hop).
pub async fn collect(
    cluster: &ClusterRef,
    target_version: Option<KubeVersion>,
    reads: kube::Reads,
) -> Result<Snapshot, CollectError> {
    if !cluster.use_aws {
        let reads = match target_version {
            Some(target) => reads.towards(target),
            None => reads,
        };
        return collect_kubernetes_only(cluster, reads).await;
    }
    let name = cluster.name.clone().ok_or_else(|| {
        CollectError::Connection(
            "no cluster name: pass --cluster NAME (or --no-aws with --kubeconfig)".into(),
        )
    })?;
    let sdk =
        aws::eks::load_sdk_config(cluster.profile.as_deref(), cluster.region.as_deref()).await?;
    let scope = AwsScope::new(sdk);
    // The calendar is read while the cluster is described; the shared read keeps it.
    let (described, _) = tokio::join!(
        aws::eks::describe_cluster(&scope.clients.eks, &scope.region, &name),
        scope.shared.cluster_versions(&scope.clients)
    );
    collect_described(
        &scope,
        described?,
        target_version,
        cluster.explicit_connection(),
        Deadline::none(),
        reads,
    )
    .await
}

/// Reads a cluster that `DescribeCluster` already described, within `scope` (its account
/// and region): Kubernetes and the other AWS sources side by side, then the subnets and
/// launch templates they named; every source under `deadline`. Without an explicit
/// `connection`, Kubernetes is reached at the EKS endpoint with a token signed by the
/// scope's credentials.
pub async fn collect_described(
    scope: &AwsScope,
    cluster: EksCluster,
    target_version: Option<KubeVersion>,
    connection: Option<Connection>,
    deadline: Deadline,
    reads: kube::Reads,
) -> Result<Snapshot, CollectError> {
    let mut errors = Vec::new();
    let cluster_versions = match deadline
        .within(scope.shared.cluster_versions(&scope.clients))
        .await
    {
        Ok(v) => v,
        Err(message) => {
            errors.push(CollectionError {
                source: source::CLUSTER_VERSIONS.into(),
                message: format!("{message}; using the support calendar built into eksup"),
            });
            Vec::new()
        }
    };
    let calendar = SupportCalendar::embedded().with_api(&cluster_versions);
    let target_version = resolve_target(cluster.version, target_version, &calendar)?;
    let hops = hops(cluster.version, target_version);

    let connection = match connection {
        Some(c) => c,
        None => Connection::Eks {
            endpoint: cluster.endpoint.clone(),
            certificate_authority: cluster.certificate_authority.clone(),
            token: auth::eks_token(&scope.sdk, &cluster.region, &cluster.name).await?,
        },
    };
    let mut snapshot = Snapshot::new(ClusterInfo {
        name: cluster.name.clone(),
        source: ClusterSource::Eks,
        region: Some(cluster.region.clone()),
        account_id: cluster.account_id.clone(),
        arn: cluster.arn.clone(),
        version: cluster.version,
        platform_version: cluster.platform_version.clone(),
    });
    let api = kube::connect(&connection, deadline).await?;
    let (kube_result, mut aws_data) = tokio::join!(
        kube::collect(&api, &mut snapshot, reads.towards(target_version)),
        aws::collect(scope, &cluster, &hops, deadline, &mut errors)
    );
    kube_result?;
    let eni_subnets: Vec<String> = snapshot
        .kubernetes
        .eni_configs
        .iter()
        .filter_map(|e| e.subnet.clone())
        .collect();
    aws::collect_network(
        &scope.clients,
        deadline,
        &mut aws_data,
        &eni_subnets,
        &mut errors,
    )
    .await;
    aws_data.cluster_versions = cluster_versions;
    snapshot.aws = Some(aws_data);
    snapshot.collection_errors.extend(errors);
    Ok(snapshot)
}

async fn collect_kubernetes_only(
    cluster: &ClusterRef,
    reads: kube::Reads,
) -> Result<Snapshot, CollectError> {
    let connection = cluster.explicit_connection().ok_or_else(|| {
        CollectError::Connection(
            "--no-aws needs --kubeconfig/--context or --in-cluster to reach the cluster".into(),
        )
    })?;
    let name = cluster
        .name
        .clone()
        .or_else(|| cluster.context.clone())
        .unwrap_or_else(|| "kubernetes".into());
    // The version is read from the API server below.
    let mut snapshot = Snapshot::new(ClusterInfo {
        name,
        source: ClusterSource::KubernetesOnly,
        region: cluster.region.clone(),
        account_id: None,
        arn: None,
        version: KubeVersion::new(1, 0),
        platform_version: None,
    });
    let api = kube::connect(&connection, Deadline::none()).await?;
    kube::collect(&api, &mut snapshot, reads).await?;
    let server =
        snapshot
            .kubernetes
            .server_version
            .clone()
            .ok_or_else(|| CollectError::Unreachable {
                endpoint: api.endpoint.clone(),
                message: snapshot
                    .failure_of(source::NODES)
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            })?;
    snapshot.cluster.version = server
        .parse()
        .map_err(|_| CollectError::ServerVersion(server.clone()))?;
    Ok(snapshot)
}
