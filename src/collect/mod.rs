//! Collection: the only stage that talks to AWS or Kubernetes. It returns an owned
//! [`Snapshot`]; a failing source is recorded in it and the others go on.

pub mod auth;
pub mod eks;
pub mod kube;

use std::path::PathBuf;

use crate::snapshot::{ClusterInfo, ClusterSource, Snapshot};
use crate::version::KubeVersion;

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
}

impl CollectError {
    /// Bad input (a kubeconfig, a missing region) is a usage error; the rest is a failure
    /// to collect.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::NoRegion | Self::Connection(_))
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

/// Reads one cluster into a snapshot.
pub async fn collect(target: &Target) -> Result<Snapshot, CollectError> {
    let (mut snapshot, connection) = if target.use_aws {
        let name = target.cluster.clone().ok_or_else(|| {
            CollectError::Connection(
                "no cluster name: pass --cluster NAME (or --no-aws with --kubeconfig)".into(),
            )
        })?;
        let sdk = eks::load_sdk_config(target.profile.as_deref(), target.region.as_deref()).await?;
        let cluster = eks::describe_cluster(&sdk, &name).await?;
        let connection = match target.explicit_connection() {
            Some(c) => c,
            None => Connection::Eks {
                endpoint: cluster.endpoint.clone(),
                certificate_authority: cluster.certificate_authority.clone(),
                token: auth::eks_token(&sdk, &cluster.region, &cluster.name).await?,
            },
        };
        let snapshot = Snapshot::new(ClusterInfo {
            name: cluster.name,
            source: ClusterSource::Eks,
            region: Some(cluster.region),
            account_id: cluster.account_id,
            arn: cluster.arn,
            version: cluster.version,
            platform_version: cluster.platform_version,
        });
        (snapshot, connection)
    } else {
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
        // The version is filled from the API server below.
        let snapshot = Snapshot::new(ClusterInfo {
            name,
            source: ClusterSource::KubernetesOnly,
            region: target.region.clone(),
            account_id: None,
            arn: None,
            version: KubeVersion::new(1, 0),
            platform_version: None,
        });
        (snapshot, connection)
    };

    let api = kube::connect(&connection).await?;
    kube::collect(&api, &mut snapshot).await?;
    if snapshot.cluster.source == ClusterSource::KubernetesOnly {
        let server = snapshot
            .kubernetes
            .server_version
            .clone()
            .unwrap_or_default();
        snapshot.cluster.version = server
            .parse()
            .map_err(|_| CollectError::ServerVersion(server.clone()))?;
    }
    Ok(snapshot)
}
