"""AWS001–AWS005, EKS001–EKS010, EKS101, EKS105 and EKS106 on the real binary: moto + the stand-in for the AWS side,
the fake API server for Kubernetes. Each check fires as required, as recommended (where
both exist), and stays silent on a healthy cluster."""

from collections import Counter

from aws_fixture import addon_catalog, certificate_authority
from harness import run_eksup

ISSUE = {"code": "AsgInstanceLaunchFailures", "message": "Instance launch failed", "resourceIds": ["eks-ng-al2"]}


def insight(i, category, status, version="1.33"):
    return {"id": f"insight-{i}", "name": f"{category.title()} insight {i}", "category": category,
            "kubernetesVersion": version, "description": "d", "lastRefreshTime": 1767225600,
            "insightStatus": {"status": status, "reason": f"reason {i}"},
            "recommendation": f"do thing {i}"}


ADDON_VERSIONS_133 = [
    addon_catalog("vpc-cni", ["v1.19.2-eksbuild.1", "v1.18.6-eksbuild.1"], "v1.19.2-eksbuild.1", "1.33"),
    addon_catalog("coredns", ["v1.11.4-eksbuild.2", "v1.11.1-eksbuild.4"], "v1.11.4-eksbuild.2", "1.33"),
    addon_catalog("kube-proxy", ["v1.33.0-eksbuild.2"], "v1.33.0-eksbuild.2", "1.33"),
    addon_catalog("aws-ebs-csi-driver", ["v1.44.0-eksbuild.1"], "v1.44.0-eksbuild.1", "1.33"),
]

TRIPS_AWS = {
    "subnets": {
        "cp-a": ("us-east-1a", 29), "cp-b": ("us-east-1b", 29),
        "dp-a": ("us-east-1a", 27), "dp-b": ("us-east-1b", 26), "dp-c": ("us-east-1c", 25),
        "pod-a": ("us-east-1a", 28), "pod-b": ("us-east-1b", 24), "pod-c": ("us-east-1c", 22),
    },
    "cluster_subnets": ["cp-a", "cp-b"],
    "node_groups": [
        {"name": "ng-al2", "subnets": ["dp-a"], "ami_type": "AL2_x86_64", "template": {"versions": 3, "use": "1"},
         "health": [ISSUE]},
        {"name": "ng-al2023", "subnets": ["dp-b"], "ami_type": "AL2023_x86_64_STANDARD",
         "template": {"versions": 2, "use": "$Latest"}},
    ],
    "fargate": [{"name": "fp-batch", "subnets": ["dp-c"], "namespaces": ["batch"]}],
    "self_managed": [
        {"name": "asg-lt", "subnets": ["dp-c"], "template": {"versions": 2, "use": "1"}},
        {"name": "asg-lc", "subnets": ["dp-c"], "launch_configuration": True},
        {"name": "asg-mixed", "subnets": ["dp-c"], "mixed": True, "template": {"versions": 2, "use": "$Default"}},
    ],
    "cluster": {"health": {"issues": [{"code": "SUBNET_NOT_FOUND", "message": "subnet-gone was deleted",
                                       "resourceIds": ["subnet-gone"]}]}},
    "addons": [
        {"addonName": "vpc-cni", "addonVersion": "v1.15.0-eksbuild.1"},
        {"addonName": "coredns", "addonVersion": "v1.11.1-eksbuild.4"},
        {"addonName": "kube-proxy", "addonVersion": "v1.33.0-eksbuild.2"},
        {"addonName": "aws-ebs-csi-driver", "addonVersion": "v1.44.0-eksbuild.1", "status": "DEGRADED",
         "health": {"issues": [{"code": "InsufficientNumberOfReplicas", "message": "0/2 replicas ready", "resourceIds": []}]}},
    ],
    "addon_versions": {"1.33": ADDON_VERSIONS_133},
    "insights": [
        insight(1, "UPGRADE_READINESS", "ERROR"), insight(2, "UPGRADE_READINESS", "WARNING"),
        insight(3, "UPGRADE_READINESS", "PASSING"), insight(4, "MISCONFIGURATION", "ERROR"),
        insight(5, "MISCONFIGURATION", "UNKNOWN"), insight(6, "UPGRADE_READINESS", "ERROR", version="1.30"),
    ],
    # A finished update: described (DescribeUpdate), and no finding.
    "updates": [{"id": "5b1e0c7a-0000-4000-8000-000000000001", "type": "LoggingUpdate", "status": "Successful",
                 "createdAt": 1767225600, "params": [], "errors": []}],
    "quotas": {"ec2/L-1216C47A": 10, "ebs/L-D18FCD1D": 10, "ebs/L-7A658B76": 50},
    "instances": 9,
    "volumes": [("gp2", 8400), ("gp3", 100)],
    # A CA rotation EKS completes on 2026-06-13, 12 days after the runs' 2026-06-01 (EKS106).
    "certificate_authorities": [
        certificate_authority("ca-0a1b2c3d", "IN_USE", "COMPLETE", created="2024-03-01", not_after="2026-08-15",
                              activated="2024-03-01"),
        certificate_authority("ca-4e5f6a7b", "NOT_USED", "IN_PROGRESS", created="2026-05-20", not_after="2036-05-20",
                              first="2026-06-06", final="2026-06-13"),
    ],
}

