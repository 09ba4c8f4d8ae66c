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

#[cfg(test)]
mod tests {
    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot};
    use crate::finding::Remediation::{self, Recommended, Required};
    use crate::snapshot::{
        AutoScalingGroup, AwsData, EniConfig, FargateProfile, NodeGroup, Quota, Snapshot, Subnet,
    };

    fn subnet(id: &str, zone: &str, free: i64) -> Subnet {
        Subnet {
            id: id.into(),
            availability_zone: zone.into(),
            available_ips: free,
            outpost_arn: None,
        }
    }

    /// A node group on `node_subnets`, among `subnets`.
    fn data_plane(subnets: Vec<Subnet>, node_subnets: &[&str]) -> Snapshot {
        let mut s = snapshot("1.34");
        s.aws = Some(AwsData {
            subnets,
            node_groups: vec![NodeGroup {
                name: "general".into(),
                subnets: node_subnets.iter().map(|&n| n.into()).collect(),
                ..Default::default()
            }],
            ..Default::default()
        });
        s
    }

    /// (zone, level, available_ips) of each finding of `code`.
    fn levels(s: &Snapshot, code: &str) -> Vec<(String, Remediation, i64)> {
        let eval = run(s, "1.35");
        codes_for(&eval.findings, code)
            .into_iter()
            .map(|f| {
                assert_eq!(f.resource_kind, "AvailabilityZone");
                let ips = f.details["available_ips"].as_i64().unwrap();
                (f.resource_name.clone(), f.remediation, ips)
            })
            .collect()
    }

    #[test]
    fn aws001_levels_by_free_ips_per_zone_at_the_edges() {
        // Below 30: required; 30 to 99: recommended; 100 and more: nothing.
        let s = data_plane(
            vec![
                subnet("subnet-a", "us-east-1a", 29),
                subnet("subnet-b", "us-east-1b", 30),
                subnet("subnet-c", "us-east-1c", 99),
                subnet("subnet-d", "us-east-1d", 100),
            ],
            &["subnet-a", "subnet-b", "subnet-c", "subnet-d"],
        );
        assert_eq!(
            levels(&s, "AWS001"),
            [
                ("us-east-1a".to_string(), Required, 29),
                ("us-east-1b".to_string(), Recommended, 30),
                ("us-east-1c".to_string(), Recommended, 99),
            ]
        );
    }

    #[test]
    fn aws001_sums_a_zones_subnets_and_counts_only_data_plane_subnets() {
        let mut s = data_plane(
            vec![
                subnet("subnet-a1", "us-east-1a", 20),
                subnet("subnet-a2", "us-east-1a", 15),
                // Fargate and self-managed groups count; 80 + 25 = 105 is enough.
                subnet("subnet-b1", "us-east-1b", 80),
                subnet("subnet-b2", "us-east-1b", 25),
                // Nothing runs here: its empty subnet is not the data plane's.
                subnet("subnet-idle", "us-east-1c", 0),
            ],
            &["subnet-a1", "subnet-a2", "subnet-unknown"],
        );
        let aws = s.aws.as_mut().unwrap();
        aws.fargate_profiles = vec![FargateProfile {
            subnets: vec!["subnet-b1".into()],
            ..Default::default()
        }];
        aws.self_managed_groups = vec![AutoScalingGroup {
            subnets: vec!["subnet-b2".into()],
            ..Default::default()
        }];
        assert_eq!(
            levels(&s, "AWS001"),
            [("us-east-1a".to_string(), Recommended, 35)]
        );
        let eval = run(&s, "1.35");
        let f = codes_for(&eval.findings, "AWS001")[0];
        assert_eq!(
            f.message,
            "35 free IPs in the data-plane subnets of us-east-1a (subnet-a1, subnet-a2); below 100 a rolling node or pod replacement can run out of addresses"
        );
        assert_eq!(
            f.details["subnets"],
            serde_json::json!([
                {"id": "subnet-a1", "available_ips": 20},
                {"id": "subnet-a2", "available_ips": 15},
            ])
        );
    }

    #[test]
    fn aws001_required_message_names_the_lower_threshold() {
        let s = data_plane(vec![subnet("subnet-a", "us-east-1a", 0)], &["subnet-a"]);
        let eval = run(&s, "1.35");
        assert_eq!(
            codes_for(&eval.findings, "AWS001")[0].message,
            "0 free IPs in the data-plane subnets of us-east-1a (subnet-a); below 30 a rolling node or pod replacement can run out of addresses"
        );
    }

    fn eni_configs(free: &[(&str, i64)]) -> Snapshot {
        let mut s = snapshot("1.34");
        s.kubernetes.eni_configs = free
            .iter()
            .map(|(zone, _)| EniConfig {
                name: zone.to_string(),
                subnet: Some(format!("subnet-{zone}")),
            })
            .collect();
        // One ENIConfig without a subnet: nothing to measure.
        s.kubernetes.eni_configs.push(EniConfig {
            name: "no-subnet".into(),
            subnet: None,
        });
        s.aws = Some(AwsData {
            subnets: free
                .iter()
                .map(|(zone, ips)| subnet(&format!("subnet-{zone}"), zone, *ips))
                .chain([subnet("subnet-nodes", "us-east-1z", 0)])
                .collect(),
            ..Default::default()
        });
        s
    }

    #[test]
    fn aws002_levels_by_free_pod_ips_at_the_edges() {
        // Below 16: required; 16 to 255: recommended; 256 and more: nothing. The subnet no
        // ENIConfig names is not counted.
        let s = eni_configs(&[
            ("us-east-1a", 15),
            ("us-east-1b", 16),
            ("us-east-1c", 255),
            ("us-east-1d", 256),
        ]);
        assert_eq!(
            levels(&s, "AWS002"),
            [
                ("us-east-1a".to_string(), Required, 15),
                ("us-east-1b".to_string(), Recommended, 16),
                ("us-east-1c".to_string(), Recommended, 255),
            ]
        );
        let eval = run(&s, "1.35");
        assert_eq!(
            codes_for(&eval.findings, "AWS002")[0].message,
            "15 free IPs in the ENIConfig (pod) subnets of us-east-1a (subnet-us-east-1a); below 16 a rolling node or pod replacement can run out of addresses"
        );
        assert!(codes_for(&eval.findings, "AWS001").is_empty());
    }

    #[test]
    fn aws002_is_silent_without_custom_networking() {
        let s = eni_configs(&[]);
        assert!(codes_for(&run(&s, "1.35").findings, "AWS002").is_empty());
    }

    fn quota(service: &str, code: &str, limit: f64, usage: Option<f64>) -> Quota {
        Quota {
            service_code: service.into(),
            quota_code: code.into(),
            name: format!("quota {code}"),
            limit,
            usage,
            unit: "None".into(),
        }
    }

    fn with_quotas(quotas: Vec<Quota>) -> Snapshot {
        let mut s = snapshot("1.34");
        s.aws = Some(AwsData {
            quotas,
            ..Default::default()
        });
        s
    }

    /// The level and percent of `code`'s one finding, or None.
    fn quota_level(limit: f64, usage: Option<f64>) -> Option<(Remediation, serde_json::Value)> {
        let s = with_quotas(vec![quota("ec2", "L-1216C47A", limit, usage)]);
        let eval = run(&s, "1.35");
        let found = codes_for(&eval.findings, "AWS003");
        assert!(found.len() <= 1);
        found.first().map(|f| {
            assert_eq!(
                (f.resource_kind.as_str(), f.resource_name.as_str()),
                ("ServiceQuota", "ec2/L-1216C47A")
            );
            (f.remediation, f.details["percent"].clone())
        })
    }

    #[test]
    fn aws003_levels_by_share_of_the_quota_at_the_edges() {
        use serde_json::json;
        assert_eq!(quota_level(100.0, Some(79.0)), None);
        assert_eq!(
            quota_level(100.0, Some(80.0)),
            Some((Recommended, json!(80.0)))
        );
        assert_eq!(
            quota_level(100.0, Some(89.0)),
            Some((Recommended, json!(89.0)))
        );
        assert_eq!(
            quota_level(100.0, Some(90.0)),
            Some((Required, json!(90.0)))
        );
        assert_eq!(
            quota_level(100.0, Some(120.0)),
            Some((Required, json!(120.0)))
        );
        // Just under a threshold stays below it: 79.96 % is not 80 %.
        assert_eq!(quota_level(10_000.0, Some(7_996.0)), None);
    }

    #[test]
    fn aws003_is_silent_without_usage_and_zero_quotas_read_by_usage() {
        // Usage that could not be measured: no verdict.
        assert_eq!(quota_level(100.0, None), None);
        // A zero quota with nothing in use is fine; with anything in use it is exhausted.
        assert_eq!(quota_level(0.0, Some(0.0)), None);
        assert_eq!(quota_level(0.0, Some(1.0)).map(|(l, _)| l), Some(Required));
        // No such quota in the snapshot.
        let eval = run(&with_quotas(Vec::new()), "1.35");
        assert!(codes_for(&eval.findings, "AWS003").is_empty());
    }

    #[test]
    fn each_quota_check_reads_its_own_quota() {
        let s = with_quotas(vec![
            quota("ec2", "L-1216C47A", 100.0, Some(10.0)),
            quota("ebs", "L-D18FCD1D", 10.0, Some(9.5)),
            quota("ebs", "L-7A658B76", 10.0, Some(8.5)),
        ]);
        let eval = run(&s, "1.35");
        let got: Vec<(&str, &str, Remediation)> = eval
            .findings
            .iter()
            .filter(|f| f.code.starts_with("AWS"))
            .map(|f| (f.code.as_str(), f.resource_name.as_str(), f.remediation))
            .collect();
        assert_eq!(
            got,
            [
                ("AWS004", "ebs/L-D18FCD1D", Required),
                ("AWS005", "ebs/L-7A658B76", Recommended),
            ]
        );
    }

    #[test]
    fn a_quota_message_rounds_usage_and_percent_to_one_decimal() {
        // gp2 storage in TiB: 8472 GiB in use of 10 TiB.
        let s = with_quotas(vec![Quota {
            name: "Storage for General Purpose SSD (gp2) volumes, in TiB".into(),
            ..quota("ebs", "L-D18FCD1D", 10.0, Some(8.2734375))
        }]);
        let eval = run(&s, "1.35");
        let f = codes_for(&eval.findings, "AWS004")[0];
        assert_eq!(f.remediation, Recommended);
        assert_eq!(
            f.message,
            "Storage for General Purpose SSD (gp2) volumes, in TiB: 8.3 of 10.0 used (82.7%); request an increase so new nodes and volumes can be created during the upgrade"
        );
        // The details keep the measured value for machines; the percent is rounded.
        assert_eq!(f.details["usage"], 8.2734375);
        assert_eq!(f.details["percent"], 82.7);
    }

    #[test]
    fn aws_checks_are_silent_without_aws_data() {
        let mut s = snapshot("1.34");
        s.aws = None;
        let eval = run(&s, "1.35");
        assert!(eval.findings.iter().all(|f| !f.code.starts_with("AWS")));
    }
}
