//! The AWS side of collection. `DescribeCluster` comes first (it decides everything else);
//! then every independent source is read concurrently; last, the subnets and launch
//! templates that the others named are read in one batched call each.
//!
//! A source that fails (denied, throttled past retries, not available) is recorded with the
//! API and the IAM action to add; the others go on.

pub mod autoscaling;
pub mod ec2;
pub mod eks;
pub mod quotas;
pub mod shared;

use std::collections::BTreeSet;

use aws_config::SdkConfig;

pub use eks::EksCluster;
pub use shared::Shared;

use super::deadline::Deadline;
use crate::snapshot::{AwsData, CollectionError, Quota, source};
use crate::version::KubeVersion;

/// AWS access for one account and region: its configuration (credentials, region,
/// endpoint), one client per service, and the sources its clusters share.
pub struct AwsScope {
    pub sdk: SdkConfig,
    pub region: String,
    pub clients: Clients,
    pub shared: Shared,
}

impl AwsScope {
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            region: sdk.region().map(ToString::to_string).unwrap_or_default(),
            clients: Clients::new(&sdk),
            shared: Shared::default(),
            sdk,
        }
    }
}

/// One client per AWS service, built from one configuration.
pub struct Clients {
    pub eks: aws_sdk_eks::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub quotas: aws_sdk_servicequotas::Client,
}

/// Counts every AWS attempt in [`crate::collect::REQUESTS`].
#[derive(Debug)]
pub struct CountCalls;

impl aws_smithy_runtime_api::client::interceptors::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "eksup-count-calls"
    }

    fn read_before_transmit(
        &self,
        _: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        crate::collect::REQUESTS
            .aws
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// A client of one service from `sdk`, its calls counted.
#[macro_export]
macro_rules! counted_client {
    ($service:ident, $sdk:expr) => {
        $service::Client::from_conf(
            $service::config::Builder::from($sdk)
                .interceptor($crate::collect::aws::CountCalls)
                .build(),
        )
    };
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            eks: counted_client!(aws_sdk_eks, sdk),
            ec2: counted_client!(aws_sdk_ec2, sdk),
            autoscaling: counted_client!(aws_sdk_autoscaling, sdk),
            quotas: counted_client!(aws_sdk_servicequotas, sdk),
        }
    }
}

/// Keeps the value of a source, or records why it failed.
fn settle<T: Default>(
    errors: &mut Vec<CollectionError>,
    source: &str,
    result: Result<T, String>,
) -> T {
    result.unwrap_or_else(|message| {
        errors.push(CollectionError {
            source: source.to_string(),
            message,
        });
        T::default()
    })
}

/// A quota with its usage; a failure of either is the quota's failure, so its check is
/// skipped rather than evaluated against a guess.
fn quota_with_usage(
    errors: &mut Vec<CollectionError>,
    source: &str,
    quota: Result<Quota, String>,
    usage: Result<f64, String>,
) -> Option<Quota> {
    match (quota, usage) {
        (Ok(mut q), Ok(u)) => {
            q.usage = Some(u);
            Some(q)
        }
        (Err(message), _) | (_, Err(message)) => {
            errors.push(CollectionError {
                source: source.to_string(),
                message,
            });
            None
        }
    }
}

