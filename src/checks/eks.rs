//! EKS checks EKS001–EKS010, EKS101, EKS105 and EKS106: control-plane IPs, health, addons,
//! launch-template drift, Amazon Linux 2, insights, the support calendar, whether EKS
//! accepts an upgrade now and the rotation of the cluster's certificate authority.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::json;

use crate::checks::aws::by_zone;
use crate::checks::kubernetes::node_os;
use crate::checks::{Check, Context, finding, lookup};
use crate::finding::{Finding, Remediation, counted};
use crate::snapshot::{
    AwsData, CertificateAuthority, HealthIssue, Insight, InsightResource, LaunchTemplate,
    TemplateRef,
};
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
    if let Some(id) = reference
        .id
        .as_ref()
        .filter(|id| aws.deleted_launch_templates.contains(id))
    {
        return Some(finding(
            check,
            Remediation::Recommended,
            (kind, "", name),
            format!(
                "launch template {id} no longer exists (it was deleted){note}: the group cannot launch or update nodes from it; point it at an existing launch template before upgrading"
            ),
            json!({"launch_template_id": id, "configured_version": reference.version, "deleted": true}),
        ));
    }
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

/// Where an insight's findings go: the hops it applies to, or `None` when it names a version
/// the upgrade does not pass through (e.g. the upgrade the cluster already made).
fn insight_hops(i: &Insight, hops: &[KubeVersion]) -> Option<Vec<KubeVersion>> {
    match i.kubernetes_version.as_deref() {
        None | Some("") => Some(hops.to_vec()),
        Some(v) => {
            let v: KubeVersion = v.parse().ok()?;
            hops.contains(&v).then(|| vec![v])
        }
    }
}

fn insight_level(status: &str) -> Option<Remediation> {
    match status {
        "ERROR" => Some(Remediation::Required),
        "WARNING" | "UNKNOWN" => Some(Remediation::Recommended),
        _ => None,
    }
}

/// The namespace in a Kubernetes resource path (`…/namespaces/NS/…`); empty when cluster-scoped.
fn uri_namespace(uri: &str) -> &str {
    let mut parts = uri.split('/');
    while let Some(p) = parts.next() {
        if p == "namespaces" {
            return parts.next().unwrap_or_default();
        }
    }
    ""
}

/// EKS009 and EKS010: each insight applies to the hop whose version it names (every hop when
/// it names none); one finding per affected resource of `DescribeInsight`, else one for the
/// insight. A resource's own status, when EKS gives one, sets its level.
fn insight_findings(ctx: &Context, code: &str, upgrade: bool) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check(code);
    let hops = ctx.hops();
    let mut out = Vec::new();
    for i in aws
        .insights
        .iter()
        .filter(|i| (i.category == "MISCONFIGURATION") != upgrade)
    {
        let Some(applies) = insight_hops(i, &hops) else {
            continue;
        };
        let on: Vec<String> = applies.iter().map(ToString::to_string).collect();
        let scope = match applies.as_slice() {
            [one] => format!("the upgrade to {one}"),
            _ => format!("every hop ({})", on.join(", ")),
        };
        // Without resources, the insight itself is the one affected thing.
        let whole = [InsightResource::default()];
        let resources = if i.resources.is_empty() {
            &whole[..]
        } else {
            &i.resources[..]
        };
        for r in resources {
            let status = r.status.as_deref().unwrap_or(&i.status);
            let Some(level) = insight_level(status) else {
                continue;
            };
            let reason = r.reason.as_ref().or(i.reason.as_ref());
            let mut message = format!("{} ({status}", i.name);
            if upgrade && i.category != "UPGRADE_READINESS" {
                message.push_str(&format!(", {}", i.category));
            }
            message.push_str(&format!(") for {scope}"));
            if let Some(reason) = reason {
                message.push_str(&format!(": {reason}"));
            }
            if upgrade && level == Remediation::Required {
                message.push_str(
                    "; UpdateClusterVersion refuses the upgrade (InvalidStateException) unless it is forced",
                );
            }
            if let Some(rec) = &i.recommendation {
                message.push_str(&format!(" — {rec}"));
            }
            let (kind, namespace, name) = match (&r.kubernetes_resource_uri, &r.arn) {
                (Some(uri), _) => ("KubernetesResource", uri_namespace(uri), uri.as_str()),
                (None, Some(arn)) => ("AwsResource", "", arn.as_str()),
                (None, None) => ("Insight", "", i.name.as_str()),
            };
            out.push(finding(
                check,
                level,
                (kind, namespace, name),
                message,
                json!({
                    "id": i.id,
                    "insight": i.name,
                    "category": i.category,
                    "status": status,
                    "kubernetes_version": i.kubernetes_version,
                    "hops": on,
                    "kubernetes_resource_uri": r.kubernetes_resource_uri,
                    "arn": r.arn,
                    "recommendation": i.recommendation,
                }),
            ));
        }
    }
    out
}

