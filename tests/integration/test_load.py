"""How much the collector asks of the API server: request counts per kind, pages, bytes,
metadata-only lists, GETs only for unowned objects, never Secrets."""

import json
import math
from collections import Counter

import pytest
from pathlib import Path

from harness import ROOT, run_eksup

LISTED = {
    "/api/v1/nodes", "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/apps/v1/daemonsets",
    "/apis/batch/v1/cronjobs", "/apis/apps/v1/replicasets", "/apis/batch/v1/jobs",
    "/api/v1/replicationcontrollers", "/apis/policy/v1/poddisruptionbudgets",
    "/apis/autoscaling/v2/horizontalpodautoscalers", "/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs",
    "/apis/karpenter.sh/v1/nodepools", "/apis/karpenter.k8s.aws/v1/ec2nodeclasses",
    # K8S106's API extensions (small, cluster-scoped).
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
    "/apis/apiregistration.k8s.io/v1/apiservices",
}
# K8S105's CRD list: only with `checks: {K8S105: {enabled: true}}` (see the CRD cost test).
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


@pytest.mark.parametrize("server", ["real", "fake"])
def test_small_cluster_costs_one_list_per_kind(eks_cluster, tmp_path, standin, server):
    """The paths, selectors and page sizes as the real kube-apiserver's audit log records them;
    the request headers (gzip, the metadata-only Accept) as the fake records them."""
    name, kube = eks_cluster("trips-everything.yaml", kube=server)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    reqs = kube.stats()
    by_path = Counter(r["path"] for r in reqs)
    for path in LISTED:
        assert by_path[path] == 1, f"{path}: {by_path[path]} requests"
    # The one unowned ReplicaSet is fetched in full; the owned one never is.
    assert by_path["/apis/apps/v1/namespaces/legacy/replicasets/orphan"] == 1
    assert not any("web-7c9d8b" in r["path"] for r in reqs)
    assert by_path["/api/v1/namespaces/kube-system/configmaps/kube-proxy-config"] == 1
    assert by_path["/version"] == 1
    # K8S104's runtime evidence: one GET of the API server's metrics.
    assert by_path["/metrics"] == 1
    assert by_path[CRDS] == 0, "the CRD list is off by default"
    # K8S106: the one webhook's Service by name, and its EndpointSlices by label in its
    # namespace; never a Service or EndpointSlice list cluster-wide.
    assert by_path["/api/v1/namespaces/policy/services/image-policy"] == 1
    slices = [r for r in reqs if r["path"] == "/apis/discovery.k8s.io/v1/namespaces/policy/endpointslices"]
    assert [r["query"].get("labelSelector") for r in slices] == ["kubernetes.io/service-name=image-policy"]
    assert by_path["/api/v1/services"] == by_path["/apis/discovery.k8s.io/v1/endpointslices"] == 0
    assert len(reqs) == len(LISTED) + 6, sorted(by_path.items())
    for r in reqs:
        assert r["method"] == "GET"
        assert "secrets" not in r["path"]
        assert r["user_agent"].startswith("eksup/")
        if r["path"] in LISTED:
            assert r["query"].get("limit") == "500"
    # eksup never reads through a deprecated group/version: the API server's own metric of
    # deprecated APIs requested holds nothing after the run.
    assert kube.deprecated_requested() == []
    if kube.real:
        return  # the audit log holds no request headers
    for r in reqs:
        assert r["gzip"], f"{r['path']} was not asked for gzip"
    for path in ("/apis/apps/v1/replicasets", "/apis/batch/v1/jobs"):
        accept = next(r["accept"] for r in reqs if r["path"] == path)
        assert accept.startswith(METADATA_LIST), accept


