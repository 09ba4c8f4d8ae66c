//! Collection: the only stage that talks to AWS or Kubernetes. It returns an owned
//! [`Snapshot`]; a failing source is recorded in it and the others go on.

pub mod auth;
pub mod aws;
pub mod kube;

use std::path::PathBuf;

use crate::snapshot::{ClusterInfo, ClusterSource, CollectionError, Snapshot, source};
use crate::version::{KubeVersion, SupportCalendar, TargetError, hops, resolve_target};

pub use self::kube::Connection;

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

/// Which cluster to read and how.
#[derive(Debug, Clone)]
pub struct Target {
    /// The EKS cluster name (required with AWS; a label otherwise).
    pub cluster: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// `false` with `--no-aws`: Kubernetes only.
    pub use_aws: bool,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub in_cluster: bool,
    /// The requested target version; addon catalogues are read for every hop to it.
    pub target_version: Option<KubeVersion>,
}

impl Target {
    /// The explicit Kubernetes connection, if the user chose one.
    fn explicit_connection(&self) -> Option<Connection> {
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

/// Reads one cluster into a snapshot: EKS first, then Kubernetes and the other AWS sources
/// side by side, then the subnets and launch templates they named.
pub async fn collect(target: &Target) -> Result<Snapshot, CollectError> {
    if !target.use_aws {
        return collect_kubernetes_only(target).await;
    }
    let name = target.cluster.clone().ok_or_else(|| {
        CollectError::Connection(
            "no cluster name: pass --cluster NAME (or --no-aws with --kubeconfig)".into(),
        )
    })?;
    let sdk =
        aws::eks::load_sdk_config(target.profile.as_deref(), target.region.as_deref()).await?;
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    let clients = aws::Clients::new(&sdk);
    let (cluster, versions) = tokio::join!(
        aws::eks::describe_cluster(&clients.eks, &region, &name),
        aws::eks::cluster_versions(&clients.eks)
    );
    let cluster = cluster?;
    let mut errors = Vec::new();
    let cluster_versions = match versions {
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
    let target_version = resolve_target(cluster.version, target.target_version, &calendar)?;
    let hops = hops(cluster.version, target_version);

    let connection = match target.explicit_connection() {
        Some(c) => c,
        None => Connection::Eks {
            endpoint: cluster.endpoint.clone(),
            certificate_authority: cluster.certificate_authority.clone(),
            token: auth::eks_token(&sdk, &cluster.region, &cluster.name).await?,
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
    let api = kube::connect(&connection).await?;
    let (kube_result, mut aws_data) = tokio::join!(
        kube::collect(&api, &mut snapshot),
        aws::collect(&clients, &cluster, &hops, &mut errors)
    );
    kube_result?;
    let eni_subnets: Vec<String> = snapshot
        .kubernetes
        .eni_configs
        .iter()
        .filter_map(|e| e.subnet.clone())
        .collect();
    aws::collect_network(&clients, &mut aws_data, &eni_subnets, &mut errors).await;
    aws_data.cluster_versions = cluster_versions;
    snapshot.aws = Some(aws_data);
    snapshot.collection_errors.extend(errors);
    Ok(snapshot)
}

async fn collect_kubernetes_only(target: &Target) -> Result<Snapshot, CollectError> {
    let connection = target.explicit_connection().ok_or_else(|| {
        CollectError::Connection(
            "--no-aws needs --kubeconfig/--context or --in-cluster to reach the cluster".into(),
        )
    })?;
    let name = target
        .cluster
        .clone()
        .or_else(|| target.context.clone())
        .unwrap_or_else(|| "kubernetes".into());
    // The version is read from the API server below.
    let mut snapshot = Snapshot::new(ClusterInfo {
        name,
        source: ClusterSource::KubernetesOnly,
        region: target.region.clone(),
        account_id: None,
        arn: None,
        version: KubeVersion::new(1, 0),
        platform_version: None,
    });
    let api = kube::connect(&connection).await?;
    kube::collect(&api, &mut snapshot).await?;
    let server = snapshot
        .kubernetes
        .server_version
        .clone()
        .unwrap_or_default();
    snapshot.cluster.version = server
        .parse()
        .map_err(|_| CollectError::ServerVersion(server.clone()))?;
    Ok(snapshot)
}
