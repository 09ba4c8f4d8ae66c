"""Issue 11 end to end, on the real binary against moto + the fake API server: the drain
blockers (K8S101, K8S102), gitRepo volumes (K8S015), nodes the new kubelet will not run on
(K8S103, K8S014, EKS008 by OS image), and the readiness verdict with `--fail-on unknown`."""

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
    ("K8S101", "required", "PodDisruptionBudget", "data/equal-min"),
    ("K8S101", "required", "PodDisruptionBudget", "prod/all-min"),
    ("K8S101", "required", "PodDisruptionBudget", "prod/single"),
    ("K8S101", "required", "PodDisruptionBudget", "prod/zero-max"),
    ("K8S102", "required", "Deployment", "prod/shared"),
    ("K8S015", "recommended", "CronJob", "ci/docs-sync"),
    ("K8S103", "required", "NodeGroup", "ng-al2"),
    ("K8S103", "required", "Nodes", NO_LABEL),
    ("K8S014", "recommended", "NodeGroup", "ng-al2"),
    ("K8S014", "recommended", "NodeGroup", "ng-al2023-old"),
    ("K8S014", "recommended", "NodeGroup", "ng-windows"),
    ("K8S014", "recommended", "Nodes", NO_LABEL),
])


def catalogue_size(tmp_path):
    """How many checks eksup has (the rows of `eksup checks --format markdown`)."""
    return len(run_eksup(["checks", "--format", "markdown"], tmp_path).stdout.splitlines()[2:])


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
    # The opt-in CRD check too, so that every check runs.
    (tmp_path / ".eksup.yaml").write_text("checks:\n  K8S105:\n    enabled: true\n")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert rows(report) == BLOCKERS_135
    assert report["collection_errors"] == []
    # K8S101: each way a budget allows no eviction, named in the message.
    assert finding(report, "K8S101", "zero-max")["message"].startswith("maxUnavailable is 0:")
    assert finding(report, "K8S101", "all-min")["message"].startswith("minAvailable 100% is at least the 3 replica(s)")
    assert finding(report, "K8S101", "equal-min")["details"]["workloads"] == ["StatefulSet equal-min"]
    assert "minAvailable 1 is at least the 1 replica(s)" in finding(report, "K8S101", "single")["message"]
    assert not any(f["resource_name"] == "healthy" for f in report["findings"]), "disruptionsAllowed 2 is fine"
    # K8S102: the matchExpressions budget overlaps the matchLabels one.
    assert finding(report, "K8S102", "shared")["details"]["budgets"] == ["front-tier", "shared"]
    # Nodes: Windows is not cgroup v1; Fargate and Bottlerocket are never flagged.
    assert finding(report, "K8S103", "ng-al2")["details"]["nodes"] == 2
    assert finding(report, "K8S014", "ng-windows")["details"]["runtimes"] == ["containerd://1.7.20"]
    assert finding(report, "EKS008", NO_LABEL)["details"]["node_names"] == ["ip-10-0-2-9.ec2.internal"]
    assert finding(report, "EKS008", "ng-al2")["details"]["ami_type"] == "AL2_x86_64", "by AMI type, once"
    flagged = json.dumps(report["findings"])
    for silent in ("fargate-ip-10-0-1-15", "ng-al2023\"", "general"):
        assert silent not in flagged, silent
    meta = report["metadata"]
    # Every check ran but K8S016, which applies from 1.36 (Services are not even listed).
    assert (meta["readiness"], meta["checks_skipped"]) == ("blocked", 1)
    assert report["skipped_checks"] == [{"code": "K8S016", "cause": "not_applicable",
                                         "reason": "applies to targets 1.36 and later"}]
    assert meta["checks_run"] == catalogue_size(tmp_path) - 1
    # No Pod list, one LIST per kind: the new checks read what was already collected.
    paths = [r["path"] for r in kube.stats()]
    assert not any(p.endswith("/pods") for p in paths)
    assert paths.count("/apis/policy/v1/poddisruptionbudgets") == 1 and paths.count("/api/v1/nodes") == 1
    # K8S016 applies from 1.36: a 1.35 target does not list the Services at all.
    assert not any(p.startswith("/api/v1/services") for p in paths), paths