/// Reads everything but the cluster itself (already described) and the network batch,
/// each source under the cluster's deadline. `hops` are the Kubernetes versions whose
/// addon catalogues are needed; they and the quotas come from the scope's shared reads.
pub async fn collect(
    scope: &AwsScope,
    cluster: &EksCluster,
    hops: &[KubeVersion],
    deadline: Deadline,
    errors: &mut Vec<CollectionError>,
) -> AwsData {
    let clients = &scope.clients;
    let name = cluster.name.as_str();
    let local = cluster.outpost.is_some();
    // A local Outposts cluster has no node groups, Fargate, addons or insights to read.
    let (node_groups, fargate, addons, catalogues, insights, updates, readings, cas) = tokio::join!(
        deadline.within(async {
            if local {
                Ok(Vec::new())
            } else {
                eks::node_groups(&clients.eks, name).await
            }
        }),
        deadline.within(async {
            if local {
                Ok(Vec::new())
            } else {
                eks::fargate_profiles(&clients.eks, name).await
            }
        }),
        deadline.within(async {
            if local {
                Ok(Vec::new())
            } else {
                eks::addons(&clients.eks, name).await
            }
        }),
        deadline.within(async {
            if local {
                return Ok(Vec::new());
            }
            let mut catalogues = Vec::new();
            for hop in hops {
                catalogues.push(scope.shared.addon_versions(clients, *hop).await?);
            }
            Ok(catalogues)
        }),
        deadline.within(async {
            if local {
                Ok(Vec::new())
            } else {
                eks::insights(&clients.eks, name).await
            }
        }),
        deadline.within(async { eks::updates(&clients.eks, name).await.map(Some) }),
        deadline.within(async { Ok(scope.shared.quotas(clients).await) }),
        deadline.within(eks::certificate_authorities(&clients.eks, name)),
    );
    let (vcpu_quota, gp2_quota, gp3_quota, vcpus, storage) = match readings {
        Ok(r) => (r.vcpu_quota, r.gp2_quota, r.gp3_quota, r.vcpus, r.storage),
        Err(late) => (
            Err(late.clone()),
            Err(late.clone()),
            Err(late.clone()),
            Err(late.clone()),
            Err(late),
        ),
    };
    let node_groups = settle(errors, source::NODEGROUPS, node_groups);
    let managed_asgs: Vec<String> = node_groups
        .iter()
        .flat_map(|n| n.auto_scaling_groups.clone())
        .collect();
    let self_managed = settle(
        errors,
        source::SELF_MANAGED,
        deadline
            .within(autoscaling::self_managed_groups(
                &clients.autoscaling,
                name,
                &managed_asgs,
            ))
            .await,
    );
    let (gp2, gp3) = match storage {
        Ok((a, b)) => (Ok(a), Ok(b)),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    let quotas = [
        quota_with_usage(errors, source::QUOTA_EC2_VCPU, vcpu_quota, vcpus),
        quota_with_usage(errors, source::QUOTA_EBS_GP2, gp2_quota, gp2),
        quota_with_usage(errors, source::QUOTA_EBS_GP3, gp3_quota, gp3),
    ]
    .into_iter()
    .flatten()
    .collect();
    AwsData {
        cluster_subnet_ids: cluster.subnet_ids.clone(),
        health_issues: cluster.health_issues.clone(),
        support_type: cluster.support_type.clone(),
        outpost: cluster.outpost.clone(),
        node_groups,
        fargate_profiles: settle(errors, source::FARGATE, fargate),
        self_managed_groups: self_managed,
        addons: settle(errors, source::ADDONS, addons),
        addon_versions: settle(errors, source::ADDON_VERSIONS, catalogues),
        insights: settle(errors, source::INSIGHTS, insights),
        quotas,
        subnets: Vec::new(),
        launch_templates: Vec::new(),
        deleted_launch_templates: Vec::new(),
        cluster_versions: Vec::new(),
        auto_mode: cluster.auto_mode.clone(),
        remote_network: cluster.remote_network.clone(),
        // `None` when the read failed: EKS106 is then skipped, never clean.
        certificate_authorities: settle(errors, source::CERTIFICATE_AUTHORITIES, cas.map(Some)),
        cluster_status: cluster.status.clone(),
        updates: settle(errors, source::UPDATES, updates),
    }
}

/// One batched `DescribeSubnets` for every subnet named anywhere (cluster, node groups,
/// Fargate, self-managed groups, ENIConfigs) and one `DescribeLaunchTemplates` for every
/// template in use.
pub async fn collect_network(
    clients: &Clients,
    deadline: Deadline,
    data: &mut AwsData,
    eni_subnets: &[String],
    errors: &mut Vec<CollectionError>,
) {
    let subnet_ids: BTreeSet<String> = data
        .cluster_subnet_ids
        .iter()
        .chain(data.node_groups.iter().flat_map(|n| &n.subnets))
        .chain(data.fargate_profiles.iter().flat_map(|f| &f.subnets))
        .chain(data.self_managed_groups.iter().flat_map(|g| &g.subnets))
        .chain(eni_subnets)
        .cloned()
        .collect();
    let template_ids: BTreeSet<String> = data
        .node_groups
        .iter()
        .filter_map(|n| n.launch_template.as_ref()?.id.clone())
        .chain(
            data.self_managed_groups
                .iter()
                .filter_map(|g| g.launch_template.as_ref()?.id.clone()),
        )
        .collect();
    let subnet_ids: Vec<String> = subnet_ids.into_iter().collect();
    let template_ids: Vec<String> = template_ids.into_iter().collect();
    let (subnets, templates) = tokio::join!(
        deadline.within(ec2::subnets(&clients.ec2, &subnet_ids)),
        deadline.within(ec2::launch_templates(&clients.ec2, &template_ids))
    );
    data.subnets = settle(errors, source::SUBNETS, subnets);
    let templates = settle(errors, source::LAUNCH_TEMPLATES, templates);
    data.launch_templates = templates.found;
    data.deleted_launch_templates = templates.deleted;
}
