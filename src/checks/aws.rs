//! AWS checks: free IPs for the data plane and custom networking (AWS001, AWS002) and the
//! quota headroom a node rollout's surge needs (AWS003–AWS005).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::checks::{Check, Context, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::snapshot::{AwsData, Subnet};

fn check(code: &str) -> &'static Check {
    lookup(code).expect("catalogued")
}

/// The known subnets among `ids`, grouped by availability zone.
pub fn by_zone<'a>(aws: &'a AwsData, ids: &BTreeSet<&str>) -> BTreeMap<&'a str, Vec<&'a Subnet>> {
    let mut zones: BTreeMap<&str, Vec<&Subnet>> = BTreeMap::new();
    for s in aws.subnets.iter().filter(|s| ids.contains(s.id.as_str())) {
        zones
            .entry(s.availability_zone.as_str())
            .or_default()
            .push(s);
    }
    zones
}

/// One finding per zone whose subnets together have fewer free IPs than the thresholds.
fn free_ip_findings(
    check: &Check,
    aws: &AwsData,
    ids: &BTreeSet<&str>,
    (required_below, recommended_below): (i64, i64),
    what: &str,
) -> Vec<Finding> {
    by_zone(aws, ids)
        .into_iter()
        .filter_map(|(zone, subnets)| {
            let free: i64 = subnets.iter().map(|s| s.available_ips).sum();
            let level = if free < required_below {
                Remediation::Required
            } else if free < recommended_below {
                Remediation::Recommended
            } else {
                return None;
            };
            let names: Vec<&str> = subnets.iter().map(|s| s.id.as_str()).collect();
            Some(finding(
                check,
                level,
                ("AvailabilityZone", "", zone),
                format!(
                    "{free} free IPs in the {what} subnets of {zone} ({}); below {} a rolling node or pod replacement can run out of addresses",
                    names.join(", "),
                    if level == Remediation::Required { required_below } else { recommended_below }
                ),
                json!({
                    "availability_zone": zone,
                    "available_ips": free,
                    "subnets": subnets.iter().map(|s| json!({"id": s.id, "available_ips": s.available_ips})).collect::<Vec<_>>(),
                }),
            ))
        })
        .collect()
}

/// AWS001: free IPs in the subnets of managed node groups, Fargate profiles and
/// self-managed groups, per availability zone.
pub fn data_plane_ips(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = &ctx.snapshot.aws else {
        return Vec::new();
    };
    let ids: BTreeSet<&str> = aws
        .node_groups
        .iter()
        .flat_map(|n| &n.subnets)
        .chain(aws.fargate_profiles.iter().flat_map(|f| &f.subnets))
        .chain(aws.self_managed_groups.iter().flat_map(|g| &g.subnets))
        .map(String::as_str)
        .collect();
    free_ip_findings(check("AWS001"), aws, &ids, (30, 100), "data-plane")
}

/// AWS002: free IPs for pods in the ENIConfig subnets (VPC CNI custom networking).
pub fn custom_networking_ips(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = &ctx.snapshot.aws else {
        return Vec::new();
    };
    let ids: BTreeSet<&str> = ctx
        .snapshot
        .kubernetes
        .eni_configs
        .iter()
        .filter_map(|e| e.subnet.as_deref())
        .collect();
    free_ip_findings(check("AWS002"), aws, &ids, (16, 256), "ENIConfig (pod)")
}

/// AWS003–AWS005: usage ≥ 90 % of a quota is required, ≥ 80 % recommended.
fn quota_headroom(ctx: &Context, code: &str, quota_code: &str) -> Vec<Finding> {
    let check = check(code);
    let Some(q) = ctx
        .snapshot
        .aws
        .as_ref()
        .and_then(|a| a.quotas.iter().find(|q| q.quota_code == quota_code))
    else {
        return Vec::new();
    };
    let Some(usage) = q.usage else {
        return Vec::new();
    };
    let ratio = if q.limit > 0.0 {
        usage / q.limit
    } else if usage > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    let level = if ratio >= 0.9 {
        Remediation::Required
    } else if ratio >= 0.8 {
        Remediation::Recommended
    } else {
        return Vec::new();
    };
    let percent = (ratio * 1000.0).round() / 10.0;
    vec![finding(
        check,
        level,
        (
            "ServiceQuota",
            "",
            &format!("{}/{}", q.service_code, q.quota_code),
        ),
        format!(
            "{}: {usage:.1} of {:.1} used ({percent}%); request an increase so new nodes and volumes can be created during the upgrade",
            q.name, q.limit
        ),
        json!({"quota": q.name, "usage": usage, "limit": q.limit, "percent": percent, "unit": q.unit}),
    )]
}

pub fn ec2_vcpu_quota(ctx: &Context) -> Vec<Finding> {
    quota_headroom(ctx, "AWS003", "L-1216C47A")
}

pub fn ebs_gp2_quota(ctx: &Context) -> Vec<Finding> {
    quota_headroom(ctx, "AWS004", "L-D18FCD1D")
}

pub fn ebs_gp3_quota(ctx: &Context) -> Vec<Finding> {
    quota_headroom(ctx, "AWS005", "L-7A658B76")
}
