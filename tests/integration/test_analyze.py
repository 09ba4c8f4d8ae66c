"""`eksup analyze` end to end: the real binary against moto (+ stand-in) and the fake
Kubernetes API server; exact findings and exit codes."""

import json
import shutil

from harness import ROOT, run_eksup

# Every finding the trips-everything fixture must produce for 1.34 → 1.35:
# (code, remediation, kind, namespace/name).
TRIPS_EVERYTHING = sorted([
    ("K8S001", "required", "Node", "v1.31.9-eks-5e6f7a8"),
    ("K8S001", "recommended", "Node", "v1.33.5-eks-1a2b3c4"),
    ("K8S002", "required", "Deployment", "prod/single"),
    ("K8S002", "required", "Deployment", "prod/api"),
    ("K8S002", "required", "ReplicationController", "legacy/old-rc"),
    ("K8S003", "required", "StatefulSet", "data/db"),
    ("K8S003", "recommended", "Deployment", "prod/web"),
    ("K8S003", "recommended", "ReplicaSet", "legacy/orphan"),
    ("K8S003", "recommended", "ReplicationController", "legacy/old-rc"),
    ("K8S004", "recommended", "Deployment", "prod/web"),
    ("K8S004", "recommended", "StatefulSet", "data/db"),
    ("K8S004", "recommended", "ReplicaSet", "legacy/orphan"),
    ("K8S005", "required", "Deployment", "prod/web"),
    ("K8S005", "required", "ReplicaSet", "legacy/orphan"),
    ("K8S006", "required", "Deployment", "prod/web"),
    ("K8S007", "required", "StatefulSet", "data/db"),
    ("K8S008", "required", "DaemonSet", "monitoring/log-agent"),
    ("K8S008", "required", "CronJob", "ci/image-builder"),
    ("K8S011", "recommended", "DaemonSet", "kube-system/kube-proxy"),
    ("K8S012", "recommended", "ConfigMap", "kube-system/kube-proxy-config"),
    ("K8S013", "recommended", "Deployment", "ingress-nginx/ingress-nginx-controller"),
])

FINDING_FIELDS = {"code", "title", "remediation", "category", "resource_kind", "resource_namespace",
                  "resource_name", "message", "details"}
METADATA_FIELDS = {"run_id", "generated_at", "collected_at", "tool_version", "cluster_name", "cluster_source",
                   "cluster_arn", "region", "account_id", "platform_version", "server_version",
                   "current_version", "target_version", "upgrade_path", "support", "target_support", "deployment",
                   "readiness", "checks_run", "checks_skipped", "rollback"}


def rows(report):
    return sorted(
        (f["code"], f["remediation"], f["resource_kind"],
         f"{f['resource_namespace']}/{f['resource_name']}" if f["resource_namespace"] else f["resource_name"])
        for f in report["findings"]
    )


def by_resource(report, code, name):
    return next(f for f in report["findings"] if f["code"] == code and f["resource_name"] == name)


