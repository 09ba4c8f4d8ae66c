"""Least privilege, proven by the real authorizer: every deploy/ overlay applies to a real
kube-apiserver (`kubectl apply -k`, server-side validation); eksup, reading Kubernetes as the
in-cluster overlay's ServiceAccount with a TokenRequest token (and EKS, EC2 and the rest through
the AWS stand-in, so that every check can run), runs every check with only get/list, no 403 and
no Secret in the audit log; and with any one generated rule removed, exactly the checks that
need it are skipped as forbidden, with the reason, and nothing else changes."""

import copy
import json

import pytest

import aws_fixture
from harness import http_json, register_endpoint, run_eksup
from manifests import KUSTOMIZE, OVERLAYS, render
from real_kube import start_real

SA = "system:serviceaccount:eksup:eksup"
CLUSTER = "rbac-real"
# trips-everything has no ENIConfig: one, and its CRD, so that AWS002 reads them.
ENICONFIG_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "eniconfigs.crd.k8s.amazonaws.com"},
    "spec": {"group": "crd.k8s.amazonaws.com", "scope": "Cluster",
             "names": {"plural": "eniconfigs", "singular": "eniconfig", "kind": "ENIConfig", "listKind": "ENIConfigList"},
             "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}
# Every optional source on, so that every rule is used (the K8S105 CRD list is off by default).
ALL_SOURCES = "checks:\n  K8S105:\n    enabled: true\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, moto, standin):
    """trips-everything on a real 1.34 server with no RBAC but what the overlays apply: each
    overlay in turn (`kubectl apply -k`, the answers kept in `applied`), the in-cluster one last,
    whose ServiceAccount the tests read as. Its AWS side is an EKS cluster in moto."""
    http_json(f"{moto}/moto-api/reset", "POST", {})
    http_json(f"{standin}/_standin/reset", "POST", {})
    subnets = aws_fixture.build(moto, standin, CLUSTER, {
        "version": "1.34", "subnets": {"a": ("us-east-1a", 24), "b": ("us-east-1b", 24)}})
    eniconfig = {"apiVersion": "crd.k8s.amazonaws.com/v1alpha1", "kind": "ENIConfig", "metadata": {"name": "us-east-1a"},
                 "spec": {"subnet": subnets["a"]}}
    kube = start_real(tmp_path_factory.mktemp("real-rbac"), "trips-everything.yaml", rbac=None,
                      objects=[ENICONFIG_CRD, eniconfig])
    kube.standin = standin
    register_endpoint(standin, CLUSTER, kube)
    kube.applied = {}
    for overlay in (*[o for o in OVERLAYS if o != "in-cluster"], "in-cluster"):
        kube.applied[overlay] = kube.apply(KUSTOMIZE / "overlays" / overlay)
    yield kube
    kube.stop()


@pytest.fixture(scope="module")
def baseline(cluster, tmp_path_factory):
    """The report of a run with the generated RBAC whole."""
    report, _ = analyze_as_serviceaccount(cluster, tmp_path_factory.mktemp("baseline"))
    return report


def analyze_as_serviceaccount(kube, tmp_path):
    kubeconfig = tmp_path / "sa.kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "real", "cluster": {"server": kube.url, "certificate-authority": str(kube.ca_pem)}}],
        "users": [{"name": "sa", "user": {"token": kube.token()}}],
        "contexts": [{"name": "sa", "context": {"cluster": "real", "user": "sa"}}],
    }))
    (tmp_path / ".eksup.yaml").write_text(ALL_SOURCES)
    kube.mark()
    run = run_eksup(["analyze", "--cluster", CLUSTER, "--kubeconfig", str(kubeconfig), "--format", "json"], tmp_path,
                    aws_url=kube.standin)
    assert run.code == 0, run.stderr
    return run.json(), [e for e in kube.audit() if e["user"]["username"] == SA]


# What each generated rule is for: the checks skipped without it (CHECKS.md, "which kinds each
# check covers"). Workload checks read every workload kind, so each workload rule skips them.
WORKLOADS = ["EKS102", "K8S002", "K8S003", "K8S004", "K8S005", "K8S006", "K8S008", "K8S013", "K8S015", "K8S101", "K8S102"]
SKIPPED_WITHOUT = {
    ("configmaps",): ["K8S012"],
    ("nodes", "replicationcontrollers"): sorted({*WORKLOADS, "EKS008", "EKS104", "K8S001", "K8S014", "K8S103"}),
    ("daemonsets", "deployments", "statefulsets"): sorted({*WORKLOADS, "EKS103", "K8S007", "K8S011", "K8S012"}),
    ("replicasets",): WORKLOADS,
    ("jobs",): ["EKS102", "K8S008", "K8S013", "K8S015"],
    ("cronjobs",): ["EKS102", "K8S008", "K8S013", "K8S015"],
    ("poddisruptionbudgets",): ["K8S004", "K8S101", "K8S102"],
    ("horizontalpodautoscalers",): ["K8S002"],
    ("eniconfigs",): ["AWS002"],
    ("nodepools",): ["EKS102", "EKS103"],
    ("ec2nodeclasses",): ["EKS103"],
    ("customresourcedefinitions",): ["K8S105"],
    ("services",): ["K8S106"],
    ("endpointslices",): ["K8S106"],
    ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"): ["K8S106"],
    ("apiservices",): ["K8S106"],
    # K8S104 still runs on EKS insights without /metrics (the error is recorded); /version stays
    # readable through the bootstrap ClusterRole system:public-info-viewer, as on EKS.
    ("/metrics", "/version"): [],
}


