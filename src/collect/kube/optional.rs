//! The sources behind the compute-aware and runtime checks (EKS102, EKS103, K8S104,
//! K8S105) and K8S016: Karpenter's NodePools and EC2NodeClasses, the API server's `/metrics`,
//! the CRDs and the Services. Each is one paginated LIST or one GET, read beside the other
//! lists.

use crate::checks::{CheckSettings, changes};
use crate::collect::kube::rbac;
use crate::snapshot::{
    CustomResourceDefinition, DeprecatedApiRequest, Ec2NodeClass, ExternalIpService, NodePool,
    Snapshot, source,
};
use crate::version::KubeVersion;

use super::client::{ApiClient, ApiError, Listed, Shape};
use super::settings::{CollectSettings, ReplicaSetScope};
use super::{crds, karpenter, metrics, services, settle};

/// Which optional sources a run reads; both follow the check settings, so a check that is
/// switched off costs the API server nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads {
    /// GET `/metrics` (K8S104; off with `checks.K8S104.api_server_metrics: false`).
    pub api_metrics: bool,
    /// LIST CRDs (K8S105; off unless `checks.K8S105.enabled: true`).
    pub crds: bool,
    /// LIST Services (K8S016) when the upgrade reaches the release that deprecates
    /// `externalIPs`; off with K8S016 disabled.
    pub services: bool,
    /// The target of the run, when known before the API server is asked; `None`: the next
    /// minor of the server's version (decides the Service list).
    pub target: Option<KubeVersion>,
    /// The API extensions and the Services they name (K8S106; off when it is disabled).
    pub extensions: bool,
    /// Which ReplicaSets are listed (`collect.replicasets`).
    pub replicasets: ReplicaSetScope,
}

impl Default for Reads {
    fn default() -> Self {
        Self {
            api_metrics: true,
            crds: false,
            services: true,
            target: None,
            extensions: true,
            replicasets: ReplicaSetScope::default(),
        }
    }
}

impl From<&CheckSettings> for Reads {
    fn from(s: &CheckSettings) -> Self {
        Self {
            api_metrics: !s.is_disabled("K8S104") && s.k8s104.api_server_metrics,
            crds: s.k8s105.enabled && !s.is_disabled("K8S105"),
            extensions: !s.is_disabled("K8S106"),
            services: !s.is_disabled("K8S016"),
            target: None,
            replicasets: ReplicaSetScope::default(),
        }
    }
}

impl Reads {
    /// What a run reads: its check settings, then the `collect` settings.
    pub fn new(checks: &CheckSettings, collect: &CollectSettings) -> Self {
        Self {
            replicasets: collect.replicasets,
            ..Self::from(checks)
        }
    }
}

impl Reads {
    /// These reads for a run towards `target`.
    pub fn towards(self, target: KubeVersion) -> Self {
        Self {
            target: Some(target),
            ..self
        }
    }

    /// Settles what depends on the target, once the server's version is known: the Services
    /// are listed only when the target reaches the release from which K8S016 reports (the
    /// target is the last hop, and the releases only grow along the path).
    pub fn for_server(self, server: Option<KubeVersion>) -> Self {
        let target = self.target.or(server.map(KubeVersion::next));
        let reaches = |target| changes::for_check("K8S016").level(target).is_some();
        Self {
            services: self.services && target.is_some_and(reaches),
            ..self
        }
    }
}

/// What the optional sources answered, before it is stored in the snapshot.
pub struct Answers {
    node_pools: Result<Option<Listed<NodePool>>, ApiError>,
    node_classes: Result<Option<Listed<Ec2NodeClass>>, ApiError>,
    metrics: Option<Result<Option<String>, ApiError>>,
    crds: Option<Result<Option<Listed<CustomResourceDefinition>>, ApiError>>,
    services: Option<Result<Option<Listed<ExternalIpService>>, ApiError>>,
}

