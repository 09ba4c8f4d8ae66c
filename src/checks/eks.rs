//! EKS checks EKS001–EKS010 and EKS101: control-plane IPs, health, addons, launch-template drift,
//! Amazon Linux 2, insights and the support calendar.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::json;

use crate::checks::aws::by_zone;
use crate::checks::kubernetes::node_os;
use crate::checks::{Check, Context, finding, lookup};
use crate::finding::{Finding, Remediation, counted};
use crate::snapshot::{AwsData, HealthIssue, LaunchTemplate, TemplateRef};
use crate::version::{KubeVersion, SupportStatus};

fn check(code: &str) -> &'static Check {
    lookup(code).expect("catalogued")
}

fn aws<'a>(ctx: &'a Context) -> Option<&'a AwsData> {
    ctx.snapshot.aws.as_ref()
}

/// EKS needs at least this many free IPs in a subnet's zone to place a control-plane ENI.
const CONTROL_PLANE_IPS: i64 = 5;

/// EKS001: the upgrade creates new control-plane ENIs; it needs at least 2 zones of the
/// cluster subnets with 5 free IPs each.
pub fn control_plane_ips(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let ids: BTreeSet<&str> = aws.cluster_subnet_ids.iter().map(String::as_str).collect();
    let zones = by_zone(aws, &ids);
    let free_by_zone: Vec<(&str, i64)> = zones
        .iter()
        .map(|(z, subnets)| (*z, subnets.iter().map(|s| s.available_ips).sum()))
        .collect();
    let ready = free_by_zone
        .iter()
        .filter(|(_, free)| *free >= CONTROL_PLANE_IPS)
        .count();
    if ready >= 2 {
        return Vec::new();
    }
    let name = &ctx.snapshot.cluster.name;
    vec![finding(
        check("EKS001"),
        Remediation::Required,
        ("Cluster", "", name),
        format!(
            "only {ready} availability zone(s) of the cluster subnets have {CONTROL_PLANE_IPS} or more free IPs; the control-plane upgrade needs at least 2"
        ),
        json!({"zones": free_by_zone.iter().map(|(z, f)| json!({"availability_zone": z, "available_ips": f})).collect::<Vec<_>>()}),
    )]
}

fn health_findings(check: &Check, kind: &str, name: &str, issues: &[HealthIssue]) -> Vec<Finding> {
    issues
        .iter()
        .map(|i| {
            finding(
                check,
                Remediation::Required,
                (kind, "", name),
                format!("{}: {}", i.code, i.message),
                json!({"code": i.code, "resource_ids": i.resource_ids}),
            )
        })
        .collect()
}

/// EKS002: every control-plane health issue blocks the upgrade.
pub fn cluster_health(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    health_findings(
        check("EKS002"),
        "Cluster",
        &ctx.snapshot.cluster.name,
        &aws.health_issues,
    )
}

/// EKS003: every managed node group health issue blocks its update.
pub fn node_group_health(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS003");
    aws.node_groups
        .iter()
        .flat_map(|n| health_findings(check, "NodeGroup", &n.name, &n.health_issues))
        .collect()
}

/// EKS004: every addon health issue blocks its update.
pub fn addon_health(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS004");
    aws.addons
        .iter()
        .filter(|a| !crate::checks::compute::addon_managed(ctx, &a.name))
        .flat_map(|a| health_findings(check, "Addon", &a.name, &a.health_issues))
        .collect()
}

/// Orders addon versions such as `v1.19.0-eksbuild.1` by their numbers.
pub fn compare_addon_versions(a: &str, b: &str) -> Ordering {
    let numbers = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    numbers(a).cmp(&numbers(b))
}