def cluster_versions_with(version, release):
    """DescribeClusterVersions entries of the repository's calendar (its rows with dates) with
    `version` as the API gives it."""
    def epoch(day):
        return datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp()
    out = []
    with open(ROOT / "data" / "eks-versions.csv") as f:
        for row in csv.DictReader(f):
            if row["eks_release"] and row["version"] != version:
                out.append((row["version"], row["eks_release"], row["end_of_standard_support"],
                            row["end_of_extended_support"]))
    out.append((version, release, "2027-07-28", "2028-07-28"))
    return [{"clusterVersion": v, "clusterType": "eks", "releaseDate": epoch(r), "endOfStandardSupportDate": epoch(s),
             "endOfExtendedSupportDate": epoch(e), "status": "STANDARD_SUPPORT"} for v, r, s, e in out]


def test_gitrepo_and_containerd_become_required_at_136(eks_cluster, tmp_path, standin):
    """1.36 as DescribeClusterVersions gives it; K8S016 (Service externalIPs) starts there."""
    aws = dict(AL2_NODE_GROUP, cluster_versions=cluster_versions_with("1.36", "2026-05-28"))
    name, kube = eks_cluster("upgrade-blockers.yaml", version="1.35", aws=aws)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", "--target-version", "1.36"],
                    tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    levels = {(c, r) for c, r, *_ in rows(run.json())}
    for code in ("K8S015", "K8S103", "K8S014", "EKS008", "K8S101"):
        assert (code, "required") in levels and (code, "recommended") not in levels, code
    external = [f for f in run.json()["findings"] if f["code"] == "K8S016"]
    assert [(f["remediation"], f["resource_kind"], f["resource_namespace"], f["resource_name"]) for f in external] \
        == [("recommended", "Service", "edge", "legacy-ips")], "one finding, and none for the Service without them"
    assert "203.0.113.10, 203.0.113.11" in external[0]["message"]
    assert external[0]["details"] == {"external_ips": ["203.0.113.10", "203.0.113.11"]}
    # One paginated Service list, cluster-wide (the field is in the spec, not in metadata).
    assert [r["path"] for r in kube.stats()].count("/api/v1/services") == 1


