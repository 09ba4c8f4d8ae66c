//! Auto Scaling: the cluster's self-managed node groups.

use aws_sdk_autoscaling::Client;
use aws_sdk_autoscaling::types::Filter;

use crate::error::aws_message as message;
use crate::snapshot::{AutoScalingGroup, TemplateRef};

/// Auto Scaling groups tagged `kubernetes.io/cluster/<name>` or `k8s.io/cluster/<name>`,
/// without the ones that back managed node groups (tagged `eks:nodegroup-name`, or named in
/// `managed`). Launch configurations and mixed-instances policies are read, not rejected.
pub async fn self_managed_groups(
    client: &Client,
    cluster: &str,
    managed: &[String],
) -> Result<Vec<AutoScalingGroup>, String> {
    let groups: Vec<_> = client
        .describe_auto_scaling_groups()
        .filters(
            Filter::builder()
                .name("tag-key")
                .values(format!("kubernetes.io/cluster/{cluster}"))
                .values(format!("k8s.io/cluster/{cluster}"))
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            message(
                "DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingGroups",
                &e,
            )
        })?;
    let mut out: Vec<AutoScalingGroup> = groups
        .into_iter()
        .filter(|g| {
            let name = g.auto_scaling_group_name().unwrap_or_default();
            !managed.iter().any(|m| m == name)
                && !g
                    .tags()
                    .iter()
                    .any(|t| t.key() == Some("eks:nodegroup-name"))
        })
        .map(|g| {
            let mixed = g
                .mixed_instances_policy()
                .and_then(|m| m.launch_template())
                .and_then(|t| t.launch_template_specification());
            let spec = g.launch_template().or(mixed);
            AutoScalingGroup {
                name: g.auto_scaling_group_name().unwrap_or_default().to_string(),
                subnets: g
                    .vpc_zone_identifier()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                launch_template: spec.map(|t| TemplateRef {
                    id: t.launch_template_id().map(str::to_string),
                    name: t.launch_template_name().map(str::to_string),
                    version: t.version().map(str::to_string),
                }),
                launch_configuration: g.launch_configuration_name().map(str::to_string),
                mixed_instances: g.launch_template().is_none() && mixed.is_some(),
                desired_capacity: g.desired_capacity(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