def test_large_cluster_load(eks_cluster, tmp_path, standin):
    """2,000 Deployments each owning 5 ReplicaSets: pages of 500, GETs only for the unowned."""
    spec = dict(deployments=2000, replicasets_per_deployment=5, unowned_replicasets=10,
                cronjobs=100, jobs_per_cronjob=3, unowned_jobs=5, nodes=50, version="v1.30.4-eks-1")
    name, kube = eks_cluster(generate=",".join(f"{k}={v}" for k, v in spec.items()), version="1.30")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["collection_errors"] == []
    reqs = kube.stats()
    by_path = Counter(r["path"] for r in reqs)
    counts = {
        "/apis/apps/v1/deployments": spec["deployments"],
        # By label: the server sends only the ReplicaSets no Deployment made.
        "/apis/apps/v1/replicasets": spec["unowned_replicasets"],
        "/apis/batch/v1/jobs": spec["cronjobs"] * spec["jobs_per_cronjob"] + spec["unowned_jobs"],
        "/apis/policy/v1/poddisruptionbudgets": spec["deployments"],
        "/apis/batch/v1/cronjobs": spec["cronjobs"],
        "/api/v1/nodes": spec["nodes"],
    }
    for path, objects in counts.items():
        assert by_path[path] == max(1, math.ceil(objects / 500)), f"{path}: {by_path[path]} pages for {objects}"
    rs_list = [r for r in reqs if r["path"] == "/apis/apps/v1/replicasets"]
    assert [r["query"].get("labelSelector") for r in rs_list] == ["!pod-template-hash"]
    assert "labelSelector" not in next(r for r in reqs if r["path"] == "/apis/batch/v1/jobs")["query"]
    gets = [r for r in reqs if "/namespaces/" in r["path"] and "configmaps" not in r["path"]]
    assert len(gets) == spec["unowned_replicasets"] + spec["unowned_jobs"]
    assert all(r["path"].rsplit("/", 1)[1].startswith(("orphan-", "oneoff-")) for r in gets)
    # The unowned ReplicaSets (1 replica each) are analyzed from their full objects.
    orphans = {f["resource_name"] for f in report["findings"] if f["code"] == "K8S002"}
    assert orphans == {f"orphan-{i:03d}" for i in range(spec["unowned_replicasets"])}
    figures = {
        "requests": len(reqs),
        "list_pages": {p: by_path[p] for p in counts},
        "unowned_gets": len(gets),
        "bytes_on_wire": sum(r["bytes"] for r in reqs),
        "wall_seconds": round(run.wall_seconds, 2),
        "peak_rss_mib": round(run.max_rss_kib / 1024, 1),
        # Every object the cluster holds, the 10,000 ReplicaSets the selector leaves out included.
        "objects": sum(counts.values()) + spec["deployments"] * spec["replicasets_per_deployment"],
    }
    out = Path(ROOT / "target-figures")
    out.mkdir(exist_ok=True)
    (out / "large-cluster.json").write_text(json.dumps(figures, indent=2))
    print("large cluster:", json.dumps(figures))
    assert run.max_rss_kib < 200 * 1024, "projection per page keeps memory small"