/// EKS009: upgrade-readiness insights, and every category but MISCONFIGURATION (the API's
/// category is an open string; ROLLBACK_READINESS already exists).
pub fn upgrade_insights(ctx: &Context) -> Vec<Finding> {
    insight_findings(ctx, "EKS009", true)
}

/// EKS010: misconfiguration insights.
pub fn misconfiguration_insights(ctx: &Context) -> Vec<Finding> {
    insight_findings(ctx, "EKS010", false)
}

/// Precondition data of EKS105: a snapshot from before the update history was read has none.
pub fn updates_missing(ctx: &Context) -> Option<String> {
    aws(ctx)?.updates.is_none().then(|| {
        "the snapshot holds no update history (ListUpdates); collect the cluster again".into()
    })
}

/// EKS105: EKS accepts no version update while the cluster is not ACTIVE or while any
/// update (of any type) is in progress.
pub fn not_ready_to_upgrade(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let check = check("EKS105");
    let name = &ctx.snapshot.cluster.name;
    let mut out = Vec::new();
    if let Some(status) = aws.cluster_status.as_deref().filter(|s| *s != "ACTIVE") {
        out.push(finding(
            check,
            Remediation::Required,
            ("Cluster", "", name),
            format!(
                "the cluster is {status}, not ACTIVE: EKS accepts no version update until it completes"
            ),
            json!({"status": status}),
        ));
    }
    let history = aws.updates.as_ref();
    for u in history
        .iter()
        .flat_map(|h| &h.updates)
        .filter(|u| u.status == "InProgress")
    {
        let since = u.created_at.map_or_else(
            || "an unknown time".to_string(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        );
        out.push(finding(
            check,
            Remediation::Required,
            ("Update", "", &u.id),
            format!(
                "a {} update is in progress since {since}: EKS accepts no version update until it completes",
                u.update_type
            ),
            json!({"id": u.id, "type": u.update_type, "status": u.status, "created_at": u.created_at}),
        ));
    }
    out
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

/// Within this many days of the as-of date, a successor's final auto-activation or the
/// signing CA's expiry makes EKS106 required.
const CA_NOTICE_DAYS: i64 = 30;

/// A certificate-authority rotation under way: the successor that is not signing yet, and
/// the CA that still signs.
#[derive(Debug, Clone, Copy)]
pub struct CaRotation<'a> {
    pub successor: &'a CertificateAuthority,
    pub signing: Option<&'a CertificateAuthority>,
}

impl CaRotation<'_> {
    /// The successor's next scheduled auto-activation on or after `day`: the first while it
    /// is ahead, else the final (by which EKS activates it).
    pub fn next_auto_activation(&self, day: NaiveDate) -> Option<NaiveDate> {
        let first = self.successor.first_auto_activation.map(|t| t.date_naive());
        let last = self.successor.final_auto_activation.map(|t| t.date_naive());
        first.filter(|f| *f >= day).or(last)
    }

    /// When the signing CA's certificate expires.
    pub fn signing_expires(&self) -> Option<NaiveDate> {
        self.signing?.not_after.map(|t| t.date_naive())
    }
}

/// The rotation of `cas`, if one is under way. A successor is `ACTIVATING`, or `NOT_USED`
/// and newer than the signing CA (or never activated): a retired outgoing CA is `NOT_USED`
/// too, but older, and it was activated once.
pub fn ca_rotation(cas: &[CertificateAuthority]) -> Option<CaRotation<'_>> {
    let signing = cas.iter().find(|c| c.signing_status == "IN_USE");
    let successor = cas
        .iter()
        .filter(|c| match c.signing_status.as_str() {
            "ACTIVATING" => true,
            "NOT_USED" => match (c.created_at, signing.and_then(|s| s.created_at)) {
                (Some(created), Some(signer)) => created > signer,
                _ => c.activated_at.is_none(),
            },
            _ => false,
        })
        .max_by_key(|c| c.created_at)?;
    Some(CaRotation { successor, signing })
}

