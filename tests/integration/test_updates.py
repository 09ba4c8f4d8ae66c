"""EKS105 (a cluster not ready to start an upgrade), EKS009/EKS010 insights per affected
resource at the hop they name, and the rollback window, on the real binary: moto for the
cluster, the stand-in for `ListUpdates`/`DescribeUpdate`/`DescribeInsight` (which moto lacks),
the fake API server for Kubernetes. Parquet is read back with pyarrow."""

import datetime
import json

import pyarrow.parquet as pq

from aws_fixture import addon_catalog
from harness import http_json, run_eksup
from test_run import write_config

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def update(n, kind, status, days_ago, version=None):
    """A DescribeUpdate `update` in its published shape (createdAt in epoch seconds)."""
    params = [{"type": "Version", "value": version}, {"type": "PlatformVersion", "value": "eks.5"}] if version else []
    return {"id": f"{n:08d}-1111-2222-3333-444455556666", "type": kind, "status": status,
            "createdAt": (NOW - datetime.timedelta(days=days_ago)).timestamp(), "params": params, "errors": []}


def analyze(name, tmp_path, standin, *extra):
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", *extra], tmp_path, aws_url=standin)
    assert run.code in (0, 1), run.stderr
    return run.json()


def findings(report, code):
    return [f for f in report["findings"] if f["code"] == code]


def test_eks105_on_a_cluster_that_is_updating(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"cluster": {"status": "UPDATING"}})
    report = analyze(name, tmp_path, standin)
    [f] = findings(report, "EKS105")
    assert (f["remediation"], f["resource_kind"], f["resource_name"]) == ("required", "Cluster", name)
    assert f["message"] == "the cluster is UPDATING, not ACTIVE: EKS accepts no version update until it completes"
    assert report["metadata"]["readiness"] == "blocked"


def test_eks105_on_an_update_in_progress_names_its_type_and_start(eks_cluster, tmp_path, standin):
    running = update(1, "VpcConfigUpdate", "InProgress", 0.25)
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"updates": [
        running, update(2, "VersionUpdate", "Successful", 40, "1.34"), update(3, "LoggingUpdate", "Failed", 3)]})
    report = analyze(name, tmp_path, standin)
    [f] = findings(report, "EKS105")
    started = datetime.datetime.fromtimestamp(running["createdAt"], datetime.timezone.utc)
    assert (f["remediation"], f["resource_kind"], f["resource_name"]) == ("required", "Update", running["id"])
    assert f["message"] == (f"a VpcConfigUpdate update is in progress since {started:%Y-%m-%d %H:%M} UTC: "
                            "EKS accepts no version update until it completes")
    assert f["details"]["type"] == "VpcConfigUpdate"


def test_eks105_is_silent_on_an_active_cluster_with_finished_updates(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34", aws={"updates": [
        update(1, "VersionUpdate", "Successful", 30, "1.34"), update(2, "LoggingUpdate", "Successful", 20),
        update(3, "AddonUpdate", "Cancelled", 10)]})
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    report = analyze(name, tmp_path, standin)
    assert findings(report, "EKS105") == []
    assert "EKS105" not in {s["code"] for s in report["skipped_checks"]}
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    assert calls.count("eks:ListUpdates") == 1 and calls.count("eks:DescribeUpdate") == 3


