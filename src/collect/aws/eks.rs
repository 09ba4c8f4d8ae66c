//! EKS: the cluster, node groups, Fargate profiles, addons and their versions, insights and
//! the support calendar.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_eks::Client;
use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::{InsightStatusValue, Issue};
use chrono::DateTime;
use futures::{StreamExt, TryStreamExt};

use crate::collect::CollectError;
use crate::error::aws_message as message;
use crate::snapshot::{
    Addon, AddonCatalog, AddonVersion, AutoMode, CertificateAuthority, ClientStat, ClusterUpdate,
    Deprecation, FargateProfile, HealthIssue, Insight, InsightResource, NodeGroup, OutpostConfig,
    RemoteNetwork, TemplateRef, UpdateHistory,
};
use crate::version::{KubeVersion, SupportWindow};

/// Parallel requests for per-item describes (node groups, addons, insights).
const DESCRIBE_CONCURRENCY: usize = 4;

/// What `DescribeCluster` tells eksup about a cluster.
#[derive(Debug, Clone)]
pub struct EksCluster {
    pub name: String,
    pub arn: Option<String>,
    pub region: String,
    pub account_id: Option<String>,
    pub version: KubeVersion,
    pub platform_version: Option<String>,
    pub endpoint: String,
    /// Base64 PEM of the cluster's certificate authority, as EKS returns it.
    pub certificate_authority: String,
    pub subnet_ids: Vec<String>,
    pub health_issues: Vec<HealthIssue>,
    pub support_type: Option<String>,
    pub outpost: Option<OutpostConfig>,
    /// The cluster's AWS tags (the fleet filters on them).
    pub tags: BTreeMap<String, String>,
    pub auto_mode: Option<AutoMode>,
    pub remote_network: Option<RemoteNetwork>,
    /// `ACTIVE`, `UPDATING`, … (EKS105).
    pub status: Option<String>,
}

/// Loads the standard AWS configuration chain with the optional profile and region.
pub async fn load_sdk_config(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<SdkConfig, CollectError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    // Bounded waits: a sick endpoint fails the source instead of hanging the run.
    loader = loader.timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .operation_attempt_timeout(std::time::Duration::from_secs(30))
            .operation_timeout(std::time::Duration::from_secs(90))
            .build(),
    );
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(CollectError::NoRegion);
    }
    Ok(sdk)
}

