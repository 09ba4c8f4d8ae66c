"""The real-world manifests of ../shared/data/realworld, applied as they are to a real
kube-apiserver, then read by eksup.

Each file's objects go to the namespace SOURCES.md names for it when they name none (as
`kubectl apply -n` would); nothing in an object is changed. The server refuses only what a real
1.37 cluster refuses: objects in API versions it no longer serves. eksup then reads them all
and, for the checks whose rule is simple enough to compute here from the manifests themselves
(K8S006: every container of a replicated workload needs a readinessProbe; K8S007:
StatefulSets with terminationGracePeriodSeconds 0; K8S008: docker socket mounts), finds
exactly what the manifests say.
"""

import re

import pytest
import yaml

from harness import run_eksup
from real_kube import ROOT, load, start_real

REALWORLD = ROOT.parent / "shared" / "data" / "realworld"
REPLICATED = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/var/run/dockershim.sock")


def default_namespaces():
    """manifests/<owner>/<repo>/<path> → its default namespace, from SOURCES.md."""
    out = {}
    for line in (REALWORLD / "SOURCES.md").read_text().splitlines():
        m = re.match(r"\| \[([^\]]+)\]\([^)]*\) \| .*? \| \[`([^`]+)`\]\([^)]*\) \|(?: [^|]* \|){3} ([^ |]+) \|", line)
        if m:
            out[f"{m.group(1)}/{m.group(2)}"] = m.group(3)
    return out


def manifests():
    """Every object, with the namespace it is applied to (None for cluster-scoped ones)."""
    namespaces = default_namespaces()
    objects = []
    for path in sorted((REALWORLD / "manifests").rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml"):
            continue
        rel = path.relative_to(REALWORLD / "manifests").as_posix()
        default = namespaces.get(rel)
        assert default, f"SOURCES.md names no default namespace for {rel}"
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind"):
                objects.append((rel, default, doc))
    return objects


def pod_spec(obj):
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec", {})


@pytest.fixture(scope="module")
def applied(tmp_path_factory, request):
    kube = start_real(tmp_path_factory.mktemp("realworld"), version="1.37")
    kube.namespaces = {n["metadata"]["name"] for n in kube.client.must("GET", "/api/v1/namespaces")["items"]}
    created, refused = [], []
    request.addfinalizer(kube.stop)
    objects = manifests()
    for phase in ("Namespace", "CustomResourceDefinition", None, "webhooks"):
        for rel, default, obj in objects:
            kind = obj["kind"]
            webhook = kind.endswith("WebhookConfiguration")
            if (phase in ("Namespace", "CustomResourceDefinition") and kind != phase) or \
                    (phase is None and (kind in ("Namespace", "CustomResourceDefinition") or webhook)) or \
                    (phase == "webhooks" and not webhook):
                continue
            try:
                _, namespaced = kube.client.resource(obj["apiVersion"], kind)
            except load.LoadError as e:
                refused.append((rel, kind, obj["metadata"]["name"], str(e)))
                continue
            if namespaced and not obj["metadata"].get("namespace"):
                obj = {**obj, "metadata": {**obj["metadata"], "namespace": default}}
            # A namespace the manifests use but do not create exists already, as on any cluster
            # these projects document.
            ns = obj["metadata"].get("namespace") if namespaced else None
            if ns and ns not in kube.namespaces:
                load.create(kube.client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
                kube.namespaces.add(ns)
            if kind == "Namespace":
                kube.namespaces.add(obj["metadata"]["name"])
            created.append((rel, load.create(kube.client, obj)))
            if kind == "CustomResourceDefinition":
                load.wait_established(kube.client, obj["metadata"]["name"])
                kube.client._resources.clear()
    return kube, created, refused


@pytest.fixture(scope="module")
def report(applied, tmp_path_factory):
    kube, _, _ = applied
    tmp = tmp_path_factory.mktemp("realworld-run")
    (tmp / ".eksup.yaml").write_text("checks:\n  K8S105:\n    enabled: true\n")
    run = run_eksup(["analyze", "--no-aws", "--kubeconfig", str(kube.plane.kubeconfig), "--format", "json"], tmp,
                    env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert run.code == 0, run.stderr
    return run.json()


def test_the_server_refuses_only_api_versions_it_no_longer_serves(applied):
    _, created, refused = applied
    assert len(created) > 300
    assert [r for r in refused if "does not serve" not in r[3]] == []
    # The three objects of removed versions: policy/v1beta1, extensions/v1beta1, batch/v1beta1 —
    # and the cert-manager v1alpha2 objects whose CRD in the same manifests no longer serves it.
    assert sorted({r[3].split(" (")[0].split("serve ")[1] for r in refused}) == [
        "batch/v1beta1", "cert-manager.io/v1alpha2", "extensions/v1beta1", "policy/v1beta1"], refused


def test_eksup_reads_every_object_without_errors(report):
    assert report["collection_errors"] == []
    assert report["metadata"]["server_version"].startswith("v1.37.")


def expected(created, code):
    out = set()
    for _, obj in created:
        kind, spec = obj["kind"], pod_spec(obj)
        if not spec:
            continue
        owned = any(r.get("controller") for r in obj["metadata"].get("ownerReferences", []))
        containers = spec.get("containers", [])
        if code == "K8S006" and kind in REPLICATED and not owned:
            if any("readinessProbe" not in c for c in containers):
                out.add((kind, obj["metadata"]["namespace"], obj["metadata"]["name"]))
        if code == "K8S007" and kind == "StatefulSet" and spec.get("terminationGracePeriodSeconds") == 0:
            out.add((kind, obj["metadata"]["namespace"], obj["metadata"]["name"]))
        if code == "K8S008":
            paths = {v.get("hostPath", {}).get("path", "").rstrip("/") for v in spec.get("volumes", [])}
            if paths & set(DOCKER_SOCKETS):
                out.add((kind, obj["metadata"]["namespace"], obj["metadata"]["name"]))
    return out


@pytest.mark.parametrize("code", ["K8S006", "K8S007", "K8S008"])
def test_findings_match_what_the_manifests_say(applied, report, code):
    _, created, _ = applied
    got = {(f["resource_kind"], f["resource_namespace"], f["resource_name"]) for f in report["findings"]
           if f["code"] == code}
    assert got == expected(created, code)