def test_eks105_skipped_when_list_updates_is_denied(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml", version="1.34")
    http_json(f"{standin}/_standin/faults", "POST", {"faults": [{"operation": "eks:ListUpdates", "times": -1}]})
    report = analyze(name, tmp_path, standin)
    assert [e["source"] for e in report["collection_errors"]] == ["eks/updates"]
    skipped = {s["code"]: s for s in report["skipped_checks"]}
    assert skipped["EKS105"]["cause"] == "not_collected"
    assert "eks:ListUpdates" in skipped["EKS105"]["reason"]
    assert report["metadata"]["rollback"] is None


def insight(n, category, status, version, resources=(), reason=None):
    return {"id": f"insight-{n}", "name": f"insight {n}", "category": category, "kubernetesVersion": version,
            "description": "d", "lastRefreshTime": 1767225600,
            "insightStatus": {"status": status, "reason": reason or f"reason {n}"},
            "recommendation": f"do thing {n}", "resources": list(resources)}


def resource(status, uri=None, arn=None):
    r = {"insightStatus": {"status": status, "reason": f"{status.lower()} here"}}
    if uri:
        r["kubernetesResourceUri"] = uri
    if arn:
        r["arn"] = arn
    return r


DEPLOY = "/apis/apps/v1/namespaces/shop/deployments/cart"
PSP = "/apis/policy/v1beta1/podsecuritypolicies/restricted"
NG = "arn:aws:eks:us-east-1:123456789012:nodegroup/c/ng-old/1"


def test_insights_apply_per_resource_at_the_hop_they_name(eks_cluster, tmp_path, standin):
    """1.33 → 1.35 (two hops): an insight for 1.34 and one for 1.35 each land at their hop,
    one finding per affected resource (its own status sets the level); one for 1.33 (the
    upgrade already made) does not apply; an unversioned one applies to every hop; the
    category is an open string."""
    name, _ = eks_cluster("healthy.yaml", version="1.33", aws={
        "addon_versions": {"1.34": [], "1.35": []},
        "insights": [
            insight(1, "UPGRADE_READINESS", "ERROR", "1.34", [
                resource("ERROR", uri=DEPLOY), resource("WARNING", arn=NG), resource("PASSING", uri=PSP)]),
            insight(2, "UPGRADE_READINESS", "WARNING", "1.35"),
            insight(3, "UPGRADE_READINESS", "ERROR", "1.33", [resource("ERROR", uri=DEPLOY)]),
            insight(4, "ROLLBACK_READINESS", "UNKNOWN", None),
            insight(5, "MISCONFIGURATION", "ERROR", None, [resource("ERROR", arn=NG)]),
            insight(6, "UPGRADE_READINESS", "PASSING", "1.35"),
        ]})
    report = analyze(name, tmp_path, standin, "--target-version", "1.35")
    rows = sorted((f["code"], f["remediation"], f["resource_kind"], f["resource_namespace"], f["resource_name"],
                   f["details"]["hops"]) for f in report["findings"] if f["code"] in ("EKS009", "EKS010"))
    assert rows == [
        ("EKS009", "recommended", "AwsResource", "", NG, ["1.34"]),
        ("EKS009", "recommended", "Insight", "", "insight 2", ["1.35"]),
        ("EKS009", "recommended", "Insight", "", "insight 4", ["1.34", "1.35"]),
        ("EKS009", "required", "KubernetesResource", "shop", DEPLOY, ["1.34"]),
        ("EKS010", "required", "AwsResource", "", NG, ["1.34", "1.35"]),
    ]
    by = {(f["code"], f["resource_name"]): f["message"] for f in report["findings"]}
    assert by[("EKS009", DEPLOY)] == (
        "insight 1 (ERROR) for the upgrade to 1.34: error here; UpdateClusterVersion refuses the upgrade "
        "(InvalidStateException) unless it is forced — do thing 1")
    assert by[("EKS009", "insight 4")].startswith("insight 4 (UNKNOWN, ROLLBACK_READINESS) for every hop (1.34, 1.35)")
    assert "UpdateClusterVersion" not in by[("EKS010", NG)]
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    assert calls.count("eks:DescribeInsight") == 5, "passing insights are not described"


def rollback_cluster(eks_cluster, days_ago):
    return eks_cluster("healthy.yaml", version="1.33", aws={"updates": [
        update(1, "VersionUpdate", "Successful", days_ago, "1.33"),
        update(2, "VersionUpdate", "Successful", days_ago + 120, "1.32"),
        update(3, "VersionUpdate", "Failed", days_ago / 2, "1.34")]})


def test_rollback_window_open_two_days_after_a_version_update(eks_cluster, tmp_path, standin):
    name, _ = rollback_cluster(eks_cluster, 2)
    ends = NOW + datetime.timedelta(days=5)
    write_config(tmp_path, [f"{{cluster: {name}}}"], "directory: out")
    run = run_eksup(["run"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = json.loads(next((tmp_path / "out" / "cluster-reports").rglob("*.json")).read_text())
    rollback = report["metadata"]["rollback"]
    print("rollback metadata:", json.dumps(rollback))
    assert rollback["open"] is True and rollback["to_version"] == "1.32"
    assert datetime.datetime.fromisoformat(rollback["available_until"]) == ends
    assert rollback["update_id"] == "00000001-1111-2222-3333-444455556666"
    [line] = [json.loads(l) for l in run.stdout.splitlines() if json.loads(l)["event"] == "cluster"]
    print("stdout cluster line:", json.dumps(line))
    assert datetime.datetime.fromisoformat(line["rollback_window_ends"]) == ends
    [row] = pq.read_table(next((tmp_path / "out" / "clusters").rglob("*.parquet"))).to_pylist()
    assert row["rollback_window_ends"] == ends
    [jrow] = [json.loads(l) for l in next((tmp_path / "out" / "json" / "clusters").rglob("*.jsonl")).read_text().splitlines()]
    assert datetime.datetime.fromisoformat(jrow["rollback_window_ends"]) == ends


def test_rollback_window_closed_nine_days_after(eks_cluster, tmp_path, standin):
    name, _ = rollback_cluster(eks_cluster, 9)
    report = analyze(name, tmp_path, standin)
    rollback = report["metadata"]["rollback"]
    assert rollback["open"] is False
    assert datetime.datetime.fromisoformat(rollback["available_until"]) == NOW - datetime.timedelta(days=2)


def test_no_rollback_window_without_a_version_update_to_the_current_version(eks_cluster, tmp_path, standin):
    # Rolled back since: the last version update is to 1.34, but the cluster runs 1.33.
    name, _ = eks_cluster("healthy.yaml", version="1.33", aws={"updates": [
        update(1, "VersionUpdate", "Successful", 3, "1.34"), update(2, "VersionRollback", "Successful", 1, "1.33")]})
    assert analyze(name, tmp_path, standin)["metadata"]["rollback"] is None
