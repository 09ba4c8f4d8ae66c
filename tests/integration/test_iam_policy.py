"""deploy/iam/eksup-policy.json is exactly what the code calls in a member account: every AWS
operation of a run over a cluster with every kind of capacity, and of a fleet run's discovery
in a member account (`regions: enabled`), is allowed, and every allowed action is used."""

import json

from harness import ROOT, http_json, run_eksup
from test_aws_checks import TRIPS_AWS, eni_configs

# Actions whose APIs do not support resource-level permissions, so "*" is the least.
RESOURCE_STAR_OK = {"eks:DescribeAddonVersions", "eks:DescribeClusterVersions", "ec2:DescribeSubnets",
                    "ec2:DescribeLaunchTemplates", "ec2:DescribeInstances", "ec2:DescribeVolumes",
                    "autoscaling:DescribeAutoScalingGroups", "eks:ListClusters", "ec2:DescribeRegions"}


def policy_actions():
    doc = json.loads((ROOT / "deploy" / "iam" / "eksup-policy.json").read_text())
    assert doc["Version"] == "2012-10-17"
    actions = set()
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        assert all("*" not in a for a in st["Action"]), "no wildcard actions"
        assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in st["Action"]), "read-only"
        if st["Resource"] == "*":
            assert set(st["Action"]) <= RESOURCE_STAR_OK, st["Sid"]
        actions.update(st["Action"])
    return actions


def test_policy_matches_the_calls_the_code_makes(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("healthy.yaml", version="1.32", aws=TRIPS_AWS)
    eni_configs(kube, "pod-a")
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    called = set(http_json(f"{standin}/_standin/stats")["calls"])
    # A fleet run in a member account adds discovery; the runner's own calls (AssumeRole,
    # the outputs) are the runner role's, not this policy's.
    (tmp_path / "fleet.yaml").write_text(json.dumps({
        "fleet": {"role_name": "eksup-reader", "accounts": ["111111111111"], "regions": "enabled"},
        "outputs": {"directory": "out"}}))
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    fleet = run_eksup(["run", "--config", "fleet.yaml"], tmp_path, aws_url=standin)
    assert fleet.code == 0, fleet.stderr
    member = {c["op"] for c in http_json(f"{standin}/_standin/stats")["scoped"] if c["account"] == "111111111111"}
    assert {"eks:ListClusters", "ec2:DescribeRegions"} <= member, member
    called |= member
    assert called == policy_actions(), f"called but not allowed: {called - policy_actions()}; " \
                                       f"allowed but never called: {policy_actions() - called}"