/// Precondition of EKS005: the addon catalogue of every hop was read. A snapshot taken for a
/// nearer target lacks the farther hops, and judging addons without them would be a guess.
pub fn addon_catalogues_missing(ctx: &Context) -> Option<String> {
    let aws = aws(ctx)?;
    let missing: Vec<String> = ctx
        .hops()
        .into_iter()
        .filter(|hop| {
            !aws.addon_versions
                .iter()
                .any(|c| c.kubernetes_version == *hop)
        })
        .map(|hop| hop.to_string())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "addon versions for {} were not collected (analyze the cluster with this target)",
            missing.join(", ")
        )
    })
}

/// EKS005: an installed addon version that some hop does not support is required; one older
/// than the target's default version is recommended.
pub fn addon_versions(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS005");
    let hops = ctx.hops();
    let mut out = Vec::new();
    for addon in aws
        .addons
        .iter()
        .filter(|a| !crate::checks::compute::addon_managed(ctx, &a.name))
    {
        let unsupported: Vec<KubeVersion> = hops
            .iter()
            .filter(|hop| {
                aws.addon_versions
                    .iter()
                    .find(|c| c.kubernetes_version == **hop)
                    .and_then(|c| c.addons.get(&addon.name))
                    .is_none_or(|versions| !versions.iter().any(|v| v.version == addon.version))
            })
            .copied()
            .collect();
        let target_default = aws
            .addon_versions
            .iter()
            .find(|c| c.kubernetes_version == ctx.target)
            .and_then(|c| c.addons.get(&addon.name))
            .and_then(|versions| versions.iter().find(|v| v.default))
            .map(|v| v.version.clone());
        let details = json!({
            "installed": addon.version,
            "target_default": target_default,
            "unsupported_on": unsupported,
        });
        if !unsupported.is_empty() {
            let on: Vec<String> = unsupported.iter().map(ToString::to_string).collect();
            out.push(finding(
                check,
                Remediation::Required,
                ("Addon", "", &addon.name),
                format!(
                    "{} {} is not supported on Kubernetes {}; update it to {} before that upgrade",
                    addon.name,
                    addon.version,
                    on.join(", "),
                    target_default.as_deref().unwrap_or("a supported version")
                ),
                details,
            ));
        } else if let Some(default) = target_default
            .as_deref()
            .filter(|d| compare_addon_versions(&addon.version, d) == Ordering::Less)
        {
            out.push(finding(
                check,
                Remediation::Recommended,
                ("Addon", "", &addon.name),
                format!(
                    "{} {} is older than {default}, the default for {}; update it",
                    addon.name, addon.version, ctx.target
                ),
                details,
            ));
        }
    }
    out
}

/// The version number a template reference resolves to (`$Latest`, `$Default` or a number).
fn used_version(reference: &TemplateRef, template: &LaunchTemplate) -> Option<i64> {
    match reference.version.as_deref() {
        None | Some("$Default") => Some(template.default_version),
        Some("$Latest") => Some(template.latest_version),
        Some(n) => n.parse().ok(),
    }
}

/// Drift of one launch-template reference: the version in use is not the template's latest.
fn template_drift(
    check: &Check,
    kind: &str,
    name: &str,
    reference: &TemplateRef,
    aws: &AwsData,
    note: &str,
) -> Option<Finding> {
    let template = aws
        .launch_templates
        .iter()
        .find(|t| Some(&t.id) == reference.id.as_ref())?;
    let used = used_version(reference, template)?;
    (used != template.latest_version).then(|| {
        finding(
            check,
            Remediation::Recommended,
            (kind, "", name),
            format!(
                "uses version {used} of launch template {} ({}); the latest is {} (default {}){note}: roll out the version you intend before upgrading",
                template.name, template.id, template.latest_version, template.default_version
            ),
            json!({
                "launch_template_id": template.id,
                "launch_template_name": template.name,
                "configured_version": reference.version,
                "used_version": used,
                "default_version": template.default_version,
                "latest_version": template.latest_version,
            }),
        )
    })
}

/// EKS006: managed node groups whose launch-template version in use is not the latest.
pub fn node_group_template_drift(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS006");
    aws.node_groups
        .iter()
        .filter_map(|n| {
            template_drift(
                check,
                "NodeGroup",
                &n.name,
                n.launch_template.as_ref()?,
                aws,
                "",
            )
        })
        .collect()
}