def test_text_report_starts_with_the_verdict_and_has_the_new_columns(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("upgrade-blockers.yaml", aws=AL2_NODE_GROUP)
    run = run_eksup(["analyze", "--cluster", name], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith("Readiness for 1.35: BLOCKED · 10 required findings to fix first · "), first
    for header in ("Workloads", "Budgets", "Volumes", "OS image", "Runtime"):
        assert header in run.stdout, header
    (ROOT / "target-figures").mkdir(exist_ok=True)
    (ROOT / "target-figures" / "upgrade-blockers.txt").write_text(run.stdout)


# ---------------------------------------------------------------------------- the verdict

SECOND_BUDGET = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                 "metadata": {"name": "api-extra", "namespace": "prod"},
                 "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "api"}}}}
PDB_DENIED = {"path": "^/apis/policy/v1/poddisruptionbudgets$", "status": 403, "times": -1,
              "message": 'poddisruptionbudgets.policy is forbidden: User "eksup" cannot list resource "poddisruptionbudgets"'}


# K8S105 is off by default and K8S016 applies from 1.36: skipped as not applicable, which
# never changes the verdict.
OPT_IN = {"K8S016": "not_applicable", "K8S105": "not_applicable"}


def verdict_cluster(eks_cluster, which):
    """healthy.yaml as is (ready), with a second budget over one workload (blocked: exactly one
    required finding), or with the PDB list denied (unknown: on the real server by RBAC)."""
    name, kube = eks_cluster("healthy.yaml")
    if which == "blocked":
        kube.add(SECOND_BUDGET)
    elif which == "unknown" and kube.real:
        kube.deny("policy", "poddisruptionbudgets")
    elif which == "unknown":
        kube.faults(PDB_DENIED)
    return name


def test_verdicts_in_the_json_report_and_fail_on_unknown(eks_cluster, tmp_path, standin):
    checks = catalogue_size(tmp_path)
    for which in ("ready", "blocked", "unknown"):
        name = verdict_cluster(eks_cluster, which)
        run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
        assert run.code == 0, run.stderr
        report = run.json()
        meta = report["metadata"]
        assert meta["readiness"] == which, (which, report["findings"], report["skipped_checks"])
        assert meta["checks_run"] + meta["checks_skipped"] == checks
        if which == "blocked":
            assert [(f["code"], f["remediation"]) for f in report["findings"]] == [("K8S102", "required")]
        if which == "unknown":
            assert report["summary"]["required"] == 0
            skipped = {s["code"]: s["cause"] for s in report["skipped_checks"]}
            assert skipped == {"K8S004": "not_collected", "K8S101": "not_collected", "K8S102": "not_collected",
                               **OPT_IN}
            assert meta["checks_skipped"] == 3 + len(OPT_IN)
        else:
            assert {s["code"]: s["cause"] for s in report["skipped_checks"]} == OPT_IN
        # --fail-on keeps its meaning; `unknown` refuses anything but ready.
        gate = run_eksup(["analyze", "--cluster", name, "--fail-on", "unknown", "-o", "r.json"], tmp_path, aws_url=standin)
        assert gate.code == (0 if which == "ready" else 1), (which, gate.stderr)
        required = run_eksup(["analyze", "--cluster", name, "--fail-on", "required", "-o", "r.json"], tmp_path, aws_url=standin)
        assert required.code == (1 if which == "blocked" else 0), which


def test_verdicts_in_the_clusters_table_stdout_line_and_playbook(eks_cluster, tmp_path, standin):
    names = {which: verdict_cluster(eks_cluster, which) for which in ("blocked", "unknown", "ready")}
    entries = "\n".join(f"  - {{cluster: {n}}}" for n in names.values())
    (tmp_path / ".eksup.yaml").write_text(f"clusters:\n{entries}\noutputs:\n  directory: out\n")
    run = run_eksup(["run"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    n = catalogue_size(tmp_path)
    table = [json.loads(line) for p in sorted((tmp_path / "out").glob("json/clusters/dt=*/*.jsonl"))
             for line in p.read_text().splitlines()]
    got = {r["cluster_name"]: (r["readiness"], r["checks_run"], r["checks_skipped"]) for r in table}
    k = len(OPT_IN)
    assert got == {names["blocked"]: ("blocked", n - k, k), names["unknown"]: ("unknown", n - 3 - k, 3 + k),
                   names["ready"]: ("ready", n - k, k)}
    events = [json.loads(line) for line in run.stdout.splitlines()]
    lines = {e["cluster"]: e for e in events if e["event"] == "cluster"}
    status = {"blocked": "ok", "unknown": "partial", "ready": "ok"}
    for which, name in names.items():
        line = lines[name]
        assert (line["readiness"], line["checks_run"] + line["checks_skipped"]) == (which, n), line
        assert line["message"].startswith(f"{name} {status[which]} {which}: "), line["message"]
    (ROOT / "target-figures").mkdir(exist_ok=True)
    (ROOT / "target-figures" / "verdict-rows.json").write_text(json.dumps(
        [{k: r[k] for k in ("cluster_name", "status", "readiness", "checks_run", "checks_skipped", "required_findings")}
         for r in table], indent=2))
    md = run_eksup(["playbook", "--cluster", names["unknown"], "--output", "-"], tmp_path, aws_url=standin)
    assert md.code == 0, md.stderr
    assert "| Readiness for 1.35 | **unknown**: no required finding, but K8S004, K8S101, K8S102 could not run" in md.stdout
    # Blind spots and checks that do not apply are told apart at the end of the runbook.
    blind, not_applicable = md.stdout.split("## What eksup could not check")[1].split("## Checks that did not apply")
    assert "- K8S004 was skipped: kubernetes/poddisruptionbudgets could not be read" in blind and "K8S105" not in blind
    assert "- K8S105: the CRD list is off by default" in not_applicable