def test_replicasets_by_label_against_the_whole_list(eks_cluster, tmp_path, standin):
    """By default the ReplicaSet list asks for `!pod-template-hash`: the server leaves out the
    10,000 a Deployment made. The one trade-off: ReplicaSets orphaned with `--cascade=orphan`
    keep the label and are not seen; `collect.replicasets: all` lists every ReplicaSet's
    metadata and sees them. Every other finding is the same both ways."""
    spec = ("deployments=2000,replicasets_per_deployment=5,unowned_replicasets=10,cascade_orphans=3,"
            "cronjobs=100,jobs_per_cronjob=3,unowned_jobs=5,nodes=50,version=v1.30.4-eks-1")
    name, kube = eks_cluster(generate=spec, version="1.30")
    runs = {}
    for mode in ("by_label", "all"):
        kube.reset()
        (tmp_path / ".eksup.yaml").write_text(f"collect:\n  replicasets: {mode}\n" if mode == "all" else "")
        run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
        assert run.code == 0, run.stderr
        reqs = kube.stats()
        rs = [r for r in reqs if r["path"] == "/apis/apps/v1/replicasets"]
        assert all(r["accept"].startswith(METADATA_LIST) for r in rs)
        runs[mode] = dict(report=run.json(), reqs=reqs, rs=rs)
    by_label, everything = runs["by_label"], runs["all"]
    assert [r["query"].get("labelSelector") for r in by_label["rs"]] == ["!pod-template-hash"]
    # 10,013 ReplicaSets in pages of 500 without the selector.
    assert len(everything["rs"]) == 21 and all("labelSelector" not in r["query"] for r in everything["rs"])

    def replicaset_findings(report):
        return {f["resource_name"] for f in report["findings"] if f["resource_kind"] == "ReplicaSet"}

    orphans = {f"orphan-{i:03d}" for i in range(10)}
    assert replicaset_findings(by_label["report"]) == orphans
    leftovers = replicaset_findings(everything["report"]) - orphans
    assert len(leftovers) == 3 and all(n.startswith("leftover-") for n in leftovers), leftovers

    def other_findings(report):
        return Counter((f["code"], f["resource_kind"]) for f in report["findings"] if f["resource_kind"] != "ReplicaSet")

    assert other_findings(by_label["report"]) == other_findings(everything["report"])
    wire = {m: sum(r["bytes"] for r in runs[m]["reqs"]) for m in runs}
    print("ReplicaSets by label:", {m: (len(runs[m]["reqs"]), wire[m]) for m in runs})
    assert len(by_label["reqs"]) == len(everything["reqs"]) - 20 - 3
    assert wire["by_label"] < wire["all"] / 2


def test_crd_list_cost_on_the_load_cluster(eks_cluster, tmp_path, standin):
    """K8S105's CRD list carries every CRD's OpenAPI schema. Measured on the load cluster with
    the 38 real CRDs of the real-world manifests it is about a third of the run's bytes on the
    wire (more than 20 %), so it is off by default: only `checks: {K8S105: {enabled: true}}`
    makes the request, and without it K8S105 is skipped as not applicable and says how."""
    spec = "deployments=2000,replicasets_per_deployment=5,unowned_replicasets=10,cronjobs=100," \
           "jobs_per_cronjob=3,unowned_jobs=5,nodes=50,version=v1.30.4-eks-1,real_crds=1"
    name, kube = eks_cluster(generate=spec, version="1.30")
    (tmp_path / ".eksup.yaml").write_text("checks:\n  K8S105:\n    enabled: true\n")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    reqs = kube.stats()
    crd = [r for r in reqs if r["path"] == CRDS]
    assert len(crd) == 1 and crd[0]["gzip"], "one gzip'd page"
    total = sum(r["bytes"] for r in reqs)
    share = crd[0]["bytes"] / total
    figures = {"crds": 38, "crd_list_bytes": crd[0]["bytes"], "run_bytes": total, "share": round(share, 4)}
    out = Path(ROOT / "target-figures")
    out.mkdir(exist_ok=True)
    (out / "crd-cost.json").write_text(json.dumps(figures, indent=2))
    print("CRD list cost:", json.dumps(figures))
    assert share > 0.20, "the CRD list became cheap: it could be on by default (README, K8S105)"
    assert "K8S105" not in {s["code"] for s in run.json()["skipped_checks"]}
    kube.reset()
    (tmp_path / ".eksup.yaml").unlink()
    quiet = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert quiet.code == 0, quiet.stderr
    assert CRDS not in {r["path"] for r in kube.stats()}, "no CRD list by default"
    skipped = {s["code"]: s for s in quiet.json()["skipped_checks"]}["K8S105"]
    assert skipped["cause"] == "not_applicable"
    assert "checks: {K8S105: {enabled: true}}" in skipped["reason"]