EXPECTED_AWS = sorted([
    ("AWS001", "required", "AvailabilityZone", "us-east-1a"),
    ("AWS001", "recommended", "AvailabilityZone", "us-east-1b"),
    ("AWS002", "required", "AvailabilityZone", "us-east-1a"),
    ("AWS002", "recommended", "AvailabilityZone", "us-east-1b"),
    ("AWS003", "required", "ServiceQuota", "ec2/L-1216C47A"),
    ("AWS004", "recommended", "ServiceQuota", "ebs/L-D18FCD1D"),
    ("EKS001", "required", "Cluster", "{name}"),
    ("EKS002", "required", "Cluster", "{name}"),
    ("EKS003", "required", "NodeGroup", "ng-al2"),
    ("EKS004", "required", "Addon", "aws-ebs-csi-driver"),
    ("EKS005", "required", "Addon", "vpc-cni"),
    ("EKS005", "recommended", "Addon", "coredns"),
    ("EKS006", "recommended", "NodeGroup", "ng-al2"),
    ("EKS007", "recommended", "AutoScalingGroup", "asg-lc"),
    ("EKS007", "recommended", "AutoScalingGroup", "asg-lt"),
    ("EKS007", "recommended", "AutoScalingGroup", "asg-mixed"),
    ("EKS008", "required", "NodeGroup", "ng-al2"),
    ("EKS009", "required", "Insight", "Upgrade_Readiness insight 1"),
    ("EKS009", "recommended", "Insight", "Upgrade_Readiness insight 2"),
    ("EKS010", "required", "Insight", "Misconfiguration insight 4"),
    ("EKS010", "recommended", "Insight", "Misconfiguration insight 5"),
    ("EKS101", "required", "Cluster", "{name}"),
    ("EKS106", "required", "CertificateAuthority", "ca-4e5f6a7b"),
])


def aws_rows(report, name):
    return sorted(
        (f["code"], f["remediation"], f["resource_kind"], f["resource_name"])
        for f in report["findings"] if f["category"] in ("aws", "eks")
    ), sorted((c, r, k, n.format(name=name)) for c, r, k, n in EXPECTED_AWS)


def eni_configs(kube, *subnets):
    kube.add(*[{"apiVersion": "crd.k8s.amazonaws.com/v1alpha1", "kind": "ENIConfig",
                "metadata": {"name": f"eni-{i}"}, "spec": {"subnet": kube.subnets[s]}} for i, s in enumerate(subnets)])


def find(report, code, name):
    return next(f for f in report["findings"] if f["code"] == code and f["resource_name"] == name)