/// The account id is the fifth field of the ARN; reading it there saves an STS call.
fn account_from_arn(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

fn issues<'a>(
    list: impl IntoIterator<Item = (&'a str, &'a str, &'a [String])>,
) -> Vec<HealthIssue> {
    list.into_iter()
        .map(|(code, message, ids)| HealthIssue {
            code: code.to_string(),
            message: message.to_string(),
            resource_ids: ids.to_vec(),
        })
        .collect()
}

pub async fn describe_cluster(
    client: &Client,
    region: &str,
    name: &str,
) -> Result<EksCluster, CollectError> {
    let out = client
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| {
            let message = match e.code() {
                Some("ResourceNotFoundException") => {
                    format!("cluster `{name}` does not exist in {region}")
                }
                Some("AccessDeniedException") => format!(
                    "access denied: add eks:DescribeCluster on cluster `{name}` to the role ({})",
                    e.message().unwrap_or_default()
                ),
                _ => crate::error::chain(&e),
            };
            CollectError::Aws {
                operation: "eks:DescribeCluster",
                message,
            }
        })?;
    let invalid = |what: &str| CollectError::Aws {
        operation: "eks:DescribeCluster",
        message: format!("cluster `{name}` has no {what}; is it still being created?"),
    };
    let cluster = out.cluster.ok_or_else(|| invalid("description"))?;
    let version = cluster
        .version()
        .ok_or_else(|| invalid("version"))?
        .parse()
        .map_err(|e| CollectError::Aws {
            operation: "eks:DescribeCluster",
            message: format!("{e}"),
        })?;
    let health_issues = cluster
        .health()
        .map(|h| {
            issues(h.issues().iter().map(|i| {
                (
                    i.code().map_or("", |c| c.as_str()),
                    i.message().unwrap_or_default(),
                    i.resource_ids(),
                )
            }))
        })
        .unwrap_or_default();
    let outpost = cluster.outpost_config().map(|o| OutpostConfig {
        outpost_arns: o.outpost_arns().to_vec(),
        control_plane_instance_type: o.control_plane_instance_type().to_string(),
        control_plane_placement_group: o
            .control_plane_placement()
            .and_then(|p| p.group_name())
            .map(str::to_string),
    });
    // A computeConfig with `enabled: false` is a cluster that turned Auto Mode off.
    let auto_mode = cluster
        .compute_config()
        .filter(|c| c.enabled() == Some(true))
        .map(|c| AutoMode {
            node_pools: c.node_pools().to_vec(),
        });
    let remote_network = cluster.remote_network_config().map(|r| RemoteNetwork {
        node_cidrs: r
            .remote_node_networks()
            .iter()
            .flat_map(|n| n.cidrs().iter().cloned())
            .collect(),
        pod_cidrs: r
            .remote_pod_networks()
            .iter()
            .flat_map(|n| n.cidrs().iter().cloned())
            .collect(),
    });
    Ok(EksCluster {
        status: cluster.status().map(|s| s.as_str().to_string()),
        auto_mode,
        remote_network,
        name: cluster.name().unwrap_or(name).to_string(),
        account_id: cluster.arn().and_then(account_from_arn),
        arn: cluster.arn().map(str::to_string),
        region: region.to_string(),
        version,
        platform_version: cluster.platform_version().map(str::to_string),
        endpoint: cluster
            .endpoint()
            .ok_or_else(|| invalid("endpoint"))?
            .to_string(),
        certificate_authority: cluster
            .certificate_authority()
            .and_then(|c| c.data())
            .ok_or_else(|| invalid("certificate authority"))?
            .to_string(),
        subnet_ids: cluster
            .resources_vpc_config()
            .map(|v| v.subnet_ids().to_vec())
            .unwrap_or_default(),
        health_issues,
        support_type: cluster
            .upgrade_policy()
            .and_then(|u| u.support_type())
            .map(|s| s.as_str().to_string()),
        outpost,
        tags: cluster
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

/// Runs `describe` for every item, a few at a time, and returns the results sorted by
/// `key`; the first failure fails the source.
async fn describe_each<I, T, F, Fut>(
    items: Vec<I>,
    describe: F,
    key: fn(&T) -> &str,
) -> Result<Vec<T>, String>
where
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut out: Vec<T> = futures::stream::iter(items)
        .map(describe)
        .buffer_unordered(DESCRIBE_CONCURRENCY)
        .try_collect()
        .await?;
    out.sort_by(|a, b| key(a).cmp(key(b)));
    Ok(out)
}

fn nodegroup_issue(i: &Issue) -> (&str, &str, &[String]) {
    (
        i.code().map_or("", |c| c.as_str()),
        i.message().unwrap_or_default(),
        i.resource_ids(),
    )
}

pub async fn node_groups(client: &Client, cluster: &str) -> Result<Vec<NodeGroup>, String> {
    let names: Vec<String> = client
        .list_nodegroups()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("ListNodegroups", "eks:ListNodegroups", &e))?;
    describe_each(
        names,
        |name| async move {
            let out = client
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(&name)
                .send()
                .await
                .map_err(|e| message("DescribeNodegroup", "eks:DescribeNodegroup", &e))?;
            let ng = out
                .nodegroup
                .ok_or("DescribeNodegroup: the answer has no node group")?;
            Ok(NodeGroup {
                status: ng
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                version: ng.version().map(str::to_string),
                release_version: ng.release_version().map(str::to_string),
                ami_type: ng.ami_type().map(|a| a.as_str().to_string()),
                capacity_type: ng.capacity_type().map(|c| c.as_str().to_string()),
                subnets: ng.subnets().to_vec(),
                launch_template: ng.launch_template().map(|t| TemplateRef {
                    id: t.id().map(str::to_string),
                    name: t.name().map(str::to_string),
                    version: t.version().map(str::to_string),
                }),
                auto_scaling_groups: ng
                    .resources()
                    .map(|r| {
                        r.auto_scaling_groups()
                            .iter()
                            .filter_map(|a| a.name().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                desired_size: ng.scaling_config().and_then(|s| s.desired_size()),
                health_issues: ng
                    .health()
                    .map(|h| issues(h.issues().iter().map(nodegroup_issue)))
                    .unwrap_or_default(),
                name,
            })
        },
        |x| &x.name,
    )
    .await
}

pub async fn fargate_profiles(
    client: &Client,
    cluster: &str,
) -> Result<Vec<FargateProfile>, String> {
    let names: Vec<String> = client
        .list_fargate_profiles()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("ListFargateProfiles", "eks:ListFargateProfiles", &e))?;
    describe_each(
        names,
        |name| async move {
            let out = client
                .describe_fargate_profile()
                .cluster_name(cluster)
                .fargate_profile_name(&name)
                .send()
                .await
                .map_err(|e| message("DescribeFargateProfile", "eks:DescribeFargateProfile", &e))?;
            let p = out
                .fargate_profile
                .ok_or("DescribeFargateProfile: the answer has no profile")?;
            Ok(FargateProfile {
                subnets: p.subnets().to_vec(),
                namespaces: p
                    .selectors()
                    .iter()
                    .filter_map(|s| s.namespace().map(str::to_string))
                    .collect(),
                name,
            })
        },
        |x| &x.name,
    )
    .await
}

pub async fn addons(client: &Client, cluster: &str) -> Result<Vec<Addon>, String> {
    let names: Vec<String> = client
        .list_addons()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("ListAddons", "eks:ListAddons", &e))?;
    describe_each(
        names,
        |name| async move {
            let out = client
                .describe_addon()
                .cluster_name(cluster)
                .addon_name(&name)
                .send()
                .await
                .map_err(|e| message("DescribeAddon", "eks:DescribeAddon", &e))?;
            let a = out.addon.ok_or("DescribeAddon: the answer has no addon")?;
            Ok(Addon {
                version: a.addon_version().unwrap_or_default().to_string(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                health_issues: a
                    .health()
                    .map(|h| {
                        issues(h.issues().iter().map(|i| {
                            (
                                i.code().map_or("", |c| c.as_str()),
                                i.message().unwrap_or_default(),
                                i.resource_ids(),
                            )
                        }))
                    })
                    .unwrap_or_default(),
                name,
            })
        },
        |x| &x.name,
    )
    .await
}

/// One paginated `DescribeAddonVersions` for a Kubernetes version, covering every addon.
pub async fn addon_versions(client: &Client, version: KubeVersion) -> Result<AddonCatalog, String> {
    let infos: Vec<_> = client
        .describe_addon_versions()
        .kubernetes_version(version.to_string())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeAddonVersions", "eks:DescribeAddonVersions", &e))?;
    let mut addons = BTreeMap::new();
    for info in infos {
        let Some(name) = info.addon_name() else {
            continue;
        };
        let versions = info
            .addon_versions()
            .iter()
            .filter_map(|v| {
                Some(AddonVersion {
                    version: v.addon_version()?.to_string(),
                    default: v.compatibilities().iter().any(|c| {
                        c.default_version()
                            && c.cluster_version()
                                .is_none_or(|cv| cv == version.to_string())
                    }),
                })
            })
            .collect();
        addons.insert(name.to_string(), versions);
    }
    Ok(AddonCatalog {
        kubernetes_version: version,
        addons,
    })
}

/// Insights, with `DescribeInsight` only for the ones that are not passing: the
/// recommendation is all it adds, and passing insights need none.
pub async fn insights(client: &Client, cluster: &str) -> Result<Vec<Insight>, String> {
    let summaries: Vec<_> = client
        .list_insights()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("ListInsights", "eks:ListInsights", &e))?;
    describe_each(
        summaries,
        |s| async move {
            let status = s.insight_status();
            let mut insight = Insight {
                id: s.id().unwrap_or_default().to_string(),
                name: s.name().unwrap_or_default().to_string(),
                category: s
                    .category()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                kubernetes_version: s.kubernetes_version().map(str::to_string),
                status: status
                    .and_then(|st| st.status())
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_else(|| "UNKNOWN".into()),
                reason: status.and_then(|st| st.reason()).map(str::to_string),
                description: s.description().map(str::to_string),
                recommendation: None,
                deprecations: Vec::new(),
                last_refresh: timestamp(s.last_refresh_time()),
                resources: Vec::new(),
            };
            let passing = status.and_then(|st| st.status()) == Some(&InsightStatusValue::Passing);
            if !passing {
                let out = client
                    .describe_insight()
                    .cluster_name(cluster)
                    .id(&insight.id)
                    .send()
                    .await
                    .map_err(|e| message("DescribeInsight", "eks:DescribeInsight", &e))?;
                if let Some(full) = out.insight {
                    insight.recommendation = full.recommendation().map(str::to_string);
                    insight.resources = full.resources().iter().map(insight_resource).collect();
                    insight.deprecations = full
                        .category_specific_summary()
                        .map(|c| c.deprecation_details().iter().map(deprecation).collect())
                        .unwrap_or_default();
                }
            }
            Ok(insight)
        },
        |x| &x.name,
    )
    .await
}

fn insight_resource(r: &aws_sdk_eks::types::InsightResourceDetail) -> InsightResource {
    let status = r.insight_status();
    InsightResource {
        kubernetes_resource_uri: r.kubernetes_resource_uri().map(str::to_string),
        arn: r.arn().map(str::to_string),
        status: status
            .and_then(|s| s.status())
            .map(|v| v.as_str().to_string()),
        reason: status.and_then(|s| s.reason()).map(str::to_string),
    }
}

/// The most update ids eksup describes per cluster. `ListUpdates` documents no order (ids
/// come back in no time order, containers-roadmap#1439), so "the newest" can only be told
/// after describing: eksup reads pages of 100 until it has this many ids and describes
/// them all. A cluster with a longer history is read as far as that and marked truncated.
const MAX_UPDATES: usize = 100;

/// The cluster's own updates (not its node groups' or addons'), described: what is in
/// progress (EKS105) and the latest version update (the rollback window).
pub async fn updates(client: &Client, cluster: &str) -> Result<UpdateHistory, String> {
    let mut ids: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    let truncated = loop {
        let page = client
            .list_updates()
            .name(cluster)
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| message("ListUpdates", "eks:ListUpdates", &e))?;
        ids.extend(page.update_ids().iter().cloned());
        token = page.next_token().map(str::to_string);
        match token {
            None => break false,
            Some(_) if ids.len() >= MAX_UPDATES => break true,
            Some(_) => {}
        }
    };
    ids.truncate(MAX_UPDATES);
    let mut updates = describe_each(
        ids,
        |id| async move {
            let out = client
                .describe_update()
                .name(cluster)
                .update_id(&id)
                .send()
                .await
                .map_err(|e| message("DescribeUpdate", "eks:DescribeUpdate", &e))?;
            let u = out
                .update
                .ok_or("DescribeUpdate: the answer has no update")?;
            Ok(ClusterUpdate {
                update_type: u
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                status: u
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                created_at: timestamp(u.created_at()),
                version: u
                    .params()
                    .iter()
                    .find(|p| p.r#type().is_some_and(|t| t.as_str() == "Version"))
                    .and_then(|p| p.value())
                    .map(str::to_string),
                id,
            })
        },
        |u| &u.id,
    )
    .await?;
    // Newest first: the order a reader of the snapshot expects.
    updates.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(UpdateHistory { updates, truncated })
}

fn timestamp(d: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<chrono::Utc>> {
    d.and_then(|d| DateTime::from_timestamp(d.secs(), 0))
}

fn deprecation(d: &aws_sdk_eks::types::DeprecationDetail) -> Deprecation {
    Deprecation {
        usage: d.usage().unwrap_or_default().to_string(),
        replaced_with: d.replaced_with().map(str::to_string),
        stop_serving_version: d.stop_serving_version().map(str::to_string),
        clients: d
            .client_stats()
            .iter()
            .map(|c| ClientStat {
                user_agent: c.user_agent().unwrap_or_default().to_string(),
                requests_last_30_days: c.number_of_requests_last30_days().into(),
                last_request: timestamp(c.last_request_time()),
            })
            .collect(),
    }
}

/// The cluster's certificate authorities. The list says which CA signs and which are not
/// signing; the validity and the auto-activation schedule need `DescribeCertificateAuthority`,
/// called only when a CA other than the signing one exists (a cluster outside a rotation
/// costs one call).
pub async fn certificate_authorities(
    client: &Client,
    cluster: &str,
) -> Result<Vec<CertificateAuthority>, String> {
    let summaries: Vec<_> = client
        .list_certificate_authorities()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            message(
                "ListCertificateAuthorities",
                "eks:ListCertificateAuthorities",
                &e,
            )
        })?;
    let listed: Vec<CertificateAuthority> = summaries
        .iter()
        .map(|s| CertificateAuthority {
            id: s.id().unwrap_or_default().to_string(),
            signing_status: s
                .signing_status()
                .map(|v| v.as_str().to_string())
                .unwrap_or_default(),
            distribution_status: s.distribution_status().map(|v| v.as_str().to_string()),
            created_by: s.created_by().map(|v| v.as_str().to_string()),
            created_at: timestamp(s.created_at()),
            activated_at: timestamp(s.activated_at()),
            ..CertificateAuthority::default()
        })
        .collect();
    if listed.iter().all(|c| c.signing_status == "IN_USE") {
        return Ok(listed);
    }
    describe_each(
        listed,
        |mut ca| async move {
            let out = client
                .describe_certificate_authority()
                .cluster_name(cluster)
                .certificate_authority_id(&ca.id)
                .send()
                .await
                .map_err(|e| {
                    message(
                        "DescribeCertificateAuthority",
                        "eks:DescribeCertificateAuthority",
                        &e,
                    )
                })?;
            let full = out
                .certificate_authority
                .ok_or("DescribeCertificateAuthority: the answer has no certificate authority")?;
            if let Some(v) = full.signing_status() {
                ca.signing_status = v.as_str().to_string();
            }
            if let Some(v) = full.distribution_status() {
                ca.distribution_status = Some(v.as_str().to_string());
            }
            ca.not_before = timestamp(full.validity().and_then(|v| v.not_before()));
            ca.not_after = timestamp(full.validity().and_then(|v| v.not_after()));
            let events = full.scheduled_events();
            ca.first_auto_activation = timestamp(events.and_then(|e| e.first_auto_activation()));
            ca.final_auto_activation = timestamp(events.and_then(|e| e.final_auto_activation()));
            Ok(ca)
        },
        |x| &x.id,
    )
    .await
}

fn date(d: Option<&aws_smithy_types::DateTime>) -> Option<chrono::NaiveDate> {
    let d = d?;
    DateTime::from_timestamp(d.secs(), 0).map(|t| t.date_naive())
}

/// The support calendar as EKS publishes it (`DescribeClusterVersions`, all versions).
pub async fn cluster_versions(client: &Client) -> Result<Vec<SupportWindow>, String> {
    let versions: Vec<_> = client
        .describe_cluster_versions()
        .include_all(true)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeClusterVersions", "eks:DescribeClusterVersions", &e))?;
    let mut windows: Vec<SupportWindow> = versions
        .iter()
        .filter_map(|v| {
            let version: KubeVersion = v.cluster_version()?.parse().ok()?;
            let release = date(v.release_date())?;
            Some(
                match (
                    date(v.end_of_standard_support_date()),
                    date(v.end_of_extended_support_date()),
                ) {
                    (Some(std), Some(ext)) => SupportWindow {
                        version,
                        release,
                        end_of_standard_support: std,
                        end_of_extended_support: ext,
                    },
                    _ => SupportWindow::from_release(version, release),
                },
            )
        })
        .collect();
    windows.sort_by_key(|w| w.version);
    windows.dedup_by_key(|w| w.version);
    Ok(windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_the_arn() {
        assert_eq!(
            account_from_arn("arn:aws:eks:us-east-1:012345678901:cluster/prod").as_deref(),
            Some("012345678901")
        );
        assert_eq!(account_from_arn("nonsense"), None);
    }
}