/// Precondition of EKS106: the certificate authorities were read. A snapshot from before
/// the check lacks them, and "no rotation" would be a guess.
pub fn certificate_authorities_missing(ctx: &Context) -> Option<String> {
    aws(ctx)?.certificate_authorities.is_none().then(|| {
        "the cluster's certificate authorities were not read (a snapshot taken before EKS106)"
            .to_string()
    })
}

/// `date (N days)`, `date (N days ago)`, or `an unknown date`.
fn dated(day: Option<NaiveDate>, today: NaiveDate) -> String {
    day.map_or_else(
        || "an unknown date".to_string(),
        |d| match (d - today).num_days() {
            n if n < 0 => format!("{d} ({} ago)", counted(-n, "day", "days")),
            n => format!("{d} ({})", counted(n, "day", "days")),
        },
    )
}

/// EKS106: a successor CA that is not signing yet must be trusted by every client that holds
/// the cluster's CA by value before EKS activates it: required when its final
/// auto-activation or the signing CA's expiry is within 30 days, recommended before.
pub fn certificate_authority_rotation(ctx: &Context) -> Vec<Finding> {
    let Some(aws) = aws(ctx) else {
        return Vec::new();
    };
    let Some(rotation) = aws.certificate_authorities.as_deref().and_then(ca_rotation) else {
        return Vec::new();
    };
    let today = ctx.today;
    let s = rotation.successor;
    let first = s.first_auto_activation.map(|t| t.date_naive());
    let last = s.final_auto_activation.map(|t| t.date_naive());
    let expires = rotation.signing_expires();
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| (d - today).num_days() <= CA_NOTICE_DAYS);
    let level = if within(last) || within(expires) {
        Remediation::Required
    } else {
        Remediation::Recommended
    };
    let state = match s.signing_status.as_str() {
        "ACTIVATING" => "is being activated (ACTIVATING)",
        _ => "is not signing yet (NOT_USED)",
    };
    let distribution = s.distribution_status.as_deref().unwrap_or("UNKNOWN");
    let from = first
        .filter(|f| Some(*f) != last)
        .map(|f| format!(" (it may from {f})"))
        .unwrap_or_default();
    let signer = rotation.signing.map_or("the signing CA", |c| c.id.as_str());
    // The clients EKS does not update, named from what this cluster runs.
    let hybrid = crate::checks::compute::hybrid(ctx).count();
    let mut nodes = Vec::new();
    if !aws.self_managed_groups.is_empty() {
        nodes.push(counted(
            aws.self_managed_groups.len(),
            "self-managed node group",
            "self-managed node groups",
        ));
    }
    if hybrid > 0 {
        nodes.push(counted(hybrid, "hybrid node", "hybrid nodes"));
    }
    let here = if nodes.is_empty() {
        String::new()
    } else {
        format!(" (here: {})", nodes.join(", "))
    };
    let message = format!(
        "successor CA {} {state}, EKS distribution {distribution}; EKS activates it by {}{from}; signing CA {signer} expires on {}. Before then every kubeconfig, CI system and GitOps agent that holds the cluster's CA, and the bootstrap of self-managed and hybrid nodes{here}, must trust the successor",
        s.id,
        dated(last, today),
        dated(expires, today),
    );
    let days = |d: Option<NaiveDate>| d.map(|d| (d - today).num_days());
    vec![finding(
        check("EKS106"),
        level,
        ("CertificateAuthority", "", &s.id),
        message,
        json!({
            "successor_id": s.id,
            "successor_status": s.signing_status,
            "distribution_status": s.distribution_status,
            "first_auto_activation": first,
            "final_auto_activation": last,
            "days_to_final_auto_activation": days(last),
            "signing_ca_id": rotation.signing.map(|c| &c.id),
            "signing_ca_not_after": expires,
            "days_to_signing_ca_expiry": days(expires),
            "self_managed_groups": aws.self_managed_groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
            "hybrid_nodes": hybrid,
        }),
    )]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::checks::kubernetes::fixtures::{run, snapshot};
    use crate::snapshot::{Addon, AddonCatalog, AwsData, CertificateAuthority};

    #[test]
    fn a_deleted_launch_template_is_a_finding_for_its_group_alone() {
        use crate::snapshot::{AutoScalingGroup, LaunchTemplate, NodeGroup, TemplateRef};
        let mut s = snapshot("1.34");
        let reference = |id: &str| {
            Some(TemplateRef {
                id: Some(id.into()),
                version: Some("1".into()),
                ..Default::default()
            })
        };
        s.aws = Some(AwsData {
            node_groups: vec![
                NodeGroup {
                    name: "gone".into(),
                    launch_template: reference("lt-gone"),
                    ..Default::default()
                },
                NodeGroup {
                    name: "drifted".into(),
                    launch_template: reference("lt-live"),
                    ..Default::default()
                },
            ],
            self_managed_groups: vec![AutoScalingGroup {
                name: "asg".into(),
                launch_template: reference("lt-gone"),
                ..Default::default()
            }],
            launch_templates: vec![LaunchTemplate {
                id: "lt-live".into(),
                name: "live".into(),
                default_version: 1,
                latest_version: 2,
            }],
            deleted_launch_templates: vec!["lt-gone".into()],
            ..Default::default()
        });
        let eval = run(&s, "1.35");
        let got = |code: &str| {
            eval.findings
                .iter()
                .filter(|f| f.code == code)
                .map(|f| {
                    (
                        f.resource_name.clone(),
                        f.message.contains("no longer exists"),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            got("EKS006"),
            [("drifted".to_string(), false), ("gone".to_string(), true)]
        );
        assert_eq!(got("EKS007"), [("asg".to_string(), true)]);
        assert!(
            !eval
                .skipped
                .iter()
                .any(|k| k.code == "EKS006" || k.code == "EKS007")
        );
    }

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

    fn day(d: &str) -> chrono::DateTime<chrono::Utc> {
        format!("{d}T00:00:00Z").parse().unwrap()
    }

    /// A certificate authority as the collector stores it.
    fn ca(id: &str, status: &str, created: &str, not_after: &str) -> CertificateAuthority {
        CertificateAuthority {
            id: id.into(),
            signing_status: status.into(),
            distribution_status: Some("COMPLETE".into()),
            created_by: Some("EKS".into()),
            created_at: Some(day(created)),
            activated_at: (status == "IN_USE").then(|| day(created)),
            not_before: Some(day(created)),
            not_after: Some(day(not_after)),
            ..Default::default()
        }
    }

    fn with_cas(cas: Vec<CertificateAuthority>) -> crate::snapshot::Snapshot {
        let mut s = snapshot("1.34");
        s.aws = Some(AwsData {
            certificate_authorities: Some(cas),
            ..Default::default()
        });
        s
    }

    fn eks106(s: &crate::snapshot::Snapshot) -> Vec<crate::finding::Finding> {
        run(s, "1.35")
            .findings
            .into_iter()
            .filter(|f| f.code == "EKS106")
            .collect()
    }

    /// A successor appended on 2026-11-01 whose final auto-activation is `last`, next to a
    /// signing CA that expires on `expires` (the fixtures judge as of 2026-11-23).
    fn rotation(last: &str, expires: &str) -> crate::snapshot::Snapshot {
        let mut successor = ca("ca-new", "NOT_USED", "2026-11-01", "2036-11-01");
        successor.distribution_status = Some("IN_PROGRESS".into());
        successor.first_auto_activation = Some(day("2026-11-30"));
        successor.final_auto_activation = Some(day(last));
        with_cas(vec![
            ca("ca-old", "IN_USE", "2017-01-01", expires),
            successor,
        ])
    }

    #[test]
    fn eks106_is_silent_on_one_ca_far_from_expiry_and_on_a_retired_one() {
        let one = with_cas(vec![ca("ca-only", "IN_USE", "2024-01-01", "2034-01-01")]);
        assert!(eks106(&one).is_empty());
        assert!(run(&one, "1.35").skipped.iter().all(|k| k.code != "EKS106"));
        // After a rotation the outgoing CA stays trusted, NOT_USED: older, and activated once.
        let mut retired = ca("ca-old", "NOT_USED", "2017-01-01", "2027-01-01");
        retired.activated_at = Some(day("2017-01-01"));
        let after = with_cas(vec![
            retired,
            ca("ca-new", "IN_USE", "2026-10-01", "2036-10-01"),
        ]);
        assert!(eks106(&after).is_empty());
    }

    #[test]
    fn eks106_is_required_within_30_days_of_either_date() {
        use crate::finding::Remediation::{Recommended, Required};
        let level = |last: &str, expires: &str| eks106(&rotation(last, expires))[0].remediation;
        // 2026-12-23 is 30 days after 2026-11-23, 2026-12-24 is 31.
        assert_eq!(level("2026-12-23", "2027-06-01"), Required);
        assert_eq!(level("2026-12-24", "2027-06-01"), Recommended);
        assert_eq!(level("2027-05-01", "2026-12-23"), Required);
        assert_eq!(level("2027-05-01", "2026-12-24"), Recommended);
        // A date already passed is the most urgent of all.
        assert_eq!(level("2027-05-01", "2026-11-20"), Required);
        let late = &eks106(&rotation("2026-11-22", "2027-06-01"))[0].message;
        assert!(late.contains("by 2026-11-22 (1 day ago)"), "{late}");
    }

    #[test]
    fn eks106_names_both_dates_the_distribution_and_the_clients() {
        let found = eks106(&rotation("2026-12-05", "2027-01-15"));
        let f = &found[0];
        assert_eq!(
            (f.resource_kind.as_str(), f.resource_name.as_str()),
            ("CertificateAuthority", "ca-new")
        );
        assert_eq!(
            f.message,
            "successor CA ca-new is not signing yet (NOT_USED), EKS distribution IN_PROGRESS; EKS activates it by 2026-12-05 (12 days) (it may from 2026-11-30); signing CA ca-old expires on 2027-01-15 (53 days). Before then every kubeconfig, CI system and GitOps agent that holds the cluster's CA, and the bootstrap of self-managed and hybrid nodes, must trust the successor"
        );
        assert_eq!(f.details["days_to_final_auto_activation"], 12);
        assert_eq!(f.details["signing_ca_not_after"], "2027-01-15");
    }

    #[test]
    fn eks106_counts_an_activating_successor_and_names_the_self_managed_groups() {
        let mut s = rotation("2027-05-01", "2027-06-01");
        let aws = s.aws.as_mut().unwrap();
        aws.certificate_authorities.as_mut().unwrap()[1].signing_status = "ACTIVATING".into();
        aws.self_managed_groups = vec![crate::snapshot::AutoScalingGroup {
            name: "gpu".into(),
            ..Default::default()
        }];
        let f = &eks106(&s)[0];
        assert!(
            f.message.contains("is being activated (ACTIVATING)"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("(here: 1 self-managed node group)"),
            "{}",
            f.message
        );
        assert_eq!(f.details["self_managed_groups"], serde_json::json!(["gpu"]));
    }

    #[test]
    fn eks106_is_skipped_not_clean_when_the_cas_were_not_read() {
        use crate::checks::SkipCause;
        let mut old = with_cas(Vec::new());
        old.aws.as_mut().unwrap().certificate_authorities = None;
        let eval = run(&old, "1.35");
        let skipped = eval.skipped.iter().find(|k| k.code == "EKS106").unwrap();
        assert_eq!(skipped.cause, SkipCause::NotCollected);
        assert!(skipped.reason.contains("not read"), "{}", skipped.reason);
        old.record_error(
            crate::snapshot::source::CERTIFICATE_AUTHORITIES,
            "ListCertificateAuthorities denied: add eks:ListCertificateAuthorities to eksup's IAM policy",
        );
        let eval = run(&old, "1.35");
        let skipped = eval.skipped.iter().find(|k| k.code == "EKS106").unwrap();
        assert!(skipped.reason.starts_with(
            "eks/certificate-authorities could not be read: ListCertificateAuthorities denied"
        ));
        assert_eq!(skipped.cause, SkipCause::NotCollected);
    }

    #[test]
    fn the_next_auto_activation_is_the_first_while_it_is_ahead() {
        let s = rotation("2026-12-05", "2027-01-15");
        let cas = s
            .aws
            .as_ref()
            .unwrap()
            .certificate_authorities
            .as_deref()
            .unwrap();
        let r = super::ca_rotation(cas).unwrap();
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(
            r.next_auto_activation(d("2026-11-23")),
            Some(d("2026-11-30"))
        );
        assert_eq!(
            r.next_auto_activation(d("2026-11-30")),
            Some(d("2026-11-30"))
        );
        assert_eq!(
            r.next_auto_activation(d("2026-12-01")),
            Some(d("2026-12-05"))
        );
        assert_eq!(r.signing_expires(), Some(d("2027-01-15")));
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