def test_every_kubernetes_check_fires_on_the_trips_everything_cluster(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("trips-everything.yaml")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert rows(report) == TRIPS_EVERYTHING
    for f in report["findings"]:
        assert set(f) == FINDING_FIELDS
    # The remediation text names the fix for each case.
    assert "4 minors behind 1.35" in by_resource(report, "K8S001", "v1.31.9-eks-5e6f7a8")["message"]
    assert "api-hpa minReplicas is 1" in by_resource(report, "K8S002", "api")["message"]
    assert "log-shipper" in by_resource(report, "K8S006", "web")["message"]
    assert "neither minAvailable nor maxUnavailable" in by_resource(report, "K8S004", "db")["message"]
    assert "dockershim.sock" in by_resource(report, "K8S008", "image-builder")["message"]
    assert by_resource(report, "K8S011", "kube-proxy")["details"]["kube_proxy_version"] == "1.33"
    assert by_resource(report, "K8S012", "kube-proxy-config")["details"]["mode"] == "ipvs"
    assert report["summary"] == {
        "required": 11, "recommended": 10, "status": "ok",
        "checks_with_findings": ["K8S001", "K8S002", "K8S003", "K8S004", "K8S005", "K8S006",
                                 "K8S007", "K8S008", "K8S011", "K8S012", "K8S013"],
    }
    meta = report["metadata"]
    assert set(meta) == METADATA_FIELDS
    assert (meta["cluster_name"], meta["region"], meta["account_id"]) == (name, "us-east-1", "123456789012")
    assert (meta["current_version"], meta["target_version"], meta["upgrade_path"]) == ("1.34", "1.35", ["1.35"])
    assert meta["server_version"] == kube.git_version


def test_healthy_cluster_has_no_findings(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("healthy.yaml")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["findings"] == []
    assert report["collection_errors"] == []
    # Only K8S016 (from 1.36) and the opt-in CRD check (K8S105), which do not apply here.
    assert [(s["code"], s["cause"]) for s in report["skipped_checks"]] == [
        ("K8S016", "not_applicable"), ("K8S105", "not_applicable")]
    assert report["metadata"]["readiness"] == "ready"
    text = run_eksup(["analyze", "--cluster", name], tmp_path, aws_url=standin)
    assert text.code == 0
    assert f"No findings: no check found anything to fix before upgrading {name} to 1.35." in text.stdout


def test_text_report_has_one_table_per_check_and_a_summary(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("trips-everything.yaml")
    run = run_eksup(["analyze", "--cluster", name], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    for code in ["K8S001", "K8S002", "K8S005", "K8S013"]:
        assert f"\n{code}  " in run.stdout
    assert "Summary: 11 required and 10 recommended findings, reported by 11 of the " in run.stdout
    assert "legacy/old-rc" in run.stdout


def test_fail_on_and_ignore_recommended(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("trips-everything.yaml")
    gate = run_eksup(["analyze", "--cluster", name, "--fail-on", "required", "-o", "r.json", "--format", "json"],
                     tmp_path, aws_url=standin)
    assert gate.code == 1
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["required"] == 11
    quiet = run_eksup(["analyze", "--cluster", name, "--format", "json", "--ignore-recommended"], tmp_path, aws_url=standin)
    assert quiet.code == 0
    assert {f["remediation"] for f in quiet.json()["findings"]} == {"required"}


def test_config_file_and_environment_tune_checks(eks_cluster, tmp_path, standin):
    name, _ = eks_cluster("trips-everything.yaml")
    (tmp_path / ".eksup.yaml").write_text(
        "checks:\n"
        "  K8S002:\n"
        "    min_replicas: 3\n"
        "    ignore: [{name: old-rc, namespace: legacy}]\n"
        "    overrides: [{name: web, namespace: prod, min_replicas: 5}]\n"
        "  disabled: [K8S013]\n"
    )
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin,
                    env={"EKSUP_CHECKS__DISABLED": "K8S012,K8S013"})
    assert run.code == 0, run.stderr
    report = run.json()
    k8s002 = sorted(f["resource_name"] for f in report["findings"] if f["code"] == "K8S002")
    # web (3 < override 5), the ingress controller and orphan (2 < 3) join; old-rc is ignored.
    assert k8s002 == ["api", "ingress-nginx-controller", "orphan", "single", "web"]
    skipped = {s["code"]: s["reason"] for s in report["skipped_checks"]}
    assert skipped.pop("K8S105").endswith("enable it with `checks: {K8S105: {enabled: true}}`"), "opt-in"
    assert skipped.pop("K8S016") == "applies to targets 1.36 and later"
    assert skipped == {"K8S012": "disabled in configuration", "K8S013": "disabled in configuration"}


def test_save_snapshot_then_analyze_offline_gives_the_same_findings(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("trips-everything.yaml")
    live = run_eksup(["analyze", "--cluster", name, "--format", "json", "--save-snapshot", "snap.json"],
                     tmp_path, aws_url=standin)
    assert live.code == 0, live.stderr
    kube.stop()
    # No AWS endpoint and no API server: the snapshot alone must do.
    offline = run_eksup(["analyze", "--snapshot", "snap.json", "--format", "json"], tmp_path,
                        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert offline.code == 0, offline.stderr
    assert rows(offline.json()) == rows(live.json()) == TRIPS_EVERYTHING
    snap = json.loads((tmp_path / "snap.json").read_text())
    assert snap["schema_version"] == 1
    assert "secret" not in (tmp_path / "snap.json").read_text().lower()


def test_bundled_example_snapshot(tmp_path):
    example = ROOT / "examples" / "snapshot.json"
    shutil.copy(example, tmp_path / "snapshot.json")
    text = run_eksup(["analyze", "--snapshot", "snapshot.json"], tmp_path)
    assert text.code == 0, text.stderr
    assert "Summary:" in text.stdout and "K8S002" in text.stdout
    js = run_eksup(["analyze", "--snapshot", "snapshot.json", "--format", "json"], tmp_path)
    meta = js.json()["metadata"]
    assert set(meta) == METADATA_FIELDS
    assert meta["cluster_name"] == "demo" and meta["target_version"] == "1.35"


def test_kubernetes_only_with_kubeconfig(tmp_path):
    """--no-aws: no EKS API at all; the API server's version is the control plane's (a real
    kube-apiserver, read as the in-cluster ServiceAccount)."""
    from real_kube import serviceaccount, start_real, token_kubeconfig
    kube = start_real(tmp_path / "control-plane", "trips-everything.yaml")
    try:
        kubeconfig = token_kubeconfig(tmp_path / "kubeconfig", kube, serviceaccount(kube))
        run = run_eksup(["analyze", "--no-aws", "--kubeconfig", str(kubeconfig), "--context", "edge",
                         "--format", "json"], tmp_path, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
        assert run.code == 0, run.stderr
        report = run.json()
        assert rows(report) == TRIPS_EVERYTHING
        meta = report["metadata"]
        assert (meta["cluster_name"], meta["cluster_source"], meta["current_version"]) == ("edge", "kubernetes-only", "1.34")
        assert meta["account_id"] is None
        # Every AWS and EKS check is listed as skipped, with the reason.
        skipped = {s["code"]: s["reason"] for s in report["skipped_checks"]}
        aws_and_eks = {f"AWS00{i}" for i in range(1, 6)} | {f"EKS0{i:02d}" for i in range(1, 11)} | {"EKS101"}
        assert aws_and_eks <= set(skipped)
        assert skipped["EKS005"] == "needs the EKS and AWS APIs, which this run did not use (--no-aws)"
        text = run_eksup(["analyze", "--no-aws", "--kubeconfig", str(kubeconfig), "--context", "edge"], tmp_path)
        assert "Skipped checks:\n  AWS001  needs the EKS and AWS APIs" in text.stdout
    finally:
        kube.stop()