def test_every_aws_and_eks_check_fires(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("healthy.yaml", version="1.32", aws=TRIPS_AWS)
    eni_configs(kube, "pod-a", "pod-b", "pod-c")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", "--as-of", "2026-06-01"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["collection_errors"] == []
    got, want = aws_rows(report, name)
    assert got == want, f"missing {sorted(set(want) - set(got))}, unexpected {sorted(set(got) - set(want))}"
    assert "27 free IPs" in find(report, "AWS001", "us-east-1a")["message"]
    assert find(report, "AWS003", "ec2/L-1216C47A")["details"]["percent"] == 90.0
    eks005 = find(report, "EKS005", "vpc-cni")
    assert eks005["details"]["target_default"] == "v1.19.2-eksbuild.1"
    assert "not supported on Kubernetes 1.33" in eks005["message"]
    drift = find(report, "EKS006", "ng-al2")["details"]
    assert (drift["used_version"], drift["latest_version"], drift["default_version"]) == (1, 3, 1)
    assert "launch configuration" in find(report, "EKS007", "asg-lc")["message"]
    assert "mixed-instances policy" in find(report, "EKS007", "asg-mixed")["message"]
    assert "do thing 1" in find(report, "EKS009", "Upgrade_Readiness insight 1")["message"]
    support = report["metadata"]["support"]
    assert support == {"status": "extended", "end_of_standard_support": "2026-03-23",
                       "end_of_extended_support": "2027-03-23", "days_to_end_of_standard_support": -70,
                       "days_to_end_of_extended_support": 295, "source": "eks-api"}
    assert report["metadata"]["deployment"] == "cloud"


def test_text_report_shows_the_columns_of_each_check(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("healthy.yaml", version="1.32", aws=TRIPS_AWS)
    eni_configs(kube, "pod-a", "pod-b")
    run = run_eksup(["analyze", "--cluster", name, "--as-of", "2026-06-01"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    out = run.stdout
    for header in ["Free IPs", "Subnets (free IPs)", "Usage", "Limit", "Installed", "Target default",
                   "Unsupported on", "Template", "Used", "Latest", "Status", "Recommendation"]:
        assert header in out, header
    assert f"{kube.subnets['dp-a']} (27)" in out
    assert "v1.19.2-eksbuild.1" in out
    assert "Support for 1.32: extended · standard support ends 2026-03-23 (-70 days)" in out


def test_recommended_levels_of_eks008_and_eks101(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.31", aws={
        "subnets": {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24)},
        "node_groups": [{"name": "legacy", "subnets": ["a"], "ami_type": "AL2_ARM_64"}],
        "addon_versions": {"1.32": []},
    })
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", "--as-of", "2025-10-01"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    levels = {f["code"]: f["remediation"] for f in report["findings"] if f["category"] == "eks"}
    assert levels == {"EKS008": "recommended", "EKS101": "recommended"}
    assert "56 days" in find(report, "EKS101", name)["message"]


def test_a_healthy_cluster_has_no_aws_or_eks_findings(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("healthy.yaml", version="1.34", aws={
        "subnets": {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24), "c": ("us-east-1c", 22)},
        "node_groups": [{"name": "general", "subnets": ["a", "b"], "template": {"versions": 2, "use": "2"}}],
        "fargate": [{"name": "fp", "subnets": ["a", "b"]}],
        "self_managed": [{"name": "gpu", "subnets": ["c"], "template": {"versions": 1, "use": "$Latest"}}],
        "addons": [{"addonName": "kube-proxy", "addonVersion": "v1.35.0-eksbuild.1"}],
        "addon_versions": {"1.35": [addon_catalog("kube-proxy", ["v1.35.0-eksbuild.1"], "v1.35.0-eksbuild.1", "1.35")]},
        "insights": [insight(1, "UPGRADE_READINESS", "PASSING", version="1.35")],
        "quotas": {"ec2/L-1216C47A": 100}, "instances": 5,
    })
    eni_configs(kube, "c")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["findings"] == []
    # The hop to 1.35 is past EKS008's 1.32 minimum, and every AWS source was read: no AWS or
    # EKS check is skipped. K8S016 applies from 1.36 and K8S105 is off by default (the CRD
    # list): they are the only skips.
    assert [s["code"] for s in report["skipped_checks"]] == ["K8S016", "K8S105"], report["skipped_checks"]
    assert report["collection_errors"] == []


def test_aws_call_counts_for_3_node_groups_5_addons_2_fargate_profiles(eks_cluster, tmp_path, standin):
    from harness import http_json
    addons = ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"]
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={
        "subnets": {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24)},
        "node_groups": [{"name": f"ng-{i}", "subnets": ["a", "b"], "template": {"versions": 2, "use": "1"}} for i in range(3)],
        "fargate": [{"name": f"fp-{i}", "subnets": ["a"]} for i in range(2)],
        "addons": [{"addonName": a, "addonVersion": "v1.0.0-eksbuild.1"} for a in addons],
        "addon_versions": {"1.35": [addon_catalog(a, ["v1.0.0-eksbuild.1"], "v1.0.0-eksbuild.1", "1.35") for a in addons]},
        "insights": [insight(i, "UPGRADE_READINESS", "PASSING" if i < 8 else "WARNING") for i in range(10)],
    })
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    calls = Counter(http_json(f"{standin}/_standin/stats")["calls"])
    assert calls == Counter({
        "eks:DescribeCluster": 1, "eks:DescribeClusterVersions": 1,
        "eks:ListNodegroups": 1, "eks:DescribeNodegroup": 3,
        "eks:ListFargateProfiles": 1, "eks:DescribeFargateProfile": 2,
        "eks:ListAddons": 1, "eks:DescribeAddon": 5, "eks:DescribeAddonVersions": 1,
        "eks:ListInsights": 1, "eks:DescribeInsight": 2, "eks:ListUpdates": 1,
        "autoscaling:DescribeAutoScalingGroups": 1,
        "servicequotas:GetServiceQuota": 3, "ec2:DescribeInstances": 1, "ec2:DescribeVolumes": 1,
        "ec2:DescribeSubnets": 1, "ec2:DescribeLaunchTemplates": 1,
        # One CA, signing: nothing to describe.
        "eks:ListCertificateAuthorities": 1,
    })
    total = sum(calls.values())
    print(f"AWS calls for 3 node groups, 5 addons, 2 Fargate profiles, 10 insights (2 not passing): {total}")
    assert total == 29