def generated_roles():
    return [d for d in render(KUSTOMIZE / "base" / "rbac") if d["kind"] in ("ClusterRole", "Role")]


def role_path(role):
    meta = role["metadata"]
    if role["kind"] == "ClusterRole":
        return f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{meta['name']}"
    return f"/apis/rbac.authorization.k8s.io/v1/namespaces/{meta['namespace']}/roles/{meta['name']}"


def put_role(kube, role):
    current = kube.client.must("GET", role_path(role))
    current["rules"] = role["rules"]
    kube.client.must("PUT", role_path(role), current, f"{role['kind']} {role['metadata']['name']}")


def test_every_overlay_applies_to_the_real_server(cluster):
    """Server-side validation of each overlay (strict field validation, server-side apply)."""
    assert set(cluster.applied) == set(OVERLAYS)
    for overlay, run in cluster.applied.items():
        assert run.returncode == 0, f"{overlay}: {run.stderr}"
    sa = cluster.client.must("GET", "/api/v1/namespaces/eksup/serviceaccounts/eksup")
    assert sa["metadata"]["name"] == "eksup"


def test_the_generated_rbac_runs_every_check_with_reads_only(cluster, tmp_path):
    report, events = analyze_as_serviceaccount(cluster, tmp_path)
    forbidden = [s for s in report["skipped_checks"] if "forbidden" in s["reason"]]
    assert forbidden == [] and report["collection_errors"] == [], (forbidden, report["collection_errors"])
    assert report["summary"]["checks_with_findings"], "the fixture trips the Kubernetes checks"
    assert events, "the audit log holds eksup's requests"
    assert {e["verb"] for e in events} <= {"get", "list"}, {e["verb"] for e in events}
    assert [e["requestURI"] for e in events if e["responseStatus"]["code"] == 403] == []
    assert [e["requestURI"] for e in events if e.get("objectRef", {}).get("resource") == "secrets"] == []
    # Every generated rule is used by some request the authorizer allowed.
    used = set()
    for role in generated_roles():
        for i, rule in enumerate(role["rules"]):
            for e in events:
                ref = e.get("objectRef")
                if ref is None:
                    path = e["requestURI"].split("?")[0]
                    hit = path in rule.get("nonResourceURLs", [])
                else:
                    hit = (ref.get("apiGroup", "") in rule.get("apiGroups", []) and ref["resource"] in rule.get("resources", [])
                           and e["verb"] in rule["verbs"]
                           and ("resourceNames" not in rule or ref.get("name") in rule["resourceNames"]))
                if hit:
                    used.add((role["metadata"]["name"], i))
                    break
    declared = {(r["metadata"]["name"], i) for r in generated_roles() for i in range(len(r["rules"]))}
    assert declared == used, f"rules no request used: {declared - used}"


def rule_cases():
    return [(r["kind"], r["metadata"]["name"], i) for r in generated_roles() for i in range(len(r["rules"]))]


@pytest.mark.parametrize("kind,name,index", rule_cases(), ids=lambda v: str(v))
def test_without_one_rule_exactly_its_checks_are_skipped(cluster, baseline, tmp_path, kind, name, index):
    role = next(r for r in generated_roles() if r["kind"] == kind and r["metadata"]["name"] == name)
    removed = role["rules"][index]
    trimmed = copy.deepcopy(role)
    del trimmed["rules"][index]
    put_role(cluster, trimmed)
    try:
        report, events = analyze_as_serviceaccount(cluster, tmp_path)
    finally:
        put_role(cluster, role)
    denied = [e for e in events if e["responseStatus"]["code"] == 403]
    assert denied, f"no request was denied without {removed}"
    resources = set(removed.get("resources", [])) | set(removed.get("nonResourceURLs", []))
    if "/version" in resources:
        assert [e["responseStatus"]["code"] for e in events if e["requestURI"] == "/version"] == [200]
    for e in denied:
        ref = e.get("objectRef")
        assert (ref["resource"] if ref else e["requestURI"].split("?")[0]) in resources, e["requestURI"]
    # Each source that could not be read says it was forbidden; no other source failed.
    assert report["collection_errors"], "the denied reads are reported"
    for err in report["collection_errors"]:
        assert "forbidden" in err["message"], err
        assert any(r.strip("/") in err["source"] or r in err["message"] for r in resources), (err, resources)
    before = {s["code"] for s in baseline["skipped_checks"]}
    newly = {s["code"]: s["reason"] for s in report["skipped_checks"] if s["code"] not in before}
    assert sorted(newly) == SKIPPED_WITHOUT[tuple(sorted(resources))], newly
    sources = {e["source"] for e in report["collection_errors"]}
    for code, reason in newly.items():
        assert "forbidden" in reason or any(s in reason for s in sources), (code, reason, sources)
    # Nothing else changes: the findings of every check that still ran are the same.
    def kept(r):
        return sorted(json.dumps({k: v for k, v in f.items() if k not in ("run_id",)}, sort_keys=True)
                      for f in r["findings"] if f["code"] not in newly)
    assert kept(report) == kept(baseline)
    assert report["summary"]["status"] == "partial"
