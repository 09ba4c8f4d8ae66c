"""Issue 11 end to end, on the real binary against moto + the fake API server: the drain
blockers (K8S014, K8S015), gitRepo volumes (K8S016), nodes the new kubelet will not run on
(K8S017, K8S018, EKS008 by OS image), and the readiness verdict with `--fail-on unknown`."""

import csv
import datetime
import json

from harness import ROOT, run_eksup

AL2_NODE_GROUP = {"node_groups": [{"name": "ng-al2", "subnets": ["a", "b"], "ami_type": "AL2_x86_64"}]}
NO_LABEL = "without a node group label"

# Every finding upgrade-blockers.yaml must produce for 1.34 → 1.35: (code, remediation, kind, resource).
BLOCKERS_135 = sorted([
    ("EKS008", "required", "NodeGroup", "ng-al2"),
    ("EKS008", "required", "Nodes", NO_LABEL),
    ("K8S002", "required", "Deployment", "prod/single"),
    ("K8S014", "required", "PodDisruptionBudget", "data/equal-min"),
    ("K8S014", "required", "PodDisruptionBudget", "prod/all-min"),
    ("K8S014", "required", "PodDisruptionBudget", "prod/single"),
    ("K8S014", "required", "PodDisruptionBudget", "prod/zero-max"),
    ("K8S015", "required", "Deployment", "prod/shared"),
    ("K8S016", "recommended", "CronJob", "ci/docs-sync"),
    ("K8S017", "required", "NodeGroup", "ng-al2"),
    ("K8S017", "required", "Nodes", NO_LABEL),
    ("K8S018", "recommended", "NodeGroup", "ng-al2"),
    ("K8S018", "recommended", "NodeGroup", "ng-al2023-old"),
    ("K8S018", "recommended", "NodeGroup", "ng-windows"),
    ("K8S018", "recommended", "Nodes", NO_LABEL),
])


def rows(report):
    return sorted(
        (f["code"], f["remediation"], f["resource_kind"],
         f"{f['resource_namespace']}/{f['resource_name']}" if f["resource_namespace"] else f["resource_name"])
        for f in report["findings"]
    )


def finding(report, code, name):
    return next(f for f in report["findings"] if f["code"] == code and f["resource_name"] == name)


def test_every_new_check_fires_on_the_blockers_cluster(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("upgrade-blockers.yaml", aws=AL2_NODE_GROUP)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert rows(report) == BLOCKERS_135
    assert report["collection_errors"] == []
    # K8S014: each way a budget allows no eviction, named in the message.
    assert finding(report, "K8S014", "zero-max")["message"].startswith("maxUnavailable is 0:")
    assert finding(report, "K8S014", "all-min")["message"].startswith("minAvailable 100% is at least the 3 replica(s)")
    assert finding(report, "K8S014", "equal-min")["details"]["workloads"] == ["StatefulSet equal-min"]
    assert "minAvailable 1 is at least the 1 replica(s)" in finding(report, "K8S014", "single")["message"]
    assert not any(f["resource_name"] == "healthy" for f in report["findings"]), "disruptionsAllowed 2 is fine"
    # K8S015: the matchExpressions budget overlaps the matchLabels one.
    assert finding(report, "K8S015", "shared")["details"]["budgets"] == ["front-tier", "shared"]
    # Nodes: Windows is not cgroup v1; Fargate and Bottlerocket are never flagged.
    assert finding(report, "K8S017", "ng-al2")["details"]["nodes"] == 2
    assert finding(report, "K8S018", "ng-windows")["details"]["runtimes"] == ["containerd://1.7.20"]
    assert finding(report, "EKS008", NO_LABEL)["details"]["node_names"] == ["ip-10-0-2-9.ec2.internal"]
    assert finding(report, "EKS008", "ng-al2")["details"]["ami_type"] == "AL2_x86_64", "by AMI type, once"
    flagged = json.dumps(report["findings"])
    for silent in ("fargate-ip-10-0-1-15", "ng-al2023\"", "general"):
        assert silent not in flagged, silent
    meta = report["metadata"]
    assert (meta["readiness"], meta["checks_skipped"]) == ("blocked", 0)
    catalogue = run_eksup(["checks", "--format", "markdown"], tmp_path).stdout.splitlines()[2:]
    assert meta["checks_run"] == len(catalogue), "every check ran"
    # No Pod list, one LIST per kind: the new checks read what was already collected.
    paths = [r["path"] for r in kube.stats()]
    assert not any(p.endswith("/pods") for p in paths)
    assert paths.count("/apis/policy/v1/poddisruptionbudgets") == 1 and paths.count("/api/v1/nodes") == 1


def cluster_versions_with(version, release):
    """DescribeClusterVersions entries of the repository's calendar plus one newer version."""
    def epoch(day):
        return datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp()
    out = []
    with open(ROOT / "data" / "eks-versions.csv") as f:
        for row in csv.DictReader(f):
            out.append((row["version"], row["eks_release"], row["end_of_standard_support"], row["end_of_extended_support"]))
    out.append((version, release, "2027-07-28", "2028-07-28"))
    return [{"clusterVersion": v, "clusterType": "eks", "releaseDate": epoch(r), "endOfStandardSupportDate": epoch(s),
             "endOfExtendedSupportDate": epoch(e), "status": "STANDARD_SUPPORT"} for v, r, s, e in out]


def test_gitrepo_and_containerd_become_required_at_136(eks_cluster, tmp_path, standin):
    """1.36 comes from DescribeClusterVersions (the embedded calendar stops at 1.35)."""
    aws = dict(AL2_NODE_GROUP, cluster_versions=cluster_versions_with("1.36", "2026-05-28"))
    name, _ = eks_cluster("upgrade-blockers.yaml", version="1.35", aws=aws)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", "--target-version", "1.36"],
                    tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    levels = {(c, r) for c, r, *_ in rows(run.json())}
    for code in ("K8S016", "K8S017", "K8S018", "EKS008", "K8S014"):
        assert (code, "required") in levels and (code, "recommended") not in levels, code


def test_text_report_starts_with_the_verdict_and_has_the_new_columns(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("upgrade-blockers.yaml", aws=AL2_NODE_GROUP)
    run = run_eksup(["analyze", "--cluster", name], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith("Readiness for 1.35: BLOCKED · 10 required finding(s) to fix first · "), first
    for header in ("Workloads", "Budgets", "Volumes", "OS image", "Runtime"):
        assert header in run.stdout, header
    (ROOT / "target-figures").mkdir(exist_ok=True)
    (ROOT / "target-figures" / "upgrade-blockers.txt").write_text(run.stdout)
