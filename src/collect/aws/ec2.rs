//! EC2: subnets (free IPs), launch templates (default and latest versions), and the usage
//! behind the vCPU and EBS quotas.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, InstanceLifecycleType, VolumeType};

use crate::error::aws_message as message;
use crate::snapshot::{LaunchTemplate, Subnet};

/// EC2 accepts at most 200 values per filter.
const FILTER_VALUES: usize = 200;

/// One `DescribeSubnets` (per 200 ids) for every distinct subnet. A filter rather than
/// `SubnetIds`, so a subnet deleted meanwhile is simply absent instead of failing the batch.
pub async fn subnets(client: &Client, ids: &[String]) -> Result<Vec<Subnet>, String> {
    let mut out = Vec::new();
    for chunk in ids.chunks(FILTER_VALUES) {
        let found: Vec<_> = client
            .describe_subnets()
            .filters(
                Filter::builder()
                    .name("subnet-id")
                    .set_values(Some(chunk.to_vec()))
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| message("DescribeSubnets", "ec2:DescribeSubnets", &e))?;
        out.extend(found.into_iter().map(|s| Subnet {
            id: s.subnet_id().unwrap_or_default().to_string(),
            availability_zone: s.availability_zone().unwrap_or_default().to_string(),
            available_ips: i64::from(s.available_ip_address_count().unwrap_or(0)),
            outpost_arn: s.outpost_arn().map(str::to_string),
        }));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// One `DescribeLaunchTemplates` for every distinct template id: its default and latest
/// version numbers are all the drift checks need.
pub async fn launch_templates(
    client: &Client,
    ids: &[String],
) -> Result<Vec<LaunchTemplate>, String> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<_> = client
        .describe_launch_templates()
        .set_launch_template_ids(Some(ids.to_vec()))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeLaunchTemplates", "ec2:DescribeLaunchTemplates", &e))?;
    Ok(found
        .into_iter()
        .map(|t| LaunchTemplate {
            id: t.launch_template_id().unwrap_or_default().to_string(),
            name: t.launch_template_name().unwrap_or_default().to_string(),
            default_version: t.default_version_number().unwrap_or(0),
            latest_version: t.latest_version_number().unwrap_or(0),
        })
        .collect())
}

/// Instance families that count against the "Running On-Demand Standard instances" quota.
const STANDARD_FAMILIES: [char; 9] = ['a', 'c', 'd', 'h', 'i', 'm', 'r', 't', 'z'];

/// vCPUs of running On-Demand standard instances in the region (what quota L-1216C47A limits).
pub async fn on_demand_standard_vcpus(client: &Client) -> Result<f64, String> {
    let reservations: Vec<_> = client
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeInstances", "ec2:DescribeInstances", &e))?;
    let mut vcpus = 0i64;
    for instance in reservations.iter().flat_map(|r| r.instances()) {
        let spot = instance.instance_lifecycle() == Some(&InstanceLifecycleType::Spot);
        let family = instance
            .instance_type()
            .and_then(|t| t.as_str().chars().next())
            .unwrap_or('?');
        if spot || !STANDARD_FAMILIES.contains(&family) {
            continue;
        }
        let cpu = instance.cpu_options();
        let cores = cpu.and_then(|c| c.core_count()).unwrap_or(1);
        let threads = cpu.and_then(|c| c.threads_per_core()).unwrap_or(1);
        vcpus += i64::from(cores) * i64::from(threads);
    }
    Ok(vcpus as f64)
}

/// Provisioned gp2 and gp3 storage in the region, in TiB (what L-D18FCD1D and L-7A658B76 limit).
pub async fn general_purpose_storage_tib(client: &Client) -> Result<(f64, f64), String> {
    let volumes: Vec<_> = client
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("volume-type")
                .values("gp2")
                .values("gp3")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| message("DescribeVolumes", "ec2:DescribeVolumes", &e))?;
    let (mut gp2, mut gp3) = (0i64, 0i64);
    for v in &volumes {
        let size = i64::from(v.size().unwrap_or(0));
        match v.volume_type() {
            Some(VolumeType::Gp2) => gp2 += size,
            Some(VolumeType::Gp3) => gp3 += size,
            _ => {}
        }
    }
    Ok((gp2 as f64 / 1024.0, gp3 as f64 / 1024.0))
}
