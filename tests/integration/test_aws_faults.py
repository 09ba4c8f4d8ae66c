"""AWS sources that fail: the failure is recorded with the API and the IAM action, the checks
that needed it are skipped, and everything else is still reported."""

from collections import Counter

from harness import http_json, run_eksup
from test_aws_checks import TRIPS_AWS, eni_configs


def deny(standin, *operations):
    http_json(f"{standin}/_standin/faults", "POST",
              {"faults": [{"operation": op, "status": 403, "code": "AccessDeniedException", "times": -1} for op in operations]})


def codes(report):
    return {f["code"] for f in report["findings"]}


def test_cluster_versions_denied_uses_the_embedded_calendar(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.32", aws={"subnets": {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24)},
                                                               "addon_versions": {"1.33": []}})
    deny(standin, "eks:DescribeClusterVersions")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    errors = {e["source"]: e["message"] for e in report["collection_errors"]}
    assert errors == {"eks/DescribeClusterVersions":
                      "DescribeClusterVersions denied: add eks:DescribeClusterVersions to eksup's IAM policy; "
                      "using the support calendar built into eksup"}
    support = report["metadata"]["support"]
    assert support["source"] == "embedded"
    assert support["end_of_extended_support"] == "2027-03-23"
    assert "EKS101" in codes(report), "the embedded calendar still drives the end-of-support check"


def test_list_insights_denied_is_recorded_and_the_rest_reported(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("healthy.yaml", version="1.32", aws=TRIPS_AWS)
    eni_configs(kube, "pod-a", "pod-b", "pod-c")
    deny(standin, "eks:ListInsights")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["collection_errors"] == [{"source": "eks/insights",
                                            "message": "ListInsights denied: add eks:ListInsights to eksup's IAM policy"}]
    skipped = {s["code"]: s["reason"] for s in report["skipped_checks"]}
    assert skipped["EKS009"].startswith("eks/insights could not be read: ListInsights denied")
    assert "EKS010" in skipped
    assert {"AWS001", "AWS002", "AWS003", "EKS001", "EKS005", "EKS007", "EKS008"} <= codes(report)
    assert not codes(report) & {"EKS009", "EKS010"}
    assert report["summary"]["status"] == "partial"


def test_quota_lookup_failure_is_a_collection_error_not_a_silent_drop(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"instances": 9, "quotas": {"ec2/L-1216C47A": 10}})
    deny(standin, "servicequotas:GetServiceQuota")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    sources = {e["source"] for e in report["collection_errors"]}
    assert sources == {"servicequotas/L-1216C47A", "servicequotas/L-D18FCD1D", "servicequotas/L-7A658B76"}
    assert all("add servicequotas:GetServiceQuota" in e["message"] for e in report["collection_errors"])
    skipped = {s["code"] for s in report["skipped_checks"]}
    assert {"AWS003", "AWS004", "AWS005"} <= skipped


def test_throttling_past_retries_is_recorded(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34")
    http_json(f"{standin}/_standin/faults", "POST",
              {"faults": [{"operation": "ec2:DescribeSubnets", "status": 400, "code": "RequestLimitExceeded", "times": -1}]})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    errors = {e["source"]: e["message"] for e in report["collection_errors"]}
    assert "still throttled" in errors["ec2/DescribeSubnets"]
    calls = Counter(http_json(f"{standin}/_standin/stats")["calls"])
    assert calls["ec2:DescribeSubnets"] == 3, "the SDK's standard retry made 3 attempts"
    assert {"AWS001", "EKS001"} <= {s["code"] for s in report["skipped_checks"]}


def test_local_cluster_on_outposts(eks_cluster, tmp_path, standin):
    """An EKS local cluster: control plane on the Outpost, no managed node groups, Fargate,
    addons or insights — those APIs are not called and their checks say why they are skipped."""
    outpost = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"
    name, _ = eks_cluster("healthy.yaml", version="1.33", aws={
        "subnets": {"op": ("us-east-1a", 27), "op2": ("us-east-1a", 29)},
        "cluster_subnets": ["op", "op2"],
        "cluster": {"outpostConfig": {"outpostArns": [outpost], "controlPlaneInstanceType": "m5.large"}},
        "self_managed": [{"name": "outpost-nodes", "subnets": ["op"], "template": {"versions": 2, "use": "1"}}],
    })
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["metadata"]["deployment"] == "outposts-local"
    skipped = {s["code"]: s["reason"] for s in report["skipped_checks"]}
    for code in ["EKS003", "EKS004", "EKS005", "EKS006", "EKS009", "EKS010"]:
        assert skipped[code].startswith("does not apply to EKS local clusters on AWS Outposts"), code
    assert "EKS008" not in skipped, "EKS008 still reads the self-managed nodes' OS images"
    assert "no managed node groups" in skipped["EKS003"]
    # Checks that hold on Outposts still run: one zone with free IPs is not enough (EKS001),
    # the self-managed group's subnet is short of IPs (AWS001), and its template drifted (EKS007).
    assert {"EKS001", "AWS001", "EKS007"} <= codes(report)
    calls = Counter(http_json(f"{standin}/_standin/stats")["calls"])
    for op in ["eks:ListNodegroups", "eks:ListFargateProfiles", "eks:ListAddons", "eks:ListInsights",
               "eks:DescribeAddonVersions"]:
        assert calls[op] == 0, op