/// EKS007: the same for self-managed groups; a launch configuration is reported (it cannot
/// drift-check and is deprecated), a mixed-instances policy is followed to its template.
pub fn self_managed_template_drift(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS007");
    aws.self_managed_groups
        .iter()
        .filter_map(|g| {
            if let Some(lc) = &g.launch_configuration {
                return Some(finding(
                    check,
                    Remediation::Recommended,
                    ("AutoScalingGroup", "", &g.name),
                    format!(
                        "uses launch configuration {lc}; launch configurations are deprecated and cannot be checked for drift: move to a launch template"
                    ),
                    json!({"launch_configuration": lc}),
                ));
            }
            let note = if g.mixed_instances { " (from its mixed-instances policy)" } else { "" };
            template_drift(check, "AutoScalingGroup", &g.name, g.launch_template.as_ref()?, aws, note)
        })
        .collect()
}

/// EKS008: Amazon Linux 2 anywhere — managed node groups by AMI type, and every other
/// node (self-managed, Karpenter, custom-AMI node groups) by its `osImage`, summarised by
/// node group. No EKS AMIs for AL2 from 1.33.
pub fn amazon_linux_2(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS008");
    let level = if ctx.target >= KubeVersion::new(1, 33) {
        Remediation::Required
    } else {
        Remediation::Recommended
    };
    let by_ami: Vec<&crate::snapshot::NodeGroup> = aws
        .node_groups
        .iter()
        .filter(|n| n.ami_type.as_deref().is_some_and(|a| a.starts_with("AL2_")))
        .collect();
    let mut out: Vec<Finding> = by_ami
        .iter()
        .map(|n| {
            let ami = n.ami_type.as_deref().unwrap_or_default();
            finding(
                check,
                level,
                ("NodeGroup", "", &n.name),
                format!(
                    "uses AMI type {ami}; EKS publishes no Amazon Linux 2 AMIs for 1.33 and later: move to AL2023 or Bottlerocket"
                ),
                json!({"ami_type": ami}),
            )
        })
        .collect();
    // Karpenter nodes select AL2 by an EC2NodeClass alias rather than an AMI type: the class
    // is what to change, so it carries its NodePools' nodes.
    out.extend(crate::checks::compute::al2_node_classes(ctx, check, level));
    let by_alias: Vec<&str> = crate::checks::compute::al2_alias_node_pools(ctx)
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let nodes = ctx.snapshot.kubernetes.nodes.iter().filter(|n| {
        !node_os::is_fargate(n) && !node_os::is_windows(n) && node_os::is_amazon_linux_2(n)
    });
    for ((kind, name), nodes) in node_os::by_group(nodes) {
        // Already reported by its AMI type, or under its EC2NodeClass's `al2@` alias.
        if (kind == "NodeGroup" && by_ami.iter().any(|n| n.name == name))
            || (kind == "NodePool" && by_alias.contains(&name.as_str()))
        {
            continue;
        }
        let mut details = node_os::group_details(&nodes, "os_images", |n| n.os_image.as_str());
        details.insert("ami_type".into(), serde_json::Value::Null);
        out.push(finding(
            check,
            level,
            (kind, "", &name),
            format!(
                "{} node(s) run Amazon Linux 2 (by their OS image); EKS publishes no AL2 AMIs for 1.33 and later: move them to AL2023 or Bottlerocket",
                nodes.len()
            ),
            serde_json::Value::Object(details),
        ));
    }
    out
}