def test_quota_levels_the_other_way_round(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={
        "quotas": {"ec2/L-1216C47A": 10, "ebs/L-D18FCD1D": 1, "ebs/L-7A658B76": 2},
        "instances": 8, "volumes": [("gp2", 1000), ("gp3", 1900)],
    })
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    levels = {f["code"]: (f["remediation"], f["details"]["percent"]) for f in run.json()["findings"]
              if f["code"].startswith("AWS00")}
    # gp2 also counts the 8 GiB root volume moto gives each of the 8 instances: 1064 GiB of 1 TiB.
    assert levels == {"AWS003": ("recommended", 80.0), "AWS004": ("required", 103.9), "AWS005": ("required", 92.8)}


def test_the_standard_quota_counts_only_its_families(eks_cluster, tmp_path, standin):
    """L-1216C47A covers the A, C, D, H, I, M, R, T and Z families: Inferentia, Trainium and
    DL instances (their own quotas) are not counted, though their names start with those
    letters' neighbours — or with one of them (d for dl1)."""
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={
        "quotas": {"ec2/L-1216C47A": 10},
        "instances": 7,
        "instance_types": {"inf2.xlarge": 4, "trn1.2xlarge": 3, "dl1.24xlarge": 2, "c7g.large": 1, "i4i.large": 1},
    })
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    aws003 = [f for f in run.json()["findings"] if f["code"] == "AWS003"]
    # 7 m5 + 1 c7g + 1 i4i = 9 of 10 vCPUs (moto gives each instance 1): required at 90 %.
    # Counting inf/trn/dl too would be 18 of 10.
    assert [(f["remediation"], f["details"]["percent"]) for f in aws003] == [("required", 90.0)], aws003


def test_addon_compatibility_across_two_hops(eks_cluster, tmp_path, standin):
    """1.33 → 1.35: an addon version supported on 1.35 but not on the 1.34 hop is still required."""
    name, _ = eks_cluster("healthy.yaml", version="1.33", aws={
        "addons": [{"addonName": "coredns", "addonVersion": "v1.12.1-eksbuild.1"},
                   {"addonName": "vpc-cni", "addonVersion": "v1.20.0-eksbuild.1"}],
        "addon_versions": {
            "1.34": [addon_catalog("coredns", ["v1.12.2-eksbuild.1"], "v1.12.2-eksbuild.1", "1.34"),
                     addon_catalog("vpc-cni", ["v1.20.0-eksbuild.1"], "v1.20.0-eksbuild.1", "1.34")],
            "1.35": [addon_catalog("coredns", ["v1.12.2-eksbuild.1", "v1.12.1-eksbuild.1"], "v1.12.2-eksbuild.1", "1.35"),
                     addon_catalog("vpc-cni", ["v1.20.0-eksbuild.1"], "v1.20.0-eksbuild.1", "1.35")],
        },
    })
    run = run_eksup(["analyze", "--cluster", name, "--target-version", "1.35", "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["metadata"]["upgrade_path"] == ["1.34", "1.35"]
    eks005 = [f for f in report["findings"] if f["code"] == "EKS005"]
    assert [(f["resource_name"], f["remediation"]) for f in eks005] == [("coredns", "required")]
    assert eks005[0]["details"]["unsupported_on"] == ["1.34"]