/// Reads the optional sources side by side.
pub async fn read(api: &ApiClient, reads: Reads) -> Answers {
    let (node_pools, node_classes, metrics, crds, services) = tokio::join!(
        api.list(
            rbac::NODEPOOLS.collection,
            Shape::Full,
            karpenter::node_pool
        ),
        api.list(
            rbac::EC2NODECLASSES.collection,
            Shape::Full,
            karpenter::ec2_node_class
        ),
        async {
            if reads.api_metrics {
                Some(api.get_text(rbac::METRICS_URL).await)
            } else {
                None
            }
        },
        async {
            if reads.crds {
                Some(
                    api.list(rbac::CRDS.collection, Shape::Full, crds::crd)
                        .await,
                )
            } else {
                None
            }
        },
        async {
            if reads.services {
                Some(
                    api.list(
                        rbac::SERVICES.collection,
                        Shape::Full,
                        services::external_ips,
                    )
                    .await,
                )
            } else {
                None
            }
        },
    );
    Answers {
        node_pools,
        node_classes,
        metrics,
        crds,
        services,
    }
}

/// Records that none of the optional sources could be read.
pub fn record_unread(snapshot: &mut Snapshot, reads: Reads, message: &str) {
    snapshot.record_error(source::NODEPOOLS, message);
    snapshot.record_error(source::EC2NODECLASSES, message);
    if reads.api_metrics {
        snapshot.record_error(source::API_METRICS, message);
    }
    if reads.crds {
        snapshot.record_error(source::CRDS, message);
    }
    if reads.services {
        snapshot.record_error(source::SERVICES, message);
    }
    if reads.extensions {
        super::extensions::record_unread(snapshot, message);
    }
}

impl Answers {
    /// Stores the answers in `snapshot`, recording each failed source.
    pub fn store(self, snapshot: &mut Snapshot) {
        let node_pools = settle(snapshot, source::NODEPOOLS, self.node_pools);
        let node_classes = settle(snapshot, source::EC2NODECLASSES, self.node_classes);
        let requests: Option<Vec<DeprecatedApiRequest>> = match self.metrics {
            None => None,
            Some(Ok(Some(text))) => match metrics::deprecated_api_requests(&text) {
                Ok(requests) => Some(requests),
                Err(e) => {
                    snapshot.record_error(source::API_METRICS, e);
                    None
                }
            },
            Some(Ok(None)) => {
                snapshot.record_error(source::API_METRICS, "the API server has no /metrics");
                None
            }
            Some(Err(e)) => {
                snapshot.record_error(source::API_METRICS, e.to_string());
                None
            }
        };
        // Not asked for: `None`, so K8S105 says it was off rather than finding nothing.
        let crds = self
            .crds
            .map(|result| settle(snapshot, source::CRDS, result));
        let services = self
            .services
            .map(|result| settle(snapshot, source::SERVICES, result));
        let k = &mut snapshot.kubernetes;
        k.services_with_external_ips = services;
        k.node_pools = node_pools;
        k.ec2_node_classes = node_classes;
        k.deprecated_api_requests = requests;
        k.crds = crds;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> KubeVersion {
        s.parse().unwrap()
    }

    /// Services are listed only when the target reaches 1.36: the one given, else the next
    /// minor of the server's version; never with K8S016 disabled.
    #[test]
    fn services_are_listed_only_towards_136() {
        let reads = Reads::default();
        assert!(
            !reads
                .towards(v("1.35"))
                .for_server(Some(v("1.34")))
                .services
        );
        assert!(
            reads
                .towards(v("1.37"))
                .for_server(Some(v("1.35")))
                .services
        );
        assert!(reads.for_server(Some(v("1.35"))).services, "1.35 + 1");
        assert!(!reads.for_server(Some(v("1.34"))).services);
        assert!(
            !reads.for_server(None).services,
            "no target, no server version"
        );
        let settings = CheckSettings {
            disabled: vec!["K8S016".into()],
            ..Default::default()
        };
        let off = Reads::from(&settings).towards(v("1.36"));
        assert!(!off.for_server(Some(v("1.35"))).services);
    }
}