fn insight_findings(ctx: &Context, code: &str, category: &str) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check(code);
    let hops = ctx.hops();
    aws.insights
        .iter()
        .filter(|i| i.category == category)
        // An insight about a specific version matters when the upgrade passes through it.
        .filter(|i| {
            i.kubernetes_version
                .as_deref()
                .and_then(|v| v.parse::<KubeVersion>().ok())
                .is_none_or(|v| hops.contains(&v) || v == ctx.current)
        })
        .filter_map(|i| {
            let level = match i.status.as_str() {
                "ERROR" => Remediation::Required,
                "WARNING" | "UNKNOWN" => Remediation::Recommended,
                _ => return None,
            };
            let mut message = format!("{} ({})", i.name, i.status);
            if let Some(reason) = &i.reason {
                message.push_str(&format!(": {reason}"));
            }
            if let Some(rec) = &i.recommendation {
                message.push_str(&format!(" — {rec}"));
            }
            Some(finding(
                check,
                level,
                ("Insight", "", &i.name),
                message,
                json!({"id": i.id, "status": i.status, "kubernetes_version": i.kubernetes_version, "recommendation": i.recommendation}),
            ))
        })
        .collect()
}

/// EKS009: upgrade-readiness insights.
pub fn upgrade_insights(ctx: &Context) -> Vec<Finding> {
    insight_findings(ctx, "EKS009", "UPGRADE_READINESS")
}

/// EKS010: misconfiguration insights.
pub fn misconfiguration_insights(ctx: &Context) -> Vec<Finding> {
    insight_findings(ctx, "EKS010", "MISCONFIGURATION")
}

/// EKS101's message while standard support lasts. The end date is the last day of standard
/// support (the calendar counts it as standard), so 0 days left means "today".
fn standard_ends(version: KubeVersion, support: &crate::version::Support) -> String {
    let end = support.end_of_standard_support;
    let extended = "extended support (extra cost)";
    match support.days_to_end_of_standard_support {
        0 => format!(
            "standard support for {version} ends today ({end}); from tomorrow the cluster is in {extended} unless it is upgraded"
        ),
        1 => format!(
            "standard support for {version} ends tomorrow ({end}); from the day after the cluster is in {extended}: upgrade before then"
        ),
        days => format!(
            "standard support for {version} ends on {end} ({}); upgrade before then",
            counted(days, "day", "days")
        ),
    }
}

