//! The AWS side of collection. `DescribeCluster` comes first (it decides everything else);
//! then every independent source is read concurrently; last, the subnets and launch
//! templates that the others named are read in one batched call each.
//!
//! A source that fails (denied, throttled past retries, not available) is recorded with the
//! API and the IAM action to add; the others go on.

pub mod autoscaling;
pub mod ec2;
pub mod eks;
pub mod error;
pub mod quotas;

use std::collections::BTreeSet;

use aws_config::SdkConfig;

pub use eks::EksCluster;

use crate::snapshot::{AwsData, CollectionError, Quota, source};
use crate::version::KubeVersion;

/// One client per AWS service, built from one configuration.
pub struct Clients {
    pub eks: aws_sdk_eks::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub quotas: aws_sdk_servicequotas::Client,
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            eks: aws_sdk_eks::Client::new(sdk),
            ec2: aws_sdk_ec2::Client::new(sdk),
            autoscaling: aws_sdk_autoscaling::Client::new(sdk),
            quotas: aws_sdk_servicequotas::Client::new(sdk),
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

/// Reads everything but the cluster itself (already described) and the network batch.
/// `hops` are the Kubernetes versions whose addon catalogues are needed.
pub async fn collect(
    clients: &Clients,
    cluster: &EksCluster,
    hops: &[KubeVersion],
    errors: &mut Vec<CollectionError>,
) -> AwsData {
    let name = cluster.name.as_str();
    let local = cluster.outpost.is_some();
    let (
        node_groups,
        fargate,
        addons,
        catalogues,
        insights,
        vcpu_quota,
        gp2_quota,
        gp3_quota,
        vcpus,
        storage,
    ) = tokio::join!(
        async {
            if local {
                Ok(Vec::new())
            } else {
                eks::node_groups(&clients.eks, name).await
            }
        },
        async {
            if local {
                Ok(Vec::new())
            } else {
                eks::fargate_profiles(&clients.eks, name).await
            }
        },
        async {
            if local {
                Ok(Vec::new())
            } else {
                eks::addons(&clients.eks, name).await
            }
        },
        async {
            if local {
                return Ok(Vec::new());
            }
            let mut catalogues = Vec::new();
            for hop in hops {
                catalogues.push(eks::addon_versions(&clients.eks, *hop).await?);
            }
            Ok(catalogues)
        },
        async {
            if local {
                Ok(Vec::new())
            } else {
                eks::insights(&clients.eks, name).await
            }
        },
        quotas::quota(&clients.quotas, quotas::EC2_ON_DEMAND_VCPU),
        quotas::quota(&clients.quotas, quotas::EBS_GP2_TIB),
        quotas::quota(&clients.quotas, quotas::EBS_GP3_TIB),
        ec2::on_demand_standard_vcpus(&clients.ec2),
        ec2::general_purpose_storage_tib(&clients.ec2),
    );
    let node_groups = settle(errors, source::NODEGROUPS, node_groups);
    let managed_asgs: Vec<String> = node_groups
        .iter()
        .flat_map(|n| n.auto_scaling_groups.clone())
        .collect();
    let self_managed = settle(
        errors,
        source::SELF_MANAGED,
        autoscaling::self_managed_groups(&clients.autoscaling, name, &managed_asgs).await,
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
        cluster_versions: Vec::new(),
    }
}

/// One batched `DescribeSubnets` for every subnet named anywhere (cluster, node groups,
/// Fargate, self-managed groups, ENIConfigs) and one `DescribeLaunchTemplates` for every
/// template in use.
pub async fn collect_network(
    clients: &Clients,
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
        ec2::subnets(&clients.ec2, &subnet_ids),
        ec2::launch_templates(&clients.ec2, &template_ids)
    );
    data.subnets = settle(errors, source::SUBNETS, subnets);
    data.launch_templates = settle(errors, source::LAUNCH_TEMPLATES, templates);
}