/// EKS101: a cluster in extended support is required to move; one whose standard support
/// ends within the notice period (default 90 days) is recommended to plan now.
pub fn end_of_support(ctx: &Context) -> Vec<Finding> {
    let Some(support) = ctx.calendar.support(ctx.current, ctx.today) else {
        return Vec::new();
    };
    let notice = i64::from(ctx.settings.eks101.notice_days);
    let name = &ctx.snapshot.cluster.name;
    let (level, message) = match support.status {
        SupportStatus::Ended => (
            Remediation::Required,
            format!(
                "{} left extended support on {}; EKS will upgrade the cluster itself",
                ctx.current, support.end_of_extended_support
            ),
        ),
        SupportStatus::Extended => (
            Remediation::Required,
            format!(
                "{} is in extended support (extra cost) since {}; it ends on {} ({})",
                ctx.current,
                support.end_of_standard_support,
                support.end_of_extended_support,
                counted(support.days_to_end_of_extended_support, "day", "days")
            ),
        ),
        SupportStatus::Standard if support.days_to_end_of_standard_support <= notice => (
            Remediation::Recommended,
            standard_ends(ctx.current, &support),
        ),
        SupportStatus::Standard => return Vec::new(),
    };
    vec![finding(
        check("EKS101"),
        level,
        ("Cluster", "", name),
        message,
        json!(support),
    )]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::checks::kubernetes::fixtures::{run, snapshot};
    use crate::snapshot::{Addon, AddonCatalog, AwsData};

    #[test]
    fn eks005_is_skipped_when_a_hop_catalogue_was_not_collected() {
        let mut s = snapshot("1.33");
        s.aws = Some(AwsData {
            addons: vec![Addon {
                name: "coredns".into(),
                version: "v1.12.1-eksbuild.1".into(),
                ..Default::default()
            }],
            addon_versions: vec![AddonCatalog {
                kubernetes_version: "1.34".parse().unwrap(),
                addons: BTreeMap::new(),
            }],
            ..Default::default()
        });
        let two_hops = run(&s, "1.35");
        let skipped = two_hops
            .skipped
            .iter()
            .find(|k| k.code == "EKS005")
            .expect("skipped");
        assert_eq!(
            skipped.reason,
            "addon versions for 1.35 were not collected (analyze the cluster with this target)"
        );
        // Not collected, not "does not apply": the verdict cannot be ready.
        assert_eq!(skipped.cause, crate::checks::SkipCause::NotCollected);
        // For the hop that was collected, the check runs (and the addon is unsupported there).
        let one_hop = run(&s, "1.34");
        assert!(one_hop.skipped.iter().all(|k| k.code != "EKS005"));
        assert!(
            one_hop
                .findings
                .iter()
                .any(|f| f.code == "EKS005" && f.resource_name == "coredns")
        );
    }

    fn node(name: &str, labels: &[(&str, &str)], os: &str, system: &str) -> crate::snapshot::Node {
        crate::snapshot::Node {
            name: name.into(),
            kubelet_version: "v1.32.9-eks-113cf36".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            os_image: os.into(),
            container_runtime_version: "containerd://1.7.27".into(),
            operating_system: system.into(),
        }
    }

    #[test]
    fn eks008_covers_node_groups_by_ami_type_and_every_other_node_by_os_image() {
        let mut s = snapshot("1.32");
        s.aws = Some(AwsData {
            node_groups: vec![
                crate::snapshot::NodeGroup {
                    name: "ng-al2".into(),
                    ami_type: Some("AL2_x86_64".into()),
                    ..Default::default()
                },
                crate::snapshot::NodeGroup {
                    name: "ng-custom".into(),
                    ami_type: Some("CUSTOM".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        let ng = "eks.amazonaws.com/nodegroup";
        s.kubernetes.nodes = vec![
            // Already reported by its AMI type: not twice.
            node("a", &[(ng, "ng-al2")], "Amazon Linux 2", "linux"),
            // A custom AMI built on AL2 shows only in the node's OS image.
            node("b", &[(ng, "ng-custom")], "Amazon Linux 2", "linux"),
            node(
                "c",
                &[("karpenter.sh/nodepool", "default")],
                "Amazon Linux 2",
                "linux",
            ),
            node(
                "d",
                &[("karpenter.sh/nodepool", "al2023")],
                "Amazon Linux 2023.8.20250818",
                "linux",
            ),
            node(
                "fargate-ip-10-0-1-5.ec2.internal",
                &[("eks.amazonaws.com/compute-type", "fargate")],
                "Amazon Linux 2",
                "linux",
            ),
            node("e", &[], "Windows Server 2019 Datacenter", "windows"),
        ];
        let got = |target: &str| -> Vec<String> {
            run(&s, target)
                .findings
                .iter()
                .filter(|f| f.code == "EKS008")
                .map(|f| {
                    format!(
                        "{} {} {}",
                        f.remediation.as_str(),
                        f.resource_kind,
                        f.resource_name
                    )
                })
                .collect()
        };
        assert_eq!(
            got("1.33"),
            [
                "required NodePool default",
                "required NodeGroup ng-al2",
                "required NodeGroup ng-custom",
            ]
        );
        assert!(got("1.32").iter().all(|f| f.starts_with("recommended")));
    }

    /// A Karpenter NodePool on an `al2@` EC2NodeClass alias is reported once, under the
    /// class (what to change); a NodePool whose class selects AMIs otherwise is still found
    /// by its nodes' OS image; an Auto Mode NodePool never matches an EC2NodeClass.
    #[test]
    fn eks008_reports_al2_alias_node_pools_once_under_their_class() {
        use crate::finding::Finding;
        use crate::snapshot::{Ec2NodeClass, NodePool};
        use serde_json::json;
        let mut s = snapshot("1.32");
        s.aws = Some(AwsData::default());
        let class = |name: &str, alias: &str| Ec2NodeClass {
            name: name.into(),
            ami_aliases: vec![alias.into()],
        };
        s.kubernetes.ec2_node_classes = vec![
            class("legacy", "al2@v20251120"),
            class("by-id", "al2023@v20251120"),
        ];
        let pool = |name: &str, group: &str, class: &str| NodePool {
            name: name.into(),
            node_class_group: group.into(),
            node_class_kind: "EC2NodeClass".into(),
            node_class_name: class.into(),
            budgets: Vec::new(),
        };
        s.kubernetes.node_pools = vec![
            pool("old", "karpenter.k8s.aws", "legacy"),
            pool("custom", "karpenter.k8s.aws", "by-id"),
            pool("auto", "eks.amazonaws.com", "legacy"),
        ];
        let np = "karpenter.sh/nodepool";
        s.kubernetes.nodes = vec![
            node("a", &[(np, "old")], "Amazon Linux 2", "linux"),
            node("b", &[(np, "old")], "Amazon Linux 2", "linux"),
            // A custom AMI on AL2 behind an al2023 alias: only its OS image tells.
            node("c", &[(np, "custom")], "Amazon Linux 2", "linux"),
        ];
        let eval = run(&s, "1.33");
        let found: Vec<&Finding> = eval
            .findings
            .iter()
            .filter(|f| f.code == "EKS008")
            .collect();
        let rows: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.resource_kind.as_str(), f.resource_name.as_str()))
            .collect();
        // Sorted by resource name.
        assert_eq!(rows, [("NodePool", "custom"), ("EC2NodeClass", "legacy")]);
        assert_eq!(found[1].details["node_pools"], json!(["old"]));
        assert_eq!(found[1].details["nodes"], json!(2));
    }

    fn eks101_on(version: &str, target: &str, day: &str) -> Vec<crate::finding::Finding> {
        let mut s = snapshot(version);
        s.aws = Some(AwsData::default());
        let ev = crate::checks::evaluate(
            &s,
            target.parse().unwrap(),
            &crate::checks::CheckSettings::default(),
            &crate::version::SupportCalendar::embedded(),
            day.parse().unwrap(),
        );
        ev.findings
            .into_iter()
            .filter(|f| f.code == "EKS101")
            .collect()
    }

    /// 1.34's standard support ends on 2026-12-02: that day says "today" (0 days left), the
    /// day before "tomorrow", the day after is extended support (required).
    #[test]
    fn eks101_counts_the_last_day_of_standard_support_as_today() {
        let today = eks101_on("1.34", "1.35", "2026-12-02");
        assert_eq!(today.len(), 1);
        assert_eq!(
            today[0].remediation,
            crate::finding::Remediation::Recommended
        );
        assert_eq!(
            today[0].message,
            "standard support for 1.34 ends today (2026-12-02); from tomorrow the cluster is in extended support (extra cost) unless it is upgraded"
        );
        assert_eq!(today[0].details["days_to_end_of_standard_support"], 0);
        let eve = eks101_on("1.34", "1.35", "2026-12-01");
        assert!(eve[0].message.contains("ends tomorrow (2026-12-02)"));
        let ten = eks101_on("1.34", "1.35", "2026-11-22");
        assert!(
            ten[0]
                .message
                .ends_with("ends on 2026-12-02 (10 days); upgrade before then")
        );
        let after = eks101_on("1.34", "1.35", "2026-12-03");
        assert_eq!(after[0].remediation, crate::finding::Remediation::Required);
        assert!(
            after[0]
                .message
                .starts_with("1.34 is in extended support (extra cost) since 2026-12-02")
        );
    }

    /// A cluster on a version whose dates EKS has not published: nothing is invented.
    #[test]
    fn eks101_says_nothing_for_a_version_without_dates() {
        assert!(eks101_on("1.37", "1.37", "2026-12-02").is_empty());
    }
}
